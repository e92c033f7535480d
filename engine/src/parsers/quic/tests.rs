use super::*;
use crate::testutil::unhex;

/// The handshake of a QUIC record (every message QUIC reports is one).
fn handshake(m: &L7Message) -> &TlsHandshake {
    match m {
        L7Message::Tls(hs) => hs,
        #[allow(unreachable_patterns)]
        other => panic!("not TLS: {other:?}"),
    }
}

/// RFC 9001 Appendix A.1: the client's Initial keys for DCID
/// 0x8394c8f03e515708.
#[test]
fn rfc9001_initial_keys() {
    let dcid = unhex("8394c8f03e515708");
    let p = version_params(1).unwrap();
    let initial = hmac_sha256(&p.salt, &[&dcid]);
    assert_eq!(
        initial[..].to_vec(),
        unhex("7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44")
    );
    // RFC 9001 A.1: each side's secret, key, iv and header-protection key.
    for (label, secret, key, iv, hp) in [
        (
            "client in",
            "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
            "1f369613dd76d5467730efcbe3b1a22d",
            "fa044b2f42a3fd3b46fb255c",
            "9f50449e04a0e810283a1e9933adedd2",
        ),
        (
            "server in",
            "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
            "cf3a5331653c364c88f0f379b6067e37",
            "0ac1493ca1905853b0bba03e",
            "c206b8d9b9f0f37644430b490eeaa314",
        ),
    ] {
        let side = expand_label(&initial, label, 32);
        assert_eq!(side, unhex(secret), "{label}");
        assert_eq!(expand_label(&side, "quic key", 16), unhex(key), "{label}");
        assert_eq!(expand_label(&side, "quic iv", 12), unhex(iv), "{label}");
        assert_eq!(expand_label(&side, "quic hp", 16), unhex(hp), "{label}");
    }
    // RFC 9001 A.2's sample → header-protection mask.
    let keys = initial_keys(&p, &dcid, 0).unwrap();
    let sample: [u8; 16] = unhex("d1b1c98dd7689fb8ec11d242b123dc9b")
        .try_into()
        .unwrap();
    let mut mask = aes::Block::from(sample);
    keys.hp.encrypt_block(&mut mask);
    assert_eq!(mask[..5].to_vec(), unhex("437b9aec36"));
}

/// A ClientHello with SNI and ALPN, as the CRYPTO stream carries it.
fn hello() -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[1; 32]);
    body.push(0);
    body.extend_from_slice(&[0, 2, 0x13, 0x01, 1, 0]);
    let mut exts = Vec::new();
    let sni = b"\x00\x0e\x00\x00\x0bexample.com";
    exts.extend_from_slice(&[0, 0, 0, sni.len() as u8]);
    exts.extend_from_slice(sni);
    exts.extend_from_slice(&[0, 16, 0, 5, 0, 3, 2, b'h', b'3']);
    exts.extend_from_slice(&[0, 43, 0, 3, 2, 3, 4]);
    exts.extend_from_slice(&[0, 57, 0, 0]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend(exts);
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend(body);
    hs
}

/// Builds a protected client Initial (v1) carrying `frames`, padded to
/// 1200 bytes, as a client would.
fn initial(dcid: &[u8], pn: u8, frames: &[u8]) -> Vec<u8> {
    initial_of(0, dcid, pn, frames)
}

/// The same from side `k` (1: the server's, with the server's keys of the
/// client's `dcid`).
fn initial_of(k: usize, dcid: &[u8], pn: u8, frames: &[u8]) -> Vec<u8> {
    let keys = initial_keys(&version_params(1).unwrap(), dcid, k).unwrap();
    let mut payload = frames.to_vec();
    let mut hdr = vec![0xc0, 0, 0, 0, 1, dcid.len() as u8];
    hdr.extend_from_slice(dcid);
    hdr.extend_from_slice(&[0, 0]); // no SCID, no token
    let total = 1200;
    let len = total - hdr.len() - 2; // two-byte length field
    payload.resize(len - 1 - TAG, 0); // PADDING frames
    hdr.extend_from_slice(&(0x4000u16 | len as u16).to_be_bytes());
    let pn_offset = hdr.len();
    hdr.push(pn);
    let mut nonce = keys.iv;
    nonce[11] ^= pn;
    let tag = keys
        .aead
        .encrypt_inout_detached(&nonce.into(), &hdr, payload.as_mut_slice().into())
        .unwrap();
    let mut pkt = hdr;
    pkt.extend(payload);
    pkt.extend_from_slice(&tag);
    let sample: [u8; 16] = pkt[pn_offset + 4..pn_offset + 20].try_into().unwrap();
    let mut mask = aes::Block::from(sample);
    keys.hp.encrypt_block(&mut mask);
    pkt[0] ^= mask[0] & 0x0f;
    pkt[pn_offset] ^= mask[1];
    pkt
}

