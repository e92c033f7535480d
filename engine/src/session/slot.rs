//! What the driver holds per flow: the parser or the search for one, the
//! bytes pending while it is chosen, the two directions' reassemblers, and
//! the [`Feeder`] that routes a stream's chunks to the parser (or to the
//! pending list) and runs the selection.

use super::adapters::{DgramParser, StreamParser, StreamRoute};
use super::route::{Candidate, Choice, choose};
use crate::event::AppProto;
use crate::hook::HookItem;
use crate::reassembly::{Chunk, Memory, Reassembler};
use crate::stats::SessionCounters;
use crate::timestamp::Timestamp;
use crate::vocab::FlowSide;

/// The `app_proto` of a flow no parser of its transport takes.
pub(super) const FAILED: &str = "failed";

/// Bytes seen before a parser was chosen, replayed to it once it is.
#[derive(Debug)]
pub(super) enum Pending {
    Data(Vec<u8>),
    /// A UDP payload and its packet time.
    Datagram(Vec<u8>, Timestamp),
    Gap(u64),
    /// The side's FIN was reached.
    Fin,
}

/// The search for a flow's parser.
pub(super) struct Probing {
    /// Registration indexes still in the running, in priority order.
    pub(super) cands: Vec<Candidate>,
    pub(super) pending: Vec<(FlowSide, Pending)>,
    /// Contiguous leading bytes per side, for the probes.
    pub(super) sample: [Vec<u8>; 2],
    pub(super) datagrams: u32,
}

impl Probing {
    /// A search among `cands` that has seen nothing yet.
    pub(super) fn new(cands: Vec<Candidate>) -> Self {
        Probing {
            cands,
            pending: Vec::new(),
            sample: [Vec::new(), Vec::new()],
            datagrams: 0,
        }
    }
}

/// A flow's parser, or the search for one (boxed: most flows never probe).
pub(super) enum Parser<M> {
    Probing(Box<Probing>),
    Stream(Box<dyn StreamParser<M>>),
    Dgram(Box<dyn DgramParser<M>>),
}

/// What a flow with payload holds.
pub(super) struct FlowApp<M> {
    /// The two directions' reassemblers (TCP only; boxed so UDP flows and
    /// TCP flows before their first byte stay small).
    pub(super) streams: Streams,
    pub(super) parser: Parser<M>,
    pub(super) inconsistent_reported: [bool; 2],
    /// The chosen route's name, or `failed`.
    pub(super) proto: Option<&'static str>,
    /// A TCP flow (else UDP).
    pub(super) tcp: bool,
    /// What the parser is told of acknowledgements.
    pub(super) acks: Acks,
}

/// What a flow's parser is told of acknowledgements.
pub(super) struct Acks {
    /// The parser still wants to hear of them (until it first says no).
    pub(super) wanted: bool,
    /// The last acknowledgement number of each side's stream seen while
    /// the parser was being chosen: told to it once it is.
    pub(super) before: [Option<u32>; 2],
}

impl Default for Acks {
    fn default() -> Self {
        Acks {
            wanted: true,
            before: [None; 2],
        }
    }
}

impl<M> FlowApp<M> {
    /// A flow's state with this parser (or search for one): no stream yet,
    /// nothing reported, acknowledgements wanted.
    pub(super) fn boxed(parser: Parser<M>, proto: Option<&'static str>, tcp: bool) -> Box<Self> {
        Box::new(FlowApp {
            streams: Streams::default(),
            parser,
            inconsistent_reported: [false; 2],
            proto,
            tcp,
            acks: Acks::default(),
        })
    }

    /// The flow's application protocol: the chosen route's name, or the
    /// protocol its parser handed over to.
    pub(super) fn app_proto(&self) -> Option<AppProto> {
        let now = match &self.parser {
            Parser::Stream(p) => p.app_proto(),
            _ => None,
        };
        match (self.proto, now) {
            (Some(route), Some(now)) if now.name != route => Some(AppProto {
                orig: now.orig.or(Some(route)),
                ..now
            }),
            (Some(route), _) => Some(AppProto::from(route)),
            // A route without a name: what its parser found, if anything.
            (None, now) => now,
        }
    }

    /// Tells the parser that `side`'s stream was acknowledged as far as
    /// `ack` (a wire acknowledgement number) says, while it wants to know.
    pub(super) fn acked(
        &mut self,
        side: FlowSide,
        ack: u32,
        ts: Timestamp,
        out: &mut Vec<HookItem<M>>,
    ) {
        tell_acked(
            &mut self.acks,
            &mut self.parser,
            &self.streams,
            side,
            ack,
            ts,
            out,
        );
    }
}

