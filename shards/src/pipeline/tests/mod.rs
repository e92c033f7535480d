//! The pipeline against its oracle, the inline runner: same events, same
//! order, for any shard count, batch size, queue depth and ingest pool
//! size; plus the failure
//! paths (a panicking shard, a stop request, a consumer that leaves, live
//! drops).

use super::*;
use crate::source::{PacketSource, SourceError, Storage};
use crate::{InlineRunner, MemorySource, SourcePacket};
use flowscope_engine::{
    Engine, EngineConfig, FiveTuple, FiveTupleKey, FlowEvent, KeyOptions, LinkType, Ordered,
    RawPacket, Timestamp,
};
use flowscope_engine::{FlowExtractor, PacketView, SessionEvent};
use proptest::prelude::*;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

type Event = Ordered<FlowEvent<FiveTupleKey>>;

mod budgets;
mod bytes;
mod equivalence;
mod flush;
mod live;
mod parallel_ingest;
mod sessions;
mod spans;
mod stopping;
mod storage;

/// A raw IPv4 packet: 20-byte header (checksummed) around `l4`.
fn ipv4(src: u8, dst: u8, proto: u8, ident: u16, frag: u16, l4: &[u8]) -> Vec<u8> {
    let total = (20 + l4.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&ident.to_be_bytes());
    p.extend_from_slice(&frag.to_be_bytes());
    p.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, src, 10, 0, 1, dst]);
    let c = flowscope_engine::unstable::internet_checksum(&p);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(l4);
    p
}

fn udp(sport: u16, dport: u16, payload: usize) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.resize(8 + payload, 0x61);
    u
}

fn tcp(sport: u16, dport: u16, flags: u8, seq: u32) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t
}

/// What one generated packet is.
#[derive(Debug, Clone)]
enum Step {
    Udp {
        a: u8,
        b: u8,
        port: u16,
        reply: bool,
    },
    Tcp {
        a: u8,
        b: u8,
        port: u16,
        flags: u8,
        reply: bool,
    },
    /// A UDP datagram in two fragments (the second `gap` packets later,
    /// i.e. immediately after).
    Fragmented {
        a: u8,
        b: u8,
        ident: u16,
    },
    /// A UDP datagram between inner hosts `c` and `d` in a tunnel (`kind`:
    /// VXLAN, IP-in-IP or GRE) between `a` and `b`, the outer datagram
    /// (IPv4 or IPv6) in 24-byte fragments sent in `order`: as cut,
    /// reversed, with a duplicate, or overlapping (which drops it).
    TunnelFragments {
        a: u8,
        b: u8,
        c: u8,
        d: u8,
        kind: u8,
        v6: bool,
        order: u8,
        ident: u16,
    },
    Garbage(u8),
}

/// The inner packet and the outer protocol of a tunnel of `kind`
/// (0 VXLAN, 1 IP-in-IP, 2 GRE) carrying `inner` (an IPv4 packet).
fn tunnel(kind: u8, v6: bool, inner: Vec<u8>) -> (u8, Vec<u8>) {
    match kind % 3 {
        0 => {
            let mut p = vec![0x08, 0, 0, 0, 0, 0, 0x2a, 0];
            p.extend_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0]);
            p.extend_from_slice(&inner);
            let mut u = Vec::new();
            u.extend_from_slice(&40000u16.to_be_bytes());
            u.extend_from_slice(&4789u16.to_be_bytes());
            u.extend_from_slice(&((8 + p.len()) as u16).to_be_bytes());
            // IPv6 forbids a zero UDP checksum; decoders do not check it.
            u.extend_from_slice(&[0, if v6 { 1 } else { 0 }]);
            u.extend_from_slice(&p);
            (17, u)
        }
        1 => (4, inner),
        _ => {
            let mut g = vec![0, 0, 0x08, 0];
            g.extend_from_slice(&inner);
            (47, g)
        }
    }
}

