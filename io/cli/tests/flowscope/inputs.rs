//! Inputs that change under a run: a capture file truncated by another
//! process while `replay` reads it ends as damaged input (everything
//! before the cut processed, flows flushed, a `stats` record, exit status
//! 1), never a SIGBUS.

use super::{bin, records, tmpdir, write_udp_capture};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// Records in the test capture; each is 44 bytes (16 of header, 28 of
/// packet) after the 24-byte file header.
const RECORDS: u32 = 400_000;
const RECORD: u64 = 44;

/// Replays `path` paced (about two seconds), cuts the file to `cut` bytes
/// half a second in, and returns the exit status, stdout and stderr.
fn replay_cut_at(path: &Path, cut: u64) -> (std::process::ExitStatus, Vec<u8>, String) {
    let child = bin()
        .args(["replay", "-q", "--rate", "200000", "--max-late-ms", "60000"])
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
    write_udp_capture(&path, RECORDS, 1000);
    // Half a second in, the reader is about 100 000 records (4.4 MB) in:
    // the cut leaves it reading pages past the file's end.
    let (status, stdout, stderr) = replay_cut_at(&path, 3 * 4096 + 100);
    assert_damaged(status, &stdout, &stderr, &path);
}

#[test]
fn input_truncated_ahead_of_the_reader_ends_at_the_cut() {
    let dir = tmpdir("shrink-ahead");
    let path = dir.join("shrinking.pcap");
    write_udp_capture(&path, RECORDS, 1000);
    // The cut is far ahead of the reader and not on a page boundary: the
    // reader reaches it, then meets the zeros of the page cut short.
    let cut = 24 + RECORD * (u64::from(RECORDS) * 3 / 4) + 7;
    let (status, stdout, stderr) = replay_cut_at(&path, cut);
    assert_damaged(status, &stdout, &stderr, &path);
    let offset = reported_offset(&stderr);
    assert!(
        offset <= cut && cut < offset + RECORD,
        "reading stops at the record the cut ({cut}) falls in, not at {offset}"
    );
    let stats = records(&stdout).pop().unwrap_or_default();
    let read = stats["stats"]["packets"].as_u64().unwrap_or(0)
        + stats["stats"]["capture"]["dropped"].as_u64().unwrap_or(0);
    assert!(
        read <= (offset - 24) / RECORD,
        "no record from the cut on is read: {stats}"
    );
}

/// Pipes, FIFOs and `-` are refused up front, and the message says why
/// (inputs are memory-mapped) instead of "no such file" or "too short".
#[cfg(unix)]
#[test]
fn pipes_and_stdin_are_refused_with_a_reason() {
    let out = bin()
        .args(["replay", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("standard input is not supported"), "{err}");
    assert!(out.stdout.is_empty());

    let dir = tmpdir("fifo");
    let fifo = dir.join("capture.fifo");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("SKIPPED: mkfifo is not available");
        return;
    }
    // Refused without opening it (opening a FIFO waits for a writer).
    let out = bin().args(["replay"]).arg(&fifo).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("capture.fifo") && err.contains("not a regular file"),
        "{err}"
    );
}
