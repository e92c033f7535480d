#!/usr/bin/env python3
"""`flowscope streams` against tcpflow over every TCP capture in the corpus.

For each capture both tools write one file per TCP direction; flowscope runs
with --fill-gaps so missing bytes are zeros, as in tcpflow's files (tcpflow
writes each segment at its sequence offset). Streams are matched by
(source, source port, destination, destination port); a 4-tuple reused by
several connections is compared as the list of its streams. Each stream is
identical, or classified by what differs:

  ours-longer / theirs-longer  one is a prefix of the other
  tcpflow-frame-padding        tcpflow's file ends with the zero padding of a
                               short Ethernet frame (flowscope, reading the IP
                               length, leaves it out)
  gap-fill                     equal except where flowscope reports a gap
  content                      other differing bytes
  only-flowscope / only-tcpflow  the stream exists in one tool only
  split                        one tool cut the direction into several files

Usage: scripts/tcpflow_compare.py [BINARY] [CORPUS] [--limit N] [--show N]
Needs tcpflow on PATH (Debian: tcpflow). Prints per-cause counts and the
first examples of each; exit status 0 when it ran, 2 when tcpflow or the
corpus is missing.
"""

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

NAME = re.compile(r"^(.+)\.(\d{5})-(.+)\.(\d{5})(--\d+)?(c\d+)?$")


def norm_ip(s):
    """tcpflow zero-pads IPv4 octets."""
    if "." in s and ":" not in s:
        return ".".join(str(int(p)) for p in s.split("."))
    return s


def tcpflow_streams(capture, out):
    os.makedirs(out)
    r = subprocess.run(
        ["tcpflow", "-r", capture, "-o", out],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
    )
    streams = collections.defaultdict(list)
    for f in sorted(os.listdir(out)):
        m = NAME.match(f)
        if not m:
            continue
        key = (norm_ip(m.group(1)), int(m.group(2)), norm_ip(m.group(3)), int(m.group(4)))
        with open(os.path.join(out, f), "rb") as fh:
            streams[key].append(fh.read())
    return streams, r.stderr.strip()


def flowscope_streams(binary, capture, out):
    r = subprocess.run(
        [binary, "streams", "-q", "--fill-gaps", "--shards", "0", "--out", out, capture],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=300,
    )
    streams = collections.defaultdict(list)
    gaps = {}
    index = os.path.join(out, "index.jsonl")
    if not os.path.exists(index):
        return streams, gaps, r.returncode
    with open(index) as f:
        for line in f:
            j = json.loads(line)
            if j["direction"] == "toserver":
                key = (j["src_ip"], j["src_port"], j["dest_ip"], j["dest_port"])
            else:
                key = (j["dest_ip"], j["dest_port"], j["src_ip"], j["src_port"])
            with open(os.path.join(out, j["path"]), "rb") as fh:
                data = fh.read()
            if not data:
                continue  # tcpflow writes no file for a direction without bytes
            streams[key].append(data)
            gaps[(key, len(streams[key]) - 1)] = j
    return streams, gaps, r.returncode


def tshark_rows(capture):
    """Per TCP packet: src, sport, dst, dport, seq, len, flags, padding,
    frame number, nested IP headers (tunnels). Empty without tshark."""
    if shutil.which("tshark") is None:
        return []
    fields = ["frame.number", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport",
              "tcp.dstport", "tcp.seq_raw", "tcp.len", "tcp.flags.reset", "tcp.flags.syn",
              "tcp.flags.ack", "eth.padding", "eth.trailer", "frame.time_epoch", "ip.fragment.count"]
    cmd = ["tshark", "-r", capture, "-Y", "tcp", "-T", "fields", "-E", "occurrence=a", "-E", "separator=\t"]
    for f in fields:
        cmd += ["-e", f]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
    except subprocess.TimeoutExpired:
        return []
    rows = []
    for line in out.splitlines():
        c = line.split("\t")
        if len(c) < len(fields):
            continue
        srcs = [x for x in (c[1].split(",") + c[2].split(",")) if x]
        dsts = [x for x in (c[3].split(",") + c[4].split(",")) if x]
        if not srcs or not dsts or not c[5]:
            continue
        last = lambda v: v.split(",")[-1]
        rows.append({
            "frame": int(c[0]),
            "srcs": srcs, "dsts": dsts,
            "sport": int(last(c[5])), "dport": int(last(c[6])),
            "len": int(last(c[8]) or 0),
            "rst": last(c[9]) in ("1", "True"),
            "syn": last(c[10]) in ("1", "True") and last(c[11]) not in ("1", "True"),
            "pad": bool(c[12] or c[13]),
            "tunnel": len(srcs) > 1,
            "time": float(c[14].split(",")[0] or 0),
            "defrag": bool(c[15]),
        })
    return rows


