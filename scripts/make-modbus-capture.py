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
by content). The TCP and pcap framing is scripts/lib/tcpcraft.py's.
Usage: make-modbus-capture.py [OUT]
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "io", "cli", "tests", "captures", "modbus-crafted.pcap")
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "lib"))
from tcpcraft import conversation, write_pcap  # noqa: E402


def adu(tid, unit, pdu, proto=0):
    return struct.pack("!HHHB", tid, proto, len(pdu) + 1, unit) + pdu


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
    write_pcap(sys.argv[1] if len(sys.argv) > 1 else OUT, out)


if __name__ == "__main__":
    main()
