//! The commands as the command line runs them: each loads the
//! configuration, installs the signal handlers, builds the command's
//! options from its arguments, runs it and reports on stderr, and returns
//! the exit status — or the [`Failure`] that stopped it, for the binary to
//! report.

use crate::args::{
    CaptureArgs, Cli, Command, OutputArgs, ReplayArgs, RunArgs, StreamsArgs, WorkArgs,
};
use crate::config::Config;
use crate::error::RunError;
use crate::exit::{EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, Failure};
use crate::input::{Input, check_inputs};
use crate::overwrite::{Guarded, refuse_overwrite};
use crate::replay::{ReplayOptions, replay_exporting};
use crate::run::RunOptions;
use crate::say::say;
use crate::signals::Signals;
use crate::sink::{FileType, Sink, SinkConfig, SinkCounters, Target};
use crate::streams::{StreamsOptions, streams};
use flowscope_shards::Pace;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Runs the command `cli` names.
pub fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Replay(mut args) => {
            args.out.dash_is_stdout().map_err(Failure::Usage)?;
            run_replay(args)
        }
        Command::Streams(args) => run_streams(args),
        Command::Capture(mut args) => {
            args.out.dash_is_stdout().map_err(Failure::Usage)?;
            run_capture(args)
        }
    }
}

/// The configuration `--config` names (else the defaults), with the
/// options that override its `[pipeline]` keys applied.
fn load_config(run: &RunArgs) -> Result<Config, Failure> {
    let mut config = match &run.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(n) = run.ingest_threads {
        config.pipeline.ingest_threads = usize::from(n);
    }
    Ok(config)
}

/// The inputs the arguments name (`-`: standard input, at most once).
fn inputs_of(files: &[PathBuf]) -> Result<Vec<Input>, Failure> {
    if files.is_empty() {
        return Ok(vec![Input::Demo]);
    }
    let inputs: Vec<Input> = files.iter().map(|f| Input::from_arg(f)).collect();
    check_inputs(&inputs).map_err(Failure::Usage)?;
    Ok(inputs)
}

/// The options `replay` and `capture` share, from their arguments.
fn run_options(run: &RunArgs, work: &WorkArgs, signals: &Signals, config: Config) -> RunOptions {
    RunOptions {
        shards: run.shards.map(usize::from),
        pin: run.pin(),
        stop: Some(signals.stop.clone()),
        no_parsers: work.no_parsers,
        latency_sample: work.latency_sample(),
        ..RunOptions::new(config)
    }
}

/// The files a run reads: its inputs (standard input among them, for
/// what it is redirected from) and its configuration file, which no output
/// may name.
fn read_files<'a>(files: &'a [PathBuf], config: Option<&'a PathBuf>) -> Vec<Guarded<'a>> {
    let inputs = files.iter().map(|path| Guarded {
        what: "an input",
        path,
        stdin: Input::from_arg(path) == Input::Stdin,
    });
    let config = config.map(|path| Guarded {
        what: "the configuration file",
        path,
        stdin: false,
    });
    inputs.chain(config).collect()
}

/// What `-o` names, its type taken from `-o`'s prefix, else from
/// `config`; without `-o`, the brokers of `[output] filetype = "kafka"`.
fn target_of(out: &OutputArgs, config: &Config) -> Option<Target> {
    match &out.output {
        Some(path) => Some(Target::from_arg(path, config.sink.filetype)),
        None => (config.sink.filetype == FileType::Kafka).then(|| Target {
            path: PathBuf::new(),
            kind: FileType::Kafka,
        }),
    }
}

/// `-o`'s file, when it names one (a socket is never an input).
fn output_file(out: &OutputArgs) -> Option<&Path> {
    let path = out.output.as_deref()?;
    let t = Target::from_arg(path, FileType::Regular);
    (t.kind == FileType::Regular).then_some(path)
}

/// Opens the sink `-o` names, with `[output]` and the options' settings
/// (the options win).
fn open_sink(
    target: Target,
    out: &OutputArgs,
    config: &Config,
    signals: &Signals,
    counters: Arc<SinkCounters>,
) -> Result<Sink, Failure> {
    let cfg = SinkConfig {
        append: out.append || config.sink.append,
        rotate_size: out.output_rotate_size.or(config.sink.rotate_size),
        rotate_interval: out.output_rotate_interval.or(config.sink.rotate_interval),
        ..config.sink.clone()
    };
    let path = PathBuf::from(target.display());
    let mut sink = Sink::open(target, &cfg, signals.reopen.clone(), counters)
        .map_err(|source| Failure::CreateOutput { path, source })?;
    sink.set_stop(signals.stop.clone());
    Ok(sink)
}

