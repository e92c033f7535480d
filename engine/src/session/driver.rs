//! [`Sessions`]: the [`FlowHook`] that runs parsers. Per flow it picks a
//! parser (port hints, then content probes of the first bytes), reassembles
//! each TCP direction, feeds the parser in stream order with gaps, FINs and
//! RSTs, ends the flow when the parser poisons or a `DropFlow` cap is hit,
//! and reports every cap hit and inconsistent overlap as an anomaly.

use super::{
    DatagramParser, DatagramParserFactory, SessionParser, SessionParserFactory, cut_reason,
};
use crate::event::{AnomalyKind, FlowStats, SideStats};
use crate::hook::{FlowHook, HookFlow, HookItem, HookPacket, Verdict};
use crate::reassembly::{Chunk, Memory, Reassembler, ReassemblyConfig, StreamCounters};
use crate::stats::{SessionCounters, add_counters};
use crate::timestamp::Timestamp;
use crate::vocab::{EndReason, FlowSide};
use crate::wire::ipproto;
use crate::wire::transport::tcp_flags;
use std::sync::Arc;

/// A content probe's answer about the first bytes of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// This parser's protocol.
    Certain,
    /// Not this parser's protocol.
    No,
    /// Cannot tell yet: show me more bytes.
    NeedMore,
}

type ProbeFn = Arc<dyn Fn(&[u8], FlowSide) -> Probe + Send + Sync>;

/// Which flows a parser is offered: port hints and an optional content
/// probe.
///
/// Selection per flow: registrations whose port matches either endpoint
/// come first, then the others, each group in registration order. The
/// first registration that does not answer [`Probe::No`] decides: without
/// a probe it is taken when its port matched (or it lists no ports at all:
/// [`Route::any`]); with a probe, `Certain` takes it and `NeedMore` waits
/// for more bytes. When the probe buffer is full (or the flow ends) the
/// first remaining port-matched registration is taken; otherwise the flow
/// runs without a parser.
#[derive(Clone)]
pub struct Route {
    ports: Vec<u16>,
    probe: Option<ProbeFn>,
    /// Offered only to flows with one of `ports` (see [`Route::only_ports`]).
    only_ports: bool,
    /// The protocol's name, reported as the flow's `app_proto`.
    name: Option<&'static str>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("ports", &self.ports)
            .field("probe", &self.probe.is_some())
            .field("only_ports", &self.only_ports)
            .field("name", &self.name)
            .finish()
    }
}

impl Route {
    /// Every flow of the protocol.
    pub fn any() -> Self {
        Route {
            ports: Vec::new(),
            probe: None,
            only_ports: false,
            name: None,
        }
    }

    /// Flows with one of these ports at either end (unless a probe says
    /// otherwise).
    pub fn ports(ports: impl IntoIterator<Item = u16>) -> Self {
        Route {
            ports: ports.into_iter().collect(),
            probe: None,
            only_ports: false,
            name: None,
        }
    }

    /// Adds a content probe, shown the first bytes (TCP: the first
    /// reassembled bytes of the first side to send; UDP: each datagram
    /// until one decides) and the side that sent them.
    pub fn probe(
        mut self,
        probe: impl Fn(&[u8], FlowSide) -> Probe + Send + Sync + 'static,
    ) -> Self {
        self.probe = Some(Arc::new(probe));
        self
    }

    /// Offers the parser to flows with one of the route's ports only (the
    /// probe then confirms rather than discovers): for protocols whose
    /// content check alone would claim unrelated traffic.
    pub fn only_ports(mut self) -> Self {
        self.only_ports = true;
        self
    }

    /// Names the protocol: flows given this parser report it in
    /// [`FlowStats::app_proto`] (`failed` is used for flows with payload
    /// that no parser took).
    pub fn named(mut self, name: &'static str) -> Self {
        self.name = Some(name);
        self
    }

    fn port_matches(&self, ports: (u16, u16)) -> bool {
        self.ports.contains(&ports.0) || self.ports.contains(&ports.1)
    }

    /// Taken without looking at a byte: no probe, and every port or a
    /// matching one.
    fn certain_without_bytes(&self, ports: (u16, u16)) -> bool {
        self.probe.is_none() && (self.ports.is_empty() || self.port_matches(ports))
    }
}

