//! The arguments and results of every NFSv4 operation as XDR: v4.0
//! (RFC 7530), v4.1 (RFC 8881: sessions, pNFS layouts, delegations on
//! directories) and v4.2 (RFC 7862: server-side copy, sparse files;
//! RFC 8276: extended attributes). What `v4` needs from an operation comes
//! back ([`Op`], [`Res`]); the rest is walked over, opaques with their
//! padding, so the next operation starts where it should. An operation
//! number outside these, or bytes that do not fit its shape, end the
//! COMPOUND's reading (`None`).

use super::state::{self, Write, pad, u64};
use crate::parsers::reader::Reader;

pub(super) const CREATE: u32 = 6;
pub(super) const REMOVE: u32 = 28;
const PUTROOTFH: u32 = 24;
const READ: u32 = 25;
const SETATTR: u32 = 34;
/// RPCSEC_GSS, the security flavour with parameters.
const RPCSEC_GSS: u32 = 6;

/// A request operation's effect.
pub(super) enum Op<'a> {
    PutFh(&'a [u8]),
    Read(u64),
    Name(&'a [u8]),
    Write(Write<'a>),
    Commit,
    Close,
    Create(&'a [u8]),
    Remove(&'a [u8]),
    Other,
}

/// A result's effect.
pub(super) enum Res<'a> {
    Status(u32),
    Read(u32, bool, &'a [u8]),
    Open,
    GetFh(&'a [u8]),
    RootFh(u32),
    Other,
}

/// An XDR variable-length opaque (or string) and the padding after it
/// (`state::opaque` leaves the padding to its v2/v3 callers, which skip it
/// where Suricata does).
pub(super) fn padded<'a>(r: &mut Reader<'a>) -> Option<&'a [u8]> {
    let b = state::opaque(r)?;
    pad(r, b.len())?;
    Some(b)
}

fn skip(r: &mut Reader<'_>, n: usize) -> Option<()> {
    r.take(n).map(|_| ())
}

/// An XDR bool: 0 or 1, anything else is not one.
fn boolean(r: &mut Reader<'_>) -> Option<bool> {
    match r.u32()? {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

/// A variable-length array, each element read by `f`. Every element takes
/// at least four bytes, so a count larger than what is left fails there.
fn array(r: &mut Reader<'_>, f: impl Fn(&mut Reader<'_>) -> Option<()>) -> Option<()> {
    for _ in 0..r.u32()? {
        f(r)?;
    }
    Some(())
}

/// An array of fixed-size elements.
fn fixed_array(r: &mut Reader<'_>, size: usize) -> Option<()> {
    let n = r.u32()? as usize;
    skip(r, n.checked_mul(size)?)
}

fn bitmap(r: &mut Reader<'_>) -> Option<()> {
    fixed_array(r, 4)
}

/// `fattr4`: the attribute mask and the attributes' bytes.
fn fattr(r: &mut Reader<'_>) -> Option<()> {
    bitmap(r)?;
    padded(r).map(|_| ())
}

/// `stateid4`: a seqid and 12 bytes.
const STATEID: usize = 16;
/// `change_info4`: atomic, before, after.
const CHANGE_INFO: usize = 20;
/// `nfstime4`: seconds (64 bits) and nanoseconds.
const NFSTIME: usize = 12;
/// `sessionid4`, `deviceid4`.
const ID16: usize = 16;

/// `state_owner4` (open and lock owners): a client id and an opaque.
fn owner(r: &mut Reader<'_>) -> Option<()> {
    skip(r, 8)?;
    padded(r).map(|_| ())
}

/// `nfsace4`: type, flag, mask, who.
fn nfsace(r: &mut Reader<'_>) -> Option<()> {
    skip(r, 12)?;
    padded(r).map(|_| ())
}

/// `channel_attrs4`: six counts and at most one RDMA read depth.
fn channel_attrs(r: &mut Reader<'_>) -> Option<()> {
    skip(r, 24)?;
    fixed_array(r, 4)
}

/// `callback_sec_parms4`.
fn cb_sec_parms(r: &mut Reader<'_>) -> Option<()> {
    match r.u32()? {
        0 => Some(()),
        1 => {
            r.u32()?;
            padded(r)?;
            skip(r, 8)?;
            fixed_array(r, 4)
        }
        RPCSEC_GSS => {
            r.u32()?;
            padded(r)?;
            padded(r).map(|_| ())
        }
        _ => None,
    }
}

/// `secinfo4`: a flavour, with RPCSEC_GSS's OID, QOP and service.
fn secinfo(r: &mut Reader<'_>) -> Option<()> {
    if r.u32()? == RPCSEC_GSS {
        padded(r)?;
        skip(r, 8)?;
    }
    Some(())
}

/// `netloc4`: a name, a URL or a network address.
fn netloc(r: &mut Reader<'_>) -> Option<()> {
    match r.u32()? {
        1 | 2 => padded(r).map(|_| ()),
        3 => {
            padded(r)?;
            padded(r).map(|_| ())
        }
        _ => None,
    }
}

/// A layout type and its opaque body (`layoutupdate4`, `device_addr4`,
/// `layout_content4`).
fn typed_body(r: &mut Reader<'_>) -> Option<()> {
    r.u32()?;
    padded(r).map(|_| ())
}

/// `state_protect_ops4`: two bitmaps.
fn protect_ops(r: &mut Reader<'_>) -> Option<()> {
    bitmap(r)?;
    bitmap(r)
}

/// `nfs_impl_id4<1>`: domain, name, date.
fn impl_id(r: &mut Reader<'_>) -> Option<()> {
    array(r, |r| {
        padded(r)?;
        padded(r)?;
        skip(r, NFSTIME)
    })
}

/// `open_delegation4` (OPEN's and WANT_DELEGATION's results).
fn delegation(r: &mut Reader<'_>) -> Option<()> {
    match r.u32()? {
        0 => Some(()),
        1 => {
            skip(r, STATEID)?;
            boolean(r)?;
            nfsace(r)
        }
        2 => {
            skip(r, STATEID)?;
            boolean(r)?;
            match r.u32()? {
                1 => skip(r, 8)?,
                2 => skip(r, 8)?,
                _ => return None,
            }
            nfsace(r)
        }
        // OPEN_DELEGATE_NONE_EXT: why, with a flag for contention and
        // resource shortage.
        3 => {
            if matches!(r.u32()?, 1 | 2) {
                boolean(r)?;
            }
            Some(())
        }
        _ => None,
    }
}

/// `write_response4`: an optional callback stateid, count, committed,
/// verifier.
fn write_response(r: &mut Reader<'_>) -> Option<()> {
    fixed_array(r, STATEID)?;
    skip(r, 8 + 4 + 8)
}

/// One operation of a COMPOUND call.
pub(super) fn request_op<'a>(r: &mut Reader<'a>) -> Option<Op<'a>> {
    let op = r.u32()?;
    let done = match op {
        // ACCESS, SECINFO_NO_NAME, RECLAIM_COMPLETE, OPENATTR
        3 | 52 | 19 | 58 => skip(r, 4),
        4 => {
            skip(r, 4 + STATEID)?;
            return Some(Op::Close);
        }
        5 => {
            skip(r, 12)?;
            return Some(Op::Commit);
        }
        CREATE => {
            match r.u32()? {
                5 => {
                    padded(r)?;
                }
                3 | 4 => skip(r, 8)?,
                _ => {}
            }
            let name = padded(r)?;
            fattr(r)?;
            return Some(Op::Create(name));
        }
        // DELEGPURGE, RENEW, DESTROY_CLIENTID: a client id.
        7 | 30 | 57 => skip(r, 8),
        // DELEGRETURN, FREE_STATEID, OFFLOAD_CANCEL, OFFLOAD_STATUS: a
        // stateid.
        8 | 45 | 66 | 67 => skip(r, STATEID),
        9 => bitmap(r),
        // GETFH, LOOKUPP, PUTPUBFH, PUTROOTFH, READLINK, RESTOREFH,
        // SAVEFH, ILLEGAL: nothing.
        10 | 16 | 23 | PUTROOTFH | 27 | 31 | 32 | 10044 => Some(()),
        // LINK, SECINFO, GETXATTR, REMOVEXATTR: a name.
        11 | 33 | 72 | 75 => padded(r).map(|_| ()),
        // LOCK: type, reclaim, offset, length, a new or existing owner.
        12 => {
            skip(r, 4)?;
            boolean(r)?;
            skip(r, 16)?;
            if boolean(r)? {
                skip(r, 4 + STATEID + 4)?;
                owner(r)
            } else {
                skip(r, STATEID + 4)
            }
        }
        // LOCKT: type, offset, length, owner.
        13 => {
            skip(r, 4 + 16)?;
            owner(r)
        }
        // LOCKU: type, seqid, stateid, offset, length.
        14 => skip(r, 4 + 4 + STATEID + 16),
        15 => return Some(Op::Name(padded(r)?)),
        // NVERIFY, VERIFY
        17 | 37 => fattr(r),
        18 => return open(r),
        // OPEN_CONFIRM
        20 => skip(r, STATEID + 4),
        // OPEN_DOWNGRADE
        21 => skip(r, STATEID + 12),
        22 => return Some(Op::PutFh(padded(r)?)),
        READ => {
            skip(r, STATEID)?;
            let offset = u64(r)?;
            r.u32()?;
            return Some(Op::Read(offset));
        }
        26 => {
            skip(r, 24)?;
            bitmap(r)
        }
        REMOVE => return Some(Op::Remove(padded(r)?)),
        29 => {
            padded(r)?;
            padded(r).map(|_| ())
        }
        SETATTR => {
            skip(r, STATEID)?;
            fattr(r)
        }
        // SETCLIENTID: verifier, id, callback program, net id, address,
        // callback ident.
        35 => {
            skip(r, 8)?;
            padded(r)?;
            r.u32()?;
            padded(r)?;
            padded(r)?;
            skip(r, 4)
        }
        36 => skip(r, 16),
        38 => {
            skip(r, STATEID)?;
            u64(r)?;
            let stable = r.u32()?;
            let data = padded(r)?;
            return Some(Op::Write(Write {
                handle: &[],
                count: data.len() as u32,
                stable,
                data,
            }));
        }
        // RELEASE_LOCKOWNER
        39 => owner(r),
        // BACKCHANNEL_CTL: program, security parameters.
        40 => {
            r.u32()?;
            array(r, cb_sec_parms)
        }
        // BIND_CONN_TO_SESSION: session, direction, RDMA mode.
        41 => {
            skip(r, ID16 + 4)?;
            boolean(r).map(|_| ())
        }
        42 => exchange_id(r),
        // CREATE_SESSION: client id, sequence, flags, both channels'
        // attributes, callback program and security.
        43 => {
            skip(r, 8 + 4 + 4)?;
            channel_attrs(r)?;
            channel_attrs(r)?;
            r.u32()?;
            array(r, cb_sec_parms)
        }
        // DESTROY_SESSION
        44 => skip(r, ID16),
        // GET_DIR_DELEGATION
        46 => {
            boolean(r)?;
            bitmap(r)?;
            skip(r, 2 * NFSTIME)?;
            bitmap(r)?;
            bitmap(r)
        }
        // GETDEVICEINFO: device, layout type, maximum, notifications.
        47 => {
            skip(r, ID16 + 8)?;
            bitmap(r)
        }
        // GETDEVICELIST
        48 => skip(r, 8 + 16),
        // LAYOUTCOMMIT: offset, length, reclaim, stateid, new offset, new
        // time, update.
        49 => {
            skip(r, 16)?;
            boolean(r)?;
            skip(r, STATEID)?;
            if boolean(r)? {
                skip(r, 8)?;
            }
            if boolean(r)? {
                skip(r, NFSTIME)?;
            }
            typed_body(r)
        }
        // LAYOUTGET: signal, type, iomode, offset, length, minimum,
        // stateid, maximum.
        50 => {
            boolean(r)?;
            skip(r, 8 + 24 + STATEID + 4)
        }
        // LAYOUTRETURN: reclaim, type, iomode, what is returned.
        51 => {
            boolean(r)?;
            skip(r, 8)?;
            match r.u32()? {
                1 => {
                    skip(r, 16 + STATEID)?;
                    padded(r).map(|_| ())
                }
                2 | 3 => Some(()),
                _ => None,
            }
        }
        // SEQUENCE: session, sequence, slot, highest slot, cache this.
        53 => {
            skip(r, ID16 + 12)?;
            boolean(r).map(|_| ())
        }
        // SET_SSV: the SSV and its digest.
        54 => {
            padded(r)?;
            padded(r).map(|_| ())
        }
        // TEST_STATEID
        55 => fixed_array(r, STATEID),
        // WANT_DELEGATION: what is wanted, the claim.
        56 => {
            r.u32()?;
            match r.u32()? {
                1 => skip(r, 4),
                4 | 6 => Some(()),
                _ => None,
            }
        }
        // ALLOCATE, DEALLOCATE: stateid, offset, length.
        59 | 62 => skip(r, STATEID + 16),
        // COPY: both stateids, offsets and count, two flags, sources.
        60 => {
            skip(r, 2 * STATEID + 24)?;
            boolean(r)?;
            boolean(r)?;
            array(r, netloc)
        }
        // COPY_NOTIFY: stateid, destination.
        61 => {
            skip(r, STATEID)?;
            netloc(r)
        }
        // IO_ADVISE: stateid, offset, count, hints.
        63 => {
            skip(r, STATEID + 16)?;
            bitmap(r)
        }
        // LAYOUTERROR: offset, length, stateid, device errors.
        64 => {
            skip(r, 16 + STATEID)?;
            array(r, |r| skip(r, ID16 + 8))
        }
        // LAYOUTSTATS: offset, length, stateid, read and write counts,
        // device, update.
        65 => {
            skip(r, 16 + STATEID + 32 + ID16)?;
            typed_body(r)
        }
        // READ_PLUS: stateid, offset, count.
        68 => skip(r, STATEID + 12),
        // SEEK: stateid, offset, what.
        69 => skip(r, STATEID + 12),
        // WRITE_SAME: stateid, stable, the block and its pattern.
        70 => {
            skip(r, STATEID + 4 + 32 + 4 + 8)?;
            padded(r).map(|_| ())
        }
        // CLONE: both stateids, offsets, count.
        71 => skip(r, 2 * STATEID + 24),
        // SETXATTR: option, name, value.
        73 => {
            r.u32()?;
            padded(r)?;
            padded(r).map(|_| ())
        }
        // LISTXATTRS: cookie, maximum.
        74 => skip(r, 12),
        _ => None,
    };
    done.map(|()| Op::Other)
}

/// OPEN's arguments: sequence, share access and deny, owner, how (with
/// what a creation sets), the claim (a name for the ones by name).
fn open<'a>(r: &mut Reader<'a>) -> Option<Op<'a>> {
    skip(r, 12)?;
    owner(r)?;
    if r.u32()? == 1 {
        match r.u32()? {
            0 | 1 => fattr(r)?,
            2 => skip(r, 8)?,
            3 => {
                skip(r, 8)?;
                fattr(r)?;
            }
            _ => return None,
        }
    }
    Some(match r.u32()? {
        0 | 3 => Op::Name(padded(r)?),
        1 => {
            r.u32()?;
            Op::Other
        }
        2 => {
            skip(r, STATEID)?;
            Op::Name(padded(r)?)
        }
        4 | 6 => Op::Other,
        5 => {
            skip(r, STATEID)?;
            Op::Other
        }
        _ => return None,
    })
}

