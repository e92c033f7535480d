//! `flowscope-bench pipeline`: the whole pipeline (ingest thread reading the
//! capture, N shard engines, ordered merge, events delivered to a consumer)
//! for a list of shard counts, with the single-engine path (`0`) as the
//! baseline; plus the ingest alone (shards that drop their batches) and the
//! ingest→event latency; each for the listed ingest thread counts (the
//! offline ingest's keying pool).
//!
//! The capture is loaded into memory first, so the figures measure the
//! pipeline, not the disk. Events are counted, not rendered (the CLI's own
//! summary measures rendering and writing too).

use anyhow::{Context as _, bail};
use flowscope_cli::config::Config;
use flowscope_engine::{
    Engine, EngineConfig, FlowExtractor, FlowHook, KeyOptions, NoHook, RawPacket, with_extractor,
};
use flowscope_io::{CaptureBytes, CaptureFile, FileSource};
use flowscope_shards::{
    Backpressure, InlineRunner, PacketSource, Pipeline, PipelineConfig, SourceError, SourcePacket,
    Storage,
};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Where the merge runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeMode {
    /// A merger thread feeding the output channel.
    Thread,
    /// The merge on the consumer's thread.
    Consumer,
    /// Both, one after the other, for comparison.
    Both,
}

/// Options of the pipeline benchmark.
#[derive(Debug, Clone)]
pub struct PipelineBench {
    /// Shard counts to run (0: one engine inline).
    pub shards: Vec<usize>,
    /// Timed passes per configuration.
    pub repeat: usize,
    /// Merge placement(s).
    pub merge: MergeMode,
    /// Pinning (None: the pipeline's default).
    pub pin: Option<bool>,
    /// Also measure the ingest alone.
    pub ingest_only: bool,
    /// Also run one latency pass per configuration.
    pub latency: bool,
    /// Also run every configuration with reassembly and no-op parsers.
    pub reassembly: bool,
    /// The pipeline's ingest thread counts to run every sharded and
    /// ingest-only configuration with (empty: the configuration's).
    pub ingest_threads: Vec<usize>,
    /// Offer the trace as live input (see [`Stamped`]).
    pub live: bool,
}

/// One configuration's figures.
#[derive(Debug, Serialize)]
pub struct PipelineRow {
    /// Shard threads (0: inline).
    pub shards: usize,
    /// `inline`, `thread`, `consumer` or `ingest_only`.
    pub mode: &'static str,
    /// Threads of the ingest (1: one thread; N: the ingest thread and a
    /// keying pool of N - 1).
    pub ingest_threads: usize,
    /// Best pass.
    pub best_mpps: f64,
    /// Median pass.
    pub median_mpps: f64,
    /// Wire throughput of the best pass.
    pub best_gbit_per_s: f64,
    /// ns per packet, best pass (wall time / packets).
    pub best_ns_per_packet: f64,
    /// Best Mpps over the best Mpps of the inline run.
    pub vs_inline: Option<f64>,
    /// Best Mpps over the best Mpps of 1 shard in the same mode.
    pub speedup_vs_1: Option<f64>,
    /// Max shard packets / mean.
    pub imbalance: f64,
    /// Fraction of the wall time the ingest thread was busy (not blocked,
    /// not waiting for its keying pool).
    pub ingest_busy: f64,
    /// Whether threads were pinned.
    pub pinned: bool,
    /// Events delivered.
    pub events: u64,
    /// Ingest→event latency percentiles, microseconds (latency pass).
    pub latency_us: Option<Latency>,
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

/// The benchmark's result.
#[derive(Debug, Serialize)]
pub struct PipelineResult {
    /// The trace.
    pub file: String,
    /// Packets in it.
    pub packets: u64,
    /// Wire bytes in it.
    pub wire_bytes: u64,
    /// Cores the machine reports.
    pub cores: usize,
    /// Passes per configuration.
    pub repeats: usize,
    /// The trace was offered as live input (`--live`).
    pub live: bool,
    /// One row per configuration.
    pub rows: Vec<PipelineRow>,
}

/// A pass's raw figures.
struct Pass {
    seconds: f64,
    packets: u64,
    bytes: u64,
    events: u64,
    imbalance: f64,
    ingest_busy: f64,
    pinned: bool,
}

/// Records when the ingest read each packet, so the consumer can compute
/// each event's ingest→event latency from its seq. With `live`, offers
/// the trace as a live capture does: each packet copied into a buffer the
/// next read reuses ([`Storage::Transient`], what libpcap's buffer is),
/// and the source live (epochs closed by wall time).
struct Stamped<S> {
    inner: S,
    live: bool,
    buf: Vec<u8>,
    /// Off in the timed passes: reading the clock per packet costs the
    /// ingest about 20 ns.
    on: bool,
    start: Instant,
    read_at: Arc<Vec<AtomicU64>>,
    next: usize,
}

impl<S: PacketSource> PacketSource for Stamped<S> {
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        let p = self.inner.next_packet()?;
        if self.on
            && p.is_ok()
            && let Some(slot) = self.read_at.get(self.next)
        {
            slot.store(self.start.elapsed().as_nanos() as u64, Ordering::Relaxed);
            self.next += 1;
        }
        if !self.live {
            return Some(p);
        }
        let raw = match p {
            Ok(p) => p.raw,
            Err(e) => return Some(Err(e)),
        };
        self.buf.clear();
        self.buf.extend_from_slice(raw.data);
        Some(Ok(SourcePacket {
            raw: RawPacket {
                data: &self.buf,
                ..raw
            },
            storage: Storage::Transient,
        }))
    }

