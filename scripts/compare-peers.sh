#!/usr/bin/env bash
# Runs flowscope and its peers on the same trace, interleaved, and prints one table: tool,
# threads, median and min wall s, Mpps, how many times flowscope (same thread budget) is
# faster, peak RSS, and the flow / HTTP / DNS / TLS counts each tool reports; then the load
# average around the rounds and the measured ratios behind flowscope's targets.
#
#   scripts/compare-peers.sh TRACE.pcap [--no-install] [--threads N]
#
# Peers: Suricata 7 (`--runmode single -k none -S /dev/null`, and autofp with N workers),
# tshark (one pass printing the fields the counts need), ndpiReader (one thread), and the
# `flowscope` crate from the Rust package registry — 0.3.0 (its FlowTracker: flows only) and the latest (its
# typed Driver: flows only, and with its HTTP, DNS and TLS parsers) — each built by a small
# runner in its own directory outside this workspace (${PEERS_DIR:-/tmp/flowscope-peers}), and
# reused from there by later runs.
# "Latest" is 0.26.0: it declares rust-version 1.97, so the runners are built with
# `cargo build --ignore-rust-version` (it builds with older toolchains, 1.95 at least); should
# that still fail, the runner falls back to ${FLOWSCOPE_FALLBACK:-0.22.0} (same Driver API), and
# the table says which.
# flowscope itself: `flowscope replay` full pipeline inline on one thread (`--shards 0`), with
# 1 and N shards, and flow tracking only (`--no-parsers`) inline and with 1 shard; the release
# build of this checkout, or the binary $FLOWSCOPE_BIN names (say, scripts/pgo-build.sh's).
#
# Installs what is missing (as root, Debian): tshark, libndpi-bin, suricata from
# the release's backports suite (scripts/apt-backports.sh); the crates need the Rust package registry once.
# Timing: every command is prepared first, then run in $RUNS (default 3) rounds, each round
# running every tool once in the same order, so that all tools share the same minutes of the
# machine; tshark, tens of times slower, runs once after the rounds. Wall times are whole
# processes (start-up and reading the file included): the table shows the median over the
# rounds (the mean of the middle two for an even count) and the min; Mpps and the ratios use
# the median; RSS is the peak over the rounds. The targets' ratios are given twice: from the
# medians, and paired by round (the median of each round's own ratio, with their range). The
# header prints /proc/loadavg before and after the rounds, to tell how busy the machine was.
# Counts (from each tool's last run): flows = flow records (Suricata, flowscope), TCP+UDP streams (tshark), flows
# (ndpiReader, flowscope 0.3/0.26); HTTP = requests; DNS = queries; TLS = ClientHellos (tshark,
# flowscope 0.26) or TLS records (Suricata, flowscope: one per connection). ndpiReader counts
# flows per detected protocol, marked "f". A "-" means the tool does not report it.
set -euo pipefail
trace=${1:?usage: $0 TRACE.pcap [--no-install] [--threads N]}
shift
install=1
threads=$(nproc)
while [ $# -gt 0 ]; do
    case $1 in
        --no-install) install=0 ;;
        --threads) threads=$2; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ -r "$trace" ] || { echo "cannot read $trace" >&2; exit 2; }
trace=$(realpath "$trace")
root=$(cd "$(dirname "$0")/.." && pwd)
peers=${PEERS_DIR:-/tmp/flowscope-peers}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$peers"

