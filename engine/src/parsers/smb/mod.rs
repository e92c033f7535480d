//! SMB over TCP ([`SmbParser`]): SMB 2/3 (every command, requests paired
//! with their responses by message id, compounded requests followed
//! through `NextCommand`, an async `STATUS_PENDING` answer waiting for the
//! final one) and SMB1 (negotiation, session setup, tree connects, creates
//! and the other commands as generic transactions), framed by the NetBIOS
//! session service's 4-byte header (port 445's direct hosting uses the
//! same; keepalives and session requests are skipped). One [`SmbTx`] per
//! transaction as Suricata 7 makes them, written when it completes (or at
//! the flow's end as it stands): the dialect, command, status, session and
//! tree, and per command the negotiation's dialects and GUIDs, a session
//! setup's NTLMSSP identity or Kerberos ticket (`auth`, `ntlmssp`), a tree's
//! share, a create's file and times, a rename, a delete, an IOCTL's
//! function, a file read or written (one transaction per file and
//! direction, however many READs or WRITEs), and DCE/RPC calls over named
//! pipes (`pipe`, PDUs decoded by `parsers::dcerpc`).
//!
//! Transform headers (`0xFD 'SMB'`, SMB 3 encryption) are counted
//! ([`SmbParser::encrypted`]; the first reported, `encrypted_session`) and
//! skipped, never decrypted. READ and WRITE payloads are never kept: past
//! [`IO_PREFIX`] bytes of such a message the rest is skipped unread.
//! Caps: [`SmbConfig::max_record`] bytes of any other message
//! (`record_too_long`), [`SmbConfig::max_tx`] transactions waiting at once
//! (`too_many_transactions`), [`MAX_MAP`] remembered files, trees and
//! requests (`too_many_names`), [`MAX_NAME`] bytes per name (SMB2's
//! file, share and rename names: `long_name`), [`MAX_LIST`] dialects and
//! compounded commands. [`probe`]: an NBSS session message holding an
//! SMB1, SMB2 or transform header.

mod auth;
mod ntlmssp;
mod pipe;
mod smb1;
mod smb2;
mod status;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_smb1;

pub use auth::Kerberos;
pub use ntlmssp::Ntlmssp;
pub use pipe::PipeCall;
pub use status::nt_status_name;

use super::L7Message;
use super::config::SmbConfig;
use crate::AppEvent;
use crate::FlowSide;
use crate::parsers::anomalies::Anomalies;
use crate::session::{Probe, SessionParser};

/// Bytes of a READ response's or WRITE request's message read (the
/// header, the command's fields and the start of its data: enough for a
/// DCE/RPC PDU's header on a pipe); the rest is skipped unread.
pub const IO_PREFIX: usize = 4096;
/// Files, trees and outstanding requests remembered per flow; past it the
/// oldest half is forgotten (`too_many_names`).
pub const MAX_MAP: usize = 4096;
/// Bytes of a name (file, share, user...) kept; a longer one is cut.
pub const MAX_NAME: usize = 1024;
/// Dialects of a negotiation kept.
pub const MAX_LIST: usize = 64;
/// Anomalies kept until the driver takes them.
const MAX_PENDING_EVENTS: usize = 64;
/// Bytes of a message read before deciding how much of it to keep: an
/// SMB2 header and the command's first fields.
const PEEK: usize = 68;
/// The NBSS session message type.
const NBSS_MESSAGE: u8 = 0x00;

/// A command's name as Suricata writes it (`SMB2_COMMAND_CREATE`,
/// `SMB1_COMMAND_NEGOTIATE_PROTOCOL`); `None` for a number without one
/// (Suricata writes the number).
pub fn command_name(version: u8, c: u16) -> Option<&'static str> {
    if version == 1 {
        u8::try_from(c).ok().and_then(smb1::command_name)
    } else {
        smb2::command_name(c)
    }
}

/// A status as Suricata reads it: an NTSTATUS, or SMB1's DOS class and
/// code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmbStatus {
    /// An NTSTATUS value.
    Nt(u32),
    /// An SMB1 DOS error: class and code.
    Dos(u8, u16),
}

