#!/usr/bin/env python3
"""Evaluate suricata-verify's EVE checks on flowscope's output.

Every `<test>/test.yaml` under the corpus's suricata-verify folder lists
checks over Suricata's EVE output, e.g.

    - filter: {count: 1, match: {event_type: http, http.hostname: example.com}}

This script replays each test's pcap with `flowscope replay` and evaluates
every `filter` check strictly: a check is applicable unless it needs a
capability flowscope does not have at all, and an applicable check fails
when flowscope's records lack a field it matches — also a field of a
record type flowscope writes. Not applicable, each with its reason:

- alerts and rule matching: `event_type: alert`, fields only an alert sets
  (`flow.alerted: true`, `alert.*`);
- IPS: `event_type: drop`, `flow.action`, `stats.ips.*`,
  `stats.exception_policy.*`;
- file extraction: `event_type: fileinfo`, `fileinfo.*`,
  `stats.file_store.*`;
- record types flowscope does not write (`ssh`, `dcerpc`...);
- checks restricted to another Suricata major version (a filter's
  `requires: min-version: 8`: flowscope's records follow Suricata 7's
  layout; a test-level `requires` does not make its checks n/a);
- checks of an EVE output of the test's own that is more than `eve.json`
  restricted by event type (the test's suricata.yaml filters DNS records
  by type or direction, for instance); one that only restricts event types
  is evaluated on flowscope's records of those types, and so is `eve.json`
  when the test's suricata.yaml restricts its types;
- checks that are not `filter` checks.

flowscope runs with HTTP headers and the TLS client_handshake object on, as
the tests that check them enable them in their suricata.yaml.

Prints pass / FAIL / n/a (with the reason) per check, the n/a reasons
counted, and the totals; --failures-only prints just the failures and the
totals.

Usage: scripts/suricata-verify.py [--corpus DIR] [--bin PATH] [--failures-only]
Exit status: 0; 1 when the corpus or the binary is missing.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:  # Debian: python3-yaml
    print("python3-yaml is needed (apt-get install python3-yaml)", file=sys.stderr)
    sys.exit(1)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The record types flowscope writes.
EMITTED = {"flow", "http", "dns", "tls", "quic", "anomaly", "stats"}
# Capabilities flowscope does not have, by the event type that needs them.
MISSING_TYPES = {
    "alert": "alerts (rule matching)",
    "drop": "IPS (drop records)",
    "fileinfo": "file extraction",
}
# Capabilities flowscope does not have, by field (a prefix of the
# suricata-verify path, or a (path, value) pair that only it can produce).
MISSING_FIELDS = [
    ("alert.", "alerts (rule matching)"),
    ("drop.", "IPS (drop records)"),
    ("flow.action", "IPS (flow.action)"),
    ("stats.ips.", "IPS (stats.ips)"),
    ("stats.exception_policy.", "IPS (stats.exception_policy)"),
    ("fileinfo.", "file extraction"),
    ("stats.file_store.", "file extraction (stats.file_store)"),
]
# Fields with this value only an alert sets.
ALERT_ONLY = {("flow.alerted", True)}
# eve-log type options that filter records within a type (the rest change
# what a record holds, or nothing).
FILTERING_OPTIONS = {
    "dns": {"types", "requests", "responses", "query", "answer"},
    "anomaly": {"types"},
    "drop": {"alerts", "flows"},
}
# eve-log type names that differ from the event_type they write.
TYPE_EVENT = {"files": "fileinfo"}
CONFIG = """\
[parsers.http]
headers = true
[output]
tls_client_handshake = true
"""
# flowscope's records follow this Suricata major version.
AS_VERSION = 7


def lookup(rec, path):
    """The value at a suricata-verify path, or a KeyError."""
    cur = rec
    for part in path.split("."):
        m = re.fullmatch(r"([^\[]+)((?:\[\d+\])*)", part)
        if not m:
            raise KeyError(path)
        name, idx = m.group(1), m.group(2)
        if name == "__len":
            return len(cur)
        cur = cur[name]
        for i in re.findall(r"\[(\d+)\]", idx):
            cur = cur[int(i)]
    return cur


def matches(rec, match):
    for k, want in match.items():
        if k == "not-has-key":
            try:
                lookup(rec, want)
                return False
            except (KeyError, IndexError, TypeError):
                continue
        if k == "has-key":
            try:
                lookup(rec, want)
                continue
            except (KeyError, IndexError, TypeError):
                return False
        try:
            got = lookup(rec, k)
        except (KeyError, IndexError, TypeError):
            return False
        if isinstance(want, (int, float)) and not isinstance(want, bool) and isinstance(got, str):
            try:
                got = type(want)(got)
            except ValueError:
                return False
        if got != want and str(got) != str(want):
            return False
    return True


def major(v):
    return int(str(v).split(".")[0])


def eve_outputs(test_dir):
    """{filename: [(type name, options)]} of the test's suricata.yaml
    eve-log outputs; None without a suricata.yaml (Suricata's default
    configuration: eve.json with every type)."""
    path = os.path.join(test_dir, "suricata.yaml")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        conf = yaml.safe_load(f) or {}
    outputs = {}
    for out in conf.get("outputs") or []:
        eve = out.get("eve-log") if isinstance(out, dict) else None
        if not eve or eve.get("enabled") in (False, "no"):
            continue
        types = []
        for t in eve.get("types") or []:
            if isinstance(t, dict):
                for name, opts in t.items():
                    types.append((name, opts or {}))
            else:
                types.append((t, {}))
        outputs[eve.get("filename") or "eve.json"] = types
    return outputs


def output_types(outputs, filename):
    """(event types the output holds or None for all, why it cannot be
    evaluated or None)."""
    if outputs is None or filename not in outputs:
        if filename == "eve.json":
            return None, None
        return None, "output %s is not in the test's suricata.yaml" % filename
    events = set()
    for name, opts in outputs[filename]:
        filtering = FILTERING_OPTIONS.get(name, set()) & set(opts)
        if isinstance(opts, dict) and opts.get("enabled") in (False, "no"):
            continue
        if filtering and filename != "eve.json":
            return None, "output %s filters %s records by %s" % (
                filename, name, ", ".join(sorted(filtering)))
        if name == "dns" and major(opts.get("version", 2)) != 2:
            return None, "output %s writes DNS records of version %s" % (filename, opts["version"])
        events.add(TYPE_EVENT.get(name, name))
    return events, None


def needs(path, value):
    """The missing capability a matched field needs, or None."""
    if any(path == p and value == v for p, v in ALERT_ONLY):
        return "alerts (%s: %s)" % (path, json.dumps(value))
    for prefix, why in MISSING_FIELDS:
        if path == prefix.rstrip(".") or path.startswith(prefix):
            return why
    return None


def applicable(check, outputs):
    """(event types to keep or None, None) when the check can be evaluated,
    else (None, why not)."""
    f = check.get("filter")
    if f is None:
        return None, "not a filter check (%s)" % ", ".join(sorted(check))
    req = f.get("requires") or {}
    if "min-version" in req and major(req["min-version"]) > AS_VERSION:
        return None, "Suricata %s only" % req["min-version"]
    if "lt-version" in req and major(req["lt-version"]) <= AS_VERSION:
        return None, "before Suricata %s only" % req["lt-version"]
    if req.get("features"):
        return None, "needs Suricata build features %s" % req["features"]
    match = f.get("match") or {}
    et = match.get("event_type")
    if et in MISSING_TYPES:
        return None, MISSING_TYPES[et]
    if et is not None and et not in EMITTED:
        return None, "event_type %s not written by flowscope" % et
    for k, v in match.items():
        path, value = (v, None) if k in ("has-key", "not-has-key") else (k, v)
        why = needs(path, value)
        if why:
            return None, why
    if "count" not in f:
        return None, "no count"
    types, why = output_types(outputs, f.get("filename", "eve.json"))
    if why:
        return None, why
    if types is not None and et is not None and et not in types:
        return None, "event_type %s not in output %s" % (et, f.get("filename", "eve.json"))
    return types, None


def find_pcap(test_dir, test):
    if test.get("pcap"):
        p = os.path.join(test_dir, test["pcap"])
        return p if os.path.exists(p) else None
    for name in sorted(os.listdir(test_dir)):
        if name.endswith((".pcap", ".pcapng")):
            return os.path.join(test_dir, name)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=os.environ.get(
        "FLOWSCOPE_CORPUS", os.path.join(ROOT, "..", "shared", "corpus")))
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "flowscope"))
    ap.add_argument("--failures-only", action="store_true")
    args = ap.parse_args()
    base = os.path.join(args.corpus, "suricata-verify")
    if not os.path.isdir(base):
        print(f"CORPUS MISSING: {base}", file=sys.stderr)
        return 1
    if not os.path.exists(args.bin):
        print(f"binary missing: {args.bin} (cargo build --release)", file=sys.stderr)
        return 1
    totals = {"pass": 0, "fail": 0, "n/a": 0}
    reasons = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "flowscope.toml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        tests = sorted(os.path.dirname(os.path.join(r, "test.yaml"))
                       for r, _, files in os.walk(base) if "test.yaml" in files)
        for test_dir in tests:
            name = os.path.relpath(test_dir, base)
            with open(os.path.join(test_dir, "test.yaml")) as f:
                test = yaml.safe_load(f) or {}
            pcap = find_pcap(test_dir, test)
            outputs = eve_outputs(test_dir)
            records = None
            for i, check in enumerate(test.get("checks") or []):
                types, why = applicable(check, outputs)
                if why is None and pcap is None:
                    why = "no pcap"
                if why is not None:
                    totals["n/a"] += 1
                    reasons[re.sub(r"\S+\.json", "FILE", why)] += 1
                    if not args.failures_only:
                        print(f"n/a   {name} #{i}: {why}")
                    continue
                if records is None:
                    out = subprocess.run([args.bin, "replay", "-q", "-c", cfg, pcap],
                                         capture_output=True, timeout=300)
                    records = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
                f = check["filter"]
                kept = records if types is None else [
                    r for r in records if r.get("event_type") in types]
                n = sum(1 for r in kept if matches(r, f.get("match") or {}))
                ok = n == f["count"]
                totals["pass" if ok else "fail"] += 1
                desc = json.dumps(f.get("match"), sort_keys=True)
                where = "" if f.get("filename", "eve.json") == "eve.json" else f" in {f['filename']}"
                if not ok or not args.failures_only:
                    print(f"{'pass' if ok else 'FAIL'}  {name} #{i}: count {n}/{f['count']}{where} {desc}")
    if not args.failures_only:
        print("not applicable, by reason:")
        for why, n in sorted(reasons.items(), key=lambda x: (-x[1], x[0])):
            print(f"  {n:4d}  {why}")
    evaluated = totals["pass"] + totals["fail"]
    share = 100.0 * totals["pass"] / evaluated if evaluated else 0.0
    print(f"checks: {totals['pass']} pass, {totals['fail']} fail, {totals['n/a']} not applicable; "
          f"{share:.1f} % of the applicable checks pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
