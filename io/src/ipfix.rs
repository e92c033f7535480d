//! IPFIX export of flow records (RFC 7011 messages, RFC 7012 information
//! elements, RFC 5103 bidirectional flows): [`IpfixFlow`], what one ended
//! flow exports, taken from a [`FlowEvent::Ended`] whose key has IP
//! endpoints ([`IpfixKey`]); and [`IpfixEncoder`], which packs flows into
//! messages no larger than a set size, with the templates first and again
//! every so many messages (datagram transports lose messages, and a
//! collector that starts late needs them). The encoder does no I/O and
//! reads no clock: the caller gives each message's export time and sends
//! the bytes (the command line's `--ipfix`).
//!
//! One biflow record per flow, the initiator as source: forward counters
//! are the initiator's, reverse ones (enterprise 29305, RFC 5103) the
//! responder's. Template 256 is IPv4, 257 IPv6; their fields, in order:
//!
//! | element (id) | bytes | value |
//! |---|---|---|
//! | sourceIPv4Address (8) / sourceIPv6Address (27) | 4 / 16 | initiator |
//! | destinationIPv4Address (12) / destinationIPv6Address (28) | 4 / 16 | responder |
//! | sourceTransportPort (7), destinationTransportPort (11) | 2, 2 | 0 without ports |
//! | protocolIdentifier (4) | 1 | |
//! | flowStartMilliseconds (152), flowEndMilliseconds (153) | 8, 8 | first and last packet |
//! | packetDeltaCount (2), octetDeltaCount (1) | 8, 8 | initiator's packets, IP-level bytes |
//! | tcpControlBits (6) | 2 | OR of the initiator's TCP flags |
//! | reverse packetDeltaCount, octetDeltaCount, tcpControlBits | 8, 8, 2 | the responder's |
//! | flowEndReason (136) | 1 | 1 idle, 2 active timeout, 3 FIN/RST, 4 end of input, 5 resources |
//! | biflowDirection (239) | 1 | 1: source is the initiator |
//! | flowId (148) | 8 | the engine's flow id |
//! | vlanId (58) | 2 | outermost VLAN, 0 without |
//! | icmpTypeCodeIPv4 (32) / icmpTypeCodeIPv6 (139) | 2 | the initiator's type and code |
//! | layer2SegmentId (351) | 8 | VXLAN VNI (type 1) or GRE key (type 2) of the tunnel, 0 without |
//! | applicationName (96) | variable | `app_proto`, empty when none |
//!
//! Octets are IP-level (each packet's IP header and payload, no link
//! layer: [`SideStats::ip_bytes`]), so they differ from the EVE record's
//! `bytes_toserver`, which counts frames as Suricata does.

use flowscope_engine::{
    EndReason, FiveTupleKey, FlowEvent, IpPairKey, MacPairKey, Orientation, TunnelKind,
};
use std::net::IpAddr;

#[cfg(doc)]
use flowscope_engine::SideStats;

/// IPFIX's version number.
const VERSION: u16 = 10;
/// Message header: version, length, export time, sequence, domain.
const HEADER_LEN: usize = 16;
/// Set header: set id, length.
const SET_HEADER_LEN: usize = 4;
/// The template set's id.
const TEMPLATE_SET: u16 = 2;
/// Template ids of IPv4 and IPv6 flows.
pub const TEMPLATE_V4: u16 = 256;
/// See [`TEMPLATE_V4`].
pub const TEMPLATE_V6: u16 = 257;
/// RFC 5103's enterprise number for reverse elements.
const REVERSE_PEN: u32 = 29_305;
/// Longest application name exported (a one-byte length prefix).
const MAX_APP_NAME: usize = 254;
/// Smallest message size the encoder takes: the templates fit.
pub const MIN_MESSAGE: usize = 512;
/// Largest message (the length field is 16 bits).
pub const MAX_MESSAGE: usize = 65_535;

/// One field specifier: element id, length, reverse (enterprise 29305).
type Field = (u16, u16, bool);

/// The fields after the addresses, the same in both templates but for the
/// ICMP element (`icmp` is 32 or 139).
fn fields(src: u16, dst: u16, addr_len: u16, icmp: u16) -> [Field; 20] {
    [
        (src, addr_len, false),
        (dst, addr_len, false),
        (7, 2, false),
        (11, 2, false),
        (4, 1, false),
        (152, 8, false),
        (153, 8, false),
        (2, 8, false),
        (1, 8, false),
        (6, 2, false),
        (2, 8, true),
        (1, 8, true),
        (6, 2, true),
        (136, 1, false),
        (239, 1, false),
        (148, 8, false),
        (58, 2, false),
        (icmp, 2, false),
        (351, 8, false),
        (96, 0xffff, false),
    ]
}

