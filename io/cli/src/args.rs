//! The command line's grammar (clap): the commands, their options, and the
//! small parsers of option values (sizes, speeds).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The `flowscope` command line (its help comes from the `about` below,
/// not from this comment).
#[derive(Debug, Parser)]
#[command(
    name = "flowscope",
    version,
    about = "Passive flow and session tracking for packet captures",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
pub(crate) struct CaptureArgs {
    /// Interface to capture on; repeat for several (`-i eth0 -i eth1`).
    /// `any` is libpcap's every-interface device.
    #[arg(short = 'i', long = "interface", value_name = "IFACE", required = true)]
    pub(crate) interfaces: Vec<String>,
    /// BPF filter expression (tcpdump syntax), applied in the kernel.
    #[arg(short = 'f', long = "filter", value_name = "EXPR")]
    pub(crate) filter: Option<String>,
    /// The filter as trailing words, as tcpdump takes it
    /// (`flowscope capture -i eth0 tcp port 80`).
    #[arg(
        value_name = "EXPR",
        trailing_var_arg = true,
        conflicts_with = "filter"
    )]
    pub(crate) expression: Vec<String>,
    #[command(flatten)]
    pub(crate) out: OutputArgs,
    /// Also write every captured packet to this pcapng file (replay it
    /// later with `flowscope replay`).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub(crate) write: Option<PathBuf>,
    /// With -w: start a new file (FILE, then STEM.1.EXT, STEM.2.EXT…) once
    /// one reaches SIZE (e.g. 100M, 2G; powers of 1024).
    #[arg(long, value_name = "SIZE", value_parser = parse_rotate_size, requires = "write")]
    pub(crate) rotate_size: Option<u64>,
    /// Bytes kept of each packet.
    #[arg(long, value_name = "BYTES", default_value_t = 262_144, value_parser = clap::value_parser!(u32).range(64..=262_144))]
    pub(crate) snaplen: u32,
    /// Do not put the interfaces in promiscuous mode.
    #[arg(long)]
    pub(crate) no_promisc: bool,
    /// Kernel capture buffer per interface (e.g. 32M; powers of 1024), 64k
    /// to 1G.
    #[arg(long, value_name = "SIZE", default_value = "32M", value_parser = parse_buffer_size)]
    pub(crate) buffer_size: u64,
    /// Deliver each packet as it arrives instead of in kernel blocks (lower
    /// latency under light load, more CPU under heavy load).
    #[arg(long)]
    pub(crate) immediate: bool,
    /// Without --immediate: the longest a packet waits in a kernel block.
    #[arg(long, value_name = "MS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) buffer_timeout_ms: u32,
    /// Timestamp precision asked of the kernel.
    #[arg(long, value_enum, default_value_t = PrecisionArg::Nano)]
    pub(crate) tstamp_precision: PrecisionArg,
    /// Timestamp source: the interface's default, the host clock (host,
    /// host-lowprec, host-hiprec) or the adapter's (adapter,
    /// adapter-unsynced), where the interface offers it.
    #[arg(long, value_enum, default_value_t = TstampTypeArg::Default)]
    pub(crate) tstamp_type: TstampTypeArg,
    /// Capture received packets, sent packets or both.
    #[arg(long, value_enum, default_value_t = DirectionArg::Inout)]
    pub(crate) direction: DirectionArg,
    /// Write a `stats` record (packets, drops by cause, active flows,
    /// shard queue depths) every SECS seconds (at most 86400); 0: only at
    /// the end. Default: `[output] stats_interval`, else 10.
    #[arg(long, value_name = "SECS", value_parser = parse_stats_interval)]
    pub(crate) stats_interval: Option<f64>,
    /// Drop privileges to this user once the interfaces are open (like
    /// tcpdump -Z); -w files are then created as that user.
    #[arg(short = 'Z', long = "user", value_name = "NAME")]
    pub(crate) user: Option<String>,
    #[command(flatten)]
    pub(crate) work: WorkArgs,
    #[command(flatten)]
    pub(crate) run: RunArgs,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum PrecisionArg {
    Micro,
    Nano,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum TstampTypeArg {
    Default,
    Host,
    HostLowprec,
    HostHiprec,
    Adapter,
    AdapterUnsynced,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum DirectionArg {
    In,
    Out,
    Inout,
}

/// `Ok(x)` when `lo <= x <= hi`, else the range (`show` writes a bound
/// as the user would).
fn within<T: PartialOrd + Copy>(
    s: &str,
    x: T,
    (lo, hi): (T, T),
    show: impl Fn(T) -> String,
) -> Result<T, String> {
    if lo <= x && x <= hi {
        Ok(x)
    } else {
        Err(format!(
            "`{s}` is out of range: it must be between {} and {}",
            show(lo),
            show(hi)
        ))
    }
}

/// `--buffer-size`: 64k to 1G (libpcap takes an `int`).
fn parse_buffer_size(s: &str) -> Result<u64, String> {
    within(s, parse_size(s)?, (64 << 10, 1 << 30), show_size)
}

/// `--rotate-size`: 1M (tcpdump's smallest -C) to 1T.
fn parse_rotate_size(s: &str) -> Result<u64, String> {
    within(s, parse_size(s)?, (1 << 20, 1 << 40), show_size)
}

/// Seconds from `90`, `30s`, `10m`, `1h` or `1d` (above 0).
pub(crate) fn parse_interval(s: &str) -> Result<u64, String> {
    let units = [('s', 1), ('m', 60), ('h', 3600), ('d', 86_400)];
    parse_scaled(s, s.trim(), &units, "an interval", "90, 30s, 10m, 1h, 1d")
}

/// `t` (from the option value `s`): a number above 0 with an optional
/// one-letter unit of `units`, scaled by it; an error naming `what`
/// otherwise.
fn parse_scaled(
    s: &str,
    t: &str,
    units: &[(char, u64)],
    what: &str,
    examples: &str,
) -> Result<u64, String> {
    let unit = t
        .chars()
        .last()
        .and_then(|c| units.iter().find(|(u, _)| *u == c));
    let (num, scale) = match unit {
        Some(&(_, f)) => (&t[..t.len() - 1], f),
        None => (t, 1),
    };
    match num
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
    {
        Some(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not {what} (examples: {examples})")),
    }
}

/// `--stats-interval` and `[output] stats_interval`: 0 to 86400 seconds
/// (a day).
pub(crate) fn parse_stats_interval(s: &str) -> Result<f64, String> {
    let x = s
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    within(s, x, (0.0, 86_400.0), |b| format!("{b} seconds"))
}

/// A size as the options take it (`64k`, `1G`).
fn show_size(n: u64) -> String {
    match n.trailing_zeros() {
        40.. => format!("{}T", n >> 40),
        30.. => format!("{}G", n >> 30),
        20.. => format!("{}M", n >> 20),
        10.. => format!("{}k", n >> 10),
        _ => n.to_string(),
    }
}

/// A byte size: `64k`, `32M`, `2G` (powers of 1024) or plain bytes.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let units = [
        ('k', 1 << 10),
        ('K', 1 << 10),
        ('m', 1 << 20),
        ('M', 1 << 20),
        ('g', 1 << 30),
        ('G', 1 << 30),
    ];
    parse_scaled(s, t, &units, "a size", "64k, 32M, 2G")
}

#[derive(Debug, Args)]
pub(crate) struct StreamsArgs {
    /// pcap or pcapng files, read in order as one stream (`-`: standard
    /// input; FIFOs are read like files). With none, the bundled demo
    /// capture.
    pub(crate) files: Vec<PathBuf>,
    /// Directory for the files (created, mode 0700, if missing). It must
    /// be empty unless --force is given.
    #[arg(long = "out", value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// Write into a directory that is not empty: a file this run writes
    /// that already exists is replaced if it is a regular file (a symbolic
    /// link or anything else is refused).
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) run: RunArgs,
    /// Write zero bytes where data is missing, so file offsets are stream
    /// offsets (like tcpflow). By default files hold only captured bytes
    /// and index.jsonl lists the gaps.
    #[arg(long)]
    pub(crate) fill_gaps: bool,
    /// Also write FLOWID-both.bin: both directions in arrival order, gaps
    /// marked "[N bytes missing]".
    #[arg(long)]
    pub(crate) combined: bool,
}

