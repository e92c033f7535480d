#!/usr/bin/env bash
# Two builds of flowscope on the same trace, passes interleaved (A then B, then
# B then A, ... per shard count) so both see the same minutes of the machine and
# neither always runs first: each pass is `flowscope replay --shards N TRACE -o
# /dev/null`, its packets per second read from the summary line. Prints every
# pass, then per build and shard count the median and best Mpps, B/A of each,
# and the median of the passes' own B/A ratios.
#
#   scripts/compare-builds.sh A_BIN B_BIN TRACE [PASSES] [SHARDS...]
#                                            default: 15 passes, shards 0 and 1
#
# REPLAY_ARGS adds arguments to every pass (say `--no-parsers`). STDIN=1 feeds
# the trace on standard input, which every build reads the same way; by path,
# the inline engine (`--shards 0`) chooses per run between reading and mapping
# the file by timing both, and a choice that flips between runs moves a pass by
# more than most changes.
#
#   git worktree add /tmp/base REV && (cd /tmp/base && cargo build --release -p flowscope-cli)
#   scripts/compare-builds.sh /tmp/base/target/release/flowscope target/release/flowscope \
#       "$(scripts/big-trace.sh)"
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
a=$1 b=$2 trace=$3 passes=${4:-15}
shift $(($# < 4 ? $# : 4))
shards=("$@")
[ ${#shards[@]} -gt 0 ] || shards=(0 1)
for bin in "$a" "$b"; do
  [ -x "$bin" ] || { echo "compare-builds: $bin is not an executable" >&2; exit 2; }
done
[ -r "$trace" ] || { echo "compare-builds: cannot read $trace" >&2; exit 2; }
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
read -r -a extra <<< "${REPLAY_ARGS:-}"
src=$trace input=/dev/null
[ "${STDIN:-0}" = 1 ] && src=- input=$trace
pass() { # BIN SHARDS: one pass's summary line
  "$1" replay --shards "$2" "${extra[@]}" "$src" -o /dev/null < "$input" 2>&1 | head -1
}
for ((i = 1; i <= passes; i++)); do
  order="A B"
  [ $((i % 2)) = 0 ] && order="B A"
  for n in "${shards[@]}"; do
    for which in $order; do
      bin=$a
      [ "$which" = B ] && bin=$b
      mpps=$(pass "$bin" "$n" | sed -n 's/.* \([0-9.]*\) Mpps.*/\1/p')
      [ -n "$mpps" ] || { echo "compare-builds: no summary from $bin" >&2; exit 1; }
      echo "$which $n $mpps $i" | tee -a "$out"
    done
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(list)
by_pass = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    which, n, mpps, i = line.split()
    runs[(n, which)].append(float(mpps))
    by_pass[(n, i)][which] = float(mpps)
for n in sorted({n for n, _ in runs}, key=int):
    a, b = runs[(n, "A")], runs[(n, "B")]
    ma, mb = statistics.median(a), statistics.median(b)
    pairs = [p["B"] / p["A"] for (m, _), p in by_pass.items() if m == n]
    print(f"--shards {n}: A median {ma:.2f} best {max(a):.2f} Mpps; "
          f"B median {mb:.2f} best {max(b):.2f} Mpps; "
          f"B/A median {mb / ma:.3f}, best {max(b) / max(a):.3f}; "
          f"pass by pass {statistics.median(pairs):.3f} "
          f"(B faster in {sum(r > 1 for r in pairs)} of {len(pairs)})")
EOF
