//! Acknowledgement timing: the handshake is read as the peer acknowledges
//! it and reported where Suricata 7 reports it.

use super::*;

fn timed() -> TlsParser {
    TlsParser::default().timed_by_acks()
}

fn client() -> Vec<u8> {
    record(22, &handshake(1, &client_hello_body()))
}

/// ServerHello, Certificate, ServerHelloDone records, and where each ends.
fn server12() -> (Vec<u8>, [u64; 3]) {
    let mut s = record(22, &handshake(2, &server_hello_body(None, [5; 32])));
    let hello = s.len() as u64;
    s.extend(record(22, &handshake(11, &certificate_body())));
    let cert = s.len() as u64;
    s.extend(record(22, &handshake(14, &[])));
    (s.clone(), [hello, cert, s.len() as u64])
}

#[test]
fn nothing_is_read_before_it_is_acknowledged() {
    let mut p = timed();
    let (server, _) = server12();
    assert!(p.feed_initiator(&client()).is_empty());
    assert!(p.feed_responder(&server).is_empty());
    assert!(p.wants_acks());
    // The client's hello is acknowledged: read, nothing to report yet.
    assert!(p.acked_initiator(client().len() as u64).is_empty());
    assert!(p.wants_acks());
}

#[test]
fn certificate_read_reports_at_the_end_of_an_acknowledged_stretch() {
    let (server, [hello, cert, done]) = server12();
    let mut p = timed();
    p.feed_initiator(&client());
    p.feed_responder(&server);
    p.acked_initiator(client().len() as u64);
    // The hello and half the certificate record: the stretch ends inside
    // a record, nothing yet.
    assert!(p.acked_responder(hello + 40).is_empty());
    // The rest of the certificate and 6 bytes of the next record (past
    // its header): Suricata waits for that record whole.
    assert!(p.acked_responder(cert + 6).is_empty());
    // The stretch ends on a record boundary: reported now.
    let hs = one(p.acked_responder(done));
    assert_eq!(hs.stop, TlsStop::HandshakeDone);
    assert_eq!(hs.certificates.len(), 1);
    assert_eq!(hs.version(), Some(0x0303));
    assert!(!p.wants_acks());
    assert!(p.flow_end().is_empty(), "reported once");
}

#[test]
fn a_stretch_ending_inside_a_header_does_not_wait() {
    let (server, [_, cert, _]) = server12();
    let mut p = timed();
    p.feed_initiator(&client());
    p.feed_responder(&server);
    let hs = one(p.acked_responder(cert + 2));
    assert_eq!(hs.stop, TlsStop::HandshakeDone);
}

#[test]
fn the_client_side_can_close_the_stretch() {
    // The server's acknowledged bytes end inside a record; the client's
    // next acknowledged stretch ends on a boundary: that reports.
    let (server, [_, cert, _]) = server12();
    let mut p = timed();
    p.feed_initiator(&client());
    p.feed_responder(&server);
    assert!(p.acked_responder(cert + 6).is_empty());
    let hs = one(p.acked_initiator(client().len() as u64));
    assert_eq!(hs.stop, TlsStop::HandshakeDone);
}

#[test]
fn tls13_reports_at_the_first_application_data_byte() {
    let mut server = record(22, &handshake(2, &server_hello_body(Some(0x0304), [5; 32])));
    server.extend(record(20, &[1]));
    let app = server.len() as u64;
    server.extend(record(23, &[0x77; 40]));
    let mut p = timed();
    p.feed_initiator(&client());
    p.feed_responder(&server);
    p.acked_initiator(client().len() as u64);
    // The application data record's header alone: not yet.
    assert!(p.acked_responder(app + 5).is_empty());
    let hs = one(p.acked_responder(app + 6));
    assert_eq!(hs.stop, TlsStop::Encrypted);
    assert_eq!(hs.version(), Some(0x0304));
}

