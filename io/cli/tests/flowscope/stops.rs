//! Stopping at any moment, and outputs that fill up: SIGINT, SIGTERM and
//! SIGHUP (records on stdout; with `-o` it reopens the file, see
//! [`super::sinks`]) at random points of a replay with one and two shards (the
//! output is whole lines and ends with `stats`; a second signal exits at
//! once, still on a whole line), `-o` on a full disk (`/dev/full`, a tiny
//! tmpfs: one clear error, exit 1, the file cut after its last whole
//! line), `streams` on a full disk, and a closed stdout.

use super::{TestDir, bin, endless_feed, records, send_signal, tmpdir, write_udp_capture};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A seed for the random points: `FLOWSCOPE_FAULT_SEED`, else the clock
/// (printed, so a failure can be replayed).
fn seed() -> u64 {
    let s = std::env::var("FLOWSCOPE_FAULT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("fault points: FLOWSCOPE_FAULT_SEED={s}");
    s | 1
}

fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// A replay of `capture` (a few times from the file, then endlessly from
/// standard input, so no machine is fast enough to finish first) into
/// `out`, signalled `signal` after `delays`. SIGHUP stops a run whose
/// records go to stdout (with `-o` it reopens the file): its records go to
/// stdout, redirected to `out`.
fn signalled(capture: &Path, shards: &str, out: &Path, signal: &str, delays: &[u64]) -> i32 {
    let mut cmd = bin();
    cmd.args(["replay", "-q", "--shards", shards]);
    for _ in 0..20 {
        cmd.arg(capture);
    }
    cmd.arg("-").stdin(Stdio::piped());
    if signal == "HUP" {
        cmd.stdout(std::fs::File::create(out).unwrap());
    } else {
        cmd.arg("-o").arg(out).stdout(Stdio::null());
    }
    let mut child = cmd.stderr(Stdio::null()).spawn().unwrap();
    let feed = endless_feed(capture, child.stdin.take().unwrap());
    for &d in delays {
        std::thread::sleep(Duration::from_millis(d));
        send_signal(child.id(), signal);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            feed.join().unwrap();
            return status.code().expect("exited, not killed by the signal");
        }
        assert!(Instant::now() < deadline, "no exit 60 s after {signal}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every line of `text` is a whole JSON record.
fn whole_lines(text: &[u8]) -> Vec<Value> {
    if let Some(last) = text.last() {
        assert_eq!(*last, b'\n', "the output ends on a whole line");
    }
    records(text)
}

#[test]
fn a_signal_at_any_point_leaves_whole_lines_and_stats_last() {
    let dir = tmpdir("stops-signal");
    let path = dir.join("long.pcap");
    write_udp_capture(&path, 50_000, 5_000);
    let mut x = seed();
    for (signal, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        for shards in ["1", "2"] {
            // After the handlers are in place (a few ms into the run),
            // anywhere in the first 1.5 s: opening, reading, writing.
            let delay = 50 + next(&mut x) % 1450;
            let out = dir.join(format!("out-{signal}-{shards}.json"));
            let got = signalled(&path, shards, &out, signal, &[delay]);
            let what = format!("SIG{signal} after {delay} ms, {shards} shard(s)");
            assert_eq!(got, code, "{what}");
            let recs = whole_lines(&std::fs::read(&out).unwrap());
            let stats = recs.last().expect(&what);
            assert_eq!(stats["event_type"], "stats", "{what}: stats last");
            let flows = recs.iter().filter(|r| r["event_type"] == "flow").count();
            assert_eq!(
                flows as u64,
                stats["stats"]["flow"]["created"].as_u64().unwrap(),
                "{what}: every flow has its record"
            );
        }
    }
    // A second signal exits at once: whole lines still, maybe no stats.
    for shards in ["1", "2"] {
        let first = 100 + next(&mut x) % 900;
        let second = next(&mut x) % 20;
        let out = dir.join(format!("out-twice-{shards}.json"));
        let got = signalled(&path, shards, &out, "INT", &[first, second]);
        assert_eq!(got, 130, "SIGINT twice after {first} + {second} ms");
        whole_lines(&std::fs::read(&out).unwrap_or_default());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A tmpfs of `kib` KiB, mounted for the test (root only), unmounted on
/// drop (and its mount point removed after).
struct SmallDisk(TestDir);

impl SmallDisk {
    fn mount(name: &str, kib: u32) -> Option<SmallDisk> {
        let at = tmpdir(name);
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(&at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIPPED (full-disk part): cannot mount a tmpfs here (not root?)");
            return None;
        }
        Some(SmallDisk(at))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&*self.0).status();
    }
}

/// The first error line of a failed run: one `flowscope: error:` line, no
/// panic.
fn one_error(out: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("flowscope: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{err}");
    errors[0].to_owned()
}

#[test]
fn a_full_disk_is_one_clear_error_and_the_output_ends_on_a_whole_line() {
    let dir = tmpdir("stops-full");
    let input = dir.join("flows.pcap");
    // 20 000 flows: several MiB of records.
    write_udp_capture(&input, 20_000, 20_000);

    let out = bin()
        .args(["replay", "-q", "-o", "/dev/full"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = one_error(&out);
    assert!(
        err.contains("writing output: No space left on device"),
        "{err}"
    );

    if let Some(disk) = SmallDisk::mount("stops-tmpfs", 256) {
        let file = disk.0.join("out.json");
        let out = bin()
            .args(["replay", "-q", "-o"])
            .arg(&file)
            .arg(&input)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(one_error(&out).contains("No space left on device"));
        let text = std::fs::read(&file).unwrap();
        assert!(text.len() > 100_000, "it wrote until the disk was full");
        let recs = whole_lines(&text);
        assert!(recs.iter().all(|r| r["event_type"] == "flow"));
    }
    // `streams` on a disk too small for a capture's 26 KiB of streams.
    match super::corpus() {
        None => eprintln!("SKIPPED (streams on a full disk): no corpus"),
        Some(c) => {
            if let Some(disk) = SmallDisk::mount("stops-tmpfs-streams", 8) {
                let out = bin()
                    .args(["streams", "-q", "--out"])
                    .arg(disk.0.join("streams"))
                    .arg(c.join("dpkt/http.pcap"))
                    .output()
                    .unwrap();
                assert_eq!(out.status.code(), Some(1));
                let err = one_error(&out);
                assert!(err.contains("No space left on device"), "{err}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_closed_stdout_is_not_a_crash() {
    let dir = tmpdir("stops-stdout");
    let input = dir.join("flows.pcap");
    write_udp_capture(&input, 1000, 100);
    let exe = bin().get_program().to_owned();
    let out = Command::new("sh")
        .args(["-c", "exec \"$0\" replay -q \"$1\" >&-"])
        .arg(&exe)
        .arg(&input)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
