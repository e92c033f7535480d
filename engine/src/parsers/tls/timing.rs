//! Acknowledgement timing ([`TlsParser::timed_by_acks`]): the handshake is
//! read as Suricata in IDS mode reads it, each direction's bytes once the
//! peer has acknowledged them, and reported at the packet where Suricata
//! reports it. Suricata 7 marks a TLS handshake done, and logs its `tls`
//! record, when
//!
//! - the first byte of an application data record has been read in either
//!   direction (a client's 0-RTT data before the ServerHello does not count
//!   when its ClientHello offered early data), or
//! - after reading one acknowledged stretch of either direction that did
//!   not end inside a record (past its header), the server's certificate
//!   is known — the client's, when the server sent a CertificateRequest
//!   (Suricata leaves a record cut by the end of a stretch for later,
//!   whole — except application data — so the check waits for the next
//!   stretch), or
//! - the flow ends, with every byte captured (here flowscope parts from
//!   Suricata, which reads the unacknowledged rest only when the client
//!   has bytes left and never after a reset).
//!
//! Until then the bytes not acknowledged are held here (when more than
//! `MAX_UNACKED` pile up in a direction, they are read as if acknowledged),
//! and after a direction encrypts its records are only cut, never
//! buffered.

use super::record::{CT_APPLICATION_DATA, RECORD_HEADER, body_len, looks_like_record};
use super::{TlsParser, TlsStop};
use crate::parsers::L7Message;

/// Bytes held per direction while waiting for their acknowledgement.
const MAX_UNACKED: usize = 128 * 1024;

/// The early_data extension: 0-RTT data may follow the ClientHello.
const EXT_EARLY_DATA: u16 = 42;

/// The bytes of each direction not acknowledged yet.
#[derive(Debug, Clone, Default)]
pub(super) struct Unacked {
    /// Per direction: the bytes held, from stream offset `at`.
    held: [Vec<u8>; 2],
    /// Stream offset of `held[k][0]` (every byte before it was read).
    at: [u64; 2],
    /// Bytes lost to the capture right after the held ones; nothing after
    /// them is kept (a gap ends reading in clear).
    gap: [Option<u64>; 2],
}

impl TlsParser {
    /// Reports the handshake where Suricata does (see the module
    /// documentation): the parser then needs its driver's acknowledgements
    /// ([`SessionParser::acked_initiator`](crate::SessionParser::acked_initiator)),
    /// which the [`Sessions`](crate::Sessions) driver gives. Without them
    /// everything is read, and reported, at the flow's end.
    pub fn timed_by_acks(mut self) -> Self {
        self.acks = Some(Box::default());
        self
    }

    /// Whether acknowledgements are still of use: not once reported, nor
    /// when both directions stopped reading.
    pub(super) fn wants_acks(&self) -> bool {
        self.acks.is_some() && !self.emitted && !self.dirs.iter().all(|d| d.done)
    }

    /// Direction `k`'s next bytes: read now, or held until acknowledged.
    pub(super) fn arrived(&mut self, k: usize, b: &[u8], out: &mut Vec<L7Message>) {
        let Some(u) = self.acks.as_deref_mut() else {
            self.feed(k, b, out);
            return;
        };
        if self.emitted || u.gap[k].is_some() || self.dirs[k].done {
            // Nothing more of this direction will be read.
            return;
        }
        u.held[k].extend_from_slice(b);
        let held = u.held[k].len();
        if held > MAX_UNACKED {
            // Never acknowledged (a one-sided capture, say): read it all,
            // the next bytes start a fresh batch.
            self.read_held(k, held, out);
        }
    }

    /// `len` bytes of direction `k` were lost to the capture.
    pub(super) fn gap_arrived(&mut self, k: usize, len: u64) {
        match self.acks.as_deref_mut() {
            None => self.gap(k, len),
            Some(u) => {
                if u.gap[k].is_none() && !self.emitted {
                    u.gap[k] = Some(len);
                }
            }
        }
    }

    /// The peer acknowledged direction `k` up to stream offset `offset`:
    /// the held bytes before it are read, then Suricata's end-of-read check
    /// runs.
    pub(super) fn acked(&mut self, k: usize, offset: u64, out: &mut Vec<L7Message>) {
        let Some(u) = self.acks.as_deref() else {
            return;
        };
        if self.emitted || offset <= u.at[k] {
            return;
        }
        let held_end = u.at[k] + u.held[k].len() as u64;
        let n = offset.min(held_end) - u.at[k];
        let past_gap = offset > held_end && u.gap[k].is_some();
        self.read_held(k, n as usize, out);
        if past_gap {
            self.read_gap(k);
        }
        self.check_handshake_done(k, out);
    }