/// `payload` of protocol `proto` from 10.0.0.`a` (or fd00::`a`) to `b`
/// as fragments of 24 bytes, in `order`.
fn fragments(
    a: u8,
    b: u8,
    v6: bool,
    proto: u8,
    ident: u16,
    order: u8,
    payload: &[u8],
) -> Vec<Vec<u8>> {
    let mut pieces: Vec<(usize, usize)> = (0..payload.len())
        .step_by(24)
        .map(|at| (at, (at + 24).min(payload.len())))
        .collect();
    match order % 4 {
        1 => pieces.reverse(),
        2 => pieces.insert(1, pieces[0]),
        3 if pieces.len() > 1 => pieces[1].0 -= 8,
        _ => {}
    }
    pieces
        .into_iter()
        .map(|(from, to)| {
            let more = to < payload.len();
            let data = &payload[from..to];
            if v6 {
                let mut p = vec![0x60, 0, 0, 0];
                p.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
                p.extend_from_slice(&[44, 64]);
                for host in [a, b] {
                    p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, host]);
                }
                let off = (from as u16) | u16::from(more);
                p.extend_from_slice(&[proto, 0]);
                p.extend_from_slice(&off.to_be_bytes());
                p.extend_from_slice(&u32::from(ident).to_be_bytes());
                p.extend_from_slice(data);
                p
            } else {
                let frag = (from / 8) as u16 | if more { 0x2000 } else { 0 };
                ipv4(a, b, proto, ident, frag, data)
            }
        })
        .collect()
}

/// Packets with their capture time in seconds.
fn build(steps: &[(u32, Step)]) -> Vec<(Timestamp, Vec<u8>)> {
    let mut t = 1_000_000u64;
    let mut out = Vec::new();
    for (dt, step) in steps {
        t += u64::from(*dt);
        let ts = Timestamp::new(t, 0);
        match *step {
            Step::Udp { a, b, port, reply } => {
                let (s, d, sp, dp) = if reply {
                    (b, a, 53, port)
                } else {
                    (a, b, port, 53)
                };
                out.push((ts, ipv4(s, d, 17, 0, 0, &udp(sp, dp, 12))));
            }
            Step::Tcp {
                a,
                b,
                port,
                flags,
                reply,
            } => {
                let (s, d, sp, dp) = if reply {
                    (b, a, 80, port)
                } else {
                    (a, b, port, 80)
                };
                out.push((ts, ipv4(s, d, 6, 0, 0, &tcp(sp, dp, flags, 1000))));
            }
            Step::Fragmented { a, b, ident } => {
                let l4 = udp(4000 + u16::from(a), 5353, 40);
                out.push((ts, ipv4(a, b, 17, ident, 0x2000, &l4[..24])));
                out.push((ts, ipv4(a, b, 17, ident, 3, &l4[24..])));
            }
            Step::TunnelFragments {
                a,
                b,
                c,
                d,
                kind,
                v6,
                order,
                ident,
            } => {
                let inner = ipv4(c, d, 17, 0, 0, &udp(5000 + u16::from(c), 53, 30));
                let (proto, outer) = tunnel(kind, v6, inner);
                for f in fragments(a, b, v6, proto, ident, order, &outer) {
                    out.push((ts, f));
                }
            }
            Step::Garbage(n) => out.push((ts, vec![0x45, n, 0, 1])),
        }
    }
    out
}

fn raws(packets: &[(Timestamp, Vec<u8>)]) -> impl Iterator<Item = RawPacket<'_>> {
    packets.iter().map(|(ts, data)| RawPacket {
        ts: *ts,
        linktype: LinkType::RAW,
        wire_len: data.len() as u32,
        iface: 0,
        data,
    })
}

fn extractor(cfg: &EngineConfig) -> FiveTuple {
    FiveTuple::new(KeyOptions::from_config(cfg))
}

