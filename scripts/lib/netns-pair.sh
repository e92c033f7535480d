# Sourced by the scripts that make real-traffic test captures: two network
# namespaces joined by a veth pair, the server's and the client's, with
# offloads off so a capture holds the segments as they were sent.
#
#   netns_pair SERVER_NS CLIENT_NS SERVER_IF CLIENT_IF SERVER_IP CLIENT_IP
#   netns_pair_del SERVER_NS CLIENT_NS
# (addresses in a /24; leftovers of an interrupted run are removed first).

netns_pair_del() {
    ip netns del "$1" 2>/dev/null || true
    ip netns del "$2" 2>/dev/null || true
}

netns_pair() {
    local ns_s=$1 ns_c=$2 if_s=$3 if_c=$4 ip_s=$5 ip_c=$6
    netns_pair_del "$ns_s" "$ns_c"
    ip netns add "$ns_s"
    ip netns add "$ns_c"
    ip link add "$if_s" type veth peer name "$if_c"
    ip link set "$if_s" netns "$ns_s"
    ip link set "$if_c" netns "$ns_c"
    ip -n "$ns_s" addr add "$ip_s/24" dev "$if_s"
    ip -n "$ns_c" addr add "$ip_c/24" dev "$if_c"
    ip -n "$ns_s" link set lo up
    ip -n "$ns_c" link set lo up
    ip -n "$ns_s" link set "$if_s" up
    ip -n "$ns_c" link set "$if_c" up
    ip netns exec "$ns_s" ethtool -K "$if_s" tso off gso off gro off 2>/dev/null || true
    ip netns exec "$ns_c" ethtool -K "$if_c" tso off gso off gro off 2>/dev/null || true
}

#   capture_save DUMP_PID FROM.pcap OUT.pcap
# Stops the tcpdump writing FROM, then copies FROM to OUT.
capture_save() {
    kill "$1"
    wait "$1" 2>/dev/null || true
    mkdir -p "$(dirname "$3")"
    cp "$2" "$3"
    echo "wrote $3 ($(stat -c %s "$3") bytes)"
}

#   netns_capture_cleanup
# What a capture script's EXIT trap undoes: the processes left in $NS_S,
# the tcpdump $DUMP_PID (when still set), both namespaces, $WORK.
netns_capture_cleanup() {
    ip netns pids "$NS_S" 2>/dev/null | xargs -r kill 2>/dev/null || true
    [ -n "${DUMP_PID:-}" ] && kill "$DUMP_PID" 2>/dev/null || true
    netns_pair_del "$NS_S" "$NS_C"
    rm -rf "$WORK"
}

#   need_tools TOOL...
# Stops the script, naming the first TOOL that is not installed.
need_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
    done
}
