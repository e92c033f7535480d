//! Flow keys and the extractors that build them from decoded packets.
//!
//! An extractor turns a [`PacketView`] into a key, the packet's orientation
//! relative to that key, and a 64-bit hash of the key computed once and
//! reused by the flow table (and by the shard dispatcher). Bidirectional
//! keys are canonical (endpoints sorted), so both directions of a
//! conversation produce the same key and the same hash.

use crate::config::EngineConfig;
use crate::packet::{PacketView, Transport, TunnelKind, VlanIds};
use crate::vocab::Orientation;
use pair_keyed::PairKeyed;
use std::fmt::Debug;
use std::hash::Hash;
use std::net::IpAddr;

/// What every flow key type provides.
pub trait FlowKey: Clone + Eq + Hash + Ord + Debug + Send + Sync + 'static {}

/// The result of keying one packet.
#[derive(Debug, Clone)]
pub struct Extracted<K> {
    /// The flow key.
    pub key: K,
    /// The packet's direction relative to the key.
    pub orientation: Orientation,
    /// Seeded 64-bit hash of `key`.
    pub hash: u64,
}

/// Builds flow keys from decoded packets.
pub trait FlowExtractor: Send + 'static {
    /// The key type.
    type Key: FlowKey;
    /// Keys a packet, or `None` when it carries nothing this extractor keys
    /// on (a non-IP frame for an IP key, say).
    fn extract(&self, pkt: &PacketView<'_>) -> Option<Extracted<Self::Key>>;

    /// Like [`FlowExtractor::extract`], given the packet's
    /// [`FlowExtractor::dispatch_hash`] (which a pipeline's ingest computed
    /// to pick the shard): extractors whose flow hash builds on it finish
    /// the hash from there instead of starting over. Must return exactly
    /// what `extract` returns.
    fn extract_hashed(
        &self,
        pkt: &PacketView<'_>,
        dispatch_hash: u64,
    ) -> Option<Extracted<Self::Key>> {
        let _ = dispatch_hash;
        self.extract(pkt)
    }

    /// The hash a sharded pipeline dispatches on. Every packet that can
    /// belong to one flow — both directions, and every fragment of a
    /// datagram, which carries no ports — must get the same value. The
    /// default, the symmetric hash of the IP address pair (else the MAC
    /// pair), is right for every key that contains the addresses; coarser
    /// than the key is fine, it only decides the shard.
    fn dispatch_hash(&self, pkt: &PacketView<'_>) -> Option<u64> {
        default_dispatch_hash(pkt)
    }

    /// Whether one flow of this key is one transport conversation, so TCP
    /// state, `conn_state` and history apply. Keys that aggregate several
    /// conversations (IP pair, MAC pair) say no.
    fn transport_state(&self) -> bool {
        true
    }
}

/// Options shared by the built-in extractors.
#[derive(Debug, Clone)]
pub struct KeyOptions {
    /// Include VLAN ids in the key.
    pub vlan_in_key: bool,
    /// Include the tunnel type and id in the key.
    pub tunnel_in_key: bool,
    /// Hash seed.
    pub hash_seed: u64,
}

impl KeyOptions {
    /// The key options of an engine configuration.
    pub fn from_config(cfg: &EngineConfig) -> Self {
        KeyOptions {
            vlan_in_key: cfg.flow.vlan_in_key,
            tunnel_in_key: cfg.flow.tunnel_in_key,
            hash_seed: cfg.flow.hash_seed,
        }
    }

    /// Hashes a key's words: a chain of folded 64x64->128 multiplies (the
    /// construction foldhash uses), about one multiply per 16 bytes of key,
    /// instead of feeding every field through the generic `Hash` machinery.
    #[inline]
    fn hash_words<const N: usize>(&self, words: [u64; N]) -> u64 {
        const K: [u64; 4] = [
            0x243f_6a88_85a3_08d3,
            0x1319_8a2e_0370_7344,
            0xa409_3822_299f_31d0,
            0x082e_fa98_ec4e_6c89,
        ];
        let mut acc = self.hash_seed ^ K[3];
        let mut i = 0;
        while i + 1 < N {
            acc = folded_multiply(words[i] ^ acc ^ K[0], words[i + 1] ^ K[1]);
            i += 2;
        }
        if i < N {
            acc = folded_multiply(words[i] ^ acc ^ K[0], K[1]);
        }
        folded_multiply(acc, K[2])
    }

