//! Engine tests: TCP roles and states, Zeek history and conn_state, ghost
//! flows, port reuse, timeouts, eviction, fragments, tunnels, invariants.

use super::*;
use crate::community_id::community_id;
use crate::config::{PortProto, PortTimeout};
use crate::event::{AnomalyKind, FlowEvent, FlowStats};
use crate::key::{FiveTuple, FiveTupleKey, KeyOptions};
use crate::packet::LinkType;
use crate::testutil::*;
use crate::timestamp::Timestamp;
use crate::vocab::{ConnState, EndReason, FlowState, Orientation};
use proptest::prelude::*;
use std::net::IpAddr;

const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [10, 0, 0, 2];
const CP: u16 = 40000;

fn c2s(flags: u8, payload: &[u8]) -> Vec<u8> {
    tcp4(C, CP, S, 80, flags, 100, payload)
}
fn s2c(flags: u8, payload: &[u8]) -> Vec<u8> {
    tcp4(S, 80, C, CP, flags, 900, payload)
}

struct Ended<'a> {
    key: &'a FiveTupleKey,
    initiator: Orientation,
    reason: EndReason,
    stats: &'a FlowStats,
    ts: Timestamp,
}

fn ends(events: &EventBuf<FiveTupleKey>) -> Vec<Ended<'_>> {
    events
        .iter()
        .filter_map(|o| match &o.event {
            FlowEvent::Ended {
                key,
                initiator,
                reason,
                stats,
                ts,
                ..
            } => Some(Ended {
                key,
                initiator: *initiator,
                reason: *reason,
                stats,
                ts: *ts,
            }),
            _ => None,
        })
        .collect()
}

fn client_of(e: &Ended<'_>) -> IpAddr {
    e.key.oriented(e.initiator).0.addr
}

fn ip(a: [u8; 4]) -> IpAddr {
    IpAddr::from(a)
}

#[test]
fn handshake_data_and_close() {
    let pkts = vec![
        (0.0, c2s(SYN, b"")),
        (0.1, s2c(SYN | ACK, b"")),
        (0.2, c2s(ACK, b"")),
        (0.3, c2s(ACK | PSH, b"GET / HTTP/1.1\r\n\r\n")),
        (0.4, s2c(ACK | PSH, b"HTTP/1.1 200 OK\r\n\r\n")),
        (0.5, c2s(FIN | ACK, b"")),
        (0.6, s2c(FIN | ACK, b"")),
        (0.7, c2s(ACK, b"")),
        (0.8, c2s(ACK, b"")), // trailing duplicate ACK: absorbed
    ];
    let p: Vec<_> = pkts
        .iter()
        .map(|(t, f)| (*t, LinkType::ETHERNET, f.clone()))
        .collect();
    let (events, engine) = run_with(&EngineConfig::default(), &p, 64);
    let e = ends(&events);
    assert_eq!(e.len(), 1, "one flow, no ghost");
    let f = &e[0];
    assert_eq!(f.reason, EndReason::Fin);
    assert_eq!(client_of(f), ip(C));
    assert_eq!(f.stats.conn_state, ConnState::SF);
    assert_eq!(f.stats.history.to_string(), "ShADdFf");
    assert_eq!(
        f.stats.initiator.packets, 5,
        "the final ACK belongs to the flow"
    );
    assert_eq!(f.stats.responder.packets, 3);
    assert_eq!(f.stats.initiator.payload_bytes, 18);
    assert_eq!(f.stats.state, FlowState::Closed);
    assert_eq!(
        f.ts,
        Timestamp::from_nanos(700_000_000),
        "ends at the final ACK"
    );
    assert_eq!(f.stats.started, Timestamp::ZERO);
    assert_eq!(engine.stats().packets_after_close, 1);
    assert_eq!(f.stats.initiator.tcp_flags, SYN | ACK | PSH | FIN);
    // The Ended event is caused by packet 7 (the final ACK).
    let seq = events
        .iter()
        .find(|o| matches!(o.event, FlowEvent::Ended { .. }))
        .unwrap()
        .seq;
    assert_eq!(seq, 7);
}

