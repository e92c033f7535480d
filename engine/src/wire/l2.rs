//! Link-layer views: Ethernet II, 802.1Q/ad tags, MPLS labels, PPPoE
//! sessions, Linux cooked captures (SLL, SLL2) and BSD NULL/LOOP.

use super::{DecodeError, be16, be32, mac};

/// An Ethernet II frame.
#[derive(Debug, Clone, Copy)]
pub struct EthernetFrame<'a> {
    buf: &'a [u8],
}

impl<'a> EthernetFrame<'a> {
    const DST: usize = 0;
    const SRC: usize = 6;
    const ETHERTYPE: usize = 12;
    /// Header length without tags.
    pub const HEADER_LEN: usize = 14;

    /// Checks that the 14-byte header is present.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::HEADER_LEN {
            return Err(DecodeError::EthernetTruncated);
        }
        Ok(EthernetFrame { buf })
    }
    /// Destination MAC.
    pub fn dst(&self) -> [u8; 6] {
        mac(self.buf, Self::DST)
    }
    /// Source MAC.
    pub fn src(&self) -> [u8; 6] {
        mac(self.buf, Self::SRC)
    }
    /// EtherType, or an 802.3 length when below 0x0600.
    pub fn ethertype(&self) -> u16 {
        be16(self.buf, Self::ETHERTYPE)
    }
    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[Self::HEADER_LEN..]
    }
}

/// One 802.1Q / 802.1ad tag: TCI then the inner EtherType.
#[derive(Debug, Clone, Copy)]
pub struct VlanTag<'a> {
    buf: &'a [u8],
}

impl<'a> VlanTag<'a> {
    const TCI: usize = 0;
    const ETHERTYPE: usize = 2;
    /// Tag length.
    pub const LEN: usize = 4;

    /// Checks the 4-byte tag is present.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::LEN {
            return Err(DecodeError::VlanTruncated);
        }
        Ok(VlanTag { buf })
    }
    /// The 12-bit VLAN identifier.
    pub fn vid(&self) -> u16 {
        be16(self.buf, Self::TCI) & 0x0fff
    }
    /// EtherType of what follows the tag.
    pub fn ethertype(&self) -> u16 {
        be16(self.buf, Self::ETHERTYPE)
    }
    /// Bytes after the tag.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[Self::LEN..]
    }
}

/// One MPLS label stack entry.
#[derive(Debug, Clone, Copy)]
pub struct MplsLabel<'a> {
    buf: &'a [u8],
}

impl<'a> MplsLabel<'a> {
    /// Entry length.
    pub const LEN: usize = 4;

    /// Checks the 4-byte entry is present.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::LEN {
            return Err(DecodeError::MplsTruncated);
        }
        Ok(MplsLabel { buf })
    }
    /// The 20-bit label.
    pub fn label(&self) -> u32 {
        be32(self.buf, 0) >> 12
    }
    /// Bottom-of-stack bit.
    pub fn bottom_of_stack(&self) -> bool {
        self.buf[2] & 0x01 != 0
    }
    /// Bytes after this entry.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[Self::LEN..]
    }
}

/// A PPPoE session-stage header followed by the PPP protocol field.
#[derive(Debug, Clone, Copy)]
pub struct PppoeSession<'a> {
    buf: &'a [u8],
}

impl<'a> PppoeSession<'a> {
    const VER_TYPE: usize = 0;
    const SESSION_ID: usize = 2;
    const LENGTH: usize = 4;
    const PPP_PROTO: usize = 6;
    /// PPPoE header (6) plus the 2-byte PPP protocol.
    pub const HEADER_LEN: usize = 8;

