//! Byte-literal tests of the MQTT parser: the probe, each packet type's
//! fields in 3.1.1 and 5, Suricata's transaction grouping, the caps and
//! the anomalies, split packets and arbitrary bytes.

use super::*;
use crate::session::SessionParser;

/// A packet: the first byte, the remaining length, the rest.
fn pkt(first: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![first];
    let mut n = body.len();
    loop {
        let b = (n % 128) as u8;
        n /= 128;
        v.push(if n > 0 { b | 0x80 } else { b });
        if n == 0 {
            break;
        }
    }
    v.extend_from_slice(body);
    v
}

fn s(v: &[u8]) -> Vec<u8> {
    let mut o = (v.len() as u16).to_be_bytes().to_vec();
    o.extend_from_slice(v);
    o
}

fn connect(version: u8, flags: u8, extra: &[u8]) -> Vec<u8> {
    let name: &[u8] = if version == 3 { b"MQIsdp" } else { b"MQTT" };
    let mut b = s(name);
    b.extend_from_slice(&[version, flags, 0, 60]);
    if version == 5 {
        b.push(0);
    }
    b.extend_from_slice(&s(b"dev1"));
    b.extend_from_slice(extra);
    pkt(0x10, &b)
}

fn txs(out: Vec<L7Message>) -> Vec<MqttTransaction> {
    out.into_iter()
        .map(|m| match m {
            L7Message::Mqtt(t) => *t,
            #[allow(unreachable_patterns)]
            other => panic!("{other:?}"),
        })
        .collect()
}

fn kinds(t: &MqttTransaction) -> Vec<&'static str> {
    t.messages.iter().map(MqttMessage::type_name).collect()
}

fn events(p: &mut MqttParser) -> Vec<&'static str> {
    std::iter::from_fn(|| p.next_event())
        .map(|e| e.event)
        .collect()
}

#[test]
fn probe_wants_a_connect_from_the_client() {
    let c = connect(4, 2, &[]);
    assert_eq!(probe(&c, FlowSide::Initiator), Probe::Certain);
    assert_eq!(
        probe(&connect(3, 2, &[]), FlowSide::Initiator),
        Probe::Certain
    );
    assert_eq!(
        probe(&connect(5, 2, &[]), FlowSide::Initiator),
        Probe::Certain
    );
    assert_eq!(probe(&c, FlowSide::Responder), Probe::No);
    for n in 0..9 {
        assert_eq!(probe(&c[..n], FlowSide::Initiator), Probe::NeedMore, "{n}");
    }
    let mut bad = c.clone();
    bad[8] = 9;
    assert_eq!(probe(&bad, FlowSide::Initiator), Probe::No);
    assert_eq!(probe(b"GET / HTTP/1.1", FlowSide::Initiator), Probe::No);
    assert_eq!(
        probe(&pkt(0x10, b"\x00\x04MQTX\x04"), FlowSide::Initiator),
        Probe::No
    );
    assert_eq!(probe(&[0xc0, 0], FlowSide::Initiator), Probe::No);
}

#[test]
fn connect_and_connack_are_one_transaction() {
    let mut p = MqttParser::default();
    let mut extra = s(b"will/t");
    extra.extend_from_slice(&s(b"bye"));
    extra.extend_from_slice(&s(b"alice"));
    extra.extend_from_slice(&s(b"secret"));
    assert!(p.feed_initiator(&connect(4, 0xc6, &extra)).is_empty());
    let t = txs(p.feed_responder(&pkt(0x20, &[1, 0])));
    assert_eq!(t.len(), 1);
    assert_eq!(kinds(&t[0]), ["connect", "connack"]);
    let MqttBody::Connect(c) = &t[0].messages[0].body else {
        panic!()
    };
    assert_eq!(&*c.client_id, b"dev1");
    assert_eq!(c.username.as_deref(), Some(&b"alice"[..]));
    assert_eq!(c.password, None, "passwords are off by default");
    assert_eq!(c.will_topic.as_deref(), Some(&b"will/t"[..]));
    assert_eq!(c.will_message.as_deref(), Some(&b"bye"[..]));
    assert!(matches!(
        t[0].messages[1].body,
        MqttBody::Connack {
            session_present: true,
            return_code: 0,
            ..
        }
    ));
    assert!(events(&mut p).is_empty());

    let cfg = MqttConfig {
        passwords: true,
        ..MqttConfig::default()
    };
    let mut p = MqttParser::new(&cfg);
    p.feed_initiator(&connect(4, 0xc6, &extra));
    let t = txs(p.feed_responder(&pkt(0x20, &[0, 0])));
    let MqttBody::Connect(c) = &t[0].messages[0].body else {
        panic!()
    };
    assert_eq!(c.password.as_deref(), Some(&b"secret"[..]));
}

