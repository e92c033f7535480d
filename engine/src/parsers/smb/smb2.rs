//! SMB 2/3 messages (MS-SMB2 §2.2): the 64-byte header, compounded
//! messages through `NextCommand`, and each command's request and
//! response as Suricata 7 turns them into transactions: one per request
//! (a generic one for the commands without details; none for READ, WRITE,
//! QUERY_INFO and SET_INFO's other classes), a file transaction per file
//! and direction for READ and WRITE, a DCE/RPC call for a pipe's.

use super::status::{BUFFER_OVERFLOW, END_OF_FILE, PENDING, SUCCESS};
use super::{
    Create, Disposition, Fid, FileTx, Key, MAX_LIST, Negotiate, SessionSetup, SmbDetail, SmbParser,
    SmbStatus, TreeConnect, auth, filetime, pipe, recall, remember, take,
};
use crate::parsers::reader::Reader;

/// The header's length.
pub const HEADER: usize = 64;
/// NEGOTIATE.
pub const NEGOTIATE: u16 = 0;
/// SESSION_SETUP.
pub const SESSION_SETUP: u16 = 1;
/// TREE_CONNECT.
pub const TREE_CONNECT: u16 = 3;
/// TREE_DISCONNECT.
pub const TREE_DISCONNECT: u16 = 4;
/// CREATE.
pub const CREATE: u16 = 5;
/// CLOSE.
pub const CLOSE: u16 = 6;
/// READ.
pub const READ: u16 = 8;
/// WRITE.
pub const WRITE: u16 = 9;
/// IOCTL.
pub const IOCTL: u16 = 11;
/// QUERY_INFO (Suricata's GET_INFO).
pub const GET_INFO: u16 = 16;
/// SET_INFO.
pub const SET_INFO: u16 = 17;
/// FSCTL_PIPE_TRANSCEIVE.
const PIPE_TRANSCEIVE: u32 = 0x0011_c017;
/// Header flags: an answer; an async one.
const FLAG_RESPONSE: u32 = 0x1;
const FLAG_ASYNC: u32 = 0x2;

/// A command's name as Suricata writes it (`None`: the number).
pub fn command_name(c: u16) -> Option<&'static str> {
    const NAMES: [&str; 19] = [
        "SMB2_COMMAND_NEGOTIATE_PROTOCOL",
        "SMB2_COMMAND_SESSION_SETUP",
        "SMB2_COMMAND_SESSION_LOGOFF",
        "SMB2_COMMAND_TREE_CONNECT",
        "SMB2_COMMAND_TREE_DISCONNECT",
        "SMB2_COMMAND_CREATE",
        "SMB2_COMMAND_CLOSE",
        "SMB2_COMMAND_FLUSH",
        "SMB2_COMMAND_READ",
        "SMB2_COMMAND_WRITE",
        "SMB2_COMMAND_LOCK",
        "SMB2_COMMAND_IOCTL",
        "SMB2_COMMAND_CANCEL",
        "SMB2_COMMAND_KEEPALIVE",
        "SMB2_COMMAND_FIND",
        "SMB2_COMMAND_CHANGE_NOTIFY",
        "SMB2_COMMAND_GET_INFO",
        "SMB2_COMMAND_SET_INFO",
        "SMB2_COMMAND_OPLOCK_BREAK",
    ];
    NAMES.get(usize::from(c)).copied()
}

/// A dialect revision as Suricata writes it (`3.11`; else the number).
pub fn dialect_name(d: u16) -> Box<str> {
    match d {
        0x0202 => "2.02".into(),
        0x0210 => "2.10".into(),
        0x0222 => "2.22".into(),
        0x0224 => "2.24".into(),
        0x02ff => "2.??".into(),
        0x0300 => "3.00".into(),
        0x0302 => "3.02".into(),
        0x0310 => "3.10".into(),
        0x0311 => "3.11".into(),
        _ => d.to_string().into(),
    }
}

/// Whether a message whose first bytes are `h` is a READ answer or WRITE
/// request alone (its data is not kept).
pub(super) fn is_io(h: &[u8], to_server: bool) -> bool {
    match Hdr::read(h) {
        Some(h) if h.next == 0 => {
            (to_server && h.command == WRITE) || (!to_server && h.command == READ)
        }
        _ => false,
    }
}