    /// Checks the header and that version and type are both 1.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::HEADER_LEN {
            return Err(DecodeError::PppoeTruncated);
        }
        if buf[Self::VER_TYPE] != 0x11 {
            return Err(DecodeError::PppoeBadVersion);
        }
        Ok(PppoeSession { buf })
    }
    /// Session identifier.
    pub fn session_id(&self) -> u16 {
        be16(self.buf, Self::SESSION_ID)
    }
    /// PPP protocol number (0x0021 IPv4, 0x0057 IPv6).
    pub fn ppp_protocol(&self) -> u16 {
        be16(self.buf, Self::PPP_PROTO)
    }
    /// PPP payload, trimmed to the PPPoE length field when it is consistent.
    pub fn payload(&self) -> &'a [u8] {
        let rest = &self.buf[Self::HEADER_LEN..];
        // The length field counts the PPP protocol field too.
        let declared = usize::from(be16(self.buf, Self::LENGTH)).saturating_sub(2);
        if declared <= rest.len() {
            &rest[..declared]
        } else {
            rest
        }
    }
}

/// PPP protocol numbers carried by PPPoE, PPTP's GRE, L2TP and PPP links.
pub mod ppp {
    /// IPv4.
    pub const IPV4: u16 = 0x0021;
    /// IPv6.
    pub const IPV6: u16 = 0x0057;
    /// MPLS unicast.
    pub const MPLS_UC: u16 = 0x0281;
    /// MPLS multicast.
    pub const MPLS_MC: u16 = 0x0283;
}

/// Splits a PPP frame into its protocol and payload: strips the optional
/// HDLC address/control bytes (`ff 03`) and reads a 1-byte (compressed,
/// RFC 1661 §6.5) or 2-byte protocol field.
pub fn ppp_frame(buf: &[u8]) -> Option<(u16, &[u8])> {
    let buf = match buf {
        [0xff, 0x03, rest @ ..] => rest,
        other => other,
    };
    match buf {
        [p, rest @ ..] if p & 1 == 1 => Some((u16::from(*p), rest)),
        [hi, lo, rest @ ..] => Some((u16::from_be_bytes([*hi, *lo]), rest)),
        _ => None,
    }
}

/// Linux cooked capture v1 (`LINKTYPE_LINUX_SLL`, 113).
#[derive(Debug, Clone, Copy)]
pub struct Sll<'a> {
    buf: &'a [u8],
}

impl<'a> Sll<'a> {
    const ARPHRD: usize = 2;
    const ADDR_LEN: usize = 4;
    const ADDR: usize = 6;
    const PROTOCOL: usize = 14;
    /// Header length.
    pub const HEADER_LEN: usize = 16;

    /// Checks the 16-byte header is present.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::HEADER_LEN {
            return Err(DecodeError::SllTruncated);
        }
        Ok(Sll { buf })
    }
    /// ARPHRD_ type of the interface.
    pub fn arphrd(&self) -> u16 {
        be16(self.buf, Self::ARPHRD)
    }
    /// Link-layer source address when it is a 6-byte MAC.
    pub fn src_mac(&self) -> Option<[u8; 6]> {
        (be16(self.buf, Self::ADDR_LEN) == 6).then(|| mac(self.buf, Self::ADDR))
    }
    /// Protocol: an EtherType for most interfaces.
    pub fn protocol(&self) -> u16 {
        be16(self.buf, Self::PROTOCOL)
    }
    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[Self::HEADER_LEN..]
    }
}

/// Linux cooked capture v2 (`LINKTYPE_LINUX_SLL2`, 276).
#[derive(Debug, Clone, Copy)]
pub struct Sll2<'a> {
    buf: &'a [u8],
}

impl<'a> Sll2<'a> {
    const PROTOCOL: usize = 0;
    const IFINDEX: usize = 4;
    const ARPHRD: usize = 8;
    const ADDR_LEN: usize = 11;
    const ADDR: usize = 12;
    /// Header length.
    pub const HEADER_LEN: usize = 20;

    /// Checks the 20-byte header is present.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::HEADER_LEN {
            return Err(DecodeError::SllTruncated);
        }
        Ok(Sll2 { buf })
    }
    /// Protocol: an EtherType for most interfaces.
    pub fn protocol(&self) -> u16 {
        be16(self.buf, Self::PROTOCOL)
    }
    /// Interface index the packet was captured on.
    pub fn ifindex(&self) -> u32 {
        be32(self.buf, Self::IFINDEX)
    }
    /// ARPHRD_ type of the interface.
    pub fn arphrd(&self) -> u16 {
        be16(self.buf, Self::ARPHRD)
    }
    /// Link-layer source address when it is a 6-byte MAC.
    pub fn src_mac(&self) -> Option<[u8; 6]> {
        (self.buf[Self::ADDR_LEN] == 6).then(|| mac(self.buf, Self::ADDR))
    }
    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[Self::HEADER_LEN..]
    }
}

