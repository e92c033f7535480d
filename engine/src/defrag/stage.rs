//! Where fragment reassembly runs, and the one walk every packet that is a
//! fragment takes: reassemble, decode what was rebuilt (a tunnel may carry
//! fragments again), track the result.
//!
//! An engine on its own reassembles itself ([`Fragments::Own`]). In a
//! pipeline the ingest reassembles ahead of the shards
//! ([`FragmentRouter`]): a fragmented tunnel's inner flow is only known
//! once its datagram is whole, and the shard that owns the inner flow is
//! chosen from the inner addresses, so the packet that completes a
//! datagram goes to that shard. What reassembly did for each packet —
//! the drops it reported and the datagram it rebuilt — travels with the
//! packet in a [`DefragLog`], and the shard's engine replays it
//! ([`Fragments::Replay`]) where it would have reassembled: the events and
//! flows come out exactly as from one engine, for any shard count.

use super::{Defrag, DefragCounters, DefragEvent, DefragOutcome, Reassembled};
use crate::config::DefragConfig;
use crate::decode::Decoder;
use crate::key::FlowExtractor;
use crate::packet::{PacketView, Transport};
use crate::timestamp::Timestamp;
use crate::wire::DecodeError;
use std::collections::VecDeque;

/// Fragment nesting followed (a fragmented tunnel carrying fragments).
const MAX_NESTING: u8 = 2;

