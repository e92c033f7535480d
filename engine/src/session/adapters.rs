//! Object-safe adapters between the public parser traits and the driver:
//! a [`SessionParser`] or [`DatagramParser`] whose messages convert to the
//! driver's message type, boxed behind one dynamic call per feed, and the
//! factories that make them per flow. An adapter also counts its flow's
//! transactions and reports its parser's protocol anomalies, up to the
//! per-flow cap ([`Notes`]).

use super::route::Route;
use super::{
    DatagramParser, DatagramParserFactory, SessionParser, SessionParserFactory, cut_reason,
};
use crate::event::{AnomalyKind, AppEvent};
use crate::hook::HookItem;
use crate::timestamp::Timestamp;
use crate::vocab::{EndReason, FlowSide};

/// What an adapter counted on its flow.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Notes {
    /// Messages that are transactions.
    pub(super) tx: u64,
    /// Protocol anomalies reported.
    pub(super) events: u64,
    /// Protocol anomalies past the cap (counted only).
    pub(super) capped: u64,
    /// The cap.
    pub(super) max_events: u32,
}

impl Notes {
    fn with_cap(max_events: u32) -> Self {
        Notes {
            max_events,
            ..Notes::default()
        }
    }

    /// Reports what a parser call produced: its pending anomalies first
    /// (taken with `next`, up to the cap), then its messages from `side`,
    /// counting the transactions.
    fn report<T: Into<M>, M>(
        &mut self,
        mut next: impl FnMut() -> Option<AppEvent>,
        side: FlowSide,
        msgs: Vec<T>,
        is_tx: fn(&T) -> bool,
        out: &mut Vec<HookItem<M>>,
    ) {
        while let Some(e) = next() {
            if self.events < u64::from(self.max_events) {
                self.events += 1;
                out.push(HookItem::Anomaly(AnomalyKind::AppLayer(e)));
            } else {
                self.capped += 1;
            }
        }
        if !msgs.is_empty() {
            self.tx += msgs.iter().filter(|m| is_tx(m)).count() as u64;
            out.extend(msgs.into_iter().map(|m| HookItem::Message(side, m.into())));
        }
    }
}

/// An object-safe view of a [`SessionParser`] whose messages convert to `M`.
/// Each call first tells the parser the packet time (a no-op that compiles
/// away for parsers that keep the default), so it costs one dynamic call.
pub(super) trait StreamParser<M>: Send {
    fn feed(&mut self, side: FlowSide, bytes: &[u8], ts: Timestamp, out: &mut Vec<HookItem<M>>);
    fn gap(&mut self, side: FlowSide, len: u64, ts: Timestamp, out: &mut Vec<HookItem<M>>);
    /// `side`'s FIN was reached in its stream.
    fn eof(&mut self, side: FlowSide, ts: Timestamp, out: &mut Vec<HookItem<M>>);
    /// The flow ended for `reason`: the 0.3 close calls (`fin_*` or
    /// `rst_*`, both sides), then `flow_end`.
    fn end(&mut self, reason: EndReason, ts: Timestamp, out: &mut Vec<HookItem<M>>);
    /// `side`'s stream was acknowledged up to `offset`; returns whether the
    /// parser wants to hear of acknowledgements again.
    fn acked(
        &mut self,
        side: FlowSide,
        offset: u64,
        ts: Timestamp,
        out: &mut Vec<HookItem<M>>,
    ) -> bool;
    fn app_proto(&self) -> Option<crate::event::AppProto>;
    fn poisoned(&self) -> Option<Box<str>>;
    fn notes(&self) -> Notes;
}

pub(super) struct StreamAdapter<P> {
    parser: P,
    notes: Notes,
}

impl<P: SessionParser> StreamAdapter<P> {
    /// Reports the anomalies the last call noticed, then its messages.
    fn emit<M>(&mut self, side: FlowSide, msgs: Vec<P::Message>, out: &mut Vec<HookItem<M>>)
    where
        P::Message: Into<M>,
    {
        let parser = &mut self.parser;
        self.notes
            .report(|| parser.next_event(), side, msgs, P::is_transaction, out);
    }
}

pub(super) fn reason_of(reason: Option<&str>) -> Box<str> {
    cut_reason(reason.unwrap_or("parser poisoned"))
}

