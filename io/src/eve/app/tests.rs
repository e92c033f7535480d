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
fn ftp_records_as_suricata_writes_them() {
    use flowscope_engine::parsers::ftp::{FtpMode, FtpTransaction};
    let t = FtpTransaction {
        tx_id: 7,
        command: Some("RETR"),
        command_data: Some(b"1MB.zip"[..].into()),
        replies: vec![
            b"150 Opening BINARY mode data connection."[..].into(),
            b" more"[..].into(),
            b"226"[..].into(),
        ],
        reply_received: true,
        ..FtpTransaction::default()
    };
    assert_eq!(
        body(&L7Message::Ftp(Box::new(t))),
        r#"{"tx_id":7,"ftp":{"command":"RETR","command_data":"1MB.zip","command_truncated":false,"completion_code":["150","226"],"reply":["Opening BINARY mode data connection."," more"],"reply_received":"yes","reply_truncated":false}}
"#
    );
    let t = FtpTransaction {
        command: Some("PORT"),
        command_data: Some(b"1,2,3,4,7,138"[..].into()),
        replies: vec![b"200 ok"[..].into()],
        dynamic_port: Some(1930),
        mode: Some(FtpMode::Active),
        reply_received: true,
        ..FtpTransaction::default()
    };
    assert_eq!(
        body(&L7Message::Ftp(Box::new(t))),
        r#"{"tx_id":0,"ftp":{"command":"PORT","command_data":"1,2,3,4,7,138","command_truncated":false,"completion_code":["200"],"reply":["ok"],"dynamic_port":1930,"mode":"active","reply_received":"yes","reply_truncated":false}}
"#
    );
    // No command, no reply: only the flags.
    let t = FtpTransaction::default();
    assert_eq!(
        body(&L7Message::Ftp(Box::new(t))),
        r#"{"tx_id":0,"ftp":{"reply_received":"no","reply_truncated":false}}
"#
    );
}

/// A DHCP ACK as Suricata's extended log writes it: header fields, the
/// reply's relay and next server, then the options in the message's
/// order (the parameter list's unnamed codes left out, an option sent
/// twice written once).
#[test]
fn dhcp_fields_in_option_order() {
    use flowscope_engine::parsers::dhcp::{DhcpMessage, DhcpOption, OP_REPLY, opt};
    let o = |code: u8, data: &[u8]| DhcpOption {
        code,
        data: data.into(),
    };
    let m = DhcpMessage {
        op: OP_REPLY,
        xid: 0xb796_bad1,
        ciaddr: [0; 4],
        yiaddr: [192, 168, 2, 17],
        siaddr: [192, 168, 2, 1],
        giaddr: [0; 4],
        chaddr: [0xc4, 0x61, 0x8b, 0x35, 0x82, 0xa9][..].into(),
        options: vec![
            o(opt::MESSAGE_TYPE, &[5]),
            o(opt::LEASE_TIME, &85_536u32.to_be_bytes()),
            o(opt::SUBNET_MASK, &[255, 255, 255, 0]),
            o(opt::ROUTERS, &[192, 168, 2, 1]),
            o(opt::DNS_SERVERS, &[192, 168, 2, 1, 8, 8, 8, 8]),
            o(opt::PARAMS, &[1, 121, 3]),
            o(opt::CLIENT_ID, &[1, 0xc4, 0x61]),
            o(opt::HOSTNAME, b"host"),
            o(opt::HOSTNAME, b"again"),
            o(opt::RENEWAL_TIME, &60u32.to_be_bytes()),
        ],
        truncated: false,
    };
    let got = body(&L7Message::Dhcp(Box::new(m)));
    let want = concat!(
        r#"{"dhcp":{"type":"reply","id":3080108753,"client_mac":"c4:61:8b:35:82:a9","#,
        r#""assigned_ip":"192.168.2.17","client_ip":"0.0.0.0","relay_ip":"0.0.0.0","#,
        r#""next_server_ip":"192.168.2.1","dhcp_type":"ack","lease_time":85536,"#,
        r#""subnet_mask":"255.255.255.0","routers":["192.168.2.1"],"#,
        r#""dns_servers":["192.168.2.1","8.8.8.8"],"params":["subnet_mask","router"],"#,
        r#""client_id":"c4:61","hostname":"host","renewal_time":60}}"#,
        "\n"
    );
    assert_eq!(got, want);
}

