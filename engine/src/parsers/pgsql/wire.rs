//! PostgreSQL wire messages (protocol 3.0): framing (the untyped startup
//! packets, the typed `tag + length` messages, the one-byte answers to
//! SSLRequest and GSSENCRequest) and the decoding of one framed message
//! into a [`PgsqlRequest`] or [`PgsqlResponse`], as Suricata 7's nom parsers read
//! them (the same messages accepted and refused).

use super::super::reader::Reader;
use super::{PgsqlRequest, PgsqlResponse};

/// Protocol codes of the untyped startup packets.
pub const PROTOCOL_3: u32 = 196_608;
/// SSLRequest's code (1234.5679).
pub const SSL_REQUEST: u32 = 80_877_103;
/// GSSENCRequest's code (1234.5680).
pub const GSSENC_REQUEST: u32 = 80_877_104;
/// CancelRequest's code (1234.5678).
pub const CANCEL_REQUEST: u32 = 80_877_102;

/// What framing found at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A whole message this long (tag and length included).
    Whole(usize),
    /// A message this long (tag and length included) whose start is
    /// there but not all of it.
    Partial(usize),
    /// Not enough bytes to know the length yet.
    Short,
    /// A length no message can have.
    Bad,
}

fn frame(buf: &[u8], head: usize, min: u32) -> Frame {
    let Some(len) = buf.get(head - 4..head) else {
        return Frame::Short;
    };
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
    if len < min {
        return Frame::Bad;
    }
    let total = (head - 4).saturating_add(len as usize);
    if buf.len() >= total {
        Frame::Whole(total)
    } else {
        Frame::Partial(total)
    }
}

/// Frames the client's next message: an untyped startup packet when the
/// first byte is 0 (its length counts itself; at least 8), else a typed
/// one.
pub fn frame_request(buf: &[u8]) -> Frame {
    match buf.first() {
        None => Frame::Short,
        Some(0) => frame(buf, 4, 8),
        Some(_) => frame(buf, 5, 4),
    }
}

/// Frames the server's next message (`one_byte`: the answer to an
/// SSLRequest or GSSENCRequest).
pub fn frame_response(buf: &[u8], one_byte: bool) -> Frame {
    if one_byte {
        return if buf.is_empty() {
            Frame::Short
        } else {
            Frame::Whole(1)
        };
    }
    if buf.is_empty() {
        return Frame::Short;
    }
    frame(buf, 5, 4)
}

/// What the client's message is read as (the server's last
/// authentication request decides how a `p` message reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Any message (a `p` one is unknown).
    Any,
    /// SASLInitialResponse.
    SaslInitial,
    /// SASLResponse.
    SaslResponse,
    /// PasswordMessage.
    Password,
}

/// Startup parameters: `name\0value\0`... then `\0`; `user` must be one
/// (non-empty). Returns the user and the other parameters (at most
/// `max`; the count of the ones left out).
type Params = (Box<[u8]>, Vec<super::Param>, usize);

fn startup_params(body: &[u8], max: usize) -> Option<Params> {
    let mut r = Reader::new(body);
    let mut user: Option<&[u8]> = None;
    let mut params = Vec::new();
    let mut dropped = 0;
    let mut user_at = None;
    let mut n = 0usize;
    loop {
        let name = r.cstr()?;
        if name.is_empty() {
            break;
        }
        let value = r.cstr()?;
        if name == b"user" {
            user = Some(value);
            user_at = Some(n);
        }
        n += 1;
        if params.len() < max.saturating_add(1) {
            params.push((Box::<[u8]>::from(name), Box::<[u8]>::from(value)));
        } else {
            dropped += 1;
        }
    }
    if n == 0 {
        return None;
    }
    // Suricata drops the last `user` (or, with none, the first parameter).
    let at = user_at.unwrap_or(0);
    if at < params.len() {
        params.remove(at);
    }
    let user = user.filter(|u| !u.is_empty())?;
    if params.len() > max {
        dropped += params.len() - max;
        params.truncate(max);
    }
    Some((user.into(), params, dropped))
}

