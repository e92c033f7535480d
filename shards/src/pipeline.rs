//! The sharded pipeline: one ingest thread, N shard threads each owning an
//! [`Engine`], and a merge — on a thread of its own or on the consumer's —
//! that puts the shards' output back into one deterministic order.
//!
//! # Protocol
//!
//! The ingest numbers packets (`seq`), tracks the packet clock, decodes the
//! headers (with the same decoder and tunnel/VLAN policy as the engines),
//! and sends each packet to shard `dispatch_hash × N / 2^64` as a *handle*
//! (an offset into the source's shared bytes — payload is never copied —
//! plus the packet's seq, clock and dispatch hash). The dispatch hash is the
//! extractor's [`FlowExtractor::dispatch_hash`]: the symmetric hash of the
//! address pair for the built-in address keys, so both directions of a
//! flow *and every fragment of its datagrams* (which carry no ports) reach
//! the same shard, whose engine finishes the flow hash from it. Packets
//! that cannot be keyed (malformed, unsupported link type, non-IP) go to
//! shard 0, where they are counted and reported.
//!
//! Every `epoch_packets` packets the ingest flushes its partial batches and
//! sends every shard an epoch marker with the boundary's seq and clock; each
//! shard fires its timers and reports the epoch done. The merge releases
//! events in [`Ordered::key`] order only up to the last boundary every shard
//! has finished and renumbers `sub`, so its output is exactly the inline
//! engine's, whatever N is (unless a per-shard capacity — `max_flows`,
//! defrag bounds — is reached, which is reported).
//!
//! Every channel is bounded. Offline input blocks when shards fall behind
//! (lossless); live input drops whole batches at the ingest and counts
//! them. Batches come back to the ingest on a return channel for reuse.

use crate::latency::{Clock, LatencyReport, ReadTimes, record};
use crate::sequencer::{Sequencer, Stamp};
use crate::source::{PacketSource, SharedBytes, SourceError, Storage, shared_slice};
use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use flowscope_engine::unstable::Decoder;
use flowscope_engine::{
    Cause, Engine, EngineConfig, EngineStats, EventBuf, FlowEvent, FlowExtractor, FlowHook,
    LinkType, NoHook, NoMessage, OrderKey, Ordered, PacketView, RawPacket, SessionEvent, Timestamp,
};
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Turns engine events into the items the pipeline delivers. It runs on the
/// shard threads, in parallel, so expensive per-event work (rendering JSON,
/// say) belongs here rather than after the merge.
/// `M` is the message type of the shards' [`FlowHook`] (none by default).
pub trait EventSink<K, M = NoMessage>: Clone + Send + 'static {
    /// What the pipeline delivers.
    type Item: Send + 'static;
    /// Maps one event; `None` drops it.
    fn map(&mut self, event: Ordered<FlowEvent<K, M>>) -> Option<Self::Item>;

    /// Called by the merger with the item's final `sub` (its index among
    /// the merged events of its seq, the value a single engine would have
    /// given it). Items that carry no order key ignore it.
    fn renumber(_item: &mut Self::Item, _sub: u32) {}
}

/// The identity sink: the pipeline delivers the engine's events.
#[derive(Debug, Clone, Copy, Default)]
pub struct Events;

impl<K: Send + 'static, M: Send + 'static> EventSink<K, M> for Events {
    type Item = Ordered<FlowEvent<K, M>>;
    fn map(&mut self, event: Ordered<FlowEvent<K, M>>) -> Option<Self::Item> {
        Some(event)
    }
    fn renumber(item: &mut Self::Item, sub: u32) {
        item.sub = sub;
    }
}

/// The session sink: the pipeline delivers [`SessionEvent`]s (flow starts
/// with `flow.lifecycle_events`, parser messages, ends, anomalies) with
/// their order keys; `sub` numbers the session events of a seq.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionEvents;

impl<K: Send + 'static, M: Send + 'static> EventSink<K, M> for SessionEvents {
    type Item = Ordered<SessionEvent<K, M>>;
    fn map(&mut self, o: Ordered<FlowEvent<K, M>>) -> Option<Self::Item> {
        let event = o.event.into_session_event()?;
        Some(Ordered {
            seq: o.seq,
            cause: o.cause,
            time: o.time,
            tiebreak: o.tiebreak,
            sub: o.sub,
            event,
        })
    }
    fn renumber(item: &mut Self::Item, sub: u32) {
        item.sub = sub;
    }
}

/// Builds one hook per shard.
type MakeHook<H> = Arc<dyn Fn() -> H + Send + Sync>;

/// What the ingest does when a shard's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backpressure {
    /// Wait (offline input: lossless).
    Block,
    /// Drop the batch and count its packets (live input).
    Drop,
}

