//! SNMP over UDP ([`SnmpParser`]): v1 (RFC 1157), v2c (RFC 1901, PDUs of
//! RFC 3416) and v3 (RFC 3412, the user-based security model of RFC 3414)
//! messages, requests and responses alike, decoded with a bounded BER
//! reader (the module `parsers::ber`, shared with Kerberos). One [`SnmpMessage`] per datagram that
//! holds a whole message, as Suricata 7 makes one transaction (and one
//! `snmp` record) of each: its PDU type, error status, the variables' OIDs
//! as dotted text, a v1 trap's fields, the v1/v2c community, the v3 user
//! name, or only "encrypted" for a v3 message whose scoped PDU is
//! encrypted. The version reported is the flow's (its first message's), as
//! Suricata reports it; a message of another version is reported
//! (`version_mismatch`). [`probe`]: a datagram that is an SNMP message's
//! envelope (a SEQUENCE of the version 0, 1 or 3 and the elements that
//! version has) is SNMP; ports 161 and 162 ([`SnmpConfig::ports`]) are
//! hints. Caps: [`SnmpConfig::max_vars`] OIDs per PDU (`too_many_vars`),
//! [`MAX_OID_ARCS`] arcs per OID (`oid_too_long`), [`MAX_STRING`] bytes of
//! a community or user name (`long_community`, `long_user_name`), values
//! checked to [`MAX_DEPTH`] levels (`value_too_deep`); a datagram that is
//! no whole message is skipped (`malformed_data`, Suricata's name).

#[cfg(test)]
mod tests;

use super::ber;
use super::reader::Reader;
use super::{L7Message, SnmpConfig};
use crate::AppEvent;
use crate::FlowSide;
use crate::parsers::anomalies::Anomalies;
use crate::session::{DatagramParser, Probe};
use ber::{INTEGER, IP_ADDRESS, OCTET_STRING, OID, OidText, SEQUENCE, TIME_TICKS, Tlv};
pub use ber::{MAX_DEPTH, MAX_OID_ARCS};

/// Longest community or user name kept, in bytes; a longer one is cut.
pub const MAX_STRING: usize = 1024;
/// Anomalies kept per flow before they are taken (the driver takes them
/// after each datagram).
const MAX_PENDING_EVENTS: usize = 8;

/// GetRequest-PDU (the PDU's context tag number, RFC 3416 §3).
pub const GET_REQUEST: u8 = 0;
/// GetNextRequest-PDU.
pub const GET_NEXT_REQUEST: u8 = 1;
/// Response-PDU (v1: GetResponse-PDU).
pub const RESPONSE: u8 = 2;
/// SetRequest-PDU.
pub const SET_REQUEST: u8 = 3;
/// v1's Trap-PDU (RFC 1157 §4.1.6).
pub const TRAP_V1: u8 = 4;
/// GetBulkRequest-PDU.
pub const GET_BULK_REQUEST: u8 = 5;
/// InformRequest-PDU.
pub const INFORM_REQUEST: u8 = 6;
/// SNMPv2-Trap-PDU.
pub const TRAP_V2: u8 = 7;
/// Report-PDU.
pub const REPORT: u8 = 8;

/// A PDU type's name as Suricata writes it (`get_request`...).
pub fn pdu_type_name(t: u8) -> &'static str {
    match t {
        GET_REQUEST => "get_request",
        GET_NEXT_REQUEST => "get_next_request",
        RESPONSE => "response",
        SET_REQUEST => "set_request",
        TRAP_V1 => "trap_v1",
        GET_BULK_REQUEST => "get_bulk_request",
        INFORM_REQUEST => "inform_request",
        TRAP_V2 => "trap_v2",
        _ => "report",
    }
}

/// The name Suricata writes for an error status of RFC 1157 (`TooBig`,
/// `NoSuchName`, `BadValue`, `ReadOnly`, `GenErr`); `None` for others
/// (Suricata writes `ErrorStatus(N)`).
pub fn error_status_name(e: u32) -> Option<&'static str> {
    Some(match e {
        0 => "NoError",
        1 => "TooBig",
        2 => "NoSuchName",
        3 => "BadValue",
        4 => "ReadOnly",
        5 => "GenErr",
        _ => return None,
    })
}

/// The name Suricata writes for a v1 trap's generic-trap (`coldStart`...
/// `enterpriseSpecific`); `None` past 6 (Suricata writes `TrapType(N)`).
pub fn trap_type_name(t: u32) -> Option<&'static str> {
    Some(match t {
        0 => "coldStart",
        1 => "warmStart",
        2 => "linkDown",
        3 => "linkUp",
        4 => "authenticationFailure",
        5 => "egpNeighborLoss",
        6 => "enterpriseSpecific",
        _ => return None,
    })
}