/// EXCHANGE_ID's arguments: the client owner, flags, state protection,
/// the implementation.
fn exchange_id(r: &mut Reader<'_>) -> Option<()> {
    skip(r, 8)?;
    padded(r)?;
    r.u32()?;
    match r.u32()? {
        0 => {}
        1 => protect_ops(r)?,
        2 => {
            protect_ops(r)?;
            array(r, |r| padded(r).map(|_| ()))?;
            array(r, |r| padded(r).map(|_| ()))?;
            skip(r, 8)?;
        }
        _ => return None,
    }
    impl_id(r)
}

/// One result of a COMPOUND reply, and whether it failed (a COMPOUND's
/// results end at the first that fails).
pub(super) fn result_op<'a>(r: &mut Reader<'a>) -> Option<(Res<'a>, bool)> {
    let op = r.u32()?;
    let s = r.u32()?;
    if s != 0 {
        let res = match op {
            CREATE | REMOVE => Res::Status(s),
            PUTROOTFH => Res::RootFh(s),
            SETATTR => {
                bitmap(r)?;
                Res::Other
            }
            _ => Res::Other,
        };
        return Some((res, true));
    }
    let done = match op {
        // ACCESS: supported and granted; COMMIT: the verifier.
        3 | 5 => skip(r, 8),
        // CLOSE, LOCK, LOCKU, OPEN_CONFIRM, OPEN_DOWNGRADE: a stateid.
        4 | 12 | 14 | 20 | 21 => skip(r, STATEID),
        CREATE => {
            skip(r, CHANGE_INFO)?;
            bitmap(r)?;
            return Some((Res::Status(s), false));
        }
        // Nothing but the status.
        7 | 8 | 13 | 15 | 16 | 17 | 19 | 22 | 23 | 30 | 31 | 32 | 36 | 37 | 39 | 40 | 44 | 45
        | 57 | 58 | 59 | 62 | 64 | 65 | 66 | 71 | 10044 => Some(()),
        9 => fattr(r),
        10 => return Some((Res::GetFh(padded(r)?), false)),
        // LINK, SETXATTR, REMOVEXATTR: the directory's change.
        11 | 73 | 75 => skip(r, CHANGE_INFO),
        PUTROOTFH => return Some((Res::RootFh(s), false)),
        18 => {
            skip(r, STATEID + CHANGE_INFO + 4)?;
            bitmap(r)?;
            delegation(r)?;
            return Some((Res::Open, false));
        }
        READ => {
            let eof = boolean(r)?;
            let data = padded(r)?;
            return Some((Res::Read(s, eof, data), false));
        }
        // READDIR: the verifier, the entries, end of directory.
        26 => {
            skip(r, 8)?;
            while boolean(r)? {
                skip(r, 8)?;
                padded(r)?;
                fattr(r)?;
            }
            boolean(r).map(|_| ())
        }
        // READLINK: the link; GETXATTR: the value; SET_SSV: a digest.
        27 | 72 | 54 => padded(r).map(|_| ()),
        REMOVE => {
            skip(r, CHANGE_INFO)?;
            return Some((Res::Status(s), false));
        }
        29 => skip(r, 2 * CHANGE_INFO),
        // SECINFO, SECINFO_NO_NAME
        33 | 52 => array(r, secinfo),
        SETATTR => bitmap(r),
        // SETCLIENTID: client id and confirmation verifier.
        35 => skip(r, 16),
        // WRITE: count, committed, verifier.
        38 => skip(r, 16),
        // BIND_CONN_TO_SESSION: session, direction, RDMA mode.
        41 => {
            skip(r, ID16 + 4)?;
            boolean(r).map(|_| ())
        }
        42 => exchange_id_result(r),
        // CREATE_SESSION: session, sequence, flags, both channels.
        43 => {
            skip(r, ID16 + 8)?;
            channel_attrs(r)?;
            channel_attrs(r)
        }
        // GET_DIR_DELEGATION: granted (verifier, stateid, three bitmaps)
        // or not (a flag).
        46 => match r.u32()? {
            0 => {
                skip(r, 8 + STATEID)?;
                bitmap(r)?;
                bitmap(r)?;
                bitmap(r)
            }
            1 => boolean(r).map(|_| ()),
            _ => None,
        },
        // GETDEVICEINFO: the address, notifications.
        47 => {
            typed_body(r)?;
            bitmap(r)
        }
        // GETDEVICELIST: cookie, verifier, devices, end of list.
        48 => {
            skip(r, 16)?;
            fixed_array(r, ID16)?;
            boolean(r).map(|_| ())
        }
        // LAYOUTCOMMIT: a new size, maybe.
        49 | 51 => {
            if boolean(r)? {
                skip(r, if op == 49 { 8 } else { STATEID })?;
            }
            Some(())
        }
        // LAYOUTGET: return on close, stateid, layouts.
        50 => {
            boolean(r)?;
            skip(r, STATEID)?;
            array(r, |r| {
                skip(r, 20)?;
                typed_body(r)
            })
        }
        // SEQUENCE: session, sequence, slot, highest slot, target, flags.
        53 => skip(r, ID16 + 20),
        // TEST_STATEID: a status per stateid.
        55 => fixed_array(r, 4),
        56 => delegation(r),
        // COPY: the write response and the copy's requirements;
        // WRITE_SAME: the write response.
        60 | 70 => {
            write_response(r)?;
            if op == 60 {
                boolean(r)?;
                boolean(r)?;
            }
            Some(())
        }
        // COPY_NOTIFY: lease time, stateid, source servers.
        61 => {
            skip(r, NFSTIME + STATEID)?;
            array(r, netloc)
        }
        // IO_ADVISE: the hints taken.
        63 => bitmap(r),
        // OFFLOAD_STATUS: count, completion status (at most one).
        67 => {
            skip(r, 8)?;
            fixed_array(r, 4)
        }
        // READ_PLUS: end of file, data and holes.
        68 => {
            boolean(r)?;
            array(r, |r| match r.u32()? {
                0 => {
                    skip(r, 8)?;
                    padded(r).map(|_| ())
                }
                1 => skip(r, 16),
                _ => None,
            })
        }
        // SEEK: end of file, offset.
        69 => {
            boolean(r)?;
            skip(r, 8)
        }
        // LISTXATTRS: cookie, names, end of list.
        74 => {
            skip(r, 8)?;
            array(r, |r| padded(r).map(|_| ()))?;
            boolean(r).map(|_| ())
        }
        _ => None,
    };
    done.map(|()| (Res::Other, false))
}

/// EXCHANGE_ID's results: client id, sequence, flags, state protection,
/// server owner and scope, the implementation.
fn exchange_id_result(r: &mut Reader<'_>) -> Option<()> {
    skip(r, 16)?;
    match r.u32()? {
        0 => {}
        1 => protect_ops(r)?,
        2 => {
            protect_ops(r)?;
            skip(r, 16)?;
            array(r, |r| padded(r).map(|_| ()))?;
        }
        _ => return None,
    }
    skip(r, 8)?;
    padded(r)?;
    padded(r)?;
    impl_id(r)
}
