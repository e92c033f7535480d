//! Transport-layer views: TCP (with its options), UDP, ICMP/ICMPv6 and the
//! SCTP common header.

use super::ip::{canonical, fold, ones_sum};
use super::{DecodeError, be16, be32};
use std::net::IpAddr;

/// TCP flag bits (the low byte of the flags field).
pub mod tcp_flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer field is significant.
    pub const URG: u8 = 0x20;
    /// ECN echo.
    pub const ECE: u8 = 0x40;
    /// Congestion window reduced.
    pub const CWR: u8 = 0x80;
}

/// A TCP segment: header checked, options and payload reachable.
#[derive(Debug, Clone, Copy)]
pub struct TcpSegment<'a> {
    buf: &'a [u8],
    header_len: usize,
}

impl<'a> TcpSegment<'a> {
    const SRC_PORT: usize = 0;
    const DST_PORT: usize = 2;
    const SEQ: usize = 4;
    const ACK: usize = 8;
    const DATA_OFF: usize = 12;
    const FLAGS: usize = 13;
    const WINDOW: usize = 14;
    const URGENT: usize = 18;
    /// Minimum header length.
    pub const MIN_HEADER_LEN: usize = 20;

    /// Checks the fixed header and that the data offset fits.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::MIN_HEADER_LEN {
            return Err(DecodeError::TcpTruncated);
        }
        let header_len = usize::from(buf[Self::DATA_OFF] >> 4) * 4;
        if header_len < Self::MIN_HEADER_LEN {
            return Err(DecodeError::TcpBadDataOffset);
        }
        if header_len > buf.len() {
            return Err(DecodeError::TcpTruncated);
        }
        Ok(TcpSegment { buf, header_len })
    }
    /// For a segment the capture cut inside its options: the fixed header
    /// must be there; the options end where the captured bytes end and the
    /// payload is empty. (Snapshot lengths of 54 to 68 bytes do this to
    /// almost every segment.)
    pub fn new_cut(buf: &'a [u8]) -> Result<Self, DecodeError> {
        match Self::new_checked(buf) {
            Err(DecodeError::TcpTruncated) if buf.len() >= Self::MIN_HEADER_LEN => Ok(TcpSegment {
                buf,
                header_len: buf.len(),
            }),
            other => other,
        }
    }
    /// Source port.
    pub fn src_port(&self) -> u16 {
        be16(self.buf, Self::SRC_PORT)
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.buf, Self::DST_PORT)
    }
    /// Sequence number.
    pub fn seq(&self) -> u32 {
        be32(self.buf, Self::SEQ)
    }
    /// Acknowledgment number.
    pub fn ack(&self) -> u32 {
        be32(self.buf, Self::ACK)
    }
    /// Header length in bytes, options included.
    pub fn header_len(&self) -> usize {
        self.header_len
    }
    /// Flag byte (see [`tcp_flags`]).
    pub fn flags(&self) -> u8 {
        self.buf[Self::FLAGS]
    }
    /// Whether every bit of `mask` is set.
    pub fn has(&self, mask: u8) -> bool {
        self.flags() & mask == mask
    }
    /// Advertised window (unscaled).
    pub fn window(&self) -> u16 {
        be16(self.buf, Self::WINDOW)
    }
    /// Urgent pointer.
    pub fn urgent(&self) -> u16 {
        be16(self.buf, Self::URGENT)
    }
    /// Raw option bytes.
    pub fn option_bytes(&self) -> &'a [u8] {
        &self.buf[Self::MIN_HEADER_LEN..self.header_len]
    }
    /// Iterator over the options.
    pub fn options(&self) -> TcpOptions<'a> {
        TcpOptions {
            rest: self.option_bytes(),
        }
    }
    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len..]
    }

    /// The one's-complement sum of the payload that the checksum field
    /// states, read from the headers alone: the complement of the sum of
    /// the pseudo-header (`src`, `dst`, protocol 6, segment length) and the
    /// TCP header with its checksum. It equals [`payload_sum`] of the
    /// payload exactly when the checksum verifies. Meaningful for a whole
    /// segment (one the capture did not cut).
    pub fn stated_payload_sum(&self, src: IpAddr, dst: IpAddr) -> u16 {
        // Protocol 6 and the segment length as 16-bit words (two for a
        // length past 64 KiB, as an offloaded capture can have).
        let l = (self.buf.len() as u32).to_be_bytes();
        let pseudo = addr_sum(src)
            + addr_sum(dst)
            + u64::from(u32::from_ne_bytes([0, 6, l[0], l[1]]))
            + u64::from(u32::from_ne_bytes([l[2], l[3], 0, 0]));
        // The fixed header as five words in a row, then the options (a
        // header is never shorter: `new_checked` and `new_cut` see to it).
        let (fixed, options) = self.buf[..self.header_len].split_at(Self::MIN_HEADER_LEN);
        let header =
            ones_sum_fixed::<{ TcpSegment::MIN_HEADER_LEN / 4 }>(fixed) + options_sum(options);
        canonical(!fold(pseudo + header))
    }
}

