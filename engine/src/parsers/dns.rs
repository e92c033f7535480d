//! DNS over UDP ([`DnsUdpParser`]) and over TCP ([`DnsTcpParser`], 2-byte
//! length framing): messages decoded into [`DnsMessage`]s, queries matched
//! to their responses (RTT), queries never answered reported once they time
//! out or the flow ends. Names are decompressed with loop and length
//! protection; every list and buffer is capped.

use super::{DnsConfig, L7Message};
use crate::FlowSide;
use crate::session::{DatagramParser, SessionParser};
use crate::timestamp::Timestamp;
use std::collections::VecDeque;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Fixed header length.
const HEADER_LEN: usize = 12;
/// Longest name in presentation form we keep (RFC 1035: 255 on the wire).
const MAX_NAME_LEN: usize = 255;
/// Most compression pointers followed in one name.
const MAX_POINTERS: usize = 32;
/// Records kept per section (the rest are counted, not decoded).
const MAX_RECORDS: usize = 256;
/// Bytes of one TXT/unknown rdata kept.
const MAX_RDATA: usize = 1024;

/// Well-known record types.
pub mod rrtype {
    /// IPv4 address.
    pub const A: u16 = 1;
    /// Name server.
    pub const NS: u16 = 2;
    /// Canonical name.
    pub const CNAME: u16 = 5;
    /// Start of authority.
    pub const SOA: u16 = 6;
    /// Domain name pointer.
    pub const PTR: u16 = 12;
    /// Mail exchange.
    pub const MX: u16 = 15;
    /// Text.
    pub const TXT: u16 = 16;
    /// IPv6 address.
    pub const AAAA: u16 = 28;
    /// Service locator.
    pub const SRV: u16 = 33;
    /// EDNS pseudo-record.
    pub const OPT: u16 = 41;
    /// Service binding.
    pub const SVCB: u16 = 64;
    /// HTTPS service binding.
    pub const HTTPS: u16 = 65;
    /// Certification authority authorisation.
    pub const CAA: u16 = 257;
}

/// The mnemonic of a record type (`None` for types without one here; EVE
/// prints those as `TYPEnnn`).
pub fn rrtype_name(t: u16) -> Option<&'static str> {
    Some(match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        13 => "HINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        24 => "SIG",
        25 => "KEY",
        28 => "AAAA",
        29 => "LOC",
        33 => "SRV",
        35 => "NAPTR",
        39 => "DNAME",
        41 => "OPT",
        43 => "DS",
        44 => "SSHFP",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        _ => return None,
    })
}

/// The mnemonic of a response code.
pub fn rcode_name(rcode: u16) -> Option<&'static str> {
    Some(match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        16 => "BADVERS",
        _ => return None,
    })
}

/// Why a DNS message could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsError {
    /// Shorter than its header or a record it announces.
    Truncated,
    /// A compression pointer loop, a forward pointer, or a name too long.
    BadName,
    /// A reserved label type.
    BadLabel,
}

/// A question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuestion {
    /// Name in dotted form (raw bytes: labels may hold anything).
    pub name: Box<[u8]>,
    /// Record type asked for.
    pub rrtype: u16,
    /// Class.
    pub class: u16,
}

/// The decoded data of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RData {
    /// A.
    A(Ipv4Addr),
    /// AAAA.
    Aaaa(Ipv6Addr),
    /// CNAME, NS, PTR, DNAME: one name.
    Name(Box<[u8]>),
    /// MX.
    Mx {
        /// Preference.
        preference: u16,
        /// Mail exchange.
        exchange: Box<[u8]>,
    },
    /// TXT: its strings.
    Txt(Vec<Box<[u8]>>),
    /// SOA.
    Soa {
        /// Primary name server.
        mname: Box<[u8]>,
        /// Responsible mailbox.
        rname: Box<[u8]>,
        /// Serial.
        serial: u32,
        /// Refresh interval.
        refresh: u32,
        /// Retry interval.
        retry: u32,
        /// Expiry.
        expire: u32,
        /// Negative-caching TTL.
        minimum: u32,
    },
    /// SRV.
    Srv {
        /// Priority.
        priority: u16,
        /// Weight.
        weight: u16,
        /// Port.
        port: u16,
        /// Target host.
        target: Box<[u8]>,
    },
    /// CAA.
    Caa {
        /// Flags (bit 7: critical).
        flags: u8,
        /// Property tag (`issue`, `iodef`, ...).
        tag: Box<[u8]>,
        /// Value.
        value: Box<[u8]>,
    },
    /// SVCB / HTTPS: priority, target and the ALPN ids.
    Svcb {
        /// 0: alias mode.
        priority: u16,
        /// Target name (`.` for the owner).
        target: Box<[u8]>,
        /// ALPN protocol ids (SvcParam 1).
        alpn: Vec<Box<[u8]>>,
        /// Every SvcParam key present, in order.
        keys: Vec<u16>,
    },
    /// OPT (EDNS).
    Opt(Edns),
    /// Anything else: the raw bytes (at most 1 KiB kept).
    Raw(Box<[u8]>),
}

