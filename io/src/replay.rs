//! `flowscope replay`: capture files through the engine into EVE JSON Lines.
//!
//! Files are opened (and mapped) up front, so a missing or unreadable file
//! is reported before any output. They are then read in order as one packet
//! stream ([`FileSource`]): through one engine on this thread (`shards =
//! 0`) or through the sharded pipeline, which renders records on its shard
//! threads and yields them in the same order. At the end every open flow is
//! flushed and the `stats` record is written.

use crate::capture::{CaptureBytes, CaptureError, CaptureFile, OpenError};
use crate::config::Config;
use crate::demo::{DEMO_NAME, DEMO_PCAP};
use crate::eve::{EveKey, EveMessage, EveRenderer};
use crate::source::FileSource;
use flowscope_engine::parsers::{L7Message, ParsersConfig, builtin};
use flowscope_engine::{
    Engine, EngineStats, FlowEvent, FlowExtractor, FlowHook, KeyKind, KeyOptions, Ordered,
    SessionCounters, Sessions, with_extractor,
};
use flowscope_shards::{
    EventSink, InlineRunner, LatencyReport, Pace, Pacer, PacketSource, Pipeline, PipelineError,
    PipelineReport, SourceError, is_sampled,
};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One input of a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The bundled demo capture.
    Demo,
    /// A capture file.
    File(PathBuf),
}

/// What to replay and how.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Inputs, read in order as one stream.
    pub inputs: Vec<Input>,
    /// Configuration.
    pub config: Config,
    /// Show a progress bar (by bytes) on stderr.
    pub progress: bool,
    /// Shard threads, overriding the configuration: `0` runs one engine on
    /// the calling thread; `None` takes `[pipeline] shards`, else one per
    /// core but one (for the ingest), at least one.
    pub shards: Option<usize>,
    /// Pin threads to cores, overriding the configuration (`None`: pin when
    /// there are cores for every thread).
    pub pin: Option<bool>,
    /// Once set, reading stops; every open flow is flushed with reason
    /// `shutdown` and the output is finished (Ctrl-C).
    pub stop: Option<Arc<AtomicBool>>,
    /// Flow tracking only: no reassembly, no parsers (whatever `[parsers]`
    /// says).
    pub no_parsers: bool,
    /// Record latency histograms for about one packet in this many (0:
    /// off); see [`Summary::latency`].
    pub latency_sample: u32,
    /// Offer the packets at this pace instead of as fast as they are read
    /// (the source then behaves as live input: it drops rather than
    /// blocks), with packets more than the duration late lost.
    pub pace: Option<(Pace, Duration)>,
    /// A BPF expression (tcpdump syntax): only matching packets are read
    /// (libpcap's offline filter; needs the `live` feature).
    pub filter: Option<String>,
}

impl ReplayOptions {
    /// Options for `inputs` with everything else from `config`.
    pub fn new(inputs: Vec<Input>, config: Config) -> Self {
        ReplayOptions {
            inputs,
            config,
            progress: false,
            shards: None,
            pin: None,
            stop: None,
            no_parsers: false,
            latency_sample: 0,
            pace: None,
            filter: None,
        }
    }

    /// The shard count this replay runs with (0: inline).
    pub fn shard_count(&self) -> usize {
        self.shards
            .or(self.config.pipeline.shards)
            .unwrap_or_else(default_shards)
    }
}

/// A number with an optional `k`, `M` or `G` suffix (powers of 1000,
/// either case): `1.5M`, `500k`, `250000`. `None` unless finite and not
/// negative.
pub fn parse_si(s: &str) -> Option<f64> {
    let t = s.trim();
    let (num, scale) = match t.chars().last()? {
        'k' | 'K' => (&t[..t.len() - 1], 1e3),
        'm' | 'M' => (&t[..t.len() - 1], 1e6),
        'g' | 'G' => (&t[..t.len() - 1], 1e9),
        _ => (t, 1.0),
    };
    let x = num.trim().parse::<f64>().ok()? * scale;
    (x.is_finite() && x >= 0.0).then_some(x)
}

/// A packet rate: `2Mpps`, `500kpps`, `1.5M`, `250000` or `250000pps`
/// (packets per second).
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let digits = t
        .strip_suffix("pps")
        .or_else(|| t.strip_suffix("PPS"))
        .unwrap_or(t);
    match parse_si(digits) {
        Some(x) if x > 0.0 => Ok(x),
        _ => Err(format!(
            "`{s}` is not a packet rate (examples: 2Mpps, 500kpps, 100000)"
        )),
    }
}

