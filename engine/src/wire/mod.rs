//! Zero-copy, checked-once views over protocol headers.
//!
//! Each view is built by a `new_checked` constructor that validates every
//! length the accessors rely on; after that the accessors are infallible and
//! read fixed offsets (named constants) straight from the borrowed bytes.
//! Nothing here allocates. The layer walker that strings these views together
//! lives in [`crate::decode`].

pub mod ip;
pub mod l2;
pub mod transport;
pub mod tunnel;

use std::fmt;

crate::named::named_enum! {
    /// Why a packet (or one of its layers) could not be decoded.
    ///
    /// Every variant has a stable dotted name ([`DecodeError::name`]) used in
    /// anomaly records and counters, in the style of Suricata's decoder events.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    #[non_exhaustive]
    pub enum DecodeError {
        /// Stable dotted name, e.g. `"ipv4.trunc_pkt"`.
        fn name;
        /// Whether the error means "the bytes ran out" (as opposed to a
        /// field holding an impossible value). Such errors on a packet
        /// that the capture cut short (caplen < wire length) are snaplen
        /// cuts, not malformations.
        fn is_truncation -> bool;
        /// Ethernet header shorter than 14 bytes.
        EthernetTruncated => "ethernet.trunc_pkt", true;
        /// 802.1Q/802.1ad tag cut short.
        VlanTruncated => "vlan.trunc_pkt", true;
        /// MPLS label stack cut short.
        MplsTruncated => "mpls.trunc_pkt", true;
        /// MPLS label stack deeper than the decoder follows.
        MplsTooManyLabels => "mpls.too_many_labels", false;
        /// MPLS payload that is neither IPv4, IPv6 nor an Ethernet pseudowire.
        MplsUnknownPayload => "mpls.unknown_payload_type", false;
        /// PPPoE session header cut short.
        PppoeTruncated => "pppoe.trunc_pkt", true;
        /// PPPoE header with a version/type other than 1/1.
        PppoeBadVersion => "pppoe.wrong_version", false;
        /// Linux cooked capture (SLL/SLL2) header cut short.
        SllTruncated => "sll.trunc_pkt", true;
        /// BSD NULL/LOOP header cut short.
        NullTruncated => "null.trunc_pkt", true;
        /// BSD NULL/LOOP address family that is not IPv4/IPv6.
        NullUnknownFamily => "null.unsupported_family", false;
        /// IPv4 header cut short.
        Ipv4Truncated => "ipv4.trunc_pkt", true;
        /// IP version nibble does not match the layer.
        IpBadVersion => "ip.wrong_version", false;
        /// IPv4 header length below 20 bytes or beyond the packet.
        Ipv4BadHeaderLength => "ipv4.hlen_invalid", false;
        /// IPv4 total length smaller than the header.
        Ipv4BadTotalLength => "ipv4.iplen_smaller_than_hlen", false;
        /// IPv4 fragment that would end beyond 65535 bytes.
        Ipv4FragmentTooLarge => "ipv4.frag_pkt_too_large", false;
        /// IPv6 fixed header cut short.
        Ipv6Truncated => "ipv6.trunc_pkt", true;
        /// IPv6 extension header cut short.
        Ipv6ExtensionTruncated => "ipv6.trunc_exthdr", true;
        /// More IPv6 extension headers than the configured bound.
        Ipv6TooManyExtensions => "ipv6.exthdr_limit", false;
        /// IPv6 fragment that would end beyond 65535 bytes.
        Ipv6FragmentTooLarge => "ipv6.frag_pkt_too_large", false;
        /// TCP header cut short.
        TcpTruncated => "tcp.trunc_pkt", true;
        /// TCP data offset below 5 words or beyond the segment.
        TcpBadDataOffset => "tcp.hlen_invalid", false;
        /// UDP header cut short.
        UdpTruncated => "udp.trunc_pkt", true;
        /// UDP length field smaller than the header.
        UdpBadLength => "udp.len_invalid", false;
        /// ICMP/ICMPv6 header cut short.
        IcmpTruncated => "icmp.trunc_pkt", true;
        /// SCTP common header cut short.
        SctpTruncated => "sctp.trunc_pkt", true;
        /// GRE header cut short.
        GreTruncated => "gre.trunc_pkt", true;
        /// GRE version or flag combination the decoder does not follow.
        GreUnsupported => "gre.unsupported", false;
        /// ERSPAN header cut short.
        ErspanTruncated => "erspan.trunc_pkt", true;
        /// VXLAN header cut short.
        VxlanTruncated => "vxlan.trunc_pkt", true;
        /// Geneve header cut short or with a bad version.
        GeneveInvalid => "geneve.invalid", false;
        /// GTP-U header or extension chain cut short.
        GtpTruncated => "gtpu.trunc_pkt", true;
        /// AH header cut short.
        AhTruncated => "ah.trunc_pkt", true;
        /// Tunnel payload that failed to decode as the inner packet.
        TunnelInnerInvalid => "tunnel.inner_invalid", false;
        /// Captured bytes end inside a header (snaplen truncation).
        CaptureTruncated => "capture.snaplen_cut", false;
        /// A link type the decoder does not know.
        UnsupportedLinkType => "link.unsupported", false;
        /// A PPP, Cisco HDLC, PPI or ipnet header cut short.
        LinkTruncated => "link.trunc_pkt", true;
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for DecodeError {}

// Callers have checked the lengths in `new_checked`; these panic (a bug,
// not bad input) if not. One range check and one load each: indexing the
// bytes one by one costs a check per byte, which the compiler cannot merge
// (each would panic with its own index).

/// Big-endian u16 at `at`.
#[inline(always)]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(b[at..at + 2].try_into().unwrap_or_default())
}

/// Big-endian u32 at `at`.
#[inline(always)]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap_or_default())
}