/// OIDs as dotted text, in one string (two allocations per list).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OidList {
    text: String,
    ends: Vec<u32>,
}

impl OidList {
    /// Each OID's text, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let s = &self.text[start..end as usize];
            start = end as usize;
            s
        })
    }

    /// How many OIDs.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends OID content `c` (see the module `parsers::ber`'s `push_oid`).
    fn push(&mut self, c: &[u8]) -> OidText {
        let found = ber::push_oid(&mut self.text, c);
        // At most 64 KiB of datagram, each content byte at most 21
        // characters: the text fits u32.
        self.ends.push(self.text.len() as u32);
        found
    }
}

impl<'a> FromIterator<&'a str> for OidList {
    fn from_iter<I: IntoIterator<Item = &'a str>>(it: I) -> Self {
        let mut l = OidList::default();
        for s in it {
            l.text.push_str(s);
            l.ends.push(l.text.len() as u32);
        }
        l
    }
}

/// A v1 Trap-PDU's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnmpTrap {
    /// generic-trap (0 coldStart to 6 enterpriseSpecific).
    pub generic: u32,
    /// specific-trap.
    pub specific: i64,
    /// enterprise: the OID of the object that sent the trap, dotted.
    pub enterprise: Box<str>,
    /// agent-addr: the sender's IPv4 address.
    pub agent: [u8; 4],
}

/// A PDU's fields a record shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnmpPdu {
    /// The PDU type ([`GET_REQUEST`]... [`REPORT`]).
    pub pdu_type: u8,
    /// error-status (0 for none; GetBulkRequest and traps have none).
    pub error_status: u32,
    /// A v1 trap's fields.
    pub trap: Option<SnmpTrap>,
    /// The variable bindings' OIDs (at most [`SnmpConfig::max_vars`]).
    pub vars: OidList,
}

/// One SNMP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnmpMessage {
    /// The flow's SNMP version (1, 2 for v2c, 3): its first message's, as
    /// Suricata reports it.
    pub version: u32,
    /// This message's version (1, 2, 3).
    pub message_version: u32,
    /// The PDU; `None` when encrypted (v3 with the privacy flag).
    pub pdu: Option<SnmpPdu>,
    /// v1/v2c: the community (at most [`MAX_STRING`] bytes).
    pub community: Option<Box<[u8]>>,
    /// v3 with the user-based security model: the user name (at most
    /// [`MAX_STRING`] bytes).
    pub usm: Option<Box<[u8]>>,
}

/// The version (1, 2 or 3) of a datagram shaped like an SNMP message as
/// Suricata tells it: a SEQUENCE of three elements whose first is the
/// INTEGER 0 or 1, or of four whose first is 3 (the rest of the datagram,
/// after the SEQUENCE, not looked at).
fn envelope_version(b: &[u8]) -> Option<u32> {
    let body = ber::expect(&mut Reader::new(b), SEQUENCE)?;
    let mut r = Reader::new(body);
    let v = ber::int(&mut r)?;
    let mut n = 1;
    while r.left() > 0 {
        ber::tlv(&mut r)?;
        n += 1;
    }
    match (v, n) {
        (0, 3) => Some(1),
        (1, 3) => Some(2),
        (3, 4) => Some(3),
        _ => None,
    }
}

/// The content probe: a datagram whose first element is an SNMP message's
/// envelope is SNMP — a SEQUENCE of the version INTEGER 0 or 1, an OCTET
/// STRING community and a PDU (context tag 0xa0 to 0xa8), or of the
/// version 3, the header SEQUENCE, the security parameters OCTET STRING and
/// the scoped PDU (a SEQUENCE, or an OCTET STRING when encrypted). One
/// with the right version and number of elements but other types (what
/// Suricata's probe takes) leaves it to the next datagram or the port;
/// anything else is not SNMP.
pub fn probe(b: &[u8], _side: FlowSide) -> Probe {
    if envelope_shape(b).is_some() {
        Probe::Certain
    } else if envelope_version(b).is_some() {
        Probe::NeedMore
    } else {
        Probe::No
    }
}

