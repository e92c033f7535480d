//! What a run did ([`Summary`]) and its human-readable rendering for
//! stderr: counts, flows, parsers, skips, the pipeline's per-thread figures,
//! pacing, filter and latency percentiles.

use flowscope_engine::{EngineStats, SessionCounters};
use flowscope_io::DamagedInput;
use flowscope_shards::{LatencyReport, PipelineReport};
use std::time::Duration;

/// What a run did (`replay`, and `capture` under its own summary).
#[derive(Debug)]
pub struct Summary {
    /// Inputs read.
    pub files: usize,
    /// Capture bytes: the input files' sizes, and what was read from
    /// streams.
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
    /// The most memory held resident, when known ([`peak_resident_bytes`]
    /// at the end of the run).
    pub peak_resident: Option<u64>,
    /// With `--ipfix`: what the export did.
    pub ipfix: Option<crate::ipfix::IpfixReport>,
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

/// The most memory the process has held resident so far (Linux's
/// `VmHWM`, the mapped input's pages included); `None` elsewhere.
pub fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

impl Summary {
    /// An empty summary of a run on `shards` shard threads (0: inline).
    pub fn new(shards: usize) -> Self {
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
            ipfix: None,
            filter: None,
            peak_resident: None,
        }
    }

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
                 {} bytes discarded and {} skipped when work on a flow stopped, out-of-order memory peak {} B",
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
                r.discarded_bytes,
                c.skipped_bytes,
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
            Some(p) => lines.extend(pipeline_lines(p)),
        }
        let evicted = s.flows_ended[flowscope_engine::EndReason::Evicted.index()];
        let frag_evicted = s.defrag.drops[flowscope_engine::DefragDrop::CapacityEvicted.index()];
        if evicted + frag_evicted > 0 {
            let shards = if self.shards > 1 {
                "; each shard holds its part of the budget, so output can differ from a run with another shard count"
            } else {
                ""
            };
            lines.push(format!(
                "  note: a capacity was reached: {evicted} flows evicted, {frag_evicted} fragment datagrams evicted, emergency mode entered {} times, left {} times{shards}",
                s.emergency_entered, s.emergency_over
            ));
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
        if let Some(x) = &self.ipfix {
            lines.push(format!(
                "  ipfix: {} flows in {} messages to {}{}",
                x.flows,
                x.messages,
                x.target,
                if x.flows_lost > 0 {
                    format!(
                        "; {} flows lost (the collector could not be reached)",
                        x.flows_lost
                    )
                } else {
                    String::new()
                }
            ));
        }
        if let Some(l) = &self.latency {
            lines.extend(latency_lines(l));
        }
        if let Some(b) = self.peak_resident {
            lines.push(format!(
                "  memory: peak resident {:.1} MiB (the mapped input included)",
                b as f64 / (1u64 << 20) as f64
            ));
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
        "  ingest: {} packets, busy {}, blocked on full shard queues {}{}{}",
        i.packets,
        secs(i.busy),
        secs(i.blocked),
        if i.idle.is_zero() {
            String::new()
        } else {
            format!(", waiting for packets {}", secs(i.idle))
        },
        match i.pool_threads {
            0 => String::new(),
            n => format!(
                "; keying pool of {n} thread(s), waited for {}; {} packets read in spans, {} spans walked again",
                secs(i.pool_wait),
                i.walked_packets,
                i.spans_rewalked
            ),
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
