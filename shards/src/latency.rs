//! Latency recording for the pipeline: when each sampled packet was read,
//! how long it spent in each stage, and how long after its read each of its
//! events left the merge.
//!
//! One packet in `sample_every` is sampled, chosen by a hash of its seq
//! (not every n-th: epoch boundaries fall on every `epoch_packets`-th seq,
//! and timer events carry the boundary's seq, so a stride would sample
//! all of them or none). The ingest reads the clock for it (one clock read per sampled packet, none for the others)
//! and each thread records into its own histograms, merged only at the end,
//! so recording shares no cache line and takes no lock on the hot path.
//! Stages, for a sampled packet:
//!
//! - `ingest`: read → its batch handed to the shard's queue (batching wait
//!   included: at low rates a batch fills slowly);
//! - `queue`: in the shard's queue;
//! - `shard`: from the shard taking the batch to the batch's events handed
//!   to the merge (engine, parsers and rendering of the whole batch);
//! - `merge`: for each event of a sampled packet, from the shard handing it
//!   over to the merge releasing it (waiting for the slowest shard's epoch);
//! - `total`: for each event of a sampled packet, read → released
//!   (ingest→event).
//!
//! Events raised by timers carry the seq of the epoch's last packet, so
//! their latency counts from that packet's read.

use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Read times kept for the merge to look up, indexed by seq (power of
/// two). A slot is reused this many packets later; a lookup that finds
/// another packet's time there (an event released that much later) is
/// counted as lost rather than recorded wrong.
const RING_SLOTS: usize = 1 << 18;

/// Nanoseconds since the pipeline started: the clock every thread shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock(Instant);

impl Clock {
    pub(crate) fn new() -> Self {
        Clock(Instant::now())
    }
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        // Starts at 1 so that 0 can mean "not stamped".
        self.0.elapsed().as_nanos() as u64 + 1
    }
}

/// Read times of sampled packets, written by the ingest and read by the
/// merge.
#[derive(Debug)]
pub(crate) struct ReadTimes {
    /// Per slot: seq + 1 of the packet stamped there (0: none), and its
    /// read time.
    slots: Box<[(AtomicU64, AtomicU64)]>,
    pub(crate) sample_every: u64,
}

impl ReadTimes {
    pub(crate) fn new(sample_every: u32) -> Self {
        ReadTimes {
            slots: (0..RING_SLOTS)
                .map(|_| (AtomicU64::new(0), AtomicU64::new(0)))
                .collect(),
            sample_every: u64::from(sample_every.max(1)),
        }
    }

    #[inline]
    pub(crate) fn sampled(&self, seq: u64) -> bool {
        is_sampled(seq, self.sample_every)
    }

    fn slot(&self, seq: u64) -> &(AtomicU64, AtomicU64) {
        &self.slots[seq as usize & (RING_SLOTS - 1)]
    }

    pub(crate) fn store(&self, seq: u64, ns: u64) {
        let (s, t) = self.slot(seq);
        // Time first, then the seq that validates it (Release/Acquire).
        t.store(ns, Ordering::Relaxed);
        s.store(seq + 1, Ordering::Release);
    }

    pub(crate) fn load(&self, seq: u64) -> Option<u64> {
        let (s, t) = self.slot(seq);
        if s.load(Ordering::Acquire) != seq + 1 {
            return None;
        }
        let ns = t.load(Ordering::Relaxed);
        // A rewrite between the two loads would change the seq too.
        (s.load(Ordering::Acquire) == seq + 1).then_some(ns)
    }
}

/// Whether packet `seq` is one of the sampled (about one in `every`).
#[inline]
pub fn is_sampled(seq: u64, every: u64) -> bool {
    // Fibonacci hashing: the high bits of seq × 2^64/φ are well mixed.
    every <= 1 || (seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32).is_multiple_of(every)
}

/// One stage's histogram, nanoseconds.
fn histogram() -> Histogram<u64> {
    // 3 significant digits, 1 ns to an hour: fixed size, so recording
    // never allocates.
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("valid histogram bounds")
}

/// Records `ns` (clamped into the histogram's range).
#[inline]
pub(crate) fn record(h: &mut Histogram<u64>, ns: u64) {
    h.saturating_record(ns.max(1));
}

