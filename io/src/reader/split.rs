//! Walking a classic pcap file held in memory in parts, on several threads
//! ([`RecordWalk`]): a cursor put at any record boundary reads exactly the
//! records the file's own cursor reads from there (the same code, the same
//! damage and shrink checks), and a record boundary is guessed from any
//! offset by a chain of well-formed record headers following from it.
//! pcapng is not walked in parts: its records depend on the interface and
//! section blocks before them.

use super::{CaptureBytes, Format, RecordCursor, u32_at};
use flowscope_engine::RawPacket;
use flowscope_shards::RecordWalk;
use std::sync::Arc;

/// Well-formed record headers in a row, each where the one before it ends,
/// that make an offset a guessed record boundary (or fewer that end
/// exactly at the end of the bytes).
const CHAIN: usize = 8;

/// Lengths on the wire above this make a header implausible in a guess.
const MAX_GUESSED_WIRE_LEN: u32 = 1 << 24;

/// A classic pcap file's records, walked from any boundary.
#[derive(Debug)]
pub(crate) struct PcapWalk {
    bytes: Arc<CaptureBytes>,
    big_endian: bool,
    nanos: bool,
    record_header: usize,
    linktype: flowscope_engine::LinkType,
    caplen_limit: u32,
}

impl RecordCursor {
    /// A walker of `bytes`, the bytes this cursor reads, when they are a
    /// classic pcap file that has not failed (pcapng: `None`).
    pub(crate) fn walker(&self, bytes: Arc<CaptureBytes>) -> Option<PcapWalk> {
        match self.format {
            Format::Pcap {
                big_endian,
                nanos,
                record_header,
                linktype,
                caplen_limit,
            } if !self.failed => Some(PcapWalk {
                bytes,
                big_endian,
                nanos,
                record_header,
                linktype,
                caplen_limit,
            }),
            _ => None,
        }
    }

    /// Where the next record starts in the bytes passed to each call.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Goes on from `at`, a record boundary that a walk of the same bytes
    /// reached.
    pub(crate) fn seek(&mut self, at: usize) {
        self.pos = at;
        self.prefetched = self.prefetched.max(at);
    }
}

impl PcapWalk {
    /// A cursor reading from `at`.
    fn cursor_at(&self, at: usize) -> RecordCursor {
        RecordCursor {
            pos: at,
            base: 0,
            prefetched: at,
            format: Format::Pcap {
                big_endian: self.big_endian,
                nanos: self.nanos,
                record_header: self.record_header,
                linktype: self.linktype,
                caplen_limit: self.caplen_limit,
            },
            failed: false,
        }
    }

    /// Whether [`CHAIN`] well-formed record headers follow from `at`.
    fn chain_at(&self, data: &[u8], at: usize) -> bool {
        let frac_limit = if self.nanos { 1_000_000_000 } else { 1_000_000 };
        let mut p = at;
        for i in 0..CHAIN {
            if i > 0 && p == data.len() {
                return true;
            }
            let Some(h) = data.get(p..p + self.record_header) else {
                return false;
            };
            let be = self.big_endian;
            let (frac, caplen, wire) = (u32_at(h, 4, be), u32_at(h, 8, be), u32_at(h, 12, be));
            let plausible = frac < frac_limit
                && caplen > 0
                && caplen <= self.caplen_limit
                && (caplen..=MAX_GUESSED_WIRE_LEN).contains(&wire);
            if !plausible {
                return false;
            }
            p += self.record_header + caplen as usize;
            if p > data.len() {
                return false;
            }
        }
        true
    }
}

impl RecordWalk for PcapWalk {
    fn find_start(&self, from: usize, to: usize) -> Option<usize> {
        let data = self.bytes.as_slice();
        (from..to.min(data.len())).find(|&at| self.chain_at(data, at))
    }

