//! Google QUIC (`Gquic`, run by the QUIC parser for flows whose first
//! packet is gQUIC): every packet that carries a version — the public
//! header of Q024–Q046 with its version flag, the long header of
//! Q043–Q046, the IETF-style long header of Q050 — gives one record, as
//! Suricata 7 writes one per such packet: the version, and from the
//! client's hello (a CHLO message: tag/offset list, then the values) its
//! SNI, user agent (`UAID`) and CYU fingerprint (MD5 of
//! `version,TAG-TAG-...`, Q043–Q046). Q050's Initials are protected with
//! keys of its own salt (as IETF Initials are) and decrypted; the frames
//! are read the way Suricata 7 reads them, its quirks included, so that
//! the records are the same (docs/parsers.md, "Google QUIC").

use super::{Keys, MAX_INITIALS, VersionParams, decrypt, initial_keys};
use crate::parsers::L7Message;
use crate::parsers::anomalies::Anomalies;
use crate::parsers::fingerprint::{Ja3, ja3_of};
use crate::parsers::reader::Reader;
use crate::{AppEvent, FlowSide};

/// Google QUIC Q046: long header, IETF packet types.
const Q046: u32 = 0x5130_3436;
/// Google QUIC Q050: IETF-style long header and Initial protection.
const Q050: u32 = 0x5130_3530;
/// Q050's Initial salt.
const SALT_Q050: [u8; 20] = [
    0x50, 0x45, 0x74, 0xef, 0xd0, 0x66, 0xfe, 0x2f, 0x9d, 0x94, 0x5c, 0xfc, 0xdb, 0xd3, 0xa7, 0xf0,
    0xd3, 0xb5, 0x6b, 0x45,
];
/// Packets with a version recorded per side, at most (as many as the IETF
/// path decrypts); the next is reported (`too_many_packets`).
const MAX_PACKETS: u32 = MAX_INITIALS;
/// Tags of one handshake message read, at most; a message with more is
/// not read (`too_many_tags`).
pub const MAX_TAGS: usize = 128;
/// Bytes of an SNI or UAID value kept; a longer one is cut
/// (`long_tag_value`).
pub const MAX_VALUE: usize = 512;
/// Anomalies kept before the driver takes them (it does after each call).
const MAX_PENDING_EVENTS: usize = 8;

/// The tags Suricata 7's reader knows: a message with another tag (as
/// its tag or in its list) is not read.
const TAGS: [&[u8; 4]; 30] = [
    b"AEAD", b"CCRT", b"CCS\0", b"CETV", b"CFCW", b"CHLO", b"COPT", b"CSCT", b"CTIM", b"ICSL",
    b"IRTT", b"KEXS", b"MIDS", b"MSPC", b"NONC", b"NONP", b"PAD\0", b"PDMD", b"PUBS", b"SCID",
    b"SCLS", b"SFCW", b"SMHL", b"SNI\0", b"SNO\0", b"STK\0", b"TCID", b"UAID", b"VER\0", b"XLCT",
];

/// One gQUIC packet's record (EVE `quic`; its source is the packet's
/// sender).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GquicPacket {
    /// The version its header carries.
    pub version: u32,
    /// The CHLO's `SNI` value (at most [`MAX_VALUE`] bytes).
    pub sni: Option<Vec<u8>>,
    /// The CHLO's `UAID` value (at most [`MAX_VALUE`] bytes).
    pub ua: Option<Vec<u8>>,
    /// CYU of each handshake message read (Q043–Q046 only).
    pub cyu: Vec<Ja3>,
}

/// A packet's type as Suricata sorts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Carries frames in clear (Q050: protected with the Initial keys).
    Initial,
    /// Other long-header packets: the version alone.
    Other,
    /// No version: nothing more is read in the datagram.
    Short,
}

/// A packet header.
#[derive(Debug)]
struct Header<'a> {
    version: u32,
    kind: Kind,
    dcid: &'a [u8],
    /// Header bytes (Q050 Initials: up to the packet number).
    hlen: usize,
    /// Where the packet ends in its datagram.
    end: usize,
    /// An IETF-style Initial (length field, packet protection).
    ietf_initial: bool,
}

/// Q043–Q046: gQUIC's own long header (connection id lengths in one
/// byte; Initials with a 4-byte packet number and a 12-byte hash).
fn gquic_long(v: u32) -> bool {
    (0x5130_3433..=Q046).contains(&v)
}