/// QoS 0 stands alone; QoS 1 waits for PUBACK; QoS 2 for PUBREC, PUBREL
/// and PUBCOMP; the broker's own PUBLISH opens a transaction towards the
/// client.
#[test]
fn publishes_group_with_their_acknowledgements() {
    let mut p = MqttParser::default();
    p.feed_initiator(&connect(4, 2, &[]));
    p.feed_responder(&pkt(0x20, &[0, 0]));
    let mut q0 = s(b"a/b");
    q0.extend_from_slice(b"hello");
    let t = txs(p.feed_initiator(&pkt(0x30, &q0)));
    assert_eq!(kinds(&t[0]), ["publish"]);
    let MqttBody::Publish(pb) = &t[0].messages[0].body else {
        panic!()
    };
    assert_eq!(
        (&*pb.topic, &*pb.message, pb.message_id),
        (&b"a/b"[..], &b"hello"[..], None)
    );

    let mut q1 = s(b"a/b");
    q1.extend_from_slice(&[0, 7]);
    q1.extend_from_slice(b"x");
    assert!(p.feed_initiator(&pkt(0x33, &q1)).is_empty());
    let t = txs(p.feed_responder(&pkt(0x40, &[0, 7])));
    assert_eq!(kinds(&t[0]), ["publish", "puback"]);
    assert!(t[0].messages[0].retain);
    assert_eq!(t[0].messages[0].qos, 1);

    let mut q2 = s(b"c");
    q2.extend_from_slice(&[0, 9]);
    assert!(p.feed_responder(&pkt(0x34, &q2)).is_empty());
    assert!(p.feed_initiator(&pkt(0x50, &[0, 9])).is_empty());
    assert!(p.feed_responder(&pkt(0x62, &[0, 9])).is_empty());
    let t = txs(p.feed_initiator(&pkt(0x70, &[0, 9])));
    assert_eq!(kinds(&t[0]), ["publish", "pubrec", "pubrel", "pubcomp"]);
    assert!(t[0].to_client);
    assert_eq!(t[0].tx_id, 3);
    assert!(events(&mut p).is_empty());
}

#[test]
fn subscribe_unsubscribe_ping_disconnect() {
    let mut p = MqttParser::default();
    p.feed_initiator(&connect(4, 2, &[]));
    p.feed_responder(&pkt(0x20, &[0, 0]));
    let mut sub = vec![0, 1];
    sub.extend_from_slice(&s(b"a/#"));
    sub.push(1);
    sub.extend_from_slice(&s(b"b"));
    sub.push(2);
    p.feed_initiator(&pkt(0x82, &sub));
    let t = txs(p.feed_responder(&pkt(0x90, &[0, 1, 1, 0x80])));
    assert_eq!(kinds(&t[0]), ["subscribe", "suback"]);
    let MqttBody::Subscribe { topics, .. } = &t[0].messages[0].body else {
        panic!()
    };
    assert_eq!(topics.len(), 2);
    assert_eq!((&*topics[1].0, topics[1].1), (&b"b"[..], 2));
    let MqttBody::Suback { qos_granted, .. } = &t[0].messages[1].body else {
        panic!()
    };
    assert_eq!(&**qos_granted, &[1, 0x80]);

    let mut unsub = vec![0, 2];
    unsub.extend_from_slice(&s(b"a/#"));
    p.feed_initiator(&pkt(0xa2, &unsub));
    let t = txs(p.feed_responder(&pkt(0xb0, &[0, 2])));
    assert_eq!(kinds(&t[0]), ["unsubscribe", "unsuback"]);

    let mut both = pkt(0xc0, &[]);
    both.extend_from_slice(&pkt(0xe0, &[]));
    let t = txs(p.feed_initiator(&both));
    assert_eq!(
        t.iter().map(|t| kinds(t)[0]).collect::<Vec<_>>(),
        ["pingreq", "disconnect"]
    );
    let t = txs(p.feed_responder(&pkt(0xd0, &[])));
    assert_eq!(kinds(&t[0]), ["pingresp"]);
    assert!(events(&mut p).is_empty());
}