    fn walk(&self, at: usize, until: usize, each: &mut dyn FnMut(RawPacket<'_>)) -> usize {
        let mut cursor = self.cursor_at(at);
        while cursor.pos < until {
            let here = cursor.pos;
            match cursor.next_in(&self.bytes) {
                Some(Ok(p)) => each(p),
                _ => return here,
            }
        }
        cursor.pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A µs pcap file, little-endian, Ethernet, of records with these
    /// captured lengths (payload bytes `0xa0 + i`).
    fn pcap(lens: &[usize]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        f.extend_from_slice(&2u16.to_le_bytes());
        f.extend_from_slice(&4u16.to_le_bytes());
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&65535u32.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        for (i, &len) in lens.iter().enumerate() {
            f.extend_from_slice(&(1_700_000_000 + i as u32).to_le_bytes());
            f.extend_from_slice(&(i as u32 * 10).to_le_bytes());
            f.extend_from_slice(&(len as u32).to_le_bytes());
            f.extend_from_slice(&(len as u32).to_le_bytes());
            f.extend(std::iter::repeat_n(0xa0 + i as u8, len));
        }
        f
    }

    fn walker(file: Vec<u8>) -> PcapWalk {
        let cursor = RecordCursor::new(&file).unwrap();
        cursor.walker(Arc::new(CaptureBytes::Owned(file))).unwrap()
    }

    /// Record starts of a pcap made by `pcap(lens)`.
    fn starts(lens: &[usize]) -> Vec<usize> {
        lens.iter()
            .scan(24, |at, len| {
                let s = *at;
                *at += 16 + len;
                Some(s)
            })
            .collect()
    }

    #[test]
    fn walking_in_parts_gives_the_records_the_cursor_gives() {
        let lens: Vec<usize> = (0..40).map(|i| 60 + (i * 37) % 200).collect();
        let file = pcap(&lens);
        let mut whole = Vec::new();
        let mut c = RecordCursor::new(&file).unwrap();
        while let Some(Ok(p)) = c.next_packet(&file) {
            whole.push((p.ts, p.data.to_vec()));
        }
        let w = walker(file.clone());
        let mut parts = Vec::new();
        let mut at = 24;
        for until in (500..file.len() + 500).step_by(500) {
            let start = w.find_start(at, until).unwrap_or(at);
            assert_eq!(start, at, "the guess is the boundary the walk reached");
            at = w.walk(at, until, &mut |p| parts.push((p.ts, p.data.to_vec())));
            assert!(at >= until.min(file.len()));
        }
        assert_eq!(at, file.len());
        assert_eq!(parts, whole);
    }

    #[test]
    fn a_guess_lands_on_the_next_boundary() {
        let lens = [100, 200, 150, 90, 300, 64, 64, 64, 64, 64, 64, 64, 64, 64];
        let w = walker(pcap(&lens));
        let s = starts(&lens);
        // From inside the second record: the third's start.
        assert_eq!(w.find_start(s[1] + 5, s[5]), Some(s[2]));
        // At a boundary: that boundary.
        assert_eq!(w.find_start(s[3], s[5]), Some(s[3]));
        // Near the end the chain ends exactly at the end of the bytes.
        assert_eq!(w.find_start(s[12] + 1, s[13] + 10), Some(s[13]));
    }

    #[test]
    fn a_walk_stops_at_damage_and_a_guess_finds_no_boundary_in_garbage() {
        let lens = [100, 100, 100, 100];
        let s = starts(&lens);
        let mut file = pcap(&lens);
        // The third record's captured length runs past the end.
        file[s[2] + 8..s[2] + 12].copy_from_slice(&100_000u32.to_le_bytes());
        let w = walker(file);
        let mut n = 0;
        assert_eq!(w.walk(s[0], usize::MAX, &mut |_| n += 1), s[2]);
        assert_eq!(n, 2);
        // Payload bytes 0xa0.. never chain into headers.
        assert_eq!(w.find_start(s[0] + 17, s[0] + 100), None);
    }

    #[test]
    fn pcapng_is_not_walked_in_parts() {
        let shb = [
            0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
        ];
        let cursor = RecordCursor::new(&shb).unwrap();
        assert!(
            cursor
                .walker(Arc::new(CaptureBytes::Owned(shb.to_vec())))
                .is_none()
        );
    }
}
