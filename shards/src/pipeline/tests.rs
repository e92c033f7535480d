//! The pipeline against its oracle, the inline runner: same events, same
//! order, for any shard count, batch size and queue depth; plus the failure
//! paths (a panicking shard, a stop request, a consumer that leaves, live
//! drops).

use super::*;
use crate::{InlineRunner, MemorySource, SourcePacket};
use flowscope_engine::{
    Engine, EngineConfig, FiveTuple, FiveTupleKey, FlowEvent, KeyOptions, LinkType, Ordered,
    RawPacket, Timestamp,
};
use proptest::prelude::*;
use std::sync::atomic::AtomicUsize;

type Event = Ordered<FlowEvent<FiveTupleKey>>;

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
    Garbage(u8),
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
    let on_consumer = cfg.merge_on_consumer;
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

fn step() -> impl Strategy<Value = (u32, Step)> {
    let dt = prop_oneof![8 => 0u32..3, 2 => 0u32..100, 1 => 0u32..700];
    let host = 1u8..12;
    let s = prop_oneof![
        4 => (host.clone(), host.clone(), 1000u16..1006, any::<bool>())
            .prop_map(|(a, b, port, reply)| Step::Udp { a, b, port, reply }),
        4 => (host.clone(), host.clone(), 1000u16..1004, prop::sample::select(vec![0x02u8, 0x12, 0x10, 0x11, 0x04, 0x18]), any::<bool>())
            .prop_map(|(a, b, port, flags, reply)| Step::Tcp { a, b, port, flags, reply }),
        1 => (host.clone(), host, 0u16..4).prop_map(|(a, b, ident)| Step::Fragmented { a, b, ident }),
        1 => any::<u8>().prop_map(Step::Garbage),
    ];
    (dt, s)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The core promise: for any shard count, epoch, batch size and queue
    /// depth, the merged output is the inline engine's, event for event,
    /// with `(seq, sub)` strictly increasing.
    #[test]
    fn pipeline_output_equals_inline(
        steps in prop::collection::vec(step(), 1..300),
        shards in 1usize..5,
        epoch in prop::sample::select(vec![1u64, 2, 7, 64, 4096]),
        batch in 1usize..40,
        queue in 1usize..4,
        on_consumer in any::<bool>(),
    ) {
        let packets = build(&steps);
        let want = inline(&packets, epoch);
        let cfg = PipelineConfig {
            shards,
            pin: Some(false),
            epoch_packets: epoch,
            batch_packets: batch,
            queue_batches: queue,
            output_capacity: 3,
            merge_on_consumer: on_consumer,
            ..PipelineConfig::default()
        };
        let (got, report) = piped(&packets, cfg);
        assert_strictly_increasing(&want);
        assert_strictly_increasing(&got);
        prop_assert_eq!(render(&got), render(&want));
        prop_assert_eq!(report.ingest.packets, packets.len() as u64);
        prop_assert_eq!(report.ingest.sent.iter().sum::<u64>(), packets.len() as u64);
        prop_assert_eq!(report.merger.items, got.len() as u64);
        prop_assert_eq!(report.engine.packets, packets.len() as u64);
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

#[test]
fn every_flow_gets_the_same_events_as_inline() {
    let packets = busy_trace();
    let want = inline(&packets, 64);
    let count_per_flow = |events: &[Event]| {
        let mut m = std::collections::BTreeMap::<String, usize>::new();
        for e in events {
            let key = match &e.event {
                FlowEvent::Started { key, .. }
                | FlowEvent::Established { key, .. }
                | FlowEvent::StateChange { key, .. }
                | FlowEvent::Ended { key, .. } => Some(key),
                FlowEvent::Anomaly { key, .. } => key.as_ref(),
                _ => None,
            };
            *m.entry(format!("{key:?}")).or_default() += 1;
        }
        m
    };
    for (shards, on_consumer) in [(1, false), (2, false), (3, true), (4, false), (4, true)] {
        let cfg = PipelineConfig {
            shards,
            pin: Some(false),
            epoch_packets: 64,
            merge_on_consumer: on_consumer,
            ..PipelineConfig::default()
        };
        let (got, report) = piped(&packets, cfg);
        assert_strictly_increasing(&got);
        assert_eq!(got.len(), want.len(), "shards={shards}");
        assert_eq!(
            count_per_flow(&got),
            count_per_flow(&want),
            "shards={shards}"
        );
        assert_eq!(render(&got), render(&want), "shards={shards}");
        assert_eq!(report.shards.len(), shards);
        assert!(report.ingest.imbalance() >= 1.0);
        if shards > 1 {
            assert!(
                report.shards.iter().all(|s| s.packets > 0),
                "every shard gets work"
            );
        }
    }
}

#[test]
fn latency_recording_changes_nothing_and_fills_every_stage() {
    let packets = busy_trace();
    let want = inline(&packets, 64);
    for (shards, on_consumer, every) in [(1, false, 1), (2, true, 4), (3, false, 16)] {
        let cfg = PipelineConfig {
            shards,
            pin: Some(false),
            epoch_packets: 64,
            merge_on_consumer: on_consumer,
            latency_sample: every,
            ..PipelineConfig::default()
        };
        let (got, report) = piped(&packets, cfg);
        assert_eq!(render(&got), render(&want), "shards={shards}");
        let lat = report.latency().expect("latency was on");
        assert_eq!(lat.sample_every, every);
        let sampled = (0..packets.len() as u64)
            .filter(|&s| crate::latency::is_sampled(s, u64::from(every)))
            .count() as u64;
        // Every sampled packet passes the ingest, a queue and a shard.
        assert_eq!(lat.ingest.len(), sampled, "shards={shards}");
        assert_eq!(lat.queue.len(), sampled);
        assert_eq!(lat.shard.len(), sampled);
        // Every event of a sampled packet is timed through the merge.
        let of_sampled = got
            .iter()
            .filter(|e| crate::latency::is_sampled(e.seq, u64::from(every)))
            .count() as u64;
        assert!(
            of_sampled > 0,
            "shards={shards} every={every} events={}",
            got.len()
        );
        assert_eq!(lat.total.len() + lat.lost, of_sampled);
        assert_eq!(lat.merge.len(), of_sampled);
        assert_eq!(lat.lost, 0);
        // A packet's events leave after it was read and queued.
        assert!(lat.total.max() >= lat.ingest.min());
    }
    let (_, plain) = piped(
        &packets,
        PipelineConfig {
            shards: 2,
            pin: Some(false),
            ..PipelineConfig::default()
        },
    );
    assert!(plain.latency().is_none(), "off by default");
}

/// A source whose packets live in a buffer it overwrites: the ingest must
/// copy them.
struct TransientSource {
    packets: Vec<(Timestamp, Vec<u8>)>,
    next: usize,
    buf: Vec<u8>,
}

impl PacketSource for TransientSource {
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        let (ts, data) = self.packets.get(self.next)?;
        self.next += 1;
        self.buf.clear();
        self.buf.extend_from_slice(data);
        Some(Ok(SourcePacket {
            raw: RawPacket {
                ts: *ts,
                linktype: LinkType::RAW,
                wire_len: data.len() as u32,
                iface: 0,
                data: &self.buf,
            },
            storage: Storage::Transient,
        }))
    }
}

#[test]
fn transient_packets_are_copied() {
    let packets = busy_trace();
    let want = inline(&packets, 4096);
    let src = TransientSource {
        packets: packets.clone(),
        next: 0,
        buf: Vec::new(),
    };
    assert_eq!(render(&drain(src, 3)), render(&want));
}

/// Two shared buffers, alternating every few packets (a multi-file input).
struct TwoBuffers {
    a: MemorySource,
    b: MemorySource,
    n: usize,
}

impl PacketSource for TwoBuffers {
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        self.n += 1;
        if (self.n / 5).is_multiple_of(2) {
            self.a.next_packet().or_else(|| self.b.next_packet())
        } else {
            self.b.next_packet().or_else(|| self.a.next_packet())
        }
    }
}