/// [`FlowApp::acked`] on the parts of a [`FlowApp`].
pub(super) fn tell_acked<M>(
    acks: &mut Acks,
    parser: &mut Parser<M>,
    streams: &Streams,
    side: FlowSide,
    ack: u32,
    ts: Timestamp,
    out: &mut Vec<HookItem<M>>,
) {
    if !acks.wanted {
        return;
    }
    match parser {
        Parser::Stream(p) => {
            if let Some(offset) = streams.get(side.index()).and_then(|s| s.ack_offset(ack)) {
                acks.wanted = p.acked(side, offset, ts, out);
            }
        }
        Parser::Probing(_) => acks.before[side.index()] = Some(ack),
        Parser::Dgram(_) => {}
    }
}

/// A parser was just chosen: it hears the acknowledgements seen while it
/// was being chosen.
pub(super) fn tell_chosen<M>(
    acks: &mut Acks,
    parser: &mut Parser<M>,
    streams: &Streams,
    ts: Timestamp,
    out: &mut Vec<HookItem<M>>,
) {
    for side in [FlowSide::Initiator, FlowSide::Responder] {
        if let Some(ack) = acks.before[side.index()].take() {
            tell_acked(acks, parser, streams, side, ack, ts, out);
        }
    }
}

/// A TCP flow's reassemblers, initiator then responder, each created on its
/// side's first payload byte.
#[derive(Default)]
pub(super) struct Streams(pub(super) Option<Box<[Option<Reassembler>; 2]>>);

impl Streams {
    pub(super) fn get(&self, k: usize) -> Option<&Reassembler> {
        self.0.as_ref().and_then(|s| s[k].as_ref())
    }
    pub(super) fn get_mut(&mut self, k: usize) -> Option<&mut Reassembler> {
        self.0.as_mut().and_then(|s| s[k].as_mut())
    }
    pub(super) fn slot_mut(&mut self, k: usize) -> &mut Option<Reassembler> {
        &mut self.0.get_or_insert_with(|| Box::new([None, None]))[k]
    }
    /// `(side index, reassembler)` for each side that has one.
    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut Reassembler)> {
        self.0
            .iter_mut()
            .flat_map(|s| s.iter_mut().enumerate())
            .filter_map(|(k, r)| r.as_mut().map(|r| (k, r)))
    }
    pub(super) fn iter(&self) -> impl Iterator<Item = (usize, &Reassembler)> {
        self.0
            .iter()
            .flat_map(|s| s.iter().enumerate())
            .filter_map(|(k, r)| r.as_ref().map(|r| (k, r)))
    }
}

/// Per-slot state, kept small (24 bytes) for flows that never carry
/// payload: one per flow table slot.
pub(super) struct Slot<M> {
    pub(super) app: Option<Box<FlowApp<M>>>,
    /// Each side's initial sequence number, when its SYN was seen.
    isn: [u32; 2],
    /// The flow's `app_proto`, kept when `app` is retired.
    proto: ProtoId,
    /// [`Slot::DONE`], [`Slot::ISN`] per side.
    flags: u8,
}

impl<M> Default for Slot<M> {
    fn default() -> Self {
        Slot {
            app: None,
            isn: [0; 2],
            proto: ProtoId::NONE,
            flags: 0,
        }
    }
}

impl<M> Slot<M> {
    const DONE: u8 = 1;
    const ISN: [u8; 2] = [2, 4];

    /// Nothing more to do for this flow (no parser, poisoned, dropped).
    pub(super) fn done(&self) -> bool {
        self.flags & Self::DONE != 0
    }

    pub(super) fn set_done(&mut self) {
        self.flags |= Self::DONE;
    }

    /// Side `k`'s initial sequence number, if its SYN was seen.
    pub(super) fn isn(&self, k: usize) -> Option<u32> {
        (self.flags & Self::ISN[k] != 0).then_some(self.isn[k])
    }

    pub(super) fn set_isn(&mut self, k: usize, isn: u32) {
        self.isn[k] = isn;
        self.flags |= Self::ISN[k];
    }

    /// The `app_proto` kept when the flow's parser was retired.
    pub(super) fn proto(&self, protos: &AppProtos) -> Option<AppProto> {
        protos.get(self.proto)
    }