/// Pipeline options.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Shard threads (at least 1; the thread-free path is `InlineRunner`).
    pub shards: usize,
    /// Pin threads to cores: `None` pins when `shards + 2` cores exist.
    pub pin: Option<bool>,
    /// Packets per epoch.
    pub epoch_packets: u64,
    /// Live sources also close an epoch when this much wall time has passed
    /// since the last boundary (offline input never looks at the clock).
    pub epoch_interval: Duration,
    /// Packets per batch sent to a shard.
    pub batch_packets: usize,
    /// Batches queued per shard.
    pub queue_batches: usize,
    /// Items queued between the merger and the consumer.
    pub output_capacity: usize,
    /// `None`: block for offline sources, drop for live ones.
    pub backpressure: Option<Backpressure>,
    /// Live input: how long the ingest waits for room in a full shard queue
    /// before it drops the batch. A short wait rides out a shard that was
    /// descheduled for a moment (the kernel's capture buffer holds the
    /// packets meanwhile); zero drops at once.
    pub drop_wait: Duration,
    /// Benchmark mode: shards receive and recycle batches without
    /// processing them (measures the ingest alone).
    pub noop_shards: bool,
    /// Run the merge on the consumer's thread ([`Pipeline::merge_here`])
    /// instead of a merger thread feeding [`Pipeline::receiver`].
    pub merge_on_consumer: bool,
    /// Record latency histograms for every this-many-th packet (0: off);
    /// see [`PipelineReport::latency`].
    pub latency_sample: u32,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            shards: 1,
            pin: None,
            epoch_packets: crate::DEFAULT_EPOCH_PACKETS,
            epoch_interval: Duration::from_millis(1),
            batch_packets: 256,
            queue_batches: 16,
            output_capacity: 4096,
            backpressure: None,
            drop_wait: Duration::from_millis(2),
            noop_shards: false,
            merge_on_consumer: false,
            latency_sample: 0,
        }
    }
}

/// Why a pipeline failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The engine configuration cannot work.
    #[error(transparent)]
    Config(#[from] flowscope_engine::ConfigError),
    /// A thread could not be started.
    #[error("cannot start pipeline thread: {0}")]
    Spawn(#[source] std::io::Error),
    /// The ingest thread panicked.
    #[error("ingest thread panicked: {0}")]
    IngestPanicked(String),
    /// A shard panicked; the others were flushed. The report covers what
    /// ran.
    #[error("shard {shard} panicked: {message}")]
    ShardPanicked {
        /// The shard.
        shard: usize,
        /// The panic message.
        message: String,
        /// Counters of the run up to the failure.
        report: Box<PipelineReport<()>>,
    },
}

/// Counters of a running pipeline, published once per epoch (never per
/// packet, so the hot paths share no cache line).
#[derive(Debug, Default)]
struct LiveCounters {
    read: AtomicU64,
    dropped: AtomicU64,
    merged: AtomicU64,
    shard_packets: Vec<AtomicU64>,
    shard_flows: Vec<AtomicU64>,
    shard_dropped: Vec<AtomicU64>,
    queue_depth: Vec<AtomicU64>,
}

/// A snapshot of a running pipeline ([`Pipeline::stats`]), as of the last
/// epoch boundary each thread passed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipelineStats {
    /// Packets the ingest has read.
    pub packets_read: u64,
    /// Packets dropped because a shard fell behind (live input).
    pub packets_dropped: u64,
    /// Per shard: packets processed.
    pub shard_packets: Vec<u64>,
    /// Per shard: flows held now.
    pub shard_flows: Vec<u64>,
    /// Per shard: packets dropped because its queue was full (live input).
    pub shard_dropped: Vec<u64>,
    /// Per shard: batches waiting in its queue.
    pub queue_depth: Vec<u64>,
    /// Items the merge has delivered.
    pub items_merged: u64,
}

/// Per-shard figures.
#[derive(Debug, Clone, Default)]
pub struct ShardReport {
    /// Shard number.
    pub shard: usize,
    /// Packets it processed.
    pub packets: u64,
    /// Items it produced.
    pub items: u64,
    /// Time spent processing (not waiting for input).
    pub busy: Duration,
    /// Its engine's counters.
    pub engine: EngineStats,
    /// Flows it held at once, at most.
    pub peak_flows: u64,
    /// Heap bytes of its flow table at the largest seen (sampled at epoch
    /// boundaries): the per-flow hot state.
    pub peak_table_bytes: u64,
    /// Its session driver's counters, when the hook is one.
    pub sessions: Option<flowscope_engine::SessionCounters>,
    /// Its latency recordings (queue and shard stages), when on.
    pub latency: Option<Box<LatencyReport>>,
}

