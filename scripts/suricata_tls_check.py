#!/usr/bin/env python3
"""Compares flowscope's `tls` and `quic` records, and the flows' `app_proto`
hand-overs, with Suricata 7's on real captures.

Runs `suricata -r FILE -k none` (tls, quic and flow records, Community IDs,
no rules, Suricata's defaults otherwise) and `flowscope replay` on each
capture, pairs their records by flow (protocol and endpoints), and prints,
over all of them:

  * tls pcap_cnt equal   the packet each `tls` record is written at (a
                         Suricata record without pcap_cnt, written when the
                         flow timed out, equals flowscope's written at its
                         flow's end; records of tunnelled flows are not
                         compared: Suricata numbers no tunnelled packet)
  * tls version equal    `tls.version` (where Suricata determined one:
                         at a flow's end flowscope reads every captured
                         byte, Suricata only those acknowledged when the
                         client has none left, so flowscope may know the
                         server's hello where Suricata writes
                         UNDETERMINED; those are counted as "only
                         flowscope")
  * tls fields equal     Suricata's other `tls` fields flowscope writes
                         (subject, issuerdn, serial, fingerprint, sni,
                         notbefore, notafter, from_proto), where Suricata
                         writes them (the others: "only flowscope")
  * quic extensions equal  `quic.extensions` of the ClientHello records
  * quic ja3s equal        the server's hello's record: its source, `ja3s`
                           and `extensions`
  * app_proto_orig equal   flows whose `app_proto` changed mid-flow

then every difference. Exits 0; 1 when Suricata or the corpus is missing.

Usage: suricata_tls_check.py FLOWSCOPE_BINARY CORPUS_DIR [--all | FILE ...]
(FILEs are corpus-relative; without them a built-in selection covering
TLS 1.2 and 1.3, resumption, client certificates, STARTTLS, HTTP CONNECT,
resets, timeouts, TLS 1.3 drafts and QUIC is used; --all takes every
capture the manifest tags TLS or QUIC, and suricata-verify's.)
"""
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

