//! The TCP side of [`Sessions`]: each segment's acknowledgement and bytes,
//! with the common case (the next bytes of a stream whose parser is
//! chosen) on a short path and everything else out of line.

use super::Sessions;
use crate::event::AnomalyKind;
use crate::hook::{HookItem, HookPacket, TcpInfo, Verdict};
use crate::reassembly::{Reassembler, Segment};
use crate::session::slot::{Feeder, FlowApp, Parser, tell_acked, tell_chosen};
use crate::vocab::EndReason;
use crate::wire::transport::tcp_flags;

impl<K, M> Sessions<K, M> {
    /// A TCP packet: a pure ACK, or the next bytes of a stream whose parser
    /// is chosen with nothing held, here; anything else in
    /// [`on_tcp_segment`](Self::on_tcp_segment).
    pub(super) fn on_tcp(
        &mut self,
        pkt: &HookPacket<'_, K>,
        out: &mut Vec<HookItem<M>>,
    ) -> Verdict {
        let Some(t) = pkt.tcp else {
            return Verdict::Continue;
        };
        let me = pkt.side.index();
        let has_app = {
            let slot = self.slot(pkt.flow.slot);
            if t.flags & tcp_flags::SYN != 0
                && slot
                    .app
                    .as_ref()
                    .is_none_or(|a| a.streams.get(me).is_none())
            {
                slot.set_isn(me, t.seq);
            }
            slot.app.is_some()
        };
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
                app.acked(pkt.side.other(), t.ack, pkt.ts, out);
            }
            return Verdict::Continue;
        }
        if !has_app {
            if pkt.payload.is_empty() {
                return Verdict::Continue;
            }
            let ports = pkt.ports();
            let decided = self.decided_now(true, ports);
            let app = self.new_app(true, ports, pkt.flow.key, decided);
            self.slot(pkt.flow.slot).app = Some(app);
        }
        let Sessions {
            cfg,
            slots,
            protos,
            mem,
            counters,
            ..
        } = self;
        let slot = &mut slots[pkt.flow.slot as usize];
        let Some(app) = slot.app.as_deref_mut() else {
            return Verdict::Continue;
        };
        // The common case in one short path: the next bytes of a stream
        // whose parser is chosen, nothing held, no flag but ACK/PSH, and an
        // acknowledgement that gives up no hole of the peer's.
        if t.flags & (tcp_flags::SYN | tcp_flags::FIN | tcp_flags::RST) == 0
            && matches!(app.parser, Parser::Stream(_))
            && app.streams.get(me).is_some_and(|s| s.is_next(t.seq))
            && (t.flags & tcp_flags::ACK == 0
                || app
                    .streams
                    .get_mut(1 - me)
                    .is_none_or(|s| s.acked_quietly(t.ack)))
        {
            if t.flags & tcp_flags::ACK != 0 {
                app.acked(pkt.side.other(), t.ack, pkt.ts, out);
            }
            let (Some(s), Parser::Stream(p)) = (app.streams.get_mut(me), &mut app.parser) else {
                return Verdict::Continue;
            };
            s.take_in_order(pkt.payload, t.payload_sum, cfg);
            p.feed(pkt.side, pkt.payload, pkt.ts, out);
            let Some(reason) = p.poisoned() else {
                return Verdict::Continue;
            };
            counters.parser_errors += 1;
            out.push(HookItem::Anomaly(AnomalyKind::ParserPoisoned { reason }));
            Self::retire(slot, (mem, protos), counters);
            return Verdict::End(EndReason::ParseError);
        }
        self.on_tcp_segment(pkt, t, out)
    }

    /// Everything but the common case of [`on_tcp`](Self::on_tcp): the
    /// first bytes of a stream, probing, out-of-order and held segments,
    /// SYN, FIN and RST. Kept out of line so the common case stays short.
    #[inline(never)]
    fn on_tcp_segment(
        &mut self,
        pkt: &HookPacket<'_, K>,
        t: TcpInfo,
        out: &mut Vec<HookItem<M>>,
    ) -> Verdict {
        let me = pkt.side.index();
        let fin = t.flags & tcp_flags::FIN != 0;
        let rst = t.flags & tcp_flags::RST != 0;
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
        let slot = &mut slots[pkt.flow.slot as usize];
        let isn = slot.isn(me);
        let Some(app) = slot.app.as_deref_mut() else {
            return Verdict::Continue;
        };
        let mut feeder = Feeder {
            key: pkt.flow.key,
            routes: tcp,
            probe_bytes: cfg.probe_bytes.max(1),
            items: out,
            counters,
            unclassified: false,
            ts: pkt.ts,
            fed: false,
            chosen: None,
            max_events: *max_events,
        };
        let FlowApp {
            streams,
            parser,
            inconsistent_reported,
            proto,
            acks,
            ..
        } = app;
        let peer = 1 - me;
        // The ACK speaks for the other direction: what it acknowledged and
        // the capture never showed is lost.
        if t.flags & tcp_flags::ACK != 0
            && let Some(s) = streams.get_mut(peer)
        {
            s.acked(t.ack);
            let side = pkt.side.other();
            if !pkt.payload.is_empty() || fin {
                s.peer_moved_on(mem, &mut |c| feeder.chunk(parser, side, c));
            }
            tell_acked(acks, parser, streams, side, t.ack, pkt.ts, feeder.items);
        }
        let mut verdict = Verdict::Continue;
        if !pkt.payload.is_empty() || fin {
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
            let seg = Segment {
                seq,
                payload: pkt.payload,
                fin,
                payload_sum: t.payload_sum,
            };
            let outcome = stream.segment(seg, cfg, mem, &mut |c| feeder.chunk(parser, side, c));
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
                feeder.eof(parser, side);
            }
        }
        if feeder.chosen.is_some() {
            tell_chosen(acks, parser, streams, pkt.ts, feeder.items);
        }
        if rst && verdict == Verdict::Continue {
            // Nothing more will come: what is held goes out now (the flow
            // ends at this packet, and the parser hears of the reset then).
            feeder.flush_streams(streams, parser, mem);
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
        if verdict == Verdict::End(EndReason::BufferOverflow) {
            // Retired when the flow ends, after the parser hears of it.
            counters.flows_dropped += 1;
        } else if verdict != Verdict::Continue {
            Self::retire(slot, (mem, protos), counters);
        } else if unclassified {
            counters.flows_unclassified += 1;
            Self::retire(slot, (mem, protos), counters);
            return Verdict::Detach;
        }
        verdict
    }
}
