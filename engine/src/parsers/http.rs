//! HTTP/1.0 and 1.1 ([`HttpParser`]): request and response heads (httparse),
//! bodies by Content-Length, chunked coding (trailers included) or until
//! close, pipelined requests paired with their responses in order, interim
//! 1xx responses, Upgrade tunnels (parsing stops, the transaction says so),
//! CONNECT tunnels (the transaction says so; HTTP or TLS through the proxy
//! is parsed, anything else is not), gaps skipped inside bodies and otherwise
//! resynchronised at the next message start. Bodies are counted and
//! optionally hashed or sampled, never buffered whole; heads are capped.

use super::{HttpConfig, L7Message};
use crate::session::SessionParser;
use sha2::{Digest, Sha256};
use std::collections::VecDeque;

/// Request methods recognised when probing and resynchronising.
pub const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"CONNECT",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
    b"REPORT",
    b"SUBSCRIBE",
    b"NOTIFY",
    b"M-SEARCH",
    b"MKCALENDAR",
];

/// Longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;
/// Highest `max_headers` setting (headers are parsed into a stack array).
pub const MAX_HEADERS_LIMIT: usize = 256;
/// Requests waiting for their responses, at most (pipelining depth).
const MAX_PENDING: usize = 64;

/// Why parsing stopped for good on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpTunnel {
    /// A CONNECT request was accepted (2xx).
    Connect,
    /// 101 Switching Protocols, with the `Upgrade` header's value.
    Upgrade(Box<[u8]>),
}

/// A header: name and value as sent.
pub type Header = (Box<[u8]>, Box<[u8]>);

/// One request/response pair (either half may be missing: a response
/// without its request in a capture that starts mid-connection, or a
/// request the capture never saw answered).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpTransaction {
    /// Request method.
    pub method: Option<Box<[u8]>>,
    /// Request target as sent.
    pub uri: Option<Box<[u8]>>,
    /// Request version as sent (`HTTP/1.1`).
    pub protocol: Option<Box<[u8]>>,
    /// Host (from an absolute URI, else the Host header), lower-cased,
    /// without the port.
    pub hostname: Option<Box<[u8]>>,
    /// User-Agent.
    pub user_agent: Option<Box<[u8]>>,
    /// Referer.
    pub referer: Option<Box<[u8]>>,
    /// Request body bytes (decoded: chunk framing excluded).
    pub request_body_len: u64,
    /// Response status code.
    pub status: Option<u16>,
    /// Response version as sent.
    pub response_protocol: Option<Box<[u8]>>,
    /// Response Content-Type.
    pub content_type: Option<Box<[u8]>>,
    /// Response Location (redirects).
    pub location: Option<Box<[u8]>>,
    /// Response body bytes (decoded).
    pub response_body_len: u64,
    /// SHA-256 of the response body (`body_sha256` on), when it was seen
    /// whole.
    pub response_body_sha256: Option<[u8; 32]>,
    /// The first `body_sample_bytes` of the response body.
    pub response_body_sample: Option<Box<[u8]>>,
    /// Request headers in order (`headers` on).
    pub request_headers: Vec<Header>,
    /// Response headers in order (`headers` on).
    pub response_headers: Vec<Header>,
    /// Bytes of either body lost to capture gaps.
    pub gap_bytes: u64,
    /// The flow ended before the response (or its body) was complete.
    pub incomplete: bool,
    /// Parsing stopped after this transaction.
    pub tunnel: Option<HttpTunnel>,
    /// Index of the transaction in its connection, from 0 (restarting
    /// inside a CONNECT tunnel, like Suricata's `tx_id`).
    pub tx_id: u64,
}

/// Counters of one connection's parsing problems (skipped, not fatal).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpErrors {
    /// Heads httparse rejected.
    pub bad_heads: u32,
    /// Heads over `max_header_bytes` or `max_headers`.
    pub oversized_heads: u32,
    /// Malformed chunk-size lines.
    pub bad_chunks: u32,
    /// Times a direction lost sync (gap or error) and searched for the next
    /// message.
    pub resyncs: u32,
    /// Requests dropped from a full pipelining queue.
    pub pending_overflow: u32,
}

/// How a body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Length(u64),
    Chunked(ChunkState),
    UntilClose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Reading a chunk-size line.
    Size,
    /// Inside a chunk: bytes left.
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd,
    /// Trailer lines after the last chunk.
    Trailer,
}

/// A direction's state.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Dir {
    /// Waiting for / reading a head.
    Head,
    /// Reading a body.
    Body(BodyKind),
    /// Lost sync: skipping to something that starts a message.
    Lost,
    /// Upgrade tunnel: nothing more is parsed.
    Stopped,
    /// CONNECT tunnel: the bytes go to [`Inner`].
    Tunnel,
}

