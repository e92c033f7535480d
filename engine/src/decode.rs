//! The layer walker: from link type to the innermost transport header,
//! through VLAN/QinQ, MPLS, PPPoE, IPv6 extension headers and tunnels.
//!
//! It strings the [`crate::wire`] views together and fills a
//! [`PacketView`] in place without allocating. Fragments stop the walk at
//! the IP layer; after reassembly [`Decoder::decode_reassembled`] resumes it.
//! Which payloads open a tunnel, and what of a tunnelled frame its flow
//! counts, is the `tunnels` submodule's.

use crate::config::{DecodeConfig, TunnelConfig};
use crate::packet::{
    FragmentInfo, IcmpInfo, IpInfo, LinkType, PacketView, Ports, QuotedPacket, RawPacket,
    Transport, TunnelKind,
};
use crate::wire::ip::{AuthHeader, Ipv4Packet, Ipv6Packet, walk_ipv6_extensions};
use crate::wire::l2::{
    EthernetFrame, Ieee80211, MplsLabel, NullFamily, NullHeader, PppoeSession, Radiotap, Sll, Sll2,
    VlanTag, arphrd, llc_snap, nflog_payload, pbb_payload, ppp, ppp_frame, sll_proto,
};
use crate::wire::transport::{
    IcmpMessage, SctpPacket, TcpSegment, UdpDatagram, icmpv4_is_error, icmpv6_is_error,
};
use crate::wire::{DecodeError, ethertype, ipproto};
use std::net::IpAddr;

/// A slice's length as a packet length (captures and datagrams are far
/// below 4 GiB; saturates rather than wraps).
fn len_u32(b: &[u8]) -> u32 {
    u32::try_from(b.len()).unwrap_or(u32::MAX)
}

/// Largest datagram fragments may rebuild (the IP length fields' limit).
const MAX_DATAGRAM: u32 = 65_535;
/// Authentication headers followed in a row before giving up.
const MAX_AH_CHAIN: usize = 4;

/// Decodes raw packets into [`PacketView`]s.
#[derive(Debug, Clone)]
pub struct Decoder {
    verify_ipv4_checksum: bool,
    max_ipv6_ext: usize,
    max_mpls: usize,
    decapsulate: bool,
    max_tunnel_depth: u8,
    vxlan_ports: Vec<u16>,
    geneve_ports: Vec<u16>,
    gtpu_ports: Vec<u16>,
    teredo_ports: Vec<u16>,
    l2tp_ports: Vec<u16>,
    /// Every UDP port above, as a bitmap: most datagrams are ruled out by
    /// one bit test per port.
    tunnel_ports: Box<[u64; 1024]>,
}

impl Decoder {
    /// A decoder with the given options.
    pub fn new(decode: &DecodeConfig, tunnel: &TunnelConfig) -> Self {
        Decoder {
            verify_ipv4_checksum: decode.verify_ipv4_checksum,
            max_ipv6_ext: decode.max_ipv6_extension_headers,
            max_mpls: decode.max_mpls_labels,
            decapsulate: tunnel.decapsulate,
            max_tunnel_depth: tunnel.max_depth,
            vxlan_ports: tunnel.vxlan_ports.clone(),
            geneve_ports: tunnel.geneve_ports.clone(),
            gtpu_ports: tunnel.gtpu_ports.clone(),
            teredo_ports: tunnel.teredo_ports.clone(),
            l2tp_ports: tunnel.l2tp_ports.clone(),
            tunnel_ports: {
                let mut bits = Box::new([0u64; 1024]);
                for &p in tunnel
                    .vxlan_ports
                    .iter()
                    .chain(&tunnel.geneve_ports)
                    .chain(&tunnel.gtpu_ports)
                    .chain(&tunnel.teredo_ports)
                    .chain(&tunnel.l2tp_ports)
                {
                    bits[usize::from(p >> 6)] |= 1 << (p & 63);
                }
                bits
            },
        }
    }

    #[inline]
    fn maybe_tunnel_port(&self, p: u16) -> bool {
        self.tunnel_ports[usize::from(p >> 6)] & (1 << (p & 63)) != 0
    }

