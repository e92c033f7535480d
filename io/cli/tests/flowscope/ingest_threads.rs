//! `--ingest-threads` (and `[pipeline] ingest_threads`): the offline
//! ingest's keying pool changes no byte of the output — on the bundled
//! demo, on the largest corpus captures, on the fragment-heavy and the
//! damaged ones, and on several files read as one stream.

use super::{bin, corpus, manifest, raw_ip_pcap, tmpdir};
use std::path::PathBuf;

/// `flowscope replay -q` with `args`: exit code and stdout.
fn replay(args: &[&str], files: &[PathBuf]) -> (Option<i32>, Vec<u8>) {
    let out = bin()
        .args(["replay", "-q", "--no-pin"])
        .args(args)
        .args(files)
        .output()
        .unwrap();
    (out.status.code(), out.stdout)
}

#[test]
fn the_demo_is_the_same_for_every_ingest_thread_count() {
    let (code, inline) = replay(&["--shards", "0"], &[]);
    assert_eq!(code, Some(0));
    assert!(!inline.is_empty());
    for threads in ["1", "2", "3"] {
        for shards in ["1", "3"] {
            let got = replay(&["--shards", shards, "--ingest-threads", threads], &[]);
            assert_eq!(
                got,
                (Some(0), inline.clone()),
                "--ingest-threads {threads} --shards {shards}"
            );
        }
    }
    // The configuration key, and the option overriding it.
    let dir = tmpdir("ingest-threads");
    let cfg = dir.join("pool.toml");
    std::fs::write(&cfg, "[pipeline]\ningest_threads = 3\n").unwrap();
    let cfg = cfg.display().to_string();
    assert_eq!(
        replay(&["--shards", "2", "-c", &cfg], &[]),
        (Some(0), inline.clone())
    );
    assert_eq!(
        replay(&["--shards", "2", "-c", &cfg, "--ingest-threads", "1"], &[]),
        (Some(0), inline)
    );
    // 0 (the default): chosen from the shard count, the same output.
    assert_eq!(
        replay(&["--shards", "8", "--ingest-threads", "0"], &[]),
        (Some(0), replay(&["--shards", "0"], &[]).1)
    );
    let (code, _) = replay(&["--ingest-threads", "65"], &[]);
    assert_eq!(code, Some(2), "--ingest-threads 65 is a usage error");
    std::fs::write(dir.join("bad.toml"), "[pipeline]\ningest_threads = 65\n").unwrap();
    let out = bin()
        .args(["replay", "-q", "-c"])
        .arg(dir.join("bad.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ingest_threads"), "{err}");
}

#[test]
fn corpus_captures_are_the_same_with_an_ingest_pool() {
    let Some(corpus) = corpus() else { return };
    let files = manifest(&corpus);
    let text = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    // The largest captures (several chunks), the fragment-heavy ones and
    // the damaged ones.
    let mut by_size: Vec<(u64, &str)> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Some((cols.get(7)?.parse().ok()?, *cols.first()?))
        })
        .collect();
    by_size.sort_unstable_by(|a, b| b.cmp(a));
    let mut picked: Vec<&str> = by_size.iter().take(8).map(|&(_, p)| p).collect();
    picked.extend([
        "pcapplusplus/ExamplesTest/ip-frag.pcap",
        "ndpi/pcap/ip_fragmented_garbage.pcap",
        "ndpi/pcap/dns_fragmented.pcap",
        "pcapplusplus/Pcap++Test/ip6_fragments.pcap",
    ]);
    picked.extend(
        files
            .iter()
            .filter(|(_, bad)| *bad)
            .map(|(p, _)| p.as_str()),
    );
    let mut compared = 0;
    for path in &picked {
        let file = corpus.join(path);
        if !file.exists() {
            continue;
        }
        let file = [file];
        let want = replay(&["--shards", "0"], &file);
        for (threads, shards) in [("2", "2"), ("3", "1")] {
            let got = replay(&["--shards", shards, "--ingest-threads", threads], &file);
            assert_eq!(
                got, want,
                "{path}: --ingest-threads {threads} --shards {shards}"
            );
        }
        compared += 1;
    }
    assert!(compared >= 12, "only {compared} captures found");
    // Several files as one stream: chunks never mix two files' storage.
    let several: Vec<PathBuf> = by_size
        .iter()
        .take(4)
        .map(|(_, p)| corpus.join(p))
        .collect();
    let want = replay(&["--shards", "0"], &several);
    assert_eq!(want.0, Some(0));
    assert_eq!(
        replay(&["--shards", "3", "--ingest-threads", "2"], &several),
        want
    );
    eprintln!("{compared} captures and one four-file run: --ingest-threads 2, 3 = --shards 0");
}

