#!/usr/bin/env python3
"""Compares flowscope's records of one app-layer protocol with Suricata 7's
on corpus captures, for any protocol (`ssh`, `smtp`, ...).

Runs `suricata -r FILE -k none -S /dev/null --runmode single` and
`flowscope replay -q FILE` on each capture and keeps the captures where
Suricata writes records of `event_type == PROTO`. Records are paired by
flow (protocol and the two endpoints, either way round) and, within a flow,
by order. Compared, per capture and in total:

  * records matched      Suricata's PROTO records that flowscope also
                         wrote for the same flow (and the records each tool
                         wrote that the other did not)
  * order equal          captures whose paired records come in the same
                         order in both outputs
  * field F equal        for every leaf of Suricata's record (a nested key
                         path: `ssh.client.proto_version`; an array is one
                         leaf), the share of paired records where flowscope
                         writes the same value; the envelope (timestamp,
                         flow_id, pcap_cnt, pkt_src, endpoints, event_type)
                         is not compared
  * app_proto equal      flows whose `flow` record Suricata gives
                         `app_proto == PROTO`, where flowscope's agrees
                         (and, for information, over every flow Suricata
                         gives any app_proto but `failed`: in the captures
                         compared, and in every capture tried, with the
                         differing pairs counted — with --all, the whole
                         corpus's app_proto agreement)

With --event-type TYPE, the records compared are those of event_type TYPE
on flows whose `flow` record (in the same tool's output) has
`app_proto == PROTO`: Suricata writes HTTP/2 streams as `http` records, so
`http2 --event-type http` compares them and leaves HTTP/1 ones out.

Which leaves are compared comes from Suricata's records themselves, so the
script needs nothing per protocol but, for some, Suricata settings that
turn optional fields on (SETTINGS below: HASSH for ssh; more with --set).

With --no-records, PROTO is one Suricata names flows with but writes no
record for (`ntp`): only `app_proto` is compared, on every capture tried.

Usage: suricata_compare.py PROTO [CAPTURE ...] [--bin PATH] [--corpus DIR]
         [--event-type TYPE] [--set KEY=VALUE ...] [--all] [--min-matched PCT]
         [--min-fields PCT] [--min-app-proto PCT] [--no-records] [--verbose]

CAPTUREs are corpus-relative or paths. Without them, the corpus manifest's
captures whose description names PROTO are tried (--all: every capture of
the manifest, slow). Exit 1 when a figure is below its --min-* threshold
(default 0: report only), or when Suricata, flowscope or the corpus is
missing.
"""
import argparse
import collections
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Suricata settings that make it write a protocol's optional fields.
SETTINGS = {
    "ssh": ["app-layer.protocols.ssh.hassh=yes"],
    # The extended DHCP log (eve-log type 21 in Suricata 7's suricata.yaml).
    "dhcp": ["outputs.1.eve-log.types.21.dhcp.extended=yes"],
    # MQTT passwords off, as flowscope's default (Suricata 7's packaged
    # suricata.yaml, whose `mqtt` entry has no options, writes them).
    "mqtt": ["outputs.1.eve-log.types.23.mqtt.passwords=no"],
    # The PostgreSQL parser and its log, both off in Suricata 7's
    # suricata.yaml (eve-log type 25); passwords stay out, as flowscope's
    # default.
    "pgsql": ["app-layer.protocols.pgsql.enabled=yes",
              "outputs.1.eve-log.types.25.pgsql.enabled=yes"],
    # Modbus: its parser off in Suricata 7's suricata.yaml and its logger
    # not in the eve-log list (added as type 28).
    "modbus": ["app-layer.protocols.modbus.enabled=yes",
               "outputs.1.eve-log.types.28=modbus"],
    # DNP3: its parser off in Suricata 7's suricata.yaml and its logger
    # commented out of the eve-log list (added as type 28).
    "dnp3": ["app-layer.protocols.dnp3.enabled=yes",
             "outputs.1.eve-log.types.28=dnp3"],
}

# The app_proto of flows whose records have another event_type name.
APP_PROTO = {
    "ftp_data": "ftp-data",
}

