//! HTTP protocol anomalies, named and decided as Suricata's HTTP parser
//! (libhtp) decides them: the request line's delimiters and missing
//! protocol, differing Content-Length values, Transfer-Encoding and
//! Content-Length values body framing cannot use, a missing, invalid or
//! ambiguous Host, an invalid URI host, unrecognised authorization,
//! responses without a request, repeated `100 Continue`s and bad chunk
//! lengths. The parser
//! queues them ([`HttpParser::event`]); the session driver reports them as
//! `anomaly` records of the flow. [`event`] lists the names.

use super::HttpParser;
use super::head::{trim, uri_host};
use std::borrow::Cow;

/// The event names, as Suricata writes them in `anomaly.event`.
pub mod event {
    /// Whitespace before the request method.
    pub const REQUEST_LINE_LEADING_WHITESPACE: &str = "REQUEST_LINE_LEADING_WHITESPACE";
    /// Whitespace other than SP between the method and the URI.
    pub const METHOD_DELIM_NON_COMPLIANT: &str = "METHOD_DELIM_NON_COMPLIANT";
    /// Whitespace other than SP inside the URI or before the protocol.
    pub const URI_DELIM_NON_COMPLIANT: &str = "URI_DELIM_NON_COMPLIANT";
    /// A request line without protocol followed by header lines (not an
    /// HTTP/0.9 request).
    pub const REQUEST_LINE_MISSING_PROTOCOL: &str = "REQUEST_LINE_MISSING_PROTOCOL";
    /// Request Content-Length headers with different (or unreadable) values.
    pub const DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST: &str =
        "DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST";
    /// Response Content-Length headers with different (or unreadable) values.
    pub const DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE: &str =
        "DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE";
    /// A request Transfer-Encoding without a `chunked` coding, or
    /// `chunked` before HTTP/1.1.
    pub const INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST: &str =
        "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST";
    /// A request Content-Length without digits.
    pub const INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST: &str =
        "INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST";
    /// A response Content-Length without digits (for a response with a body).
    pub const INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE: &str =
        "INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE";
    /// An HTTP/1.1 request without Host.
    pub const MISSING_HOST_HEADER: &str = "MISSING_HOST_HEADER";
    /// The URI's host (or port) and the Host header's differ.
    pub const HOST_HEADER_AMBIGUOUS: &str = "HOST_HEADER_AMBIGUOUS";
    /// A Host header whose host or port is not valid.
    pub const REQUEST_HEADER_HOST_INVALID: &str = "REQUEST_HEADER_HOST_INVALID";
    /// An absolute URI whose host or port is not valid.
    pub const REQUEST_URI_HOST_INVALID: &str = "REQUEST_URI_HOST_INVALID";
    /// An Authorization scheme other than Basic, Digest and Bearer.
    pub const REQUEST_AUTH_UNRECOGNIZED: &str = "REQUEST_AUTH_UNRECOGNIZED";
    /// A response with no request waiting for it.
    pub const UNABLE_TO_MATCH_RESPONSE_TO_REQUEST: &str = "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST";
    /// A second `100 Continue` for one request.
    pub const CONTINUE_ALREADY_SEEN: &str = "100_CONTINUE_ALREADY_SEEN";
    /// A response Transfer-Encoding that names `chunked` among other words.
    pub const RESPONSE_ABNORMAL_TRANSFER_ENCODING: &str = "RESPONSE_ABNORMAL_TRANSFER_ENCODING";
    /// A chunked response before HTTP/1.1.
    pub const RESPONSE_CHUNKED_OLD_PROTO: &str = "RESPONSE_CHUNKED_OLD_PROTO";
    /// A request chunk-size line without a hexadecimal size.
    pub const INVALID_REQUEST_CHUNK_LEN: &str = "INVALID_REQUEST_CHUNK_LEN";
    /// A response chunk-size line without a hexadecimal size.
    pub const INVALID_RESPONSE_CHUNK_LEN: &str = "INVALID_RESPONSE_CHUNK_LEN";

