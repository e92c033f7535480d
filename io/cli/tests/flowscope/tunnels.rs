//! Fragmented tunnels: generated captures of every tunnel kind the decoder
//! follows, the outer datagrams (IPv4 and IPv6) fragmented in order, out of
//! order, duplicated and overlapping, give the same bytes for every shard
//! count — the fragments carry no inner addresses, so only reassembly
//! ahead of the shards can send them to the inner flow's shard — and the
//! inner conversations come out whole.

use super::{bin, records, tmpdir};
use flowscope_io::{PcapPrecision, PcapWriter};
use std::path::Path;

/// Outer fragment payload: small enough that every data segment and both
/// DNS messages are cut, while bare ACKs travel whole.
const CHUNK: usize = 96;

#[derive(Clone, Copy, Debug)]
enum Kind {
    Vxlan,
    Geneve,
    GtpU,
    Gre,
    GreKey,
    GreEthernet,
    Erspan,
    Pptp,
    L2tp,
    IpInIp,
    Teredo,
}

const KINDS: [Kind; 11] = [
    Kind::Vxlan,
    Kind::Geneve,
    Kind::GtpU,
    Kind::Gre,
    Kind::GreKey,
    Kind::GreEthernet,
    Kind::Erspan,
    Kind::Pptp,
    Kind::L2tp,
    Kind::IpInIp,
    Kind::Teredo,
];

/// How an outer datagram's fragments are sent.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Order {
    /// In the order they were cut.
    Cut,
    Reversed,
    /// Every fragment twice (captures taken on both sides of a link).
    Duplicated,
    /// The last fragment first, the others in order.
    LastFirst,
    /// The second fragment starts 8 bytes early: the datagram is dropped.
    Overlapping,
}

const ORDERS: [Order; 5] = [
    Order::Cut,
    Order::Reversed,
    Order::Duplicated,
    Order::LastFirst,
    Order::Overlapping,
];

fn sum16(data: &[u8]) -> u32 {
    data.chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum()
}

fn fold(mut s: u32) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// An IP packet from `src` to `dst` (4 or 16 bytes each) around `l4`, the
/// transport checksum (TCP, UDP) filled in.
fn ip(src: &[u8], dst: &[u8], proto: u8, ident: u16, l4: &[u8]) -> Vec<u8> {
    let mut l4 = l4.to_vec();
    let at = match proto {
        6 => Some(16),
        17 => Some(6),
        _ => None,
    };
    if let Some(at) = at {
        l4[at..at + 2].copy_from_slice(&[0, 0]);
        let pseudo = sum16(src) + sum16(dst) + u32::from(proto) + l4.len() as u32;
        let c = fold(pseudo + sum16(&l4));
        l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
    let mut p = if src.len() == 4 {
        let mut h = vec![0x45, 0];
        h.extend_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
        h.extend_from_slice(&ident.to_be_bytes());
        h.extend_from_slice(&[0, 0, 64, proto, 0, 0]);
        h.extend_from_slice(src);
        h.extend_from_slice(dst);
        let c = fold(sum16(&h));
        h[10..12].copy_from_slice(&c.to_be_bytes());
        h
    } else {
        let mut h = vec![0x60, 0, 0, 0];
        h.extend_from_slice(&(l4.len() as u16).to_be_bytes());
        h.extend_from_slice(&[proto, 64]);
        h.extend_from_slice(src);
        h.extend_from_slice(dst);
        h
    };
    p.extend_from_slice(&l4);
    p
}

fn tcp(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    t
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 0xa];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 0xb];

fn ethernet(to_b: bool, inner: &[u8]) -> Vec<u8> {
    let (dst, src) = if to_b { (MAC_B, MAC_A) } else { (MAC_A, MAC_B) };
    let mut e = dst.to_vec();
    e.extend_from_slice(&src);
    let ethertype: u16 = if inner[0] >> 4 == 6 { 0x86dd } else { 0x0800 };
    e.extend_from_slice(&ethertype.to_be_bytes());
    e.extend_from_slice(inner);
    e
}

