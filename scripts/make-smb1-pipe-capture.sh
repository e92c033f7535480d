#!/usr/bin/env bash
# Makes io/cli/tests/captures/smb1-impacket.pcap: real SMB1 (NT LM 0.12)
# traffic between Samba's smbd and scripts/lib/smb1_client.py (impacket),
# in two network namespaces joined by a veth pair, captured with tcpdump
# on the server's side. Exercises DCE/RPC over named pipes in WRITE_ANDX
# and READ_ANDX (srvsvc's share list and server information, a request in
# fragments of 8 stub bytes, wkssvc, lsarpc) and TRANS2 SET_FILE_INFO and
# SET_PATH_INFO deletes and renames (the pass-through information levels
# 1013 and 1010), which Samba's own clients do not send.
# Needs root, iproute2, tcpdump, Samba (samba) and python3-impacket.
#
# Usage: scripts/make-smb1-pipe-capture.sh [OUT.pcap]
set -euo pipefail

OUT=${1:-$(dirname "$0")/../io/cli/tests/captures/smb1-impacket.pcap}
OUT=$(realpath -m "$OUT")
CLIENT=$(realpath "$(dirname "$0")/lib/smb1_client.py")
NS_S=fssmb1-server
NS_C=fssmb1-client
S_IP=10.82.0.1
C_IP=10.82.0.2
WORK=$(mktemp -d)
DUMP_PID=

. "$(dirname "$0")/lib/netns-pair.sh"
. "$(dirname "$0")/lib/samba.sh"

cleanup() {
    userdel fssmb1user 2>/dev/null || true
    netns_capture_cleanup
}
trap cleanup EXIT

need_tools ip tcpdump smbd smbpasswd /usr/bin/python3
/usr/bin/python3 -c 'import impacket' 2>/dev/null || { echo "missing python3-impacket" >&2; exit 1; }

netns_pair "$NS_S" "$NS_C" fssmb1-s fssmb1-c "$S_IP" "$C_IP"

mkdir -p "$WORK/share"
chmod 755 "$WORK"
chmod 777 "$WORK/share"
{
    samba_global "$WORK" FSSMB1 'server min protocol = NT1' 'smb ports = 445'
    printf '[data]\n  path = %s/share\n  read only = no\n' "$WORK"
} >"$WORK/smb.conf"
samba_user "$WORK/smb.conf" fssmb1user smbpw1

ip netns exec "$NS_S" tcpdump -i fssmb1-s -s 0 -U -w "$WORK/out.pcap" tcp port 445 2>/dev/null &
DUMP_PID=$!
ip netns exec "$NS_S" smbd -s "$WORK/smb.conf" -D
sleep 2

ip netns exec "$NS_C" timeout 60 /usr/bin/python3 "$CLIENT" "$S_IP" fssmb1user smbpw1 data
sleep 1
capture_save "$DUMP_PID" "$WORK/out.pcap" "$OUT"
DUMP_PID=
