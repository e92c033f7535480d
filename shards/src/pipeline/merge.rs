//! The merge: puts the shards' items back into [`OrderKey`] order, releasing
//! an item once no shard can still send one before it (every shard has
//! finished an epoch past it or sent a later item: a shard's items come in
//! order), renumbers `sub` so the output is the inline engine's, hands each
//! item on with the buffer its bytes are in and gives a buffer back to its
//! shard once every item in it is handed on, and paces the shards' timer
//! batches and end-of-input flush with credits.

use super::messages::{ItemBatch, Keyed, MergerMsg};
use super::report::{LiveCounters, MergerReport, ShardReport};
use crate::latency::{Clock, LatencyReport, ReadTimes, record};
use crossbeam_channel::{Receiver, Sender};
use flowscope_engine::{Cause, OrderKey, Timestamp};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Above every key.
const MAX_KEY: OrderKey = (u64::MAX, Cause::Flush, Timestamp::MAX, u64::MAX, u32::MAX);

/// What the merger hands back: shard reports, its own, shard failures.
pub(super) type MergerOutcome = (Vec<ShardReport>, MergerReport, Vec<(usize, String)>);

/// What the merger works from, wherever it runs.
pub(super) struct MergerInput<T> {
    pub(super) live: Arc<LiveCounters>,
    pub(super) n: usize,
    pub(super) rx: Receiver<MergerMsg<T>>,
    pub(super) returns: Vec<Sender<Vec<Keyed<T>>>>,
    /// Per shard: its emptied byte buffers, for reuse.
    pub(super) byte_returns: Vec<Sender<Vec<u8>>>,
    /// Per shard: credits for the steps of its timer batches and its
    /// end-of-input flush.
    pub(super) credits: Vec<Sender<()>>,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) renumber: fn(&mut T, u32),
    pub(super) latency: Option<(Clock, Arc<ReadTimes>)>,
}

/// A byte buffer that grew past this is freed rather than handed back for
/// reuse: batches of evictions in a flood, or a step of the end-of-input
/// flush, fill a few MiB, which a shard would otherwise keep.
const MAX_REUSED_BYTES: usize = 1 << 20;

/// Runs the merge to the end, handing every item to `emit` in order, with
/// the buffer its bytes are in; `emit` returns false once nobody wants
/// more (the input is then stopped and the rest discarded).
pub(super) fn run_merger<T>(
    input: MergerInput<T>,
    emit: &mut dyn FnMut(T, &[u8]) -> bool,
) -> MergerOutcome {
    let MergerInput {
        live,
        n,
        rx,
        returns,
        byte_returns,
        credits,
        stop,
        renumber,
        latency,
    } = input;
    let mut m = Merger {
        latency: latency.map(|(clock, reads)| MergeLatency {
            report: LatencyReport::new(reads.sample_every as u32),
            clock,
            reads,
            handed: (0..n).map(|_| VecDeque::new()).collect(),
            pushed: vec![0; n],
            popped: vec![0; n],
        }),
        cursor: None,
        next_sub: 0,
        renumber,
        queues: (0..n).map(|_| VecDeque::new()).collect(),
        buffers: (0..n).map(|_| Buffers::default()).collect(),
        last: vec![None; n],
        owed: vec![false; n],
        done: vec![None; n],
        finished: vec![false; n],
        out_closed: false,
        ready: Vec::new(),
        stop,
        report: MergerReport::default(),
    };
    let mut reports = Vec::with_capacity(n);
    let mut failures = Vec::new();
    while let Ok(msg) = rx.recv() {
        let t = Instant::now();
        match msg {
            MergerMsg::Items(k, ItemBatch { mut items, bytes }, at, credit) => {
                if let Some(lat) = &mut m.latency {
                    lat.pushed[k] += items.len() as u64;
                    lat.handed[k].push_back((lat.pushed[k], at));
                }
                if let Some((key, _)) = items.last() {
                    m.last[k] = Some(*key);
                }
                m.owed[k] |= credit;
                m.buffers[k].add(items.len() as u64, bytes);
                m.queues[k].extend(items.drain(..));
                let _ = returns[k].try_send(items);
                let held: usize = m.queues.iter().map(VecDeque::len).sum();
                m.report.held_high_water = m.report.held_high_water.max(held);
            }
            MergerMsg::EpochDone(k, seq) => {
                m.done[k] = Some(seq);
            }
            MergerMsg::Finished(r) => {
                m.finished[r.shard] = true;
                reports.push(*r);
            }
            MergerMsg::Failed(k, why) => {
                m.finished[k] = true;
                failures.push((k, why));
            }
        }
        let emitted = m.release(emit);
        m.give_back(&byte_returns);
        m.grant(&credits);
        m.report.busy += t.elapsed().saturating_sub(emitted);
        live.merged.store(m.report.items, Ordering::Relaxed);
        if m.finished.iter().all(|&f| f) {
            break;
        }
    }
    // Whatever is left (every shard finished, or failed): in order.
    m.finished.iter_mut().for_each(|f| *f = true);
    m.release(emit);
    m.give_back(&byte_returns);
    live.merged.store(m.report.items, Ordering::Relaxed);
    m.report.latency = m.latency.map(|l| Box::new(l.report));
    (reports, m.report, failures)
}

