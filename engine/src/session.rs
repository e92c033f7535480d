//! Pluggable L7 message parsers: the `SessionParser` /
//! `DatagramParser` traits (shapes kept exactly as in flowscope 0.3, so a
//! parser written for it compiles unchanged), the [`SessionEvent`] stream
//! they produce, and the [`Sessions`] driver that runs them inside an
//! [`Engine`](crate::Engine) — one per shard in a pipeline.
//!
//! - [`SessionParser`] — stream protocols (HTTP/1, TLS, DNS over TCP): one
//!   parser per flow, fed the reassembled bytes of each direction through
//!   `feed_initiator` / `feed_responder`.
//! - [`DatagramParser`] — packet protocols (DNS over UDP, syslog, NTP): one
//!   parser per flow, fed one UDP payload at a time (the inner payload for
//!   tunnelled traffic).
//!
//! The driver keeps 0.3's behaviour too: the parser is made when the flow
//! starts (for a route that needs no content probe), `fin_initiator` then
//! `fin_responder` are called when the flow ends by FIN, idle timeout or
//! end of input, `rst_initiator` then `rst_responder` when it ends by RST,
//! eviction or a `DropFlow` cap, and every UDP payload, empty ones too,
//! goes to [`DatagramParser::parse`].
//!
//! Additions over the 0.3 shapes, all with defaults so a 0.3 parser
//! compiles unchanged and never sees them: [`SessionParser::gap_initiator`] /
//! [`SessionParser::gap_responder`] (bytes lost to the capture),
//! [`SessionParser::eof_initiator`] / [`SessionParser::eof_responder`] (a
//! direction's FIN reached in its stream), [`SessionParser::flow_end`]
//! (once, last), [`SessionParser::packet_time`] (the packet clock before
//! each call), [`SessionParser::next_event`] (protocol anomalies, reported
//! as [`AnomalyKind::AppLayer`] and capped per flow),
//! [`SessionParser::is_transaction`] (the per-protocol transaction
//! counter), acknowledgements ([`SessionParser::acked_initiator`]),
//! [`SessionParser::app_proto`], and content probes on a [`Route`].
//! `docs/parser-guide.md` tells what each call receives and when.
//!
//! # Example
//!
//! ```
//! use flowscope_engine::{FlowSide, SessionParser};
//!
//! #[derive(Default, Clone)]
//! struct LineParser {
//!     init_buf: Vec<u8>,
//!     resp_buf: Vec<u8>,
//! }
//!
//! impl SessionParser for LineParser {
//!     type Message = (FlowSide, String);
//!
//!     fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<Self::Message> {
//!         feed(&mut self.init_buf, bytes, FlowSide::Initiator)
//!     }
//!     fn feed_responder(&mut self, bytes: &[u8]) -> Vec<Self::Message> {
//!         feed(&mut self.resp_buf, bytes, FlowSide::Responder)
//!     }
//! }
//!
//! fn feed(buf: &mut Vec<u8>, bytes: &[u8], side: FlowSide) -> Vec<(FlowSide, String)> {
//!     buf.extend_from_slice(bytes);
//!     let mut out = Vec::new();
//!     while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
//!         let line = String::from_utf8_lossy(&buf[..nl]).into_owned();
//!         out.push((side, line));
//!         buf.drain(..=nl);
//!     }
//!     out
//! }
//! # // Beyond the flowscope 0.3 example: run it through an engine: a SYN, then two
//! # // segments that arrive out of order.
//! # use flowscope_engine::{Engine, EngineConfig, FiveTuple, FiveTupleKey, FlowEvent, KeyOptions,
//! #     LinkType, RawPacket, Route, Sessions, Timestamp};
//! # let cfg = EngineConfig::default();
//! # let sessions: Sessions<FiveTupleKey, (FlowSide, String)> =
//! #     Sessions::new(&cfg.reassembly).tcp(LineParser::default(), Route::any());
//! # let mut engine =
//! #     Engine::with_hook(&cfg, FiveTuple::new(KeyOptions::from_config(&cfg)), sessions).unwrap();
//! # let segment = |seq: u32, payload: &[u8]| {
//! #     let b = etherparse::PacketBuilder::ethernet2([2; 6], [4; 6])
//! #         .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
//! #         .tcp(40000, 7000, seq, 1024);
//! #     let b = if payload.is_empty() { b.syn() } else { b };
//! #     let mut frame = Vec::new();
//! #     b.write(&mut frame, payload).unwrap();
//! #     frame
//! # };
//! # let mut events = Vec::new();
//! # for (seq, (n, payload)) in [(0u32, &b""[..]), (7, &b"world\n"[..]), (1, &b"hello\n"[..])].into_iter().enumerate() {
//! #     let frame = segment(999 + n, payload);
//! #     let ts = Timestamp::new(1, 0);
//! #     let raw = RawPacket { ts, linktype: LinkType::ETHERNET, wire_len: frame.len() as u32, iface: 0, data: &frame };
//! #     engine.process(seq as u64, ts, &raw, &mut events);
//! # }
//! # engine.finish(Timestamp::new(2, 0), 2, &mut events);
//! # let lines: Vec<String> = events.into_iter().filter_map(|o| match o.event {
//! #     FlowEvent::Application { message: (_, line), .. } => Some(line),
//! #     _ => None,
//! # }).collect();
//! # assert_eq!(lines, ["hello", "world"]);
//! ```

