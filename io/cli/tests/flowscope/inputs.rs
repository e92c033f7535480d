//! Inputs that change under a run, and inputs that are not files: a
//! capture file truncated by another process while `replay` reads it ends
//! as damaged input (everything before the cut processed, flows flushed, a
//! `stats` record, exit status 1), never a SIGBUS; a capture read through
//! `-` (standard input, redirected or piped) or a FIFO gives the output the
//! file gives, damage included, and a stream whose writer pauses costs no
//! CPU and still stops at once on SIGINT.

use super::streams::streams_output;
use super::{bin, corpus, records, send_signal, tmpdir, write_udp_capture};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Records in the test capture; each is 44 bytes (16 of header, 28 of
/// packet) after the 24-byte file header.
const RECORDS: u32 = 400_000;
const RECORD: u64 = 44;

/// The shard counts the cut tests run with: the inline engine, which
/// reads a file through a buffer, and the default pipeline, which maps it.
const CUT_SHARDS: [&[&str]; 2] = [&["--shards", "0"], &[]];

/// Replays `path` paced (about two seconds) with `shards`, cuts the file
/// to `cut` bytes half a second in, and returns the exit status, stdout
/// and stderr.
fn replay_cut_at(
    path: &Path,
    shards: &[&str],
    cut: u64,
) -> (std::process::ExitStatus, Vec<u8>, String) {
    let child = bin()
        .args(["replay", "-q", "--rate", "200000", "--max-late-ms", "60000"])
        .args(shards)
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(cut)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status,
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn reported_offset(stderr: &str) -> u64 {
    let at = stderr
        .find("byte offset ")
        .unwrap_or_else(|| panic!("no offset in {stderr}"));
    stderr[at + 12..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no offset in {stderr}"))
}

fn assert_damaged(status: std::process::ExitStatus, stdout: &[u8], stderr: &str, path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), None, "killed by a signal: {stderr}");
    }
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&*path.to_string_lossy()) && stderr.contains("shrank"),
        "stderr names the file and what happened: {stderr}"
    );
    let recs = records(stdout);
    let stats = recs.last().expect("records");
    assert_eq!(stats["event_type"], "stats", "the run ends with its stats");
    let packets = stats["stats"]["packets"].as_u64().unwrap_or(0);
    assert!(
        packets > 0 && packets < u64::from(RECORDS),
        "packets before the cut are processed, none after: {packets}"
    );
}

#[test]
fn input_truncated_behind_the_reader_is_damage_not_a_crash() {
    let dir = tmpdir("shrink-behind");
    let path = dir.join("shrinking.pcap");
    for shards in CUT_SHARDS {
        write_udp_capture(&path, RECORDS, 1000);
        // Half a second in, the reader is about 100 000 records (4.4 MB)
        // in: the cut leaves it reading pages past the file's end (or,
        // through a buffer, at most 4 MiB ahead of them).
        let (status, stdout, stderr) = replay_cut_at(&path, shards, 3 * 4096 + 100);
        assert_damaged(status, &stdout, &stderr, &path);
    }
}

#[test]
fn input_truncated_ahead_of_the_reader_ends_at_the_cut() {
    let dir = tmpdir("shrink-ahead");
    let path = dir.join("shrinking.pcap");
    for shards in CUT_SHARDS {
        write_udp_capture(&path, RECORDS, 1000);
        // The cut is far ahead of the reader and not on a page boundary:
        // the reader reaches it, then meets the zeros of the page cut
        // short (or, through a buffer, the file's early end).
        let cut = 24 + RECORD * (u64::from(RECORDS) * 3 / 4) + 7;
        let (status, stdout, stderr) = replay_cut_at(&path, shards, cut);
        assert_damaged(status, &stdout, &stderr, &path);
        let offset = reported_offset(&stderr);
        assert!(
            offset <= cut && cut < offset + RECORD,
            "{shards:?}: reading stops at the record the cut ({cut}) falls in, not at {offset}"
        );
        let stats = records(&stdout).pop().unwrap_or_default();
        let read = stats["stats"]["packets"].as_u64().unwrap_or(0)
            + stats["stats"]["capture"]["dropped"].as_u64().unwrap_or(0);
        assert!(
            read <= (offset - 24) / RECORD,
            "{shards:?}: no record from the cut on is read: {stats}"
        );
    }
}

