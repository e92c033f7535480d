#!/usr/bin/env bash
# Load check for live capture: replays a trace with tcpreplay across a veth
# pair between two network namespaces while `flowscope capture` reads the
# receiving end, at each rate given, and reports what was sent, what the
# capture read, kernel drops, interface drops, flowscope's own drops
# (shard queues full) and the ingest thread's busy time (from the stderr
# summary: waiting on a quiet link excluded). Needs root, iproute2 and
# tcpreplay (Debian: `apt-get install tcpreplay`); builds flowscope in
# release mode.
#
#   scripts/live-load.sh TRACE [--shards N] [--senders K] [--write] [--config FILE] [RATE...]
#
# --config passes a flowscope configuration (e.g. one with
# `[pipeline] live_drop_wait_ms = 0` to drop the moment a shard queue is full).
#
# --write also writes the capture through to pcapng (in a temporary
# directory), to see what -w costs.
#
# K tcpreplay processes send the trace at once (default 1; one tcpreplay
# through a veth tops out near 0.25 Mpps on a small machine), each at RATE,
# which is packets per second (100k, 1M…) or `top` (tcpreplay --topspeed);
# default: 100k 200k 300k 400k 600k top. The last table line with zero
# drops of every kind is the highest rate this machine captured losslessly.
set -euo pipefail
cd "$(dirname "$0")/.."

trace=${1:?usage: scripts/live-load.sh TRACE [--shards N] [--senders K] [--write] [--config FILE] [RATE...]}
shift
shards=2
senders=1
write=()
config=()
while [ $# -gt 0 ]; do
  case $1 in
    --shards) shards=$2; shift 2 ;;
    --senders) senders=$2; shift 2 ;;
    --write) write=(-w WORK/cap.pcapng); shift ;;
    --config) config=(-c "$(realpath "$2")"); shift 2 ;;
    *) break ;;
  esac
done
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(100k 200k 300k 400k 600k top)

command -v tcpreplay >/dev/null || { echo "tcpreplay is not installed (apt-get install tcpreplay)" >&2; exit 1; }
cargo build --release -q --bin flowscope
bin=$PWD/target/release/flowscope

tx=fsload-tx-$$ rx=fsload-rx-$$
work=$(mktemp -d)
cleanup() {
  ip netns del "$tx" 2>/dev/null || true
  ip netns del "$rx" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$tx"
ip netns add "$rx"
ip link add vtx netns "$tx" type veth peer name vrx netns "$rx"
# Jumbo MTU: the trace holds frames larger than 1500 bytes.
ip -n "$tx" link set vtx mtu 65535 up
ip -n "$rx" link set vrx mtu 65535 up

pps_of() {
  python3 -c "
import sys; s=sys.argv[1].lower(); m={'k':1e3,'m':1e6}
print(int(float(s[:-1])*m[s[-1]]) if s[-1] in m else int(float(s)))" "$1"
}

printf '%-8s %10s %10s %10s %10s %10s %10s %10s %10s %12s\n' rate sent_pps sent read kernel_drop if_drop queue_drop flows wall_s ingest_busy_s
for rate in "${rates[@]}"; do
  out=$work/out-$rate.json
  ip netns exec "$rx" "$bin" capture -i vrx --shards "$shards" --no-pin \
    --stats-interval 0 --buffer-size 64M -o "$out" "${write[@]/WORK/$work}" "${config[@]}" \
    2>"$work/summary-$rate.txt" &
  cap=$!
  sleep 1
  if [ "$rate" = top ]; then
    speed=(--topspeed)
  else
    speed=(--pps="$(pps_of "$rate")")
  fi
  pids=()
  for k in $(seq "$senders"); do
    ip netns exec "$tx" tcpreplay -q -K -i vtx "${speed[@]}" "$trace" >"$work/tcpreplay-$k.txt" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}" || true
  cat "$work"/tcpreplay-*.txt >"$work/tcpreplay.txt"
  rm -f "$work"/tcpreplay-*.txt
  sleep 2
  kill -INT "$cap"
  wait "$cap" || true
  python3 - "$out" "$work/tcpreplay.txt" "$rate" "$work/summary-$rate.txt" <<'EOF'
import json, re, sys
out, log, rate, summary = sys.argv[1:5]
# The ingest thread's busy time from the stderr summary (waiting on a
# quiet link and on full shard queues excluded).
busy = re.search(r"^  ingest: .*?busy ([\d.]+) s", open(summary).read(), re.M)
text = open(log).read()
sends = re.findall(r"Actual: (\d+) packets .* in ([\d.]+) seconds", text)
failed = sum(int(n) for n in re.findall(r"Failed packets:\s+(\d+)", text))
# Senders run together: packets add up, the wall time is the longest one's.
sent_n = sum(int(n) for n, _ in sends)
secs = max((float(t) for _, t in sends), default=0.0)
cap = None
for line in open(out):
    r = json.loads(line)
    if r.get("event_type") == "stats" and "capture" in r["stats"]:
        cap = r["stats"]["capture"]
d = cap["drops"]
flows = sum(1 for line in open(out) if '"event_type":"flow"' in line)
print(f"{rate:<8} {sent_n / max(secs, 1e-9):>10.0f} {sent_n:>10} {cap['packets']:>10} {d['kernel']:>10} "
      f"{d['interface']:>10} {d['shard_queue_full']:>10} {flows:>10} {secs:>10.2f}"
      f" {busy.group(1) if busy else '-':>12}"
      + (f"  (tcpreplay failed to send {failed})" if failed else ""))
EOF
done
