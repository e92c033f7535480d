//! HTTP heads: the request line and status line, headers (httparse, with a
//! lenient fallback), the fields a transaction keeps (host, user agent,
//! content type...), what a head says about the body after it, heads
//! collected across segments up to `max_header_bytes`, the places a
//! message may start after lost sync, and the content probe.

use super::{
    BodyKind, ChunkState, Dir, HttpParser, HttpTransaction, HttpTunnel, Inner, L7Message,
    MAX_HEADERS_LIMIT, MAX_PENDING, METHODS, Side, event,
};
use crate::parsers::HttpConfig;
use sha2::{Digest, Sha256};

/// The first line of a head, without its line end.
pub(super) fn first_line(head: &[u8]) -> (&[u8], &[u8]) {
    let nl = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let line = &head[..nl];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    (line, head.get(nl + 1..).unwrap_or(&[]))
}

fn is_space(c: &u8) -> bool {
    *c == b' ' || *c == b'\t'
}

/// Whitespace a request line may start with.
fn is_lead_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | 0x0b | 0x0c)
}

/// `METHOD SP target SP HTTP/x.y`, tolerating leading whitespace, repeated
/// spaces and spaces inside the target (the version is the last word); the target keeps any
/// byte (not only UTF-8).
pub(super) fn request_line(line: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    // Leading whitespace is tolerated (as by IIS and libhtp).
    let line = &line[line.iter().take_while(|&&c| is_lead_space(c)).count()..];
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
pub(super) fn status_line(line: &[u8]) -> Option<(&[u8], u16)> {
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

pub(super) fn trim(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

/// The host of an absolute URI (`http://host:port/...`), if it is one.
/// Only the scheme's letters and the `://` after them are read to tell:
/// most request targets are origin-form (`/path`), and a long one is not
/// scanned.
pub(super) fn uri_host(uri: &[u8]) -> Option<&[u8]> {
    let scheme_end = uri
        .iter()
        .position(|c| !c.is_ascii_alphabetic())
        .unwrap_or(uri.len());
    let rest = uri[scheme_end..].strip_prefix(b"://")?;
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

/// `host[:port]` → the port, as libhtp reads it (a number in 1–65535).
fn port_of(h: &[u8]) -> Option<u16> {
    super::events::host_port(h).and_then(|h| h.port)
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
    while let Some(p) = memchr::memchr(b'\n', &b[i..]) {
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
pub(super) fn find_request_start(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if METHODS
            .iter()
            .any(|m| rest.starts_with(m) && rest.get(m.len()).is_some_and(is_space))
        {
            return Some(i);
        }
        i += memchr::memchr(b'\n', rest)? + 1;
    }
    None
}

/// Where a response starts in `b`, if anywhere: `HTTP/1.` is distinctive
/// enough to be taken mid-line (after a gap the bytes rarely start at one).
/// A lost direction is often a response body: the search runs over every
/// byte of it, so it is a vectorised substring search.
pub(super) fn find_response_start(b: &[u8]) -> Option<usize> {
    memchr::memmem::find(b, b"HTTP/1.")
}

/// Content probe: an HTTP request line (whitespace before it, and a tab
/// after the method, tolerated) or status line from the first sender.
pub fn probe(bytes: &[u8]) -> crate::session::Probe {
    use crate::session::Probe;
    let b = &bytes[bytes.iter().take_while(|&&c| is_lead_space(c)).count()..];
    let mut maybe = false;
    for m in METHODS.iter().copied().chain([&b"HTTP/1."[..]]) {
        let method = m != b"HTTP/1.";
        let whole = m.len() + usize::from(method);
        if b.len() >= whole {
            if b.starts_with(m) && (!method || is_space(&b[m.len()])) {
                return Probe::Certain;
            }
        } else if m.starts_with(b) || b.starts_with(&m[..b.len().min(m.len())]) {
            maybe = true;
        }
    }
    if maybe { Probe::NeedMore } else { Probe::No }
}

impl HttpParser {
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
    pub(super) fn request_head(&mut self, b: &[u8], out: &mut Vec<L7Message>) -> Option<usize> {
        let (head, used_from_b) = match self.collect(true, b) {
            Ok(done) => done,
            Err(used) => return used,
        };
        let mut slots = HeaderSlots::new();
        let (line, rest) = first_line(&head);
        let parsed = request_line(line).map(|l| (l, slots.parse(rest, self.cfg.max_headers)));
        let ((method, uri, version), req_headers) = match parsed {
            Some((l, Ok(httparse::Status::Complete(h)))) => (l, h),
            other => {
                let too_many = matches!(other, Some((_, Err(httparse::Error::TooManyHeaders))));
                self.reject_head(true, too_many);
                return Some(used_from_b);
            }
        };
        let mut tx = request_tx(&self.cfg, (method, uri, version), req_headers);
        tx.tx_id = self.next_tx;
        self.next_tx += 1;
        self.request_events((line, rest), (uri, version), req_headers, tx.tx_id);
        self.note_upgrade_offer(tx.tx_id, (method, uri), req_headers);
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

    pub(super) fn response_head(&mut self, b: &[u8], out: &mut Vec<L7Message>) -> Option<usize> {
        let (head, used_from_b) = match self.collect(false, b) {
            Ok(done) => done,
            Err(used) => return used,
        };
        let mut slots = HeaderSlots::new();
        let (line, rest) = first_line(&head);
        let parsed = status_line(line).map(|l| (l, slots.parse(rest, self.cfg.max_headers)));
        let ((version, status), resp_headers) = match parsed {
            Some((l, Ok(httparse::Status::Complete(h)))) => (l, h),
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
            let waiting = self.pending.front().map(|t| t.tx_id);
            self.response_events((version, status), resp_headers, false, waiting);
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
                // A request whose head is still arriving has begun.
                if self.req.buf.is_empty() {
                    self.event(event::UNABLE_TO_MATCH_RESPONSE_TO_REQUEST, Some(tx.tx_id));
                }
                tx
            }
        };
        self.seen_100 = false;
        if self.pending.is_empty() && self.req_body_open {
            // The response came while the request body still streams: keep
            // counting that body on this transaction's copy as it is.
            self.req_body_open = false;
        }
        response_fields(&self.cfg, &mut tx, (version, status), resp_headers);
        let head_request = tx.method.as_deref() == Some(b"HEAD");
        self.response_events(
            (version, status),
            resp_headers,
            head_request,
            Some(tx.tx_id),
        );
        let connect = tx.method.as_deref() == Some(b"CONNECT");
        self.resp.buf = head;
        self.resp.buf.clear();
        if status == 101 || (connect && (200..300).contains(&status)) {
            let stop = if status == 101 {
                let after = b.len() - used_from_b;
                let dir = self.switch_protocols(tx.tx_id, f.upgrade.as_deref(), after);
                tx.tunnel = Some(HttpTunnel::Upgrade(f.upgrade.unwrap_or_default()));
                dir
            } else {
                tx.tunnel = Some(HttpTunnel::Connect);
                self.inner = Some(Inner::Detect(Vec::new()));
                Dir::Tunnel
            };
            self.req.dir = stop.clone();
            self.resp.dir = stop;
            self.current = Some(tx);
            self.complete(out);
            return Some(used_from_b);
        }
        self.upgrade_declined(tx.tx_id);
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

/// Header slots a head's parse fills in before it needs more: most heads
/// carry far fewer headers.
const FEW_HEADERS: usize = 32;

/// Room for a head's headers: [`FEW_HEADERS`] slots made ready at once, and
/// the most a head may have ([`MAX_HEADERS_LIMIT`], 8 KiB of slots) made
/// ready only for a head with more. Readying all of them was 8 KiB of
/// stores for every head.
pub(super) struct HeaderSlots<'b> {
    few: [httparse::Header<'b>; FEW_HEADERS],
    many: Option<[httparse::Header<'b>; MAX_HEADERS_LIMIT]>,
}

impl<'b> HeaderSlots<'b> {
    pub(super) fn new() -> Self {
        HeaderSlots {
            few: [httparse::EMPTY_HEADER; FEW_HEADERS],
            many: None,
        }
    }

    /// `src`'s headers, at most `max` of them (capped at
    /// [`MAX_HEADERS_LIMIT`]), by [`parse_headers`]: the same answer as one
    /// parse into `max` slots. A parse into fewer slots differs from it only
    /// by running out of them, and then the head is parsed again into all.
    pub(super) fn parse(
        &mut self,
        src: &'b [u8],
        max: usize,
    ) -> httparse::Result<&[httparse::Header<'b>]> {
        let max = max.min(MAX_HEADERS_LIMIT);
        let HeaderSlots { few, many } = self;
        let (answer, slots): (_, &[httparse::Header<'b>]) =
            match parse_headers(src, &mut few[..max.min(FEW_HEADERS)]) {
                Err(httparse::Error::TooManyHeaders) if max > FEW_HEADERS => {
                    let many = many.insert([httparse::EMPTY_HEADER; MAX_HEADERS_LIMIT]);
                    (parse_headers(src, &mut many[..max]), many)
                }
                answer => (answer, few),
            };
        answer.map(|status| match status {
            httparse::Status::Complete((_, n)) => httparse::Status::Complete(&slots[..n]),
            httparse::Status::Partial => httparse::Status::Partial,
        })
    }
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
pub(super) fn request_tx(
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
    // A CONNECT's target is an authority (RFC 9110 §9.3.6): its host and
    // port, as libhtp reads them.
    let authority = uri_host(uri).or((method == b"CONNECT" && !uri.is_empty()).then_some(uri));
    tx.hostname = authority.map(host_only);
    tx.port = authority.and_then(port_of);
    for h in headers {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"host") {
            if tx.hostname.is_none() {
                tx.hostname = Some(host_only(h.value));
                tx.port = port_of(h.value);
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
pub(super) fn response_fields(
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
        } else if name.eq_ignore_ascii_case(b"content-range") {
            tx.content_range.get_or_insert_with(|| boxed(h.value));
        }
        if cfg.headers {
            tx.response_headers.push((boxed(name), boxed(h.value)));
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
