//! The sharded pipeline: one ingest thread, N shard threads each owning an
//! [`Engine`](flowscope_engine::Engine), and a merge — on a thread of its
//! own or on the consumer's — that puts the shards' output back into one
//! deterministic order.
//!
//! # Protocol
//!
//! The ingest numbers packets (`seq`), tracks the packet clock, decodes the
//! headers (with the same decoder and tunnel/VLAN policy as the engines),
//! and sends each packet to shard `dispatch_hash × N / 2^64` as a *handle*
//! (an offset into the source's shared bytes — payload is never copied —
//! plus the packet's seq, clock and dispatch hash). The dispatch hash is the
//! extractor's
//! [`FlowExtractor::dispatch_hash`](flowscope_engine::FlowExtractor::dispatch_hash):
//! the symmetric hash of the address pair for the built-in address keys, so
//! both directions of a flow *and every fragment of its datagrams* (which
//! carry no ports) reach the same shard, whose engine finishes the flow hash
//! from it. Packets that cannot be keyed (malformed, unsupported link type,
//! non-IP) go to shard 0, where they are counted and reported.
//!
//! Every `epoch_packets` packets the ingest flushes its partial batches and
//! sends every shard an epoch marker with the boundary's seq and clock; each
//! shard fires its timers and reports the epoch done. The merge releases
//! events in [`Ordered::key`](flowscope_engine::Ordered::key) order only up
//! to the last boundary every shard has finished and renumbers `sub`, so its
//! output is exactly the inline engine's, whatever N is (unless a per-shard
//! capacity — `max_flows`, defrag bounds — is reached, which is reported).
//!
//! Every channel is bounded. Offline input blocks when shards fall behind
//! (lossless); live input drops whole batches at the ingest and counts them.
//! Batches come back to the ingest on a return channel for reuse.
//!
//! This module holds the running [`Pipeline`] (its output, counters, the
//! merge on the consumer's thread, the join) and [`PipelineError`]; each
//! stage lives in a submodule: `builder` (wiring and starting), `config`,
//! `ingest` (with `ingest::pool`, its keying pool for offline input),
//! `shard`, `merge`, `messages` (what the threads send each
//! other), `report` and `sink`.

mod builder;
mod config;
mod ingest;
mod merge;
mod messages;
mod report;
mod shard;
mod sink;

pub use builder::PipelineBuilder;
pub use config::{Backpressure, MAX_SHARDS, PipelineConfig, default_shards};
pub use report::{IngestReport, MergerReport, PipelineReport, PipelineStats, ShardReport};
pub use sink::{EventSink, Events, SessionEvents};

use crossbeam_channel::Receiver;
use flowscope_engine::EngineStats;
use merge::{MergerInput, MergerOutcome, run_merger};
use report::LiveCounters;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

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
    /// The shard keys its packets and reassembles fragments itself
    /// ([`PipelineConfig::shard_keys`]).
    shard_keys: bool,
    /// The sink's [`EventSink::detach`].
    detach: fn(T, &[u8]) -> T,
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

impl<T, S> Pipeline<T, S> {
    /// The merged, ordered items (each [`EventSink::detach`]ed: owning its
    /// bytes). Iteration ends when the pipeline is done. Empty when the
    /// merge runs on the consumer's thread ([`PipelineConfig::merger_thread`]
    /// off): use [`Pipeline::consume`].
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

    /// Without [`PipelineConfig::merger_thread`], runs the merge on this
    /// thread, handing each item ([`EventSink::detach`]ed) to `consume` in
    /// order until the pipeline is done or `consume` returns false (the
    /// input then stops). Returns false, doing nothing, when the merge runs
    /// on its own thread or has already run.
    pub fn merge_here(&mut self, mut consume: impl FnMut(T) -> bool) -> bool {
        let detach = self.detach;
        self.merge_here_with_bytes(&mut |item, bytes| consume(detach(item, bytes)))
    }

    /// [`Pipeline::merge_here`], each item handed over as the sink made it,
    /// with the buffer its bytes are in (see [`EventSink`]).
    fn merge_here_with_bytes(&mut self, consume: &mut dyn FnMut(T, &[u8]) -> bool) -> bool {
        if !matches!(self.merger, MergerRun::Deferred(_)) {
            return false;
        }
        let MergerRun::Deferred(input) = std::mem::replace(
            &mut self.merger,
            MergerRun::Ran((Vec::new(), MergerReport::default(), Vec::new())),
        ) else {
            return false;
        };
        let outcome = run_merger(*input, consume);
        self.merger = MergerRun::Ran(outcome);
        true
    }

    /// Hands every output item ([`EventSink::detach`]ed) to `consume`, in
    /// order, until the output ends or `consume` returns false (the input
    /// then stops), wherever the merge runs: here without
    /// [`PipelineConfig::merger_thread`] ([`Pipeline::merge_here`]), else
    /// read from its channel.
    pub fn consume(&mut self, mut consume: impl FnMut(T) -> bool) {
        let detach = self.detach;
        self.consume_with_bytes(|item, bytes| consume(detach(item, bytes)));
    }

    /// [`Pipeline::consume`], each item handed over with the buffer its
    /// bytes are in, as its shard's sink wrote them (see [`EventSink`]):
    /// where the merge runs here, no item is given bytes of its own. Items
    /// read from the merge's channel own theirs already and come with an
    /// empty buffer.
    pub fn consume_with_bytes(&mut self, mut consume: impl FnMut(T, &[u8]) -> bool) {
        if !self.merge_here_with_bytes(&mut consume) {
            for item in self.receiver.iter() {
                if !consume(item, &[]) {
                    break;
                }
            }
        }
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
            shard_keys,
            detach: _,
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
            MergerRun::Deferred(input) => run_merger(*input, &mut |_, _| false),
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
        // The shards replay the ingest's reassembly and count none of it
        // (unless the one shard reassembled itself).
        if !shard_keys {
            engine.defrag = ingest.defrag.clone();
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

#[cfg(test)]
mod tests;
