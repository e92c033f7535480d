//! The flowscope run: `Engine`s with a `Sessions` hook — one with the line
//! parser on TCP and the datagram parser on UDP, one with the frame parser
//! on TCP, every registration `Route::any()` — fed packet by packet,
//! advanced at the same instants as the oracle's sweeps and finished at the
//! end; their events (through `FlowEvent::into_session_event`) normalised
//! into [`Sess`]ions. Also flowscope's decoder's view of each packet, for
//! the evidence.

use std::collections::HashMap;

use flowscope_engine::unstable::Decoder;
use flowscope_engine::{
    EndReason, Engine, EngineConfig, FiveTuple, FiveTupleKey, FlowEvent, FlowSide, KeyOptions,
    Orientation, RawPacket, Route, SessionEvent, Sessions, SideStats, Transport,
};

use super::model::{Close, Disorder, Kind, Seen, Sess, Tuple};
use super::parsers::{FrameParser, HeaderParser, LineParser};

/// The engine configuration of the comparison: the defaults, with the
/// differences 0.3 cannot follow turned off (see docs/parity.md):
/// no tunnel decapsulation and no defragmentation (0.3 does neither: it
/// keys an IP fragment as a port-less flow and parses nothing of it), no
/// VLAN ids in the key (0.3's key has none), no per-port timeouts (0.3's
/// are per protocol). `Started` events are on by default, as in 0.3.
pub fn engine_config() -> EngineConfig {
    let mut cfg = EngineConfig::default();
    cfg.tunnel.decapsulate = false;
    cfg.defrag.enabled = false;
    cfg.flow.vlan_in_key = false;
    cfg.flow.port_timeouts.clear();
    cfg.flow.max_flows = 1_000_000;
    cfg
}

type Hooked = Engine<FiveTuple, Sessions<FiveTupleKey, String>>;

/// Which parser each protocol of an engine runs.
#[derive(Debug, Clone, Copy)]
struct Plan {
    tcp: Option<Kind>,
    udp: Option<Kind>,
}

/// One engine and the sessions it produced.
#[derive(Debug)]
struct Run {
    engine: Hooked,
    plan: Plan,
    events: Vec<flowscope_engine::Ordered<FlowEvent<FiveTupleKey, String>>>,
    initiator: HashMap<FiveTupleKey, Orientation>,
    open: HashMap<FiveTupleKey, usize>,
    all: Vec<Sess>,
}

fn tuple_of(key: &FiveTupleKey) -> (Tuple, usize) {
    let (a, b) = (key.a(), key.b());
    Tuple::new(key.proto(), (a.addr, a.port), (b.addr, b.port))
}

fn disorder(s: &SideStats) -> Disorder {
    Disorder {
        retransmits: s.retransmits,
        out_of_order: s.out_of_order,
        gap_bytes: s.gap_bytes,
        overlaps: s.overlaps,
    }
}

impl Run {
    fn new(cfg: &EngineConfig, plan: Plan) -> Run {
        let mut sessions = Sessions::new(&cfg.reassembly);
        match plan.tcp {
            Some(Kind::Line) => sessions = sessions.tcp(LineParser::default(), Route::any()),
            Some(Kind::Frame) => sessions = sessions.tcp(FrameParser::default(), Route::any()),
            _ => {}
        }
        if plan.udp.is_some() {
            sessions = sessions.udp(HeaderParser, Route::any());
        }
        let engine = Engine::with_hook(cfg, FiveTuple::new(KeyOptions::from_config(cfg)), sessions)
            .expect("engine configuration");
        Run {
            engine,
            plan,
            events: Vec::new(),
            initiator: HashMap::new(),
            open: HashMap::new(),
            all: Vec::new(),
        }
    }

    fn kind(&self, proto: u8) -> Option<Kind> {
        match proto {
            6 => self.plan.tcp,
            17 => self.plan.udp,
            _ => None,
        }
    }

