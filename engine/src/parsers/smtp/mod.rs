//! SMTP ([`SmtpParser`]): the client's commands and the server's replies
//! (RFC 5321) line by line, matched in order through pipelining (RFC 2920)
//! and multi-line replies; the message of each DATA command up to its `.`
//! line (dot-stuffing undone) read for its `email` fields (module `mime`);
//! BDAT chunks (RFC 3030) skipped by their length; RSET; STARTTLS, after
//! whose `220` reply both directions go to an embedded TLS parser (feature
//! `tls`), so the handshake is still reported (`tls.from_proto: smtp`) and
//! the flow's app_proto becomes `tls` with `smtp` as its original, as
//! Suricata reports it. Transactions follow Suricata 7's: a client command
//! starts a new one when there is none or the current one is complete (its
//! `.` line, the `250` to its RSET, the `220` to its STARTTLS); each is
//! reported ([`SmtpTransaction`]) when complete, the last one at flow end
//! as it stands. Lines, header values, recipients, attachments and
//! pipelined commands are capped ([`SmtpConfig`] and
//! the constants here); caps hit are raised as anomalies with Suricata's
//! SMTP event names where it has one. [`probe`]: a client `EHLO`/`HELO`,
//! or a server `220` greeting that names SMTP.

mod mime;

pub use mime::{Email, MimeStatus, comma_list, header_token};

use super::{L7Message, SmtpConfig};
use crate::AppEvent;
use crate::parsers::anomalies::Anomalies;
use crate::session::{Probe, SessionParser};
use std::collections::VecDeque;

/// Commands sent ahead of their replies that are kept for matching; past
/// this the oldest are dropped (`MAX_PENDING_COMMANDS_EXCEEDED`).
pub const MAX_PENDING_COMMANDS: usize = 1024;
/// Anomalies kept between two calls of the driver.
const MAX_QUEUED_EVENTS: usize = 64;

/// One mail transaction, as Suricata's `smtp` record has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmtpTransaction {
    /// Its number in the flow, from 0 (Suricata's `tx_id`).
    pub tx_id: u64,
    /// The connection's HELO/EHLO argument (the first one) when reported.
    pub helo: Option<Box<[u8]>>,
    /// The MAIL FROM argument (up to the first space after it).
    pub mail_from: Option<Box<[u8]>>,
    /// The RCPT TO arguments, in order.
    pub rcpt_to: Vec<Box<[u8]>>,
    /// The message, once a DATA command was sent.
    pub email: Option<Email>,
}

/// The content probe: a client stream that starts with `EHLO ` or
/// `HELO ` (any case), or a server greeting `220 ` / `220-` whose first
/// line names SMTP (`ESMTP`, `SMTP`); another greeting waits for the
/// client's first command.
pub fn probe(bytes: &[u8], side: crate::FlowSide) -> Probe {
    match side {
        crate::FlowSide::Initiator => {
            let n = bytes.len().min(5);
            let head = &bytes[..n];
            let hit = [&b"EHLO "[..], b"HELO "]
                .iter()
                .any(|t| t[..n].eq_ignore_ascii_case(head));
            match (hit, n) {
                (false, _) => Probe::No,
                (true, 5) => Probe::Certain,
                _ => Probe::NeedMore,
            }
        }
        crate::FlowSide::Responder => {
            let n = bytes.len().min(4);
            if bytes[..n] != b"220 "[..n] && bytes[..n] != b"220-"[..n] {
                return Probe::No;
            }
            let line = match bytes.iter().position(|&c| c == b'\n') {
                Some(i) => &bytes[..i],
                None if bytes.len() < 512 => return Probe::NeedMore,
                None => bytes,
            };
            if line.windows(4).any(|w| w.eq_ignore_ascii_case(b"smtp")) {
                Probe::Certain
            } else {
                // The client's first command decides.
                Probe::NeedMore
            }
        }
    }
}

/// A command kept for matching with its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    StartTls,
    Data,
    /// The end of a message (`.`): its reply.
    DataEnd,
    Bdat,
    Rset,
    Other,
}

