use super::*;
use crate::parsers::fingerprint::{ja3, ja4};
use crate::parsers::hello::{HRR_RANDOM, parse_client_hello, parse_server_hello};
use crate::session::Probe;
use crate::testutil::unhex;
use proptest::prelude::*;

/// A self-signed P-256 certificate made with `openssl req -x509` for these
/// tests: CN test.example, SAN test.example and www.test.example, serial
/// 0x0a1b2c, valid 2026-11-26T09:53:34 to 2036-11-23T09:53:34.
const CERT_DER_HEX: &str = concat!(
    "308201ea3082018fa00302010202030a1b2c300a06082a8648ce3d040302303d310b3009060355040613025553311730",
    "15060355040a0c0e466c6f7773636f706520546573743115301306035504030c0c746573742e6578616d706c65301e17",
    "0d3236313132363039353333345a170d3336313132333039353333345a303d310b300906035504061302555331173015",
    "060355040a0c0e466c6f7773636f706520546573743115301306035504030c0c746573742e6578616d706c6530593013",
    "06072a8648ce3d020106082a8648ce3d030107034200047b6f8b95c05c7b633c09b466a80689a649edeb2f1262e96ab7",
    "e112479afd39e7bb112d43efbcb1e33bea845560f4e931e9056150488b2c477183df32e73446b9a37e307c301d060355",
    "1d0e04160414f4c3a3d2dcfd21564428fed154015c77401c3df7301f0603551d23041830168014f4c3a3d2dcfd215644",
    "28fed154015c77401c3df7300f0603551d130101ff040530030101ff30290603551d1104223020820c746573742e6578",
    "616d706c6582107777772e746573742e6578616d706c65300a06082a8648ce3d0403020349003046022100a682ab9347",
    "34ccdea009773ef4b3606533ccabf1d1030fca4e2f5ddc4e0415b0022100bc5d6c2acdfe078bc574eb917d4b969508c5",
    "d829b6c4158b6995289c41a2e92c",
);

fn ext(ty: u16, data: &[u8]) -> Vec<u8> {
    let mut v = ty.to_be_bytes().to_vec();
    v.extend_from_slice(&(data.len() as u16).to_be_bytes());
    v.extend_from_slice(data);
    v
}

fn vec16(items: &[u8]) -> Vec<u8> {
    let mut v = (items.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(items);
    v
}

fn u16s(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

fn handshake(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ty];
    v.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    v.extend_from_slice(body);
    v
}

fn record(ct: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ct, 3, 1];
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A TLS 1.3-capable ClientHello with GREASE and every extension the
/// parser reads.
fn client_hello_body() -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[7; 32]);
    b.push(4);
    b.extend_from_slice(&[1, 2, 3, 4]);
    b.extend(vec16(&u16s(&[0x0a0a, 0x1301, 0x1302, 0xc02f])));
    b.extend_from_slice(&[1, 0]);
    let mut exts = Vec::new();
    exts.extend(ext(0x1a1a, &[]));
    let mut sni = vec![0];
    sni.extend(vec16(b"example.org"));
    exts.extend(ext(0, &vec16(&sni)));
    exts.extend(ext(10, &vec16(&u16s(&[0x2a2a, 29, 23]))));
    exts.extend(ext(11, &[1, 0]));
    exts.extend(ext(13, &vec16(&u16s(&[0x0403, 0x0804]))));
    exts.extend(ext(16, &vec16(b"\x02h2\x08http/1.1")));
    exts.extend(ext(43, &[4, 0x3a, 0x3a, 3, 4]));
    exts.extend(ext(45, &[1, 1]));
    let mut ks = u16s(&[29]);
    ks.extend(vec16(&[9; 32]));
    exts.extend(ext(51, &vec16(&ks)));
    exts.extend(ext(0xfe0d, &[0]));
    b.extend(vec16(&exts));
    b
}

fn server_hello_body(version_ext: Option<u16>, random: [u8; 32]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&random);
    b.push(0);
    b.extend_from_slice(&0xc02fu16.to_be_bytes());
    b.push(0);
    let mut exts = ext(0xff01, &[0]);
    exts.extend(ext(16, &vec16(b"\x02h2")));
    if let Some(v) = version_ext {
        exts.extend(ext(43, &v.to_be_bytes()));
    }
    exts.extend(ext(11, &[1, 0]));
    b.extend(vec16(&exts));
    b
}

