//! Link layers and encapsulations added to the decoder's list, each with
//! byte-literal frames: 802.3 with LLC/SNAP, 802.1ah provider backbone
//! bridging, NFLOG (both TLV byte orders), SLIP, and SNAP in Linux cooked
//! captures.

use super::tests::{decode_with, decoder};
use super::*;
use crate::testutil::ip4_udp;

const A: [u8; 4] = [10, 0, 0, 1];
const B: [u8; 4] = [10, 0, 0, 2];

fn decode(lt: LinkType, data: &[u8]) -> Result<PacketView<'_>, DecodeError> {
    decode_with(&decoder(), lt, data)
}

/// The UDP datagram 10.0.0.1:5353 -> 10.0.0.2:53 every frame carries.
fn datagram() -> Vec<u8> {
    ip4_udp(A, 5353, B, 53, b"query")
}

fn assert_udp(v: &PacketView<'_>) {
    assert_eq!(v.ports(), Some((5353, 53)));
    let ip = v.ip.expect("ip");
    assert_eq!((ip.src, ip.dst), (IpAddr::from(A), IpAddr::from(B)));
}

const MACS: [u8; 12] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];

#[test]
fn ieee_802_3_with_llc_snap_carries_ip() {
    let ip = datagram();
    let mut f = MACS.to_vec();
    f.extend_from_slice(&((8 + ip.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
    f.extend_from_slice(&ip);
    f.extend_from_slice(&[0; 6]); // padding past the 802.3 length
    assert_udp(&decode(LinkType::ETHERNET, &f).unwrap());
    // Spanning tree: LLC without SNAP is not IP, and not an error.
    let mut stp = MACS.to_vec();
    stp.extend_from_slice(&[0, 38, 0x42, 0x42, 0x03, 0, 0]);
    stp.resize(14 + 38, 0);
    let v = decode(LinkType::ETHERNET, &stp).unwrap();
    assert!(v.ip.is_none());
    assert_eq!(v.non_ip_ethertype, 38);
}

#[test]
fn provider_backbone_bridging_carries_the_inner_frame() {
    // B-DA, B-SA, B-tag (802.1ad, VLAN 100), I-tag (I-SID 0x012345),
    // C-DA, C-SA, IPv4.
    let mut f = MACS.to_vec();
    f.extend_from_slice(&[0x88, 0xa8, 0x00, 0x64]);
    f.extend_from_slice(&[0x88, 0xe7, 0x00, 0x01, 0x23, 0x45]);
    f.extend_from_slice(&[4, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 2, 0x08, 0x00]);
    f.extend_from_slice(&datagram());
    let v = decode(LinkType::ETHERNET, &f).unwrap();
    assert_udp(&v);
    assert_eq!(v.vlans.as_slice(), &[100]);
    // Cut inside the inner addresses: truncated, not a panic.
    assert_eq!(
        decode(LinkType::ETHERNET, &f[..24]).unwrap_err(),
        DecodeError::LinkTruncated
    );
}

/// An NFLOG record: family, version, resource id, a prefix TLV, then the
/// payload TLV, lengths and types in the given byte order.
fn nflog(family: u8, little: bool, packet: &[u8]) -> Vec<u8> {
    let u16b = |x: u16| {
        if little {
            x.to_le_bytes()
        } else {
            x.to_be_bytes()
        }
    };
    let mut f = vec![family, 0, 0, 1];
    // NFULA_PREFIX (type 10), "drop\0": 9 bytes, padded to 12.
    f.extend_from_slice(&u16b(9));
    f.extend_from_slice(&u16b(10));
    f.extend_from_slice(b"drop\0\0\0\0");
    f.extend_from_slice(&u16b(4 + packet.len() as u16));
    f.extend_from_slice(&u16b(9));
    f.extend_from_slice(packet);
    f
}

#[test]
fn nflog_carries_the_packet_in_its_payload_tlv() {
    for little in [true, false] {
        assert_udp(&decode(LinkType::NFLOG, &nflog(2, little, &datagram())).unwrap());
    }
    // No payload TLV (a bad length): truncated.
    let mut bad = nflog(2, true, &datagram());
    bad[4] = 0xff;
    bad[5] = 0xff;
    assert_eq!(
        decode(LinkType::NFLOG, &bad).unwrap_err(),
        DecodeError::LinkTruncated
    );
    assert!(decode(LinkType::NFLOG, &[2, 0]).is_err());
}

#[test]
fn slip_skips_libpcaps_pseudo_header() {
    let mut f = vec![0u8; 16];
    f[1] = 0x40; // a plain IP packet, received
    f.extend_from_slice(&datagram());
    assert_udp(&decode(LinkType::SLIP, &f).unwrap());
    // A compressed TCP header (or no SLIP header at all) is not IP.
    f[1] = 0x80;
    assert!(decode(LinkType::SLIP, &f).unwrap().ip.is_none());
    assert_eq!(
        decode(LinkType::SLIP, &[0; 10]).unwrap_err(),
        DecodeError::LinkTruncated
    );
}

#[test]
fn cooked_llc_frames_carry_ip_in_snap() {
    // SLL v1: packet type, ARPHRD_ETHER, address length 6, address, 2
    // bytes, protocol ETH_P_802_2.
    let mut f = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x00, 0x04];
    f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
    f.extend_from_slice(&datagram());
    assert_udp(&decode(LinkType::LINUX_SLL, &f).unwrap());
}