/// What the walk needs from whoever drives it: the engine (which emits
/// events and tracks flows) or the ingest's router (which only records
/// and picks a shard).
pub(crate) trait FragmentPath {
    fn decoder(&self) -> &Decoder;
    /// Fragments are reassembled (`defrag.enabled`); when not, every one
    /// is counted and skipped, cut short or not.
    fn reassembling(&self) -> bool;
    /// A fragment the capture cut short: reported, not reassembled.
    fn truncated(&mut self, view: &PacketView<'_>);
    /// Adds a fragment; the drops it caused are reported.
    fn insert(&mut self, view: &PacketView<'_>) -> DefragOutcome;
    /// A rebuilt datagram's buffer, done with.
    fn recycle(&mut self, data: Vec<u8>);
    /// A rebuilt datagram, decoded.
    fn whole(&mut self, view: &PacketView<'_>);
    /// A rebuilt datagram that does not decode.
    fn failed(&mut self, error: DecodeError, ts: Timestamp);
    /// The packet (or rebuilt datagram) to track.
    fn track(&mut self, view: &PacketView<'_>);
}

/// Takes a decoded packet through reassembly to what is tracked.
pub(crate) fn walk<P: FragmentPath>(p: &mut P, view: &PacketView<'_>, nesting: u8) {
    if !matches!(view.transport, Transport::Fragment) {
        p.track(view);
        return;
    }
    if view.truncated && p.reassembling() {
        // Cut by the capture: it cannot be reassembled. A first fragment
        // still carries the transport header, so its flow is tracked from
        // it (as tshark does) instead of vanishing.
        p.truncated(view);
        let first = view
            .ip
            .and_then(|i| i.fragment)
            .is_some_and(|f| f.offset == 0);
        if let (true, Some(ip)) = (first, view.ip) {
            let mut head = *view;
            if p.decoder()
                .decode_reassembled(&mut head, ip.protocol, view.payload)
                .is_ok()
            {
                head.truncated = true;
                p.track(&head);
            }
        }
        return;
    }
    let DefragOutcome::Complete(datagram) = p.insert(view) else {
        return;
    };
    let mut whole = *view;
    whole.wire_len = u32::try_from(datagram.wire_bytes).unwrap_or(u32::MAX);
    whole.encap_len = u32::try_from(datagram.encap_bytes).unwrap_or(u32::MAX);
    whole.ip_len = u32::try_from(datagram.ip_bytes).unwrap_or(u32::MAX);
    whole.frames = datagram.fragments;
    whole.ipv4_checksum_bad = false;
    whole.tunnel_depth_exceeded = false;
    whole.tunnel_inner_error = None;
    match p
        .decoder()
        .decode_reassembled(&mut whole, datagram.protocol, &datagram.data)
    {
        Ok(()) => {
            p.whole(&whole);
            if matches!(whole.transport, Transport::Fragment) && nesting >= MAX_NESTING {
                p.failed(DecodeError::Ipv4FragmentTooLarge, view.ts);
            } else {
                walk(p, &whole, nesting + 1);
            }
        }
        Err(e) => p.failed(e, view.ts),
    }
    p.recycle(datagram.data);
}

/// An engine's reassembly: its own, or replayed from a [`DefragLog`]
/// recorded ahead of it.
#[derive(Debug)]
pub(crate) enum Fragments {
    Own(Defrag),
    Replay(Replay),
}

impl Fragments {
    pub(crate) fn note_truncated(&mut self, view: &PacketView<'_>) {
        match self {
            Fragments::Own(d) => d.note_truncated(view),
            Fragments::Replay(r) => {
                r.next();
            }
        }
    }

    /// A fragment read at packet clock `now`.
    pub(crate) fn insert(&mut self, view: &PacketView<'_>, now: Timestamp) -> DefragOutcome {
        match self {
            Fragments::Own(d) => d.insert(view, now),
            Fragments::Replay(r) => match r.next() {
                Some(d) => DefragOutcome::Complete(d),
                None => DefragOutcome::Pending,
            },
        }
    }

    pub(crate) fn recycle(&mut self, data: Vec<u8>) {
        match self {
            Fragments::Own(d) => d.recycle(data),
            Fragments::Replay(r) => r.recycle(data),
        }
    }

    /// Timeouts at `now`. A replay's come from upstream
    /// ([`Replay::load_events`]).
    pub(crate) fn expire(&mut self, now: Timestamp) {
        if let Fragments::Own(d) = self {
            d.expire(now);
        }
    }

    /// End of input. A replay's drops come from upstream.
    pub(crate) fn flush(&mut self, now: Timestamp) {
        if let Fragments::Own(d) = self {
            d.flush(now);
        }
    }

    pub(crate) fn drain_events(&mut self) -> std::vec::Drain<'_, DefragEvent> {
        match self {
            Fragments::Own(d) => d.drain_events(),
            Fragments::Replay(r) => r.ready.drain(..),
        }
    }

    /// Puts `events` back, to be drained again later.
    pub(crate) fn keep_events(&mut self, events: Vec<DefragEvent>) {
        match self {
            Fragments::Own(d) => d.events.extend(events),
            Fragments::Replay(r) => r.ready.extend(events),
        }
    }

    /// The counters (a replay counts nothing: its reassembler does).
    pub(crate) fn counters(&self) -> DefragCounters {
        match self {
            Fragments::Own(d) => d.counters().clone(),
            Fragments::Replay(_) => DefragCounters::default(),
        }
    }
}

/// One packet's steps through reassembly as recorded upstream, waiting to
/// be replayed.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    steps: VecDeque<(u32, Option<Reassembled>)>,
    /// Events of the queued steps, in order.
    queued: VecDeque<DefragEvent>,
    /// Events to emit now.
    ready: Vec<DefragEvent>,
    pool: Vec<Vec<u8>>,
}

/// Buffers a replay keeps for reuse.
const REPLAY_POOL: usize = 4;

impl Replay {
    /// The next step: its events become ready, its datagram is returned.
    fn next(&mut self) -> Option<Reassembled> {
        let (events, datagram) = self.steps.pop_front()?;
        let n = (events as usize).min(self.queued.len());
        self.ready.extend(self.queued.drain(..n));
        datagram
    }

    fn recycle(&mut self, mut data: Vec<u8>) {
        if self.pool.len() < REPLAY_POOL {
            data.clear();
            self.pool.push(data);
        }
    }

    /// Queues steps `from..to` of `log`.
    pub(crate) fn load(&mut self, log: &DefragLog, from: usize, to: usize) {
        for step in log.steps.get(from..to).unwrap_or(&[]) {
            let events = log.events.get(step.events.0..step.events.1).unwrap_or(&[]);
            self.queued.extend(events.iter().copied());
            let datagram = step.datagram.map(|d| {
                let mut data = self.pool.pop().unwrap_or_default();
                data.extend_from_slice(log.data.get(d.data.0..d.data.1).unwrap_or(&[]));
                Reassembled {
                    data,
                    protocol: d.protocol,
                    fragments: d.fragments,
                    wire_bytes: d.wire_bytes,
                    encap_bytes: d.encap_bytes,
                    ip_bytes: d.ip_bytes,
                }
            });
            self.steps.push_back((events.len() as u32, datagram));
        }
    }

    /// Drops reported upstream outside any packet (timeouts, end of
    /// input): emitted at the next drain.
    pub(crate) fn load_events(&mut self, events: &[DefragEvent]) {
        self.ready.extend_from_slice(events);
    }

    /// Steps loaded but not replayed (none once a packet is processed,
    /// when upstream and the engine decode alike).
    pub(crate) fn pending(&self) -> usize {
        self.steps.len()
    }

    /// Forgets steps a packet did not use.
    pub(crate) fn discard(&mut self) {
        self.steps.clear();
        self.queued.clear();
    }
}

#[derive(Debug, Clone, Copy)]
struct LoggedDatagram {
    data: (usize, usize),
    protocol: u8,
    fragments: u32,
    wire_bytes: u64,
    encap_bytes: u64,
    ip_bytes: u64,
}

#[derive(Debug, Clone, Copy)]
struct Step {
    events: (usize, usize),
    datagram: Option<LoggedDatagram>,
}

/// What reassembly did for a run of packets, step by step: the drops each
/// step reported and the datagram it rebuilt. A pipeline's ingest records
/// it ([`FragmentRouter::route`]) beside the packets it sends a shard, and
/// the shard's engine replays it
/// ([`Engine::replay_defrag`](crate::Engine::replay_defrag)). Buffers are
/// kept across [`DefragLog::clear`].
#[derive(Debug, Default)]
pub struct DefragLog {
    steps: Vec<Step>,
    events: Vec<DefragEvent>,
    data: Vec<u8>,
}

impl DefragLog {
    /// Steps recorded.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether no step is recorded.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Forgets every step.
    pub fn clear(&mut self) {
        self.steps.clear();
        self.events.clear();
        self.data.clear();
    }

    /// Appends `other`'s steps.
    pub fn append(&mut self, other: &DefragLog) {
        let (e, d) = (self.events.len(), self.data.len());
        self.events.extend_from_slice(&other.events);
        self.data.extend_from_slice(&other.data);
        self.steps.extend(other.steps.iter().map(|s| Step {
            events: (s.events.0 + e, s.events.1 + e),
            datagram: s.datagram.map(|g| LoggedDatagram {
                data: (g.data.0 + d, g.data.1 + d),
                ..g
            }),
        }));
    }

    fn record(&mut self, events: std::vec::Drain<'_, DefragEvent>, datagram: Option<&Reassembled>) {
        let start = self.events.len();
        self.events.extend(events);
        let datagram = datagram.map(|g| {
            let at = self.data.len();
            self.data.extend_from_slice(&g.data);
            LoggedDatagram {
                data: (at, self.data.len()),
                protocol: g.protocol,
                fragments: g.fragments,
                wire_bytes: g.wire_bytes,
                encap_bytes: g.encap_bytes,
                ip_bytes: g.ip_bytes,
            }
        });
        self.steps.push(Step {
            events: (start, self.events.len()),
            datagram,
        });
    }
}

/// Reassembly ahead of the engines, for a pipeline's ingest: one
/// reassembler for the whole input (its bounds are the process-wide
/// ones), recording what it did for the shard that tracks the result.
#[derive(Debug)]
pub struct FragmentRouter {
    decoder: Decoder,
    defrag: Defrag,
}

/// Where a packet's walk through reassembly ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routed {
    /// Steps recorded for it.
    pub steps: usize,
    /// The dispatch hash of what it turned into (a rebuilt datagram's
    /// innermost addresses), when it completed something trackable.
    pub hash: Option<u64>,
}

impl FragmentRouter {
    /// A router with this decoder (configured as the engines' are) and
    /// these bounds.
    pub fn new(decoder: Decoder, cfg: DefragConfig) -> Self {
        FragmentRouter {
            decoder,
            defrag: Defrag::new(cfg),
        }
    }

