//! `flowscope-bench gen`: deterministic synthetic traces — a configurable
//! mix of HTTP/1.1, TLS 1.2/1.3, DNS over UDP and TCP, bulk TCP and UDP
//! noise, over IPv4/IPv6, optionally in VLAN, VXLAN or GTP-U, with
//! heavy-tailed sizes, capture loss, reordering, retransmissions, a target
//! number of concurrent flows, and a SYN-flood mode.
//!
//! Flows start evenly spread at `flow_rate` per second. They are scripted
//! in chunks, in parallel (rayon); a chunk's packets wait in a min-heap
//! until no later flow can precede them (every later flow starts after the
//! chunk's end), are rendered in parallel and written in time order. Every
//! draw derives from (seed, flow, item), so the bytes depend only on the
//! parameters, never on the thread count. Memory is the waiting packets'
//! compact specs (40 bytes each), not their bytes.

pub mod content;
pub mod plan;
pub mod render;
pub mod rng;
pub mod script;

use anyhow::{Context as _, bail};
use plan::{Kind, Params};
use rayon::prelude::*;
use render::Format;
use script::{Counts, Spec};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::io::Write;
use std::path::Path;

/// Flows scripted per parallel step.
const CHUNK_FLOWS: u64 = 16_384;
/// Packets rendered per parallel task.
const RENDER_BATCH: usize = 4_096;

/// What a generated trace holds (before capture loss for the
/// application counts: a lost segment can hide a request).
#[derive(Debug, Default, Serialize)]
pub struct Manifest {
    pub file: String,
    pub format: String,
    pub seed: u64,
    pub flows: u64,
    pub flows_by_kind: BTreeMap<&'static str, u64>,
    pub ipv6_flows: u64,
    pub vlan_flows: u64,
    pub vxlan_flows: u64,
    pub gtpu_flows: u64,
    pub packets: u64,
    pub bytes: u64,
    pub duration_s: f64,
    pub http_requests: u64,
    pub dns_queries: u64,
    pub tls_handshakes: u64,
    pub syn_flood_packets: u64,
    pub lost: u64,
    pub reordered: u64,
    pub retransmitted: u64,
    /// Flows open at once at most (first to last packet), by a sweep over
    /// flow lifetimes.
    pub max_concurrent_flows: u64,
}

fn add(m: &mut Manifest, plan: &plan::FlowPlan, c: &Counts) {
    *m.flows_by_kind.entry(plan.kind.name()).or_default() += 1;
    m.ipv6_flows += u64::from(plan.v6);
    match plan.encap {
        plan::Encap::None => {}
        plan::Encap::Vlan(_) => m.vlan_flows += 1,
        plan::Encap::Vxlan(_) => m.vxlan_flows += 1,
        plan::Encap::Gtpu(_) => m.gtpu_flows += 1,
    }
    m.http_requests += c.http_requests;
    m.dns_queries += c.dns_queries;
    m.tls_handshakes += c.tls_handshakes;
    if plan.kind == Kind::SynFlood {
        m.syn_flood_packets += c.packets;
    }
    m.lost += c.lost;
    m.reordered += c.reordered;
    m.retransmitted += c.retransmitted;
}

