#!/usr/bin/env bash
# Records/s of a replay written to Kafka (a tansu broker with in-memory
# storage on loopback) next to the same replay written to a file, in
# interleaved rounds, with the time from the last record produced to the
# last acknowledgement.
#
#   scripts/kafka-throughput.sh TRACE [ROUNDS] [SHARDS]
#
# Needs target/release/flowscope (cargo build --release -p flowscope-cli)
# and tansu (cargo install tansu --locked --features dynostore).
set -euo pipefail
trace=${1:?usage: scripts/kafka-throughput.sh TRACE [ROUNDS] [SHARDS]}
rounds=${2:-3}
shards=${3:-1}
bin=${FLOWSCOPE_BIN:-target/release/flowscope}
tansu=$(command -v tansu || echo "${CARGO_HOME:-$HOME/.cargo}/bin/tansu")
[ -x "$bin" ] || { echo "no $bin: cargo build --release -p flowscope-cli" >&2; exit 1; }
[ -x "$tansu" ] || { echo "no tansu: cargo install tansu --locked --features dynostore" >&2; exit 1; }
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$tansu" broker --storage-engine memory://tansu/ --listener-url "tcp://127.0.0.1:$port" \
  --advertised-listener-url "tcp://127.0.0.1:$port" >"$work/tansu.log" 2>&1 &
broker=$!
trap 'kill $broker 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
  sleep 0.1
done
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before"
printf '%-6s %-6s %10s %9s %12s\n' round output records seconds records/s
for r in $(seq "$rounds"); do
  for out in file kafka; do
    if [ "$out" = file ]; then
      target="$work/eve.json"
    else
      # A topic per round: each round starts on an empty one.
      "$tansu" topic create --broker "tcp://127.0.0.1:$port" --partitions 3 "eve$r" >/dev/null
      target="kafka://127.0.0.1:$port/eve$r"
    fi
    start=$(date +%s.%N)
    "$bin" replay --shards "$shards" -o "$target" "$trace" 2>"$work/err"
    end=$(date +%s.%N)
    if [ "$out" = file ]; then
      records=$(wc -l <"$work/eve.json")
    else
      records=$(sed -n 's/.*: \([0-9]*\) records produced, \([0-9]*\) acknowledged.*/\2/p' "$work/err")
    fi
    awk -v r="$r" -v o="$out" -v n="$records" -v s="$start" -v e="$end" \
      'BEGIN { printf "%-6s %-6s %10d %9.2f %12.0f\n", r, o, n, e - s, n / (e - s) }'
  done
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) after"
