//! The ingest thread: reads the source, numbers and stamps packets, closes
//! epochs, reassembles fragments (so a fragmented tunnel's inner flow is
//! keyed by its inner addresses), keys each packet to its shard and hands
//! it over in batches (dropping them, counted, when a live source outruns
//! a shard). The per-packet work is split in two: [`key`] (decode and
//! hash, which may run on other threads: [`pool`]) and
//! [`Ingest::dispatch`] (everything that must follow the read order).

use super::config::Backpressure;
use super::messages::{Handle, PacketBatch, ShardMsg};
use super::report::{IngestReport, LiveCounters};
use crate::latency::{Clock, LatencyReport, ReadTimes, record};
use crate::sequencer::{Sequencer, Stamp};
use crate::source::{
    PacketRef, PacketSource, SharedBytes, SourceError, SourcePacket, Storage, shared_slice,
};
use crossbeam_channel::{Receiver, Sender, TrySendError};
use flowscope_engine::unstable::{Decoder, DefragEvent, DefragLog, FragmentRouter};
use flowscope_engine::{FlowExtractor, PacketView, RawPacket, Transport};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub(super) mod pool;

/// Source problems kept in the report; the rest are only counted.
const MAX_SOURCE_ERRORS: usize = 64;

pub(super) struct IngestCtx<E> {
    pub(super) live: Arc<LiveCounters>,
    pub(super) decoder: Decoder,
    /// With `ingest_threads` > 1: the pool that decodes and hashes chunks
    /// of packets (see [`pool`]).
    pub(super) keyers: Option<rayon::ThreadPool>,
    /// Reassembly for every shard: a datagram's packets go where its
    /// rebuilt content is keyed.
    pub(super) router: FragmentRouter,
    /// The one shard keys its packets and reassembles fragments itself:
    /// packets are read and numbered, not decoded.
    pub(super) shard_keys: bool,
    pub(super) extractor: E,
    pub(super) shards: Vec<Sender<ShardMsg>>,
    pub(super) pool: Receiver<PacketBatch>,
    pub(super) batch_packets: usize,
    /// The largest batch (at least `batch_packets`).
    pub(super) batch_max: usize,
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

pub(super) fn ingest_main<Src: PacketSource, E: FlowExtractor + Clone>(
    mut source: Src,
    mut ctx: IngestCtx<E>,
    epoch_packets: u64,
    epoch_interval: Duration,
) -> (Src, IngestReport) {
    let started = Instant::now();
    let keyers = ctx.keyers.take();
    let mut ingest = Ingest::new(ctx, epoch_packets);
    match keyers {
        Some(keyers) => pool::pooled(&mut source, &mut ingest, &keyers, epoch_interval),
        _ => ingest.serial(&mut source, epoch_interval),
    }
    (source, ingest.finish(started))
}

/// What keying found out about a packet.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Keying {
    /// The dispatch hash (`None`: the packet cannot be keyed).
    pub(super) hash: Option<u64>,
    /// The packet is a fragment: reassembly decides where it goes.
    pub(super) fragment: bool,
}

/// Decodes `raw` into `view` (which must be `PacketView::empty(raw)`) and
/// computes its dispatch hash: the part of the ingest's work that can run
/// on any thread.
#[inline]
pub(super) fn key<'a, E: FlowExtractor>(
    decoder: &Decoder,
    extractor: &E,
    raw: &RawPacket<'a>,
    view: &mut PacketView<'a>,
) -> Keying {
    // The dispatch hash picks the shard, and the shard's engine finishes
    // the flow hash from it: the addresses are hashed once, here.
    let hash = match decoder.decode_into(raw, view) {
        Ok(()) => extractor.dispatch_hash(view),
        Err(_) => None,
    };
    Keying {
        hash,
        fragment: matches!(view.transport, Transport::Fragment),
    }
}

