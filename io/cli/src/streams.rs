//! `flowscope streams`: every TCP connection's reassembled bytes, one file
//! per direction, plus `index.jsonl` describing each file — like tcpflow,
//! but through flowscope's reassembler (ordered, overlap- and
//! retransmission-aware, gaps reported instead of silently zero-filled or
//! stalled).
//!
//! The bytes are captured by [`StreamCapture`], an ordinary
//! [`SessionParser`] registered for every TCP flow, so this runs through the
//! same engine or sharded pipeline as `replay` and its output is the same
//! for any shard count.
//!
//! File names are predictable (flow ids), so the output directory is
//! checked first (a real directory, empty unless `force`) and every file is
//! created with `O_CREAT|O_EXCL|O_NOFOLLOW`: a symbolic link planted under
//! a name this run writes is refused, never followed.

use crate::config::Config;
use crate::error::RunError;
use crate::input::{FileReading, Input, open_all};
use crate::run::shard_count;
use flowscope_engine::{
    Engine, FiveTuple, FiveTupleKey, FlowEvent, FlowSide, FlowStats, KeyKind, KeyOptions, Ordered,
    Orientation, Route, SessionParser, Sessions, community_id,
};
use flowscope_io::{DamagedInput, FileSource, JsonObject};
use flowscope_shards::{InlineRunner, PacketSource, Pipeline, PipelineConfig, SourceError};
use std::collections::{HashMap, HashSet};
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A piece of one direction of a stream, as [`StreamCapture`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Bytes, in stream order.
    Data(Vec<u8>),
    /// Bytes lost to the capture.
    Gap(u64),
}

/// A [`SessionParser`] that hands on every reassembled byte and gap.
#[derive(Debug, Default, Clone)]
pub struct StreamCapture;

impl SessionParser for StreamCapture {
    type Message = Piece;
    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<Piece> {
        vec![Piece::Data(bytes.to_vec())]
    }
    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<Piece> {
        vec![Piece::Data(bytes.to_vec())]
    }
    fn gap_initiator(&mut self, len: u64) -> Vec<Piece> {
        vec![Piece::Gap(len)]
    }
    fn gap_responder(&mut self, len: u64) -> Vec<Piece> {
        vec![Piece::Gap(len)]
    }
}

/// What to extract and where.
#[derive(Debug, Clone)]
pub struct StreamsOptions {
    /// Inputs, read in order as one stream.
    pub inputs: Vec<Input>,
    /// Output directory (created, mode 0700, if missing; must be empty
    /// unless `force`).
    pub out_dir: PathBuf,
    /// Configuration (`[flow]`, `[reassembly]`, `[pipeline]` apply).
    pub config: Config,
    /// Shard threads (0: inline); `None` as for `replay`.
    pub shards: Option<usize>,
    /// Pin threads to cores.
    pub pin: Option<bool>,
    /// Write zero bytes for gaps, so file offsets equal stream offsets (as
    /// tcpflow's files have).
    pub fill_gaps: bool,
    /// Also write one `FLOWID-both.bin` per flow with both directions in
    /// arrival order and gaps marked `[N bytes missing]` (PcapPlusPlus's
    /// test format).
    pub combined: bool,
    /// Accept a non-empty output directory: an existing regular file under
    /// a name this run writes is replaced (unlinked, then created anew);
    /// a symbolic link or any other kind of file is refused.
    pub force: bool,
    /// Once set, reading stops and every open flow is flushed.
    pub stop: Option<Arc<AtomicBool>>,
}

impl StreamsOptions {
    /// Options with defaults for everything but inputs and directory.
    pub fn new(inputs: Vec<Input>, out_dir: PathBuf, config: Config) -> Self {
        StreamsOptions {
            inputs,
            out_dir,
            config,
            shards: None,
            pin: None,
            fill_gaps: false,
            combined: false,
            force: false,
            stop: None,
        }
    }
}

