//! DNS over UDP ([`DnsUdpParser`]) and over TCP ([`DnsTcpParser`], 2-byte
//! length framing): messages decoded into [`DnsMessage`]s, queries matched
//! to their responses (RTT), queries never answered reported once they time
//! out or the flow ends (`transport`). Messages are decoded in
//! `message`, names decompressed with loop protection in `name` (names
//! over 1025 bytes cut and flagged, as Suricata does); every list and
//! buffer is capped.

mod message;
mod name;
mod transport;

pub use message::{looks_like_dns, parse_message};
pub use name::{DnsName, MAX_NAME_LEN, read_name};
pub use transport::{DnsTcpParser, DnsUdpParser, NAME_TOO_LONG};

use std::net::{Ipv4Addr, Ipv6Addr};

/// Records kept per section (the rest are counted, not decoded).
const MAX_RECORDS: usize = 256;

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

/// The mnemonic of a record type, as Suricata names it (`None` for types
/// without one; EVE prints those as their number).
pub fn rrtype_name(t: u16) -> Option<&'static str> {
    Some(match t {
        1 => "A",
        2 => "NS",
        3 => "MD",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAPPTR",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        55 => "HIP",
        59 => "CDS",
        60 => "CDNSKEY",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        254 => "MAILA",
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
    /// A compression pointer loop, a forward pointer, or a name of more
    /// labels than a name without pointers may have.
    BadName,
    /// A reserved label type.
    BadLabel,
}

/// A question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuestion {
    /// Name in dotted form.
    pub name: DnsName,
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
    Name(DnsName),
    /// MX.
    Mx {
        /// Preference.
        preference: u16,
        /// Mail exchange.
        exchange: DnsName,
    },
    /// TXT: its strings.
    Txt(Vec<Box<[u8]>>),
    /// SOA.
    Soa {
        /// Primary name server.
        mname: DnsName,
        /// Responsible mailbox.
        rname: DnsName,
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
        target: DnsName,
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
        target: DnsName,
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
    pub name: DnsName,
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
    /// Records announced but not decoded (over 256 per section).
    pub records_skipped: u32,
    /// Response: time since the matching query. Unanswered: how long it
    /// waited.
    pub rtt_us: Option<u64>,
    /// The flow's transaction number, from 0: every query and every
    /// response is a transaction of its own (Suricata 7's numbering); an
    /// unanswered report keeps its query's.
    pub tx_id: u64,
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
            tx_id: 0,
        }
    }
    /// The header fields alone (no question, no record).
    fn header(&self) -> DnsMessage {
        DnsMessage {
            tx_id: self.tx_id,
            ..DnsMessage::empty(self.kind, self.tcp, self.id, self.flags)
        }
    }

    /// Whether a name of the message was cut to [`MAX_NAME_LEN`] bytes.
    pub fn has_cut_name(&self) -> bool {
        let cut = |n: &DnsName| n.truncated;
        self.questions.iter().any(|q| cut(&q.name))
            || self
                .answers
                .iter()
                .chain(&self.authorities)
                .chain(&self.additionals)
                .any(|r| {
                    cut(&r.name)
                        || match &r.data {
                            RData::Name(n)
                            | RData::Mx { exchange: n, .. }
                            | RData::Srv { target: n, .. }
                            | RData::Svcb { target: n, .. } => cut(n),
                            RData::Soa { mname, rname, .. } => cut(mname) || cut(rname),
                            _ => false,
                        }
                })
    }

    /// The EDNS data, if an OPT record came with the message.
    pub fn edns(&self) -> Option<&Edns> {
        self.additionals.iter().find_map(|r| match &r.data {
            RData::Opt(e) => Some(e),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests;
