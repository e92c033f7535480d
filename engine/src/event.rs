//! The engine's output: flow lifecycle events, flow statistics, anomalies,
//! and the order keys that make the output reproducible.

use crate::defrag::DefragDrop;
use crate::packet::{LinkType, Tunnel};
use crate::reassembly::CapHit;
use crate::timestamp::Timestamp;
use crate::vocab::{ConnState, EndReason, FlowSide, FlowState, History, Orientation};
use crate::wire::DecodeError;
use std::net::IpAddr;

/// A message type with no values: what an engine without parsers emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoMessage {}

/// Counters for one side of a flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SideStats {
    /// Packets sent (a reassembled datagram counts its fragments).
    pub packets: u64,
    /// Bytes: frame lengths, or for a tunnelled packet what Suricata
    /// counts of it, the inner packet ([`crate::packet::PacketView::flow_len`]).
    pub bytes: u64,
    /// Transport payload bytes.
    pub payload_bytes: u64,
    /// IP-level bytes: each packet's IP header and payload as its header
    /// gives them, no link layer and no tunnel (RFC 7012
    /// `octetDeltaCount`, what IPFIX export reports).
    pub ip_bytes: u64,
    /// Last packet from this side (zero when none).
    pub last_seen: Timestamp,
    /// OR of every TCP flag byte this side sent.
    pub tcp_flags: u8,
    /// ICMP: the code of this side's first message (0 when it sent
    /// none; see `packets`).
    pub icmp_code: u8,
    /// Retransmitted segments (filled by reassembly).
    pub retransmits: u64,
    /// Segments that arrived out of order (filled by reassembly).
    pub out_of_order: u64,
    /// Bytes never seen: gaps in the stream (Zeek's `missed_bytes`).
    pub gap_bytes: u64,
    /// Segments that partly covered bytes already delivered or held
    /// (filled by reassembly).
    pub overlaps: u64,
    /// Overlaps whose bytes differed from the first copy (filled by
    /// reassembly): an evasion signal.
    pub inconsistent_overlaps: u64,
}

/// Everything counted about a flow, as reported when it ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlowStats {
    /// The initiator's side.
    pub initiator: SideStats,
    /// The responder's side.
    pub responder: SideStats,
    /// First packet.
    pub started: Timestamp,
    /// Last packet from either side.
    pub last_seen: Timestamp,
    /// Coarse state when the flow ended.
    pub state: FlowState,
    /// Zeek connection state.
    pub conn_state: ConnState,
    /// Zeek connection history.
    pub history: History,
    /// The application protocol a session parser was chosen for (its
    /// route's name), `failed` when the flow carried payload no parser
    /// took — and the one it handed over to mid-flow; `None` without
    /// parsers.
    pub app_proto: Option<AppProto>,
    /// The capture interface of its first packet ([`crate::RawPacket::iface`]).
    pub iface: u32,
}

/// A flow's application protocol (EVE `app_proto` and `app_proto_orig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppProto {
    /// What the flow carried when it ended: the chosen route's name, the
    /// protocol its parser handed over to (TLS through an accepted HTTP
    /// CONNECT: `tls`), or `failed` (payload no parser read).
    pub name: &'static str,
    /// The route's name when the parser handed over to another protocol
    /// (`http` for the CONNECT tunnel above); `None` otherwise.
    pub orig: Option<&'static str>,
}

impl From<&'static str> for AppProto {
    fn from(name: &'static str) -> Self {
        AppProto { name, orig: None }
    }
}

impl FlowStats {
    /// One side's counters.
    pub fn side(&self, side: FlowSide) -> &SideStats {
        match side {
            FlowSide::Initiator => &self.initiator,
            FlowSide::Responder => &self.responder,
        }
    }
    /// Packets both ways.
    pub fn total_packets(&self) -> u64 {
        self.initiator.packets + self.responder.packets
    }
    /// Bytes both ways.
    pub fn total_bytes(&self) -> u64 {
        self.initiator.bytes + self.responder.bytes
    }
    /// `last_seen - started`.
    pub fn duration(&self) -> std::time::Duration {
        self.last_seen.saturating_sub(self.started)
    }
}

