#!/usr/bin/env python3
"""Compare flowscope's flow records with Suricata's on the tunnel captures.

For every capture of the corpus that carries a tunnel (GRE, ERSPAN, PPTP,
VXLAN, Geneve, GTP, Teredo, L2TP, IP-in-IP and friends: picked from the
manifest's tags and file names) and every suricata-verify `decode-*` test,
this runs

    suricata -r FILE -k none -S /dev/null --runmode single   (plus the
             test's own `args:` for suricata-verify tests)
    flowscope replay -q --shards 0 --no-parsers FILE

and pairs the flow records by protocol and endpoints (IPs, ports; ICMP
type/code are not part of the pairing). A pair agrees when packets and
bytes agree in both directions. Suricata's records that flowscope has no
counterpart for are split into

  * outer: the carrier flow of a tunnel flowscope decapsulated (Suricata
    writes a flow for the outer VXLAN/Geneve/Teredo UDP datagrams, and for
    6in4's IPv4 packets, as well as for the inner conversation; flowscope
    tracks only the inner one), found by the outer addresses flowscope names
    in its records' `tunnel` object. Where flowscope has a record with the
    same key, it holds only the carrier's packets that it did not
    decapsulate (Teredo bubbles, GTP echoes): both are set aside;
  * other: anything else (printed, each needs a cause).

Prints one line per file (flows each side, pairs, agreeing pairs, outer,
unpaired), the totals and the agreement of the tunnelled pairs (those whose
flowscope record names a tunnel) on their own; --verbose adds every
disagreeing pair and unpaired record. --config passes a flowscope
configuration (e.g. one with `tunnel_in_key = false`, Suricata's flow key).

Usage: scripts/suricata_flow_compare.py [--corpus DIR] [--bin PATH]
                                        [--suricata PATH] [--config FILE]
                                        [--verbose] [--only SUBSTRING]
Exit status 0; 1 when the binary, Suricata or the corpus is missing.
"""

import argparse
import collections
import ipaddress
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Manifest tags and file names that mark a tunnel capture.
TUNNEL = re.compile(
    r"\b(GRE|ERSPAN|VXLAN|Geneve|GTP|Teredo|L2TP|PPTP)\b"
    r"|gre|erspan|vxlan|geneve|gtp|teredo|l2tp|pptp|tunnel|[46]in[46]|ipip|wccp",
)
PROTO_NUMBERS = {"ICMP": 1, "IGMP": 2, "IPIP": 4, "TCP": 6, "UDP": 17, "IPv6": 41,
                 "GRE": 47, "ESP": 50, "AH": 51, "IPv6-ICMP": 58, "OSPF": 89,
                 "PIM": 103, "VRRP": 112, "SCTP": 132}


def captures(corpus, only):
    """(label, path, extra suricata args) of every capture to compare."""
    out = []
    seen = set()
    sv = os.path.join(corpus, "suricata-verify")
    if os.path.isdir(sv):
        for test in sorted(os.listdir(sv)):
            if not test.startswith("decode-"):
                continue
            args = test_args(os.path.join(sv, test, "test.yaml"))
            for f in sorted(os.listdir(os.path.join(sv, test))):
                if f.endswith((".pcap", ".pcapng")):
                    rel = f"suricata-verify/{test}/{f}"
                    out.append((rel, os.path.join(corpus, rel), args))
                    seen.add(rel)
    with open(os.path.join(corpus, "MANIFEST.tsv"), encoding="utf-8") as m:
        for line in m:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 9 or cols[0] == "path" or cols[0].startswith("INVALID"):
                continue
            rel = cols[0]
            if rel in seen or not TUNNEL.search(cols[8] + " " + os.path.basename(rel)):
                continue
            args = []
            if rel.startswith("suricata-verify/"):
                args = test_args(os.path.join(corpus, os.path.dirname(rel), "test.yaml"))
            out.append((rel, os.path.join(corpus, rel), args))
    return [c for c in out if only is None or only in c[0]]