/// One shard per core, keeping one core for the ingest; at least one.
pub fn default_shards() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .max(1)
}

/// A damaged capture.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct DamagedInput {
    /// The file.
    pub path: PathBuf,
    /// Where and how it is damaged.
    #[source]
    pub source: CaptureError,
}

/// Why a replay could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// Inputs that could not be opened (nothing was processed).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Open(Vec<OpenError>),
    /// The configuration cannot work.
    #[error(transparent)]
    Config(#[from] flowscope_engine::ConfigError),
    /// The pipeline could not start or its ingest failed.
    #[error(transparent)]
    Pipeline(PipelineError),
    /// Writing the output failed (other than the reader going away).
    #[error("writing output: {0}")]
    Output(#[source] io::Error),
    /// The filter expression does not compile, or this build has no
    /// libpcap to compile it.
    #[error("{0}")]
    Filter(String),
}

impl ReplayError {
    /// A pipeline that could not start: a configuration error is the
    /// user's, anything else the pipeline's.
    pub fn from_pipeline(e: PipelineError) -> Self {
        match e {
            PipelineError::Config(c) => ReplayError::Config(c),
            other => ReplayError::Pipeline(other),
        }
    }
}

/// What a replay did.
#[derive(Debug)]
pub struct Summary {
    /// Inputs read.
    pub files: usize,
    /// Capture bytes read.
    pub input_bytes: u64,
    /// Engine counters (packets, flows, skips...), all shards added up.
    pub stats: EngineStats,
    /// Records written.
    pub records: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Damaged inputs (processing went on with the next one).
    pub damaged: Vec<DamagedInput>,
    /// The output's reader went away (broken pipe): processing stopped.
    pub output_closed: bool,
    /// The stop flag ended the input early (every flow was still flushed).
    pub stopped: bool,
    /// Shard threads (0: inline).
    pub shards: usize,
    /// The pipeline's figures (sharded runs).
    pub pipeline: Option<PipelineReport<()>>,
    /// A shard that failed, and why: its flows are missing from the output,
    /// which holds everything the other shards produced.
    pub shard_failure: Option<(usize, String)>,
    /// The parsers' and reassembly's counters (all shards).
    pub sessions: Option<SessionCounters>,
    /// Latency histograms, when recorded (inline runs: `total` only).
    pub latency: Option<LatencyReport>,
    /// Paced runs: packets offered, and lost because the ingest reached
    /// them too late.
    pub paced: Option<(u64, u64)>,
    /// Packets the pipeline dropped because a shard's queue was full
    /// (paced runs; offline runs never drop).
    pub queue_dropped: u64,
    /// With a filter: what it turned away.
    pub filter: Option<FilterReport>,
}

/// What a replay's filter did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterReport {
    /// The expression.
    pub expr: String,
    /// Packets that did not match (never processed).
    pub rejected: u64,
    /// Of those, packets of a link type the expression cannot apply to,
    /// with libpcap's reason per link type.
    pub unusable: u64,
    /// Why, per link type.
    pub unusable_why: Vec<String>,
}

/// The filter of a replay, shared between the source (on the ingest
/// thread) and the summary.
#[cfg(feature = "live")]
type SharedFilter = Arc<std::sync::Mutex<crate::live::OfflineFilter>>;

#[cfg(feature = "live")]
fn attach_filter(
    expr: &str,
    source: FileSource,
) -> Result<(FileSource, impl FnOnce() -> FilterReport), ReplayError> {
    let filter =
        crate::live::OfflineFilter::new(expr).map_err(|e| ReplayError::Filter(e.to_string()))?;
    let shared: SharedFilter = Arc::new(std::sync::Mutex::new(filter));
    let in_source = shared.clone();
    let source = source.with_filter(Box::new(move |linktype, data| {
        // Uncontended: only the reading thread takes it while reading.
        in_source
            .lock()
            .map(|mut f| f.matches(linktype, data))
            .unwrap_or(false)
    }));
    let report = move || {
        let f = shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (unusable, unusable_why) = f.unusable();
        FilterReport {
            expr: f.expr().to_owned(),
            rejected: f.rejected(),
            unusable,
            unusable_why,
        }
    };
    Ok((source, report))
}