/// The outer IP protocol and payload carrying `inner` (an IP packet) in a
/// tunnel of `kind`; `to_b` is the outer direction.
fn encapsulate(kind: Kind, to_b: bool, inner: &[u8]) -> (u8, Vec<u8>) {
    let ports = |server: u16| {
        if to_b {
            (40_000, server)
        } else {
            (server, 40_000)
        }
    };
    let ip_type: u16 = if inner[0] >> 4 == 6 { 0x86dd } else { 0x0800 };
    match kind {
        Kind::Vxlan => {
            let mut p = vec![0x08, 0, 0, 0, 0, 0x01, 0x2c, 0];
            p.extend_from_slice(&ethernet(to_b, inner));
            // Both directions to the VXLAN port, as endpoints send.
            (17, udp(if to_b { 40_000 } else { 40_001 }, 4789, &p))
        }
        Kind::Geneve => {
            let mut p = vec![0, 0, 0x65, 0x58, 0, 0x02, 0x2d, 0];
            p.extend_from_slice(&ethernet(to_b, inner));
            (17, udp(if to_b { 40_000 } else { 40_001 }, 6081, &p))
        }
        Kind::GtpU => {
            let teid: u32 = if to_b { 0x1111 } else { 0x2222 };
            let mut p = vec![0x30, 0xff];
            p.extend_from_slice(&(inner.len() as u16).to_be_bytes());
            p.extend_from_slice(&teid.to_be_bytes());
            p.extend_from_slice(inner);
            (17, udp(2152, 2152, &p))
        }
        Kind::Gre => {
            let mut g = vec![0, 0];
            g.extend_from_slice(&ip_type.to_be_bytes());
            g.extend_from_slice(inner);
            (47, g)
        }
        Kind::GreKey => {
            let mut g = vec![0x20, 0];
            g.extend_from_slice(&ip_type.to_be_bytes());
            g.extend_from_slice(&[0, 0, 0x30, 0x39]);
            g.extend_from_slice(inner);
            (47, g)
        }
        Kind::GreEthernet => {
            let mut g = vec![0, 0, 0x65, 0x58];
            g.extend_from_slice(&ethernet(to_b, inner));
            (47, g)
        }
        Kind::Erspan => {
            // GRE with a sequence number, ERSPAN type II (version 1,
            // session 7), the mirrored Ethernet frame.
            let mut g = vec![0x10, 0, 0x88, 0xbe, 0, 0, 0, 1];
            g.extend_from_slice(&[0x10, 0, 0, 7, 0, 0, 0, 0]);
            g.extend_from_slice(&ethernet(to_b, inner));
            (47, g)
        }
        Kind::Pptp => {
            // Enhanced GRE (version 1, key = payload length + call id),
            // PPP with address and control.
            let call: u16 = if to_b { 0x0101 } else { 0x0202 };
            let ppp_proto: u16 = if ip_type == 0x86dd { 0x0057 } else { 0x0021 };
            let mut ppp = vec![0xff, 0x03];
            ppp.extend_from_slice(&ppp_proto.to_be_bytes());
            ppp.extend_from_slice(inner);
            let mut g = vec![0x20, 0x01, 0x88, 0x0b];
            g.extend_from_slice(&(ppp.len() as u16).to_be_bytes());
            g.extend_from_slice(&call.to_be_bytes());
            g.extend_from_slice(&ppp);
            (47, g)
        }
        Kind::L2tp => {
            let ppp_proto: u16 = if ip_type == 0x86dd { 0x0057 } else { 0x0021 };
            let mut p = vec![0x00, 0x02, 0, 5, 0, 9, 0xff, 0x03];
            p.extend_from_slice(&ppp_proto.to_be_bytes());
            p.extend_from_slice(inner);
            (17, udp(1701, 1701, &p))
        }
        Kind::IpInIp => (if ip_type == 0x86dd { 41 } else { 4 }, inner.to_vec()),
        Kind::Teredo => {
            let (s, d) = ports(3544);
            (17, udp(s, d, inner))
        }
    }
}