/// The merge's latency recording.
struct MergeLatency {
    report: LatencyReport,
    clock: Clock,
    reads: Arc<ReadTimes>,
    /// Per shard: (items received up to and including a handover, when it
    /// was handed over), oldest first; and items received and released.
    handed: Vec<VecDeque<(u64, u64)>>,
    pushed: Vec<u64>,
    popped: Vec<u64>,
}

impl MergeLatency {
    /// Shard `k`'s next item, of packet `seq`, is being released.
    fn released(&mut self, k: usize, seq: u64) {
        let index = self.popped[k];
        self.popped[k] += 1;
        let marks = &mut self.handed[k];
        while marks.front().is_some_and(|&(end, _)| end <= index) {
            marks.pop_front();
        }
        if !self.reads.sampled(seq) {
            return;
        }
        let now = self.clock.now();
        if let Some(&(_, at)) = marks.front() {
            record(&mut self.report.merge, now.saturating_sub(at));
        }
        match self.reads.load(seq) {
            Some(read) => record(&mut self.report.total, now.saturating_sub(read)),
            None => self.report.lost += 1,
        }
    }
}

/// One shard's byte buffers held here, oldest first, each with the count of
/// the shard's items received up to and including its batch; the shard's
/// items released so far, and the place in `held` of the buffer of the
/// next one.
#[derive(Default)]
struct Buffers {
    held: VecDeque<(u64, Vec<u8>)>,
    received: u64,
    released: u64,
    next: usize,
}

impl Buffers {
    fn add(&mut self, items: u64, bytes: Vec<u8>) {
        self.received += items;
        self.held.push_back((self.received, bytes));
    }

    /// Where the shard's next item's bytes are (its buffer's place in
    /// `held`), counting it released.
    fn release_next(&mut self) -> usize {
        let i = self.released;
        self.released += 1;
        while self.held.get(self.next).is_some_and(|&(end, _)| end <= i) {
            self.next += 1;
        }
        self.next
    }

    /// The oldest buffer, once every item in it is released.
    fn pop_spent(&mut self) -> Option<Vec<u8>> {
        if self.held.front()?.0 > self.released {
            return None;
        }
        self.next = self.next.saturating_sub(1);
        self.held.pop_front().map(|(_, bytes)| bytes)
    }
}

struct Merger<T> {
    latency: Option<MergeLatency>,
    /// The seq of the last item released and the next `sub` for it.
    cursor: Option<u64>,
    next_sub: u32,
    renumber: fn(&mut T, u32),
    queues: Vec<VecDeque<Keyed<T>>>,
    /// Per shard: the byte buffers of its items held or being handed on.
    buffers: Vec<Buffers>,
    /// Per shard: the key of the last item received (its next ones sort
    /// after it), and whether it waits for a flush credit.
    last: Vec<Option<OrderKey>>,
    owed: Vec<bool>,
    done: Vec<Option<u64>>,
    finished: Vec<bool>,
    out_closed: bool,
    /// Items released by the pass under way, in order, to hand on: each
    /// with its shard and its buffer's place among the shard's `buffers`.
    ready: Vec<(T, usize, usize)>,
    stop: Arc<AtomicBool>,
    report: MergerReport,
}

