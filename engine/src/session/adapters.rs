//! Object-safe adapters between the public parser traits and the driver:
//! a [`SessionParser`] or [`DatagramParser`] whose messages convert to the
//! driver's message type, boxed behind one dynamic call per feed, and the
//! factories that make them per flow.

use super::route::Route;
use super::{
    DatagramParser, DatagramParserFactory, SessionParser, SessionParserFactory, cut_reason,
};
use crate::hook::HookItem;
use crate::timestamp::Timestamp;
use crate::vocab::FlowSide;

/// An object-safe view of a [`SessionParser`] whose messages convert to `M`.
/// Each call first tells the parser the packet time (a no-op that compiles
/// away for parsers that keep the default), so it costs one dynamic call.
pub(super) trait StreamParser<M>: Send {
    fn feed(&mut self, side: FlowSide, bytes: &[u8], ts: Timestamp, out: &mut Vec<HookItem<M>>);
    fn gap(&mut self, side: FlowSide, len: u64, ts: Timestamp, out: &mut Vec<HookItem<M>>);
    fn fin(&mut self, side: FlowSide, ts: Timestamp, out: &mut Vec<HookItem<M>>);
    fn rst(&mut self, side: FlowSide, ts: Timestamp);
    fn end(&mut self, ts: Timestamp, out: &mut Vec<HookItem<M>>);
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
}

pub(super) struct StreamAdapter<P>(pub(super) P);

#[inline]
pub(super) fn push_all<T: Into<M>, M>(side: FlowSide, msgs: Vec<T>, out: &mut Vec<HookItem<M>>) {
    if !msgs.is_empty() {
        out.extend(msgs.into_iter().map(|m| HookItem::Message(side, m.into())));
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
    fn acked(
        &mut self,
        side: FlowSide,
        offset: u64,
        ts: Timestamp,
        out: &mut Vec<HookItem<M>>,
    ) -> bool {
        if !self.0.wants_acks() {
            return false;
        }
        self.0.packet_time(ts);
        let msgs = match side {
            FlowSide::Initiator => self.0.acked_initiator(offset),
            FlowSide::Responder => self.0.acked_responder(offset),
        };
        push_all(side, msgs, out);
        self.0.wants_acks()
    }
    fn app_proto(&self) -> Option<crate::event::AppProto> {
        self.0.app_proto()
    }
    fn poisoned(&self) -> Option<Box<str>> {
        self.0
            .is_poisoned()
            .then(|| reason_of(self.0.poison_reason()))
    }
}

pub(super) trait DgramParser<M>: Send {
    fn parse(&mut self, side: FlowSide, payload: &[u8], ts: Timestamp, out: &mut Vec<HookItem<M>>);
    fn end(&mut self, ts: Timestamp, out: &mut Vec<HookItem<M>>);
    fn poisoned(&self) -> Option<Box<str>>;
}

pub(super) struct DgramAdapter<P>(pub(super) P);

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

pub(super) trait MakeStream<K, M>: Send {
    fn make(&mut self, key: &K) -> Box<dyn StreamParser<M>>;
}

pub(super) trait MakeDgram<K, M>: Send {
    fn make(&mut self, key: &K) -> Box<dyn DgramParser<M>>;
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
    fn make(&mut self, key: &K) -> Box<dyn StreamParser<M>> {
        Box::new(StreamAdapter(self.0.new_parser(key)))
    }
}

pub(super) struct DgramFactory<F>(pub(super) F);

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