/// A negotiation's details.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Negotiate {
    /// The client's dialects (SMB1 names, or SMB2 revisions as text).
    pub dialects: Vec<Box<str>>,
    /// SMB2: the client's GUID.
    pub client_guid: Option<[u8; 16]>,
    /// The server's GUID (empty: not read).
    pub server_guid: Vec<u8>,
    /// The server's maximum read and write sizes (0: not known).
    pub max_read_size: u32,
    /// See `max_read_size`.
    pub max_write_size: u32,
}

/// A session setup's details.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionSetup {
    /// The NTLMSSP AUTHENTICATE message's names.
    pub ntlmssp: Option<Ntlmssp>,
    /// The Kerberos AP-REQ's ticket.
    pub kerberos: Option<Kerberos>,
    /// SMB1: the request's native OS and LAN manager.
    pub request_host: Option<(Box<str>, Box<str>)>,
    /// SMB1: the response's.
    pub response_host: Option<(Box<str>, Box<str>)>,
}

/// A tree connect's details.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeConnect {
    /// The share's path.
    pub share: Box<str>,
    /// Whether it is a pipe (IPC$).
    pub is_pipe: bool,
    /// SMB2: the share type (1 disk, 2 pipe, 3 print; 0 not known).
    pub share_type: u8,
    /// SMB1: the service asked for and the one answered.
    pub req_service: Option<Box<str>>,
    /// See `req_service`.
    pub res_service: Option<Box<str>>,
}

/// A create's details.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Create {
    /// The file's name (empty: the share's root).
    pub filename: Box<str>,
    /// Whether a directory was asked for.
    pub directory: bool,
    /// The create disposition.
    pub disposition: u32,
    /// Whether delete-on-close was asked for.
    pub delete_on_close: bool,
    /// The response's times (Unix seconds) and size.
    pub created: u64,
    /// See `created`.
    pub accessed: u64,
    /// See `created`.
    pub modified: u64,
    /// See `created`.
    pub changed: u64,
    /// See `created`.
    pub size: u64,
    /// The file id (16 bytes SMB2, 2 bytes SMB1; empty: not answered).
    pub fuid: Vec<u8>,
}

/// A file read or written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileTx {
    /// The file's name.
    pub filename: Box<str>,
    /// The share's name (empty when Suricata does not know it).
    pub share: Box<str>,
    /// The file id.
    pub fuid: Vec<u8>,
}

/// A file's delete-on-close set or cleared: SMB2 SET_INFO's
/// FileDispositionInformation, or SMB1 TRANS2 SET_FILE_INFO or
/// SET_PATH_INFO at the pass-through level 1013.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disposition {
    /// The file's name (SET_PATH_INFO's path).
    pub filename: Box<str>,
    /// Delete on close.
    pub delete: bool,
    /// The file id (none for SET_PATH_INFO).
    pub fuid: Vec<u8>,
    /// The TRANS2 subcommand over SMB1: 8 SET_FILE_INFO, 6 SET_PATH_INFO.
    pub trans2: Option<u16>,
}

/// What a transaction is about, beyond the common fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmbDetail {
    /// Nothing more.
    Generic,
    /// NEGOTIATE.
    Negotiate(Box<Negotiate>),
    /// SESSION_SETUP.
    SessionSetup(Box<SessionSetup>),
    /// TREE_CONNECT.
    TreeConnect(Box<TreeConnect>),
    /// CREATE (SMB1 NT_CREATE_ANDX).
    Create(Box<Create>),
    /// A file read or written.
    File(Box<FileTx>),
    /// A rename: old name, new name, file id.
    Rename(Box<(Box<str>, Box<str>, Vec<u8>)>),
    /// A disposition set (a delete on close, or its undoing).
    Delete(Box<Disposition>),
    /// A DCE/RPC call over a named pipe.
    Dcerpc(Box<PipeCall>),
    /// IOCTL: its function code.
    Ioctl(u32),
}

