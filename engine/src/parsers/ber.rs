//! The bounded BER reader SNMP and Kerberos share: the subset their
//! messages are written in (X.690 §8, as RFC 3417 and RFC 4120 §5 restrict
//! it): one-byte tags (a high tag number is refused), definite
//! lengths of up to four length bytes (long forms that are not the
//! shortest, which some agents send, are read too), INTEGERs of up to
//! eight content bytes, OBJECT IDENTIFIERs as dotted text. Every read is
//! bounded by its enclosing element; nothing here allocates but the OID
//! text it is asked to append. Values are checked to be well-formed to
//! [`MAX_DEPTH`] nested levels and not looked into deeper.

#![cfg_attr(not(feature = "snmp"), allow(dead_code))]

use super::reader::Reader;

/// Nested constructed levels of a variable's value that are checked; a
/// deeper one is taken as it stands (and reported by the caller).
pub const MAX_DEPTH: usize = 8;
/// Sub-identifiers of an OID written; the rest of a longer one is left
/// out (and reported by the caller). RFC 2578 §7.1.3 allows 128.
pub const MAX_OID_ARCS: usize = 128;
/// Content bytes of one sub-identifier that fit a 64-bit arc (9 × 7 bits,
/// as Suricata counts); an OID with a longer one is written as its bytes in
/// hex.
const MAX_ARC_BYTES: usize = 9;

/// `SEQUENCE` (constructed).
pub const SEQUENCE: u8 = 0x30;
/// `INTEGER`.
pub const INTEGER: u8 = 0x02;
/// `OCTET STRING`.
pub const OCTET_STRING: u8 = 0x04;
/// `OBJECT IDENTIFIER`.
pub const OID: u8 = 0x06;
/// `IpAddress` (`[APPLICATION 0] IMPLICIT OCTET STRING (SIZE (4))`).
pub const IP_ADDRESS: u8 = 0x40;
/// `TimeTicks` (`[APPLICATION 3] IMPLICIT INTEGER`).
pub const TIME_TICKS: u8 = 0x43;

/// One element: its tag byte and its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octet (class, constructed bit, tag number).
    pub tag: u8,
    /// The content octets.
    pub content: &'a [u8],
}

impl Tlv<'_> {
    /// Whether the constructed bit is set.
    pub fn constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }
}

/// The next element of `r`; `None` (nothing consumed that matters: the
/// caller gives up on the message) when the header or the content does not
/// fit what is left, or uses a form SNMP does not (a high tag number, an
/// indefinite length, more than four length bytes).
pub fn tlv<'a>(r: &mut Reader<'a>) -> Option<Tlv<'a>> {
    let tag = r.u8()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let first = r.u8()?;
    let len = match first {
        0..=0x7f => usize::from(first),
        0x81..=0x84 => r
            .take(usize::from(first & 0x7f))?
            .iter()
            .fold(0usize, |n, &b| (n << 8) | usize::from(b)),
        _ => return None,
    };
    let content = r.take(len)?;
    Some(Tlv { tag, content })
}

/// The next element of `r` if it has tag `tag`.
pub fn expect<'a>(r: &mut Reader<'a>, tag: u8) -> Option<&'a [u8]> {
    let t = tlv(r)?;
    (t.tag == tag).then_some(t.content)
}

/// An INTEGER's value (two's complement, one to eight content bytes).
pub fn int_value(c: &[u8]) -> Option<i64> {
    if c.is_empty() || c.len() > 8 {
        return None;
    }
    let init: i64 = if c[0] & 0x80 != 0 { -1 } else { 0 };
    Some(c.iter().fold(init, |n, &b| (n << 8) | i64::from(b)))
}

/// The next element of `r` as an INTEGER.
pub fn int(r: &mut Reader<'_>) -> Option<i64> {
    int_value(expect(r, INTEGER)?)
}

/// The next element of `r` as an INTEGER from 0 to `u32::MAX`.
pub fn uint32(r: &mut Reader<'_>) -> Option<u32> {
    u32::try_from(int(r)?).ok()
}

/// What checking a value found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// Well-formed to the depth checked.
    Ok,
    /// Well-formed to [`MAX_DEPTH`] levels, deeper ones not looked at.
    TooDeep,
}

/// Checks that the constructed contents of `t` (a variable's value) are
/// well-formed elements, [`MAX_DEPTH`] levels down at most; `None` when
/// they are not.
pub fn check_value(t: Tlv<'_>) -> Option<Value> {
    check_nested(t, 1)
}

fn check_nested(t: Tlv<'_>, depth: usize) -> Option<Value> {
    if !t.constructed() {
        return Some(Value::Ok);
    }
    if depth > MAX_DEPTH {
        return Some(Value::TooDeep);
    }
    let mut r = Reader::new(t.content);
    let mut found = Value::Ok;
    while r.left() > 0 {
        if check_nested(tlv(&mut r)?, depth + 1)? == Value::TooDeep {
            found = Value::TooDeep;
        }
    }
    Some(found)
}

/// What writing an OID found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidText {
    /// Written whole.
    Whole,
    /// More than [`MAX_OID_ARCS`] sub-identifiers: the first ones written.
    Cut,
    /// A sub-identifier past 64 bits: the bytes written in hex, as
    /// Suricata writes such an OID.
    Hex,
}

/// Appends OID content `c` to `out` as dotted decimal (`1.3.6.1.2.1`): the
/// first sub-identifier is the first two arcs (X.690 §8.19.4: 40·X + Y,
/// X at most 2), a sub-identifier the content ends inside is taken as it
/// stands, an empty OID is empty text. One with a sub-identifier of more
/// than nine bytes is written as Suricata writes it: each byte in hex,
/// space-separated.
pub fn push_oid(out: &mut String, c: &[u8]) -> OidText {
    let mut run = 0;
    for &b in c {
        run = if b & 0x80 != 0 { run + 1 } else { 0 };
        if run >= MAX_ARC_BYTES {
            push_hex(out, c);
            return OidText::Hex;
        }
    }
    let mut arcs = 0usize;
    let mut v: u64 = 0;
    for (i, &b) in c.iter().enumerate() {
        v = (v << 7) | u64::from(b & 0x7f);
        if b & 0x80 != 0 && i + 1 < c.len() {
            continue;
        }
        if arcs == 0 {
            let (x, y) = match v {
                0..=39 => (0, v),
                40..=79 => (1, v - 40),
                _ => (2, v - 80),
            };
            push_u64(out, x);
            out.push('.');
            push_u64(out, y);
            arcs = 2;
        } else {
            if arcs == MAX_OID_ARCS {
                return OidText::Cut;
            }
            out.push('.');
            push_u64(out, v);
            arcs += 1;
        }
        v = 0;
    }
    OidText::Whole
}

fn push_u64(out: &mut String, v: u64) {
    use std::fmt::Write as _;
    let _ = write!(out, "{v}");
}

fn push_hex(out: &mut String, c: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, &b) in c.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
}