fn crypto(off: u64, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x06, 0x40 | (off >> 8) as u8, off as u8];
    f.extend_from_slice(&[0x40 | (data.len() >> 8) as u8, data.len() as u8]);
    f.extend_from_slice(data);
    f
}

#[test]
fn client_hello_across_two_initials_in_any_order() {
    let dcid = [7u8; 8];
    let ch = hello();
    let (a, b) = ch.split_at(40);
    let first = initial(&dcid, 0, &crypto(0, a));
    let second = initial(&dcid, 1, &[&[0x01][..], &crypto(40, b)].concat());
    assert_eq!(probe(&first, FlowSide::Initiator), Probe::Certain);
    assert_eq!(probe(&first, FlowSide::Responder), Probe::No);
    for order in [[&first, &second], [&second, &first]] {
        let mut p = QuicParser::default();
        let mut out = p.parse(order[0], FlowSide::Initiator);
        out.extend(p.parse(order[1], FlowSide::Initiator));
        assert_eq!(out.len(), 1, "{p:?}");
        let hs = handshake(&out[0]);
        assert_eq!(hs.quic_version, Some(1));
        let c = hs.client_hello.as_ref().unwrap();
        assert_eq!(c.sni.as_deref(), Some(&b"example.com"[..]));
        assert!(hs.ja4.as_ref().unwrap().starts_with("q13d0104h3_"));
        assert_eq!(p.bad_packets(), 0);
    }
}

#[test]
fn damaged_initials_are_skipped() {
    let dcid = [9u8; 8];
    let mut pkt = initial(&dcid, 0, &crypto(0, &hello()));
    let last = pkt.len() - 1;
    pkt[last] ^= 1; // tag no longer verifies
    let mut p = QuicParser::default();
    assert!(p.parse(&pkt, FlowSide::Initiator).is_empty());
    assert_eq!(p.bad_packets(), 1);
    // The flow was taken for QUIC: it still gets its record, the version.
    let end = p.flow_end();
    assert_eq!(end.len(), 1);
    let hs = handshake(&end[0]);
    assert_eq!(hs.quic_version, Some(1));
    assert!(hs.client_hello.is_none());
    assert!(p.flow_end().is_empty(), "one record per flow");
    // A flow whose hello was reported adds nothing at its end.
    let mut p = QuicParser::default();
    let whole = initial(&dcid, 0, &crypto(0, &hello()));
    assert_eq!(p.parse(&whole, FlowSide::Initiator).len(), 1);
    assert!(p.flow_end().is_empty());
    for n in [0, 1, 5, 30, 1199] {
        let mut q = QuicParser::default();
        q.parse(&pkt[..n], FlowSide::Initiator);
    }
}

proptest::proptest! {
    #[test]
    fn no_panic_on_arbitrary_datagrams(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1400)) {
        let mut p = QuicParser::default();
        let mut d = b.clone();
        if d.len() > 5 {
            d[0] = 0xc0;
            d[1..5].copy_from_slice(&[0, 0, 0, 1]);
        }
        p.parse(&d, FlowSide::Initiator);
        p.parse(&b, FlowSide::Initiator);
    }
}

#[test]
fn versions_are_named_as_suricata_names_them() {
    for (v, name) in [
        (1, "1"),
        (0x6b33_43cf, "v2"),
        (0xff00_001d, "ff00001d"),
        (0xface_b001, "faceb001"),
        (0x5130_3436, "Q046"),
        (0x5430_3530, "54303530"),
    ] {
        assert_eq!(version_name(v), name, "{v:#x}");
    }
}

/// A TLS 1.3 ServerHello (supported_versions, key_share), as the server's
/// CRYPTO stream carries it.
fn server_hello() -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[2; 32]);
    body.push(0);
    body.extend_from_slice(&[0x13, 0x01, 0]);
    let mut exts = vec![0, 43, 0, 2, 3, 4, 0, 51, 0, 36, 0, 0x1d, 0, 32];
    exts.extend_from_slice(&[9; 32]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend(exts);
    let mut hs = vec![2];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend(body);
    hs
}

#[test]
fn the_servers_hello_gets_a_record_of_its_own() {
    let dcid = [5u8; 8];
    let mut p = QuicParser::default();
    // Before the client's Initial the server's keys are unknown.
    let sh = server_hello();
    let server = initial_of(
        1,
        &dcid,
        0,
        &[&[0x02, 0, 0, 0, 0][..], &crypto(0, &sh)].concat(),
    );
    assert!(p.parse(&server, FlowSide::Responder).is_empty());
    let mut p = QuicParser::default();
    let client = p.parse(
        &initial(&dcid, 0, &crypto(0, &hello())),
        FlowSide::Initiator,
    );
    assert_eq!(client.len(), 1);
    let out = p.parse(&server, FlowSide::Responder);
    assert_eq!(out.len(), 1, "{p:?}");
    let hs = handshake(&out[0]);
    assert_eq!(hs.quic_version, Some(1));
    assert!(hs.client_hello.is_none());
    assert_eq!(hs.server_hello.as_ref().unwrap().extensions, [43, 51]);
    assert_eq!(hs.ja3s.as_ref().unwrap().string, "771,4865,43-51");
    // Once reported, the server's further Initials are not read.
    assert!(p.parse(&server, FlowSide::Responder).is_empty());
    assert!(p.flow_end().is_empty());
}

