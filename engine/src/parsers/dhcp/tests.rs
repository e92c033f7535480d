//! Byte-literal tests of the DHCP parser: real messages from the corpus
//! (a macOS DISCOVER and a home router's OFFER from nDPI's iphone.pcap, a
//! REQUEST whose vendor class option runs past the datagram from its
//! dhcp-fuzz.pcapng, decoded with tshark), pad/end handling, overloaded
//! `file`/`sname` fields, caps and hostile lengths.

use super::*;
use crate::testutil::unhex;

/// DISCOVER, xid 0x78544709, chaddr d8:30:62:56:00:1c; options 53, 55,
/// 57, 61, 51, 12, end.
const DISCOVER: &str = "0101060078544709001b000000000000000000000000000000000000d8306256001c0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000063825363350101370a017903060f77fc5f2c2e390205dc3d0701d8306256001c33040076a7000c0a4c756361732d694d6163ff00000000000000000000000000";
/// OFFER of 192.168.2.17, xid 0xb796bad1; options 53, 54, 51, 1, 3, 6,
/// end.
const OFFER: &str = "02010600b796bad10000000000000000c0a80211c0a8020100000000c4618b3582a9000000000000000000004c756361732d694d61632e6c6f63616c0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000638253633501023604c0a80201330400014e200104ffffff000304c0a802010604c0a80201ff0000000000000000000000000000000000000000000000000000";
/// REQUEST with message type 0x6a and a vendor class option (60) whose
/// length runs past the datagram.
const FUZZ: &str = "01010600c979b96000000000c0a80168000000000000000000000000001f29da2d790000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000d7000000000000530000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000065000000000000000000006382536335016a3d0701001f29da2d790c074d4b30333836323c314d53465420352e30370c010f03062c2e2f1f21f92bfc2b03dc0100ff000000002500000000";

fn parse_one(bytes: &[u8]) -> (DhcpMessage, Vec<AppEvent>) {
    let mut p = DhcpParser::new(DhcpConfig::default());
    let out = p.parse(bytes, FlowSide::Initiator);
    let mut events = Vec::new();
    while let Some(e) = p.next_event() {
        events.push(e);
    }
    match out.as_slice() {
        [L7Message::Dhcp(m)] => ((**m).clone(), events),
        other => panic!("one DHCP message expected, got {other:?}"),
    }
}

fn codes(m: &DhcpMessage) -> Vec<u8> {
    m.options.iter().map(|o| o.code).collect()
}

/// A message with this header and options area (no cookie check bypass:
/// the cookie is added).
fn message(op: u8, options: &[u8]) -> Vec<u8> {
    let mut m = vec![0u8; HEADER_LEN];
    m[0] = op;
    m[1] = 1;
    m[2] = 6;
    m[4..8].copy_from_slice(&0x0102_0304u32.to_be_bytes());
    m[28..34].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
    m[236..240].copy_from_slice(&MAGIC_COOKIE);
    m.extend_from_slice(options);
    m
}

#[test]
fn a_real_discover() {
    let (m, events) = parse_one(&unhex(DISCOVER));
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(m.op, OP_REQUEST);
    assert_eq!(m.xid, 0x7854_4709);
    assert_eq!(&*m.chaddr, &[0xd8, 0x30, 0x62, 0x56, 0x00, 0x1c]);
    assert_eq!(m.yiaddr, [0; 4]);
    // 57 (maximum message size) is not kept.
    assert_eq!(codes(&m), [53, 55, 61, 51, 12]);
    assert_eq!(m.message_type(), Some(1));
    assert_eq!(m.option(opt::HOSTNAME), Some(&b"Lucas-iMac"[..]));
    assert_eq!(
        m.option(opt::PARAMS),
        Some(&[1, 121, 3, 6, 15, 119, 252, 95, 44, 46][..])
    );
    assert_eq!(
        m.option(opt::LEASE_TIME),
        Some(&7_776_000u32.to_be_bytes()[..])
    );
    assert!(!m.truncated);
}

#[test]
fn a_real_offer() {
    let (m, events) = parse_one(&unhex(OFFER));
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(m.op, OP_REPLY);
    assert_eq!(m.xid, 0xb796_bad1);
    assert_eq!(m.yiaddr, [192, 168, 2, 17]);
    assert_eq!(m.siaddr, [192, 168, 2, 1]);
    assert_eq!(m.giaddr, [0; 4]);
    assert_eq!(codes(&m), [53, 51, 1, 3, 6]);
    assert_eq!(message_type_name(m.message_type().unwrap()), "offer");
    assert_eq!(m.option(opt::ROUTERS), Some(&[192, 168, 2, 1][..]));
    assert_eq!(m.option(opt::SUBNET_MASK), Some(&[255, 255, 255, 0][..]));
}

#[test]
fn an_option_past_the_datagram_is_truncated() {
    let (m, events) = parse_one(&unhex(FUZZ));
    assert_eq!(codes(&m), [53, 61, 12]);
    assert_eq!(message_type_name(m.message_type().unwrap()), "unknown");
    assert_eq!(m.option(opt::HOSTNAME), Some(&b"MK03862"[..]));
    assert!(m.truncated);
    let names: Vec<_> = events.iter().map(|e| e.event).collect();
    assert_eq!(names, ["truncated_options"]);
    assert_eq!(events[0].tx_id, Some(0));
}