    pub(super) fn set_proto(&mut self, protos: &mut AppProtos, proto: Option<AppProto>) {
        self.proto = protos.id(proto);
    }
}

/// An interned [`AppProto`]: an index into [`AppProtos`] (0: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ProtoId(u16);

impl ProtoId {
    const NONE: ProtoId = ProtoId(0);
}

/// The distinct `app_proto` values of retired flows (route names, the
/// protocols parsers hand over to, `failed`: a handful), so a slot keeps
/// one in two bytes instead of 32.
#[derive(Debug, Default)]
pub(super) struct AppProtos(Vec<AppProto>);

impl AppProtos {
    /// `proto`'s id, interning it. Past 65 535 distinct values (parsers
    /// that make up names at run time) a new one is kept as none.
    fn id(&mut self, proto: Option<AppProto>) -> ProtoId {
        let Some(p) = proto else {
            return ProtoId::NONE;
        };
        if let Some(i) = self.0.iter().position(|q| *q == p) {
            return ProtoId(i as u16 + 1);
        }
        match u16::try_from(self.0.len() + 1) {
            Ok(id) => {
                self.0.push(p);
                ProtoId(id)
            }
            Err(_) => ProtoId::NONE,
        }
    }

    fn get(&self, id: ProtoId) -> Option<AppProto> {
        self.0.get(usize::from(id.0).checked_sub(1)?).copied()
    }
}

pub(super) fn side_of(k: usize) -> FlowSide {
    if k == 0 {
        FlowSide::Initiator
    } else {
        FlowSide::Responder
    }
}

/// Where a chunk of a stream goes: the parser, or the pending list while
/// the parser is still being chosen.
pub(super) struct Feeder<'a, K, M> {
    pub(super) key: &'a K,
    pub(super) routes: &'a mut [StreamRoute<K, M>],
    pub(super) probe_bytes: usize,
    pub(super) items: &'a mut Vec<HookItem<M>>,
    pub(super) counters: &'a mut SessionCounters,
    /// The flow has no parser and never will.
    pub(super) unclassified: bool,
    /// Packet time, told to the parser before each call.
    pub(super) ts: Timestamp,
    /// The parser was called during this packet (so its poison state is
    /// worth checking).
    pub(super) fed: bool,
    /// The name of the route chosen during this call (`failed` when none
    /// will be).
    pub(super) chosen: Option<&'static str>,
    /// Protocol anomalies a parser made here reports, at most.
    pub(super) max_events: u32,
}