/// What an IPFIX exporter needs of a flow key: its IP endpoints with the
/// initiator first, the protocol and the outermost VLAN. Keys without IP
/// addresses (MAC pairs) have none: their flows are not exported.
pub trait IpfixKey {
    /// `(source, destination)` addresses and ports (0 without ports; ICMP
    /// keys carry the type and code there), protocol, outermost VLAN.
    fn ipfix_endpoints(&self, initiator: Orientation) -> Option<IpfixEndpoints>;
}

/// A flow's endpoints as exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpfixEndpoints {
    /// The initiator's address and port.
    pub src: (IpAddr, u16),
    /// The responder's address and port.
    pub dst: (IpAddr, u16),
    /// IP protocol (0 when the key has none).
    pub proto: u8,
    /// Outermost VLAN id, 0 without.
    pub vlan: u16,
}

impl IpfixKey for FiveTupleKey {
    fn ipfix_endpoints(&self, initiator: Orientation) -> Option<IpfixEndpoints> {
        let (src, dst) = self.oriented(initiator);
        Some(IpfixEndpoints {
            src: (src.addr, src.port),
            dst: (dst.addr, dst.port),
            proto: self.proto(),
            vlan: self
                .context()
                .vlans
                .as_slice()
                .first()
                .copied()
                .unwrap_or(0),
        })
    }
}

impl IpfixKey for IpPairKey {
    fn ipfix_endpoints(&self, initiator: Orientation) -> Option<IpfixEndpoints> {
        let (src, dst) = match initiator {
            Orientation::Forward => (self.a, self.b),
            Orientation::Reverse => (self.b, self.a),
        };
        Some(IpfixEndpoints {
            src: (src, 0),
            dst: (dst, 0),
            proto: 0,
            vlan: self.context.vlans.as_slice().first().copied().unwrap_or(0),
        })
    }
}

impl IpfixKey for MacPairKey {
    fn ipfix_endpoints(&self, _: Orientation) -> Option<IpfixEndpoints> {
        None
    }
}

/// One direction's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IpfixCounters {
    /// Packets.
    pub packets: u64,
    /// IP-level bytes.
    pub octets: u64,
    /// OR of the TCP flags sent.
    pub tcp_flags: u8,
}

/// What one ended flow exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpfixFlow {
    /// Endpoints, initiator first.
    pub endpoints: IpfixEndpoints,
    /// First packet, milliseconds since the Unix epoch.
    pub start_ms: u64,
    /// Last packet, milliseconds since the Unix epoch.
    pub end_ms: u64,
    /// The initiator's counters.
    pub forward: IpfixCounters,
    /// The responder's counters.
    pub reverse: IpfixCounters,
    /// IANA flowEndReason.
    pub end_reason: u8,
    /// The engine's flow id.
    pub flow_id: u64,
    /// layer2SegmentId of the tunnel the flow came in, 0 without.
    pub segment: u64,
    /// ICMP: the initiator's type (high byte) and code; 0 otherwise.
    pub icmp_type_code: u16,
    /// `app_proto`, when a parser named one.
    pub app: Option<&'static str>,
}

impl IpfixFlow {
    /// The export of a [`FlowEvent::Ended`]; `None` for other events and
    /// for keys without IP endpoints.
    pub fn from_event<K: IpfixKey, M>(event: &FlowEvent<K, M>) -> Option<Self> {
        let FlowEvent::Ended {
            key,
            flow_id,
            initiator,
            reason,
            stats,
            tunnel,
            ..
        } = event
        else {
            return None;
        };
        let mut endpoints = key.ipfix_endpoints(*initiator)?;
        // ICMP keys hold the type (and code or counterpart type) where
        // ports go: exported as icmpTypeCode, with the ports 0.
        let mut icmp_type_code = 0;
        if matches!(endpoints.proto, 1 | 58) {
            let msg_type = u8::try_from(endpoints.src.1).unwrap_or(0);
            icmp_type_code = u16::from(msg_type) << 8 | u16::from(stats.initiator.icmp_code);
            endpoints.src.1 = 0;
            endpoints.dst.1 = 0;
        }
        let side = |s: &flowscope_engine::SideStats| IpfixCounters {
            packets: s.packets,
            octets: s.ip_bytes,
            tcp_flags: s.tcp_flags,
        };
        let segment = match tunnel {
            Some(t) if t.kind == TunnelKind::Vxlan => 1 << 56 | u64::from(t.id),
            Some(t) if t.kind == TunnelKind::Gre && t.id != 0 => 2 << 56 | u64::from(t.id),
            _ => 0,
        };
        Some(IpfixFlow {
            endpoints,
            start_ms: millis(stats.started.as_nanos()),
            end_ms: millis(stats.last_seen.as_nanos()),
            forward: side(&stats.initiator),
            reverse: side(&stats.responder),
            end_reason: end_reason(*reason),
            flow_id: *flow_id,
            segment,
            icmp_type_code,
            app: stats.app_proto.map(|a| a.name).filter(|&n| n != "failed"),
        })
    }
}

