//! SMB1 messages (MS-CIFS §2.2.3): the 32-byte header and the commands
//! Suricata 7 gives details: NEGOTIATE (the dialects offered and the one
//! chosen, the server's GUID), SESSION_SETUP_ANDX (the security blob's
//! identity, the native OS and LAN manager of both sides),
//! TREE_CONNECT_ANDX (the path and services), NT_CREATE_ANDX (the file,
//! its times, allocation size and FID), RENAME (both names); a file's
//! READ_ANDXs and WRITE_ANDXs are one transaction each, finished by its
//! CLOSE; on a pipe (an IPC$ tree) their data are DCE/RPC PDUs, written
//! and read back (`pipe`), as is a TRANS that is a TransactNmPipe on a
//! DCE/RPC service's pipe; TRANS2 SET_FILE_INFO and SET_PATH_INFO at the
//! pass-through levels of a disposition (1013) and a rename (1010) are a
//! delete or a rename; every other command but TRANS and TRANS2 makes a
//! generic transaction. AndX chains are followed.

use super::status::{BUFFER_OVERFLOW, SUCCESS};
use super::{
    Create, Fid, FileTx, Key, MAX_LIST, MAX_NAME, Negotiate, SessionSetup, SmbDetail, SmbParser,
    SmbStatus, TreeConnect, auth, filetime, pipe, recall, remember, strip_zeros, take,
};
use crate::parsers::reader::Reader;
use transact::{trans_request, trans_response, trans2_request};

mod transact;

/// NEGOTIATE.
const NEGOTIATE: u8 = 0x72;
/// SESSION_SETUP_ANDX.
const SESSION_SETUP: u8 = 0x73;
/// TREE_CONNECT_ANDX.
const TREE_CONNECT: u8 = 0x75;
/// NT_CREATE_ANDX.
const NT_CREATE: u8 = 0xa2;
/// CLOSE.
const CLOSE: u8 = 0x04;
/// RENAME.
const RENAME: u8 = 0x07;
/// READ_ANDX.
const READ_ANDX: u8 = 0x2e;
/// WRITE_ANDX.
const WRITE_ANDX: u8 = 0x2f;
/// TRANS (SMB_COM_TRANSACTION).
const TRANS: u8 = 0x25;
/// TRANS2 (SMB_COM_TRANSACTION2).
const TRANS2: u8 = 0x32;
/// READ_ANDX, WRITE_ANDX, TRANS, TRANS2: no transaction of their own.
const NO_TX: [u8; 4] = [0x2e, 0x2f, 0x25, 0x32];
/// The commands whose words open with an AndX block.
const ANDX: [u8; 8] = [0x24, 0x2d, 0x2e, 0x73, 0x74, 0x75, 0xa2, 0x2f];
/// The header's length.
const HEADER: usize = 32;

/// A command's name as Suricata writes it (`None`: the number).
pub fn command_name(c: u8) -> Option<&'static str> {
    Some(match c {
        0x00 => "SMB1_COMMAND_CREATE_DIRECTORY",
        0x01 => "SMB1_COMMAND_DELETE_DIRECTORY",
        0x02 => "SMB1_COMMAND_OPEN",
        0x03 => "SMB1_COMMAND_CREATE",
        0x04 => "SMB1_COMMAND_CLOSE",
        0x05 => "SMB1_COMMAND_FLUSH",
        0x06 => "SMB1_COMMAND_DELETE",
        0x07 => "SMB1_COMMAND_RENAME",
        0x08 => "SMB1_COMMAND_QUERY_INFORMATION",
        0x09 => "SMB1_COMMAND_SET_INFORMATION",
        0x0a => "SMB1_COMMAND_READ",
        0x0b => "SMB1_COMMAND_WRITE",
        0x0c => "SMB1_COMMAND_LOCK_BYTE_RANGE",
        0x0d => "SMB1_COMMAND_UNLOCK_BYTE_RANGE",
        0x0e => "SMB1_COMMAND_CREATE_TEMPORARY",
        0x0f => "SMB1_COMMAND_CREATE_NEW",
        0x10 => "SMB1_COMMAND_CHECK_DIRECTORY",
        0x11 => "SMB1_COMMAND_PROCESS_EXIT",
        0x12 => "SMB1_COMMAND_SEEK",
        0x13 => "SMB1_COMMAND_LOCK_AND_READ",
        0x14 => "SMB1_COMMAND_WRITE_AND_UNLOCK",
        0x24 => "SMB1_COMMAND_LOCKING_ANDX",
        0x25 => "SMB1_COMMAND_TRANS",
        0x2b => "SMB1_COMMAND_ECHO",
        0x2c => "SMB1_COMMAND_WRITE_AND_CLOSE",
        0x2d => "SMB1_COMMAND_OPEN_ANDX",
        0x2e => "SMB1_COMMAND_READ_ANDX",
        0x2f => "SMB1_COMMAND_WRITE_ANDX",
        0x32 => "SMB1_COMMAND_TRANS2",
        0x33 => "SMB1_COMMAND_TRANS2_SECONDARY",
        0x34 => "SMB1_COMMAND_FIND_CLOSE2",
        0x71 => "SMB1_COMMAND_TREE_DISCONNECT",
        0x72 => "SMB1_COMMAND_NEGOTIATE_PROTOCOL",
        0x73 => "SMB1_COMMAND_SESSION_SETUP_ANDX",
        0x74 => "SMB1_COMMAND_LOGOFF_ANDX",
        0x75 => "SMB1_COMMAND_TREE_CONNECT_ANDX",
        0x80 => "SMB1_COMMAND_QUERY_INFO_DISK",
        0xa0 => "SMB1_COMMAND_NT_TRANS",
        0xa1 => "SMB1_COMMAND_NT_TRANS_SECONDARY",
        0xa2 => "SMB1_COMMAND_NT_CREATE_ANDX",
        0xa4 => "SMB1_COMMAND_NT_CANCEL",
        _ => return None,
    })
}

