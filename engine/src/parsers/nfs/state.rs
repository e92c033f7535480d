//! One flow's NFS state, as Suricata 7 keeps it: calls waiting for their
//! reply (by xid), the handle-to-name map, and the transactions (one per
//! call, one per file transfer); v2 and v3 calls and replies decoded
//! here, v4 COMPOUNDs in `v4`.

use super::rpc::{Call, Creds, Reply};
use super::{NfsFile, NfsRecord, OP4_READ, OP4_WRITE, message, proc3};
use crate::AppEvent;
use crate::parsers::L7Message;
use crate::parsers::anomalies::Anomalies;
use crate::parsers::reader::Reader;
use std::collections::{HashMap, VecDeque};

/// Anomalies kept until the driver takes them.
const MAX_PENDING_EVENTS: usize = 64;
/// Handle-to-name entries kept per flow.
const MAX_NAMES: usize = 4096;
/// Longest file handle kept (NFSv4's NFS4_FHSIZE).
const MAX_HANDLE: usize = 128;
/// Longest name kept.
const MAX_NAME: usize = 1024;
/// Largest READ or WRITE count Suricata takes for a file chunk.
const MAX_CHUNK: u32 = 16 * 1024 * 1024;

/// What a call left for its reply.
#[derive(Debug, Clone, Default)]
pub(super) struct XidMap {
    pub(super) progver: u32,
    pub(super) procedure: u32,
    pub(super) chunk_offset: u64,
    pub(super) file_name: Vec<u8>,
    pub(super) file_handle: Vec<u8>,
    /// RPCSEC_GSS procedure and service of the call.
    pub(super) gss: (u32, u32),
}

/// A READ's results.
pub(super) struct ReadReply<'a> {
    pub(super) status: u32,
    pub(super) attr: &'a [u8],
    pub(super) count: u32,
    pub(super) eof: bool,
    pub(super) data_len: u32,
    pub(super) data: &'a [u8],
}

/// A WRITE's arguments.
pub(super) struct Write<'a> {
    pub(super) handle: &'a [u8],
    pub(super) count: u32,
    pub(super) stable: u32,
    pub(super) data: &'a [u8],
}

/// A transaction and its progress.
#[derive(Debug, Clone)]
pub(super) struct Tx {
    pub(super) rec: NfsRecord,
    request_done: bool,
    response_done: bool,
    closed: bool,
    to_server: bool,
}

/// The per-flow state.
#[derive(Debug, Clone)]
pub(super) struct NfsState {
    max_tx: usize,
    requests: VecDeque<(u32, XidMap)>,
    names: HashMap<Vec<u8>, Vec<u8>>,
    txs: Vec<Tx>,
    tx_id: u64,
    pub(super) version: u16,
    events: Anomalies<MAX_PENDING_EVENTS>,
}

fn clip(b: &[u8], max: usize) -> Vec<u8> {
    b.get(..max).unwrap_or(b).to_vec()
}

/// An XDR opaque: its length, its bytes (no padding skipped).
pub(super) fn opaque<'a>(r: &mut Reader<'a>) -> Option<&'a [u8]> {
    let n = r.u32()?;
    r.take(n as usize)
}

/// The padding after an opaque of `n` bytes.
pub(super) fn pad(r: &mut Reader<'_>, n: usize) -> Option<()> {
    r.take((4 - n % 4) % 4).map(|_| ())
}

/// A u64 from two u32s.
pub(super) fn u64(r: &mut Reader<'_>) -> Option<u64> {
    Some((u64::from(r.u32()?) << 32) | u64::from(r.u32()?))
}

impl NfsState {
    pub(super) fn new(max_tx: usize) -> Self {
        NfsState {
            max_tx: max_tx.max(1),
            requests: VecDeque::new(),
            names: HashMap::new(),
            txs: Vec::new(),
            tx_id: 0,
            version: 0,
            events: Anomalies::default(),
        }
    }

    pub(super) fn event(&mut self, name: &'static str) {
        self.events.push("nfs", name, None);
    }