    /// The flow ended: the handshake is reported if it was not yet, with
    /// every byte captured — the held ones too, acknowledged or not, even
    /// after a reset. Suricata's end-of-flow pass reads held bytes only
    /// when the client has some left and none after a reset, so its record
    /// can lack the server's hello and certificate that the capture holds;
    /// flowscope keeps them (docs/parsers.md, "TLS timing").
    pub(super) fn end(&mut self, out: &mut Vec<L7Message>) {
        if self.acks.is_some() && !self.emitted {
            for k in 0..2 {
                let n = self.acks.as_deref().map_or(0, |u| u.held[k].len());
                self.read_held(k, n, out);
                self.read_gap(k);
            }
        }
        self.emit(out);
        self.reported();
    }

    /// Reads the first `n` held bytes of direction `k`.
    fn read_held(&mut self, k: usize, n: usize, out: &mut Vec<L7Message>) {
        let Some(u) = self.acks.as_deref_mut() else {
            return;
        };
        if n == 0 {
            return;
        }
        let mut held = std::mem::take(&mut u.held[k]);
        u.at[k] += n as u64;
        self.feed(k, &held[..n], out);
        if let Some(u) = self.acks.as_deref_mut() {
            held.drain(..n);
            u.held[k] = held;
        }
    }

    /// The handshake was reported: nothing more is read.
    fn reported(&mut self) {
        for d in &mut self.dirs {
            d.done = true;
            d.record = Vec::new();
            d.handshake = Vec::new();
        }
        self.acks = None;
    }

    /// The gap after direction `k`'s held bytes, once read up to it.
    fn read_gap(&mut self, k: usize) {
        if let Some(u) = self.acks.as_deref_mut()
            && u.held[k].is_empty()
            && let Some(len) = u.gap[k].take()
        {
            u.at[k] += len;
            self.gap(k, len);
        }
    }

    /// Suricata's check at the end of each read: the server's certificate
    /// is known and direction `k`'s read ended on a record boundary.
    fn check_handshake_done(&mut self, k: usize, out: &mut Vec<L7Message>) {
        // After a CertificateRequest, the client's certificate is the one.
        let cert = match self.client_cert {
            Some(client) => client,
            None => !self.hs.certificates.is_empty(),
        };
        if self.at_boundary(k) && cert && !self.emitted {
            self.hs.stop = TlsStop::HandshakeDone;
            self.emit(out);
            self.reported();
        }
    }

    /// A whole application data record of direction `k`.
    pub(super) fn application_data(&mut self, k: usize, out: &mut Vec<L7Message>) {
        self.encrypted(k, out);
        if self.acks.is_none() {
            return;
        }
        let early = self
            .hs
            .client_hello
            .as_ref()
            .is_some_and(|c| c.extensions.contains(&EXT_EARLY_DATA));
        if early && self.hs.server_hello.is_none() {
            // 0-RTT data: the handshake is not done.
            return;
        }
        self.hs.stop = TlsStop::Encrypted;
        self.emit(out);
        self.reported();
    }

    /// Encrypted records of direction `k` (acknowledgement timing): cut
    /// by their headers, bodies skipped; a whole application data record is
    /// reported.
    pub(super) fn skip_encrypted(&mut self, k: usize, b: &mut &[u8], out: &mut Vec<L7Message>) {
        let d = &mut self.dirs[k];
        if d.skip_left > 0 {
            let n = d.skip_left.min(b.len());
            d.skip_left -= n;
            *b = &b[n..];
            // Suricata reads application data as it comes (no need to
            // wait for the whole record): its first byte is enough.
            if d.skip_type == CT_APPLICATION_DATA {
                self.application_data(k, out);
            }
            return;
        }
        let n = (RECORD_HEADER - d.record.len()).min(b.len());
        d.record.extend_from_slice(&b[..n]);
        *b = &b[n..];
        if d.record.len() < RECORD_HEADER {
            return;
        }
        if !looks_like_record(&d.record) {
            self.give_up(k);
            return;
        }
        d.skip_type = d.record[0];
        d.skip_left = body_len(&d.record);
        d.record.clear();
    }

    /// Whether a read of direction `k` that stopped here did not end inside
    /// a record, as Suricata sees it: it waits for a record whole, except
    /// application data, once it has its header (a read that ends inside a
    /// header does not wait).
    fn at_boundary(&self, k: usize) -> bool {
        let d = &self.dirs[k];
        !d.done
            && d.record.len() < RECORD_HEADER
            && (d.skip_left == 0 || d.skip_type == CT_APPLICATION_DATA)
    }
}
