//! Each flow's repeated fields, as last rendered. Every record of a flow
//! repeats its `flow_id` and its endpoint fields (`vlan`, `src_ip` …
//! `proto`, `community_id`), and the Community ID alone is a SHA-1 over the
//! endpoints. A renderer keeps them in a small direct-mapped table by flow
//! id: a later record of the flow found there (same id, same key, same
//! source side) copies the bytes instead of composing them again.
//!
//! The key is compared, not trusted to the id: two flows whose ids collide
//! each render their own endpoints. The table has a fixed number of slots
//! (no growth with the number of flows, a slot's bytes are reused); a newer
//! flow takes over a slot, and a flow's `flow` record, the last of the
//! flow, looks its slot up and frees it.

use flowscope_engine::Orientation;
use std::any::Any;

/// Slots per renderer, a power of two. On the big trace (2 238 flows open
/// at peak, 143 430 records with a flow id) 1024 slots find 56 496 records'
/// fields, against 57 877 with 2048 and 58 640 with 4096; about 250 KB
/// once every slot has held a flow.
const SLOTS: usize = 1024;

/// The rendered fields of one flow (its id is in [`Table::ids`]).
struct Slot<K> {
    /// The side written as the source.
    source: Orientation,
    key: Option<K>,
    /// `,"flow_id":N` then the endpoint members, each run with its
    /// leading comma; `split` is where the second starts.
    text: Vec<u8>,
    split: usize,
}

/// The table of one key type.
struct Table<K> {
    /// Each slot's flow id, 0 when empty (flow ids are never 0): apart
    /// from the slots (8 KiB against about 100 KiB), so that a flow's
    /// last record, for about half the flows their only one, finds the
    /// slot held by another flow without reading the slot itself.
    ids: Box<[u64]>,
    slots: Box<[Slot<K>]>,
}

/// A hit: the two runs of a slot, to append with
/// [`JsonObject::raw_members`](crate::json::JsonObject::raw_members).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cached<'c> {
    pub(crate) flow_id: &'c [u8],
    pub(crate) endpoints: &'c [u8],
}

/// A renderer's table, made for the key type of the first record cached
/// (a renderer sees one key type; another one starts a fresh table).
#[derive(Default)]
pub(crate) struct EndpointCache {
    table: Option<Box<dyn Any + Send>>,
}

impl std::fmt::Debug for EndpointCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointCache")
            .field("made", &self.table.is_some())
            .finish()
    }
}

/// A copy of a renderer starts with an empty table.
impl Clone for EndpointCache {
    fn clone(&self) -> Self {
        EndpointCache::default()
    }
}

fn slot_of(flow_id: u64) -> usize {
    // Flow ids are the output of a mixing function: their low bits are
    // as good as any.
    (flow_id as usize) & (SLOTS - 1)
}

