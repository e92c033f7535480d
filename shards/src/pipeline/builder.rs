//! Starting a pipeline: [`PipelineBuilder`] collects the options, the
//! engines' hook and the sink, and `build` wires the channels and spawns
//! the ingest, shard and merger threads.

use super::config::{Backpressure, PipelineConfig, default_shards};
use super::ingest::{IngestCtx, ingest_main};
use super::merge::{MergerInput, run_merger};
use super::messages::{Keyed, MergerMsg, PacketBatch, ShardMsg};
use super::report::LiveCounters;
use super::shard::{ShardChannels, Work, shard_main};
use super::sink::{EventSink, Events};
use super::{MergerRun, Pipeline, PipelineError};
use crate::latency::{Clock, ReadTimes};
use crate::source::PacketSource;
use crossbeam_channel::bounded;
use flowscope_engine::unstable::{Decoder, FragmentRouter};
use flowscope_engine::{Engine, EngineConfig, FlowExtractor, FlowHook, NoHook, Share};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Instant;

/// Builds one hook per shard.
type MakeHook<H> = Arc<dyn Fn() -> H + Send + Sync>;

/// Emptied item lists, and emptied byte buffers, kept for reuse per shard
/// (more are freed).
const RETURNED_BUFFERS: usize = 8;

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

impl Pipeline<(), ()> {
    /// A builder for a pipeline of engines with this configuration and
    /// extractor (cloned per shard and for the ingest). It starts from
    /// [`PipelineConfig::default`] with one shard and the merge on a thread
    /// of its own (so [`Pipeline::receiver`] delivers the items).
    pub fn builder<E: FlowExtractor + Clone>(
        engine: EngineConfig,
        extractor: E,
    ) -> PipelineBuilder<E, Events> {
        PipelineBuilder {
            cfg: PipelineConfig {
                shards: Some(1),
                merger_thread: true,
                ..PipelineConfig::default()
            },
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
    /// All options at once, replacing the builder's. With
    /// [`PipelineConfig::merger_thread`] off (its default), read the items
    /// with [`Pipeline::merge_here`].
    pub fn config(mut self, cfg: PipelineConfig) -> Self {
        self.cfg = cfg;
        self
    }
    /// Shard threads (at least 1).
    pub fn shards(mut self, n: usize) -> Self {
        self.cfg.shards = Some(n.max(1));
        self
    }
    /// Force pinning on or off (default: pin when `shards + 2` cores exist).
    pub fn pin(mut self, pin: bool) -> Self {
        self.cfg.pin = Some(pin);
        self
    }
    /// Threads the ingest uses to read a capture file (0: chosen from the
    /// shard count; at most [`PipelineConfig::MAX_INGEST_THREADS`]; see
    /// [`PipelineConfig::ingest_threads`]).
    pub fn ingest_threads(mut self, n: usize) -> Self {
        self.cfg.ingest_threads = n.min(PipelineConfig::MAX_INGEST_THREADS);
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
    /// [`SessionEvents`](crate::SessionEvents) sink), in the same order for
    /// any shard count.
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
        let n = cfg.shards.unwrap_or_else(default_shards).max(1);
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

        let shard_keys = cfg.shard_keys(n);
        // `ingest_threads` > 1: a pool decodes and hashes for the ingest
        // thread. Its threads are not pinned: they only ever wait for the
        // ingest thread or work for it.
        let keyers = match cfg.ingest_threads_for(n) {
            t if t > 1 => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(t - 1)
                    .thread_name(|i| format!("flowscope-key-{i}"))
                    .build()
                    .map_err(|e| PipelineError::Spawn(std::io::Error::other(e)))?,
            ),
            _ => None,
        };

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
        let mut byte_returns = Vec::with_capacity(n);
        let mut credits = Vec::with_capacity(n);
        for k in 0..n {
            let (tx, rx) = bounded::<ShardMsg>(cfg.queue_batches.max(1));
            let (ret_tx, ret_rx) = bounded::<Vec<Keyed<S::Item>>>(RETURNED_BUFFERS);
            shard_txs.push(tx);
            item_returns.push(ret_tx);
            let (bytes_tx, bytes_rx) = bounded::<Vec<u8>>(RETURNED_BUFFERS);
            byte_returns.push(bytes_tx);
            let (credit_tx, credit_rx) = bounded::<()>(1);
            credits.push(credit_tx);
            // Budgets are process-wide: each shard holds its part of them.
            let share = Share { index: k, count: n };
            let mut hook = (self.make_hook)();
            hook.take_share(share);
            let engine =
                Engine::with_hook(&self.engine.share(share), self.extractor.clone(), hook)?;
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
                        byte_returns: bytes_rx,
                        credits: credit_rx,
                    };
                    let work = if noop {
                        Work::Noop
                    } else if shard_keys {
                        Work::Keys
                    } else {
                        Work::Keyed
                    };
                    shard_main(k, engine, sink, channels, work, &shard_live, shard_latency);
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
            byte_returns,
            credits,
            stop: self.stop.clone(),
            renumber: S::renumber,
            latency: latency.clone(),
        };
        let merger = if !cfg.merger_thread {
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
                    run_merger(merger_input, &mut |item, bytes| {
                        out_tx.send(S::detach(item, bytes)).is_ok()
                    })
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
        // One reassembler for the whole input, within the whole budget.
        let router = FragmentRouter::new(decoder.clone(), self.engine.defrag.clone());
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
                    keyers,
                    router,
                    shard_keys,
                    extractor,
                    shards: shard_txs,
                    pool: pool_rx,
                    batch_packets: cfg.batch_packets.max(1),
                    batch_max: cfg.batch_packets_max.max(cfg.batch_packets).max(1),
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
            shard_keys,
            detach: S::detach,
            started: Instant::now(),
        })
    }
}