/// EDNS information from an OPT pseudo-record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edns {
    /// Requestor's UDP payload size (the record's class).
    pub udp_size: u16,
    /// Upper 8 bits of the extended RCODE.
    pub ext_rcode: u8,
    /// EDNS version.
    pub version: u8,
    /// DNSSEC OK bit.
    pub dnssec_ok: bool,
    /// Client subnet option (RFC 7871): family, source prefix, scope
    /// prefix and the address.
    pub client_subnet: Option<ClientSubnet>,
    /// Option codes present, in order.
    pub options: Vec<u16>,
}

/// An EDNS client-subnet option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSubnet {
    /// Address family (1 IPv4, 2 IPv6).
    pub family: u16,
    /// Source prefix length.
    pub source_prefix: u8,
    /// Scope prefix length.
    pub scope_prefix: u8,
    /// The address, zero-padded.
    pub address: std::net::IpAddr,
}

/// A resource record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// Owner name.
    pub name: Box<[u8]>,
    /// Type.
    pub rrtype: u16,
    /// Class.
    pub class: u16,
    /// TTL.
    pub ttl: u32,
    /// Decoded data.
    pub data: RData,
}

/// Which kind of report a [`DnsMessage`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsKind {
    /// A query (QR = 0).
    Query,
    /// A response (QR = 1).
    Answer,
    /// A query that got no response before `query_timeout` or the flow's
    /// end (only the header and questions are filled in).
    Unanswered,
}

/// One DNS message, or an unanswered-query report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsMessage {
    /// Query, answer or unanswered report.
    pub kind: DnsKind,
    /// Carried over TCP.
    pub tcp: bool,
    /// Transaction id.
    pub id: u16,
    /// The header's flags word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE).
    pub flags: u16,
    /// Questions.
    pub questions: Vec<DnsQuestion>,
    /// Answer section.
    pub answers: Vec<DnsRecord>,
    /// Authority section.
    pub authorities: Vec<DnsRecord>,
    /// Additional section (the OPT record included).
    pub additionals: Vec<DnsRecord>,
    /// Records announced but not decoded (over [`MAX_RECORDS`] per section).
    pub records_skipped: u32,
    /// Response: time since the matching query. Unanswered: how long it
    /// waited.
    pub rtt_us: Option<u64>,
}

impl DnsMessage {
    /// QR bit.
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    /// Opcode.
    pub fn opcode(&self) -> u16 {
        (self.flags >> 11) & 0xf
    }
    /// RCODE (4 header bits).
    pub fn rcode(&self) -> u16 {
        self.flags & 0xf
    }
    /// A message with these header fields and no question or record.
    fn empty(kind: DnsKind, tcp: bool, id: u16, flags: u16) -> DnsMessage {
        DnsMessage {
            kind,
            tcp,
            id,
            flags,
            questions: Vec::new(),
            answers: Vec::new(),
            authorities: Vec::new(),
            additionals: Vec::new(),
            records_skipped: 0,
            rtt_us: None,
        }
    }
    /// The header fields alone (no question, no record).
    fn header(&self) -> DnsMessage {
        DnsMessage::empty(self.kind, self.tcp, self.id, self.flags)
    }

    /// The EDNS data, if an OPT record came with the message.
    pub fn edns(&self) -> Option<&Edns> {
        self.additionals.iter().find_map(|r| match &r.data {
            RData::Opt(e) => Some(e),
            _ => None,
        })
    }
}

