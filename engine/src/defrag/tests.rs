//! Reassembly tests: orders, duplicates, RFC 5722 overlaps, every bound.

use super::*;
use crate::config::{DecodeConfig, TunnelConfig};
use crate::decode::Decoder;
use crate::packet::{LinkType, RawPacket};
use crate::testutil::*;
use proptest::prelude::*;

const A: [u8; 4] = [10, 0, 0, 1];
const B: [u8; 4] = [10, 0, 0, 2];

fn cfg() -> DefragConfig {
    DefragConfig::default()
}

/// Decodes a raw-IP packet at time `t` and feeds it to `d`.
fn feed(d: &mut Defrag, pkt: &[u8], t: u64) -> DefragOutcome {
    let dec = Decoder::new(&DecodeConfig::default(), &TunnelConfig::default());
    let raw = RawPacket {
        ts: Timestamp::new(t, 0),
        linktype: LinkType::RAW,
        wire_len: pkt.len() as u32,
        iface: 0,
        data: pkt,
    };
    let v = dec.decode(&raw).expect("decodes");
    d.insert(&v, v.ts)
}

fn datagram(len: usize) -> Vec<u8> {
    let payload: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    ip4_udp(A, 4000, B, 53, &payload)
}

fn complete(o: DefragOutcome) -> Reassembled {
    match o {
        DefragOutcome::Complete(r) => r,
        other => panic!("expected completion, got {other:?}"),
    }
}

#[test]
fn in_order_and_reverse_order() {
    let pkt = datagram(3000);
    let frags = fragment4(&pkt, 1480, 7);
    assert_eq!(frags.len(), 3);
    for order in [vec![0, 1, 2], vec![2, 1, 0], vec![1, 2, 0]] {
        let mut d = Defrag::new(cfg());
        let mut last = None;
        for (n, &i) in order.iter().enumerate() {
            let o = feed(&mut d, &frags[i], 1);
            if n + 1 < order.len() {
                assert!(matches!(o, DefragOutcome::Pending), "{o:?}");
            } else {
                last = Some(complete(o));
            }
        }
        let r = last.unwrap();
        assert_eq!(r.data, pkt[20..], "rebuilt payload is byte-identical");
        assert_eq!(r.protocol, 17);
        assert_eq!(r.fragments, 3);
        assert_eq!(d.in_flight(), 0);
        assert_eq!(d.buffered_bytes(), 0);
        assert_eq!(d.counters().reassembled, 1);
    }
}

#[test]
fn exact_duplicates_are_ignored() {
    let pkt = datagram(2000);
    let frags = fragment4(&pkt, 1024, 9);
    let mut d = Defrag::new(cfg());
    assert!(matches!(feed(&mut d, &frags[0], 1), DefragOutcome::Pending));
    assert!(matches!(
        feed(&mut d, &frags[0], 1),
        DefragOutcome::Duplicate
    ));
    let r = complete(feed(&mut d, &frags[1], 1));
    assert_eq!(r.data, pkt[20..]);
    assert_eq!(d.counters().duplicates, 1);
}

#[test]
fn overlap_drops_the_datagram_and_its_later_fragments() {
    let mut d = Defrag::new(cfg());
    let first = frag4(A, B, 17, 5, 0, true, &[1u8; 16]);
    let overlapping = frag4(A, B, 17, 5, 8, true, &[2u8; 16]);
    let last = frag4(A, B, 17, 5, 24, false, &[3u8; 8]);
    assert!(matches!(feed(&mut d, &first, 1), DefragOutcome::Pending));
    assert!(matches!(
        feed(&mut d, &overlapping, 1),
        DefragOutcome::Dropped(DefragDrop::Overlap)
    ));
    assert!(matches!(
        feed(&mut d, &last, 1),
        DefragOutcome::Dropped(DefragDrop::AfterOverlap)
    ));
    let events: Vec<_> = d.drain_events().collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].drop, DefragDrop::Overlap);
    assert_eq!(events[0].fragments, 1);
    assert_eq!(d.buffered_bytes(), 0, "a poisoned datagram holds no data");
    // After the timeout the id may be reused.
    d.expire(Timestamp::new(100, 0));
    assert_eq!(d.in_flight(), 0);
    assert_eq!(d.drain_events().count(), 0, "overlap was already reported");
    let a = frag4(A, B, 17, 5, 0, true, &[1u8; 8]);
    let b = frag4(A, B, 17, 5, 8, false, &[2u8; 8]);
    assert!(matches!(feed(&mut d, &a, 101), DefragOutcome::Pending));
    assert_eq!(complete(feed(&mut d, &b, 101)).data.len(), 16);
}

