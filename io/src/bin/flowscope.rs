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

/// Exit status: everything worked.
const EXIT_OK: u8 = 0;
/// Exit status: an input could not be opened or was damaged.
const EXIT_INPUT: u8 = 1;
/// Exit status: bad usage or configuration (clap also exits 2 on usage).
const EXIT_USAGE: u8 = 2;

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
    let opts = ReplayOptions {
        inputs,
        config,
        progress: !args.quiet && std::io::stderr().is_terminal(),
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