/// One direction's partial line.
#[derive(Debug, Clone, Default)]
struct LineBuf {
    buf: Vec<u8>,
    /// The line went past the cap: the rest up to its LF is dropped.
    cut: bool,
    /// After a gap: bytes up to the next LF are dropped.
    skip: bool,
}

/// The transaction being built.
#[derive(Debug, Clone, Default)]
struct Tx {
    msg: SmtpTransaction,
    mime: Option<mime::Mime>,
    done: bool,
}

/// The SMTP session parser. Messages: [`L7Message::Smtp`], one per mail
/// transaction; after STARTTLS, the TLS parser's [`L7Message::Tls`].
#[derive(Debug, Clone, Default)]
pub struct SmtpParser {
    cfg: SmtpConfig,
    lines: [LineBuf; 2],
    helo: Option<Box<[u8]>>,
    tx: Option<Tx>,
    next_tx: u64,
    /// Commands awaiting their replies, oldest first.
    cmds: VecDeque<Cmd>,
    /// The last command that sets a mode (DATA, BDAT).
    current: Option<Cmd>,
    /// Client bytes are message data (after DATA's 354, or at once with
    /// PIPELINING) or a BDAT chunk.
    data_mode: bool,
    /// BDAT chunk bytes still to come.
    bdat_left: u64,
    first_reply_seen: bool,
    multiline: bool,
    /// The server announced PIPELINING.
    pipelining: bool,
    /// STARTTLS was accepted: the rest is TLS.
    switched: bool,
    /// Stream bytes of each direction (gaps included) read before the
    /// switch: where TLS starts in each (acknowledgements are shifted by
    /// them for the TLS parser's timing).
    fed: [u64; 2],
    /// After an accepted STARTTLS: TLS (when configured; else the rest is
    /// not read).
    #[cfg(feature = "tls")]
    tls: super::tls::Handover,
    events: Anomalies<MAX_QUEUED_EVENTS>,
}

impl SmtpParser {
    /// A parser with these options (STARTTLS flows are not followed into
    /// TLS: see [`SmtpParser::with_tls`]).
    pub fn new(cfg: SmtpConfig) -> Self {
        SmtpParser {
            cfg,
            ..SmtpParser::default()
        }
    }

    /// After STARTTLS, the TLS handshake is read with these options.
    #[cfg(feature = "tls")]
    pub fn with_tls(mut self, cfg: super::TlsConfig) -> Self {
        self.tls.configure(cfg);
        self
    }

    fn event(&mut self, name: &'static str) {
        let tx_id = self.tx.as_ref().map(|t| t.msg.tx_id);
        self.events.push("smtp", name, tx_id);
    }

    /// Bytes of side `k` (0: the client).
    fn feed(&mut self, k: usize, mut bytes: &[u8], out: &mut Vec<L7Message>) {
        while !bytes.is_empty() {
            if self.switched {
                self.tls_feed(k, bytes, out);
                return;
            }
            if k == 0 && self.data_mode && self.current == Some(Cmd::Bdat) {
                let n = bytes
                    .len()
                    .min(usize::try_from(self.bdat_left).unwrap_or(usize::MAX));
                self.bdat_left -= n as u64;
                self.fed[k] += n as u64;
                if self.bdat_left == 0 {
                    self.data_mode = false;
                }
                bytes = &bytes[n..];
                continue;
            }
            let (line_end, used) = match bytes.iter().position(|&c| c == b'\n') {
                Some(i) => (true, i + 1),
                None => (false, bytes.len()),
            };
            let chunk = &bytes[..used];
            bytes = &bytes[used..];
            self.fed[k] += used as u64;
            let lb = &mut self.lines[k];
            if lb.skip {
                lb.skip = !line_end;
                continue;
            }
            if line_end && lb.buf.is_empty() && !lb.cut && chunk.len() <= self.cfg.max_line_bytes {
                // The whole line is here: read it in place.
                self.line(k, chunk, false, out);
                continue;
            }
            let room = self.cfg.max_line_bytes.saturating_sub(lb.buf.len());
            if chunk.len() > room {
                lb.cut = true;
            }
            lb.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if line_end {
                let mut line = std::mem::take(&mut self.lines[k].buf);
                let cut = std::mem::take(&mut self.lines[k].cut);
                self.line(k, &line, cut, out);
                line.clear();
                // Keep the buffer for the next partial line.
                if self.lines[k].buf.is_empty() {
                    self.lines[k].buf = line;
                }
            }
        }
    }

