//! RDP's connection sequence on the wire, decoded as Suricata 7's RDP
//! parser does: TPKT framing (T.123), the X.224 Connection Request with
//! its `mstshash` cookie and `RDP_NEG_REQ`, the Connection Confirm with
//! `RDP_NEG_RSP` or `RDP_NEG_FAILURE`, X.224 Data carrying the MCS
//! Connect-Initial (the GCC Client Core and Network data blocks after the
//! `Duca` key) or the Connect-Response, and the TLS record layer's
//! Certificate message once the connection moved to TLS. A field that
//! does not hold a valid value makes its structure absent ([`Fail::Bad`]:
//! the next candidate is tried); one that runs past its structure's end
//! ([`Fail::Short`]) leaves the whole PDU unread, as Suricata's streaming
//! parsers wait for bytes that never come.

use super::{ClientCore, ConnectRequest, Negotiation};
use crate::parsers::reader::Reader;

/// Channel names kept from the Client Network Data.
pub const MAX_CHANNELS: usize = 64;
/// Certificates read per chain.
pub const MAX_CERTS: usize = 16;
/// Longest TLS record body (tls-parser's `MAX_RECORD_LEN`, 18 KiB).
const MAX_TLS_RECORD: usize = 18 * 1024;

/// Why a structure was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fail {
    /// A field held a value the structure does not allow.
    Bad,
    /// A field ran past the end.
    Short,
}

type R<T> = Result<T, Fail>;

/// Where a PDU's length is known: its whole length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Frame {
    /// The header is not whole yet.
    Need,
    /// Not a PDU of this layer.
    Bad,
    /// The PDU's length, header included.
    Len(usize),
}

/// What a whole TPKT holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tpkt {
    /// X.224 Connection Request: the cookie and `RDP_NEG_REQ`'s flags.
    Request(Option<Box<str>>, Option<u8>),
    /// X.224 Connection Confirm.
    Confirm(Option<Negotiation>),
    /// MCS Connect-Initial, and the channels past [`MAX_CHANNELS`].
    Connect(Box<ConnectRequest>, usize),
    /// MCS Connect-Response.
    ConnectResponse,
    /// Anything else (read past).
    Other,
}

fn u8_(r: &mut Reader<'_>) -> R<u8> {
    r.u8().ok_or(Fail::Short)
}

fn le16(r: &mut Reader<'_>) -> R<u16> {
    r.u16_le().ok_or(Fail::Short)
}

fn le32(r: &mut Reader<'_>) -> R<u32> {
    r.u32_le().ok_or(Fail::Short)
}

fn take<'a>(r: &mut Reader<'a>, n: usize) -> R<&'a [u8]> {
    r.take(n).ok_or(Fail::Short)
}

fn check(ok: bool) -> R<()> {
    if ok { Ok(()) } else { Err(Fail::Bad) }
}

/// A literal: `Short` while what is there matches its start.
fn tag(r: &mut Reader<'_>, t: &[u8]) -> R<()> {
    let have = r.left().min(t.len());
    let head = r.clone().take(have).unwrap_or_default();
    check(t.starts_with(head))?;
    take(r, t.len()).map(|_| ())
}

/// A TPKT header at the start of `b`.
pub(super) fn tpkt_frame(b: &[u8]) -> Frame {
    let mut r = Reader::new(b);
    match (r.u8(), r.u8(), r.u16()) {
        (Some(3), Some(_), Some(len)) if len >= 4 => Frame::Len(usize::from(len)),
        (Some(3), _, Some(_)) => Frame::Bad,
        (Some(3), ..) => Frame::Need,
        (None, ..) => Frame::Need,
        _ => Frame::Bad,
    }
}

/// A TLS record header at the start of `b`.
pub(super) fn tls_frame(b: &[u8]) -> Frame {
    let Some(head) = b.get(..5) else {
        return Frame::Need;
    };
    let len = usize::from(u16::from_be_bytes([head[3], head[4]]));
    if len > MAX_TLS_RECORD {
        Frame::Bad
    } else {
        Frame::Len(5 + len)
    }
}

/// A whole TPKT: what it holds, or `Err(Short)` when a structure inside
/// runs past its end (Suricata then never reads past this PDU).
pub(super) fn tpkt(pdu: &[u8]) -> R<Tpkt> {
    let data = pdu.get(4..).unwrap_or_default();
    match connection_request(data) {
        Err(Fail::Bad) => {}
        other => return other,
    }
    match connection_confirm(data) {
        Err(Fail::Bad) => {}
        other => return other,
    }
    match data_tpdu(data) {
        Err(Fail::Bad) => Ok(Tpkt::Other),
        other => other,
    }
}

