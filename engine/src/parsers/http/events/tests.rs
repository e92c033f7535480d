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
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", OK, INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST),
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

/// Host headers and URI hosts libhtp reads as valid, and ones it does not.
#[test]
fn host_validity() {
    let host = |h: &[u8]| {
        let req = [&b"GET / HTTP/1.1\r\nHost: "[..], h, b"\r\n\r\n"].concat();
        events_of(&req, OK)
    };
    for ok in [
        &b"a_b.example"[..],
        b"-a.b",
        b"a.b.",
        b"[::1]",
        b"[::1]:80",
        b"a.b:8080 ",
        b"a : 80",
        b"a:080",
    ] {
        assert_eq!(host(ok), [], "{:?}", String::from_utf8_lossy(ok));
    }
    for bad in [
        &b"a b"[..],
        b"a..b",
        b".a",
        b"[::1",
        b"[zz]",
        b"[::1]x",
        b"a:xx",
        b"a:0",
        b"a:99999",
        b"a:",
        b"a:+80",
        b"a:80 x",
        b"a/b",
        b"a,b",
        b"",
        b"\xc3\xa9.com",
    ] {
        assert_eq!(
            host(bad),
            [(REQUEST_HEADER_HOST_INVALID, Some(0))],
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    let long = [&[b'x'; 64][..], b".com"].concat();
    assert_eq!(host(&long), [(REQUEST_HEADER_HOST_INVALID, Some(0))]);
    // Two Host headers are read joined (`a, b`): not a host.
    let two = events_of(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", OK);
    assert_eq!(two, [(REQUEST_HEADER_HOST_INVALID, Some(0))]);
    let uri = |u: &[u8]| {
        let req = [&b"GET "[..], u, b" HTTP/1.1\r\nHost: a:80\r\n\r\n"].concat();
        events_of(&req, OK)
    };
    assert_eq!(uri(b"http://A:80/"), []);
    assert_eq!(uri(b"http://user@a/x:y"), []);
    assert_eq!(uri(b"http:///x"), []);
    assert_eq!(uri(b"http://a:xx/"), [(REQUEST_URI_HOST_INVALID, Some(0))]);
    assert_eq!(
        uri(b"http://a..b/"),
        [
            (REQUEST_URI_HOST_INVALID, Some(0)),
            (HOST_HEADER_AMBIGUOUS, Some(0))
        ]
    );
}

/// A request's Transfer-Encoding is valid when one of its comma-separated
/// codings is `chunked`.
#[test]
fn request_transfer_encoding_tokens() {
    let te = |v: &[u8]| {
        let req = [
            &b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "[..],
            v,
            b"\r\n\r\n0\r\n\r\n",
        ]
        .concat();
        events_of(&req, OK)
    };
    for ok in [
        &b"chunked"[..],
        b"Chunked",
        b" chunked ",
        b"gzip, chunked",
        b"chunked , gzip",
    ] {
        assert_eq!(te(ok), [], "{:?}", String::from_utf8_lossy(ok));
    }
    for bad in [&b",.chunked,"[..], b"xchunked", b"chunked;q=1", b"identity"] {
        assert_eq!(
            te(bad),
            [(INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST, Some(0))],
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

/// A request line may start with whitespace and have a tab after its
/// method: the probe and the parser take it.
#[test]
fn odd_request_lines_are_still_http() {
    use crate::session::Probe;
    assert_eq!(super::super::probe(b" GET / HTTP/1.1\r\n"), Probe::Certain);
    assert_eq!(super::super::probe(b"GET\t/ HTTP/1.1\r\n"), Probe::Certain);
    assert_eq!(super::super::probe(b"  "), Probe::NeedMore);
    let mut p = HttpParser::default();
    p.feed_initiator(b"\tGET /x HTTP/1.1\r\nHost: h\r\n\r\n");
    let out = p.feed_responder(OK);
    assert!(matches!(&out[..], [L7Message::Http(t)] if t.uri.as_deref() == Some(&b"/x"[..])));
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
#[cfg(feature = "tls")]
fn transactions_are_http_messages() {
    let tx = crate::parsers::http::HttpTransaction::default();
    assert!(HttpParser::is_transaction(&L7Message::Http(Box::new(tx))));
    let tls = crate::parsers::tls::TlsHandshake::default();
    assert!(!HttpParser::is_transaction(&L7Message::Tls(Box::new(tls))));
}

/// libhtp's whitespace other than SP, anywhere in a target of any length
/// (the scan reads many bytes a step); SP and the bytes around 0x09–0x0d
/// are not.
#[test]
fn control_space_is_found_anywhere_and_only_it() {
    use super::has_control_space;
    assert!(!has_control_space(b""));
    assert!(!has_control_space(b"/a b/c?d=e"));
    assert!(!has_control_space(&[0x08, 0x0e, 0x20, 0x89, 0xff]));
    for c in [b'\t', b'\n', 0x0b, 0x0c, b'\r'] {
        for len in [1, 15, 16, 31, 32, 33, 200] {
            for at in [0, len / 2, len - 1] {
                let mut uri = vec![b'a'; len];
                uri[at] = c;
                assert!(has_control_space(&uri), "{c:#04x} at {at} of {len}");
            }
        }
    }
}
