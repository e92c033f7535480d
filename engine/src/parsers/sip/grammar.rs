//! The SIP message head grammar as Suricata 7 reads it (RFC 3261 §7 with
//! Suricata's character classes): the start line (request line or status
//! line), the header fields up to the empty line, and the `Content-Length`
//! the TCP framing needs. Scans the bytes in place (nothing is copied until
//! a message is complete) and stops at the configured line and header
//! count caps.

/// What reading a head gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Head<'a> {
    /// A whole head: its start line's parts, the head's length (the empty
    /// line included) and the `Content-Length` value (0 when absent,
    /// `None` when not a number: only the TCP framing minds).
    Done(Start<'a>, usize, Option<u64>),
    /// The bytes end inside the head.
    Incomplete,
    /// Not a SIP head of the expected kind; the Suricata event name.
    Invalid(&'static str),
}

/// A start line's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Start<'a> {
    /// `Method SP Request-URI SP SIP-Version`.
    Request {
        method: &'a [u8],
        uri: &'a [u8],
        version: &'a [u8],
    },
    /// `SIP-Version SP Status-Code SP Reason-Phrase`.
    Response {
        version: &'a [u8],
        code: &'a [u8],
        reason: &'a [u8],
    },
}

/// The caps a head is read under.
#[derive(Debug, Clone, Copy)]
pub(super) struct Caps {
    /// Longest line (start line or header field, continuations included).
    pub max_line: usize,
    /// Most header fields.
    pub max_headers: usize,
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!%'*+-._`".contains(&b)
}

fn is_uri(b: u8) -> bool {
    is_token(b) || b"~#@:;=?+&$,/".contains(&b)
}

fn is_version(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"./".contains(&b)
}

/// Suricata's reason-phrase class; its `request_line` / `response_line`
/// are the longest prefix of the message in it.
pub(super) fn is_reason(b: u8) -> bool {
    is_token(b) || b"$&(),/:;=?@[\\]^ ".contains(&b)
}

fn is_header_value(b: u8) -> bool {
    is_token(b) || b"\"#$&(),/;:<=>?@[]{}^|~\\\t ".contains(&b)
}

/// The longest prefix of `b` whose bytes satisfy `f`; `None` when `b`
/// ends inside it (more bytes could extend it).
fn span(b: &[u8], f: impl Fn(u8) -> bool) -> Option<usize> {
    b.iter().position(|&c| !f(c))
}

/// `b` at `at` starts with `tag`: `Some(true)`, `Some(false)`, or `None`
/// when `b` ends inside a prefix of `tag`.
fn tag(b: &[u8], at: usize, tag: &[u8]) -> Option<bool> {
    let rest = b.get(at..).unwrap_or_default();
    let n = rest.len().min(tag.len());
    if rest[..n] != tag[..n] {
        Some(false)
    } else if n < tag.len() {
        None
    } else {
        Some(true)
    }
}

/// The line prefix Suricata logs as `request_line` / `response_line`.
pub(super) fn logged_line(b: &[u8]) -> &[u8] {
    &b[..span(b, is_reason).unwrap_or(b.len())]
}

