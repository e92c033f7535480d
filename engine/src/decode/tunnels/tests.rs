//! Tunnel opening against byte literals: what each tunnel kind's inner flow
//! counts, and the checks a payload passes (or fails) before it is taken
//! for a tunnel, case by case as Suricata 7 decides them.

use crate::config::{DecodeConfig, TunnelConfig};
use crate::decode::Decoder;
use crate::packet::{LinkType, PacketView, RawPacket, TunnelKind};
use crate::testutil::{eth, ip4_raw, udp4};
use crate::timestamp::Timestamp;
use crate::wire::DecodeError;

/// IPv4/UDP 10.0.0.1:1234 -> 10.0.0.2:53, payload "hi" (30 bytes).
const INNER4: [u8; 30] = [
    0x45, 0x00, 0x00, 0x1e, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x66, 0xcc, 10, 0, 0, 1, 10, 0, 0,
    2, // IPv4
    0x04, 0xd2, 0x00, 0x35, 0x00, 0x0a, 0x00, 0x00, // UDP
    b'h', b'i',
];
/// IPv6/UDP 2001:db8::a:1234 -> 2001:db8::b:53, payload "hi" (50 bytes).
const INNER6: [u8; 50] = [
    0x60, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x11, 0x40, // payload length 10, UDP, hop limit 64
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a, // source
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b, // destination
    0x04, 0xd2, 0x00, 0x35, 0x00, 0x0a, 0x00, 0x00, b'h', b'i',
];
/// Ethernet header of an inner frame carrying IPv4.
const INNER_ETH: [u8; 14] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
/// Teredo origin indication: port 0x1234, address 1.2.3.4 (obfuscated).
const ORIGIN: [u8; 8] = [0x00, 0x00, 0x12, 0x34, 1, 2, 3, 4];
/// Teredo authentication indicator: no id, no value, nonce, confirmation.
const AUTH: [u8; 13] = [0x00, 0x01, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0];
/// An IPv6 bubble: no next header (59), no payload.
const BUBBLE: [u8; 40] = [
    0x60, 0, 0, 0, 0x00, 0x00, 59, 0x40, 0x20, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    0x20, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
];
const OUT_A: [u8; 4] = [192, 0, 2, 1];
const OUT_B: [u8; 4] = [192, 0, 2, 2];

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn decode_cfg<'a>(cfg: &TunnelConfig, frame: &'a [u8], wire_len: usize) -> PacketView<'a> {
    let raw = RawPacket {
        ts: Timestamp::ZERO,
        linktype: LinkType::ETHERNET,
        wire_len: wire_len as u32,
        iface: 0,
        data: frame,
    };
    Decoder::new(&DecodeConfig::default(), cfg)
        .decode(&raw)
        .expect("decodes")
}

fn decode(frame: &[u8]) -> PacketView<'_> {
    decode_cfg(&TunnelConfig::default(), frame, frame.len())
}

/// The tunnel kind a frame opened and what its flow counts.
fn opened(frame: &[u8]) -> (Option<TunnelKind>, u32) {
    let v = decode(frame);
    assert!(v.tunnel_inner_error.is_none(), "{:?}", v.tunnel_inner_error);
    (v.tunnel.map(|t| t.kind), v.flow_len())
}

fn gre(header: &[u8], payload: &[u8]) -> Vec<u8> {
    eth(0x0800, &ip4_raw(OUT_A, OUT_B, 47, &cat(&[header, payload])))
}