/// An object-safe view of a [`SessionParser`] whose messages convert to `M`.
/// Each call first tells the parser the packet time (a no-op that compiles
/// away for parsers that keep the default), so it costs one dynamic call.
trait StreamParser<M>: Send {
    fn feed(&mut self, side: FlowSide, bytes: &[u8], ts: Timestamp, out: &mut Vec<HookItem<M>>);
    fn gap(&mut self, side: FlowSide, len: u64, ts: Timestamp, out: &mut Vec<HookItem<M>>);
    fn fin(&mut self, side: FlowSide, ts: Timestamp, out: &mut Vec<HookItem<M>>);
    fn rst(&mut self, side: FlowSide, ts: Timestamp);
    fn end(&mut self, ts: Timestamp, out: &mut Vec<HookItem<M>>);
    fn poisoned(&self) -> Option<Box<str>>;
}

struct StreamAdapter<P>(P);

#[inline]
fn push_all<T: Into<M>, M>(side: FlowSide, msgs: Vec<T>, out: &mut Vec<HookItem<M>>) {
    if !msgs.is_empty() {
        out.extend(msgs.into_iter().map(|m| HookItem::Message(side, m.into())));
    }
}

fn reason_of(reason: Option<&str>) -> Box<str> {
    cut_reason(reason.unwrap_or("parser poisoned"))
}

impl<P, M> StreamParser<M> for StreamAdapter<P>
where
    P: SessionParser,
    P::Message: Into<M>,
{
    fn feed(&mut self, side: FlowSide, bytes: &[u8], ts: Timestamp, out: &mut Vec<HookItem<M>>) {
        self.0.packet_time(ts);
        let msgs = match side {
            FlowSide::Initiator => self.0.feed_initiator(bytes),
            FlowSide::Responder => self.0.feed_responder(bytes),
        };
        push_all(side, msgs, out);
    }
    fn gap(&mut self, side: FlowSide, len: u64, ts: Timestamp, out: &mut Vec<HookItem<M>>) {
        self.0.packet_time(ts);
        let msgs = match side {
            FlowSide::Initiator => self.0.gap_initiator(len),
            FlowSide::Responder => self.0.gap_responder(len),
        };
        push_all(side, msgs, out);
    }
    fn fin(&mut self, side: FlowSide, ts: Timestamp, out: &mut Vec<HookItem<M>>) {
        self.0.packet_time(ts);
        let msgs = match side {
            FlowSide::Initiator => self.0.fin_initiator(),
            FlowSide::Responder => self.0.fin_responder(),
        };
        push_all(side, msgs, out);
    }
    fn rst(&mut self, side: FlowSide, ts: Timestamp) {
        self.0.packet_time(ts);
        match side {
            FlowSide::Initiator => self.0.rst_initiator(),
            FlowSide::Responder => self.0.rst_responder(),
        }
    }
    fn end(&mut self, ts: Timestamp, out: &mut Vec<HookItem<M>>) {
        self.0.packet_time(ts);
        // End-of-flow messages belong to no side; they are given to the
        // initiator's.
        push_all(FlowSide::Initiator, self.0.flow_end(), out);
    }
    fn poisoned(&self) -> Option<Box<str>> {
        self.0
            .is_poisoned()
            .then(|| reason_of(self.0.poison_reason()))
    }
}

trait DgramParser<M>: Send {
    fn parse(&mut self, side: FlowSide, payload: &[u8], ts: Timestamp, out: &mut Vec<HookItem<M>>);
    fn end(&mut self, ts: Timestamp, out: &mut Vec<HookItem<M>>);
    fn poisoned(&self) -> Option<Box<str>>;
}

struct DgramAdapter<P>(P);

impl<P, M> DgramParser<M> for DgramAdapter<P>
where
    P: DatagramParser,
    P::Message: Into<M>,
{
    fn parse(&mut self, side: FlowSide, payload: &[u8], ts: Timestamp, out: &mut Vec<HookItem<M>>) {
        self.0.packet_time(ts);
        push_all(side, self.0.parse(payload, side), out);
    }
    fn end(&mut self, ts: Timestamp, out: &mut Vec<HookItem<M>>) {
        self.0.packet_time(ts);
        push_all(FlowSide::Initiator, self.0.flow_end(), out);
    }
    fn poisoned(&self) -> Option<Box<str>> {
        self.0
            .is_poisoned()
            .then(|| reason_of(self.0.poison_reason()))
    }
}

trait MakeStream<K, M>: Send {
    fn make(&mut self, key: &K) -> Box<dyn StreamParser<M>>;
}

trait MakeDgram<K, M>: Send {
    fn make(&mut self, key: &K) -> Box<dyn DgramParser<M>>;
}

/// A TCP registration.
type StreamRoute<K, M> = (Route, Box<dyn MakeStream<K, M>>);
/// A UDP registration.
type DgramRoute<K, M> = (Route, Box<dyn MakeDgram<K, M>>);

