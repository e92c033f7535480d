//! What the commands that run packets through the engine share: the options
//! common to `replay` and `capture` ([`RunOptions`]), the shard count, the
//! parsers a run builds on each shard, the end of a sharded run (joining
//! the pipeline, the final `stats` record), and [`unless_stopped`] for
//! work before the run that cannot look at the stop flag.

use crate::config::Config;
use crate::error::RunError;
use crate::output::Output;
use crate::summary::Summary;
use flowscope_engine::parsers::{L7Message, ParsersConfig, builtin};
use flowscope_engine::{KeyKind, SessionCounters, Sessions};
use flowscope_io::EveRenderer;
use flowscope_shards::{Pipeline, PipelineError, PipelineReport, default_shards};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a run goes, whatever its input (`replay` and `capture`).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Configuration.
    pub config: Config,
    /// Shard threads, overriding the configuration: `0` runs one engine on
    /// the calling thread; `None` takes `[pipeline] shards`, else
    /// [`default_shard_count`].
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
    /// The counters of the sink the records go to (`-o`), added to every
    /// `stats` record as its `output` object.
    pub output_counters: Option<Arc<crate::sink::SinkCounters>>,
}

impl RunOptions {
    /// Options with everything from `config`.
    pub fn new(config: Config) -> Self {
        RunOptions {
            config,
            shards: None,
            pin: None,
            stop: None,
            no_parsers: false,
            latency_sample: 0,
            output_counters: None,
        }
    }

    /// The shard count this run goes with (0: inline).
    pub fn shard_count(&self) -> usize {
        shard_count(self.shards, &self.config)
    }

    /// The stop flag, or a fresh one nobody sets.
    pub(crate) fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop
            .clone()
            .unwrap_or_else(|| Arc::new(AtomicBool::new(false)))
    }
}

/// The shard count of a run: `asked`, else `[pipeline] shards`, else
/// [`default_shard_count`] (0: inline).
pub fn shard_count(asked: Option<usize>, config: &Config) -> usize {
    asked
        .or(config.pipeline.shards)
        .unwrap_or_else(default_shard_count)
}

/// The shard count when none is asked for: [`default_shards`] (one per
/// core but one, at least 1) when the process may use two cores or more;
/// 0, one engine on the main thread, when it may use one (an affinity
/// mask, a cgroup's CPU quota or a one-core machine, as
/// [`std::thread::available_parallelism`] reports it). On one core the
/// pipeline's three threads (ingest, shard, writer) take turns doing the
/// inline engine's work and hand it over besides: 8–18 % slower with
/// every parser on and 20–22 % with `--no-parsers`
/// (docs/performance.md, "Pipeline per shard count"). Live capture, which
/// always runs the pipeline, takes at least one shard.
pub fn default_shard_count() -> usize {
    match std::thread::available_parallelism() {
        Ok(cores) if cores.get() > 1 => default_shards(),
        _ => 0,
    }
}

/// The parsers a run has: the built-in ones the config enables, for
/// five-tuple flows only (coarser keys merge connections, which no stream
/// parser can follow).
fn parsers_for(opts: &RunOptions) -> ParsersConfig {
    let mut p = opts.config.parsers.clone();
    if opts.config.engine.flow.key != KeyKind::FiveTuple || opts.no_parsers {
        p.disable_all();
    }
    p
}

/// The drivers' counters, when any parser ran (with none, the stats record
/// has no `app_layer`/`tcp_reassembly` objects).
pub(crate) fn counters_if_parsing(
    opts: &RunOptions,
    c: Option<SessionCounters>,
) -> Option<SessionCounters> {
    c.filter(|_| parsers_for(opts).any_enabled())
}

/// Builds one parser driver (one per shard).
pub(crate) fn session_maker<K: Send + 'static>(
    opts: &RunOptions,
) -> impl Fn() -> Sessions<K, L7Message> + Send + Sync + 'static {
    let reassembly = opts.config.engine.reassembly.clone();
    let parsers = parsers_for(opts);
    move || builtin(&reassembly, &parsers)
}

/// Waits for a pipeline: its source and report, or `None` when a shard
/// failed — then what the other shards produced is out, without a stats
/// record (which would claim a complete run), and `summary` says why.
pub(crate) fn join_pipeline<T, S, W: Write>(
    pipeline: Pipeline<T, S>,
    summary: &mut Summary,
    out: &mut Output<W>,
) -> Result<Option<(S, PipelineReport<()>)>, RunError> {
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
        Err(e) => Err(RunError::Pipeline(e)),
    }
}

/// Ends a completed sharded run: the records `extra` appends (it returns
/// how many), the engine's `stats` record, the output flushed, and the
/// run's figures in `summary`.
pub(crate) fn finish_run<W: Write>(
    opts: &RunOptions,
    renderer: &EveRenderer,
    report: &PipelineReport<()>,
    summary: &mut Summary,
    out: &mut Output<W>,
    extra: impl FnOnce(&mut Vec<u8>) -> u64,
) -> Result<(), RunError> {
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
        out.stats_rendered(at);
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

/// How often [`unless_stopped`] looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(20);

/// Runs `work` on a helper thread and returns its result, or `None` as
/// soon as `stop` is set: the thread is then left to itself, for the
/// caller to end the process. If no thread can be started, `work` runs
/// here.
pub fn unless_stopped<T, F>(stop: &AtomicBool, work: F) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let work = Arc::new(Mutex::new(Some(work)));
    let in_thread = work.clone();
    let spawned = std::thread::Builder::new()
        .name("flowscope-work".into())
        .spawn(move || {
            let f = in_thread.lock().ok().and_then(|mut w| w.take());
            if let Some(f) = f {
                // The receiver may be gone: nobody waits any more.
                let _ = tx.send(f());
            }
        });
    let Ok(handle) = spawned else {
        let f = work.lock().ok().and_then(|mut w| w.take());
        return f.map(|f| f());
    };
    loop {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        match rx.recv_timeout(STOP_POLL) {
            Ok(value) => return Some(value),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            // The work panicked: so does the caller, as if it had run here.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                if let Err(panic) = handle.join() {
                    std::panic::resume_unwind(panic);
                }
                return None;
            }
        }
    }
}