#[test]
fn batches_never_mix_storages() {
    let packets = busy_trace();
    let (first, second) = packets.split_at(packets.len() / 2);
    // The order the two-buffer source yields, for the oracle.
    let mut src = TwoBuffers {
        a: MemorySource::new(raws(first)),
        b: MemorySource::new(raws(second)),
        n: 0,
    };
    let mut order = Vec::new();
    while let Some(Ok(p)) = src.next_packet() {
        order.push((p.raw.ts, p.raw.data.to_vec()));
    }
    let want = inline(&order, 4096);
    let src = TwoBuffers {
        a: MemorySource::new(raws(first)),
        b: MemorySource::new(raws(second)),
        n: 0,
    };
    assert_eq!(render(&drain(src, 2)), render(&want));
}

/// Panics in the shard that sees 10.0.0.5 <-> 10.0.1.100 port 2002, on the shard thread only (the
/// ingest keys with `extract`, the shard with `extract_hashed`).
#[derive(Debug, Clone)]
struct PanicsOnPort(FiveTuple);

impl FlowExtractor for PanicsOnPort {
    type Key = FiveTupleKey;
    fn extract(&self, pkt: &PacketView<'_>) -> Option<flowscope_engine::Extracted<FiveTupleKey>> {
        self.0.extract(pkt)
    }
    fn extract_hashed(
        &self,
        pkt: &PacketView<'_>,
        hash: u64,
    ) -> Option<flowscope_engine::Extracted<FiveTupleKey>> {
        let x = self.0.extract_hashed(pkt, hash)?;
        // One address pair, so one shard.
        let (h5, h100): (std::net::IpAddr, std::net::IpAddr) =
            ([10, 0, 0, 5].into(), [10, 0, 1, 100].into());
        let ends = [x.key.a(), x.key.b()];
        let doomed = ends.iter().any(|e| e.addr == h5)
            && ends.iter().any(|e| e.addr == h100)
            && ends.iter().any(|e| e.port == 2002);
        assert!(!doomed, "test panic on 10.0.0.5 port 2002");
        Some(x)
    }
}

