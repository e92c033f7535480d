//! End-to-end tests of the `flowscope` binary and of the replay library on
//! real captures. The one integration-test binary of flowscope-io.
//!
//! Corpus tests read `$FLOWSCOPE_CORPUS` or `../shared/corpus`; when neither
//! exists they print a loud SKIPPED line and return.

use flowscope_io::config::Config;
use flowscope_io::pcap_writer::{PcapWriter, Precision};
use flowscope_io::replay::{Input, ReplayOptions, replay};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[cfg(feature = "live")]
mod live;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_flowscope"))
}

fn records(stdout: &[u8]) -> Vec<Value> {
    std::str::from_utf8(stdout)
        .expect("output is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("flowscope-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("FLOWSCOPE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
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

#[test]
fn demo_replay_reports_every_kind_of_flow() {
    let out = bin().args(["replay", "-q"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "-q keeps stderr quiet");
    let recs = records(&out.stdout);
    let flows: Vec<&Value> = recs.iter().filter(|r| r["event_type"] == "flow").collect();
    let find = |pred: &dyn Fn(&Value) -> bool| flows.iter().find(|r| pred(r)).copied();

    let http = find(&|r| r["dest_port"] == 80 && r["tunnel"].is_null()).expect("HTTP flow");
    assert_eq!(http["src_ip"], "192.0.2.10");
    assert_eq!(http["proto"], "TCP");
    assert_eq!(http["flow"]["reason"], "fin");
    assert_eq!(http["flow"]["conn_state"], "SF");
    assert_eq!(http["flow"]["history"], "ShADadFf");
    assert_eq!(http["flow"]["pkts_toserver"], 6);
    assert_eq!(http["flow"]["pkts_toclient"], 4);
    assert!(http["community_id"].as_str().unwrap().starts_with("1:"));
    assert_eq!(http["tcp"]["tcp_flags"], "1b");
    assert_eq!(http["timestamp"], "2023-11-14T22:13:20.105000+00:00");

    let reset = find(&|r| r["dest_port"] == 443).expect("RST flow");
    assert_eq!(
        (
            reset["flow"]["reason"].as_str(),
            reset["flow"]["conn_state"].as_str()
        ),
        (Some("rst"), Some("RSTO"))
    );
    let rejected = find(&|r| r["dest_port"] == 8080).expect("IPv6 flow");
    assert_eq!(rejected["flow"]["conn_state"], "REJ");
    assert_eq!(rejected["src_ip"], "2001:db8:1::10");
    let syn_only = find(&|r| r["dest_port"] == 22).expect("S0 flow");
    assert_eq!(
        (
            syn_only["flow"]["conn_state"].as_str(),
            syn_only["flow"]["reason"].as_str()
        ),
        (Some("S0"), Some("shutdown"))
    );
    let icmp = find(&|r| r["proto"] == "ICMP").expect("ICMP flow");
    assert_eq!(icmp["icmp_type"], 8);
    assert_eq!(icmp["flow"]["pkts_toclient"], 1);
    let ntp = find(&|r| r["dest_port"] == 123).expect("VLAN flow");
    assert_eq!(ntp["vlan"], serde_json::json!([42]));
    let tunnelled = find(&|r| !r["tunnel"].is_null()).expect("VXLAN flow");
    assert_eq!(tunnelled["tunnel"]["type"], "vxlan");
    assert_eq!(tunnelled["tunnel"]["id"], 4242);
    assert_eq!(tunnelled["src_ip"], "10.10.0.5");
    assert_eq!(tunnelled["dest_port"], 80);
    let fragmented = find(&|r| r["dest_port"] == 9999).expect("fragmented datagram");
    assert_eq!(fragmented["flow"]["pkts_toserver"], 3);
    assert_eq!(fragmented["flow"]["payload_bytes_toserver"], 3000);
    let syslog: Vec<_> = flows.iter().filter(|r| r["dest_port"] == 514).collect();
    assert_eq!(syslog.len(), 2, "the 90 s silence splits the UDP flow");
    assert_eq!(syslog[0]["flow"]["reason"], "idle_timeout");
    assert_eq!(
        syslog[0]["timestamp"], "2023-11-14T22:14:21.000000+00:00",
        "exact deadline: last packet + 60 s"
    );

    let anomalies: Vec<_> = recs
        .iter()
        .filter(|r| r["event_type"] == "anomaly")
        .collect();
    assert_eq!(anomalies.len(), 1);
    assert_eq!(anomalies[0]["anomaly"]["event"], "ipv4.trunc_pkt");
    assert_eq!(anomalies[0]["pcap_cnt"], 32);

    let stats = recs.last().unwrap();
    assert_eq!(stats["event_type"], "stats");
    assert_eq!(stats["stats"]["packets"], 35);
    assert_eq!(stats["stats"]["decoder"]["non_ip"], 1);
    assert_eq!(stats["stats"]["flow"]["created"], flows.len());
    assert_eq!(stats["stats"]["defrag"]["reassembled"], 1);

    // Records are in (pcap_cnt) order.
    let cnts: Vec<u64> = recs.iter().filter_map(|r| r["pcap_cnt"].as_u64()).collect();
    assert!(cnts.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn output_is_identical_on_rerun_and_to_a_file() {
    let a = bin().args(["replay", "-q"]).output().unwrap();
    let b = bin().args(["replay", "-q"]).output().unwrap();
    assert_eq!(a.stdout, b.stdout);
    let dir = tmpdir("outfile");
    let path = dir.join("out.json");
    let c = bin()
        .args(["replay", "-q", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(c.status.success());
    assert!(c.stdout.is_empty());
    assert_eq!(std::fs::read(&path).unwrap(), a.stdout);
}

#[test]
fn summary_goes_to_stderr() {
    let out = bin().arg("replay").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("35 packets"), "{err}");
    assert!(err.contains("flows: 11"), "{err}");
    assert!(err.contains("malformed 1 (ipv4.trunc_pkt 1)"), "{err}");
    assert!(records(&out.stdout).len() > 10);
}

/// A raw-IP capture of `n` one-packet UDP flows (one second apart), from
/// `flows` distinct address pairs.
fn write_udp_capture(path: &Path, n: u32, flows: u32) {
    let mut w = PcapWriter::new(
        std::fs::File::create(path).unwrap(),
        flowscope_engine::LinkType::RAW,
        65535,
        Precision::Micros,
    )
    .unwrap();
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

#[test]
fn broken_pipe_exits_quietly() {
    // A capture big enough that the output overflows the pipe buffer.
    let dir = tmpdir("pipe");
    let path = dir.join("many.pcap");
    write_udp_capture(&path, 20_000, 20_000);
    for shards in ["0", "2"] {
        let mut child = bin()
            .args(["replay", "--shards", shards])
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 64];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "shards={shards} stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("error"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Ctrl-C (and SIGTERM) in the middle of a long replay: the output ends
/// with a `shutdown` record for every flow still open and the stats record,
/// every line is valid JSON, every flow created has its record, and the
/// exit status is 128 + the signal.
#[test]
fn a_signal_mid_replay_flushes_every_flow_and_finishes_the_output() {
    let dir = tmpdir("signal");
    let path = dir.join("long.pcap");
    // 50k packets over 5k address pairs; read 400 times over it is far
    // longer than the test waits.
    write_udp_capture(&path, 50_000, 5_000);
    let inputs: Vec<&Path> = std::iter::repeat_n(path.as_path(), 400).collect();
    for (shards, signal, code) in [("0", "INT", 130), ("2", "INT", 130), ("1", "TERM", 143)] {
        let out_path = dir.join(format!("out-{shards}-{signal}.json"));
        let mut child = bin()
            .args(["replay", "--shards", shards, "-o"])
            .arg(&out_path)
            .args(&inputs)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until records are being written, so the signal lands mid-run.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::fs::metadata(&out_path).map_or(0, |m| m.len()) == 0 {
            assert!(std::time::Instant::now() < deadline, "no output after 60 s");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // The shell's built-in kill: no procps needed on a bare machine.
        let kill = Command::new("sh")
            .args(["-c", "kill -s \"$0\" \"$1\""])
            .arg(signal)
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(kill.success());
        let stderr = {
            let mut s = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut s).unwrap();
            s
        };
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "shards={shards}: {stderr}");
        assert!(
            stderr.contains(&format!("SIG{signal}: stopped reading")),
            "{stderr}"
        );

        let text = std::fs::read(&out_path).unwrap();
        assert_eq!(text.last(), Some(&b'\n'), "the last line is complete");
        let recs = records(&text);
        let stats = recs.last().unwrap();
        assert_eq!(stats["event_type"], "stats", "the output ends with stats");
        let packets = stats["stats"]["packets"].as_u64().unwrap();
        assert!(
            packets < 400 * 50_000,
            "the signal stopped the run early ({packets} packets)"
        );
        let flows: Vec<&Value> = recs.iter().filter(|r| r["event_type"] == "flow").collect();
        assert_eq!(
            flows.len() as u64,
            stats["stats"]["flow"]["created"].as_u64().unwrap(),
            "every flow has its record"
        );
        let shutdown = flows
            .iter()
            .filter(|r| r["flow"]["reason"] == "shutdown")
            .count();
        assert!(shutdown > 0, "open flows were flushed as shutdown");
        assert_eq!(
            shutdown as u64,
            stats["stats"]["flow"]["ended"]["shutdown"]
                .as_u64()
                .unwrap()
        );
        // The shutdown records close the output, after every other flow.
        let first_shutdown = flows
            .iter()
            .position(|r| r["flow"]["reason"] == "shutdown")
            .unwrap();
        assert!(
            flows[first_shutdown..]
                .iter()
                .all(|r| r["flow"]["reason"] == "shutdown")
        );
    }
}

#[test]
fn missing_and_damaged_files_fail_cleanly() {
    let out = bin()
        .args(["replay", "/nonexistent/file.pcap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "nothing is processed when an input cannot be opened"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/file.pcap"));

    // A good capture with its last record cut in half, followed by a good one.
    let dir = tmpdir("damaged");
    let good = dir.join("good.pcap");
    let cut = dir.join("cut.pcap");
    let demo = flowscope_io::demo::DEMO_PCAP;
    std::fs::write(&good, demo).unwrap();
    std::fs::write(&cut, &demo[..demo.len() - 30]).unwrap();
    let out = bin()
        .args(["replay", "-q"])
        .arg(&cut)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cut.pcap") && err.contains("byte offset"),
        "{err}"
    );
    let recs = records(&out.stdout);
    let stats = recs.last().unwrap();
    assert_eq!(
        stats["event_type"], "stats",
        "flows are flushed and the stats record written"
    );
    assert_eq!(
        stats["stats"]["packets"],
        34 + 35,
        "every packet before the damage, then the next file"
    );

    // Not a capture at all.
    let junk = dir.join("junk.pcap");
    std::fs::write(&junk, b"this is not a capture file").unwrap();
    let out = bin().args(["replay"]).arg(&junk).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a pcap or pcapng file"));
}

#[test]
fn config_errors_are_usage_errors() {
    let dir = tmpdir("config");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[flow]\nudp_timout = 5\n").unwrap();
    let out = bin().args(["replay", "-c"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("udp_timout"),
        "{err}"
    );

    std::fs::write(&bad, "[flow]\nmax_flows = 0\n").unwrap();
    let out = bin().args(["replay", "-c"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));

    let out = bin().args(["replay", "--no-such-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));

    // The shipped default config is accepted and changes nothing.
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/default.toml");
    let with = bin()
        .args(["replay", "-q", "-c"])
        .arg(&shipped)
        .output()
        .unwrap();
    let without = bin().args(["replay", "-q"]).output().unwrap();
    assert!(with.status.success());
    assert_eq!(with.stdout, without.stdout);

    // Every shipped config loads.
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    for entry in std::fs::read_dir(&configs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let out = bin()
                .args(["replay", "-q", "-c"])
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn config_changes_behaviour() {
    let dir = tmpdir("config2");
    let cfg = dir.join("c.toml");
    std::fs::write(
        &cfg,
        "[flow]\nudp_timeout = 300\n[output]\nstats = false\nanomalies = false\n\
         [parsers.http]\nenabled = false\n[parsers.dns]\nenabled = false\n",
    )
    .unwrap();
    let out = bin()
        .args(["replay", "-q", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    assert!(recs.iter().all(|r| r["event_type"] == "flow"));
    let syslog = recs.iter().filter(|r| r["dest_port"] == 514).count();
    assert_eq!(syslog, 1, "a 300 s timeout keeps the syslog flow whole");

    std::fs::write(&cfg, "[flow]\nkey = \"ip_pair\"\n").unwrap();
    let out = bin()
        .args(["replay", "-q", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    let web: Vec<_> = recs
        .iter()
        .filter(|r| {
            r["event_type"] == "flow"
                && (r["dest_ip"] == "198.51.100.80" || r["src_ip"] == "198.51.100.80")
        })
        .collect();
    assert_eq!(
        web.len(),
        1,
        "HTTP, ICMP and the fragmented datagram share one IP pair"
    );
    assert!(web[0]["src_port"].is_null());
}

/// Every shard count, either merge placement and pinning give the same
/// bytes as the single engine on the demo.
#[test]
fn shard_counts_and_merge_placement_do_not_change_the_output() {
    let inline = bin()
        .args(["replay", "-q", "--shards", "0"])
        .output()
        .unwrap();
    assert!(inline.status.success());
    let dir = tmpdir("merger");
    let cfg = dir.join("merger.toml");
    std::fs::write(
        &cfg,
        "[pipeline]\nmerger_thread = true\nbatch_packets = 3\nepoch_packets = 5\n",
    )
    .unwrap();
    let cfg_inline = dir.join("epoch.toml");
    std::fs::write(&cfg_inline, "[pipeline]\nepoch_packets = 5\n").unwrap();
    let small_epochs = bin()
        .args(["replay", "-q", "--shards", "0", "-c"])
        .arg(&cfg_inline)
        .output()
        .unwrap();
    for shards in ["1", "2", "3", "7"] {
        for extra in [&["--no-pin"][..], &["--pin"][..]] {
            let out = bin()
                .args(["replay", "-q", "--shards", shards])
                .args(extra)
                .output()
                .unwrap();
            assert!(out.status.success());
            assert_eq!(out.stdout, inline.stdout, "--shards {shards} {extra:?}");
        }
        let out = bin()
            .args(["replay", "-q", "--shards", shards, "-c"])
            .arg(&cfg)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            out.stdout, small_epochs.stdout,
            "--shards {shards} merger thread"
        );
    }
    let bad = bin().args(["replay", "--shards", "5000"]).output().unwrap();
    assert_eq!(
        bad.status.code(),
        Some(2),
        "out-of-range --shards is a usage error"
    );
}

#[test]
fn library_replay_matches_the_cli() {
    let opts = ReplayOptions::new(vec![Input::Demo], Config::default());
    let mut buf = Vec::new();
    let summary = replay(&opts, &mut buf).unwrap();
    assert_eq!(summary.stats.packets, 35);
    let cli = bin().args(["replay", "-q"]).output().unwrap();
    assert_eq!(buf, cli.stdout);
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

/// Every corpus capture: only the deliberately invalid ones error, nothing
/// panics, the output is byte-identical for 0 (inline), 1, 2, 3 and 4
/// shards, and a second run of the same command gives the same bytes.
#[test]
fn corpus_replays_cleanly_and_identically_for_any_shard_count() {
    let Some(corpus) = corpus() else { return };
    let files = manifest(&corpus);
    assert!(files.len() > 700, "manifest lists {} files", files.len());
    let mut failures = Vec::new();
    let mut compared = 0;
    for (path, invalid) in &files {
        let run = |shards: usize| {
            let mut opts =
                ReplayOptions::new(vec![Input::File(corpus.join(path))], Config::default());
            opts.shards = Some(shards);
            opts.pin = Some(false);
            let mut out = Vec::new();
            replay(&opts, &mut out).map(|s| (s, out))
        };
        let (summary, inline) = match run(0) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{path}: cannot replay: {e}"));
                continue;
            }
        };
        if summary.damaged.is_empty() == *invalid {
            failures.push(format!(
                "{path}: invalid={invalid} but errors={:?}",
                summary.damaged
            ));
        }
        for line in inline.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            if let Err(e) = serde_json::from_slice::<Value>(line) {
                failures.push(format!("{path}: invalid JSON line: {e}"));
                break;
            }
        }
        for shards in [0, 1, 2, 3, 4, 2] {
            match run(shards) {
                Ok((s, out)) if out == inline && s.damaged.len() == summary.damaged.len() => {}
                Ok(_) => failures.push(format!(
                    "{path}: --shards {shards} output differs from the first --shards 0 run"
                )),
                Err(e) => failures.push(format!("{path}: --shards {shards}: {e}")),
            }
        }
        compared += 1;
    }
    eprintln!("{compared} captures: --shards 0,0,1,2,3,4,2 outputs compared");
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs `scripts/NAME BINARY CORPUS`, echoes its report to stderr and
/// fails the test when the script does; returns the report.
fn run_check_script(name: &str, corpus: &Path) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_flowscope"));
    run_script(name, &[bin.as_os_str(), corpus.as_os_str()])
}

/// Runs `python3 scripts/NAME ARGS...`; its stdout (echoed to stderr).
fn run_script(name: &str, args: &[&std::ffi::OsStr]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts")
        .join(name);
    let out = Command::new("python3")
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("python3 runs scripts/{name}: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let _ = std::io::stderr().write_all(text.as_bytes());
    assert!(
        out.status.success(),
        "scripts/{name} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// Runs a script that takes `--bin` and `--corpus` options.
fn run_option_script(name: &str, corpus: &Path) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_flowscope"));
    run_script(
        name,
        &[
            "--bin".as_ref(),
            bin.as_os_str(),
            "--corpus".as_ref(),
            corpus.as_os_str(),
        ],
    )
}

/// The percentage printed on the line holding `label`, before ` %`.
fn percent_after(text: &str, label: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.contains(label))
        .unwrap_or_else(|| panic!("no line with {label:?} in:\n{text}"));
    let before = line.rsplit_once(" %").map_or(line, |(b, _)| b);
    before
        .split([' ', '='])
        .rfind(|w| !w.is_empty())
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no percentage on {line:?}"))
}

/// The built-in parsers against tshark's reference counts
/// (scripts/tshark_compare.py): the targets of the parsers' issue, and every
/// difference has a cause.
#[test]
fn parsers_match_tshark_or_the_difference_is_explained() {
    let Some(corpus) = corpus() else { return };
    let text = run_option_script("tshark_compare.py", &corpus);
    assert!(!text.contains("UNEXPLAINED"), "{text}");
    for (label, min) in [
        ("HTTP requests     equal", 90.0),
        ("DNS queries       equal", 90.0),
        ("SNI set           equal", 97.0),
        ("JA3 set           equal", 95.0),
    ] {
        let got = percent_after(&text, label);
        assert!(got >= min, "{label}: {got} % < {min} %\n{text}");
    }
}

/// suricata-verify's EVE checks on our output (scripts/suricata-verify.py):
/// at least 90 % of the applicable ones pass.
#[test]
fn suricata_verify_checks_mostly_pass() {
    let Some(corpus) = corpus() else { return };
    let text = run_option_script("suricata-verify.py", &corpus);
    let got = percent_after(&text, "of the applicable checks pass");
    assert!(got >= 90.0, "{got} %\n{text}");
}

/// The corpus comparison with tshark (scripts/corpus_check.py): no crash,
/// no hang, errors only on invalid files, every difference explained.
#[test]
fn corpus_matches_tshark_or_the_difference_is_explained() {
    let Some(corpus) = corpus() else { return };
    let text = run_check_script("corpus_check.py", &corpus);
    assert!(text.contains("crashes:                    0"));
}

/// Community IDs agree with Suricata's on real captures
/// (scripts/community_id_check.py). Needs `suricata` on PATH; `.ci/run`
/// installs it and sets FLOWSCOPE_REQUIRE_PEERS so CI cannot skip it.
#[test]
fn community_ids_match_suricata() {
    let Some(corpus) = corpus() else { return };
    let have = Command::new("suricata")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("FLOWSCOPE_REQUIRE_PEERS").is_none(),
            "suricata is required (FLOWSCOPE_REQUIRE_PEERS is set) but not installed"
        );
        eprintln!(
            "\n*** SKIPPED: suricata not installed; the Community ID cross-check did NOT run. ***\n"
        );
        return;
    }
    run_check_script("community_id_check.py", &corpus);
}

/// Runs `flowscope streams ARGS --out DIR [INPUT]` and checks it succeeded.
fn run_streams(args: &[&str], dir: &Path, input: Option<&Path>) {
    let mut cmd = bin();
    cmd.arg("streams").args(args).arg("--out").arg(dir);
    if let Some(input) = input {
        cmd.arg(input);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        input,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The files and index `flowscope streams` wrote into `dir`, by name.
fn streams_output(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// `flowscope streams` on the demo: one file per direction with data, an
/// index line each, the same bytes for any shard count.
#[test]
fn streams_writes_each_direction_and_an_index() {
    let mut outputs = Vec::new();
    for shards in ["0", "1", "3"] {
        let dir = tmpdir(&format!("streams-demo-{shards}"));
        run_streams(&["-q", "--combined", "--shards", shards], &dir, None);
        outputs.push(streams_output(&dir));
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
    let files = &outputs[0];
    let index = &files.iter().find(|f| f.0 == "index.jsonl").unwrap().1;
    let lines = records(index);
    assert!(!lines.is_empty());
    for l in &lines {
        let path = l["path"].as_str().unwrap();
        let (_, data) = files
            .iter()
            .find(|f| f.0 == path)
            .expect("indexed file exists");
        assert_eq!(l["bytes"].as_u64().unwrap(), data.len() as u64);
        assert!(l["community_id"].as_str().unwrap().starts_with("1:"));
        assert!(["toserver", "toclient"].contains(&l["direction"].as_str().unwrap()));
        assert!(l["gaps"].as_array().unwrap().is_empty());
    }
    // The demo's HTTP exchange, request and response, byte for byte.
    let http = lines
        .iter()
        .find(|l| l["dest_port"] == 80 && l["direction"] == "toserver")
        .unwrap();
    let (_, req) = files
        .iter()
        .find(|f| f.0 == http["path"].as_str().unwrap())
        .unwrap();
    assert!(req.starts_with(b"GET /index.html HTTP/1.1\r\n"), "{req:?}");
}

#[test]
fn streams_reports_bad_input_and_unwritable_output() {
    let dir = tmpdir("streams-bad");
    let out = bin()
        .args(["streams", "-q", "--out"])
        .arg(&dir)
        .arg("/nonexistent/capture.pcap")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/capture.pcap"));
    // The output directory is a file.
    let file = dir.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let out = bin()
        .args(["streams", "-q", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a-file"), "{err}");
}

/// PcapPlusPlus's reassembly known answers (scripts/pcapplusplus_streams.py):
/// identical, or a known difference that passes the truth check.
#[test]
fn streams_match_pcapplusplus_known_answers() {
    let Some(corpus) = corpus() else { return };
    let text = run_check_script("pcapplusplus_streams.py", &corpus);
    assert!(text.contains("0 unexplained"), "{text}");
    assert!(text.contains("17/19 expected streams identical"), "{text}");
}

/// Every corpus capture: the same streams with one engine and with three
/// shards; and for a few with many connections, losses and reordering, with
/// two and four too.
#[test]
fn streams_are_identical_for_any_shard_count_on_real_captures() {
    let Some(corpus) = corpus() else { return };
    let heavy = [
        "ndpi/pcap/1kxun.pcap",
        "ndpi/pcap/443-firefox.pcap",
        "ndpi/pcap/bitcoin.pcap",
        "ndpi/pcap/heuristic_tcp_ack_payload.pcap",
        "pcapplusplus/ExamplesTest/tls2.pcap",
    ];
    let mut compared = 0;
    for (file, invalid) in manifest(&corpus) {
        if invalid {
            continue;
        }
        let counts: &[&str] = if heavy.contains(&file.as_str()) {
            &["0", "2", "3", "4"]
        } else {
            &["0", "3"]
        };
        let mut outputs = Vec::new();
        for shards in counts {
            let name = format!("streams-{}-{shards}", file.replace('/', "_"));
            let dir = tmpdir(&name);
            let capture = corpus.join(&file);
            let args = ["-q", "--combined", "--no-pin", "--shards", shards];
            run_streams(&args, &dir, Some(&capture));
            outputs.push(streams_output(&dir));
            let _ = std::fs::remove_dir_all(&dir);
        }
        for (k, o) in outputs.iter().enumerate().skip(1) {
            assert!(
                o == &outputs[0],
                "{file}: --shards {} differs from --shards 0",
                counts[k]
            );
        }
        compared += 1;
    }
    assert!(compared > 700, "{compared} captures compared");
}

/// A raw IPv4/TCP packet with this sequence number, flags and payload.
fn raw_tcp(seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let total = (40 + payload.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    p.extend_from_slice(&40000u16.to_be_bytes());
    p.extend_from_slice(&8080u16.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    p.extend_from_slice(payload);
    p
}

/// A stream with more holes than the index lists: the rest are counted.
#[test]
fn streams_caps_the_gap_list_and_counts_the_rest() {
    let dir = tmpdir("streams-many-gaps");
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("holes.pcap");
    let mut w = PcapWriter::new(
        std::fs::File::create(&pcap).unwrap(),
        flowscope_engine::LinkType::RAW,
        65535,
        Precision::Micros,
    )
    .unwrap();
    const SYN: u8 = 0x02;
    const FIN: u8 = 0x01;
    let isn = 1000u32;
    let mut t = 0u32;
    let mut put = |w: &mut PcapWriter<std::fs::File>, pkt: &[u8]| {
        t += 1;
        w.write_packet(flowscope_engine::Timestamp::new(1_000, t * 1000), pkt)
            .unwrap();
    };
    put(&mut w, &raw_tcp(isn, SYN, b""));
    // 10 050 one-byte segments, each after a one-byte hole, then FIN.
    let n = 10_050u32;
    for k in 0..n {
        put(&mut w, &raw_tcp(isn + 2 + 2 * k, 0x18, b"x"));
    }
    put(&mut w, &raw_tcp(isn + 1 + 2 * n, FIN, b""));
    w.into_inner().unwrap();
    let out_dir = dir.join("out");
    run_streams(&["-q", "--shards", "0"], &out_dir, Some(&pcap));
    let index = std::fs::read(out_dir.join("index.jsonl")).unwrap();
    let lines = records(&index);
    assert_eq!(lines.len(), 1);
    let l = &lines[0];
    assert_eq!(l["bytes"].as_u64(), Some(u64::from(n)));
    assert_eq!(l["gaps"].as_array().unwrap().len(), 10_000);
    assert_eq!(l["gaps_not_listed"].as_u64(), Some(u64::from(n) - 10_000));
}

/// The built-in parsers run by default: the demo's DNS query and answer and
/// its HTTP transactions come out as Suricata-shaped records, with the
/// client as source; `--no-parsers` leaves flow records only; the stats
/// record counts the parsed flows.
#[test]
fn replay_writes_http_and_dns_records_by_default() {
    let out = bin()
        .args(["replay", "-q", "--shards", "2"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let recs = records(&out.stdout);
    let of = |t: &'static str| recs.iter().filter(move |r| r["event_type"] == t);
    let query = of("dns").find(|r| r["dns"]["type"] == "query").unwrap();
    assert_eq!(query["dns"]["rrname"], "www.example.com");
    assert_eq!(query["dns"]["rrtype"], "A");
    let answer = of("dns").find(|r| r["dns"]["type"] == "answer").unwrap();
    assert_eq!(answer["dns"]["rcode"], "NOERROR");
    assert_eq!(answer["dns"]["answers"][0]["rdata"], "198.51.100.80");
    assert_eq!(
        answer["src_ip"], query["src_ip"],
        "the client is the source"
    );
    assert_eq!(answer["dns"]["rtt_us"], 12000);
    let http = of("http")
        .find(|r| r["http"]["url"] == "/index.html")
        .unwrap();
    assert_eq!(http["http"]["hostname"], "www.example.com");
    assert_eq!(http["http"]["http_method"], "GET");
    assert_eq!(http["http"]["status"], 200);
    assert_eq!(http["tx_id"], 0);
    assert_eq!(http["dest_port"], 80);
    // The tunnelled request whose flow ended unanswered.
    let inner = of("http")
        .find(|r| r["http"]["url"] == "/inside-the-tunnel")
        .unwrap();
    assert_eq!(inner["http"]["incomplete"], true);
    let stats = of("stats").next().unwrap();
    assert_eq!(stats["stats"]["app_layer"]["flows_parsed"], 3);
    // Flow records name the protocol parsed (`failed`: payload, no parser).
    let proto_of = |port: u64| {
        of("flow")
            .find(|r| r["dest_port"] == port)
            .map(|r| r["app_proto"].clone())
    };
    assert_eq!(proto_of(80), Some(Value::from("http")));
    assert_eq!(proto_of(53), Some(Value::from("dns")));
    assert_eq!(proto_of(123), Some(Value::from("failed")));
    assert_eq!(proto_of(22), Some(Value::Null), "no payload: no app_proto");
    // Flow records only without the parsers.
    let out = bin()
        .args(["replay", "-q", "--no-parsers"])
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    assert!(
        recs.iter()
            .all(|r| matches!(r["event_type"].as_str(), Some("flow" | "anomaly" | "stats")))
    );
    assert!(recs.iter().all(|r| r["stats"].get("app_layer").is_none()));
}

#[test]
fn replay_reports_latency_and_paces_the_input_when_asked() {
    let out = bin()
        .args([
            "replay",
            "--shards",
            "2",
            "--no-pin",
            "--latency",
            "--latency-sample",
            "1",
        ])
        .args(["--rate", "20kpps", "-o", "/dev/null"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    for stage in ["ingest→event", "ingest ", "queue", "shard ", "merge"] {
        assert!(err.contains(stage), "no {stage} line in:\n{err}");
    }
    assert!(err.contains("paced: "), "{err}");
    // Inline runs have the total only.
    let out = bin()
        .args(["replay", "--shards", "0", "--latency", "-o", "/dev/null"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.contains("ingest→event"),
        "{err}"
    );
    // A rate that is not one is refused before anything runs.
    let out = bin().args(["replay", "--rate", "fast"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a packet rate"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}
