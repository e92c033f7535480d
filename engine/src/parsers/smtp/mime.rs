//! The message of a DATA command, read the way Suricata 7's MIME decoder
//! reads it for its `email` fields, one line at a time (dot-stuffing
//! already undone, line ends stripped): header fields and their folded
//! continuations, the multipart tree by boundaries (nested and
//! `message/*` parts included, a bounded depth), and for each part the file
//! name of an attachment (Content-Disposition `filename`, else Content-Type
//! `name`). Bodies are not kept, nor decoded. What it gives: the top-level
//! `From`, `To` and `Cc` (the last of each, like Suricata), the file names
//! of the top-level parts, and the parse status. Every kept value is
//! capped; caps hit are raised as Suricata's MIME anomaly names.

/// Longest header name Suricata takes without `MIME_LONG_HEADER_NAME`.
pub const MAX_HEADER_NAME: usize = 75;
/// Longest file name or boundary token kept (Suricata's
/// `RS_MIME_MAX_TOKEN_LEN`); a longer file name is cut
/// (`MIME_LONG_FILENAME`).
pub const MAX_TOKEN: usize = 255;
/// Longest boundary: a longer one stops the MIME reading
/// (`MIME_LONG_BOUNDARY`, status `PARSE_ERROR`).
pub const MAX_BOUNDARY: usize = 254;
/// Nested parts followed at most; deeper ones are read as body.
pub const MAX_DEPTH: usize = 16;

/// Where the reading of the message is (Suricata's MIME parser state, its
/// EVE `email.status`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MimeStatus {
    /// Before the first header line of a part.
    #[default]
    HeaderReady,
    /// In a part's header fields.
    HeaderStarted,
    /// A part's header fields ended (the blank line).
    HeaderDone,
    /// In a part's body.
    BodyStarted,
    /// A multipart's closing boundary was the last one read.
    BodyEndBound,
    /// The message ended (the `.` line).
    ParseDone,
    /// The message could not be read on (an overlong boundary).
    ParseError,
}

impl MimeStatus {
    /// Suricata's name for it.
    pub fn name(self) -> &'static str {
        match self {
            MimeStatus::HeaderReady => "HEADER_READY",
            MimeStatus::HeaderStarted => "HEADER_STARTED",
            MimeStatus::HeaderDone => "HEADER_DONE",
            MimeStatus::BodyStarted => "BODY_STARTED",
            MimeStatus::BodyEndBound => "BODY_END_BOUND",
            MimeStatus::ParseDone => "PARSE_DONE",
            MimeStatus::ParseError => "PARSE_ERROR",
        }
    }
}

/// What a message showed (EVE `email`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Email {
    /// Where the reading stopped.
    pub status: MimeStatus,
    /// The top-level `From` value, leading white space removed.
    pub from: Option<Box<[u8]>>,
    /// The top-level `To` value, split at commas outside quotes.
    pub to: Vec<Box<[u8]>>,
    /// The top-level `Cc` value, split the same way.
    pub cc: Vec<Box<[u8]>>,
    /// File names of the top-level parts that are attachments, in order.
    /// Like Suricata's, listed only while the reading is back at the top
    /// level (after the closing boundary, or for a message without parts).
    pub attachment: Vec<Box<[u8]>>,
}

/// Header fields whose values are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Field {
    From,
    To,
    Cc,
    ContentType,
    ContentDisposition,
    #[default]
    Other,
}

impl Field {
    fn of(name: &[u8]) -> Field {
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        if is("from") {
            Field::From
        } else if is("to") {
            Field::To
        } else if is("cc") {
            Field::Cc
        } else if is("content-type") {
            Field::ContentType
        } else if is("content-disposition") {
            Field::ContentDisposition
        } else {
            Field::Other
        }
    }
}

/// One part on the way down from the message: its boundary when it is a
/// multipart.
#[derive(Debug, Clone, Default)]
struct Frame {
    boundary: Option<Box<[u8]>>,
}

/// Anomalies raised while reading (Suricata's MIME event names).
pub const LONG_HEADER_NAME: &str = "MIME_LONG_HEADER_NAME";
/// A header value past the cap.
pub const LONG_HEADER_VALUE: &str = "MIME_LONG_HEADER_VALUE";
/// A file name past [`MAX_TOKEN`].
pub const LONG_FILENAME: &str = "MIME_LONG_FILENAME";
/// A boundary past [`MAX_BOUNDARY`].
pub const LONG_BOUNDARY: &str = "MIME_LONG_BOUNDARY";
/// More attachments than the cap (flowscope's own).
pub const ATTACHMENTS_CAPPED: &str = "MAX_ATTACHMENTS_EXCEEDED";