    /// One whole line of side `k` (LF included unless `cut`).
    fn line(&mut self, k: usize, line: &[u8], cut: bool, out: &mut Vec<L7Message>) {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let in_body = self.data_mode
            && self.current == Some(Cmd::Data)
            && self
                .tx
                .as_ref()
                .and_then(|t| t.mime.as_ref())
                .is_some_and(|m| !m.in_headers_now());
        if cut && !(k == 0 && in_body) {
            self.event("TRUNCATED_LINE");
        }
        if k == 0 {
            self.request(line, out);
        } else {
            self.reply(line, out);
        }
    }

    /// A transaction to add to: the current one, or a new one when there
    /// is none or it is complete.
    fn tx_for_command(&mut self, out: &mut Vec<L7Message>) -> &mut Tx {
        if self.tx.as_ref().is_none_or(|t| t.done) {
            self.emit(out);
            let tx_id = self.next_tx;
            self.next_tx += 1;
            self.tx = Some(Tx {
                msg: SmtpTransaction {
                    tx_id,
                    ..SmtpTransaction::default()
                },
                mime: None,
                done: false,
            });
        }
        self.tx.get_or_insert_with(Tx::default)
    }

    /// Marks the current transaction complete and reports it.
    fn complete(&mut self, out: &mut Vec<L7Message>) {
        if let Some(t) = self.tx.as_mut() {
            t.done = true;
        }
        self.emit(out);
    }

    /// Reports the current transaction (complete or not: at flow end) once.
    fn emit(&mut self, out: &mut Vec<L7Message>) {
        let Some(t) = self.tx.take() else { return };
        if !t.done {
            // Still open: only flow end reports it (`tx_for_command` keeps it).
            self.tx = Some(t);
            return;
        }
        out.push(self.message(t));
    }

    fn message(&mut self, t: Tx) -> L7Message {
        let mut msg = t.msg;
        msg.helo.clone_from(&self.helo);
        if let Some(m) = &t.mime {
            msg.email = Some(m.snapshot());
        }
        L7Message::Smtp(Box::new(msg))
    }

    /// Takes the MIME reader's anomalies.
    fn mime_events(&mut self) {
        let mut raised = Vec::new();
        if let Some(m) = self.tx.as_mut().and_then(|t| t.mime.as_mut()) {
            m.take_raised(&mut raised);
        }
        for e in raised {
            self.event(e);
        }
    }

    /// A client line.
    fn request(&mut self, line: &[u8], out: &mut Vec<L7Message>) {
        if self.data_mode && self.current == Some(Cmd::Data) {
            if line == b"." {
                self.data_mode = false;
                self.push_cmd(Cmd::DataEnd);
                if let Some(m) = self.tx.as_mut().and_then(|t| t.mime.as_mut()) {
                    m.complete();
                }
                self.mime_events();
                self.complete(out);
            } else {
                let line = match line {
                    [b'.', rest @ ..] => rest,
                    _ => line,
                };
                if let Some(m) = self.tx.as_mut().and_then(|t| t.mime.as_mut()) {
                    m.line(line);
                }
                self.mime_events();
            }
            return;
        }
        self.tx_for_command(out);
        if !self.first_reply_seen {
            self.event("NO_SERVER_WELCOME_MESSAGE");
        }
        let starts =
            |p: &str| line.len() >= p.len() && line[..p.len()].eq_ignore_ascii_case(p.as_bytes());
        let cmd = if starts("starttls") {
            Cmd::StartTls
        } else if starts("data") {
            let (max_value, max_att) = (self.cfg.max_header_value_bytes, self.cfg.max_attachments);
            let Some(t) = self.tx.as_mut() else { return };
            if t.mime.is_some() {
                // A second DATA before the server took the first.
                self.event("UNPARSABLE_CONTENT");
                return;
            }
            t.mime = Some(mime::Mime::new(max_value, max_att));
            if self.pipelining {
                self.data_mode = true;
            }
            self.current = Some(Cmd::Data);
            Cmd::Data
        } else if starts("bdat") {
            match bdat_len(line) {
                Some(n) => {
                    self.current = Some(Cmd::Bdat);
                    self.bdat_left = n;
                    self.data_mode = n > 0;
                }
                None => self.event("INVALID_REPLY"),
            }
            Cmd::Bdat
        } else if starts("helo") || starts("ehlo") {
            if self.helo.is_some() {
                self.event("DUPLICATE_FIELDS");
            } else {
                self.helo = Some(param(line, 4).into());
            }
            Cmd::Other
        } else if starts("mail from") {
            let v = param(line, 9);
            match self.tx.as_mut() {
                Some(t) if t.msg.mail_from.is_some() => self.event("DUPLICATE_FIELDS"),
                Some(t) => t.msg.mail_from = Some(v.into()),
                None => {}
            }
            Cmd::Other
        } else if starts("rcpt to") {
            let v = param(line, 7);
            let max = self.cfg.max_recipients;
            match self.tx.as_mut() {
                Some(t) if t.msg.rcpt_to.len() >= max => self.event("MAX_RECIPIENTS_EXCEEDED"),
                Some(t) => t.msg.rcpt_to.push(v.into()),
                None => {}
            }
            Cmd::Other
        } else if starts("rset") {
            self.bdat_left = 0;
            Cmd::Rset
        } else {
            Cmd::Other
        };
        self.push_cmd(cmd);
    }

