//! `flowscope-bench run`: a trace through exactly what `flowscope replay`
//! runs ([`flowscope_cli::replay::replay`]: the sharded pipeline, the
//! built-in parsers and EVE rendering, output counted and discarded), per
//! shard count, flat out and then paced at given rates, with throughput,
//! memory and latency percentiles per run.
//!
//! The trace is read once before timing so every pass finds it in the page
//! cache. Peak RSS is the kernel's high-water mark, reset before each pass
//! (`/proc/self/clear_refs`), so each pass's figure is its own; it counts
//! the mapped trace too, so bytes per flow come from the anonymous memory
//! (heap) instead, sampled every few milliseconds during the pass.

use anyhow::{Context as _, bail};
use flowscope_cli::config::Config;
use flowscope_cli::input::Input;
use flowscope_cli::replay::{ReplayOptions, replay};
use flowscope_cli::summary::Summary;
use flowscope_shards::{LatencyReport, Pace, Percentiles, PipelineReport};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An offered load for a paced pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Load {
    /// Packets per second.
    Rate(f64),
    /// This fraction of the same shard count's flat-out rate.
    OfMax(f64),
    /// The capture's own timing, this many times faster.
    Speed(f64),
}

impl Load {
    /// `50%`, or a rate (`2Mpps`, `500kpps`, `100000`).
    pub fn parse(s: &str) -> Result<Load, String> {
        if let Some(p) = s.trim().strip_suffix('%') {
            return match p.trim().parse::<f64>() {
                Ok(x) if x > 0.0 && x.is_finite() => Ok(Load::OfMax(x / 100.0)),
                _ => Err(format!("`{s}` is not a percentage")),
            };
        }
        flowscope_cli::rate::parse_rate(s).map(Load::Rate)
    }
}

/// What to run.
#[derive(Debug)]
pub struct RunOptions {
    pub file: PathBuf,
    pub shards: Vec<usize>,
    pub repeat: usize,
    pub no_parsers: bool,
    pub loads: Vec<Load>,
    pub latency_sample: u32,
    pub max_late: Duration,
    pub pin: Option<bool>,
    pub config: Config,
    /// The configuration file (passed on to isolated passes).
    pub config_path: Option<PathBuf>,
    /// Run every pass in a fresh process (`flowscope-bench run-pass`), so
    /// its memory figures are its own (an allocator keeps what earlier
    /// passes freed).
    pub isolate: bool,
}

/// Percentiles of every stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LatencyRow {
    pub sample_every: u32,
    pub ingest_to_event: Percentiles,
    pub ingest: Percentiles,
    pub queue: Percentiles,
    pub shard: Percentiles,
    pub merge: Percentiles,
    pub lost: u64,
    /// Each stage's whole percentile distribution (for `--report`).
    #[serde(default)]
    pub distributions: Vec<crate::hgrm::Distribution>,
}

impl LatencyRow {
    fn of(l: &LatencyReport) -> Self {
        LatencyRow {
            sample_every: l.sample_every,
            ingest_to_event: Percentiles::of(&l.total),
            ingest: Percentiles::of(&l.ingest),
            queue: Percentiles::of(&l.queue),
            shard: Percentiles::of(&l.shard),
            merge: Percentiles::of(&l.merge),
            lost: l.lost,
            distributions: l
                .stages()
                .iter()
                .filter_map(|(stage, h)| crate::hgrm::Distribution::of(stage, h))
                .collect(),
        }
    }
}

/// Where a sharded pass spent its threads' time: each thread's busy time
/// (working, not waiting for input or blocked on a full queue) as a share
/// of the pass's wall time.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct BusyRow {
    /// The ingest: reading, keying, dispatching.
    pub ingest: f64,
    /// The ingest, blocked on full shard queues.
    pub ingest_blocked: f64,
    /// The shards: mean and busiest.
    pub shard_mean: f64,
    pub shard_max: f64,
    /// The merger.
    pub merger: f64,
}

impl BusyRow {
    fn of(p: &PipelineReport<()>, secs: f64) -> Self {
        let share = |d: Duration| d.as_secs_f64() / secs;
        let shards: Vec<f64> = p.shards.iter().map(|r| share(r.busy)).collect();
        BusyRow {
            ingest: share(p.ingest.busy),
            ingest_blocked: share(p.ingest.blocked),
            shard_mean: shards.iter().sum::<f64>() / shards.len().max(1) as f64,
            shard_max: shards.iter().copied().fold(0.0, f64::max),
            merger: share(p.merger.busy),
        }
    }
}