/// One SMB transaction, as Suricata 7 logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmbTx {
    /// The flow's transaction number, from 1, in creation order.
    pub id: u64,
    /// The dialect in use when written (`3.11`, `NT LM 0.12`, `unknown`).
    pub dialect: Box<str>,
    /// 1 (SMB1) or 2 (SMB 2/3).
    pub version: u8,
    /// The command (`None`: not known, a DCE/RPC response alone).
    pub command: Option<u16>,
    /// The status, once answered.
    pub status: Option<SmbStatus>,
    /// The session id (SMB1: the user id).
    pub session_id: u64,
    /// The tree id.
    pub tree_id: u32,
    /// The command's details.
    pub detail: SmbDetail,
}

/// How a waiting transaction is found again.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    /// A command's answer: version, command, message id (SMB1: the
    /// multiplex id).
    Command(u8, u16, u64),
    /// A file's reads (`true`) or writes.
    File(Fid, bool),
    /// A DCE/RPC call over a pipe: session, tree, call id, and the message
    /// id for IOCTL (READ and WRITE pair across messages).
    Pipe(u64, u32, u32, Option<u64>),
}

/// A transaction not yet written.
#[derive(Debug, Clone)]
struct Waiting {
    tx: SmbTx,
    key: Key,
    request_done: bool,
    response_done: bool,
    /// Timed by acknowledgements: the side and stream offset of the end
    /// of the message that completed it.
    done_at: Option<(usize, u64)>,
}

/// One side's framing.
#[derive(Debug, Clone, Default)]
struct Side {
    /// The NBSS header being read.
    head: Vec<u8>,
    /// The message being read (up to `keep` bytes).
    buf: Vec<u8>,
    /// The current record's length and the bytes of it kept.
    len: usize,
    keep: usize,
    /// Bytes of the current record still to skip after `keep`.
    skip: usize,
    /// Whether `keep` is final (the SMB header was looked at).
    decided: bool,
    /// Whether the current record is read (`false`: between records).
    in_record: bool,
    /// A gap: nothing more is read on this side.
    lost: bool,
}

/// An SMB2 file id.
type Fid = [u8; 16];
/// A tree: session and tree id.
type TreeKey = (u64, u32);
/// A tree's share name and whether it is a pipe.
type Tree = (Box<str>, bool);

/// The flow's state shared by SMB1 and SMB2.
#[derive(Debug, Clone, Default)]
struct State {
    /// SMB2 dialect revision (0: none).
    dialect2: u16,
    /// SMB1 dialect name chosen.
    dialect1: Option<Box<str>>,
    /// SMB1 dialects offered, to resolve the response's index.
    offered1: Vec<Box<str>>,
    max_read_size: u32,
    max_write_size: u32,
    /// File id -> name.
    names: Vec<(Fid, Box<str>)>,
    /// (session, tree) -> share name, is pipe.
    trees: Vec<(TreeKey, Tree)>,
    /// SMB2 CREATE requests' names by message id (for the response and
    /// compounded requests).
    create_names: Vec<(u64, Box<str>)>,
    /// The file ids of requests whose answer carries the file's data, by
    /// message id: SMB2 READ, SMB1 READ_ANDX, and SMB1 TRANS on a pipe.
    reads: Vec<(u64, Fid)>,
    /// The interfaces of the last bind over a pipe.
    ifaces: Vec<super::dcerpc::DcerpcInterface>,
    /// A DCE/RPC PDU read in pieces (`STATUS_BUFFER_OVERFLOW`).
    pipe_frag: Vec<u8>,
}

/// Remembers `v` under `k` in `map`, replacing an earlier one; past
/// [`MAX_MAP`] the oldest half goes. True when something was forgotten.
fn remember<K: PartialEq, V>(map: &mut Vec<(K, V)>, k: K, v: V) -> bool {
    map.retain(|(x, _)| *x != k);
    let full = map.len() >= MAX_MAP;
    if full {
        map.drain(..MAX_MAP / 2);
    }
    map.push((k, v));
    full
}

/// The value remembered under `k`.
fn recall<'a, K: PartialEq, V>(map: &'a [(K, V)], k: &K) -> Option<&'a V> {
    map.iter().find(|(x, _)| x == k).map(|(_, v)| v)
}

