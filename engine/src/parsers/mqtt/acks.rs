//! The MQTT parser on the session API, and its acknowledgement timing
//! ([`MqttParser::timed_by_acks`]): Suricata in IDS mode reads each
//! direction's bytes once the peer has acknowledged them, so a broker's
//! PUBLISH to a subscriber and the subscriber's PUBACK are read (and their
//! transactions numbered and reported) in that order. With the timing on,
//! each direction's bytes are held until acknowledged (at most
//! [`MAX_UNACKED`] per direction: beyond, the oldest are read at once),
//! read before a gap, and read at flow end (however it ends), the client's
//! first.

use super::{L7Message, MqttParser};
use crate::AppEvent;
use crate::session::SessionParser;

/// Bytes held per direction while waiting for their acknowledgement.
pub const MAX_UNACKED: usize = 256 * 1024;

impl MqttParser {
    /// Reads each direction once acknowledged, as Suricata does, so that
    /// transactions are grouped and reported in its order; the driver
    /// then calls [`SessionParser::acked_initiator`] / `acked_responder`.
    pub fn timed_by_acks(mut self) -> Self {
        self.acks = Some(Box::default());
        self
    }

    /// Direction `k`'s next bytes: read now, or held.
    fn arrived(&mut self, k: usize, b: &[u8], out: &mut Vec<L7Message>) {
        if self.stopped {
            return;
        }
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
    fn acked(&mut self, k: usize, offset: u64, out: &mut Vec<L7Message>) {
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

    /// A gap: what came before is read, then the parsing stops (Suricata's
    /// MQTT parser does not take gaps); the open transactions wait for the
    /// flow's end.
    fn gap(&mut self, k: usize, len: u64) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.release(k, &mut out);
        if let Some(h) = self.acks.as_deref_mut() {
            h.skip(k, len);
        }
        self.stop();
        out
    }
}

impl SessionParser for MqttParser {
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

    fn gap_initiator(&mut self, len: u64) -> Vec<L7Message> {
        self.gap(0, len)
    }

    fn gap_responder(&mut self, len: u64) -> Vec<L7Message> {
        self.gap(1, len)
    }

    /// Any end (FIN, RST, timeout, eviction, end of input): what is held
    /// is read, then the open transactions are reported.
    fn flow_end(&mut self) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.release(0, &mut out);
        self.release(1, &mut out);
        self.finish(&mut out);
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
        self.acks.is_some() && !self.stopped
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }

    fn is_transaction(msg: &L7Message) -> bool {
        matches!(msg, L7Message::Mqtt(_))
    }
}
