use super::*;

#[test]
fn reasons_are_cut_at_a_char_boundary() {
    assert_eq!(&*cut_reason("short"), "short");
    let long = "é".repeat(200); // 400 bytes
    let cut = cut_reason(&long);
    assert!(cut.len() <= 256);
    assert_eq!(cut.len(), 256);
    assert!(long.starts_with(&*cut));
    let odd = format!("a{}", "é".repeat(200));
    let cut = cut_reason(&odd);
    assert_eq!(cut.len(), 255);
}

use crate::config::EngineConfig;
use crate::engine::Engine;
use crate::event::{AnomalyKind, FlowEvent, FlowStats};
use crate::key::{FiveTuple, FiveTupleKey, KeyOptions};
use crate::packet::{LinkType, RawPacket};
use crate::stats::SessionCounters;
use crate::testutil::{ACK, FIN, PSH, RST, SYN, tcp4_ack, udp4};
use crate::timestamp::Timestamp;
use crate::vocab::{EndReason, FlowSide};

const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [10, 0, 0, 2];
const CISN: u32 = 0xffff_fff0; // wraps during the test
const SISN: u32 = 5000;

/// Lines, gaps, stream ends, and the close calls as a parser saw them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Line(FlowSide, String),
    Gap(FlowSide, u64),
    /// `eof_*`: the side's FIN reached in its stream.
    Eof(FlowSide),
    /// `fin_*`: the flow closed gracefully or went quiet.
    Fin(FlowSide),
    /// `rst_*` calls, in order, reported by `flow_end`.
    Rst(Vec<FlowSide>),
}

#[derive(Default, Clone)]
struct Lines {
    bufs: [Vec<u8>; 2],
    rst: Vec<FlowSide>,
    poison: Option<String>,
}

impl Lines {
    fn feed(&mut self, side: FlowSide, bytes: &[u8]) -> Vec<Seen> {
        let buf = &mut self.bufs[usize::from(side == FlowSide::Responder)];
        buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&buf[..nl]).into_owned();
            if line == "POISON" {
                self.poison = Some(format!("bad line {}", "é".repeat(300)));
            }
            out.push(Seen::Line(side, line));
            buf.drain(..=nl);
        }
        out
    }
}

impl SessionParser for Lines {
    type Message = Seen;
    fn feed_initiator(&mut self, b: &[u8]) -> Vec<Seen> {
        self.feed(FlowSide::Initiator, b)
    }
    fn feed_responder(&mut self, b: &[u8]) -> Vec<Seen> {
        self.feed(FlowSide::Responder, b)
    }
    fn fin_initiator(&mut self) -> Vec<Seen> {
        vec![Seen::Fin(FlowSide::Initiator)]
    }
    fn fin_responder(&mut self) -> Vec<Seen> {
        vec![Seen::Fin(FlowSide::Responder)]
    }
    fn gap_initiator(&mut self, len: u64) -> Vec<Seen> {
        self.bufs[0].clear();
        vec![Seen::Gap(FlowSide::Initiator, len)]
    }
    fn gap_responder(&mut self, len: u64) -> Vec<Seen> {
        self.bufs[1].clear();
        vec![Seen::Gap(FlowSide::Responder, len)]
    }
    fn eof_initiator(&mut self) -> Vec<Seen> {
        vec![Seen::Eof(FlowSide::Initiator)]
    }
    fn eof_responder(&mut self) -> Vec<Seen> {
        vec![Seen::Eof(FlowSide::Responder)]
    }
    fn rst_initiator(&mut self) {
        self.rst.push(FlowSide::Initiator);
    }
    fn rst_responder(&mut self) {
        self.rst.push(FlowSide::Responder);
    }
    fn flow_end(&mut self) -> Vec<Seen> {
        if self.rst.is_empty() {
            Vec::new()
        } else {
            vec![Seen::Rst(std::mem::take(&mut self.rst))]
        }
    }
    fn is_poisoned(&self) -> bool {
        self.poison.is_some()
    }
    fn poison_reason(&self) -> Option<&str> {
        self.poison.as_deref()
    }
}

type Ev = FlowEvent<FiveTupleKey, Seen>;

