//! flowscope-bench: benchmarks that measure the real code paths.
//!
//! `flowscope-bench engine FILE` measures the engine alone on one thread,
//! and with `--full` one shard's whole work (see `engine`).
//!
//! `flowscope-bench pipeline FILE --shards 0,1,2` measures the sharded
//! pipeline per shard count (see [`pipeline`]).
//!
//! `flowscope-bench gen -o FILE` writes a synthetic trace (see `flowscope_bench::traffic`).
//!
//! `flowscope-bench run FILE --shards 1,2 --rate 50%,90%` runs what
//! `flowscope replay` runs, flat out and paced, with latency percentiles
//! (see `flowscope_bench::run`).

mod engine;
mod noop;
mod pipeline;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};
use flowscope_bench::{report, run, traffic};
use flowscope_cli::config::Config;
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
    /// Writes a deterministic synthetic trace: HTTP/1.1, TLS 1.2/1.3, DNS
    /// (UDP and TCP), bulk TCP and UDP noise over IPv4/IPv6, optionally in
    /// VLAN/VXLAN/GTP-U, with heavy-tailed sizes, loss, reordering,
    /// retransmission, a concurrency target and a SYN flood.
    Gen(GenArgs),
    /// A trace through exactly what `flowscope replay` runs (pipeline,
    /// parsers, EVE rendering; output discarded) per shard count: flat out
    /// (best of --repeat) and then paced at each --rate; Mpps, Gbit/s,
    /// speed-up, imbalance, events/s, peak RSS, bytes per flow, drops, and
    /// latency percentiles (ingest→event and per stage).
    Run {
        /// pcap or pcapng file.
        file: PathBuf,
        /// Shard counts, comma-separated (0: one engine on the main thread).
        #[arg(long, value_delimiter = ',', default_value = "1,2")]
        shards: Vec<usize>,
        /// Flat-out passes per shard count (the fastest is reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Paced passes after the flat-out ones: rates (2Mpps, 500kpps,
        /// 100000) or percentages of that shard count's flat-out rate
        /// (50%), comma-separated.
        #[arg(long, value_delimiter = ',', value_parser = run::Load::parse)]
        rate: Vec<run::Load>,
        /// A paced pass with the capture's own timing, X times faster.
        #[arg(long, value_name = "X")]
        speed: Option<f64>,
        #[command(flatten)]
        pass: PassArgs,
        /// Also write the result as JSON to this file (`-`: stdout).
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Also write an HTML page with the result's charts (latency
        /// percentile distributions, throughput and speed-up, drops) into
        /// this directory, with every latency histogram as `.hgrm` text.
        #[arg(long, value_name = "DIR")]
        report: Option<PathBuf>,
        /// Run the passes in this process (default: each in a fresh one, so
        /// its memory figures are its own).
        #[arg(long)]
        in_process: bool,
    },
    /// One pass of `run`, printed as JSON (what `run` starts per pass).
    #[command(hide = true)]
    RunPass {
        file: PathBuf,
        #[arg(long)]
        shards: usize,
        #[arg(long, value_parser = run::parse_pace)]
        pace: Option<flowscope_shards::Pace>,
        #[command(flatten)]
        pass: PassArgs,
    },
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
        /// shard, without the file and the output), the same without the
        /// rendering, and the rendering alone (of events an untimed pass
        /// collected), interleaved with the other passes.
        #[arg(long)]
        full: bool,
        /// Only one shard's full work (the `--full` mode with rendering),
        /// no other mode: the steadiest figure for comparing two builds.
        #[arg(long, conflicts_with_all = ["full", "reassembly"])]
        full_only: bool,
        /// Packets whose events are gathered before they are handed on
        /// (rendered, in the full mode). The default is the pipeline's
        /// `batch_packets` (256), as a shard renders a batch's events after
        /// its packets; `1` hands them on after each packet.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65_536))]
        events_every: Option<u32>,
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
        /// Ingest thread counts, comma-separated (1: one ingest thread;
        /// N: the ingest thread and a keying pool of N - 1); every sharded
        /// and ingest-only configuration runs with each, passes
        /// interleaved. Default: `[pipeline] ingest_threads` (0: one per
        /// two shards, 1 to 4).
        #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u16).range(0..=64))]
        ingest_threads: Vec<u16>,
        /// Offer the trace as live input: each packet copied out of a
        /// buffer reused at the next read (as libpcap hands them out),
        /// epochs closed by wall time, shard queues waited on (no drops).
        #[arg(long)]
        live: bool,
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

