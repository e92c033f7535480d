//! The normal form both runs are brought to before comparison: a
//! [`Sess`] per flow (canonical 5-tuple, initiator, close, messages per
//! endpoint, and the facts the exceptions test), and the per-packet
//! [`Evidence`] of what each crate's decoder made of a capture.

use std::collections::HashMap;
use std::net::IpAddr;

/// An endpoint: address and port.
pub type Ep = (IpAddr, u16);

/// A canonical 5-tuple: the lower endpoint first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tuple {
    /// IP protocol number (6 or 17 here).
    pub proto: u8,
    /// The lower endpoint (index 0).
    pub lo: Ep,
    /// The higher endpoint (index 1).
    pub hi: Ep,
}

impl Tuple {
    /// The tuple of a packet or flow from `a` to `b`, and the index of `a`.
    pub fn new(proto: u8, a: Ep, b: Ep) -> (Tuple, usize) {
        if a <= b {
            (
                Tuple {
                    proto,
                    lo: a,
                    hi: b,
                },
                0,
            )
        } else {
            (
                Tuple {
                    proto,
                    lo: b,
                    hi: a,
                },
                1,
            )
        }
    }

    /// The endpoint at index `i`.
    pub fn ep(&self, i: usize) -> Ep {
        if i == 0 { self.lo } else { self.hi }
    }
}

impl std::fmt::Display for Tuple {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = match self.proto {
            6 => "tcp",
            17 => "udp",
            _ => "ip",
        };
        write!(
            f,
            "{p} {}:{} <> {}:{}",
            self.lo.0, self.lo.1, self.hi.0, self.hi.1
        )
    }
}

/// Why a flow ended, in the words common to both crates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Close {
    /// FIN exchange.
    Fin,
    /// Reset.
    Rst,
    /// Idle timeout while packets were still being read.
    Idle,
    /// End of input: flowscope's `Shutdown`, 0.3's `IdleTimeout` from the
    /// sweeps after the last packet.
    End,
    /// Evicted from a full table.
    Evicted,
    /// Reassembly buffer overflow.
    Overflow,
    /// Parser poisoned.
    ParseError,
    /// Still open when the run stopped (neither crate should leave one).
    Open,
}

/// Which parser a session ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// [`LineParser`](super::parsers::LineParser) on TCP.
    Line,
    /// [`FrameParser`](super::parsers::FrameParser) on TCP.
    Frame,
    /// [`HeaderParser`](super::parsers::HeaderParser) on UDP.
    Dgram,
}

/// Reassembly irregularities flowscope counted for one endpoint's stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Disorder {
    /// Retransmitted segments.
    pub retransmits: u64,
    /// Segments that arrived before earlier bytes.
    pub out_of_order: u64,
    /// Bytes never seen.
    pub gap_bytes: u64,
    /// Overlapping segments.
    pub overlaps: u64,
}

impl Disorder {
    /// Any irregularity at all.
    pub fn any(&self) -> bool {
        self.retransmits + self.out_of_order + self.gap_bytes + self.overlaps > 0
    }
}

/// One flow of one run, normalised.
#[derive(Debug, Clone)]
pub struct Sess {
    /// The parser it ran.
    pub kind: Kind,
    /// Its canonical tuple.
    pub tuple: Tuple,
    /// Index (into the tuple) of the initiator.
    pub initiator: usize,
    /// First packet time, nanoseconds.
    pub start: u64,
    /// End time, nanoseconds.
    pub end: u64,
    /// Why it ended.
    pub close: Close,
    /// Messages per sending endpoint (index into the tuple), in order.
    pub msgs: [Vec<String>; 2],
    /// flowscope: reassembly irregularities per endpoint.
    pub disorder: [Disorder; 2],
    /// flowscope: Zeek-style history.
    pub history: String,
    /// 0.3: the flow reached `Established` (a 3-way handshake seen).
    pub established: bool,
    /// 0.3: FIN segments sent per endpoint.
    pub fins: [u32; 2],
    /// 0.3: its last packet left it in `ClosingTcp` (two FINs counted,
    /// the ACK that closes it not seen yet).
    pub closing: bool,
    /// The TCP flags of the flow's first packet (0 for UDP).
    pub first_flags: u8,
    /// The ports of the flow's first packet, sender's first.
    pub first_ports: (u16, u16),
    /// The packet numbers of the flow (0.3 only; for evidence).
    pub packets: Vec<u64>,
}

