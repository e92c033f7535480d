//! Tunnel header views: GRE (v0 and PPTP's enhanced v1), ERSPAN types II
//! and III, VXLAN, Geneve, GTP-U (with its extension-header chain) and
//! Teredo's optional indicators.

use super::{DecodeError, be16, be32};

/// A GRE header (RFC 2784/2890 version 0, or RFC 2637 enhanced version 1).
#[derive(Debug, Clone, Copy)]
pub struct GreHeader<'a> {
    buf: &'a [u8],
    header_len: usize,
}

impl<'a> GreHeader<'a> {
    const FLAGS: usize = 0;
    const PROTOCOL: usize = 2;
    const OPTIONAL: usize = 4;
    const F_CHECKSUM: u16 = 0x8000;
    const F_ROUTING: u16 = 0x4000;
    const F_KEY: u16 = 0x2000;
    const F_SEQ: u16 = 0x1000;
    const F_STRICT_ROUTE: u16 = 0x0800;
    const RECURSION: u16 = 0x0700;
    const F_ACK_V1: u16 = 0x0080;
    const RESERVED_FLAGS: u16 = 0x0078;
    /// Source route entries walked before giving up.
    const MAX_SRE: usize = 16;

    /// Checks the header as Suricata does: version 0 with a recursion
    /// count or reserved flag bits, version 1 (RFC 2637) with checksum,
    /// routing, recursion or reserved flags or without its key, and other
    /// versions are refused. Version 0 source routing (RFC 1701) is walked:
    /// the checksum/offset word, then source route entries up to the null
    /// one.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < 4 {
            return Err(DecodeError::GreTruncated);
        }
        let flags = be16(buf, Self::FLAGS);
        let has = |f: u16| usize::from(flags & f != 0);
        let header_len = match flags & 0x7 {
            0 => {
                if flags & (Self::RECURSION | Self::RESERVED_FLAGS) != 0 {
                    return Err(DecodeError::GreUnsupported);
                }
                let fixed = 4
                    + 4 * usize::from(flags & (Self::F_CHECKSUM | Self::F_ROUTING) != 0)
                    + 4 * has(Self::F_KEY)
                    + 4 * has(Self::F_SEQ);
                if flags & Self::F_ROUTING == 0 {
                    fixed
                } else {
                    Self::routing_end(buf, fixed)?
                }
            }
            1 => {
                // Enhanced GRE always carries the key (payload length + call id).
                let refused = Self::F_CHECKSUM
                    | Self::F_ROUTING
                    | Self::F_STRICT_ROUTE
                    | Self::RECURSION
                    | Self::RESERVED_FLAGS;
                if flags & Self::F_KEY == 0 || flags & refused != 0 {
                    return Err(DecodeError::GreUnsupported);
                }
                8 + 4 * has(Self::F_SEQ) + 4 * has(Self::F_ACK_V1)
            }
            _ => return Err(DecodeError::GreUnsupported),
        };
        if buf.len() < header_len {
            return Err(DecodeError::GreTruncated);
        }
        Ok(GreHeader { buf, header_len })
    }

    /// End of the source route entries that start at `at`: each is an
    /// address family (2 bytes), an offset and a length (1 byte each) and
    /// `length` bytes of routing information; family 0 with length 0 ends
    /// the list.
    fn routing_end(buf: &[u8], mut at: usize) -> Result<usize, DecodeError> {
        for _ in 0..Self::MAX_SRE {
            let sre = buf.get(at..at + 4).ok_or(DecodeError::GreTruncated)?;
            let (family, len) = (be16(sre, 0), usize::from(sre[3]));
            at += 4 + len;
            if family == 0 && len == 0 {
                return Ok(at);
            }
        }
        Err(DecodeError::GreUnsupported)
    }
    /// GRE version (0 or 1).
    pub fn version(&self) -> u8 {
        (be16(self.buf, Self::FLAGS) & 0x7) as u8
    }
    /// Protocol type (an EtherType).
    pub fn protocol(&self) -> u16 {
        be16(self.buf, Self::PROTOCOL)
    }
    /// Whether the sequence-number field is present.
    pub fn has_sequence(&self) -> bool {
        be16(self.buf, Self::FLAGS) & Self::F_SEQ != 0
    }
    /// The key field, when present. For version 1 this is the PPTP call id.
    pub fn key(&self) -> Option<u32> {
        let flags = be16(self.buf, Self::FLAGS);
        if flags & Self::F_KEY == 0 {
            return None;
        }
        if self.version() == 1 {
            return Some(u32::from(be16(self.buf, Self::OPTIONAL + 2)));
        }
        let at =
            Self::OPTIONAL + 4 * usize::from(flags & (Self::F_CHECKSUM | Self::F_ROUTING) != 0);
        Some(be32(self.buf, at))
    }
    /// Header length in bytes.
    pub fn header_len(&self) -> usize {
        self.header_len
    }
    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len..]
    }
}