#[test]
fn after_a_retry_the_server_uses_the_new_connection_ids_keys() {
    let (first, second) = ([5u8; 8], [6u8; 8]);
    let mut p = QuicParser::default();
    assert_eq!(
        p.parse(
            &initial(&first, 0, &crypto(0, &hello())),
            FlowSide::Initiator
        )
        .len(),
        1
    );
    // Without a Retry a client Initial to another id (the server's, once
    // it answered) keeps the keys; a Retry makes the next one's count.
    let mut retry = vec![0xf0, 0, 0, 0, 1, 0, 8];
    retry.extend_from_slice(&second);
    retry.extend_from_slice(b"token");
    retry.extend_from_slice(&[0; 16]);
    assert!(p.parse(&retry, FlowSide::Responder).is_empty());
    // The client's Initial after a Retry: the new id, the hello again.
    assert!(
        p.parse(
            &initial(&second, 1, &crypto(0, &hello())),
            FlowSide::Initiator
        )
        .is_empty()
    );
    let server = initial_of(1, &second, 0, &crypto(0, &server_hello()));
    let out = p.parse(&server, FlowSide::Responder);
    assert_eq!(out.len(), 1, "{p:?}");
    assert_eq!(p.bad_packets(), 0);
}

#[test]
fn a_client_initial_to_the_servers_id_keeps_the_keys() {
    let (first, servers) = ([5u8; 8], [9u8; 8]);
    let mut p = QuicParser::default();
    p.parse(
        &initial(&first, 0, &crypto(0, &hello())),
        FlowSide::Initiator,
    );
    // An ACK-only client Initial to the id the server chose.
    p.parse(&initial(&servers, 1, &[0x01]), FlowSide::Initiator);
    let server = initial_of(1, &first, 0, &crypto(0, &server_hello()));
    assert_eq!(p.parse(&server, FlowSide::Responder).len(), 1, "{p:?}");
}

#[test]
fn mid_connection_flows_are_taken_by_their_first_datagram_shape() {
    let side = FlowSide::Initiator;
    // An IETF short header: form bit clear, fixed bit set.
    let mut short = vec![0x41u8];
    short.extend_from_slice(&[0xa5; 40]);
    assert_eq!(probe_mid_connection(&short, side), Probe::Certain);
    assert_eq!(probe_mid_connection(&short[..20], side), Probe::No);
    // Google QUIC after the handshake (ndpi/pcap/quic.pcap): public flags
    // 0x0c, an 8-byte connection id, a packet number, the hash.
    let google = [
        0x0c, 0xa3, 0x36, 0xac, 0xa5, 0xc0, 0x11, 0xde, 0xf0, 0x22, 0xdd, 0xea, 0x0a, 0xae, 0x66,
        0xdd, 0x36, 0xaf, 0xa4, 0x0b, 0x13, 0x0d, 0xb0, 0x2c, 0x14, 0x6c, 0x66, 0x42,
    ];
    assert_eq!(probe_mid_connection(&google, side), Probe::Certain);
    // With the version flag it is a handshake packet, not this probe's.
    let mut versioned = google;
    versioned[0] = 0x0d;
    assert_eq!(probe_mid_connection(&versioned, side), Probe::No);
    // Long headers, DTLS records, STUN, DNS: not taken.
    let mut long = short.clone();
    long[0] = 0xc3;
    assert_eq!(probe_mid_connection(&long, side), Probe::No);
    let mut dtls = vec![0x17, 0xfe, 0xfd];
    dtls.extend_from_slice(&[0x41; 40]);
    assert_eq!(probe_mid_connection(&dtls, side), Probe::No);
    let mut stun = vec![0x40, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
    stun.extend_from_slice(&[0; 30]);
    assert_eq!(probe_mid_connection(&stun, side), Probe::No);
    assert_eq!(probe_mid_connection(&[], side), Probe::NeedMore);
}

#[cfg(feature = "dns")]
#[test]
fn mid_connection_probe_leaves_dns_alone() {
    // A DNS query whose id starts with 0x4f: a short header's first bits.
    let query = [
        0x4f, 0x12, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, b'e', b'x',
        b'a', b'm', b'p', b'l', b'e', 0x03, b'c', b'o', b'm', 0x00, 0x00, 0x01, 0x00, 0x01,
    ];
    assert_eq!(probe_mid_connection(&query, FlowSide::Initiator), Probe::No);
}