mod adapters;
mod driver;
mod route;
mod slot;

pub use driver::{DEFAULT_MAX_EVENTS_PER_FLOW, Sessions};
pub use route::{Probe, Route};

use crate::event::{AnomalyKind, AppEvent, FlowEvent, FlowStats};
use crate::timestamp::Timestamp;
use crate::vocab::{EndReason, FlowSide};

/// Parses a stream-oriented L7 protocol session. One instance per flow;
/// both directions feed through the same parser, so state can interleave.
///
/// Implementors are owned by the flow's slot in the engine; sync (no
/// `await`).
pub trait SessionParser: Send + 'static {
    /// L7 message produced by this parser (`Debug` so it can be logged).
    type Message: Send + std::fmt::Debug + 'static;

    /// Feeds the next bytes from the **initiator** side; returns the
    /// messages completed by them.
    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<Self::Message>;

    /// Feeds the next bytes from the **responder** side.
    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<Self::Message>;

    /// The flow closed gracefully or went quiet: called when it ends by FIN
    /// ([`EndReason::Fin`]), idle timeout ([`EndReason::IdleTimeout`]) or
    /// end of input ([`EndReason::Shutdown`]) — whether or not a FIN was
    /// seen — after every byte of both sides was fed, then
    /// [`fin_responder`](Self::fin_responder), as flowscope 0.3 does.
    /// Return what a half-read message still holds: it is reported on the
    /// initiator's side, before the flow's `Closed`. (The moment a side's
    /// FIN is reached in its stream is
    /// [`eof_initiator`](Self::eof_initiator).)
    fn fin_initiator(&mut self) -> Vec<Self::Message> {
        Vec::new()
    }

    /// Called right after [`fin_initiator`](Self::fin_initiator), for the
    /// responder's side.
    fn fin_responder(&mut self) -> Vec<Self::Message> {
        Vec::new()
    }

    /// The flow ended abruptly: called when it ends by RST
    /// ([`EndReason::Rst`], whichever side sent it), eviction
    /// ([`EndReason::Evicted`]) or a reassembly cap with the `DropFlow`
    /// policy ([`EndReason::BufferOverflow`]), after the bytes that arrived
    /// before were fed, then [`rst_responder`](Self::rst_responder) — as
    /// flowscope 0.3 does. Not called for a parser that poisoned.
    fn rst_initiator(&mut self) {}

    /// Called right after [`rst_initiator`](Self::rst_initiator).
    fn rst_responder(&mut self) {}

    /// True once the parser cannot make progress; the driver checks after
    /// every call and ends the flow with [`EndReason::ParseError`]. Parsers
    /// that can skip a bad message should skip it instead.
    fn is_poisoned(&self) -> bool {
        false
    }

    /// Why the parser poisoned; forwarded (cut to 256 bytes) in an
    /// [`AnomalyKind::ParserPoisoned`] anomaly.
    fn poison_reason(&self) -> Option<&str> {
        None
    }

    /// The initiator's FIN was reached in its stream: every byte it sent
    /// was fed (gaps reported), and no more will come from it. Called once,
    /// at the packet that completed the stream, while the flow may go on
    /// (the other side can still send). An addition to the 0.3 shapes: a
    /// body that lasts until the sender closes ends here, at the right
    /// packet, rather than at the flow's end. Default: nothing.
    fn eof_initiator(&mut self) -> Vec<Self::Message> {
        Vec::new()
    }

    /// The responder's FIN was reached in its stream (as
    /// [`eof_initiator`](Self::eof_initiator)).
    fn eof_responder(&mut self) -> Vec<Self::Message> {
        Vec::new()
    }

    /// `len` bytes of the initiator's stream were lost to the capture at
    /// this point; the next `feed_initiator` continues after them. Default:
    /// nothing (the parser sees the bytes either side joined).
    fn gap_initiator(&mut self, len: u64) -> Vec<Self::Message> {
        let _ = len;
        Vec::new()
    }

    /// `len` bytes of the responder's stream were lost.
    fn gap_responder(&mut self, len: u64) -> Vec<Self::Message> {
        let _ = len;
        Vec::new()
    }

    /// The packet time of the bytes about to be fed (called before each
    /// feed, FIN and gap).
    fn packet_time(&mut self, ts: Timestamp) {
        let _ = ts;
    }

    /// The flow ended (FIN/RST exchange done, idle timeout, eviction or
    /// shutdown; not an active-timeout cut, after which the connection goes
    /// on): every byte was fed, return what is still pending (a request
    /// without its response, say). Called once, last: after the
    /// `fin_*`/`rst_*` calls of the end. An addition to the 0.3 shapes.
    fn flow_end(&mut self) -> Vec<Self::Message> {
        Vec::new()
    }

    /// The next protocol anomaly noticed and not yet taken (oldest first);
    /// the driver takes them after every call and reports them as
    /// [`AnomalyKind::AppLayer`] anomalies of the flow, before the
    /// messages of the same call. Default: none.
    fn next_event(&mut self) -> Option<AppEvent> {
        None
    }

    /// Whether `msg` counts as one of the protocol's transactions (the
    /// per-protocol `tx` counter). Default: every message does.
    fn is_transaction(msg: &Self::Message) -> bool
    where
        Self: Sized,
    {
        let _ = msg;
        true
    }
    /// The responder acknowledged the initiator's stream up to `offset`
    /// (bytes from the stream's first byte, gaps included; it may exceed
    /// what was fed). Called for each packet of the responder that carries
    /// an acknowledgement, before its own bytes are fed, as long as
    /// [`SessionParser::wants_acks`] says so; what it returns is reported
    /// at that packet. For parsers that report where an IDS would: one in
    /// IDS mode (Suricata's) reads a direction's bytes once the peer has
    /// acknowledged them.
    fn acked_initiator(&mut self, offset: u64) -> Vec<Self::Message> {
        let _ = offset;
        Vec::new()
    }

    /// The initiator acknowledged the responder's stream up to `offset`.
    fn acked_responder(&mut self, offset: u64) -> Vec<Self::Message> {
        let _ = offset;
        Vec::new()
    }

    /// Whether to call `acked_*`: asked after each such call, and once it
    /// says no the calls stop for the flow. Default: no.
    fn wants_acks(&self) -> bool {
        false
    }

    /// The protocol the flow turned out to carry instead of the one its
    /// route names, when the parser handed over to it mid-flow (TLS through
    /// an accepted HTTP CONNECT: `tls`; a tunnel whose content no parser
    /// reads: `failed`), and what it started as when the parser knows
    /// better than the route (`orig`; else the route's name is). The flow
    /// reports it as its [`AppProto`](crate::AppProto). Asked when the
    /// flow ends. Default: `None`.
    fn app_proto(&self) -> Option<crate::AppProto> {
        None
    }
}

