//! Application payloads of generated flows: HTTP/1.1 requests and
//! responses, TLS 1.2/1.3 handshakes and records, DNS queries and
//! responses, bulk and UDP filler. A message is rebuilt from (plan, index)
//! alone, so the script (which needs lengths) and the renderer (which needs
//! bytes) each build it when they need it; large payloads are `Fill`
//! parts, produced slice by slice without being held.

use super::plan::{FlowPlan, Kind, Sizes};
use super::rng::{Rng, fill, fill_random};

/// A piece of a message.
#[derive(Debug, Clone)]
pub enum Part {
    Bytes(Vec<u8>),
    /// `len` pseudo-random bytes from stream `seed`.
    Fill {
        len: u32,
        seed: u64,
    },
}

/// One application message (a request, a response, a handshake flight, a
/// datagram).
#[derive(Debug, Clone, Default)]
pub struct Message {
    pub parts: Vec<Part>,
}

impl Message {
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn len(&self) -> u64 {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Bytes(b) => b.len() as u64,
                Part::Fill { len, .. } => u64::from(*len),
            })
            .sum()
    }

    fn bytes(&mut self, b: impl Into<Vec<u8>>) {
        self.parts.push(Part::Bytes(b.into()));
    }

    /// `len` filler bytes (under 4 GB: `gen` caps sizes below that).
    fn fill(&mut self, len: u64, seed: u64) {
        if len > 0 {
            self.parts.push(Part::Fill {
                len: u32::try_from(len).unwrap_or(u32::MAX),
                seed,
            });
        }
    }

    /// Appends bytes `[off, off + len)` of the message to `out`.
    pub fn write_slice(&self, off: u64, len: u64, out: &mut Vec<u8>) {
        let (mut at, end) = (0u64, off + len);
        for p in &self.parts {
            let plen = match p {
                Part::Bytes(b) => b.len() as u64,
                Part::Fill { len, .. } => u64::from(*len),
            };
            let (lo, hi) = (off.max(at), end.min(at + plen));
            if lo < hi {
                let (a, b) = ((lo - at) as usize, (hi - at) as usize);
                match p {
                    Part::Bytes(bytes) => out.extend_from_slice(&bytes[a..b]),
                    Part::Fill { seed, .. } => {
                        let from = out.len();
                        out.resize(from + (b - a), 0);
                        fill(*seed, a as u64, &mut out[from..]);
                    }
                }
            }
            at += plen;
            if at >= end {
                break;
            }
        }
    }
}

const WORDS: &[&str] = &[
    "news", "shop", "media", "cdn", "api", "static", "mail", "video", "maps", "cloud", "docs",
    "games", "music", "photos", "search", "social", "bank", "travel", "weather", "sport",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "curl/8.5.0",
    "okhttp/4.12.0",
];
/// Paths and content types. Bodies are filler bytes, so only types that
/// dissectors leave alone are used (a `image/png` of random bytes would be
/// reported malformed by tshark).
const EXTENSIONS: &[(&str, &str)] = &[
    ("html", "text/html; charset=utf-8"),
    ("js", "text/javascript"),
    ("css", "text/css"),
    ("bin", "application/octet-stream"),
    ("woff2", "font/woff2"),
    ("dat", "application/octet-stream"),
];

/// The flow's server name: popular names are much more likely (Zipf-like).
pub fn host_name(plan: &FlowPlan) -> String {
    let mut r = Rng::new(plan.seed, 1, 0);
    let rank = r.pareto(1.0, 1.1, 5000.0) as u64;
    let word = WORDS[(rank % WORDS.len() as u64) as usize];
    let sub = ["www", "api", "img", "m", "cdn"][(rank / 7 % 5) as usize];
    format!("{sub}.{word}{rank}.example")
}