impl Sess {
    /// A fresh session.
    pub fn new(kind: Kind, tuple: Tuple, initiator: usize, start: u64) -> Sess {
        Sess {
            kind,
            tuple,
            initiator,
            start,
            end: start,
            close: Close::Open,
            msgs: [Vec::new(), Vec::new()],
            disorder: [Disorder::default(); 2],
            history: String::new(),
            established: false,
            fins: [0; 2],
            closing: false,
            first_flags: 0,
            first_ports: (0, 0),
            packets: Vec::new(),
        }
    }

    /// A message from the initiator's side (`true`) or the responder's,
    /// filed under the endpoint that sent it.
    pub fn push(&mut self, from_initiator: bool, message: String) {
        let ep = if from_initiator {
            self.initiator
        } else {
            1 - self.initiator
        };
        self.msgs[ep].push(message);
    }
}

/// What each decoder made of one packet: its tuple and sender index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// The packet's tuple.
    pub tuple: Tuple,
    /// Index of the sender in it.
    pub from: usize,
}

/// Why flowscope's decoder and 0.3's saw a packet differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Blind {
    /// flowscope read a TCP/UDP packet 0.3's extractor did not (MPLS,
    /// PPPoE, a truncated capture, an IPv6 header 0.3 does not walk...).
    OracleMissed,
    /// 0.3 read a TCP/UDP packet that flowscope's decoder rejected.
    FlowscopeRejected,
    /// Both read it, with different tuples.
    Disagree,
}

/// Per capture: per tuple, the packets one decoder read and the other did
/// not; per packet, its timestamp and the packet clock it was read at.
#[derive(Debug, Default)]
pub struct Evidence {
    /// Tuple → kind of blindness → the packets' timestamps.
    pub blind: HashMap<Tuple, HashMap<Blind, Vec<u64>>>,
    /// Per packet number: its own timestamp and the packet clock (the
    /// largest timestamp so far, this one's included), nanoseconds.
    pub times: Vec<(u64, u64)>,
    /// The packet clock at the end of the capture, nanoseconds.
    pub final_clock: u64,
}

impl Evidence {
    /// Records the next packet's timestamp and the packet clock.
    pub fn time(&mut self, ts: u64, clock: u64) {
        self.times.push((ts, clock));
    }

    /// Packet `seq`'s own timestamp.
    pub fn ts(&self, seq: u64) -> u64 {
        self.times[seq as usize].0
    }

    /// The packet clock when packet `seq` was read.
    pub fn clock(&self, seq: u64) -> u64 {
        self.times[seq as usize].1
    }

    /// Records one packet (the one [`Evidence::time`] recorded last) as
    /// the two decoders saw it.
    pub fn note(&mut self, fs: Option<Seen>, oracle: Option<Seen>) {
        let ts = self.times.last().map_or(0, |t| t.0);
        let mut add = |t: Tuple, b: Blind| {
            self.blind
                .entry(t)
                .or_default()
                .entry(b)
                .or_default()
                .push(ts)
        };
        match (fs, oracle) {
            (Some(f), None) => add(f.tuple, Blind::OracleMissed),
            (None, Some(o)) => add(o.tuple, Blind::FlowscopeRejected),
            (Some(f), Some(o)) if f != o => {
                add(f.tuple, Blind::Disagree);
                add(o.tuple, Blind::Disagree);
            }
            _ => {}
        }
    }

    /// Packets of `t` one decoder saw and the other did not, by kind.
    pub fn of(&self, t: &Tuple, b: Blind) -> u64 {
        self.stamps(t, b).len() as u64
    }

    /// The timestamps of the packets of `t` one decoder saw and the other
    /// did not, of one kind.
    pub fn stamps(&self, t: &Tuple, b: Blind) -> &[u64] {
        self.blind
            .get(t)
            .and_then(|m| m.get(&b))
            .map_or(&[], Vec::as_slice)
    }
}