    /// The seeded, symmetric hash of an address pair: the dispatch hash of
    /// the built-in address keys, and the start of their flow hashes (so a
    /// pipeline hashes the addresses once, in its ingest).
    #[inline]
    pub(crate) fn pair_hash(&self, x: AddrBits, y: AddrBits) -> u64 {
        let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
        self.hash_words([lo.0[0], lo.0[1], hi.0[0], hi.0[1]])
    }

    /// The seeded, symmetric hash of a packet's IP address pair: the
    /// dispatch hash of the built-in address keys, and the start of their
    /// flow hashes.
    #[inline]
    pub fn packet_pair_hash(&self, pkt: &PacketView<'_>) -> Option<u64> {
        let ip = pkt.ip?;
        Some(self.pair_hash(AddrBits::of(ip.src), AddrBits::of(ip.dst)))
    }

    /// A flow hash from the pair hash and the key's other words.
    #[inline]
    fn finish(&self, pair: u64, ports: u64, context: u64) -> u64 {
        // One multiply: `pair` is already a finished hash, so mixing the
        // remaining words into it needs no second round.
        const K: [u64; 2] = [0x4528_21e6_38d0_1377, 0xbe54_66cf_34e9_0c6c];
        folded_multiply(pair ^ ports ^ K[0], context ^ K[1])
    }

    fn context(&self, pkt: &PacketView<'_>) -> KeyContext {
        KeyContext {
            vlans: if self.vlan_in_key {
                pkt.vlans
            } else {
                VlanIds::default()
            },
            tunnel: match pkt.tunnel {
                Some(t) if self.tunnel_in_key => {
                    Some((t.kind, if t.kind.id_is_symmetric() { t.id } else { 0 }))
                }
                _ => None,
            },
        }
    }
}

impl Default for KeyOptions {
    fn default() -> Self {
        KeyOptions::from_config(&EngineConfig::default())
    }
}

#[inline(always)]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

/// An address as 128 bits (IPv4 mapped, so the families never collide).
#[inline(always)]
fn addr_bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v4) => (0xffff_u128 << 32) | u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The symmetric hash of a packet's IP address pair (or, for non-IP
/// frames, its MAC pair): the default shard-dispatch hash.
pub fn default_dispatch_hash(pkt: &PacketView<'_>) -> Option<u64> {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let (x, y) = match pkt.ip {
        Some(ip) => (addr_bits(ip.src), addr_bits(ip.dst)),
        None => {
            let mac = |m: [u8; 6]| m.iter().fold(0u128, |w, &b| (w << 8) | u128::from(b));
            (mac(pkt.src_mac?), mac(pkt.dst_mac?))
        }
    };
    let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
    let a = folded_multiply((lo >> 64) as u64 ^ K, lo as u64 ^ 0x243f_6a88_85a3_08d3);
    let b = folded_multiply((hi >> 64) as u64 ^ a, hi as u64 ^ 0x1319_8a2e_0370_7344);
    Some(folded_multiply(b, K))
}

/// The encapsulation a flow lives in, when the configuration keys on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyContext {
    /// VLAN ids (empty when VLANs are not part of the key).
    pub vlans: VlanIds,
    /// Tunnel type and id (None when tunnels are not part of the key).
    pub tunnel: Option<(TunnelKind, u32)>,
}

/// One side of a 5-tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// IP address.
    pub addr: IpAddr,
    /// Port; for ICMP the Zeek/Community-ID port equivalent of type/code.
    pub port: u16,
}

