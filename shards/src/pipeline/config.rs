//! The pipeline's options: [`PipelineConfig`] (with the `serde` feature,
//! also the `[pipeline]` table of a configuration file, checked by
//! [`PipelineConfig::check`]), the shard count used when none is given
//! ([`default_shards`]), and what a full shard queue does
//! ([`Backpressure`]).

use std::time::Duration;

/// What the ingest does when a shard's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backpressure {
    /// Wait (offline input: lossless).
    Block,
    /// Drop the batch and count its packets (live input).
    Drop,
}

/// Most shard threads a configuration may ask for.
pub const MAX_SHARDS: usize = 1024;

/// The shard count when none is given: one per core but one (the
/// ingest's), at least one.
pub fn default_shards() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .max(1)
}

/// Pipeline options.
///
/// With the `serde` feature this is the `[pipeline]` table of a
/// configuration file: the keys are the names given in parentheses below,
/// every key is optional (absent: the default), and unknown keys are
/// errors. Deserializing checks types only; [`PipelineConfig::check`]
/// rejects values out of range. The options without a key (for benchmarks
/// and embedding) keep their defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields, default))]
pub struct PipelineConfig {
    /// Packets per epoch (`epoch_packets`): timers fire every this many
    /// packets.
    pub epoch_packets: u64,
    /// Shard threads (`shards`). `None`: [`default_shards`], resolved when
    /// the pipeline is built. A pipeline runs at least one; 0 is for
    /// callers that run an [`InlineRunner`](crate::InlineRunner) instead.
    pub shards: Option<usize>,
    /// Pin threads to cores (`pin`). `None`: pin when `shards + 2` cores
    /// exist, a core for every thread.
    pub pin: Option<bool>,
    /// Threads the ingest uses to read its source (`ingest_threads`, 0 to
    /// [`PipelineConfig::MAX_INGEST_THREADS`]). 0, the default: chosen
    /// from the shard count ([`PipelineConfig::ingest_threads_for`]: one
    /// per two shards, 1 to 4), since from about eight shards on one
    /// thread cannot feed them. 1: the ingest thread reads, decodes,
    /// hashes and dispatches every packet itself. N > 1: the ingest thread
    /// reads the packets into chunks and dispatches them in read order,
    /// and a pool of N − 1 threads decodes and hashes the chunks meanwhile
    /// (not pinned). The output is the same for every value; a live
    /// source's epochs still close every `epoch_interval`, after every
    /// packet read before. With one shard and 0 or 1 here, the shard keys
    /// its own packets ([`PipelineConfig::shard_keys`]).
    pub ingest_threads: usize,
    /// Packets per batch sent to a shard (`batch_packets`): the smallest
    /// batch, and the size each shard's batches start at.
    pub batch_packets: usize,
    /// The largest batch (`batch_packets_max`; at most 65 536, and never
    /// below `batch_packets`). Each shard's batch size adapts between the
    /// two: it doubles when a batch finds the shard's queue empty (the
    /// shard is waiting, and every batch would wake it) or full (the
    /// ingest is about to wait, and every batch taken would wake it).
    /// Live input hands partial batches over every `epoch_interval`, which
    /// bounds the latency this adds.
    pub batch_packets_max: usize,
    /// Batches queued per shard before the ingest waits (`queue_batches`).
    pub queue_batches: usize,
    /// Run the merge on a thread of its own feeding
    /// [`Pipeline::receiver`](crate::Pipeline::receiver)
    /// (`merger_thread`). Off (the default): the consumer runs it on its
    /// own thread with [`Pipeline::merge_here`](crate::Pipeline::merge_here),
    /// which measured as fast or faster, with lower latency, and needs one
    /// thread less. [`Pipeline::builder`](crate::Pipeline::builder) starts
    /// with it on.
    pub merger_thread: bool,
    /// Live input: how long the ingest waits for room in a full shard queue
    /// before it drops the batch (`live_drop_wait_ms`, in milliseconds). A
    /// short wait rides out a shard that was descheduled for a moment (the
    /// kernel's capture buffer holds the packets meanwhile); zero drops at
    /// once.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "live_drop_wait_ms", deserialize_with = "millis")
    )]
    pub drop_wait: Duration,
    /// Live sources also close an epoch when this much wall time has passed
    /// since the last boundary (offline input never looks at the clock);
    /// zero closes one after every packet.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub epoch_interval: Duration,
    /// Items queued between the merger and the consumer.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub output_capacity: usize,
    /// `None`: block for offline sources, drop for live ones.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub backpressure: Option<Backpressure>,
    /// Benchmark mode: shards receive and recycle batches without
    /// processing them (measures the ingest alone: it keys every packet,
    /// as for several shards, even when there is one).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub noop_shards: bool,
    /// Record latency histograms for every this-many-th packet (0: off);
    /// see [`PipelineReport::latency`](crate::PipelineReport::latency).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub latency_sample: u32,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            epoch_packets: crate::DEFAULT_EPOCH_PACKETS,
            shards: None,
            pin: None,
            ingest_threads: 0,
            batch_packets: 256,
            batch_packets_max: 4096,
            queue_batches: 16,
            merger_thread: false,
            drop_wait: Duration::from_millis(2),
            epoch_interval: Duration::from_millis(1),
            output_capacity: 4096,
            backpressure: None,
            noop_shards: false,
            latency_sample: 0,
        }
    }
}