fn millis(nanos: u64) -> u64 {
    nanos / 1_000_000
}

/// IANA's flowEndReason for an [`EndReason`].
pub(crate) fn end_reason(r: EndReason) -> u8 {
    match r {
        EndReason::IdleTimeout => 0x01,
        EndReason::ActiveTimeout => 0x02,
        EndReason::Fin | EndReason::Rst => 0x03,
        EndReason::Shutdown | EndReason::ParseError => 0x04,
        EndReason::Evicted | EndReason::BufferOverflow => 0x05,
        // A reason added later: ended by the metering process.
        _ => 0x04,
    }
}

/// How the encoder packs messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpfixOptions {
    /// Largest message in bytes ([`MIN_MESSAGE`] to [`MAX_MESSAGE`]):
    /// the path MTU less IP and UDP headers for UDP.
    pub max_message: usize,
    /// Observation domain id written in every message.
    pub domain: u32,
    /// Send the templates again before every this many-th message (0:
    /// only in the first message, for reliable transports).
    pub template_every: u32,
}

impl Default for IpfixOptions {
    fn default() -> Self {
        IpfixOptions {
            max_message: 1400,
            domain: 1,
            template_every: 32,
        }
    }
}

/// Packs [`IpfixFlow`]s into IPFIX messages.
#[derive(Debug)]
pub struct IpfixEncoder {
    opts: IpfixOptions,
    /// The message being filled (header reserved).
    msg: Vec<u8>,
    /// Start of the open data set in `msg` and its template, if one is
    /// open.
    set: Option<(usize, u16)>,
    /// Data records in `msg`.
    records: u32,
    /// Data records in every message sent before (the sequence number).
    sequence: u32,
    /// Messages sent since the templates were last sent; `None` before
    /// the first.
    since_templates: Option<u32>,
    /// Messages sent.
    messages: u64,
}

impl IpfixEncoder {
    /// An encoder; `max_message` is clamped to [`MIN_MESSAGE`]..=[`MAX_MESSAGE`].
    pub fn new(mut opts: IpfixOptions) -> Self {
        opts.max_message = opts.max_message.clamp(MIN_MESSAGE, MAX_MESSAGE);
        IpfixEncoder {
            opts,
            msg: Vec::with_capacity(opts.max_message),
            set: None,
            records: 0,
            sequence: 0,
            since_templates: None,
            messages: 0,
        }
    }

    /// Sends the templates again at the start of the next message (a
    /// reliable transport's new connection).
    pub fn resend_templates(&mut self) {
        self.since_templates = None;
    }

    /// A message holding only the templates, with the export time,
    /// sequence number and domain of message `msg` (to send before it on a
    /// new connection).
    pub fn templates_for(msg: &[u8]) -> Vec<u8> {
        let mut out = vec![0; HEADER_LEN];
        write_templates(&mut out);
        let len = out.len() as u16;
        out[0..2].copy_from_slice(&VERSION.to_be_bytes());
        out[2..4].copy_from_slice(&len.to_be_bytes());
        if let Some(h) = msg.get(4..HEADER_LEN) {
            out[4..HEADER_LEN].copy_from_slice(h);
        }
        out
    }

    /// Messages finished so far.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Adds `flow`; each message it fills is handed to `send` first, with
    /// `export_time` (Unix seconds) in its header.
    pub fn push(&mut self, flow: &IpfixFlow, export_time: u32, send: &mut impl FnMut(&[u8])) {
        let v6 = flow.endpoints.src.0.is_ipv6() || flow.endpoints.dst.0.is_ipv6();
        let template = if v6 { TEMPLATE_V6 } else { TEMPLATE_V4 };
        let app = flow
            .app
            .map_or(&[][..], |a| &a.as_bytes()[..a.len().min(MAX_APP_NAME)]);
        let len = record_len(v6) + 1 + app.len();
        if self.msg.is_empty() {
            self.open_message();
        }
        let needs_set = self.set.is_none_or(|(_, t)| t != template);
        let room = len + if needs_set { SET_HEADER_LEN } else { 0 };
        if self.msg.len() + room > self.opts.max_message && self.records > 0 {
            self.finish(export_time, send);
            self.open_message();
        }
        if self.set.is_none_or(|(_, t)| t != template) {
            self.close_set();
            self.set = Some((self.msg.len(), template));
            self.msg.extend_from_slice(&template.to_be_bytes());
            self.msg.extend_from_slice(&[0, 0]);
        }
        write_record(&mut self.msg, flow, v6, app);
        self.records += 1;
    }

