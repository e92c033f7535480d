//! The words every subsystem uses, and nothing else: which side of a flow
//! ([`FlowSide`]), which way a packet runs against its key
//! ([`Orientation`]), why a flow ended ([`EndReason`]), its coarse and Zeek
//! connection states ([`FlowState`], [`ConnState`]), its Zeek history
//! ([`History`]) and its id ([`flow_id`]). A leaf: it imports no other
//! module of the crate, so every subsystem can import it.

pub mod history;

pub use history::{History, Letter};

/// Which side of a flow a packet or message belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlowSide {
    /// The side that opened the flow (the client).
    Initiator,
    /// The other side (the server).
    Responder,
}

impl FlowSide {
    /// 0 for the initiator, 1 for the responder: the index of per-side
    /// pairs (counters, endpoint states, reassemblers).
    pub(crate) const fn index(self) -> usize {
        match self {
            FlowSide::Initiator => 0,
            FlowSide::Responder => 1,
        }
    }

    /// The other side.
    pub fn other(self) -> FlowSide {
        match self {
            FlowSide::Initiator => FlowSide::Responder,
            FlowSide::Responder => FlowSide::Initiator,
        }
    }
}

crate::named::named_enum! {
    /// Why a flow ended.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    #[non_exhaustive]
    pub enum EndReason {
        /// Stable snake_case name.
        fn as_str;
        /// Both sides closed with FIN.
        Fin => "fin";
        /// A RST was seen.
        Rst => "rst";
        /// No packet for the idle timeout.
        IdleTimeout => "idle_timeout";
        /// Alive for the active timeout: reported and restarted.
        ActiveTimeout => "active_timeout";
        /// Evicted to stay within `max_flows`.
        Evicted => "evicted";
        /// A reassembly buffer cap with the `DropFlow` policy was hit.
        BufferOverflow => "buffer_overflow";
        /// A parser poisoned itself.
        ParseError => "parse_error";
        /// End of input or shutdown: every open flow is flushed.
        Shutdown => "shutdown";
    }
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Coarse flow state, as Suricata reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FlowState {
    /// Handshake not complete (or only one side seen).
    #[default]
    New,
    /// Handshake complete, or both sides seen for a flow picked up mid-stream.
    Established,
    /// One side has closed.
    Closing,
    /// Ended by FIN or RST.
    Closed,
}

impl FlowState {
    /// Stable lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            FlowState::New => "new",
            FlowState::Established => "established",
            FlowState::Closing => "closing",
            FlowState::Closed => "closed",
        }
    }
}

/// Zeek's connection states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ConnState {
    /// Connection attempt seen, no reply.
    S0,
    /// Established, not terminated.
    S1,
    /// Normal establishment and termination.
    SF,
    /// Connection attempt rejected.
    REJ,
    /// Established, originator closed, no reply from responder.
    S2,
    /// Established, responder closed, no reply from originator.
    S3,
    /// Established, originator aborted (RST).
    RSTO,
    /// Responder sent a RST.
    RSTR,
    /// Originator sent a SYN then a RST; no SYN-ACK seen.
    RSTOS0,
    /// Responder sent a SYN-ACK then a RST; no SYN from the originator seen.
    RSTRH,
    /// Originator sent a SYN then a FIN; no SYN-ACK seen.
    SH,
    /// Responder sent a SYN-ACK then a FIN; no SYN from the originator seen.
    SHR,
    /// No SYN seen: mid-stream traffic, or a protocol without states.
    #[default]
    OTH,
}

impl ConnState {
    /// Zeek's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConnState::S0 => "S0",
            ConnState::S1 => "S1",
            ConnState::SF => "SF",
            ConnState::REJ => "REJ",
            ConnState::S2 => "S2",
            ConnState::S3 => "S3",
            ConnState::RSTO => "RSTO",
            ConnState::RSTR => "RSTR",
            ConnState::RSTOS0 => "RSTOS0",
            ConnState::RSTRH => "RSTRH",
            ConnState::SH => "SH",
            ConnState::SHR => "SHR",
            ConnState::OTH => "OTH",
        }
    }
}

/// Which way a packet travels relative to its key's endpoint order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Orientation {
    /// The packet's source is the key's first endpoint.
    Forward,
    /// The packet's source is the key's second endpoint.
    Reverse,
}

impl Orientation {
    /// The opposite orientation.
    pub fn flip(self) -> Orientation {
        match self {
            Orientation::Forward => Orientation::Reverse,
            Orientation::Reverse => Orientation::Forward,
        }
    }
}

/// A flow id: a mix of the flow hash and the flow's start time (ns), so ids
/// differ between successive flows of one key, are identical across runs and
/// shard counts, and fit in 51 bits (exact in a JSON double).
pub fn flow_id(hash: u64, start_nanos: u64) -> u64 {
    let mut z = hash ^ start_nanos.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z & ((1 << 51) - 1)).max(1)
}
