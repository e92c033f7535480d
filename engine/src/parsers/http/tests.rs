use super::*;
use proptest::prelude::*;

fn txs(msgs: Vec<L7Message>) -> Vec<HttpTransaction> {
    crate::testutil::messages_of!(msgs, Http)
}

/// Feeds a whole request stream then a whole response stream, then ends
/// the flow.
fn run(p: &mut HttpParser, req: &[u8], resp: &[u8]) -> Vec<HttpTransaction> {
    let mut out = p.feed_initiator(req);
    out.extend(p.feed_responder(resp));
    out.extend(p.eof_responder());
    out.extend(p.flow_end());
    txs(out)
}

#[test]
fn get_with_content_length() {
    let mut p = HttpParser::default();
    let t = run(
        &mut p,
        b"GET /index.html?q=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: curl/8.0\r\nReferer: http://a/\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(t.len(), 1);
    let t = &t[0];
    assert_eq!(t.method.as_deref(), Some(&b"GET"[..]));
    assert_eq!(t.uri.as_deref(), Some(&b"/index.html?q=1"[..]));
    assert_eq!(t.hostname.as_deref(), Some(&b"example.com"[..]));
    assert_eq!(t.port, Some(8080));
    assert_eq!(t.user_agent.as_deref(), Some(&b"curl/8.0"[..]));
    assert_eq!(t.referer.as_deref(), Some(&b"http://a/"[..]));
    assert_eq!(t.protocol.as_deref(), Some(&b"HTTP/1.1"[..]));
    assert_eq!(t.status, Some(200));
    assert_eq!(t.content_type.as_deref(), Some(&b"text/html"[..]));
    assert_eq!(t.response_body_len, 5);
    assert!(!t.incomplete);
    assert!(t.request_headers.is_empty(), "headers are off by default");
}

#[test]
fn a_partial_response_keeps_its_content_range() {
    let mut p = HttpParser::default();
    let t = run(
        &mut p,
        b"GET /f HTTP/1.1\r\nHost: a\r\nRange: bytes=0-4\r\n\r\n",
        b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4/1000\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(t[0].status, Some(206));
    let raw = t[0].content_range.as_deref().unwrap();
    assert_eq!(raw, b"bytes 0-4/1000");
    let r = content_range(raw).unwrap();
    assert_eq!((r.start, r.end, r.size), (Some(0), Some(4), Some(1000)));
}

#[test]
fn pipelined_requests_pair_in_order() {
    let mut p = HttpParser::default();
    let t = run(
        &mut p,
        b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nPOST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nBBHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
    );
    let got: Vec<(&[u8], Option<u16>, u64, u64)> = t
        .iter()
        .map(|t| {
            (
                t.uri.as_deref().unwrap(),
                t.status,
                t.request_body_len,
                t.response_body_len,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (&b"/a"[..], Some(200), 0, 1),
            (&b"/b"[..], Some(404), 0, 2),
            (&b"/c"[..], Some(201), 3, 0)
        ]
    );
    let ids: Vec<u64> = t.iter().map(|t| t.tx_id).collect();
    assert_eq!(ids, [0, 1, 2]);
}

#[test]
fn chunked_with_extensions_and_trailers() {
    let mut p = HttpParser::new(HttpConfig {
        body_sha256: true,
        body_sample_bytes: 4,
        ..HttpConfig::default()
    });
    let t = run(
        &mut p,
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(t[0].response_body_len, 11);
    // As transferred (libhtp's count, Suricata's `http.length`): the size
    // lines and each chunk's line end too, the trailer not.
    let framed = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n".len() as u64;
    assert_eq!((t[0].response_message_len, framed), (30, 30));
    assert_eq!(t[1].response_message_len, 0);
    assert_eq!(t[0].response_body_sample.as_deref(), Some(&b"hell"[..]));
    let want: [u8; 32] = Sha256::digest(b"hello world").into();
    assert_eq!(t[0].response_body_sha256, Some(want));
    // The message after the trailers was found: framing held.
    assert_eq!(t.len(), 2);
    assert_eq!(t[1].status, Some(200));
    assert_eq!(p.errors(), HttpErrors::default());
}

#[test]
fn no_body_for_head_204_304_and_interim_responses() {
    let mut p = HttpParser::default();
    let t = run(
        &mut p,
        b"HEAD /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\nPUT /d HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
    );
    let status: Vec<Option<u16>> = t.iter().map(|t| t.status).collect();
    assert_eq!(status, [Some(200), Some(204), Some(304), Some(201)]);
    assert!(t.iter().all(|t| t.response_body_len == 0 && !t.incomplete));
    assert_eq!(t[3].request_body_len, 2);
}

#[test]
fn body_until_close_ends_with_fin() {
    let mut p = HttpParser::default();
    let mut out = p.feed_initiator(b"GET / HTTP/1.0\r\n\r\n");
    out.extend(p.feed_responder(b"HTTP/1.0 200 OK\r\n\r\nsome"));
    out.extend(p.feed_responder(b" bytes"));
    assert!(out.is_empty(), "not complete before the FIN");
    let t = txs(p.eof_responder());
    assert_eq!((t[0].response_body_len, t[0].incomplete), (10, false));
    assert_eq!(t[0].response_message_len, 10, "no framing to count");
    assert_eq!(t[0].protocol.as_deref(), Some(&b"HTTP/1.0"[..]));
    assert!(p.flow_end().is_empty());
}

#[test]
fn connect_and_upgrade_stop_parsing() {
    let mut p = HttpParser::default();
    let t = run(
        &mut p,
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01\x00\x05hello",
        b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03garbage",
    );
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].tunnel, Some(HttpTunnel::Connect));
    assert_eq!(t[0].hostname.as_deref(), Some(&b"example.com"[..]));
    assert_eq!(t[0].port, Some(443));
    // Without a Host header the target names the host.
    let mut p = HttpParser::default();
    let t = run(
        &mut p,
        b"CONNECT Abc:8443 HTTP/1.1\r\n\r\n",
        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(t[0].hostname.as_deref(), Some(&b"abc"[..]));
    assert_eq!(t[0].port, Some(8443));
    let mut p = HttpParser::default();
    let t = run(
        &mut p,
        b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi",
    );
    assert_eq!(t.len(), 1);
    assert_eq!(
        t[0].tunnel,
        Some(HttpTunnel::Upgrade(b"websocket"[..].into()))
    );
    assert_eq!(p.errors(), HttpErrors::default());
}

#[test]
fn header_limits_and_headers_kept_when_asked() {
    let mut p = HttpParser::new(HttpConfig {
        max_headers: 2,
        ..HttpConfig::default()
    });
    let t = run(
        &mut p,
        b"GET /x HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n",
        b"",
    );
    assert_eq!(p.errors().oversized_heads, 1);
    // The next request is found again.
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].uri.as_deref(), Some(&b"/y"[..]));
    assert!(t[0].incomplete);

    let mut p = HttpParser::new(HttpConfig {
        max_header_bytes: 256,
        headers: true,
        ..HttpConfig::default()
    });
    let mut big = b"GET /big HTTP/1.1\r\nX: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 300));
    big.extend_from_slice(b"\r\n\r\nGET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
    let t = run(
        &mut p,
        &big,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nServer: s\r\n\r\n",
    );
    assert_eq!(p.errors().oversized_heads, 1);
    assert_eq!(t[0].uri.as_deref(), Some(&b"/ok"[..]));
    assert_eq!(
        t[0].request_headers,
        vec![(b"Host"[..].into(), b"h"[..].into())]
    );
    assert_eq!(t[0].response_headers.len(), 2);
}

#[test]
fn non_utf8_bytes_are_kept() {
    let mut p = HttpParser::default();
    let t = run(
        &mut p,
        b"GET /caf\xe9 HTTP/1.1\r\nHost: h\r\nUser-Agent: x\xff\r\n\r\n",
        b"",
    );
    assert_eq!(t[0].uri.as_deref(), Some(&b"/caf\xe9"[..]));
    assert_eq!(t[0].user_agent.as_deref(), Some(&b"x\xff"[..]));
}

#[test]
fn gaps_inside_bodies_keep_framing_and_elsewhere_resync() {
    // A gap inside a Content-Length body: the next response still parses.
    let mut p = HttpParser::new(HttpConfig {
        body_sha256: true,
        ..HttpConfig::default()
    });
    let mut out =
        p.feed_initiator(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    out.extend(p.feed_responder(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
    out.extend(p.gap_responder(4));
    out.extend(p.feed_responder(b"hijHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nZ"));
    let t = txs(out);
    assert_eq!(t.len(), 2);
    assert_eq!((t[0].response_body_len, t[0].gap_bytes), (6, 4));
    assert_eq!(t[0].response_body_sha256, None, "not hashed: bytes missing");
    assert!(t[1].response_body_sha256.is_some());
    // A gap in a head: skip to the next request line.
    let mut p = HttpParser::default();
    let mut out = p.feed_initiator(b"GET /lost HTTP/1.1\r\nHo");
    out.extend(p.gap_initiator(30));
    out.extend(p.feed_initiator(b"garbage\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n"));
    out.extend(p.flow_end());
    let t = txs(out);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].uri.as_deref(), Some(&b"/next"[..]));
    assert_eq!(p.errors().resyncs, 1);
}

#[test]
fn response_without_request_and_request_without_response() {
    let mut p = HttpParser::default();
    let out =
        p.feed_responder(b"HTTP/1.1 302 Found\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n");
    let t = txs(out);
    assert_eq!((t[0].method.clone(), t[0].status), (None, Some(302)));
    assert_eq!(t[0].location.as_deref(), Some(&b"/new"[..]));
    let mut p = HttpParser::default();
    p.feed_initiator(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    p.feed_responder(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
    let t = txs(p.flow_end());
    assert_eq!(
        (t[0].status, t[0].response_body_len, t[0].incomplete),
        (Some(200), 5, true)
    );
}

#[test]
fn absolute_uri_host_wins() {
    let mut p = HttpParser::default();
    let t = run(
        &mut p,
        b"GET http://user@Proxy.Example:3128/p HTTP/1.1\r\nHost: other\r\n\r\n",
        b"",
    );
    assert_eq!(t[0].hostname.as_deref(), Some(&b"proxy.example"[..]));
}

#[test]
fn an_absolute_uri_is_told_by_its_scheme_alone() {
    use head::uri_host;
    let cases: [(&[u8], Option<&[u8]>); 12] = [
        (b"http://a.example/x", Some(b"a.example")),
        (b"HTTP://Host:80?q", Some(b"Host:80")),
        (b"http://user@host#f", Some(b"host")),
        (b"http://", Some(b"")),
        (b"://h/", Some(b"h")),
        (b"abc://d://e", Some(b"d:")),
        (b"/path?to=http://elsewhere/", None),
        (b"h1tp://x/", None),
        (b"http:/x", None),
        (b"http", None),
        (b"*", None),
        (b"", None),
    ];
    for (uri, host) in cases {
        assert_eq!(uri_host(uri), host, "{:?}", String::from_utf8_lossy(uri));
    }
}

#[test]
fn probe_recognises_methods_and_status_lines() {
    use crate::session::Probe;
    assert_eq!(probe(b"GET / HTTP/1.1\r\n"), Probe::Certain);
    assert_eq!(probe(b"HTTP/1.1 200 OK"), Probe::Certain);
    assert_eq!(probe(b"PO"), Probe::NeedMore);
    assert_eq!(probe(b"\x16\x03\x01"), Probe::No);
    assert_eq!(probe(b"GETX / HTTP/1.1"), Probe::No);
}

proptest! {
    /// The host of an absolute URI is found as by its definition: the
    /// first `://`, with only letters before it.
    #[test]
    fn uri_host_follows_the_scheme_rule(uri in proptest::collection::vec(
        prop::sample::select(&b"ab1:/@?#"[..]), 0..24)) {
        let by_rule = uri.windows(3).position(|w| w == b"://")
            .filter(|&i| uri[..i].iter().all(u8::is_ascii_alphabetic))
            .map(|i| {
                let rest = &uri[i + 3..];
                let end = rest.iter().position(|c| b"/?#".contains(c)).unwrap_or(rest.len());
                let auth = &rest[..end];
                auth.iter().rposition(|&c| c == b'@').map_or(auth, |at| &auth[at + 1..])
            });
        prop_assert_eq!(head::uri_host(&uri), by_rule);
    }
}

proptest! {
    /// Any segmentation of the same two streams gives the same
    /// transactions.
    #[test]
    fn split_invariance(
        req_cuts in proptest::collection::vec(0usize..1000, 0..10),
        resp_cuts in proptest::collection::vec(0usize..1000, 0..10),
    ) {
        let req: &[u8] = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHEAD /c HTTP/1.1\r\nHost: h\r\n\r\n";
        let resp: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcdHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nHTTP/1.1 200 OK\r\n\r\nrest";
        let whole = run(&mut HttpParser::default(), req, resp);
        prop_assert_eq!(whole.len(), 4);
        let pieces = |s: &'static [u8], cuts: &[usize]| {
            let mut c: Vec<usize> = cuts.iter().map(|c| c % (s.len() + 1)).collect();
            c.sort_unstable();
            let mut v = Vec::new();
            let mut at = 0;
            for x in c.into_iter().chain([s.len()]) {
                v.push(&s[at..x]);
                at = x;
            }
            v
        };
        let mut p = HttpParser::default();
        let mut out = Vec::new();
        for piece in pieces(req, &req_cuts) {
            out.extend(p.feed_initiator(piece));
        }
        for piece in pieces(resp, &resp_cuts) {
            out.extend(p.feed_responder(piece));
        }
        out.extend(p.eof_responder());
        out.extend(p.flow_end());
        prop_assert_eq!(txs(out), whole);
    }

    #[test]
    fn no_panic_on_arbitrary_streams(
        a in proptest::collection::vec(any::<u8>(), 0..400),
        b in proptest::collection::vec(any::<u8>(), 0..400),
        gap in 0u64..100,
    ) {
        let mut p = HttpParser::default();
        let mut req = b"GET / HTTP/1.1\r\n".to_vec();
        req.extend_from_slice(&a);
        p.feed_initiator(&req);
        p.feed_responder(&b);
        p.gap_responder(gap);
        p.feed_responder(&a);
        p.eof_responder();
        p.flow_end();
    }
}

#[test]
#[cfg(feature = "tls")]
fn connect_tunnel_carries_http_or_tls() {
    // HTTP through the proxy: parsed as the next transactions.
    let mut p = HttpParser::default();
    let mut out = p.feed_initiator(b"CONNECT abc:80 HTTP/1.1\r\nHost: abc:80\r\n\r\n");
    out.extend(p.feed_responder(b"HTTP/1.1 200 Connection established\r\n\r\n"));
    out.extend(p.feed_initiator(b"GET / HTTP/1.1\r\nHost: abc\r\n\r\n"));
    out.extend(p.feed_responder(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    let t = txs(out);
    let got: Vec<(&[u8], Option<u16>)> = t
        .iter()
        .map(|t| (t.method.as_deref().unwrap(), t.status))
        .collect();
    assert_eq!(
        got,
        [(&b"CONNECT"[..], Some(200)), (&b"GET"[..], Some(200))]
    );
    // TLS through the proxy: a tls message from the same parser.
    let mut p = HttpParser::default();
    let mut out = p.feed_initiator(b"CONNECT abc:443 HTTP/1.1\r\nHost: abc:443\r\n\r\n");
    out.extend(p.feed_responder(b"HTTP/1.1 200 OK\r\n\r\n"));
    // A ClientHello record with an empty body of extensions.
    let mut hello = vec![3, 3];
    hello.extend_from_slice(&[0; 32]);
    hello.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
    let mut hs = vec![1, 0, 0, hello.len() as u8];
    hs.extend(hello);
    let mut rec = vec![22, 3, 1, 0, hs.len() as u8];
    rec.extend(hs);
    out.extend(p.feed_initiator(&rec));
    out.extend(p.flow_end());
    assert!(matches!(&out[0], L7Message::Http(t) if t.tunnel == Some(HttpTunnel::Connect)));
    assert!(matches!(&out[1], L7Message::Tls(h) if h.client_hello.is_some()));
    assert_eq!(out.len(), 2);
}

#[test]
fn ssdp_datagrams_are_heads() {
    use crate::session::DatagramParser;
    let mut p = HttpUdpParser::default();
    let t = txs(p.parse(
        b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\nUSER-AGENT: x/1\r\n\r\n",
        crate::FlowSide::Initiator,
    ));
    assert_eq!(t[0].method.as_deref(), Some(&b"M-SEARCH"[..]));
    assert_eq!(t[0].hostname.as_deref(), Some(&b"239.255.255.250"[..]));
    assert_eq!(t[0].user_agent.as_deref(), Some(&b"x/1"[..]));
    let t = txs(p.parse(
        b"HTTP/1.1 200 OK\r\nLOCATION: http://10.0.0.1/d.xml\r\n\r\n",
        crate::FlowSide::Responder,
    ));
    assert_eq!((t[0].status, t[0].method.is_none()), (Some(200), true));
    assert!(
        p.parse(b"\x00\x01garbage", crate::FlowSide::Initiator)
            .is_empty()
    );
    assert_eq!(p.malformed(), 1);
}

#[test]
fn connect_then_get_as_captured() {
    let mut p = HttpParser::default();
    let mut out = p.feed_initiator(b"CONNECT abc:443 HTTP/1.1\r\nUser-Agent: Victor/1.0\r\n\r\n");
    out.extend(p.feed_responder(b"HTTP/1.1 200 OK\r\nServer: VictorServer/1.0\r\n\r\n"));
    out.extend(p.feed_initiator(b"GET / HTTP/1.1\r\nUser-Agent: Victor/1.0\r\n\r\n"));
    out.extend(p.feed_responder(b"HTTP/1.1 200 OK\r\nServer: VictorServer/1.0\r\n\r\n"));
    out.extend(p.eof_responder());
    assert_eq!(txs(out).len(), 2);
}

#[test]
fn connect_tunnel_decides_on_small_pieces() {
    let mut p = HttpParser::default();
    let mut out = p.feed_initiator(b"CONNECT abc:80 HTTP/1.1\r\n\r\n");
    out.extend(p.feed_responder(b"HTTP/1.1 200 OK\r\n\r\n"));
    for piece in [&b"G"[..], b"E", b"T / HTTP/1.1\r\n", b"\r\n"] {
        out.extend(p.feed_initiator(piece));
    }
    out.extend(p.feed_responder(b"HTTP/1.1 204 No Content\r\n\r\n"));
    let t = txs(out);
    assert_eq!(t.len(), 2);
    assert_eq!(t[1].uri.as_deref(), Some(&b"/"[..]));
}

#[test]
fn control_bytes_in_header_values_are_tolerated() {
    let mut p = HttpParser::default();
    let t = run(
        &mut p,
        b"GET / HTTP/1.0\r\nNikto: \x1f\r\nHost : h\r\nUser-Agent: Mozilla/5.00 (Nikto)\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].hostname.as_deref(), Some(&b"h"[..]));
    assert_eq!(
        t[0].user_agent.as_deref(),
        Some(&b"Mozilla/5.00 (Nikto)"[..])
    );
    assert_eq!(p.errors(), HttpErrors::default());
}

#[test]
fn request_line_without_protocol_is_kept() {
    let mut p = HttpParser::default();
    let t = run(&mut p, b"GET /x\r\nUser-Agent: myscript\r\n\r\n", b"");
    assert_eq!(t[0].uri.as_deref(), Some(&b"/x"[..]));
    assert_eq!(t[0].protocol, None);
    assert_eq!(t[0].user_agent.as_deref(), Some(&b"myscript"[..]));
    // Unknown methods still need the protocol.
    assert!(run(&mut HttpParser::default(), b"FOO /x\r\n\r\n", b"").is_empty());
}

#[test]
fn gap_covering_the_rest_of_a_body_completes_it() {
    let mut p = HttpParser::default();
    let mut out = p.feed_initiator(b"GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n");
    out.extend(p.feed_responder(b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabcd"));
    out.extend(p.gap_responder(6));
    out.extend(p.feed_responder(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nZ"));
    let t = txs(out);
    assert_eq!(t.len(), 2);
    assert_eq!(
        (t[0].status, t[0].gap_bytes, t[0].incomplete),
        (Some(200), 6, false)
    );
    assert_eq!(t[1].uri.as_deref(), Some(&b"/2"[..]));
    // A gap past the body's end: the response is reported when the next
    // one starts.
    let mut p = HttpParser::default();
    let mut out = p.feed_initiator(b"GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n");
    out.extend(p.feed_responder(b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabcd"));
    out.extend(p.gap_responder(50));
    out.extend(p.feed_responder(b"xyzHTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nZ"));
    let t = txs(out);
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].uri.as_deref(), Some(&b"/1"[..]));
}

#[test]
#[cfg(feature = "tls")]
fn connect_tunnel_reports_what_it_hands_over_to() {
    let connect = |p: &mut HttpParser| {
        p.feed_initiator(b"CONNECT abc:443 HTTP/1.1\r\n\r\n");
        p.feed_responder(b"HTTP/1.1 200 OK\r\n\r\n");
    };
    // TLS: the flow is TLS from HTTP, and the TLS message says so.
    let mut p = HttpParser::default();
    connect(&mut p);
    assert_eq!(p.app_proto(), None, "nothing through the tunnel yet");
    p.feed_initiator(b"\x16\x03\x01\x00\x04\x01\x00\x00\x00");
    assert_eq!(p.app_proto(), Some("tls".into()));
    let out = p.flow_end();
    assert!(matches!(&out[..], [L7Message::Tls(h)] if h.from_proto == Some("http")));
    // The server speaks first, in no protocol read here: failed.
    let mut p = HttpParser::default();
    connect(&mut p);
    p.feed_responder(b"\x05\x00\x00\x05\x00");
    assert_eq!(p.app_proto(), Some("failed".into()));
    // HTTP through the tunnel: still HTTP.
    let mut p = HttpParser::default();
    connect(&mut p);
    p.feed_initiator(b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(p.app_proto(), None);
    // A refused CONNECT: HTTP goes on.
    let mut p = HttpParser::default();
    p.feed_initiator(b"CONNECT abc:443 HTTP/1.1\r\n\r\n");
    p.feed_responder(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
    p.feed_initiator(b"\x16\x03\x01\x00\x04\x01\x00\x00\x00");
    assert_eq!(p.app_proto(), None);
}

/// An h2c upgrade: the request that offers it, the `101`, then HTTP/2
/// both ways (the server's SETTINGS in the 101's segment).
#[cfg(feature = "http2")]
mod h2c {
    use super::*;
    use crate::parsers::Http2Config;
    use crate::parsers::http2::{HeaderField, Http2Stream};

    const OFFER: &[u8] = b"GET /x HTTP/1.1\r\nHost: h:8080\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n";
    const SWITCH: &[u8] =
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
    /// An empty SETTINGS frame, then HEADERS on stream 1 (END_STREAM,
    /// END_HEADERS) holding `:status: 200` (static table index 8).
    const SERVER_H2: &[u8] =
        b"\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01\x01\x05\x00\x00\x00\x01\x88";
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

    fn names(h: &[HeaderField]) -> Vec<String> {
        h.iter()
            .map(|f| match f {
                HeaderField::Field { name, value } => format!(
                    "{}={}",
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(value)
                ),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn split(msgs: Vec<L7Message>) -> (Vec<HttpTransaction>, Vec<Http2Stream>) {
        let (mut h1, mut h2) = (Vec::new(), Vec::new());
        for m in msgs {
            match m {
                L7Message::Http(t) => h1.push(*t),
                L7Message::Http2(t) => h2.push(*t),
                #[allow(unreachable_patterns)]
                other => panic!("unexpected {other:?}"),
            }
        }
        (h1, h2)
    }

    /// The offer, the 101 with the server's first frames, the client's
    /// preface, the flow's end: the HTTP/1 and HTTP/2 messages.
    fn upgrade_exchange(p: &mut HttpParser) -> (Vec<HttpTransaction>, Vec<Http2Stream>) {
        let mut out = p.feed_initiator(OFFER);
        let mut resp = SWITCH.to_vec();
        resp.extend_from_slice(SERVER_H2);
        out.extend(p.feed_responder(&resp));
        out.extend(p.feed_initiator(PREFACE));
        out.extend(p.flow_end());
        split(out)
    }

    #[test]
    fn an_accepted_upgrade_goes_on_as_http2() {
        let mut p = HttpParser::default().with_h2c(Http2Config::default(), false);
        let (h1, h2) = upgrade_exchange(&mut p);
        assert_eq!(h1.len(), 1);
        assert_eq!(h1[0].status, Some(101));
        assert_eq!(h1[0].port, Some(8080));
        assert_eq!(h1[0].tunnel, Some(HttpTunnel::Upgrade(b"h2c"[..].into())));
        // Numbered from 0 again: stream 1, the header's settings, then the
        // server's empty SETTINGS (no transaction).
        let ids: Vec<(u64, u32)> = h2.iter().map(|t| (t.tx_id, t.stream_id)).collect();
        assert_eq!(ids, [(0, 1), (1, 0)]);
        assert_eq!(
            names(&h2[0].request.headers),
            [
                ":method=GET",
                ":path=/x",
                ":authority=h:8080",
                "Connection=Upgrade, HTTP2-Settings",
                "Upgrade=h2c"
            ]
        );
        assert_eq!(names(&h2[0].response.headers), [":status=200"]);
        assert!(h2[0].closed);
        assert_eq!(h2[1].request.settings.len(), 1);
        assert_eq!(h2[1].request.settings[0].value, 100);
        assert_eq!(p.app_proto().map(|a| a.name), Some("http2"));
    }

    #[test]
    fn without_h2c_parsing_stops_at_the_101() {
        let mut p = HttpParser::default();
        let (h1, h2) = upgrade_exchange(&mut p);
        assert_eq!(h1.len(), 1);
        assert!(h2.is_empty());
        assert_eq!(p.app_proto(), None);
    }

    #[test]
    fn a_declined_offer_leaves_http1() {
        let mut p = HttpParser::default().with_h2c(Http2Config::default(), true);
        assert!(p.wants_acks(), "the first request may offer h2c");
        let mut out = p.feed_initiator(OFFER);
        assert!(p.wants_acks(), "offered: waiting for the answer");
        out.extend(p.feed_responder(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        assert!(!p.wants_acks(), "declined: no acknowledgements needed");
        out.extend(p.feed_initiator(b"GET /y HTTP/1.1\r\nHost: h\r\n\r\n"));
        out.extend(p.feed_responder(b"HTTP/1.1 204 No Content\r\n\r\n"));
        let (h1, h2) = split(out);
        let st: Vec<Option<u16>> = h1.iter().map(|t| t.status).collect();
        assert_eq!(st, [Some(200), Some(204)]);
        assert!(h2.is_empty());
    }

    #[test]
    fn a_first_request_without_an_offer_stops_the_acknowledgements() {
        let mut p = HttpParser::default().with_h2c(Http2Config::default(), true);
        p.feed_initiator(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        assert!(!p.wants_acks());
    }

    /// Timed by acknowledgements: the server's bytes after the 101 wait
    /// for the client's preface, so the client's transactions come first.
    #[test]
    fn timed_the_client_preface_is_read_first() {
        let mut p = HttpParser::default().with_h2c(Http2Config::default(), true);
        let mut out = p.feed_initiator(OFFER);
        let mut resp = SWITCH.to_vec();
        // A non-empty server SETTINGS this time: a transaction.
        resp.extend_from_slice(b"\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x07");
        let server_end = resp.len() as u64;
        out.extend(p.acked_initiator(OFFER.len() as u64));
        out.extend(p.feed_responder(&resp));
        assert!(p.wants_acks());
        // The server's SETTINGS acknowledged before the preface is sent.
        out.extend(p.acked_responder(server_end));
        let mut preface = PREFACE.to_vec();
        preface[PREFACE.len() - 9..].copy_from_slice(b"\x00\x00\x06\x04\x00\x00\x00\x00\x00");
        preface.extend_from_slice(b"\x00\x04\x00\x01\x00\x00");
        out.extend(p.feed_initiator(&preface));
        out.extend(p.acked_initiator((OFFER.len() + preface.len()) as u64));
        out.extend(p.acked_responder(server_end));
        out.extend(p.flow_end());
        let (_, h2) = split(out);
        // 1: the header's settings, 2: the client's SETTINGS, 3: the
        // server's; stream 1 (0), still open, at the end.
        let ids: Vec<(u64, usize, usize)> = h2
            .iter()
            .map(|t| (t.tx_id, t.request.settings.len(), t.response.settings.len()))
            .collect();
        assert_eq!(ids, [(1, 1, 0), (2, 1, 0), (3, 0, 1), (0, 0, 0)]);
    }
}

/// A head of `n` headers `H<i>: <i>`, the 38th `User-Agent: ua` (if there
/// are that many) and, with `lenient`, the 35th with a space before its
/// colon, which httparse rejects and the line parser takes.
fn head_of(n: usize, lenient: bool) -> Vec<u8> {
    let mut head = b"GET /many HTTP/1.1\r\n".to_vec();
    for i in 1..=n {
        let line = match i {
            38 => "User-Agent: ua\r\n".to_string(),
            35 if lenient => format!("H{i} : {i}\r\n"),
            _ => format!("H{i}: {i}\r\n"),
        };
        head.extend_from_slice(line.as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    head
}

#[test]
fn heads_with_more_headers_than_the_first_slots_are_parsed_whole() {
    use super::head::{HeaderSlots, first_line};
    for lenient in [false, true] {
        let head = head_of(40, lenient);
        let (_, rest) = first_line(&head);
        for (max, want) in [(128, Some(40)), (40, Some(40)), (39, None), (2, None)] {
            let mut slots = HeaderSlots::new();
            match slots.parse(rest, max) {
                Ok(httparse::Status::Complete(h)) => {
                    assert_eq!(Some(h.len()), want, "max {max}, lenient {lenient}");
                    assert_eq!((h[0].name, h[0].value), ("H1", &b"1"[..]));
                    assert_eq!((h[34].name, h[34].value), ("H35", &b"35"[..]));
                    assert_eq!((h[39].name, h[39].value), ("H40", &b"40"[..]));
                }
                Err(httparse::Error::TooManyHeaders) => assert_eq!(want, None, "max {max}"),
                other => panic!("max {max}, lenient {lenient}: {other:?}"),
            }
        }
        // Fewer than the first slots, and a head cut short.
        let small = head_of(5, lenient);
        let mut slots = HeaderSlots::new();
        let got = slots.parse(first_line(&small).1, 128);
        assert!(matches!(got, Ok(httparse::Status::Complete(h)) if h.len() == 5));
        let cut = &head[..head.len() - 2];
        let mut slots = HeaderSlots::new();
        assert!(matches!(
            slots.parse(first_line(cut).1, 128),
            Ok(httparse::Status::Partial)
        ));
    }

    // Through the parser: every header kept, the 38th's user agent found,
    // and a limit under the count still refuses the head.
    let mut p = HttpParser::new(HttpConfig {
        headers: true,
        ..HttpConfig::default()
    });
    let t = run(&mut p, &head_of(40, true), b"");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].request_headers.len(), 40);
    assert_eq!(t[0].user_agent.as_deref(), Some(&b"ua"[..]));
    let mut p = HttpParser::new(HttpConfig {
        max_headers: 36,
        ..HttpConfig::default()
    });
    run(&mut p, &head_of(40, false), b"");
    assert_eq!(p.errors().oversized_heads, 1);
}

#[test]
fn a_flows_copy_of_the_registered_parser_shares_its_options() {
    // Each flow's parser comes from the registered one's factory: the
    // options (with their port lists) are shared, not copied per flow.
    use crate::session::{DatagramParserFactory, SessionParserFactory};
    let mut p = HttpParser::new(HttpConfig::default());
    let flow = SessionParserFactory::<()>::new_parser(&mut p, &());
    assert!(Arc::ptr_eq(&p.cfg, &flow.cfg));
    let mut u = HttpUdpParser::new(HttpConfig::default());
    let flow = DatagramParserFactory::<()>::new_parser(&mut u, &());
    assert!(Arc::ptr_eq(&u.cfg, &flow.cfg));
}
