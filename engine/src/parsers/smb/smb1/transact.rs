//! SMB1's TRANS and TRANS2 (MS-CIFS §2.2.4.33, §2.2.4.46): a TRANS that
//! is a TransactNmPipe on a DCE/RPC service's pipe writes a PDU and reads
//! the answer in one exchange (`pipe`); a TRANS2 SET_FILE_INFO or
//! SET_PATH_INFO at the pass-through level of a disposition or a rename is
//! a delete or a rename transaction, as Suricata makes them. Other TRANS
//! and TRANS2 requests make no transaction.

use super::{Block, Hdr, TRANS, fid_key, low_bytes};
use crate::parsers::reader::Reader;
use crate::parsers::smb::{
    Disposition, SmbDetail, SmbParser, SmbStatus, pipe, recall, remember, take,
};

/// TRANS2's subcommands that make a transaction: SET_PATH_INFORMATION and
/// SET_FILE_INFORMATION (MS-CIFS §2.2.6).
const SET_PATH_INFO: u16 = 0x0006;
const SET_FILE_INFO: u16 = 0x0008;
/// The pass-through information levels (1000 + MS-FSCC's class) of
/// FileDispositionInformation and FileRenameInformation.
const LEVEL_DISPOSITION: u16 = 1013;
const LEVEL_RENAME: u16 = 1010;
/// TRANS's TransactNmPipe subcommand (MS-CIFS §2.2.5.6): a write and a
/// read of a named pipe in one exchange; the pipe's FID is its second
/// setup word.
const TRANSACT_NMPIPE: u16 = 0x0026;

/// A TRANS2 request's transaction, when it is a SET_FILE_INFO or
/// SET_PATH_INFO of a disposition or a rename (MS-CIFS §2.2.4.46.1: the
/// parameters' count and offset at word bytes 18 and 20, the data's at 22
/// and 24, the subcommand at 28), as Suricata makes them: the file named
/// by its FID's open (or `<unknown>`) or by the path.
pub(super) fn trans2_request(p: &mut SmbParser, h: &Hdr, b: &Block<'_>) -> Option<SmbDetail> {
    let mut w = Reader::new(b.words);
    let parsed = (|| {
        w.take(18)?;
        let (pcount, poff) = (w.u16_le()?, w.u16_le()?);
        let (dcount, doff) = (w.u16_le()?, w.u16_le()?);
        w.take(2)?;
        let sub = w.u16_le()?;
        let slice = |off: u16, count: u16| {
            let (off, count) = (usize::from(off), usize::from(count));
            b.msg.get(off..off.checked_add(count)?)
        };
        Some((sub, slice(poff, pcount), slice(doff, dcount)))
    })();
    let (sub, params, data) = match parsed {
        Some((sub @ (SET_FILE_INFO | SET_PATH_INFO), Some(params), Some(data))) => {
            (sub, params, data)
        }
        Some((SET_FILE_INFO | SET_PATH_INFO, ..)) => {
            p.event("malformed_data");
            return None;
        }
        _ => return None,
    };
    let mut r = Reader::new(params);
    // The file: SET_FILE_INFO's FID, SET_PATH_INFO's path.
    let target = if sub == SET_FILE_INFO {
        r.take(2).zip(r.u16_le()).map(|(fid, level)| {
            let name = recall(&p.state.names, &fid_key(fid, h.user_id))
                .cloned()
                .unwrap_or_else(|| "<unknown>".into());
            (level, name, fid.to_vec())
        })
    } else {
        let level = r.u16_le();
        r.take(4);
        level
            .zip(low_bytes(r.rest()))
            .map(|(level, (_, name))| (level, name, Vec::new()))
    };
    let Some((level, name, fuid)) = target else {
        p.event("malformed_data");
        return None;
    };
    match level {
        LEVEL_DISPOSITION => match data.first() {
            Some(&flag) => Some(SmbDetail::Delete(Box::new(Disposition {
                filename: name,
                delete: flag & 1 != 0,
                fuid,
                trans2: Some(sub),
            }))),
            None => {
                p.event("malformed_data");
                None
            }
        },
        LEVEL_RENAME => {
            // Replace flag, 3 reserved bytes, root directory, the new
            // name's length and the name (MS-FSCC §2.4.37).
            let mut d = Reader::new(data);
            let new = d
                .take(8)
                .and_then(|_| d.u32_le())
                .and_then(|n| d.take(n as usize));
            match new {
                Some(new) => Some(SmbDetail::Rename(Box::new((name, p.name(new), fuid)))),
                None => {
                    p.event("malformed_data");
                    None
                }
            }
        }
        _ => None,
    }
}

/// The file transaction of FID `fid`'s reads (`reads`) or writes, opened
/// unless it is open: the file's name, its tree's share. As Suricata's, it
/// names no session or tree and gets no status; its CLOSE finishes it. A
/// pipe's data is not decoded over SMB1 (no transaction).
/// A TRANS request: a TransactNmPipe on a DCE/RPC service's pipe writes
/// its data (MS-CIFS §2.2.4.33.1: the data's count and offset at word
/// bytes 22 and 24, the setup count at 26, the setup words from 28) to
/// the pipe; any other TRANS makes no transaction, as in Suricata.
pub(super) fn trans_request(p: &mut SmbParser, h: &Hdr, b: &Block<'_>) {
    let mut w = Reader::new(b.words);
    let parsed = (|| {
        w.take(22)?;
        let count = usize::from(w.u16_le()?);
        let offset = usize::from(w.u16_le()?);
        let setup = w.u8()?;
        w.u8()?;
        if setup < 2 || w.u16_le()? != TRANSACT_NMPIPE {
            return None;
        }
        let fid = w.take(2)?;
        Some((fid, b.msg.get(offset..offset.checked_add(count)?)))
    })();
    let Some((fid, data)) = parsed else {
        return;
    };
    let f = fid_key(fid, h.user_id);
    if !pipe::is_dcerpc_service(p, &f) {
        return;
    }
    let Some(data) = data else {
        p.event("malformed_data");
        return;
    };
    if remember(&mut p.state.reads, u64::from(h.mid), f) {
        p.event("too_many_names");
    }
    pipe::write(p, pipe_ctx(h), data);
}

/// A TRANS response to a TransactNmPipe request on a DCE/RPC pipe: its
/// data (count and offset at word bytes 12 and 14) is read from the pipe.
pub(super) fn trans_response(p: &mut SmbParser, h: &Hdr, b: &Block<'_>) {
    if take(&mut p.state.reads, &u64::from(h.mid)).is_none() {
        return;
    }
    let SmbStatus::Nt(status) = h.status else {
        return;
    };
    let mut w = Reader::new(b.words);
    let data = (|| {
        w.take(12)?;
        let count = usize::from(w.u16_le()?);
        let offset = usize::from(w.u16_le()?);
        b.msg.get(offset..offset.checked_add(count)?)
    })();
    match data {
        Some(data) => pipe::read(p, pipe_ctx(h), data, status),
        // An error answer has no words.
        None if status != 0 => {}
        None => p.event("malformed_data"),
    }
}

/// The pipe call context of a TRANS: the call is its message's.
fn pipe_ctx(h: &Hdr) -> pipe::Ctx {
    pipe::Ctx {
        version: 1,
        command: u16::from(TRANS),
        transceive: true,
        session_id: u64::from(h.user_id),
        tree_id: u32::from(h.tree_id),
        msg_id: u64::from(h.mid),
    }
}
