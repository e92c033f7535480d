//! DHCPv4 over UDP ([`DhcpParser`]): each datagram's BOOTP header (RFC
//! 2131 §2: op, xid, the four addresses, the client hardware address) and
//! its options after the magic cookie (RFC 2132: pad and end handled, the
//! `sname` and `file` fields read for options too when option 52 says they
//! are overloaded). The options an EVE `dhcp` record shows are kept in
//! their order ([`DhcpOption`]); the others are skipped. One
//! [`DhcpMessage`] per datagram, as Suricata writes one `dhcp` record per
//! message. [`probe`]: a BOOTP header of either op with the magic cookie
//! (ports 67 and 68 only). Options past [`DhcpConfig::max_options`] and
//! options cut short are reported as anomalies (`too_many_options`,
//! `truncated_options`, `malformed_options`, Suricata's names where it has
//! them); a datagram too short for the header is counted and skipped.

use super::reader::Reader;
use super::{DhcpConfig, L7Message};
use crate::AppEvent;
use crate::FlowSide;
use crate::parsers::anomalies::Anomalies;
use crate::session::{DatagramParser, Probe};

#[cfg(test)]
mod tests;

/// The fixed BOOTP header, up to the options: op to `file` (236 bytes)
/// and the magic cookie.
pub const HEADER_LEN: usize = 240;
/// The DHCP magic cookie (RFC 2131 §3).
pub const MAGIC_COOKIE: [u8; 4] = [0x63, 0x82, 0x53, 0x63];
/// Anomalies kept per flow before they are taken (the driver takes them
/// after each datagram; a datagram raises at most three).
const MAX_PENDING_EVENTS: usize = 8;

/// BOOTREQUEST.
pub const OP_REQUEST: u8 = 1;
/// BOOTREPLY.
pub const OP_REPLY: u8 = 2;

/// Option codes (RFC 2132) the parser reads.
pub mod opt {
    /// Pad: one byte, no length.
    pub const PAD: u8 = 0;
    /// Subnet mask.
    pub const SUBNET_MASK: u8 = 1;
    /// Routers.
    pub const ROUTERS: u8 = 3;
    /// Domain name servers.
    pub const DNS_SERVERS: u8 = 6;
    /// Host name.
    pub const HOSTNAME: u8 = 12;
    /// Requested IP address.
    pub const REQUESTED_IP: u8 = 50;
    /// IP address lease time.
    pub const LEASE_TIME: u8 = 51;
    /// Option overload: options in `file` (1), `sname` (2) or both (3).
    pub const OVERLOAD: u8 = 52;
    /// DHCP message type.
    pub const MESSAGE_TYPE: u8 = 53;
    /// Parameter request list.
    pub const PARAMS: u8 = 55;
    /// Renewal (T1) time.
    pub const RENEWAL_TIME: u8 = 58;
    /// Rebinding (T2) time.
    pub const REBINDING_TIME: u8 = 59;
    /// Vendor class identifier.
    pub const VENDOR_CLASS: u8 = 60;
    /// Client identifier.
    pub const CLIENT_ID: u8 = 61;
    /// End: no length, nothing after it is read.
    pub const END: u8 = 255;
}

/// The options kept (the ones an EVE `dhcp` record shows).
const KEPT: [u8; 12] = [
    opt::SUBNET_MASK,
    opt::ROUTERS,
    opt::DNS_SERVERS,
    opt::HOSTNAME,
    opt::REQUESTED_IP,
    opt::LEASE_TIME,
    opt::MESSAGE_TYPE,
    opt::PARAMS,
    opt::RENEWAL_TIME,
    opt::REBINDING_TIME,
    opt::VENDOR_CLASS,
    opt::CLIENT_ID,
];

/// One option kept: its code and its data (at most 255 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpOption {
    /// The option code ([`opt`]).
    pub code: u8,
    /// Its data, as sent.
    pub data: Box<[u8]>,
}

