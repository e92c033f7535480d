//! Network-layer views: IPv4 (with options and header checksum), IPv6 and
//! its extension-header chain, and the IPsec authentication header.

use super::{DecodeError, be16, be32, ipproto};
use std::net::{Ipv4Addr, Ipv6Addr};

/// An IPv4 packet: header checked, payload cut to the total length.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Packet<'a> {
    buf: &'a [u8],
    header_len: usize,
    /// End of the datagram inside `buf` (total length, or the captured end).
    end: usize,
    /// The total-length field claims more bytes than were captured.
    short: bool,
}

impl<'a> Ipv4Packet<'a> {
    const VER_IHL: usize = 0;
    const TOTAL_LEN: usize = 2;
    const IDENT: usize = 4;
    const FLAGS_FRAG: usize = 6;
    const TTL: usize = 8;
    const PROTOCOL: usize = 9;
    const SRC: usize = 12;
    const DST: usize = 16;
    /// Minimum header length.
    pub const MIN_HEADER_LEN: usize = 20;

    /// Validates version, header length and total length.
    ///
    /// A total length of zero (seen on captures of TCP-segmentation-offloaded
    /// sends) is read as "up to the end of the captured bytes". Trailing link
    /// padding beyond the total length is excluded from the payload.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::MIN_HEADER_LEN {
            return Err(DecodeError::Ipv4Truncated);
        }
        if buf[Self::VER_IHL] >> 4 != 4 {
            return Err(DecodeError::IpBadVersion);
        }
        let header_len = usize::from(buf[Self::VER_IHL] & 0x0f) * 4;
        if header_len < Self::MIN_HEADER_LEN {
            return Err(DecodeError::Ipv4BadHeaderLength);
        }
        if header_len > buf.len() {
            return Err(DecodeError::Ipv4Truncated);
        }
        let total = usize::from(be16(buf, Self::TOTAL_LEN));
        let (end, short) = if total == 0 {
            (buf.len(), false)
        } else if total < header_len {
            return Err(DecodeError::Ipv4BadTotalLength);
        } else if total > buf.len() {
            (buf.len(), true)
        } else {
            (total, false)
        };
        Ok(Ipv4Packet {
            buf,
            header_len,
            end,
            short,
        })
    }

    /// Header length in bytes (20..=60).
    pub fn header_len(&self) -> usize {
        self.header_len
    }
    /// Total-length field.
    pub fn total_len(&self) -> u16 {
        be16(self.buf, Self::TOTAL_LEN)
    }
    /// True when the datagram extends beyond the bytes at hand.
    pub fn is_short(&self) -> bool {
        self.short
    }
    /// Identification field.
    pub fn ident(&self) -> u16 {
        be16(self.buf, Self::IDENT)
    }
    /// Don't-fragment flag.
    pub fn dont_fragment(&self) -> bool {
        be16(self.buf, Self::FLAGS_FRAG) & 0x4000 != 0
    }
    /// More-fragments flag.
    pub fn more_fragments(&self) -> bool {
        be16(self.buf, Self::FLAGS_FRAG) & 0x2000 != 0
    }
    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u32 {
        u32::from(be16(self.buf, Self::FLAGS_FRAG) & 0x1fff) * 8
    }
    /// Whether this is a fragment of a larger datagram.
    pub fn is_fragment(&self) -> bool {
        self.more_fragments() || self.frag_offset() != 0
    }
    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buf[Self::TTL]
    }
    /// Protocol of the payload.
    pub fn protocol(&self) -> u8 {
        self.buf[Self::PROTOCOL]
    }
    /// Source address.
    pub fn src(&self) -> Ipv4Addr {
        let b = self.buf;
        Ipv4Addr::new(
            b[Self::SRC],
            b[Self::SRC + 1],
            b[Self::SRC + 2],
            b[Self::SRC + 3],
        )
    }
    /// Destination address.
    pub fn dst(&self) -> Ipv4Addr {
        let b = self.buf;
        Ipv4Addr::new(
            b[Self::DST],
            b[Self::DST + 1],
            b[Self::DST + 2],
            b[Self::DST + 3],
        )
    }
    /// Options bytes (possibly empty).
    pub fn options(&self) -> &'a [u8] {
        &self.buf[Self::MIN_HEADER_LEN..self.header_len]
    }
    /// Payload: from the end of the header to the total length (or the
    /// captured end, whichever is first).
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len..self.end]
    }
    /// Whether the header checksum verifies.
    pub fn checksum_ok(&self) -> bool {
        internet_checksum(&self.buf[..self.header_len]) == 0
    }
}

