#!/usr/bin/env python3
"""Writes io/cli/tests/captures/modbus-crafted.pcap: crafted Modbus/TCP
conversations (no Modbus device was at hand), each a TCP connection with
its handshake, one ADU per segment, every segment acknowledged, and a FIN
exchange. Covers the function families Suricata 7's modbus logger writes
apart: reads of coils, discrete inputs, holding and input registers, single
and multiple writes, mask write, read/write multiple registers,
diagnostics, MEI (device identification), exceptions, a request with
quantity 0, a write of a coil with an odd value, an unassigned function
code, a response nothing asked for, and a connection on port 5020 (found
by content). Usage: make-modbus-capture.py [OUT]
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "io", "cli", "tests", "captures", "modbus-crafted.pcap")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def packet(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = bytes(src) + bytes(dst) + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp + payload)) + tcp[18:]
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + tcp + payload


def adu(tid, unit, pdu, proto=0):
    return struct.pack("!HHHB", tid, proto, len(pdu) + 1, unit) + pdu


class Conn:
    def __init__(self, out, client, server, sport, dport, t):
        self.out, self.c, self.s, self.sp, self.dp = out, client, server, sport, dport
        self.cseq, self.sseq, self.t = 1000, 5000, t
        self.emit(True, 0x02)
        self.cseq += 1
        self.emit(False, 0x12)
        self.sseq += 1
        self.emit(True, 0x10)

    def emit(self, from_client, flags, payload=b""):
        self.t += 0.001
        if from_client:
            p = packet(self.c, self.s, self.sp, self.dp, self.cseq, self.sseq if flags != 0x02 else 0,
                       flags, payload)
        else:
            p = packet(self.s, self.c, self.dp, self.sp, self.sseq, self.cseq, flags, payload)
        self.out.append((self.t, p))

    def send(self, from_client, payload):
        self.emit(from_client, 0x18, payload)
        if from_client:
            self.cseq += len(payload)
        else:
            self.sseq += len(payload)
        # The peer acknowledges it.
        self.emit(not from_client, 0x10)

    def close(self):
        self.emit(True, 0x11)
        self.cseq += 1
        self.emit(False, 0x11)
        self.sseq += 1
        self.emit(True, 0x10)


def conversation(out, t, sport, dport, exchanges):
    c = Conn(out, [10, 0, 5, 1], [10, 0, 5, 2], sport, dport, t)
    for from_client, payload in exchanges:
        c.send(from_client, payload)
    c.close()
    return c.t + 1


def main():
    out = []
    t = 1_700_000_000.0
    u = 1
    main_exchanges = [
        # Read coils 0..19, 3 bytes back.
        (True, adu(1, u, b"\x01\x00\x00\x00\x14")),
        (False, adu(1, u, b"\x01\x03\xcd\x6b\x05")),
        # Read discrete inputs.
        (True, adu(2, u, b"\x02\x00\xc4\x00\x16")),
        (False, adu(2, u, b"\x02\x03\xac\xdb\x35")),
        # Read holding registers: 3 registers, 6 bytes.
        (True, adu(3, u, b"\x03\x00\x6b\x00\x03")),
        (False, adu(3, u, b"\x03\x06\x02\x2b\x00\x00\x00\x64")),
        # Read input registers.
        (True, adu(4, u, b"\x04\x00\x08\x00\x01")),
        (False, adu(4, u, b"\x04\x02\x00\x0a")),
        # Write single coil, echoed.
        (True, adu(5, u, b"\x05\x00\xac\xff\x00")),
        (False, adu(5, u, b"\x05\x00\xac\xff\x00")),
        # Write single register, echoed.
        (True, adu(6, u, b"\x06\x00\x01\x00\x03")),
        (False, adu(6, u, b"\x06\x00\x01\x00\x03")),
        # Write multiple coils: 10 coils, 2 bytes.
        (True, adu(7, u, b"\x0f\x00\x13\x00\x0a\x02\xcd\x01")),
        (False, adu(7, u, b"\x0f\x00\x13\x00\x0a")),
        # Write multiple registers: 2 registers.
        (True, adu(8, u, b"\x10\x00\x01\x00\x02\x04\x00\x0a\x01\x02")),
        (False, adu(8, u, b"\x10\x00\x01\x00\x02")),
        # Mask write register.
        (True, adu(9, u, b"\x16\x00\x04\x00\xf2\x00\x25")),
        (False, adu(9, u, b"\x16\x00\x04\x00\xf2\x00\x25")),
        # Read/write multiple registers.
        (True, adu(10, u, b"\x17\x00\x03\x00\x06\x00\x0e\x00\x03\x06\x00\xff\x00\xff\x00\xff")),
        (False, adu(10, u, b"\x17\x0c\x00\xfe\x0a\xcd\x00\x01\x00\x03\x00\x0d\x00\xff")),
        # Diagnostics: return query data.
        (True, adu(11, u, b"\x08\x00\x00\xa5\x37")),
        (False, adu(11, u, b"\x08\x00\x00\xa5\x37")),
        # Read device identification (MEI 14).
        (True, adu(12, u, b"\x2b\x0e\x01\x00")),
        (False, adu(12, u, b"\x2b\x0e\x01\x01\x00\x00\x01\x00\x04demo")),
        # Exception: illegal data address.
        (True, adu(13, u, b"\x03\x27\x10\x00\x01")),
        (False, adu(13, u, b"\x83\x02")),
        # Report server id.
        (True, adu(14, u, b"\x11")),
        (False, adu(14, u, b"\x11\x03\x0a\xff\x01")),
        # Quantity 0 (flagged) and its exception.
        (True, adu(15, u, b"\x03\x00\x00\x00\x00")),
        (False, adu(15, u, b"\x83\x03")),
        # A coil written with an odd value.
        (True, adu(16, u, b"\x05\x00\x01\x12\x34")),
        (False, adu(16, u, b"\x85\x03")),
        # An unassigned (user-defined) function code.
        (True, adu(17, u, b"\x41\x01\x02\x03")),
        (False, adu(17, u, b"\x41\x00")),
        # A response nothing asked for.
        (False, adu(99, u, b"\x03\x02\x00\x01")),
        # Two requests in one segment, answered out of order.
        (True, adu(18, u, b"\x03\x00\x00\x00\x01") + adu(19, u, b"\x01\x00\x00\x00\x08")),
        (False, adu(19, u, b"\x01\x01\x81")),
        (False, adu(18, u, b"\x03\x02\x12\x34")),
        # A request never answered.
        (True, adu(20, u, b"\x04\x00\x00\x00\x02")),
    ]
    t = conversation(out, t, 40001, 502, main_exchanges)
    t = conversation(out, t, 40002, 5020, [
        (True, adu(1, 7, b"\x03\x00\x10\x00\x02")),
        (False, adu(1, 7, b"\x03\x04\x00\x01\x00\x02")),
        (True, adu(2, 7, b"\x06\x00\x10\x00\x09")),
        (False, adu(2, 7, b"\x06\x00\x10\x00\x09")),
    ])
    path = sys.argv[1] if len(sys.argv) > 1 else OUT
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, p in out:
            sec = int(ts)
            usec = int(round((ts - sec) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(p), len(p)))
            f.write(p)
    print(f"wrote {path}: {len(out)} packets")


if __name__ == "__main__":
    main()
