#!/usr/bin/env python3
# Usage: scripts/gap_trace.py N OUT.pcap [GAP_SECONDS]
# N one-packet UDP flows (10.a.b.c -> 192.168.0.1) within one second, then
# one more packet GAP_SECONDS (default 7200) later: at the boundary after
# it every flow is due by the idle timeout and, with `flow.active_timeout`
# set, by the active one too. For timer batches as large as the table.
import struct, sys
n, out = int(sys.argv[1]), open(sys.argv[2], 'wb')
gap = float(sys.argv[3]) if len(sys.argv) > 3 else 7200.0
out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
eth = bytes.fromhex('001122334455' '66778899aabb' '0800')
def packet(ts, i):
    src = bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])
    payload = b'x' * 8
    udp = struct.pack('>HHHH', 1000, 5000 + i % 7, 8 + len(payload), 0) + payload
    ip = bytearray(struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0,
                               64, 17, 0, src, bytes([192, 168, 0, 1])))
    s = sum((ip[k] << 8) | ip[k + 1] for k in range(0, 20, 2))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    ip[10:12] = struct.pack('>H', ~s & 0xffff)
    frame = eth + bytes(ip) + udp
    sec, usec = int(ts), int(round((ts - int(ts)) * 1e6)) % 1000000
    out.write(struct.pack('<IIII', sec, usec, len(frame), len(frame)) + frame)
t0 = 1_700_000_000
for i in range(n):
    packet(t0 + i / n, i)
packet(t0 + gap, n + 1)
