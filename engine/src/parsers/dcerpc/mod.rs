//! DCE/RPC ([`DcerpcTcpParser`] for the connection-oriented protocol over
//! TCP, `ncacn_ip_tcp`, version 5; [`DcerpcUdpParser`] for the
//! connectionless one over UDP, `ncadg_ip_udp`, version 4), as Suricata 7
//! logs them: one [`DcerpcCall`] per call — a BIND or ALTER_CONTEXT and
//! its acknowledgement (the interfaces asked for, and each one's result),
//! or a REQUEST and its RESPONSE or FAULT (the operation number, fragment
//! counts and stub data sizes) — written when the call's last answer
//! fragment is read, or (over TCP) at the flow's end as it stands
//! (`UNREPLIED`, `REQUEST_LOST`); over UDP a call never completed is not
//! written, as Suricata 7 writes none. Stub data is counted, never kept; PDUs are at most
//! 65 535 bytes (their length field's range), and calls waiting for an
//! answer at once are capped ([`DcerpcConfig::max_tx`]).
//! [`probe_tcp`]/[`probe_udp`]: a version 5.0/5.1 (TCP) or 4 (UDP) header
//! with a sane data representation and packet type.

mod tcp;
mod udp;

#[cfg(test)]
mod tests;

pub use tcp::DcerpcTcpParser;
#[cfg(feature = "smb")]
pub(crate) use tcp::{
    FIRST_FRAG, Header as PduHeader, LAST_FRAG, pdu_ack_results, pdu_bind_items, pdu_request_fields,
};
pub use udp::DcerpcUdpParser;

use super::L7Message;
use super::config::DcerpcConfig;
use crate::FlowSide;
use crate::session::Probe;

/// PDU types (both protocols number them alike).
pub mod ptype {
    /// A call's request.
    pub const REQUEST: u8 = 0;
    /// A call's response.
    pub const RESPONSE: u8 = 2;
    /// A call's failure.
    pub const FAULT: u8 = 3;
    /// Connectionless: the server is working on it.
    pub const WORKING: u8 = 4;
    /// Connectionless: the server has no such call.
    pub const NOCALL: u8 = 5;
    /// Connectionless: the call was refused.
    pub const REJECT: u8 = 6;
    /// Connectionless: the client acknowledges the response.
    pub const ACK: u8 = 7;
    /// Connectionless: fragment acknowledgement.
    pub const FACK: u8 = 9;
    /// Binds a presentation context.
    pub const BIND: u8 = 11;
    /// Accepts (some of) a BIND's contexts.
    pub const BINDACK: u8 = 12;
    /// Refuses a BIND.
    pub const BINDNAK: u8 = 13;
    /// Adds a presentation context.
    pub const ALTER_CONTEXT: u8 = 14;
    /// Answers an ALTER_CONTEXT.
    pub const ALTER_CONTEXT_RESP: u8 = 15;
    /// The third leg of an authentication (NTLMSSP).
    pub const AUTH3: u8 = 16;
}

/// A PDU type's name as Suricata writes it (`REQUEST`, `BINDACK`; a
/// number without a name as the number).
pub fn ptype_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0 => "REQUEST",
        1 => "PING",
        2 => "RESPONSE",
        3 => "FAULT",
        4 => "WORKING",
        5 => "NOCALL",
        6 => "REJECT",
        7 => "ACK",
        8 => "CL_CANCEL",
        9 => "FACK",
        10 => "CANCEL_ACK",
        11 => "BIND",
        12 => "BINDACK",
        13 => "BINDNAK",
        14 => "ALTER_CONTEXT",
        15 => "ALTER_CONTEXT_RESP",
        16 => "AUTH3",
        17 => "SHUTDOWN",
        18 => "CO_CANCEL",
        19 => "ORPHANED",
        20 => "RTS",
        _ => return None,
    })
}

