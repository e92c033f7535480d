//! The application records' bodies as written, byte for byte.

use super::*;
use flowscope_engine::parsers::hello::ClientHello;

fn body(m: &L7Message) -> String {
    let mut out = Vec::new();
    let mut o = JsonObject::new(&mut out);
    m.write_body(&mut o, &OutputConfig::default());
    o.finish_line();
    String::from_utf8(out).unwrap()
}

#[test]
fn quic_extensions_as_suricata_lists_them() {
    let ch = ClientHello {
        version: 0x0303,
        extensions: vec![0x0a0a, 0, 16, 43, 13, 51, 65281, 13172, 0x4469],
        sni: Some(b"example.org"[..].into()),
        alpn: vec![b"h3"[..].into(), b"h3-29"[..].into()],
        supported_versions: vec![0x0a0a, 0x0304, 0x7f1c, 0x7f17],
        signature_algorithms: vec![0x0403, 0x0804],
        ..ClientHello::default()
    };
    let hs = TlsHandshake {
        client_hello: Some(ch),
        quic_version: Some(1),
        ..TlsHandshake::default()
    };
    let got = body(&L7Message::Tls(Box::new(hs)));
    let want = concat!(
        r#"{"quic":{"version":"1","sni":"example.org","client_alpns":["h3","h3-29"],"#,
        r#""extensions":[{"type":64250},"#,
        r#"{"name":"server_name","type":0,"values":["example.org"]},"#,
        r#"{"name":"alpn","type":16,"values":["h3","h3-29"]},"#,
        r#"{"name":"supported_versions","type":43,"values":["TlsVersion(2570 / 0xa0a)","Tls13","TlsVersion(32540 / 0x7f1c)","Tls13Draft23"]},"#,
        r#"{"name":"signature_algorithms","type":13,"values":["1027","2052"]},"#,
        r#"{"name":"key_share","type":51},"#,
        r#"{"name":"renegotiation_info","type":65281},"#,
        r#"{"name":"next_protocol_negotiation","type":13172},"#,
        r#"{"type":17513}]}}"#,
        "\n"
    );
    assert_eq!(got, want);
}

#[test]
fn quic_without_extensions_has_no_list() {
    let hs = TlsHandshake {
        client_hello: Some(ClientHello::default()),
        quic_version: Some(1),
        ..TlsHandshake::default()
    };
    let got = body(&L7Message::Tls(Box::new(hs)));
    assert_eq!(got, "{\"quic\":{\"version\":\"1\"}}\n");
}

#[test]
fn ssh_sides_as_suricata_writes_them() {
    use flowscope_engine::parsers::ssh::{Hassh, SshConnection, SshEndpoint};
    let c = SshConnection {
        client: SshEndpoint {
            proto_version: Some(b"2.0"[..].into()),
            software_version: b"OpenSSH_9.6"[..].into(),
            hassh: Some(Hassh {
                string: b"a;b;c;none"[..].into(),
                md5: [0xab; 16],
            }),
            newkeys: true,
        },
        // An empty software version is left out.
        server: SshEndpoint {
            proto_version: Some(b"1.99"[..].into()),
            ..SshEndpoint::default()
        },
    };
    let got = body(&L7Message::Ssh(Box::new(c)));
    let want = concat!(
        r#"{"tx_id":0,"ssh":{"client":{"proto_version":"2.0","software_version":"OpenSSH_9.6","#,
        r#""hassh":{"hash":"abababababababababababababababab","string":"a;b;c;none"}},"#,
        r#""server":{"proto_version":"1.99"}}}"#,
        "\n"
    );
    assert_eq!(got, want);
    // A side whose identification line was not read is absent.
    let got = body(&L7Message::Ssh(Box::default()));
    assert_eq!(got, "{\"tx_id\":0,\"ssh\":{}}\n");
}

#[test]
fn sip_requests_and_responses_as_suricata_writes_them() {
    use flowscope_engine::parsers::sip::{SipKind, SipMessage};
    let req = SipMessage {
        kind: SipKind::Request {
            method: b"REGISTER"[..].into(),
            uri: b"sip:sip.cybercity.dk"[..].into(),
            version: b"SIP/2.0"[..].into(),
        },
        line: b"REGISTER sip:sip.cybercity.dk SIP/2.0"[..].into(),
    };
    let m = L7Message::Sip(Box::new(req));
    assert!(m.sender_is_source());
    assert_eq!(
        body(&m),
        concat!(
            r#"{"sip":{"method":"REGISTER","uri":"sip:sip.cybercity.dk","version":"SIP/2.0","#,
            r#""request_line":"REGISTER sip:sip.cybercity.dk SIP/2.0"}}"#,
            "\n"
        )
    );
    let resp = SipMessage {
        kind: SipKind::Response {
            version: b"SIP/2.0"[..].into(),
            code: b"401"[..].into(),
            reason: b"Unauthorized"[..].into(),
        },
        line: Box::default(),
    };
    assert_eq!(
        body(&L7Message::Sip(Box::new(resp))),
        "{\"sip\":{\"version\":\"SIP/2.0\",\"code\":\"401\",\"reason\":\"Unauthorized\"}}\n"
    );
}

#[test]
fn rfb_handshake_as_suricata_writes_it() {
    use flowscope_engine::parsers::rfb::{Framebuffer, PixelFormat, RfbHandshake, RfbVersion};
    let v = || {
        Some(RfbVersion {
            major: b"003"[..].into(),
            minor: b"008"[..].into(),
        })
    };
    let h = RfbHandshake {
        server_version: v(),
        client_version: v(),
        security_type: Some(2),
        vnc_challenge: Some([0xab; 16]),
        vnc_response: Some([0x01; 16]),
        security_result: Some(0),
        shared: Some(true),
        framebuffer: Some(Framebuffer {
            width: 1024,
            height: 768,
            name: b"desk"[..].into(),
            pixel_format: PixelFormat {
                bits_per_pixel: 32,
                depth: 24,
                true_color: true,
                red_max: 255,
                green_max: 255,
                blue_max: 255,
                red_shift: 16,
                green_shift: 8,
                ..PixelFormat::default()
            },
        }),
    };
    let want = concat!(
        r#"{"rfb":{"server_protocol_version":{"major":"003","minor":"008"},"#,
        r#""client_protocol_version":{"major":"003","minor":"008"},"#,
        r#""authentication":{"security_type":2,"vnc":{"challenge":"abababababababababababababababab","#,
        r#""response":"01010101010101010101010101010101"},"security_result":"OK"},"#,
        r#""screen_shared":true,"framebuffer":{"width":1024,"height":768,"name":"desk","#,
        r#""pixel_format":{"bits_per_pixel":32,"depth":24,"big_endian":false,"true_color":true,"#,
        r#""red_max":255,"green_max":255,"blue_max":255,"red_shift":16,"green_shift":8,"blue_shift":0}}}}"#,
        "\n"
    );
    assert_eq!(body(&L7Message::Rfb(Box::new(h))), want);
    let h = RfbHandshake {
        server_version: v(),
        security_type: Some(13),
        ..RfbHandshake::default()
    };
    assert_eq!(
        body(&L7Message::Rfb(Box::new(h))),
        "{\"rfb\":{\"server_protocol_version\":{\"major\":\"003\",\"minor\":\"008\"},\"authentication\":{\"security_type\":13}}}\n"
    );
}
