//! The retransmission check: the last bytes and the last segments
//! delivered, remembered per direction so re-sent data that differs from
//! what was delivered is caught.
//!
//! A segment is remembered by the one's-complement sum of its payload that
//! its TCP checksum states (read from the headers: no payload byte is
//! touched on the in-order path), or, where that is unknown or
//! `digest_delivered_bytes` asks for it, by a digest of its bytes. A re-sent
//! copy is compared with a stated sum only when its own checksum verifies
//! (its bytes are summed then: re-sends are rare), so a capture whose
//! checksums were left to the NIC raises no false alarm.

use super::{Reassembler, ReassemblyConfig};
use crate::wire::transport::payload_sum;

/// Delivered segments remembered per direction for retransmission checks.
pub(super) const RECENT: usize = 4;
/// The last bytes delivered, kept per direction so a re-sent segment that
/// overlaps the delivery edge can be compared byte for byte.
pub(super) const TAIL: usize = 32;

/// The bit of [`Digest::len`] that says `hash` is a stated payload sum
/// (a payload is far shorter than 2 GiB).
const STATED: u32 = 1 << 31;

/// A delivered segment: where, how long, and what its bytes came to.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Digest {
    off: u64,
    /// The payload length, with [`STATED`] set when `hash` is the payload
    /// sum the segment's checksum stated rather than [`digest_of`] its bytes.
    len: u32,
    hash: u32,
}

/// A fast 64-bit checksum of a segment's bytes: four independent
/// rotate-xor lanes over 8-byte words (so the CPU runs them in parallel),
/// folded with the length. It tells a resent segment with other bytes from
/// the original, not a crafted collision.
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
    lanes[3] ^= last_word(tail);
    let folded =
        lanes[0] ^ lanes[1].rotate_left(16) ^ lanes[2].rotate_left(32) ^ lanes[3].rotate_left(48);
    // The high half is the best mixed.
    (folded ^ bytes.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32
}

/// Up to 7 bytes as the low bytes of a little-endian word, zero above
/// them, composed in registers (a copy of a length known only at run time
/// would be a library call).
fn last_word(tail: &[u8]) -> u64 {
    tail.iter().rev().fold(0, |w, &b| (w << 8) | u64::from(b))
}

impl Reassembler {
    /// Keeps the last bytes delivered (they end at `next`).
    pub(super) fn keep_tail(&mut self, data: &[u8]) {
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
    pub(super) fn differs_from_tail(&self, start: i128, payload: &[u8]) -> bool {
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

    /// Remembers a segment delivered whole at `off`: by the payload sum its
    /// checksum states when known, else by a digest of its bytes.
    pub(super) fn remember(
        &mut self,
        off: u64,
        bytes: &[u8],
        stated: Option<u16>,
        cfg: &ReassemblyConfig,
    ) {
        let i = usize::from(self.recent_at) % RECENT;
        let len = bytes.len() as u32 & !STATED;
        self.recent[i] = match stated {
            Some(sum) if !cfg.digest_delivered_bytes => Digest {
                off,
                len: len | STATED,
                hash: u32::from(sum),
            },
            _ => Digest {
                off,
                len,
                hash: digest_of(bytes) as u32,
            },
        };
        self.recent_at = self.recent_at.wrapping_add(1);
    }

    /// A retransmission of a delivered segment (`stated`: the payload sum
    /// its checksum states): whether its bytes differ from the ones
    /// delivered, when that segment is still remembered. Against a stated
    /// sum, only a copy whose own checksum verifies is judged.
    pub(super) fn differs_from_delivered(
        &self,
        off: u64,
        bytes: &[u8],
        stated: Option<u16>,
    ) -> bool {
        let Some(d) = self
            .recent
            .iter()
            .find(|d| d.len & !STATED == bytes.len() as u32 && d.len != 0 && d.off == off)
        else {
            return false;
        };
        if d.len & STATED == 0 {
            return d.hash != digest_of(bytes) as u32;
        }
        let sum = payload_sum(bytes);
        stated == Some(sum) && u32::from(sum) != d.hash
    }
}

#[cfg(test)]
mod tests {
    use super::{digest_of, last_word};

    #[test]
    fn the_last_bytes_make_a_zero_padded_little_endian_word() {
        let bytes = [0x81, 0x02, 0xf3, 0x04, 0x75, 0x06, 0xa7];
        for n in 0..=bytes.len() {
            let mut padded = [0u8; 8];
            padded[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(
                last_word(&bytes[..n]),
                u64::from_le_bytes(padded),
                "{n} bytes"
            );
        }
    }

    #[test]
    fn any_changed_byte_of_any_length_shows() {
        let bytes: Vec<u8> = (0..80u8).map(|i| i.wrapping_mul(151) ^ 0x5a).collect();
        for n in 0..=bytes.len() {
            let b = &bytes[..n];
            for i in 0..n {
                let mut changed = b.to_vec();
                changed[i] ^= 0x80;
                assert_ne!(digest_of(&changed), digest_of(b), "{n} bytes, byte {i}");
            }
        }
        // A trailing zero byte is not the same segment.
        assert_ne!(digest_of(b"abc"), digest_of(b"abc\0"));
    }
}
