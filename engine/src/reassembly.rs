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
//! last 32 bytes delivered and the last 4 segments delivered, by the
//! payload sum their TCP checksums state or by a digest of their bytes:
//! delivered bytes are otherwise not kept), gaps and gap bytes.

mod config;
mod held;
mod memory;
mod outcome;
mod retransmit;

pub use config::{OverflowPolicy, OverlapPolicy, ReassemblyConfig};
pub use memory::Memory;
pub use outcome::{CapHit, Chunk, Segment, SegmentOutcome, StreamCounters};

use held::Held;
use retransmit::{Digest, RECENT, TAIL};
use std::collections::VecDeque;

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
    held: VecDeque<Held>,
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

    /// Feeds one segment. In-order bytes (and held bytes the segment
    /// releases) go to `sink`.
    #[inline]
    pub fn segment(
        &mut self,
        seg: Segment<'_>,
        cfg: &ReassemblyConfig,
        mem: &mut Memory,
        sink: &mut impl FnMut(Chunk<'_>),
    ) -> SegmentOutcome {
        let Segment {
            seq,
            payload,
            fin,
            payload_sum,
        } = seg;
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
                    || start >= 0
                        && self.differs_from_delivered(start as u64, payload, payload_sum))
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
            self.remember(self.next, payload, payload_sum, cfg);
        }
        outcome.inconsistent |= self.deliver_in_order(&payload[skip..], cfg, mem, sink);
        self.release(mem, sink);
        outcome
    }
    /// The stream offset acknowledgement number `ack` stands for (the
    /// first byte not acknowledged), or `None` before the stream is
    /// anchored or for a number before its start.
    pub fn ack_offset(&self, ack: u32) -> Option<u64> {
        let a = self.offset_of(ack);
        (self.anchored && a >= 0).then_some(a as u64)
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
    /// held (with the payload sum its checksum states, when known): exactly
    /// what [`Reassembler::segment`] does with it, without a sink (the
    /// caller hands the same bytes to its consumer).
    #[inline]
    pub fn take_in_order(
        &mut self,
        payload: &[u8],
        payload_sum: Option<u16>,
        cfg: &ReassemblyConfig,
    ) {
        debug_assert!(self.held.is_empty());
        if payload.is_empty() {
            return;
        }
        if cfg.check_retransmissions {
            self.remember(self.next, payload, payload_sum, cfg);
            // Only the check reads the last bytes delivered.
            self.keep_tail(payload);
        }
        self.advance(payload.len() as u64);
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
            match self.held.front() {
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
        self.counters.discarded_bytes += self.held_bytes as u64;
        mem.sub(self.held_bytes);
        self.held.clear();
        self.held_bytes = 0;
    }
}

#[cfg(test)]
mod tests;