    fn push_cmd(&mut self, cmd: Cmd) {
        if matches!(self.cmds.back(), Some(Cmd::StartTls | Cmd::Data)) && cmd != Cmd::DataEnd {
            self.event("INVALID_PIPELINED_SEQUENCE");
        }
        if self.cmds.len() >= MAX_PENDING_COMMANDS {
            self.cmds.pop_front();
            self.event("MAX_PENDING_COMMANDS_EXCEEDED");
        }
        self.cmds.push_back(cmd);
    }

    /// A server line.
    fn reply(&mut self, line: &[u8], out: &mut Vec<L7Message>) {
        if line.is_empty() {
            return;
        }
        let code = match line {
            [a @ b'1'..=b'5', b @ b'0'..=b'9', c @ b'0'..=b'9', ..] => {
                u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
            }
            _ => {
                self.event("INVALID_REPLY");
                return;
            }
        };
        self.multiline = line.get(3) == Some(&b'-');
        let Some(&cmd) = self.cmds.front() else {
            if !self.first_reply_seen {
                if !self.multiline {
                    self.first_reply_seen = true;
                }
                if code != 220 {
                    self.event("INVALID_REPLY");
                }
            }
            return;
        };
        match cmd {
            Cmd::StartTls if code == 220 => {
                self.cmds.clear();
                self.complete(out);
                self.switched = true;
                #[cfg(feature = "tls")]
                self.tls.start("smtp", true, self.fed);
                return;
            }
            Cmd::StartTls => self.event("TLS_REJECTED"),
            Cmd::Data if code == 354 => self.data_mode = true,
            Cmd::Data => {
                if self.pipelining {
                    self.data_mode = false;
                }
                self.event("DATA_COMMAND_REJECTED");
            }
            Cmd::Rset if code == 250 && !self.multiline && self.tx.is_some() => {
                self.complete(out);
            }
            _ => {}
        }
        if !self.multiline {
            self.cmds.pop_front();
        } else if self.first_reply_seen
            && code == 250
            && line.len() == 14
            && line[4..].eq_ignore_ascii_case(b"pipelining")
        {
            self.pipelining = true;
        }
    }

    /// After STARTTLS: the TLS parser's turn.
    fn tls_feed(&mut self, k: usize, bytes: &[u8], out: &mut Vec<L7Message>) {
        #[cfg(feature = "tls")]
        out.extend(self.tls.feed(k, bytes));
        #[cfg(not(feature = "tls"))]
        let _ = (k, bytes, out);
    }
}

impl mime::Mime {
    /// Whether header fields are being read (lines there are capped like
    /// commands; body lines are not).
    fn in_headers_now(&self) -> bool {
        matches!(
            self.email.status,
            MimeStatus::HeaderReady | MimeStatus::HeaderStarted
        )
    }
}