/// The ingest thread's state: its context, the numbering, the batches
/// being filled and the report.
pub(super) struct Ingest<E> {
    pub(super) ctx: IngestCtx<E>,
    seq: Sequencer,
    batches: Vec<PacketBatch>,
    /// Per batch: where its storage's bytes start.
    bases: Vec<usize>,
    /// Per shard: the size its next batch is sent at.
    targets: Vec<usize>,
    /// One packet's reassembly steps, until its shard is known.
    steps: DefragLog,
    pub(super) report: IngestReport,
}

impl<E: FlowExtractor> Ingest<E> {
    fn new(ctx: IngestCtx<E>, epoch_packets: u64) -> Self {
        let n = ctx.shards.len();
        let first = ctx.batch_packets;
        let report = IngestReport {
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
        let batches = (0..n)
            .map(|_| PacketBatch::new(ctx.batch_packets))
            .collect();
        Ingest {
            ctx,
            seq: Sequencer::new(epoch_packets),
            batches,
            bases: vec![0; n],
            targets: vec![first; n],
            steps: DefragLog::default(),
            report,
        }
    }

    /// Whether the stop flag is set (noted in the report when it is).
    pub(super) fn stopping(&mut self) -> bool {
        if self.ctx.stop.load(Ordering::Relaxed) {
            self.report.stopped = true;
            return true;
        }
        false
    }

    /// Keeps a problem the source reported.
    pub(super) fn source_error(&mut self, e: SourceError) {
        if self.report.source_errors.len() < MAX_SOURCE_ERRORS {
            self.report.source_errors.push(e);
        }
        self.report.source_error_count += 1;
    }

    /// When packet `seq` is sampled for latency: records now as its read
    /// time (for the merger) and returns it (pipeline clock, ns); else 0.
    pub(super) fn read_time(&self, seq: u64) -> u64 {
        match &self.ctx.latency {
            Some((clock, reads)) if reads.sampled(seq) => {
                let t = clock.now();
                reads.store(seq, t);
                t
            }
            _ => 0,
        }
    }

    /// One thread does everything, packet by packet (`ingest_threads = 1`).
    fn serial<Src: PacketSource>(&mut self, source: &mut Src, epoch_interval: Duration) {
        // Live input: the wall clock closes epochs (flows time out and
        // output flows while the link is quiet) and tells waiting on a
        // quiet link, which is not work, from work.
        let mut wall = source.is_live().then(|| WallClock::new(epoch_interval));
        while !self.stopping() {
            if let Some(w) = &mut wall {
                w.now();
                if w.due() {
                    w.closed();
                    self.close_wall_epoch(source);
                }
            }
            let pkt = match source.next_packet() {
                None => break,
                Some(Err(SourceError::Idle)) => {
                    if let Some(w) = &mut wall {
                        self.report.idle += w.quiet();
                    }
                    continue;
                }
                Some(Err(e)) => {
                    self.source_error(e);
                    continue;
                }
                Some(Ok(p)) => p,
            };
            if let Some(w) = &mut wall {
                w.packet();
            }
            let read_ns = self.read_time(self.seq.next_seq());
            // No view at all when the shard keys: nothing here reads one.
            let mut view = (!self.ctx.shard_keys).then(|| PacketView::empty(&pkt.raw));
            let keying = match view.as_mut() {
                Some(v) => key(&self.ctx.decoder, &self.ctx.extractor, &pkt.raw, v),
                None => Keying::default(),
            };
            if self.dispatch(&pkt, keying, view.as_ref(), read_ns)
                && let Some(w) = &mut wall
            {
                w.closed();
            }
        }
    }

    /// Closes an epoch by wall time (live input): the source's clock, when
    /// it has one, moves the packet clock first, so flows time out while
    /// the link is quiet.
    pub(super) fn close_wall_epoch<Src: PacketSource>(&mut self, source: &Src) {
        if let Some(clock) = source.clock_now() {
            self.seq.advance_clock(clock);
        }
        if let Some(boundary) = self.seq.close_epoch_now() {
            self.end_epoch(boundary);
        }
    }

    /// The sequential part of a packet's way, in read order: its seq and
    /// clock, reassembly when it is a fragment, its shard, its handle in
    /// that shard's batch; then the epoch boundary when one is due
    /// (returns whether one closed). `view` is the packet as [`key`]
    /// decoded it, when the caller still has it; a fragment is decoded
    /// again (the same decoder gives the same view) when not.
    pub(super) fn dispatch(
        &mut self,
        pkt: &SourcePacket<'_>,
        keying: Keying,
        view: Option<&PacketView<'_>>,
        read_ns: u64,
    ) -> bool {
        let raw = &pkt.raw;
        let stamp = self.seq.stamp(raw.ts);
        self.report.packets += 1;
        self.report.bytes += u64::from(raw.wire_len);

        let mut dispatch_hash = keying.hash;
        if keying.fragment {
            // What completes a datagram goes where the datagram's content
            // is keyed (a tunnel's inner flow); the other fragments stay
            // with their own addresses.
            let ctx = &mut self.ctx;
            let routed = match view {
                Some(v) => ctx
                    .router
                    .route(&ctx.extractor, v, stamp.now, &mut self.steps),
                None => {
                    let mut v = PacketView::empty(raw);
                    // Routed whatever the result, as the view stands (as
                    // when it was keyed).
                    let _ = ctx.decoder.decode_into(raw, &mut v);
                    ctx.router
                        .route(&ctx.extractor, &v, stamp.now, &mut self.steps)
                }
            };
            dispatch_hash = routed.hash.or(dispatch_hash);
        }
        // Packets that cannot be keyed go to shard 0, which counts them.
        let k = dispatch_hash.map_or(0, |h| shard_of(h, self.batches.len()));

        let mut handle = Handle {
            packet: PacketRef::new(raw, 0),
            seq: stamp.seq,
            now: stamp.now,
            hash: dispatch_hash.unwrap_or(0),
            keyed: dispatch_hash.is_some(),
            copied: false,
            defrag_steps: 0,
        };
        match pkt.storage {
            Storage::Shared(bytes) => {
                let same = self.batches[k]
                    .storage
                    .as_ref()
                    .is_none_or(|s| same_storage(s, bytes));
                if !same {
                    self.ctx.send_batch(k, &mut self.batches, &mut self.report);
                }
                let b = &mut self.batches[k];
                if b.storage.is_none() {
                    b.storage = Some(bytes.clone());
                    self.bases[k] = base_of(bytes);
                }
                // `raw.data` lies in `bytes` (the source's promise), which
                // starts at `bases[k]`: no call through `dyn AsRef` per
                // packet.
                handle.packet = PacketRef::at(raw, self.bases[k]);
            }
            Storage::Transient => {
                let b = &mut self.batches[k];
                handle.packet.offset = b.copied.len();
                handle.copied = true;
                b.copied.extend_from_slice(raw.data);
            }
        }
        let b = &mut self.batches[k];
        if !self.steps.is_empty() {
            handle.defrag_steps = u8::try_from(self.steps.len()).unwrap_or(u8::MAX);
            b.defrag.append(&self.steps);
            self.steps.clear();
        }
        b.handles.push(handle);
        if read_ns != 0 {
            b.sampled_reads.push(read_ns);
        }
        if b.handles.len() >= self.targets[k] {
            let queued = self.ctx.shards[k].len();
            self.ctx.send_batch(k, &mut self.batches, &mut self.report);
            let cap = self.ctx.shards[k].capacity().unwrap_or(usize::MAX);
            self.targets[k] = next_batch_size(
                self.targets[k],
                queued,
                cap,
                (self.ctx.batch_packets, self.ctx.batch_max),
            );
        }
        match self.seq.close_epoch_if_due() {
            Some(boundary) => {
                self.end_epoch(boundary);
                true
            }
            None => false,
        }
    }

    fn end_epoch(&mut self, boundary: Stamp) {
        self.ctx
            .end_epoch(boundary, &mut self.batches, &mut self.report);
    }

    /// End of input: sends what is left and the finish marker; the report.
    fn finish(mut self, started: Instant) -> IngestReport {
        let ctx = &mut self.ctx;
        let report = &mut self.report;
        for k in 0..self.batches.len() {
            ctx.send_batch(k, &mut self.batches, report);
        }
        let end = Stamp {
            seq: self.seq.last_seq().unwrap_or(0),
            now: self.seq.clock(),
        };
        report.clock = self.seq.clock();
        let mut drops = Vec::new();
        ctx.router.finish(end.now, &mut drops);
        report.defrag = ctx.router.counters().clone();
        // Published before the finish marker, so whoever sees the output
        // end also sees the final counts.
        ctx.publish(report);
        ctx.broadcast(drops, |d| ShardMsg::Finish(end, d), report);
        report.busy = started
            .elapsed()
            .saturating_sub(report.blocked)
            .saturating_sub(report.idle)
            .saturating_sub(report.pool_wait);
        self.report
    }
}

/// Live input's wall clock: when its epochs close (every `interval` since
/// the last one closed, by time or by packet count) and how long its reads
/// waited on a quiet link. The clock is read after every read that found
/// nothing and, while packets flow, once every few packets: as many as
/// arrive in about an eighth of the interval, 1 to [`CLOCK_EVERY_MAX`].
/// A flood so pays a clock read per 64 packets, not per packet (a read
/// costs 20–40 ns, a fifth of a live packet's ingest work), and an epoch
/// closes at most a few microseconds late; a trickle, which finds the
/// link empty between packets, reads it every time.
#[derive(Debug, Clone, Copy)]
pub(super) struct WallClock {
    interval: Duration,
    /// When the last epoch closed.
    closed: Instant,
    /// The last reading, the packets read since, and after how many the
    /// next is taken.
    now: Instant,
    since: u32,
    every: u32,
}

/// Most packets read between two readings of live input's wall clock.
pub(super) const CLOCK_EVERY_MAX: u32 = 64;

impl WallClock {
    pub(super) fn new(interval: Duration) -> Self {
        let now = Instant::now();
        WallClock {
            interval,
            closed: now,
            now,
            since: 0,
            every: 1,
        }
    }

