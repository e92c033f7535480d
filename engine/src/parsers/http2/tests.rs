//! Tests of the HTTP/2 parser: HPACK against RFC 7541 Appendix C, and
//! whole h2c exchanges from byte literals.

use super::*;
use crate::parsers::Http2Config;
use crate::session::SessionParser;

fn field(name: &str, value: &str) -> HeaderField {
    HeaderField::Field {
        name: name.as_bytes().into(),
        value: value.as_bytes().into(),
    }
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn decode(t: &mut hpack::DynTable, block: &str) -> Vec<HeaderField> {
    let mut out = Vec::new();
    assert!(!t.decode_block(&hex(block), 100, 4096, &mut out));
    out
}

/// RFC 7541 C.3: requests without Huffman coding, one dynamic table.
#[test]
fn hpack_c3_requests_without_huffman() {
    let mut t = hpack::DynTable::new(4096);
    let got = decode(&mut t, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d");
    assert_eq!(
        got,
        [
            field(":method", "GET"),
            field(":scheme", "http"),
            field(":path", "/"),
            field(":authority", "www.example.com"),
        ]
    );
    assert_eq!(t.size(), 57);
    let got = decode(&mut t, "8286 84be 5808 6e6f 2d63 6163 6865");
    assert_eq!(got[3], field(":authority", "www.example.com"));
    assert_eq!(got[4], field("cache-control", "no-cache"));
    assert_eq!(t.size(), 110);
    let got = decode(
        &mut t,
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    );
    assert_eq!(got[1], field(":scheme", "https"));
    assert_eq!(got[2], field(":path", "/index.html"));
    assert_eq!(got[3], field(":authority", "www.example.com"));
    assert_eq!(got[4], field("custom-key", "custom-value"));
    assert_eq!(t.size(), 164);
}

/// RFC 7541 C.4: the same requests Huffman-coded.
#[test]
fn hpack_c4_requests_with_huffman() {
    let mut t = hpack::DynTable::new(4096);
    let got = decode(&mut t, "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff");
    assert_eq!(got[3], field(":authority", "www.example.com"));
    let got = decode(&mut t, "8286 84be 5886 a8eb 1064 9cbf");
    assert_eq!(got[4], field("cache-control", "no-cache"));
    let got = decode(
        &mut t,
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    );
    assert_eq!(got[4], field("custom-key", "custom-value"));
    assert_eq!(t.size(), 164);
}

/// RFC 7541 C.6: responses with Huffman coding and a 256-byte table, so
/// entries are evicted.
#[test]
fn hpack_c6_responses_with_eviction() {
    let mut t = hpack::DynTable::new(4096);
    t.set_max(256);
    let got = decode(
        &mut t,
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 \
         2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
    );
    assert_eq!(
        got,
        [
            field(":status", "302"),
            field("cache-control", "private"),
            field("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
            field("location", "https://www.example.com"),
        ]
    );
    assert_eq!(t.size(), 222);
    let got = decode(&mut t, "4883 640e ffc1 c0bf");
    assert_eq!(got[0], field(":status", "307"));
    assert_eq!(got[3], field("location", "https://www.example.com"));
    assert_eq!(t.size(), 222);
    let got = decode(
        &mut t,
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab \
         77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f \
         9587 3160 65c0 03ed 4ee5 b106 3d50 07",
    );
    assert_eq!(got[0], field(":status", "200"));
    assert_eq!(got[2], field("date", "Mon, 21 Oct 2013 20:13:22 GMT"));
    assert_eq!(got[4], field("content-encoding", "gzip"));
    assert_eq!(
        got[5],
        field(
            "set-cookie",
            "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
        )
    );
    assert_eq!(t.size(), 215);
}

#[test]
fn hpack_errors_end_the_block() {
    let mut t = hpack::DynTable::new(4096);
    // Index 70: past the tables.
    let got = decode(&mut t, "c6 82");
    assert_eq!(
        got,
        [HeaderField::Error("HTTP2HeaderDecodeIndexOutOfBounds")]
    );
    // An integer that never ends.
    let got = decode(&mut t, "ff ff ff ff ff ff ff");
    assert_eq!(
        got,
        [HeaderField::Error("HTTP2HeaderDecodeIntegerOverflow")]
    );
    // A size update past the hard cap is capped.
    let mut small = hpack::DynTable::new(100);
    let got = decode(&mut small, "3fe11f");
    assert_eq!(got, [HeaderField::SizeUpdate(4096)]);
}

/// A frame: header and payload.
fn frame(ftype: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = len.to_be_bytes()[1..].to_vec();
    f.push(ftype);
    f.push(flags);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A literal header without indexing, new name, raw strings.
fn literal(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(0);
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
    out.push(value.len() as u8);
    out.extend_from_slice(value.as_bytes());
}

/// The client's side: preface, SETTINGS, a GET on stream 1 (HEADERS plus a
/// CONTINUATION), and a POST on stream 3 with a body.
fn client_bytes() -> Vec<u8> {
    let mut c = PREFACE.to_vec();
    // SETTINGS: MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE 65535,
    // then an unknown id 8 (not read further, as Suricata does).
    let mut s = Vec::new();
    for (id, v) in [(3u16, 100u32), (4, 65535), (8, 1)] {
        s.extend_from_slice(&id.to_be_bytes());
        s.extend_from_slice(&v.to_be_bytes());
    }
    c.extend(frame(ftype::SETTINGS, 0, 0, &s));
    c.extend(frame(ftype::WINDOW_UPDATE, 0, 0, &[0, 1, 0, 0]));
    // GET http://example.com/ with the authority in a CONTINUATION.
    let mut block = vec![0x82, 0x86, 0x84];
    literal(&mut block, "user-agent", "curl/8.0");
    let mut cont = Vec::new();
    literal(&mut cont, "host", "example.com");
    c.extend(frame(ftype::HEADERS, END_STREAM, 1, &block));
    c.extend(frame(ftype::CONTINUATION, END_HEADERS, 1, &cont));
    // POST /up with priority weight 15, a 5-byte body.
    let mut block = vec![0, 0, 0, 0, 15, 0x83];
    literal(&mut block, ":path", "/up");
    literal(&mut block, "content-length", "5");
    c.extend(frame(
        ftype::HEADERS,
        END_HEADERS | PRIORITY_FLAG,
        3,
        &block,
    ));
    c.extend(frame(ftype::DATA, END_STREAM, 3, b"hello"));
    c.extend(frame(ftype::SETTINGS, ACK, 0, &[]));
    c
}

/// The server's side: SETTINGS, a 200 on stream 1 with a body, a
/// RST_STREAM on stream 3, then a GOAWAY.
fn server_bytes() -> Vec<u8> {
    let mut s = Vec::new();
    s.extend(frame(ftype::SETTINGS, 0, 0, &[0, 5, 0, 0, 0x40, 0]));
    s.extend(frame(ftype::SETTINGS, ACK, 0, &[]));
    let mut block = vec![0x88];
    literal(&mut block, "content-length", "2");
    s.extend(frame(ftype::HEADERS, END_HEADERS, 1, &block));
    s.extend(frame(ftype::DATA, END_STREAM, 1, b"ok"));
    s.extend(frame(ftype::RST_STREAM, 0, 3, &[0, 0, 0, 8]));
    s.extend(frame(ftype::GOAWAY, 0, 0, &[0, 0, 0, 3, 0, 0, 0, 0]));
    s
}

fn streams(msgs: Vec<L7Message>) -> Vec<Http2Stream> {
    crate::testutil::messages_of!(msgs, Http2)
}

#[test]
fn probe_wants_the_preface_from_the_client() {
    use crate::FlowSide::{Initiator, Responder};
    assert_eq!(probe(b"PRI * HTTP/2.0\r\n", Initiator), Probe::Certain);
    assert_eq!(probe(b"PRI * HT", Initiator), Probe::NeedMore);
    assert_eq!(probe(b"POST / HTTP/1.1\r\n", Initiator), Probe::No);
    assert_eq!(probe(PREFACE, Responder), Probe::No);
}

#[test]
fn a_whole_exchange_gives_one_record_per_stream_and_settings() {
    let mut p = Http2Parser::new(Http2Config::default());
    let mut got = streams(p.feed_initiator(&client_bytes()));
    // Client SETTINGS (tx 0); WINDOW_UPDATE on stream 0 is tx 1, not
    // logged; the streams are tx 2 and 3, still open.
    assert_eq!(got.len(), 1);
    let settings = got.remove(0);
    assert_eq!((settings.tx_id, settings.stream_id), (0, 0));
    assert_eq!(
        settings.request.settings,
        [
            Setting { id: 3, value: 100 },
            Setting {
                id: 4,
                value: 65535
            }
        ]
    );
    let got = streams(p.feed_responder(&server_bytes()));
    let ids: Vec<(u64, u32)> = got.iter().map(|t| (t.tx_id, t.stream_id)).collect();
    // Server SETTINGS (tx 4), the ACK is none, both streams closed, the
    // GOAWAY (tx 5).
    assert_eq!(ids, [(2, 1), (3, 3), (4, 0), (5, 0)]);
    let get = &got[0];
    assert_eq!(
        get.request.headers,
        [
            field(":method", "GET"),
            field(":scheme", "http"),
            field(":path", "/"),
            field("user-agent", "curl/8.0"),
            field("host", "example.com"),
        ]
    );
    assert_eq!(get.request.header_frames, 2);
    assert_eq!(
        get.response.headers,
        [field(":status", "200"), field("content-length", "2")]
    );
    assert_eq!(get.response.data_bytes, 2);
    assert!(get.closed);
    let post = &got[1];
    assert_eq!(post.request.priority, Some(15));
    assert_eq!(post.request.data_bytes, 5);
    assert_eq!(
        post.response.error_code,
        Some(ErrorCode {
            code: 8,
            goaway: false
        })
    );
    assert_eq!(
        got[2].response.settings,
        [Setting {
            id: 5,
            value: 16384
        }]
    );
    assert_eq!(
        got[3].response.error_code,
        Some(ErrorCode {
            code: 0,
            goaway: true
        })
    );
    assert!(p.flow_end().is_empty());
    assert!(p.next_event().is_none());
}

/// Any cut of the two streams gives the same transactions.
#[test]
fn byte_by_byte_gives_the_same_records() {
    let mut whole = Http2Parser::default();
    let mut a = streams(whole.feed_initiator(&client_bytes()));
    a.extend(streams(whole.feed_responder(&server_bytes())));
    let mut split = Http2Parser::default();
    let mut b = Vec::new();
    for byte in client_bytes() {
        b.extend(streams(split.feed_initiator(&[byte])));
    }
    for byte in server_bytes() {
        b.extend(streams(split.feed_responder(&[byte])));
    }
    // Within one call, transactions come by number; across calls, as
    // they complete.
    a.sort_by_key(|t| t.tx_id);
    b.sort_by_key(|t| t.tx_id);
    assert_eq!(a, b);
}

#[test]
fn open_streams_are_reported_at_flow_end() {
    let mut p = Http2Parser::default();
    let c = client_bytes();
    // Up to the end of the first HEADERS + CONTINUATION.
    let cut = PREFACE.len() + 9 + 18 + 9 + 4 + 9 + 24 + 9 + 18;
    p.feed_initiator(&c[..cut]);
    let got = streams(p.flow_end());
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].stream_id, got[0].closed), (1, false));
}

#[test]
fn a_bad_preface_stops_the_client_side() {
    let mut p = Http2Parser::default();
    assert!(p.feed_initiator(b"PRI * HTTP/2.0\r\n\r\nXX").is_empty());
    assert_eq!(p.next_event().unwrap().event, "invalid_client_magic");
    assert!(
        p.feed_initiator(&frame(ftype::SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 1]))
            .is_empty()
    );
}