/// Whether a message whose first bytes are `h` is a READ_ANDX answer or a
/// WRITE_ANDX request (its data is not kept).
pub(super) fn is_io(h: &[u8], to_server: bool) -> bool {
    match (h.get(4), h.get(9)) {
        (Some(&cmd), Some(&flags)) => {
            let reply = flags & 0x80 != 0;
            (to_server && !reply && cmd == 0x2f) || (!to_server && reply && cmd == 0x2e)
        }
        _ => false,
    }
}

/// The header's fields that are read.
#[derive(Debug, Clone, Copy)]
struct Hdr {
    status: SmbStatus,
    reply: bool,
    unicode: bool,
    tree_id: u16,
    user_id: u16,
    mid: u16,
}

impl Hdr {
    fn read(b: &[u8]) -> Option<(u8, Hdr)> {
        let mut r = Reader::new(b);
        r.take(4)?;
        let cmd = r.u8()?;
        let st = r.take(4)?;
        let flags = r.u8()?;
        let flags2 = r.u16_le()?;
        r.take(12)?;
        let tree_id = r.u16_le()?;
        r.u16_le()?;
        let user_id = r.u16_le()?;
        let mid = r.u16_le()?;
        let status = if flags2 & 0x4000 != 0 {
            SmbStatus::Nt(u32::from_le_bytes([st[0], st[1], st[2], st[3]]))
        } else {
            SmbStatus::Dos(st[0], u16::from_le_bytes([st[2], st[3]]))
        };
        Some((
            cmd,
            Hdr {
                status,
                reply: flags & 0x80 != 0,
                unicode: flags2 & 0x8000 != 0,
                tree_id,
                user_id,
                mid,
            },
        ))
    }
}

/// One command's words and bytes, where its bytes start in the message
/// (strings are aligned from the header's start), and all of it from its
/// word count on.
struct Block<'a> {
    /// The whole message, from its header (TRANS's offsets count from it).
    msg: &'a [u8],
    words: &'a [u8],
    bytes: &'a [u8],
    bytes_at: usize,
    data: &'a [u8],
}

fn block(msg: &[u8], at: usize) -> Option<Block<'_>> {
    let data = msg.get(at..)?;
    let mut r = Reader::new(data);
    let wc = usize::from(r.u8()?);
    let words = r.take(wc * 2)?;
    let bc = usize::from(r.u16_le()?);
    let bytes_at = at + 1 + wc * 2 + 2;
    let bytes = msg.get(bytes_at..)?;
    Some(Block {
        msg,
        words,
        bytes: bytes.get(..bc).unwrap_or(bytes),
        bytes_at,
        data,
    })
}

