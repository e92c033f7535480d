//! Decoder tests: byte literals, etherparse as an oracle, every tunnel with
//! its inner payload checked byte for byte, and no-panic properties.

use super::*;
use crate::config::{DecodeConfig, TunnelConfig};
use crate::key::{FiveTuple, FlowExtractor};
use crate::testutil::*;
use crate::timestamp::Timestamp;
use etherparse::{PacketBuilder, SlicedPacket, TransportSlice};
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};

pub(super) fn decoder() -> Decoder {
    Decoder::new(&DecodeConfig::default(), &TunnelConfig::default())
}

pub(super) fn decode_with<'a>(
    d: &Decoder,
    lt: LinkType,
    data: &'a [u8],
) -> Result<PacketView<'a>, DecodeError> {
    let raw = RawPacket {
        ts: Timestamp::ZERO,
        linktype: lt,
        wire_len: data.len() as u32,
        iface: 0,
        data,
    };
    d.decode(&raw)
}

fn decode(lt: LinkType, data: &[u8]) -> PacketView<'_> {
    let raw = RawPacket {
        ts: Timestamp::ZERO,
        linktype: lt,
        wire_len: data.len() as u32,
        iface: 0,
        data,
    };
    decoder().decode(&raw).expect("decodes")
}

fn v4(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const A: [u8; 4] = [10, 0, 0, 1];
const B: [u8; 4] = [10, 0, 0, 2];
const OUTER_A: [u8; 4] = [192, 0, 2, 1];
const OUTER_B: [u8; 4] = [192, 0, 2, 2];
const A6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa];
const B6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xb];
const HTTP: &[u8] = b"GET /inner HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn ethernet_ipv4_tcp_byte_literal() {
    // 10.1.1.1:40000 -> 10.1.1.2:80, PSH|ACK, payload "hi", 2 bytes padding.
    let frame: &[u8] = &[
        0x00, 0x00, 0x5e, 0x00, 0x53, 0x01, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x02, 0x08,
        0x00, // eth
        0x45, 0x00, 0x00, 0x2a, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0x24, 0xc9, 0x0a, 0x01, 0x01,
        0x01, 0x0a, 0x01, 0x01, 0x02, // ipv4, total length 42
        0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x07, 0xd0, 0x50, 0x18, 0x01,
        0x00, 0x00, 0x00, 0x00, 0x00, // tcp
        b'h', b'i', 0, 0, // payload + padding
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let v = decode(LinkType::ETHERNET, frame);
    let ip = v.ip.unwrap();
    assert_eq!(ip.src, v4("10.1.1.1"));
    assert_eq!(ip.dst, v4("10.1.1.2"));
    assert_eq!(ip.protocol, 6);
    let t = v.tcp().unwrap();
    assert_eq!((t.src_port(), t.dst_port()), (40000, 80));
    assert_eq!(t.seq(), 1000);
    assert_eq!(t.ack(), 2000);
    assert_eq!(
        v.payload, b"hi",
        "Ethernet padding must not leak into the payload"
    );
    assert_eq!(v.src_mac, Some([0x00, 0x00, 0x5e, 0x00, 0x53, 0x02]));
    assert!(!v.truncated);
    // IP-level bytes: the header's total length, not the padded frame.
    assert_eq!((v.ip_len, v.wire_len), (42, frame.len() as u32));
}

#[test]
fn snaplen_cut_is_flagged_not_malformed() {
    let frame = tcp4(A, 1000, B, 80, ACK, 1, &[7u8; 100]);
    let cut = &frame[..60];
    let raw = RawPacket {
        ts: Timestamp::ZERO,
        linktype: LinkType::ETHERNET,
        wire_len: frame.len() as u32,
        iface: 0,
        data: cut,
    };
    let v = decoder().decode(&raw).unwrap();
    assert!(v.truncated);
    assert_eq!(v.payload.len(), 6);
    // What the header says the packet held, not what was kept of it.
    assert_eq!(v.ip_len, frame.len() as u32 - 14);
    // Cut inside the TCP header: a capture cut, not a malformed packet.
    let raw = RawPacket {
        data: &frame[..40],
        ..raw
    };
    assert_eq!(
        decoder().decode(&raw).unwrap_err(),
        DecodeError::CaptureTruncated
    );
    // The same bytes with no snaplen cut are malformed.
    let raw = RawPacket {
        wire_len: 40,
        iface: 0,
        ..raw
    };
    assert_eq!(
        decoder().decode(&raw).unwrap_err(),
        DecodeError::TcpTruncated
    );
}

