//! Time-driven work: the timers an epoch boundary fires (idle and active
//! timeouts, close lingers, fragment timeouts, the eviction-pressure
//! report) and the sealing of a time-driven batch into the output order.

use super::{Engine, EventBuf, LINGER_CLASS};
use crate::event::{AnomalyKind, Cause};
use crate::hook::FlowHook;
use crate::key::FlowExtractor;
use crate::timestamp::Timestamp;
use crate::vocab::EndReason;
use std::time::Duration;

impl<E: FlowExtractor, H: FlowHook<E::Key>> Engine<E, H> {
    /// Fires the timers due at packet time `now`, as of the epoch boundary
    /// after packet `seq`: idle and active timeouts, close lingers, fragment
    /// timeouts, and the eviction-pressure report.
    pub fn advance(&mut self, now: Timestamp, seq: u64, out: &mut EventBuf<E::Key, H::Message>) {
        let start = out.len();
        self.fire_timers(now, seq, Cause::Timer, out);
        self.seal_time_driven(seq, Cause::Timer, start, out);
    }

    /// Idle/active timeouts, lingers and fragment timeouts due at `now`,
    /// emitted (unsorted) under `cause`.
    pub(super) fn fire_timers(
        &mut self,
        now: Timestamp,
        seq: u64,
        cause: Cause,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        self.clock = self.clock.max(now);
        self.frags.expire(self.clock);
        self.drain_defrag(seq, cause, out);

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
        for (n, &i) in idx.iter().enumerate() {
            let e = self.table.get(i);
            if n < idle_count {
                let timeout = self.table.idle_timeout(e, self.emergency);
                let ts = e
                    .last_seen()
                    .saturating_add(Duration::from_secs(u64::from(timeout)));
                if e.ended() {
                    self.table.remove(i);
                } else {
                    let reason = if e.class == LINGER_CLASS {
                        EndReason::Fin
                    } else {
                        EndReason::IdleTimeout
                    };
                    self.end(i, reason, ts, seq, cause, out);
                }
            } else if idle.binary_search(&i).is_err() {
                let ts = Timestamp::new(e.start.secs() + u64::from(self.active_timeout), 0);
                self.end(i, EndReason::ActiveTimeout, ts, seq, cause, out);
            }
        }
        self.scratch_idx = idx;
        self.scratch_idle = idle;
        if self.emergency.is_some() && self.table.len() <= self.recovered_len {
            self.emergency = None;
            self.stats.emergency_over += 1;
        }

        if self.evicted_pending > 0 {
            let kind = AnomalyKind::FlowTableEvictionPressure {
                evicted: self.evicted_pending,
            };
            self.evicted_pending = 0;
            self.anomaly(out, seq, cause, None, kind, self.clock);
        }
    }

    /// Sorts the time-driven events emitted since `start` by
    /// `(time, tiebreak)` and numbers them, continuing the `sub` sequence of
    /// `(seq, cause)`.
    pub(super) fn seal_time_driven(
        &mut self,
        seq: u64,
        cause: Cause,
        start: usize,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        let batch = &mut out[start..];
        super::output::sort_time_driven(batch);
        for o in batch {
            debug_assert_eq!((o.seq, o.cause), (seq, cause));
            o.sub = self.next_sub_for(seq);
        }
    }
}
