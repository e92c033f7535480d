#!/usr/bin/env bash
# Measures flowscope 0.3.0's FlowTracker (from the Rust package registry, bidirectional 5-tuple) on a classic pcap,
# timed the way `flowscope-bench engine` times our engine: trace in memory, records indexed first,
# timers (its O(all flows) sweep) every 4096 packets, best and median of 5 passes.
# Built in its own directory outside the workspace; needs the Rust package registry once.
#
#   scripts/baseline-flowscope03.sh TRACE.pcap
set -euo pipefail
trace=${1:?usage: $0 TRACE.pcap}
dir=${FLOWSCOPE03_DIR:-${TMPDIR:-/tmp}/flowscope03-runner}
mkdir -p "$dir/src"
cat > "$dir/Cargo.toml" <<'EOF'
[package]
name = "flowscope03-runner"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
flowscope = "=0.3.0"

[profile.release]
codegen-units = 4
lto = "thin"

[workspace]
EOF
cat > "$dir/src/main.rs" <<'EOF'
use flowscope::extract::FiveTuple;
use flowscope::{FlowTracker, PacketView, Timestamp};
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("pcap path");
    let data = std::fs::read(&path).expect("read trace");
    assert_eq!(&data[..4], &0xa1b2c3d4u32.to_le_bytes(), "classic little-endian microsecond pcap expected");
    let mut recs = Vec::new();
    let mut off = 24;
    while off + 16 <= data.len() {
        let word = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap());
        let (sec, usec, cap) = (word(off), word(off + 4), word(off + 8) as usize);
        recs.push((off + 16, cap, sec, usec * 1000));
        off += 16 + cap;
    }
    let mut times = Vec::new();
    for _ in 0..5 {
        let mut tracker: FlowTracker<FiveTuple> = FlowTracker::new(FiveTuple::bidirectional());
        let mut events = 0usize;
        let start = Instant::now();
        for (i, &(o, len, sec, nsec)) in recs.iter().enumerate() {
            let ts = Timestamp::new(sec, nsec);
            events += tracker.track(PacketView::new(&data[o..o + len], ts)).len();
            if (i + 1) % 4096 == 0 {
                events += tracker.sweep(ts).len();
            }
        }
        events += tracker.sweep(Timestamp::new(u32::MAX, 0)).len();
        times.push(start.elapsed().as_secs_f64());
        std::hint::black_box(events);
    }
    times.sort_by(f64::total_cmp);
    let n = recs.len() as f64;
    println!(
        "flowscope 0.3.0 FlowTracker: {} packets, best {:.3} s = {:.2} Mpps, median {:.3} s = {:.2} Mpps",
        recs.len(), times[0], n / times[0] / 1e6, times[2], n / times[2] / 1e6
    );
}
EOF
cargo build --release --quiet --manifest-path "$dir/Cargo.toml"
"$dir/target/release/flowscope03-runner" "$trace"