impl PipelineConfig {
    /// Most ingest threads a configuration may ask for
    /// ([`PipelineConfig::ingest_threads`]).
    pub const MAX_INGEST_THREADS: usize = 64;

    /// The ingest threads a pipeline of `shards` shards runs: the
    /// configured number, or for 0 one per two shards, at least 1 and at
    /// most 4 (measured on 16 cores: one thread feeds about 5.4–5.9 Mpps,
    /// which 8 shards exceed; four lift 8 shards to 7.8 Mpps and 14 to
    /// 9.4, where three give 7.7).
    pub fn ingest_threads_for(&self, shards: usize) -> usize {
        match self.ingest_threads {
            0 => (shards / 2).clamp(1, 4),
            n => n.min(Self::MAX_INGEST_THREADS),
        }
    }

    /// Whether a pipeline of `shards` shards leaves keying to its shard:
    /// with one shard and `ingest_threads` 0 or 1 (the default) there is
    /// nothing to choose, so the ingest only reads and numbers
    /// packets, and the shard decodes, hashes and reassembles fragments
    /// itself, as the inline engine does: each packet is decoded once, and
    /// the ingest needs a fraction of a core, which is what it leaves to
    /// the shard when cores are shared. Not with `noop_shards`, which
    /// measures the keying ingest.
    pub fn shard_keys(&self, shards: usize) -> bool {
        shards == 1 && self.ingest_threads_for(shards) == 1 && !self.noop_shards
    }

    /// Rejects values a `[pipeline]` table may not hold; the message names
    /// the table and the key.
    pub fn check(&self) -> Result<(), String> {
        let bad = |what: &str| Err(format!("[pipeline] {what}"));
        if self.epoch_packets == 0 {
            return bad("epoch_packets must be at least 1");
        }
        if self.epoch_packets > MAX_EPOCH_PACKETS {
            return Err(format!(
                "[pipeline] epoch_packets must be between 1 and {MAX_EPOCH_PACKETS} (it is {})",
                self.epoch_packets
            ));
        }
        if !(1..=65_536).contains(&self.batch_packets) {
            return bad("batch_packets must be between 1 and 65536");
        }
        if self.batch_packets_max > 65_536 {
            return bad("batch_packets_max must be at most 65536");
        }
        if !(1..=4096).contains(&self.queue_batches) {
            return bad("queue_batches must be between 1 and 4096");
        }
        if self.shards.is_some_and(|n| n > MAX_SHARDS) {
            return bad("shards must be at most 1024");
        }
        if self.ingest_threads > Self::MAX_INGEST_THREADS {
            return Err(format!(
                "[pipeline] ingest_threads must be between 0 (chosen from the shard count) and {} (it is {})",
                Self::MAX_INGEST_THREADS,
                self.ingest_threads
            ));
        }
        if self.drop_wait > Duration::from_millis(1000) {
            return bad("live_drop_wait_ms must be at most 1000");
        }
        Ok(())
    }
}

/// The most packets an epoch may span in a configuration (checked by
/// [`PipelineConfig::check`]).
const MAX_EPOCH_PACKETS: u64 = 1 << 24;

/// Reads a duration given in whole milliseconds.
#[cfg(feature = "serde")]
fn millis<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    <u64 as serde::Deserialize>::deserialize(d).map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::PipelineConfig;

    #[test]
    fn ingest_threads_zero_is_one_per_two_shards() {
        let auto = PipelineConfig::default();
        assert_eq!(auto.ingest_threads, 0);
        let got: Vec<usize> = [0, 1, 4, 7, 8, 12, 14, 16, 64]
            .iter()
            .map(|&n| auto.ingest_threads_for(n))
            .collect();
        assert_eq!(got, [1, 1, 2, 3, 4, 4, 4, 4, 4]);
        let fixed = PipelineConfig {
            ingest_threads: 6,
            ..PipelineConfig::default()
        };
        assert_eq!(fixed.ingest_threads_for(1), 6);
        assert!(
            PipelineConfig {
                ingest_threads: 65,
                ..PipelineConfig::default()
            }
            .check()
            .is_err()
        );
    }
}
