//! NFSv4 COMPOUNDs as Suricata 7 reads them: a call's operations (the
//! last PUTFH's handle for a READ, WRITE, COMMIT or CLOSE; OPEN's,
//! LOOKUP's, CREATE's and REMOVE's names), one transaction per COMPOUND
//! that CREATEs or REMOVEs, answered by that operation's status; READ
//! results feed the file transfer, an OPEN's GETFH maps the handle to the
//! name. A COMPOUND with an operation this module does not read is left
//! whole, as Suricata leaves one it cannot parse.

use super::rpc::{Call, Creds, Reply};
use super::state::{NfsState, ReadReply, Write, XidMap, opaque, u64};
use crate::parsers::reader::Reader;

use super::OP4_WRITE as WRITE;
const CREATE: u32 = 6;
const REMOVE: u32 = 28;
/// Operations read per COMPOUND.
const MAX_OPS: usize = 128;

/// An operation's name as Suricata writes it.
pub(super) fn op_name(p: u32) -> Option<&'static str> {
    const OPS: [&str; 40] = [
        "NULL",
        "COMPOUND",
        "2",
        "ACCESS",
        "CLOSE",
        "COMMIT",
        "CREATE",
        "DELEGPURGE",
        "DELEGRETURN",
        "GETATTR",
        "GETFH",
        "LINK",
        "LOCK",
        "LOCKT",
        "LOCKU",
        "LOOKUP",
        "LOOKUPP",
        "NVERIFY",
        "OPEN",
        "OPENATTR",
        "OPEN_CONFIRM",
        "OPEN_DOWNGRADE",
        "PUTFH",
        "PUTPUBFH",
        "PUTROOTFH",
        "READ",
        "READDIR",
        "READLINK",
        "REMOVE",
        "RENAME",
        "RENEW",
        "RESTOREFH",
        "SAVEFH",
        "SECINFO",
        "SETATTR",
        "SETCLIENTID",
        "SETCLIENTID_CONFIRM",
        "VERIFY",
        "WRITE",
        "RELEASE_LOCKOWNER",
    ];
    match p {
        2 => None,
        10044 => Some("ILLEGAL"),
        _ => OPS.get(p as usize).copied(),
    }
}

