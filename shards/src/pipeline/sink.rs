//! What the shards turn engine events into: the [`EventSink`] trait and
//! the two built-in sinks, [`Events`] (the events themselves) and
//! [`SessionEvents`] (session-level events).

use flowscope_engine::{FlowEvent, NoMessage, Ordered, SessionEvent};

/// Turns engine events into the items the pipeline delivers. It runs on the
/// shard threads, in parallel, so expensive per-event work (rendering JSON,
/// say) belongs here rather than after the merge.
/// `M` is the message type of the shards'
/// [`FlowHook`](flowscope_engine::FlowHook) (none by default).
pub trait EventSink<K, M = NoMessage>: Clone + Send + 'static {
    /// What the pipeline delivers.
    type Item: Send + 'static;
    /// Maps one event; `None` drops it.
    fn map(&mut self, event: Ordered<FlowEvent<K, M>>) -> Option<Self::Item>;

    /// Called by the merger with the item's final `sub` (its index among
    /// the merged events of its seq, the value a single engine would have
    /// given it). Items that carry no order key ignore it.
    fn renumber(_item: &mut Self::Item, _sub: u32) {}
}

/// The identity sink: the pipeline delivers the engine's events.
#[derive(Debug, Clone, Copy, Default)]
pub struct Events;

impl<K: Send + 'static, M: Send + 'static> EventSink<K, M> for Events {
    type Item = Ordered<FlowEvent<K, M>>;
    fn map(&mut self, event: Ordered<FlowEvent<K, M>>) -> Option<Self::Item> {
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
    fn map(&mut self, o: Ordered<FlowEvent<K, M>>) -> Option<Self::Item> {
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