/// What reports a filter's figures after the run.
#[cfg(not(feature = "live"))]
type FilterReportFn = fn() -> FilterReport;

#[cfg(not(feature = "live"))]
fn attach_filter(
    expr: &str,
    _source: FileSource,
) -> Result<(FileSource, FilterReportFn), ReplayError> {
    Err(ReplayError::Filter(format!(
        "cannot apply filter `{expr}`: this flowscope was built without libpcap (cargo feature `live`)"
    )))
}

/// Output is written in chunks of about this size.
const FLUSH_AT: usize = 256 * 1024;

/// Runs a replay, writing EVE lines to `out`.
pub fn replay<W: Write>(opts: &ReplayOptions, out: W) -> Result<Summary, ReplayError> {
    let engine_cfg = opts.config.engine();
    engine_cfg.validate()?;
    let keys = KeyOptions::from_config(&engine_cfg);
    with_extractor!(engine_cfg.flow.key, keys, |x| run(opts, x, out))
}

pub(crate) fn open_all(inputs: &[Input]) -> Result<Vec<CaptureFile>, ReplayError> {
    let mut files = Vec::with_capacity(inputs.len());
    let mut errors = Vec::new();
    for input in inputs {
        match input {
            Input::Demo => files.push(CaptureFile::from_bytes(
                DEMO_NAME,
                CaptureBytes::Static(DEMO_PCAP),
            )),
            Input::File(p) => match CaptureFile::open(p) {
                Ok(f) => files.push(f),
                Err(e) => errors.push(e),
            },
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(ReplayError::Open(errors))
    }
}

/// Buffered EVE output that notices a reader going away.
pub(crate) struct Output<W: Write> {
    out: W,
    pub(crate) buf: Vec<u8>,
    pub(crate) records: u64,
    pub(crate) open: bool,
}

impl<W: Write> Output<W> {
    pub(crate) fn new(out: W) -> Self {
        Output {
            out,
            buf: Vec::with_capacity(FLUSH_AT + 64 * 1024),
            records: 0,
            open: true,
        }
    }

    /// Counts the line(s) just appended to the buffer and writes the buffer
    /// out once it is large; `Ok(false)` once the reader has gone away.
    pub(crate) fn wrote(&mut self, lines: u64) -> Result<bool, ReplayError> {
        self.records += lines;
        if self.buf.len() >= FLUSH_AT {
            self.flush_buf()?;
        }
        Ok(self.open)
    }

    fn flush_buf(&mut self) -> Result<(), ReplayError> {
        if self.open {
            match self.out.write_all(&self.buf) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => self.open = false,
                Err(e) => return Err(ReplayError::Output(e)),
            }
        }
        self.buf.clear();
        Ok(())
    }

    /// Writes everything out; whether the reader is still there.
    pub(crate) fn finish(&mut self) -> Result<bool, ReplayError> {
        self.flush_buf()?;
        if self.open {
            match self.out.flush() {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => self.open = false,
                Err(e) => return Err(ReplayError::Output(e)),
            }
        }
        Ok(self.open)
    }
}

/// Renders EVE lines on the shard threads.
#[derive(Debug, Clone)]
pub(crate) struct EveSink(pub(crate) EveRenderer);

impl<K: EveKey, M: EveMessage> EventSink<K, M> for EveSink {
    type Item = Vec<u8>;
    fn map(&mut self, event: Ordered<FlowEvent<K, M>>) -> Option<Vec<u8>> {
        // Room for a typical flow record, so rendering does not regrow it.
        let mut line = Vec::with_capacity(768);
        self.0.render(&event, &mut line);
        (!line.is_empty()).then_some(line)
    }
}

