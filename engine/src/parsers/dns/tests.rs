use super::*;
use crate::FlowSide;
use crate::parsers::{DnsConfig, L7Message};
use crate::session::{DatagramParser, SessionParser};
use crate::timestamp::Timestamp;
use proptest::prelude::*;

/// `www.example.com` in wire form.
const WWW: &[u8] = b"\x03www\x07example\x03com\x00";

fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&flags.to_be_bytes());
    for c in counts {
        m.extend_from_slice(&c.to_be_bytes());
    }
    m
}

fn query(id: u16, name: &[u8], rrtype: u16) -> Vec<u8> {
    let mut m = header(id, 0x0100, [1, 0, 0, 0]);
    m.extend_from_slice(name);
    m.extend_from_slice(&rrtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    m
}

/// Appends a record owned by a pointer to offset 12 (the question's name).
fn rr(m: &mut Vec<u8>, rrtype: u16, ttl: u32, rdata: &[u8]) {
    m.extend_from_slice(&[0xc0, 12]);
    m.extend_from_slice(&rrtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    m.extend_from_slice(&ttl.to_be_bytes());
    m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    m.extend_from_slice(rdata);
}

fn response(id: u16, rrtype: u16, records: &[(u16, &[u8])]) -> Vec<u8> {
    let mut m = header(id, 0x8180, [1, records.len() as u16, 0, 0]);
    m.extend_from_slice(WWW);
    m.extend_from_slice(&rrtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    for (t, data) in records {
        rr(&mut m, *t, 300, data);
    }
    m
}

fn dns(msgs: &[L7Message]) -> Vec<&DnsMessage> {
    msgs.iter()
        .map(|m| match m {
            L7Message::Dns(d) => &**d,
            #[cfg(any(feature = "http", feature = "tls"))]
            other => panic!("not DNS: {other:?}"),
        })
        .collect()
}

#[test]
fn query_then_answer_with_rtt() {
    let mut p = DnsUdpParser::default();
    p.packet_time(Timestamp::new(10, 0));
    let out = p.parse(&query(0x1234, WWW, rrtype::A), FlowSide::Initiator);
    let q = dns(&out)[0];
    assert_eq!((q.kind, q.id, q.tcp), (DnsKind::Query, 0x1234, false));
    assert_eq!(q.tx_id, 0);
    assert_eq!(&*q.questions[0].name, b"www.example.com");
    assert_eq!(q.questions[0].rrtype, rrtype::A);
    assert!(!q.is_response());
    p.packet_time(Timestamp::new(10, 25_000_000));
    // An A record and a CNAME whose target is compressed onto the question.
    let out = p.parse(
        &response(
            0x1234,
            rrtype::A,
            &[
                (rrtype::A, &[93, 184, 216, 34]),
                (rrtype::CNAME, &[3, b'c', b'd', b'n', 0xc0, 16]),
            ],
        ),
        FlowSide::Responder,
    );
    let a = dns(&out)[0];
    assert_eq!(a.kind, DnsKind::Answer);
    assert_eq!((a.rcode(), a.opcode(), a.flags), (0, 0, 0x8180));
    assert_eq!(a.rtt_us, Some(25_000));
    assert_eq!(a.tx_id, 1, "a response is a transaction of its own");
    assert_eq!(a.answers[0].data, RData::A(Ipv4Addr::new(93, 184, 216, 34)));
    assert_eq!(&*a.answers[0].name, b"www.example.com");
    assert_eq!(a.answers[0].ttl, 300);
    assert_eq!(
        a.answers[1].data,
        RData::Name(b"cdn.example.com"[..].into())
    );
    // Matched: nothing left to report at the end.
    assert!(p.flow_end().is_empty());
}

#[test]
fn every_listed_rdata_type() {
    let soa = {
        let mut v = b"\x02ns\xc0\x10\x05admin\xc0\x10".to_vec();
        for n in [2024u32, 3600, 600, 86400, 60] {
            v.extend_from_slice(&n.to_be_bytes());
        }
        v
    };
    let mut svcb = vec![0, 1, 0]; // priority 1, target "."
    svcb.extend_from_slice(&[0, 1, 0, 6, 2, b'h', b'2', 2, b'h', b'3']); // alpn
    svcb.extend_from_slice(&[0, 4, 0, 4, 1, 2, 3, 4]); // ipv4hint
    let records: Vec<(u16, Vec<u8>)> = vec![
        (
            rrtype::AAAA,
            [0x20, 1, 0x0d, 0xb8]
                .iter()
                .copied()
                .chain([0; 11])
                .chain([1])
                .collect(),
        ),
        (rrtype::NS, b"\x02ns\xc0\x10".to_vec()),
        (rrtype::PTR, b"\x04host\xc0\x10".to_vec()),
        (rrtype::MX, b"\x00\x0a\x04mail\xc0\x10".to_vec()),
        (rrtype::TXT, b"\x05hello\x03\xffab".to_vec()),
        (rrtype::SOA, soa),
        (
            rrtype::SRV,
            b"\x00\x01\x00\x02\x01\xbb\x03sip\xc0\x10".to_vec(),
        ),
        (rrtype::CAA, b"\x80\x05issueletsencrypt.org".to_vec()),
        (rrtype::HTTPS, svcb),
        (99, b"v=spf1".to_vec()),
        (rrtype::A, vec![1, 2, 3]), // wrong length: kept raw
    ];
    let refs: Vec<(u16, &[u8])> = records.iter().map(|(t, d)| (*t, &d[..])).collect();
    let mut m = response(7, rrtype::A, &refs);
    // An OPT record in the additional section: UDP 1232, DO, client subnet.
    m[11] = 1;
    m.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0]);
    let opt = [0u8, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2];
    m.extend_from_slice(&(opt.len() as u16).to_be_bytes());
    m.extend_from_slice(&opt);
    let msg = parse_message(&m, false).unwrap();
    let data: Vec<&RData> = msg.answers.iter().map(|r| &r.data).collect();
    assert_eq!(*data[0], RData::Aaaa("2001:db8::1".parse().unwrap()));
    assert_eq!(*data[1], RData::Name(b"ns.example.com"[..].into()));
    assert_eq!(*data[2], RData::Name(b"host.example.com"[..].into()));
    assert_eq!(
        *data[3],
        RData::Mx {
            preference: 10,
            exchange: b"mail.example.com"[..].into()
        }
    );
    assert_eq!(
        *data[4],
        RData::Txt(vec![b"hello"[..].into(), b"\xffab"[..].into()])
    );
    assert_eq!(
        *data[5],
        RData::Soa {
            mname: b"ns.example.com"[..].into(),
            rname: b"admin.example.com"[..].into(),
            serial: 2024,
            refresh: 3600,
            retry: 600,
            expire: 86400,
            minimum: 60
        }
    );
    assert_eq!(
        *data[6],
        RData::Srv {
            priority: 1,
            weight: 2,
            port: 443,
            target: b"sip.example.com"[..].into()
        }
    );
    assert_eq!(
        *data[7],
        RData::Caa {
            flags: 0x80,
            tag: b"issue"[..].into(),
            value: b"letsencrypt.org"[..].into()
        }
    );
    assert_eq!(
        *data[8],
        RData::Svcb {
            priority: 1,
            target: DnsName::default(),
            alpn: vec![b"h2"[..].into(), b"h3"[..].into()],
            keys: vec![1, 4]
        }
    );
    assert_eq!(*data[9], RData::Raw(b"v=spf1"[..].into()));
    assert_eq!(*data[10], RData::Raw(vec![1, 2, 3].into()));
    let edns = msg.edns().unwrap();
    assert_eq!(
        (edns.udp_size, edns.version, edns.dnssec_ok),
        (1232, 0, true)
    );
    let ecs = edns.client_subnet.as_ref().unwrap();
    assert_eq!(
        (ecs.family, ecs.source_prefix, ecs.scope_prefix),
        (1, 24, 0)
    );
    assert_eq!(
        ecs.address,
        "192.0.2.0".parse::<std::net::IpAddr>().unwrap()
    );
}

/// `n` labels of 63 `x`s, in wire form without the terminating zero.
fn long_labels(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|_| [63u8].into_iter().chain([b'x'; 63]))
        .collect()
}