/// SLL protocol values that are not EtherTypes.
pub mod sll_proto {
    /// Raw 802.3 frames (Novell).
    pub const ETH_P_802_3: u16 = 0x0001;
    /// 802.2 LLC frames.
    pub const ETH_P_802_2: u16 = 0x0004;
}

/// An IEEE 802.11 MAC frame.
#[derive(Debug, Clone, Copy)]
pub struct Ieee80211<'a> {
    buf: &'a [u8],
    header_len: usize,
}

impl<'a> Ieee80211<'a> {
    const FC_TYPE_DATA: u8 = 0x08;
    const FC_PROTECTED: u8 = 0x40;
    const FC_ORDER: u8 = 0x80;
    const TO_DS: u8 = 0x01;
    const FROM_DS: u8 = 0x02;

    /// Checks the MAC header (24 bytes, 30 with a fourth address, plus QoS
    /// and HT control fields when present).
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        // Control frames (ACK, CTS: 10 bytes; RTS: 16) have short headers
        // and never carry data.
        if buf.len() >= 10 && buf[0] & 0x0c == 0x04 {
            return Ok(Ieee80211 {
                buf,
                header_len: buf.len(),
            });
        }
        if buf.len() < 24 {
            return Err(DecodeError::LinkTruncated);
        }
        let (fc0, fc1) = (buf[0], buf[1]);
        let mut header_len = 24;
        if fc1 & (Self::TO_DS | Self::FROM_DS) == Self::TO_DS | Self::FROM_DS {
            header_len += 6;
        }
        let qos = fc0 & 0x0c == Self::FC_TYPE_DATA && fc0 & 0x80 != 0;
        if qos {
            header_len += 2;
            if fc1 & Self::FC_ORDER != 0 {
                header_len += 4;
            }
        }
        if buf.len() < header_len {
            return Err(DecodeError::LinkTruncated);
        }
        Ok(Ieee80211 { buf, header_len })
    }

    fn ds(&self) -> u8 {
        self.buf[1] & (Self::TO_DS | Self::FROM_DS)
    }

    fn is_control(&self) -> bool {
        self.buf[0] & 0x0c == 0x04
    }

    /// Source address (SA), by the DS bits (the transmitter for control
    /// frames that name one, else zeros).
    pub fn src(&self) -> [u8; 6] {
        if self.is_control() {
            return if self.buf.len() >= 16 {
                mac(self.buf, 10)
            } else {
                [0; 6]
            };
        }
        match self.ds() {
            0 | 1 => mac(self.buf, 10),
            2 => mac(self.buf, 16),
            _ => mac(self.buf, 24),
        }
    }

    /// Destination address (DA), by the DS bits (the receiver for control
    /// frames).
    pub fn dst(&self) -> [u8; 6] {
        if self.is_control() {
            return mac(self.buf, 4);
        }
        match self.ds() {
            0 | 2 => mac(self.buf, 4),
            _ => mac(self.buf, 16),
        }
    }

    /// For an unprotected data frame carrying LLC/SNAP: its EtherType and
    /// payload. `None` for management, control, null-data and encrypted
    /// frames.
    pub fn llc_payload(&self) -> Option<(u16, &'a [u8])> {
        let (fc0, fc1) = (self.buf[0], self.buf[1]);
        if self.is_control() || fc0 & 0x0c != Self::FC_TYPE_DATA || fc1 & Self::FC_PROTECTED != 0 {
            return None;
        }
        llc_snap(&self.buf[self.header_len..])
    }
}

