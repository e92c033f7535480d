//! Byte-literal tests of the BitTorrent DHT parser: datagrams of the
//! corpus's captures (decoded with tshark), queries, responses and errors
//! of every kind, what Suricata 7.0.10 writes for datagrams that break off
//! (checked by running it on them), the bencode reader's rules, the
//! probe, the caps, and hostile bytes.

use super::bencode::{self, Value};
use super::*;
use crate::testutil::unhex;
use std::net::IpAddr;

/// nDPI's bittorrent_utp.pcap, frame 1: a `get_peers` query from a
/// µTorrent (`v` `LT\x01\x01`).
const GET_PEERS: &str = "64313a6164323a696432303af7f6007cea13506e514de7ecbc94f2ae517115f8393a696e666f5f6861736832303af7f601d8a6276f762c2c3df274af2827f8d1f1de65313a71393a6765745f7065657273313a74323a0e61313a76343a4c540101313a79313a7165";
/// nDPI's targusdataspeed_false_positives.pcap, frame 3: a `find_node`
/// query without a version.
const FIND_NODE: &str = "64313a6164323a696432303af60277019862c11c95bef4f300ef5056b7684a70363a74617267657432303a09fd88fe679d3ee36a410b0cff10afa94897b58e65313a71393a66696e645f6e6f6465313a74383acaa118dd9cec7275313a79313a7165";
/// The same capture, frame 4: its response, led by the `ip` key (BEP 42),
/// with eight nodes, an unknown `p` and a version.
const NODES: &str = "64323a6970363a5d2fe1f8b635313a7264323a696432303a0a2c6473f02bb17709ed4df0b257d3a55d3ef90a353a6e6f6465733230383a09e84d6727e43cf55ac0bb3091a2d7d5ba9077d7c0832c59feec08c07e8980b6f11fa9be93483d15946e8f1300206db6253f788a094c2bd25c79bb13a995216d7174956d1460718fbd4575b6e1e908b43b8690ef53cd683a5548530905face93112350f9751e0511098748af43d9f9e695003b9aedf54c5c14dc438102849ad2764709e212e16e26aeeb2248f95b8e7c3f9b2219b3cfb57949b365350855ddfa8596baf34a73dbab1382af6f4a968b580ec0d32710b508db9ff1f1bbe9ebb3a6db3c870c3e99245e0d90881ed6bcb72f313a706934363634356565313a74383acaa118dd9cec7275313a76343a4c540102313a79313a7265";

const ID: &[u8; 20] = b"abcdefghij0123456789";
const ID2: &[u8; 20] = b"mnopqrstuvwxyz123456";
const PING: &[u8] = b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
const PONG: &[u8] = b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";

/// The messages among `msgs` (with the `bittorrent-dht` feature alone,
/// every message is one).
fn messages(msgs: Vec<L7Message>) -> Vec<DhtMessage> {
    crate::testutil::messages_of!(msgs, BittorrentDht)
}

/// The one message of datagram `b` (either side's), and the events it
/// raised.
fn one_with(p: &mut BittorrentDhtParser, b: &[u8]) -> (DhtMessage, Vec<&'static str>) {
    let mut got = messages(p.parse(b, FlowSide::Initiator));
    assert_eq!(got.len(), 1, "{:?}", String::from_utf8_lossy(b));
    let events = std::iter::from_fn(|| p.next_event()).map(|e| e.event);
    (got.remove(0), events.collect())
}

fn one(b: &[u8]) -> (DhtMessage, Vec<&'static str>) {
    one_with(&mut BittorrentDhtParser::default(), b)
}

/// A datagram that breaks off: what Suricata had set, and
/// `malformed_packet`.
fn broken(b: &[u8]) -> DhtMessage {
    let (m, events) = one(b);
    assert_eq!(
        events,
        ["malformed_packet"],
        "{:?}",
        String::from_utf8_lossy(b)
    );
    assert_eq!(m.transaction_id(), b"");
    assert_eq!(m.client_version(), None);
    m
}

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::from(a)
}