/// An ERSPAN header carried in GRE: type II (8 bytes) or type III (12 bytes,
/// plus an 8-byte platform sub-header when its O flag is set).
#[derive(Debug, Clone, Copy)]
pub struct ErspanHeader<'a> {
    buf: &'a [u8],
    header_len: usize,
}

impl<'a> ErspanHeader<'a> {
    /// Type II header length.
    pub const TYPE2_LEN: usize = 8;
    /// Type III header length without the platform sub-header.
    pub const TYPE3_LEN: usize = 12;

    /// Checks a type II header (version field 1).
    pub fn new_type2(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::TYPE2_LEN {
            return Err(DecodeError::ErspanTruncated);
        }
        if buf[0] >> 4 != 1 {
            return Err(DecodeError::GreUnsupported);
        }
        Ok(ErspanHeader {
            buf,
            header_len: Self::TYPE2_LEN,
        })
    }
    /// Checks a type III header (version field 2).
    pub fn new_type3(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::TYPE3_LEN {
            return Err(DecodeError::ErspanTruncated);
        }
        if buf[0] >> 4 != 2 {
            return Err(DecodeError::GreUnsupported);
        }
        let header_len = Self::TYPE3_LEN + 8 * usize::from(buf[11] & 0x01 != 0);
        if buf.len() < header_len {
            return Err(DecodeError::ErspanTruncated);
        }
        Ok(ErspanHeader { buf, header_len })
    }
    /// The 10-bit session id.
    pub fn session_id(&self) -> u16 {
        be16(self.buf, 2) & 0x03ff
    }
    /// The original VLAN id of the mirrored frame.
    pub fn vlan(&self) -> u16 {
        be16(self.buf, 0) & 0x0fff
    }
    /// The mirrored Ethernet frame.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len..]
    }
}

/// A VXLAN header (RFC 7348).
#[derive(Debug, Clone, Copy)]
pub struct VxlanHeader<'a> {
    buf: &'a [u8],
}

impl<'a> VxlanHeader<'a> {
    /// Header length.
    pub const HEADER_LEN: usize = 8;
    const FLAG_VNI_VALID: u8 = 0x08;

    /// Checks the header: the VNI-valid flag set and the byte after the VNI
    /// (reserved) zero, as Suricata requires; otherwise the datagram is
    /// not VXLAN (some other protocol on the port).
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::HEADER_LEN {
            return Err(DecodeError::VxlanTruncated);
        }
        if buf[0] & Self::FLAG_VNI_VALID == 0 || buf[7] != 0 {
            return Err(DecodeError::TunnelInnerInvalid);
        }
        Ok(VxlanHeader { buf })
    }
    /// The 24-bit VXLAN network identifier.
    pub fn vni(&self) -> u32 {
        be32(self.buf, 4) >> 8
    }
    /// The inner Ethernet frame.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[Self::HEADER_LEN..]
    }
}

/// A Geneve header (RFC 8926) with its options skipped.
#[derive(Debug, Clone, Copy)]
pub struct GeneveHeader<'a> {
    buf: &'a [u8],
    header_len: usize,
}

impl<'a> GeneveHeader<'a> {
    const BASE_LEN: usize = 8;

    /// Checks what Suricata checks: version 0, the reserved flag bits and
    /// the byte after the VNI zero, and options that fit and fill exactly
    /// the length the header gives them (each is 4 bytes plus its length
    /// field in words).
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::BASE_LEN || buf[0] >> 6 != 0 || buf[1] & 0x3f != 0 || buf[7] != 0 {
            return Err(DecodeError::GeneveInvalid);
        }
        let header_len = Self::BASE_LEN + usize::from(buf[0] & 0x3f) * 4;
        if buf.len() < header_len {
            return Err(DecodeError::GeneveInvalid);
        }
        let mut at = Self::BASE_LEN;
        while at < header_len {
            at += 4 + usize::from(buf[at + 3] & 0x1f) * 4;
        }
        if at != header_len {
            return Err(DecodeError::GeneveInvalid);
        }
        Ok(GeneveHeader { buf, header_len })
    }
    /// Protocol of the payload (an EtherType; 0x6558 for Ethernet).
    pub fn protocol(&self) -> u16 {
        be16(self.buf, 2)
    }
    /// The 24-bit virtual network identifier.
    pub fn vni(&self) -> u32 {
        be32(self.buf, 4) >> 8
    }
    /// Bytes after the header and its options.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len..]
    }
}