/// Suricata's UTF-16 string: each unit's low byte up to a zero unit (or a
/// last lone zero byte); `None` when unterminated.
fn low_bytes(b: &[u8]) -> Option<(&[u8], Box<str>)> {
    let mut name = Vec::new();
    let mut c = b;
    loop {
        match c {
            [0] => return Some((&[], String::from_utf8_lossy(&name).into())),
            [0, 0, rest @ ..] => return Some((rest, String::from_utf8_lossy(&name).into())),
            [lo, _, rest @ ..] => {
                if name.len() < MAX_NAME {
                    name.push(*lo);
                }
                c = rest;
            }
            _ => return None,
        }
    }
}

/// A NUL-terminated 8-bit string; `None` when unterminated.
fn ascii(b: &[u8]) -> Option<(&[u8], Box<str>)> {
    let end = b.iter().position(|&c| c == 0)?;
    let text = &b[..end.min(MAX_NAME)];
    Some((b.get(end + 1..)?, String::from_utf8_lossy(text).into()))
}

/// A string reader: the string and what follows it.
type ReadString = fn(&[u8]) -> Option<(&[u8], Box<str>)>;

/// A session setup's native OS and LAN manager as Suricata reads them:
/// the two strings at `at` in the command's data (empty where one does not
/// read).
fn host_info(data: &[u8], at: usize, unicode: bool) -> (Box<str>, Box<str>) {
    let blob = data.get(at..).unwrap_or_default();
    let (blob, read): (&[u8], ReadString) = if blob.len() > 1 && unicode {
        (blob.get(at % 2..).unwrap_or_default(), low_bytes)
    } else {
        (blob, ascii)
    };
    match read(blob) {
        Some((rest, os)) => (os, read(rest).map(|(_, lm)| lm).unwrap_or_default()),
        None => Default::default(),
    }
}

/// A null-terminated string at `r` (one the message's end cuts short
/// ends there), UTF-16LE (aligned to two bytes from the header, `base`
/// bytes before `r`'s start) or 8-bit, zero bytes left out; `None` when
/// nothing is left.
fn string(r: &mut Reader<'_>, base: usize, unicode: bool) -> Option<Box<str>> {
    if unicode && (base + r.pos()) % 2 == 1 {
        r.u8()?;
    }
    r.any_left().then_some(())?;
    let rest = r.clone().rest();
    let end = if unicode {
        rest.chunks(2).position(|c| c == [0, 0]).map(|i| i * 2)
    } else {
        rest.iter().position(|&c| c == 0)
    };
    let text = rest.get(..end.unwrap_or(rest.len())).unwrap_or(rest);
    let used = end.map_or(rest.len(), |e| e + if unicode { 2 } else { 1 });
    r.take(used.min(rest.len()))?;
    Some(strip_zeros(text))
}

/// One NBSS message of SMB1 commands.
pub(super) fn message(p: &mut SmbParser, to_server: bool, msg: &[u8]) {
    let Some((mut cmd, h)) = Hdr::read(msg) else {
        p.event("malformed_data");
        return;
    };
    if h.reply == to_server {
        p.event("unexpected_direction");
        return;
    }
    let mut at = HEADER;
    for _ in 0..MAX_LIST {
        let Some(b) = block(msg, at) else {
            p.event("malformed_data");
            return;
        };
        if to_server {
            request(p, cmd, &h, &b);
        } else {
            response(p, cmd, &h, &b);
        }
        if !ANDX.contains(&cmd) {
            return;
        }
        let mut w = Reader::new(b.words);
        let (Some(next), Some(_), Some(off)) = (w.u8(), w.u8(), w.u16_le()) else {
            return;
        };
        let off = usize::from(off);
        if next == 0xff || off <= at {
            return;
        }
        cmd = next;
        at = off;
    }
}

fn open(p: &mut SmbParser, cmd: u8, h: &Hdr, detail: SmbDetail) -> usize {
    let c = u16::from(cmd);
    let i = p.open(1, Some(c), Key::Command(1, c, u64::from(h.mid)), detail);
    let w = &mut p.waiting[i];
    w.tx.session_id = u64::from(h.user_id);
    w.tx.tree_id = u32::from(h.tree_id);
    w.request_done = true;
    i
}

