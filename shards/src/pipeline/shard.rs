//! A shard thread: runs its engine over the batches it is sent, fires
//! timers at epoch markers, maps events through the sink and hands the
//! items to the merge.

use super::messages::{ItemBatch, Keyed, MergerMsg, PacketBatch, ShardMsg};
use super::panic_text;
use super::report::{LiveCounters, ShardReport};
use super::sink::EventSink;
use crate::latency::{Clock, LatencyReport};
use crate::source::shared_slice;
use crossbeam_channel::{Receiver, Sender};
use flowscope_engine::{Engine, EventBuf, FlowExtractor, FlowHook};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// A shard's ends of the channels.
pub(super) struct ShardChannels<T> {
    pub(super) rx: Receiver<ShardMsg>,
    pub(super) pool_tx: Sender<PacketBatch>,
    pub(super) merger_tx: Sender<MergerMsg<T>>,
    pub(super) item_returns: Receiver<Vec<Keyed<T>>>,
    /// Byte buffers the merge is done with.
    pub(super) byte_returns: Receiver<Vec<u8>>,
    /// Credits from the merge: one per step of a timer batch or of the
    /// end-of-input flush.
    pub(super) credits: Receiver<()>,
}

pub(super) fn shard_main<
    E: FlowExtractor,
    H: FlowHook<E::Key>,
    S: EventSink<E::Key, H::Message>,
>(
    k: usize,
    engine: Engine<E, H>,
    sink: S,
    channels: ShardChannels<S::Item>,
    work: Work,
    live: &LiveCounters,
    latency: Option<(Clock, u32)>,
) {
    let ShardChannels {
        rx,
        pool_tx,
        merger_tx,
        item_returns,
        byte_returns,
        credits,
    } = channels;
    let merger = merger_tx.clone();
    let to_merge = ToMerge {
        tx: merger_tx.clone(),
        item_returns,
        byte_returns,
    };
    let mut engine = engine;
    if work == Work::Keyed {
        // The ingest reassembles fragments for every shard.
        engine.reassemble_upstream();
    }
    let noop = work == Work::Noop;
    let run = catch_unwind(AssertUnwindSafe(move || {
        let mut shard = Shard {
            k,
            work,
            engine,
            sink,
            events: Vec::new(),
            items: Vec::new(),
            bytes: Vec::new(),
            to_merge,
            clock: latency.map(|(c, _)| c),
            report: ShardReport {
                shard: k,
                latency: latency.map(|(_, every)| Box::new(LatencyReport::new(every))),
                ..ShardReport::default()
            },
        };
        while let Ok(msg) = rx.recv() {
            let t = Instant::now();
            match msg {
                ShardMsg::Batch(mut b) => {
                    let sampled = b.sampled_reads.len() as u64;
                    let taken_at = shard.taken(sampled, b.sent_ns);
                    if !noop {
                        shard.process(&b);
                    }
                    shard.report.packets += b.handles.len() as u64;
                    b.clear();
                    let _ = pool_tx.try_send(b);
                    shard.hand_over(false, false);
                    shard.processed(sampled, taken_at);
                }
                ShardMsg::Epoch(st, drops) => {
                    if !noop {
                        shard.engine.replay_defrag_events(&drops);
                    }
                    // A step at a time, as the flush below: after a gap in
                    // the capture's time the whole table may be due.
                    shard.in_steps(&credits, |engine, events| {
                        noop || engine.advance_some(st.now, st.seq, crate::FLUSH_STEP_FLOWS, events)
                    });
                    if !noop {
                        shard.report.peak_flows =
                            shard.report.peak_flows.max(shard.engine.active_flows());
                        shard.report.peak_table_bytes = shard
                            .report
                            .peak_table_bytes
                            .max(shard.engine.table_bytes() as u64);
                    }
                    let _ = merger_tx.send(MergerMsg::EpochDone(k, st.seq));
                    live.shard_packets[k].store(shard.report.packets, Ordering::Relaxed);
                    live.shard_flows[k].store(shard.engine.active_flows(), Ordering::Relaxed);
                }
                ShardMsg::Finish(st, drops) => {
                    if !noop {
                        shard.engine.replay_defrag_events(&drops);
                    }
                    shard.in_steps(&credits, |engine, events| {
                        noop || engine.finish_some(st.now, st.seq, crate::FLUSH_STEP_FLOWS, events)
                    });
                    shard.report.busy += t.elapsed();
                    shard.report.engine = shard.engine.stats();
                    shard.report.sessions = shard.engine.hook().session_counters();
                    shard.report.peak_flows =
                        shard.report.peak_flows.max(shard.report.engine.peak_flows);
                    live.shard_packets[k].store(shard.report.packets, Ordering::Relaxed);
                    live.shard_flows[k].store(0, Ordering::Relaxed);
                    let _ = merger_tx.send(MergerMsg::Finished(Box::new(shard.report)));
                    return;
                }
            }
            shard.report.busy += t.elapsed();
        }
        // The ingest went away without a Finish (it panicked).
        let _ = merger_tx.send(MergerMsg::Failed(
            k,
            "input ended without a finish marker".into(),
        ));
    }));
    if let Err(p) = run {
        let _ = merger.send(MergerMsg::Failed(k, panic_text(&*p)));
    }
}

