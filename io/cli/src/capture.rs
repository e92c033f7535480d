//! `flowscope capture`: a [`LiveSource`] through the sharded pipeline into
//! EVE JSON Lines, the same records `replay` writes, plus a `stats` record
//! with the capture's counters every `--stats-interval` and at the end.
//!
//! The interfaces are opened (and the filter compiled) before anything
//! else, so "no such device", "permission denied" or a bad expression
//! stop the run before it starts; privileges can then be dropped. Records
//! are written as the merge releases them and flushed whenever no record is
//! waiting, so a reader sees them within the epoch interval. The run ends
//! when the stop flag is set (SIGINT/SIGTERM) or every interface has gone
//! away: open flows are flushed with reason `shutdown`.

use crate::error::RunError;
use crate::ipfix::IpfixExport;
use crate::output::{EveSink, Output, RecordEvents, Rendered, render_one, writer_renders};
use crate::run::{RunOptions, finish_run, join_pipeline, session_maker};
use crate::summary::Summary;
use crossbeam_channel::RecvTimeoutError;
use flowscope_engine::{FlowExtractor, KeyOptions, Timestamp, with_extractor};
use flowscope_io::{
    CaptureCounters, CaptureCounts, EveKey, EveRenderer, InterfaceInfo, IpfixKey, JsonObject,
    LiveError, LiveOptions, LiveSource, SCHEMA_VERSION,
};
use flowscope_shards::{Pipeline, PipelineConfig, PipelineStats, SourceError};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

/// Buffered records are written out at least this often.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// What to capture and how.
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    /// Configuration, shards, pinning, stop flag, parsers and latency
    /// sampling, as for `replay`.
    pub run: RunOptions,
    /// Interfaces and capture settings.
    pub live: LiveOptions,
    /// Write a `stats` record this often (`None`: only at the end).
    pub stats_interval: Option<Duration>,
    /// Drop privileges to this user once the interfaces are open.
    pub user: Option<String>,
}