/// Builds a fresh [`SessionParser`] per session. Any parser that is
/// `SessionParser + Default + Clone` is its own factory (it is cloned).
pub trait SessionParserFactory<K>: Send + 'static {
    /// The parser built.
    type Parser: SessionParser;
    /// A parser for the flow with this key.
    fn new_parser(&mut self, key: &K) -> Self::Parser;
}

impl<K, P> SessionParserFactory<K> for P
where
    P: SessionParser + Default + Clone,
{
    type Parser = P;
    fn new_parser(&mut self, _key: &K) -> P {
        self.clone()
    }
}

/// Parses a packet-oriented L7 protocol. One instance per flow; receives
/// one L4 payload at a time with the side that sent it.
pub trait DatagramParser: Send + 'static {
    /// L7 message produced by this parser.
    type Message: Send + std::fmt::Debug + 'static;

    /// Parses one payload from `side`; returns the messages decoded.
    fn parse(&mut self, payload: &[u8], side: FlowSide) -> Vec<Self::Message>;

    /// True after an unrecoverable error (see [`SessionParser::is_poisoned`]).
    fn is_poisoned(&self) -> bool {
        false
    }

    /// Why it poisoned.
    fn poison_reason(&self) -> Option<&str> {
        None
    }

    /// The packet time of the payload about to be parsed (called before
    /// each `parse`, and before `flow_end` with the flow's end time).
    fn packet_time(&mut self, ts: Timestamp) {
        let _ = ts;
    }

    /// The flow ended (as for [`SessionParser::flow_end`]): return what is
    /// still pending, such as queries that were never answered.
    fn flow_end(&mut self) -> Vec<Self::Message> {
        Vec::new()
    }

    /// The next protocol anomaly noticed (as for
    /// [`SessionParser::next_event`]). Default: none.
    fn next_event(&mut self) -> Option<AppEvent> {
        None
    }

    /// Whether `msg` counts as a transaction (as for
    /// [`SessionParser::is_transaction`]). Default: every message does.
    fn is_transaction(msg: &Self::Message) -> bool
    where
        Self: Sized,
    {
        let _ = msg;
        true
    }
}

