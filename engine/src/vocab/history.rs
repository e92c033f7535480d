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
/// Code of the "roles flipped" marker `^` (not per side). Codes start at 1:
/// a zero field is an empty one.
const FLIPPED: u32 = 25;
const CODE_BITS: u32 = 5;
const MAX_ENTRIES: u32 = 25;
/// The lowest bit of each of the 25 fields.
const FIELD_LOW: u128 = {
    let mut m = 0u128;
    let mut i = 0;
    while i < MAX_ENTRIES {
        m |= 1 << (CODE_BITS * i);
        i += 1;
    }
    m
};
/// The highest bit of each field.
const FIELD_HIGH: u128 = FIELD_LOW << (CODE_BITS - 1);

/// A history string packed into 16 bytes: up to 25 five-bit codes (1 to
/// 25; 0 ends the string), filled from the lowest bits. Each code occurs at
/// most once, so the count is where the highest set bit lies and "seen" is
/// a word-parallel compare of every field at once.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct History {
    /// Low then high half of the fields (two words, not a `u128`: that
    /// would align every flow entry to 16 bytes).
    words: [u64; 2],
}

impl History {
    /// Records `letter` for `side` unless already recorded.
    pub fn push(&mut self, letter: Letter, side: FlowSide) {
        self.push_code(code_of(letter, side));
    }

    /// Records the `^` marker: roles were flipped from first-packet order.
    pub fn push_flipped(&mut self) {
        self.push_code(FLIPPED);
    }

    /// Whether `letter` was recorded for `side`.
    pub fn has(&self, letter: Letter, side: FlowSide) -> bool {
        self.has_code(self.packed(), code_of(letter, side))
    }

    /// Whether some field holds `code` (never 0): a field equal to it is
    /// zero after the XOR, and the borrow trick finds a zero field exactly
    /// (a false positive can only sit above a true zero field).
    #[inline]
    fn has_code(&self, packed: u128, code: u32) -> bool {
        let x = packed ^ (FIELD_LOW * u128::from(code));
        x.wrapping_sub(FIELD_LOW) & !x & FIELD_HIGH != 0
    }

    #[inline]
    fn push_code(&mut self, code: u32) {
        let packed = self.packed();
        // Most pushes repeat a letter: the compare first.
        if self.has_code(packed, code) {
            return;
        }
        let len = len_of(packed);
        if len >= MAX_ENTRIES {
            return;
        }
        let packed = packed | u128::from(code) << (CODE_BITS * len);
        self.words = [packed as u64, (packed >> 64) as u64];
    }

    #[inline]
    fn packed(&self) -> u128 {
        u128::from(self.words[1]) << 64 | u128::from(self.words[0])
    }

    /// Number of letters.
    pub fn len(&self) -> usize {
        len_of(self.packed()) as usize
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.words == [0; 2]
    }

    /// The letters in order.
    pub fn chars(&self) -> impl Iterator<Item = char> + '_ {
        let packed = self.packed();
        (0..self.len() as u32).map(move |i| {
            let code = ((packed >> (CODE_BITS * i)) & 0x1f) as u32;
            if code == FLIPPED {
                return '^';
            }
            let c = LETTERS[((code - 1) / 2) as usize];
            if (code - 1) % 2 == 1 {
                c.to_ascii_lowercase() as char
            } else {
                c as char
            }
        })
    }
}

/// The code of `letter` sent by `side`: 1 to 24.
fn code_of(letter: Letter, side: FlowSide) -> u32 {
    (letter as u32) * 2 + u32::from(side == FlowSide::Responder) + 1
}

/// Fields in use: codes are never 0 and fill from the lowest field, so the
/// highest set bit lies in the last one.
#[inline]
fn len_of(packed: u128) -> u32 {
    (128 - packed.leading_zeros()).div_ceil(CODE_BITS)
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

    const ALL: [Letter; 12] = [
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
    ];

    #[test]
    fn flipped_marker_and_capacity() {
        let mut h = History::default();
        h.push_flipped();
        h.push(Letter::SynAck, Responder);
        assert_eq!(h.to_string(), "^h");
        for side in [Initiator, Responder] {
            for l in ALL {
                h.push(l, side);
            }
        }
        assert_eq!(h.len(), 25);
        assert_eq!(h.chars().filter(|&c| c == '^').count(), 1);
    }

    /// `has` against a plain scan of the letters, for every code pushed in
    /// a scrambled order (the word-parallel compare must neither miss a
    /// field nor see one that is not there).
    #[test]
    fn seen_matches_a_scan() {
        let all: Vec<(Letter, FlowSide)> = [Initiator, Responder]
            .into_iter()
            .flat_map(|side| ALL.map(|l| (l, side)))
            .collect();
        for stride in [1usize, 5, 7, 11, 13] {
            let mut h = History::default();
            let mut pushed = Vec::new();
            for i in 0..all.len() {
                let (l, side) = all[(i * stride) % all.len()];
                h.push(l, side);
                pushed.push((l, side));
                for &(q, qs) in &all {
                    assert_eq!(
                        h.has(q, qs),
                        pushed.contains(&(q, qs)),
                        "{h:?} {q:?} {qs:?}"
                    );
                }
                assert_eq!(h.len(), pushed.len());
                // Pushing again changes nothing.
                let before = h;
                h.push(l, side);
                assert_eq!(h, before);
            }
        }
    }
}