#[test]
fn syn_ack_seen_first_flips_roles() {
    let e = run_eth(&[
        (0.0, s2c(SYN | ACK, b"")),
        (0.1, c2s(ACK, b"")),
        (0.2, c2s(ACK | PSH, b"x")),
    ]);
    let e = ends(&e);
    assert_eq!(e.len(), 1);
    assert_eq!(client_of(&e[0]), ip(C), "the SYN-ACK's receiver initiated");
    assert!(e[0].stats.history.to_string().starts_with("^h"));
    assert_eq!(e[0].reason, EndReason::Shutdown);
}

#[test]
fn midstream_reply_from_server_port_flips_roles() {
    let e = run_eth(&[(0.0, s2c(ACK | PSH, b"response")), (0.1, c2s(ACK, b""))]);
    let e = ends(&e);
    assert_eq!(client_of(&e[0]), ip(C));
    assert_eq!(e[0].stats.conn_state, ConnState::OTH);
    assert_eq!(
        e[0].stats.state,
        FlowState::Established,
        "both sides seen mid-stream"
    );
    // Both ports ephemeral: the first sender initiates.
    let pkt = tcp4(S, 50000, C, 50001, ACK, 1, b"x");
    let e = run_eth(&[(0.0, pkt)]);
    assert_eq!(client_of(&ends(&e)[0]), ip(S));
}

#[test]
fn retransmitted_fin_does_not_close() {
    let events = run_eth(&[
        (0.0, c2s(SYN, b"")),
        (0.1, s2c(SYN | ACK, b"")),
        (0.2, c2s(ACK, b"")),
        (0.3, c2s(FIN | ACK, b"")),
        (0.4, c2s(FIN | ACK, b"")), // retransmission
        (0.5, s2c(ACK | PSH, b"late data")),
        (0.6, s2c(FIN | ACK, b"")),
        (0.7, c2s(ACK, b"")),
    ]);
    let e = ends(&events);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].reason, EndReason::Fin);
    assert_eq!(e[0].stats.responder.payload_bytes, 9);
    assert_eq!(e[0].ts, Timestamp::from_nanos(700_000_000));
}

/// The server closes, the client answers with FIN and then retransmits it
/// with exponential backoff because the last ACK never comes (a real trace:
/// nDPI's bt-http.pcapng). One flow, however late the retransmissions.
#[test]
fn late_fin_retransmissions_do_not_start_ghost_flows() {
    let mut p = vec![
        (0.0, c2s(SYN, b"")),
        (0.01, s2c(SYN | ACK, b"")),
        (0.02, c2s(ACK, b"")),
        (0.03, c2s(ACK | PSH, b"GET / HTTP/1.1\r\n\r\n")),
        (0.04, s2c(ACK | PSH | FIN, b"HTTP/1.1 200 OK\r\n\r\n")),
        (0.05, c2s(ACK | FIN, b"")),
    ];
    let mut t = 0.05;
    for gap in [0.2, 0.46, 0.9, 1.8, 3.7, 7.2, 14.3, 28.9, 57.0] {
        t += gap;
        p.push((t, c2s(ACK | FIN, b"")));
    }
    let (events, engine) = run_with(
        &EngineConfig::default(),
        &p.into_iter()
            .map(|(t, f)| (t, LinkType::ETHERNET, f))
            .collect::<Vec<_>>(),
        1,
    );
    let f = ends(&events);
    assert_eq!(f.len(), 1, "no ghost flow from retransmitted FINs");
    assert_eq!(
        (f[0].reason, f[0].stats.conn_state),
        (EndReason::Fin, ConnState::SF)
    );
    assert_eq!(
        f[0].stats.initiator.packets, 13,
        "every retransmission belongs to the flow"
    );
    assert_eq!(engine.stats().flows_created, 1);
}