struct Factory<F>(F);

impl<K, M, F> MakeStream<K, M> for Factory<F>
where
    F: SessionParserFactory<K>,
    <F::Parser as SessionParser>::Message: Into<M>,
    M: 'static,
{
    fn make(&mut self, key: &K) -> Box<dyn StreamParser<M>> {
        Box::new(StreamAdapter(self.0.new_parser(key)))
    }
}

struct DgramFactory<F>(F);

impl<K, M, F> MakeDgram<K, M> for DgramFactory<F>
where
    F: DatagramParserFactory<K>,
    <F::Parser as DatagramParser>::Message: Into<M>,
    M: 'static,
{
    fn make(&mut self, key: &K) -> Box<dyn DgramParser<M>> {
        Box::new(DgramAdapter(self.0.new_parser(key)))
    }
}

/// Bytes seen before a parser was chosen, replayed to it once it is.
#[derive(Debug)]
enum Pending {
    Data(Vec<u8>),
    /// A UDP payload and its packet time.
    Datagram(Vec<u8>, Timestamp),
    Gap(u64),
    Fin,
}

/// The search for a flow's parser.
struct Probing {
    /// Registration indexes still in the running, in priority order.
    cands: Vec<u16>,
    pending: Vec<(FlowSide, Pending)>,
    /// Contiguous leading bytes per side, for the probes.
    sample: [Vec<u8>; 2],
    datagrams: u32,
}

/// A flow's parser, or the search for one (boxed: most flows never probe).
enum Parser<M> {
    Probing(Box<Probing>),
    Stream(Box<dyn StreamParser<M>>),
    Dgram(Box<dyn DgramParser<M>>),
}

/// What a flow with payload holds.
struct FlowApp<M> {
    /// The initiator's port and the responder's, for port hints.
    ports: (u16, u16),
    /// The two directions' reassemblers (TCP only; boxed so UDP flows and
    /// TCP flows before their first byte stay small).
    streams: Streams,
    parser: Parser<M>,
    inconsistent_reported: [bool; 2],
    /// The chosen route's name, or `failed`.
    proto: Option<&'static str>,
}

/// A TCP flow's reassemblers, initiator then responder, each created on its
/// side's first payload byte.
#[derive(Default)]
struct Streams(Option<Box<[Option<Reassembler>; 2]>>);

impl Streams {
    fn get(&self, k: usize) -> Option<&Reassembler> {
        self.0.as_ref().and_then(|s| s[k].as_ref())
    }
    fn get_mut(&mut self, k: usize) -> Option<&mut Reassembler> {
        self.0.as_mut().and_then(|s| s[k].as_mut())
    }
    fn slot_mut(&mut self, k: usize) -> &mut Option<Reassembler> {
        &mut self.0.get_or_insert_with(|| Box::new([None, None]))[k]
    }
    /// `(side index, reassembler)` for each side that has one.
    fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut Reassembler)> {
        self.0
            .iter_mut()
            .flat_map(|s| s.iter_mut().enumerate())
            .filter_map(|(k, r)| r.as_mut().map(|r| (k, r)))
    }
    fn iter(&self) -> impl Iterator<Item = (usize, &Reassembler)> {
        self.0
            .iter()
            .flat_map(|s| s.iter().enumerate())
            .filter_map(|(k, r)| r.as_ref().map(|r| (k, r)))
    }
}

/// Per-slot state, kept small for flows that never carry payload.
struct Slot<M> {
    isn: [Option<u32>; 2],
    /// Nothing more to do for this flow (no parser, poisoned, dropped).
    done: bool,
    app: Option<Box<FlowApp<M>>>,
    /// The flow's `app_proto`, kept when `app` is retired.
    proto: Option<&'static str>,
}

impl<M> Default for Slot<M> {
    fn default() -> Self {
        Slot {
            isn: [None; 2],
            done: false,
            app: None,
            proto: None,
        }
    }
}

/// Runs parsers on an engine's flows: register parser factories for TCP
/// ([`SessionParser`]) and UDP ([`DatagramParser`]) with the [`Route`]
/// that selects their flows, then hand it to
/// [`Engine::with_hook`](crate::Engine::with_hook) (or a pipeline builder).
/// `M` is the message type every registered parser's messages convert to
/// (`Into<M>`); with one parser it is simply that parser's message type.
pub struct Sessions<K, M> {
    cfg: ReassemblyConfig,
    tcp: Vec<StreamRoute<K, M>>,
    udp: Vec<DgramRoute<K, M>>,
    slots: Vec<Slot<M>>,
    mem: Memory,
    counters: SessionCounters,
}

