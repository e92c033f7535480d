//! A cache of decoded certificates. A server sends the same certificate
//! on every full handshake with it, and decoding one (the X.509 parse, its
//! names' text, the SHA-1 fingerprint: a few microseconds) is the TLS
//! parser's costliest step. A certificate is found by a hash of its DER
//! and taken only when the DER is byte for byte the same, so what the
//! cache gives is exactly what decoding gives: output never depends on it.
//!
//! Bounded: [`ENTRIES`] certificates of at most [`MAX_DER`] bytes each,
//! the oldest replaced first; what does not decode is not remembered. The
//! TLS parser keeps one per thread (`cert.rs`).

use std::hash::BuildHasher;

/// Certificates remembered.
pub(super) const ENTRIES: usize = 256;
/// Larger certificates are decoded every time (so a cache holds at most
/// `ENTRIES × MAX_DER` = 2 MiB of DER).
pub(super) const MAX_DER: usize = 8 * 1024;

/// A certificate remembered: its DER and what it decoded to.
struct Entry<T> {
    der: Box<[u8]>,
    decoded: T,
}

/// A ring of entries with their hashes beside them (one compact array to
/// scan), replaced oldest first.
pub(super) struct Cache<T> {
    hashes: Vec<u64>,
    entries: Vec<Entry<T>>,
    /// The slot the next new certificate takes once the ring is full.
    next: usize,
}

impl<T: Clone> Cache<T> {
    pub(super) const fn new() -> Self {
        Cache {
            hashes: Vec::new(),
            entries: Vec::new(),
            next: 0,
        }
    }

    /// What `der` (hashed to `hash`) decoded to, if remembered.
    fn get(&self, hash: u64, der: &[u8]) -> Option<&T> {
        self.hashes
            .iter()
            .zip(&self.entries)
            .find(|(h, e)| **h == hash && *e.der == *der)
            .map(|(_, e)| &e.decoded)
    }

    fn put(&mut self, hash: u64, der: &[u8], decoded: T) {
        let entry = Entry {
            der: der.into(),
            decoded,
        };
        if self.entries.len() < ENTRIES {
            self.hashes.push(hash);
            self.entries.push(entry);
            return;
        }
        self.hashes[self.next] = hash;
        self.entries[self.next] = entry;
        self.next = (self.next + 1) % ENTRIES;
    }

    /// `der` decoded by `decode`, or what it decoded to before.
    pub(super) fn decoded(
        &mut self,
        der: &[u8],
        decode: impl FnOnce(&[u8]) -> Option<T>,
    ) -> Option<T> {
        if der.len() > MAX_DER {
            return decode(der);
        }
        let hash = foldhash::fast::FixedState::with_seed(0x6365_7274).hash_one(der);
        if let Some(hit) = self.get(hash, der) {
            return Some(hit.clone());
        }
        let decoded = decode(der)?;
        self.put(hash, der, decoded.clone());
        Some(decoded)
    }

    /// Certificates remembered now.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hit_needs_the_same_bytes_not_only_the_same_hash() {
        let mut c = Cache::new();
        c.put(7, b"first der", "first");
        assert_eq!(c.get(7, b"first der"), Some(&"first"));
        // Same hash, other bytes (a collision): not this certificate.
        assert_eq!(c.get(7, b"other der"), None);
        assert_eq!(c.get(8, b"first der"), None);
    }

    #[test]
    fn the_oldest_is_replaced_once_full() {
        let mut c = Cache::new();
        let der = |i: usize| i.to_le_bytes();
        for i in 0..ENTRIES + 3 {
            c.put(i as u64, &der(i), i);
        }
        assert_eq!(c.len(), ENTRIES);
        for i in 0..3 {
            assert_eq!(c.get(i as u64, &der(i)), None, "{i} was replaced");
        }
        for i in 3..ENTRIES + 3 {
            assert_eq!(c.get(i as u64, &der(i)), Some(&i));
        }
    }

    #[test]
    fn decoded_once_then_remembered_unless_it_fails_or_is_too_large() {
        let mut c = Cache::new();
        let mut calls = 0;
        let mut decode = |der: &[u8]| {
            calls += 1;
            (der[0] == b'c').then_some(der.len())
        };
        assert_eq!(c.decoded(b"cert", &mut decode), Some(4));
        assert_eq!(c.decoded(b"cert", &mut decode), Some(4));
        assert_eq!(c.decoded(b"junk", &mut decode), None);
        assert_eq!(c.decoded(b"junk", &mut decode), None);
        let large = vec![b'c'; MAX_DER + 1];
        assert_eq!(c.decoded(&large, &mut decode), Some(MAX_DER + 1));
        assert_eq!(c.decoded(&large, &mut decode), Some(MAX_DER + 1));
        assert_eq!(calls, 5, "the second `cert` came from the cache");
        assert_eq!(c.len(), 1);
    }
}
