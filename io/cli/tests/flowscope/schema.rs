//! flowscope's EVE JSON Schema (`io/schema/flowscope-eve.json`): every
//! record the default profile writes on the corpus validates against it
//! (also with the opt-in fields on), its `x-suricata` markers agree with
//! Suricata 7's own schema (`../shared/schema`), and every record of the
//! strict profile validates against Suricata's schema itself, through
//! `scripts/eve_schema.py`.

use super::{TestDir, corpus, tmpdir};
use crate::corpus::run_script;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// flowscope's schema of the default profile.
fn ours() -> PathBuf {
    repo().join("io/schema/flowscope-eve.json")
}

/// Suricata 7.0.10's EVE schema in `../shared/schema`, or a loud SKIPPED
/// line.
fn suricata_schema() -> Option<PathBuf> {
    let path = repo().join("../shared/schema/suricata-7.0.10-eve.json");
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "\n*** SKIPPED: no Suricata EVE schema at {}. The schema marker check did NOT run. ***\n",
            path.display()
        );
        None
    }
}

/// Whether Python's `jsonschema` is installed; when not, the test says
/// loudly that `what` did not run (and fails when FLOWSCOPE_REQUIRE_PEERS
/// is set).
fn have_jsonschema(what: &str) -> bool {
    let have = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("FLOWSCOPE_REQUIRE_PEERS").is_none(),
            "Python's jsonschema is required (FLOWSCOPE_REQUIRE_PEERS is set) but not installed"
        );
        eprintln!("\n*** SKIPPED: Python's jsonschema not installed; {what} did NOT run. ***\n");
    }
    have
}

/// `eve_schema.py check` against `schema` over every corpus capture (two
/// at a time), with `extra` arguments; asserts no violation and returns
/// the record count.
fn check_corpus(corpus: &Path, schema: &Path, extra: &[&OsStr]) -> u64 {
    let bin = Path::new(env!("CARGO_BIN_EXE_flowscope"));
    let mut args: Vec<&OsStr> = vec![
        "check".as_ref(),
        "--schema".as_ref(),
        schema.as_os_str(),
        "--bin".as_ref(),
        bin.as_os_str(),
        "--corpus".as_ref(),
        corpus.as_os_str(),
        "--manifest".as_ref(),
        "--jobs".as_ref(),
        "2".as_ref(),
    ];
    args.extend_from_slice(extra);
    let text = run_script("eve_schema.py", &args);
    let last = text.lines().last().unwrap_or_default();
    assert!(last.ends_with(", violations: 0"), "{text}");
    let records: u64 = last
        .trim_start_matches("records: ")
        .split(',')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no record count in {last:?}"));
    records
}

/// Every record `flowscope replay -q` writes on every corpus capture
/// validates against the schema: every field known, of its type and
/// pattern, every object closed.
#[test]
fn default_profile_validates_against_flowscope_schema_on_the_whole_corpus() {
    let Some(corpus) = corpus() else { return };
    if !have_jsonschema("the schema validation") {
        return;
    }
    let records = check_corpus(&corpus, &ours(), &[]);
    assert!(records > 20_000, "only {records} records");
}

/// The same with every opt-in field on: HTTP headers and body digests,
/// TLS chains and ClientHello lists, `pcap_filename`, mDNS and LLMNR.
#[test]
fn opt_in_fields_validate_against_flowscope_schema_on_the_whole_corpus() {
    let Some(corpus) = corpus() else { return };
    if !have_jsonschema("the schema validation of opt-in fields") {
        return;
    }
    let (_dir, config) = opt_in("default");
    check_corpus(&corpus, &ours(), &["--config".as_ref(), config.as_os_str()]);
}

/// The configuration of every opt-in field, in `profile`: its directory
/// and the file.
fn opt_in(profile: &str) -> (TestDir, PathBuf) {
    let dir = tmpdir("schema");
    let config = dir.join(format!("opt-in-{profile}.toml"));
    std::fs::write(
        &config,
        format!(
            "[output]\nprofile = \"{profile}\"\ntls_client_handshake = true\npcap_filename = true\n\
             [parsers.http]\nheaders = true\nbody_sha256 = true\nbody_sample_bytes = 64\n\
             [parsers.dns]\nports = [53, 5353, 5355]\n\
             [parsers.tls]\nchain = true\napp_proto_from_alpn = true\n"
        ),
    )
    .unwrap();
    (dir, config)
}

/// The strict profile (`[output] profile = "strict"`, every opt-in field
/// on): every record on every corpus capture validates against Suricata
/// 7.0.10's own EVE schema.
#[test]
fn strict_profile_validates_against_suricatas_schema() {
    let Some(corpus) = corpus() else { return };
    let Some(suricata) = suricata_schema() else {
        return;
    };
    if !have_jsonschema("the strict profile's validation") {
        return;
    }
    let dir = tmpdir("schema");
    let config = dir.join("strict.toml");
    std::fs::write(&config, "[output]\nprofile = \"strict\"\n").unwrap();
    let records = check_corpus(
        &corpus,
        &suricata,
        &["--config".as_ref(), config.as_os_str()],
    );
    assert!(records > 20_000, "only {records} records");
    let (_dir, config) = opt_in("strict");
    check_corpus(
        &corpus,
        &suricata,
        &["--config".as_ref(), config.as_os_str()],
    );
}

/// Each `x-suricata: true` field is in Suricata 7's schema at the same
/// path with the same type and pattern; each `false` one is not: the
/// strict profile relies on these markers.
#[test]
fn schema_marks_suricata_fields_exactly() {
    let Some(suricata) = suricata_schema() else {
        return;
    };
    let schema = ours();
    let text = run_script(
        "eve_schema.py",
        &[
            "consistency".as_ref(),
            "--suricata".as_ref(),
            suricata.as_os_str(),
            "--schema".as_ref(),
            schema.as_os_str(),
        ],
    );
    assert!(text.contains("problems: 0"), "{text}");
}