    /// The wall time, read afresh when enough packets were read since the
    /// last reading.
    pub(super) fn now(&mut self) -> Instant {
        if self.since >= self.every {
            let now = Instant::now();
            let per_packet = now.duration_since(self.now) / self.since;
            let fit = (self.interval / 8).as_nanos() / per_packet.as_nanos().max(1);
            self.every = u32::try_from(fit)
                .unwrap_or(u32::MAX)
                .clamp(1, CLOCK_EVERY_MAX);
            self.now = now;
            self.since = 0;
        }
        self.now
    }

    /// A packet was read.
    pub(super) fn packet(&mut self) {
        self.since += 1;
    }

    /// A read found nothing: the time since the last reading (the wait,
    /// plus the work on at most [`CLOCK_EVERY_MAX`] packets before it). The
    /// clock is read again, and then after every packet until they flow.
    pub(super) fn quiet(&mut self) -> Duration {
        let now = Instant::now();
        let waited = now.duration_since(self.now);
        self.now = now;
        self.since = 0;
        self.every = 1;
        waited
    }

    /// Whether an epoch is due at the last reading.
    pub(super) fn due(&self) -> bool {
        self.now.duration_since(self.closed) >= self.interval
    }

    /// An epoch closed (at the last reading).
    pub(super) fn closed(&mut self) {
        self.closed = self.now;
    }
}

/// The size of a shard's next batch, after one of `target` packets found
/// `queued` batches in its queue of `cap`: doubled (up to `max`) when the
/// queue was empty (the shard waits for work) or full (the ingest is about
/// to wait for room), since then every batch costs a thread a wake-up;
/// kept otherwise. It does not shrink back: halving while work flowed made
/// the size swing between the two regimes and cost as many wake-ups as
/// small batches; live input hands partial batches over every epoch
/// interval anyway, which bounds the latency large batches could add.
fn next_batch_size(target: usize, queued: usize, cap: usize, (min, max): (usize, usize)) -> usize {
    let max = max.max(min);
    if queued == 0 || queued >= cap {
        target.saturating_mul(2).clamp(min, max)
    } else {
        target.clamp(min, max)
    }
}

/// The shard for a dispatch hash: `hash * n / 2^64`, which spreads hashes
/// as evenly as `hash % n` without a 64-bit division (40-odd cycles, a
/// fifth of the ingest's own time when it was `%`).
#[inline]
fn shard_of(hash: u64, n: usize) -> usize {
    ((u128::from(hash) * n as u128) >> 64) as usize
}

/// Where the bytes of `storage` start: packet offsets are counted from it.
pub(super) fn base_of(storage: &SharedBytes) -> usize {
    shared_slice(storage).as_ptr() as usize
}

pub(super) fn same_storage(a: &SharedBytes, b: &SharedBytes) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

#[cfg(test)]
mod tests {
    use super::{CLOCK_EVERY_MAX, Duration, WallClock, next_batch_size};