/// An IP address as two aligned 64-bit words (IPv4 addresses IPv4-mapped).
/// Keys hold addresses this way rather than as `IpAddr` (17 bytes, byte
/// aligned), which the CPU cannot copy or compare without stalls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct AddrBits([u64; 2]);

impl AddrBits {
    /// The bits of an address.
    #[inline]
    pub fn of(a: IpAddr) -> Self {
        let b = addr_bits(a);
        AddrBits([(b >> 64) as u64, b as u64])
    }
    /// As 128 bits.
    #[inline]
    pub fn bits(self) -> u128 {
        (u128::from(self.0[0]) << 64) | u128::from(self.0[1])
    }
    /// Back to an address of the given family.
    #[inline]
    pub fn to_ip(self, v6: bool) -> IpAddr {
        if v6 {
            IpAddr::V6(std::net::Ipv6Addr::from(self.bits()))
        } else {
            IpAddr::V4(std::net::Ipv4Addr::from(self.0[1] as u32))
        }
    }
}

/// A 5-tuple key plus encapsulation context.
///
/// Field order matters: the derived `Ord` (used to order time-driven
/// events deterministically) compares endpoints first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FiveTupleKey {
    a_addr: AddrBits,
    b_addr: AddrBits,
    a_port: u16,
    b_port: u16,
    proto: u8,
    v6: bool,
    context: KeyContext,
}

impl FlowKey for FiveTupleKey {}

/// The 5-tuple hash from the parts in registers, given the pair hash.
/// (Hashing a key just built on the stack reads back its 2-byte port
/// fields as one 4-byte word, which the CPU cannot forward from the two
/// stores: a ~15-cycle stall per packet.)
#[inline(always)]
fn hash_parts(
    opts: &KeyOptions,
    pair: u64,
    a_port: u16,
    b_port: u16,
    proto: u8,
    forward: bool,
    context: &KeyContext,
) -> u64 {
    opts.finish(
        pair,
        u64::from(a_port)
            | (u64::from(b_port) << 16)
            | (u64::from(proto) << 32)
            | (u64::from(forward) << 40),
        context.word(),
    )
}

impl KeyContext {
    /// VLAN ids and tunnel id folded into one word for hashing.
    #[inline]
    fn word(&self) -> u64 {
        let v = self.vlans.as_slice();
        let mut w = v.len() as u64;
        for (i, &id) in v.iter().enumerate() {
            w |= u64::from(id) << (4 + 12 * i);
        }
        if let Some((kind, id)) = self.tunnel {
            w ^= (u64::from(id) << 24) ^ ((kind as u64 + 1) << 56);
        }
        w
    }
}

impl FiveTupleKey {
    /// A key from its parts (endpoints as given: canonical order is the
    /// extractor's business).
    pub fn new(a: Endpoint, b: Endpoint, proto: u8, context: KeyContext) -> Self {
        FiveTupleKey {
            a_addr: AddrBits::of(a.addr),
            b_addr: AddrBits::of(b.addr),
            a_port: a.port,
            b_port: b.port,
            proto,
            v6: a.addr.is_ipv6(),
            context,
        }
    }

    /// First endpoint (the smaller one for bidirectional keys; the source
    /// for directional keys).
    pub fn a(&self) -> Endpoint {
        Endpoint {
            addr: self.a_addr.to_ip(self.v6),
            port: self.a_port,
        }
    }

    /// Second endpoint.
    pub fn b(&self) -> Endpoint {
        Endpoint {
            addr: self.b_addr.to_ip(self.v6),
            port: self.b_port,
        }
    }

    /// IP protocol number.
    pub fn proto(&self) -> u8 {
        self.proto
    }

    /// VLAN / tunnel context.
    pub fn context(&self) -> &KeyContext {
        &self.context
    }

    /// The endpoints as (initiator, responder) given the flow's initiator
    /// orientation.
    pub fn oriented(&self, initiator: Orientation) -> (Endpoint, Endpoint) {
        match initiator {
            Orientation::Forward => (self.a(), self.b()),
            Orientation::Reverse => (self.b(), self.a()),
        }
    }
}

