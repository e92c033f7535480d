//! The engine: one single-threaded, deterministic flow tracker. It decodes
//! packets, reassembles fragments, keys and tracks flows (TCP state, Zeek
//! history, timeouts, eviction) and pushes ordered events into a buffer the
//! caller owns. It reads no clock: the driver passes the packet clock in.

use crate::config::{ConfigError, EngineConfig, PortProto};
use crate::decode::Decoder;
use crate::defrag::{Defrag, DefragOutcome};
use crate::event::{AnomalyKind, Cause, FlowEvent, FlowStats, NoMessage, Ordered};
use crate::flow::tcp::{self, ConnProto, Endpoint, TcpStep, tcp_step};
use crate::flow::{FlowEntry, FlowTable, NIL, SideCounters, idle_expired, side_index};
use crate::hook::{FlowHook, HookItem, HookPacket, NoHook, TcpInfo, Verdict};
use crate::key::{Extracted, FlowExtractor, icmp_is_reply};
use crate::packet::{PacketView, RawPacket, Transport};
use crate::stats::EngineStats;
use crate::timestamp::Timestamp;
use crate::vocab::{EndReason, FlowSide, FlowState, History, Letter, Orientation, flow_id};
use crate::wire::ipproto;
use crate::wire::transport::{TcpSegment, tcp_flags};
use std::time::Duration;

/// The output buffer type for an engine keyed by `K` whose hook emits `M`.
pub type EventBuf<K, M = NoMessage> = Vec<Ordered<FlowEvent<K, M>>>;

/// Timeout class of flows that closed (FIN/FIN) or were reported and now
/// only absorb trailing packets.
const LINGER_CLASS: u8 = 0;
/// Fragment nesting followed (a fragmented tunnel carrying fragments).
const MAX_DEFRAG_NESTING: u8 = 2;
/// Distinct unsupported link types reported as anomalies (later ones are
/// only counted).
const MAX_LINKTYPE_REPORTS: usize = 16;

/// Maps a flow's protocol and ports to its timeout class.
#[derive(Debug, Clone)]
struct Timeouts {
    tcp: u8,
    udp: u8,
    other: u8,
    ports: Vec<(u8, u16, u8)>,
    /// Seconds per class.
    seconds: Vec<u32>,
}

impl Timeouts {
    fn new(cfg: &EngineConfig) -> Self {
        let mut seconds = vec![cfg.flow.tcp_closed_linger.max(1)];
        let mut class_of = |t: u32| -> u8 {
            match seconds.iter().skip(1).position(|&s| s == t) {
                Some(i) => (i + 1) as u8,
                None => {
                    seconds.push(t);
                    (seconds.len() - 1) as u8
                }
            }
        };
        let tcp = class_of(cfg.flow.tcp_timeout);
        let udp = class_of(cfg.flow.udp_timeout);
        let other = class_of(cfg.flow.other_timeout);
        let ports = cfg
            .flow
            .port_timeouts
            .iter()
            .map(|p| {
                let proto = match p.proto {
                    PortProto::Tcp => ipproto::TCP,
                    PortProto::Udp => ipproto::UDP,
                    PortProto::Sctp => ipproto::SCTP,
                };
                (proto, p.port, class_of(p.timeout))
            })
            .collect();
        Timeouts {
            tcp,
            udp,
            other,
            ports,
            seconds,
        }
    }

    fn class_for(&self, proto: u8, sport: u16, dport: u16) -> u8 {
        for &(p, port, class) in &self.ports {
            if p == proto && (port == sport || port == dport) {
                return class;
            }
        }
        match proto {
            ipproto::TCP => self.tcp,
            ipproto::UDP => self.udp,
            _ => self.other,
        }
    }
}

/// Ports treated as server ports when deciding roles mid-stream.
#[derive(Clone)]
struct PortSet(Box<[u64; 1024]>);

impl PortSet {
    fn new(extra: &[u16]) -> Self {
        let mut bits = Box::new([0u64; 1024]);
        for p in (0u16..1024).chain(extra.iter().copied()) {
            bits[usize::from(p >> 6)] |= 1 << (p & 63);
        }
        PortSet(bits)
    }
    fn contains(&self, p: u16) -> bool {
        self.0[usize::from(p >> 6)] & (1 << (p & 63)) != 0
    }
}

impl std::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PortSet")
    }
}