#[test]
fn a_panicking_shard_is_reported_and_the_others_flush() {
    let packets = busy_trace();
    let ecfg = EngineConfig::default();
    let p = Pipeline::builder(ecfg.clone(), PanicsOnPort(extractor(&ecfg)))
        .shards(3)
        .pin(false)
        .build(MemorySource::new(raws(&packets)))
        .unwrap();
    let got: Vec<Event> = p.into_iter().collect();
    match p.join() {
        Err(PipelineError::ShardPanicked {
            shard,
            message,
            report,
        }) => {
            assert!(shard < 3);
            assert!(message.contains("port 2002"), "{message}");
            assert_eq!(report.shards.len(), 2, "the other shards reported");
        }
        other => panic!("expected a shard panic, got {other:?}"),
    }
    // The other shards' flows were flushed at the end.
    let shutdowns = got
        .iter()
        .filter(|e| {
            matches!(
                e.event,
                FlowEvent::Ended {
                    reason: flowscope_engine::EndReason::Shutdown,
                    ..
                }
            )
        })
        .count();
    assert!(shutdowns > 0);
    assert_strictly_increasing(&got);
}

/// Sets the stop flag after `after` packets.
struct StopsAfter {
    inner: MemorySource,
    after: usize,
    count: usize,
    stop: Arc<AtomicBool>,
}

impl PacketSource for StopsAfter {
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        self.count += 1;
        if self.count == self.after {
            self.stop.store(true, Ordering::SeqCst);
        }
        self.inner.next_packet()
    }
}

#[test]
fn stop_flag_drains_and_flushes_like_end_of_input() {
    let packets = busy_trace();
    let after = 1234;
    let want = inline(&packets[..after], 4096);
    let stop = Arc::new(AtomicBool::new(false));
    let ecfg = EngineConfig::default();
    let src = StopsAfter {
        inner: MemorySource::new(raws(&packets)),
        after,
        count: 0,
        stop: stop.clone(),
    };
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .shards(2)
        .pin(false)
        .stop_flag(stop)
        .build(src)
        .unwrap();
    let got: Vec<Event> = p.into_iter().collect();
    let report = p.join().unwrap();
    assert!(report.ingest.stopped);
    assert_eq!(report.ingest.packets, after as u64);
    assert_eq!(render(&got), render(&want));
    assert!(matches!(
        got.last().map(|e| &e.event),
        Some(FlowEvent::Ended {
            reason: flowscope_engine::EndReason::Shutdown,
            ..
        })
    ));
}