/// The X.224 CR/CC fixed part: the variable part's bytes and whether the
/// TPDU is class 0 without options (checked once the rest is read).
fn x224_head<'a>(r: &mut Reader<'a>, code: u8) -> R<(&'a [u8], bool)> {
    let li = u8_(r)?;
    check(li != 0xff)?;
    let t = u8_(r)?;
    check(t >> 4 == code && t & 0xf <= 1)?;
    check(r.u16().ok_or(Fail::Short)? == 0)?; // DST-REF
    r.u16().ok_or(Fail::Short)?; // SRC-REF
    let co = u8_(r)?;
    check(co >> 4 <= 4 && co & 0xf <= 3)?;
    check(li >= 6)?;
    let sz = usize::from(li - 6);
    let rest = if sz > 0 { take(r, sz)? } else { &[] };
    Ok((rest, co == 0))
}

fn connection_request(d: &[u8]) -> R<Tpkt> {
    let (data, class0) = x224_head(&mut Reader::new(d), 0xe)?;
    let mut rest = data;
    let mut cookie = None;
    if !data.is_empty() {
        match mstshash(data) {
            Ok((c, after)) => {
                cookie = Some(c);
                rest = after;
            }
            Err(Fail::Bad) => {}
            Err(e) => return Err(e),
        }
    } else {
        rest = &[];
    }
    let mut flags = None;
    if !rest.is_empty() {
        let mut r = Reader::new(rest);
        match neg_request(&mut r) {
            Ok(f) => flags = Some(f),
            Err(Fail::Bad) => {}
            Err(e) => return Err(e),
        }
    }
    check(class0)?;
    Ok(Tpkt::Request(cookie, flags))
}

/// `Cookie: mstshash=NAME\r\n`: the name and what follows.
fn mstshash(d: &[u8]) -> R<(Box<str>, &[u8])> {
    let mut r = Reader::new(d);
    tag(&mut r, b"Cookie: ")?;
    tag(&mut r, b"mstshash=")?;
    let at = r.pos();
    let rest = d.get(at..).unwrap_or_default();
    let end = rest
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or(Fail::Short)?;
    let name = rest.get(..end).unwrap_or_default();
    let name = std::str::from_utf8(name).map_err(|_| Fail::Bad)?;
    Ok((name.into(), rest.get(end + 2..).unwrap_or_default()))
}

/// `RDP_NEG_REQ`: its flags (known ones only, known protocols only).
fn neg_request(r: &mut Reader<'_>) -> R<u8> {
    check(u8_(r)? == 1)?;
    let flags = u8_(r)?;
    check(flags & !0x0b == 0)?;
    check(le16(r)? == 8)?;
    check(le32(r)? & !0xf == 0)?;
    Ok(flags)
}

fn connection_confirm(d: &[u8]) -> R<Tpkt> {
    let (data, class0) = x224_head(&mut Reader::new(d), 0xd)?;
    if data.is_empty() {
        check(class0)?;
        return Ok(Tpkt::Confirm(None));
    }
    let rsp = |r: &mut Reader<'_>| -> R<Negotiation> {
        check(u8_(r)? == 2)?;
        let flags = u8_(r)?;
        check(flags & !0x1f == 0)?;
        check(le16(r)? == 8)?;
        let protocol = le32(r)?;
        check(matches!(protocol, 0 | 1 | 2 | 4 | 8))?;
        Ok(Negotiation::Response { flags, protocol })
    };
    let failure = |r: &mut Reader<'_>| -> R<Negotiation> {
        check(u8_(r)? == 3)?;
        u8_(r)?;
        check(le16(r)? == 8)?;
        let code = le32(r)?;
        check((1..=6).contains(&code))?;
        Ok(Negotiation::Failure { code })
    };
    let neg = match rsp(&mut Reader::new(data)) {
        Ok(n) => Some(n),
        Err(Fail::Short) => return Err(Fail::Short),
        Err(Fail::Bad) => match failure(&mut Reader::new(data)) {
            Ok(n) => Some(n),
            Err(Fail::Short) => return Err(Fail::Short),
            Err(Fail::Bad) => None,
        },
    };
    check(class0)?;
    Ok(Tpkt::Confirm(neg))
}

/// X.224 Data (class 0, end of TSDU): an MCS Connect-Initial or
/// Connect-Response, or something else.
fn data_tpdu(d: &[u8]) -> R<Tpkt> {
    let mut r = Reader::new(d);
    check(u8_(&mut r)? == 2)?;
    check(u8_(&mut r)? == 0xf0)?;
    check(u8_(&mut r)? == 0x80)?;
    let mcs = d.get(3..).unwrap_or_default();
    match connect_initial(mcs) {
        Err(Fail::Bad) => {}
        other => return other,
    }
    let mut r = Reader::new(mcs);
    let response = u8_(&mut r)
        .and_then(|b| check(b == 0x7f))
        .and_then(|()| u8_(&mut r))
        .and_then(|b| check(b == 0x66));
    match response {
        Ok(()) => Ok(Tpkt::ConnectResponse),
        Err(Fail::Bad) => Ok(Tpkt::Other),
        Err(Fail::Short) => Err(Fail::Short),
    }
}