/// One measured run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRow {
    pub shards: usize,
    /// `max` (flat out, best of the passes) or the offered load.
    pub load: String,
    /// Offered rate of a paced pass, Mpps.
    pub offered_mpps: Option<f64>,
    pub packets: u64,
    pub wire_bytes: u64,
    pub wall_s: f64,
    pub mpps: f64,
    pub gbit_per_s: f64,
    /// Flat-out Mpps over the 1-shard flat-out Mpps.
    pub speedup_vs_1: Option<f64>,
    /// Max shard packets over mean shard packets.
    pub imbalance: f64,
    /// EVE records written.
    pub events: u64,
    pub events_per_s: f64,
    /// Peak resident set (the mapped trace included).
    pub peak_rss_mb: f64,
    /// Peak anonymous (heap) memory, sampled.
    pub peak_heap_mb: f64,
    /// Flows held at once at most (all shards).
    pub peak_flows: u64,
    /// Heap growth during the pass over peak flows held (everything:
    /// tables, parser and reassembly state, events in flight).
    pub heap_bytes_per_flow: Option<f64>,
    /// Flow-table bytes over flows held, at the peak (the hot per-flow
    /// state; sharded runs).
    pub table_bytes_per_flow: Option<f64>,
    /// Paced passes: packets lost because the ingest was too late for them
    /// and because a shard's queue was full.
    pub dropped_late: u64,
    pub dropped_queue: u64,
    /// Flows ended by eviction (a table cap was reached).
    pub evicted: u64,
    pub latency: Option<LatencyRow>,
    /// Sharded passes: each thread's busy share of the wall time.
    #[serde(default)]
    pub busy: Option<BusyRow>,
}

/// Everything `run` measured.
#[derive(Debug, Serialize)]
pub struct RunResult {
    pub file: String,
    pub packets: u64,
    pub cores: usize,
    pub cpu: String,
    pub parsers: bool,
    pub repeat: usize,
    pub rows: Vec<RunRow>,
}

/// Runs the benchmark.
pub fn run(opts: &RunOptions) -> anyhow::Result<RunResult> {
    // Into the page cache before anything is timed (through a small
    // buffer: a whole-file read would stay in the heap figures).
    {
        use std::io::Read as _;
        let mut f = std::fs::File::open(&opts.file)
            .with_context(|| format!("opening {}", opts.file.display()))?;
        let mut buf = vec![0u8; 1 << 20];
        while f
            .read(&mut buf)
            .with_context(|| format!("reading {}", opts.file.display()))?
            > 0
        {}
    }
    if opts.shards.is_empty() {
        bail!("no shard counts given");
    }
    let mut rows = Vec::new();
    let mut one_shard: Option<f64> = None;
    let mut packets = 0;
    for &n in &opts.shards {
        let mut passes = Vec::new();
        for _ in 0..opts.repeat.max(1) {
            passes.push(pass(opts, n, None)?);
        }
        passes.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
        let mut row = passes.swap_remove(0);
        row.load = "max".into();
        packets = row.packets;
        if n == 1 {
            one_shard = Some(row.mpps);
        }
        row.speedup_vs_1 = one_shard.map(|b| row.mpps / b);
        let max_pps = row.mpps * 1e6;
        rows.push(row);
        for &load in &opts.loads {
            let (pace, label, offered) = match load {
                Load::Rate(pps) => (Pace::Rate(pps), format!("{:.3} Mpps", pps / 1e6), Some(pps)),
                Load::OfMax(f) => {
                    let pps = max_pps * f;
                    (
                        Pace::Rate(pps),
                        format!("{:.0}% = {:.3} Mpps", f * 100.0, pps / 1e6),
                        Some(pps),
                    )
                }
                Load::Speed(x) => (Pace::Speed(x), format!("speed {x}"), None),
            };
            let mut row = pass(opts, n, Some(pace))?;
            row.load = label;
            row.offered_mpps = offered.map(|p| p / 1e6);
            rows.push(row);
        }
    }
    Ok(RunResult {
        file: opts.file.display().to_string(),
        packets,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu: cpu_model(),
        parsers: !opts.no_parsers,
        repeat: opts.repeat,
        rows,
    })
}

