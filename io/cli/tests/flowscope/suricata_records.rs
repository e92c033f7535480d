//! Application-layer records against Suricata 7.0.10's on corpus captures
//! (scripts/suricata_compare.py, scripts/suricata_tls_check.py): per
//! protocol, the records matched for the same flows in the same order,
//! the share of equal fields, and `app_proto` on the same flows. The
//! enterprise and industrial protocols are in `enterprise_records`.

use super::corpus::{
    assert_all_equal, assert_figures, captures, have_suricata, run_check_script, suricata_compare,
};
use super::{corpus, records, replay_stdout, tmpdir};
use std::ffi::OsStr;
use std::path::Path;

/// `tls` and `quic` records and protocol hand-overs against Suricata 7's
/// on TLS captures of every kind (scripts/suricata_tls_check.py): each
/// `tls` record is written at Suricata's packet, with Suricata's version
/// and certificate fields; `quic.extensions`, the server's `quic` record
/// (JA3S) and `app_proto_orig` agree.
#[test]
fn tls_records_match_suricata() {
    let Some(corpus) = corpus() else { return };
    if !have_suricata("the TLS record cross-check") {
        return;
    }
    let text = run_check_script("suricata_tls_check.py", &corpus);
    assert_figures(
        &text,
        &[
            ("tls pcap_cnt equal", 99.0),
            ("tls version equal", 100.0),
            ("tls fields equal", 100.0),
            ("quic extensions equal", 100.0),
            ("quic ja3s equal", 100.0),
            ("app_proto_orig equal", 100.0),
        ],
    );
}

/// `ssh` records against Suricata 7's (with HASSH on) on the corpus's SSH
/// captures (scripts/suricata_compare.py): every record Suricata writes,
/// for the same flows in the same order, with equal identification and
/// HASSH fields, and `app_proto: ssh` on the same flows. The two Geneve
/// captures are left out: their directions use different VNIs, so
/// flowscope keys them as two flows (docs/decoding.md).
#[test]
fn ssh_records_match_suricata() {
    let Some(corpus) = corpus() else { return };
    if !have_suricata("the SSH record cross-check") {
        return;
    }
    let caps = captures(&[
        "ndpi/pcap/ssh.pcap",
        "ndpi/pcap/ssh_unidirectional.pcap",
        "ndpi/pcap/custom_categories.pcapng",
        "suricata-verify/bug-5633-gre-02/gre-sample.pcap",
    ]);
    let text = suricata_compare(&corpus, "ssh", &caps);
    assert!(text.contains("captures with ssh records: 4"), "{text}");
    assert_all_equal(
        &text,
        &[
            "ssh records matched",
            "ssh order equal",
            "ssh fields equal (worst field)",
            "app_proto ssh equal",
        ],
    );
    assert!(
        text.contains("only Suricata 0, only flowscope 0\n"),
        "{text}"
    );
}

/// FTP against Suricata 7 on the corpus captures where it writes `ftp`
/// records, and the `ftp_data` record and `ftp-data` label of the data
/// connection. Every record flowscope pairs has every field equal; the
/// POP3 capture is the one difference (docs/parsers.md: Suricata's FTP
/// patterns take POP3's `USER` command, flowscope's STARTTLS route holds
/// port 110), so 33 of Suricata's 39 `ftp` records and 3 of its 4 `ftp`
/// flows are matched.
#[test]
fn ftp_records_match_suricata() {
    let Some(corpus) = corpus() else { return };
    if !have_suricata("the FTP record cross-check") {
        return;
    }
    let caps = captures(&[
        "ndpi/pcap/ftp.pcap",
        "ndpi/pcap/ftp_failed.pcap",
        "ndpi/pcap/irc.pcap",
        "ndpi/pcap/pop3.pcap",
    ]);
    let text = suricata_compare(&corpus, "ftp", &caps);
    assert!(text.contains("captures with ftp records: 4"), "{text}");
    assert_figures(
        &text,
        &[
            ("ftp records matched", 84.6),
            ("ftp order equal", 100.0),
            ("ftp fields equal (worst field)", 100.0),
            ("app_proto ftp equal", 75.0),
        ],
    );
    assert!(
        text.contains("only Suricata 6, only flowscope 0\n"),
        "{text}"
    );
    let text = suricata_compare(&corpus, "ftp_data", &captures(&["ndpi/pcap/ftp.pcap"]));
    assert!(text.contains("captures with ftp_data records: 1"), "{text}");
    assert_all_equal(
        &text,
        &[
            "ftp_data records matched",
            "ftp_data fields equal (worst field)",
            "app_proto ftp_data equal",
        ],
    );
}

