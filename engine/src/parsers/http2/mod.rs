//! Cleartext HTTP/2 (h2c, RFC 9113) ([`Http2Parser`]): the client
//! preface, then frames on both sides — SETTINGS, HEADERS with
//! CONTINUATION and PUSH_PROMISE (header blocks decoded with HPACK, module
//! `hpack`, one dynamic table per direction), DATA (lengths only, nothing
//! stored), RST_STREAM, GOAWAY, PRIORITY, WINDOW_UPDATE and PING — kept
//! per stream. Messages follow Suricata 7's transactions: one
//! [`Http2Stream`] per stream (request and response sides), reported once
//! the stream is closed (END_STREAM both ways, or RST_STREAM) at the end of
//! the bytes that closed it, or at flow end; and one per connection-level
//! frame (stream 0), numbered alike, reported when it carries something
//! (settings, a GOAWAY error code). Each whole frame is handled in module
//! `frames`. Every buffer and count is capped
//! ([`Http2Config`]); caps hit and malformed frames are anomalies with
//! Suricata's HTTP/2 event names where it has one. [`probe`]: the client
//! preface. Reading can follow acknowledgements as Suricata's does
//! ([`Http2Parser::timed_by_acks`], module `session`), so transactions
//! get its numbers. HTTP/1.1 `Upgrade: h2c` flows are read by the HTTP/1 parser,
//! which hands the connection to this one after its `101`
//! ([`Http2Parser::upgraded`]).

mod frames;
pub mod hpack;
pub mod huffman;
mod session;

use super::Http2Config;
use super::L7Message;
use crate::parsers::anomalies::Anomalies;
use crate::session::Probe;
pub use frames::{error_name, setting_name};
pub use hpack::HeaderField;

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Bytes of the preface the probe needs to say yes.
const PROBE_BYTES: usize = 16;
/// Anomalies kept per flow before the driver's own cap (the parser stops
/// queueing more).
const MAX_QUEUED_EVENTS: usize = 32;
/// Frame header length.
const HEAD: usize = 9;

/// Frame types (RFC 9113 §6).
mod ftype {
    pub const DATA: u8 = 0;
    pub const HEADERS: u8 = 1;
    pub const PRIORITY: u8 = 2;
    pub const RST_STREAM: u8 = 3;
    pub const SETTINGS: u8 = 4;
    pub const PUSH_PROMISE: u8 = 5;
    pub const GOAWAY: u8 = 7;
    pub const WINDOW_UPDATE: u8 = 8;
    pub const CONTINUATION: u8 = 9;
}

/// Frame flags.
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY_FLAG: u8 = 0x20;

/// SETTINGS_HEADER_TABLE_SIZE.
const SETTINGS_HEADER_TABLE_SIZE: u16 = 1;
/// Highest setting identifier Suricata 7 names; it reads a SETTINGS frame
/// up to the first other one.
const LAST_KNOWN_SETTING: u16 = 6;

/// The content probe: the client preface at the start of the initiator's
/// stream (its first 16 bytes decide).
pub fn probe(bytes: &[u8], side: crate::FlowSide) -> Probe {
    if side != crate::FlowSide::Initiator {
        return Probe::No;
    }
    let n = bytes.len().min(PREFACE.len());
    if bytes[..n] != PREFACE[..n] {
        Probe::No
    } else if n < PROBE_BYTES {
        Probe::NeedMore
    } else {
        Probe::Certain
    }
}

/// One SETTINGS parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Identifier (1-6, RFC 9113 §6.5.2).
    pub id: u16,
    /// Value.
    pub value: u32,
}

/// An error code a side sent (RST_STREAM or GOAWAY).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    /// The code (RFC 9113 §7).
    pub code: u32,
    /// From a GOAWAY (else a RST_STREAM).
    pub goaway: bool,
}

/// What one side sent on a stream (or, stream 0, on the connection).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Http2Side {
    /// Header block representations, in order (HEADERS, CONTINUATION and,
    /// server side, PUSH_PROMISE).
    pub headers: Vec<HeaderField>,
    /// HEADERS / CONTINUATION / PUSH_PROMISE frames seen.
    pub header_frames: u32,
    /// SETTINGS parameters (stream 0 only).
    pub settings: Vec<Setting>,
    /// The first error code sent.
    pub error_code: Option<ErrorCode>,
    /// The first priority weight sent (PRIORITY, or HEADERS with one).
    pub priority: Option<u8>,
    /// Which of error code and priority was sent more than once first
    /// (Suricata's `has_multiple`).
    pub has_multiple: Option<&'static str>,
    /// DATA payload bytes (padding included).
    pub data_bytes: u64,
    /// END_STREAM seen.
    pub end_stream: bool,
    /// Header representations dropped by the header count cap.
    pub headers_dropped: bool,
}

