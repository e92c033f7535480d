//! DNS over UDP ([`DnsUdpParser`]) and over TCP ([`DnsTcpParser`], 2-byte
//! length framing), with the query/response matching both share: a
//! response is paired with its pending query (RTT), and queries never
//! answered are reported once they time out or the flow ends. A message
//! with a name cut to 1025 bytes raises Suricata's `name_too_long` event.

use super::{DnsKind, DnsMessage, parse_message};
use crate::parsers::anomalies::Anomalies;
use crate::parsers::{DnsConfig, L7Message};
use crate::session::{DatagramParser, SessionParser};
use crate::timestamp::Timestamp;
use crate::{AppEvent, FlowSide};
use std::collections::VecDeque;

/// Anomalies held between two takes by the driver (one datagram's or
/// chunk's).
const MAX_PENDING_EVENTS: usize = 64;

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Query/response matching shared by the UDP and TCP parsers.
#[derive(Debug, Clone)]
struct Correlator {
    cfg: DnsConfig,
    now: Timestamp,
    /// Queries waiting for a response, oldest first.
    pending: VecDeque<(Timestamp, DnsMessage)>,
    /// Messages that failed to decode (counted, skipped).
    malformed: u64,
    /// Messages decoded (each one a transaction, numbered from 0).
    txs: u64,
    /// Protocol anomalies not yet taken.
    events: Anomalies<MAX_PENDING_EVENTS>,
}

/// Suricata's event for a name over 1025 bytes.
pub const NAME_TOO_LONG: &str = "name_too_long";

impl Correlator {
    fn new(cfg: DnsConfig) -> Self {
        Correlator {
            cfg,
            now: Timestamp::default(),
            pending: VecDeque::new(),
            malformed: 0,
            txs: 0,
            events: Anomalies::default(),
        }
    }

    fn unanswered(&self, at: Timestamp, mut q: DnsMessage) -> L7Message {
        q.kind = DnsKind::Unanswered;
        q.rtt_us = Some(micros(self.now.saturating_sub(at)));
        L7Message::Dns(Box::new(q))
    }

    /// Reports queries older than the timeout.
    fn expire(&mut self, out: &mut Vec<L7Message>) {
        let timeout = self.cfg.query_timeout_ms.saturating_mul(1000);
        while let Some((at, _)) = self.pending.front() {
            if micros(self.now.saturating_sub(*at)) < timeout {
                break;
            }
            if let Some((at, q)) = self.pending.pop_front()
                && self.cfg.report_unanswered
            {
                out.push(self.unanswered(at, q));
            }
        }
    }

    fn message(&mut self, payload: &[u8], tcp: bool, out: &mut Vec<L7Message>) {
        self.expire(out);
        let mut m = match parse_message(payload, tcp) {
            Ok(m) => m,
            Err(_) => {
                self.malformed += 1;
                return;
            }
        };
        if m.has_cut_name() {
            self.events.push("dns", NAME_TOO_LONG, Some(self.txs));
        }
        m.tx_id = self.txs;
        self.txs += 1;
        if m.is_response() {
            let q = self
                .pending
                .iter()
                .position(|(_, q)| q.id == m.id && q.questions == m.questions);
            if let Some(i) = q
                && let Some((at, _)) = self.pending.remove(i)
            {
                m.rtt_us = Some(micros(self.now.saturating_sub(at)));
            }
        } else if self.cfg.max_pending > 0 {
            if self.pending.len() >= self.cfg.max_pending
                && let Some((at, q)) = self.pending.pop_front()
                && self.cfg.report_unanswered
            {
                out.push(self.unanswered(at, q));
            }
            // Only the header and questions are needed to match and report.
            let mut q = m.header();
            q.questions = m.questions.clone();
            self.pending.push_back((self.now, q));
        }
        out.push(L7Message::Dns(Box::new(m)));
    }

    fn end(&mut self) -> Vec<L7Message> {
        let mut out = Vec::new();
        for (at, q) in std::mem::take(&mut self.pending) {
            if self.cfg.report_unanswered {
                out.push(self.unanswered(at, q));
            }
        }
        out
    }
}

/// DNS over UDP: one message per datagram.
#[derive(Debug, Clone)]
pub struct DnsUdpParser {
    corr: Correlator,
}

impl Default for DnsUdpParser {
    fn default() -> Self {
        DnsUdpParser::new(DnsConfig::default())
    }
}

impl DnsUdpParser {
    /// A parser with these options.
    pub fn new(cfg: DnsConfig) -> Self {
        DnsUdpParser {
            corr: Correlator::new(cfg),
        }
    }