/// The one's-complement sum of a segment's payload, in the form
/// [`TcpSegment::stated_payload_sum`] gives.
pub fn payload_sum(payload: &[u8]) -> u16 {
    canonical(fold(ones_sum(payload)))
}

fn addr_sum(a: IpAddr) -> u64 {
    match a {
        IpAddr::V4(v4) => ones_sum_fixed::<1>(&v4.octets()),
        IpAddr::V6(v6) => ones_sum_fixed::<4>(&v6.octets()),
    }
}

/// [`ones_sum`] of a TCP header's options: whole 32-bit words, at most
/// ten, so a straight run per word count (no loop, no tail, none of the
/// set-up a vectorised loop pays for three words); any other length, as a
/// header the capture cut can have, through [`ones_sum`].
fn options_sum(options: &[u8]) -> u64 {
    if !options.len().is_multiple_of(4) {
        return ones_sum(options);
    }
    match options.len() / 4 {
        0 => 0,
        1 => ones_sum_fixed::<1>(options),
        2 => ones_sum_fixed::<2>(options),
        3 => ones_sum_fixed::<3>(options),
        4 => ones_sum_fixed::<4>(options),
        5 => ones_sum_fixed::<5>(options),
        6 => ones_sum_fixed::<6>(options),
        7 => ones_sum_fixed::<7>(options),
        8 => ones_sum_fixed::<8>(options),
        9 => ones_sum_fixed::<9>(options),
        10 => ones_sum_fixed::<10>(options),
        _ => ones_sum(options),
    }
}

/// [`ones_sum`] of the first `N` words of `data`, which has them: a
/// straight run of loads and adds, no loop.
#[inline(always)]
fn ones_sum_fixed<const N: usize>(data: &[u8]) -> u64 {
    let (words, _) = data.as_chunks::<4>();
    let words: &[[u8; 4]; N] = words[..N].try_into().unwrap_or(&[[0; 4]; N]);
    words
        .iter()
        .map(|w| u64::from(u32::from_ne_bytes(*w)))
        .sum()
}

/// One parsed TCP option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// Maximum segment size.
    Mss(u16),
    /// Window scale shift count.
    WindowScale(u8),
    /// SACK permitted.
    SackPermitted,
    /// SACK blocks (raw pairs of left/right edges).
    Sack(&'a [u8]),
    /// Timestamps: value and echo reply.
    Timestamps {
        /// TSval.
        value: u32,
        /// TSecr.
        echo: u32,
    },
    /// Any other option, with its data.
    Other {
        /// Option kind.
        kind: u8,
        /// Option data (after kind and length).
        data: &'a [u8],
    },
}

/// Iterator over TCP options. A malformed option (bad length, wrong size
/// for its kind) ends the iteration: nothing after it can be trusted.
#[derive(Debug, Clone)]
pub struct TcpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = TcpOption<'a>;

    fn next(&mut self) -> Option<TcpOption<'a>> {
        loop {
            let (&kind, after) = self.rest.split_first()?;
            match kind {
                0 => {
                    self.rest = &[];
                    return None;
                }
                1 => {
                    self.rest = after;
                    continue;
                }
                _ => {}
            }
            let Some(&len) = after.first() else {
                self.rest = &[];
                return None;
            };
            let len = usize::from(len);
            if len < 2 || len > self.rest.len() {
                self.rest = &[];
                return None;
            }
            let data = &self.rest[2..len];
            self.rest = &self.rest[len..];
            let opt = match (kind, data.len()) {
                (2, 2) => TcpOption::Mss(be16(data, 0)),
                (3, 1) => TcpOption::WindowScale(data[0]),
                (4, 0) => TcpOption::SackPermitted,
                (5, n) if n % 8 == 0 => TcpOption::Sack(data),
                (8, 8) => TcpOption::Timestamps {
                    value: be32(data, 0),
                    echo: be32(data, 4),
                },
                (2..=5 | 8, _) => {
                    self.rest = &[];
                    return None;
                }
                _ => TcpOption::Other { kind, data },
            };
            return Some(opt);
        }
    }
}

