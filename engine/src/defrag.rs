//! IPv4 and IPv6 fragment reassembly, bounded in datagrams, bytes,
//! fragments per datagram and packet time.
//!
//! Overlapping fragments drop the whole datagram, and later fragments of it
//! are discarded too, as RFC 5722 demands (applied to IPv4 as well: overlap
//! is an evasion technique either way). Exact duplicates, which captures
//! taken on both sides of a link produce, are ignored. Every drop is
//! reported through [`DefragEvent`]s for the engine to count and emit.

use crate::config::DefragConfig;
use crate::packet::{PacketView, TunnelKind, VlanIds};
use crate::timestamp::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::Duration;

/// Identifies the datagram a fragment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentKey {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Identification.
    pub ident: u32,
    /// IPv4 protocol (part of the IPv4 reassembly key; 0 for IPv6).
    pub proto: u8,
    /// VLANs the fragment arrived on.
    pub vlans: VlanIds,
    /// Tunnel it arrived in.
    pub tunnel: Option<(TunnelKind, u32)>,
}

impl FragmentKey {
    /// The reassembly key of a fragment.
    fn of(view: &PacketView<'_>, ip: &crate::packet::IpInfo, ident: u32) -> Self {
        FragmentKey {
            src: ip.src,
            dst: ip.dst,
            ident,
            proto: if ip.src.is_ipv4() { ip.protocol } else { 0 },
            vlans: view.vlans,
            tunnel: view.tunnel.map(|t| (t.kind, t.id)),
        }
    }
}

crate::named::named_enum! {
    /// Why fragments or a datagram were dropped.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    #[non_exhaustive]
    pub enum DefragDrop {
        /// Stable name, e.g. `"defrag.overlap"`.
        fn name;
        /// Two fragments overlap (RFC 5722): the datagram is dropped.
        Overlap => "defrag.overlap";
        /// A fragment arrived for a datagram already dropped for overlap.
        AfterOverlap => "defrag.after_overlap";
        /// Fragments disagree on the datagram's length, or a non-final
        /// fragment's length is not a multiple of 8.
        InvalidLength => "defrag.invalid_length";
        /// More fragments than `max_fragments_per_datagram`.
        TooManyFragments => "defrag.too_many_fragments";
        /// The datagram did not complete within the timeout.
        Timeout => "defrag.timeout";
        /// The oldest datagram was evicted to respect `max_datagrams` or
        /// `max_bytes`.
        CapacityEvicted => "defrag.capacity_evicted";
        /// Reassembly is disabled: the fragment is counted and skipped.
        Disabled => "defrag.disabled";
        /// Still incomplete at end of input.
        Unfinished => "defrag.unfinished";
        /// The capture cut the fragment short (snapshot length), so it cannot
        /// be reassembled. A first fragment is still tracked from its
        /// transport header; later ones are dropped.
        CaptureTruncated => "defrag.capture_truncated";
    }
}

/// A drop, reported with the datagram it concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefragEvent {
    /// The datagram.
    pub key: FragmentKey,
    /// What happened.
    pub drop: DefragDrop,
    /// Fragments discarded with it.
    pub fragments: u32,
    /// Payload bytes discarded with it.
    pub bytes: u32,
    /// When it happened (packet time).
    pub ts: Timestamp,
}

/// A rebuilt datagram.
#[derive(Debug)]
pub struct Reassembled {
    /// The IP payload: transport header onwards (for IPv6, from the
    /// fragmentable part's first header).
    pub data: Vec<u8>,
    /// Protocol of `data`'s first header.
    pub protocol: u8,
    /// Fragments it was built from.
    pub fragments: u32,
    /// Sum of the fragments' wire lengths.
    pub wire_bytes: u64,
    /// Sum of the fragments' tunnel bytes ([`PacketView::encap_len`]):
    /// fragments carried in a tunnel.
    pub encap_bytes: u64,
    /// Sum of the fragments' IP lengths ([`PacketView::ip_len`]).
    pub ip_bytes: u64,
}

/// What one fragment did.
#[derive(Debug)]
pub enum DefragOutcome {
    /// Stored; the datagram is still incomplete.
    Pending,
    /// An exact copy of a fragment already held: ignored.
    Duplicate,
    /// The datagram is complete.
    Complete(Reassembled),
    /// The fragment was dropped (an event was recorded).
    Dropped(DefragDrop),
}

