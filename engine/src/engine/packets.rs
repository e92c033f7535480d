//! The packet path after decoding: fragments through reassembly, keying,
//! the flow-table lookup (lingering closed flows, idle expiry on arrival,
//! port reuse), eviction, flow creation, and who initiates.

use super::{Engine, EventBuf, LINGER_CLASS};
use crate::decode::Decoder;
use crate::defrag::{DefragDrop, DefragOutcome, FragmentPath, walk};
use crate::event::{AnomalyKind, Cause, FlowEvent};
use crate::flow::tcp::{ConnProto, Endpoint};
use crate::flow::{Flags, FlowEntry, NIL, SideCounters, idle_expired, sec_of};
use crate::hook::FlowHook;
use crate::key::{Extracted, FlowExtractor, icmp_is_reply};
use crate::packet::{PacketView, Transport};
use crate::timestamp::Timestamp;
use crate::vocab::{EndReason, FlowState, History, flow_id};
use crate::wire::transport::tcp_flags;
use crate::wire::{DecodeError, ipproto};
use std::time::Duration;

impl<E: FlowExtractor, H: FlowHook<E::Key>> Engine<E, H> {
    /// Tracks a decoded packet; a fragment first goes through reassembly
    /// (the engine's own, or replayed from upstream).
    #[inline]
    pub(super) fn dispatch(
        &mut self,
        seq: u64,
        view: &PacketView<'_>,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        if !matches!(view.transport, Transport::Fragment) {
            self.track(seq, view, out);
            return;
        }
        walk(
            &mut EnginePath {
                engine: self,
                seq,
                out,
            },
            view,
            0,
        );
    }

    /// The fragment buffers' events as anomalies; the drops of datagrams
    /// unfinished at the end of input only with `unfinished` (the timers
    /// the end fires leave them to the flush).
    pub(super) fn drain_defrag(
        &mut self,
        seq: u64,
        cause: Cause,
        unfinished: bool,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        let mut events: Vec<_> = self.frags.drain_events().collect();
        if !unfinished && events.iter().any(|e| e.drop == DefragDrop::Unfinished) {
            let (held, now): (Vec<_>, Vec<_>) = events
                .into_iter()
                .partition(|e| e.drop == DefragDrop::Unfinished);
            self.frags.keep_events(held);
            events = now;
        }
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

    #[inline]
    pub(super) fn track(
        &mut self,
        seq: u64,
        view: &PacketView<'_>,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
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
                let timeout = self.table.idle_timeout(e, self.emergency);
                // Idle by the packet clock, or (a flow not yet reported) by
                // its own packets' times: after the capture's clock steps
                // back, the packet clock stands still until the packets
                // catch up with it, and a flow's gaps are measured on its
                // packets. A linger entry's packets are absorbed, not
                // timed: the clock alone ends it.
                let ended = e.ended();
                let expired = idle_expired(e.activity_sec, timeout, now_sec)
                    || (!ended && idle_expired(sec_of(e.last_seen()), timeout, view.ts.secs()));
                if ended && (expired || new_syn) {
                    // The linger is over, or a new connection reuses the
                    // ports: the old connection is gone.
                    self.table.remove(idx);
                    None
                } else if ended {
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
    pub(super) fn absorb_after_close(&mut self, idx: u32, view: &PacketView<'_>) {
        self.stats.packets_after_close += u64::from(view.frames);
        let now_sec = self.now_sec();
        self.table.touch(idx, now_sec);
    }

    /// After ending a flow in order to start a new one with the same key,
    /// drops the linger entry `end` may have left.
    pub(super) fn forget_tombstone(&mut self, x: &Extracted<E::Key>) {
        if let Some(idx) = self.table.find(x.hash, &x.key) {
            self.table.remove(idx);
        }
    }

    pub(super) fn create(
        &mut self,
        seq: u64,
        view: &PacketView<'_>,
        x: &Extracted<E::Key>,
        out: &mut EventBuf<E::Key, H::Message>,
    ) -> u32 {
        if self.table.len() >= self.max_flows && self.emergency.is_none() {
            self.emergency = Some(self.emergency_timeouts);
            self.stats.emergency_entered += 1;
        }
        while self.table.len() >= self.max_flows {
            let Some(victim) = self.table.eviction_victim(LINGER_CLASS) else {
                break;
            };
            if self.table.get(victim).ended() {
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
            packets: [0; 2],
            history,
            flags: Flags::new(initiator),
            endpoints: [Endpoint::Inactive; 2],
            tcp_flags: [0; 2],
            icmp_code: [0; 2],
            conn_proto,
            state: FlowState::New,
            prev: NIL,
            next: NIL,
            activity_sec: now_sec,
            class,
            iface: u16::try_from(view.iface).unwrap_or(u16::MAX),
        };
        let idx = self.table.insert(entry, view.tunnel);
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
            ipproto::ICMP => p.icmp += 1,
            ipproto::ICMPV6 => {
                p.icmp += 1;
                p.icmpv6 += 1;
            }
            _ => p.other += 1,
        }
        self.stats.peak_flows = self.stats.peak_flows.max(self.active_flows());
        if self.started_events {
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
    pub(super) fn sender_initiates(&self, view: &PacketView<'_>) -> bool {
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
}

/// A connection that a fresh SYN replaces rather than joins: one side has
/// closed or reset.
fn reusable<K>(e: &FlowEntry<K>) -> bool {
    e.endpoints
        .iter()
        .any(|s| matches!(s, Endpoint::Closed | Endpoint::Reset))
}

/// The engine's side of the fragment walk: drops become anomalies at the
/// packet, rebuilt datagrams are noted and tracked.
struct EnginePath<'a, E: FlowExtractor, H: FlowHook<E::Key>> {
    engine: &'a mut Engine<E, H>,
    seq: u64,
    out: &'a mut EventBuf<E::Key, H::Message>,
}

impl<E: FlowExtractor, H: FlowHook<E::Key>> FragmentPath for EnginePath<'_, E, H> {
    fn decoder(&self) -> &Decoder {
        &self.engine.decoder
    }
    fn reassembling(&self) -> bool {
        self.engine.defrag_enabled
    }
    fn truncated(&mut self, view: &PacketView<'_>) {
        self.engine.frags.note_truncated(view);
        self.engine
            .drain_defrag(self.seq, Cause::Packet, true, self.out);
    }
    fn insert(&mut self, view: &PacketView<'_>) -> DefragOutcome {
        let outcome = self.engine.frags.insert(view, self.engine.clock);
        self.engine
            .drain_defrag(self.seq, Cause::Packet, true, self.out);
        outcome
    }
    fn recycle(&mut self, data: Vec<u8>) {
        self.engine.frags.recycle(data);
    }
    fn whole(&mut self, view: &PacketView<'_>) {
        self.engine.note(self.seq, view, self.out);
    }
    fn failed(&mut self, error: DecodeError, ts: Timestamp) {
        self.engine.decode_error(self.out, self.seq, error, ts);
    }
    fn track(&mut self, view: &PacketView<'_>) {
        self.engine.track(self.seq, view, self.out);
    }
}
