//! HTTP/1.0 and 1.1 ([`HttpParser`]): request and response heads (httparse),
//! bodies by Content-Length, chunked coding (trailers included) or until
//! close, pipelined requests paired with their responses in order, interim
//! 1xx responses, Upgrade tunnels (parsing stops, the transaction says so;
//! an upgrade to h2c goes on as HTTP/2, module `h2c`),
//! CONNECT tunnels (the transaction says so; HTTP or TLS through the proxy
//! is parsed, anything else is not), gaps skipped inside bodies and otherwise
//! resynchronised at the next message start. Bodies are counted and
//! optionally hashed or sampled, never buffered whole; heads are capped.
//! Heads are read in `head`, bodies in `body`, SSDP's datagrams by
//! [`HttpUdpParser`] (`udp`); protocol anomalies are decided in `events`
//! (Suricata's HTTP event names, [`event`]) and reported through
//! [`SessionParser::next_event`].

mod body;
mod events;
#[cfg(feature = "http2")]
mod h2c;
mod head;
mod range;
mod udp;

pub use events::event;
pub use head::probe;
pub use range::{ContentRange, content_range};
pub use udp::HttpUdpParser;

use super::{HttpConfig, L7Message};
use crate::AppEvent;
use crate::parsers::anomalies::Anomalies;
use crate::session::SessionParser;
use head::{find_request_start, find_response_start};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::sync::Arc;

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

pub use super::MAX_HEADERS_LIMIT;
/// Requests waiting for their responses, at most (pipelining depth).
const MAX_PENDING: usize = 64;
/// Anomalies held between two takes by the driver (one chunk's).
const MAX_PENDING_EVENTS: usize = 64;

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
    /// The port written with that host, if any (Suricata's `http_port`).
    pub port: Option<u16>,
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
    /// Response Content-Range, as sent ([`content_range`] reads it).
    pub content_range: Option<Box<[u8]>>,
    /// Response body bytes (decoded).
    pub response_body_len: u64,
    /// Response message-body bytes as transferred: for a chunked body the
    /// chunk-size lines and the line ends after each chunk's data count
    /// too (the trailer does not), as libhtp's `response_message_len`
    /// that Suricata writes as `http.length`; otherwise the body bytes.
    pub response_message_len: u64,
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
    /// CONNECT tunnel, or h2c after an upgrade: the bytes go to [`Inner`].
    Tunnel,
}

/// What runs inside an accepted CONNECT tunnel.
#[derive(Debug, Clone)]
enum Inner {
    /// Not decided yet: the client's first bytes (up to 64) decide.
    Detect(Vec<u8>),
    /// TLS through the proxy (feature `tls`).
    #[cfg(feature = "tls")]
    Tls(Box<super::tls::TlsParser>),
    /// HTTP/2 after an accepted `Upgrade: h2c` (feature `http2`).
    #[cfg(feature = "http2")]
    Http2(Box<super::http2::Http2Parser>),
    /// Something else: not parsed.
    Opaque,
}

impl Inner {
    /// TLS through the tunnel, fed the client's bytes held back while the
    /// probes decided. Without the `tls` feature the TLS probe never says
    /// yes, and the tunnel would be opaque.
    #[cfg(feature = "tls")]
    fn tls(held: &[u8], out: &mut Vec<L7Message>) -> Inner {
        let mut t = Box::new(super::tls::TlsParser::default().handed_over_from("http"));
        out.extend(t.feed_initiator(held));
        Inner::Tls(t)
    }
    #[cfg(not(feature = "tls"))]
    fn tls(_held: &[u8], _out: &mut Vec<L7Message>) -> Inner {
        Inner::Opaque
    }

    /// One direction's bytes (`request`: the client's) to the parser
    /// inside, if any.
    fn feed(&mut self, request: bool, b: &[u8], out: &mut Vec<L7Message>) {
        match self {
            #[cfg(feature = "tls")]
            Inner::Tls(t) if request => out.extend(t.feed_initiator(b)),
            #[cfg(feature = "tls")]
            Inner::Tls(t) => out.extend(t.feed_responder(b)),
            #[cfg(feature = "http2")]
            Inner::Http2(p) if request => out.extend(p.feed_initiator(b)),
            #[cfg(feature = "http2")]
            Inner::Http2(p) => out.extend(p.feed_responder(b)),
            _ => {}
        }
        let _ = (request, b, out);
    }

    /// A gap of `len` in one direction, to the parser inside.
    fn gap(&mut self, request: bool, len: u64, out: &mut Vec<L7Message>) {
        match self {
            #[cfg(feature = "tls")]
            Inner::Tls(t) if request => out.extend(t.gap_initiator(len)),
            #[cfg(feature = "tls")]
            Inner::Tls(t) => out.extend(t.gap_responder(len)),
            #[cfg(feature = "http2")]
            Inner::Http2(p) if request => out.extend(p.gap_initiator(len)),
            #[cfg(feature = "http2")]
            Inner::Http2(p) => out.extend(p.gap_responder(len)),
            _ => {}
        }
        let _ = (request, len, out);
    }

