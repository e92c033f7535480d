//! Byte-literal tests of the SSH parser: identification forms, lines
//! before the server's, streams cut anywhere, KEXINIT fingerprints (the
//! expected MD5s computed apart, with Python's hashlib) and hostile
//! lengths.

use super::*;
use crate::FlowSide;

const CLIENT_BANNER: &[u8] = b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n";
const SERVER_BANNER: &[u8] = b"SSH-2.0-dropbear_2022.83\r\n";
/// MD5 of `curve25519-sha256,diffie-hellman-group14-sha256;aes128-ctr;hmac-sha2-256;none,zlib`.
const CLIENT_HASSH: &str = "964f5f875090241f67a4ab6f187dbae5";
/// MD5 of `curve25519-sha256,diffie-hellman-group14-sha256;aes256-ctr;hmac-sha1;none`.
const SERVER_HASSH: &str = "ec533e8b63734be039f4747583343cb8";

/// A binary packet: lengths, payload, `padding` zero bytes.
fn packet(payload: &[u8], padding: u8) -> Vec<u8> {
    let len = u32::try_from(payload.len() + 1 + usize::from(padding)).unwrap();
    let mut p = len.to_be_bytes().to_vec();
    p.push(padding);
    p.extend_from_slice(payload);
    p.extend(std::iter::repeat_n(0, usize::from(padding)));
    p
}

/// A KEXINIT packet with the test's name-lists.
fn kexinit() -> Vec<u8> {
    let lists: [&[u8]; 10] = [
        b"curve25519-sha256,diffie-hellman-group14-sha256",
        b"ssh-ed25519",
        b"aes128-ctr",
        b"aes256-ctr",
        b"hmac-sha2-256",
        b"hmac-sha1",
        b"none,zlib",
        b"none",
        b"",
        b"",
    ];
    let mut payload = vec![MSG_KEXINIT];
    payload.extend_from_slice(&[0x5a; 16]);
    for l in lists {
        payload.extend_from_slice(&u32::try_from(l.len()).unwrap().to_be_bytes());
        payload.extend_from_slice(l);
    }
    payload.extend_from_slice(&[0, 0, 0, 0, 0]);
    packet(&payload, 7)
}

fn newkeys() -> Vec<u8> {
    packet(&[MSG_NEWKEYS], 10)
}

/// A KEXDH packet (skipped).
fn kexdh() -> Vec<u8> {
    packet(&[30; 300], 4)
}

/// A whole side: banner, KEXINIT, a key exchange packet, NEWKEYS, then
/// encrypted bytes.
fn stream(banner: &[u8]) -> Vec<u8> {
    let mut s = banner.to_vec();
    s.extend(kexinit());
    s.extend(kexdh());
    s.extend(newkeys());
    s.extend_from_slice(&[0xff; 64]);
    s
}

fn conn(out: &[L7Message]) -> &SshConnection {
    match out {
        [L7Message::Ssh(c)] => c,
        other => panic!("one ssh message expected, got {other:?}"),
    }
}

fn events(p: &mut SshParser) -> Vec<&'static str> {
    std::iter::from_fn(|| p.next_event())
        .map(|e| e.event)
        .collect()
}

