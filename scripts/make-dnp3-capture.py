#!/usr/bin/env python3
"""Writes io/cli/tests/captures/dnp3-crafted.pcap: crafted DNP3 over TCP
(no DNP3 master or outstation is packaged in Debian), each conversation a
TCP connection with its handshake, every segment acknowledged, and a FIN
exchange (scripts/lib/tcpcraft.py). The frames are real DNP3: link headers
(0x05 0x64, length, control, destination, source) with their CRC and user
data in blocks of 16 bytes each followed by its CRC-16/DNP, transport
headers (FIR, FIN, sequence), application headers (control, function
code, the IIN on responses) and object headers with their points.

Master 1 and outstation 1024. Port 20000, the main connection: link
status request and reply; read of class 0 (g60v1) answered with binary
inputs (g1v2), binary output status (g10v2), counters (g20v1), analog
inputs (g30v1, g30v2, negative values among them) and the time (g50v1),
IIN device_restart and need_time; write of the time (g50v1) and of the
restart bit (g80v1); read of classes 1, 2, 3 answered with events (g2v2);
SELECT then OPERATE of a CROB (g12v1), the SELECT's frame split across two
TCP segments, and DIRECT_OPERATE of an analog output (g41v2), each echoed;
a read whose second data block has a wrong CRC, sent again right, and its
response in three transport segments (FIR, middle, FIN) over three link
frames, two of them in one TCP segment; COLD_RESTART and its g52v2
response; unsolicited responses (function 130, confirmed user data) and
their confirmations, one confirmation in the same TCP segment as the next
request; a function the outstation does not support (IIN2
no_func_code_support); a response in three transport segments whose
middle one has a wrong CRC (never whole); a response in two application
fragments (FIR, then FIN), the second frame cut inside its link header.
More connections, on port 20000 but the last: a read and its response,
then a frame whose link header CRC is wrong, then a read and a response
that follow it; two outstations (1024, 1025) behind one connection, their
responses' transport segments interleaved and both FIN segments in one
TCP segment, the one opened second first, packed binary inputs (g1v1, 8
points in one octet: Suricata reads count / 8 + 1 octets) and a counter
whose bytes spell "DNP3" (the segment is taken for a banner); an
outstation that speaks first (an unsolicited null response); an
outstation that sends a banner first; an outstation that is the TCP
client; a first frame whose link header CRC is wrong; a response frame
too short for its IIN, with a read and response after it; port 20500: a
read and its response (found by content).
Usage: make-dnp3-capture.py [OUT]
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "io", "cli", "tests", "captures", "dnp3-crafted.pcap")
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "lib"))
from tcpcraft import Conn, write_pcap  # noqa: E402

MASTER = 1
OUTSTATION = 1024
CLIENT = [10, 0, 6, 1]
SERVER = [10, 0, 6, 2]

# Application function codes.
CONFIRM, READ, WRITE, SELECT, OPERATE, DIRECT_OPERATE = 0, 1, 2, 3, 4, 5
COLD_RESTART, INITIALIZE_APPLICATION = 13, 16
RESPONSE, UNSOLICITED = 129, 130

# Link control bytes: DIR (from the master), PRM, FCB, FCV, function.
M_UNCONFIRMED = 0xC4          # DIR PRM, unconfirmed user data
M_CONFIRMED = 0xF3            # DIR PRM FCB FCV, confirmed user data
M_LINK_STATUS = 0xC9          # DIR PRM, request link status
M_ACK = 0x80                  # DIR, ACK (secondary)
O_UNCONFIRMED = 0x44          # PRM, unconfirmed user data
O_CONFIRMED = 0x53            # PRM FCV, confirmed user data
O_LINK_STATUS = 0x0B          # link status (secondary)
O_ACK = 0x00                  # ACK (secondary)

# A DNP3 time: milliseconds since 1970 (2023-11-14 22:13:20 UTC).
T0 = 1_700_000_000_000


def crc16(data):
    """CRC-16/DNP: polynomial 0x3D65 reflected (0xA6BC), initial 0,
    complemented."""
    c = 0
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0xA6BC if c & 1 else c >> 1
    return ~c & 0xFFFF


def with_crc(block, bad=False):
    c = crc16(block) ^ (0x5A5A if bad else 0)
    return bytes(block) + struct.pack("<H", c)


def link(control, dst, src, user=b"", bad_header=False, bad_block=None):
    """A link frame: header and CRC, then the user data (transport header
    first) in blocks of 16 with their CRCs; `bad_header` spoils the
    header's CRC, `bad_block` (an index) that block's."""
    assert len(user) <= 250
    header = bytes([0x05, 0x64, len(user) + 5, control]) + struct.pack("<HH", dst, src)
    out = with_crc(header, bad_header)
    for i in range(0, len(user), 16):
        out += with_crc(user[i:i + 16], bad_block == i // 16)
    return out


class Station:
    """One end's transport sequence numbers and link addresses."""

    def __init__(self, me, peer, control):
        self.me, self.peer, self.control, self.tseq = me, peer, control, 0

    def frames(self, fragment, parts=1, control=None, **bad):
        """The fragment in `parts` transport segments (FIR on the first,
        FIN on the last), one link frame each; `bad` goes to the frame of
        segment `bad_segment`."""
        size = -(-len(fragment) // parts)
        chunks = [fragment[i:i + size] for i in range(0, len(fragment), size)]
        out = []
        which = bad.pop("bad_segment", 0)
        for i, chunk in enumerate(chunks):
            th = (0x40 if i == 0 else 0) | (0x80 if i == len(chunks) - 1 else 0) | self.tseq
            self.tseq = (self.tseq + 1) % 64
            spoil = bad if i == which else {}
            out.append(link(control or self.control, self.peer, self.me, bytes([th]) + chunk,
                            **spoil))
        return out

    def frame(self, fragment, control=None, **bad):
        return self.frames(fragment, 1, control, **bad)[0]


def request(seq, function, objects=b""):
    """An application request: control FIR FIN and the sequence."""
    return bytes([0xC0 | seq, function]) + objects


def response(seq, iin, objects=b"", function=RESPONSE, control=0xC0):
    """An application response (`control` FIR FIN by default) with its IIN
    (IIN1 high byte)."""
    return bytes([control | seq, function]) + struct.pack(">H", iin) + objects


def unsolicited(seq, iin, objects=b""):
    """An unsolicited response: FIR FIN CON UNS."""
    return response(seq, iin, objects, UNSOLICITED, 0xF0)


def confirm(seq, uns=False):
    return bytes([0xC0 | (0x10 if uns else 0) | seq, CONFIRM])


def head(group, variation, qualifier):
    return bytes([group, variation, qualifier])


def packed8(group, variation, start, count, data):
    """Qualifier 0x00: 1-byte start and stop over `count` points, then
    their `data` (for packed points, bits in octets)."""
    return head(group, variation, 0x00) + bytes([start, start + count - 1]) + data


def range8(group, variation, start, points):
    """Qualifier 0x00 over whole-byte points."""
    return packed8(group, variation, start, len(points), b"".join(points))


def range16(group, variation, start, points):
    """Qualifier 0x01: 2-byte start and stop."""
    return head(group, variation, 0x01) + struct.pack("<HH", start, start + len(points) - 1) \
        + b"".join(points)


def count8(group, variation, points):
    """Qualifier 0x07: a 1-byte count, no prefix."""
    return head(group, variation, 0x07) + bytes([len(points)]) + b"".join(points)


def indexed16(group, variation, points):
    """Qualifier 0x28: a 2-byte count, each point after its 2-byte index."""
    return head(group, variation, 0x28) + struct.pack("<H", len(points)) + b"".join(
        struct.pack("<H", i) + p for i, p in points)


def every(group, variation):
    """Qualifier 0x06: all points."""
    return head(group, variation, 0x06)


def time48(ms):
    return struct.pack("<Q", ms)[:6]


def crob(op_type, count, on_ms, off_ms, status=0, tcc=0, qu=0, cr=0):
    """A control relay output block (g12v1)."""
    return bytes([op_type | qu << 4 | cr << 5 | tcc << 6, count]) \
        + struct.pack("<II", on_ms, off_ms) + bytes([status])


def flags(online=True, restart=False, state=False):
    return bytes([int(online) | int(restart) << 1 | int(state) << 7])


# IIN bits (IIN1 high byte).
DEVICE_RESTART, NEED_TIME = 0x8000, 0x1000
CLASS_1, CLASS_2, CLASS_3 = 0x0200, 0x0400, 0x0800
NO_FUNC_CODE_SUPPORT = 0x0001


def class0_objects(n=1):
    """Static data of every kind asked for, `n` times the points."""
    bi = [flags(state=i % 2 == 0) for i in range(4 * n)]
    bo = [flags(state=i == 1) for i in range(2 * n)]
    counters = [flags() + struct.pack("<I", 1000 * i + 7) for i in range(2 * n)]
    ai32 = [flags() + struct.pack("<i", v) for v in [123456, -2] * n]
    ai16 = [flags() + struct.pack("<h", v) for v in [0, -300, 32767] * n]
    return (range8(1, 2, 0, bi) + range8(10, 2, 0, bo) + range8(20, 1, 0, counters)
            + range16(30, 1, 10, ai32) + range8(30, 2, 0, ai16))


def stations():
    """Master 1 and outstation 1024, each framing what it sends."""
    return Station(MASTER, OUTSTATION, M_UNCONFIRMED), Station(OUTSTATION, MASTER, O_UNCONFIRMED)


def main_conversation(out, t):
    c = Conn(out, CLIENT, SERVER, 41001, 20000, t)
    m, o = stations()

    # Link layer only: request link status, link status.
    c.send(True, link(M_LINK_STATUS, OUTSTATION, MASTER))
    c.send(False, link(O_LINK_STATUS, MASTER, OUTSTATION))

    # Read class 0; static data, the time, IIN device_restart need_time.
    c.send(True, m.frame(request(0, READ, every(60, 1))))
    c.send(False, o.frame(response(0, DEVICE_RESTART | NEED_TIME,
                                   class0_objects() + count8(50, 1, [time48(T0)]))))

    # Write the time, then clear the restart bit (g80v1 index 7).
    c.send(True, m.frame(request(1, WRITE, count8(50, 1, [time48(T0 + 2500)]))))
    c.send(False, o.frame(response(1, DEVICE_RESTART)))
    c.send(True, m.frame(request(2, WRITE, range8(80, 1, 7, [b"\x00"]))))
    c.send(False, o.frame(response(2, 0)))

    # Read classes 1, 2, 3: binary input events with their time.
    c.send(True, m.frame(request(3, READ, every(60, 2) + every(60, 3) + every(60, 4))))
    events = indexed16(2, 2, [(1, flags(state=True) + time48(T0 + 10)),
                              (3, flags(state=False) + time48(T0 + 20))])
    c.send(False, o.frame(response(3, CLASS_1 | CLASS_2, events)))

    # SELECT then OPERATE of a CROB (latch on, index 5), confirmed user
    # data acknowledged at the link layer; the SELECT's frame is cut in
    # two TCP segments in its first data block.
    cmd = indexed16(12, 1, [(5, crob(3, 1, 1000, 0))])
    select = m.frame(request(4, SELECT, cmd), M_CONFIRMED)
    c.send(True, select[:14])
    c.send(True, select[14:])
    c.send(False, link(O_ACK, MASTER, OUTSTATION) + o.frame(response(4, 0, cmd)))
    c.send(True, m.frame(request(5, OPERATE, cmd), M_CONFIRMED))
    c.send(False, link(O_ACK, MASTER, OUTSTATION))
    c.send(False, o.frame(response(5, 0, cmd)))

    # DIRECT_OPERATE of an analog output (g41v2, index 2, -1234).
    ao = indexed16(41, 2, [(2, struct.pack("<hB", -1234, 0))])
    c.send(True, m.frame(request(6, DIRECT_OPERATE, ao)))
    c.send(False, o.frame(response(6, 0, ao)))

    # A read of every static type (variation 0) and class 0, its second
    # data block's CRC wrong; sent again, right; the response in three
    # transport segments, the last two link frames in one TCP segment.
    read_all = every(1, 0) + every(10, 0) + every(20, 0) + every(30, 0) + every(60, 1)
    c.send(True, m.frame(request(7, READ, read_all), bad_block=1))
    c.send(True, m.frame(request(7, READ, read_all)))
    first, middle, last = o.frames(response(7, 0, class0_objects(2)), 3)
    c.send(False, first)
    c.send(False, middle + last)

    # Cold restart, and the delay (g52v2, 5000 ms).
    c.send(True, m.frame(request(8, COLD_RESTART)))
    c.send(False, o.frame(response(8, 0, count8(52, 2, [struct.pack("<H", 5000)]))))

    # After the restart, an unsolicited null response and its
    # confirmation, then one with events, confirmed user data
    # acknowledged by the master's link layer; its confirmation shares a
    # TCP segment with the next request.
    c.send(False, o.frame(unsolicited(0, DEVICE_RESTART | NEED_TIME)))
    c.send(True, m.frame(confirm(0, uns=True)))
    events = indexed16(2, 2, [(0, flags(restart=True) + time48(T0 + 9000))])
    c.send(False, o.frame(unsolicited(1, DEVICE_RESTART | NEED_TIME | CLASS_1, events),
                          O_CONFIRMED))
    # A function the outstation does not support.
    c.send(True, link(M_ACK, OUTSTATION, MASTER) + m.frame(confirm(1, uns=True))
           + m.frame(request(9, INITIALIZE_APPLICATION)))
    c.send(False, o.frame(response(9, DEVICE_RESTART | NEED_TIME | NO_FUNC_CODE_SUPPORT)))

    # A response whose middle transport segment has a wrong CRC: never
    # whole.
    c.send(True, m.frame(request(10, READ, every(60, 1))))
    for f in o.frames(response(10, DEVICE_RESTART, class0_objects()), 3,
                      bad_segment=1, bad_block=0):
        c.send(False, f)

    # A response in two application fragments (FIR, then FIN); a TCP
    # segment holds the first frame and the second's first 6 bytes (inside
    # its link header).
    c.send(True, m.frame(request(11, READ, every(60, 1))))
    first = o.frame(response(11, 0, range8(1, 2, 0, [flags()] * 3), control=0x80))
    second = o.frame(response(12, 0, range8(30, 2, 0, [flags() + b"\x05\x00"]), control=0x40))
    c.send(False, first + second[:6])
    c.send(False, second[6:])
    c.close()
    return c.t + 1


def bad_header_conversation(out, t):
    c = Conn(out, CLIENT, SERVER, 41002, 20000, t)
    m, o = stations()
    c.send(True, m.frame(request(0, READ, every(60, 1))))
    c.send(False, o.frame(response(0, NEED_TIME, range8(1, 2, 0, [flags(), flags(state=True)]))))
    # A read whose link header CRC is wrong, then reads that follow it.
    c.send(True, m.frame(request(1, READ, every(60, 2)), bad_header=True))
    c.send(True, m.frame(request(2, READ, every(60, 1))))
    c.send(False, o.frame(response(2, 0, range8(1, 2, 0, [flags()]))))
    c.close()
    return c.t + 1


def other_port_conversation(out, t):
    c = Conn(out, CLIENT, SERVER, 41003, 20500, t)
    m, o = stations()
    c.send(True, m.frame(request(0, READ, every(60, 1))))
    c.send(False, o.frame(response(0, 0, range8(20, 1, 0, [flags() + struct.pack("<I", 42)]))))
    c.close()
    return c.t + 1


def multidrop_conversation(out, t):
    """Two outstations behind one TCP connection (a gateway)."""
    c = Conn(out, CLIENT, SERVER, 41004, 20000, t)
    m = Station(MASTER, OUTSTATION, M_UNCONFIRMED)
    o1 = Station(OUTSTATION, MASTER, O_UNCONFIRMED)
    m2 = Station(MASTER, OUTSTATION + 1, M_UNCONFIRMED)
    o2 = Station(OUTSTATION + 1, MASTER, O_UNCONFIRMED)
    # Both read; the responses' transport segments interleave, the later
    # one's FIN first, both FINs in one TCP segment.
    c.send(True, m.frame(request(0, READ, every(60, 1))) + m2.frame(request(0, READ, every(60, 1))))
    a = o1.frames(response(0, 0, class0_objects()), 2)
    b = o2.frames(response(0, NEED_TIME, class0_objects()), 2)
    c.send(False, a[0])
    c.send(False, b[0])
    c.send(False, b[1] + a[1])
    # Packed binary inputs (g1v1): 12 points in 2 octets, then 8 points
    # in 1 octet, the last object (Suricata reads count / 8 + 1 octets).
    c.send(True, m.frame(request(1, READ, every(1, 1))))
    packed = packed8(1, 1, 0, 12, b"\x5a\x0f") + packed8(1, 1, 0, 8, b"\xa5")
    c.send(False, o1.frame(response(1, 0, packed)))
    # A counter whose value spells "DNP3": the TCP segment holding it is
    # taken for a banner.
    c.send(True, m2.frame(request(1, READ, every(20, 1))))
    c.send(False, o2.frame(response(1, 0, range8(20, 1, 0, [flags() + b"DNP3"]))))
    c.send(True, m2.frame(request(2, READ, every(20, 1))))
    c.send(False, o2.frame(response(2, 0, range8(20, 1, 0, [flags() + b"DNP4"]))))
    c.close()
    return c.t + 1


def server_first_conversation(out, t, sport, banner=None):
    """The outstation speaks first: a banner, or an unsolicited null
    response."""
    c = Conn(out, CLIENT, SERVER, sport, 20000, t)
    m, o = stations()
    if banner:
        c.send(False, banner)
    else:
        c.send(False, o.frame(unsolicited(0, DEVICE_RESTART)))
        c.send(True, m.frame(confirm(0, uns=True)))
    c.send(True, m.frame(request(0, READ, every(60, 1))))
    c.send(False, o.frame(response(0, 0, range8(10, 2, 0, [flags(state=True)]))))
    c.close()
    return c.t + 1


def outstation_client_conversation(out, t):
    """The outstation is the TCP client (it dials the master)."""
    c = Conn(out, CLIENT, SERVER, 41007, 20000, t)
    m, o = stations()
    c.send(True, o.frame(unsolicited(0, DEVICE_RESTART)))
    c.send(False, m.frame(confirm(0, uns=True)))
    c.send(False, m.frame(request(0, READ, every(60, 1))))
    c.send(True, o.frame(response(0, 0, range8(1, 2, 0, [flags(state=True)]))))
    c.close()
    return c.t + 1


def damaged_start_conversation(out, t):
    """The first frame's link header CRC is wrong."""
    c = Conn(out, CLIENT, SERVER, 41008, 20000, t)
    m, o = stations()
    c.send(True, m.frame(request(0, READ, every(60, 1)), bad_header=True))
    c.send(True, m.frame(request(1, READ, every(60, 1))))
    c.send(False, o.frame(response(1, 0)))
    c.close()
    return c.t + 1


def short_response_conversation(out, t):
    """A response frame too short for its IIN."""
    c = Conn(out, CLIENT, SERVER, 41009, 20000, t)
    m, o = stations()
    c.send(True, m.frame(request(0, READ, every(60, 1))))
    c.send(False, o.frame(response(0, 0)))
    c.send(True, m.frame(request(1, READ, every(60, 1))))
    c.send(False, o.frame(bytes([0xC1, RESPONSE])))
    c.send(True, m.frame(request(2, READ, every(60, 1))))
    c.send(False, o.frame(response(2, 0)))
    c.close()
    return c.t + 1


def main():
    out = []
    t = 1_700_000_000.0
    t = main_conversation(out, t)
    t = bad_header_conversation(out, t)
    t = other_port_conversation(out, t)
    t = multidrop_conversation(out, t)
    t = server_first_conversation(out, t, 41005)
    t = server_first_conversation(out, t, 41006, b"DNP3 outstation ready\r\n")
    t = outstation_client_conversation(out, t)
    t = damaged_start_conversation(out, t)
    short_response_conversation(out, t)
    write_pcap(sys.argv[1] if len(sys.argv) > 1 else OUT, out)


if __name__ == "__main__":
    main()
