use super::event::*;
use crate::parsers::L7Message;
use crate::parsers::http::HttpParser;
use crate::session::SessionParser;

/// Feeds a request stream then a response stream, ends the flow, and
/// returns the events raised with their transaction ids.
fn events_of(req: &[u8], resp: &[u8]) -> Vec<(&'static str, Option<u64>)> {
    let mut p = HttpParser::default();
    p.feed_initiator(req);
    p.feed_responder(resp);
    p.flow_end();
    std::iter::from_fn(|| p.next_event())
        .map(|e| {
            assert_eq!(e.proto, "http");
            (e.event, e.tx_id)
        })
        .collect()
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

#[test]
fn a_clean_exchange_raises_nothing() {
    let req = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nAuthorization: Basic eDp5\r\n\r\nhiGET /c HTTP/1.0\r\n\r\n";
    let resp = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a\r\nSet-Cookie: b\r\n\r\n2\r\nok\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.0 200 OK\r\n\r\nbody";
    assert_eq!(events_of(req, resp), []);
}

/// Each event from a request or response that has only that anomaly (its
/// transaction id is the request's).
#[test]
fn each_event_from_its_anomaly() {
    let cases: &[(&[u8], &[u8], &str)] = &[
        (b" GET / HTTP/1.1\r\nHost: h\r\n\r\n", OK, REQUEST_LINE_LEADING_WHITESPACE),
        (b"GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", OK, METHOD_DELIM_NON_COMPLIANT),
        (b"GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", OK, URI_DELIM_NON_COMPLIANT),
        (b"GET /\r\nUser-Agent: x\r\n\r\n", OK, REQUEST_LINE_MISSING_PROTOCOL),
        (b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx", OK, DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", OK, INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", OK, INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n", OK, INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST),
        (b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", OK, MISSING_HOST_HEADER),
        (b"GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n", OK, HOST_HEADER_AMBIGUOUS),
        (b"GET http://a.example:81/ HTTP/1.1\r\nHost: A.example:82\r\n\r\n", OK, HOST_HEADER_AMBIGUOUS),
        (b"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: NTLM abc\r\n\r\n", OK, REQUEST_AUTH_UNRECOGNIZED),
        (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", CONTINUE_ALREADY_SEEN),
        (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx", DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE),
        (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: none\r\n\r\n", INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE),
        (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", RESPONSE_ABNORMAL_TRANSFER_ENCODING),
        (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", RESPONSE_CHUNKED_OLD_PROTO),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", OK, INVALID_REQUEST_CHUNK_LEN),
        (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", INVALID_RESPONSE_CHUNK_LEN),
    ];
    for &(req, resp, want) in cases {
        let got = events_of(req, resp);
        assert_eq!(
            got,
            [(want, Some(0))],
            "{:?} / {:?}",
            String::from_utf8_lossy(req),
            String::from_utf8_lossy(resp)
        );
    }
}

#[test]
fn http09_requests_are_not_missing_their_protocol() {
    // Nothing but a little whitespace after the line: HTTP/0.9.
    assert_eq!(events_of(b"GET /\r\n\r\n", b""), []);
    // Header lines, or more whitespace than HTTP/0.9 allows: not HTTP/0.9.
    let spaces = b"GET /\n \n \n \n \n \n \n \n \n \n\n";
    assert_eq!(
        events_of(spaces, b""),
        [(REQUEST_LINE_MISSING_PROTOCOL, Some(0))]
    );
}

#[test]
fn responses_without_requests() {
    // A response first (a capture that starts with it), then the request.
    assert_eq!(
        events_of(b"", OK),
        [(UNABLE_TO_MATCH_RESPONSE_TO_REQUEST, Some(0))]
    );
    // A response while the request's head is still arriving matches it.
    let mut p = HttpParser::default();
    p.feed_initiator(b"GET / HTTP/1.1\r\nHo");
    p.feed_responder(OK);
    assert_eq!(p.next_event(), None);
    // The second of two responses to one request.
    let got = events_of(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &[OK, OK].concat());
    assert_eq!(got, [(UNABLE_TO_MATCH_RESPONSE_TO_REQUEST, Some(1))]);
}

#[test]
fn header_repetition_is_reported_past_64_repetitions() {
    let head = |n: usize| {
        let mut r = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
        for _ in 0..n {
            r.extend_from_slice(b"X-A: 1\r\n");
        }
        r.extend_from_slice(b"\r\n");
        r
    };
    // 66 of one name: its second is a repetition, the 64 after it are
    // counted.
    assert_eq!(events_of(&head(66), OK), []);
    assert_eq!(
        events_of(&head(68), OK),
        [(REQUEST_HEADER_REPETITION, Some(0)); 2]
    );
}

#[test]
fn events_belong_to_their_transaction() {
    let got = events_of(
        b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
        &[
            OK,
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ]
        .concat(),
    );
    assert_eq!(
        got,
        [
            (MISSING_HOST_HEADER, Some(1)),
            (RESPONSE_CHUNKED_OLD_PROTO, Some(1))
        ]
    );
}

#[test]
fn every_name_is_listed_once() {
    let mut names = ALL.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), ALL.len());
    assert!(ALL.iter().all(|n| {
        n.bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
    }));
}

/// HTTP messages are transactions; the TLS handshakes of a CONNECT tunnel
/// are not.
#[test]
fn transactions_are_http_messages() {
    let tx = crate::parsers::http::HttpTransaction::default();
    assert!(HttpParser::is_transaction(&L7Message::Http(Box::new(tx))));
    let tls = crate::parsers::tls::TlsHandshake::default();
    assert!(!HttpParser::is_transaction(&L7Message::Tls(Box::new(tls))));
}