/// The options a handshake negotiates, gathered in one pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpHandshakeOptions {
    /// Maximum segment size.
    pub mss: Option<u16>,
    /// Window scale shift (clamped to 14 as RFC 7323 says).
    pub window_scale: Option<u8>,
    /// SACK permitted.
    pub sack_permitted: bool,
    /// Timestamps present.
    pub timestamps: bool,
}

impl TcpHandshakeOptions {
    /// Collects the negotiated options of a segment.
    pub fn of(seg: &TcpSegment<'_>) -> Self {
        let mut o = TcpHandshakeOptions::default();
        for opt in seg.options() {
            match opt {
                TcpOption::Mss(m) => o.mss = Some(m),
                TcpOption::WindowScale(s) => o.window_scale = Some(s.min(14)),
                TcpOption::SackPermitted => o.sack_permitted = true,
                TcpOption::Timestamps { .. } => o.timestamps = true,
                _ => {}
            }
        }
        o
    }
}

/// A UDP datagram.
#[derive(Debug, Clone, Copy)]
pub struct UdpDatagram<'a> {
    buf: &'a [u8],
    end: usize,
    short: bool,
}

impl<'a> UdpDatagram<'a> {
    const SRC_PORT: usize = 0;
    const DST_PORT: usize = 2;
    const LENGTH: usize = 4;
    /// Header length.
    pub const HEADER_LEN: usize = 8;

    /// Checks the header and the length field. A zero length (IPv6
    /// jumbogram) is read as "to the end of the bytes at hand".
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::HEADER_LEN {
            return Err(DecodeError::UdpTruncated);
        }
        let declared = usize::from(be16(buf, Self::LENGTH));
        let (end, short) = if declared == 0 {
            (buf.len(), false)
        } else if declared < Self::HEADER_LEN {
            return Err(DecodeError::UdpBadLength);
        } else if declared > buf.len() {
            (buf.len(), true)
        } else {
            (declared, false)
        };
        Ok(UdpDatagram { buf, end, short })
    }
    /// Source port.
    pub fn src_port(&self) -> u16 {
        be16(self.buf, Self::SRC_PORT)
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.buf, Self::DST_PORT)
    }
    /// Length field.
    pub fn length(&self) -> u16 {
        be16(self.buf, Self::LENGTH)
    }
    /// True when the datagram extends beyond the bytes at hand.
    pub fn is_short(&self) -> bool {
        self.short
    }
    /// Payload, trimmed to the length field.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[Self::HEADER_LEN..self.end]
    }
}

/// An ICMP or ICMPv6 message (both share this 8-byte layout).
#[derive(Debug, Clone, Copy)]
pub struct IcmpMessage<'a> {
    buf: &'a [u8],
}

impl<'a> IcmpMessage<'a> {
    const TYPE: usize = 0;
    const CODE: usize = 1;
    const REST: usize = 4;
    /// Header length (type, code, checksum, rest-of-header).
    pub const HEADER_LEN: usize = 8;

    /// Checks the 8-byte header is present.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::HEADER_LEN {
            return Err(DecodeError::IcmpTruncated);
        }
        Ok(IcmpMessage { buf })
    }
    /// Message type.
    pub fn msg_type(&self) -> u8 {
        self.buf[Self::TYPE]
    }
    /// Message code.
    pub fn code(&self) -> u8 {
        self.buf[Self::CODE]
    }
    /// The 4 "rest of header" bytes (identifier and sequence for echo).
    pub fn rest_of_header(&self) -> u32 {
        be32(self.buf, Self::REST)
    }
    /// Bytes after the 8-byte header (the quoted packet for errors).
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[Self::HEADER_LEN..]
    }
}

