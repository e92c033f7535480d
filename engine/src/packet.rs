//! What a packet looks like going into the engine ([`RawPacket`]) and after
//! decoding ([`PacketView`]): plain `Copy` structs borrowing the packet
//! bytes, filled without allocating.

use crate::timestamp::Timestamp;
use crate::wire::transport::TcpSegment;
use std::fmt;
use std::net::IpAddr;

/// A pcap link-layer type (`LINKTYPE_*` value).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback, host byte order family.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II.
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP (the value `DLT_RAW` has on some BSDs).
    pub const RAW_12: LinkType = LinkType(12);
    /// Raw IP (the value `DLT_RAW` has on OpenBSD).
    pub const RAW_14: LinkType = LinkType(14);
    /// Raw IP (`LINKTYPE_RAW`).
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback, network byte order family.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux cooked capture v1.
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4 only.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6 only.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: LinkType = LinkType(276);
    /// PPP (RFC 1661), optionally with HDLC address/control bytes.
    pub const PPP: LinkType = LinkType(9);
    /// PPP in HDLC-like framing (RFC 1662).
    pub const PPP_HDLC: LinkType = LinkType(50);
    /// Cisco HDLC.
    pub const C_HDLC: LinkType = LinkType(104);
    /// Per-Packet Information header around another link type.
    pub const PPI: LinkType = LinkType(192);
    /// IEEE 802.11 without radio header.
    pub const IEEE802_11: LinkType = LinkType(105);
    /// IEEE 802.11 behind a radiotap header.
    pub const RADIOTAP: LinkType = LinkType(127);
    /// Solaris ipnet.
    pub const IPNET: LinkType = LinkType(226);
    /// SLIP, behind libpcap's 16-byte pseudo-header.
    pub const SLIP: LinkType = LinkType(8);
    /// Linux netfilter NFLOG: a small header, then TLVs, the packet in one.
    pub const NFLOG: LinkType = LinkType(239);

    /// Whether the decoder understands this link type.
    pub fn is_supported(self) -> bool {
        matches!(
            self.0,
            0 | 1
                | 8
                | 9
                | 12
                | 14
                | 50
                | 101
                | 104
                | 105
                | 108
                | 113
                | 127
                | 192
                | 226
                | 228
                | 229
                | 239
                | 276
        )
    }

    /// Short name for reports.
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "null",
            1 => "ethernet",
            12 | 14 | 101 => "raw",
            108 => "loop",
            113 => "linux_sll",
            228 => "ipv4",
            229 => "ipv6",
            276 => "linux_sll2",
            9 | 50 => "ppp",
            104 => "c_hdlc",
            105 => "ieee802_11",
            127 => "radiotap",
            192 => "ppi",
            226 => "ipnet",
            8 => "slip",
            239 => "nflog",
            _ => "unsupported",
        }
    }
}

impl fmt::Debug for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LinkType({}:{})", self.0, self.name())
    }
}

/// A captured packet as a source hands it over.
#[derive(Debug, Clone, Copy)]
pub struct RawPacket<'a> {
    /// Capture timestamp.
    pub ts: Timestamp,
    /// Link type of `data`.
    pub linktype: LinkType,
    /// Length on the wire; may exceed `data.len()` when the capture was cut
    /// at a snapshot length.
    pub wire_len: u32,
    /// The capture interface, as an index: the pcapng interface id, the
    /// position of `-i IFACE` in a live capture, 0 for single-interface
    /// input. A flow records its first packet's.
    pub iface: u32,
    /// The captured bytes.
    pub data: &'a [u8],
}

/// Up to three VLAN ids, outermost first. Deeper tags are decoded through
/// but not recorded (and so not part of the flow key).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VlanIds {
    ids: [u16; 3],
    len: u8,
}

