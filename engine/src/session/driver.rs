//! [`Sessions`]: the [`FlowHook`] that runs parsers. Per flow it picks a
//! parser (port hints, then content probes of the first bytes), reassembles
//! each TCP direction, feeds the parser in stream order with gaps, FINs and
//! RSTs, ends the flow when the parser poisons or a `DropFlow` cap is hit,
//! and reports every cap hit and inconsistent overlap as an anomaly.

mod tcp;

use super::adapters::{DgramFactory, DgramRoute, Factory, Notes, StreamRoute};
use super::route::{Candidate, Choice, PortIndex, Route, choose};
use super::slot::{AppProtos, FAILED, Feeder, FlowApp, Parser, Pending, Probing, Slot};
use super::{DatagramParser, DatagramParserFactory, SessionParser, SessionParserFactory};
use crate::config::Share;
use crate::event::{AnomalyKind, AppProto, FlowStats, SideStats};
use crate::hook::{FlowHook, HookFlow, HookItem, HookPacket, Verdict};
use crate::reassembly::{Memory, ReassemblyConfig, StreamCounters};
use crate::stats::{SessionCounters, add_counters};
use crate::timestamp::Timestamp;
use crate::vocab::EndReason;
use crate::wire::ipproto;

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
    /// The TCP and the UDP routes by port.
    ports: [PortIndex; 2],
    slots: Vec<Slot<M>>,
    /// The `app_proto` values the slots refer to.
    protos: AppProtos,
    mem: Memory,
    counters: SessionCounters,
    /// Protocol anomalies reported per flow, at most.
    max_events: u32,
    /// Candidates of a UDP flow's first datagram, probed before the flow
    /// has any state (reused: no allocation for a flow no parser takes).
    scratch: Vec<Candidate>,
}

/// Protocol anomalies reported per flow by default (Suricata stops at as
/// many HTTP parser messages per connection).
pub const DEFAULT_MAX_EVENTS_PER_FLOW: u32 = 512;

impl<K, M> std::fmt::Debug for Sessions<K, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("tcp_routes", &self.tcp.len())
            .field("udp_routes", &self.udp.len())
            .field("counters", &self.counters)
            .finish()
    }
}

fn stats_side(stats: &mut FlowStats, k: usize) -> &mut SideStats {
    if k == 0 {
        &mut stats.initiator
    } else {
        &mut stats.responder
    }
}

impl<K, M> Sessions<K, M> {
    /// A driver with no parsers yet.
    pub fn new(cfg: &ReassemblyConfig) -> Self {
        Sessions {
            cfg: cfg.clone(),
            tcp: Vec::new(),
            udp: Vec::new(),
            ports: Default::default(),
            slots: Vec::new(),
            protos: AppProtos::default(),
            mem: Memory::default(),
            counters: SessionCounters::default(),
            max_events: DEFAULT_MAX_EVENTS_PER_FLOW,
            scratch: Vec::new(),
        }
    }

    /// Reports at most `n` protocol anomalies
    /// ([`AnomalyKind::AppLayer`]) per flow; the rest are counted
    /// ([`AppProtoCounters::events_capped`](crate::AppProtoCounters::events_capped)).
    /// 0: none are reported.
    pub fn max_events_per_flow(mut self, n: u32) -> Self {
        self.max_events = n;
        self
    }

    /// Enters a registration's protocol (and `failed`, for flows no parser
    /// of the transport takes) in the per-protocol counters, so every
    /// driver lists the same protocols.
    fn enter_names(&mut self, name: Option<&'static str>, tcp: bool) {
        self.counters.app.entry(FAILED, tcp);
        if let Some(name) = name {
            self.counters.app.entry(name, tcp);
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
        self.enter_names(route.name, true);
        self.ports[0].add(self.tcp.len() as u16, &route);
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
        self.enter_names(route.name, false);
        self.ports[1].add(self.udp.len() as u16, &route);
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
            self.grow_slots(i);
        }
        &mut self.slots[i]
    }