/// What a run wrote.
#[derive(Debug, Default)]
pub struct StreamsSummary {
    /// Packets read.
    pub packets: u64,
    /// TCP flows that carried payload.
    pub flows: u64,
    /// Direction files written.
    pub files: u64,
    /// Bytes written (gaps excluded).
    pub bytes: u64,
    /// Gaps reported.
    pub gaps: u64,
    /// Bytes in those gaps.
    pub gap_bytes: u64,
    /// Reassembly counters summed over the written directions.
    pub retransmits: u64,
    /// Segments held because they arrived ahead of a hole.
    pub out_of_order: u64,
    /// Overlaps whose bytes differed from the first copy.
    pub inconsistent_overlaps: u64,
    /// Anomalies seen (decode, reassembly, parser), by name.
    pub anomalies: Vec<(&'static str, u64)>,
    /// Wall time.
    pub elapsed: Duration,
    /// Damaged inputs.
    pub damaged: Vec<DamagedInput>,
    /// Stopped early by the stop flag (every flow still flushed).
    pub stopped: bool,
    /// Shard threads used.
    pub shards: usize,
}

impl StreamsSummary {
    /// One line for stderr.
    pub fn render(&self) -> String {
        let mut text = format!(
            "flowscope streams: {} packets, {} TCP flows with data, {} files, {} bytes, {} gaps ({} bytes missing), {} shard(s), {:.3} s\n  reassembly: {} retransmitted and {} out-of-order segments, {} inconsistent overlaps",
            self.packets,
            self.flows,
            self.files,
            self.bytes,
            self.gaps,
            self.gap_bytes,
            self.shards,
            self.elapsed.as_secs_f64(),
            self.retransmits,
            self.out_of_order,
            self.inconsistent_overlaps,
        );
        if !self.anomalies.is_empty() {
            let list: Vec<String> = self
                .anomalies
                .iter()
                .map(|(name, n)| format!("{name} {n}"))
                .collect();
            text.push_str(&format!("; anomalies: {}", list.join(", ")));
        }
        text
    }
}

/// Why `streams` failed.
#[derive(Debug, thiserror::Error)]
pub enum StreamsError {
    /// Inputs, configuration or pipeline (as for `replay`).
    #[error(transparent)]
    Run(#[from] RunError),
    /// Writing a file failed.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The output directory cannot be used.
    #[error("{}: {why}", path.display())]
    OutDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        why: String,
    },
}

/// Checks the output directory, creating it (mode 0700) if it does not
/// exist: it must be a directory, not a symbolic link to one, and empty
/// unless `force`.
fn prepare_dir(dir: &Path, force: bool) -> Result<(), StreamsError> {
    let refuse = |why: &str| StreamsError::OutDir {
        path: dir.to_owned(),
        why: why.to_owned(),
    };
    let werr = |source| StreamsError::Write {
        path: dir.to_owned(),
        source,
    };
    let meta = match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(werr)?;
            std::fs::symlink_metadata(dir).map_err(werr)?
        }
        other => other.map_err(werr)?,
    };
    if meta.file_type().is_symlink() {
        return Err(refuse(
            "is a symbolic link; give the directory it points to",
        ));
    }
    if !meta.is_dir() {
        return Err(refuse("exists and is not a directory"));
    }
    let not_empty = std::fs::read_dir(dir).map_err(werr)?.next().is_some();
    if not_empty && !force {
        return Err(refuse(
            "is not empty (files in it could be overwritten); give a new or empty directory, or --force",
        ));
    }
    Ok(())
}

/// Opens a file for writing without following a symbolic link.
fn no_follow() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true).custom_flags(libc::O_NOFOLLOW);
    o
}

/// Creates a file that must not exist (`O_EXCL`, `O_NOFOLLOW`). With
/// `force`, an existing regular file is unlinked first; anything else
/// (a symbolic link above all) is refused.
fn create_file(path: &Path, force: bool) -> io::Result<File> {
    match no_follow().create_new(true).open(path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && force => {
            let kind = std::fs::symlink_metadata(path)?.file_type();
            if !kind.is_file() {
                let why = if kind.is_symlink() {
                    "is a symbolic link; refusing to follow or replace it"
                } else {
                    "exists and is not a regular file; refusing to replace it"
                };
                return Err(io::Error::new(io::ErrorKind::AlreadyExists, why));
            }
            std::fs::remove_file(path)?;
            no_follow().create_new(true).open(path)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "already exists; refusing to overwrite it",
        )),
        other => other,
    }
}

/// Direction files open at once; beyond this they are closed and reopened
/// for appending when written again.
const MAX_OPEN_FILES: usize = 256;
/// Gaps listed per direction in `index.jsonl`; further ones are counted
/// (`gaps_not_listed`) so a hostile stream cannot grow the list without
/// bound.
const MAX_GAPS_LISTED: usize = 10_000;

/// One direction of one flow being written.
#[derive(Debug, Default)]
struct Direction {
    bytes: u64,
    /// Stream offset (bytes and gap bytes so far).
    offset: u64,
    gaps: Vec<(u64, u64)>,
    /// Gaps beyond `MAX_GAPS_LISTED`.
    gaps_not_listed: u64,
    created: bool,
}

