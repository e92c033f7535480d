//! Micro-benchmarks of the hot paths (divan): decoding, keying and
//! hashing, flow-table lookups at 1 k / 100 k / 10 M flows, TCP reassembly
//! in and out of order, and each built-in parser per message. Inputs come
//! from the trace generator, built before timing.
//!
//! `cargo bench -p flowscope-bench --bench hot_paths` (all), or with a
//! filter: `... -- table`.

use divan::{Bencher, black_box};
use flowscope_bench::traffic::{self, plan::Params};
use flowscope_engine::Memory;
use flowscope_engine::parsers::{dns::DnsUdpParser, http::HttpParser, tls::TlsParser};
use flowscope_engine::unstable::Decoder;
use flowscope_engine::{
    DatagramParser, Engine, EngineConfig, FiveTuple, FlowExtractor, FlowSide, KeyOptions, LinkType,
    PacketView, RawPacket, Reassembler, ReassemblyConfig, Segment, SessionParser, Timestamp,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

/// The frames of a generated mix of 2 000 flows.
fn mixed_frames() -> Vec<(u64, Vec<u8>)> {
    traffic::frames(&Params::with_defaults(2_000), 2_000)
}

fn raw(ts: u64, f: &[u8]) -> RawPacket<'_> {
    RawPacket {
        ts: Timestamp::from_nanos(ts),
        linktype: LinkType::ETHERNET,
        wire_len: f.len() as u32,
        iface: 0,
        data: f,
    }
}

/// Decoding one packet of the mix (VLAN, tunnels, IPv4/IPv6, TCP/UDP).
// Explicit sample sizes: per-call times near the timer's precision need
// many calls per sample.
#[divan::bench(sample_size = 1000)]
fn decode(b: Bencher) {
    let frames = mixed_frames();
    let cfg = EngineConfig::default();
    let decoder = Decoder::new(&cfg.decode, &cfg.tunnel);
    let mut i = 0;
    b.counter(divan::counter::ItemsCount::new(1usize))
        .bench_local(|| {
            let (ts, f) = &frames[i % frames.len()];
            i += 1;
            let r = raw(*ts, f);
            let mut view = PacketView::empty(&r);
            black_box(decoder.decode_into(&r, &mut view).is_ok());
        });
}

/// Decoding plus the flow key and its symmetric hash.
#[divan::bench(sample_size = 1000)]
fn decode_key_hash(b: Bencher) {
    let frames = mixed_frames();
    let cfg = EngineConfig::default();
    let decoder = Decoder::new(&cfg.decode, &cfg.tunnel);
    let x = FiveTuple::new(KeyOptions::from_config(&cfg));
    let mut i = 0;
    b.bench_local(|| {
        let (ts, f) = &frames[i % frames.len()];
        i += 1;
        let r = raw(*ts, f);
        let mut view = PacketView::empty(&r);
        if decoder.decode_into(&r, &mut view).is_ok() {
            black_box(x.extract(&view).map(|e| e.hash));
        }
    });
}

/// A UDP packet of flow `i` (10.x.y.z:i → 172.16.0.1:53).
fn udp_frame(i: u32) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
    let mut ip = vec![0x45, 0, 0, 40, 0, 0, 0, 0, 64, 17, 0, 0];
    ip.extend_from_slice(&[10, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
    ip.extend_from_slice(&[172, 16, 0, 1]);
    let c = flowscope_engine::unstable::internet_checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&(1024 + (i % 60_000) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 53, 0, 20, 0, 0]);
    f.extend_from_slice(&[0x61; 12]);
    f
}

/// One packet of an existing flow, through the whole engine (decode, key,
/// lookup, update), with 1 k, 100 k or 10 M flows in the table.
#[divan::bench(args = [1_000, 100_000, 10_000_000], sample_count = 20, sample_size = 1000)]
fn table_lookup(b: Bencher, flows: u32) {
    let mut cfg = EngineConfig::default();
    cfg.flow.max_flows = flows as usize + 1;
    let x = FiveTuple::new(KeyOptions::from_config(&cfg));
    let mut engine = Engine::new(&cfg, x).expect("valid config");
    let mut out = Default::default();
    let now = Timestamp::from_nanos(1_795_651_200_000_000_000);
    for i in 0..flows {
        let frame = udp_frame(i);
        engine.process(u64::from(i), now, &raw(now.as_nanos(), &frame), &mut out);
        out.clear();
    }
    // Visit the flows in a scattered order, as traffic does.
    let probes: Vec<Vec<u8>> = (0..4096u32)
        .map(|k| udp_frame(k.wrapping_mul(2_654_435_761) % flows))
        .collect();
    let mut seq = u64::from(flows);
    b.bench_local(|| {
        let f = &probes[seq as usize % probes.len()];
        engine.process(seq, now, &raw(now.as_nanos(), f), &mut out);
        out.clear();
        seq += 1;
    });
}