/// The fields of the header that are read.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hdr {
    pub(super) status: u32,
    pub(super) command: u16,
    flags: u32,
    next: u32,
    pub(super) msg_id: u64,
    pub(super) tree_id: u32,
    pub(super) session_id: u64,
}

impl Hdr {
    fn read(b: &[u8]) -> Option<Hdr> {
        let mut r = Reader::new(b);
        r.take(4)?;
        (r.u16_le()? == 64).then_some(())?;
        r.u16_le()?;
        let status = r.u32_le()?;
        let command = r.u16_le()?;
        r.u16_le()?;
        let flags = r.u32_le()?;
        let next = r.u32_le()?;
        let msg_id = r.u64_le()?;
        let tree_id = if flags & FLAG_ASYNC != 0 {
            r.u64_le()?;
            0
        } else {
            r.u32_le()?;
            r.u32_le()?
        };
        let session_id = r.u64_le()?;
        Some(Hdr {
            status,
            command,
            flags,
            next,
            msg_id,
            tree_id,
            session_id,
        })
    }
}

/// One NBSS message of SMB2 commands, from the client (`to_server`) or
/// the server.
pub(super) fn message(p: &mut SmbParser, to_server: bool, msg: &[u8]) {
    let mut at = 0usize;
    let mut count = 0;
    while let Some(rec) = msg.get(at..) {
        let Some(h) = Hdr::read(rec) else {
            p.event("malformed_data");
            return;
        };
        let next = h.next as usize;
        let rec = if next > 0 {
            rec.get(..next).unwrap_or(rec)
        } else {
            rec
        };
        if to_server && h.flags & FLAG_RESPONSE == 0 {
            request(p, &h, rec);
        } else if !to_server && h.flags & FLAG_RESPONSE != 0 {
            response(p, &h, rec);
        } else {
            p.event("unexpected_direction");
        }
        count += 1;
        if next == 0 {
            return;
        }
        if next < HEADER || count >= MAX_LIST {
            p.event("malformed_data");
            return;
        }
        at += next;
    }
}

/// A field at `at` in the command's body (after the header).
fn body(rec: &[u8], at: usize) -> Reader<'_> {
    Reader::new(rec.get(HEADER + at..).unwrap_or_default())
}

/// `len` bytes at `off` from the header's start, cut at the message's end.
fn blob(rec: &[u8], off: usize, len: usize) -> &[u8] {
    let start = off.min(rec.len());
    let end = off.saturating_add(len).min(rec.len());
    rec.get(start..end).unwrap_or_default()
}

fn file_id(r: &mut Reader<'_>) -> Option<Fid> {
    r.take(16)?.try_into().ok()
}

/// A new transaction for request `h`, its request read.
fn open(p: &mut SmbParser, h: &Hdr, detail: SmbDetail) -> usize {
    let i = p.open(
        2,
        Some(h.command),
        Key::Command(2, h.command, h.msg_id),
        detail,
    );
    let w = &mut p.waiting[i];
    w.tx.session_id = h.session_id;
    w.tx.tree_id = h.tree_id;
    w.request_done = true;
    i
}