fn arb_packet() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    (
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(0u16..4095),
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        any::<u16>(),
        any::<u16>(),
        proptest::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(v6, tcp, vlan, s, d, sp, dp, payload)| {
            let eth = PacketBuilder::ethernet2(MAC_A, MAC_B);
            let mut out = Vec::new();
            macro_rules! finish {
                ($ip:expr) => {{
                    if tcp {
                        $ip.tcp(sp, dp, 7, 100).write(&mut out, &payload).unwrap()
                    } else {
                        $ip.udp(sp, dp).write(&mut out, &payload).unwrap()
                    }
                }};
            }
            let s4 = [s[0], s[1], s[2], s[3]];
            let d4 = [d[0], d[1], d[2], d[3]];
            match (vlan, v6) {
                (Some(id), false) => finish!(
                    eth.single_vlan(etherparse::VlanId::try_new(id).unwrap())
                        .ipv4(s4, d4, 9)
                ),
                (Some(id), true) => finish!(
                    eth.single_vlan(etherparse::VlanId::try_new(id).unwrap())
                        .ipv6(s, d, 9)
                ),
                (None, false) => finish!(eth.ipv4(s4, d4, 9)),
                (None, true) => finish!(eth.ipv6(s, d, 9)),
            }
            (out, payload)
        })
}

proptest! {
    /// etherparse is the oracle for the common stack: every field the flow
    /// key and the parsers depend on must agree.
    #[test]
    fn agrees_with_etherparse((frame, payload) in arb_packet()) {
        let theirs = SlicedPacket::from_ethernet(&frame).unwrap();
        let ours = decode(LinkType::ETHERNET, &frame);
        let ip = ours.ip.unwrap();
        match theirs.net.as_ref().unwrap() {
            etherparse::NetSlice::Ipv4(s) => {
                prop_assert_eq!(ip.src, IpAddr::V4(s.header().source_addr()));
                prop_assert_eq!(ip.dst, IpAddr::V4(s.header().destination_addr()));
            }
            etherparse::NetSlice::Ipv6(s) => {
                prop_assert_eq!(ip.src, IpAddr::V6(s.header().source_addr()));
                prop_assert_eq!(ip.dst, IpAddr::V6(s.header().destination_addr()));
            }
            etherparse::NetSlice::Arp(_) => prop_assert!(false, "not built"),
        }
        let vlans: Vec<u16> = theirs.link_exts.iter().filter_map(|e| match e {
            etherparse::LinkExtSlice::Vlan(v) => Some(v.vlan_identifier().value()),
            _ => None,
        }).collect();
        prop_assert_eq!(ours.vlans.as_slice(), &vlans[..]);
        match theirs.transport.unwrap() {
            TransportSlice::Tcp(t) => {
                prop_assert_eq!(ours.ports(), Some((t.source_port(), t.destination_port())));
                prop_assert_eq!(ours.payload, t.payload());
            }
            TransportSlice::Udp(u) => {
                prop_assert_eq!(ours.ports(), Some((u.source_port(), u.destination_port())));
                prop_assert_eq!(ours.payload, u.payload());
            }
            _ => prop_assert!(false, "not built"),
        }
        prop_assert_eq!(ours.payload, &payload[..]);
    }

    /// No link type panics on arbitrary bytes, and every error is one of
    /// the named decode errors.
    #[test]
    fn no_panic_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..512), lt in prop_oneof![
        Just(0u32), Just(1), Just(12), Just(14), Just(101), Just(108), Just(113), Just(228), Just(229), Just(276), any::<u32>()
    ]) {
        let d = decoder();
        let _ = decode_with(&d, LinkType(lt), &data);
    }

    /// Valid tunnelled frames, mutated and cut anywhere, never panic.
    #[test]
    fn no_panic_on_mutated_tunnels(which in 0usize..12, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6), cut in any::<usize>()) {
        let mut frame = tunnel_samples().swap_remove(which % 12).1;
        for (pos, val) in flips {
            if !frame.is_empty() {
                let n = frame.len();
                frame[pos % n] = val;
            }
        }
        frame.truncate(cut % (frame.len() + 1));
        let d = decoder();
        let _ = decode_with(&d, LinkType::ETHERNET, &frame);
        let tiny = TunnelConfig { max_depth: 1, ..TunnelConfig::default() };
        let d1 = Decoder::new(&DecodeConfig::default(), &tiny);
        let _ = decode_with(&d1, LinkType::ETHERNET, &frame);
    }
}