/// `Q` and three digits: a Google QUIC version.
fn google_version(v: u32) -> bool {
    let [q, a, b, c] = v.to_be_bytes();
    q == b'Q' && a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit()
}

/// The packet header at the start of `d`, read as Suricata 7 does.
fn header(d: &[u8]) -> Option<Header<'_>> {
    let mut r = Reader::new(d);
    let first = r.u8()?;
    if first & 0xc0 == 0 {
        return public_header(first, r);
    }
    if first & 0x80 == 0 {
        let short = Header {
            version: 0,
            kind: Kind::Short,
            dcid: &[],
            hlen: 1,
            end: d.len(),
            ietf_initial: false,
        };
        return Some(short);
    }
    let version = r.u32()?;
    let gquic = gquic_long(version);
    let kind = if version == 0 {
        Kind::Other
    } else if gquic && version != Q046 {
        match first & 0x7f {
            0x7f => Kind::Initial,
            0x7c..=0x7e => Kind::Other,
            _ => return None,
        }
    } else if (first >> 4) & 3 == 0 {
        Kind::Initial
    } else {
        Kind::Other
    };
    let dcid = if gquic {
        let lens = r.u8()?;
        let cid = |n: u8| if n == 0 { 0 } else { usize::from(n) + 3 };
        let dcid = r.take(cid(lens >> 4))?;
        r.take(cid(lens & 0x0f))?;
        dcid
    } else {
        let n = r.u8()?;
        let dcid = r.take(usize::from(n))?;
        let n = r.u8()?;
        r.take(usize::from(n))?;
        dcid
    };
    let ietf_initial = kind == Kind::Initial && !gquic;
    if kind == Kind::Initial {
        if gquic {
            // Packet number, message authentication hash.
            r.take(4 + 12)?;
        } else {
            let token = usize::try_from(r.varint()?).ok()?;
            r.take(token)?;
        }
    }
    let end = if ietf_initial {
        let len = usize::try_from(r.varint()?).ok()?;
        if len > r.left() || len > usize::from(u16::MAX) {
            return None;
        }
        r.pos() + len
    } else {
        d.len()
    };
    Some(Header {
        version,
        kind,
        dcid,
        hlen: r.pos(),
        end,
        ietf_initial,
    })
}

/// The public header of Q024–Q046 (first byte: public flags, bits 0x80
/// and 0x40 clear): connection id (flag 0x08), diversification nonce
/// (0x04, read only without a connection id, as Suricata does), version
/// (0x01), packet number (1–4 bytes by bits 0x30) and, with a connection
/// id, the 12-byte hash. Without a version it is a short packet.
fn public_header(first: u8, mut r: Reader<'_>) -> Option<Header<'_>> {
    let with_cid = first & 0x08 != 0;
    let dcid = if with_cid { r.take(8)? } else { &[] };
    if first & 0x04 != 0 && !with_cid {
        r.take(32)?;
    }
    let version = if first & 0x01 != 0 { r.u32()? } else { 0 };
    r.take(1 + usize::from((first & 0x30) >> 4))?;
    if with_cid {
        r.take(12)?;
    }
    let kind = if first & 0x01 != 0 {
        Kind::Initial
    } else {
        Kind::Short
    };
    let hlen = r.pos();
    let end = hlen + r.left();
    Some(Header {
        version,
        kind,
        dcid,
        hlen,
        end,
        ietf_initial: false,
    })
}

/// Content probe: a packet with a Google version (`Q` and three digits)
/// in its header, from either side.
pub fn probe(b: &[u8]) -> bool {
    header(b).is_some_and(|h| h.kind != Kind::Short && google_version(h.version))
}

/// A public header with a connection id and no version, whole (a packet
/// after the handshake).
pub(super) fn short_with_cid(b: &[u8]) -> bool {
    header(b).is_some_and(|h| h.kind == Kind::Short && h.dcid.len() == 8)
}

/// The version CYU strings start with (Suricata's: Q045 counts as 44).
fn cyu_version(v: u32) -> Option<&'static str> {
    Some(match v {
        0x5130_3433 => "43",
        0x5130_3434 | 0x5130_3435 => "44",
        Q046 => "46",
        _ => return None,
    })
}

