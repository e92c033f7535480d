//! Byte-literal tests of the Kerberos parser: the AS-REQ and KRB-ERROR of
//! nDPI's kerberos-error.pcap and a TGS-REP of kerberos-login.pcap
//! (decoded with tshark), messages built here with a small DER writer
//! (each type, error codes, weak and strong encryption types, long
//! names), the probes, TCP records split and joined, hostile input.

use super::*;
use crate::testutil::unhex;

/// The corpus's AS-REQ for `host/mus-n-cj0709@LINUX.SHELL.COM`, service
/// `krbtgt/LINUX.SHELL.COM`.
const AS_REQ_HEX: &str = "6a82011b30820117a103020105a20302010aa35830563048a103020102a241043f303da003020117a2360434b60e0b505f98104206f62503b8e0e7c82d842e6f01e5c7f0e1540d1ea4c7e89181e69691e0c41d775649bd7fa5ac4b1874a91915300aa10402020095a2020400a481b03081ada00703050000810000a11f301da003020101a11630141b04686f73741b0c6d75732d6e2d636a30373039a2111b0f4c494e55582e5348454c4c2e434f4da3243022a003020102a11b30191b066b72627467741b0f4c494e55582e5348454c4c2e434f4da511180f32303232303232333037343630335aa611180f32303232303330343037343630335aa706020447a1fa99a81a301802011702011202011102011402011302011002011902011a";
/// Its answer: KRB_ERR_RESPONSE_TOO_BIG, no client realm or name.
const ERROR_HEX: &str = "7e643062a003020105a10302011ea411180f32303232303232323037343630345aa50502030ec26da603020134a9111b0f4c494e55582e5348454c4c2e434f4daa243022a003020102a11b30191b066b72627467741b0f4c494e55582e5348454c4c2e434f4d";
/// A TGS-REP for `des@DENYDC.COM`, service `host/xp1.denydc.com`, reply
/// encrypted with des-cbc-md5, ticket with rc4-hmac.
const TGS_REP_HEX: &str = "\
6d8204a13082049da003020105a10302010da30c1b0a44454e5944432e434f4da410300ea003020101a10730051b0364\
6573a5820376618203723082036ea003020105a10c1b0a44454e5944432e434f4da221301fa003020103a11830161b04\
686f73741b0e7870312e64656e7964632e636f6da382033430820330a003020117a103020102a28203220482031ee63b\
b88dd1d8f8b5aafe7b76e59e4f42e5e090b679e8a94569435f319183184fa3772c2516b6310304bf326f2f5a3116011d\
b5e9bc04e4ffea4cd66fb4a06e802b34dada7eb2df3772f8bbe4f90686aab5319551a6af53b43df8f5c6b3b2e21a8d8a\
813acb13daadf9c6353348f4954f54b1dd0fb1d816acfbd195d5b4f15ef24e349d799cecec75d80dc94bdd4168954145\
afbe16543a34b338351a30604f86a1b8460ba5e4403884470448289e6cc351dd33715cb1755df44b0bfc432ed3942cbe\
2204df7c02200cca5d75591321c0cb209d0988da979f40c3cd0c47f58afa294b810392c940a5fd016279d5f5059dca09\
3b48ef747b8ce30a85088f8d71e258245120de33d161f718874e9ab3108fdd12ce451113d4d2b016f7c0efb81ef54dd6\
a045ff4a174b3b850f84fbe8cc0e8147444dda2c77942a7e08b6a162b66b1d0140e68b5a606bff30ea1c8f6bbe91c7a2\
a78ad32afbae9e2eb82e5b5d1685bbd6c68f24379fc81932ab84d7c00ce1dac114f6c644b9beb90a89878cc36c69451d\
62f96f12e00234193ab12275b8d472e6c9b0ec2db06386a9a4a18e08fe3872b16574434b4b0597bf91080a35a22e2e95\
386840a0501aa17834d120331be711ff3542ac573df499ad6ec76bdc5a242e24b6b41950ccd42281bc79192e8d0c8363\
84e755a71cd566b75128fbda7fb82c80ac6c2b331a1da6007f82a5525814d585c2e2a2b0ddef271ac044c7206871a41b\
4d5e6a279b0c0b1fbc93c51519c543bc13c467e24a1b25a5f7b03ee6842fdea181bd56935905858e9d76b9effaf99d72\
5bfdc6da802cfe6bd102b490e97310c42aaa7e546b83c07207e8ac976b9edfd12cffb5e9d9034da2566e741d60f3ab59\
184b65404d7480c48e4844e46bfaedaf96cc12736bcc811747bd63077e9fdcb948772b10317b00bc399aca4da2ef144f\
b1638f5fc4de440871beeb26f98c003b7807381aa81111d7529ec54b0b5e800fa01b52b532cb47ed76ebcc353cfb675e\
9a5930965f418e2ac3c740da6dce8666643b1574ebeffcfebba1f5e24763d1bf68d910164d7c0eb9404d2d5a8658e09d\
e0ffbec701113fca95736b050255e263ce24a95843663b6a83c9943aa681f63081f3a003020103a281eb0481e870e024\
fdb23293198556e63ca27554cf3dd36d0a548e9215906877470b9d1a193c79969dc4455e5fd6fc7155183806bb8d0e75\
3f488755ec0febd87b9fada5b15ee1a1a92c045752eaafb901ddfd5b4e8e44723290268d4ebd72a4c42fdb7385aca1e8\
536e74caa154bb5f130906298798d8fcbff4510343e6b062c5bf6238b00f93767f0bc27b6c92254d5f1aac3f2e65119a\
c614956d45afd1ff7e8d3979406110b4f14179f8e1e5af4d857f953bf09eeec8a1a18043fba5c20f7d49b33949a8fc88\
5cf12c24d0b864a1d2e6a0d5c527e6377f96bc57a388c9ff419b9cadb2573acc85e81fcfb4";

