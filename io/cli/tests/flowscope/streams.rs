//! `flowscope streams`: files and index on the demo, bad input and
//! unwritable output, PcapPlusPlus's known answers, any shard count on real
//! captures, the capped gap list.

use super::corpus::run_check_script;
use super::{bin, corpus, manifest, records, tmpdir};
use flowscope_io::{PcapPrecision, PcapWriter};
use std::path::Path;

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
pub(super) fn streams_output(dir: &Path) -> Vec<(String, Vec<u8>)> {
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

/// A raw-IP pcap writer.
fn raw_writer(path: &Path) -> PcapWriter<std::fs::File> {
    PcapWriter::new(
        std::fs::File::create(path).unwrap(),
        flowscope_engine::LinkType::RAW,
        65535,
        PcapPrecision::Micros,
    )
    .unwrap()
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
    let mut w = raw_writer(&pcap);
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

/// The same connection captured twice (same addresses, ports and first
/// packet time, so the same flow id): each keeps its own files.
#[test]
fn a_connection_captured_twice_keeps_both_streams() {
    let dir = tmpdir("streams-twice");
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("twice.pcap");
    let mut w = raw_writer(&pcap);
    let isn = 5000u32;
    // Both copies carry the capture's original times.
    for body in [b"first copy" as &[u8], b"second, longer copy"] {
        for (i, pkt) in [
            raw_tcp(isn, 0x02, b""),
            raw_tcp(isn + 1, 0x18, body),
            raw_tcp(isn + 1 + body.len() as u32, 0x04, b""),
        ]
        .iter()
        .enumerate()
        {
            let ts = flowscope_engine::Timestamp::new(2_000, i as u32 * 1000);
            w.write_packet(ts, pkt).unwrap();
        }
    }
    w.into_inner().unwrap();
    let out_dir = dir.join("out");
    run_streams(&["-q", "--shards", "0"], &out_dir, Some(&pcap));
    let lines = records(&std::fs::read(out_dir.join("index.jsonl")).unwrap());
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["flow_id"], lines[1]["flow_id"]);
    assert_ne!(lines[0]["path"], lines[1]["path"]);
    for (l, body) in lines
        .iter()
        .zip([&b"first copy"[..], b"second, longer copy"])
    {
        let path = out_dir.join(l["path"].as_str().unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), body, "{path:?}");
        assert_eq!(l["bytes"].as_u64(), Some(body.len() as u64));
    }
}
