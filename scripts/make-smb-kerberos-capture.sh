#!/usr/bin/env bash
# Makes io/cli/tests/captures/smb-kerberos.pcap: SMB with Kerberos, real
# traffic between a Samba 4.17 Active Directory domain controller (a
# domain provisioned for the run, its KDC and its file server) and MIT
# kinit and smbclient, in two network namespaces joined by a veth pair,
# captured with tcpdump on the server's side. Exercises, in order:
#   1. kinit with a wrong password: AS-REQ, PREAUTH_REQUIRED, AS-REQ with
#      pre-authentication, PREAUTH_FAILED;
#   2. kinit with the right one: the same exchange ending in an AS-REP
#      (over UDP, then TCP where the KDC answers RESPONSE_TOO_BIG);
#   3. smbclient with --use-kerberos=required to the NETLOGON share: a
#      TGS exchange for cifs/dc1.flowscope.test, then SMB2 NEGOTIATE and a
#      SESSION_SETUP carrying the AP-REQ (the ticket's realm and service
#      names), TREE_CONNECT, a directory listing, a file read;
#   4. the same client to a share that does not exist
#      (STATUS_BAD_NETWORK_NAME).
# Needs root, iproute2, tcpdump and Debian's samba, samba-ad-dc,
# samba-ad-provision, smbclient and krb5-user.
#
# Usage: scripts/make-smb-kerberos-capture.sh [OUT.pcap]
set -euo pipefail

OUT=${1:-$(dirname "$0")/../io/cli/tests/captures/smb-kerberos.pcap}
OUT=$(realpath -m "$OUT")
NS_S=fskrb-server
NS_C=fskrb-client
S_IP=10.81.0.1
C_IP=10.81.0.2
REALM=FLOWSCOPE.TEST
PASS='Passw0rd!x'
WORK=$(mktemp -d)
DUMP_PID=
SAMBA_PID=

. "$(dirname "$0")/lib/netns-pair.sh"

cleanup() {
    for pid in $SAMBA_PID $DUMP_PID; do
        kill "$pid" 2>/dev/null || true
    done
    netns_pair_del "$NS_S" "$NS_C"
    rm -rf "/etc/netns/$NS_C" "$WORK"
}
trap cleanup EXIT

for tool in ip tcpdump samba samba-tool smbclient kinit; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

netns_pair "$NS_S" "$NS_C" fskrb-s fskrb-c "$S_IP" "$C_IP"

# A domain of its own, under WORK: nothing of the machine's Samba is used.
samba-tool domain provision --targetdir="$WORK/dc" --realm="$REALM" --domain=FLOWSCOPE \
    --server-role=dc --dns-backend=NONE --adminpass="$PASS" --host-name=dc1 \
    --host-ip="$S_IP" --option="interfaces=$S_IP" --option="bind interfaces only=yes" \
    >"$WORK/provision.log" 2>&1 || { tail "$WORK/provision.log" >&2; exit 1; }
# A file in the NETLOGON share to read.
printf 'hello over kerberos\n' >"$WORK/dc/state/sysvol/flowscope.test/scripts/hello.txt"
cat >"$WORK/krb5.conf" <<EOF
[libdefaults]
  default_realm = $REALM
  dns_lookup_kdc = false
  dns_lookup_realm = false
[realms]
  $REALM = {
    kdc = $S_IP
  }
EOF
# `ip netns exec` puts /etc/netns/NS/hosts over /etc/hosts: the client
# finds the controller by name, as Kerberos wants.
mkdir -p "/etc/netns/$NS_C"
printf '127.0.0.1 localhost\n%s dc1.flowscope.test dc1\n' "$S_IP" >"/etc/netns/$NS_C/hosts"

ip netns exec "$NS_S" samba -s "$WORK/dc/etc/smb.conf" -i -M single >"$WORK/samba.log" 2>&1 &
SAMBA_PID=$!
for _ in $(seq 60); do
    ip netns exec "$NS_S" bash -c "exec 3<>/dev/tcp/$S_IP/445 4<>/dev/tcp/$S_IP/88" \
        2>/dev/null && break
    sleep 0.5
done

ip netns exec "$NS_S" tcpdump -i fskrb-s -s 0 -U -w "$WORK/out.pcap" \
    "tcp port 445 or port 88" 2>/dev/null &
DUMP_PID=$!
sleep 1

export KRB5_CONFIG=$WORK/krb5.conf KRB5CCNAME=FILE:$WORK/ccache
C=(ip netns exec "$NS_C")
echo 'wrong-password' | "${C[@]}" kinit "administrator@$REALM" >/dev/null 2>&1 || true
echo "$PASS" | "${C[@]}" kinit "administrator@$REALM" >/dev/null
"${C[@]}" smbclient //dc1.flowscope.test/netlogon --use-kerberos=required \
    -U "administrator@$REALM" -N -c 'ls; get hello.txt /dev/null' >/dev/null 2>&1
"${C[@]}" smbclient //dc1.flowscope.test/nosuchshare --use-kerberos=required \
    -U "administrator@$REALM" -N -c 'ls' >/dev/null 2>&1 || true
sleep 1

capture_save "$DUMP_PID" "$WORK/out.pcap" "$OUT"
DUMP_PID=