/// What a shard does with the packets it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Work {
    /// Processes packets the ingest keyed, replaying its reassembly.
    Keyed,
    /// Keys them itself and reassembles fragments (the one shard of a
    /// pipeline: see `PipelineConfig::shard_keys`).
    Keys,
    /// Recycles the batches untouched (`noop_shards`).
    Noop,
}

struct Shard<E: FlowExtractor, H: FlowHook<E::Key>, S: EventSink<E::Key, H::Message>> {
    k: usize,
    work: Work,
    engine: Engine<E, H>,
    sink: S,
    events: EventBuf<E::Key, H::Message>,
    items: Vec<Keyed<S::Item>>,
    /// The bytes of `items` (see `EventSink::map`).
    bytes: Vec<u8>,
    to_merge: ToMerge<S::Item>,
    /// Set when latency is recorded.
    clock: Option<Clock>,
    report: ShardReport,
}

impl<E: FlowExtractor, H: FlowHook<E::Key>, S: EventSink<E::Key, H::Message>> Shard<E, H, S> {
    fn process(&mut self, b: &PacketBatch) {
        let shared: &[u8] = match &b.storage {
            Some(s) => shared_slice(s),
            None => &[],
        };
        let mut step = 0;
        for (i, h) in b.handles.iter().enumerate() {
            let bytes = if h.copied { &b.copied[..] } else { shared };
            // The ingest touched these bytes on another core: ask for the
            // next packets' headers before they are needed.
            if let Some(ahead) = b.handles.get(i + crate::PREFETCH_AHEAD) {
                let from = if ahead.copied { &b.copied[..] } else { shared };
                let bytes = from.get(ahead.packet.offset..).unwrap_or(&[]);
                crate::prefetch_packet(bytes, ahead.packet.len as usize);
            }
            if h.defrag_steps > 0 {
                let to = step + usize::from(h.defrag_steps);
                self.engine.replay_defrag(&b.defrag, step, to);
                step = to;
            }
            let Some(raw) = h.packet.resolve(bytes) else {
                continue;
            };
            if self.work == Work::Keys {
                self.engine.process(h.seq, h.now, &raw, &mut self.events);
            } else {
                self.engine
                    .process_hashed(h.seq, h.now, &raw, h.dispatch_hash(), &mut self.events);
            }
        }
        self.map_events();
    }

    /// Runs `step` (one step of a timer batch or of the end-of-input
    /// flush, true once that is complete) until it completes, each step's
    /// items handed to the merge and each next step taken after the merge
    /// has released most of them (its credit): the records of a batch as
    /// large as the table are never all held at once. A merge that is gone
    /// reads no more, and the steps stop.
    fn in_steps(
        &mut self,
        credits: &Receiver<()>,
        mut step: impl FnMut(&mut Engine<E, H>, &mut EventBuf<E::Key, H::Message>) -> bool,
    ) {
        loop {
            let done = step(&mut self.engine, &mut self.events);
            let before = self.report.items;
            self.map_events();
            // Every step but the last asks for a credit, also when its
            // items all went in parts already.
            let parts = self.report.items != before;
            let sent = self.hand_over(!done, parts && !done);
            if done || (sent && credits.recv().is_err()) {
                return;
            }
        }
    }