def test_args(path):
    """The `args:` list of a suricata-verify test.yaml (without a YAML parser:
    the lists are flat strings)."""
    args = []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return args
    inside = False
    for line in lines:
        if re.match(r"^args:\s*$", line):
            inside = True
            continue
        if inside:
            m = re.match(r"^\s*-\s*(.+?)\s*$", line)
            if m:
                args.extend(shlex.split(m.group(1)))
            elif line.strip() and not line.startswith(" "):
                break
    return args


def norm_ip(s):
    return str(ipaddress.ip_address(s)) if s else ""


def proto_number(p):
    if isinstance(p, int):
        return p
    return PROTO_NUMBERS.get(p, int(p) if str(p).isdigit() else -1)


def record(r):
    """The comparable part of one EVE flow record."""
    f = r.get("flow", {})
    return {
        "proto": proto_number(r.get("proto")),
        "src": (norm_ip(r.get("src_ip")), r.get("src_port", 0)),
        "dst": (norm_ip(r.get("dest_ip")), r.get("dest_port", 0)),
        "pkts": (f.get("pkts_toserver", 0), f.get("pkts_toclient", 0)),
        "bytes": (f.get("bytes_toserver", 0), f.get("bytes_toclient", 0)),
        "start": f.get("start", ""),
        "tunnel": r.get("tunnel"),
    }


# What a tunnel's carrier looks like: 6in4/GRE/IP-in-IP packets, or UDP on
# a port flowscope opens tunnels on by default.
CARRIER_PROTOS = {4, 41, 47}
CARRIER_PORTS = {4789, 6081, 3544, 2152, 1701}


def carrier(rec):
    if rec["proto"] in CARRIER_PROTOS:
        return True
    return rec["proto"] == 17 and bool({rec["src"][1], rec["dst"][1]} & CARRIER_PORTS)


def key(rec):
    return (rec["proto"], frozenset([rec["src"], rec["dst"]]))


def run_suricata(suricata, path, args):
    with tempfile.TemporaryDirectory() as d:
        cmd = [suricata, "-r", path, "-l", d, "-k", "none", "-S", "/dev/null",
               "--runmode", "single"] + [a for a in args if a not in ("-k", "none")]
        subprocess.run(cmd, capture_output=True, timeout=600)
        flows = []
        try:
            with open(os.path.join(d, "eve.json"), encoding="utf-8") as f:
                for line in f:
                    r = json.loads(line)
                    if r.get("event_type") == "flow":
                        flows.append(record(r))
        except OSError:
            return None
        return flows


def run_flowscope(binary, path, config):
    cmd = [binary, "replay", "-q", "--shards", "0", "--no-parsers", path]
    if config:
        cmd[2:2] = ["-c", config]
    p = subprocess.run(cmd, capture_output=True, timeout=600)
    flows = []
    for line in p.stdout.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("event_type") == "flow":
            flows.append(record(r))
    return flows


def oriented(ours, theirs):
    """Our counters in Suricata's direction (toserver, toclient)."""
    if ours["src"] == theirs["src"] or ours["src"] == ours["dst"]:
        return ours["pkts"], ours["bytes"]
    return ours["pkts"][::-1], ours["bytes"][::-1]


def compare(ours, theirs):
    """Pairs, outer-tunnel flows and unpaired records of one capture."""
    by_key = collections.defaultdict(list)
    for o in ours:
        by_key[key(o)].append(o)
    for v in by_key.values():
        v.sort(key=lambda r: r["start"])
    outer_pairs = set()
    for o in ours:
        t = o.get("tunnel")
        if t and t.get("src_ip") and t.get("dest_ip"):
            outer_pairs.add(frozenset([norm_ip(t["src_ip"]), norm_ip(t["dest_ip"])]))
    pairs, outer, theirs_only = [], [], []
    for t in sorted(theirs, key=lambda r: r["start"]):
        cands = by_key.get(key(t))
        if frozenset([t["src"][0], t["dst"][0]]) in outer_pairs and carrier(t):
            outer.append(t)
            if cands:
                cands.pop(0)
        elif cands:
            pairs.append((cands.pop(0), t))
        else:
            theirs_only.append(t)
    ours_only = [o for v in by_key.values() for o in v]
    return pairs, outer, theirs_only, ours_only