#[test]
fn a_consumer_that_leaves_stops_the_input() {
    // Enough packets that the run cannot finish before the consumer leaves.
    let mut packets = Vec::new();
    for round in 0..20 {
        packets.extend(
            busy_trace()
                .into_iter()
                .map(|(ts, p)| (Timestamp::new(ts.secs() + round * 100_000, 0), p)),
        );
    }
    let ecfg = EngineConfig::default();
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .config(PipelineConfig {
            shards: 2,
            pin: Some(false),
            output_capacity: 4,
            ..PipelineConfig::default()
        })
        .build(MemorySource::new(raws(&packets)))
        .unwrap();
    let first: Vec<Event> = p.receiver().iter().take(5).collect();
    assert_eq!(first.len(), 5);
    let report = p.join().unwrap();
    assert!(report.ingest.stopped, "the ingest noticed");
    assert!(report.ingest.packets < packets.len() as u64);

    // The same when the merge runs here and the consumer says "enough".
    let mut p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .config(PipelineConfig {
            shards: 2,
            pin: Some(false),
            merge_on_consumer: true,
            ..PipelineConfig::default()
        })
        .build(MemorySource::new(raws(&packets)))
        .unwrap();
    let mut taken = 0;
    p.merge_here(|_| {
        taken += 1;
        taken < 5
    });
    assert_eq!(taken, 5);
    let report = p.join().unwrap();
    assert!(report.ingest.stopped);
    assert!(report.ingest.packets < packets.len() as u64);
}

/// A sink that works slowly, so shards fall behind a live source.
#[derive(Debug, Clone)]
struct Slow(Arc<AtomicUsize>);

impl EventSink<FiveTupleKey> for Slow {
    type Item = ();
    fn map(&mut self, _: Event) -> Option<()> {
        self.0.fetch_add(1, Ordering::Relaxed);
        std::thread::sleep(Duration::from_micros(200));
        Some(())
    }
}

struct Live(MemorySource);

impl PacketSource for Live {
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        self.0.next_packet()
    }
    fn is_live(&self) -> bool {
        true
    }
}

/// The busy trace as live input into one slow shard with a one-batch
/// queue: items delivered, packets offered, and the report.
fn slow_live_run(drop_wait: Duration) -> (usize, u64, PipelineReport<Live>) {
    let packets = busy_trace();
    let ecfg = EngineConfig::default();
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .config(PipelineConfig {
            shards: 1,
            pin: Some(false),
            batch_packets: 4,
            queue_batches: 1,
            drop_wait,
            ..PipelineConfig::default()
        })
        .sink(Slow(Arc::new(AtomicUsize::new(0))))
        .build(Live(MemorySource::new(raws(&packets))))
        .unwrap();
    let items = p.receiver().iter().count();
    (items, packets.len() as u64, p.join().unwrap())
}

#[test]
fn live_input_drops_and_counts_instead_of_blocking() {
    let (items, offered, report) = slow_live_run(Duration::ZERO);
    let dropped: u64 = report.ingest.dropped.iter().sum();
    assert!(dropped > 0, "the slow shard made the ingest drop");
    assert_eq!(
        report.ingest.sent[0] + dropped,
        offered,
        "every packet sent or counted"
    );
    assert_eq!(report.shards[0].packets, report.ingest.sent[0]);
    assert_eq!(items as u64, report.merger.items);
}

#[test]
fn live_input_waits_a_bounded_time_before_dropping() {
    // The same slow shard, but each full queue is waited on long enough
    // for it to catch up: nothing is lost, and the wait shows as blocked.
    let (_, offered, report) = slow_live_run(Duration::from_secs(10));
    assert_eq!(report.ingest.dropped.iter().sum::<u64>(), 0);
    assert_eq!(report.ingest.sent[0], offered);
    assert!(report.ingest.stalls[0] > 0, "the queue was full at times");
    assert!(report.ingest.blocked > Duration::ZERO);
}

#[test]
fn a_handle_stays_in_one_cache_line() {
    assert!(size_of::<Handle>() <= 64, "{}", size_of::<Handle>());
}