/// What runs inside an accepted CONNECT tunnel.
#[derive(Debug, Clone)]
enum Inner {
    /// Not decided yet: the client's first bytes (up to 64) decide.
    Detect(Vec<u8>),
    /// TLS through the proxy.
    Tls(Box<super::tls::TlsParser>),
    /// Something else: not parsed.
    Opaque,
}

/// Per-direction parsing state.
#[derive(Debug, Clone)]
struct Side {
    dir: Dir,
    /// Head bytes or a chunk line being collected.
    buf: Vec<u8>,
}

impl Side {
    fn new() -> Self {
        Side {
            dir: Dir::Head,
            buf: Vec::new(),
        }
    }
}

/// The HTTP/1.x session parser. Messages: [`L7Message::Http`], one per
/// transaction, when its response is complete (or at the flow's end).
#[derive(Debug, Clone)]
pub struct HttpParser {
    cfg: HttpConfig,
    req: Side,
    resp: Side,
    /// Requests whose response has not started, oldest first.
    pending: VecDeque<HttpTransaction>,
    /// The transaction whose request body is being read (`pending.back()`).
    req_body_open: bool,
    /// The transaction whose response is being read.
    current: Option<HttpTransaction>,
    hasher: Option<Sha256>,
    /// The current response body's first `body_sample_bytes`.
    sample: Vec<u8>,
    errors: HttpErrors,
    /// The CONNECT tunnel's content, once one is open.
    inner: Option<Inner>,
    /// The next transaction's `tx_id`.
    next_tx: u64,
}

impl Default for HttpParser {
    fn default() -> Self {
        HttpParser::new(HttpConfig::default())
    }
}

/// The first line of a head, without its line end.
fn first_line(head: &[u8]) -> (&[u8], &[u8]) {
    let nl = head.iter().position(|&c| c == b'\n').unwrap_or(head.len());
    let line = &head[..nl];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    (line, head.get(nl + 1..).unwrap_or(&[]))
}

fn is_space(c: &u8) -> bool {
    *c == b' ' || *c == b'\t'
}

/// `METHOD SP target SP HTTP/x.y`, tolerating repeated spaces and spaces
/// inside the target (the version is the last word); the target keeps any
/// byte (not only UTF-8).
fn request_line(line: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let m_end = line.iter().position(is_space)?;
    let method = &line[..m_end];
    if method.is_empty()
        || !method
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    {
        return None;
    }
    let rest = trim(&line[m_end..]);
    let v_start = rest.iter().rposition(is_space).map_or(0, |i| i + 1);
    let version = &rest[v_start..];
    if !version.starts_with(b"HTTP/") {
        // No protocol (HTTP/0.9 style, or a client that left it out):
        // accepted for known methods, as servers and libhtp do.
        return (METHODS.contains(&method) && !rest.is_empty()).then_some((method, rest, &[][..]));
    }
    let target = trim(&rest[..v_start]);
    if target.is_empty() {
        return None;
    }
    Some((method, target, version))
}

/// `HTTP/x.y SP code [SP reason]`.
fn status_line(line: &[u8]) -> Option<(&[u8], u16)> {
    let v_end = line.iter().position(is_space)?;
    let version = &line[..v_end];
    if !version.starts_with(b"HTTP/") {
        return None;
    }
    let rest = trim(&line[v_end..]);
    let code = rest.get(..3)?;
    if !code.iter().all(u8::is_ascii_digit) || rest.get(3).is_some_and(|c| !is_space(c)) {
        return None;
    }
    let code = code.iter().fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
    Some((version, code))
}

fn boxed(b: &[u8]) -> Box<[u8]> {
    b.into()
}

