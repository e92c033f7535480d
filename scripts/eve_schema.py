#!/usr/bin/env python3
"""flowscope's EVE JSON Schema (io/schema/flowscope-eve.json): list the
fields flowscope writes, draft the schema from them, validate flowscope's
records against it, and check its Suricata markers.

Subcommands:

  paths [OPTIONS] CAPTURE...
      Runs `flowscope replay -q` over the captures and prints every key
      path written (`dns.answers[].rrname`: `[]` stands for array items),
      with the JSON types seen and how many records held it.

  draft --suricata SURICATA.json [--keep SCHEMA] [OPTIONS] CAPTURE...
      Prints a first draft of the schema built from those paths: every
      object closed (`additionalProperties: false`); a path Suricata's
      schema also has gets Suricata's type and pattern and
      `"x-suricata": true`, any other the type seen and `"x-suricata":
      false`. `--keep` carries descriptions and hand-made parts over from
      an existing schema.

  check --schema SCHEMA [OPTIONS] CAPTURE...
      Validates every record flowscope writes on the captures against
      SCHEMA with Python's `jsonschema` (the validator of the schema's
      dialect, Draft 2020-12 unless `$schema` names another); prints the
      violations grouped by field path and `records: N, violations: M`.
      Exit 1 when M > 0.

  consistency --suricata SURICATA.json [--schema SCHEMA]
      Every property marked `"x-suricata": true` exists at the same path in
      Suricata's schema with the same type and pattern; every one marked
      false does not exist there (a Suricata name in flowscope's own form
      is an error). Exit 1 otherwise.

OPTIONS (paths, draft, check):
  --bin PATH       flowscope binary (default target/release/flowscope)
  --corpus DIR     captures are relative to it ($FLOWSCOPE_CORPUS or
                   ../shared/corpus)
  --manifest       every capture listed in the corpus's MANIFEST.tsv
  --config FILE    also replay with `--config FILE` (opt-in fields); may be
                   repeated; `check` then runs only the configs given
  --jobs N         captures replayed at once (default 2)

Exit status 1 also when a tool (flowscope, jsonschema) or a file is
missing.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_SCHEMA = os.path.join(ROOT, "io", "schema", "flowscope-eve.json")
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def new_shape():
    return {"types": collections.Counter(), "props": {}, "items": None}


def add_value(shape, v):
    """Merges value `v` into `shape` (types seen, members, array items)."""
    shape["types"][json_type(v)] += 1
    if isinstance(v, dict):
        for k, x in v.items():
            add_value(shape["props"].setdefault(k, new_shape()), x)
    elif isinstance(v, list):
        for x in v:
            if shape["items"] is None:
                shape["items"] = new_shape()
            add_value(shape["items"], x)


def merge_shape(a, b):
    a["types"].update(b["types"])
    for k, v in b["props"].items():
        if k in a["props"]:
            merge_shape(a["props"][k], v)
        else:
            a["props"][k] = v
    if b["items"] is not None:
        if a["items"] is None:
            a["items"] = b["items"]
        else:
            merge_shape(a["items"], b["items"])


def key_text(k):
    """A member name in a path: quoted when it holds `.` or brackets."""
    return json.dumps(k) if re.search(r"[.\[\]\"]", k) else k


def shape_paths(shape, path=(), out=None):
    """(path parts, shape) for every node; `[]` stands for array items."""
    out = [] if out is None else out
    out.append((path, shape))
    for k in sorted(shape["props"]):
        shape_paths(shape["props"][k], path + (k,), out)
    if shape["items"] is not None:
        shape_paths(shape["items"], path + ("[]",), out)
    return out


def path_text(parts):
    text = ""
    for p in parts:
        text += "[]" if p == "[]" else ("." if text else "") + key_text(p)
    return text


def replay(binary, path, config):
    """flowscope's records on one capture (stdout only: a damaged capture
    still has its records checked)."""
    cmd = [binary, "replay", "-q"]
    if config:
        cmd += ["--config", config]
    out = subprocess.run(cmd + [path], capture_output=True, check=False)
    text = out.stdout.decode("utf-8", "replace")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- workers (run in the process pool) -----------------------------------

_STATE = {}


def _paths_worker(job):
    binary, path, config = job
    shape = new_shape()
    for r in replay(binary, path, config):
        add_value(shape, r)
    return shape


def _check_init(schema_path):
    import jsonschema

    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    _STATE["validator"] = cls(schema)


def _error_path(e):
    """The field path of a violation; for an unknown member, the member's."""
    parts = []
    for p in e.absolute_path:
        if isinstance(p, int):
            parts.append("[]")
        else:
            parts.append(("." if parts else "") + str(p))
    where = "".join(parts)
    if e.validator == "additionalProperties" and isinstance(e.instance, dict):
        known = e.schema.get("properties", {})
        pats = [re.compile(p) for p in e.schema.get("patternProperties", {})]
        extra = sorted(k for k in e.instance
                       if k not in known and not any(p.search(k) for p in pats))
        return [(f"{where}.{k}" if where else k, "additionalProperties",
                 f"unknown field {k!r}") for k in extra]
    return [(where or "(record)", e.validator, e.message[:160])]