fn request(p: &mut SmbParser, h: &Hdr, rec: &[u8]) {
    let have = match h.command {
        SET_INFO => set_info(p, h, rec),
        IOCTL => {
            ioctl_request(p, h, rec);
            true
        }
        TREE_DISCONNECT => {
            p.state
                .trees
                .retain(|(k, _)| *k != (h.session_id, h.tree_id));
            false
        }
        NEGOTIATE => negotiate_request(p, h, rec),
        SESSION_SETUP => {
            let mut r = body(rec, 12);
            let blob_at = r.u16_le().zip(r.u16_le());
            let mut s = SessionSetup::default();
            if let Some((off, len)) = blob_at {
                let id = auth::secblob(blob(rec, usize::from(off), usize::from(len)));
                s.ntlmssp = id.ntlmssp;
                s.kerberos = id.kerberos;
            }
            open(p, h, SmbDetail::SessionSetup(Box::new(s)));
            true
        }
        TREE_CONNECT => {
            let mut r = body(rec, 4);
            match r.u16_le().zip(r.u16_le()) {
                Some((off, len)) => {
                    let share = p.name(blob(rec, usize::from(off), usize::from(len)));
                    let t = TreeConnect {
                        share,
                        ..TreeConnect::default()
                    };
                    open(p, h, SmbDetail::TreeConnect(Box::new(t)));
                    true
                }
                None => {
                    p.event("malformed_data");
                    false
                }
            }
        }
        READ => {
            let mut r = body(rec, 16);
            match file_id(&mut r) {
                Some(fuid) => {
                    if remember(&mut p.state.reads, h.msg_id, fuid) {
                        p.event("too_many_names");
                    }
                }
                None => p.event("malformed_data"),
            }
            false
        }
        CREATE => create_request(p, h, rec),
        WRITE => {
            write_request(p, h, rec);
            true
        }
        CLOSE => {
            match file_id(&mut body(rec, 8)) {
                Some(fuid) => {
                    for dir in [false, true] {
                        if let Some(i) = p.find(&Key::File(fuid, dir)) {
                            let w = &mut p.waiting[i];
                            w.request_done = true;
                            w.response_done = true;
                            w.tx.status = Some(SmbStatus::Nt(SUCCESS));
                        }
                    }
                }
                None => p.event("malformed_data"),
            }
            false
        }
        _ => false,
    };
    if !have && !matches!(h.command, READ | WRITE | GET_INFO | SET_INFO) {
        open(p, h, SmbDetail::Generic);
    }
}

fn negotiate_request(p: &mut SmbParser, h: &Hdr, rec: &[u8]) -> bool {
    let mut r = body(rec, 2);
    let fields = (|| {
        let count = r.u16_le()?;
        r.take(8)?;
        let guid: [u8; 16] = r.take(16)?.try_into().ok()?;
        r.take(8)?;
        let mut dialects = Vec::new();
        for _ in 0..count {
            let d = r.u16_le()?;
            if dialects.len() < MAX_LIST {
                dialects.push(dialect_name(d));
            }
        }
        Some((guid, dialects))
    })();
    let Some((guid, dialects)) = fields else {
        p.event("malformed_data");
        return false;
    };
    let exists = p
        .waiting
        .iter()
        .any(|w| w.tx.version == 2 && matches!(w.tx.detail, SmbDetail::Negotiate(_)));
    if !exists {
        let n = Negotiate {
            dialects,
            client_guid: Some(guid),
            ..Negotiate::default()
        };
        open(p, h, SmbDetail::Negotiate(Box::new(n)));
    }
    true
}

fn create_request(p: &mut SmbParser, h: &Hdr, rec: &[u8]) -> bool {
    let mut r = body(rec, 36);
    let fields = (|| {
        let disposition = r.u32_le()?;
        let options = r.u32_le()?;
        let off = r.u16_le()?;
        let len = r.u16_le()?;
        Some((disposition, options, off, len))
    })();
    let Some((disposition, options, off, len)) = fields else {
        p.event("malformed_data");
        return false;
    };
    let name = p.name(blob(rec, usize::from(off), usize::from(len)));
    if remember(&mut p.state.create_names, h.msg_id, name.clone()) {
        p.event("too_many_names");
    }
    let c = Create {
        filename: name,
        directory: options & 0x1 != 0,
        disposition,
        delete_on_close: options & 0x1000 != 0,
        ..Create::default()
    };
    open(p, h, SmbDetail::Create(Box::new(c)));
    true
}

