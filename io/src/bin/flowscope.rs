//! The `flowscope` command line: a thin layer over flowscope-io.

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use flowscope_io::config::Config;
use flowscope_io::replay::{Input, ReplayError, ReplayOptions, replay};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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
}

#[derive(Debug, Args)]
struct ReplayArgs {
    /// pcap or pcapng files, read in order as one stream. With none, the
    /// bundled demo capture is replayed.
    files: Vec<PathBuf>,
    /// Write the records to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Replay(args) => run_replay(args),
    }
}

fn run_replay(args: ReplayArgs) -> ExitCode {
    let config = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("flowscope: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        },
        None => Config::default(),
    };
    let inputs: Vec<Input> = if args.files.is_empty() {
        vec![Input::Demo]
    } else {
        args.files.iter().cloned().map(Input::File).collect()
    };
    let signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("flowscope: error: cannot install signal handlers: {e}");
            return ExitCode::from(EXIT_INTERNAL);
        }
    };
    let opts = ReplayOptions {
        progress: !args.quiet && std::io::stderr().is_terminal(),
        shards: args.shards.map(usize::from),
        pin: match (args.pin, args.no_pin) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        stop: Some(signals.stop.clone()),
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
            if !args.quiet {
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
            if summary.stopped {
                let (name, code) = signals.received();
                eprintln!(
                    "flowscope: {name}: stopped reading after {} packets; every open flow was flushed (reason \"shutdown\")",
                    summary.stats.packets
                );
                return ExitCode::from(code);
            }
            if summary.damaged.is_empty() {
                ExitCode::from(EXIT_OK)
            } else {
                ExitCode::from(EXIT_INPUT)
            }
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
