//! `flowscope-bench engine`: the engine alone on one thread over a capture
//! held in memory (its records indexed first, so the timed loop is exactly
//! decode + flow tracking + timers, as `InlineRunner` drives it), and with
//! `--reassembly` / `--full` the modes that add reassembly with no-op
//! parsers, the built-in parsers, and EVE rendering: one shard's work.
//! Modes run round-robin, a pass of each before the next pass of any.

use crate::noop;
use anyhow::{Context as _, bail};
use flowscope_cli::config::Config;
use flowscope_engine::{
    Engine, EngineConfig, FlowEvent, FlowExtractor, FlowHook, KeyOptions, LinkType, NoHook,
    Ordered, RawPacket, Timestamp, with_extractor,
};
use flowscope_io::PacketReader;
use flowscope_shards::Sequencer;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// Which modes a run times: flow tracking alone and these, or with
/// `full_only` one shard's full work alone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Modes {
    /// Reassembly with a no-op parser on these flows.
    pub(crate) reassembly: Option<noop::Parsers>,
    /// The built-in parsers without and with rendering, and rendering
    /// alone.
    pub(crate) full: bool,
    /// One shard's full work and nothing else.
    pub(crate) full_only: bool,
    /// Packets whose events are gathered before they are handed on (a
    /// shard renders a batch's events after the batch's packets).
    pub(crate) events_every: usize,
}

/// One packet record, indexed before timing.
struct Record {
    offset: usize,
    len: usize,
    ts: Timestamp,
    linktype: LinkType,
    wire_len: u32,
}

#[derive(Debug, Serialize)]
pub(crate) struct EngineResult {
    mode: &'static str,
    file: String,
    packets: u64,
    wire_bytes: u64,
    repeats: usize,
    /// Packets whose events were gathered before being handed on.
    events_every: usize,
    best_seconds: f64,
    median_seconds: f64,
    best_mpps: f64,
    median_mpps: f64,
    best_ns_per_packet: f64,
    best_gbit_per_s: f64,
    flows_created: u64,
    peak_flows: u64,
    flow_entry_bytes: usize,
    table_bytes_at_peak: usize,
    table_bytes_per_flow_at_peak: f64,
    events: u64,
    /// Bytes of EVE rendered per pass (the rendering-alone mode only).
    rendered_bytes: u64,
}

