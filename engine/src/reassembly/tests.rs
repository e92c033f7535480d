use super::*;
use proptest::prelude::*;

/// What a consumer saw, with adjacent pieces of one kind joined.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Data(Vec<u8>),
    Gap(u64),
}

#[derive(Debug, Default)]
struct Collector(Vec<Seen>);

impl Collector {
    fn push(&mut self, c: Chunk<'_>) {
        match (self.0.last_mut(), c) {
            (Some(Seen::Data(d)), Chunk::Data(b)) => d.extend_from_slice(b),
            (Some(Seen::Gap(g)), Chunk::Gap(n)) => *g += n,
            (_, Chunk::Data(b)) => self.0.push(Seen::Data(b.to_vec())),
            (_, Chunk::Gap(n)) => self.0.push(Seen::Gap(n)),
        }
    }
}

fn feed(
    r: &mut Reassembler,
    mem: &mut Memory,
    cfg: &ReassemblyConfig,
    c: &mut Collector,
    seq: u32,
    data: &[u8],
) -> SegmentOutcome {
    r.segment(Segment::data(seq, data), cfg, mem, &mut |ch| c.push(ch))
}

#[test]
fn in_order_bytes_come_straight_through() {
    let cfg = ReassemblyConfig::default();
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(1000);
    let mut c = Collector::default();
    feed(&mut r, &mut mem, &cfg, &mut c, 1001, b"GET ");
    feed(&mut r, &mut mem, &cfg, &mut c, 1005, b"/ HTTP/1.1\r\n");
    assert_eq!(c.0, vec![Seen::Data(b"GET / HTTP/1.1\r\n".to_vec())]);
    assert_eq!(r.held_bytes(), 0);
    assert_eq!(mem.used, 0);
    assert_eq!(r.counters().delivered, 16);
}

#[test]
fn a_thousand_segments_last_to_first_are_held_then_released_in_order() {
    // The hold list at its longest under the default caps: each segment
    // goes in at its front, the first releases all 999 behind it.
    let cfg = ReassemblyConfig::default();
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(0);
    let mut c = Collector::default();
    let stream: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    for (k, seg) in stream.chunks(100).enumerate().rev() {
        feed(&mut r, &mut mem, &cfg, &mut c, 1 + 100 * k as u32, seg);
        if k > 0 {
            assert_eq!(r.held_segments(), 1000 - k);
        }
    }
    assert_eq!(c.0, vec![Seen::Data(stream)]);
    assert_eq!((r.held_segments(), r.held_bytes(), mem.used), (0, 0, 0));
    let n = r.counters();
    assert_eq!((n.delivered, n.out_of_order, n.gaps), (100_000, 999, 0));
}

#[test]
fn a_hole_is_held_then_filled() {
    let cfg = ReassemblyConfig::default();
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(0);
    let mut c = Collector::default();
    feed(&mut r, &mut mem, &cfg, &mut c, 4, b"defg");
    assert!(c.0.is_empty());
    assert_eq!((r.held_bytes(), mem.used), (4, 4));
    feed(&mut r, &mut mem, &cfg, &mut c, 1, b"abc");
    assert_eq!(c.0, vec![Seen::Data(b"abcdefg".to_vec())]);
    assert_eq!((r.held_bytes(), mem.used), (0, 0));
    assert_eq!(r.counters().out_of_order, 1);
}

#[test]
fn retransmission_and_overlap_are_told_apart() {
    let cfg = ReassemblyConfig::default();
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(0);
    let mut c = Collector::default();
    feed(&mut r, &mut mem, &cfg, &mut c, 1, b"abcd");
    feed(&mut r, &mut mem, &cfg, &mut c, 1, b"abcd"); // pure retransmission
    feed(&mut r, &mut mem, &cfg, &mut c, 3, b"cdef"); // overlaps delivered bytes
    assert_eq!(c.0, vec![Seen::Data(b"abcdef".to_vec())]);
    let k = r.counters();
    assert_eq!((k.retransmits, k.overlaps, k.inconsistent), (2, 1, 0));
}

#[test]
fn first_wins_by_default_and_differences_are_flagged() {
    let cfg = ReassemblyConfig::default();
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(0);
    let mut c = Collector::default();
    feed(&mut r, &mut mem, &cfg, &mut c, 3, b"CD");
    let o = feed(&mut r, &mut mem, &cfg, &mut c, 1, b"abXY");
    assert!(o.inconsistent);
    assert_eq!(c.0, vec![Seen::Data(b"abCD".to_vec())]);
    assert_eq!(r.counters().inconsistent, 1);
}

