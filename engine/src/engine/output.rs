//! The ordered output: numbering events (`sub` per packet, `(time,
//! tiebreak)` for time-driven ones), anomalies and their counters (decode
//! errors, tunnel notes), and turning a hook's items into events.

use super::{Engine, EventBuf};
use crate::event::{AnomalyKind, Cause, FlowEvent, Ordered};
use crate::hook::{FlowHook, HookItem};
use crate::key::FlowExtractor;
use crate::packet::PacketView;
use crate::timestamp::Timestamp;
use crate::vocab::Orientation;
use crate::wire::DecodeError;

impl<E: FlowExtractor, H: FlowHook<E::Key>> Engine<E, H> {
    /// Pushes an event. Packet events get the next `sub` of their seq;
    /// time-driven ones get their `(time, tiebreak)` and are numbered when
    /// their batch is sealed.
    pub(super) fn emit(
        &mut self,
        out: &mut EventBuf<E::Key, H::Message>,
        seq: u64,
        cause: Cause,
        event: FlowEvent<E::Key, H::Message>,
    ) {
        if cause != Cause::Packet {
            let (time, tiebreak) = time_order(&event);
            out.push(Ordered {
                seq,
                cause,
                time,
                tiebreak,
                sub: 0,
                event,
            });
            return;
        }
        let sub = self.next_sub_for(seq);
        out.push(Ordered {
            seq,
            cause,
            time: Timestamp::ZERO,
            tiebreak: 0,
            sub,
            event,
        });
    }

    /// The next `sub` of `seq`'s events.
    pub(super) fn next_sub_for(&mut self, seq: u64) -> u32 {
        if self.cursor != Some(seq) {
            self.cursor = Some(seq);
            self.next_sub = 0;
        }
        let sub = self.next_sub;
        self.next_sub += 1;
        sub
    }

    pub(super) fn anomaly(
        &mut self,
        out: &mut EventBuf<E::Key, H::Message>,
        seq: u64,
        cause: Cause,
        flow: Option<(E::Key, u64)>,
        kind: AnomalyKind,
        ts: Timestamp,
    ) {
        let (key, flow_id) = match flow {
            Some((k, id)) => (Some(k), Some(id)),
            None => (None, None),
        };
        self.emit(
            out,
            seq,
            cause,
            FlowEvent::Anomaly {
                key,
                flow_id,
                kind,
                ts,
            },
        );
    }

    pub(super) fn decode_error(
        &mut self,
        out: &mut EventBuf<E::Key, H::Message>,
        seq: u64,
        e: DecodeError,
        ts: Timestamp,
    ) {
        self.stats.decode_errors[e.index()] += 1;
        if self.anomaly_events {
            self.anomaly(out, seq, Cause::Packet, None, AnomalyKind::Decode(e), ts);
        }
    }

    /// Counts what the decode step flagged on a view.
    #[inline]
    pub(super) fn note(
        &mut self,
        seq: u64,
        view: &PacketView<'_>,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        if view.ipv4_checksum_bad {
            self.stats.ipv4_bad_checksum += 1;
        }
        if view.tunnel_depth_exceeded {
            self.stats.tunnel_depth_exceeded += 1;
            if self.anomaly_events {
                self.anomaly(
                    out,
                    seq,
                    Cause::Packet,
                    None,
                    AnomalyKind::TunnelDepthExceeded,
                    view.ts,
                );
            }
        }
        if let Some(e) = view.tunnel_inner_error {
            self.stats.tunnel_inner_invalid += 1;
            if self.anomaly_events {
                let kind = AnomalyKind::TunnelInnerInvalid(e);
                self.anomaly(out, seq, Cause::Packet, None, kind, view.ts);
            }
        }
    }

    /// Turns the hook's items into events of flow `flow_id`.
    pub(super) fn emit_hook_items(
        &mut self,
        seq: u64,
        cause: Cause,
        (key, flow_id, initiator, iface): (E::Key, u64, Orientation, u32),
        ts: Timestamp,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        let mut items = std::mem::take(&mut self.hook_items);
        for item in items.drain(..) {
            let event = match item {
                HookItem::Message(side, message) => FlowEvent::Application {
                    key: key.clone(),
                    flow_id,
                    initiator,
                    side,
                    message,
                    ts,
                    iface,
                },
                HookItem::Anomaly(kind) => FlowEvent::Anomaly {
                    key: Some(key.clone()),
                    flow_id: Some(flow_id),
                    kind,
                    ts,
                },
            };
            self.emit(out, seq, cause, event);
        }
        self.hook_items = items;
    }
}

/// Sorts time-driven events by `(time, tiebreak)`, equal keys in the order
/// they were emitted (a flow's end before what its end flushed), as a
/// stable sort would, but in place: `sub`, numbered after the sort, holds
/// each event's place while it sorts. A stable sort's scratch buffer, half
/// the batch at 168 bytes an event, was fresh memory the kernel zeroed for
/// every large batch of timeouts (5 % of a `--no-parsers` run's time).
pub(super) fn sort_time_driven<K, M>(batch: &mut [Ordered<FlowEvent<K, M>>]) {
    if u32::try_from(batch.len()).is_err() {
        batch.sort_by_key(|o| (o.time, o.tiebreak));
        return;
    }
    for (i, o) in (0u32..).zip(batch.iter_mut()) {
        o.sub = i;
    }
    batch.sort_unstable_by_key(|o| (o.time, o.tiebreak, o.sub));
}

/// `(time, tiebreak)` of a time-driven event: its own time, and a value
/// derived from its content that does not depend on which engine made it.
fn time_order<K, M>(event: &FlowEvent<K, M>) -> (Timestamp, u64) {
    match event {
        // A flow's end and what its end flushed share (time, flow id); the
        // stable sort keeps them in emission order.
        FlowEvent::Ended { flow_id, ts, .. }
        | FlowEvent::Application { flow_id, ts, .. }
        | FlowEvent::Anomaly {
            flow_id: Some(flow_id),
            ts,
            ..
        } => (*ts, *flow_id),
        FlowEvent::Anomaly {
            kind:
                AnomalyKind::Defrag {
                    drop,
                    src,
                    dst,
                    fragments,
                    bytes,
                },
            ts,
            ..
        } => {
            use std::hash::BuildHasher;
            let h = foldhash::fast::FixedState::with_seed(0x6465_6672_6167)
                .hash_one((src, dst, drop, fragments, bytes));
            (*ts, h)
        }
        other => (other.ts(), u64::MAX),
    }
}