/// ICMPv4 types that quote the offending packet.
pub fn icmpv4_is_error(msg_type: u8) -> bool {
    matches!(msg_type, 3 | 4 | 5 | 11 | 12)
}

/// ICMPv6 types that quote the offending packet.
pub fn icmpv6_is_error(msg_type: u8) -> bool {
    matches!(msg_type, 1..=4)
}

/// The SCTP common header.
#[derive(Debug, Clone, Copy)]
pub struct SctpPacket<'a> {
    buf: &'a [u8],
}

impl<'a> SctpPacket<'a> {
    const SRC_PORT: usize = 0;
    const DST_PORT: usize = 2;
    const VTAG: usize = 4;
    /// Common header length.
    pub const HEADER_LEN: usize = 12;

    /// Checks the 12-byte common header is present.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::HEADER_LEN {
            return Err(DecodeError::SctpTruncated);
        }
        Ok(SctpPacket { buf })
    }
    /// Source port.
    pub fn src_port(&self) -> u16 {
        be16(self.buf, Self::SRC_PORT)
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.buf, Self::DST_PORT)
    }
    /// Verification tag.
    pub fn verification_tag(&self) -> u32 {
        be32(self.buf, Self::VTAG)
    }
    /// Chunks after the common header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[Self::HEADER_LEN..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 1234 -> 80, seq 1, ack 0, SYN, window 65535, options:
    // MSS 1460, NOP, WS 7, SACK-permitted, timestamps 1/0, then 2 data bytes.
    const SYN: [u8; 42] = [
        0x04, 0xd2, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xff,
        0xff, 0x00, 0x00, 0x00, 0x00, // fixed header, data offset 10 words
        0x02, 0x04, 0x05, 0xb4, // MSS
        0x01, 0x03, 0x03, 0x07, // NOP, WS 7
        0x04, 0x02, // SACK permitted
        0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, // timestamps
        0xab, 0xcd,
    ];

    #[test]
    fn tcp_fields() {
        let t = TcpSegment::new_checked(&SYN).unwrap();
        assert_eq!(t.src_port(), 1234);
        assert_eq!(t.dst_port(), 80);
        assert_eq!(t.seq(), 1);
        assert_eq!(t.ack(), 0);
        assert_eq!(t.header_len(), 40);
        assert!(t.has(tcp_flags::SYN));
        assert!(!t.has(tcp_flags::ACK));
        assert_eq!(t.window(), 0xffff);
        assert_eq!(t.payload(), &[0xab, 0xcd]);
    }

    #[test]
    fn tcp_options() {
        let t = TcpSegment::new_checked(&SYN).unwrap();
        let opts: Vec<_> = t.options().collect();
        assert_eq!(
            opts,
            vec![
                TcpOption::Mss(1460),
                TcpOption::WindowScale(7),
                TcpOption::SackPermitted,
                TcpOption::Timestamps { value: 1, echo: 0 },
            ]
        );
        let h = TcpHandshakeOptions::of(&t);
        assert_eq!(h.mss, Some(1460));
        assert_eq!(h.window_scale, Some(7));
        assert!(h.sack_permitted && h.timestamps);
    }

    #[test]
    fn tcp_malformed_options_stop() {
        let mut seg = SYN;
        seg[21] = 0x09; // MSS length 9: runs past the options
        let t = TcpSegment::new_checked(&seg).unwrap();
        assert_eq!(t.options().count(), 0);
        let mut seg = SYN;
        seg[21] = 0x03; // MSS with 1 data byte: wrong size for the kind
        let t = TcpSegment::new_checked(&seg).unwrap();
        assert_eq!(t.options().count(), 0);
    }

    #[test]
    fn tcp_errors() {
        assert_eq!(
            TcpSegment::new_checked(&SYN[..19]).unwrap_err(),
            DecodeError::TcpTruncated
        );
        let mut s = SYN;
        s[12] = 0x40;
        assert_eq!(
            TcpSegment::new_checked(&s).unwrap_err(),
            DecodeError::TcpBadDataOffset
        );
        s[12] = 0xf0; // 60 bytes of header, 42 present
        assert_eq!(
            TcpSegment::new_checked(&s).unwrap_err(),
            DecodeError::TcpTruncated
        );
    }

    #[test]
    fn cut_options() {
        let t = TcpSegment::new_cut(&SYN[..30]).unwrap();
        assert_eq!(
            (t.src_port(), t.header_len(), t.payload().len()),
            (1234, 30, 0)
        );
        assert_eq!(t.options().next(), Some(TcpOption::Mss(1460)));
        assert!(TcpSegment::new_cut(&SYN[..19]).is_err());
        let mut bad = SYN;
        bad[12] = 0x30;
        assert_eq!(
            TcpSegment::new_cut(&bad).unwrap_err(),
            DecodeError::TcpBadDataOffset
        );
    }

    // A captured IPv4 segment, 125.169.58.248:53406 -> 149.40.108.60:443,
    // ACK|PSH, 12 payload bytes, checksum 0x8460 (verified by tshark).
    const V4_SRC: [u8; 4] = [125, 169, 58, 248];
    const V4_DST: [u8; 4] = [149, 40, 108, 60];
    const V4_SEGMENT: [u8; 32] = [
        0xd0, 0x9e, 0x01, 0xbb, 0xe5, 0xf2, 0xcd, 0x86, 0x41, 0x2b, 0x0c, 0x2c, 0x50, 0x18, 0x1d,
        0xf2, 0x84, 0x60, 0x00, 0x00, // header
        0x80, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x31,
    ];
    // A captured IPv6 segment (from a 6in4 tunnel), port 53234 -> 443,
    // timestamps option, 38 payload bytes of a TLS record, checksum 0x7359.
    const V6_SRC: [u8; 16] = [
        0x20, 0x01, 0x04, 0x70, 0x1f, 0x17, 0x01, 0x3f, 0x3e, 0x97, 0x0e, 0xff, 0xfe, 0x73, 0x4d,
        0xec,
    ];
    const V6_DST: [u8; 16] = [
        0x2a, 0x03, 0x28, 0x80, 0x10, 0x10, 0x6f, 0x03, 0xfa, 0xce, 0xb0, 0x0c, 0, 0, 0, 0x02,
    ];
    const V6_SEGMENT: [u8; 70] = [
        0xcf, 0xf2, 0x01, 0xbb, 0x27, 0x75, 0x66, 0x83, 0xcb, 0xb3, 0x1a, 0xbf, 0x80, 0x18, 0x01,
        0x2a, 0x73, 0x59, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x27, 0x79, 0xe4, 0x3e, 0x29, 0xc5,
        0x38, 0xed, // header with options
        0x17, 0x03, 0x03, 0x00, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0xd3, 0x7c,
        0x07, 0x40, 0x23, 0xb0, 0xfb, 0x0a, 0xad, 0x47, 0x06, 0x17, 0x16, 0xe9, 0x76, 0x5d, 0x67,
        0x3a, 0x92, 0x7c, 0x9d, 0x25, 0x0c, 0xb7, 0x76,
    ];

    #[test]
    fn the_checksum_states_the_payload_sum() {
        let v4 = (IpAddr::from(V4_SRC), IpAddr::from(V4_DST));
        let v6 = (IpAddr::from(V6_SRC), IpAddr::from(V6_DST));
        for ((src, dst), seg) in [(v4, &V4_SEGMENT[..]), (v6, &V6_SEGMENT[..])] {
            let t = TcpSegment::new_checked(seg).unwrap();
            let stated = t.stated_payload_sum(src, dst);
            assert_eq!(stated, payload_sum(t.payload()), "{src}");
            // Other bytes, a header field or the checksum changed: the
            // checksum no longer states the payload's sum.
            for at in [t.header_len(), seg.len() - 1, 8, 17] {
                let mut other = seg.to_vec();
                other[at] ^= 0x40;
                let o = TcpSegment::new_checked(&other).unwrap();
                assert_ne!(o.stated_payload_sum(src, dst), payload_sum(o.payload()));
            }
            // Addresses are in the pseudo-header.
            assert_ne!(t.stated_payload_sum(dst, dst), stated);
        }
        // A header change made with its checksum (a re-sent copy with
        // another acknowledgement number) states the same payload sum.
        let mut resent = V4_SEGMENT;
        resent[11] = resent[11].wrapping_add(1);
        resent[17] = resent[17].wrapping_sub(1);
        let r = TcpSegment::new_checked(&resent).unwrap();
        assert_eq!(
            r.stated_payload_sum(v4.0, v4.1),
            payload_sum(&V4_SEGMENT[20..])
        );
    }

    #[test]
    fn options_of_every_length_sum_as_the_general_sum_does() {
        // Whole words up to the 40 bytes a header can hold, the lengths a
        // cut header can leave, and past the limit.
        let bytes: Vec<u8> = (0..48u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
        for len in 0..=bytes.len() {
            let o = &bytes[..len];
            assert_eq!(fold(options_sum(o)), fold(ones_sum(o)), "{len} bytes");
        }
        assert_eq!(fold(options_sum(&[0xff; 40])), fold(ones_sum(&[0xff; 40])));
    }

    #[test]
    fn a_segment_past_64_kib_states_its_sum_too() {
        // As an offloaded capture can hold: the length takes two words of
        // the pseudo-header (RFC 8200's 32-bit upper-layer length).
        let mut seg = V6_SEGMENT[..32].to_vec();
        seg.extend((0..70_000u32).map(|i| (i * 7 % 251) as u8));
        seg[16..18].fill(0);
        let mut pseudo = V6_SRC.to_vec();
        pseudo.extend_from_slice(&V6_DST);
        pseudo.extend_from_slice(&(seg.len() as u32).to_be_bytes());
        pseudo.extend_from_slice(&[0, 0, 0, 6]);
        pseudo.extend_from_slice(&seg);
        let c = crate::wire::ip::internet_checksum(&pseudo);
        seg[16..18].copy_from_slice(&c.to_be_bytes());
        let t = TcpSegment::new_checked(&seg).unwrap();
        let (src, dst) = (IpAddr::from(V6_SRC), IpAddr::from(V6_DST));
        assert_eq!(t.stated_payload_sum(src, dst), payload_sum(t.payload()));
    }

    #[test]
    fn payload_sums_have_one_zero() {
        assert_eq!(payload_sum(&[]), 0);
        assert_eq!(payload_sum(&[0xff, 0xff]), 0);
        assert_eq!(payload_sum(&[0x12, 0x34, 0x56]), 0x6834);
        assert_eq!(payload_sum(&[0xff, 0xff, 0x00, 0x01]), 1);
    }

    #[test]
    fn udp_length_handling() {
        let d = [
            0x30, 0x39, 0x00, 0x35, 0x00, 0x0a, 0x00, 0x00, 0x61, 0x62, 0x00, 0x00,
        ];
        let u = UdpDatagram::new_checked(&d).unwrap();
        assert_eq!(u.src_port(), 12345);
        assert_eq!(u.dst_port(), 53);
        assert_eq!(u.payload(), b"ab");
        assert!(!u.is_short());
        let mut bad = d;
        bad[5] = 4;
        assert_eq!(
            UdpDatagram::new_checked(&bad).unwrap_err(),
            DecodeError::UdpBadLength
        );
        let mut long = d;
        long[5] = 100;
        let u = UdpDatagram::new_checked(&long).unwrap();
        assert!(u.is_short());
        assert_eq!(u.payload().len(), 4);
        assert!(UdpDatagram::new_checked(&d[..7]).is_err());
    }

    #[test]
    fn icmp_and_sctp() {
        let echo = [8, 0, 0xf7, 0xfd, 0x00, 0x01, 0x00, 0x02, 0x41];
        let m = IcmpMessage::new_checked(&echo).unwrap();
        assert_eq!(m.msg_type(), 8);
        assert_eq!(m.code(), 0);
        assert_eq!(m.rest_of_header(), 0x0001_0002);
        assert_eq!(m.payload(), b"A");
        assert!(icmpv4_is_error(3) && !icmpv4_is_error(8));
        assert!(icmpv6_is_error(1) && !icmpv6_is_error(128));

        let s = [0x00, 0x07, 0x00, 0x07, 0, 0, 0, 9, 0, 0, 0, 0, 1];
        let p = SctpPacket::new_checked(&s).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (7, 7));
        assert_eq!(p.verification_tag(), 9);
        assert_eq!(p.payload(), &[1]);
        assert!(SctpPacket::new_checked(&s[..11]).is_err());
    }
}