#[test]
fn each_kind_counts_what_suricata_counts() {
    let inner_frame = cat(&[&INNER_ETH, &INNER4]);
    let ppp_ip = cat(&[&[0xff, 0x03, 0x00, 0x21], &INNER4]);
    let cases: Vec<(&str, Vec<u8>, TunnelKind, usize)> = vec![
        // VXLAN: the inner frame from after its Ethernet header.
        (
            "vxlan",
            udp4(
                OUT_A,
                49152,
                OUT_B,
                4789,
                &cat(&[&[0x08, 0, 0, 0, 0, 0, 7, 0], &inner_frame]),
            ),
            TunnelKind::Vxlan,
            INNER4.len(),
        ),
        // Geneve: what follows the header and its options.
        (
            "geneve-teb",
            udp4(
                OUT_A,
                49152,
                OUT_B,
                6081,
                &cat(&[&[0, 0, 0x65, 0x58, 0, 0, 7, 0], &inner_frame]),
            ),
            TunnelKind::Geneve,
            inner_frame.len(),
        ),
        (
            "geneve-ip",
            udp4(
                OUT_A,
                49152,
                OUT_B,
                6081,
                &cat(&[&[0, 0, 0x08, 0x00, 0, 0, 7, 0], &INNER4]),
            ),
            TunnelKind::Geneve,
            INNER4.len(),
        ),
        // GRE: the GRE payload, whatever it is.
        (
            "gre-ip",
            gre(&[0x20, 0x00, 0x08, 0x00, 0, 0, 0, 9], &INNER4),
            TunnelKind::Gre,
            30,
        ),
        (
            "gre-teb",
            gre(&[0x00, 0x00, 0x65, 0x58], &inner_frame),
            TunnelKind::Gre,
            44,
        ),
        (
            "erspan-i",
            gre(&[0x00, 0x00, 0x88, 0xbe], &inner_frame),
            TunnelKind::Erspan,
            inner_frame.len(),
        ),
        (
            "erspan-ii",
            gre(
                &[
                    0x10, 0x00, 0x88, 0xbe, 0, 0, 0, 1, 0x10, 0x17, 0x00, 0x05, 0, 0, 0, 0,
                ],
                &inner_frame,
            ),
            TunnelKind::Erspan,
            8 + inner_frame.len(),
        ),
        (
            "pptp",
            gre(
                &[0x30, 0x01, 0x88, 0x0b, 0x00, 0x22, 0x00, 0x09, 0, 0, 0, 1],
                &ppp_ip,
            ),
            TunnelKind::Pptp,
            ppp_ip.len(),
        ),
        // IP in IP: the outer IP payload.
        (
            "ipip",
            eth(0x0800, &ip4_raw(OUT_A, OUT_B, 4, &INNER4)),
            TunnelKind::IpInIp,
            30,
        ),
        (
            "6in4",
            eth(0x0800, &ip4_raw(OUT_A, OUT_B, 41, &INNER6)),
            TunnelKind::SixInFour,
            50,
        ),
        // Teredo: the IPv6 packet, without the origin indication.
        (
            "teredo",
            udp4(OUT_A, 3544, OUT_B, 40000, &cat(&[&ORIGIN, &INNER6])),
            TunnelKind::Teredo,
            INNER6.len(),
        ),
        // GTP-U and L2TP (which Suricata does not open): after their header.
        (
            "gtpu",
            udp4(
                OUT_A,
                2152,
                OUT_B,
                2152,
                &cat(&[&[0x30, 0xff, 0x00, 0x1e, 0, 0, 0, 5], &INNER4]),
            ),
            TunnelKind::GtpU,
            INNER4.len(),
        ),
        (
            "l2tp",
            udp4(
                OUT_A,
                1701,
                OUT_B,
                1701,
                &cat(&[&[0x00, 0x02, 0x00, 0x01, 0x00, 0x02], &ppp_ip]),
            ),
            TunnelKind::L2tp,
            ppp_ip.len(),
        ),
    ];
    for (name, frame, kind, counted) in cases {
        let v = decode(&frame);
        assert_eq!(v.tunnel.map(|t| t.kind), Some(kind), "{name}");
        assert_eq!(v.ports(), Some((1234, 53)), "{name}: the inner flow");
        assert_eq!(v.flow_len() as usize, counted, "{name}: counted bytes");
        assert_eq!(v.wire_len as usize, frame.len(), "{name}: wire bytes stay");
    }
    // No tunnel: the flow counts the wire.
    let plain = eth(0x0800, &INNER4);
    assert_eq!(opened(&plain), (None, plain.len() as u32));
}