/// Message `m` of the flow.
pub fn message(plan: &FlowPlan, m: u32, sizes: &Sizes) -> Message {
    match plan.kind {
        Kind::Http => {
            if m.is_multiple_of(2) {
                http_request(plan, m / 2)
            } else {
                http_response(plan, m / 2, sizes)
            }
        }
        Kind::Tls => tls_message(plan, m, sizes),
        Kind::DnsUdp | Kind::DnsTcp => {
            let mut msg = if m.is_multiple_of(2) {
                dns_query(plan, m / 2)
            } else {
                dns_response(plan, m / 2)
            };
            if plan.kind == Kind::DnsTcp {
                let len = msg.len() as u16;
                msg.parts.insert(0, Part::Bytes(len.to_be_bytes().to_vec()));
            }
            msg
        }
        Kind::Bulk => {
            let mut r = Rng::new(plan.seed, 20, 0);
            let big = r.pareto(64_000.0, 1.1, sizes.max_bulk) as u64;
            let mut msg = Message::default();
            // Upload: message 0 is the data; download: a small request,
            // then the data.
            let len = if plan.upload || m == 1 {
                big
            } else {
                r.range(40, 200)
            };
            msg.fill(len, plan.seed ^ u64::from(m).wrapping_mul(0x51_7cc1));
            msg
        }
        Kind::Udp => {
            let mut r = Rng::new(plan.seed, 30, u64::from(m));
            // IMIX-like: mostly small, some medium, few near the MTU.
            let len = match r.below(12) {
                0..=6 => r.range(18, 80),
                7..=10 => r.range(300, 576),
                _ => r.range(1000, 1400),
            };
            let mut msg = Message::default();
            // A first byte 0x40-0x7f (not RTP/RTCP version 2; as a length
            // prefix, over a gigabyte), zero second and fifth bytes (not a
            // CLTP data unit, not a framed Thrift message), so the
            // heuristics of dissectors leave the noise alone.
            let w = r.u16().to_be_bytes();
            msg.bytes(vec![0x40 | (r.u64() & 0x3f) as u8, 0, w[0], w[1], 0]);
            msg.fill(len - 5, plan.seed ^ (0x7700 + u64::from(m)));
            msg
        }
        Kind::SynFlood => Message::default(),
    }
}

fn http_request(plan: &FlowPlan, j: u32) -> Message {
    let mut r = Rng::new(plan.seed, 10, u64::from(j));
    let post = r.chance(0.12);
    let (ext, _) = *r.pick(EXTENSIONS);
    let word = r.pick(WORDS);
    let id = r.below(100_000);
    let agent = AGENTS[(Rng::new(plan.seed, 2, 0).below(AGENTS.len() as u64)) as usize];
    let host = host_name(plan);
    let mut head = format!(
        "{} /{word}/{id}.{ext} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {agent}\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n",
        if post { "POST" } else { "GET" }
    );
    let mut msg = Message::default();
    if post {
        let body = r.pareto(100.0, 1.5, 64_000.0) as u64;
        head.push_str(&format!(
            "Content-Type: application/octet-stream\r\nContent-Length: {body}\r\n\r\n"
        ));
        msg.bytes(head);
        msg.fill(body, plan.seed ^ 0x1000 ^ u64::from(j));
    } else {
        head.push_str("\r\n");
        msg.bytes(head);
    }
    msg
}

fn http_response(plan: &FlowPlan, j: u32, sizes: &Sizes) -> Message {
    let mut r = Rng::new(plan.seed, 11, u64::from(j));
    let roll = r.below(100);
    let (status, reason) = match roll {
        0..=2 => (304, "Not Modified"),
        3..=6 => (404, "Not Found"),
        _ => (200, "OK"),
    };
    let (_, ctype) = *r.pick(EXTENSIONS);
    let body = match status {
        304 => 0,
        404 => r.range(100, 400),
        _ => r.pareto(400.0, 1.2, sizes.max_object) as u64,
    };
    let chunked = status == 200 && r.chance(0.2);
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nServer: nginx/1.24.0\r\nDate: Thu, 26 Nov 2026 12:00:00 GMT\r\nContent-Type: {ctype}\r\nConnection: keep-alive\r\n"
    );
    let mut msg = Message::default();
    let seed = plan.seed ^ 0x2000 ^ u64::from(j);
    if chunked {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
        msg.bytes(head);
        let (mut left, mut k) = (body, 0u64);
        while left > 0 {
            let n = left.min(r.range(1024, 16384));
            msg.bytes(format!("{n:x}\r\n"));
            msg.fill(n, seed.wrapping_add(k << 20));
            msg.bytes(&b"\r\n"[..]);
            left -= n;
            k += 1;
        }
        msg.bytes(&b"0\r\n\r\n"[..]);
    } else {
        if status != 304 {
            head.push_str(&format!("Content-Length: {body}\r\n"));
        }
        head.push_str("\r\n");
        msg.bytes(head);
        msg.fill(body, seed);
    }
    msg
}