impl<K, M> std::fmt::Debug for Sessions<K, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("tcp_routes", &self.tcp.len())
            .field("udp_routes", &self.udp.len())
            .field("counters", &self.counters)
            .finish()
    }
}

fn side_of(k: usize) -> FlowSide {
    if k == 0 {
        FlowSide::Initiator
    } else {
        FlowSide::Responder
    }
}

fn stats_side(stats: &mut FlowStats, k: usize) -> &mut SideStats {
    if k == 0 {
        &mut stats.initiator
    } else {
        &mut stats.responder
    }
}

fn side_ix(side: FlowSide) -> usize {
    match side {
        FlowSide::Initiator => 0,
        FlowSide::Responder => 1,
    }
}

/// The outcome of one selection round.
enum Choice {
    Take(u16),
    Wait,
    Nothing,
}

/// One selection round over `cands` (see [`Route`]). `sample` is what the
/// probes see; `force` ends the waiting.
fn choose<'r>(
    route_of: impl Fn(u16) -> &'r Route,
    cands: &mut Vec<u16>,
    ports: (u16, u16),
    sample: Option<(&[u8], FlowSide)>,
    force: bool,
) -> Choice {
    let mut waiting = false;
    let mut i = 0;
    while i < cands.len() {
        let route = route_of(cands[i]);
        let answer = match (&route.probe, sample) {
            _ if route.certain_without_bytes(ports) => Probe::Certain,
            (None, _) => Probe::No,
            (Some(_), None) => Probe::NeedMore,
            (Some(p), Some((bytes, side))) => p(bytes, side),
        };
        match answer {
            Probe::No => {
                cands.remove(i);
            }
            Probe::Certain if !waiting => return Choice::Take(cands[i]),
            Probe::Certain | Probe::NeedMore => {
                waiting = true;
                i += 1;
            }
        }
    }
    if cands.is_empty() {
        return Choice::Nothing;
    }
    if !force {
        return Choice::Wait;
    }
    match cands.iter().find(|&&c| route_of(c).port_matches(ports)) {
        Some(&c) => Choice::Take(c),
        None => Choice::Nothing,
    }
}

/// Where a chunk of a stream goes: the parser, or the pending list while
/// the parser is still being chosen.
struct Feeder<'a, K, M> {
    key: &'a K,
    ports: (u16, u16),
    routes: &'a mut [StreamRoute<K, M>],
    probe_bytes: usize,
    items: &'a mut Vec<HookItem<M>>,
    counters: &'a mut SessionCounters,
    /// The flow has no parser and never will.
    unclassified: bool,
    /// Packet time, told to the parser before each call.
    ts: Timestamp,
    /// The parser was called during this packet (so its poison state is
    /// worth checking).
    fed: bool,
    /// The name of the route chosen during this call (`failed` when none
    /// will be).
    chosen: Option<&'static str>,
}

impl<K, M> Feeder<'_, K, M> {
    fn chunk(&mut self, parser: &mut Parser<M>, side: FlowSide, chunk: Chunk<'_>) {
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
                let s = &mut sample[side_ix(side)];
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

    fn fin(&mut self, parser: &mut Parser<M>, side: FlowSide) {
        match parser {
            Parser::Stream(p) => {
                self.fed = true;
                p.fin(side, self.ts, self.items);
            }
            Parser::Probing(pr) => pr.pending.push((side, Pending::Fin)),
            Parser::Dgram(_) => {}
        }
    }

    /// The flow is over (or reset): each side's held bytes go to the
    /// parser with their gaps, then its FIN if one was seen.
    fn flush_streams(&mut self, streams: &mut Streams, parser: &mut Parser<M>, mem: &mut Memory) {
        for (k, s) in streams.iter_mut() {
            let side = side_of(k);
            s.flush(mem, &mut |c| self.chunk(parser, side, c));
            if s.take_fin() {
                self.fin(parser, side);
            }
        }
    }

    /// Runs a selection round; on a choice, builds the parser and replays
    /// what was pending.
    fn decide(&mut self, parser: &mut Parser<M>, force: bool) {
        let Parser::Probing(pr) = parser else {
            return;
        };
        let Probing {
            cands,
            pending,
            sample,
            ..
        } = &mut **pr;
        let sample_side = if !sample[0].is_empty() {
            Some((&sample[0][..], FlowSide::Initiator))
        } else if !sample[1].is_empty() {
            Some((&sample[1][..], FlowSide::Responder))
        } else {
            None
        };
        let full = sample.iter().any(|s| s.len() >= self.probe_bytes);
        let routes = &*self.routes;
        let route_of = |c: u16| &routes[usize::from(c)].0;
        match choose(route_of, cands, self.ports, sample_side, force || full) {
            Choice::Wait => {}
            Choice::Nothing => {
                self.unclassified = true;
                self.chosen = Some("failed");
                pending.clear();
            }
            Choice::Take(c) => {
                self.chosen = self.routes[usize::from(c)].0.name;
                let mut p = self.routes[usize::from(c)].1.make(self.key);
                self.counters.flows_parsed += 1;
                self.fed = true;
                for (side, item) in pending.drain(..) {
                    match item {
                        Pending::Data(b) => p.feed(side, &b, self.ts, self.items),
                        Pending::Gap(n) => p.gap(side, n, self.ts, self.items),
                        Pending::Fin => p.fin(side, self.ts, self.items),
                        Pending::Datagram(..) => {}
                    }
                }
                *parser = Parser::Stream(p);
            }
        }
    }
}