/// The reading of one message.
#[derive(Debug, Clone, Default)]
pub(super) struct Mime {
    pub(super) email: Email,
    /// Largest header value kept, in bytes.
    max_value: usize,
    /// Most attachment names kept.
    max_attachments: usize,
    /// The parts from the message down to the one being read.
    stack: Vec<Frame>,
    /// Reading the header fields of the top part.
    in_headers: bool,
    /// The header field being read and its value so far.
    field: Field,
    value: Vec<u8>,
    /// Its value's length, kept or not.
    value_len: usize,
    /// The top part's Content-Type and Content-Disposition values.
    ctype: Option<Vec<u8>>,
    disposition: Option<Vec<u8>>,
    /// Anomalies raised, not yet taken (each name once per message).
    raised: Vec<&'static str>,
}

impl Mime {
    /// A message about to be read.
    pub(super) fn new(max_value: usize, max_attachments: usize) -> Self {
        Mime {
            max_value,
            max_attachments,
            stack: vec![Frame::default()],
            in_headers: true,
            field: Field::Other,
            ..Mime::default()
        }
    }

    fn raise(&mut self, name: &'static str) {
        if !self.raised.contains(&name) {
            self.raised.push(name);
        }
    }

    /// The anomalies raised so far (each once), oldest first.
    pub(super) fn take_raised(&mut self, out: &mut Vec<&'static str>) {
        out.append(&mut self.raised);
    }

    /// One line of the message.
    pub(super) fn line(&mut self, line: &[u8]) {
        match self.email.status {
            MimeStatus::ParseDone | MimeStatus::ParseError => return,
            _ => {}
        }
        if !self.in_headers {
            self.body_line(line);
        } else {
            self.header_line(line);
        }
    }

    /// The `.` line: the message is over.
    pub(super) fn complete(&mut self) {
        if self.email.status == MimeStatus::ParseError {
            return;
        }
        if self.email.status == MimeStatus::HeaderStarted {
            self.store_field();
        }
        self.email.status = MimeStatus::ParseDone;
    }

    /// The email fields as Suricata would log them now: attachments only
    /// while back at the top level.
    pub(super) fn snapshot(&self) -> Email {
        let mut e = self.email.clone();
        if self.stack.len() != 1 {
            e.attachment.clear();
        }
        e
    }

    fn header_line(&mut self, line: &[u8]) {
        if let Some(name_len) = header_name(line) {
            if name_len > MAX_HEADER_NAME {
                self.raise(LONG_HEADER_NAME);
            }
            if self.email.status == MimeStatus::HeaderStarted {
                self.store_field();
            }
            self.email.status = MimeStatus::HeaderStarted;
            self.field = Field::of(&line[..name_len]);
            let mut v = &line[name_len + 1..];
            while let [b' ', rest @ ..] = v {
                v = rest;
            }
            self.append_value(v);
        } else if line.is_empty() {
            if self.email.status == MimeStatus::HeaderStarted {
                self.store_field();
            }
            self.email.status = MimeStatus::HeaderDone;
            self.in_headers = false;
            self.headers_done();
        } else if self.email.status == MimeStatus::HeaderStarted {
            // A folded continuation: appended as it is.
            self.append_value(line);
        } else {
            // A body without header fields.
            self.email.status = MimeStatus::BodyStarted;
            self.in_headers = false;
        }
    }

    fn append_value(&mut self, v: &[u8]) {
        let room = self.max_value.saturating_sub(self.value_len);
        if v.len() > room {
            self.raise(LONG_HEADER_VALUE);
        }
        let take = v.len().min(room);
        self.value_len += take;
        if self.field != Field::Other {
            self.value.extend_from_slice(&v[..take]);
        }
    }

    /// The header field read is complete.
    fn store_field(&mut self) {
        let value = std::mem::take(&mut self.value);
        self.value_len = 0;
        let top = self.stack.len() == 1;
        match self.field {
            Field::From if top => {
                let start = value
                    .iter()
                    .position(|&c| c != b' ' && c != b'\t')
                    .unwrap_or(value.len());
                self.email.from = Some(value[start..].into());
            }
            Field::To if top => self.email.to = comma_list(&value),
            Field::Cc if top => self.email.cc = comma_list(&value),
            Field::ContentType => self.ctype = Some(value),
            Field::ContentDisposition => self.disposition = Some(value),
            _ => {}
        }
        self.field = Field::Other;
    }