#[test]
fn noop_shards_measure_the_ingest_alone() {
    let packets = busy_trace();
    let ecfg = EngineConfig::default();
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .config(PipelineConfig {
            shards: 2,
            pin: Some(false),
            noop_shards: true,
            ..PipelineConfig::default()
        })
        .build(MemorySource::new(raws(&packets)))
        .unwrap();
    assert_eq!(p.receiver().iter().count(), 0);
    let report = p.join().unwrap();
    assert_eq!(
        report.shards.iter().map(|s| s.packets).sum::<u64>(),
        packets.len() as u64
    );
    assert_eq!(report.engine.packets, 0);
}

#[test]
fn an_invalid_engine_config_is_an_error_not_a_thread() {
    let mut ecfg = EngineConfig::default();
    ecfg.flow.max_flows = 0;
    let r = Pipeline::builder(ecfg.clone(), extractor(&EngineConfig::default()))
        .build(MemorySource::new(std::iter::empty()));
    assert!(matches!(r, Err(PipelineError::Config(_))));
}

/// A live source: one packet at `ts`, then quiet (Idle) until the test
/// has seen what it waits for, or ten seconds. With `clock`, its clock
/// moves a second per poll from `ts`, as a wall clock would.
struct QuietLink {
    packet: Vec<u8>,
    ts: Timestamp,
    sent: bool,
    clock: Option<std::cell::Cell<u64>>,
    seen: Arc<AtomicBool>,
    started: Instant,
}

impl QuietLink {
    fn new(packet: Vec<u8>, ts: Timestamp, clock: bool, seen: &Arc<AtomicBool>) -> Self {
        QuietLink {
            packet,
            ts,
            sent: false,
            clock: clock.then(|| std::cell::Cell::new(0)),
            seen: seen.clone(),
            started: Instant::now(),
        }
    }
}

impl PacketSource for QuietLink {
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        if !self.sent {
            self.sent = true;
            return Some(Ok(SourcePacket {
                raw: RawPacket {
                    ts: self.ts,
                    linktype: LinkType::RAW,
                    wire_len: self.packet.len() as u32,
                    iface: 0,
                    data: &self.packet,
                },
                storage: Storage::Transient,
            }));
        }
        if self.seen.load(Ordering::SeqCst) || self.started.elapsed() > Duration::from_secs(10) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(1));
        Some(Err(SourceError::Idle))
    }
    fn is_live(&self) -> bool {
        true
    }
    fn clock_now(&self) -> Option<Timestamp> {
        let polls = self.clock.as_ref()?;
        polls.set(polls.get() + 1);
        Some(Timestamp::new(self.ts.secs() + polls.get(), 0))
    }
}

#[test]
fn live_epochs_close_on_time_while_the_link_is_quiet() {
    let seen = Arc::new(AtomicBool::new(false));
    let src = QuietLink::new(vec![0x45, 0, 0, 1], Timestamp::new(1, 0), false, &seen);
    let ecfg = EngineConfig::default();
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .config(PipelineConfig {
            shards: 2,
            pin: Some(false),
            epoch_interval: Duration::from_millis(5),
            ..PipelineConfig::default()
        })
        .build(src)
        .unwrap();
    // 4096-packet epochs would hold the anomaly until the end of input;
    // the time-driven epoch releases it while the source is still open.
    let t = Instant::now();
    let first = p.receiver().recv().unwrap();
    assert!(matches!(first.event, FlowEvent::Anomaly { .. }));
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "released by a time-driven epoch, not by the end of input"
    );
    seen.store(true, Ordering::SeqCst);
    let rest: Vec<Event> = p.receiver().iter().collect();
    assert!(rest.is_empty());
    let report = p.join().unwrap();
    assert!(
        report.ingest.source_errors.is_empty(),
        "idle is not an error"
    );
    assert_eq!(report.ingest.packets, 1);
}