#[test]
fn the_corpus_queries() {
    let (m, events) = one(&unhex(GET_PEERS));
    assert!(events.is_empty());
    assert_eq!(m.transaction_id(), b"\x0e\x61");
    assert_eq!(m.client_version(), Some(&b"LT\x01\x01"[..]));
    assert_eq!(m.request_type(), Some(&b"get_peers"[..]));
    let r = m.request().unwrap();
    assert_eq!(r.id, unhex("f7f6007cea13506e514de7ecbc94f2ae517115f8"));
    assert_eq!(
        r.info_hash,
        Some(&unhex("f7f601d8a6276f762c2c3df274af2827f8d1f1de")[..])
    );
    assert_eq!(
        (r.target, r.token, r.port, r.implied_port),
        (None, None, None, None)
    );
    assert!(m.response().is_none() && m.error().is_none());

    let (m, _) = one(&unhex(FIND_NODE));
    assert_eq!(m.client_version(), None);
    assert_eq!(m.request_type(), Some(&b"find_node"[..]));
    let target = unhex("09fd88fe679d3ee36a410b0cff10afa94897b58e");
    assert_eq!(m.request().unwrap().target, Some(&target[..]));
    for q in [GET_PEERS, FIND_NODE] {
        assert_eq!(probe(&unhex(q), FlowSide::Initiator), Probe::Certain);
    }
}

#[test]
fn the_corpus_response_led_by_ip() {
    let b = unhex(NODES);
    let (m, events) = one(&b);
    assert!(events.is_empty());
    assert_eq!(m.transaction_id(), unhex("caa118dd9cec7275"));
    assert_eq!(m.client_version(), Some(&b"LT\x01\x02"[..]));
    assert_eq!(m.request_type(), None);
    let r = m.response().unwrap();
    assert_eq!(r.id, unhex("0a2c6473f02bb17709ed4df0b257d3a55d3ef90a"));
    let nodes: Vec<Node> = r.nodes().collect();
    assert_eq!(nodes.len(), 8);
    assert_eq!(
        nodes[0].id,
        unhex("09e84d6727e43cf55ac0bb3091a2d7d5ba9077d7")
    );
    assert_eq!(
        (nodes[0].ip, nodes[0].port),
        (v4([192, 131, 44, 89]), 65260)
    );
    assert_eq!(
        (nodes[7].ip, nodes[7].port),
        (v4([136, 30, 214, 188]), 46895)
    );
    assert_eq!(
        (r.nodes6().count(), r.values().count(), r.token),
        (0, 0, None)
    );
    // A response is DHT to the parser, not to the probe.
    assert_eq!(probe(&b, FlowSide::Responder), Probe::No);
}

#[test]
fn ping_find_node_get_peers_and_announce_peer() {
    let (m, _) = one(PING);
    assert_eq!(m.request_type(), Some(&b"ping"[..]));
    assert_eq!(m.request().unwrap().id, ID);
    let announce = b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:cc1:v4:UT\x01\x021:y1:qe";
    let (m, events) = one(announce);
    assert!(events.is_empty());
    assert_eq!(m.transaction_id(), b"cc");
    assert_eq!(m.client_version(), Some(&b"UT\x01\x02"[..]));
    assert_eq!(m.request_type(), Some(&b"announce_peer"[..]));
    let r = m.request().unwrap();
    assert_eq!(
        r,
        Request {
            id: ID,
            target: None,
            info_hash: Some(&ID2[..]),
            token: Some(&b"aoeusnth"[..]),
            implied_port: Some(1),
            port: Some(6881),
        }
    );
    // Integers at the ends of their ranges (past them the query breaks:
    // below).
    let (m, _) = one(b"d1:ad2:id20:abcdefghij012345678912:implied_porti255e4:porti65535ee1:q4:ping1:t2:aa1:y1:qe");
    let r = m.request().unwrap();
    assert_eq!((r.implied_port, r.port), (Some(255), Some(65535)));
    // Any id length; an empty query name.
    let (m, _) = one(b"d1:ad2:id5:abcdee1:q0:1:t2:aa1:y1:qe");
    assert_eq!(
        (m.request().unwrap().id, m.request_type()),
        (&b"abcde"[..], Some(&b""[..]))
    );
}