/// Reads the start line: a request when `request`, else a status line.
/// Returns the parts and the offset after its CR LF.
fn start_line(b: &[u8], request: bool) -> Result<(Start<'_>, usize), Head<'_>> {
    let incomplete = Err(Head::Incomplete);
    let invalid = Err(Head::Invalid("invalid_data"));
    let (start, end) = if request {
        let Some(m) = span(b, |c| c.is_ascii_alphabetic()) else {
            return incomplete;
        };
        match tag(b, m, b" ") {
            None => return incomplete,
            Some(false) => return invalid,
            Some(true) => {}
        }
        let Some(u) = span(&b[m + 1..], is_uri) else {
            return incomplete;
        };
        if u == 0 {
            return invalid;
        }
        let u = m + 1 + u;
        match tag(b, u, b" ") {
            None => return incomplete,
            Some(false) => return invalid,
            Some(true) => {}
        }
        let Some(v) = span(&b[u + 1..], is_version) else {
            return incomplete;
        };
        if v == 0 {
            return invalid;
        }
        let v = u + 1 + v;
        let start = Start::Request {
            method: &b[..m],
            uri: &b[m + 1..u],
            version: &b[u + 1..v],
        };
        (start, v)
    } else {
        let Some(v) = span(b, is_version) else {
            return incomplete;
        };
        if v == 0 {
            return invalid;
        }
        match tag(b, v, b" ") {
            None => return incomplete,
            Some(false) => return invalid,
            Some(true) => {}
        }
        let Some(code) = b.get(v + 1..v + 4) else {
            return incomplete;
        };
        if std::str::from_utf8(code).is_err() {
            return invalid;
        }
        let c = v + 4;
        match tag(b, c, b" ") {
            None => return incomplete,
            Some(false) => return invalid,
            Some(true) => {}
        }
        let Some(r) = span(&b[c + 1..], is_reason) else {
            return incomplete;
        };
        let r = c + 1 + r;
        let start = Start::Response {
            version: &b[..v],
            code,
            reason: &b[c + 1..r],
        };
        (start, r)
    };
    match tag(b, end, b"\r\n") {
        None => incomplete,
        Some(false) => invalid,
        Some(true) => Ok((start, end + 2)),
    }
}

/// Reads one header field at `b` (not the empty line). Returns its name,
/// its value's extent and the offset after its CR LF.
fn header(b: &[u8]) -> Result<(&[u8], &[u8], usize), Head<'_>> {
    let Some(n) = span(b, is_token) else {
        return Err(Head::Incomplete);
    };
    let name = &b[..n];
    let Some(sp) = span(&b[n..], |c| c == b' ' || c == b'\t') else {
        return Err(Head::Incomplete);
    };
    let colon = n + sp;
    if b[colon] != b':' {
        return Err(Head::Invalid("invalid_data"));
    }
    let Some(sp) = span(&b[colon + 1..], |c| c == b' ' || c == b'\t') else {
        return Err(Head::Incomplete);
    };
    let v0 = colon + 1 + sp;
    // The value runs to a LF not followed by SP or HT (a continuation);
    // CRs are skipped, trailing blanks are not the value's.
    let mut end = v0;
    let mut i = v0;
    loop {
        let Some(&c) = b.get(i) else {
            return Err(Head::Incomplete);
        };
        match c {
            b'\n' => match b.get(i + 1) {
                None => return Err(Head::Incomplete),
                Some(b' ' | b'\t') => i += 2,
                Some(_) => break,
            },
            b'\r' | b' ' | b'\t' => i += 1,
            c if is_header_value(c) => {
                i += 1;
                end = i;
            }
            _ => return Err(Head::Invalid("invalid_data")),
        }
    }
    // After the value and its trailing blanks: CR LF.
    let rest = end + span(&b[end..], |c| c == b' ' || c == b'\t').unwrap_or(0);
    match tag(b, rest, b"\r\n") {
        None => Err(Head::Incomplete),
        Some(false) => Err(Head::Invalid("invalid_data")),
        Some(true) => Ok((name, &b[v0..end], rest + 2)),
    }
}

/// The `Content-Length` (or compact `l`) value; `None` when not a number.
fn content_length(name: &[u8], value: &[u8]) -> Option<Option<u64>> {
    if !(name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l")) {
        return None;
    }
    let digits = std::str::from_utf8(value).ok()?;
    Some(digits.trim().parse().ok())
}

/// Reads a message head at the start of `b`: a request when `request`,
/// else a response.
pub(super) fn head(b: &[u8], request: bool, caps: Caps) -> Head<'_> {
    let line_end = b.iter().position(|&c| c == b'\n');
    if line_end.map_or(b.len(), |e| e + 1) > caps.max_line {
        return Head::Invalid("line_too_long");
    }
    let (start, mut at) = match start_line(b, request) {
        Ok(s) => s,
        Err(h) => return h,
    };
    let mut length = Some(0);
    let mut headers = 0;
    loop {
        match tag(b, at, b"\r\n") {
            None => return Head::Incomplete,
            Some(true) => return Head::Done(start, at + 2, length),
            Some(false) => {}
        }
        if headers == caps.max_headers {
            return Head::Invalid("too_many_headers");
        }
        let (name, value, next) = match header(&b[at..]) {
            Ok(h) => h,
            Err(Head::Incomplete) if b.len() - at > caps.max_line => {
                return Head::Invalid("line_too_long");
            }
            Err(h) => return h,
        };
        if next > caps.max_line {
            return Head::Invalid("line_too_long");
        }
        if let Some(n) = content_length(name, value) {
            length = n;
        }
        headers += 1;
        at += next;
    }
}