/// Six bytes at `at` as a MAC address.
#[inline(always)]
pub(crate) fn mac(b: &[u8], at: usize) -> [u8; 6] {
    let mut m = [0u8; 6];
    m.copy_from_slice(&b[at..at + 6]);
    m
}

/// Well-known EtherType values the decoder dispatches on.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// IEEE 802.1Q VLAN tag (C-tag).
    pub const VLAN: u16 = 0x8100;
    /// IEEE 802.1ad service VLAN tag (QinQ outer).
    pub const QINQ: u16 = 0x88a8;
    /// Pre-standard QinQ tag used by some vendors.
    pub const QINQ_OLD: u16 = 0x9100;
    /// IEEE 802.1ah provider backbone bridging (an I-tag, then the
    /// encapsulated frame).
    pub const PBB: u16 = 0x88e7;
    /// Values up to this are an IEEE 802.3 length, not an EtherType: an
    /// 802.2 LLC header follows.
    pub const MAX_8023_LENGTH: u16 = 1500;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// MPLS unicast.
    pub const MPLS_UC: u16 = 0x8847;
    /// MPLS multicast.
    pub const MPLS_MC: u16 = 0x8848;
    /// PPPoE discovery stage.
    pub const PPPOE_DISCOVERY: u16 = 0x8863;
    /// PPPoE session stage.
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// Transparent Ethernet bridging (Ethernet inside GRE/Geneve).
    pub const TEB: u16 = 0x6558;
    /// ERSPAN type I/II inside GRE.
    pub const ERSPAN_II: u16 = 0x88be;
    /// ERSPAN type III inside GRE.
    pub const ERSPAN_III: u16 = 0x22eb;
    /// PPP inside GRE (PPTP, enhanced GRE version 1).
    pub const PPP: u16 = 0x880b;
    /// Cisco WCCP redirection inside GRE.
    pub const WCCP: u16 = 0x883e;
}

/// IP protocol numbers the decoder dispatches on.
pub mod ipproto {
    /// IPv6 hop-by-hop options.
    pub const HOPOPT: u8 = 0;
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// IPv4 encapsulation (IP-in-IP, 4in6).
    pub const IPIP: u8 = 4;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 encapsulation (6in4, 6in6).
    pub const IPV6: u8 = 41;
    /// IPv6 routing header.
    pub const ROUTING: u8 = 43;
    /// IPv6 fragment header.
    pub const FRAGMENT: u8 = 44;
    /// GRE.
    pub const GRE: u8 = 47;
    /// ESP.
    pub const ESP: u8 = 50;
    /// Authentication header.
    pub const AH: u8 = 51;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// IPv6 "no next header".
    pub const NO_NEXT: u8 = 59;
    /// IPv6 destination options.
    pub const DSTOPTS: u8 = 60;
    /// Mobility header.
    pub const MOBILITY: u8 = 135;
    /// SCTP.
    pub const SCTP: u8 = 132;
    /// Host identity protocol (an IPv6 extension header).
    pub const HIP: u8 = 139;
    /// Shim6 (an IPv6 extension header).
    pub const SHIM6: u8 = 140;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_are_unique_and_indexed() {
        let mut names: Vec<_> = DecodeError::ALL.iter().map(|e| e.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DecodeError::ALL.len());
        for (i, e) in DecodeError::ALL.iter().enumerate() {
            assert_eq!(e.index(), i);
        }
    }

    #[test]
    fn byte_readers() {
        let b = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc];
        assert_eq!(be16(&b, 1), 0x3456);
        assert_eq!(be32(&b, 2), 0x5678_9abc);
        assert_eq!(mac(&b, 0), b);
    }
}