/// One's-complement sum folded to 16 bits and inverted (RFC 1071). A header
/// that includes its own correct checksum sums to zero.
pub fn internet_checksum(data: &[u8]) -> u16 {
    !fold(ones_sum(data))
}

/// The one's-complement sum of `data` (16-bit big-endian words, an odd
/// last byte padded with zero), not yet folded: sums of parts that each
/// start at an even offset add up to the sum of the whole. Read as
/// native-endian 32-bit words, with no byte swap per word; [`fold`] puts
/// the result in network order (RFC 1071: the sum of byte-swapped words
/// is the byte-swapped sum).
pub(crate) fn ones_sum(data: &[u8]) -> u64 {
    let (words, rest) = data.as_chunks::<4>();
    let mut sum: u64 = words
        .iter()
        .map(|w| u64::from(u32::from_ne_bytes(*w)))
        .sum();
    // The last one to three bytes, zero-padded, without a call to `memcpy`.
    let last = match *rest {
        [a] => [a, 0, 0, 0],
        [a, b] => [a, b, 0, 0],
        [a, b, c] => [a, b, c, 0],
        _ => [0; 4],
    };
    sum += u64::from(u32::from_ne_bytes(last));
    sum
}

/// A [`ones_sum`] folded to 16 bits (end-around carries added back), in
/// network order.
pub(crate) fn fold(sum: u64) -> u16 {
    // Four folds take any 64-bit value to 16 bits, without a branch.
    let sum = (sum & 0xffff_ffff) + (sum >> 32);
    let sum = (sum & 0xffff) + (sum >> 16);
    let sum = (sum & 0xffff) + (sum >> 16);
    let sum = (sum & 0xffff) + (sum >> 16);
    u16::from_be(sum as u16)
}

/// A folded one's-complement sum in its one form: `0xffff` (negative zero)
/// is 0, so two sums of the same bytes compare equal.
pub(crate) fn canonical(sum: u16) -> u16 {
    if sum == 0xffff { 0 } else { sum }
}

/// The fixed 40-byte IPv6 header.
#[derive(Debug, Clone, Copy)]
pub struct Ipv6Packet<'a> {
    buf: &'a [u8],
    end: usize,
    short: bool,
}

impl<'a> Ipv6Packet<'a> {
    const VER_TC_FLOW: usize = 0;
    const PAYLOAD_LEN: usize = 4;
    const NEXT_HEADER: usize = 6;
    const HOP_LIMIT: usize = 7;
    const SRC: usize = 8;
    const DST: usize = 24;
    /// Fixed header length.
    pub const HEADER_LEN: usize = 40;

    /// Validates version and length. A zero payload length (jumbogram or
    /// offloaded send) is read as "up to the end of the captured bytes".
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::HEADER_LEN {
            return Err(DecodeError::Ipv6Truncated);
        }
        if buf[Self::VER_TC_FLOW] >> 4 != 6 {
            return Err(DecodeError::IpBadVersion);
        }
        let declared = usize::from(be16(buf, Self::PAYLOAD_LEN));
        let available = buf.len() - Self::HEADER_LEN;
        let (end, short) = if declared == 0 {
            (buf.len(), false)
        } else if declared > available {
            (buf.len(), true)
        } else {
            (Self::HEADER_LEN + declared, false)
        };
        Ok(Ipv6Packet { buf, end, short })
    }

    /// Payload-length field.
    pub fn payload_len(&self) -> u16 {
        be16(self.buf, Self::PAYLOAD_LEN)
    }
    /// True when the payload extends beyond the bytes at hand.
    pub fn is_short(&self) -> bool {
        self.short
    }
    /// Flow label.
    pub fn flow_label(&self) -> u32 {
        be32(self.buf, Self::VER_TC_FLOW) & 0x000f_ffff
    }
    /// First next-header value.
    pub fn next_header(&self) -> u8 {
        self.buf[Self::NEXT_HEADER]
    }
    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buf[Self::HOP_LIMIT]
    }
    /// Source address.
    pub fn src(&self) -> Ipv6Addr {
        Ipv6Addr::from(addr16(self.buf, Self::SRC))
    }
    /// Destination address.
    pub fn dst(&self) -> Ipv6Addr {
        Ipv6Addr::from(addr16(self.buf, Self::DST))
    }
    /// Everything after the fixed header, extension headers included.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[Self::HEADER_LEN..self.end]
    }
}