    #[test]
    fn a_flood_reads_the_wall_clock_every_few_packets_a_quiet_link_every_time() {
        let mut w = WallClock::new(Duration::from_secs(3600));
        assert_eq!(w.every, 1);
        // Packets read back to back (nanoseconds apart, far below an
        // eighth of the interval): readings space out to the most.
        for _ in 0..10 * CLOCK_EVERY_MAX {
            w.now();
            w.packet();
        }
        assert_eq!(w.every, CLOCK_EVERY_MAX);
        while w.since != 0 {
            w.packet();
            w.now();
        }
        let before = w.now;
        for _ in 0..CLOCK_EVERY_MAX - 1 {
            w.packet();
            assert_eq!(w.now(), before, "no reading between");
        }
        w.packet();
        assert!(w.now() >= before);
        assert_eq!(w.since, 0, "read after the 64th packet");
        // A read that found nothing reads the clock, and so does every
        // packet after it until the rate is known again.
        std::thread::sleep(Duration::from_millis(2));
        assert!(w.quiet() >= Duration::from_millis(2));
        assert_eq!(w.every, 1);
        assert!(!w.due(), "an hour's epoch is not due");
        w.packet();
        w.now();
        assert_eq!(w.since, 0, "read after one packet");

        // Packets far apart against a short interval: a reading each.
        let mut w = WallClock::new(Duration::from_millis(8));
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(2));
            w.packet();
            w.now();
            assert_eq!(w.every, 1);
        }
        std::thread::sleep(Duration::from_millis(3));
        w.packet();
        w.now();
        assert!(w.due(), "8 ms passed since the clock started");
        w.closed();
        assert!(!w.due());
    }

    #[test]
    fn batches_grow_while_every_batch_would_wake_a_thread() {
        let bounds = (256, 4096);
        // The shard waits (queue empty) or the ingest is about to (full).
        assert_eq!(next_batch_size(256, 0, 16, bounds), 512);
        assert_eq!(next_batch_size(256, 16, 16, bounds), 512);
        assert_eq!(next_batch_size(4096, 0, 16, bounds), 4096);
        // Batches queued, room left: as it is.
        assert_eq!(next_batch_size(1024, 3, 16, bounds), 1024);
        assert_eq!(next_batch_size(256, 3, 16, bounds), 256);
        // A maximum below the minimum (or 0) fixes the size.
        assert_eq!(next_batch_size(256, 0, 16, (256, 0)), 256);
        assert_eq!(next_batch_size(300, 5, 16, (256, 100)), 256);
    }
}