    /// Every name above.
    pub const ALL: &[&str] = &[
        REQUEST_LINE_LEADING_WHITESPACE,
        METHOD_DELIM_NON_COMPLIANT,
        URI_DELIM_NON_COMPLIANT,
        REQUEST_LINE_MISSING_PROTOCOL,
        DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST,
        DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE,
        INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST,
        INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST,
        INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE,
        MISSING_HOST_HEADER,
        HOST_HEADER_AMBIGUOUS,
        REQUEST_HEADER_HOST_INVALID,
        REQUEST_URI_HOST_INVALID,
        REQUEST_AUTH_UNRECOGNIZED,
        UNABLE_TO_MATCH_RESPONSE_TO_REQUEST,
        CONTINUE_ALREADY_SEEN,
        RESPONSE_ABNORMAL_TRANSFER_ENCODING,
        RESPONSE_CHUNKED_OLD_PROTO,
        INVALID_REQUEST_CHUNK_LEN,
        INVALID_RESPONSE_CHUNK_LEN,
    ];
}

/// libhtp's whitespace: SP, HT, CR, LF, VT, FF.
fn is_htp_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

/// Whether `b` holds [libhtp whitespace](is_htp_space) other than SP.
/// Every byte is read without stopping early, so the loop runs many bytes
/// a step: a request target is scanned whole either way, and is seldom
/// short.
fn has_control_space(b: &[u8]) -> bool {
    b.iter()
        .fold(false, |any, &c| any | (is_htp_space(c) & (c != b' ')))
}

fn trim_htp(mut b: &[u8]) -> &[u8] {
    while let [c, rest @ ..] = b
        && is_htp_space(*c)
    {
        b = rest;
    }
    while let [rest @ .., c] = b
        && is_htp_space(*c)
    {
        b = rest;
    }
    b
}

/// Whitespace after an HTTP/0.9-looking request line that still makes it
/// one (libhtp's `HTTP09_MAX_JUNK_LEN`).
const HTTP09_MAX_JUNK: usize = 16;

/// The request line's events (`line` without its line end; `after`: the
/// head's bytes after it).
fn request_line_events(line: &[u8], after: &[u8], ev: &mut impl FnMut(&'static str)) {
    let lead = line.iter().take_while(|&&c| is_htp_space(c)).count();
    if lead > 0 {
        ev(event::REQUEST_LINE_LEADING_WHITESPACE);
    }
    let rest = &line[lead..];
    let Some(m_end) = rest.iter().position(|&c| is_htp_space(c)) else {
        return;
    };
    let after_method = &rest[m_end..];
    let delim = after_method
        .iter()
        .take_while(|&&c| is_htp_space(c))
        .count();
    if after_method[..delim].iter().any(|&c| c != b' ') {
        ev(event::METHOD_DELIM_NON_COMPLIANT);
    }
    let remaining = trim_htp(&after_method[delim..]);
    if remaining.is_empty() {
        return;
    }
    // The protocol follows the last SP (Suricata lets the URI hold spaces).
    let split = |pred: fn(u8) -> bool| match remaining.iter().rposition(|&c| pred(c)) {
        Some(i) => (trim_htp(&remaining[..i]), trim_htp(&remaining[i + 1..])),
        None => (remaining, &[][..]),
    };
    let (uri, mut protocol) = split(|c| c == b' ');
    if has_control_space(uri) {
        ev(event::URI_DELIM_NON_COMPLIANT);
        if uri.len() == remaining.len() {
            protocol = split(is_htp_space).1;
        }
    }
    if protocol.is_empty() {
        let spaces = after.iter().take_while(|&&c| is_htp_space(c)).count();
        if spaces < after.len() || spaces > HTTP09_MAX_JUNK {
            ev(event::REQUEST_LINE_MISSING_PROTOCOL);
        }
    }
}

/// An HTTP version as libhtp reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Version {
    Invalid,
    V0_9,
    V1_0,
    V1_1,
}

/// `HTTP/1.1` and its tolerated variants (case, whitespace around the
/// slash, leading zeros); anything else is [`Version::Invalid`].
fn version(v: &[u8]) -> Version {
    let v = trim_htp(v);
    let Some(rest) = v
        .get(..4)
        .filter(|h| h.eq_ignore_ascii_case(b"HTTP"))
        .map(|_| trim_htp(&v[4..]))
    else {
        return Version::Invalid;
    };
    let Some(rest) = rest.strip_prefix(b"/") else {
        return Version::Invalid;
    };
    let zeros = rest
        .iter()
        .take_while(|&&c| c == b'0' || c.is_ascii_whitespace())
        .count();
    match &rest[zeros..] {
        b".9" => Version::V0_9,
        b"1.0" => Version::V1_0,
        b"1.1" => Version::V1_1,
        _ => Version::Invalid,
    }
}