#[derive(Debug)]
struct Datagram {
    data: Vec<u8>,
    /// Disjoint, sorted byte ranges received.
    ranges: Vec<(u32, u32)>,
    received: u32,
    total: Option<u32>,
    protocol: Option<u8>,
    fragments: u32,
    wire_bytes: u64,
    encap_bytes: u64,
    ip_bytes: u64,
    /// Key of this datagram in the expiry index: the packet clock at its
    /// first fragment, and a serial.
    expiry: (Timestamp, u64),
    /// Its first fragment's own time.
    first_ts: Timestamp,
    /// Dropped for overlap: later fragments are discarded until timeout.
    poisoned: bool,
}

/// Counters kept by the reassembler.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefragCounters {
    /// Fragments seen.
    pub fragments: u64,
    /// Datagrams rebuilt.
    pub reassembled: u64,
    /// Duplicate fragments ignored.
    pub duplicates: u64,
    /// Drops by [`DefragDrop`] (fragments for `AfterOverlap`/`Disabled`,
    /// datagrams otherwise).
    pub drops: [u64; DefragDrop::ALL.len()],
    /// Most datagrams in flight at once.
    pub peak_datagrams: u64,
    /// Most bytes buffered at once.
    pub peak_bytes: u64,
}

/// The reassembler. One per engine.
#[derive(Debug)]
pub struct Defrag {
    cfg: DefragConfig,
    table: HashMap<FragmentKey, Datagram, foldhash::fast::FixedState>,
    /// Datagrams by (creation time, serial): timeouts and oldest-first eviction.
    by_age: BTreeMap<(Timestamp, u64), FragmentKey>,
    serial: u64,
    bytes: usize,
    pool: Vec<Vec<u8>>,
    events: Vec<DefragEvent>,
    counters: DefragCounters,
}

/// Buffers kept for reuse.
const POOL_MAX: usize = 16;
/// The IP datagram size limit.
const MAX_DATAGRAM: u32 = 65_535;

impl Defrag {
    /// A reassembler with these bounds.
    pub fn new(cfg: DefragConfig) -> Self {
        Defrag {
            cfg,
            table: HashMap::with_hasher(foldhash::fast::FixedState::with_seed(0x6672_6167)),
            by_age: BTreeMap::new(),
            serial: 0,
            bytes: 0,
            pool: Vec::new(),
            events: Vec::new(),
            counters: DefragCounters::default(),
        }
    }

    /// The counters.
    pub fn counters(&self) -> &DefragCounters {
        &self.counters
    }

    /// Datagrams in flight.
    pub fn in_flight(&self) -> usize {
        self.table.len()
    }

    /// Bytes buffered.
    pub fn buffered_bytes(&self) -> usize {
        self.bytes
    }

