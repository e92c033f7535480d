//! Exit statuses and error handling: a closed pipe, SIGINT/SIGTERM
//! mid-run, missing and damaged inputs, bad configurations.

use super::{bin, endless_feed, records, send_signal, tmpdir, write_udp_capture};
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;

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
    // 50k packets over 5k address pairs, read from the file a few times
    // and then endlessly from standard input: no machine finishes first.
    write_udp_capture(&path, 50_000, 5_000);
    let inputs: Vec<&Path> = std::iter::repeat_n(path.as_path(), 20).collect();
    for (shards, signal, code) in [("0", "INT", 130), ("2", "INT", 130), ("1", "TERM", 143)] {
        let out_path = dir.join(format!("out-{shards}-{signal}.json"));
        let mut child = bin()
            .args(["replay", "--shards", shards, "-o"])
            .arg(&out_path)
            .args(&inputs)
            .arg("-")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let feed = endless_feed(&path, child.stdin.take().unwrap());
        // Wait until records are being written, so the signal lands mid-run.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::fs::metadata(&out_path).map_or(0, |m| m.len()) == 0 {
            assert!(std::time::Instant::now() < deadline, "no output after 60 s");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        send_signal(child.id(), signal);
        let stderr = {
            let mut s = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut s).unwrap();
            s
        };
        let status = child.wait().unwrap();
        feed.join().unwrap();
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
    let demo = flowscope_io::DEMO_PCAP;
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
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/default.toml");
    let with = bin()
        .args(["replay", "-q", "-c"])
        .arg(&shipped)
        .output()
        .unwrap();
    let without = bin().args(["replay", "-q"]).output().unwrap();
    assert!(with.status.success());
    assert_eq!(with.stdout, without.stdout);

    // Every shipped config loads.
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
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