#[test]
fn same_range_with_different_bytes_is_an_overlap() {
    let mut d = Defrag::new(cfg());
    assert!(matches!(
        feed(&mut d, &frag4(A, B, 17, 1, 0, true, &[1u8; 8]), 1),
        DefragOutcome::Pending
    ));
    assert!(matches!(
        feed(&mut d, &frag4(A, B, 17, 1, 0, true, &[9u8; 8]), 1),
        DefragOutcome::Dropped(DefragDrop::Overlap)
    ));
}

#[test]
fn timeout_reports_incomplete_datagrams() {
    let mut d = Defrag::new(cfg());
    feed(&mut d, &frag4(A, B, 17, 3, 0, true, &[0u8; 8]), 10);
    d.expire(Timestamp::new(39, 0));
    assert_eq!(d.in_flight(), 1);
    d.expire(Timestamp::new(40, 0));
    assert_eq!(d.in_flight(), 0);
    let ev: Vec<_> = d.drain_events().collect();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].drop, DefragDrop::Timeout);
    assert_eq!(ev[0].ts, Timestamp::new(40, 0));
    assert_eq!(d.counters().drops[DefragDrop::Timeout.index()], 1);
}

#[test]
fn datagram_cap_evicts_the_oldest() {
    let mut d = Defrag::new(DefragConfig {
        max_datagrams: 2,
        ..cfg()
    });
    for id in 1..=3u16 {
        feed(
            &mut d,
            &frag4(A, B, 17, id, 0, true, &[0u8; 8]),
            u64::from(id),
        );
    }
    assert_eq!(d.in_flight(), 2);
    let ev: Vec<_> = d.drain_events().collect();
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].drop, ev[0].key.ident),
        (DefragDrop::CapacityEvicted, 1)
    );
}

#[test]
fn byte_cap_is_respected() {
    let mut d = Defrag::new(DefragConfig {
        max_bytes: 4096,
        ..cfg()
    });
    feed(&mut d, &frag4(A, B, 17, 1, 0, true, &[0u8; 2048]), 1);
    feed(&mut d, &frag4(A, B, 17, 2, 0, true, &[0u8; 2048]), 1);
    assert!(d.buffered_bytes() <= 4096);
    // A fragment far into its datagram needs a buffer up to its end.
    let o = feed(&mut d, &frag4(A, B, 17, 3, 8000, true, &[0u8; 8]), 1);
    assert!(
        matches!(o, DefragOutcome::Dropped(DefragDrop::CapacityEvicted)),
        "{o:?}"
    );
    assert!(d.buffered_bytes() <= 4096);
    assert!(d.counters().drops[DefragDrop::CapacityEvicted.index()] >= 2);
}

#[test]
fn fragment_count_and_length_rules() {
    let mut d = Defrag::new(DefragConfig {
        max_fragments_per_datagram: 2,
        ..cfg()
    });
    feed(&mut d, &frag4(A, B, 17, 1, 0, true, &[0u8; 8]), 1);
    feed(&mut d, &frag4(A, B, 17, 1, 8, true, &[0u8; 8]), 1);
    let o = feed(&mut d, &frag4(A, B, 17, 1, 16, true, &[0u8; 8]), 1);
    assert!(matches!(
        o,
        DefragOutcome::Dropped(DefragDrop::TooManyFragments)
    ));

    let mut d = Defrag::new(cfg());
    let o = feed(&mut d, &frag4(A, B, 17, 2, 0, true, &[0u8; 7]), 1);
    assert!(
        matches!(o, DefragOutcome::Dropped(DefragDrop::InvalidLength)),
        "non-final length must be a multiple of 8"
    );
    feed(&mut d, &frag4(A, B, 17, 3, 16, false, &[0u8; 8]), 1);
    let o = feed(&mut d, &frag4(A, B, 17, 3, 32, false, &[0u8; 8]), 1);
    assert!(
        matches!(o, DefragOutcome::Dropped(DefragDrop::InvalidLength)),
        "two different ends"
    );
}

