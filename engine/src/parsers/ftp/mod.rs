//! FTP control connections ([`FtpParser`], RFC 959): command lines from
//! the client, reply lines from the server, grouped into transactions the
//! way Suricata 7 groups them, so that each [`FtpTransaction`] becomes one
//! EVE `ftp` record with Suricata's content:
//!
//! * a client line holding a known command (found anywhere in the line,
//!   case-insensitive, as Suricata's pattern matcher finds it) opens a
//!   transaction; other client lines open none;
//! * each reply line goes to the oldest open transaction (one is opened
//!   when none is), and every line but a positive preliminary one (`1yz `)
//!   completes it; further lines of the same chunk of server bytes join the
//!   transaction the previous line went to (a multi-line reply split over
//!   two segments therefore makes two records, as in Suricata);
//! * `PORT`/`EPRT` (active) and the `227` PASV / `229` EPSV replies
//!   (passive) announce the data connection's port (`dynamic_port`); a
//!   `RETR`/`STOR` after one reports the transfer ([`FtpTransfer`], the
//!   expectation the `ftp-data` connection is matched against); one without
//!   stops the parser, as Suricata's does;
//! * `AUTH TLS` answered `234 ` hands the connection to TLS (app_proto
//!   `tls`, from `ftp`).
//!
//! Bounded: lines (`max_line_bytes`, longer ones cut and flagged
//! truncated), reply lines kept per transaction (`max_reply_lines`) and
//! open transactions (`max_pending`, one more stops the parser); each cap
//! hit is an anomaly. [`probe`]: Suricata's patterns, `USER `, `PASS `,
//! `PORT `, `FEAT` and `AUTH ` from the client, a `220 (` greeting from the
//! server; other server greetings wait for the client's first line.

use super::{FtpConfig, L7Message};
use crate::AppEvent;
use crate::parsers::anomalies::Anomalies;
use crate::session::{Probe, SessionParser};

mod port;
pub use port::{active_eprt, active_port, epsv_reply, pasv_reply};

/// Suricata's command table (name, and the length the command data is
/// counted from): the names are searched for in each client line.
pub const COMMANDS: &[&str] = &[
    "PORT", "EPRT", "AUTH TLS", "PASV", "RETR", "EPSV", "STOR", "ABOR", "ACCT", "ALLO", "APPE",
    "CDUP", "CHMOD", "CWD", "DELE", "HELP", "IDLE", "LIST", "MAIL", "MDTM", "MKD", "MLFL", "MODE",
    "MRCP", "MRSQ", "MSAM", "MSND", "MSOM", "NLST", "NOOP", "PASS", "PWD", "QUIT", "REIN", "REST",
    "RMD", "RNFR", "RNTO", "SITE", "SIZE", "SMNT", "STAT", "STOU", "STRU", "SYST", "TYPE", "UMASK",
    "USER",
];

/// Open transactions past which the parser stops (Suricata's `max-tx`).
pub const DEFAULT_MAX_PENDING: usize = 1024;
/// Longest line kept (Suricata's `max-line-length`).
pub const DEFAULT_MAX_LINE: usize = 4096;
/// Reply lines kept per transaction.
pub const DEFAULT_MAX_REPLY_LINES: usize = 256;
/// Anomalies reported per flow.
const MAX_EVENTS: usize = 8;
/// Bytes held per direction while waiting for the peer's acknowledgement;
/// past it they are read at once.
pub const MAX_UNACKED: usize = 64 * 1024;

/// Which command a transaction is for: an index into [`COMMANDS`], or
/// none (a reply nobody asked for, or one that came after a line with no
/// known command: Suricata then forgets the command's name).
pub type Command = Option<u8>;

fn name_of(c: Command) -> Option<&'static str> {
    c.and_then(|i| COMMANDS.get(usize::from(i)).copied())
}

/// Data connection mode announced by the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtpMode {
    /// `PORT`/`EPRT`: the server connects to the client.
    Active,
    /// `PASV`/`EPSV`: the client connects to the server.
    Passive,
}