/// Ingest figures.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    /// Packets read.
    pub packets: u64,
    /// Wire bytes read.
    pub bytes: u64,
    /// Time spent reading, keying and dispatching (not blocked on a shard).
    pub busy: Duration,
    /// Time blocked on full shard queues.
    pub blocked: Duration,
    /// Live input: time the source spent waiting for packets (a quiet
    /// link); not part of `busy`.
    pub idle: Duration,
    /// Per shard: packets sent.
    pub sent: Vec<u64>,
    /// Per shard: times its queue was full.
    pub stalls: Vec<u64>,
    /// Per shard: most batches queued at once.
    pub queue_high_water: Vec<usize>,
    /// Per shard: packets dropped because the shard fell behind (live).
    pub dropped: Vec<u64>,
    /// Problems the source reported (the first 64).
    pub source_errors: Vec<SourceError>,
    /// Problems the source reported, all counted.
    pub source_error_count: u64,
    /// The stop flag ended the input early.
    pub stopped: bool,
    /// Packet clock at the end.
    pub clock: Timestamp,
    /// Its latency recordings (ingest stage), when on.
    pub latency: Option<Box<LatencyReport>>,
}

impl IngestReport {
    /// Max shard packets over mean shard packets (1.0 is perfect balance).
    pub fn imbalance(&self) -> f64 {
        let n = self.sent.len().max(1) as f64;
        let total: u64 = self.sent.iter().sum();
        let max = self.sent.iter().copied().max().unwrap_or(0);
        if total == 0 {
            1.0
        } else {
            max as f64 / (total as f64 / n)
        }
    }
}

/// Merger figures.
#[derive(Debug, Clone, Default)]
pub struct MergerReport {
    /// Items delivered.
    pub items: u64,
    /// Time spent merging (not waiting).
    pub busy: Duration,
    /// Most items held back waiting for a slower shard.
    pub held_high_water: usize,
    /// Its latency recordings (merge stage and ingest→event), when on.
    pub latency: Option<Box<LatencyReport>>,
}

/// What a finished pipeline did.
#[derive(Debug, Clone)]
pub struct PipelineReport<S> {
    /// The source, handed back (for its own error lists, say).
    pub source: S,
    /// Ingest figures.
    pub ingest: IngestReport,
    /// Per-shard figures.
    pub shards: Vec<ShardReport>,
    /// Merger figures.
    pub merger: MergerReport,
    /// All shards' engine counters added up (peaks summed).
    pub engine: EngineStats,
    /// Whether threads were pinned to cores.
    pub pinned: bool,
    /// Wall time from start to the merger's end.
    pub wall: Duration,
}

impl<S> PipelineReport<S> {
    /// The shards' session-driver counters added up (`None` without a
    /// session driver).
    pub fn sessions(&self) -> Option<flowscope_engine::SessionCounters> {
        let mut sum: Option<flowscope_engine::SessionCounters> = None;
        for c in self.shards.iter().filter_map(|s| s.sessions.as_ref()) {
            sum.get_or_insert_with(Default::default).add(c);
        }
        sum
    }

    /// The latency histograms of every thread merged, when
    /// [`PipelineConfig::latency_sample`] was on.
    pub fn latency(&self) -> Option<LatencyReport> {
        let mut parts = std::iter::once(&self.ingest.latency)
            .chain(self.shards.iter().map(|s| &s.latency))
            .chain(std::iter::once(&self.merger.latency))
            .filter_map(Option::as_deref);
        let mut sum = parts.next()?.clone();
        for p in parts {
            sum.add(p);
        }
        Some(sum)
    }

    /// Splits off the source.
    pub fn without_source(self) -> (S, PipelineReport<()>) {
        let PipelineReport {
            source,
            ingest,
            shards,
            merger,
            engine,
            pinned,
            wall,
        } = self;
        (
            source,
            PipelineReport {
                source: (),
                ingest,
                shards,
                merger,
                engine,
                pinned,
                wall,
            },
        )
    }
}

/// One packet as the ingest hands it to a shard.
#[derive(Debug, Clone, Copy)]
struct Handle {
    seq: u64,
    now: Timestamp,
    ts: Timestamp,
    offset: usize,
    len: u32,
    wire_len: u32,
    linktype: LinkType,
    copied: bool,
    /// The capture interface (16 bits keep a handle at 64 bytes).
    iface: u16,
    dispatch_hash: Option<u64>,
}

/// Packets for one shard.
struct PacketBatch {
    handles: Vec<Handle>,
    storage: Option<SharedBytes>,
    copied: Vec<u8>,
    /// Latency recording: read times of the sampled packets in it, and
    /// when it was queued (pipeline clock, ns).
    sampled_reads: Vec<u64>,
    sent_ns: u64,
}

impl PacketBatch {
    fn new(cap: usize) -> Self {
        PacketBatch {
            handles: Vec::with_capacity(cap),
            storage: None,
            copied: Vec::new(),
            sampled_reads: Vec::new(),
            sent_ns: 0,
        }
    }
    fn clear(&mut self) {
        self.handles.clear();
        self.storage = None;
        self.copied.clear();
        self.sampled_reads.clear();
    }
}

enum ShardMsg {
    Batch(PacketBatch),
    Epoch(Stamp),
    Finish(Stamp),
}

type Keyed<T> = (OrderKey, T);

/// Emptied item buffers kept for reuse per shard (more are freed).
const RETURNED_ITEM_BUFFERS: usize = 8;

/// Source problems kept in the report; the rest are only counted.
const MAX_SOURCE_ERRORS: usize = 64;

