#!/usr/bin/env python3
# Usage: scripts/grow_trace.py IN.pcap OUT.pcap N   (classic pcap, e.g. `editcap -F pcap`)
# Replicates a classic pcap N times with IPv4 addresses shifted per replica
# (second octet + r) and timestamps offset by r microseconds, merged in time
# order: a bigger trace with N times the flows, for scaling runs.
import heapq, struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, 'rb').read()
hdr, pos, pkts = data[:24], 24, []
linktype = struct.unpack('<I', hdr[20:24])[0]
while pos + 16 <= len(data):
    sec, usec, caplen, wire = struct.unpack('<IIII', data[pos:pos+16])
    pkts.append((sec * 1000000 + usec, data[pos+16:pos+16+caplen], wire))
    pos += 16 + caplen
def replica(r):
    for t, b, wire in pkts:
        if r and linktype == 1 and len(b) >= 34 and b[12:14] == b'\x08\x00':
            b = bytearray(b)
            b[27] = (b[27] + r) & 0xff
            b[31] = (b[31] + r) & 0xff
            b = bytes(b)
        yield (t + r, b, wire)
with open(dst, 'wb') as f:
    f.write(hdr)
    for t, b, wire in heapq.merge(*(replica(r) for r in range(n)), key=lambda p: p[0]):
        f.write(struct.pack('<IIII', t // 1000000, t % 1000000, len(b), wire))
        f.write(b)