pub(crate) fn bench_engine(
    path: &PathBuf,
    repeat: usize,
    cfg: &Config,
    modes: Modes,
) -> anyhow::Result<Vec<EngineResult>> {
    let Modes {
        reassembly,
        full,
        full_only,
        events_every,
    } = modes;
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut records = Vec::new();
    let mut reader = PacketReader::new(&data).with_context(|| path.display().to_string())?;
    let base = data.as_ptr() as usize;
    while let Some(p) = reader.next_packet() {
        let p = p.with_context(|| path.display().to_string())?;
        records.push(Record {
            offset: p.data.as_ptr() as usize - base,
            len: p.data.len(),
            ts: p.ts,
            linktype: p.linktype,
            wire_len: p.wire_len,
        });
    }
    if records.is_empty() {
        bail!("{} holds no packets", path.display());
    }
    let engine_cfg = &cfg.engine;
    let keys = KeyOptions::from_config(engine_cfg);
    let steps = (cfg.pipeline.epoch_packets, events_every);
    let mut modes: Vec<&'static str> = vec![FLOWS];
    if reassembly.is_some() {
        modes.push("reassembly + no-op parsers");
    }
    if full {
        modes.push(PARSERS);
        modes.push(FULL);
        modes.push(RENDER);
    }
    if full_only {
        modes = vec![FULL];
    }
    let renderer = flowscope_io::EveRenderer::new(cfg.output.clone());
    // Round-robin: pass r of each mode before pass r + 1 of any, so a noisy
    // minute on a shared machine hits both alike.
    let mut runs: Vec<Vec<f64>> = modes.iter().map(|_| Vec::new()).collect();
    let mut last: Vec<Option<Pass>> = modes.iter().map(|_| None).collect();
    for _ in 0..repeat {
        for (m, &mode) in modes.iter().enumerate() {
            let run = with_extractor!(engine_cfg.flow.key, keys.clone(), |x| {
                if mode == FLOWS {
                    timed_pass(&data, &records, engine_cfg, x, steps, || NoHook, |_| {})
                } else if mode == RENDER {
                    let mut events = Vec::new();
                    let mut pass = timed_pass(
                        &data,
                        &records,
                        engine_cfg,
                        x,
                        steps,
                        || flowscope_engine::parsers::builtin(&engine_cfg.reassembly, &cfg.parsers),
                        |evs| events.extend_from_slice(evs),
                    )?;
                    let mut line = Vec::with_capacity(64 * 1024);
                    // A fresh renderer per pass, as a fresh engine.
                    let mut renderer = renderer.clone();
                    let start = Instant::now();
                    for ev in &events {
                        renderer.render(ev, &mut line);
                        pass.rendered_bytes += line.len() as u64;
                        std::hint::black_box(&line);
                        line.clear();
                    }
                    pass.seconds = start.elapsed().as_secs_f64();
                    Ok(pass)
                } else if mode == FULL || mode == PARSERS {
                    let render = mode == FULL;
                    // Rendered into one reused buffer, as the inline engine
                    // renders into the output's and a pipeline's shard into
                    // the buffer of the items it hands the merge.
                    let mut line = Vec::with_capacity(64 * 1024);
                    let mut renderer = renderer.clone();
                    timed_pass(
                        &data,
                        &records,
                        engine_cfg,
                        x,
                        steps,
                        || flowscope_engine::parsers::builtin(&engine_cfg.reassembly, &cfg.parsers),
                        |events| {
                            if render {
                                for ev in events {
                                    renderer.render(ev, &mut line);
                                }
                            }
                            std::hint::black_box((&line, events));
                            line.clear();
                        },
                    )
                } else {
                    let r = engine_cfg.reassembly.clone();
                    let which = reassembly.unwrap_or(noop::Parsers::All);
                    timed_pass(
                        &data,
                        &records,
                        engine_cfg,
                        x,
                        steps,
                        move || noop::sessions(&r, which),
                        |_| {},
                    )
                }
            })?;
            runs[m].push(run.seconds);
            last[m] = Some(run);
        }
    }
    let packets = records.len() as u64;
    let wire_bytes: u64 = records.iter().map(|r| u64::from(r.wire_len)).sum();
    let mut results = Vec::new();
    for (m, &mode) in modes.iter().enumerate() {
        let Some(last) = last[m].take() else {
            bail!("no run")
        };
        let runs = &mut runs[m];
        runs.sort_by(f64::total_cmp);
        let best = runs[0];
        let median = runs[runs.len() / 2];
        results.push(EngineResult {
            mode,
            file: path.display().to_string(),
            packets,
            wire_bytes,
            repeats: repeat,
            events_every,
            best_seconds: best,
            median_seconds: median,
            best_mpps: packets as f64 / best / 1e6,
            median_mpps: packets as f64 / median / 1e6,
            best_ns_per_packet: best * 1e9 / packets as f64,
            best_gbit_per_s: wire_bytes as f64 * 8.0 / best / 1e9,
            flows_created: last.flows_created,
            peak_flows: last.peak_entries,
            flow_entry_bytes: last.entry_size,
            table_bytes_at_peak: last.peak_table_bytes,
            table_bytes_per_flow_at_peak: last.peak_table_bytes as f64
                / last.peak_entries.max(1) as f64,
            events: last.events,
            rendered_bytes: last.rendered_bytes,
        });
    }
    Ok(results)
}

struct Pass {
    seconds: f64,
    /// Bytes of EVE rendered (the rendering-alone mode only).
    rendered_bytes: u64,
    flows_created: u64,
    peak_entries: u64,
    peak_table_bytes: usize,
    entry_size: usize,
    events: u64,
}

/// Flow tracking alone: the mode every other is compared with.
const FLOWS: &str = "flow tracking";
/// The full-pipeline mode's name.
const FULL: &str = "reassembly + built-in parsers + EVE rendering";
/// The same without rendering: the difference is what rendering costs.
const PARSERS: &str = "reassembly + built-in parsers";
/// Rendering by itself: the full mode's events, collected by an untimed
/// pass, rendered into a reused buffer (only the rendering is timed).
const RENDER: &str = "EVE rendering alone";

