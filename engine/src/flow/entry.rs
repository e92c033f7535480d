//! One flow-table entry: the hot state of a flow, packed to the 184-byte
//! budget (`flow_entry_fits_the_budget`). What is rare lives beside the
//! table instead (a tunnel, the high words of packet counts past 2^32), and
//! an entry's flag bits say when it has some.

use super::tcp;
use crate::event::SideStats;
use crate::hook::HookFlow;
use crate::timestamp::Timestamp;
use crate::vocab::{FlowSide, FlowState, History, Orientation, flow_id};

/// Per-side counters kept hot in the table (the packet count sits in
/// [`FlowEntry::packets`], where it packs without padding).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SideCounters {
    pub bytes: u64,
    pub payload: u64,
    /// IP-level bytes ([`crate::PacketView::ip_len`]).
    pub ip_bytes: u64,
    pub last_seen: Timestamp,
}

impl SideCounters {
    pub(crate) fn to_stats(self, packets: u64, tcp_flags: u8, icmp_code: u8) -> SideStats {
        SideStats {
            packets,
            bytes: self.bytes,
            payload_bytes: self.payload,
            ip_bytes: self.ip_bytes,
            last_seen: self.last_seen,
            tcp_flags,
            icmp_code,
            ..SideStats::default()
        }
    }
}

/// An entry's one-bit facts in one byte.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flags(u8);

impl Flags {
    /// Reported already; kept only to absorb trailing packets.
    const ENDED: u8 = 1;
    /// The table holds the tunnel of the flow's first packet.
    const TUNNELLED: u8 = 1 << 1;
    /// The table holds high words of the packet counts (bit per side).
    const SPILLED: [u8; 2] = [1 << 2, 1 << 3];
    /// Some side sent the last FIN while closing; which one is `FIN_BY_RESPONDER`.
    const FIN_SEEN: u8 = 1 << 4;
    const FIN_BY_RESPONDER: u8 = 1 << 5;
    /// The initiator is the key's second endpoint.
    const REVERSE: u8 = 1 << 6;
    /// The hook wants no more of the flow's packets ([`Verdict::Detach`]).
    ///
    /// [`Verdict::Detach`]: crate::hook::Verdict::Detach
    const DETACHED: u8 = 1 << 7;

    /// A new flow's flags.
    pub fn new(initiator: Orientation) -> Self {
        Flags(if initiator == Orientation::Reverse {
            Self::REVERSE
        } else {
            0
        })
    }

    fn set(&mut self, bit: u8, on: bool) {
        if on {
            self.0 |= bit;
        } else {
            self.0 &= !bit;
        }
    }

    pub fn initiator(self) -> Orientation {
        if self.0 & Self::REVERSE != 0 {
            Orientation::Reverse
        } else {
            Orientation::Forward
        }
    }

    pub fn ended(self) -> bool {
        self.0 & Self::ENDED != 0
    }

    pub fn detached(self) -> bool {
        self.0 & Self::DETACHED != 0
    }

    pub fn set_detached(&mut self, on: bool) {
        self.set(Self::DETACHED, on);
    }

    pub fn set_ended(&mut self) {
        self.set(Self::ENDED, true);
    }

    pub fn tunnelled(self) -> bool {
        self.0 & Self::TUNNELLED != 0
    }

    pub fn set_tunnelled(&mut self, on: bool) {
        self.set(Self::TUNNELLED, on);
    }

    pub fn spilled(self, side: usize) -> bool {
        self.0 & Self::SPILLED[side] != 0
    }

    pub fn any_spilled(self) -> bool {
        self.0 & (Self::SPILLED[0] | Self::SPILLED[1]) != 0
    }

    pub fn set_spilled(&mut self, side: usize, on: bool) {
        self.set(Self::SPILLED[side], on);
    }

    /// The side that sent the last FIN while closing.
    pub fn last_fin(self) -> Option<FlowSide> {
        if self.0 & Self::FIN_SEEN == 0 {
            None
        } else if self.0 & Self::FIN_BY_RESPONDER != 0 {
            Some(FlowSide::Responder)
        } else {
            Some(FlowSide::Initiator)
        }
    }

    pub fn set_last_fin(&mut self, side: FlowSide) {
        self.set(Self::FIN_SEEN, true);
        self.set(Self::FIN_BY_RESPONDER, side == FlowSide::Responder);
    }
}

/// One tracked flow.
#[derive(Debug, Clone)]
pub(crate) struct FlowEntry<K> {
    pub key: K,
    pub hash: u64,
    pub start: Timestamp,
    /// Initiator then responder.
    pub sides: [SideCounters; 2],
    /// Packets sent, initiator then responder: the low 32 bits (a
    /// reassembled datagram counts its fragments). Past 2^32 the high word
    /// is the table's ([`super::FlowTable::packets`]).
    pub packets: [u32; 2],
    pub history: History,
    pub flags: Flags,
    /// TCP endpoint states, initiator then responder (UDP/other use
    /// `Inactive` vs `Partial` for "sent something").
    pub endpoints: [tcp::Endpoint; 2],
    pub tcp_flags: [u8; 2],
    /// ICMP: the code of each side's first message.
    pub icmp_code: [u8; 2],
    pub conn_proto: tcp::ConnProto,
    pub state: FlowState,
    // Activity-wheel links (`next` also links the free list).
    pub prev: u32,
    pub next: u32,
    pub activity_sec: u32,
    pub class: u8,
    /// Capture interface of the first packet (`RawPacket::iface`, clamped).
    pub iface: u16,
}

impl<K> FlowEntry<K> {
    /// The flow's id: derived from its hash and start time rather than
    /// stored, which keeps the entry within budget.
    pub(crate) fn flow_id(&self) -> u64 {
        flow_id(self.hash, self.start.as_nanos())
    }

    /// The flow as a [`FlowHook`](crate::FlowHook) sees it, at table slot
    /// `slot`.
    pub(crate) fn hook_flow(&self, slot: u32) -> HookFlow<'_, K> {
        HookFlow {
            slot,
            key: &self.key,
            hash: self.hash,
            start: self.start,
        }
    }

    pub(crate) fn side_mut(&mut self, side: FlowSide) -> &mut SideCounters {
        &mut self.sides[side.index()]
    }

    /// The side that sent the flow's first packet, in key terms.
    pub(crate) fn initiator(&self) -> Orientation {
        self.flags.initiator()
    }

    /// Whether `side` sent any packet.
    pub(crate) fn sent(&self, side: FlowSide) -> bool {
        let i = side.index();
        self.packets[i] != 0 || self.flags.spilled(i)
    }

    /// Counts `frames` more packets from `side`; true when the low word
    /// wrapped, and the table must carry one into the high word
    /// ([`super::FlowTable::carry_packets`]).
    #[inline]
    pub(crate) fn add_packets(&mut self, side: FlowSide, frames: u32) -> bool {
        let (sum, wrapped) = self.packets[side.index()].overflowing_add(frames);
        self.packets[side.index()] = sum;
        wrapped
    }

    /// Latest packet time from either side.
    pub(crate) fn last_seen(&self) -> Timestamp {
        self.sides[0].last_seen.max(self.sides[1].last_seen)
    }

    /// Whether the flow was reported already.
    pub(crate) fn ended(&self) -> bool {
        self.flags.ended()
    }
}