/// One interface a BIND or ALTER_CONTEXT asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcerpcInterface {
    /// The presentation context id.
    pub context_id: u16,
    /// The abstract syntax's UUID, in its canonical byte order.
    pub uuid: [u8; 16],
    /// Its major and minor version.
    pub version: (u16, u16),
    /// The acknowledgement's result for it (0 accepted), once read.
    pub ack_result: Option<u16>,
}

/// The side of a call that was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DcerpcPart {
    /// The PDU type (`None`: not seen; a lost request, an unanswered
    /// call).
    pub ptype: Option<u8>,
    /// Fragments read.
    pub frags: u32,
    /// Stub data bytes, all fragments together.
    pub stub_bytes: u64,
}

/// The connectionless protocol's call identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatagramCall {
    /// The activity UUID, canonical byte order.
    pub activity: [u8; 16],
    /// The sequence number.
    pub seqnum: u32,
}

/// One DCE/RPC call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcerpcCall {
    /// The call id (TCP; 0 over UDP).
    pub call_id: u32,
    /// The header's minor version (TCP: 0 or 1; UDP: 0).
    pub minor_version: u8,
    /// The major version: 5 over TCP, 4 over UDP.
    pub major_version: u8,
    /// The request (or BIND, ALTER_CONTEXT).
    pub request: DcerpcPart,
    /// The response (or FAULT, BINDACK, BINDNAK, ALTER_CONTEXT_RESP).
    pub response: DcerpcPart,
    /// A request's operation number and context id.
    pub opnum: u16,
    /// A request's presentation context.
    pub context_id: u16,
    /// A BIND's or ALTER_CONTEXT's interfaces.
    pub interfaces: Vec<DcerpcInterface>,
    /// Connectionless: activity and sequence number.
    pub datagram: Option<DatagramCall>,
}

impl DcerpcCall {
    fn new(major_version: u8, minor_version: u8, call_id: u32) -> Self {
        DcerpcCall {
            call_id,
            minor_version,
            major_version,
            request: DcerpcPart::default(),
            response: DcerpcPart::default(),
            opnum: 0,
            context_id: 0,
            interfaces: Vec::new(),
            datagram: None,
        }
    }
}

/// A UUID as read in a header whose data representation is little-endian
/// (`le`): its first three fields in canonical (big-endian) order.
fn uuid(b: &[u8; 16], le: bool) -> [u8; 16] {
    let mut u = *b;
    if le {
        u[0..4].reverse();
        u[4..6].reverse();
        u[6..8].reverse();
    }
    u
}

/// The connection-oriented probe: version 5.0 or 5.1, a data
/// representation Suricata accepts (integer and character formats known,
/// floating point up to 3), a known PDU type and a fragment at least a
/// header long.
pub fn probe_tcp(bytes: &[u8], _side: FlowSide) -> Probe {
    /// A header byte's offset and what it must satisfy.
    type Check = (usize, fn(u8) -> bool);
    let checks: [Check; 5] = [
        (0, |b| b == 5),
        (1, |b| b <= 1),
        (2, |b| b <= 20),
        (4, |b| b & 0xee == 0),
        (5, |b| b <= 3),
    ];
    for (at, ok) in checks {
        match bytes.get(at) {
            Some(&b) if !ok(b) => return Probe::No,
            None => return Probe::NeedMore,
            _ => {}
        }
    }
    let Some(h) = bytes.get(..10) else {
        return Probe::NeedMore;
    };
    let le = h[4] & 0x10 != 0;
    let frag = if le {
        u16::from_le_bytes([h[8], h[9]])
    } else {
        u16::from_be_bytes([h[8], h[9]])
    };
    if frag < 16 { Probe::No } else { Probe::Certain }
}

/// The connectionless probe: a REQUEST (Suricata 7 names a flow `dcerpc`
/// only when its first datagram is one) with version 4, a sane data
/// representation and a whole 80-byte header whose fragment length fits
/// the datagram.
pub fn probe_udp(bytes: &[u8], _side: FlowSide) -> Probe {
    match udp::Header::read(bytes) {
        Some(h) if h.ptype == ptype::REQUEST => Probe::Certain,
        _ => Probe::No,
    }
}
