//! PostgreSQL parser tests: the probe, transactions as Suricata groups
//! them, caps and malformed input, over byte literals.

use super::*;
use crate::FlowSide;

/// A typed message: tag, length, body.
fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A StartupMessage with these parameters.
fn startup(params: &[(&str, &str)]) -> Vec<u8> {
    let mut body = PROTOCOL_3.to_be_bytes().to_vec();
    for (n, v) in params {
        body.extend_from_slice(n.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut v = (body.len() as u32 + 4).to_be_bytes().to_vec();
    v.extend_from_slice(&body);
    v
}

const SSL: &[u8] = b"\x00\x00\x00\x08\x04\xd2\x16\x2f";

#[allow(unreachable_patterns)]
fn txs(out: Vec<L7Message>) -> Vec<PgsqlTransaction> {
    out.into_iter()
        .filter_map(|m| match m {
            L7Message::Pgsql(t) => Some(*t),
            _ => None,
        })
        .collect()
}

fn auth_ok_and_ready() -> Vec<u8> {
    let mut v = msg(b'R', &0u32.to_be_bytes());
    v.extend(msg(b'S', b"TimeZone\0UTC\0"));
    v.extend(msg(b'S', b"server_version\x0015.1\0"));
    v.extend(msg(b'K', b"\x00\x00\x00\x07\x00\x00\x00\x09"));
    v.extend(msg(b'Z', b"I"));
    v
}

#[test]
fn probe_reads_the_startup_packets() {
    let init = FlowSide::Initiator;
    assert_eq!(probe(SSL, init), Probe::Certain);
    assert_eq!(probe(&startup(&[("user", "a")]), init), Probe::Certain);
    assert_eq!(probe(&SSL[..3], init), Probe::NeedMore);
    assert_eq!(probe(b"GET / HTTP/1.1\r\n", init), Probe::No);
    assert_eq!(probe(SSL, FlowSide::Responder), Probe::No);
    let gss = b"\x00\x00\x00\x08\x04\xd2\x16\x30";
    assert_eq!(probe(gss, init), Probe::Certain);
}

#[test]
fn an_md5_login_and_a_query_make_suricatas_transactions() {
    let mut p = PgsqlParser::new(PgsqlConfig::default());
    let mut out = p.feed_initiator(SSL);
    out.extend(p.feed_responder(b"N"));
    out.extend(p.feed_initiator(&startup(&[
        ("user", "alice"),
        ("database", "shop"),
        ("DateStyle", "ISO"),
    ])));
    out.extend(p.feed_responder(&msg(b'R', b"\x00\x00\x00\x05\x89A\xa3\xaa")));
    out.extend(p.feed_initiator(&msg(b'p', b"md5secret\0")));
    out.extend(p.feed_responder(&auth_ok_and_ready()));
    out.extend(p.feed_initiator(&msg(b'Q', b"SELECT 1\0")));
    let mut desc = b"\x00\x01n\0".to_vec();
    desc.extend_from_slice(&[0; 18]);
    let mut rows = msg(b'T', &desc);
    let mut d = b"\x00\x02\x00\x00\x00\x03abc\xff\xff\xff\xff".to_vec();
    rows.extend(msg(b'D', &d));
    d[6] = b'x';
    rows.extend(msg(b'D', &d));
    rows.extend(msg(b'C', b"SELECT 2\0"));
    rows.extend(msg(b'Z', b"I"));
    out.extend(p.feed_responder(&rows));
    out.extend(p.feed_initiator(&msg(b'X', b"")));
    out.extend(p.flow_end());
    let t = txs(out);
    let ids: Vec<u64> = t.iter().map(|t| t.tx_id).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert_eq!(t[0].request, Some(PgsqlRequest::SslRequest));
    assert_eq!(t[0].responses, [PgsqlResponse::EncryptionRejected]);
    match &t[1].request {
        Some(PgsqlRequest::Startup { user, params, .. }) => {
            assert_eq!(&**user, b"alice");
            assert_eq!(params.len(), 2);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        t[1].responses,
        [PgsqlResponse::AuthMd5(b"\x89A\xa3\xaa"[..].into())]
    );
    // The password is not kept by default.
    assert_eq!(t[2].request, Some(PgsqlRequest::Password(Box::default())));
    assert_eq!(t[2].responses.len(), 5);
    assert!(
        t[3].responses
            .contains(&PgsqlResponse::DataRows { rows: 2, size: 6 })
    );
    assert_eq!(t[4].request, Some(PgsqlRequest::Terminate));
}

#[test]
fn a_notice_before_the_answer_opens_a_transaction_of_its_own() {
    let mut p = PgsqlParser::new(PgsqlConfig::default());
    let mut out = p.feed_initiator(&msg(b'Q', b"DO x\0"));
    let mut r = msg(b'N', b"SNOTICE\0VNOTICE\0Mhi\0\0");
    r.extend(msg(b'C', b"DO\0"));
    r.extend(msg(b'Z', b"I"));
    out.extend(p.feed_responder(&r));
    let done = txs(out);
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].tx_id, 2);
    assert_eq!(done[0].request, None);
    let rest = txs(p.flow_end());
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].tx_id, 1);
    assert!(rest[0].responses.is_empty());
}