/// One DER element (definite length, short or long form).
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = content.len();
    if n < 0x80 {
        v.push(n as u8);
    } else if n < 0x100 {
        v.extend([0x81, n as u8]);
    } else {
        v.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    v.extend_from_slice(content);
    v
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// Explicit context tag `n` around `inner`.
fn ctx(n: u8, inner: Vec<u8>) -> Vec<u8> {
    der(0xa0 | n, &inner)
}

fn int(v: i64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut i = 0;
    while i < 7 && ((b[i] == 0 && b[i + 1] & 0x80 == 0) || (b[i] == 0xff && b[i + 1] & 0x80 != 0)) {
        i += 1;
    }
    der(0x02, &b[i..])
}

fn gs(s: &str) -> Vec<u8> {
    der(0x1b, s.as_bytes())
}

fn name(parts: &[&str]) -> Vec<u8> {
    let strings: Vec<Vec<u8>> = parts.iter().map(|p| gs(p)).collect();
    der(
        0x30,
        &cat(&[ctx(0, int(1)), ctx(1, der(0x30, &strings.concat()))]),
    )
}

fn enc(etype: i64) -> Vec<u8> {
    der(
        0x30,
        &cat(&[ctx(0, int(etype)), ctx(2, der(0x04, b"cipher"))]),
    )
}

/// An AS-REQ (`app` 0x6a) or TGS-REQ (0x6c).
fn kdc_req(app: u8, cname: Option<&[&str]>, sname: Option<&[&str]>) -> Vec<u8> {
    let mut b = vec![
        ctx(0, der(0x03, &[0, 0, 0, 0, 0])),
        ctx(2, gs("EXAMPLE.ORG")),
    ];
    if let Some(c) = cname {
        b.insert(1, ctx(1, name(c)));
    }
    if let Some(s) = sname {
        b.push(ctx(3, name(s)));
    }
    b.push(ctx(5, der(0x18, b"20370913024805Z")));
    b.push(ctx(7, int(12345)));
    b.push(ctx(8, der(0x30, &cat(&[int(18), int(23)]))));
    let body = cat(&[
        ctx(1, int(5)),
        ctx(2, int(i64::from(app & 0x1f))),
        ctx(4, der(0x30, &b.concat())),
    ]);
    der(app, &der(0x30, &body))
}

/// An AS-REP (0x6b) or TGS-REP (0x6d).
fn kdc_rep(app: u8, cname: &[&str], sname: &[&str], etype: i64, ticket_etype: i64) -> Vec<u8> {
    let ticket = der(
        0x61,
        &der(
            0x30,
            &cat(&[
                ctx(0, int(5)),
                ctx(1, gs("EXAMPLE.ORG")),
                ctx(2, name(sname)),
                ctx(3, enc(ticket_etype)),
            ]),
        ),
    );
    let body = cat(&[
        ctx(0, int(5)),
        ctx(1, int(i64::from(app & 0x1f))),
        ctx(3, gs("EXAMPLE.ORG")),
        ctx(4, name(cname)),
        ctx(5, ticket),
        ctx(6, enc(etype)),
    ]);
    der(app, &der(0x30, &body))
}

/// A KRB-ERROR with a client realm and name.
fn krb_error(code: i64) -> Vec<u8> {
    let body = cat(&[
        ctx(0, int(5)),
        ctx(1, int(30)),
        ctx(4, der(0x18, b"20370913024805Z")),
        ctx(5, int(7)),
        ctx(6, int(code)),
        ctx(7, gs("EXAMPLE.ORG")),
        ctx(8, name(&["alice"])),
        ctx(9, gs("EXAMPLE.ORG")),
        ctx(10, name(&["krbtgt", "EXAMPLE.ORG"])),
    ]);
    der(0x7e, &der(0x30, &body))
}

fn messages(msgs: Vec<L7Message>) -> Vec<Krb5Message> {
    crate::testutil::messages_of!(msgs, Krb5)
}

fn udp(datagrams: &[Vec<u8>]) -> (Vec<Krb5Message>, Vec<&'static str>) {
    let mut p = Krb5UdpParser::new(&Krb5Config::default());
    let mut out = Vec::new();
    let mut events = Vec::new();
    for d in datagrams {
        out.extend(messages(p.parse(d, FlowSide::Initiator)));
        while let Some(e) = p.next_event() {
            events.push(e.event);
        }
    }
    (out, events)
}

fn s(v: &str) -> Option<Name> {
    Some(v.into())
}

#[test]
fn corpus_request_and_error() {
    let (m, events) = udp(&[unhex(AS_REQ_HEX), unhex(ERROR_HEX)]);
    assert_eq!(
        m,
        [
            Krb5Message {
                msg_type: AS_REQ,
                failed_request: 0,
                error_code: None,
                cname: s("host/mus-n-cj0709"),
                realm: s("LINUX.SHELL.COM"),
                sname: s("krbtgt/LINUX.SHELL.COM"),
                etype: None,
                ticket_etype: None,
            },
            Krb5Message {
                msg_type: ERROR,
                failed_request: AS_REQ,
                error_code: Some(52),
                cname: None,
                realm: None,
                sname: s("krbtgt/LINUX.SHELL.COM"),
                etype: None,
                ticket_etype: None,
            },
        ]
    );
    assert!(events.is_empty());
    assert_eq!(error_code_name(52), Some("KRB_ERR_RESPONSE_TOO_BIG"));
}

#[test]
fn corpus_reply() {
    let (m, events) = udp(&[unhex(TGS_REP_HEX)]);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].msg_type, TGS_REP);
    assert_eq!(m[0].cname, s("des"));
    assert_eq!(m[0].realm, s("DENYDC.COM"));
    assert_eq!(m[0].sname, s("host/xp1.denydc.com"));
    assert_eq!(m[0].etype, Some(3));
    assert_eq!(m[0].ticket_etype, Some(23));
    assert_eq!(events, ["weak_encryption"]);
    assert_eq!(etype_name(3), Some("des-cbc-md5"));
    assert_eq!(etype_name(23), Some("rc4-hmac"));
}

