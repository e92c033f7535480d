//! TCP stream reassembly for one direction of one connection.
//!
//! A [`Reassembler`] turns segments, in whatever order the capture holds
//! them, into the sender's byte stream: in-order bytes are handed to the
//! consumer straight from the packet (no copy); segments ahead of a hole are
//! copied into a bounded, sorted, non-overlapping hold list and released
//! when the hole fills. A hole that will not fill — the receiver
//! acknowledged past it, the flow ended, or a cap forced it — is reported as
//! a [`Chunk::Gap`] of its length and the stream continues after it: it
//! never stalls.
//!
//! Positions are 64-bit *stream offsets* (bytes delivered plus gap bytes),
//! derived from the 32-bit wire sequence numbers relative to the next
//! expected byte, so sequence-number wrap-around needs no special case.
//!
//! What is counted per side: retransmissions (segments that bring no new
//! bytes), out-of-order segments (held), overlaps (segments that partly
//! cover bytes already delivered or held), inconsistent overlaps (covered
//! bytes that differ — an evasion signal; compared against held bytes, the
//! last 32 bytes delivered and, by checksum, the last 4 segments delivered:
//! delivered bytes are otherwise not kept), gaps and gap bytes.

use serde::Deserialize;

/// Which copy wins where segments overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverlapPolicy {
    /// The bytes that arrived first (Suricata's default, and what most
    /// stacks do with already-queued data).
    #[default]
    First,
    /// The bytes that arrived last.
    Last,
}

/// What happens when a cap on held out-of-order data is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverflowPolicy {
    /// Give up on the oldest hole: report it as a gap, release the held
    /// bytes behind it, and carry on.
    #[default]
    SlidingWindow,
    /// Stop reassembling the flow: it ends with `EndReason::BufferOverflow`.
    DropFlow,
}

/// Reassembly and parser-driving options (the `[reassembly]` config table).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReassemblyConfig {
    /// Most out-of-order bytes held per direction of a flow.
    pub max_ooo_bytes: usize,
    /// Most out-of-order segments held per direction of a flow.
    pub max_ooo_segments: usize,
    /// Most out-of-order bytes held by one engine (shard) over all flows.
    pub memcap: usize,
    /// Which bytes win in overlaps.
    pub overlap: OverlapPolicy,
    /// What a cap hit does.
    pub overflow: OverflowPolicy,
    /// Most leading bytes per direction buffered while content probes still
    /// ask for more before a parser is chosen.
    pub probe_bytes: usize,
    /// Most datagrams per flow shown to UDP probes before giving up.
    pub probe_datagrams: u32,
    /// Compare re-sent data with what was delivered: the last 32 bytes
    /// byte for byte, the last 4 segments by checksum; a difference is an
    /// inconsistent overlap (the classic insertion evasion). Costs a
    /// checksum of every delivered byte.
    pub check_retransmissions: bool,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            max_ooo_bytes: 1 << 20,
            max_ooo_segments: 1024,
            memcap: 256 << 20,
            overlap: OverlapPolicy::First,
            overflow: OverflowPolicy::SlidingWindow,
            probe_bytes: 2048,
            probe_datagrams: 4,
            check_retransmissions: true,
        }
    }
}

/// A piece of the reassembled stream, in stream order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Bytes, in order.
    Data(&'a [u8]),
    /// This many bytes are missing here and will never be delivered.
    Gap(u64),
}

/// Per-direction reassembly counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamCounters {
    /// Bytes delivered.
    pub delivered: u64,
    /// Segments that brought no new byte.
    pub retransmits: u64,
    /// Segments held because they arrived ahead of a hole.
    pub out_of_order: u64,
    /// Segments that partly covered bytes already delivered or held.
    pub overlaps: u64,
    /// Overlaps whose covered bytes differed from the first copy.
    pub inconsistent: u64,
    /// Holes given up on.
    pub gaps: u64,
    /// Bytes in those holes (Zeek's `missed_bytes`).
    pub gap_bytes: u64,
    /// Times a cap forced a hole to be given up (or the flow dropped).
    pub cap_hits: u64,
}