/// One FTP transaction: a command and its reply lines, as Suricata's
/// `ftp` record shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FtpTransaction {
    /// Its number in the flow (Suricata's `tx_id`).
    pub tx_id: u64,
    /// The command (`ftp.command`); `None`: not known.
    pub command: Option<&'static str>,
    /// What follows the command and a space (`ftp.command_data`), when
    /// there is anything.
    pub command_data: Option<Box<[u8]>>,
    /// The command line was cut at `max_line_bytes`.
    pub command_truncated: bool,
    /// The reply lines, trailing white space removed (the EVE record
    /// splits off their completion codes).
    pub replies: Vec<Box<[u8]>>,
    /// A reply line was cut, or reply lines were dropped past the cap.
    pub reply_truncated: bool,
    /// The data connection port this transaction announced.
    pub dynamic_port: Option<u16>,
    /// `PORT`/`EPRT` transactions: whether the port was read (`Active`) or
    /// not (`Passive`, as Suricata writes it).
    pub mode: Option<FtpMode>,
    /// A final reply completed it (`reply_received: yes`).
    pub reply_received: bool,
}

/// A data transfer announced on a control connection: the `RETR`/`STOR`
/// and the port negotiated before it. What the `ftp-data` connection is
/// recognised by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtpTransfer {
    /// `RETR` or `STOR`.
    pub command: &'static str,
    /// The file name (the command's argument, at most 4095 bytes).
    pub filename: Box<[u8]>,
    /// The port the data connection goes to.
    pub port: u16,
    /// `PORT`/`EPRT` mode: the server connects to the client's port;
    /// otherwise the client connects to the server's.
    pub active: bool,
}

/// The content probe (see the module docs).
pub fn probe(bytes: &[u8], side: crate::FlowSide) -> Probe {
    const CLIENT: [&[u8]; 5] = [b"USER ", b"PASS ", b"PORT ", b"FEAT", b"AUTH "];
    match side {
        crate::FlowSide::Initiator => prefix_probe(bytes, &CLIENT),
        crate::FlowSide::Responder => match prefix_probe(bytes, &[b"220 ("]) {
            // Another server greeting: the client's first line decides.
            Probe::No => Probe::NeedMore,
            p => p,
        },
    }
}

/// `Certain` when `bytes` start with one of `tags` (ASCII case ignored),
/// `NeedMore` while they could.
fn prefix_probe(bytes: &[u8], tags: &[&[u8]]) -> Probe {
    let mut more = false;
    for tag in tags {
        let n = bytes.len().min(tag.len());
        if bytes[..n].eq_ignore_ascii_case(&tag[..n]) {
            if n == tag.len() {
                return Probe::Certain;
            }
            more = true;
        }
    }
    if more { Probe::NeedMore } else { Probe::No }
}

/// The first command of [`COMMANDS`] found in `line`, by where it ends
/// (then by table order), ASCII case ignored.
pub fn find_command(line: &[u8]) -> Command {
    for end in 1..=line.len() {
        for (i, c) in COMMANDS.iter().enumerate() {
            let c = c.as_bytes();
            if c.len() <= end && line[end - c.len()..end].eq_ignore_ascii_case(c) {
                return u8::try_from(i).ok();
            }
        }
    }
    None
}

/// One direction's line assembly.
#[derive(Debug, Clone, Default)]
struct Lines {
    /// The part of a line seen so far (at most the cap).
    buf: Vec<u8>,
    /// The current line went past the cap.
    truncated: bool,
}

/// An open transaction.
#[derive(Debug, Clone, Default)]
struct Tx {
    msg: FtpTransaction,
    /// The command line, trailing white space removed.
    request: Box<[u8]>,
    /// Its command; `None` once unknown.
    command: Command,
    done: bool,
}

/// The FTP session parser. Messages: [`L7Message::Ftp`] (one per
/// transaction) and [`L7Message::FtpTransfer`].
#[derive(Debug, Clone, Default)]
pub struct FtpParser {
    cfg: FtpConfig,
    lines: [Lines; 2],
    txs: std::collections::VecDeque<Tx>,
    next_id: u64,
    /// The last client line's command (`None`: none known).
    command: Command,
    /// The last `PORT`/`EPRT` line.
    port_line: Vec<u8>,
    dyn_port: u16,
    active: bool,
    /// Parsing stopped (an error Suricata stops at, or a gap).
    stopped: bool,
    /// Per direction, the bytes fed but not acknowledged yet (Suricata in
    /// IDS mode reads a direction's bytes once the peer acknowledged them:
    /// that order decides which transaction a reply line joins).
    held: super::held::Held,
    /// Handed over to TLS after `AUTH TLS` / `234`.
    #[cfg(feature = "tls")]
    tls: Option<Box<super::tls::TlsParser>>,
    events: Anomalies<MAX_EVENTS>,
}

