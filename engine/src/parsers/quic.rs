//! QUIC Initial packets ([`QuicParser`]): the keys of Initial packets
//! derive from the client's first destination connection id (RFC 9001
//! §5.2), so a passive observer can remove header protection, decrypt them
//! and read the TLS hellos carried in CRYPTO frames — the client's (SNI,
//! ALPN, JA3 and JA4 with the `q` prefix) and the server's (JA3S and its
//! extensions) for QUIC v1, v2, drafts 22–34, Facebook mvfst and Google
//! T050/T051. Everything after the hellos is out of reach by design.
//! Google QUIC (Q024–Q050: its own headers and CHLO tags) is read by
//! [`gquic`].

use super::L7Message;
use super::fingerprint::client_fingerprints;
use super::fingerprint::ja3s;
use super::hello::{ClientHello, parse_client_hello, parse_server_hello};
use super::reader::Reader;
use super::tls::{TlsHandshake, TlsStop};
use crate::session::{DatagramParser, Probe};
use crate::{AppEvent, FlowSide};
use aes::Aes128;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes_gcm::{AeadInOut, Aes128Gcm};
use sha2::{Digest, Sha256};

/// Initial packets decrypted per flow, at most.
const MAX_INITIALS: u32 = 16;
/// CRYPTO stream bytes buffered, at most (ClientHellos with post-quantum
/// key shares span a few packets).
const MAX_CRYPTO: u64 = 64 * 1024;
/// AEAD tag length.
const TAG: usize = 16;

/// Version-specific constants: the Initial salt, the key labels and the
/// long-header type of Initial packets.
struct VersionParams {
    salt: [u8; 20],
    v2_labels: bool,
    initial_type: u8,
}

const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];
const SALT_DRAFT29: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0,
    0x43, 0x90, 0xa8, 0x99,
];
const SALT_DRAFT23: [u8; 20] = [
    0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65,
    0xbe, 0xf9, 0xf5, 0x02,
];

const SALT_DRAFT22: [u8; 20] = [
    0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a, 0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd,
    0x7a, 0x02, 0x64, 0x4a,
];
/// Google QUIC with TLS, versions T050 and T051.
const SALT_T050: [u8; 20] = [
    0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80, 0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c,
    0x60, 0x48, 0x83, 0x10,
];
const SALT_T051: [u8; 20] = [
    0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50, 0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc,
    0xda, 0x6e, 0x03, 0x3d,
];

fn version_params(v: u32) -> Option<VersionParams> {
    let (salt, v2_labels, initial_type) = match v {
        0x0000_0001 | 0xff00_0021 | 0xff00_0022 => (SALT_V1, false, 0),
        0x6b33_43cf => (SALT_V2, true, 1),
        0xff00_001d..=0xff00_0020 => (SALT_DRAFT29, false, 0),
        // Facebook's mvfst builds use the salts of the drafts they follow.
        0xff00_0017..=0xff00_001c | 0xface_b002 | 0xface_b00e => (SALT_DRAFT23, false, 0),
        0xff00_0016 | 0xface_b001 => (SALT_DRAFT22, false, 0),
        0x5430_3530 => (SALT_T050, false, 0),
        0x5430_3531 => (SALT_T051, false, 0),
        // Reserved "greased" versions (RFC 9000 §15) that interop tests send
        // with version-1 protection.
        v if v & 0x0f0f_0f0f == 0x0a0a_0a0a => (SALT_V1, false, 0),
        _ => return None,
    };
    Some(VersionParams {
        salt,
        v2_labels,
        initial_type,
    })
}

/// A version as Suricata 7 writes it (`quic.version`): Google's `Q039`,
/// `Q043`, `Q044`, `Q045`, `Q046` and `v2` (RFC 9369) by name, every other in
/// lowercase hex without leading zeros (`1`, `ff00001d` for draft 29,
/// `faceb001`, `54303530` for Google's T050).
pub fn version_name(v: u32) -> String {
    match v {
        0x5130_3339 => "Q039".into(),
        0x5130_3433 => "Q043".into(),
        0x5130_3434 => "Q044".into(),
        0x5130_3435 => "Q045".into(),
        0x5130_3436 => "Q046".into(),
        0x6b33_43cf => "v2".into(),
        _ => format!("{v:x}"),
    }
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    for p in parts {
        inner.update(p);
    }
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, `len` ≤ 32.
fn expand_label(secret: &[u8], label: &str, len: usize) -> Vec<u8> {
    let mut info = Vec::with_capacity(4 + 6 + label.len());
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push((6 + label.len()) as u8);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label.as_bytes());
    info.push(0);
    hmac_sha256(secret, &[&info, &[1]])[..len].to_vec()
}

