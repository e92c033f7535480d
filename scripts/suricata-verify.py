#!/usr/bin/env python3
"""Evaluate suricata-verify's EVE checks on flowscope's output.

Every `<test>/test.yaml` under the corpus's suricata-verify folder lists
checks over Suricata's EVE output, e.g.

    - filter: {count: 1, match: {event_type: http, http.hostname: example.com}}

This script replays each test's pcap with `flowscope replay` and evaluates
every `filter` check whose `event_type` is one flowscope emits (flow, http,
dns, tls) and whose fields it produces; the others are not applicable
(alerts, files, fields flowscope does not have). Checks restricted to
Suricata 8 (`requires: min-version: 8`) are skipped: flowscope's records
follow Suricata 7's layout. flowscope runs with HTTP headers and the TLS
client_handshake object on, as the tests that check them enable them in
their suricata.yaml.

Prints pass / fail / n/a per check and the totals; --failures-only to
print just the failures.

Usage: scripts/suricata-verify.py [--corpus DIR] [--bin PATH] [--failures-only]
Exit status: 0; 1 when the corpus or the binary is missing.
"""

import argparse
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

EMITTED = {"flow", "http", "dns", "tls", "quic"}
COMMON = {"timestamp", "flow_id", "pcap_cnt", "event_type", "src_ip", "src_port",
          "dest_ip", "dest_port", "proto", "community_id", "vlan", "icmp_type",
          "icmp_code", "tunnel"}
# Fields each record type carries (first two path components).
PRODUCED = {
    "flow": {"flow.pkts_toserver", "flow.pkts_toclient", "flow.bytes_toserver",
             "flow.bytes_toclient", "flow.start", "flow.end", "flow.age", "flow.state",
             "flow.reason", "flow.conn_state", "flow.history", "tcp", "app_proto"},
    "http": {"http.hostname", "http.url", "http.http_user_agent", "http.http_content_type",
             "http.http_refer", "http.http_method", "http.protocol", "http.status",
             "http.redirect", "http.length", "http.request_headers", "http.response_headers"},
    "dns": {"dns.version", "dns.type", "dns.id", "dns.flags", "dns.qr", "dns.aa", "dns.tc",
            "dns.rd", "dns.ra", "dns.z", "dns.ad", "dns.cd", "dns.opcode", "dns.rrname",
            "dns.rrtype", "dns.rcode", "dns.answers", "dns.grouped", "dns.authorities",
            "dns.queries"},
    "tls": {"tls.subject", "tls.issuerdn", "tls.serial", "tls.fingerprint", "tls.sni",
            "tls.version", "tls.notbefore", "tls.notafter", "tls.ja3", "tls.ja3s", "tls.ja4",
            "tls.alpn", "tls.client_alpns", "tls.server_alpns", "tls.client_handshake",
            "tls.chain"},
    "quic": {"quic.version", "quic.sni", "quic.ja3", "quic.ja4", "quic.client_alpns"},
}
CONFIG = """\
[parsers.http]
headers = true
[output]
tls_client_handshake = true
"""
# flowscope's records follow this Suricata major version.
AS_VERSION = 7


def field_key(path):
    """`dns.answers[0].rrname` -> `dns.answers`; `src_ip` -> `src_ip`."""
    parts = re.sub(r"\[\d+\]", "", path).split(".")
    parts = [p for p in parts if p != "__len"]
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


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


def applicable(check):
    """None when the check can be evaluated, else why not."""
    f = check.get("filter")
    if f is None:
        return "not a filter check"
    if f.get("filename", "eve.json") != "eve.json":
        return "a filtered EVE output of its own (%s)" % f["filename"]
    req = f.get("requires") or {}
    if "min-version" in req and int(str(req["min-version"]).split(".")[0]) > AS_VERSION:
        return "Suricata %s only" % req["min-version"]
    if "lt-version" in req and int(str(req["lt-version"]).split(".")[0]) <= AS_VERSION:
        return "before Suricata %s only" % req["lt-version"]
    match = f.get("match") or {}
    et = match.get("event_type")
    if et not in EMITTED:
        return f"event_type {et} not emitted"
    for k, v in match.items():
        if k in ("event_type",):
            continue
        if k == "tx_id" and et == "http":
            continue
        key = field_key(v if k in ("has-key", "not-has-key") else k)
        if key not in COMMON and key not in PRODUCED[et]:
            return f"field {key} not produced"
    if "count" not in f:
        return "no count"
    return None


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
    failures = []
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
            checks = test.get("checks") or []
            records = None
            for i, check in enumerate(checks):
                why = applicable(check)
                if why is None and pcap is None:
                    why = "no pcap"
                if why is not None:
                    totals["n/a"] += 1
                    if not args.failures_only:
                        print(f"n/a   {name} #{i}: {why}")
                    continue
                if records is None:
                    out = subprocess.run([args.bin, "replay", "-q", "-c", cfg, pcap],
                                         capture_output=True, timeout=300)
                    records = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
                f = check["filter"]
                n = sum(1 for r in records if matches(r, f.get("match") or {}))
                ok = n == f["count"]
                totals["pass" if ok else "fail"] += 1
                desc = json.dumps(f.get("match"), sort_keys=True)
                if not ok:
                    failures.append(f"{name} #{i}: want {f['count']}, got {n}: {desc}")
                if not ok or not args.failures_only:
                    print(f"{'pass' if ok else 'FAIL'}  {name} #{i}: count {n}/{f['count']} {desc}")
    evaluated = totals["pass"] + totals["fail"]
    share = 100.0 * totals["pass"] / evaluated if evaluated else 0.0
    print(f"checks: {totals['pass']} pass, {totals['fail']} fail, {totals['n/a']} not applicable; "
          f"{share:.1f} % of the applicable checks pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