impl<K, M> Sessions<K, M> {
    /// A driver with no parsers yet.
    pub fn new(cfg: &ReassemblyConfig) -> Self {
        Sessions {
            cfg: cfg.clone(),
            tcp: Vec::new(),
            udp: Vec::new(),
            slots: Vec::new(),
            mem: Memory::default(),
            counters: SessionCounters::default(),
        }
    }

    /// Registers a stream parser for the TCP flows `route` selects.
    pub fn tcp<F>(mut self, factory: F, route: Route) -> Self
    where
        F: SessionParserFactory<K>,
        <F::Parser as SessionParser>::Message: Into<M>,
        M: 'static,
    {
        assert!(self.tcp.len() < usize::from(u16::MAX), "too many routes");
        self.tcp.push((route, Box::new(Factory(factory))));
        self
    }

    /// Registers a datagram parser for the UDP flows `route` selects.
    pub fn udp<F>(mut self, factory: F, route: Route) -> Self
    where
        F: DatagramParserFactory<K>,
        <F::Parser as DatagramParser>::Message: Into<M>,
        M: 'static,
    {
        assert!(self.udp.len() < usize::from(u16::MAX), "too many routes");
        self.udp.push((route, Box::new(DgramFactory(factory))));
        self
    }

    /// Counters so far (stream counters cover ended flows).
    pub fn counters(&self) -> SessionCounters {
        SessionCounters {
            memory: self.mem,
            ..self.counters
        }
    }

    fn slot(&mut self, idx: u32) -> &mut Slot<M> {
        let i = idx as usize;
        if self.slots.len() <= i {
            self.slots.resize_with(i + 1, Slot::default);
        }
        &mut self.slots[i]
    }

    /// Registration `i` of the TCP or the UDP list.
    fn route(&self, tcp: bool, i: usize) -> &Route {
        if tcp { &self.tcp[i].0 } else { &self.udp[i].0 }
    }

    fn route_count(&self, tcp: bool) -> usize {
        if tcp { self.tcp.len() } else { self.udp.len() }
    }

    /// Priority order of registrations for a flow with these ports: the
    /// port-matched ones first, each group in registration order.
    fn candidates(&self, tcp: bool, ports: (u16, u16)) -> Vec<u16> {
        let n = self.route_count(tcp);
        let mut cands = Vec::with_capacity(n);
        for want in [true, false] {
            cands.extend(
                (0..n)
                    .filter(|&i| {
                        let r = self.route(tcp, i);
                        let matched = r.port_matches(ports);
                        matched == want && (matched || !r.only_ports)
                    })
                    .map(|i| i as u16),
            );
        }
        cands
    }

    /// A flow's state on its first payload. When the parser is already
    /// certain without seeing bytes (no probe, and its port matched or it
    /// takes every flow), it is built now and nothing is buffered.
    fn new_app(&mut self, tcp: bool, ports: (u16, u16), key: &K) -> Box<FlowApp<M>> {
        let n = self.route_count(tcp);
        let first = (0..n)
            .find(|&i| self.route(tcp, i).port_matches(ports))
            .or((n > 0).then_some(0));
        let decided_now = first.filter(|&i| self.route(tcp, i).certain_without_bytes(ports));
        let proto = decided_now.and_then(|i| self.route(tcp, i).name);
        let parser = match decided_now {
            Some(c) => {
                self.counters.flows_parsed += 1;
                if tcp {
                    Parser::Stream(self.tcp[c].1.make(key))
                } else {
                    Parser::Dgram(self.udp[c].1.make(key))
                }
            }
            None => Parser::Probing(Box::new(Probing {
                cands: self.candidates(tcp, ports),
                pending: Vec::new(),
                sample: [Vec::new(), Vec::new()],
                datagrams: 0,
            })),
        };
        Box::new(FlowApp {
            ports,
            streams: Streams::default(),
            parser,
            inconsistent_reported: [false; 2],
            proto,
        })
    }