/// Writes the trace to `path`.
pub fn generate(p: &Params, format: Format, path: &Path) -> anyhow::Result<Manifest> {
    if p.total() == 0 {
        bail!("nothing to generate: --flows and --syn-flood are both 0");
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(4 << 20, file);
    let mut m = Manifest {
        file: path.display().to_string(),
        format: format!("{format:?}").to_lowercase(),
        seed: p.seed,
        flows: p.total(),
        ..Manifest::default()
    };
    out.write_all(&render::file_header(format))?;
    let mut waiting: BinaryHeap<Reverse<Spec>> = BinaryHeap::new();
    // Flow lifetimes as (+1 at first packet, -1 after last) events, for
    // the concurrency figure; kept per chunk and swept as time passes.
    let mut lifetimes: BinaryHeap<Reverse<(u64, i8)>> = BinaryHeap::new();
    let (mut open, mut first_ts, mut last_ts) = (0i64, None, 0u64);
    let mut lo = 0;
    while lo < p.total() {
        let hi = (lo + CHUNK_FLOWS).min(p.total());
        let scripted: Vec<(plan::FlowPlan, Vec<Spec>, Counts)> = (lo..hi)
            .into_par_iter()
            .map(|i| {
                let plan = plan::plan(p, i);
                let (specs, counts) = script::script(p, &plan);
                (plan, specs, counts)
            })
            .collect();
        for (plan, specs, counts) in scripted {
            add(&mut m, &plan, &counts);
            if let (Some(a), Some(b)) = (
                specs.iter().map(|s| s.ts).min(),
                specs.iter().map(|s| s.ts).max(),
            ) {
                lifetimes.push(Reverse((a, 1)));
                lifetimes.push(Reverse((b + 1, -1)));
            }
            waiting.extend(specs.into_iter().map(Reverse));
        }
        // Nothing of a later flow comes before its start.
        let horizon = if hi < p.total() {
            p.earliest(hi)
        } else {
            u64::MAX
        };
        let mut ready = Vec::new();
        while let Some(Reverse(s)) = waiting.peek() {
            if s.ts >= horizon {
                break;
            }
            ready.push(*s);
            waiting.pop();
        }
        while let Some(Reverse((t, d))) = lifetimes.peek() {
            if *t >= horizon {
                break;
            }
            open += i64::from(*d);
            m.max_concurrent_flows = m.max_concurrent_flows.max(open.max(0) as u64);
            lifetimes.pop();
        }
        if let (Some(f), Some(l)) = (ready.first(), ready.last()) {
            first_ts.get_or_insert(f.ts);
            last_ts = l.ts;
        }
        write_ready(p, format, &ready, &mut out, &mut m)?;
        lo = hi;
    }
    out.flush()?;
    m.duration_s = first_ts.map_or(0.0, |f| (last_ts - f) as f64 / 1e9);
    Ok(m)
}

/// Renders `ready` (time-ordered) in parallel and writes it in order.
fn write_ready(
    p: &Params,
    format: Format,
    ready: &[Spec],
    out: &mut impl Write,
    m: &mut Manifest,
) -> anyhow::Result<()> {
    let rendered: Vec<(Vec<u8>, u64)> = ready
        .par_chunks(RENDER_BATCH)
        .map(|batch| {
            let mut buf = Vec::with_capacity(batch.len() * 600);
            let mut frame = Vec::with_capacity(2048);
            let mut wire = 0u64;
            // A batch interleaves a few thousand flows' packets; each plan
            // and each message (an HTTP response may span thousands of
            // segments) is built once per batch, not once per packet.
            let mut plans: HashMap<u64, plan::FlowPlan> = HashMap::new();
            let mut messages: HashMap<(u64, u32), content::Message> = HashMap::new();
            for s in batch {
                let plan = plans.entry(s.flow).or_insert_with(|| plan::plan(p, s.flow));
                let msg = (s.len > 0).then(|| {
                    &*messages
                        .entry((s.flow, s.msg))
                        .or_insert_with(|| content::message(plan, s.msg, &p.sizes))
                });
                frame.clear();
                render::frame(p, plan, s, msg, &mut frame);
                wire += frame.len() as u64;
                render::record(format, s.ts, &frame, &mut buf);
            }
            (buf, wire)
        })
        .collect();
    for (buf, wire) in rendered {
        out.write_all(&buf)?;
        m.bytes += wire;
    }
    m.packets += ready.len() as u64;
    Ok(())
}

/// The frames of flows `0..flows` in capture order, in memory: (capture
/// time in ns, Ethernet frame). For benchmarks and tests of small traces.
pub fn frames(p: &Params, flows: u64) -> Vec<(u64, Vec<u8>)> {
    let mut specs: Vec<Spec> = (0..flows)
        .into_par_iter()
        .flat_map_iter(|i| script::script(p, &plan::plan(p, i)).0)
        .collect();
    specs.par_sort_unstable();
    specs
        .par_iter()
        .map(|s| {
            let plan = plan::plan(p, s.flow);
            let msg = (s.len > 0).then(|| content::message(&plan, s.msg, &p.sizes));
            let mut f = Vec::new();
            render::frame(p, &plan, s, msg.as_ref(), &mut f);
            (s.ts, f)
        })
        .collect()
}

/// `8MB`, `64M`, `100k`, `1500` (bytes; K/M/G are powers of 1000).
pub fn parse_size(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let t = t.strip_suffix(['b', 'B']).unwrap_or(t);
    match flowscope_cli::rate::parse_si(t) {
        Some(x) if x > 0.0 => Ok(x),
        _ => Err(format!("`{s}` is not a size (examples: 8MB, 100k, 1500)")),
    }
}

/// `10M`, `1.5k`, `250000` (a count).
pub fn parse_count(s: &str) -> Result<u64, String> {
    match flowscope_cli::rate::parse_si(s) {
        Some(x) if x < 1e15 => Ok(x.round() as u64),
        _ => Err(format!("`{s}` is not a count (examples: 10M, 500k, 1000)")),
    }
}

/// `http=30,tls=30,dns=15,dns-tcp=2,bulk=8,udp=15`: weights of the kinds
/// (missing ones get 0).
pub fn parse_mix(s: &str) -> Result<[f64; 6], String> {
    let mut w = [0.0; 6];
    for item in s.split(',').filter(|x| !x.trim().is_empty()) {
        let (name, val) = item
            .split_once('=')
            .ok_or_else(|| format!("`{item}`: expected KIND=WEIGHT"))?;
        let k = Kind::MIXABLE
            .iter()
            .position(|k| k.name() == name.trim())
            .ok_or_else(|| format!("unknown kind `{name}` (http, tls, dns, dns-tcp, bulk, udp)"))?;
        w[k] = match val.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => x,
            _ => return Err(format!("`{val}` is not a weight")),
        };
    }
    if w.iter().sum::<f64>() <= 0.0 {
        return Err("the mix needs at least one positive weight".into());
    }
    Ok(w)
}