/// A request operation's effect.
enum Op<'a> {
    PutFh(&'a [u8]),
    Read(u64),
    Name(&'a [u8]),
    Write(Write<'a>),
    Commit,
    Close,
    Create(&'a [u8]),
    Remove(&'a [u8]),
    Other,
}

fn bitmap(r: &mut Reader<'_>) -> Option<()> {
    let n = r.u32()? as usize;
    r.take(n.checked_mul(4)?).map(|_| ())
}

fn fattr(r: &mut Reader<'_>) -> Option<()> {
    bitmap(r)?;
    opaque(r).map(|_| ())
}

fn request_op<'a>(r: &mut Reader<'a>) -> Option<Op<'a>> {
    Some(match r.u32()? {
        3 => {
            r.u32()?;
            Op::Other
        }
        4 => {
            r.take(4 + 16)?;
            Op::Close
        }
        5 => {
            r.take(12)?;
            Op::Commit
        }
        6 => {
            match r.u32()? {
                5 => {
                    opaque(r)?;
                }
                3 | 4 => {
                    r.take(8)?;
                }
                _ => {}
            }
            let name = opaque(r)?;
            fattr(r)?;
            Op::Create(name)
        }
        9 => {
            bitmap(r)?;
            Op::Other
        }
        10 | 16 | 23 | 27 | 31 | 32 => Op::Other,
        15 => Op::Name(opaque(r)?),
        18 => {
            r.take(12)?;
            r.take(8)?;
            opaque(r)?;
            if r.u32()? == 1 {
                match r.u32()? {
                    0 | 1 => fattr(r)?,
                    2 => {
                        r.take(8)?;
                    }
                    3 => {
                        r.take(8)?;
                        fattr(r)?;
                    }
                    _ => return None,
                }
            }
            match r.u32()? {
                0 => Op::Name(opaque(r)?),
                1 => {
                    r.u32()?;
                    Op::Other
                }
                2 => {
                    r.take(16)?;
                    Op::Name(opaque(r)?)
                }
                3 => Op::Name(opaque(r)?),
                4 | 6 => Op::Other,
                5 => {
                    r.take(16)?;
                    Op::Other
                }
                _ => return None,
            }
        }
        20 => {
            r.take(20)?;
            Op::Other
        }
        22 => Op::PutFh(opaque(r)?),
        24 => Op::Other,
        25 => {
            r.take(16)?;
            let offset = u64(r)?;
            r.u32()?;
            Op::Read(offset)
        }
        26 => {
            r.take(8 + 8 + 8)?;
            bitmap(r)?;
            Op::Other
        }
        28 => Op::Remove(opaque(r)?),
        29 => {
            opaque(r)?;
            opaque(r)?;
            Op::Other
        }
        30 => {
            r.take(8)?;
            Op::Other
        }
        33 => {
            opaque(r)?;
            Op::Other
        }
        34 => {
            r.take(16)?;
            fattr(r)?;
            Op::Other
        }
        35 => {
            r.take(8)?;
            opaque(r)?;
            r.u32()?;
            opaque(r)?;
            opaque(r)?;
            r.u32()?;
            Op::Other
        }
        36 => {
            r.take(16)?;
            Op::Other
        }
        38 => {
            r.take(16)?;
            u64(r)?;
            let stable = r.u32()?;
            let data = opaque(r)?;
            Op::Write(Write {
                handle: &[],
                count: data.len() as u32,
                stable,
                data,
            })
        }
        53 => {
            r.take(16 + 16)?;
            Op::Other
        }
        _ => return None,
    })
}

/// The COMPOUND's operations, all or none.
fn ops<'a>(data: &'a [u8]) -> Option<Vec<Op<'a>>> {
    let mut r = Reader::new(data);
    opaque(&mut r)?;
    r.u32()?;
    let n = r.u32()? as usize;
    let mut v = Vec::with_capacity(n.min(16));
    for _ in 0..n.min(MAX_OPS) {
        v.push(request_op(&mut r)?);
    }
    Some(v)
}

/// The arguments or results inside an RPCSEC_GSS integrity wrapper.
fn integrity(data: &[u8]) -> Option<&[u8]> {
    let mut r = Reader::new(data);
    let n = r.u32()?;
    if n >= 4096 {
        return None;
    }
    r.u32()?;
    r.take(n as usize)
}

/// A v4 call.
pub(super) fn call(st: &mut NfsState, c: &Call<'_>) {
    let mut x = XidMap {
        progver: c.progver,
        procedure: c.procedure,
        ..XidMap::default()
    };
    if c.procedure == 1 {
        let mut data = c.data;
        if let Creds::Gss {
            procedure: 0,
            service: 2,
        } = c.creds
        {
            match integrity(c.data) {
                Some(d) => {
                    data = d;
                    x.gss = (0, 2);
                }
                None => {
                    st.event("malformed_data");
                    return;
                }
            }
        }
        match ops(data) {
            Some(ops) => compound(st, c, &ops, &mut x),
            None => st.event("malformed_data"),
        }
    }
    st.remember(c.xid, x);
}

fn compound(st: &mut NfsState, c: &Call<'_>, ops: &[Op<'_>], x: &mut XidMap) {
    let mut fh: Option<&[u8]> = None;
    let mut main = 0;
    for op in ops {
        match op {
            Op::PutFh(h) => fh = Some(h),
            Op::Read(offset) => {
                if let Some(h) = fh {
                    x.chunk_offset = *offset;
                    x.file_handle = h.to_vec();
                    st.handle2name(x);
                }
            }
            Op::Name(n) => x.file_name = n.to_vec(),
            Op::Write(w) => {
                if let Some(h) = fh {
                    let w = Write { handle: h, ..*w };
                    st.write_call(c, &w, true);
                }
            }
            Op::Commit | Op::Close => {
                if let Some(h) = fh {
                    st.commit(c.xid, h, false);
                }
            }
            Op::Create(n) => {
                if let Some(h) = fh {
                    x.file_handle = h.to_vec();
                }
                x.file_name = n.to_vec();
                main = CREATE;
            }
            Op::Remove(n) => {
                x.file_name = n.to_vec();
                main = REMOVE;
            }
            Op::Other => {}
        }
    }
    if main != 0 {
        let tx = st.call_tx(c, main, x);
        st.push(tx);
    }
}