    pub(super) fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }

    /// A new transaction (not yet stored); past the cap the oldest
    /// unfinished one is finished as it stands.
    fn new_tx(&mut self) -> Tx {
        self.tx_id += 1;
        if self.txs.len() > self.max_tx
            && let Some(old) = self
                .txs
                .iter_mut()
                .find(|t| !t.request_done || !t.response_done)
        {
            old.request_done = true;
            old.response_done = true;
            old.closed = true;
            self.event("too_many_transactions");
        }
        Tx {
            rec: NfsRecord {
                id: self.tx_id,
                ..NfsRecord::default()
            },
            request_done: false,
            response_done: false,
            closed: false,
            to_server: false,
        }
    }

    /// A call's transaction, with its credentials.
    pub(super) fn call_tx(&mut self, c: &Call<'_>, procedure: u32, x: &XidMap) -> Tx {
        let mut tx = self.new_tx();
        tx.rec.xid = c.xid;
        tx.rec.procedure = procedure;
        tx.request_done = true;
        tx.rec.file_name = x.file_name.clone();
        tx.rec.file_handle = x.file_handle.clone();
        tx.rec.auth_type = c.flavor;
        if let Creds::Unix { machine, uid, gid } = c.creds {
            tx.rec.creds = Some((machine.to_vec(), uid, gid));
        }
        tx
    }

    pub(super) fn push(&mut self, tx: Tx) {
        self.txs.push(tx);
    }

    fn new_file_tx(&mut self, handle: &[u8], name: &[u8], to_server: bool) -> usize {
        let mut tx = self.new_tx();
        tx.rec.file_name = name.to_vec();
        tx.rec.file_handle = handle.to_vec();
        tx.rec.file_tx = true;
        tx.rec.file = Some(NfsFile::default());
        tx.to_server = to_server;
        self.txs.push(tx);
        self.txs.len() - 1
    }

    fn file_tx(&self, handle: &[u8], to_server: bool) -> Option<usize> {
        self.txs.iter().position(|t| {
            t.rec.file_tx && !t.closed && t.to_server == to_server && t.rec.file_handle == handle
        })
    }

    /// The name the map holds for `handle`, if any.
    pub(super) fn name_of(&self, handle: &[u8]) -> Option<Vec<u8>> {
        self.names.get(handle).cloned()
    }

    pub(super) fn handle2name(&self, x: &mut XidMap) {
        if let Some(n) = self.names.get(&x.file_handle) {
            x.file_name = n.clone();
        }
    }

    pub(super) fn insert_name(&mut self, handle: &[u8], name: &[u8]) {
        if handle.len() > MAX_HANDLE || name.len() > MAX_NAME {
            self.event("long_name");
            return;
        }
        if self.names.len() >= MAX_NAMES && !self.names.contains_key(handle) {
            self.event("too_many_names");
            return;
        }
        self.names.insert(handle.to_vec(), name.to_vec());
    }

    /// Stores what a call leaves for its reply (a second call with the
    /// same xid replaces the first, as in Suricata's map).
    pub(super) fn remember(&mut self, xid: u32, x: XidMap) {
        if let Some(i) = self.requests.iter().position(|(id, _)| *id == xid) {
            self.requests.remove(i);
        } else if self.requests.len() >= self.max_tx {
            self.requests.pop_front();
            self.event("too_many_calls");
        }
        self.requests.push_back((xid, x));
    }

    pub(super) fn take_request(&mut self, xid: u32) -> Option<XidMap> {
        let i = self.requests.iter().position(|(id, _)| *id == xid)?;
        self.requests.remove(i).map(|(_, x)| x)
    }

    pub(super) fn peek_procedure(&self, xid: u32) -> Option<u32> {
        self.requests
            .iter()
            .find(|(id, _)| *id == xid)
            .map(|(_, x)| x.procedure)
    }

    /// The reply to the call `xid`: its first transaction that is not a
    /// file transfer is answered.
    pub(super) fn mark_response(&mut self, xid: u32, rpc_status: u32, status: u32, handle: &[u8]) {
        if let Some(t) = self
            .txs
            .iter_mut()
            .find(|t| !t.rec.file_tx && t.rec.xid == xid)
        {
            t.response_done = true;
            t.rec.rpc_status = rpc_status;
            t.rec.status = status;
            if t.rec.file_handle.is_empty() && !handle.is_empty() {
                t.rec.file_handle = clip(handle, MAX_HANDLE);
            }
        }
    }

    pub(super) fn call_v2(&mut self, c: &Call<'_>) {
        let mut x = XidMap {
            progver: c.progver,
            procedure: c.procedure,
            ..XidMap::default()
        };
        let mut r = Reader::new(c.data);
        // Suricata reads v2 procedures by v3's numbers: 3 (v2's ROOT) as
        // a LOOKUP, 6 as READ.
        if c.procedure == proc3::LOOKUP || c.procedure == proc3::READ {
            let parsed = (|| {
                let handle = r.take(32)?;
                if c.procedure == proc3::READ {
                    let offset = r.u32()?;
                    r.u32()?;
                    Some((handle, u64::from(offset)))
                } else {
                    let n = r.u32()?;
                    r.take(n as usize)?;
                    Some((handle, 0))
                }
            })();
            match parsed {
                Some((h, offset)) => {
                    x.file_handle = h.to_vec();
                    x.chunk_offset = offset;
                    self.handle2name(&mut x);
                }
                None => self.event("malformed_data"),
            }
        }
        if !matches!(c.procedure, proc3::COMMIT | proc3::WRITE | proc3::READ) {
            let mut tx = self.call_tx(c, c.procedure, &x);
            if c.procedure == proc3::RENAME {
                tx.rec.rename_to = Some(Vec::new());
            }
            self.push(tx);
        }
        self.remember(c.xid, x);
    }

    pub(super) fn reply_v2(&mut self, r: &Reply<'_>, x: &XidMap) {
        let mut status = 0;
        if x.procedure == proc3::READ {
            let mut b = Reader::new(r.data);
            let parsed = (|| {
                let status = b.u32()?;
                let attr = b.take(68)?;
                let data_len = b.u32()?;
                let data = b.take(data_len as usize)?;
                // Suricata's fill: 4 bytes when the data is aligned.
                b.take(4 - (data_len as usize % 4))?;
                Some(ReadReply {
                    status,
                    attr,
                    count: data_len,
                    eof: false,
                    data_len,
                    data,
                })
            })();
            match parsed {
                Some(rd) => {
                    status = rd.status;
                    self.read_reply(r, &rd, x, false);
                }
                None => self.event("malformed_data"),
            }
        } else {
            status = Reader::new(r.data).u32().unwrap_or(0);
        }
        self.mark_response(r.xid, r.reply_state, status, &[]);
    }

    pub(super) fn call_v3(&mut self, c: &Call<'_>) {
        let mut x = XidMap {
            progver: c.progver,
            procedure: c.procedure,
            ..XidMap::default()
        };
        if self.version == 0 {
            self.version = c.progver as u16;
        }
        let mut rename_to = None;
        let mut r = Reader::new(c.data);
        let ok = match c.procedure {
            proc3::LOOKUP => (|| {
                opaque(&mut r)?;
                x.file_name = clip(opaque(&mut r)?, MAX_NAME);
                Some(())
            })(),
            proc3::ACCESS | proc3::GETATTR | proc3::READDIRPLUS | proc3::READ => (|| {
                x.file_handle = clip(opaque(&mut r)?, MAX_HANDLE);
                match c.procedure {
                    proc3::ACCESS => {
                        r.u32()?;
                    }
                    proc3::READDIRPLUS => {
                        r.take(8 + 8 + 4 + 4)?;
                    }
                    proc3::READ => {
                        x.chunk_offset = u64(&mut r)?;
                        r.u32()?;
                    }
                    _ => {}
                }
                self.handle2name(&mut x);
                Some(())
            })(),
            proc3::WRITE => match write_args(&mut r, true) {
                Some(w) => {
                    self.write_call(c, &w, false);
                    Some(())
                }
                None => None,
            },
            proc3::CREATE | proc3::REMOVE | proc3::MKDIR | proc3::RMDIR | proc3::RENAME => (|| {
                x.file_handle = clip(opaque(&mut r)?, MAX_HANDLE);
                let name = opaque(&mut r)?;
                x.file_name = clip(name, MAX_NAME);
                match c.procedure {
                    proc3::CREATE => {
                        pad(&mut r, name.len())?;
                        r.u32()?;
                    }
                    proc3::RMDIR | proc3::MKDIR => pad(&mut r, name.len())?,
                    proc3::RENAME => {
                        pad(&mut r, name.len())?;
                        opaque(&mut r)?;
                        rename_to = Some(clip(opaque(&mut r)?, MAX_NAME));
                    }
                    _ => {}
                }
                Some(())
            })(
            ),
            proc3::COMMIT => (|| {
                let h = opaque(&mut r)?;
                u64(&mut r)?;
                r.u32()?;
                if let Some(i) = self.file_tx(h, true) {
                    let t = &mut self.txs[i];
                    if let Some(f) = t.rec.file.as_mut() {
                        f.chunks += 1;
                        f.last_xid = c.xid;
                    }
                    t.rec.last = true;
                    t.request_done = true;
                    t.closed = true;
                }
                Some(())
            })(),
            _ => Some(()),
        };
        if ok.is_none() {
            self.event("malformed_data");
        }
        if !matches!(c.procedure, proc3::COMMIT | proc3::WRITE | proc3::READ) {
            let mut tx = self.call_tx(c, c.procedure, &x);
            if c.procedure == proc3::RENAME {
                tx.rec.rename_to = Some(rename_to.unwrap_or_default());
            }
            self.push(tx);
        } else if c.procedure == proc3::READ && self.file_tx(&x.file_handle, false).is_none() {
            let i = self.new_file_tx(&x.file_handle, &x.file_name, false);
            let t = &mut self.txs[i];
            t.rec.procedure = proc3::READ;
            t.rec.xid = c.xid;
            t.rec.first = true;
            t.rec.auth_type = c.flavor;
            if let Creds::Unix { machine, uid, gid } = c.creds {
                t.rec.creds = Some((machine.to_vec(), uid, gid));
            }
        }
        self.remember(c.xid, x);
    }

    pub(super) fn reply_v3(&mut self, r: &Reply<'_>, x: &XidMap) {
        let mut status = 0;
        let mut handle: &[u8] = &[];
        let mut b = Reader::new(r.data);
        match x.procedure {
            proc3::LOOKUP => match (b.u32(), opaque(&mut b)) {
                (Some(s), Some(h)) => {
                    status = s;
                    self.insert_name(h, &x.file_name);
                    handle = h;
                }
                _ => self.event("malformed_data"),
            },
            proc3::CREATE => {
                let parsed = (|| {
                    let s = b.u32()?;
                    let follows = b.u32()?;
                    let h = match follows {
                        0 => None,
                        1 => Some(opaque(&mut b)?),
                        _ => return None,
                    };
                    Some((s, h))
                })();
                match parsed {
                    Some((s, h)) => {
                        status = s;
                        if let Some(h) = h {
                            self.insert_name(h, &x.file_name);
                            handle = h;
                        }
                    }
                    None => self.event("malformed_data"),
                }
            }
            proc3::READ => match read3(&mut b, true) {
                Some(rd) => {
                    self.read_reply(r, &rd, x, false);
                    status = rd.status;
                }
                None => self.event("malformed_data"),
            },
            proc3::READDIRPLUS => {
                let parsed = (|| {
                    let s = b.u32()?;
                    attrs(&mut b)?;
                    b.take(8)?;
                    Some(s)
                })();
                match parsed {
                    Some(s) => {
                        status = s;
                        let rest = r.data.get(b.pos()..).unwrap_or_default();
                        // The final eof word cut off, as Suricata does.
                        let d = rest.get(..rest.len().saturating_sub(4)).unwrap_or_default();
                        self.readdirplus_names(d);
                    }
                    None => self.event("malformed_data"),
                }
            }
            _ => status = b.u32().unwrap_or(0),
        }
        if x.procedure != proc3::READ {
            let handle = handle.to_vec();
            self.mark_response(r.xid, r.reply_state, status, &handle);
        }
    }

    /// READDIRPLUS entries: each one's handle mapped to its name, up to
    /// the first that does not read.
    fn readdirplus_names(&mut self, d: &[u8]) {
        let mut r = Reader::new(d);
        loop {
            let entry = (|| {
                match r.u32()? {
                    0 => return Some(None),
                    1 => {}
                    _ => return None,
                }
                r.take(8)?;
                let name = opaque(&mut r)?;
                pad(&mut r, name.len())?;
                r.take(8)?;
                attrs(&mut r)?;
                let h = match r.u32()? {
                    0 => None,
                    1 => Some(opaque(&mut r)?),
                    _ => return None,
                };
                Some(Some((name, h)))
            })();
            match entry {
                Some(Some((name, Some(h)))) => self.insert_name(h, name),
                Some(_) => {}
                None => break,
            }
        }
    }

    /// A READ's reply (`partial`: only its first bytes were read, the
    /// rest of the record is skipped).
    pub(super) fn read_reply(
        &mut self,
        r: &Reply<'_>,
        rd: &ReadReply<'_>,
        x: &XidMap,
        partial: bool,
    ) {
        if rd.count == 0 || rd.count > MAX_CHUNK {
            return;
        }
        let mut is_last = rd.eof;
        if x.progver == 2 {
            let mut a = Reader::new(rd.attr);
            let size = (|| {
                a.u32()?;
                a.take(16)?;
                a.u32()
            })();
            if size.map(u64::from) == Some(x.chunk_offset + u64::from(rd.data_len)) {
                is_last = true;
            }
        }
        let partial = partial || rd.data.len() < rd.count as usize;
        let i = match self.file_tx(&x.file_handle, false) {
            Some(i) => {
                if let Some(f) = self.txs[i].rec.file.as_mut() {
                    f.chunks += 1;
                }
                i
            }
            None => {
                let i = self.new_file_tx(&x.file_handle, &x.file_name, false);
                let t = &mut self.txs[i];
                t.rec.procedure = if x.progver < 4 { proc3::READ } else { OP4_READ };
                t.rec.xid = r.xid;
                t.rec.first = true;
                i
            }
        };
        if is_last {
            let t = &mut self.txs[i];
            if let Some(f) = t.rec.file.as_mut() {
                f.last_xid = r.xid;
            }
            t.rec.rpc_status = r.reply_state;
            t.rec.status = rd.status;
            t.rec.last = true;
            t.request_done = true;
            t.response_done = !partial;
        }
    }

    /// A WRITE's call (v3, or v4 with `v4`).
    pub(super) fn write_call(&mut self, c: &Call<'_>, w: &Write<'_>, v4: bool) {
        if w.count == 0 || w.count > MAX_CHUNK {
            return;
        }
        let is_last = w.stable == 2;
        let name = self.name_of(w.handle).unwrap_or_default();
        match self.file_tx(w.handle, true) {
            Some(i) => {
                let t = &mut self.txs[i];
                if let Some(f) = t.rec.file.as_mut() {
                    f.chunks += 1;
                    if is_last {
                        f.last_xid = c.xid;
                    }
                }
                if is_last {
                    t.rec.last = true;
                    t.response_done = true;
                    t.closed |= !v4;
                }
            }
            None => {
                let i = self.new_file_tx(&clip(w.handle, MAX_HANDLE), &name, true);
                let t = &mut self.txs[i];
                t.rec.procedure = if v4 { OP4_WRITE } else { proc3::WRITE };
                t.rec.xid = c.xid;
                t.rec.first = true;
                if is_last {
                    if let Some(f) = t.rec.file.as_mut() {
                        f.last_xid = c.xid;
                    }
                    t.rec.last = true;
                    t.request_done = true;
                    t.closed = true;
                }
            }
        }
        let _ = w.data;
    }

    /// A COMMIT or CLOSE (v4) of a file being written.
    pub(super) fn commit(&mut self, xid: u32, handle: &[u8], count: bool) {
        if let Some(i) = self.file_tx(handle, true) {
            let t = &mut self.txs[i];
            if let Some(f) = t.rec.file.as_mut() {
                f.chunks += u32::from(count);
                f.last_xid = xid;
            }
            t.rec.last = true;
            t.request_done = true;
            t.closed = true;
        }
    }

    /// The rest of a record read from its first bytes has gone by: the
    /// file transfer it belongs to counts it, and is done if it was the
    /// last chunk.
    pub(super) fn chunk_end(&mut self, handle: &[u8], to_server: bool, xid: u32) {
        if !to_server {
            self.take_request(xid);
        }
        if let Some(i) = self.file_tx(handle, to_server) {
            let t = &mut self.txs[i];
            if let Some(f) = t.rec.file.as_mut() {
                f.chunks += 1;
            }
            if t.rec.last {
                if to_server {
                    t.request_done = true;
                } else {
                    t.response_done = true;
                }
                t.closed = true;
            }
        }
    }

    /// The file handle a large READ reply's call named.
    pub(super) fn request(&self, xid: u32) -> Option<&XidMap> {
        self.requests
            .iter()
            .find(|(id, _)| *id == xid)
            .map(|(_, x)| x)
    }

    /// Writes the finished transactions, oldest first (v2/v3 GETATTR
    /// ones are dropped, as Suricata's logger filters them).
    pub(super) fn collect(&mut self, out: &mut Vec<L7Message>) {
        let mut i = 0;
        while i < self.txs.len() {
            if self.txs[i].request_done && self.txs[i].response_done {
                let t = self.txs.remove(i);
                self.emit(t, out);
            } else {
                i += 1;
            }
        }
    }

    fn emit(&self, t: Tx, out: &mut Vec<L7Message>) {
        if self.version <= 3 && t.rec.procedure == proc3::GETATTR {
            return;
        }
        let mut rec = t.rec;
        rec.version = self.version;
        out.push(message(rec));
    }

    /// Every transaction still open, as it stands (the TCP flow's end).
    pub(super) fn flush(&mut self, out: &mut Vec<L7Message>) {
        for t in std::mem::take(&mut self.txs) {
            self.emit(t, out);
        }
    }
}