/// What the merger hands back: shard reports, its own, shard failures.
type MergerOutcome = (Vec<ShardReport>, MergerReport, Vec<(usize, String)>);

enum MergerMsg<T> {
    /// A shard's items, and when it handed them over (pipeline clock, ns;
    /// 0 when latency is not recorded).
    Items(usize, Vec<Keyed<T>>, u64),
    EpochDone(usize, u64),
    Finished(Box<ShardReport>),
    Failed(usize, String),
}

/// Configures and starts a pipeline.
pub struct PipelineBuilder<E, S, H = NoHook> {
    cfg: PipelineConfig,
    engine: EngineConfig,
    extractor: E,
    sink: S,
    stop: Arc<AtomicBool>,
    make_hook: MakeHook<H>,
}

impl<E: std::fmt::Debug, S: std::fmt::Debug, H> std::fmt::Debug for PipelineBuilder<E, S, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("cfg", &self.cfg)
            .field("extractor", &self.extractor)
            .field("sink", &self.sink)
            .finish_non_exhaustive()
    }
}

/// A running pipeline: read its items from [`Pipeline::receiver`] (or
/// iterate it), then [`Pipeline::join`] it.
#[derive(Debug)]
pub struct Pipeline<T, S> {
    receiver: Receiver<T>,
    live: Arc<LiveCounters>,
    ingest: JoinHandle<(S, IngestReport)>,
    shards: Vec<JoinHandle<()>>,
    merger: MergerRun<T>,
    pinned: bool,
    started: Instant,
}

/// Where the merge runs.
enum MergerRun<T> {
    /// On its own thread, feeding the receiver.
    Thread(JoinHandle<MergerOutcome>),
    /// On the consumer's thread, in [`Pipeline::merge_here`].
    Deferred(Box<MergerInput<T>>),
    /// It ran on the consumer's thread.
    Ran(MergerOutcome),
}

impl<T> std::fmt::Debug for MergerRun<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MergerRun::Thread(_) => "Thread",
            MergerRun::Deferred(_) => "Deferred",
            MergerRun::Ran(_) => "Ran",
        })
    }
}

impl Pipeline<(), ()> {
    /// A builder for a pipeline of engines with this configuration and
    /// extractor (cloned per shard and for the ingest).
    pub fn builder<E: FlowExtractor + Clone>(
        engine: EngineConfig,
        extractor: E,
    ) -> PipelineBuilder<E, Events> {
        PipelineBuilder {
            cfg: PipelineConfig::default(),
            engine,
            extractor,
            sink: Events,
            stop: Arc::new(AtomicBool::new(false)),
            make_hook: Arc::new(|| NoHook),
        }
    }
}