/// A PER length determinant (X.691 10.9; 16K and more are not read).
fn per_length(r: &mut Reader<'_>) -> R<usize> {
    let b = u8_(r)?;
    match b >> 6 {
        0 | 1 => Ok(usize::from(b)),
        2 => Ok(usize::from(b & 0x3f) << 8 | usize::from(u8_(r)?)),
        _ => Err(Fail::Bad),
    }
}

/// MCS Connect-Initial: the GCC user data after the client-to-server key
/// `Duca`, walked block by block.
fn connect_initial(d: &[u8]) -> R<Tpkt> {
    let mut r = Reader::new(d);
    check(u8_(&mut r)? == 0x7f)?;
    check(u8_(&mut r)? == 0x65)?;
    let after = d.get(2..).unwrap_or_default();
    let key = after
        .windows(4)
        .position(|w| w == b"Duca")
        .ok_or(Fail::Short)?;
    let mut r = Reader::new(after.get(key + 4..).unwrap_or_default());
    let n = per_length(&mut r)?;
    let mut blocks = take(&mut r, n)?;
    let mut req = ConnectRequest::default();
    let mut dropped = 0;
    loop {
        let mut b = Reader::new(blocks);
        match client_core(&mut b) {
            Ok(core) => req.client = Some(core),
            Err(Fail::Short) => return Err(Fail::Short),
            Err(Fail::Bad) => {
                b = Reader::new(blocks);
                match client_network(&mut b, &mut req.channels) {
                    Ok(over) => dropped += over,
                    Err(Fail::Short) => return Err(Fail::Short),
                    Err(Fail::Bad) => {
                        b = Reader::new(blocks);
                        match other_block(&mut b) {
                            Ok(()) => {}
                            Err(Fail::Short) => return Err(Fail::Short),
                            Err(Fail::Bad) => break,
                        }
                    }
                }
            }
        }
        blocks = blocks.get(b.pos()..).unwrap_or_default();
        if blocks.is_empty() {
            break;
        }
    }
    Ok(Tpkt::Connect(Box::new(req), dropped))
}

/// UTF-16LE up to the first NUL (`Bad` when not valid UTF-16).
fn utf16(b: &[u8]) -> R<Box<str>> {
    let units = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0);
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map(String::into_boxed_str)
        .map_err(|_| Fail::Bad)
}

/// A block header of type `ty`: the block's body.
fn block<'a>(r: &mut Reader<'a>, ty: u16, fixed: usize) -> R<&'a [u8]> {
    check(le16(r)? == ty)?;
    let len = usize::from(le16(r)?);
    check(len >= fixed)?;
    take(r, len - fixed)
}

/// Client Core Data (`CS_CORE`), its optional tail read while each field
/// is there and valid.
fn client_core(r: &mut Reader<'_>) -> R<ClientCore> {
    let data = block(r, 0xc001, 4)?;
    let mut d = Reader::new(data);
    let mut c = ClientCore {
        version: le32(&mut d)?,
        desktop_width: le16(&mut d)?,
        desktop_height: le16(&mut d)?,
        color_depth: le16(&mut d)?,
        ..ClientCore::default()
    };
    le16(&mut d)?; // SASSequence
    c.keyboard_layout = le32(&mut d)?;
    c.build = le32(&mut d)?;
    c.client_name = utf16(take(&mut d, 32)?)?;
    c.keyboard_type = le32(&mut d)?;
    c.keyboard_subtype = le32(&mut d)?;
    c.function_keys = le32(&mut d)?;
    c.ime = utf16(take(&mut d, 64)?)?;
    optional_core(&mut d, &mut c);
    Ok(c)
}