fn vxlan(vni: u32, inner_frame: &[u8]) -> Vec<u8> {
    let mut p = vec![0x08, 0, 0, 0];
    p.extend_from_slice(&(vni << 8).to_be_bytes());
    p.extend_from_slice(inner_frame);
    udp4(OUTER_A, 49152, OUTER_B, 4789, &p)
}

fn gre(flags_ver: u16, proto: u16, key: Option<u32>, inner: &[u8]) -> Vec<u8> {
    let mut g = Vec::new();
    g.extend_from_slice(&flags_ver.to_be_bytes());
    g.extend_from_slice(&proto.to_be_bytes());
    if let Some(k) = key {
        g.extend_from_slice(&k.to_be_bytes());
    }
    g.extend_from_slice(inner);
    eth(0x0800, &ip4_raw(OUTER_A, OUTER_B, 47, &g))
}

/// One frame per tunnel kind (and the L2 oddities), each carrying the
/// inner flow A:1234 -> B:80 with payload `HTTP`.
fn tunnel_samples() -> Vec<(&'static str, Vec<u8>)> {
    let inner_eth = tcp4(A, 1234, B, 80, ACK | PSH, 1, HTTP);
    let inner_ip = ip4_tcp(A, 1234, B, 80, HTTP);
    let inner_ip6 = ip6_tcp(A6, 1234, B6, 80, HTTP);

    let geneve = {
        let mut p = vec![0x01, 0x00, 0x65, 0x58, 0x00, 0x00, 0x2a, 0x00, 1, 2, 3, 0];
        p.extend_from_slice(&inner_eth);
        udp4(OUTER_A, 40000, OUTER_B, 6081, &p)
    };
    let gtpu = {
        // E flag, next extension 0x85 (PDU session container, 4 bytes), then none.
        let mut p = vec![
            0x34, 0xff, 0, 0, 0, 0, 0x30, 0x39, 0, 0, 0, 0x85, 0x01, 0x10, 0x01, 0x00,
        ];
        p.extend_from_slice(&inner_ip);
        let len = (p.len() - 8) as u16;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        udp4(OUTER_A, 2152, OUTER_B, 2152, &p)
    };
    let erspan2 = {
        let mut p = vec![0, 0, 0, 7]; // GRE sequence number
        p.extend_from_slice(&[0x10, 0x00, 0x00, 0x2b, 0, 0, 0, 0]); // ERSPAN II, session 43
        p.extend_from_slice(&inner_eth);
        gre(0x1000, 0x88be, None, &p)
    };
    let pptp = {
        let mut g = vec![0x30, 0x01, 0x88, 0x0b, 0x00, 0x00, 0x00, 0x09, 0, 0, 0, 1];
        g.extend_from_slice(&[0xff, 0x03, 0x00, 0x21]);
        g.extend_from_slice(&inner_ip);
        eth(0x0800, &ip4_raw(OUTER_A, OUTER_B, 47, &g))
    };
    let mpls = {
        let mut p = vec![0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40];
        p.extend_from_slice(&inner_ip);
        eth(0x8847, &p)
    };
    let pppoe = {
        let len = (inner_ip.len() + 2) as u16;
        let mut p = vec![0x11, 0x00, 0x00, 0x07];
        p.extend_from_slice(&len.to_be_bytes());
        p.extend_from_slice(&[0x00, 0x21]);
        p.extend_from_slice(&inner_ip);
        eth(0x8864, &p)
    };
    let qinq = {
        let mut p = vec![0x00, 0x64, 0x81, 0x00, 0x00, 0xc8, 0x08, 0x00];
        p.extend_from_slice(&inner_ip);
        eth(0x88a8, &p)
    };
    vec![
        ("vxlan", vxlan(0x1234, &inner_eth)),
        ("gre", gre(0x2000, 0x0800, Some(77), &inner_ip)),
        ("gre-teb", gre(0x0000, 0x6558, None, &inner_eth)),
        ("erspan2", erspan2),
        ("geneve", geneve),
        ("gtpu", gtpu),
        (
            "ipip",
            eth(0x0800, &ip4_raw(OUTER_A, OUTER_B, 4, &inner_ip)),
        ),
        (
            "6in4",
            eth(0x0800, &ip4_raw(OUTER_A, OUTER_B, 41, &inner_ip6)),
        ),
        ("pptp", pptp),
        ("mpls", mpls),
        ("pppoe", pppoe),
        ("qinq", qinq),
    ]
}

