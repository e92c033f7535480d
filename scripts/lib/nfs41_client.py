#!/usr/bin/env python3
"""A small NFSv4.1/4.2 client over TCP (ONC RPC with AUTH_SYS, XDR by hand)
that walks a server through what a modern client does: EXCHANGE_ID,
CREATE_SESSION, RECLAIM_COMPLETE, SECINFO_NO_NAME, lookups, a file
created with OPEN and written (WRITE, COMMIT), opened again and READ,
byte-range locks (LOCK, LOCKT, LOCKU), TEST_STATEID, FREE_STATEID, a
directory made with CREATE, a RENAME, REMOVEs (one of a missing name),
SEEK (v4.2), DESTROY_SESSION and DESTROY_CLIENTID. It exists to make real
traffic for the parser's tests (scripts/make-nfs41-capture.sh); handle
lengths are whatever the server gives, padding and all.

Usage: nfs41_client.py HOST EXPORT_NAME
"""

import socket
import struct
import sys

PROG, VERS, COMPOUND = 100003, 4, 1
OP = dict(
    ACCESS=3, CLOSE=4, COMMIT=5, CREATE=6, GETATTR=9, GETFH=10, LOCK=12,
    LOCKT=13, LOCKU=14, LOOKUP=15, OPEN=18, PUTFH=22, PUTROOTFH=24, READ=25,
    REMOVE=28, RENAME=29, RESTOREFH=31, SAVEFH=32, WRITE=38, EXCHANGE_ID=42,
    CREATE_SESSION=43, DESTROY_SESSION=44, FREE_STATEID=45,
    SECINFO_NO_NAME=52, SEQUENCE=53, TEST_STATEID=55, DESTROY_CLIENTID=57,
    RECLAIM_COMPLETE=58, SEEK=69,
)


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def opaque(b):
    if isinstance(b, str):
        b = b.encode()
    return u32(len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


class Reader:
    def __init__(self, b):
        self.b, self.i = b, 0

    def take(self, n):
        v = self.b[self.i:self.i + n]
        if len(v) != n:
            raise ValueError("short reply")
        self.i += n
        return v

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def opaque(self):
        n = self.u32()
        v = self.take(n)
        self.take((4 - n % 4) % 4)
        return v

    def bitmap(self):
        return [self.u32() for _ in range(self.u32())]

    def fattr(self):
        self.bitmap()
        return self.opaque()


class Client:
    def __init__(self, host):
        self.s = socket.create_connection((host, 2049), timeout=10)
        self.xid = 0x41000000
        self.session = None
        self.seq = 0
        self.minor = 1

    def rpc(self, proc, args):
        self.xid += 1
        creds = u32(0) + opaque("nfs41-client") + u32(0) + u32(0) + u32(0)
        msg = (u32(self.xid) + u32(0) + u32(2) + u32(PROG) + u32(VERS) + u32(proc)
               + u32(1) + opaque(creds) + u32(0) + u32(0) + args)
        self.s.sendall(u32(0x80000000 | len(msg)) + msg)
        data = b""
        while True:
            mark = self.recv(4)
            (m,) = struct.unpack(">I", mark)
            data += self.recv(m & 0x7FFFFFFF)
            if m & 0x80000000:
                break
        r = Reader(data)
        xid, mtype, reply_stat = r.u32(), r.u32(), r.u32()
        assert xid == self.xid and mtype == 1 and reply_stat == 0, "rpc denied"
        r.u32()
        r.opaque()
        assert r.u32() == 0, "rpc not accepted"
        return r

    def recv(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise ConnectionError("server closed")
            b += c
        return b

    def compound(self, ops, sequence=True, tag="flowscope"):
        """Sends the operations (each (opnum, encoded args)), prefixed by a
        SEQUENCE once there is a session; returns (status, reader at the
        first result after SEQUENCE's, number of results)."""
        if sequence and self.session:
            self.seq += 1
            ops = [(OP["SEQUENCE"], self.session + u32(self.seq) + u32(0) + u32(0) + u32(0))] + ops
        args = opaque(tag) + u32(self.minor) + u32(len(ops))
        for op, a in ops:
            args += u32(op) + a
        r = self.rpc(COMPOUND, args)
        status = r.u32()
        r.opaque()
        n = r.u32()
        if sequence and self.session:
            assert r.u32() == OP["SEQUENCE"]
            assert r.u32() == 0, "SEQUENCE failed"
            r.take(36)
            n -= 1
        return status, r, n


def result(r, op):
    got, status = r.u32(), r.u32()
    assert got == OP[op], (got, op)
    return status


def main():
    host, export = sys.argv[1], sys.argv[2]
    c = Client(host)
    c.rpc(0, b"")  # NULL

    # EXCHANGE_ID: owner, flags, SP4_NONE, an implementation id.
    impl = u32(1) + opaque("flowscope.test") + opaque("nfs41_client.py") + u64(0) + u32(0)
    st, r, _ = c.compound([(OP["EXCHANGE_ID"], u64(0x1122334455667788) + opaque("flowscope-nfs41-client")
                           + u32(0) + u32(0) + impl)], sequence=False)
    assert st == 0 and result(r, "EXCHANGE_ID") == 0, st
    clientid, seqid = r.u64(), r.u32()

    attrs = u32(0) + u32(1048576) + u32(1048576) + u32(4096) + u32(8) + u32(16) + u32(0)
    st, r, _ = c.compound([(OP["CREATE_SESSION"], u64(clientid) + u32(seqid) + u32(0) + attrs + attrs
                           + u32(0x40000000) + u32(1) + u32(1) + u32(0) + opaque("nfs41-client")
                           + u32(0) + u32(0) + u32(0))], sequence=False)
    assert st == 0 and result(r, "CREATE_SESSION") == 0, st
    c.session = r.take(16)

    st, _, _ = c.compound([(OP["RECLAIM_COMPLETE"], u32(0))])
    assert st == 0, st
    st, _, _ = c.compound([(OP["PUTROOTFH"], b""), (OP["SECINFO_NO_NAME"], u32(0))])
    assert st == 0, st

    # The export's directory.
    getattr_args = u32(2) + u32(0x0010011A) + u32(0x00B0A23A)
    st, r, _ = c.compound([(OP["PUTROOTFH"], b""), (OP["LOOKUP"], opaque(export)),
                           (OP["GETFH"], b""), (OP["GETATTR"], getattr_args)])
    assert st == 0, st
    result(r, "PUTROOTFH")
    result(r, "LOOKUP")
    result(r, "GETFH")
    dirfh = r.opaque()

    def open_file(name, create, owner):
        how = u32(0)
        if create:
            how = u32(1) + u32(0) + u32(2) + u32(0) + u32(2) + opaque(u32(0o644))
        args = (u32(0) + u32(3 if create else 1) + u32(0) + u64(clientid) + opaque(owner)
                + how + u32(0) + opaque(name))
        st, r, _ = c.compound([(OP["PUTFH"], opaque(dirfh)), (OP["OPEN"], args), (OP["GETFH"], b""),
                               (OP["ACCESS"], u32(0x3F))])
        assert st == 0, (name, st)
        result(r, "PUTFH")
        result(r, "OPEN")
        stateid = r.take(16)
        r.take(20 + 4)
        r.bitmap()
        deleg = r.u32()
        if deleg == 1:
            r.take(16 + 4 + 12)
            r.opaque()
        elif deleg == 2:
            r.take(16 + 4)
            r.take(4 + 8)
            r.take(12)
            r.opaque()
        elif deleg == 3:
            if r.u32() in (1, 2):
                r.u32()
        result(r, "GETFH")
        return r.opaque(), stateid

    # A file created and written, unstable then committed.
    fh2, st2 = open_file("written41.txt", True, "owner-write")
    body = b"flowscope nfs 4.1 write test\n" * 37
    st, _, _ = c.compound([(OP["PUTFH"], opaque(fh2)), (OP["WRITE"], st2 + u64(0) + u32(0) + opaque(body))])
    assert st == 0, st
    st, _, _ = c.compound([(OP["PUTFH"], opaque(fh2)), (OP["COMMIT"], u64(0) + u32(0)),
                           (OP["CLOSE"], u32(0) + st2)])
    assert st == 0, st

    # The file opened again and read in two chunks.
    fh, stateid = open_file("written41.txt", False, "owner-read")
    for offset in (0, 512):
        st, r, _ = c.compound([(OP["PUTFH"], opaque(fh)), (OP["READ"], stateid + u64(offset) + u32(4096))])
        assert st == 0, st

    # Byte-range locks: a new lock owner, a test from another, an unlock.
    st, r, _ = c.compound([(OP["PUTFH"], opaque(fh)), (OP["LOCK"], u32(1) + u32(0) + u64(0) + u64(10) + u32(1)
                           + u32(0) + stateid + u32(0) + u64(clientid) + opaque("lock-owner-1"))])
    assert st == 0, st
    result(r, "PUTFH")
    result(r, "LOCK")
    lock_stateid = r.take(16)
    st, _, _ = c.compound([(OP["PUTFH"], opaque(fh)), (OP["LOCKT"], u32(2) + u64(0) + u64(10) + u64(clientid)
                          + opaque("lock-owner-2"))])
    st, r, _ = c.compound([(OP["PUTFH"], opaque(fh)), (OP["LOCKU"], u32(1) + u32(0) + lock_stateid + u64(0) + u64(10))])
    assert st == 0, st
    result(r, "PUTFH")
    result(r, "LOCKU")
    lock_stateid = r.take(16)
    st, _, _ = c.compound([(OP["TEST_STATEID"], u32(2) + stateid + lock_stateid)])
    assert st == 0, st
    st, _, _ = c.compound([(OP["FREE_STATEID"], lock_stateid)])
    st, _, _ = c.compound([(OP["PUTFH"], opaque(fh)), (OP["CLOSE"], u32(0) + stateid)])
    assert st == 0, st

    # v4.2: where the data is (SEEK for data from 0).
    c.minor = 2
    c.compound([(OP["PUTFH"], opaque(fh)), (OP["SEEK"], b"\0" * 16 + u64(0) + u32(0))])
    c.minor = 1

    # A directory, a rename, a remove and a remove of a missing name.
    st, _, _ = c.compound([(OP["PUTFH"], opaque(dirfh)), (OP["CREATE"], u32(2) + opaque("dir41")
                           + u32(2) + u32(0) + u32(2) + opaque(u32(0o755))), (OP["GETFH"], b"")])
    assert st == 0, st
    st, _, _ = c.compound([(OP["PUTFH"], opaque(dirfh)), (OP["SAVEFH"], b""),
                           (OP["RENAME"], opaque("written41.txt") + opaque("renamed41.txt"))])
    assert st == 0, st
    st, _, _ = c.compound([(OP["PUTFH"], opaque(dirfh)), (OP["REMOVE"], opaque("renamed41.txt"))])
    assert st == 0, st
    st, _, _ = c.compound([(OP["PUTFH"], opaque(dirfh)), (OP["REMOVE"], opaque("missing41.txt"))])
    assert st != 0, st

    st, _, _ = c.compound([(OP["DESTROY_SESSION"], c.session)], sequence=False)
    assert st == 0, st
    c.session = None
    st, _, _ = c.compound([(OP["DESTROY_CLIENTID"], u64(clientid))], sequence=False)
    print("nfs41 client done")


if __name__ == "__main__":
    main()