/// SET_INFO: a rename or a delete make a transaction; other classes none.
fn set_info(p: &mut SmbParser, h: &Hdr, rec: &[u8]) -> bool {
    let mut r = body(rec, 2);
    let fields = (|| {
        let kind = r.u8()?;
        let class = r.u8()?;
        let len = r.u32_le()?;
        let off = r.u16_le()?;
        r.take(6)?;
        Some((kind, class, len, off, file_id(&mut r)?))
    })();
    let Some((kind, class, len, off, fuid)) = fields else {
        p.event("malformed_data");
        return false;
    };
    let buf = blob(rec, usize::from(off), len as usize);
    let known = recall(&p.state.names, &fuid).cloned();
    match (kind, class) {
        (1, 10) => {
            let mut b = Reader::new(buf);
            let new = (|| {
                b.take(16)?;
                let n = b.u32_le()? as usize;
                b.take(n)
            })();
            let Some(new) = new else {
                p.event("malformed_data");
                return false;
            };
            let old = known.unwrap_or_else(|| "<unknown>".into());
            let d = SmbDetail::Rename(Box::new((old, p.name(new), fuid.to_vec())));
            open(p, h, d);
            true
        }
        (1, 13) => {
            let Some(&delete) = buf.first() else {
                p.event("malformed_data");
                return false;
            };
            // A compounded request's file: the CREATE just before it.
            let name = known
                .or_else(|| {
                    let prev = h.msg_id.checked_sub(1)?;
                    recall(&p.state.create_names, &prev).cloned()
                })
                .unwrap_or_else(|| "<unknown>".into());
            open(
                p,
                h,
                SmbDetail::Delete(Box::new(Disposition {
                    filename: name,
                    delete: delete != 0,
                    fuid: fuid.to_vec(),
                    trans2: None,
                })),
            );
            true
        }
        _ => false,
    }
}

/// Where a READ's or WRITE's data goes.
enum Dest {
    /// A DCE/RPC pipe.
    Rpc,
    /// Another pipe: nothing is logged.
    OtherPipe,
    /// A file on this share.
    File(Box<str>),
}

/// Where data for file `fuid` in `h`'s tree goes; a file in a tree not
/// seen is a DCE/RPC pipe when its data reads as a PDU (the tree and file
/// are then remembered as such, as Suricata does).
fn dest(p: &mut SmbParser, h: &Hdr, fuid: &Fid, data: &[u8]) -> Dest {
    let tree = recall(&p.state.trees, &(h.session_id, h.tree_id)).cloned();
    let (share, mut is_pipe) = tree.unwrap_or_default();
    let mut rpc = (is_pipe || share.is_empty()) && pipe::is_dcerpc_service(p, fuid);
    if share.is_empty() && !is_pipe && pipe::probe(data) {
        remember(
            &mut p.state.trees,
            (h.session_id, h.tree_id),
            (pipe::UNKNOWN.into(), true),
        );
        if !rpc {
            remember(&mut p.state.names, *fuid, pipe::UNKNOWN.into());
        }
        is_pipe = true;
        rpc = true;
    }
    match (is_pipe, rpc) {
        (true, true) => Dest::Rpc,
        (true, false) => Dest::OtherPipe,
        _ => Dest::File(share),
    }
}

fn write_request(p: &mut SmbParser, h: &Hdr, rec: &[u8]) {
    let mut r = body(rec, 2);
    let fields = (|| {
        let off = r.u16_le()?;
        let len = r.u32_le()?;
        r.take(8)?;
        Some((off, len, file_id(&mut r)?))
    })();
    let Some((off, len, fuid)) = fields else {
        p.event("malformed_data");
        return;
    };
    if p.find(&Key::File(fuid, false)).is_some() {
        return;
    }
    let data = blob(rec, usize::from(off), len as usize);
    match dest(p, h, &fuid, data) {
        Dest::Rpc => pipe::write(p, pipe_ctx(h), data),
        Dest::OtherPipe => {}
        // Suricata leaves a written file's share out.
        Dest::File(_) => {
            let name = recall(&p.state.names, &fuid).cloned().unwrap_or_default();
            file_tx(p, h, WRITE, name, "".into(), fuid, false);
        }
    }
}

fn file_tx(
    p: &mut SmbParser,
    h: &Hdr,
    command: u16,
    filename: Box<str>,
    share: Box<str>,
    fuid: Fid,
    reads: bool,
) {
    let f = FileTx {
        filename,
        share,
        fuid: fuid.to_vec(),
    };
    let i = p.open(
        2,
        Some(command),
        Key::File(fuid, reads),
        SmbDetail::File(Box::new(f)),
    );
    p.waiting[i].tx.session_id = h.session_id;
    p.waiting[i].tx.tree_id = h.tree_id;
}

