//! Where `-o` sends records: appending to a file, reopening it on SIGHUP
//! after it was moved away (logrotate), rotating it by size and by age,
//! Unix stream and datagram sockets, with a listener that goes away
//! and comes back, syslog, and `pcap_filename` over several inputs. Each run's records are compared with an uninterrupted
//! run's: none lost (or every loss counted), none written twice, no
//! partial line.
//!
//! The input is fed through standard input by the test, so a signal, a
//! rotation or a lost listener lands between two known parts of the run.

use super::{bin, records, send_signal, tmpdir, write_udp_capture};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A capture whose flows end all along it (one new flow a second, 60 s
/// UDP timeout): records are written while it is read.
fn capture(dir: &Path) -> (PathBuf, Vec<u8>) {
    let path = dir.join("in.pcap");
    write_udp_capture(&path, 40_000, 40_000);
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

/// The records of an uninterrupted run on `input`.
fn reference(input: &Path) -> Vec<u8> {
    let out = bin()
        .args(["replay", "-q", "--shards", "1"])
        .arg(input)
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

/// A replay of standard input with `args`, fed by the test.
fn fed(args: &[&str]) -> Child {
    bin()
        .args(["replay", "-q", "--shards", "1"])
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `ready()` holds (60 s at most).
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "{what}: not after 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Closes the child's input and waits: its exit status and stderr.
fn end(mut child: Child) -> (i32, String) {
    drop(child.stdin.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    (status.code().unwrap_or(-1), err)
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// The `output` object of the last (`stats`) record.
fn output_stats(text: &[u8]) -> Value {
    let recs = records(text);
    let last = recs.last().expect("records");
    assert_eq!(last["event_type"], "stats");
    last["stats"]["output"].clone()
}

/// `text` without the `output` object of its `stats` record, to compare
/// with a run to stdout (which has none).
fn without_output(text: &[u8]) -> Vec<u8> {
    let s = std::str::from_utf8(text).unwrap();
    let Some(at) = s.find(",\"output\":{") else {
        return text.to_vec();
    };
    let close = at + s[at..].find('}').unwrap() + 1;
    [&text[..at], &text[close..]].concat()
}

#[test]
fn append_adds_to_a_file_and_the_default_truncates_it() {
    let dir = tmpdir("sinks-append");
    let (input, _) = capture(&dir);
    let want = reference(&input);
    let out = dir.join("eve.json");
    std::fs::write(&out, "{\"kept\":true}\n").unwrap();
    for _ in 0..2 {
        let st = bin()
            .args(["replay", "-q", "--append", "-o"])
            .arg(&out)
            .arg(&input)
            .status()
            .unwrap();
        assert!(st.success());
    }
    let text = std::fs::read(&out).unwrap();
    assert!(text.starts_with(b"{\"kept\":true}\n"));
    // Each run's records whole, after what was there.
    let runs = &text[14..];
    let n = records(runs).len();
    assert_eq!(n, 2 * records(&want).len());
    let (one, two) = runs.split_at(runs.len() / 2);
    assert_eq!(one, want, "first run appended whole, as on stdout");
    assert_eq!(two, want, "second run appended whole");
    // The config key does the same.
    let cfg = dir.join("append.toml");
    std::fs::write(&cfg, "[output]\nappend = true\n").unwrap();
    let before = size(&out);
    let st = bin()
        .args(["replay", "-q", "-c"])
        .arg(&cfg)
        .arg("-o")
        .arg(&out)
        .arg(&input)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(size(&out), before + (before - 14) / 2);
    // Without it, the file is replaced, as it always was.
    let st = bin()
        .args(["replay", "-q", "-o"])
        .arg(&out)
        .arg(&input)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(std::fs::read(&out).unwrap(), want);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sighup_reopens_a_moved_file_and_loses_or_repeats_nothing() {
    let dir = tmpdir("sinks-hup");
    let (input, bytes) = capture(&dir);
    let want = reference(&input);
    let out = dir.join("eve.json");
    let moved = dir.join("eve.json.rotated");
    let mut child = fed(&["-o", out.to_str().unwrap()]);
    let (first, rest) = bytes.split_at(bytes.len() / 2);
    child.stdin.as_mut().unwrap().write_all(first).unwrap();
    wait_until("records in the file", || size(&out) > 0);
    // As logrotate does: move the file, then SIGHUP.
    std::fs::rename(&out, &moved).unwrap();
    send_signal(child.id(), "HUP");
    std::thread::sleep(Duration::from_millis(200));
    child.stdin.as_mut().unwrap().write_all(rest).unwrap();
    let (code, err) = end(child);
    assert_eq!(code, 0, "SIGHUP with -o does not stop the run: {err}");
    let old = std::fs::read(&moved).unwrap();
    let new = std::fs::read(&out).unwrap();
    assert!(
        !old.is_empty() && old.ends_with(b"\n"),
        "whole lines in the moved file"
    );
    assert!(records(&new).len() > 1, "the new file has the next records");
    assert_eq!(output_stats(&new)["reopens"], 1);
    let both = [old, new].concat();
    assert_eq!(
        without_output(&both),
        want,
        "moved + new = an uninterrupted run"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `PATH.1`, `PATH.2`… then `PATH`, joined.
fn rotated(path: &Path) -> (usize, Vec<u8>) {
    let mut all = Vec::new();
    let mut n = 1;
    loop {
        let p = PathBuf::from(format!("{}.{n}", path.display()));
        let Ok(part) = std::fs::read(&p) else { break };
        assert!(part.ends_with(b"\n"), "{}: whole lines", p.display());
        all.extend_from_slice(&part);
        n += 1;
    }
    all.extend_from_slice(&std::fs::read(path).unwrap());
    (n - 1, all)
}

#[test]
fn rotation_by_size_and_by_age_keeps_every_record_once() {
    let dir = tmpdir("sinks-rotate");
    let (input, bytes) = capture(&dir);
    let want = reference(&input);
    // By size: every file at most 1 MiB, on whole lines.
    let out = dir.join("size.json");
    let st = bin()
        .args(["replay", "-q", "--output-rotate-size", "1M", "-o"])
        .arg(&out)
        .arg(&input)
        .status()
        .unwrap();
    assert!(st.success());
    let (files, all) = rotated(&out);
    assert!(files >= want.len() / (1 << 20), "{files} rotated files");
    for n in 1..=files {
        assert!(size(Path::new(&format!("{}.{n}", out.display()))) <= 1 << 20);
    }
    // Counted up to the stats record, which the last files follow.
    let counted = output_stats(&all)["rotations"].as_u64().unwrap();
    assert!(
        counted > 0 && counted <= files as u64,
        "{counted} of {files}"
    );
    assert_eq!(without_output(&all), want);
    // By age (`[output] rotate_interval`): a write a second after the
    // file was opened starts a new one.
    let cfg = dir.join("age.toml");
    std::fs::write(&cfg, "[output]\nrotate_interval = \"1s\"\n").unwrap();
    let out = dir.join("age.json");
    let mut child = fed(&["-c", cfg.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let (first, rest) = bytes.split_at(bytes.len() / 2);
    child.stdin.as_mut().unwrap().write_all(first).unwrap();
    wait_until("records in the file", || size(&out) > 0);
    std::thread::sleep(Duration::from_millis(1100));
    child.stdin.as_mut().unwrap().write_all(rest).unwrap();
    let (code, err) = end(child);
    assert_eq!(code, 0, "{err}");
    let (files, all) = rotated(&out);
    assert!(files >= 1, "rotated after a second");
    assert_eq!(without_output(&all), want);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unix_stream_and_dgram_listeners_get_every_record() {
    use std::os::unix::net::{UnixDatagram, UnixListener};
    let dir = tmpdir("sinks-unix");
    let (input, _) = capture(&dir);
    let want = reference(&input);
    // Stream: the records as lines.
    let sock = dir.join("stream.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let reader = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        conn.read_to_end(&mut got).unwrap();
        got
    });
    let st = bin()
        .args(["replay", "-q", "-o"])
        .arg(format!("unix-stream:{}", sock.display()))
        .arg(&input)
        .status()
        .unwrap();
    assert!(st.success());
    let got = reader.join().unwrap();
    assert_eq!(output_stats(&got)["filetype"], "unix_stream");
    assert_eq!(without_output(&got), want);
    // Datagram (`[output] filetype`): one record per datagram.
    let sock = dir.join("dgram.sock");
    let listener = UnixDatagram::bind(&sock).unwrap();
    let cfg = dir.join("dgram.toml");
    std::fs::write(&cfg, "[output]\nfiletype = \"unix_dgram\"\n").unwrap();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = listener.recv(&mut buf).unwrap();
            assert!(!buf[..n].contains(&b'\n'), "one record per datagram");
            got.extend_from_slice(&buf[..n]);
            got.push(b'\n');
            let rec: Value = serde_json::from_slice(&buf[..n]).unwrap();
            if rec["event_type"] == "stats" {
                return got;
            }
        }
    });
    let st = bin()
        .args(["replay", "-q", "-c"])
        .arg(&cfg)
        .arg("-o")
        .arg(&sock)
        .arg(&input)
        .status()
        .unwrap();
    assert!(st.success());
    let got = reader.join().unwrap();
    assert_eq!(output_stats(&got)["filetype"], "unix_dgram");
    assert_eq!(without_output(&got), want);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Reads from `conn` until nothing more comes for `quiet`.
fn drain(conn: &mut std::os::unix::net::UnixStream, quiet: Duration) -> Vec<u8> {
    conn.set_read_timeout(Some(quiet)).unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return got;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn a_listener_that_goes_away_is_reported_and_its_losses_counted() {
    use std::os::unix::net::UnixListener;
    let dir = tmpdir("sinks-gone");
    let (input, bytes) = capture(&dir);
    let want = records(&reference(&input)).len() as u64;
    let sock = dir.join("eve.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let mut child = fed(&["-o", &format!("unix-stream:{}", sock.display())]);
    let (mut conn, _) = listener.accept().unwrap();
    let third = bytes.len() / 3;
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(&bytes[..third])
        .unwrap();
    // Everything written so far, read: the run then waits on its input.
    let mut first = Vec::new();
    wait_until("records on the socket", || {
        first.extend(drain(&mut conn, Duration::from_millis(300)));
        !first.is_empty()
    });
    first.extend(drain(&mut conn, Duration::from_millis(500)));
    // The listener goes away; what is written now is lost.
    drop(conn);
    drop(listener);
    std::fs::remove_file(&sock).unwrap();
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(&bytes[third..2 * third])
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // It comes back: the rest (and the stats record) reach it.
    let listener = UnixListener::bind(&sock).unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let reader = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        conn.read_to_end(&mut got).unwrap();
        got
    });
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(&bytes[2 * third..])
        .unwrap();
    let (code, err) = end(child);
    let second = reader.join().unwrap();
    assert_eq!(code, 1, "lost records fail the run: {err}");
    assert!(err.contains("warning: output unix-stream:"), "{err}");
    assert!(err.contains("connected again"), "{err}");
    assert!(err.contains("records could not be written"), "{err}");
    assert!(first.ends_with(b"\n"));
    let out = output_stats(&second);
    let lost = out["records_lost"].as_u64().unwrap();
    assert!(lost > 0, "{out}");
    assert!(out["failures"].as_u64().unwrap() >= 1, "{out}");
    assert_eq!(out["reconnects"], 1, "{out}");
    let delivered = (records(&first).len() + records(&second).len()) as u64;
    assert_eq!(
        delivered + lost,
        want,
        "every record delivered or counted lost"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn pcap_filename_names_the_input_each_record_was_made_in() {
    let dir = tmpdir("sinks-pcapname");
    let (a, b) = (dir.join("a.pcap"), dir.join("b.pcap"));
    // One-packet flows a second apart: most of `a`'s end (60 s timeout,
    // timers every 4096 packets) while `a` is read, the rest when `b` ends.
    write_udp_capture(&a, 10_000, 10_000);
    write_udp_capture(&b, 10_000, 10_000);
    let cfg = dir.join("names.toml");
    std::fs::write(&cfg, "[output]\npcap_filename = true\n").unwrap();
    let run = |shards: &str, names: bool| {
        let mut cmd = bin();
        cmd.args(["replay", "-q", "--shards", shards]);
        if names {
            cmd.arg("-c").arg(&cfg);
        }
        let out = cmd.arg(&a).arg(&b).output().unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let inline = run("0", true);
    // One shard: stamped where the records are rendered, on the consuming
    // thread; two: on the shards.
    assert_eq!(run("1", true), inline, "the same with one shard");
    assert_eq!(run("2", true), inline, "the same for any shard count");
    let recs = records(&inline);
    let plain = records(&run("0", false));
    assert_eq!(recs.len(), plain.len());
    let (a, b) = (a.display().to_string(), b.display().to_string());
    let mut seen = Vec::new();
    for (r, p) in recs.iter().zip(&plain) {
        let mut r = r.clone();
        if r["event_type"] == "stats" {
            assert!(r.get("pcap_filename").is_none());
        } else {
            let name = r["pcap_filename"].as_str().unwrap().to_owned();
            assert!(name == a || name == b, "{name}");
            if seen.last() != Some(&name) {
                seen.push(name);
            }
            r.as_object_mut().unwrap().remove("pcap_filename");
        }
        assert_eq!(&r, p, "the record is otherwise unchanged");
    }
    assert_eq!(seen, [a, b], "records made in a, then in b");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn syslog_gets_one_rfc5424_message_per_record() {
    use std::os::unix::net::UnixDatagram;
    let dir = tmpdir("sinks-syslog");
    let (input, _) = capture(&dir);
    let want = reference(&input);
    let sock = dir.join("log");
    let listener = UnixDatagram::bind(&sock).unwrap();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = listener.recv(&mut buf).unwrap();
            let msg = std::str::from_utf8(&buf[..n]).unwrap();
            // <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG
            let parts: Vec<&str> = msg.splitn(8, ' ').collect();
            assert_eq!(parts[..3], ["<134>1", "-", parts[2]], "{msg}");
            assert_eq!(
                (parts[3], parts[5], parts[6]),
                ("flowscope", "eve", "-"),
                "{msg}"
            );
            assert!(parts[4].parse::<u32>().is_ok(), "{msg}");
            got.extend_from_slice(parts[7].as_bytes());
            got.push(b'\n');
            let rec: Value = serde_json::from_str(parts[7]).unwrap();
            if rec["event_type"] == "stats" {
                return got;
            }
        }
    });
    let st = bin()
        .args(["replay", "-q", "-o"])
        .arg(format!("syslog:{}", sock.display()))
        .arg(&input)
        .status()
        .unwrap();
    assert!(st.success());
    let got = reader.join().unwrap();
    assert_eq!(output_stats(&got)["filetype"], "syslog");
    assert_eq!(without_output(&got), want);
    std::fs::remove_dir_all(&dir).unwrap();
}