/// Options of every `run` pass.
#[derive(Debug, clap::Args)]
struct PassArgs {
    /// Paced passes: packets reached more than this many ms late are
    /// lost (a capture ring's depth).
    #[arg(long, value_name = "MS", default_value_t = 10.0)]
    max_late_ms: f64,
    /// Sample about one packet in N for the latency histograms (0: no
    /// latency recording).
    #[arg(long, value_name = "N", default_value_t = 16)]
    latency_sample: u32,
    /// Flow tracking only (`flowscope replay --no-parsers`).
    #[arg(long)]
    no_parsers: bool,
    /// Pin threads to cores (default: when there is a core for each).
    #[arg(long, overrides_with = "no_pin")]
    pin: bool,
    /// Do not pin.
    #[arg(long, overrides_with = "pin")]
    no_pin: bool,
    /// TOML configuration (as for `flowscope replay --config`).
    #[arg(long)]
    config: Option<PathBuf>,
}

impl PassArgs {
    /// The run options these give, for `file` and `shards`.
    fn options(self, file: PathBuf, shards: Vec<usize>) -> anyhow::Result<run::RunOptions> {
        Ok(run::RunOptions {
            file,
            shards,
            repeat: 1,
            no_parsers: self.no_parsers,
            loads: Vec::new(),
            latency_sample: self.latency_sample,
            max_late: std::time::Duration::from_secs_f64(self.max_late_ms.max(0.0) / 1e3),
            pin: pin_choice(self.pin, self.no_pin),
            config: load_config(self.config.clone())?,
            config_path: self.config,
            isolate: false,
        })
    }
}

/// `flowscope-bench gen`'s options.
#[derive(Debug, Args)]
struct GenArgs {
    /// Output file.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Flows (not counting the SYN flood): 100k, 10M...
    #[arg(long, value_parser = traffic::parse_count, default_value = "100k")]
    flows: u64,
    /// New flows per second of capture time (sets the trace's length):
    /// 20k, 1M...
    #[arg(long, value_parser = traffic::parse_count, default_value = "20k")]
    flow_rate: u64,
    /// Keep about this many flows open at once: each flow's life is
    /// stretched to about N / flow-rate seconds (an idle pause before
    /// its end).
    #[arg(long, value_parser = traffic::parse_count)]
    concurrent: Option<u64>,
    /// Relative weights of the flow kinds.
    #[arg(long, value_parser = traffic::parse_mix, default_value = "http=30,tls=30,dns=15,dns-tcp=2,bulk=8,udp=15")]
    mix: [f64; 6],
    /// Fraction of flows over IPv6.
    #[arg(long, default_value_t = 0.2)]
    ipv6: f64,
    /// Fraction of flows in an 802.1Q VLAN.
    #[arg(long, default_value_t = 0.1)]
    vlan: f64,
    /// Fraction of flows inside VXLAN (UDP 4789).
    #[arg(long, default_value_t = 0.03)]
    vxlan: f64,
    /// Fraction of flows inside GTP-U (UDP 2152).
    #[arg(long, default_value_t = 0.03)]
    gtpu: f64,
    /// Probability that the capture misses a packet.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Probability that a packet is delayed past its successors.
    #[arg(long, default_value_t = 0.0)]
    reorder: f64,
    /// Probability that a TCP data segment is sent again later.
    #[arg(long, default_value_t = 0.0)]
    retrans: f64,
    /// TCP maximum segment size.
    #[arg(long, default_value_t = 1460, value_parser = clap::value_parser!(u16).range(64..=9000))]
    mss: u16,
    /// Largest HTTP object / TLS response (heavy-tail cap).
    #[arg(long, value_parser = traffic::parse_size, default_value = "8MB")]
    max_object: f64,
    /// Largest bulk transfer (heavy-tail cap).
    #[arg(long, value_parser = traffic::parse_size, default_value = "64MB")]
    max_bulk: f64,
    /// Add this many one-packet SYN flows (spoofed sources, one target),
    /// spread over the trace.
    #[arg(long, value_parser = traffic::parse_count, default_value = "0")]
    syn_flood: u64,
    /// Random seed: the same parameters and seed give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = traffic::render::Format::Pcap)]
    format: traffic::render::Format,
    /// Also write what the trace holds (flows by kind, HTTP requests,
    /// DNS queries, TLS handshakes...) as JSON to this file.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
}

