//! EVE records in Suricata 7's formats on real captures: `+0000`
//! timestamps, Suricata's `flow.reason` words beside flowscope's
//! `flow.end_reason`, `flow.alerted`, `tcp.state`, ICMP response types,
//! DNS `version`/`tx_id` and the root as the empty name, and HTTP's media
//! type and chunked `length` as Suricata 7.0.10 writes them for the same
//! captures.

use super::{bin, corpus, records};
use serde_json::Value;
use std::path::Path;

fn replay(corpus: &Path, file: &str) -> Vec<Value> {
    let out = bin()
        .args(["replay", "-q"])
        .arg(corpus.join(file))
        .output()
        .unwrap();
    assert!(out.status.success(), "{file}: {out:?}");
    records(&out.stdout)
}

/// `YYYY-MM-DDTHH:MM:SS.ffffff+0000`.
fn is_eve_time(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    let b = s.as_bytes();
    b.len() == 31
        && s.ends_with("+0000")
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'.',
            26 => c == b'+',
            _ => c.is_ascii_digit(),
        })
}

#[test]
fn flow_dns_and_http_records_use_suricatas_formats() {
    let Some(corpus) = corpus() else { return };
    let recs = replay(&corpus, "dpkt/nb6-http.pcap");
    assert!(recs.len() > 20);
    for r in &recs {
        assert!(is_eve_time(&r["timestamp"]), "{r}");
        match r["event_type"].as_str() {
            Some("flow") => {
                let f = &r["flow"];
                assert!(is_eve_time(&f["start"]) && is_eve_time(&f["end"]), "{r}");
                assert_eq!(f["alerted"], false, "{r}");
                assert!(
                    ["timeout", "forced", "shutdown"].contains(&f["reason"].as_str().unwrap()),
                    "{r}"
                );
                assert!(f["end_reason"].is_string(), "{r}");
            }
            Some("dns") => {
                assert_eq!(r["dns"]["version"], 2, "{r}");
                assert!(r["dns"]["tx_id"].is_u64(), "{r}");
            }
            _ => {}
        }
    }
    // The HTTP connections closed by FIN, as Suricata 7.0.10 writes their
    // TCP state.
    let closed: Vec<&Value> = recs
        .iter()
        .filter(|r| r["event_type"] == "flow" && r["flow"]["end_reason"] == "fin")
        .collect();
    assert!(closed.len() >= 2);
    assert!(closed.iter().all(|r| r["tcp"]["state"] == "closed"));
    // Pings answered: Suricata 7.0.10 writes the reply's type.
    let recs = replay(&corpus, "dpkt/dns_icmp.pcap");
    let ping = recs
        .iter()
        .find(|r| r["event_type"] == "flow" && r["proto"] == "ICMP" && r["icmp_type"] == 8)
        .expect("an echo request flow");
    assert_eq!(ping["response_icmp_type"], 0);
}

#[test]
fn dns_root_and_http_chunked_length_as_suricata_writes_them() {
    let Some(corpus) = corpus() else { return };
    // An NS query for the root: Suricata 7.0.10 writes `"rrname":""`.
    let recs = replay(&corpus, "ndpi/pcap/dns-google-nsid.pcapng");
    let root: Vec<&Value> = recs
        .iter()
        .filter(|r| r["event_type"] == "dns" && r["dns"]["rrtype"] == "NS")
        .collect();
    assert!(!root.is_empty());
    assert!(root.iter().all(|r| r["dns"]["rrname"] == ""), "{root:?}");
    let answer = root.iter().find(|r| r["dns"]["type"] == "answer").unwrap();
    assert_eq!(answer["dns"]["answers"][0]["rrname"], "");
    assert_eq!(
        answer["dns"]["tx_id"], 1,
        "the response is the flow's second"
    );

    // A chunked response (one 0x1fa-byte chunk): Suricata 7.0.10 writes
    // `length` 516 (size line, data, line end, last-chunk line) and the
    // media type without its `charset` parameter.
    let recs = replay(&corpus, "ndpi/pcap/1kxun.pcap");
    let getvkey = recs
        .iter()
        .find(|r| {
            r["event_type"] == "http"
                && r["http"]["url"] == "/api/proxy?url=http%3A%2F%2Fvv.video.qq.com%2Fgetvkey"
        })
        .expect("the getvkey transaction");
    assert_eq!(getvkey["http"]["length"], 516);
    assert_eq!(getvkey["http"]["response_body_len"], 506);
    let typed = recs
        .iter()
        .find(|r| r["event_type"] == "http" && r["http"]["url"] == "/api/videos/10410.json")
        .expect("the 10410.json transaction");
    assert_eq!(typed["http"]["http_content_type"], "application/json");
}

/// The path of every member of `v`, recursively (`dns.answers[].rrname`).
fn paths(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                out.push(p.clone());
                paths(x, &p, out);
            }
        }
        Value::Array(items) => {
            for x in items {
                paths(x, &format!("{at}[]"), out);
            }
        }
        _ => {}
    }
}

/// `--eve-profile strict`: the same records in the same order with only
/// Suricata's members (none of flowscope's own), IPv6 endpoints expanded
/// as Suricata 7 writes them, the values unchanged.
#[test]
fn the_strict_profile_keeps_only_suricatas_fields() {
    let Some(corpus) = corpus() else { return };
    for file in ["ndpi/pcap/http_ipv6.pcap", "ndpi/pcap/443-curl.pcap"] {
        let default = replay(&corpus, file);
        let out = bin()
            .args(["replay", "-q", "--eve-profile", "strict"])
            .arg(corpus.join(file))
            .output()
            .unwrap();
        assert!(out.status.success(), "{file}: {out:?}");
        let strict = records(&out.stdout);
        assert_eq!(strict.len(), default.len(), "{file}");
        let mut v6 = 0;
        for (s, d) in strict.iter().zip(&default) {
            assert_eq!(s["event_type"], d["event_type"], "{file}");
            assert_eq!(s["timestamp"], d["timestamp"], "{file}");
            let mut got = Vec::new();
            paths(s, "", &mut got);
            for own in [
                "flow.end_reason",
                "flow.conn_state",
                "flow.history",
                "flow.payload_bytes_toserver",
                "tls.san",
                "tls.parsing",
                "stats.schema_version",
                "stats.packets",
            ] {
                assert!(!got.iter().any(|p| p == own), "{file}: {own} in {s}");
            }
            if d["event_type"] == "flow" {
                assert_eq!(s["flow"]["pkts_toserver"], d["flow"]["pkts_toserver"]);
                assert_eq!(s["flow"]["reason"], d["flow"]["reason"]);
                assert_eq!(s["community_id"], d["community_id"]);
            }
            if let (Some(a), Some(b)) = (s["src_ip"].as_str(), d["src_ip"].as_str())
                && b.contains(':')
            {
                v6 += 1;
                let want: std::net::Ipv6Addr = b.parse().unwrap();
                assert_eq!(a.len(), 39, "{a}: eight groups of four digits");
                assert_eq!(a.parse::<std::net::Ipv6Addr>().unwrap(), want);
            }
        }
        assert!(
            file.contains("ipv6") == (v6 > 0),
            "{file}: {v6} IPv6 records"
        );
    }
}
