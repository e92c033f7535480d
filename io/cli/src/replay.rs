//! `flowscope replay`: capture files through the engine into EVE JSON Lines.
//!
//! Inputs are opened up front (files mapped, standard input and FIFOs set
//! up as streams), so a missing or unreadable file is reported before any
//! output. They are then read in order as one packet stream
//! ([`FileSource`]): through one engine on this thread (`shards = 0`) or
//! through the sharded pipeline, which renders records on its shard
//! threads and yields them in the same order. At the end every open flow is
//! flushed and the `stats` record is written.

use crate::config::Config;
use crate::error::RunError;
use crate::input::{FileReading, Input, open_all};
use crate::ipfix::IpfixExport;
use crate::output::{
    EveSink, Output, PcapNames, RecordEvents, Rendered, render_one, writer_renders,
};
use crate::progress::progress_bar;
use crate::run::{RunOptions, counters_if_parsing, finish_run, join_pipeline, session_maker};
use crate::summary::{FilterReport, Summary};
use flowscope_engine::{Engine, FlowExtractor, FlowHook, KeyOptions, with_extractor};
use flowscope_io::{EveKey, EveRenderer, FileSource, InputStarts, IpfixKey};
use flowscope_shards::{
    InlineRunner, LatencyReport, Pace, Pacer, PacketSource, Pipeline, PipelineConfig,
    PipelineReport, SourceError, is_sampled,
};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What to replay and how.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Inputs, read in order as one stream.
    pub inputs: Vec<Input>,
    /// Configuration, shards, pinning, stop flag, parsers and latency
    /// sampling.
    pub run: RunOptions,
    /// Show a progress bar (by bytes) on stderr.
    pub progress: bool,
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
            run: RunOptions::new(config),
            progress: false,
            pace: None,
            filter: None,
        }
    }
}

/// The filter of a replay, shared between the source (on the ingest
/// thread) and the summary.
#[cfg(feature = "live")]
type SharedFilter = Arc<std::sync::Mutex<flowscope_io::OfflineFilter>>;

#[cfg(feature = "live")]
fn attach_filter(
    expr: &str,
    source: FileSource,
    stop: &AtomicBool,
) -> Result<(FileSource, impl FnOnce() -> FilterReport + use<>), RunError> {
    // libpcap's compiler cannot be interrupted: it runs on a helper thread
    // so that a signal still stops the run at once.
    let owned = expr.to_owned();
    let filter = crate::run::unless_stopped(stop, move || flowscope_io::OfflineFilter::new(&owned))
        .ok_or(RunError::Interrupted("compiling the filter"))?
        .map_err(|e| RunError::Filter(e.to_string()))?;
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
    _stop: &AtomicBool,
) -> Result<(FileSource, FilterReportFn), RunError> {
    Err(RunError::Filter(format!(
        "cannot apply filter `{expr}`: this flowscope was built without libpcap (cargo feature `live`)"
    )))
}

/// Runs a replay, writing EVE lines to `out` (and exporting IPFIX when
/// `[ipfix] target` names a collector).
pub fn replay<W: Write>(opts: &ReplayOptions, out: W) -> Result<Summary, RunError> {
    let ipfix = IpfixExport::open(&opts.run.config.ipfix, opts.run.config.engine.flow.key)
        .map_err(RunError::Ipfix)?;
    replay_exporting(opts, ipfix, out)
}

/// [`replay`] with the IPFIX export already open (so that a collector
/// that cannot be reached is reported before `-o`'s file is created).
pub fn replay_exporting<W: Write>(
    opts: &ReplayOptions,
    ipfix: Option<IpfixExport>,
    out: W,
) -> Result<Summary, RunError> {
    let engine_cfg = &opts.run.config.engine;
    engine_cfg.validate()?;
    let keys = KeyOptions::from_config(engine_cfg);
    with_extractor!(engine_cfg.flow.key, keys, |x| run(opts, x, ipfix, out))
}

