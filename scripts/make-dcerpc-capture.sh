#!/usr/bin/env bash
# Makes io/cli/tests/captures/dcerpc-rpcclient.pcap: real DCE/RPC over TCP
# between Samba's samba-dcerpcd (its endpoint mapper on port 135 and the
# services on their own ports) and Samba's rpcclient, in two network
# namespaces joined by a veth pair, captured with tcpdump on the server's
# side. Exercises the endpoint mapper's Map calls, binds and their
# acknowledgements, requests and responses (a response fragmented over
# several PDUs: NetShareEnumAll with many shares), a fault (lsaquery
# refused), NTLMSSP-authenticated binds ([sign]: BIND, BIND_ACK, AUTH3)
# and a refused login.
# Needs root, iproute2, tcpdump and Samba (samba, smbclient).
#
# Usage: scripts/make-dcerpc-capture.sh [OUT.pcap]
set -euo pipefail

OUT=${1:-$(dirname "$0")/../io/cli/tests/captures/dcerpc-rpcclient.pcap}
OUT=$(realpath -m "$OUT")
NS_S=fsrpc-server
NS_C=fsrpc-client
S_IP=10.79.0.1
C_IP=10.79.0.2
DCERPCD=/usr/libexec/samba/samba-dcerpcd
WORK=$(mktemp -d)
DUMP_PID=

. "$(dirname "$0")/lib/netns-pair.sh"
. "$(dirname "$0")/lib/samba.sh"

cleanup() {
    pdbedit -s "$WORK/smb.conf" -x fsrpcuser >/dev/null 2>&1 || true
    userdel fsrpcuser 2>/dev/null || true
    netns_capture_cleanup
}
trap cleanup EXIT

need_tools ip tcpdump rpcclient smbpasswd "$DCERPCD"

netns_pair "$NS_S" "$NS_C" fsrpc-s fsrpc-c "$S_IP" "$C_IP"

mkdir -p "$WORK/share"
{
    samba_global "$WORK" FSRPC 'rpc start on demand helpers = no'
    # Enough shares that NetShareEnumAll's response spans several PDUs.
    for i in $(seq 1 120); do
        printf '[share%03d]\n  path = %s/share\n  comment = a share with a long comment %s\n' \
            "$i" "$WORK" "$(printf 'x%.0s' $(seq 1 40))"
    done
} >"$WORK/smb.conf"
samba_user "$WORK/smb.conf" fsrpcuser rpcpw1

ip netns exec "$NS_S" tcpdump -i fsrpc-s -s 0 -U -w "$WORK/out.pcap" tcp 2>/dev/null &
DUMP_PID=$!
ip netns exec "$NS_S" "$DCERPCD" -s "$WORK/smb.conf" --libexec-rpcds -D
sleep 2

rpc() {
    ip netns exec "$NS_C" timeout 20 rpcclient -s "$WORK/smb.conf" "$@" >/dev/null 2>&1 || true
    sleep 0.3
}
# Plain binds: the endpoint mapper, then srvsvc (server info, every share),
# then lsarpc (a fault: access denied).
rpc -U fsrpcuser%rpcpw1 "ncacn_ip_tcp:$S_IP" -c 'srvinfo; netshareenumall; lsaquery'
# NTLMSSP-signed binds (BIND, BIND_ACK, AUTH3).
rpc -U fsrpcuser%rpcpw1 "ncacn_ip_tcp:$S_IP[sign]" -c 'srvinfo'
# A wrong password on a signed bind.
rpc -U fsrpcuser%wrong "ncacn_ip_tcp:$S_IP[sign]" -c 'srvinfo'
sleep 1
capture_save "$DUMP_PID" "$WORK/out.pcap" "$OUT"
DUMP_PID=