/// TFTP requests as Suricata writes them: the packet kind, the file name
/// as sent (bytes that are not printable escaped), the mode in lower case.
#[test]
fn tftp_requests() {
    use flowscope_engine::parsers::tftp::{OP_RRQ, OP_WRQ, TftpMode, TftpRequest};
    let r = TftpRequest {
        opcode: OP_RRQ,
        file: b"rfc1350.txt"[..].into(),
        mode: TftpMode::Octet,
    };
    assert_eq!(
        body(&L7Message::Tftp(Box::new(r))),
        "{\"tftp\":{\"packet\":\"read\",\"file\":\"rfc1350.txt\",\"mode\":\"octet\"}}\n"
    );
    let w = TftpRequest {
        opcode: OP_WRQ,
        file: b""[..].into(),
        mode: TftpMode::Netascii,
    };
    assert_eq!(
        body(&L7Message::Tftp(Box::new(w))),
        "{\"tftp\":{\"packet\":\"write\",\"file\":\"\",\"mode\":\"netascii\"}}\n"
    );
}

/// A response with two IPv4 nodes, an IPv6 node, an IPv4 and an IPv6
/// peer, a token and a version.
const DHT_RESPONSE: &[u8] =
    b"d1:rd2:id20:mnopqrstuvwxyz1234565:nodes52:\x01\x01\x01\x01\x01\x01\x01\
    \x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x02\x03\x01\x1a\
    \xe1\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\
    \x02\x02\x02\x01\x02\x03\x02\x1a\xe16:nodes638:\x03\x03\x03\x03\x03\x03\
    \x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x00\x01\x02\x03\
    \x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x1a\xe25:token4:tokn6:v\
    aluesl6:\x09\x09\x09\x09\x00P18:\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\
    \x0a\x0b\x0c\x0d\x0e\x0f\x00Qee1:t2:bb1:v4:UT\x01\x021:y1:re";

/// The bodies of the DHT datagrams `b`, as the parser reads them.
fn dht_bodies(b: &[&[u8]]) -> Vec<String> {
    use flowscope_engine::parsers::bittorrent_dht::BittorrentDhtParser;
    use flowscope_engine::{DatagramParser, FlowSide};
    let mut p = BittorrentDhtParser::default();
    b.iter()
        .flat_map(|d| p.parse(d, FlowSide::Initiator))
        .map(|m| body(&m))
        .collect()
}

/// `bittorrent_dht` records as Suricata 7.0.10 writes them for the same
/// datagrams (run on them): ids, hashes, tokens, versions in hex, the
/// members in Suricata's order, lists only when not empty; a datagram
/// that breaks off writes what Suricata had set. IPv6 addresses are
/// written as flowscope writes addresses (Suricata's form in the strict
/// profile).
#[test]
fn bittorrent_dht_messages() {
    let got = dht_bodies(&[
        b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:cc1:y1:qe",
        b"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:dd1:y1:qe",
        DHT_RESPONSE,
        b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:y1:qe",
        b"d1:ad2:id20:",
    ]);
    let id = "6162636465666768696a30313233343536373839";
    let id2 = "6d6e6f707172737475767778797a313233343536";
    let want = [
        format!(
            r#"{{"bittorrent_dht":{{"transaction_id":"6363","request_type":"announce_peer","request":{{"id":"{id}","info_hash":"{id2}","token":"616f6575736e7468","implied_port":1,"port":6881}}}}}}"#
        ),
        format!(
            r#"{{"bittorrent_dht":{{"transaction_id":"6464","request_type":"find_node","request":{{"id":"{id}","target":"{id2}"}}}}}}"#
        ),
        format!(
            concat!(
                r#"{{"bittorrent_dht":{{"transaction_id":"6262","client_version":"55540102","response":{{"id":"{}","#,
                r#""nodes":[{{"id":"0101010101010101010101010101010101010101","ip":"1.2.3.1","port":6881}},"#,
                r#"{{"id":"0202020202020202020202020202020202020202","ip":"1.2.3.2","port":6881}}],"#,
                r#""nodes6":[{{"id":"0303030303030303030303030303030303030303","ip":"1:203:405:607:809:a0b:c0d:e0f","port":6882}}],"#,
                r#""values":[{{"ip":"9.9.9.9","port":80}},{{"ip":"1:203:405:607:809:a0b:c0d:e0f","port":81}}],"#,
                r#""token":"746f6b6e"}}}}}}"#
            ),
            id2
        ),
        r#"{"bittorrent_dht":{"transaction_id":"6161","error":{"num":201,"msg":"A Generic Error Ocurred"}}}"#.to_owned(),
        format!(
            r#"{{"bittorrent_dht":{{"transaction_id":"","request_type":"ping","request":{{"id":"{id}"}}}}}}"#
        ),
        r#"{"bittorrent_dht":{"transaction_id":""}}"#.to_owned(),
    ];
    let got: Vec<&str> = got.iter().map(|s| s.trim_end()).collect();
    assert_eq!(got, want);
}