def _check_worker(job):
    binary, path, config = job
    validator = _STATE["validator"]
    records = replay(binary, path, config)
    found = []
    for r in records:
        for e in validator.iter_errors(r):
            for where, kind, msg in _error_path(e):
                found.append((r.get("event_type", "?"), where, kind, msg))
    return len(records), found


# --- helpers ---------------------------------------------------------------


def captures(args):
    rels = list(args.captures)
    if args.manifest:
        with open(os.path.join(args.corpus, "MANIFEST.tsv"), encoding="utf-8") as f:
            rels += [line.split("\t", 1)[0] for line in list(f)[1:] if line.strip()]
    if not rels:
        sys.exit("no captures given (name some, or --manifest)")
    paths = []
    for rel in rels:
        p = rel if os.path.isabs(rel) else os.path.join(args.corpus, rel)
        if not os.path.exists(p):
            sys.exit(f"missing capture {p}")
        paths.append(p)
    return paths


def need_binary(args):
    if not os.access(args.bin, os.X_OK):
        sys.exit(f"no flowscope binary at {args.bin}")


def run_pool(args, worker, init=None, initargs=(), with_default=False):
    configs = ([None] if with_default or not args.config else []) + (args.config or [])
    jobs = [(args.bin, p, c) for c in configs for p in captures(args)]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs), initializer=init,
                             initargs=initargs) as pool:
        yield from pool.map(worker, jobs, chunksize=4)


def collect_paths(args):
    need_binary(args)
    total = new_shape()
    for shape in run_pool(args, _paths_worker, with_default=True):
        merge_shape(total, shape)
    return total


def resolve(node, root):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"unsupported $ref {ref}")
        target = root
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def lookup(root, parts):
    """The schema node at path `parts` (member names, `[]` for array
    items) of `root`, or None. An array's object items that name no
    member but hold an `items` of their own are read through it: Suricata
    7's schema nests the members of `bittorrent_dht.response.nodes` items
    one level too deep so."""
    node = resolve(root, root)
    for part in parts:
        if part == "[]":
            items = node.get("items")
            if not isinstance(items, dict):
                return None
            node = resolve(items, root)
            inner = node.get("items")
            if "properties" not in node and isinstance(inner, dict):
                node = resolve(inner, root)
        else:
            props = node.get("properties", {})
            if part not in props:
                return None
            node = resolve(props[part], root)
    return node


def merged_type(types):
    ts = set(types)
    if ts == {"integer", "number"}:
        return "number"
    return sorted(ts)[0] if len(ts) == 1 else sorted(ts)


def draft_node(parts, shape, suri, keep, own=False):
    old = lookup(keep, parts) if keep else None
    conflict = (old or {}).get("x-suricata-conflict")
    # A Suricata name written in flowscope's own form (kept from --keep):
    # nothing under it takes Suricata's types.
    own = own or bool(conflict)
    theirs = None if own else lookup(suri, parts)
    node = {"x-suricata-conflict": conflict} if conflict else {}
    if theirs is not None:
        node["type"] = theirs.get("type")
        allowed = set(node["type"]) if isinstance(node["type"], list) else {node["type"]}
        if "number" in allowed:
            allowed.add("integer")
        seen = set(shape["types"])
        if seen - allowed:
            print(f"draft: {path_text(parts)}: flowscope writes {sorted(seen)}, Suricata's "
                  f"schema says {node['type']!r}: fix by hand", file=sys.stderr)
        for k in ("pattern", "format"):
            if k in theirs:
                node[k] = theirs[k]
    else:
        node["type"] = merged_type(shape["types"])
    if parts and parts[-1] != "[]":
        node["description"] = (old or {}).get("description", "TODO")
    if shape["props"] or "object" in shape["types"]:
        props = {}
        patterns = [re.compile(p) for p in ((old or {}).get("patternProperties") or {})]
        for k in sorted(shape["props"]):
            if any(p.search(k) for p in patterns):
                continue
            sub = draft_node(parts + (k,), shape["props"][k], suri, keep, own)
            theirs = not own and lookup(suri, parts + (k,)) is not None
            props[k] = {"x-suricata": theirs and "x-suricata-conflict" not in sub, **sub}
        for k, v in ((old or {}).get("properties") or {}).items():
            props.setdefault(k, v)
        node["properties"] = props
        if old and "patternProperties" in old:
            node["patternProperties"] = old["patternProperties"]
        node["additionalProperties"] = False
    if shape["items"] is not None:
        node["items"] = draft_node(parts + ("[]",), shape["items"], suri, keep, own)
    return node


def walk_schema(node, parts, out, root):
    """(path parts, property schema) for every property under `node`;
    a patternProperties entry is the part `<PATTERN>`."""
    node = resolve(node, root)
    for k, v in (node.get("properties") or {}).items():
        out.append((parts + (k,), v))
        walk_schema(v, parts + (k,), out, root)
    for k, v in (node.get("patternProperties") or {}).items():
        out.append((parts + (f"<{k}>",), v))
        walk_schema(v, parts + (f"<{k}>",), out, root)
    items = node.get("items")
    if isinstance(items, dict):
        walk_schema(items, parts + ("[]",), out, root)


