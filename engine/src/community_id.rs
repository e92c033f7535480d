//! Community ID v1 (corelight/community-id-spec): a SHA-1 over the flow
//! tuple, base64-rendered, so flow records from different tools join on
//! one string; [`community_id_v1`] over a tuple, [`community_id`] over a
//! 5-tuple key seen from its initiator.

use std::cmp::Ordering;
use std::net::IpAddr;

use crate::key::{FiveTupleKey, icmp_port_equivalents};
use crate::vocab::Orientation;

const PROTO_ICMP: u8 = 1;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_ICMPV6: u8 = 58;
const PROTO_SCTP: u8 = 132;

/// SHA-1's initial state (FIPS 180-4, 5.3.1).
const SHA1_INIT: [u32; 5] = [
    0x6745_2301,
    0xefcd_ab89,
    0x98ba_dcfe,
    0x1032_5476,
    0xc3d2_e1f0,
];

/// Community ID v1 of a flow seen from its initiator: `src`/`sport` are the
/// initiator's. For ICMP the ports are the Zeek port equivalents the flow
/// key holds (type and counterpart-type or code); messages without a
/// counterpart type are one-way and are not reordered, as the spec says.
pub fn community_id_v1(
    proto: u8,
    src: IpAddr,
    sport: u16,
    dst: IpAddr,
    dport: u16,
    seed: u16,
) -> CommunityId {
    let has_ports = matches!(
        proto,
        PROTO_TCP | PROTO_UDP | PROTO_SCTP | PROTO_ICMP | PROTO_ICMPV6
    );
    let one_way = match proto {
        PROTO_ICMP | PROTO_ICMPV6 => {
            let msg_type = u8::try_from(sport).unwrap_or(u8::MAX);
            let code = u8::try_from(dport).unwrap_or(u8::MAX);
            icmp_port_equivalents(proto == PROTO_ICMPV6, msg_type, code).2
        }
        _ => false,
    };
    // The hash input, at most 40 bytes, written straight into the one
    // SHA-1 block: seed, the ordered addresses, protocol, a zero byte, and
    // the ports.
    let mut block = [0u8; 64];
    block[..2].copy_from_slice(&seed.to_be_bytes());
    let ports_in_order = has_ports && sport < dport;
    let in_order = |o: Ordering| one_way || o.is_lt() || (o.is_eq() && ports_in_order);
    let (n, swap) = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => lay_out(&mut block, &s.octets(), &d.octets(), in_order),
        (IpAddr::V6(s), IpAddr::V6(d)) => lay_out(&mut block, &s.octets(), &d.octets(), in_order),
        // Mixed families (no flow key has them).
        (s, d) => lay_out(
            &mut block,
            addr_bytes(s).as_slice(),
            addr_bytes(d).as_slice(),
            in_order,
        ),
    };
    let (sport, dport) = if swap { (dport, sport) } else { (sport, dport) };
    block[n] = proto;
    let mut n = n + 2;
    if has_ports {
        block[n..n + 2].copy_from_slice(&sport.to_be_bytes());
        block[n + 2..n + 4].copy_from_slice(&dport.to_be_bytes());
        n += 4;
    }
    let digest = sha1_one_block(block, n);
    let mut text = [0u8; CommunityId::LEN];
    text[..2].copy_from_slice(b"1:");
    base64_digest(&digest, &mut text[2..]);
    CommunityId(text)
}

/// The standard base64 alphabet (RFC 4648, section 4).
const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A SHA-1 digest in padded standard base64: six groups of three bytes,
/// then two bytes as three characters and `=`. Written out for the one
/// length, a table lookup per character.
fn base64_digest(digest: &[u8; 20], out: &mut [u8]) {
    let (groups, tail) = digest.as_chunks::<3>();
    let (quads, last) = out.as_chunks_mut::<4>();
    for (g, q) in groups.iter().zip(quads.iter_mut()) {
        let n = u32::from_be_bytes([0, g[0], g[1], g[2]]);
        *q = [18, 12, 6, 0].map(|s| BASE64[(n >> s) as usize & 63]);
    }
    if let ([a, b], [.., q]) = (tail, quads) {
        let n = u32::from_be_bytes([0, *a, *b, 0]);
        *q = [
            BASE64[(n >> 18) as usize & 63],
            BASE64[(n >> 12) as usize & 63],
            BASE64[(n >> 6) as usize & 63],
            b'=',
        ];
    }
    debug_assert!(last.is_empty());
}

/// Lays the two addresses out from byte 2 of `block`, in the spec's
/// order: as given when `in_order` says so of their byte-wise comparison,
/// else swapped. Returns where they end and whether they were swapped.
/// Inlined, so a family's fixed lengths make the comparison and the copies
/// a few loads and stores.
#[inline(always)]
fn lay_out(
    block: &mut [u8; 64],
    s: &[u8],
    d: &[u8],
    in_order: impl Fn(Ordering) -> bool,
) -> (usize, bool) {
    let swap = !in_order(s.cmp(d));
    let (a, b) = if swap { (d, s) } else { (s, d) };
    block[2..2 + a.len()].copy_from_slice(a);
    block[2 + a.len()..2 + a.len() + b.len()].copy_from_slice(b);
    (2 + a.len() + b.len(), swap)
}