    /// Latency: a batch with `sampled` sampled packets, queued at
    /// `sent_ns`, was just taken; records its queue wait and returns when.
    fn taken(&mut self, sampled: u64, sent_ns: u64) -> u64 {
        match (&self.clock, self.report.latency.as_deref_mut()) {
            (Some(clock), Some(lat)) if sampled > 0 => {
                let now = clock.now();
                let wait = now.saturating_sub(sent_ns).max(1);
                let _ = lat.queue.record_n(wait.min(lat.queue.high()), sampled);
                now
            }
            _ => 0,
        }
    }

    /// Latency: the batch taken at `taken_at` is done and its events are
    /// with the merge.
    fn processed(&mut self, sampled: u64, taken_at: u64) {
        if let (Some(clock), Some(lat)) = (&self.clock, self.report.latency.as_deref_mut())
            && sampled > 0
        {
            let spent = clock.now().saturating_sub(taken_at).max(1);
            let _ = lat.shard.record_n(spent.min(lat.shard.high()), sampled);
        }
    }

    /// Maps the events gathered into items. Once the items' bytes reach
    /// [`HANDOVER_BYTES`] they go to the merge there and then: no buffer
    /// grows much past that (a flood's evictions and a step of the
    /// end-of-input flush make thousands of records at once), so each can
    /// be filled again.
    fn map_events(&mut self) {
        let mut events = std::mem::take(&mut self.events);
        // Room for them all at once: a timer's batch of flow ends would
        // otherwise grow the list (and copy it) several times over.
        self.items.reserve(events.len());
        for ev in events.drain(..) {
            let key = ev.key();
            if let Some(item) = self.sink.map(ev, &mut self.bytes) {
                self.items.push((key, item));
                if self.bytes.len() >= HANDOVER_BYTES {
                    self.hand_over(false, false);
                }
            }
        }
        self.events = events;
    }

    /// Sends the items to the merge, if there are any (or, with
    /// `even_empty`, none), asking for a credit when `credit` (a step of
    /// the end-of-input flush); whether it sent them (and so, with
    /// `credit`, must wait for one).
    fn hand_over(&mut self, credit: bool, even_empty: bool) -> bool {
        if self.items.is_empty() && !even_empty {
            // Bytes without an item are nobody's.
            self.bytes.clear();
            return false;
        }
        let ToMerge {
            tx,
            item_returns,
            byte_returns,
        } = &self.to_merge;
        self.report.items += self.items.len() as u64;
        // The next list and buffer: one the merge gave back, else a new one
        // as large as the one sent (the merge, on a shared core, often has
        // given none back yet). `map_events` reserves a batch's items, but
        // not what follows a hand-over in the middle of a batch, nor the
        // bytes rendered: grown from nothing, those would be copied over
        // and over as they fill.
        let next = refill(item_returns, self.items.len());
        let items = std::mem::replace(&mut self.items, next);
        // No bytes, no buffer to swap (sinks that write none).
        let bytes = if self.bytes.is_empty() {
            Vec::new()
        } else {
            let next = refill(byte_returns, self.bytes.len());
            std::mem::replace(&mut self.bytes, next)
        };
        let at = self.clock.as_ref().map_or(0, Clock::now);
        tx.send(MergerMsg::Items(
            self.k,
            ItemBatch { items, bytes },
            at,
            credit,
        ))
        .is_ok()
    }
}

/// A list the merge gave back through `returns`, else a new one with room
/// for `len` elements.
fn refill<T>(returns: &Receiver<Vec<T>>, len: usize) -> Vec<T> {
    returns
        .try_recv()
        .unwrap_or_else(|_| Vec::with_capacity(len))
}

/// Item bytes at which a shard hands its items over without waiting for
/// the end of the batch.
const HANDOVER_BYTES: usize = 32 << 10;

/// A shard's way to the merge: where its items go, and where emptied item
/// lists and byte buffers come back from.
struct ToMerge<T> {
    tx: Sender<MergerMsg<T>>,
    item_returns: Receiver<Vec<Keyed<T>>>,
    byte_returns: Receiver<Vec<u8>>,
}