impl<T> Merger<T> {
    /// Gives every buffer whose items have all been handed on back to its
    /// shard, emptied (or drops it, when the shard has enough or it grew
    /// past [`MAX_REUSED_BYTES`]).
    fn give_back(&mut self, returns: &[Sender<Vec<u8>>]) {
        for (b, ret) in self.buffers.iter_mut().zip(returns) {
            while let Some(mut bytes) = b.pop_spent() {
                if bytes.capacity() > 0 && bytes.capacity() <= MAX_REUSED_BYTES {
                    bytes.clear();
                    let _ = ret.try_send(bytes);
                }
            }
        }
    }

    /// Sends a credit to every shard that waits for one and whose items
    /// held here are fewer than a flush step's flows.
    fn grant(&mut self, credits: &[Sender<()>]) {
        for (k, owed) in self.owed.iter_mut().enumerate() {
            if *owed && self.queues[k].len() < crate::FLUSH_STEP_FLOWS {
                *owed = false;
                let _ = credits[k].try_send(());
            }
        }
    }

    /// Releases, in key order, every held item that no shard can still
    /// precede: those at or below, for every unfinished shard, the last
    /// epoch boundary it has completed or the last item it has sent,
    /// whichever is later. Returns the time spent in `emit` (the
    /// consumer's time, or waiting for it), which is not merge work.
    fn release(&mut self, emit: &mut dyn FnMut(T, &[u8]) -> bool) -> Duration {
        let mut emitting = Duration::ZERO;
        // An epoch done at seq `s` means every packet up to `s` and the
        // timers at `s` are in; the end-of-input flush at `s`, which sorts
        // after them, is not. A finished shard bounds nothing.
        let mut bound = MAX_KEY;
        for k in 0..self.queues.len() {
            if self.finished[k] {
                continue;
            }
            let epoch = self.done[k].map(|s| (s, Cause::Timer, Timestamp::MAX, u64::MAX, u32::MAX));
            match epoch.max(self.last[k]) {
                Some(b) => bound = bound.min(b),
                None => return emitting,
            }
        }
        loop {
            let mut best: Option<(usize, OrderKey)> = None;
            for (k, q) in self.queues.iter().enumerate() {
                if let Some((key, _)) = q.front()
                    && *key <= bound
                    && best.is_none_or(|(_, b)| *key < b)
                {
                    best = Some((k, *key));
                }
            }
            let Some((k, _)) = best else { break };
            let Some((key, mut item)) = self.queues[k].pop_front() else {
                break;
            };
            if let Some(lat) = &mut self.latency {
                lat.released(k, key.0);
            }
            if self.cursor != Some(key.0) {
                self.cursor = Some(key.0);
                self.next_sub = 0;
            }
            (self.renumber)(&mut item, self.next_sub);
            self.next_sub += 1;
            let at = self.buffers[k].release_next();
            if !self.out_closed {
                self.ready.push((item, k, at));
            }
        }
        // Handed on together: the consumer's time is read once per
        // release, not twice per item.
        if !self.ready.is_empty() {
            let t = Instant::now();
            // Leaving the loop early drops the rest of the drain.
            for (item, k, at) in self.ready.drain(..) {
                let bytes = self.buffers[k].held.get(at).map_or(&[][..], |(_, b)| b);
                if !emit(item, bytes) {
                    // Nobody reads any more: stop the input, finish quietly.
                    self.out_closed = true;
                    self.stop.store(true, Ordering::Relaxed);
                    break;
                }
                self.report.items += 1;
            }
            emitting += t.elapsed();
        }
        emitting
    }
}

#[cfg(test)]
mod tests {
    use super::Buffers;

    #[test]
    fn a_buffer_goes_back_only_once_every_item_in_it_is_released() {
        let mut b = Buffers::default();
        // Batches of 2 and 3 items, then one of none.
        b.add(2, b"ab".to_vec());
        b.add(3, b"cde".to_vec());
        b.add(0, Vec::new());
        assert_eq!(b.release_next(), 0);
        assert!(b.pop_spent().is_none(), "the first batch has an item left");
        assert_eq!(b.release_next(), 0);
        assert_eq!(b.release_next(), 1, "the third item is the second batch's");
        assert_eq!(b.pop_spent().as_deref(), Some(&b"ab"[..]));
        assert_eq!(
            b.release_next(),
            0,
            "places move with the buffers given back"
        );
        assert_eq!(b.release_next(), 0);
        assert!(b.pop_spent().is_some_and(|v| v == b"cde"));
        assert!(
            b.pop_spent().is_some_and(|v| v.is_empty()),
            "an empty batch goes too"
        );
        assert!(b.pop_spent().is_none());
    }
}
