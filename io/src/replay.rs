//! `flowscope replay`: capture files through the engine into EVE JSON Lines.
//!
//! Files are opened (and mapped) up front, so a missing or unreadable file
//! is reported before any output. They are then read in order as one packet
//! stream. A damaged file ends where the damage starts: its earlier packets
//! count, the error is recorded with the byte offset, and the next file
//! follows. At the end every open flow is flushed and the `stats` record is
//! written.

use crate::capture::{CaptureBytes, CaptureError, CaptureFile, OpenError};
use crate::config::Config;
use crate::demo::{DEMO_NAME, DEMO_PCAP};
use crate::eve::{EveKey, EveRenderer};
use flowscope_engine::{
    DirectionalFiveTuple, Engine, EngineStats, FiveTuple, FlowExtractor, IpPair, KeyKind,
    KeyOptions, MacPair, Timestamp,
};
use flowscope_shards::InlineRunner;
use std::io::{self, Write};
use std::path::PathBuf;
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
    /// Writing the output failed (other than the reader going away).
    #[error("writing output: {0}")]
    Output(#[source] io::Error),
}

/// What a replay did.
#[derive(Debug)]
pub struct Summary {
    /// Inputs read.
    pub files: usize,
    /// Capture bytes read.
    pub input_bytes: u64,
    /// Engine counters (packets, flows, skips...).
    pub stats: EngineStats,
    /// Records written.
    pub records: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Damaged inputs (processing went on with the next one).
    pub damaged: Vec<DamagedInput>,
    /// The output's reader went away (broken pipe): processing stopped.
    pub output_closed: bool,
}

/// Output is written in chunks of about this size.
const FLUSH_AT: usize = 256 * 1024;
/// Progress is updated every this many packets.
const PROGRESS_EVERY: u64 = 16 * 1024;

/// Runs a replay, writing EVE lines to `out`.
pub fn replay<W: Write>(opts: &ReplayOptions, out: W) -> Result<Summary, ReplayError> {
    let engine_cfg = opts.config.engine();
    engine_cfg.validate()?;
    let keys = KeyOptions::from_config(&engine_cfg);
    match engine_cfg.flow.key {
        KeyKind::FiveTuple => run(opts, FiveTuple::new(keys), out),
        KeyKind::DirectionalFiveTuple => run(opts, DirectionalFiveTuple::new(keys), out),
        KeyKind::IpPair => run(opts, IpPair::new(keys), out),
        KeyKind::MacPair => run(opts, MacPair::new(keys), out),
    }
}

fn open_all(inputs: &[Input]) -> Result<Vec<CaptureFile>, ReplayError> {
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

/// Writes buffered output; `Ok(false)` when the reader went away.
fn flush<W: Write>(out: &mut W, buf: &mut Vec<u8>) -> Result<bool, ReplayError> {
    let r = out.write_all(buf);
    buf.clear();
    match r {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(ReplayError::Output(e)),
    }
}

fn run<E, W>(opts: &ReplayOptions, extractor: E, mut out: W) -> Result<Summary, ReplayError>
where
    E: FlowExtractor,
    E::Key: EveKey,
    W: Write,
{
    let started = Instant::now();
    let files = open_all(&opts.inputs)?;
    let total_bytes: u64 = files.iter().map(|f| f.len() as u64).sum();
    let progress = opts.progress.then(|| progress_bar(total_bytes));

    let engine = Engine::new(&opts.config.engine(), extractor)?;
    let mut runner = InlineRunner::new(engine, opts.config.pipeline.epoch_packets);
    let renderer = EveRenderer::new(opts.config.output.clone());
    let mut buf: Vec<u8> = Vec::with_capacity(FLUSH_AT + 64 * 1024);
    let mut damaged = Vec::new();
    let mut records = 0u64;
    let mut done_bytes = 0u64;
    let mut open = true;

    'files: for file in &files {
        let reader = match file.packets() {
            Ok(r) => r,
            Err(source) => {
                damaged.push(DamagedInput {
                    path: file.path.clone(),
                    source,
                });
                done_bytes += file.len() as u64;
                continue;
            }
        };
        let mut reader = reader;
        while let Some(next) = reader.next_packet() {
            let raw = match next {
                Ok(raw) => raw,
                Err(source) => {
                    damaged.push(DamagedInput {
                        path: file.path.clone(),
                        source,
                    });
                    break;
                }
            };
            runner.push(&raw);
            for ev in runner.events() {
                let before = buf.len();
                renderer.render(&ev, &mut buf);
                records += u64::from(buf.len() > before);
            }
            if buf.len() >= FLUSH_AT && !flush(&mut out, &mut buf)? {
                open = false;
                break 'files;
            }
            if let Some(pb) = &progress
                && runner.packets() % PROGRESS_EVERY == 0
            {
                pb.set_position(done_bytes + reader.offset());
            }
        }
        done_bytes += file.len() as u64;
    }

    if open {
        runner.finish();
        for ev in runner.events() {
            let before = buf.len();
            renderer.render(&ev, &mut buf);
            records += u64::from(buf.len() > before);
        }
        let stats = runner.engine().stats();
        let last_ts = runner.engine().clock();
        let before = buf.len();
        renderer.render_stats(&stats, last_ts.max(Timestamp::ZERO), &mut buf);
        records += u64::from(buf.len() > before);
        open = flush(&mut out, &mut buf)?;
        if open {
            match out.flush() {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => open = false,
                Err(e) => return Err(ReplayError::Output(e)),
            }
        }
    }
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    Ok(Summary {
        files: files.len(),
        input_bytes: total_bytes,
        stats: runner.engine().stats(),
        records,
        elapsed: started.elapsed(),
        damaged,
        output_closed: !open,
    })
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
        lines.join("\n")
    }
}