/// Kafka: waits (bounded) for the outstanding acknowledgements and says
/// what became of the records; whether any were lost.
fn close_kafka(sink: Option<&mut Sink>, quiet: bool) -> bool {
    #[cfg(feature = "kafka")]
    if let Some(r) = sink.and_then(Sink::close_kafka) {
        if !quiet {
            say!(
                "flowscope: {}: {} records produced, {} acknowledged",
                r.target,
                r.produced,
                r.delivered
            );
        }
        if r.lost() > 0 {
            say!(
                "flowscope: error: {} records did not reach {}: {} failed, {} dropped on a full queue, {} unacknowledged at the close timeout",
                r.lost(),
                r.target,
                r.failed,
                r.dropped,
                r.unacknowledged
            );
            return true;
        }
    }
    #[cfg(not(feature = "kafka"))]
    let _ = (sink, quiet);
    false
}

/// Records a sink could not deliver: one error line; whether there were
/// any.
fn report_lost(counters: Option<&Arc<SinkCounters>>, out: &OutputArgs) -> bool {
    let lost = counters.filter(|c| !c.is_kafka()).map_or(0, |c| c.lost());
    if lost > 0 {
        say!(
            "flowscope: error: {lost} records could not be written to {} (counted in the stats record's `output` object)",
            out.output.as_deref().unwrap_or(Path::new("-")).display()
        );
    }
    lost > 0
}

/// Flows the IPFIX export could not send: one error line; whether there
/// were any.
fn report_ipfix_lost(report: Option<&crate::ipfix::IpfixReport>) -> bool {
    let lost = report.map_or(0, |r| r.flows_lost);
    if let (true, Some(r)) = (lost > 0, report) {
        say!(
            "flowscope: error: {lost} flows could not be exported to {}",
            r.target
        );
    }
    lost > 0
}

/// After a write to `-o` failed (a full disk), cuts the file after its
/// last whole record.
fn trim_output(output: Option<&Path>) {
    if let Some(path) = output {
        let _ = trim_to_last_line(path);
    }
}

/// Cuts a regular file after its last newline (nothing when it has
/// none): a write that failed half-way leaves no partial record behind.
fn trim_to_last_line(path: &Path) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Ok(());
    }
    let mut end = meta.len();
    let mut chunk = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..(end - start) as usize];
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(part)?;
        if let Some(i) = part.iter().rposition(|&b| b == b'\n') {
            return f.set_len(start + i as u64 + 1);
        }
        end = start;
    }
    f.set_len(0)
}

fn run_streams(args: StreamsArgs) -> Result<ExitCode, Failure> {
    let inputs = inputs_of(&args.files)?;
    let guarded = read_files(&args.files, args.run.config.as_ref());
    refuse_overwrite("--out", &args.out.join("index.jsonl"), &guarded)?;
    let config = load_config(&args.run)?;
    let signals = Signals::install(false).map_err(Failure::Signals)?;
    let opts = StreamsOptions {
        shards: args.run.shards.map(usize::from),
        pin: args.run.pin(),
        fill_gaps: args.fill_gaps,
        combined: args.combined,
        force: args.force,
        stop: Some(signals.stop.clone()),
        ..StreamsOptions::new(inputs, args.out.clone(), config)
    };
    let summary = streams(&opts)?;
    if !args.run.quiet {
        say!("{}", summary.render());
    }
    for d in &summary.damaged {
        say!("flowscope: error: {d}");
    }
    let what = "stopped early; every open flow was flushed".to_owned();
    Ok(finished(
        &signals,
        summary.stopped.then_some(what),
        summary.damaged.is_empty(),
    ))
}