#[test]
fn snaplen_cut_first_fragment_still_tracks_its_flow() {
    let payload = vec![7u8; 1400];
    let whole = ip4_udp(C, 53, S, 40000, &payload);
    let frags = fragment4(&whole, 1200, 3);
    // With reassembly off, every fragment is counted and skipped, cut short
    // or not: no flow.
    for enabled in [true, false] {
        let mut cfg = EngineConfig::default();
        cfg.defrag.enabled = enabled;
        let mut engine = Engine::new(&cfg, FiveTuple::new(KeyOptions::from_config(&cfg))).unwrap();
        let mut out = Vec::new();
        for (i, f) in frags.iter().enumerate() {
            // Captured with a 96-byte snapshot length.
            let raw = RawPacket {
                ts: Timestamp::new(1, 0),
                linktype: LinkType::RAW,
                wire_len: f.len() as u32,
                iface: 0,
                data: &f[..96],
            };
            engine.process(i as u64, raw.ts, &raw, &mut out);
        }
        engine.finish(Timestamp::new(1, 0), 1, &mut out);
        let f = ends(&out);
        let s = engine.stats();
        let drops = |d: crate::defrag::DefragDrop| s.defrag.drops[d.index()];
        if !enabled {
            assert!(f.is_empty());
            assert_eq!(drops(crate::defrag::DefragDrop::Disabled), 2);
            continue;
        }
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].key.a().port.min(f[0].key.b().port), 53);
        assert_eq!(
            f[0].stats.responder.packets + f[0].stats.initiator.packets,
            1
        );
        assert_eq!(drops(crate::defrag::DefragDrop::CaptureTruncated), 2);
    }
}

#[test]
fn resets_and_rejections() {
    // SYN answered by RST: rejected.
    let e = run_eth(&[(0.0, c2s(SYN, b"")), (0.1, s2c(RST | ACK, b""))]);
    let e = ends(&e);
    assert_eq!(
        (e[0].reason, e[0].stats.conn_state),
        (EndReason::Rst, ConnState::REJ)
    );
    // Established, then the client aborts.
    let e = run_eth(&[
        (0.0, c2s(SYN, b"")),
        (0.1, s2c(SYN | ACK, b"")),
        (0.2, c2s(ACK, b"")),
        (0.3, c2s(RST, b"")),
        (0.4, c2s(RST, b"")), // repeated RST: absorbed
        (0.5, s2c(ACK, b"")), // trailing ACK: absorbed, no ghost flow
    ]);
    let f = ends(&e);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].stats.conn_state, ConnState::RSTO);
    // SYN only: S0, ended at shutdown.
    let e = run_eth(&[(0.0, c2s(SYN, b"")), (1.0, c2s(SYN, b""))]);
    let f = ends(&e);
    assert_eq!(f.len(), 1, "a retransmitted SYN is the same attempt");
    assert_eq!(
        (f[0].stats.conn_state, f[0].reason),
        (ConnState::S0, EndReason::Shutdown)
    );
    assert_eq!(f[0].stats.initiator.packets, 2);
}

#[test]
fn port_reuse_after_close_starts_a_new_flow() {
    let mut p = Vec::new();
    for round in 0..2 {
        let t = f64::from(round) * 2.0;
        p.push((t, c2s(SYN, b"")));
        p.push((t + 0.1, s2c(SYN | ACK, b"")));
        p.push((t + 0.2, c2s(ACK, b"")));
        p.push((t + 0.3, c2s(FIN | ACK, b"")));
        p.push((t + 0.4, s2c(FIN | ACK, b"")));
        p.push((t + 0.5, c2s(ACK, b"")));
    }
    let e = run_eth(&p);
    let f = ends(&e);
    assert_eq!(f.len(), 2);
    assert!(f.iter().all(|x| x.stats.conn_state == ConnState::SF));
}

#[test]
fn udp_idle_timeout_is_packet_time_with_second_resolution() {
    let a = udp4(C, 5000, S, 53, b"q");
    let other = udp4([10, 9, 9, 9], 1, [10, 9, 9, 8], 2, b"x");
    // Not yet expired at 60.9 (second 60), expired at 61.0.
    let (events, _) = run_with(
        &EngineConfig::default(),
        &[
            (0.5, LinkType::ETHERNET, a.clone()),
            (60.9, LinkType::ETHERNET, other.clone()),
        ],
        1,
    );
    assert_eq!(
        ends(&events)
            .iter()
            .filter(|e| e.reason == EndReason::IdleTimeout)
            .count(),
        0
    );
    let (events, _) = run_with(
        &EngineConfig::default(),
        &[
            (0.5, LinkType::ETHERNET, a.clone()),
            (61.0, LinkType::ETHERNET, other),
        ],
        1,
    );
    let f = ends(&events);
    let idle: Vec<_> = f
        .iter()
        .filter(|e| e.reason == EndReason::IdleTimeout)
        .collect();
    assert_eq!(idle.len(), 1);
    assert_eq!(
        idle[0].ts,
        Timestamp::from_nanos(60_500_000_000),
        "reported at the exact deadline"
    );
    assert_eq!(idle[0].stats.conn_state, ConnState::S0);
    // A packet of the same flow after its timeout starts a new flow, even
    // before any timer tick.
    let (events, _) = run_with(
        &EngineConfig::default(),
        &[
            (0.5, LinkType::ETHERNET, a.clone()),
            (100.0, LinkType::ETHERNET, a),
        ],
        1000,
    );
    let f = ends(&events);
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].reason, EndReason::IdleTimeout);
    assert_eq!(f[1].reason, EndReason::Shutdown);
}

