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