/// How a capture reaches the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    /// Its path.
    File,
    /// `-`, standard input redirected from the file.
    Redirected,
    /// `-`, standard input a pipe written in odd-sized chunks.
    Piped,
    /// The path of a FIFO written in odd-sized chunks.
    Fifo,
}

/// Makes a FIFO in `dir`; `None` (with a SKIPPED line) without `mkfifo`.
fn fifo(dir: &Path) -> Option<PathBuf> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = dir.join(format!(
        "capture-{}.fifo",
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&path);
    let made = Command::new("mkfifo")
        .arg(&path)
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("\n*** SKIPPED: mkfifo is not available; FIFO inputs were NOT tested ***\n");
    }
    made.then_some(path)
}

/// Writes `bytes` in chunks of 4093 bytes (so records straddle reads);
/// the reader going away early (damage) is not an error.
fn write_chunked(mut to: impl Write, bytes: &[u8]) {
    for chunk in bytes.chunks(4093) {
        if to.write_all(chunk).is_err() {
            return;
        }
    }
}

/// Runs `flowscope ARGS... BEFORE... INPUT AFTER...`, `capture` reaching
/// it as `feed` says, and returns its output with the input's name in
/// stderr replaced by `INPUT`; `None` when a FIFO cannot be made.
fn run_fed(
    args: &[&str],
    before: &[&Path],
    (capture, feed): (&Path, Feed),
    after: &[&Path],
) -> Option<Output> {
    let dir = capture.parent().unwrap_or(Path::new("."));
    let fifo = match feed {
        Feed::Fifo => Some(fifo(dir)?),
        _ => None,
    };
    let input: &Path = match (&fifo, feed) {
        (Some(f), _) => f,
        (None, Feed::File) => capture,
        (None, _) => Path::new("-"),
    };
    let mut cmd = bin();
    cmd.args(args).args(before).arg(input).args(after);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(match feed {
        Feed::Redirected => Stdio::from(std::fs::File::open(capture).unwrap()),
        Feed::Piped => Stdio::piped(),
        _ => Stdio::null(),
    });
    let bytes = std::fs::read(capture).unwrap();
    let mut child = cmd.spawn().unwrap();
    let writer = match (feed, child.stdin.take(), &fifo) {
        (Feed::Piped, Some(stdin), _) => Some(std::thread::spawn(move || {
            write_chunked(stdin, &bytes);
        })),
        (Feed::Fifo, _, Some(f)) => {
            let f = f.clone();
            Some(std::thread::spawn(move || {
                // Waits for the reader to open its end.
                let file = std::fs::OpenOptions::new().write(true).open(&f).unwrap();
                write_chunked(file, &bytes);
            }))
        }
        _ => None,
    };
    let mut out = child.wait_with_output().unwrap();
    if let Some(w) = writer {
        w.join().unwrap();
    }
    let name = match feed {
        Feed::File => capture.display().to_string(),
        Feed::Fifo => input.display().to_string(),
        _ => flowscope_io::STDIN_NAME.to_owned(),
    };
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&name, "INPUT");
    out.stderr = stderr.into_bytes();
    Some(out)
}

/// The error lines of a run's stderr.
fn errors(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("flowscope: error:"))
        .map(str::to_owned)
        .collect()
}

/// Asserts that `got` is `want`: exit status, stdout byte for byte, and
/// the error lines (the input's name aside).
fn assert_same_run(got: &Output, want: &Output, what: &str) {
    assert_eq!(got.status.code(), want.status.code(), "{what}");
    assert!(
        got.stdout == want.stdout,
        "{what}: the output differs from the file's ({} and {} bytes)",
        got.stdout.len(),
        want.stdout.len()
    );
    assert_eq!(errors(got), errors(want), "{what}");
}

/// The bundled demo capture as a file in `dir`.
fn demo_file(dir: &Path) -> PathBuf {
    let path = dir.join("demo.pcap");
    std::fs::write(&path, flowscope_io::DEMO_PCAP).unwrap();
    path
}