fn run<E, W>(opts: &ReplayOptions, extractor: E, out: W) -> Result<Summary, ReplayError>
where
    E: FlowExtractor + Clone,
    E::Key: EveKey,
    W: Write,
{
    let started = Instant::now();
    let files = open_all(&opts.inputs)?;
    let mut source = FileSource::new(files);
    let total_bytes = source.total_bytes();
    let files = source.files();
    let progress = opts.progress.then(|| progress_bar(total_bytes));
    if let Some(pb) = &progress {
        let pb = pb.clone();
        source = source.with_progress(Box::new(move |done| pb.set_position(done)));
    }
    if let Some((pace, max_late)) = opts.pace {
        source = source.with_pace(Pacer::new(pace, max_late));
    }
    let mut filter_report = None;
    if let Some(expr) = &opts.filter {
        let (filtered, report) = attach_filter(expr, source)?;
        source = filtered;
        filter_report = Some(report);
    }
    let renderer = EveRenderer::new(opts.config.output.clone());
    let stop = opts
        .stop
        .clone()
        .unwrap_or_else(|| Arc::new(AtomicBool::new(false)));
    let shards = opts.shard_count();
    let mut out = Output::new(out);

    let mut summary = if shards == 0 {
        run_inline(opts, extractor, source, &renderer, &stop, &mut out)?
    } else {
        run_sharded(opts, extractor, source, shards, &renderer, &stop, &mut out)?
    };
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    summary.filter = filter_report.map(|r| r());
    summary.files = files;
    summary.input_bytes = total_bytes;
    summary.records = out.records;
    summary.output_closed = !out.open;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

pub(crate) fn empty_summary(shards: usize) -> Summary {
    Summary {
        files: 0,
        input_bytes: 0,
        stats: EngineStats::default(),
        records: 0,
        elapsed: Duration::ZERO,
        damaged: Vec::new(),
        output_closed: false,
        stopped: false,
        shards,
        pipeline: None,
        shard_failure: None,
        sessions: None,
        latency: None,
        paced: None,
        queue_dropped: 0,
        filter: None,
    }
}

/// The parsers a replay runs: the built-in ones the config enables, for
/// five-tuple flows only (coarser keys merge connections, which no stream
/// parser can follow).
fn parsers_for(opts: &ReplayOptions) -> ParsersConfig {
    let mut p = opts.config.parsers.clone();
    if opts.config.flow.key != KeyKind::FiveTuple || opts.no_parsers {
        p.http.enabled = false;
        p.dns.enabled = false;
        p.tls.enabled = false;
        p.quic.enabled = false;
    }
    p
}

/// The drivers' counters, when any parser ran (with none, the stats record
/// has no `app_layer`/`tcp_reassembly` objects).
pub(crate) fn counters_if_parsing(
    opts: &ReplayOptions,
    c: Option<SessionCounters>,
) -> Option<SessionCounters> {
    c.filter(|_| parsers_for(opts).any_enabled())
}

/// Builds one parser driver (one per shard).
pub(crate) fn session_maker<K: Send + 'static>(
    opts: &ReplayOptions,
) -> impl Fn() -> Sessions<K, L7Message> + Send + Sync + 'static {
    let reassembly = opts.config.reassembly.clone();
    let parsers = parsers_for(opts);
    move || builtin(&reassembly, &parsers)
}

/// `shards = 0`: one engine on this thread.
fn run_inline<E, W>(
    opts: &ReplayOptions,
    extractor: E,
    mut source: FileSource,
    renderer: &EveRenderer,
    stop: &AtomicBool,
    out: &mut Output<W>,
) -> Result<Summary, ReplayError>
where
    E: FlowExtractor,
    E::Key: EveKey,
    W: Write,
{
    let mut summary = empty_summary(0);
    let engine = Engine::with_hook(&opts.config.engine(), extractor, session_maker(opts)())?;
    let mut runner = InlineRunner::new(engine, opts.config.pipeline.epoch_packets);
    // Inline, a packet's events come out of its own push: only the total
    // latency (read → rendered) exists.
    let mut latency = (opts.latency_sample > 0).then(|| LatencyReport::new(opts.latency_sample));
    loop {
        if stop.load(Ordering::Relaxed) {
            summary.stopped = true;
            break;
        }
        let packet = match source.next_packet() {
            None => break,
            Some(Err(SourceError::Idle)) => continue,
            Some(Err(_)) => break,
            Some(Ok(p)) => p,
        };
        let seq = runner.packets();
        let read_at = latency
            .as_ref()
            .filter(|l| is_sampled(seq, u64::from(l.sample_every)))
            .map(|_| Instant::now());
        runner.push(&packet.raw);
        let before = out.buf.len();
        let mut lines = 0;
        for ev in runner.events() {
            let at = out.buf.len();
            renderer.render(&ev, &mut out.buf);
            lines += u64::from(out.buf.len() > at);
            if let (Some(t), Some(l)) = (read_at, latency.as_mut())
                && ev.seq == seq
            {
                l.record_total(t.elapsed());
            }
        }
        if out.buf.len() > before && !out.wrote(lines)? {
            break;
        }
    }
    if out.open {
        runner.finish();
        let mut lines = 0;
        for ev in runner.events() {
            let at = out.buf.len();
            renderer.render(&ev, &mut out.buf);
            lines += u64::from(out.buf.len() > at);
        }
        out.wrote(lines)?;
        let stats = runner.engine().stats();
        let sessions = counters_if_parsing(opts, runner.engine().hook().session_counters());
        let at = out.buf.len();
        renderer.render_stats(
            &stats,
            sessions.as_ref(),
            runner.engine().clock(),
            &mut out.buf,
        );
        out.wrote(u64::from(out.buf.len() > at))?;
        out.finish()?;
    }
    summary.stats = runner.engine().stats();
    summary.sessions = counters_if_parsing(opts, runner.engine().hook().session_counters());
    summary.latency = latency;
    summary.paced = source.pacer().map(|p| (p.offered(), p.dropped()));
    summary.damaged = source.take_damaged();
    Ok(summary)
}