    /// The flow's end, to the parser inside.
    fn flow_end(&mut self, out: &mut Vec<L7Message>) {
        match self {
            #[cfg(feature = "tls")]
            Inner::Tls(t) => out.extend(t.flow_end()),
            #[cfg(feature = "http2")]
            Inner::Http2(p) => out.extend(p.flow_end()),
            _ => {}
        }
        let _ = out;
    }
}

/// The TLS probe, for what an accepted CONNECT tunnel carries (no TLS
/// without the `tls` feature).
fn tls_probe(b: &[u8]) -> crate::session::Probe {
    #[cfg(feature = "tls")]
    return super::tls::probe(b);
    #[cfg(not(feature = "tls"))]
    {
        let _ = b;
        crate::session::Probe::No
    }
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
    /// Shared by every flow's copy of the registered parser.
    cfg: Arc<HttpConfig>,
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
    /// Protocol anomalies not yet taken by the driver.
    events: Anomalies<MAX_PENDING_EVENTS>,
    /// A `100 Continue` was seen for the request waiting for its response.
    seen_100: bool,
    /// HTTP/2's options, when an upgrade to h2c is followed (feature
    /// `http2`; [`HttpParser::with_h2c`]).
    #[cfg(feature = "http2")]
    h2c: Option<Arc<super::Http2Config>>,
    /// The last request that offered h2c.
    #[cfg(feature = "http2")]
    offer: Option<Box<h2c::Offer>>,
    /// Whether acknowledgements are wanted for HTTP/2's timing.
    #[cfg(feature = "http2")]
    acks: h2c::Acks,
    /// Stream offsets after the bytes (and gaps) seen, client's and
    /// server's: where HTTP/2 starts after an upgrade.
    #[cfg(feature = "http2")]
    offsets: [u64; 2],
}

impl Default for HttpParser {
    fn default() -> Self {
        HttpParser::new(HttpConfig::default())
    }
}

impl HttpParser {
    /// A parser with these options.
    pub fn new(cfg: HttpConfig) -> Self {
        HttpParser {
            cfg: Arc::new(cfg),
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
            events: Anomalies::default(),
            seen_100: false,
            #[cfg(feature = "http2")]
            h2c: None,
            #[cfg(feature = "http2")]
            offer: None,
            #[cfg(feature = "http2")]
            acks: h2c::Acks::Off,
            #[cfg(feature = "http2")]
            offsets: [0, 0],
        }
    }

    /// Follows an accepted `Upgrade: h2c` (RFC 7540 §3.2) with an HTTP/2
    /// parser of these options ([`Http2Parser::upgraded`](super::http2::Http2Parser::upgraded)):
    /// the flow's `app_proto` becomes `http2` (`app_proto_orig` `http`),
    /// its streams [`L7Message::Http2`] messages. Without it, parsing stops
    /// at any `101`. With `timed_by_acks`, HTTP/2 reads as
    /// [`Http2Parser::timed_by_acks`](super::http2::Http2Parser::timed_by_acks)
    /// does when the flow's first request made the offer (the parser
    /// wants acknowledgements until that request's answer).
    #[cfg(feature = "http2")]
    pub fn with_h2c(mut self, cfg: super::Http2Config, timed_by_acks: bool) -> Self {
        // Shared by every flow's copy of the registered parser.
        self.h2c = Some(Arc::new(cfg));
        self.acks = if timed_by_acks {
            h2c::Acks::Pending
        } else {
            h2c::Acks::Off
        };
        self
    }