/// The port-like values of a packet: real ports for TCP/UDP/SCTP, the
/// Zeek/Community-ID mapping for ICMP, zeros otherwise. The bool says
/// whether the pair is one-way (ICMP messages without a counterpart type),
/// which keeps them from being reordered.
pub fn port_equivalents(pkt: &PacketView<'_>) -> (u16, u16, bool) {
    match pkt.transport {
        Transport::Tcp(t) => (t.src_port(), t.dst_port(), false),
        Transport::Udp(p) | Transport::Sctp(p) => (p.src, p.dst, false),
        Transport::Icmp(i) => icmp_port_equivalents(i.v6, i.msg_type, i.code),
        Transport::None | Transport::Fragment => (0, 0, false),
    }
}

/// Zeek's mapping of ICMP type/code to ports: request/response types map to
/// their counterpart so both directions meet; other types keep (type, code)
/// and are one-way.
pub fn icmp_port_equivalents(v6: bool, msg_type: u8, code: u8) -> (u16, u16, bool) {
    let counterpart = if v6 {
        match msg_type {
            128 => Some(129),
            129 => Some(128),
            130 => Some(131),
            131 => Some(130),
            133 => Some(134),
            134 => Some(133),
            135 => Some(136),
            136 => Some(135),
            139 => Some(140),
            140 => Some(139),
            144 => Some(145),
            145 => Some(144),
            _ => None,
        }
    } else {
        match msg_type {
            8 => Some(0),
            0 => Some(8),
            13 => Some(14),
            14 => Some(13),
            15 => Some(16),
            16 => Some(15),
            10 => Some(9),
            9 => Some(10),
            17 => Some(18),
            18 => Some(17),
            _ => None,
        }
    };
    match counterpart {
        Some(c) => (u16::from(msg_type), c, false),
        None => (u16::from(msg_type), u16::from(code), true),
    }
}

/// ICMP types that answer a request: seeing one first means the sender is
/// the responder.
pub fn icmp_is_reply(v6: bool, msg_type: u8) -> bool {
    if v6 {
        matches!(msg_type, 129 | 131 | 134 | 136 | 140 | 145)
    } else {
        matches!(msg_type, 0 | 14 | 16 | 18 | 9)
    }
}

/// The built-in extractors keyed on an IP address pair ([`FiveTuple`],
/// [`DirectionalFiveTuple`], [`IpPair`]) implement [`FlowExtractor`]
/// through this one generic impl: each keys a packet with one function that
/// takes the packet's dispatch hash when it is known, since that hash (the
/// symmetric address-pair hash) is where their flow hash starts.
impl<T: PairKeyed> FlowExtractor for T {
    type Key = T::Key;

    #[inline]
    fn extract(&self, pkt: &PacketView<'_>) -> Option<Extracted<T::Key>> {
        self.key_with(pkt, None)
    }

    #[inline]
    fn extract_hashed(
        &self,
        pkt: &PacketView<'_>,
        dispatch_hash: u64,
    ) -> Option<Extracted<T::Key>> {
        self.key_with(pkt, Some(dispatch_hash))
    }

    #[inline]
    fn dispatch_hash(&self, pkt: &PacketView<'_>) -> Option<u64> {
        self.opts().packet_pair_hash(pkt)
    }

    fn transport_state(&self) -> bool {
        T::TRANSPORT_STATE
    }
}

/// Sealed: the trait is nameable in the generic impl's bound but not from
/// outside the crate, so only the built-in extractors implement it.
mod pair_keyed {
    use super::{Extracted, FlowKey, KeyOptions};
    use crate::packet::PacketView;