/// Why a capture could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// Opening the interfaces, the filter or the write-through failed.
    #[error(transparent)]
    Live(#[from] LiveError),
    /// Privileges could not be dropped.
    #[error("cannot drop privileges to user {user}: {message}")]
    User {
        /// The user asked for.
        user: String,
        /// Why.
        message: String,
    },
    /// The configuration, the pipeline or the output failed.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// What a capture did.
#[derive(Debug)]
pub struct CaptureSummary {
    /// The run's figures, as for `replay` (`files` is 0).
    pub run: Summary,
    /// The interfaces as opened.
    pub interfaces: Vec<InterfaceInfo>,
    /// The capture's counters at the end.
    pub counts: CaptureCounts,
    /// Read errors (an interface that went away, say).
    pub source_errors: Vec<SourceError>,
    /// Files written through.
    pub written_files: Vec<PathBuf>,
}

impl CaptureSummary {
    /// Human-readable summary for stderr.
    pub fn render(&self) -> String {
        let c = &self.counts;
        let secs = self.run.elapsed.as_secs_f64().max(1e-9);
        let mut lines = vec![format!(
            "flowscope: captured {} packets on {} interface(s) in {:.1} s ({:.0} pps); {} records written",
            self.run.stats.packets,
            self.interfaces.len(),
            secs,
            self.run.stats.packets as f64 / secs,
            self.run.records,
        )];
        for i in &c.interfaces {
            lines.push(format!(
                "  {}: {} packets read, kernel: {} received, {} dropped; interface dropped {}",
                i.name, i.packets, i.kernel_received, i.kernel_dropped, i.if_dropped
            ));
        }
        lines.push(format!(
            "  dropped by flowscope (shard queues full): {}",
            self.run.queue_dropped
        ));
        if !self.written_files.is_empty() {
            lines.push(format!(
                "  written through: {} packets to {}",
                c.written,
                self.written_files
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(why) = &c.write_failure {
            lines.push(format!("  write-through FAILED and stopped: {why}"));
        }
        // The replay summary's lines after its first (flows, parsers,
        // skips, pipeline).
        lines.extend(self.run.render().lines().skip(1).map(str::to_owned));
        lines.join("\n")
    }
}

/// Drops root privileges to `name` (its uid, primary gid and no
/// supplementary groups), as tcpdump `-Z` does.
pub fn drop_privileges(name: &str) -> Result<(), CaptureError> {
    use nix::unistd::{User, setgid, setgroups, setuid};
    let err = |message: String| CaptureError::User {
        user: name.to_owned(),
        message,
    };
    let user = User::from_name(name)
        .map_err(|e| err(e.to_string()))?
        .ok_or_else(|| err("no such user".into()))?;
    setgroups(&[user.gid]).map_err(|e| err(format!("setgroups: {e}")))?;
    setgid(user.gid).map_err(|e| err(format!("setgid: {e}")))?;
    setuid(user.uid).map_err(|e| err(format!("setuid: {e}")))?;
    // Root must be gone for good.
    if setuid(nix::unistd::Uid::from_raw(0)).is_ok() && !user.uid.is_root() {
        return Err(err("root could be regained after setuid".into()));
    }
    Ok(())
}

/// A capture whose interfaces are open (and filter compiled, privileges
/// dropped, write-through file created), not yet read.
#[derive(Debug)]
pub struct OpenCapture {
    source: LiveSource,
    opts: CaptureOptions,
    ipfix: Option<IpfixExport>,
}

impl OpenCapture {
    /// Checks the configuration, opens the interfaces with the filter,
    /// drops privileges if asked, then creates the write-through file.
    pub fn open(opts: &CaptureOptions) -> Result<Self, CaptureError> {
        opts.run.config.engine.validate().map_err(RunError::from)?;
        let ipfix = IpfixExport::open(&opts.run.config.ipfix, opts.run.config.engine.flow.key)
            .map_err(RunError::Ipfix)?;
        // libpcap's compiler cannot be interrupted: the interfaces are
        // opened (and the filter compiled) on a helper thread so that a
        // signal still stops the run at once.
        let live = opts.live.clone();
        let mut source =
            crate::run::unless_stopped(&opts.run.stop_flag(), move || LiveSource::open(&live))
                .ok_or(RunError::Interrupted(
                "opening the interfaces and compiling the filter",
            ))??;
        if let Some(user) = &opts.user {
            drop_privileges(user)?;
        }
        if let Some(w) = &opts.live.write {
            source.write_through(w, opts.live.snaplen)?;
        }
        Ok(OpenCapture {
            source,
            opts: opts.clone(),
            ipfix,
        })
    }

    /// The interfaces as opened.
    pub fn interfaces(&self) -> Vec<InterfaceInfo> {
        self.source.interfaces()
    }

    /// Shard threads the run will use.
    pub fn shards(&self) -> usize {
        self.opts.run.shard_count().max(1)
    }

    /// Reads until the stop flag is set or every interface has gone away,
    /// writing EVE lines to `out`.
    pub fn run<W: Write>(self, out: W) -> Result<CaptureSummary, CaptureError> {
        let OpenCapture {
            source,
            opts,
            mut ipfix,
        } = self;
        let flow = &opts.run.config.engine.flow;
        let keys = KeyOptions::from_config(&opts.run.config.engine);
        let mut summary =
            with_extractor!(flow.key, keys, |x| run(&opts, source, x, &mut ipfix, out))?;
        summary.run.ipfix = ipfix.map(IpfixExport::finish);
        Ok(summary)
    }
}

/// Opens and runs a capture ([`OpenCapture::open`], then
/// [`OpenCapture::run`]).
pub fn capture<W: Write>(opts: &CaptureOptions, out: W) -> Result<CaptureSummary, CaptureError> {
    OpenCapture::open(opts)?.run(out)
}

fn wall_clock() -> Timestamp {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(Timestamp::ZERO, |d| {
            Timestamp::from_nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        })
}

/// The live `stats` record: the capture's counters and the pipeline's.
fn render_live_stats(
    out: &mut Vec<u8>,
    uptime: Duration,
    last: bool,
    counts: &CaptureCounts,
    pipeline: &PipelineStats,
) {
    let mut o = JsonObject::new(out);
    o.ts("timestamp", wall_clock())
        .str("event_type", "stats")
        .begin("stats");
    o.u64("schema_version", SCHEMA_VERSION);
    let processed: u64 = pipeline.shard_packets.iter().sum();
    let active: u64 = pipeline.shard_flows.iter().sum();
    // Suricata's names first (its stats dashboards read these), then
    // flowscope's finer counts.
    o.u64("uptime", uptime.as_secs());
    o.begin("decoder");
    o.u64("pkts", processed);
    o.end();
    o.begin("flow");
    o.u64("active", active);
    o.end();
    o.begin("capture");
    o.u64(
        "kernel_packets",
        counts.interfaces.iter().map(|i| i.kernel_received).sum(),
    )
    .u64("kernel_drops", counts.kernel_dropped())
    .u64("kernel_ifdrops", counts.if_dropped());
    o.u64("uptime_ms", uptime.as_millis() as u64)
        .bool("final", last)
        .u64("packets", counts.packets())
        .u64("packets_processed", processed)
        .u64("flows_active", active);
    o.begin("drops");
    o.u64("kernel", counts.kernel_dropped())
        .u64("interface", counts.if_dropped())
        .u64("shard_queue_full", pipeline.packets_dropped)
        .u64(
            "read_errors",
            counts.interfaces.iter().map(|i| i.errors).sum(),
        );
    o.end();
    o.begin_array("interfaces");
    for i in &counts.interfaces {
        o.item_object();
        o.str("name", &i.name)
            .u64("packets", i.packets)
            .u64("bytes", i.bytes)
            .u64("kernel_received", i.kernel_received)
            .u64("kernel_dropped", i.kernel_dropped)
            .u64("if_dropped", i.if_dropped);
        o.end();
    }
    o.end();
    o.begin_array("shards");
    for k in 0..pipeline.shard_packets.len() {
        o.item_object();
        o.u64("packets", pipeline.shard_packets[k])
            .u64(
                "flows_active",
                pipeline.shard_flows.get(k).copied().unwrap_or(0),
            )
            .u64(
                "queue_depth",
                pipeline.queue_depth.get(k).copied().unwrap_or(0),
            )
            .u64(
                "dropped",
                pipeline.shard_dropped.get(k).copied().unwrap_or(0),
            );
        o.end();
    }
    o.end();
    o.begin("write_through");
    o.u64("packets", counts.written)
        .bool("failed", counts.write_failure.is_some());
    o.end();
    o.end();
    o.end();
    o.finish_line();
}

/// What the writing loop of a capture needs besides the pipeline.
struct Live<'a> {
    started: Instant,
    stats_interval: Option<Duration>,
    counters: &'a CaptureCounters,
}

impl Live<'_> {
    /// Writes what the pipeline releases, each item through `write` (which
    /// appends its line, if any, and says whether the output is still
    /// open), a `stats` record every `stats_interval`, and flushes whenever
    /// no record waits or `FLUSH_EVERY` has passed; until the pipeline ends
    /// or the reader goes away.
    fn write<T, W: Write>(
        &self,
        pipeline: &Pipeline<T, LiveSource>,
        out: &mut Output<W>,
        mut write: impl FnMut(T, &mut Output<W>) -> Result<bool, RunError>,
    ) -> Result<(), RunError> {
        let mut next_stats = self.stats_interval.map(|i| self.started + i);
        let mut last_flush = Instant::now();
        loop {
            let now = Instant::now();
            if let (Some(at), Some(every)) = (next_stats, self.stats_interval)
                && now >= at
            {
                let from = out.buf.len();
                render_live_stats(
                    &mut out.buf,
                    self.started.elapsed(),
                    false,
                    &self.counters.snapshot(),
                    &pipeline.stats(),
                );
                out.stats_rendered(from);
                if !out.wrote(1)? {
                    return Ok(());
                }
                // Catch up without a burst of records after a stall.
                let mut next = at + every;
                while next <= now {
                    next += every;
                }
                next_stats = Some(next);
            }
            let receiver = pipeline.receiver();
            if !out.buf.is_empty() && (receiver.is_empty() || now >= last_flush + FLUSH_EVERY) {
                last_flush = now;
                if !out.finish()? {
                    return Ok(());
                }
            }
            let wait = next_stats
                .map_or(FLUSH_EVERY, |at| at.saturating_duration_since(now))
                .min(FLUSH_EVERY);
            match receiver.recv_timeout(wait) {
                Ok(item) => {
                    if !write(item, out)? {
                        return Ok(());
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
        }
    }
}

fn run<E, W>(
    opts: &CaptureOptions,
    source: LiveSource,
    extractor: E,
    ipfix: &mut Option<IpfixExport>,
    out: W,
) -> Result<CaptureSummary, CaptureError>
where
    E: FlowExtractor + Clone,
    E::Key: EveKey + IpfixKey,
    W: Write,
{
    let counters = source.counters();
    let interfaces = source.interfaces();
    let started = Instant::now();
    let ropts = &opts.run;
    let renderer = EveRenderer::new(ropts.config.output.clone())
        .with_interfaces(interfaces.iter().map(|i| i.name.clone()).collect());
    let stop = ropts.stop_flag();
    let shards = ropts.shard_count().max(1);
    let cfg = PipelineConfig {
        shards: Some(shards),
        pin: ropts.pin.or(ropts.config.pipeline.pin),
        latency_sample: ropts.latency_sample,
        // The consumer must wake on time for stats records and flushes, so
        // the merge runs on its own thread.
        merger_thread: true,
        ..ropts.config.pipeline.clone()
    };
    let mut summary = Summary::new(shards);
    let builder = Pipeline::builder(ropts.config.engine.clone(), extractor)
        .config(cfg)
        .stop_flag(stop.clone())
        .hook(session_maker(ropts));
    let mut out = Output::new(out);
    out.counters = ropts.output_counters.clone();
    out.strict = renderer.strict().cloned();
    let live = Live {
        started,
        stats_interval: opts.stats_interval,
        counters: &counters,
    };
    let joined = if writer_renders(shards) {
        // As in a one-shard replay: the shard hands on its events, and they
        // are rendered here.
        let mut here = renderer.clone();
        let pipeline = builder
            .sink(RecordEvents)
            .build(source)
            .map_err(RunError::from_pipeline)?;
        live.write(&pipeline, &mut out, |ev, out| {
            let line = render_one(&ev, &mut here, None, ipfix, &mut out.buf);
            out.wrote(u64::from(line))
        })?;
        join_pipeline(pipeline, &mut summary, &mut out)?
    } else {
        let pipeline = builder
            .sink(EveSink(renderer.clone(), None, ipfix.is_some()))
            .build(source)
            .map_err(RunError::from_pipeline)?;
        // Read from the merge's thread: each line is its own.
        live.write(&pipeline, &mut out, |r: Rendered, out| {
            r.write(&[], ipfix, out)
        })?;
        join_pipeline(pipeline, &mut summary, &mut out)?
    };
    let Some((mut source, report)) = joined else {
        return Ok(CaptureSummary {
            run: summary,
            interfaces,
            counts: counters.snapshot(),
            source_errors: Vec::new(),
            written_files: Vec::new(),
        });
    };
    // Final figures: libpcap's statistics and the write-through, flushed.
    source.publish();
    let counts = counters.snapshot();
    let final_stats = PipelineStats {
        packets_read: report.ingest.packets,
        packets_dropped: report.ingest.dropped.iter().sum(),
        shard_packets: report.shards.iter().map(|s| s.packets).collect(),
        shard_flows: vec![0; report.shards.len()],
        shard_dropped: report.ingest.dropped.clone(),
        queue_depth: vec![0; report.shards.len()],
        items_merged: report.merger.items,
    };
    finish_run(ropts, &renderer, &report, &mut summary, &mut out, |buf| {
        let at = buf.len();
        render_live_stats(buf, started.elapsed(), true, &counts, &final_stats);
        crate::output::finish_stats(
            buf,
            at,
            ropts.output_counters.as_deref(),
            renderer.strict().map(|f| &**f),
        );
        1
    })?;
    summary.records = out.records;
    summary.output_closed = !out.open;
    summary.elapsed = started.elapsed();
    summary.peak_resident = crate::summary::peak_resident_bytes();
    let source_errors = report.ingest.source_errors.clone();
    let written_files = source.written_files();
    summary.pipeline = Some(report);
    drop(source);
    Ok(CaptureSummary {
        run: summary,
        interfaces,
        counts,
        source_errors,
        written_files,
    })
}