#[test]
fn a_retransmission_with_other_bytes_is_an_inconsistency() {
    let cfg = ReassemblyConfig::default();
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(0);
    let mut c = Collector::default();
    feed(&mut r, &mut mem, &cfg, &mut c, 1, b"GET /a");
    feed(&mut r, &mut mem, &cfg, &mut c, 7, b" HTTP");
    assert!(!feed(&mut r, &mut mem, &cfg, &mut c, 1, b"GET /a").inconsistent);
    // The insertion evasion: the same range again, other bytes.
    assert!(feed(&mut r, &mut mem, &cfg, &mut c, 1, b"GET /b").inconsistent);
    assert_eq!(c.0, vec![Seen::Data(b"GET /a HTTP".to_vec())]);
    assert_eq!(r.counters().inconsistent, 1);
    let off = ReassemblyConfig {
        check_retransmissions: false,
        ..cfg
    };
    assert!(!feed(&mut r, &mut mem, &off, &mut c, 1, b"GET /b").inconsistent);
}

#[test]
fn segments_remembered_by_their_stated_sums_judge_copies_that_verify() {
    use crate::wire::transport::payload_sum;
    // A segment as sent with a correct checksum: the sum it states.
    fn sent(seq: u32, payload: &[u8]) -> Segment<'_> {
        Segment {
            payload_sum: Some(payload_sum(payload)),
            ..Segment::data(seq, payload)
        }
    }
    let cfg = ReassemblyConfig::default();
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(0);
    let first: Vec<u8> = (0..64u8).collect();
    let mut changed = first.clone();
    changed.swap(0, 1);
    let mut sink = |_: Chunk<'_>| {};
    r.segment(sent(1, &first), &cfg, &mut mem, &mut sink);
    r.take_in_order(&[9; 64], Some(payload_sum(&[9; 64])), &cfg);
    // The same bytes, however their headers changed: consistent.
    assert!(
        !r.segment(sent(1, &first), &cfg, &mut mem, &mut sink)
            .inconsistent
    );
    // Other bytes with a checksum that verifies: inconsistent.
    assert!(
        r.segment(sent(1, &changed), &cfg, &mut mem, &mut sink)
            .inconsistent
    );
    // Other bytes whose checksum states the first ones' sum (it does not
    // verify), or a copy cut by the capture (no stated sum): not judged.
    let unverified = Segment {
        payload_sum: Some(payload_sum(&first) ^ 1),
        ..Segment::data(1, &changed)
    };
    assert!(
        !r.segment(unverified, &cfg, &mut mem, &mut sink)
            .inconsistent
    );
    assert!(
        !r.segment(Segment::data(1, &changed), &cfg, &mut mem, &mut sink)
            .inconsistent
    );
    // A segment delivered without a stated sum is remembered by a digest
    // of its bytes, which judges any copy.
    let mut r = Reassembler::from_isn(0);
    r.segment(Segment::data(1, &first), &cfg, &mut mem, &mut sink);
    r.take_in_order(&[9; 64], None, &cfg);
    assert!(
        r.segment(Segment::data(1, &changed), &cfg, &mut mem, &mut sink)
            .inconsistent
    );
    assert_eq!(r.counters().inconsistent, 1);
}

#[test]
fn an_overlap_of_the_delivery_edge_with_other_bytes_is_an_inconsistency() {
    let cfg = ReassemblyConfig::default();
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(0);
    let mut c = Collector::default();
    // Two stray bytes, then the real segment re-covering them (a capture
    // seen in nDPI's corpus: an ACK carrying two zero bytes).
    feed(&mut r, &mut mem, &cfg, &mut c, 1, b"\0\0");
    let o = feed(&mut r, &mut mem, &cfg, &mut c, 1, b"\x16\x03\x01 hello");
    assert!(o.inconsistent);
    assert_eq!(c.0, vec![Seen::Data(b"\0\0\x01 hello".to_vec())]);
    // A consistent partial overlap is not one.
    let o = feed(&mut r, &mut mem, &cfg, &mut c, 7, b"llo world");
    assert!(!o.inconsistent);
    assert_eq!(r.counters().inconsistent, 1);
    assert_eq!(r.counters().overlaps, 2);
}

#[test]
fn last_wins_when_configured() {
    let cfg = ReassemblyConfig {
        overlap: OverlapPolicy::Last,
        ..ReassemblyConfig::default()
    };
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(0);
    let mut c = Collector::default();
    feed(&mut r, &mut mem, &cfg, &mut c, 5, b"efgh");
    feed(&mut r, &mut mem, &cfg, &mut c, 6, b"FG"); // held overlap, replaced
    assert_eq!(r.counters().inconsistent, 1);
    feed(&mut r, &mut mem, &cfg, &mut c, 1, b"abcdE"); // in order, covers 'e'
    assert_eq!(c.0, vec![Seen::Data(b"abcdEFGh".to_vec())]);
    assert_eq!(mem.used, 0);
}