if [ "$install" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    command -v tshark >/dev/null || missing+=(tshark)
    command -v ndpiReader >/dev/null || missing+=(libndpi-bin)
    [ ${#missing[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
    if ! command -v suricata >/dev/null; then
        suite=$(bash "$root/scripts/apt-backports.sh")
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q -t "$suite" suricata >/dev/null
    fi
fi

# --- the flowscope crate runners (built once, outside the workspace, and reused) ---
# put FILE: writes stdin to FILE unless FILE already holds it; a change drops the built runner
# in $dir, so that a run with the same runner source reuses the build and a changed one rebuilds.
put() {
    cat > "$1.new"
    if cmp -s "$1.new" "$1"; then
        rm "$1.new"
    else
        mv "$1.new" "$1"
        rm -f "$dir/target/release/runner"
    fi
}
build_runner() { # DIR VERSION FEATURES MAIN_RS
    local dir=$peers/$1
    mkdir -p "$dir/src"
    put "$dir/Cargo.toml" <<EOF
[package]
name = "runner"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
flowscope = { version = "=$2", $3 }

[profile.release]
codegen-units = 4
lto = "thin"

[workspace]
EOF
    printf '%s\n' "$4" | put "$dir/src/main.rs"
    if command -v cargo >/dev/null; then
        # --ignore-rust-version: 0.26.0 declares rust-version 1.97 but builds with older rustc.
        cargo build --release --quiet --ignore-rust-version --manifest-path "$dir/Cargo.toml" 2>&1 | tail -5 >&2 || true
    fi
    [ -x "$dir/target/release/runner" ]
}

fs03_main='
use flowscope::extract::FiveTuple;
use flowscope::{FlowEvent, FlowTracker, PacketView, Timestamp};
// flowscope 0.3.0 FlowTracker over a classic little-endian microsecond pcap, sweeping its
// timers every 4096 packets; prints the flows it reported.
fn main() {
    let path = std::env::args().nth(1).expect("pcap path");
    let data = std::fs::read(&path).expect("read trace");
    assert_eq!(&data[..4], &0xa1b2c3d4u32.to_le_bytes(), "classic little-endian microsecond pcap expected");
    let mut tracker: FlowTracker<FiveTuple> = FlowTracker::new(FiveTuple::bidirectional());
    let (mut off, mut n, mut ended) = (24usize, 0usize, 0usize);
    while off + 16 <= data.len() {
        let word = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap());
        let (sec, usec, cap) = (word(off), word(off + 4), word(off + 8) as usize);
        let Some(frame) = data.get(off + 16..off + 16 + cap) else { break };
        let last = Timestamp::new(sec, usec * 1000);
        let is_end = |e: &FlowEvent<_>| matches!(e, FlowEvent::Ended { .. });
        ended += tracker.track(PacketView::new(frame, last)).iter().filter(|e| is_end(e)).count();
        n += 1;
        if n % 4096 == 0 {
            ended += tracker.sweep(last).iter().filter(|e| is_end(e)).count();
        }
        off += 16 + cap;
    }
    ended += tracker
        .sweep(Timestamp::new(u32::MAX, 0))
        .iter()
        .filter(|e| matches!(e, FlowEvent::Ended { .. }))
        .count();
    println!("packets {n} flows {ended}");
}'

fs26_main='
use flowscope::dns::{DnsMessage, DnsTcpParser, DnsUdpParser};
use flowscope::driver::{Driver, Event, SlotMessage};
use flowscope::extract::{FiveTuple, FiveTupleKey};
use flowscope::http::{HttpMessage, HttpParser};
use flowscope::pcap::PcapFlowSource;
use flowscope::tls::{TlsMessage, TlsParser};
// flowscope 0.26.0: its typed Driver over the trace, flows only or with its HTTP (80, 8080),
// DNS (UDP and TCP 53) and TLS (443) parsers; prints what it reported.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).expect("pcap path");
    let parsers = std::env::args().nth(2).as_deref() == Some("parsers");
    let mut b = Driver::builder(FiveTuple::bidirectional());
    let mut http = parsers.then(|| b.session_on_ports(HttpParser::default(), [80, 8080]));
    let mut tls = parsers.then(|| b.session_on_ports(TlsParser::default(), [443]));
    let mut dns_tcp = parsers.then(|| b.session_on_ports(DnsTcpParser::default(), [53]));
    let mut dns_udp = parsers.then(|| b.datagram_on_ports(DnsUdpParser::default(), [53]));
    let mut driver = b.build();
    let mut events: Vec<Event<FiveTupleKey>> = Vec::new();
    let (mut packets, mut flows, mut reqs, mut queries, mut hellos) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut hm: Vec<SlotMessage<HttpMessage, FiveTupleKey>> = Vec::new();
    let mut tm: Vec<SlotMessage<TlsMessage, FiveTupleKey>> = Vec::new();
    let mut dm: Vec<SlotMessage<DnsMessage, FiveTupleKey>> = Vec::new();
    let mut drain = |events: &mut Vec<Event<FiveTupleKey>>, hm: &mut Vec<_>, tm: &mut Vec<_>, dm: &mut Vec<_>| {
        flows += events.iter().filter(|e| matches!(e, Event::Ended { .. })).count() as u64;
        events.clear();
        if let Some(s) = http.as_mut() { hm.clear(); s.drain(hm);
            reqs += hm.iter().filter(|m: &&SlotMessage<HttpMessage, FiveTupleKey>| matches!(m.message, HttpMessage::Request(_))).count() as u64; }
        if let Some(s) = tls.as_mut() { tm.clear(); s.drain(tm);
            hellos += tm.iter().filter(|m: &&SlotMessage<TlsMessage, FiveTupleKey>| matches!(m.message, TlsMessage::ClientHello(_))).count() as u64; }
        for s in [dns_tcp.as_mut(), dns_udp.as_mut()].into_iter().flatten() { dm.clear(); s.drain(dm);
            queries += dm.iter().filter(|m: &&SlotMessage<DnsMessage, FiveTupleKey>| matches!(m.message, DnsMessage::Query(_))).count() as u64; }
    };
    for view in PcapFlowSource::open(&path)?.views() {
        let Ok(view) = view else { continue };
        packets += 1;
        driver.track_into(&view, &mut events);
        drain(&mut events, &mut hm, &mut tm, &mut dm);
    }
    driver.finish_into(&mut events);
    drain(&mut events, &mut hm, &mut tm, &mut dm);
    println!("packets {packets} flows {flows} http {reqs} dns {queries} tls {hellos}");
    Ok(())
}'


have03=0; have26=0
build_runner fs03 0.3.0 'default-features = true' "$fs03_main" && have03=1 ||
    echo "flowscope 0.3.0 runner did not build (package registry unreachable?)" >&2
for v in 0.26.0 "${FLOWSCOPE_FALLBACK:-0.22.0}"; do
    # One directory per version: a later run reuses the build.
    if build_runner "fs-$v" "$v" 'features = ["pcap", "http", "dns", "tls"]' "$fs26_main"; then
        have26=1; latest=$v; break
    fi
    echo "flowscope $v runner did not build (toolchain too old, or the package registry unreachable)" >&2
done
if [ -n "${FLOWSCOPE_BIN:-}" ]; then
    flowscope=$(realpath "$FLOWSCOPE_BIN")
    [ -x "$flowscope" ] || { echo "FLOWSCOPE_BIN=$FLOWSCOPE_BIN is not an executable" >&2; exit 2; }
else
    cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin flowscope
    flowscope=$root/target/release/flowscope
fi
packets=$(capinfos -Mc "$trace" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}' || true)
[ -n "$packets" ] || packets=$("$flowscope" replay --shards 0 --no-parsers "$trace" -o /dev/null 2>&1 | awk '/packets,/ {print $2; exit}')

# --- every command, prepared before any runs ---
# Tool i: label, thread budget, reference row for the ratio (the key of a flowscope row), how
# its counts are read, a key (for the targets), whether it runs in the rounds (tshark: once,
# after), and the command line (quoted for eval). Each run gets an empty directory $work/tI
# for its output, stdout and stderr, so the last run's output stays there for the counts.
labels=(); ths=(); bases=(); counters=(); keys=(); inround=(); cmds=()
tool() { # LABEL THREADS BASE COUNTER KEY INROUND COMMAND...
    labels+=("$1"); ths+=("$2"); bases+=("$3"); counters+=("$4"); keys+=("$5"); inround+=("$6")
    shift 6
    cmds+=("$(printf '%q ' "$@")")
}
out() { echo "$work/t${#cmds[@]}"; } # the output directory of the tool about to be added
for spec in "full pipeline, inline|1|fs1|--shards 0" \
            "full pipeline, 1 shard|2|fs1|--shards 1" \
            "full pipeline, $threads shards|$((threads + 1))|fsN|--shards $threads" \
            "flow tracking only, inline|1|track|--no-parsers --shards 0" \
            "flow tracking only, 1 shard|2|track|--no-parsers --shards 1"; do
    IFS='|' read -r label th base args <<< "$spec"
    key=${args//[- ]/}
    # shellcheck disable=SC2086
    tool "flowscope ($label)" "$th" "$base" eve "fs:$key" 1 "$flowscope" replay -q $args "$trace" -o "$(out)/eve.json"
done
if command -v suricata >/dev/null; then
    suri_v=$(suricata -V | grep -o '[0-9][0-9.]*' | head -1)
    tool "Suricata $suri_v single" 1 fs:shards0 eve suri1 1 \
        suricata -r "$trace" -k none -S /dev/null -l "$(out)" --runmode single
    tool "Suricata autofp" "$threads+" fs:shards$threads eve suriN 1 \
        suricata -r "$trace" -k none -S /dev/null -l "$(out)" --runmode autofp --set threading.set-cpu-affinity=no
fi
if command -v tshark >/dev/null; then
    tool "tshark $(tshark -v 2>/dev/null | awk 'NR==1 {print $3}')" 1 fs:shards0 tshark tshark 0 \
        tshark -n -r "$trace" -T fields -e tcp.stream -e udp.stream -e http.request -e dns.flags.response -e tls.handshake.type
fi
if command -v ndpiReader >/dev/null; then
    tool "ndpiReader $(ndpiReader -h 2>&1 | awk '/nDPI/ {print $NF; exit}')" 1 fs:shards0 ndpi ndpi 1 \
        ndpiReader -i "$trace" -n 1
fi
if [ "$have03" = 1 ]; then
    tool "flowscope crate 0.3.0 (flows)" 1 fs:noparsersshards0 fs03 fs03 1 "$peers/fs03/target/release/runner" "$trace"
fi
if [ "$have26" = 1 ]; then
    tool "flowscope crate $latest (flows)" 1 fs:noparsersshards0 fs26flows fs26flows 1 "$peers/fs-$latest/target/release/runner" "$trace" flows
    tool "flowscope crate $latest (parsers)" 1 fs:shards0 fs26 fs26parsers 1 "$peers/fs-$latest/target/release/runner" "$trace" parsers
fi
# The flowscope rows' references: the inline row of the same kind, N shards for N shards.
for i in "${!bases[@]}"; do
    case ${bases[i]} in
        fs1) bases[i]=fs:shards0 ;;
        fsN) bases[i]=fs:shards$threads ;;
        track) bases[i]=fs:noparsersshards0 ;;
    esac