/// The smtp record: `smtp` envelope fields, then `email` once DATA was
/// sent, empty lists and absent values left out.
#[test]
fn smtp_record_has_suricatas_fields() {
    use flowscope_engine::parsers::smtp::{Email, MimeStatus, SmtpTransaction};
    let t = SmtpTransaction {
        tx_id: 2,
        helo: Some(b"client.example"[..].into()),
        mail_from: Some(b"<a@x>"[..].into()),
        rcpt_to: vec![b"<b@y>"[..].into(), b"<c@z>"[..].into()],
        email: Some(Email {
            status: MimeStatus::ParseDone,
            from: Some(b"\"A\" <a@x>"[..].into()),
            to: vec![b"b@y"[..].into()],
            cc: Vec::new(),
            attachment: vec![b"a.pdf"[..].into()],
        }),
    };
    let got = body(&L7Message::Smtp(Box::new(t)));
    let want = concat!(
        r#"{"tx_id":2,"smtp":{"helo":"client.example","mail_from":"<a@x>","#,
        r#""rcpt_to":["<b@y>","<c@z>"]},"email":{"status":"PARSE_DONE","#,
        r#""from":"\"A\" <a@x>","to":["b@y"],"attachment":["a.pdf"]}}"#,
        "\n"
    );
    assert_eq!(got, want);
    let got = body(&L7Message::Smtp(Box::default()));
    assert_eq!(got, "{\"tx_id\":0,\"smtp\":{}}\n");
}

#[test]
fn http2_stream_as_suricata_writes_it() {
    use flowscope_engine::parsers::http2::{ErrorCode, HeaderField, Http2Side, Http2Stream};
    let f = |n: &str, v: &str| HeaderField::Field {
        name: n.as_bytes().into(),
        value: v.as_bytes().into(),
    };
    let t = Http2Stream {
        tx_id: 2,
        stream_id: 1,
        request: Http2Side {
            headers: vec![
                f(":method", "POST"),
                f(":path", "/dns"),
                f("user-agent", "curl/8.7.1"),
                f("content-length", "131072"),
                HeaderField::SizeUpdate(0),
            ],
            header_frames: 1,
            data_bytes: 131072,
            ..Http2Side::default()
        },
        response: Http2Side {
            headers: vec![
                f(":status", "415"),
                f("content-length", "16"),
                HeaderField::Error("HTTP2HeaderDecodeIndexOutOfBounds"),
            ],
            header_frames: 1,
            error_code: Some(ErrorCode {
                code: 0,
                goaway: false,
            }),
            priority: Some(15),
            has_multiple: Some("error_code"),
            ..Http2Side::default()
        },
        closed: true,
    };
    let m = L7Message::Http2(Box::new(t));
    assert_eq!(m.event_type(), Some("http"));
    let want = concat!(
        r#"{"tx_id":2,"http":{"version":"2","request_headers":[{"name":":method","value":"POST"},"#,
        r#"{"name":":path","value":"/dns"},{"name":"user-agent","value":"curl/8.7.1"},"#,
        r#"{"name":"content-length","value":"131072"},{"table_size_update":0}],"#,
        r#""response_headers":[{"name":":status","value":"415"},{"name":"content-length","value":"16"},"#,
        r#"{"error":"HTTP2HeaderDecodeIndexOutOfBounds"}],"#,
        r#""http_method":"POST","url":"/dns","http_user_agent":"curl/8.7.1","status":415,"length":16,"#,
        r#""request_body_len":131072,"#,
        r#""http2":{"stream_id":1,"request":{},"response":{"error_code":"NoError","priority":15,"has_multiple":"error_code"}}}}"#,
        "\n"
    );
    assert_eq!(body(&m), want);
}

