#!/usr/bin/env bash
# Runs flowscope and its peers on the same trace, one after another in the same run, and prints
# one table: tool, threads, wall s, Mpps, how many times flowscope (same thread budget) is
# faster, peak RSS, and the flow / HTTP / DNS / TLS counts each tool reports.
#
#   scripts/compare-peers.sh TRACE.pcap [--no-install] [--threads N]
#
# Peers: Suricata 7 (`--runmode single -k none -S /dev/null`, and autofp with N workers),
# tshark (one pass printing the fields the counts need), ndpiReader (one thread), and the
# `flowscope` crate from the Rust package registry — 0.3.0 (its FlowTracker: flows only) and the latest (its
# typed Driver: flows only, and with its HTTP, DNS and TLS parsers) — each built by a small
# runner in its own directory outside this workspace (${PEERS_DIR:-/tmp/flowscope-peers}).
# "Latest" is 0.26.0 where the toolchain builds it (it needs rustc 1.97); otherwise the newest
# release this toolchain builds, ${FLOWSCOPE_FALLBACK:-0.22.0} (same Driver API), and the
# table says which.
# flowscope itself: `flowscope replay` full pipeline inline on one thread (`--shards 0`), with
# 1 and N shards, and flow tracking only (`--no-parsers --shards 0`).
#
# Installs what is missing (as root, Debian): tshark, libndpi-bin, suricata from
# the release's backports suite (scripts/apt-backports.sh); the crates need the Rust package registry once.
# Wall times are whole processes (start-up and reading the file included), best of $RUNS
# (default 3) runs; tshark runs once.
# Counts: flows = flow records (Suricata, flowscope), TCP+UDP streams (tshark), flows
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

