//! `--ingest-threads` (and `[pipeline] ingest_threads`): the offline
//! ingest's keying pool changes no byte of the output — on the bundled
//! demo, on the largest corpus captures, on the fragment-heavy and the
//! damaged ones, and on several files read as one stream.

use super::{bin, corpus, manifest, tmpdir};
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
    for bad in ["0", "65"] {
        let (code, _) = replay(&["--ingest-threads", bad], &[]);
        assert_eq!(code, Some(2), "--ingest-threads {bad} is a usage error");
    }
    std::fs::write(dir.join("bad.toml"), "[pipeline]\ningest_threads = 0\n").unwrap();
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