impl VlanIds {
    /// Records one more id; returns false (and keeps nothing) past three.
    pub fn push(&mut self, id: u16) -> bool {
        if usize::from(self.len) < self.ids.len() {
            self.ids[usize::from(self.len)] = id;
            self.len += 1;
            true
        } else {
            false
        }
    }
    /// The recorded ids.
    pub fn as_slice(&self) -> &[u16] {
        &self.ids[..usize::from(self.len)]
    }
    /// Whether no tag was seen.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for VlanIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

crate::named::named_enum! {
    /// Kinds of tunnel the decoder opens.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    #[non_exhaustive]
    pub enum TunnelKind {
        /// Stable lower-case name.
        fn name;
        /// GRE carrying IP or Ethernet.
        Gre => "gre";
        /// ERSPAN (type I, II or III) over GRE.
        Erspan => "erspan";
        /// PPTP: PPP over enhanced GRE.
        Pptp => "pptp";
        /// VXLAN.
        Vxlan => "vxlan";
        /// Geneve.
        Geneve => "geneve";
        /// GTP-U.
        GtpU => "gtpu";
        /// IPv4 in IPv4.
        IpInIp => "ipip";
        /// IPv6 in IPv4.
        SixInFour => "6in4";
        /// IPv4 in IPv6.
        FourInSix => "4in6";
        /// IPv6 in IPv6.
        SixInSix => "6in6";
        /// Teredo (IPv6 over UDP).
        Teredo => "teredo";
        /// L2TP version 2 (PPP over UDP).
        L2tp => "l2tp";
    }
}

impl TunnelKind {
    /// Whether both directions of a conversation carry the same tunnel id.
    /// GTP-U TEIDs, PPTP call ids and L2TP tunnel/session ids are chosen
    /// by each end, so they differ per direction and cannot key a
    /// bidirectional flow.
    pub const fn id_is_symmetric(self) -> bool {
        !matches!(self, TunnelKind::GtpU | TunnelKind::Pptp | TunnelKind::L2tp)
    }
}

/// The innermost tunnel a packet was carried in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tunnel {
    /// Tunnel type.
    pub kind: TunnelKind,
    /// VNI, GRE key, ERSPAN session, GTP TEID, PPTP call id or L2TP
    /// tunnel and session ids (16 bits each); 0 when the tunnel has none.
    pub id: u32,
    /// Source address of the carrying IP header.
    pub outer_src: IpAddr,
    /// Destination address of the carrying IP header.
    pub outer_dst: IpAddr,
}

/// A fragment's place in its datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentInfo {
    /// Datagram identification (16-bit for IPv4, 32-bit for IPv6).
    pub ident: u32,
    /// Offset of this fragment's data, bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
}

/// The innermost IP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpInfo {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol (after IPv6 extension headers).
    pub protocol: u8,
    /// TTL / hop limit.
    pub ttl: u8,
    /// Set while the packet is a fragment awaiting reassembly.
    pub fragment: Option<FragmentInfo>,
}

impl IpInfo {
    /// 4 or 6.
    pub fn version(&self) -> u8 {
        if self.src.is_ipv4() { 4 } else { 6 }
    }
}

/// The transport header quoted inside an ICMP error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotedPacket {
    /// Source of the packet that caused the error.
    pub src: IpAddr,
    /// Destination of the packet that caused the error.
    pub dst: IpAddr,
    /// Its protocol.
    pub protocol: u8,
    /// Its source port (0 when not TCP/UDP/SCTP or not quoted).
    pub src_port: u16,
    /// Its destination port.
    pub dst_port: u16,
}

/// ICMP or ICMPv6 header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpInfo {
    /// ICMPv6 rather than ICMPv4.
    pub v6: bool,
    /// Message type.
    pub msg_type: u8,
    /// Message code.
    pub code: u8,
    /// Rest-of-header word (identifier and sequence for echo).
    pub rest: u32,
}

/// Ports of a UDP or SCTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// Source port.
    pub src: u16,
    /// Destination port.
    pub dst: u16,
}

/// The decoded transport layer.
#[derive(Debug, Clone, Copy)]
pub enum Transport<'a> {
    /// No IP layer, or an IP protocol without a decoded header.
    None,
    /// TCP, with the full header view.
    Tcp(TcpSegment<'a>),
    /// UDP.
    Udp(Ports),
    /// SCTP.
    Sctp(Ports),
    /// ICMP / ICMPv6.
    Icmp(IcmpInfo),
    /// An IP fragment: the transport is decoded after reassembly.
    Fragment,
}

