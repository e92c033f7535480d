//! The version reported (EVE `tls.version`): Suricata's names, drafts
//! included, and the server's side as the source.

use super::*;

#[test]
fn names_follow_suricata() {
    for (v, name) in [
        (0x0000, "UNDETERMINED"),
        (0x0002, "SSLv2"),
        (SSLV2, "SSLv2"),
        (0x0300, "SSLv3"),
        (0x0301, "TLSv1"),
        (0x0302, "TLS 1.1"),
        (0x0303, "TLS 1.2"),
        (0x0304, "TLS 1.3"),
        (TLS13_PRE_DRAFT16, "TLS 1.3 draft-<16"),
        (0x7f10, "TLS 1.3 draft-16"),
        (0x7f12, "TLS 1.3 draft-18"),
        (0x7f17, "TLS 1.3 draft-23"),
        (0x7f1c, "TLS 1.3 draft-28"),
        (0xfb14, "TLS 1.3 draft-20-fb"),
        (0xfb17, "TLS 1.3 draft-23-fb"),
        (0xfb1a, "TLS 1.3 draft-26-fb"),
        // No name: the number, as Suricata prints it.
        (0x7f0e, "0x7f0e"),
        (0x7f1d, "0x7f1d"),
        (0x3230, "0x3230"),
        (0x0a0a, "0x0a0a"),
    ] {
        assert_eq!(version_name(v), name, "{v:#06x}");
    }
}

/// The server's flight for `hello` (a ServerHello body), then a
/// ChangeCipherSpec and an application data record.
fn server_reply(hello: &[u8]) -> Vec<u8> {
    let mut s = record(22, &handshake(2, hello));
    s.extend(record(20, &[1]));
    s.extend(record(23, &[0x77; 40]));
    s
}

fn reported(server: &[u8]) -> TlsHandshake {
    let mut p = TlsParser::default();
    let mut out = p.feed_initiator(&record(22, &handshake(1, &client_hello_body())));
    out.extend(p.feed_responder(server));
    out.extend(p.flow_end());
    one(out)
}

#[test]
fn supported_versions_draft_is_tls13_and_named() {
    let hs = reported(&server_reply(&server_hello_body(Some(0x7f1c), [5; 32])));
    assert_eq!(hs.version(), Some(0x7f1c));
    assert_eq!(version_name(0x7f1c), "TLS 1.3 draft-28");
    // A TLS 1.3 draft: nothing after the ServerHello is read in clear.
    assert_eq!(hs.stop, TlsStop::Encrypted);
    let hs = reported(&server_reply(&server_hello_body(Some(0xfb1a), [5; 32])));
    assert_eq!(version_name(hs.version().unwrap()), "TLS 1.3 draft-26-fb");
    assert_eq!(hs.stop, TlsStop::Encrypted);
}

#[test]
fn early_draft_hello_has_no_session_id_nor_compression() {
    // Draft 18: version 0x7f12 in the hello itself, then random, cipher,
    // extensions (key_share only).
    let mut b = vec![0x7f, 0x12];
    b.extend_from_slice(&[5; 32]);
    b.extend_from_slice(&0x1301u16.to_be_bytes());
    b.extend(vec16(&ext(40, &[0, 29, 0, 2, 9, 9])));
    let hs = reported(&server_reply(&b));
    let sh = hs.server_hello.as_ref().unwrap();
    assert_eq!((sh.cipher, sh.extensions.as_slice()), (0x1301, &[40][..]));
    assert_eq!(version_name(hs.version().unwrap()), "TLS 1.3 draft-18");
    // 0x0304 in the hello's version field, no supported_versions: a draft
    // before 16.
    let mut b = vec![3, 4];
    b.extend_from_slice(&[5; 32]);
    b.extend_from_slice(&0x1301u16.to_be_bytes());
    let hs = reported(&server_reply(&b));
    assert_eq!(hs.version(), Some(TLS13_PRE_DRAFT16));
    assert_eq!(version_name(TLS13_PRE_DRAFT16), "TLS 1.3 draft-<16");
}

#[test]
fn supported_versions_wins_over_the_hello_version() {
    // legacy_version 0x0303 plus supported_versions 0x0304: TLS 1.3, not
    // 1.2; a 1.2 hello without the extension: its own version.
    let hs = reported(&server_reply(&server_hello_body(Some(0x0304), [5; 32])));
    assert_eq!(hs.version(), Some(0x0304));
    let (client, server) = tls12_streams();
    let mut p = TlsParser::default();
    p.feed_initiator(&client);
    assert_eq!(one(p.feed_responder(&server)).version(), Some(0x0303));
}

#[test]
fn without_a_server_hello_the_server_records_decide() {
    // Client only: the client's offers are not a version.
    let mut p = TlsParser::default();
    p.feed_initiator(&record(22, &handshake(1, &client_hello_body())));
    let hs = one(p.flow_end());
    assert_eq!(hs.version(), None);
    assert_eq!(version_name(hs.version().unwrap_or(0)), "UNDETERMINED");
    // The server answers with an alert in a TLS 1.1 record.
    let mut p = TlsParser::default();
    p.feed_initiator(&record(22, &handshake(1, &client_hello_body())));
    p.feed_responder(&[21, 3, 2, 0, 2, 2, 70]);
    assert_eq!(one(p.flow_end()).version(), Some(0x0302));
    // The server answers with something that is no TLS record: its
    // header's version field is still what Suricata reports.
    let mut p = TlsParser::default();
    p.feed_initiator(&record(22, &handshake(1, &client_hello_body())));
    p.feed_responder(b"\x1520 bad request\r\n");
    assert_eq!(one(p.flow_end()).version(), Some(0x3230));
    // An SSLv2 server hello (top bit set).
    let mut p = TlsParser::default();
    p.feed_initiator(&record(22, &handshake(1, &client_hello_body())));
    p.feed_responder(&[0x80, 0x2e, 4, 0, 1, 0, 2]);
    assert_eq!(one(p.flow_end()).version(), Some(SSLV2));
}