/// A raw-IP capture of `n` UDP packets of 1 428 bytes whose payloads are
/// chains of well-formed pcap record headers: a span that starts inside
/// one guesses a boundary that is not one, and is walked again.
fn write_decoy_capture(path: &std::path::Path, n: u32) -> usize {
    let mut payload = Vec::new();
    while payload.len() + 24 <= 1400 {
        // A 16-byte record header announcing 8 bytes, and the 8 bytes.
        for v in [1_700_000_000u32, 5, 8, 8] {
            payload.extend_from_slice(&v.to_le_bytes());
        }
        payload.extend_from_slice(&[0x5a; 8]);
    }
    payload.resize(1400, 0x5a);
    let mut w = raw_ip_pcap(path);
    for i in 0..n {
        let f = (i % 200) as u8;
        let mut pkt = vec![
            0x45, 0, 0x05, 0x94, 0, 0, 0, 0, 64, 17, 0, 0, 10, 1, 0, f, 10, 2, 0, 1, 0x30, 0x39,
            0x13, 0x88, 0x05, 0x80, 0, 0,
        ];
        pkt.extend_from_slice(&payload);
        w.write_packet(
            flowscope_engine::Timestamp::new(1_000 + u64::from(i / 10), i % 10 * 1000),
            &pkt,
        )
        .unwrap();
    }
    w.into_inner().unwrap();
    16 + 28 + 1400
}

/// `flowscope replay` with `args` on `file`: exit code, stdout, and the
/// stderr lines that name damage or the ingest.
fn replay_noting(args: &[&str], file: &std::path::Path) -> (Option<i32>, Vec<u8>, Vec<String>) {
    let out = bin()
        .args(["replay", "--no-pin"])
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    let lines = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("byte offset") || l.contains("ingest:"))
        .map(str::to_owned)
        .collect();
    (out.status.code(), out.stdout, lines)
}

#[test]
fn pcap_files_walked_in_spans_read_as_the_cursor_reads_them() {
    let dir = tmpdir("ingest-spans");
    let decoy = dir.join("decoy.pcap");
    let record = write_decoy_capture(&decoy, 4000);
    let bytes = std::fs::read(&decoy).unwrap();
    // Cut inside a record at about 60 %; a record at about 40 % whose
    // captured length is past every limit.
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..24 + 2400 * record + 700]).unwrap();
    let too_long = dir.join("too-long.pcap");
    let mut damaged = bytes.clone();
    let at = 24 + 1600 * record + 8;
    damaged[at..at + 4].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    std::fs::write(&too_long, &damaged).unwrap();

    for (file, packets) in [(&decoy, 4000), (&cut, 2400), (&too_long, 1600)] {
        let (code, want, want_err) = replay_noting(&["--shards", "0"], file);
        assert!(!want.is_empty());
        let damage: Vec<&String> = want_err.iter().filter(|l| l.contains("offset")).collect();
        assert_eq!(damage.is_empty(), file == &decoy, "{want_err:?}");
        for (threads, shards) in [("2", "2"), ("3", "1")] {
            let (got_code, got, err) =
                replay_noting(&["--shards", shards, "--ingest-threads", threads], file);
            let what = format!("{}: --ingest-threads {threads}", file.display());
            assert_eq!(got_code, code, "{what}");
            assert!(got == want, "{what}: output differs");
            let got_damage: Vec<&String> = err.iter().filter(|l| l.contains("offset")).collect();
            assert_eq!(got_damage, damage, "{what}");
            // The pool walked the file in spans, and walked again the
            // spans whose guessed start was inside a decoy payload.
            let ingest = err.iter().find(|l| l.contains("ingest:")).unwrap();
            assert!(
                ingest.contains(&format!("{packets} packets read in spans")),
                "{what}: {ingest}"
            );
            let again: u64 = ingest
                .rsplit(", ")
                .next()
                .and_then(|t| t.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap();
            assert!(again > 0, "{what}: {ingest}");
        }
    }
}
