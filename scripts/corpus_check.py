#!/usr/bin/env python3
"""Runs `flowscope replay` over every capture in the corpus MANIFEST.tsv and
compares its TCP+UDP flow count with tshark's `tcp_streams + udp_streams`
(REF_tshark.jsonl).

Prints: files read, files with a clean error (and whether each is one the
manifest marks INVALID), crashes / hangs (must be 0), agreement with tshark
(with the default configuration, and with tshark's conversation semantics:
no idle timeouts, VLAN and tunnel ids out of the key, tunnel carrier
conversations counted), and every difference grouped by cause. Causes are
established by re-running the differing file with configurations that
switch off one semantic difference at a time (see explain()); what remains
must be listed, with the cause found by hand, in
corpus-known-differences.tsv, or it is reported UNEXPLAINED.

Usage: corpus_check.py BINARY CORPUS_DIR [--jobs N] [--json OUT] [--limit N]
Exit status: 0 when there are no crashes or hangs, every error is on a
deliberately invalid file and every difference is explained; 1 otherwise.
"""
import argparse
import concurrent.futures as cf
import csv
import json
import os
import subprocess
import sys
import tempfile

TIMEOUT = 120  # seconds per run; longer is a hang

# Configurations that each remove one known semantic difference with tshark.
# tshark: no idle timeouts (one conversation per 5-tuple for the whole file,
# new TCP stream only on a new SYN), VLAN ids and tunnel ids not part of the
# conversation key, and outer UDP conversations of tunnels counted too.
NO_TIMEOUT = """
[flow]
tcp_timeout = 4000000000
udp_timeout = 4000000000
other_timeout = 4000000000
port_timeouts = []
"""
NO_CONTEXT = """
[flow]
vlan_in_key = false
tunnel_in_key = false
"""
NO_DECAP = """
[tunnel]
decapsulate = false
"""


def run(binary, path, config_text=None):
    """Runs one replay; returns (status, stats-dict-or-None, stderr)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        cmd = [binary, "replay", "-q", "-o", out]
        if config_text is not None:
            cfg = os.path.join(tmp, "c.toml")
            with open(cfg, "w") as f:
                f.write(config_text)
            cmd += ["--config", cfg]
        cmd.append(path)
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return "hang", None, ""
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode < 0 or p.returncode not in (0, 1) or "panicked" in err:
            return "crash", None, err + f" (exit {p.returncode})"
        stats = None
        flows = []
        try:
            with open(out, "rb") as f:
                for line in f:
                    rec = json.loads(line)
                    if rec.get("event_type") == "stats":
                        stats = rec["stats"]
                    elif rec.get("event_type") == "flow":
                        flows.append(rec)
        except (OSError, ValueError) as e:
            return "crash", None, f"unreadable output: {e}"
        status = "ok" if p.returncode == 0 else "error"
        return status, {"stats": stats, "flows": flows}, err.strip()


def tcp_udp(result):
    s = result["stats"]
    return (s["flow"]["tcp"] + s["flow"]["udp"]) if s else 0


def merge(*texts):
    """Merges TOML snippets that each hold a [flow] or [tunnel] table."""
    tables = {}
    for t in texts:
        current = None
        for line in t.strip().splitlines():
            if line.startswith("["):
                current = line
                tables.setdefault(current, [])
            elif line.strip():
                tables[current].append(line)
    return "\n".join(k + "\n" + "\n".join(v) for k, v in tables.items()) + "\n"


def outer_tunnel_conversations(binary, path):
    """UDP conversations that carry tunnels: with decapsulation off they are
    ordinary UDP flows on the tunnel ports."""
    status, res, _ = run(binary, path, NO_DECAP)
    if status not in ("ok", "error") or not res:
        return 0
    ports = {4789, 6081, 2152, 3544}
    keys = set()
    for f in res["flows"]:
        if f.get("proto") == "UDP" and (f.get("src_port") in ports or f.get("dest_port") in ports):
            keys.add(tuple(sorted([(f["src_ip"], f["src_port"]), (f["dest_ip"], f["dest_port"])])))
    return len(keys)


def tshark_semantics(binary, path, stats):
    """Flow count with tshark's conversation semantics."""
    status, res, _ = run(binary, path, merge(NO_TIMEOUT, NO_CONTEXT))
    if status not in ("ok", "error") or not res:
        return None
    n = tcp_udp(res)
    tunnels = sum(v for k, v in stats["tunnel"].items() if k not in ("depth_exceeded", "inner_invalid"))
    if tunnels:
        n += outer_tunnel_conversations(binary, path)
    return n


def explain(binary, path, rel, ours, ref, stats, known):
    """Finds which semantic difference accounts for ours != ref."""
    entry = known.get(rel)
    if entry is not None:
        k_ours, k_ref, cause = entry
        if (k_ours, k_ref) == (ours, ref):
            return "investigated: " + cause
        return f"STALE known-difference entry (recorded flowscope {k_ours} vs tshark {k_ref})"
    causes = []
    if stats["decoder"]["unsupported_linktype"] > 0:
        return "unsupported link type (tshark decodes it; flowscope counts and skips)"
    tunnels = sum(v for k, v in stats["tunnel"].items() if k not in ("depth_exceeded", "inner_invalid"))
    # Step through the differences cumulatively; record each that moves the
    # count towards tshark's.
    cfg = ""
    count = ours
    for name, snippet in (("idle-timeout splits (tshark never times a conversation out)", NO_TIMEOUT),
                          ("VLAN/tunnel ids in the flow key (tshark ignores them)", NO_CONTEXT)):
        cfg = merge(cfg, snippet) if cfg else snippet
        status, res, _ = run(binary, path, cfg)
        if status in ("ok", "error") and res:
            n = tcp_udp(res)
            if n != count:
                causes.append(name)
                count = n
        if count == ref:
            return " + ".join(causes)
    if tunnels:
        outer = outer_tunnel_conversations(binary, path)
        if outer and count + outer == ref:
            causes.append("tunnel carrier conversations (tshark counts the outer UDP stream too)")
            return " + ".join(causes)
    if causes:
        return "partly " + " + ".join(causes) + f" (left: flowscope {count} vs tshark {ref})"
    return None


