#!/usr/bin/env bash
# The shard-scaling table, as one prepared script for a many-core box: it builds nothing and
# carries no capture. It generates its trace where it runs (flowscope-bench gen, deterministic:
# the same flags give the same bytes on every machine), then measures the full pipeline and
# flow tracking alone (--no-parsers) at each shard count with `flowscope-bench run`: Mpps,
# speed-up over one shard, each thread's busy share of the wall time, and the ingest→event
# latency percentiles (one packet in 16 sampled), with the default ingest (`[pipeline]
# ingest_threads = 0`: one ingest thread per two shards, 1 to 4). Then the same full pipeline
# with a fixed number of ingest threads (POOL_SHARDS x POOL_THREADS; 1: no keying pool), and the
# ingest alone (read + key + dispatch into a shard that drops its batches) per ingest thread count.
#
#   [POOL_SHARDS=8,12] [POOL_THREADS=1,4] [INGEST_THREADS=1,2,4,8] [REPORT_DIR=DIR] \
#     scripts/scaling.sh [BIN_DIR] [SHARDS] [FLOWS]
#
#   BIN_DIR  where flowscope-bench is (default: target/release; build it with
#            `cargo build --release -p flowscope-bench` and copy it over)
#   SHARDS   comma-separated shard counts (default 1,2,4,8,14)
#   FLOWS    flows in the generated trace (default 100k: about 2.6 M packets)
#
# Prints the machine (cores, CPU model, load average before and after) and the tables; the
# trace is written to a temporary directory and removed at the end. With REPORT_DIR, each `run`
# also writes its HTML page and `.hgrm` histograms under REPORT_DIR/<table>/. An empty
# POOL_SHARDS or INGEST_THREADS skips that table.
set -euo pipefail
bin=${1:-target/release}
shards=${2:-1,2,4,8,14}
flows=${3:-100k}
bench="$bin/flowscope-bench"
[ -x "$bench" ] || { echo "scaling.sh: no flowscope-bench in $bin" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/flowscope-scaling.XXXXXX")
trap 'rm -rf "$work"' EXIT

model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "machine: $(nproc) cores, ${model:-unknown CPU}; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "trace: flowscope-bench gen --flows $flows --max-bulk 2MB --max-object 1MB"
"$bench" gen -o "$work/trace.pcap" --flows "$flows" --max-bulk 2MB --max-object 1MB >&2

report() { [ -n "${REPORT_DIR:-}" ] && printf '%s\n' --report "$REPORT_DIR/$1"; true; }

for mode in full no-parsers; do
  echo
  echo "== $mode =="
  extra=()
  [ "$mode" = no-parsers ] && extra=(--no-parsers)
  mapfile -t rep < <(report "$mode")
  "$bench" run "$work/trace.pcap" --shards "$shards" --repeat 3 "${extra[@]}" "${rep[@]}"
done

pool_shards=${POOL_SHARDS-8,12}
if [ -n "$pool_shards" ]; then
  for t in $(tr ',' ' ' <<<"${POOL_THREADS:-1,4}"); do
    echo
    echo "== full, ingest_threads = $t =="
    printf '[pipeline]\ningest_threads = %s\n' "$t" > "$work/ingest$t.toml"
    mapfile -t rep < <(report "full-ingest$t")
    "$bench" run "$work/trace.pcap" --shards "$pool_shards" --repeat 3 \
      --config "$work/ingest$t.toml" "${rep[@]}"
  done
fi

ingest=${INGEST_THREADS-1,2,4,8}
if [ -n "$ingest" ]; then
  echo
  echo "== ingest alone, ingest threads $ingest (and flow tracking inline, --shards 0) =="
  "$bench" pipeline "$work/trace.pcap" --shards 0 --ingest-only --ingest-threads "$ingest" \
    --repeat 3 --no-latency
fi
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