#[test]
fn a_response_with_nodes_nodes6_values_and_token() {
    let mut b = b"d1:rd2:id20:mnopqrstuvwxyz1234565:nodes57:".to_vec();
    for i in 1..=2u8 {
        b.extend_from_slice(&[i; 20]);
        b.extend_from_slice(&[1, 2, 3, i, 0x1a, 0xe1]);
    }
    // Five bytes short of a third node: left out.
    b.extend_from_slice(b"xxxxx6:nodes638:");
    b.extend_from_slice(&[3; 20]);
    b.extend((0..16).chain([0x1a, 0xe2]));
    b.extend_from_slice(b"5:token4:tokn6:valuesl6:\x09\x09\x09\x09\x00\x5018:");
    b.extend((0..16).chain([0x00, 0x51]));
    // 8 and 17 bytes: an IPv4 peer, what follows it passed over.
    b.extend_from_slice(b"8:\x07\x07\x07\x07\x00\x51\x05\x0517:");
    b.extend(1..=17);
    b.extend_from_slice(b"ee1:t2:bb1:y1:re");
    let (m, events) = one(&b);
    assert!(events.is_empty());
    let r = m.response().unwrap();
    assert_eq!(r.id, ID2);
    let nodes: Vec<Node> = r.nodes().collect();
    assert_eq!(nodes.len(), 2);
    assert_eq!(
        (nodes[1].id, nodes[1].ip, nodes[1].port),
        (&[2; 20][..], v4([1, 2, 3, 2]), 6881)
    );
    let six: Vec<Node> = r.nodes6().collect();
    let addr: [u8; 16] = std::array::from_fn(|i| i as u8);
    assert_eq!(
        (six.len(), six[0].ip, six[0].port),
        (1, IpAddr::from(addr), 6882)
    );
    let peers: Vec<(IpAddr, u16)> = r.values().map(|p| (p.ip, p.port)).collect();
    assert_eq!(
        peers,
        [
            (v4([9, 9, 9, 9]), 80),
            (IpAddr::from(addr), 81),
            (v4([7, 7, 7, 7]), 81),
            (v4([1, 2, 3, 4]), 0x0506),
        ]
    );
    assert_eq!(r.token, Some(&b"tokn"[..]));

    // No whole node: no nodes; values that are no list: passed over.
    let (m, _) = one(b"d1:rd2:id20:mnopqrstuvwxyz1234565:nodes0:6:values3:abce1:t2:bb1:y1:re");
    let r = m.response().unwrap();
    assert_eq!((r.nodes().count(), r.values().count()), (0, 0));
    // A peer too short, or not a string: the response breaks.
    broken(b"d1:rd2:id20:mnopqrstuvwxyz1234566:valuesl5:abcdeee1:t2:bb1:y1:re");
    broken(b"d1:rd2:id20:mnopqrstuvwxyz1234566:valuesli5eee1:t2:bb1:y1:re");
    broken(b"d1:rd2:id20:mnopqrstuvwxyz1234565:nodesi5ee1:t2:bb1:y1:re");
}

