//! The bundled demo capture, and the code that generates it.
//!
//! `flowscope replay` with no file replays [`DEMO_PCAP`]: a small, fully
//! synthetic capture (documentation addresses only) that shows what the
//! engine reports — an HTTP exchange with a clean close, DNS over UDP, a
//! reset connection, a rejected IPv6 attempt, an unanswered SYN, ICMP echo,
//! VLAN tagging, a VXLAN-tunnelled flow, a fragmented datagram, an idle
//! timeout, a malformed packet and a non-IP frame. `demo_capture()` rebuilds
//! it byte for byte; `cargo run -p flowscope-io --example make-demo`
//! rewrites the file, and a test keeps the two in step.

use crate::pcap_writer::{PcapPrecision, PcapWriter};
use flowscope_engine::{LinkType, Timestamp};

/// The bundled demo capture.
pub static DEMO_PCAP: &[u8] = include_bytes!("../demo/demo.pcap");

/// Name under which the demo appears in messages.
pub const DEMO_NAME: &str = "<bundled demo.pcap>";

const CLIENT: [u8; 4] = [192, 0, 2, 10];
const WEB: [u8; 4] = [198, 51, 100, 80];
const RESOLVER: [u8; 4] = [192, 0, 2, 53];
const TLS: [u8; 4] = [203, 0, 113, 43];
const CLIENT6: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];
const SERVER6: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22,
];
const MAC_C: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x10];
const MAC_R: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01];

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// The Internet checksum over `chunks` laid end to end (every chunk but the
/// last has even length here: headers and the 12-byte pseudo-header).
fn checksum(chunks: &[&[u8]]) -> u16 {
    flowscope_engine::unstable::internet_checksum(&chunks.concat())
}

/// An IPv4 header + payload, checksum filled in.
fn ipv4(
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    ident: u16,
    frag_field: u16,
    payload: &[u8],
) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&ident.to_be_bytes());
    h.extend_from_slice(&frag_field.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let c = checksum(&[&h]);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

fn ipv6(src: [u8; 16], dst: [u8; 16], next: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(payload);
    h
}

fn pseudo4(src: [u8; 4], dst: [u8; 4], proto: u8, len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(12);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&[0, proto]);
    p.extend_from_slice(&(len as u16).to_be_bytes());
    p
}

fn pseudo6(src: [u8; 16], dst: [u8; 16], proto: u8, len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(40);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&(len as u32).to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, proto]);
    p
}

fn tcp_segment(
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
    pseudo: &[u8],
) -> Vec<u8> {
    let mut t = Vec::with_capacity(20 + payload.len());
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    let c = checksum(&[pseudo, &t]);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    t
}

fn udp_datagram(sport: u16, dport: u16, payload: &[u8], pseudo: &[u8]) -> Vec<u8> {
    let len = (8 + payload.len()) as u16;
    let mut u = Vec::with_capacity(usize::from(len));
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&len.to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    let c = checksum(&[pseudo, &u]);
    u[6..8].copy_from_slice(&c.to_be_bytes());
    u
}

