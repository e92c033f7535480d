#!/usr/bin/env bash
# Makes io/cli/tests/captures/pgsql-psql.pcap: real PostgreSQL traffic
# between Debian's PostgreSQL 15 server and the psql client, in two network
# namespaces joined by a veth pair, captured with tcpdump on the server's
# side. Exercises an SSLRequest refused ('N') then an MD5 password login,
# simple queries (rows, an error, a notice, a SET that changes a
# parameter), a SCRAM-SHA-256 login, a CancelRequest on a connection of
# its own, a refused login (an error during authentication), an
# SSLRequest accepted ('S', the rest is TLS) and Terminate messages.
# Needs root, iproute2, tcpdump, openssl and PostgreSQL 15.
#
# Usage: scripts/make-pgsql-capture.sh [OUT.pcap]
set -euo pipefail

OUT=${1:-$(dirname "$0")/../io/cli/tests/captures/pgsql-psql.pcap}
OUT=$(realpath -m "$OUT")
NS_S=fspg-server
NS_C=fspg-client
S_IP=10.78.0.1
C_IP=10.78.0.2
PGBIN=/usr/lib/postgresql/15/bin
WORK=$(mktemp -d)
DUMP_PID=
DATA=$WORK/data

. "$(dirname "$0")/lib/netns-pair.sh"

cleanup() {
    if [ -f "$DATA/postmaster.pid" ]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DATA" -m immediate stop \
            >/dev/null 2>&1 || true
    fi
    [ -n "$DUMP_PID" ] && kill "$DUMP_PID" 2>/dev/null || true
    netns_pair_del "$NS_S" "$NS_C"
    rm -rf "$WORK"
}
trap cleanup EXIT

for tool in ip tcpdump openssl psql "$PGBIN/postgres"; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

netns_pair "$NS_S" "$NS_C" fspg-s fspg-c "$S_IP" "$C_IP"

chmod 755 "$WORK"
chown postgres "$WORK"
printf 'superpw\n' >"$WORK/pw"
chown postgres "$WORK/pw"
runuser -u postgres -- "$PGBIN/initdb" -D "$DATA" -U postgres --pwfile="$WORK/pw" \
    -A scram-sha-256 >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=pg.test -keyout "$DATA/server.key" -out "$DATA/server.crt" 2>/dev/null
chown postgres "$DATA/server.key" "$DATA/server.crt"
chmod 600 "$DATA/server.key"
cat >>"$DATA/postgresql.conf" <<EOF
listen_addresses = '$S_IP'
port = 5432
unix_socket_directories = '$WORK'
ssl = off
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
logging_collector = off
EOF
cat >"$DATA/pg_hba.conf" <<EOF
local all all trust
host all alice $C_IP/32 md5
host all all $C_IP/32 scram-sha-256
EOF

ip netns exec "$NS_S" tcpdump -i fspg-s -s 0 -U -w "$WORK/out.pcap" tcp port 5432 \
    2>/dev/null &
DUMP_PID=$!
ip netns exec "$NS_S" runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DATA" -l "$WORK/log" \
    -w start >/dev/null
sleep 1

# Users made over the local socket (not captured): alice with an MD5
# password, bob with a SCRAM one.
runuser -u postgres -- psql -h "$WORK" -U postgres -q -d postgres <<'EOF'
SET password_encryption = 'md5';
CREATE ROLE alice LOGIN PASSWORD 'alicepw';
SET password_encryption = 'scram-sha-256';
CREATE ROLE bob LOGIN PASSWORD 'bobpw';
CREATE DATABASE shop OWNER alice;
EOF

c() { ip netns exec "$NS_C" "$@"; }

# SSL refused, then MD5, simple queries: rows, an error, a notice, a SET.
c env PGPASSWORD=alicepw PGSSLMODE=prefer PGAPPNAME=fs-test psql -h "$S_IP" -U alice \
    -d shop -X -q -v ON_ERROR_STOP=0 >/dev/null 2>&1 <<'EOF' || true
CREATE TABLE items (id int, name text);
INSERT INTO items VALUES (1, 'apple'), (2, 'pear'), (3, NULL);
SELECT id, name FROM items ORDER BY id;
SELECT * FROM missing_table;
DO $$ BEGIN RAISE NOTICE 'hello from plpgsql'; END $$;
SET application_name = 'renamed';
SELECT 1 AS one, 'two' AS two;
EOF
sleep 0.3
# SCRAM-SHA-256 without SSL; a query of many rows.
c env PGPASSWORD=bobpw PGSSLMODE=disable psql -h "$S_IP" -U bob -d postgres -X -q \
    -c 'SELECT generate_series(1, 20) AS n' >/dev/null 2>&1 || true
sleep 0.3
# A wrong password: an error during authentication.
c env PGPASSWORD=nope PGSSLMODE=disable psql -h "$S_IP" -U bob -d postgres -X -q \
    -c 'SELECT 1' >/dev/null 2>&1 || true
sleep 0.3
# A query cancelled: psql sends a CancelRequest on a new connection.
c env PGPASSWORD=alicepw PGSSLMODE=disable timeout -s INT 1.5 psql -h "$S_IP" -U alice \
    -d shop -X -q -c 'SELECT pg_sleep(5)' >/dev/null 2>&1 || true
sleep 0.5

# SSL accepted: the rest of that connection is TLS.
sed -i 's/^ssl = off/ssl = on/' "$DATA/postgresql.conf"
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DATA" reload >/dev/null
sleep 1
c env PGPASSWORD=bobpw PGSSLMODE=require psql -h "$S_IP" -U bob -d postgres -X -q \
    -c 'SELECT 42' >/dev/null 2>&1 || true
sleep 0.5

runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null
sleep 0.5
capture_save "$DUMP_PID" "$WORK/out.pcap" "$OUT"
DUMP_PID=