/// A Content-Length value as libhtp reads it: the first run of digits,
/// whatever surrounds it.
fn content_length(v: &[u8]) -> Option<u64> {
    let start = v.iter().position(u8::is_ascii_digit)?;
    let digits = v[start..].iter().take_while(|c| c.is_ascii_digit()).count();
    std::str::from_utf8(&v[start..start + digits])
        .ok()?
        .parse()
        .ok()
}

fn named<'h>(
    headers: &'h [httparse::Header<'h>],
    name: &'h str,
) -> impl Iterator<Item = &'h [u8]> + 'h {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

/// Further Content-Length headers whose value differs from the first's,
/// either direction.
fn duplicate_content_length(
    request: bool,
    headers: &[httparse::Header<'_>],
    ev: &mut impl FnMut(&'static str),
) {
    let mut values = named(headers, "content-length");
    let Some(first) = values.next() else {
        return;
    };
    let first = content_length(first);
    for v in values {
        let this = content_length(v);
        if first.is_none() || this.is_none() || first != this {
            ev(if request {
                event::DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST
            } else {
                event::DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE
            });
        }
    }
}

/// The values of the headers called `name`, joined as libhtp joins
/// repeated headers (`a, b`); `None` without one. Borrowed when there is
/// one.
fn joined<'h>(headers: &'h [httparse::Header<'h>], name: &'h str) -> Option<Cow<'h, [u8]>> {
    let mut values = named(headers, name);
    let first = values.next()?;
    let Some(second) = values.next() else {
        return Some(Cow::Borrowed(first));
    };
    let mut all = first.to_vec();
    for v in std::iter::once(second).chain(values) {
        all.extend_from_slice(b", ");
        all.extend_from_slice(v);
    }
    Some(Cow::Owned(all))
}

/// A `host[:port]` as libhtp reads a Host header or a URI's authority.
pub(super) struct HostPort<'a> {
    host: &'a [u8],
    /// The port, when one was given and is a number in 1–65535.
    pub(super) port: Option<u16>,
    /// No port was given, or a valid one.
    port_ok: bool,
}

impl HostPort<'_> {
    /// A valid host name (or IPv6 literal) and, if given, a valid port
    /// (the host's labels are read only when asked: a port is wanted
    /// for every request, validity only for its anomaly events).
    fn valid(&self) -> bool {
        self.port_ok && valid_host(self.host)
    }
}

/// Reads `host[:port]` (the host ends at the first colon, or after an
/// IPv6 literal's `]`); `None` when empty.
pub(super) fn host_port(v: &[u8]) -> Option<HostPort<'_>> {
    let v = trim_htp(v);
    if v.is_empty() {
        return None;
    }
    let (host, port) = match v
        .iter()
        .position(|&c| c == if v[0] == b'[' { b']' } else { b':' })
    {
        Some(i) if v[0] == b'[' => match &v[i + 1..] {
            [] => (&v[..=i], None),
            [b':', p @ ..] => (&v[..=i], Some(p)),
            // Something after the literal: not a host.
            _ => (v, Some(&[][..])),
        },
        Some(i) => (trim_htp(&v[..i]), Some(&v[i + 1..])),
        None => (v, None),
    };
    let number = port.map(|p| {
        std::str::from_utf8(trim_htp(p))
            .ok()
            .filter(|p| p.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|p| p.parse::<u16>().ok())
            .filter(|&n| n > 0)
    });
    Some(HostPort {
        host,
        port: number.flatten(),
        port_ok: number.is_none_or(|n| n.is_some()),
    })
}

/// libhtp's host name rule: an IPv6 literal in brackets, or labels of
/// 1–63 letters, digits, `-` and `_` joined by single dots (a final dot
/// allowed), at most 255 bytes.
fn valid_host(h: &[u8]) -> bool {
    if h.is_empty() || h.len() > 255 {
        return false;
    }
    if let Some(inner) = h.strip_prefix(b"[") {
        return inner
            .strip_suffix(b"]")
            .and_then(|a| std::str::from_utf8(a).ok())
            .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok());
    }
    let h = h.strip_suffix(b".").unwrap_or(h);
    h.split(|&c| c == b'.').all(|label| {
        (1..=63).contains(&label.len())
            && label
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    })
}

