#!/usr/bin/env python3
"""flowscope's HTTP protocol anomalies against Suricata's, per capture.

Runs `suricata -r FILE -k none --set stream.midstream=true` and `flowscope
replay` on every corpus capture with HTTP (MANIFEST.tsv) and every
suricata-verify capture, counts the `anomaly` records of HTTP's parser
(`app_proto: http`, `layer: proto_parser`) by event, and prints the
captures where the counts of an event flowscope raises differ, then how
many (capture, event) counts agree. Events flowscope does not raise are
listed per capture as `suricata only`, not compared.

Usage: scripts/http_events_compare.py [--corpus DIR] [--bin PATH]
Exit status: 0; 1 when the corpus, the binary or suricata is missing.
"""

import argparse
import collections
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EVENTS_RS = os.path.join(ROOT, "engine", "src", "parsers", "http", "events.rs")


def raised_by_flowscope():
    """The event names `parsers::http::event` defines."""
    with open(EVENTS_RS) as f:
        text = f.read()
    return set(re.findall(r'pub const [A-Z0-9_]+: &str =\s*"([A-Z0-9_]+)"', text))


def suricata_events(pcap, tmp):
    out = os.path.join(tmp, "suricata")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    subprocess.run(["suricata", "-r", pcap, "-l", out, "-k", "none",
                    "--set", "stream.midstream=true"], capture_output=True, timeout=600)
    counts = collections.Counter()
    try:
        with open(os.path.join(out, "eve.json")) as f:
            for line in f:
                r = json.loads(line)
                a = r.get("anomaly") or {}
                if (r.get("event_type") == "anomaly" and a.get("app_proto") == "http"
                        and a.get("layer") == "proto_parser"):
                    counts[a["event"]] += 1
    except FileNotFoundError:
        return None
    return counts


def flowscope_events(binary, pcap):
    out = subprocess.run([binary, "replay", "-q", pcap], capture_output=True, timeout=600)
    counts = collections.Counter()
    for line in out.stdout.splitlines():
        r = json.loads(line)
        a = r.get("anomaly") or {}
        if r.get("event_type") == "anomaly" and a.get("app_proto") == "http":
            counts[a["event"]] += 1
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=os.environ.get(
        "FLOWSCOPE_CORPUS", os.path.join(ROOT, "..", "shared", "corpus")))
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "flowscope"))
    args = ap.parse_args()
    manifest = os.path.join(args.corpus, "MANIFEST.tsv")
    if not os.path.exists(manifest) or not os.path.exists(args.bin) or not shutil.which("suricata"):
        print("needs the corpus, the flowscope binary and suricata", file=sys.stderr)
        return 1
    pcaps = set()
    with open(manifest) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) > 8 and "HTTP" in cols[8] and "INVALID" not in cols[8]:
                pcaps.add(os.path.join(args.corpus, cols[0]))
    sv = os.path.join(args.corpus, "suricata-verify")
    for pattern in ("*/*.pcap", "*/*/*.pcap", "*/*.pcapng"):
        pcaps.update(glob.glob(os.path.join(sv, pattern)))
    ours = raised_by_flowscope()
    agree = differ = 0
    with tempfile.TemporaryDirectory() as tmp:
        for pcap in sorted(pcaps):
            s = suricata_events(pcap, tmp)
            if s is None:
                continue
            f = flowscope_events(args.bin, pcap)
            diffs = {e: (s[e], f[e]) for e in sorted(ours) if s[e] != f[e]}
            agree += sum(1 for e in ours if s[e] == f[e] and s[e] > 0)
            differ += len(diffs)
            if diffs:
                only = {e: n for e, n in sorted(s.items()) if e not in ours}
                print(f"{os.path.relpath(pcap, args.corpus)}: (suricata, flowscope) {diffs}"
                      + (f"; suricata only: {only}" if only else ""))
    print(f"{len(pcaps)} captures; (capture, event) counts: {agree} equal and non-zero, "
          f"{differ} different")
    return 0


if __name__ == "__main__":
    sys.exit(main())
