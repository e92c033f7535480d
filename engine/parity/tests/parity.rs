//! Parity of flowscope's session API with the `flowscope` 0.3.0 crate, its
//! oracle: the same three parsers (`parity/parsers.rs`) run under 0.3's
//! drivers (`parity/oracle.rs`) and under flowscope's `Sessions`
//! (`parity/subject.rs`) over every Ethernet capture of the shared corpus;
//! the sessions are compared per parser, 5-tuple, side and close
//! (`parity/compare.rs`), and every difference must be one of the named
//! exceptions of docs/parity.md. Also checks each run's parser calls
//! (`parity/calls.rs`): `rst_*` and `fin_*` calls per close. Prints a
//! summary; fails on any unexplained difference.
//!
//! Corpus: `$FLOWSCOPE_CORPUS`, else `../shared/corpus` next to the
//! workspace; without one the test says `SKIPPED: no corpus` and passes.

#[path = "parity/calls.rs"]
mod calls;
#[path = "parity/compare.rs"]
mod compare;
#[path = "parity/model.rs"]
mod model;
#[path = "parity/oracle.rs"]
mod oracle;
#[path = "parity/parsers.rs"]
mod parsers;
#[path = "parity/subject.rs"]
mod subject;

use std::path::{Path, PathBuf};
use std::time::Instant;

use flowscope_engine::{LinkType, RawPacket, Timestamp};
use flowscope_io::CaptureFile;

use calls::Calls;
use compare::{Exception, Tally};
use model::{Close, Evidence, Kind, Sess};
use oracle::Oracle;
use parsers::{FLOWSCOPE, ORACLE, rst_calls};
use subject::Subject;

/// How often (packet time) both crates' timers run: 0.3's `sweep`,
/// flowscope's `advance`.
const TICK_NS: u64 = 1_000_000_000;

/// The latest packet time passed on (far beyond any timeout before 0.3's
/// 32-bit seconds end).
const LATEST_NS: u64 = (u32::MAX as u64 - 1000) * 1_000_000_000;

fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("FLOWSCOPE_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    dir.join("MANIFEST.tsv").is_file().then_some(dir)
}