fn run<E, W>(
    opts: &ReplayOptions,
    extractor: E,
    mut ipfix: Option<IpfixExport>,
    out: W,
) -> Result<Summary, RunError>
where
    E: FlowExtractor + Clone,
    E::Key: EveKey + IpfixKey,
    W: Write,
{
    let started = Instant::now();
    let shards = opts.run.shard_count();
    // The inline engine reads each file once on this thread, the cheaper
    // way; the pipeline shares the mapped bytes with its shards.
    let reading = if shards == 0 {
        FileReading::OnePass
    } else {
        FileReading::Mapped
    };
    let files = open_all(&opts.inputs, reading)?;
    let mut source = FileSource::new(files);
    let names = opts.run.config.sink.pcap_filename.then(|| {
        let starts = Arc::new(InputStarts::new(opts.inputs.len()));
        let names: Vec<String> = opts.inputs.iter().map(Input::name).collect();
        Arc::new(PcapNames::new(&names, starts))
    });
    if let Some(n) = &names {
        source = source.with_input_starts(n.starts());
    }
    let files = source.files();
    let progress = opts.progress.then(|| progress_bar(source.total_bytes()));
    if let Some(pb) = &progress {
        let pb = pb.clone();
        source = source.with_progress(Box::new(move |done| pb.set_position(done)));
    }
    if let Some((pace, max_late)) = opts.pace {
        source = source.with_pace(Pacer::new(pace, max_late));
    }
    let mut filter_report = None;
    let stop = opts.run.stop_flag();
    if let Some(expr) = &opts.filter {
        let (filtered, report) = attach_filter(expr, source, &stop)?;
        source = filtered;
        filter_report = Some(report);
    }
    let mut renderer = EveRenderer::new(opts.run.config.output.clone());
    let mut out = Output::new(out);
    out.counters = opts.run.output_counters.clone();
    out.strict = renderer.strict().cloned();

    let render = (&mut renderer, names, &mut ipfix);
    let mut summary = if shards == 0 {
        run_inline(opts, extractor, source, render, &stop, &mut out)?
    } else {
        run_sharded(opts, extractor, source, shards, render, &stop, &mut out)?
    };
    summary.ipfix = ipfix.map(IpfixExport::finish);
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    summary.filter = filter_report.map(|r| r());
    summary.files = files;
    summary.records = out.records;
    summary.output_closed = !out.open;
    summary.elapsed = started.elapsed();
    summary.peak_resident = crate::summary::peak_resident_bytes();
    Ok(summary)
}

/// How records leave: the EVE renderer, the input names stamped on them,
/// the IPFIX export.
type Render<'a> = (
    &'a mut EveRenderer,
    Option<Arc<PcapNames>>,
    &'a mut Option<IpfixExport>,
);

/// Packets the inline engine pushes before it renders their events. The
/// renderer's code then runs over a run of records instead of between
/// every two packets, as a shard renders a batch's events after the batch
/// (in the simulated caches of `valgrind --tool=cachegrind`, 38 % fewer
/// instruction-cache misses than rendering after each packet); the
/// records and their order are the same. Whatever was gathered is also
/// rendered whenever the input has nothing to read at once.
const RENDER_EVERY: u64 = 64;