    /// Drops recorded since the last call, oldest first.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, DefragEvent> {
        self.events.drain(..)
    }

    /// Hands a reassembled buffer back for reuse.
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.pool.len() < POOL_MAX {
            buf.clear();
            self.pool.push(buf);
        }
    }

    /// Whether fragments are reassembled (`defrag.enabled`).
    pub(crate) fn enabled(&self) -> bool {
        self.cfg.enabled
    }

    /// Adds one fragment, read at packet clock `now`. `view` must be a
    /// fragment (`view.ip.fragment` set, payload = the fragment's data).
    /// A datagram's timeout counts from the packet clock at its first
    /// fragment, the time base of every timer (after a capture's clock
    /// steps back, the packet's own time is behind it); its report
    /// carries the first fragment's own time plus the timeout.
    pub fn insert(&mut self, view: &PacketView<'_>, now: Timestamp) -> DefragOutcome {
        let (Some(ip), ts) = (view.ip, view.ts) else {
            return DefragOutcome::Dropped(DefragDrop::InvalidLength);
        };
        let Some(frag) = ip.fragment else {
            return DefragOutcome::Dropped(DefragDrop::InvalidLength);
        };
        self.counters.fragments += 1;
        if !self.cfg.enabled {
            self.counters.drops[DefragDrop::Disabled.index()] += 1;
            return DefragOutcome::Dropped(DefragDrop::Disabled);
        }
        let key = FragmentKey::of(view, &ip, frag.ident);
        let data = view.payload;
        let start = frag.offset;
        let end = start + data.len() as u32;

        if !self.table.contains_key(&key) {
            self.make_room(ts, 1);
            let serial = self.serial;
            self.serial += 1;
            let buf = self.pool.pop().unwrap_or_default();
            let aged = now.max(ts);
            self.by_age.insert((aged, serial), key);
            self.table.insert(
                key,
                Datagram {
                    data: buf,
                    ranges: Vec::new(),
                    received: 0,
                    total: None,
                    protocol: None,
                    fragments: 0,
                    wire_bytes: 0,
                    encap_bytes: 0,
                    ip_bytes: 0,
                    expiry: (aged, serial),
                    first_ts: ts,
                    poisoned: false,
                },
            );
            self.counters.peak_datagrams =
                self.counters.peak_datagrams.max(self.table.len() as u64);
        }

        let verdict = match self.table.get(&key) {
            Some(d) => check(
                d,
                start,
                end,
                frag.more,
                data,
                self.cfg.max_fragments_per_datagram,
            ),
            None => Check::Drop(DefragDrop::CapacityEvicted),
        };
        match verdict {
            Check::Duplicate => {
                self.counters.duplicates += 1;
                DefragOutcome::Duplicate
            }
            Check::Discard => {
                self.counters.drops[DefragDrop::AfterOverlap.index()] += 1;
                self.events.push(DefragEvent {
                    key,
                    drop: DefragDrop::AfterOverlap,
                    fragments: 1,
                    bytes: data.len() as u32,
                    ts,
                });
                DefragOutcome::Dropped(DefragDrop::AfterOverlap)
            }
            Check::Drop(reason) => {
                self.drop_datagram(&key, reason, ts, reason == DefragDrop::Overlap);
                DefragOutcome::Dropped(reason)
            }
            Check::Accept => {
                let grow =
                    (end as usize).saturating_sub(self.table.get(&key).map_or(0, |d| d.data.len()));
                if grow > 0 {
                    self.make_room_bytes(ts, grow, &key);
                }
                let Some(d) = self.table.get_mut(&key) else {
                    return DefragOutcome::Dropped(DefragDrop::CapacityEvicted);
                };
                if d.data.len() < end as usize {
                    self.bytes += end as usize - d.data.len();
                    d.data.resize(end as usize, 0);
                }
                d.data[start as usize..end as usize].copy_from_slice(data);
                let pos = d.ranges.partition_point(|r| r.0 < start);
                d.ranges.insert(pos, (start, end));
                d.received += end - start;
                d.fragments += 1;
                d.wire_bytes += u64::from(view.wire_len);
                d.encap_bytes += u64::from(view.encap_len);
                d.ip_bytes += u64::from(view.ip_len);
                if !frag.more {
                    d.total = Some(end);
                }
                if start == 0 {
                    d.protocol = Some(ip.protocol);
                }
                self.counters.peak_bytes = self.counters.peak_bytes.max(self.bytes as u64);
                let complete = d.total.is_some_and(|t| d.received == t) && d.protocol.is_some();
                if complete {
                    self.complete(&key)
                } else {
                    DefragOutcome::Pending
                }
            }
        }
    }

    /// Records a fragment the capture cut short: it cannot be reassembled.
    pub fn note_truncated(&mut self, view: &PacketView<'_>) {
        let (Some(ip), Some(frag)) = (view.ip, view.ip.and_then(|i| i.fragment)) else {
            return;
        };
        self.counters.fragments += 1;
        self.counters.drops[DefragDrop::CaptureTruncated.index()] += 1;
        let key = FragmentKey::of(view, &ip, frag.ident);
        self.events.push(DefragEvent {
            key,
            drop: DefragDrop::CaptureTruncated,
            fragments: 1,
            bytes: view.payload.len() as u32,
            ts: view.ts,
        });
    }

    /// Drops every datagram older than the timeout at packet time `now`.
    pub fn expire(&mut self, now: Timestamp) {
        let timeout = Duration::from_secs(u64::from(self.cfg.timeout));
        while let Some((&(created, serial), &key)) = self.by_age.first_key_value() {
            if created.saturating_add(timeout) > now {
                break;
            }
            let poisoned = self.table.get(&key).is_some_and(|d| d.poisoned);
            if poisoned {
                // Already reported when it was dropped for overlap.
                self.remove(&key);
            } else {
                let first = self.table.get(&key).map_or(created, |d| d.first_ts);
                self.drop_datagram(
                    &key,
                    DefragDrop::Timeout,
                    first.saturating_add(timeout),
                    false,
                );
            }
            // drop_datagram/remove take it out of by_age; guard against a
            // stale index entry all the same.
            self.by_age.remove(&(created, serial));
        }
    }

    /// Drops everything still pending (end of input), reporting each.
    pub fn flush(&mut self, now: Timestamp) {
        let keys: Vec<_> = self.by_age.values().copied().collect();
        for key in keys {
            let poisoned = self.table.get(&key).is_some_and(|d| d.poisoned);
            if poisoned {
                self.remove(&key);
            } else {
                self.drop_datagram(&key, DefragDrop::Unfinished, now, false);
            }
        }
    }

    fn complete(&mut self, key: &FragmentKey) -> DefragOutcome {
        let Some(d) = self.remove(key) else {
            return DefragOutcome::Dropped(DefragDrop::CapacityEvicted);
        };
        self.counters.reassembled += 1;
        let mut data = d.data;
        let total = d.total.unwrap_or(d.received) as usize;
        data.truncate(total);
        DefragOutcome::Complete(Reassembled {
            data,
            protocol: d.protocol.unwrap_or(0),
            fragments: d.fragments,
            wire_bytes: d.wire_bytes,
            encap_bytes: d.encap_bytes,
            ip_bytes: d.ip_bytes,
        })
    }

    fn remove(&mut self, key: &FragmentKey) -> Option<Datagram> {
        let d = self.table.remove(key)?;
        self.by_age.remove(&d.expiry);
        self.bytes -= d.data.len();
        Some(d)
    }

    /// Reports a datagram drop. With `keep_poisoned`, the entry stays (empty)
    /// until its timeout so later fragments of it are discarded too.
    fn drop_datagram(
        &mut self,
        key: &FragmentKey,
        reason: DefragDrop,
        ts: Timestamp,
        keep_poisoned: bool,
    ) {
        self.counters.drops[reason.index()] += 1;
        let (fragments, bytes) = self
            .table
            .get(key)
            .map_or((0, 0), |d| (d.fragments, d.received));
        self.events.push(DefragEvent {
            key: *key,
            drop: reason,
            fragments,
            bytes,
            ts,
        });
        if keep_poisoned {
            if let Some(d) = self.table.get_mut(key) {
                self.bytes -= d.data.len();
                let buf = std::mem::take(&mut d.data);
                d.ranges = Vec::new();
                d.poisoned = true;
                self.recycle(buf);
            }
        } else if let Some(d) = self.remove(key) {
            self.recycle(d.data);
        }
    }

    /// Evicts the oldest datagrams until `extra` more fit.
    fn make_room(&mut self, ts: Timestamp, extra: usize) {
        while self.table.len() + extra > self.cfg.max_datagrams {
            let Some((_, &oldest)) = self.by_age.first_key_value() else {
                break;
            };
            self.evict(&oldest, ts);
        }
    }

    /// Evicts the oldest datagrams other than `keep` until `grow` more bytes
    /// fit; when only `keep` is left and still too large, drops it too.
    fn make_room_bytes(&mut self, ts: Timestamp, grow: usize, keep: &FragmentKey) {
        while self.bytes + grow > self.cfg.max_bytes {
            let victim = self.by_age.values().find(|k| *k != keep).copied();
            match victim {
                Some(v) => self.evict(&v, ts),
                None => {
                    let k = *keep;
                    self.evict(&k, ts);
                    break;
                }
            }
        }
    }

    fn evict(&mut self, key: &FragmentKey, ts: Timestamp) {
        let poisoned = self.table.get(key).is_some_and(|d| d.poisoned);
        if poisoned {
            self.remove(key);
        } else {
            self.drop_datagram(key, DefragDrop::CapacityEvicted, ts, false);
        }
    }
}