impl FtpParser {
    /// A parser with these options.
    pub fn new(cfg: FtpConfig) -> Self {
        FtpParser {
            cfg,
            ..FtpParser::default()
        }
    }

    fn event(&mut self, name: &'static str, tx_id: Option<u64>) {
        self.events.push("ftp", name, tx_id);
    }

    fn max_line(&self) -> usize {
        self.cfg.max_line_bytes.max(16)
    }

    /// Splits `bytes` of side `k` into lines, calling `line` on each whole
    /// one (its delimiter removed) with its truncation flag.
    fn each_line(
        &mut self,
        k: usize,
        mut bytes: &[u8],
        mut line: impl FnMut(&mut Self, &[u8], bool),
    ) {
        let cap = self.max_line();
        while !bytes.is_empty() && !self.stopped {
            let (part, complete) = match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => (&bytes[..i], true),
                None => (bytes, false),
            };
            bytes = &bytes[(part.len() + usize::from(complete)).min(bytes.len())..];
            let l = &mut self.lines[k];
            if l.buf.is_empty() && complete && part.len() <= cap {
                // The common case: a whole line in this chunk.
                let part = part.strip_suffix(b"\r").unwrap_or(part);
                line(self, part, false);
                continue;
            }
            let room = cap.saturating_sub(l.buf.len());
            if part.len() > room {
                l.truncated = true;
            }
            l.buf.extend_from_slice(&part[..part.len().min(room)]);
            if complete {
                let mut whole = std::mem::take(&mut self.lines[k].buf);
                let truncated = std::mem::take(&mut self.lines[k].truncated);
                if whole.last() == Some(&b'\r') {
                    whole.pop();
                }
                line(self, &whole, truncated);
                whole.clear();
                if self.lines[k].buf.capacity() == 0 {
                    self.lines[k].buf = whole;
                }
            }
        }
    }

    /// Opens a transaction; `None` (and the parser stops) past the cap.
    fn open(&mut self) -> Option<usize> {
        if self.txs.len() >= self.cfg.max_pending.max(1) {
            self.event("too_many_transactions", None);
            self.stopped = true;
            return None;
        }
        let tx_id = self.next_id;
        self.next_id += 1;
        self.txs.push_back(Tx {
            msg: FtpTransaction {
                tx_id,
                ..FtpTransaction::default()
            },
            ..Tx::default()
        });
        Some(self.txs.len() - 1)
    }

    fn request_line(&mut self, line: &[u8], truncated: bool, out: &mut Vec<L7Message>) {
        let Some(cmd) = find_command(line) else {
            self.command = None;
            return;
        };
        self.command = Some(cmd);
        let Some(i) = self.open() else {
            return;
        };
        let tx = &mut self.txs[i];
        tx.request = trim_end(line).into();
        tx.command = Some(cmd);
        tx.msg.command_truncated = truncated;
        let tx_id = tx.msg.tx_id;
        if truncated {
            self.event("request_command_too_long", Some(tx_id));
        }
        match name_of(Some(cmd)) {
            Some("PORT" | "EPRT") => {
                self.port_line.clear();
                self.port_line.extend_from_slice(line);
            }
            Some(name @ ("RETR" | "STOR")) => {
                // Suricata needs a port and a name (`RETR x`) or stops.
                if self.dyn_port == 0 || line.len() < 6 {
                    self.stopped = true;
                    return;
                }
                let name_len = (line.len() - 5).min(4095);
                out.push(L7Message::FtpTransfer(Box::new(FtpTransfer {
                    command: name,
                    filename: line[5..5 + name_len].into(),
                    port: self.dyn_port,
                    active: self.active,
                })));
                self.dyn_port = 0;
                self.active = false;
            }
            _ => {}
        }
    }

    /// One server chunk: each line to its transaction; the completed ones
    /// are reported at the end.
    fn feed_responder_lines(&mut self, bytes: &[u8], out: &mut Vec<L7Message>) {
        // Where the previous line of this chunk went.
        let mut last: Option<usize> = (!self.txs.is_empty()).then_some(0);
        let mut upgrade = false;
        self.each_line(1, bytes, |p, line, truncated| {
            let i = match last.and_then(|s| p.oldest_from(s)) {
                Some(i) => i,
                None => match p.open() {
                    Some(i) => i,
                    None => return,
                },
            };
            last = Some(i);
            if p.command.is_none() {
                p.txs[i].command = None;
            }
            let cmd = name_of(p.command);
            match cmd {
                Some("AUTH TLS") if line.starts_with(b"234 ") => upgrade = true,
                Some(c @ ("PORT" | "EPRT")) => {
                    let port = if c == "PORT" {
                        active_port(&p.port_line)
                    } else {
                        active_eprt(&p.port_line)
                    };
                    match port {
                        Some(port) => {
                            p.dyn_port = port;
                            p.active = true;
                            p.txs[i].msg.dynamic_port = Some(port);
                            p.txs[i].msg.mode = Some(FtpMode::Active);
                        }
                        None => {
                            // Suricata completes it without the line.
                            p.txs[i].done = true;
                            return;
                        }
                    }
                }
                Some(c @ ("PASV" | "EPSV")) => {
                    let port = if c == "PASV" && line.starts_with(b"227 ") {
                        pasv_reply(line)
                    } else if c == "EPSV" && line.starts_with(b"229 ") {
                        epsv_reply(line)
                    } else {
                        None
                    };
                    if let Some(port) = port {
                        p.dyn_port = port;
                        p.active = false;
                        p.txs[i].msg.dynamic_port = Some(port);
                        p.txs[i].msg.mode = None;
                    }
                }
                _ => {}
            }
            p.reply_line(i, line, truncated);
            let ppr = line.len() >= 4
                && line[0] == b'1'
                && line[1].is_ascii_digit()
                && line[2].is_ascii_digit()
                && line[3].is_ascii_whitespace();
            if !ppr {
                p.txs[i].done = true;
            }
        });
        self.emit_done(out);
        if upgrade {
            self.upgrade();
        }
    }

    /// Keeps reply `line` in transaction `i`, within the caps.
    fn reply_line(&mut self, i: usize, line: &[u8], truncated: bool) {
        let line = trim_end(line);
        let cap = self.cfg.max_reply_lines.max(1);
        let tx = &mut self.txs[i];
        if truncated {
            tx.msg.reply_truncated = true;
        }
        if line.is_empty() {
            return;
        }
        if tx.msg.replies.len() >= cap {
            if !tx.msg.reply_truncated {
                tx.msg.reply_truncated = true;
                let id = tx.msg.tx_id;
                self.event("too_many_reply_lines", Some(id));
            }
            return;
        }
        tx.msg.replies.push(line.into());
        if truncated {
            let id = tx.msg.tx_id;
            self.event("response_command_too_long", Some(id));
        }
    }

    /// Suricata's "oldest open transaction from `start`, else the last".
    fn oldest_from(&self, start: usize) -> Option<usize> {
        if start >= self.txs.len() {
            return None;
        }
        (start..self.txs.len())
            .find(|&i| !self.txs[i].done)
            .or(Some(self.txs.len() - 1))
    }

    /// Reports every completed transaction (in order), keeping the open
    /// ones.
    fn emit_done(&mut self, out: &mut Vec<L7Message>) {
        if !self.txs.iter().any(|t| t.done) {
            return;
        }
        let mut keep = std::collections::VecDeque::with_capacity(self.txs.len());
        for tx in self.txs.drain(..) {
            if tx.done {
                out.push(L7Message::Ftp(Box::new(finish(tx))));
            } else {
                keep.push_back(tx);
            }
        }
        self.txs = keep;
    }

    #[cfg(feature = "tls")]
    fn upgrade(&mut self) {
        let cfg = super::TlsConfig::default();
        self.tls = Some(Box::new(super::tls::TlsParser::new(cfg)));
        self.stopped = true;
    }

    #[cfg(not(feature = "tls"))]
    fn upgrade(&mut self) {
        self.stopped = true;
    }

    #[cfg(feature = "tls")]
    fn tls_feed(&mut self, k: usize, bytes: &[u8]) -> Option<Vec<L7Message>> {
        let t = self.tls.as_mut()?;
        Some(if k == 0 {
            t.feed_initiator(bytes)
        } else {
            t.feed_responder(bytes)
        })
    }

    #[cfg(not(feature = "tls"))]
    fn tls_feed(&mut self, _k: usize, _bytes: &[u8]) -> Option<Vec<L7Message>> {
        None
    }
}

