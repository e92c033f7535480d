//! The HTTP/2 parser on the session API, and its acknowledgement timing
//! ([`Http2Parser::timed_by_acks`]): Suricata in IDS mode reads each
//! direction's bytes once the peer has acknowledged them, and numbers its
//! transactions in that reading order (a server's SETTINGS read before
//! the client's first HEADERS gets the lower `tx_id`). With the timing on,
//! each direction's bytes are held until acknowledged (at most
//! [`MAX_UNACKED`] per direction: beyond, the oldest are read at once),
//! read before a gap, and read at flow end (however it ends), the client's
//! first.

use super::{Http2Parser, L7Message};
use crate::parsers::held::Held;
use crate::session::SessionParser;

/// Bytes held per direction while waiting for their acknowledgement.
pub const MAX_UNACKED: usize = 256 * 1024;

impl Http2Parser {
    /// Reads each direction once acknowledged, as Suricata does, so that
    /// transactions get its numbers; the driver then calls
    /// [`SessionParser::acked_initiator`] / `acked_responder`.
    pub fn timed_by_acks(self) -> Self {
        self.timed_by_acks_from([0, 0])
    }

    /// [`timed_by_acks`](Self::timed_by_acks) for a parser that takes a
    /// connection over mid-stream (an h2c upgrade): its first bytes are at
    /// these stream offsets (client's, server's), the ones acknowledgements
    /// count from.
    pub fn timed_by_acks_from(mut self, offsets: [u64; 2]) -> Self {
        self.acks = Some(Box::new(Held::from_offsets(offsets)));
        self
    }

    /// Direction `k`'s next bytes: read now, or held.
    fn arrived(&mut self, k: usize, b: &[u8], out: &mut Vec<L7Message>) {
        let Some(h) = self.acks.as_deref_mut() else {
            self.feed(k, b, out);
            return;
        };
        h.push(k, b);
        if let Some(first) = h.over(k, MAX_UNACKED) {
            self.feed(k, &first, out);
        }
    }

    /// The peer acknowledged direction `k` up to stream offset `offset`.
    /// After an h2c upgrade the server's bytes wait for the client's
    /// preface to be read (Suricata starts the new protocol from the
    /// client's side), so the client's SETTINGS come first.
    fn acked(&mut self, k: usize, offset: u64, out: &mut Vec<L7Message>) {
        if k == 1 && self.upgraded && matches!(self.sides[0].stage, super::Stage::Preface(_)) {
            return;
        }
        if let Some(bytes) = self.acks.as_deref_mut().and_then(|h| h.acked(k, offset)) {
            self.feed(k, &bytes, out);
        }
    }

    /// Reads everything held of direction `k`.
    fn release(&mut self, k: usize, out: &mut Vec<L7Message>) {
        if let Some(bytes) = self.acks.as_deref_mut().and_then(|h| h.all(k)) {
            self.feed(k, &bytes, out);
        }
    }

    fn gap(&mut self, k: usize, len: u64) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.release(k, &mut out);
        if let Some(h) = self.acks.as_deref_mut() {
            h.skip(k, len);
        }
        self.stop(k);
        out
    }
}

impl SessionParser for Http2Parser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.arrived(0, bytes, &mut out);
        out
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.arrived(1, bytes, &mut out);
        out
    }

    /// A gap loses the framing and the dynamic table: the side stops
    /// (after reading what came before).
    fn gap_initiator(&mut self, len: u64) -> Vec<L7Message> {
        self.gap(0, len)
    }

    fn gap_responder(&mut self, len: u64) -> Vec<L7Message> {
        self.gap(1, len)
    }

    /// Any end (FIN, RST, timeout, eviction, end of input): what is held
    /// is read, then the open streams are reported.
    fn flow_end(&mut self) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.release(0, &mut out);
        self.release(1, &mut out);
        self.finish(&mut out);
        // What the held bytes completed and what stays open go out
        // together, by number, as Suricata logs a flow's last
        // transactions.
        #[allow(unreachable_patterns)]
        out.sort_by_key(|m| match m {
            L7Message::Http2(t) => t.tx_id,
            _ => u64::MAX,
        });
        out
    }

    fn acked_initiator(&mut self, offset: u64) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.acked(0, offset, &mut out);
        out
    }

    fn acked_responder(&mut self, offset: u64) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.acked(1, offset, &mut out);
        out
    }

    fn wants_acks(&self) -> bool {
        self.acks.is_some() && self.sides.iter().any(|s| s.stage != super::Stage::Done)
    }

    fn next_event(&mut self) -> Option<crate::AppEvent> {
        self.events.next()
    }

    fn is_transaction(msg: &L7Message) -> bool {
        matches!(msg, L7Message::Http2(_))
    }
}