#[test]
fn a_quiet_live_link_still_times_flows_out() {
    let seen = Arc::new(AtomicBool::new(false));
    // No second packet ever comes: only the source's clock can end the flow.
    let udp_packet = ipv4(1, 2, 17, 1, 0, &udp(1000, 53, 10));
    let src = QuietLink::new(udp_packet, Timestamp::new(100, 0), true, &seen);
    let ecfg = EngineConfig::default();
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .config(PipelineConfig {
            shards: 2,
            pin: Some(false),
            epoch_interval: Duration::from_millis(2),
            ..PipelineConfig::default()
        })
        .build(src)
        .unwrap();
    let ended = p
        .receiver()
        .iter()
        .find(|e| matches!(e.event, FlowEvent::Ended { .. }))
        .expect("the flow ends");
    seen.store(true, Ordering::SeqCst);
    let FlowEvent::Ended { reason, stats, .. } = &ended.event else {
        unreachable!()
    };
    assert_eq!(*reason, flowscope_engine::EndReason::IdleTimeout);
    assert_eq!(stats.total_packets(), 1);
    assert_eq!(
        ended.seq, 0,
        "timer events of a quiet link keep the last seq"
    );
    let _rest: Vec<Event> = p.receiver().iter().collect();
    let report = p.join().unwrap();
    assert!(
        report.ingest.idle > Duration::ZERO,
        "waiting on the quiet link is counted as idle, not busy"
    );
}

/// A seed-shaped line parser, as a customer would write it.
#[derive(Default, Clone)]
struct LineParser {
    init_buf: Vec<u8>,
    resp_buf: Vec<u8>,
}

impl flowscope_engine::SessionParser for LineParser {
    type Message = (flowscope_engine::FlowSide, String);
    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<Self::Message> {
        split_lines(
            &mut self.init_buf,
            bytes,
            flowscope_engine::FlowSide::Initiator,
        )
    }
    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<Self::Message> {
        split_lines(
            &mut self.resp_buf,
            bytes,
            flowscope_engine::FlowSide::Responder,
        )
    }
}

fn split_lines(
    buf: &mut Vec<u8>,
    bytes: &[u8],
    side: flowscope_engine::FlowSide,
) -> Vec<(flowscope_engine::FlowSide, String)> {
    buf.extend_from_slice(bytes);
    let mut out = Vec::new();
    while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
        out.push((side, String::from_utf8_lossy(&buf[..nl]).into_owned()));
        buf.drain(..=nl);
    }
    out
}

fn tcp_data(sport: u16, dport: u16, flags: u8, seq: u32, ack: u32, payload: &[u8]) -> Vec<u8> {
    let mut t = tcp(sport, dport, flags, seq);
    t[8..12].copy_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(payload);
    t
}

/// Many TCP conversations of text lines, interleaved, with segments cut at
/// odd places, some swapped (out of order), some sent twice, and a few lost.
fn line_conversations(n: u16) -> Vec<(Timestamp, Vec<u8>)> {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const FIN: u8 = 0x01;
    const PSH: u8 = 0x08;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut convs: Vec<Vec<Vec<u8>>> = Vec::new();
    for c in 0..n {
        let (a, b) = (1 + (c % 7) as u8, 100 + (c % 5) as u8);
        let (cp, sp) = (20000 + c, 7000 + c % 3);
        let (cisn, sisn) = (next() as u32, next() as u32);
        let client: Vec<u8> = (0..6)
            .flat_map(|j| format!("conn {c} says {j}\n").into_bytes())
            .collect();
        let server: Vec<u8> = format!("hello {c}\nbye {c}\n").into_bytes();
        let mut pkts = vec![
            ipv4(a, b, 6, 0, 0, &tcp_data(cp, sp, SYN, cisn, 0, b"")),
            ipv4(
                b,
                a,
                6,
                0,
                0,
                &tcp_data(sp, cp, SYN | ACK, sisn, cisn + 1, b""),
            ),
        ];
        let mut segs = Vec::new();
        let mut off = 0;
        while off < client.len() {
            let len = (1 + next() % 17) as usize;
            let end = (off + len).min(client.len());
            segs.push((off, end));
            off = end;
        }
        let mut i = 0;
        while i < segs.len() {
            let r = next() % 10;
            let mut order = vec![segs[i]];
            if r < 3 && i + 1 < segs.len() {
                order = vec![segs[i + 1], segs[i]]; // swapped
                i += 1;
            } else if r == 3 {
                order.push(segs[i]); // retransmitted
            }
            i += 1;
            for (s, e) in order {
                let seq = cisn.wrapping_add(1).wrapping_add(s as u32);
                let l4 = tcp_data(cp, sp, ACK | PSH, seq, sisn.wrapping_add(1), &client[s..e]);
                pkts.push(ipv4(a, b, 6, 0, 0, &l4));
            }
        }
        let sseq = sisn.wrapping_add(1);
        let cend = cisn.wrapping_add(1).wrapping_add(client.len() as u32);
        pkts.push(ipv4(
            b,
            a,
            6,
            0,
            0,
            &tcp_data(sp, cp, ACK | PSH, sseq, cend, &server),
        ));
        let send = sseq.wrapping_add(server.len() as u32);
        pkts.push(ipv4(
            a,
            b,
            6,
            0,
            0,
            &tcp_data(cp, sp, ACK | FIN, cend, send, b""),
        ));
        pkts.push(ipv4(
            b,
            a,
            6,
            0,
            0,
            &tcp_data(sp, cp, ACK | FIN, send, cend + 1, b""),
        ));
        pkts.push(ipv4(
            a,
            b,
            6,
            0,
            0,
            &tcp_data(cp, sp, ACK, cend + 1, send + 1, b""),
        ));
        convs.push(pkts);
    }
    // Interleave the conversations, a few packets at a time.
    let mut out = Vec::new();
    let mut t = 1_000_000u64;
    let mut cursors = vec![0usize; convs.len()];
    while cursors.iter().zip(&convs).any(|(&k, c)| k < c.len()) {
        for (k, conv) in cursors.iter_mut().zip(&convs) {
            let take = 1 + (next() % 3) as usize;
            for p in conv.iter().skip(*k).take(take) {
                t += 1;
                out.push((Timestamp::from_nanos(t * 1000), p.clone()));
            }
            *k += take;
        }
    }
    out
}

