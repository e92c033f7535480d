//! Packet builders shared by the unit tests: etherparse builds the common
//! headers; tunnels and oddities are assembled by hand. Also the bytes of
//! hex test data ([`unhex`]).

use crate::config::EngineConfig;
use crate::engine::{Engine, EventBuf};
use crate::key::{FiveTuple, FiveTupleKey, KeyOptions};
use crate::packet::{LinkType, RawPacket};
use crate::timestamp::Timestamp;
use etherparse::{IpNumber, PacketBuilder, TcpHeader};

pub const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
pub const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const FIN: u8 = 0x01;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;

/// An Ethernet/IPv4/TCP frame (acknowledgement number 1 when ACK is set).
pub fn tcp4(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    flags: u8,
    seq: u32,
    payload: &[u8],
) -> Vec<u8> {
    tcp4_ack(src, sport, dst, dport, flags, seq, 1, payload)
}

/// An Ethernet/IPv4/TCP frame with this acknowledgement number.
#[allow(clippy::too_many_arguments)]
pub fn tcp4_ack(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    flags: u8,
    seq: u32,
    ack: u32,
    payload: &[u8],
) -> Vec<u8> {
    let mut hdr = TcpHeader::new(sport, dport, seq, 64240);
    hdr.syn = flags & SYN != 0;
    hdr.ack = flags & ACK != 0;
    hdr.fin = flags & FIN != 0;
    hdr.rst = flags & RST != 0;
    hdr.psh = flags & PSH != 0;
    if hdr.ack {
        hdr.acknowledgment_number = ack;
    }
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(src, dst, 64)
        .tcp_header(hdr);
    let mut out = Vec::new();
    b.write(&mut out, payload).expect("build tcp4");
    out
}

/// An Ethernet/IPv4/UDP frame.
pub fn udp4(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(src, dst, 64)
        .udp(sport, dport);
    let mut out = Vec::new();
    b.write(&mut out, payload).expect("build udp4");
    out
}

/// An Ethernet/IPv6/UDP frame.
pub fn udp6(src: [u8; 16], sport: u16, dst: [u8; 16], dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv6(src, dst, 64)
        .udp(sport, dport);
    let mut out = Vec::new();
    b.write(&mut out, payload).expect("build udp6");
    out
}

/// A bare IPv4/UDP packet (no link header).
pub fn ip4_udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv4(src, dst, 64).udp(sport, dport);
    let mut out = Vec::new();
    b.write(&mut out, payload).expect("build ip4_udp");
    out
}

/// A bare IPv4/TCP packet (no link header).
pub fn ip4_tcp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv4(src, dst, 64)
        .tcp(sport, dport, 1000, 1024)
        .ack(1)
        .psh();
    let mut out = Vec::new();
    b.write(&mut out, payload).expect("build ip4_tcp");
    out
}

/// A bare IPv6/TCP packet (no link header).
pub fn ip6_tcp(src: [u8; 16], sport: u16, dst: [u8; 16], dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv6(src, dst, 64)
        .tcp(sport, dport, 1000, 1024)
        .ack(1)
        .psh();
    let mut out = Vec::new();
    b.write(&mut out, payload).expect("build ip6_tcp");
    out
}

/// A bare IPv4 packet of protocol `proto` around `payload`.
pub fn ip4_raw(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv4(src, dst, 64);
    let mut out = Vec::new();
    b.write(&mut out, IpNumber(proto), payload)
        .expect("build ip4_raw");
    out
}

/// A bare IPv6 packet of next header `proto` around `payload`.
pub fn ip6_raw(src: [u8; 16], dst: [u8; 16], proto: u8, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv6(src, dst, 64);
    let mut out = Vec::new();
    b.write(&mut out, IpNumber(proto), payload)
        .expect("build ip6_raw");
    out
}

/// A hand-built IPv6 header (any next header, extension headers included
/// in `payload`) around `payload`.
pub fn ip6_hdr(src: [u8; 16], dst: [u8; 16], next: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    h.push(next);
    h.push(64);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(payload);
    h
}

/// Ethernet header (A -> B) of `ethertype` in front of `payload`.
pub fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&MAC_B);
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Splits an IPv4 packet (with a 20-byte header) into fragments of
/// `chunk` payload bytes (a multiple of 8), with correct headers.
pub fn fragment4(packet: &[u8], chunk: usize, ident: u16) -> Vec<Vec<u8>> {
    let payload = &packet[20..];
    let mut out = Vec::new();
    let mut off = 0;
    while off < payload.len() {
        let end = (off + chunk).min(payload.len());
        let more = end < payload.len();
        let mut h = packet[..20].to_vec();
        let total = (20 + end - off) as u16;
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h[4..6].copy_from_slice(&ident.to_be_bytes());
        let field = ((off / 8) as u16) | if more { 0x2000 } else { 0 };
        h[6..8].copy_from_slice(&field.to_be_bytes());
        h[10] = 0;
        h[11] = 0;
        let c = crate::wire::ip::internet_checksum(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        h.extend_from_slice(&payload[off..end]);
        out.push(h);
        off = end;
    }
    out
}

/// One IPv4 fragment with an explicit offset and flag, around `data`.
pub fn frag4(
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    ident: u16,
    offset: usize,
    more: bool,
    data: &[u8],
) -> Vec<u8> {
    let mut h = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0];
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let total = (20 + data.len()) as u16;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&ident.to_be_bytes());
    let field = ((offset / 8) as u16) | if more { 0x2000 } else { 0 };
    h[6..8].copy_from_slice(&field.to_be_bytes());
    let c = crate::wire::ip::internet_checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(data);
    h
}