impl<E, S, H> PipelineBuilder<E, S, H>
where
    E: FlowExtractor + Clone,
    H: FlowHook<E::Key>,
{
    /// All options at once.
    pub fn config(mut self, cfg: PipelineConfig) -> Self {
        self.cfg = cfg;
        self
    }
    /// Shard threads (at least 1).
    pub fn shards(mut self, n: usize) -> Self {
        self.cfg.shards = n.max(1);
        self
    }
    /// Force pinning on or off (default: pin when `shards + 2` cores exist).
    pub fn pin(mut self, pin: bool) -> Self {
        self.cfg.pin = Some(pin);
        self
    }
    /// Packets per epoch.
    pub fn epoch_packets(mut self, n: u64) -> Self {
        self.cfg.epoch_packets = n.max(1);
        self
    }
    /// A flag that, once set, ends the input: the pipeline drains, flushes
    /// every flow and finishes cleanly (Ctrl-C).
    pub fn stop_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = flag;
        self
    }
    /// The per-event work done on the shard threads.
    pub fn sink<S2: EventSink<E::Key, H::Message>>(self, sink: S2) -> PipelineBuilder<E, S2, H> {
        PipelineBuilder {
            cfg: self.cfg,
            engine: self.engine,
            extractor: self.extractor,
            sink,
            stop: self.stop,
            make_hook: self.make_hook,
        }
    }

    /// A [`FlowHook`] in every shard, built by `make` once per shard:
    /// typically [`Sessions`](flowscope_engine::Sessions) with the parser
    /// factories users register. Its messages reach the output as
    /// `FlowEvent::Application` (or `SessionEvent::Application` with the
    /// [`SessionEvents`] sink), in the same order for any shard count.
    pub fn hook<H2: FlowHook<E::Key>>(
        self,
        make: impl Fn() -> H2 + Send + Sync + 'static,
    ) -> PipelineBuilder<E, S, H2> {
        PipelineBuilder {
            cfg: self.cfg,
            engine: self.engine,
            extractor: self.extractor,
            sink: self.sink,
            stop: self.stop,
            make_hook: Arc::new(make),
        }
    }

    /// Starts the threads reading `source`.
    pub fn build<Src: PacketSource + 'static>(
        self,
        source: Src,
    ) -> Result<Pipeline<S::Item, Src>, PipelineError>
    where
        S: EventSink<E::Key, H::Message>,
    {
        self.engine.validate()?;
        let cfg = self.cfg;
        let n = cfg.shards.max(1);
        let cores = core_affinity::get_core_ids().unwrap_or_default();
        let pin = cfg.pin.unwrap_or(n + 2 <= cores.len()) && cores.len() >= 2;
        let core_for = |i: usize| {
            if pin {
                cores.get(i % cores.len()).copied()
            } else {
                None
            }
        };
        let backpressure = cfg.backpressure.unwrap_or(if source.is_live() {
            Backpressure::Drop
        } else {
            Backpressure::Block
        });

        let (out_tx, out_rx) = bounded::<S::Item>(cfg.output_capacity.max(1));
        let (merger_tx, merger_rx) = bounded::<MergerMsg<S::Item>>(n * 8 + 8);
        // Return channels hold at most what exists: every batch queued or
        // in a shard's hands, plus one being filled per shard. A send that
        // finds one full (it cannot) would drop the buffer, not block.
        let batches_in_flight = n * (cfg.queue_batches.max(1) + 2);
        let (pool_tx, pool_rx) = bounded::<PacketBatch>(batches_in_flight);
        let per_shard = || (0..n).map(|_| AtomicU64::new(0)).collect();
        let live = Arc::new(LiveCounters {
            shard_packets: per_shard(),
            shard_flows: per_shard(),
            shard_dropped: per_shard(),
            queue_depth: per_shard(),
            ..LiveCounters::default()
        });
        let latency = (cfg.latency_sample > 0)
            .then(|| (Clock::new(), Arc::new(ReadTimes::new(cfg.latency_sample))));
        let mut shard_txs = Vec::with_capacity(n);
        let mut shard_handles = Vec::with_capacity(n);
        let mut item_returns = Vec::with_capacity(n);
        for k in 0..n {
            let (tx, rx) = bounded::<ShardMsg>(cfg.queue_batches.max(1));
            let (ret_tx, ret_rx) = bounded::<Vec<Keyed<S::Item>>>(RETURNED_ITEM_BUFFERS);
            shard_txs.push(tx);
            item_returns.push(ret_tx);
            let engine =
                Engine::with_hook(&self.engine, self.extractor.clone(), (self.make_hook)())?;
            let sink = self.sink.clone();
            let pool_tx = pool_tx.clone();
            let merger_tx = merger_tx.clone();
            let core = core_for(k + 1);
            let noop = cfg.noop_shards;
            let shard_live = live.clone();
            let shard_latency = latency.as_ref().map(|(c, r)| (*c, r.sample_every as u32));
            let h = std::thread::Builder::new()
                .name(format!("flowscope-shard-{k}"))
                .spawn(move || {
                    if let Some(c) = core {
                        core_affinity::set_for_current(c);
                    }
                    let channels = ShardChannels {
                        rx,
                        pool_tx,
                        merger_tx,
                        item_returns: ret_rx,
                    };
                    shard_main(k, engine, sink, channels, noop, &shard_live, shard_latency);
                })
                .map_err(PipelineError::Spawn)?;
            shard_handles.push(h);
        }
        drop(merger_tx);
        drop(pool_tx);

        let merger_input = MergerInput {
            live: live.clone(),
            n,
            rx: merger_rx,
            returns: item_returns,
            stop: self.stop.clone(),
            renumber: S::renumber,
            latency: latency.clone(),
        };
        let merger = if cfg.merge_on_consumer {
            drop(out_tx);
            MergerRun::Deferred(Box::new(merger_input))
        } else {
            let merger_core = core_for(n + 1);
            let h = std::thread::Builder::new()
                .name("flowscope-merger".into())
                .spawn(move || {
                    if let Some(c) = merger_core {
                        core_affinity::set_for_current(c);
                    }
                    run_merger(merger_input, &mut |item| out_tx.send(item).is_ok())
                })
                .map_err(PipelineError::Spawn)?;
            MergerRun::Thread(h)
        };

        // The ingest decodes only to key packets: checksums are the
        // shards' business.
        let decode = flowscope_engine::DecodeConfig {
            verify_ipv4_checksum: false,
            ..self.engine.decode.clone()
        };
        let decoder = Decoder::new(&decode, &self.engine.tunnel);
        let extractor = self.extractor;
        let stop = self.stop;
        let ingest_core = core_for(0);
        let ingest_live = live.clone();
        let ingest = std::thread::Builder::new()
            .name("flowscope-ingest".into())
            .spawn(move || {
                if let Some(c) = ingest_core {
                    core_affinity::set_for_current(c);
                }
                let ctx = IngestCtx {
                    live: ingest_live,
                    decoder,
                    extractor,
                    shards: shard_txs,
                    pool: pool_rx,
                    batch_packets: cfg.batch_packets.max(1),
                    backpressure,
                    drop_wait: cfg.drop_wait,
                    stop,
                    latency,
                };
                ingest_main(source, ctx, cfg.epoch_packets, cfg.epoch_interval)
            })
            .map_err(PipelineError::Spawn)?;

        Ok(Pipeline {
            receiver: out_rx,
            live,
            ingest,
            shards: shard_handles,
            merger,
            pinned: pin,
            started: Instant::now(),
        })
    }
}