/// A GTPv1-U header with its optional fields and extension headers walked.
#[derive(Debug, Clone, Copy)]
pub struct GtpuHeader<'a> {
    buf: &'a [u8],
    header_len: usize,
    end: usize,
}

impl<'a> GtpuHeader<'a> {
    const FLAGS: usize = 0;
    const MSG_TYPE: usize = 1;
    const LENGTH: usize = 2;
    const TEID: usize = 4;
    const BASE_LEN: usize = 8;
    const F_EXT: u8 = 0x04;
    const F_ANY_OPTIONAL: u8 = 0x07;
    /// The message type that carries a user packet.
    pub const MSG_G_PDU: u8 = 0xff;
    /// Bound on the extension-header chain.
    pub const MAX_EXTENSIONS: usize = 8;

    /// Checks version 1 / protocol type GTP and walks the optional fields
    /// and extension headers. Returns `Ok(None)` for a valid GTP-U header
    /// that carries no user packet (echo, error indication, end marker).
    pub fn new_checked(buf: &'a [u8]) -> Result<Option<Self>, DecodeError> {
        if buf.len() < Self::BASE_LEN {
            return Err(DecodeError::GtpTruncated);
        }
        let flags = buf[Self::FLAGS];
        if flags >> 5 != 1 || flags & 0x10 == 0 {
            return Err(DecodeError::TunnelInnerInvalid);
        }
        let end = (Self::BASE_LEN + usize::from(be16(buf, Self::LENGTH))).min(buf.len());
        let mut header_len = Self::BASE_LEN;
        if flags & Self::F_ANY_OPTIONAL != 0 {
            header_len += 4;
            if end < header_len {
                return Err(DecodeError::GtpTruncated);
            }
            if flags & Self::F_EXT != 0 {
                let mut next = buf[header_len - 1];
                let mut walked = 0;
                while next != 0 {
                    walked += 1;
                    if walked > Self::MAX_EXTENSIONS || end <= header_len {
                        return Err(DecodeError::GtpTruncated);
                    }
                    let ext_len = usize::from(buf[header_len]) * 4;
                    if ext_len == 0 || end < header_len + ext_len {
                        return Err(DecodeError::GtpTruncated);
                    }
                    header_len += ext_len;
                    next = buf[header_len - 1];
                }
            }
        }
        if buf[Self::MSG_TYPE] != Self::MSG_G_PDU {
            return Ok(None);
        }
        Ok(Some(GtpuHeader {
            buf,
            header_len,
            end,
        }))
    }
    /// Tunnel endpoint identifier.
    pub fn teid(&self) -> u32 {
        be32(self.buf, Self::TEID)
    }
    /// The user packet (T-PDU).
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len..self.end]
    }
}

/// An L2TPv2 data message header (RFC 2661 §3.1).
#[derive(Debug, Clone, Copy)]
pub struct L2tpHeader<'a> {
    buf: &'a [u8],
    header_len: usize,
    ids_at: usize,
}

impl<'a> L2tpHeader<'a> {
    const F_TYPE: u16 = 0x8000;
    const F_LENGTH: u16 = 0x4000;
    const F_SEQUENCE: u16 = 0x0800;
    const F_OFFSET: u16 = 0x0200;

