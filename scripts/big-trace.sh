#!/usr/bin/env bash
# Builds the big trace: the throughput trace of docs/performance.md, made only of real captures
# from the corpus (concatenated, then replicated 8x with rewritten addresses and merged), by
# running the corpus's make_big.sh. Skips the build when the trace already exists. Prints the
# trace's path on stdout; make_big.sh's report goes to stderr.
#
#   scripts/big-trace.sh [OUT_DIR]     default OUT_DIR: target/traces/big in this checkout
#
# The trace is OUT_DIR/big.pcap (997 992 packets, 401 MB); make_big.sh also leaves
# base-list.txt, base.pcap and big.info (tool versions, capinfos, sha256) there.
# The corpus is $FLOWSCOPE_CORPUS, else ../shared/corpus next to the checkout.
# Needs editcap, mergecap and capinfos (Debian: wireshark-common), tcprewrite (Debian:
# tcpreplay) and python3. Same corpus and tool versions give the same bytes.
#
#   trace=$(scripts/big-trace.sh) && target/release/flowscope replay -q "$trace" -o /dev/null
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=${FLOWSCOPE_CORPUS:-$root/../shared/corpus}
out=${1:-$root/target/traces/big}
trace=$out/big.pcap
if [ -f "$trace" ]; then
  echo "$trace"
  exit 0
fi
if [ ! -f "$corpus/make_big.sh" ]; then
  echo "big-trace: no $corpus/make_big.sh (set FLOWSCOPE_CORPUS to the corpus directory)" >&2
  exit 2
fi
missing=()
for tool in editcap mergecap capinfos tcprewrite python3; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "big-trace: needs ${missing[*]} (Debian: apt-get install wireshark-common tcpreplay python3)" >&2
  exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
trace=$out/big.pcap
echo "big-trace: building $trace with $corpus/make_big.sh" >&2
# A build that stops half-way must not leave a partial big.pcap that a later run would take.
trap 'rm -f "$trace"; exit 130' INT TERM
if ! CORPUS="$corpus" OUT="$out" bash "$corpus/make_big.sh" >&2; then
  rm -f "$trace"
  echo "big-trace: make_big.sh failed" >&2
  exit 1
fi
trap - INT TERM
echo "$trace"
