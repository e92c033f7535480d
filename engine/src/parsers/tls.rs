//! The TLS handshake ([`TlsParser`]): records reassembled across segments,
//! handshake messages across records, SSLv2-compatible ClientHellos,
//! ClientHello and ServerHello with every extension the fingerprints and
//! the EVE record need, the certificate chain of TLS ≤ 1.2 (x509-parser),
//! alerts; parsing stops once a direction is encrypted. One
//! [`TlsHandshake`] message per connection, when the server starts
//! encrypting or the flow ends.
//!
//! The hello parser is hand-written rather than tls-parser's: JA3/JA4 need
//! the raw wire order and values of every extension (GREASE and unknown
//! ones included) and must survive truncated or odd hellos.

use super::fingerprint::{Ja3, ja3, ja3s, ja4};
use super::{L7Message, TlsConfig};
use crate::FlowSide;
use crate::session::SessionParser;
use sha1::{Digest, Sha1};

/// Record header length.
const RECORD_HEADER: usize = 5;
/// Longest record body accepted (2^14 + 2048, the ciphertext limit).
const MAX_RECORD: usize = 16_384 + 2048;
/// Content types.
const CT_CHANGE_CIPHER_SPEC: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APPLICATION_DATA: u8 = 23;
/// Handshake types.
const HS_CLIENT_HELLO: u8 = 1;
const HS_SERVER_HELLO: u8 = 2;
const HS_CERTIFICATE: u8 = 11;
const HS_SERVER_HELLO_DONE: u8 = 14;
/// Certificates decoded per chain.
const MAX_CERTS: usize = 10;
/// Items kept per list (ciphers, extensions...).
const MAX_ITEMS: usize = 512;

/// The HelloRetryRequest's fixed `random` (RFC 8446 §4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A ClientHello's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3).
    pub version: u16,
    /// Client random.
    pub random: [u8; 32],
    /// Session id.
    pub session_id: Box<[u8]>,
    /// Cipher suites in order (GREASE included).
    pub ciphers: Vec<u16>,
    /// Compression methods.
    pub compression: Vec<u8>,
    /// Extension types in order (GREASE included).
    pub extensions: Vec<u16>,
    /// server_name (host_name entry).
    pub sni: Option<Box<[u8]>>,
    /// ALPN protocol ids.
    pub alpn: Vec<Box<[u8]>>,
    /// supported_versions.
    pub supported_versions: Vec<u16>,
    /// supported_groups (elliptic curves).
    pub groups: Vec<u16>,
    /// ec_point_formats.
    pub ec_point_formats: Vec<u8>,
    /// signature_algorithms in order.
    pub signature_algorithms: Vec<u16>,
    /// key_share groups offered.
    pub key_share_groups: Vec<u16>,
    /// psk_key_exchange_modes.
    pub psk_modes: Vec<u8>,
    /// An encrypted_client_hello extension (0xfe0d) was present.
    pub ech: bool,
    /// Sent in SSLv2-compatible form (ciphers are then 3-byte specs, kept
    /// when they map to a TLS suite).
    pub sslv2: bool,
}

/// A ServerHello's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerHello {
    /// `legacy_version`.
    pub version: u16,
    /// The version agreed (supported_versions when present, else
    /// `version`).
    pub selected_version: u16,
    /// Server random.
    pub random: [u8; 32],
    /// Session id.
    pub session_id: Box<[u8]>,
    /// Cipher suite chosen.
    pub cipher: u16,
    /// Compression chosen.
    pub compression: u8,
    /// Extension types in order.
    pub extensions: Vec<u16>,
    /// ALPN protocol chosen.
    pub alpn: Option<Box<[u8]>>,
    /// This is a HelloRetryRequest.
    pub hello_retry_request: bool,
}

/// One certificate of the chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Certificate {
    /// Subject DN (`C=US, O=..., CN=...`).
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial, `0A:1B:...`.
    pub serial: String,
    /// Validity start, Unix seconds.
    pub not_before: i64,
    /// Validity end, Unix seconds.
    pub not_after: i64,
    /// DNS names of the subjectAltName extension.
    pub san: Vec<String>,
    /// SHA-1 of the DER, `aa:bb:...`.
    pub fingerprint: String,
}