    /// Slots up to `i`: once per table slot over the run, so kept out of
    /// the per-packet path.
    #[cold]
    #[inline(never)]
    fn grow_slots(&mut self, i: usize) {
        self.slots.resize_with(i + 1, Slot::default);
    }

    /// Registration `i` of the TCP or the UDP list.
    fn route(&self, tcp: bool, i: usize) -> &Route {
        if tcp { &self.tcp[i].0 } else { &self.udp[i].0 }
    }

    fn route_count(&self, tcp: bool) -> usize {
        if tcp { self.tcp.len() } else { self.udp.len() }
    }

    /// The TCP or the UDP routes by port.
    fn port_index(&self, tcp: bool) -> &PortIndex {
        &self.ports[usize::from(!tcp)]
    }

    /// Priority order of registrations for a flow with these ports: the
    /// port-matched ones first, each group in registration order; into
    /// `cands` (emptied first).
    fn candidates(&self, tcp: bool, ports: (u16, u16), cands: &mut Vec<Candidate>) {
        let index = self.port_index(tcp);
        cands.clear();
        cands.extend(index.matching(ports).map(|route| Candidate {
            route,
            port_matched: true,
        }));
        cands.sort_unstable_by_key(|c| c.route);
        cands.dedup();
        let matched = cands.len();
        for &route in index.any_port() {
            if !cands[..matched].iter().any(|c| c.route == route) {
                cands.push(Candidate {
                    route,
                    port_matched: false,
                });
            }
        }
    }

    /// The registration a flow with these ports takes without seeing a
    /// byte: the first port-matched one (else the first), when it has no
    /// probe and its port matched or it takes every flow.
    fn decided_now(&self, tcp: bool, ports: (u16, u16)) -> Option<usize> {
        let (i, matched) = match self.port_index(tcp).first(ports) {
            Some(i) => (usize::from(i), true),
            None if self.route_count(tcp) > 0 => (0, false),
            None => return None,
        };
        self.route(tcp, i)
            .certain_without_bytes(matched)
            .then_some(i)
    }

    /// A flow's state, made at its start when its parser is certain without
    /// seeing bytes (the parser is built then and nothing is buffered), else
    /// at its first payload (the search for a parser begins).
    /// `decided_now` is [`Sessions::decided_now`] for these ports.
    fn new_app(
        &mut self,
        tcp: bool,
        ports: (u16, u16),
        key: &K,
        decided_now: Option<usize>,
    ) -> Box<FlowApp<M>> {
        let proto = decided_now.and_then(|i| self.route(tcp, i).name);
        let parser = match decided_now {
            Some(c) => {
                self.counters.flows_parsed += 1;
                if tcp {
                    Parser::Stream(self.tcp[c].1.make(key, self.max_events))
                } else {
                    Parser::Dgram(self.udp[c].1.make(key, self.max_events))
                }
            }
            None => {
                let mut cands = Vec::with_capacity(self.route_count(tcp));
                self.candidates(tcp, ports, &mut cands);
                Parser::Probing(Box::new(Probing::new(cands)))
            }
        };
        FlowApp::boxed(parser, proto, tcp)
    }

    /// Stops work on a slot, returning its held bytes to the memcap; the
    /// flow's counts go to its protocol's counters.
    fn retire(
        slot: &mut Slot<M>,
        (mem, protos): (&mut Memory, &mut AppProtos),
        counters: &mut SessionCounters,
    ) {
        if let Some(app) = slot.app.take() {
            let mut app = app;
            slot.set_proto(protos, app.app_proto());
            for (_, s) in app.streams.iter_mut() {
                s.discard(mem);
                add_counters(&mut counters.stream, &s.counters());
            }
            if let Some(name) = app.proto {
                let (notes, poisoned) = match &app.parser {
                    Parser::Stream(p) => (p.notes(), p.poisoned().is_some()),
                    Parser::Dgram(p) => (p.notes(), p.poisoned().is_some()),
                    Parser::Probing(_) => (Notes::default(), false),
                };
                count_app(counters, (name, app.tcp), notes, poisoned);
            }
        }
        slot.set_done();
    }

