//! The flow table: a slab of flow entries indexed by a hashbrown
//! `HashTable` keyed on the precomputed flow hash, plus the activity wheel
//! that drives idle timeouts and least-recently-active eviction.
//!
//! # Timers
//!
//! Flows are grouped into *timeout classes* (one per distinct idle timeout:
//! TCP, UDP, other, each per-port override, and the TCP close linger). Each
//! class is a one-second-granularity timing wheel whose buckets are chained
//! into a single intrusive list ordered by the second of last activity.
//! Because every flow in a class shares one timeout, re-arming a flow is
//! "move it to the tail", done at most once per second of packet time per
//! flow, and firing is "pop from the head while expired": per packet O(1)
//! with no relinking at all within a second, per tick O(expired flows),
//! never a scan of the table.
//!
//! A flow is idle-expired at packet time `now` when
//! `activity_second + timeout + 1 <= now.secs()`: the exact deadline
//! `last_activity + timeout` rounded up to the next whole second. The
//! reported end time is the exact deadline.
//!
//! The heads of the class lists are, per class, the least recently active
//! flows; the oldest head over all classes is the eviction victim when the
//! table is full. A separate list in creation order serves the optional
//! active timeout.

mod entry;
pub mod tcp;

pub(crate) use entry::{Flags, FlowEntry, SideCounters};

use crate::packet::Tunnel;
use crate::timestamp::Timestamp;
use crate::vocab::{FlowSide, FlowState};
use hashbrown::HashTable;
use std::collections::HashMap;

/// "No entry" in the intrusive lists.
pub(crate) const NIL: u32 = u32::MAX;
const CHUNK_SHIFT: u32 = 12;
const CHUNK: usize = 1 << CHUNK_SHIFT;

/// Head and tail of one intrusive list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct List {
    pub head: u32,
    pub tail: u32,
    pub len: usize,
}

impl Default for List {
    fn default() -> Self {
        List {
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }
}

/// Emergency mode's idle timeouts, seconds (each used only where shorter
/// than the flow's usual one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Emergency {
    /// Flows never answered, and closed flows lingering.
    pub new: u32,
    /// Every other flow.
    pub established: u32,
}

/// A timeout class: one idle timeout shared by its flows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeoutClass {
    pub timeout: u32,
    pub list: List,
}

/// The table.
#[derive(Debug)]
pub(crate) struct FlowTable<K> {
    map: HashTable<u32>,
    chunks: Vec<Vec<FlowEntry<K>>>,
    /// Head of the free slots, linked through their `next`.
    free: u32,
    len: usize,
    pub classes: Vec<TimeoutClass>,
    pub active: List,
    /// Active-timeout list links (previous, next) by slot: allocated only
    /// when an active timeout is set, so the entry stays within budget.
    act: Vec<[u32; 2]>,
    /// The tunnel of each tunnelled flow's first packet, by slot.
    tunnels: HashMap<u32, Tunnel>,
    /// The high words of packet counts past 2^32, by slot.
    spill: HashMap<u32, [u32; 2]>,
}

impl<K: Eq> FlowTable<K> {
    /// A table whose classes have these timeouts (seconds).
    pub fn new(class_timeouts: &[u32], expected_flows: usize) -> Self {
        FlowTable {
            // Start small and grow: a table sized for `max_flows` up front
            // would spread a few thousand live flows over megabytes of
            // control bytes and miss the cache on every lookup.
            map: HashTable::with_capacity(expected_flows.min(1024)),
            chunks: Vec::new(),
            free: NIL,
            len: 0,
            classes: class_timeouts
                .iter()
                .map(|&timeout| TimeoutClass {
                    timeout,
                    list: List::default(),
                })
                .collect(),
            active: List::default(),
            act: Vec::new(),
            tunnels: HashMap::new(),
            spill: HashMap::new(),
        }
    }

    /// Entries held (live flows and tombstones).
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn get(&self, idx: u32) -> &FlowEntry<K> {
        &self.chunks[(idx >> CHUNK_SHIFT) as usize][idx as usize & (CHUNK - 1)]
    }

    #[inline]
    pub fn get_mut(&mut self, idx: u32) -> &mut FlowEntry<K> {
        &mut self.chunks[(idx >> CHUNK_SHIFT) as usize][idx as usize & (CHUNK - 1)]
    }

    /// The entry holding `key`, if any.
    #[inline]
    pub fn find(&self, hash: u64, key: &K) -> Option<u32> {
        let chunks = &self.chunks;
        self.map
            .find(hash, |&i| {
                let e = &chunks[(i >> CHUNK_SHIFT) as usize][i as usize & (CHUNK - 1)];
                e.hash == hash && e.key == *key
            })
            .copied()
    }

