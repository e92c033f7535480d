//! Packet bytes from a [`Spec`]: Ethernet (optionally 802.1Q), IPv4 or
//! IPv6, TCP or UDP with correct checksums, and the VXLAN and GTP-U
//! outer layers; written straight into pcap or pcapng records.

use super::content::Message;
use super::plan::{Encap, FlowPlan, Kind, Params};
use super::script::{SYN, Spec};

/// Ones'-complement sum of `parts` (every part but the last of even length).
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum = 0u32;
    for p in parts {
        let mut chunks = p.chunks_exact(2);
        for c in &mut chunks {
            sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
        }
        if let [last] = chunks.remainder() {
            sum += u32::from(*last) << 8;
        }
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn mac(flow: u64, side: u8) -> [u8; 6] {
    let b = flow.to_be_bytes();
    [0x02, side, b[4], b[5], b[6], b[7]]
}

/// Appends the IP packet (header, L4 header, payload) of `s`, whose payload
/// is a slice of `msg`. Written in place and checksummed there: no buffer
/// per packet.
fn ip_packet(p: &Params, plan: &FlowPlan, s: &Spec, msg: Option<&Message>, out: &mut Vec<u8>) {
    let (src, dst, sport, dport) = if s.dir == 0 {
        (&plan.client, &plan.server, plan.sport, plan.dport)
    } else {
        (&plan.server, &plan.client, plan.dport, plan.sport)
    };
    let tcp = plan.kind != Kind::DnsUdp && plan.kind != Kind::Udp;
    let proto: u8 = if tcp { 6 } else { 17 };
    let ip_at = out.len();
    out.resize(ip_at + if plan.v6 { 40 } else { 20 }, 0);
    let l4_at = out.len();
    out.extend_from_slice(&sport.to_be_bytes());
    out.extend_from_slice(&dport.to_be_bytes());
    if tcp {
        let syn = s.flags & SYN != 0;
        let hlen: u8 = if syn { 28 } else { 20 };
        out.extend_from_slice(&s.seq.to_be_bytes());
        out.extend_from_slice(&s.ack.to_be_bytes());
        out.extend_from_slice(&[(hlen / 4) << 4, s.flags, 0xfa, 0xf0, 0, 0, 0, 0]);
        if syn {
            // MSS, NOP, NOP, SACK permitted.
            out.extend_from_slice(&[2, 4]);
            out.extend_from_slice(&p.mss.to_be_bytes());
            out.extend_from_slice(&[1, 1, 4, 2]);
        }
    } else {
        out.extend_from_slice(&[0, 0, 0, 0]);
    }
    if let Some(m) = msg.filter(|_| s.len > 0) {
        m.write_slice(u64::from(s.off), u64::from(s.len), out);
    }
    let l4_len = (out.len() - l4_at) as u16;
    if !tcp {
        out[l4_at + 4..l4_at + 6].copy_from_slice(&l4_len.to_be_bytes());
    }
    // The L4 checksum over the pseudo-header (the L4 header is of even
    // length, so only the payload can end odd).
    let mut pseudo = [0u8; 40];
    let pseudo_len = if plan.v6 {
        pseudo[..16].copy_from_slice(src);
        pseudo[16..32].copy_from_slice(dst);
        pseudo[32..36].copy_from_slice(&u32::from(l4_len).to_be_bytes());
        pseudo[39] = proto;
        40
    } else {
        pseudo[..4].copy_from_slice(&src[..4]);
        pseudo[4..8].copy_from_slice(&dst[..4]);
        pseudo[9] = proto;
        pseudo[10..12].copy_from_slice(&l4_len.to_be_bytes());
        12
    };
    let mut c = checksum(&[&pseudo[..pseudo_len], &out[l4_at..]]);
    if c == 0 && !tcp {
        c = 0xffff;
    }
    let csum_at = l4_at + if tcp { 16 } else { 6 };
    out[csum_at..csum_at + 2].copy_from_slice(&c.to_be_bytes());
    let ttl = if s.dir == 0 { 64 } else { 57 };
    let h = &mut out[ip_at..l4_at];
    if plan.v6 {
        let label = (plan.index as u32 ^ (plan.index >> 20) as u32) & 0xf_ffff;
        h[..4].copy_from_slice(&(0x6000_0000u32 | label).to_be_bytes());
        h[4..6].copy_from_slice(&l4_len.to_be_bytes());
        h[6] = proto;
        h[7] = ttl;
        h[8..24].copy_from_slice(src);
        h[24..40].copy_from_slice(dst);
    } else {
        let id = (plan.seed as u16).wrapping_add(s.n as u16);
        h[0] = 0x45;
        h[2..4].copy_from_slice(&(20 + l4_len).to_be_bytes());
        h[4..6].copy_from_slice(&id.to_be_bytes());
        h[6] = if tcp { 0x40 } else { 0 };
        h[8] = ttl;
        h[9] = proto;
        h[12..16].copy_from_slice(&src[..4]);
        h[16..20].copy_from_slice(&dst[..4]);
        let c = checksum(&[h]);
        h[10..12].copy_from_slice(&c.to_be_bytes());
    }
}

/// Outer IPv4 + UDP headers (tunnels; UDP checksum 0), reserved at
/// `at` before the inner bytes were appended and filled in now.
const OUTER: usize = 28;

fn fill_outer_udp(plan: &FlowPlan, s: &Spec, port: u16, sport: u16, at: usize, out: &mut [u8]) {
    let (a, b) = (
        [192, 168, 100, 1],
        [192, 168, 100, 2 + (plan.index % 200) as u8],
    );
    let (src, dst) = if s.dir == 0 { (a, b) } else { (b, a) };
    let total = (out.len() - at) as u16;
    let h = &mut out[at..at + 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&(s.n as u16).to_be_bytes());
    h[8] = 64;
    h[9] = 17;
    h[12..16].copy_from_slice(&src);
    h[16..20].copy_from_slice(&dst);
    let c = checksum(&[h]);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    let u = &mut out[at + 20..at + OUTER];
    u[..2].copy_from_slice(&sport.to_be_bytes());
    u[2..4].copy_from_slice(&port.to_be_bytes());
    u[4..6].copy_from_slice(&(total - 20).to_be_bytes());
}

/// Appends the whole frame of `s` (Ethernet link type); `msg` is the
/// message its payload comes from (`None` for packets without payload).
pub fn frame(p: &Params, plan: &FlowPlan, s: &Spec, msg: Option<&Message>, out: &mut Vec<u8>) {
    let (smac, dmac) = if s.dir == 0 {
        (mac(plan.index, 1), mac(plan.index, 2))
    } else {
        (mac(plan.index, 2), mac(plan.index, 1))
    };
    let ethertype: u16 = if plan.v6 { 0x86dd } else { 0x0800 };
    out.extend_from_slice(&dmac);
    out.extend_from_slice(&smac);
    match plan.encap {
        Encap::None => {
            out.extend_from_slice(&ethertype.to_be_bytes());
            ip_packet(p, plan, s, msg, out);
        }
        Encap::Vlan(vid) => {
            out.extend_from_slice(&[0x81, 0x00]);
            out.extend_from_slice(&vid.to_be_bytes());
            out.extend_from_slice(&ethertype.to_be_bytes());
            ip_packet(p, plan, s, msg, out);
        }
        Encap::Vxlan(vni) => {
            out.extend_from_slice(&[0x08, 0x00]);
            let at = out.len();
            out.resize(at + OUTER, 0);
            out.extend_from_slice(&[0x08, 0, 0, 0]);
            out.extend_from_slice(&(vni << 8).to_be_bytes());
            out.extend_from_slice(&mac(plan.index, 4));
            out.extend_from_slice(&mac(plan.index, 3));
            out.extend_from_slice(&ethertype.to_be_bytes());
            ip_packet(p, plan, s, msg, out);
            let sport = 49152 + (plan.index % 16384) as u16;
            fill_outer_udp(plan, s, 4789, sport, at, out);
        }
        Encap::Gtpu(teid) => {
            out.extend_from_slice(&[0x08, 0x00]);
            let at = out.len();
            out.resize(at + OUTER, 0);
            let gtp_at = out.len();
            out.extend_from_slice(&[0x30, 0xff, 0, 0]);
            out.extend_from_slice(&teid.to_be_bytes());
            ip_packet(p, plan, s, msg, out);
            let inner_len = (out.len() - gtp_at - 8) as u16;
            out[gtp_at + 2..gtp_at + 4].copy_from_slice(&inner_len.to_be_bytes());
            fill_outer_udp(plan, s, 2152, 2152, at, out);
        }
    }
}

/// Output file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Classic pcap, little-endian, microsecond timestamps.
    Pcap,
    /// pcapng: one Ethernet interface, microsecond timestamps.
    Pcapng,
}