#[test]
fn v5_properties_reason_codes_and_auth() {
    let mut p = MqttParser::default();
    p.feed_initiator(&connect(5, 2, &[]));
    // CONNACK with receive maximum 20 and a user property.
    let mut props = vec![33, 0, 20, 38];
    props.extend_from_slice(&s(b"k"));
    props.extend_from_slice(&s(b"v"));
    let mut ack = vec![0, 0, props.len() as u8];
    ack.extend_from_slice(&props);
    let t = txs(p.feed_responder(&pkt(0x20, &ack)));
    let MqttBody::Connack { properties, .. } = &t[0].messages[1].body else {
        panic!()
    };
    let props = properties.as_deref().unwrap();
    assert_eq!(
        props[0],
        MqttProperty {
            id: 33,
            value: PropValue::Int(20)
        }
    );
    assert_eq!(
        props[1].value,
        PropValue::Pair(b"k"[..].into(), b"v"[..].into())
    );
    // PUBLISH QoS 1 with a content type, PUBACK in its short form.
    let mut pb = s(b"t");
    pb.extend_from_slice(&[0, 1, 6, 3]);
    pb.extend_from_slice(&s(b"a/b"));
    pb.extend_from_slice(b"m");
    p.feed_initiator(&pkt(0x32, &pb));
    let t = txs(p.feed_responder(&pkt(0x40, &[0, 1])));
    let MqttBody::Publish(m) = &t[0].messages[0].body else {
        panic!()
    };
    assert_eq!(&*m.message, b"m");
    assert_eq!(
        property_name(m.properties.as_deref().unwrap()[0].id),
        Some("content_type")
    );
    assert!(matches!(
        t[0].messages[1].body,
        MqttBody::Ack {
            reason_code: Some(0),
            ..
        }
    ));
    // UNSUBACK's reason codes, DISCONNECT's and AUTH's reason code.
    p.feed_initiator(&pkt(0xa2, &[0, 2, 0, 0, 1, b'x']));
    let t = txs(p.feed_responder(&pkt(0xb0, &[0, 2, 0, 0x11])));
    let MqttBody::Unsuback { reason_codes, .. } = &t[0].messages[1].body else {
        panic!()
    };
    assert_eq!(&**reason_codes, &[0x11]);
    let t = txs(p.feed_initiator(&pkt(0xf0, &[0x18, 0])));
    assert!(matches!(
        t[0].messages[0].body,
        MqttBody::Auth {
            reason_code: 0x18,
            properties: None
        }
    ));
    // A one-byte DISCONNECT reads as reason 0 (Suricata's record).
    let t = txs(p.feed_initiator(&pkt(0xe0, &[4])));
    assert!(matches!(
        t[0].messages[0].body,
        MqttBody::Disconnect {
            reason_code: Some(0),
            ..
        }
    ));
    let t = txs(p.feed_initiator(&pkt(0xe0, &[4, 0])));
    assert!(matches!(
        t[0].messages[0].body,
        MqttBody::Disconnect {
            reason_code: Some(4),
            ..
        }
    ));
}

/// Packets split anywhere, and several in one read, give the same
/// transactions.
#[test]
fn split_and_joined_reads_agree() {
    let mut stream = connect(4, 2, &[]);
    let mut pb = s(b"topic");
    pb.extend_from_slice(b"payload");
    stream.extend_from_slice(&pkt(0x30, &pb));
    stream.extend_from_slice(&pkt(0xc0, &[]));
    let whole = {
        let mut p = MqttParser::default();
        let mut t = txs(p.feed_initiator(&stream));
        t.extend(txs(p.flow_end()));
        t
    };
    assert_eq!(whole.len(), 3);
    for cut in 1..stream.len() {
        let mut p = MqttParser::default();
        let mut t = txs(p.feed_initiator(&stream[..cut]));
        t.extend(txs(p.feed_initiator(&stream[cut..])));
        t.extend(txs(p.flow_end()));
        // The CONNECT waits for its CONNACK: reported at the end.
        assert_eq!(t.len(), 3, "{cut}");
        let mut w = whole.clone();
        w.sort_by_key(|t| t.tx_id);
        t.sort_by_key(|t| t.tx_id);
        assert_eq!(t, w, "{cut}");
    }
}

