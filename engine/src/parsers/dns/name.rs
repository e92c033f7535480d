//! DNS name decompression: a name's labels followed through compression
//! pointers into dotted form, with loop protection, and names longer than
//! Suricata keeps cut to its length and flagged ([`DnsName::truncated`])
//! rather than rejected.

use super::DnsError;
use crate::parsers::reader::Reader;
use std::cell::RefCell;

/// Longest name in presentation form kept: longer ones are cut to it and
/// flagged, as Suricata does (the length dnsmasq accepts; RFC 1035 allows
/// 255 bytes on the wire, hostile or broken messages carry more).
pub const MAX_NAME_LEN: usize = 1025;
/// Most labels and pointers read for one name (as Suricata): past it a name
/// that followed a pointer is cut and flagged, one that did not is an
/// error (where the message goes on is unknown).
const MAX_SEGMENTS: usize = 255;
/// Most compression pointers followed in one name.
const MAX_POINTERS: usize = 32;

/// A name in dotted form (raw bytes: labels may hold anything); it derefs
/// to its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsName {
    /// The name, at most [`MAX_NAME_LEN`] bytes.
    pub bytes: Box<[u8]>,
    /// It was longer and was cut to [`MAX_NAME_LEN`] bytes (EVE's
    /// `rrname_truncated`, `rdata_truncated`...).
    pub truncated: bool,
}

impl std::ops::Deref for DnsName {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl From<&[u8]> for DnsName {
    fn from(b: &[u8]) -> Self {
        DnsName {
            bytes: b.into(),
            truncated: false,
        }
    }
}

/// Decodes the (possibly compressed) name at `pos` of `msg` into `out` in
/// dotted form; returns the position after the name's wire form. Pointers
/// must point strictly backwards (no loops); a name longer than
/// [`MAX_NAME_LEN`] bytes is cut to it.
pub fn read_name(msg: &[u8], pos: usize, out: &mut Vec<u8>) -> Result<usize, DnsError> {
    let mut r = Reader::at(msg, pos);
    name_into(&mut r, out)?;
    Ok(r.pos())
}

/// The name at `r`'s position, `r` moved past its wire form.
pub(super) fn name(r: &mut Reader<'_>) -> Result<DnsName, DnsError> {
    thread_local! {
        /// Where names are decoded before they are copied out at their
        /// length: one allocation per name instead of one per growth.
        static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    SCRATCH.with(|scratch| {
        let mut out = scratch.borrow_mut();
        out.clear();
        let truncated = name_into(r, &mut out)?;
        Ok(DnsName {
            bytes: Box::from(&out[..]),
            truncated,
        })
    })
}

/// Decodes the name at `r`'s position into `out` (empty); `r` ends after
/// the name's wire form (after its first pointer, when it has one).
/// Pointers reach back into the bytes before `r`'s position. Whether the
/// name was cut.
fn name_into(r: &mut Reader<'_>, out: &mut Vec<u8>) -> Result<bool, DnsError> {
    let mut end = None;
    let mut pointers = 0;
    let mut segments = 0;
    let mut truncated = false;
    // Every label must start before the last pointer's target, so a chain
    // of pointers can only move backwards and always ends.
    let mut limit = r.pos() + r.left();
    loop {
        let at = r.pos();
        let len = r.u8().ok_or(DnsError::Truncated)?;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    break;
                }
                let label = r.take(usize::from(len)).ok_or(DnsError::Truncated)?;
                if !truncated {
                    if !out.is_empty() {
                        out.push(b'.');
                    }
                    out.extend_from_slice(label);
                }
                if r.pos() >= limit {
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
        segments += 1;
        if segments > MAX_SEGMENTS {
            if end.is_none() {
                return Err(DnsError::BadName);
            }
            truncated = true;
        }
        if out.len() > MAX_NAME_LEN {
            out.truncate(MAX_NAME_LEN);
            truncated = true;
        }
        // Past a pointer the name's wire form has ended: stop once cut.
        if truncated && end.is_some() {
            break;
        }
    }
    if let Some(end) = end {
        r.seek(end).ok_or(DnsError::Truncated)?;
    }
    Ok(truncated)
}