/// SHA-1 of the first `n` bytes of `block` (at most 55, the rest zero):
/// with its padding the input fills the one 64-byte block, so one
/// compression and no hasher state to carry.
fn sha1_one_block(mut block: [u8; 64], n: usize) -> [u8; 20] {
    debug_assert!(n <= 55, "one block holds at most 55 bytes");
    debug_assert!(block[n..].iter().all(|&b| b == 0));
    block[n] = 0x80;
    block[56..].copy_from_slice(&(8 * n as u64).to_be_bytes());
    let mut state = SHA1_INIT;
    sha1::block_api::compress(&mut state, &[block]);
    let mut digest = [0u8; 20];
    for (out, word) in digest.chunks_exact_mut(4).zip(state) {
        out.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

/// A Community ID v1 string, `1:` and 28 base64 characters, held inline:
/// records compute one each, and an allocation per record is not needed.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommunityId([u8; CommunityId::LEN]);

impl CommunityId {
    /// Length of the text: `1:` and the base64 of a SHA-1 digest.
    pub const LEN: usize = 30;

    /// The text, e.g. `1:LQU9qZlK+B5F3KDmev6m5PMibrg=`.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever written into it.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for CommunityId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for CommunityId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for CommunityId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for CommunityId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

enum AddrBytes {
    V4([u8; 4]),
    V6([u8; 16]),
}

impl AddrBytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            AddrBytes::V4(b) => b,
            AddrBytes::V6(b) => b,
        }
    }
}

fn addr_bytes(a: IpAddr) -> AddrBytes {
    match a {
        IpAddr::V4(v) => AddrBytes::V4(v.octets()),
        IpAddr::V6(v) => AddrBytes::V6(v.octets()),
    }
}