impl EndpointCache {
    fn table<K: Clone + PartialEq + Send + 'static>(&mut self) -> &mut Table<K> {
        if !self.table.as_ref().is_some_and(|t| t.is::<Table<K>>()) {
            let slots = (0..SLOTS)
                .map(|_| Slot {
                    source: Orientation::Forward,
                    key: None,
                    text: Vec::new(),
                    split: 0,
                })
                .collect();
            let ids = vec![0; SLOTS].into_boxed_slice();
            self.table = Some(Box::new(Table::<K> { ids, slots }));
        }
        match self
            .table
            .as_mut()
            .and_then(|t| t.downcast_mut::<Table<K>>())
        {
            Some(t) => t,
            None => unreachable!("the table was made for this key type above"),
        }
    }

    /// The runs of flow `flow_id` with `key`, written with `source` as the
    /// source; `None` when not held.
    pub(crate) fn find<K: Clone + PartialEq + Send + 'static>(
        &mut self,
        flow_id: u64,
        key: &K,
        source: Orientation,
    ) -> Option<Cached<'_>> {
        let t = self.table::<K>();
        let i = slot_of(flow_id);
        if t.ids[i] != flow_id {
            return None;
        }
        let s = &t.slots[i];
        (s.source == source && s.key.as_ref() == Some(key)).then(|| {
            let (id, endpoints) = s.text.split_at(s.split);
            Cached {
                flow_id: id,
                endpoints,
            }
        })
    }

    /// Holds the runs just rendered for a flow (taking its slot over).
    pub(crate) fn keep<K: Clone + PartialEq + Send + 'static>(
        &mut self,
        flow_id: u64,
        key: &K,
        source: Orientation,
        runs: Cached<'_>,
    ) {
        if flow_id == 0 {
            return;
        }
        let t = self.table::<K>();
        let i = slot_of(flow_id);
        t.ids[i] = flow_id;
        let s = &mut t.slots[i];
        s.source = source;
        match &mut s.key {
            Some(k) => k.clone_from(key),
            none => *none = Some(key.clone()),
        }
        s.text.clear();
        s.text.extend_from_slice(runs.flow_id);
        s.text.extend_from_slice(runs.endpoints);
        s.split = runs.flow_id.len();
    }

    /// Frees the slot of flow `flow_id` (after its last record), keeping
    /// the slot's buffer for the next flow.
    pub(crate) fn forget<K: Clone + PartialEq + Send + 'static>(&mut self, flow_id: u64) {
        let id = &mut self.table::<K>().ids[slot_of(flow_id)];
        if *id == flow_id {
            *id = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs<'a>(id: &'a [u8], e: &'a [u8]) -> Cached<'a> {
        Cached {
            flow_id: id,
            endpoints: e,
        }
    }

    #[test]
    fn finds_a_flow_by_id_key_and_source_only() {
        let mut c = EndpointCache::default();
        assert!(c.find(7, &1u32, Orientation::Forward).is_none());
        c.keep(
            7,
            &1u32,
            Orientation::Forward,
            runs(b",\"flow_id\":7", b",\"a\":1"),
        );
        let hit = c.find(7, &1u32, Orientation::Forward).unwrap();
        assert_eq!(
            (hit.flow_id, hit.endpoints),
            (&b",\"flow_id\":7"[..], &b",\"a\":1"[..])
        );
        // Another key with the same id (a collision), the other side, or
        // another id in the same slot: not the flow held.
        assert!(c.find(7, &2u32, Orientation::Forward).is_none());
        assert!(c.find(7, &1u32, Orientation::Reverse).is_none());
        assert!(
            c.find(7 + SLOTS as u64, &1u32, Orientation::Forward)
                .is_none()
        );
    }

    #[test]
    fn a_newer_flow_takes_the_slot_over_and_forget_frees_only_its_own() {
        let mut c = EndpointCache::default();
        let other = 7 + SLOTS as u64;
        c.keep(
            7,
            &1u32,
            Orientation::Forward,
            runs(b",\"f\":7", b",\"a\":1"),
        );
        c.keep(
            other,
            &3u32,
            Orientation::Reverse,
            runs(b",\"f\":9", b",\"b\":2"),
        );
        assert!(c.find(7, &1u32, Orientation::Forward).is_none());
        c.forget::<u32>(7);
        let hit = c.find(other, &3u32, Orientation::Reverse).unwrap();
        assert_eq!(hit.endpoints, b",\"b\":2");
        c.forget::<u32>(other);
        assert!(c.find(other, &3u32, Orientation::Reverse).is_none());
    }

    #[test]
    fn another_key_type_starts_a_fresh_table_and_a_clone_is_empty() {
        let mut c = EndpointCache::default();
        c.keep(
            7,
            &1u32,
            Orientation::Forward,
            runs(b",\"f\":7", b",\"a\":1"),
        );
        assert!(c.clone().find(7, &1u32, Orientation::Forward).is_none());
        assert!(c.find(7, &1u64, Orientation::Forward).is_none());
        assert!(c.find(7, &1u32, Orientation::Forward).is_none());
    }

    /// Through the renderer: every line is the line a renderer with an
    /// empty table writes.
    mod rendered {
        use crate::{EveMessage, EveRenderer, JsonObject, OutputConfig};
        use flowscope_engine::{
            Cause, EndReason, Endpoint, FiveTupleKey, FlowEvent, FlowSide, KeyContext, Ordered,
            Orientation, Timestamp,
        };

        /// A message whose record names its source as the packet's sender
        /// when asked (as QUIC's do).
        #[derive(Debug, Clone)]
        struct Note(bool);

        impl EveMessage for Note {
            fn event_type(&self) -> Option<&'static str> {
                Some("note")
            }
            fn write_body(&self, o: &mut JsonObject<'_>, _: &OutputConfig) {
                o.begin("note").bool("sender", self.0).end();
            }
            fn sender_is_source(&self) -> bool {
                self.0
            }
        }

        type Ev = Ordered<FlowEvent<FiveTupleKey, Note>>;

        fn key(a: &str, pa: u16, b: &str, pb: u16, proto: u8, vlans: &[u16]) -> FiveTupleKey {
            let mut context = KeyContext::default();
            for &v in vlans {
                context.vlans.push(v);
            }
            let end = |addr: &str, port| Endpoint {
                addr: addr.parse().unwrap(),
                port,
            };
            FiveTupleKey::new(end(a, pa), end(b, pb), proto, context)
        }

        fn ordered(seq: u64, event: FlowEvent<FiveTupleKey, Note>) -> Ev {
            Ordered {
                seq,
                cause: Cause::Packet,
                time: Timestamp::from_nanos(0),
                tiebreak: 0,
                sub: 0,
                event,
            }
        }

        fn app(seq: u64, key: FiveTupleKey, flow_id: u64, side: FlowSide, sender: bool) -> Ev {
            ordered(
                seq,
                FlowEvent::Application {
                    key,
                    flow_id,
                    initiator: Orientation::Reverse,
                    side,
                    message: Note(sender),
                    ts: Timestamp::from_nanos(seq * 1_000),
                    iface: 0,
                },
            )
        }

        fn ended(seq: u64, key: FiveTupleKey, flow_id: u64) -> Ev {
            ordered(
                seq,
                FlowEvent::Ended {
                    key,
                    flow_id,
                    initiator: Orientation::Reverse,
                    reason: EndReason::IdleTimeout,
                    stats: Box::default(),
                    tunnel: None,
                    ts: Timestamp::from_nanos(seq * 1_000),
                },
            )
        }

        /// Renders `events` in order with one renderer, checking each line
        /// against a fresh renderer's; returns the lines.
        fn render_all(events: &[Ev]) -> Vec<String> {
            let mut r = EveRenderer::new(OutputConfig::default());
            events
                .iter()
                .map(|ev| {
                    let (mut kept, mut fresh) = (Vec::new(), Vec::new());
                    r.render(ev, &mut kept);
                    r.clone().render(ev, &mut fresh);
                    let line = String::from_utf8(kept).unwrap();
                    assert_eq!(line, String::from_utf8(fresh).unwrap());
                    line
                })
                .collect()
        }

        #[test]
        fn a_flows_records_are_the_same_as_rendered_afresh() {
            let k = key("10.0.0.2", 80, "10.0.0.1", 40000, 6, &[7, 8]);
            let v6 = key("2001:db8::2", 443, "2001:db8::1", 50000, 17, &[]);
            let icmp = key("10.0.0.9", 0, "10.0.0.1", 8, 1, &[]);
            let lines = render_all(&[
                app(1, k, 5, FlowSide::Initiator, false),
                app(2, v6, 6, FlowSide::Responder, true),
                app(3, k, 5, FlowSide::Initiator, false),
                app(4, k, 5, FlowSide::Responder, true),
                app(5, icmp, 9, FlowSide::Initiator, false),
                app(6, v6, 6, FlowSide::Initiator, false),
                ended(7, k, 5),
                // After its flow record the slot is free: a later record of
                // the same id renders afresh (and is still right).
                app(8, k, 5, FlowSide::Initiator, false),
                ended(9, v6, 6),
                ended(10, icmp, 9),
            ]);
            // The flow's second record from its client repeats the first's
            // fields but for the packet's number and time.
            let from_type = |l: &str| l.split_once("\"event_type\"").unwrap().1.to_owned();
            assert_eq!(from_type(&lines[0]), from_type(&lines[2]));
            assert!(lines[2].contains("\"flow_id\":5,\"pcap_cnt\":4,"));
            assert!(lines[0].contains("\"vlan\":[7,8],\"src_ip\":\"10.0.0.1\",\"src_port\":40000"));
            // The server's record, its sender as the source.
            assert!(lines[3].contains("\"src_ip\":\"10.0.0.2\",\"src_port\":80"));
            assert!(lines[6].contains("\"event_type\":\"flow\""));
        }

        #[test]
        fn a_record_keeps_its_flows_fields_until_the_flow_record() {
            let k = key("10.0.0.2", 80, "10.0.0.1", 40000, 6, &[]);
            let mut r = EveRenderer::new(OutputConfig::default());
            let mut out = Vec::new();
            r.render(&app(1, k, 5, FlowSide::Initiator, false), &mut out);
            let held = r.endpoints.find(5, &k, Orientation::Reverse).unwrap();
            assert!(held.flow_id == b",\"flow_id\":5");
            assert!(
                held.endpoints
                    .starts_with(b",\"src_ip\":\"10.0.0.1\",\"src_port\":40000,")
            );
            assert!(
                held.endpoints.ends_with(b"\""),
                "ends with the community id"
            );
            r.render(&ended(2, k, 5), &mut out);
            assert!(r.endpoints.find(5, &k, Orientation::Reverse).is_none());
        }

        #[test]
        fn flows_sharing_an_id_or_a_slot_each_render_their_own_fields() {
            let a = key("10.0.0.2", 80, "10.0.0.1", 40000, 6, &[]);
            let b = key("192.0.2.2", 80, "192.0.2.1", 40000, 6, &[]);
            let slot_mate = 5 + super::SLOTS as u64;
            let lines = render_all(&[
                app(1, a, 5, FlowSide::Initiator, false),
                app(2, b, 5, FlowSide::Initiator, false),
                app(3, a, 5, FlowSide::Initiator, false),
                app(4, b, slot_mate, FlowSide::Initiator, false),
                app(5, a, 5, FlowSide::Initiator, false),
                ended(6, b, 5),
                ended(7, a, 5),
                ended(8, b, slot_mate),
            ]);
            for (i, want) in [
                (0, "10.0.0.1"),
                (1, "192.0.2.1"),
                (2, "10.0.0.1"),
                (4, "10.0.0.1"),
            ] {
                assert!(
                    lines[i].contains(&format!("\"src_ip\":\"{want}\"")),
                    "{}",
                    lines[i]
                );
            }
            assert!(lines[3].contains(&format!("\"flow_id\":{slot_mate},")));
        }
    }
}