/// An 802.2 LLC header with a SNAP extension (`AA AA 03`, an OUI, an
/// EtherType): the EtherType and what follows. `None` for other LLC
/// frames (spanning tree, NetBIOS...).
pub fn llc_snap(buf: &[u8]) -> Option<(u16, &[u8])> {
    match buf {
        [0xaa, 0xaa, 0x03, _, _, _, hi, lo, rest @ ..] => {
            Some((u16::from_be_bytes([*hi, *lo]), rest))
        }
        _ => None,
    }
}

/// An IEEE 802.1ah I-tag (4 bytes: priority, flags, the 24-bit service
/// id) and the inner frame's addresses: the inner EtherType and its
/// payload.
pub fn pbb_payload(buf: &[u8]) -> Option<(u16, &[u8])> {
    match buf {
        [_, _, _, _, rest @ ..] if rest.len() >= 14 => {
            Some((u16::from_be_bytes([rest[12], rest[13]]), &rest[14..]))
        }
        _ => None,
    }
}

/// Linux NFLOG (`LINKTYPE_NFLOG`): a 4-byte header (address family,
/// version, resource id), then TLVs of `length` (header included, padded
/// to 4) and `type`, both in the capturing host's byte order — taken as
/// little-endian unless that cannot be right. The packet is the payload
/// TLV (type 9).
pub fn nflog_payload(buf: &[u8]) -> Option<(u8, &[u8])> {
    const PAYLOAD: u16 = 9;
    let family = *buf.first()?;
    let mut rest = buf.get(4..)?;
    let little = match rest {
        [a, b, ..] => {
            let n = usize::from(u16::from_le_bytes([*a, *b]));
            (4..=rest.len()).contains(&n)
        }
        _ => return None,
    };
    while rest.len() >= 4 {
        let (len, ty) = if little {
            (
                u16::from_le_bytes([rest[0], rest[1]]),
                u16::from_le_bytes([rest[2], rest[3]]),
            )
        } else {
            (
                u16::from_be_bytes([rest[0], rest[1]]),
                u16::from_be_bytes([rest[2], rest[3]]),
            )
        };
        let len = usize::from(len);
        if len < 4 || len > rest.len() {
            return None;
        }
        if ty == PAYLOAD {
            return Some((family, &rest[4..len]));
        }
        rest = rest.get(len.next_multiple_of(4)..).unwrap_or_default();
    }
    None
}

/// A radiotap header in front of an 802.11 frame.
#[derive(Debug, Clone, Copy)]
pub struct Radiotap<'a> {
    buf: &'a [u8],
    len: usize,
    fcs: bool,
}

impl<'a> Radiotap<'a> {
    const PRESENT_FLAGS: u32 = 0x02;
    const FLAG_FCS: u8 = 0x10;

    /// Checks the header length and notes whether the frame ends in an FCS.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < 8 {
            return Err(DecodeError::LinkTruncated);
        }
        let len = usize::from(u16::from_le_bytes([buf[2], buf[3]]));
        if len < 8 || buf.len() < len {
            return Err(DecodeError::LinkTruncated);
        }
        let present = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
        // The flags field follows the TSFT field (8 bytes, 8-aligned) when
        // both are present; only the simple layouts are read, the FCS bit
        // defaults to absent otherwise.
        let mut fcs = false;
        if present & Self::PRESENT_FLAGS != 0 && present & 0x8000_0000 == 0 {
            let at = if present & 0x01 != 0 { 16 } else { 8 };
            if at < len {
                fcs = buf[at] & Self::FLAG_FCS != 0;
            }
        }
        Ok(Radiotap { buf, len, fcs })
    }

    /// The 802.11 frame (without a trailing FCS).
    pub fn frame(&self) -> &'a [u8] {
        let end = if self.fcs {
            self.buf.len().saturating_sub(4).max(self.len)
        } else {
            self.buf.len()
        };
        &self.buf[self.len..end]
    }
}

/// ARPHRD values whose SLL protocol field needs special handling.
pub mod arphrd {
    /// The interface is a GRE tunnel: the protocol field is GRE's.
    pub const IPGRE: u16 = 778;
    /// Netlink: never IP.
    pub const NETLINK: u16 = 824;
}