    fn is_live(&self) -> bool {
        self.live
    }

    // Walked in parts only when no packet's read time is wanted (and
    // never live: a capture has no file to walk).
    fn stretch(&mut self) -> Option<flowscope_shards::Stretch> {
        if self.on || self.live {
            None
        } else {
            self.inner.stretch()
        }
    }

    fn walked(&mut self, at: usize, packets: u64) {
        self.inner.walked(at, packets);
    }
}

fn source(data: &'static [u8], name: &str) -> FileSource {
    FileSource::new(vec![CaptureFile::from_bytes(
        name.to_owned(),
        CaptureBytes::Static(data),
    )])
}

/// Runs the benchmark on `path`.
pub fn run(path: &Path, cfg: &Config, opts: &PipelineBench) -> anyhow::Result<PipelineResult> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    // Every pass reads the same bytes; leaking them once gives the sources
    // a `'static` slice without a copy per pass.
    let data: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    let name = path.display().to_string();
    let (mut packets, mut wire_bytes) = (0u64, 0u64);
    let mut counting = source(data, &name);
    while let Some(Ok(p)) = counting.next_packet() {
        packets += 1;
        wire_bytes += u64::from(p.raw.wire_len);
    }
    if let Some(d) = counting.damaged().first() {
        bail!("{d}");
    }
    if packets == 0 {
        bail!("{} holds no packets", path.display());
    }
    let engine_cfg = &cfg.engine;
    let keys = KeyOptions::from_config(engine_cfg);
    let mut rows = Vec::new();
    let ctx = Ctx {
        data,
        name: &name,
        cfg,
        engine_cfg,
        opts,
        packets,
    };
    with_extractor!(engine_cfg.flow.key, keys, |x| ctx.all(x, &mut rows))?;
    let inline_best = |reasm: bool| {
        let name = if reasm { "inline+reasm" } else { "inline" };
        rows.iter().find(|r| r.mode == name).map(|r| r.best_mpps)
    };
    let inline_plain = inline_best(false);
    let inline_reasm = inline_best(true);
    let one: Vec<(&'static str, usize, f64)> = rows
        .iter()
        .filter(|r| r.shards == 1)
        .map(|r| (r.mode, r.ingest_threads, r.best_mpps))
        .collect();
    for r in &mut rows {
        if !r.mode.starts_with("inline") && r.mode != "ingest_only" {
            let base = if r.mode.ends_with("+reasm") {
                inline_reasm
            } else {
                inline_plain
            };
            r.vs_inline = base.map(|b| r.best_mpps / b);
            r.speedup_vs_1 = one
                .iter()
                .find(|&&(m, t, _)| m == r.mode && t == r.ingest_threads)
                .map(|(_, _, b)| r.best_mpps / b);
        }
    }
    Ok(PipelineResult {
        file: name.clone(),
        packets,
        wire_bytes,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        repeats: opts.repeat,
        live: opts.live,
        rows,
    })
}

