//! Byte-literal tests of the SNMP parser: messages of nDPI's snmp.pcap
//! (decoded with tshark), the probe's answers, the flow's version, what
//! Suricata 7 was seen to write for odd messages (error and trap names,
//! OID text), the caps, arbitrary bytes.

use super::*;
use crate::testutil::unhex;

/// v2c GetNextRequest, community `public`, 1.3.6.1.2.1.1.5.0.
const V2C_GET_NEXT: &str =
    "302902010104067075626c6963a11c02045067d65c020100020100300e300c06082b060102010105000500";
/// v3 discovery GetRequest: no user, no variables.
const V3_DISCOVERY: &str = "303e020103301102046c9af56e020300ffe30401040201030410300e0400020100020100040004000400301404000400a00e0204750558880201000201003000";
/// v3 Report (usmStatsUnknownEngineIDs).
const V3_REPORT: &str = "3067020103301002046c9af56e020205dc040100020103041d301b040c800000090300aabbcc00010002010c020202cd0400040004003031040c800000090300aabbcc0001000400a81f0204750558880201000201003011300f060a2b060106030f01010400410101";
/// v3 with the privacy flag, user `SHA1AES128`.
const V3_ENCRYPTED: &str = "30818502010330110204482e3bea020300ffe3040107020103043b3039040c800000090300aabbcc00010002010c02020604040a53484131414553313238040c545946e49cfd586b30c17318040839bcbcf46fa870ce04300251aab2f5cb475d178f6464b9aea8477665ce4450eb8d9341dc61597469285481c07133363299b7b81a01d486ea8c9c";
/// v1 Trap linkDown from 10.1.30.1, four variables.
const V1_TRAP: &str = "30818f02010004067075626c6963a4818106082b0601060301010540040a011e01020102020100430303a68c3064300f060a2b0601020102020101020201023019060a2b060102010202010202040b45746865726e6574302f31300f060a2b0601020102020103020201063025060c2b0601040109020201011402041561646d696e6973747261746976656c7920646f776e";