/// Takes the value remembered under `k` out of `map`.
fn take<K: PartialEq, V>(map: &mut Vec<(K, V)>, k: &K) -> Option<V> {
    let i = map.iter().position(|(x, _)| x == k)?;
    Some(map.remove(i).1)
}

/// A FILETIME (100 ns since 1601) as Unix seconds (0 before 1970).
fn filetime(t: u64) -> u64 {
    (t / 10_000_000).saturating_sub(11_644_473_600)
}

/// Bytes as text with the zero bytes left out (Suricata's reading of
/// UTF-16LE names), cut at [`MAX_NAME`] bytes.
pub(crate) fn strip_zeros(b: &[u8]) -> Box<str> {
    let kept: Vec<u8> = b
        .iter()
        .copied()
        .filter(|&c| c != 0)
        .take(MAX_NAME)
        .collect();
    String::from_utf8_lossy(&kept).into()
}

/// The SMB parser. Messages: [`L7Message::Smb`], one per transaction.
#[derive(Debug, Clone)]
pub struct SmbParser {
    max_record: usize,
    max_tx: usize,
    sides: [Side; 2],
    state: State,
    waiting: Vec<Waiting>,
    next_id: u64,
    /// Encrypted (transform) messages seen.
    encrypted: u64,
    /// Write transactions once the message completing them is
    /// acknowledged ([`SmbParser::timed_by_acks`]).
    timed: bool,
    /// Per side, the stream offset of the next byte (gaps included).
    fed: [u64; 2],
    events: Anomalies<MAX_PENDING_EVENTS>,
    out: Vec<L7Message>,
}

impl Default for SmbParser {
    fn default() -> Self {
        SmbParser::new(&SmbConfig::default())
    }
}

impl SmbParser {
    /// A parser with these options.
    pub fn new(cfg: &SmbConfig) -> Self {
        SmbParser {
            max_record: cfg.max_record.max(128),
            max_tx: cfg.max_tx.max(1),
            sides: Default::default(),
            state: State::default(),
            waiting: Vec::new(),
            next_id: 1,
            encrypted: 0,
            events: Anomalies::default(),
            out: Vec::new(),
            timed: false,
            fed: [0; 2],
        }
    }

    /// Transactions written when the message completing them is
    /// acknowledged, the ones released by one acknowledgement in creation
    /// order: Suricata in IDS mode reads each direction's bytes once the
    /// peer acknowledged them and then logs the transactions complete, so
    /// answers read together are written in transaction order.
    pub fn timed_by_acks(mut self) -> Self {
        self.timed = true;
        self
    }

    /// Encrypted (SMB 3 transform) messages seen on this flow.
    pub fn encrypted(&self) -> u64 {
        self.encrypted
    }

    /// A name from the wire ([`strip_zeros`]); one cut at [`MAX_NAME`]
    /// bytes is reported (`long_name`).
    fn name(&mut self, raw: &[u8]) -> Box<str> {
        if raw.iter().filter(|&&c| c != 0).nth(MAX_NAME).is_some() {
            self.event("long_name");
        }
        strip_zeros(raw)
    }

    fn event(&mut self, name: &'static str) {
        self.events.push("smb", name, None);
    }

    /// The dialect's text as Suricata writes it.
    fn dialect(&self) -> Box<str> {
        if self.state.dialect2 != 0 {
            smb2::dialect_name(self.state.dialect2)
        } else {
            self.state
                .dialect1
                .clone()
                .unwrap_or_else(|| "unknown".into())
        }
    }

    /// A new waiting transaction; past the cap the oldest is written as it
    /// stands. Returns its index.
    fn open(&mut self, version: u8, command: Option<u16>, key: Key, detail: SmbDetail) -> usize {
        if self.waiting.len() >= self.max_tx {
            let oldest = self.waiting.remove(0);
            self.write(oldest.tx);
            self.event("too_many_transactions");
        }
        let tx = SmbTx {
            id: self.next_id,
            dialect: Box::from(""),
            version,
            command,
            status: None,
            session_id: 0,
            tree_id: 0,
            detail,
        };
        self.next_id += 1;
        self.waiting.push(Waiting {
            tx,
            key,
            request_done: false,
            response_done: false,
            done_at: None,
        });
        self.waiting.len() - 1
    }

