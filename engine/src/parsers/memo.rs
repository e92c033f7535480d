//! Results remembered by the bytes they were computed from (each user
//! keeps its memo per thread).
//! Some per-connection work repeats across connections: a server sends
//! the same certificate on every full handshake (decoding one — the X.509
//! parse, its names' text, the SHA-1 fingerprint — takes microseconds),
//! and a client program sends the same cipher and extension lists in every
//! ClientHello (its JA3 and JA4 cost an MD5, a SHA-256, two sorts and the
//! text). A result is found by a hash of its input bytes and taken only
//! when the bytes are the same, so what a memo gives is exactly what
//! computing gives: output never depends on it.
//!
//! Bounded: a fixed number of entries, each input at most a fixed length
//! (longer inputs are computed every time); what fails to compute is not
//! remembered. Entries sit in sets of a fixed number of ways chosen by
//! the hash, and a full set replaces its oldest entry: one set of every
//! way where a miss costs far more than comparing every hash (a
//! certificate), sets of four where the work saved is smaller (a
//! fingerprint). An entry's input buffer is reused when the entry is
//! replaced.

use std::hash::BuildHasher;

/// One result: the input it was computed from and the result.
struct Entry<T> {
    input: Vec<u8>,
    value: T,
}

/// A memo of `T`s; see the module documentation.
pub(crate) struct Memo<T> {
    /// `sets × ways` hashes, the entries' beside them (compact to compare);
    /// a way is taken when its entry is `Some`.
    hashes: Vec<u64>,
    entries: Vec<Option<Entry<T>>>,
    /// Per set, the way its next new entry replaces once it is full.
    next: Vec<u32>,
    /// Sets, a power of two, of `ways` entries each; made on the first
    /// entry.
    sets: usize,
    ways: usize,
    /// Longer inputs are not remembered.
    max_input: usize,
    seed: u64,
}

impl<T: Clone> Memo<T> {
    /// A memo of `entries` results in sets of `ways` (rounded up to a
    /// power of two of whole sets), each computed from at most
    /// `max_input` bytes. Allocates nothing until the first result is
    /// kept.
    pub(crate) const fn new(entries: usize, ways: usize, max_input: usize, seed: u64) -> Self {
        let ways = if ways == 0 { 1 } else { ways };
        Memo {
            hashes: Vec::new(),
            entries: Vec::new(),
            next: Vec::new(),
            sets: entries.div_ceil(ways).next_power_of_two(),
            ways,
            max_input,
            seed,
        }
    }

    fn hash(&self, input: &[u8]) -> u64 {
        foldhash::fast::FixedState::with_seed(self.seed).hash_one(input)
    }

    /// The first way of `hash`'s set. The high bits choose it (foldhash
    /// mixes them best).
    fn set_start(&self, hash: u64) -> usize {
        let bits = self.sets.trailing_zeros();
        let set = if bits == 0 {
            0
        } else {
            (hash >> (64 - bits)) as usize
        };
        set * self.ways
    }

    /// What `input` (hashed to `hash`) gave, if remembered.
    fn get(&self, hash: u64, input: &[u8]) -> Option<&T> {
        if self.hashes.is_empty() {
            return None;
        }
        let start = self.set_start(hash);
        // The set's hashes first: they share a cache line, the entries
        // each have their own.
        (start..start + self.ways)
            .filter(|&w| self.hashes[w] == hash)
            .find_map(|w| match &self.entries[w] {
                Some(e) if e.input == input => Some(&e.value),
                _ => None,
            })
    }

    fn put(&mut self, hash: u64, input: &[u8], value: T) {
        if self.hashes.is_empty() {
            let n = self.sets * self.ways;
            self.hashes = vec![0; n];
            self.entries = (0..n).map(|_| None).collect();
            self.next = vec![0; self.sets];
        }
        let start = self.set_start(hash);
        let way = match (start..start + self.ways).find(|&w| self.entries[w].is_none()) {
            Some(w) => w,
            None => {
                let set = start / self.ways;
                let w = self.next[set] as usize;
                self.next[set] = ((w + 1) % self.ways) as u32;
                start + w
            }
        };
        self.hashes[way] = hash;
        match &mut self.entries[way] {
            Some(e) => {
                e.input.clear();
                e.input.extend_from_slice(input);
                e.value = value;
            }
            empty => {
                *empty = Some(Entry {
                    input: input.to_vec(),
                    value,
                })
            }
        }
    }