/// Community ID v1 of a 5-tuple flow, from its initiator's point of view.
pub fn community_id(key: &FiveTupleKey, initiator: Orientation, seed: u16) -> CommunityId {
    let (src, dst) = key.oriented(initiator);
    community_id_v1(key.proto(), src.addr, src.port, dst.addr, dst.port, seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Digests of every byte value in every position, and the all-zero and
    /// all-one ones, against the base64 crate.
    #[test]
    fn digests_in_base64() {
        use base64::Engine as _;
        let mut digests = vec![[0u8; 20], [0xff; 20]];
        for v in 0..=255u8 {
            let mut d = [0u8; 20];
            for (i, b) in d.iter_mut().enumerate() {
                *b = v.wrapping_add((i as u8).wrapping_mul(53));
            }
            digests.push(d);
        }
        for d in digests {
            let mut text = [0u8; 28];
            base64_digest(&d, &mut text);
            let want = base64::engine::general_purpose::STANDARD.encode(d);
            assert_eq!(std::str::from_utf8(&text).unwrap(), want, "{d:?}");
        }
    }

    /// Every length one block holds, against the hasher.
    #[test]
    fn one_block_is_sha1() {
        use sha1::Digest;
        let bytes: Vec<u8> = (0..55u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
        for n in 0..=55 {
            let want: [u8; 20] = sha1::Sha1::digest(&bytes[..n]).into();
            let mut block = [0u8; 64];
            block[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(sha1_one_block(block, n), want, "{n} bytes");
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The spec's `baseline/baseline_deflt.json` (seed 0), every entry.
    #[test]
    fn spec_baseline_seed_0() {
        let cases: &[(u8, &str, &str, u16, u16, &str)] = &[
            (
                58,
                "fe80::200:86ff:fe05:80da",
                "fe80::260:97ff:fe07:69ea",
                135,
                136,
                "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
            ),
            (
                58,
                "fe80::260:97ff:fe07:69ea",
                "fe80::200:86ff:fe05:80da",
                136,
                135,
                "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
            ),
            (
                58,
                "fe80::260:97ff:fe07:69ea",
                "fe80::200:86ff:fe05:80da",
                135,
                136,
                "1:zavyT/cezQr1fmImYCwYnMXbgck=",
            ),
            (
                58,
                "fe80::200:86ff:fe05:80da",
                "fe80::260:97ff:fe07:69ea",
                136,
                135,
                "1:zavyT/cezQr1fmImYCwYnMXbgck=",
            ),
            (
                58,
                "3ffe:501:1800:2345::2",
                "3ffe:507:0:1:200:86ff:fe05:80da",
                3,
                0,
                "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=",
            ),
            (
                58,
                "3ffe:501:410:0:2c0:dfff:fe47:33e",
                "3ffe:507:0:1:200:86ff:fe05:80da",
                1,
                4,
                "1:hLZd0XGWojozrvxqE0dWB1iM6R0=",
            ),
            (
                58,
                "3ffe:507:0:1:200:86ff:fe05:80da",
                "3ffe:501:0:1001::2",
                128,
                129,
                "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=",
            ),
            (
                58,
                "3ffe:501:0:1001::2",
                "3ffe:507:0:1:200:86ff:fe05:80da",
                129,
                128,
                "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=",
            ),
            (
                58,
                "fe80::200:86ff:fe05:80da",
                "ff02::2",
                133,
                134,
                "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=",
            ),
            (
                58,
                "fe80::260:97ff:fe07:69ea",
                "ff02::1",
                134,
                133,
                "1:pkvHqCL88/tg1k4cPigmZXUtL00=",
            ),
            (
                1,
                "192.168.0.89",
                "192.168.0.1",
                8,
                0,
                "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
            ),
            (
                1,
                "192.168.0.1",
                "192.168.0.89",
                0,
                8,
                "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
            ),
            (
                1,
                "10.0.0.1",
                "10.0.0.2",
                11,
                0,
                "1:YHxtAirCG//0OzkcVAukqKQN9xM=",
            ),
            (
                6,
                "2001:470:e5bf:dead:4957:2174:e82c:4887",
                "2607:f8b0:400c:c03::1a",
                63943,
                25,
                "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=",
            ),
            (
                6,
                "2607:f8b0:400c:c03::1a",
                "2001:470:e5bf:dead:4957:2174:e82c:4887",
                25,
                63943,
                "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=",
            ),
            (
                132,
                "192.168.170.8",
                "192.168.170.56",
                7,
                7,
                "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
            ),
            (
                132,
                "192.168.170.56",
                "192.168.170.8",
                7,
                7,
                "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
            ),
            (
                6,
                "128.232.110.120",
                "66.35.250.204",
                34855,
                80,
                "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
            ),
            (
                6,
                "66.35.250.204",
                "128.232.110.120",
                80,
                34855,
                "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
            ),
            (
                17,
                "192.168.1.52",
                "8.8.8.8",
                54585,
                53,
                "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
            ),
            (
                17,
                "8.8.8.8",
                "192.168.1.52",
                53,
                54585,
                "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
            ),
            (
                46,
                "10.1.12.1",
                "10.1.12.2",
                0,
                0,
                "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=",
            ),
            (
                46,
                "10.1.12.2",
                "10.1.12.1",
                0,
                0,
                "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=",
            ),
        ];
        for &(proto, s, d, sp, dp, want) in cases {
            // The baseline gives raw ICMP type/code; the engine hands over
            // the Zeek port equivalents, so map first as the flow key would.
            let (sp, dp) = if proto == 1 || proto == 58 {
                let (a, b, _) = icmp_port_equivalents(proto == 58, sp as u8, dp as u8);
                (a, b)
            } else {
                (sp, dp)
            };
            assert_eq!(
                community_id_v1(proto, ip(s), sp, ip(d), dp, 0),
                want,
                "{proto} {s} {d}"
            );
        }
    }

    /// The spec's definition written out plainly (addresses compared and
    /// laid out as byte strings, the SHA-1 hasher): the fixed-offset paths
    /// of either family and the mixed one give its text, either way round,
    /// equal addresses included.
    #[test]
    fn both_families_match_the_spec_either_way_round() {
        use base64::Engine as _;
        use sha1::Digest;
        fn spec(proto: u8, s: IpAddr, sp: u16, d: IpAddr, dp: u16, seed: u16) -> String {
            let (s, d) = (addr_bytes(s), addr_bytes(d));
            let (s, d) = (s.as_slice().to_vec(), d.as_slice().to_vec());
            let (s, d, sp, dp) = if s < d || (s == d && sp < dp) {
                (s, d, sp, dp)
            } else {
                (d, s, dp, sp)
            };
            let mut input = seed.to_be_bytes().to_vec();
            input.extend([s, d].concat());
            input.extend([proto, 0]);
            input.extend(sp.to_be_bytes());
            input.extend(dp.to_be_bytes());
            let digest = sha1::Sha1::digest(&input);
            format!(
                "1:{}",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        }
        let addrs = [
            "10.0.0.1",
            "10.0.0.2",
            "192.168.1.1",
            "255.255.255.255",
            "0.0.0.0",
            "::1",
            "2001:db8::1",
            "2001:db8::2",
            "ffff::ffff",
        ];
        for (i, a) in addrs.iter().enumerate() {
            for b in &addrs[i..] {
                for (sp, dp) in [(1234, 80), (80, 1234), (53, 53), (0, 65535)] {
                    for (proto, seed) in [(6, 0), (17, 9), (132, 0xffff)] {
                        let (a, b) = (ip(a), ip(b));
                        let want = spec(proto, a, sp, b, dp, seed);
                        assert_eq!(community_id_v1(proto, a, sp, b, dp, seed), want.as_str());
                        assert_eq!(community_id_v1(proto, b, dp, a, sp, seed), want.as_str());
                    }
                }
            }
        }
    }

    #[test]
    fn seed_changes_the_id() {
        let a = community_id_v1(6, ip("10.0.0.1"), 1234, ip("10.0.0.2"), 80, 0);
        let b = community_id_v1(6, ip("10.0.0.1"), 1234, ip("10.0.0.2"), 80, 1);
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("1:") && a.as_str().len() == 30);
    }
}
