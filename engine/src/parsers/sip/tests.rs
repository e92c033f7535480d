use super::*;

/// A REGISTER of the corpus's sip.pcap (frame 1, headers shortened).
const REGISTER: &[u8] = b"REGISTER sip:sip.cybercity.dk SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.2;branch=z9hG4bKnp112903503-43a64480192.168.1.2;rport\r\n\
From: <sip:voi18063@sip.cybercity.dk>;tag=903df0a\r\n\
To: <sip:voi18063@sip.cybercity.dk>\r\n\
Call-ID: 578222729-4665d775@578222732-4665d772\r\n\
Contact:  <sip:voi18063@192.168.1.2:5060;line=9c7d2dbd8822013c>;expires=1200;q=0.500\r\n\
Expires: 1200\r\n\
CSeq: 68 REGISTER\r\n\
Content-Length: 0\r\n\
Max-Forwards: 70\r\n\
User-Agent: Nero SIPPS IP Phone Version 2.0.51.16\r\n\
\r\n";

/// Its answer (frame 2).
const UNAUTHORIZED: &[u8] = b"SIP/2.0 401 Unauthorized\r\n\
Call-ID: 578222729-4665d775@578222732-4665d772\r\n\
CSeq: 68 REGISTER\r\n\
From: <sip:voi18063@sip.cybercity.dk>;tag=903df0a\r\n\
To: <sip:voi18063@sip.cybercity.dk>;tag=00-04075-1701af7e-7a7e8cd56\r\n\
Via: SIP/2.0/UDP 192.168.1.2;received=80.230.84.23;rport=5060;branch=z9hG4bKnp112903503-43a64480192.168.1.2\r\n\
WWW-Authenticate: Digest realm=\"sip.cybercity.dk\",nonce=\"1701b22972b90f440c3e4eb250842bb\",opaque=\"1701a1351f70795\",stale=false,algorithm=MD5\r\n\
Content-Length: 0\r\n\
\r\n";

/// An INVITE with an SDP body (FAX-Call-t38-CA-TDM-SIP-FB-1.pcap, frame
/// 164, shortened).
const INVITE: &[u8] = b"INVITE sip:unavailable@138.132.169.101:5060;transport=udp SIP/2.0\r\n\
Call-ID: SD4909701-9ff11bf72eb4a347c92974d8fbbc2668-ao8o3i1\r\n\
Content-Length: 24\r\n\
Content-Type: application/sdp\r\n\
CSeq: 7 INVITE\r\n\
\r\n\
v=0\r\n\
o=- 754582487 2 I\r\n";

fn udp() -> SipUdpParser {
    SipUdpParser::new(SipConfig::default())
}

fn tcp() -> SipTcpParser {
    SipTcpParser::new(SipConfig::default())
}

fn one(msgs: Vec<L7Message>) -> SipMessage {
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    match msgs.into_iter().next() {
        Some(L7Message::Sip(m)) => *m,
        other => panic!("{other:?}"),
    }
}

fn events_of(next: impl FnMut() -> Option<AppEvent>) -> Vec<&'static str> {
    std::iter::from_fn(next).map(|e| e.event).collect()
}

#[test]
fn requests_and_responses_as_suricata_reads_them() {
    let mut p = udp();
    let m = one(p.parse(REGISTER, FlowSide::Initiator));
    assert_eq!(
        m.kind,
        SipKind::Request {
            method: b"REGISTER"[..].into(),
            uri: b"sip:sip.cybercity.dk"[..].into(),
            version: b"SIP/2.0"[..].into(),
        }
    );
    assert_eq!(&*m.line, b"REGISTER sip:sip.cybercity.dk SIP/2.0");
    let m = one(p.parse(UNAUTHORIZED, FlowSide::Responder));
    assert_eq!(
        m.kind,
        SipKind::Response {
            version: b"SIP/2.0"[..].into(),
            code: b"401"[..].into(),
            reason: b"Unauthorized"[..].into(),
        }
    );
    assert_eq!(&*m.line, b"SIP/2.0 401 Unauthorized");
    let m = one(p.parse(INVITE, FlowSide::Initiator));
    assert!(matches!(&m.kind, SipKind::Request { uri, .. }
        if &**uri == b"sip:unavailable@138.132.169.101:5060;transport=udp"));
    assert!(p.next_event().is_none());
}