fn run_replay(args: ReplayArgs) -> Result<ExitCode, Failure> {
    let inputs = inputs_of(&args.files)?;
    if let Some(out) = output_file(&args.out) {
        refuse_overwrite(
            "-o",
            out,
            &read_files(&args.files, args.run.config.as_ref()),
        )?;
    }
    let mut config = load_config(&args.run)?;
    if let Some(p) = args.out.eve_profile {
        config.output.profile = p.into();
    }
    if let Some(t) = &args.out.ipfix {
        config.ipfix.target = Some(t.clone());
    }
    // Before -o's file is created: a collector that cannot be reached
    // leaves no empty output behind.
    let ipfix = crate::ipfix::IpfixExport::open(&config.ipfix, config.engine.flow.key)
        .map_err(RunError::Ipfix)?;
    let target = target_of(&args.out, &config);
    let signals = Signals::install(target.is_some()).map_err(Failure::Signals)?;
    let counters = Arc::new(SinkCounters::default());
    let sink = match target {
        Some(t) => Some(open_sink(
            t,
            &args.out,
            &config,
            &signals,
            counters.clone(),
        )?),
        None => None,
    };
    let mut opts = ReplayOptions {
        inputs,
        progress: !args.run.quiet && std::io::stderr().is_terminal(),
        run: run_options(&args.run, &args.work, &signals, config),
        pace: args
            .rate
            .map(Pace::Rate)
            .or(args.speed.map(Pace::Speed))
            .map(|p| (p, Duration::from_secs_f64(args.max_late_ms.max(0.0) / 1e3))),
        filter: args.filter.clone(),
    };
    let mut sink = sink;
    let summary = match sink.as_mut() {
        Some(sink) => {
            opts.run.output_counters = Some(counters);
            replay_exporting(&opts, ipfix, sink)
        }
        None => replay_exporting(&opts, ipfix, std::io::stdout().lock()),
    };
    // Whatever stopped the run, the records handed to Kafka get their
    // bounded wait.
    let kafka_lost = close_kafka(sink.as_mut(), args.run.quiet);
    let summary = match summary {
        Err(RunError::Interrupted(what)) => return Ok(interrupted(&signals, what)),
        Err(e @ RunError::Output(_)) => {
            trim_output(output_file(&args.out));
            return Err(e.into());
        }
        other => other?,
    };
    let lost = report_lost(opts.run.output_counters.as_ref(), &args.out)
        | report_ipfix_lost(summary.ipfix.as_ref())
        | kafka_lost;
    if summary.output_closed {
        // `| head`: the reader has all it wanted; not an error.
        return Ok(ExitCode::from(EXIT_OK));
    }
    if !args.run.quiet {
        say!("{}", summary.render());
    }
    for d in &summary.damaged {
        say!("flowscope: error: {d}");
    }
    if let Some((shard, why)) = &summary.shard_failure {
        say!(
            "flowscope: error: shard {shard} failed ({why}); its flows are missing from the output, which has every other shard's records but no stats record"
        );
        return Ok(ExitCode::from(EXIT_INTERNAL));
    }
    let what = format!(
        "stopped reading after {} packets; every open flow was flushed (reason \"shutdown\")",
        summary.stats.packets
    );
    Ok(finished(
        &signals,
        summary.stopped.then_some(what),
        summary.damaged.is_empty() && !lost,
    ))
}

#[cfg(not(feature = "live"))]
fn run_capture(_args: CaptureArgs) -> Result<ExitCode, Failure> {
    Err(Failure::Usage(
        "this flowscope was built without live capture (cargo feature `live`, which needs libpcap)"
            .to_owned(),
    ))
}