/// The argument of a command `prefix_len` bytes long (`MAIL FROM`: 9):
/// from one byte after the prefix, spaces skipped, up to the next space
/// (Suricata's reading: `MAIL FROM:<a@b> SIZE=10` gives `<a@b>`).
fn param(line: &[u8], prefix_len: usize) -> &[u8] {
    let rest = line.get(prefix_len + 1..).unwrap_or(&[]);
    let start = rest.iter().position(|&c| c != b' ').unwrap_or(rest.len());
    let rest = &rest[start..];
    let end = rest.iter().position(|&c| c == b' ').unwrap_or(rest.len());
    &rest[..end]
}

/// BDAT's chunk size: `BDAT <size> [LAST]`.
fn bdat_len(line: &[u8]) -> Option<u64> {
    let rest = line.get(4..)?;
    let start = rest.iter().position(|&c| c != b' ')?;
    if start == 0 {
        return None;
    }
    let digits = &rest[start..];
    let n = digits.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 19 {
        return None;
    }
    std::str::from_utf8(&digits[..n]).ok()?.parse().ok()
}

impl SessionParser for SmtpParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.feed(0, bytes, &mut out);
        out
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.feed(1, bytes, &mut out);
        out
    }

    fn gap_initiator(&mut self, len: u64) -> Vec<L7Message> {
        self.gap(0, len)
    }

    fn gap_responder(&mut self, len: u64) -> Vec<L7Message> {
        self.gap(1, len)
    }

    fn flow_end(&mut self) -> Vec<L7Message> {
        let mut out = Vec::new();
        if let Some(t) = self.tx.take() {
            out.push(self.message(t));
        }
        #[cfg(feature = "tls")]
        out.extend(self.tls.flow_end());
        out
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }

    fn acked_initiator(&mut self, offset: u64) -> Vec<L7Message> {
        self.acked(0, offset)
    }

    fn acked_responder(&mut self, offset: u64) -> Vec<L7Message> {
        self.acked(1, offset)
    }

    /// Until STARTTLS (when TLS would be read), then as long as the TLS
    /// parser wants them.
    fn wants_acks(&self) -> bool {
        #[cfg(feature = "tls")]
        {
            self.tls
                .wants_acks()
                .unwrap_or(!self.switched && self.tls.is_configured())
        }
        #[cfg(not(feature = "tls"))]
        false
    }

    /// SMTP transactions (not the TLS handshake after STARTTLS).
    fn is_transaction(msg: &L7Message) -> bool {
        matches!(msg, L7Message::Smtp(_))
    }

    /// After an accepted STARTTLS with TLS read: `tls` (the route's `smtp`
    /// is the original).
    fn app_proto(&self) -> Option<crate::AppProto> {
        #[cfg(feature = "tls")]
        return self.tls.app_proto();
        #[cfg(not(feature = "tls"))]
        None
    }
}

impl SmtpParser {
    /// Direction `k`'s acknowledgement, shifted to the TLS stream.
    fn acked(&mut self, k: usize, offset: u64) -> Vec<L7Message> {
        #[cfg(feature = "tls")]
        return self.tls.acked(k, offset);
        #[cfg(not(feature = "tls"))]
        {
            let _ = (k, offset);
            Vec::new()
        }
    }

    /// A gap in side `k`: the partial line is lost and the next bytes are
    /// read from the next line end on (a BDAT chunk counts the gap).
    fn gap(&mut self, k: usize, len: u64) -> Vec<L7Message> {
        if self.switched {
            #[cfg(feature = "tls")]
            return self.tls.gap(k, len);
            #[cfg(not(feature = "tls"))]
            return Vec::new();
        }
        self.fed[k] = self.fed[k].saturating_add(len);
        if k == 0 && self.data_mode && self.current == Some(Cmd::Bdat) {
            self.bdat_left = self.bdat_left.saturating_sub(len);
            if self.bdat_left == 0 {
                self.data_mode = false;
            }
            return Vec::new();
        }
        let lb = &mut self.lines[k];
        lb.buf.clear();
        lb.cut = false;
        lb.skip = true;
        Vec::new()
    }
}

#[cfg(test)]
mod tests;
