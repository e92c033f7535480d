#!/usr/bin/env bash
# Makes io/cli/tests/captures/mqtt-mosquitto.pcap: real MQTT traffic between
# Debian's mosquitto broker and the mosquitto_pub/mosquitto_sub clients, in
# two network namespaces joined by a veth pair, captured with tcpdump on
# the broker's side. Exercises MQTT 3.1 (MQIsdp), 3.1.1 and 5: QoS 0, 1
# and 2 both ways, retain, subscribe and unsubscribe, a username (and a
# password, which EVE leaves out by default), a will (with v5 will
# properties), v5 properties on CONNECT/PUBLISH/SUBSCRIBE, keepalive pings
# and disconnects. Needs root, iproute2, tcpdump and mosquitto-clients.
#
# Usage: scripts/make-mqtt-capture.sh [OUT.pcap]
set -euo pipefail

OUT=${1:-$(dirname "$0")/../io/cli/tests/captures/mqtt-mosquitto.pcap}
NS_B=fsmqtt-broker
NS_C=fsmqtt-client
B_IP=10.77.0.1
C_IP=10.77.0.2
WORK=$(mktemp -d)
BROKER_PID=
DUMP_PID=

. "$(dirname "$0")/lib/netns-pair.sh"

cleanup() {
    [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null || true
    [ -n "$DUMP_PID" ] && kill "$DUMP_PID" 2>/dev/null || true
    netns_pair_del "$NS_B" "$NS_C"
    rm -rf "$WORK"
}
trap cleanup EXIT

for tool in ip tcpdump mosquitto mosquitto_pub mosquitto_sub; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

netns_pair "$NS_B" "$NS_C" fsmqtt-b fsmqtt-c "$B_IP" "$C_IP"

cat >"$WORK/mosquitto.conf" <<EOF
listener 1883 $B_IP
allow_anonymous true
persistence false
log_dest none
EOF

ip netns exec "$NS_B" tcpdump -i fsmqtt-b -s 0 -U -w "$WORK/out.pcap" tcp port 1883 \
    2>/dev/null &
DUMP_PID=$!
ip netns exec "$NS_B" mosquitto -c "$WORK/mosquitto.conf" &
BROKER_PID=$!
sleep 1.5

c() { ip netns exec "$NS_C" "$@"; }
H=(-h "$B_IP" -p 1883)

# A v3.1.1 subscriber (QoS 2, username, a will, a 5 s keepalive (the clients' least) so it
# pings) that receives what the publishers below send.
c mosquitto_sub "${H[@]}" -V mqttv311 -i sub311 -u alice -P secret -k 5 -q 2 \
    -t 'sensors/#' -t 'retained/#' --will-topic clients/sub311 \
    --will-payload gone --will-qos 1 --will-retain -W 12 -v >/dev/null &
SUB1=$!
# A v5 subscriber with subscription and connect properties.
c mosquitto_sub "${H[@]}" -V mqttv5 -i sub5 -q 1 -t 'sensors/temp' \
    -D connect session-expiry-interval 30 -D connect receive-maximum 20 \
    -D connect user-property agent flowscope \
    -D subscribe user-property purpose test -W 8 -v >/dev/null &
SUB2=$!
sleep 1

# Publishers: QoS 0, 1 and 2, retain, v3.1 and 3.1.1 and 5.
c mosquitto_pub "${H[@]}" -V mqttv311 -i pub0 -q 0 -t sensors/temp -m 21.5
sleep 0.3
c mosquitto_pub "${H[@]}" -V mqttv311 -i pub1 -q 1 -t sensors/humidity -m 40
sleep 0.3
c mosquitto_pub "${H[@]}" -V mqttv311 -i pub2 -q 2 -u bob -t sensors/pressure -m 1013
sleep 0.3
c mosquitto_pub "${H[@]}" -V mqttv31 -i pub31 -q 1 -t sensors/legacy -m old
sleep 0.3
c mosquitto_pub "${H[@]}" -V mqttv311 -i pubr -q 1 -r -t retained/state -m on
sleep 0.3
c mosquitto_pub "${H[@]}" -V mqttv5 -i pub5 -q 2 -t sensors/temp -m 22.0 \
    -D publish content-type text/plain -D publish message-expiry-interval 60 \
    -D publish user-property unit celsius -D publish response-topic replies/pub5 \
    -D connect session-expiry-interval 10 \
    --will-topic clients/pub5 --will-payload bye -D will will-delay-interval 5 \
    -D will content-type text/plain
sleep 0.3
c mosquitto_pub "${H[@]}" -V mqttv5 -i pub5q1 -q 1 -t sensors/temp -m 22.5
sleep 0.3
# A v5 client that subscribes and unsubscribes at once (-U), then pings.
c mosquitto_sub "${H[@]}" -V mqttv5 -i unsub5 -k 5 -t 'misc/#' -U 'misc/#' -W 7 \
    >/dev/null || true
# A v3.1.1 unsubscribe too.
c mosquitto_sub "${H[@]}" -V mqttv311 -i unsub311 -t 'misc/a' -t 'misc/b' \
    -U 'misc/a' -U 'misc/b' -W 1 >/dev/null || true

wait "$SUB1" "$SUB2" 2>/dev/null || true
sleep 1
kill "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null || true
BROKER_PID=
sleep 0.5
capture_save "$DUMP_PID" "$WORK/out.pcap" "$OUT"
DUMP_PID=
