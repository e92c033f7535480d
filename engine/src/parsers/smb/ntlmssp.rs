//! NTLMSSP (MS-NLMP §2.2.1.3): the AUTHENTICATE message's domain, user
//! and workstation names and the client's version, found as Suricata finds
//! them — after the first `NTLMSSP\0` signature in a security blob.

use super::strip_zeros;
use crate::parsers::reader::Reader;

/// The signature and message type's length, which the field offsets count.
const ID_TYPE_LEN: usize = 12;
/// NTLMSSP_AUTH.
const AUTHENTICATE: u32 = 3;
/// NTLMSSP_NEGOTIATE_VERSION.
const NEGOTIATE_VERSION: u32 = 0x0200_0000;

/// An AUTHENTICATE message's names (zero bytes left out, as Suricata
/// reads the UTF-16 text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ntlmssp {
    /// The domain.
    pub domain: Box<str>,
    /// The user.
    pub user: Box<str>,
    /// The workstation.
    pub host: Box<str>,
    /// The client's version: major, minor, build, NTLM revision.
    pub version: Option<(u8, u8, u16, u8)>,
    /// The names overlap (Suricata's `warning`).
    pub warning: bool,
}

/// The AUTHENTICATE message in `blob`, if that is what its first NTLMSSP
/// message is and it reads.
pub(super) fn authenticate(blob: &[u8]) -> Option<Ntlmssp> {
    let at = blob.windows(8).position(|w| w == b"NTLMSSP\0")?;
    let mut r = Reader::new(blob.get(at + 8..)?);
    (r.u32_le()? == AUTHENTICATE).then_some(())?;
    let rec = r.rest();
    let mut r = Reader::new(rec);
    let limit = rec.len() + ID_TYPE_LEN;
    // Six security buffers: length, maximum length, offset.
    let mut fields = [(0u16, 0u32); 6];
    for f in &mut fields {
        let len = r.u16_le()?;
        r.u16_le()?;
        let off = r.u32_le()?;
        (usize::from(len) < limit && (off as usize) < limit).then_some(())?;
        *f = (len, off);
    }
    let flags = r.u32_le()?;
    let version = if flags & NEGOTIATE_VERSION != 0 {
        let major = r.u8()?;
        let minor = r.u8()?;
        let build = r.u16_le()?;
        r.take(3)?;
        Some((major, minor, build, r.u8()?))
    } else {
        None
    };
    let part = |(len, off): (u16, u32)| -> Option<&[u8]> {
        let start = (off as usize).checked_sub(ID_TYPE_LEN)?;
        rec.get(start..start + usize::from(len))
    };
    let [_, _, domain, user, host, _] = fields;
    let warning = (user.1 > 0 && user.1 < domain.1 + u32::from(domain.0))
        || (host.1 > 0 && host.1 < user.1 + u32::from(user.0));
    Some(Ntlmssp {
        domain: strip_zeros(part(domain)?),
        user: strip_zeros(part(user)?),
        host: strip_zeros(part(host)?),
        version,
        warning,
    })
}