#[test]
fn built_messages_of_each_type() {
    let (m, events) = udp(&[
        kdc_req(0x6c, None, Some(&["cifs", "fs.example.org"])),
        kdc_rep(0x6d, &["alice"], &["cifs", "fs.example.org"], 18, 17),
        kdc_req(0x6a, Some(&["alice"]), None),
        kdc_rep(0x6b, &["alice"], &["krbtgt", "EXAMPLE.ORG"], 23, 18),
        krb_error(25),
    ]);
    let types: Vec<u32> = m.iter().map(|m| m.msg_type).collect();
    assert_eq!(types, [TGS_REQ, TGS_REP, AS_REQ, AS_REP, ERROR]);
    assert_eq!(m[0].cname, None);
    assert_eq!(m[0].sname, s("cifs/fs.example.org"));
    assert_eq!(m[2].sname, None);
    assert_eq!((m[1].etype, m[1].ticket_etype), (Some(18), Some(17)));
    assert!(!weak_etype(18) && weak_etype(23));
    // The error follows a reply: no request is pending.
    assert_eq!(m[4].failed_request, 0);
    assert_eq!(m[4].error_code, Some(25));
    assert_eq!(m[4].cname, s("alice"));
    assert_eq!(m[4].realm, s("EXAMPLE.ORG"));
    // Only the rc4-hmac reply is weak.
    assert_eq!(events, ["weak_encryption"]);
}