/// One replay, in a fresh process when isolated.
fn pass(opts: &RunOptions, shards: usize, pace: Option<Pace>) -> anyhow::Result<RunRow> {
    if !opts.isolate {
        return pass_here(opts, shards, pace);
    }
    let exe = std::env::current_exe().context("locating flowscope-bench")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("run-pass")
        .arg(&opts.file)
        .arg("--shards")
        .arg(shards.to_string())
        .arg("--latency-sample")
        .arg(opts.latency_sample.to_string())
        .arg("--max-late-ms")
        .arg((opts.max_late.as_secs_f64() * 1e3).to_string());
    match pace {
        Some(Pace::Rate(pps)) => cmd.arg("--pace").arg(format!("rate:{pps}")),
        Some(Pace::Speed(x)) => cmd.arg("--pace").arg(format!("speed:{x}")),
        None => &mut cmd,
    };
    if opts.no_parsers {
        cmd.arg("--no-parsers");
    }
    match opts.pin {
        Some(true) => cmd.arg("--pin"),
        Some(false) => cmd.arg("--no-pin"),
        None => &mut cmd,
    };
    if let Some(c) = &opts.config_path {
        cmd.arg("--config").arg(c);
    }
    let out = cmd.output().context("starting a benchmark pass")?;
    if !out.status.success() {
        bail!(
            "benchmark pass ({shards} shards) failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).context("reading a benchmark pass's result")
}

/// `--pace rate:PPS` or `speed:X` (how `run` hands a pace to a pass).
pub fn parse_pace(s: &str) -> Result<Pace, String> {
    let num = |v: &str| match v.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("`{s}`: not a positive number")),
    };
    match s.split_once(':') {
        Some(("rate", v)) => num(v).map(Pace::Rate),
        Some(("speed", v)) => num(v).map(Pace::Speed),
        _ => Err(format!("`{s}`: expected rate:PPS or speed:X")),
    }
}

/// One replay in this process.
pub fn pass_here(opts: &RunOptions, shards: usize, pace: Option<Pace>) -> anyhow::Result<RunRow> {
    let watch = RssWatch::start();
    let mut ro = ReplayOptions::new(vec![Input::File(opts.file.clone())], opts.config.clone());
    ro.run.shards = Some(shards);
    ro.run.pin = opts.pin;
    ro.run.no_parsers = opts.no_parsers;
    ro.run.latency_sample = opts.latency_sample;
    ro.pace = pace.map(|p| (p, opts.max_late));
    // Rendered, then thrown away (records are counted by the replay).
    let s = replay(&ro, std::io::sink())?;
    if let Some(d) = s.damaged.first() {
        bail!("{d}");
    }
    if let Some((k, why)) = &s.shard_failure {
        bail!("shard {k} failed: {why}");
    }
    Ok(row_of(shards, &s, watch.finish()))
}

fn row_of(shards: usize, s: &Summary, rss: Rss) -> RunRow {
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    let peak_flows = match &s.pipeline {
        Some(p) => p.shards.iter().map(|r| r.peak_flows).sum(),
        None => s.stats.peak_flows,
    };
    let grown = rss.peak_anon.saturating_sub(rss.anon_before);
    RunRow {
        shards,
        load: String::new(),
        offered_mpps: None,
        packets: s.stats.packets,
        wire_bytes: s.stats.bytes,
        wall_s: secs,
        mpps: s.stats.packets as f64 / secs / 1e6,
        gbit_per_s: s.stats.bytes as f64 * 8.0 / secs / 1e9,
        speedup_vs_1: None,
        imbalance: s.pipeline.as_ref().map_or(1.0, |p| p.ingest.imbalance()),
        events: s.records,
        events_per_s: s.records as f64 / secs,
        peak_rss_mb: rss.peak as f64 / 1e6,
        peak_heap_mb: rss.peak_anon as f64 / 1e6,
        peak_flows,
        heap_bytes_per_flow: (peak_flows > 0).then(|| grown as f64 / peak_flows as f64),
        table_bytes_per_flow: s.pipeline.as_ref().and_then(|p| {
            let bytes: u64 = p.shards.iter().map(|r| r.peak_table_bytes).sum();
            (peak_flows > 0 && bytes > 0).then(|| bytes as f64 / peak_flows as f64)
        }),
        dropped_late: s.paced.map_or(0, |(_, late)| late),
        dropped_queue: s.queue_dropped,
        evicted: s.stats.flows_ended[flowscope_engine::EndReason::Evicted.index()],
        latency: s.latency.as_ref().map(LatencyRow::of),
        busy: s.pipeline.as_ref().map(|p| BusyRow::of(p, secs)),
    }
}

/// Memory figures of this process over one pass (bytes).
#[derive(Debug, Clone, Copy)]
struct Rss {
    peak: u64,
    anon_before: u64,
    peak_anon: u64,
}

/// Watches this process's memory during a pass.
struct RssWatch {
    anon_before: u64,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    sampler: std::thread::JoinHandle<u64>,
}

impl RssWatch {
    /// Resets the high-water mark and starts sampling anonymous memory.
    fn start() -> RssWatch {
        use std::sync::atomic::Ordering;
        // "5" resets VmHWM (Linux 4.0+); without it the peak is the
        // process's so far, which only overstates.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let anon_before = status_kb("RssAnon").unwrap_or(0) * 1024;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let sampler = std::thread::spawn(move || {
            let mut peak = anon_before;
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(status_kb("RssAnon").unwrap_or(0) * 1024);
                std::thread::sleep(Duration::from_millis(5));
            }
            peak.max(status_kb("RssAnon").unwrap_or(0) * 1024)
        });
        RssWatch {
            anon_before,
            stop,
            sampler,
        }
    }

    fn finish(self) -> Rss {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let peak_anon = self.sampler.join().unwrap_or(0);
        Rss {
            peak: status_kb("VmHWM").unwrap_or(0) * 1024,
            anon_before: self.anon_before,
            peak_anon,
        }
    }
}

