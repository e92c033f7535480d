//! The driver's per-protocol counters and protocol anomalies: flows,
//! transactions and parser errors by route name, events reported up to the
//! per-flow cap and counted past it.

use super::*;
use crate::config::EngineConfig;
use crate::engine::Engine;
use crate::key::{FiveTuple, FiveTupleKey, KeyOptions};
use crate::stats::{AppCounters, SessionCounters};
use crate::testutil::{ACK, PSH, SYN, tcp4_ack, udp4};
use crate::vocab::FlowSide;

const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [10, 0, 0, 2];

/// One message per datagram (`skip`: not a transaction); one event per
/// `e` in it.
#[derive(Default, Clone)]
struct Noisy {
    pending: u32,
}

impl DatagramParser for Noisy {
    type Message = Vec<u8>;
    fn parse(&mut self, payload: &[u8], _side: FlowSide) -> Vec<Vec<u8>> {
        self.pending += payload.iter().filter(|&&c| c == b'e').count() as u32;
        vec![payload.to_vec()]
    }
    fn next_event(&mut self) -> Option<AppEvent> {
        self.pending = self.pending.checked_sub(1)?;
        Some(AppEvent {
            proto: "noisy",
            event: "LETTER_E",
            tx_id: Some(u64::from(self.pending)),
        })
    }
    fn is_transaction(msg: &Vec<u8>) -> bool {
        msg != b"skip"
    }
}

/// Poisons on its first bytes.
#[derive(Default, Clone)]
struct Fragile;

impl SessionParser for Fragile {
    type Message = Vec<u8>;
    fn feed_initiator(&mut self, _: &[u8]) -> Vec<Vec<u8>> {
        Vec::new()
    }
    fn feed_responder(&mut self, _: &[u8]) -> Vec<Vec<u8>> {
        Vec::new()
    }
    fn is_poisoned(&self) -> bool {
        true
    }
}

fn sessions(max_events: u32) -> Sessions<FiveTupleKey, Vec<u8>> {
    let cfg = EngineConfig::default();
    Sessions::new(&cfg.reassembly)
        .max_events_per_flow(max_events)
        .udp(Noisy::default(), Route::ports([5000]).named("noisy"))
        .tcp(Fragile, Route::ports([6000]).named("fragile"))
}

/// Runs `frames` through an engine with [`sessions`], to its end.
fn run(
    max_events: u32,
    frames: &[Vec<u8>],
) -> (Vec<FlowEvent<FiveTupleKey, Vec<u8>>>, SessionCounters) {
    let cfg = EngineConfig::default();
    let mut engine = Engine::with_hook(
        &cfg,
        FiveTuple::new(KeyOptions::from_config(&cfg)),
        sessions(max_events),
    )
    .unwrap();
    let mut out = Vec::new();
    tests::feed_frames(&mut engine, frames, 10, &mut out);
    engine.finish(Timestamp::new(100, 0), frames.len() as u64, &mut out);
    let c = engine.hook().counters();
    (out.into_iter().map(|o| o.event).collect(), c)
}

fn app_events(events: &[FlowEvent<FiveTupleKey, Vec<u8>>]) -> Vec<AppEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            FlowEvent::Anomaly {
                kind: AnomalyKind::AppLayer(a),
                flow_id: Some(_),
                ..
            } => Some(*a),
            _ => None,
        })
        .collect()
}

fn counts(c: &SessionCounters, name: &str, tcp: bool) -> AppProtoCounters {
    c.app
        .iter()
        .find(|(n, t, _)| *n == name && *t == tcp)
        .map(|(_, _, c)| *c)
        .unwrap_or_else(|| panic!("no {name} counters"))
}

use crate::stats::AppProtoCounters;

#[test]
fn events_are_reported_up_to_the_cap_then_counted() {
    let frames = [
        udp4(C, 4000, S, 5000, b"eee"),
        udp4(S, 5000, C, 4000, b"skip"),
        udp4(C, 4000, S, 5000, b"ee"),
        // A second flow has its own allowance.
        udp4(C, 4001, S, 5000, b"e"),
    ];
    let (ev, c) = run(2, &frames);
    let got = app_events(&ev);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got.iter()
            .all(|e| e.proto == "noisy" && e.event == "LETTER_E")
    );
    // The anomalies of a call come before its messages.
    let first_msg = ev
        .iter()
        .position(|e| matches!(e, FlowEvent::Application { .. }))
        .unwrap();
    assert!(matches!(ev[first_msg - 1], FlowEvent::Anomaly { .. }));
    let n = counts(&c, "noisy", false);
    assert_eq!(
        (n.flows, n.tx, n.events, n.events_capped, n.parser_errors),
        (2, 3, 3, 3, 0)
    );
    // No cap: all six; 0: none, all counted.
    let (ev, c) = run(u32::MAX, &frames);
    assert_eq!(app_events(&ev).len(), 6);
    assert_eq!(counts(&c, "noisy", false).events_capped, 0);
    let (ev, c) = run(0, &frames);
    assert!(app_events(&ev).is_empty());
    assert_eq!(counts(&c, "noisy", false).events_capped, 6);
}

#[test]
fn flows_and_parser_errors_count_per_protocol() {
    let frames = [
        tcp4_ack(C, 4000, S, 6000, SYN, 100, 0, b""),
        tcp4_ack(S, 6000, C, 4000, SYN | ACK, 900, 101, b""),
        tcp4_ack(C, 4000, S, 6000, ACK | PSH, 101, 901, b"boom"),
        // Payload on a port no parser takes: `failed`.
        udp4(C, 4000, S, 7000, b"?"),
    ];
    let (_, c) = run(8, &frames);
    let f = counts(&c, "fragile", true);
    assert_eq!((f.flows, f.parser_errors), (1, 1));
    assert_eq!(counts(&c, "failed", false).flows, 1);
    assert_eq!(counts(&c, "failed", true).flows, 0);
    assert_eq!(counts(&c, "noisy", false).flows, 0);
    assert_eq!(c.parser_errors, 1);
}

#[test]
fn every_driver_lists_its_protocols_in_registration_order() {
    let c = sessions(1).counters();
    let names: Vec<(&str, bool)> = c.app.iter().map(|(n, t, _)| (n, t)).collect();
    assert_eq!(
        names,
        [
            ("failed", false),
            ("noisy", false),
            ("failed", true),
            ("fragile", true)
        ]
    );
}

#[test]
fn counters_merge_by_name_and_overflow_into_other() {
    let mut a = AppCounters::default();
    a.entry("x", true).flows = 1;
    let mut b = AppCounters::default();
    b.entry("y", false).tx = 2;
    b.entry("x", true).flows = 3;
    a.add(&b);
    let got: Vec<(&str, bool, u64, u64)> =
        a.iter().map(|(n, t, c)| (n, t, c.flows, c.tx)).collect();
    assert_eq!(got, [("x", true, 4, 0), ("y", false, 0, 2)]);
    let max = crate::stats::MAX_APP_PROTOS;
    let names: Vec<&'static str> = (0..max + 5)
        .map(|i| &*Box::leak(format!("p{i}").into_boxed_str()))
        .collect();
    let mut full = AppCounters::default();
    for n in &names {
        full.entry(n, true).flows += 1;
    }
    let other = full.iter().find(|(n, _, _)| *n == "other").unwrap();
    assert_eq!(other.2.flows, 5);
    assert_eq!(full.iter().count(), max + 1);
}