fn addr16(b: &[u8], at: usize) -> [u8; 16] {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[at..at + 16]);
    a
}

/// The IPv6 fragment header's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6FragmentHeader {
    /// Protocol of the fragmentable part.
    pub next_header: u8,
    /// Offset of this fragment's data in bytes.
    pub offset: u32,
    /// More-fragments flag.
    pub more: bool,
    /// Identification.
    pub ident: u32,
}

/// Where an IPv6 extension-header walk ended.
#[derive(Debug, Clone, Copy)]
pub struct Ipv6Upper<'a> {
    /// Upper-layer protocol (or the fragment header's next header).
    pub protocol: u8,
    /// Bytes of the upper layer (or of the fragment's data).
    pub payload: &'a [u8],
    /// Set when the walk stopped at a (non-atomic) fragment header.
    pub fragment: Option<Ipv6FragmentHeader>,
    /// Number of extension headers walked.
    pub extensions: u8,
}

/// Walks the extension-header chain that starts with `next` over `buf`
/// (the IPv6 payload), following at most `max_headers` headers.
///
/// Stops at the first upper-layer protocol, at ESP or "no next header", or
/// at a fragment header that is a real fragment (an atomic fragment, offset
/// 0 without the more-fragments flag, is stepped over as RFC 6946 says).
pub fn walk_ipv6_extensions(
    mut next: u8,
    mut buf: &[u8],
    max_headers: usize,
) -> Result<Ipv6Upper<'_>, DecodeError> {
    let mut walked: usize = 0;
    loop {
        let len = match next {
            ipproto::HOPOPT
            | ipproto::ROUTING
            | ipproto::DSTOPTS
            | ipproto::MOBILITY
            | ipproto::HIP
            | ipproto::SHIM6 => {
                if buf.len() < 2 {
                    return Err(DecodeError::Ipv6ExtensionTruncated);
                }
                (usize::from(buf[1]) + 1) * 8
            }
            ipproto::AH => {
                if buf.len() < 2 {
                    return Err(DecodeError::Ipv6ExtensionTruncated);
                }
                (usize::from(buf[1]) + 2) * 4
            }
            ipproto::FRAGMENT => 8,
            _ => {
                return Ok(Ipv6Upper {
                    protocol: next,
                    payload: buf,
                    fragment: None,
                    extensions: walked as u8,
                });
            }
        };
        if walked >= max_headers {
            return Err(DecodeError::Ipv6TooManyExtensions);
        }
        if buf.len() < len {
            return Err(DecodeError::Ipv6ExtensionTruncated);
        }
        walked += 1;
        if next == ipproto::FRAGMENT {
            let field = be16(buf, 2);
            let frag = Ipv6FragmentHeader {
                next_header: buf[0],
                offset: u32::from(field >> 3) * 8,
                more: field & 1 != 0,
                ident: be32(buf, 4),
            };
            if frag.offset != 0 || frag.more {
                return Ok(Ipv6Upper {
                    protocol: frag.next_header,
                    payload: &buf[8..],
                    fragment: Some(frag),
                    extensions: walked as u8,
                });
            }
        }
        next = buf[0];
        buf = &buf[len..];
    }
}