/// Builds a fresh [`DatagramParser`] per session.
pub trait DatagramParserFactory<K>: Send + 'static {
    /// The parser built.
    type Parser: DatagramParser;
    /// A parser for the flow with this key.
    fn new_parser(&mut self, key: &K) -> Self::Parser;
}

impl<K, P> DatagramParserFactory<K> for P
where
    P: DatagramParser + Default + Clone,
{
    type Parser = P;
    fn new_parser(&mut self, _key: &K) -> P {
        self.clone()
    }
}

/// The session-level view of a flow: its start, its parsers' messages, its
/// end, and anomalies. `K` is the flow key, `M` the message type.
///
/// Get it from an engine's [`FlowEvent`]s with
/// [`FlowEvent::into_session_event`](crate::FlowEvent::into_session_event)
/// (a pipeline does this on its shards, with its `SessionEvents` sink).
/// `Started` comes for every flow unless `flow.started_events` is off; the
/// pipeline's sink passes `Anomaly` events on only when asked, as 0.3's
/// drivers do.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SessionEvent<K, M> {
    /// First packet of a new session.
    Started {
        /// Flow key.
        key: K,
        /// Packet time.
        ts: Timestamp,
    },
    /// A parser emitted a complete L7 message.
    Application {
        /// Flow key.
        key: K,
        /// Which side's bytes completed it.
        side: FlowSide,
        /// The message.
        message: M,
        /// Time of the packet that completed it (for messages flushed at
        /// the flow's end, the end time).
        ts: Timestamp,
    },
    /// The session ended (FIN/RST/idle/eviction/end of input). Messages the
    /// parser flushed on close (`fin_*`, `flow_end`) come first.
    Closed {
        /// Flow key.
        key: K,
        /// Why.
        reason: EndReason,
        /// Its counters, reassembly counters included.
        stats: FlowStats,
    },
    /// Something anomalous; `key` is `None` for engine-wide anomalies.
    Anomaly {
        /// Flow key, when the anomaly belongs to a flow.
        key: Option<K>,
        /// What.
        kind: AnomalyKind,
        /// Packet time.
        ts: Timestamp,
    },
}

/// Cuts a parser's poison reason to at most 256 bytes, at a UTF-8
/// character boundary.
pub fn cut_reason(reason: &str) -> Box<str> {
    const MAX: usize = 256;
    if reason.len() <= MAX {
        return reason.into();
    }
    let mut end = MAX;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].into()
}

impl<K, M> FlowEvent<K, M> {
    /// The session-level view of this event: `Started`, `Application`,
    /// `Closed` (from `Ended`) and `Anomaly`; `None` for the lifecycle
    /// details a session consumer does not see (`Established`,
    /// `StateChange`).
    pub fn into_session_event(self) -> Option<SessionEvent<K, M>> {
        match self {
            FlowEvent::Started { key, ts, .. } => Some(SessionEvent::Started { key, ts }),
            FlowEvent::Application {
                key,
                side,
                message,
                ts,
                ..
            } => Some(SessionEvent::Application {
                key,
                side,
                message,
                ts,
            }),
            FlowEvent::Ended {
                key, reason, stats, ..
            } => Some(SessionEvent::Closed {
                key,
                reason,
                stats: *stats,
            }),
            FlowEvent::Anomaly { key, kind, ts, .. } => {
                Some(SessionEvent::Anomaly { key, kind, ts })
            }
            FlowEvent::Established { .. } | FlowEvent::StateChange { .. } => None,
        }
    }
}

#[cfg(test)]
mod app_tests;
#[cfg(test)]
mod tests;
