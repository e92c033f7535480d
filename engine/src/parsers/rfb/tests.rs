use super::*;

fn one(msgs: Vec<L7Message>) -> RfbHandshake {
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    match msgs.into_iter().next() {
        Some(L7Message::Rfb(h)) => *h,
        #[allow(unreachable_patterns)]
        other => panic!("{other:?}"),
    }
}

fn v(major: &[u8], minor: &[u8]) -> Option<RfbVersion> {
    Some(RfbVersion {
        major: major.into(),
        minor: minor.into(),
    })
}

fn events(p: &mut RfbParser) -> Vec<&'static str> {
    std::iter::from_fn(|| p.next_event())
        .map(|e| e.event)
        .collect()
}

/// The corpus's vnc.pcap (frames 4 to 7): RealVNC 4.1, the client picks
/// type 13, which Suricata does not follow.
#[test]
fn an_unimplemented_security_type_ends_the_handshake() {
    let mut p = RfbParser::default();
    assert!(p.feed_responder(b"RFB 004.001\n").is_empty());
    assert!(p.feed_initiator(b"RFB 004.001\n").is_empty());
    assert!(
        p.feed_responder(&[0x07, 0x0d, 0x85, 0x05, 0x81, 0x06, 0x82, 0x02])
            .is_empty()
    );
    let h = one(p.feed_initiator(&[0x0d]));
    assert_eq!(h.server_version, v(b"004", b"001"));
    assert_eq!(h.client_version, v(b"004", b"001"));
    assert_eq!(h.security_type, Some(13));
    assert_eq!(h.framebuffer, None);
    assert_eq!(events(&mut p), ["unimplemented_security_type"]);
    assert!(p.flow_end().is_empty());
}