/// A few corpus captures (pcap and pcapng, both byte orders, one damaged)
/// copied into `dir`, so FIFOs can sit next to them.
fn corpus_samples(dir: &Path) -> Vec<PathBuf> {
    let Some(corpus) = corpus() else {
        return Vec::new();
    };
    [
        "ndpi/pcap/443-firefox.pcap",
        "ndpi/pcap/sites.pcapng",
        "ndpi/pcap/fuzz-2006-06-26-2594.pcap",
        "pcap-parser/test016-be.pcapng",
        "ndpi/pcap/fuzz-2021-10-13.pcap",
    ]
    .iter()
    .map(|p| {
        let to = dir.join(p.replace('/', "_"));
        std::fs::copy(corpus.join(p), &to).unwrap();
        to
    })
    .collect()
}

const STREAMED: [Feed; 3] = [Feed::Redirected, Feed::Piped, Feed::Fifo];

/// `replay` reads a capture through `-` (redirected or piped) or a FIFO as
/// it reads the file: the same bytes out, the same exit status and
/// errors, for 0, 1 and 2 shards.
#[test]
fn stdin_pipes_and_fifos_replay_as_the_file() {
    let dir = tmpdir("streamed-replay");
    let mut captures = vec![demo_file(&dir)];
    captures.extend(corpus_samples(&dir));
    let mut compared = 0;
    for capture in &captures {
        for shards in ["0", "1", "2"] {
            let args = ["replay", "-q", "--no-pin", "--shards", shards];
            let want = run_fed(&args, &[], (capture, Feed::File), &[]).unwrap();
            assert!(!want.stdout.is_empty());
            for feed in STREAMED {
                let Some(got) = run_fed(&args, &[], (capture, feed), &[]) else {
                    continue;
                };
                let what = format!("{} via {feed:?}, --shards {shards}", capture.display());
                assert_same_run(&got, &want, &what);
                compared += 1;
            }
        }
    }
    eprintln!("{compared} streamed runs compared with their files");
}

/// `streams` writes the same files from `-` or a FIFO as from the file.
#[test]
fn stdin_and_fifos_give_streams_the_files_the_file_gives() {
    let dir = tmpdir("streamed-streams");
    let capture = demo_file(&dir);
    for shards in ["0", "2"] {
        let run = |feed: Feed| {
            let out = dir.join(format!("out-{feed:?}-{shards}"));
            let _ = std::fs::remove_dir_all(&out);
            let args = ["streams", "-q", "--no-pin", "--shards", shards, "--out"];
            let run = run_fed(&args, &[&out], (&capture, feed), &[])?;
            assert_eq!(run.status.code(), Some(0), "{feed:?}");
            Some(streams_output(&out))
        };
        let want = run(Feed::File).unwrap();
        assert!(want.len() > 1);
        for feed in STREAMED {
            if let Some(got) = run(feed) {
                assert_eq!(got, want, "{feed:?}, --shards {shards}");
            }
        }
    }
}

