//! The three parsers both crates run, written once: their logic lives in
//! inherent methods, and `impl_parsers!` implements one crate's
//! `SessionParser` / `DatagramParser` traits on them (invoked once with
//! `flowscope`, the 0.3.0 oracle, and once with `flowscope_engine`).
//!
//! - [`LineParser`]: newline-terminated lines (the 0.3 doc example's
//!   shape); `fin_*` flushes an unterminated last line as `partial:…`, so a
//!   flush at an idle or end-of-input close shows; `rst_*` calls are
//!   counted per flow (reported as `rst-seen:i/r` by a later feed or fin)
//!   and per run ([`rst_calls`]).
//! - [`FrameParser`]: 2-byte big-endian length + body frames (DNS over TCP);
//!   `fin_*` always emits `fin:<pending bytes>`, so a flow without payload
//!   still proves its parser was created and told of the close.
//! - [`HeaderParser`]: a datagram parser reading a DNS-like 12-byte header,
//!   or `short:<len>` (an empty payload shows as `short:0`).
//!
//! Messages are `String`s; the side comes from the event.

use std::sync::atomic::{AtomicU64, Ordering};

/// Which implementation a trait impl belongs to (index into [`RST_CALLS`]).
pub const ORACLE: usize = 0;
/// flowscope (flowscope-engine's session API).
pub const FLOWSCOPE: usize = 1;

/// `rst_*` calls per implementation and side (initiator, responder).
static RST_CALLS: [[AtomicU64; 2]; 2] = [
    [AtomicU64::new(0), AtomicU64::new(0)],
    [AtomicU64::new(0), AtomicU64::new(0)],
];

/// The `rst_initiator` / `rst_responder` calls one implementation's
/// parsers received so far.
pub fn rst_calls(imp: usize) -> [u64; 2] {
    [
        RST_CALLS[imp][0].load(Ordering::Relaxed),
        RST_CALLS[imp][1].load(Ordering::Relaxed),
    ]
}

/// FNV-1a, 32 bits: a short, stable fingerprint of a message's bytes.
fn fnv(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// A line as a message: its length, fingerprint and a printable prefix.
fn show(kind: &str, bytes: &[u8]) -> String {
    let prefix: String = bytes
        .iter()
        .take(24)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    format!("{kind}:{}:{:08x}:{prefix}", bytes.len(), fnv(bytes))
}

/// Per-flow record of `rst_*` calls, reported once by the next feed or fin.
#[derive(Debug, Default, Clone)]
struct RstSeen {
    calls: [u32; 2],
    reported: bool,
}

impl RstSeen {
    fn note(&mut self, imp: usize, dir: usize) {
        self.calls[dir] += 1;
        self.reported = false;
        RST_CALLS[imp][dir].fetch_add(1, Ordering::Relaxed);
    }

    fn report(&mut self, out: &mut Vec<String>) {
        if !self.reported && self.calls != [0, 0] {
            self.reported = true;
            out.push(format!("rst-seen:{}/{}", self.calls[0], self.calls[1]));
        }
    }
}

/// Newline-terminated lines per direction (0 = initiator, 1 = responder).
#[derive(Debug, Default, Clone)]
pub struct LineParser {
    buf: [Vec<u8>; 2],
    rst: RstSeen,
}

impl LineParser {
    fn feed(&mut self, dir: usize, bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        self.rst.report(&mut out);
        let buf = &mut self.buf[dir];
        buf.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(nl) = buf[start..].iter().position(|&b| b == b'\n') {
            out.push(show("line", &buf[start..start + nl]));
            start += nl + 1;
        }
        buf.drain(..start);
        out
    }

    fn fin(&mut self, dir: usize) -> Vec<String> {
        let mut out = Vec::new();
        self.rst.report(&mut out);
        if !self.buf[dir].is_empty() {
            out.push(show("partial", &self.buf[dir]));
            self.buf[dir].clear();
        }
        out
    }
}

/// 2-byte big-endian length-prefixed frames per direction.
#[derive(Debug, Default, Clone)]
pub struct FrameParser {
    buf: [Vec<u8>; 2],
    rst: RstSeen,
}

impl FrameParser {
    fn feed(&mut self, dir: usize, bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        self.rst.report(&mut out);
        let buf = &mut self.buf[dir];
        buf.extend_from_slice(bytes);
        let mut start = 0;
        while buf.len() - start >= 2 {
            let len = usize::from(u16::from_be_bytes([buf[start], buf[start + 1]]));
            if buf.len() - start - 2 < len {
                break;
            }
            let body = &buf[start + 2..start + 2 + len];
            out.push(format!("frame:{len}:{:08x}", fnv(body)));
            start += 2 + len;
        }
        buf.drain(..start);
        out
    }

    fn fin(&mut self, dir: usize) -> Vec<String> {
        let mut out = Vec::new();
        self.rst.report(&mut out);
        out.push(format!("fin:{}", self.buf[dir].len()));
        self.buf[dir].clear();
        out
    }
}

/// A DNS-like 12-byte header per datagram.
#[derive(Debug, Default, Clone)]
pub struct HeaderParser;

impl HeaderParser {
    fn parse_one(&mut self, payload: &[u8]) -> Vec<String> {
        let Some(h) = payload.first_chunk::<12>() else {
            return vec![format!("short:{}", payload.len())];
        };
        let w = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        vec![format!(
            "hdr:id={:04x},flags={:04x},qd={},an={},ns={},ar={},len={}",
            w(0),
            w(2),
            w(4),
            w(6),
            w(8),
            w(10),
            payload.len()
        )]
    }
}

/// Implements crate `$k`'s parser traits on the parsers above; `$imp`
/// names the implementation in the `rst_*` counters.
macro_rules! impl_parsers {
    ($k:ident, $imp:expr) => {
        impl_parsers!(@stream $k, $imp, LineParser);
        impl_parsers!(@stream $k, $imp, FrameParser);

        impl $k::DatagramParser for HeaderParser {
            type Message = String;
            fn parse(&mut self, payload: &[u8], _side: $k::FlowSide) -> Vec<String> {
                self.parse_one(payload)
            }
        }
    };
    (@stream $k:ident, $imp:expr, $p:ident) => {
        impl $k::SessionParser for $p {
            type Message = String;
            fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<String> {
                self.feed(0, bytes)
            }
            fn feed_responder(&mut self, bytes: &[u8]) -> Vec<String> {
                self.feed(1, bytes)
            }
            fn fin_initiator(&mut self) -> Vec<String> {
                self.fin(0)
            }
            fn fin_responder(&mut self) -> Vec<String> {
                self.fin(1)
            }
            fn rst_initiator(&mut self) {
                self.rst.note($imp, 0);
            }
            fn rst_responder(&mut self) {
                self.rst.note($imp, 1);
            }
        }
    };
}

impl_parsers!(flowscope, ORACLE);
impl_parsers!(flowscope_engine, FLOWSCOPE);

#[test]
fn parsers_frame_lines_and_headers() {
    let mut l = LineParser::default();
    assert_eq!(l.feed(0, b"ab\nc").len(), 1);
    assert!(l.fin(0)[0].starts_with("partial:1:"));
    let mut f = FrameParser::default();
    assert_eq!(f.feed(1, &[0, 1, 7, 0]).len(), 1);
    assert_eq!(f.fin(1), ["fin:1"]);
    assert_eq!(f.fin(0), ["fin:0"]);
    assert_eq!(HeaderParser.parse_one(b""), ["short:0"]);
}
