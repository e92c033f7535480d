#!/usr/bin/env python3
"""Check flowscope's EVE records against Suricata's EVE JSON schema, field by
field, and compare the values of the fields both tools write.

For each capture this runs

    flowscope replay -q FILE            (--bin, the binary to check)
    suricata -r FILE -k none -l TMP     (with --suricata; community-id on)

Schema check: every `flow`, `dns`, `http` and `anomaly` record flowscope
writes is cut down to the fields the schema knows (object members the
schema does not name are dropped, recursively: flowscope's own extra
fields such as `flow.conn_state` are not judged) and validated against the
schema with Python's `jsonschema`. A record passes when every field it
shares with the schema has the schema's type and pattern. Failures are
counted by field path.

Value check (with --suricata): records are paired by event type and key
(flow: protocol, endpoints and start time; dns: endpoints, type, id, name;
http: endpoints and tx_id), and each field both records hold is compared;
agreement is counted per field path (fields under `answers`/`authorities`
arrays are compared as whole arrays).

Usage: scripts/eve_schema_check.py --schema FILE [--bin PATH]
           [--suricata PATH] [--corpus DIR] [--verbose] CAPTURE...
CAPTURE paths are relative to the corpus (../shared/corpus by default, or
FLOWSCOPE_CORPUS). Exit status 0; 1 when a tool or a file is missing.
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TYPES = ("flow", "dns", "http", "anomaly")


def project(value, schema, defs):
    """`value` cut down to what `schema` names (None when nothing is left)."""
    if "$ref" in schema:
        schema = defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if isinstance(value, dict) and "properties" in schema:
        out = {}
        for k, v in value.items():
            sub = schema["properties"].get(k)
            if sub is None:
                continue
            p = project(v, sub, defs)
            if p is not None:
                out[k] = p
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [project(v, schema["items"], defs) for v in value]
    return value


def records(lines):
    for line in lines:
        line = line.strip()
        if line:
            yield json.loads(line)


def run_flowscope(binary, path):
    out = subprocess.run([binary, "replay", "-q", path], capture_output=True, check=False)
    return list(records(out.stdout.decode("utf-8", "replace").splitlines()))


def run_suricata(binary, path):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [binary, "-r", path, "-k", "none", "-l", tmp, "--runmode", "single",
             "--set", "outputs.1.eve-log.community-id=true"],
            capture_output=True, check=False)
        eve = os.path.join(tmp, "eve.json")
        if not os.path.exists(eve):
            return []
        with open(eve, encoding="utf-8", errors="replace") as f:
            return list(records(f))


def pair_key(r):
    t = r.get("event_type")
    ends = (r.get("proto"), r.get("src_ip"), r.get("src_port"), r.get("dest_ip"),
            r.get("dest_port"))
    if t == "flow":
        return (t, ends, r.get("flow", {}).get("start"))
    if t == "dns":
        d = r.get("dns", {})
        return (t, ends, d.get("type"), d.get("id"), d.get("rrname"))
    if t == "http":
        return (t, ends, r.get("tx_id"))
    return None


def compare(ours, theirs, prefix, counts):
    for k, v in ours.items():
        if k not in theirs:
            continue
        path = f"{prefix}.{k}" if prefix else k
        w = theirs[k]
        if isinstance(v, dict) and isinstance(w, dict):
            compare(v, w, path, counts)
        else:
            counts[path][0 if v == w else 1] += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schema", required=True)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "flowscope"))
    ap.add_argument("--suricata")
    ap.add_argument("--corpus", default=os.environ.get(
        "FLOWSCOPE_CORPUS", os.path.join(ROOT, "..", "shared", "corpus")))
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("captures", nargs="+")
    args = ap.parse_args()
    try:
        import jsonschema
    except ImportError:
        print("needs Python's jsonschema", file=sys.stderr)
        return 1
    if not os.access(args.bin, os.X_OK):
        print(f"no flowscope binary at {args.bin}", file=sys.stderr)
        return 1
    if args.suricata and not shutil.which(args.suricata):
        print(f"no Suricata at {args.suricata}", file=sys.stderr)
        return 1
    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    defs = schema.get("$defs", {})
    validator = jsonschema.validators.validator_for(schema)(schema)

    passed = collections.Counter()
    total = collections.Counter()
    failures = collections.Counter()
    agree = collections.defaultdict(lambda: [0, 0])
    examples = {}
    for rel in args.captures:
        path = os.path.join(args.corpus, rel)
        if not os.path.exists(path):
            print(f"missing capture {path}", file=sys.stderr)
            return 1
        ours = [r for r in run_flowscope(args.bin, path) if r.get("event_type") in TYPES]
        file_pass = 0
        for r in ours:
            t = r["event_type"]
            total[t] += 1
            errors = list(validator.iter_errors(project(r, schema, defs)))
            if not errors:
                passed[t] += 1
                file_pass += 1
            for e in errors:
                where = ".".join(str(p) for p in e.absolute_path if not isinstance(p, int))
                failures[(t, where or "(record)")] += 1
                examples.setdefault((t, where), e.message[:120])
        line = f"{rel}: {file_pass}/{len(ours)} records pass"
        if args.suricata:
            theirs = {}
            for r in run_suricata(args.suricata, path):
                k = pair_key(r)
                if k is not None:
                    theirs.setdefault(k, []).append(r)
            paired = 0
            for r in ours:
                # Records with the same key (a repeated query) pair in order.
                same = theirs.get(pair_key(r))
                if same:
                    paired += 1
                    compare(r, same.pop(0), "", agree)
            line += f", {paired} paired with Suricata's"
        print(line)
    print()
    for t in TYPES:
        if total[t]:
            print(f"{t}: {passed[t]}/{total[t]} records' shared fields match the schema")
    if failures:
        print("\nschema failures by field:")
        for (t, where), n in failures.most_common():
            print(f"  {t} {where}: {n}  ({examples[(t, where)]})")
    if agree:
        print("\nvalues of shared fields, paired records (agree/differ):")
        for path, (a, d) in sorted(agree.items()):
            if d or args.verbose:
                print(f"  {path}: {a}/{d}")
        same = sorted(p for p, (a, d) in agree.items() if not d)
        print(f"  all agree: {len(same)} fields" + (f" ({', '.join(same)})" if args.verbose else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