#[test]
fn every_tunnel_yields_the_inner_flow_and_exact_payload() {
    for (name, frame) in tunnel_samples() {
        let v = decode(LinkType::ETHERNET, &frame);
        let ip = v.ip.unwrap_or_else(|| panic!("{name}: no inner IP"));
        let (src, dst) = if name == "6in4" {
            (
                IpAddr::V6(Ipv6Addr::from(A6)),
                IpAddr::V6(Ipv6Addr::from(B6)),
            )
        } else {
            (IpAddr::V4(Ipv4Addr::from(A)), IpAddr::V4(Ipv4Addr::from(B)))
        };
        assert_eq!((ip.src, ip.dst), (src, dst), "{name}: inner addresses");
        assert_eq!(v.ports(), Some((1234, 80)), "{name}: inner ports");
        assert_eq!(
            v.payload, HTTP,
            "{name}: parsers must get exactly the inner payload"
        );
        let expected = match name {
            "vxlan" => Some((TunnelKind::Vxlan, 0x1234)),
            "gre" => Some((TunnelKind::Gre, 77)),
            "gre-teb" => Some((TunnelKind::Gre, 0)),
            "erspan2" => Some((TunnelKind::Erspan, 43)),
            "geneve" => Some((TunnelKind::Geneve, 42)),
            "gtpu" => Some((TunnelKind::GtpU, 0x3039)),
            "ipip" => Some((TunnelKind::IpInIp, 0)),
            "6in4" => Some((TunnelKind::SixInFour, 0)),
            "pptp" => Some((TunnelKind::Pptp, 9)),
            _ => None,
        };
        assert_eq!(v.tunnel.map(|t| (t.kind, t.id)), expected, "{name}: tunnel");
        if let Some(t) = v.tunnel {
            assert_eq!(
                t.outer_src,
                IpAddr::V4(Ipv4Addr::from(OUTER_A)),
                "{name}: outer src"
            );
            assert_eq!(v.tunnel_depth, 1);
        }
        assert!(v.tunnel_inner_error.is_none(), "{name}");
    }
}

#[test]
fn l2_details_are_recorded() {
    let samples = tunnel_samples();
    let get = |n: &str| samples.iter().find(|s| s.0 == n).unwrap().1.clone();
    let q = get("qinq");
    assert_eq!(decode(LinkType::ETHERNET, &q).vlans.as_slice(), &[100, 200]);
    let m = get("mpls");
    assert_eq!(decode(LinkType::ETHERNET, &m).mpls_labels, 2);
    let p = get("pppoe");
    assert_eq!(decode(LinkType::ETHERNET, &p).pppoe_session, Some(7));
}

/// flowscope 0.3 keys VXLAN traffic on the outer UDP flow; the key must be
/// the inner TCP conversation.
#[test]
fn vxlan_flow_key_is_the_inner_flow() {
    let frame = vxlan(5, &tcp4(A, 1234, B, 80, ACK, 1, HTTP));
    let v = decode(LinkType::ETHERNET, &frame);
    let x = FiveTuple::default().extract(&v).unwrap();
    assert_eq!(x.key.proto(), 6);
    assert_eq!((x.key.a().addr, x.key.a().port), (v4("10.0.0.1"), 1234));
    assert_eq!((x.key.b().addr, x.key.b().port), (v4("10.0.0.2"), 80));
    assert_eq!(x.key.context().tunnel, Some((TunnelKind::Vxlan, 5)));
}

