//! Idle timeouts in captures whose clock steps back: the packet clock
//! stands still until the packets catch up with it, so a flow's own packet
//! times also decide whether it went idle.

use super::*;

const D: [u8; 4] = [10, 0, 0, 3];

#[test]
fn after_the_clock_steps_back_a_flow_is_split_by_its_own_gaps() {
    let before = udp4(C, 5000, S, 5001, b"a");
    let after = udp4(C, 6000, D, 5001, b"b");
    // The clock reaches 1000, then the packets go back to 100: the packet
    // clock stays at 1000 until the end, so only the flow's own times
    // show the 170 s gap (longer than the 60 s UDP timeout) between its
    // second and third packets.
    let (events, _) = run_with(
        &EngineConfig::default(),
        &[
            (1000.0, LinkType::ETHERNET, before),
            (100.0, LinkType::ETHERNET, after.clone()),
            (130.0, LinkType::ETHERNET, after.clone()),
            (300.0, LinkType::ETHERNET, after.clone()),
            (320.0, LinkType::ETHERNET, after),
        ],
        1,
    );
    let f: Vec<_> = ends(&events)
        .into_iter()
        .filter(|e| e.key.oriented(e.initiator).1.addr == IpAddr::from(D))
        .collect();
    assert_eq!(f.len(), 2, "the gap ends the first flow");
    assert_eq!(f[0].reason, EndReason::IdleTimeout);
    assert_eq!(f[0].ts, Timestamp::new(190, 0), "its last packet plus 60 s");
    assert_eq!(f[0].stats.initiator.packets, 2);
    assert_eq!(f[1].reason, EndReason::Shutdown);
    assert_eq!(f[1].stats.started, Timestamp::new(300, 0));
    assert_eq!(f[1].stats.initiator.packets, 2);
}

#[test]
fn a_flow_met_again_after_the_clock_steps_back_goes_on() {
    let a = udp4(C, 5000, S, 5001, b"a");
    // Its later packets are earlier than its first: no gap, one flow.
    let (events, _) = run_with(
        &EngineConfig::default(),
        &[
            (1000.0, LinkType::ETHERNET, a.clone()),
            (100.0, LinkType::ETHERNET, a.clone()),
            (130.0, LinkType::ETHERNET, a),
        ],
        1,
    );
    let f = ends(&events);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].reason, EndReason::Shutdown);
    assert_eq!(f[0].stats.initiator.packets, 3);
}

#[test]
fn trailing_packets_of_a_closed_connection_stay_absorbed() {
    // A connection reset at 10 s, then its client's ACKs every 40 s: each
    // extends the close linger (60 s) by the packet clock, though the flow's
    // own last time stays at the reset.
    let mut pkts = vec![
        (0.0, LinkType::ETHERNET, c2s(SYN, b"")),
        (0.1, LinkType::ETHERNET, s2c(SYN | ACK, b"")),
        (0.2, LinkType::ETHERNET, c2s(ACK, b"")),
        (10.0, LinkType::ETHERNET, s2c(RST | ACK, b"")),
    ];
    for n in 1..6 {
        pkts.push((
            10.0 + 40.0 * f64::from(n),
            LinkType::ETHERNET,
            c2s(ACK, b""),
        ));
    }
    let (events, engine) = run_with(&EngineConfig::default(), &pkts, 1);
    let f = ends(&events);
    assert_eq!(f.len(), 1, "no ghost flow");
    assert_eq!(f[0].reason, EndReason::Rst);
    assert_eq!(engine.stats().packets_after_close, 5);
}

#[test]
fn fragments_after_the_clock_steps_back_wait_their_timeout() {
    let payload: Vec<u8> = (0..3000).map(|i| i as u8).collect();
    let whole = ip4_udp(C, 7000, S, 7001, &payload);
    let frags = fragment4(&whole, 1480, 42);
    // The clock reaches 1000, then the fragments come stamped 100 s, with
    // an epoch boundary (timers fired at the packet clock) after each.
    let mut p = vec![(1000.0, LinkType::RAW, ip4_udp(D, 1, S, 2, b"x"))];
    for (n, f) in frags.iter().enumerate() {
        p.push((100.0 + 0.001 * n as f64, LinkType::RAW, f.clone()));
    }
    let (events, engine) = run_with(&EngineConfig::default(), &p, 1);
    assert_eq!(engine.stats().defrag.reassembled, 1, "not timed out");
    let f: Vec<_> = ends(&events)
        .into_iter()
        .filter(|e| e.key.proto() == 17 && e.stats.initiator.payload_bytes == 3000)
        .collect();
    assert_eq!(f.len(), 1);
}