/// One configuration to measure.
#[derive(Debug, Clone, Copy)]
struct Setup {
    shards: usize,
    /// The row's mode.
    label: &'static str,
    /// Where the merge runs (`None`: the inline engine).
    mode: Option<MergeMode>,
    /// Shards that drop their batches: the ingest alone.
    noop: bool,
    /// With reassembly and no-op parsers.
    reasm: bool,
    /// The pipeline's `ingest_threads`.
    ingest_threads: usize,
}

struct Ctx<'a> {
    data: &'static [u8],
    name: &'a str,
    cfg: &'a Config,
    engine_cfg: &'a EngineConfig,
    opts: &'a PipelineBench,
    packets: u64,
}

impl Ctx<'_> {
    fn all<E: FlowExtractor + Clone>(
        &self,
        extractor: E,
        rows: &mut Vec<PipelineRow>,
    ) -> anyhow::Result<()> {
        let modes: &[MergeMode] = match self.opts.merge {
            MergeMode::Both => &[MergeMode::Thread, MergeMode::Consumer],
            MergeMode::Thread => &[MergeMode::Thread],
            MergeMode::Consumer => &[MergeMode::Consumer],
        };
        let pools: &[usize] = match self.opts.ingest_threads.as_slice() {
            [] => std::slice::from_ref(&self.cfg.pipeline.ingest_threads),
            list => list,
        };
        let mut configs: Vec<Setup> = Vec::new();
        let families: &[bool] = if self.opts.reassembly {
            &[false, true]
        } else {
            &[false]
        };
        for &reasm in families {
            for &n in &self.opts.shards {
                let setup = Setup {
                    shards: n,
                    label: "",
                    mode: None,
                    noop: false,
                    reasm,
                    ingest_threads: 1,
                };
                if n == 0 {
                    let label = if reasm { "inline+reasm" } else { "inline" };
                    configs.push(Setup { label, ..setup });
                    continue;
                }
                for &mode in modes {
                    let label = match (mode == MergeMode::Thread, reasm) {
                        (true, false) => "thread",
                        (false, false) => "consumer",
                        (true, true) => "thread+reasm",
                        (false, true) => "consumer+reasm",
                    };
                    for &t in pools {
                        configs.push(Setup {
                            label,
                            mode: Some(mode),
                            ingest_threads: resolve(t, n),
                            ..setup
                        });
                    }
                }
            }
        }
        if self.opts.ingest_only {
            for &t in pools {
                configs.push(Setup {
                    shards: 1,
                    label: "ingest_only",
                    mode: Some(MergeMode::Thread),
                    noop: true,
                    reasm: false,
                    ingest_threads: resolve(t, 1),
                });
            }
        }
        // Round-robin: pass r of every configuration runs before pass r + 1
        // of any, so a noisy minute on a shared machine hits them alike.
        let mut passes: Vec<Vec<Pass>> = configs.iter().map(|_| Vec::new()).collect();
        for _ in 0..self.opts.repeat.max(1) {
            for (i, setup) in configs.iter().enumerate() {
                let p = match setup.mode {
                    None => self.inline(extractor.clone(), None, setup.reasm)?,
                    Some(m) => self.sharded(extractor.clone(), setup, m, None)?,
                };
                if p.packets != self.packets {
                    bail!(
                        "{} with {} shards saw {} of {} packets",
                        setup.label,
                        setup.shards,
                        p.packets,
                        self.packets
                    );
                }
                passes[i].push(p);
            }
        }
        for (setup, mut runs) in configs.iter().zip(passes) {
            let mut row = self.row(setup, &mut runs);
            // Latency passes, after the timed ones (stamping costs time).
            if self.opts.latency && !setup.noop {
                let mut hist = Histogram::<u64>::new(3)?;
                match setup.mode {
                    None => self.inline(extractor.clone(), Some(&mut hist), setup.reasm)?,
                    Some(m) => self.sharded(extractor.clone(), setup, m, Some(&mut hist))?,
                };
                let us = |q: f64| hist.value_at_quantile(q) as f64 / 1e3;
                row.latency_us = Some(Latency {
                    p50: us(0.5),
                    p99: us(0.99),
                    p999: us(0.999),
                    max: hist.max() as f64 / 1e3,
                });
            }
            rows.push(row);
        }
        Ok(())
    }

    fn row(&self, setup: &Setup, passes: &mut [Pass]) -> PipelineRow {
        passes.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
        let best = &passes[0];
        let median = &passes[passes.len() / 2];
        PipelineRow {
            shards: setup.shards,
            mode: setup.label,
            ingest_threads: setup.ingest_threads,
            best_mpps: best.packets as f64 / best.seconds / 1e6,
            median_mpps: median.packets as f64 / median.seconds / 1e6,
            best_gbit_per_s: best.bytes as f64 * 8.0 / best.seconds / 1e9,
            best_ns_per_packet: best.seconds * 1e9 / best.packets as f64,
            vs_inline: None,
            speedup_vs_1: None,
            imbalance: best.imbalance,
            ingest_busy: best.ingest_busy,
            pinned: best.pinned,
            events: best.events,
            latency_us: None,
        }
    }

    fn stamped(&self, on: bool) -> (Stamped<FileSource>, Arc<Vec<AtomicU64>>, Instant) {
        let slots = if on { self.packets } else { 0 };
        let read_at: Arc<Vec<AtomicU64>> =
            Arc::new((0..slots).map(|_| AtomicU64::new(0)).collect());
        let start = Instant::now();
        let src = Stamped {
            inner: source(self.data, self.name),
            live: self.opts.live,
            buf: Vec::new(),
            on,
            start,
            read_at: read_at.clone(),
            next: 0,
        };
        (src, read_at, start)
    }

    /// The single-engine path, as `flowscope replay --shards 0` drives it;
    /// with reassembly and no-op parsers when `reasm`.
    fn inline<E: FlowExtractor>(
        &self,
        extractor: E,
        hist: Option<&mut Histogram<u64>>,
        reasm: bool,
    ) -> anyhow::Result<Pass> {
        if reasm {
            let r = self.engine_cfg.reassembly.clone();
            self.inline_with(extractor, hist, move || {
                crate::noop::sessions(&r, crate::noop::Parsers::All)
            })
        } else {
            self.inline_with(extractor, hist, || NoHook)
        }
    }

    fn inline_with<E: FlowExtractor, H: FlowHook<E::Key>>(
        &self,
        extractor: E,
        mut hist: Option<&mut Histogram<u64>>,
        make_hook: impl Fn() -> H,
    ) -> anyhow::Result<Pass> {
        let engine = Engine::with_hook(self.engine_cfg, extractor, make_hook())?;
        let mut runner = InlineRunner::new(engine, self.cfg.pipeline.epoch_packets);
        let (mut src, read_at, t0) = self.stamped(hist.is_some());
        let mut events = 0u64;
        let start = Instant::now();
        while let Some(Ok(p)) = src.next_packet() {
            runner.push(&p.raw);
            for ev in runner.events() {
                events += 1;
                if let Some(h) = hist.as_deref_mut() {
                    record(h, &read_at, t0, ev.seq);
                }
            }
        }
        runner.finish_each(|ev| {
            events += 1;
            if let Some(h) = hist.as_deref_mut() {
                record(h, &read_at, t0, ev.seq);
            }
            Ok::<_, std::convert::Infallible>(true)
        })?;
        let seconds = start.elapsed().as_secs_f64();
        let s = runner.engine().stats();
        Ok(Pass {
            seconds,
            packets: s.packets,
            bytes: s.bytes,
            events,
            imbalance: 1.0,
            ingest_busy: 1.0,
            pinned: false,
        })
    }

    fn sharded<E: FlowExtractor + Clone>(
        &self,
        extractor: E,
        setup: &Setup,
        mode: MergeMode,
        hist: Option<&mut Histogram<u64>>,
    ) -> anyhow::Result<Pass> {
        if setup.reasm {
            let r = self.engine_cfg.reassembly.clone();
            let make = move || crate::noop::sessions(&r, crate::noop::Parsers::All);
            self.sharded_with(extractor, setup, mode, hist, make)
        } else {
            self.sharded_with(extractor, setup, mode, hist, || NoHook)
        }
    }

    fn sharded_with<E: FlowExtractor + Clone, H: FlowHook<E::Key>>(
        &self,
        extractor: E,
        setup: &Setup,
        mode: MergeMode,
        mut hist: Option<&mut Histogram<u64>>,
        make_hook: impl Fn() -> H + Send + Sync + 'static,
    ) -> anyhow::Result<Pass> {
        let p = &self.cfg.pipeline;
        // The latency pass runs real shards.
        let noop = setup.noop && hist.is_none();
        let cfg = PipelineConfig {
            shards: Some(setup.shards),
            ingest_threads: setup.ingest_threads,
            pin: self.opts.pin.or(p.pin),
            epoch_packets: p.epoch_packets,
            batch_packets: p.batch_packets,
            queue_batches: p.queue_batches,
            noop_shards: noop,
            merger_thread: mode != MergeMode::Consumer,
            // Live input drops by default when a shard falls behind; a
            // benchmark measures lossless throughput.
            backpressure: Some(Backpressure::Block),
            ..PipelineConfig::default()
        };
        let (src, read_at, t0) = self.stamped(hist.is_some());
        let start = Instant::now();
        let mut pipeline = Pipeline::builder(self.engine_cfg.clone(), extractor)
            .config(cfg)
            .hook(make_hook)
            .build(src)?;
        let mut events = 0u64;
        let mut consume = |ev: flowscope_engine::Ordered<_>| {
            events += 1;
            if let Some(h) = hist.as_deref_mut() {
                record(h, &read_at, t0, ev.seq);
            }
            true
        };
        pipeline.consume(&mut consume);
        let report = pipeline.join()?;
        let seconds = start.elapsed().as_secs_f64();
        let packets = if noop {
            report.shards.iter().map(|s| s.packets).sum()
        } else {
            report.engine.packets
        };
        Ok(Pass {
            seconds,
            packets,
            bytes: report.ingest.bytes,
            events,
            imbalance: report.ingest.imbalance(),
            ingest_busy: report.ingest.busy.as_secs_f64() / seconds,
            pinned: report.pinned,
        })
    }
}