/// Options every command that reads captures takes.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// TOML configuration (see configs/default.toml).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// No run summary and no progress bar on stderr (errors are still printed).
    #[arg(short = 'q', long)]
    pub(crate) quiet: bool,
    /// Shard threads (each owns a flow table; an ingest thread feeds them).
    /// 0 runs one engine on the main thread. Default: `[pipeline] shards`,
    /// else one per core but one, at least 1, and 0 when the process may
    /// use one core only (`capture`: 1). The output is the same for every
    /// value.
    #[arg(short = 's', long, value_name = "N", value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub(crate) shards: Option<u16>,
    /// Threads that read the input (0 to 64): with N > 1 the ingest
    /// thread reads the packets (a file's records, or a live capture's
    /// packets copied out of libpcap's buffer) and dispatches them in
    /// order while N − 1 pool threads decode and hash them; 0 chooses
    /// from the shard count (one per two shards, 1 to 4). Default:
    /// `[pipeline] ingest_threads`, else 0. The output of a file is the
    /// same for every value.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(0..=64))]
    pub(crate) ingest_threads: Option<u16>,
    /// Pin the ingest, shard and merger threads to cores (default: when
    /// there is a core for each).
    #[arg(long, overrides_with = "no_pin")]
    pub(crate) pin: bool,
    /// Do not pin threads to cores.
    #[arg(long, overrides_with = "pin")]
    pub(crate) no_pin: bool,
}