/// The client's Initial keys: AEAD key, IV and header-protection key.
struct Keys {
    aead: Aes128Gcm,
    iv: [u8; 12],
    hp: Aes128,
}

/// The Initial keys of the client (`side` 0) or the server (1).
fn initial_keys(p: &VersionParams, dcid: &[u8], side: usize) -> Option<Keys> {
    let initial = hmac_sha256(&p.salt, &[dcid]);
    let label = if side == 0 { "client in" } else { "server in" };
    let client = expand_label(&initial, label, 32);
    let (k, i, h) = if p.v2_labels {
        ("quicv2 key", "quicv2 iv", "quicv2 hp")
    } else {
        ("quic key", "quic iv", "quic hp")
    };
    let key = expand_label(&client, k, 16);
    let iv: [u8; 12] = expand_label(&client, i, 12).try_into().ok()?;
    let hp = expand_label(&client, h, 16);
    Some(Keys {
        aead: Aes128Gcm::new_from_slice(&key).ok()?,
        iv,
        hp: Aes128::new_from_slice(&hp).ok()?,
    })
}

/// Content probe: a client Initial of a known version (long header, fixed
/// bit, Initial type, padded to at least 1200 bytes as RFC 9000 requires),
/// or a Google QUIC packet with its version ([`gquic::probe`]).
pub fn probe(b: &[u8], side: FlowSide) -> Probe {
    if gquic::probe(b) {
        return Probe::Certain;
    }
    if side != FlowSide::Initiator || b.len() < 5 || b[0] & 0xc0 != 0xc0 {
        return Probe::No;
    }
    if b.len() < 1200 && (b[0] >> 4) & 3 == 0 {
        // Client Initials are padded to 1200 bytes (RFC 9000 §14.1).
        return Probe::No;
    }
    let version = u32::from_be_bytes([b[1], b[2], b[3], b[4]]);
    match version_params(version) {
        Some(p) if (b[0] >> 4) & 3 == p.initial_type => Probe::Certain,
        // 0-RTT overtaking its Initial: wait for the Initial.
        Some(_) => Probe::NeedMore,
        None => Probe::No,
    }
}

/// The smallest short-header packet taken mid-connection: the first
/// byte, an 8-byte connection id (what deployed servers choose), a
/// packet number and the 16-byte AEAD tag.
const MIN_SHORT: usize = 1 + 8 + 1 + TAG;

/// Content probe for flows caught mid-connection, offered on the
/// configured ports only ([`QuicConfig::mid_connection_ports`](crate::parsers::QuicConfig::mid_connection_ports)): a datagram that
/// is a QUIC packet after the handshake — an IETF short header (form bit
/// clear, fixed bit set; RFC 9000 §17.3) of at least `MIN_SHORT` bytes,
/// or a Google QUIC public header with a connection id and no version —
/// and is not plausibly DNS, a DTLS record or a STUN message, which share
/// those first bits.
pub fn probe_mid_connection(b: &[u8], _side: FlowSide) -> Probe {
    let Some(&first) = b.first() else {
        return Probe::NeedMore;
    };
    let ietf_short = first & 0xc0 == 0x40 && b.len() >= MIN_SHORT;
    let google_short =
        first & 0xc0 == 0 && first & 0x08 != 0 && first & 0x03 == 0 && { gquic::short_with_cid(b) };
    if !(ietf_short || google_short) || looks_like_dtls(b) || looks_like_stun(b) {
        return Probe::No;
    }
    #[cfg(feature = "dns")]
    if crate::parsers::dns::looks_like_dns(b) {
        return Probe::No;
    }
    Probe::Certain
}