def explain(cause, key, rows, ours_gaps, context):
    """A reason for a difference, from the capture's packets."""
    src, sport, dst, dport = key

    def sent(r, a, ap, b, bp):
        return a in r["srcs"] and b in r["dsts"] and (r["sport"], r["dport"]) == (ap, bp)

    mine = [r for r in rows if sent(r, src, sport, dst, dport)]
    conn = mine + [r for r in rows if sent(r, dst, dport, src, sport)]
    if cause == "only-flowscope":
        if "interface has a type" in context["tcpflow_error"]:
            return "pcapng with interfaces of different link types: tcpflow stops reading at the first such interface"
        if any(r["tunnel"] for r in conn):
            return "inside a tunnel: flowscope decapsulates it, tcpflow does not"
        if context["linktype"] not in ("ether", ""):
            return f"link type {context['linktype']}: flowscope decodes it, tcpflow writes nothing"
        if context["tcpflow_wrote_nothing"]:
            return "tcpflow writes no stream at all for this capture (it processes none of its packets)"
    if not conn:
        return "not seen by tshark"
    first_rst = min((r["frame"] for r in conn if r["rst"]), default=None)
    after_rst = sum(r["len"] for r in mine if first_rst is not None and r["frame"] > first_rst)
    syns = sum(1 for r in conn if r["syn"])
    big = any(r["len"] > 1500 for r in mine)
    padded = any(r["pad"] for r in mine)
    if cause in ("theirs-longer", "only-tcpflow", "split", "content") and after_rst > 0:
        return "data sent after the connection's RST: tcpflow writes it, flowscope ends the connection at the RST (counted as packets after close)"
    times = sorted(r["time"] for r in conn)
    idle = max((b - a for a, b in zip(times, times[1:])), default=0)
    if cause.startswith("split") and context.get("ours_more") and idle > 300:
        return "a silence longer than the TCP idle timeout (300 s): flowscope ends the flow and picks the connection up again as a new one; tcpflow keeps one file"
    if cause.startswith("split") and syns > 1:
        return "one 4-tuple, several connections (new SYN): flowscope writes one stream per connection, tcpflow one file"
    if cause in ("theirs-longer", "only-tcpflow", "split", "content") and padded:
        return "Ethernet padding after a short frame: tcpflow writes it as stream data (over real bytes, or as a file of its own after the close); flowscope reads the IP length"
    if cause == "content" and context.get("inconsistent"):
        return "overlapping segments carry different bytes: flowscope keeps the first copy (overlap policy first, reported as inconsistent overlaps), tcpflow the last (it writes each segment at its offset)"
    if any(r["defrag"] for r in mine):
        return "IP fragments: flowscope reassembles the datagram, tcpflow takes the first fragment only"
    if cause == "content" and big:
        return "segments larger than the MTU (TSO/GRO capture): tcpflow leaves them out, flowscope keeps them"
    if cause == "ours-longer" and ours_gaps:
        return "bytes the peer acknowledged but the capture lost: flowscope reports a gap (zero-filled here), tcpflow's file stops"
    return "unexplained"