/// IPsec authentication header (RFC 4302) in an IPv4 packet.
#[derive(Debug, Clone, Copy)]
pub struct AuthHeader<'a> {
    buf: &'a [u8],
    len: usize,
}

impl<'a> AuthHeader<'a> {
    /// Checks the header, whose length field counts 4-byte words minus 2.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < 2 {
            return Err(DecodeError::AhTruncated);
        }
        let len = (usize::from(buf[1]) + 2) * 4;
        if buf.len() < len {
            return Err(DecodeError::AhTruncated);
        }
        Ok(AuthHeader { buf, len })
    }
    /// Protocol after the header.
    pub fn next_header(&self) -> u8 {
        self.buf[0]
    }
    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.len..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 192.168.0.1 -> 192.168.0.199, TCP, total length 24 (4 payload bytes),
    // checksum correct, followed by 2 bytes of Ethernet padding.
    const IPV4: [u8; 26] = [
        0x45, 0x00, 0x00, 0x18, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x9c, 0xe6, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00,
    ];

    #[test]
    fn ipv4_fields_and_padding() {
        let ip = Ipv4Packet::new_checked(&IPV4).unwrap();
        assert_eq!(ip.header_len(), 20);
        assert_eq!(ip.total_len(), 24);
        assert_eq!(ip.ident(), 0x1c46);
        assert!(ip.dont_fragment());
        assert!(!ip.is_fragment());
        assert_eq!(ip.ttl(), 64);
        assert_eq!(ip.protocol(), 6);
        assert_eq!(ip.src(), Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(ip.dst(), Ipv4Addr::new(192, 168, 0, 199));
        assert_eq!(ip.payload(), &[0xde, 0xad, 0xbe, 0xef]);
        assert!(!ip.is_short());
    }

    #[test]
    fn ipv4_checksum() {
        let mut hdr = IPV4;
        // Recompute the checksum from scratch to check the arithmetic.
        hdr[10] = 0;
        hdr[11] = 0;
        let c = internet_checksum(&hdr[..20]);
        hdr[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(Ipv4Packet::new_checked(&hdr).unwrap().checksum_ok());
        hdr[11] ^= 1;
        assert!(!Ipv4Packet::new_checked(&hdr).unwrap().checksum_ok());
    }

    #[test]
    fn checksum_matches_the_16_bit_definition() {
        fn reference(data: &[u8]) -> u16 {
            let mut sum: u32 = 0;
            for c in data.chunks(2) {
                sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
            }
            while sum > 0xffff {
                sum = (sum & 0xffff) + (sum >> 16);
            }
            !(sum as u16)
        }
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(37) ^ 0xa5) as u8)
            .collect();
        for len in 0..data.len() {
            assert_eq!(
                internet_checksum(&data[..len]),
                reference(&data[..len]),
                "len {len}"
            );
        }
        assert_eq!(internet_checksum(&[0xff; 64]), reference(&[0xff; 64]));
    }

    #[test]
    fn ipv4_errors() {
        assert_eq!(
            Ipv4Packet::new_checked(&IPV4[..19]).unwrap_err(),
            DecodeError::Ipv4Truncated
        );
        let mut v = IPV4;
        v[0] = 0x65;
        assert_eq!(
            Ipv4Packet::new_checked(&v).unwrap_err(),
            DecodeError::IpBadVersion
        );
        v[0] = 0x44;
        assert_eq!(
            Ipv4Packet::new_checked(&v).unwrap_err(),
            DecodeError::Ipv4BadHeaderLength
        );
        v[0] = 0x4f; // 60-byte header, only 26 bytes present
        assert_eq!(
            Ipv4Packet::new_checked(&v).unwrap_err(),
            DecodeError::Ipv4Truncated
        );
        let mut v = IPV4;
        v[3] = 10; // total length smaller than header
        assert_eq!(
            Ipv4Packet::new_checked(&v).unwrap_err(),
            DecodeError::Ipv4BadTotalLength
        );
        let mut v = IPV4;
        v[3] = 200; // longer than captured: kept, flagged short
        let ip = Ipv4Packet::new_checked(&v).unwrap();
        assert!(ip.is_short());
        assert_eq!(ip.payload().len(), 6);
    }

    #[test]
    fn ipv4_fragment_fields() {
        let mut v = IPV4;
        v[6] = 0x20; // MF
        v[7] = 0x03; // offset 3*8
        let ip = Ipv4Packet::new_checked(&v).unwrap();
        assert!(ip.more_fragments());
        assert_eq!(ip.frag_offset(), 24);
        assert!(ip.is_fragment());
    }

    fn ipv6_header(next: u8, payload_len: u16) -> Vec<u8> {
        let mut h = vec![0x60, 0x00, 0x00, 0x01];
        h.extend_from_slice(&payload_len.to_be_bytes());
        h.push(next);
        h.push(64);
        h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        h
    }

    #[test]
    fn ipv6_fixed_header() {
        let mut p = ipv6_header(17, 4);
        p.extend_from_slice(&[1, 2, 3, 4, 9, 9]);
        let ip = Ipv6Packet::new_checked(&p).unwrap();
        assert_eq!(ip.next_header(), 17);
        assert_eq!(ip.hop_limit(), 64);
        assert_eq!(ip.flow_label(), 1);
        assert_eq!(ip.src(), "2001:db8::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(ip.dst(), "2001:db8::2".parse::<Ipv6Addr>().unwrap());
        assert_eq!(ip.payload(), &[1, 2, 3, 4]);
        assert!(Ipv6Packet::new_checked(&p[..39]).is_err());
    }

    #[test]
    fn ipv6_extension_walk() {
        // hop-by-hop (8 bytes) -> destination options (16 bytes) -> UDP
        let mut chain = vec![ipproto::DSTOPTS, 0, 1, 4, 0, 0, 0, 0];
        chain.extend_from_slice(&[ipproto::UDP, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        chain.extend_from_slice(&[0xaa; 8]);
        let up = walk_ipv6_extensions(ipproto::HOPOPT, &chain, 8).unwrap();
        assert_eq!(up.protocol, ipproto::UDP);
        assert_eq!(up.payload, &[0xaa; 8]);
        assert_eq!(up.extensions, 2);
        assert!(up.fragment.is_none());
        assert_eq!(
            walk_ipv6_extensions(ipproto::HOPOPT, &chain, 1).unwrap_err(),
            DecodeError::Ipv6TooManyExtensions
        );
        assert_eq!(
            walk_ipv6_extensions(ipproto::HOPOPT, &chain[..12], 8).unwrap_err(),
            DecodeError::Ipv6ExtensionTruncated
        );
    }

    #[test]
    fn ipv6_fragment_header() {
        // fragment: next TCP, offset 185*8 = 1480, M=1, id 0xdeadbeef
        let frag = [ipproto::TCP, 0, 0x05, 0xc9, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3];
        let up = walk_ipv6_extensions(ipproto::FRAGMENT, &frag, 8).unwrap();
        let f = up.fragment.unwrap();
        assert_eq!(f.offset, 1480);
        assert!(f.more);
        assert_eq!(f.ident, 0xdead_beef);
        assert_eq!(up.protocol, ipproto::TCP);
        assert_eq!(up.payload, &[1, 2, 3]);

        // atomic fragment: offset 0, M=0 -> stepped over
        let atomic = [ipproto::UDP, 0, 0, 0, 0, 0, 0, 7, 5, 5];
        let up = walk_ipv6_extensions(ipproto::FRAGMENT, &atomic, 8).unwrap();
        assert!(up.fragment.is_none());
        assert_eq!(up.protocol, ipproto::UDP);
        assert_eq!(up.payload, &[5, 5]);
    }

    #[test]
    fn auth_header() {
        // next TCP, len 4 -> (4+2)*4 = 24 bytes
        let mut ah = vec![ipproto::TCP, 4];
        ah.resize(24, 0);
        ah.push(0x77);
        let h = AuthHeader::new_checked(&ah).unwrap();
        assert_eq!(h.next_header(), ipproto::TCP);
        assert_eq!(h.payload(), &[0x77]);
        assert!(AuthHeader::new_checked(&ah[..20]).is_err());
    }
}
