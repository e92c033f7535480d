//! DNS message decoding: the header, the questions and the resource
//! records of each section, record data decoded by type (A, AAAA, names,
//! MX, TXT, SOA, SRV, CAA, SVCB/HTTPS, EDNS with client subnet; raw bytes
//! otherwise), and the plausible-DNS check content probes use.

use super::name::name;
use super::{
    ClientSubnet, DnsError, DnsKind, DnsMessage, DnsQuestion, DnsRecord, Edns, MAX_RECORDS, RData,
    rrtype,
};
use crate::parsers::reader::Reader;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Fixed header length.
const HEADER_LEN: usize = 12;
/// Bytes of one TXT/unknown rdata kept.
const MAX_RDATA: usize = 1024;

fn record(r: &mut Reader<'_>) -> Result<DnsRecord, DnsError> {
    let name = name(r)?;
    let rrtype = r.u16().ok_or(DnsError::Truncated)?;
    let class = r.u16().ok_or(DnsError::Truncated)?;
    let ttl = r.u32().ok_or(DnsError::Truncated)?;
    let rdlen = usize::from(r.u16().ok_or(DnsError::Truncated)?);
    // Names inside rdata may point anywhere before them in the message.
    let mut sub = r.window(rdlen).ok_or(DnsError::Truncated)?;
    let rdata = sub.clone().rest();
    let data = rdata_of(rrtype, class, ttl, rdata, &mut sub).unwrap_or_else(|| raw(rdata));
    Ok(DnsRecord {
        name,
        rrtype,
        class,
        ttl,
        data,
    })
}

fn raw(b: &[u8]) -> RData {
    RData::Raw(b[..b.len().min(MAX_RDATA)].into())
}

/// The data of a record of this type, class and TTL: `rdata` as bytes,
/// `r` as a reader over the message that ends with them. `None` when it
/// does not decode as its type (it is then kept raw).
fn rdata_of(rrtype: u16, class: u16, ttl: u32, rdata: &[u8], r: &mut Reader<'_>) -> Option<RData> {
    use rrtype::*;
    Some(match rrtype {
        A => {
            let b: [u8; 4] = rdata.try_into().ok()?;
            RData::A(Ipv4Addr::from(b))
        }
        AAAA => {
            let b: [u8; 16] = rdata.try_into().ok()?;
            RData::Aaaa(Ipv6Addr::from(b))
        }
        CNAME | NS | PTR | 39 => RData::Name(name(r).ok()?),
        MX => RData::Mx {
            preference: r.u16()?,
            exchange: name(r).ok()?,
        },
        TXT => {
            let mut strings = Vec::new();
            let mut kept = 0;
            while r.any_left() {
                let s = r.vec8()?;
                let n = s.len();
                if kept + n <= MAX_RDATA {
                    strings.push(s.into());
                    kept += n;
                }
            }
            RData::Txt(strings)
        }
        SOA => RData::Soa {
            mname: name(r).ok()?,
            rname: name(r).ok()?,
            serial: r.u32()?,
            refresh: r.u32()?,
            retry: r.u32()?,
            expire: r.u32()?,
            minimum: r.u32()?,
        },
        SRV => RData::Srv {
            priority: r.u16()?,
            weight: r.u16()?,
            port: r.u16()?,
            target: name(r).ok()?,
        },
        CAA => {
            let flags = r.u8()?;
            let tag = r.vec8()?.into();
            let value = r.rest();
            RData::Caa {
                flags,
                tag,
                value: value[..value.len().min(MAX_RDATA)].into(),
            }
        }
        SVCB | HTTPS => {
            let priority = r.u16()?;
            let target = name(r).ok()?;
            let mut alpn = Vec::new();
            let mut keys = Vec::new();
            while r.any_left() {
                let key = r.u16()?;
                let value = r.vec16()?;
                if keys.len() < 64 {
                    keys.push(key);
                }
                if key == 1 {
                    let mut v = Reader::new(value);
                    while v.any_left() && alpn.len() < 16 {
                        alpn.push(v.vec8()?.into());
                    }
                }
            }
            RData::Svcb {
                priority,
                target,
                alpn,
                keys,
            }
        }
        OPT => {
            let mut options = Vec::new();
            let mut client_subnet = None;
            while r.any_left() {
                let code = r.u16()?;
                let value = r.vec16()?;
                if options.len() < 64 {
                    options.push(code);
                }
                if code == 8 {
                    client_subnet = client_subnet_of(value);
                }
            }
            RData::Opt(Edns {
                udp_size: class,
                ext_rcode: (ttl >> 24) as u8,
                version: (ttl >> 16) as u8,
                dnssec_ok: ttl & 0x8000 != 0,
                client_subnet,
                options,
            })
        }
        _ => raw(rdata),
    })
}