def classify(ours, theirs, gaps):
    if ours == theirs:
        return "identical"
    if theirs.startswith(ours):
        extra = theirs[len(ours):]
        if len(extra) < 64 and not any(extra):
            # A segment short of Ethernet's 60-byte minimum frame carries
            # padding after the IP datagram; tcpflow writes it as data.
            return "tcpflow-frame-padding"
        return "theirs-longer"
    if ours.startswith(theirs):
        return "ours-longer"
    if len(ours) == len(theirs):
        lost = set()
        for g in gaps:
            lost.update(range(g["offset"], g["offset"] + g["len"]))
        if all(i in lost for i in range(len(ours)) if ours[i] != theirs[i]):
            return "gap-fill"
    return "content"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", nargs="?", default="target/release/flowscope")
    ap.add_argument("corpus", nargs="?", default=os.environ.get("FLOWSCOPE_CORPUS", "../shared/corpus"))
    ap.add_argument("--limit", type=int, default=0, help="first N captures only")
    ap.add_argument("--show", type=int, default=6, help="examples shown per cause")
    ap.add_argument("--only", default="", help="captures whose path contains this")
    args = ap.parse_args()
    if shutil.which("tcpflow") is None:
        print("SKIP: tcpflow not installed (Debian: apt-get install tcpflow)", file=sys.stderr)
        return 2
    manifest = os.path.join(args.corpus, "MANIFEST.tsv")
    if not os.path.exists(manifest):
        print(f"SKIP: no corpus at {args.corpus}", file=sys.stderr)
        return 2
    files = []
    linktypes = {}
    with open(manifest) as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) > 8 and "INVALID" not in cols[8]:
                files.append(cols[0])
                linktypes[cols[0]] = cols[6]
    if args.only:
        files = [f for f in files if args.only in f]
    if args.limit:
        files = files[: args.limit]
    causes = collections.Counter()
    reasons = collections.Counter()
    examples = collections.defaultdict(list)
    captures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n, rel in enumerate(files):
            cap = os.path.join(args.corpus, rel)
            ours, gaps, rc = flowscope_streams(args.binary, cap, os.path.join(tmp, f"f{n}"))
            theirs, tcpflow_error = tcpflow_streams(cap, os.path.join(tmp, f"t{n}"))
            context = {
                "linktype": linktypes.get(rel, ""),
                "tcpflow_error": tcpflow_error,
                "tcpflow_wrote_nothing": not theirs,
            }
            shutil.rmtree(os.path.join(tmp, f"f{n}"), ignore_errors=True)
            shutil.rmtree(os.path.join(tmp, f"t{n}"), ignore_errors=True)
            if not ours and not theirs:
                continue
            captures += 1
            rows = None
            for key in sorted(set(ours) | set(theirs), key=str):
                a, b = ours.get(key, []), theirs.get(key, [])
                if not a:
                    cause = "only-tcpflow"
                    count = len(b)
                elif not b:
                    cause = "only-flowscope"
                    count = len(a)
                elif len(a) != len(b):
                    context["ours_more"] = len(a) > len(b)
                    cause = "split"
                    count = max(len(a), len(b))
                    if b"".join(a) == b"".join(b):
                        cause = "split (same bytes)"
                else:
                    for i, (x, y) in enumerate(zip(a, b)):
                        row = gaps.get((key, i), {})
                        c = classify(x, y, row.get("gaps", []))
                        context["inconsistent"] = row.get("inconsistent_overlaps", 0)
                        causes[c] += 1
                        if c in ("identical", "tcpflow-frame-padding", "gap-fill"):
                            continue
                        if rows is None:
                            rows = tshark_rows(cap)
                        why = explain(c, key, rows, row.get("gaps", []), context)
                        reasons[(c, why)] += 1
                        if len(examples[(c, why)]) < args.show:
                            examples[(c, why)].append(f"{rel} {key}: {len(x)} vs {len(y)} bytes")
                    continue
                causes[cause] += count
                if rows is None:
                    rows = tshark_rows(cap)
                why = explain(cause, key, rows, [], context)
                reasons[(cause, why)] += count
                if len(examples[(cause, why)]) < args.show:
                    examples[(cause, why)].append(f"{rel} {key}: flowscope {len(a)} stream(s), tcpflow {len(b)}")
    total = sum(causes.values())
    print(f"captures with TCP payload: {captures}")
    print(f"streams compared:          {total}")
    for cause, n in causes.most_common():
        print(f"  {cause:<20} {n:6}  ({100.0 * n / max(total, 1):.1f} %)")
    print("differences by cause and reason (from the capture's packets, via tshark):")
    for (cause, why), n in reasons.most_common():
        print(f"  {n:6}  {cause}: {why}")
        for e in examples[(cause, why)]:
            print(f"            e.g. {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
