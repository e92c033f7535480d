//! Opening tunnels: which UDP ports and GRE protocol types lead to which
//! tunnel, the checks a payload passes before it is taken for one (those
//! Suricata makes, so both tools see the same inner flows), and how much of
//! each tunnelled frame the inner flow counts ([`PacketView::encap_len`]).
//!
//! What a flow counts follows Suricata, whose inner packet is a copy of the
//! bytes after the tunnel header: the GRE payload (for ERSPAN and PPTP that
//! includes the ERSPAN header and the PPP header), the Geneve payload, the
//! Teredo IPv6 packet, the IP payload of IP-in-IP; for VXLAN the inner frame
//! from after its Ethernet header. GTP-U and L2TP, which Suricata does not
//! open, count the bytes after their header likewise.

use super::{Decoder, len_u32};
use crate::packet::{PacketView, Transport, Tunnel, TunnelKind};
use crate::wire::l2::{EthernetFrame, ppp, ppp_frame};
use crate::wire::tunnel::{
    ErspanHeader, GeneveHeader, GreHeader, GtpuHeader, L2tpHeader, VxlanHeader, teredo_inner,
};
use crate::wire::{DecodeError, ethertype};

impl Decoder {
    /// A UDP datagram on a tunnel port (either side, as Suricata checks
    /// them). A kind whose header does not validate leaves the datagram to
    /// the next kind, and in the end to plain UDP.
    pub(super) fn udp_tunnels<'a>(
        &self,
        sport: u16,
        dport: u16,
        payload: &'a [u8],
        v: &mut PacketView<'a>,
    ) -> Result<(), DecodeError> {
        if !self.decapsulate || !(self.maybe_tunnel_port(dport) || self.maybe_tunnel_port(sport)) {
            return Ok(());
        }
        let on = |ports: &[u16]| ports.contains(&dport) || ports.contains(&sport);
        if on(&self.vxlan_ports)
            && let Ok(h) = VxlanHeader::new_checked(payload)
        {
            let frame = h.payload();
            let counted = frame.get(EthernetFrame::HEADER_LEN..).unwrap_or_default();
            return self.tunnel(v, TunnelKind::Vxlan, h.vni(), counted, |d, v| {
                d.ethernet(frame, v)
            });
        }
        if on(&self.geneve_ports)
            && let Ok(h) = GeneveHeader::new_checked(payload)
        {
            let inner = h.payload();
            return self.tunnel(v, TunnelKind::Geneve, h.vni(), inner, |d, v| {
                match h.protocol() {
                    ethertype::TEB => d.ethernet(inner, v),
                    et => d.ethertype(et, inner, v),
                }
            });
        }
        // Echo and other signalling messages stay plain UDP.
        if on(&self.gtpu_ports)
            && let Ok(Some(h)) = GtpuHeader::new_checked(payload)
        {
            let inner = h.payload();
            return self.tunnel(v, TunnelKind::GtpU, h.teid(), inner, |d, v| {
                d.raw_ip(inner, v)
            });
        }
        // Control messages and anything that is not L2TPv2 carrying IP stay
        // plain UDP.
        if on(&self.l2tp_ports)
            && let Ok(Some(h)) = L2tpHeader::new_checked(payload)
            && let Some((protocol @ (ppp::IPV4 | ppp::IPV6), inner)) = ppp_frame(h.payload())
        {
            return self.tunnel(v, TunnelKind::L2tp, h.ids(), h.payload(), |d, v| {
                d.ppp(protocol, inner, v)
            });
        }
        // Teredo has no magic number and shares its port with ordinary
        // traffic: a payload that is not a well-formed IPv6 packet, or whose
        // packet does not decode, stays plain UDP, without an anomaly.
        if on(&self.teredo_ports)
            && let Some(inner) = teredo_inner(payload)
        {
            let saved = *v;
            if self
                .try_tunnel(v, TunnelKind::Teredo, 0, inner, |d, v| d.ipv6(inner, v))
                .is_err()
            {
                *v = saved;
            }
        }
        Ok(())
    }

    /// A GRE packet (RFC 2784/2890 version 0, PPTP's enhanced version 1).
    pub(super) fn gre<'a>(&self, buf: &'a [u8], v: &mut PacketView<'a>) -> Result<(), DecodeError> {
        let g = GreHeader::new_checked(buf)?;
        if !self.decapsulate {
            return Ok(());
        }
        let key = g.key().unwrap_or(0);
        let inner = g.payload();
        let gre = |v: &mut PacketView<'a>, kind, id, open: fn(&Self, &'a [u8], &mut PacketView<'a>) -> Result<(), DecodeError>| {
            self.tunnel(v, kind, id, inner, |d, v| open(d, inner, v))
        };
        match (g.version(), g.protocol()) {
            (0, ethertype::IPV4) => gre(v, TunnelKind::Gre, key, Self::ipv4),
            (0, ethertype::IPV6) => gre(v, TunnelKind::Gre, key, Self::ipv6),
            (0, ethertype::TEB) => gre(v, TunnelKind::Gre, key, Self::ethernet),
            (0, ethertype::WCCP) => {
                // WCCPv2 puts a 4-byte redirect header before the IPv4
                // packet; WCCPv1 does not.
                let ip = match inner.first() {
                    Some(b) if b >> 4 == 4 => inner,
                    _ => inner.get(4..).unwrap_or_default(),
                };
                self.tunnel(v, TunnelKind::Gre, key, inner, |d, v| d.ipv4(ip, v))
            }
            (0, ethertype::MPLS_UC | ethertype::MPLS_MC) => {
                gre(v, TunnelKind::Gre, key, Self::mpls)
            }
            // Type I: the mirrored frame follows GRE directly.
            (0, ethertype::ERSPAN_II) if !g.has_sequence() => {
                gre(v, TunnelKind::Erspan, 0, Self::ethernet)
            }
            (0, ethertype::ERSPAN_II) => {
                let e = ErspanHeader::new_type2(inner)?;
                self.erspan(v, inner, e)
            }
            (0, ethertype::ERSPAN_III) => {
                let e = ErspanHeader::new_type3(inner)?;
                self.erspan(v, inner, e)
            }
            (1, ethertype::PPP) => match ppp_frame(inner) {
                Some((protocol @ (ppp::IPV4 | ppp::IPV6), payload)) => {
                    self.tunnel(v, TunnelKind::Pptp, key, inner, |d, v| {
                        d.ppp(protocol, payload, v)
                    })
                }
                // Compressed or control PPP frames stay part of the GRE flow.
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// ERSPAN type II or III: the header's VLAN (the mirrored frame's, which
    /// the mirror may have stripped) is recorded like a tag of the frame, as
    /// Suricata does.
    fn erspan<'a>(
        &self,
        v: &mut PacketView<'a>,
        inner: &'a [u8],
        e: ErspanHeader<'a>,
    ) -> Result<(), DecodeError> {
        let id = u32::from(e.session_id());
        self.tunnel(v, TunnelKind::Erspan, id, inner, |d, v| {
            if e.vlan() != 0 {
                v.vlans.push(e.vlan());
            }
            d.ethernet(e.payload(), v)
        })
    }

    /// Opens a tunnel: the current IP header becomes the outer context and
    /// `inner` decodes what it carries; the flow counts `counted`, the bytes
    /// Suricata's inner packet holds. When the depth bound is reached, or
    /// when the inner packet fails to decode, the packet stays its outer
    /// flow (flagged on the view) instead of being lost.
    pub(super) fn tunnel<'a>(
        &self,
        v: &mut PacketView<'a>,
        kind: TunnelKind,
        id: u32,
        counted: &[u8],
        inner: impl FnOnce(&Self, &mut PacketView<'a>) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        if let Err(e) = self.try_tunnel(v, kind, id, counted, inner) {
            v.tunnel_inner_error = Some(e);
        }
        Ok(())
    }

    /// [`Decoder::tunnel`], handing back the inner packet's error (with the
    /// view restored to its outer flow) instead of recording it.
    fn try_tunnel<'a>(
        &self,
        v: &mut PacketView<'a>,
        kind: TunnelKind,
        id: u32,
        counted: &[u8],
        inner: impl FnOnce(&Self, &mut PacketView<'a>) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        let Some(outer) = v.ip else {
            return Ok(());
        };
        if v.tunnel_depth >= self.max_tunnel_depth {
            v.tunnel_depth_exceeded = true;
            return Ok(());
        }
        let saved = *v;
        v.tunnel = Some(Tunnel {
            kind,
            id,
            outer_src: outer.src,
            outer_dst: outer.dst,
        });
        v.tunnel_depth += 1;
        v.encap_len = v.wire_len.saturating_sub(len_u32(counted));
        v.ip = None;
        v.ip_len = 0;
        v.transport = Transport::None;
        v.payload = &[];
        inner(self, v).inspect_err(|_| {
            let depth_exceeded = v.tunnel_depth_exceeded;
            *v = saved;
            v.tunnel_depth_exceeded |= depth_exceeded;
        })
    }
}

#[cfg(test)]
mod tests;
