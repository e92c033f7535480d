//! The packet decoder over every link type, with every tunnel kind on:
//! the first byte picks the link type (every supported one, and one that
//! is not), the second the decoder options (checksum check, tunnel
//! decapsulation and depth, MPLS and IPv6 extension limits, a capture cut
//! short of the wire length); the rest is the frame. A fragment is also
//! resumed as if reassembled, and every decoded view is keyed by the four
//! built-in extractors, whose hashed and plain keying must agree.
#![no_main]

use flowscope_engine::unstable::Decoder;
use flowscope_engine::{
    DecodeConfig, DirectionalFiveTuple, FiveTuple, FlowExtractor, IpPair, KeyOptions, LinkType,
    MacPair, PacketView, RawPacket, Timestamp, TunnelConfig,
};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

/// Every link type the decoder supports, then one it does not.
const LINK_TYPES: [LinkType; 20] = [
    LinkType::NULL,
    LinkType::ETHERNET,
    LinkType::RAW_12,
    LinkType::RAW_14,
    LinkType::RAW,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::LINUX_SLL2,
    LinkType::PPP,
    LinkType::PPP_HDLC,
    LinkType::C_HDLC,
    LinkType::PPI,
    LinkType::IEEE802_11,
    LinkType::RADIOTAP,
    LinkType::IPNET,
    LinkType::SLIP,
    LinkType::NFLOG,
    LinkType(147),
];

fn keyed<E: FlowExtractor>(x: &E, view: &PacketView<'_>) {
    let plain = x.extract(view);
    if let Some(h) = x.dispatch_hash(view) {
        let hashed = x.extract_hashed(view, h);
        assert_eq!(
            plain.as_ref().map(|e| (&e.key, e.orientation, e.hash)),
            hashed.as_ref().map(|e| (&e.key, e.orientation, e.hash)),
            "extract_hashed disagrees with extract"
        );
    }
}

fn key_all(opts: &KeyOptions, view: &PacketView<'_>) {
    keyed(&FiveTuple::new(opts.clone()), view);
    keyed(&DirectionalFiveTuple::new(opts.clone()), view);
    keyed(&IpPair::new(opts.clone()), view);
    keyed(&MacPair::new(opts.clone()), view);
}

/// The decoder for the option bits of `opts` (its low seven bits).
fn decoder_for(opts: u8) -> Decoder {
    let decode = DecodeConfig {
        verify_ipv4_checksum: opts & 0x01 != 0,
        max_ipv6_extension_headers: [8, 0, 1, 64][usize::from((opts >> 1) & 0x03)],
        max_mpls_labels: [8, 0, 1, 64][usize::from((opts >> 3) & 0x03)],
        anomaly_events: true,
    };
    // The default ports of every tunnel kind.
    let tunnel = TunnelConfig {
        decapsulate: opts & 0x20 == 0,
        max_depth: if opts & 0x40 == 0 { 4 } else { 1 },
        ..TunnelConfig::default()
    };
    Decoder::new(&decode, &tunnel)
}

/// Every option combination's decoder, built once: building one per input
/// (an 8 KiB port bitmap) would cost more than decoding under ASan.
static DECODERS: LazyLock<Vec<Decoder>> = LazyLock::new(|| (0..128).map(decoder_for).collect());

fuzz_target!(|data: &[u8]| {
    let [link, opts, frame @ ..] = data else {
        return;
    };
    let linktype = LINK_TYPES[usize::from(*link) % LINK_TYPES.len()];
    let decoder = &DECODERS[usize::from(opts & 0x7f)];
    let cut = opts & 0x80 != 0;
    let raw = RawPacket {
        ts: Timestamp::new(1, 0),
        linktype,
        wire_len: frame.len() as u32 + if cut { 64 } else { 0 },
        iface: 0,
        data: frame,
    };
    let Ok(mut view) = decoder.decode(&raw) else {
        return;
    };
    let keys = KeyOptions {
        vlan_in_key: true,
        tunnel_in_key: opts & 0x20 == 0,
        hash_seed: 7,
    };
    key_all(&keys, &view);
    if let Some(ip) = view.ip.filter(|ip| ip.fragment.is_some()) {
        // The fragment's own bytes stand in for a rebuilt datagram.
        let payload = view.payload;
        if decoder
            .decode_reassembled(&mut view, ip.protocol, payload)
            .is_ok()
        {
            key_all(&keys, &view);
        }
    }
});