done

# run I: one timed run of tool I; appends "wall_s peak_kb" to $work/tI.times
failed=()
run() {
    local d=$work/t$1
    rm -rf "$d"; mkdir "$d"
    if ! eval "/usr/bin/time -f '%e %M' -o \"\$d/time\" ${cmds[$1]}" > "$d/stdout" 2> "$d/stderr"; then
        echo "failed: ${cmds[$1]}" >&2; tail -3 "$d/stderr" >&2
        failed[$1]=1
        return 0
    fi
    tail -1 "$d/time" >> "$d.times"
}

# --- the rounds: every tool once per round, in the same order ---
rounds=${RUNS:-3}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$rounds"); do
    echo "round $r/$rounds" >&2
    for i in "${!cmds[@]}"; do
        if [ "${inround[i]}" = 1 ] && [ -z "${failed[i]:-}" ]; then run "$i"; fi
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
for i in "${!cmds[@]}"; do
    if [ "${inround[i]}" = 0 ]; then echo "${labels[i]}: one run" >&2; run "$i"; fi
done

eve_counts() { # FILE -> flows http dns(queries) tls
    python3 - "$1" <<'PY'
import json, sys
c = {"flow": 0, "http": 0, "dns": 0, "tls": 0}
for line in open(sys.argv[1], errors="replace"):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    t = r.get("event_type")
    if t == "dns":
        if r.get("dns", {}).get("type") == "query":
            c["dns"] += 1
    elif t in c:
        c[t] += 1
print(c["flow"], c["http"], c["dns"], c["tls"])
PY
}
counts() { # COUNTER DIR -> flows http dns tls, from the last run's output in DIR
    case $1 in
        eve) eve_counts "$2/eve.json" ;;
        tshark) awk -F'\t' '
            $1 != "" { tcp[$1] = 1 } $2 != "" { udp[$2] = 1 } $3 == "1" { h++ }
            $4 ~ /(^|,)(0|False)(,|$)/ { d++ } $5 ~ /(^|,)1(,|$)/ { t++ }
            END { n = 0; for (k in tcp) n++; for (k in udp) n++; print n, h + 0, d + 0, t + 0 }' "$2/stdout" ;;
        ndpi) awk '
            /Unique flows:/ { n = $3 }
            $1 == "HTTP" { for (i = 2; i <= NF; i++) if ($i == "flows:") h = $(i + 1) }
            $1 == "DNS" { for (i = 2; i <= NF; i++) if ($i == "flows:") d = $(i + 1) }
            $1 == "TLS" { for (i = 2; i <= NF; i++) if ($i == "flows:") t = $(i + 1) }
            END { print n + 0, h + 0 "f", d + 0 "f", t + 0 "f" }' "$2/stdout" ;;
        fs03) awk '{print $4, "-", "-", "-"}' "$2/stdout" ;;
        fs26flows) awk '{print $4, "-", "-", "-"}' "$2/stdout" ;;
        fs26) awk '{print $4, $6, $8, $10}' "$2/stdout" ;;
    esac
}