/// Runs an engine over `(seconds, linktype, frame)` triples, firing timers
/// every `epoch` packets, and returns every event.
pub fn run_with(
    cfg: &EngineConfig,
    packets: &[(f64, LinkType, Vec<u8>)],
    epoch: usize,
) -> (EventBuf<FiveTupleKey>, Engine<FiveTuple>) {
    let (out, engine, _) = run_stepped(cfg, packets, epoch, usize::MAX);
    (out, engine)
}

/// [`run_with`] with each timer batch fired [`Engine::advance_some`]'s way,
/// at most `step` flows ended per call; also returns the most flow ends
/// one call produced.
pub fn run_stepped(
    cfg: &EngineConfig,
    packets: &[(f64, LinkType, Vec<u8>)],
    epoch: usize,
    step: usize,
) -> (EventBuf<FiveTupleKey>, Engine<FiveTuple>, usize) {
    let mut most = 0;
    let (mut engine, mut out, clock) = run_each(cfg, packets, |engine, seq, clock, out| {
        if (seq + 1) % epoch == 0 {
            loop {
                let start = out.len();
                let done = engine.advance_some(clock, seq as u64, step, out);
                let ends = out[start..]
                    .iter()
                    .filter(|o| matches!(o.event, crate::FlowEvent::Ended { .. }))
                    .count();
                most = most.max(ends);
                if done {
                    break;
                }
            }
        }
    });
    let last = packets.len().saturating_sub(1) as u64;
    engine.finish(clock, last, &mut out);
    (out, engine, most)
}

/// Runs an engine over `(seconds, linktype, frame)` triples, calling
/// `after(engine, seq, clock, events)` after each packet; returns the
/// engine, its events and the clock, not flushed.
pub fn run_each(
    cfg: &EngineConfig,
    packets: &[(f64, LinkType, Vec<u8>)],
    mut after: impl FnMut(&mut Engine<FiveTuple>, usize, Timestamp, &mut EventBuf<FiveTupleKey>),
) -> (Engine<FiveTuple>, EventBuf<FiveTupleKey>, Timestamp) {
    let mut engine =
        Engine::new(cfg, FiveTuple::new(KeyOptions::from_config(cfg))).expect("config");
    let mut out = Vec::new();
    let mut clock = Timestamp::ZERO;
    for (seq, (t, lt, frame)) in packets.iter().enumerate() {
        let ts = Timestamp::from_nanos((t * 1e9) as u64);
        clock = clock.max(ts);
        let raw = RawPacket {
            ts,
            linktype: *lt,
            wire_len: frame.len() as u32,
            iface: 0,
            data: frame,
        };
        engine.process(seq as u64, clock, &raw, &mut out);
        after(&mut engine, seq, clock, &mut out);
    }
    (engine, out, clock)
}

/// [`run_with`] on Ethernet frames with the default configuration.
pub fn run_eth(packets: &[(f64, Vec<u8>)]) -> EventBuf<FiveTupleKey> {
    let p: Vec<_> = packets
        .iter()
        .map(|(t, f)| (*t, LinkType::ETHERNET, f.clone()))
        .collect();
    run_with(&EngineConfig::default(), &p, 64).0
}

/// The bytes a hex string spells, two digits a byte, white space between
/// them passed over (test data: payloads as tshark prints them).
#[cfg_attr(
    not(any(
        feature = "bittorrent-dht",
        feature = "dhcp",
        feature = "krb5",
        feature = "quic",
        feature = "rdp",
        feature = "snmp",
        feature = "tftp",
        feature = "tls"
    )),
    allow(dead_code)
)]
pub fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|d| u8::from_str_radix(std::str::from_utf8(d).unwrap(), 16).unwrap())
        .collect()
}

/// The messages of one [`L7Message`](crate::parsers::L7Message) variant
/// among `msgs`, unboxed, in order: `messages_of!(msgs, Tftp)`. A message
/// of any other variant fails the test (with one parser's feature alone,
/// every message is of its variant).
#[allow(unused_macros)]
macro_rules! messages_of {
    ($msgs:expr, $variant:ident) => {
        $msgs
            .into_iter()
            .map(|m| match m {
                $crate::parsers::L7Message::$variant(inner) => *inner,
                #[allow(unreachable_patterns)]
                other => panic!(concat!("not ", stringify!($variant), ": {:?}"), other),
            })
            .collect::<Vec<_>>()
    };
}
#[allow(unused_imports)]
pub(crate) use messages_of;