impl HttpParser {
    /// Queues a protocol anomaly of transaction `tx_id`.
    pub(super) fn event(&mut self, name: &'static str, tx_id: Option<u64>) {
        self.events.push("http", name, tx_id);
    }

    /// A parsed request head's events: `line` and the head's bytes
    /// `after` it, the URI and version it holds, its headers.
    pub(super) fn request_events(
        &mut self,
        (line, after): (&[u8], &[u8]),
        (uri, proto): (&[u8], &[u8]),
        headers: &[httparse::Header<'_>],
        tx_id: u64,
    ) {
        let mut ev = |e: &'static str| self.event(e, Some(tx_id));
        request_line_events(line, after, &mut ev);
        duplicate_content_length(true, headers, &mut ev);
        let version = version(proto);
        if let Some(te) = joined(headers, "transfer-encoding") {
            let chunked = te
                .split(|&c| c == b',')
                .any(|t| trim(t).eq_ignore_ascii_case(b"chunked"));
            if !chunked || version < Version::V1_1 {
                ev(event::INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST);
            }
        } else if let Some(cl) = named(headers, "content-length").next()
            && content_length(cl).is_none()
        {
            ev(event::INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST);
        }
        let uri = uri_host(uri).and_then(host_port);
        if uri.as_ref().is_some_and(|u| !u.valid()) {
            ev(event::REQUEST_URI_HOST_INVALID);
        }
        match joined(headers, "host") {
            Some(value) => {
                let header = host_port(&value);
                if header.as_ref().is_none_or(|h| !h.valid()) {
                    ev(event::REQUEST_HEADER_HOST_INVALID);
                }
                if let Some(u) = &uri {
                    let ambiguous = header.is_none_or(|h| {
                        !h.host.eq_ignore_ascii_case(u.host)
                            || u.port.zip(h.port).is_some_and(|(a, b)| a != b)
                    });
                    if ambiguous {
                        ev(event::HOST_HEADER_AMBIGUOUS);
                    }
                }
            }
            None if version == Version::V1_1 => ev(event::MISSING_HOST_HEADER),
            None => {}
        }
        if let Some(auth) = named(headers, "authorization").next() {
            let known = [&b"basic"[..], b"digest", b"bearer"].iter().any(|s| {
                auth.get(..s.len())
                    .is_some_and(|a| a.eq_ignore_ascii_case(s))
            });
            if !known {
                ev(event::REQUEST_AUTH_UNRECOGNIZED);
            }
        }
    }

    /// A parsed response head's events (`head_request`: it answers a HEAD
    /// request, so it has no body).
    pub(super) fn response_events(
        &mut self,
        (proto, status): (&[u8], u16),
        headers: &[httparse::Header<'_>],
        head_request: bool,
        tx_id: Option<u64>,
    ) {
        let te = joined(headers, "transfer-encoding");
        let cl = named(headers, "content-length").next();
        let interim_100 =
            status == 100 && te.is_none() && cl.and_then(content_length).is_none_or(|n| n == 0);
        let repeated_100 = interim_100 && std::mem::replace(&mut self.seen_100, true);
        let mut ev = |e: &'static str| self.event(e, tx_id);
        duplicate_content_length(false, headers, &mut ev);
        if repeated_100 {
            ev(event::CONTINUE_ALREADY_SEEN);
        }
        // libhtp reads no body after a HEAD request, nor after a 1xx, 204 or
        // 304 without framing headers.
        let bodiless = (100..200).contains(&status) || status == 204 || status == 304;
        if interim_100 || head_request || (bodiless && te.is_none() && cl.is_none()) {
            return;
        }
        match te {
            Some(te) if te.windows(7).any(|w| w.eq_ignore_ascii_case(b"chunked")) => {
                if !te.eq_ignore_ascii_case(b"chunked") {
                    ev(event::RESPONSE_ABNORMAL_TRANSFER_ENCODING);
                }
                if version(proto) < Version::V1_1 {
                    ev(event::RESPONSE_CHUNKED_OLD_PROTO);
                }
            }
            _ => {
                if cl.is_some_and(|v| content_length(v).is_none()) {
                    ev(event::INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
