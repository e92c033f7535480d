//! What the shards turn engine events into: the [`EventSink`] trait and
//! the two built-in sinks, [`Events`] (the events themselves) and
//! [`SessionEvents`] (session-level events).

use flowscope_engine::{FlowEvent, NoMessage, Ordered, SessionEvent};

/// Turns engine events into the items the pipeline delivers. It runs on the
/// shard threads, in parallel, so expensive per-event work (rendering JSON,
/// say) belongs here rather than after the merge.
/// `M` is the message type of the shards'
/// [`FlowHook`](flowscope_engine::FlowHook) (none by default).
///
/// A sink that makes bytes (a rendered record) writes them into the buffer
/// `map` is given and returns an item that says where they are: a shard
/// gathers its items' bytes in one buffer, which travels to the merge with
/// them and comes back to be filled again, so no item needs a buffer of
/// its own. [`Pipeline::consume_with_bytes`](super::Pipeline::consume_with_bytes)
/// hands each item over with its buffer; what must own its bytes
/// ([`Pipeline::receiver`](super::Pipeline::receiver),
/// [`Pipeline::consume`](super::Pipeline::consume)) gets the item
/// [`detach`](Self::detach) makes.
pub trait EventSink<K, M = NoMessage>: Clone + Send + 'static {
    /// What the pipeline delivers.
    type Item: Send + 'static;
    /// Maps one event; `None` drops it. `bytes` is the buffer of the items
    /// being gathered: the item's bytes, if it has any, are appended to it.
    fn map(&mut self, event: Ordered<FlowEvent<K, M>>, bytes: &mut Vec<u8>) -> Option<Self::Item>;

    /// Called by the merger with the item's final `sub` (its index among
    /// the merged events of its seq, the value a single engine would have
    /// given it). Items that carry no order key ignore it.
    fn renumber(_item: &mut Self::Item, _sub: u32) {}

    /// The item as one that owns its bytes, given the buffer `map` wrote
    /// them to. Items without bytes are delivered as they are (the
    /// default); an item detached already, given an empty buffer, must
    /// come back as it is.
    fn detach(item: Self::Item, _bytes: &[u8]) -> Self::Item {
        item
    }
}

/// The identity sink: the pipeline delivers the engine's events.
#[derive(Debug, Clone, Copy, Default)]
pub struct Events;

impl<K: Send + 'static, M: Send + 'static> EventSink<K, M> for Events {
    type Item = Ordered<FlowEvent<K, M>>;
    fn map(&mut self, event: Ordered<FlowEvent<K, M>>, _: &mut Vec<u8>) -> Option<Self::Item> {
        Some(event)
    }
    fn renumber(item: &mut Self::Item, sub: u32) {
        item.sub = sub;
    }
}

/// The session sink: the pipeline delivers [`SessionEvent`]s (flow starts
/// with `flow.started_events`, on by default; parser messages; ends) with
/// their order keys; `sub` numbers the session events of a seq. Anomalies
/// are delivered only when asked for with
/// [`with_emit_anomalies`](Self::with_emit_anomalies), as flowscope 0.3's
/// session drivers do.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionEvents {
    anomalies: bool,
}

impl SessionEvents {
    /// A sink that delivers [`SessionEvent::Anomaly`] events too (default:
    /// not).
    pub fn with_emit_anomalies(mut self, enable: bool) -> Self {
        self.anomalies = enable;
        self
    }
}

impl<K: Send + 'static, M: Send + 'static> EventSink<K, M> for SessionEvents {
    type Item = Ordered<SessionEvent<K, M>>;
    fn map(&mut self, o: Ordered<FlowEvent<K, M>>, _: &mut Vec<u8>) -> Option<Self::Item> {
        let event = o.event.into_session_event()?;
        if !self.anomalies && matches!(event, SessionEvent::Anomaly { .. }) {
            return None;
        }
        Some(Ordered {
            seq: o.seq,
            cause: o.cause,
            time: o.time,
            tiebreak: o.tiebreak,
            sub: o.sub,
            event,
        })
    }
    fn renumber(item: &mut Self::Item, sub: u32) {
        item.sub = sub;
    }
}
