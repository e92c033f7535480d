//! The pipeline's options: [`PipelineConfig`] and what a full shard queue
//! does, [`Backpressure`].

use std::time::Duration;

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