fn client_subnet_of(v: &[u8]) -> Option<ClientSubnet> {
    let mut r = Reader::new(v);
    let family = r.u16()?;
    let source_prefix = r.u8()?;
    let scope_prefix = r.u8()?;
    let addr = r.rest();
    let address = match family {
        1 if addr.len() <= 4 => {
            let mut b = [0u8; 4];
            b[..addr.len()].copy_from_slice(addr);
            Ipv4Addr::from(b).into()
        }
        2 if addr.len() <= 16 => {
            let mut b = [0u8; 16];
            b[..addr.len()].copy_from_slice(addr);
            Ipv6Addr::from(b).into()
        }
        _ => return None,
    };
    Some(ClientSubnet {
        family,
        source_prefix,
        scope_prefix,
        address,
    })
}

/// Decodes one DNS message. Sections past 256 records (`MAX_RECORDS`) are
/// counted in `records_skipped`; a record that runs past the end fails the
/// whole message only if no question could be read.
pub fn parse_message(msg: &[u8], tcp: bool) -> Result<DnsMessage, DnsError> {
    if msg.len() < HEADER_LEN {
        return Err(DnsError::Truncated);
    }
    let mut r = Reader::new(msg);
    let mut u16 = || r.u16().ok_or(DnsError::Truncated);
    let id = u16()?;
    let flags = u16()?;
    let counts = [u16()?, u16()?, u16()?, u16()?];
    let kind = if flags & 0x8000 != 0 {
        DnsKind::Answer
    } else {
        DnsKind::Query
    };
    let mut m = DnsMessage::empty(kind, tcp, id, flags);
    for _ in 0..counts[0] {
        if m.questions.len() >= MAX_RECORDS {
            m.records_skipped += 1;
            continue;
        }
        let name = name(&mut r)?;
        let rrtype = r.u16().ok_or(DnsError::Truncated)?;
        let class = r.u16().ok_or(DnsError::Truncated)?;
        m.questions.push(DnsQuestion {
            name,
            rrtype,
            class,
        });
    }
    for (section, &count) in counts[1..].iter().enumerate() {
        for _ in 0..count {
            let list = match section {
                0 => &mut m.answers,
                1 => &mut m.authorities,
                _ => &mut m.additionals,
            };
            if list.len() >= MAX_RECORDS {
                m.records_skipped += 1;
                continue;
            }
            match record(&mut r) {
                Ok(rec) => list.push(rec),
                // A damaged tail: keep what was read (the question and the
                // records before it), like the other tools do.
                Err(e) if m.questions.is_empty() && list.is_empty() && section == 0 => {
                    return Err(e);
                }
                Err(_) => {
                    m.records_skipped += 1;
                    return Ok(m);
                }
            }
        }
    }
    Ok(m)
}

/// The plausible-DNS check used by content probes (on DNS ports): a known
/// opcode, a few questions at most, and a message that decodes with a
/// question or (inverse queries) an answer.
pub fn looks_like_dns(payload: &[u8]) -> bool {
    if payload.len() < HEADER_LEN {
        return false;
    }
    let qd = u16::from_be_bytes([payload[4], payload[5]]);
    let opcode = (payload[2] >> 3) & 0xf;
    if qd > 16 || !matches!(opcode, 0 | 1 | 2 | 4 | 5 | 6) {
        return false;
    }
    parse_message(payload, false)
        .is_ok_and(|m| !m.questions.is_empty() || (opcode == 1 && !m.answers.is_empty()))
}