/// BSD NULL (`LINKTYPE_NULL`, host byte order) / LOOP (`LINKTYPE_LOOP`,
/// network byte order) 4-byte address-family header.
#[derive(Debug, Clone, Copy)]
pub struct NullHeader<'a> {
    buf: &'a [u8],
}

/// Address family carried by a NULL/LOOP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullFamily {
    /// AF_INET.
    Ipv4,
    /// AF_INET6 (10 on Linux, 24/28/30 on the BSDs and macOS).
    Ipv6,
}

impl<'a> NullHeader<'a> {
    /// Header length.
    pub const HEADER_LEN: usize = 4;

    /// Checks the 4-byte header is present.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < Self::HEADER_LEN {
            return Err(DecodeError::NullTruncated);
        }
        Ok(NullHeader { buf })
    }

    /// The family. The NULL header is in the *capturing host's* byte order,
    /// so both orders are tried: valid families are all below 256.
    pub fn family(&self) -> Result<NullFamily, DecodeError> {
        let raw = [self.buf[0], self.buf[1], self.buf[2], self.buf[3]];
        let be = u32::from_be_bytes(raw);
        let value = if be > 0xffff {
            u32::from_le_bytes(raw)
        } else {
            be
        };
        match value {
            2 => Ok(NullFamily::Ipv4),
            10 | 24 | 28 | 30 => Ok(NullFamily::Ipv6),
            _ => Err(DecodeError::NullUnknownFamily),
        }
    }
    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[Self::HEADER_LEN..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_fields() {
        let frame = [
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // dst
            0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, // src
            0x08, 0x00, // IPv4
            0xde, 0xad,
        ];
        let eth = EthernetFrame::new_checked(&frame).unwrap();
        assert_eq!(eth.dst(), [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
        assert_eq!(eth.src(), [0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb]);
        assert_eq!(eth.ethertype(), 0x0800);
        assert_eq!(eth.payload(), &[0xde, 0xad]);
        assert_eq!(
            EthernetFrame::new_checked(&frame[..13]).unwrap_err(),
            DecodeError::EthernetTruncated
        );
    }

    #[test]
    fn vlan_and_mpls() {
        let tag = VlanTag::new_checked(&[0x20, 0x64, 0x86, 0xdd, 0x01]).unwrap();
        assert_eq!(tag.vid(), 100);
        assert_eq!(tag.ethertype(), 0x86dd);
        assert_eq!(tag.payload(), &[0x01]);
        assert!(VlanTag::new_checked(&[0, 1, 2]).is_err());

        // label 16, tc 0, bottom of stack, ttl 64
        let lbl = MplsLabel::new_checked(&[0x00, 0x01, 0x01, 0x40]).unwrap();
        assert_eq!(lbl.label(), 16);
        assert!(lbl.bottom_of_stack());
        let lbl = MplsLabel::new_checked(&[0x00, 0x01, 0x00, 0x40]).unwrap();
        assert!(!lbl.bottom_of_stack());
    }

    #[test]
    fn pppoe_session() {
        let hdr = [
            0x11, 0x00, 0x12, 0x34, 0x00, 0x04, 0x00, 0x21, 0xaa, 0xbb, 0xcc,
        ];
        let p = PppoeSession::new_checked(&hdr).unwrap();
        assert_eq!(p.session_id(), 0x1234);
        assert_eq!(p.ppp_protocol(), ppp::IPV4);
        // Length 4 = protocol field (2) + 2 payload bytes: trailing padding dropped.
        assert_eq!(p.payload(), &[0xaa, 0xbb]);
        let mut bad = hdr;
        bad[0] = 0x21;
        assert_eq!(
            PppoeSession::new_checked(&bad).unwrap_err(),
            DecodeError::PppoeBadVersion
        );
    }

    #[test]
    fn ieee80211_data_frames() {
        // QoS data, to-DS: a1 = BSSID, a2 = SA, a3 = DA; then LLC/SNAP IPv4.
        let mut f = vec![0x88, 0x01, 0, 0];
        f.extend_from_slice(&[1, 1, 1, 1, 1, 1]);
        f.extend_from_slice(&[2, 2, 2, 2, 2, 2]);
        f.extend_from_slice(&[3, 3, 3, 3, 3, 3]);
        f.extend_from_slice(&[0, 0, 0, 0]); // seq, QoS
        f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45]);
        let h = Ieee80211::new_checked(&f).unwrap();
        assert_eq!(h.src(), [2; 6]);
        assert_eq!(h.dst(), [3; 6]);
        assert_eq!(h.llc_payload(), Some((0x0800, &[0x45u8][..])));
        let mut protected = f.clone();
        protected[1] |= 0x40;
        assert_eq!(
            Ieee80211::new_checked(&protected).unwrap().llc_payload(),
            None
        );
        let ack = [0xd4u8, 0, 0, 0, 9, 9, 9, 9, 9, 9];
        let a = Ieee80211::new_checked(&ack).unwrap();
        assert_eq!((a.dst(), a.llc_payload()), ([9; 6], None));
        let beacon = [0x80u8; 24];
        assert_eq!(Ieee80211::new_checked(&beacon).unwrap().llc_payload(), None);
        assert!(Ieee80211::new_checked(&f[..20]).is_err());

        // radiotap with flags (FCS present) in front
        let mut r = vec![0, 0, 9, 0, 0x02, 0, 0, 0, 0x10];
        r.extend_from_slice(&f);
        r.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let rt = Radiotap::new_checked(&r).unwrap();
        assert_eq!(rt.frame(), &f[..]);
    }

    #[test]
    fn ppp_frames() {
        assert_eq!(
            ppp_frame(&[0xff, 0x03, 0x00, 0x21, 0x45]),
            Some((ppp::IPV4, &[0x45u8][..]))
        );
        assert_eq!(
            ppp_frame(&[0x00, 0x57, 0x60]),
            Some((ppp::IPV6, &[0x60u8][..]))
        );
        assert_eq!(
            ppp_frame(&[0x21, 0x45]),
            Some((0x21, &[0x45u8][..])),
            "compressed protocol field"
        );
        assert_eq!(ppp_frame(&[0xff, 0x03]), None);
    }

    #[test]
    fn sll_v1_and_v2() {
        let sll = [
            0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00, 0x45,
        ];
        let s = Sll::new_checked(&sll).unwrap();
        assert_eq!(s.arphrd(), 1);
        assert_eq!(s.src_mac(), Some([1, 2, 3, 4, 5, 6]));
        assert_eq!(s.protocol(), 0x0800);
        assert_eq!(s.payload(), &[0x45]);

        let sll2 = [
            0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0x00, 0x01, 0x04, 0x06, 9, 8, 7, 6, 5, 4, 0, 0, 0x60,
        ];
        let s = Sll2::new_checked(&sll2).unwrap();
        assert_eq!(s.protocol(), 0x86dd);
        assert_eq!(s.ifindex(), 3);
        assert_eq!(s.arphrd(), 1);
        assert_eq!(s.src_mac(), Some([9, 8, 7, 6, 5, 4]));
        assert_eq!(s.payload(), &[0x60]);
        assert!(Sll2::new_checked(&sll2[..19]).is_err());
    }

    #[test]
    fn null_both_byte_orders() {
        let le = NullHeader::new_checked(&[2, 0, 0, 0]).unwrap();
        assert_eq!(le.family(), Ok(NullFamily::Ipv4));
        let be = NullHeader::new_checked(&[0, 0, 0, 30]).unwrap();
        assert_eq!(be.family(), Ok(NullFamily::Ipv6));
        let le6 = NullHeader::new_checked(&[24, 0, 0, 0]).unwrap();
        assert_eq!(le6.family(), Ok(NullFamily::Ipv6));
        let bad = NullHeader::new_checked(&[7, 0, 0, 0]).unwrap();
        assert_eq!(bad.family(), Err(DecodeError::NullUnknownFamily));
    }
}
