#!/usr/bin/env bash
# Makes io/cli/tests/captures/nfs-libnfs.pcap: real NFS v3 and v4 over TCP
# between NFS-Ganesha (its VFS backend, rpcbind beside it) and libnfs's
# nfs-ls, nfs-cat and nfs-cp, in two network namespaces joined by a veth
# pair, captured with tcpdump on the server's side. Exercises NULL,
# FSINFO, LOOKUP, ACCESS, READDIRPLUS, READ (a file in several chunks
# and a small one), CREATE, SETATTR, WRITE and COMMIT over NFSv3, and
# NFSv4 COMPOUNDs (a listing, a READ, a file written).
# Needs root, iproute2, tcpdump, rpcbind, nfs-ganesha, nfs-ganesha-vfs and
# libnfs-utils.
#
# Usage: scripts/make-nfs-capture.sh [OUT.pcap]
set -euo pipefail

OUT=${1:-$(dirname "$0")/../io/cli/tests/captures/nfs-libnfs.pcap}
OUT=$(realpath -m "$OUT")
NS_S=fsnfs-server
NS_C=fsnfs-client
S_IP=10.80.0.1
C_IP=10.80.0.2
WORK=$(mktemp -d)
DUMP_PID=

. "$(dirname "$0")/lib/netns-pair.sh"

trap netns_capture_cleanup EXIT

need_tools ip tcpdump rpcbind ganesha.nfsd nfs-ls nfs-cat nfs-cp

netns_pair "$NS_S" "$NS_C" fsnfs-s fsnfs-c "$S_IP" "$C_IP"

mkdir -p "$WORK"/export/sub "$WORK"/run
echo "hello nfs world" >"$WORK/export/hello.txt"
# Fixed bytes, so the capture is the same on every run but for times.
printf 'flowscope nfs read test\n%.0s' $(seq 4166) >"$WORK/export/big.bin"
echo x >"$WORK/export/sub/a"
head -c 12000 /etc/services >"$WORK/services"
cat >"$WORK/ganesha.conf" <<EOF
NFS_CORE_PARAM { Protocols = 3, 4; Enable_NLM = false; Enable_RQUOTA = false;
  Bind_addr = $S_IP; MNT_Port = 20048; Mount_Path_Pseudo = true; }
NFSV4 { Graceless = true; }
EXPORT { Export_Id = 1; Path = $WORK/export; Pseudo = /export; Access_Type = RW;
  Squash = No_Root_Squash; Protocols = 3, 4; Transports = TCP; SecType = sys;
  FSAL { Name = VFS; } }
LOG { Default_Log_Level = EVENT; }
EOF

ip netns exec "$NS_S" tcpdump -i fsnfs-s -U -w "$OUT" 'ip and (tcp or udp)' >/dev/null 2>&1 &
DUMP_PID=$!
sleep 1
ip netns exec "$NS_S" rpcbind -f -w &
sleep 1
ip netns exec "$NS_S" ganesha.nfsd -f "$WORK/ganesha.conf" -L "$WORK/ganesha.log" \
    -p "$WORK/run/ganesha.pid" -N NIV_EVENT
sleep 4

V3="version=3&nfsport=2049&mountport=20048"
V4="version=4&nfsport=2049"
C=(ip netns exec "$NS_C" timeout 20)
"${C[@]}" nfs-ls "nfs://$S_IP/export/?$V3"
"${C[@]}" nfs-cat "nfs://$S_IP/export/hello.txt?$V3"
"${C[@]}" nfs-cp "nfs://$S_IP/export/big.bin?$V3" "$WORK/big.copy"
"${C[@]}" nfs-cp "$WORK/services" "nfs://$S_IP/export/services.txt?$V3"
"${C[@]}" nfs-ls "nfs://$S_IP/export/?$V4"
"${C[@]}" nfs-cat "nfs://$S_IP/export/hello.txt?$V4"
"${C[@]}" nfs-cp /etc/hosts "nfs://$S_IP/export/hosts.txt?$V4"
sleep 1
kill "$DUMP_PID"
wait "$DUMP_PID" 2>/dev/null || true
DUMP_PID=
echo "wrote $OUT"