    /// An extractor keyed on the IP address pair; see the generic
    /// [`FlowExtractor`](super::FlowExtractor) impl.
    pub trait PairKeyed: Send + 'static {
        /// The key type.
        type Key: FlowKey;
        /// [`FlowExtractor::transport_state`](super::FlowExtractor::transport_state).
        const TRANSPORT_STATE: bool = true;
        /// The key options, for the address-pair hash.
        fn opts(&self) -> &KeyOptions;
        /// Keys a packet; `pair` is its address-pair hash when the caller
        /// has it (a pipeline's dispatch hash), else it is computed here.
        fn key_with(&self, pkt: &PacketView<'_>, pair: Option<u64>)
        -> Option<Extracted<Self::Key>>;
    }
}

/// Bidirectional 5-tuple extractor (the default).
#[derive(Debug, Clone, Default)]
pub struct FiveTuple {
    opts: KeyOptions,
}

impl FiveTuple {
    /// With the given options.
    pub fn new(opts: KeyOptions) -> Self {
        FiveTuple { opts }
    }
}

impl PairKeyed for FiveTuple {
    type Key = FiveTupleKey;

    fn opts(&self) -> &KeyOptions {
        &self.opts
    }

    #[inline(always)]
    fn key_with(&self, pkt: &PacketView<'_>, pair: Option<u64>) -> Option<Extracted<FiveTupleKey>> {
        let ip = pkt.ip?;
        let (sport, dport, one_way) = port_equivalents(pkt);
        let (sa, da) = (AddrBits::of(ip.src), AddrBits::of(ip.dst));
        // Canonical order: the smaller (address, port) first. Comparing the
        // 128-bit forms orders exactly like `IpAddr` within one family.
        // One-way ICMP keeps the sender first so opposite messages stay apart.
        let forward = one_way || (sa, sport) <= (da, dport);
        let (orientation, a_addr, a_port, b_addr, b_port) = if forward {
            (Orientation::Forward, sa, sport, da, dport)
        } else {
            (Orientation::Reverse, da, dport, sa, sport)
        };
        let context = self.opts.context(pkt);
        let pair = pair.unwrap_or_else(|| self.opts.pair_hash(sa, da));
        // The pair hash is symmetric; which address is `a` still tells
        // apart the two one-way ICMP keys of one pair.
        let hash = hash_parts(
            &self.opts,
            pair,
            a_port,
            b_port,
            ip.protocol,
            a_addr <= b_addr,
            &context,
        );
        let key = FiveTupleKey {
            a_addr,
            b_addr,
            a_port,
            b_port,
            proto: ip.protocol,
            v6: ip.src.is_ipv6(),
            context,
        };
        Some(Extracted {
            key,
            orientation,
            hash,
        })
    }
}

/// Directional 5-tuple extractor: each direction is its own flow.
#[derive(Debug, Clone, Default)]
pub struct DirectionalFiveTuple {
    opts: KeyOptions,
}

impl DirectionalFiveTuple {
    /// With the given options.
    pub fn new(opts: KeyOptions) -> Self {
        DirectionalFiveTuple { opts }
    }
}

impl PairKeyed for DirectionalFiveTuple {
    type Key = FiveTupleKey;

    fn opts(&self) -> &KeyOptions {
        &self.opts
    }

    #[inline(always)]
    fn key_with(&self, pkt: &PacketView<'_>, pair: Option<u64>) -> Option<Extracted<FiveTupleKey>> {
        let ip = pkt.ip?;
        let (sport, dport, _) = port_equivalents(pkt);
        let (a_addr, b_addr) = (AddrBits::of(ip.src), AddrBits::of(ip.dst));
        let context = self.opts.context(pkt);
        let pair = pair.unwrap_or_else(|| self.opts.pair_hash(a_addr, b_addr));
        // The pair hash is symmetric: the direction goes in with the ports.
        let hash = hash_parts(
            &self.opts,
            pair,
            sport,
            dport,
            ip.protocol,
            a_addr <= b_addr,
            &context,
        );
        let key = FiveTupleKey {
            a_addr,
            b_addr,
            a_port: sport,
            b_port: dport,
            proto: ip.protocol,
            v6: ip.src.is_ipv6(),
            context,
        };
        Some(Extracted {
            key,
            orientation: Orientation::Forward,
            hash,
        })
    }
}

