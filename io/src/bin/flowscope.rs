//! The `flowscope` command line: a thin layer over flowscope-io.

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use flowscope_io::config::Config;
use flowscope_io::replay::{Input, ReplayError, ReplayOptions, replay};
use flowscope_io::streams::{StreamsError, StreamsOptions, streams};
use flowscope_shards::Pace;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// Exit status: everything worked.
const EXIT_OK: u8 = 0;
/// Exit status: an input could not be opened or was damaged.
const EXIT_INPUT: u8 = 1;
/// Exit status: bad usage or configuration (clap also exits 2 on usage).
const EXIT_USAGE: u8 = 2;
/// Exit status: a shard thread failed (a bug); the other shards' records
/// were written.
const EXIT_INTERNAL: u8 = 3;
/// Exit status after SIGINT (128 + 2), as shells report it.
const EXIT_SIGINT: u8 = 130;
/// Exit status after SIGTERM (128 + 15).
const EXIT_SIGTERM: u8 = 143;

#[derive(Debug, Parser)]
#[command(
    name = "flowscope",
    version,
    about = "Passive flow and session tracking for packet captures"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay capture files and write EVE JSON Lines (one `flow` record per
    /// ended flow, `anomaly` records, and a final `stats` record).
    Replay(ReplayArgs),
    /// Write each TCP connection's reassembled bytes, one file per
    /// direction, plus DIR/index.jsonl (flow id, community id, endpoints,
    /// bytes, gaps).
    Streams(StreamsArgs),
}

#[derive(Debug, Args)]
struct StreamsArgs {
    /// pcap or pcapng files, read in order as one stream. With none, the
    /// bundled demo capture.
    files: Vec<PathBuf>,
    /// Directory for the files (created if missing).
    #[arg(long = "out", value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    run: RunArgs,
    /// Write zero bytes where data is missing, so file offsets are stream
    /// offsets (like tcpflow). By default files hold only captured bytes
    /// and index.jsonl lists the gaps.
    #[arg(long)]
    fill_gaps: bool,
    /// Also write FLOWID-both.bin: both directions in arrival order, gaps
    /// marked "[N bytes missing]".
    #[arg(long)]
    combined: bool,
}

/// Options every command that reads captures takes.
#[derive(Debug, Args)]
struct RunArgs {
    /// TOML configuration (see configs/default.toml).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// No run summary and no progress bar on stderr (errors are still printed).
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Shard threads (each owns a flow table; an ingest thread feeds them).
    /// 0 runs one engine on the main thread. Default: `[pipeline] shards`,
    /// else one per core but one, at least 1. The output is the same for
    /// every value.
    #[arg(short = 's', long, value_name = "N", value_parser = clap::value_parser!(u16).range(0..=1024))]
    shards: Option<u16>,
    /// Pin the ingest, shard and merger threads to cores (default: when
    /// there is a core for each).
    #[arg(long, overrides_with = "no_pin")]
    pin: bool,
    /// Do not pin threads to cores.
    #[arg(long, overrides_with = "pin")]
    no_pin: bool,
}

impl RunArgs {
    /// Pinning as asked (`None`: the configuration decides).
    fn pin(&self) -> Option<bool> {
        match (self.pin, self.no_pin) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }
}

#[derive(Debug, Args)]
struct ReplayArgs {
    /// pcap or pcapng files, read in order as one stream. With none, the
    /// bundled demo capture is replayed.
    files: Vec<PathBuf>,
    /// Write the records to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Flow records only: no TCP reassembly and no HTTP/DNS/TLS parsers.
    #[arg(long)]
    no_parsers: bool,
    /// Record latency histograms (ingest→event and per stage: ingest,
    /// queue, shard, merge) and print their percentiles in the run summary.
    #[arg(long)]
    latency: bool,
    /// With --latency: sample about one packet in N (1: every packet).
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    latency_sample: u32,
    /// Offer packets at this rate, as a link would (e.g. 2Mpps, 500kpps,
    /// 100000): the input then drops, never blocks, when the pipeline falls
    /// behind, and the summary reports the losses.
    #[arg(long, value_name = "RATE", value_parser = parse_rate, conflicts_with = "speed")]
    rate: Option<f64>,
    /// Offer packets with the capture's own timing, X times faster (1.0: as
    /// captured).
    #[arg(long, value_name = "X", value_parser = parse_speed)]
    speed: Option<f64>,
    /// Paced runs: a packet the ingest reaches more than this many
    /// milliseconds after it was due is lost (a capture ring's depth).
    #[arg(long, value_name = "MS", default_value_t = 10.0)]
    max_late_ms: f64,
    #[command(flatten)]
    run: RunArgs,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    flowscope_io::replay::parse_rate(s)
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("`{s}` is not a positive number")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Replay(args) => run_replay(args),
        Command::Streams(args) => run_streams(args),
    }
}

fn load_config(path: Option<&PathBuf>) -> Result<Config, ExitCode> {
    match path {
        Some(path) => Config::load(path).map_err(|e| {
            eprintln!("flowscope: {e}");
            ExitCode::from(EXIT_USAGE)
        }),
        None => Ok(Config::default()),
    }
}

fn inputs_of(files: &[PathBuf]) -> Vec<Input> {
    if files.is_empty() {
        vec![Input::Demo]
    } else {
        files.iter().cloned().map(Input::File).collect()
    }
}

