//! The engine's per-flow extension point: a [`FlowHook`] sees every packet
//! of every flow after the flow table has been updated, and every flow's
//! end, and can emit messages and anomalies into the engine's ordered
//! output or end a flow. [`Sessions`](crate::Sessions) (reassembly and
//! parsers) is one; [`NoHook`] is the default and costs nothing.

use crate::config::Share;
use crate::event::{AnomalyKind, FlowStats, NoMessage};
use crate::packet::PacketView;
use crate::stats::SessionCounters;
use crate::timestamp::Timestamp;
use crate::vocab::{EndReason, FlowSide, flow_id};

/// The flow a hook call is about.
#[derive(Debug, Clone, Copy)]
pub struct HookFlow<'a, K> {
    /// The flow's slot in the engine's table: stable from the flow's
    /// creation to its end, then reused.
    pub slot: u32,
    /// Flow key.
    pub key: &'a K,
    /// The flow hash and start time the flow id derives from (computed on
    /// demand by [`HookFlow::flow_id`]: most calls never need it).
    pub(crate) hash: u64,
    pub(crate) start: Timestamp,
}

impl<K> HookFlow<'_, K> {
    /// The flow's id, as in its events.
    pub fn flow_id(&self) -> u64 {
        flow_id(self.hash, self.start.as_nanos())
    }
}

/// TCP header fields a hook needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfo {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (meaningful when `flags` has ACK).
    pub ack: u32,
    /// Flag byte.
    pub flags: u8,
    /// The one's-complement sum of the payload that the segment's checksum
    /// states (the complement of the sum of its pseudo-header and header,
    /// checksum included), read from the headers alone: equal to the
    /// payload's own sum exactly when the checksum verifies. Reassembly
    /// remembers delivered segments by it instead of a digest of their
    /// bytes. `None` without payload or for a segment the
    /// capture cut, and unless the hook asks for it
    /// ([`FlowHook::wants_payload_sums`]).
    pub payload_sum: Option<u16>,
}

/// One packet of a flow.
#[derive(Debug, Clone, Copy)]
pub struct HookPacket<'a, K> {
    /// The flow.
    pub flow: HookFlow<'a, K>,
    /// IP protocol.
    pub proto: u8,
    /// The sender's side.
    pub side: FlowSide,
    /// Packet time.
    pub ts: Timestamp,
    /// TCP fields, for TCP packets of a flow tracked with TCP state.
    pub tcp: Option<TcpInfo>,
    /// Transport payload (the inner one for tunnelled traffic).
    pub payload: &'a [u8],
    /// The first packet of the flow.
    pub first: bool,
    /// The decoded packet, for what is read from it on demand.
    pub(crate) view: &'a PacketView<'a>,
}

impl<K> HookPacket<'_, K> {
    /// The initiator's port and the responder's (zero without ports). Read
    /// from the headers when asked: most packets of a flow never need them.
    pub fn ports(&self) -> (u16, u16) {
        let (sport, dport) = self.view.ports().unwrap_or((0, 0));
        match self.side {
            FlowSide::Initiator => (sport, dport),
            FlowSide::Responder => (dport, sport),
        }
    }
}

/// What a hook emits for the engine to put in its output, in order.
#[derive(Debug)]
pub enum HookItem<M> {
    /// A parser message from `side`.
    Message(FlowSide, M),
    /// An anomaly of the flow.
    Anomaly(AnomalyKind),
}

/// Whether the flow goes on after a hook call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verdict {
    /// Carry on.
    #[default]
    Continue,
    /// End the flow now with this reason.
    End(EndReason),
    /// Carry on without the hook: `on_packet` is not called again for
    /// this flow (nor its argument built); each of its later packets is
    /// only counted to [`FlowHook::on_detached`]. `on_end` still comes.
    /// An active timeout, which reports the flow and restarts it in
    /// place, shows the restarted flow's packets to `on_packet` again.
    Detach,
}

/// Extends an engine per flow. All calls for one flow come from one engine,
/// in packet order.
pub trait FlowHook<K>: Send + 'static {
    /// The messages it emits.
    type Message: Send + std::fmt::Debug + 'static;

    /// Whether the hook wants packets at all; `false` skips every call.
    const ACTIVE: bool = true;

    /// Whether packets of IP protocol `proto` interest the hook; the engine
    /// skips `on_packet` (and building its argument) for the others.
    /// `on_end` is still called for every flow.
    fn wants(&self, proto: u8) -> bool {
        let _ = proto;
        true
    }

    /// A packet of a flow the hook detached from ([`Verdict::Detach`]),
    /// in `on_packet`'s place: its IP protocol and payload length.
    fn on_detached(&mut self, proto: u8, payload: usize) {
        let _ = (proto, payload);
    }

    /// Whether [`TcpInfo::payload_sum`] is worked out for the hook (a few
    /// dozen instructions per TCP segment with payload); `None` is passed
    /// otherwise. Asked once, when the engine is built.
    fn wants_payload_sums(&self) -> bool {
        false
    }

    /// Cuts the hook's process-wide memory budgets to its engine's part
    /// (a pipeline calls it once per shard, before the first packet, with
    /// the same [`Share`] that cut the engine's configuration). Hooks that
    /// hold nothing shared ignore it.
    fn take_share(&mut self, share: Share) {
        let _ = share;
    }

    /// The session driver's counters, for hooks that are one (reported in
    /// run summaries and `stats` records).
    fn session_counters(&self) -> Option<SessionCounters> {
        None
    }

    /// Heap bytes of the hook's per-flow state that every flow has, such
    /// as an array indexed by table slot (reported with the flow table's
    /// own: [`Engine::table_bytes`](crate::Engine::table_bytes)). Memory a
    /// flow takes only when it carries payload (reassembly, parsers) is
    /// not included.
    fn slot_bytes(&self) -> usize {
        0
    }

    /// One packet, after the flow table counted it (for a flow the hook
    /// has not detached from: [`Verdict::Detach`]).
    fn on_packet(
        &mut self,
        pkt: &HookPacket<'_, K>,
        out: &mut Vec<HookItem<Self::Message>>,
    ) -> Verdict;

    /// The flow ends (or, for [`EndReason::ActiveTimeout`], is reported and
    /// goes on). Fill in the counters the hook keeps; emit what the flow's
    /// end flushes. `ts` is the end time.
    fn on_end(
        &mut self,
        flow: &HookFlow<'_, K>,
        reason: EndReason,
        ts: Timestamp,
        stats: &mut FlowStats,
        out: &mut Vec<HookItem<Self::Message>>,
    );
}