fn hash(e: &SshEndpoint) -> String {
    hex(&e.hassh.as_ref().unwrap().md5)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn whole_exchange_gives_one_message_at_the_second_newkeys() {
    let mut p = SshParser::default();
    assert!(p.feed_initiator(&stream(CLIENT_BANNER)).is_empty());
    let out = p.feed_responder(&stream(SERVER_BANNER));
    let c = conn(&out);
    assert_eq!(c.client.proto_version.as_deref(), Some(&b"2.0"[..]));
    assert_eq!(&*c.client.software_version, b"OpenSSH_9.6p1");
    assert_eq!(&*c.server.software_version, b"dropbear_2022.83");
    assert_eq!(hash(&c.client), CLIENT_HASSH);
    assert_eq!(hash(&c.server), SERVER_HASSH);
    assert_eq!(
        &*c.client.hassh.as_ref().unwrap().string,
        b"curve25519-sha256,diffie-hellman-group14-sha256;aes128-ctr;hmac-sha2-256;none,zlib"
    );
    assert!(c.client.newkeys && c.server.newkeys);
    assert!(p.flow_end().is_empty());
    assert!(events(&mut p).is_empty());
}

#[test]
fn every_cut_of_the_streams_gives_the_same_message() {
    let (cs, ss) = (stream(CLIENT_BANNER), stream(SERVER_BANNER));
    let mut whole = SshParser::default();
    whole.feed_initiator(&cs);
    let want = whole.feed_responder(&ss);
    for cut in 1..cs.len().max(ss.len()) {
        let mut p = SshParser::default();
        let mut out = Vec::new();
        let (c0, c1) = cs.split_at(cut.min(cs.len()));
        let (s0, s1) = ss.split_at(cut.min(ss.len()));
        out.extend(p.feed_initiator(c0));
        out.extend(p.feed_responder(s0));
        out.extend(p.feed_initiator(c1));
        out.extend(p.feed_responder(s1));
        out.extend(p.flow_end());
        assert_eq!(out, want, "cut at {cut}");
    }
}

#[test]
fn byte_at_a_time_kexinit() {
    let mut p = SshParser::default();
    for b in stream(CLIENT_BANNER) {
        assert!(p.feed_initiator(&[b]).is_empty());
    }
    let out = p.flow_end();
    let c = conn(&out);
    assert_eq!(hash(&c.client), CLIENT_HASSH);
    assert!(c.server.proto_version.is_none());
}

#[test]
fn banner_forms() {
    let cases: [(&[u8], &[u8], &[u8]); 5] = [
        (b"SSH-2.0-OpenSSH_5.6\r\n", b"2.0", b"OpenSSH_5.6"),
        (b"SSH-1.99-OpenSSH_3.1p1\n", b"1.99", b"OpenSSH_3.1p1"),
        (b"SSH-1.5-1.2.26\n", b"1.5", b"1.2.26"),
        (b"SSH-2.0-\r\n", b"2.0", b""),
        (b"SSH-2.0-Go with comments\r\n", b"2.0", b"Go"),
    ];
    for (line, proto, soft) in cases {
        let mut p = SshParser::default();
        p.feed_responder(line);
        let out = p.flow_end();
        let c = conn(&out);
        assert_eq!(c.server.proto_version.as_deref(), Some(proto), "{line:?}");
        assert_eq!(&*c.server.software_version, soft, "{line:?}");
        assert!(events(&mut p).is_empty());
    }
}

#[test]
fn ssh1_and_hassh_off_stop_after_the_banners() {
    let mut p = SshParser::default();
    p.feed_initiator(b"SSH-1.5-1.2.26\n");
    let out = p.feed_responder(b"SSH-1.5-1.2.26\n");
    assert_eq!(
        conn(&out).client.proto_version.as_deref(),
        Some(&b"1.5"[..])
    );
    let mut p = SshParser::new(SshConfig {
        hassh: false,
        ..SshConfig::default()
    });
    p.feed_initiator(&stream(CLIENT_BANNER)[..CLIENT_BANNER.len()]);
    let out = p.feed_responder(SERVER_BANNER);
    assert!(conn(&out).client.hassh.is_none());
}

#[test]
fn server_lines_before_its_banner_are_skipped() {
    let mut p = SshParser::default();
    let mut s = b"Welcome\r\nto the host\r\n".to_vec();
    s.extend(stream(SERVER_BANNER));
    p.feed_responder(&s);
    let out = p.flow_end();
    assert_eq!(hash(&conn(&out).server), SERVER_HASSH);
    assert!(events(&mut p).is_empty());
}

#[test]
fn too_many_lines_or_a_client_line_is_an_invalid_banner() {
    let mut p = SshParser::default();
    p.feed_responder(&b"x\n".repeat(MAX_PRE_BANNER_LINES as usize + 1));
    assert_eq!(events(&mut p), ["invalid_banner"]);
    // Stopped: a banner after that is not read.
    p.feed_responder(SERVER_BANNER);
    assert!(p.flow_end().is_empty());

    let mut p = SshParser::default();
    p.feed_initiator(b"hello\r\nSSH-2.0-x\r\n");
    assert_eq!(events(&mut p), ["invalid_banner"]);
    assert!(p.flow_end().is_empty());

    let mut p = SshParser::default();
    p.feed_initiator(b"SSH-2.0\r\n");
    assert_eq!(events(&mut p), ["invalid_banner"]);
}

#[test]
fn long_lines_are_reported() {
    // Over 255 bytes: read, and reported.
    let mut line = b"SSH-2.0-".to_vec();
    line.extend(std::iter::repeat_n(b'a', 300));
    line.extend_from_slice(b"\r\n");
    let mut p = SshParser::default();
    p.feed_initiator(&line);
    assert_eq!(events(&mut p), ["long_banner"]);
    assert_eq!(conn(&p.flow_end()).client.software_version.len(), 300);
    // No line end within MAX_LINE: the side stops, nothing held.
    let mut p = SshParser::default();
    for _ in 0..100 {
        p.feed_responder(&[b'S'; 100]);
    }
    assert_eq!(events(&mut p), ["long_banner"]);
    assert!(p.sides[1].buf.capacity() == 0);
    assert!(p.flow_end().is_empty());
}

#[test]
fn hostile_packet_lengths_stop_the_side() {
    let cases: [(&[u8], &str); 4] = [
        // packet_length 4 GiB.
        (&[0xff, 0xff, 0xff, 0xff, 4, 20], "invalid_record"),
        // Padding longer than the packet.
        (&[0, 0, 0, 8, 200, 20], "invalid_record"),
        // No room for the message number.
        (&[0, 0, 0, 1, 0, 20], "invalid_record"),
        // A KEXINIT over the cap.
        (&[0, 1, 0, 0, 4, 20], "long_kex_record"),
    ];
    for (head, event) in cases {
        let mut p = SshParser::default();
        let mut s = CLIENT_BANNER.to_vec();
        s.extend_from_slice(head);
        s.extend_from_slice(&[0; 100]);
        p.feed_initiator(&s);
        assert_eq!(events(&mut p), [event], "{head:?}");
        assert_eq!(p.sides[0].stage, Stage::Done);
        let out = p.flow_end();
        assert_eq!(
            conn(&out).client.proto_version.as_deref(),
            Some(&b"2.0"[..])
        );
    }
}

#[test]
fn a_truncated_kexinit_payload_is_an_invalid_record() {
    // A name-list length past the payload's end.
    let mut payload = vec![MSG_KEXINIT];
    payload.extend_from_slice(&[0; 16]);
    payload.extend_from_slice(&[0, 0, 1, 0, b'a']);
    let mut s = CLIENT_BANNER.to_vec();
    s.extend(packet(&payload, 4));
    let mut p = SshParser::default();
    p.feed_initiator(&s);
    assert_eq!(events(&mut p), ["invalid_record"]);
    assert!(kexinit_hassh(&payload, true).is_none());
    assert!(kexinit_hassh(&[], false).is_none());
}

#[test]
fn a_gap_stops_the_side() {
    let mut p = SshParser::default();
    p.feed_initiator(CLIENT_BANNER);
    p.gap_initiator(100);
    p.feed_initiator(&kexinit());
    let out = p.flow_end();
    assert!(conn(&out).client.hassh.is_none());
}

#[test]
fn probe_needs_ssh_dash_at_the_start() {
    for side in [FlowSide::Initiator, FlowSide::Responder] {
        assert_eq!(probe(b"SSH-2.0-x", side), Probe::Certain);
        assert_eq!(probe(b"SSH-", side), Probe::Certain);
        assert_eq!(probe(b"SS", side), Probe::NeedMore);
        assert_eq!(probe(b"", side), Probe::NeedMore);
        assert_eq!(probe(b"GET / HTTP/1.1", side), Probe::No);
        assert_eq!(probe(b"SSH2", side), Probe::No);
    }
}

proptest::proptest! {
    /// The two streams cut into pieces of any sizes, the sides' pieces
    /// interleaved in any order, give the same message.
    #[test]
    fn pieces_interleaved_anyhow_give_the_same_message(
        sizes in proptest::collection::vec(1usize..200, 1..40),
        order in proptest::collection::vec(proptest::prelude::any::<bool>(), 1..80),
    ) {
        let streams = [stream(CLIENT_BANNER), stream(SERVER_BANNER)];
        let mut whole = SshParser::default();
        whole.feed_initiator(&streams[0]);
        let want = whole.feed_responder(&streams[1]);
        let mut p = SshParser::default();
        let mut got = Vec::new();
        let mut at = [0usize; 2];
        let mut size = sizes.iter().cycle();
        let mut side = order.iter().cycle();
        while at[0] < streams[0].len() || at[1] < streams[1].len() {
            let k = usize::from(*side.next().unwrap_or(&false));
            let k = if at[k] < streams[k].len() { k } else { 1 - k };
            let end = (at[k] + size.next().copied().unwrap_or(1)).min(streams[k].len());
            let piece = &streams[k][at[k]..end];
            at[k] = end;
            got.extend(if k == 0 { p.feed_initiator(piece) } else { p.feed_responder(piece) });
        }
        got.extend(p.flow_end());
        proptest::prop_assert_eq!(got, want);
    }

    /// Arbitrary bytes, at the start or after identification lines (so the
    /// packet layer reads them), never panic and never grow the buffers
    /// past their caps.
    #[test]
    fn arbitrary_bytes_stay_bounded(
        a in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000),
        b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000),
        banners in proptest::prelude::any::<bool>(),
    ) {
        let mut p = SshParser::default();
        if banners {
            p.feed_initiator(CLIENT_BANNER);
            p.feed_responder(SERVER_BANNER);
        }
        p.feed_initiator(&a);
        p.feed_responder(&b);
        p.feed_initiator(&b);
        for s in &p.sides {
            proptest::prop_assert!(s.buf.len() <= MAX_KEXINIT);
        }
        let _ = p.flow_end();
        proptest::prop_assert!(std::iter::from_fn(|| p.next_event()).count() <= 8);
    }
}
