#!/usr/bin/env bash
# One line per capture of the corpus MANIFEST.tsv: the SHA-256 of `flowscope replay`'s
# output (with the built-in parsers, and with --no-parsers) and the exit status. Two runs
# of this script, before and after a change that must not change behaviour, are compared
# with diff: any line that differs names a capture whose output changed.
#
#   scripts/corpus-digest.sh [FLOWSCOPE_BINARY] > digests.tsv
#
# The binary defaults to target/release/flowscope (built first); the corpus is
# $FLOWSCOPE_CORPUS, else ../shared/corpus next to the checkout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
corpus=${FLOWSCOPE_CORPUS:-$root/../shared/corpus}
if [ ! -f "$corpus/MANIFEST.tsv" ]; then
  echo "corpus-digest: no corpus at $corpus (set FLOWSCOPE_CORPUS)" >&2
  exit 2
fi
if [ $# -ge 1 ]; then
  bin=$1
else
  cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin flowscope
  bin="$root/target/release/flowscope"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'capture\tparsers\tstatus\tno_parsers\tstatus\n'
cut -f1 "$corpus/MANIFEST.tsv" | tail -n +2 | while read -r rel; do
  f="$corpus/$rel"
  [ -f "$f" ] || continue
  st1=0; "$bin" replay -q --shards 0 -o "$tmp/a" "$f" 2>/dev/null || st1=$?
  st2=0; "$bin" replay -q --shards 0 --no-parsers -o "$tmp/b" "$f" 2>/dev/null || st2=$?
  printf '%s\t%s\t%s\t%s\t%s\n' "$rel" "$(sha256sum < "$tmp/a" | cut -c1-16)" "$st1" \
    "$(sha256sum < "$tmp/b" | cut -c1-16)" "$st2"
done