#[test]
fn error_answers_the_last_request() {
    let (m, _) = udp(&[kdc_req(0x6c, None, Some(&["a"])), krb_error(7)]);
    assert_eq!(m[1].failed_request, TGS_REQ);
    // AP-REQ and AP-REP write no record but count as the last request.
    let ap_req = der(0x6e, &der(0x30, &cat(&[ctx(0, int(5)), ctx(1, int(14))])));
    let (m, _) = udp(&[ap_req, krb_error(41)]);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].failed_request, AP_REQ);
}

#[test]
fn names_table() {
    assert_eq!(msg_type_name(TGS_REP), Some("KRB_TGS_REP"));
    assert_eq!(msg_type_name(0), None);
    assert_eq!(error_code_name(0), Some("KDC_ERR_NONE"));
    assert_eq!(error_code_name(25), Some("KDC_ERR_PREAUTH_REQUIRED"));
    assert_eq!(error_code_name(30), None);
    assert_eq!(error_code_name(43), None);
    assert_eq!(error_code_name(60), Some("KRB_ERR_GENERIC"));
    assert_eq!(error_code_name(76), Some("KDC_ERR_KDC_NAME_MISMATCH"));
    assert_eq!(error_code_name(77), None);
    assert_eq!(error_code_name(-1), None);
    assert_eq!(etype_name(-133), Some("rc4-hmac-OLD"));
    assert_eq!(etype_name(4), None);
}

#[test]
fn long_names_are_cut() {
    let long = "x".repeat(MAX_STRING + 10);
    let parts: Vec<&str> = std::iter::repeat_n("p", MAX_NAME_PARTS + 3).collect();
    let (m, events) = udp(&[kdc_req(0x6a, Some(&[long.as_str()]), Some(&parts))]);
    assert_eq!(m[0].cname.as_deref().map(str::len), Some(MAX_STRING));
    assert_eq!(
        m[0].sname.as_deref().map(|n| n.split('/').count()),
        Some(MAX_NAME_PARTS)
    );
    assert_eq!(events, ["long_name"]);
}

#[test]
fn malformed_messages_are_skipped() {
    let mut bad_pvno = kdc_req(0x6a, Some(&["a"]), None);
    // pvno 5 → 4 (the INTEGER's content byte after a1 03 02 01).
    let at = bad_pvno
        .windows(4)
        .position(|w| w == [0xa1, 3, 2, 1])
        .unwrap();
    bad_pvno[at + 4] = 4;
    let mut cut = unhex(AS_REQ_HEX);
    cut.truncate(100);
    let (m, events) = udp(&[bad_pvno, cut, vec![0xff; 40], vec![0x30, 0x00]]);
    assert!(m.is_empty());
    // A SEQUENCE that is no APPLICATION message is left alone.
    assert_eq!(events, ["malformed_data"; 3]);
}

#[test]
fn probes() {
    let req = unhex(AS_REQ_HEX);
    assert_eq!(probe(&req, FlowSide::Initiator), Probe::Certain);
    assert_eq!(
        probe(&unhex(ERROR_HEX), FlowSide::Responder),
        Probe::Certain
    );
    assert_eq!(
        probe(&unhex(TGS_REP_HEX), FlowSide::Responder),
        Probe::Certain
    );
    assert_eq!(probe(&req[..6], FlowSide::Initiator), Probe::NeedMore);
    assert_eq!(probe(b"GET / HTTP/1.1\r\n", FlowSide::Initiator), Probe::No);
    // AP-REQ is Kerberos too (no record); a SEQUENCE or another
    // APPLICATION tag is not; pvno 4 is not Kerberos 5.
    let ap_req = der(0x6e, &der(0x30, &cat(&[ctx(0, int(5)), ctx(1, int(14))])));
    assert_eq!(probe(&ap_req, FlowSide::Initiator), Probe::Certain);
    let mut other = ap_req.clone();
    other[0] = 0x76;
    assert_eq!(probe(&other, FlowSide::Initiator), Probe::No);
    assert_eq!(probe(&ap_req[2..], FlowSide::Initiator), Probe::No);
    let mut v4 = req.clone();
    v4[12] = 4;
    assert_eq!(probe(&v4, FlowSide::Initiator), Probe::No);
    let mut framed = (req.len() as u32).to_be_bytes().to_vec();
    framed.extend_from_slice(&req);
    assert_eq!(probe_tcp(&framed, FlowSide::Initiator), Probe::Certain);
    assert_eq!(
        probe_tcp(&framed[..3], FlowSide::Initiator),
        Probe::NeedMore
    );
    assert_eq!(probe_tcp(&req, FlowSide::Initiator), Probe::No);
}

