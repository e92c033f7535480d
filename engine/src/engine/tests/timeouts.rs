//! Flows due by the idle and the active timeout at one epoch boundary (a
//! gap in a capture's time, a long epoch): each ends once, as idle, while
//! flows only the active timeout is due for are reported and go on.

use super::*;

/// Client `i`'s address: 10.1.x.y.
fn client(i: u16) -> [u8; 4] {
    let [hi, lo] = i.to_be_bytes();
    [10, 1, hi, lo]
}

#[test]
fn a_gap_ends_every_flow_due_by_both_timers_once_as_idle() {
    const FLOWS: u16 = 600;
    let mut cfg = EngineConfig::default();
    cfg.flow.active_timeout = 100;
    let mut p = Vec::new();
    // UDP flows (60 s idle timeout) and TCP ones (300 s) alternate, so at
    // 150 s the active timeout (100 s) is due for all of them and the idle
    // one for every other, in table order.
    for i in 0..FLOWS {
        let t = f64::from(i) * 0.001;
        let frame = if i % 2 == 0 {
            udp4(client(i), 5000, S, 53, b"q")
        } else {
            tcp4(client(i), 40000, S, 80, SYN, 1, b"")
        };
        p.push((t, LinkType::ETHERNET, frame));
    }
    // One more flow, busy all along: at the boundary only its active
    // timeout is due. The only boundary is after the last packet.
    for t in [0.5, 50.0, 100.0, 150.0] {
        p.push((t, LinkType::ETHERNET, udp4(C, 7000, S, 7001, b"x")));
    }
    let (events, engine) = run_with(&cfg, &p, p.len());
    let f = ends(&events);

    let mut by_client = std::collections::HashMap::<IpAddr, Vec<EndReason>>::new();
    for e in &f {
        by_client.entry(client_of(e)).or_default().push(e.reason);
    }
    let unknown: Vec<_> = by_client
        .keys()
        .filter(|&&c| c != ip(C) && !(0..FLOWS).any(|i| ip(client(i)) == c))
        .collect();
    assert!(unknown.is_empty(), "ends of no flow: {unknown:?}");
    for i in 0..FLOWS {
        let reasons = &by_client[&ip(client(i))];
        if i % 2 == 0 {
            // UDP, 60 s: due by both timers, ended once, as idle.
            assert_eq!(reasons, &[EndReason::IdleTimeout], "flow {i}");
        } else {
            // TCP, 300 s: only its active timeout was due.
            let want = [EndReason::ActiveTimeout, EndReason::Shutdown];
            assert_eq!(reasons, &want, "flow {i}");
        }
    }

    let long_ends: Vec<_> = f.iter().filter(|e| client_of(e) == ip(C)).collect();
    let reasons: Vec<_> = long_ends.iter().map(|e| e.reason).collect();
    assert_eq!(
        reasons,
        vec![EndReason::ActiveTimeout, EndReason::Shutdown],
        "reported by the active timeout, then at the end of input"
    );
    let packets: u64 = long_ends.iter().map(|e| e.stats.initiator.packets).sum();
    assert_eq!(packets, 4, "no packet lost or counted twice");
    let s = engine.stats();
    assert_eq!(s.flows_created, s.flows_ended_total());
}

/// A gap after a full table: flows due by either timer or both, a close
/// linger, a fragment that never completed and evictions to report, all
/// in one timer batch.
fn gap_batch() -> (EngineConfig, Vec<(f64, LinkType, Vec<u8>)>) {
    let mut cfg = EngineConfig::default();
    cfg.flow.active_timeout = 100;
    cfg.flow.max_flows = 400;
    let mut p = Vec::new();
    for i in 0..600u16 {
        let t = f64::from(i) * 0.001;
        let frame = match i % 3 {
            0 => udp4(client(i), 5000, S, 53, b"q"),
            1 => tcp4(client(i), 40000, S, 80, SYN, 1, b""),
            _ => tcp4(client(i), 40000, S, 80, RST, 1, b""),
        };
        p.push((t, LinkType::ETHERNET, frame));
    }
    p.push((0.7, LinkType::RAW, frag4(C, S, 17, 9, 0, true, &[1u8; 16])));
    for t in [0.5, 50.0, 100.0, 150.0, 7_200.0] {
        p.push((t, LinkType::ETHERNET, udp4(C, 7000, S, 7001, b"x")));
    }
    (cfg, p)
}