# --- the flowscope crate runners (built once, outside the workspace) ---
build_runner() { # DIR VERSION FEATURES MAIN_RS
    local dir=$peers/$1
    mkdir -p "$dir/src"
    cat > "$dir/Cargo.toml" <<EOF
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
    printf '%s\n' "$4" > "$dir/src/main.rs"
    cargo build --release --quiet --manifest-path "$dir/Cargo.toml" 2>&1 | tail -5 >&2 || true
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
if command -v cargo >/dev/null; then
    build_runner fs03 0.3.0 'default-features = true' "$fs03_main" && have03=1 || echo "flowscope 0.3.0 runner did not build (package registry unreachable?)" >&2
    for v in 0.26.0 "${FLOWSCOPE_FALLBACK:-0.22.0}"; do
        # One directory per version: a later run reuses the build.
        if build_runner "fs-$v" "$v" 'features = ["pcap", "http", "dns", "tls"]' "$fs26_main"; then
            have26=1; latest=$v; break
        fi
        echo "flowscope $v runner did not build (toolchain too old, or the package registry unreachable)" >&2
    done
fi
cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin flowscope
flowscope=$root/target/release/flowscope
packets=$(capinfos -Mc "$trace" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}' || true)
[ -n "$packets" ] || packets=$("$flowscope" replay --shards 0 --no-parsers "$trace" -o /dev/null 2>&1 | awk '/packets,/ {print $2; exit}')

# best of $RUNS (default 3): prints "wall_s peak_kb"; the last run's output stays in $work/out
timed() {
    local best="" kb=0
    for _ in $(seq "${RUNS:-3}"); do
        /usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/out" 2> "$work/err" || { echo "failed: $*" >&2; tail -3 "$work/err" >&2; return 1; }
        read -r w k < "$work/time"
        if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$w; kb=$k; fi
    done
    echo "$best $kb"
}
rows=()
row() { # TOOL THREADS WALL KB FLOWS HTTP DNS TLS
    rows+=("$1|$2|$3|$4|$5|$6|$7|$8")
}
eve_counts() { # FILE -> flows http dns(queries) tls
    python3 - "$1" <<'EOF'
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
EOF
}

# flowscope
for spec in "full pipeline, inline|1|--shards 0" "full pipeline, 1 shard|2|--shards 1" "full pipeline, $threads shards|$((threads + 1))|--shards $threads" "flow tracking only|1|--shards 0 --no-parsers"; do
    IFS='|' read -r label th args <<< "$spec"
    # shellcheck disable=SC2086
    read -r w kb < <(timed "$flowscope" replay -q $args "$trace" -o "$work/fs.eve")
    read -r f h d t < <(eve_counts "$work/fs.eve")
    row "flowscope ($label)" "$th" "$w" "$kb" "$f" "$h" "$d" "$t"
done

if command -v suricata >/dev/null; then
    mkdir -p "$work/suri"
    # Suricata appends to eve.json: each timed run starts from an empty log directory.
    suri="rm -f $work/suri/*; exec suricata -r $trace -k none -S /dev/null -l $work/suri"
    read -r w kb < <(timed bash -c "$suri --runmode single")
    read -r f h d t < <(eve_counts "$work/suri/eve.json")
    row "Suricata $(suricata -V | grep -o '[0-9][0-9.]*' | head -1) single" 1 "$w" "$kb" "$f" "$h" "$d" "$t"
    read -r w kb < <(timed bash -c "$suri --runmode autofp --set threading.set-cpu-affinity=no")
    read -r f h d t < <(eve_counts "$work/suri/eve.json")
    row "Suricata autofp" "$threads+" "$w" "$kb" "$f" "$h" "$d" "$t"
fi

if command -v tshark >/dev/null; then
    # One run: tshark is tens of times slower than the rest.
    read -r w kb < <(RUNS=1 timed tshark -n -r "$trace" -T fields -e tcp.stream -e udp.stream -e http.request -e dns.flags.response -e tls.handshake.type)
    read -r f h d t < <(awk -F'\t' '
        $1 != "" { tcp[$1] = 1 } $2 != "" { udp[$2] = 1 } $3 == "1" { h++ }
        $4 ~ /(^|,)(0|False)(,|$)/ { d++ } $5 ~ /(^|,)1(,|$)/ { t++ }
        END { n = 0; for (k in tcp) n++; for (k in udp) n++; print n, h + 0, d + 0, t + 0 }' "$work/out")
    row "tshark $(tshark -v | awk 'NR==1 {print $3}')" 1 "$w" "$kb" "$f" "$h" "$d" "$t"
fi

if command -v ndpiReader >/dev/null; then
    read -r w kb < <(timed ndpiReader -i "$trace" -n 1)
    read -r f h d t < <(awk '
        /Unique flows:/ { n = $3 }
        $1 == "HTTP" { for (i = 2; i <= NF; i++) if ($i == "flows:") h = $(i + 1) }
        $1 == "DNS" { for (i = 2; i <= NF; i++) if ($i == "flows:") d = $(i + 1) }
        $1 == "TLS" { for (i = 2; i <= NF; i++) if ($i == "flows:") t = $(i + 1) }
        END { print n + 0, h + 0 "f", d + 0 "f", t + 0 "f" }' "$work/out")
    row "ndpiReader $(ndpiReader -h 2>&1 | awk '/nDPI/ {print $NF; exit}')" 1 "$w" "$kb" "$f" "$h" "$d" "$t"
fi

if [ "$have03" = 1 ]; then
    if read -r w kb < <(timed "$peers/fs03/target/release/runner" "$trace"); then
        f=$(awk '{print $4}' "$work/out")
        row "flowscope crate 0.3.0 (flows)" 1 "$w" "$kb" "$f" - - -
    fi
fi
if [ "$have26" = 1 ]; then
    for mode in flows parsers; do
        if read -r w kb < <(timed "$peers/fs-$latest/target/release/runner" "$trace" "$mode"); then
            read -r _ _ _ f _ h _ d _ t < "$work/out"
            if [ "$mode" = flows ]; then h=-; d=-; t=-; fi
            row "flowscope crate $latest ($mode)" 1 "$w" "$kb" "$f" "$h" "$d" "$t"
        fi
    done
fi

# flowscope's time for the same thread budget: inline for one thread, N shards for more;
# flow tracking only against the crates' flows-only modes.
fs_full1=$(printf '%s\n' "${rows[@]}" | awk -F'|' '$1 ~ /inline/ {print $3}')
fs_track=$(printf '%s\n' "${rows[@]}" | awk -F'|' '$1 ~ /flow tracking only/ {print $3}')
fs_many=$(printf '%s\n' "${rows[@]}" | awk -F'|' -v t="$threads" '$1 ~ t" shards" {print $3}')
echo "trace: $trace ($packets packets); $(nproc) cores: $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ //')"
printf '%-36s %7s %8s %7s %11s %9s %9s %11s %11s %8s\n' tool threads "wall s" Mpps "flowscope×" "RSS MB" flows HTTP DNS TLS
for r in "${rows[@]}"; do
    IFS='|' read -r tool th w kb f h d t <<< "$r"
    base=$fs_full1
    case $tool in
        *"flows)"*|*"tracking only"*) base=$fs_track ;;
        *autofp*|*"$threads shards"*) base=$fs_many ;;
    esac
    awk -v tool="$tool" -v th="$th" -v w="$w" -v kb="$kb" -v f="$f" -v h="$h" -v d="$d" -v t="$t" -v p="$packets" -v b="$base" 'BEGIN {
        printf "%-36s %7s %8.3f %7.3f %10.2fx %9.1f %9s %9s %11s %8s\n", tool, th, w, p / w / 1e6, w / b, kb / 1024, f, h, d, t }'
done
