//! What the pipeline's threads send each other: packet batches and epoch
//! markers from the ingest to the shards, items and progress from the
//! shards to the merge.

use super::report::ShardReport;
use crate::sequencer::Stamp;
use crate::source::{PacketRef, SharedBytes};
use flowscope_engine::unstable::{DefragEvent, DefragLog};
use flowscope_engine::{OrderKey, Timestamp};

/// One packet as the ingest hands it to a shard: the packet, its stamp and
/// its dispatch hash.
#[derive(Debug, Clone, Copy)]
pub(super) struct Handle {
    /// The packet; its offset is into the batch's storage, or into the
    /// batch's copied bytes when `copied`.
    pub(super) packet: PacketRef,
    pub(super) seq: u64,
    pub(super) now: Timestamp,
    /// The dispatch hash, when `keyed`. Two fields rather than an
    /// `Option<u64>`, which would take 16 bytes and push the handle past a
    /// cache line (64 bytes).
    pub(super) hash: u64,
    pub(super) keyed: bool,
    pub(super) copied: bool,
    /// Steps of the batch's [`DefragLog`] that are this packet's: what the
    /// ingest's reassembly did with it (a fragment; at most three, one per
    /// nesting level).
    pub(super) defrag_steps: u8,
}

impl Handle {
    /// The packet's dispatch hash (`None`: it could not be keyed).
    #[inline]
    pub(super) fn dispatch_hash(&self) -> Option<u64> {
        self.keyed.then_some(self.hash)
    }
}

/// Packets for one shard.
pub(super) struct PacketBatch {
    pub(super) handles: Vec<Handle>,
    pub(super) storage: Option<SharedBytes>,
    pub(super) copied: Vec<u8>,
    /// The reassembly steps of the packets that are fragments, in order.
    pub(super) defrag: DefragLog,
    /// Latency recording: read times of the sampled packets in it, and
    /// when it was queued (pipeline clock, ns).
    pub(super) sampled_reads: Vec<u64>,
    pub(super) sent_ns: u64,
}

impl PacketBatch {
    pub(super) fn new(cap: usize) -> Self {
        PacketBatch {
            handles: Vec::with_capacity(cap),
            storage: None,
            copied: Vec::new(),
            defrag: DefragLog::default(),
            sampled_reads: Vec::new(),
            sent_ns: 0,
        }
    }
    pub(super) fn clear(&mut self) {
        self.handles.clear();
        self.storage = None;
        self.copied.clear();
        self.defrag.clear();
        self.sampled_reads.clear();
    }
}

pub(super) enum ShardMsg {
    Batch(PacketBatch),
    /// An epoch boundary, with the fragment drops the ingest's reassembly
    /// reported at it (timeouts; sent to shard 0 only).
    Epoch(Stamp, Vec<DefragEvent>),
    /// End of input, with the ingest's last fragment drops (shard 0 only).
    Finish(Stamp, Vec<DefragEvent>),
}

pub(super) type Keyed<T> = (OrderKey, T);

/// A shard's items as handed to the merge, with the buffer their bytes are
/// in (see `EventSink::map`).
pub(super) struct ItemBatch<T> {
    pub(super) items: Vec<Keyed<T>>,
    pub(super) bytes: Vec<u8>,
}

pub(super) enum MergerMsg<T> {
    /// A shard's items, and when it handed them over (pipeline clock, ns;
    /// 0 when latency is not recorded). The last field is set by a step of
    /// the end-of-input flush: the shard waits for a credit before its next
    /// step.
    Items(usize, ItemBatch<T>, u64, bool),
    EpochDone(usize, u64),
    Finished(Box<ShardReport>),
    Failed(usize, String),
}
