"""Crafts TCP conversations into a classic pcap, for the capture scripts of
protocols with no program at hand to make real traffic
(make-modbus-capture.py, make-dnp3-capture.py): Ethernet, IPv4 and TCP
headers with right checksums, a connection with its handshake, each
payload in one segment acknowledged by the peer, and a FIN exchange.

    out = []
    c = Conn(out, CLIENT_IP, SERVER_IP, sport, dport, t)
    c.send(True, b"...")     # from the client, then the server's ACK
    c.close()
    write_pcap(path, out)

or conversation(out, t, sport, dport, [(from_client, payload), ...]).
Timestamps move 1 ms per packet, so the same input gives the same bytes.
"""
import struct

# The endpoints conversation() uses unless told others.
CLIENT = [10, 0, 5, 1]
SERVER = [10, 0, 5, 2]


def csum(data):
    """The Internet checksum of `data`."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def packet(src, dst, sport, dport, seq, ack, flags, payload=b""):
    """One Ethernet/IPv4/TCP frame (DF set, window 65535, no options)."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = bytes(src) + bytes(dst) + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp + payload)) + tcp[18:]
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + tcp + payload


class Conn:
    """A TCP connection: the handshake when made, then segments appended
    to `out` as (timestamp, frame)."""

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
        """One segment (PSH, ACK) with `payload`, then the peer's ACK."""
        self.emit(from_client, 0x18, payload)
        if from_client:
            self.cseq += len(payload)
        else:
            self.sseq += len(payload)
        # The peer acknowledges it.
        self.emit(not from_client, 0x10)

    def close(self):
        """FIN from the client, FIN from the server, the last ACK."""
        self.emit(True, 0x11)
        self.cseq += 1
        self.emit(False, 0x11)
        self.sseq += 1
        self.emit(True, 0x10)


def conversation(out, t, sport, dport, exchanges, client=CLIENT, server=SERVER):
    """A whole connection: handshake, each (from_client, payload) sent and
    acknowledged, FIN. Returns the time one second after its end."""
    c = Conn(out, client, server, sport, dport, t)
    for from_client, payload in exchanges:
        c.send(from_client, payload)
    c.close()
    return c.t + 1


def write_pcap(path, out):
    """Writes the (timestamp, frame) list as a pcap (microseconds,
    Ethernet)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, p in out:
            sec = int(ts)
            usec = int(round((ts - sec) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(p), len(p)))
            f.write(p)
    print(f"wrote {path}: {len(out)} packets")