#[test]
fn per_port_timeouts() {
    let mut cfg = EngineConfig::default();
    cfg.flow.port_timeouts = vec![PortTimeout {
        proto: PortProto::Udp,
        port: 53,
        timeout: 5,
    }];
    let dns = udp4(C, 5000, S, 53, b"q");
    let other = udp4([10, 9, 9, 9], 1, [10, 9, 9, 8], 2, b"x");
    let (events, _) = run_with(
        &cfg,
        &[
            (0.0, LinkType::ETHERNET, dns),
            (6.0, LinkType::ETHERNET, other),
        ],
        1,
    );
    let f = ends(&events);
    assert_eq!(f[0].reason, EndReason::IdleTimeout);
    assert_eq!(f[0].ts, Timestamp::new(5, 0));
}

#[test]
fn icmp_echo_pairs_into_one_flow() {
    let req = eth(0x0800, &ip4_raw(C, S, 1, &[8, 0, 0, 0, 0, 1, 0, 1]));
    let rep = eth(0x0800, &ip4_raw(S, C, 1, &[0, 0, 0, 0, 0, 1, 0, 1]));
    let e = run_eth(&[(0.0, req.clone()), (0.1, rep.clone())]);
    let f = ends(&e);
    assert_eq!(f.len(), 1);
    assert_eq!(client_of(&f[0]), ip(C));
    assert_eq!(f[0].stats.responder.packets, 1);
    // Reply seen first: the requester is still the initiator.
    let e = run_eth(&[(0.0, rep), (0.1, req)]);
    assert_eq!(client_of(&ends(&e)[0]), ip(C));
}

#[test]
fn eviction_keeps_the_table_bounded_and_reports_pressure() {
    let mut cfg = EngineConfig::default();
    cfg.flow.max_flows = 3;
    let p: Vec<_> = (0..5u8)
        .map(|i| {
            (
                f64::from(i),
                LinkType::ETHERNET,
                udp4([10, 1, 0, i], 1000, S, 53, b"q"),
            )
        })
        .collect();
    let (events, engine) = run_with(&cfg, &p, 64);
    let f = ends(&events);
    let evicted: Vec<_> = f
        .iter()
        .filter(|e| e.reason == EndReason::Evicted)
        .collect();
    assert_eq!(evicted.len(), 2);
    assert_eq!(
        client_of(evicted[0]),
        ip([10, 1, 0, 0]),
        "least recently active first"
    );
    assert_eq!(client_of(evicted[1]), ip([10, 1, 0, 1]));
    assert!(events.iter().any(|o| matches!(
        o.event,
        FlowEvent::Anomaly {
            kind: AnomalyKind::FlowTableEvictionPressure { evicted: 2 },
            ..
        }
    )));
    assert!(engine.stats().peak_flows <= 3);
}