/// `shards >= 1`: the threaded pipeline, rendering on the shard threads.
fn run_sharded<E, W>(
    opts: &ReplayOptions,
    extractor: E,
    source: FileSource,
    shards: usize,
    renderer: &EveRenderer,
    stop: &Arc<AtomicBool>,
    out: &mut Output<W>,
) -> Result<Summary, ReplayError>
where
    E: FlowExtractor + Clone,
    E::Key: EveKey,
    W: Write,
{
    let mut summary = empty_summary(shards);
    let mut cfg = opts.config.pipeline.for_run(shards, opts.pin);
    cfg.latency_sample = opts.latency_sample;
    let mut pipeline = Pipeline::builder(opts.config.engine(), extractor)
        .config(cfg)
        .stop_flag(stop.clone())
        .hook(session_maker(opts))
        .sink(EveSink(renderer.clone()))
        .build(source)
        .map_err(ReplayError::from_pipeline)?;
    // Returning false stops the input; the write error, if any, is kept.
    let mut write_error = None;
    let mut write = |line: Vec<u8>| {
        out.buf.extend_from_slice(&line);
        match out.wrote(1) {
            Ok(open) => open,
            Err(e) => {
                write_error = Some(e);
                false
            }
        }
    };
    if !pipeline.merge_here(&mut write) {
        for line in pipeline.receiver() {
            if !write(line) {
                break;
            }
        }
    }
    if let Some(e) = write_error {
        let _ = pipeline.join();
        return Err(e);
    }
    let Some((mut source, report)) = join_pipeline(pipeline, &mut summary, out)? else {
        return Ok(summary);
    };
    finish_run(opts, renderer, &report, &mut summary, out, |_| 0)?;
    summary.paced = source.pacer().map(|p| (p.offered(), p.dropped()));
    summary.damaged = source.take_damaged();
    summary.pipeline = Some(report);
    Ok(summary)
}

/// Waits for a pipeline: its source and report, or `None` when a shard
/// failed — then what the other shards produced is out, without a stats
/// record (which would claim a complete run), and `summary` says why.
pub(crate) fn join_pipeline<T, S, W: Write>(
    pipeline: Pipeline<T, S>,
    summary: &mut Summary,
    out: &mut Output<W>,
) -> Result<Option<(S, PipelineReport<()>)>, ReplayError> {
    match pipeline.join() {
        Ok(report) => Ok(Some(report.without_source())),
        Err(PipelineError::ShardPanicked {
            shard,
            message,
            report,
        }) => {
            out.finish()?;
            summary.shard_failure = Some((shard, message));
            summary.stats = report.engine.clone();
            summary.stopped = report.ingest.stopped;
            summary.pipeline = Some(*report);
            Ok(None)
        }
        Err(e) => Err(ReplayError::Pipeline(e)),
    }
}