#[test]
fn an_error_keeps_its_fields_in_order() {
    let mut p = PgsqlParser::new(PgsqlConfig::default());
    let mut out = p.feed_initiator(&msg(b'Q', b"SELECT x\0"));
    let mut r = msg(b'E', b"SERROR\0VERROR\0C42P01\0Mno\0\0");
    r.extend(msg(b'Z', b"I"));
    // In two pieces.
    out.extend(p.feed_responder(&r[..7]));
    out.extend(p.feed_responder(&r[7..]));
    let t = txs(out);
    assert_eq!(t.len(), 1);
    match &t[0].responses[0] {
        PgsqlResponse::Error(f) => {
            let types: Vec<u8> = f.iter().map(|(t, _)| *t).collect();
            assert_eq!(types, b"SVCM");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn scram_messages_read_by_state() {
    let mut p = PgsqlParser::new(PgsqlConfig::default());
    let mut out = p.feed_initiator(&startup(&[("user", "bob")]));
    out.extend(p.feed_responder(&msg(b'R', b"\x00\x00\x00\x0aSCRAM-SHA-256\0\0")));
    let mut first = b"SCRAM-SHA-256\0".to_vec();
    first.extend_from_slice(&6u32.to_be_bytes());
    first.extend_from_slice(b"n,,n=a");
    out.extend(p.feed_initiator(&msg(b'p', &first)));
    out.extend(p.feed_responder(&msg(b'R', b"\x00\x00\x00\x0br=1")));
    out.extend(p.feed_initiator(&msg(b'p', b"c=biws")));
    let mut fin = msg(b'R', b"\x00\x00\x00\x0cv=abc");
    fin.extend(auth_ok_and_ready());
    out.extend(p.feed_responder(&fin));
    let t = txs(out);
    assert_eq!(t.len(), 3);
    assert_eq!(
        t[1].request,
        Some(PgsqlRequest::SaslInitial {
            plus: false,
            param: b"n,,n=a"[..].into()
        })
    );
    assert_eq!(
        t[2].request,
        Some(PgsqlRequest::SaslResponse(b"c=biws"[..].into()))
    );
    assert_eq!(
        t[2].responses[0],
        PgsqlResponse::AuthSaslFinal(b"v=abc"[..].into())
    );
    assert_eq!(t[2].responses[1], PgsqlResponse::AuthOk);
}

#[cfg(feature = "tls")]
#[test]
fn an_accepted_ssl_request_hands_over_to_tls() {
    let mut p = PgsqlParser::new(PgsqlConfig::default()).with_tls(Default::default());
    let mut out = p.feed_initiator(SSL);
    out.extend(p.feed_responder(b"S"));
    let t = txs(out);
    assert_eq!(t[0].responses, [PgsqlResponse::EncryptionAccepted]);
    assert_eq!(p.app_proto(), Some("tls".into()));
    // TLS bytes are not read as PostgreSQL any more.
    assert!(txs(p.feed_initiator(b"\x16\x03\x01\x00\x05hello")).is_empty());
}

#[test]
fn caps_and_malformed_input_are_events() {
    let cfg = PgsqlConfig {
        max_msg_length: 1024,
        max_parameters: 1,
        ..PgsqlConfig::default()
    };
    let mut p = PgsqlParser::new(cfg);
    let out = p.feed_initiator(&startup(&[("user", "u"), ("a", "1"), ("b", "2")]));
    assert!(out.is_empty());
    let mut big = b"SELECT '".to_vec();
    big.resize(4000, b'x');
    big.extend_from_slice(b"'\0");
    let q = msg(b'Q', &big);
    p.feed_initiator(&q[..100]);
    p.feed_initiator(&q[100..]);
    p.feed_initiator(&msg(b'Q', b"SELECT 2\0"));
    let names: Vec<&str> = std::iter::from_fn(|| p.next_event())
        .map(|e| e.event)
        .collect();
    assert_eq!(names, ["too_many_parameters", "message_too_long"]);
    // A terminate with a body is malformed: reading stops.
    p.feed_initiator(&msg(b'X', b"zz"));
    assert_eq!(p.next_event().map(|e| e.event), Some("malformed_message"));
    let t = txs(p.flow_end());
    assert_eq!(t.len(), 2);
    match &t[0].request {
        Some(PgsqlRequest::Startup { params, .. }) => assert_eq!(params.len(), 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn garbage_never_panics() {
    let mut p = PgsqlParser::new(PgsqlConfig::default());
    for n in 0..64u8 {
        let junk: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37) ^ n).collect();
        p.feed_initiator(&junk);
        p.feed_responder(&junk);
    }
    p.flow_end();
    let mut q = PgsqlParser::new(PgsqlConfig::default());
    q.feed_initiator(&startup(&[("user", "u")]));
    for tag in b"ERSKCZTDAN" {
        q.feed_responder(&msg(*tag, b"\xff\xff\xff\xff\x00"));
    }
    q.flow_end();
}