#[test]
fn disabled_counts_and_skips() {
    let mut d = Defrag::new(DefragConfig {
        enabled: false,
        ..cfg()
    });
    let o = feed(&mut d, &frag4(A, B, 17, 1, 0, true, &[0u8; 8]), 1);
    assert!(matches!(o, DefragOutcome::Dropped(DefragDrop::Disabled)));
    assert_eq!(d.counters().drops[DefragDrop::Disabled.index()], 1);
}

#[test]
fn flush_reports_unfinished() {
    let mut d = Defrag::new(cfg());
    feed(&mut d, &frag4(A, B, 17, 1, 0, true, &[0u8; 8]), 1);
    d.flush(Timestamp::new(2, 0));
    assert_eq!(d.in_flight(), 0);
    assert_eq!(
        d.drain_events().next().unwrap().drop,
        DefragDrop::Unfinished
    );
}

proptest! {
    /// Any arrival order, with exact duplicates sprinkled in, rebuilds the
    /// original datagram exactly once.
    #[test]
    fn any_order_rebuilds_exactly(len in 9usize..6000, chunk8 in 1usize..200, seed in any::<u64>(), dups in proptest::collection::vec(any::<usize>(), 0..4)) {
        let pkt = datagram(len);
        let frags = fragment4(&pkt, chunk8 * 8, 77);
        prop_assume!(frags.len() > 1);
        let mut order: Vec<usize> = (0..frags.len()).collect();
        let mut s = seed;
        for i in (1..order.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (s >> 33) as usize % (i + 1));
        }
        let mut feed_order = Vec::new();
        for (n, &i) in order.iter().enumerate() {
            feed_order.push(i);
            if dups.iter().any(|&d| d % order.len() == n) && n + 1 < order.len() {
                feed_order.push(i);
            }
        }
        let mut d = Defrag::new(DefragConfig { max_fragments_per_datagram: 10_000, ..cfg() });
        let mut done = 0;
        for &i in &feed_order {
            if let DefragOutcome::Complete(r) = feed(&mut d, &frags[i], 1) {
                prop_assert_eq!(&r.data[..], &pkt[20..]);
                done += 1;
            }
        }
        prop_assert_eq!(done, 1);
        prop_assert_eq!(d.in_flight(), 0);
        prop_assert_eq!(d.buffered_bytes(), 0);
    }

    /// Arbitrary fragments never panic, never exceed the byte cap, and the
    /// table never exceeds the datagram cap.
    #[test]
    fn arbitrary_fragments_stay_bounded(frags in proptest::collection::vec((0u16..4, 0usize..8200, any::<bool>(), 0usize..600, any::<u8>()), 1..60)) {
        let bounds = DefragConfig { max_datagrams: 3, max_bytes: 16 * 1024, max_fragments_per_datagram: 8, ..cfg() };
        let mut d = Defrag::new(bounds.clone());
        for (n, (id, off, more, len, fill)) in frags.into_iter().enumerate() {
            let off = off / 8 * 8;
            if off == 0 && !more {
                continue; // a whole datagram, not a fragment
            }
            let f = frag4(A, B, 17, id, off, more, &vec![fill; len]);
            let _ = feed(&mut d, &f, n as u64);
            prop_assert!(d.in_flight() <= bounds.max_datagrams);
            prop_assert!(d.buffered_bytes() <= bounds.max_bytes);
        }
    }
}
