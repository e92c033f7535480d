#!/usr/bin/env bash
# Makes io/cli/tests/captures/nfs41-client.pcap: real NFSv4.1 and v4.2
# over TCP between NFS-Ganesha (its VFS backend) and
# scripts/lib/nfs41_client.py, in two network namespaces joined by a veth
# pair, captured with tcpdump on the server's side. Exercises the session
# operations (EXCHANGE_ID, CREATE_SESSION, SEQUENCE, RECLAIM_COMPLETE,
# DESTROY_SESSION, DESTROY_CLIENTID), SECINFO_NO_NAME, a created file's
# WRITE and COMMIT, OPEN and READ, LOCK/LOCKT/LOCKU, TEST_STATEID,
# FREE_STATEID, CREATE, RENAME, REMOVE (one refused) and SEEK.
# Needs root, iproute2, tcpdump, python3, nfs-ganesha and nfs-ganesha-vfs
# (or nfs-ganesha-mem).
#
# Usage: scripts/make-nfs41-capture.sh [OUT.pcap] [FSAL]
# FSAL: Ganesha's backend, VFS (the default: 23-byte handles) or MEM
# (nfs-ganesha-mem: handles of a length Suricata 7 reads, see
# docs/parsers.md, "NFS").
set -euo pipefail

OUT=${1:-$(dirname "$0")/../io/cli/tests/captures/nfs41-client.pcap}
FSAL=${2:-VFS}
OUT=$(realpath -m "$OUT")
CLIENT=$(realpath "$(dirname "$0")/lib/nfs41_client.py")
NS_S=fsnfs41-server
NS_C=fsnfs41-client
S_IP=10.81.0.1
C_IP=10.81.0.2
WORK=$(mktemp -d)
DUMP_PID=

. "$(dirname "$0")/lib/netns-pair.sh"

trap netns_capture_cleanup EXIT

need_tools ip tcpdump python3 ganesha.nfsd

netns_pair "$NS_S" "$NS_C" fsnfs41-s fsnfs41-c "$S_IP" "$C_IP"

mkdir -p "$WORK"/export "$WORK"/run
cat >"$WORK/ganesha.conf" <<CONF
NFS_CORE_PARAM { Protocols = 4; Enable_NLM = false; Enable_RQUOTA = false;
  Bind_addr = $S_IP; Mount_Path_Pseudo = true; }
NFSV4 { Graceless = true; Minor_Versions = 0, 1, 2; }
EXPORT { Export_Id = 1; Path = $WORK/export; Pseudo = /export; Access_Type = RW;
  Squash = No_Root_Squash; Protocols = 4; Transports = TCP; SecType = sys;
  FSAL { Name = $FSAL; } }
LOG { Default_Log_Level = EVENT; }
CONF

ip netns exec "$NS_S" tcpdump -i fsnfs41-s -U -w "$OUT" 'ip and tcp port 2049' >/dev/null 2>&1 &
DUMP_PID=$!
sleep 1
ip netns exec "$NS_S" ganesha.nfsd -f "$WORK/ganesha.conf" -L "$WORK/ganesha.log" \
    -p "$WORK/run/ganesha.pid" -N NIV_EVENT
sleep 4

ip netns exec "$NS_C" timeout 30 python3 "$CLIENT" "$S_IP" export || {
    tail -20 "$WORK/ganesha.log" >&2
    exit 1
}
sleep 1
kill "$DUMP_PID"
wait "$DUMP_PID" 2>/dev/null || true
DUMP_PID=
echo "wrote $OUT"
