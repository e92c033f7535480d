//! The byte cursor every built-in parser decodes with ([`Reader`]):
//! big-endian integers (little-endian ones for DCE/RPC, RDP, DNP3 and SMB), QUIC variable-length integers, slices by length or
//! behind a 1-, 2- or 3-byte length prefix, runs of bytes of one kind
//! (bencode's digits), the rest, and positions (DNS
//! compression pointers jump back to one). Every read is bounds-checked and
//! returns `None` past the end, consuming nothing then; nothing allocates.
//! A method only some parsers read with is built with their features.

/// A cursor over a byte slice.
#[derive(Debug, Clone)]
pub(super) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    #[inline]
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// A reader over the whole of `buf` that starts at `pos` (at the end
    /// when `pos` is past it): the bytes before stay in reach of
    /// [`seek`](Self::seek).
    #[cfg(feature = "dns")]
    #[inline]
    pub(super) fn at(buf: &'a [u8], pos: usize) -> Self {
        Reader {
            buf,
            pos: pos.min(buf.len()),
        }
    }

    /// The position: bytes read since the slice's start.
    #[cfg_attr(
        not(any(
            feature = "dns",
            feature = "tls",
            feature = "rdp",
            feature = "bittorrent-dht"
        )),
        allow(dead_code)
    )]
    #[inline]
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// Moves to `pos` of the slice (back or forth); `None` past the end.
    #[cfg(any(feature = "dns", feature = "ike"))]
    #[inline]
    pub(super) fn seek(&mut self, pos: usize) -> Option<()> {
        if pos > self.buf.len() {
            return None;
        }
        self.pos = pos;
        Some(())
    }

    /// Bytes left.
    #[cfg_attr(
        not(any(feature = "dns", feature = "tls", feature = "rdp")),
        allow(dead_code)
    )]
    #[inline]
    pub(super) fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether any byte is left.
    #[cfg(any(
        feature = "dns",
        feature = "quic",
        feature = "http2",
        feature = "pgsql",
        feature = "ike",
        feature = "dnp3",
        feature = "smb"
    ))]
    #[inline]
    pub(super) fn any_left(&self) -> bool {
        self.pos < self.buf.len()
    }

    /// The next `n` bytes.
    #[inline]
    pub(super) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    /// Everything left.
    #[cfg(any(
        feature = "dns",
        feature = "quic",
        feature = "http2",
        feature = "pgsql",
        feature = "ike",
        feature = "smb"
    ))]
    #[inline]
    pub(super) fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    /// The next `n` bytes as a reader of their own that still sees the
    /// bytes before them (it starts at the first of the `n` and ends after
    /// the last): DNS names in record data point back into the message.
    #[cfg(feature = "dns")]
    #[inline]
    pub(super) fn window(&mut self, n: usize) -> Option<Reader<'a>> {
        let start = self.pos;
        self.take(n)?;
        Some(Reader::at(&self.buf[..self.pos], start))
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// The bytes up to the next NUL, which is read too (not returned).
    #[cfg(feature = "pgsql")]
    #[inline]
    pub(super) fn cstr(&mut self) -> Option<&'a [u8]> {
        let rest = self.buf.get(self.pos..)?;
        let n = rest.iter().position(|&b| b == 0)?;
        self.pos += n + 1;
        rest.get(..n)
    }

    /// The next byte, not consumed.
    #[cfg(any(feature = "http2", feature = "bittorrent-dht"))]
    #[inline]
    pub(super) fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// The bytes from here for which `f` holds (none at all, or up to the
    /// end).
    #[cfg(feature = "bittorrent-dht")]
    #[inline]
    pub(super) fn take_while(&mut self, f: impl Fn(&u8) -> bool) -> &'a [u8] {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        let n = rest.iter().take_while(|&b| f(b)).count();
        self.pos += n;
        &rest[..n]
    }

    /// One byte.
    #[inline]
    pub(super) fn u8(&mut self) -> Option<u8> {
        let v = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(v)
    }

    /// A big-endian `u16`.
    #[cfg_attr(
        not(any(
            feature = "dns",
            feature = "tls",
            feature = "rdp",
            feature = "bittorrent-dht"
        )),
        allow(dead_code)
    )]
    #[inline]
    pub(super) fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }

    /// A big-endian 24-bit integer (TLS lengths), as a `usize`.
    #[cfg(any(feature = "tls", feature = "rdp"))]
    #[inline]
    pub(super) fn u24(&mut self) -> Option<usize> {
        let [a, b, c] = self.array()?;
        Some(usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c))
    }

    /// A big-endian `u32`.
    #[cfg(any(
        feature = "dns",
        feature = "quic",
        feature = "dhcp",
        feature = "rfb",
        feature = "mqtt",
        feature = "pgsql",
        feature = "ike",
        feature = "dcerpc",
        feature = "nfs"
    ))]
    #[inline]
    pub(super) fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }

    /// A little-endian `u16` (DCE/RPC, RDP's GCC data, DNP3).
    #[cfg(any(feature = "dcerpc", feature = "rdp", feature = "dnp3"))]
    #[inline]
    pub(super) fn u16_le(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    /// A little-endian `u32` (DCE/RPC, RDP's GCC data, DNP3, SMB).
    #[cfg(any(feature = "dcerpc", feature = "rdp", feature = "dnp3", feature = "smb"))]
    #[inline]
    pub(super) fn u32_le(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    /// A little-endian `u64` (SMB).
    #[cfg(feature = "smb")]
    #[inline]
    pub(super) fn u64_le(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    /// A QUIC variable-length integer (RFC 9000 §16: the first byte's two
    /// high bits give its length, 1, 2, 4 or 8 bytes).
    #[cfg(feature = "quic")]
    #[inline]
    pub(super) fn varint(&mut self) -> Option<u64> {
        let first = *self.buf.get(self.pos)?;
        let bytes = self.take(1 << (first >> 6))?;
        Some(
            bytes[1..]
                .iter()
                .fold(u64::from(first & 0x3f), |v, &b| v << 8 | u64::from(b)),
        )
    }

    /// Bytes behind a 1-byte length.
    #[cfg_attr(not(any(feature = "dns", feature = "tls")), allow(dead_code))]
    #[inline]
    pub(super) fn vec8(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        let n = self.u8()?;
        self.take(usize::from(n)).or_else(|| self.back(start))
    }

    /// Bytes behind a 2-byte length.
    #[cfg_attr(not(any(feature = "dns", feature = "tls")), allow(dead_code))]
    #[inline]
    pub(super) fn vec16(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        let n = self.u16()?;
        self.take(usize::from(n)).or_else(|| self.back(start))
    }

    /// A failed read consumes nothing: back to `start`.
    #[cold]
    fn back<T>(&mut self, start: usize) -> Option<T> {
        self.pos = start;
        None
    }
}

// The tests read with every method, which DNS and QUIC (with TLS) use
// between them.
#[cfg(all(test, feature = "dns", feature = "quic"))]
mod tests {
    use super::Reader;

    #[test]
    fn integers_are_big_endian() {
        let mut r = Reader::new(b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a");
        assert_eq!(r.u8(), Some(0x01));
        assert_eq!(r.u16(), Some(0x0203));
        assert_eq!(r.u24(), Some(0x04_0506));
        assert_eq!(r.u32(), Some(0x0708_090a));
        assert_eq!(r.pos(), 10);
        assert!(!r.any_left());
        assert_eq!(r.u8(), None);
    }

    #[test]
    fn a_short_read_consumes_nothing() {
        let mut r = Reader::new(b"\xab\xcd\xef");
        assert_eq!(r.u32(), None);
        assert_eq!(r.u24(), Some(0xab_cdef));
        let mut r = Reader::new(b"\x05abc");
        assert_eq!(r.vec8(), None);
        assert_eq!(r.pos(), 0);
        let mut r = Reader::new(b"\x00\x05abc");
        assert_eq!(r.vec16(), None);
        assert_eq!(r.take(3), Some(&b"\x00\x05a"[..]));
        assert_eq!(r.take(usize::MAX), None);
        assert_eq!(r.left(), 2);
        let mut r = Reader::new(b"\xbf\xff\xff");
        assert_eq!(r.varint(), None, "4-byte varint with 3 bytes");
        assert_eq!(r.pos(), 0);
    }

    #[test]
    fn length_prefixed_vectors() {
        let mut r = Reader::new(b"\x02hi\x00\x03abc\x00\x00!");
        assert_eq!(r.vec8(), Some(&b"hi"[..]));
        assert_eq!(r.vec16(), Some(&b"abc"[..]));
        assert_eq!(r.vec16(), Some(&b""[..]));
        assert_eq!(r.left(), 1);
        assert_eq!(r.rest(), b"!");
        assert_eq!(r.rest(), b"");
    }

    /// The examples of RFC 9000 §A.1.
    #[test]
    fn quic_varints() {
        let cases: [(&[u8], u64); 5] = [
            (b"\xc2\x19\x7c\x5e\xff\x14\xe8\x8c", 151_288_809_941_952_652),
            (b"\x9d\x7f\x3e\x7d", 494_878_333),
            (b"\x7b\xbd", 15_293),
            (b"\x25", 37),
            (b"\x40\x25", 37),
        ];
        for (bytes, v) in cases {
            let mut r = Reader::new(bytes);
            assert_eq!(r.varint(), Some(v), "{bytes:02x?}");
            assert!(!r.any_left());
        }
    }

    #[test]
    fn positions_and_windows() {
        let msg = b"\x03abc\x00\x02\x01\x02\xff";
        let mut r = Reader::at(msg, 5);
        let mut w = r.window(3).unwrap();
        assert_eq!(r.pos(), 8);
        assert_eq!((w.pos(), w.left()), (5, 3));
        assert_eq!(w.u8(), Some(2));
        assert_eq!(w.seek(0), Some(()));
        assert_eq!(w.vec8(), Some(&b"abc"[..]));
        assert_eq!(w.seek(9), None, "the window ends before the last byte");
        assert_eq!(r.window(2).map(|w| w.pos()), None);
        assert_eq!(Reader::at(msg, 99).left(), 0);
    }
}