impl Http2Side {
    fn error(&mut self, e: ErrorCode) {
        if self.error_code.is_none() {
            self.error_code = Some(e);
        } else if self.has_multiple.is_none() {
            self.has_multiple = Some("error_code");
        }
    }

    fn priority(&mut self, weight: u8) {
        if self.priority.is_none() {
            self.priority = Some(weight);
        } else if self.has_multiple.is_none() {
            self.has_multiple = Some("priority");
        }
    }

    /// Something Suricata logs: headers, settings, an error code or a
    /// priority.
    fn loggable(&self) -> bool {
        self.header_frames > 0
            || !self.settings.is_empty()
            || self.error_code.is_some()
            || self.priority.is_some()
    }
}

/// One transaction: a stream (request and response), or one frame of
/// stream 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Http2Stream {
    /// Its number within the flow, from 0 (Suricata's `tx_id`: streams and
    /// connection-level frames share the count).
    pub tx_id: u64,
    /// The stream (0: a connection-level frame).
    pub stream_id: u32,
    /// What the client sent.
    pub request: Http2Side,
    /// What the server sent.
    pub response: Http2Side,
    /// Closed (both END_STREAMs, or a RST_STREAM); else reported at flow
    /// end as it stood.
    pub closed: bool,
}

impl Http2Stream {
    fn side(&mut self, k: usize) -> &mut Http2Side {
        if k == 0 {
            &mut self.request
        } else {
            &mut self.response
        }
    }

    fn loggable(&self) -> bool {
        self.request.loggable() || self.response.loggable()
    }
}

/// Where one side's reading is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Stage {
    /// The client preface, this many bytes matched.
    Preface(u8),
    /// A frame header.
    #[default]
    Head,
    /// A frame payload being buffered, this long.
    Payload(u32),
    /// A frame payload skipped, this much left.
    Skip(u32),
    /// Nothing more (framing lost, or not HTTP/2).
    Done,
}

/// The frame being read.
#[derive(Debug, Clone, Copy, Default)]
struct Frame {
    len: u32,
    ftype: u8,
    flags: u8,
    stream: u32,
}

/// A header block waiting for its CONTINUATION frames.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// The stream whose side gets the fields.
    stream: u32,
    /// The block was cut by the size cap: its fields are lost.
    lost: bool,
}

/// One side's state.
#[derive(Debug, Clone, Default)]
struct Side {
    stage: Stage,
    head: [u8; HEAD],
    head_len: usize,
    frame: Frame,
    /// A payload being buffered.
    buf: Vec<u8>,
    /// The header block so far (HEADERS or PUSH_PROMISE plus
    /// CONTINUATIONs).
    block: Vec<u8>,
    pending: Option<Pending>,
}

/// The HTTP/2 session parser. Messages: [`L7Message::Http2`].
#[derive(Debug, Clone)]
pub struct Http2Parser {
    cfg: Http2Config,
    sides: [Side; 2],
    /// The dynamic tables that decode each side's header blocks.
    tables: [hpack::DynTable; 2],
    /// Open streams, oldest first.
    streams: Vec<Http2Stream>,
    /// Transactions completed by the bytes being fed.
    done: Vec<Http2Stream>,
    next_tx: u64,
    events: Anomalies<MAX_QUEUED_EVENTS>,
    /// Acknowledgement timing (module `session`), when on.
    acks: Option<Box<super::held::Held>>,
    /// Took over an HTTP/1.1 connection after an h2c upgrade.
    upgraded: bool,
}

impl Default for Http2Parser {
    fn default() -> Self {
        Http2Parser::new(Http2Config::default())
    }
}

impl Http2Parser {
    /// A parser with these options, for a flow that starts with the
    /// client preface.
    pub fn new(cfg: Http2Config) -> Self {
        let cap = cfg.max_table_size;
        Http2Parser {
            cfg,
            sides: [
                Side {
                    stage: Stage::Preface(0),
                    ..Side::default()
                },
                Side::default(),
            ],
            tables: [hpack::DynTable::new(cap), hpack::DynTable::new(cap)],
            streams: Vec::new(),
            done: Vec::new(),
            next_tx: 0,
            events: Anomalies::default(),
            acks: None,
            upgraded: false,
        }
    }