fn certificate_body() -> Vec<u8> {
    let der = unhex(CERT_DER_HEX);
    let mut entry = (der.len() as u32).to_be_bytes()[1..].to_vec();
    entry.extend_from_slice(&der);
    let mut b = (entry.len() as u32).to_be_bytes()[1..].to_vec();
    b.extend(entry);
    b
}

fn tls12_streams() -> (Vec<u8>, Vec<u8>) {
    let client = record(22, &handshake(1, &client_hello_body()));
    let mut server = record(22, &handshake(2, &server_hello_body(None, [5; 32])));
    server.extend(record(22, &handshake(11, &certificate_body())));
    server.extend(record(22, &handshake(14, &[])));
    server.extend(record(20, &[1]));
    server.extend(record(22, &[0x55; 40])); // encrypted Finished
    (client, server)
}

fn one(msgs: Vec<L7Message>) -> TlsHandshake {
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    match msgs.into_iter().next() {
        Some(L7Message::Tls(h)) => *h,
        other => panic!("not TLS: {other:?}"),
    }
}

#[test]
fn client_hello_fields() {
    let ch = parse_client_hello(&client_hello_body()).unwrap();
    assert_eq!(ch.version, 0x0303);
    assert_eq!(&*ch.session_id, &[1, 2, 3, 4]);
    assert_eq!(ch.ciphers, [0x0a0a, 0x1301, 0x1302, 0xc02f]);
    assert_eq!(ch.compression, [0]);
    assert_eq!(
        ch.extensions,
        [0x1a1a, 0, 10, 11, 13, 16, 43, 45, 51, 0xfe0d]
    );
    assert_eq!(ch.sni.as_deref(), Some(&b"example.org"[..]));
    assert_eq!(ch.alpn, vec![b"h2"[..].into(), b"http/1.1"[..].into()]);
    assert_eq!(ch.supported_versions, [0x3a3a, 0x0304]);
    assert_eq!(ch.groups, [0x2a2a, 29, 23]);
    assert_eq!(ch.ec_point_formats, [0]);
    assert_eq!(ch.signature_algorithms, [0x0403, 0x0804]);
    assert_eq!(ch.key_share_groups, [29]);
    assert_eq!(ch.psk_modes, [1]);
    assert!(ch.ech && !ch.sslv2);
    let j = ja3(&ch);
    assert_eq!(
        j.string,
        "771,4865-4866-49199,0-10-11-13-16-43-45-51-65037,29-23,0"
    );
    assert!(ja4(&ch).starts_with("t13d0309h2_"));
}

#[test]
fn tls12_handshake_with_certificate() {
    let (client, server) = tls12_streams();
    let mut p = TlsParser::default();
    assert!(p.feed_initiator(&client).is_empty());
    let hs = one(p.feed_responder(&server));
    assert_eq!(hs.stop, TlsStop::Encrypted);
    assert_eq!(hs.version(), Some(0x0303));
    assert_eq!(version_name(0x0303), "TLS 1.2");
    let sh = hs.server_hello.as_ref().unwrap();
    assert_eq!((sh.cipher, sh.alpn.as_deref()), (0xc02f, Some(&b"h2"[..])));
    assert_eq!(hs.ja3s.as_ref().unwrap().string, "771,49199,65281-16-11");
    let c = &hs.certificates[0];
    assert_eq!(c.subject, "C=US, O=Flowscope Test, CN=test.example");
    assert_eq!(c.issuer, c.subject);
    assert_eq!(c.serial, "0A:1B:2C");
    assert_eq!((c.not_before, c.not_after), (1795686814, 2111046814));
    assert_eq!(c.san, ["test.example", "www.test.example"]);
    assert_eq!(
        c.fingerprint,
        "2d:d5:b1:34:14:c5:5c:5a:e5:fb:9e:71:f0:27:d6:7c:e8:b7:b9:75"
    );
    assert!(p.flow_end().is_empty(), "reported once");
}