impl RunArgs {
    /// Pinning as asked (`None`: the configuration decides).
    pub(crate) fn pin(&self) -> Option<bool> {
        match (self.pin, self.no_pin) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }
}

/// Where `replay` and `capture` write their records.
#[derive(Debug, Args)]
pub(crate) struct OutputArgs {
    /// Write the records to FILE instead of stdout (`-`: stdout); `unix-stream:PATH` or
    /// `unix-dgram:PATH` sends them to a Unix socket (one record per line
    /// or per datagram), `syslog:[PATH]` to syslog,
    /// `kafka://HOST:PORT[,HOST:PORT]/TOPIC` to Kafka brokers (one message
    /// per record). With -o, SIGHUP reopens the file (logrotate) instead of
    /// stopping the run.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Append to -o's file instead of truncating it (`[output] append`).
    #[arg(long, requires = "output")]
    pub(crate) append: bool,
    /// Move -o's file to FILE.1, FILE.2… (the first number not taken)
    /// before it grows past SIZE (e.g. 100M; powers of 1024) and start it
    /// again (`[output] rotate_size`).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, requires = "output")]
    pub(crate) output_rotate_size: Option<u64>,
    /// Rotate -o's file, as --output-rotate-size does, at the first write
    /// INTERVAL after it was opened (90, 30s, 10m, 1h, 1d;
    /// `[output] rotate_interval`).
    #[arg(long, value_name = "INTERVAL", value_parser = parse_interval, requires = "output")]
    pub(crate) output_rotate_interval: Option<u64>,
    /// Which fields records hold (`[output] profile`): `default`,
    /// Suricata's fields in Suricata's formats and flowscope's own beside
    /// them; `strict`, exactly what Suricata 7.0.10 writes, every record
    /// valid against Suricata's EVE schema.
    #[arg(long, value_name = "PROFILE", value_enum)]
    pub(crate) eve_profile: Option<ProfileArg>,
    /// Also export every flow record as IPFIX (RFC 7011, bidirectional
    /// records per RFC 5103) to a collector: `udp://HOST:PORT` or
    /// `tcp://HOST:PORT` (`[ipfix] target`).
    #[arg(long, value_name = "URL", value_parser = parse_ipfix_target)]
    pub(crate) ipfix: Option<String>,
}