    /// A parser for an HTTP/1.1 connection upgraded to h2c after its
    /// `101 Switching Protocols` (RFC 7540 §3.2): the client still sends
    /// the preface; the upgrade request is stream 1, whose response the
    /// server sends as HTTP/2. As in Suricata, the transactions are
    /// numbered from 0 again: stream 1 first, its request side holding
    /// `request` (the HTTP/1 request as header fields: `:method`, `:path`,
    /// then its headers, `Host` as `:authority`), then the request's
    /// `HTTP2-Settings` header (`settings`, base64url) decoded as a client
    /// SETTINGS transaction (an undecodable one is the
    /// `invalid_http1_settings` anomaly).
    pub fn upgraded(cfg: Http2Config, request: Vec<HeaderField>, settings: Option<&[u8]>) -> Self {
        let mut p = Http2Parser::new(cfg);
        p.upgraded = true;
        p.streams.push(Http2Stream {
            tx_id: 0,
            stream_id: 1,
            request: Http2Side {
                headers: request,
                header_frames: 1,
                end_stream: true,
                ..Http2Side::default()
            },
            ..Http2Stream::default()
        });
        p.next_tx = 1;
        if let Some(v) = settings {
            match base64url(v) {
                Some(payload) if payload.len().is_multiple_of(6) => {
                    p.settings(0, &payload);
                }
                Some(payload) => {
                    p.event("invalid_http1_settings", None);
                    p.settings(0, &payload);
                }
                None => p.event("invalid_http1_settings", None),
            }
        }
        p
    }

    fn event(&mut self, name: &'static str, tx_id: Option<u64>) {
        self.events.push("http2", name, tx_id);
    }

    /// Side `k` stops reading.
    fn stop(&mut self, k: usize) {
        let s = &mut self.sides[k];
        s.stage = Stage::Done;
        s.buf = Vec::new();
        s.block = Vec::new();
        s.pending = None;
    }

    /// Reads `bytes` of side `k` (0 the client); the transactions they
    /// complete go to `out`, by number.
    fn feed(&mut self, k: usize, mut bytes: &[u8], out: &mut Vec<L7Message>) {
        while !bytes.is_empty() {
            let used = match self.sides[k].stage {
                Stage::Done => break,
                Stage::Preface(n) => self.preface_bytes(k, n, bytes),
                Stage::Head => self.head_bytes(k, bytes),
                Stage::Payload(len) => {
                    let s = &mut self.sides[k];
                    let take = bytes.len().min(len as usize - s.buf.len());
                    s.buf.extend_from_slice(&bytes[..take]);
                    if s.buf.len() == len as usize {
                        let payload = std::mem::take(&mut self.sides[k].buf);
                        self.sides[k].stage = Stage::Head;
                        self.frame(k, &payload);
                        let mut payload = payload;
                        payload.clear();
                        if self.sides[k].stage != Stage::Done {
                            self.sides[k].buf = payload;
                        }
                    }
                    take
                }
                Stage::Skip(left) => {
                    let n = bytes.len().min(left as usize);
                    // n ≤ left, a u32.
                    let left = left - n as u32;
                    self.sides[k].stage = if left == 0 {
                        Stage::Head
                    } else {
                        Stage::Skip(left)
                    };
                    n
                }
            };
            bytes = &bytes[used..];
        }
        self.flush(out);
    }

    /// Reports the transactions completed, by number.
    fn flush(&mut self, out: &mut Vec<L7Message>) {
        let mut i = 0;
        while i < self.streams.len() {
            if self.streams[i].closed {
                self.done.push(self.streams.remove(i));
            } else {
                i += 1;
            }
        }
        if self.done.is_empty() {
            return;
        }
        self.done.sort_by_key(|t| t.tx_id);
        for t in self.done.drain(..) {
            if t.loggable() {
                out.push(L7Message::Http2(Box::new(t)));
            }
        }
    }

    fn preface_bytes(&mut self, k: usize, n: u8, bytes: &[u8]) -> usize {
        let n = usize::from(n);
        let take = bytes.len().min(PREFACE.len() - n);
        if bytes[..take] != PREFACE[n..n + take] {
            self.event("invalid_client_magic", None);
            self.stop(k);
            return bytes.len();
        }
        let n = n + take;
        self.sides[k].stage = if n == PREFACE.len() {
            Stage::Head
        } else {
            // n < 24.
            Stage::Preface(n as u8)
        };
        take
    }

    fn head_bytes(&mut self, k: usize, bytes: &[u8]) -> usize {
        let s = &mut self.sides[k];
        let take = bytes.len().min(HEAD - s.head_len);
        s.head[s.head_len..s.head_len + take].copy_from_slice(&bytes[..take]);
        s.head_len += take;
        if s.head_len < HEAD {
            return take;
        }
        s.head_len = 0;
        let h = s.head;
        let f = Frame {
            len: u32::from_be_bytes([0, h[0], h[1], h[2]]),
            ftype: h[3],
            flags: h[4],
            stream: u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff,
        };
        s.frame = f;
        self.frame_head(k, f);
        take
    }