/// An engine keyed by 5-tuple running `sessions`.
fn engine_with<M: Send + std::fmt::Debug + 'static>(
    cfg: &EngineConfig,
    sessions: Sessions<FiveTupleKey, M>,
) -> Engine<FiveTuple, Sessions<FiveTupleKey, M>> {
    Engine::with_hook(cfg, FiveTuple::new(KeyOptions::from_config(cfg)), sessions).unwrap()
}

/// The messages among an engine's events, in order.
fn app_messages<M: Clone>(out: &crate::EventBuf<FiveTupleKey, M>) -> Vec<M> {
    out.iter()
        .filter_map(|o| match &o.event {
            FlowEvent::Application { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// Feeds Ethernet frames one second apart from second `t0`, numbered from 0.
pub(super) fn feed_frames<M: Send + std::fmt::Debug + 'static>(
    engine: &mut Engine<FiveTuple, Sessions<FiveTupleKey, M>>,
    frames: &[Vec<u8>],
    t0: u64,
    out: &mut crate::EventBuf<FiveTupleKey, M>,
) {
    for (i, f) in frames.iter().enumerate() {
        let ts = Timestamp::new(t0 + i as u64, 0);
        let raw = RawPacket {
            ts,
            linktype: LinkType::ETHERNET,
            wire_len: f.len() as u32,
            iface: 0,
            data: f,
        };
        engine.process(i as u64, ts, &raw, out);
    }
}

/// Client-to-server and server-to-client segments: `(from_client, flags,
/// seq offset from ISN+1, ack offset from the peer's ISN+1, payload)`.
type Seg<'a> = (bool, u8, u32, u32, &'a [u8]);

fn run(sessions: Sessions<FiveTupleKey, Seen>, segs: &[Seg<'_>], port: u16) -> Vec<Ev> {
    run_counted(sessions, segs, port).0
}

/// [`run`], also returning the driver's counters.
fn run_counted(
    sessions: Sessions<FiveTupleKey, Seen>,
    segs: &[Seg<'_>],
    port: u16,
) -> (Vec<Ev>, SessionCounters) {
    let (out, counters) = run_numbered(sessions, segs, port);
    (out.into_iter().map(|o| o.event).collect(), counters)
}

/// The events of a handshake, then `segs`, then the end of input, each
/// with its packet number (the SYN is 0, the SYN-ACK 1, `segs[i]` is
/// `2 + i`), and the driver's counters.
fn run_numbered<M: Send + std::fmt::Debug + 'static>(
    sessions: Sessions<FiveTupleKey, M>,
    segs: &[Seg<'_>],
    port: u16,
) -> (crate::EventBuf<FiveTupleKey, M>, SessionCounters) {
    let cfg = EngineConfig::default();
    let mut engine = engine_with(&cfg, sessions);
    let mut out = Vec::new();
    let mut frames = vec![
        tcp4_ack(C, 40000, S, port, SYN, CISN, 0, b""),
        tcp4_ack(
            S,
            port,
            C,
            40000,
            SYN | ACK,
            SISN,
            CISN.wrapping_add(1),
            b"",
        ),
    ];
    for &(client, flags, seq, ack, payload) in segs {
        frames.push(if client {
            let s = CISN.wrapping_add(1).wrapping_add(seq);
            let a = SISN.wrapping_add(1).wrapping_add(ack);
            tcp4_ack(C, 40000, S, port, flags, s, a, payload)
        } else {
            let s = SISN.wrapping_add(1).wrapping_add(seq);
            let a = CISN.wrapping_add(1).wrapping_add(ack);
            tcp4_ack(S, port, C, 40000, flags, s, a, payload)
        });
    }
    feed_frames(&mut engine, &frames, 100, &mut out);
    engine.finish(
        Timestamp::new(101 + frames.len() as u64, 0),
        frames.len() as u64,
        &mut out,
    );
    let counters = engine.hook().counters();
    (out, counters)
}

fn messages(events: &[Ev]) -> Vec<Seen> {
    events
        .iter()
        .filter_map(|e| match e {
            FlowEvent::Application { message, side, .. } => {
                let s = match message {
                    Seen::Line(s, _) | Seen::Gap(s, _) | Seen::Eof(s) | Seen::Fin(s) => *s,
                    // `flow_end` reports on the initiator's side.
                    Seen::Rst(_) => FlowSide::Initiator,
                };
                assert_eq!(s, *side, "the event's side is the message's");
                Some(message.clone())
            }
            _ => None,
        })
        .collect()
}

fn ended(events: &[Ev]) -> (EndReason, FlowStats) {
    events
        .iter()
        .find_map(|e| match e {
            FlowEvent::Ended { reason, stats, .. } => Some((*reason, (**stats).clone())),
            _ => None,
        })
        .expect("an end")
}

fn line(side: FlowSide, s: &str) -> Seen {
    Seen::Line(side, s.to_owned())
}

fn lines_everywhere() -> Sessions<FiveTupleKey, Seen> {
    Sessions::new(&EngineConfig::default().reassembly).tcp(Lines::default(), Route::any())
}

use FlowSide::{Initiator as I, Responder as R};

#[test]
fn reordered_and_retransmitted_segments_reach_the_parser_in_order() {
    // The client's stream is "hello\nsecond\n" (13 bytes).
    let segs: &[Seg<'_>] = &[
        (true, ACK | PSH, 6, 0, b"sec"),   // ahead of a hole
        (true, ACK | PSH, 0, 0, b"hel"),   // in order
        (true, ACK | PSH, 3, 0, b"lo\n"),  // fills the hole
        (true, ACK | PSH, 0, 0, b"hel"),   // retransmission
        (false, ACK | PSH, 0, 9, b"hi\n"), // reply
        (true, ACK | PSH, 9, 3, b"ond\n"),
        (true, ACK | FIN, 13, 3, b""),
        (false, ACK | FIN, 3, 14, b""),
        (true, ACK, 14, 4, b""),
    ];
    let ev = run(lines_everywhere(), segs, 7777);
    assert_eq!(
        messages(&ev),
        vec![
            line(I, "hello"),
            line(R, "hi"),
            line(I, "second"),
            Seen::Eof(I),
            Seen::Eof(R),
            Seen::Fin(I),
            Seen::Fin(R),
        ]
    );
    let (reason, stats) = ended(&ev);
    assert_eq!(reason, EndReason::Fin);
    assert_eq!(stats.initiator.out_of_order, 1);
    assert_eq!(stats.initiator.retransmits, 1);
    assert_eq!(stats.initiator.gap_bytes, 0);
}

#[test]
fn an_acknowledged_hole_is_a_gap_and_the_stream_goes_on() {
    let segs: &[Seg<'_>] = &[
        (true, ACK | PSH, 0, 0, b"one\n"),
        // bytes 4..8 ("two\n") never captured
        (true, ACK | PSH, 8, 0, b"three\n"),
        // The server has it all, and goes on talking: after its second
        // move the hole is given up (not at its first: the capture might
        // only have shown the data late).
        (false, ACK | PSH, 0, 14, b"ok\n"),
        (false, ACK | PSH, 3, 14, b"ok2\n"),
        (true, ACK | PSH, 14, 7, b"four\n"),
    ];
    let ev = run(lines_everywhere(), segs, 7777);
    assert_eq!(
        messages(&ev),
        vec![
            line(I, "one"),
            line(R, "ok"),
            Seen::Gap(I, 4),
            line(I, "three"),
            line(R, "ok2"),
            line(I, "four"),
            // End of input: the flow closes, as by idle timeout.
            Seen::Fin(I),
            Seen::Fin(R),
        ]
    );
    assert_eq!(ended(&ev).1.initiator.gap_bytes, 4);
}

#[test]
fn a_hole_open_at_the_end_is_flushed_as_a_gap() {
    let segs: &[Seg<'_>] = &[
        (true, ACK | PSH, 0, 0, b"a\n"),
        (true, ACK | PSH, 5, 0, b"b\n"),
    ];
    let ev = run(lines_everywhere(), segs, 7777);
    assert_eq!(
        messages(&ev),
        vec![
            line(I, "a"),
            Seen::Gap(I, 3),
            line(I, "b"),
            Seen::Fin(I),
            Seen::Fin(R)
        ]
    );
    assert_eq!(ended(&ev).0, EndReason::Shutdown);
}

#[test]
fn rst_flushes_and_both_sides_hear_of_it() {
    // Whichever side resets, the parser hears `rst_initiator` then
    // `rst_responder` when the flow ends, after the bytes held before the
    // reset (as flowscope 0.3 does), and no `fin_*`.
    for from_client in [true, false] {
        let segs: &[Seg<'_>] = &[
            (true, ACK | PSH, 3, 0, b"y\n"), // ahead of a hole
            (true, ACK | PSH, 0, 0, b"x\n"),
            (
                from_client,
                RST | ACK,
                if from_client { 5 } else { 0 },
                0,
                b"",
            ),
        ];
        let ev = run(lines_everywhere(), segs, 7777);
        assert_eq!(
            messages(&ev),
            vec![
                line(I, "x"),
                Seen::Gap(I, 1),
                line(I, "y"),
                Seen::Rst(vec![I, R])
            ],
            "reset from the client: {from_client}"
        );
        assert_eq!(ended(&ev).0, EndReason::Rst);
    }
}

#[test]
fn every_close_calls_fin_or_rst_as_0_3_does() {
    // A flow with no payload still has its parser (made at the flow's
    // start): it hears of the end. Idle timeout and end of input: fin;
    // eviction: rst.
    let handshake_only: &[Seg<'_>] = &[(false, SYN | ACK, 0, 0, b"")];
    let ev = run(lines_everywhere(), handshake_only, 7777);
    assert_eq!(messages(&ev), vec![Seen::Fin(I), Seen::Fin(R)]);

    let cfg = EngineConfig::default();
    let mut engine = engine_with(&cfg, lines_everywhere());
    let frames = vec![tcp4_ack(C, 40000, S, 7777, ACK | PSH, 1, 1, b"half")];
    let mut out = Vec::new();
    feed_frames(&mut engine, &frames, 1, &mut out);
    engine.advance(Timestamp::new(10_000, 0), 1, &mut out);
    let ev: Vec<Ev> = out.into_iter().map(|o| o.event).collect();
    assert_eq!(ended(&ev).0, EndReason::IdleTimeout);
    assert_eq!(messages(&ev), vec![Seen::Fin(I), Seen::Fin(R)]);

    let mut cfg = EngineConfig::default();
    cfg.flow.max_flows = 1;
    let mut engine = engine_with(&cfg, lines_everywhere());
    let frames = vec![
        tcp4_ack(C, 40000, S, 7777, ACK | PSH, 1, 1, b"a\n"),
        tcp4_ack(C, 40001, S, 7777, ACK | PSH, 1, 1, b"b\n"),
    ];
    let mut out = Vec::new();
    feed_frames(&mut engine, &frames, 1, &mut out);
    let ev: Vec<Ev> = out.into_iter().map(|o| o.event).collect();
    assert_eq!(ended(&ev).0, EndReason::Evicted);
    assert_eq!(
        messages(&ev),
        vec![line(I, "a"), Seen::Rst(vec![I, R]), line(I, "b")]
    );
}

#[test]
fn a_poisoned_parser_ends_its_flow_with_a_cut_reason() {
    let segs: &[Seg<'_>] = &[
        (true, ACK | PSH, 0, 0, b"ok\nPOISON\n"),
        (true, ACK | PSH, 10, 0, b"never\n"),
    ];
    let ev = run(lines_everywhere(), segs, 7777);
    assert_eq!(messages(&ev), vec![line(I, "ok"), line(I, "POISON")]);
    let reason = ev
        .iter()
        .find_map(|e| match e {
            FlowEvent::Anomaly {
                kind: AnomalyKind::ParserPoisoned { reason },
                flow_id: Some(_),
                ..
            } => Some(reason.clone()),
            _ => None,
        })
        .expect("a poison anomaly");
    assert!(reason.len() <= 256 && reason.starts_with("bad line é"));
    assert_eq!(ended(&ev).0, EndReason::ParseError);
    // The rest of the connection lingers with the ended flow: no second
    // flow picked up mid-stream.
    let ends = ev
        .iter()
        .filter(|e| matches!(e, FlowEvent::Ended { .. }))
        .count();
    assert_eq!(ends, 1);
}

#[derive(Default, Clone)]
struct Tagged(&'static str, Lines);

impl SessionParser for Tagged {
    type Message = Seen;
    fn feed_initiator(&mut self, b: &[u8]) -> Vec<Seen> {
        let tag = self.0;
        self.1
            .feed_initiator(b)
            .into_iter()
            .map(|m| match m {
                Seen::Line(s, l) => Seen::Line(s, format!("{tag}:{l}")),
                m => m,
            })
            .collect()
    }
    fn feed_responder(&mut self, b: &[u8]) -> Vec<Seen> {
        self.1.feed_responder(b)
    }
}

fn probe_prefix(p: &'static [u8]) -> impl Fn(&[u8], FlowSide) -> Probe + Send + Sync {
    move |b: &[u8], _| {
        let n = b.len().min(p.len());
        if b[..n] != p[..n] {
            Probe::No
        } else if n < p.len() {
            Probe::NeedMore
        } else {
            Probe::Certain
        }
    }
}

fn two_protocols() -> Sessions<FiveTupleKey, Seen> {
    two_protocols_probing(EngineConfig::default().reassembly.probe_bytes)
}

/// [`two_protocols`], the probes seeing at most `probe_bytes` of a side.
fn two_protocols_probing(probe_bytes: usize) -> Sessions<FiveTupleKey, Seen> {
    let mut cfg = EngineConfig::default().reassembly;
    cfg.probe_bytes = probe_bytes;
    Sessions::new(&cfg)
        .tcp(
            Tagged("alpha", Lines::default()),
            Route::ports([80]).probe(probe_prefix(b"ALPHA")),
        )
        .tcp(
            Tagged("beta", Lines::default()),
            Route::ports([81]).probe(probe_prefix(b"BETA")),
        )
}

#[test]
fn content_probes_pick_the_parser_whatever_the_port() {
    // BETA on alpha's port: alpha's probe says no, beta's says yes.
    let segs: &[Seg<'_>] = &[
        (true, ACK | PSH, 0, 0, b"BE"),
        (true, ACK | PSH, 2, 0, b"TA 1\n"),
    ];
    let ev = run(two_protocols(), segs, 80);
    assert_eq!(messages(&ev), vec![line(I, "beta:BETA 1")]);
    // Neither: no parser, no messages.
    let segs: &[Seg<'_>] = &[(true, ACK | PSH, 0, 0, b"GAMMA\n")];
    assert!(messages(&run(two_protocols(), segs, 80)).is_empty());
}

#[test]
fn a_port_hint_decides_when_the_probe_cannot() {
    // Only "AL" ever arrives: still NeedMore at the end; the port says alpha.
    let segs: &[Seg<'_>] = &[(true, ACK | PSH, 0, 0, b"AL")];
    let sessions = Sessions::new(&EngineConfig::default().reassembly).tcp(
        Tagged("alpha", Lines::default()),
        Route::ports([80]).probe(probe_prefix(b"ALPHA")),
    );
    let (ev, counters) = run_counted(sessions, segs, 80);
    // The parser was chosen at the end and fed the two bytes (no newline).
    assert!(messages(&ev).is_empty());
    assert_eq!((counters.flows_parsed, counters.flows_unclassified), (1, 0));
    // Off its port, the probe's "need more" alone chooses nothing.
    let off_port = Sessions::new(&EngineConfig::default().reassembly).tcp(
        Tagged("alpha", Lines::default()),
        Route::ports([80]).probe(probe_prefix(b"ALPHA")),
    );
    let (_, counters) = run_counted(off_port, segs, 9999);
    assert_eq!((counters.flows_parsed, counters.flows_unclassified), (0, 1));
    let (ev, counters) = run_counted(two_protocols(), &[(true, ACK | PSH, 0, 0, b"AL\n")], 80);
    assert_eq!(messages(&ev), vec![]);
    assert_eq!((counters.flows_parsed, counters.flows_unclassified), (0, 1));
}

#[test]
fn the_first_bytes_are_probed_where_they_lie_and_fed_whole() {
    // The probes see the first `probe_bytes` of a longer first segment;
    // the parser they choose gets all of it.
    let segs: &[Seg<'_>] = &[(true, ACK | PSH, 0, 0, b"BETA 1\nBETA 2\n")];
    let ev = run(two_protocols_probing(4), segs, 80);
    assert_eq!(
        messages(&ev),
        vec![line(I, "beta:BETA 1"), line(I, "beta:BETA 2")]
    );
    // A first segment as long as the probes may see ends the waiting: the
    // port-matched route is taken though its probe would need more.
    let segs: &[Seg<'_>] = &[
        (true, ACK | PSH, 0, 0, b"ALP"),
        (true, ACK | PSH, 3, 0, b"HA 1\n"),
    ];
    let ev = run(two_protocols_probing(3), segs, 80);
    assert_eq!(messages(&ev), vec![line(I, "alpha:ALPHA 1")]);
    // The responder speaking first is probed the same way.
    let segs: &[Seg<'_>] = &[
        (false, ACK | PSH, 0, 0, b"BETA"),
        (true, ACK | PSH, 0, 4, b"hello\n"),
    ];
    let (_, counters) = run_counted(two_protocols(), segs, 9999);
    assert_eq!((counters.flows_parsed, counters.flows_unclassified), (1, 0));
}

#[test]
fn bytes_of_a_flow_no_parser_took_are_all_counted() {
    let segs: &[Seg<'_>] = &[
        // Held out of order behind a hole...
        (true, ACK | PSH, 10, 0, b"HELD!"),
        // ...then the first bytes, which no probe wants: the flow is
        // unclassified and its held bytes are thrown away.
        (true, ACK | PSH, 0, 0, b"GAMMA\n"),
        // What follows is not reassembled.
        (true, ACK | PSH, 15, 0, b"later"),
        (false, ACK | PSH, 0, 6, b"reply!!"),
    ];
    let (_, c) = run_counted(two_protocols(), segs, 9999);
    assert_eq!(c.flows_unclassified, 1);
    assert_eq!(c.stream.delivered, 6);
    assert_eq!(c.stream.discarded_bytes, 5);
    assert_eq!(c.skipped_bytes, 12);
    let sent: u64 = segs.iter().map(|s| s.4.len() as u64).sum();
    let r = &c.stream;
    assert_eq!(
        r.delivered + r.gap_bytes + r.discarded_bytes + c.skipped_bytes,
        sent
    );
}

#[derive(Default, Clone)]
struct Echo;
impl DatagramParser for Echo {
    type Message = (FlowSide, Vec<u8>);
    fn parse(&mut self, payload: &[u8], side: FlowSide) -> Vec<Self::Message> {
        if payload == b"die" {
            return Vec::new();
        }
        vec![(side, payload.to_vec())]
    }
}

/// The frames through an engine whose only parser is [`Echo`] on `route`:
/// the datagrams it echoed and the driver's counters.
fn echoed(route: Route, frames: &[Vec<u8>]) -> (Vec<(FlowSide, Vec<u8>)>, SessionCounters) {
    let cfg = EngineConfig::default();
    let sessions: Sessions<FiveTupleKey, (FlowSide, Vec<u8>)> =
        Sessions::new(&cfg.reassembly).udp(Echo, route);
    let mut engine = engine_with(&cfg, sessions);
    let mut out = Vec::new();
    feed_frames(&mut engine, frames, 1, &mut out);
    (app_messages(&out), engine.hook().counters())
}

#[test]
fn udp_payloads_go_to_the_datagram_parser() {
    let frames = [
        udp4(C, 3333, S, 53, b"query"),
        udp4(S, 53, C, 3333, b"answer"),
        udp4(C, 3334, S, 9999, b"other port"),
    ];
    let (got, c) = echoed(Route::ports([53]), &frames);
    assert_eq!(got, vec![(I, b"query".to_vec()), (R, b"answer".to_vec())]);
    assert_eq!(
        (c.flows_parsed, c.flows_unclassified, c.messages),
        (1, 1, 2)
    );
}

#[test]
fn udp_probes_decide_on_the_first_datagram_or_wait_for_more() {
    let probe = |b: &[u8], _| {
        if b == b"wait" {
            Probe::NeedMore
        } else if b.starts_with(b"ECHO") {
            Probe::Certain
        } else {
            Probe::No
        }
    };
    let frames = [
        // Waits, then is taken: the parser gets both, in order.
        udp4(C, 1001, S, 7, b"wait"),
        udp4(S, 7, C, 1001, b"ECHO reply"),
        // Taken at once.
        udp4(C, 1002, S, 7, b"ECHO first"),
        // No parser wants it: done, later datagrams go nowhere.
        udp4(C, 1003, S, 7, b"nope"),
        udp4(C, 1003, S, 7, b"ECHO late"),
        // Never decides: given up after `probe_datagrams` (4).
        udp4(C, 1004, S, 7, b"wait"),
        udp4(C, 1004, S, 7, b"wait"),
        udp4(C, 1004, S, 7, b"wait"),
        udp4(C, 1004, S, 7, b"wait"),
    ];
    let (got, c) = echoed(Route::any().probe(probe).named("echo"), &frames);
    assert_eq!(
        got,
        vec![
            (I, b"wait".to_vec()),
            (R, b"ECHO reply".to_vec()),
            (I, b"ECHO first".to_vec()),
        ]
    );
    assert_eq!((c.flows_parsed, c.flows_unclassified), (2, 2));
    // The two failed flows are counted under `failed` as they give up (the
    // parsed ones when they end).
    let entries: Vec<_> = c.app.iter().map(|(n, tcp, k)| (n, tcp, k.flows)).collect();
    assert!(entries.contains(&("failed", false, 2)), "{entries:?}");
}

#[test]
fn default_clone_parsers_are_their_own_factories() {
    // Any `Default + Clone` parser is its own factory, keyed by anything.
    let mut f = Lines::default();
    let mut p: Lines = SessionParserFactory::<u32>::new_parser(&mut f, &7);
    assert_eq!(p.feed_initiator(b"a\n"), vec![line(I, "a")]);
    let mut e = Echo;
    let mut d: Echo = DatagramParserFactory::<()>::new_parser(&mut e, &());
    assert_eq!(d.parse(b"x", R), vec![(R, b"x".to_vec())]);
}

#[test]
fn session_events_mirror_flow_events() {
    let segs: &[Seg<'_>] = &[(true, ACK | PSH, 0, 0, b"x\n")];
    let ev = run(lines_everywhere(), segs, 7777);
    let sess: Vec<SessionEvent<FiveTupleKey, Seen>> = ev
        .into_iter()
        .filter_map(|e| e.into_session_event())
        .collect();
    // `Started` first (on by default, as in flowscope 0.3), then the line,
    // then the end flush (`fin_*`), then `Closed`.
    assert!(matches!(sess[0], SessionEvent::Started { .. }));
    assert!(matches!(
        sess[1],
        SessionEvent::Application {
            side: FlowSide::Initiator,
            ..
        }
    ));
    assert_eq!(sess.len(), 5);
    assert!(matches!(
        sess.last(),
        Some(SessionEvent::Closed {
            reason: EndReason::Shutdown,
            ..
        })
    ));
}

mod hostile {
    use super::*;
    use crate::reassembly::{OverflowPolicy, ReassemblyConfig};
    use proptest::prelude::*;

    /// One random TCP packet of one of a few connections.
    fn packet() -> impl Strategy<Value = (u8, bool, u8, u32, u32, usize, u8)> {
        (
            0u8..3,        // connection
            any::<bool>(), // from the client
            prop::sample::select(vec![
                SYN,
                SYN | ACK,
                ACK,
                ACK | PSH,
                FIN | ACK,
                RST,
                RST | ACK,
            ]),
            prop_oneof![0u32..4000, any::<u32>()], // seq offset
            prop_oneof![0u32..4000, any::<u32>()], // ack offset
            0usize..600,                           // payload length
            any::<u8>(),                           // payload byte
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Random segments, flags and numbers on a few connections, small
        /// caps: no panic, the shard's held bytes stay within the memcap,
        /// and everything held is given back when the flows end.
        #[test]
        fn hostile_segments_never_break_the_driver(
            pkts in prop::collection::vec(packet(), 1..150),
            drop_flow in any::<bool>(),
        ) {
            let cfg = EngineConfig {
                reassembly: ReassemblyConfig {
                    max_ooo_bytes: 1500,
                    max_ooo_segments: 6,
                    memcap: 2500,
                    overflow: if drop_flow {
                        OverflowPolicy::DropFlow
                    } else {
                        OverflowPolicy::SlidingWindow
                    },
                    probe_bytes: 64,
                    ..ReassemblyConfig::default()
                },
                ..EngineConfig::default()
            };
            let sessions: Sessions<FiveTupleKey, Seen> = Sessions::new(&cfg.reassembly)
                .tcp(Lines::default(), Route::ports([80]).probe(probe_prefix(b"GET")))
                .tcp(Lines::default(), Route::any());
            let mut engine =
                engine_with(&cfg, sessions);
            let mut out = Vec::new();
            let frames: Vec<Vec<u8>> = pkts
                .iter()
                .map(|&(conn, client, flags, seq, ack, len, fill)| {
                    let port = [80, 81, 9000][usize::from(conn)];
                    let payload = vec![if fill % 5 == 0 { b'\n' } else { fill }; len];
                    let (s, a) = (CISN.wrapping_add(seq), SISN.wrapping_add(ack));
                    if client {
                        tcp4_ack(C, 40000 + u16::from(conn), S, port, flags, s, a, &payload)
                    } else {
                        tcp4_ack(S, port, C, 40000 + u16::from(conn), flags, a, s, &payload)
                    }
                })
                .collect();
            for (i, f) in frames.iter().enumerate() {
                let ts = Timestamp::new(10 + i as u64, 0);
                let raw = RawPacket { ts, linktype: LinkType::ETHERNET, wire_len: f.len() as u32, iface: 0, data: f };
                engine.process(i as u64, ts, &raw, &mut out);
                let c = engine.hook().counters();
                prop_assert!(c.memory.used <= 2500);
            }
            engine.finish(Timestamp::new(10 + frames.len() as u64, 0), frames.len() as u64, &mut out);
            let c = engine.hook().counters();
            prop_assert_eq!(c.memory.used, 0, "held bytes given back");
            prop_assert!(c.memory.peak <= 2500);
        }
    }
}

#[test]
fn a_flow_the_driver_skips_does_not_disturb_the_next_packet() {
    // Only TCP is registered, so the driver never sees UDP packets: a UDP
    // flow created between two TCP packets must not make the second look
    // like the first packet of its flow (which would drop held data).
    let cfg = EngineConfig::default();
    let mut engine = engine_with(&cfg, lines_everywhere());
    let c = |flags, seq: u32, payload: &[u8]| {
        tcp4_ack(
            C,
            40000,
            S,
            7777,
            flags,
            CISN.wrapping_add(seq),
            SISN.wrapping_add(1),
            payload,
        )
    };
    let frames = vec![
        tcp4_ack(C, 40000, S, 7777, SYN, CISN, 0, b""),
        tcp4_ack(
            S,
            7777,
            C,
            40000,
            SYN | ACK,
            SISN,
            CISN.wrapping_add(1),
            b"",
        ),
        c(ACK | PSH, 1, b"a\n"),
        c(ACK | PSH, 5, b"c\n"), // ahead of a hole
        udp4(C, 5000, S, 53, b"dns?"),
        c(ACK | PSH, 3, b"b\n"), // fills it
    ];
    let mut out = Vec::new();
    feed_frames(&mut engine, &frames, 1, &mut out);
    engine.finish(Timestamp::new(100, 0), frames.len() as u64, &mut out);
    let ev: Vec<Ev> = out.into_iter().map(|o| o.event).collect();
    assert_eq!(
        messages(&ev),
        vec![
            line(I, "a"),
            line(I, "b"),
            line(I, "c"),
            Seen::Fin(I),
            Seen::Fin(R)
        ]
    );
}

#[test]
fn tunnelled_datagrams_reach_the_parser_with_their_inner_payload() {
    // A DNS-like datagram inside VXLAN: the parser registered for the inner
    // flow's port sees the inner payload; the carrier (UDP 4789) is not a
    // flow of its own.
    let cfg = EngineConfig::default();
    let sessions: Sessions<FiveTupleKey, (FlowSide, Vec<u8>)> =
        Sessions::new(&cfg.reassembly).udp(Echo, Route::ports([53]));
    let mut engine = engine_with(&cfg, sessions);
    let inner = udp4(C, 3333, S, 53, b"inner query");
    let mut vx = vec![0x08, 0, 0, 0, 0, 0, 7, 0];
    vx.extend_from_slice(&inner);
    let frame = udp4([192, 0, 2, 1], 49152, [192, 0, 2, 2], 4789, &vx);
    let mut out = Vec::new();
    feed_frames(&mut engine, &[frame], 1, &mut out);
    let got = app_messages(&out);
    assert_eq!(got, vec![(I, b"inner query".to_vec())]);
}

mod acks;
mod retransmit;
