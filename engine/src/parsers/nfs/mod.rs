//! NFS v2, v3 and v4 over ONC RPC, as Suricata 7 logs it: [`NfsTcpParser`]
//! (RPC record marking: a 4-byte mark per fragment, each fragment read as
//! a record, as Suricata does) and [`NfsUdpParser`] (one message per
//! datagram) feed one per-flow state (module `state`), which turns calls and
//! replies into Suricata's transactions: one per call (file names from
//! LOOKUP, CREATE, REMOVE, RENAME... and from the handle-to-name map that
//! LOOKUP, CREATE and READDIRPLUS answers fill), one per file transfer
//! (every READ of a handle up to the end of file, every WRITE up to a
//! COMMIT or a FILE_SYNC write), NFSv4 COMPOUNDs that CREATE or REMOVE.
//! Each finished transaction is one [`NfsRecord`]; v2/v3 GETATTR ones are
//! left out, as Suricata's logger filters them. File data is counted,
//! never kept; buffered record bytes ([`NfsConfig::max_record`]),
//! transactions and calls waiting for their reply
//! ([`NfsConfig::max_tx`]) and the handle-to-name map are capped.
//! [`probe_tcp`]/[`probe_udp`]: an RPC call of program 100003 (rpcvers 2)
//! or a reply that accepts one.

mod rpc;
mod state;
mod tcp;
mod udp;
mod v4;
mod v4ops;

#[cfg(test)]
mod tests;

pub use tcp::NfsTcpParser;
pub use udp::NfsUdpParser;

use super::L7Message;
use super::config::NfsConfig;
use crate::FlowSide;
use crate::session::Probe;

/// NFSv4's READ operation.
const OP4_READ: u32 = 25;
/// NFSv4's WRITE operation.
const OP4_WRITE: u32 = 38;

/// A call, by its version (`udp`: only v2 and v3 are read, as Suricata
/// reads them).
fn on_call(s: &mut state::NfsState, c: &rpc::Call<'_>, udp: bool) {
    match c.progver {
        4 if !udp => v4::call(s, c),
        3 => s.call_v3(c),
        2 => s.call_v2(c),
        _ => {}
    }
}

/// A reply: the call's procedure decides how its results are read.
fn on_reply(s: &mut state::NfsState, r: &rpc::Reply<'_>) {
    let Some(mut x) = s.take_request(r.xid) else {
        return;
    };
    if s.version == 0 {
        s.version = x.progver as u16;
    }
    match x.progver {
        2 => s.reply_v2(r, &x),
        3 => s.reply_v3(r, &x),
        4 => v4::reply(s, r, &mut x),
        _ => s.event("non_existing_version"),
    }
}

/// NFSv3's procedure numbers (Suricata names v2 procedures by them too).
pub mod proc3 {
    /// GETATTR.
    pub const GETATTR: u32 = 1;
    /// LOOKUP.
    pub const LOOKUP: u32 = 3;
    /// ACCESS.
    pub const ACCESS: u32 = 4;
    /// READ.
    pub const READ: u32 = 6;
    /// WRITE.
    pub const WRITE: u32 = 7;
    /// CREATE.
    pub const CREATE: u32 = 8;
    /// MKDIR.
    pub const MKDIR: u32 = 9;
    /// REMOVE.
    pub const REMOVE: u32 = 12;
    /// RMDIR.
    pub const RMDIR: u32 = 13;
    /// RENAME.
    pub const RENAME: u32 = 14;
    /// READDIRPLUS.
    pub const READDIRPLUS: u32 = 17;
    /// COMMIT.
    pub const COMMIT: u32 = 21;
}

/// A file transfer's progress (Suricata's `read`/`write` objects).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NfsFile {
    /// READ or WRITE replies/calls counted after the first.
    pub chunks: u32,
    /// The xid of the last READ, WRITE or COMMIT.
    pub last_xid: u32,
}

/// One NFS transaction as Suricata writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NfsRecord {
    /// The flow's NFS version (the first one seen), as Suricata logs it.
    pub version: u16,
    /// The procedure (v4: the COMPOUND's main operation).
    pub procedure: u32,
    /// The object's name (a RENAME's source).
    pub file_name: Vec<u8>,
    /// The object's file handle (empty: none).
    pub file_handle: Vec<u8>,
    /// The transaction's number in the flow, from 1.
    pub id: u64,
    /// A file transfer.
    pub file_tx: bool,
    /// The NFS status.
    pub status: u32,
    /// The RPC xid.
    pub xid: u32,
    /// `reply_stat`: 0 accepted, 1 denied.
    pub rpc_status: u32,
    /// The credentials' flavour.
    pub auth_type: u32,
    /// AUTH_UNIX: machine name, uid, gid.
    pub creds: Option<(Vec<u8>, u32, u32)>,
    /// A file transfer's first and last chunk seen.
    pub first: bool,
    /// See `first`.
    pub last: bool,
    /// A file transfer's counters.
    pub file: Option<NfsFile>,
    /// A RENAME's target name.
    pub rename_to: Option<Vec<u8>>,
}

