//! Time-driven work: the timers an epoch boundary fires (idle and active
//! timeouts, close lingers, fragment timeouts, the eviction-pressure
//! report), in output order and in bounded steps, so a batch as large as
//! the table (every flow due after a gap in the capture's time) never has
//! all its events at once.

use super::{Engine, EventBuf, LINGER_CLASS};
use crate::event::{AnomalyKind, Cause, FlowEvent, Ordered};
use crate::hook::FlowHook;
use crate::key::FlowExtractor;
use crate::timestamp::Timestamp;
use crate::vocab::EndReason;
use std::collections::VecDeque;
use std::time::Duration;

/// A timer batch under way: the flows due, in the order they end, and the
/// batch's other events, between steps.
#[derive(Debug)]
pub(super) struct Expiry<K, M> {
    seq: u64,
    /// Begun by the end-of-input flush (not by an epoch boundary at the
    /// same packet, which fires its own).
    at_end: bool,
    /// The flows due, by `(end time, flow id)`, the order of collection on
    /// ties (idle before active), as one stable sort of all their events
    /// would put them; and how many have ended.
    due: Vec<Due>,
    next: usize,
    /// Flows collected at or after this place were due by the active
    /// timeout only.
    idle_count: u32,
    /// The fragment buffers' events, sorted: at an equal `(time,
    /// tiebreak)` they go before a flow's (they were fired first).
    before: VecDeque<Ordered<FlowEvent<K, M>>>,
    /// The eviction-pressure report: after a flow's at an equal key.
    after: Option<Ordered<FlowEvent<K, M>>>,
}

/// A flow due: its end time and id (the order key of its events), its
/// table slot and where it was collected.
#[derive(Debug, Clone, Copy)]
struct Due {
    ts: Timestamp,
    id: u64,
    idx: u32,
    pos: u32,
}

impl<E: FlowExtractor, H: FlowHook<E::Key>> Engine<E, H> {
    /// Fires the timers due at packet time `now`, as of the epoch boundary
    /// after packet `seq`: idle and active timeouts, close lingers, fragment
    /// timeouts, and the eviction-pressure report, in output order.
    /// [`Engine::advance_some`] does the same in bounded steps.
    pub fn advance(&mut self, now: Timestamp, seq: u64, out: &mut EventBuf<E::Key, H::Message>) {
        while !self.advance_some(now, seq, usize::MAX, out) {}
    }

    /// One step of [`Engine::advance`]: the same events, in the same order
    /// and numbering, ending at most `max_flows` flows per call. Returns
    /// true once the batch is complete; until then call it again with the
    /// same `now` and `seq`, taking the events in between. A packet
    /// processed (or a flush begun) before that completes the batch first,
    /// all at once.
    pub fn advance_some(
        &mut self,
        now: Timestamp,
        seq: u64,
        max_flows: usize,
        out: &mut EventBuf<E::Key, H::Message>,
    ) -> bool {
        self.expire_some(now, seq, max_flows, false, out)
    }

    /// One step of the timer batch at `seq`: an epoch boundary's, or the
    /// one the end-of-input flush fires first (`at_end`). A batch of
    /// another is completed first.
    pub(super) fn expire_some(
        &mut self,
        now: Timestamp,
        seq: u64,
        max_flows: usize,
        at_end: bool,
        out: &mut EventBuf<E::Key, H::Message>,
    ) -> bool {
        // Boxed only when a step is left over: most batches end in one.
        let mut expiry = match self.expiry.take() {
            Some(x) if x.seq == seq && x.at_end == at_end => *x,
            other => {
                if let Some(x) = other {
                    self.expiry = Some(x);
                    self.complete_expiry(out);
                }
                self.begin_expiry(now, seq, at_end)
            }
        };
        let start = out.len();
        let done = self.expire_step(&mut expiry, max_flows, out);
        self.number(seq, start, out);
        if !done {
            self.expiry = Some(Box::new(expiry));
        }
        done
    }

    /// Ends what is left of a timer batch under way, numbered.
    #[cold]
    #[inline(never)]
    pub(super) fn complete_expiry(&mut self, out: &mut EventBuf<E::Key, H::Message>) {
        if let Some(mut x) = self.expiry.take() {
            let start = out.len();
            self.expire_step(&mut x, usize::MAX, out);
            self.number(x.seq, start, out);
        }
    }

    /// Numbers the events from `start` on, continuing the `sub` sequence of
    /// `seq`.
    fn number(&mut self, seq: u64, start: usize, out: &mut EventBuf<E::Key, H::Message>) {
        let batch = &mut out[start..];
        debug_assert!(batch.is_sorted_by_key(|o| (o.time, o.tiebreak)));
        for o in batch {
            debug_assert_eq!(o.seq, seq);
            o.sub = self.next_sub_for(seq);
        }
    }