    /// A UDP flow's first datagram, when no registration takes the flow
    /// by its ports alone: the probes see it before the flow has any
    /// state, so a flow no parser wants (the commonest case) costs no
    /// allocation. Gives the flow's state: its parser, chosen and not yet
    /// fed this datagram, or the search for one with this datagram
    /// pending; `None` when no parser will take it (the flow is then done,
    /// counted as the probing path counts it).
    fn first_datagram(&mut self, pkt: &HookPacket<'_, K>) -> Option<Box<FlowApp<M>>> {
        let ports = pkt.ports();
        let mut cands = std::mem::take(&mut self.scratch);
        self.candidates(false, ports, &mut cands);
        // The first of at most `probe_datagrams`.
        let force = self.cfg.probe_datagrams <= 1;
        let udp = &self.udp;
        let choice = choose(
            |c| &udp[usize::from(c)].0,
            &mut cands,
            Some((pkt.payload, pkt.side)),
            force,
        );
        match choice {
            Choice::Take(c) => {
                self.scratch = cands;
                let app = self.new_app(false, ports, pkt.flow.key, Some(usize::from(c)));
                Some(app)
            }
            Choice::Wait => {
                let mut probing = Probing::new(cands);
                let datagram = Pending::Datagram(pkt.payload.to_vec(), pkt.ts);
                probing.pending.push((pkt.side, datagram));
                probing.datagrams = 1;
                Some(FlowApp::boxed(
                    Parser::Probing(Box::new(probing)),
                    None,
                    false,
                ))
            }
            Choice::Nothing => {
                self.scratch = cands;
                self.counters.flows_unclassified += 1;
                let Sessions {
                    slots,
                    protos,
                    counters,
                    ..
                } = self;
                let slot = &mut slots[pkt.flow.slot as usize];
                slot.set_proto(protos, Some(AppProto::from(FAILED)));
                count_app(counters, (FAILED, false), Notes::default(), false);
                slot.set_done();
                None
            }
        }
    }

    /// A flow's first packet: when its parser is certain without seeing
    /// bytes (no probe, and its port matched or it takes every flow), the
    /// parser is made now, as flowscope 0.3 makes it at the flow's start,
    /// so it hears of the flow's end even when no byte ever comes. Flows
    /// that need a probe get their state at their first payload byte.
    fn start(&mut self, pkt: &HookPacket<'_, K>) {
        let tcp = match pkt.proto {
            ipproto::TCP => true,
            ipproto::UDP => false,
            _ => return,
        };
        let ports = pkt.ports();
        let decided = self.decided_now(tcp, ports);
        if decided.is_some() {
            let app = self.new_app(tcp, ports, pkt.flow.key, decided);
            self.slot(pkt.flow.slot).app = Some(app);
        }
    }

