//! SIP (RFC 3261) over UDP ([`SipUdpParser`]: one message per datagram)
//! and TCP ([`SipTcpParser`]: messages framed by their `Content-Length`).
//! Each request and each response is one [`SipMessage`], as Suricata 7
//! makes each its own transaction and `sip` record: the initiator's side
//! carries requests and the responder's side responses, and a message of
//! the other kind, or one Suricata's grammar (module `grammar`) rejects,
//! is an anomaly (Suricata's `invalid_data` / `incomplete_data`) and no
//! record. Bodies (SDP) are skipped, not kept. Lines, header counts and
//! TCP buffering are capped ([`SipConfig`]: `max_line`,
//! `max_headers`, `max_message`); a cap hit is an anomaly and, on TCP,
//! stops that side. [`probe`]: a request line or a `SIP/2.0` status line.

mod grammar;

use super::{L7Message, SipConfig};
use crate::AppEvent;
use crate::FlowSide;
use crate::parsers::anomalies::Anomalies;
use crate::session::{DatagramParser, Probe, SessionParser};
use grammar::{Caps, Head, Start};

/// Anomalies kept between two reads of them (the driver takes them after
/// every call, so a handful at most wait).
const MAX_PENDING_EVENTS: usize = 16;

/// The longest start line the probe waits for.
pub const PROBE_LINE: usize = 1024;

/// One SIP request or response (Suricata's `sip` record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipMessage {
    /// The start line's parts.
    pub kind: SipKind,
    /// The start line as Suricata logs it (`request_line` /
    /// `response_line`): the message's longest prefix of reason-phrase
    /// characters; empty when there is none.
    pub line: Box<[u8]>,
}

/// A request's or a response's start line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipKind {
    /// `INVITE sip:bob@example.com SIP/2.0`.
    Request {
        /// The method.
        method: Box<[u8]>,
        /// The Request-URI.
        uri: Box<[u8]>,
        /// The SIP version (`SIP/2.0`).
        version: Box<[u8]>,
    },
    /// `SIP/2.0 200 OK`.
    Response {
        /// The SIP version.
        version: Box<[u8]>,
        /// The status code (three characters).
        code: Box<[u8]>,
        /// The reason phrase.
        reason: Box<[u8]>,
    },
}

impl SipMessage {
    fn new(start: &Start<'_>, msg: &[u8]) -> Self {
        let kind = match *start {
            Start::Request {
                method,
                uri,
                version,
            } => SipKind::Request {
                method: method.into(),
                uri: uri.into(),
                version: version.into(),
            },
            Start::Response {
                version,
                code,
                reason,
            } => SipKind::Response {
                version: version.into(),
                code: code.into(),
                reason: reason.into(),
            },
        };
        SipMessage {
            kind,
            line: grammar::logged_line(msg).into(),
        }
    }
}

/// The content probe: a request line (`METHOD uri SIP/2.0`) or a status
/// line (`SIP/2.0 NNN reason`), whole, on either side. A partial line
/// that could still be one asks for more (up to [`PROBE_LINE`] bytes).
pub fn probe(bytes: &[u8], _side: FlowSide) -> Probe {
    const V: &[u8] = b"SIP/2.0";
    // Both a status line (`SIP/2.0`) and a request line (a method) start
    // with an upper-case letter: anything else is decided without looking
    // for the line's end.
    if bytes.first().is_some_and(|c| !c.is_ascii_uppercase()) {
        return Probe::No;
    }
    let line = match bytes.iter().position(|&c| c == b'\n') {
        Some(e) => &bytes[..e],
        None if bytes.len() >= PROBE_LINE => return Probe::No,
        None => bytes,
    };
    let whole = line.len() < bytes.len();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // A status line: `SIP/2.0 ` and three digits.
    let n = line.len().min(V.len());
    if line[..n] == V[..n] {
        let rest = &line[n..];
        let ok = rest.is_empty()
            || (rest[0] == b' '
                && rest[1..].iter().take(3).all(u8::is_ascii_digit)
                && (rest.len() < 5 || rest[4] == b' '));
        return match (ok, whole && rest.len() >= 5) {
            (false, _) => Probe::No,
            (true, true) => Probe::Certain,
            (true, false) if whole => Probe::No,
            (true, false) => Probe::NeedMore,
        };
    }
    // A request line: an upper-case method, a `sip:`/`sips:`/`tel:` URI
    // and the version last.
    let m = line.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if m == line.len() {
        return if whole || m > 32 {
            Probe::No
        } else {
            Probe::NeedMore
        };
    }
    if m == 0 || line[m] != b' ' {
        return Probe::No;
    }
    let uri = &line[m + 1..];
    let scheme = [&b"sip:"[..], b"sips:", b"tel:"]
        .iter()
        .any(|s| uri.len() >= s.len() && uri[..s.len()].eq_ignore_ascii_case(s));
    let maybe_scheme = [&b"sip:"[..], b"sips:", b"tel:"]
        .iter()
        .any(|s| uri.len() < s.len() && s[..uri.len()].eq_ignore_ascii_case(uri));
    if !scheme {
        return if maybe_scheme && !whole {
            Probe::NeedMore
        } else {
            Probe::No
        };
    }
    if !whole {
        return Probe::NeedMore;
    }
    if line.ends_with(b" SIP/2.0") {
        Probe::Certain
    } else {
        Probe::No
    }
}

fn caps(cfg: &SipConfig) -> Caps {
    Caps {
        max_line: cfg.max_line,
        max_headers: cfg.max_headers,
    }
}