#[test]
fn nested_tunnels_count_the_innermost_packet_and_trailers_are_not_counted() {
    // VXLAN inside GRE: the innermost packet.
    let vxlan = udp4(
        OUT_A,
        49152,
        OUT_B,
        4789,
        &cat(&[&[8, 0, 0, 0, 0, 0, 7, 0], &INNER_ETH, &INNER4]),
    );
    let frame = gre(&[0x00, 0x00, 0x65, 0x58], &vxlan);
    assert_eq!(opened(&frame), (Some(TunnelKind::Vxlan), 30));
    // 6in4 in a minimum-size Ethernet frame: padding after the outer IPv4
    // packet is not the inner packet's.
    let mut padded = eth(0x0800, &ip4_raw(OUT_A, OUT_B, 4, &INNER4));
    padded.resize(padded.len() + 6, 0);
    assert_eq!(opened(&padded), (Some(TunnelKind::IpInIp), 30));
}

#[test]
fn a_capture_cut_counts_the_bytes_it_removed() {
    let frame = gre(&[0x00, 0x00, 0x08, 0x00], &INNER4);
    let cut = &frame[..frame.len() - 2];
    let v = decode_cfg(&TunnelConfig::default(), cut, frame.len());
    assert!(v.truncated);
    assert_eq!(v.tunnel.map(|t| t.kind), Some(TunnelKind::Gre));
    assert_eq!(v.flow_len(), 30, "the inner packet's wire length");
    assert_eq!(v.ip_len, 30, "the inner packet's IP length");
}

#[test]
fn teredo_validates_as_suricata_does() {
    let teredo = |payload: &[u8]| udp4(OUT_A, 40000, OUT_B, 3544, payload);
    assert_eq!(opened(&teredo(&INNER6)).0, Some(TunnelKind::Teredo));
    assert_eq!(
        opened(&teredo(&cat(&[&ORIGIN, &INNER6]))).0,
        Some(TunnelKind::Teredo)
    );
    // Qualification (authentication indicator) and bubbles stay UDP.
    for (name, payload) in [
        ("authentication", cat(&[&AUTH, &INNER6])),
        ("authentication + origin", cat(&[&AUTH, &ORIGIN, &INNER6])),
        ("bubble", BUBBLE.to_vec()),
        ("bubble + origin", cat(&[&ORIGIN, &BUBBLE])),
    ] {
        let frame = teredo(&payload);
        let v = decode(&frame);
        assert!(v.tunnel.is_none(), "{name}");
        assert_eq!(v.ports(), Some((40000, 3544)), "{name}");
        assert_eq!(v.flow_len() as usize, v.wire_len as usize, "{name}");
    }
    // Hop limit 0 is not a real packet.
    let mut hlim0 = INNER6;
    hlim0[7] = 0;
    assert_eq!(opened(&teredo(&hlim0)).0, None);
    // A well-framed IPv6 packet whose UDP header is cut: not Teredo, and
    // no anomaly either (Teredo has no magic number to have promised more).
    let mut short = INNER6[..44].to_vec();
    short[5] = 4;
    let frame = teredo(&short);
    let v = decode(&frame);
    assert!(v.tunnel.is_none() && v.tunnel_inner_error.is_none());
    // Only the configured ports are tried: 3545 is not Teredo's.
    let other = udp4(OUT_A, 40000, OUT_B, 3545, &INNER6);
    assert_eq!(opened(&other).0, None);
    let cfg = TunnelConfig {
        teredo_ports: vec![3545],
        ..TunnelConfig::default()
    };
    let v = decode_cfg(&cfg, &other, other.len());
    assert_eq!(v.tunnel.map(|t| t.kind), Some(TunnelKind::Teredo));
}