/// An alert seen in clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    /// Who sent it.
    pub side: FlowSide,
    /// 1 warning, 2 fatal.
    pub level: u8,
    /// Description code.
    pub description: u8,
}

/// Why parsing of a TLS connection stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TlsStop {
    /// Both directions' handshake was followed by encrypted data (or
    /// ChangeCipherSpec): nothing more to read in clear.
    Encrypted,
    /// The flow ended during the handshake.
    #[default]
    FlowEnd,
    /// The data stopped looking like TLS records.
    NotTls,
}

/// What one TLS connection's handshake showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsHandshake {
    /// The first ClientHello.
    pub client_hello: Option<ClientHello>,
    /// ClientHellos seen (a second follows a HelloRetryRequest).
    pub client_hellos: u32,
    /// The ServerHello (after a HelloRetryRequest, the real one).
    pub server_hello: Option<ServerHello>,
    /// A HelloRetryRequest was sent.
    pub hello_retry_request: bool,
    /// The server's chain (TLS ≤ 1.2), leaf first.
    pub certificates: Vec<Certificate>,
    /// Certificates that did not decode.
    pub bad_certificates: u32,
    /// Alerts in clear.
    pub alerts: Vec<Alert>,
    /// JA3 of the ClientHello.
    pub ja3: Option<Ja3>,
    /// JA3S of the ServerHello.
    pub ja3s: Option<Ja3>,
    /// JA4 of the ClientHello.
    pub ja4: Option<String>,
    /// Why parsing stopped.
    pub stop: TlsStop,
    /// Bytes lost to capture gaps during the handshake.
    pub gap_bytes: u64,
    /// Carried in QUIC Initial packets of this version (not TLS over TCP).
    pub quic_version: Option<u32>,
}

impl TlsHandshake {
    /// The version for display: the server's choice, else the client's
    /// highest offer.
    pub fn version(&self) -> Option<u16> {
        if let Some(sh) = &self.server_hello {
            return Some(sh.selected_version);
        }
        self.client_hello.as_ref().map(|ch| {
            if ch.sslv2 && ch.version == 0x0002 {
                return 0x0002;
            }
            ch.supported_versions
                .iter()
                .copied()
                .filter(|&v| !super::fingerprint::is_grease(v))
                .max()
                .unwrap_or(ch.version)
        })
    }
}

/// Suricata's name of a TLS version.
pub fn version_name(v: u16) -> &'static str {
    match v {
        0x0002 => "SSLv2",
        0x0300 => "SSLv3",
        0x0301 => "TLSv1",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        _ => "UNDETERMINED",
    }
}

/// A bounds-checked reader.
struct Rd<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Rd<'a> {
    fn new(b: &'a [u8]) -> Self {
        Rd { b, pos: 0 }
    }
    fn left(&self) -> usize {
        self.b.len() - self.pos
    }
    fn u8(&mut self) -> Option<u8> {
        let v = *self.b.get(self.pos)?;
        self.pos += 1;
        Some(v)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }
    fn u24(&mut self) -> Option<usize> {
        Some(usize::from(self.u8()?) << 16 | usize::from(self.u16()?))
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.u8()?);
        self.take(n)
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }
}

fn u16_list(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2)
        .take(MAX_ITEMS)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

/// Parses a ClientHello body (after the 4-byte handshake header). A hello
/// cut short keeps what was read (extensions up to the damage).
pub fn parse_client_hello(body: &[u8]) -> Option<ClientHello> {
    let mut r = Rd::new(body);
    let mut ch = ClientHello {
        version: r.u16()?,
        ..ClientHello::default()
    };
    ch.random.copy_from_slice(r.take(32)?);
    ch.session_id = r.vec8()?.into();
    ch.ciphers = u16_list(r.vec16()?);
    ch.compression = r.vec8()?.iter().copied().take(MAX_ITEMS).collect();
    if r.left() < 2 {
        return Some(ch);
    }
    let Some(exts) = r.vec16() else {
        return Some(ch);
    };
    let mut e = Rd::new(exts);
    while e.left() >= 4 {
        let (Some(ty), Some(data)) = (e.u16(), e.vec16()) else {
            break;
        };
        if ch.extensions.len() < MAX_ITEMS {
            ch.extensions.push(ty);
        }
        client_extension(&mut ch, ty, data);
    }
    Some(ch)
}