fn run_streams(args: StreamsArgs) -> ExitCode {
    let config = match load_config(args.run.config.as_ref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("flowscope: error: cannot install signal handlers: {e}");
            return ExitCode::from(EXIT_INTERNAL);
        }
    };
    let opts = StreamsOptions {
        shards: args.run.shards.map(usize::from),
        pin: args.run.pin(),
        fill_gaps: args.fill_gaps,
        combined: args.combined,
        stop: Some(signals.stop.clone()),
        ..StreamsOptions::new(inputs_of(&args.files), args.out.clone(), config)
    };
    match streams(&opts) {
        Ok(summary) => {
            if !args.run.quiet {
                eprintln!("{}", summary.render());
            }
            for d in &summary.damaged {
                eprintln!("flowscope: error: {d}");
            }
            let what = "stopped early; every open flow was flushed".to_owned();
            finished(
                &signals,
                summary.stopped.then_some(what),
                summary.damaged.is_empty(),
            )
        }
        Err(e) => {
            eprintln!("flowscope: error: {e}");
            let code = match e {
                StreamsError::Replay(ReplayError::Config(_)) => EXIT_USAGE,
                _ => EXIT_INPUT,
            };
            ExitCode::from(code)
        }
    }
}

fn run_replay(args: ReplayArgs) -> ExitCode {
    let config = match load_config(args.run.config.as_ref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let inputs = inputs_of(&args.files);
    let signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("flowscope: error: cannot install signal handlers: {e}");
            return ExitCode::from(EXIT_INTERNAL);
        }
    };
    let opts = ReplayOptions {
        progress: !args.run.quiet && std::io::stderr().is_terminal(),
        shards: args.run.shards.map(usize::from),
        pin: args.run.pin(),
        stop: Some(signals.stop.clone()),
        no_parsers: args.no_parsers,
        latency_sample: if args.latency { args.latency_sample } else { 0 },
        pace: args
            .rate
            .map(Pace::Rate)
            .or(args.speed.map(Pace::Speed))
            .map(|p| (p, Duration::from_secs_f64(args.max_late_ms.max(0.0) / 1e3))),
        ..ReplayOptions::new(inputs, config)
    };
    let result: anyhow::Result<_> = match &args.output {
        Some(path) => open_output(path).and_then(|f| {
            Ok(replay(
                &opts,
                std::io::BufWriter::with_capacity(1 << 20, f),
            )?)
        }),
        None => replay(&opts, std::io::stdout().lock()).map_err(anyhow::Error::from),
    };
    match result {
        Ok(summary) => {
            if summary.output_closed {
                // `| head`: the reader has all it wanted; not an error.
                return ExitCode::from(EXIT_OK);
            }
            if !args.run.quiet {
                eprintln!("{}", summary.render());
            }
            for d in &summary.damaged {
                eprintln!("flowscope: error: {d}");
            }
            if let Some((shard, why)) = &summary.shard_failure {
                eprintln!(
                    "flowscope: error: shard {shard} failed ({why}); its flows are missing from the output, which has every other shard's records but no stats record"
                );
                return ExitCode::from(EXIT_INTERNAL);
            }
            let what = format!(
                "stopped reading after {} packets; every open flow was flushed (reason \"shutdown\")",
                summary.stats.packets
            );
            finished(
                &signals,
                summary.stopped.then_some(what),
                summary.damaged.is_empty(),
            )
        }
        Err(e) => {
            eprintln!("flowscope: error: {e:#}");
            let code = match e.downcast_ref::<ReplayError>() {
                Some(ReplayError::Config(_)) => EXIT_USAGE,
                _ => EXIT_INPUT,
            };
            ExitCode::from(code)
        }
    }
}

/// The exit status of a run that completed: the signal's when one stopped
/// it (`stopped` says what happened), else OK or a damaged-input failure.
fn finished(signals: &Signals, stopped: Option<String>, all_inputs_whole: bool) -> ExitCode {
    if let Some(what) = stopped {
        let (name, code) = signals.received();
        eprintln!("flowscope: {name}: {what}");
        return ExitCode::from(code);
    }
    if all_inputs_whole {
        ExitCode::from(EXIT_OK)
    } else {
        ExitCode::from(EXIT_INPUT)
    }
}

fn open_output(path: &PathBuf) -> anyhow::Result<std::fs::File> {
    std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))
}

/// SIGINT/SIGTERM handling: the first signal sets the stop flag (the replay
/// drains, flushes every flow and finishes its output); a second one exits
/// at once.
struct Signals {
    stop: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

impl Signals {
    fn install() -> std::io::Result<Self> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        use signal_hook::flag;
        let stop = Arc::new(AtomicBool::new(false));
        let which = Arc::new(AtomicUsize::new(0));
        for (sig, code) in [(SIGINT, EXIT_SIGINT), (SIGTERM, EXIT_SIGTERM)] {
            // Registered before the flag, so it sees the flag as the
            // previous signal left it: set means "second signal".
            flag::register_conditional_shutdown(sig, i32::from(code), stop.clone())?;
            flag::register_usize(sig, which.clone(), usize::from(code))?;
            flag::register(sig, stop.clone())?;
        }
        Ok(Signals { stop, which })
    }

    /// The signal that stopped the run and its exit status.
    fn received(&self) -> (&'static str, u8) {
        match self.which.load(Ordering::SeqCst) {
            x if x == usize::from(EXIT_SIGTERM) => ("SIGTERM", EXIT_SIGTERM),
            _ => ("SIGINT", EXIT_SIGINT),
        }
    }
}
