//! The oracle run: the `flowscope` 0.3.0 crate's drivers —
//! `FlowSessionDriver` once per TCP parser, `FlowDatagramDriver` for the
//! datagram parser — over one capture's Ethernet frames, normalised into
//! [`Sess`]ions. Each 0.3 driver tracks every flow of every protocol; only
//! the protocol its parser reads (TCP, UDP) is kept.

use std::collections::HashMap;

use flowscope::extract::{FiveTuple, FiveTupleKey};
use flowscope::{
    EndReason, FlowDatagramDriver, FlowExtractor, FlowSessionDriver, FlowSide, FlowState,
    FlowTrackerConfig, L4Proto, Orientation, PacketView, SessionEvent, Timestamp,
};

use super::model::{Close, Kind, Seen, Sess, Tuple};
use super::parsers::{FrameParser, HeaderParser, LineParser};

/// 0.3's idea of one packet, as its own extractor reads it.
#[derive(Debug, Clone, Copy)]
pub struct OraclePacket {
    /// The flow key and what the harness derives from it.
    pub key: FiveTupleKey,
    /// Its tuple and sender.
    pub seen: Seen,
    /// TCP flags (0 for UDP).
    pub flags: u8,
    /// Source and destination port.
    pub ports: (u16, u16),
}

/// A 0.3 timestamp from packet time in nanoseconds.
pub fn ts03(ns: u64) -> Timestamp {
    Timestamp::new((ns / 1_000_000_000) as u32, (ns % 1_000_000_000) as u32)
}

fn ns(ts: Timestamp) -> u64 {
    u64::from(ts.sec) * 1_000_000_000 + u64::from(ts.nsec)
}

fn proto_num(p: L4Proto) -> u8 {
    match p {
        L4Proto::Tcp => 6,
        L4Proto::Udp => 17,
        L4Proto::Icmp => 1,
        L4Proto::IcmpV6 => 58,
        L4Proto::Sctp => 132,
        L4Proto::Other(p) => p,
    }
}

fn tuple_of(key: &FiveTupleKey) -> Tuple {
    let a = (key.a.ip(), key.a.port());
    let b = (key.b.ip(), key.b.port());
    Tuple::new(proto_num(key.proto), a, b).0
}

/// Reads a frame as 0.3's `FiveTuple` extractor does; only TCP and UDP
/// count.
pub fn extract(frame: &[u8], ts: Timestamp) -> Option<OraclePacket> {
    let x = FiveTuple::bidirectional().extract(PacketView::new(frame, ts))?;
    let proto = proto_num(x.key.proto);
    if proto != 6 && proto != 17 {
        return None;
    }
    let (src, dst) = match x.orientation {
        Orientation::Forward => (x.key.a, x.key.b),
        Orientation::Reverse => (x.key.b, x.key.a),
    };
    let (tuple, from) = Tuple::new(proto, (src.ip(), src.port()), (dst.ip(), dst.port()));
    Some(OraclePacket {
        key: x.key,
        seen: Seen { tuple, from },
        flags: x.tcp.map_or(0, |t| t.flags.bits()),
        ports: (src.port(), dst.port()),
    })
}

/// One 0.3 driver's sessions being built.
#[derive(Debug)]
struct Book {
    kind: Kind,
    proto: u8,
    all: Vec<Sess>,
    open: HashMap<Tuple, usize>,
}

impl Book {
    fn new(kind: Kind, proto: u8) -> Book {
        Book {
            kind,
            proto,
            all: Vec::new(),
            open: HashMap::new(),
        }
    }

    /// Takes one call's events; returns the session the packet `pkt`
    /// belongs to (open, or closed by this very call).
    fn absorb(
        &mut self,
        events: Vec<SessionEvent<FiveTupleKey, String>>,
        pkt: Option<&OraclePacket>,
        last_sweep: bool,
    ) -> Option<usize> {
        let mut closed_now = None;
        for ev in events {
            match ev {
                SessionEvent::Started { key, ts } => {
                    let t = tuple_of(&key);
                    if t.proto != self.proto {
                        continue;
                    }
                    let p = pkt.expect("0.3 starts flows only at packets");
                    assert_eq!(
                        p.seen.tuple, t,
                        "0.3 started another flow than the packet's"
                    );
                    let mut s = Sess::new(self.kind, t, p.seen.from, ns(ts));
                    s.first_flags = p.flags;
                    s.first_ports = p.ports;
                    let i = self.all.len();
                    self.all.push(s);
                    assert!(self.open.insert(t, i).is_none(), "0.3 flow started twice");
                }
                SessionEvent::Application {
                    key, side, message, ..
                } => {
                    let t = tuple_of(&key);
                    // 0.3's session driver also gives UDP flows a parser
                    // (never fed, but told of the close): not compared.
                    if t.proto != self.proto {
                        continue;
                    }
                    let i = self.open[&t];
                    self.all[i].push(side == FlowSide::Initiator, message);
                }
                SessionEvent::Closed { key, reason, stats } => {
                    let t = tuple_of(&key);
                    if t.proto != self.proto {
                        continue;
                    }
                    let i = self.open.remove(&t).expect("0.3 closed an unknown flow");
                    let s = &mut self.all[i];
                    s.end = ns(stats.last_seen);
                    s.close = match reason {
                        EndReason::Fin => Close::Fin,
                        EndReason::Rst => Close::Rst,
                        EndReason::IdleTimeout if last_sweep => Close::End,
                        EndReason::IdleTimeout => Close::Idle,
                        EndReason::Evicted => Close::Evicted,
                        EndReason::BufferOverflow => Close::Overflow,
                        EndReason::ParseError => Close::ParseError,
                        other => panic!("0.3 end reason {other:?}"),
                    };
                    if s.close == Close::Fin {
                        s.established = true;
                    }
                    if pkt.is_some_and(|p| p.seen.tuple == t) {
                        closed_now = Some(i);
                    }
                }
                _ => {}
            }
        }
        let p = pkt.filter(|p| p.seen.tuple.proto == self.proto)?;
        self.open.get(&p.seen.tuple).copied().or(closed_now)
    }
}