/// Ends a completed sharded run: the records `extra` appends (it returns
/// how many), the engine's `stats` record, the output flushed, and the
/// run's figures in `summary`.
pub(crate) fn finish_run<W: Write>(
    opts: &ReplayOptions,
    renderer: &EveRenderer,
    report: &PipelineReport<()>,
    summary: &mut Summary,
    out: &mut Output<W>,
    extra: impl FnOnce(&mut Vec<u8>) -> u64,
) -> Result<(), ReplayError> {
    let sessions = counters_if_parsing(opts, report.sessions());
    if out.open {
        let lines = extra(&mut out.buf);
        out.wrote(lines)?;
        let at = out.buf.len();
        renderer.render_stats(
            &report.engine,
            sessions.as_ref(),
            report.ingest.clock,
            &mut out.buf,
        );
        out.wrote(u64::from(out.buf.len() > at))?;
        out.finish()?;
    }
    summary.stats = report.engine.clone();
    summary.sessions = sessions;
    summary.stopped = report.ingest.stopped && out.open;
    summary.latency = report.latency();
    summary.queue_dropped = report.ingest.dropped.iter().sum();
    Ok(())
}

fn progress_bar(total: u64) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    pb.set_style(style);
    pb
}

impl Summary {
    /// Human-readable run summary for stderr.
    pub fn render(&self) -> String {
        let s = &self.stats;
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let mut lines = Vec::new();
        lines.push(format!(
            "flowscope: {} packets, {} bytes from {} file(s) in {:.3} s: {:.2} Mpps, {:.2} Gbit/s; {} records written",
            s.packets,
            s.bytes,
            self.files,
            secs,
            s.packets as f64 / secs / 1e6,
            s.bytes as f64 * 8.0 / secs / 1e9,
            self.records,
        ));
        let p = &s.flows_by_proto;
        let ended: Vec<String> = flowscope_engine::EndReason::ALL
            .iter()
            .filter(|r| s.flows_ended[r.index()] > 0)
            .map(|r| format!("{} {}", r.as_str(), s.flows_ended[r.index()]))
            .collect();
        lines.push(format!(
            "  flows: {} (tcp {}, udp {}, sctp {}, icmp {}, other {}); ended: {}",
            s.flows_created,
            p.tcp,
            p.udp,
            p.sctp,
            p.icmp,
            p.other,
            if ended.is_empty() {
                "none".to_owned()
            } else {
                ended.join(", ")
            }
        ));
        if let Some(c) = &self.sessions {
            let r = &c.stream;
            lines.push(format!(
                "  parsers: {} flows parsed, {} with payload unclassified, {} records, {} parser errors; \
                 reassembly: {} bytes, {} gaps ({} bytes), {} retransmits, {} out of order, {} cap hits, \
                 out-of-order memory peak {} B",
                c.flows_parsed,
                c.flows_unclassified,
                c.messages,
                c.parser_errors,
                r.delivered,
                r.gaps,
                r.gap_bytes,
                r.retransmits,
                r.out_of_order,
                r.cap_hits,
                c.memory.peak
            ));
        }
        let skipped = s.skipped();
        if !skipped.is_empty() {
            let mut parts: Vec<String> = Vec::new();
            for (name, n) in skipped {
                if name == "malformed" {
                    let reasons: Vec<String> = flowscope_engine::DecodeError::ALL
                        .iter()
                        .filter(|e| s.decode_errors[e.index()] > 0)
                        .map(|e| format!("{} {}", e.name(), s.decode_errors[e.index()]))
                        .collect();
                    parts.push(format!("malformed {n} ({})", reasons.join(", ")));
                } else {
                    parts.push(format!("{name} {n}"));
                }
            }
            lines.push(format!("  skipped packets: {}", parts.join(", ")));
        }
        if s.truncated > 0 || s.ipv4_bad_checksum > 0 || s.packets_after_close > 0 {
            lines.push(format!(
                "  noted: {} cut by snaplen, {} bad IPv4 checksums, {} trailing packets after close",
                s.truncated, s.ipv4_bad_checksum, s.packets_after_close
            ));
        }
        if s.defrag.fragments > 0 {
            let dropped: u64 = s.defrag.drops.iter().sum();
            lines.push(format!(
                "  fragments: {} seen, {} datagrams reassembled, {} dropped",
                s.defrag.fragments, s.defrag.reassembled, dropped
            ));
        }
        let tunnels: Vec<String> = flowscope_engine::TunnelKind::ALL
            .iter()
            .filter(|k| s.tunnel_packets[k.index()] > 0)
            .map(|k| format!("{} {}", k.name(), s.tunnel_packets[k.index()]))
            .collect();
        if !tunnels.is_empty() {
            lines.push(format!("  tunnelled packets: {}", tunnels.join(", ")));
        }
        match &self.pipeline {
            None => lines.push(format!(
                "  inline: one engine on the main thread, peak {} flows",
                s.peak_flows
            )),
            Some(p) => {
                lines.extend(pipeline_lines(p));
                let evicted = s.flows_ended[flowscope_engine::EndReason::Evicted.index()];
                let frag_evicted =
                    s.defrag.drops[flowscope_engine::DefragDrop::CapacityEvicted.index()];
                if evicted + frag_evicted > 0 {
                    lines.push(format!(
                        "  note: a per-shard capacity was reached ({evicted} flows evicted, {frag_evicted} fragment datagrams evicted); output can differ from a run with another shard count"
                    ));
                }
            }
        }
        if let Some((offered, late)) = self.paced {
            lines.push(format!(
                "  paced: {offered} packets offered, {late} lost (ingest too late), {} dropped on full shard queues",
                self.queue_dropped
            ));
        }
        if let Some(f) = &self.filter {
            lines.push(format!(
                "  filter `{}`: {} packets did not match (not processed)",
                f.expr, f.rejected
            ));
            if f.unusable > 0 {
                lines.push(format!(
                    "  filter: {} of them were of a link type it cannot apply to ({})",
                    f.unusable,
                    f.unusable_why.join("; ")
                ));
            }
        }
        if let Some(l) = &self.latency {
            lines.extend(latency_lines(l));
        }
        lines.join("\n")
    }
}