fn framed(m: &[u8]) -> Vec<u8> {
    let mut v = (m.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(m);
    v
}

#[test]
fn tcp_records_split_and_joined() {
    let req = framed(&unhex(AS_REQ_HEX));
    let err = framed(&unhex(ERROR_HEX));
    let mut p = Krb5TcpParser::new(&Krb5Config::default());
    let mut out = Vec::new();
    // Byte by byte, then two in one call.
    for b in req.chunks(1) {
        out.extend(messages(p.feed_initiator(b)));
    }
    out.extend(messages(p.feed_responder(&[err.clone(), err].concat())));
    let types: Vec<u32> = out.iter().map(|m| m.msg_type).collect();
    assert_eq!(types, [AS_REQ, ERROR, ERROR]);
    assert_eq!(out[1].failed_request, AS_REQ);
    assert_eq!(out[2].failed_request, 0);
    assert_eq!(p.malformed(), 0);
}

#[test]
fn tcp_caps_and_gaps() {
    let cfg = Krb5Config {
        max_record: 1024,
        ..Krb5Config::default()
    };
    let mut p = Krb5TcpParser::new(&cfg);
    let big = framed(&kdc_req(0x6a, Some(&[&"y".repeat(1100)]), None));
    let small = framed(&unhex(ERROR_HEX));
    let out = messages(p.feed_initiator(&[big, small.clone()].concat()));
    assert_eq!(out.len(), 1);
    assert_eq!(p.next_event().map(|e| e.event), Some("record_too_long"));
    // A gap loses that side's framing, not the other's.
    assert!(p.gap_initiator(10).is_empty());
    assert!(p.feed_initiator(&small).is_empty());
    assert_eq!(messages(p.feed_responder(&small)).len(), 1);
    // The reserved bit ends the side.
    let mut q = Krb5TcpParser::new(&cfg);
    assert!(q.feed_initiator(&[0x80, 0, 0, 5, 1, 2, 3, 4, 5]).is_empty());
    assert_eq!(q.malformed(), 1);
}

/// Every prefix and every single-byte change of the corpus's messages is
/// read without a panic, over both transports.
#[test]
fn hostile_input_never_panics() {
    for m in [unhex(AS_REQ_HEX), unhex(ERROR_HEX), unhex(TGS_REP_HEX)] {
        let mut u = Krb5UdpParser::default();
        let mut t = Krb5TcpParser::new(&Krb5Config::default());
        for n in 0..m.len() {
            u.parse(&m[..n], FlowSide::Initiator);
            let _ = probe(&m[..n], FlowSide::Initiator);
        }
        for i in (0..m.len()).step_by(3) {
            let mut c = m.clone();
            c[i] ^= 0xa5;
            u.parse(&c, FlowSide::Responder);
            t.feed_initiator(&framed(&c));
        }
    }
}

proptest::proptest! {
    /// Any segmentation of the same TCP streams (records of the corpus and
    /// built messages, then arbitrary bytes) yields the same messages, and
    /// arbitrary bytes keep the record buffers within `max_record`.
    #[test]
    fn split_invariance_and_bounds(
        cuts in proptest::collection::vec(1usize..300, 1..40),
        tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000),
    ) {
        let mut stream = [
            framed(&unhex(AS_REQ_HEX)),
            framed(&kdc_req(0x6c, None, Some(&["a", "b"]))),
            framed(&unhex(TGS_REP_HEX)),
        ]
        .concat();
        stream.extend_from_slice(&tail);
        let cfg = Krb5Config { max_record: 1024, ..Krb5Config::default() };
        let mut whole = Krb5TcpParser::new(&cfg);
        let want = messages(whole.feed_initiator(&stream));
        proptest::prop_assert!(want.len() >= 2);
        let mut p = Krb5TcpParser::new(&cfg);
        let mut got = Vec::new();
        let mut rest = &stream[..];
        for &c in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let n = c.min(rest.len());
            got.extend(messages(p.feed_initiator(&rest[..n])));
            proptest::prop_assert!(p.sides[0].buf.capacity() <= 2 * 1024 + 64);
            rest = &rest[n..];
        }
        proptest::prop_assert_eq!(got, want);
        proptest::prop_assert!(std::iter::from_fn(|| p.next_event()).count() <= MAX_PENDING_EVENTS);
    }
}