enum Check {
    Accept,
    Duplicate,
    Discard,
    Drop(DefragDrop),
}

fn check(d: &Datagram, start: u32, end: u32, more: bool, data: &[u8], max_frags: usize) -> Check {
    if d.poisoned {
        return Check::Discard;
    }
    if end > MAX_DATAGRAM || (more && (data.is_empty() || !data.len().is_multiple_of(8))) {
        return Check::Drop(DefragDrop::InvalidLength);
    }
    match d.total {
        Some(t) if !more && end != t => return Check::Drop(DefragDrop::InvalidLength),
        Some(t) if end > t => return Check::Drop(DefragDrop::InvalidLength),
        None if !more && d.ranges.last().is_some_and(|r| r.1 > end) => {
            return Check::Drop(DefragDrop::InvalidLength);
        }
        _ => {}
    }
    let pos = d.ranges.partition_point(|r| r.1 <= start);
    if let Some(&(s, e)) = d.ranges.get(pos).filter(|r| r.0 < end) {
        let same = s == start && e == end && d.data[s as usize..e as usize] == *data;
        return if same {
            Check::Duplicate
        } else {
            Check::Drop(DefragDrop::Overlap)
        };
    }
    if d.fragments as usize >= max_frags {
        return Check::Drop(DefragDrop::TooManyFragments);
    }
    Check::Accept
}

mod stage;

pub use stage::{DefragLog, FragmentRouter, Routed};
pub(crate) use stage::{FragmentPath, Fragments, Replay, walk};

#[cfg(test)]
mod tests;