/// Files and `-` mix, read in order; `-` named twice is a usage error.
#[test]
fn files_and_stdin_are_read_in_order_and_stdin_once() {
    let dir = tmpdir("streamed-mixed");
    let first = dir.join("first.pcap");
    write_udp_capture(&first, 300, 7);
    let last = dir.join("last.pcap");
    write_udp_capture(&last, 200, 3);
    let middle = demo_file(&dir);
    for shards in ["0", "2"] {
        let args = ["replay", "-q", "--no-pin", "--shards", shards];
        let want = run_fed(&args, &[&first], (&middle, Feed::File), &[&last]).unwrap();
        for feed in [Feed::Piped, Feed::Fifo] {
            if let Some(got) = run_fed(&args, &[&first], (&middle, feed), &[&last]) {
                assert_same_run(&got, &want, &format!("{feed:?}, --shards {shards}"));
            }
        }
    }
    for cmd in [
        &["replay", "-"][..],
        &["streams", "--out", "never-made", "-"],
    ] {
        let out = bin()
            .args(cmd)
            .args(["-", "x.pcap"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(err.contains("more than once"), "{err}");
        assert!(out.stdout.is_empty());
    }
    assert!(!Path::new("never-made").exists());
}

/// Damage in a stream ends it as it ends the file: everything before
/// processed, the offset reported, the next input read, exit status 1.
#[test]
fn damage_in_a_stream_ends_it_like_a_damaged_file() {
    let dir = tmpdir("streamed-damage");
    let whole = dir.join("whole.pcap");
    write_udp_capture(&whole, 500, 9);
    let bytes = std::fs::read(&whole).unwrap();
    let cut = dir.join("cut.pcap");
    // 20 bytes of the 200th record: its header and a bit.
    std::fs::write(&cut, &bytes[..24 + 199 * 44 + 20]).unwrap();
    let next = dir.join("next.pcap");
    write_udp_capture(&next, 50, 2);
    let args = ["replay", "-q", "--shards", "1"];
    let want = run_fed(&args, &[], (&cut, Feed::File), &[&next]).unwrap();
    assert_eq!(want.status.code(), Some(1));
    let want_err = errors(&want);
    assert_eq!(want_err.len(), 1, "{want_err:?}");
    assert!(
        want_err[0].contains(&format!("at byte offset {}", 24 + 199 * 44)),
        "{want_err:?}"
    );
    let stats = records(&want.stdout).pop().unwrap_or_default();
    assert_eq!(stats["stats"]["packets"], 199 + 50);
    for feed in STREAMED {
        if let Some(got) = run_fed(&args, &[], (&cut, feed), &[&next]) {
            assert_same_run(&got, &want, &format!("{feed:?}"));
        }
    }
    // Named as what it is.
    let got = bin()
        .args(["replay", "-q", "-"])
        .stdin(Stdio::from(std::fs::File::open(&cut).unwrap()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&got.stderr);
    assert!(
        err.contains("error: (standard input): file ends in the middle of a packet record"),
        "{err}"
    );
}

/// `-o` naming the file standard input is redirected from is refused, and
/// the file kept; so is `streams --out` whose index would be it.
#[test]
fn output_naming_redirected_stdin_is_refused_and_the_input_kept() {
    let dir = tmpdir("streamed-clobber");
    let path = dir.join("input.pcap");
    write_udp_capture(&path, 20, 2);
    let before = std::fs::read(&path).unwrap();
    let out = bin()
        .args(["replay", "-q", "-o"])
        .arg(&path)
        .arg("-")
        .stdin(Stdio::from(std::fs::File::open(&path).unwrap()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is also an input (standard input, redirected from it)"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let out_dir = dir.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let index = out_dir.join("index.jsonl");
    std::fs::write(&index, &before).unwrap();
    let out = bin()
        .args(["streams", "--force", "--out"])
        .arg(&out_dir)
        .arg("-")
        .stdin(Stdio::from(std::fs::File::open(&index).unwrap()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&index).unwrap(), before);
    // Standard input a pipe, or another file: no refusal.
    let other = dir.join("other.json");
    let out = bin()
        .args(["replay", "-q", "-o"])
        .arg(&other)
        .arg("-")
        .stdin(Stdio::from(std::fs::File::open(&path).unwrap()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!std::fs::read(&other).unwrap().is_empty());
}

/// CPU time (user + system) of a process so far, from /proc; `None`
/// elsewhere.
fn cpu_time(child: &Child) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id())).ok()?;
    // Fields after the command name (which may hold spaces): utime and
    // stime are the 12th and 13th.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux port.
    Some(Duration::from_millis(ticks * 10))
}

/// A FIFO whose writer keeps it open without writing: the reader waits
/// without spinning, and SIGINT still ends the run at once, with every
/// packet read processed, the flows flushed and the stats record written.
#[test]
fn a_stream_that_pauses_costs_no_cpu_and_stops_on_sigint() {
    let dir = tmpdir("streamed-pause");
    let capture = dir.join("udp.pcap");
    write_udp_capture(&capture, 1000, 40);
    let bytes = std::fs::read(&capture).unwrap();
    // 600 records and half of the next.
    let sent = 24 + 600 * 44 + 22;
    for (shards, feed) in [("0", Feed::Fifo), ("2", Feed::Fifo), ("2", Feed::Piped)] {
        let fifo = match feed {
            Feed::Fifo => match fifo(&dir) {
                Some(f) => Some(f),
                None => continue,
            },
            _ => None,
        };
        let mut cmd = bin();
        cmd.args(["replay", "-q", "--no-pin", "--shards", shards])
            .arg(fifo.as_deref().unwrap_or(Path::new("-")))
            .stdin(if fifo.is_some() {
                Stdio::null()
            } else {
                Stdio::piped()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        // The writer: half the capture, then open but silent until told.
        let mut writer: Box<dyn Write> = match &fifo {
            Some(f) => Box::new(std::fs::OpenOptions::new().write(true).open(f).unwrap()),
            None => Box::new(child.stdin.take().unwrap()),
        };
        writer.write_all(&bytes[..sent]).unwrap();
        writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(700));
        let cpu_before = cpu_time(&child);
        std::thread::sleep(Duration::from_secs(1));
        let cpu_after = cpu_time(&child);
        if let (Some(a), Some(b)) = (cpu_before, cpu_after) {
            assert!(
                b - a < Duration::from_millis(150),
                "--shards {shards}, {feed:?}: {:?} of CPU in a second of waiting",
                b - a
            );
        }
        let stopped_at = Instant::now();
        send_signal(child.id(), "INT");
        let out = child.wait_with_output().unwrap();
        let took = stopped_at.elapsed();
        drop(writer);
        let what = format!("--shards {shards}, {feed:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(took < Duration::from_secs(2), "{what}: {took:?} to stop");
        assert_eq!(out.status.code(), Some(130), "{what}: {err}");
        assert!(
            err.contains("SIGINT: stopped reading after 600 packets"),
            "{what}: {err}"
        );
        let recs = records(&out.stdout);
        let stats = recs.last().unwrap_or_else(|| panic!("{what}: no records"));
        assert_eq!(stats["event_type"], "stats", "{what}");
        assert_eq!(stats["stats"]["packets"], 600, "{what}");
        let shutdown = recs
            .iter()
            .filter(|r| r["event_type"] == "flow" && r["flow"]["reason"] == "shutdown")
            .count();
        assert!(shutdown > 0, "{what}: the open flows are flushed");
    }
}

/// `-f` filters and pacing (`--rate`, `--speed`) apply to a stream as to
/// the file: the same records come out.
#[cfg(feature = "live")]
#[test]
fn filters_and_pacing_apply_to_streams_as_to_files() {
    let dir = tmpdir("streamed-options");
    let capture = demo_file(&dir);
    let runs: [&[&str]; 4] = [
        &["replay", "-q", "--shards", "0", "-f", "tcp"],
        &[
            "replay",
            "-q",
            "--no-pin",
            "--shards",
            "2",
            "-f",
            "udp port 53",
        ],
        &[
            "replay",
            "-q",
            "--shards",
            "0",
            "--rate",
            "20kpps",
            "--max-late-ms",
            "60000",
        ],
        &[
            "replay",
            "-q",
            "--shards",
            "0",
            "--speed",
            "1000000",
            "--max-late-ms",
            "60000",
        ],
    ];
    for args in runs {
        let want = run_fed(args, &[], (&capture, Feed::File), &[]).unwrap();
        assert_eq!(want.status.code(), Some(0), "{args:?}");
        for feed in [Feed::Piped, Feed::Fifo] {
            if let Some(got) = run_fed(args, &[], (&capture, feed), &[]) {
                assert_same_run(&got, &want, &format!("{args:?} via {feed:?}"));
            }
        }
    }
}

/// `-o -` is standard output (no file named `-`), and the options that
/// need a file are refused with it.
#[test]
fn output_dash_is_standard_output() {
    let dir = tmpdir("output-dash");
    let path = dir.join("in.pcap");
    write_udp_capture(&path, 20, 2);
    let plain = bin().args(["replay", "-q"]).arg(&path).output().unwrap();
    let dash = bin()
        .current_dir(&dir)
        .args(["replay", "-q", "-o", "-"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(dash.status.code(), Some(0));
    assert!(!dash.stdout.is_empty());
    assert_eq!(dash.stdout, plain.stdout);
    assert!(!dir.join("-").exists());
    let append = bin()
        .current_dir(&dir)
        .args(["replay", "-q", "-o", "-", "--append"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(append.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&append.stderr).contains("standard output"));
    assert!(!dir.join("-").exists());
}