#[test]
fn anomalies_are_suricatas() {
    let mut p = MqttParser::default();
    // A PUBLISH before any CONNECT, an unmatched PUBACK, a CONNACK alone.
    let mut pb = s(b"t");
    pb.extend_from_slice(b"m");
    p.feed_initiator(&pkt(0x30, &pb));
    p.feed_responder(&pkt(0x40, &[0, 5]));
    p.feed_responder(&pkt(0x20, &[0, 0]));
    assert_eq!(
        events(&mut p),
        [
            "unintroduced_message",
            "missing_publish",
            "unintroduced_message",
            "missing_connect"
        ]
    );
    p.feed_initiator(&connect(4, 2, &[]));
    p.feed_responder(&pkt(0x20, &[0, 0]));
    p.feed_initiator(&connect(4, 2, &[]));
    assert_eq!(events(&mut p), ["double_connect"]);
    // A malformed packet (a SUBSCRIBE without topics) stops the parsing.
    p.feed_initiator(&pkt(0x82, &[0, 1]));
    assert_eq!(events(&mut p), ["malformed_traffic"]);
    assert!(p.feed_initiator(&pkt(0xc0, &[])).is_empty());
    // The second CONNECT is reported at the end, open.
    let t = txs(p.flow_end());
    assert_eq!(kinds(&t[0]), ["connect"]);
}

#[test]
fn caps_cut_and_report() {
    let cfg = MqttConfig {
        max_msg_length: 300,
        max_tx: 2,
        max_topics: 1,
        max_properties: 1,
        max_message_bytes: 4,
        ..MqttConfig::default()
    };
    let mut p = MqttParser::new(&cfg);
    p.feed_initiator(&connect(5, 2, &[]));
    p.feed_responder(&pkt(0x20, &[0, 0, 0]));
    // A long PUBLISH: skipped unread, in pieces.
    let mut long = s(b"t");
    long.push(0);
    long.extend_from_slice(&[b'x'; 400]);
    let long = pkt(0x30, &long);
    let t = txs(p.feed_initiator(&long[..100]));
    assert!(matches!(
        t[0].messages[0].body,
        MqttBody::Truncated {
            skipped_length: 407
        }
    ));
    assert!(p.feed_initiator(&long[100..]).is_empty());
    // A message past max_message_bytes is cut; extra properties dropped.
    let mut pb = s(b"t");
    pb.extend_from_slice(&[5, 1, 1, 35, 0, 2]);
    pb.extend_from_slice(b"abcdef");
    let t = txs(p.feed_initiator(&pkt(0x30, &pb)));
    let MqttBody::Publish(m) = &t[0].messages[0].body else {
        panic!()
    };
    assert_eq!((&*m.message, m.message_truncated), (&b"abcd"[..], true));
    assert_eq!(m.properties.as_deref().map(<[_]>::len), Some(1));
    // Topics past max_topics.
    let mut sub = vec![0, 1, 0];
    for t in [&b"a"[..], b"b"] {
        sub.extend_from_slice(&s(t));
        sub.push(0);
    }
    p.feed_initiator(&pkt(0x82, &sub));
    // Open transactions past max_tx: the oldest is reported.
    p.feed_initiator(&pkt(0x82, &[0, 2, 0, 0, 1, b'c', 0]));
    let t = txs(p.feed_initiator(&pkt(0x82, &[0, 3, 0, 0, 1, b'd', 0])));
    assert_eq!(t[0].tx_id, 3);
    let MqttBody::Subscribe { topics, .. } = &t[0].messages[0].body else {
        panic!()
    };
    assert_eq!(topics.len(), 1);
    assert_eq!(
        events(&mut p),
        [
            "too_many_properties",
            "message_truncated",
            "too_many_topics",
            "too_many_transactions"
        ]
    );
}

/// Arbitrary bytes either way never panic, and the pending bytes stay
/// within the packet cap.
#[test]
fn arbitrary_bytes_stay_bounded() {
    let cfg = MqttConfig {
        max_msg_length: 256,
        ..MqttConfig::default()
    };
    let mut x: u32 = 0x1234_5678;
    for round in 0..200 {
        let mut p = MqttParser::new(&cfg);
        p.feed_initiator(&connect(if round % 2 == 0 { 4 } else { 5 }, 2, &[]));
        for _ in 0..20 {
            let mut b = Vec::new();
            for _ in 0..(x % 300) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                b.push(x as u8);
            }
            if x.is_multiple_of(2) {
                p.feed_initiator(&b);
            } else {
                p.feed_responder(&b);
            }
            assert!(p.pending.iter().all(|v| v.len() <= 256 + 5));
        }
        p.flow_end();
        while p.next_event().is_some() {}
    }
}