/// The file header.
pub fn file_header(format: Format) -> Vec<u8> {
    let mut h = Vec::new();
    match format {
        Format::Pcap => {
            h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
            h.extend_from_slice(&2u16.to_le_bytes());
            h.extend_from_slice(&4u16.to_le_bytes());
            h.extend_from_slice(&[0; 8]);
            h.extend_from_slice(&65_535u32.to_le_bytes());
            h.extend_from_slice(&1u32.to_le_bytes());
        }
        Format::Pcapng => {
            // Section header block: byte-order magic, version 1.0,
            // section length unknown.
            h.extend_from_slice(&0x0a0d_0d0au32.to_le_bytes());
            h.extend_from_slice(&28u32.to_le_bytes());
            h.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
            h.extend_from_slice(&1u16.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            h.extend_from_slice(&(-1i64).to_le_bytes());
            h.extend_from_slice(&28u32.to_le_bytes());
            // Interface description block: Ethernet, snaplen 65535.
            h.extend_from_slice(&1u32.to_le_bytes());
            h.extend_from_slice(&20u32.to_le_bytes());
            h.extend_from_slice(&1u16.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            h.extend_from_slice(&65_535u32.to_le_bytes());
            h.extend_from_slice(&20u32.to_le_bytes());
        }
    }
    h
}

/// Appends one record holding `frame` captured at `ts_ns`.
pub fn record(format: Format, ts_ns: u64, frame: &[u8], out: &mut Vec<u8>) {
    let us = ts_ns / 1_000;
    let len = frame.len() as u32;
    match format {
        Format::Pcap => {
            out.extend_from_slice(&((us / 1_000_000) as u32).to_le_bytes());
            out.extend_from_slice(&((us % 1_000_000) as u32).to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(frame);
        }
        Format::Pcapng => {
            let padded = frame.len().div_ceil(4) * 4;
            let total = (32 + padded) as u32;
            out.extend_from_slice(&6u32.to_le_bytes());
            out.extend_from_slice(&total.to_le_bytes());
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&((us >> 32) as u32).to_le_bytes());
            out.extend_from_slice(&(us as u32).to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(frame);
            out.resize(out.len() + padded - frame.len(), 0);
            out.extend_from_slice(&total.to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&[&data]), !0xddf2);
        assert_eq!(checksum(&[&data[..4], &data[4..]]), !0xddf2);
        // An odd tail counts as its high byte.
        assert_eq!(checksum(&[&[0x12]]), !0x1200);
    }
}