#[test]
fn a_certificate_seen_again_decodes_the_same_from_the_cache() {
    // Flows of one thread share the cache: the second handshake's
    // certificate is the first's, with or without the chain kept.
    let (client, server) = tls12_streams();
    let want = certificate(&unhex(CERT_DER_HEX)).unwrap();
    crate::parsers::builtin::<crate::key::FiveTupleKey>(
        &crate::reassembly::ReassemblyConfig::default(),
        &crate::parsers::ParsersConfig::default(),
    );
    assert_eq!(
        cert::certificates_remembered(),
        0,
        "a new parser set starts cold"
    );
    for chain in [false, true, false] {
        let mut p = TlsParser::new(TlsConfig {
            chain,
            ..TlsConfig::default()
        });
        assert!(p.feed_initiator(&client).is_empty());
        let hs = one(p.feed_responder(&server));
        let c = &hs.certificates[0];
        assert_eq!(c.der.is_empty(), !chain);
        assert_eq!(
            Certificate {
                der: Box::default(),
                ..c.clone()
            },
            want
        );
        assert_eq!(cert::certificates_remembered(), 1);
    }
}

#[test]
fn client_hello_split_over_records_and_segments() {
    let hello = handshake(1, &client_hello_body());
    // Two records, the second cut across three segments.
    let mut stream = record(22, &hello[..10]);
    stream.extend(record(22, &hello[10..]));
    let mut p = TlsParser::default();
    for piece in [&stream[..3], &stream[3..20], &stream[20..]] {
        assert!(p.feed_initiator(piece).is_empty());
    }
    let hs = one(p.flow_end());
    assert_eq!(hs.stop, TlsStop::FlowEnd);
    assert_eq!(
        hs.client_hello.unwrap().sni.as_deref(),
        Some(&b"example.org"[..])
    );
}

#[test]
fn tls13_stops_after_server_hello_and_hrr_is_noted() {
    let mut client = record(22, &handshake(1, &client_hello_body()));
    client.extend(record(22, &handshake(1, &client_hello_body())));
    let mut server = record(
        22,
        &handshake(2, &server_hello_body(Some(0x0304), HRR_RANDOM)),
    );
    server.extend(record(
        22,
        &handshake(2, &server_hello_body(Some(0x0304), [6; 32])),
    ));
    server.extend(record(20, &[1]));
    server.extend(record(23, &[0x77; 60]));
    let mut p = TlsParser::default();
    p.feed_initiator(&client);
    let hs = one(p.feed_responder(&server));
    assert!(hs.hello_retry_request);
    assert_eq!(hs.client_hellos, 2);
    assert_eq!(hs.version(), Some(0x0304));
    assert!(hs.server_hello.is_some_and(|s| !s.hello_retry_request));
    assert!(hs.certificates.is_empty());
}

#[test]
fn alerts_in_clear() {
    let (client, _) = tls12_streams();
    let mut p = TlsParser::default();
    p.feed_initiator(&client);
    p.feed_responder(&record(21, &[2, 40]));
    let hs = one(p.flow_end());
    assert_eq!(
        hs.alerts,
        [Alert {
            side: FlowSide::Responder,
            level: 2,
            description: 40
        }]
    );
}

#[test]
fn sslv2_compatible_client_hello() {
    // SSLv2 record: msg type 1, version 3.1, 2 cipher specs, no session id,
    // 16-byte challenge.
    let mut msg = vec![1, 3, 1, 0, 6, 0, 0, 0, 16];
    msg.extend_from_slice(&[0, 0, 0x2f, 0x01, 0x00, 0x80]);
    msg.extend_from_slice(&[0xaa; 16]);
    let mut rec = vec![0x80 | (msg.len() >> 8) as u8, msg.len() as u8];
    rec.extend(msg);
    assert_eq!(probe(&rec), Probe::Certain);
    let mut p = TlsParser::default();
    p.feed_initiator(&rec);
    let hs = one(p.flow_end());
    let ch = hs.client_hello.unwrap();
    assert!(ch.sslv2);
    assert_eq!((ch.version, ch.ciphers.as_slice()), (0x0301, &[0x002f][..]));
}

#[test]
fn not_tls_gives_up_quietly() {
    let mut p = TlsParser::default();
    assert!(p.feed_initiator(b"GET / HTTP/1.1\r\n\r\n").is_empty());
    assert!(p.flow_end().is_empty(), "nothing TLS was seen");
    assert_eq!(probe(b"GET / HTTP/1.1"), Probe::No);
    assert_eq!(probe(b"\x16\x03"), Probe::NeedMore);
    assert_eq!(probe(&record(22, &[1, 0, 0, 0])), Probe::Certain);
}