/// A self-signed P-256 certificate (CN server.bench.example, SAN
/// server.bench.example and *.bench.example, serial 0x5eed) made with
/// `openssl req -x509` for the generator's TLS 1.2 servers.
const CERT_DER_HEX: &str = concat!(
    "30820203308201a9a00302010202025eed300a06082a8648ce3d0403023046310b300906035504061302555331183016",
    "060355040a0c0f666c6f7773636f70652062656e6368311d301b06035504030c147365727665722e62656e63682e6578",
    "616d706c65301e170d3236313132363132313333375a170d3336313132333132313333375a3046310b30090603550406",
    "1302555331183016060355040a0c0f666c6f7773636f70652062656e6368311d301b06035504030c147365727665722e",
    "62656e63682e6578616d706c653059301306072a8648ce3d020106082a8648ce3d030107034200042a7a4c92d03ccfc0",
    "e6251525cef554c4f690bd5ffea59a442b99b06e20bb1a1d859f425d5cfff7e96eb18bb4378dff87ff32d92ec93c3bdd",
    "2cec6366e3d42be7a38186308183301d0603551d0e0416041497d09acb34b5e86b5ca41e2641f72a18bd8e521b301f06",
    "03551d2304183016801497d09acb34b5e86b5ca41e2641f72a18bd8e521b300f0603551d130101ff040530030101ff30",
    "300603551d110429302782147365727665722e62656e63682e6578616d706c65820f2a2e62656e63682e6578616d706c",
    "65300a06082a8648ce3d04030203480030450221009ab6dc1b9e9d88003b376d3731e22da45cd044758050b8f019dab6",
    "13be6c7db40220347e4fd75959edd176e59da0db95d60e8bbcda6660debdf48167004d14923c98",
);

fn cert_der() -> Vec<u8> {
    (0..CERT_DER_HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&CERT_DER_HEX[i..i + 2], 16).unwrap_or(0))
        .collect()
}