/// What was anomalous.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnomalyKind {
    /// A packet failed to decode.
    Decode(DecodeError),
    /// The first packet of a link type the decoder does not know (later
    /// ones are only counted).
    UnsupportedLinkType(LinkType),
    /// A fragment or datagram was dropped.
    Defrag {
        /// Why.
        drop: DefragDrop,
        /// Datagram source.
        src: IpAddr,
        /// Datagram destination.
        dst: IpAddr,
        /// Fragments dropped.
        fragments: u32,
        /// Bytes dropped.
        bytes: u32,
    },
    /// Tunnels nested deeper than `tunnel.max_depth`.
    TunnelDepthExceeded,
    /// A tunnel header whose inner packet did not decode; the packet was
    /// tracked as its outer flow.
    TunnelInnerInvalid(DecodeError),
    /// Flows were evicted to stay within `max_flows` during the epoch.
    FlowTableEvictionPressure {
        /// Flows evicted since the last report.
        evicted: u64,
    },
    /// A reassembly cap was hit on one side of a flow (handled by the
    /// overflow policy: a gap, or the flow dropped).
    ReassemblyCap {
        /// The side whose held data hit it.
        side: FlowSide,
        /// Which cap.
        cap: CapHit,
    },
    /// Overlapping TCP data differed from the copy already held (the first
    /// time on each side of a flow; all are counted).
    InconsistentOverlap {
        /// The sending side.
        side: FlowSide,
    },
    /// A parser poisoned itself; the flow ended with
    /// [`EndReason::ParseError`].
    ParserPoisoned {
        /// The parser's reason, at most 256 bytes.
        reason: Box<str>,
    },
    /// A protocol anomaly a parser noticed and parsed past (Suricata's
    /// app-layer events), at most `parsers.max_events_per_flow` per flow.
    AppLayer(AppEvent),
}

/// A protocol anomaly a parser noticed: a request line without its
/// protocol, a repeated header, a response no request asked for... Named
/// as Suricata names its app-layer events (`REQUEST_LINE_MISSING_PROTOCOL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppEvent {
    /// The protocol (`http`).
    pub proto: &'static str,
    /// The event's name.
    pub event: &'static str,
    /// The transaction it belongs to, when one does (as in its message's
    /// `tx_id`).
    pub tx_id: Option<u64>,
}

impl AnomalyKind {
    /// `(type, event)` names in the style of Suricata's anomaly records.
    pub fn names(&self) -> (&'static str, &'static str) {
        match self {
            AnomalyKind::Decode(e) => ("decode", e.name()),
            AnomalyKind::UnsupportedLinkType(_) => ("decode", "link.unsupported"),
            AnomalyKind::Defrag { drop, .. } => ("defrag", drop.name()),
            AnomalyKind::TunnelDepthExceeded => ("decode", "tunnel.depth_exceeded"),
            AnomalyKind::TunnelInnerInvalid(_) => ("decode", "tunnel.inner_invalid"),
            AnomalyKind::FlowTableEvictionPressure { .. } => ("flow", "flow.eviction_pressure"),
            AnomalyKind::ReassemblyCap { cap, .. } => ("stream", cap.name()),
            AnomalyKind::InconsistentOverlap { .. } => {
                ("stream", "reassembly.overlap_different_data")
            }
            AnomalyKind::ParserPoisoned { .. } => ("app", "parser.poisoned"),
            AnomalyKind::AppLayer(e) => ("applayer", e.event),
        }
    }
}