#[test]
fn tunnels_inside_tunnels_and_depth_limit() {
    let inner = tcp4(A, 1234, B, 80, ACK, 1, HTTP);
    let once = vxlan(1, &inner);
    let twice = vxlan(2, &once);
    let v = decode(LinkType::ETHERNET, &twice);
    assert_eq!(v.tunnel_depth, 2);
    assert_eq!(v.tunnel.unwrap().id, 1, "innermost tunnel is recorded");
    assert_eq!(v.payload, HTTP);

    let mut cfg = TunnelConfig {
        max_depth: 1,
        ..TunnelConfig::default()
    };
    let d = Decoder::new(&DecodeConfig::default(), &cfg);
    let v = decode_with(&d, LinkType::ETHERNET, &twice).unwrap();
    assert!(v.tunnel_depth_exceeded);
    assert_eq!(v.tunnel_depth, 1);
    assert_eq!(
        v.ports(),
        Some((49152, 4789)),
        "stops at the last level allowed"
    );

    cfg.decapsulate = false;
    let d = Decoder::new(&DecodeConfig::default(), &cfg);
    let v = decode_with(&d, LinkType::ETHERNET, &once).unwrap();
    assert!(v.tunnel.is_none());
    assert_eq!(v.ports(), Some((49152, 4789)));
}

#[test]
fn broken_inner_packet_falls_back_to_outer_flow() {
    // VXLAN header fine, inner Ethernet frame carries a truncated IPv4 header.
    let mut bad_inner = eth(0x0800, &[0x45, 0, 0, 40, 0, 0]);
    bad_inner.truncate(20);
    let frame = vxlan(9, &bad_inner);
    let v = decode(LinkType::ETHERNET, &frame);
    assert_eq!(v.tunnel_inner_error, Some(DecodeError::Ipv4Truncated));
    assert!(v.tunnel.is_none());
    assert_eq!(v.ports(), Some((49152, 4789)));

    // Port 4789 without the VNI flag is not VXLAN at all.
    let frame = udp4(OUTER_A, 5000, OUTER_B, 4789, b"\x00not vxlan payload");
    let v = decode(LinkType::ETHERNET, &frame);
    assert!(v.tunnel.is_none() && v.tunnel_inner_error.is_none());
    assert_eq!(v.payload, b"\x00not vxlan payload");
}

#[test]
fn teredo_and_4in6() {
    let inner6 = ip6_tcp(A6, 1234, B6, 80, HTTP);
    let frame = udp4(OUTER_A, 3544, OUTER_B, 51000, &inner6);
    let v = decode(LinkType::ETHERNET, &frame);
    assert_eq!(v.tunnel.unwrap().kind, TunnelKind::Teredo);
    assert_eq!(v.payload, HTTP);
    // Ordinary traffic on the Teredo port stays UDP.
    let plain = udp4(OUTER_A, 3544, OUTER_B, 51000, b"hello");
    assert!(decode(LinkType::ETHERNET, &plain).tunnel.is_none());

    let frame = eth(0x86dd, &ip6_raw(A6, B6, 4, &ip4_tcp(A, 1234, B, 80, HTTP)));
    let v = decode(LinkType::ETHERNET, &frame);
    assert_eq!(v.tunnel.unwrap().kind, TunnelKind::FourInSix);
    assert_eq!(v.ip.unwrap().src, IpAddr::V4(Ipv4Addr::from(A)));
    assert_eq!(v.payload, HTTP);
}

#[test]
fn cooked_and_loopback_link_types() {
    let ip = ip4_tcp(A, 1234, B, 80, HTTP);
    let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&ip);
    let v = decode(LinkType::LINUX_SLL, &sll);
    assert_eq!(v.payload, HTTP);
    assert_eq!(v.src_mac, Some([1, 2, 3, 4, 5, 6]));

    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
    ];
    sll2.extend_from_slice(&ip);
    assert_eq!(decode(LinkType::LINUX_SLL2, &sll2).payload, HTTP);

    let mut null_le = vec![2, 0, 0, 0];
    null_le.extend_from_slice(&ip);
    assert_eq!(decode(LinkType::NULL, &null_le).payload, HTTP);
    let mut loop_be = vec![0, 0, 0, 24];
    loop_be.extend_from_slice(&ip6_tcp(A6, 1234, B6, 80, HTTP));
    assert_eq!(decode(LinkType::LOOP, &loop_be).payload, HTTP);

    for lt in [
        LinkType::RAW,
        LinkType::RAW_12,
        LinkType::RAW_14,
        LinkType::IPV4,
    ] {
        assert_eq!(decode(lt, &ip).payload, HTTP);
    }
    assert_eq!(
        decode_with(&decoder(), LinkType(147), &ip).unwrap_err(),
        DecodeError::UnsupportedLinkType
    );
}