#[test]
fn early_data_before_the_server_hello_does_not_count() {
    // A ClientHello offering early_data (and TLS 1.3), then 0-RTT data.
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7; 32]);
    body.push(0);
    body.extend(vec16(&u16s(&[0x1301])));
    body.extend_from_slice(&[1, 0]);
    let mut exts = ext(43, &[2, 3, 4]);
    exts.extend(ext(42, &[]));
    body.extend(vec16(&exts));
    let mut c = record(22, &handshake(1, &body));
    c.extend(record(23, &[0x66; 30]));
    let mut p = timed();
    p.feed_initiator(&c);
    assert!(p.acked_initiator(c.len() as u64).is_empty(), "0-RTT data");
    // Without early_data offered, the same data reports.
    let mut c = client();
    c.extend(record(23, &[0x66; 30]));
    let mut p = timed();
    p.feed_initiator(&c);
    let hs = one(p.acked_initiator(c.len() as u64));
    assert_eq!(hs.stop, TlsStop::Encrypted);
    assert_eq!(hs.version(), None, "the server was not read");
}

#[test]
fn after_a_certificate_request_the_clients_certificate_counts() {
    let (mut server, _) = server12();
    // Insert a CertificateRequest before the ServerHelloDone.
    server.truncate(server.len() - 9);
    server.extend(record(22, &handshake(13, &[1, 1, 0, 0, 0, 0])));
    server.extend(record(22, &handshake(14, &[])));
    let mut p = timed();
    p.feed_initiator(&client());
    p.feed_responder(&server);
    p.acked_initiator(client().len() as u64);
    assert!(p.acked_responder(server.len() as u64).is_empty());
    // The client's certificate, then its key exchange.
    let mut c = record(22, &handshake(11, &certificate_body()));
    c.extend(record(22, &handshake(16, &[0; 33])));
    p.feed_initiator(&c);
    let hs = one(p.acked_initiator((client().len() + c.len()) as u64));
    assert_eq!(hs.stop, TlsStop::HandshakeDone);
    // An empty client Certificate message: no certificate, no report
    // until the flow ends.
    let mut p = timed();
    p.feed_initiator(&client());
    p.feed_responder(&server);
    p.acked_initiator(client().len() as u64);
    p.acked_responder(server.len() as u64);
    let c = record(22, &handshake(11, &[0, 0, 0]));
    p.feed_initiator(&c);
    assert!(
        p.acked_initiator((client().len() + c.len()) as u64)
            .is_empty()
    );
    assert_eq!(one(p.flow_end()).stop, TlsStop::FlowEnd);
}

#[test]
fn at_the_flow_end_every_captured_byte_is_read() {
    let (server, _) = server12();
    // The client's hello was acknowledged, the server's flight was not:
    // it is read at the end all the same.
    let mut p = timed();
    p.feed_initiator(&client());
    p.feed_responder(&server);
    p.acked_initiator(client().len() as u64);
    let hs = one(p.flow_end());
    assert!(hs.client_hello.is_some());
    assert_eq!((hs.version(), hs.certificates.len()), (Some(0x0303), 1));
    assert_eq!(hs.stop, TlsStop::FlowEnd);
    // Nothing acknowledged: both sides are read.
    let mut p = timed();
    p.feed_initiator(&client());
    p.feed_responder(&server);
    let hs = one(p.flow_end());
    assert_eq!((hs.version(), hs.certificates.len()), (Some(0x0303), 1));
    // A reset: the captured bytes are read too.
    let mut p = timed();
    p.feed_initiator(&client());
    p.feed_responder(&server);
    p.rst_responder();
    let hs = one(p.flow_end());
    assert_eq!((hs.version(), hs.certificates.len()), (Some(0x0303), 1));
}

#[test]
fn a_gap_stops_reading_where_it_is_acknowledged() {
    let (server, [hello, ..]) = server12();
    let mut p = timed();
    p.feed_initiator(&client());
    p.feed_responder(&server[..hello as usize]);
    p.gap_responder(100);
    p.feed_responder(&server[hello as usize + 100..]);
    p.acked_initiator(client().len() as u64);
    assert!(p.acked_responder(hello + 200).is_empty());
    let hs = one(p.flow_end());
    assert_eq!((hs.gap_bytes, hs.certificates.len()), (100, 0));
    assert!(hs.server_hello.is_some());
}

