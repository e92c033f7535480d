#!/usr/bin/env bash
# Makes the backports suite of this Debian release installable (`apt-get install -t
# CODENAME-backports ...`), with the mirror this machine is already configured with: the
# archive URI is read from the configured apt sources (one-line `deb` entries in
# /etc/apt/sources.list and sources.list.d/*.list, and deb822 `*.sources` files), taking the
# entry whose suite is the release itself, as apt-get does; no host name is written here.
# Does nothing when a backports entry already exists. Prints the suite name on stdout.
# Needs root; runs `apt-get update` when it adds the entry.
#
#   suite=$(scripts/apt-backports.sh) && apt-get install -y -t "$suite" suricata
set -euo pipefail
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ -z "$codename" ]; then
  echo "apt-backports: /etc/os-release names no release codename" >&2
  exit 2
fi
suite="$codename-backports"
lists=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
if grep -qs -E "(^|[[:space:]])$suite([[:space:]]|$)" "${lists[@]}" 2>/dev/null; then
  echo "$suite"
  exit 0
fi

# The archive's URI (and its keyring, for deb822 entries) from the first entry whose suite is
# exactly the release codename.
read -r uri keyring < <(python3 - "$codename" "${lists[@]}" <<'EOF'
import glob, sys
codename, files = sys.argv[1], sys.argv[2:]
for path in files:
    try:
        text = open(path, encoding="utf-8").read()
    except OSError:
        continue
    if path.endswith(".sources"):
        for stanza in text.split("\n\n"):
            fields, key = {}, None
            for line in stanza.splitlines():
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                if line[0] in " \t" and key:
                    fields[key] += " " + line.strip()
                    continue
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
            if (fields.get("enabled", "yes").lower() != "no"
                    and "deb" in fields.get("types", "").split()
                    and codename in fields.get("suites", "").split()
                    and fields.get("uris")):
                print(fields["uris"].split()[0], fields.get("signed-by", "-").split()[0] if fields.get("signed-by") else "-")
                sys.exit(0)
    else:
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) >= 3 and words[0] == "deb":
                rest = words[1:]
                if rest[0].startswith("["):
                    while rest and not rest[0].endswith("]"):
                        rest = rest[1:]
                    rest = rest[1:]
                if len(rest) >= 2 and rest[1] == codename:
                    print(rest[0], "-")
                    sys.exit(0)
sys.exit(1)
EOF
) || { echo "apt-backports: no configured apt source for $codename to derive the mirror from" >&2; exit 2; }

{
  echo "Types: deb"
  echo "URIs: $uri"
  echo "Suites: $suite"
  echo "Components: main"
  [ "$keyring" = "-" ] || echo "Signed-By: $keyring"
} > /etc/apt/sources.list.d/flowscope-backports.sources
apt-get update -qq >&2
echo "$suite"