#[test]
fn http2_connection_frames_as_suricata_writes_them() {
    use flowscope_engine::parsers::http2::{ErrorCode, Http2Side, Http2Stream, Setting};
    let t = Http2Stream {
        tx_id: 0,
        request: Http2Side {
            settings: vec![Setting { id: 3, value: 100 }],
            ..Http2Side::default()
        },
        response: Http2Side {
            error_code: Some(ErrorCode {
                code: 1,
                goaway: true,
            }),
            ..Http2Side::default()
        },
        ..Http2Stream::default()
    };
    let want = concat!(
        r#"{"tx_id":0,"http":{"version":"2","http2":{"stream_id":0,"#,
        r#""request":{"settings":[{"settings_id":"SETTINGSMAXCONCURRENTSTREAMS","settings_value":100}]},"#,
        r#""response":{"error_code":"PROTOCOLERROR"}}}}"#,
        "\n"
    );
    assert_eq!(body(&L7Message::Http2(Box::new(t))), want);
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

#[test]
fn mqtt_transactions_as_suricata_writes_them() {
    use flowscope_engine::parsers::mqtt::{
        MqttBody, MqttConnect, MqttMessage, MqttProperty, MqttPublish, MqttTransaction, PropValue,
    };
    let msg = |kind, qos, body| MqttMessage {
        kind,
        dup: false,
        qos,
        retain: false,
        body,
    };
    let props = Some(
        vec![
            MqttProperty {
                id: 17,
                value: PropValue::Int(30),
            },
            MqttProperty {
                id: 38,
                value: PropValue::Pair(b"agent"[..].into(), b"fs"[..].into()),
            },
        ]
        .into_boxed_slice(),
    );
    let connect = MqttConnect {
        protocol_string: b"MQTT"[..].into(),
        protocol_version: 5,
        flags: 0x86,
        client_id: b"c1"[..].into(),
        username: Some(b"alice"[..].into()),
        will_topic: Some(b"w"[..].into()),
        will_message: Some(b"bye"[..].into()),
        properties: props,
        ..MqttConnect::default()
    };
    let t = MqttTransaction {
        tx_id: 0,
        to_client: false,
        messages: vec![
            msg(1, 0, MqttBody::Connect(Box::new(connect))),
            msg(
                2,
                0,
                MqttBody::Connack {
                    session_present: false,
                    return_code: 0,
                    properties: None,
                },
            ),
        ],
    };
    let want = concat!(
        r#"{"mqtt":{"connect":{"qos":0,"retain":false,"dup":false,"protocol_string":"MQTT","#,
        r#""protocol_version":5,"client_id":"c1","flags":{"username":true,"password":false,"#,
        r#""will_retain":false,"will":true,"clean_session":true},"username":"alice","#,
        r#""will":{"topic":"w","message":"bye"},"#,
        r#""properties":{"session_expiry_interval":30,"agent":"fs"}},"#,
        r#""connack":{"qos":0,"retain":false,"dup":false,"session_present":false,"return_code":0}}}"#,
        "\n"
    );
    assert_eq!(body(&L7Message::Mqtt(Box::new(t))), want);
    let publish = MqttPublish {
        topic: b"a/b"[..].into(),
        message_id: Some(7),
        message: b"\xff1"[..].into(),
        ..MqttPublish::default()
    };
    let ack = MqttBody::Ack {
        message_id: 7,
        reason_code: None,
        properties: None,
    };
    let t = MqttTransaction {
        tx_id: 1,
        to_client: true,
        messages: vec![
            msg(3, 1, MqttBody::Publish(Box::new(publish))),
            msg(4, 0, ack),
        ],
    };
    let m = L7Message::Mqtt(Box::new(t));
    assert!(m.source_is_responder());
    let want = concat!(
        r#"{"mqtt":{"publish":{"qos":1,"retain":false,"dup":false,"topic":"a/b","message_id":7,"#,
        r#""message":"\u00ff1"},"puback":{"qos":0,"retain":false,"dup":false,"message_id":7}}}"#,
        "\n"
    );
    assert_eq!(body(&m), want);
    let t = MqttTransaction {
        messages: vec![msg(3, 0, MqttBody::Truncated { skipped_length: 9 })],
        ..MqttTransaction::default()
    };
    let want = concat!(
        r#"{"mqtt":{"publish":{"qos":0,"retain":false,"dup":false,"truncated":true,"#,
        r#""skipped_length":9}}}"#,
        "\n"
    );
    assert_eq!(body(&L7Message::Mqtt(Box::new(t))), want);
}

/// SNMP records as Suricata writes them: a v1 trap with its own fields,
/// an error status by name or number, an encrypted v3 PDU with nothing
/// but its type, no `vars` when there are none.
#[test]
fn snmp_records() {
    use flowscope_engine::parsers::snmp::{
        GET_REQUEST, RESPONSE, SnmpMessage, SnmpPdu, SnmpTrap, TRAP_V1,
    };
    let msg = |pdu: Option<SnmpPdu>, community: Option<&[u8]>, usm: Option<&[u8]>| {
        body(&L7Message::Snmp(Box::new(SnmpMessage {
            version: if usm.is_some() { 3 } else { 1 },
            message_version: 1,
            pdu,
            community: community.map(Into::into),
            usm: usm.map(Into::into),
        })))
    };
    let trap = SnmpPdu {
        pdu_type: TRAP_V1,
        error_status: 0,
        trap: Some(SnmpTrap {
            generic: 2,
            specific: 0,
            enterprise: "1.3.6.1.6.3.1.1.5".into(),
            agent: [10, 1, 30, 1],
        }),
        vars: ["1.3.6.1.2.1.2.2.1.1.2", "1.3.6.1.2.1.2.2.1.2.2"]
            .into_iter()
            .collect(),
    };
    assert_eq!(
        msg(Some(trap), Some(b"pub\x01lic"), None),
        concat!(
            r#"{"snmp":{"version":1,"pdu_type":"trap_v1","trap_type":"linkDown","#,
            r#""trap_oid":"1.3.6.1.6.3.1.1.5","trap_address":"10.1.30.1","#,
            r#""vars":["1.3.6.1.2.1.2.2.1.1.2","1.3.6.1.2.1.2.2.1.2.2"],"community":"pub\u0001lic"}}"#,
            "\n"
        )
    );
    let pdu = |pdu_type, error_status| SnmpPdu {
        pdu_type,
        error_status,
        trap: None,
        vars: Default::default(),
    };
    assert_eq!(
        msg(Some(pdu(RESPONSE, 18)), Some(b"c"), None),
        "{\"snmp\":{\"version\":1,\"pdu_type\":\"response\",\"error\":\"ErrorStatus(18)\",\"community\":\"c\"}}\n"
    );
    assert_eq!(
        msg(Some(pdu(GET_REQUEST, 0)), None, Some(b"")),
        "{\"snmp\":{\"version\":3,\"pdu_type\":\"get_request\",\"usm\":\"\"}}\n"
    );
    assert_eq!(
        msg(None, None, Some(b"bob")),
        "{\"snmp\":{\"version\":3,\"pdu_type\":\"encrypted\"}}\n"
    );
}

/// Kerberos records as Suricata writes them: a request with `<empty>` and
/// `<none>` for what it lacks, a reply with both encryption types, an
/// error with the request it answers, numbers without names.
#[test]
fn krb5_records() {
    use flowscope_engine::parsers::krb5::{AS_REQ, ERROR, Krb5Message, TGS_REP, TGS_REQ};
    let msg = |m: Krb5Message| body(&L7Message::Krb5(Box::new(m)));
    let req = Krb5Message {
        msg_type: TGS_REQ,
        failed_request: 0,
        error_code: None,
        cname: None,
        realm: Some("DENYDC.COM".into()),
        sname: Some("host/xp1.denydc.com".into()),
        etype: None,
        ticket_etype: None,
    };
    assert_eq!(
        msg(req.clone()),
        concat!(
            r#"{"krb5":{"msg_type":"KRB_TGS_REQ","cname":"<empty>","realm":"DENYDC.COM","#,
            r#""sname":"host/xp1.denydc.com","encryption":"<none>","weak_encryption":false}}"#,
            "\n"
        )
    );
    let rep = Krb5Message {
        msg_type: TGS_REP,
        cname: Some("des".into()),
        etype: Some(18),
        ticket_etype: Some(23),
        ..req.clone()
    };
    assert_eq!(
        msg(rep),
        concat!(
            r#"{"krb5":{"msg_type":"KRB_TGS_REP","cname":"des","realm":"DENYDC.COM","#,
            r#""sname":"host/xp1.denydc.com","encryption":"aes256-cts-hmac-sha1-96","#,
            r#""weak_encryption":false,"ticket_encryption":"rc4-hmac","ticket_weak_encryption":true}}"#,
            "\n"
        )
    );
    let err = |failed_request, code| Krb5Message {
        msg_type: ERROR,
        failed_request,
        error_code: Some(code),
        realm: None,
        ..req.clone()
    };
    assert_eq!(
        msg(err(AS_REQ, 52)),
        concat!(
            r#"{"krb5":{"msg_type":"KRB_ERROR","failed_request":"KRB_AS_REQ","#,
            r#""error_code":"KRB_ERR_RESPONSE_TOO_BIG","cname":"<empty>","realm":"<empty>","#,
            r#""sname":"host/xp1.denydc.com","encryption":"<none>","weak_encryption":false}}"#,
            "\n"
        )
    );
    assert!(
        msg(err(0, 99))
            .contains(r#""failed_request":"MessageType(0)","error_code":"ErrorCode(99)""#)
    );
    let odd = Krb5Message {
        etype: Some(4),
        ..req
    };
    assert!(msg(odd).contains(r#""encryption":"EncryptionType(4)","weak_encryption":true"#));
}

#[test]
fn ike_v1_attributes_raw_as_the_schema_types_them() {
    use flowscope_engine::parsers::ike::{IkeDetail, IkeMessage, IkeV1, SaAttribute, Value};
    let tlv = |kind, b: &[u8]| SaAttribute {
        kind,
        value: u16::try_from(b.len()).unwrap(),
        number: None,
        raw: Some(Value {
            bytes: b.into(),
            len: u32::try_from(b.len()).unwrap(),
        }),
    };
    let chosen = vec![
        SaAttribute {
            kind: 1,
            value: 7,
            number: Some(7),
            raw: None,
        },
        // A life duration in eight bytes: Suricata's schema types its
        // `_raw` as an integer, so the hex is left out.
        tlv(12, &[0, 0, 0, 0, 0, 1, 0x51, 0x80]),
        // A group prime: flowscope's own key, the hex kept.
        tlv(6, &[0xab, 0xcd]),
    ];
    let m = IkeMessage {
        version_major: 1,
        version_minor: 0,
        init_spi: 0x0102_0304_0506_0708,
        resp_spi: 0x1112_1314_1516_1718,
        message_id: 0,
        exchange_type: 2,
        flags: 0,
        nat_t: false,
        payloads: vec![1],
        detail: IkeDetail::V1(Box::new(IkeV1 {
            doi: Some(1),
            chosen,
            ..IkeV1::default()
        })),
    };
    let got = body(&L7Message::Ike(Box::new(m)));
    let want = concat!(
        r#"{"ike":{"version_major":1,"version_minor":0,"init_spi":"0102030405060708","#,
        r#""resp_spi":"1112131415161718","message_id":0,"exchange_type":2,"#,
        r#""alg_enc":"EncAesCbc","alg_enc_raw":7,"sa_life_duration":"Unknown","#,
        r#""sa_group_prime":"Unknown","sa_group_prime_raw":"abcd","payload":["#,
    );
    assert!(got.starts_with(want), "{got}");
    assert!(!got.contains("sa_life_duration_raw"), "{got}");
}

#[test]
fn ike_v2_notify_types_without_a_name_as_suricata_prints_them() {
    use flowscope_engine::parsers::ike::{IkeAlgs, IkeDetail, IkeMessage, IkeV2};
    let m = IkeMessage {
        version_major: 2,
        version_minor: 0,
        init_spi: 1,
        resp_spi: 2,
        message_id: 0,
        exchange_type: 34,
        flags: 0x20,
        nat_t: false,
        payloads: vec![41, 41],
        detail: IkeDetail::V2(IkeV2 {
            initiator: false,
            algs: IkeAlgs::default(),
            errors: 0,
            notify: vec![16418, 16404],
        }),
    };
    let got = body(&L7Message::Ike(Box::new(m)));
    assert!(
        got.contains(r#""notify":["NotifyType(16418 / 0x4022)","MULTIPLE_AUTH_SUPPORTED"]"#),
        "{got}"
    );
}