/// Suricata reads the initiator's datagrams as requests and the
/// responder's as responses: the other kind is invalid, as are keepalives.
#[test]
fn a_message_against_the_flow_direction_is_invalid() {
    let mut p = udp();
    assert!(p.parse(REGISTER, FlowSide::Responder).is_empty());
    assert!(p.parse(UNAUTHORIZED, FlowSide::Initiator).is_empty());
    assert!(p.parse(b"     ", FlowSide::Initiator).is_empty());
    assert!(p.parse(b"\r\n\r\n", FlowSide::Initiator).is_empty());
    assert_eq!(events_of(|| p.next_event()), ["invalid_data"; 4]);
}

#[test]
fn heads_cut_short_or_with_odd_bytes_are_rejected() {
    let mut p = udp();
    // No empty line.
    let cut = &REGISTER[..REGISTER.len() - 2];
    assert!(p.parse(cut, FlowSide::Initiator).is_empty());
    // A byte outside Suricata's header value class (UTF-8 in a name).
    let odd = b"BYE sip:a@b SIP/2.0\r\nFrom: \"J\xc3\xb6rg\" <sip:j@b>\r\n\r\n";
    assert!(p.parse(odd, FlowSide::Initiator).is_empty());
    // A bare LF ending the request line.
    assert!(
        p.parse(b"BYE sip:a@b SIP/2.0\n\r\n", FlowSide::Initiator)
            .is_empty()
    );
    assert_eq!(
        events_of(|| p.next_event()),
        ["incomplete_data", "invalid_data", "invalid_data"]
    );
}

/// The logged line stops at the first byte outside the reason-phrase
/// class (`~` here), as Suricata's does; the URI keeps it.
#[test]
fn the_logged_line_is_suricatas_prefix() {
    let msg = b"OPTIONS sip:~user@host SIP/2.0\r\nContent-Length: 0\r\n\r\n";
    let m = one(udp().parse(msg, FlowSide::Initiator));
    assert_eq!(&*m.line, b"OPTIONS sip:");
    assert!(matches!(&m.kind, SipKind::Request { uri, .. } if &**uri == b"sip:~user@host"));
}

#[test]
fn continuation_lines_and_blanks_around_the_colon() {
    let msg = b"SIP/2.0 180 Ringing\r\nVia : SIP/2.0/UDP a;\r\n  branch=z\r\nTo:\r\n\r\n";
    let m = one(udp().parse(msg, FlowSide::Responder));
    assert_eq!(&*m.line, b"SIP/2.0 180 Ringing");
}

#[test]
fn caps_reject_long_lines_and_many_headers() {
    let cfg = SipConfig {
        max_line: 64,
        max_headers: 2,
        ..SipConfig::default()
    };
    let mut p = SipUdpParser::new(cfg);
    assert!(p.parse(REGISTER, FlowSide::Initiator).is_empty());
    let msg = b"ACK sip:a@b SIP/2.0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    assert!(p.parse(msg, FlowSide::Initiator).is_empty());
    assert_eq!(
        events_of(|| p.next_event()),
        ["line_too_long", "too_many_headers"]
    );
}

#[test]
fn probe_takes_request_and_status_lines() {
    let side = FlowSide::Initiator;
    assert_eq!(probe(REGISTER, side), Probe::Certain);
    assert_eq!(probe(UNAUTHORIZED, FlowSide::Responder), Probe::Certain);
    assert_eq!(probe(b"REGIS", side), Probe::NeedMore);
    assert_eq!(probe(b"INVITE si", side), Probe::NeedMore);
    assert_eq!(probe(b"INVITE sip:a@b SIP/2", side), Probe::NeedMore);
    assert_eq!(probe(b"SIP/2", side), Probe::NeedMore);
    assert_eq!(probe(b"SIP/2.0 20", side), Probe::NeedMore);
    assert_eq!(probe(b"GET / HTTP/1.1\r\n", side), Probe::No);
    assert_eq!(probe(b"OPTIONS * HTTP/1.1\r\n", side), Probe::No);
    assert_eq!(probe(b"INVITE sip:a@b HTTP/1.1\r\n", side), Probe::No);
    assert_eq!(probe(b"SIP/2.0 abc\r\n", side), Probe::No);
    assert_eq!(probe(b"     ", side), Probe::No);
    assert_eq!(probe(&[b'A'; 40], side), Probe::No);
    assert_eq!(probe(b"", side), Probe::NeedMore);
    assert_eq!(probe(b"\x16\x03\x01\x02\x00\x01", side), Probe::No);
    assert_eq!(probe(b"sip/2.0 200 OK\r\n", side), Probe::No);
}