    /// Stops work on a slot, returning its held bytes to the memcap.
    fn retire(slot: &mut Slot<M>, mem: &mut Memory, counters: &mut SessionCounters) {
        if let Some(app) = slot.app.take() {
            let mut app = app;
            slot.proto = app.proto;
            for (_, s) in app.streams.iter_mut() {
                s.discard(mem);
                add_counters(&mut counters.stream, &s.counters());
            }
        }
        slot.done = true;
    }

    fn on_tcp(&mut self, pkt: &HookPacket<'_, K>, out: &mut Vec<HookItem<M>>) -> Verdict {
        let Some(t) = pkt.tcp else {
            return Verdict::Continue;
        };
        let me = side_ix(pkt.side);
        let has_app = {
            let slot = self.slot(pkt.flow.slot);
            if t.flags & tcp_flags::SYN != 0
                && slot
                    .app
                    .as_ref()
                    .is_none_or(|a| a.streams.get(me).is_none())
            {
                slot.isn[me] = Some(t.seq);
            }
            slot.app.is_some()
        };
        let fin = t.flags & tcp_flags::FIN != 0;
        let rst = t.flags & tcp_flags::RST != 0;
        if pkt.payload.is_empty()
            && t.flags & (tcp_flags::SYN | tcp_flags::FIN | tcp_flags::RST) == 0
        {
            // A pure ACK (the commonest packet): it only moves the mark of
            // what the peer's stream has been acknowledged up to.
            if t.flags & tcp_flags::ACK != 0
                && let Some(app) = self.slots[pkt.flow.slot as usize].app.as_deref_mut()
                && let Some(s) = app.streams.get_mut(1 - me)
            {
                s.acked(t.ack);
            }
            return Verdict::Continue;
        }
        if !has_app {
            if pkt.payload.is_empty() {
                return Verdict::Continue;
            }
            let app = self.new_app(true, pkt.ports, pkt.flow.key);
            self.slot(pkt.flow.slot).app = Some(app);
        }
        let i = pkt.flow.slot as usize;
        let Sessions {
            cfg,
            tcp,
            slots,
            mem,
            counters,
            ..
        } = self;
        let slot = &mut slots[i];
        let Some(app) = slot.app.as_deref_mut() else {
            return Verdict::Continue;
        };
        // The common case in one short path: the next bytes of a stream
        // whose parser is chosen, nothing held, no flag but ACK/PSH, and an
        // acknowledgement that gives up no hole of the peer's.
        if t.flags & (tcp_flags::SYN | tcp_flags::FIN | tcp_flags::RST) == 0
            && let Parser::Stream(p) = &mut app.parser
            && app.streams.get(me).is_some_and(|s| s.is_next(t.seq))
            && (t.flags & tcp_flags::ACK == 0
                || app
                    .streams
                    .get_mut(1 - me)
                    .is_none_or(|s| s.acked_quietly(t.ack)))
            && let Some(s) = app.streams.get_mut(me)
        {
            s.take_in_order(pkt.payload, cfg);
            p.feed(pkt.side, pkt.payload, pkt.ts, out);
            let Some(reason) = p.poisoned() else {
                return Verdict::Continue;
            };
            counters.parser_errors += 1;
            out.push(HookItem::Anomaly(AnomalyKind::ParserPoisoned { reason }));
            Self::retire(slot, mem, counters);
            return Verdict::End(EndReason::ParseError);
        }
        let mut feeder = Feeder {
            key: pkt.flow.key,
            ports: pkt.ports,
            routes: tcp,
            probe_bytes: cfg.probe_bytes.max(1),
            items: out,
            counters,
            unclassified: false,
            ts: pkt.ts,
            fed: false,
            chosen: None,
        };
        let FlowApp {
            streams,
            parser,
            inconsistent_reported,
            proto,
            ..
        } = app;
        let peer = 1 - me;
        // The ACK speaks for the other direction: what it acknowledged and
        // the capture never showed is lost.
        if t.flags & tcp_flags::ACK != 0
            && let Some(s) = streams.get_mut(peer)
        {
            s.acked(t.ack);
            if !pkt.payload.is_empty() || fin {
                let side = pkt.side.other();
                s.peer_moved_on(mem, &mut |c| feeder.chunk(parser, side, c));
            }
        }
        let mut verdict = Verdict::Continue;
        if !pkt.payload.is_empty() || fin {
            let isn = slot.isn[me];
            let stream = streams.slot_mut(me).get_or_insert_with(|| match isn {
                Some(isn) => Reassembler::from_isn(isn),
                None => Reassembler::mid_stream(),
            });
            // Data on a SYN (TCP Fast Open) starts after the SYN's number.
            let seq = if t.flags & tcp_flags::SYN != 0 {
                t.seq.wrapping_add(1)
            } else {
                t.seq
            };
            let side = pkt.side;
            let outcome = stream.segment(seq, pkt.payload, fin, cfg, mem, &mut |c| {
                feeder.chunk(parser, side, c)
            });
            if outcome.inconsistent && !inconsistent_reported[me] {
                inconsistent_reported[me] = true;
                feeder
                    .items
                    .push(HookItem::Anomaly(AnomalyKind::InconsistentOverlap { side }));
            }
            if let Some(cap) = outcome.cap_hit {
                feeder
                    .items
                    .push(HookItem::Anomaly(AnomalyKind::ReassemblyCap { side, cap }));
            }
            if outcome.drop_flow {
                verdict = Verdict::End(EndReason::BufferOverflow);
            }
            if stream.take_fin() {
                feeder.fin(parser, side);
            }
        }
        if rst && verdict == Verdict::Continue {
            // Nothing more will come: what is held goes out now, then the
            // parser hears of the reset.
            feeder.flush_streams(streams, parser, mem);
            if let Parser::Stream(p) = parser {
                feeder.fed = true;
                p.rst(pkt.side, pkt.ts);
            }
        }
        let unclassified = feeder.unclassified;
        if feeder.chosen.is_some() {
            *proto = feeder.chosen;
        }
        let poisoned = match parser {
            Parser::Stream(p) if feeder.fed => p.poisoned(),
            _ => None,
        };
        if let Some(reason) = poisoned {
            counters.parser_errors += 1;
            out.push(HookItem::Anomaly(AnomalyKind::ParserPoisoned { reason }));
            verdict = Verdict::End(EndReason::ParseError);
        }
        if verdict != Verdict::Continue {
            if verdict == Verdict::End(EndReason::BufferOverflow) {
                counters.flows_dropped += 1;
            }
            Self::retire(slot, mem, counters);
        } else if unclassified {
            counters.flows_unclassified += 1;
            Self::retire(slot, mem, counters);
        }
        verdict
    }

