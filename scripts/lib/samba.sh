# Sourced by the scripts that run Samba's smbd for a test capture.
#
#   samba_global WORK NETBIOS_NAME [LINE...]
# Prints the [global] section of a standalone server (user security, no
# guest, no printers) whose state lives in WORK's run, lock, state, cache,
# private and ncalrpc directories (made here), with each LINE added.
#
#   samba_user CONF USER PASSWORD
# Adds USER (a local account without a home, made when missing) to CONF's
# password database with PASSWORD.

samba_global() {
    local work=$1 name=$2 line
    shift 2
    mkdir -p "$work"/{run,lock,state,cache,private,ncalrpc}
    cat <<CONF
[global]
  workgroup = FSTEST
  netbios name = $name
  server role = standalone server
  security = user
  map to guest = never
  pid directory = $work/run
  lock directory = $work/lock
  state directory = $work/state
  cache directory = $work/cache
  private dir = $work/private
  ncalrpc dir = $work/ncalrpc
  log file = $work/log.%m
  passdb backend = tdbsam:$work/private/passdb.tdb
  load printers = no
  disable spoolss = yes
CONF
    for line in "$@"; do
        printf '  %s\n' "$line"
    done
}

samba_user() {
    id "$2" >/dev/null 2>&1 || useradd -M "$2"
    printf '%s\n%s\n' "$3" "$3" | smbpasswd -c "$1" -s -a "$2" >/dev/null
}
