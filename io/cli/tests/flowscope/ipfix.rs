//! `--ipfix`: flow records exported to a real collector (nfdump's nfcapd
//! on loopback) come back as the EVE flow records say
//! (scripts/ipfix_check.py), over UDP and over TCP; a collector that is not
//! there is a clear error (TCP) or counted, reported loss (UDP).

use crate::corpus::run_script;
use crate::{bin, corpus, tmpdir};
use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;

/// Whether nfcapd and nfdump are installed; when not, says loudly that
/// `what` did not run (and fails when FLOWSCOPE_REQUIRE_PEERS is set).
fn have_nfdump(what: &str) -> bool {
    let have = ["nfcapd", "nfdump"].iter().all(|t| {
        Command::new(t)
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !have {
        assert!(
            std::env::var_os("FLOWSCOPE_REQUIRE_PEERS").is_none(),
            "nfdump's nfcapd is required (FLOWSCOPE_REQUIRE_PEERS is set) but not installed"
        );
        eprintln!("\n*** SKIPPED: nfcapd/nfdump not installed; {what} did NOT run. ***\n");
    }
    have
}

fn check(extra: &[&str], captures: &[&str]) -> String {
    let corpus = corpus().expect("checked by the caller");
    let bin = Path::new(env!("CARGO_BIN_EXE_flowscope"));
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "--bin".as_ref(),
        bin.as_os_str(),
        "--corpus".as_ref(),
        corpus.as_os_str(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    args.extend(captures.iter().map(std::ffi::OsStr::new));
    run_script("ipfix_check.py", &args)
}

/// Every TCP and UDP flow of every corpus capture up to 4 MB (IPv4 and
/// IPv6, VLANs, tunnels, fragments) comes back from nfdump once, with the
/// EVE record's endpoints, times, packets and IP-level bytes each way.
/// One shard: its flows are exported where its records are rendered, on
/// the consuming thread.
#[test]
fn every_corpus_flow_reads_back_from_nfcapd_as_its_eve_record() {
    let Some(_) = corpus() else { return };
    if !have_nfdump("the IPFIX export check against nfcapd") {
        return;
    }
    let text = check(&["--max-bytes", "4000000", "--shards", "1"], &[]);
    assert!(text.contains(" 0 captures differ"), "{text}");
}

/// Over TCP the same records arrive: the stream, cut into messages by
/// their length fields, is read by the same collector. Two shards: each
/// takes its flows' exports where it renders their records.
#[test]
fn the_tcp_export_is_a_stream_of_whole_messages() {
    let Some(_) = corpus() else { return };
    if !have_nfdump("the IPFIX-over-TCP check against nfcapd") {
        return;
    }
    let text = check(
        &["--tcp", "--shards", "2"],
        &[
            "dpkt/http.pcap",
            "dpkt/dns_icmp.pcap",
            "ndpi/pcap/ssh.pcap",
            "ndpi/pcap/quic.pcap",
        ],
    );
    assert!(text.contains(" 0 captures differ (over TCP)"), "{text}");
}

/// A TCP collector that is not listening: a clear error before anything
/// is read, and no output file.
#[test]
fn an_absent_tcp_collector_is_an_error_up_front() {
    let dir = tmpdir("ipfix-absent");
    let out = dir.join("eve.json");
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = bin()
        .args(["replay", "-o"])
        .arg(&out)
        .arg("--ipfix")
        .arg(format!("tcp://127.0.0.1:{port}"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("ipfix collector"), "{err}");
    assert!(!out.exists(), "nothing was written");
}

/// Targets that are not `udp://HOST:PORT` or `tcp://HOST:PORT` are usage
/// errors naming the form.
#[test]
fn malformed_targets_are_usage_errors() {
    for t in [
        "127.0.0.1:4739",
        "udp://127.0.0.1",
        "tcp://:4739",
        "udp://h:0",
        "sctp://h:1",
    ] {
        let o = bin().args(["replay", "--ipfix", t]).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{t}: {err}");
        assert!(err.contains("HOST:PORT"), "{t}: {err}");
    }
}

/// Over UDP, a collector that is not there (ICMP port unreachable) does
/// not stop the run: every EVE record is written, and the flows that could
/// not be sent are counted and reported, with a failing exit status.
#[test]
fn udp_flows_that_cannot_be_sent_are_counted_and_reported() {
    // A port nothing listens on.
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tmpdir("ipfix-udp-lost");
    let cfg = dir.join("small.toml");
    // Small messages: several sends, so the refusal is seen.
    std::fs::write(&cfg, "[ipfix]\nmax_message = 512\n").unwrap();
    let o = bin()
        .args(["replay", "--shards", "1", "--config"])
        .arg(&cfg)
        .arg("--ipfix")
        .arg(format!("udp://127.0.0.1:{port}"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    let flows = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.contains("\"event_type\":\"flow\""))
        .count();
    assert!(flows > 0);
    assert!(err.contains("cannot send to udp://"), "{err}");
    assert!(err.contains("flows could not be exported"), "{err}");
    assert_ne!(o.status.code(), Some(0), "{err}");
}

/// `[ipfix]` values out of range are configuration errors naming the key.
#[test]
fn ipfix_settings_are_checked() {
    let dir = tmpdir("ipfix-config");
    for (text, key) in [
        ("[ipfix]\nmax_message = 100\n", "max_message"),
        ("[ipfix]\ntemplate_every = 0\n", "template_every"),
        ("[ipfix]\ntarget = \"udp:/x\"\n", "udp://HOST:PORT"),
        ("[ipfix]\nmtu = 1400\n", "mtu"),
    ] {
        let cfg = dir.join("c.toml");
        std::fs::write(&cfg, text).unwrap();
        let o = bin()
            .args(["replay", "--config"])
            .arg(&cfg)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{text}");
        assert!(err.contains(key), "{text}: {err}");
    }
}
