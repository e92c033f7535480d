#!/usr/bin/env bash
# Byte-identity of `flowscope replay` output across shard counts and reruns, with the release
# binary: every TRACE is replayed with --shards 0 (one engine, the reference), 1, 2, 3, 4 (and
# any counts given in SHARDS), plus a second --shards 2 run, each with every ingest thread count
# in INGEST_THREADS (default "1 2": the single-thread ingest and one with a keying pool); every
# output must equal the first.
# With no TRACE it uses the big trace, building it first if needed with scripts/big-trace.sh
# (needs editcap/mergecap/capinfos and tcprewrite: Debian wireshark-common, tcpreplay).
# (CI checks the same property on every corpus capture in io/cli/tests/flowscope/corpus.rs.)
#
# FLOWSCOPE_BIN names a prebuilt binary to use instead of building one (for a machine with no
# toolchain).
#
#   [SHARDS="8 16"] [INGEST_THREADS="1 2 4"] [FLOWSCOPE_BIN=PATH] scripts/determinism-check.sh [TRACE...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
if [ $# -eq 0 ]; then
  big=$("$here/big-trace.sh")
  set -- "$big"
fi
if [ -n "${FLOWSCOPE_BIN:-}" ]; then
  bin=$FLOWSCOPE_BIN
else
  cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin flowscope
  bin="$root/target/release/flowscope"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for trace in "$@"; do
  "$bin" replay -q --shards 0 -o "$tmp/ref.json" "$trace" || true
  ref=$(sha256sum < "$tmp/ref.json" | cut -d' ' -f1)
  printf '%s: --shards 0 %s (%s records)\n' "$trace" "${ref:0:16}" "$(wc -l < "$tmp/ref.json")"
  for n in 1 2 3 4 ${SHARDS:-} 2; do
    for t in ${INGEST_THREADS:-1 2}; do
      "$bin" replay -q --shards "$n" --ingest-threads "$t" -o "$tmp/out.json" "$trace" || true
      got=$(sha256sum < "$tmp/out.json" | cut -d' ' -f1)
      if [ "$got" = "$ref" ]; then
        printf '  --shards %-3s --ingest-threads %-3s identical\n' "$n" "$t"
      else
        printf '  --shards %-3s --ingest-threads %-3s DIFFERS (%s)\n' "$n" "$t" "${got:0:16}"
        fail=1
      fi
    done
  done
done
exit $fail