fn client_extension(ch: &mut ClientHello, ty: u16, data: &[u8]) {
    let mut d = Rd::new(data);
    match ty {
        0 => {
            // server_name_list: the first host_name entry.
            if let Some(list) = d.vec16() {
                let mut l = Rd::new(list);
                while l.left() >= 3 {
                    let (Some(kind), Some(name)) = (l.u8(), l.vec16()) else {
                        break;
                    };
                    if kind == 0 && ch.sni.is_none() {
                        ch.sni = Some(name.into());
                    }
                }
            }
        }
        10 => ch.groups = d.vec16().map(u16_list).unwrap_or_default(),
        11 => {
            ch.ec_point_formats = d
                .vec8()
                .map(|v| v.iter().copied().take(MAX_ITEMS).collect())
                .unwrap_or_default()
        }
        13 => ch.signature_algorithms = d.vec16().map(u16_list).unwrap_or_default(),
        16 => {
            if let Some(list) = d.vec16() {
                let mut l = Rd::new(list);
                while let Some(p) = l.vec8() {
                    if ch.alpn.len() < 32 {
                        ch.alpn.push(p.into());
                    }
                }
            }
        }
        43 => ch.supported_versions = d.vec8().map(u16_list).unwrap_or_default(),
        45 => {
            ch.psk_modes = d
                .vec8()
                .map(|v| v.iter().copied().take(16).collect())
                .unwrap_or_default()
        }
        51 => {
            if let Some(list) = d.vec16() {
                let mut l = Rd::new(list);
                while let (Some(group), Some(_key)) = (l.u16(), l.vec16()) {
                    if ch.key_share_groups.len() < 32 {
                        ch.key_share_groups.push(group);
                    }
                }
            }
        }
        0xfe0d => ch.ech = true,
        _ => {}
    }
}

/// Parses a ServerHello body.
pub fn parse_server_hello(body: &[u8]) -> Option<ServerHello> {
    let mut r = Rd::new(body);
    let mut sh = ServerHello {
        version: r.u16()?,
        ..ServerHello::default()
    };
    sh.selected_version = sh.version;
    sh.random.copy_from_slice(r.take(32)?);
    sh.hello_retry_request = sh.random == HRR_RANDOM;
    sh.session_id = r.vec8()?.into();
    sh.cipher = r.u16()?;
    sh.compression = r.u8()?;
    if r.left() < 2 {
        return Some(sh);
    }
    let Some(exts) = r.vec16() else {
        return Some(sh);
    };
    let mut e = Rd::new(exts);
    while e.left() >= 4 {
        let (Some(ty), Some(data)) = (e.u16(), e.vec16()) else {
            break;
        };
        if sh.extensions.len() < MAX_ITEMS {
            sh.extensions.push(ty);
        }
        let mut d = Rd::new(data);
        match ty {
            43 => {
                if let Some(v) = d.u16() {
                    sh.selected_version = v;
                }
            }
            16 => {
                if let Some(list) = d.vec16() {
                    sh.alpn = Rd::new(list).vec8().map(Into::into);
                }
            }
            _ => {}
        }
    }
    Some(sh)
}

/// An SSLv2-compatible ClientHello record (RFC 6101 appendix E.2), from
/// the record's first byte.
fn parse_sslv2_client_hello(b: &[u8]) -> Option<(ClientHello, usize)> {
    let len = usize::from(u16::from_be_bytes([*b.first()? & 0x7f, *b.get(1)?]));
    let msg = b.get(2..2 + len)?;
    let mut r = Rd::new(msg);
    if r.u8()? != 1 {
        return None;
    }
    let version = r.u16()?;
    let cipher_len = usize::from(r.u16()?);
    let sid_len = usize::from(r.u16()?);
    let challenge_len = usize::from(r.u16()?);
    let specs = r.take(cipher_len)?;
    let sid = r.take(sid_len)?;
    let challenge = r.take(challenge_len)?;
    let mut ch = ClientHello {
        version,
        sslv2: true,
        session_id: sid.into(),
        ..ClientHello::default()
    };
    // TLS suites appear as 0x00XXXX specs; SSLv2-only kinds are dropped.
    ch.ciphers = specs
        .chunks_exact(3)
        .filter(|s| s[0] == 0)
        .take(MAX_ITEMS)
        .map(|s| u16::from_be_bytes([s[1], s[2]]))
        .collect();
    let n = challenge.len().min(32);
    ch.random[32 - n..].copy_from_slice(&challenge[challenge.len() - n..]);
    Some((ch, 2 + len))
}