/// The capture paths the manifest lists, in its order.
fn captures(dir: &Path) -> Vec<String> {
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    manifest
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What happened to the captures.
#[derive(Debug, Default)]
struct Files {
    compared: u64,
    not_ethernet: u64,
    unreadable: u64,
    damaged: u64,
    packets: u64,
    other_link_packets: u64,
}

/// Per run: closes after which the parsers must have heard `rst_*`.
fn rst_closes(sessions: &[Sess]) -> u64 {
    sessions
        .iter()
        .filter(|s| s.kind != Kind::Dgram)
        .filter(|s| matches!(s.close, Close::Rst | Close::Evicted | Close::Overflow))
        .count() as u64
}

/// Runs both crates over one capture; `None` when it is not Ethernet.
fn run_capture(file: &CaptureFile, files: &mut Files) -> Option<(Vec<Sess>, Vec<Sess>, Evidence)> {
    let Ok(reader) = file.packets() else {
        files.unreadable += 1;
        return None;
    };
    let mut oracle = Oracle::new();
    let mut subject = Subject::new();
    let mut evidence = Evidence::default();
    let (mut seq, mut clock, mut tick) = (0u64, 0u64, None::<u64>);
    for pkt in reader {
        let Ok(raw) = pkt else {
            files.damaged += 1;
            break;
        };
        if raw.linktype != LinkType::ETHERNET {
            if seq == 0 {
                files.not_ethernet += 1;
                return None;
            }
            files.other_link_packets += 1;
            continue;
        }
        // 0.3's timestamps are 32-bit seconds, and its last sweep must
        // find every flow idle: both crates get times below that.
        let ts = raw.ts.as_nanos().min(LATEST_NS);
        let raw = RawPacket {
            ts: Timestamp::from_nanos(ts),
            ..raw
        };
        clock = clock.max(ts);
        // The timers run before a packet that comes a tick or more after
        // the last run (0.3's sweep runs on a timer of its own in a live
        // adapter: a flow idle past its timeout is gone before the next
        // packet, which starts a new one, in both crates).
        let last = *tick.get_or_insert(clock);
        if clock - last >= TICK_NS && seq > 0 {
            tick = Some(clock);
            oracle.sweep(clock, false);
            subject.advance(Timestamp::from_nanos(clock), seq - 1);
        }
        let o = oracle::extract(raw.data, oracle::ts03(ts));
        evidence.time(ts, clock);
        evidence.note(subject.decode(&raw), o.map(|p| p.seen));
        oracle.packet(seq, raw.data, ts, o.as_ref());
        subject.packet(seq, Timestamp::from_nanos(clock), &raw);
        seq += 1;
        files.packets += 1;
    }
    files.compared += 1;
    evidence.final_clock = clock;
    let o = oracle.finish(clock);
    let s = subject.finish(Timestamp::from_nanos(clock), seq.saturating_sub(1));
    Some((o, s, evidence))
}

/// `PARITY_DUMP=<part of a capture path>`: prints both runs' sessions of
/// the captures it names, for reading a difference.
fn dump(rel: &str, o: &[Sess], s: &[Sess]) {
    for (who, v) in [("0.3", o), ("flowscope", s)] {
        for x in v {
            println!(
                "{rel} {who} {:?} {} init {} {}..{} {:?} msgs {}/{} fins {:?} est {} hist {} dis {:?}",
                x.kind,
                x.tuple,
                x.initiator,
                x.start,
                x.end,
                x.close,
                x.msgs[0].len(),
                x.msgs[1].len(),
                x.fins,
                x.established,
                x.history,
                x.disorder
            );
        }
    }
}

#[test]
fn parity_with_flowscope_0_3() {
    let Some(dir) = corpus_dir() else {
        println!("SKIPPED: no corpus (set FLOWSCOPE_CORPUS or provide ../shared/corpus)");
        return;
    };
    let started = Instant::now();
    let server_ports = subject::engine_config().flow.server_ports;
    let mut files = Files::default();
    let mut tally = Tally::default();
    let (mut rst_expected, mut flows) = ([0u64; 2], [0u64; 2]);
    let mut calls = [Calls::default(), Calls::default()];
    for rel in captures(&dir) {
        let Ok(file) = CaptureFile::open(&dir.join(&rel)) else {
            files.unreadable += 1;
            continue;
        };
        let Some((o, s, ev)) = run_capture(&file, &mut files) else {
            continue;
        };
        if std::env::var("PARITY_DUMP").is_ok_and(|d| rel.contains(&d)) {
            dump(&rel, &o, &s);
        }
        calls[ORACLE].add(&o);
        calls[FLOWSCOPE].add(&s);
        rst_expected[ORACLE] += rst_closes(&o);
        rst_expected[FLOWSCOPE] += rst_closes(&s);
        flows[ORACLE] += o.len() as u64;
        flows[FLOWSCOPE] += s.len() as u64;
        compare::compare(&rel, o, s, &ev, &server_ports, &mut tally);
    }
    let rst = [rst_calls(ORACLE), rst_calls(FLOWSCOPE)];
    let mut calls_unexplained = 0;
    println!(
        "== parity with flowscope 0.3.0 ({:.1} s) ==",
        started.elapsed().as_secs_f64()
    );
    println!(
        "captures: {} compared, {} not Ethernet, {} unreadable, {} damaged (compared up to the damage); {} packets ({} of another link type skipped)",
        files.compared,
        files.not_ethernet,
        files.unreadable,
        files.damaged,
        files.packets,
        files.other_link_packets
    );
    println!(
        "sessions: 0.3 {}, flowscope {}; groups (parser x 5-tuple) {}, flows compared {}, identical groups {}",
        flows[ORACLE], flows[FLOWSCOPE], tally.groups, tally.flows, tally.identical
    );
    for (imp, name) in [(ORACLE, "0.3"), (FLOWSCOPE, "flowscope")] {
        let ok = rst[imp] == [rst_expected[imp]; 2];
        if !ok {
            calls_unexplained += 1;
        }
        println!(
            "rst_* calls, {name}: initiator {} responder {} for {} RST/evicted/overflow closes{}",
            rst[imp][0],
            rst[imp][1],
            rst_expected[imp],
            if ok { "" } else { "  <- UNEXPLAINED" }
        );
    }
    for (imp, name) in [(ORACLE, "0.3"), (FLOWSCOPE, "flowscope")] {
        let off = calls[imp].off;
        calls_unexplained += off;
        println!(
            "fin_* calls, {name} (frame parser; initiator/responder for flows, by close): {}{}",
            calls[imp].fin_line(),
            if off == 0 {
                String::new()
            } else {
                format!(
                    "  <- UNEXPLAINED: {off} flows without one call per side at a FIN, idle or end close and none at another"
                )
            }
        );
    }
    println!(
        "frame parsers told of the close on flows without payload: 0.3 {}, flowscope {}",
        calls[ORACLE].bare_told, calls[FLOWSCOPE].bare_told
    );
    println!(
        "empty datagrams passed to parse: 0.3 {}, flowscope {}",
        calls[ORACLE].empty_datagrams, calls[FLOWSCOPE].empty_datagrams
    );
    println!("exceptions:");
    for e in Exception::ALL {
        let (n, ex) = tally.exceptions.get(&e).cloned().unwrap_or_default();
        println!("  {n:6}  {}  e.g. {}", e.name(), ex.join(", "));
    }
    println!("unexplained: {}", tally.unexplained + calls_unexplained);
    for (sort, (n, ex)) in &tally.unexplained_by {
        println!("  {n:6}  {sort}  e.g. {}", ex.join(", "));
    }
    println!("first unexplained:");
    for d in &tally.details {
        println!("  {d}");
    }
    assert_eq!(
        tally.unexplained + calls_unexplained,
        0,
        "differences from flowscope 0.3.0 that no documented exception explains (see above)"
    );
}