/// The flow engine. See the crate docs for the driving protocol. `H` sees
/// every flow's packets and end ([`Sessions`](crate::Sessions) runs
/// reassembly and parsers); the default [`NoHook`] compiles away.
#[derive(Debug)]
pub struct Engine<E: FlowExtractor, H: FlowHook<E::Key> = NoHook> {
    decoder: Decoder,
    extractor: E,
    table: FlowTable<E::Key>,
    defrag: Defrag,
    clock: Timestamp,
    stats: EngineStats,
    timeouts: Timeouts,
    server_ports: PortSet,
    max_flows: usize,
    active_timeout: u32,
    linger: bool,
    lifecycle_events: bool,
    anomaly_events: bool,
    transport_state: bool,
    reported_linktypes: Vec<u32>,
    evicted_pending: u64,
    /// The seq of the last event emitted, and the next `sub` for that seq:
    /// `sub` counts every event of one seq, packet-driven then time-driven.
    cursor: Option<u64>,
    next_sub: u32,
    /// The dispatch hash of the packet being processed, when the driver
    /// computed it.
    known_hash: Option<u64>,
    scratch_idx: Vec<u32>,
    hook: H,
    hook_items: Vec<HookItem<H::Message>>,
    /// The flow being updated was created by this packet.
    created_now: bool,
}

impl<E: FlowExtractor> Engine<E> {
    /// An engine with this configuration and extractor.
    pub fn new(cfg: &EngineConfig, extractor: E) -> Result<Self, ConfigError> {
        Self::with_hook(cfg, extractor, NoHook)
    }
}