/// The latency histograms of one run (nanoseconds), every thread's merged.
#[derive(Debug, Clone)]
pub struct LatencyReport {
    /// One packet in this many was sampled.
    pub sample_every: u32,
    /// Read → event released, per event of a sampled packet.
    pub total: Histogram<u64>,
    /// Read → batch queued to its shard.
    pub ingest: Histogram<u64>,
    /// Waiting in the shard's queue.
    pub queue: Histogram<u64>,
    /// Shard took the batch → its events handed to the merge.
    pub shard: Histogram<u64>,
    /// Handed to the merge → released in order.
    pub merge: Histogram<u64>,
    /// Events of sampled packets whose read time had been overwritten
    /// before they were released (not recorded).
    pub lost: u64,
}

impl LatencyReport {
    /// An empty report (a single-threaded run records its totals into one
    /// by hand with [`LatencyReport::record_total`]).
    pub fn new(sample_every: u32) -> Self {
        LatencyReport {
            sample_every: sample_every.max(1),
            total: histogram(),
            ingest: histogram(),
            queue: histogram(),
            shard: histogram(),
            merge: histogram(),
            lost: 0,
        }
    }

    /// Records one ingest→event latency.
    pub fn record_total(&mut self, d: std::time::Duration) {
        record(&mut self.total, d.as_nanos() as u64);
    }

    /// Adds `other`'s recordings.
    pub fn add(&mut self, other: &LatencyReport) {
        // Same bounds everywhere, so adding cannot fail.
        let _ = self.total.add(&other.total);
        let _ = self.ingest.add(&other.ingest);
        let _ = self.queue.add(&other.queue);
        let _ = self.shard.add(&other.shard);
        let _ = self.merge.add(&other.merge);
        self.lost += other.lost;
    }

    /// The stages by name, `total` first.
    pub fn stages(&self) -> [(&'static str, &Histogram<u64>); 5] {
        [
            ("total", &self.total),
            ("ingest", &self.ingest),
            ("queue", &self.queue),
            ("shard", &self.shard),
            ("merge", &self.merge),
        ]
    }
}

/// Percentiles of one histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Percentiles {
    /// Values recorded.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

impl Percentiles {
    /// From a histogram of nanoseconds.
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Percentiles::default();
        }
        let us = |ns: u64| ns as f64 / 1e3;
        Percentiles {
            count: h.len(),
            p50: us(h.value_at_quantile(0.5)),
            p90: us(h.value_at_quantile(0.9)),
            p99: us(h.value_at_quantile(0.99)),
            p999: us(h.value_at_quantile(0.999)),
            max: us(h.max()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_times_round_trip_and_detect_reuse() {
        let r = ReadTimes::new(4);
        assert!(r.sampled(0));
        // About one in four, also among epoch boundaries (every 64th).
        let hits = (0..100_000).filter(|&s| r.sampled(s)).count();
        assert!((23_000..27_000).contains(&hits), "{hits}");
        let boundaries = (0..100_000).filter(|&s| r.sampled(s * 64 + 63)).count();
        assert!((23_000..27_000).contains(&boundaries), "{boundaries}");
        r.store(8, 123);
        assert_eq!(r.load(8), Some(123));
        assert_eq!(r.load(12), None);
        // The slot of seq 8 is reused RING_SLOTS packets later.
        let later = 8 + RING_SLOTS as u64;
        r.store(later, 456);
        assert_eq!(r.load(8), None);
        assert_eq!(r.load(later), Some(456));
    }

    #[test]
    fn percentiles_in_microseconds() {
        let mut h = histogram();
        for ns in 1..=1000u64 {
            record(&mut h, ns * 1000);
        }
        let p = Percentiles::of(&h);
        assert_eq!(p.count, 1000);
        assert!((p.p50 - 500.0).abs() < 1.0, "{p:?}");
        assert!((p.p99 - 990.0).abs() < 1.0, "{p:?}");
        assert!((p.max - 1000.0).abs() < 1.0, "{p:?}");
        let mut sum = LatencyReport::new(1);
        let mut part = LatencyReport::new(1);
        record(&mut part.total, 5);
        sum.add(&part);
        sum.add(&part);
        assert_eq!(sum.total.len(), 2);
        assert_eq!(Percentiles::of(&histogram()), Percentiles::default());
    }
}
