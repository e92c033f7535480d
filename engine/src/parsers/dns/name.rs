//! DNS name decompression: a name's labels followed through compression
//! pointers into dotted form, with loop and length protection.

use super::DnsError;
use crate::parsers::reader::Reader;

/// Longest name in presentation form we keep (RFC 1035: 255 on the wire).
const MAX_NAME_LEN: usize = 255;
/// Most compression pointers followed in one name.
const MAX_POINTERS: usize = 32;

/// Decodes the (possibly compressed) name at `pos` of `msg` into `out` in
/// dotted form; returns the position after the name's wire form. Pointers
/// must point strictly backwards (no loops) and the name must stay within
/// 255 bytes.
pub fn read_name(msg: &[u8], pos: usize, out: &mut Vec<u8>) -> Result<usize, DnsError> {
    let mut r = Reader::at(msg, pos);
    name_into(&mut r, out)?;
    Ok(r.pos())
}

/// The name at `r`'s position, `r` moved past its wire form.
pub(super) fn name(r: &mut Reader<'_>) -> Result<Box<[u8]>, DnsError> {
    let mut out = Vec::new();
    name_into(r, &mut out)?;
    Ok(out.into_boxed_slice())
}

/// Decodes the name at `r`'s position into `out`; `r` ends after the
/// name's wire form (after its first pointer, when it has one). Pointers
/// reach back into the bytes before `r`'s position.
fn name_into(r: &mut Reader<'_>, out: &mut Vec<u8>) -> Result<(), DnsError> {
    let mut end = None;
    let mut pointers = 0;
    // Every label must start before the last pointer's target, so a chain
    // of pointers can only move backwards and always ends.
    let mut limit = r.pos() + r.left();
    loop {
        let at = r.pos();
        let len = r.u8().ok_or(DnsError::Truncated)?;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    if let Some(end) = end {
                        r.seek(end).ok_or(DnsError::Truncated)?;
                    }
                    return Ok(());
                }
                let label = r.take(usize::from(len)).ok_or(DnsError::Truncated)?;
                if !out.is_empty() {
                    out.push(b'.');
                }
                out.extend_from_slice(label);
                if out.len() > MAX_NAME_LEN || r.pos() >= limit {
                    return Err(DnsError::BadName);
                }
            }
            0xc0 => {
                let lo = r.u8().ok_or(DnsError::Truncated)?;
                let target = usize::from(u16::from_be_bytes([len & 0x3f, lo]));
                pointers += 1;
                if target >= at || pointers > MAX_POINTERS {
                    return Err(DnsError::BadName);
                }
                end.get_or_insert(r.pos());
                limit = at;
                r.seek(target).ok_or(DnsError::BadName)?;
            }
            _ => return Err(DnsError::BadLabel),
        }
    }
}