#[test]
fn sequence_numbers_wrap() {
    let cfg = ReassemblyConfig::default();
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(u32::MAX - 2);
    let mut c = Collector::default();
    // Bytes at u32::MAX-1, u32::MAX, 0, 1, 2, 3.
    feed(&mut r, &mut mem, &cfg, &mut c, 1, b"def");
    feed(&mut r, &mut mem, &cfg, &mut c, u32::MAX - 1, b"abc");
    assert_eq!(c.0, vec![Seen::Data(b"abcdef".to_vec())]);
}

#[test]
fn mid_stream_pickup_anchors_on_first_data() {
    let cfg = ReassemblyConfig::default();
    let mut mem = Memory::default();
    let mut r = Reassembler::mid_stream();
    let mut c = Collector::default();
    feed(&mut r, &mut mem, &cfg, &mut c, 5000, &[]); // a pure ACK anchors nothing
    assert!(!r.is_anchored());
    feed(&mut r, &mut mem, &cfg, &mut c, 7000, b"xyz");
    feed(&mut r, &mut mem, &cfg, &mut c, 7003, b"!");
    assert_eq!(c.0, vec![Seen::Data(b"xyz!".to_vec())]);
}

#[test]
fn an_ack_past_a_hole_makes_it_a_gap_once_the_peer_moves_on() {
    let cfg = ReassemblyConfig::default();
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(0);
    let mut c = Collector::default();
    feed(&mut r, &mut mem, &cfg, &mut c, 1, b"ab");
    feed(&mut r, &mut mem, &cfg, &mut c, 8, b"hi");
    r.acked(11);
    // Only reordered, perhaps: the hole may still fill.
    assert_eq!(c.0, vec![Seen::Data(b"ab".to_vec())]);
    // The peer goes on (sends data): the hole may still fill...
    r.peer_moved_on(&mut mem, &mut |ch| c.push(ch));
    assert_eq!(c.0, vec![Seen::Data(b"ab".to_vec())]);
    // ...but not after its next move: bytes 3..8 and 10 are lost.
    r.peer_moved_on(&mut mem, &mut |ch| c.push(ch));
    feed(&mut r, &mut mem, &cfg, &mut c, 11, b"k");
    assert_eq!(
        c.0,
        vec![
            Seen::Data(b"ab".to_vec()),
            Seen::Gap(5),
            Seen::Data(b"hi".to_vec()),
            Seen::Gap(1),
            Seen::Data(b"k".to_vec()),
        ]
    );
    assert_eq!(r.counters().gap_bytes, 6);
    // A wild ACK field is not taken as proof of loss.
    r.acked(0x9000_0000);
    r.peer_moved_on(&mut mem, &mut |ch| c.push(ch));
    r.peer_moved_on(&mut mem, &mut |ch| c.push(ch));
    assert_eq!(r.counters().gap_bytes, 6);
}

#[test]
fn an_ack_ahead_of_reordered_data_is_not_a_loss() {
    let cfg = ReassemblyConfig::default();
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(0);
    let mut c = Collector::default();
    // The capture shows the end of a burst, its ACK, then the rest.
    feed(&mut r, &mut mem, &cfg, &mut c, 5, b"ef");
    r.acked(7);
    feed(&mut r, &mut mem, &cfg, &mut c, 7, b"gh"); // the sender goes on
    feed(&mut r, &mut mem, &cfg, &mut c, 3, b"cd");
    feed(&mut r, &mut mem, &cfg, &mut c, 1, b"ab");
    assert_eq!(c.0, vec![Seen::Data(b"abcdefgh".to_vec())]);
}

#[test]
fn flush_reports_holes_and_a_missing_tail_before_fin() {
    let cfg = ReassemblyConfig::default();
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(0);
    let mut c = Collector::default();
    feed(&mut r, &mut mem, &cfg, &mut c, 4, b"d");
    let fin = Segment {
        fin: true,
        ..Segment::data(10, &[])
    };
    r.segment(fin, &cfg, &mut mem, &mut |ch| c.push(ch));
    assert!(!r.take_fin());
    r.flush(&mut mem, &mut |ch| c.push(ch));
    assert_eq!(
        c.0,
        vec![Seen::Gap(3), Seen::Data(b"d".to_vec()), Seen::Gap(5)]
    );
    assert!(r.take_fin());
    assert!(!r.take_fin(), "reported once");
    assert_eq!(mem.used, 0);
}