#[test]
fn once_both_directions_stop_nothing_is_held() {
    let mut p = timed();
    p.feed_initiator(b"GET / HTTP/1.1\r\n\r\n");
    p.feed_responder(b"HTTP/1.1 200 OK\r\n\r\n");
    assert!(p.wants_acks());
    p.acked_initiator(18);
    assert!(p.wants_acks(), "the server's side may still be TLS");
    p.acked_responder(19);
    assert!(!p.wants_acks());
    assert!(p.feed_initiator(&client()).is_empty());
    assert!(p.flow_end().is_empty(), "nothing TLS was read");
}

#[test]
fn without_acknowledgements_everything_is_read_at_the_end() {
    // Bounded: past the cap the oldest bytes are read as they come.
    let mut p = timed();
    p.feed_initiator(&client());
    let mut server = record(22, &handshake(2, &server_hello_body(Some(0x0304), [5; 32])));
    server.extend(record(20, &[1]));
    let mut out = p.feed_responder(&server);
    for _ in 0..10 {
        out.extend(p.feed_responder(&record(23, &vec![0x77; 16_000])));
    }
    let hs = one(out);
    assert_eq!(hs.stop, TlsStop::Encrypted);
}

#[test]
fn starttls_shifts_acknowledgements_to_the_tls_stream() {
    let mut p = StartTlsParser::default().timed_by_acks();
    p.feed_responder(b"220 mail.example ESMTP\r\n");
    p.feed_initiator(b"EHLO client\r\n");
    p.feed_responder(b"250 STARTTLS\r\n");
    p.feed_initiator(b"STARTTLS\r\n");
    p.feed_responder(b"220 Go ahead\r\n");
    let plain_c = (b"EHLO client\r\n".len() + b"STARTTLS\r\n".len()) as u64;
    let plain_s = (b"220 mail.example ESMTP\r\n".len()
        + b"250 STARTTLS\r\n".len()
        + b"220 Go ahead\r\n".len()) as u64;
    p.feed_initiator(&client());
    let (server, [.., done]) = server12();
    p.feed_responder(&server);
    assert!(p.acked_initiator(plain_c).is_empty());
    assert!(p.acked_responder(plain_s + done - 1).is_empty());
    let hs = one(p.acked_responder(plain_s + done));
    assert_eq!(hs.stop, TlsStop::HandshakeDone);
    assert_eq!(hs.from_proto, Some("smtp"));
    assert_eq!(
        p.app_proto(),
        Some(crate::AppProto {
            name: "tls",
            orig: Some("smtp")
        })
    );
}

proptest! {
    /// However the streams are cut and however the acknowledgements
    /// step, once everything is acknowledged the same handshake is
    /// reported, once, and no acknowledgement panics.
    #[test]
    fn any_cuts_and_acknowledgements_report_the_same(
        cuts in proptest::collection::vec(0usize..3000, 0..8),
        acks in proptest::collection::vec((any::<bool>(), 0u64..4000), 0..12),
    ) {
        let (server, _) = server12();
        let c = client();
        let mut p = timed();
        let mut got = Vec::new();
        let mut at = 0;
        let mut cuts: Vec<usize> = cuts.iter().map(|x| x % (server.len() + 1)).collect();
        cuts.sort_unstable();
        got.extend(p.feed_initiator(&c));
        for (i, x) in cuts.into_iter().chain([server.len()]).enumerate() {
            got.extend(p.feed_responder(&server[at..x]));
            at = x;
            if let Some(&(client_side, off)) = acks.get(i) {
                got.extend(if client_side { p.acked_initiator(off) } else { p.acked_responder(off) });
            }
        }
        got.extend(p.acked_initiator(c.len() as u64));
        got.extend(p.acked_responder(server.len() as u64));
        got.extend(p.flow_end());
        let hs = one(got);
        prop_assert_eq!(hs.certificates.len(), 1);
        prop_assert_eq!(hs.version(), Some(0x0303));
    }
}