/// A bounds-checked reader over one message.
struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Result<u8, DnsError> {
        let v = *self.msg.get(self.pos).ok_or(DnsError::Truncated)?;
        self.pos += 1;
        Ok(v)
    }
    fn u16(&mut self) -> Result<u16, DnsError> {
        Ok(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }
    fn u32(&mut self) -> Result<u32, DnsError> {
        Ok(u32::from(self.u16()?) << 16 | u32::from(self.u16()?))
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DnsError> {
        let end = self.pos.checked_add(n).ok_or(DnsError::Truncated)?;
        let s = self.msg.get(self.pos..end).ok_or(DnsError::Truncated)?;
        self.pos = end;
        Ok(s)
    }
    fn name(&mut self) -> Result<Box<[u8]>, DnsError> {
        let mut out = Vec::new();
        self.pos = read_name(self.msg, self.pos, &mut out)?;
        Ok(out.into_boxed_slice())
    }
}

/// Decodes the (possibly compressed) name at `pos` of `msg` into `out` in
/// dotted form; returns the position after the name's wire form. Pointers
/// must point strictly backwards (no loops) and the name must stay within
/// 255 bytes.
pub fn read_name(msg: &[u8], mut pos: usize, out: &mut Vec<u8>) -> Result<usize, DnsError> {
    let mut end = None;
    let mut pointers = 0;
    // Every label must start before the last pointer's target, so a chain
    // of pointers can only move backwards and always ends.
    let mut limit = msg.len();
    loop {
        let len = *msg.get(pos).ok_or(DnsError::Truncated)?;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    return Ok(end.unwrap_or(pos + 1));
                }
                let label = msg
                    .get(pos + 1..pos + 1 + usize::from(len))
                    .ok_or(DnsError::Truncated)?;
                if !out.is_empty() {
                    out.push(b'.');
                }
                out.extend_from_slice(label);
                if out.len() > MAX_NAME_LEN {
                    return Err(DnsError::BadName);
                }
                pos += 1 + usize::from(len);
                if pos >= limit {
                    return Err(DnsError::BadName);
                }
            }
            0xc0 => {
                let lo = *msg.get(pos + 1).ok_or(DnsError::Truncated)?;
                let target = usize::from(u16::from_be_bytes([len & 0x3f, lo]));
                pointers += 1;
                if target >= pos || pointers > MAX_POINTERS {
                    return Err(DnsError::BadName);
                }
                end.get_or_insert(pos + 2);
                limit = pos;
                pos = target;
            }
            _ => return Err(DnsError::BadLabel),
        }
    }
}

