//! `flowscope replay`'s output: the demo's records, reruns and files
//! identical, the summary on stderr, any shard count and merge placement
//! giving the same bytes, the default shard count on one core, the
//! library matching the binary, the parsers' records, the
//! configuration's effect, latency and pacing.

use super::{bin, records, tmpdir};
use flowscope_cli::config::Config;
use flowscope_cli::input::Input;
use flowscope_cli::replay::{ReplayOptions, replay};
use serde_json::Value;

#[test]
fn demo_replay_reports_every_kind_of_flow() {
    let out = bin().args(["replay", "-q"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "-q keeps stderr quiet");
    let recs = records(&out.stdout);
    let flows: Vec<&Value> = recs.iter().filter(|r| r["event_type"] == "flow").collect();
    let find = |pred: &dyn Fn(&Value) -> bool| flows.iter().find(|r| pred(r)).copied();

    let http = find(&|r| r["dest_port"] == 80 && r["tunnel"].is_null()).expect("HTTP flow");
    assert_eq!(http["src_ip"], "192.0.2.10");
    assert_eq!(http["proto"], "TCP");
    assert_eq!(http["flow"]["reason"], "timeout");
    assert_eq!(http["flow"]["end_reason"], "fin");
    assert_eq!(http["flow"]["alerted"], false);
    assert_eq!(http["tcp"]["state"], "closed");
    assert_eq!(http["flow"]["conn_state"], "SF");
    assert_eq!(http["flow"]["history"], "ShADadFf");
    assert_eq!(http["flow"]["pkts_toserver"], 6);
    assert_eq!(http["flow"]["pkts_toclient"], 4);
    assert!(http["community_id"].as_str().unwrap().starts_with("1:"));
    assert_eq!(http["tcp"]["tcp_flags"], "1b");
    assert_eq!(http["timestamp"], "2023-11-14T22:13:20.105000+0000");

    let reset = find(&|r| r["dest_port"] == 443).expect("RST flow");
    assert_eq!(
        (
            reset["flow"]["reason"].as_str(),
            reset["flow"]["end_reason"].as_str(),
            reset["flow"]["conn_state"].as_str(),
            reset["tcp"]["state"].as_str()
        ),
        (Some("timeout"), Some("rst"), Some("RSTO"), Some("closed"))
    );
    let rejected = find(&|r| r["dest_port"] == 8080).expect("IPv6 flow");
    assert_eq!(rejected["flow"]["conn_state"], "REJ");
    assert_eq!(rejected["src_ip"], "2001:db8:1::10");
    let syn_only = find(&|r| r["dest_port"] == 22).expect("S0 flow");
    assert_eq!(
        (
            syn_only["flow"]["conn_state"].as_str(),
            syn_only["flow"]["reason"].as_str(),
            syn_only["flow"]["end_reason"].as_str(),
            syn_only["tcp"]["state"].as_str()
        ),
        (
            Some("S0"),
            Some("shutdown"),
            Some("shutdown"),
            Some("syn_sent")
        )
    );
    let icmp = find(&|r| r["proto"] == "ICMP").expect("ICMP flow");
    assert_eq!(icmp["icmp_type"], 8);
    assert_eq!(icmp["flow"]["pkts_toclient"], 1);
    assert_eq!(icmp["response_icmp_type"], 0, "the echo reply");
    let ntp = find(&|r| r["dest_port"] == 123).expect("VLAN flow");
    assert_eq!(ntp["vlan"], serde_json::json!([42]));
    let tunnelled = find(&|r| !r["tunnel"].is_null()).expect("VXLAN flow");
    assert_eq!(tunnelled["tunnel"]["type"], "vxlan");
    assert_eq!(tunnelled["tunnel"]["id"], 4242);
    assert_eq!(tunnelled["src_ip"], "10.10.0.5");
    assert_eq!(tunnelled["dest_port"], 80);
    let fragmented = find(&|r| r["dest_port"] == 9999).expect("fragmented datagram");
    assert_eq!(fragmented["flow"]["pkts_toserver"], 3);
    assert_eq!(fragmented["flow"]["payload_bytes_toserver"], 3000);
    let syslog: Vec<_> = flows.iter().filter(|r| r["dest_port"] == 514).collect();
    assert_eq!(syslog.len(), 2, "the 90 s silence splits the UDP flow");
    assert_eq!(syslog[0]["flow"]["reason"], "timeout");
    assert_eq!(syslog[0]["flow"]["end_reason"], "idle_timeout");
    assert!(syslog[0]["tcp"].is_null(), "no tcp object on UDP flows");
    assert_eq!(
        syslog[0]["timestamp"], "2023-11-14T22:14:21.000000+0000",
        "exact deadline: last packet + 60 s"
    );

    let anomalies: Vec<_> = recs
        .iter()
        .filter(|r| r["event_type"] == "anomaly")
        .collect();
    assert_eq!(anomalies.len(), 1);
    assert_eq!(anomalies[0]["anomaly"]["event"], "decoder.ipv4.trunc_pkt");
    assert_eq!(anomalies[0]["pcap_cnt"], 32);

    let stats = recs.last().unwrap();
    assert_eq!(stats["event_type"], "stats");
    assert_eq!(stats["stats"]["packets"], 35);
    assert_eq!(stats["stats"]["decoder"]["non_ip"], 1);
    assert_eq!(stats["stats"]["flow"]["created"], flows.len());
    assert_eq!(stats["stats"]["defrag"]["reassembled"], 1);

    // Records are in (pcap_cnt) order.
    let cnts: Vec<u64> = recs.iter().filter_map(|r| r["pcap_cnt"].as_u64()).collect();
    assert!(cnts.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn output_is_identical_on_rerun_and_to_a_file() {
    let a = bin().args(["replay", "-q"]).output().unwrap();
    let b = bin().args(["replay", "-q"]).output().unwrap();
    assert_eq!(a.stdout, b.stdout);
    let dir = tmpdir("outfile");
    let path = dir.join("out.json");
    let c = bin()
        .args(["replay", "-q", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(c.status.success());
    assert!(c.stdout.is_empty());
    assert_eq!(std::fs::read(&path).unwrap(), a.stdout);
}

#[test]
fn summary_goes_to_stderr() {
    let out = bin().arg("replay").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("35 packets"), "{err}");
    assert!(err.contains("flows: 11"), "{err}");
    assert!(err.contains("malformed 1 (ipv4.trunc_pkt 1)"), "{err}");
    assert!(records(&out.stdout).len() > 10);
}

#[test]
fn config_changes_behaviour() {
    let dir = tmpdir("config2");
    let cfg = dir.join("c.toml");
    std::fs::write(
        &cfg,
        "[flow]\nudp_timeout = 300\n[output]\nstats = false\nanomalies = false\n\
         [parsers.http]\nenabled = false\n[parsers.dns]\nenabled = false\n",
    )
    .unwrap();
    let out = bin()
        .args(["replay", "-q", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    assert!(recs.iter().all(|r| r["event_type"] == "flow"));
    let syslog = recs.iter().filter(|r| r["dest_port"] == 514).count();
    assert_eq!(syslog, 1, "a 300 s timeout keeps the syslog flow whole");

    std::fs::write(&cfg, "[flow]\nkey = \"ip_pair\"\n").unwrap();
    let out = bin()
        .args(["replay", "-q", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    let web: Vec<_> = recs
        .iter()
        .filter(|r| {
            r["event_type"] == "flow"
                && (r["dest_ip"] == "198.51.100.80" || r["src_ip"] == "198.51.100.80")
        })
        .collect();
    assert_eq!(
        web.len(),
        1,
        "HTTP, ICMP and the fragmented datagram share one IP pair"
    );
    assert!(web[0]["src_port"].is_null());
}

/// The demo replayed by the inline engine (`--shards 0`), records only.
fn inline_demo() -> std::process::Output {
    bin()
        .args(["replay", "-q", "--shards", "0"])
        .output()
        .unwrap()
}

/// Every shard count, either merge placement and pinning give the same
/// bytes as the single engine on the demo.
#[test]
fn shard_counts_and_merge_placement_do_not_change_the_output() {
    let inline = inline_demo();
    assert!(inline.status.success());
    let dir = tmpdir("merger");
    let cfg = dir.join("merger.toml");
    std::fs::write(
        &cfg,
        "[pipeline]\nmerger_thread = true\nbatch_packets = 3\nepoch_packets = 5\n",
    )
    .unwrap();
    let cfg_inline = dir.join("epoch.toml");
    std::fs::write(&cfg_inline, "[pipeline]\nepoch_packets = 5\n").unwrap();
    let small_epochs = bin()
        .args(["replay", "-q", "--shards", "0", "-c"])
        .arg(&cfg_inline)
        .output()
        .unwrap();
    for shards in ["1", "2", "3", "7"] {
        for extra in [&["--no-pin"][..], &["--pin"][..]] {
            let out = bin()
                .args(["replay", "-q", "--shards", shards])
                .args(extra)
                .output()
                .unwrap();
            assert!(out.status.success());
            assert_eq!(out.stdout, inline.stdout, "--shards {shards} {extra:?}");
        }
        let out = bin()
            .args(["replay", "-q", "--shards", shards, "-c"])
            .arg(&cfg)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            out.stdout, small_epochs.stdout,
            "--shards {shards} merger thread"
        );
    }
    let bad = bin().args(["replay", "--shards", "5000"]).output().unwrap();
    assert_eq!(
        bad.status.code(),
        Some(2),
        "out-of-range --shards is a usage error"
    );
}

/// `flowscope replay` (the bundled demo) run with its CPU affinity set
/// to `cores` by `taskset`; `None` when there is no `taskset` or the
/// process may not use those cores.
fn replay_on_cores(cores: &str, args: &[&str]) -> Option<std::process::Output> {
    let out = std::process::Command::new("taskset")
        .args(["-c", cores, env!("CARGO_BIN_EXE_flowscope"), "replay"])
        .args(args)
        .output()
        .ok()?;
    // taskset itself fails (status 1, its own message) on cores the
    // machine does not have.
    let err = String::from_utf8_lossy(&out.stderr);
    (!err.starts_with("taskset:")).then_some(out)
}

#[test]
fn one_core_runs_inline_by_default_and_the_output_stays_the_same() {
    let inline = inline_demo();
    let Some(one) = replay_on_cores("0", &["-o", "-"]) else {
        eprintln!("SKIPPED: taskset (util-linux) could not hold the run to core 0");
        return;
    };
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    let summary = String::from_utf8_lossy(&one.stderr);
    assert!(
        summary.contains("inline: one engine on the main thread"),
        "one core, no shard count given: inline\n{summary}"
    );
    assert_eq!(one.stdout, inline.stdout);

    // A shard count given, on the command line or in the configuration,
    // is kept.
    let asked = replay_on_cores("0", &["--shards", "1"]).unwrap();
    let summary = String::from_utf8_lossy(&asked.stderr);
    assert!(summary.contains("pipeline: 1 shard(s)"), "{summary}");
    assert_eq!(asked.stdout, inline.stdout);
    let dir = tmpdir("one-core");
    let cfg = dir.join("shards.toml");
    std::fs::write(&cfg, "[pipeline]\nshards = 1\n").unwrap();
    let configured = replay_on_cores("0", &["-c", cfg.to_str().unwrap()]).unwrap();
    let summary = String::from_utf8_lossy(&configured.stderr);
    assert!(summary.contains("pipeline: 1 shard(s)"), "{summary}");

    // Two cores: the pipeline, one shard per core but one.
    match replay_on_cores("0,1", &[]) {
        Some(two) => {
            let summary = String::from_utf8_lossy(&two.stderr);
            assert!(summary.contains("pipeline: 1 shard(s)"), "{summary}");
            assert_eq!(two.stdout, inline.stdout);
        }
        None => eprintln!("SKIPPED (in part): cores 0 and 1 are not both available"),
    }
}

#[test]
fn library_replay_matches_the_cli() {
    let opts = ReplayOptions::new(vec![Input::Demo], Config::default());
    let mut buf = Vec::new();
    let summary = replay(&opts, &mut buf).unwrap();
    assert_eq!(summary.stats.packets, 35);
    let cli = bin().args(["replay", "-q"]).output().unwrap();
    assert_eq!(buf, cli.stdout);
}

/// The built-in parsers run by default: the demo's DNS query and answer and
/// its HTTP transactions come out as Suricata-shaped records, with the
/// client as source; `--no-parsers` leaves flow records only; the stats
/// record counts the parsed flows.
#[test]
fn replay_writes_http_and_dns_records_by_default() {
    let out = bin()
        .args(["replay", "-q", "--shards", "2"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let recs = records(&out.stdout);
    let of = |t: &'static str| recs.iter().filter(move |r| r["event_type"] == t);
    let query = of("dns").find(|r| r["dns"]["type"] == "query").unwrap();
    assert_eq!(query["dns"]["rrname"], "www.example.com");
    assert_eq!(query["dns"]["rrtype"], "A");
    let answer = of("dns").find(|r| r["dns"]["type"] == "answer").unwrap();
    assert_eq!(answer["dns"]["rcode"], "NOERROR");
    assert_eq!(answer["dns"]["answers"][0]["rdata"], "198.51.100.80");
    assert_eq!(
        answer["src_ip"], query["src_ip"],
        "the client is the source"
    );
    assert_eq!(answer["dns"]["rtt_us"], 12000);
    let http = of("http")
        .find(|r| r["http"]["url"] == "/index.html")
        .unwrap();
    assert_eq!(http["http"]["hostname"], "www.example.com");
    assert_eq!(http["http"]["http_method"], "GET");
    assert_eq!(http["http"]["status"], 200);
    assert_eq!(http["tx_id"], 0);
    assert_eq!(http["dest_port"], 80);
    // The tunnelled request whose flow ended unanswered.
    let inner = of("http")
        .find(|r| r["http"]["url"] == "/inside-the-tunnel")
        .unwrap();
    assert_eq!(inner["http"]["incomplete"], true);
    let stats = of("stats").next().unwrap();
    assert_eq!(stats["stats"]["app_layer"]["flows_parsed"], 4);
    // Flow records name the protocol parsed (`failed`: payload, no parser).
    let proto_of = |port: u64| {
        of("flow")
            .find(|r| r["dest_port"] == port)
            .map(|r| r["app_proto"].clone())
    };
    assert_eq!(proto_of(80), Some(Value::from("http")));
    assert_eq!(proto_of(53), Some(Value::from("dns")));
    assert_eq!(proto_of(123), Some(Value::from("ntp")), "named, not logged");
    assert_eq!(proto_of(9999), Some(Value::from("failed")));
    assert_eq!(proto_of(22), Some(Value::Null), "no payload: no app_proto");
    // Flow records only without the parsers.
    let out = bin()
        .args(["replay", "-q", "--no-parsers"])
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    assert!(
        recs.iter()
            .all(|r| matches!(r["event_type"].as_str(), Some("flow" | "anomaly" | "stats")))
    );
    assert!(recs.iter().all(|r| r["stats"].get("app_layer").is_none()));
}

#[test]
fn replay_reports_latency_and_paces_the_input_when_asked() {
    let out = bin()
        .args([
            "replay",
            "--shards",
            "2",
            "--no-pin",
            "--latency",
            "--latency-sample",
            "1",
        ])
        .args(["--rate", "20kpps", "-o", "/dev/null"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    for stage in ["ingest→event", "ingest ", "queue", "shard ", "merge"] {
        assert!(err.contains(stage), "no {stage} line in:\n{err}");
    }
    assert!(err.contains("paced: "), "{err}");
    // Inline runs have the total only.
    let out = bin()
        .args(["replay", "--shards", "0", "--latency", "-o", "/dev/null"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.contains("ingest→event"),
        "{err}"
    );
    // A rate that is not one is refused before anything runs.
    let out = bin().args(["replay", "--rate", "fast"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a packet rate"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}
