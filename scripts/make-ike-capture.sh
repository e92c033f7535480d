#!/usr/bin/env bash
# Makes io/cli/tests/captures/ike-strongswan.pcap: real IKEv1 and IKEv2 between
# strongSwan's charon (a responder with pre-shared keys, configured with
# swanctl) and ike-scan, in two network namespaces joined by a veth pair,
# captured with tcpdump on the server's side. Exercises Main Mode offers
# charon takes (it answers with the transform it chose and its vendor
# IDs) and one it refuses (NO-PROPOSAL-CHOSEN), and an Aggressive Mode
# offer (key exchange, nonce, identity) it answers with a notification,
# and an IKEv2 IKE_SA_INIT (ike-scan's default offer) it answers with its
# SA, key exchange, nonce and notifications.
# Needs root, iproute2, tcpdump, strongswan-charon, strongswan-swanctl and
# ike-scan.
#
# Usage: scripts/make-ike-capture.sh [OUT.pcap]
set -euo pipefail

OUT=${1:-$(dirname "$0")/../io/cli/tests/captures/ike-strongswan.pcap}
OUT=$(realpath -m "$OUT")
NS_S=fsike-server
NS_C=fsike-client
S_IP=10.83.0.1
C_IP=10.83.0.2
WORK=$(mktemp -d)
DUMP_PID=

. "$(dirname "$0")/lib/netns-pair.sh"

trap netns_capture_cleanup EXIT

need_tools ip tcpdump swanctl ike-scan /usr/lib/ipsec/charon

netns_pair "$NS_S" "$NS_C" fsike-s fsike-c "$S_IP" "$C_IP"

cat >"$WORK/strongswan.conf" <<CONF
charon {
  install_routes = no
  # No cookie challenge: every probe gets the responder's answer.
  dos_protection = no
  plugins {
    include /etc/strongswan.d/charon/*.conf
    vici { socket = unix://$WORK/charon.vici }
  }
  filelog { log { path = $WORK/charon.log
    default = 1 } }
}
swanctl { socket = unix://$WORK/charon.vici }
CONF
cat >"$WORK/swanctl.conf" <<CONF
connections {
  psk1 {
    version = 1
    local_addrs = $S_IP
    remote_addrs = %any
    aggressive = yes
    proposals = aes256-sha1-modp2048, aes128-sha256-modp2048, 3des-sha1-modp1024
    local { auth = psk
      id = server.flowscope.test }
    remote { auth = psk }
    children { c { esp_proposals = aes128-sha1 } }
  }
  psk2 {
    version = 2
    local_addrs = $S_IP
    remote_addrs = %any
    proposals = aes256-sha256-modp2048, aes128-sha1-modp1024, 3des-sha1-modp1024
    local { auth = psk
      id = server.flowscope.test }
    remote { auth = psk }
    children { c { esp_proposals = aes128-sha1 } }
  }
}
secrets { ike-1 { secret = flowscope-test-psk } }
CONF

ip netns exec "$NS_S" tcpdump -i fsike-s -U -w "$OUT" 'udp port 500 or udp port 4500' >/dev/null 2>&1 &
DUMP_PID=$!
sleep 1
STRONGSWAN_CONF="$WORK/strongswan.conf" ip netns exec "$NS_S" /usr/lib/ipsec/charon &
sleep 3
STRONGSWAN_CONF="$WORK/strongswan.conf" swanctl --load-all --file "$WORK/swanctl.conf" >/dev/null 2>&1

C=(ip netns exec "$NS_C" ike-scan --retry=1 --timeout=1000)
# Main Mode: AES-256/SHA-1/PSK/group 14, taken; AES-128/SHA-256 and
# 3DES/SHA-1 offered together, the first taken; ike-scan's eight default
# offers (DES and 3DES, MD5 and SHA-1, groups 1 and 2), 3DES/SHA-1/group 2
# taken; DES/MD5/group 1 alone, refused (NO-PROPOSAL-CHOSEN).
"${C[@]}" --trans=7/256,2,1,14 "$S_IP"
"${C[@]}" --trans=7/128,4,1,14 --trans=5,2,1,2 "$S_IP"
"${C[@]}" "$S_IP"
"${C[@]}" --trans=1,1,1,1 "$S_IP"
# Aggressive Mode with an identity charon has no configuration for: its
# key exchange, nonce and identity, answered AUTHENTICATION-FAILED.
"${C[@]}" --aggressive --id=client.flowscope.test --trans=7/256,2,1,14 --dhgroup=14 "$S_IP"
# IKEv2: ike-scan's default IKE_SA_INIT offer; charon takes
# AES-128/HMAC-SHA1/group 2 from it.
"${C[@]}" --ikev2 "$S_IP"
sleep 1
kill "$DUMP_PID"
wait "$DUMP_PID" 2>/dev/null || true
DUMP_PID=
echo "wrote $OUT"