#[test]
fn caps_are_anomalies() {
    let cfg = Http2Config {
        max_streams: 1,
        max_frame_bytes: 1024,
        ..Http2Config::default()
    };
    let mut p = Http2Parser::new(cfg);
    let mut c = PREFACE.to_vec();
    c.extend(frame(ftype::HEADERS, END_HEADERS, 1, &[0x82]));
    c.extend(frame(ftype::HEADERS, END_HEADERS, 3, &[0x82]));
    // A 2000-byte SETTINGS frame is skipped.
    c.extend(frame(ftype::SETTINGS, 0, 0, &[0; 2000]));
    let got = streams(p.feed_initiator(&c));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].stream_id, 1);
    let names: Vec<&str> = std::iter::from_fn(|| p.next_event())
        .map(|e| e.event)
        .collect();
    assert_eq!(names, ["too_many_streams", "long_frame_data"]);
}

proptest::proptest! {
    /// Arbitrary bytes after the preface, on both sides, in any cut: no
    /// panic, buffers within their caps.
    #[test]
    fn arbitrary_frames_stay_within_caps(
        a in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
        b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
        cut in 0usize..600,
    ) {
        let mut p = Http2Parser::default();
        let mut c = PREFACE.to_vec();
        c.extend_from_slice(&a);
        let cut = cut.min(c.len());
        p.feed_initiator(&c[..cut]);
        p.feed_responder(&b);
        p.feed_initiator(&c[cut..]);
        p.flow_end();
        for s in &p.sides {
            proptest::prop_assert!(s.buf.capacity() <= 64 * 1024);
            proptest::prop_assert!(s.block.len() <= 64 * 1024);
        }
        proptest::prop_assert!(p.events.len() <= MAX_QUEUED_EVENTS);
    }
}

/// With acknowledgement timing, bytes are read once acknowledged: the
/// server's SETTINGS, acknowledged first, is numbered before the client's
/// streams.
#[test]
fn acknowledgements_decide_the_reading_order() {
    let mut p = Http2Parser::default().timed_by_acks();
    assert!(p.wants_acks());
    let c = client_bytes();
    let s = server_bytes();
    assert!(p.feed_initiator(&c).is_empty());
    assert!(p.feed_responder(&s[..15]).is_empty());
    // The server's SETTINGS (15 bytes) is acknowledged first.
    let got = streams(p.acked_responder(15));
    assert_eq!((got[0].tx_id, got[0].response.settings.len()), (0, 1));
    let got = streams(p.acked_initiator(c.len() as u64));
    assert_eq!((got[0].tx_id, got[0].request.settings.len()), (1, 2));
    assert!(p.feed_responder(&s[15..]).is_empty());
    let got = streams(p.flow_end());
    let ids: Vec<(u64, u32)> = got.iter().map(|t| (t.tx_id, t.stream_id)).collect();
    assert_eq!(ids, [(3, 1), (4, 3), (5, 0)]);
}