FILES = [
    "ndpi/pcap/443-curl.pcap",
    "ndpi/pcap/443-firefox.pcap",
    "ndpi/pcap/alexa-app.pcapng",
    "ndpi/pcap/android.pcap",
    "ndpi/pcap/anydesk.pcapng",
    "ndpi/pcap/anyconnect-vpn.pcap",
    "ndpi/pcap/bets.pcapng",
    "ndpi/pcap/chrome.pcap",
    "ndpi/pcap/dns_doh.pcap",
    "ndpi/pcap/http_connect.pcap",
    "ndpi/pcap/instagram.pcap",
    "ndpi/pcap/reddit.pcap",
    "ndpi/pcap/sites.pcapng",
    "ndpi/pcap/smtp-starttls.pcap",
    "ndpi/pcap/smtps.pcapng",
    "ndpi/pcap/tls_certificate_too_long.pcap",
    "ndpi/pcap/viber.pcap",
    "ndpi/pcap/quic.pcap",
    "ndpi/pcap/quic-29.pcap",
    "tcpdump/quic_handshake.pcap",
    "pcapplusplus/ExamplesTest/tls.pcap",
    "suricata-verify/http-connect/http-connect-tls/input.pcap",
    "suricata-verify/http-connect/http-connect-fail/input.pcap",
    "suricata-verify/quic-v2-ja3/input.pcap",
    "suricata-verify/tls-alpn-log-detect-02/input.pcap",
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
        - tls:
            extended: yes
        - quic
        - flow
logging:
  default-log-level: error
  outputs:
    - console:
        enabled: yes
"""

TLS_FIELDS = ["subject", "issuerdn", "serial", "fingerprint", "sni", "notbefore",
              "notafter", "from_proto"]


def all_files(corpus):
    files = []
    with open(os.path.join(corpus, "MANIFEST.tsv")) as f:
        for line in f.read().splitlines()[1:]:
            cols = line.split("\t")
            if len(cols) > 8 and ("TLS" in cols[8] or "QUIC" in cols[8]) \
                    and "INVALID" not in cols[8]:
                files.append(cols[0])
    base = os.path.join(corpus, "suricata-verify")
    for root, _, names in os.walk(base):
        for n in names:
            if n.endswith((".pcap", ".pcapng")):
                files.append(os.path.relpath(os.path.join(root, n), corpus))
    return sorted(set(files))


def suricata(path):
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, "suricata.yaml")
        with open(cfg, "w") as f:
            f.write(SURICATA_YAML.format(logdir=d))
        subprocess.run(["suricata", "-c", cfg, "-r", path, "-k", "none", "-S", "/dev/null",
                        "--runmode", "single", "-l", d],
                       capture_output=True, timeout=300, check=False)
        eve = os.path.join(d, "eve.json")
        if not os.path.exists(eve):
            return []
        with open(eve) as f:
            return [json.loads(line) for line in f if line.strip()]


def flowscope(binary, path):
    out = subprocess.run([binary, "replay", "-q", path], capture_output=True,
                         timeout=300, check=False).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def flow_key(r):
    """Protocol and both endpoints, either way round (Suricata writes IPv6
    addresses expanded, and its Community ID of a flow between two ports of
    one address differs from the specification's)."""
    ends = sorted([(str(ipaddress.ip_address(r.get("src_ip"))), r.get("src_port")),
                   (str(ipaddress.ip_address(r.get("dest_ip"))), r.get("dest_port"))],
                  key=str)
    return (r.get("proto"), tuple(ends))


def by_flow(records, event_type):
    out = {}
    for r in records:
        if r.get("event_type") == event_type:
            out.setdefault(flow_key(r), []).append(r)
    return out


class Tally:
    def __init__(self):
        self.n = {}
        self.diffs = []

    def add(self, metric, equal, diff=None):
        eq, total = self.n.get(metric, (0, 0))
        self.n[metric] = (eq + bool(equal), total + 1)
        if not equal and diff:
            self.diffs.append(f"{metric}: {diff}")

    def line(self, metric, note=""):
        eq, total = self.n.get(metric, (0, 0))
        share = 100.0 * eq / total if total else 100.0
        return f"{metric + ' equal:':26} {eq}/{total} = {share:.1f} %{note}"


def compare(path, sur, fs, t, counts):
    fs_end = {flow_key(r): r.get("pcap_cnt") for r in fs if r.get("event_type") == "flow"}
    s_tls, f_tls = by_flow(sur, "tls"), by_flow(fs, "tls")
    counts["suricata tls"] += sum(len(v) for v in s_tls.values())
    counts["flowscope tls"] += sum(len(v) for v in f_tls.values())
    for cid, rs in s_tls.items():
        s, f = rs[0], (f_tls.get(cid) or [None])[0]
        if f is None:
            counts["tls only in Suricata"] += 1
            continue
        counts["tls paired"] += 1
        where = f"{path} flow {s.get('src_port')}->{s.get('dest_port')}"
        if "tunnel" in (s.get("pkt_src") or "") or "encapsulation" in (s.get("pkt_src") or ""):
            counts["tls in tunnels (no pcap_cnt)"] += 1
        else:
            want = s.get("pcap_cnt")
            got = f.get("pcap_cnt")
            if want is None:
                equal = got == fs_end.get(cid)
                want = "flow end"
            else:
                equal = got == want
            t.add("tls pcap_cnt", equal, f"{where}: Suricata {want}, flowscope {got} "
                  f"({f['tls'].get('parsing')})")
        sv, fv = s["tls"].get("version"), f["tls"].get("version")
        if sv == "UNDETERMINED" and fv not in (None, "UNDETERMINED"):
            # flowscope read a hello Suricata left unread (see below).
            counts["tls version only flowscope"] += 1
        else:
            t.add("tls version", sv == fv, f"{where}: Suricata {sv!r}, flowscope {fv!r}")
        for k in TLS_FIELDS:
            if k in s["tls"] or k in f["tls"]:
                a, b = s["tls"].get(k), f["tls"].get(k)
                if a is None:
                    counts["tls fields only flowscope"] += 1
                    continue
                t.add("tls fields", a == b, f"{where} {k}: Suricata {a!r}, flowscope {b!r}")
    s_quic, f_quic = by_flow(sur, "quic"), by_flow(fs, "quic")
    for cid, rs in s_quic.items():
        hello = [r for r in rs if "ja3" in r["quic"] or "sni" in r["quic"]]
        got = [r for r in f_quic.get(cid, [])
               if r["quic"].get("extensions") and "ja3s" not in r["quic"]]
        if hello and got and "extensions" in hello[0]["quic"]:
            a, b = hello[0]["quic"]["extensions"], got[0]["quic"]["extensions"]
            t.add("quic extensions", a == b, f"{path}: Suricata {a}, flowscope {b}")
        # The server's hello: its record, from the server, with JA3S.
        server = [r for r in rs if "ja3s" in r["quic"]]
        mine = [r for r in f_quic.get(cid, []) if "ja3s" in r["quic"]]
        if server:
            a = (ipaddress.ip_address(server[0]["src_ip"]), server[0]["quic"]["ja3s"],
                 server[0]["quic"].get("extensions"))
            b = (ipaddress.ip_address(mine[0]["src_ip"]), mine[0]["quic"]["ja3s"],
                 mine[0]["quic"].get("extensions")) if mine else None
            t.add("quic ja3s", a == b, f"{path}: Suricata {a}, flowscope {b}")
    s_flow, f_flow = by_flow(sur, "flow"), by_flow(fs, "flow")
    for cid, rs in s_flow.items():
        f = (f_flow.get(cid) or [None])[0]
        s = rs[0]
        if f is None or not (s.get("app_proto_orig") or f.get("app_proto_orig")):
            continue
        a = (s.get("app_proto"), s.get("app_proto_orig"))
        b = (f.get("app_proto"), f.get("app_proto_orig"))
        t.add("app_proto_orig", a == b, f"{path}: Suricata {a}, flowscope {b}")


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 1
    binary, corpus, rest = args[0], args[1], args[2:]
    if not os.path.exists(os.path.join(corpus, "MANIFEST.tsv")):
        print(f"CORPUS MISSING: {corpus}", file=sys.stderr)
        return 1
    if subprocess.run(["suricata", "-V"], capture_output=True, check=False).returncode != 0:
        print("suricata is not installed", file=sys.stderr)
        return 1
    files = all_files(corpus) if rest == ["--all"] else (rest or FILES)
    t = Tally()
    counts = {k: 0 for k in ("suricata tls", "flowscope tls", "tls paired",
                             "tls only in Suricata", "tls in tunnels (no pcap_cnt)",
                             "tls version only flowscope", "tls fields only flowscope")}
    for rel in files:
        path = os.path.join(corpus, rel)
        if not os.path.exists(path):
            print(f"missing: {rel}", file=sys.stderr)
            continue
        compare(rel, suricata(path), flowscope(binary, path), t, counts)
    print(f"captures:                  {len(files)}")
    for k, v in counts.items():
        print(f"{k + ':':26} {v}")
    for metric in ("tls pcap_cnt", "tls version", "tls fields", "quic extensions",
                   "quic ja3s", "app_proto_orig"):
        print(t.line(metric))
    for d in t.diffs:
        print("DIFF " + d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
