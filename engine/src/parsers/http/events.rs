//! HTTP protocol anomalies, named and decided as Suricata's HTTP parser
//! (libhtp) decides them: the request line's delimiters and missing
//! protocol, excessive header repetition and differing Content-Length
//! values, Transfer-Encoding
//! and Content-Length values body framing cannot use, a missing or
//! ambiguous Host, unrecognised authorization, responses without a
//! request, repeated `100 Continue`s and bad chunk lengths. The parser
//! queues them ([`HttpParser::event`]); the session driver reports them as
//! `anomaly` records of the flow. [`event`] lists the names.

use super::HttpParser;
use super::head::{trim, uri_host};
use crate::AppEvent;
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
    /// A request header repeated past 64 repetitions in one head (each
    /// one past them).
    pub const REQUEST_HEADER_REPETITION: &str = "REQUEST_HEADER_REPETITION";
    /// A response header repeated past 64 repetitions in one head.
    pub const RESPONSE_HEADER_REPETITION: &str = "RESPONSE_HEADER_REPETITION";
    /// Request Content-Length headers with different (or unreadable) values.
    pub const DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST: &str =
        "DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST";
    /// Response Content-Length headers with different (or unreadable) values.
    pub const DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE: &str =
        "DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE";
    /// A request Transfer-Encoding other than `chunked`, or `chunked`
    /// before HTTP/1.1.
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
        REQUEST_HEADER_REPETITION,
        RESPONSE_HEADER_REPETITION,
        DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST,
        DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE,
        INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST,
        INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST,
        INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE,
        MISSING_HOST_HEADER,
        HOST_HEADER_AMBIGUOUS,
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
pub(super) fn is_htp_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
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
pub(super) fn request_line_events(line: &[u8], after: &[u8], ev: &mut impl FnMut(&'static str)) {
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
    if uri.iter().any(|&c| is_htp_space(c) && c != b' ') {
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
pub(super) enum Version {
    Invalid,
    V0_9,
    V1_0,
    V1_1,
}

/// `HTTP/1.1` and its tolerated variants (case, whitespace around the
/// slash, leading zeros); anything else is [`Version::Invalid`].
pub(super) fn version(v: &[u8]) -> Version {
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

/// Repetitions of header names libhtp keeps count of per head; past them
/// each further repetition is an event (and is dropped).
const MAX_REPETITIONS: usize = 64;

/// Excessive header repetitions and differing Content-Length values,
/// either direction.
fn header_events(
    request: bool,
    headers: &[httparse::Header<'_>],
    ev: &mut impl FnMut(&'static str),
) {
    let (repetition, duplicate_cl) = if request {
        (
            event::REQUEST_HEADER_REPETITION,
            event::DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST,
        )
    } else {
        (
            event::RESPONSE_HEADER_REPETITION,
            event::DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE,
        )
    };
    let mut repetitions = 0;
    for (i, h) in headers.iter().enumerate() {
        let before = headers[..i]
            .iter()
            .filter(|p| p.name.eq_ignore_ascii_case(h.name))
            .count();
        if before == 0 {
            continue;
        }
        // The second of a name is a repetition; from the third on they
        // are counted, and past the count reported.
        if before > 1 {
            if repetitions == MAX_REPETITIONS {
                ev(repetition);
                continue;
            }
            repetitions += 1;
        }
        if h.name.eq_ignore_ascii_case("content-length") {
            let first = named(headers, "content-length")
                .next()
                .and_then(content_length);
            let this = content_length(h.value);
            if first.is_none() || this.is_none() || first != this {
                ev(duplicate_cl);
            }
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

/// `host[:port]` of a Host header or URI authority: the host and the port
/// text, `None` when no host can be read.
fn host_port(v: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let v = trim(v);
    let v = v.strip_prefix(b"//").unwrap_or(v);
    let v = &v[v.iter().take_while(|&&c| c == b' ').count()..];
    if v.first() == Some(&b'/') {
        return None;
    }
    let end = if v.first() == Some(&b'[') {
        v.iter()
            .position(|&c| matches!(c, b'/' | b'?' | b'#' | b']'))
            .map_or(v.len(), |i| if v[i] == b']' { i + 1 } else { i })
    } else {
        v.iter()
            .position(|&c| matches!(c, b'/' | b'?' | b'#' | b':'))
            .unwrap_or(v.len())
    };
    let host = trim(&v[..end]);
    if host.is_empty() {
        return None;
    }
    let port = v[end..].strip_prefix(b":").map(|p| {
        trim(
            &p[..p
                .iter()
                .position(|&c| matches!(c, b'/' | b'?' | b'#'))
                .unwrap_or(p.len())],
        )
    });
    Some((host, port.filter(|p| !p.is_empty())))
}

fn port_number(p: &[u8]) -> Option<u16> {
    std::str::from_utf8(p).ok()?.parse().ok()
}

impl HttpParser {
    /// Queues a protocol anomaly of transaction `tx_id`.
    pub(super) fn event(&mut self, name: &'static str, tx_id: Option<u64>) {
        self.events.push_back(AppEvent {
            proto: "http",
            event: name,
            tx_id,
        });
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
        header_events(true, headers, &mut ev);
        let version = version(proto);
        if let Some(te) = joined(headers, "transfer-encoding") {
            if !te.eq_ignore_ascii_case(b"chunked") || version < Version::V1_1 {
                ev(event::INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST);
            }
        } else if let Some(cl) = named(headers, "content-length").next()
            && content_length(cl).is_none()
        {
            ev(event::INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST);
        }
        match joined(headers, "host") {
            Some(host) => {
                if let Some(u) = uri_host(uri).and_then(host_port) {
                    let ambiguous = host_port(&host).is_none_or(|h| {
                        let ports = u.1.and_then(port_number).zip(h.1.and_then(port_number));
                        !h.0.eq_ignore_ascii_case(u.0) || ports.is_some_and(|(a, b)| a != b)
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
        header_events(false, headers, &mut ev);
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
