//! Shared by the engine-level targets (defrag, reassembly): reads fields
//! off a fuzz input, zeros once it runs out, and writes the IPv4, IPv6,
//! IPv6 fragment and TCP headers that wrap the fragments and segments the
//! input describes.

#![allow(dead_code, reason = "each target uses the builders it needs")]

use flowscope_engine::unstable::internet_checksum;
use flowscope_engine::{Engine, EventBuf, FlowExtractor, FlowHook, LinkType, RawPacket, Timestamp};

/// Feeds one raw-IP frame to `engine` as packet `seq` — `kept` of its
/// bytes captured, the timers fired after it when `advance` — and drops
/// the events.
pub fn feed<E: FlowExtractor, H: FlowHook<E::Key>>(
    engine: &mut Engine<E, H>,
    events: &mut EventBuf<E::Key, H::Message>,
    (seq, ts): (u64, Timestamp),
    frame: &[u8],
    kept: usize,
    advance: bool,
) {
    let raw = RawPacket {
        ts,
        linktype: LinkType::RAW,
        wire_len: frame.len() as u32,
        iface: 0,
        data: &frame[..kept.min(frame.len())],
    };
    engine.process(seq, ts, &raw, events);
    if advance {
        engine.advance(ts, seq, events);
    }
    events.clear();
}

/// A fuzz input read field by field.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// Up to `n` bytes (fewer at the end of the input).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }
}

/// The two IPv4 hosts of the built packets (a third, for a second source,
/// in `HOSTS4[2]`).
pub const HOSTS4: [[u8; 4]; 3] = [[10, 0, 0, 1], [10, 0, 0, 2], [10, 0, 0, 3]];
/// The IPv6 hosts.
pub const HOSTS6: [[u8; 16]; 3] = [
    [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
    [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3],
];

/// IP protocol numbers the targets use.
pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const ICMP: u8 = 1;
pub const IPV6_FRAGMENT: u8 = 44;

/// Appends an IPv4 header (no options, checksum filled) for a payload of
/// `payload_len` bytes; `frag` is the flags-and-offset word.
pub fn ipv4(
    out: &mut Vec<u8>,
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    ident: u16,
    frag: u16,
    payload_len: usize,
) {
    let total = u16::try_from(20 + payload_len).unwrap_or(u16::MAX);
    let at = out.len();
    out.extend_from_slice(&[0x45, 0]);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&ident.to_be_bytes());
    out.extend_from_slice(&frag.to_be_bytes());
    out.extend_from_slice(&[64, proto, 0, 0]);
    out.extend_from_slice(&src);
    out.extend_from_slice(&dst);
    let sum = internet_checksum(&out[at..at + 20]);
    out[at + 10..at + 12].copy_from_slice(&sum.to_be_bytes());
}

/// Appends an IPv6 header for `payload_len` bytes after it (extension
/// headers included).
pub fn ipv6(out: &mut Vec<u8>, src: [u8; 16], dst: [u8; 16], next: u8, payload_len: usize) {
    let len = u16::try_from(payload_len).unwrap_or(u16::MAX);
    out.extend_from_slice(&[0x60, 0, 0, 0]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&[next, 64]);
    out.extend_from_slice(&src);
    out.extend_from_slice(&dst);
}

/// Appends an IPv6 fragment header: `offset` in 8-byte units (13 bits).
pub fn ipv6_fragment(out: &mut Vec<u8>, next: u8, offset: u16, more: bool, ident: u32) {
    let word = (offset << 3) | u16::from(more);
    out.extend_from_slice(&[next, 0]);
    out.extend_from_slice(&word.to_be_bytes());
    out.extend_from_slice(&ident.to_be_bytes());
}

/// Appends a 20-byte TCP header (checksum left 0: the engine does not
/// verify it).
pub fn tcp(out: &mut Vec<u8>, ports: (u16, u16), seq: u32, ack: u32, flags: u8, window: u16) {
    out.extend_from_slice(&ports.0.to_be_bytes());
    out.extend_from_slice(&ports.1.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&ack.to_be_bytes());
    out.extend_from_slice(&[5 << 4, flags]);
    out.extend_from_slice(&window.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
}