/// `dhcp` records against Suricata 7's extended DHCP log on the corpus's
/// 23 captures where it writes them (scripts/suricata_compare.py, the
/// list in `DHCP_CAPTURES`): every record, for the same flows in the same
/// order, every field equal, and `app_proto: dhcp` on the same flows.
#[test]
fn dhcp_records_match_suricata() {
    let Some(corpus) = corpus() else { return };
    if !have_suricata("the DHCP record cross-check") {
        return;
    }
    let text = suricata_compare(&corpus, "dhcp", &captures(&DHCP_CAPTURES));
    assert!(text.contains("captures with dhcp records: 23"), "{text}");
    assert_all_equal(
        &text,
        &[
            "dhcp records matched",
            "dhcp order equal",
            "dhcp fields equal (worst field)",
            "app_proto dhcp equal",
        ],
    );
    assert!(
        text.contains("only Suricata 0, only flowscope 0\n"),
        "{text}"
    );
}

/// The corpus captures with DHCP traffic (tshark's protocol list in
/// REF_tshark.jsonl); Suricata writes `dhcp` records on 23 of them
/// (capwap.pcap's DHCP is inside CAPWAP, which neither tool decodes).
const DHCP_CAPTURES: [&str; 24] = [
    "ndpi/pcap/1kxun.pcap",
    "ndpi/pcap/alexa-app.pcapng",
    "ndpi/pcap/android.pcap",
    "ndpi/pcap/capwap.pcap",
    "ndpi/pcap/dhcp-fuzz.pcapng",
    "ndpi/pcap/fuzz-2006-06-26-2594.pcap",
    "ndpi/pcap/gnutella.pcap",
    "ndpi/pcap/iphone.pcap",
    "ndpi/pcap/signal.pcap",
    "ndpi/pcap/teams.pcap",
    "ndpi/pcap/telegram.pcap",
    "ndpi/pcap/wa_video.pcap",
    "ndpi/pcap/wa_voice.pcap",
    "ndpi/pcap/wechat.pcap",
    "ndpi/pcap/whatsapp_login_call.pcap",
    "ndpi/pcap/whatsapp_login_chat.pcap",
    "ndpi/pcap/zoom.pcap",
    "pcap-parser/test001-be.pcapng",
    "pcap-parser/test001-le.pcapng",
    "pcap-parser/test010-le.pcapng",
    "pcap-parser/test016-be.pcapng",
    "pcap-parser/test016-le.pcapng",
    "pcapplusplus/Pcap++Test/raw_ip.pcap",
    "pcapplusplus/Pcap++Test/sll.pcap",
];

/// `tftp` records against Suricata 7's on nDPI's tftp.pcap, the corpus's
/// TFTP capture (scripts/suricata_compare.py): every request record for
/// the same flows in the same order with equal fields, and `app_proto:
/// tftp` on the same flows: the request flows, the one whose request has
/// no mode too (the port decides); the transfers, between two other
/// ports, are `failed` in both.
#[test]
fn tftp_records_match_suricata() {
    let Some(corpus) = corpus() else { return };
    if !have_suricata("the TFTP record cross-check") {
        return;
    }
    let text = suricata_compare(&corpus, "tftp", &captures(&["ndpi/pcap/tftp.pcap"]));
    assert!(text.contains("captures with tftp records: 1"), "{text}");
    assert_all_equal(
        &text,
        &[
            "tftp records matched",
            "tftp order equal",
            "tftp fields equal (worst field)",
            "app_proto tftp equal",
        ],
    );
    assert!(
        text.contains("only Suricata 0, only flowscope 0\n"),
        "{text}"
    );
}