impl<P, M> StreamParser<M> for StreamAdapter<P>
where
    P: SessionParser,
    P::Message: Into<M>,
{
    fn feed(&mut self, side: FlowSide, bytes: &[u8], ts: Timestamp, out: &mut Vec<HookItem<M>>) {
        self.parser.packet_time(ts);
        let msgs = match side {
            FlowSide::Initiator => self.parser.feed_initiator(bytes),
            FlowSide::Responder => self.parser.feed_responder(bytes),
        };
        self.emit(side, msgs, out);
    }
    fn gap(&mut self, side: FlowSide, len: u64, ts: Timestamp, out: &mut Vec<HookItem<M>>) {
        self.parser.packet_time(ts);
        let msgs = match side {
            FlowSide::Initiator => self.parser.gap_initiator(len),
            FlowSide::Responder => self.parser.gap_responder(len),
        };
        self.emit(side, msgs, out);
    }
    fn eof(&mut self, side: FlowSide, ts: Timestamp, out: &mut Vec<HookItem<M>>) {
        self.parser.packet_time(ts);
        let msgs = match side {
            FlowSide::Initiator => self.parser.eof_initiator(),
            FlowSide::Responder => self.parser.eof_responder(),
        };
        self.emit(side, msgs, out);
    }
    fn end(&mut self, reason: EndReason, ts: Timestamp, out: &mut Vec<HookItem<M>>) {
        self.parser.packet_time(ts);
        match reason {
            EndReason::Fin | EndReason::IdleTimeout | EndReason::Shutdown => {
                let msgs = self.parser.fin_initiator();
                self.emit(FlowSide::Initiator, msgs, out);
                let msgs = self.parser.fin_responder();
                self.emit(FlowSide::Responder, msgs, out);
            }
            EndReason::Rst | EndReason::Evicted | EndReason::BufferOverflow => {
                self.parser.rst_initiator();
                self.parser.rst_responder();
            }
            EndReason::ParseError | EndReason::ActiveTimeout => {}
        }
        // End-of-flow messages belong to no side; they are given to the
        // initiator's.
        let msgs = self.parser.flow_end();
        self.emit(FlowSide::Initiator, msgs, out);
    }
    fn acked(
        &mut self,
        side: FlowSide,
        offset: u64,
        ts: Timestamp,
        out: &mut Vec<HookItem<M>>,
    ) -> bool {
        if !self.parser.wants_acks() {
            return false;
        }
        self.parser.packet_time(ts);
        let msgs = match side {
            FlowSide::Initiator => self.parser.acked_initiator(offset),
            FlowSide::Responder => self.parser.acked_responder(offset),
        };
        self.emit(side, msgs, out);
        self.parser.wants_acks()
    }
    fn app_proto(&self) -> Option<crate::event::AppProto> {
        self.parser.app_proto()
    }
    fn poisoned(&self) -> Option<Box<str>> {
        self.parser
            .is_poisoned()
            .then(|| reason_of(self.parser.poison_reason()))
    }
    fn notes(&self) -> Notes {
        self.notes
    }
}

pub(super) trait DgramParser<M>: Send {
    fn parse(&mut self, side: FlowSide, payload: &[u8], ts: Timestamp, out: &mut Vec<HookItem<M>>);
    fn end(&mut self, ts: Timestamp, out: &mut Vec<HookItem<M>>);
    fn poisoned(&self) -> Option<Box<str>>;
    fn notes(&self) -> Notes;
}

pub(super) struct DgramAdapter<P> {
    parser: P,
    notes: Notes,
}

impl<P: DatagramParser> DgramAdapter<P> {
    /// Reports the anomalies the last call noticed, then its messages.
    fn emit<M>(&mut self, side: FlowSide, msgs: Vec<P::Message>, out: &mut Vec<HookItem<M>>)
    where
        P::Message: Into<M>,
    {
        let parser = &mut self.parser;
        self.notes
            .report(|| parser.next_event(), side, msgs, P::is_transaction, out);
    }
}

impl<P, M> DgramParser<M> for DgramAdapter<P>
where
    P: DatagramParser,
    P::Message: Into<M>,
{
    fn parse(&mut self, side: FlowSide, payload: &[u8], ts: Timestamp, out: &mut Vec<HookItem<M>>) {
        self.parser.packet_time(ts);
        let msgs = self.parser.parse(payload, side);
        self.emit(side, msgs, out);
    }
    fn end(&mut self, ts: Timestamp, out: &mut Vec<HookItem<M>>) {
        self.parser.packet_time(ts);
        let msgs = self.parser.flow_end();
        self.emit(FlowSide::Initiator, msgs, out);
    }
    fn poisoned(&self) -> Option<Box<str>> {
        self.parser
            .is_poisoned()
            .then(|| reason_of(self.parser.poison_reason()))
    }
    fn notes(&self) -> Notes {
        self.notes
    }
}

/// Makes a flow's parser; it reports at most `max_events` anomalies.
pub(super) trait MakeStream<K, M>: Send {
    fn make(&mut self, key: &K, max_events: u32) -> Box<dyn StreamParser<M>>;
}

/// Makes a flow's datagram parser (as [`MakeStream`]).
pub(super) trait MakeDgram<K, M>: Send {
    fn make(&mut self, key: &K, max_events: u32) -> Box<dyn DgramParser<M>>;
}

/// A TCP registration.
pub(super) type StreamRoute<K, M> = (Route, Box<dyn MakeStream<K, M>>);

/// A UDP registration.
pub(super) type DgramRoute<K, M> = (Route, Box<dyn MakeDgram<K, M>>);

pub(super) struct Factory<F>(pub(super) F);

impl<K, M, F> MakeStream<K, M> for Factory<F>
where
    F: SessionParserFactory<K>,
    <F::Parser as SessionParser>::Message: Into<M>,
    M: 'static,
{
    fn make(&mut self, key: &K, max_events: u32) -> Box<dyn StreamParser<M>> {
        Box::new(StreamAdapter {
            parser: self.0.new_parser(key),
            notes: Notes::with_cap(max_events),
        })
    }
}

pub(super) struct DgramFactory<F>(pub(super) F);

impl<K, M, F> MakeDgram<K, M> for DgramFactory<F>
where
    F: DatagramParserFactory<K>,
    <F::Parser as DatagramParser>::Message: Into<M>,
    M: 'static,
{
    fn make(&mut self, key: &K, max_events: u32) -> Box<dyn DgramParser<M>> {
        Box::new(DgramAdapter {
            parser: self.0.new_parser(key),
            notes: Notes::with_cap(max_events),
        })
    }
}