    fn on_udp(&mut self, pkt: &HookPacket<'_, K>, out: &mut Vec<HookItem<M>>) -> Verdict {
        if pkt.payload.is_empty() {
            return Verdict::Continue;
        }
        if self.slot(pkt.flow.slot).app.is_none() {
            let app = self.new_app(false, pkt.ports, pkt.flow.key);
            self.slot(pkt.flow.slot).app = Some(app);
        }
        let Sessions {
            cfg,
            udp,
            slots,
            mem,
            counters,
            ..
        } = self;
        let slot = &mut slots[pkt.flow.slot as usize];
        let Some(app) = slot.app.as_deref_mut() else {
            return Verdict::Continue;
        };
        let side = pkt.side;
        if let Parser::Probing(pr) = &mut app.parser {
            let Probing {
                cands,
                pending,
                datagrams,
                ..
            } = &mut **pr;
            *datagrams += 1;
            let force = *datagrams >= cfg.probe_datagrams.max(1);
            let route_of = |c: u16| &udp[usize::from(c)].0;
            match choose(route_of, cands, pkt.ports, Some((pkt.payload, side)), force) {
                Choice::Wait => {
                    pending.push((side, Pending::Datagram(pkt.payload.to_vec(), pkt.ts)));
                    return Verdict::Continue;
                }
                Choice::Nothing => {
                    counters.flows_unclassified += 1;
                    app.proto = Some("failed");
                    Self::retire(slot, mem, counters);
                    return Verdict::Continue;
                }
                Choice::Take(c) => {
                    app.proto = udp[usize::from(c)].0.name;
                    let mut p = udp[usize::from(c)].1.make(pkt.flow.key);
                    counters.flows_parsed += 1;
                    for (s, item) in pending.drain(..) {
                        if let Pending::Datagram(b, ts) = item {
                            p.parse(s, &b, ts, out);
                        }
                    }
                    app.parser = Parser::Dgram(p);
                }
            }
        }
        let Parser::Dgram(p) = &mut app.parser else {
            return Verdict::Continue;
        };
        p.parse(side, pkt.payload, pkt.ts, out);
        if let Some(reason) = p.poisoned() {
            counters.parser_errors += 1;
            out.push(HookItem::Anomaly(AnomalyKind::ParserPoisoned { reason }));
            Self::retire(slot, mem, counters);
            return Verdict::End(EndReason::ParseError);
        }
        Verdict::Continue
    }
}