#[test]
fn long_names_are_cut_and_flagged_not_rejected() {
    // 300 bytes: over RFC 1035's 255, kept whole (as Suricata keeps it).
    let mut name = long_labels(5);
    name.push(0);
    let out = DnsUdpParser::default().parse(&query(1, &name, rrtype::A), FlowSide::Initiator);
    let q = &dns(&out)[0].questions[0];
    assert_eq!((q.name.len(), q.name.truncated), (5 * 64 - 1, false));
    // 1279 bytes: cut to 1025 and flagged; the type after it still reads.
    let mut name = long_labels(20);
    name.push(0);
    let mut p = DnsUdpParser::default();
    p.parse(&query(9, WWW, rrtype::A), FlowSide::Initiator);
    let out = p.parse(&query(2, &name, rrtype::TXT), FlowSide::Initiator);
    let q = &dns(&out)[0].questions[0];
    assert_eq!((q.name.len(), q.name.truncated), (MAX_NAME_LEN, true));
    assert_eq!(q.rrtype, rrtype::TXT);
    // Suricata's event, on the second message of the flow.
    let e = p.next_event().unwrap();
    assert_eq!((e.proto, e.event, e.tx_id), ("dns", NAME_TOO_LONG, Some(1)));
    assert_eq!(p.next_event(), None);
    assert!(q.name.iter().all(|&c| c == b'x' || c == b'.'));
    // A record owned by a pointer to that name: the same cut name, and the
    // record after the pointer reads.
    let mut m = header(3, 0x8180, [1, 1, 0, 0]);
    m.extend_from_slice(&name);
    m.extend_from_slice(&rrtype::TXT.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    rr(&mut m, rrtype::TXT, 60, b"\x02hi");
    let msg = parse_message(&m, false).unwrap();
    let a = &msg.answers[0];
    assert_eq!(
        (a.name.len(), a.name.truncated, a.ttl),
        (MAX_NAME_LEN, true, 60)
    );
    assert_eq!(a.data, RData::Txt(vec![b"hi"[..].into()]));
}

#[test]
fn hostile_names_are_errors_not_hangs() {
    let mut out = Vec::new();
    // A pointer to itself, and a forward pointer.
    assert_eq!(
        read_name(b"\x00\x00\xc0\x02", 2, &mut out),
        Err(DnsError::BadName)
    );
    assert_eq!(
        read_name(b"\xc0\x02\x00", 0, &mut out),
        Err(DnsError::BadName)
    );
    // Two pointers pointing at each other through a label.
    assert!(read_name(b"\x01a\xc0\x00", 0, &mut Vec::new()).is_err());
    // Over 255 labels without a pointer: where the name ends is unknown.
    let labels: Vec<u8> = [1u8, b'x'].repeat(256).into_iter().chain([0]).collect();
    assert_eq!(
        read_name(&labels, 0, &mut Vec::new()),
        Err(DnsError::BadName)
    );
    // Reserved label type, truncated label.
    assert_eq!(
        read_name(b"\x40", 0, &mut Vec::new()),
        Err(DnsError::BadLabel)
    );
    assert_eq!(
        read_name(b"\x05ab", 0, &mut Vec::new()),
        Err(DnsError::Truncated)
    );
    // A message announcing 65535 answers that are not there keeps its
    // question.
    let mut m = query(1, WWW, 1);
    m[2] = 0x81;
    m[6] = 0xff;
    m[7] = 0xff;
    let msg = parse_message(&m, false).unwrap();
    assert_eq!(msg.questions.len(), 1);
    assert!(msg.answers.is_empty());
    assert_eq!(msg.records_skipped, 1);
}

#[test]
fn tcp_framing_several_per_segment_and_split() {
    let q1 = query(1, WWW, rrtype::A);
    let q2 = query(2, WWW, rrtype::AAAA);
    let mut stream = Vec::new();
    for q in [&q1, &q2] {
        stream.extend_from_slice(&(q.len() as u16).to_be_bytes());
        stream.extend_from_slice(q);
    }
    // Both in one segment.
    let mut p = DnsTcpParser::default();
    let out = p.feed_initiator(&stream);
    let ids: Vec<u16> = dns(&out).iter().map(|m| m.id).collect();
    assert_eq!(ids, [1, 2]);
    assert!(dns(&out).iter().all(|m| m.tcp));
    // Split inside the length prefix and inside the message.
    let mut p = DnsTcpParser::default();
    let mut ids = Vec::new();
    for piece in [&stream[..1], &stream[1..10], &stream[10..40], &stream[40..]] {
        ids.extend(dns(&p.feed_initiator(piece)).iter().map(|m| m.id));
    }
    assert_eq!(ids, [1, 2]);
}

#[test]
fn tcp_gap_resynchronises_at_the_next_segment() {
    let q = query(9, WWW, rrtype::A);
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    let mut p = DnsTcpParser::default();
    assert!(p.feed_initiator(&framed[..10]).is_empty());
    p.gap_initiator(20);
    let out = p.feed_initiator(&framed);
    assert_eq!(dns(&out)[0].id, 9);
}

#[test]
fn unanswered_queries_reported_on_timeout_and_at_end() {
    let mut p = DnsUdpParser::new(DnsConfig {
        query_timeout_ms: 1200,
        ..DnsConfig::default()
    });
    p.packet_time(Timestamp::new(1, 0));
    p.parse(&query(1, WWW, 1), FlowSide::Initiator);
    p.packet_time(Timestamp::new(2, 0));
    p.parse(&query(2, WWW, 1), FlowSide::Initiator);
    // 1.5 s after the first: it is reported before the third query.
    p.packet_time(Timestamp::new(2, 500_000_000));
    let out = p.parse(&query(3, WWW, 1), FlowSide::Initiator);
    let out = dns(&out);
    assert_eq!(out[0].kind, DnsKind::Unanswered);
    assert_eq!((out[0].id, out[0].rtt_us), (1, Some(1_500_000)));
    assert_eq!((out[1].kind, out[1].id), (DnsKind::Query, 3));
    // A report keeps its query's transaction number.
    assert_eq!((out[0].tx_id, out[1].tx_id), (0, 2));
    let end = p.flow_end();
    let ids: Vec<(DnsKind, u16, u64)> = dns(&end).iter().map(|m| (m.kind, m.id, m.tx_id)).collect();
    assert_eq!(
        ids,
        [(DnsKind::Unanswered, 2, 1), (DnsKind::Unanswered, 3, 2)]
    );
}

#[test]
fn pending_queries_are_bounded() {
    let mut p = DnsUdpParser::new(DnsConfig {
        max_pending: 2,
        ..DnsConfig::default()
    });
    let mut unanswered = 0;
    for id in 0..10 {
        unanswered += dns(&p.parse(&query(id, WWW, 1), FlowSide::Initiator))
            .iter()
            .filter(|m| m.kind == DnsKind::Unanswered)
            .count();
    }
    assert_eq!(unanswered, 8);
    assert_eq!(p.flow_end().len(), 2);
}

#[test]
fn malformed_datagrams_are_counted_and_skipped() {
    let mut p = DnsUdpParser::default();
    assert!(p.parse(b"\x00\x01", FlowSide::Initiator).is_empty());
    assert_eq!(p.malformed(), 1);
    assert!(looks_like_dns(&query(1, WWW, 1)));
    assert!(!looks_like_dns(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
}

proptest! {
    #[test]
    fn no_panic_on_arbitrary_messages(b in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_message(&b, false);
        let mut p = DnsTcpParser::default();
        p.feed_initiator(&b);
        p.feed_responder(&b);
        p.flow_end();
    }

    /// Any segmentation of a TCP DNS stream gives the same messages.
    #[test]
    fn tcp_split_invariance(cuts in proptest::collection::vec(0usize..400, 0..8)) {
        let mut stream = Vec::new();
        for (i, t) in [rrtype::A, rrtype::AAAA, rrtype::MX].iter().enumerate() {
            let m = response(i as u16, *t, &[(rrtype::A, &[1, 2, 3, 4])]);
            stream.extend_from_slice(&(m.len() as u16).to_be_bytes());
            stream.extend_from_slice(&m);
        }
        let whole = DnsTcpParser::default().feed_responder(&stream);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (stream.len() + 1)).collect();
        cuts.sort_unstable();
        let mut p = DnsTcpParser::default();
        let mut got = Vec::new();
        let mut at = 0;
        for c in cuts.into_iter().chain([stream.len()]) {
            got.extend(p.feed_responder(&stream[at..c]));
            at = c;
        }
        prop_assert_eq!(got, whole);
    }
}