#[test]
fn the_probe_wants_the_header_and_cookie() {
    let discover = unhex(DISCOVER);
    assert_eq!(probe(&discover, FlowSide::Initiator), Probe::Certain);
    assert_eq!(
        probe(&discover[..239], FlowSide::Initiator),
        Probe::NeedMore
    );
    let mut no_cookie = discover.clone();
    no_cookie[236] = 0;
    assert_eq!(probe(&no_cookie, FlowSide::Initiator), Probe::No);
    let mut bad_op = discover.clone();
    bad_op[0] = 3;
    assert_eq!(probe(&bad_op, FlowSide::Initiator), Probe::No);
    let mut long_hw = discover;
    long_hw[2] = 17;
    assert_eq!(probe(&long_hw, FlowSide::Initiator), Probe::No);
}

#[test]
fn pads_are_single_bytes_and_end_stops_reading() {
    // pad, pad, type ack, pad, hostname "a", end, then junk that would be
    // a hostname.
    let (m, events) = parse_one(&message(
        OP_REPLY,
        &[0, 0, 53, 1, 5, 0, 12, 1, b'a', 255, 12, 1, b'b'],
    ));
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(codes(&m), [53, 12]);
    assert_eq!(m.option(opt::HOSTNAME), Some(&b"a"[..]));
}

#[test]
fn no_end_option_is_truncated() {
    let (m, events) = parse_one(&message(OP_REQUEST, &[53, 1, 3]));
    assert_eq!(codes(&m), [53]);
    assert!(m.truncated);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, "truncated_options");
}

#[test]
fn overloaded_fields_hold_options_file_then_sname() {
    let mut m = message(OP_REPLY, &[53, 1, 2, 52, 1, 3, 255]);
    // sname (44..108): hostname "s"; file (108..236): subnet mask, then
    // padding without an end option.
    m[44..48].copy_from_slice(&[12, 1, b's', 255]);
    m[108..114].copy_from_slice(&[1, 4, 255, 255, 0, 0]);
    let (msg, events) = parse_one(&m);
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(codes(&msg), [53, 1, 12]);
    // Without option 52, the same fields are not read.
    let mut plain = m.clone();
    plain[240 + 3] = 0;
    plain[240 + 4] = 0;
    plain[240 + 5] = 0;
    let (msg, _) = parse_one(&plain);
    assert_eq!(codes(&msg), [53]);
}

#[test]
fn options_past_the_cap_are_left_unread() {
    let mut opts = Vec::new();
    for _ in 0..10 {
        opts.extend_from_slice(&[12, 1, b'h']);
    }
    opts.push(255);
    let mut p = DhcpParser::new(DhcpConfig {
        max_options: 4,
        ..DhcpConfig::default()
    });
    let out = p.parse(&message(OP_REQUEST, &opts), FlowSide::Initiator);
    let [L7Message::Dhcp(m)] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert_eq!(m.options.len(), 4);
    assert_eq!(p.next_event().map(|e| e.event), Some("too_many_options"));
    assert_eq!(p.next_event(), None);
}

#[test]
fn odd_lengths_are_malformed_and_skipped() {
    // A 3-byte lease time, a 1-byte client id, an empty message type, a
    // 5-byte router list, then a good hostname.
    let (m, events) = parse_one(&message(
        OP_REQUEST,
        &[
            51, 3, 0, 0, 1, 61, 1, 1, 53, 0, 3, 5, 1, 2, 3, 4, 5, 12, 1, b'x', 255,
        ],
    ));
    assert_eq!(codes(&m), [12]);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, "malformed_options");
}

#[test]
fn short_or_cookieless_datagrams_are_counted() {
    let mut p = DhcpParser::default();
    assert!(p.parse(&[], FlowSide::Initiator).is_empty());
    assert!(p.parse(&[1; 100], FlowSide::Initiator).is_empty());
    let mut m = message(OP_REQUEST, &[255]);
    m[239] = 0;
    assert!(p.parse(&m, FlowSide::Responder).is_empty());
    assert_eq!(p.malformed(), 2);
    assert_eq!(p.next_event().map(|e| e.event), Some("malformed_header"));
}

#[test]
fn hardware_address_length_is_capped_at_16() {
    let mut m = message(OP_REQUEST, &[255]);
    m[2] = 200;
    let (msg, _) = parse_one(&m);
    assert_eq!(msg.chaddr.len(), 16);
    m[2] = 0;
    let (msg, _) = parse_one(&m);
    assert!(msg.chaddr.is_empty());
}

/// Arbitrary bytes never panic, and every option kept is one of the
/// kept codes with a well-formed length.
#[test]
fn arbitrary_bytes_stay_within_the_caps() {
    use proptest::prelude::*;
    proptest!(|(tail in proptest::collection::vec(any::<u8>(), 0..600), hlen in any::<u8>())| {
        let mut m = message(OP_REQUEST, &tail);
        m[2] = hlen;
        if let Some((msg, _)) = parse_message(&m, 8) {
            prop_assert!(msg.options.len() <= 8);
            prop_assert!(msg.chaddr.len() <= 16);
            for o in &msg.options {
                prop_assert!(KEPT.contains(&o.code));
                prop_assert!(well_formed(o.code, &o.data));
            }
        }
        let mut p = DhcpParser::default();
        let _ = p.parse(&tail, FlowSide::Initiator);
    });
}
