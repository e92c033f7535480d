//! The end-of-input flush of a table bigger than a flush step: the same
//! output as the inline runner's, a step at a time, and never more than a
//! couple of steps' items per shard held by the merge.

use super::*;

/// `early` UDP flows at t=0 and `late` at t=61 s, each its own port pair,
/// plus 20 first fragments whose datagrams never complete: the early flows
/// time out at the first timer pass after t=61 (with no epoch before the
/// end, at the end's), the fragments are dropped at the end (at the final
/// clock, among the shutdowns) and the late flows shut down.
fn open_at_end(early: u32, late: u32) -> Vec<(Timestamp, Vec<u8>)> {
    let packet = |i: u32| {
        let [hi, lo] = u16::try_from(i / 60_000).unwrap().to_be_bytes();
        let port = 1 + (i % 60_000) as u16;
        ipv4(hi + 1, lo + 1, 17, 0, 0, &udp(port, 5353, 4))
    };
    let mut packets: Vec<_> = (0..early)
        .map(|i| (Timestamp::new(0, 0), packet(i)))
        .collect();
    packets.extend((early..early + late).map(|i| (Timestamp::new(61, 0), packet(i))));
    for i in 0..20u16 {
        // More fragments follow (MF), and never come.
        let first = ipv4(200, 1 + i as u8, 17, i, 0x2000, &udp(7, 7, 16));
        packets.push((Timestamp::new(61, 0), first));
    }
    packets
}

#[test]
fn a_full_table_flushes_in_steps_in_the_inline_order() {
    let step = crate::FLUSH_STEP_FLOWS;
    let packets = open_at_end(500, 3 * step as u32 + 123);
    // Epochs bound what the merge holds while packets flow (a shard that
    // gets no more packets says so only at epochs); the early flows time
    // out at the first one after the late packets.
    let epoch = 1024;
    let want = inline(&packets, epoch);
    let ended = |events: &[Event]| {
        events
            .iter()
            .filter(|e| matches!(e.event, FlowEvent::Ended { .. }))
            .count()
    };
    assert_eq!(ended(&want), packets.len() - 20);
    let dropped = want
        .iter()
        .filter(|e| e.cause == flowscope_engine::Cause::Flush)
        .filter(|e| matches!(e.event, FlowEvent::Anomaly { .. }))
        .count();
    assert_eq!(
        dropped, 20,
        "the unfinished datagrams are dropped at the end"
    );
    for (shards, on_consumer) in [(1, false), (2, true), (3, false)] {
        same_in_steps(&packets, &want, shards, epoch, on_consumer);
    }
}

/// The pipeline's output on `packets` with `shards` shards is `want`, and
/// the merge never held more than about two steps' items per shard (each
/// shard's queue is under a step when it is granted the next, plus that
/// step, plus the 20 drops, which go with the first step of the open
/// flows).
fn same_in_steps(
    packets: &[(Timestamp, Vec<u8>)],
    want: &[Event],
    shards: usize,
    epoch: u64,
    on_consumer: bool,
) {
    let step = crate::FLUSH_STEP_FLOWS;
    let cfg = PipelineConfig {
        shards: Some(shards),
        pin: Some(false),
        epoch_packets: epoch,
        // Small batches in short queues: before the end, no shard runs far
        // ahead of another, so what the merge holds at its most is the
        // steps' doing.
        batch_packets: 64,
        batch_packets_max: 64,
        queue_batches: 1,
        output_capacity: 16,
        merger_thread: !on_consumer,
        ..PipelineConfig::default()
    };
    let (got, report) = piped(packets, cfg);
    assert_strictly_increasing(&got);
    assert_eq!(render(&got), render(want), "shards={shards}");
    assert!(
        report.merger.held_high_water < shards * 2 * step + 520,
        "shards={shards}: {} items held at once",
        report.merger.held_high_water
    );
}

#[test]
fn a_timer_batch_larger_than_a_step_goes_in_steps_in_the_inline_order() {
    let step = crate::FLUSH_STEP_FLOWS;
    // The early flows, three steps and more, are all due at the first
    // epoch boundary after the late packets begin.
    let packets = open_at_end(3 * step as u32 + 123, 2000);
    let epoch = 1024;
    let want = inline(&packets, epoch);
    let timed_out = want
        .iter()
        .filter(|e| e.cause == flowscope_engine::Cause::Timer)
        .filter(|e| matches!(e.event, FlowEvent::Ended { .. }))
        .count();
    // All but the two on IKE's ports, whose timeout is 300 s.
    assert_eq!(timed_out, 3 * step + 121);
    for (shards, on_consumer) in [(1, false), (2, false), (3, true)] {
        same_in_steps(&packets, &want, shards, epoch, on_consumer);
    }
}

#[test]
fn the_inline_flush_gives_the_same_events_in_any_step_size() {
    let packets = open_at_end(40, 90);
    let cfg = EngineConfig::default();
    let run = |max_flows: usize| {
        let engine = Engine::new(&cfg, extractor(&cfg)).unwrap();
        let mut r = InlineRunner::new(engine, u64::MAX);
        let mut out = Vec::new();
        for raw in raws(&packets) {
            r.push(&raw);
            out.extend(r.events());
        }
        let mut steps = 0;
        while !r.finish_some(max_flows) {
            steps += 1;
            out.extend(r.events());
        }
        out.extend(r.events());
        assert!(r.finish_some(max_flows), "a finished runner stays finished");
        (render(&out), steps)
    };
    let (whole, steps) = run(usize::MAX);
    // The timers due at the end, then the open flows.
    assert_eq!(steps, 1);
    for max_flows in [1, 7, 64] {
        let (stepped, steps) = run(max_flows);
        assert_eq!(stepped, whole, "steps of {max_flows}");
        // The early flows time out in steps before the open flows' begin.
        let want = 40usize.div_ceil(max_flows) + 90usize.div_ceil(max_flows) - 1;
        assert_eq!(steps, want, "steps of {max_flows}");
    }
}