/// Latency percentiles as a small table (microseconds), for stderr.
pub fn latency_lines(l: &LatencyReport) -> Vec<String> {
    let mut lines = vec![format!(
        "  latency, µs (about 1 packet in {} sampled): {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        l.sample_every, "count", "p50", "p90", "p99", "p99.9", "max"
    )];
    for (name, h) in l.stages() {
        if h.is_empty() {
            continue;
        }
        let p = flowscope_shards::Percentiles::of(h);
        lines.push(format!(
            "    {:<14} {:>38} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            if name == "total" {
                "ingest→event"
            } else {
                name
            },
            p.count,
            p.p50,
            p.p90,
            p.p99,
            p.p999,
            p.max
        ));
    }
    if l.lost > 0 {
        lines.push(format!(
            "    ({} events released too late to find their read time)",
            l.lost
        ));
    }
    lines
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// The per-thread figures of a sharded run, for stderr.
fn pipeline_lines(p: &PipelineReport<()>) -> Vec<String> {
    let i = &p.ingest;
    let mut lines = vec![format!(
        "  pipeline: {} shard(s){}, wall {}; imbalance {:.3} (max shard packets / mean)",
        p.shards.len(),
        if p.pinned { ", pinned" } else { ", not pinned" },
        secs(p.wall),
        i.imbalance(),
    )];
    lines.push(format!(
        "  ingest: {} packets, busy {}, blocked on full shard queues {}{}",
        i.packets,
        secs(i.busy),
        secs(i.blocked),
        if i.idle.is_zero() {
            String::new()
        } else {
            format!(", waiting for packets {}", secs(i.idle))
        }
    ));
    for s in &p.shards {
        let k = s.shard;
        lines.push(format!(
            "  shard {k}: {} packets, {} flows (peak {}), {} events, busy {}; queue high-water {} batches, {} stalls{}",
            s.packets,
            s.engine.flows_created,
            s.peak_flows,
            s.items,
            secs(s.busy),
            i.queue_high_water.get(k).copied().unwrap_or(0),
            i.stalls.get(k).copied().unwrap_or(0),
            match i.dropped.get(k).copied().unwrap_or(0) {
                0 => String::new(),
                d => format!(", {d} packets dropped"),
            },
        ));
    }
    lines.push(format!(
        "  merger: {} records, busy {}, at most {} held back for a slower shard",
        p.merger.items,
        secs(p.merger.busy),
        p.merger.held_high_water
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::parse_rate;

    #[test]
    fn rates_parse_with_units() {
        assert_eq!(parse_rate("2Mpps"), Ok(2e6));
        assert_eq!(parse_rate("500kpps"), Ok(5e5));
        assert_eq!(parse_rate("1.5M"), Ok(1.5e6));
        assert_eq!(parse_rate("250000"), Ok(250_000.0));
        assert_eq!(parse_rate(" 3 kpps "), Ok(3000.0));
        for bad in ["", "fast", "0", "-5k", "1e999", "Mpps"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }
}
