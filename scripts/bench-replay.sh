#!/usr/bin/env bash
# End-to-end `flowscope replay` throughput per shard count (read, decode, track, render EVE,
# write to /dev/null), runs interleaved so machine noise hits every count alike; prints the
# best and median Mpps of each count from the CLI's own summary, and peak RSS (when GNU time
# is installed: Debian package `time`).
#
#   scripts/bench-replay.sh TRACE [SHARD_COUNTS (default "0 1 2")] [RUNS (default 5)]
set -euo pipefail
trace=${1:?usage: $0 TRACE [SHARD_COUNTS] [RUNS]}
counts=${2:-0 1 2}
runs=${3:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin flowscope
bin="$root/target/release/flowscope"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$runs"); do
  for n in $counts; do
    if [ -x /usr/bin/time ]; then
      /usr/bin/time -f "%M" -o "$tmp/rss" "$bin" replay --shards "$n" -o /dev/null "$trace" 2> "$tmp/err" || true
    else
      echo 0 > "$tmp/rss"
      "$bin" replay --shards "$n" -o /dev/null "$trace" 2> "$tmp/err" || true
    fi
    mpps=$(grep -o '[0-9.]* Mpps' "$tmp/err" | head -1 | cut -d' ' -f1)
    echo "$n $mpps $(cat "$tmp/rss")" >> "$tmp/all"
  done
done
printf '%-7s %10s %10s %12s\n' shards "best Mpps" "median" "peak RSS MB"
for n in $counts; do
  awk -v n="$n" '$1 == n { print $2, $3 }' "$tmp/all" | sort -n | awk -v n="$n" '
    { v[NR] = $1; if ($2 > rss) rss = $2 }
    END { printf "%-7s %10.2f %10.2f %12.0f\n", n, v[NR], v[int((NR + 1) / 2)], rss / 1024 }'
done
