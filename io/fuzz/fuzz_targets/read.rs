//! Shared by the reader targets: reads a capture held in memory to its end
//! through the public reader, checking what the reader promises — packets
//! never claim fewer wire bytes than they carry, the position only moves
//! forward and stays inside the file, an error names an offset inside the
//! file, and after an error the reader stays finished.

use flowscope_io::{CaptureBytes, CaptureFile};

/// Reads `bytes` as a capture; returns whether the header was accepted
/// and it was pcapng.
pub fn read_to_end(bytes: Vec<u8>) -> Option<bool> {
    let file = CaptureFile::from_bytes("fuzz-input", CaptureBytes::Owned(bytes));
    let len = file.len() as u64;
    let mut reader = match file.packets() {
        Ok(r) => r,
        Err(e) => {
            assert!(e.offset <= len, "header error past the end: {e}");
            return None;
        }
    };
    let mut at = reader.offset();
    let mut sum = 0u8;
    while let Some(next) = reader.next_packet() {
        match next {
            Ok(p) => {
                assert!(p.data.len() <= p.wire_len as usize, "{p:?}");
                // Touch the bytes: a slice outside the file would fault here.
                sum ^= p.data.first().copied().unwrap_or(0) ^ p.data.last().copied().unwrap_or(0);
                let now = reader.offset();
                assert!(now > at && now <= len, "offset {at} -> {now} of {len}");
                at = now;
            }
            Err(e) => {
                assert!(e.offset <= len, "error past the end: {e}");
                let _ = e.to_string();
                assert!(reader.next_packet().is_none(), "read on after {e}");
                break;
            }
        }
    }
    std::hint::black_box(sum);
    Some(reader.is_pcapng())
}