/// A flow lifecycle event, or a parser message (`M` is the message type of
/// the engine's [`FlowHook`](crate::FlowHook); none without one).
#[derive(Debug, Clone)]
#[non_exhaustive]
// `Ended` (with its FlowStats) is the event every flow produces: boxing it
// would cost an allocation per flow; events travel in recycled batches.
#[allow(clippy::large_enum_variant)]
pub enum FlowEvent<K, M = NoMessage> {
    /// A flow's first packet.
    Started {
        /// Flow key.
        key: K,
        /// Flow id.
        flow_id: u64,
        /// Which key endpoint is the initiator.
        initiator: Orientation,
        /// Packet time.
        ts: Timestamp,
    },
    /// Handshake complete (or both sides seen mid-stream).
    Established {
        /// Flow key.
        key: K,
        /// Flow id.
        flow_id: u64,
        /// Packet time.
        ts: Timestamp,
    },
    /// The coarse state changed.
    StateChange {
        /// Flow key.
        key: K,
        /// Flow id.
        flow_id: u64,
        /// New state.
        state: FlowState,
        /// Packet time.
        ts: Timestamp,
    },
    /// The flow ended.
    Ended {
        /// Flow key.
        key: K,
        /// Flow id.
        flow_id: u64,
        /// Which key endpoint is the initiator.
        initiator: Orientation,
        /// Why.
        reason: EndReason,
        /// Its counters (boxed: they are most of the event's size, and
        /// every event moves as often as the largest one).
        stats: Box<FlowStats>,
        /// The tunnel its first packet came in, if any.
        tunnel: Option<Tunnel>,
        /// When it ended: the packet that ended it, or the expiry time.
        ts: Timestamp,
    },
    /// Something anomalous, tied to a flow when one is known.
    Anomaly {
        /// Flow key, when the anomaly belongs to a flow.
        key: Option<K>,
        /// Flow id, likewise.
        flow_id: Option<u64>,
        /// What.
        kind: AnomalyKind,
        /// Packet time.
        ts: Timestamp,
    },
    /// A parser completed a message.
    Application {
        /// Flow key.
        key: K,
        /// Flow id.
        flow_id: u64,
        /// Which key orientation is the flow's initiator (the client).
        initiator: Orientation,
        /// The side whose bytes completed it.
        side: FlowSide,
        /// The message.
        message: M,
        /// Packet time (the end time for messages flushed at the end).
        ts: Timestamp,
        /// The flow's capture interface ([`FlowStats::iface`]).
        iface: u32,
    },
}

impl<K, M> FlowEvent<K, M> {
    /// The event's timestamp.
    pub fn ts(&self) -> Timestamp {
        match self {
            FlowEvent::Started { ts, .. }
            | FlowEvent::Established { ts, .. }
            | FlowEvent::StateChange { ts, .. }
            | FlowEvent::Ended { ts, .. }
            | FlowEvent::Anomaly { ts, .. }
            | FlowEvent::Application { ts, .. } => *ts,
        }
    }
}

/// What put an event in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// The packet numbered `seq`.
    Packet,
    /// Timers fired at the epoch boundary after packet `seq`.
    Timer,
    /// End of input, after packet `seq`.
    Flush,
}

/// An event with its position in the output order.
///
/// Events sort by [`Ordered::key`] = `(seq, cause, time, tiebreak, sub)`.
/// `seq` is the global number of the packet that caused the event, or of
/// the last packet before the epoch boundary (or end of input) that fired
/// it. Packet events have `time` and `tiebreak` zero and are numbered by
/// `sub` in the order the packet produced them; one packet is only ever
/// handled by one engine. Time-driven events carry their own time (a
/// timeout deadline, the flush time) and a tiebreak derived from their
/// content (the flow id; a hash of a fragment datagram's key), so the events
/// of one boundary sort the same way whether one engine or many produced
/// them: the order depends only on the input.
#[derive(Debug, Clone)]
pub struct Ordered<E> {
    /// Packet sequence number (0-based).
    pub seq: u64,
    /// Packet-driven or time-driven.
    pub cause: Cause,
    /// For time-driven events: the event's time.
    pub time: Timestamp,
    /// For time-driven events: a content-derived tiebreak.
    pub tiebreak: u64,
    /// Index among the events with this `seq` (packet-driven first, then
    /// time-driven in `(time, tiebreak)` order), so `(seq, sub)` alone is
    /// unique and increasing in the output. A sharded pipeline renumbers it
    /// after the merge, which makes it equal to the single-engine value.
    pub sub: u32,
    /// The event.
    pub event: E,
}

/// The sort key of an [`Ordered`] event.
pub type OrderKey = (u64, Cause, Timestamp, u64, u32);

impl<E> Ordered<E> {
    /// The sort key.
    #[inline]
    pub fn key(&self) -> OrderKey {
        (self.seq, self.cause, self.time, self.tiebreak, self.sub)
    }
}