/// Does `b` start like an SSLv2-compatible ClientHello?
fn looks_sslv2_hello(b: &[u8]) -> bool {
    b.len() >= 5 && b[0] & 0x80 != 0 && b[2] == 1 && (b[3] == 0x03 || (b[3] == 0 && b[4] == 2))
}

/// Does `b` start like a TLS record (type, version 3.x, sane length)?
fn looks_like_record(b: &[u8]) -> bool {
    b.len() >= RECORD_HEADER
        && (CT_CHANGE_CIPHER_SPEC..=CT_APPLICATION_DATA).contains(&b[0])
        && b[1] == 3
        && b[2] <= 4
        && usize::from(u16::from_be_bytes([b[3], b[4]])) <= MAX_RECORD
}

/// The PROXY protocol header (HAProxy, v1 text or v2 binary) a load
/// balancer may put before the client's bytes: `Ok(len)` when `b` starts
/// with a whole one, `Err(true)` when it may be one still incomplete,
/// `Err(false)` when it is not one.
fn proxy_header_len(b: &[u8]) -> Result<usize, bool> {
    const V2: &[u8; 12] = b"\r\n\r\n\x00\r\nQUIT\n";
    if b.starts_with(b"PROXY ") {
        // v1: one line of at most 107 bytes.
        return match b.iter().take(107).position(|&c| c == b'\n') {
            Some(nl) => Ok(nl + 1),
            None => Err(b.len() < 107),
        };
    }
    if b.len() >= V2.len() && b.starts_with(V2) {
        return match b.get(14..16) {
            Some(l) => Ok(16 + usize::from(u16::from_be_bytes([l[0], l[1]]))),
            None => Err(true),
        };
    }
    Err(b.len() < V2.len() && (V2.starts_with(b) || b"PROXY ".starts_with(b)) && !b.is_empty())
}

/// Content probe: a TLS handshake record (or SSLv2 hello) from the first
/// sender, possibly behind a PROXY protocol header.
pub fn probe(b: &[u8]) -> crate::session::Probe {
    use crate::session::Probe;
    match proxy_header_len(b) {
        Ok(n) if n < b.len() => return probe(&b[n..]),
        Ok(_) | Err(true) => return Probe::NeedMore,
        Err(false) => {}
    }
    if b.len() < RECORD_HEADER {
        let plausible = match b {
            [] => true,
            [t, ..] if *t == CT_HANDSHAKE => b.get(1).is_none_or(|&v| v == 3),
            [t, ..] => t & 0x80 != 0,
        };
        return if plausible {
            Probe::NeedMore
        } else {
            Probe::No
        };
    }
    if (b[0] == CT_HANDSHAKE && looks_like_record(b)) || looks_sslv2_hello(b) {
        Probe::Certain
    } else {
        Probe::No
    }
}

/// One direction's record and handshake reassembly.
#[derive(Debug, Clone, Default)]
struct Dir {
    /// An incomplete record (header included).
    record: Vec<u8>,
    /// Handshake bytes not yet forming a whole message.
    handshake: Vec<u8>,
    /// Encrypted from here on (or gave up): bytes are ignored.
    done: bool,
    /// Bytes of the first record seen: SSLv2 hellos are only looked for
    /// there.
    first: bool,
}

/// The TLS session parser.
#[derive(Debug, Clone)]
pub struct TlsParser {
    cfg: TlsConfig,
    dirs: [Dir; 2],
    hs: TlsHandshake,
    /// The handshake message was emitted.
    emitted: bool,
    /// Anything TLS-like was seen.
    seen: bool,
    /// A server Certificate message was decoded (later ones are ignored).
    chain_done: bool,
    /// Handshake messages over `max_handshake_bytes` (skipped).
    oversized: u32,
}

impl Default for TlsParser {
    fn default() -> Self {
        TlsParser::new(TlsConfig::default())
    }
}