    /// Checks a version-2 data message. Returns `Ok(None)` for a control
    /// message (which carries no user packet).
    pub fn new_checked(buf: &'a [u8]) -> Result<Option<Self>, DecodeError> {
        if buf.len() < 6 {
            return Err(DecodeError::TunnelInnerInvalid);
        }
        let flags = be16(buf, 0);
        if flags & 0x000f != 2 {
            return Err(DecodeError::TunnelInnerInvalid);
        }
        if flags & Self::F_TYPE != 0 {
            return Ok(None);
        }
        let mut at = 2 + 2 * usize::from(flags & Self::F_LENGTH != 0);
        let ids_at = at;
        at += 4;
        if flags & Self::F_SEQUENCE != 0 {
            at += 4;
        }
        if flags & Self::F_OFFSET != 0 {
            if buf.len() < at + 2 {
                return Err(DecodeError::TunnelInnerInvalid);
            }
            at += 2 + usize::from(be16(buf, at));
        }
        if buf.len() < at {
            return Err(DecodeError::TunnelInnerInvalid);
        }
        Ok(Some(L2tpHeader {
            buf,
            header_len: at,
            ids_at,
        }))
    }
    /// Tunnel id (high 16 bits) and session id (low 16 bits).
    pub fn ids(&self) -> u32 {
        be32(self.buf, self.ids_at)
    }
    /// The PPP frame.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len..]
    }
}