    /// Decodes `raw`.
    pub fn decode<'a>(&self, raw: &RawPacket<'a>) -> Result<PacketView<'a>, DecodeError> {
        let mut view = PacketView::empty(raw);
        self.decode_into(raw, &mut view).map(|()| view)
    }

    /// Decodes `raw` into `view`, which must be `PacketView::empty(raw)`.
    /// (The engine's hot path: filling the caller's view in place saves
    /// copying a 200-byte struct twice per packet.)
    #[inline]
    pub fn decode_into<'a>(
        &self,
        raw: &RawPacket<'a>,
        view: &mut PacketView<'a>,
    ) -> Result<(), DecodeError> {
        match self.link(raw.linktype, raw.data, view) {
            Ok(()) => {
                // A capture cut the frame: the bytes it lost were the inner
                // packet's, not the tunnels'.
                if view.encap_len != 0 {
                    let cut = raw.wire_len.saturating_sub(len_u32(raw.data));
                    view.encap_len = view.encap_len.saturating_sub(cut);
                }
                Ok(())
            }
            Err(e) if e.is_truncation() && raw.data.len() < raw.wire_len as usize => {
                Err(DecodeError::CaptureTruncated)
            }
            Err(e) => Err(e),
        }
    }

    /// Resumes decoding after fragment reassembly: `datagram` is the rebuilt
    /// IP payload and `protocol` the protocol of its first byte (for IPv6,
    /// the fragment header's next header).
    pub fn decode_reassembled<'a>(
        &self,
        view: &mut PacketView<'a>,
        protocol: u8,
        datagram: &'a [u8],
    ) -> Result<(), DecodeError> {
        view.transport = Transport::None;
        view.payload = &[];
        let Some(ip) = view.ip.as_mut() else {
            return Err(DecodeError::IpBadVersion);
        };
        ip.fragment = None;
        if ip.src.is_ipv6() {
            let up = walk_ipv6_extensions(protocol, datagram, self.max_ipv6_ext)?;
            if up.fragment.is_some() {
                // A fragment header inside a reassembled fragmentable part is
                // not something a sender can produce.
                return Err(DecodeError::Ipv6FragmentTooLarge);
            }
            ip.protocol = up.protocol;
            self.ip_payload(up.protocol, up.payload, view)
        } else {
            ip.protocol = protocol;
            self.ip_payload(protocol, datagram, view)
        }
    }

    fn link<'a>(
        &self,
        linktype: LinkType,
        data: &'a [u8],
        v: &mut PacketView<'a>,
    ) -> Result<(), DecodeError> {
        match linktype {
            LinkType::ETHERNET => self.ethernet(data, v),
            LinkType::RAW | LinkType::RAW_12 | LinkType::RAW_14 => self.raw_ip(data, v),
            LinkType::IPV4 => self.ipv4(data, v),
            LinkType::IPV6 => self.ipv6(data, v),
            LinkType::NULL | LinkType::LOOP => match data {
                // Some BSD/OS captures put PPP or Cisco HDLC frames on the
                // NULL link type; the family field would be garbage.
                [0xff, 0x03, ..] => self.ppp_link(data, v),
                [0x0f | 0x8f, 0x00, ..] => self.chdlc(data, v),
                _ => {
                    let h = NullHeader::new_checked(data)?;
                    match h.family()? {
                        NullFamily::Ipv4 => self.ipv4(h.payload(), v),
                        NullFamily::Ipv6 => self.ipv6(h.payload(), v),
                    }
                }
            },
            LinkType::PPP | LinkType::PPP_HDLC => self.ppp_link(data, v),
            LinkType::IEEE802_11 => self.ieee80211(data, v),
            LinkType::RADIOTAP => {
                let r = Radiotap::new_checked(data)?;
                self.ieee80211(r.frame(), v)
            }
            LinkType::C_HDLC => self.chdlc(data, v),
            LinkType::PPI => {
                // version, flags, header length (LE), inner link type (LE).
                if data.len() < 8 {
                    return Err(DecodeError::LinkTruncated);
                }
                let len = usize::from(u16::from_le_bytes([data[2], data[3]]));
                let inner = LinkType(u32::from_le_bytes([data[4], data[5], data[6], data[7]]));
                if len < 8 || data.len() < len {
                    return Err(DecodeError::LinkTruncated);
                }
                if inner == LinkType::PPI || !inner.is_supported() {
                    return Err(DecodeError::UnsupportedLinkType);
                }
                self.link(inner, &data[len..], v)
            }
            LinkType::IPNET => {
                // Solaris ipnet: version, family (2 = IPv4, 26 = IPv6), 22 more bytes.
                if data.len() < 24 {
                    return Err(DecodeError::LinkTruncated);
                }
                match data[1] {
                    2 => self.ipv4(&data[24..], v),
                    26 => self.ipv6(&data[24..], v),
                    _ => {
                        v.non_ip_ethertype = u16::from(data[1]);
                        Ok(())
                    }
                }
            }
            LinkType::SLIP => {
                // libpcap's pseudo-header: direction (0 in, 1 out), the
                // CSLIP packet type (0x40: plain IP; compressed TCP headers
                // cannot be read alone), 14 bytes of its header; then IP.
                let packet = data.get(16..).ok_or(DecodeError::LinkTruncated)?;
                match data[..2] {
                    [0 | 1, 0x40] => self.raw_ip(packet, v),
                    _ => Ok(()),
                }
            }
            LinkType::NFLOG => match nflog_payload(data) {
                Some((2, packet)) => self.ipv4(packet, v),
                Some((10, packet)) => self.ipv6(packet, v),
                Some((_, packet)) => self.raw_ip(packet, v),
                None => Err(DecodeError::LinkTruncated),
            },
            LinkType::LINUX_SLL => {
                let h = Sll::new_checked(data)?;
                v.src_mac = h.src_mac();
                self.cooked(h.arphrd(), h.protocol(), h.payload(), v)
            }
            LinkType::LINUX_SLL2 => {
                let h = Sll2::new_checked(data)?;
                v.src_mac = h.src_mac();
                self.cooked(h.arphrd(), h.protocol(), h.payload(), v)
            }
            _ => Err(DecodeError::UnsupportedLinkType),
        }
    }

    /// SLL/SLL2 payload: the protocol field is an EtherType except for a
    /// few interface types.
    fn cooked<'a>(
        &self,
        arphrd_type: u16,
        protocol: u16,
        payload: &'a [u8],
        v: &mut PacketView<'a>,
    ) -> Result<(), DecodeError> {
        match (arphrd_type, protocol) {
            (arphrd::NETLINK, _) | (_, sll_proto::ETH_P_802_3) => {
                v.non_ip_ethertype = protocol;
                Ok(())
            }
            // An 802.2 LLC frame: IP rides in SNAP.
            (_, sll_proto::ETH_P_802_2) => match llc_snap(payload) {
                Some((et, inner)) => self.ethertype(et, inner, v),
                None => {
                    v.non_ip_ethertype = protocol;
                    Ok(())
                }
            },
            (arphrd::IPGRE, _) => self.gre(payload, v),
            _ => self.ethertype(protocol, payload, v),
        }
    }

    /// A PPP frame on a PPP link. Cisco routers also write Cisco HDLC
    /// frames under the PPP link type; those start with address 0x0f/0x8f.
    fn ppp_link<'a>(&self, data: &'a [u8], v: &mut PacketView<'a>) -> Result<(), DecodeError> {
        if let [0x0f | 0x8f, 0x00, ..] = data {
            return self.chdlc(data, v);
        }
        let (protocol, payload) = ppp_frame(data).ok_or(DecodeError::LinkTruncated)?;
        self.ppp(protocol, payload, v)
    }

    /// An IEEE 802.11 frame: data frames carry LLC/SNAP and an EtherType;
    /// management, control and encrypted frames carry no IP we can read.
    fn ieee80211<'a>(&self, data: &'a [u8], v: &mut PacketView<'a>) -> Result<(), DecodeError> {
        let f = Ieee80211::new_checked(data)?;
        v.src_mac = Some(f.src());
        v.dst_mac = Some(f.dst());
        match f.llc_payload() {
            Some((et, payload)) => self.ethertype(et, payload, v),
            None => {
                v.non_ip_ethertype = 0;
                Ok(())
            }
        }
    }

    /// What a PPP protocol field announces (PPPoE, PPP links, PPTP, L2TP).
    fn ppp<'a>(
        &self,
        protocol: u16,
        payload: &'a [u8],
        v: &mut PacketView<'a>,
    ) -> Result<(), DecodeError> {
        match protocol {
            ppp::IPV4 => self.ipv4(payload, v),
            ppp::IPV6 => self.ipv6(payload, v),
            ppp::MPLS_UC | ppp::MPLS_MC => self.mpls(payload, v),
            other => {
                // LCP, IPCP, CCP...: link control, not IP.
                v.non_ip_ethertype = other;
                Ok(())
            }
        }
    }

    /// Cisco HDLC: address, control, then an EtherType.
    fn chdlc<'a>(&self, data: &'a [u8], v: &mut PacketView<'a>) -> Result<(), DecodeError> {
        if data.len() < 4 {
            return Err(DecodeError::LinkTruncated);
        }
        self.ethertype(u16::from_be_bytes([data[2], data[3]]), &data[4..], v)
    }

    fn raw_ip<'a>(&self, data: &'a [u8], v: &mut PacketView<'a>) -> Result<(), DecodeError> {
        match data.first().map(|b| b >> 4) {
            Some(4) => self.ipv4(data, v),
            Some(6) => self.ipv6(data, v),
            Some(_) => Err(DecodeError::IpBadVersion),
            None => Err(DecodeError::Ipv4Truncated),
        }
    }

    fn ethernet<'a>(&self, data: &'a [u8], v: &mut PacketView<'a>) -> Result<(), DecodeError> {
        let eth = EthernetFrame::new_checked(data)?;
        v.src_mac = Some(eth.src());
        v.dst_mac = Some(eth.dst());
        self.ethertype(eth.ethertype(), eth.payload(), v)
    }

    fn ethertype<'a>(
        &self,
        mut et: u16,
        mut buf: &'a [u8],
        v: &mut PacketView<'a>,
    ) -> Result<(), DecodeError> {
        loop {
            match et {
                ethertype::IPV4 => return self.ipv4(buf, v),
                ethertype::IPV6 => return self.ipv6(buf, v),
                ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD => {
                    let tag = VlanTag::new_checked(buf)?;
                    // Ids past the third are decoded through, not recorded.
                    v.vlans.push(tag.vid());
                    et = tag.ethertype();
                    buf = tag.payload();
                }
                ethertype::PBB => match pbb_payload(buf) {
                    Some((inner, payload)) => (et, buf) = (inner, payload),
                    None => return Err(DecodeError::LinkTruncated),
                },
                length @ ..=ethertype::MAX_8023_LENGTH => {
                    // IEEE 802.3: a length, an LLC header; IP rides in SNAP.
                    let frame = &buf[..buf.len().min(usize::from(length))];
                    match llc_snap(frame) {
                        Some((inner, payload)) => (et, buf) = (inner, payload),
                        None => {
                            v.non_ip_ethertype = length;
                            return Ok(());
                        }
                    }
                }
                ethertype::MPLS_UC | ethertype::MPLS_MC => return self.mpls(buf, v),
                ethertype::PPPOE_SESSION => {
                    let p = PppoeSession::new_checked(buf)?;
                    v.pppoe_session = Some(p.session_id());
                    return self.ppp(p.ppp_protocol(), p.payload(), v);
                }
                other => {
                    v.non_ip_ethertype = other;
                    return Ok(());
                }
            }
        }
    }

    fn mpls<'a>(&self, mut buf: &'a [u8], v: &mut PacketView<'a>) -> Result<(), DecodeError> {
        for _ in 0..self.max_mpls.max(1) {
            let label = MplsLabel::new_checked(buf)?;
            v.mpls_labels = v.mpls_labels.saturating_add(1);
            buf = label.payload();
            if label.bottom_of_stack() {
                return match buf.first().map(|b| b >> 4) {
                    Some(4) => self.ipv4(buf, v),
                    Some(6) => self.ipv6(buf, v),
                    // An Ethernet pseudowire behind a 4-byte control word.
                    Some(0) if buf.len() >= 4 => self.ethernet(&buf[4..], v),
                    Some(0) | None => Err(DecodeError::MplsTruncated),
                    Some(_) => Err(DecodeError::MplsUnknownPayload),
                };
            }
        }
        Err(DecodeError::MplsTooManyLabels)
    }

    fn ipv4<'a>(&self, buf: &'a [u8], v: &mut PacketView<'a>) -> Result<(), DecodeError> {
        let ip = Ipv4Packet::new_checked(buf)?;
        v.ip_len = match ip.total_len() {
            0 => len_u32(buf),
            n => u32::from(n),
        };
        let fragment = ip.is_fragment().then(|| FragmentInfo {
            ident: u32::from(ip.ident()),
            offset: ip.frag_offset(),
            more: ip.more_fragments(),
        });
        v.ip = Some(IpInfo {
            src: IpAddr::V4(ip.src()),
            dst: IpAddr::V4(ip.dst()),
            protocol: ip.protocol(),
            ttl: ip.ttl(),
            fragment,
        });
        v.non_ip_ethertype = 0;
        v.truncated |= ip.is_short();
        if self.verify_ipv4_checksum && !ip.checksum_ok() {
            v.ipv4_checksum_bad = true;
        }
        if let Some(f) = fragment {
            if f.offset + ip.payload().len() as u32 > MAX_DATAGRAM {
                return Err(DecodeError::Ipv4FragmentTooLarge);
            }
            v.transport = Transport::Fragment;
            v.payload = ip.payload();
            return Ok(());
        }
        self.ip_payload(ip.protocol(), ip.payload(), v)
    }

    fn ipv6<'a>(&self, buf: &'a [u8], v: &mut PacketView<'a>) -> Result<(), DecodeError> {
        let ip = Ipv6Packet::new_checked(buf)?;
        v.ip_len = match ip.payload_len() {
            // A jumbogram (RFC 2675) or offloaded segment: what is there.
            0 => len_u32(buf),
            n => 40 + u32::from(n),
        };
        v.truncated |= ip.is_short();
        v.non_ip_ethertype = 0;
        // Record the addresses before walking, so a bad extension chain
        // still reports who sent it.
        v.ip = Some(IpInfo {
            src: IpAddr::V6(ip.src()),
            dst: IpAddr::V6(ip.dst()),
            protocol: ip.next_header(),
            ttl: ip.hop_limit(),
            fragment: None,
        });
        let up = walk_ipv6_extensions(ip.next_header(), ip.payload(), self.max_ipv6_ext)?;
        let fragment = up.fragment.map(|f| FragmentInfo {
            ident: f.ident,
            offset: f.offset,
            more: f.more,
        });
        if let Some(info) = v.ip.as_mut() {
            info.protocol = up.protocol;
            info.fragment = fragment;
        }
        if let Some(f) = fragment {
            if f.offset + up.payload.len() as u32 > MAX_DATAGRAM {
                return Err(DecodeError::Ipv6FragmentTooLarge);
            }
            v.transport = Transport::Fragment;
            v.payload = up.payload;
            return Ok(());
        }
        self.ip_payload(up.protocol, up.payload, v)
    }

    fn ip_payload<'a>(
        &self,
        mut protocol: u8,
        mut buf: &'a [u8],
        v: &mut PacketView<'a>,
    ) -> Result<(), DecodeError> {
        let is_v6 = v.ip.is_some_and(|ip| ip.src.is_ipv6());
        // IPv4 AH sits between IP and the transport (IPv6 walks it as an
        // extension header).
        let mut ah = 0;
        while protocol == ipproto::AH && !is_v6 {
            ah += 1;
            if ah > MAX_AH_CHAIN {
                return Err(DecodeError::AhTruncated);
            }
            let h = AuthHeader::new_checked(buf)?;
            protocol = h.next_header();
            buf = h.payload();
            if let Some(ip) = v.ip.as_mut() {
                ip.protocol = protocol;
            }
        }
        // Anything not decoded further is an IP flow of its protocol.
        v.transport = Transport::None;
        v.payload = buf;
        match protocol {
            ipproto::TCP => {
                // Only a capture cut may shorten the header; on a complete
                // packet a short TCP header is malformed.
                let t = if v.truncated {
                    TcpSegment::new_cut(buf)?
                } else {
                    TcpSegment::new_checked(buf)?
                };
                v.payload = t.payload();
                v.transport = Transport::Tcp(t);
                Ok(())
            }
            ipproto::UDP => {
                let u = UdpDatagram::new_checked(buf)?;
                v.truncated |= u.is_short();
                v.payload = u.payload();
                v.transport = Transport::Udp(Ports {
                    src: u.src_port(),
                    dst: u.dst_port(),
                });
                self.udp_tunnels(u.src_port(), u.dst_port(), u.payload(), v)
            }
            ipproto::SCTP => {
                let s = SctpPacket::new_checked(buf)?;
                v.payload = s.payload();
                v.transport = Transport::Sctp(Ports {
                    src: s.src_port(),
                    dst: s.dst_port(),
                });
                Ok(())
            }
            ipproto::ICMP if !is_v6 => self.icmp(false, buf, v),
            ipproto::ICMPV6 if is_v6 => self.icmp(true, buf, v),
            ipproto::GRE => self.gre(buf, v),
            ipproto::IPIP => {
                let kind = if is_v6 {
                    TunnelKind::FourInSix
                } else {
                    TunnelKind::IpInIp
                };
                self.tunnel(v, kind, 0, buf, |d, v| d.ipv4(buf, v))
            }
            ipproto::IPV6 => {
                let kind = if is_v6 {
                    TunnelKind::SixInSix
                } else {
                    TunnelKind::SixInFour
                };
                self.tunnel(v, kind, 0, buf, |d, v| d.ipv6(buf, v))
            }
            _ => Ok(()),
        }
    }

    fn icmp<'a>(&self, v6: bool, buf: &'a [u8], v: &mut PacketView<'a>) -> Result<(), DecodeError> {
        let m = IcmpMessage::new_checked(buf)?;
        v.payload = m.payload();
        v.transport = Transport::Icmp(IcmpInfo {
            v6,
            msg_type: m.msg_type(),
            code: m.code(),
            rest: m.rest_of_header(),
        });
        Ok(())
    }

    /// For an ICMP error, the header it quotes: the offending packet's IP
    /// header plus at least 8 bytes of transport (usually cut short of the
    /// datagram's full length). Parsed on demand, off the per-packet path.
    pub fn icmp_quoted(&self, view: &PacketView<'_>) -> Option<QuotedPacket> {
        let Transport::Icmp(i) = view.transport else {
            return None;
        };
        let is_error = if i.v6 {
            icmpv6_is_error(i.msg_type)
        } else {
            icmpv4_is_error(i.msg_type)
        };
        if !is_error {
            return None;
        }
        let buf = view.payload;
        let (src, dst, protocol, l4) = match buf.first()? >> 4 {
            4 => {
                let ip = Ipv4Packet::new_checked(buf).ok()?;
                (
                    IpAddr::V4(ip.src()),
                    IpAddr::V4(ip.dst()),
                    ip.protocol(),
                    ip.payload(),
                )
            }
            6 => {
                let ip = Ipv6Packet::new_checked(buf).ok()?;
                let up =
                    walk_ipv6_extensions(ip.next_header(), ip.payload(), self.max_ipv6_ext).ok()?;
                (
                    IpAddr::V6(ip.src()),
                    IpAddr::V6(ip.dst()),
                    up.protocol,
                    up.payload,
                )
            }
            _ => return None,
        };
        let (src_port, dst_port) = match protocol {
            ipproto::TCP | ipproto::UDP | ipproto::SCTP if l4.len() >= 4 => (
                u16::from_be_bytes([l4[0], l4[1]]),
                u16::from_be_bytes([l4[2], l4[3]]),
            ),
            _ => (0, 0),
        };
        Some(QuotedPacket {
            src,
            dst,
            protocol,
            src_port,
            dst_port,
        })
    }
}

mod tunnels;

#[cfg(test)]
mod links;
#[cfg(test)]
mod tests;