type LineSessions = flowscope_engine::Sessions<FiveTupleKey, (flowscope_engine::FlowSide, String)>;

fn line_sessions() -> LineSessions {
    flowscope_engine::Sessions::new(&EngineConfig::default().reassembly)
        .tcp(LineParser::default(), flowscope_engine::Route::any())
}

type SessionItem = Ordered<SessionEvent<FiveTupleKey, (flowscope_engine::FlowSide, String)>>;

/// Session events as `(seq, sub, event)` text.
fn render_sessions(items: &[SessionItem]) -> Vec<String> {
    items
        .iter()
        .map(|o| format!("{}/{}/{:?}", o.seq, o.sub, o.event))
        .collect()
}

#[test]
fn a_custom_session_parser_gives_the_same_messages_for_0_1_and_4_shards() {
    let packets = line_conversations(60);
    let ecfg = EngineConfig::default();
    // shards = 0: one engine on this thread.
    let engine = Engine::with_hook(&ecfg, extractor(&ecfg), line_sessions()).unwrap();
    let mut runner = InlineRunner::new(engine, 64);
    let mut inline_items = Vec::new();
    let mut sink = SessionEvents;
    for raw in raws(&packets) {
        runner.push(&raw);
        inline_items.extend(runner.events().filter_map(|e| sink.map(e)));
    }
    runner.finish();
    inline_items.extend(runner.events().filter_map(|e| sink.map(e)));
    // Renumber `sub` over the session events of each seq, as the merger does.
    let mut last = None;
    let mut sub = 0;
    for item in &mut inline_items {
        if last != Some(item.seq) {
            last = Some(item.seq);
            sub = 0;
        }
        item.sub = sub;
        sub += 1;
    }
    let expected = render_sessions(&inline_items);
    let lines = inline_items
        .iter()
        .filter(|o| matches!(o.event, SessionEvent::Application { .. }))
        .count();
    // 60 conversations of 6 client lines and 2 server lines, none lost.
    assert_eq!(lines, 60 * 8);
    for shards in [1, 4] {
        let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
            .shards(shards)
            .pin(false)
            .epoch_packets(64)
            .hook(line_sessions)
            .sink(SessionEvents)
            .build(MemorySource::new(raws(&packets)))
            .unwrap();
        let got: Vec<SessionItem> = p.into_iter().collect();
        p.join().unwrap();
        assert_eq!(render_sessions(&got), expected, "shards = {shards}");
    }
}