fn u16_len(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

fn ext(ty: u16, data: &[u8]) -> Vec<u8> {
    let mut v = ty.to_be_bytes().to_vec();
    v.extend_from_slice(&u16_len(data));
    v
}

/// A handshake message (type, 24-bit length, body).
fn handshake(ty: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len() as u32;
    let mut v = vec![ty, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    v.extend_from_slice(body);
    v
}

/// One TLS record.
fn record(ty: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ty];
    v.extend_from_slice(&version.to_be_bytes());
    v.extend_from_slice(&u16_len(body));
    v
}

/// Appends records of type `ty` carrying `len` filler bytes (≤ 16 KiB each).
fn fill_records(msg: &mut Message, ty: u8, len: u64, seed: u64) {
    let (mut left, mut k) = (len.max(1), 0u64);
    while left > 0 {
        let n = left.min(16_384);
        let mut hdr = vec![ty, 3, 3];
        hdr.extend_from_slice(&(n as u16).to_be_bytes());
        msg.bytes(hdr);
        msg.fill(n, seed.wrapping_add(k << 24));
        left -= n;
        k += 1;
    }
}

/// A hello's version, random and 32-byte session id.
fn hello_start(r: &mut Rng) -> Vec<u8> {
    let mut b = vec![3, 3];
    let mut random = [0u8; 32];
    fill_random(r.u64(), 0, &mut random);
    b.extend_from_slice(&random);
    b.push(32);
    let mut sid = [0u8; 32];
    fill_random(r.u64(), 0, &mut sid);
    b.extend_from_slice(&sid);
    b
}

/// A key_share entry: x25519 and a 32-byte key.
fn x25519_share(r: &mut Rng) -> Vec<u8> {
    let mut share = vec![0, 0x1d, 0, 32];
    let mut key = [0u8; 32];
    fill_random(r.u64(), 0, &mut key);
    share.extend_from_slice(&key);
    share
}

fn client_hello(plan: &FlowPlan) -> Vec<u8> {
    let mut r = Rng::new(plan.seed, 40, 0);
    let mut b = hello_start(&mut r);
    let suites: &[u16] = &[
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
        0x009c, 0x009d, 0x002f, 0x0035,
    ];
    let s: Vec<u8> = suites.iter().flat_map(|x| x.to_be_bytes()).collect();
    b.extend_from_slice(&u16_len(&s));
    b.extend_from_slice(&[1, 0]);
    let host = host_name(plan);
    let mut sni = vec![0];
    sni.extend_from_slice(&u16_len(host.as_bytes()));
    let mut exts = ext(0, &u16_len(&sni));
    exts.extend(ext(23, &[]));
    exts.extend(ext(0xff01, &[0]));
    exts.extend(ext(10, &u16_len(&[0, 0x1d, 0, 0x17, 0, 0x18])));
    exts.extend(ext(11, &[1, 0]));
    exts.extend(ext(35, &[]));
    let alpn = [
        2, b'h', b'2', 8, b'h', b't', b't', b'p', b'/', b'1', b'.', b'1',
    ];
    exts.extend(ext(16, &u16_len(&alpn)));
    exts.extend(ext(
        13,
        &u16_len(&[4, 3, 8, 4, 4, 1, 5, 3, 8, 5, 5, 1, 6, 1]),
    ));
    let share = x25519_share(&mut r);
    exts.extend(ext(51, &u16_len(&share)));
    exts.extend(ext(45, &[1, 1]));
    exts.extend(ext(43, &[4, 3, 4, 3, 3]));
    b.extend_from_slice(&u16_len(&exts));
    record(22, 0x0301, &handshake(1, &b))
}

fn server_hello(plan: &FlowPlan) -> Vec<u8> {
    let mut r = Rng::new(plan.seed, 41, 0);
    let mut b = hello_start(&mut r);
    let mut exts = Vec::new();
    if plan.tls13 {
        b.extend_from_slice(&[0x13, 0x01, 0]);
        let share = x25519_share(&mut r);
        exts.extend(ext(51, &share));
        exts.extend(ext(43, &[3, 4]));
    } else {
        b.extend_from_slice(&[0xc0, 0x2f, 0]);
        exts.extend(ext(0xff01, &[0]));
        exts.extend(ext(11, &[1, 0]));
        exts.extend(ext(16, &u16_len(&[2, b'h', b'2'])));
        exts.extend(ext(23, &[]));
    }
    b.extend_from_slice(&u16_len(&exts));
    handshake(2, &b)
}

fn tls_message(plan: &FlowPlan, m: u32, sizes: &Sizes) -> Message {
    let mut msg = Message::default();
    let seed = plan.seed ^ 0x4000 ^ u64::from(m);
    let mut r = Rng::new(plan.seed, 42, u64::from(m));
    let first_app = if plan.tls13 { 3 } else { 4 };
    match m {
        0 => msg.bytes(client_hello(plan)),
        1 if plan.tls13 => {
            msg.bytes(record(22, 0x0303, &server_hello(plan)));
            msg.bytes(record(20, 0x0303, &[1]));
            // Encrypted extensions, certificate, verify, finished.
            fill_records(&mut msg, 23, r.range(900, 4000), seed);
        }
        1 => {
            let der = cert_der();
            let u24 = |n: usize| [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            let mut list = u24(der.len() + 3).to_vec();
            list.extend_from_slice(&u24(der.len()));
            list.extend_from_slice(&der);
            let mut flight = server_hello(plan);
            flight.extend(handshake(11, &list));
            // ECDHE params (x25519), then an ECDSA-SHA256 signature.
            let mut ske = vec![3, 0, 0x1d, 32];
            let mut key = [0u8; 32];
            fill_random(r.u64(), 0, &mut key);
            ske.extend_from_slice(&key);
            ske.extend_from_slice(&[4, 3, 0, 72]);
            let mut sig = [0u8; 72];
            fill_random(r.u64(), 0, &mut sig);
            ske.extend_from_slice(&sig);
            flight.extend(handshake(12, &ske));
            flight.extend(handshake(14, &[]));
            msg.bytes(record(22, 0x0303, &flight));
        }
        2 if plan.tls13 => {
            msg.bytes(record(20, 0x0303, &[1]));
            fill_records(&mut msg, 23, 53, seed);
        }
        2 => {
            let mut cke = vec![32];
            let mut key = [0u8; 32];
            fill_random(r.u64(), 0, &mut key);
            cke.extend_from_slice(&key);
            msg.bytes(record(22, 0x0303, &handshake(16, &cke)));
            msg.bytes(record(20, 0x0303, &[1]));
            fill_records(&mut msg, 22, 40, seed);
        }
        3 if !plan.tls13 => {
            msg.bytes(record(20, 0x0303, &[1]));
            fill_records(&mut msg, 22, 40, seed);
        }
        _ => {
            let k = m - first_app;
            let len = if k.is_multiple_of(2) {
                r.range(100, 700)
            } else {
                r.pareto(500.0, 1.2, sizes.max_object) as u64
            };
            fill_records(&mut msg, 23, len, seed);
        }
    }
    msg
}

/// DNS name in wire format.
fn dns_name(name: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for label in name.split('.').filter(|l| !l.is_empty()) {
        v.push(label.len() as u8);
        v.extend_from_slice(label.as_bytes());
    }
    v.push(0);
    v
}

/// (qtype, id) of query `j`.
fn dns_question(plan: &FlowPlan, j: u32) -> (u16, u16) {
    let mut r = Rng::new(plan.seed, 50, u64::from(j));
    let qtype = match r.below(20) {
        0..=11 => 1,
        12..=16 => 28,
        17 => 65,
        18 => 15,
        _ => 16,
    };
    (qtype, r.u16())
}

fn dns_header(id: u16, flags: u16, qd: u16, an: u16, ns: u16) -> Vec<u8> {
    let mut v = id.to_be_bytes().to_vec();
    for x in [flags, qd, an, ns, 0] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v
}

fn dns_query(plan: &FlowPlan, j: u32) -> Message {
    let (qtype, id) = dns_question(plan, j);
    let mut b = dns_header(id, 0x0100, 1, 0, 0);
    b.extend(dns_name(&host_name(plan)));
    b.extend_from_slice(&qtype.to_be_bytes());
    b.extend_from_slice(&[0, 1]);
    Message {
        parts: vec![Part::Bytes(b)],
    }
}

fn rr(name: &[u8], ty: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
    let mut v = name.to_vec();
    v.extend_from_slice(&ty.to_be_bytes());
    v.extend_from_slice(&[0, 1]);
    v.extend_from_slice(&ttl.to_be_bytes());
    v.extend_from_slice(&u16_len(rdata));
    v
}

fn dns_response(plan: &FlowPlan, j: u32) -> Message {
    let (qtype, id) = dns_question(plan, j);
    let mut r = Rng::new(plan.seed, 51, u64::from(j));
    let host = host_name(plan);
    let qname = dns_name(&host);
    let question = {
        let mut q = qname.clone();
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&[0, 1]);
        q
    };
    let ptr = [0xc0, 12];
    if r.chance(0.05) {
        // NXDOMAIN with the zone's SOA.
        let mut b = dns_header(id, 0x8183, 1, 0, 1);
        b.extend(question);
        let mut soa = dns_name("ns1.example");
        soa.extend(dns_name("hostmaster.example"));
        for x in [2026112601u32, 7200, 3600, 1209600, 300] {
            soa.extend_from_slice(&x.to_be_bytes());
        }
        b.extend(rr(&dns_name("example"), 6, 300, &soa));
        return Message {
            parts: vec![Part::Bytes(b)],
        };
    }
    let mut answers: Vec<Vec<u8>> = Vec::new();
    let mut owner = ptr.to_vec();
    if matches!(qtype, 1 | 28) && r.chance(0.2) {
        let target = dns_name(&format!("edge{}.cdn.example", r.below(50)));
        answers.push(rr(&ptr, 5, 300, &target));
        owner = target;
    }
    match qtype {
        1 => {
            for _ in 0..r.range(1, 3) {
                let ip = [203, 0, 113, r.range(1, 254) as u8];
                answers.push(rr(&owner, 1, r.range(30, 3600) as u32, &ip));
            }
        }
        28 => {
            for _ in 0..r.range(1, 2) {
                let mut ip = [0u8; 16];
                ip[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
                ip[15] = r.range(1, 254) as u8;
                answers.push(rr(&owner, 28, r.range(30, 3600) as u32, &ip));
            }
        }
        65 => {
            let mut d = vec![0, 1, 0];
            d.extend_from_slice(&[0, 1, 0, 3, 2, b'h', b'2']);
            answers.push(rr(&ptr, 65, 300, &d));
        }
        15 => {
            let mut d = vec![0, 10];
            d.extend(dns_name(&format!("mx.{host}")));
            answers.push(rr(&ptr, 15, 3600, &d));
        }
        _ => {
            let txt = b"v=spf1 -all";
            let mut d = vec![txt.len() as u8];
            d.extend_from_slice(txt);
            answers.push(rr(&ptr, 16, 3600, &d));
        }
    }
    let mut b = dns_header(id, 0x8180, 1, answers.len() as u16, 0);
    b.extend(question);
    for a in answers {
        b.extend(a);
    }
    Message {
        parts: vec![Part::Bytes(b)],
    }
}