fn fill_side(stats: &mut SideStats, c: &StreamCounters) {
    stats.retransmits = c.retransmits;
    stats.out_of_order = c.out_of_order;
    stats.gap_bytes = c.gap_bytes;
    stats.overlaps = c.overlaps;
    stats.inconsistent_overlaps = c.inconsistent;
}

impl<K, M> FlowHook<K> for Sessions<K, M>
where
    K: Send + 'static,
    M: Send + std::fmt::Debug + 'static,
{
    type Message = M;

    fn session_counters(&self) -> Option<SessionCounters> {
        Some(self.counters())
    }

    #[inline]
    fn wants(&self, proto: u8) -> bool {
        match proto {
            ipproto::TCP => !self.tcp.is_empty(),
            ipproto::UDP => !self.udp.is_empty(),
            _ => false,
        }
    }

    fn on_packet(&mut self, pkt: &HookPacket<'_, K>, out: &mut Vec<HookItem<M>>) -> Verdict {
        let slot = self.slot(pkt.flow.slot);
        if pkt.first {
            // A reused slot: whatever an earlier flow left is gone.
            *slot = Slot::default();
        }
        if slot.done {
            return Verdict::Continue;
        }
        let before = out.len();
        let verdict = match pkt.proto {
            ipproto::TCP if !self.tcp.is_empty() => self.on_tcp(pkt, out),
            ipproto::UDP if !self.udp.is_empty() => self.on_udp(pkt, out),
            _ => Verdict::Continue,
        };
        self.counters.messages += out[before..]
            .iter()
            .filter(|i| matches!(i, HookItem::Message(..)))
            .count() as u64;
        verdict
    }

    fn on_end(
        &mut self,
        flow: &HookFlow<'_, K>,
        reason: EndReason,
        ts: Timestamp,
        stats: &mut FlowStats,
        out: &mut Vec<HookItem<M>>,
    ) {
        let i = flow.slot as usize;
        let Sessions {
            cfg,
            tcp,
            slots,
            mem,
            counters,
            ..
        } = self;
        let Some(slot) = slots.get_mut(i) else {
            return;
        };
        stats.app_proto = slot.proto;
        let before = out.len();
        if let Some(app) = slot.app.as_deref_mut() {
            if reason != EndReason::ActiveTimeout {
                let mut feeder = Feeder {
                    key: flow.key,
                    ports: app.ports,
                    routes: tcp,
                    probe_bytes: cfg.probe_bytes.max(1),
                    items: out,
                    counters,
                    unclassified: false,
                    ts,
                    fed: false,
                    chosen: None,
                };
                let FlowApp {
                    streams,
                    parser,
                    proto,
                    ..
                } = &mut *app;
                feeder.flush_streams(streams, parser, mem);
                if matches!(parser, Parser::Probing(_)) && streams.iter().next().is_some() {
                    feeder.decide(parser, true);
                }
                let (chosen, unclassified) = (feeder.chosen, feeder.unclassified);
                if unclassified {
                    counters.flows_unclassified += 1;
                }
                if chosen.is_some() {
                    *proto = chosen;
                }
                match parser {
                    Parser::Stream(p) => match p.poisoned() {
                        Some(reason) => {
                            counters.parser_errors += 1;
                            out.push(HookItem::Anomaly(AnomalyKind::ParserPoisoned { reason }));
                        }
                        None => p.end(ts, out),
                    },
                    Parser::Dgram(p) => p.end(ts, out),
                    Parser::Probing(_) => {}
                }
            }
            // Stream counters after the flush (it may add gaps).
            for (k, s) in app.streams.iter() {
                fill_side(stats_side(stats, k), &s.counters());
            }
            stats.app_proto = app.proto;
            if reason == EndReason::ActiveTimeout {
                // Reported, and the connection goes on.
                return;
            }
        }
        self.counters.messages += out[before..]
            .iter()
            .filter(|i| matches!(i, HookItem::Message(..)))
            .count() as u64;
        let Sessions {
            slots,
            mem,
            counters,
            ..
        } = self;
        let slot = &mut slots[i];
        Self::retire(slot, mem, counters);
        *slot = Slot::default();
    }
}
