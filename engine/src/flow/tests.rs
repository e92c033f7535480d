//! Flow-table tests: the activity wheel against a brute-force scan.

use super::*;
use crate::timestamp::Timestamp;
use crate::vocab::{History, Orientation};
use proptest::prelude::*;
use std::collections::HashMap;

const TIMEOUTS: [u32; 4] = [5, 300, 60, 30];

fn entry(key: u32, class: u8, now: u32) -> FlowEntry<u32> {
    FlowEntry {
        key,
        hash: u64::from(key).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        start: Timestamp::new(u64::from(now), 0),
        sides: [SideCounters::default(); 2],
        packets: [0; 2],
        history: History::default(),
        flags: Flags::new(Orientation::Forward),
        endpoints: [tcp::Endpoint::Inactive; 2],
        tcp_flags: [0; 2],
        icmp_code: [0; 2],
        conn_proto: tcp::ConnProto::Other,
        state: FlowState::New,
        prev: NIL,
        next: NIL,
        activity_sec: now,
        class,
        iface: 0,
    }
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u32, u8),
    Touch(u32),
    Remove(u32),
    Reclass(u32, u8),
    Tick(u32),
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u32..64, 0u8..4).prop_map(|(k, c)| Op::Insert(k, c)),
        4 => (0u32..64).prop_map(Op::Touch),
        1 => (0u32..64).prop_map(Op::Remove),
        1 => (0u32..64, 0u8..4).prop_map(|(k, c)| Op::Reclass(k, c)),
        3 => (0u32..40).prop_map(Op::Tick),
    ]
}

proptest! {
    /// The wheel fires exactly the flows a scan of the whole table would,
    /// and the eviction victim is the least recently active flow.
    #[test]
    fn wheel_matches_brute_force(ops in proptest::collection::vec(arb_op(), 1..400)) {
        let mut t: FlowTable<u32> = FlowTable::new(&TIMEOUTS, 64);
        // key -> (idx, activity_sec, class)
        let mut model: HashMap<u32, (u32, u32, u8)> = HashMap::new();
        let mut now: u32 = 1000;
        for op in ops {
            match op {
                Op::Insert(k, c) => {
                    if let std::collections::hash_map::Entry::Vacant(slot) = model.entry(k) {
                        let e = entry(k, c, now);
                        prop_assert!(t.find(e.hash, &k).is_none());
                        slot.insert((t.insert(e, None), now, c));
                    }
                }
                Op::Touch(k) => {
                    if let Some(m) = model.get_mut(&k) {
                        t.touch(m.0, now);
                        m.1 = now;
                    }
                }
                Op::Remove(k) => {
                    if let Some((idx, _, _)) = model.remove(&k) {
                        t.remove(idx);
                    }
                }
                Op::Reclass(k, c) => {
                    if let Some(m) = model.get_mut(&k) {
                        t.set_class(m.0, c, now);
                        m.1 = now;
                        m.2 = c;
                    }
                }
                Op::Tick(dt) => {
                    now += dt;
                    let mut fired = Vec::new();
                    t.collect_idle(u64::from(now), None, &mut fired);
                    let mut got: Vec<u32> = fired.iter().map(|&i| t.get(i).key).collect();
                    let mut want: Vec<u32> = model
                        .iter()
                        .filter(|&(_, &(_, sec, c))| idle_expired(sec, TIMEOUTS[usize::from(c)], u64::from(now)))
                        .map(|(&k, _)| k)
                        .collect();
                    got.sort_unstable();
                    want.sort_unstable();
                    prop_assert_eq!(&got, &want);
                    for k in got {
                        let (idx, _, _) = model.remove(&k).unwrap();
                        t.remove(idx);
                    }
                }
            }
            prop_assert_eq!(t.len(), model.len());
            // Lookups agree with the model.
            for (&k, &(idx, _, _)) in &model {
                prop_assert_eq!(t.find(t.get(idx).hash, &k), Some(idx));
            }
            // Eviction: linger class (0) first, else the oldest activity.
            if let Some(v) = t.eviction_victim(0) {
                let e = t.get(v);
                let in_linger = model.values().any(|&(_, _, c)| c == 0);
                if in_linger {
                    prop_assert_eq!(e.class, 0);
                } else {
                    let oldest = model.values().map(|&(_, s, _)| s).min().unwrap();
                    prop_assert_eq!(e.activity_sec, oldest);
                }
            } else {
                prop_assert!(model.is_empty());
            }
        }
    }
}

#[test]
fn active_list_in_creation_order() {
    let mut t: FlowTable<u32> = FlowTable::new(&TIMEOUTS, 8);
    let a = t.insert(entry(1, 1, 100), None);
    let b = t.insert(entry(2, 1, 101), None);
    t.link_active(a);
    t.link_active(b);
    let mut out = Vec::new();
    t.collect_active(10, 111, &mut out);
    assert_eq!(out, vec![a]);
    out.clear();
    t.collect_active(10, 112, &mut out);
    assert_eq!(out, vec![a, b]);
    t.remove(a);
    out.clear();
    t.collect_active(10, 112, &mut out);
    assert_eq!(out, vec![b]);
    // Slots are reused.
    let c = t.insert(entry(3, 2, 120), None);
    assert_eq!(c, a);
    assert!(t.heap_bytes() > 0);
}

/// DESIGN.md's budget: at most 200 bytes of hot state per flow, the hash
/// index included. The index costs 5 bytes a bucket at a load between 7/16
/// and 7/8 (hashbrown), 5.7 to 11.4 bytes a flow: so 184 for the entry.
#[test]
fn flow_entry_fits_the_budget() {
    assert_eq!(size_of::<FlowEntry<crate::key::FiveTupleKey>>(), 184);
    assert_eq!(size_of::<History>(), 16);
}

/// Packet counts past 2^32 carry into the table's high words, per side,
/// and leave with the entry.
#[test]
fn packet_counts_carry_past_32_bits() {
    let mut t: FlowTable<u32> = FlowTable::new(&TIMEOUTS, 16);
    let a = t.insert(entry(1, 0, 100), None);
    let e = t.get_mut(a);
    assert!(!e.sent(FlowSide::Responder));
    e.packets = [u32::MAX - 1, 0];
    assert!(!e.add_packets(FlowSide::Initiator, 1));
    assert!(e.add_packets(FlowSide::Initiator, 3));
    t.carry_packets(a, FlowSide::Initiator);
    assert_eq!(t.packets(a), [(1 << 32) + 2, 0]);
    assert!(t.get(a).sent(FlowSide::Initiator));
    assert!(!t.get(a).sent(FlowSide::Responder));
    t.reset_counters(a);
    assert_eq!(t.packets(a), [0, 0]);
    assert!(!t.get(a).sent(FlowSide::Initiator));
    t.get_mut(a).packets[1] = u32::MAX;
    assert!(t.get_mut(a).add_packets(FlowSide::Responder, 1));
    t.carry_packets(a, FlowSide::Responder);
    assert_eq!(t.packets(a), [0, 1 << 32]);
    t.remove(a);
    assert!(t.spill.is_empty());
    // The slot is reused clean.
    let b = t.insert(entry(2, 0, 100), None);
    assert_eq!(b, a);
    assert_eq!(t.packets(b), [0, 0]);
}
