//! The core promise: the pipeline's output is the inline runner's, for any
//! shard count, epoch, batch size, queue depth and merge placement; latency
//! recording and no-op shards change nothing else.

use super::*;

fn step() -> impl Strategy<Value = (u32, Step)> {
    let dt = prop_oneof![8 => 0u32..3, 2 => 0u32..100, 1 => 0u32..700];
    let host = 1u8..12;
    let s = prop_oneof![
        4 => (host.clone(), host.clone(), 1000u16..1006, any::<bool>())
            .prop_map(|(a, b, port, reply)| Step::Udp { a, b, port, reply }),
        4 => (host.clone(), host.clone(), 1000u16..1004, prop::sample::select(vec![0x02u8, 0x12, 0x10, 0x11, 0x04, 0x18]), any::<bool>())
            .prop_map(|(a, b, port, flags, reply)| Step::Tcp { a, b, port, flags, reply }),
        1 => (host.clone(), host.clone(), 0u16..4).prop_map(|(a, b, ident)| Step::Fragmented { a, b, ident }),
        2 => (host.clone(), host.clone(), (host.clone(), host.clone()), (0u8..3, any::<bool>(), 0u8..4), 0u16..4)
            .prop_map(|(a, b, (c, d), (kind, v6, order), ident)| Step::TunnelFragments { a, b, c, d, kind, v6, order, ident }),
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
        batch_max in prop::sample::select(vec![0usize, 64, 4096]),
        queue in 1usize..4,
        on_consumer in any::<bool>(),
    ) {
        let packets = build(&steps);
        let want = inline(&packets, epoch);
        let cfg = PipelineConfig {
            shards: Some(shards),
            pin: Some(false),
            epoch_packets: epoch,
            batch_packets: batch,
            batch_packets_max: batch_max,
            queue_batches: queue,
            output_capacity: 3,
            merger_thread: !on_consumer,
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
            shards: Some(shards),
            pin: Some(false),
            epoch_packets: 64,
            merger_thread: !on_consumer,
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
            shards: Some(shards),
            pin: Some(false),
            epoch_packets: 64,
            merger_thread: !on_consumer,
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
            shards: Some(2),
            pin: Some(false),
            merger_thread: true,
            ..PipelineConfig::default()
        },
    );
    assert!(plain.latency().is_none(), "off by default");
}

#[test]
fn noop_shards_measure_the_ingest_alone() {
    let packets = busy_trace();
    let ecfg = EngineConfig::default();
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .config(PipelineConfig {
            shards: Some(2),
            pin: Some(false),
            noop_shards: true,
            merger_thread: true,
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