    /// A frame header was read: decides whether its payload is buffered
    /// or skipped, and handles what needs no payload.
    fn frame_head(&mut self, k: usize, f: Frame) {
        // A header block must go on with its CONTINUATIONs (§6.10).
        if self.sides[k].pending.is_some() && f.ftype != ftype::CONTINUATION {
            self.event("invalid_frame_data", None);
            self.sides[k].pending = None;
            self.sides[k].block.clear();
        }
        let buffered = matches!(
            f.ftype,
            ftype::HEADERS
                | ftype::PRIORITY
                | ftype::RST_STREAM
                | ftype::SETTINGS
                | ftype::PUSH_PROMISE
                | ftype::GOAWAY
                | ftype::CONTINUATION
        );
        if f.ftype == ftype::DATA {
            self.data_frame(k, f);
        } else if !buffered {
            // PING, WINDOW_UPDATE and unknown types: numbered, not read.
            if f.stream == 0 {
                self.global(k);
            } else {
                self.stream(f.stream, f.ftype);
            }
        }
        let s = &mut self.sides[k];
        s.stage = if f.len == 0 {
            Stage::Head
        } else if buffered && f.len as usize <= self.cfg.max_frame_bytes {
            s.buf.reserve(f.len as usize);
            Stage::Payload(f.len)
        } else {
            Stage::Skip(f.len)
        };
        if buffered && f.len as usize > self.cfg.max_frame_bytes {
            self.event("long_frame_data", None);
            if matches!(
                f.ftype,
                ftype::HEADERS | ftype::PUSH_PROMISE | ftype::CONTINUATION
            ) {
                // The header block is lost, and with it the dynamic
                // table's state: this side's later blocks would decode
                // wrong, so they are not read.
                self.stop(k);
                return;
            }
        }
        if f.len == 0 && buffered {
            self.frame(k, &[]);
        }
    }

    fn data_frame(&mut self, k: usize, f: Frame) {
        if f.stream == 0 {
            self.event("invalid_frame_header", None);
            self.global(k);
            return;
        }
        let i = self.stream(f.stream, f.ftype);
        let t = &mut self.streams[i];
        let side = t.side(k);
        side.data_bytes = side.data_bytes.saturating_add(u64::from(f.len));
        if f.flags & END_STREAM != 0 {
            side.end_stream = true;
            self.close_if_done(i);
        }
    }

    /// A connection-level frame: a transaction of its own.
    fn global(&mut self, k: usize) -> &mut Http2Side {
        let t = Http2Stream {
            tx_id: self.next_tx,
            closed: true,
            ..Http2Stream::default()
        };
        self.next_tx += 1;
        self.done.push(t);
        // Just pushed.
        let t = self.done.last_mut().expect("pushed");
        t.side(k)
    }

    /// The open stream `id` (created, with the next number, when new;
    /// a stream closed by the bytes being fed is still found), as an index
    /// into `streams`.
    fn stream(&mut self, id: u32, ftype: u8) -> usize {
        if let Some(i) = self.streams.iter().position(|t| t.stream_id == id) {
            let t = &self.streams[i];
            if t.closed
                && !matches!(
                    ftype,
                    ftype::RST_STREAM | ftype::WINDOW_UPDATE | ftype::PRIORITY
                )
            {
                let tx = t.tx_id;
                self.event("stream_id_reuse", Some(tx));
            }
            return i;
        }
        if self.streams.len() >= self.cfg.max_streams {
            // The oldest goes out as it stands.
            let old = self.streams.remove(0);
            self.event("too_many_streams", Some(old.tx_id));
            self.done.push(old);
        }
        self.streams.push(Http2Stream {
            tx_id: self.next_tx,
            stream_id: id,
            ..Http2Stream::default()
        });
        self.next_tx += 1;
        self.streams.len() - 1
    }

    fn close_if_done(&mut self, i: usize) {
        let t = &mut self.streams[i];
        if t.request.end_stream && t.response.end_stream {
            t.closed = true;
        }
    }

    /// Reports every open stream that has something to log.
    fn finish(&mut self, out: &mut Vec<L7Message>) {
        self.done.append(&mut self.streams);
        self.flush(out);
    }
}

/// Base64url (RFC 4648 §5) as `HTTP2-Settings` carries it, padded or not;
/// the standard alphabet is read too.
fn base64url(v: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::alphabet::{STANDARD, URL_SAFE};
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let cfg = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let v = v.trim_ascii();
    GeneralPurpose::new(&URL_SAFE, cfg)
        .decode(v)
        .or_else(|_| GeneralPurpose::new(&STANDARD, cfg).decode(v))
        .ok()
}

#[cfg(test)]
mod tests;