fn ioctl_request(p: &mut SmbParser, h: &Hdr, rec: &[u8]) {
    let mut r = body(rec, 4);
    let fields = (|| {
        let ctl = r.u32_le()?;
        let fuid = file_id(&mut r)?;
        let off = r.u32_le()?;
        let len = r.u32_le()?;
        Some((ctl, fuid, off, len))
    })();
    let Some((ctl, fuid, off, len)) = fields else {
        p.event("malformed_data");
        open(p, h, SmbDetail::Generic);
        return;
    };
    if ctl == PIPE_TRANSCEIVE && pipe::is_dcerpc_service(p, &fuid) {
        let data = blob(rec, off as usize, len as usize);
        pipe::write(p, pipe_ctx(h), data);
    } else {
        open(p, h, SmbDetail::Ioctl(ctl));
    }
}

fn response(p: &mut SmbParser, h: &Hdr, rec: &[u8]) {
    let have = match h.command {
        IOCTL => ioctl_response(p, h, rec),
        SESSION_SETUP => {
            if let Some(i) = p.find(&Key::Command(2, SESSION_SETUP, h.msg_id)) {
                let w = &mut p.waiting[i];
                w.tx.status = Some(SmbStatus::Nt(h.status));
                w.tx.session_id = h.session_id;
                w.response_done = true;
            }
            true
        }
        READ => {
            read_response(p, h, rec);
            false
        }
        CREATE => {
            let name = take(&mut p.state.create_names, &h.msg_id);
            h.status == SUCCESS && create_response(p, h, rec, name)
        }
        TREE_DISCONNECT => {
            p.state
                .trees
                .retain(|(k, _)| *k != (h.session_id, h.tree_id));
            false
        }
        TREE_CONNECT => tree_connect_response(p, h, rec),
        NEGOTIATE => negotiate_response(p, h, rec),
        _ => false,
    };
    if !have {
        answer(p, h);
    }
}

/// The generic answer: the status, and done unless it is an interim one.
fn answer(p: &mut SmbParser, h: &Hdr) {
    if let Some(i) = p.find(&Key::Command(2, h.command, h.msg_id)) {
        let w = &mut p.waiting[i];
        w.tx.status = Some(SmbStatus::Nt(h.status));
        if h.status != PENDING {
            w.response_done = true;
        }
    }
}

fn create_response(p: &mut SmbParser, h: &Hdr, rec: &[u8], name: Option<Box<str>>) -> bool {
    let mut r = body(rec, 8);
    let fields = (|| {
        let mut times = [0u64; 4];
        for t in &mut times {
            // FILETIME (100 ns since 1601) as Unix seconds.
            *t = filetime(r.u64_le()?);
        }
        r.u64_le()?;
        let size = r.u64_le()?;
        r.take(8)?;
        Some((times, size, file_id(&mut r)?))
    })();
    let Some((times, size, fuid)) = fields else {
        p.event("malformed_data");
        return true;
    };
    if let Some(name) = name
        && remember(&mut p.state.names, fuid, name)
    {
        p.event("too_many_names");
    }
    if let Some(i) = p.find(&Key::Command(2, CREATE, h.msg_id)) {
        let w = &mut p.waiting[i];
        w.tx.status = Some(SmbStatus::Nt(h.status));
        w.response_done = true;
        if let SmbDetail::Create(c) = &mut w.tx.detail {
            [c.created, c.accessed, c.modified, c.changed] = times;
            c.size = size;
            c.fuid = fuid.to_vec();
        }
    }
    true
}

fn tree_connect_response(p: &mut SmbParser, h: &Hdr, rec: &[u8]) -> bool {
    let Some(i) = p.find(&Key::Command(2, TREE_CONNECT, h.msg_id)) else {
        return h.status == SUCCESS;
    };
    let share_type = body(rec, 2).u8();
    let w = &mut p.waiting[i];
    w.tx.status = Some(SmbStatus::Nt(h.status));
    w.response_done = true;
    if h.status != SUCCESS {
        return true;
    }
    let Some(share_type) = share_type else {
        p.event("malformed_data");
        return false;
    };
    w.tx.tree_id = h.tree_id;
    w.tx.session_id = h.session_id;
    let mut tree = None;
    if let SmbDetail::TreeConnect(t) = &mut w.tx.detail {
        t.share_type = share_type;
        t.is_pipe = share_type == 2;
        tree = Some((t.share.clone(), t.is_pipe));
    }
    if let Some(tree) = tree
        && remember(&mut p.state.trees, (h.session_id, h.tree_id), tree)
    {
        p.event("too_many_names");
    }
    true
}

