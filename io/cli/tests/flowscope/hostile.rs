//! Hostile surroundings: symbolic links planted in `streams`' output
//! directory (refused, their targets untouched), a directory that is not
//! empty (refused without `--force`), and a filter whose compilation would
//! take long (a signal still stops the run at once; an over-long one is
//! refused before compiling).

use super::{TestDir, bin, send_signal, tmpdir};
use std::path::{Path, PathBuf};
use std::process::Output;

/// `flowscope streams -q ARGS --out DIR` on the demo capture.
fn streams(dir: &Path, args: &[&str]) -> Output {
    bin()
        .args(["streams", "-q"])
        .args(args)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap()
}

/// A path of its own that does not exist yet (whatever is made there is
/// removed when the test is done with it).
fn fresh(name: &str) -> TestDir {
    let d = tmpdir(name);
    std::fs::remove_dir_all(&d).unwrap();
    d
}

/// The name of the first flow file `streams` writes for the demo, found by
/// running it once into a clean directory.
fn first_flow_file() -> String {
    let clean = fresh("hostile-clean");
    let out = streams(&clean, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&clean)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("-toserver.bin"))
        .collect();
    names.sort();
    names.into_iter().next().expect("the demo has a TCP flow")
}

/// A symbolic link named `name` in a new directory, pointing at a file
/// outside it; returns the directory, the target and the target's
/// directory.
fn plant(case: &str, name: &str) -> (TestDir, PathBuf, TestDir) {
    let dir = fresh(&format!("hostile-{case}"));
    std::fs::create_dir_all(&dir).unwrap();
    let victim = tmpdir(&format!("hostile-{case}-victim"));
    let target = victim.join("victim");
    std::fs::write(&target, b"precious").unwrap();
    std::os::unix::fs::symlink(&target, dir.join(name)).unwrap();
    (dir, target, victim)
}

#[test]
fn streams_refuses_a_planted_index_symlink() {
    let (dir, target, _victim) = plant("index", "index.jsonl");
    for (args, code, says) in [
        (&[][..], 2, "not empty"),
        (&["--force"][..], 1, "index.jsonl: is a symbolic link"),
    ] {
        let out = streams(&dir, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert_eq!(std::fs::read(&target).unwrap(), b"precious", "{args:?}");
    }
}

#[test]
fn streams_refuses_a_planted_flow_file_symlink() {
    let name = first_flow_file();
    let (dir, target, _victim) = plant("flowfile", &name);
    for (args, code) in [(&[][..], 2), (&["--force"][..], 1)] {
        let out = streams(&dir, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert_eq!(std::fs::read(&target).unwrap(), b"precious", "{args:?}");
        assert!(
            std::fs::symlink_metadata(dir.join(&name))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
    let err = String::from_utf8_lossy(&streams(&dir, &["--force"]).stderr).into_owned();
    assert!(
        err.contains(&name) && err.contains("symbolic link"),
        "{err}"
    );
}

#[test]
fn streams_refuses_a_symlinked_output_directory() {
    let real = fresh("hostile-real-dir");
    std::fs::create_dir_all(&real).unwrap();
    let link = fresh("hostile-dir-link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = streams(&link, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);
}

#[test]
fn streams_needs_force_for_a_directory_that_is_not_empty() {
    let dir = fresh("hostile-nonempty");
    let first = streams(&dir, &[]);
    assert!(first.status.success());
    let index = std::fs::read(dir.join("index.jsonl")).unwrap();
    std::fs::write(dir.join("unrelated.txt"), b"keep").unwrap();
    let again = streams(&dir, &[]);
    let err = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not empty") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let forced = streams(&dir, &["--force"]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_eq!(std::fs::read(dir.join("index.jsonl")).unwrap(), index);
    assert_eq!(std::fs::read(dir.join("unrelated.txt")).unwrap(), b"keep");
}

#[test]
fn streams_creates_a_missing_directory_private() {
    use std::os::unix::fs::PermissionsExt;
    let base = fresh("hostile-new");
    let dir = base.join("sub");
    assert!(streams(&dir, &[]).status.success());
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}

/// `host` terms joined by `or`: libpcap's compiler takes seconds for a few
/// hundred of them (about 4.5 s for 400 on a 2-core machine), and grows
/// faster than the expression.
#[cfg(feature = "live")]
fn slow_filter(terms: usize) -> String {
    let hosts: Vec<String> = (0..terms)
        .map(|i| format!("host 10.{}.{}.1", i / 250, i % 250))
        .collect();
    hosts.join(" or ")
}

/// Waits for `child` at most `limit` (killing it then); its output and how
/// long it took.
#[cfg(feature = "live")]
fn finish_within(
    mut child: std::process::Child,
    limit: std::time::Duration,
) -> (Output, std::time::Duration) {
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() && started.elapsed() < limit {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let waited = started.elapsed();
    let _ = child.kill();
    (child.wait_with_output().unwrap(), waited)
}

#[cfg(feature = "live")]
#[test]
fn a_signal_stops_a_long_filter_compile_at_once() {
    use std::time::{Duration, Instant};
    let started = Instant::now();
    let child = bin()
        .args(["replay", "-q", "-f", &slow_filter(500)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    send_signal(child.id(), "INT");
    let signalled = Instant::now();
    let (out, waited) = finish_within(child, Duration::from_secs(30));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        waited < Duration::from_secs(1),
        "exited {:?} after SIGINT ({:?} after start): {err}",
        signalled.elapsed(),
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("SIGINT: stopped while compiling the filter"),
        "{err}"
    );
}

#[cfg(feature = "live")]
#[test]
fn an_overlong_filter_is_refused_before_compiling() {
    use std::time::Duration;
    let expr = "port 1 or ".repeat(7_000) + "port 2";
    let child = bin()
        .args(["replay", "-q", "-f", &expr])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (out, waited) = finish_within(child, Duration::from_secs(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(waited < Duration::from_secs(2), "took {waited:?}: {err}");
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("filter expression is 70006 bytes long; at most 65536"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}
