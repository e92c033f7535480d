//! Floods under the default budgets: a SYN flood holds the same memory
//! with one shard as with two (the flow budget is the process's, split
//! among the shards), and garbage QUIC Initials each get the `quic` record
//! their `app_proto` promises; a gap in a capture's time ends the whole
//! table in steps, in the same records for any shard count, within the
//! memory of the table.

use super::{bin, records, replay_stdout, tmpdir};
use flowscope_io::{PcapPrecision, PcapWriter};
use std::path::Path;

/// A raw-IP capture of `n` packets, `make(i)` each, 1 µs apart.
fn write_raw(path: &Path, n: u32, mut make: impl FnMut(u32) -> Vec<u8>) {
    write_raw_at(path, n, |i| (u64::from(i) * 1000, make(i)));
}

/// A raw-IP capture of `n` packets, `make(i)` each: nanoseconds after the
/// capture's start, and the packet.
fn write_raw_at(path: &Path, n: u32, mut make: impl FnMut(u32) -> (u64, Vec<u8>)) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = PcapWriter::new(
        file,
        flowscope_engine::LinkType::RAW,
        65535,
        PcapPrecision::Micros,
    )
    .unwrap();
    for i in 0..n {
        let (after, packet) = make(i);
        let ts = flowscope_engine::Timestamp::from_nanos(1_700_000_000_000_000_000 + after);
        w.write_packet(ts, &packet).unwrap();
    }
    w.into_inner().unwrap();
}

/// The number after `what` in a run's summary (standard error).
fn summary_number(err: &str, what: &str) -> Option<f64> {
    let at = err.find(what)? + what.len();
    let rest = err[at..].trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// An IPv4 header (checksum left zero: counted, still processed) from
/// `src` to `dst` around `l4`.
fn ipv4(src: u32, dst: u32, proto: u8, l4: &[u8]) -> Vec<u8> {
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0, 64, proto, 0, 0]);
    p.extend_from_slice(&src.to_be_bytes());
    p.extend_from_slice(&dst.to_be_bytes());
    p.extend_from_slice(l4);
    p
}

