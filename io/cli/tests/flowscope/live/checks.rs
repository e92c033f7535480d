//! What the live test checks in the records of a capture of its clients
//! and servers: each HTTP request, DNS answer and TLS handshake, and a flow
//! record for every connection.

use serde_json::Value;

/// The ports of the HTTP and DNS servers, as their records must name them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ports {
    pub(super) http: u16,
    pub(super) dns: u16,
}

/// The records of these kinds (`event_type`), in order.
pub(super) fn of_kind<'a>(recs: &'a [Value], kinds: &[&str]) -> Vec<&'a Value> {
    recs.iter()
        .filter(|r| kinds.iter().any(|k| r["event_type"] == *k))
        .collect()
}

/// The application and flow records a capture on `iface` must hold: three
/// HTTP requests (two on one keep-alive connection), a query and an
/// answer for each DNS name, one TLS handshake with its SNI, and a flow
/// record for each connection (and with `two_interfaces`, for the
/// datagram on `lo`).
pub(super) fn check_records(live: &[Value], iface: &str, ports: Ports, two_interfaces: bool) {
    let http = of_kind(live, &["http"]);
    let urls: Vec<&str> = http
        .iter()
        .map(|r| r["http"]["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, ["/one", "/two?x=1", "/three"], "{http:#?}");
    for r in &http {
        assert_eq!(r["http"]["hostname"], super::WEB_HOST);
        assert_eq!(r["http"]["status"], 200);
        assert_eq!(r["dest_port"], ports.http);
    }
    assert_eq!(
        http[0]["flow_id"], http[1]["flow_id"],
        "/one and /two shared a keep-alive connection"
    );
    assert_ne!(http[0]["flow_id"], http[2]["flow_id"]);

    let dns: Vec<&Value> = of_kind(live, &["dns"]);
    for name in super::NAMES {
        let answered = dns.iter().any(|r| {
            r["dns"]["rrname"] == name
                && r["dns"]["type"] == "answer"
                && r["dns"].to_string().contains("10.213.0.99")
        });
        assert!(answered, "no answer record for {name}: {dns:#?}");
        assert!(
            dns.iter()
                .any(|r| r["dns"]["rrname"] == name && r["dns"]["type"] == "query"),
            "no query record for {name}"
        );
    }

    let tls = of_kind(live, &["tls"]);
    assert_eq!(tls.len(), 1, "{tls:#?}");
    assert_eq!(tls[0]["tls"]["sni"], super::SNI);

    // A flow record for every connection: two HTTP, one TLS, and the DNS
    // exchange (UDP, open at shutdown unless it timed out).
    let flows = of_kind(live, &["flow"]);
    for r in http.iter().chain(&tls) {
        let flow = flows
            .iter()
            .find(|f| f["flow_id"] == r["flow_id"])
            .unwrap_or_else(|| panic!("no flow record for {r}"));
        let reason = flow["flow"]["end_reason"].as_str().unwrap();
        assert!(
            ["fin", "shutdown"].contains(&reason),
            "TCP connection ended by {reason}: {flow}"
        );
        assert_eq!(flow["proto"], "TCP");
        assert_eq!(flow["in_iface"], iface, "{flow}");
    }
    if two_interfaces {
        let on_lo = flows
            .iter()
            .find(|f| f["dest_port"] == 9)
            .expect("a flow record for the datagram on lo");
        assert_eq!(on_lo["in_iface"], "lo");
        assert_eq!(on_lo["proto"], "UDP");
    }
    assert!(
        flows
            .iter()
            .any(|f| f["proto"] == "UDP" && f["dest_port"] == ports.dns),
        "no flow record for the DNS exchange"
    );
}
