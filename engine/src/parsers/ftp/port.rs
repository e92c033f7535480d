//! The data connection ports of FTP's `PORT h1,h2,h3,h4,p1,p2` and
//! `EPRT |af|addr|port|` commands and of the `227 … (h1,h2,h3,h4,p1,p2)`
//! PASV and `229 … (|||port|)` EPSV replies, read as Suricata reads them.
//! `None` for anything malformed or a port of 0.

use crate::parsers::digits::decimal_prefix;

/// The most digits a number of these lines may have.
const DIGITS: usize = 5;

/// `h1,h2,h3,h4,p1,p2`: the port, and what follows.
fn six(mut b: &[u8]) -> Option<(u16, &[u8])> {
    let mut v = [0u64; 6];
    for (i, slot) in v.iter_mut().enumerate() {
        if i > 0 {
            b = b.strip_prefix(b",")?;
        }
        let (n, rest) = decimal_prefix(b, DIGITS)?;
        *slot = n;
        b = rest;
    }
    if v[4] > 255 || v[5] > 255 {
        return None;
    }
    let port = u16::try_from(v[4] * 256 + v[5]).ok()?;
    (port != 0).then_some((port, b))
}

/// The port of a `PORT` command line.
pub fn active_port(line: &[u8]) -> Option<u16> {
    let rest = strip_ci(line, b"PORT ")?;
    six(rest).map(|(p, _)| p)
}

/// The port of an `EPRT` command line.
pub fn active_eprt(line: &[u8]) -> Option<u16> {
    let rest = strip_ci(line, b"EPRT |")?;
    // Address family, then the address.
    let mut fields = rest.split(|&b| b == b'|');
    let _af = fields.next()?;
    let _addr = fields.next()?;
    let port = fields.next()?;
    let (v, tail) = decimal_prefix(port, DIGITS)?;
    if !tail.is_empty() {
        return None;
    }
    u16::try_from(v).ok().filter(|&p| p != 0)
}

/// The port of a `227` PASV reply line.
pub fn pasv_reply(line: &[u8]) -> Option<u16> {
    let open = line.iter().position(|&b| b == b'(')?;
    let (port, rest) = six(&line[open + 1..])?;
    rest.starts_with(b")").then_some(port)
}

/// The port of a `229` EPSV reply line.
pub fn epsv_reply(line: &[u8]) -> Option<u16> {
    const OPEN: &[u8] = b"(|||";
    let at = line.windows(OPEN.len()).position(|w| w == OPEN)?;
    let (v, rest) = decimal_prefix(&line[at + OPEN.len()..], DIGITS)?;
    if !rest.starts_with(b"|)") {
        return None;
    }
    u16::try_from(v).ok().filter(|&p| p != 0)
}

fn strip_ci<'a>(line: &'a [u8], tag: &[u8]) -> Option<&'a [u8]> {
    let head = line.get(..tag.len())?;
    head.eq_ignore_ascii_case(tag).then(|| &line[tag.len()..])
}
