//! A tracked flow's life after lookup: each packet's update (counters, TCP
//! and coarse state, the hook and its verdict) and the flow's end (the
//! report, the linger entry or the active-timeout restart).

use super::{Engine, EventBuf, LINGER_CLASS};
use crate::event::{Cause, FlowEvent, FlowStats};
use crate::flow::FlowEntry;
use crate::flow::tcp::{self, ConnProto, Endpoint, TcpStep, tcp_step};
use crate::hook::{FlowHook, HookPacket, TcpInfo, Verdict};
use crate::key::FlowExtractor;
use crate::packet::{PacketView, Transport};
use crate::timestamp::Timestamp;
use crate::vocab::{EndReason, FlowSide, FlowState, History, Letter, Orientation};
use crate::wire::transport::TcpSegment;

impl<E: FlowExtractor, H: FlowHook<E::Key>> Engine<E, H> {
    pub(super) fn update(
        &mut self,
        seq: u64,
        idx: u32,
        view: &PacketView<'_>,
        orientation: Orientation,
        tcp: Option<&TcpSegment<'_>>,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        let now_sec = self.now_sec();
        let mut e = self.table.get_mut(idx);
        let side = if orientation == e.initiator() {
            FlowSide::Initiator
        } else {
            FlowSide::Responder
        };
        let first_of_side = !e.sent(side);
        if e.add_packets(side, view.frames) {
            self.table.carry_packets(idx, side);
            e = self.table.get_mut(idx);
        }
        let s = e.side_mut(side);
        s.bytes += u64::from(view.flow_len());
        s.payload += view.payload.len() as u64;
        s.ip_bytes += u64::from(view.ip_len);
        s.last_seen = s.last_seen.max(view.ts);

        let before = e.state;
        let mut step = TcpStep::default();
        match (e.conn_proto, tcp) {
            (ConnProto::Tcp, Some(t)) => step = tcp_step(e, side, t, view.payload.len()),
            (ConnProto::Udp, _) => {
                e.endpoints[side.index()] = Endpoint::Partial;
                e.history.push(Letter::Data, side);
            }
            _ => {
                e.endpoints[side.index()] = Endpoint::Partial;
                if let (true, Transport::Icmp(i)) = (first_of_side, &view.transport) {
                    e.icmp_code[side.index()] = i.code;
                }
            }
        }
        // Coarse state.
        if e.state == FlowState::New {
            let handshake = e.endpoints == [Endpoint::Established; 2];
            let both_seen = e.sent(FlowSide::Initiator) && e.sent(FlowSide::Responder);
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
            e.flags.set_last_fin(side);
        }
        let state = e.state;
        let detached = e.flags.detached();
        if now_closing {
            self.table.set_class(idx, LINGER_CLASS, now_sec);
        } else {
            self.table.touch(idx, now_sec);
        }

        // Taken whether or not the hook runs: it belongs to this packet.
        let first = std::mem::take(&mut self.created_now);
        let proto = view.ip.map_or(0, |i| i.protocol);
        let verdict = if !H::ACTIVE || !self.hook.wants(proto) {
            Verdict::Continue
        } else if detached {
            self.hook.on_detached(proto, view.payload.len());
            Verdict::Continue
        } else {
            self.run_hook(seq, idx, view, (proto, side), first, out)
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
        } else if verdict == Verdict::Detach {
            self.table.get_mut(idx).flags.set_detached(true);
        }
    }

    /// Shows the packet to the hook and emits what it produced.
    pub(super) fn run_hook(
        &mut self,
        seq: u64,
        idx: u32,
        view: &PacketView<'_>,
        (proto, side): (u8, FlowSide),
        first: bool,
        out: &mut EventBuf<E::Key, H::Message>,
    ) -> Verdict {
        let tcp = if self.transport_state {
            view.tcp()
        } else {
            None
        };
        let e = self.table.get(idx);
        let pkt = HookPacket {
            flow: e.hook_flow(idx),
            proto,
            side,
            ts: view.ts,
            tcp: tcp.map(|t| TcpInfo {
                seq: t.seq(),
                ack: t.ack(),
                flags: t.flags(),
                payload_sum: match view.ip {
                    Some(ip)
                        if self.payload_sums && !view.payload.is_empty() && !view.truncated =>
                    {
                        Some(t.stated_payload_sum(ip.src, ip.dst))
                    }
                    _ => None,
                },
            }),
            payload: view.payload,
            first,
            view,
        };
        let verdict = self.hook.on_packet(&pkt, &mut self.hook_items);
        if !self.hook_items.is_empty() {
            let flow = (
                e.key.clone(),
                e.flow_id(),
                e.initiator(),
                u32::from(e.iface),
            );
            self.emit_hook_items(seq, Cause::Packet, flow, view.ts, out);
        }
        verdict
    }

    /// Reports a flow as ended. TCP flows ended by FIN or RST stay as
    /// linger entries so trailing packets do not start ghost flows; an
    /// active timeout restarts the flow in place; everything else is removed.
    pub(super) fn end(
        &mut self,
        idx: u32,
        reason: EndReason,
        ts: Timestamp,
        seq: u64,
        cause: Cause,
        out: &mut EventBuf<E::Key, H::Message>,
    ) {
        let now_sec = self.now_sec();
        let packets = self.table.packets(idx);
        let e = self.table.get_mut(idx);
        let final_state = match reason {
            EndReason::Fin | EndReason::Rst => FlowState::Closed,
            _ => e.state,
        };
        let mut stats = flow_stats(e, packets, final_state);
        if H::ACTIVE {
            let flow = e.hook_flow(idx);
            self.hook
                .on_end(&flow, reason, ts, &mut stats, &mut self.hook_items);
            if !self.hook_items.is_empty() {
                let flow = (
                    e.key.clone(),
                    e.flow_id(),
                    e.initiator(),
                    u32::from(e.iface),
                );
                self.emit_hook_items(seq, cause, flow, ts, out);
            }
        }
        let tunnel = self.table.tunnel(idx);
        let e = self.table.get(idx);
        let event = FlowEvent::Ended {
            key: e.key.clone(),
            flow_id: e.flow_id(),
            initiator: e.initiator(),
            reason,
            stats: Box::new(stats),
            tunnel,
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
                self.table.reset_counters(idx);
                let e = self.table.get_mut(idx);
                e.start = ts;
                e.history = History::default();
                e.tcp_flags = [0; 2];
                e.flags.set_detached(false);
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
                e.flags.set_ended();
                e.state = FlowState::Closed;
                self.table.unlink_active(idx);
                self.table.set_class(idx, LINGER_CLASS, now_sec);
            }
            _ => self.table.remove(idx),
        }
    }
}

/// Builds the reported statistics of a flow.
fn flow_stats<K>(e: &FlowEntry<K>, packets: [u64; 2], state: FlowState) -> FlowStats {
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
        initiator: e.sides[0].to_stats(packets[0], e.tcp_flags[0], e.icmp_code[0]),
        responder: e.sides[1].to_stats(packets[1], e.tcp_flags[1], e.icmp_code[1]),
        started: e.start,
        last_seen: e.last_seen().max(e.start),
        state,
        conn_state,
        history,
        app_proto: None,
        iface: u32::from(e.iface),
    }
}
