//! Whether a capture file read once, on one thread, costs less where it is
//! mapped or copied through a buffer, on this system.
//!
//! A mapping costs a page fault for each piece of the file the kernel maps
//! at a time, and the page table entries' removal at exit; a buffer costs a
//! copy of every byte. Which is cheaper depends on the machine, the kernel
//! and how the file sits in the page cache, not on the capture: reading
//! through a buffer was 7 % faster than the mapping on one development VM
//! (a page fault per 16 pages, 13 % of the samples, their removal 7.5 %),
//! the mapping 14–18 % faster on another (docs/performance.md, "Reading
//! files inline"). So both are timed on the file itself before it is read:
//! one 2 MiB window touched through the mapping, another copied out with
//! `pread`; the mapping is kept when it costs less, counting its removal.
//! The packets and errors are the same either way; only the time differs.

use std::fs::File;
use std::time::{Duration, Instant};

/// Files shorter than this are read through a buffer without timing:
/// either way costs next to nothing.
pub(crate) const PROBE_BYTES: usize = 8 << 20;

/// Bytes of each window: a 2 MiB huge page's worth, aligned to it in the
/// file.
const WINDOW: usize = 2 << 20;

/// One byte touched per this many.
const PAGE: usize = 4096;

/// Bytes copied per `pread`.
const CHUNK: usize = 256 << 10;

/// Whether touching a window through the mapping (`mapped`) costs less than
/// copying one out (`copied`), once the mapping's page table entries are
/// removed too: at exit that took about 0.6 times what their faults took
/// (7.5 % of the samples against 13 %).
pub(crate) fn cheaper_mapped(mapped: Duration, copied: Duration) -> bool {
    mapped.saturating_mul(8) / 5 < copied
}

/// Where the windows start: a third and two thirds into `len` bytes,
/// aligned down to a window. Apart and inside for any `len` of at least
/// [`PROBE_BYTES`].
fn window_starts(len: usize) -> [usize; 2] {
    [len / 3, len / 3 * 2].map(|s| s & !(WINDOW - 1))
}

/// Times a window of `map` touched in place and another copied out of
/// `file` (bytes the reader reads later anyway) and tells whether reading
/// the mapping costs less. `false` for a map shorter than [`PROBE_BYTES`],
/// where a read fails (the buffered reader then reports what it finds),
/// and where files are not read by offset.
pub(crate) fn maps_cheaply(map: &[u8], file: &File) -> bool {
    if map.len() < PROBE_BYTES {
        return false;
    }
    let [touched, copied] = window_starts(map.len());
    let mut buf = vec![0u8; CHUNK];
    // The buffer's own first faults are not the copy's.
    if read_at(file, &mut buf, 0).is_none() {
        return false;
    }
    let t = Instant::now();
    let mut x = 0u8;
    for i in (touched..touched + WINDOW).step_by(PAGE) {
        x ^= map[i];
    }
    std::hint::black_box(x);
    let mapped = t.elapsed();
    let t = Instant::now();
    for at in (copied..copied + WINDOW).step_by(CHUNK) {
        if read_at(file, &mut buf, at as u64).is_none() {
            return false;
        }
    }
    cheaper_mapped(mapped, t.elapsed())
}

/// Fills `buf` from `file` at `offset`; `None` on any error or a short file.
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> Option<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset).ok()
}

#[cfg(not(unix))]
fn read_at(_: &File, _: &mut [u8], _: u64) -> Option<()> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mapping_pays_for_its_removal_too() {
        let us = Duration::from_micros;
        // Faults much cheaper than the copy: mapped.
        assert!(cheaper_mapped(us(20), us(220)));
        // Faults dearer than the copy, or as dear once removed: copied.
        assert!(!cheaper_mapped(us(300), us(220)));
        assert!(!cheaper_mapped(us(150), us(220)));
        assert!(cheaper_mapped(us(130), us(220)));
        assert!(!cheaper_mapped(Duration::MAX, us(1)));
    }

    #[test]
    fn the_windows_are_apart_and_inside() {
        for len in [
            PROBE_BYTES,
            PROBE_BYTES + 1,
            9 << 20,
            401 << 20,
            usize::MAX / 2,
        ] {
            let [a, b] = window_starts(len);
            assert_eq!(a % WINDOW, 0, "{len}");
            assert_eq!(b % WINDOW, 0, "{len}");
            assert!(a + WINDOW <= b, "{len}: {a} {b}");
            assert!(b + WINDOW <= len, "{len}: {b}");
        }
    }

    /// A file long enough is timed and answered; a shorter map, or a file
    /// shorter than its map says (cut after it was mapped), is read
    /// through a buffer.
    #[cfg(unix)]
    #[test]
    fn the_probe_answers_and_falls_back_to_the_buffer() {
        let dir = std::env::temp_dir().join(format!("flowscope-map-cost-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join("capture");
        let bytes = vec![7u8; PROBE_BYTES + 5];
        std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
        let file = File::open(&path).unwrap_or_else(|e| panic!("{e}"));
        // Either answer is right for a whole file; it must come.
        let _ = maps_cheaply(&bytes, &file);
        assert!(!maps_cheaply(&bytes[..PROBE_BYTES - 1], &file));
        std::fs::write(&path, &bytes[..PROBE_BYTES / 2]).unwrap_or_else(|e| panic!("{e}"));
        assert!(!maps_cheaply(&bytes, &file), "the copy's window is gone");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