impl<T, S> Pipeline<T, S> {
    /// The merged, ordered items. Iteration ends when the pipeline is done.
    /// Empty when the merge runs on the consumer's thread
    /// ([`PipelineConfig::merge_on_consumer`]): use [`Pipeline::merge_here`].
    pub fn receiver(&self) -> &Receiver<T> {
        &self.receiver
    }

    /// Counters of the running pipeline, as of the last epoch boundary each
    /// thread passed (cheap: no thread is interrupted).
    pub fn stats(&self) -> PipelineStats {
        let l = &self.live;
        let load = |v: &[AtomicU64]| v.iter().map(|x| x.load(Ordering::Relaxed)).collect();
        PipelineStats {
            packets_read: l.read.load(Ordering::Relaxed),
            packets_dropped: l.dropped.load(Ordering::Relaxed),
            shard_packets: load(&l.shard_packets),
            shard_flows: load(&l.shard_flows),
            shard_dropped: load(&l.shard_dropped),
            queue_depth: load(&l.queue_depth),
            items_merged: l.merged.load(Ordering::Relaxed),
        }
    }

    /// With [`PipelineConfig::merge_on_consumer`], runs the merge on this
    /// thread, handing each item to `consume` in order until the pipeline
    /// is done or `consume` returns false (the input then stops). Returns
    /// false, doing nothing, when the merge runs on its own thread or has
    /// already run.
    pub fn merge_here(&mut self, mut consume: impl FnMut(T) -> bool) -> bool {
        if !matches!(self.merger, MergerRun::Deferred(_)) {
            return false;
        }
        let MergerRun::Deferred(input) = std::mem::replace(
            &mut self.merger,
            MergerRun::Ran((Vec::new(), MergerReport::default(), Vec::new())),
        ) else {
            return false;
        };
        let outcome = run_merger(*input, &mut consume);
        self.merger = MergerRun::Ran(outcome);
        true
    }

    /// Waits for every thread and gathers the figures. Drain the receiver
    /// first (or drop it: the pipeline then stops reading and finishes).
    pub fn join(self) -> Result<PipelineReport<S>, PipelineError> {
        let Pipeline {
            receiver,
            live: _,
            ingest,
            shards,
            merger,
            pinned,
            started,
        } = self;
        // Whatever the consumer left unread is discarded; the merger stops
        // the input as soon as it notices nobody reads.
        drop(receiver);
        let merged = match merger {
            MergerRun::Thread(h) => h
                .join()
                .map_err(|p| PipelineError::IngestPanicked(panic_text(&*p)))?,
            // Never merged: discard everything (which stops the input).
            MergerRun::Deferred(input) => run_merger(*input, &mut |_| false),
            MergerRun::Ran(outcome) => outcome,
        };
        let wall = started.elapsed();
        let (source, ingest) = ingest
            .join()
            .map_err(|p| PipelineError::IngestPanicked(panic_text(&*p)))?;
        for h in shards {
            // Shard panics are caught inside the thread and reported to the
            // merger; a join error here would be a panic in that reporting.
            let _ = h.join();
        }
        let (mut shard_reports, merger, failures) = merged;
        shard_reports.sort_by_key(|r| r.shard);
        let mut engine = EngineStats::default();
        for r in &shard_reports {
            engine.merge(&r.engine);
        }
        let report = PipelineReport {
            source,
            ingest,
            shards: shard_reports,
            merger,
            engine,
            pinned,
            wall,
        };
        match failures.into_iter().next() {
            None => Ok(report),
            Some((shard, message)) => {
                let (_, report) = report.without_source();
                Err(PipelineError::ShardPanicked {
                    shard,
                    message,
                    report: Box::new(report),
                })
            }
        }
    }
}

impl<'a, T, S> IntoIterator for &'a Pipeline<T, S> {
    type Item = T;
    type IntoIter = crossbeam_channel::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.receiver.iter()
    }
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

struct IngestCtx<E> {
    live: Arc<LiveCounters>,
    decoder: Decoder,
    extractor: E,
    shards: Vec<Sender<ShardMsg>>,
    pool: Receiver<PacketBatch>,
    batch_packets: usize,
    backpressure: Backpressure,
    drop_wait: Duration,
    stop: Arc<AtomicBool>,
    latency: Option<(Clock, Arc<ReadTimes>)>,
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

