//! The end-of-input flush, in bounded steps: the timers due at the end (a
//! timer batch, stepped as at an epoch boundary), the fragment buffers,
//! then every open flow in output order, at most a given number of flows
//! per step, so the events (and whatever a caller renders from them) of a
//! full table never exist all at once.

use super::{Engine, EventBuf};
use crate::event::{Cause, FlowEvent, Ordered};
use crate::flow::tcp::Endpoint;
use crate::hook::FlowHook;
use crate::key::FlowExtractor;
use crate::timestamp::Timestamp;
use crate::vocab::EndReason;
use std::collections::VecDeque;

/// A flush under way: where it stands between steps.
#[derive(Debug)]
pub(super) struct Flush<K, M> {
    seq: u64,
    /// The open flows by flow id (the order of their end events: they all
    /// end at the same time), and how many have ended.
    open: Vec<(u64, u32)>,
    next: usize,
    /// The events of the fragment buffers the flush dropped, in output
    /// order, not yet emitted.
    pending: VecDeque<Ordered<FlowEvent<K, M>>>,
}

impl<E: FlowExtractor, H: FlowHook<E::Key>> Engine<E, H> {
    /// End of input after packet `seq` at packet time `now`: fires the
    /// timers due, as a [`Cause::Timer`] batch at `seq` (what an epoch
    /// boundary after the last packet fires), then ends every open flow
    /// with [`EndReason::Shutdown`] ([`EndReason::Fin`] when both sides had
    /// already closed) and drops unfinished fragment datagrams, as one
    /// [`Cause::Flush`] batch in time order. [`Engine::finish_some`] does
    /// the same in bounded steps.
    pub fn finish(&mut self, now: Timestamp, seq: u64, out: &mut EventBuf<E::Key, H::Message>) {
        while !self.finish_some(now, seq, usize::MAX, out) {}
    }

    /// One step of the end-of-input flush: the same events as
    /// [`Engine::finish`], in the same order and numbering, but ending at
    /// most `max_flows` flows per call (first the timers' as
    /// [`Engine::advance_some`] does, then the open ones). Returns true
    /// once the flush is complete; call it again (with the same `now` and
    /// `seq`, and no packets in between) until then.
    pub fn finish_some(
        &mut self,
        now: Timestamp,
        seq: u64,
        max_flows: usize,
        out: &mut EventBuf<E::Key, H::Message>,
    ) -> bool {
        let mut flush = match self.flush.take() {
            Some(f) if f.seq == seq => f,
            _ => {
                // The timers first; the open flows from the next call on.
                if self.expire_some(now, seq, max_flows, true, out) {
                    self.flush = Some(Box::new(self.begin_flush(seq)));
                }
                return false;
            }
        };
        let start = out.len();
        let ts = self.clock;
        let last = flush
            .open
            .len()
            .min(flush.next.saturating_add(max_flows.max(1)));
        for n in flush.next..last {
            let (id, i) = flush.open[n];
            // Whatever the timers ended at or before this flow's end goes
            // first (the order of one stable sort by (time, tiebreak)).
            while flush
                .pending
                .front()
                .is_some_and(|p| (p.time, p.tiebreak) <= (ts, id))
            {
                out.extend(flush.pending.pop_front());
            }
            // Both sides already sent FIN: the connection is over, only its
            // last ACK is missing.
            let closed = self.table.get(i).endpoints == [Endpoint::Closed; 2];
            let reason = if closed {
                EndReason::Fin
            } else {
                EndReason::Shutdown
            };
            self.end(i, reason, ts, seq, Cause::Flush, out);
        }
        flush.next = last;
        let done = flush.next == flush.open.len();
        if done {
            out.extend(flush.pending.drain(..));
        } else {
            self.flush = Some(flush);
        }
        for o in &mut out[start..] {
            debug_assert_eq!((o.seq, o.cause), (seq, Cause::Flush));
            o.sub = self.next_sub_for(seq);
        }
        done
    }

    /// Starts a flush, once the timers due have fired: drops the fragment
    /// buffers (their events held, sorted) and lists the open flows in the
    /// order they end.
    fn begin_flush(&mut self, seq: u64) -> Flush<E::Key, H::Message> {
        let mut fired = Vec::new();
        self.frags.flush(self.clock);
        self.drain_defrag(seq, Cause::Flush, true, &mut fired);
        super::output::sort_time_driven(&mut fired);
        // The one allocation of the flush that grows with the table: 16
        // bytes per open flow.
        let mut open = Vec::with_capacity(self.table.len());
        let mut ended = Vec::new();
        for i in self.table.indexes() {
            let e = self.table.get(i);
            if e.ended() {
                ended.push(i);
            } else {
                open.push((e.flow_id(), i));
            }
        }
        for i in ended {
            self.table.remove(i);
        }
        // Stable: two flows with one id keep their table order, as the
        // single sort of all the flush's events did.
        open.sort_by_key(|&(id, _)| id);
        Flush {
            seq,
            open,
            next: 0,
            pending: fired.into(),
        }
    }
}