# --- subcommands -------------------------------------------------------------


def cmd_paths(args):
    for parts, shape in shape_paths(collect_paths(args))[1:]:
        types = shape["types"]
        print(f"{path_text(parts)}\t{','.join(sorted(types))}\t{sum(types.values())}")
    return 0


def cmd_draft(args):
    with open(args.suricata, encoding="utf-8") as f:
        suri = json.load(f)
    keep = None
    if args.keep:
        with open(args.keep, encoding="utf-8") as f:
            keep = json.load(f)
    shape = collect_paths(args)
    schema = {"$schema": DIALECT, "$id": "flowscope-eve.json",
              "title": "flowscope EVE records (default profile)"}
    for k in ("description", "$comment"):
        if keep and k in keep:
            schema[k] = keep[k]
    schema.update(draft_node((), shape, suri, keep))
    schema["required"] = ["timestamp", "event_type"]
    json.dump(schema, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


def cmd_check(args):
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        print("needs Python's jsonschema (pip install jsonschema)", file=sys.stderr)
        return 1
    need_binary(args)
    records = 0
    groups = collections.Counter()
    examples = {}
    for n, found in run_pool(args, _check_worker, _check_init, (args.schema,)):
        records += n
        for t, where, kind, msg in found:
            groups[(where, kind)] += 1
            examples.setdefault((where, kind), (t, msg))
    if groups:
        print("violations by field path:")
        for (where, kind), n in groups.most_common():
            t, msg = examples[(where, kind)]
            print(f"  {where} [{kind}]: {n}  (e.g. in a {t} record: {msg})")
    violations = sum(groups.values())
    print(f"records: {records}, violations: {violations}")
    return 1 if violations else 0


def cmd_consistency(args):
    with open(args.suricata, encoding="utf-8") as f:
        suri = json.load(f)
    with open(args.schema, encoding="utf-8") as f:
        ours = json.load(f)
    props = []
    walk_schema(ours, (), props, ours)
    problems, marked = [], collections.Counter()
    flags = {}
    for parts, node in props:
        path = path_text(parts)
        mark = node.get("x-suricata")
        named = tuple(p for p in parts if p != "[]")
        flags[named] = mark
        if mark not in (True, False):
            problems.append(f"{path}: no x-suricata marker")
            continue
        marked[mark] += 1
        if mark and flags.get(named[:-1]) is False:
            problems.append(f"{path}: x-suricata true under a flowscope-only object")
        if any(p.startswith("<") for p in parts):
            if mark:
                problems.append(f"{path}: pattern-named members cannot be Suricata's")
            continue
        theirs = lookup(suri, parts)
        if mark:
            if theirs is None:
                problems.append(f"{path}: x-suricata true, but Suricata's schema has no such field")
                continue
            for k in ("type", "pattern", "format"):
                if node.get(k) != theirs.get(k):
                    problems.append(f"{path}: {k} {node.get(k)!r}, Suricata's {theirs.get(k)!r}")
            items = node.get("items")
            their_items = resolve(theirs.get("items") or {}, suri)
            if isinstance(items, dict) and items.get("type") != their_items.get("type"):
                problems.append(f"{path}[]: type {items.get('type')!r}, "
                                f"Suricata's {their_items.get('type')!r}")
        elif theirs is not None:
            # A Suricata name in another form breaks pipelines built for
            # Suricata: never allowed.
            note = node.get("x-suricata-conflict", "")
            problems.append(f"{path}: x-suricata false, but Suricata's schema has it "
                            f"(type {theirs.get('type')!r}) {note}".rstrip())
    print(f"properties: {len(props)} ({marked[True]} Suricata's, {marked[False]} flowscope's)")
    for p in problems:
        print(f"PROBLEM {p}")
    print(f"problems: {len(problems)}")
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def run_opts(p):
        p.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "flowscope"))
        p.add_argument("--corpus", default=os.environ.get(
            "FLOWSCOPE_CORPUS", os.path.join(ROOT, "..", "shared", "corpus")))
        p.add_argument("--manifest", action="store_true")
        p.add_argument("--config", action="append")
        p.add_argument("--jobs", type=int, default=2)
        p.add_argument("captures", nargs="*")

    run_opts(sub.add_parser("paths"))
    d = sub.add_parser("draft")
    d.add_argument("--suricata", required=True)
    d.add_argument("--keep")
    run_opts(d)
    c = sub.add_parser("check")
    c.add_argument("--schema", default=DEFAULT_SCHEMA)
    run_opts(c)
    k = sub.add_parser("consistency")
    k.add_argument("--suricata", required=True)
    k.add_argument("--schema", default=DEFAULT_SCHEMA)
    args = ap.parse_args()
    return {"paths": cmd_paths, "draft": cmd_draft, "check": cmd_check,
            "consistency": cmd_consistency}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