/// A DTLS record header: a content type (20 to 25) and a DTLS version
/// (0xfeff, 0xfefd, 0xfefc).
fn looks_like_dtls(b: &[u8]) -> bool {
    matches!(b, [20..=25, 0xfe, 0xfc..=0xff, ..])
}

/// A STUN message (RFC 5389): the magic cookie at offset 4.
fn looks_like_stun(b: &[u8]) -> bool {
    b.get(4..8) == Some(&[0x21, 0x12, 0xa4, 0x42][..])
}

/// The QUIC Initial parser (one per UDP flow). Messages: one
/// [`L7Message::Tls`] with `quic_version` set once the ClientHello is
/// complete — without it (Initials that do not decrypt, a hello never
/// whole) one with only the version, at the flow's end or after the most
/// Initials it reads: every flow the QUIC probe took has its record — and
/// one with the `server_hello` (and JA3S) once the server's Initials hold
/// it whole.
#[derive(Default)]
pub struct QuicParser {
    /// Version and keys (the client's, the server's), from the client's
    /// Initial.
    state: Option<(u32, [Keys; 2])>,
    /// A Retry from the server: the client's next Initial carries the
    /// connection id the keys derive from from then on (RFC 9001 §5.2).
    retried: bool,
    /// Per side, client then server.
    dirs: [Crypto; 2],
    /// The version of the first Initial whose header parsed.
    version: Option<u32>,
    /// Initials that failed to decrypt or parse (skipped).
    bad: u32,
    /// A Google QUIC flow (its first packet was): read by [`gquic`].
    gquic: Option<Box<gquic::Gquic>>,
}

/// One side's Initial CRYPTO stream.
#[derive(Default)]
struct Crypto {
    /// CRYPTO frames received: (offset, bytes), not yet contiguous.
    frames: Vec<(u64, Vec<u8>)>,
    /// The CRYPTO stream from offset 0.
    stream: Vec<u8>,
    initials: u32,
    /// Its hello was reported (or never will be).
    done: bool,
}

impl std::fmt::Debug for QuicParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuicParser")
            .field("version", &self.state.as_ref().map(|s| s.0))
            .field("streams", &self.dirs.each_ref().map(|d| d.stream.len()))
            .field("initials", &self.dirs.each_ref().map(|d| d.initials))
            .field("done", &self.dirs.each_ref().map(|d| d.done))
            .finish()
    }
}

impl Clone for QuicParser {
    /// A fresh parser (keys are per flow, never shared).
    fn clone(&self) -> Self {
        QuicParser::default()
    }
}

impl QuicParser {
    /// Initials that could not be decrypted or parsed.
    pub fn bad_packets(&self) -> u32 {
        self.bad
    }

    /// Handles the coalesced packets of one datagram from side `k` (the
    /// client's headers even once its hello was read: a new connection id
    /// gives the server's Initials new keys).
    fn datagram(&mut self, k: usize, mut d: &[u8]) {
        while !d.is_empty() && (k == 0 || !self.dirs[k].done) {
            match self.packet(k, d) {
                Some(used) if used > 0 => d = &d[used.min(d.len())..],
                _ => return,
            }
        }
    }

    /// One long-header packet of side `k` at the start of `d`; bytes it
    /// spans.
    fn packet(&mut self, k: usize, d: &[u8]) -> Option<usize> {
        let mut r = Reader::new(d);
        let first = r.u8()?;
        if first & 0x80 == 0 {
            return None;
        }
        let version = r.u32()?;
        let params = version_params(version)?;
        let dcid_len = usize::from(r.u8()?);
        let dcid = r.take(dcid_len)?;
        let scid_len = usize::from(r.u8()?);
        r.take(scid_len)?;
        let ty = (first >> 4) & 3;
        if k == 1 && ty == (params.initial_type + 3) % 4 {
            // A Retry (the type before Initial's: 3 in v1, 0 in v2) has
            // no length; it fills its datagram.
            self.retried = true;
            return None;
        }
        let initial = ty == params.initial_type;
        if initial {
            let token_len = usize::try_from(r.varint()?).ok()?;
            r.take(token_len)?;
        }
        let length = usize::try_from(r.varint()?).ok()?;
        let pn_offset = r.pos();
        let end = pn_offset.checked_add(length)?;
        if end > d.len() {
            return None;
        }
        if !initial || self.dirs[k].initials >= MAX_INITIALS {
            return Some(end);
        }
        self.dirs[k].initials += 1;
        if k == 0 {
            self.version.get_or_insert(version);
            let other_version = self.state.as_ref().is_some_and(|s| s.0 != version);
            if self.state.is_none() || self.retried || other_version {
                // The server's keys derive from the client's first
                // connection id too: both are known from the client's
                // first Initial — or its first after a Retry, or after a
                // version negotiation (another version, another salt).
                self.state = initial_keys(&params, dcid, 0)
                    .zip(initial_keys(&params, dcid, 1))
                    .map(|(c, s)| (version, [c, s]));
                self.retried = false;
            }
            if self.dirs[0].done {
                return Some(end);
            }
        }
        let Some((v, keys)) = &self.state else {
            return Some(end);
        };
        if *v != version {
            return Some(end);
        }
        match decrypt(&keys[k], &d[..end], pn_offset) {
            Some(payload) => self.dirs[k].frames_of(&payload),
            None => self.bad += 1,
        }
        Some(end)
    }
}