def describe(r):
    return (f"proto {r['proto']} {r['src'][0]}:{r['src'][1]} -> {r['dst'][0]}:{r['dst'][1]} "
            f"pkts {r['pkts'][0]}/{r['pkts'][1]} bytes {r['bytes'][0]}/{r['bytes'][1]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=os.environ.get(
        "FLOWSCOPE_CORPUS", os.path.join(ROOT, "..", "shared", "corpus")))
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "flowscope"))
    ap.add_argument("--suricata", default=shutil.which("suricata") or "suricata")
    ap.add_argument("--config", help="flowscope configuration file")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--only", help="compare only captures whose path contains this")
    a = ap.parse_args()
    if not os.path.isfile(os.path.join(a.corpus, "MANIFEST.tsv")):
        print(f"no corpus at {a.corpus}", file=sys.stderr)
        return 1
    if not os.access(a.bin, os.X_OK) or not shutil.which(a.suricata):
        print(f"need {a.bin} and {a.suricata}", file=sys.stderr)
        return 1
    total = collections.Counter()
    print(f"{'capture':58} {'sur':>4} {'fs':>4} {'pair':>4} {'agree':>5} "
          f"{'outer':>5} {'s-only':>6} {'fs-only':>7}")
    for rel, path, args in captures(a.corpus, a.only):
        theirs = run_suricata(a.suricata, path, args)
        if theirs is None:
            print(f"{rel:58} suricata wrote no eve.json")
            continue
        ours = run_flowscope(a.bin, path, a.config)
        pairs, outer, theirs_only, ours_only = compare(ours, theirs)
        agree = [p for p in pairs if oriented(*p) == (p[1]["pkts"], p[1]["bytes"])]
        same_pkts = [p for p in pairs if oriented(*p)[0] == p[1]["pkts"]]
        tunnelled = [p for p in pairs if p[0]["tunnel"]]
        total.update(tunnel_pairs=len(tunnelled),
                     tunnel_agree=len([p for p in tunnelled if p in agree]),
                     tunnel_same_pkts=len([p for p in tunnelled if p in same_pkts]))
        total.update(files=1, suricata=len(theirs), flowscope=len(ours), pairs=len(pairs),
                     agree=len(agree), same_pkts=len(same_pkts), outer=len(outer),
                     theirs_only=len(theirs_only), ours_only=len(ours_only),
                     files_agree=int(len(agree) == len(pairs) and not theirs_only
                                     and not ours_only))
        print(f"{rel[:58]:58} {len(theirs):4} {len(ours):4} {len(pairs):4} {len(agree):5} "
              f"{len(outer):5} {len(theirs_only):6} {len(ours_only):7}")
        if a.verbose:
            for o, t in pairs:
                if (o, t) in agree:
                    continue
                pk, by = oriented(o, t)
                print(f"    differs: suricata {describe(t)}; flowscope pkts {pk[0]}/{pk[1]} "
                      f"bytes {by[0]}/{by[1]}")
            for t in outer:
                print(f"    outer:   suricata {describe(t)}")
            for t in theirs_only:
                print(f"    s-only:  suricata {describe(t)}")
            for o in ours_only:
                print(f"    fs-only: flowscope {describe(o)}")
    print()
    print(f"files {total['files']}, with every flow paired and agreeing: {total['files_agree']}")
    print(f"suricata flows {total['suricata']} (outer tunnel flows {total['outer']}), "
          f"flowscope flows {total['flowscope']}")
    print(f"pairs {total['pairs']}: packets agree {total['same_pkts']}, "
          f"packets and bytes agree {total['agree']}")
    print(f"  tunnelled pairs {total['tunnel_pairs']}: packets agree "
          f"{total['tunnel_same_pkts']}, packets and bytes agree {total['tunnel_agree']}")
    print(f"unpaired: suricata-only {total['theirs_only']}, flowscope-only {total['ours_only']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