#[test]
fn vxlan_and_geneve_ports_either_side() {
    let vx = cat(&[&[0x08, 0, 0, 0, 0, 0, 7, 0], &INNER_ETH, &INNER4]);
    // The tunnel port as source or destination, as Suricata matches it.
    assert_eq!(
        opened(&udp4(OUT_A, 4789, OUT_B, 12345, &vx)).0,
        Some(TunnelKind::Vxlan)
    );
    assert_eq!(
        opened(&udp4(OUT_A, 12345, OUT_B, 4789, &vx)).0,
        Some(TunnelKind::Vxlan)
    );
    // Linux's old default port is not VXLAN unless configured.
    let linux = udp4(OUT_A, 12345, OUT_B, 8472, &vx);
    assert_eq!(opened(&linux).0, None);
    let cfg = TunnelConfig {
        vxlan_ports: vec![4789, 8472],
        ..TunnelConfig::default()
    };
    let v = decode_cfg(&cfg, &linux, linux.len());
    assert_eq!(v.tunnel.map(|t| t.kind), Some(TunnelKind::Vxlan));
    // The reserved byte after the VNI set: not VXLAN, plain UDP.
    let mut reserved = vx.clone();
    reserved[7] = 5;
    let frame = udp4(OUT_A, 12345, OUT_B, 4789, &reserved);
    let v = decode(&frame);
    assert!(v.tunnel.is_none() && v.tunnel_inner_error.is_none());

    let geneve = cat(&[&[0, 0, 0x65, 0x58, 0, 0, 7, 0], &INNER_ETH, &INNER4]);
    assert_eq!(
        opened(&udp4(OUT_A, 6081, OUT_B, 5555, &geneve)).0,
        Some(TunnelKind::Geneve)
    );
    // An option longer than the options area: not Geneve.
    let bad = cat(&[
        &[1, 0, 0x65, 0x58, 0, 0, 7, 0, 0x01, 0x01, 0x01, 0x01],
        &INNER_ETH,
        &INNER4,
    ]);
    assert_eq!(opened(&udp4(OUT_A, 5555, OUT_B, 6081, &bad)).0, None);
}

#[test]
fn gre_options_erspan_types_and_refusals() {
    // Checksum, key and sequence: key 42 is the tunnel id.
    let cks = gre(
        &[0xb0, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 7],
        &INNER4,
    );
    let v = decode(&cks);
    assert_eq!(
        v.tunnel.map(|t| (t.kind, t.id)),
        Some((TunnelKind::Gre, 42))
    );
    assert_eq!((v.ports(), v.flow_len()), (Some((1234, 53)), 30));
    // Sequence number alone.
    let s = gre(&[0x10, 0x00, 0x08, 0x00, 0, 0, 0, 7], &INNER4);
    assert_eq!(
        decode(&s).tunnel.map(|t| (t.kind, t.id)),
        Some((TunnelKind::Gre, 0))
    );
    // Source routing, as Suricata follows it: the entries are stepped over.
    let routed = gre(
        &[
            0x40, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0x08, 0x00, 0x00, 0x04, 10, 9, 9, 9, 0, 0, 0, 0,
        ],
        &INNER4,
    );
    assert_eq!(opened(&routed), (Some(TunnelKind::Gre), 30));
    // A recursion count: refused, the packet is malformed.
    let raw = gre(&[0x01, 0x00, 0x08, 0x00], &INNER4);
    let r = RawPacket {
        ts: Timestamp::ZERO,
        linktype: LinkType::ETHERNET,
        wire_len: raw.len() as u32,
        iface: 0,
        data: &raw,
    };
    let d = Decoder::new(&DecodeConfig::default(), &TunnelConfig::default());
    assert_eq!(d.decode(&r).unwrap_err(), DecodeError::GreUnsupported);

    let frame = cat(&[&INNER_ETH, &INNER4]);
    // ERSPAN type I (no GRE sequence number): the frame follows GRE.
    let i = gre(&[0x00, 0x00, 0x88, 0xbe], &frame);
    let v = decode(&i);
    assert_eq!(
        v.tunnel.map(|t| (t.kind, t.id)),
        Some((TunnelKind::Erspan, 0))
    );
    assert!(v.vlans.is_empty());
    // Type II, VLAN 23, session 5: the VLAN is recorded like a tag.
    let ii = [
        0x10, 0x00, 0x88, 0xbe, 0, 0, 0, 1, 0x10, 0x17, 0x00, 0x05, 0, 0, 0, 0,
    ];
    let ii = gre(&ii, &frame);
    let v = decode(&ii);
    assert_eq!(
        v.tunnel.map(|t| (t.kind, t.id)),
        Some((TunnelKind::Erspan, 5))
    );
    assert_eq!(v.vlans.as_slice(), &[23]);
    // Type III with the platform sub-header (O flag), VLAN 0: none recorded.
    let iii = [
        0x10, 0x00, 0x22, 0xeb, 0, 0, 0, 1, // GRE with sequence number
        0x20, 0x00, 0x00, 0x09, 0, 0, 0, 0, 0, 0, 0, 0x01, // ERSPAN III, session 9, O
        0, 0, 0, 0, 0, 0, 0, 0, // platform sub-header
    ];
    let iii = gre(&iii, &frame);
    let v = decode(&iii);
    assert_eq!(
        v.tunnel.map(|t| (t.kind, t.id)),
        Some((TunnelKind::Erspan, 9))
    );
    assert!(v.vlans.is_empty());
    assert_eq!(v.flow_len() as usize, 20 + frame.len());
}

