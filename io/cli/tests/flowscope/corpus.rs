//! The capture corpus and the peer tools: every capture replays cleanly
//! and identically for any shard count, and the output agrees with tshark,
//! suricata-verify, Suricata's Community IDs and Suricata's TLS records, or
//! the difference is explained.

use super::{corpus, manifest};
use flowscope_cli::config::Config;
use flowscope_cli::input::Input;
use flowscope_cli::replay::{ReplayOptions, replay};
use serde_json::Value;
use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::Command;

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
            opts.run.shards = Some(shards);
            opts.run.pin = Some(false);
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
pub(crate) fn run_check_script(name: &str, corpus: &Path) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_flowscope"));
    run_script(name, &[bin.as_os_str(), corpus.as_os_str()])
}

/// Runs `python3 scripts/NAME ARGS...`; its stdout (echoed to stderr).
pub(crate) fn run_script(name: &str, args: &[&OsStr]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts")
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
/// (scripts/tshark_compare.py): the parsers meet their targets, and every
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
/// at least 98 % of the applicable ones pass (56 of 57 on 2026-12-03;
/// the one failure is named in docs/parsers.md).
#[test]
fn suricata_verify_checks_mostly_pass() {
    let Some(corpus) = corpus() else { return };
    let text = run_option_script("suricata-verify.py", &corpus);
    let got = percent_after(&text, "of the applicable checks pass");
    assert!(got >= 98.0, "{got} %\n{text}");
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
    if !have_suricata("the Community ID cross-check") {
        return;
    }
    run_check_script("community_id_check.py", &corpus);
}

/// Whether `suricata` is on PATH; when not, the test says loudly that
/// `what` did not run (and fails when FLOWSCOPE_REQUIRE_PEERS is set).
pub(crate) fn have_suricata(what: &str) -> bool {
    let have = Command::new("suricata")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("FLOWSCOPE_REQUIRE_PEERS").is_none(),
            "suricata is required (FLOWSCOPE_REQUIRE_PEERS is set) but not installed"
        );
        eprintln!("\n*** SKIPPED: suricata not installed; {what} did NOT run. ***\n");
    }
    have
}

/// Runs `scripts/suricata_compare.py PROTO ARGS...` with this build of
/// flowscope on the corpus; its report.
pub(crate) fn suricata_compare(corpus: &Path, proto: &str, args: &[&OsStr]) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_flowscope"));
    let mut all: Vec<&OsStr> = vec![
        proto.as_ref(),
        "--bin".as_ref(),
        bin.as_os_str(),
        "--corpus".as_ref(),
        corpus.as_os_str(),
    ];
    all.extend_from_slice(args);
    run_script("suricata_compare.py", &all)
}

/// Asserts that each labelled figure of a comparison report is at least
/// its minimum (percent).
pub(crate) fn assert_figures(text: &str, figures: &[(&str, f64)]) {
    for &(label, min) in figures {
        let got = percent_after(text, label);
        assert!(got >= min, "{label}: {got} % < {min} %\n{text}");
    }
}

/// [`assert_figures`] at 100 % for every label.
pub(crate) fn assert_all_equal(text: &str, labels: &[&str]) {
    for label in labels {
        assert_figures(text, &[(label, 100.0)]);
    }
}

/// Corpus-relative capture names as script arguments.
pub(crate) fn captures<'a>(names: &'a [&'a str]) -> Vec<&'a OsStr> {
    names.iter().map(|n| OsStr::new(*n)).collect()
}