    /// Takes a decoded fragment, read at packet clock `now`, through
    /// reassembly, recording each step in `log`.
    pub fn route<E: FlowExtractor>(
        &mut self,
        extractor: &E,
        view: &PacketView<'_>,
        now: Timestamp,
        log: &mut DefragLog,
    ) -> Routed {
        let steps = log.len();
        let mut path = RouterPath {
            router: self,
            extractor,
            log,
            hash: None,
            now,
        };
        walk(&mut path, view, 0);
        let hash = path.hash;
        Routed {
            steps: log.len() - steps,
            hash,
        }
    }

    /// Drops the datagrams timed out at packet time `now`, appending the
    /// events to `out`.
    pub fn expire(&mut self, now: Timestamp, out: &mut Vec<DefragEvent>) {
        self.defrag.expire(now);
        out.extend(self.defrag.drain_events());
    }

    /// End of input at `now`: times out what is due, then drops every
    /// unfinished datagram, appending the events to `out`.
    pub fn finish(&mut self, now: Timestamp, out: &mut Vec<DefragEvent>) {
        self.defrag.expire(now);
        self.defrag.flush(now);
        out.extend(self.defrag.drain_events());
    }

    /// The reassembler's counters.
    pub fn counters(&self) -> &DefragCounters {
        self.defrag.counters()
    }
}

struct RouterPath<'r, 'l, E> {
    router: &'r mut FragmentRouter,
    extractor: &'r E,
    log: &'l mut DefragLog,
    hash: Option<u64>,
    now: Timestamp,
}

impl<E: FlowExtractor> FragmentPath for RouterPath<'_, '_, E> {
    fn decoder(&self) -> &Decoder {
        &self.router.decoder
    }
    fn reassembling(&self) -> bool {
        self.router.defrag.enabled()
    }
    fn truncated(&mut self, view: &PacketView<'_>) {
        self.router.defrag.note_truncated(view);
        self.log.record(self.router.defrag.drain_events(), None);
    }
    fn insert(&mut self, view: &PacketView<'_>) -> DefragOutcome {
        let outcome = self.router.defrag.insert(view, self.now);
        let datagram = match &outcome {
            DefragOutcome::Complete(d) => Some(d),
            _ => None,
        };
        self.log.record(self.router.defrag.drain_events(), datagram);
        outcome
    }
    fn recycle(&mut self, data: Vec<u8>) {
        self.router.defrag.recycle(data);
    }
    fn whole(&mut self, _: &PacketView<'_>) {}
    fn failed(&mut self, _: DecodeError, _: Timestamp) {}
    fn track(&mut self, view: &PacketView<'_>) {
        self.hash = self.extractor.dispatch_hash(view);
    }
}