/// A procedure's name as Suricata writes it: NFSv3's names below version
/// 4 (v2 procedures too), NFSv4's operation names from it; a number
/// without a name as the number.
pub fn procedure_name(version: u16, p: u32) -> Option<&'static str> {
    const V3: [&str; 22] = [
        "NULL",
        "GETATTR",
        "SETATTR",
        "LOOKUP",
        "ACCESS",
        "READLINK",
        "READ",
        "WRITE",
        "CREATE",
        "MKDIR",
        "SYMLINK",
        "MKNOD",
        "REMOVE",
        "RMDIR",
        "RENAME",
        "LINK",
        "READDIR",
        "READDIRPLUS",
        "FSSTAT",
        "FSINFO",
        "PATHCONF",
        "COMMIT",
    ];
    if version < 4 {
        return V3.get(p as usize).copied();
    }
    v4::op_name(p)
}

/// An NFS status's name as Suricata writes it (`OK`, `ERR_NOENT`; a
/// number without a name as the number).
pub fn status_name(s: u32) -> Option<&'static str> {
    Some(match s {
        0 => "OK",
        1 => "ERR_PERM",
        2 => "ERR_NOENT",
        5 => "ERR_IO",
        6 => "ERR_NXIO",
        13 => "ERR_ACCES",
        17 => "ERR_EXIST",
        18 => "ERR_XDEV",
        19 => "ERR_NODEV",
        20 => "ERR_NOTDIR",
        21 => "ERR_ISDIR",
        22 => "ERR_INVAL",
        27 => "ERR_FBIG",
        28 => "ERR_NOSPC",
        30 => "ERR_ROFS",
        31 => "ERR_MLINK",
        63 => "ERR_NAMETOOLONG",
        66 => "ERR_NOTEMPTY",
        69 => "ERR_DQUOT",
        70 => "ERR_STALE",
        71 => "ERR_REMOTE",
        10001 => "ERR_BADHANDLE",
        10002 => "ERR_NOT_SYNC",
        10003 => "ERR_BAD_COOKIE",
        10004 => "ERR_NOTSUPP",
        10005 => "ERR_TOOSMALL",
        10006 => "ERR_SERVERFAULT",
        10007 => "ERR_BADTYPE",
        10008 => "ERR_JUKEBOX",
        _ => return None,
    })
}

/// An RPC credentials flavour's name as Suricata writes it.
pub fn auth_name(a: u32) -> Option<&'static str> {
    ["NULL", "UNIX", "SHORT", "DH", "KERB", "RSA", "GSS"]
        .get(a as usize)
        .copied()
}

/// NFS's RPC program number.
const NFS_PROGRAM: u32 = 100_003;

/// The TCP probe, as Suricata's: a call (after the record mark) with
/// rpcvers 2, program 100003, version 3 or 4, a v3 procedure number and
/// a known credentials flavour; or a reply whose record is 24 to 35000
/// bytes and that accepts the call.
pub fn probe_tcp(bytes: &[u8], _side: FlowSide) -> Probe {
    let Some(len) = rpc::record_len(bytes) else {
        return Probe::NeedMore;
    };
    let body = bytes.get(4..).unwrap_or_default();
    let Some((_, msgtype)) = rpc::xid_and_type(body) else {
        return if len < 24 || body.len() >= 8 {
            Probe::No
        } else {
            Probe::NeedMore
        };
    };
    if len < 24 {
        return Probe::No;
    }
    if msgtype == 0 {
        match rpc::call(body) {
            Some(c) => {
                let ok = len >= 40
                    && c.rpcvers == 2
                    && (c.progver == 3 || c.progver == 4)
                    && c.program == NFS_PROGRAM
                    && c.procedure <= proc3::COMMIT
                    && c.flavor <= 6;
                if ok { Probe::Certain } else { Probe::No }
            }
            None if body.len() >= len => Probe::No,
            None => Probe::NeedMore,
        }
    } else {
        match rpc::reply_tcp(body) {
            Some(r) if len <= 35000 && r.reply_state == 0 && r.accept_state == 0 => Probe::Certain,
            Some(_) => Probe::No,
            None if body.len() >= len => Probe::No,
            None => Probe::NeedMore,
        }
    }
}

/// The UDP probe, as Suricata's: a call of at least 48 bytes of program
/// 100003, version 2 or 3; or a reply of at least 32 bytes that accepts
/// the call.
pub fn probe_udp(bytes: &[u8], _side: FlowSide) -> Probe {
    match rpc::xid_and_type(bytes) {
        Some((_, 0)) => match rpc::call(bytes) {
            Some(c)
                if bytes.len() >= 48
                    && c.program == NFS_PROGRAM
                    && (c.progver == 2 || c.progver == 3) =>
            {
                Probe::Certain
            }
            _ => Probe::No,
        },
        Some(_) => match rpc::reply_udp(bytes) {
            Some(r) if bytes.len() >= 32 && r.reply_state == 0 && r.accept_state == 0 => {
                Probe::Certain
            }
            _ => Probe::No,
        },
        None => Probe::No,
    }
}

fn message(r: NfsRecord) -> L7Message {
    L7Message::Nfs(Box::new(r))
}
