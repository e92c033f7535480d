#!/usr/bin/env python3
"""Checks flowscope's IPFIX export against a real collector: nfdump's
nfcapd receives on loopback while `flowscope replay --ipfix` exports each
capture, then `nfdump -o json` (TZ=UTC) reads the flows back, and they are
compared with the EVE flow records of the same runs.

Every EVE flow record of a TCP or UDP flow must come back exactly once with
the same endpoints (initiator as source), protocol, first and last packet
time (milliseconds), packets each way, IP-level bytes each way
(`flow.ip_bytes_toserver`/`toclient`: RFC 7012's octetDeltaCount) and
first VLAN; nothing else may come back. Flows of other protocols (ICMP,
GRE...) are exported too but only counted here.

With --tcp the export goes over TCP to a listener of this script, which
cuts the stream into messages by their length field and relays each to
nfcapd over UDP (nfcapd takes UDP only): the stream framing is checked
by the same collector.

Usage: ipfix_check.py [CAPTURE ...] [--bin PATH] [--corpus DIR]
         [--max-bytes N] [--tcp] [--verbose]

Without CAPTUREs, every capture of the corpus manifest up to --max-bytes
(default 20 MB). Exit 1 on any difference, or when nfcapd, nfdump,
flowscope or the corpus is missing; the last line is the summary.
"""
import argparse
import collections
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROTOS = {"TCP": 6, "UDP": 17}


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ms(ts):
    """EVE time (2004-05-13T10:17:07.311224+0000) to Unix milliseconds."""
    import datetime
    t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f%z")
    us = int(t.timestamp()) * 1_000_000 + t.microsecond
    return us // 1000


def nf_ms(ts):
    """nfdump's time (2004-05-13T10:17:07.311, UTC) to Unix milliseconds."""
    import datetime
    t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1000 + t.microsecond // 1000


def eve_flows(path):
    """The TCP/UDP flow records of an EVE file as comparable tuples, and
    the number of other flow records."""
    flows, other = [], 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r.get("event_type") != "flow":
                continue
            proto = PROTOS.get(r.get("proto"))
            if proto is None:
                other += 1
                continue
            fl = r["flow"]
            flows.append((
                r["src_ip"], r.get("src_port", 0), r["dest_ip"], r.get("dest_port", 0), proto,
                ms(fl["start"]), ms(fl["end"]),
                fl["pkts_toserver"], fl["ip_bytes_toserver"],
                fl["pkts_toclient"], fl["ip_bytes_toclient"],
                (r.get("vlan") or [0])[0],
            ))
    return flows, other


def nf_flows(records):
    flows = []
    for r in records:
        if r.get("type") != "FLOW":
            continue
        proto = r["proto"]
        if proto not in (6, 17):
            continue
        src = r.get("src4_addr") or r.get("src6_addr")
        dst = r.get("dst4_addr") or r.get("dst6_addr")
        flows.append((
            src, r["src_port"], dst, r["dst_port"], proto,
            nf_ms(r["first"]), nf_ms(r["last"]),
            r["in_packets"], r["in_bytes"], r.get("out_packets", 0), r.get("out_bytes", 0),
            r.get("src_vlan", 0),
        ))
    return flows


def canon(f):
    """IPv6 text as nfdump writes it (compressed) on both sides."""
    import ipaddress
    return (str(ipaddress.ip_address(f[0])), f[1], str(ipaddress.ip_address(f[2]))) + f[3:]


