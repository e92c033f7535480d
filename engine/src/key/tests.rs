//! Extractor tests: symmetry and direction of the 5-tuple keys, the
//! dispatch hash shortcut, ICMP port equivalents, key context options.

use super::*;
use crate::packet::{IpInfo, LinkType, Ports, RawPacket};
use crate::timestamp::Timestamp;
use proptest::prelude::*;

fn udp_view(src: IpAddr, sport: u16, dst: IpAddr, dport: u16) -> PacketView<'static> {
    let raw = RawPacket {
        ts: Timestamp::ZERO,
        linktype: LinkType::RAW,
        wire_len: 0,
        iface: 0,
        data: &[],
    };
    let mut v = PacketView::empty(&raw);
    v.ip = Some(IpInfo {
        src,
        dst,
        protocol: 17,
        ttl: 64,
        fragment: None,
    });
    v.transport = Transport::Udp(Ports {
        src: sport,
        dst: dport,
    });
    v
}

/// Two addresses of one family, as in any real packet.
fn arb_ip_pair() -> impl Strategy<Value = (IpAddr, IpAddr)> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<[u8; 4]>()).prop_map(|(a, b)| (IpAddr::from(a), IpAddr::from(b))),
        (any::<[u8; 16]>(), any::<[u8; 16]>())
            .prop_map(|(a, b)| (IpAddr::from(a), IpAddr::from(b))),
    ]
}

proptest! {
    #[test]
    fn five_tuple_is_symmetric((a, b) in arb_ip_pair(), pa: u16, pb: u16) {
        let x = FiveTuple::default();
        let fwd = x.extract(&udp_view(a, pa, b, pb)).unwrap();
        let rev = x.extract(&udp_view(b, pb, a, pa)).unwrap();
        // Both directions dispatch to one shard, and a known hash
        // rebuilds the same key.
        prop_assert_eq!(x.dispatch_hash(&udp_view(a, pa, b, pb)), x.dispatch_hash(&udp_view(b, pb, a, pa)));
        let d = x.dispatch_hash(&udp_view(a, pa, b, pb)).unwrap();
        let again = x.extract_hashed(&udp_view(a, pa, b, pb), d).unwrap();
        prop_assert_eq!(again.key, fwd.key);
        prop_assert_eq!(again.hash, fwd.hash);
        prop_assert_eq!(fwd.key, rev.key);
        prop_assert_eq!(fwd.hash, rev.hash);
        prop_assert!(fwd.key.a() <= fwd.key.b());
        if (a, pa) != (b, pb) {
            prop_assert_ne!(fwd.orientation, rev.orientation);
        }
        let ip = IpPair::default();
        let f = ip.extract(&udp_view(a, pa, b, pb)).unwrap();
        let r = ip.extract(&udp_view(b, pb, a, pa)).unwrap();
        prop_assert_eq!(f.key, r.key);
        prop_assert_eq!(f.hash, r.hash);
        let d = ip.dispatch_hash(&udp_view(b, pb, a, pa)).unwrap();
        prop_assert_eq!(ip.extract_hashed(&udp_view(a, pa, b, pb), d).unwrap().hash, f.hash);
    }

    #[test]
    fn directional_keeps_direction((a, b) in arb_ip_pair(), pa: u16, pb: u16) {
        prop_assume!((a, pa) != (b, pb));
        let x = DirectionalFiveTuple::default();
        let fwd = x.extract(&udp_view(a, pa, b, pb)).unwrap();
        let rev = x.extract(&udp_view(b, pb, a, pa)).unwrap();
        prop_assert_ne!(fwd.key, rev.key);
        prop_assert_ne!(fwd.hash, rev.hash);
        prop_assert_eq!(fwd.orientation, Orientation::Forward);
        let d = x.dispatch_hash(&udp_view(b, pb, a, pa)).unwrap();
        prop_assert_eq!(x.extract_hashed(&udp_view(a, pa, b, pb), d).unwrap().hash, fwd.hash);
    }
}

#[test]
fn icmp_mapping() {
    assert_eq!(icmp_port_equivalents(false, 8, 0), (8, 0, false));
    assert_eq!(icmp_port_equivalents(false, 0, 0), (0, 8, false));
    assert_eq!(icmp_port_equivalents(false, 3, 1), (3, 1, true));
    assert_eq!(icmp_port_equivalents(true, 128, 0), (128, 129, false));
    assert_eq!(icmp_port_equivalents(true, 1, 4), (1, 4, true));
    assert!(icmp_is_reply(false, 0) && !icmp_is_reply(false, 8));
}

#[test]
fn context_follows_options() {
    let mut v = udp_view(
        "10.0.0.1".parse().unwrap(),
        1,
        "10.0.0.2".parse().unwrap(),
        2,
    );
    v.vlans.push(7);
    let with = FiveTuple::default().extract(&v).unwrap();
    assert_eq!(with.key.context().vlans.as_slice(), &[7]);
    let opts = KeyOptions {
        vlan_in_key: false,
        ..KeyOptions::default()
    };
    let without = FiveTuple::new(opts).extract(&v).unwrap();
    assert!(without.key.context().vlans.is_empty());
    assert_ne!(with.hash, without.hash);
}