    /// The oldest waiting transaction with this key.
    fn find(&self, key: &Key) -> Option<usize> {
        self.waiting.iter().position(|w| w.key == *key)
    }

    fn write(&mut self, mut tx: SmbTx) {
        tx.dialect = self.dialect();
        if let SmbDetail::Dcerpc(c) = &mut tx.detail {
            pipe::resolve(c, &self.state.ifaces);
        }
        self.out.push(L7Message::Smb(Box::new(tx)));
    }

    /// Writes the transactions now complete, in creation order (timed by
    /// acknowledgements: marks them complete at `side`'s offset `end`).
    fn write_done(&mut self, side: usize, end: u64) {
        let mut i = 0;
        while i < self.waiting.len() {
            let w = &mut self.waiting[i];
            if w.request_done && w.response_done && w.done_at.is_none() && self.timed {
                w.done_at = Some((side, end));
                i += 1;
            } else if w.request_done && w.response_done && !self.timed {
                let w = self.waiting.remove(i);
                self.write(w.tx);
            } else {
                i += 1;
            }
        }
    }

    /// `side`'s stream acknowledged up to `offset`: the transactions its
    /// messages completed are written, in creation order.
    fn acked(&mut self, side: usize, offset: u64) -> Vec<L7Message> {
        let mut i = 0;
        while i < self.waiting.len() {
            match self.waiting[i].done_at {
                Some((s, end)) if s == side && end <= offset => {
                    let w = self.waiting.remove(i);
                    self.write(w.tx);
                }
                _ => i += 1,
            }
        }
        std::mem::take(&mut self.out)
    }

    fn feed(&mut self, side: usize, mut bytes: &[u8]) -> Vec<L7Message> {
        let (start, total_in) = (self.fed[side], bytes.len() as u64);
        self.fed[side] = start + total_in;
        loop {
            let s = &mut self.sides[side];
            if s.lost || (!s.in_record && bytes.is_empty()) {
                break;
            }
            if !s.in_record {
                let n = (4 - s.head.len()).min(bytes.len());
                s.head.extend_from_slice(&bytes[..n]);
                bytes = &bytes[n..];
                let &[kind, l0, l1, l2] = s.head.as_slice() else {
                    break;
                };
                s.head.clear();
                // 24 bits: NetBIOS's 17 (its flags are zero) and direct
                // TCP's (MS-SMB2 §2.1) alike.
                s.len = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
                s.in_record = true;
                s.buf.clear();
                s.skip = 0;
                // A session message: its SMB header first, then what to
                // keep of the rest is decided. Keepalives, session
                // requests and their answers are skipped.
                s.decided = kind != NBSS_MESSAGE;
                s.keep = if s.decided { 0 } else { s.len.min(PEEK) };
                if s.decided {
                    s.skip = s.len;
                }
            }
            let s = &mut self.sides[side];
            if s.buf.len() < s.keep {
                let n = (s.keep - s.buf.len()).min(bytes.len());
                s.buf.extend_from_slice(&bytes[..n]);
                bytes = &bytes[n..];
                if s.buf.len() < s.keep {
                    break;
                }
            }
            if !s.decided {
                s.decided = true;
                let want = self.want(side);
                let s = &mut self.sides[side];
                s.keep = want.clamp(s.keep, s.len);
                s.skip = s.len - s.keep;
                continue;
            }
            if s.skip > 0 {
                let n = s.skip.min(bytes.len());
                s.skip -= n;
                bytes = &bytes[n..];
                if s.skip > 0 {
                    break;
                }
            }
            s.in_record = false;
            if s.keep > 0 {
                let msg = std::mem::take(&mut s.buf);
                let total = s.len;
                self.message(side, &msg, total);
                self.sides[side].buf = msg;
                let end = start + total_in - bytes.len() as u64;
                self.write_done(side, end);
            }
        }
        std::mem::take(&mut self.out)
    }