impl GenArgs {
    /// The generator's parameters, once the options are checked.
    fn params(&self) -> anyhow::Result<traffic::plan::Params> {
        for (name, x) in [
            ("--ipv6", self.ipv6),
            ("--vlan", self.vlan),
            ("--vxlan", self.vxlan),
            ("--gtpu", self.gtpu),
            ("--loss", self.loss),
            ("--reorder", self.reorder),
            ("--retrans", self.retrans),
        ] {
            if !(0.0..=1.0).contains(&x) {
                bail!("{name} is a fraction between 0 and 1, not {x}");
            }
        }
        if self.vlan + self.vxlan + self.gtpu > 1.0 {
            bail!("--vlan + --vxlan + --gtpu exceed 1");
        }
        if self.flow_rate == 0 {
            bail!("--flow-rate must be positive");
        }
        if self.max_bulk >= 4e9 || self.max_object >= 4e9 {
            bail!("--max-object and --max-bulk must be under 4 GB");
        }
        Ok(traffic::plan::Params {
            seed: self.seed,
            flows: self.flows,
            syn_flood: self.syn_flood,
            flow_rate: self.flow_rate as f64,
            concurrent: self.concurrent,
            mix: self.mix,
            ipv6: self.ipv6,
            vlan: self.vlan,
            vxlan: self.vxlan,
            gtpu: self.gtpu,
            loss: self.loss,
            reorder: self.reorder,
            retrans: self.retrans,
            mss: self.mss,
            sizes: traffic::plan::Sizes {
                max_object: self.max_object,
                max_bulk: self.max_bulk,
            },
            // 2026-11-26T00:00:00Z: a fixed start keeps files identical.
            start_ns: 1_795_651_200_000_000_000,
        })
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Gen(args) => {
            let params = args.params()?;
            let t = Instant::now();
            let m = traffic::generate(&params, args.format, &args.output)?;
            quiet_on_broken_pipe(traffic::print(&m, t.elapsed().as_secs_f64()))?;
            if let Some(path) = &args.manifest {
                std::fs::write(path, serde_json::to_string_pretty(&m)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Command::Run {
            file,
            shards,
            repeat,
            rate,
            speed,
            pass,
            json,
            report,
            in_process,
        } => {
            let mut loads = rate;
            if let Some(x) = speed {
                if !(x.is_finite() && x > 0.0) {
                    bail!("--speed must be a positive number");
                }
                loads.push(run::Load::Speed(x));
            }
            let opts = run::RunOptions {
                repeat: repeat.max(1),
                loads,
                isolate: !in_process,
                ..pass.options(file, shards)?
            };
            let r = run::run(&opts)?;
            quiet_on_broken_pipe(run::print(&r, &opts.file))?;
            match json {
                Some(p) if p.as_os_str() == "-" => println!("{}", serde_json::to_string(&r)?),
                Some(p) => std::fs::write(&p, serde_json::to_string_pretty(&r)?)
                    .with_context(|| format!("writing {}", p.display()))?,
                None => {}
            }
            if let Some(dir) = report {
                report::write(&dir, &r).with_context(|| format!("writing {}", dir.display()))?;
                eprintln!(
                    "flowscope-bench run: report in {}",
                    dir.join("index.html").display()
                );
            }
        }
        Command::RunPass {
            file,
            shards,
            pace,
            pass,
        } => {
            let opts = pass.options(file, vec![shards])?;
            let row = run::pass_here(&opts, shards, pace)?;
            println!("{}", serde_json::to_string(&row)?);
        }
        Command::Engine {
            file,
            repeat,
            config,
            reassembly,
            parsers,
            full,
            full_only,
            events_every,
            json,
        } => {
            let cfg = load_config(config)?;
            let modes = engine::Modes {
                reassembly: reassembly.then_some(parsers),
                full,
                full_only,
                events_every: events_every
                    .map_or(cfg.pipeline.batch_packets, |n| n as usize)
                    .max(1),
            };
            let results = engine::bench_engine(&file, repeat.max(1), &cfg, modes)?;
            engine::print_results(&results);
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
            ingest_threads,
            live,
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
                pin: pin_choice(pin, no_pin),
                ingest_only,
                latency: !no_latency,
                reassembly,
                ingest_threads: ingest_threads.into_iter().map(usize::from).collect(),
                live,
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

/// A reader that went away (`| head`) is not an error.
fn quiet_on_broken_pipe(r: std::io::Result<()>) -> anyhow::Result<()> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => Ok(other?),
    }
}

/// `--pin` / `--no-pin` (`None`: the pipeline decides).
fn pin_choice(pin: bool, no_pin: bool) -> Option<bool> {
    match (pin, no_pin) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

fn load_config(path: Option<PathBuf>) -> anyhow::Result<Config> {
    Ok(match path {
        Some(p) => Config::load(&p)?,
        None => Config::default(),
    })
}