/// An IP address pair key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpPairKey {
    /// The smaller address.
    pub a: IpAddr,
    /// The larger address.
    pub b: IpAddr,
    /// VLAN / tunnel context.
    pub context: KeyContext,
}

impl FlowKey for IpPairKey {}

/// Bidirectional IP-pair extractor: every protocol between two hosts is one flow.
#[derive(Debug, Clone, Default)]
pub struct IpPair {
    opts: KeyOptions,
}

impl IpPair {
    /// With the given options.
    pub fn new(opts: KeyOptions) -> Self {
        IpPair { opts }
    }
}

impl PairKeyed for IpPair {
    type Key = IpPairKey;
    const TRANSPORT_STATE: bool = false;

    fn opts(&self) -> &KeyOptions {
        &self.opts
    }

    #[inline]
    fn key_with(&self, pkt: &PacketView<'_>, pair: Option<u64>) -> Option<Extracted<IpPairKey>> {
        let ip = pkt.ip?;
        let (orientation, a, b) = if ip.src <= ip.dst {
            (Orientation::Forward, ip.src, ip.dst)
        } else {
            (Orientation::Reverse, ip.dst, ip.src)
        };
        let key = IpPairKey {
            a,
            b,
            context: self.opts.context(pkt),
        };
        let pair = pair.unwrap_or_else(|| self.opts.pair_hash(AddrBits::of(a), AddrBits::of(b)));
        let hash = self.opts.finish(pair, 0, key.context.word());
        Some(Extracted {
            key,
            orientation,
            hash,
        })
    }
}

/// A MAC address pair key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacPairKey {
    /// The smaller address.
    pub a: [u8; 6],
    /// The larger address.
    pub b: [u8; 6],
    /// VLAN ids when they are part of the key.
    pub vlans: VlanIds,
}

impl FlowKey for MacPairKey {}

/// Bidirectional MAC-pair extractor; keys non-IP frames too.
#[derive(Debug, Clone, Default)]
pub struct MacPair {
    opts: KeyOptions,
}

impl MacPair {
    /// With the given options.
    pub fn new(opts: KeyOptions) -> Self {
        MacPair { opts }
    }
}

impl FlowExtractor for MacPair {
    type Key = MacPairKey;

    fn transport_state(&self) -> bool {
        false
    }

    /// The key's own hash: one MAC pair spans many address pairs (every
    /// host behind a router), so the default address-pair dispatch would
    /// split its flow across shards.
    fn dispatch_hash(&self, pkt: &PacketView<'_>) -> Option<u64> {
        self.extract(pkt).map(|x| x.hash)
    }

    /// The dispatch hash is the flow hash.
    #[inline]
    fn extract_hashed(
        &self,
        pkt: &PacketView<'_>,
        dispatch_hash: u64,
    ) -> Option<Extracted<MacPairKey>> {
        self.extract(pkt).map(|x| Extracted {
            hash: dispatch_hash,
            ..x
        })
    }

    #[inline]
    fn extract(&self, pkt: &PacketView<'_>) -> Option<Extracted<MacPairKey>> {
        let (src, dst) = (pkt.src_mac?, pkt.dst_mac?);
        let (orientation, a, b) = if src <= dst {
            (Orientation::Forward, src, dst)
        } else {
            (Orientation::Reverse, dst, src)
        };
        let vlans = if self.opts.vlan_in_key {
            pkt.vlans
        } else {
            VlanIds::default()
        };
        let key = MacPairKey { a, b, vlans };
        let mac = |m: [u8; 6]| m.iter().fold(0u64, |w, &b| (w << 8) | u64::from(b));
        let ctx = KeyContext {
            vlans,
            tunnel: None,
        };
        let hash = self.opts.hash_words([mac(a), mac(b), ctx.word()]);
        Some(Extracted {
            key,
            orientation,
            hash,
        })
    }
}

#[cfg(test)]
mod tests;
