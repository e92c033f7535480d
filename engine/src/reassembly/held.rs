//! The out-of-order hold list: segments that arrived ahead of a hole,
//! kept sorted and non-overlapping, merged by the overlap policy and
//! released when the hole fills; the caps on them and the overflow policy
//! that gives holes up when a cap is hit.

use super::Reassembler;
use super::config::{OverflowPolicy, OverlapPolicy, ReassemblyConfig};
use super::memory::Memory;
use super::outcome::{CapHit, Chunk, SegmentOutcome};
use std::collections::VecDeque;

/// A held out-of-order segment.
#[derive(Debug, Clone)]
pub(super) struct Held {
    pub(super) off: u64,
    data: Vec<u8>,
}

impl Held {
    fn end(&self) -> u64 {
        self.off + self.data.len() as u64
    }
}

impl Reassembler {
    /// Delivers `data`, which starts at `next`, merging any held segments
    /// it covers by the overlap policy. Returns whether covered bytes
    /// differed.
    pub(super) fn deliver_in_order(
        &mut self,
        mut data: &[u8],
        cfg: &ReassemblyConfig,
        mem: &mut Memory,
        sink: &mut impl FnMut(Chunk<'_>),
    ) -> bool {
        let mut inconsistent = false;
        while !data.is_empty() {
            let end = self.next + data.len() as u64;
            // The first held segment, when this data reaches it.
            let Some(h) = self.held.pop_front_if(|h| h.off < end) else {
                self.deliver(data, sink);
                break;
            };
            // Packet bytes up to the held segment, then the overlap.
            let lead = (h.off - self.next) as usize;
            self.deliver(&data[..lead], sink);
            data = &data[lead..];
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
    pub(super) fn release(&mut self, mem: &mut Memory, sink: &mut impl FnMut(Chunk<'_>)) {
        while let Some(h) = self.held.pop_front_if(|h| h.off <= self.next) {
            self.held_bytes -= h.data.len();
            mem.sub(h.data.len());
            // Held segments never start before `next` (they would have been
            // merged); stay safe if one does.
            let skip = (self.next.saturating_sub(h.off) as usize).min(h.data.len());
            self.deliver(&h.data[skip..], sink);
        }
    }

    /// Holds a segment that starts after a hole at `start`.
    pub(super) fn hold(
        &mut self,
        start: u64,
        payload: &[u8],
        cfg: &ReassemblyConfig,
        mem: &mut Memory,
        sink: &mut impl FnMut(Chunk<'_>),
    ) -> SegmentOutcome {
        let mut outcome = SegmentOutcome::default();
        let end = start + payload.len() as u64;
        // How many parts of [start, end) are not already held and their
        // bytes (counted here, cut out below: no list per segment), and
        // how the overlaps compare.
        let (mut uncovered, mut uncovered_bytes) = (0usize, 0usize);
        let mut covered_any = false;
        let mut cur = start;
        let first = self.held.partition_point(|h| h.end() <= start);
        for h in self.held.range(first..) {
            if h.off >= end {
                break;
            }
            if h.off > cur {
                uncovered += 1;
                uncovered_bytes += (h.off - cur) as usize;
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
            uncovered += 1;
            uncovered_bytes += (end - cur) as usize;
        }
        if outcome.inconsistent {
            self.counters.inconsistent += 1;
        }
        if covered_any {
            self.counters.overlaps += 1;
        }
        let last_wins = cfg.overlap == OverlapPolicy::Last && covered_any;
        if uncovered == 0 && !last_wins {
            self.counters.retransmits += 1;
            return outcome;
        }
        // What holding it would cost.
        let added: usize = if last_wins {
            payload.len()
        } else {
            uncovered_bytes
        };
        let freed: usize = if last_wins {
            self.held
                .range(first..)
                .take_while(|h| h.off < end)
                .map(|h| (h.end().min(end) - h.off.max(start)) as usize)
                .sum()
        } else {
            0
        };
        let new_segments = if last_wins { 2 } else { uncovered };
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
            // The gaps between the held segments that [start, end) spans,
            // each held as its own segment, in order.
            let mut cur = start;
            let mut i = self.held.partition_point(|h| h.end() <= start);
            while cur < end {
                if let Some(h) = self.held.get(i)
                    && h.off <= cur
                {
                    cur = cur.max(h.end());
                    i += 1;
                    continue;
                }
                let gap_end = self.held.get(i).map_or(end, |h| h.off.min(end));
                let data = payload[(cur - start) as usize..(gap_end - start) as usize].to_vec();
                self.held_bytes += data.len();
                mem.add(data.len());
                self.held.insert(i, Held { off: cur, data });
                i += 1;
                cur = gap_end;
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
        let mut kept = VecDeque::with_capacity(self.held.len() + 1);
        for h in self.held.drain(..) {
            if h.end() <= start || h.off >= end {
                kept.push_back(h);
                continue;
            }
            let before = h.data.len();
            let mut after = 0;
            if h.off < start {
                let d = h.data[..(start - h.off) as usize].to_vec();
                after += d.len();
                kept.push_back(Held {
                    off: h.off,
                    data: d,
                });
            }
            if h.end() > end {
                let d = h.data[(end - h.off) as usize..].to_vec();
                after += d.len();
                kept.push_back(Held { off: end, data: d });
            }
            self.held_bytes -= before - after;
            mem.sub(before - after);
        }
        self.held = kept;
    }

    /// Gives up the hole before the first held segment: reports it as a gap
    /// and delivers the held bytes behind it up to the next hole.
    pub(super) fn skip_hole(&mut self, sink: &mut impl FnMut(Chunk<'_>), mem: &mut Memory) {
        if let Some(h) = self.held.front() {
            let hole = h.off.saturating_sub(self.next);
            self.gap(hole, sink);
            self.release(mem, sink);
        }
    }
}
