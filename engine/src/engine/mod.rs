//! The engine: one single-threaded, deterministic flow tracker. It decodes
//! packets, reassembles fragments, keys and tracks flows (TCP state, Zeek
//! history, timeouts, eviction) and pushes ordered events into a buffer the
//! caller owns. It reads no clock: the driver passes the packet clock in.
//!
//! This module holds [`Engine`] and its public API (construction,
//! accessors, [`Engine::process`]); the stages live in its children:
//! `packets` (the packet path up to a flow), `lifecycle` (a flow's update
//! and end), `timers` (expiry and the end-of-input flush), `output` (event
//! numbering, anomalies, hook items) and `policy` (timeout classes and
//! server ports).

mod flush;
mod lifecycle;
mod output;
mod packets;
mod policy;
mod timers;

use crate::config::{ConfigError, EngineConfig};
use crate::decode::Decoder;
use crate::defrag::{Defrag, DefragEvent, DefragLog, Fragments, Replay};
use crate::event::{AnomalyKind, Cause, FlowEvent, NoMessage, Ordered};
use crate::flow::{Emergency, FlowEntry, FlowTable};
use crate::hook::{FlowHook, HookItem, NoHook};
use crate::key::FlowExtractor;
use crate::packet::{PacketView, RawPacket, Transport};
use crate::stats::EngineStats;
use crate::timestamp::Timestamp;
use policy::{PortSet, Timeouts};

/// The output buffer type for an engine keyed by `K` whose hook emits `M`.
pub type EventBuf<K, M = NoMessage> = Vec<Ordered<FlowEvent<K, M>>>;

/// Timeout class of flows that closed (FIN/FIN) or were reported and now
/// only absorb trailing packets.
const LINGER_CLASS: u8 = 0;
/// Distinct unsupported link types reported as anomalies (later ones are
/// only counted).
const MAX_LINKTYPE_REPORTS: usize = 16;

/// The flow engine. See the crate docs for the driving protocol. `H` sees
/// every flow's packets and end ([`Sessions`](crate::Sessions) runs
/// reassembly and parsers); the default [`NoHook`] compiles away.
#[derive(Debug)]
pub struct Engine<E: FlowExtractor, H: FlowHook<E::Key> = NoHook> {
    decoder: Decoder,
    extractor: E,
    table: FlowTable<E::Key>,
    frags: Fragments,
    /// `defrag.enabled` (also when the ingest reassembles ahead).
    defrag_enabled: bool,
    clock: Timestamp,
    stats: EngineStats,
    timeouts: Timeouts,
    server_ports: PortSet,
    max_flows: usize,
    /// Emergency mode's timeouts while the table is under pressure (set
    /// when it filled up, cleared once it has `recovered_len` entries or
    /// fewer), and those timeouts.
    emergency: Option<Emergency>,
    emergency_timeouts: Emergency,
    recovered_len: usize,
    active_timeout: u32,
    linger: bool,
    lifecycle_events: bool,
    started_events: bool,
    anomaly_events: bool,
    transport_state: bool,
    /// The hook asked for [`TcpInfo::payload_sum`](crate::TcpInfo::payload_sum).
    payload_sums: bool,
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
    /// The idle-expired part of `scratch_idx`, sorted, when active
    /// timeouts are due in the same batch.
    scratch_idle: Vec<u32>,
    hook: H,
    hook_items: Vec<HookItem<H::Message>>,
    /// The flow being updated was created by this packet.
    created_now: bool,
    /// The end-of-input flush, between two of its steps.
    flush: Option<Box<flush::Flush<E::Key, H::Message>>>,
    /// A timer batch, between two of its steps.
    expiry: Option<Box<timers::Expiry<E::Key, H::Message>>>,
}