fn ether(src: [u8; 6], dst: [u8; 6], vlan: Option<u16>, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(18 + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    if let Some(id) = vlan {
        f.extend_from_slice(&[0x81, 0x00]);
        f.extend_from_slice(&id.to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Builder of the demo's packet list.
struct Demo {
    packets: Vec<(Timestamp, Vec<u8>)>,
}

impl Demo {
    fn at(&mut self, secs: f64, frame: Vec<u8>) {
        let ts =
            Timestamp::from_nanos(1_700_000_000_000_000_000 + (secs * 1e6).round() as u64 * 1000);
        self.packets.push((ts, frame));
    }

    /// One TCP segment of the connection `ends` (client, client port,
    /// server, server port); `seg` is (seq, ack, flags).
    fn tcp4(
        &mut self,
        t: f64,
        c2s: bool,
        ends: ([u8; 4], u16, [u8; 4], u16),
        seg: (u32, u32, u8),
        payload: &[u8],
    ) {
        let (c, cp, s, sp) = ends;
        let (src, sport, dst, dport) = if c2s { (c, cp, s, sp) } else { (s, sp, c, cp) };
        let (seq, ack, flags) = seg;
        let seg = tcp_segment(
            sport,
            dport,
            seq,
            ack,
            flags,
            payload,
            &pseudo4(src, dst, 6, 20 + payload.len()),
        );
        let (ms, md) = if c2s { (MAC_C, MAC_R) } else { (MAC_R, MAC_C) };
        self.at(
            t,
            ether(ms, md, None, 0x0800, &ipv4(src, dst, 6, 1, 0x4000, &seg)),
        );
    }

    fn udp4(
        &mut self,
        t: f64,
        vlan: Option<u16>,
        src: ([u8; 4], u16),
        dst: ([u8; 4], u16),
        payload: &[u8],
    ) -> Vec<u8> {
        let dgram = udp_datagram(
            src.1,
            dst.1,
            payload,
            &pseudo4(src.0, dst.0, 17, 8 + payload.len()),
        );
        let frame = ether(
            MAC_C,
            MAC_R,
            vlan,
            0x0800,
            &ipv4(src.0, dst.0, 17, 2, 0, &dgram),
        );
        self.at(t, frame.clone());
        frame
    }
}

fn dns_query(id: u16, name: &[&str]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    m
}

fn dns_answer(id: u16, name: &[&str], addr: [u8; 4]) -> Vec<u8> {
    let mut m = dns_query(id, name);
    m[2] = 0x81;
    m[3] = 0x80;
    m[7] = 1;
    m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
    m.extend_from_slice(&addr);
    m
}

/// Builds the demo capture's bytes (classic pcap, Ethernet, microseconds).
pub fn demo_capture() -> Vec<u8> {
    let mut d = Demo {
        packets: Vec::new(),
    };
    let web = (CLIENT, 51000, WEB, 80);

    // 1. DNS lookup, then an HTTP/1.1 exchange with a clean close.
    d.udp4(
        0.000,
        None,
        (CLIENT, 53001),
        (RESOLVER, 53),
        &dns_query(0x1a2b, &["www", "example", "com"]),
    );
    d.udp4(
        0.012,
        None,
        (RESOLVER, 53),
        (CLIENT, 53001),
        &dns_answer(0x1a2b, &["www", "example", "com"], WEB),
    );
    let req = b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: flowscope-demo\r\nAccept: */*\r\n\r\n";
    let body = b"<html><body>hello from the flowscope demo</body></html>\n";
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    resp.extend_from_slice(body);
    let (cs, ss) = (1000u32, 5000u32);
    d.tcp4(0.020, true, web, (cs, 0, SYN), b"");
    d.tcp4(0.045, false, web, (ss, cs + 1, SYN | ACK), b"");
    d.tcp4(0.046, true, web, (cs + 1, ss + 1, ACK), b"");
    d.tcp4(0.047, true, web, (cs + 1, ss + 1, PSH | ACK), req);
    let c2 = cs + 1 + req.len() as u32;
    d.tcp4(0.071, false, web, (ss + 1, c2, ACK), b"");
    d.tcp4(0.072, false, web, (ss + 1, c2, PSH | ACK), &resp);
    let s2 = ss + 1 + resp.len() as u32;
    d.tcp4(0.073, true, web, (c2, s2, ACK), b"");
    d.tcp4(0.080, true, web, (c2, s2, FIN | ACK), b"");
    d.tcp4(0.104, false, web, (s2, c2 + 1, FIN | ACK), b"");
    d.tcp4(0.105, true, web, (c2 + 1, s2 + 1, ACK), b"");

    // 2. A TLS-port connection the client aborts with a RST.
    let tls = (CLIENT, 51002, TLS, 443);
    d.tcp4(0.200, true, tls, (70, 0, SYN), b"");
    d.tcp4(0.230, false, tls, (900, 71, SYN | ACK), b"");
    d.tcp4(0.231, true, tls, (71, 901, ACK), b"");
    let record = [0x17, 0x03, 0x03, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef];
    d.tcp4(0.232, true, tls, (71, 901, PSH | ACK), &record);
    d.tcp4(0.260, true, tls, (80, 901, RST | ACK), b"");

    // 3. An IPv6 connection attempt refused with a RST.
    let seg = tcp_segment(
        51004,
        8080,
        1,
        0,
        SYN,
        b"",
        &pseudo6(CLIENT6, SERVER6, 6, 20),
    );
    d.at(
        0.300,
        ether(MAC_C, MAC_R, None, 0x86dd, &ipv6(CLIENT6, SERVER6, 6, &seg)),
    );
    let seg = tcp_segment(
        8080,
        51004,
        0,
        2,
        RST | ACK,
        b"",
        &pseudo6(SERVER6, CLIENT6, 6, 20),
    );
    d.at(
        0.301,
        ether(MAC_R, MAC_C, None, 0x86dd, &ipv6(SERVER6, CLIENT6, 6, &seg)),
    );

    // 4. A SYN nobody answers.
    d.tcp4(
        0.400,
        true,
        (CLIENT, 51006, [198, 51, 100, 99], 22),
        (5, 0, SYN),
        b"",
    );

    // 5. ICMP echo request and reply.
    let mut echo = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1];
    echo.extend_from_slice(b"flowscope");
    let c = checksum(&[&echo]);
    echo[2..4].copy_from_slice(&c.to_be_bytes());
    d.at(
        0.500,
        ether(
            MAC_C,
            MAC_R,
            None,
            0x0800,
            &ipv4(CLIENT, WEB, 1, 3, 0, &echo),
        ),
    );
    let mut reply = echo.clone();
    reply[0] = 0;
    reply[2] = 0;
    reply[3] = 0;
    let c = checksum(&[&reply]);
    reply[2..4].copy_from_slice(&c.to_be_bytes());
    d.at(
        0.510,
        ether(
            MAC_R,
            MAC_C,
            None,
            0x0800,
            &ipv4(WEB, CLIENT, 1, 4, 0, &reply),
        ),
    );

    // 6. NTP on VLAN 42.
    let ntp = [0x23u8; 48];
    d.udp4(
        0.600,
        Some(42),
        (CLIENT, 123),
        ([192, 0, 2, 123], 123),
        &ntp,
    );
    d.udp4(
        0.640,
        Some(42),
        ([192, 0, 2, 123], 123),
        (CLIENT, 123),
        &ntp,
    );

    // 7. An HTTP request carried in VXLAN (VNI 4242).
    let inner_ends = ([10, 10, 0, 5], 40001, [10, 10, 0, 6], 80);
    let inner_req = b"GET /inside-the-tunnel HTTP/1.1\r\nHost: inner.example\r\n\r\n";
    let vtep = ([192, 0, 2, 200], 49152u16, [192, 0, 2, 201], 4789u16);
    for (t, c2s, seq, ack, flags, payload) in [
        (0.700, true, 1u32, 0u32, SYN, &b""[..]),
        (0.701, false, 9, 2, SYN | ACK, b""),
        (0.702, true, 2, 10, ACK, b""),
        (0.703, true, 2, 10, PSH | ACK, inner_req),
    ] {
        let (src, sport, dst, dport) = if c2s {
            inner_ends
        } else {
            (inner_ends.2, inner_ends.3, inner_ends.0, inner_ends.1)
        };
        let seg = tcp_segment(
            sport,
            dport,
            seq,
            ack,
            flags,
            payload,
            &pseudo4(src, dst, 6, 20 + payload.len()),
        );
        let inner = ether(
            [0x02, 0, 0, 0, 0, 5],
            [0x02, 0, 0, 0, 0, 6],
            None,
            0x0800,
            &ipv4(src, dst, 6, 7, 0x4000, &seg),
        );
        let mut vx = vec![0x08, 0, 0, 0];
        vx.extend_from_slice(&(4242u32 << 8).to_be_bytes());
        vx.extend_from_slice(&inner);
        let outer = udp_datagram(
            vtep.1,
            vtep.3,
            &vx,
            &pseudo4(vtep.0, vtep.2, 17, 8 + vx.len()),
        );
        d.at(
            t,
            ether(
                MAC_C,
                MAC_R,
                None,
                0x0800,
                &ipv4(vtep.0, vtep.2, 17, 8, 0, &outer),
            ),
        );
    }

    // 8. A UDP datagram in three fragments, sent last fragment first.
    let big: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let dgram = udp_datagram(40000, 9999, &big, &pseudo4(CLIENT, WEB, 17, 8 + big.len()));
    let mut frags = Vec::new();
    for (off, chunk) in dgram.chunks(1480).enumerate() {
        let offset = off * 1480;
        let more = offset + chunk.len() < dgram.len();
        let field = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
        frags.push(ether(
            MAC_C,
            MAC_R,
            None,
            0x0800,
            &ipv4(CLIENT, WEB, 17, 0xbeef, field, chunk),
        ));
    }
    for (i, f) in frags.into_iter().rev().enumerate() {
        d.at(0.800 + 0.001 * i as f64, f);
    }

    // 9. A malformed packet: an IPv4 header that claims 24 bytes of options
    //    in a 22-byte packet, and an ARP request (not IP, counted).
    d.at(
        0.900,
        ether(
            MAC_C,
            MAC_R,
            None,
            0x0800,
            &[
                0x4b, 0, 0, 22, 0, 0, 0, 0, 64, 6, 0, 0, 192, 0, 2, 10, 198, 51, 100, 80, 0, 0,
            ],
        ),
    );
    let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 1];
    arp.extend_from_slice(&MAC_C);
    arp.extend_from_slice(&CLIENT);
    arp.extend_from_slice(&[0; 6]);
    arp.extend_from_slice(&RESOLVER);
    d.at(0.950, ether(MAC_C, [0xff; 6], None, 0x0806, &arp));

    // 10. Syslog sent once, then again 90 s later: two flows, the first
    //     ended by the 60 s UDP idle timeout.
    d.udp4(
        1.000,
        None,
        (CLIENT, 514),
        ([192, 0, 2, 14], 514),
        b"<13>demo: first message",
    );
    d.udp4(
        91.000,
        None,
        (CLIENT, 514),
        ([192, 0, 2, 14], 514),
        b"<13>demo: after a quiet spell",
    );

    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535, PcapPrecision::Micros)
        .expect("writing to memory cannot fail");
    for (ts, frame) in &d.packets {
        w.write_packet(*ts, frame)
            .expect("writing to memory cannot fail");
    }
    w.into_inner().expect("writing to memory cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_demo_is_what_the_generator_builds() {
        assert!(
            demo_capture() == DEMO_PCAP,
            "io/demo/demo.pcap is stale: run `cargo run -p flowscope-io --example make-demo`"
        );
    }

    #[test]
    fn checksums_verify() {
        let p = ipv4(CLIENT, WEB, 6, 1, 0, b"");
        assert_eq!(checksum(&[&p[..20]]), 0);
        let seg = tcp_segment(1, 2, 3, 4, SYN, b"abc", &pseudo4(CLIENT, WEB, 6, 23));
        assert_eq!(checksum(&[&pseudo4(CLIENT, WEB, 6, 23), &seg]), 0);
    }
}