fn envelope_shape(b: &[u8]) -> Option<()> {
    let version = envelope_version(b)?;
    let body = ber::expect(&mut Reader::new(b), SEQUENCE)?;
    let mut r = Reader::new(body);
    ber::int(&mut r)?;
    let (second, third) = (ber::tlv(&mut r)?, ber::tlv(&mut r)?);
    let ok = if version == 3 {
        let data = ber::tlv(&mut r)?.tag;
        second.tag == SEQUENCE
            && third.tag == OCTET_STRING
            && (data == SEQUENCE || data == OCTET_STRING)
    } else {
        second.tag == OCTET_STRING && (0xa0..=0xa8).contains(&third.tag)
    };
    ok.then_some(())
}

/// Caps and oddities met while reading one message, reported once it
/// is known to be a transaction.
#[derive(Debug, Default, Clone, Copy)]
struct Found {
    unknown_security_model: bool,
    too_many_vars: bool,
    oid_too_long: bool,
    oid_arc_too_large: bool,
    value_too_deep: bool,
    long_community: bool,
    long_user_name: bool,
}

impl Found {
    fn oid(&mut self, t: OidText) {
        match t {
            OidText::Whole => {}
            OidText::Cut => self.oid_too_long = true,
            OidText::Hex => self.oid_arc_too_large = true,
        }
    }

    /// The anomaly names, in a fixed order.
    fn names(self) -> impl Iterator<Item = &'static str> {
        [
            (self.unknown_security_model, "unknown_security_model"),
            (self.too_many_vars, "too_many_vars"),
            (self.oid_too_long, "oid_too_long"),
            (self.oid_arc_too_large, "oid_arc_too_large"),
            (self.value_too_deep, "value_too_deep"),
            (self.long_community, "long_community"),
            (self.long_user_name, "long_user_name"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
    }
}

/// Which PDU types a message version carries: v1 the five of RFC 1157;
/// v2c every one (v1's Trap-PDU too, as Suricata reads it); v3 the v2
/// ones.
fn pdu_allowed(version: i64, t: u8) -> bool {
    match version {
        0 => t <= TRAP_V1,
        1 => t <= REPORT,
        _ => t <= REPORT && t != TRAP_V1,
    }
}

/// `c` cut at [`MAX_STRING`] bytes, `cut` set when it was longer.
fn capped(c: &[u8], cut: &mut bool) -> Box<[u8]> {
    *cut = c.len() > MAX_STRING;
    c[..c.len().min(MAX_STRING)].into()
}

/// The SNMP datagram parser. Messages: [`L7Message::Snmp`], one per
/// datagram that holds a whole message, from either side.
#[derive(Debug, Clone, Default)]
pub struct SnmpParser {
    cfg: SnmpConfig,
    /// The flow's version (its first envelope's).
    version: Option<u32>,
    events: Anomalies<MAX_PENDING_EVENTS>,
    malformed: u64,
    next_tx: u64,
}

impl SnmpParser {
    /// A parser with these options.
    pub fn new(cfg: SnmpConfig) -> Self {
        SnmpParser {
            cfg,
            ..SnmpParser::default()
        }
    }

    /// Datagrams that held no whole message (skipped).
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// The options it runs with.
    pub fn config(&self) -> &SnmpConfig {
        &self.cfg
    }

    fn event(&mut self, name: &'static str, tx_id: Option<u64>) {
        self.events.push("snmp", name, tx_id);
    }

    /// The message in `b`, `None` when `b` holds none whole.
    fn message(&self, b: &[u8], found: &mut Found) -> Option<SnmpMessage> {
        let body = ber::expect(&mut Reader::new(b), SEQUENCE)?;
        let mut r = Reader::new(body);
        let v = ber::int(&mut r)?;
        let (message_version, pdu, community, usm) = match v {
            0 | 1 => {
                let community = ber::expect(&mut r, OCTET_STRING)?;
                let pdu = self.pdu(ber::tlv(&mut r)?, v, found)?;
                let community = capped(community, &mut found.long_community);
                (v as u32 + 1, Some(pdu), Some(community), None)
            }
            3 => {
                let (flags, model) = v3_header(ber::expect(&mut r, SEQUENCE)?)?;
                let params = ber::expect(&mut r, OCTET_STRING)?;
                let usm = if model == 3 {
                    Some(capped(usm_user(params)?, &mut found.long_user_name))
                } else {
                    found.unknown_security_model = true;
                    None
                };
                let pdu = if flags & 0x02 != 0 {
                    ber::expect(&mut r, OCTET_STRING)?;
                    None
                } else {
                    let mut s = Reader::new(ber::expect(&mut r, SEQUENCE)?);
                    ber::expect(&mut s, OCTET_STRING)?;
                    ber::expect(&mut s, OCTET_STRING)?;
                    Some(self.pdu(ber::tlv(&mut s)?, v, found)?)
                };
                (3, pdu, None, usm)
            }
            _ => return None,
        };
        Some(SnmpMessage {
            version: self.version.unwrap_or(message_version),
            message_version,
            pdu,
            community,
            usm,
        })
    }