fn request(p: &mut SmbParser, cmd: u8, h: &Hdr, b: &Block<'_>) {
    let detail = match cmd {
        NEGOTIATE => {
            let mut dialects = Vec::new();
            let mut r = Reader::new(b.bytes);
            while r.u8() == Some(0x02) {
                let Some(d) = string(&mut r, 0, false) else {
                    break;
                };
                if dialects.len() < MAX_LIST {
                    dialects.push(d);
                }
            }
            p.state.offered1 = dialects.clone();
            SmbDetail::Negotiate(Box::new(Negotiate {
                dialects,
                ..Negotiate::default()
            }))
        }
        SESSION_SETUP => {
            // Suricata reads every request in the extended security layout
            // (12 words): the blob's length at word byte 14, the blob after
            // the byte count; the host strings after the blob.
            let mut r = Reader::new(b.data);
            let blob = r.take(15).and_then(|_| r.u16_le()).and_then(|n| {
                r.take(10)?;
                r.take(usize::from(n))
            });
            let Some(blob) = blob else {
                p.event("malformed_data");
                return;
            };
            let id = auth::secblob(blob);
            let s = SessionSetup {
                ntlmssp: id.ntlmssp,
                kerberos: id.kerberos,
                request_host: Some(host_info(b.data, r.pos(), h.unicode)),
                response_host: None,
            };
            SmbDetail::SessionSetup(Box::new(s))
        }
        TREE_CONNECT => {
            let mut w = Reader::new(b.words);
            let mut r = Reader::new(b.bytes);
            let t = (|| {
                w.take(6)?;
                let pw = usize::from(w.u16_le()?);
                r.take(pw)?;
                let path = string(&mut r, b.bytes_at, h.unicode)?;
                let service = string(&mut r, 0, false)?;
                // Suricata leaves the path's first character out.
                let share = path.get(1..).filter(|_| path.len() > 1).unwrap_or(&path);
                Some(TreeConnect {
                    share: share.into(),
                    req_service: Some(service),
                    ..TreeConnect::default()
                })
            })();
            match t {
                Some(t) => SmbDetail::TreeConnect(Box::new(t)),
                None => {
                    p.event("malformed_data");
                    SmbDetail::Generic
                }
            }
        }
        NT_CREATE => match create_request(b, h) {
            Some(c) => {
                let mid = u64::from(h.mid);
                if remember(&mut p.state.create_names, mid, c.filename.clone()) {
                    p.event("too_many_names");
                }
                SmbDetail::Create(Box::new(c))
            }
            None => {
                p.event("malformed_data");
                SmbDetail::Generic
            }
        },
        RENAME => {
            // Two names, each after a buffer format byte (4).
            let mut r = Reader::new(b.bytes);
            let names = (|| {
                r.u8()?;
                let from = string(&mut r, b.bytes_at, h.unicode)?;
                r.u8()?;
                let to = string(&mut r, b.bytes_at, h.unicode)?;
                Some((from, to))
            })();
            match names {
                Some((from, to)) => SmbDetail::Rename(Box::new((from, to, Vec::new()))),
                None => {
                    p.event("malformed_data");
                    SmbDetail::Generic
                }
            }
        }
        CLOSE => {
            if let Some(fid) = b.words.get(..2) {
                let f = fid_key(fid, h.user_id);
                for dir in [false, true] {
                    if let Some(i) = p.find(&Key::File(f, dir)) {
                        p.waiting[i].request_done = true;
                        p.waiting[i].response_done = true;
                    }
                }
            }
            SmbDetail::Generic
        }
        READ_ANDX => {
            if let Some(fid) = b.words.get(4..6) {
                let f = fid_key(fid, h.user_id);
                if remember(&mut p.state.reads, u64::from(h.mid), f) {
                    p.event("too_many_names");
                }
            }
            return;
        }
        WRITE_ANDX => {
            if let Some(fid) = b.words.get(4..6) {
                if on_pipe(p, h) {
                    // Data length (high and low words) and offset, MS-CIFS
                    // §2.2.4.43.1.
                    match io_data(b, 20, 18, 22) {
                        Some(data) => pipe::write(p, io_ctx(h, WRITE_ANDX), data),
                        None => p.event("malformed_data"),
                    }
                } else {
                    file_tx(p, h, WRITE_ANDX, fid, false);
                }
            }
            return;
        }
        TRANS => {
            trans_request(p, h, b);
            return;
        }
        TRANS2 => match trans2_request(p, h, b) {
            Some(detail) => detail,
            None => return,
        },
        c if NO_TX.contains(&c) => return,
        _ => SmbDetail::Generic,
    };
    let negotiate = matches!(detail, SmbDetail::Negotiate(_));
    let i = open(p, cmd, h, detail);
    if negotiate {
        // Suricata's negotiation names no session or tree.
        p.waiting[i].tx.session_id = 0;
        p.waiting[i].tx.tree_id = 0;
    }
}