/// Renders and writes the events the inline engine gathered; whether the
/// output is still open. `sampled`: the packets, among those gathered,
/// whose read-to-rendered latency is recorded (sequence number, when it
/// was read), emptied here.
fn render_gathered<E, H, W>(
    runner: &mut InlineRunner<E, H>,
    (renderer, names, ipfix): (
        &mut EveRenderer,
        &Option<Arc<PcapNames>>,
        &mut Option<IpfixExport>,
    ),
    (sampled, latency): (&mut Vec<(u64, Instant)>, Option<&mut LatencyReport>),
    out: &mut Output<W>,
) -> Result<bool, RunError>
where
    E: FlowExtractor,
    E::Key: EveKey + IpfixKey,
    H: FlowHook<E::Key>,
    H::Message: flowscope_io::EveMessage,
    W: Write,
{
    let before = out.buf.len();
    let mut lines = 0;
    let mut latency = latency.filter(|_| !sampled.is_empty());
    for ev in runner.events() {
        lines += u64::from(render_one(
            &ev,
            renderer,
            names.as_deref(),
            ipfix,
            &mut out.buf,
        ));
        if let Some(l) = latency.as_deref_mut()
            && let Some((_, read_at)) = sampled.iter().find(|(seq, _)| *seq == ev.seq)
        {
            l.record_total(read_at.elapsed());
        }
    }
    sampled.clear();
    if out.buf.len() > before {
        return out.wrote(lines);
    }
    Ok(out.open)
}

/// `shards = 0`: one engine on this thread.
fn run_inline<E, W>(
    opts: &ReplayOptions,
    extractor: E,
    mut source: FileSource,
    (renderer, names, ipfix): Render<'_>,
    stop: &AtomicBool,
    out: &mut Output<W>,
) -> Result<Summary, RunError>
where
    E: FlowExtractor,
    E::Key: EveKey + IpfixKey,
    W: Write,
{
    let run = &opts.run;
    let mut summary = Summary::new(0);
    let engine = Engine::with_hook(&run.config.engine, extractor, session_maker(run)())?;
    let mut runner = InlineRunner::new(engine, run.config.pipeline.epoch_packets);
    // Inline there are no stages: only the total latency (read → rendered)
    // exists.
    let mut latency = (run.latency_sample > 0).then(|| LatencyReport::new(run.latency_sample));
    // The sampled packets among those whose events wait to be rendered.
    let mut sampled = Vec::new();
    loop {
        if stop.load(Ordering::Relaxed) {
            summary.stopped = true;
            break;
        }
        let packet = match source.next_packet() {
            None => break,
            Some(Err(SourceError::Idle)) => {
                // Nothing to read at once: what was gathered goes out.
                let lat = (&mut sampled, latency.as_mut());
                if !render_gathered(&mut runner, (renderer, &names, ipfix), lat, out)? {
                    break;
                }
                continue;
            }
            Some(Err(_)) => break,
            Some(Ok(p)) => p,
        };
        let seq = runner.packets();
        if latency
            .as_ref()
            .is_some_and(|l| is_sampled(seq, u64::from(l.sample_every)))
        {
            sampled.push((seq, Instant::now()));
        }
        runner.push(&packet.raw);
        // A timer batch of more flows than a step ends: rendered and
        // written a step at a time (after a gap in the capture's time the
        // whole table may be due).
        let mut open = true;
        while open && runner.timers_pending() {
            let lat = (&mut sampled, latency.as_mut());
            open = render_gathered(&mut runner, (renderer, &names, ipfix), lat, out)?;
            runner.step_timers();
        }
        if !open {
            break;
        }
        if runner.packets().is_multiple_of(RENDER_EVERY) {
            let lat = (&mut sampled, latency.as_mut());
            if !render_gathered(&mut runner, (renderer, &names, ipfix), lat, out)? {
                break;
            }
        }
    }
    if out.open {
        let lat = (&mut sampled, latency.as_mut());
        render_gathered(&mut runner, (renderer, &names, ipfix), lat, out)?;
        // Flushed, rendered and written a step at a time: the flush of a
        // full table is millions of records.
        runner.finish_each(|ev| {
            if render_one(&ev, renderer, names.as_deref(), ipfix, &mut out.buf) {
                out.wrote(1)
            } else {
                Ok(true)
            }
        })?;
        let stats = runner.engine().stats();
        let sessions = counters_if_parsing(run, runner.engine().hook().session_counters());
        let at = out.buf.len();
        renderer.render_stats(
            &stats,
            sessions.as_ref(),
            runner.engine().clock(),
            &mut out.buf,
        );
        out.stats_rendered(at);
        out.wrote(u64::from(out.buf.len() > at))?;
        out.finish()?;
    }
    summary.stats = runner.engine().stats();
    summary.sessions = counters_if_parsing(run, runner.engine().hook().session_counters());
    summary.latency = latency;
    summary.paced = source.pacer().map(|p| (p.offered(), p.dropped()));
    summary.damaged = source.take_damaged();
    summary.input_bytes = source.input_bytes();
    Ok(summary)
}

