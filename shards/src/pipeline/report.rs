//! What a pipeline reports: the live counters published once per epoch
//! ([`PipelineStats`]) and the figures of a finished run per thread
//! ([`PipelineReport`] with its ingest, shard and merger parts).

use crate::latency::LatencyReport;
use crate::source::SourceError;
use flowscope_engine::{DefragCounters, EngineStats, Timestamp};
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// Counters of a running pipeline, published once per epoch (never per
/// packet, so the hot paths share no cache line).
#[derive(Debug, Default)]
pub(super) struct LiveCounters {
    pub(super) read: AtomicU64,
    pub(super) dropped: AtomicU64,
    pub(super) merged: AtomicU64,
    pub(super) shard_packets: Vec<AtomicU64>,
    pub(super) shard_flows: Vec<AtomicU64>,
    pub(super) shard_dropped: Vec<AtomicU64>,
    pub(super) queue_depth: Vec<AtomicU64>,
}

/// A snapshot of a running pipeline
/// ([`Pipeline::stats`](crate::Pipeline::stats)), as of the last epoch
/// boundary each thread passed.
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
    /// Time the ingest thread spent reading, keying and dispatching (not
    /// blocked on a shard, not waiting for its pool).
    pub busy: Duration,
    /// Time blocked on full shard queues.
    pub blocked: Duration,
    /// Live input: time the source spent waiting for packets (a quiet
    /// link); not part of `busy`.
    pub idle: Duration,
    /// Threads of the pool that decoded and hashed packets for the ingest
    /// thread ([`PipelineConfig::ingest_threads`](crate::PipelineConfig::ingest_threads)
    /// − 1); 0 when the ingest thread keyed every packet itself.
    pub pool_threads: usize,
    /// Time the ingest thread waited for its pool to key the next chunk;
    /// not part of `busy`.
    pub pool_wait: Duration,
    /// Packets read in spans of a capture in memory that the pool walked
    /// in parts (see [`PacketSource::stretch`](crate::PacketSource::stretch)).
    pub walked_packets: u64,
    /// Spans the ingest thread walked again because the record boundary
    /// guessed at their start was not where the span before them ended.
    pub spans_rewalked: u64,
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
    /// Fragment reassembly's counters: the ingest reassembles for every
    /// shard (they are also the run's [`PipelineReport::engine`]
    /// `defrag`), except where one shard keys its own packets
    /// ([`PipelineConfig::shard_keys`](crate::PipelineConfig::shard_keys)):
    /// then they are zero, and the shard's count.
    pub defrag: DefragCounters,
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
    /// [`PipelineConfig::latency_sample`](crate::PipelineConfig::latency_sample)
    /// was on.
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