/// Why held data could not be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapHit {
    /// `max_ooo_bytes` for this direction.
    SideBytes,
    /// `max_ooo_segments` for this direction.
    SideSegments,
    /// The engine-wide memcap.
    Memcap,
}

impl CapHit {
    /// Stable name.
    pub const fn name(self) -> &'static str {
        match self {
            CapHit::SideBytes => "reassembly.ooo_bytes_cap",
            CapHit::SideSegments => "reassembly.ooo_segments_cap",
            CapHit::Memcap => "reassembly.memcap",
        }
    }
}

/// What one segment did, beyond the bytes it delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SegmentOutcome {
    /// A cap was hit (and handled by the overflow policy).
    pub cap_hit: Option<CapHit>,
    /// The overflow policy is `DropFlow` and a cap was hit: the flow must
    /// end; nothing more was delivered.
    pub drop_flow: bool,
    /// Covered bytes differed from the copy that won.
    pub inconsistent: bool,
}

/// Out-of-order bytes held by all reassemblers of one engine, against the
/// memcap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    /// Bytes held now.
    pub used: usize,
    /// Most bytes held at once.
    pub peak: usize,
}

impl Memory {
    fn add(&mut self, n: usize) {
        self.used += n;
        self.peak = self.peak.max(self.used);
    }
    fn sub(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
    }
}

/// A held out-of-order segment.
#[derive(Debug, Clone)]
struct Held {
    off: u64,
    data: Vec<u8>,
}

impl Held {
    fn end(&self) -> u64 {
        self.off + self.data.len() as u64
    }
}

/// Delivered segments remembered per direction for retransmission checks.
const RECENT: usize = 4;
/// The last bytes delivered, kept per direction so a re-sent segment that
/// overlaps the delivery edge can be compared byte for byte.
const TAIL: usize = 32;

/// A delivered segment: where, how long, and a hash of its bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Digest {
    off: u64,
    len: u32,
    hash: u32,
}