# Keys of the record envelope: the pairing key or known to differ by design.
ENVELOPE = {"timestamp", "flow_id", "parent_id", "pcap_cnt", "pkt_src", "event_type",
            "src_ip", "src_port", "dest_ip", "dest_port", "proto", "in_iface",
            "community_id", "pcap_filename"}


def read_jsonl(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def suricata(path, settings):
    with tempfile.TemporaryDirectory(prefix="suricata-compare-") as d:
        cmd = ["suricata", "-r", path, "-k", "none", "-S", "/dev/null",
               "--runmode", "single", "-l", d]
        for s in settings:
            cmd += ["--set", s]
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        try:
            with open(os.path.join(d, "eve.json"), encoding="utf-8", errors="replace") as f:
                return read_jsonl(f.read())
        except OSError:
            return []


def flowscope(binary, path):
    p = subprocess.run([binary, "replay", "-q", path], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, check=False)
    return read_jsonl(p.stdout.decode("utf-8", "replace"))


def ip(s):
    try:
        return ipaddress.ip_address(s).compressed
    except ValueError:
        return str(s)


def flow_key(r):
    ends = sorted([(ip(r.get("src_ip")), r.get("src_port") or 0),
                   (ip(r.get("dest_ip")), r.get("dest_port") or 0)])
    return (str(r.get("proto")).upper(), tuple(ends))


def by_flow(records, event_type, app_proto=None):
    """Records of `event_type` in output order, with their flow key and
    their index among that flow's; with `app_proto`, only those of flows
    whose `flow` record has that app_proto."""
    flows = None
    if app_proto is not None:
        flows = {flow_key(r) for r in records
                 if r.get("event_type") == "flow" and r.get("app_proto") == app_proto}
    seen = collections.Counter()
    out = []
    for r in records:
        if r.get("event_type") != event_type:
            continue
        k = flow_key(r)
        if flows is not None and k not in flows:
            continue
        out.append(((k, seen[k]), r))
        seen[k] += 1
    return out


def leaves(v, path=""):
    if isinstance(v, dict):
        for k, x in v.items():
            if not path and k in ENVELOPE:
                continue
            yield from leaves(x, f"{path}.{k}" if path else k)
    else:
        yield path, v


def unordered(path, rec):
    """Fields whose order Suricata leaves to chance, compared as multisets:
    IKEv1's payload types (Suricata keeps them in a hash set)."""
    return path == "ike.payload" and "ikev1" in (rec.get("ike") or {})


def lookup(r, path):
    for k in path.split("."):
        if not isinstance(r, dict) or k not in r:
            return None, False
        r = r[k]
    return r, True


class Tally:
    def __init__(self):
        self.matched = self.suri = self.only_suri = self.only_fs = 0
        self.order_equal = self.captures = 0
        self.fields = collections.defaultdict(lambda: [0, 0])  # path -> [equal, total]
        self.app = [0, 0]
        self.app_any = [0, 0]
        self.diffs = []

    def add(self, o):
        for a in ("matched", "suri", "only_suri", "only_fs", "order_equal", "captures"):
            setattr(self, a, getattr(self, a) + getattr(o, a))
        for k, (e, t) in o.fields.items():
            self.fields[k][0] += e
            self.fields[k][1] += t
        for a in ("app", "app_any"):
            getattr(self, a)[0] += getattr(o, a)[0]
            getattr(self, a)[1] += getattr(o, a)[1]
        self.diffs += o.diffs


def pct(a, b):
    return 100.0 * a / b if b else 100.0


def compare(proto, name, sur, fs, event_type=None):
    t = Tally()
    t.captures = 1
    if event_type is None:
        s_recs, f_recs = by_flow(sur, proto), by_flow(fs, proto)
    else:
        s_recs, f_recs = by_flow(sur, event_type, proto), by_flow(fs, event_type, proto)
    f_map = dict(f_recs)
    s_keys = {k for k, _ in s_recs}
    t.suri = len(s_recs)
    for k, r in s_recs:
        mine = f_map.get(k)
        if mine is None:
            t.only_suri += 1
            t.diffs.append(f"{name}: {k[0]} #{k[1]}: only Suricata writes {proto}")
            continue
        t.matched += 1
        for path, want in leaves(r):
            got, present = lookup(mine, path)
            equal = present and got == want
            if present and not equal and unordered(path, r) and isinstance(got, list) and isinstance(want, list):
                equal = sorted(map(str, got)) == sorted(map(str, want))
            t.fields[path][0] += equal
            t.fields[path][1] += 1
            if not equal:
                shown = got if present else "(absent)"
                t.diffs.append(f"{name}: {k[0]} #{k[1]}: {path}: Suricata {want!r}, flowscope {shown!r}")
    only_fs = [k for k, _ in f_recs if k not in s_keys]
    t.only_fs = len(only_fs)
    for k in only_fs:
        t.diffs.append(f"{name}: {k[0]} #{k[1]}: only flowscope writes {proto}")
    paired_s = [k for k, _ in s_recs if k in f_map]
    paired_f = [k for k, _ in f_recs if k in s_keys]
    t.order_equal = int(paired_s == paired_f)
    # app_proto on the flow records.
    for k, want, got in app_proto_pairs(sur, fs):
        t.app_any[0] += got == want
        t.app_any[1] += 1
        if want == APP_PROTO.get(proto, proto):
            t.app[0] += got == want
            t.app[1] += 1
            if got != want:
                t.diffs.append(f"{name}: {k[0]} #{k[1]}: app_proto Suricata {want!r}, flowscope {got!r}")
    return t


class Every:
    """app_proto agreement on every capture tried, whether or not it has
    records of the protocol compared."""

    def __init__(self, proto):
        self.proto = proto
        self.tried = self.equal = self.flows = 0
        # Flows Suricata names `proto`, and those flowscope names so too.
        self.proto_equal = self.proto_flows = 0
        self.differ = collections.Counter()
        self.where = collections.defaultdict(list)


def app_proto_pairs(sur, fs):
    """(flow, Suricata's app_proto, flowscope's) for every flow Suricata
    gives an app_proto other than `failed` (flows paired by protocol,
    endpoints and order, as the records are)."""
    f_flows = dict(by_flow(fs, "flow"))
    for k, r in by_flow(sur, "flow"):
        want = r.get("app_proto")
        if want and want != "failed":
            yield k, want, (f_flows.get(k) or {}).get("app_proto")


def app_protos(sur, fs, every, name):
    """Counts the flows of `app_proto_pairs` and those that agree, and
    keeps where the others are (capture `name` and flow)."""
    for k, want, got in app_proto_pairs(sur, fs):
        every.flows += 1
        if want == every.proto:
            every.proto_flows += 1
            every.proto_equal += got == want
        if got == want:
            every.equal += 1
        else:
            every.differ[(want, got)] += 1
            every.where[(want, got)].append(f"{name}: {k[0]} #{k[1]}")


def report(proto, label, t, out):
    out.append(f"{label}: {proto} records matched {t.matched}/{t.suri} = {pct(t.matched, t.suri):.1f} %"
               f" (only Suricata {t.only_suri}, only flowscope {t.only_fs})")


def candidates(args, corpus):
    if args.captures:
        return [c if os.path.isabs(c) or not os.path.exists(os.path.join(corpus, c))
                else os.path.join(corpus, c) for c in args.captures]
    manifest = os.path.join(corpus, "MANIFEST.tsv")
    files = []
    with open(manifest, encoding="utf-8") as f:
        next(f, None)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 9:
                continue
            if args.all or args.proto.lower() in cols[8].lower() or args.proto.lower() in cols[0].lower():
                files.append(os.path.join(corpus, cols[0]))
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("proto")
    ap.add_argument("captures", nargs="*")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "flowscope"))
    ap.add_argument("--corpus", default=os.environ.get(
        "FLOWSCOPE_CORPUS", os.path.join(ROOT, "..", "shared", "corpus")))
    ap.add_argument("--event-type", default=None,
                    help="compare records of this event_type on flows of app_proto PROTO")
    ap.add_argument("--set", action="append", default=[], dest="settings")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--min-matched", type=float, default=0.0)
    ap.add_argument("--min-fields", type=float, default=0.0)
    ap.add_argument("--min-app-proto", type=float, default=0.0)
    ap.add_argument("--verbose", action="store_true", help="print every difference")
    ap.add_argument("--no-records", action="store_true",
                    help="the protocol has no record (Suricata names its flows and logs nothing): "
                         "app_proto is compared on every capture tried")
    args = ap.parse_intermixed_args()

    if shutil.which("suricata") is None:
        print("suricata is not installed")
        return 1
    if not os.access(args.bin, os.X_OK):
        print(f"no flowscope binary at {args.bin}")
        return 1
    if not args.captures and not os.path.exists(os.path.join(args.corpus, "MANIFEST.tsv")):
        print(f"no corpus at {args.corpus}")
        return 1
    settings = SETTINGS.get(args.proto, []) + args.settings

    total = Tally()
    every = Every(args.proto)
    out = []
    for path in candidates(args, args.corpus):
        if not os.path.exists(path):
            print(f"missing capture {path}")
            return 1
        sur = suricata(path, settings)
        name = os.path.relpath(path, args.corpus) if path.startswith(args.corpus) else path
        fs = flowscope(args.bin, path)
        every.tried += 1
        app_protos(sur, fs, every, name)
        if not by_flow(sur, args.event_type or args.proto,
                       args.proto if args.event_type else None):
            continue
        t = compare(args.proto, name, sur, fs, args.event_type)
        report(args.proto, name, t, out)
        total.add(t)
    print(f"Suricata settings: {' '.join(settings) or '(defaults)'}")
    print("\n".join(out))
    print(f"captures with {args.proto} records: {total.captures}")
    print(f"{args.proto} records matched {total.matched}/{total.suri} = {pct(total.matched, total.suri):.1f} %")
    print(f"{args.proto} records only Suricata {total.only_suri}, only flowscope {total.only_fs}")
    print(f"{args.proto} order equal {total.order_equal}/{total.captures} captures"
          f" = {pct(total.order_equal, total.captures):.1f} %")
    worst = 100.0
    for path in sorted(total.fields):
        e, n = total.fields[path]
        worst = min(worst, pct(e, n))
        print(f"field {path} equal {e}/{n} = {pct(e, n):.1f} %")
    print(f"{args.proto} fields equal (worst field) = {worst:.1f} %")
    print(f"app_proto {args.proto} equal {total.app[0]}/{total.app[1]} = {pct(*total.app):.1f} %")
    print(f"app_proto any equal {total.app_any[0]}/{total.app_any[1]} = {pct(*total.app_any):.1f} %")
    print(f"app_proto any equal over every capture tried ({every.tried}):"
          f" {every.equal}/{every.flows} = {pct(every.equal, every.flows):.1f} %")
    print(f"app_proto {args.proto} equal over every capture tried:"
          f" {every.proto_equal}/{every.proto_flows} = {pct(every.proto_equal, every.proto_flows):.1f} %")
    for (want, got), n in every.differ.most_common(None if args.verbose else 12):
        print(f"  app_proto Suricata {want!r}, flowscope {got!r}: {n} flows")
        if args.verbose:
            print("\n".join(f"    {w}" for w in every.where[(want, got)]))
    diffs = total.diffs if args.verbose else total.diffs[:40]
    if diffs:
        print("differences:")
        print("\n".join(f"  {d}" for d in diffs))
        if len(total.diffs) > len(diffs):
            print(f"  ... {len(total.diffs) - len(diffs)} more (--verbose)")
    failed = [(label, got, need) for label, got, need in [
        ("records matched", pct(total.matched, total.suri), args.min_matched),
        ("fields equal", worst, args.min_fields),
        ("app_proto equal", pct(*total.app), args.min_app_proto),
    ] if got < need]
    for label, got, need in failed:
        print(f"BELOW THRESHOLD: {label} {got:.1f} % < {need:.1f} %")
    if args.no_records:
        if every.proto_flows == 0:
            print(f"no flow Suricata names {args.proto}")
            return 1
        below = pct(every.proto_equal, every.proto_flows) < args.min_app_proto
        return 1 if below or failed else 0
    if total.captures == 0:
        print(f"no capture with Suricata {args.proto} records")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