impl<E: FlowExtractor, H: FlowHook<E::Key>> Engine<E, H> {
    /// An engine that runs `hook` on every flow (for example
    /// [`Sessions`](crate::Sessions): reassembly and parsers).
    pub fn with_hook(cfg: &EngineConfig, extractor: E, hook: H) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let timeouts = Timeouts::new(cfg);
        Ok(Engine {
            decoder: Decoder::new(&cfg.decode, &cfg.tunnel),
            transport_state: extractor.transport_state(),
            extractor,
            table: FlowTable::new(&timeouts.seconds, cfg.flow.max_flows),
            defrag: Defrag::new(cfg.defrag.clone()),
            clock: Timestamp::ZERO,
            stats: EngineStats::default(),
            timeouts,
            server_ports: PortSet::new(&cfg.flow.server_ports),
            max_flows: cfg.flow.max_flows,
            active_timeout: cfg.flow.active_timeout,
            linger: cfg.flow.tcp_closed_linger > 0,
            lifecycle_events: cfg.flow.lifecycle_events,
            anomaly_events: cfg.decode.anomaly_events,
            reported_linktypes: Vec::new(),
            evicted_pending: 0,
            cursor: None,
            next_sub: 0,
            known_hash: None,
            scratch_idx: Vec::new(),
            hook,
            hook_items: Vec::new(),
            created_now: false,
        })
    }

    /// The hook.
    pub fn hook(&self) -> &H {
        &self.hook
    }

    /// The hook, mutably.
    pub fn hook_mut(&mut self) -> &mut H {
        &mut self.hook
    }

    /// The counters, reassembly counters included.
    pub fn stats(&self) -> EngineStats {
        let mut s = self.stats.clone();
        s.defrag = self.defrag.counters().clone();
        s
    }

    /// Flows currently tracked (closed flows lingering excluded).
    pub fn active_flows(&self) -> u64 {
        self.stats.flows_created - self.stats.flows_ended_total()
    }

    /// Table entries held, lingering closed flows included.
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// Heap bytes held by the flow table.
    pub fn table_bytes(&self) -> usize {
        self.table.heap_bytes()
    }

    /// Size of one flow entry in the table.
    pub fn entry_size() -> usize {
        size_of::<FlowEntry<E::Key>>()
    }

    /// The packet clock.
    pub fn clock(&self) -> Timestamp {
        self.clock
    }

    /// Processes packet number `seq`. `now` is the packet clock: the
    /// largest timestamp the driver has read so far, this packet's included
    /// (in a sharded pipeline, over all shards' packets, which keeps the
    /// output independent of how packets were spread).
    pub fn process(
        &mut self,
        seq: u64,
        now: Timestamp,
        raw: &RawPacket<'_>,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        self.process_hashed(seq, now, raw, None, out);
    }

    /// [`Engine::process`] given the packet's
    /// [`FlowExtractor::dispatch_hash`], which a pipeline's ingest computed
    /// (with an extractor configured like this engine's) to pick the shard:
    /// the flow hash is finished from it instead of started over. `None`
    /// when the ingest had none (a packet it could not key).
    pub fn process_hashed(
        &mut self,
        seq: u64,
        now: Timestamp,
        raw: &RawPacket<'_>,
        dispatch_hash: Option<u64>,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        self.clock = self.clock.max(now).max(raw.ts);
        self.stats.packets += 1;
        self.stats.bytes += u64::from(raw.wire_len);
        if raw.data.len() < raw.wire_len as usize {
            self.stats.truncated += 1;
        }
        if !raw.linktype.is_supported() {
            self.stats.unsupported_linktype += 1;
            if !self.reported_linktypes.contains(&raw.linktype.0)
                && self.reported_linktypes.len() < MAX_LINKTYPE_REPORTS
            {
                self.reported_linktypes.push(raw.linktype.0);
                let kind = AnomalyKind::UnsupportedLinkType(raw.linktype);
                self.anomaly(out, seq, Cause::Packet, None, kind, raw.ts);
            }
            return;
        }
        let mut view = PacketView::empty(raw);
        if let Err(e) = self.decoder.decode_into(raw, &mut view) {
            self.decode_error(out, seq, e, raw.ts);
            return;
        }
        self.note(seq, &view, out);
        // A reassembled datagram may turn out to be a tunnel whose inner
        // addresses differ from the fragments': its hash starts over.
        self.known_hash = if matches!(view.transport, Transport::Fragment) {
            None
        } else {
            dispatch_hash
        };
        self.dispatch(seq, &view, 0, out);
        self.known_hash = None;
    }

    /// Fires the timers due at packet time `now`, as of the epoch boundary
    /// after packet `seq`: idle and active timeouts, close lingers, fragment
    /// timeouts, and the eviction-pressure report.
    pub fn advance(&mut self, now: Timestamp, seq: u64, out: &mut EventBuf<E::Key, H::Message>) {
        let start = out.len();
        self.fire_timers(now, seq, Cause::Timer, out);
        self.seal_time_driven(seq, Cause::Timer, start, out);
    }

    /// Idle/active timeouts, lingers and fragment timeouts due at `now`,
    /// emitted (unsorted) under `cause`.
    fn fire_timers(
        &mut self,
        now: Timestamp,
        seq: u64,
        cause: Cause,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        self.clock = self.clock.max(now);
        self.defrag.expire(self.clock);
        self.drain_defrag(seq, cause, out);

        let now_sec = self.clock.secs();
        let mut idx = std::mem::take(&mut self.scratch_idx);
        idx.clear();
        self.table.collect_idle(now_sec, &mut idx);
        let idle_count = idx.len();
        if self.active_timeout > 0 {
            self.table
                .collect_active(self.active_timeout, now_sec, &mut idx);
        }
        for (n, &i) in idx.iter().enumerate() {
            let e = self.table.get(i);
            if n < idle_count {
                let timeout = self.timeouts.seconds[usize::from(e.class)];
                let ts = e
                    .last_seen()
                    .saturating_add(Duration::from_secs(u64::from(timeout)));
                if e.ended {
                    self.table.remove(i);
                } else {
                    let reason = if e.class == LINGER_CLASS {
                        EndReason::Fin
                    } else {
                        EndReason::IdleTimeout
                    };
                    self.end(i, reason, ts, seq, cause, out);
                }
            } else if !idx[..idle_count].contains(&i) {
                let ts = Timestamp::new(e.start.secs() + u64::from(self.active_timeout), 0);
                self.end(i, EndReason::ActiveTimeout, ts, seq, cause, out);
            }
        }
        self.scratch_idx = idx;

        if self.evicted_pending > 0 {
            let kind = AnomalyKind::FlowTableEvictionPressure {
                evicted: self.evicted_pending,
            };
            self.evicted_pending = 0;
            self.anomaly(out, seq, cause, None, kind, self.clock);
        }
    }

    /// End of input after packet `seq` at packet time `now`: fires due
    /// timers, ends every open flow with [`EndReason::Shutdown`]
    /// ([`EndReason::Fin`] when both sides had already closed) and drops
    /// unfinished fragment datagrams, all as one [`Cause::Flush`] batch in
    /// time order.
    pub fn finish(&mut self, now: Timestamp, seq: u64, out: &mut EventBuf<E::Key, H::Message>) {
        let start = out.len();
        self.fire_timers(now, seq, Cause::Flush, out);
        self.defrag.flush(self.clock);
        self.drain_defrag(seq, Cause::Flush, out);
        let mut open: Vec<u32> = Vec::new();
        for i in self.table.all_indexes() {
            if self.table.get(i).ended {
                self.table.remove(i);
            } else {
                open.push(i);
            }
        }
        let ts = self.clock;
        for i in open {
            // Both sides already sent FIN: the connection is over, only its
            // last ACK is missing.
            let closed = self.table.get(i).endpoints == [Endpoint::Closed; 2];
            let reason = if closed {
                EndReason::Fin
            } else {
                EndReason::Shutdown
            };
            self.end(i, reason, ts, seq, Cause::Flush, out);
        }
        self.seal_time_driven(seq, Cause::Flush, start, out);
    }

    /// Sorts the time-driven events emitted since `start` by
    /// `(time, tiebreak)` and numbers them, continuing the `sub` sequence of
    /// `(seq, cause)`.
    fn seal_time_driven(
        &mut self,
        seq: u64,
        cause: Cause,
        start: usize,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        let batch = &mut out[start..];
        batch.sort_by_key(|o| (o.time, o.tiebreak));
        for o in batch {
            debug_assert_eq!((o.seq, o.cause), (seq, cause));
            o.sub = self.next_sub_for(seq);
        }
    }

    /// Pushes an event. Packet events get the next `sub` of their seq;
    /// time-driven ones get their `(time, tiebreak)` and are numbered when
    /// their batch is sealed.
    fn emit(
        &mut self,
        out: &mut EventBuf<E::Key, H::Message>,
        seq: u64,
        cause: Cause,
        event: FlowEvent<E::Key, H::Message>,
    ) {
        if cause != Cause::Packet {
            let (time, tiebreak) = time_order(&event);
            out.push(Ordered {
                seq,
                cause,
                time,
                tiebreak,
                sub: 0,
                event,
            });
            return;
        }
        let sub = self.next_sub_for(seq);
        out.push(Ordered {
            seq,
            cause,
            time: Timestamp::ZERO,
            tiebreak: 0,
            sub,
            event,
        });
    }

    /// The next `sub` of `seq`'s events.
    fn next_sub_for(&mut self, seq: u64) -> u32 {
        if self.cursor != Some(seq) {
            self.cursor = Some(seq);
            self.next_sub = 0;
        }
        let sub = self.next_sub;
        self.next_sub += 1;
        sub
    }

    fn anomaly(
        &mut self,
        out: &mut EventBuf<E::Key, H::Message>,
        seq: u64,
        cause: Cause,
        flow: Option<(E::Key, u64)>,
        kind: AnomalyKind,
        ts: Timestamp,
    ) {
        let (key, flow_id) = match flow {
            Some((k, id)) => (Some(k), Some(id)),
            None => (None, None),
        };
        self.emit(
            out,
            seq,
            cause,
            FlowEvent::Anomaly {
                key,
                flow_id,
                kind,
                ts,
            },
        );
    }

    fn decode_error(
        &mut self,
        out: &mut EventBuf<E::Key, H::Message>,
        seq: u64,
        e: crate::wire::DecodeError,
        ts: Timestamp,
    ) {
        self.stats.decode_errors[e.index()] += 1;
        if self.anomaly_events {
            self.anomaly(out, seq, Cause::Packet, None, AnomalyKind::Decode(e), ts);
        }
    }

    /// Counts what the decode step flagged on a view.
    #[inline]
    fn note(&mut self, seq: u64, view: &PacketView<'_>, out: &mut EventBuf<E::Key, H::Message>) {
        if view.ipv4_checksum_bad {
            self.stats.ipv4_bad_checksum += 1;
        }
        if view.tunnel_depth_exceeded {
            self.stats.tunnel_depth_exceeded += 1;
            if self.anomaly_events {
                self.anomaly(
                    out,
                    seq,
                    Cause::Packet,
                    None,
                    AnomalyKind::TunnelDepthExceeded,
                    view.ts,
                );
            }
        }
        if let Some(e) = view.tunnel_inner_error {
            self.stats.tunnel_inner_invalid += 1;
            if self.anomaly_events {
                let kind = AnomalyKind::TunnelInnerInvalid(e);
                self.anomaly(out, seq, Cause::Packet, None, kind, view.ts);
            }
        }
    }

    #[inline]
    fn dispatch(
        &mut self,
        seq: u64,
        view: &PacketView<'_>,
        nesting: u8,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        if !matches!(view.transport, Transport::Fragment) {
            self.track(seq, view, out);
            return;
        }
        if view.truncated {
            // Cut by the capture: it cannot be reassembled. A first fragment
            // still carries the transport header, so its flow is tracked
            // from it (as tshark does) instead of vanishing.
            self.defrag.note_truncated(view);
            self.drain_defrag(seq, Cause::Packet, out);
            let first = view
                .ip
                .and_then(|i| i.fragment)
                .is_some_and(|f| f.offset == 0);
            if let (true, Some(ip)) = (first, view.ip) {
                let mut head = *view;
                if self
                    .decoder
                    .decode_reassembled(&mut head, ip.protocol, view.payload)
                    .is_ok()
                {
                    head.truncated = true;
                    self.track(seq, &head, out);
                }
            }
            return;
        }
        let outcome = self.defrag.insert(view);
        self.drain_defrag(seq, Cause::Packet, out);
        let DefragOutcome::Complete(datagram) = outcome else {
            return;
        };
        let mut whole = *view;
        whole.wire_len = u32::try_from(datagram.wire_bytes).unwrap_or(u32::MAX);
        whole.frames = datagram.fragments;
        whole.ipv4_checksum_bad = false;
        whole.tunnel_depth_exceeded = false;
        whole.tunnel_inner_error = None;
        match self
            .decoder
            .decode_reassembled(&mut whole, datagram.protocol, &datagram.data)
        {
            Ok(()) => {
                self.note(seq, &whole, out);
                if matches!(whole.transport, Transport::Fragment) && nesting >= MAX_DEFRAG_NESTING {
                    self.decode_error(
                        out,
                        seq,
                        crate::wire::DecodeError::Ipv4FragmentTooLarge,
                        view.ts,
                    );
                } else {
                    self.dispatch(seq, &whole, nesting + 1, out);
                }
            }
            Err(e) => self.decode_error(out, seq, e, view.ts),
        }
        self.defrag.recycle(datagram.data);
    }

    fn drain_defrag(&mut self, seq: u64, cause: Cause, out: &mut EventBuf<E::Key, H::Message>) {
        let events: Vec<_> = self.defrag.drain_events().collect();
        for ev in events {
            let kind = AnomalyKind::Defrag {
                drop: ev.drop,
                src: ev.key.src,
                dst: ev.key.dst,
                fragments: ev.fragments,
                bytes: ev.bytes,
            };
            self.anomaly(out, seq, cause, None, kind, ev.ts);
        }
    }

    fn now_sec(&self) -> u32 {
        u32::try_from(self.clock.secs()).unwrap_or(u32::MAX)
    }

    #[inline]
    fn track(&mut self, seq: u64, view: &PacketView<'_>, out: &mut EventBuf<E::Key, H::Message>) {
        let extracted = match self.known_hash.take() {
            Some(h) => {
                debug_assert_eq!(
                    self.extractor.dispatch_hash(view),
                    Some(h),
                    "the driver's dispatch hash is this packet's"
                );
                self.extractor.extract_hashed(view, h)
            }
            None => self.extractor.extract(view),
        };
        let Some(x) = extracted else {
            self.stats.non_ip += u64::from(view.frames);
            return;
        };
        if let Some(t) = view.tunnel {
            self.stats.tunnel_packets[t.kind.index()] += u64::from(view.frames);
        }
        let tcp = if self.transport_state {
            view.tcp().copied()
        } else {
            None
        };
        let new_syn =
            tcp.is_some_and(|t| t.flags() & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN);
        let now_sec = self.clock.secs();
        let found = match self.table.find(x.hash, &x.key) {
            None => None,
            Some(idx) => {
                let e = self.table.get(idx);
                let timeout = self.timeouts.seconds[usize::from(e.class)];
                let expired = idle_expired(e.activity_sec, timeout, now_sec);
                if e.ended && (expired || new_syn) {
                    // The linger is over, or a new connection reuses the
                    // ports: the old connection is gone.
                    self.table.remove(idx);
                    None
                } else if e.ended {
                    self.absorb_after_close(idx, view);
                    return;
                } else if expired {
                    let ts = e
                        .last_seen()
                        .saturating_add(Duration::from_secs(u64::from(timeout)));
                    let closing = e.class == LINGER_CLASS;
                    let reason = if closing {
                        EndReason::Fin
                    } else {
                        EndReason::IdleTimeout
                    };
                    self.end(idx, reason, ts, seq, Cause::Packet, out);
                    if closing && !new_syn {
                        // A late retransmission of a connection that closed
                        // while waiting for its last ACK: not a new flow.
                        if let Some(t) = self.table.find(x.hash, &x.key) {
                            self.absorb_after_close(t, view);
                            return;
                        }
                    }
                    self.forget_tombstone(&x);
                    None
                } else if new_syn && reusable(e) {
                    let reason = if e.endpoints.contains(&Endpoint::Reset) {
                        EndReason::Rst
                    } else {
                        EndReason::Fin
                    };
                    self.end(idx, reason, view.ts, seq, Cause::Packet, out);
                    self.forget_tombstone(&x);
                    None
                } else {
                    Some(idx)
                }
            }
        };
        let idx = match found {
            Some(idx) => idx,
            None => self.create(seq, view, &x, out),
        };
        self.update(seq, idx, view, x.orientation, tcp.as_ref(), out);
    }

    /// A packet of a connection already reported closed (trailing ACK,
    /// retransmitted FIN, repeated RST): counted, and it extends the linger
    /// so a slow stream of retransmissions never turns into a ghost flow.
    fn absorb_after_close(&mut self, idx: u32, view: &PacketView<'_>) {
        self.stats.packets_after_close += u64::from(view.frames);
        let now_sec = self.now_sec();
        self.table.touch(idx, now_sec);
    }

    /// After ending a flow in order to start a new one with the same key,
    /// drops the linger entry `end` may have left.
    fn forget_tombstone(&mut self, x: &Extracted<E::Key>) {
        if let Some(idx) = self.table.find(x.hash, &x.key) {
            self.table.remove(idx);
        }
    }

    fn create(
        &mut self,
        seq: u64,
        view: &PacketView<'_>,
        x: &Extracted<E::Key>,
        out: &mut EventBuf<E::Key, H::Message>,
    ) -> u32 {
        while self.table.len() >= self.max_flows {
            let Some(victim) = self.table.eviction_victim(LINGER_CLASS) else {
                break;
            };
            if self.table.get(victim).ended {
                self.table.remove(victim);
            } else {
                self.evicted_pending += 1;
                self.end(victim, EndReason::Evicted, view.ts, seq, Cause::Packet, out);
            }
        }
        let proto = view.ip.map_or(0, |i| i.protocol);
        let sender_initiates = self.sender_initiates(view);
        let initiator = if sender_initiates {
            x.orientation
        } else {
            x.orientation.flip()
        };
        let (sport, dport) = view.ports().unwrap_or((0, 0));
        let class = self.timeouts.class_for(proto, sport, dport);
        let conn_proto = match proto {
            _ if !self.transport_state => ConnProto::Other,
            ipproto::TCP => ConnProto::Tcp,
            ipproto::UDP => ConnProto::Udp,
            _ => ConnProto::Other,
        };
        let mut history = History::default();
        if !sender_initiates {
            history.push_flipped();
        }
        let now_sec = self.now_sec();
        let flow_id = flow_id(x.hash, view.ts.as_nanos());
        let entry = FlowEntry {
            key: x.key.clone(),
            hash: x.hash,
            start: view.ts,
            sides: [SideCounters::default(); 2],
            history,
            tunnel: view.tunnel.map(Box::new),
            initiator,
            endpoints: [Endpoint::Inactive; 2],
            tcp_flags: [0; 2],
            conn_proto,
            state: FlowState::New,
            ended: false,
            last_fin: None,
            prev: NIL,
            next: NIL,
            activity_sec: now_sec,
            class,
            iface: u16::try_from(view.iface).unwrap_or(u16::MAX),
            act_prev: NIL,
            act_next: NIL,
        };
        let idx = self.table.insert(entry);
        self.created_now = true;
        if self.active_timeout > 0 {
            self.table.link_active(idx);
        }
        self.stats.flows_created += 1;
        let p = &mut self.stats.flows_by_proto;
        match proto {
            _ if !self.transport_state => p.other += 1,
            ipproto::TCP => p.tcp += 1,
            ipproto::UDP => p.udp += 1,
            ipproto::SCTP => p.sctp += 1,
            ipproto::ICMP | ipproto::ICMPV6 => p.icmp += 1,
            _ => p.other += 1,
        }
        self.stats.peak_flows = self.stats.peak_flows.max(self.active_flows());
        if self.lifecycle_events {
            let ev = FlowEvent::Started {
                key: x.key.clone(),
                flow_id,
                initiator,
                ts: view.ts,
            };
            self.emit(out, seq, Cause::Packet, ev);
        }
        idx
    }

    /// Roles: a SYN's sender initiates, a SYN-ACK's receiver does; otherwise
    /// the sender does unless the packet looks like a reply (from a server
    /// port to a client port, or an ICMP reply type).
    fn sender_initiates(&self, view: &PacketView<'_>) -> bool {
        let looks_like_reply =
            |s: u16, d: u16| self.server_ports.contains(s) && !self.server_ports.contains(d);
        match view.transport {
            Transport::Tcp(t) => {
                let f = t.flags();
                if f & tcp_flags::SYN != 0 {
                    f & tcp_flags::ACK == 0
                } else {
                    !looks_like_reply(t.src_port(), t.dst_port())
                }
            }
            Transport::Udp(p) | Transport::Sctp(p) => !looks_like_reply(p.src, p.dst),
            Transport::Icmp(i) => !icmp_is_reply(i.v6, i.msg_type),
            Transport::None | Transport::Fragment => true,
        }
    }

    fn update(
        &mut self,
        seq: u64,
        idx: u32,
        view: &PacketView<'_>,
        orientation: Orientation,
        tcp: Option<&TcpSegment<'_>>,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        let now_sec = self.now_sec();
        let e = self.table.get_mut(idx);
        let side = if orientation == e.initiator {
            FlowSide::Initiator
        } else {
            FlowSide::Responder
        };
        let s = e.side_mut(side);
        s.packets += u64::from(view.frames);
        s.bytes += u64::from(view.wire_len);
        s.payload += view.payload.len() as u64;
        s.last_seen = s.last_seen.max(view.ts);

        let before = e.state;
        let mut step = TcpStep::default();
        match (e.conn_proto, tcp) {
            (ConnProto::Tcp, Some(t)) => step = tcp_step(e, side, t, view.payload.len()),
            (ConnProto::Udp, _) => {
                e.endpoints[side_index(side)] = Endpoint::Partial;
                e.history.push(Letter::Data, side);
            }
            _ => e.endpoints[side_index(side)] = Endpoint::Partial,
        }
        // Coarse state.
        if e.state == FlowState::New {
            let handshake = e.endpoints == [Endpoint::Established; 2];
            let both_seen = e.sides[0].packets > 0 && e.sides[1].packets > 0;
            let syn_seen = e.history.has(Letter::Syn, FlowSide::Initiator);
            if handshake || (both_seen && !syn_seen) {
                e.state = FlowState::Established;
            }
        }
        if step.fin_now && e.state != FlowState::Closing {
            e.state = FlowState::Closing;
        }
        let now_closing = e.endpoints == [Endpoint::Closed; 2] && e.class != LINGER_CLASS;
        if now_closing {
            e.last_fin = Some(side);
        }
        let state = e.state;
        if now_closing {
            self.table.set_class(idx, LINGER_CLASS, now_sec);
        } else {
            self.table.touch(idx, now_sec);
        }

        // Taken whether or not the hook runs: it belongs to this packet.
        let first = std::mem::take(&mut self.created_now);
        let verdict = if H::ACTIVE && self.hook.wants(view.ip.map_or(0, |i| i.protocol)) {
            self.run_hook(seq, idx, view, side, first, out)
        } else {
            Verdict::Continue
        };

        if self.lifecycle_events && state != before {
            let e = self.table.get(idx);
            let (key, flow_id) = (e.key.clone(), e.flow_id());
            if state == FlowState::Established {
                let ev = FlowEvent::Established {
                    key: key.clone(),
                    flow_id,
                    ts: view.ts,
                };
                self.emit(out, seq, Cause::Packet, ev);
            }
            let ev = FlowEvent::StateChange {
                key,
                flow_id,
                state,
                ts: view.ts,
            };
            self.emit(out, seq, Cause::Packet, ev);
        }
        if step.reset {
            self.end(idx, EndReason::Rst, view.ts, seq, Cause::Packet, out);
        } else if step.final_ack {
            self.end(idx, EndReason::Fin, view.ts, seq, Cause::Packet, out);
        } else if let Verdict::End(reason) = verdict {
            self.end(idx, reason, view.ts, seq, Cause::Packet, out);
        }
    }

    /// Shows the packet to the hook and emits what it produced.
    fn run_hook(
        &mut self,
        seq: u64,
        idx: u32,
        view: &PacketView<'_>,
        side: FlowSide,
        first: bool,
        out: &mut EventBuf<E::Key, H::Message>,
    ) -> Verdict {
        let tcp = if self.transport_state {
            view.tcp()
        } else {
            None
        };
        let e = self.table.get(idx);
        let (sport, dport) = view.ports().unwrap_or((0, 0));
        let ports = match side {
            FlowSide::Initiator => (sport, dport),
            FlowSide::Responder => (dport, sport),
        };
        let pkt = HookPacket {
            flow: e.hook_flow(idx),
            proto: view.ip.map_or(0, |i| i.protocol),
            ports,
            side,
            ts: view.ts,
            tcp: tcp.map(|t| TcpInfo {
                seq: t.seq(),
                ack: t.ack(),
                flags: t.flags(),
            }),
            payload: view.payload,
            first,
        };
        let verdict = self.hook.on_packet(&pkt, &mut self.hook_items);
        if !self.hook_items.is_empty() {
            let flow = (e.key.clone(), e.flow_id(), e.initiator, u32::from(e.iface));
            self.emit_hook_items(seq, Cause::Packet, flow, view.ts, out);
        }
        verdict
    }

    /// Turns the hook's items into events of flow `flow_id`.
    fn emit_hook_items(
        &mut self,
        seq: u64,
        cause: Cause,
        (key, flow_id, initiator, iface): (E::Key, u64, Orientation, u32),
        ts: Timestamp,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        let mut items = std::mem::take(&mut self.hook_items);
        for item in items.drain(..) {
            let event = match item {
                HookItem::Message(side, message) => FlowEvent::Application {
                    key: key.clone(),
                    flow_id,
                    initiator,
                    side,
                    message,
                    ts,
                    iface,
                },
                HookItem::Anomaly(kind) => FlowEvent::Anomaly {
                    key: Some(key.clone()),
                    flow_id: Some(flow_id),
                    kind,
                    ts,
                },
            };
            self.emit(out, seq, cause, event);
        }
        self.hook_items = items;
    }

    /// Reports a flow as ended. TCP flows ended by FIN or RST stay as
    /// linger entries so trailing packets do not start ghost flows; an
    /// active timeout restarts the flow in place; everything else is removed.
    fn end(
        &mut self,
        idx: u32,
        reason: EndReason,
        ts: Timestamp,
        seq: u64,
        cause: Cause,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        let now_sec = self.now_sec();
        let e = self.table.get_mut(idx);
        let final_state = match reason {
            EndReason::Fin | EndReason::Rst => FlowState::Closed,
            _ => e.state,
        };
        let mut stats = flow_stats(e, final_state);
        if H::ACTIVE {
            let flow = e.hook_flow(idx);
            self.hook
                .on_end(&flow, reason, ts, &mut stats, &mut self.hook_items);
            if !self.hook_items.is_empty() {
                let flow = (e.key.clone(), e.flow_id(), e.initiator, u32::from(e.iface));
                self.emit_hook_items(seq, cause, flow, ts, out);
            }
        }
        let e = self.table.get(idx);
        let event = FlowEvent::Ended {
            key: e.key.clone(),
            flow_id: e.flow_id(),
            initiator: e.initiator,
            reason,
            stats,
            tunnel: e.tunnel.as_deref().copied(),
            ts,
        };
        let tcp = e.conn_proto == ConnProto::Tcp;
        self.emit(out, seq, cause, event);
        self.stats.flows_ended[reason.index()] += 1;
        match reason {
            EndReason::ActiveTimeout => {
                // Report and restart: connection state carries on, counters
                // and history start afresh under a new id.
                self.stats.flows_created += 1;
                let e = self.table.get_mut(idx);
                e.start = ts;
                e.sides = [SideCounters::default(); 2];
                e.history = History::default();
                e.tcp_flags = [0; 2];
                self.table.unlink_active(idx);
                self.table.link_active(idx);
            }
            // A connection whose parser failed or overflowed goes on
            // without us: its remaining packets are absorbed like trailing
            // packets, not picked up as a new flow mid-stream.
            EndReason::Fin | EndReason::Rst | EndReason::ParseError | EndReason::BufferOverflow
                if tcp && self.linger =>
            {
                let e = self.table.get_mut(idx);
                e.ended = true;
                e.state = FlowState::Closed;
                self.table.unlink_active(idx);
                self.table.set_class(idx, LINGER_CLASS, now_sec);
            }
            _ => self.table.remove(idx),
        }
    }
}