/// A result's effect.
enum Res<'a> {
    Status(u32),
    Read(u32, bool, &'a [u8]),
    Open,
    GetFh(&'a [u8]),
    RootFh(u32),
    Other,
}

fn result_op<'a>(r: &mut Reader<'a>) -> Option<Res<'a>> {
    let op = r.u32()?;
    let s = r.u32()?;
    if s != 0 {
        return Some(match op {
            CREATE | REMOVE => Res::Status(s),
            24 => Res::RootFh(s),
            34 => {
                bitmap(r)?;
                Res::Other
            }
            _ => Res::Other,
        });
    }
    Some(match op {
        3 => {
            r.take(8)?;
            Res::Other
        }
        4 | 36 => {
            if op == 4 {
                r.take(16)?;
            }
            Res::Other
        }
        5 => {
            r.take(8)?;
            Res::Other
        }
        CREATE => {
            r.take(20)?;
            bitmap(r)?;
            Res::Status(s)
        }
        9 => {
            fattr(r)?;
            Res::Other
        }
        10 => Res::GetFh(opaque(r)?),
        15 | 16 | 22 | 23 | 30 | 31 | 32 => Res::Other,
        24 => Res::RootFh(s),
        18 => {
            r.take(16 + 20 + 4)?;
            bitmap(r)?;
            if r.u32()? != 0 {
                return None;
            }
            Res::Open
        }
        25 => {
            let eof = r.u32()?;
            let data = opaque(r)?;
            Res::Read(s, eof != 0, data)
        }
        REMOVE => {
            r.take(20)?;
            Res::Status(s)
        }
        29 => {
            r.take(40)?;
            Res::Other
        }
        34 => {
            bitmap(r)?;
            Res::Other
        }
        35 => {
            r.take(16)?;
            Res::Other
        }
        WRITE => {
            r.take(16)?;
            Res::Other
        }
        53 => {
            r.take(16 + 20)?;
            Res::Other
        }
        _ => return None,
    })
}

/// A v4 reply.
pub(super) fn reply(st: &mut NfsState, r: &Reply<'_>, x: &mut XidMap) {
    if x.procedure != 1 {
        return;
    }
    let mut data = r.data;
    if x.gss == (0, 2) {
        match integrity(r.data) {
            Some(d) => data = d,
            None => {
                st.event("malformed_data");
                return;
            }
        }
    }
    let parsed = (|| {
        let mut b = Reader::new(data);
        b.u32()?;
        opaque(&mut b)?;
        let n = b.u32()? as usize;
        let mut v = Vec::with_capacity(n.min(16));
        for _ in 0..n.min(MAX_OPS) {
            v.push(result_op(&mut b)?);
        }
        Some(v)
    })();
    let Some(results) = parsed else {
        st.event("malformed_data");
        return;
    };
    let mut open = false;
    let mut main = None;
    for res in results {
        match res {
            Res::Status(s) => main = Some(s),
            Res::Read(s, eof, d) => {
                let rd = ReadReply {
                    status: s,
                    attr: &[],
                    count: d.len() as u32,
                    eof,
                    data_len: d.len() as u32,
                    data: d,
                };
                st.read_reply(r, &rd, x, false);
            }
            Res::Open => open = true,
            Res::GetFh(h) => {
                if open {
                    let name = x.file_name.clone();
                    st.insert_name(h, &name);
                }
            }
            Res::RootFh(s) => {
                if s == 0 && x.file_name.is_empty() {
                    x.file_name = b"<mount_root>".to_vec();
                }
            }
            Res::Other => {}
        }
    }
    if let Some(s) = main {
        st.mark_response(r.xid, r.reply_state, s, &[]);
    }
}