    /// Starts a timer batch: fires the fragment timeouts and lists the
    /// flows due (idle and active timeouts, close lingers) in the order
    /// they end; removes the tombstones due, which end silently.
    fn begin_expiry(
        &mut self,
        now: Timestamp,
        seq: u64,
        at_end: bool,
    ) -> Expiry<E::Key, H::Message> {
        let cause = Cause::Timer;
        self.clock = self.clock.max(now);
        self.frags.expire(self.clock);
        let mut before = Vec::new();
        // The drops of datagrams unfinished at the end (which a pipeline's
        // ingest makes and its shards replay before the end's timers) go
        // with the flush.
        self.drain_defrag(seq, cause, false, &mut before);
        super::output::sort_time_driven(&mut before);

        let now_sec = self.clock.secs();
        let mut idx = std::mem::take(&mut self.scratch_idx);
        idx.clear();
        self.table.collect_idle(now_sec, self.emergency, &mut idx);
        let idle_count = idx.len();
        if self.active_timeout > 0 {
            self.table
                .collect_active(self.active_timeout, now_sec, &mut idx);
        }
        // A flow due by both timers ends once, as idle: the active pass
        // skips the idle ones, looked up in a sorted copy (a scan of the
        // idle list per active flow would be quadratic, hours for a batch
        // of millions after a gap in the capture's time).
        let mut idle = std::mem::take(&mut self.scratch_idle);
        idle.clear();
        if idx.len() > idle_count {
            idle.extend_from_slice(&idx[..idle_count]);
            idle.sort_unstable();
        }
        let mut due = Vec::with_capacity(idx.len());
        for (pos, &i) in (0u32..).zip(idx.iter()) {
            let e = self.table.get(i);
            let ts = if (pos as usize) < idle_count {
                if e.ended() {
                    self.table.remove(i);
                    continue;
                }
                let timeout = self.table.idle_timeout(e, self.emergency);
                e.last_seen()
                    .saturating_add(Duration::from_secs(u64::from(timeout)))
            } else if idle.binary_search(&i).is_err() {
                Timestamp::new(e.start.secs() + u64::from(self.active_timeout), 0)
            } else {
                continue;
            };
            due.push(Due {
                ts,
                id: e.flow_id(),
                idx: i,
                pos,
            });
        }
        self.scratch_idx = idx;
        self.scratch_idle = idle;
        due.sort_unstable_by_key(|d| (d.ts, d.id, d.pos));

        let mut after = Vec::new();
        if self.evicted_pending > 0 {
            let kind = AnomalyKind::FlowTableEvictionPressure {
                evicted: self.evicted_pending,
            };
            self.evicted_pending = 0;
            self.anomaly(&mut after, seq, cause, None, kind, self.clock);
        }
        Expiry {
            seq,
            at_end,
            due,
            next: 0,
            idle_count: u32::try_from(idle_count).unwrap_or(u32::MAX),
            before: before.into(),
            after: after.pop(),
        }
    }

    /// Ends the next `max_flows` flows of `x`, with the batch's other
    /// events that sort before them; the rest once the last has ended.
    /// Returns true when the batch is complete.
    fn expire_step(
        &mut self,
        x: &mut Expiry<E::Key, H::Message>,
        max_flows: usize,
        out: &mut EventBuf<E::Key, H::Message>,
    ) -> bool {
        let last = x.due.len().min(x.next.saturating_add(max_flows.max(1)));
        for n in x.next..last {
            let d = x.due[n];
            emit_pending(x, Some((d.ts, d.id)), out);
            let reason = if d.pos >= x.idle_count {
                EndReason::ActiveTimeout
            } else if self.table.get(d.idx).class == LINGER_CLASS {
                EndReason::Fin
            } else {
                EndReason::IdleTimeout
            };
            self.end(d.idx, reason, d.ts, x.seq, Cause::Timer, out);
        }
        x.next = last;
        if x.next < x.due.len() {
            return false;
        }
        emit_pending(x, None, out);
        if self.emergency.is_some() && self.table.len() <= self.recovered_len {
            self.emergency = None;
            self.stats.emergency_over += 1;
        }
        true
    }
}

/// Moves `x`'s pending events that sort before a flow ending with order
/// key `bound` (all of them for `None`) to `out`, in order.
fn emit_pending<K, M>(
    x: &mut Expiry<K, M>,
    bound: Option<(Timestamp, u64)>,
    out: &mut EventBuf<K, M>,
) {
    loop {
        let before = x
            .before
            .front()
            .map(|o| (o.time, o.tiebreak))
            .filter(|&k| bound.is_none_or(|b| k <= b));
        let after = x
            .after
            .as_ref()
            .map(|o| (o.time, o.tiebreak))
            .filter(|&k| bound.is_none_or(|b| k < b));
        match (before, after) {
            (Some(b), Some(a)) if a < b => out.extend(x.after.take()),
            (Some(_), _) => out.extend(x.before.pop_front()),
            (None, Some(_)) => out.extend(x.after.take()),
            (None, None) => return,
        }
    }
}