/// The outer datagram from `src` to `dst` carrying `payload` (protocol
/// `proto`), as frames: whole when it fits in one fragment, else cut in
/// `CHUNK`-byte fragments sent in `order`.
fn outer_frames(
    src: &[u8],
    dst: &[u8],
    proto: u8,
    ident: u16,
    order: Order,
    payload: &[u8],
    to_b: bool,
) -> Vec<Vec<u8>> {
    let frame = |packet: Vec<u8>| ethernet(to_b, &packet);
    if payload.len() <= CHUNK {
        return vec![frame(ip(src, dst, proto, ident, payload))];
    }
    let mut pieces: Vec<(usize, usize)> = (0..payload.len())
        .step_by(CHUNK)
        .map(|at| (at, (at + CHUNK).min(payload.len())))
        .collect();
    match order {
        Order::Cut => {}
        Order::Reversed => pieces.reverse(),
        Order::Duplicated => pieces = pieces.iter().flat_map(|&p| [p, p]).collect(),
        Order::LastFirst => pieces.rotate_right(1),
        Order::Overlapping => pieces[1].0 -= 8,
    }
    pieces
        .into_iter()
        .map(|(from, to)| {
            let more = to < payload.len();
            let data = &payload[from..to];
            let p = if src.len() == 4 {
                let flags = (from / 8) as u16 | if more { 0x2000 } else { 0 };
                let mut p = ip(src, dst, 0xfd, ident, data);
                p[6..8].copy_from_slice(&flags.to_be_bytes());
                p[9] = proto;
                p[10..12].copy_from_slice(&[0, 0]);
                let c = fold(sum16(&p[..20]));
                p[10..12].copy_from_slice(&c.to_be_bytes());
                p
            } else {
                let mut fh = vec![proto, 0];
                fh.extend_from_slice(&((from as u16) | u16::from(more)).to_be_bytes());
                fh.extend_from_slice(&u32::from(ident).to_be_bytes());
                fh.extend_from_slice(data);
                ip(src, dst, 44, 0, &fh)
            };
            frame(p)
        })
        .collect()
}

/// One inner conversation per order: an HTTP exchange over TCP and a DNS
/// query and answer, each inner packet tunnelled and its outer datagram
/// fragmented in that order. Inner addresses differ per conversation; the
/// outer pair is one for the whole capture.
fn write_trace(path: &Path, kind: Kind, outer_v6: bool, inner_v6: bool) {
    write_trace_after(path, kind, outer_v6, inner_v6, None);
}

