//! [`Held`]: the bytes of each direction that a parser timed by
//! acknowledgements keeps until the peer acknowledges them — Suricata in
//! IDS mode reads a direction's bytes once acknowledged, and the order of
//! those reads decides its transaction numbers and record order. One shape
//! for the parsers that read so (HTTP/2, MQTT, FTP, Modbus, DNP3); each decides what to
//! do with the bytes it takes back, and how many it holds at most.
//! [`AckTiming`]: the switch between reading bytes as they arrive and
//! holding them, for parsers that feed every byte they take back the same
//! way (Modbus, DNP3).

/// Per direction (0: the client's), the bytes received and not read yet,
/// and the stream offset where they start.
#[derive(Debug, Clone, Default)]
pub(crate) struct Held {
    bytes: [Vec<u8>; 2],
    /// Stream offset of `bytes[k][0]` (every byte before it was read or
    /// lost).
    at: [u64; 2],
}

impl Held {
    /// Nothing held; the directions' next bytes are at these stream
    /// offsets (a parser that takes a connection over mid-stream).
    #[cfg_attr(not(feature = "http2"), allow(dead_code))]
    pub(crate) fn from_offsets(at: [u64; 2]) -> Self {
        Held {
            bytes: Default::default(),
            at,
        }
    }

    /// Bytes held of direction `k`.
    #[cfg_attr(not(feature = "ftp"), allow(dead_code))]
    pub(crate) fn len(&self, k: usize) -> usize {
        self.bytes[k].len()
    }

    /// Holds direction `k`'s next bytes.
    pub(crate) fn push(&mut self, k: usize, b: &[u8]) {
        self.bytes[k].extend_from_slice(b);
    }

    /// When more than `max` bytes of direction `k` are held, the oldest,
    /// taken so that `max` stay (a direction never acknowledged is read
    /// anyway).
    #[cfg_attr(
        not(any(
            feature = "http2",
            feature = "mqtt",
            feature = "modbus",
            feature = "dnp3"
        )),
        allow(dead_code)
    )]
    pub(crate) fn over(&mut self, k: usize, max: usize) -> Option<Vec<u8>> {
        let n = self.bytes[k].len().saturating_sub(max);
        self.take(k, n)
    }

    /// The held bytes of direction `k` before stream offset `offset` (the
    /// peer acknowledged them), taken.
    pub(crate) fn acked(&mut self, k: usize, offset: u64) -> Option<Vec<u8>> {
        let n = offset
            .saturating_sub(self.at[k])
            .min(self.bytes[k].len() as u64);
        // At most the bytes held, a usize.
        self.take(k, n as usize)
    }

    /// Every held byte of direction `k`, taken.
    pub(crate) fn all(&mut self, k: usize) -> Option<Vec<u8>> {
        self.take(k, self.bytes[k].len())
    }

    /// `n` bytes of direction `k` after the held ones were read at once or
    /// lost (call with nothing held): the next bytes' offset moves past them.
    pub(crate) fn skip(&mut self, k: usize, n: u64) {
        debug_assert!(self.bytes[k].is_empty());
        self.at[k] = self.at[k].saturating_add(n);
    }

    fn take(&mut self, k: usize, n: usize) -> Option<Vec<u8>> {
        if n == 0 {
            return None;
        }
        self.at[k] = self.at[k].saturating_add(n as u64);
        let b = &mut self.bytes[k];
        if n == b.len() {
            return Some(std::mem::take(b));
        }
        Some(b.drain(..n).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_come_back_as_acknowledged() {
        let mut h = Held::from_offsets([10, 0]);
        h.push(0, b"abcdef");
        assert_eq!(h.acked(0, 9), None, "before the held bytes");
        assert_eq!(h.acked(0, 12).as_deref(), Some(&b"ab"[..]));
        assert_eq!(h.acked(0, 12), None, "already taken");
        h.push(0, b"gh");
        assert_eq!(h.over(0, 3).as_deref(), Some(&b"cde"[..]));
        assert_eq!(h.len(0), 3);
        assert_eq!(h.acked(0, 100).as_deref(), Some(&b"fgh"[..]));
        h.skip(0, 4);
        h.push(0, b"xy");
        assert_eq!(h.acked(0, 23).as_deref(), Some(&b"x"[..]), "offset 22 is x");
        assert_eq!(h.all(0).as_deref(), Some(&b"y"[..]));
        assert_eq!(h.all(1), None);
    }
}

/// Acknowledgement timing that is off (bytes are read as they arrive) or
/// on (bytes are held until acknowledged, or until more than a parser's
/// cap of them wait).
#[cfg(any(feature = "modbus", feature = "dnp3"))]
#[derive(Debug, Clone, Default)]
pub(crate) struct AckTiming(Option<Box<Held>>);

#[cfg(any(feature = "modbus", feature = "dnp3"))]
impl AckTiming {
    /// Timing by acknowledgements.
    pub(crate) fn on() -> Self {
        AckTiming(Some(Box::default()))
    }

    /// Whether bytes are held until acknowledged.
    pub(crate) fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Direction `k`'s next bytes: the ones to read now (all of them when
    /// timing is off; when on, the oldest past `max` held bytes).
    pub(crate) fn arrived<'a>(
        &mut self,
        k: usize,
        b: &'a [u8],
        max: usize,
    ) -> Option<std::borrow::Cow<'a, [u8]>> {
        let Some(h) = self.0.as_deref_mut() else {
            return Some(std::borrow::Cow::Borrowed(b));
        };
        h.push(k, b);
        h.over(k, max).map(std::borrow::Cow::Owned)
    }

    /// The held bytes of direction `k` the peer acknowledged up to stream
    /// offset `offset`.
    pub(crate) fn acked(&mut self, k: usize, offset: u64) -> Option<Vec<u8>> {
        self.0.as_deref_mut().and_then(|h| h.acked(k, offset))
    }

    /// Every held byte of direction `k`.
    pub(crate) fn release(&mut self, k: usize) -> Option<Vec<u8>> {
        self.0.as_deref_mut().and_then(|h| h.all(k))
    }

    /// `n` bytes of direction `k` lost after the held ones were released.
    pub(crate) fn skip(&mut self, k: usize, n: u64) {
        if let Some(h) = self.0.as_deref_mut() {
            h.skip(k, n);
        }
    }
}