/// BER writing for the tests' own messages.
fn tlv(tag: u8, c: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    match c.len() {
        n @ 0..=127 => v.push(n as u8),
        n @ 128..=255 => v.extend([0x81, n as u8]),
        n => v.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    v.extend_from_slice(c);
    v
}

fn int(n: i64) -> Vec<u8> {
    let b = n.to_be_bytes();
    let mut i = 0;
    while i < 7 && ((b[i] == 0 && b[i + 1] & 0x80 == 0) || (b[i] == 0xff && b[i + 1] & 0x80 != 0)) {
        i += 1;
    }
    tlv(0x02, &b[i..])
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// sysDescr.0 = NULL.
fn varbind() -> Vec<u8> {
    tlv(
        0x30,
        &cat(&[tlv(0x06, &[0x2b, 6, 1, 2, 1, 1, 1, 0]), vec![5, 0]]),
    )
}

/// A v1/v2c message (`version` as sent: 0 or 1) with a generic PDU.
fn v12(version: i64, community: &[u8], tag: u8, error: i64, vbs: &[Vec<u8>]) -> Vec<u8> {
    let pdu = tlv(
        tag,
        &cat(&[int(7), int(error), int(0), tlv(0x30, &vbs.concat())]),
    );
    tlv(0x30, &cat(&[int(version), tlv(0x04, community), pdu]))
}

/// The messages among `msgs` (with the `snmp` feature alone, every
/// message is one).
fn messages(msgs: Vec<L7Message>) -> Vec<SnmpMessage> {
    crate::testutil::messages_of!(msgs, Snmp)
}

fn one(p: &mut SnmpParser, b: &[u8]) -> SnmpMessage {
    let mut got = messages(p.parse(b, FlowSide::Initiator));
    assert_eq!(got.len(), 1, "{b:02x?}");
    got.remove(0)
}

fn vars(m: &SnmpMessage) -> Vec<&str> {
    m.pdu.as_ref().unwrap().vars.iter().collect()
}

fn events(p: &mut SnmpParser) -> Vec<&'static str> {
    std::iter::from_fn(|| p.next_event().map(|e| e.event)).collect()
}

#[test]
fn the_corpus_messages() {
    let mut p = SnmpParser::default();
    let m = one(&mut p, &unhex(V2C_GET_NEXT));
    assert_eq!((m.version, m.message_version), (2, 2));
    let pdu = m.pdu.as_ref().unwrap();
    assert_eq!((pdu.pdu_type, pdu.error_status), (GET_NEXT_REQUEST, 0));
    assert_eq!(vars(&m), ["1.3.6.1.2.1.1.5.0"]);
    assert_eq!(m.community.as_deref(), Some(&b"public"[..]));
    assert_eq!(m.usm, None);

    let mut p = SnmpParser::default();
    let m = one(&mut p, &unhex(V3_DISCOVERY));
    assert_eq!(m.version, 3);
    assert_eq!(m.pdu.as_ref().unwrap().pdu_type, GET_REQUEST);
    assert!(m.pdu.as_ref().unwrap().vars.is_empty());
    assert_eq!((m.community, m.usm.as_deref()), (None, Some(&b""[..])));
    let m = one(&mut p, &unhex(V3_REPORT));
    assert_eq!(m.pdu.as_ref().unwrap().pdu_type, REPORT);
    assert_eq!(vars(&m), ["1.3.6.1.6.3.15.1.1.4.0"]);
    let m = one(&mut p, &unhex(V3_ENCRYPTED));
    assert_eq!(m.pdu, None);
    assert_eq!(m.usm.as_deref(), Some(&b"SHA1AES128"[..]));

    let mut p = SnmpParser::default();
    let m = one(&mut p, &unhex(V1_TRAP));
    assert_eq!(m.version, 1);
    let pdu = m.pdu.as_ref().unwrap();
    let trap = pdu.trap.as_ref().unwrap();
    assert_eq!(
        (trap.generic, trap.specific, &*trap.enterprise, trap.agent),
        (2, 0, "1.3.6.1.6.3.1.1.5", [10, 1, 30, 1])
    );
    assert_eq!(trap_type_name(trap.generic), Some("linkDown"));
    assert_eq!(pdu.vars.len(), 4);
    assert_eq!(events(&mut p), Vec::<&str>::new());
    for hex in [V2C_GET_NEXT, V3_DISCOVERY, V3_REPORT, V3_ENCRYPTED, V1_TRAP] {
        assert_eq!(probe(&unhex(hex), FlowSide::Initiator), Probe::Certain);
    }
}

#[test]
fn the_probe_wants_an_envelope() {
    let ok = unhex(V2C_GET_NEXT);
    // Responses and traps come from either side; bytes after the
    // message do not matter.
    assert_eq!(probe(&ok, FlowSide::Responder), Probe::Certain);
    assert_eq!(
        probe(&cat(&[ok.clone(), vec![0]]), FlowSide::Initiator),
        Probe::Certain
    );
    // The right version and number of elements, other types: the next
    // datagram or the port decides (Suricata's probe takes these).
    let no_community = tlv(0x30, &cat(&[int(1), int(5), tlv(0xa0, &[])]));
    let not_a_pdu = v12(1, b"public", 0xa9, 0, &[]);
    for b in [&no_community, &not_a_pdu] {
        assert_eq!(probe(b, FlowSide::Initiator), Probe::NeedMore, "{b:02x?}");
    }
    let version2 = v12(2, b"public", 0xa0, 0, &[varbind()]);
    let four = tlv(
        0x30,
        &cat(&[int(1), tlv(0x04, b"x"), tlv(0xa0, &[]), vec![5, 0]]),
    );
    let v3_short = tlv(0x30, &cat(&[int(3), tlv(0x30, &[]), tlv(0x04, &[])]));
    for b in [
        &ok[..ok.len() - 1],
        &version2,
        &four,
        &v3_short,
        b"",
        b"\x30\x03\x02\x01",
        b"GET / HTTP/1.1\r\n",
    ] {
        assert_eq!(probe(b, FlowSide::Initiator), Probe::No, "{b:02x?}");
    }
}

/// The flow's first version is every record's, as Suricata writes it; a
/// message of another version is reported.
#[test]
fn the_version_is_the_flows() {
    let mut p = SnmpParser::default();
    assert_eq!(
        one(&mut p, &v12(1, b"public", 0xa0, 0, &[varbind()])).version,
        2
    );
    let m = one(&mut p, &v12(0, b"public", 0xa0, 0, &[varbind()]));
    assert_eq!((m.version, m.message_version), (2, 1));
    let m = one(&mut p, &unhex(V3_REPORT));
    assert_eq!((m.version, m.message_version), (2, 3));
    assert_eq!(events(&mut p), ["version_mismatch", "version_mismatch"]);
    // A first envelope that fails later still sets it (v1 has no Report).
    let mut p = SnmpParser::default();
    assert!(
        p.parse(&v12(0, b"c", 0xa8, 0, &[]), FlowSide::Initiator)
            .is_empty()
    );
    assert_eq!(one(&mut p, &v12(1, b"c", 0xa0, 0, &[])).version, 1);
}

#[test]
fn pdu_types_by_version() {
    let mut p = SnmpParser::default();
    for (version, tag, ok) in [
        (0, 0xa4, false), // a v1 trap needs its own fields
        (0, 0xa5, false), // no GetBulk in v1
        (0, 0xa7, false),
        (0, 0xa8, false),
        (1, 0xa3, true),
        (1, 0xa6, true),
        (1, 0xa7, true),
        (1, 0xa8, true),
        (1, 0xa9, false),
    ] {
        let got = p.parse(
            &v12(version, b"c", tag, 0, &[varbind()]),
            FlowSide::Initiator,
        );
        assert_eq!(got.len(), usize::from(ok), "{version} {tag:x}");
    }
    let bulk = tlv(
        0xa5,
        &cat(&[int(1), int(0), int(10), tlv(0x30, &varbind())]),
    );
    let m = one(&mut p, &tlv(0x30, &cat(&[int(1), tlv(0x04, b"c"), bulk])));
    let pdu = m.pdu.unwrap();
    assert_eq!((pdu.pdu_type, pdu.error_status), (GET_BULK_REQUEST, 0));
    assert_eq!(pdu_type_name(pdu.pdu_type), "get_bulk_request");
}

#[test]
fn error_status_and_its_names() {
    let mut p = SnmpParser::default();
    for (e, name) in [
        (1, Some("TooBig")),
        (5, Some("GenErr")),
        (6, None),
        (18, None),
    ] {
        let m = one(&mut p, &v12(1, b"c", 0xa2, e, &[varbind()]));
        let status = m.pdu.unwrap().error_status;
        assert_eq!(status as i64, e);
        assert_eq!(error_status_name(status), name);
    }
    // A negative or too large status is no message (nor for Suricata).
    for e in [-1, 1 << 32] {
        assert!(
            p.parse(&v12(1, b"c", 0xa2, e, &[]), FlowSide::Responder)
                .is_empty()
        );
    }
    assert_eq!(p.malformed(), 2);
    // Request ids are Integer32: a negative one is fine.
    let pdu = tlv(0xa0, &cat(&[int(-5), int(0), int(0), tlv(0x30, &[])]));
    one(&mut p, &tlv(0x30, &cat(&[int(1), tlv(0x04, b"c"), pdu])));
}

#[test]
fn v3_security_models() {
    let header = |flags: u8, model: i64| {
        tlv(
            0x30,
            &cat(&[int(1), int(65507), tlv(0x04, &[flags]), int(model)]),
        )
    };
    let usm = |user: &[u8]| {
        tlv(
            0x30,
            &cat(&[
                tlv(0x04, b"e"),
                int(1),
                int(2),
                tlv(0x04, user),
                tlv(0x04, b""),
                tlv(0x04, b""),
            ]),
        )
    };
    let scoped = tlv(
        0x30,
        &cat(&[
            tlv(0x04, b""),
            tlv(0x04, b""),
            tlv(0xa0, &cat(&[int(1), int(0), int(0), tlv(0x30, &varbind())])),
        ]),
    );
    let msg = |flags, model, params: &[u8], data: &[u8]| {
        tlv(
            0x30,
            &cat(&[
                int(3),
                header(flags, model),
                tlv(0x04, params),
                data.to_vec(),
            ]),
        )
    };
    let mut p = SnmpParser::default();
    let m = one(&mut p, &msg(4, 3, &usm(b"bob"), &scoped));
    assert_eq!(
        (m.usm.as_deref(), vars(&m)),
        (Some(&b"bob"[..]), vec!["1.3.6.1.2.1.1.1.0"])
    );
    // Another model: no user name, reported.
    let m = one(&mut p, &msg(4, 2, b"\x01\x02", &scoped));
    assert_eq!(m.usm, None);
    assert_eq!(events(&mut p), ["unknown_security_model"]);
    // Broken USM parameters, or a v1 trap in a scoped PDU: no message.
    assert!(
        p.parse(&msg(4, 3, b"\x30\x00", &scoped), FlowSide::Initiator)
            .is_empty()
    );
    let trap = tlv(
        0x30,
        &cat(&[tlv(0x04, b""), tlv(0x04, b""), tlv(0xa4, &[])]),
    );
    assert!(
        p.parse(&msg(4, 3, &usm(b"x"), &trap), FlowSide::Initiator)
            .is_empty()
    );
    // Encrypted: the PDU is an OCTET STRING.
    let m = one(&mut p, &msg(3, 3, &usm(b"carol"), &tlv(0x04, b"\x99\x98")));
    assert_eq!((m.pdu, m.usm.as_deref()), (None, Some(&b"carol"[..])));
}

#[test]
fn oid_text() {
    let text = |c: &[u8]| {
        let mut s = String::new();
        let found = ber::push_oid(&mut s, c);
        (s, found)
    };
    assert_eq!(text(&[0x2b, 6, 1]), ("1.3.6.1".into(), OidText::Whole));
    assert_eq!(text(&[]), (String::new(), OidText::Whole));
    // 2.100.3: the first sub-identifier is 180.
    assert_eq!(text(&[0x81, 0x34, 3]).0, "2.100.3");
    // Large arcs: 2^63 - 1 fits; a 10-byte sub-identifier is hex, as
    // Suricata writes it.
    let max = [0x2b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
    assert_eq!(text(&max).0, format!("1.3.{}", i64::MAX));
    let big = [
        0x2b, 6, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
    ];
    assert_eq!(
        text(&big),
        ("2b 06 81 ff ff ff ff ff ff ff ff 7f".into(), OidText::Hex)
    );
    // A sub-identifier the content ends inside is taken as it stands.
    assert_eq!(text(&[0x2b, 0x86]).0, "1.3.6");
    // Past MAX_OID_ARCS arcs the rest is left out.
    let long: Vec<u8> = std::iter::once(0x2b).chain([1; 200]).collect();
    let (s, found) = text(&long);
    assert_eq!((s.split('.').count(), found), (MAX_OID_ARCS, OidText::Cut));
}

#[test]
fn values_and_bindings() {
    let mut p = SnmpParser::default();
    let oid = tlv(0x06, &[0x2b, 6, 1]);
    for value in [
        vec![0x80, 0],                           // noSuchObject
        tlv(0x46, &[1, 2, 3, 4, 5, 6, 7, 8, 9]), // Counter64, 9 bytes
        tlv(0x30, &int(1)),                      // constructed
        tlv(0x44, &[1, 2]),                      // Opaque
    ] {
        let vb = tlv(0x30, &cat(&[oid.clone(), value]));
        let m = one(&mut p, &v12(1, b"c", 0xa2, 0, &[vb]));
        assert_eq!(vars(&m), ["1.3.6.1"]);
    }
    // Something other than a binding in the list, a binding without a
    // value, a value cut short: no message.
    for list in [
        cat(&[varbind(), vec![5, 0]]),
        tlv(0x30, &oid),
        tlv(0x30, &cat(&[oid.clone(), vec![0x04, 0x05, b'a']])),
    ] {
        let pdu = tlv(0xa0, &cat(&[int(1), int(0), int(0), tlv(0x30, &list)]));
        let b = tlv(0x30, &cat(&[int(1), tlv(0x04, b"c"), pdu]));
        assert!(p.parse(&b, FlowSide::Initiator).is_empty(), "{b:02x?}");
    }
    // A value nested past MAX_DEPTH is taken, and reported.
    let mut deep = vec![5, 0];
    for _ in 0..MAX_DEPTH + 2 {
        deep = tlv(0x30, &deep);
    }
    let vb = tlv(0x30, &cat(&[oid, deep]));
    let _ = events(&mut p);
    one(&mut p, &v12(1, b"c", 0xa2, 0, &[vb]));
    assert_eq!(events(&mut p), ["value_too_deep"]);
}

#[test]
fn caps_are_reported() {
    let cfg = SnmpConfig {
        max_vars: 2,
        ..SnmpConfig::default()
    };
    let mut p = SnmpParser::new(cfg);
    let m = one(
        &mut p,
        &v12(1, b"c", 0xa0, 0, &[varbind(), varbind(), varbind()]),
    );
    assert_eq!(vars(&m).len(), 2);
    assert_eq!(events(&mut p), ["too_many_vars"]);
    let long = vec![b'x'; MAX_STRING + 1];
    let m = one(&mut p, &v12(1, &long, 0xa0, 0, &[]));
    assert_eq!(m.community.unwrap().len(), MAX_STRING);
    assert_eq!(events(&mut p), ["long_community"]);
    // Long-form lengths that are not the shortest (some agents send them)
    // are read.
    let body = cat(&[
        int(1),
        tlv(0x04, b"c"),
        tlv(0xa0, &cat(&[int(1), int(0), int(0), vec![0x30, 0]])),
    ]);
    let mut b = vec![0x30, 0x82, 0, body.len() as u8];
    b.extend(body);
    one(&mut p, &b);
    // Malformed datagrams are counted and reported, a few at a time.
    for _ in 0..20 {
        assert!(p.parse(b"\x30\x01", FlowSide::Initiator).is_empty());
    }
    assert_eq!(p.malformed(), 20);
    // The queue holds its bound, then one anomaly says more were found.
    let ev = events(&mut p);
    assert_eq!(ev.len(), MAX_PENDING_EVENTS + 1);
    assert_eq!(ev.last().copied(), Some("too_many_anomalies"));
}

/// Arbitrary bytes never panic and every message stays within the caps;
/// so do corpus messages cut or changed at any byte.
#[test]
fn arbitrary_bytes_stay_within_the_caps() {
    use proptest::prelude::*;
    let check = |b: &[u8]| -> Result<(), TestCaseError> {
        let _ = probe(b, FlowSide::Initiator);
        let mut p = SnmpParser::new(SnmpConfig {
            max_vars: 3,
            ..SnmpConfig::default()
        });
        for m in messages(p.parse(b, FlowSide::Responder)) {
            prop_assert!(m.community.as_ref().is_none_or(|c| c.len() <= MAX_STRING));
            if let Some(pdu) = &m.pdu {
                prop_assert!(pdu.vars.len() <= 3);
                prop_assert!(pdu.pdu_type <= REPORT);
            }
        }
        let mut n = 0;
        while p.next_event().is_some() {
            n += 1;
        }
        prop_assert!(n <= MAX_PENDING_EVENTS);
        Ok(())
    };
    proptest!(|(b in proptest::collection::vec(any::<u8>(), 0..600))| {
        check(&b)?;
    });
    let trap = unhex(V1_TRAP);
    proptest!(|(at in 0..trap.len(), byte in any::<u8>(), cut in any::<bool>())| {
        let mut b = trap.clone();
        if cut {
            b.truncate(at);
        } else {
            b[at] = byte;
        }
        check(&b)?;
    });
}