/// The hook that does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHook;

impl<K> FlowHook<K> for NoHook {
    type Message = NoMessage;
    const ACTIVE: bool = false;

    #[inline(always)]
    fn on_packet(&mut self, _: &HookPacket<'_, K>, _: &mut Vec<HookItem<NoMessage>>) -> Verdict {
        Verdict::Continue
    }

    #[inline(always)]
    fn on_end(
        &mut self,
        _: &HookFlow<'_, K>,
        _: EndReason,
        _: Timestamp,
        _: &mut FlowStats,
        _: &mut Vec<HookItem<NoMessage>>,
    ) {
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EngineConfig;
    use crate::engine::Engine;
    use crate::event::FlowEvent;
    use crate::key::{FiveTuple, FiveTupleKey, KeyOptions};
    use crate::packet::{LinkType, RawPacket};
    use crate::testutil::udp4;

    /// Detaches from every flow at its first packet shown, and records
    /// every call.
    #[derive(Default, Clone)]
    struct Detaching {
        shown: usize,
        detached: Vec<(u8, usize)>,
        ends: Vec<EndReason>,
    }

    impl FlowHook<FiveTupleKey> for Detaching {
        type Message = NoMessage;

        fn on_packet(
            &mut self,
            _: &HookPacket<'_, FiveTupleKey>,
            _: &mut Vec<HookItem<NoMessage>>,
        ) -> Verdict {
            self.shown += 1;
            Verdict::Detach
        }

        fn on_detached(&mut self, proto: u8, payload: usize) {
            self.detached.push((proto, payload));
        }

        fn on_end(
            &mut self,
            _: &HookFlow<'_, FiveTupleKey>,
            reason: EndReason,
            _: Timestamp,
            _: &mut FlowStats,
            _: &mut Vec<HookItem<NoMessage>>,
        ) {
            self.ends.push(reason);
        }
    }

    /// Ten one-second-apart datagrams of one flow, through an engine with
    /// `active_timeout` (0: none): the hook after them, and each of the
    /// flow's records' packet counts.
    fn run(active_timeout: u32) -> (Detaching, Vec<u64>) {
        let mut cfg = EngineConfig::default();
        cfg.flow.active_timeout = active_timeout;
        let keys = FiveTuple::new(KeyOptions::from_config(&cfg));
        let mut engine = Engine::with_hook(&cfg, keys, Detaching::default()).unwrap();
        let mut out = Vec::new();
        let frame = udp4([10, 0, 0, 1], 1, [10, 0, 0, 2], 2, b"abc");
        let mut ts = Timestamp::ZERO;
        for seq in 0..10 {
            ts = Timestamp::from_nanos(seq * 1_000_000_000);
            let raw = RawPacket {
                ts,
                linktype: LinkType::ETHERNET,
                wire_len: frame.len() as u32,
                iface: 0,
                data: &frame,
            };
            engine.process(seq, ts, &raw, &mut out);
            engine.advance(ts, seq, &mut out);
        }
        engine.finish(ts, 9, &mut out);
        let packets = out
            .iter()
            .filter_map(|o| match &o.event {
                FlowEvent::Ended { stats, .. } => Some(stats.initiator.packets),
                _ => None,
            })
            .collect();
        (engine.hook().clone(), packets)
    }

    #[test]
    fn a_detached_flow_is_counted_not_shown_and_still_ends() {
        let (hook, packets) = run(0);
        assert_eq!(packets, [10]);
        assert_eq!(hook.shown, 1);
        assert_eq!(hook.detached, vec![(17, 3); 9]);
        assert_eq!(hook.ends, vec![EndReason::Shutdown]);
    }

    #[test]
    fn an_active_timeout_shows_the_restarted_flow_again() {
        let (hook, packets) = run(4);
        assert!(packets.len() >= 2, "the flow restarted: {packets:?}");
        assert_eq!(hook.ends.len(), packets.len());
        assert_eq!(hook.ends[0], EndReason::ActiveTimeout);
        let records_with_packets = packets.iter().filter(|&&n| n > 0).count();
        assert_eq!(
            hook.shown, records_with_packets,
            "each record's first packet: {packets:?}"
        );
        assert_eq!(hook.shown + hook.detached.len(), 10);
    }
}
