//! Packet numbering, the packet clock and epoch boundaries: the part of
//! the ingest protocol that makes output depend only on the input.

use flowscope_engine::Timestamp;

/// What the sequencer assigns to one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Global packet number, 0-based, in read order.
    pub seq: u64,
    /// Packet clock: the largest timestamp read so far, this one included.
    pub now: Timestamp,
}

/// Numbers packets and closes an epoch every `epoch_packets` packets.
#[derive(Debug, Clone)]
pub struct Sequencer {
    next_seq: u64,
    clock: Timestamp,
    epoch_packets: u64,
    in_epoch: u64,
    /// The clock at the last boundary.
    boundary_clock: Timestamp,
}

impl Sequencer {
    /// A sequencer closing an epoch every `epoch_packets` packets (at least 1).
    pub fn new(epoch_packets: u64) -> Self {
        Sequencer {
            next_seq: 0,
            clock: Timestamp::ZERO,
            epoch_packets: epoch_packets.max(1),
            in_epoch: 0,
            boundary_clock: Timestamp::ZERO,
        }
    }

    /// Numbers the next packet and advances the clock.
    #[inline]
    pub fn stamp(&mut self, ts: Timestamp) -> Stamp {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.in_epoch += 1;
        self.clock = self.clock.max(ts);
        Stamp {
            seq,
            now: self.clock,
        }
    }

    /// After a packet: the epoch boundary it closes, if any, as the last
    /// packet's seq and the clock.
    #[inline]
    pub fn close_epoch_if_due(&mut self) -> Option<Stamp> {
        if self.in_epoch < self.epoch_packets {
            return None;
        }
        self.in_epoch = 0;
        self.boundary_clock = self.clock;
        Some(Stamp {
            seq: self.next_seq - 1,
            now: self.clock,
        })
    }

    /// Moves the clock to `now` without a packet (a live source's clock
    /// while its link is quiet), never backwards.
    pub fn advance_clock(&mut self, now: Timestamp) {
        self.clock = self.clock.max(now);
    }

    /// Closes the epoch now, whatever its length (live input closes epochs
    /// by wall time): the boundary after the last packet, or `None` when no
    /// packet arrived and the clock has not moved since the last boundary
    /// (nothing new could have fallen due), or no packet arrived at all (a
    /// boundary needs a seq; with no packet there is no flow either).
    pub fn close_epoch_now(&mut self) -> Option<Stamp> {
        if self.next_seq == 0 || (self.in_epoch == 0 && self.clock == self.boundary_clock) {
            return None;
        }
        self.in_epoch = 0;
        self.boundary_clock = self.clock;
        Some(Stamp {
            seq: self.next_seq - 1,
            now: self.clock,
        })
    }

    /// Seq of the last packet stamped.
    pub fn last_seq(&self) -> Option<u64> {
        self.next_seq.checked_sub(1)
    }

    /// Seq the next packet will get (= packets stamped).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The packet clock.
    pub fn clock(&self) -> Timestamp {
        self.clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_clock_and_epochs() {
        let mut s = Sequencer::new(3);
        assert_eq!(s.last_seq(), None);
        let mut boundaries = Vec::new();
        for (i, t) in [5u64, 3, 9, 7, 8, 10, 1].into_iter().enumerate() {
            let st = s.stamp(Timestamp::new(t, 0));
            assert_eq!(st.seq, i as u64);
            if let Some(b) = s.close_epoch_if_due() {
                boundaries.push((b.seq, b.now.secs()));
            }
        }
        // The clock never goes backwards; boundaries every 3 packets.
        assert_eq!(boundaries, vec![(2, 9), (5, 10)]);
        assert_eq!(s.clock(), Timestamp::new(10, 0));
        assert_eq!(s.last_seq(), Some(6));
    }

    #[test]
    fn a_quiet_clock_that_moves_closes_epochs() {
        let mut s = Sequencer::new(100);
        // No packet yet: no boundary, whatever the clock says.
        s.advance_clock(Timestamp::new(1, 0));
        assert_eq!(s.close_epoch_now(), None);
        s.stamp(Timestamp::new(2, 0));
        assert_eq!(
            s.close_epoch_now(),
            Some(Stamp {
                seq: 0,
                now: Timestamp::new(2, 0)
            })
        );
        // Nothing new and the same clock: nothing to close.
        assert_eq!(s.close_epoch_now(), None);
        // The clock moved with no packet: a boundary at the same seq.
        s.advance_clock(Timestamp::new(5, 0));
        assert_eq!(
            s.close_epoch_now(),
            Some(Stamp {
                seq: 0,
                now: Timestamp::new(5, 0)
            })
        );
        // Never backwards.
        s.advance_clock(Timestamp::new(4, 0));
        assert_eq!(s.clock(), Timestamp::new(5, 0));
        assert_eq!(s.close_epoch_now(), None);
    }
}