/// The transaction's message, its command and data as Suricata logs
/// them: the data is what follows the command's length and one byte.
fn finish(tx: Tx) -> FtpTransaction {
    let Tx {
        mut msg,
        request,
        command,
        done,
    } = tx;
    msg.command = name_of(command);
    let len = name_of(command).map_or(0, str::len);
    if !request.is_empty() && request.len() > len {
        let from = (len + 1).min(request.len());
        msg.command_data = Some(request[from..].into());
    } else {
        msg.command_truncated = false;
    }
    if msg.command != Some("PORT") && msg.command != Some("EPRT") {
        msg.mode = None;
    } else if msg.mode.is_none() {
        msg.mode = Some(FtpMode::Passive);
    }
    msg.reply_received = done;
    msg
}

fn trim_end(line: &[u8]) -> &[u8] {
    let n = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace() && *b != 0x0b)
        .map_or(0, |i| i + 1);
    &line[..n]
}

impl FtpParser {
    /// Holds `bytes` of side `k` until acknowledged (read at once past
    /// [`MAX_UNACKED`], with everything held before them).
    fn hold(&mut self, k: usize, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        if self.held.len(k) + bytes.len() > MAX_UNACKED {
            self.release_all(k, &mut out);
            self.process(k, bytes, &mut out);
            self.held.skip(k, bytes.len() as u64);
        } else {
            self.held.push(k, bytes);
        }
        out
    }