#[test]
fn flush_reports_acknowledged_bytes_never_seen() {
    let cfg = ReassemblyConfig::default();
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(0);
    let mut c = Collector::default();
    feed(&mut r, &mut mem, &cfg, &mut c, 1, b"abc");
    r.acked(11); // the peer saw 10 bytes; the capture 3
    r.flush(&mut mem, &mut |ch| c.push(ch));
    assert_eq!(c.0, vec![Seen::Data(b"abc".to_vec()), Seen::Gap(7)]);
}

#[test]
fn a_cap_slides_the_window_and_reports_it() {
    let cfg = ReassemblyConfig {
        max_ooo_bytes: 4,
        ..ReassemblyConfig::default()
    };
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(0);
    let mut c = Collector::default();
    feed(&mut r, &mut mem, &cfg, &mut c, 3, b"cd");
    let o = feed(&mut r, &mut mem, &cfg, &mut c, 7, b"ghi");
    assert_eq!(o.cap_hit, Some(CapHit::SideBytes));
    assert!(!o.drop_flow);
    assert_eq!(c.0, vec![Seen::Gap(2), Seen::Data(b"cd".to_vec())]);
    assert_eq!(r.held_bytes(), 3);
    assert_eq!(r.counters().cap_hits, 1);
}

#[test]
fn drop_flow_policy_stops_delivery() {
    let cfg = ReassemblyConfig {
        max_ooo_segments: 1,
        overflow: OverflowPolicy::DropFlow,
        ..ReassemblyConfig::default()
    };
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(0);
    let mut c = Collector::default();
    feed(&mut r, &mut mem, &cfg, &mut c, 3, b"c");
    let o = feed(&mut r, &mut mem, &cfg, &mut c, 5, b"e");
    assert_eq!(o.cap_hit, Some(CapHit::SideSegments));
    assert!(o.drop_flow);
    assert!(c.0.is_empty());
    r.discard(&mut mem);
    assert_eq!(mem.used, 0);
}

/// A random stream cut into segments, with a FIN after it.
#[derive(Debug, Clone)]
struct Case {
    isn: u32,
    data: Vec<u8>,
    /// Segment boundaries (offsets into `data`, sorted, unique).
    cuts: Vec<usize>,
    /// Extra copies (start, len) sent again, overlapping anything.
    extra: Vec<(usize, usize)>,
    /// Segments (by index) that are lost.
    dropped: Vec<usize>,
    /// A permutation key per segment.
    order: Vec<u32>,
}

fn case(drops: bool) -> impl Strategy<Value = Case> {
    (
        prop_oneof![any::<u32>(), (u32::MAX - 3000)..=u32::MAX],
        prop::collection::vec(any::<u8>(), 1..3000),
    )
        .prop_flat_map(move |(isn, data)| {
            let n = data.len();
            (
                Just(isn),
                Just(data),
                prop::collection::btree_set(1..n.max(2), 0..40),
                prop::collection::vec((0..n, 1..200usize), 0..12),
                if drops {
                    prop::collection::vec(0..50usize, 0..6).boxed()
                } else {
                    Just(Vec::new()).boxed()
                },
                prop::collection::vec(any::<u32>(), 60),
            )
        })
        .prop_map(|(isn, data, cuts, extra, dropped, order)| Case {
            isn,
            cuts: cuts.into_iter().filter(|&c| c < data.len()).collect(),
            data,
            extra,
            dropped,
            order,
        })
}