# Per tool: median and min wall, and the peak RSS, over its runs.
declare -A med=() times=()
rows=()
for i in "${!cmds[@]}"; do
    [ -z "${failed[i]:-}" ] && [ -s "$work/t$i.times" ] || continue
    read -r m mn kb < <(sort -n -k1,1 "$work/t$i.times" | awk '
        { w[NR] = $1; if ($2 > kb) kb = $2 }
        END { print (NR % 2 ? w[(NR + 1) / 2] : (w[NR / 2] + w[NR / 2 + 1]) / 2), w[1], kb }')
    med[${keys[i]}]=$m
    times[${keys[i]}]=$work/t$i.times
    read -r f h d t < <(counts "${counters[i]}" "$work/t$i")
    rows+=("$i|$m|$mn|$kb|$f|$h|$d|$t")
done

echo "trace: $trace ($packets packets); $(nproc) cores: $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ //')"
echo "flowscope: $flowscope"
echo "$rounds interleaved rounds (tshark: one run after them); wall s = median over the rounds (min), RSS = peak over them"
echo "load average (1, 5, 15 min): before the rounds $load_before; after $load_after"
printf '%-40s %7s %8s %8s %7s %11s %9s %9s %9s %9s %8s\n' tool threads "wall s" "min s" Mpps "flowscope×" "RSS MB" flows HTTP DNS TLS
for r in "${rows[@]}"; do
    IFS='|' read -r i m mn kb f h d t <<< "$r"
    awk -v tool="${labels[i]}" -v th="${ths[i]}" -v w="$m" -v mn="$mn" -v kb="$kb" -v f="$f" -v h="$h" -v d="$d" -v t="$t" \
        -v p="$packets" -v b="${med[${bases[i]}]:-}" 'BEGIN {
        ratio = (b > 0) ? sprintf("%10.2fx", w / b) : sprintf("%11s", "-")
        printf "%-40s %7s %8.3f %8.3f %7.3f %s %9.1f %9s %9s %9s %8s\n", tool, th, w, mn, p / w / 1e6, ratio, kb / 1024, f, h, d, t }'