    /// After the blank line ending a part's header fields: its file name,
    /// boundary and whether it holds a message.
    fn headers_done(&mut self) {
        let ctype = self.ctype.take();
        let disposition = self.disposition.take();
        let filename = disposition
            .as_deref()
            .and_then(|d| header_token(d, b"filename"))
            .or_else(|| ctype.as_deref().and_then(|c| header_token(c, b"name")));
        if let Some(name) = filename {
            let name = if name.len() > MAX_TOKEN {
                self.raise(LONG_FILENAME);
                &name[..MAX_TOKEN]
            } else {
                name
            };
            // A part right under the message.
            if self.stack.len() == 2 {
                if self.email.attachment.len() < self.max_attachments {
                    self.email.attachment.push(name.into());
                } else {
                    self.raise(ATTACHMENTS_CAPPED);
                }
            }
        }
        let Some(ctype) = ctype else { return };
        if let Some(b) = header_token(&ctype, b"boundary") {
            if b.len() > MAX_BOUNDARY {
                self.raise(LONG_BOUNDARY);
                self.email.status = MimeStatus::ParseError;
                return;
            }
            if let Some(top) = self.stack.last_mut() {
                top.boundary = Some(b.into());
            }
        }
        let media = ctype
            .split(|&c| c == b';' || c == b' ' || c == b'\r' || c == b'\n')
            .find(|t| !t.is_empty())
            .unwrap_or(&[]);
        let message = media
            .windows(8)
            .any(|w| w.eq_ignore_ascii_case(b"message/"));
        if message && self.stack.len() < MAX_DEPTH {
            // An encapsulated message: its header fields come next.
            self.stack.push(Frame::default());
            self.email.status = MimeStatus::HeaderReady;
            self.in_headers = true;
        }
    }

    fn body_line(&mut self, line: &[u8]) {
        if let Some((owner, end)) = self.boundary(line) {
            self.stack.truncate(owner + 1);
            if end {
                self.email.status = MimeStatus::BodyEndBound;
            } else if self.stack.len() < MAX_DEPTH {
                self.stack.push(Frame::default());
                self.email.status = MimeStatus::HeaderReady;
                self.in_headers = true;
            }
            return;
        }
        if self.email.status == MimeStatus::HeaderDone {
            self.email.status = MimeStatus::BodyStarted;
        }
    }

    /// Whether `line` is a boundary of a part on the stack (the nearest
    /// first): that part's index and whether it is the closing one.
    fn boundary(&self, line: &[u8]) -> Option<(usize, bool)> {
        let rest = line.strip_prefix(b"--")?;
        self.stack.iter().enumerate().rev().find_map(|(i, f)| {
            let b = f.boundary.as_deref()?;
            let tail = rest.strip_prefix(b)?;
            Some((i, tail.starts_with(b"--")))
        })
    }
}

/// The length of the header name `line` starts with: printable characters
/// (not `:`) up to a `:`.
fn header_name(line: &[u8]) -> Option<usize> {
    let n = line
        .iter()
        .position(|&c| c == b':' || !(33..=126).contains(&c))?;
    (n > 0 && line[n] == b':').then_some(n)
}

/// Splits a header value at commas outside double quotes, leading spaces
/// and tabs of each item skipped, empty items left out (Suricata's
/// `to`/`cc` arrays).
pub fn comma_list(v: &[u8]) -> Vec<Box<[u8]>> {
    let mut out = Vec::new();
    let mut start = 0;
    // 0: before an item, 1: in one, 2: in quotes.
    let mut state = 0;
    for (i, &c) in v.iter().enumerate() {
        match state {
            0 if c == b' ' || c == b'\t' => start += 1,
            0 if c == b'"' => state = 2,
            0 => state = 1,
            1 if c == b',' => {
                if i > start {
                    out.push(v[start..i].into());
                }
                start = i + 1;
                state = 0;
            }
            1 if c == b'"' => state = 2,
            2 if c == b'"' => state = 1,
            _ => {}
        }
    }
    if v.len() > start {
        out.push(v[start..].into());
    }
    out
}

/// The value of parameter `key` in a header value (`type; key=value`,
/// `key="quoted value"`), the key's case ignored.
pub fn header_token<'a>(v: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut rest = v;
    // The first section is the value itself (`attachment`, `text/plain`).
    let mut first = true;
    while !rest.is_empty() {
        let (section, after) = split_section(rest);
        rest = after;
        if std::mem::take(&mut first) {
            continue;
        }
        let section = section.trim_ascii_start();
        let Some(eq) = section.iter().position(|&c| c == b'=') else {
            continue;
        };
        if !section[..eq].trim_ascii_end().eq_ignore_ascii_case(key) {
            continue;
        }
        let value = section[eq + 1..].trim_ascii_start();
        return Some(match value.strip_prefix(b"\"") {
            Some(q) => &q[..q.iter().position(|&c| c == b'"').unwrap_or(q.len())],
            None => value.trim_ascii_end(),
        });
    }
    None
}

/// The section of `v` up to the first `;` outside quotes, and what follows
/// that `;`.
fn split_section(v: &[u8]) -> (&[u8], &[u8]) {
    let mut quoted = false;
    for (i, &c) in v.iter().enumerate() {
        match c {
            b'"' => quoted = !quoted,
            b';' if !quoted => return (&v[..i], &v[i + 1..]),
            _ => {}
        }
    }
    (v, &[])
}