impl TlsParser {
    /// A parser with these options.
    pub fn new(cfg: TlsConfig) -> Self {
        TlsParser {
            cfg,
            dirs: [
                Dir {
                    first: true,
                    ..Dir::default()
                },
                Dir {
                    first: true,
                    ..Dir::default()
                },
            ],
            hs: TlsHandshake::default(),
            emitted: false,
            seen: false,
            chain_done: false,
            oversized: 0,
        }
    }

    /// Handshake messages skipped for size.
    pub fn oversized(&self) -> u32 {
        self.oversized
    }

    fn feed(&mut self, k: usize, mut b: &[u8], out: &mut Vec<L7Message>) {
        while !b.is_empty() && !self.dirs[k].done {
            let d = &mut self.dirs[k];
            if d.first
                && d.record.is_empty()
                && k == 0
                && let Ok(n) = proxy_header_len(b)
            {
                // A load balancer's PROXY header: the TLS starts after it.
                b = &b[n.min(b.len())..];
                continue;
            }
            if d.first && d.record.is_empty() && k == 0 && looks_sslv2_hello(b) {
                d.first = false;
                // Only a hello whole in one segment is read (they are small).
                let Some((ch, used)) = parse_sslv2_client_hello(b) else {
                    self.give_up(k);
                    return;
                };
                self.seen = true;
                self.client_hello(ch);
                b = &b[used.min(b.len())..];
                continue;
            }
            d.first = false;
            // Whole records straight from `b` when nothing is buffered.
            if d.record.is_empty() && b.len() >= RECORD_HEADER {
                if !looks_like_record(b) {
                    self.give_up(k);
                    return;
                }
                let len = RECORD_HEADER + usize::from(u16::from_be_bytes([b[3], b[4]]));
                if b.len() >= len {
                    let (rec, rest) = b.split_at(len);
                    self.record(k, rec, out);
                    b = rest;
                    continue;
                }
            }
            // Buffer a partial record (bounded by MAX_RECORD).
            let d = &mut self.dirs[k];
            if d.record.len() < RECORD_HEADER {
                let n = (RECORD_HEADER - d.record.len()).min(b.len());
                d.record.extend_from_slice(&b[..n]);
                b = &b[n..];
                if d.record.len() < RECORD_HEADER {
                    return;
                }
                if !looks_like_record(&d.record) {
                    self.give_up(k);
                    return;
                }
            }
            let d = &mut self.dirs[k];
            let len = RECORD_HEADER + usize::from(u16::from_be_bytes([d.record[3], d.record[4]]));
            let n = (len - d.record.len()).min(b.len());
            d.record.extend_from_slice(&b[..n]);
            b = &b[n..];
            if d.record.len() == len {
                let rec = std::mem::take(&mut d.record);
                self.record(k, &rec, out);
                let d = &mut self.dirs[k];
                if d.record.is_empty() {
                    d.record = rec;
                    d.record.clear();
                }
            }
        }
    }

    fn give_up(&mut self, k: usize) {
        let d = &mut self.dirs[k];
        d.done = true;
        d.record = Vec::new();
        d.handshake = Vec::new();
        if !self.dirs[1 - k].done || self.hs.client_hello.is_none() {
            self.hs.stop = TlsStop::NotTls;
        }
    }

    /// One whole record of direction `k`.
    fn record(&mut self, k: usize, rec: &[u8], out: &mut Vec<L7Message>) {
        self.seen = true;
        let body = &rec[RECORD_HEADER..];
        match rec[0] {
            CT_HANDSHAKE => {
                let d = &mut self.dirs[k];
                if d.handshake.is_empty() {
                    self.handshake_bytes(k, body, out);
                } else {
                    let mut buf = std::mem::take(&mut d.handshake);
                    buf.extend_from_slice(body);
                    let used = self.handshake_bytes_buffered(k, &buf, out);
                    buf.drain(..used);
                    let d = &mut self.dirs[k];
                    if !d.done {
                        d.handshake = buf;
                    }
                }
            }
            CT_ALERT if body.len() == 2 => {
                self.hs.alerts.push(Alert {
                    side: if k == 0 {
                        FlowSide::Initiator
                    } else {
                        FlowSide::Responder
                    },
                    level: body[0],
                    description: body[1],
                });
                self.hs.alerts.truncate(16);
            }
            // Encrypted alerts (longer bodies) and everything after CCS or
            // application data: this direction is done.
            CT_ALERT | CT_CHANGE_CIPHER_SPEC | CT_APPLICATION_DATA => {
                self.encrypted(k, out);
            }
            _ => {}
        }
    }

