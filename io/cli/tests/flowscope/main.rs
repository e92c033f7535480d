//! End-to-end tests of the `flowscope` binary and of the command library
//! on real captures, by theme: replay output ([`replay`]), exit statuses
//! and error handling ([`exits`]), floods under the budgets ([`floods`]),
//! unwritable stderr, outputs naming
//! inputs and out-of-range values ([`faults`]), changing inputs
//! ([`inputs`]), the ingest's keying pool ([`ingest_threads`]), `streams` ([`streams`]), fragmented tunnels over every
//! shard count ([`tunnels`]), protocol anomalies and Suricata's counters
//! ([`applayer`]), the capture corpus and the peer
//! tools ([`corpus`]), application-layer records against Suricata 7's ([`suricata_records`], [`enterprise_records`]) and Google QUIC's records against Suricata's ([`gquic`]), Suricata 7's record formats ([`eve_format`]), the
//! EVE JSON Schema and its Suricata markers ([`schema`]), golden files of
//! both output profiles ([`golden`]), live
//! capture ([`live`]), hostile surroundings ([`hostile`]), where `-o`
//! sends records ([`sinks`]) and Kafka brokers reading them back (`kafka`). One integration-test binary, so it is linked once; this
//! file holds the helpers they share.
//!
//! Corpus tests read `$FLOWSCOPE_CORPUS` or `../shared/corpus`; when neither
//! exists they print a loud SKIPPED line and return.

use flowscope_io::{PcapPrecision, PcapWriter};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

mod applayer;
mod corpus;
mod enterprise_records;
mod eve_format;
mod exits;
mod faults;
mod floods;
mod golden;
mod gquic;
mod hostile;
mod ingest_threads;
mod inputs;
mod ipfix;
#[cfg(feature = "kafka")]
mod kafka;
#[cfg(feature = "live")]
mod live;
mod replay;
mod schema;
mod sinks;
mod stops;
mod streams;
mod suricata_records;
mod tunnels;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_flowscope"))
}

/// Sends signal `name` (`INT`, `TERM`, `HUP`) to process `pid` through
/// the shell's `kill` builtin: no procps needed on a bare machine.
fn send_signal(pid: u32, name: &str) {
    let ok = Command::new("sh")
        .args(["-c", "kill -s \"$0\" \"$1\""])
        .arg(name)
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(ok.success(), "kill -s {name} {pid}");
}

/// `flowscope replay -q ARGS PCAP`'s standard output; the run must succeed.
fn replay_stdout<S: AsRef<std::ffi::OsStr>>(args: &[S], pcap: &Path) -> Vec<u8> {
    let out = bin()
        .args(["replay", "-q"])
        .args(args)
        .arg(pcap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn records(stdout: &[u8]) -> Vec<Value> {
    std::str::from_utf8(stdout)
        .expect("output is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// A test's own directory under the system's temporary one, removed with
/// everything in it when the test is done with it; a failing test's is
/// kept (and named on stderr) so what it wrote can be read.
struct TestDir(PathBuf);

impl std::ops::Deref for TestDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TestDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for TestDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept for a look: {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A new directory of its own for each call (tests run in parallel, and
/// two may use the same name).
fn tmpdir(name: &str) -> TestDir {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("flowscope-test-{}-{n}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    TestDir(d)
}

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("FLOWSCOPE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    if dir.join("MANIFEST.tsv").exists() {
        Some(dir)
    } else {
        eprintln!(
            "\n*** SKIPPED: no capture corpus at {} (set FLOWSCOPE_CORPUS). Corpus checks did NOT run. ***\n",
            dir.display()
        );
        None
    }
}

/// A raw-IP capture of `n` one-packet UDP flows (one second apart), from
/// `flows` distinct address pairs.
fn write_udp_capture(path: &Path, n: u32, flows: u32) {
    let mut w = raw_ip_pcap(path);
    for i in 0..n {
        let f = i % flows.max(1);
        let (hi, lo) = ((f >> 8) as u8, f as u8);
        let pkt = [
            0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 1, hi, lo, 10, 2, 0, 1, 0x30, 0x39, 0,
            53, 0, 8, 0, 0,
        ];
        w.write_packet(
            flowscope_engine::Timestamp::new(1_000 + u64::from(i), 0),
            &pkt,
        )
        .unwrap();
    }
    w.into_inner().unwrap();
}

/// Writes `capture` into `stdin` once and then its packets over and over
/// until the reader goes away.
pub(crate) fn endless_feed(
    capture: &Path,
    mut stdin: std::process::ChildStdin,
) -> std::thread::JoinHandle<()> {
    use std::io::Write;
    const PCAP_HEADER: usize = 24;
    let bytes = std::fs::read(capture).unwrap();
    std::thread::spawn(move || {
        if stdin.write_all(&bytes).is_err() {
            return;
        }
        while stdin.write_all(&bytes[PCAP_HEADER..]).is_ok() {}
    })
}

/// A new µs pcap file of raw IP packets at `path`.
fn raw_ip_pcap(path: &Path) -> PcapWriter<std::fs::File> {
    PcapWriter::new(
        std::fs::File::create(path).unwrap(),
        flowscope_engine::LinkType::RAW,
        65535,
        PcapPrecision::Micros,
    )
    .unwrap()
}

fn manifest(corpus: &Path) -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() > 8).then(|| (cols[0].to_owned(), cols[8].contains("INVALID")))
        })
        .collect()
}
