#!/usr/bin/env bash
# Fuzzes flowscope with libFuzzer. Two crates hold the targets:
#
#   engine/fuzz  http dns tls quic ssh ftp dhcp tftp smtp http2 sip rfb mqtt snmp krb5 pgsql ike dcerpc modbus rdp dnp3 nfs smb bittorrent_dht (the parsers), probes (every content probe), decoder (every link type and
#                tunnel), defrag (IP fragments through the engine), reassembly
#                (TCP segments through the engine, parsers on)
#   io/fuzz      pcap, pcapng (the capture reader), whole (a capture file through
#                reader, engine, parsers and EVE rendering)
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 60 s each, every target
#
# Targets run one after another. The build is the stable toolchain's, with
# libFuzzer's coverage instrumentation, debug assertions and overflow checks, and
# AddressSanitizer through RUSTC_BOOTSTRAP=1 -Zsanitizer=address when the
# toolchain ships its runtime (FUZZ_ASAN=0 builds without it; so does a
# toolchain without it, saying so). The corpus of pcap, pcapng and whole
# starts, once, with the shared capture corpus's files of up to 64 KiB
# ($FLOWSCOPE_CORPUS, else ../shared/corpus beside the checkout).
#
# Per target: the corpus grows in CRATE/corpus/TARGET/, findings land in
# CRATE/artifacts/TARGET/, libFuzzer's output in target/fuzz-logs/TARGET.log.
# At the end a table gives runs, exec/s, coverage and the verdict per target;
# the exit status is 1 when any target found a crash, leak or timeout.
# FUZZ_ARGS adds libFuzzer options (e.g. FUZZ_ARGS=-jobs=2).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

secs="${1:-60}"
shift || true
crates=(engine/fuzz io/fuzz)

# The [[bin]] names of a fuzz crate's manifest.
bins() { sed -n '/^\[\[bin\]\]/{n;s/^name = "\(.*\)"/\1/p;}' "$1/Cargo.toml"; }
crate_of() {
  local c
  for c in "${crates[@]}"; do
    if bins "$c" | grep -qx "$1"; then
      echo "$c"
      return
    fi
  done
  return 1
}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for c in "${crates[@]}"; do
    while read -r t; do targets+=("$t"); done < <(bins "$c")
  done
fi
for t in "${targets[@]}"; do
  crate_of "$t" >/dev/null || {
    echo "unknown target $t; targets: $(for c in "${crates[@]}"; do bins "$c"; done | tr '\n' ' ')" >&2
    exit 2
  }
done

host="$(rustc -vV | sed -n 's/^host: //p')"
flags="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
mode=sancov
if [ "${FUZZ_ASAN:-1}" != 0 ]; then
  # Stable rustc refuses -Z flags unless RUSTC_BOOTSTRAP is set; the ASan
  # runtime ships with the toolchain's standard library on x86_64 Linux.
  probe="$(mktemp -d)"
  if echo 'fn main() {}' | RUSTC_BOOTSTRAP=1 rustc -Zsanitizer=address --target "$host" \
    -o "$probe/p" - >/dev/null 2>&1 && "$probe/p"; then
    mode=asan
    flags="$flags -Zsanitizer=address"
    export RUSTC_BOOTSTRAP=1
  else
    echo "this toolchain cannot build with AddressSanitizer: fuzzing without it"
  fi
  rm -rf "$probe"
fi
echo "== build: stable rustc, libFuzzer instrumentation, $([ $mode = asan ] && echo 'AddressSanitizer' || echo 'no ASan')"
export RUSTFLAGS="$flags"
# One target dir for both crates (the engine builds once); an explicit
# --target keeps the instrumentation off build scripts and proc macros.
tdir="$root/target/fuzz-$mode"
for c in "${crates[@]}"; do
  want=()
  for t in "${targets[@]}"; do
    [ "$(crate_of "$t")" = "$c" ] && want+=(--bin "$t")
  done
  [ ${#want[@]} -gt 0 ] || continue
  cargo build --release --manifest-path "$c/Cargo.toml" "${want[@]}" --target "$host" --target-dir "$tdir"
done

# Starting inputs: small real captures, by magic number (pcap: either byte
# order, µs, ns or modified; pcapng: the section header block), copied once
# per target.
corpus="${FLOWSCOPE_CORPUS:-$root/../shared/corpus}"
prime() {
  local t="$1" dir="$2" n=0 f magic
  [ -e "$dir.primed" ] && return
  if [ ! -d "$corpus" ]; then
    echo "no capture corpus at $corpus: $t starts from an empty corpus"
    return
  fi
  while IFS= read -r -d '' f; do
    magic="$(od -An -tx1 -N4 "$f" | tr -d ' \n')"
    case "$magic" in
      d4c3b2a1 | a1b2c3d4 | 4d3cb2a1 | a1b23c4d | 34cdb2a1 | a1b2cd34) [ "$t" = pcapng ] && continue ;;
      0a0d0d0a) [ "$t" = pcap ] && continue ;;
      *) continue ;;
    esac
    cp "$f" "$dir/capture-$(echo "${f#"$corpus"/}" | tr '/' '_')"
    n=$((n + 1))
  done < <(find "$corpus" -type f -size -65537c -print0 | sort -z)
  touch "$dir.primed"
  echo "$t's corpus starts with $n captures of at most 64 KiB from $corpus"
}

logs="$root/target/fuzz-logs"
mkdir -p "$logs"
failed=0
summary=()
for t in "${targets[@]}"; do
  c="$(crate_of "$t")"
  mkdir -p "$c/corpus/$t" "$c/artifacts/$t"
  case "$t" in pcap | pcapng | whole) prime "$t" "$c/corpus/$t" ;; esac
  echo "== $t ($secs s, $mode)"
  status=ok
  # shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
  "$tdir/$host/release/$t" -max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-10}" \
    -print_final_stats=1 -artifact_prefix="$c/artifacts/$t/" ${FUZZ_ARGS:-} "$c/corpus/$t" \
    >"$logs/$t.log" 2>&1 || status="FAILED (rc $?)"
  tail -n 3 "$logs/$t.log" | sed 's/^/   /'
  if [ "$status" != ok ]; then
    failed=1
    grep -m1 -E '^(==[0-9]+==ERROR|thread .* panicked|ERROR: libFuzzer|SUMMARY)' "$logs/$t.log" | sed 's/^/   /' || true
    grep -m1 -E '^artifact_prefix|Test unit written to' "$logs/$t.log" | sed 's/^/   /' || true
  fi
  # libFuzzer's last status line, then its final stats.
  done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$logs/$t.log" | tail -n1 || true)"
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -n1)"
  eps="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t.log" | tail -n1)"
  cov="$(echo "$done_line" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')"
  corp="$(echo "$done_line" | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')"
  summary+=("$(printf '%-11s %9s %10s %8s %7s %7s  %s' "$t" "$secs" "${runs:--}" "${eps:--}" \
    "${cov:--}" "${corp:--}" "$status")")
done

echo
echo "== summary ($mode, $(date -u +%Y-%m-%d), $(nproc) CPUs)"
printf '%-11s %9s %10s %8s %7s %7s  %s\n' target seconds runs exec/s cov corpus result
printf '%s\n' "${summary[@]}"
exit $failed
