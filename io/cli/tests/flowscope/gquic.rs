//! Google QUIC against Suricata 7 (scripts/suricata_compare.py) on the
//! corpus captures that hold gQUIC (Q024–Q050): a `quic` record for each
//! packet that carries a version, with Suricata's `version`, `sni`, `ua`
//! and `cyu`, and `app_proto: quic` on the same flows.

use super::corpus;
use super::corpus::{assert_figures, captures, have_suricata, suricata_compare};

/// The captures: Q039, Q043, Q046, Q050 alone, Q024–Q035 among others,
/// and gQUIC inside other traffic.
const GQUIC: &[&str] = &[
    "ndpi/pcap/quic_q39.pcap",
    "ndpi/pcap/quic_q43.pcap",
    "ndpi/pcap/quic_q46.pcap",
    "ndpi/pcap/quic_q46_b.pcap",
    "ndpi/pcap/quic_q50.pcap",
    "ndpi/pcap/quic046.pcap",
    "ndpi/pcap/gquic.pcap",
    "tcpdump/gquic.pcap",
    "ndpi/pcap/quic.pcap",
    "ndpi/pcap/youtube_quic.pcap",
    "ndpi/pcap/http_ipv6.pcap",
    "ndpi/pcap/snapchat_call.pcapng",
    "ndpi/pcap/telegram.pcap",
    "ndpi/pcap/wechat.pcap",
    "ndpi/pcap/youtubeupload.pcap",
];

/// Every record Suricata writes, in its order, with every field equal.
/// Two flows are `quic` for Suricata alone: they start mid-connection
/// with packets that carry no version (docs/parsers.md, "Google QUIC").
#[test]
fn gquic_records_match_suricata() {
    let Some(corpus) = corpus() else { return };
    if !have_suricata("the gQUIC record cross-check") {
        return;
    }
    let text = suricata_compare(&corpus, "quic", &captures(GQUIC));
    assert!(text.contains("captures with quic records: 15"), "{text}");
    assert_figures(
        &text,
        &[
            ("quic records matched", 100.0),
            ("quic order equal", 100.0),
            ("quic fields equal (worst field)", 100.0),
            ("field quic.cyu equal", 100.0),
            ("field quic.ua equal", 100.0),
            ("app_proto quic equal", 93.3),
        ],
    );
    assert!(text.contains("quic records only Suricata 0,"), "{text}");
}