    /// Bytes of the current message on `side` to keep, from its header.
    fn want(&mut self, side: usize) -> usize {
        let s = &self.sides[side];
        let h = &s.buf;
        let io = match h.get(..4) {
            Some([0xfe, b'S', b'M', b'B']) => smb2::is_io(h, side == 0),
            Some([0xff, b'S', b'M', b'B']) => smb1::is_io(h, side == 0),
            Some([0xfd, b'S', b'M', b'B']) => return 4,
            _ => return 4,
        };
        if io {
            IO_PREFIX
        } else {
            if s.len > self.max_record {
                self.event("record_too_long");
            }
            self.max_record
        }
    }

    /// One NBSS message's kept bytes `msg` (of `total`) from `side`.
    fn message(&mut self, side: usize, msg: &[u8], total: usize) {
        match msg.get(..4) {
            Some([0xfe, b'S', b'M', b'B']) => smb2::message(self, side == 0, msg),
            Some([0xff, b'S', b'M', b'B']) => smb1::message(self, side == 0, msg),
            Some([0xfd, b'S', b'M', b'B']) => {
                // Reported once: the session is encrypted from here on.
                if self.encrypted == 0 {
                    self.event("encrypted_session");
                }
                self.encrypted += 1;
            }
            _ => {
                if total > 0 {
                    self.event("invalid_protocol");
                }
            }
        }
    }

    fn flush(&mut self) -> Vec<L7Message> {
        for w in std::mem::take(&mut self.waiting) {
            self.write(w.tx);
        }
        std::mem::take(&mut self.out)
    }
}

/// The probe: an NBSS session message (type 0, a length of at least an
/// SMB header) whose content opens with `0xFF 'SMB'`, `0xFE 'SMB'` or
/// `0xFD 'SMB'`; on NetBIOS (139) behind one first small NBSS message of
/// another type (a session request or its answer, a keepalive), as
/// Suricata's probe accepts it.
pub fn probe(bytes: &[u8], _side: FlowSide) -> Probe {
    match bytes.first() {
        Some(0x81..=0x83 | 0x85) => {}
        _ => return probe_message(bytes),
    }
    let Some(h) = bytes.get(..4) else {
        return Probe::NeedMore;
    };
    let len = usize::from(h[2]) << 8 | usize::from(h[3]);
    if h[1] & 0xfe != 0 || len >= 256 {
        return Probe::No;
    }
    match bytes.get(4 + len..) {
        Some(next) => probe_message(next),
        None => Probe::NeedMore,
    }
}

/// [`probe`] on an NBSS session message.
fn probe_message(bytes: &[u8]) -> Probe {
    let Some(h) = bytes.get(..8) else {
        return match bytes.first() {
            Some(&t) if t != NBSS_MESSAGE => Probe::No,
            _ => Probe::NeedMore,
        };
    };
    let len = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
    let magic = matches!(h[4], 0xfd..=0xff) && &h[5..8] == b"SMB";
    if h[0] == NBSS_MESSAGE && len >= 32 && magic {
        Probe::Certain
    } else {
        Probe::No
    }
}

impl SessionParser for SmbParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(0, bytes)
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(1, bytes)
    }

    fn gap_initiator(&mut self, len: u64) -> Vec<L7Message> {
        self.sides[0].lost = true;
        self.fed[0] += len;
        Vec::new()
    }

    fn gap_responder(&mut self, len: u64) -> Vec<L7Message> {
        self.sides[1].lost = true;
        self.fed[1] += len;
        Vec::new()
    }

    fn acked_initiator(&mut self, offset: u64) -> Vec<L7Message> {
        self.acked(0, offset)
    }

    fn acked_responder(&mut self, offset: u64) -> Vec<L7Message> {
        self.acked(1, offset)
    }

    fn wants_acks(&self) -> bool {
        self.timed
    }

    fn flow_end(&mut self) -> Vec<L7Message> {
        self.flush()
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }
}