#[test]
fn oversized_handshake_message_is_skipped_bounded() {
    let mut p = TlsParser::new(TlsConfig {
        max_handshake_bytes: 1024,
        ..TlsConfig::default()
    });
    p.feed_initiator(&record(22, &handshake(1, &client_hello_body())));
    // A certificate message announcing 1 MiB.
    p.feed_responder(&record(22, &[11, 0x10, 0, 0, 0, 0]));
    assert_eq!(p.oversized(), 1);
    let hs = one(p.flow_end());
    assert!(hs.client_hello.is_some());
}

proptest! {
    /// Any segmentation of the same streams gives the same handshake.
    #[test]
    fn split_invariance(
        c_cuts in proptest::collection::vec(0usize..2000, 0..8),
        s_cuts in proptest::collection::vec(0usize..2000, 0..8),
    ) {
        let (client, server) = tls12_streams();
        let mut whole = TlsParser::default();
        whole.feed_initiator(&client);
        let want = whole.feed_responder(&server);
        let split = |s: &[u8], cuts: &[usize]| -> Vec<Vec<u8>> {
            let mut c: Vec<usize> = cuts.iter().map(|c| c % (s.len() + 1)).collect();
            c.sort_unstable();
            let mut at = 0;
            let mut v = Vec::new();
            for x in c.into_iter().chain([s.len()]) {
                v.push(s[at..x].to_vec());
                at = x;
            }
            v
        };
        let mut p = TlsParser::default();
        let mut got = Vec::new();
        for piece in split(&client, &c_cuts) {
            got.extend(p.feed_initiator(&piece));
        }
        for piece in split(&server, &s_cuts) {
            got.extend(p.feed_responder(&piece));
        }
        prop_assert_eq!(got, want);
    }

    #[test]
    fn no_panic_on_arbitrary_bytes(
        a in proptest::collection::vec(any::<u8>(), 0..600),
        b in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let _ = parse_client_hello(&a);
        let _ = parse_server_hello(&b);
        let _ = certificate(&a);
        let mut p = TlsParser::default();
        // As a record body too, so the handshake layer sees the bytes.
        p.feed_initiator(&record(22, &a));
        p.feed_responder(&record(22, &b));
        p.feed_responder(&a);
        p.flow_end();
    }
}

#[test]
fn proxy_protocol_header_before_the_hello() {
    let hello = record(22, &handshake(1, &client_hello_body()));
    let mut v1 = b"PROXY TCP4 192.0.2.1 192.0.2.2 56324 443\r\n".to_vec();
    v1.extend_from_slice(&hello);
    let mut v2 = b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c".to_vec();
    v2.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2, 0xdc, 0x04, 0x01, 0xbb]);
    v2.extend_from_slice(&hello);
    for stream in [v1, v2] {
        assert_eq!(probe(&stream), Probe::Certain);
        assert_eq!(probe(&stream[..8]), Probe::NeedMore);
        let mut p = TlsParser::default();
        p.feed_initiator(&stream);
        let hs = one(p.flow_end());
        assert_eq!(
            hs.client_hello.unwrap().sni.as_deref(),
            Some(&b"example.org"[..])
        );
    }
}

#[test]
fn starttls_switches_at_the_first_tls_record() {
    let mut p = StartTlsParser::default();
    assert!(p.feed_responder(b"220 mail.example ESMTP\r\n").is_empty());
    assert!(p.feed_initiator(b"EHLO client\r\n").is_empty());
    assert!(p.feed_responder(b"250-STARTTLS\r\n250 OK\r\n").is_empty());
    assert!(p.feed_initiator(b"STARTTLS\r\n").is_empty());
    assert!(p.feed_responder(b"220 Go ahead\r\n").is_empty());
    assert!(
        p.feed_initiator(&record(22, &handshake(1, &client_hello_body())))
            .is_empty()
    );
    let hs = one(p.flow_end());
    assert_eq!(
        hs.client_hello.unwrap().sni.as_deref(),
        Some(&b"example.org"[..])
    );
    // Plain text only: nothing reported.
    let mut p = StartTlsParser::default();
    p.feed_initiator(b"USER anonymous\r\n");
    assert!(p.flow_end().is_empty());
}

#[test]
fn a_flows_copy_of_the_registered_parser_shares_its_options() {
    // Each flow's parser comes from the registered one's factory: the
    // options are shared, not copied per flow.
    use crate::session::SessionParserFactory;
    let mut p = TlsParser::new(TlsConfig::default());
    let flow = SessionParserFactory::<()>::new_parser(&mut p, &());
    assert!(Arc::ptr_eq(&p.cfg, &flow.cfg));
}

mod timing;
mod versions;
