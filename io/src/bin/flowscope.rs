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
    /// Capture live from network interfaces (libpcap) and write the same
    /// EVE records as `replay`, plus a `stats` record every
    /// --stats-interval, until SIGINT/SIGTERM. Needs CAP_NET_RAW (root, or
    /// `setcap cap_net_raw,cap_net_admin+eip` on the binary). Live input
    /// always runs the sharded pipeline (--shards 0 is taken as 1).
    Capture(CaptureArgs),
}

#[derive(Debug, Args)]
struct CaptureArgs {
    /// Interface to capture on; repeat for several (`-i eth0 -i eth1`).
    /// `any` is libpcap's every-interface device.
    #[arg(short = 'i', long = "interface", value_name = "IFACE", required = true)]
    interfaces: Vec<String>,
    /// BPF filter expression (tcpdump syntax), applied in the kernel.
    #[arg(short = 'f', long = "filter", value_name = "EXPR")]
    filter: Option<String>,
    /// The filter as trailing words, as tcpdump takes it
    /// (`flowscope capture -i eth0 tcp port 80`).
    #[arg(
        value_name = "EXPR",
        trailing_var_arg = true,
        conflicts_with = "filter"
    )]
    expression: Vec<String>,
    /// Write the records to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write every captured packet to this pcapng file (replay it
    /// later with `flowscope replay`).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    write: Option<PathBuf>,
    /// With -w: start a new file (FILE, then STEM.1.EXT, STEM.2.EXT…) once
    /// one reaches SIZE (e.g. 100M, 2G; powers of 1024).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, requires = "write")]
    rotate_size: Option<u64>,
    /// Bytes kept of each packet.
    #[arg(long, value_name = "BYTES", default_value_t = 262_144, value_parser = clap::value_parser!(u32).range(64..=262_144))]
    snaplen: u32,
    /// Do not put the interfaces in promiscuous mode.
    #[arg(long)]
    no_promisc: bool,
    /// Kernel capture buffer per interface (e.g. 32M; powers of 1024).
    #[arg(long, value_name = "SIZE", default_value = "32M", value_parser = parse_size)]
    buffer_size: u64,
    /// Deliver each packet as it arrives instead of in kernel blocks (lower
    /// latency under light load, more CPU under heavy load).
    #[arg(long)]
    immediate: bool,
    /// Without --immediate: the longest a packet waits in a kernel block.
    #[arg(long, value_name = "MS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    buffer_timeout_ms: u32,
    /// Timestamp precision asked of the kernel.
    #[arg(long, value_enum, default_value_t = PrecisionArg::Nano)]
    tstamp_precision: PrecisionArg,
    /// Timestamp source: the interface's default, the host clock (host,
    /// host-lowprec, host-hiprec) or the adapter's (adapter,
    /// adapter-unsynced), where the interface offers it.
    #[arg(long, value_enum, default_value_t = TstampTypeArg::Default)]
    tstamp_type: TstampTypeArg,
    /// Capture received packets, sent packets or both.
    #[arg(long, value_enum, default_value_t = DirectionArg::Inout)]
    direction: DirectionArg,
    /// Write a `stats` record (packets, drops by cause, active flows,
    /// shard queue depths) every SECS seconds; 0: only at the end.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    stats_interval: f64,
    /// Drop privileges to this user once the interfaces are open (like
    /// tcpdump -Z); -w files are then created as that user.
    #[arg(short = 'Z', long = "user", value_name = "NAME")]
    user: Option<String>,
    #[command(flatten)]
    work: WorkArgs,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum PrecisionArg {
    Micro,
    Nano,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum TstampTypeArg {
    Default,
    Host,
    HostLowprec,
    HostHiprec,
    Adapter,
    AdapterUnsynced,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum DirectionArg {
    In,
    Out,
    Inout,
}

/// A byte size: `64k`, `32M`, `2G` (powers of 1024) or plain bytes.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, scale) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m' | 'M') => (&t[..t.len() - 1], 1 << 20),
        Some('g' | 'G') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    match num
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
    {
        Some(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not a size (examples: 64k, 32M, 2G)")),
    }
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

/// What `replay` and `capture` do with the packets.
#[derive(Debug, Args)]
struct WorkArgs {
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
}

impl WorkArgs {
    /// The latency sampling asked for (0: off).
    fn latency_sample(&self) -> u32 {
        if self.latency { self.latency_sample } else { 0 }
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
    #[command(flatten)]
    work: WorkArgs,
    /// Read only the packets matching this BPF expression (tcpdump syntax,
    /// libpcap's offline filter): test a capture filter on a file first.
    #[arg(short = 'f', long = "filter", value_name = "EXPR")]
    filter: Option<String>,
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
        Command::Capture(args) => run_capture(args),
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
        no_parsers: args.work.no_parsers,
        latency_sample: args.work.latency_sample(),
        pace: args
            .rate
            .map(Pace::Rate)
            .or(args.speed.map(Pace::Speed))
            .map(|p| (p, Duration::from_secs_f64(args.max_late_ms.max(0.0) / 1e3))),
        filter: args.filter.clone(),
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
                Some(ReplayError::Config(_) | ReplayError::Filter(_)) => EXIT_USAGE,
                _ => EXIT_INPUT,
            };
            ExitCode::from(code)
        }
    }
}

#[cfg(not(feature = "live"))]
fn run_capture(_args: CaptureArgs) -> ExitCode {
    eprintln!(
        "flowscope: error: this flowscope was built without live capture (cargo feature `live`, which needs libpcap)"
    );
    ExitCode::from(EXIT_USAGE)
}

#[cfg(feature = "live")]
fn run_capture(args: CaptureArgs) -> ExitCode {
    use flowscope_io::live::{
        CaptureDirection, LiveError, LiveOptions, TsPrecision, TsSource, WriteThrough,
    };
    use flowscope_io::live_capture::{CaptureError, CaptureOptions, OpenCapture};
    let config = match load_config(args.run.config.as_ref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if !(args.stats_interval.is_finite() && args.stats_interval >= 0.0) {
        eprintln!("flowscope: error: --stats-interval must be a number of seconds, 0 or more");
        return ExitCode::from(EXIT_USAGE);
    }
    let signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("flowscope: error: cannot install signal handlers: {e}");
            return ExitCode::from(EXIT_INTERNAL);
        }
    };
    let filter = args
        .filter
        .clone()
        .or_else(|| (!args.expression.is_empty()).then(|| args.expression.join(" ")));
    let opts = CaptureOptions {
        run: ReplayOptions {
            shards: args.run.shards.map(usize::from),
            pin: args.run.pin(),
            stop: Some(signals.stop.clone()),
            no_parsers: args.work.no_parsers,
            latency_sample: args.work.latency_sample(),
            ..ReplayOptions::new(Vec::new(), config)
        },
        live: LiveOptions {
            interfaces: args.interfaces.clone(),
            snaplen: args.snaplen,
            promisc: !args.no_promisc,
            buffer_bytes: u32::try_from(args.buffer_size).unwrap_or(u32::MAX),
            immediate: args.immediate,
            buffer_timeout: Duration::from_millis(u64::from(args.buffer_timeout_ms)),
            precision: match args.tstamp_precision {
                PrecisionArg::Micro => TsPrecision::Micro,
                PrecisionArg::Nano => TsPrecision::Nano,
            },
            tstamp_source: match args.tstamp_type {
                TstampTypeArg::Default => TsSource::Default,
                TstampTypeArg::Host => TsSource::Host,
                TstampTypeArg::HostLowprec => TsSource::HostLowPrec,
                TstampTypeArg::HostHiprec => TsSource::HostHighPrec,
                TstampTypeArg::Adapter => TsSource::Adapter,
                TstampTypeArg::AdapterUnsynced => TsSource::AdapterUnsynced,
            },
            direction: match args.direction {
                DirectionArg::In => CaptureDirection::In,
                DirectionArg::Out => CaptureDirection::Out,
                DirectionArg::Inout => CaptureDirection::Both,
            },
            filter,
            write: args.write.clone().map(|path| WriteThrough {
                path,
                rotate_bytes: args.rotate_size,
            }),
        },
        stats_interval: (args.stats_interval > 0.0)
            .then(|| Duration::from_secs_f64(args.stats_interval)),
        user: args.user.clone(),
    };
    let result: anyhow::Result<_> = OpenCapture::open(&opts)
        .map_err(anyhow::Error::from)
        .and_then(|open| {
            if !args.run.quiet {
                let ifaces: Vec<String> = open
                    .interfaces()
                    .iter()
                    .map(|i| {
                        format!(
                            "{} (link type {}, {} timestamps)",
                            i.name,
                            i.linktype.0,
                            if i.nanos { "ns" } else { "µs" }
                        )
                    })
                    .collect();
                eprintln!(
                    "flowscope: capturing on {}{}, {} shard(s); SIGINT or SIGTERM stops",
                    ifaces.join(", "),
                    opts.live
                        .filter
                        .as_ref()
                        .map(|f| format!(", filter `{f}`"))
                        .unwrap_or_default(),
                    open.shards(),
                );
            }
            match &args.output {
                Some(path) => open_output(path)
                    .and_then(|f| Ok(open.run(std::io::BufWriter::with_capacity(1 << 20, f))?)),
                None => open
                    .run(std::io::stdout().lock())
                    .map_err(anyhow::Error::from),
            }
        });
    match result {
        Ok(summary) => {
            if summary.run.output_closed {
                return ExitCode::from(EXIT_OK);
            }
            if !args.run.quiet {
                eprintln!("{}", summary.render());
            }
            for e in &summary.source_errors {
                eprintln!("flowscope: error: {e}");
            }
            if !summary.source_errors.is_empty() {
                // An interface went away: what it would have carried is lost.
                return ExitCode::from(EXIT_INPUT);
            }
            if let Some((shard, why)) = &summary.run.shard_failure {
                eprintln!("flowscope: error: shard {shard} failed ({why}); its flows are missing");
                return ExitCode::from(EXIT_INTERNAL);
            }
            if let Some(why) = &summary.counts.write_failure {
                eprintln!("flowscope: error: writing the capture failed: {why}");
                return ExitCode::from(EXIT_INPUT);
            }
            // A signal is how a capture normally ends (like tcpdump): exit 0.
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            eprintln!("flowscope: error: {e:#}");
            let code = match e.downcast_ref::<CaptureError>() {
                Some(CaptureError::Live(LiveError::Filter { .. } | LiveError::NoInterface))
                | Some(CaptureError::Run(ReplayError::Config(_))) => EXIT_USAGE,
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
