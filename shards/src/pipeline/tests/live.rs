//! Live input: drops (counted) or a bounded wait when a shard falls behind,
//! epochs that close on wall time while the link is quiet, and the keying
//! pool (`ingest_threads` > 1) behind a live source — each with one ingest
//! thread and with a pool.

use super::storage::TransientSource;
use super::*;

/// A sink that works slowly, so shards fall behind a live source.
#[derive(Debug, Clone)]
struct Slow(Arc<AtomicUsize>);

impl EventSink<FiveTupleKey> for Slow {
    type Item = ();
    fn map(&mut self, _: Event, _: &mut Vec<u8>) -> Option<()> {
        self.0.fetch_add(1, Ordering::Relaxed);
        std::thread::sleep(Duration::from_micros(200));
        Some(())
    }
}

/// A source offered as a live one.
pub(super) struct Live<S>(pub(super) S);

impl<S: PacketSource> PacketSource for Live<S> {
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        self.0.next_packet()
    }
    fn is_live(&self) -> bool {
        true
    }
}

/// The busy trace as live input into one slow shard with a one-batch
/// queue: items delivered, packets offered, and the report.
fn slow_live_run(
    drop_wait: Duration,
    ingest_threads: usize,
) -> (usize, u64, PipelineReport<Live<MemorySource>>) {
    let packets = busy_trace();
    let ecfg = EngineConfig::default();
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .config(PipelineConfig {
            shards: Some(1),
            pin: Some(false),
            batch_packets: 4,
            queue_batches: 1,
            drop_wait,
            ingest_threads,
            merger_thread: true,
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
    for threads in [1, 3] {
        let (items, offered, report) = slow_live_run(Duration::ZERO, threads);
        let dropped: u64 = report.ingest.dropped.iter().sum();
        assert!(dropped > 0, "the slow shard made the ingest drop");
        assert_eq!(
            report.ingest.sent[0] + dropped,
            offered,
            "every packet sent or counted, ingest_threads={threads}"
        );
        assert_eq!(report.shards[0].packets, report.ingest.sent[0]);
        assert_eq!(items as u64, report.merger.items);
        assert_eq!(report.ingest.pool_threads, threads - 1);
    }
}

#[test]
fn live_input_waits_a_bounded_time_before_dropping() {
    // The same slow shard, but each full queue is waited on long enough
    // for it to catch up: nothing is lost, and the wait shows as blocked.
    for threads in [1, 3] {
        let (_, offered, report) = slow_live_run(Duration::from_secs(10), threads);
        assert_eq!(report.ingest.dropped.iter().sum::<u64>(), 0);
        assert_eq!(report.ingest.sent[0], offered, "ingest_threads={threads}");
        assert!(report.ingest.stalls[0] > 0, "the queue was full at times");
        assert!(report.ingest.blocked > Duration::ZERO);
    }
}

/// `packets` as a live capture hands them out (one buffer the next read
/// reuses), all there at once, queues waited on: every event and the
/// report.
fn lossless_live_run(
    packets: &[(Timestamp, Vec<u8>)],
    shards: usize,
    ingest_threads: usize,
    epoch_packets: u64,
    epoch_interval: Duration,
) -> (Vec<Event>, PipelineReport<Live<TransientSource>>) {
    let ecfg = EngineConfig::default();
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .config(PipelineConfig {
            shards: Some(shards),
            pin: Some(false),
            epoch_packets,
            epoch_interval,
            ingest_threads,
            backpressure: Some(Backpressure::Block),
            merger_thread: true,
            ..PipelineConfig::default()
        })
        .build(Live(TransientSource::new(packets)))
        .unwrap();
    let got: Vec<Event> = p.into_iter().collect();
    (got, p.join().unwrap())
}

#[test]
fn an_epoch_interval_of_zero_closes_an_epoch_after_every_packet() {
    // Due all the time: the input still moves on, one packet per epoch,
    // which is the inline engine's output with one-packet epochs.
    let packets = busy_trace();
    let want = render(&inline(&packets, 1));
    let epoch_packets = PipelineConfig::default().epoch_packets;
    for threads in 1..=3 {
        let (got, report) = lossless_live_run(&packets, 2, threads, epoch_packets, Duration::ZERO);
        assert_eq!(render(&got), want, "ingest_threads={threads}");
        assert_eq!(report.ingest.packets, packets.len() as u64);
    }
}

#[test]
fn a_live_source_is_keyed_by_the_pool_with_the_inline_output() {
    // Packets in a buffer the source reuses (as libpcap's), all there at
    // once, and an epoch interval no run reaches: epochs close by packet
    // count alone, so the output is the inline engine's whatever the pool.
    let packets = busy_rounds(2);
    let hour = Duration::from_secs(3600);
    for epoch in [64, 4096] {
        let want = render(&inline(&packets, epoch));
        for threads in 1..=3 {
            for shards in 1..=3 {
                let (got, report) = lossless_live_run(&packets, shards, threads, epoch, hour);
                let what = format!("ingest_threads={threads} shards={shards} epoch={epoch}");
                assert_eq!(render(&got), want, "{what}");
                assert_eq!(report.ingest.pool_threads, threads - 1, "{what}");
                assert_eq!(report.ingest.packets, packets.len() as u64, "{what}");
            }
        }
    }
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
    for threads in [1, 3] {
        quiet_link_releases_by_time(threads);
    }
}

fn quiet_link_releases_by_time(ingest_threads: usize) {
    let seen = Arc::new(AtomicBool::new(false));
    let src = QuietLink::new(vec![0x45, 0, 0, 1], Timestamp::new(1, 0), false, &seen);
    let ecfg = EngineConfig::default();
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .config(PipelineConfig {
            shards: Some(2),
            pin: Some(false),
            epoch_interval: Duration::from_millis(5),
            ingest_threads,
            merger_thread: true,
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
    assert_eq!(report.ingest.pool_threads, ingest_threads - 1);
}

#[test]
fn a_quiet_live_link_still_times_flows_out() {
    for threads in [1, 3] {
        quiet_link_times_flows_out(threads);
    }
}

fn quiet_link_times_flows_out(ingest_threads: usize) {
    let seen = Arc::new(AtomicBool::new(false));
    // No second packet ever comes: only the source's clock can end the flow.
    let udp_packet = ipv4(1, 2, 17, 1, 0, &udp(1000, 53, 10));
    let src = QuietLink::new(udp_packet, Timestamp::new(100, 0), true, &seen);
    let ecfg = EngineConfig::default();
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .config(PipelineConfig {
            shards: Some(2),
            pin: Some(false),
            epoch_interval: Duration::from_millis(2),
            ingest_threads,
            merger_thread: true,
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
    assert_eq!(report.ingest.pool_threads, ingest_threads - 1);
}