    /// A request head was read: keeps its h2c offer, if it makes one and
    /// upgrades are followed.
    fn note_upgrade_offer(
        &mut self,
        tx_id: u64,
        line: (&[u8], &[u8]),
        headers: &[httparse::Header<'_>],
    ) {
        #[cfg(feature = "http2")]
        if self.h2c.is_some() {
            let max = self.cfg.max_headers.saturating_add(2);
            let offer = h2c::Offer::of_request(tx_id, line, headers, max);
            if self.acks == h2c::Acks::Pending {
                self.acks = if offer.is_some() {
                    h2c::Acks::Offered
                } else {
                    h2c::Acks::Off
                };
            }
            if let Some(o) = offer {
                self.offer = Some(Box::new(o));
            }
        }
        let _ = (tx_id, line, headers);
    }

    /// A final response other than `101` answered transaction `tx_id`:
    /// an offer of h2c that request (or an earlier one) made was declined.
    fn upgrade_declined(&mut self, tx_id: u64) {
        #[cfg(feature = "http2")]
        if self.offer.as_ref().is_some_and(|o| o.tx_id <= tx_id) {
            self.offer = None;
            if self.acks == h2c::Acks::Offered {
                self.acks = h2c::Acks::Off;
            }
        }
        let _ = tx_id;
    }

    /// A `101 Switching Protocols` answered transaction `tx_id`, its head
    /// ending `after` bytes before the end of the server's bytes fed so
    /// far: HTTP/2 reads on from there when it accepts the h2c that request
    /// offered (both directions become [`Dir::Tunnel`]); else parsing
    /// stops.
    fn switch_protocols(&mut self, tx_id: u64, upgrade: Option<&[u8]>, after: usize) -> Dir {
        #[cfg(feature = "http2")]
        {
            let offer = self.offer.take().filter(|o| o.tx_id == tx_id);
            let offered = self.acks == h2c::Acks::Offered;
            self.acks = h2c::Acks::Off;
            if let Some(cfg) = &self.h2c
                && upgrade.is_some_and(h2c::names_h2c)
                && let Some(offer) = offer
            {
                let timed = offered.then(|| {
                    let [client, server] = self.offsets;
                    [client, server.saturating_sub(after as u64)]
                });
                if offered {
                    self.acks = h2c::Acks::Live;
                }
                self.inner = Some(Inner::Http2(Box::new(offer.accept(cfg, timed))));
                return Dir::Tunnel;
            }
        }
        let _ = (tx_id, upgrade, after);
        Dir::Stopped
    }

    /// `n` bytes (or a gap of `n`) of the client's (`request`) or the
    /// server's stream were seen.
    fn count(&mut self, request: bool, n: u64) {
        #[cfg(feature = "http2")]
        {
            let k = usize::from(!request);
            self.offsets[k] = self.offsets[k].saturating_add(n);
        }
        let _ = (request, n);
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
            let (http, tls) = (probe(seen), tls_probe(seen));
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
                *inner = Inner::tls(held, out);
            } else if (http == Probe::NeedMore || tls == Probe::NeedMore) && seen.len() < 64 {
                return false;
            } else {
                *inner = Inner::Opaque;
            }
        }
        if let Some(inner) = &mut self.inner {
            inner.feed(request, b, out);
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
                if let Some(inner) = &mut self.inner {
                    inner.gap(request, len, out);
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

impl SessionParser for HttpParser {
    type Message = L7Message;

    fn next_event(&mut self) -> Option<AppEvent> {
        let own = self.events.next();
        #[cfg(feature = "http2")]
        if own.is_none()
            && let Some(Inner::Http2(p)) = &mut self.inner
        {
            return p.next_event();
        }
        own
    }

    /// HTTP transactions, HTTP/2 streams after an h2c upgrade among them
    /// (not the TLS handshakes of a CONNECT tunnel).
    fn is_transaction(msg: &L7Message) -> bool {
        #[cfg(feature = "http2")]
        if matches!(msg, L7Message::Http2(_)) {
            return true;
        }
        matches!(msg, L7Message::Http(_))
    }

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.count(true, bytes.len() as u64);
        self.feed(true, bytes, &mut out);
        out
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.count(false, bytes.len() as u64);
        self.feed(false, bytes, &mut out);
        out
    }

    /// After an accepted h2c upgrade: to the HTTP/2 parser.
    fn acked_initiator(&mut self, offset: u64) -> Vec<L7Message> {
        #[cfg(feature = "http2")]
        if let Some(Inner::Http2(p)) = &mut self.inner {
            return p.acked_initiator(offset);
        }
        let _ = offset;
        Vec::new()
    }

    fn acked_responder(&mut self, offset: u64) -> Vec<L7Message> {
        #[cfg(feature = "http2")]
        if let Some(Inner::Http2(p)) = &mut self.inner {
            return p.acked_responder(offset);
        }
        let _ = offset;
        Vec::new()
    }

    /// While the first request may offer h2c (or its offer awaits an
    /// answer), then as long as the HTTP/2 parser after an accepted one
    /// wants them; only with [`HttpParser::with_h2c`]'s timing.
    fn wants_acks(&self) -> bool {
        #[cfg(feature = "http2")]
        return match (self.acks, &self.inner) {
            (h2c::Acks::Pending | h2c::Acks::Offered, _) => true,
            (h2c::Acks::Live, Some(Inner::Http2(p))) => p.wants_acks(),
            _ => false,
        };
        #[cfg(not(feature = "http2"))]
        false
    }

    fn eof_responder(&mut self) -> Vec<L7Message> {
        let mut out = Vec::new();
        if self.resp.dir == Dir::Body(BodyKind::UntilClose) {
            self.resp.dir = Dir::Head;
            self.complete(&mut out);
        }
        out
    }

    fn gap_initiator(&mut self, len: u64) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.count(true, len);
        self.gap(true, len, &mut out);
        out
    }

    fn gap_responder(&mut self, len: u64) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.count(false, len);
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
        if let Some(inner) = &mut self.inner {
            inner.flow_end(&mut out);
        }
        out
    }

    /// After an accepted CONNECT, what the tunnel carries: `tls`, or
    /// `failed` for content that is neither TLS nor HTTP (HTTP through the
    /// tunnel is still `http`); after an upgrade to h2c, `http2`.
    fn app_proto(&self) -> Option<crate::AppProto> {
        match self.inner {
            #[cfg(feature = "tls")]
            Some(Inner::Tls(_)) => Some("tls".into()),
            #[cfg(feature = "http2")]
            Some(Inner::Http2(_)) => Some("http2".into()),
            Some(Inner::Opaque) => Some("failed".into()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
