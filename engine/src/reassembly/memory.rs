//! Memory accounting: the out-of-order bytes all reassemblers of one
//! engine hold, against the memcap.

/// Out-of-order bytes held by all reassemblers of one engine, against the
/// memcap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    /// Bytes held now.
    pub used: usize,
    /// Most bytes held at once.
    pub peak: usize,
}

impl Memory {
    pub(super) fn add(&mut self, n: usize) {
        self.used += n;
        self.peak = self.peak.max(self.used);
    }
    pub(super) fn sub(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
    }
}
