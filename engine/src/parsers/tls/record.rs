//! The TLS record layer: records cut from the byte stream (whole ones
//! straight from the segment, partial ones buffered up to the ciphertext
//! limit), a load balancer's PROXY protocol header skipped, the
//! SSLv2-compatible ClientHello recognised, alerts read, and the content
//! probe that tells TLS from other protocols.

use super::{Alert, TlsParser};
use crate::FlowSide;
use crate::parsers::L7Message;
use crate::parsers::hello::parse_sslv2_client_hello;

/// Record header length.
pub(super) const RECORD_HEADER: usize = 5;
/// Longest record body accepted (2^14 + 2048, the ciphertext limit).
const MAX_RECORD: usize = 16_384 + 2048;
/// Content types.
const CT_CHANGE_CIPHER_SPEC: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
pub(super) const CT_APPLICATION_DATA: u8 = 23;

/// Does `b` start like an SSLv2-compatible ClientHello?
fn looks_sslv2_hello(b: &[u8]) -> bool {
    b.len() >= 5 && b[0] & 0x80 != 0 && b[2] == 1 && (b[3] == 0x03 || (b[3] == 0 && b[4] == 2))
}

/// The body length a record header announces (`header` holds at least
/// [`RECORD_HEADER`] bytes).
pub(super) fn body_len(header: &[u8]) -> usize {
    usize::from(u16::from_be_bytes([header[3], header[4]]))
}

/// Does `b` start like a TLS record (type, version 3.x, sane length)?
pub(super) fn looks_like_record(b: &[u8]) -> bool {
    b.len() >= RECORD_HEADER
        && (CT_CHANGE_CIPHER_SPEC..=CT_APPLICATION_DATA).contains(&b[0])
        && b[1] == 3
        && b[2] <= 4
        && body_len(b) <= MAX_RECORD
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

impl TlsParser {
    /// Direction `k`'s next bytes.
    pub(super) fn feed(&mut self, k: usize, mut b: &[u8], out: &mut Vec<L7Message>) {
        while !b.is_empty() && !self.dirs[k].done {
            if self.dirs[k].encrypted {
                // Acknowledgement timing: encrypted records are only counted.
                self.skip_encrypted(k, &mut b, out);
                continue;
            }
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
                if k == 1 {
                    self.server_record(b);
                }
                if !looks_like_record(b) {
                    self.give_up(k);
                    return;
                }
                if b[0] == CT_APPLICATION_DATA && self.acks.is_some() {
                    // Read as it comes, like the encrypted records.
                    self.encrypted(k, out);
                    continue;
                }
                let len = RECORD_HEADER + body_len(b);
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
                if k == 1 {
                    let header = [d.record[0], d.record[1], d.record[2]];
                    self.server_record(&header);
                }
                let d = &mut self.dirs[k];
                if !looks_like_record(&d.record) {
                    self.give_up(k);
                    return;
                }
                if d.record[0] == CT_APPLICATION_DATA && self.acks.is_some() {
                    // Read as it comes: the header goes on to the skipping.
                    let header = std::mem::take(&mut d.record);
                    self.encrypted(k, out);
                    self.dirs[k].record = header;
                    continue;
                }
            }
            let d = &mut self.dirs[k];
            let len = RECORD_HEADER + body_len(&d.record);
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

    /// The start of a server record (`header`: its first 3 bytes at
    /// least): until the ServerHello, its version is the one reported (an
    /// SSLv2 record's first byte has one of its top two bits set).
    fn server_record(&mut self, header: &[u8]) {
        if self.hs.server_hello.is_none() {
            self.hs.server_record_version = Some(if header[0] & 0xc0 != 0 {
                super::SSLV2
            } else {
                u16::from_be_bytes([header[1], header[2]])
            });
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
                    if !d.done && !d.encrypted {
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
            // Application data, encrypted alerts (longer bodies) and
            // everything after CCS: this direction is encrypted.
            CT_APPLICATION_DATA => self.application_data(k, out),
            CT_ALERT | CT_CHANGE_CIPHER_SPEC => self.encrypted(k, out),
            _ => {}
        }
    }
}