/// `bittorrent_dht` records against Suricata 7's on the corpus's three
/// captures where it writes them (scripts/suricata_compare.py; the
/// records are compared on flows of `app_proto: bittorrent-dht`): every
/// query and response record for the same flows in the same order with
/// equal fields, and `app_proto: bittorrent-dht` on the same six flows —
/// among them one whose uTP datagrams, on the same ports, are passed
/// over.
#[test]
fn bittorrent_dht_records_match_suricata() {
    let Some(corpus) = corpus() else { return };
    if !have_suricata("the BitTorrent DHT record cross-check") {
        return;
    }
    let mut args: Vec<&OsStr> = vec!["--event-type".as_ref(), "bittorrent_dht".as_ref()];
    args.extend(captures(&[
        "ndpi/pcap/lru_ipv6_caches.pcapng",
        "ndpi/pcap/bittorrent_utp.pcap",
        "ndpi/pcap/targusdataspeed_false_positives.pcap",
    ]));
    let text = suricata_compare(&corpus, "bittorrent-dht", &args);
    assert!(
        text.contains("captures with bittorrent-dht records: 3"),
        "{text}"
    );
    assert!(
        text.contains("bittorrent-dht records matched 12/12 = 100.0 %"),
        "{text}"
    );
    assert_all_equal(
        &text,
        &[
            "bittorrent-dht order equal",
            "bittorrent-dht fields equal (worst field)",
            "app_proto bittorrent-dht equal",
        ],
    );
    assert!(
        text.contains("app_proto bittorrent-dht equal 6/6"),
        "{text}"
    );
    assert!(
        text.contains("only Suricata 0, only flowscope 0\n"),
        "{text}"
    );
}

/// NTP flows named as Suricata 7 names them (it writes no `ntp` record):
/// every flow Suricata calls `ntp` on the corpus's NTP captures, and the
/// version 2 one neither calls so.
#[test]
fn ntp_flows_are_named_as_suricata_names_them() {
    let Some(corpus) = corpus() else { return };
    if !have_suricata("the NTP app_proto cross-check") {
        return;
    }
    let mut args = captures(&[
        "pcap-parser/ntp.pcap",
        "ndpi/pcap/NTPv4.pcap",
        "ndpi/pcap/NTPv2.pcap",
    ]);
    args.push("--no-records".as_ref());
    let text = suricata_compare(&corpus, "ntp", &args);
    assert!(
        text.contains("app_proto ntp equal over every capture tried: 7/7 = 100.0 %"),
        "{text}"
    );
}

/// Telnet is named (`app_proto: telnet`, no record) on the flow Suricata
/// calls `telnet` in the corpus's Telnet capture.
#[test]
fn telnet_flows_are_named_as_suricata_names_them() {
    let Some(corpus) = corpus() else { return };
    if !have_suricata("the Telnet app_proto cross-check") {
        return;
    }
    let mut args = captures(&["ndpi/pcap/telnet.pcap"]);
    args.push("--no-records".as_ref());
    let text = suricata_compare(&corpus, "telnet", &args);
    assert!(
        text.contains("app_proto telnet equal over every capture tried: 1/1 = 100.0 %"),
        "{text}"
    );
}

/// `smtp` records against Suricata 7's on the corpus's SMTP captures
/// (scripts/suricata_compare.py): every transaction record Suricata writes
/// (a plain message, a STARTTLS flow over IPv4 and one over VLAN IPv6, an
/// unfinished message with an attachment on port 587), for the same flows
/// in the same order, with equal envelope and email fields, and
/// `app_proto: smtp` on the same flows. The STARTTLS flows' `tls` records
/// keep `from_proto: smtp` and their flows `app_proto: tls`.
#[test]
fn smtp_records_match_suricata() {
    let Some(corpus) = corpus() else { return };
    if !have_suricata("the SMTP record cross-check") {
        return;
    }
    let caps = captures(&[
        "ndpi/pcap/smtp.pcap",
        "ndpi/pcap/smtp-starttls.pcap",
        "ndpi/pcap/emotet.pcap",
    ]);
    for (proto, count, labels) in [
        (
            "smtp",
            3,
            &[
                "smtp records matched",
                "smtp order equal",
                "smtp fields equal (worst field)",
                "app_proto smtp equal",
                "app_proto any equal",
            ][..],
        ),
        (
            "tls",
            2,
            &[
                "tls records matched",
                "field tls.from_proto equal",
                "app_proto tls equal",
            ][..],
        ),
    ] {
        let text = suricata_compare(&corpus, proto, &caps);
        assert!(
            text.contains(&format!("captures with {proto} records: {count}")),
            "{text}"
        );
        assert_all_equal(&text, labels);
        assert!(
            text.contains("only Suricata 0, only flowscope 0\n"),
            "{text}"
        );
    }
}