/// What one packet's frames gave.
#[derive(Default)]
struct Found<'a> {
    sni: Option<&'a [u8]>,
    ua: Option<&'a [u8]>,
    cyu: Vec<Ja3>,
    too_many_tags: bool,
}

/// The gQUIC state of one flow.
#[derive(Default)]
pub(super) struct Gquic {
    /// Q050's Initial keys (client's, server's), from the first Initial.
    keys: Option<[Keys; 2]>,
    /// Packets recorded per side.
    packets: [u32; 2],
    /// The next record's number in the flow (the anomalies' `tx_id`).
    next_tx: u64,
    events: Anomalies<MAX_PENDING_EVENTS>,
}

impl Gquic {
    fn event(&mut self, name: &'static str, tx_id: Option<u64>) {
        self.events.push("quic", name, tx_id);
    }

    /// The next anomaly.
    pub(super) fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }

    /// The packets of one datagram from `side`: a record for each that
    /// carries a version, until one that does not or one that fails.
    pub(super) fn parse(&mut self, d: &[u8], side: FlowSide) -> Vec<L7Message> {
        let k = side.index();
        let mut out = Vec::new();
        let mut buf = d;
        while !buf.is_empty() {
            let Some(h) = header(buf) else { break };
            if h.kind == Kind::Short {
                break;
            }
            if self.packets[k] >= MAX_PACKETS {
                if self.packets[k] == MAX_PACKETS {
                    self.packets[k] += 1;
                    self.event("too_many_packets", None);
                }
                break;
            }
            self.packets[k] += 1;
            let Some((pkt, next)) = buf.split_at_checked(h.end) else {
                break;
            };
            buf = next;
            if self.keys.is_none() && h.kind == Kind::Initial && h.version == Q050 {
                let p = VersionParams {
                    salt: SALT_Q050,
                    v2_labels: false,
                    initial_type: 0,
                };
                self.keys = initial_keys(&p, h.dcid, 0)
                    .zip(initial_keys(&p, h.dcid, 1))
                    .map(|(c, s)| [c, s]);
            }
            let tx = self.next_tx;
            self.next_tx += 1;
            let mut rec = GquicPacket {
                version: h.version,
                ..GquicPacket::default()
            };
            if h.kind != Kind::Initial {
                out.push(L7Message::Gquic(Box::new(rec)));
                continue;
            }
            let plain;
            let payload = match &self.keys {
                Some(keys) if h.ietf_initial => match decrypt(&keys[k], pkt, h.hlen) {
                    Some(p) => {
                        plain = p;
                        &plain[..]
                    }
                    None => {
                        self.event("failed_decrypt", Some(tx));
                        out.push(L7Message::Gquic(Box::new(rec)));
                        break;
                    }
                },
                _ => pkt.get(h.hlen..).unwrap_or_default(),
            };
            let mut found = Found::default();
            let ok = frames(payload, cyu_version(h.version), &mut found).is_some();
            if found.too_many_tags {
                self.event("too_many_tags", Some(tx));
            }
            if !ok {
                self.event("error_on_data", Some(tx));
                out.push(L7Message::Gquic(Box::new(rec)));
                break;
            }
            let long = [found.sni, found.ua]
                .iter()
                .any(|v| v.is_some_and(|v| v.len() > MAX_VALUE));
            if long {
                self.event("long_tag_value", Some(tx));
            }
            let kept = |v: &[u8]| v[..v.len().min(MAX_VALUE)].to_vec();
            rec.sni = found.sni.map(kept);
            rec.ua = found.ua.map(kept);
            rec.cyu = found.cyu;
            out.push(L7Message::Gquic(Box::new(rec)));
        }
        out
    }
}