impl<K, M> Feeder<'_, K, M> {
    pub(super) fn chunk(&mut self, parser: &mut Parser<M>, side: FlowSide, chunk: Chunk<'_>) {
        match parser {
            Parser::Stream(p) => {
                self.fed = true;
                match chunk {
                    Chunk::Data(b) => p.feed(side, b, self.ts, self.items),
                    Chunk::Gap(n) => p.gap(side, n, self.ts, self.items),
                }
            }
            Parser::Probing(pr) => {
                let Probing {
                    pending, sample, ..
                } = &mut **pr;
                if let Chunk::Data(b) = chunk
                    && pending.is_empty()
                    && sample.iter().all(Vec::is_empty)
                {
                    // The flow's first bytes are probed where they lie, and
                    // copied only when the choice has to wait for more.
                    self.decide_on(parser, false, Some((side, b)));
                    return;
                }
                let s = &mut sample[side.index()];
                match chunk {
                    Chunk::Data(b) => {
                        if s.len() < self.probe_bytes {
                            let room = self.probe_bytes - s.len();
                            s.extend_from_slice(&b[..b.len().min(room)]);
                        }
                        pending.push((side, Pending::Data(b.to_vec())));
                    }
                    // Probes only ever see bytes from the stream start.
                    Chunk::Gap(n) => {
                        s.truncate(0);
                        s.shrink_to_fit();
                        pending.push((side, Pending::Gap(n)));
                    }
                }
                self.decide(parser, false);
            }
            Parser::Dgram(_) => {}
        }
    }

    /// `side`'s FIN was reached in its stream.
    pub(super) fn eof(&mut self, parser: &mut Parser<M>, side: FlowSide) {
        match parser {
            Parser::Stream(p) => {
                self.fed = true;
                p.eof(side, self.ts, self.items);
            }
            Parser::Probing(pr) => pr.pending.push((side, Pending::Fin)),
            Parser::Dgram(_) => {}
        }
    }

    /// The flow is over (or reset): each side's held bytes go to the
    /// parser with their gaps, then its FIN if one was seen.
    pub(super) fn flush_streams(
        &mut self,
        streams: &mut Streams,
        parser: &mut Parser<M>,
        mem: &mut Memory,
    ) {
        for (k, s) in streams.iter_mut() {
            let side = side_of(k);
            s.flush(mem, &mut |c| self.chunk(parser, side, c));
            if s.take_fin() {
                self.eof(parser, side);
            }
        }
    }

    /// Runs a selection round; on a choice, builds the parser and replays
    /// what was pending.
    pub(super) fn decide(&mut self, parser: &mut Parser<M>, force: bool) {
        self.decide_on(parser, force, None);
    }

    /// [`Feeder::decide`], with a side's first bytes not yet buffered
    /// (`first`; nothing is pending then): the probes see them in place,
    /// the chosen parser is fed them, and they are buffered only when the
    /// choice waits.
    fn decide_on(&mut self, parser: &mut Parser<M>, force: bool, first: Option<(FlowSide, &[u8])>) {
        let Parser::Probing(pr) = parser else {
            return;
        };
        let Probing {
            cands,
            pending,
            sample,
            ..
        } = &mut **pr;
        let sample_side = if let Some((side, b)) = first {
            Some((&b[..b.len().min(self.probe_bytes)], side))
        } else if !sample[0].is_empty() {
            Some((&sample[0][..], FlowSide::Initiator))
        } else if !sample[1].is_empty() {
            Some((&sample[1][..], FlowSide::Responder))
        } else {
            None
        };
        let full = sample_side.is_some_and(|(s, _)| s.len() >= self.probe_bytes)
            || sample.iter().any(|s| s.len() >= self.probe_bytes);
        let routes = &*self.routes;
        let route_of = |c: u16| &routes[usize::from(c)].0;
        match choose(route_of, cands, sample_side, force || full) {
            Choice::Wait => {
                if let Some((side, b)) = first {
                    sample[side.index()].extend_from_slice(&b[..b.len().min(self.probe_bytes)]);
                    pending.push((side, Pending::Data(b.to_vec())));
                }
            }
            Choice::Nothing => {
                self.unclassified = true;
                self.chosen = Some(FAILED);
                pending.clear();
            }
            Choice::Take(c) => {
                self.chosen = self.routes[usize::from(c)].0.name;
                let mut p = self.routes[usize::from(c)]
                    .1
                    .make(self.key, self.max_events);
                self.counters.flows_parsed += 1;
                self.fed = true;
                for (side, item) in pending.drain(..) {
                    match item {
                        Pending::Data(b) => p.feed(side, &b, self.ts, self.items),
                        Pending::Gap(n) => p.gap(side, n, self.ts, self.items),
                        Pending::Fin => p.eof(side, self.ts, self.items),
                        Pending::Datagram(..) => {}
                    }
                }
                if let Some((side, b)) = first {
                    p.feed(side, b, self.ts, self.items);
                }
                *parser = Parser::Stream(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::NoMessage;

    #[test]
    fn a_slot_is_24_bytes_and_keeps_what_it_is_told() {
        assert_eq!(size_of::<Slot<NoMessage>>(), 24);
        let mut protos = AppProtos::default();
        let mut slot = Slot::<NoMessage>::default();
        assert!(!slot.done());
        assert_eq!((slot.isn(0), slot.isn(1)), (None, None));
        assert_eq!(slot.proto(&protos), None);
        slot.set_isn(1, 0);
        assert_eq!((slot.isn(0), slot.isn(1)), (None, Some(0)));
        slot.set_isn(0, u32::MAX);
        slot.set_done();
        assert!(slot.done());
        assert_eq!((slot.isn(0), slot.isn(1)), (Some(u32::MAX), Some(0)));

        let tunnel = AppProto {
            name: "tls",
            orig: Some("http"),
        };
        slot.set_proto(&mut protos, Some(tunnel));
        assert_eq!(slot.proto(&protos), Some(tunnel));
        // Interned once; a different value gets its own id.
        let mut other = Slot::<NoMessage>::default();
        other.set_proto(&mut protos, Some(tunnel));
        other.set_proto(&mut protos, Some(AppProto::from("failed")));
        assert_eq!(other.proto(&protos), Some(AppProto::from("failed")));
        assert_eq!(slot.proto(&protos), Some(tunnel));
        assert_eq!(protos.0.len(), 2);
        other.set_proto(&mut protos, None);
        assert_eq!(other.proto(&protos), None);
    }
}
