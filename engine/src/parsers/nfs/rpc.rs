//! ONC RPC (RFC 5531) call and reply headers as Suricata 7 reads them:
//! over TCP behind the record mark, over UDP without it (where Suricata
//! reads a reply's verifier before its `reply_stat`, and so does this
//! module); AUTH_UNIX credentials read without the machine name's padding,
//! as Suricata does.

use crate::parsers::reader::Reader;

/// Longest machine name Suricata accepts in AUTH_UNIX credentials.
const MAX_MACHINE: u32 = 256;
/// Longest credentials or verifier Suricata accepts.
const MAX_OPAQUE: u32 = 4096;

/// A call's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Creds<'a> {
    /// AUTH_UNIX (1).
    Unix {
        /// The machine name (its padding not skipped).
        machine: &'a [u8],
        /// The user id.
        uid: u32,
        /// The group id.
        gid: u32,
    },
    /// RPCSEC_GSS (6): its procedure and service.
    Gss {
        /// 0 data, 1 init...
        procedure: u32,
        /// 1 none, 2 integrity, 3 privacy.
        service: u32,
    },
    /// Any other flavour.
    Other,
}

/// A call.
#[derive(Debug, Clone, Copy)]
pub(super) struct Call<'a> {
    pub(super) xid: u32,
    pub(super) rpcvers: u32,
    pub(super) program: u32,
    pub(super) progver: u32,
    pub(super) procedure: u32,
    pub(super) flavor: u32,
    pub(super) creds: Creds<'a>,
    /// The procedure's arguments.
    pub(super) data: &'a [u8],
}

/// A reply.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reply<'a> {
    pub(super) xid: u32,
    pub(super) reply_state: u32,
    pub(super) accept_state: u32,
    /// The procedure's results.
    pub(super) data: &'a [u8],
}

/// A TCP record mark: the fragment's length (without the mark).
pub(super) fn record_len(b: &[u8]) -> Option<usize> {
    let m: [u8; 4] = b.get(..4)?.try_into().ok()?;
    Some((u32::from_be_bytes(m) & 0x7fff_ffff) as usize)
}

fn opaque<'a>(r: &mut Reader<'a>, max: u32) -> Option<&'a [u8]> {
    let n = r.u32()?;
    if n >= max {
        return None;
    }
    r.take(n as usize)
}

/// xid and message type (at most 1).
/// An RPC message's type: a call.
pub(super) const CALL: u32 = 0;
/// An RPC message's type: a reply.
pub(super) const REPLY: u32 = 1;

fn head(r: &mut Reader<'_>) -> Option<(u32, u32)> {
    let xid = r.u32()?;
    let msgtype = r.u32()?;
    (msgtype <= 1).then_some((xid, msgtype))
}

/// A call's fields after the record mark (TCP) or from the datagram's
/// start (UDP): everything after the verifier is the arguments.
pub(super) fn call(b: &[u8]) -> Option<Call<'_>> {
    let mut r = Reader::new(b);
    let (xid, _) = head(&mut r)?;
    let rpcvers = r.u32()?;
    let program = r.u32()?;
    let progver = r.u32()?;
    let procedure = r.u32()?;
    let flavor = r.u32()?;
    let cb = opaque(&mut r, MAX_OPAQUE)?;
    let mut c = Reader::new(cb);
    let creds = match flavor {
        1 => {
            c.u32()?;
            let n = c.u32()?;
            if n >= MAX_MACHINE {
                return None;
            }
            let machine = c.take(n as usize)?;
            Creds::Unix {
                machine,
                uid: c.u32()?,
                gid: c.u32()?,
            }
        }
        6 => {
            c.u32()?;
            let procedure = c.u32()?;
            c.u32()?;
            let service = c.u32()?;
            let n = c.u32()?;
            c.take(n as usize)?;
            Creds::Gss { procedure, service }
        }
        _ => Creds::Other,
    };
    r.u32()?;
    opaque(&mut r, MAX_OPAQUE)?;
    Some(Call {
        xid,
        rpcvers,
        program,
        progver,
        procedure,
        flavor,
        creds,
        data: b.get(r.pos()..).unwrap_or_default(),
    })
}

/// Just enough of a call to see its procedure (a large WRITE's record is
/// read from its first bytes).
pub(super) fn call_procedure(b: &[u8]) -> Option<u32> {
    let mut r = Reader::new(b);
    head(&mut r)?;
    r.take(12)?;
    r.u32()
}

/// A reply over TCP: `reply_stat`, the verifier, `accept_stat`.
pub(super) fn reply_tcp(b: &[u8]) -> Option<Reply<'_>> {
    let mut r = Reader::new(b);
    let (xid, _) = head(&mut r)?;
    let reply_state = r.u32()?;
    if reply_state > 1 {
        return None;
    }
    r.u32()?;
    opaque(&mut r, MAX_OPAQUE)?;
    let accept_state = r.u32()?;
    Some(Reply {
        xid,
        reply_state,
        accept_state,
        data: b.get(r.pos()..).unwrap_or_default(),
    })
}

/// A reply over UDP as Suricata 7 reads it: the verifier first, then
/// `reply_stat` and `accept_stat` (right for the usual AUTH_NULL
/// verifier, whose three zero words read the same either way).
pub(super) fn reply_udp(b: &[u8]) -> Option<Reply<'_>> {
    let mut r = Reader::new(b);
    let (xid, _) = head(&mut r)?;
    r.u32()?;
    opaque(&mut r, MAX_OPAQUE)?;
    let reply_state = r.u32()?;
    if reply_state > 1 {
        return None;
    }
    let accept_state = r.u32()?;
    Some(Reply {
        xid,
        reply_state,
        accept_state,
        data: b.get(r.pos()..).unwrap_or_default(),
    })
}

/// The xid and message type at a datagram's or record body's start.
pub(super) fn xid_and_type(b: &[u8]) -> Option<(u32, u32)> {
    head(&mut Reader::new(b))
}