fn inline(packets: &[(Timestamp, Vec<u8>)], epoch: u64) -> Vec<Event> {
    let cfg = EngineConfig::default();
    let engine = Engine::new(&cfg, extractor(&cfg)).unwrap();
    let mut r = InlineRunner::new(engine, epoch);
    let mut out = Vec::new();
    for raw in raws(packets) {
        r.push(&raw);
        out.extend(r.events());
    }
    r.finish();
    out.extend(r.events());
    out
}

fn piped(
    packets: &[(Timestamp, Vec<u8>)],
    cfg: PipelineConfig,
) -> (Vec<Event>, PipelineReport<MemorySource>) {
    let ecfg = EngineConfig::default();
    let on_consumer = !cfg.merger_thread;
    let mut p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .config(cfg)
        .build(MemorySource::new(raws(packets)))
        .unwrap();
    let mut events: Vec<Event> = Vec::new();
    if on_consumer {
        assert!(p.receiver().iter().next().is_none());
        assert!(p.merge_here(|e| {
            events.push(e);
            true
        }));
        assert!(!p.merge_here(|_| true), "the merge runs once");
    } else {
        assert!(!p.merge_here(|_| true), "the merge has its own thread");
        events = p.receiver().iter().collect();
    }
    // The output has ended: the live counters show the final figures.
    let st = p.stats();
    assert_eq!(st.packets_read, packets.len() as u64);
    assert_eq!(st.shard_packets.iter().sum::<u64>(), packets.len() as u64);
    assert_eq!(st.items_merged, events.len() as u64);
    assert!(st.shard_flows.iter().all(|&f| f == 0), "all flushed");
    (events, p.join().unwrap())
}

/// Every event of a default-configured pipeline over `src`.
fn drain(src: impl PacketSource + 'static, shards: usize) -> Vec<Event> {
    let ecfg = EngineConfig::default();
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .shards(shards)
        .pin(false)
        .build(src)
        .unwrap();
    let got: Vec<Event> = p.into_iter().collect();
    p.join().unwrap();
    got
}

fn render(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| format!("{:?}/{}/{:?}", e.key(), e.seq, e.event))
        .collect()
}

fn assert_strictly_increasing(events: &[Event]) {
    for w in events.windows(2) {
        assert!(
            (w[0].seq, w[0].sub) < (w[1].seq, w[1].sub),
            "(seq, sub) not increasing: {:?} then {:?}",
            (w[0].seq, w[0].sub),
            (w[1].seq, w[1].sub)
        );
    }
}

/// A busy trace: many flows over many address pairs, timeouts included.
fn busy_trace() -> Vec<(Timestamp, Vec<u8>)> {
    let mut steps = Vec::new();
    for i in 0..4000u32 {
        let a = (i % 37) as u8 + 1;
        let b = (i % 11) as u8 + 100;
        let dt = if i % 500 == 499 {
            90
        } else {
            u32::from(i % 3 == 0)
        };
        let step = match i % 5 {
            0 | 1 => Step::Udp {
                a,
                b,
                port: 1000 + (i % 7) as u16,
                reply: i % 2 == 0,
            },
            2 | 3 => Step::Tcp {
                a,
                b,
                port: 2000 + (i % 5) as u16,
                flags: 0x18,
                reply: i % 3 == 0,
            },
            _ if i % 2 == 0 => Step::TunnelFragments {
                a: 200,
                b: 201 + (i % 2) as u8,
                c: a,
                d: b,
                kind: (i / 10) as u8,
                v6: i % 4 == 0,
                order: (i / 30) as u8,
                ident: i as u16,
            },
            _ => Step::Fragmented {
                a,
                b,
                ident: i as u16,
            },
        };
        steps.push((dt, step));
    }
    build(&steps)
}

/// The busy trace `rounds` times over, each round 100 000 s after the
/// last (so its flows have timed out).
fn busy_rounds(rounds: u64) -> Vec<(Timestamp, Vec<u8>)> {
    let mut packets = Vec::new();
    for round in 0..rounds {
        packets.extend(
            busy_trace()
                .into_iter()
                .map(|(ts, p)| (Timestamp::new(ts.secs() + round * 100_000, 0), p)),
        );
    }
    packets
}
