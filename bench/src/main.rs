//! flowscope-bench: benchmarks that measure the real code paths.
//!
//! `flowscope-bench engine FILE` measures the engine alone on one thread:
//! the capture is read into memory and its records indexed first, so the
//! timed loop is exactly decode + flow tracking (+ timers at epoch
//! boundaries) over every packet, as `InlineRunner` drives it in the CLI.
//!
//! `flowscope-bench pipeline FILE --shards 0,1,2` measures the sharded
//! pipeline per shard count (see [`pipeline`]).

mod noop;
mod pipeline;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use flowscope_engine::{
    Engine, EngineConfig, FlowEvent, FlowExtractor, FlowHook, KeyOptions, LinkType, NoHook,
    Ordered, RawPacket, Timestamp, with_extractor,
};
use flowscope_io::capture::PacketReader;
use flowscope_io::config::Config;
use flowscope_shards::Sequencer;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(name = "flowscope-bench", version, about = "flowscope benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Engine alone on one thread (decode + flow tracking) over a capture
    /// held in memory: Mpps, ns/packet, flow-table bytes per flow.
    Engine {
        /// pcap or pcapng file.
        file: PathBuf,
        /// Timed passes over the trace (a fresh engine each); the best and
        /// the median are reported.
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        /// TOML configuration (as for `flowscope replay --config`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Also measure the engine with TCP reassembly and a no-op parser
        /// on every TCP and UDP flow, in passes interleaved with the flow
        /// tracking ones, and report the ratio.
        #[arg(long)]
        reassembly: bool,
        /// With `--reassembly`: which flows get a no-op parser.
        #[arg(long, value_enum, default_value_t = noop::Parsers::All)]
        parsers: noop::Parsers,
        /// Also measure the full pipeline of one shard: reassembly, the
        /// built-in HTTP/DNS/TLS/QUIC parsers and EVE rendering of every
        /// record into a reused buffer (what `flowscope replay` does per
        /// shard, without the file and the output), and the same without
        /// the rendering, interleaved with the other passes.
        #[arg(long)]
        full: bool,
        /// Also print the result as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// The sharded pipeline (ingest thread, N shards, ordered merge, a
    /// consumer counting events) per shard count, against the inline
    /// engine (`0`): Mpps, speed-up, imbalance, ingest→event latency; and
    /// the ingest alone.
    Pipeline {
        /// pcap or pcapng file.
        file: PathBuf,
        /// Shard counts, comma-separated (0: one engine on the main
        /// thread). Default: 0 and 1 to the number of cores.
        #[arg(long, value_delimiter = ',')]
        shards: Vec<usize>,
        /// Timed passes per configuration (best and median reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Where the merge runs: its own thread, the consumer's, or both.
        #[arg(long, value_enum, default_value_t = pipeline::MergeMode::Thread)]
        merge: pipeline::MergeMode,
        /// Pin threads to cores (default: when there is a core for each).
        #[arg(long, overrides_with = "no_pin")]
        pin: bool,
        /// Do not pin.
        #[arg(long, overrides_with = "pin")]
        no_pin: bool,
        /// Also measure the ingest alone (read + key + dispatch into a
        /// shard that drops its batches).
        #[arg(long)]
        ingest_only: bool,
        /// Skip the latency passes.
        #[arg(long)]
        no_latency: bool,
        /// Also run every configuration with TCP reassembly and a no-op
        /// parser on every TCP and UDP flow (rows marked `+reasm`).
        #[arg(long)]
        reassembly: bool,
        /// TOML configuration (as for `flowscope replay --config`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Also print the result as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// One packet record, indexed before timing.
struct Record {
    offset: usize,
    len: usize,
    ts: Timestamp,
    linktype: LinkType,
    wire_len: u32,
}

#[derive(Debug, Serialize)]
struct EngineResult {
    mode: &'static str,
    file: String,
    packets: u64,
    wire_bytes: u64,
    repeats: usize,
    best_seconds: f64,
    median_seconds: f64,
    best_mpps: f64,
    median_mpps: f64,
    best_ns_per_packet: f64,
    best_gbit_per_s: f64,
    flows_created: u64,
    peak_flows: u64,
    flow_entry_bytes: usize,
    table_bytes_at_peak: usize,
    table_bytes_per_flow_at_peak: f64,
    events: u64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Engine {
            file,
            repeat,
            config,
            reassembly,
            parsers,
            full,
            json,
        } => {
            let cfg = load_config(config)?;
            let results = bench_engine(
                &file,
                repeat.max(1),
                &cfg,
                reassembly.then_some(parsers),
                full,
            )?;
            for r in &results {
                print_engine(r);
            }
            if let [plain, rest @ ..] = &results[..] {
                for other in rest {
                    println!(
                        "{} vs flow tracking alone: {:.3}x the time (best), {:.1} % slower; median {:.1} % slower",
                        other.mode,
                        other.best_seconds / plain.best_seconds,
                        (other.best_seconds / plain.best_seconds - 1.0) * 100.0,
                        (other.median_seconds / plain.median_seconds - 1.0) * 100.0,
                    );
                }
            }
            if json {
                println!("{}", serde_json::to_string(&results)?);
            }
        }
        Command::Pipeline {
            file,
            shards,
            repeat,
            merge,
            pin,
            no_pin,
            ingest_only,
            no_latency,
            reassembly,
            config,
            json,
        } => {
            let cfg = load_config(config)?;
            let shards = if shards.is_empty() {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                (0..=cores).collect()
            } else {
                shards
            };
            let opts = pipeline::PipelineBench {
                shards,
                repeat: repeat.max(1),
                merge,
                pin: match (pin, no_pin) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
                ingest_only,
                latency: !no_latency,
                reassembly,
            };
            let r = pipeline::run(&file, &cfg, &opts)?;
            pipeline::print(&r);
            if json {
                println!("{}", serde_json::to_string(&r)?);
            }
        }
    }
    Ok(())
}

fn load_config(path: Option<PathBuf>) -> anyhow::Result<Config> {
    Ok(match path {
        Some(p) => Config::load(&p)?,
        None => Config::default(),
    })
}

fn bench_engine(
    path: &PathBuf,
    repeat: usize,
    cfg: &Config,
    reassembly: Option<noop::Parsers>,
    full: bool,
) -> anyhow::Result<Vec<EngineResult>> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut records = Vec::new();
    let mut reader = PacketReader::new(&data).with_context(|| path.display().to_string())?;
    let base = data.as_ptr() as usize;
    while let Some(p) = reader.next_packet() {
        let p = p.with_context(|| path.display().to_string())?;
        records.push(Record {
            offset: p.data.as_ptr() as usize - base,
            len: p.data.len(),
            ts: p.ts,
            linktype: p.linktype,
            wire_len: p.wire_len,
        });
    }
    if records.is_empty() {
        bail!("{} holds no packets", path.display());
    }
    let engine_cfg = cfg.engine();
    let keys = KeyOptions::from_config(&engine_cfg);
    let epoch = cfg.pipeline.epoch_packets;
    let mut modes: Vec<&'static str> = vec!["flow tracking"];
    if reassembly.is_some() {
        modes.push("reassembly + no-op parsers");
    }
    if full {
        modes.push(PARSERS);
        modes.push(FULL);
    }
    let renderer = flowscope_io::eve::EveRenderer::new(cfg.output.clone());
    // Round-robin: pass r of each mode before pass r + 1 of any, so a noisy
    // minute on a shared machine hits both alike.
    let mut runs: Vec<Vec<f64>> = modes.iter().map(|_| Vec::new()).collect();
    let mut last: Vec<Option<Pass>> = modes.iter().map(|_| None).collect();
    for _ in 0..repeat {
        for (m, &mode) in modes.iter().enumerate() {
            let run = with_extractor!(engine_cfg.flow.key, keys.clone(), |x| {
                if mode == "flow tracking" {
                    timed_pass(&data, &records, &engine_cfg, x, epoch, || NoHook, |_| {})
                } else if mode == FULL || mode == PARSERS {
                    let r = engine_cfg.reassembly.clone();
                    let p = cfg.parsers.clone();
                    let render = mode == FULL;
                    // Rendered into one reused buffer, as a shard renders
                    // into the batches it hands the merger.
                    let mut line = Vec::with_capacity(64 * 1024);
                    timed_pass(
                        &data,
                        &records,
                        &engine_cfg,
                        x,
                        epoch,
                        move || flowscope_engine::parsers::builtin(&r, &p),
                        |events| {
                            if render {
                                for ev in events {
                                    renderer.render(ev, &mut line);
                                }
                            }
                            std::hint::black_box((&line, events));
                            line.clear();
                        },
                    )
                } else {
                    let r = engine_cfg.reassembly.clone();
                    let which = reassembly.unwrap_or(noop::Parsers::All);
                    timed_pass(
                        &data,
                        &records,
                        &engine_cfg,
                        x,
                        epoch,
                        move || noop::sessions(&r, which),
                        |_| {},
                    )
                }
            })?;
            runs[m].push(run.seconds);
            last[m] = Some(run);
        }
    }
    let packets = records.len() as u64;
    let wire_bytes: u64 = records.iter().map(|r| u64::from(r.wire_len)).sum();
    let mut results = Vec::new();
    for (m, &mode) in modes.iter().enumerate() {
        let Some(last) = last[m].take() else {
            bail!("no run")
        };
        let runs = &mut runs[m];
        runs.sort_by(f64::total_cmp);
        let best = runs[0];
        let median = runs[runs.len() / 2];
        results.push(EngineResult {
            mode,
            file: path.display().to_string(),
            packets,
            wire_bytes,
            repeats: repeat,
            best_seconds: best,
            median_seconds: median,
            best_mpps: packets as f64 / best / 1e6,
            median_mpps: packets as f64 / median / 1e6,
            best_ns_per_packet: best * 1e9 / packets as f64,
            best_gbit_per_s: wire_bytes as f64 * 8.0 / best / 1e9,
            flows_created: last.flows_created,
            peak_flows: last.peak_entries,
            flow_entry_bytes: last.entry_size,
            table_bytes_at_peak: last.peak_table_bytes,
            table_bytes_per_flow_at_peak: last.peak_table_bytes as f64
                / last.peak_entries.max(1) as f64,
            events: last.events,
        });
    }
    Ok(results)
}

/// How many packets ahead the timed loop prefetches.
const PREFETCH_AHEAD: usize = 8;

struct Pass {
    seconds: f64,
    flows_created: u64,
    peak_entries: u64,
    peak_table_bytes: usize,
    entry_size: usize,
    events: u64,
}

/// The full-pipeline mode's name.
const FULL: &str = "reassembly + built-in parsers + EVE rendering";
/// The same without rendering: the difference is what rendering costs.
const PARSERS: &str = "reassembly + built-in parsers";

fn timed_pass<E: FlowExtractor, H: FlowHook<E::Key>>(
    data: &[u8],
    records: &[Record],
    cfg: &EngineConfig,
    extractor: E,
    epoch: u64,
    make_hook: impl Fn() -> H,
    mut consume: impl FnMut(&[Ordered<FlowEvent<E::Key, H::Message>>]),
) -> anyhow::Result<Pass> {
    let mut engine = Engine::with_hook(cfg, extractor, make_hook())?;
    let mut seq = Sequencer::new(epoch);
    let mut out = Vec::with_capacity(1024);
    let mut events = 0u64;
    let (mut peak_entries, mut peak_bytes) = (0u64, 0usize);
    let start = Instant::now();
    for (i, r) in records.iter().enumerate() {
        // A real driver reads the next records' headers ahead; so does this
        // one (io's file reader does the same).
        if let Some(ahead) = records.get(i + PREFETCH_AHEAD) {
            flowscope_io::capture::prefetch(&data[ahead.offset..]);
        }
        let raw = RawPacket {
            ts: r.ts,
            linktype: r.linktype,
            wire_len: r.wire_len,
            data: &data[r.offset..r.offset + r.len],
        };
        let stamp = seq.stamp(raw.ts);
        engine.process(stamp.seq, stamp.now, &raw, &mut out);
        if let Some(b) = seq.close_epoch_if_due() {
            engine.advance(b.now, b.seq, &mut out);
            // Memory is sampled at epoch boundaries, off the per-packet path.
            let entries = engine.table_len() as u64;
            if entries > peak_entries {
                peak_entries = entries;
                peak_bytes = engine.table_bytes();
            }
        }
        if !out.is_empty() {
            consume(&out);
            events += out.len() as u64;
            out.clear();
        }
    }
    engine.finish(seq.clock(), seq.last_seq().unwrap_or(0), &mut out);
    consume(&out);
    events += out.len() as u64;
    let seconds = start.elapsed().as_secs_f64();
    let entries = engine.table_len() as u64;
    if entries > peak_entries {
        peak_entries = entries;
        peak_bytes = engine.table_bytes();
    }
    Ok(Pass {
        seconds,
        flows_created: engine.stats().flows_created,
        peak_entries,
        peak_table_bytes: peak_bytes,
        entry_size: Engine::<E, H>::entry_size(),
        events,
    })
}

fn print_engine(r: &EngineResult) {
    if r.mode == FULL || r.mode == PARSERS {
        println!(
            "one shard's work on one thread: decode + flow tracking + {}",
            r.mode
        );
    } else {
        println!(
            "engine alone, one thread: decode + {} + timers (no output rendering)",
            r.mode
        );
    }
    println!("  trace            {}", r.file);
    println!(
        "  packets          {} ({:.1} MB on the wire)",
        r.packets,
        r.wire_bytes as f64 / 1e6
    );
    println!("  passes           {} (best / median)", r.repeats);
    println!(
        "  time             {:.3} s / {:.3} s",
        r.best_seconds, r.median_seconds
    );
    println!(
        "  throughput       {:.2} Mpps / {:.2} Mpps ({:.2} Gbit/s best)",
        r.best_mpps, r.median_mpps, r.best_gbit_per_s
    );
    println!("  per packet       {:.1} ns (best)", r.best_ns_per_packet);
    println!(
        "  flows            {} created, {} held at peak",
        r.flows_created, r.peak_flows
    );
    println!(
        "  table memory     {} B per entry; {:.1} MB at peak = {:.0} B per held flow (slab + hash index)",
        r.flow_entry_bytes,
        r.table_bytes_at_peak as f64 / 1e6,
        r.table_bytes_per_flow_at_peak
    );
    println!("  events           {}", r.events);
}