#[cfg(feature = "live")]
fn run_capture(args: CaptureArgs) -> Result<ExitCode, Failure> {
    use crate::args::{DirectionArg, PrecisionArg, TstampTypeArg};
    use crate::capture::{CaptureError, CaptureOptions, OpenCapture};
    use flowscope_io::{CaptureDirection, LiveOptions, TsPrecision, TsSource, WriteThrough};
    let mut guarded = read_files(&[], args.run.config.as_ref());
    if let Some(write) = &args.write {
        refuse_overwrite("-w", write, &guarded)?;
        guarded.push(Guarded {
            what: "the -w capture file",
            path: write,
            stdin: false,
        });
    }
    if let Some(out) = output_file(&args.out) {
        refuse_overwrite("-o", out, &guarded)?;
    }
    let mut config = load_config(&args.run)?;
    if let Some(p) = args.out.eve_profile {
        config.output.profile = p.into();
    }
    if let Some(t) = &args.out.ipfix {
        config.ipfix.target = Some(t.clone());
    }
    let stats_interval = args.stats_interval.unwrap_or(config.output.stats_interval);
    let target = target_of(&args.out, &config);
    let signals = Signals::install(target.is_some()).map_err(Failure::Signals)?;
    let filter = args
        .filter
        .clone()
        .or_else(|| (!args.expression.is_empty()).then(|| args.expression.join(" ")));
    let opts = CaptureOptions {
        run: RunOptions {
            output_counters: target.is_some().then(Arc::default),
            ..run_options(&args.run, &args.work, &signals, config)
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
        stats_interval: (stats_interval > 0.0).then(|| Duration::from_secs_f64(stats_interval)),
        user: args.user.clone(),
    };
    let open = match OpenCapture::open(&opts) {
        Err(CaptureError::Run(RunError::Interrupted(what))) => {
            return Ok(interrupted(&signals, what));
        }
        other => other?,
    };
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
        say!(
            "flowscope: capturing on {}{}, {} shard(s); SIGINT or SIGTERM stops{}",
            ifaces.join(", "),
            opts.live
                .filter
                .as_ref()
                .map(|f| format!(", filter `{f}`"))
                .unwrap_or_default(),
            open.shards(),
            if signals.reopen.is_some() {
                ", SIGHUP reopens -o"
            } else {
                ", so does SIGHUP"
            },
        );
    }
    let mut sink = match target {
        Some(t) => {
            let counters = opts.run.output_counters.clone().unwrap_or_default();
            let mut sink = open_sink(t, &args.out, &opts.run.config, &signals, counters)?;
            // Live: a broker that cannot keep up costs records, counted,
            // never the capture.
            sink.set_lossy(true);
            Some(sink)
        }
        None => None,
    };
    let summary = match sink.as_mut() {
        Some(sink) => open.run(sink),
        None => open.run(std::io::stdout().lock()),
    };
    let kafka_lost = close_kafka(sink.as_mut(), args.run.quiet);
    if let Err(CaptureError::Run(RunError::Output(_))) = &summary {
        trim_output(output_file(&args.out));
    }
    let summary = summary?;
    if summary.run.output_closed {
        return Ok(ExitCode::from(EXIT_OK));
    }
    if !args.run.quiet {
        say!("{}", summary.render());
    }
    for e in &summary.source_errors {
        say!("flowscope: error: {e}");
    }
    if !summary.source_errors.is_empty() {
        // An interface went away: what it would have carried is lost.
        return Ok(ExitCode::from(EXIT_INPUT));
    }
    if let Some((shard, why)) = &summary.run.shard_failure {
        say!("flowscope: error: shard {shard} failed ({why}); its flows are missing");
        return Ok(ExitCode::from(EXIT_INTERNAL));
    }
    if let Some(why) = &summary.counts.write_failure {
        say!("flowscope: error: writing the capture failed: {why}");
        return Ok(ExitCode::from(EXIT_INPUT));
    }
    if report_lost(opts.run.output_counters.as_ref(), &args.out)
        | report_ipfix_lost(summary.run.ipfix.as_ref())
        | kafka_lost
    {
        return Ok(ExitCode::from(EXIT_INPUT));
    }
    // A signal is how a capture normally ends (like tcpdump): exit 0.
    Ok(ExitCode::from(EXIT_OK))
}

/// The exit status of a run a signal stopped before it started (while it
/// was `what`): the signal's.
fn interrupted(signals: &Signals, what: &str) -> ExitCode {
    let (name, code) = signals.received();
    say!("flowscope: {name}: stopped while {what}; nothing was read");
    ExitCode::from(code)
}

/// The exit status of a run that completed: the signal's when one stopped
/// it (`stopped` says what happened), else OK or a damaged-input failure.
fn finished(signals: &Signals, stopped: Option<String>, all_inputs_whole: bool) -> ExitCode {
    if let Some(what) = stopped {
        let (name, code) = signals.received();
        say!("flowscope: {name}: {what}");
        return ExitCode::from(code);
    }
    if all_inputs_whole {
        ExitCode::from(EXIT_OK)
    } else {
        ExitCode::from(EXIT_INPUT)
    }
}