class Relay:
    """A TCP listener that relays each IPFIX message it receives to a UDP
    address."""

    def __init__(self, to):
        self.to = to
        self.srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(8)
        self.port = self.srv.getsockname()[1]
        self.messages = 0
        self.bad = 0
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self.relay, args=(conn,), daemon=True).start()

    def relay(self, conn):
        buf = b""
        while True:
            data = conn.recv(1 << 16)
            if not data:
                break
            buf += data
            while len(buf) >= 4:
                version, length = struct.unpack(">HH", buf[:4])
                if version != 10 or length < 16:
                    self.bad += 1
                    conn.close()
                    return
                if len(buf) < length:
                    break
                self.udp.sendto(buf[:length], self.to)
                self.messages += 1
                buf = buf[length:]
                # nfcapd reads one datagram at a time: keep its socket
                # buffer from overflowing.
                time.sleep(0.0005)
        if buf:
            self.bad += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("captures", nargs="*")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "flowscope"))
    ap.add_argument("--corpus", default=os.environ.get("FLOWSCOPE_CORPUS")
                    or os.path.join(ROOT, "..", "shared", "corpus"))
    ap.add_argument("--max-bytes", type=int, default=20_000_000)
    ap.add_argument("--tcp", action="store_true")
    ap.add_argument("--shards", help="flowscope's --shards (default: its own default)")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    for tool in ("nfcapd", "nfdump"):
        if not shutil.which(tool):
            sys.exit(f"ipfix_check: {tool} not found (Debian package nfdump)")
    if not os.path.exists(a.bin):
        sys.exit(f"ipfix_check: no flowscope at {a.bin}")
    captures = a.captures
    if not captures:
        manifest = os.path.join(a.corpus, "MANIFEST.tsv")
        if not os.path.exists(manifest):
            sys.exit(f"ipfix_check: no corpus manifest at {manifest}")
        with open(manifest, encoding="utf-8") as f:
            rows = [l.rstrip("\n").split("\t") for l in f][1:]
        captures = [r[0] for r in rows if len(r) > 4 and int(r[4]) <= a.max_bytes]
    tmp = tempfile.mkdtemp(prefix="ipfix_check.")
    failures = []
    totals = collections.Counter()
    try:
        for i, cap in enumerate(captures):
            path = cap if os.path.exists(cap) else os.path.join(a.corpus, cap)
            d = os.path.join(tmp, str(i))
            os.makedirs(d)
            port = free_udp_port()
            nfcapd = subprocess.Popen(
                ["nfcapd", "-w", d, "-p", str(port), "-b", "127.0.0.1", "-B", "4194304"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.15)
            relay = Relay(("127.0.0.1", port)) if a.tcp else None
            target = (f"tcp://127.0.0.1:{relay.port}" if relay
                      else f"udp://127.0.0.1:{port}")
            eve = os.path.join(tmp, f"{i}.eve.json")
            run = subprocess.run(
                [a.bin, "replay", "-q", path, "-o", eve, "--ipfix", target]
                + (["--shards", a.shards] if a.shards else []),
                capture_output=True, text=True)
            if relay:
                deadline = time.time() + 5
                # The stream is closed at exit: wait for the relay to drain.
                while time.time() < deadline:
                    n = relay.messages
                    time.sleep(0.1)
                    if relay.messages == n:
                        break
                relay.srv.close()
            time.sleep(0.2)
            nfcapd.send_signal(signal.SIGTERM)
            nfcapd.wait(timeout=10)
            # 1: a damaged input (a truncated capture), whose records up
            # to the damage are written and exported all the same.
            if run.returncode not in (0, 1):
                failures.append((cap, f"flowscope exit {run.returncode}: {run.stderr.strip()[-300:]}"))
                continue
            if not os.path.exists(eve):
                failures.append((cap, "no EVE output"))
                continue
            want, other = eve_flows(eve)
            files = [f for f in os.listdir(d) if f.startswith("nfcapd.")]
            got = []
            if files:
                out = subprocess.run(["nfdump", "-R", d, "-o", "json"], capture_output=True,
                                     text=True, env=dict(os.environ, TZ="UTC"))
                text = out.stdout.strip()
                if "No matching flows" in text:
                    text = "[]"
                try:
                    got = nf_flows(json.loads(text)) if text.startswith("[") else []
                except json.JSONDecodeError as e:
                    failures.append((cap, f"nfdump's JSON does not parse ({e}): {text[:200]!r}"))
                    continue
            w = collections.Counter(canon(f) for f in want)
            g = collections.Counter(canon(f) for f in got)
            totals["captures"] += 1
            totals["flows"] += len(want)
            totals["other_flows"] += other
            totals["matched"] += sum((w & g).values())
            if relay and relay.bad:
                failures.append((cap, f"{relay.bad} malformed stream(s)"))
            if w != g:
                missing, extra = w - g, g - w
                failures.append((cap, f"{sum(missing.values())} flows missing or different, "
                                      f"{sum(extra.values())} unexpected; first missing: "
                                      f"{next(iter(missing), None)}; first unexpected: "
                                      f"{next(iter(extra), None)}"))
            elif a.verbose:
                print(f"ok {cap}: {len(want)} flows", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for cap, why in failures:
        print(f"DIFF {cap}: {why}")
    print(f"ipfix_check: {totals['captures']} captures, {totals['flows']} TCP/UDP flows, "
          f"{totals['matched']} read back equal by nfdump, "
          f"{totals['other_flows']} other flows, {len(failures)} captures differ"
          + (" (over TCP)" if a.tcp else ""))
    sys.exit(1 if failures or totals["captures"] == 0 else 0)


if __name__ == "__main__":
    main()