/// An NT_CREATE_ANDX request's name, disposition and options.
fn create_request(b: &Block<'_>, h: &Hdr) -> Option<Create> {
    let mut w = Reader::new(b.words);
    w.take(35)?;
    let disposition = w.u32_le()?;
    let options = w.u32_le()?;
    let filename = string(&mut Reader::new(b.bytes), b.bytes_at, h.unicode)?;
    Some(Create {
        filename,
        directory: options & 0x1 != 0,
        disposition,
        delete_on_close: options & 0x1000 != 0,
        ..Create::default()
    })
}

/// An SMB1 file's key: its FID and the user's id (Suricata's
/// "frankenFID"), marked apart from SMB2 file ids.
fn fid_key(fid: &[u8], user_id: u16) -> Fid {
    let mut k = [0u8; 16];
    let n = fid.len().min(2);
    k[..n].copy_from_slice(&fid[..n]);
    k[2..4].copy_from_slice(&user_id.to_le_bytes());
    k[15] = 1;
    k
}

/// `h`'s tree: its share's name and whether it is a pipe (IPC$); none
/// when its connect was not seen.
fn tree<'p>(p: &'p SmbParser, h: &Hdr) -> Option<&'p (Box<str>, bool)> {
    recall(
        &p.state.trees,
        &(u64::from(h.user_id), u32::from(h.tree_id)),
    )
}

/// Whether `h`'s tree is a pipe.
fn on_pipe(p: &SmbParser, h: &Hdr) -> bool {
    tree(p, h).is_some_and(|(_, is_pipe)| *is_pipe)
}

/// A READ_ANDX's or WRITE_ANDX's data: its length's low and high words
/// and its offset (from the header) at these word bytes; the bytes kept
/// of it (a large one is cut at [`super::IO_PREFIX`]).
fn io_data<'a>(b: &Block<'a>, len_at: usize, high_at: usize, off_at: usize) -> Option<&'a [u8]> {
    let word = |at: usize| {
        b.words
            .get(at..at + 2)
            .map(|w| usize::from(u16::from_le_bytes([w[0], w[1]])))
    };
    let len = word(len_at)? | word(high_at).unwrap_or(0) << 16;
    let data = b.msg.get(word(off_at)?..)?;
    Some(&data[..len.min(data.len())])
}

/// The pipe call context of a WRITE_ANDX or READ_ANDX: a READ answers a
/// WRITE on the same tree by call id.
fn io_ctx(h: &Hdr, cmd: u8) -> pipe::Ctx {
    pipe::Ctx {
        version: 1,
        command: u16::from(cmd),
        transceive: false,
        session_id: u64::from(h.user_id),
        tree_id: u32::from(h.tree_id),
        msg_id: u64::from(h.mid),
    }
}

/// The file transaction of FID `fid`'s reads (`reads`) or writes on a
/// tree that is no pipe, opened unless it is open: the file's name, its
/// tree's share. As Suricata's, it names no session or tree and gets no
/// status; its CLOSE finishes it.
fn file_tx(p: &mut SmbParser, h: &Hdr, cmd: u8, fid: &[u8], reads: bool) {
    let f = fid_key(fid, h.user_id);
    if p.find(&Key::File(f, reads)).is_some() {
        return;
    }
    let share = tree(p, h)
        .map(|(share, _)| share.clone())
        .unwrap_or_default();
    let name = recall(&p.state.names, &f)
        .cloned()
        .unwrap_or_else(|| "<unknown>".into());
    let t = FileTx {
        filename: name,
        share,
        fuid: fid.to_vec(),
    };
    let i = p.open(
        1,
        Some(u16::from(cmd)),
        Key::File(f, reads),
        SmbDetail::File(Box::new(t)),
    );
    p.waiting[i].request_done = false;
}

