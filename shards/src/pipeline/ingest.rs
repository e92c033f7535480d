//! The ingest thread: reads the source, numbers and stamps packets, closes
//! epochs, reassembles fragments (so a fragmented tunnel's inner flow is
//! keyed by its inner addresses), keys each packet to its shard and hands
//! it over in batches (dropping them, counted, when a live source outruns
//! a shard).

use super::config::Backpressure;
use super::messages::{Handle, PacketBatch, ShardMsg};
use super::report::{IngestReport, LiveCounters};
use crate::latency::{Clock, LatencyReport, ReadTimes, record};
use crate::sequencer::{Sequencer, Stamp};
use crate::source::{PacketRef, PacketSource, SharedBytes, SourceError, Storage, shared_slice};
use crossbeam_channel::{Receiver, Sender, TrySendError};
use flowscope_engine::unstable::{Decoder, DefragEvent, DefragLog, FragmentRouter};
use flowscope_engine::{FlowExtractor, PacketView, Transport};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Source problems kept in the report; the rest are only counted.
const MAX_SOURCE_ERRORS: usize = 64;

pub(super) struct IngestCtx<E> {
    pub(super) live: Arc<LiveCounters>,
    pub(super) decoder: Decoder,
    /// Reassembly for every shard: a datagram's packets go where its
    /// rebuilt content is keyed.
    pub(super) router: FragmentRouter,
    pub(super) extractor: E,
    pub(super) shards: Vec<Sender<ShardMsg>>,
    pub(super) pool: Receiver<PacketBatch>,
    pub(super) batch_packets: usize,
    pub(super) backpressure: Backpressure,
    pub(super) drop_wait: Duration,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) latency: Option<(Clock, Arc<ReadTimes>)>,
}

impl<E> IngestCtx<E> {
    fn fresh_batch(&self) -> PacketBatch {
        match self.pool.try_recv() {
            Ok(b) => b,
            Err(_) => PacketBatch::new(self.batch_packets),
        }
    }

    /// Sends shard `k`'s batch (if it holds anything) and puts a fresh one
    /// in its place.
    fn send_batch(&self, k: usize, batches: &mut [PacketBatch], report: &mut IngestReport) {
        if batches[k].handles.is_empty() {
            return;
        }
        let mut batch = std::mem::replace(&mut batches[k], self.fresh_batch());
        let count = batch.handles.len() as u64;
        if let (Some((clock, _)), Some(lat)) = (&self.latency, report.latency.as_deref_mut())
            && !batch.sampled_reads.is_empty()
        {
            let now = clock.now();
            for &read in &batch.sampled_reads {
                record(&mut lat.ingest, now.saturating_sub(read));
            }
            batch.sent_ns = now;
        }
        match self.shards[k].try_send(ShardMsg::Batch(batch)) {
            Ok(()) => report.sent[k] += count,
            Err(TrySendError::Full(msg)) => {
                report.stalls[k] += 1;
                match self.backpressure {
                    Backpressure::Block => {
                        let t = Instant::now();
                        if self.shards[k].send(msg).is_ok() {
                            report.sent[k] += count;
                        }
                        report.blocked += t.elapsed();
                    }
                    Backpressure::Drop => {
                        let t = Instant::now();
                        let waited = if self.drop_wait.is_zero() {
                            Err(msg)
                        } else {
                            self.shards[k]
                                .send_timeout(msg, self.drop_wait)
                                .map_err(|e| e.into_inner())
                        };
                        report.blocked += t.elapsed();
                        match waited {
                            Ok(()) => report.sent[k] += count,
                            Err(msg) => {
                                report.dropped[k] += count;
                                if let ShardMsg::Batch(mut b) = msg {
                                    b.clear();
                                    batches[k] = b;
                                }
                            }
                        }
                    }
                }
            }
            // The shard is gone (it panicked); its packets are lost and the
            // merger reports the failure.
            Err(TrySendError::Disconnected(_)) => report.dropped[k] += count,
        }
        report.queue_high_water[k] = report.queue_high_water[k].max(self.shards[k].len());
    }