def check_file(binary, corpus, row, refs, known):
    path = row["path"]
    full = os.path.join(corpus, path)
    invalid = "INVALID" in row["exercises (auto: tshark 4.0 + file name)"]
    status, res, err = run(binary, full)
    rec = {"path": path, "status": status, "invalid": invalid, "stderr": err[:300]}
    if status in ("crash", "hang"):
        return rec
    ref = refs.get(path)
    ours = tcp_udp(res)
    rec["ours"] = ours
    rec["partial"] = status == "error"
    if ref is None or ref.get("tshark_error"):
        rec["ref"] = None
        return rec
    rec["ref"] = ref["tcp_streams"] + ref["udp_streams"]
    if res["stats"]:
        rec["tshark_semantics"] = ours if ours == rec["ref"] else tshark_semantics(binary, full, res["stats"])
    if res["stats"] and ours != rec["ref"]:
        rec["cause"] = explain(binary, full, path, ours, rec["ref"], res["stats"], known)
    return rec


def load_known(path):
    known = {}
    if not os.path.exists(path):
        return known
    with open(path) as f:
        for line in f:
            if line.startswith("#") or line.startswith("path\t") or not line.strip():
                continue
            p, ours, ref, cause = line.rstrip("\n").split("\t", 3)
            known[p] = (int(ours), int(ref), cause)
    return known


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("corpus")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--json", help="write per-file results here")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--show", type=int, default=8, help="files listed per cause")
    a = ap.parse_args()

    with open(os.path.join(a.corpus, "MANIFEST.tsv")) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if a.limit:
        rows = rows[: a.limit]
    refs = {}
    with open(os.path.join(a.corpus, "REF_tshark.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            refs[r["path"]] = r

    known = load_known(os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus-known-differences.tsv"))
    with cf.ThreadPoolExecutor(a.jobs) as ex:
        results = list(ex.map(lambda r: check_file(a.binary, a.corpus, r, refs, known), rows))

    crashes = [r for r in results if r["status"] == "crash"]
    hangs = [r for r in results if r["status"] == "hang"]
    errors = [r for r in results if r["status"] == "error"]
    compared = [r for r in results if r.get("ref") is not None]
    agree = [r for r in compared if r["ours"] == r["ref"]]
    differ = [r for r in compared if r["ours"] != r["ref"]]

    print(f"files in manifest:          {len(results)}")
    print(f"files read without error:   {sum(r['status'] == 'ok' for r in results)}")
    print(f"files with a clean error:   {len(errors)} "
          f"({sum(r['invalid'] for r in errors)} marked INVALID in the manifest)")
    for r in errors:
        tag = "invalid" if r["invalid"] else "UNEXPECTED"
        print(f"  [{tag}] {r['stderr']}")
    print(f"crashes:                    {len(crashes)}")
    for r in crashes:
        print(f"  {r['path']}: {r['stderr']}")
    print(f"hangs (> {TIMEOUT} s):          {len(hangs)}")
    for r in hangs:
        print(f"  {r['path']}")
    pct = 100.0 * len(agree) / max(1, len(compared))
    print(f"flow count vs tshark tcp_streams+udp_streams: {len(agree)}/{len(compared)} files agree ({pct:.1f} %)")
    same = [r for r in compared if r.get("tshark_semantics") == r["ref"]]
    pct2 = 100.0 * len(same) / max(1, len(compared))
    print(f"  with tshark's conversation semantics (no idle timeouts, no VLAN/tunnel ids in the key,")
    print(f"  tunnel carrier conversations counted): {len(same)}/{len(compared)} files agree ({pct2:.1f} %)")
    groups = {}
    for r in differ:
        groups.setdefault(r.get("cause") or "UNEXPLAINED", []).append(r)
    unexplained = [r for r in differ if not r.get("cause") or r["cause"].startswith(("partly", "STALE"))]
    explained = len(differ) - len(unexplained)
    print(f"differences: {len(differ)} ({explained} fully explained)")
    for cause, rs in sorted(groups.items(), key=lambda kv: (kv[0].startswith("investigated"), -len(kv[1]), kv[0])):
        if cause.startswith("investigated: "):
            for r in rs:
                print(f"     1  {r['path']}: flowscope {r['ours']}, tshark {r['ref']}: {cause[14:]}")
            continue
        print(f"  {len(rs):4d}  {cause}")
        for r in rs[: a.show]:
            print(f"          {r['path']}: flowscope {r['ours']}, tshark {r['ref']}")
        if len(rs) > a.show:
            print(f"          ... {len(rs) - a.show} more (--show N lists more)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    bad = crashes or hangs or any(not r["invalid"] for r in errors) or unexplained
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