fn record(h: &mut Histogram<u64>, read_at: &[AtomicU64], t0: Instant, seq: u64) {
    if let Some(at) = read_at.get(seq as usize) {
        let now = t0.elapsed().as_nanos() as u64;
        let _ = h.record(now.saturating_sub(at.load(Ordering::Relaxed)).max(1));
    }
}

/// Prints the result as a table.
pub fn print(r: &PipelineResult) {
    println!(
        "pipeline: {} ({} packets, {:.1} MB on the wire{}), {} cores, best / median of {} passes",
        r.file,
        r.packets,
        r.wire_bytes as f64 / 1e6,
        if r.live {
            ", offered as live input"
        } else {
            ""
        },
        r.cores,
        r.repeats
    );
    println!(
        "  {:>6}  {:<14} {:>6} {:>9} {:>9} {:>8} {:>8} {:>8} {:>9} {:>6} {:>9} {:>9} {:>9}",
        "shards",
        "mode",
        "in.thr",
        "Mpps",
        "median",
        "ns/pkt",
        "x inline",
        "x 1 shd",
        "imbalance",
        "ingest",
        "p50 us",
        "p99 us",
        "p99.9 us"
    );
    let opt = |v: Option<f64>| v.map_or("-".to_owned(), |x| format!("{x:.2}"));
    for row in &r.rows {
        let lat = row.latency_us.as_ref();
        println!(
            "  {:>6}  {:<14} {:>6} {:>9.2} {:>9.2} {:>8.1} {:>8} {:>8} {:>9.3} {:>5.0}% {:>9} {:>9} {:>9}{}",
            row.shards,
            row.mode,
            row.ingest_threads,
            row.best_mpps,
            row.median_mpps,
            row.best_ns_per_packet,
            opt(row.vs_inline),
            opt(row.speedup_vs_1),
            row.imbalance,
            row.ingest_busy * 100.0,
            opt(lat.map(|l| l.p50)),
            opt(lat.map(|l| l.p99)),
            opt(lat.map(|l| l.p999)),
            if row.pinned { "  pinned" } else { "" }
        );
    }
}

/// The ingest threads `ingest_threads = t` gives `shards` shards (0:
/// chosen from the shard count), as the pipeline resolves it, so the
/// tables show what ran.
fn resolve(t: usize, shards: usize) -> usize {
    PipelineConfig {
        ingest_threads: t,
        ..Default::default()
    }
    .ingest_threads_for(shards)
}