fn trim(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

/// The host of an absolute URI (`http://host:port/...`), if it is one.
fn uri_host(uri: &[u8]) -> Option<&[u8]> {
    let scheme_end = uri.windows(3).position(|w| w == b"://")?;
    if !uri[..scheme_end].iter().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let rest = &uri[scheme_end + 3..];
    let end = rest
        .iter()
        .position(|&c| matches!(c, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = &rest[..end];
    let authority = match authority.iter().rposition(|&c| c == b'@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    Some(authority)
}

/// `host[:port]` → lower-cased host (IPv6 literals keep their brackets).
fn host_only(h: &[u8]) -> Box<[u8]> {
    let h = trim(h);
    let host = if h.first() == Some(&b'[') {
        match h.iter().position(|&c| c == b']') {
            Some(i) => &h[..=i],
            None => h,
        }
    } else {
        match h.iter().rposition(|&c| c == b':') {
            Some(i) if h[i + 1..].iter().all(u8::is_ascii_digit) => &h[..i],
            _ => h,
        }
    };
    host.to_ascii_lowercase().into_boxed_slice()
}

fn parse_content_length(v: &[u8]) -> Option<u64> {
    let v = trim(v);
    // Repeated identical values (`5, 5`) are accepted, as RFC 9110 allows.
    let first = v.split(|&c| c == b',').next()?;
    let s = std::str::from_utf8(trim(first)).ok()?;
    s.parse().ok()
}

/// What a head says about the body after it.
#[derive(Debug, Default)]
struct Framing {
    content_length: Option<u64>,
    chunked: bool,
    upgrade: Option<Box<[u8]>>,
}

fn framing(headers: &[httparse::Header<'_>]) -> Framing {
    let mut f = Framing::default();
    for h in headers {
        if h.name.eq_ignore_ascii_case("content-length") {
            f.content_length = f.content_length.or(parse_content_length(h.value));
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            // The final coding decides (RFC 9112 §6.3).
            let last = h.value.rsplit(|&c| c == b',').next().unwrap_or(b"");
            f.chunked = trim(last).eq_ignore_ascii_case(b"chunked");
        } else if h.name.eq_ignore_ascii_case("upgrade") {
            f.upgrade = Some(boxed(trim(h.value)));
        }
    }
    f
}

/// Index just past the head (`\r\n\r\n` or bare `\n\n`), if complete.
fn head_end(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = b[i..].iter().position(|&c| c == b'\n') {
        let at = i + p;
        match b.get(at + 1) {
            Some(b'\n') => return Some(at + 2),
            Some(b'\r') if b.get(at + 2) == Some(&b'\n') => return Some(at + 3),
            _ => {}
        }
        i = at + 1;
    }
    None
}

/// Where a request starts in `b` (at a line start), if anywhere. Only line
/// starts are tried: a long body costs one scan for line ends.
fn find_request_start(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if METHODS
            .iter()
            .any(|m| rest.starts_with(m) && rest.get(m.len()) == Some(&b' '))
        {
            return Some(i);
        }
        i += rest.iter().position(|&c| c == b'\n')? + 1;
    }
    None
}

/// Where a response starts in `b`, if anywhere: `HTTP/1.` is distinctive
/// enough to be taken mid-line (after a gap the bytes rarely start at one).
/// Candidates are found by their first byte.
fn find_response_start(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = b[i..].iter().position(|&c| c == b'H') {
        let at = i + p;
        if b[at..].starts_with(b"HTTP/1.") {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Content probe: an HTTP request line or status line from the first
/// sender.
pub fn probe(bytes: &[u8]) -> crate::session::Probe {
    use crate::session::Probe;
    let b = bytes;
    let mut maybe = false;
    for m in METHODS.iter().copied().chain([&b"HTTP/1."[..]]) {
        let sep = if m == b"HTTP/1." { None } else { Some(b' ') };
        let whole = m.len() + usize::from(sep.is_some());
        if b.len() >= whole {
            if b.starts_with(m) && sep.is_none_or(|s| b[m.len()] == s) {
                return Probe::Certain;
            }
        } else if m.starts_with(b) || b.starts_with(&m[..b.len().min(m.len())]) {
            maybe = true;
        }
    }
    if maybe { Probe::NeedMore } else { Probe::No }
}

impl HttpParser {
    /// A parser with these options.
    pub fn new(cfg: HttpConfig) -> Self {
        HttpParser {
            cfg,
            req: Side::new(),
            resp: Side::new(),
            pending: VecDeque::new(),
            req_body_open: false,
            current: None,
            hasher: None,
            sample: Vec::new(),
            errors: HttpErrors::default(),
            inner: None,
            next_tx: 0,
        }
    }

    /// Parsing problems so far.
    pub fn errors(&self) -> HttpErrors {
        self.errors
    }

    /// A direction lost sync: skip to the next message start.
    fn lose(&mut self, request: bool) {
        let side = self.side_mut(request);
        side.dir = Dir::Lost;
        side.buf.clear();
        self.errors.resyncs += 1;
    }

    /// A head that did not parse: counted by cause, the direction resyncs.
    fn reject_head(&mut self, request: bool, too_many_headers: bool) {
        if too_many_headers {
            self.errors.oversized_heads += 1;
        } else {
            self.errors.bad_heads += 1;
        }
        self.lose(request);
    }

    fn side_mut(&mut self, request: bool) -> &mut Side {
        if request {
            &mut self.req
        } else {
            &mut self.resp
        }
    }

    /// Feeds one direction's bytes (`request`: the initiator's).
    fn feed(&mut self, request: bool, mut b: &[u8], out: &mut Vec<L7Message>) {
        while !b.is_empty() {
            match self.side_mut(request).dir.clone() {
                Dir::Stopped => return,
                Dir::Tunnel => {
                    if self.tunnel(request, b, out) {
                        continue;
                    }
                    return;
                }
                Dir::Lost => {
                    let start = if request {
                        find_request_start(b)
                    } else {
                        find_response_start(b)
                    };
                    let Some(i) = start else {
                        return;
                    };
                    b = &b[i..];
                    self.side_mut(request).dir = Dir::Head;
                }
                Dir::Head => {
                    if self.side_mut(request).buf.is_empty() {
                        // Blank lines before a message are allowed.
                        let skip = b.iter().take_while(|&&c| c == b'\r' || c == b'\n').count();
                        b = &b[skip..];
                        if b.is_empty() {
                            return;
                        }
                    }
                    let head = if request {
                        self.request_head(b, out)
                    } else {
                        self.response_head(b, out)
                    };
                    let Some(used) = head else {
                        return;
                    };
                    b = &b[used..];
                }
                Dir::Body(kind) => {
                    let (used, next) = self.body(request, kind, b);
                    b = &b[used..];
                    let side = self.side_mut(request);
                    match next {
                        Some(k) => side.dir = Dir::Body(k),
                        None => {
                            // A chunk error leaves the side lost.
                            if side.dir != Dir::Lost {
                                side.dir = Dir::Head;
                            }
                            if request {
                                self.req_body_open = false;
                            } else {
                                self.complete(out);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Collects a head from the side's buffer and `b`: the head and the
    /// bytes of `b` it took, or what to return (`None`: all of `b` was
    /// buffered; `Some(n)`: `n` bytes of an oversized head skipped).
    fn collect(&mut self, request: bool, b: &[u8]) -> Result<(Vec<u8>, usize), Option<usize>> {
        let max = self.cfg.max_header_bytes;
        match collect_head(self.side_mut(request), b, max) {
            Collect::Partial => Err(None),
            Collect::TooLong(end) => {
                self.errors.oversized_heads += 1;
                Err(Some(match end {
                    Some(used) => used,
                    None => {
                        self.lose(request);
                        b.len()
                    }
                }))
            }
            Collect::Done(head, used) => Ok((head, used)),
        }
    }

    /// Collects and parses a request head; the bytes of `b` used, `None`
    /// when all of `b` went into the buffer.
    fn request_head(&mut self, b: &[u8], out: &mut Vec<L7Message>) -> Option<usize> {
        let (head, used_from_b) = match self.collect(true, b) {
            Ok(done) => done,
            Err(used) => return used,
        };
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS_LIMIT];
        let max = self.cfg.max_headers.min(MAX_HEADERS_LIMIT);
        let (line, rest) = first_line(&head);
        let parsed = request_line(line).map(|l| (l, parse_headers(rest, &mut headers[..max])));
        let ((method, uri, version), req_headers) = match parsed {
            Some((l, Ok(httparse::Status::Complete((_, n))))) => (l, &headers[..n]),
            other => {
                let too_many = matches!(other, Some((_, Err(httparse::Error::TooManyHeaders))));
                self.reject_head(true, too_many);
                return Some(used_from_b);
            }
        };
        let mut tx = request_tx(&self.cfg, (method, uri, version), req_headers);
        tx.tx_id = self.next_tx;
        self.next_tx += 1;
        let f = framing(req_headers);
        let body = if f.chunked {
            Some(BodyKind::Chunked(ChunkState::Size))
        } else {
            f.content_length.filter(|&n| n > 0).map(BodyKind::Length)
        };
        if self.pending.len() >= MAX_PENDING {
            // A client that never gets answers: report the oldest request
            // unanswered rather than hold unbounded state.
            self.errors.pending_overflow += 1;
            if let Some(mut old) = self.pending.pop_front() {
                old.incomplete = true;
                out.push(L7Message::Http(Box::new(old)));
            }
        }
        self.pending.push_back(tx);
        self.req.buf = head;
        self.req.buf.clear();
        match body {
            Some(k) => {
                self.req.dir = Dir::Body(k);
                self.req_body_open = true;
            }
            None => self.req.dir = Dir::Head,
        }
        Some(used_from_b)
    }

    /// Consumes body bytes; returns bytes used and the body state after
    /// them (`None`: the body is complete).
    fn body(&mut self, request: bool, kind: BodyKind, b: &[u8]) -> (usize, Option<BodyKind>) {
        match kind {
            BodyKind::Length(left) => {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(b.len());
                self.body_data(request, &b[..n]);
                let left = left - n as u64;
                (n, (left > 0).then_some(BodyKind::Length(left)))
            }
            BodyKind::UntilClose => {
                self.body_data(request, b);
                (b.len(), Some(BodyKind::UntilClose))
            }
            BodyKind::Chunked(state) => self.chunked(request, state, b),
        }
    }

    fn chunked(&mut self, request: bool, state: ChunkState, b: &[u8]) -> (usize, Option<BodyKind>) {
        let chunked = |s| Some(BodyKind::Chunked(s));
        match state {
            ChunkState::Data(left) => {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(b.len());
                self.body_data(request, &b[..n]);
                let left = left - n as u64;
                let next = if left == 0 {
                    ChunkState::DataEnd
                } else {
                    ChunkState::Data(left)
                };
                (n, chunked(next))
            }
            ChunkState::Size | ChunkState::DataEnd | ChunkState::Trailer => {
                let side = self.side_mut(request);
                let Some(nl) = b.iter().position(|&c| c == b'\n') else {
                    if side.buf.len() + b.len() > MAX_LINE {
                        self.errors.bad_chunks += 1;
                        self.lose(request);
                        return (b.len(), None);
                    }
                    side.buf.extend_from_slice(b);
                    return (b.len(), chunked(state));
                };
                let mut line = std::mem::take(&mut side.buf);
                line.extend_from_slice(&b[..nl]);
                let used = nl + 1;
                let text = trim(line.strip_suffix(b"\r").unwrap_or(&line));
                let next = match state {
                    ChunkState::DataEnd if text.is_empty() => chunked(ChunkState::Size),
                    // Lenient: data that overran its size is skipped.
                    ChunkState::DataEnd => chunked(ChunkState::DataEnd),
                    ChunkState::Trailer if text.is_empty() => None,
                    ChunkState::Trailer => chunked(ChunkState::Trailer),
                    _ => {
                        let hex_end = text
                            .iter()
                            .position(|c| !c.is_ascii_hexdigit())
                            .unwrap_or(text.len());
                        let size = std::str::from_utf8(&text[..hex_end])
                            .ok()
                            .and_then(|s| u64::from_str_radix(s, 16).ok());
                        match size {
                            Some(0) => chunked(ChunkState::Trailer),
                            Some(n) => chunked(ChunkState::Data(n)),
                            None if text.is_empty() => chunked(ChunkState::Size),
                            None => {
                                self.errors.bad_chunks += 1;
                                self.lose(request);
                                return (used, None);
                            }
                        }
                    }
                };
                line.clear();
                self.side_mut(request).buf = line;
                (used, next)
            }
        }
    }

    fn body_data(&mut self, request: bool, data: &[u8]) {
        if request {
            if self.req_body_open
                && let Some(tx) = self.pending.back_mut()
            {
                tx.request_body_len += data.len() as u64;
            }
            return;
        }
        let Some(tx) = self.current.as_mut() else {
            return;
        };
        tx.response_body_len += data.len() as u64;
        if let Some(h) = self.hasher.as_mut() {
            h.update(data);
        }
        let room = self.cfg.body_sample_bytes.saturating_sub(self.sample.len());
        if room > 0 {
            self.sample.extend_from_slice(&data[..room.min(data.len())]);
        }
    }

    fn response_head(&mut self, b: &[u8], out: &mut Vec<L7Message>) -> Option<usize> {
        let (head, used_from_b) = match self.collect(false, b) {
            Ok(done) => done,
            Err(used) => return used,
        };
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS_LIMIT];
        let max = self.cfg.max_headers.min(MAX_HEADERS_LIMIT);
        let (line, rest) = first_line(&head);
        let parsed = status_line(line).map(|l| (l, parse_headers(rest, &mut headers[..max])));
        let ((version, status), resp_headers) = match parsed {
            Some((l, Ok(httparse::Status::Complete((_, n))))) => (l, &headers[..n]),
            other => {
                let too_many = matches!(other, Some((_, Err(httparse::Error::TooManyHeaders))));
                self.reject_head(false, too_many);
                return Some(used_from_b);
            }
        };
        let f = framing(resp_headers);
        if (100..200).contains(&status) && status != 101 {
            // Interim (100 Continue, 103 Early Hints): the final response
            // follows.
            self.resp.buf = head;
            self.resp.buf.clear();
            return Some(used_from_b);
        }
        if let Some(old) = self.current.as_mut() {
            // The previous response lost its end to a gap.
            old.incomplete = true;
            self.complete(out);
        }
        let mut tx = match self.pending.pop_front() {
            Some(tx) => tx,
            None => {
                let tx = HttpTransaction {
                    tx_id: self.next_tx,
                    ..HttpTransaction::default()
                };
                self.next_tx += 1;
                tx
            }
        };
        if self.pending.is_empty() && self.req_body_open {
            // The response came while the request body still streams: keep
            // counting that body on this transaction's copy as it is.
            self.req_body_open = false;
        }
        response_fields(&self.cfg, &mut tx, (version, status), resp_headers);
        let head_request = tx.method.as_deref() == Some(b"HEAD");
        let connect = tx.method.as_deref() == Some(b"CONNECT");
        self.resp.buf = head;
        self.resp.buf.clear();
        if status == 101 || (connect && (200..300).contains(&status)) {
            tx.tunnel = Some(if status == 101 {
                HttpTunnel::Upgrade(f.upgrade.unwrap_or_default())
            } else {
                HttpTunnel::Connect
            });
            let stop = if status == 101 {
                Dir::Stopped
            } else {
                self.inner = Some(Inner::Detect(Vec::new()));
                Dir::Tunnel
            };
            self.req.dir = stop.clone();
            self.resp.dir = stop;
            self.current = Some(tx);
            self.complete(out);
            return Some(used_from_b);
        }
        let body = if head_request || status == 204 || status == 304 {
            None
        } else if f.chunked {
            Some(BodyKind::Chunked(ChunkState::Size))
        } else if let Some(n) = f.content_length {
            (n > 0).then_some(BodyKind::Length(n))
        } else {
            Some(BodyKind::UntilClose)
        };
        self.current = Some(tx);
        if self.cfg.body_sha256 {
            self.hasher = Some(Sha256::new());
        }
        match body {
            Some(k) => self.resp.dir = Dir::Body(k),
            None => {
                self.resp.dir = Dir::Head;
                self.complete(out);
            }
        }
        Some(used_from_b)
    }

    /// Bytes inside a CONNECT tunnel. Returns true when HTTP resumed (the
    /// caller parses `b` again as HTTP).
    fn tunnel(&mut self, request: bool, b: &[u8], out: &mut Vec<L7Message>) -> bool {
        use crate::session::Probe;
        let inner = self.inner.get_or_insert(Inner::Detect(Vec::new()));
        if let Inner::Detect(seen) = inner {
            if !request && b.iter().all(|&c| c == b'\r' || c == b'\n') {
                // Stray line ends after the proxy's response.
                return false;
            }
            if !request {
                // Server speaks first: not a protocol parsed here.
                *inner = Inner::Opaque;
                return false;
            }
            // The client's first bytes may come in small pieces.
            seen.extend_from_slice(&b[..b.len().min(64)]);
            let (http, tls) = (probe(seen), super::tls::probe(seen));
            if http == Probe::Certain {
                // Plain HTTP through the proxy: carry on parsing it, from
                // the bytes held back.
                let held = std::mem::take(seen);
                let held = &held[..held.len() - b.len().min(64)];
                self.inner = None;
                self.req.dir = Dir::Head;
                self.resp.dir = Dir::Head;
                self.next_tx = 0;
                if !held.is_empty() {
                    self.feed(true, held, out);
                }
                return true;
            }
            if tls == Probe::Certain {
                let held = std::mem::take(seen);
                let held = &held[..held.len() - b.len().min(64)];
                let mut t = Box::<super::tls::TlsParser>::default();
                out.extend(t.feed_initiator(held));
                *inner = Inner::Tls(t);
            } else if (http == Probe::NeedMore || tls == Probe::NeedMore) && seen.len() < 64 {
                return false;
            } else {
                *inner = Inner::Opaque;
            }
        }
        if let Some(Inner::Tls(t)) = &mut self.inner {
            out.extend(if request {
                t.feed_initiator(b)
            } else {
                t.feed_responder(b)
            });
        }
        false
    }

    /// The current response is complete: emit its transaction.
    fn complete(&mut self, out: &mut Vec<L7Message>) {
        if let Some(mut tx) = self.current.take() {
            if let Some(h) = self.hasher.take()
                && tx.gap_bytes == 0
            {
                tx.response_body_sha256 = Some(h.finalize().into());
            }
            if !self.sample.is_empty() {
                tx.response_body_sample = Some(std::mem::take(&mut self.sample).into_boxed_slice());
            }
            out.push(L7Message::Http(Box::new(tx)));
        }
    }

    fn gap(&mut self, request: bool, len: u64, out: &mut Vec<L7Message>) {
        if request {
            if let Some(tx) = self.pending.back_mut().filter(|_| self.req_body_open) {
                tx.gap_bytes += len;
            }
        } else if let Some(tx) = self.current.as_mut() {
            tx.gap_bytes += len;
            self.hasher = None;
        }
        let side = if request {
            &mut self.req
        } else {
            &mut self.resp
        };
        // A gap that ends exactly where the body does completes it; one
        // that swallows the body's end loses sync (a response is still
        // reported, as far as it was seen).
        let (body_done, lost) = match side.dir.clone() {
            Dir::Body(BodyKind::Length(left)) if len < left => {
                side.dir = Dir::Body(BodyKind::Length(left - len));
                (false, false)
            }
            Dir::Body(BodyKind::Length(left)) if len == left => (true, false),
            Dir::Body(BodyKind::Chunked(ChunkState::Data(left))) if len < left => {
                side.dir = Dir::Body(BodyKind::Chunked(ChunkState::Data(left - len)));
                (false, false)
            }
            Dir::Body(BodyKind::Chunked(ChunkState::Data(left))) if len == left => {
                side.dir = Dir::Body(BodyKind::Chunked(ChunkState::DataEnd));
                (false, false)
            }
            Dir::Body(BodyKind::UntilClose) | Dir::Stopped => (false, false),
            Dir::Tunnel => {
                if let Some(Inner::Tls(t)) = &mut self.inner {
                    out.extend(if request {
                        t.gap_initiator(len)
                    } else {
                        t.gap_responder(len)
                    });
                }
                (false, false)
            }
            Dir::Body(_) => (!request, true),
            _ => (false, true),
        };
        if lost {
            self.lose(request);
        }
        if body_done {
            if request {
                self.req_body_open = false;
            } else {
                self.complete(out);
            }
            let side = self.side_mut(request);
            if side.dir != Dir::Lost {
                side.dir = Dir::Head;
            }
        }
    }
}

enum Collect {
    /// The head is incomplete; everything was buffered.
    Partial,
    /// The head is over the size limit; how many bytes of the input it
    /// took when its end is known (parsing goes on after it).
    TooLong(Option<usize>),
    /// The whole head, and how many bytes of the input it took.
    Done(Vec<u8>, usize),
}

/// Headers by httparse; where it rejects a byte (control characters in a
/// value, a space before the colon...) a lenient line parser takes over, as
/// servers and Suricata's libhtp accept such heads. Names that are not
/// UTF-8 are dropped.
fn parse_headers<'b>(
    src: &'b [u8],
    dst: &mut [httparse::Header<'b>],
) -> httparse::Result<(usize, usize)> {
    match httparse::parse_headers(src, &mut *dst) {
        Ok(httparse::Status::Complete((n, hs))) => {
            return Ok(httparse::Status::Complete((n, hs.len())));
        }
        Ok(httparse::Status::Partial) => return Ok(httparse::Status::Partial),
        Err(httparse::Error::TooManyHeaders) => return Err(httparse::Error::TooManyHeaders),
        Err(_) => {}
    }
    let mut pos = 0;
    let mut count = 0;
    loop {
        let Some(nl) = src[pos..].iter().position(|&c| c == b'\n') else {
            return Ok(httparse::Status::Partial);
        };
        let line = &src[pos..pos + nl];
        pos += nl + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return Ok(httparse::Status::Complete((pos, count)));
        }
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            continue;
        };
        let Ok(name) = std::str::from_utf8(trim(&line[..colon])) else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        let slot = dst.get_mut(count).ok_or(httparse::Error::TooManyHeaders)?;
        *slot = httparse::Header {
            name,
            value: trim(&line[colon + 1..]),
        };
        count += 1;
    }
}

/// A transaction from a parsed request head.
fn request_tx(
    cfg: &HttpConfig,
    (method, uri, version): (&[u8], &[u8], &[u8]),
    headers: &[httparse::Header<'_>],
) -> HttpTransaction {
    let mut tx = HttpTransaction {
        method: Some(boxed(method)),
        uri: Some(boxed(uri)),
        protocol: (!version.is_empty()).then(|| boxed(version)),
        ..HttpTransaction::default()
    };
    tx.hostname = uri_host(uri).map(host_only);
    for h in headers {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"host") {
            if tx.hostname.is_none() {
                tx.hostname = Some(host_only(h.value));
            }
        } else if name.eq_ignore_ascii_case(b"user-agent") {
            tx.user_agent.get_or_insert_with(|| boxed(h.value));
        } else if name.eq_ignore_ascii_case(b"referer") {
            tx.referer.get_or_insert_with(|| boxed(h.value));
        }
        if cfg.headers {
            tx.request_headers.push((boxed(name), boxed(h.value)));
        }
    }
    tx
}

/// Response fields of a parsed status line and headers.
fn response_fields(
    cfg: &HttpConfig,
    tx: &mut HttpTransaction,
    (version, status): (&[u8], u16),
    headers: &[httparse::Header<'_>],
) {
    tx.status = Some(status);
    tx.response_protocol = Some(boxed(version));
    for h in headers {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-type") {
            tx.content_type.get_or_insert_with(|| boxed(h.value));
        } else if name.eq_ignore_ascii_case(b"location") {
            tx.location.get_or_insert_with(|| boxed(h.value));
        }
        if cfg.headers {
            tx.response_headers.push((boxed(name), boxed(h.value)));
        }
    }
}

/// HTTP over UDP (SSDP's `M-SEARCH` / `NOTIFY` and their responses): each
/// datagram is one request or response head, reported on its own.
#[derive(Debug, Clone, Default)]
pub struct HttpUdpParser {
    cfg: HttpConfig,
    malformed: u64,
}

impl HttpUdpParser {
    /// A parser with these options.
    pub fn new(cfg: HttpConfig) -> Self {
        HttpUdpParser { cfg, malformed: 0 }
    }

    /// Datagrams that were not an HTTP head (skipped).
    pub fn malformed(&self) -> u64 {
        self.malformed
    }
}

impl crate::session::DatagramParser for HttpUdpParser {
    type Message = L7Message;

    fn parse(&mut self, payload: &[u8], _side: crate::FlowSide) -> Vec<L7Message> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS_LIMIT];
        let max = self.cfg.max_headers.min(MAX_HEADERS_LIMIT);
        let (line, rest) = first_line(payload);
        let tx = match parse_headers(rest, &mut headers[..max]) {
            Ok(httparse::Status::Complete((_, n))) => {
                let h = &headers[..n];
                if let Some(req) = request_line(line) {
                    Some(request_tx(&self.cfg, req, h))
                } else if let Some(st) = status_line(line) {
                    let mut tx = HttpTransaction::default();
                    response_fields(&self.cfg, &mut tx, st, h);
                    Some(tx)
                } else {
                    None
                }
            }
            _ => None,
        };
        match tx {
            Some(tx) => vec![L7Message::Http(Box::new(tx))],
            None => {
                self.malformed += 1;
                Vec::new()
            }
        }
    }
}

/// Gathers a head from the side's buffer and `b` (no copy when `b` holds
/// it whole; the buffer's capacity is recycled by the caller).
fn collect_head(side: &mut Side, b: &[u8], max: usize) -> Collect {
    let already = side.buf.len();
    // The terminator may straddle the two: look at the buffer's last three
    // bytes joined with the first three new ones, then at `b` alone.
    let mut end = None;
    if already > 0 {
        let back = already.min(3);
        let mut joint = [0u8; 6];
        let n = back + b.len().min(3);
        joint[..back].copy_from_slice(&side.buf[already - back..]);
        joint[back..n].copy_from_slice(&b[..n - back]);
        end = head_end(&joint[..n])
            .filter(|&e| e > back)
            .map(|e| e - back);
    }
    let end = end.or_else(|| head_end(b));
    match end {
        Some(used) if already + used <= max => {
            let mut head = std::mem::take(&mut side.buf);
            head.extend_from_slice(&b[..used]);
            Collect::Done(head, used)
        }
        Some(used) => {
            side.buf.clear();
            Collect::TooLong(Some(used))
        }
        None if already + b.len() > max => {
            side.buf.clear();
            Collect::TooLong(None)
        }
        None => {
            side.buf.extend_from_slice(b);
            Collect::Partial
        }
    }
}

impl SessionParser for HttpParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.feed(true, bytes, &mut out);
        out
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.feed(false, bytes, &mut out);
        out
    }

    fn fin_responder(&mut self) -> Vec<L7Message> {
        let mut out = Vec::new();
        if self.resp.dir == Dir::Body(BodyKind::UntilClose) {
            self.resp.dir = Dir::Head;
            self.complete(&mut out);
        }
        out
    }

    fn gap_initiator(&mut self, len: u64) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.gap(true, len, &mut out);
        out
    }

    fn gap_responder(&mut self, len: u64) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.gap(false, len, &mut out);
        out
    }

    fn flow_end(&mut self) -> Vec<L7Message> {
        let mut out = Vec::new();
        if let Some(tx) = self.current.as_mut() {
            // A body read until close ends with the connection; a body with
            // a length or chunks that stopped short did not.
            if self.resp.dir != Dir::Body(BodyKind::UntilClose) {
                tx.incomplete = true;
            }
            self.complete(&mut out);
        }
        for mut tx in self.pending.drain(..) {
            tx.incomplete = true;
            out.push(L7Message::Http(Box::new(tx)));
        }
        if let Some(Inner::Tls(t)) = &mut self.inner {
            out.extend(t.flow_end());
        }
        out
    }
}

#[cfg(test)]
mod tests;