#[test]
fn garbage_quic_initials_each_get_their_quic_record() {
    let dir = tmpdir("floods-quic");
    let path = dir.join("garbage-initials.pcap");
    let mut x = 0x2545_f491_4f6c_dd1du64;
    write_raw(&path, 2000, |i| {
        // A version-1 Initial header (8-byte DCID, no SCID, no token, a
        // length that fits) over 1182 random bytes: padded to 1200 as a
        // client's, but nothing decrypts.
        let mut udp = vec![0, 0, 0x01, 0xbb, 0x04, 0xb8, 0, 0];
        udp[..2].copy_from_slice(&(10_000 + i as u16 % 50_000).to_be_bytes());
        let mut quic = vec![0xc0, 0, 0, 0, 1, 8];
        quic.extend_from_slice(&u64::from(i).to_be_bytes());
        quic.extend_from_slice(&[0, 0, 0x44, 0x9e]);
        while quic.len() < 1200 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            quic.push(x as u8);
        }
        udp.extend(quic);
        ipv4(0x0a00_0000 | i, 0xc0a8_0001, 17, &udp)
    });
    let out = bin().args(["replay", "-q"]).arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = records(&out.stdout);
    let flows = recs.iter().filter(|r| r["event_type"] == "flow").count();
    let quic_flows = recs
        .iter()
        .filter(|r| r["event_type"] == "flow" && r["app_proto"] == "quic")
        .count();
    let quic = recs.iter().filter(|r| r["event_type"] == "quic").count();
    assert_eq!(flows, 2000);
    assert_eq!(
        quic_flows, 2000,
        "a QUIC Initial header is QUIC, as nDPI and Suricata say"
    );
    assert_eq!(
        quic, quic_flows,
        "every flow labelled quic has its quic record"
    );
    assert!(
        recs.iter()
            .filter(|r| r["event_type"] == "quic")
            .all(|r| r["quic"]["version"] == "1" && r["quic"].get("sni").is_none())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `replay --shards N -o /dev/null FILE`: the summary's peak resident
/// bytes, flows evicted and emergency-mode entries.
fn flood_run(path: &Path, shards: u32) -> (f64, u64, u64) {
    let out = bin()
        .args(["replay", "--shards", &shards.to_string(), "-o", "/dev/null"])
        .arg(path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let number_after = |what: &str| summary_number(&err, what);
    let rss = number_after("peak resident").expect("peak memory in the summary (Linux)");
    let evicted = number_after("a capacity was reached:").expect("the flood hit the budget");
    let entered = number_after("emergency mode entered").expect("emergency mode");
    (rss, evicted as u64, entered as u64)
}

#[test]
fn a_syn_flood_holds_the_same_memory_with_one_and_two_shards() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("SKIPPED: no /proc here, so no peak-memory figure to compare");
        return;
    }
    let dir = tmpdir("floods-syn");
    let path = dir.join("syn-flood.pcap");
    // Five million SYNs from spoofed sources: five times the default flow
    // budget of a million.
    write_raw(&path, 5_000_000, |i| {
        let mut tcp = vec![0; 20];
        tcp[..2].copy_from_slice(&(1024 + (i % 60_000) as u16).to_be_bytes());
        tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
        tcp[4..8].copy_from_slice(&i.to_be_bytes());
        tcp[12] = 0x50;
        tcp[13] = 0x02;
        tcp[14] = 0xff;
        ipv4(0x0b00_0000 | i, 0xc0a8_0001, 6, &tcp)
    });
    // Peaks come at the end-of-input flush, whose timing on a busy
    // machine (when each shard frees what) moves them by a few percent:
    // the higher of two interleaved runs each.
    let (one, evicted1, entered1) = flood_run(&path, 1);
    let (two, evicted2, entered2) = flood_run(&path, 2);
    let one = one.max(flood_run(&path, 1).0);
    let two = two.max(flood_run(&path, 2).0);
    eprintln!(
        "SYN flood, 5 M packets: peak resident {one:.1} MiB with 1 shard, {two:.1} MiB with 2"
    );
    assert_eq!(evicted1, 4_000_000, "one shard holds the whole budget");
    assert!(
        evicted2 >= 4_000_000,
        "two shards hold no more than the budget: {evicted2}"
    );
    assert_eq!(
        (entered1, entered2),
        (1, 2),
        "each shard's table filled once"
    );
    let ratio = one.max(two) / one.min(two);
    assert!(
        ratio <= 1.10,
        "peak resident {one:.1} vs {two:.1} MiB: {ratio:.3}×"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `n` one-packet UDP flows 1 µs apart, then one more packet `gap`
/// seconds after the first (raw IP).
fn write_gap(path: &Path, n: u32, gap: u64) {
    let udp = |sport: u16| {
        let mut u = vec![0, 0, 0x13, 0x88, 0, 12, 0, 0, b'x', b'x', b'x', b'x'];
        u[..2].copy_from_slice(&sport.to_be_bytes());
        u
    };
    write_raw_at(path, n + 1, |i| {
        if i < n {
            (
                u64::from(i) * 1000,
                ipv4(0x0a00_0000 | i, 0xc0a8_0001, 17, &udp(1000)),
            )
        } else {
            (
                gap * 1_000_000_000,
                ipv4(0x0b00_0001, 0xc0a8_0001, 17, &udp(2000)),
            )
        }
    });
}

/// A gap in a capture's time makes the whole table due at one boundary:
/// those flows end a step at a time, in the same records for any shard
/// count, whether an epoch boundary or the end of input finds them due.
#[test]
fn a_gap_in_time_ends_the_whole_table_in_steps() {
    let dir = tmpdir("floods-gap");
    let path = dir.join("gap.pcap");
    let n = 10_000;
    write_gap(&path, n, 7200);
    for epoch in [4096, u64::from(n) + 1] {
        let cfg = dir.join(format!("gap-{epoch}.toml"));
        let text = format!("[flow]\nactive_timeout = 600\n[pipeline]\nepoch_packets = {epoch}\n");
        std::fs::write(&cfg, text).unwrap();
        let config = cfg.to_str().unwrap();
        let inline = replay_stdout(&["--shards", "0", "--config", config], &path);
        let flows: Vec<_> = records(&inline)
            .into_iter()
            .filter(|r| r["event_type"] == "flow")
            .collect();
        assert_eq!(flows.len(), n as usize + 1, "epoch {epoch}");
        let timed_out = flows
            .iter()
            .filter(|r| r["flow"]["end_reason"] == "idle_timeout")
            .count();
        assert_eq!(
            timed_out, n as usize,
            "epoch {epoch}: each flow once, as idle"
        );
        for shards in ["1", "3"] {
            let piped = replay_stdout(&["--shards", shards, "--config", config], &path);
            assert!(piped == inline, "epoch {epoch}, {shards} shards");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The peak resident set of a run whose whole table times out after a gap
/// stays near a run without the gap, whose flows end in the end-of-input
/// flush's steps.
#[test]
fn a_gap_in_time_holds_the_memory_of_the_table() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("SKIPPED: no /proc here, so no peak-memory figure to compare");
        return;
    }
    let dir = tmpdir("floods-gap-memory");
    let n = 300_000;
    let peak = |gap: u64| {
        let path = dir.join(format!("gap-{gap}.pcap"));
        write_gap(&path, n, gap);
        let out = bin()
            .args(["replay", "--shards", "0", "--no-parsers", "-o", "/dev/null"])
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        summary_number(&err, "peak resident").expect("peak memory in the summary")
    };
    let (with_gap, without) = (peak(7200), peak(2));
    eprintln!("{n} flows: peak resident {with_gap:.1} MiB after a gap, {without:.1} without");
    assert!(
        with_gap <= without * 1.5,
        "peak resident {with_gap:.1} MiB after a gap against {without:.1}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