impl Crypto {
    fn frames_of(&mut self, p: &[u8]) {
        let mut r = Reader::new(p);
        while r.any_left() {
            let Some(ty) = r.varint() else { break };
            match ty {
                0x00 | 0x01 => {}
                0x02 | 0x03 => {
                    let ok = (|| {
                        r.varint()?;
                        r.varint()?;
                        let ranges = r.varint()?;
                        r.varint()?;
                        for _ in 0..ranges.min(256) {
                            r.varint()?;
                            r.varint()?;
                        }
                        if ty == 0x03 {
                            for _ in 0..3 {
                                r.varint()?;
                            }
                        }
                        Some(())
                    })();
                    if ok.is_none() {
                        break;
                    }
                }
                0x06 => {
                    let (Some(off), Some(len)) = (r.varint(), r.varint()) else {
                        break;
                    };
                    let Some(data) = usize::try_from(len).ok().and_then(|n| r.take(n)) else {
                        break;
                    };
                    if off.saturating_add(len) <= MAX_CRYPTO {
                        self.frames.push((off, data.to_vec()));
                    }
                }
                // Anything else (CONNECTION_CLOSE...) ends the packet.
                _ => break,
            }
        }
        self.assemble();
    }

    /// Appends every frame that continues the stream.
    fn assemble(&mut self) {
        loop {
            let at = self.stream.len() as u64;
            let Some(i) = self
                .frames
                .iter()
                .position(|(off, data)| *off <= at && off + data.len() as u64 > at)
            else {
                break;
            };
            let (off, data) = self.frames.swap_remove(i);
            let skip = usize::try_from(at - off).unwrap_or(usize::MAX);
            self.stream.extend_from_slice(&data[skip..]);
        }
        self.frames
            .retain(|(off, data)| off + data.len() as u64 > self.stream.len() as u64);
    }

    /// The body of the stream's first handshake message, once whole, if
    /// it is of type `ty` (1: ClientHello, 2: ServerHello).
    fn hello(&self, ty: u8) -> Option<&[u8]> {
        let mut r = Reader::new(&self.stream);
        if r.u8()? != ty {
            return None;
        }
        let len = r.u24()?;
        r.take(len)
    }

    /// Nothing more is read on this side.
    fn finish(&mut self) {
        self.done = true;
        self.frames = Vec::new();
        self.stream = Vec::new();
    }
}

impl QuicParser {
    /// The ClientHello, once the client's stream holds it whole.
    fn client_hello(&self) -> Option<ClientHello> {
        parse_client_hello(self.dirs[0].hello(1)?)
    }

    fn report(&mut self, ch: ClientHello, out: &mut Vec<L7Message>) {
        self.dirs[0].finish();
        let version = self.state.as_ref().map_or(0, |s| s.0);
        let (ja3, ja4) = client_fingerprints(&ch, 'q');
        let hs = TlsHandshake {
            ja3: Some(ja3),
            ja4: Some(ja4),
            client_hello: Some(ch),
            client_hellos: 1,
            quic_version: Some(version),
            stop: TlsStop::Encrypted,
            ..TlsHandshake::default()
        };
        out.push(L7Message::Tls(Box::new(hs)));
    }