/// One DHCP message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DhcpMessage {
    /// BOOTP op: [`OP_REQUEST`] or [`OP_REPLY`] (another value is
    /// reported as it is).
    pub op: u8,
    /// Transaction id (`xid`).
    pub xid: u32,
    /// `ciaddr`: the client's address, when it has one.
    pub ciaddr: [u8; 4],
    /// `yiaddr`: the address the server assigns.
    pub yiaddr: [u8; 4],
    /// `siaddr`: the next server (boot server).
    pub siaddr: [u8; 4],
    /// `giaddr`: the relay agent.
    pub giaddr: [u8; 4],
    /// The client hardware address: the first `hlen` bytes of `chaddr`
    /// (16 at most).
    pub chaddr: Box<[u8]>,
    /// The options an EVE record shows, in the order they came (options
    /// of overloaded `file` then `sname` fields after the others).
    pub options: Vec<DhcpOption>,
    /// The options ended without an end option, or one was cut short.
    pub truncated: bool,
}

impl DhcpMessage {
    /// The first option with this code.
    pub fn option(&self, code: u8) -> Option<&[u8]> {
        self.options
            .iter()
            .find(|o| o.code == code)
            .map(|o| &*o.data)
    }

    /// The DHCP message type (option 53's first byte).
    pub fn message_type(&self) -> Option<u8> {
        self.option(opt::MESSAGE_TYPE)
            .and_then(|d| d.first().copied())
    }
}

/// Suricata's name of a DHCP message type (option 53; `unknown` for
/// others).
pub fn message_type_name(t: u8) -> &'static str {
    match t {
        1 => "discover",
        2 => "offer",
        3 => "request",
        4 => "decline",
        5 => "ack",
        6 => "nak",
        7 => "release",
        8 => "inform",
        _ => "unknown",
    }
}

/// Suricata's name of a requested parameter (option 55's codes), `None`
/// for the ones it leaves out.
pub fn param_name(code: u8) -> Option<&'static str> {
    Some(match code {
        1 => "subnet_mask",
        3 => "router",
        6 => "dns_server",
        15 => "domain",
        35 => "arp_timeout",
        42 => "ntp_server",
        66 => "tftp_server_name",
        150 => "tftp_server_ip",
        _ => return None,
    })
}

/// The content probe: a BOOTP header (op 1 or 2, hardware address length
/// up to 16) followed by the DHCP magic cookie. A datagram too short for
/// it leaves the question open (the ports decide).
pub fn probe(bytes: &[u8], _side: FlowSide) -> Probe {
    if bytes.len() < HEADER_LEN {
        return Probe::NeedMore;
    }
    let op_ok = matches!(bytes[0], OP_REQUEST | OP_REPLY);
    if op_ok && bytes[2] <= 16 && bytes[236..240] == MAGIC_COOKIE {
        Probe::Certain
    } else {
        Probe::No
    }
}

/// The DHCP datagram parser. Messages: [`L7Message::Dhcp`], one per
/// message.
#[derive(Debug, Clone, Default)]
pub struct DhcpParser {
    cfg: DhcpConfig,
    events: Anomalies<MAX_PENDING_EVENTS>,
    malformed: u64,
    /// The next message's number in the flow (the anomalies' `tx_id`).
    next_tx: u64,
}

impl DhcpParser {
    /// A parser with these options.
    pub fn new(cfg: DhcpConfig) -> Self {
        DhcpParser {
            cfg,
            ..DhcpParser::default()
        }
    }

    /// Datagrams too short for a BOOTP header or without the magic cookie
    /// (skipped).
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    fn event(&mut self, name: &'static str, tx_id: Option<u64>) {
        self.events.push("dhcp", name, tx_id);
    }
}

/// What reading a message's options ran into.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    /// Option 52's value (0: none).
    pub overload: u8,
    /// The options ended without an end option, or one was cut short.
    pub truncated: bool,
    /// An option kept had a length it cannot have (skipped).
    pub malformed: bool,
    /// Options past the cap were left unread.
    pub capped: bool,
}

impl Area {
    fn merge(&mut self, other: Area) {
        self.truncated |= other.truncated;
        self.malformed |= other.malformed;
        self.capped |= other.capped;
    }
}