#[test]
fn tcp_frames_by_content_length_in_any_cut() {
    let mut stream = Vec::new();
    stream.extend_from_slice(INVITE);
    stream.extend_from_slice(REGISTER);
    stream.extend_from_slice(INVITE);
    for cut in 0..stream.len() {
        let mut p = tcp();
        let mut got = p.feed_initiator(&stream[..cut]);
        got.extend(p.feed_initiator(&stream[cut..]));
        let methods: Vec<_> = got
            .into_iter()
            .map(|m| match m {
                L7Message::Sip(m) => match m.kind {
                    SipKind::Request { method, .. } => method,
                    SipKind::Response { .. } => panic!("a response"),
                },
                #[allow(unreachable_patterns)]
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            methods,
            [&b"INVITE"[..], b"REGISTER", b"INVITE"].map(Box::from),
            "cut at {cut}"
        );
        assert!(p.next_event().is_none());
    }
}

#[test]
fn tcp_byte_by_byte_and_both_sides() {
    let mut p = tcp();
    let mut n = 0;
    for b in REGISTER.chunks(1) {
        n += p.feed_initiator(b).len();
    }
    for b in UNAUTHORIZED.chunks(7) {
        n += p.feed_responder(b).len();
    }
    assert_eq!(n, 2);
}

#[test]
fn tcp_stops_a_side_past_its_caps() {
    let cfg = SipConfig {
        max_line: 64,
        max_message: 64,
        ..SipConfig::default()
    };
    let mut p = SipTcpParser::new(cfg);
    // A head that never ends, one byte at a time: buffered up to the cap.
    let mut out = Vec::new();
    out.extend(p.feed_initiator(b"INVITE sip:a@b SIP/2.0\r\n"));
    for _ in 0..200 {
        out.extend(p.feed_initiator(b"X"));
        assert!(p.sides[0].buf.len() <= 64);
    }
    assert!(out.is_empty());
    assert_eq!(events_of(|| p.next_event()), ["message_too_long"]);
    assert_eq!(p.sides[0].stage, Stage::Done);
    // The other side goes on.
    assert_eq!(p.feed_responder(b"SIP/2.0 200 OK\r\n\r\n").len(), 1);
}

#[test]
fn tcp_invalid_content_length_stops_the_side() {
    let mut p = tcp();
    let msg = b"MESSAGE sip:a@b SIP/2.0\r\nl: ten\r\n\r\nhello";
    assert_eq!(p.feed_initiator(msg).len(), 1);
    assert_eq!(events_of(|| p.next_event()), ["invalid_content_length"]);
    assert!(p.feed_initiator(REGISTER).is_empty());
}

/// Arbitrary bytes never panic and stay within the caps.
#[test]
fn arbitrary_bytes_stay_bounded() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = b"SIP/2.0 INVITEsip:@;\r\n: \tContent-Length1l0\x00\xff";
    for _ in 0..2000 {
        let len = (next() % 200) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let mut u = udp();
        let _ = u.parse(&bytes, FlowSide::Initiator);
        let _ = u.parse(&bytes, FlowSide::Responder);
        let mut t = tcp();
        for c in bytes.chunks(1 + (next() % 17) as usize) {
            let _ = t.feed_initiator(c);
            let _ = t.feed_responder(c);
        }
        assert!(t.sides.iter().all(|s| s.buf.len() <= t.cfg.max_message));
        assert!(t.events.len() <= MAX_PENDING_EVENTS);
        let _ = probe(&bytes, FlowSide::Initiator);
    }
}