/// A fast 64-bit checksum of a segment's bytes: four independent
/// rotate-xor lanes over 8-byte words (so the CPU runs them in parallel),
/// folded with the length. Cheap enough for every delivered byte; it tells
/// a resent segment with other bytes from the original, not a crafted
/// collision.
fn digest_of(bytes: &[u8]) -> u64 {
    let (words, tail) = bytes.as_chunks::<8>();
    let mut lanes = [0u64, 1, 2, 3];
    let mut blocks = words.chunks_exact(4);
    for b in &mut blocks {
        for (lane, w) in lanes.iter_mut().zip(b) {
            *lane = (*lane ^ u64::from_le_bytes(*w)).rotate_left(23);
        }
    }
    for (lane, w) in lanes.iter_mut().zip(blocks.remainder()) {
        *lane = (*lane ^ u64::from_le_bytes(*w)).rotate_left(23);
    }
    let mut last = [0u8; 8];
    last[..tail.len()].copy_from_slice(tail);
    lanes[3] ^= u64::from_le_bytes(last);
    let folded =
        lanes[0] ^ lanes[1].rotate_left(16) ^ lanes[2].rotate_left(32) ^ lanes[3].rotate_left(48);
    // The high half is the best mixed.
    (folded ^ bytes.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32
}

/// Largest forward jump of an acknowledgement taken as proof that the
/// bytes before it were lost to the capture (a window's worth); a larger
/// jump is a bogus ACK field, ignored.
const MAX_ACK_JUMP: u64 = 1 << 30;

/// One direction of a TCP connection being reassembled.
#[derive(Debug, Clone, Default)]
pub struct Reassembler {
    /// Stream offset of the next byte to deliver.
    next: u64,
    /// The highest stream offset the peer acknowledged beyond `next`.
    ack_mark: u64,
    /// `ack_mark` as of the peer's previous move (see `peer_moved_on`).
    armed_mark: u64,
    /// Stream offset of the FIN, once seen.
    fin: Option<u64>,
    /// Wire sequence number of the byte at `next`.
    next_seq: u32,
    anchored: bool,
    fin_reported: bool,
    recent_at: u8,
    /// Held segments: sorted, non-overlapping, all starting after `next`.
    held: Vec<Held>,
    held_bytes: usize,
    /// The last segments delivered, newest at `recent_at - 1`.
    recent: [Digest; RECENT],
    /// The last `tail_len` bytes delivered, ending at `next`.
    tail: [u8; TAIL],
    tail_len: u8,
    /// Counters (`delivered` is derived: `next - gap_bytes`).
    counters: StreamCounters,
}

impl Reassembler {
    /// A reassembler anchored on the initial sequence number from a SYN:
    /// the first data byte is `isn + 1`.
    pub fn from_isn(isn: u32) -> Self {
        let mut r = Reassembler::default();
        r.anchor(isn.wrapping_add(1));
        r
    }

    /// A reassembler that anchors on the first segment it sees (a stream
    /// picked up mid-way).
    pub fn mid_stream() -> Self {
        Reassembler::default()
    }

    fn anchor(&mut self, seq: u32) {
        self.anchored = true;
        self.next_seq = seq;
        self.next = 0;
    }

    /// Counters so far.
    pub fn counters(&self) -> StreamCounters {
        StreamCounters {
            delivered: self.next - self.counters.gap_bytes,
            ..self.counters
        }
    }

    /// Stream offset of the next byte to deliver.
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// Out-of-order bytes held now.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Out-of-order segments held now.
    pub fn held_segments(&self) -> usize {
        self.held.len()
    }

    /// Whether the stream has an anchor (a SYN or a first segment seen).
    pub fn is_anchored(&self) -> bool {
        self.anchored
    }

    /// Stream offset of a wire sequence number: the value nearest the next
    /// expected byte (negative before the stream start).
    fn offset_of(&self, seq: u32) -> i128 {
        let rel = seq.wrapping_sub(self.next_seq) as i32;
        i128::from(self.next) + i128::from(rel)
    }

    fn advance(&mut self, n: u64) {
        self.next += n;
        self.next_seq = self.next_seq.wrapping_add(n as u32);
    }

    fn deliver(&mut self, data: &[u8], sink: &mut impl FnMut(Chunk<'_>)) {
        if data.is_empty() {
            return;
        }
        sink(Chunk::Data(data));
        self.advance(data.len() as u64);
        self.keep_tail(data);
    }

    /// Keeps the last bytes delivered (they end at `next`).
    fn keep_tail(&mut self, data: &[u8]) {
        if data.len() >= TAIL {
            self.tail.copy_from_slice(&data[data.len() - TAIL..]);
            self.tail_len = TAIL as u8;
            return;
        }
        let had = usize::from(self.tail_len);
        let keep = had.min(TAIL - data.len());
        self.tail.copy_within(had - keep..had, 0);
        self.tail[keep..keep + data.len()].copy_from_slice(data);
        self.tail_len = (keep + data.len()) as u8;
    }

    /// Whether the part of a segment starting at `start` that overlaps the
    /// last bytes delivered differs from them.
    fn differs_from_tail(&self, start: i128, payload: &[u8]) -> bool {
        let next = i128::from(self.next);
        let tail_start = next - i128::from(self.tail_len);
        let end = start + payload.len() as i128;
        let (a, b) = (start.max(tail_start), end.min(next));
        if a >= b {
            return false;
        }
        let ours = &payload[(a - start) as usize..(b - start) as usize];
        let theirs = &self.tail[(a - tail_start) as usize..(b - tail_start) as usize];
        ours != theirs
    }

    fn remember(&mut self, off: u64, bytes: &[u8]) {
        let i = usize::from(self.recent_at) % RECENT;
        self.recent[i] = Digest {
            off,
            len: bytes.len() as u32,
            hash: digest_of(bytes) as u32,
        };
        self.recent_at = self.recent_at.wrapping_add(1);
    }

    /// A retransmission of a delivered segment: whether its bytes differ
    /// from the ones delivered (when that segment is still remembered).
    fn differs_from_delivered(&self, off: u64, bytes: &[u8]) -> bool {
        self.recent
            .iter()
            .find(|d| d.len > 0 && d.off == off && d.len as usize == bytes.len())
            .is_some_and(|d| d.hash != digest_of(bytes) as u32)
    }

    fn gap(&mut self, len: u64, sink: &mut impl FnMut(Chunk<'_>)) {
        if len == 0 {
            return;
        }
        self.tail_len = 0;
        sink(Chunk::Gap(len));
        self.counters.gaps += 1;
        self.counters.gap_bytes += len;
        self.advance(len);
    }

    /// True once, when every byte before the FIN has been delivered (or
    /// given up as a gap): the moment to tell the consumer the side closed.
    pub fn take_fin(&mut self) -> bool {
        match self.fin {
            Some(f) if !self.fin_reported && self.next >= f => {
                self.fin_reported = true;
                true
            }
            _ => false,
        }
    }

    /// Feeds one segment: its sequence number, payload and FIN flag.
    /// In-order bytes (and held bytes the segment releases) go to `sink`.
    pub fn segment(
        &mut self,
        seq: u32,
        payload: &[u8],
        fin: bool,
        cfg: &ReassemblyConfig,
        mem: &mut Memory,
        sink: &mut impl FnMut(Chunk<'_>),
    ) -> SegmentOutcome {
        let mut outcome = SegmentOutcome::default();
        if !self.anchored {
            if payload.is_empty() && !fin {
                return outcome;
            }
            self.anchor(seq);
        }
        let start = self.offset_of(seq);
        let end = start + payload.len() as i128;
        if fin && self.fin.is_none() && end >= i128::from(self.next) {
            // A FIN before what was already delivered is a bogus one.
            self.fin = Some(end as u64);
        }
        if payload.is_empty() {
            return outcome;
        }
        let next = i128::from(self.next);
        if end <= next {
            self.counters.retransmits += 1;
            if cfg.check_retransmissions
                && (self.differs_from_tail(start, payload)
                    || start >= 0 && self.differs_from_delivered(start as u64, payload))
            {
                self.counters.inconsistent += 1;
                outcome.inconsistent = true;
            }
            return outcome;
        }
        if start > next {
            let start = start as u64;
            return self.hold(start, payload, cfg, mem, sink);
        }
        // Starts at or before the next byte: new bytes from `next` on.
        if start < next {
            self.counters.retransmits += 1;
            self.counters.overlaps += 1;
            if cfg.check_retransmissions && self.differs_from_tail(start, payload) {
                self.counters.inconsistent += 1;
                outcome.inconsistent = true;
            }
        }
        let skip = (next - start) as usize;
        if cfg.check_retransmissions && skip == 0 {
            self.remember(self.next, payload);
        }
        outcome.inconsistent |= self.deliver_in_order(&payload[skip..], cfg, mem, sink);
        self.release(mem, sink);
        outcome
    }

    /// Delivers `data`, which starts at `next`, merging any held segments
    /// it covers by the overlap policy. Returns whether covered bytes
    /// differed.
    fn deliver_in_order(
        &mut self,
        mut data: &[u8],
        cfg: &ReassemblyConfig,
        mem: &mut Memory,
        sink: &mut impl FnMut(Chunk<'_>),
    ) -> bool {
        let mut inconsistent = false;
        while !data.is_empty() {
            let end = self.next + data.len() as u64;
            let Some(h) = self.held.first() else {
                self.deliver(data, sink);
                break;
            };
            if h.off >= end {
                self.deliver(data, sink);
                break;
            }
            // Packet bytes up to the held segment, then the overlap.
            let lead = (h.off - self.next) as usize;
            self.deliver(&data[..lead], sink);
            data = &data[lead..];
            let h = self.held.remove(0);
            self.held_bytes -= h.data.len();
            mem.sub(h.data.len());
            let covered = data.len().min(h.data.len());
            self.counters.overlaps += 1;
            if data[..covered] != h.data[..covered] {
                inconsistent = true;
                self.counters.inconsistent += 1;
            }
            match cfg.overlap {
                OverlapPolicy::First => self.deliver(&h.data, sink),
                OverlapPolicy::Last => {
                    self.deliver(&data[..covered], sink);
                    self.deliver(&h.data[covered..], sink);
                }
            }
            data = &data[covered..];
        }
        inconsistent
    }

    /// Delivers held segments that now start at the next byte.
    fn release(&mut self, mem: &mut Memory, sink: &mut impl FnMut(Chunk<'_>)) {
        while self.held.first().is_some_and(|h| h.off <= self.next) {
            let h = self.held.remove(0);
            self.held_bytes -= h.data.len();
            mem.sub(h.data.len());
            // Held segments never start before `next` (they would have been
            // merged); stay safe if one does.
            let skip = (self.next.saturating_sub(h.off) as usize).min(h.data.len());
            self.deliver(&h.data[skip..], sink);
        }
    }

    /// Holds a segment that starts after a hole at `start`.
    fn hold(
        &mut self,
        start: u64,
        payload: &[u8],
        cfg: &ReassemblyConfig,
        mem: &mut Memory,
        sink: &mut impl FnMut(Chunk<'_>),
    ) -> SegmentOutcome {
        let mut outcome = SegmentOutcome::default();
        let end = start + payload.len() as u64;
        // The parts of [start, end) not already held, and how the overlaps
        // compare.
        let mut uncovered: Vec<(u64, u64)> = Vec::new();
        let mut covered_any = false;
        let mut cur = start;
        let first = self.held.partition_point(|h| h.end() <= start);
        for h in &self.held[first..] {
            if h.off >= end {
                break;
            }
            if h.off > cur {
                uncovered.push((cur, h.off));
            }
            let (a, b) = (h.off.max(start), h.end().min(end));
            covered_any = true;
            let new = &payload[(a - start) as usize..(b - start) as usize];
            let old = &h.data[(a - h.off) as usize..(b - h.off) as usize];
            if new != old {
                outcome.inconsistent = true;
            }
            cur = cur.max(h.end());
        }
        if cur < end {
            uncovered.push((cur, end));
        }
        if outcome.inconsistent {
            self.counters.inconsistent += 1;
        }
        if covered_any {
            self.counters.overlaps += 1;
        }
        let last_wins = cfg.overlap == OverlapPolicy::Last && covered_any;
        if uncovered.is_empty() && !last_wins {
            self.counters.retransmits += 1;
            return outcome;
        }
        // What holding it would cost.
        let added: usize = if last_wins {
            payload.len()
        } else {
            uncovered.iter().map(|&(a, b)| (b - a) as usize).sum()
        };
        let freed: usize = if last_wins {
            self.held[first..]
                .iter()
                .take_while(|h| h.off < end)
                .map(|h| (h.end().min(end) - h.off.max(start)) as usize)
                .sum()
        } else {
            0
        };
        let new_segments = if last_wins { 2 } else { uncovered.len() };
        let hit = if self.held_bytes + added - freed > cfg.max_ooo_bytes {
            Some(CapHit::SideBytes)
        } else if self.held.len() + new_segments > cfg.max_ooo_segments {
            Some(CapHit::SideSegments)
        } else if mem.used + added - freed > cfg.memcap {
            Some(CapHit::Memcap)
        } else {
            None
        };
        if let Some(hit) = hit {
            outcome.cap_hit = Some(hit);
            self.counters.cap_hits += 1;
            if cfg.overflow == OverflowPolicy::DropFlow {
                outcome.drop_flow = true;
                return outcome;
            }
            // Sliding window: give up holes, oldest first, until this
            // segment fits or is in order.
            while self.next < start
                && !self.held.is_empty()
                && self.over_caps(added, new_segments, cfg, mem)
            {
                self.skip_hole(sink, mem);
            }
            if self.next < start && self.over_caps(added, new_segments, cfg, mem) {
                let hole = start - self.next;
                self.gap(hole, sink);
            }
            if self.next >= start {
                let skip = (self.next - start).min(payload.len() as u64) as usize;
                let inconsistent = self.deliver_in_order(&payload[skip..], cfg, mem, sink);
                outcome.inconsistent |= inconsistent;
                self.release(mem, sink);
                return outcome;
            }
            // Holes were given up but this one still sits after one: hold
            // it below, recomputing what it covers.
            return self.hold(start, payload, cfg, mem, sink).merge(outcome);
        }
        self.counters.out_of_order += 1;
        if last_wins {
            self.cut_out(start, end, mem);
            let at = self.held.partition_point(|h| h.off < start);
            self.held.insert(
                at,
                Held {
                    off: start,
                    data: payload.to_vec(),
                },
            );
            self.held_bytes += payload.len();
            mem.add(payload.len());
        } else {
            for (a, b) in uncovered {
                let at = self.held.partition_point(|h| h.off < a);
                let data = payload[(a - start) as usize..(b - start) as usize].to_vec();
                self.held_bytes += data.len();
                mem.add(data.len());
                self.held.insert(at, Held { off: a, data });
            }
        }
        outcome
    }

    fn over_caps(
        &self,
        added: usize,
        new_segments: usize,
        cfg: &ReassemblyConfig,
        mem: &Memory,
    ) -> bool {
        self.held_bytes + added > cfg.max_ooo_bytes
            || self.held.len() + new_segments > cfg.max_ooo_segments
            || mem.used + added > cfg.memcap
    }

    /// Removes the bytes in `[start, end)` from the held segments, keeping
    /// what lies either side.
    fn cut_out(&mut self, start: u64, end: u64, mem: &mut Memory) {
        let mut kept = Vec::with_capacity(self.held.len() + 1);
        for h in self.held.drain(..) {
            if h.end() <= start || h.off >= end {
                kept.push(h);
                continue;
            }
            let before = h.data.len();
            let mut after = 0;
            if h.off < start {
                let d = h.data[..(start - h.off) as usize].to_vec();
                after += d.len();
                kept.push(Held {
                    off: h.off,
                    data: d,
                });
            }
            if h.end() > end {
                let d = h.data[(end - h.off) as usize..].to_vec();
                after += d.len();
                kept.push(Held { off: end, data: d });
            }
            self.held_bytes -= before - after;
            mem.sub(before - after);
        }
        self.held = kept;
    }

    /// Gives up the hole before the first held segment: reports it as a gap
    /// and delivers the held bytes behind it up to the next hole.
    fn skip_hole(&mut self, sink: &mut impl FnMut(Chunk<'_>), mem: &mut Memory) {
        if let Some(h) = self.held.first() {
            let hole = h.off.saturating_sub(self.next);
            self.gap(hole, sink);
            self.release(mem, sink);
        }
    }

    /// The peer acknowledged up to wire sequence number `ack`: remembered
    /// as the mark [`Reassembler::peer_moved_on`] gives holes up to.
    pub fn acked(&mut self, ack: u32) {
        if !self.anchored {
            return;
        }
        let a = self.offset_of(ack);
        if a <= i128::from(self.next) {
            return;
        }
        let mut a = a as u64;
        if let Some(f) = self.fin {
            // The FIN takes a sequence number of its own.
            a = a.min(f);
        }
        if a <= self.next || a - self.next > MAX_ACK_JUMP {
            return;
        }
        self.ack_mark = self.ack_mark.max(a);
    }

    /// The peer, having acknowledged past a hole, went on with the
    /// conversation (it sent data or FIN): the bytes it acknowledged and the
    /// capture never showed were lost to the capture — the sender will not
    /// send them again. A capture can also merely show data behind its ACK
    /// (reordered across directions), so a hole becomes a gap only when it
    /// is still open at the *next* such move of the peer: the mark is armed
    /// at one move and acted on at the next.
    pub fn peer_moved_on(&mut self, mem: &mut Memory, sink: &mut impl FnMut(Chunk<'_>)) {
        if self.armed_mark > self.next {
            self.skip_to(self.armed_mark, mem, sink);
        }
        self.armed_mark = self.ack_mark;
    }

    /// Whether a segment at wire sequence number `seq` would continue the
    /// stream with nothing held: the case [`Reassembler::take_in_order`]
    /// handles.
    #[inline]
    pub fn is_next(&self, seq: u32) -> bool {
        self.anchored && seq == self.next_seq && self.held.is_empty() && self.fin.is_none()
    }

    /// Takes the payload of a segment for which [`Reassembler::is_next`]
    /// held: exactly what [`Reassembler::segment`] does with it, without a
    /// sink (the caller hands the same bytes to its consumer).
    #[inline]
    pub fn take_in_order(&mut self, payload: &[u8], cfg: &ReassemblyConfig) {
        debug_assert!(self.held.is_empty());
        if payload.is_empty() {
            return;
        }
        if cfg.check_retransmissions {
            self.remember(self.next, payload);
        }
        self.advance(payload.len() as u64);
        self.keep_tail(payload);
    }

    /// [`Reassembler::acked`], and whether that leaves no hole for
    /// [`Reassembler::peer_moved_on`] to give up (so calling it would do
    /// nothing but re-arm the mark, which this does too).
    #[inline]
    pub fn acked_quietly(&mut self, ack: u32) -> bool {
        self.acked(ack);
        if self.ack_mark > self.next || self.armed_mark > self.next {
            return false;
        }
        self.armed_mark = self.ack_mark;
        true
    }

    /// Gives up every hole before stream offset `to`.
    fn skip_to(&mut self, to: u64, mem: &mut Memory, sink: &mut impl FnMut(Chunk<'_>)) {
        while self.next < to {
            match self.held.first() {
                Some(h) if h.off < to => self.skip_hole(sink, mem),
                _ => {
                    let hole = to - self.next;
                    self.gap(hole, sink);
                }
            }
        }
    }

    /// The flow is over: every held byte is delivered with the holes before
    /// it reported as gaps, and so are bytes the peer acknowledged that were
    /// never seen, and a hole before a seen FIN. (A FIN lost to the capture
    /// whose ACK was seen reads as one missing byte.)
    pub fn flush(&mut self, mem: &mut Memory, sink: &mut impl FnMut(Chunk<'_>)) {
        while !self.held.is_empty() {
            self.skip_hole(sink, mem);
        }
        // Acknowledged by the peer, never seen, and now never coming.
        if self.ack_mark > self.next {
            let to = self.ack_mark;
            self.skip_to(to, mem, sink);
        }
        if let Some(f) = self.fin
            && f > self.next
        {
            let hole = f - self.next;
            self.gap(hole, sink);
        }
    }

    /// Drops everything held (the flow is dropped), returning the bytes to
    /// the memcap.
    pub fn discard(&mut self, mem: &mut Memory) {
        mem.sub(self.held_bytes);
        self.held.clear();
        self.held_bytes = 0;
    }
}

impl SegmentOutcome {
    fn merge(mut self, earlier: SegmentOutcome) -> SegmentOutcome {
        self.cap_hit = self.cap_hit.or(earlier.cap_hit);
        self.inconsistent |= earlier.inconsistent;
        self.drop_flow |= earlier.drop_flow;
        self
    }
}

#[cfg(test)]
mod tests;