#[test]
fn errors_keep_their_last_code_and_message() {
    let (m, events) = one(b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee");
    assert!(events.is_empty());
    let e = m.error().unwrap();
    assert_eq!((e.num, e.msg), (201, &b"A Generic Error Ocurred"[..]));
    assert!(m.request().is_none() && m.response().is_none());
    // Later items win; lists and dicts among them are passed over.
    let (m, _) = one(b"d1:eli201e3:abc1:xi5eli1eed1:ai1eee1:t2:aa1:y1:ee");
    let e = m.error().unwrap();
    assert_eq!((e.num, e.msg), (5, &b"x"[..]));
}

/// What Suricata 7.0.10 writes for datagrams that break off after it set
/// part of its transaction: the query's name alone, or the whole query
/// without its transaction id.
#[test]
fn broken_datagrams_keep_what_suricata_had_set() {
    // `q` without `a` (an `ip`-led dict, which Suricata reads too).
    let m = broken(b"d2:ip6:\x01\x02\x03\x04\x1a\xe11:q4:ping1:t2:aa1:y1:qe");
    assert_eq!((m.request_type(), m.request()), (Some(&b"ping"[..]), None));
    // A query without `t`, or with a `t` that is no string.
    let m = broken(b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:v2:LT1:y1:qe");
    assert_eq!(m.request_type(), Some(&b"ping"[..]));
    assert_eq!(m.request().unwrap().id, ID);
    broken(b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:ti5e1:y1:qe");
    // A response without `t`.
    assert!(
        broken(b"d1:rd2:id20:mnopqrstuvwxyz123456e1:y1:re")
            .response()
            .is_some()
    );
    // Nothing set: no `q`, no `y`, an unknown `y`, a `y` for what is not
    // there, a query without the node's id.
    for b in [
        &b"d1:ad2:id20:abcdefghij0123456789e1:t2:aa1:y1:qe"[..],
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aae",
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:Qe",
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:re",
        b"d1:ad6:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:pi\xffg1:t2:aa1:y1:qe",
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:vi5e1:y1:qe",
        // Integers past their ranges, or that are not integers.
        b"d1:ad2:id20:abcdefghij012345678912:implied_porti256ee1:q4:ping1:t2:aa1:y1:qe",
        b"d1:ad2:id20:abcdefghij01234567894:porti65536ee1:q4:ping1:t2:aa1:y1:qe",
        b"d1:ad2:id20:abcdefghij01234567894:porti-1ee1:q4:ping1:t2:aa1:y1:qe",
        b"d1:ad2:id20:abcdefghij01234567894:port4:6881e1:q4:ping1:t2:aa1:y1:qe",
        // Errors with a code past 16 bits or below 0, a message that is
        // not UTF-8, no message.
        b"d1:eli70000e3:abce1:t2:aa1:y1:ee",
        b"d1:eli-1e3:abce1:t2:aa1:y1:ee",
        b"d1:eli201e3:a\xffce1:t2:aa1:y1:ee",
        b"d1:eli201ee1:t2:aa1:y1:ee",
        // A value the message's type does not read still has to parse.
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:rd5:token2:xxe1:t2:aa1:y1:qe",
        // Only the prefix.
        b"d1:ad2:id20:",
    ] {
        let m = broken(b);
        assert_eq!(m, DhtMessage::default(), "{:?}", String::from_utf8_lossy(b));
    }
    // A response whose `y` says so, its `a` read and passed over.
    let (m, _) = one(
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
    );
    assert_eq!((m.request_type(), m.request()), (None, None));
    assert_eq!(m.response().unwrap().id, ID2);
}

#[test]
fn the_bencode_rules_are_suricatas() {
    let q = |extra: &str| {
        format!("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa{extra}1:y1:qe").into_bytes()
    };
    // Well-formed: nested three deep, integers past u64 where nothing
    // reads them, bytes after the dict.
    for b in [
        q("1:xllee"),
        q("1:xi99999999999999999999999e"),
        q("1:wi0e1:xi-5e"),
    ] {
        assert_eq!(one(&b).0.transaction_id(), b"aa");
    }
    let mut trailing = PING.to_vec();
    trailing.extend_from_slice(b"garbage");
    assert_eq!(one(&trailing).0.request_type(), Some(&b"ping"[..]));
    // Not: keys out of order or twice, numbers not canonical, a key
    // without a value or that is no string, a string past the end, a
    // dict left open.
    for extra in [
        "1:b1:x1:ai1e",
        "1:xd1:bi1e1:ai1ee",
        "1:xi-0e",
        "1:xi00e",
        "1:xie",
        "1:x02:ab",
        "1:xd1:be",
        "i5ei6e",
        "1:x99999999999999999999999:",
        "1:x9:ab",
    ] {
        let b = q(extra);
        assert_eq!(broken(&b), DhtMessage::default(), "{extra}");
    }
    broken(b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:t2:ab1:y1:qe");
    broken(&PING[..PING.len() - 1]);
    // Four containers deep: too deep for Suricata's decoder, and said so.
    for b in [
        q("1:xllleee"),
        b"d1:ad2:id20:abcdefghij01234567891:xlleeee1:q4:ping1:t2:aa1:y1:qe".to_vec(),
    ] {
        let (m, events) = one(&b);
        assert_eq!(m, DhtMessage::default());
        assert_eq!(events, ["malformed_packet", "nesting_too_deep"]);
    }
}

#[test]
fn the_bencode_reader_hands_out_checked_views() {
    let b = b"d1:ali1ei-2e3:xyze1:bd1:ci0eee-rest";
    let (v, rest) = bencode::check(b, 3).unwrap();
    assert_eq!(rest, b"-rest");
    let Value::Dict(d) = v else { panic!("{v:?}") };
    let pairs: Vec<_> = d.iter().collect();
    assert_eq!(pairs.len(), 2);
    let (b"a", Value::List(l)) = pairs[0] else {
        panic!("{pairs:?}")
    };
    let items: Vec<_> = l.iter().collect();
    assert_eq!(items.len(), 3);
    let Value::Int(one) = items[0] else { panic!() };
    assert_eq!(one.unsigned::<u8>(), Some(1));
    let Value::Int(minus_two) = items[1] else {
        panic!()
    };
    assert_eq!(minus_two.unsigned::<u64>(), None);
    assert_eq!(items[2], Value::Bytes(b"xyz"));
    let (b"b", Value::Dict(inner)) = pairs[1] else {
        panic!("{pairs:?}")
    };
    assert_eq!(inner.iter().count(), 1);
    assert_eq!(bencode::check(b, 1), Err(Malformed::TooDeep));
    for bad in [
        &b""[..],
        b"e",
        b"x",
        b"l",
        b"d1:ae",
        b"i1",
        b"3:ab",
        b"d1:bi1e1:ai1ee",
    ] {
        assert_eq!(bencode::check(bad, 3), Err(Malformed::Syntax), "{bad:?}");
    }
    assert_eq!(bencode::check(b"0:", 0), Ok((Value::Bytes(b""), &b""[..])));
}

#[test]
fn other_datagrams_are_passed_over_quietly() {
    let mut p = BittorrentDhtParser::default();
    for b in [
        &unhex("4100530210eeb2f00000000000000000e7f50000")[..],
        b"d1:q4:ping1:t2:aa1:y1:qe",
        b"d1:ed1:ai1eee1:t2:aa1:y1:ee",
        b"d1:ad",
        b"",
    ] {
        assert!(p.parse(b, FlowSide::Responder).is_empty(), "{b:?}");
    }
    assert_eq!((p.next_event(), p.malformed()), (None, 0));
    // The transactions that follow are numbered from 0 still.
    let (_, events) = one_with(&mut p, b"d1:ad2:id20:");
    assert_eq!(events, ["malformed_packet"]);
    let e = AppEvent {
        proto: "bittorrent-dht",
        event: "malformed_packet",
        tx_id: Some(1),
    };
    assert!(p.parse(b"d1:el", FlowSide::Initiator).is_empty());
    messages(p.parse(b"d1:elee", FlowSide::Initiator));
    assert_eq!(p.next_event(), Some(e));
    assert_eq!(p.malformed(), 2);
}

#[test]
fn the_probe_takes_queries_only() {
    assert_eq!(probe(PING, FlowSide::Responder), Probe::Certain);
    assert_eq!(probe(QUERY_PREFIX, FlowSide::Initiator), Probe::Certain);
    for b in [
        PONG,
        b"d1:eli201e3:abce1:t2:aa1:y1:ee",
        b"d1:ad1:a1:b2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
        b"d1:ad2:id20",
        b"",
    ] {
        assert_eq!(probe(b, FlowSide::Initiator), Probe::No, "{b:?}");
    }
}

#[test]
fn caps_cut_strings_nodes_and_peers_and_say_so() {
    let cfg = BittorrentDhtConfig {
        max_string_bytes: 21,
        max_nodes: 2,
        max_values: 1,
        ..BittorrentDhtConfig::default()
    };
    let mut p = BittorrentDhtParser::new(cfg);
    let t = "T".repeat(30);
    // A 22-byte query name of 2-byte characters: cut at 20 bytes (the
    // character boundary under the cap), the transaction id at 21.
    let name = "é".repeat(11);
    let b = format!("d1:ad2:id20:abcdefghij0123456789e1:q22:{name}1:t30:{t}1:y1:qe");
    let (m, events) = one_with(&mut p, b.as_bytes());
    assert_eq!(m.transaction_id(), &t.as_bytes()[..21]);
    assert_eq!(m.request_type(), Some(&name.as_bytes()[..20]));
    assert_eq!(events, ["long_string"]);

    let mut b = b"d1:rd2:id20:mnopqrstuvwxyz1234565:nodes78:".to_vec();
    for i in 0..3 {
        b.extend_from_slice(&[i; 26]);
    }
    b.extend_from_slice(
        b"6:valuesl6:\x01\x01\x01\x01\x00\x016:\x02\x02\x02\x02\x00\x02ee1:t2:bb1:y1:re",
    );
    let (m, events) = one_with(&mut p, &b);
    let r = m.response().unwrap();
    assert_eq!((r.nodes().count(), r.values().count()), (2, 1));
    assert_eq!(r.values().next().unwrap().ip, v4([1, 1, 1, 1]));
    assert_eq!(events, ["too_many_nodes", "too_many_values"]);
}

/// Arbitrary bytes, bare or after each prefix Suricata reads, never
/// panic and every message stays within the caps.
#[test]
fn arbitrary_bytes_stay_within_the_caps() {
    use proptest::prelude::*;
    let cfg = BittorrentDhtConfig {
        max_string_bytes: 24,
        max_nodes: 2,
        max_values: 2,
        ..BittorrentDhtConfig::default()
    };
    proptest!(|(tail in proptest::collection::vec(any::<u8>(), 0..600), start in 0..5usize)| {
        let mut b = STARTS.get(start).map_or(Vec::new(), |s| s.to_vec());
        b.extend_from_slice(&tail);
        let _ = probe(&b, FlowSide::Initiator);
        let mut p = BittorrentDhtParser::new(cfg.clone());
        for m in messages(p.parse(&b, FlowSide::Responder)) {
            prop_assert!(m.transaction_id().len() <= 24);
            if let Some(r) = m.response() {
                prop_assert!(r.nodes().count() <= 2 && r.nodes6().count() <= 2);
                prop_assert!(r.values().count() <= 2);
            }
        }
        let mut n = 0;
        while p.next_event().is_some() {
            n += 1;
        }
        prop_assert!(n <= MAX_PENDING_EVENTS);
    });
}