#[test]
fn a_full_table_enters_emergency_mode_and_times_out_unanswered_flows_first() {
    let mut cfg = EngineConfig::default();
    cfg.flow.max_flows = 10;
    cfg.flow.emergency_new_timeout = 5;
    cfg.flow.emergency_recovery = 50;
    // A SYN flood fills the table...
    let mut p = Vec::new();
    for i in 0..12u8 {
        let syn = tcp4([10, 9, 0, i], 5000, S, 80, SYN, 1, b"");
        p.push((f64::from(i) / 100.0, LinkType::ETHERNET, syn));
    }
    // ...then a real connection comes, and time passes.
    p.push((1.0, LinkType::ETHERNET, c2s(SYN, b"")));
    p.push((1.1, LinkType::ETHERNET, s2c(SYN | ACK, b"")));
    p.push((1.2, LinkType::ETHERNET, c2s(ACK, b"")));
    p.push((8.0, LinkType::ETHERNET, c2s(ACK, b"")));
    p.push((40.0, LinkType::ETHERNET, c2s(ACK, b"")));
    let (events, engine) = run_with(&cfg, &p, 1);
    let f = ends(&events);
    let flood: Vec<_> = f.iter().filter(|e| client_of(e) != ip(C)).collect();
    assert_eq!(flood.len(), 12);
    let evicted = flood
        .iter()
        .filter(|e| e.reason == EndReason::Evicted)
        .count();
    assert_eq!(evicted, 3, "the table holds ten: three SYN flows made room");
    for e in flood.iter().filter(|e| e.reason != EndReason::Evicted) {
        assert_eq!(e.reason, EndReason::IdleTimeout);
        let idle = e.ts.as_nanos() - e.stats.last_seen.as_nanos();
        assert_eq!(
            idle, 5_000_000_000,
            "the emergency timeout of unanswered flows"
        );
    }
    // The flood gone, the table recovered: usual timeouts again.
    let real: Vec<_> = f.iter().filter(|e| client_of(e) == ip(C)).collect();
    assert_eq!(real.len(), 1);
    assert_eq!(real[0].reason, EndReason::Shutdown);
    let s = engine.stats();
    assert_eq!((s.emergency_entered, s.emergency_over), (1, 1));
}

#[test]
fn emergency_mode_shortens_established_timeouts_until_the_table_recovers() {
    let mut cfg = EngineConfig::default();
    cfg.flow.max_flows = 4;
    cfg.flow.emergency_new_timeout = 10;
    cfg.flow.emergency_established_timeout = 20;
    let mut p = Vec::new();
    for i in 0..4u8 {
        let c = [10, 7, 0, i];
        p.push((0.0, LinkType::ETHERNET, tcp4(c, 6000, S, 80, SYN, 1, b"")));
        p.push((
            0.0,
            LinkType::ETHERNET,
            tcp4(S, 80, c, 6000, SYN | ACK, 9, b""),
        ));
        p.push((0.0, LinkType::ETHERNET, tcp4(c, 6000, S, 80, ACK, 2, b"")));
    }
    p.push((0.5, LinkType::ETHERNET, udp4([10, 8, 0, 1], 1, S, 53, b"q")));
    p.push((
        15.0,
        LinkType::ETHERNET,
        udp4([10, 8, 0, 1], 1, S, 53, b"q"),
    ));
    let (events, engine) = run_with(&cfg, &p, 1);
    let s = engine.stats();
    assert_eq!(
        (s.emergency_entered, s.emergency_over),
        (1, 0),
        "still full at 15 s"
    );
    let f = ends(&events);
    assert_eq!(
        f.iter().filter(|e| e.reason == EndReason::Evicted).count(),
        1
    );
    let timed_out: Vec<_> = f
        .iter()
        .filter(|e| e.reason == EndReason::IdleTimeout)
        .collect();
    assert_eq!(
        timed_out.len(),
        1,
        "only the unanswered UDP flow, at 10.5 s"
    );
    assert_eq!(timed_out[0].ts, Timestamp::from_nanos(10_500_000_000));

    p.push((
        30.0,
        LinkType::ETHERNET,
        udp4([10, 8, 0, 2], 1, S, 53, b"q"),
    ));
    let (events, engine) = run_with(&cfg, &p, 1);
    let f = ends(&events);
    let tcp_idle: Vec<_> = f
        .iter()
        .filter(|e| e.reason == EndReason::IdleTimeout && e.key.proto() == 6)
        .collect();
    // The new flow at 30 s evicted one more answered flow first.
    assert_eq!(
        f.iter().filter(|e| e.reason == EndReason::Evicted).count(),
        2
    );
    assert_eq!(tcp_idle.len(), 2, "the answered flows left go at 20 s");
    assert!(tcp_idle.iter().all(|e| e.ts.secs() == 20));
    let s = engine.stats();
    assert_eq!((s.emergency_entered, s.emergency_over), (1, 1));
}