    /// Handshake bytes with nothing buffered: whole messages parsed in
    /// place, the incomplete tail buffered.
    fn handshake_bytes(&mut self, k: usize, body: &[u8], out: &mut Vec<L7Message>) {
        let used = self.handshake_bytes_buffered(k, body, out);
        let d = &mut self.dirs[k];
        if !d.done && used < body.len() {
            d.handshake.extend_from_slice(&body[used..]);
        }
    }

    /// Parses the whole messages at the start of `b`; returns bytes used.
    fn handshake_bytes_buffered(&mut self, k: usize, b: &[u8], out: &mut Vec<L7Message>) -> usize {
        let mut pos = 0;
        while b.len() - pos >= 4 && !self.dirs[k].done {
            let ty = b[pos];
            let len = usize::from(b[pos + 1]) << 16
                | usize::from(b[pos + 2]) << 8
                | usize::from(b[pos + 3]);
            if len > self.cfg.max_handshake_bytes {
                // Cannot be buffered: give up on this direction's clear text.
                self.oversized += 1;
                self.give_up(k);
                return b.len();
            }
            if b.len() - pos < 4 + len {
                break;
            }
            let msg = &b[pos + 4..pos + 4 + len];
            self.handshake_message(k, ty, msg, out);
            pos += 4 + len;
        }
        pos
    }

    fn client_hello(&mut self, ch: ClientHello) {
        self.hs.client_hellos += 1;
        if self.hs.client_hello.is_none() {
            self.hs.ja3 = Some(ja3(&ch));
            self.hs.ja4 = Some(ja4(&ch));
            self.hs.client_hello = Some(ch);
        }
    }

    fn handshake_message(&mut self, k: usize, ty: u8, msg: &[u8], out: &mut Vec<L7Message>) {
        match (k, ty) {
            (0, HS_CLIENT_HELLO) => {
                if let Some(ch) = parse_client_hello(msg) {
                    self.client_hello(ch);
                }
            }
            (1, HS_SERVER_HELLO) => {
                if let Some(sh) = parse_server_hello(msg) {
                    if sh.hello_retry_request {
                        self.hs.hello_retry_request = true;
                        if self.hs.server_hello.is_none() {
                            self.hs.ja3s = Some(ja3s(&sh));
                            self.hs.server_hello = Some(sh);
                        }
                    } else {
                        self.hs.ja3s = Some(ja3s(&sh));
                        let tls13 = sh.selected_version == 0x0304;
                        self.hs.server_hello = Some(sh);
                        if tls13 {
                            // Everything the server sends next is encrypted.
                            self.encrypted(1, out);
                        }
                    }
                }
            }
            (1, HS_CERTIFICATE) if !self.chain_done => {
                self.chain_done = true;
                self.certificates(msg);
            }
            (1, HS_SERVER_HELLO_DONE) => {}
            _ => {}
        }
    }

    fn certificates(&mut self, msg: &[u8]) {
        let mut r = Rd::new(msg);
        let Some(list_len) = r.u24() else {
            return;
        };
        let Some(list) = r.take(list_len.min(r.left())) else {
            return;
        };
        let mut l = Rd::new(list);
        while l.left() >= 3 {
            let Some(n) = l.u24() else { break };
            let Some(der) = l.take(n) else { break };
            let limit = if self.cfg.chain { MAX_CERTS } else { 1 };
            if self.hs.certificates.len() >= limit {
                // Decoding certificates is the parser's costliest step: the
                // rest of the chain only when asked for.
                break;
            }
            match certificate(der) {
                Some(c) => self.hs.certificates.push(c),
                None => self.hs.bad_certificates += 1,
            }
        }
    }