/// The table length at or below which emergency mode ends: `recovery`
/// percent of `max_flows` free.
fn recovered_len(max_flows: usize, recovery: u8) -> usize {
    let free = max_flows as u64 * u64::from(recovery) / 100;
    max_flows.saturating_sub(usize::try_from(free).unwrap_or(max_flows))
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
            payload_sums: hook.wants_payload_sums(),
            extractor,
            table: FlowTable::new(&timeouts.seconds, cfg.flow.max_flows),
            frags: Fragments::Own(Defrag::new(cfg.defrag.clone())),
            defrag_enabled: cfg.defrag.enabled,
            clock: Timestamp::ZERO,
            stats: EngineStats::default(),
            timeouts,
            server_ports: PortSet::new(&cfg.flow.server_ports),
            max_flows: cfg.flow.max_flows,
            emergency: None,
            emergency_timeouts: Emergency {
                new: cfg.flow.emergency_new_timeout,
                established: cfg.flow.emergency_established_timeout,
            },
            recovered_len: recovered_len(cfg.flow.max_flows, cfg.flow.emergency_recovery),
            active_timeout: cfg.flow.active_timeout,
            linger: cfg.flow.tcp_closed_linger > 0,
            lifecycle_events: cfg.flow.lifecycle_events,
            started_events: cfg.flow.started_events,
            anomaly_events: cfg.decode.anomaly_events,
            reported_linktypes: Vec::new(),
            evicted_pending: 0,
            cursor: None,
            next_sub: 0,
            known_hash: None,
            scratch_idx: Vec::new(),
            scratch_idle: Vec::new(),
            hook,
            hook_items: Vec::new(),
            created_now: false,
            flush: None,
            expiry: None,
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
        s.defrag = self.frags.counters();
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

    /// Heap bytes of the state every flow has: the flow table (entries and
    /// hash index) and the hook's per-slot state ([`FlowHook::slot_bytes`]).
    pub fn table_bytes(&self) -> usize {
        self.table.heap_bytes() + self.hook.slot_bytes()
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
        if self.expiry.is_some() {
            self.complete_expiry(out);
        }
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
        self.dispatch(seq, &view, out);
        self.known_hash = None;
        if let Fragments::Replay(r) = &mut self.frags
            && r.pending() > 0
        {
            // Upstream decoded this packet differently (it cannot, with
            // the same configuration): its unused steps are forgotten
            // rather than given to the next packet.
            debug_assert!(false, "replayed reassembly steps left unused");
            r.discard();
        }
    }

    /// From now on, fragments are reassembled upstream — by a pipeline's
    /// ingest with a [`FragmentRouter`](crate::unstable::FragmentRouter),
    /// one for the whole input — and this engine replays what it did:
    /// before each packet the router recorded steps for, pass them with
    /// [`Engine::replay_defrag`]; before [`Engine::advance`] and
    /// [`Engine::finish`], pass the drops reported outside packets with
    /// [`Engine::replay_defrag_events`]. The events and flows are those of
    /// an engine that reassembles itself. Its own counters then leave
    /// reassembly out: the router counts.
    pub fn reassemble_upstream(&mut self) {
        self.frags = Fragments::Replay(Replay::default());
    }

    /// Steps `from..to` of `log`: what upstream reassembly did with the
    /// packet processed next. Ignored by an engine that reassembles itself.
    pub fn replay_defrag(&mut self, log: &DefragLog, from: usize, to: usize) {
        if let Fragments::Replay(r) = &mut self.frags {
            r.load(log, from, to);
        }
    }

    /// Drops upstream reassembly reported outside any packet (timeouts,
    /// end of input), emitted by the next [`Engine::advance`] or
    /// [`Engine::finish`]. Ignored by an engine that reassembles itself.
    pub fn replay_defrag_events(&mut self, events: &[DefragEvent]) {
        if let Fragments::Replay(r) = &mut self.frags {
            r.load_events(events);
        }
    }

    fn now_sec(&self) -> u32 {
        crate::flow::sec_of(self.clock)
    }
}

#[cfg(test)]
mod tests;
