//! Rate pacing: lets a recorded source offer its packets as a link would —
//! at a fixed packet rate or at (a multiple of) the capture's own timing —
//! so latency can be measured under a given load, not only flat out.
//!
//! A paced source is live to the pipeline (it drops rather than blocks
//! when shards fall behind, and closes epochs on wall time). Between the
//! "wire" and the ingest sits a buffer like a capture ring: a packet the
//! ingest reaches more than `max_late` after it was due has been
//! overwritten, and is dropped and counted.

use flowscope_engine::Timestamp;
use std::time::{Duration, Instant};

/// How fast packets are offered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// This many packets per second, evenly spaced.
    Rate(f64),
    /// The capture's own timing, this many times faster (1.0: as
    /// captured).
    Speed(f64),
}

/// Longest a paced source sleeps in one call; it then reports itself idle
/// so the ingest can close epochs on time.
const MAX_SLEEP: Duration = Duration::from_millis(1);
/// Waits shorter than this spin instead of sleeping (a sleep overshoots
/// by tens of microseconds).
const SPIN_BELOW: Duration = Duration::from_micros(100);

/// What a paced source does with its next packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Hand it over now.
    Go,
    /// It was due too long ago: the ring overwrote it.
    Drop,
    /// Not due yet: report idle and ask again.
    Wait,
}

/// Paces one packet stream.
#[derive(Debug, Clone)]
pub struct Pacer {
    pace: Pace,
    max_late: Duration,
    /// Wall time and capture time of the first packet.
    start: Option<(Instant, Timestamp)>,
    /// Packets offered so far (due times of `Rate` count from it).
    offered: u64,
    dropped: u64,
}

impl Pacer {
    /// A pacer; `max_late` is how far behind the ingest may fall before
    /// packets are lost.
    pub fn new(pace: Pace, max_late: Duration) -> Self {
        Pacer {
            pace,
            max_late,
            start: None,
            offered: 0,
            dropped: 0,
        }
    }

    /// Packets offered (handed over or dropped).
    pub fn offered(&self) -> u64 {
        self.offered
    }

    /// Packets dropped because the ingest was too late for them.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// When the packet captured at `ts` is due, after the first packet.
    fn due_after_start(&self, ts: Timestamp, first: Timestamp) -> Duration {
        match self.pace {
            Pace::Rate(pps) => Duration::from_secs_f64(self.offered as f64 / pps.max(1e-9)),
            Pace::Speed(x) => {
                let ns = ts.as_nanos().saturating_sub(first.as_nanos());
                Duration::from_secs_f64(ns as f64 / 1e9 / x.max(1e-9))
            }
        }
    }

    /// Decides about the next packet (captured at `ts`); may wait up to
    /// about a millisecond before answering.
    pub fn gate(&mut self, ts: Timestamp) -> Gate {
        let (t0, first) = *self.start.get_or_insert_with(|| (Instant::now(), ts));
        let due = t0 + self.due_after_start(ts, first);
        let mut now = Instant::now();
        if now < due {
            let wait = due - now;
            if wait > MAX_SLEEP {
                std::thread::sleep(MAX_SLEEP);
                return Gate::Wait;
            }
            if wait > SPIN_BELOW {
                std::thread::sleep(wait - SPIN_BELOW);
            }
            while now < due {
                std::hint::spin_loop();
                now = Instant::now();
            }
        }
        self.offered += 1;
        if now.duration_since(due) > self.max_late {
            self.dropped += 1;
            Gate::Drop
        } else {
            Gate::Go
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_spaces_packets_and_a_late_reader_loses_them() {
        let mut p = Pacer::new(Pace::Rate(10_000.0), Duration::from_millis(5));
        let start = Instant::now();
        let mut go = 0;
        while go < 20 {
            match p.gate(Timestamp::ZERO) {
                Gate::Go => go += 1,
                Gate::Wait => {}
                Gate::Drop => panic!("a prompt reader loses nothing"),
            }
        }
        // 20 packets at 10 kpps: the 20th is due 1.9 ms after the first.
        assert!(start.elapsed() >= Duration::from_micros(1900));
        // Fall about 20 ms behind: what was due more than 5 ms ago is gone.
        // Packet n is due n * 0.1 ms after the start, so the drops follow
        // from the time measured around them (a busy machine oversleeps).
        std::thread::sleep(Duration::from_millis(20));
        let late_first = start.elapsed();
        let mut dropped = 0;
        while p.gate(Timestamp::ZERO) == Gate::Drop {
            dropped += 1;
        }
        let late_last = start.elapsed();
        let due = |at: Duration| (at.as_secs_f64() - 0.005) * 10_000.0 - 20.0;
        let (low, high) = (due(late_first) - 2.0, due(late_last) + 2.0);
        assert!(
            (low..=high).contains(&(dropped as f64)) && dropped >= 140,
            "{dropped} not in {low}..={high}"
        );
        assert_eq!(p.dropped(), dropped);
        assert_eq!(p.offered(), 20 + dropped + 1);
    }

    #[test]
    fn speed_follows_capture_time() {
        let mut p = Pacer::new(Pace::Speed(10.0), Duration::from_secs(1));
        let t = |ms: u64| Timestamp::from_nanos(1_000_000_000 + ms * 1_000_000);
        assert_eq!(p.gate(t(0)), Gate::Go);
        let start = Instant::now();
        // 30 ms of capture time at 10×: due 3 ms later, reached through
        // waits of at most a millisecond each.
        let mut waits = 0;
        while p.gate(t(30)) == Gate::Wait {
            waits += 1;
        }
        assert!(waits >= 1, "{waits}");
        assert!(
            start.elapsed() >= Duration::from_millis(2),
            "{:?}",
            start.elapsed()
        );
    }
}