impl OutputArgs {
    /// `-o -` is standard output, as without `-o`; the options that need
    /// a file (`--append`, rotation) are refused with it.
    pub(crate) fn dash_is_stdout(&mut self) -> Result<(), String> {
        if self.output.as_deref() != Some(std::path::Path::new("-")) {
            return Ok(());
        }
        if self.append || self.output_rotate_size.is_some() || self.output_rotate_interval.is_some()
        {
            return Err(
                "`-o -` is standard output: --append and --output-rotate-* need a file".into(),
            );
        }
        self.output = None;
        Ok(())
    }
}

/// `--ipfix`: `udp://HOST:PORT` or `tcp://HOST:PORT`.
fn parse_ipfix_target(s: &str) -> Result<String, String> {
    crate::ipfix::parse_target(s).map(|_| s.to_owned())
}

/// `--eve-profile`'s values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum ProfileArg {
    Default,
    Strict,
}

impl From<ProfileArg> for flowscope_io::EveProfile {
    fn from(p: ProfileArg) -> Self {
        match p {
            ProfileArg::Default => flowscope_io::EveProfile::Default,
            ProfileArg::Strict => flowscope_io::EveProfile::Strict,
        }
    }
}

/// What `replay` and `capture` do with the packets.
#[derive(Debug, Args)]
pub(crate) struct WorkArgs {
    /// Flow records only: no TCP reassembly and no HTTP/DNS/TLS parsers.
    #[arg(long)]
    pub(crate) no_parsers: bool,
    /// Record latency histograms (ingest→event and per stage: ingest,
    /// queue, shard, merge) and print their percentiles in the run summary.
    #[arg(long)]
    pub(crate) latency: bool,
    /// With --latency: sample about one packet in N (1: every packet; at
    /// most 1000000).
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub(crate) latency_sample: u32,
}

impl WorkArgs {
    /// The latency sampling asked for (0: off).
    pub(crate) fn latency_sample(&self) -> u32 {
        if self.latency { self.latency_sample } else { 0 }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// pcap or pcapng files, read in order as one stream (`-`: standard
    /// input; FIFOs are read like files). With none, the bundled demo
    /// capture is replayed.
    pub(crate) files: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) out: OutputArgs,
    #[command(flatten)]
    pub(crate) work: WorkArgs,
    /// Read only the packets matching this BPF expression (tcpdump syntax,
    /// libpcap's offline filter): test a capture filter on a file first.
    #[arg(short = 'f', long = "filter", value_name = "EXPR")]
    pub(crate) filter: Option<String>,
    /// Offer packets at this rate, as a link would (e.g. 2Mpps, 500kpps,
    /// 100000): the input then drops, never blocks, when the pipeline falls
    /// behind, and the summary reports the losses.
    #[arg(long, value_name = "RATE", value_parser = crate::rate::parse_rate, conflicts_with = "speed")]
    pub(crate) rate: Option<f64>,
    /// Offer packets with the capture's own timing, X times faster (1.0: as
    /// captured), 0.001 to 1000000.
    #[arg(long, value_name = "X", value_parser = parse_speed)]
    pub(crate) speed: Option<f64>,
    /// Paced runs: a packet the ingest reaches more than this many
    /// milliseconds after it was due is lost (a capture ring's depth), 0
    /// to 60000.
    #[arg(long, value_name = "MS", default_value_t = 10.0, value_parser = parse_max_late)]
    pub(crate) max_late_ms: f64,
    #[command(flatten)]
    pub(crate) run: RunArgs,
}

/// `--speed`: 0.001 to 1000000 times the captured pace.
fn parse_speed(s: &str) -> Result<f64, String> {
    let x = s
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("`{s}` is not a number"))?;
    within(s, x, (0.001, 1e6), |b| format!("{b}"))
}

/// `--max-late-ms`: 0 to 60000 milliseconds.
fn parse_max_late(s: &str) -> Result<f64, String> {
    let x = s
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("`{s}` is not a number of milliseconds"))?;
    within(s, x, (0.0, 60_000.0), |b| format!("{b} ms"))
}
