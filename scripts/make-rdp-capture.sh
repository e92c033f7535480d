#!/usr/bin/env bash
# Makes io/cli/tests/captures/rdp-xrdp.pcap: real RDP traffic between
# Debian's xrdp server and the FreeRDP client (xfreerdp on a virtual X
# display), in two network namespaces joined by a veth pair, captured with
# tcpdump on the server's side. Connections, in order:
#   1. standard RDP security (/sec:rdp): cookie, a confirm without a
#      negotiation response, the MCS Connect-Initial's client data in clear
#      (German keyboard, 1280x800, client name, four static channels) and
#      the Connect-Response;
#   2. TLS (/sec:tls) with TLS 1.2: the certificate's serial is readable;
#   3. NLA asked for (/sec:nla): xrdp offers TLS, the client gives up;
#   4. standard security with a load-balancing routing token instead of a
#      cookie, 16 bits per pixel;
#   5. TLS with TLS 1.3 (xrdp restarted): the certificate is encrypted.
# The sessions never log in (no xrdp-sesman runs): each client is stopped
# after a few seconds at xrdp's login screen.
# Needs root, iproute2, tcpdump, openssl, xrdp, freerdp2-x11 and xvfb.
#
# Usage: scripts/make-rdp-capture.sh [OUT.pcap]
set -euo pipefail

OUT=${1:-$(dirname "$0")/../io/cli/tests/captures/rdp-xrdp.pcap}
OUT=$(realpath -m "$OUT")
NS_S=fsrdp-server
NS_C=fsrdp-client
S_IP=10.79.0.1
C_IP=10.79.0.2
DISPLAY_NO=:78
WORK=$(mktemp -d)
DUMP_PID=
XRDP_PID=
XVFB_PID=

. "$(dirname "$0")/lib/netns-pair.sh"

cleanup() {
    for pid in $XRDP_PID $XVFB_PID $DUMP_PID; do
        kill "$pid" 2>/dev/null || true
    done
    netns_pair_del "$NS_S" "$NS_C"
    rm -rf "$WORK"
}
trap cleanup EXIT

for tool in ip tcpdump openssl xrdp xfreerdp Xvfb; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

netns_pair "$NS_S" "$NS_C" fsrdp-s fsrdp-c "$S_IP" "$C_IP"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rdp.test \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
# xrdp's packaged configuration with this certificate and one TLS version.
xrdp_ini() {
    sed -e "s|^certificate=.*|certificate=$WORK/cert.pem|" \
        -e "s|^key_file=.*|key_file=$WORK/key.pem|" \
        -e "s|^security_layer=.*|security_layer=negotiate|" \
        -e "s|^ssl_protocols=.*|ssl_protocols=$1|" \
        /etc/xrdp/xrdp.ini >"$WORK/xrdp-$1.ini"
}
xrdp_ini TLSv1.2
xrdp_ini TLSv1.3
mkdir -p /run/xrdp/sockdir

start_xrdp() {
    ip netns exec "$NS_S" xrdp --nodaemon --config "$WORK/xrdp-$1.ini" \
        >>"$WORK/xrdp.log" 2>&1 &
    XRDP_PID=$!
    sleep 2
}

stop_xrdp() {
    kill "$XRDP_PID" 2>/dev/null || true
    wait "$XRDP_PID" 2>/dev/null || true
    XRDP_PID=
}

# One client connection, stopped after 6 s at the latest.
connect() {
    DISPLAY=$DISPLAY_NO ip netns exec "$NS_C" timeout 6 xfreerdp "/v:$S_IP" \
        /cert:ignore "$@" >>"$WORK/client.log" 2>&1 || true
    sleep 0.5
}

ip netns exec "$NS_S" tcpdump -i fsrdp-s -s 0 -U -w "$WORK/out.pcap" tcp port 3389 \
    2>/dev/null &
DUMP_PID=$!
ip netns exec "$NS_C" Xvfb "$DISPLAY_NO" -nolisten tcp >/dev/null 2>&1 &
XVFB_PID=$!

start_xrdp TLSv1.2
connect /u:alice /p:secret /sec:rdp /client-hostname:fsclient /kbd:0x407 \
    /size:1280x800 +clipboard
connect /u:bob /p:secret /sec:tls /client-hostname:fsclient2 /size:800x600
connect /u:carol /p:secret /sec:nla /client-hostname:fsclient3
connect /p:secret /sec:rdp /client-hostname:fsclient4 /bpp:16 /size:1024x768 \
    "/load-balance-info:tsv://MS Terminal Services Plugin.1.Sessions"
stop_xrdp
start_xrdp TLSv1.3
connect /u:dave /p:secret /sec:tls /client-hostname:fsclient5 /size:1920x1080 /kbd:0x40c
stop_xrdp

sleep 1
capture_save "$DUMP_PID" "$WORK/out.pcap" "$OUT"
DUMP_PID=