/// A whole 3.8 handshake with VNC authentication.
fn vnc_auth_38() -> (Vec<u8>, Vec<u8>) {
    let mut server = b"RFB 003.008\n".to_vec();
    server.extend_from_slice(&[2, 1, 2]);
    server.extend_from_slice(&[0xaa; 16]);
    server.extend_from_slice(&0u32.to_be_bytes());
    server.extend_from_slice(&1024u16.to_be_bytes());
    server.extend_from_slice(&768u16.to_be_bytes());
    server.extend_from_slice(&[32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
    server.extend_from_slice(&4u32.to_be_bytes());
    server.extend_from_slice(b"desk");
    let mut client = b"RFB 003.008\n".to_vec();
    client.push(2);
    client.extend_from_slice(&[0x55; 16]);
    client.push(1);
    (client, server)
}

#[test]
fn vnc_authentication_to_server_init() {
    let (client, server) = vnc_auth_38();
    // Each side's messages in the order they travel.
    let order: [(usize, std::ops::Range<usize>); 8] = [
        (1, 0..12),
        (0, 0..12),
        (1, 12..15),
        (0, 12..13),
        (1, 15..31),
        (0, 13..29),
        (1, 31..35),
        (0, 29..30),
    ];
    let mut p = RfbParser::default();
    for (side, r) in order {
        let got = if side == 0 {
            p.feed_initiator(&client[r])
        } else {
            p.feed_responder(&server[r])
        };
        assert!(got.is_empty());
    }
    let h = one(p.feed_responder(&server[35..]));
    assert_eq!(h.security_type, Some(2));
    assert_eq!(h.vnc_challenge, Some([0xaa; 16]));
    assert_eq!(h.vnc_response, Some([0x55; 16]));
    assert_eq!(h.security_result, Some(0));
    assert_eq!(h.shared, Some(true));
    let fb = h.framebuffer.unwrap();
    assert_eq!((fb.width, fb.height, &*fb.name), (1024, 768, &b"desk"[..]));
    assert_eq!(fb.pixel_format.bits_per_pixel, 32);
    assert_eq!(fb.pixel_format.depth, 24);
    assert!(fb.pixel_format.true_color && !fb.pixel_format.big_endian);
    assert_eq!(fb.pixel_format.red_max, 255);
    assert_eq!(fb.pixel_format.red_shift, 16);
    assert!(events(&mut p).is_empty());
}

/// Whole streams fed at once, or byte by byte with the sides interleaved
/// anyhow, give the same handshake.
#[test]
fn any_cut_gives_the_same_handshake() {
    let (client, server) = vnc_auth_38();
    let mut whole = RfbParser::default();
    let mut got = whole.feed_responder(&server);
    got.extend(whole.feed_initiator(&client));
    got.extend(whole.flow_end());
    let want = one(got);
    assert!(want.framebuffer.is_some());
    for step in 1..8 {
        let mut p = RfbParser::default();
        let mut got = Vec::new();
        let (mut c, mut s) = (&client[..], &server[..]);
        while !c.is_empty() || !s.is_empty() {
            let n = step.min(s.len());
            got.extend(p.feed_responder(&s[..n]));
            s = &s[n..];
            let n = (step + 1).min(c.len());
            got.extend(p.feed_initiator(&c[..n]));
            c = &c[n..];
        }
        got.extend(p.flow_end());
        assert_eq!(one(got), want, "step {step}");
    }
}

#[test]
fn version_33_has_the_server_pick_the_type() {
    let mut p = RfbParser::default();
    assert!(p.feed_responder(b"RFB 003.003\n").is_empty());
    assert!(p.feed_initiator(b"RFB 003.003\n").is_empty());
    // None: straight to ClientInit, no SecurityResult in 3.3.
    assert!(p.feed_responder(&1u32.to_be_bytes()).is_empty());
    assert!(p.feed_initiator(&[0]).is_empty());
    let mut init = vec![0, 8, 0, 6];
    init.extend_from_slice(&[8; 16]);
    init.extend_from_slice(&0u32.to_be_bytes());
    let h = one(p.feed_responder(&init));
    assert_eq!(h.security_type, Some(1));
    assert_eq!(h.shared, Some(false));
    assert_eq!(h.security_result, None);
    assert_eq!(h.framebuffer.unwrap().name.len(), 0);
}

#[test]
fn a_failed_authentication_is_reported_at_once() {
    let (client, server) = vnc_auth_38();
    let mut p = RfbParser::default();
    let mut server = server[..31].to_vec();
    server.extend_from_slice(&1u32.to_be_bytes());
    assert!(p.feed_responder(&server).is_empty());
    let h = one(p.feed_initiator(&client[..29]));
    assert_eq!(h.security_result, Some(1));
    assert!(h.framebuffer.is_none());
}

#[test]
fn caps_and_malformed_bytes_stop_the_handshake() {
    let mut p = RfbParser::default();
    assert!(p.feed_responder(b"RFB 003.008\r").is_empty());
    assert_eq!(events(&mut p), ["malformed_message"]);
    let mut p = RfbParser::default();
    assert!(p.feed_responder(b"RFB 003.008\n").is_empty());
    // The client's bytes pile up while the server's wait: capped.
    let got = p.feed_initiator(&vec![b'x'; MAX_PENDING + 10]);
    assert_eq!(one(got).client_version, None);
    assert_eq!(events(&mut p), ["malformed_message"]);
    // A desktop name over the cap.
    let (client, server) = vnc_auth_38();
    let mut p = RfbParser::default();
    let mut server = server[..35].to_vec();
    server.extend_from_slice(&[0; 20]);
    server.extend_from_slice(&u32::MAX.to_be_bytes());
    assert!(p.feed_responder(&server).is_empty());
    let h = one(p.feed_initiator(&client));
    assert!(h.framebuffer.is_none());
    assert_eq!(events(&mut p), ["malformed_message"]);
}

#[test]
fn probe_wants_the_version_line() {
    let side = FlowSide::Responder;
    assert_eq!(probe(b"RFB 003.008\n", side), Probe::Certain);
    assert_eq!(probe(b"RFB 004.", side), Probe::Certain);
    assert_eq!(probe(b"RFB 00", side), Probe::NeedMore);
    assert_eq!(probe(b"RF", side), Probe::NeedMore);
    assert_eq!(probe(b"RFB x", side), Probe::No);
    assert_eq!(probe(b"SSH-2.0", side), Probe::No);
}

/// Arbitrary bytes never panic and stay within the caps.
#[test]
fn arbitrary_bytes_stay_bounded() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (client, server) = vnc_auth_38();
    for _ in 0..2000 {
        let mut c = client.clone();
        let mut s = server.clone();
        for _ in 0..(next() % 4) {
            let i = (next() % c.len() as u64) as usize;
            c[i] = next() as u8;
            let i = (next() % s.len() as u64) as usize;
            s[i] = next() as u8;
        }
        let mut p = RfbParser::default();
        let step = 1 + (next() % 9) as usize;
        for (a, b) in s.chunks(step).zip(c.chunks(step)) {
            let _ = p.feed_responder(a);
            let _ = p.feed_initiator(b);
        }
        let _ = p.flow_end();
        assert!(p.pending.iter().all(|b| b.len() <= MAX_PENDING));
        assert!(p.events.len() <= 8);
    }
}
