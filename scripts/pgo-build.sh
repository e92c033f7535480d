#!/usr/bin/env bash
# Builds `flowscope` and `flowscope-bench` with profile-guided optimisation (PGO): an
# instrumented build runs a training workload, LLVM merges the profiles it wrote, and a second
# build lays out and inlines the code by them. Same sources, same output bytes: only the
# machine code differs (docs/performance.md, "Profile-guided build", has the figures).
#
#   scripts/pgo-build.sh [--check] [CAPTURE...]
#
# The binaries land in target/pgo/<host>/release/ (flowscope, flowscope-bench); the profile is
# target/pgo/flowscope.profdata. With --check, the PGO binary then replays the bundled demo
# and a generated trace with 0, 1 and 4 shards and must print the same bytes as a release
# build of the same checkout (target/release/flowscope, built if missing).
#
# Training, on inputs the repository makes itself (never the trace the figures are taken on):
# the bundled demo capture, and a synthetic trace from the instrumented `flowscope-bench gen`
# (HTTP, TLS, DNS, bulk TCP, UDP, tunnels, loss, reordering, a SYN flood; about 200 MB,
# deleted at the end), each replayed inline, with one shard (records rendered on the writing
# thread) and with two (rendered on the shards); the trace also goes through
# --no-parsers, --eve-profile strict, `flowscope streams` and the benchmark's engine, pipeline
# and run (code no training run reaches is built as cold). CAPTURE files given are
# replayed the same way, one by one: captures like the traffic the build will see make a better
# profile (one that fails to read is reported and left out of the training).
#
# Needs `llvm-profdata` of the LLVM that rustc was built with (`rustc -vV`, "LLVM version"):
# rustup's `llvm-tools` component, or Debian's `llvm-N` package for that major version N.
# Set $LLVM_PROFDATA to use another path.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
check=0
if [ "${1:-}" = --check ]; then
  check=1
  shift
fi
for f in "$@"; do
  case $f in
    -*) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
  [ -r "$f" ] || { echo "pgo-build: cannot read $f" >&2; exit 2; }
done
captures=()
for f in "$@"; do
  captures+=("$(realpath "$f")")
done
set -- "${captures[@]}"
cd "$root"

# shellcheck source=scripts/lib/llvm-profdata.sh
. "$root/scripts/lib/llvm-profdata.sh"
host=$(rustc -vV | sed -n 's/^host: //p')
profdata=${LLVM_PROFDATA:-}
if [ -n "$profdata" ] && ! "$profdata" --version >/dev/null 2>&1; then
  echo "pgo-build: LLVM_PROFDATA=$profdata does not run" >&2
  exit 2
fi
[ -n "$profdata" ] || profdata=$(llvm_profdata)
if [ -z "$profdata" ]; then
  major=$(llvm_major)
  echo "pgo-build: no llvm-profdata for LLVM $major (rustc's): install rustup's" \
    "llvm-tools component or the llvm-$major package, or set LLVM_PROFDATA" >&2
  exit 2
fi

dir=$root/target/pgo
raw=$dir/profraw
rm -rf "$raw"
mkdir -p "$raw"
# `--target` keeps RUSTFLAGS off build scripts and proc macros: only the binaries are
# instrumented, and only they read the profile.
build() {
  RUSTFLAGS="${RUSTFLAGS:-} $1" cargo build --release --quiet --target "$host" \
    --target-dir "$2" -p flowscope-cli -p flowscope-bench
}

echo "pgo-build: instrumented build" >&2
build "-Cprofile-generate=$raw" "$dir/instrumented"
bin=$dir/instrumented/$host/release
trace=$dir/train.pcap
streams=$(mktemp -d)
a=$(mktemp) b=$(mktemp)
trap 'rm -rf "$trace" "$streams" "$a" "$b"' EXIT
"$bin/flowscope-bench" gen -o "$trace" --flows 12k --max-bulk 256KB --max-object 64KB \
  --loss 0.001 --reorder 0.002 --retrans 0.002 --syn-flood 1000 --seed 7 >/dev/null
echo "pgo-build: training on the demo capture, a generated trace and $# capture(s)" >&2
fs=$bin/flowscope
failed=0
for shards in 0 1 2; do
  "$fs" replay -q --shards "$shards" -o /dev/null
  "$fs" replay -q --shards "$shards" "$trace" -o /dev/null
  for f in "$@"; do
    "$fs" replay -q --shards "$shards" "$f" -o /dev/null 2>/dev/null || failed=$((failed + 1))
  done
done
[ "$failed" = 0 ] || echo "pgo-build: $((failed / 3)) capture(s) failed to replay, left out" >&2
# The other modes, so that none of their code is taken for cold: flow tracking alone,
# Suricata's fields only, streams to files, and the benchmark's own loops (the engine's
# generic code is compiled again in each binary, and profiled per binary).
"$fs" replay -q --no-parsers --shards 1 "$trace" -o /dev/null
"$fs" replay -q --eve-profile strict --shards 1 "$trace" -o /dev/null
"$fs" streams -q --shards 1 --out "$streams" "$trace"
"$bin/flowscope-bench" engine "$trace" --repeat 1 --reassembly --full >/dev/null
"$bin/flowscope-bench" pipeline "$trace" --shards 0,1,2 --repeat 1 >/dev/null
"$bin/flowscope-bench" pipeline "$trace" --ingest-only --ingest-threads 1,2 --repeat 1 >/dev/null
"$bin/flowscope-bench" run "$trace" --shards 1,2 --repeat 1 --in-process >/dev/null
"$profdata" merge -o "$dir/flowscope.profdata" "$raw"

echo "pgo-build: optimised build" >&2
# Cargo does not see a new profile behind the same flags: build from scratch.
rm -rf "${dir:?}/$host"
build "-Cprofile-use=$dir/flowscope.profdata -Cllvm-args=-pgo-warn-missing-function=false" "$dir"
out=$dir/$host/release
echo "$out/flowscope"
echo "$out/flowscope-bench"

if [ "$check" = 1 ]; then
  cargo build --release --quiet --target-dir "$root/target" -p flowscope-cli
  ref=$root/target/release/flowscope
  for shards in 0 1 4; do
    for input in demo "$trace"; do
      files=("$input")
      [ "$input" = demo ] && files=()
      "$ref" replay -q --shards "$shards" "${files[@]}" >"$a"
      "$out/flowscope" replay -q --shards "$shards" "${files[@]}" >"$b"
      if ! cmp -s "$a" "$b"; then
        echo "pgo-build: the PGO build's output differs (--shards $shards, $input)" >&2
        exit 1
      fi
    done
  done
  echo "pgo-build: same output as the release build (demo and generated trace, 0/1/4 shards)" >&2
fi
