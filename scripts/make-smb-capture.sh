#!/usr/bin/env bash
# Makes io/cli/tests/captures/smb-smbclient.pcap: real SMB traffic between
# Samba's smbd and smbclient, in two network namespaces joined by a veth
# pair, captured with tcpdump on the server's side. Exercises SMB 3.1.1
# with NTLMSSP logins, tree connects to a share and to IPC$ (DCE/RPC over
# the srvsvc pipe: the share list, over SMB 3.1.1 IOCTLs and over SMB1
# TRANS TransactNmPipe), directory listings, a file written and
# read back (several multi-credit reads and writes), a directory made and
# removed, a rename, a delete, a file that does not exist, a refused login,
# an SMB 2.1 session, an SMB1 (NT1) session with the same file operations
# (a file written, read back, renamed and deleted, a large file read, a
# directory made and removed, a missing file), SMB 3.1.1 and SMB1 sessions
# over NetBIOS (port 139), and an encrypted SMB 3 session.
# Needs root, iproute2, tcpdump and Samba (samba, smbclient).
#
# Usage: scripts/make-smb-capture.sh [OUT.pcap]
set -euo pipefail

OUT=${1:-$(dirname "$0")/../io/cli/tests/captures/smb-smbclient.pcap}
OUT=$(realpath -m "$OUT")
NS_S=fssmb-server
NS_C=fssmb-client
S_IP=10.80.0.1
C_IP=10.80.0.2
WORK=$(mktemp -d)
DUMP_PID=

. "$(dirname "$0")/lib/netns-pair.sh"
. "$(dirname "$0")/lib/samba.sh"

cleanup() {
    userdel fssmbuser 2>/dev/null || true
    netns_capture_cleanup
}
trap cleanup EXIT

need_tools ip tcpdump smbd smbclient smbpasswd

netns_pair "$NS_S" "$NS_C" fssmb-s fssmb-c "$S_IP" "$C_IP"

mkdir -p "$WORK"/{share,client}
chmod 755 "$WORK"
chmod 777 "$WORK/share"
{
    samba_global "$WORK" FSSMB 'server min protocol = NT1' 'smb ports = 445 139'
    printf '[data]\n  path = %s/share\n  read only = no\n  comment = test data\n' "$WORK"
} >"$WORK/smb.conf"
samba_user "$WORK/smb.conf" fssmbuser smbpw1
head -c 200000 /dev/urandom >"$WORK/client/big.bin"
printf 'hello smb\n' >"$WORK/client/small.txt"

ip netns exec "$NS_S" tcpdump -i fssmb-s -s 0 -U -w "$WORK/out.pcap" tcp port 445 or tcp port 139 2>/dev/null &
DUMP_PID=$!
ip netns exec "$NS_S" smbd -s "$WORK/smb.conf" -D
sleep 2

smb() {
    (cd "$WORK/client" && ip netns exec "$NS_C" timeout 30 smbclient -s "$WORK/smb.conf" "$@") \
        >/dev/null 2>&1 || true
    sleep 0.3
}
# The share list (IPC$, DCE/RPC over the srvsvc pipe), over SMB 3.1.1
# (IOCTLs) and over SMB1 (TRANS TransactNmPipe).
smb -U fssmbuser%smbpw1 -L "//$S_IP"
smb -U fssmbuser%smbpw1 -m NT1 --option='client min protocol=NT1' -L "//$S_IP"
# Files and directories on the share, SMB 3.1.1.
smb -U fssmbuser%smbpw1 "//$S_IP/data" -c 'ls; put small.txt; put big.bin; get big.bin big.copy; mkdir newdir; ls newdir/*; rename small.txt renamed.txt; del renamed.txt; rmdir newdir; get missing.txt; ls'
# A refused login.
smb -U fssmbuser%wrong "//$S_IP/data" -c 'ls'
# SMB 2.1 and SMB1 (NT1) sessions.
smb -U fssmbuser%smbpw1 -m SMB2_10 "//$S_IP/data" -c 'ls'
smb -U fssmbuser%smbpw1 -m NT1 --option='client min protocol=NT1' "//$S_IP/data" \
    -c 'ls; put small.txt; get small.txt s1.copy; get big.bin b1.copy; rename small.txt r1.txt; del r1.txt; mkdir d1; rmdir d1; get missing.txt'
# NetBIOS (port 139): a session request first, then SMB 3.1.1 and SMB1.
smb -U fssmbuser%smbpw1 -p 139 "//$S_IP/data" -c 'ls; get big.bin b2.copy'
smb -U fssmbuser%smbpw1 -p 139 -m NT1 --option='client min protocol=NT1' "//$S_IP/data" -c 'ls'
# An encrypted SMB 3 session.
smb -U fssmbuser%smbpw1 --client-protection=encrypt "//$S_IP/data" -c 'ls; get big.bin enc.copy'
sleep 1
capture_save "$DUMP_PID" "$WORK/out.pcap" "$OUT"
DUMP_PID=