/// Parses one DHCP message; `None` when `payload` is not one (too short
/// for the header, or no magic cookie). With it: what reading its options
/// ran into.
pub fn parse_message(payload: &[u8], max_options: usize) -> Option<(DhcpMessage, Area)> {
    let mut r = Reader::new(payload);
    let op = r.u8()?;
    let _htype = r.u8()?;
    let hlen = r.u8()?;
    let _hops = r.u8()?;
    let xid = r.u32()?;
    let _secs_flags = r.take(4)?;
    let addr = |r: &mut Reader<'_>| -> Option<[u8; 4]> { r.take(4)?.try_into().ok() };
    let ciaddr = addr(&mut r)?;
    let yiaddr = addr(&mut r)?;
    let siaddr = addr(&mut r)?;
    let giaddr = addr(&mut r)?;
    let chaddr = r.take(16)?;
    let sname = r.take(64)?;
    let file = r.take(128)?;
    if r.take(4)? != MAGIC_COOKIE {
        return None;
    }
    let options_area = r.take(r.left())?;
    let mut msg = DhcpMessage {
        op,
        xid,
        ciaddr,
        yiaddr,
        siaddr,
        giaddr,
        chaddr: chaddr[..usize::from(hlen).min(16)].into(),
        options: Vec::new(),
        truncated: false,
    };
    let mut found = read_options(options_area, &mut msg.options, max_options, true);
    // RFC 2131 §4.1: with option 52, `file` then `sname` hold options too.
    let overload = found.overload;
    if overload & 1 != 0 {
        found.merge(read_options(file, &mut msg.options, max_options, false));
    }
    if overload & 2 != 0 {
        found.merge(read_options(sname, &mut msg.options, max_options, false));
    }
    msg.truncated = found.truncated;
    Some((msg, found))
}

/// Reads the options of one area into `out` (the kept ones), up to
/// `max_options` in `out`. `main`: the options field, where option 52 is
/// looked for.
fn read_options(area: &[u8], out: &mut Vec<DhcpOption>, max_options: usize, main: bool) -> Area {
    let mut found = Area::default();
    let mut r = Reader::new(area);
    loop {
        let Some(code) = r.u8() else {
            // No end option: the area was cut. An overloaded field may end
            // in padding without one.
            found.truncated = main;
            return found;
        };
        match code {
            opt::PAD => continue,
            opt::END => return found,
            _ => {}
        }
        let Some(data) = r.vec8() else {
            found.truncated = true;
            return found;
        };
        if main && code == opt::OVERLOAD {
            found.overload = data.first().copied().unwrap_or(0) & 3;
        }
        if !KEPT.contains(&code) {
            continue;
        }
        if !well_formed(code, data) {
            found.malformed = true;
            continue;
        }
        if out.len() >= max_options {
            found.capped = true;
            return found;
        }
        out.push(DhcpOption {
            code,
            data: data.into(),
        });
    }
}

/// Whether a kept option's length fits its type (addresses: 4 bytes or
/// lists of them; times: 4 bytes; the message type and client id: not
/// empty, the client id a type byte and at least one more).
fn well_formed(code: u8, data: &[u8]) -> bool {
    match code {
        opt::SUBNET_MASK
        | opt::REQUESTED_IP
        | opt::LEASE_TIME
        | opt::RENEWAL_TIME
        | opt::REBINDING_TIME => data.len() == 4,
        opt::ROUTERS | opt::DNS_SERVERS => !data.is_empty() && data.len().is_multiple_of(4),
        opt::MESSAGE_TYPE => !data.is_empty(),
        opt::CLIENT_ID => data.len() >= 2,
        _ => true,
    }
}

impl DatagramParser for DhcpParser {
    type Message = L7Message;

    fn parse(&mut self, payload: &[u8], _side: FlowSide) -> Vec<L7Message> {
        // An empty datagram (the driver passes those on) says nothing.
        if payload.is_empty() {
            return Vec::new();
        }
        match parse_message(payload, self.cfg.max_options) {
            Some((msg, found)) => {
                let tx = self.next_tx;
                self.next_tx += 1;
                for (hit, name) in [
                    (found.truncated, "truncated_options"),
                    (found.malformed, "malformed_options"),
                    (found.capped, "too_many_options"),
                ] {
                    if hit {
                        self.event(name, Some(tx));
                    }
                }
                vec![L7Message::Dhcp(Box::new(msg))]
            }
            None => {
                self.malformed += 1;
                self.event("malformed_header", None);
                Vec::new()
            }
        }
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }
}
