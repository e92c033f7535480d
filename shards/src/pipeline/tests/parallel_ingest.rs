//! The offline ingest with a keying pool (`ingest_threads` > 1): the same
//! output as one ingest thread — and as the inline engine — for every pool
//! size and shard count, with fragments and fragmented tunnels crossing
//! chunk boundaries, source errors and quiet streams mid-input, several
//! storages, copied packets, a stop request and latency sampling.

use super::storage::{TransientSource, TwoBuffers};
use super::*;

/// Every event and the report of a run over `src`.
fn pooled_run<Src: PacketSource + 'static>(
    src: Src,
    shards: usize,
    ingest_threads: usize,
    epoch: u64,
    stop: Option<Arc<AtomicBool>>,
) -> (Vec<Event>, PipelineReport<Src>) {
    let ecfg = EngineConfig::default();
    let mut b = Pipeline::builder(ecfg.clone(), extractor(&ecfg)).config(PipelineConfig {
        shards: Some(shards),
        pin: Some(false),
        epoch_packets: epoch,
        ingest_threads,
        batch_packets: 100,
        merger_thread: true,
        ..PipelineConfig::default()
    });
    if let Some(stop) = stop {
        b = b.stop_flag(stop);
    }
    let p = b.build(src).unwrap();
    let got: Vec<Event> = p.into_iter().collect();
    (got, p.join().unwrap())
}

/// A trace longer than a few chunks (every kind of fragment included).
fn long_trace() -> Vec<(Timestamp, Vec<u8>)> {
    busy_rounds(3)
}

