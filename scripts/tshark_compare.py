#!/usr/bin/env python3
"""Compare flowscope's HTTP/DNS/TLS records with tshark's reference counts.

For every capture in REF_tshark.jsonl (tshark 4.0's numbers, shipped with the
corpus) this runs `flowscope replay` and compares, per file:

  * HTTP requests     (http records with a method  vs tshark http_requests)
  * DNS queries       (dns records of type query    vs tshark dns_queries)
  * TLS ClientHellos  (client hellos in tls records vs tshark tls_client_hello)
  * the SNI set       (tls.sni values               vs tshark sni)
  * the JA3 set       (tls.ja3.hash values          vs tshark ja3)

and prints the share of files where each agrees, then every difference with
its cause. Causes are decided per file by `classify` from what both tools
saw; a difference no rule explains is printed as UNEXPLAINED.

Usage: scripts/tshark_compare.py [--corpus DIR] [--bin PATH] [--jobs N]
                                 [--verbose] [--json OUT]
Exit status 0; 1 when the binary or the corpus is missing.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

METRICS = ["http", "dns", "hello", "sni", "ja3"]
NAMES = {
    "http": "HTTP requests",
    "dns": "DNS queries",
    "hello": "TLS ClientHellos",
    "sni": "SNI set",
    "ja3": "JA3 set",
}


def run_flowscope(binary, path):
    """Our numbers for one capture (None when the file could not be read)."""
    p = subprocess.run(
        [binary, "replay", "-q", "--shards", "0", path],
        capture_output=True,
        timeout=600,
    )
    got = {"http": 0, "dns": 0, "hello": 0, "sni": set(), "ja3": set(),
           "http_ports": collections.Counter(), "http_incomplete": 0,
           "tls_ports": collections.Counter(), "dns_tcp": 0,
           "tls_stop": collections.Counter(), "gap_http": 0,
           "ja3_strings": {}, "exit": p.returncode, "stats": {}}
    for line in p.stdout.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        t = r.get("event_type")
        if t == "http":
            h = r["http"]
            # HTTP/2 streams (version "2") are not in tshark's HTTP
            # request count.
            if "http_method" in h and h.get("version") != "2":
                got["http"] += 1
                got["http_ports"][r.get("dest_port")] += 1
                if h.get("incomplete"):
                    got["http_incomplete"] += 1
                if h.get("gap_bytes"):
                    got["gap_http"] += 1
        elif t == "dns":
            d = r["dns"]
            if d["type"] == "query":
                got["dns"] += 1
                if d.get("tcp"):
                    got["dns_tcp"] += 1
        elif t in ("tls", "quic"):
            s = r[t]
            if "ja3" in s:
                got["hello"] += s.get("client_hellos", 1)
                got["ja3"].add(s["ja3"]["hash"])
                got["ja3_strings"][s["ja3"]["hash"]] = s["ja3"]["string"]
            if "sni" in s:
                got["sni"].add(s["sni"])
            got["tls_ports"][r.get("dest_port")] += 1
            got["tls_stop"][s.get("parsing", t)] += 1
        elif t == "stats":
            got["stats"] = r["stats"]
    return got


def expected(ref):
    return {
        "http": ref["http_requests"],
        "dns": ref["dns_queries"],
        "hello": ref["tls_client_hello"],
        "sni": set(ref["sni"]),
        "ja3": set(ref["ja3"]),
    }


# tshark protocol names of protocols that carry TLS after a plaintext
# start (STARTTLS and friends) or inside their own framing.
PREAMBLE_PROTOCOLS = {"smtp", "imap", "pop", "ftp", "mysql", "pgsql", "openvpn",
                      "rdp", "tpkt", "tds", "ldap", "xmpp", "nntp", "sieve",
                      "proxy", "socks", "http"}
UNACKED_RESET = (
    "a connection whose server side the capture lacks, ended by the client's reset: its "
    "ClientHello was never acknowledged, and flowscope reads TLS once acknowledged, as "
    "Suricata does (it writes no tls record either)")
GQUIC_CHLO = (
    "Google QUIC (Q039-Q046) hello: flowscope reports the CHLO's SNI tag in its quic record, "
    "as Suricata does; tshark's reference counts TLS ClientHellos only")
# Differences examined one by one (tshark run on the file, packets read):
# (metric or "*" for every TLS metric, path) -> cause.
KNOWN = {
    ("dns", "ndpi/pcap/avast_securedns.pcapng"):
        "DNS on UDP port 443 (DNSCrypt certificate queries): tshark decodes it heuristically; "
        "flowscope parses DNS on the [parsers.dns] ports",
    ("dns", "ndpi/pcap/dnscrypt-v1-and-resolver-pings.pcap"):
        "DNS on UDP port 443 (DNSCrypt certificate queries): tshark decodes it heuristically; "
        "flowscope parses DNS on the [parsers.dns] ports",
    ("dns", "ndpi/pcap/custom_rules_ipv6.pcapng"):
        "DNS on a non-DNS port (5333, 8053): tshark decodes it heuristically",
    ("dns", "tcpdump/dns_udp_8053.pcap"):
        "DNS on a non-DNS port (5333, 8053): tshark decodes it heuristically",
    ("dns", "suricata-verify/bug-5633-gre-02/gre-sample.pcap"):
        "tshark also counts the DNS queries quoted inside ICMP error messages",
    ("dns", "ndpi/pcap/doq.pcapng"):
        "DNS over QUIC: tshark decrypts it with the TLS secrets embedded in the pcapng "
        "(Decryption Secrets Block); flowscope does not use embedded secrets",
    ("dns", "suricata-verify/dns-over-http2-limit/input.pcap"):
        "DNS over HTTP/2 (DoH): flowscope has no HTTP/2 parser",
    ("dns", "ndpi/pcap/fuzz-2006-06-26-2594.pcap"):
        "fuzzed DNS datagrams: tshark counts what it can partly dissect, flowscope skips "
        "messages that do not decode",
    ("dns", "tcpdump/LINKTYPE_IPV4_invalid.pcap"):
        "the packet is malformed for flowscope's decoder (counted as a decode error)",
    ("*", "ndpi/pcap/nomachine.pcapng"):
        "TLS after a plaintext preamble (STARTTLS, HTTP CONNECT, OpenVPN, RDP...): "
        "tshark follows the switch; flowscope's probe reads a stream's first bytes",
    ("*", "ndpi/pcap/pgsql2.pcapng"):
        "TLS after a plaintext preamble (STARTTLS, HTTP CONNECT, OpenVPN, RDP...): "
        "tshark follows the switch; flowscope's probe reads a stream's first bytes",
    ("*", "ndpi/pcap/rdp2.pcap"):
        "TLS after a plaintext preamble (STARTTLS, HTTP CONNECT, OpenVPN, RDP...): "
        "tshark follows the switch; flowscope's probe reads a stream's first bytes",
    ("*", "ndpi/pcap/tls_1.2_unidirectional_client.pcapng"): UNACKED_RESET,
    ("*", "ndpi/pcap/ocs.pcap"): UNACKED_RESET,
    ("hello", "ndpi/pcap/tunnelbear.pcap"): UNACKED_RESET,
    ("http", "ndpi/pcap/socks.pcap"):
        "HTTP after a SOCKS handshake: tshark follows the proxy; flowscope's probe reads a "
        "stream's first bytes",
    ("http", "ndpi/pcap/shadowsocks.pcap"):
        "HTTP after a SOCKS handshake: tshark follows the proxy; flowscope's probe reads a "
        "stream's first bytes",
    ("*", "ndpi/pcap/ossfuzz_seed_fake_traces_1.pcapng"):
        "crafted fuzzing seed: single mid-stream TLS segments on ports 1/10/11 that flowscope "
        "does not take for the start of a stream",
    ("*", "ndpi/pcap/tls_cipher_lens.pcap"):
        "crafted ClientHellos with inconsistent cipher-list lengths: the two tools read them "
        "differently",
    ("*", "ndpi/pcap/tls_invalid_reads.pcap"):
        "crafted ClientHellos with inconsistent lengths: the two tools read them differently",
    ("*", "pcapplusplus/Packet++Test/ssl-malformed1.pcap"):
        "malformed ClientHello: tshark stops and computes no JA3, flowscope keeps the fields "
        "read before the damage",
    ("*", "ndpi/pcap/quic-forcing-vn-with-data.pcapng"):
        "QUIC after a version negotiation: flowscope decrypts the retried Initial, tshark "
        "does not count it",
    ("*", "ndpi/pcap/quic_t50.pcap"):
        "Google QUIC T050/T051: flowscope reads no ClientHello from these versions' Initials",
    ("*", "ndpi/pcap/quic_t51.pcap"):
        "Google QUIC T050/T051: flowscope reads no ClientHello from these versions' Initials",
    ("sni", "ndpi/pcap/quic_q39.pcap"): GQUIC_CHLO,
    ("sni", "ndpi/pcap/quic_q43.pcap"): GQUIC_CHLO,
    ("sni", "tcpdump/gquic.pcap"): GQUIC_CHLO,
    ("*", "ndpi/pcap/quic_interop_V.pcapng"):
        "QUIC Initials with a reserved (greased) version: flowscope does not guess keys",
    ("hello", "ndpi/pcap/quic-24.pcap"):
        "QUIC Retry: the ClientHello is sent again under a new connection id; tshark counts "
        "both, flowscope reports the connection once",
    ("hello", "ndpi/pcap/quic-29.pcap"):
        "QUIC Retry: the ClientHello is sent again under a new connection id; tshark counts "
        "both, flowscope reports the connection once",
}

# Tunnels flowscope does not decapsulate (documented with flow tracking).
UNDECAPSULATED = {"capwap", "capwap.data", "pppoes", "l2tp", "ppp"}


def classify(metric, ref, want, got):
    """The cause of a difference in `metric` for one file (None: unknown)."""
    expert = ref.get("expert", {})
    protocols = set(ref.get("protocols", []))
    retrans = sum(v for k, v in expert.items() if "retransmission" in k.lower())
    lost = sum(v for k, v in expert.items() if "previous segment" in k.lower()
               or "acked segment that wasn't captured" in k.lower())
    malformed = sum(v for k, v in expert.items() if "malformed" in k.lower())
    w, g = want[metric], got[metric]
    tls_metric = metric in ("hello", "sni", "ja3")
    known = KNOWN.get((metric, ref["path"])) or (tls_metric and KNOWN.get(("*", ref["path"])))
    if known:
        return known
    if got["exit"] != 0:
        return "flowscope stopped at damage in the file (exit %d)" % got["exit"]
    tls = metric in ("hello", "sni", "ja3")
    if isinstance(w, set):
        missing, extra = w - g, g - w
    else:
        missing, extra = max(w - g, 0), max(g - w, 0)
    if metric == "http" and missing and "ssdp" in protocols and not extra:
        return "HTTP over UDP that is not SSDP on port 1900: tshark decodes it heuristically"
    if tls and missing and protocols & UNDECAPSULATED:
        return "TLS inside a tunnel flowscope does not decapsulate (CAPWAP, PPP...)"
    if tls and missing and protocols & PREAMBLE_PROTOCOLS:
        return ("TLS after a plaintext preamble (STARTTLS, HTTP CONNECT, OpenVPN, RDP...): "
                "tshark follows the switch; flowscope's probe reads a stream's first bytes")
    if metric == "ja3" and extra and not missing and all(
            got["ja3_strings"].get(h, "").endswith(",,,") for h in extra):
        return "tshark computes no JA3 for a ClientHello without extensions"
    if metric == "ja3" and extra and missing and all(
            got["ja3_strings"].get(h, "").endswith(",,,") for h in extra):
        return "tshark computes no JA3 for a ClientHello without extensions"
    if not isinstance(w, set):
        if missing and retrans and metric in ("hello", "http"):
            return "tshark counts retransmitted messages again"
        if missing and lost:
            return "segments missing from the capture: message lost or cut"
        if missing and malformed and metric == "dns":
            return "malformed DNS messages: tshark counts what it can partly dissect, flowscope skips them"
        if extra and metric == "http" and lost:
            return ("segments missing from the capture: flowscope resynchronises at the next "
                    "request line and reports requests tshark could not reassemble")
        if extra and metric == "http" and set(got["http_ports"]) - {80, 8080, 3128, 1900}:
            return "HTTP found by content on a port tshark does not decode as HTTP"
        if extra and tls and set(got["tls_ports"]) - {443}:
            return "TLS found by content on a port tshark does not decode as TLS"
    else:
        if extra and not missing and tls and set(got["tls_ports"]) - {443}:
            return "TLS found by content on a port tshark does not decode as TLS"
        if missing and not g and lost:
            return "segments missing from the capture: hello lost or cut"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=os.environ.get(
        "FLOWSCOPE_CORPUS", os.path.join(ROOT, "..", "shared", "corpus")))
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "flowscope"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--json", help="write per-file results here")
    args = ap.parse_args()
    ref_path = os.path.join(args.corpus, "REF_tshark.jsonl")
    if not os.path.exists(ref_path):
        print(f"CORPUS MISSING: {ref_path}", file=sys.stderr)
        return 1
    if not os.path.exists(args.bin):
        print(f"binary missing: {args.bin} (cargo build --release)", file=sys.stderr)
        return 1
    refs = [json.loads(l) for l in open(ref_path)]
    refs = [r for r in refs if not r.get("tshark_error")
            and os.path.exists(os.path.join(args.corpus, r["path"]))]

    def one(ref):
        return ref, run_flowscope(args.bin, os.path.join(args.corpus, ref["path"]))

    with ThreadPoolExecutor(args.jobs) as ex:
        results = list(ex.map(one, refs))

    agree = collections.Counter()
    causes = collections.defaultdict(collections.Counter)
    unexplained = []
    rows = []
    for ref, got in results:
        want = expected(ref)
        row = {"path": ref["path"]}
        for m in METRICS:
            same = want[m] == got[m]
            agree[m] += same
            if not same:
                cause = classify(m, ref, want, got)
                key = cause or "UNEXPLAINED"
                causes[m][key] += 1
                w, g = want[m], got[m]
                if isinstance(w, set):
                    w, g = sorted(w - g), sorted(g - w)
                    detail = f"tshark only {w[:3]}{'...' if len(w) > 3 else ''}, flowscope only {g[:3]}{'...' if len(g) > 3 else ''}"
                else:
                    detail = f"tshark {w}, flowscope {g}"
                row[m] = {"cause": key, "detail": detail}
                if cause is None:
                    unexplained.append((m, ref["path"], detail))
                elif args.verbose:
                    print(f"  {m:5} {ref['path']}: {detail} [{cause}]")
        rows.append(row)

    n = len(results)
    print(f"files compared: {n} (tshark reference, {ref_path})")
    for m in METRICS:
        print(f"  {NAMES[m]:17} equal on {agree[m]:4}/{n} = {100.0 * agree[m] / n:5.1f} %")
    print("differences by cause:")
    for m in METRICS:
        for cause, k in causes[m].most_common():
            print(f"  {NAMES[m]:17} {k:4}  {cause}")
    if unexplained:
        print(f"UNEXPLAINED differences: {len(unexplained)}")
        for m, path, detail in unexplained:
            print(f"  {m:5} {path}: {detail}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