/// 1 000 segments of 1 460 bytes through one side's reassembler, in order
/// or with every pair swapped (each second segment is held, then both
/// delivered).
#[divan::bench(args = [false, true])]
fn reassembly(b: Bencher, swapped: bool) {
    let mut order: Vec<u32> = (0..1000).collect();
    if swapped {
        for pair in order.chunks_mut(2) {
            pair.swap(0, 1);
        }
    }
    segments(b, &order, 1460);
}

/// 1 000 segments of 100 bytes, last to first: each is held (the hold
/// list at its longest, 999 segments, under the default caps) until the
/// first arrives and releases them all.
#[divan::bench]
fn reassembly_reversed(b: Bencher) {
    let order: Vec<u32> = (0..1000).rev().collect();
    segments(b, &order, 100);
}

/// Segments of `size` bytes, the `k`th of the stream for each `k` of
/// `order`, through a fresh reassembler per iteration.
fn segments(b: Bencher, order: &[u32], size: u32) {
    let payload = vec![0x42u8; size as usize];
    let cfg = ReassemblyConfig::default();
    let total = size as usize * order.len();
    b.counter(divan::counter::BytesCount::new(total))
        .bench_local(|| {
            let mut r = Reassembler::from_isn(1000);
            let mut mem = Memory::default();
            let mut delivered = 0usize;
            for &k in order {
                r.segment(
                    Segment::data(1001 + k * size, &payload),
                    &cfg,
                    &mut mem,
                    &mut |c| {
                        if let flowscope_engine::Chunk::Data(d) = c {
                            delivered += d.len();
                        }
                    },
                );
            }
            assert_eq!(delivered, total);
            black_box(delivered);
        });
}

/// Message `m` of generated flow `flow` of the given kind, as bytes.
fn message_of(kind: traffic::plan::Kind, m: u32) -> Vec<u8> {
    let p = Params::with_defaults(10_000);
    let plan = (0..10_000)
        .map(|i| traffic::plan::plan(&p, i))
        .find(|pl| pl.kind == kind && pl.encap == traffic::plan::Encap::None)
        .expect("the mix has every kind");
    let msg = traffic::content::message(&plan, m, &p.sizes);
    let mut out = Vec::new();
    msg.write_slice(0, msg.len().min(64 * 1024), &mut out);
    out
}

/// An HTTP/1.1 request and its response head (+ up to 64 KiB of body).
#[divan::bench(sample_size = 100)]
fn parser_http(b: Bencher) {
    let req = message_of(traffic::plan::Kind::Http, 0);
    let resp = message_of(traffic::plan::Kind::Http, 1);
    b.bench_local(|| {
        let mut p = HttpParser::default();
        black_box(p.feed_initiator(&req));
        black_box(p.feed_responder(&resp));
    });
}

/// A DNS query and its response.
#[divan::bench(sample_size = 100)]
fn parser_dns(b: Bencher) {
    let q = message_of(traffic::plan::Kind::DnsUdp, 0);
    let r = message_of(traffic::plan::Kind::DnsUdp, 1);
    b.bench_local(|| {
        let mut p = DnsUdpParser::default();
        black_box(p.parse(&q, FlowSide::Initiator));
        black_box(p.parse(&r, FlowSide::Responder));
    });
}

/// A TLS ClientHello and the server's first flight (TLS 1.2 with a
/// certificate, or 1.3, whichever the generator drew).
#[divan::bench(sample_size = 100)]
fn parser_tls(b: Bencher) {
    let ch = message_of(traffic::plan::Kind::Tls, 0);
    let sh = message_of(traffic::plan::Kind::Tls, 1);
    b.bench_local(|| {
        let mut p = TlsParser::default();
        black_box(p.feed_initiator(&ch));
        black_box(p.feed_responder(&sh));
    });
}
