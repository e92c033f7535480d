#!/usr/bin/env bash
# Two builds of flowscope on the same trace, passes interleaved (A, B, A, B ...
# per shard count) so both see the same minutes of the machine: each pass is
# `flowscope replay --shards N TRACE -o /dev/null`, its packets per second read
# from the summary line. Prints every pass, then per build and shard count the
# median and best Mpps, and B/A of each.
#
#   scripts/compare-builds.sh A_BIN B_BIN TRACE [PASSES] [SHARDS...]
#                                            default: 15 passes, shards 0 and 1
#
#   git worktree add /tmp/base REV && (cd /tmp/base && cargo build --release -p flowscope-cli)
#   scripts/compare-builds.sh /tmp/base/target/release/flowscope target/release/flowscope \
#       "$(scripts/big-trace.sh)"
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
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
for ((i = 1; i <= passes; i++)); do
  for n in "${shards[@]}"; do
    for which in A B; do
      bin=$a
      [ "$which" = B ] && bin=$b
      mpps=$("$bin" replay --shards "$n" "$trace" -o /dev/null 2>&1 | head -1 |
        sed -n 's/.* \([0-9.]*\) Mpps.*/\1/p')
      [ -n "$mpps" ] || { echo "compare-builds: no summary from $bin" >&2; exit 1; }
      echo "$which $n $mpps" | tee -a "$out"
    done
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    which, n, mpps = line.split()
    runs[(n, which)].append(float(mpps))
for n in sorted({n for n, _ in runs}, key=int):
    a, b = runs[(n, "A")], runs[(n, "B")]
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"--shards {n}: A median {ma:.2f} best {max(a):.2f} Mpps; "
          f"B median {mb:.2f} best {max(b):.2f} Mpps; "
          f"B/A median {mb / ma:.3f}, best {max(b) / max(a):.3f}")
EOF