/// Runs a case; returns what was seen and the lost byte ranges.
fn run_case(c: &Case, cfg: &ReassemblyConfig) -> (Vec<Seen>, Vec<bool>) {
    let n = c.data.len();
    let mut bounds = vec![0];
    bounds.extend(c.cuts.iter().copied());
    bounds.push(n);
    let segs: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
    let dropped: Vec<usize> = c.dropped.iter().map(|d| d % segs.len()).collect();
    let mut lost = vec![false; n];
    let mut sends: Vec<(usize, usize)> = Vec::new();
    for (i, &(a, b)) in segs.iter().enumerate() {
        if dropped.contains(&i) {
            lost[a..b].iter_mut().for_each(|l| *l = true);
        } else {
            sends.push((a, b));
        }
    }
    // Extra copies only over bytes that were not lost.
    for &(s, len) in &c.extra {
        let e = (s + len).min(n);
        if !lost[s..e].iter().any(|&l| l) {
            sends.push((s, e));
        }
    }
    let mut keyed: Vec<(u32, (usize, usize))> = sends
        .into_iter()
        .enumerate()
        .map(|(i, s)| (c.order[i % c.order.len()].wrapping_add(i as u32), s))
        .collect();
    keyed.sort_by_key(|k| k.0);
    let mut mem = Memory::default();
    let mut r = Reassembler::from_isn(c.isn);
    let mut col = Collector::default();
    let base = c.isn.wrapping_add(1);
    for (_, (a, b)) in keyed {
        let seq = base.wrapping_add(a as u32);
        r.segment(
            Segment::data(seq, &c.data[a..b]),
            cfg,
            &mut mem,
            &mut |ch| col.push(ch),
        );
        assert!(mem.used <= cfg.memcap);
        assert_eq!(mem.used, r.held_bytes());
    }
    let fin_seq = base.wrapping_add(n as u32);
    let fin = Segment {
        fin: true,
        ..Segment::data(fin_seq, &[])
    };
    r.segment(fin, cfg, &mut mem, &mut |ch| col.push(ch));
    r.flush(&mut mem, &mut |ch| col.push(ch));
    assert!(r.take_fin());
    assert_eq!(mem.used, 0);
    // Every copy carried the original bytes: nothing is inconsistent.
    assert_eq!(r.counters().inconsistent, 0);
    (col.0, lost)
}

/// The original bytes with the lost ranges as gaps.
fn expected(data: &[u8], lost: &[bool]) -> Vec<Seen> {
    let mut col = Collector::default();
    for (i, &b) in data.iter().enumerate() {
        if lost[i] {
            col.push(Chunk::Gap(1));
        } else {
            col.push(Chunk::Data(&[b]));
        }
    }
    col.0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_segmentation_order_and_duplication_yields_the_stream(c in case(false)) {
        let (seen, lost) = run_case(&c, &ReassemblyConfig::default());
        prop_assert!(lost.iter().all(|&l| !l));
        prop_assert_eq!(seen, vec![Seen::Data(c.data.clone())]);
    }

    #[test]
    fn last_wins_gives_the_same_stream_when_copies_agree(c in case(false)) {
        let cfg = ReassemblyConfig { overlap: OverlapPolicy::Last, ..ReassemblyConfig::default() };
        let (seen, _) = run_case(&c, &cfg);
        prop_assert_eq!(seen, vec![Seen::Data(c.data.clone())]);
    }

    #[test]
    fn drops_become_gaps_at_their_offsets(c in case(true)) {
        let (seen, lost) = run_case(&c, &ReassemblyConfig::default());
        prop_assert_eq!(seen, expected(&c.data, &lost));
    }

    /// Adversarial segments (random positions, sizes and contents, two
    /// directions sharing one memcap): the caps hold after every segment,
    /// and the bytes delivered plus gaps never run backwards.
    #[test]
    fn caps_hold_under_adversarial_segments(
        segs in prop::collection::vec((any::<bool>(), any::<u32>(), 0usize..3000, any::<u8>()), 1..300),
        policy in prop_oneof![Just(OverflowPolicy::SlidingWindow), Just(OverflowPolicy::DropFlow)],
        last in any::<bool>(),
    ) {
        let cfg = ReassemblyConfig {
            max_ooo_bytes: 8192,
            max_ooo_segments: 16,
            memcap: 12000,
            overflow: policy,
            overlap: if last { OverlapPolicy::Last } else { OverlapPolicy::First },
            ..ReassemblyConfig::default()
        };
        let mut mem = Memory::default();
        let mut sides = [Reassembler::from_isn(0), Reassembler::mid_stream()];
        let mut dropped = [false, false];
        let payload = vec![0u8; 3000];
        for (side, seq, len, fill) in segs {
            let i = usize::from(side);
            if dropped[i] {
                continue;
            }
            let data: Vec<u8> = payload[..len].iter().map(|_| fill).collect();
            let before = sides[i].next_offset();
            let seg = Segment::data(seq % 200_000, &data);
            let o = sides[i].segment(seg, &cfg, &mut mem, &mut |_| {});
            prop_assert!(sides[i].next_offset() >= before);
            if o.drop_flow {
                sides[i].discard(&mut mem);
                dropped[i] = true;
            }
            for r in &sides {
                prop_assert!(r.held_bytes() <= cfg.max_ooo_bytes);
                prop_assert!(r.held_segments() <= cfg.max_ooo_segments);
            }
            prop_assert!(mem.used <= cfg.memcap);
            prop_assert_eq!(mem.used, sides[0].held_bytes() + sides[1].held_bytes());
        }
    }
}