    /// Stores a new entry (the caller has checked the key is absent), with
    /// the tunnel of its first packet, and links it at the tail of its
    /// class list.
    pub fn insert(&mut self, mut entry: FlowEntry<K>, tunnel: Option<Tunnel>) -> u32 {
        let hash = entry.hash;
        entry.flags.set_tunnelled(tunnel.is_some());
        let idx = match self.free {
            NIL => {
                if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
                    self.chunks.push(Vec::with_capacity(CHUNK));
                }
                let chunk_no = self.chunks.len() - 1;
                let chunk = &mut self.chunks[chunk_no];
                chunk.push(entry);
                ((chunk_no << CHUNK_SHIFT) | (chunk.len() - 1)) as u32
            }
            idx => {
                self.free = self.get(idx).next;
                *self.get_mut(idx) = entry;
                idx
            }
        };
        let chunks = &self.chunks;
        self.map.insert_unique(hash, idx, |&i| {
            chunks[(i >> CHUNK_SHIFT) as usize][i as usize & (CHUNK - 1)].hash
        });
        self.len += 1;
        if let Some(t) = tunnel {
            self.tunnels.insert(idx, t);
        }
        let class = self.get(idx).class;
        self.link_tail(class, idx);
        idx
    }

    /// The tunnel of an entry's first packet.
    pub fn tunnel(&self, idx: u32) -> Option<Tunnel> {
        if self.get(idx).flags.tunnelled() {
            self.tunnels.get(&idx).copied()
        } else {
            None
        }
    }

    /// Removes an entry from the map and every list.
    pub fn remove(&mut self, idx: u32) {
        let (hash, class) = {
            let e = self.get(idx);
            (e.hash, e.class)
        };
        if let Ok(entry) = self.map.find_entry(hash, |&i| i == idx) {
            entry.remove();
        }
        self.unlink(class, idx);
        self.unlink_active(idx);
        let flags = self.get(idx).flags;
        if flags.tunnelled() {
            self.tunnels.remove(&idx);
        }
        if flags.any_spilled() {
            self.spill.remove(&idx);
        }
        let free = self.free;
        let e = self.get_mut(idx);
        e.flags = Flags::default();
        e.next = free;
        self.free = idx;
        self.len -= 1;
    }

    /// Carries one into the high word of `side`'s packet count, after
    /// [`FlowEntry::add_packets`] wrapped.
    #[cold]
    pub fn carry_packets(&mut self, idx: u32, side: FlowSide) {
        let i = side.index();
        self.get_mut(idx).flags.set_spilled(i, true);
        self.spill.entry(idx).or_default()[i] += 1;
    }

    /// The packet counts of an entry, initiator then responder.
    pub fn packets(&self, idx: u32) -> [u64; 2] {
        let e = self.get(idx);
        let high = if e.flags.any_spilled() {
            self.spill.get(&idx).copied().unwrap_or_default()
        } else {
            [0; 2]
        };
        [0, 1].map(|i| u64::from(high[i]) << 32 | u64::from(e.packets[i]))
    }

    /// Zeroes an entry's counters (an active timeout's restart).
    pub fn reset_counters(&mut self, idx: u32) {
        let e = self.get_mut(idx);
        e.sides = [SideCounters::default(); 2];
        e.packets = [0; 2];
        let spilled = e.flags.any_spilled();
        e.flags.set_spilled(0, false);
        e.flags.set_spilled(1, false);
        if spilled {
            self.spill.remove(&idx);
        }
    }

    /// Moves an entry to the tail of its class list when its activity
    /// second changed (the only per-packet timer work).
    #[inline]
    pub fn touch(&mut self, idx: u32, now_sec: u32) {
        let (class, sec) = {
            let e = self.get(idx);
            (e.class, e.activity_sec)
        };
        if sec != now_sec {
            self.unlink(class, idx);
            self.get_mut(idx).activity_sec = now_sec;
            self.link_tail(class, idx);
        }
    }

    /// Moves an entry to another timeout class (at its tail, active now).
    pub fn set_class(&mut self, idx: u32, class: u8, now_sec: u32) {
        let old = self.get(idx).class;
        self.unlink(old, idx);
        let e = self.get_mut(idx);
        e.class = class;
        e.activity_sec = now_sec;
        self.link_tail(class, idx);
    }

    /// Appends an entry to the active-timeout list.
    pub fn link_active(&mut self, idx: u32) {
        let tail = self.active.tail;
        let i = idx as usize;
        if self.act.len() <= i {
            self.act.resize(i + 1, [NIL; 2]);
        }
        self.act[i] = [tail, NIL];
        if tail == NIL {
            self.active.head = idx;
        } else {
            self.act[tail as usize][1] = idx;
        }
        self.active.tail = idx;
        self.active.len += 1;
    }

    /// Takes an entry off the active-timeout list (no-op when not on it).
    pub fn unlink_active(&mut self, idx: u32) {
        let Some(&[prev, next]) = self.act.get(idx as usize) else {
            return;
        };
        let on_list = prev != NIL || next != NIL || self.active.head == idx;
        if !on_list {
            return;
        }
        if prev == NIL {
            self.active.head = next;
        } else {
            self.act[prev as usize][1] = next;
        }
        if next == NIL {
            self.active.tail = prev;
        } else {
            self.act[next as usize][0] = prev;
        }
        self.act[idx as usize] = [NIL; 2];
        self.active.len -= 1;
    }

    fn link_tail(&mut self, class: u8, idx: u32) {
        let tail = self.classes[usize::from(class)].list.tail;
        {
            let e = self.get_mut(idx);
            e.prev = tail;
            e.next = NIL;
        }
        if tail == NIL {
            self.classes[usize::from(class)].list.head = idx;
        } else {
            self.get_mut(tail).next = idx;
        }
        let list = &mut self.classes[usize::from(class)].list;
        list.tail = idx;
        list.len += 1;
    }

    fn unlink(&mut self, class: u8, idx: u32) {
        let (prev, next) = {
            let e = self.get(idx);
            (e.prev, e.next)
        };
        if prev == NIL {
            self.classes[usize::from(class)].list.head = next;
        } else {
            self.get_mut(prev).next = next;
        }
        if next == NIL {
            self.classes[usize::from(class)].list.tail = prev;
        } else {
            self.get_mut(next).prev = prev;
        }
        let e = self.get_mut(idx);
        e.prev = NIL;
        e.next = NIL;
        self.classes[usize::from(class)].list.len -= 1;
    }

    /// Appends to `out` every entry idle-expired at `now_sec`, class by
    /// class (each class in activity order), under the emergency timeouts
    /// when given. Entries stay in the table.
    pub fn collect_idle(&self, now_sec: u64, emergency: Option<Emergency>, out: &mut Vec<u32>) {
        for class in &self.classes {
            // The shortest timeout any entry of the class can have: the
            // walk stops at the first entry more recent than that.
            let floor = emergency.map_or(class.timeout, |m| m.new.min(class.timeout));
            let mut idx = class.list.head;
            while idx != NIL {
                let e = self.get(idx);
                if !idle_expired(e.activity_sec, floor, now_sec) {
                    break;
                }
                if idle_expired(e.activity_sec, self.idle_timeout(e, emergency), now_sec) {
                    out.push(idx);
                }
                idx = e.next;
            }
        }
    }

    /// The idle timeout of `e`: its class's, or in emergency mode the
    /// shorter emergency timeout of its state (flows never answered and
    /// closed ones go first).
    pub fn idle_timeout(&self, e: &FlowEntry<K>, emergency: Option<Emergency>) -> u32 {
        let timeout = self.classes[usize::from(e.class)].timeout;
        match emergency {
            None => timeout,
            Some(m) if e.ended() || e.state == FlowState::New => m.new.min(timeout),
            Some(m) => m.established.min(timeout),
        }
    }

    /// Appends to `out` every entry on the active list whose active timeout
    /// (counted from its start) passed at `now_sec`.
    pub fn collect_active(&self, timeout: u32, now_sec: u64, out: &mut Vec<u32>) {
        let mut idx = self.active.head;
        while idx != NIL {
            let e = self.get(idx);
            let started = sec_of(e.start);
            if !idle_expired(started, timeout, now_sec) {
                break;
            }
            out.push(idx);
            idx = self.act[idx as usize][1];
        }
    }

    /// The eviction victim: the head of the close-linger class (`linger`)
    /// when it has one (tombstones and closing flows lose the least), else
    /// the least recently active flow over all classes.
    pub fn eviction_victim(&self, linger: u8) -> Option<u32> {
        let linger_head = self.classes[usize::from(linger)].list.head;
        if linger_head != NIL {
            return Some(linger_head);
        }
        self.classes
            .iter()
            .filter(|c| c.list.head != NIL)
            .min_by_key(|c| self.get(c.list.head).activity_sec)
            .map(|c| c.list.head)
    }

    /// Indexes of every entry, class by class (for the end-of-input flush,
    /// which sorts them).
    pub fn indexes(&self) -> impl Iterator<Item = u32> + '_ {
        let mut classes = self.classes.iter();
        let mut idx = NIL;
        std::iter::from_fn(move || {
            while idx == NIL {
                idx = classes.next()?.list.head;
            }
            let i = idx;
            idx = self.get(i).next;
            Some(i)
        })
    }

    /// Heap bytes held by the table structures (slab chunks, hash index,
    /// side maps), for memory reports.
    pub fn heap_bytes(&self) -> usize {
        let slab: usize = self
            .chunks
            .iter()
            .map(|c| c.capacity() * size_of::<FlowEntry<K>>())
            .sum();
        slab + self.map.allocation_size()
            + self.act.capacity() * 8
            + self.tunnels.capacity() * (size_of::<(u32, Tunnel)>() + 1)
            + self.spill.capacity() * (size_of::<(u32, [u32; 2])>() + 1)
    }
}

/// A time's whole seconds as the table keeps them (saturated).
#[inline]
pub(crate) fn sec_of(ts: Timestamp) -> u32 {
    u32::try_from(ts.secs()).unwrap_or(u32::MAX)
}

/// The idle rule shared by the timers and the lazy check on packet arrival:
/// expired once `since_sec + timeout + 1 <= now_sec`.
#[inline]
pub(crate) fn idle_expired(since_sec: u32, timeout: u32, now_sec: u64) -> bool {
    u64::from(since_sec) + u64::from(timeout) < now_sec
}

#[cfg(test)]
mod tests;