#[test]
fn the_engine_counts_inner_bytes_in_flows_and_wire_bytes_in_stats() {
    let vx = |sport, payload: &[u8]| {
        let inner = cat(&[&INNER_ETH, payload]);
        udp4(
            OUT_A,
            sport,
            OUT_B,
            4789,
            &cat(&[&[8, 0, 0, 0, 0, 0, 7, 0], &inner]),
        )
    };
    let frames = [vx(49152, &INNER4), vx(49153, &INNER4)];
    let (flows, bytes) = ended_flows(&frames);
    assert_eq!(flows.len(), 1, "one inner flow");
    let side = &flows[0].initiator;
    assert_eq!((side.packets, side.bytes), (2, 2 * INNER4.len() as u64));
    let wire: u64 = frames.iter().map(|f| f.len() as u64).sum();
    assert_eq!(bytes, wire, "the stats record counts the wire");
}

#[test]
fn rebuilt_datagrams_count_the_inner_packets_whether_outer_or_inner_fragments() {
    use crate::testutil::fragment4;
    // An inner UDP datagram of 200 bytes' payload: 228 bytes of IPv4.
    let inner = ip4_raw([10, 0, 0, 1], [10, 0, 0, 2], 17, &{
        let mut u = vec![0x04, 0xd2, 0x00, 0x35, 0x00, 208, 0, 0];
        u.resize(208, b'x');
        u
    });
    let vx = |payload: &[u8]| cat(&[&[8, 0, 0, 0, 0, 0, 7, 0], &INNER_ETH, payload]);
    // Inner fragments, each in its own VXLAN frame.
    let inner_frags: Vec<Vec<u8>> = fragment4(&inner, 96, 9)
        .iter()
        .map(|f| udp4(OUT_A, 49152, OUT_B, 4789, &vx(f)))
        .collect();
    // One VXLAN frame, its outer IPv4 datagram fragmented.
    let outer = udp4(OUT_A, 49152, OUT_B, 4789, &vx(&inner));
    let outer_frags: Vec<Vec<u8>> = fragment4(&outer[14..], 96, 7)
        .iter()
        .map(|f| eth(0x0800, f))
        .collect();
    for (what, frames, inner_len) in [
        (
            "inner fragments",
            &inner_frags,
            // Each fragment is an inner IPv4 packet with its own header.
            fragment4(&inner, 96, 9).iter().map(Vec::len).sum::<usize>(),
        ),
        ("outer fragments", &outer_frags, inner.len()),
    ] {
        let (flows, bytes) = ended_flows(frames);
        assert_eq!(flows.len(), 1, "{what}: one inner flow");
        let side = &flows[0].initiator;
        assert_eq!(side.bytes, inner_len as u64, "{what}");
        // Here the inner frames are bare IP packets: IP bytes are the same.
        assert_eq!(side.ip_bytes, inner_len as u64, "{what}: IP bytes");
        assert_eq!(side.packets, frames.len() as u64, "{what}");
        let wire: u64 = frames.iter().map(|f| f.len() as u64).sum();
        assert_eq!(bytes, wire, "{what}: the stats count the wire");
    }
}

/// Runs Ethernet `frames`, one second apart, through a default engine: the
/// stats of the flows that ended, and the bytes the engine counted.
fn ended_flows(frames: &[Vec<u8>]) -> (Vec<crate::event::FlowStats>, u64) {
    use crate::event::FlowEvent;
    let packets: Vec<_> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| (i as f64, LinkType::ETHERNET, f.clone()))
        .collect();
    let (events, engine) =
        crate::testutil::run_with(&crate::config::EngineConfig::default(), &packets, 64);
    let flows = events
        .into_iter()
        .filter_map(|o| match o.event {
            FlowEvent::Ended { stats, .. } => Some(*stats),
            _ => None,
        })
        .collect();
    (flows, engine.stats().bytes)
}