    /// At the flow's end, a flow whose ClientHello never came whole (its
    /// Initials did not decrypt, or were lost) still gets its record: the
    /// version its first Initial announced, as Suricata logs one.
    fn report_version_only(&mut self, out: &mut Vec<L7Message>) {
        if self.dirs[0].done {
            return;
        }
        self.dirs[0].finish();
        if let Some(version) = self.version {
            let hs = TlsHandshake {
                quic_version: Some(version),
                stop: TlsStop::FlowEnd,
                ..TlsHandshake::default()
            };
            out.push(L7Message::Tls(Box::new(hs)));
        }
    }
}

impl QuicParser {
    /// The server's hello, once whole: its record (JA3S, extensions).
    fn server_side(&mut self, out: &mut Vec<L7Message>) {
        let d = &self.dirs[1];
        let sh = d.hello(2).and_then(parse_server_hello);
        if sh.is_none() && d.initials < MAX_INITIALS && d.stream.len() < MAX_CRYPTO as usize {
            return;
        }
        self.dirs[1].finish();
        let (Some(sh), Some((version, _))) = (sh, &self.state) else {
            return;
        };
        let hs = TlsHandshake {
            ja3s: Some(ja3s(&sh)),
            server_hello: Some(sh),
            quic_version: Some(*version),
            stop: TlsStop::Encrypted,
            ..TlsHandshake::default()
        };
        out.push(L7Message::Tls(Box::new(hs)));
    }
}

/// Removes header protection and decrypts one Initial packet (`pkt` ends
/// at the packet's end); the plaintext payload.
fn decrypt(keys: &Keys, pkt: &[u8], pn_offset: usize) -> Option<Vec<u8>> {
    let sample: [u8; 16] = pkt.get(pn_offset + 4..pn_offset + 20)?.try_into().ok()?;
    let mut mask = aes::Block::from(sample);
    keys.hp.encrypt_block(&mut mask);
    let first = pkt[0] ^ (mask[0] & 0x0f);
    let pn_len = usize::from(first & 3) + 1;
    let mut header = pkt.get(..pn_offset + pn_len)?.to_vec();
    header[0] = first;
    let mut pn = 0u64;
    for i in 0..pn_len {
        header[pn_offset + i] ^= mask[1 + i];
        pn = pn << 8 | u64::from(header[pn_offset + i]);
    }
    let body = pkt.get(pn_offset + pn_len..)?;
    if body.len() < TAG {
        return None;
    }
    let (ct, tag) = body.split_at(body.len() - TAG);
    let mut nonce = keys.iv;
    for (i, b) in pn.to_be_bytes().iter().enumerate() {
        nonce[4 + i] ^= b;
    }
    let mut buf = ct.to_vec();
    let tag: [u8; TAG] = tag.try_into().ok()?;
    keys.aead
        .decrypt_inout_detached(
            &nonce.into(),
            &header,
            buf.as_mut_slice().into(),
            &tag.into(),
        )
        .ok()?;
    Some(buf)
}

impl DatagramParser for QuicParser {
    type Message = L7Message;

    fn parse(&mut self, payload: &[u8], side: FlowSide) -> Vec<L7Message> {
        // An empty datagram (the driver passes those on) says nothing.
        if payload.is_empty() {
            return Vec::new();
        }
        if self.gquic.is_none() && self.version.is_none() && gquic::probe(payload) {
            self.gquic = Some(Box::default());
        }
        if let Some(g) = &mut self.gquic {
            return g.parse(payload, side);
        }
        let mut out = Vec::new();
        let k = side.index();
        if self.dirs[1].done && (k == 1 || self.dirs[0].done) {
            return out;
        }
        self.datagram(k, payload);
        if k == 1 {
            self.server_side(&mut out);
        } else if !self.dirs[0].done {
            if let Some(ch) = self.client_hello() {
                self.report(ch, &mut out);
            } else if self.dirs[0].initials >= MAX_INITIALS {
                self.report_version_only(&mut out);
            }
        }
        out
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.gquic.as_mut()?.next_event()
    }

    fn flow_end(&mut self) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.report_version_only(&mut out);
        out
    }
}

pub mod gquic;

#[cfg(test)]
mod tests;
