//! Ways a run ends early: a panicking shard, the stop flag, a consumer
//! that leaves, and an engine configuration that cannot work.

use super::*;

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
    let packets = busy_rounds(20);
    let ecfg = EngineConfig::default();
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .config(PipelineConfig {
            shards: Some(2),
            pin: Some(false),
            output_capacity: 4,
            merger_thread: true,
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
            shards: Some(2),
            pin: Some(false),
            merger_thread: false,
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

#[test]
fn an_invalid_engine_config_is_an_error_not_a_thread() {
    let mut ecfg = EngineConfig::default();
    ecfg.flow.max_flows = 0;
    let r = Pipeline::builder(ecfg.clone(), extractor(&EngineConfig::default()))
        .build(MemorySource::new(std::iter::empty()));
    assert!(matches!(r, Err(PipelineError::Config(_))));
}