/// Every event as its order key and contents.
fn text(events: &EventBuf<FiveTupleKey>) -> Vec<String> {
    events
        .iter()
        .map(|o| format!("{:?} {:?}", o.key(), o.event))
        .collect()
}

#[test]
fn a_timer_batch_in_steps_is_the_batch_at_once() {
    let (cfg, p) = gap_batch();
    let (whole, engine, most) = run_stepped(&cfg, &p, p.len(), usize::MAX);
    let s = engine.stats();
    assert!(most > 300, "one batch ends most flows: {most}");
    assert!(s.flows_ended[EndReason::Evicted.index()] > 0);
    let kinds: Vec<_> = whole
        .iter()
        .filter(|o| o.cause == Cause::Timer)
        .filter_map(|o| match &o.event {
            FlowEvent::Anomaly { kind, .. } => Some(kind.names().1),
            _ => None,
        })
        .collect();
    assert!(kinds.len() >= 2, "the batch's anomalies: {kinds:?}");
    for step in [1, 7, 64] {
        let (events, engine, most) = run_stepped(&cfg, &p, p.len(), step);
        assert!(most <= step, "step {step}: {most} flows ended by one call");
        assert_eq!(text(&events), text(&whole), "step {step}");
        assert_eq!(format!("{:?}", engine.stats()), format!("{s:?}"));
    }
}

/// Runs `p`, firing timers after each packet of `boundaries` with one
/// call of [`Engine::advance_some`] of `step` flows, whatever it leaves
/// to the next packet or the flush; then flushes.
fn one_step_each(
    cfg: &EngineConfig,
    p: &[(f64, LinkType, Vec<u8>)],
    boundaries: &[usize],
    step: usize,
) -> EventBuf<FiveTupleKey> {
    let (mut engine, mut out, clock) = run_each(cfg, p, |engine, seq, clock, out| {
        if boundaries.contains(&seq) {
            let done = engine.advance_some(clock, seq as u64, step, out);
            assert_eq!(done, step == usize::MAX);
        }
    });
    engine.finish(clock, (p.len() - 1) as u64, &mut out);
    out
}

#[test]
fn a_packet_or_the_flush_completes_a_batch_under_way() {
    let (mut cfg, p) = gap_batch();
    // No emergency mode: the TCP flows the first batch reports by the
    // active timeout go on, and the second batch ends them.
    cfg.flow.max_flows = 1_000_000;
    // A batch before the last packet, which completes it; a batch after
    // it, which the flush completes.
    let boundaries = [p.len() - 2, p.len() - 1];
    let whole = one_step_each(&cfg, &p, &boundaries, usize::MAX);
    let stepped = one_step_each(&cfg, &p, &boundaries, 5);
    assert_eq!(text(&stepped), text(&whole));
}

#[test]
fn the_flush_fires_the_timers_due_in_steps_too() {
    let (cfg, p) = gap_batch();
    // No epoch boundary: the flush finds the whole batch due.
    let (whole, _) = run_with(&cfg, &p, usize::MAX);
    let (mut engine, mut out, clock) = run_each(&cfg, &p, |_, _, _, _| {});
    let last = (p.len() - 1) as u64;
    let mut calls = 0;
    loop {
        let start = out.len();
        let done = engine.finish_some(clock, last, 7, &mut out);
        let ends = out[start..]
            .iter()
            .filter(|o| matches!(o.event, FlowEvent::Ended { .. }))
            .count();
        assert!(ends <= 7, "{ends} flows ended by one call");
        calls += 1;
        if done {
            break;
        }
    }
    assert!(calls > 40, "the timers' flows too, in steps: {calls} calls");
    assert_eq!(text(&out), text(&whole));
    assert!(
        whole
            .iter()
            .any(|o| o.cause == Cause::Timer && matches!(o.event, FlowEvent::Ended { .. })),
        "the timers due at the end fire as a timer batch"
    );
}
