//! NFSv4 COMPOUNDs as Suricata 7 reads them: a call's operations (the
//! last PUTFH's handle for a READ, WRITE, COMMIT or CLOSE; OPEN's,
//! LOOKUP's, CREATE's and REMOVE's names), one transaction per COMPOUND
//! that CREATEs or REMOVEs, answered by that operation's status; READ
//! results feed the file transfer, an OPEN's GETFH maps the handle to the
//! name. The operations' arguments and results are read by `v4ops`, every
//! one of v4.0 to v4.2; a COMPOUND with one it cannot read is left whole
//! (`malformed_data`), as Suricata leaves one it cannot parse.

use super::rpc::{Call, Creds, Reply};
use super::state::{NfsState, ReadReply, Write, XidMap};
use super::v4ops::{CREATE, Op, REMOVE, Res, padded, request_op, result_op};
use crate::parsers::reader::Reader;

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

/// The COMPOUND's operations, all or none.
fn ops<'a>(data: &'a [u8]) -> Option<Vec<Op<'a>>> {
    let mut r = Reader::new(data);
    padded(&mut r)?;
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
        padded(&mut b)?;
        let n = b.u32()? as usize;
        let mut v = Vec::with_capacity(n.min(16));
        for _ in 0..n.min(MAX_OPS) {
            let (res, failed) = result_op(&mut b)?;
            v.push(res);
            if failed {
                break;
            }
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