/// `(time, tiebreak)` of a time-driven event: its own time, and a value
/// derived from its content that does not depend on which engine made it.
fn time_order<K, M>(event: &FlowEvent<K, M>) -> (Timestamp, u64) {
    match event {
        // A flow's end and what its end flushed share (time, flow id); the
        // stable sort keeps them in emission order.
        FlowEvent::Ended { flow_id, ts, .. }
        | FlowEvent::Application { flow_id, ts, .. }
        | FlowEvent::Anomaly {
            flow_id: Some(flow_id),
            ts,
            ..
        } => (*ts, *flow_id),
        FlowEvent::Anomaly {
            kind:
                AnomalyKind::Defrag {
                    drop,
                    src,
                    dst,
                    fragments,
                    bytes,
                },
            ts,
            ..
        } => {
            use std::hash::BuildHasher;
            let h = foldhash::fast::FixedState::with_seed(0x6465_6672_6167)
                .hash_one((src, dst, drop, fragments, bytes));
            (*ts, h)
        }
        other => (other.ts(), u64::MAX),
    }
}

/// A connection that a fresh SYN replaces rather than joins: one side has
/// closed or reset.
fn reusable<K>(e: &FlowEntry<K>) -> bool {
    e.endpoints
        .iter()
        .any(|s| matches!(s, Endpoint::Closed | Endpoint::Reset))
}

/// Builds the reported statistics of a flow.
fn flow_stats<K>(e: &FlowEntry<K>, state: FlowState) -> FlowStats {
    let history = e.history;
    let conn_state = tcp::conn_state(
        e.conn_proto,
        e.endpoints[0],
        e.endpoints[1],
        &history,
        e.sides[0].payload,
        e.sides[1].payload,
    );
    FlowStats {
        initiator: e.sides[0].to_stats(e.tcp_flags[0]),
        responder: e.sides[1].to_stats(e.tcp_flags[1]),
        started: e.start,
        last_seen: e.last_seen().max(e.start),
        state,
        conn_state,
        history,
        app_proto: None,
        iface: u32::from(e.iface),
    }
}

#[cfg(test)]
mod tests;