    /// Sends every partial batch, then the epoch marker to every shard.
    fn end_epoch(&self, boundary: Stamp, batches: &mut [PacketBatch], report: &mut IngestReport) {
        for k in 0..batches.len() {
            self.send_batch(k, batches, report);
        }
        self.broadcast(|| ShardMsg::Epoch(boundary), report);
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

    fn broadcast(&self, msg: impl Fn() -> ShardMsg, report: &mut IngestReport) {
        let t = Instant::now();
        for tx in &self.shards {
            let _ = tx.send(msg());
        }
        report.blocked += t.elapsed();
    }
}

fn ingest_main<Src: PacketSource, E: FlowExtractor>(
    mut source: Src,
    ctx: IngestCtx<E>,
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
        let dispatch_hash = match ctx.decoder.decode_into(&raw, &mut view) {
            Ok(()) => ctx.extractor.dispatch_hash(&view),
            Err(_) => None,
        };
        // Packets that cannot be keyed go to shard 0, which counts them.
        let k = dispatch_hash.map_or(0, |h| shard_of(h, n));

        let mut handle = Handle {
            seq: stamp.seq,
            now: stamp.now,
            ts: raw.ts,
            offset: 0,
            len: raw.data.len() as u32,
            wire_len: raw.wire_len,
            linktype: raw.linktype,
            copied: false,
            iface: u16::try_from(raw.iface).unwrap_or(u16::MAX),
            dispatch_hash,
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
                let base = shared_slice(bytes).as_ptr() as usize;
                handle.offset = raw.data.as_ptr() as usize - base;
            }
            Storage::Transient => {
                let b = &mut batches[k];
                handle.offset = b.copied.len();
                handle.copied = true;
                b.copied.extend_from_slice(raw.data);
            }
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
    // Published before the finish marker, so whoever sees the output end
    // also sees the final counts.
    ctx.publish(&report);
    ctx.broadcast(|| ShardMsg::Finish(end), &mut report);
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

/// A shard's ends of the channels.
struct ShardChannels<T> {
    rx: Receiver<ShardMsg>,
    pool_tx: Sender<PacketBatch>,
    merger_tx: Sender<MergerMsg<T>>,
    item_returns: Receiver<Vec<Keyed<T>>>,
}

fn shard_main<E: FlowExtractor, H: FlowHook<E::Key>, S: EventSink<E::Key, H::Message>>(
    k: usize,
    engine: Engine<E, H>,
    sink: S,
    channels: ShardChannels<S::Item>,
    noop: bool,
    live: &LiveCounters,
    latency: Option<(Clock, u32)>,
) {
    let ShardChannels {
        rx,
        pool_tx,
        merger_tx,
        item_returns,
    } = channels;
    let merger = merger_tx.clone();
    let run = catch_unwind(AssertUnwindSafe(move || {
        let mut shard = Shard {
            k,
            engine,
            sink,
            events: Vec::new(),
            items: Vec::new(),
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
                    shard.flush(&merger_tx, &item_returns);
                    shard.processed(sampled, taken_at);
                }
                ShardMsg::Epoch(st) => {
                    if !noop {
                        shard.engine.advance(st.now, st.seq, &mut shard.events);
                        shard.report.peak_flows =
                            shard.report.peak_flows.max(shard.engine.active_flows());
                        shard.report.peak_table_bytes = shard
                            .report
                            .peak_table_bytes
                            .max(shard.engine.table_bytes() as u64);
                    }
                    shard.map_events();
                    shard.flush(&merger_tx, &item_returns);
                    let _ = merger_tx.send(MergerMsg::EpochDone(k, st.seq));
                    live.shard_packets[k].store(shard.report.packets, Ordering::Relaxed);
                    live.shard_flows[k].store(shard.engine.active_flows(), Ordering::Relaxed);
                }
                ShardMsg::Finish(st) => {
                    if !noop {
                        shard.engine.finish(st.now, st.seq, &mut shard.events);
                    }
                    shard.map_events();
                    shard.flush(&merger_tx, &item_returns);
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

/// How many packets ahead a shard prefetches.
const PREFETCH_AHEAD: usize = 4;

struct Shard<E: FlowExtractor, H: FlowHook<E::Key>, S: EventSink<E::Key, H::Message>> {
    k: usize,
    engine: Engine<E, H>,
    sink: S,
    events: EventBuf<E::Key, H::Message>,
    items: Vec<Keyed<S::Item>>,
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
        for (i, h) in b.handles.iter().enumerate() {
            let bytes = if h.copied { &b.copied[..] } else { shared };
            // The ingest touched these bytes on another core: ask for the
            // next packets' headers before they are needed.
            if let Some(ahead) = b.handles.get(i + PREFETCH_AHEAD) {
                let from = if ahead.copied { &b.copied[..] } else { shared };
                crate::prefetch(from.get(ahead.offset..).unwrap_or(&[]));
            }
            let end = h.offset + h.len as usize;
            let Some(data) = bytes.get(h.offset..end) else {
                continue;
            };
            let raw = RawPacket {
                ts: h.ts,
                linktype: h.linktype,
                wire_len: h.wire_len,
                iface: u32::from(h.iface),
                data,
            };
            self.engine
                .process_hashed(h.seq, h.now, &raw, h.dispatch_hash, &mut self.events);
        }
        self.map_events();
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

    fn map_events(&mut self) {
        for ev in self.events.drain(..) {
            let key = ev.key();
            if let Some(item) = self.sink.map(ev) {
                self.items.push((key, item));
            }
        }
    }

    fn flush(&mut self, tx: &Sender<MergerMsg<S::Item>>, returns: &Receiver<Vec<Keyed<S::Item>>>) {
        if self.items.is_empty() {
            return;
        }
        self.report.items += self.items.len() as u64;
        let fresh = returns.try_recv().unwrap_or_default();
        let items = std::mem::replace(&mut self.items, fresh);
        let at = self.clock.as_ref().map_or(0, Clock::now);
        let _ = tx.send(MergerMsg::Items(self.k, items, at));
    }
}

/// What the merger works from, wherever it runs.
struct MergerInput<T> {
    live: Arc<LiveCounters>,
    n: usize,
    rx: Receiver<MergerMsg<T>>,
    returns: Vec<Sender<Vec<Keyed<T>>>>,
    stop: Arc<AtomicBool>,
    renumber: fn(&mut T, u32),
    latency: Option<(Clock, Arc<ReadTimes>)>,
}

/// Runs the merge to the end, handing every item to `emit` in order;
/// `emit` returns false once nobody wants more (the input is then stopped
/// and the rest discarded).
fn run_merger<T>(input: MergerInput<T>, emit: &mut dyn FnMut(T) -> bool) -> MergerOutcome {
    let MergerInput {
        live,
        n,
        rx,
        returns,
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
        done: vec![None; n],
        finished: vec![false; n],
        out_closed: false,
        stop,
        report: MergerReport::default(),
    };
    let mut reports = Vec::with_capacity(n);
    let mut failures = Vec::new();
    while let Ok(msg) = rx.recv() {
        let t = Instant::now();
        let mut emitted = Duration::ZERO;
        match msg {
            MergerMsg::Items(k, mut items, at) => {
                if let Some(lat) = &mut m.latency {
                    lat.pushed[k] += items.len() as u64;
                    lat.handed[k].push_back((lat.pushed[k], at));
                }
                m.queues[k].extend(items.drain(..));
                let _ = returns[k].try_send(items);
                let held: usize = m.queues.iter().map(VecDeque::len).sum();
                m.report.held_high_water = m.report.held_high_water.max(held);
            }
            MergerMsg::EpochDone(k, seq) => {
                m.done[k] = Some(seq);
                emitted = m.release(emit);
            }
            MergerMsg::Finished(r) => {
                m.finished[r.shard] = true;
                reports.push(*r);
                emitted = m.release(emit);
            }
            MergerMsg::Failed(k, why) => {
                m.finished[k] = true;
                failures.push((k, why));
                emitted = m.release(emit);
            }
        }
        m.report.busy += t.elapsed().saturating_sub(emitted);
        live.merged.store(m.report.items, Ordering::Relaxed);
        if m.finished.iter().all(|&f| f) {
            break;
        }
    }
    // Whatever is left (every shard finished, or failed): in order.
    m.finished.iter_mut().for_each(|f| *f = true);
    m.release(emit);
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

struct Merger<T> {
    latency: Option<MergeLatency>,
    /// The seq of the last item released and the next `sub` for it.
    cursor: Option<u64>,
    next_sub: u32,
    renumber: fn(&mut T, u32),
    queues: Vec<VecDeque<Keyed<T>>>,
    done: Vec<Option<u64>>,
    finished: Vec<bool>,
    out_closed: bool,
    stop: Arc<AtomicBool>,
    report: MergerReport,
}

impl<T> Merger<T> {
    /// Releases, in key order, every held item that no shard can still
    /// precede: those with a seq at or below the last epoch boundary every
    /// unfinished shard has completed. Returns the time spent in `emit`
    /// (the consumer's time, or waiting for it), which is not merge work.
    fn release(&mut self, emit: &mut dyn FnMut(T) -> bool) -> Duration {
        let mut emitting = Duration::ZERO;
        // An epoch done at seq `s` means every packet up to `s` and the
        // timers at `s` are in; the end-of-input flush at `s`, which sorts
        // after them, is not. A finished shard bounds nothing.
        let mut bound = (u64::MAX, Cause::Flush);
        for k in 0..self.queues.len() {
            if self.finished[k] {
                continue;
            }
            match self.done[k] {
                Some(s) => bound = bound.min((s, Cause::Timer)),
                None => return emitting,
            }
        }
        loop {
            let mut best: Option<(usize, OrderKey)> = None;
            for (k, q) in self.queues.iter().enumerate() {
                if let Some((key, _)) = q.front()
                    && (key.0, key.1) <= bound
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
            if !self.out_closed {
                let t = Instant::now();
                let taken = emit(item);
                emitting += t.elapsed();
                if taken {
                    self.report.items += 1;
                } else {
                    // Nobody reads any more: stop the input, finish quietly.
                    self.out_closed = true;
                    self.stop.store(true, Ordering::Relaxed);
                }
            }
        }
        emitting
    }
}

#[cfg(test)]
mod tests;