#[test]
fn fragments_rebuild_into_one_flow_update() {
    let payload: Vec<u8> = (0..3000).map(|i| i as u8).collect();
    let whole = ip4_udp(C, 7000, S, 7001, &payload);
    let frags = fragment4(&whole, 1480, 42);
    let p: Vec<_> = frags
        .iter()
        .rev()
        .map(|f| (0.0, LinkType::RAW, f.clone()))
        .collect();
    let (events, engine) = run_with(&EngineConfig::default(), &p, 64);
    let f = ends(&events);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].stats.initiator.packets, 3);
    assert_eq!(f[0].stats.initiator.payload_bytes, 3000);
    assert_eq!(f[0].key.proto(), 17);
    assert_eq!(engine.stats().defrag.reassembled, 1);

    // An overlapping fragment is reported as an anomaly.
    let p = vec![
        (0.0, LinkType::RAW, frag4(C, S, 17, 9, 0, true, &[1u8; 16])),
        (0.0, LinkType::RAW, frag4(C, S, 17, 9, 8, false, &[2u8; 16])),
    ];
    let (events, _) = run_with(&EngineConfig::default(), &p, 64);
    assert!(events.iter().any(|o| matches!(
        o.event,
        FlowEvent::Anomaly {
            kind: AnomalyKind::Defrag {
                drop: crate::defrag::DefragDrop::Overlap,
                ..
            },
            ..
        }
    )));
    assert!(ends(&events).is_empty());
}

#[test]
fn vxlan_inner_flow_is_tracked_with_its_tunnel() {
    let inner = tcp4(C, CP, S, 80, ACK | PSH, 1, b"inner");
    let mut vx = vec![0x08, 0, 0, 0, 0, 0, 0x63, 0];
    vx.extend_from_slice(&inner);
    let outer = udp4([192, 0, 2, 1], 50000, [192, 0, 2, 2], 4789, &vx);
    let (events, engine) = run_with(
        &EngineConfig::default(),
        &[(0.0, LinkType::ETHERNET, outer)],
        64,
    );
    let e = events.iter().find_map(|o| match &o.event {
        FlowEvent::Ended {
            key, tunnel, stats, ..
        } => Some((key, tunnel, stats)),
        _ => None,
    });
    let (key, tunnel, stats) = e.unwrap();
    assert_eq!(key.proto(), 6);
    assert_eq!(stats.initiator.payload_bytes, 5);
    let t = tunnel.unwrap();
    assert_eq!((t.kind, t.id), (crate::packet::TunnelKind::Vxlan, 0x63));
    assert_eq!(
        engine.stats().tunnel_packets[crate::packet::TunnelKind::Vxlan.index()],
        1
    );
}

#[test]
fn active_timeout_reports_and_restarts() {
    let mut cfg = EngineConfig::default();
    cfg.flow.active_timeout = 5;
    let p: Vec<_> = (0..10)
        .map(|i| (f64::from(i), LinkType::ETHERNET, udp4(C, 1, S, 2, b"x")))
        .collect();
    let (events, engine) = run_with(&cfg, &p, 1);
    let f = ends(&events);
    assert_eq!(f[0].reason, EndReason::ActiveTimeout);
    assert_eq!(f.last().unwrap().reason, EndReason::Shutdown);
    let total: u64 = f.iter().map(|e| e.stats.initiator.packets).sum();
    assert_eq!(
        total, 10,
        "no packet lost or double counted across restarts"
    );
    let s = engine.stats();
    assert_eq!(s.flows_created, s.flows_ended_total());
}