fn record(r: &mut Reader<'_>) -> Result<DnsRecord, DnsError> {
    let name = r.name()?;
    let rrtype = r.u16()?;
    let class = r.u16()?;
    let ttl = r.u32()?;
    let rdlen = usize::from(r.u16()?);
    let start = r.pos;
    let rdata = r.take(rdlen)?;
    // Names inside rdata may point anywhere before them in the message.
    let mut sub = Reader {
        msg: &r.msg[..start + rdlen],
        pos: start,
    };
    let data = rdata_of(rrtype, class, ttl, rdata, &mut sub).unwrap_or_else(|_| raw(rdata));
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

fn rdata_of(
    rrtype: u16,
    class: u16,
    ttl: u32,
    rdata: &[u8],
    r: &mut Reader<'_>,
) -> Result<RData, DnsError> {
    use rrtype::*;
    Ok(match rrtype {
        A => {
            let b: [u8; 4] = rdata.try_into().map_err(|_| DnsError::Truncated)?;
            RData::A(Ipv4Addr::from(b))
        }
        AAAA => {
            let b: [u8; 16] = rdata.try_into().map_err(|_| DnsError::Truncated)?;
            RData::Aaaa(Ipv6Addr::from(b))
        }
        CNAME | NS | PTR | 39 => RData::Name(r.name()?),
        MX => RData::Mx {
            preference: r.u16()?,
            exchange: r.name()?,
        },
        TXT => {
            let mut strings = Vec::new();
            let mut kept = 0;
            while r.pos < r.msg.len() {
                let n = usize::from(r.u8()?);
                let s = r.take(n)?;
                if kept + n <= MAX_RDATA {
                    strings.push(s.into());
                    kept += n;
                }
            }
            RData::Txt(strings)
        }
        SOA => RData::Soa {
            mname: r.name()?,
            rname: r.name()?,
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
            target: r.name()?,
        },
        CAA => {
            let flags = r.u8()?;
            let tag_len = usize::from(r.u8()?);
            let tag = r.take(tag_len)?.into();
            let rest = r.msg.len() - r.pos;
            let value = r.take(rest)?;
            RData::Caa {
                flags,
                tag,
                value: value[..value.len().min(MAX_RDATA)].into(),
            }
        }
        SVCB | HTTPS => {
            let priority = r.u16()?;
            let target = r.name()?;
            let mut alpn = Vec::new();
            let mut keys = Vec::new();
            while r.pos < r.msg.len() {
                let key = r.u16()?;
                let len = usize::from(r.u16()?);
                let value = r.take(len)?;
                if keys.len() < 64 {
                    keys.push(key);
                }
                if key == 1 {
                    let mut v = Reader { msg: value, pos: 0 };
                    while v.pos < value.len() && alpn.len() < 16 {
                        let n = usize::from(v.u8()?);
                        alpn.push(v.take(n)?.into());
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
            while r.pos < r.msg.len() {
                let code = r.u16()?;
                let len = usize::from(r.u16()?);
                let value = r.take(len)?;
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
    let family = u16::from_be_bytes([*v.first()?, *v.get(1)?]);
    let source_prefix = *v.get(2)?;
    let scope_prefix = *v.get(3)?;
    let addr = v.get(4..)?;
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

/// Decodes one DNS message. Sections past [`MAX_RECORDS`] records are
/// counted in `records_skipped`; a record that runs past the end fails the
/// whole message only if no question could be read.
pub fn parse_message(msg: &[u8], tcp: bool) -> Result<DnsMessage, DnsError> {
    if msg.len() < HEADER_LEN {
        return Err(DnsError::Truncated);
    }
    let mut r = Reader { msg, pos: 0 };
    let id = r.u16()?;
    let flags = r.u16()?;
    let counts = [r.u16()?, r.u16()?, r.u16()?, r.u16()?];
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
        let name = r.name()?;
        let rrtype = r.u16()?;
        let class = r.u16()?;
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

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Query/response matching shared by the UDP and TCP parsers.
#[derive(Debug, Clone)]
struct Correlator {
    cfg: DnsConfig,
    now: Timestamp,
    /// Queries waiting for a response, oldest first.
    pending: VecDeque<(Timestamp, DnsMessage)>,
    /// Messages that failed to decode (counted, skipped).
    malformed: u64,
}

impl Correlator {
    fn new(cfg: DnsConfig) -> Self {
        Correlator {
            cfg,
            now: Timestamp::default(),
            pending: VecDeque::new(),
            malformed: 0,
        }
    }

    fn unanswered(&self, at: Timestamp, mut q: DnsMessage) -> L7Message {
        q.kind = DnsKind::Unanswered;
        q.rtt_us = Some(micros(self.now.saturating_sub(at)));
        L7Message::Dns(Box::new(q))
    }

    /// Reports queries older than the timeout.
    fn expire(&mut self, out: &mut Vec<L7Message>) {
        let timeout = self.cfg.query_timeout_ms.saturating_mul(1000);
        while let Some((at, _)) = self.pending.front() {
            if micros(self.now.saturating_sub(*at)) < timeout {
                break;
            }
            if let Some((at, q)) = self.pending.pop_front()
                && self.cfg.report_unanswered
            {
                out.push(self.unanswered(at, q));
            }
        }
    }

    fn message(&mut self, payload: &[u8], tcp: bool, out: &mut Vec<L7Message>) {
        self.expire(out);
        let mut m = match parse_message(payload, tcp) {
            Ok(m) => m,
            Err(_) => {
                self.malformed += 1;
                return;
            }
        };
        if m.is_response() {
            let q = self
                .pending
                .iter()
                .position(|(_, q)| q.id == m.id && q.questions == m.questions);
            if let Some(i) = q
                && let Some((at, _)) = self.pending.remove(i)
            {
                m.rtt_us = Some(micros(self.now.saturating_sub(at)));
            }
        } else if self.cfg.max_pending > 0 {
            if self.pending.len() >= self.cfg.max_pending
                && let Some((at, q)) = self.pending.pop_front()
                && self.cfg.report_unanswered
            {
                out.push(self.unanswered(at, q));
            }
            // Only the header and questions are needed to match and report.
            let mut q = m.header();
            q.questions = m.questions.clone();
            self.pending.push_back((self.now, q));
        }
        out.push(L7Message::Dns(Box::new(m)));
    }

    fn end(&mut self) -> Vec<L7Message> {
        let mut out = Vec::new();
        for (at, q) in std::mem::take(&mut self.pending) {
            if self.cfg.report_unanswered {
                out.push(self.unanswered(at, q));
            }
        }
        out
    }
}

/// DNS over UDP: one message per datagram.
#[derive(Debug, Clone)]
pub struct DnsUdpParser {
    corr: Correlator,
}

impl Default for DnsUdpParser {
    fn default() -> Self {
        DnsUdpParser::new(DnsConfig::default())
    }
}

impl DnsUdpParser {
    /// A parser with these options.
    pub fn new(cfg: DnsConfig) -> Self {
        DnsUdpParser {
            corr: Correlator::new(cfg),
        }
    }

    /// Datagrams that did not decode as DNS (skipped).
    pub fn malformed(&self) -> u64 {
        self.corr.malformed
    }
}

impl DatagramParser for DnsUdpParser {
    type Message = L7Message;

    fn parse(&mut self, payload: &[u8], _side: FlowSide) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.corr.message(payload, false, &mut out);
        out
    }

    fn packet_time(&mut self, ts: Timestamp) {
        self.corr.now = ts;
    }

    fn flow_end(&mut self) -> Vec<L7Message> {
        self.corr.end()
    }
}

/// One direction's framing state.
#[derive(Debug, Clone, Default)]
struct Framer {
    /// Bytes of an incomplete message (length prefix included).
    buf: Vec<u8>,
    /// After a gap: the next feed starts a fresh message.
    lost: bool,
}

/// DNS over TCP: each message is preceded by its 2-byte length; messages
/// may share a segment or span several.
#[derive(Debug, Clone)]
pub struct DnsTcpParser {
    corr: Correlator,
    sides: [Framer; 2],
}

impl Default for DnsTcpParser {
    fn default() -> Self {
        DnsTcpParser::new(DnsConfig::default())
    }
}

impl DnsTcpParser {
    /// A parser with these options.
    pub fn new(cfg: DnsConfig) -> Self {
        DnsTcpParser {
            corr: Correlator::new(cfg),
            sides: Default::default(),
        }
    }

    /// Messages that did not decode (skipped).
    pub fn malformed(&self) -> u64 {
        self.corr.malformed
    }

    fn feed(&mut self, k: usize, mut bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        let framer = &mut self.sides[k];
        if framer.lost {
            // Segments usually start at a message: resynchronise there.
            framer.lost = false;
            framer.buf.clear();
        }
        loop {
            let framer = &mut self.sides[k];
            if framer.buf.is_empty() {
                // Whole messages straight from the segment, no copy.
                if bytes.len() < 2 {
                    framer.buf.extend_from_slice(bytes);
                    break;
                }
                let len = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
                if bytes.len() < 2 + len {
                    framer.buf.extend_from_slice(bytes);
                    break;
                }
                let (msg, rest) = bytes[2..].split_at(len);
                self.corr.message(msg, true, &mut out);
                bytes = rest;
                if bytes.is_empty() {
                    break;
                }
            } else {
                // Complete the buffered message (at most 2 + 65535 bytes).
                if framer.buf.len() < 2 {
                    let n = (2 - framer.buf.len()).min(bytes.len());
                    framer.buf.extend_from_slice(&bytes[..n]);
                    bytes = &bytes[n..];
                    if framer.buf.len() < 2 {
                        break;
                    }
                }
                let len = usize::from(u16::from_be_bytes([framer.buf[0], framer.buf[1]]));
                let need = 2 + len - framer.buf.len();
                let n = need.min(bytes.len());
                framer.buf.extend_from_slice(&bytes[..n]);
                bytes = &bytes[n..];
                if framer.buf.len() < 2 + len {
                    break;
                }
                let msg = std::mem::take(&mut framer.buf);
                self.corr.message(&msg[2..], true, &mut out);
                let framer = &mut self.sides[k];
                framer.buf = msg;
                framer.buf.clear();
                if bytes.is_empty() {
                    break;
                }
            }
        }
        out
    }
}

impl SessionParser for DnsTcpParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(0, bytes)
    }
    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(1, bytes)
    }
    fn gap_initiator(&mut self, _len: u64) -> Vec<L7Message> {
        self.sides[0].lost = true;
        Vec::new()
    }
    fn gap_responder(&mut self, _len: u64) -> Vec<L7Message> {
        self.sides[1].lost = true;
        Vec::new()
    }
    fn packet_time(&mut self, ts: Timestamp) {
        self.corr.now = ts;
    }
    fn flow_end(&mut self) -> Vec<L7Message> {
        self.corr.end()
    }
}

#[cfg(test)]
mod tests;