/// The optional fields: each needs the one before.
fn optional_core(d: &mut Reader<'_>, c: &mut ClientCore) -> Option<()> {
    let valid = |ok: bool| ok.then_some(());
    let v = d.u16_le()?;
    valid(matches!(v, 0 | 0xca00..=0xca04))?;
    c.post_beta2_color_depth = Some(v);
    c.product_id = Some(d.u16_le()?);
    c.serial_number = Some(d.u32_le()?);
    let v = d.u16_le()?;
    valid(matches!(v, 0 | 4 | 8 | 15 | 16 | 24))?;
    c.high_color_depth = Some(v);
    valid(d.u16_le()? & !0xf == 0)?; // supportedColorDepths
    let v = d.u16_le()?;
    valid(v & !0x7ff == 0)?;
    c.capabilities = Some(v);
    c.dig_product_id = Some(utf16(d.take(64)?).ok()?);
    let v = d.u8()?;
    valid(v <= 7)?;
    c.connection_hint = Some(v);
    d.u8()?; // pad1octet
    valid(d.u32_le()? & !0xf == 0)?; // serverSelectedProtocol
    let mm = |v: u32| (10..=10_000).contains(&v).then_some(v);
    c.physical_width = Some(mm(d.u32_le()?)?);
    c.physical_height = Some(mm(d.u32_le()?)?);
    let v = d.u16_le()?;
    valid(matches!(v, 0 | 90 | 180 | 270))?;
    c.orientation = Some(v);
    let v = d.u32_le()?;
    valid((100..=500).contains(&v))?;
    c.scale_factor = Some(v);
    let v = d.u32_le()?;
    valid(matches!(v, 100 | 140 | 180))?;
    c.device_scale_factor = Some(v);
    Some(())
}

/// Client Network Data (`CS_NET`): the channel names (up to
/// [`MAX_CHANNELS`]); returns how many more there were.
fn client_network(r: &mut Reader<'_>, channels: &mut Vec<Box<str>>) -> R<usize> {
    check(le16(r)? == 0xc003)?;
    let len = usize::from(le16(r)?);
    check(len >= 8)?;
    let count = le32(r)?;
    let mut d = Reader::new(take(r, len - 8)?);
    let mut names = Vec::new();
    let mut over = 0;
    for _ in 0..count {
        let raw = take(&mut d, 8)?;
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        let name =
            std::str::from_utf8(raw.get(..end).unwrap_or_default()).map_err(|_| Fail::Bad)?;
        le32(&mut d)?; // options
        if names.len() < MAX_CHANNELS {
            names.push(name.into());
        } else {
            over += 1;
        }
    }
    *channels = names;
    Ok(over)
}

/// A block of another type (read past).
fn other_block(r: &mut Reader<'_>) -> R<()> {
    let ty = le16(r)?;
    check(ty != 0xc001 && ty != 0xc003)?;
    let len = usize::from(le16(r)?);
    check(len >= 4)?;
    take(r, len - 4).map(|_| ())
}

/// What a TLS record's handshake messages gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Handshake {
    /// Not one whole message could be read: the record is not plaintext
    /// handshake (Suricata stops reading the flow).
    Unreadable,
    /// No Certificate message.
    Other,
    /// A Certificate message: the serials (hex, as Suricata writes a
    /// big integer) of the certificates that decode, and how many past
    /// [`MAX_CERTS`] were not read.
    Certificate(Vec<Box<str>>, usize),
}

/// The handshake messages a Handshake record's body holds whole.
pub(super) fn handshake(body: &[u8]) -> Handshake {
    let mut r = Reader::new(body);
    let mut read = 0;
    while let (Some(ty), Some(len)) = (r.u8(), r.u24()) {
        let Some(msg) = r.take(len) else { break };
        if ty == 11 {
            return match certificates(msg) {
                Some((serials, over)) => Handshake::Certificate(serials, over),
                None if read == 0 => Handshake::Unreadable,
                None => Handshake::Other,
            };
        }
        read += 1;
    }
    if read == 0 {
        Handshake::Unreadable
    } else {
        Handshake::Other
    }
}

/// The Certificate message's chain: each certificate's serial.
fn certificates(msg: &[u8]) -> Option<(Vec<Box<str>>, usize)> {
    let mut r = Reader::new(msg);
    let list = r.u24()?;
    let mut l = Reader::new(r.take(list)?);
    let mut serials = Vec::new();
    let mut over = 0;
    while l.left() > 0 {
        let n = l.u24()?;
        let der = l.take(n)?;
        if serials.len() + over >= MAX_CERTS {
            over += 1;
        } else if let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) {
            serials.push(serial_hex(cert.raw_serial()));
        }
    }
    Some((serials, over))
}

/// A serial's bytes as an unsigned big integer in lowercase hex without
/// leading zeros (`0` for zero), as Suricata writes it.
pub(super) fn serial_hex(raw: &[u8]) -> Box<str> {
    use std::fmt::Write;
    let start = raw.iter().position(|&b| b != 0).unwrap_or(raw.len());
    let digits = raw.get(start..).unwrap_or_default();
    let mut s = String::with_capacity(digits.len() * 2 + 1);
    for (i, b) in digits.iter().enumerate() {
        let _ = if i == 0 {
            write!(s, "{b:x}")
        } else {
            write!(s, "{b:02x}")
        };
    }
    if s.is_empty() {
        s.push('0');
    }
    s.into_boxed_str()
}