/// Optional attributes: a flag (at most 1), then 84 bytes when set.
fn attrs(r: &mut Reader<'_>) -> Option<()> {
    match r.u32()? {
        0 => Some(()),
        1 => r.take(84).map(|_| ()),
        _ => None,
    }
}

/// A v3 READ reply (`complete`: the whole record is here).
pub(super) fn read3<'a>(b: &mut Reader<'a>, complete: bool) -> Option<ReadReply<'a>> {
    let status = b.u32()?;
    if b.u32()? > 1 {
        return None;
    }
    let attr = b.take(84)?;
    let count = b.u32()?;
    let eof = b.u32()?;
    let data_len = b.u32()?;
    if eof > 1 || data_len > count {
        return None;
    }
    let data = data_bytes(b, data_len as usize, complete)?;
    Some(ReadReply {
        status,
        attr,
        count,
        eof: eof != 0,
        data_len,
        data,
    })
}

/// File data: all of it and its padding when the record is whole; what
/// is here otherwise.
fn data_bytes<'a>(b: &mut Reader<'a>, n: usize, complete: bool) -> Option<&'a [u8]> {
    let fill = (4 - n % 4) % 4;
    if complete {
        let d = b.take(n)?;
        b.take(fill)?;
        Some(d)
    } else if b.left() >= n {
        let d = b.take(n)?;
        let _ = b.take(fill.min(b.left()));
        Some(d)
    } else {
        b.take(b.left())
    }
}

/// A v3 WRITE's arguments.
pub(super) fn write_args<'a>(r: &mut Reader<'a>, complete: bool) -> Option<Write<'a>> {
    let handle = opaque(r)?;
    u64(r)?;
    let count = r.u32()?;
    let stable = r.u32()?;
    let len = r.u32()?;
    if stable > 2 || len > count {
        return None;
    }
    let data = data_bytes(r, len as usize, complete)?;
    Some(Write {
        handle,
        count,
        stable,
        data,
    })
}