    /// Turns the events produced so far into sessions.
    fn absorb(&mut self) {
        for o in std::mem::take(&mut self.events) {
            let ev = o.event;
            if let FlowEvent::Started { key, initiator, .. }
            | FlowEvent::Ended { key, initiator, .. } = &ev
            {
                self.initiator.insert(*key, *initiator);
            }
            match ev.into_session_event() {
                Some(SessionEvent::Started { key, ts }) => {
                    let (t, a) = tuple_of(&key);
                    let Some(kind) = self.kind(t.proto) else {
                        continue;
                    };
                    let init = match self.initiator[&key] {
                        Orientation::Forward => a,
                        Orientation::Reverse => 1 - a,
                    };
                    let i = self.all.len();
                    self.all.push(Sess::new(kind, t, init, ts.as_nanos()));
                    assert!(
                        self.open.insert(key, i).is_none(),
                        "flowscope started an open flow"
                    );
                }
                Some(SessionEvent::Application {
                    key, side, message, ..
                }) => {
                    let i = self.open[&key];
                    self.all[i].push(side == FlowSide::Initiator, message);
                }
                Some(SessionEvent::Closed { key, reason, stats }) => {
                    let (t, _) = tuple_of(&key);
                    if self.kind(t.proto).is_none() {
                        continue;
                    }
                    let i = self
                        .open
                        .remove(&key)
                        .expect("flowscope closed an unknown flow");
                    let s = &mut self.all[i];
                    s.end = stats.last_seen.as_nanos();
                    s.close = match reason {
                        EndReason::Fin => Close::Fin,
                        EndReason::Rst => Close::Rst,
                        EndReason::IdleTimeout => Close::Idle,
                        EndReason::Shutdown => Close::End,
                        EndReason::Evicted => Close::Evicted,
                        EndReason::BufferOverflow => Close::Overflow,
                        EndReason::ParseError => Close::ParseError,
                        other => panic!("flowscope end reason {other}"),
                    };
                    s.disorder[s.initiator] = disorder(&stats.initiator);
                    s.disorder[1 - s.initiator] = disorder(&stats.responder);
                    s.history = stats.history.to_string();
                }
                _ => {}
            }
        }
    }
}

/// Both engines over one capture.
#[derive(Debug)]
pub struct Subject {
    runs: [Run; 2],
    decoder: Decoder,
}

impl Subject {
    /// Fresh engines.
    pub fn new() -> Subject {
        let cfg = engine_config();
        Subject {
            runs: [
                Run::new(
                    &cfg,
                    Plan {
                        tcp: Some(Kind::Line),
                        udp: Some(Kind::Dgram),
                    },
                ),
                Run::new(
                    &cfg,
                    Plan {
                        tcp: Some(Kind::Frame),
                        udp: None,
                    },
                ),
            ],
            decoder: Decoder::new(&cfg.decode, &cfg.tunnel),
        }
    }

    /// What flowscope reads of a packet: its TCP/UDP tuple and sender, if
    /// any. With defragmentation off (as here) fragments are not read.
    pub fn decode(&self, raw: &RawPacket<'_>) -> Option<Seen> {
        let v = self.decoder.decode(raw).ok()?;
        let ip = v.ip?;
        let (proto, sp, dp) = match v.transport {
            Transport::Tcp(t) => (6, t.src_port(), t.dst_port()),
            Transport::Udp(p) => (17, p.src, p.dst),
            _ => return None,
        };
        let (tuple, from) = Tuple::new(proto, (ip.src, sp), (ip.dst, dp));
        Some(Seen { tuple, from })
    }

    /// Packet `seq` at packet clock `now`.
    pub fn packet(&mut self, seq: u64, now: flowscope_engine::Timestamp, raw: &RawPacket<'_>) {
        for r in &mut self.runs {
            r.engine.process(seq, now, raw, &mut r.events);
            r.absorb();
        }
    }

    /// An epoch boundary after packet `seq`.
    pub fn advance(&mut self, now: flowscope_engine::Timestamp, seq: u64) {
        for r in &mut self.runs {
            r.engine.advance(now, seq, &mut r.events);
            r.absorb();
        }
    }

    /// End of input; returns every session.
    pub fn finish(mut self, now: flowscope_engine::Timestamp, seq: u64) -> Vec<Sess> {
        let mut out = Vec::new();
        for r in &mut self.runs {
            r.engine.finish(now, seq, &mut r.events);
            r.absorb();
            assert!(r.open.is_empty(), "flowscope left flows open");
            out.append(&mut r.all);
        }
        out
    }
}