    /// Sends every partial batch, then the epoch marker to every shard
    /// (shard 0's with the fragment timeouts due at it).
    fn end_epoch(
        &mut self,
        boundary: Stamp,
        batches: &mut [PacketBatch],
        report: &mut IngestReport,
    ) {
        for k in 0..batches.len() {
            self.send_batch(k, batches, report);
        }
        let mut drops = Vec::new();
        self.router.expire(boundary.now, &mut drops);
        self.broadcast(drops, |d| ShardMsg::Epoch(boundary, d), report);
        self.publish(report);
    }

    fn publish(&self, report: &IngestReport) {
        self.live.read.store(report.packets, Ordering::Relaxed);
        let dropped = report.dropped.iter().sum();
        self.live.dropped.store(dropped, Ordering::Relaxed);
        for (k, tx) in self.shards.iter().enumerate() {
            self.live.shard_dropped[k].store(report.dropped[k], Ordering::Relaxed);
            self.live.queue_depth[k].store(tx.len() as u64, Ordering::Relaxed);
        }
    }

    /// Sends `msg` to every shard; shard 0's carries `drops`.
    fn broadcast(
        &self,
        mut drops: Vec<DefragEvent>,
        msg: impl Fn(Vec<DefragEvent>) -> ShardMsg,
        report: &mut IngestReport,
    ) {
        let t = Instant::now();
        for tx in &self.shards {
            let _ = tx.send(msg(std::mem::take(&mut drops)));
        }
        report.blocked += t.elapsed();
    }
}