/// HTTP/2 streams (Suricata's `http` records on `app_proto: http2` flows)
/// against Suricata's: the corpus's h2c capture and one made with curl
/// (`--http2-prior-knowledge`: two GETs on one connection, a POST, a GET
/// with more headers) against a small h2c server on loopback.
#[test]
fn http2_records_match_suricata() {
    let Some(corpus) = corpus() else { return };
    if !have_suricata("the HTTP/2 record cross-check") {
        return;
    }
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captures/h2c-curl.pcap");
    let args: Vec<&OsStr> = vec![
        "--event-type".as_ref(),
        "http".as_ref(),
        "suricata-verify/dns-over-http2-limit/input.pcap".as_ref(),
        own.as_os_str(),
    ];
    let text = suricata_compare(&corpus, "http2", &args);
    assert!(text.contains("captures with http2 records: 2"), "{text}");
    assert_all_equal(
        &text,
        &[
            "http2 records matched",
            "http2 order equal",
            "http2 fields equal (worst field)",
            "app_proto http2 equal",
        ],
    );
    assert!(
        text.contains("only Suricata 0, only flowscope 0\n"),
        "{text}"
    );
}

/// HTTP/1.1 upgraded to h2c (`Upgrade: h2c`, `101 Switching Protocols`)
/// against Suricata's, on io/cli/tests/captures/h2c-upgrade.pcap (11 KB,
/// made on loopback: curl 7.88 `--http2` and nghttp 1.52 `-u` against
/// Apache 2.4's mod_http2 with `Protocols h2c http/1.1`: two GETs on one
/// upgraded connection, nghttp's PRIORITY tree, a 404, a HEAD; and curl
/// offering h2c to Python's http.server, which declines, so the flow stays
/// HTTP/1): the 101 transaction, stream 1 as the mimicked request, the
/// `HTTP2-Settings` transaction, `app_proto: http2` with `app_proto_orig:
/// http`. Not compared: GOAWAY's `error_code`, where Suricata 7 writes the
/// last stream id (1 or 3 here) instead of the error code (0); and the
/// order across flows, since Suricata ends these flows at the end of the
/// input rather than at their FIN or RST.
#[test]
fn h2c_upgrade_records_match_suricata() {
    let Some(corpus) = corpus() else { return };
    if !have_suricata("the h2c upgrade cross-check") {
        return;
    }
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captures/h2c-upgrade.pcap");
    let args: Vec<&OsStr> = vec!["--event-type".as_ref(), "http".as_ref(), own.as_os_str()];
    let text = suricata_compare(&corpus, "http2", &args);
    assert!(text.contains("http2 records matched 30/30"), "{text}");
    assert!(
        text.contains("only Suricata 0, only flowscope 0\n"),
        "{text}"
    );
    assert_all_equal(
        &text,
        &[
            "app_proto http2 equal",
            "app_proto any equal",
            "field tx_id equal",
            "field http.http2.stream_id equal",
            "field http.http2.request.settings equal",
            "field http.http2.response.settings equal",
            "field http.http2.request.priority equal",
            "field http.request_headers equal",
            "field http.response_headers equal",
            "field http.url equal",
            "field http.status equal",
            "field http.http_method equal",
            "field http.http_port equal",
            "field http.hostname equal",
            "field http.length equal",
        ],
    );
    // The declined offer: HTTP/1 records, app_proto http.
    let text = suricata_compare(&corpus, "http", &[own.as_os_str()]);
    assert_all_equal(&text, &["app_proto http equal", "app_proto any equal"]);
}

/// `[parsers.tls] app_proto_from_alpn`: a TLS flow whose server chose
/// `h2` is `app_proto: http2` with `app_proto_orig: tls`; by default it
/// stays `tls`, as Suricata names it (nDPI's 443-firefox.pcap: one flow,
/// ALPN h2).
#[test]
fn alpn_h2_names_http2_when_asked() {
    let Some(corpus) = corpus() else { return };
    let cap = corpus.join("ndpi/pcap/443-firefox.pcap");
    let dir = tmpdir("alpn");
    let config = dir.join("alpn.toml");
    std::fs::write(&config, "[parsers.tls]\napp_proto_from_alpn = true\n").unwrap();
    let protos = |extra: &[&OsStr]| -> Vec<(String, String)> {
        records(&replay_stdout(extra, &cap))
            .into_iter()
            .filter(|r| r["event_type"] == "flow" && r["proto"] == "TCP")
            .map(|r| {
                let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
                (s("app_proto"), s("app_proto_orig"))
            })
            .collect()
    };
    assert_eq!(protos(&[]), [("tls".to_string(), String::new())]);
    assert_eq!(
        protos(&["--config".as_ref(), config.as_os_str()]),
        [("http2".to_string(), "tls".to_string())]
    );
}