    /// Datagrams that did not decode as DNS (skipped).
    pub fn malformed(&self) -> u64 {
        self.corr.malformed
    }
}

impl DatagramParser for DnsUdpParser {
    type Message = L7Message;

    fn parse(&mut self, payload: &[u8], _side: FlowSide) -> Vec<L7Message> {
        // An empty datagram (the driver passes those on) says nothing.
        if payload.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        self.corr.message(payload, false, &mut out);
        out
    }

    fn packet_time(&mut self, ts: Timestamp) {
        self.corr.now = ts;
    }

    fn flow_end(&mut self) -> Vec<L7Message> {
        self.corr.end()
    }

    fn is_transaction(msg: &L7Message) -> bool {
        is_transaction(msg)
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.corr.events.next()
    }
}

/// Queries and responses are transactions (as Suricata counts them); the
/// reports of queries never answered are not.
fn is_transaction(msg: &L7Message) -> bool {
    matches!(msg, L7Message::Dns(d) if d.kind != DnsKind::Unanswered)
}

/// One direction's framing state.
#[derive(Debug, Clone, Default)]
struct Framer {
    /// Bytes of an incomplete message (length prefix included).
    buf: Vec<u8>,
    /// After a gap: the next feed starts a fresh message.
    lost: bool,
}

/// DNS over TCP: each message is preceded by its 2-byte length; messages
/// may share a segment or span several.
#[derive(Debug, Clone)]
pub struct DnsTcpParser {
    corr: Correlator,
    sides: [Framer; 2],
}

impl Default for DnsTcpParser {
    fn default() -> Self {
        DnsTcpParser::new(DnsConfig::default())
    }
}

impl DnsTcpParser {
    /// A parser with these options.
    pub fn new(cfg: DnsConfig) -> Self {
        DnsTcpParser {
            corr: Correlator::new(cfg),
            sides: Default::default(),
        }
    }

    /// Messages that did not decode (skipped).
    pub fn malformed(&self) -> u64 {
        self.corr.malformed
    }

    fn feed(&mut self, k: usize, mut bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        let framer = &mut self.sides[k];
        if framer.lost {
            // Segments usually start at a message: resynchronise there.
            framer.lost = false;
            framer.buf.clear();
        }
        loop {
            let framer = &mut self.sides[k];
            if framer.buf.is_empty() {
                // Whole messages straight from the segment, no copy.
                if bytes.len() < 2 {
                    framer.buf.extend_from_slice(bytes);
                    break;
                }
                let len = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
                if bytes.len() < 2 + len {
                    framer.buf.extend_from_slice(bytes);
                    break;
                }
                let (msg, rest) = bytes[2..].split_at(len);
                self.corr.message(msg, true, &mut out);
                bytes = rest;
                if bytes.is_empty() {
                    break;
                }
            } else {
                // Complete the buffered message (at most 2 + 65535 bytes).
                if framer.buf.len() < 2 {
                    let n = (2 - framer.buf.len()).min(bytes.len());
                    framer.buf.extend_from_slice(&bytes[..n]);
                    bytes = &bytes[n..];
                    if framer.buf.len() < 2 {
                        break;
                    }
                }
                let len = usize::from(u16::from_be_bytes([framer.buf[0], framer.buf[1]]));
                let need = 2 + len - framer.buf.len();
                let n = need.min(bytes.len());
                framer.buf.extend_from_slice(&bytes[..n]);
                bytes = &bytes[n..];
                if framer.buf.len() < 2 + len {
                    break;
                }
                let msg = std::mem::take(&mut framer.buf);
                self.corr.message(&msg[2..], true, &mut out);
                let framer = &mut self.sides[k];
                framer.buf = msg;
                framer.buf.clear();
                if bytes.is_empty() {
                    break;
                }
            }
        }
        out
    }
}

impl SessionParser for DnsTcpParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(0, bytes)
    }
    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(1, bytes)
    }
    fn gap_initiator(&mut self, _len: u64) -> Vec<L7Message> {
        self.sides[0].lost = true;
        Vec::new()
    }
    fn gap_responder(&mut self, _len: u64) -> Vec<L7Message> {
        self.sides[1].lost = true;
        Vec::new()
    }
    fn packet_time(&mut self, ts: Timestamp) {
        self.corr.now = ts;
    }
    fn flow_end(&mut self) -> Vec<L7Message> {
        self.corr.end()
    }

    fn is_transaction(msg: &L7Message) -> bool {
        is_transaction(msg)
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.corr.events.next()
    }
}