#[test]
fn every_pool_size_and_shard_count_gives_the_inline_output() {
    let packets = long_trace();
    assert!(packets.len() > 8 * 1024, "several chunks");
    for epoch in [64, 4096] {
        let want = render(&inline(&packets, epoch));
        for threads in 1..=3 {
            for shards in 1..=3 {
                let src = MemorySource::new(raws(&packets));
                let (got, report) = pooled_run(src, shards, threads, epoch, None);
                let what = format!("ingest_threads={threads} shards={shards} epoch={epoch}");
                assert_eq!(render(&got), want, "{what}");
                assert_strictly_increasing(&got);
                assert_eq!(report.ingest.pool_threads, threads - 1, "{what}");
                assert_eq!(report.ingest.packets, packets.len() as u64, "{what}");
                assert_eq!(report.ingest.sent.iter().sum::<u64>(), packets.len() as u64);
                assert!(report.engine.defrag.reassembled > 0, "{what}");
                // One shard fed by one thread reassembles itself: the
                // ingest only read and numbered the packets.
                let ingest_reassembled = report.ingest.defrag.reassembled > 0;
                assert_eq!(ingest_reassembled, shards > 1 || threads > 1, "{what}");
                if threads == 1 {
                    assert_eq!(report.ingest.pool_wait, Duration::ZERO);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random traffic (fragments, fragmented tunnels, garbage) through a
    /// pool of any size: the inline engine's events.
    #[test]
    fn pooled_ingest_output_equals_inline(
        rounds in 1usize..4,
        shards in 1usize..4,
        threads in 2usize..5,
        epoch in prop::sample::select(vec![1u64, 7, 64, 4096]),
    ) {
        let mut packets = Vec::new();
        for r in 0..rounds {
            packets.extend(busy_trace().into_iter().skip(r * 997).take(1500 + r * 700));
        }
        let want = inline(&packets, epoch);
        let (got, report) =
            pooled_run(MemorySource::new(raws(&packets)), shards, threads, epoch, None);
        prop_assert_eq!(render(&got), render(&want));
        prop_assert_eq!(report.ingest.packets, packets.len() as u64);
    }
}

/// A source that fails every `fail_every`-th read and has nothing to give
/// every `idle_every`-th (as a stream being written), and sets `stop` once
/// it has handed out `stop_after` packets.
struct Scripted {
    inner: MemorySource,
    reads: usize,
    handed: usize,
    fail_every: usize,
    idle_every: usize,
    stop_after: Option<(usize, Arc<AtomicBool>)>,
}

impl Scripted {
    fn new(packets: &[(Timestamp, Vec<u8>)], fail_every: usize, idle_every: usize) -> Self {
        Scripted {
            inner: MemorySource::new(raws(packets)),
            reads: 0,
            handed: 0,
            fail_every,
            idle_every,
            stop_after: None,
        }
    }
}

impl PacketSource for Scripted {
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        self.reads += 1;
        if self.reads.is_multiple_of(self.fail_every) {
            return Some(Err(SourceError::Failed(format!(
                "bad record {}",
                self.reads
            ))));
        }
        if self.reads.is_multiple_of(self.idle_every) {
            return Some(Err(SourceError::Idle));
        }
        let p = self.inner.next_packet()?;
        self.handed += 1;
        if let Some((after, stop)) = &self.stop_after
            && self.handed == *after
        {
            stop.store(true, Ordering::SeqCst);
        }
        Some(p)
    }
}

#[test]
fn source_errors_and_quiet_reads_mid_input_change_nothing() {
    let packets = long_trace();
    let want = render(&inline(&packets, 256));
    let mut errors = None;
    for threads in 1..=3 {
        for shards in [1, 3] {
            let src = Scripted::new(&packets, 97, 13);
            let (got, report) = pooled_run(src, shards, threads, 256, None);
            let what = format!("ingest_threads={threads} shards={shards}");
            assert_eq!(render(&got), want, "{what}");
            let ingest = &report.ingest;
            assert_eq!(ingest.packets, packets.len() as u64, "{what}");
            assert!(ingest.source_error_count > 64, "{what}");
            assert_eq!(ingest.source_errors.len(), 64, "the first 64 kept");
            // The same errors, in the same order, whatever the pool.
            let listed = format!("{:?}", ingest.source_errors);
            let first = errors.get_or_insert((ingest.source_error_count, listed.clone()));
            assert_eq!(*first, (ingest.source_error_count, listed), "{what}");
        }
    }
}

#[test]
fn the_stop_flag_ends_the_input_after_the_same_packet() {
    let packets = long_trace();
    let after = 5000;
    let want = render(&inline(&packets[..after], 4096));
    for threads in 1..=3 {
        let stop = Arc::new(AtomicBool::new(false));
        let mut src = Scripted::new(&packets, usize::MAX, usize::MAX);
        src.stop_after = Some((after, stop.clone()));
        let (got, report) = pooled_run(src, 2, threads, 4096, Some(stop));
        assert!(report.ingest.stopped, "ingest_threads={threads}");
        assert_eq!(
            report.ingest.packets, after as u64,
            "ingest_threads={threads}"
        );
        assert_eq!(render(&got), want, "ingest_threads={threads}");
    }
}

#[test]
fn copied_packets_and_several_storages_go_through_the_pool() {
    let packets = long_trace();
    let want = render(&inline(&packets, 4096));
    let src = TransientSource::new(&packets);
    let (got, report) = pooled_run(src, 2, 3, 4096, None);
    assert_eq!(render(&got), want, "copied");
    assert_eq!(report.ingest.pool_threads, 2);

    // Datagrams of 60 KB (offloaded segments, jumbo frames): chunks are
    // handed over by the bytes copied, long before 1 024 packets.
    let big: Vec<(Timestamp, Vec<u8>)> = (0..400u32)
        .map(|i| {
            let l4 = udp(1000 + (i % 7) as u16, 53, 60_000);
            let p = ipv4((i % 5) as u8, 9, 17, i as u16, 0, &l4);
            (Timestamp::new(1 + u64::from(i / 50), 0), p)
        })
        .collect();
    let want = render(&inline(&big, 64));
    for threads in [2, 3] {
        let src = TransientSource::new(&big);
        let (got, report) = pooled_run(src, 2, threads, 64, None);
        assert_eq!(render(&got), want, "60 KB copied, ingest_threads={threads}");
        assert_eq!(report.ingest.packets, big.len() as u64);
    }

    let (first, second) = packets.split_at(packets.len() / 2);
    let two = || TwoBuffers {
        a: MemorySource::new(raws(first)),
        b: MemorySource::new(raws(second)),
        n: 0,
    };
    let mut order = Vec::new();
    let mut src = two();
    while let Some(Ok(p)) = src.next_packet() {
        order.push((p.raw.ts, p.raw.data.to_vec()));
    }
    let want = render(&inline(&order, 4096));
    for threads in [2, 3] {
        let (got, _) = pooled_run(two(), 3, threads, 4096, None);
        assert_eq!(render(&got), want, "two storages, ingest_threads={threads}");
    }
}

#[test]
fn latency_sampling_covers_every_stage_with_a_pool() {
    let packets = long_trace();
    let want = inline(&packets, 64);
    let every = 4;
    let ecfg = EngineConfig::default();
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .config(PipelineConfig {
            shards: Some(2),
            pin: Some(false),
            epoch_packets: 64,
            ingest_threads: 3,
            merger_thread: true,
            latency_sample: every,
            ..PipelineConfig::default()
        })
        .build(MemorySource::new(raws(&packets)))
        .unwrap();
    let got: Vec<Event> = p.into_iter().collect();
    let report = p.join().unwrap();
    assert_eq!(render(&got), render(&want));
    let lat = report.latency().expect("latency was on");
    let sampled = (0..packets.len() as u64)
        .filter(|&s| crate::latency::is_sampled(s, u64::from(every)))
        .count() as u64;
    assert_eq!(lat.ingest.len(), sampled);
    assert_eq!(lat.queue.len(), sampled);
    assert_eq!(lat.shard.len(), sampled);
    assert_eq!(lat.lost, 0);
}

#[test]
fn the_ingest_threads_option_is_checked() {
    let bad = |n| {
        PipelineConfig {
            ingest_threads: n,
            ..PipelineConfig::default()
        }
        .check()
    };
    assert!(bad(0).is_ok() && bad(1).is_ok() && bad(PipelineConfig::MAX_INGEST_THREADS).is_ok());
    let e = bad(PipelineConfig::MAX_INGEST_THREADS + 1).unwrap_err();
    assert!(e.contains("ingest_threads"), "{e}");
}
