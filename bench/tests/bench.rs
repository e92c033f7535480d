//! The benchmark suite end to end: `flowscope-bench gen` writes what its
//! manifest says (flowscope finds every flow, HTTP request, DNS query and
//! TLS handshake in it), pcap and pcapng agree, tshark and Suricata read
//! the output without complaint, a SYN flood stays within the table's
//! bound, and `flowscope-bench run` reports throughput, memory and latency.

use flowscope_cli::config::Config;
use flowscope_cli::input::Input;
use flowscope_cli::replay::{ReplayOptions, replay};
use flowscope_cli::summary::Summary;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bench_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_flowscope-bench"))
}

/// Runs `cmd` (`what` names it) and asserts that it succeeded, its
/// stderr in the failure; its output.
fn succeeded(cmd: &mut Command, what: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("flowscope-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Runs `flowscope-bench gen` with `args`, returns its manifest.
fn generate(out: &Path, args: &[&str]) -> Value {
    let manifest = out.with_extension("json");
    succeeded(
        bench_bin()
            .arg("gen")
            .arg("-o")
            .arg(out)
            .arg("--manifest")
            .arg(&manifest)
            .args(args),
        "flowscope-bench gen",
    );
    serde_json::from_slice(&std::fs::read(&manifest).expect("manifest")).expect("manifest JSON")
}

/// EVE lines of a replay of `file` with `shards` shards.
fn eve(file: &Path, shards: usize, config: Config) -> Vec<Value> {
    eve_and_summary(file, shards, config).0
}

fn eve_and_summary(file: &Path, shards: usize, config: Config) -> (Vec<Value>, Summary) {
    let mut opts = ReplayOptions::new(vec![Input::File(file.to_owned())], config);
    opts.run.shards = Some(shards);
    opts.run.pin = Some(false);
    let mut out = Vec::new();
    let summary = replay(&opts, &mut out).expect("replay");
    let records = out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("EVE line"))
        .collect();
    (records, summary)
}

fn count(records: &[Value], event_type: &str) -> u64 {
    records
        .iter()
        .filter(|r| r["event_type"] == event_type)
        .count() as u64
}

const SMALL: &[&str] = &[
    "--flows",
    "1500",
    "--max-bulk",
    "400k",
    "--max-object",
    "200k",
    "--seed",
    "42",
];

#[test]
fn generated_traces_hold_what_their_manifest_says() {
    let dir = scratch("manifest");
    let pcap = dir.join("t.pcap");
    let m = generate(&pcap, SMALL);
    assert_eq!(m["flows"], 1500);
    let records = eve(&pcap, 2, Config::default());
    assert_eq!(
        count(&records, "flow"),
        1500,
        "every generated flow is found"
    );
    assert_eq!(
        count(&records, "http"),
        m["http_requests"].as_u64().unwrap()
    );
    assert_eq!(
        count(&records, "tls"),
        m["tls_handshakes"].as_u64().unwrap()
    );
    let queries = records
        .iter()
        .filter(|r| r["event_type"] == "dns" && r["dns"]["type"] == "query")
        .count() as u64;
    assert_eq!(queries, m["dns_queries"].as_u64().unwrap());
    for key in ["ipv6_flows", "vlan_flows", "vxlan_flows", "gtpu_flows"] {
        assert!(
            m[key].as_u64().unwrap() > 0,
            "{key}: the default mix has some"
        );
    }
    let stats = records.last().expect("a stats record");
    assert_eq!(stats["stats"]["packets"], m["packets"]);
    // The same trace as pcapng replays to the same records.
    let ng = dir.join("t.pcapng");
    let mut args = SMALL.to_vec();
    args.extend(["--format", "pcapng"]);
    let m2 = generate(&ng, &args);
    assert_eq!(m2["packets"], m["packets"]);
    assert_eq!(eve(&ng, 1, Config::default()), records);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn impairments_and_the_syn_flood_are_counted_and_bounded() {
    let dir = scratch("flood");
    let pcap = dir.join("f.pcap");
    let m = generate(
        &pcap,
        &[
            "--flows",
            "400",
            "--max-bulk",
            "200k",
            "--loss",
            "0.01",
            "--reorder",
            "0.01",
            "--retrans",
            "0.01",
            "--syn-flood",
            "20000",
        ],
    );
    assert_eq!(m["flows_by_kind"]["syn-flood"], 20_000);
    assert!(m["lost"].as_u64().unwrap() > 0);
    assert!(m["reordered"].as_u64().unwrap() > 0);
    assert!(m["retransmitted"].as_u64().unwrap() > 0);
    // A table bounded at 2 000 flows per shard: the flood is evicted,
    // reported, and never exceeds the bound.
    let mut cfg = Config::default();
    cfg.engine.flow.max_flows = 2_000;
    let (records, summary) = eve_and_summary(&pcap, 1, cfg);
    let evicted_flows: Vec<&Value> = records
        .iter()
        .filter(|r| r["event_type"] == "flow" && r["flow"]["end_reason"] == "evicted")
        .collect();
    // Suricata's word for a flow pushed out of a full table.
    assert!(
        evicted_flows
            .iter()
            .all(|r| r["flow"]["reason"] == "forced")
    );
    let evicted = evicted_flows.len();
    assert!(evicted > 10_000, "{evicted} evictions");
    let stats = &records.last().unwrap()["stats"];
    assert_eq!(stats["flow"]["ended"]["evicted"], evicted);
    assert!(
        summary.stats.peak_flows <= 2_000,
        "{}",
        summary.stats.peak_flows
    );
    // Lost segments show as reassembly gaps, not as errors.
    assert!(
        stats["tcp_reassembly"]["gaps"].as_u64().unwrap() > 0,
        "{stats}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn require_peers() -> bool {
    std::env::var_os("FLOWSCOPE_REQUIRE_PEERS").is_some()
}

/// Whether `tool` runs: its version flag (`--version`; Suricata only
/// knows `-V`, which to tshark means "verbose capture").
fn have(tool: &str) -> bool {
    let flag = if tool == "suricata" {
        "-V"
    } else {
        "--version"
    };
    Command::new(tool)
        .arg(flag)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn tshark_and_suricata_read_generated_traces_without_complaint() {
    let dir = scratch("peers");
    let pcap = dir.join("p.pcap");
    generate(
        &pcap,
        &[
            "--flows",
            "3000",
            "--max-bulk",
            "300k",
            "--max-object",
            "200k",
            "--loss",
            "0.002",
            "--retrans",
            "0.002",
            "--reorder",
            "0.002",
            "--syn-flood",
            "500",
            "--seed",
            "9",
        ],
    );
    let mut checked = 0;
    if have("tshark") {
        let out = succeeded(
            Command::new("tshark").args(["-n", "-r"]).arg(&pcap).args([
                "-o",
                "tcp.check_checksum:TRUE",
                "-o",
                "udp.check_checksum:TRUE",
                "-o",
                "ip.check_checksum:TRUE",
                "-Y",
                "_ws.malformed || _ws.expert.severity >= error || tcp.checksum.status == 0 \
                 || udp.checksum.status == 0 || ip.checksum.status == 0",
                "-T",
                "fields",
                "-e",
                "frame.number",
                "-e",
                "frame.protocols",
                "-e",
                "_ws.expert.message",
            ]),
            "tshark",
        );
        let bad = String::from_utf8_lossy(&out.stdout);
        assert!(bad.trim().is_empty(), "tshark reports:\n{bad}");
        checked += 1;
    } else {
        eprintln!(
            "SKIPPED (partly): tshark is not installed; the generator's output was not checked by it"
        );
        assert!(
            !require_peers(),
            "FLOWSCOPE_REQUIRE_PEERS is set but tshark is missing"
        );
    }
    if have("suricata") {
        let logs = dir.join("suricata");
        std::fs::create_dir_all(&logs).unwrap();
        succeeded(
            Command::new("suricata")
                .arg("-r")
                .arg(&pcap)
                .args(["-S", "/dev/null", "--runmode", "single", "-l"])
                .arg(&logs),
            "suricata",
        );
        let eve = std::fs::read_to_string(logs.join("eve.json")).expect("eve.json");
        let stats = eve
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|r| r["event_type"] == "stats")
            .expect("a stats record");
        let decoder = &stats["stats"]["decoder"];
        assert_eq!(decoder["invalid"], 0, "{decoder}");
        // Checksums are validated (no -k none): none is wrong.
        assert_eq!(stats["stats"]["tcp"]["invalid_checksum"], 0);
        let events: Vec<String> = decoder["event"]
            .as_object()
            .into_iter()
            .flat_map(|protos| protos.iter())
            .flat_map(|(proto, evs)| {
                evs.as_object()
                    .into_iter()
                    .flat_map(|m| m.iter())
                    .filter(|(_, n)| n.as_u64().is_some_and(|n| n > 0))
                    .map(move |(name, n)| format!("{proto}.{name} = {n}"))
            })
            .collect();
        assert!(events.is_empty(), "Suricata decoder events: {events:?}");
        checked += 1;
    } else {
        eprintln!(
            "SKIPPED (partly): suricata is not installed; the generator's output was not checked by it"
        );
        assert!(
            !require_peers(),
            "FLOWSCOPE_REQUIRE_PEERS is set but suricata is missing"
        );
    }
    eprintln!("generated trace checked by {checked} of 2 peers");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_reports_throughput_memory_and_latency_per_shard_count_and_load() {
    let dir = scratch("run");
    let pcap = dir.join("r.pcap");
    let m = generate(&pcap, SMALL);
    let json = dir.join("r.json");
    let report = dir.join("report");
    let out = succeeded(
        bench_bin()
            .arg("run")
            .arg(&pcap)
            .args([
                "--shards", "1,2", "--repeat", "2", "--rate", "50%", "--no-pin",
            ])
            .arg("--json")
            .arg(&json)
            .arg("--report")
            .arg(&report),
        "flowscope-bench run",
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("ingest→event"), "{table}");
    let r: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let rows = r["rows"].as_array().unwrap();
    let loads: Vec<(u64, &str)> = rows
        .iter()
        .map(|row| {
            (
                row["shards"].as_u64().unwrap(),
                row["load"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(loads.len(), 4, "{loads:?}");
    assert_eq!(loads[0], (1, "max"));
    assert!(loads[1].1.starts_with("50% = "), "{loads:?}");
    assert_eq!(loads[2], (2, "max"));
    for row in rows {
        let flat_out = row["load"] == "max";
        if flat_out {
            assert_eq!(row["packets"], m["packets"]);
            assert_eq!(row["dropped_queue"], 0);
            assert!(row["speedup_vs_1"].as_f64().unwrap() > 0.0);
            assert!(row["events"].as_u64().unwrap() > 1500);
        } else {
            let offered = row["offered_mpps"].as_f64().unwrap();
            assert!(offered > 0.0);
            // Paced like live input: on a busy machine the ingest can be
            // late for some packets, which are dropped and counted.
            let lost =
                row["dropped_late"].as_u64().unwrap() + row["dropped_queue"].as_u64().unwrap();
            assert_eq!(
                row["packets"].as_u64().unwrap() + lost,
                m["packets"].as_u64().unwrap(),
                "{row}"
            );
            assert!(row["events"].as_u64().unwrap() > 0);
        }
        assert!(row["mpps"].as_f64().unwrap() > 0.0);
        assert!(row["peak_rss_mb"].as_f64().unwrap() > 1.0);
        assert!(row["peak_flows"].as_u64().unwrap() > 0);
        let lat = &row["latency"];
        for stage in ["ingest_to_event", "ingest", "queue", "shard", "merge"] {
            assert!(lat[stage]["count"].as_u64().unwrap() > 0, "{stage}: {lat}");
            let (p50, p99, max) = (
                lat[stage]["p50"].as_f64().unwrap(),
                lat[stage]["p99"].as_f64().unwrap(),
                lat[stage]["max"].as_f64().unwrap(),
            );
            assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{stage}: {lat}");
        }
        let table_bytes = row["table_bytes_per_flow"].as_f64().unwrap();
        assert!((150.0..2000.0).contains(&table_bytes), "{table_bytes}");
        // Each thread's busy share of the wall time: a share (timed apart
        // from the wall clock, so with some slack), and the shards worked.
        let busy = &row["busy"];
        for part in [
            "ingest",
            "ingest_blocked",
            "shard_mean",
            "shard_max",
            "merger",
        ] {
            let x = busy[part].as_f64().unwrap();
            assert!((0.0..=1.5).contains(&x), "{part}: {busy}");
        }
        assert!(busy["shard_max"].as_f64().unwrap() > 0.0, "{busy}");
        assert!(
            busy["shard_max"].as_f64() >= busy["shard_mean"].as_f64(),
            "{busy}"
        );
    }
    assert!(table.contains("shard mean"), "{table}");
    check_report(&report, rows);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `--report` page: a `.hgrm` file per row and stage that reads as
/// HdrHistogram's percentile distribution (counts adding up to the JSON's),
/// and an HTML page whose charts a browser renders.
fn check_report(dir: &Path, rows: &[Value]) {
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    for title in [
        "Mpps against shards",
        "Speed-up against shards",
        "Packets dropped",
        "ingest→event",
    ] {
        assert!(html.contains(title), "{title}");
    }
    let mut files = 0;
    for row in rows {
        let lat = &row["latency"];
        for d in lat["distributions"].as_array().unwrap() {
            let stage = d["stage"].as_str().unwrap();
            let load: String = row["load"]
                .as_str()
                .unwrap()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let load = load
                .split('-')
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("-");
            let name = format!("shards{}-{load}-{stage}.hgrm", row["shards"]);
            let text =
                std::fs::read_to_string(dir.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            let table: Vec<Vec<f64>> = text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty() && !l.contains("Value"))
                .map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect())
                .collect();
            let last = table.last().unwrap();
            assert_eq!(last[1], 1.0, "{name}");
            assert_eq!(last[2] as u64, d["count"].as_u64().unwrap(), "{name}");
            assert!(html.contains(&name), "{name} linked");
            files += 1;
        }
    }
    assert!(files >= 10, "{files} .hgrm files");
    // Rendered by a real browser: every chart is an SVG with its lines.
    if !have_chromium() {
        assert!(
            !require_peers(),
            "chromium is required (FLOWSCOPE_REQUIRE_PEERS)"
        );
        eprintln!("SKIPPED: the report in a browser (no chromium)");
        return;
    }
    let url = format!("file://{}", dir.join("index.html").display());
    let chromium = |args: &[&str]| {
        let out = succeeded(
            Command::new("chromium")
                .args(CHROMIUM_FLAGS)
                .arg(format!(
                    "--user-data-dir={}",
                    dir.join("chromium-profile").display()
                ))
                .args(args)
                .arg(&url),
            "chromium",
        );
        out.stdout
    };
    let dom = chromium(&["--dump-dom"]);
    let dom = String::from_utf8_lossy(&dom);
    let svgs = dom.matches("<svg").count();
    let paths = dom.matches("<path").count();
    assert!(svgs >= 8, "{svgs} charts rendered");
    assert!(paths >= 20, "{paths} lines rendered");
    let png = dir.join("report.png");
    chromium(&[
        "--window-size=1200,2400",
        &format!("--screenshot={}", png.display()),
    ]);
    // A blank page compresses to a few kilobytes; charts do not.
    let size = std::fs::metadata(&png).map_or(0, |m| m.len());
    assert!(size > 50_000, "screenshot of {size} bytes");
}

/// Headless Chromium as root on a machine without network access.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

fn have_chromium() -> bool {
    Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `flowscope-bench engine TRACE ARGS --json`: its whole stdout, and the
/// results of its last line.
fn engine_json(trace: &Path, args: &[&str]) -> (String, Vec<Value>) {
    let out = succeeded(
        bench_bin()
            .arg("engine")
            .args(args)
            .arg("--json")
            .arg(trace),
        &format!("flowscope-bench engine {}", args.join(" ")),
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let json = text.lines().last().expect("the JSON line");
    let results = serde_json::from_str(json).expect("JSON");
    (text, results)
}

#[test]
fn engine_full_times_each_stage_and_renders_what_replay_writes() {
    let dir = scratch("engine-full");
    let trace = dir.join("t.pcap");
    generate(&trace, SMALL);
    let (_, results) = engine_json(&trace, &["--repeat", "1", "--full"]);
    let modes: Vec<&str> = results.iter().filter_map(|r| r["mode"].as_str()).collect();
    assert_eq!(
        modes,
        [
            "flow tracking",
            "reassembly + built-in parsers",
            "reassembly + built-in parsers + EVE rendering",
            "EVE rendering alone"
        ]
    );
    for r in &results {
        assert!(r["best_seconds"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["packets"].as_u64().unwrap() > 0, "{r}");
    }
    // The rendering-alone mode renders exactly the records a replay writes
    // (all but its closing stats record), byte for byte in size.
    let mut opts = ReplayOptions::new(vec![Input::File(trace.clone())], Config::default());
    opts.run.shards = Some(0);
    let mut eve = Vec::new();
    replay(&opts, &mut eve).expect("replay");
    let records: u64 = eve
        .split_inclusive(|b| *b == b'\n')
        .filter(|l| !l.windows(20).any(|w| w == b"\"event_type\":\"stats\""))
        .map(|l| l.len() as u64)
        .sum();
    assert!(records > 0);
    assert_eq!(results[3]["rendered_bytes"].as_u64(), Some(records));

    // `--full-only`: that one mode, the same events, and no comparison
    // with a flow-tracking pass that did not run.
    let (text, only) = engine_json(&trace, &["--repeat", "2", "--full-only"]);
    assert!(!text.contains("vs flow tracking alone"), "{text}");
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["mode"], results[2]["mode"]);
    assert_eq!(only[0]["events"], results[2]["events"]);
    assert_eq!(only[0]["repeats"], 2);
    // Events are handed on a shard's first batch at a time by default;
    // after every packet they are the same events.
    assert_eq!(only[0]["events_every"], 256);
    let (_, each) = engine_json(
        &trace,
        &["--repeat", "1", "--full-only", "--events-every", "1"],
    );
    assert_eq!(each[0]["events_every"], 1);
    assert_eq!(each[0]["events"], results[2]["events"]);
    let zero = bench_bin()
        .args(["engine", "--full-only", "--events-every", "0"])
        .arg(&trace)
        .output()
        .expect("run flowscope-bench engine");
    assert_eq!(zero.status.code(), Some(2));
    // It is a mode of its own: not with the others.
    let clash = bench_bin()
        .args(["engine", "--full-only", "--full"])
        .arg(&trace)
        .output()
        .expect("run flowscope-bench engine");
    assert_eq!(clash.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pipeline_measures_the_ingest_offline_and_as_live_input_with_a_pool() {
    let dir = scratch("pipeline");
    let trace = dir.join("p.pcap");
    let m = generate(&trace, SMALL);
    let packets = m["packets"].as_u64().expect("manifest packets");
    for live in [false, true] {
        let mut cmd = bench_bin();
        cmd.arg("pipeline").arg(&trace).args([
            "--shards",
            "0,2",
            "--ingest-only",
            "--ingest-threads",
            "1,3",
            "--no-latency",
            "--repeat",
            "1",
            "--json",
        ]);
        if live {
            cmd.arg("--live");
        }
        let out = succeeded(&mut cmd, "flowscope-bench pipeline");
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        assert_eq!(text.contains("offered as live input"), live, "{text}");
        let r: Value = serde_json::from_str(text.lines().last().expect("JSON line")).unwrap();
        assert_eq!(r["live"], live);
        assert_eq!(r["packets"].as_u64(), Some(packets));
        let rows = r["rows"].as_array().expect("rows");
        let of =
            |mode: &str| -> Vec<&Value> { rows.iter().filter(|r| r["mode"] == mode).collect() };
        let inline = of("inline");
        assert_eq!(inline.len(), 1, "{rows:?}");
        let events = inline[0]["events"].as_u64().unwrap();
        for mode in ["thread", "ingest_only"] {
            let threads: Vec<u64> = of(mode)
                .iter()
                .map(|r| r["ingest_threads"].as_u64().unwrap())
                .collect();
            assert_eq!(threads, [1, 3], "{mode}, live={live}");
        }
        for r in of("thread") {
            assert!(r["best_mpps"].as_f64().unwrap() > 0.0, "{r}");
            // Offline the output is the inline engine's; live, epochs close
            // by wall time, which may move a timeout, not the flows seen.
            let got = r["events"].as_u64().unwrap();
            if live {
                assert!(got > 0, "{r}");
            } else {
                assert_eq!(got, events, "{r}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
