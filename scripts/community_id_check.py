#!/usr/bin/env python3
"""Cross-checks flowscope's Community IDs against Suricata's on real captures.

Runs `suricata -r FILE` (community-id enabled, no rules) and `flowscope replay`
on each capture, pairs their flow records by protocol and endpoints, and
compares the `community_id` strings. Prints per-file counts and every
mismatch; exits 1 on any mismatch or when no flow could be compared.

Usage: community_id_check.py FLOWSCOPE_BINARY CORPUS_DIR [FILE ...]
(FILEs are corpus-relative; a built-in selection covering TCP, UDP, ICMP,
ICMPv6, SCTP, IPv4 and IPv6 is used when none are given.)
"""
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

FILES = [
    "dpkt/http.pcap",
    "dpkt/dns_icmp.pcap",
    "dpkt/nb6-http.pcap",
    "ndpi/pcap/sctp.cap",
    "ndpi/pcap/6in4tunnel.pcap",
    "ndpi/pcap/android.pcap",
    "ndpi/pcap/instagram.pcap",
    "ndpi/pcap/google_ssl.pcap",
    "ndpi/pcap/quic.pcap",
    "ndpi/pcap/icmp-tunnel.pcap",
    "ndpi/pcap/NTPv4.pcap",
    "ndpi/pcap/sip.pcap",
    "ndpi/pcap/dnscrypt-v1-and-resolver-pings.pcap",
    "pcapplusplus/Pcap++Test/four_ipv6_http_streams.pcap",
    "pcapplusplus/ExamplesTest/ip-frag.pcap",
    "suricata-verify/bug-5633-gre-02/gre-sample.pcap",
]

SURICATA_YAML = """%YAML 1.1
---
default-log-dir: {logdir}
outputs:
  - eve-log:
      enabled: yes
      filetype: regular
      filename: eve.json
      community-id: yes
      community-id-seed: 0
      types:
        - flow
logging:
  default-log-level: error
  outputs:
    - console:
        enabled: yes
app-layer:
  protocols:
    http: {{ enabled: no }}
    tls: {{ enabled: no }}
    dns: {{ enabled: no }}
stream:
  midstream: true
"""


def addr(s):
    # Suricata writes IPv6 addresses fully expanded; compare them parsed.
    return str(ipaddress.ip_address(s))


def key(rec):
    proto = rec.get("proto")
    a = (addr(rec.get("src_ip")), rec.get("src_port"))
    b = (addr(rec.get("dest_ip")), rec.get("dest_port"))
    if proto in ("ICMP", "IPv6-ICMP"):
        # Ports differ in meaning between the tools; the ID already covers
        # type/code, so pair ICMP flows by addresses and the ID itself.
        return (proto, tuple(sorted([a[0], b[0]])), rec.get("community_id"))
    return (proto, tuple(sorted([a, b], key=str)))


def suricata_flows(path, tmp):
    logdir = os.path.join(tmp, "suri")
    os.makedirs(logdir, exist_ok=True)
    cfg = os.path.join(tmp, "suricata.yaml")
    with open(cfg, "w") as f:
        f.write(SURICATA_YAML.format(logdir=logdir))
    subprocess.run(
        ["suricata", "-c", cfg, "-r", path, "-k", "none", "-S", "/dev/null", "--runmode", "single", "-l", logdir],
        capture_output=True,
        check=True,
        timeout=300,
    )
    out = []
    with open(os.path.join(logdir, "eve.json")) as f:
        for line in f:
            r = json.loads(line)
            if r.get("event_type") == "flow" and "community_id" in r:
                out.append(r)
    return out


def flowscope_flows(binary, path):
    p = subprocess.run([binary, "replay", "-q", path], capture_output=True, timeout=300)
    out = []
    for line in p.stdout.decode().splitlines():
        r = json.loads(line)
        if r.get("event_type") == "flow":
            out.append(r)
    return out


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary, corpus = sys.argv[1], sys.argv[2]
    files = sys.argv[3:] or FILES
    compared = mismatched = 0
    for rel in files:
        path = os.path.join(corpus, rel)
        with tempfile.TemporaryDirectory() as tmp:
            suri = {key(r): r["community_id"] for r in suricata_flows(path, tmp)}
        ours = {key(r): r["community_id"] for r in flowscope_flows(binary, path)}
        both = sorted(set(suri) & set(ours), key=str)
        bad = [k for k in both if suri[k] != ours[k]]
        compared += len(both)
        mismatched += len(bad)
        print(f"{rel}: {len(both)} flows compared, {len(bad)} mismatches "
              f"(suricata {len(suri)} flows, flowscope {len(ours)})")
        for k in bad:
            print(f"   MISMATCH {k}: suricata {suri[k]} flowscope {ours[k]}")
    print(f"total: {compared} community ids compared, {mismatched} mismatches")
    return 1 if mismatched or compared == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