    /// Reads side `k`'s held bytes up to stream offset `offset`.
    fn release(&mut self, k: usize, offset: u64, out: &mut Vec<L7Message>) {
        if let Some(bytes) = self.held.acked(k, offset) {
            self.process(k, &bytes, out);
        }
    }

    fn release_all(&mut self, k: usize, out: &mut Vec<L7Message>) {
        if let Some(bytes) = self.held.all(k) {
            self.process(k, &bytes, out);
        }
    }

    /// One chunk of side `k`, as Suricata's parser gets it.
    fn process(&mut self, k: usize, bytes: &[u8], out: &mut Vec<L7Message>) {
        if let Some(m) = self.tls_feed(k, bytes) {
            out.extend(m);
            return;
        }
        if self.stopped {
            return;
        }
        if k == 0 {
            self.each_line(0, bytes, |p, line, truncated| {
                p.request_line(line, truncated, out);
            });
        } else {
            self.feed_responder_lines(bytes, out);
        }
    }

    /// Side `k` lost bytes: what was held is read, then parsing stops.
    fn gap(&mut self, k: usize) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.release_all(k, &mut out);
        self.stopped = true;
        #[cfg(feature = "tls")]
        {
            self.tls = None;
        }
        out
    }
}

impl SessionParser for FtpParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.hold(0, bytes)
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.hold(1, bytes)
    }

    fn acked_initiator(&mut self, offset: u64) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.release(0, offset, &mut out);
        out
    }

    fn acked_responder(&mut self, offset: u64) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.release(1, offset, &mut out);
        out
    }

    fn wants_acks(&self) -> bool {
        true
    }

    /// A gap loses the line framing: parsing stops (open transactions are
    /// reported at the end).
    fn gap_initiator(&mut self, _len: u64) -> Vec<L7Message> {
        self.gap(0)
    }

    fn gap_responder(&mut self, _len: u64) -> Vec<L7Message> {
        self.gap(1)
    }

    /// What was never acknowledged is read (the client's first), then
    /// the open transactions are reported unanswered.
    fn flow_end(&mut self) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.release_all(0, &mut out);
        self.release_all(1, &mut out);
        #[cfg(feature = "tls")]
        if let Some(t) = self.tls.as_mut() {
            out.extend(t.flow_end());
        }
        for tx in self.txs.drain(..) {
            out.push(L7Message::Ftp(Box::new(finish(tx))));
        }
        out
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }

    fn is_transaction(msg: &L7Message) -> bool {
        matches!(msg, L7Message::Ftp(_))
    }

    /// TLS after `AUTH TLS`, from FTP.
    fn app_proto(&self) -> Option<crate::AppProto> {
        #[cfg(feature = "tls")]
        if self.tls.is_some() {
            return Some(crate::AppProto {
                name: "tls",
                orig: Some("ftp"),
            });
        }
        None
    }
}

#[cfg(test)]
mod tests;