/// Reads a packet's frames as Suricata 7 does: STREAM (type bit 0x80:
/// stream id, offset, optional 2-byte length), PADDING, PING, ACK and
/// CRYPTO in IETF encoding, Q050's CRYPTO (0x08); any other type takes
/// the rest of the packet. `None`: a frame did not fit (Suricata's
/// `error_on_data`). The values found stay in `found` only on success.
fn frames<'a>(p: &'a [u8], cyu: Option<&str>, found: &mut Found<'a>) -> Option<()> {
    let mut r = Reader::new(p);
    while r.any_left() {
        let ty = r.u8()?;
        if ty & 0x80 != 0 {
            let offset_len = match (ty >> 2) & 7 {
                0 => 0,
                n => usize::from(n) + 1,
            };
            r.take(usize::from(ty & 3) + 1)?;
            r.take(offset_len)?;
            let data = if ty & 0x20 != 0 {
                let len = r.u16()?;
                r.take(usize::from(len))?
            } else {
                r.rest()
            };
            message(data, cyu, found);
            continue;
        }
        match ty {
            0x00 => {
                let rest = p.get(r.pos()..).unwrap_or_default();
                r.take(rest.iter().take_while(|&&b| b == 0).count())?;
            }
            0x01 => {}
            0x02 => {
                r.varint()?;
                r.varint()?;
                let ranges = r.varint()?;
                r.varint()?;
                // Each range is two varints (two bytes at least): the
                // loop ends when the packet does.
                for _ in 0..ranges {
                    r.varint()?;
                    r.varint()?;
                }
            }
            0x06 => {
                let offset = r.varint()?;
                let len = usize::try_from(r.varint()?).ok()?;
                let data = r.take(len)?;
                // A TLS handshake message: a fragment is kept aside, a
                // whole one must be a hello (never in gQUIC: not read).
                if offset == 0 && !tls_incomplete(data) {
                    return None;
                }
            }
            0x08 => {
                r.varint()?;
                let len = r.varint()?;
                if len > u64::from(u32::MAX) {
                    return None;
                }
                let data = r.take(usize::try_from(len).ok()?)?;
                message(data, cyu, found);
            }
            _ => {
                r.rest();
            }
        }
    }
    Some(())
}

/// A TLS handshake message cut short (its header or its body).
fn tls_incomplete(d: &[u8]) -> bool {
    match d {
        [_, a, b, c, body @ ..] => usize::from_be_bytes([0, 0, 0, 0, 0, *a, *b, *c]) > body.len(),
        _ => true,
    }
}

/// The tag name as Suricata writes it (`SNI`, not `SNI\0`).
fn tag_name(t: &[u8]) -> &str {
    std::str::from_utf8(t).unwrap_or("").trim_end_matches('\0')
}

/// One handshake message (a stream's whole data): message tag, number of
/// entries (little-endian u16), two bytes of padding, the (tag, end
/// offset) entries (little-endian u32 offsets), then the values, which
/// must end the data. A message that does not read so is left alone.
fn message<'a>(d: &'a [u8], cyu: Option<&str>, found: &mut Found<'a>) {
    let mut r = Reader::new(d);
    let known = |t: &[u8]| TAGS.iter().any(|k| &k[..] == t);
    let read = (|| {
        let tag = r.take(4)?;
        if !known(tag) {
            return None;
        }
        let n = usize::from(u16::from_le_bytes(r.take(2)?.try_into().ok()?));
        r.take(2)?;
        if n > MAX_TAGS {
            found.too_many_tags = true;
            return None;
        }
        let entries = r.take(n * 8)?;
        let values = r.pos();
        let mut prev = 0u32;
        for e in entries.chunks_exact(8) {
            let (tag, off) = e.split_at(4);
            let off = u32::from_le_bytes(off.try_into().ok()?);
            let len = off.checked_sub(prev)?;
            if !known(tag) {
                return None;
            }
            r.take(usize::try_from(len).ok()?)?;
            prev = off;
        }
        (!r.any_left()).then_some((entries, values))
    })();
    let Some((entries, values)) = read else {
        return;
    };
    let mut start = values;
    for e in entries.chunks_exact(8) {
        let (tag, off) = e.split_at(4);
        let end = off
            .try_into()
            .ok()
            .map(u32::from_le_bytes)
            .and_then(|o| usize::try_from(o).ok())
            .map_or(start, |o| values.saturating_add(o));
        let value = d.get(start..end).unwrap_or_default();
        start = end;
        if tag == b"SNI\0" {
            found.sni = Some(value);
        } else if tag == b"UAID" {
            found.ua = Some(value);
        }
        if found.sni.is_some() && found.ua.is_some() {
            break;
        }
    }
    if let Some(v) = cyu {
        let mut s = String::with_capacity(3 + entries.len());
        s.push_str(v);
        s.push(',');
        for (i, e) in entries.chunks_exact(8).enumerate() {
            if i > 0 {
                s.push('-');
            }
            s.push_str(tag_name(e.get(..4).unwrap_or_default()));
        }
        found.cyu.push(ja3_of(s));
    }
}

#[cfg(test)]
mod tests;