/// [`write_trace`], after one unrelated datagram stamped `first` seconds
/// after the conversations when given (so the capture's clock steps back).
fn write_trace_after(path: &Path, kind: Kind, outer_v6: bool, inner_v6: bool, first: Option<u64>) {
    let mut w = PcapWriter::new(
        std::fs::File::create(path).unwrap(),
        flowscope_engine::LinkType::ETHERNET,
        65535,
        PcapPrecision::Micros,
    )
    .unwrap();
    let (oa, ob): (Vec<u8>, Vec<u8>) = if outer_v6 {
        (
            [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1].to_vec(),
            [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2].to_vec(),
        )
    } else {
        (vec![198, 51, 100, 1], vec![198, 51, 100, 2])
    };
    let mut t = 1_700_000_000_000_000u64;
    let mut ident = 100u16;
    if let Some(ahead) = first {
        let lone = ip(&[192, 0, 2, 1], &[192, 0, 2, 2], 17, 1, &udp(1, 2, b"x"));
        let at = flowscope_engine::Timestamp::from_micros(t + ahead * 1_000_000);
        w.write_packet(at, &ethernet(true, &lone)).unwrap();
    }
    for (n, &order) in ORDERS.iter().enumerate() {
        let n = n as u8;
        let (client, server): (Vec<u8>, Vec<u8>) = if inner_v6 {
            (
                [0x20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 1 + n].to_vec(),
                [0x20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 1 + n].to_vec(),
            )
        } else {
            (vec![10, 10, n, 1], vec![10, 20, n, 2])
        };
        let request = format!(
            "GET /order-{n} HTTP/1.1\r\nHost: tunnel.example\r\nX-Pad: {}\r\n\r\n",
            "p".repeat(300)
        );
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: 400\r\nContent-Type: text/plain\r\n\r\n{}",
            "r".repeat(400)
        );
        let (c, s) = (4_000u32, 9_000u32);
        let (rq, rs) = (request.len() as u32, response.len() as u32);
        let sport = 50_000 + u16::from(n);
        let mut dns = vec![0x12, n, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in ["a-fairly-long-label-for-fragments", "tunnel", "example"] {
            dns.push(label.len() as u8);
            dns.extend_from_slice(label.as_bytes());
        }
        dns.extend_from_slice(&[0, 0, 1, 0, 1]);
        let mut answer = dns.clone();
        answer[2] = 0x81;
        answer[3] = 0x80;
        answer[7] = 1;
        answer.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]);
        // (from client, inner transport packet)
        let packets: Vec<(bool, u8, Vec<u8>)> = vec![
            (true, 6, tcp(sport, 80, c, 0, 0x02, &[])),
            (false, 6, tcp(80, sport, s, c + 1, 0x12, &[])),
            (true, 6, tcp(sport, 80, c + 1, s + 1, 0x10, &[])),
            (
                true,
                6,
                tcp(sport, 80, c + 1, s + 1, 0x18, request.as_bytes()),
            ),
            (false, 6, tcp(80, sport, s + 1, c + 1 + rq, 0x10, &[])),
            (
                false,
                6,
                tcp(80, sport, s + 1, c + 1 + rq, 0x18, response.as_bytes()),
            ),
            (true, 6, tcp(sport, 80, c + 1 + rq, s + 1 + rs, 0x11, &[])),
            (false, 6, tcp(80, sport, s + 1 + rs, c + 2 + rq, 0x11, &[])),
            (true, 6, tcp(sport, 80, c + 2 + rq, s + 2 + rs, 0x10, &[])),
            (true, 17, udp(sport, 53, &dns)),
            (false, 17, udp(53, sport, &answer)),
        ];
        for (from_client, proto, l4) in packets {
            let inner = if from_client {
                ip(&client, &server, proto, 7, &l4)
            } else {
                ip(&server, &client, proto, 7, &l4)
            };
            let to_b = from_client;
            let (oproto, payload) = encapsulate(kind, to_b, &inner);
            let (src, dst) = if to_b { (&oa, &ob) } else { (&ob, &oa) };
            ident += 1;
            for f in outer_frames(src, dst, oproto, ident, order, &payload, to_b) {
                t += 1_000;
                w.write_packet(flowscope_engine::Timestamp::from_micros(t), &f)
                    .unwrap();
            }
        }
    }
    w.into_inner().unwrap();
}

fn replay(trace: &Path, shards: usize) -> Vec<u8> {
    replay_with(trace, shards, &[])
}

