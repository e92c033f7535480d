#!/usr/bin/env bash
# Fuzzes the built-in parsers with libFuzzer (targets in engine/fuzz/fuzz_targets).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 60 s each for http dns tls quic
#
# With cargo-fuzz and a nightly toolchain it runs `cargo +nightly fuzz run` (AddressSanitizer
# on). Otherwise it builds the targets on stable with libFuzzer's coverage instrumentation
# (sanitizer coverage needs no nightly; ASan does) plus debug assertions and overflow checks,
# and runs them. Findings land in engine/fuzz/artifacts/TARGET/; the corpus grows in
# engine/fuzz/corpus/TARGET/. Exits non-zero on the first crash.
set -euo pipefail
cd "$(dirname "$0")/../engine/fuzz"

secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(http dns tls quic)

if cargo +nightly fuzz --version >/dev/null 2>&1; then
  for t in "${targets[@]}"; do
    echo "== cargo fuzz run $t ($secs s)"
    cargo +nightly fuzz run "$t" -- -max_total_time="$secs"
  done
  exit 0
fi

echo "cargo-fuzz/nightly not found: building instrumented targets on stable (no ASan)"
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps the instrumentation off build scripts and proc macros.
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --bins --target "$host" --target-dir target/stable-fuzz
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  echo "== $t ($secs s)"
  "target/stable-fuzz/$host/release/$t" -max_total_time="$secs" -artifact_prefix="artifacts/$t/" "corpus/$t"
done