#[test]
fn non_ip_frames_are_not_errors() {
    let arp = eth(0x0806, &[0u8; 28]);
    let v = decode(LinkType::ETHERNET, &arp);
    assert!(v.ip.is_none());
    assert_eq!(v.non_ip_ethertype, 0x0806);
}

#[test]
fn icmp_errors_quote_the_offending_header() {
    let offending = ip4_udp(A, 5353, B, 53, b"query");
    let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&offending[..28]);
    let frame = eth(0x0800, &ip4_raw(B, A, 1, &icmp));
    let v = decode(LinkType::ETHERNET, &frame);
    let Transport::Icmp(i) = v.transport else {
        panic!("icmp")
    };
    assert_eq!((i.msg_type, i.code), (3, 3));
    let q = decoder().icmp_quoted(&v).unwrap();
    assert_eq!(
        (q.src, q.dst, q.protocol, q.src_port, q.dst_port),
        (v4("10.0.0.1"), v4("10.0.0.2"), 17, 5353, 53)
    );
}

#[test]
fn ipv6_extension_headers_and_fragments() {
    // hop-by-hop (8 bytes) in front of UDP
    let udp = {
        let mut u = udp6(A6, 1000, B6, 2000, b"data");
        u.drain(..14 + 40);
        u
    };
    let mut ext = vec![17, 0, 1, 4, 0, 0, 0, 0];
    ext.extend_from_slice(&udp);
    let frame = eth(0x86dd, &ip6_hdr(A6, B6, 0, &ext));
    let v = decode(LinkType::ETHERNET, &frame);
    assert_eq!(v.ports(), Some((1000, 2000)));
    assert_eq!(v.payload, b"data");
    assert_eq!(v.ip.unwrap().protocol, 17);

    // first fragment: stops at the IP layer
    let mut frag = vec![17, 0, 0x00, 0x01, 0, 0, 0, 5];
    frag.extend_from_slice(&udp[..8]);
    let frame = eth(0x86dd, &ip6_hdr(A6, B6, 44, &frag));
    let v = decode(LinkType::ETHERNET, &frame);
    assert!(matches!(v.transport, Transport::Fragment));
    let f = v.ip.unwrap().fragment.unwrap();
    assert_eq!((f.ident, f.offset, f.more), (5, 0, true));
    assert_eq!(v.payload.len(), 8);
}

#[test]
fn malformed_headers_are_named() {
    let d = decoder();
    let mut bad_ihl = ip4_tcp(A, 1, B, 2, b"x");
    bad_ihl[0] = 0x43;
    assert_eq!(
        decode_with(&d, LinkType::RAW, &bad_ihl).unwrap_err(),
        DecodeError::Ipv4BadHeaderLength
    );
    let mut bad_off = ip4_tcp(A, 1, B, 2, b"x");
    bad_off[20 + 12] = 0x20;
    assert_eq!(
        decode_with(&d, LinkType::RAW, &bad_off).unwrap_err(),
        DecodeError::TcpBadDataOffset
    );
    let mut bad_udp = ip4_udp(A, 1, B, 2, b"x");
    bad_udp[20 + 5] = 3;
    assert_eq!(
        decode_with(&d, LinkType::RAW, &bad_udp).unwrap_err(),
        DecodeError::UdpBadLength
    );
    let big_frag = frag4(A, B, 17, 1, 65528, false, &[0u8; 16]);
    assert_eq!(
        decode_with(&d, LinkType::RAW, &big_frag).unwrap_err(),
        DecodeError::Ipv4FragmentTooLarge
    );
}