fn replay_with(trace: &Path, shards: usize, extra: &[&std::ffi::OsStr]) -> Vec<u8> {
    let out = bin()
        .args(["replay", "-q", "--shards", &shards.to_string()])
        .args(extra)
        .arg(trace)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        trace.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every tunnel kind over fragmented IPv4 and IPv6 (Teredo: IPv4 only),
/// inner IPv4 and IPv6 for IP-in-IP: byte-identical output for
/// `--shards 0, 1, 2, 3, 4, 8`, and each inner conversation whole unless
/// its fragments overlapped.
#[test]
fn fragmented_tunnels_give_the_same_bytes_for_every_shard_count() {
    let dir = tmpdir("frag-tunnels");
    let mut cases = Vec::new();
    for kind in KINDS {
        for outer_v6 in [false, true] {
            if matches!(kind, Kind::Teredo) && outer_v6 {
                continue;
            }
            let inners: &[bool] = match kind {
                Kind::Teredo => &[true],
                Kind::IpInIp => &[false, true],
                _ => &[false],
            };
            for &inner_v6 in inners {
                cases.push((kind, outer_v6, inner_v6));
            }
        }
    }
    for (kind, outer_v6, inner_v6) in cases {
        let name = format!(
            "{kind:?}-outer{}-inner{}.pcap",
            if outer_v6 { 6 } else { 4 },
            if inner_v6 { 6 } else { 4 }
        );
        let trace = dir.join(&name);
        write_trace(&trace, kind, outer_v6, inner_v6);
        let reference = replay(&trace, 0);
        for shards in [1, 2, 3, 4, 8] {
            let got = replay(&trace, shards);
            assert!(
                got == reference,
                "{name}: --shards {shards} differs from --shards 0"
            );
        }
        let recs = records(&reference);
        let of = |t: &str| {
            recs.iter()
                .filter(move |r| r["event_type"] == t)
                .collect::<Vec<_>>()
        };
        // Every conversation but the overlapping one: one TCP flow in the
        // tunnel, its request and answer parsed, no gap; the DNS exchange
        // answered.
        let tcp_flows: Vec<_> = of("flow")
            .into_iter()
            .filter(|r| r["proto"] == "TCP")
            .collect();
        let https = of("http");
        for (n, order) in ORDERS.iter().enumerate() {
            let url = format!("/order-{n}");
            let http = https.iter().find(|r| r["http"]["url"] == url.as_str());
            if *order == Order::Overlapping {
                continue;
            }
            let http = http.unwrap_or_else(|| panic!("{name}: no http record for {url}"));
            assert_eq!(http["http"]["status"], 200, "{name} {url}");
            assert_eq!(http["http"]["length"], 400, "{name} {url}");
            assert!(
                http["http"].get("gap_bytes").is_none(),
                "{name} {url}: {http}"
            );
            let port = 50_000 + n as u64;
            let flows: Vec<_> = tcp_flows
                .iter()
                .filter(|r| r["src_port"] == port || r["dest_port"] == port)
                .collect();
            assert_eq!(flows.len(), 1, "{name} {url}: {flows:?}");
            let flow = flows[0];
            assert!(flow["tunnel"].is_object(), "{name} {url}: {flow}");
            assert_eq!(flow["flow"]["conn_state"], "SF", "{name} {url}: {flow}");
            assert_eq!(flow["flow"]["history"], "ShADadFf", "{name} {url}: {flow}");
        }
        let answered = of("dns")
            .iter()
            .filter(|r| r["dns"]["type"] == "answer")
            .count();
        assert_eq!(answered, ORDERS.len() - 1, "{name}: DNS answers");
        let overlaps = of("anomaly")
            .iter()
            .filter(|r| r.to_string().contains("defrag.overlap"))
            .count();
        assert!(
            overlaps > 0,
            "{name}: the overlapping datagrams are reported"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A capture whose clock steps back ten hours before the fragmented
/// tunnels, with timers fired after every packet: a datagram's timeout
/// counts from the packet clock at its first fragment, so every datagram
/// still completes (no `defrag.timeout`), and the output is the same for
/// every shard count (the pipeline's ingest reassembles on the same clock
/// as an inline engine).
#[test]
fn fragments_read_after_the_clock_steps_back_complete_for_every_shard_count() {
    let dir = tmpdir("frag-step-back");
    let trace = dir.join("vxlan-step-back.pcap");
    write_trace_after(&trace, Kind::Vxlan, false, false, Some(36_000));
    let config = dir.join("epochs.toml");
    std::fs::write(&config, "[pipeline]\nepoch_packets = 1\n").unwrap();
    let args = ["-c".as_ref(), config.as_os_str()];
    let reference = replay_with(&trace, 0, &args);
    for shards in [1, 2, 4] {
        assert!(
            replay_with(&trace, shards, &args) == reference,
            "--shards {shards} differs from --shards 0"
        );
    }
    let recs = records(&reference);
    let text = String::from_utf8_lossy(&reference);
    assert!(!text.contains("defrag.timeout"), "{text}");
    for (n, order) in ORDERS.iter().enumerate() {
        if *order == Order::Overlapping {
            continue;
        }
        let url = format!("/order-{n}");
        assert!(
            recs.iter()
                .any(|r| r["event_type"] == "http" && r["http"]["url"] == url.as_str()),
            "no http record for {url}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