/// `sip` records against Suricata 7's on the corpus's SIP captures
/// (scripts/suricata_compare.py): every request and response Suricata
/// writes, for the same flows in the same order, with equal start-line
/// fields, and `app_proto: sip` on the same flows but one. Two captures
/// also hold what Suricata rejects (keepalives, requests sent by the
/// responder, responses by the initiator), which must give no record
/// either. The one flow: webex.pcap's REGISTERs pause 33 s, past
/// Suricata's 30 s timeout for a UDP flow with one direction, so Suricata
/// writes two flows where flowscope (`udp_timeout` 60 s) writes one.
#[test]
fn sip_records_match_suricata() {
    let Some(corpus) = corpus() else { return };
    if !have_suricata("the SIP record cross-check") {
        return;
    }
    let caps = captures(&[
        "ndpi/pcap/sip.pcap",
        "ndpi/pcap/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
        "ndpi/pcap/webex.pcap",
    ]);
    let text = suricata_compare(&corpus, "sip", &caps);
    assert!(text.contains("captures with sip records: 3"), "{text}");
    assert!(text.contains("sip records matched 179/179"), "{text}");
    assert_all_equal(
        &text,
        &[
            "sip records matched",
            "sip order equal",
            "sip fields equal (worst field)",
        ],
    );
    assert!(text.contains("app_proto sip equal 6/7"), "{text}");
    assert!(
        text.contains("only Suricata 0, only flowscope 0\n"),
        "{text}"
    );
}

/// `rfb` records against Suricata 7's on the corpus's VNC capture
/// (scripts/suricata_compare.py): both connections' records, with equal
/// protocol versions and security type (13, which neither follows), and
/// `app_proto: rfb` on the same flows.
#[test]
fn rfb_records_match_suricata() {
    let Some(corpus) = corpus() else { return };
    if !have_suricata("the RFB record cross-check") {
        return;
    }
    let text = suricata_compare(&corpus, "rfb", &captures(&["ndpi/pcap/vnc.pcap"]));
    assert!(text.contains("captures with rfb records: 1"), "{text}");
    assert!(text.contains("rfb records matched 2/2"), "{text}");
    assert_all_equal(
        &text,
        &[
            "rfb records matched",
            "rfb order equal",
            "rfb fields equal (worst field)",
            "app_proto rfb equal",
        ],
    );
    assert!(
        text.contains("only Suricata 0, only flowscope 0\n"),
        "{text}"
    );
}

/// `mqtt` records against Suricata 7's (its MQTT passwords off, as
/// flowscope's default) on the committed capture of mosquitto traffic
/// (scripts/make-mqtt-capture.sh: MQTT 3.1, 3.1.1 and 5, QoS 0/1/2 both
/// ways, retain, subscribe/unsubscribe, a will, v5 properties, pings,
/// disconnects): every transaction Suricata writes (CONNECT with CONNACK,
/// PUBLISH with its acknowledgements, SUBSCRIBE with SUBACK...), for the
/// same flows in the same order, every field equal, and `app_proto: mqtt`
/// on the same flows. The corpus's MQTT captures start mid-stream, where
/// Suricata writes no mqtt record.
#[test]
fn mqtt_records_match_suricata() {
    let Some(corpus) = corpus() else { return };
    if !have_suricata("the MQTT record cross-check") {
        return;
    }
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captures/mqtt-mosquitto.pcap");
    let text = suricata_compare(&corpus, "mqtt", &[own.as_os_str()]);
    assert!(text.contains("captures with mqtt records: 1"), "{text}");
    assert!(text.contains("mqtt records matched 50/50"), "{text}");
    assert_all_equal(
        &text,
        &[
            "mqtt records matched",
            "mqtt order equal",
            "mqtt fields equal (worst field)",
            "app_proto mqtt equal",
        ],
    );
    assert!(
        text.contains("only Suricata 0, only flowscope 0\n"),
        "{text}"
    );
}