    fn on_udp(&mut self, pkt: &HookPacket<'_, K>, out: &mut Vec<HookItem<M>>) -> Verdict {
        if pkt.payload.is_empty() {
            // Only a chosen parser sees an empty datagram (probes decide
            // on bytes).
            let chosen = self.slots[pkt.flow.slot as usize]
                .app
                .as_ref()
                .is_some_and(|a| matches!(a.parser, Parser::Dgram(_)));
            if !chosen {
                return Verdict::Continue;
            }
        } else if self.slot(pkt.flow.slot).app.is_none() {
            let ports = pkt.ports();
            let decided = self.decided_now(false, ports);
            let app = match decided {
                Some(_) => self.new_app(false, ports, pkt.flow.key, decided),
                None => match self.first_datagram(pkt) {
                    Some(app) => app,
                    None => return Verdict::Detach,
                },
            };
            let waits = matches!(app.parser, Parser::Probing(_));
            self.slot(pkt.flow.slot).app = Some(app);
            if waits {
                return Verdict::Continue;
            }
        }
        let Sessions {
            cfg,
            udp,
            slots,
            protos,
            mem,
            counters,
            max_events,
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
            match choose(route_of, cands, Some((pkt.payload, side)), force) {
                Choice::Wait => {
                    pending.push((side, Pending::Datagram(pkt.payload.to_vec(), pkt.ts)));
                    return Verdict::Continue;
                }
                Choice::Nothing => {
                    counters.flows_unclassified += 1;
                    app.proto = Some(FAILED);
                    Self::retire(slot, (mem, protos), counters);
                    return Verdict::Detach;
                }
                Choice::Take(c) => {
                    app.proto = udp[usize::from(c)].0.name;
                    let mut p = udp[usize::from(c)].1.make(pkt.flow.key, *max_events);
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
            Self::retire(slot, (mem, protos), counters);
            return Verdict::End(EndReason::ParseError);
        }
        Verdict::Continue
    }
}

/// Counts a flow whose work stopped under its route's name (and
/// transport), with what its parser noted and whether it failed.
fn count_app(
    counters: &mut SessionCounters,
    (name, tcp): (&'static str, bool),
    notes: Notes,
    poisoned: bool,
) {
    let c = counters.app.entry(name, tcp);
    c.flows += 1;
    c.tx += notes.tx;
    c.events += notes.events;
    c.events_capped += notes.capped;
    c.parser_errors += u64::from(poisoned);
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

    /// The slots in use (one per table slot a flow has used).
    fn slot_bytes(&self) -> usize {
        self.slots.len() * size_of::<Slot<M>>()
    }

    /// Delivered segments are remembered by the sums their checksums state.
    fn wants_payload_sums(&self) -> bool {
        self.cfg.check_retransmissions && !self.cfg.digest_delivered_bytes
    }

    /// The reassembly memcap is process-wide: this driver holds its part.
    fn take_share(&mut self, share: Share) {
        self.cfg.memcap = share.of(self.cfg.memcap);
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
            self.start(pkt);
        }
        let slot = &mut self.slots[pkt.flow.slot as usize];
        if slot.done() {
            self.on_detached(pkt.proto, pkt.payload.len());
            return Verdict::Detach;
        }
        let before = out.len();
        let verdict = match pkt.proto {
            ipproto::TCP if !self.tcp.is_empty() => self.on_tcp(pkt, out),
            ipproto::UDP if !self.udp.is_empty() => self.on_udp(pkt, out),
            _ => Verdict::Continue,
        };
        if out.len() > before {
            self.counters.messages += out[before..]
                .iter()
                .filter(|i| matches!(i, HookItem::Message(..)))
                .count() as u64;
        }
        verdict
    }

    fn on_detached(&mut self, proto: u8, payload: usize) {
        if proto == ipproto::TCP {
            self.counters.skipped_bytes += payload as u64;
        }
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
            protos,
            mem,
            counters,
            max_events,
            ..
        } = self;
        let Some(slot) = slots.get_mut(i) else {
            return;
        };
        stats.app_proto = slot.proto(protos);
        let before = out.len();
        if let Some(app) = slot.app.as_deref_mut() {
            if reason != EndReason::ActiveTimeout {
                let mut feeder = Feeder {
                    key: flow.key,
                    routes: tcp,
                    probe_bytes: cfg.probe_bytes.max(1),
                    items: out,
                    counters,
                    unclassified: false,
                    ts,
                    fed: false,
                    chosen: None,
                    max_events: *max_events,
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
                        None => p.end(reason, ts, out),
                    },
                    Parser::Dgram(p) => p.end(ts, out),
                    Parser::Probing(_) => {}
                }
            }
            // Stream counters after the flush (it may add gaps).
            for (k, s) in app.streams.iter() {
                fill_side(stats_side(stats, k), &s.counters());
            }
            stats.app_proto = app.app_proto();
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
            protos,
            mem,
            counters,
            ..
        } = self;
        let slot = &mut slots[i];
        Self::retire(slot, (mem, protos), counters);
        *slot = Slot::default();
    }
}