/// Decodes one framed client message. `None`: malformed (Suricata stops
/// reading the flow there). The count is of startup parameters left out.
pub fn request(msg: &[u8], expect: Expect, max_params: usize) -> Option<(PgsqlRequest, usize)> {
    let mut r = Reader::new(msg);
    if msg.first() == Some(&0) {
        let len = r.u32()? as usize;
        let major = r.u16()?;
        let minor = r.u16()?;
        let body = msg.get(8..len)?;
        return match (major, minor) {
            (1..=3, _) => {
                let (user, params, dropped) = startup_params(body, max_params)?;
                Some((
                    PgsqlRequest::Startup {
                        major,
                        minor,
                        user,
                        params,
                    },
                    dropped,
                ))
            }
            (1234, 5679) => Some((PgsqlRequest::SslRequest, 0)),
            (1234, 5680) => Some((PgsqlRequest::GssEncRequest, 0)),
            (1234, 5678) => {
                let mut b = Reader::new(body);
                let (pid, key) = (b.u32()?, b.u32()?);
                Some((PgsqlRequest::Cancel { pid, key }, 0))
            }
            _ => None,
        };
    }
    let tag = r.u8()?;
    let len = r.u32()? as usize;
    let body = msg.get(5..1 + len)?;
    let until_nul = |b: &[u8]| -> Option<Box<[u8]>> {
        let n = b.iter().position(|&c| c == 0)?;
        (n > 0).then(|| b[..n].into())
    };
    let req = match (expect, tag) {
        (Expect::SaslInitial, b'p') => {
            let mut b = Reader::new(body);
            let mech = b.cstr()?;
            let plus = match mech {
                b"SCRAM-SHA-256-PLUS" => true,
                b"SCRAM-SHA-256" => false,
                _ => return None,
            };
            let n = b.u32()? as usize;
            let param = b.take(n)?;
            if b.any_left() {
                return None;
            }
            PgsqlRequest::SaslInitial {
                plus,
                param: param.into(),
            }
        }
        (Expect::SaslResponse, b'p') => PgsqlRequest::SaslResponse(body.into()),
        (Expect::Password, b'p') => PgsqlRequest::Password(until_nul(body)?),
        (Expect::SaslInitial | Expect::SaslResponse | Expect::Password, _) => return None,
        (Expect::Any, b'Q') => PgsqlRequest::Query(until_nul(body)?),
        (Expect::Any, b'X') if len == 4 => PgsqlRequest::Terminate,
        (Expect::Any, b'X') => return None,
        (Expect::Any, _) => PgsqlRequest::Unknown,
    };
    Some((req, 0))
}

/// Decodes one framed server message (`one_byte`: the answer to an
/// SSLRequest or GSSENCRequest). `None`: malformed.
pub fn response(msg: &[u8], one_byte: bool) -> Option<PgsqlResponse> {
    let mut r = Reader::new(msg);
    let tag = r.u8()?;
    if one_byte {
        return match tag {
            b'S' | b'G' => Some(PgsqlResponse::EncryptionAccepted),
            b'N' => Some(PgsqlResponse::EncryptionRejected),
            _ => None,
        };
    }
    let len = r.u32()? as usize;
    let body = msg.get(5..1 + len)?;
    let mut b = Reader::new(body);
    Some(match tag {
        b'E' | b'N' if len < 11 => return None,
        b'E' => PgsqlResponse::Error(fields(body, true)?),
        b'N' => PgsqlResponse::Notice,
        b'R' => {
            let kind = b.u32()?;
            let rest = b.rest();
            match kind {
                0 => PgsqlResponse::AuthOk,
                3 => PgsqlResponse::AuthCleartext,
                5 if rest.len() == 4 => PgsqlResponse::AuthMd5(rest.into()),
                9 => PgsqlResponse::Other,
                10 => PgsqlResponse::AuthSasl,
                11 => PgsqlResponse::AuthSaslContinue,
                12 => PgsqlResponse::AuthSaslFinal(rest.into()),
                _ => return None,
            }
        }
        b'S' => {
            let name = b.cstr()?;
            let value = b.cstr()?;
            if name.is_empty() {
                return None;
            }
            PgsqlResponse::ParameterStatus(name.into(), value.into())
        }
        b'K' if len == 12 => PgsqlResponse::BackendKey {
            pid: b.u32()?,
            key: b.u32()?,
        },
        b'C' => {
            let n = body.iter().position(|&c| c == 0)?;
            PgsqlResponse::CommandComplete(body.get(..n)?.into())
        }
        b'Z' if len == 5 && matches!(body.first(), Some(b'I' | b'T' | b'E')) => {
            PgsqlResponse::ReadyForQuery
        }
        b'K' | b'Z' => return None,
        b'T' if len >= 7 => PgsqlResponse::RowDescription(b.u16()?),
        b'D' if len >= 7 => {
            let n = b.u16()?;
            let mut size = 0u64;
            for _ in 0..n {
                let Some(l) = b.u32() else { break };
                let l = l as i32;
                if l >= 0 {
                    if b.take(l as usize).is_none() {
                        break;
                    }
                    size += u64::from(l.unsigned_abs());
                }
            }
            PgsqlResponse::DataRow(size)
        }
        b'T' | b'D' => return None,
        b'A' if len >= 10 => {
            b.u32()?;
            b.cstr()?;
            b.cstr()?;
            PgsqlResponse::Other
        }
        b'A' => return None,
        _ => PgsqlResponse::Other,
    })
}

/// An ErrorResponse's fields: `type value\0`... then `\0` (Suricata reads
/// a `C` field as its first five characters, a `V` one only as ERROR,
/// FATAL or PANIC).
fn fields(body: &[u8], error: bool) -> Option<Vec<(u8, Box<[u8]>)>> {
    let mut r = Reader::new(body);
    let mut out = Vec::new();
    loop {
        let t = r.u8()?;
        if t == 0 {
            return Some(out);
        }
        let v = r.cstr()?;
        match t {
            b'V' if error && !matches!(v, b"ERROR" | b"FATAL" | b"PANIC") => return None,
            b'C' if v.len() != 5 || !v.iter().all(u8::is_ascii_alphanumeric) => return None,
            _ => {}
        }
        // Bounded by the message's length (capped).
        out.push((t, v.into()));
    }
}