    /// What `compute` gives for `input`, or what it gave before.
    pub(crate) fn remembered(
        &mut self,
        input: &[u8],
        compute: impl FnOnce(&[u8]) -> Option<T>,
    ) -> Option<T> {
        if input.len() > self.max_input {
            return compute(input);
        }
        let hash = self.hash(input);
        if let Some(hit) = self.get(hash, input) {
            return Some(hit.clone());
        }
        let value = compute(input)?;
        self.put(hash, input, value.clone());
        Some(value)
    }

    /// Results remembered now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.iter().flatten().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hit_needs_the_same_bytes_not_only_the_same_hash() {
        let mut m = Memo::new(16, 4, 64, 1);
        m.put(7, b"first input", "first");
        assert_eq!(m.get(7, b"first input"), Some(&"first"));
        // Same hash, other bytes (a collision): not this result.
        assert_eq!(m.get(7, b"other input"), None);
        assert_eq!(m.get(8, b"first input"), None);
    }

    #[test]
    fn a_full_set_replaces_its_oldest_and_other_sets_keep_theirs() {
        // Two sets of four: the top bit of the hash chooses.
        const WAYS: usize = 4;
        let mut m = Memo::new(2 * WAYS, WAYS, 64, 1);
        let low = |i: u64| i;
        let high = |i: u64| (1 << 63) | i;
        m.put(high(0), b"h", 100);
        for i in 0..WAYS as u64 + 2 {
            m.put(low(i), &i.to_le_bytes(), i);
        }
        assert_eq!(m.len(), WAYS + 1);
        for i in 0..2 {
            assert_eq!(m.get(low(i), &i.to_le_bytes()), None, "{i} was replaced");
        }
        for i in 2..WAYS as u64 + 2 {
            assert_eq!(m.get(low(i), &i.to_le_bytes()), Some(&i));
        }
        assert_eq!(m.get(high(0), b"h"), Some(&100), "the other set kept its");
    }

    #[test]
    fn computed_once_then_remembered_unless_it_fails_or_is_too_long() {
        let mut m = Memo::new(8, 4, 8, 1);
        let mut calls = 0;
        let mut compute = |input: &[u8]| {
            calls += 1;
            (input[0] == b'c').then_some(input.len())
        };
        assert_eq!(m.remembered(b"cert", &mut compute), Some(4));
        assert_eq!(m.remembered(b"cert", &mut compute), Some(4));
        assert_eq!(m.remembered(b"junk", &mut compute), None);
        assert_eq!(m.remembered(b"junk", &mut compute), None);
        let long = [b'c'; 9];
        assert_eq!(m.remembered(&long, &mut compute), Some(9));
        assert_eq!(m.remembered(&long, &mut compute), Some(9));
        assert_eq!(calls, 5, "the second `cert` was remembered");
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn holds_at_most_its_entries_whatever_comes() {
        let mut m = Memo::new(32, 4, 16, 9);
        for i in 0u64..10_000 {
            let input = i.to_le_bytes();
            assert_eq!(m.remembered(&input, |b| Some(b[0])), Some(input[0]));
        }
        assert_eq!(m.len(), 32);
        assert_eq!(m.entries.len(), 32);
        // A replaced entry reused its input buffer: none grew past 8 bytes.
        assert!(m.entries.iter().flatten().all(|e| e.input.capacity() <= 8));
        // The latest one is there.
        let last = 9_999u64.to_le_bytes();
        assert_eq!(m.get(m.hash(&last), &last), Some(&last[0]));
    }

    #[test]
    fn one_set_of_every_way_keeps_the_latest_whatever_their_hashes() {
        let mut m = Memo::new(16, 16, 16, 3);
        for i in 0u64..40 {
            m.remembered(&i.to_le_bytes(), |b| Some(b[0]));
        }
        assert_eq!(m.len(), 16);
        for i in 0u64..40 {
            let input = i.to_le_bytes();
            let kept = m.get(m.hash(&input), &input).is_some();
            assert_eq!(kept, i >= 24, "{i}: the oldest are replaced first");
        }
    }
}