fn negotiate_response(p: &mut SmbParser, h: &Hdr, rec: &[u8]) -> bool {
    let mut r = body(rec, 4);
    let fields = (|| {
        let dialect = r.u16_le()?;
        r.u16_le()?;
        let guid = r.take(16)?.to_vec();
        r.take(8)?;
        Some((dialect, guid, r.u32_le()?, r.u32_le()?))
    })();
    let Some((dialect, guid, max_read, max_write)) = fields else {
        p.event("malformed_data");
        return false;
    };
    p.state.dialect2 = dialect;
    p.state.max_read_size = max_read;
    p.state.max_write_size = max_write;
    let at = [2, 1].into_iter().find_map(|v| {
        p.waiting
            .iter()
            .position(|w| w.tx.version == v && matches!(w.tx.detail, SmbDetail::Negotiate(_)))
    });
    let Some(i) = at else { return false };
    let w = &mut p.waiting[i];
    w.tx.status = Some(SmbStatus::Nt(h.status));
    w.response_done = true;
    if let SmbDetail::Negotiate(n) = &mut w.tx.detail {
        n.server_guid = guid;
        n.max_read_size = max_read;
        n.max_write_size = max_write;
    }
    true
}

fn read_response(p: &mut SmbParser, h: &Hdr, rec: &[u8]) {
    if h.status == END_OF_FILE {
        if let Some(fuid) = take(&mut p.state.reads, &h.msg_id)
            && let Some(i) = p.find(&Key::File(fuid, true))
        {
            p.waiting[i].tx.status = Some(SmbStatus::Nt(h.status));
            p.waiting[i].request_done = true;
        }
        return;
    }
    if h.status == PENDING {
        // The final (async) answer follows.
        return;
    }
    if h.status != SUCCESS && h.status != BUFFER_OVERFLOW {
        take(&mut p.state.reads, &h.msg_id);
        return;
    }
    let mut r = body(rec, 2);
    let Some((off, len)) = r.u8().zip(r.u8().and(r.u32_le())) else {
        p.event("malformed_data");
        return;
    };
    let Some(fuid) = take(&mut p.state.reads, &h.msg_id) else {
        return;
    };
    if p.find(&Key::File(fuid, true)).is_some() {
        return;
    }
    let data = blob(rec, usize::from(off), len as usize);
    match dest(p, h, &fuid, data) {
        Dest::Rpc => pipe::read(p, pipe_ctx(h), data, h.status),
        Dest::OtherPipe => {}
        Dest::File(share) => {
            let name = recall(&p.state.names, &fuid)
                .cloned()
                .unwrap_or_else(|| "<unknown>".into());
            file_tx(p, h, READ, name, share, fuid, true);
        }
    }
}

fn ioctl_response(p: &mut SmbParser, h: &Hdr, rec: &[u8]) -> bool {
    let mut r = body(rec, 4);
    let fields = (|| {
        let ctl = r.u32_le()?;
        let fuid = file_id(&mut r)?;
        r.take(8)?;
        Some((ctl, fuid, r.u32_le()?, r.u32_le()?))
    })();
    let structure = body(rec, 0).u16_le();
    match fields {
        Some((ctl, fuid, off, len))
            if structure == Some(49)
                && ctl == PIPE_TRANSCEIVE
                && pipe::is_dcerpc_service(p, &fuid) =>
        {
            let data = blob(rec, off as usize, len as usize);
            pipe::read(p, pipe_ctx(h), data, h.status);
        }
        _ => answer(p, h),
    }
    true
}

/// Where a pipe's DCE/RPC PDUs of this message belong.
fn pipe_ctx(h: &Hdr) -> pipe::Ctx {
    pipe::Ctx {
        version: 2,
        command: h.command,
        transceive: h.command == IOCTL,
        session_id: h.session_id,
        tree_id: h.tree_id,
        msg_id: h.msg_id,
    }
}