/// Whether the output is still open after a write; a write error is kept
/// in `error` and stops the input.
fn still_open(wrote: Result<bool, RunError>, error: &mut Option<RunError>) -> bool {
    match wrote {
        Ok(open) => open,
        Err(e) => {
            *error = Some(e);
            false
        }
    }
}

/// Waits for the pipeline once its output is consumed: the write error
/// first, if there was one; `None` when a shard failed (reported in
/// `summary`).
fn join_written<T, W: Write>(
    pipeline: Pipeline<T, FileSource>,
    write_error: Option<RunError>,
    summary: &mut Summary,
    out: &mut Output<W>,
) -> Result<Option<(FileSource, PipelineReport<()>)>, RunError> {
    if let Some(e) = write_error {
        let _ = pipeline.join();
        return Err(e);
    }
    join_pipeline(pipeline, summary, out)
}

/// `shards >= 1`: the threaded pipeline. With several shards the records
/// are rendered on the shard threads; with one ([`writer_renders`]) the
/// shard hands on its events unrendered and they are rendered here. The
/// records are the same bytes either way.
fn run_sharded<E, W>(
    opts: &ReplayOptions,
    extractor: E,
    source: FileSource,
    shards: usize,
    (renderer, names, ipfix): Render<'_>,
    stop: &Arc<AtomicBool>,
    out: &mut Output<W>,
) -> Result<Summary, RunError>
where
    E: FlowExtractor + Clone,
    E::Key: EveKey + IpfixKey,
    W: Write,
{
    let run = &opts.run;
    let mut summary = Summary::new(shards);
    let cfg = PipelineConfig {
        shards: Some(shards),
        pin: run.pin.or(run.config.pipeline.pin),
        latency_sample: run.latency_sample,
        ..run.config.pipeline.clone()
    };
    let builder = Pipeline::builder(run.config.engine.clone(), extractor)
        .config(cfg)
        .stop_flag(stop.clone())
        .hook(session_maker(run));
    // Returning false stops the input; the write error, if any, is kept.
    let mut write_error = None;
    let joined = if writer_renders(shards) {
        let mut pipeline = builder
            .sink(RecordEvents)
            .build(source)
            .map_err(RunError::from_pipeline)?;
        pipeline.consume(|ev| {
            let line = render_one(&ev, renderer, names.as_deref(), ipfix, &mut out.buf);
            still_open(out.wrote(u64::from(line)), &mut write_error)
        });
        join_written(pipeline, write_error, &mut summary, out)?
    } else {
        let mut pipeline = builder
            .sink(EveSink(renderer.clone(), names.clone(), ipfix.is_some()))
            .build(source)
            .map_err(RunError::from_pipeline)?;
        pipeline.consume_with_bytes(|r: Rendered, bytes: &[u8]| {
            still_open(r.write(bytes, ipfix, out), &mut write_error)
        });
        join_written(pipeline, write_error, &mut summary, out)?
    };
    let Some((mut source, report)) = joined else {
        return Ok(summary);
    };
    finish_run(run, renderer, &report, &mut summary, out, |_| 0)?;
    summary.paced = source.pacer().map(|p| (p.offered(), p.dropped()));
    summary.damaged = source.take_damaged();
    summary.input_bytes = source.input_bytes();
    summary.pipeline = Some(report);
    Ok(summary)
}