    /// The PDU `t` of a message of version `version` (0, 1, 3 as sent).
    fn pdu(&self, t: Tlv<'_>, version: i64, found: &mut Found) -> Option<SnmpPdu> {
        let pdu_type = t.tag.wrapping_sub(0xa0);
        if pdu_type > REPORT || !pdu_allowed(version, pdu_type) {
            return None;
        }
        let mut r = Reader::new(t.content);
        let mut error_status = 0;
        let mut trap = None;
        match pdu_type {
            TRAP_V1 => {
                let enterprise = ber::expect(&mut r, OID)?;
                let agent = ber::expect(&mut r, IP_ADDRESS)?.try_into().ok()?;
                let generic = ber::uint32(&mut r)?;
                let specific = ber::int(&mut r)?;
                ber::expect(&mut r, TIME_TICKS)?;
                let mut text = String::new();
                found.oid(ber::push_oid(&mut text, enterprise));
                trap = Some(SnmpTrap {
                    generic,
                    specific,
                    enterprise: text.into(),
                    agent,
                });
            }
            GET_BULK_REQUEST => {
                // request-id, non-repeaters, max-repetitions.
                for _ in 0..3 {
                    ber::int(&mut r)?;
                }
            }
            _ => {
                ber::int(&mut r)?;
                error_status = ber::uint32(&mut r)?;
                ber::int(&mut r)?;
            }
        }
        let vars = self.vars(ber::expect(&mut r, SEQUENCE)?, found)?;
        Some(SnmpPdu {
            pdu_type,
            error_status,
            trap,
            vars,
        })
    }

    /// The OIDs of a VarBindList: each binding a SEQUENCE of the OID and a
    /// well-formed value (whatever follows the value in it is left alone).
    fn vars(&self, list: &[u8], found: &mut Found) -> Option<OidList> {
        let mut r = Reader::new(list);
        let mut vars = OidList::default();
        while r.left() > 0 {
            let mut b = Reader::new(ber::expect(&mut r, SEQUENCE)?);
            let name = ber::expect(&mut b, OID)?;
            if ber::check_value(ber::tlv(&mut b)?)? == ber::Value::TooDeep {
                found.value_too_deep = true;
            }
            if vars.len() < self.cfg.max_vars {
                found.oid(vars.push(name));
            } else {
                found.too_many_vars = true;
            }
        }
        Some(vars)
    }
}

/// msgGlobalData: `(msgFlags, msgSecurityModel)`.
fn v3_header(h: &[u8]) -> Option<(u8, i64)> {
    let mut r = Reader::new(h);
    ber::int(&mut r)?;
    ber::int(&mut r)?;
    let &[flags] = ber::expect(&mut r, OCTET_STRING)? else {
        return None;
    };
    let model = ber::int(&mut r)?;
    Some((flags, model))
}

/// The user name of USM security parameters (RFC 3414 §2.4: a SEQUENCE
/// of the engine ID, boots, time, user name, authentication and privacy
/// parameters).
fn usm_user(params: &[u8]) -> Option<&[u8]> {
    let mut r = Reader::new(ber::expect(&mut Reader::new(params), SEQUENCE)?);
    ber::expect(&mut r, OCTET_STRING)?;
    ber::expect(&mut r, INTEGER)?;
    ber::expect(&mut r, INTEGER)?;
    let user = ber::expect(&mut r, OCTET_STRING)?;
    ber::expect(&mut r, OCTET_STRING)?;
    ber::expect(&mut r, OCTET_STRING)?;
    Some(user)
}

impl DatagramParser for SnmpParser {
    type Message = L7Message;

    fn parse(&mut self, payload: &[u8], _side: FlowSide) -> Vec<L7Message> {
        if payload.is_empty() {
            return Vec::new();
        }
        if self.version.is_none() {
            self.version = envelope_version(payload);
        }
        let mut found = Found::default();
        let Some(m) = self.message(payload, &mut found) else {
            self.malformed += 1;
            self.event("malformed_data", None);
            return Vec::new();
        };
        let tx = self.next_tx;
        self.next_tx += 1;
        if m.version != m.message_version {
            self.event("version_mismatch", Some(tx));
        }
        for name in found.names() {
            self.event(name, Some(tx));
        }
        vec![L7Message::Snmp(Box::new(m))]
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }
}