fn response(p: &mut SmbParser, cmd: u8, h: &Hdr, b: &Block<'_>) {
    if cmd == TRANS {
        trans_response(p, h, b);
        return;
    }
    if cmd == READ_ANDX {
        let f = take(&mut p.state.reads, &u64::from(h.mid));
        let Some(f) = f else { return };
        match h.status {
            // A pipe's PDU, or a piece of it (`STATUS_BUFFER_OVERFLOW`: the
            // client reads the rest next, and `pipe` holds the piece; here
            // flowscope reads on where Suricata 7 drops the call).
            SmbStatus::Nt(status @ (SUCCESS | BUFFER_OVERFLOW)) if on_pipe(p, h) => {
                // Data length and offset, its length's high word, MS-CIFS
                // §2.2.4.42.2.
                match io_data(b, 10, 14, 12) {
                    Some(data) => pipe::read(p, io_ctx(h, READ_ANDX), data, status),
                    None => p.event("malformed_data"),
                }
            }
            SmbStatus::Nt(SUCCESS) => file_tx(p, h, READ_ANDX, &f[..2], true),
            _ => {}
        }
        return;
    }
    let create_name = (cmd == NT_CREATE)
        .then(|| take(&mut p.state.create_names, &u64::from(h.mid)))
        .flatten();
    let key = Key::Command(1, u16::from(cmd), u64::from(h.mid));
    let Some(i) = p.find(&key) else {
        return;
    };
    match cmd {
        NEGOTIATE => {
            let mut w = Reader::new(b.words);
            if let Some(idx) = w.u16_le() {
                p.state.dialect1 = p.state.offered1.get(usize::from(idx)).cloned();
            }
            // Suricata takes the bytes' first 16 as the GUID, whatever the
            // security mode.
            let guid = (b.words.len() == 34).then(|| b.bytes.get(..16)).flatten();
            if let SmbDetail::Negotiate(n) = &mut p.waiting[i].tx.detail {
                n.server_guid = guid.map(<[u8]>::to_vec).unwrap_or_default();
            }
        }
        SESSION_SETUP => {
            // As Suricata reads it: without security blob (3 words) the
            // strings after the byte count; else the blob's length at data
            // byte 7 (the extended security layout), the strings after the
            // blob.
            let mut r = Reader::new(b.data);
            let host = if b.words.len() == 6 {
                b.data.get(9..).map(|_| host_info(b.data, 9, h.unicode))
            } else {
                r.take(7)
                    .and_then(|_| r.u16_le())
                    .and_then(|n| {
                        r.take(2)?;
                        r.take(usize::from(n))
                    })
                    .map(|_| host_info(b.data, r.pos(), h.unicode))
            };
            if host.is_none() {
                p.event("malformed_data");
            }
            p.waiting[i].tx.session_id = u64::from(h.user_id);
            if let SmbDetail::SessionSetup(s) = &mut p.waiting[i].tx.detail {
                s.response_host = host;
            }
        }
        TREE_CONNECT => {
            let mut r = Reader::new(b.bytes);
            let service = string(&mut r, 0, false);
            let ok = h.status == SmbStatus::Nt(0);
            let w = &mut p.waiting[i];
            if ok {
                w.tx.tree_id = u32::from(h.tree_id);
            }
            let mut tree = None;
            if let SmbDetail::TreeConnect(t) = &mut w.tx.detail {
                t.is_pipe = service.as_deref() == Some("IPC");
                t.res_service = service;
                tree = Some((t.share.clone(), t.is_pipe));
            }
            let k = (u64::from(h.user_id), u32::from(h.tree_id));
            if let Some(tree) = tree.filter(|_| ok)
                && remember(&mut p.state.trees, k, tree)
            {
                p.event("too_many_names");
            }
        }
        NT_CREATE if h.status == SmbStatus::Nt(0) => {
            // FID, then the four times, attributes and allocation size
            // (Suricata's `size`).
            let mut w = Reader::new(b.words);
            let fields = (|| {
                w.take(5)?;
                let fid = w.take(2)?;
                w.take(4)?;
                let mut times = [0u64; 4];
                for t in &mut times {
                    *t = filetime(w.u64_le()?);
                }
                w.take(4)?;
                Some((fid, times, w.u64_le()?))
            })();
            match fields {
                Some((fid, times, size)) => {
                    if let Some(name) = create_name
                        && remember(&mut p.state.names, fid_key(fid, h.user_id), name)
                    {
                        p.event("too_many_names");
                    }
                    if let SmbDetail::Create(c) = &mut p.waiting[i].tx.detail {
                        [c.created, c.accessed, c.modified, c.changed] = times;
                        c.size = size;
                        c.fuid = fid.to_vec();
                    }
                }
                None => p.event("malformed_data"),
            }
        }
        _ => {}
    }
    let w = &mut p.waiting[i];
    w.tx.status = Some(h.status);
    w.response_done = true;
}