/// A `kB` field of /proc/self/status.
pub fn status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Prints the result as tables.
pub fn print(r: &RunResult, path: &Path) -> std::io::Result<()> {
    let mut o = std::io::stdout().lock();
    writeln!(
        o,
        "flowscope-bench run: {} ({} packets), {}; {} cores ({}); best of {} flat-out passes",
        path.display(),
        r.packets,
        if r.parsers {
            "full pipeline (reassembly, parsers, EVE rendering)"
        } else {
            "flow tracking only (--no-parsers)"
        },
        r.cores,
        r.cpu,
        r.repeat
    )?;
    writeln!(
        o,
        "{:>6}  {:<22} {:>9} {:>8} {:>7} {:>7} {:>7} {:>6} {:>10} {:>8} {:>8} {:>10} {:>7} {:>9} {:>9}",
        "shards",
        "load",
        "packets",
        "wall s",
        "Mpps",
        "Gbit/s",
        "speedup",
        "imbal",
        "events/s",
        "RSS MB",
        "heap MB",
        "peak flows",
        "B/flow",
        "table B/f",
        "dropped"
    )?;
    for row in &r.rows {
        writeln!(
            o,
            "{:>6}  {:<22} {:>9} {:>8.3} {:>7.3} {:>7.2} {:>7} {:>6.3} {:>10.0} {:>8.1} {:>8.1} {:>10} {:>7} {:>9} {:>9}",
            row.shards,
            row.load,
            row.packets,
            row.wall_s,
            row.mpps,
            row.gbit_per_s,
            row.speedup_vs_1.map_or("-".into(), |x| format!("{x:.2}×")),
            row.imbalance,
            row.events_per_s,
            row.peak_rss_mb,
            row.peak_heap_mb,
            row.peak_flows,
            row.heap_bytes_per_flow
                .map_or("-".into(), |b| format!("{b:.0}")),
            row.table_bytes_per_flow
                .map_or("-".into(), |b| format!("{b:.0}")),
            row.dropped_late + row.dropped_queue,
        )?;
    }
    if r.rows.iter().any(|row| row.busy.is_some()) {
        writeln!(o)?;
        writeln!(
            o,
            "busy, % of wall time (working, not waiting; ingest also blocked on full shard queues)"
        )?;
        writeln!(
            o,
            "{:>6}  {:<22} {:>7} {:>8} {:>11} {:>10} {:>7}",
            "shards", "load", "ingest", "blocked", "shard mean", "shard max", "merger"
        )?;
        for row in &r.rows {
            let Some(b) = &row.busy else { continue };
            writeln!(
                o,
                "{:>6}  {:<22} {:>7.1} {:>8.1} {:>11.1} {:>10.1} {:>7.1}",
                row.shards,
                row.load,
                b.ingest * 100.0,
                b.ingest_blocked * 100.0,
                b.shard_mean * 100.0,
                b.shard_max * 100.0,
                b.merger * 100.0
            )?;
        }
    }
    if r.rows.iter().any(|row| row.latency.is_some()) {
        writeln!(o)?;
        writeln!(
            o,
            "latency, µs (ingest→event: a packet's read to its event leaving the merge; stages per sampled packet)"
        )?;
        writeln!(
            o,
            "{:>6}  {:<22} {:<14} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "shards", "load", "stage", "count", "p50", "p90", "p99", "p99.9", "max"
        )?;
        for row in &r.rows {
            let Some(l) = &row.latency else { continue };
            for (stage, p) in [
                ("ingest→event", &l.ingest_to_event),
                ("  ingest", &l.ingest),
                ("  queue", &l.queue),
                ("  shard", &l.shard),
                ("  merge", &l.merge),
            ] {
                if p.count == 0 {
                    continue;
                }
                writeln!(
                    o,
                    "{:>6}  {:<22} {:<14} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
                    row.shards, row.load, stage, p.count, p.p50, p.p90, p.p99, p.p999, p.max
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_parse() {
        assert_eq!(Load::parse("50%"), Ok(Load::OfMax(0.5)));
        assert_eq!(Load::parse("2Mpps"), Ok(Load::Rate(2e6)));
        assert!(Load::parse("x%").is_err());
        assert!(Load::parse("0%").is_err());
    }

    #[test]
    fn status_fields_read() {
        assert!(status_kb("VmRSS").is_some_and(|kb| kb > 0));
        assert!(status_kb("NoSuchField").is_none());
    }
}