/// The 0.3 tracker configuration: the default timeouts (TCP 300 s, UDP
/// 60 s, other 30 s — flowscope's defaults too) and room for every flow.
pub fn tracker_config() -> FlowTrackerConfig {
    let mut c = FlowTrackerConfig::default();
    c.max_flows = 1_000_000;
    c
}

/// The three 0.3 drivers over one capture.
pub struct Oracle {
    line: FlowSessionDriver<FiveTuple, LineParser>,
    frame: FlowSessionDriver<FiveTuple, FrameParser>,
    dgram: FlowDatagramDriver<FiveTuple, HeaderParser>,
    books: [Book; 3],
}

impl std::fmt::Debug for Oracle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oracle").finish_non_exhaustive()
    }
}

fn state_established(state: Option<FlowState>) -> bool {
    matches!(
        state,
        Some(FlowState::Established | FlowState::FinWait | FlowState::ClosingTcp)
    )
}

impl Oracle {
    /// Fresh drivers.
    pub fn new() -> Oracle {
        Oracle {
            line: FlowSessionDriver::with_config(FiveTuple::bidirectional(), tracker_config()),
            frame: FlowSessionDriver::with_config(FiveTuple::bidirectional(), tracker_config()),
            dgram: FlowDatagramDriver::with_config(FiveTuple::bidirectional(), tracker_config()),
            books: [
                Book::new(Kind::Line, 6),
                Book::new(Kind::Frame, 6),
                Book::new(Kind::Dgram, 17),
            ],
        }
    }

    /// One frame (packet number `seq`), with what [`extract`] made of it.
    pub fn packet(&mut self, seq: u64, frame: &[u8], ts_ns: u64, pkt: Option<&OraclePacket>) {
        let view = PacketView::new(frame, ts03(ts_ns));
        let evs = [
            self.line.track(view),
            self.frame.track(view),
            self.dgram.track(view),
        ];
        let states = pkt.map(|p| {
            [
                self.line.tracker().get(&p.key).map(|e| e.state),
                self.frame.tracker().get(&p.key).map(|e| e.state),
                self.dgram.tracker().get(&p.key).map(|e| e.state),
            ]
        });
        for (k, ev) in evs.into_iter().enumerate() {
            let book = &mut self.books[k];
            if let Some(i) = book.absorb(ev, pkt, false) {
                let p = pkt.expect("a packet's session");
                let s = &mut book.all[i];
                s.packets.push(seq);
                if p.flags & 0x01 != 0 {
                    s.fins[p.seen.from] += 1;
                }
                if states.is_some_and(|st| state_established(st[k])) {
                    s.established = true;
                }
                s.closing = states.is_some_and(|st| st[k] == Some(FlowState::ClosingTcp));
            }
        }
    }

    /// The idle sweep at packet time `now_ns`; `last` for the sweeps after
    /// the last packet.
    pub fn sweep(&mut self, now_ns: u64, last: bool) {
        let now = ts03(now_ns);
        let evs = [
            self.line.sweep(now),
            self.frame.sweep(now),
            self.dgram.sweep(now),
        ];
        for (k, ev) in evs.into_iter().enumerate() {
            self.books[k].absorb(ev, None, last);
        }
    }

    /// End of input: a sweep at the last packet time (as flowscope fires
    /// its timers at `finish`), then one in the far future that ends every
    /// flow left (0.3 has no flush); returns every session.
    pub fn finish(mut self, now_ns: u64) -> Vec<Sess> {
        self.sweep(now_ns, false);
        self.sweep(u64::from(u32::MAX) * 1_000_000_000 + 999_999_999, true);
        let mut out = Vec::new();
        for b in self.books {
            assert!(b.open.is_empty(), "0.3 left flows open");
            out.extend(b.all);
        }
        out
    }
}