#[derive(Debug)]
struct FlowFiles {
    key: FiveTupleKey,
    /// Flows with this id before it in the run (the same connection seen
    /// again with the same first packet time): its files' names differ.
    generation: u32,
    dirs: [Direction; 2],
}

/// A file of one flow: its id, generation and "toserver" / "toclient" /
/// "both".
type FileId = (u64, u32, &'static str);

/// Writes the files as events arrive.
struct Writer {
    dir: PathBuf,
    fill_gaps: bool,
    combined: bool,
    force: bool,
    seed: u16,
    flows: HashMap<u64, FlowFiles>,
    /// Open files: the path is only built when a file is opened.
    open: HashMap<FileId, BufWriter<File>>,
    /// Files this run created: one created again is replaced, as a
    /// regular file, without `force`.
    created: HashSet<FileId>,
    index: BufWriter<File>,
    summary: StreamsSummary,
}

fn dir_name(side: FlowSide) -> &'static str {
    flowscope_io::direction_name(side)
}

fn side_ix(side: FlowSide) -> usize {
    usize::from(side == FlowSide::Responder)
}

impl Writer {
    fn new(dir: &Path, opts: &StreamsOptions) -> Result<Self, StreamsError> {
        let werr = |path: &Path| {
            let path = path.to_owned();
            move |source| StreamsError::Write { path, source }
        };
        prepare_dir(dir, opts.force)?;
        let index_path = dir.join("index.jsonl");
        let index = create_file(&index_path, opts.force).map_err(werr(&index_path))?;
        Ok(Writer {
            dir: dir.to_owned(),
            fill_gaps: opts.fill_gaps,
            combined: opts.combined,
            force: opts.force,
            seed: opts.config.output.community_id_seed,
            flows: HashMap::new(),
            open: HashMap::new(),
            created: HashSet::new(),
            index: BufWriter::new(index),
            summary: StreamsSummary::default(),
        })
    }

    /// `FLOWID-DIRECTION.bin`; a later flow with the same id (a
    /// connection captured twice) gets `FLOWID.N-DIRECTION.bin`.
    fn file_name((flow_id, generation, what): FileId) -> String {
        match generation {
            0 => format!("{flow_id}-{what}.bin"),
            n => format!("{flow_id}.{n}-{what}.bin"),
        }
    }

    fn path(&self, file: FileId) -> PathBuf {
        self.dir.join(Self::file_name(file))
    }

    /// A flow begins: its files are named once its first bytes come.
    fn start(&mut self, flow_id: u64, key: FiveTupleKey) {
        let generation = self.next_generation(flow_id);
        let dirs = Default::default();
        let flow = FlowFiles {
            key,
            generation,
            dirs,
        };
        self.flows.insert(flow_id, flow);
    }

    /// The generation of a flow starting now with this id: the first
    /// whose files this run has not created.
    fn next_generation(&self, flow_id: u64) -> u32 {
        let mut n = 0;
        while ["toserver", "toclient", "both"]
            .iter()
            .any(|what| self.created.contains(&(flow_id, n, what)))
        {
            n += 1;
        }
        n
    }

    /// Appends to a file, creating it on first use.
    fn append(&mut self, file: FileId, create: bool, bytes: &[u8]) -> Result<(), StreamsError> {
        if !self.open.contains_key(&file) {
            if self.open.len() >= MAX_OPEN_FILES {
                self.close_all()?;
            }
            let path = self.path(file);
            let opened = if create {
                let ours = !self.created.insert(file);
                create_file(&path, self.force || ours)
            } else {
                no_follow().append(true).open(&path)
            };
            let f = opened.map_err(|source| StreamsError::Write { path, source })?;
            self.open.insert(file, BufWriter::new(f));
        }
        if let Some(w) = self.open.get_mut(&file)
            && let Err(source) = w.write_all(bytes)
        {
            let path = self.path(file);
            return Err(StreamsError::Write { path, source });
        }
        Ok(())
    }

    /// Writes out and closes one file if it is open.
    fn close(&mut self, file: FileId) -> Result<(), StreamsError> {
        match self.open.remove(&file) {
            Some(mut w) => w.flush().map_err(|source| StreamsError::Write {
                path: self.path(file),
                source,
            }),
            None => Ok(()),
        }
    }