/// The IPv6 packet a Teredo datagram carries (RFC 4380), when it
/// validates as Suricata validates it: an origin indication (`00 00`, 8
/// bytes) is stepped over; an authentication indicator (`00 01`) means
/// qualification, not a tunnelled packet; the packet must be version 6
/// with a non-zero hop limit, a payload length that accounts for every
/// remaining byte, and not a hop-by-hop header too short to hold. A bubble
/// (no next header, no payload) only keeps a NAT mapping open: it carries
/// no conversation and stays the UDP flow it travelled in.
pub fn teredo_inner(buf: &[u8]) -> Option<&[u8]> {
    const ORIGIN_INDICATION: usize = 8;
    let ip6 = match buf {
        [0, 0, ..] => buf.get(ORIGIN_INDICATION..)?,
        [0, ..] => return None,
        _ => buf,
    };
    if ip6.len() < 40 || ip6[0] >> 4 != 6 {
        return None;
    }
    let payload_len = usize::from(be16(ip6, 4));
    let (next_header, hop_limit) = (ip6[6], ip6[7]);
    let bubble = next_header == super::ipproto::NO_NEXT && payload_len == 0;
    let bogus = hop_limit == 0 || (next_header == super::ipproto::HOPOPT && payload_len < 8);
    (40 + payload_len == ip6.len() && !bubble && !bogus).then_some(ip6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gre_v0_with_key_and_seq() {
        // C K S set: checksum(4) key(4) seq(4) -> 16-byte header
        let h = [
            0xb0, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x2a, 0, 0, 0, 7, 0x45,
        ];
        let g = GreHeader::new_checked(&h).unwrap();
        assert_eq!(g.version(), 0);
        assert_eq!(g.protocol(), 0x0800);
        assert_eq!(g.key(), Some(42));
        assert!(g.has_sequence());
        assert_eq!(g.header_len(), 16);
        assert_eq!(g.payload(), &[0x45]);
        assert!(GreHeader::new_checked(&h[..15]).is_err());
    }

    #[test]
    fn gre_v1_pptp_and_refusals() {
        // K S A, version 1, PPP: key = len 0x0010, call id 0x1234
        let h = [
            0x30, 0x81, 0x88, 0x0b, 0x00, 0x10, 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 2, 0xff,
        ];
        let g = GreHeader::new_checked(&h).unwrap();
        assert_eq!(g.version(), 1);
        assert_eq!(g.key(), Some(0x1234));
        assert_eq!(g.header_len(), 16);
        assert_eq!(g.payload(), &[0xff]);
        // routing bit in v0 without the source route entries it announces
        assert_eq!(
            GreHeader::new_checked(&[0x40, 0, 8, 0]).unwrap_err(),
            DecodeError::GreTruncated
        );
        // version 2
        assert_eq!(
            GreHeader::new_checked(&[0x00, 2, 8, 0]).unwrap_err(),
            DecodeError::GreUnsupported
        );
    }

    #[test]
    fn erspan_types() {
        let t2 = [0x10, 0x64, 0x00, 0x05, 0, 0, 0, 0, 0xee];
        let e = ErspanHeader::new_type2(&t2).unwrap();
        assert_eq!(e.vlan(), 100);
        assert_eq!(e.session_id(), 5);
        assert_eq!(e.payload(), &[0xee]);
        let mut t3 = vec![0x20, 0x00, 0x00, 0x09, 0, 0, 0, 0, 0, 0, 0, 0x01];
        t3.extend_from_slice(&[0; 8]);
        t3.push(0xdd);
        let e = ErspanHeader::new_type3(&t3).unwrap();
        assert_eq!(e.session_id(), 9);
        assert_eq!(e.payload(), &[0xdd]);
        assert!(ErspanHeader::new_type3(&t3[..15]).is_err());
        assert!(ErspanHeader::new_type2(&t3).is_err());
    }

    #[test]
    fn vxlan_and_geneve() {
        let v = [0x08, 0, 0, 0, 0x00, 0x01, 0x23, 0x00, 0xaa];
        let h = VxlanHeader::new_checked(&v).unwrap();
        assert_eq!(h.vni(), 0x123);
        assert_eq!(h.payload(), &[0xaa]);
        assert!(VxlanHeader::new_checked(&[0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        // The byte after the VNI is reserved: set, the datagram is not VXLAN.
        let reserved = [0x08, 0, 0, 0, 0x00, 0x01, 0x23, 0x05, 0xaa];
        assert!(VxlanHeader::new_checked(&reserved).is_err());

        // One option of 4 bytes: class 0x0102, type 3, no data.
        let g = [
            0x01, 0x00, 0x65, 0x58, 0x00, 0x00, 0x07, 0x00, 0x01, 0x02, 0x03, 0x00, 0xbb,
        ];
        let h = GeneveHeader::new_checked(&g).unwrap();
        assert_eq!(h.protocol(), 0x6558);
        assert_eq!(h.vni(), 7);
        assert_eq!(h.payload(), &[0xbb]);
        assert!(GeneveHeader::new_checked(&g[..11]).is_err());
        let mut bad = g;
        bad[0] = 0x41; // version 1
        assert!(GeneveHeader::new_checked(&bad).is_err());
        let mut bad = g;
        bad[1] = 0x01; // a reserved flag bit
        assert!(GeneveHeader::new_checked(&bad).is_err());
        let mut bad = g;
        bad[7] = 0x01; // the reserved byte after the VNI
        assert!(GeneveHeader::new_checked(&bad).is_err());
        let mut bad = g;
        bad[11] = 0x01; // the option claims 4 data bytes the header has no room for
        assert!(GeneveHeader::new_checked(&bad).is_err());
        // Two options, 8 and 4 bytes, filling the 3 words exactly.
        let two = [
            0x03, 0x00, 0x08, 0x00, 0x00, 0x00, 0x09, 0x00, 0x01, 0x02, 0x03, 0x01, 9, 9, 9, 9,
            0x01, 0x02, 0x04, 0x00, 0x45,
        ];
        let h = GeneveHeader::new_checked(&two).unwrap();
        assert_eq!(
            (h.protocol(), h.vni(), h.payload()),
            (0x0800, 9, &[0x45u8][..])
        );
    }

    #[test]
    fn gre_source_routing_and_refused_flags() {
        // R set: checksum/offset word, one IPv4 SRE (4 bytes of address),
        // then the null SRE; the key follows the checksum word.
        let h = [
            0x60, 0x00, 0x08, 0x00, // R K, IPv4
            0x00, 0x00, 0x00, 0x00, // checksum, offset
            0x00, 0x00, 0x00, 0x2a, // key 42
            0x08, 0x00, 0x00, 0x04, 10, 0, 0, 1, // SRE: family IPv4, length 4
            0x00, 0x00, 0x00, 0x00, // null SRE
            0x45,
        ];
        let g = GreHeader::new_checked(&h).unwrap();
        assert_eq!(g.key(), Some(42));
        assert_eq!(g.header_len(), 24);
        assert_eq!(g.payload(), &[0x45]);
        // The SRE list runs off the end.
        assert_eq!(
            GreHeader::new_checked(&h[..18]).unwrap_err(),
            DecodeError::GreTruncated
        );
        // Version 0 with a recursion count or reserved flag bits.
        for flags in [0x0100u16, 0x0040] {
            let f = flags.to_be_bytes();
            assert_eq!(
                GreHeader::new_checked(&[f[0], f[1], 0x08, 0x00]).unwrap_err(),
                DecodeError::GreUnsupported
            );
        }
        // Version 1 with strict source routing, or without its key.
        for flags in [0x2881u16, 0x1001] {
            let f = flags.to_be_bytes();
            let h = [f[0], f[1], 0x88, 0x0b, 0, 0, 0, 1, 0, 0, 0, 1];
            assert_eq!(
                GreHeader::new_checked(&h).unwrap_err(),
                DecodeError::GreUnsupported
            );
        }
    }

    #[test]
    fn gtpu_plain_and_extensions() {
        // version 1, PT, no optional: length 2, TEID 0x01020304
        let g = [0x30, 0xff, 0x00, 0x02, 1, 2, 3, 4, 0x45, 0x00, 0x99];
        let h = GtpuHeader::new_checked(&g).unwrap().unwrap();
        assert_eq!(h.teid(), 0x0102_0304);
        assert_eq!(h.payload(), &[0x45, 0x00]);

        // E flag: seq/npdu/next=0x85, one 4-byte PDU session container, next 0
        let g = [
            0x34, 0xff, 0x00, 0x09, 0, 0, 0, 9, 0, 0, 0, 0x85, 0x01, 0x10, 0x05, 0x00, 0x60,
        ];
        let h = GtpuHeader::new_checked(&g).unwrap().unwrap();
        assert_eq!(h.payload(), &[0x60]);

        // echo request: valid header, no user packet
        let echo = [0x32, 0x01, 0x00, 0x04, 0, 0, 0, 0, 0, 1, 0, 0];
        assert!(GtpuHeader::new_checked(&echo).unwrap().is_none());

        // extension length 0 is a loop hazard: refused
        let bad = [
            0x34, 0xff, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x85, 0x00, 0, 0, 0,
        ];
        assert!(GtpuHeader::new_checked(&bad).is_err());
        // not version 1
        assert!(GtpuHeader::new_checked(&[0x50, 0xff, 0, 0, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn l2tp_data_and_control() {
        // L and S flags, version 2: length, tunnel 7, session 9, Ns, Nr.
        let d = [
            0x48, 0x02, 0x00, 0x10, 0x00, 0x07, 0x00, 0x09, 0, 1, 0, 2, 0xff, 0x03,
        ];
        let h = L2tpHeader::new_checked(&d).unwrap().unwrap();
        assert_eq!(h.ids(), 0x0007_0009);
        assert_eq!(h.payload(), &[0xff, 0x03]);
        // Offset field: 2 bytes of padding skipped.
        let d = [
            0x02, 0x02, 0x00, 0x01, 0x00, 0x02, 0x00, 0x02, 0xaa, 0xbb, 0x21,
        ];
        assert_eq!(
            L2tpHeader::new_checked(&d).unwrap().unwrap().payload(),
            &[0x21]
        );
        // Control message.
        let c = [0xc8, 0x02, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(L2tpHeader::new_checked(&c).unwrap().is_none());
        // Version 3 / garbage.
        assert!(L2tpHeader::new_checked(&[0x00, 0x03, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn teredo_indicators() {
        let mut ip6 = vec![0x60, 0, 0, 0, 0, 2, 59, 64];
        ip6.extend_from_slice(&[0; 32]);
        ip6.extend_from_slice(&[7, 7]);
        assert_eq!(teredo_inner(&ip6), Some(&ip6[..]));
        let mut with_origin = vec![0, 0, 0x12, 0x34, 1, 2, 3, 4];
        with_origin.extend_from_slice(&ip6);
        assert_eq!(teredo_inner(&with_origin), Some(&ip6[..]));
        // An authentication indicator is qualification, not a tunnelled packet.
        let mut with_auth = vec![0, 1, 0, 0];
        with_auth.extend_from_slice(&[0; 9]);
        with_auth.extend_from_slice(&ip6);
        assert_eq!(teredo_inner(&with_auth), None);
        // A bubble: no next header, no payload.
        let mut bubble = vec![0x60, 0, 0, 0, 0, 0, 59, 64];
        bubble.extend_from_slice(&[0; 32]);
        assert_eq!(teredo_inner(&bubble), None);
        let mut origin_bubble = with_origin[..8].to_vec();
        origin_bubble.extend_from_slice(&bubble);
        assert_eq!(teredo_inner(&origin_bubble), None);
        // Hop limit 0, or a hop-by-hop header with too little room for it.
        let mut hlim0 = ip6.clone();
        hlim0[7] = 0;
        assert_eq!(teredo_inner(&hlim0), None);
        let mut hbh = ip6.clone();
        hbh[6] = 0;
        assert_eq!(teredo_inner(&hbh), None);
        // payload length disagreeing with the bytes: not Teredo
        let mut wrong = ip6.clone();
        wrong.push(0);
        assert_eq!(teredo_inner(&wrong), None);
        assert_eq!(teredo_inner(b"GET / HTTP/1.1\r\n"), None);
    }
}