/// SIP over UDP: each datagram one message (the initiator's requests, the
/// responder's responses). Messages: [`L7Message::Sip`].
#[derive(Debug, Clone, Default)]
pub struct SipUdpParser {
    cfg: SipConfig,
    events: Anomalies<MAX_PENDING_EVENTS>,
}

impl SipUdpParser {
    /// A parser with these options.
    pub fn new(cfg: SipConfig) -> Self {
        SipUdpParser {
            cfg,
            events: Anomalies::default(),
        }
    }
}

impl DatagramParser for SipUdpParser {
    type Message = L7Message;

    fn parse(&mut self, payload: &[u8], side: FlowSide) -> Vec<L7Message> {
        if payload.is_empty() {
            return Vec::new();
        }
        let request = side == FlowSide::Initiator;
        match grammar::head(payload, request, caps(&self.cfg)) {
            Head::Done(start, _, _) => {
                vec![L7Message::Sip(Box::new(SipMessage::new(&start, payload)))]
            }
            Head::Incomplete => {
                self.events.push("sip", "incomplete_data", None);
                Vec::new()
            }
            Head::Invalid(e) => {
                self.events.push("sip", e, None);
                Vec::new()
            }
        }
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }
}

/// Where one TCP side's reading is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Stage {
    /// Reading a message head.
    #[default]
    Head,
    /// Skipping this many body bytes.
    Body(u64),
    /// Nothing more to read (framing lost or a cap hit).
    Done,
}

/// One TCP side's state.
#[derive(Debug, Clone, Default)]
struct Side {
    stage: Stage,
    /// A partial head (at most `max_message` bytes).
    buf: Vec<u8>,
}

/// SIP over TCP: messages framed by `Content-Length` (the initiator's
/// requests, the responder's responses), bodies skipped. Messages:
/// [`L7Message::Sip`].
#[derive(Debug, Clone, Default)]
pub struct SipTcpParser {
    cfg: SipConfig,
    sides: [Side; 2],
    events: Anomalies<MAX_PENDING_EVENTS>,
}

impl SipTcpParser {
    /// A parser with these options.
    pub fn new(cfg: SipConfig) -> Self {
        SipTcpParser {
            cfg,
            ..SipTcpParser::default()
        }
    }

    fn stop(&mut self, k: usize, event: Option<&'static str>) {
        if let Some(e) = event {
            self.events.push("sip", e, None);
        }
        let s = &mut self.sides[k];
        s.stage = Stage::Done;
        s.buf = Vec::new();
    }

    /// Reads heads (and skips bodies) from `bytes` of side `k` while its
    /// buffer is empty, so whole messages are read in place. Returns the
    /// bytes left once a head is cut short (buffered by the caller).
    fn read_in_place<'b>(
        &mut self,
        k: usize,
        mut bytes: &'b [u8],
        out: &mut Vec<L7Message>,
    ) -> &'b [u8] {
        while !bytes.is_empty() {
            match self.sides[k].stage {
                Stage::Done => return &[],
                Stage::Body(left) => {
                    // n ≤ left.
                    let n = bytes.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let left = left - n as u64;
                    self.sides[k].stage = if left == 0 {
                        Stage::Head
                    } else {
                        Stage::Body(left)
                    };
                    bytes = &bytes[n..];
                }
                Stage::Head => match grammar::head(bytes, k == 0, caps(&self.cfg)) {
                    Head::Done(start, used, length) => {
                        out.push(L7Message::Sip(Box::new(SipMessage::new(&start, bytes))));
                        let Some(length) = length else {
                            self.stop(k, Some("invalid_content_length"));
                            return &[];
                        };
                        self.sides[k].stage = if length == 0 {
                            Stage::Head
                        } else {
                            Stage::Body(length)
                        };
                        bytes = &bytes[used..];
                    }
                    Head::Incomplete => return bytes,
                    Head::Invalid(e) => {
                        self.stop(k, Some(e));
                        return &[];
                    }
                },
            }
        }
        bytes
    }

    fn feed(&mut self, k: usize, mut bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        let max = self.cfg.max_message;
        while !bytes.is_empty() && self.sides[k].stage != Stage::Done {
            if self.sides[k].buf.is_empty() {
                let rest = self.read_in_place(k, bytes, &mut out);
                if rest.len() > max {
                    self.stop(k, Some("message_too_long"));
                } else if self.sides[k].stage == Stage::Head {
                    self.sides[k].buf.extend_from_slice(rest);
                }
                break;
            }
            // A partial head: add up to the cap, then read it again.
            let s = &mut self.sides[k];
            let take = bytes.len().min(max - s.buf.len().min(max));
            s.buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            let buf = std::mem::take(&mut self.sides[k].buf);
            let rest = self.read_in_place(k, &buf, &mut out);
            if rest.len() == buf.len() && rest.len() >= max {
                self.stop(k, Some("message_too_long"));
            } else if self.sides[k].stage == Stage::Head && !rest.is_empty() {
                // Still a partial head: keep it (the buffer reused).
                let from = buf.len() - rest.len();
                let mut buf = buf;
                buf.drain(..from);
                self.sides[k].buf = buf;
            }
        }
        out
    }
}

impl SessionParser for SipTcpParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(0, bytes)
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(1, bytes)
    }

    /// A gap loses the framing: the side stops.
    fn gap_initiator(&mut self, _len: u64) -> Vec<L7Message> {
        self.stop(0, None);
        Vec::new()
    }

    fn gap_responder(&mut self, _len: u64) -> Vec<L7Message> {
        self.stop(1, None);
        Vec::new()
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }
}

#[cfg(test)]
mod tests;