/// Prints the manifest as a short report.
pub fn print(m: &Manifest, secs: f64) -> std::io::Result<()> {
    let mut o = std::io::stdout().lock();
    let kinds: Vec<String> = m
        .flows_by_kind
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    writeln!(
        o,
        "flowscope-bench gen: wrote {} ({}): {} packets, {:.1} MB, {:.1} s of capture time, in {:.2} s ({:.2} Mpps generated)",
        m.file,
        m.format,
        m.packets,
        m.bytes as f64 / 1e6,
        m.duration_s,
        secs,
        m.packets as f64 / secs.max(1e-9) / 1e6
    )?;
    writeln!(
        o,
        "  flows: {} ({}); IPv6 {}, VLAN {}, VXLAN {}, GTP-U {}; at most {} open at once",
        m.flows,
        kinds.join(", "),
        m.ipv6_flows,
        m.vlan_flows,
        m.vxlan_flows,
        m.gtpu_flows,
        m.max_concurrent_flows
    )?;
    writeln!(
        o,
        "  content: {} HTTP requests, {} DNS queries, {} TLS handshakes, {} SYN-flood packets; impairments: {} lost, {} reordered, {} retransmitted",
        m.http_requests,
        m.dns_queries,
        m.tls_handshakes,
        m.syn_flood_packets,
        m.lost,
        m.reordered,
        m.retransmitted
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(flows: u64) -> Params {
        Params {
            seed: 7,
            flow_rate: 5_000.0,
            vxlan: 0.05,
            gtpu: 0.05,
            sizes: plan::Sizes {
                max_object: 200_000.0,
                max_bulk: 2_000_000.0,
            },
            ..Params::with_defaults(flows)
        }
    }

    #[test]
    fn parsers_of_the_command_line() {
        assert_eq!(parse_size("8MB"), Ok(8e6));
        assert_eq!(parse_size("100k"), Ok(1e5));
        assert!(parse_size("big").is_err());
        assert_eq!(parse_count("10M"), Ok(10_000_000));
        assert_eq!(parse_count("1.5k"), Ok(1500));
        assert!(parse_count("-1").is_err());
        let w = parse_mix("http=1,udp=3").unwrap();
        assert_eq!(w, [1.0, 0.0, 0.0, 0.0, 0.0, 3.0]);
        assert!(parse_mix("ftp=1").is_err());
        assert!(parse_mix("http=0").is_err());
    }

    #[test]
    fn the_same_parameters_give_the_same_bytes_whatever_the_threads() {
        let dir = std::env::temp_dir().join(format!("flowscope-traffic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = params(3_000);
        let a = dir.join("a.pcap");
        let b = dir.join("b.pcap");
        let ma = generate(&p, Format::Pcap, &a).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let mb = pool.install(|| generate(&p, Format::Pcap, &b)).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!(ma.packets, mb.packets);
        assert_eq!(ma.flows, 3_000);
        assert!(ma.http_requests > 0 && ma.dns_queries > 0 && ma.tls_handshakes > 0);
        // Another seed, other bytes.
        let c = dir.join("c.pcap");
        generate(&Params { seed: 8, ..p }, Format::Pcap, &c).unwrap();
        assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&c).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