done

# The targets: how many times faster flowscope is, from the medians above; then paired by
# round (each round's peer wall over flowscope's wall in the same round, line r of each
# times file being round r): the median of those ratios and their range, which a machine
# whose speed drifts between rounds moves less than the ratio of the medians.
target() { # LABEL PEER_KEY FLOWSCOPE_KEY TARGET
    local paired="n/a"
    if [ -n "${times[$2]:-}" ] && [ -n "${times[$3]:-}" ]; then
        paired=$(paste -d' ' "${times[$2]}" "${times[$3]}" | awk '$3 > 0 { print $1 / $3 }' | sort -g | awk '
            { r[NR] = $1 }
            END { if (NR == 0) { print "n/a"; exit }
                  m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
                  printf "%.2fx (%.2f-%.2f over %d rounds)", m, r[1], r[NR], NR }')
    fi
    awk -v l="$1" -v p="${med[$2]:-}" -v f="${med[$3]:-}" -v t="$4" -v q="$paired" 'BEGIN {
        r = (p > 0 && f > 0) ? sprintf("%6.2fx", p / f) : sprintf("%7s", "n/a")
        printf "  %-72s %s  paired %s  (target ≥ %s×)\n", l, r, q, t }'
}
echo "targets (peer median wall / flowscope median wall; paired: median of the rounds' own ratios):"
target "full pipeline --shards 1 vs flowscope crate ${latest:-0.26.0} (parsers)" fs26parsers fs:shards1 4
target "full pipeline --shards 1 vs Suricata ${suri_v:-} single" suri1 fs:shards1 8
target "flow tracking --no-parsers --shards 0 vs flowscope crate 0.3.0 tracker" fs03 fs:noparsersshards0 2