pub(super) fn ingest_main<Src: PacketSource, E: FlowExtractor>(
    mut source: Src,
    mut ctx: IngestCtx<E>,
    epoch_packets: u64,
    epoch_interval: Duration,
) -> (Src, IngestReport) {
    let live = source.is_live();
    let mut last_epoch = Instant::now();
    let n = ctx.shards.len();
    let started = Instant::now();
    let mut report = IngestReport {
        sent: vec![0; n],
        stalls: vec![0; n],
        queue_high_water: vec![0; n],
        dropped: vec![0; n],
        latency: ctx
            .latency
            .as_ref()
            .map(|(_, r)| Box::new(LatencyReport::new(r.sample_every as u32))),
        ..IngestReport::default()
    };
    let mut seq = Sequencer::new(epoch_packets);
    let mut batches: Vec<PacketBatch> = (0..n)
        .map(|_| PacketBatch::new(ctx.batch_packets))
        .collect();
    // One packet's reassembly steps, until its shard is known.
    let mut steps = DefragLog::default();
    loop {
        if ctx.stop.load(Ordering::Relaxed) {
            report.stopped = true;
            break;
        }
        // Live input: one clock read per read serves both the wall-time
        // epoch (flows time out and output flows while the link is quiet)
        // and the idle accounting (waiting on a quiet link is not work).
        let read_at = live.then(Instant::now);
        if let Some(now) = read_at
            && now.duration_since(last_epoch) >= epoch_interval
        {
            last_epoch = now;
            if let Some(clock) = source.clock_now() {
                seq.advance_clock(clock);
            }
            if let Some(boundary) = seq.close_epoch_now() {
                ctx.end_epoch(boundary, &mut batches, &mut report);
            }
        }
        let pkt = match source.next_packet() {
            None => break,
            Some(Err(SourceError::Idle)) => {
                if let Some(t) = read_at {
                    report.idle += t.elapsed();
                }
                continue;
            }
            Some(Err(e)) => {
                if report.source_errors.len() < MAX_SOURCE_ERRORS {
                    report.source_errors.push(e);
                }
                report.source_error_count += 1;
                continue;
            }
            Some(Ok(p)) => p,
        };
        let raw = pkt.raw;
        let stamp = seq.stamp(raw.ts);
        let read_ns = match &ctx.latency {
            Some((clock, reads)) if reads.sampled(stamp.seq) => {
                let t = clock.now();
                reads.store(stamp.seq, t);
                t
            }
            _ => 0,
        };
        report.packets += 1;
        report.bytes += u64::from(raw.wire_len);

        let mut view = PacketView::empty(&raw);
        // The dispatch hash picks the shard, and the shard's engine finishes
        // the flow hash from it: the addresses are hashed once, here.
        let mut dispatch_hash = match ctx.decoder.decode_into(&raw, &mut view) {
            Ok(()) => ctx.extractor.dispatch_hash(&view),
            Err(_) => None,
        };
        if matches!(view.transport, Transport::Fragment) {
            // What completes a datagram goes where the datagram's content
            // is keyed (a tunnel's inner flow); the other fragments stay
            // with their own addresses.
            let routed = ctx.router.route(&ctx.extractor, &view, &mut steps);
            dispatch_hash = routed.hash.or(dispatch_hash);
        }
        // Packets that cannot be keyed go to shard 0, which counts them.
        let k = dispatch_hash.map_or(0, |h| shard_of(h, n));

        let mut handle = Handle {
            packet: PacketRef::new(&raw, 0),
            seq: stamp.seq,
            now: stamp.now,
            hash: dispatch_hash.unwrap_or(0),
            keyed: dispatch_hash.is_some(),
            copied: false,
            defrag_steps: 0,
        };
        match pkt.storage {
            Storage::Shared(bytes) => {
                let same = batches[k]
                    .storage
                    .as_ref()
                    .is_none_or(|s| same_storage(s, bytes));
                if !same {
                    ctx.send_batch(k, &mut batches, &mut report);
                }
                let b = &mut batches[k];
                if b.storage.is_none() {
                    b.storage = Some(bytes.clone());
                }
                handle.packet = PacketRef::within(&raw, shared_slice(bytes));
            }
            Storage::Transient => {
                let b = &mut batches[k];
                handle.packet.offset = b.copied.len();
                handle.copied = true;
                b.copied.extend_from_slice(raw.data);
            }
        }
        if !steps.is_empty() {
            handle.defrag_steps = u8::try_from(steps.len()).unwrap_or(u8::MAX);
            batches[k].defrag.append(&steps);
            steps.clear();
        }
        batches[k].handles.push(handle);
        if read_ns != 0 {
            batches[k].sampled_reads.push(read_ns);
        }
        if batches[k].handles.len() >= ctx.batch_packets {
            ctx.send_batch(k, &mut batches, &mut report);
        }
        if let Some(boundary) = seq.close_epoch_if_due() {
            ctx.end_epoch(boundary, &mut batches, &mut report);
            if let Some(t) = read_at {
                last_epoch = t;
            }
        }
    }
    for k in 0..n {
        ctx.send_batch(k, &mut batches, &mut report);
    }
    let end = Stamp {
        seq: seq.last_seq().unwrap_or(0),
        now: seq.clock(),
    };
    report.clock = seq.clock();
    let mut drops = Vec::new();
    ctx.router.finish(end.now, &mut drops);
    report.defrag = ctx.router.counters().clone();
    // Published before the finish marker, so whoever sees the output end
    // also sees the final counts.
    ctx.publish(&report);
    ctx.broadcast(drops, |d| ShardMsg::Finish(end, d), &mut report);
    report.busy = started
        .elapsed()
        .saturating_sub(report.blocked)
        .saturating_sub(report.idle);
    (source, report)
}

/// The shard for a dispatch hash: `hash * n / 2^64`, which spreads hashes
/// as evenly as `hash % n` without a 64-bit division (40-odd cycles, a
/// fifth of the ingest's own time when it was `%`).
#[inline]
fn shard_of(hash: u64, n: usize) -> usize {
    ((u128::from(hash) * n as u128) >> 64) as usize
}

fn same_storage(a: &SharedBytes, b: &SharedBytes) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}