    /// Sends the message being filled, if it has records.
    pub fn flush(&mut self, export_time: u32, send: &mut impl FnMut(&[u8])) {
        if self.records > 0 {
            self.finish(export_time, send);
        }
    }

    /// Starts a message: the header's room, then the templates when due.
    fn open_message(&mut self) {
        self.msg.clear();
        self.msg.resize(HEADER_LEN, 0);
        self.set = None;
        let due = match self.since_templates {
            None => true,
            Some(n) => self.opts.template_every > 0 && n + 1 >= self.opts.template_every,
        };
        if due {
            write_templates(&mut self.msg);
            self.since_templates = Some(0);
        } else if let Some(n) = self.since_templates.as_mut() {
            *n += 1;
        }
    }

    /// Writes the open set's length.
    fn close_set(&mut self) {
        if let Some((at, _)) = self.set.take() {
            let len = (self.msg.len() - at) as u16;
            self.msg[at + 2..at + 4].copy_from_slice(&len.to_be_bytes());
        }
    }

    fn finish(&mut self, export_time: u32, send: &mut impl FnMut(&[u8])) {
        self.close_set();
        let len = self.msg.len() as u16;
        let h = &mut self.msg[..HEADER_LEN];
        h[0..2].copy_from_slice(&VERSION.to_be_bytes());
        h[2..4].copy_from_slice(&len.to_be_bytes());
        h[4..8].copy_from_slice(&export_time.to_be_bytes());
        h[8..12].copy_from_slice(&self.sequence.to_be_bytes());
        h[12..16].copy_from_slice(&self.opts.domain.to_be_bytes());
        send(&self.msg);
        self.sequence = self.sequence.wrapping_add(self.records);
        self.records = 0;
        self.messages += 1;
        self.msg.clear();
    }
}

/// Bytes of a data record without the application name.
fn record_len(v6: bool) -> usize {
    let addr = if v6 { 16 } else { 4 };
    2 * addr + 2 + 2 + 1 + 8 + 8 + 2 * (8 + 8 + 2) + 1 + 1 + 8 + 2 + 2 + 8
}

/// The template set with both templates.
fn write_templates(out: &mut Vec<u8>) {
    let at = out.len();
    out.extend_from_slice(&TEMPLATE_SET.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    for (id, f) in [
        (TEMPLATE_V4, fields(8, 12, 4, 32)),
        (TEMPLATE_V6, fields(27, 28, 16, 139)),
    ] {
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&(f.len() as u16).to_be_bytes());
        for (ie, len, reverse) in f {
            let ie = if reverse { ie | 0x8000 } else { ie };
            out.extend_from_slice(&ie.to_be_bytes());
            out.extend_from_slice(&len.to_be_bytes());
            if reverse {
                out.extend_from_slice(&REVERSE_PEN.to_be_bytes());
            }
        }
    }
    let len = (out.len() - at) as u16;
    out[at + 2..at + 4].copy_from_slice(&len.to_be_bytes());
}

fn write_addr(out: &mut Vec<u8>, a: IpAddr, v6: bool) {
    match (a, v6) {
        (IpAddr::V4(a), false) => out.extend_from_slice(&a.octets()),
        (IpAddr::V4(a), true) => out.extend_from_slice(&a.to_ipv6_mapped().octets()),
        (IpAddr::V6(a), _) => out.extend_from_slice(&a.octets()),
    }
}

fn write_record(out: &mut Vec<u8>, f: &IpfixFlow, v6: bool, app: &[u8]) {
    let e = &f.endpoints;
    write_addr(out, e.src.0, v6);
    write_addr(out, e.dst.0, v6);
    out.extend_from_slice(&e.src.1.to_be_bytes());
    out.extend_from_slice(&e.dst.1.to_be_bytes());
    out.push(e.proto);
    out.extend_from_slice(&f.start_ms.to_be_bytes());
    out.extend_from_slice(&f.end_ms.to_be_bytes());
    for c in [f.forward, f.reverse] {
        out.extend_from_slice(&c.packets.to_be_bytes());
        out.extend_from_slice(&c.octets.to_be_bytes());
        out.extend_from_slice(&u16::from(c.tcp_flags).to_be_bytes());
    }
    out.push(f.end_reason);
    out.push(1);
    out.extend_from_slice(&f.flow_id.to_be_bytes());
    out.extend_from_slice(&e.vlan.to_be_bytes());
    out.extend_from_slice(&f.icmp_type_code.to_be_bytes());
    out.extend_from_slice(&f.segment.to_be_bytes());
    out.push(app.len() as u8);
    out.extend_from_slice(app);
}

#[cfg(test)]
mod tests;
