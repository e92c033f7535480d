//! Zeek-style connection history: one letter per kind of event per side,
//! upper case for the initiator, in the order first seen.

use super::FlowSide;
use std::fmt;

/// History letters the engine records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Letter {
    /// SYN without ACK.
    Syn = 0,
    /// SYN with ACK.
    SynAck = 1,
    /// Pure ACK.
    Ack = 2,
    /// Packet with payload.
    Data = 3,
    /// FIN.
    Fin = 4,
    /// RST.
    Rst = 5,
    /// Retransmitted payload.
    Retransmit = 6,
    /// Zero window advertised.
    ZeroWindow = 7,
    /// Content gap.
    Gap = 8,
    /// Bad checksum.
    BadChecksum = 9,
    /// Inconsistent flags (FIN with RST).
    Inconsistent = 10,
    /// Multi-flag packet (SYN with FIN or RST).
    MultiFlag = 11,
}

const LETTERS: &[u8; 12] = b"SHADFRTWGCIQ";
/// Code of the "roles flipped" marker `^` (not per side).
const FLIPPED: u32 = 24;
const CODE_BITS: u32 = 5;
const MAX_ENTRIES: u32 = 25;

/// A history string packed into 20 bytes: up to 25 five-bit codes in the
/// first four words; the fifth holds which codes were seen (25 bits) and the
/// count (top 7 bits).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct History {
    words: [u32; 5],
}

const SEEN_MASK: u32 = (1 << 25) - 1;

impl History {
    /// Records `letter` for `side` unless already recorded.
    pub fn push(&mut self, letter: Letter, side: FlowSide) {
        let code = (letter as u32) * 2 + u32::from(side == FlowSide::Responder);
        self.push_code(code);
    }

    /// Records the `^` marker: roles were flipped from first-packet order.
    pub fn push_flipped(&mut self) {
        self.push_code(FLIPPED);
    }

    /// Whether `letter` was recorded for `side`.
    pub fn has(&self, letter: Letter, side: FlowSide) -> bool {
        let code = (letter as u32) * 2 + u32::from(side == FlowSide::Responder);
        self.words[4] & (1 << code) != 0
    }

    #[inline]
    fn push_code(&mut self, code: u32) {
        let meta = self.words[4];
        let len = meta >> 25;
        if meta & (1 << code) != 0 || len >= MAX_ENTRIES {
            return;
        }
        let mut packed = self.packed();
        packed |= u128::from(code) << (CODE_BITS * len);
        for (i, w) in self.words[..4].iter_mut().enumerate() {
            *w = (packed >> (32 * i)) as u32;
        }
        self.words[4] = ((len + 1) << 25) | (meta & SEEN_MASK) | (1 << code);
    }

    fn packed(&self) -> u128 {
        self.words[..4]
            .iter()
            .rev()
            .fold(0u128, |acc, &w| (acc << 32) | u128::from(w))
    }

    /// Number of letters.
    pub fn len(&self) -> usize {
        (self.words[4] >> 25) as usize
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The letters in order.
    pub fn chars(&self) -> impl Iterator<Item = char> + '_ {
        let packed = self.packed();
        (0..self.len() as u32).map(move |i| {
            let code = ((packed >> (CODE_BITS * i)) & 0x1f) as u32;
            if code == FLIPPED {
                return '^';
            }
            let c = LETTERS[(code / 2) as usize];
            if code % 2 == 1 {
                c.to_ascii_lowercase() as char
            } else {
                c as char
            }
        })
    }
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.chars() {
            fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

impl fmt::Debug for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "History({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FlowSide::*;

    #[test]
    fn records_first_occurrence_in_order() {
        let mut h = History::default();
        h.push(Letter::Syn, Initiator);
        h.push(Letter::SynAck, Responder);
        h.push(Letter::Ack, Initiator);
        h.push(Letter::Data, Initiator);
        h.push(Letter::Ack, Initiator);
        h.push(Letter::Data, Responder);
        h.push(Letter::Fin, Initiator);
        h.push(Letter::Fin, Responder);
        assert_eq!(h.to_string(), "ShADdFf");
        assert!(h.has(Letter::Fin, Responder));
        assert!(!h.has(Letter::Rst, Initiator));
    }

    #[test]
    fn flipped_marker_and_capacity() {
        let mut h = History::default();
        h.push_flipped();
        h.push(Letter::SynAck, Responder);
        assert_eq!(h.to_string(), "^h");
        for side in [Initiator, Responder] {
            for l in [
                Letter::Syn,
                Letter::SynAck,
                Letter::Ack,
                Letter::Data,
                Letter::Fin,
                Letter::Rst,
                Letter::Retransmit,
                Letter::ZeroWindow,
                Letter::Gap,
                Letter::BadChecksum,
                Letter::Inconsistent,
                Letter::MultiFlag,
            ] {
                h.push(l, side);
            }
        }
        assert_eq!(h.len(), 25);
        assert_eq!(h.chars().filter(|&c| c == '^').count(), 1);
    }
}