    /// Direction `k` went encrypted; once the server has, the handshake is
    /// reported.
    fn encrypted(&mut self, k: usize, out: &mut Vec<L7Message>) {
        let d = &mut self.dirs[k];
        d.done = true;
        d.record = Vec::new();
        d.handshake = Vec::new();
        if k == 1 {
            self.hs.stop = TlsStop::Encrypted;
            // The client's CCS/Finished are not needed either.
            self.dirs[0].done = true;
            self.emit(out);
        }
    }

    fn emit(&mut self, out: &mut Vec<L7Message>) {
        if !self.emitted && self.seen {
            self.emitted = true;
            let hs = std::mem::take(&mut self.hs);
            out.push(L7Message::Tls(Box::new(hs)));
        }
    }
}

fn colon_hex(b: &[u8], upper: bool) -> String {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut s = String::with_capacity(b.len() * 3);
    for (i, &x) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push(char::from(digits[usize::from(x >> 4)]));
        s.push(char::from(digits[usize::from(x & 0xf)]));
    }
    s
}

/// Decodes one DER certificate.
pub fn certificate(der: &[u8]) -> Option<Certificate> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut san = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            if let x509_parser::extensions::GeneralName::DNSName(n) = name
                && san.len() < 64
            {
                san.push((*n).to_string());
            }
        }
    }
    Some(Certificate {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: colon_hex(cert.raw_serial(), true),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        san,
        fingerprint: colon_hex(&Sha1::digest(der), false),
    })
}

/// TLS that starts after a plaintext phase: STARTTLS in SMTP, IMAP, POP3,
/// FTP, XMPP and LDAP, PostgreSQL's SSLRequest, MySQL's SSL request, RDP's
/// X.224 negotiation. The plaintext is not parsed; the first client segment
/// that starts with a TLS handshake record switches both directions to a
/// [`TlsParser`]. Gives up after `MAX_PLAINTEXT` client bytes.
#[derive(Debug, Clone, Default)]
pub struct StartTlsParser {
    tls: TlsParser,
    switched: bool,
    plaintext: usize,
}

/// Client bytes watched for the switch to TLS.
const MAX_PLAINTEXT: usize = 64 * 1024;

impl StartTlsParser {
    /// A parser whose TLS part has these options.
    pub fn new(cfg: TlsConfig) -> Self {
        StartTlsParser {
            tls: TlsParser::new(cfg),
            switched: false,
            plaintext: 0,
        }
    }
}

impl SessionParser for StartTlsParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        if !self.switched {
            if self.plaintext > MAX_PLAINTEXT || probe(bytes) != crate::session::Probe::Certain {
                self.plaintext = self.plaintext.saturating_add(bytes.len());
                return Vec::new();
            }
            self.switched = true;
        }
        self.tls.feed_initiator(bytes)
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        if self.switched {
            self.tls.feed_responder(bytes)
        } else {
            Vec::new()
        }
    }

    fn gap_initiator(&mut self, len: u64) -> Vec<L7Message> {
        if self.switched {
            self.tls.gap_initiator(len)
        } else {
            Vec::new()
        }
    }

    fn gap_responder(&mut self, len: u64) -> Vec<L7Message> {
        if self.switched {
            self.tls.gap_responder(len)
        } else {
            Vec::new()
        }
    }

    fn flow_end(&mut self) -> Vec<L7Message> {
        if self.switched {
            self.tls.flow_end()
        } else {
            Vec::new()
        }
    }
}

impl SessionParser for TlsParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.feed(0, bytes, &mut out);
        out
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.feed(1, bytes, &mut out);
        out
    }

    fn gap_initiator(&mut self, len: u64) -> Vec<L7Message> {
        self.gap(0, len);
        Vec::new()
    }

    fn gap_responder(&mut self, len: u64) -> Vec<L7Message> {
        self.gap(1, len);
        Vec::new()
    }

    fn flow_end(&mut self) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.emit(&mut out);
        out
    }
}

impl TlsParser {
    /// A gap: the record framing is lost; the direction stops (a capture
    /// gap inside a handshake leaves nothing reliable to parse).
    fn gap(&mut self, k: usize, len: u64) {
        if self.dirs[k].done {
            return;
        }
        self.hs.gap_bytes += len;
        let d = &mut self.dirs[k];
        d.done = true;
        d.record = Vec::new();
        d.handshake = Vec::new();
    }
}

#[cfg(test)]
mod tests;
