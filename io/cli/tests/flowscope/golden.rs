//! Golden files: the exact records of a few small captures, in both
//! profiles, kept in `io/cli/tests/golden/` — any change to what flowscope
//! writes for them shows up as a diff to review. The demo capture always
//! runs; the others come from the corpus (skipped loudly without it).
//! `FLOWSCOPE_BLESS=1 cargo test --profile ci -p flowscope-cli --test
//! flowscope golden` rewrites the files after an intended change.

use super::{bin, corpus};
use std::path::{Path, PathBuf};

/// Corpus captures with a golden file each: DNS and ICMP, HTTP, TLS 1.2,
/// QUIC draft 29 and v2, HTTP over IPv6, IPv6 in a GTP tunnel.
const CAPTURES: [(&str, &str); 7] = [
    ("dns-icmp", "dpkt/dns_icmp.pcap"),
    ("http", "dpkt/http.pcap"),
    ("tls", "ndpi/pcap/443-curl.pcap"),
    ("quic-draft29", "ndpi/pcap/quic-29.pcap"),
    ("quic-v2", "suricata-verify/quic-v2-ja3/input.pcap"),
    ("http-ipv6", "ndpi/pcap/http_ipv6.pcap"),
    ("gtp-ipv6", "ndpi/pcap/ipv6_in_gtp.pcap"),
];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// `flowscope replay -q [--eve-profile strict] [INPUT]`'s stdout.
fn records(input: Option<&Path>, profile: &str) -> Vec<u8> {
    let mut cmd = bin();
    cmd.args(["replay", "-q", "--eve-profile", profile]);
    if let Some(p) = input {
        cmd.arg(p);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{input:?}: {out:?}");
    out.stdout
}

/// Compares `got` with the golden file `name` (or writes it, blessing).
fn check(name: &str, got: &[u8]) {
    let path = golden_dir().join(name);
    if std::env::var_os("FLOWSCOPE_BLESS").is_some() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (FLOWSCOPE_BLESS=1 writes it)", path.display()));
    if want != got {
        let (w, g) = (String::from_utf8_lossy(&want), String::from_utf8_lossy(got));
        let first = w
            .lines()
            .zip(g.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(w.lines().count().min(g.lines().count()));
        panic!(
            "{name} differs from its golden file at line {}:\n want: {}\n  got: {}\n\
             (review the change; FLOWSCOPE_BLESS=1 rewrites the file)",
            first + 1,
            w.lines().nth(first).unwrap_or("<end>"),
            g.lines().nth(first).unwrap_or("<end>"),
        );
    }
}

#[test]
fn the_demo_capture_writes_its_golden_records() {
    for profile in ["default", "strict"] {
        check(&format!("demo.{profile}.jsonl"), &records(None, profile));
    }
}

#[test]
fn small_corpus_captures_write_their_golden_records() {
    let Some(corpus) = corpus() else { return };
    for (name, file) in CAPTURES {
        for profile in ["default", "strict"] {
            let got = records(Some(&corpus.join(file)), profile);
            check(&format!("{name}.{profile}.jsonl"), &got);
        }
    }
}
