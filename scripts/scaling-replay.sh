#!/usr/bin/env bash
# Shard scaling of `flowscope replay` (full pipeline and --no-parsers), run on a many-core box.
#
#   scripts/scaling-replay.sh FLOWSCOPE_BIN TRACE.pcap [SHARDS...]     default shards: 0 1 2 4 8 14
#
# The 16-core table of docs/performance.md: TRACE = the first 110 000 packets of the big trace
# (scripts/big-trace.sh; `editcap -F pcap -r target/traces/big/big.pcap target/traces/t.pcap
# 1-110000`) grown 8x with `scripts/grow_trace.py target/traces/t.pcap target/traces/g.pcap 8`
# (880 000 packets, 78 k flows), two passes per configuration.
set -euo pipefail
bin="$1"; trace="$2"; shift 2
counts=("$@"); [ ${#counts[@]} -gt 0 ] || counts=(0 1 2 4 8 14)
echo "cores: $(nproc)"
for pass in 1 2; do
  for n in "${counts[@]}"; do
    echo "pass $pass shards $n full:       $("$bin" replay --shards "$n" "$trace" -o /dev/null 2>&1 | head -1)"
    echo "pass $pass shards $n no-parsers: $("$bin" replay --shards "$n" --no-parsers "$trace" -o /dev/null 2>&1 | head -1)"
  done
done
