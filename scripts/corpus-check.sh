#!/usr/bin/env bash
# Runs the release `flowscope` over every capture in the corpus MANIFEST.tsv and compares
# flow counts with tshark's (REF_tshark.jsonl). See scripts/corpus_check.py for what is printed.
#
#   scripts/corpus-check.sh [CORPUS_DIR] [corpus_check.py options, e.g. --show 50 --json out.json]
#
# CORPUS_DIR defaults to $FLOWSCOPE_CORPUS, then ../shared/corpus next to the checkout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
corpus=${1:-${FLOWSCOPE_CORPUS:-$root/../shared/corpus}}
[ $# -gt 0 ] && shift
if [ ! -f "$corpus/MANIFEST.tsv" ]; then
  echo "corpus-check: no corpus at $corpus (set FLOWSCOPE_CORPUS or pass the directory)" >&2
  exit 2
fi
cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin flowscope
exec python3 "$here/corpus_check.py" "$root/target/release/flowscope" "$corpus" "$@"