fn timed_pass<E: FlowExtractor, H: FlowHook<E::Key>>(
    data: &[u8],
    records: &[Record],
    cfg: &EngineConfig,
    extractor: E,
    (epoch, every): (u64, usize),
    make_hook: impl Fn() -> H,
    mut consume: impl FnMut(&[Ordered<FlowEvent<E::Key, H::Message>>]),
) -> anyhow::Result<Pass> {
    let mut engine = Engine::with_hook(cfg, extractor, make_hook())?;
    let mut seq = Sequencer::new(epoch);
    let mut out = Vec::with_capacity(1024);
    // Packets until the events gathered are handed on.
    let mut left = every;
    let mut events = 0u64;
    let (mut peak_entries, mut peak_bytes) = (0u64, 0usize);
    let start = Instant::now();
    for (i, r) in records.iter().enumerate() {
        // A shard prefetches the packets ahead of the one it processes
        // (the ingest touched them on another core); so does this loop.
        if let Some(ahead) = records.get(i + flowscope_shards::PREFETCH_AHEAD) {
            flowscope_shards::prefetch_packet(&data[ahead.offset..], ahead.len);
        }
        let raw = RawPacket {
            ts: r.ts,
            linktype: r.linktype,
            wire_len: r.wire_len,
            iface: 0,
            data: &data[r.offset..r.offset + r.len],
        };
        let stamp = seq.stamp(raw.ts);
        engine.process(stamp.seq, stamp.now, &raw, &mut out);
        if let Some(b) = seq.close_epoch_if_due() {
            engine.advance(b.now, b.seq, &mut out);
            // Memory is sampled at epoch boundaries, off the per-packet path.
            let entries = engine.table_len() as u64;
            if entries > peak_entries {
                peak_entries = entries;
                peak_bytes = engine.table_bytes();
            }
        }
        // A count down, not a division per packet.
        left -= 1;
        if left == 0 {
            left = every;
            if !out.is_empty() {
                consume(&out);
                events += out.len() as u64;
                out.clear();
            }
        }
    }
    engine.finish(seq.clock(), seq.last_seq().unwrap_or(0), &mut out);
    consume(&out);
    events += out.len() as u64;
    let seconds = start.elapsed().as_secs_f64();
    let entries = engine.table_len() as u64;
    if entries > peak_entries {
        peak_entries = entries;
        peak_bytes = engine.table_bytes();
    }
    Ok(Pass {
        seconds,
        rendered_bytes: 0,
        flows_created: engine.stats().flows_created,
        peak_entries,
        peak_table_bytes: peak_bytes,
        entry_size: Engine::<E, H>::entry_size(),
        events,
    })
}

/// Prints each mode's figures, then each mode's time against flow
/// tracking alone (when that ran).
pub(crate) fn print_results(results: &[EngineResult]) {
    for r in results {
        print_engine(r);
    }
    if let [plain, rest @ ..] = results
        && plain.mode == FLOWS
    {
        for other in rest.iter().filter(|r| r.mode != RENDER) {
            println!(
                "{} vs flow tracking alone: {:.3}x the time (best), {:.1} % slower; median {:.1} % slower",
                other.mode,
                other.best_seconds / plain.best_seconds,
                (other.best_seconds / plain.best_seconds - 1.0) * 100.0,
                (other.median_seconds / plain.median_seconds - 1.0) * 100.0,
            );
        }
    }
}

fn print_engine(r: &EngineResult) {
    if r.mode == RENDER {
        println!(
            "one shard's work, {}: the events of the full mode, rendered",
            r.mode
        );
    } else if r.mode == FULL || r.mode == PARSERS {
        println!(
            "one shard's work on one thread: decode + flow tracking + {}",
            r.mode
        );
    } else {
        println!(
            "engine alone, one thread: decode + {} + timers (no output rendering)",
            r.mode
        );
    }
    println!("  trace            {}", r.file);
    println!(
        "  packets          {} ({:.1} MB on the wire)",
        r.packets,
        r.wire_bytes as f64 / 1e6
    );
    println!("  passes           {} (best / median)", r.repeats);
    if r.mode != FLOWS {
        println!("  events every     {} packets", r.events_every);
    }
    println!(
        "  time             {:.3} s / {:.3} s",
        r.best_seconds, r.median_seconds
    );
    println!(
        "  throughput       {:.2} Mpps / {:.2} Mpps ({:.2} Gbit/s best)",
        r.best_mpps, r.median_mpps, r.best_gbit_per_s
    );
    println!("  per packet       {:.1} ns (best)", r.best_ns_per_packet);
    if r.rendered_bytes > 0 {
        println!(
            "  rendered         {:.1} MB, {:.2} bytes per ns (best)",
            r.rendered_bytes as f64 / 1e6,
            r.rendered_bytes as f64 / r.best_seconds / 1e9
        );
    }
    println!(
        "  flows            {} created, {} held at peak",
        r.flows_created, r.peak_flows
    );
    println!(
        "  table memory     {} B per entry; {:.1} MB at peak = {:.0} B per held flow (slab + hash index)",
        r.flow_entry_bytes,
        r.table_bytes_at_peak as f64 / 1e6,
        r.table_bytes_per_flow_at_peak
    );
    println!("  events           {}", r.events);
}