/// A decoded packet: header fields of the innermost flow plus the context
/// (VLANs, tunnel) it travelled in, and its payload slice.
#[derive(Debug, Clone, Copy)]
pub struct PacketView<'a> {
    /// Capture timestamp.
    pub ts: Timestamp,
    /// Link type of the captured frame.
    pub linktype: LinkType,
    /// Length on the wire (for a reassembled datagram: all its fragments).
    pub wire_len: u32,
    /// Bytes of `wire_len` that are the tunnels' around the flow's packet:
    /// the outer frame's headers, the tunnel headers and whatever follows
    /// the inner packet. 0 when no tunnel was opened. The flow counts the
    /// rest ([`PacketView::flow_len`]); the `stats` record counts
    /// `wire_len`.
    pub encap_len: u32,
    /// Bytes of the innermost IP packet as its header gives them (IPv4
    /// total length, IPv6 40 plus payload length; what was captured when
    /// the header says 0, as segmentation offload leaves it): RFC 7012's
    /// `octetDeltaCount` measure, no link layer. A reassembled datagram's
    /// is the sum over its fragments; 0 without IP.
    pub ip_len: u32,
    /// The capture interface ([`RawPacket::iface`]).
    pub iface: u32,
    /// Captured frames this view stands for: 1, or a reassembled
    /// datagram's fragment count.
    pub frames: u32,
    /// Source MAC of the innermost Ethernet header, when there is one.
    pub src_mac: Option<[u8; 6]>,
    /// Destination MAC of the innermost Ethernet header.
    pub dst_mac: Option<[u8; 6]>,
    /// EtherType of a non-IP frame (ARP, LLDP, ...); 0 once IP was found.
    pub non_ip_ethertype: u16,
    /// VLAN ids seen on the way in, outermost first.
    pub vlans: VlanIds,
    /// MPLS labels crossed.
    pub mpls_labels: u8,
    /// PPPoE session id, when the frame was in a PPPoE session.
    pub pppoe_session: Option<u16>,
    /// The innermost tunnel, when the packet was decapsulated.
    pub tunnel: Option<Tunnel>,
    /// Tunnels opened.
    pub tunnel_depth: u8,
    /// The innermost IP header.
    pub ip: Option<IpInfo>,
    /// The transport layer.
    pub transport: Transport<'a>,
    /// Application payload (or a fragment's data, or a non-decoded
    /// protocol's bytes).
    pub payload: &'a [u8],
    /// Some layer claims more bytes than were captured.
    pub truncated: bool,
    /// The IPv4 header checksum did not verify.
    pub ipv4_checksum_bad: bool,
    /// A tunnel was recognised but nesting was deeper than allowed.
    pub tunnel_depth_exceeded: bool,
    /// A tunnel header was recognised but its inner packet failed to decode,
    /// so the packet is tracked as its outer flow.
    pub tunnel_inner_error: Option<crate::wire::DecodeError>,
}

impl<'a> PacketView<'a> {
    /// An empty view for `raw`, before any layer is decoded.
    pub fn empty(raw: &RawPacket<'a>) -> Self {
        PacketView {
            ts: raw.ts,
            linktype: raw.linktype,
            wire_len: raw.wire_len,
            encap_len: 0,
            ip_len: 0,
            iface: raw.iface,
            frames: 1,
            src_mac: None,
            dst_mac: None,
            non_ip_ethertype: 0,
            vlans: VlanIds::default(),
            mpls_labels: 0,
            pppoe_session: None,
            tunnel: None,
            tunnel_depth: 0,
            ip: None,
            transport: Transport::None,
            payload: &[],
            truncated: raw.data.len() < raw.wire_len as usize,
            ipv4_checksum_bad: false,
            tunnel_depth_exceeded: false,
            tunnel_inner_error: None,
        }
    }

    /// Bytes the flow counts for this packet: the wire length less the
    /// tunnels' bytes, i.e. what Suricata counts for a tunnelled packet
    /// (docs/decoding.md, "What a flow counts").
    pub fn flow_len(&self) -> u32 {
        self.wire_len.saturating_sub(self.encap_len)
    }

    /// Source and destination ports for TCP, UDP and SCTP.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self.transport {
            Transport::Tcp(t) => Some((t.src_port(), t.dst_port())),
            Transport::Udp(p) | Transport::Sctp(p) => Some((p.src, p.dst)),
            _ => None,
        }
    }

    /// The TCP header, for TCP packets.
    pub fn tcp(&self) -> Option<&TcpSegment<'a>> {
        match &self.transport {
            Transport::Tcp(t) => Some(t),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlan_ids_keep_three() {
        let mut v = VlanIds::default();
        assert!(v.is_empty());
        for id in [10, 20, 30] {
            assert!(v.push(id));
        }
        assert!(!v.push(40));
        assert_eq!(v.as_slice(), &[10, 20, 30]);
    }

    #[test]
    fn linktypes() {
        assert!(LinkType::ETHERNET.is_supported());
        assert!(LinkType::LINUX_SLL2.is_supported());
        assert!(!LinkType(147).is_supported());
        assert!(LinkType::PPP.is_supported() && LinkType::C_HDLC.is_supported());
        assert_eq!(LinkType(147).name(), "unsupported");
        for (i, k) in TunnelKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
    }
}