#[test]
fn anomalies_for_bad_input() {
    let p = vec![
        (0.0, LinkType(147), vec![1, 2, 3]),
        (0.1, LinkType(147), vec![1, 2, 3]),
        (0.2, LinkType::ETHERNET, vec![0u8; 10]),
    ];
    let (events, engine) = run_with(&EngineConfig::default(), &p, 64);
    let s = engine.stats();
    assert_eq!(s.unsupported_linktype, 2);
    assert_eq!(
        s.decode_errors[crate::wire::DecodeError::EthernetTruncated.index()],
        1
    );
    let kinds: Vec<_> = events
        .iter()
        .filter_map(|o| match &o.event {
            FlowEvent::Anomaly { kind, .. } => Some(kind.names().1),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        vec!["link.unsupported", "ethernet.trunc_pkt"],
        "the link type is reported once"
    );
}

#[test]
fn community_id_of_an_engine_flow() {
    let e = run_eth(&[(
        0.0,
        tcp4(
            [128, 232, 110, 120],
            34855,
            [66, 35, 250, 204],
            80,
            SYN,
            1,
            b"",
        ),
    )]);
    let f = ends(&e);
    assert_eq!(
        community_id(f[0].key, f[0].initiator, 0),
        "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
    );
}

#[test]
fn lifecycle_events_when_enabled() {
    let mut cfg = EngineConfig::default();
    cfg.flow.lifecycle_events = true;
    let p: Vec<_> = [c2s(SYN, b""), s2c(SYN | ACK, b""), c2s(ACK, b"")]
        .into_iter()
        .enumerate()
        .map(|(i, f)| (i as f64, LinkType::ETHERNET, f))
        .collect();
    let (events, _) = run_with(&cfg, &p, 64);
    let names: Vec<_> = events
        .iter()
        .map(|o| match &o.event {
            FlowEvent::Started { .. } => "started",
            FlowEvent::Established { .. } => "established",
            FlowEvent::StateChange { .. } => "state",
            FlowEvent::Ended { .. } => "ended",
            FlowEvent::Anomaly { .. } => "anomaly",
            FlowEvent::Application { message, .. } => match *message {},
        })
        .collect();
    assert_eq!(names, vec!["started", "established", "state", "ended"]);
    // Order keys: packet events carry their packet's seq; the flush comes last.
    assert_eq!(events[1].seq, 2);
    assert_eq!(events[3].cause, Cause::Flush);
}

/// A random packet among a few hosts and ports, with random TCP flags.
fn arb_packet() -> impl Strategy<Value = (u8, Vec<u8>)> {
    (
        0u8..3,
        0u8..3,
        0u16..3,
        0u16..3,
        0u8..4,
        any::<u8>(),
        any::<bool>(),
        0u8..20,
    )
        .prop_map(|(a, b, pa, pb, kind, flags, data, dt)| {
            let (ha, hb) = ([10, 0, 0, a], [10, 0, 0, b]);
            let (sa, sb) = (1000 + pa, 80 + pb);
            let payload: &[u8] = if data { b"payload" } else { b"" };
            let frame = match kind {
                0 | 1 => tcp4(ha, sa, hb, sb, flags & 0x1f, 1, payload),
                2 => udp4(ha, sa, hb, sb, payload),
                _ => eth(0x0806, &[0u8; 28]),
            };
            (dt, frame)
        })
}

proptest! {
    /// Flow accounting invariants hold after every packet, the table stays
    /// within `max_flows`, everything is flushed at the end, and two runs
    /// over the same input produce the same events.
    #[test]
    fn invariants_and_determinism(pkts in proptest::collection::vec(arb_packet(), 1..300), max_flows in 1usize..6, epoch in 1usize..20) {
        let mut cfg = EngineConfig::default();
        cfg.flow.max_flows = max_flows;
        cfg.flow.udp_timeout = 7;
        cfg.flow.tcp_timeout = 11;
        cfg.flow.tcp_closed_linger = 2;
        let run = |cfg: &EngineConfig| {
            let mut engine = Engine::new(cfg, FiveTuple::new(KeyOptions::from_config(cfg))).unwrap();
            let mut out = Vec::new();
            let mut t = 1_000_000u64;
            for (seq, (dt, frame)) in pkts.iter().enumerate() {
                t += u64::from(*dt) * 500;
                let ts = Timestamp::from_micros(t * 1000);
                let raw = RawPacket { ts, linktype: LinkType::ETHERNET, wire_len: frame.len() as u32, iface: 0, data: frame };
                engine.process(seq as u64, ts, &raw, &mut out);
                let s = engine.stats();
                assert_eq!(s.flows_created, s.flows_ended_total() + engine.active_flows());
                assert!(engine.table_len() <= max_flows);
                if (seq + 1) % epoch == 0 {
                    engine.advance(ts, seq as u64, &mut out);
                }
            }
            engine.finish(engine.clock(), pkts.len() as u64 - 1, &mut out);
            let s = engine.stats();
            assert_eq!(engine.active_flows(), 0);
            assert_eq!(engine.table_len(), 0);
            assert_eq!(s.flows_created, s.flows_ended_total());
            let ended_events = out.iter().filter(|o| matches!(o.event, FlowEvent::Ended { .. })).count() as u64;
            assert_eq!(ended_events, s.flows_ended_total());
            // Output order keys never go backwards.
            for w in out.windows(2) {
                assert!(w[0].key() < w[1].key());
            }
            format!("{out:?}")
        };
        let first = run(&cfg);
        let second = run(&cfg);
        prop_assert_eq!(first, second);
    }
}

mod clock;
mod timeouts;