    fn close_all(&mut self) -> Result<(), StreamsError> {
        let open = std::mem::take(&mut self.open);
        for (file, mut w) in open {
            w.flush().map_err(|source| StreamsError::Write {
                path: self.path(file),
                source,
            })?;
        }
        Ok(())
    }

    fn event(&mut self, ev: FlowEvent<FiveTupleKey, Piece>) -> Result<(), StreamsError> {
        match ev {
            FlowEvent::Started { key, flow_id, .. } => self.start(flow_id, key),
            FlowEvent::Application {
                flow_id,
                side,
                message,
                key,
                ..
            } => self.piece(flow_id, key, side, message)?,
            FlowEvent::Ended {
                flow_id,
                initiator,
                stats,
                ..
            } => self.end(flow_id, initiator, &stats)?,
            FlowEvent::Anomaly { kind, .. } => {
                let (_, name) = kind.names();
                match self.summary.anomalies.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, count)) => *count += 1,
                    None => self.summary.anomalies.push((name, 1)),
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn piece(
        &mut self,
        flow_id: u64,
        key: FiveTupleKey,
        side: FlowSide,
        piece: Piece,
    ) -> Result<(), StreamsError> {
        // Every flow is announced by `Started`; stay whole if one is not.
        if !self.flows.contains_key(&flow_id) {
            self.start(flow_id, key);
        }
        let Some(flow) = self.flows.get_mut(&flow_id) else {
            return Ok(());
        };
        let generation = flow.generation;
        let me = side_ix(side);
        let create = !flow.dirs[me].created;
        let combined_create = create && !flow.dirs[1 - me].created;
        let d = &mut flow.dirs[me];
        d.created = true;
        let name = (flow_id, generation, dir_name(side));
        let both = (flow_id, generation, "both");
        match piece {
            Piece::Data(b) => {
                d.bytes += b.len() as u64;
                d.offset += b.len() as u64;
                self.summary.bytes += b.len() as u64;
                self.append(name, create, &b)?;
                if self.combined {
                    self.append(both, combined_create, &b)?;
                }
            }
            Piece::Gap(n) => {
                if d.gaps.len() < MAX_GAPS_LISTED {
                    d.gaps.push((d.offset, n));
                } else {
                    d.gaps_not_listed += 1;
                }
                d.offset += n;
                self.summary.gaps += 1;
                self.summary.gap_bytes += n;
                if self.fill_gaps {
                    let zeros = vec![0u8; n.min(1 << 20) as usize];
                    let mut left = n;
                    let mut first = create;
                    while left > 0 {
                        let k = left.min(zeros.len() as u64) as usize;
                        self.append(name, first, &zeros[..k])?;
                        first = false;
                        left -= k as u64;
                    }
                } else if create {
                    self.append(name, true, &[])?;
                }
                if self.combined {
                    let mark = format!("[{n} bytes missing]");
                    self.append(both, combined_create, mark.as_bytes())?;
                }
            }
        }
        Ok(())
    }

    fn end(
        &mut self,
        flow_id: u64,
        initiator: Orientation,
        stats: &FlowStats,
    ) -> Result<(), StreamsError> {
        let Some(flow) = self.flows.remove(&flow_id) else {
            return Ok(());
        };
        if !flow.dirs.iter().any(|d| d.created) {
            return Ok(());
        }
        self.summary.flows += 1;
        let (src, dst) = flow.key.oriented(initiator);
        let cid = community_id(&flow.key, initiator, self.seed);
        for (k, d) in flow.dirs.iter().enumerate() {
            if !d.created {
                continue;
            }
            let side = if k == 0 {
                FlowSide::Initiator
            } else {
                FlowSide::Responder
            };
            let file = (flow_id, flow.generation, dir_name(side));
            let name = Self::file_name(file);
            // Written out now: the index never names a file still buffered.
            self.close(file)?;
            self.summary.files += 1;
            let mut line = Vec::with_capacity(256);
            let mut o = JsonObject::new(&mut line);
            o.u64("flow_id", flow_id)
                .str("community_id", cid.as_str())
                .ip("src_ip", src.addr)
                .u64("src_port", u64::from(src.port))
                .ip("dest_ip", dst.addr)
                .u64("dest_port", u64::from(dst.port))
                .str("direction", dir_name(side))
                .str("path", &name)
                .u64("bytes", d.bytes)
                .pair_array("gaps", ("offset", "len"), d.gaps.iter().copied());
            if d.gaps_not_listed > 0 {
                o.u64("gaps_not_listed", d.gaps_not_listed);
            }
            let st = stats.side(side);
            self.summary.retransmits += st.retransmits;
            self.summary.out_of_order += st.out_of_order;
            self.summary.inconsistent_overlaps += st.inconsistent_overlaps;
            o.u64("retransmits", st.retransmits)
                .u64("out_of_order", st.out_of_order)
                .u64("overlaps", st.overlaps)
                .u64("inconsistent_overlaps", st.inconsistent_overlaps);
            o.finish_line();
            self.index
                .write_all(&line)
                .map_err(|source| StreamsError::Write {
                    path: self.dir.join("index.jsonl"),
                    source,
                })?;
        }
        if self.combined {
            self.close((flow_id, flow.generation, "both"))?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<StreamsSummary, StreamsError> {
        self.close_all()?;
        let path = self.dir.join("index.jsonl");
        self.index
            .flush()
            .map_err(|source| StreamsError::Write { path, source })?;
        Ok(self.summary)
    }
}

/// Runs `streams`.
pub fn streams(opts: &StreamsOptions) -> Result<StreamsSummary, StreamsError> {
    let started = Instant::now();
    let mut engine_cfg = opts.config.engine.clone();
    if engine_cfg.flow.key != KeyKind::FiveTuple {
        return Err(RunError::Config(flowscope_engine::ConfigError(
            "flowscope streams needs flow.key = \"five_tuple\"".into(),
        ))
        .into());
    }
    // Files are named by flow: the flow's start must be seen, and a flow
    // must not be cut in two by an active timeout.
    engine_cfg.flow.started_events = true;
    engine_cfg.flow.active_timeout = 0;
    engine_cfg.validate().map_err(RunError::Config)?;
    let files = open_all(&opts.inputs, FileReading::Mapped)?;
    let source = FileSource::new(files);
    let mut writer = Writer::new(&opts.out_dir, opts)?;
    let extractor = FiveTuple::new(KeyOptions::from_config(&engine_cfg));
    let reassembly = engine_cfg.reassembly.clone();
    let make = move || -> Sessions<FiveTupleKey, Piece> {
        Sessions::new(&reassembly).tcp(StreamCapture, Route::any())
    };
    let stop = opts
        .stop
        .clone()
        .unwrap_or_else(|| Arc::new(AtomicBool::new(false)));
    let shards = shard_count(opts.shards, &opts.config);
    let (packets, damaged, stopped) = if shards == 0 {
        let engine = Engine::with_hook(&engine_cfg, extractor, make()).map_err(RunError::Config)?;
        let mut runner = InlineRunner::new(engine, opts.config.pipeline.epoch_packets);
        let mut source = source;
        let mut stopped = false;
        loop {
            if stop.load(Ordering::Relaxed) {
                stopped = true;
                break;
            }
            let packet = match source.next_packet() {
                None => break,
                // A stream with nothing yet: look at the stop flag again.
                Some(Err(SourceError::Idle)) => continue,
                Some(Err(_)) => break,
                Some(Ok(p)) => p,
            };
            runner.push(&packet.raw);
            loop {
                for ev in runner.events() {
                    writer.event(ev.event)?;
                }
                if !runner.timers_pending() {
                    break;
                }
                runner.step_timers();
            }
        }
        runner.finish_each(|ev| writer.event(ev.event).map(|()| true))?;
        (runner.packets(), source.take_damaged(), stopped)
    } else {
        let cfg = PipelineConfig {
            shards: Some(shards),
            pin: opts.pin.or(opts.config.pipeline.pin),
            ..opts.config.pipeline.clone()
        };
        let mut pipeline = Pipeline::builder(engine_cfg, extractor)
            .config(cfg)
            .stop_flag(stop.clone())
            .hook(make)
            .build(source)
            .map_err(RunError::from_pipeline)?;
        let mut failed = None;
        let mut consume = |ev: Ordered<FlowEvent<FiveTupleKey, Piece>>| match writer.event(ev.event)
        {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        };
        pipeline.consume(&mut consume);
        let report = pipeline.join();
        if let Some(e) = failed {
            return Err(e);
        }
        let report = report.map_err(RunError::Pipeline)?;
        let stopped = report.ingest.stopped;
        let (mut source, report) = report.without_source();
        (report.ingest.packets, source.take_damaged(), stopped)
    };
    let mut summary = writer.finish()?;
    summary.packets = packets;
    summary.damaged = damaged;
    summary.stopped = stopped;
    summary.shards = shards;
    summary.elapsed = started.elapsed();
    Ok(summary)
}
