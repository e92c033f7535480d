//! MQTT 3.1, 3.1.1 and 5.0 over TCP ([`MqttParser`]): every control
//! packet of both sides (module `wire` reads them), grouped into
//! transactions as Suricata 7 groups them — CONNECT with its CONNACK, a
//! QoS 1 PUBLISH with its PUBACK, a QoS 2 PUBLISH with PUBREC, PUBREL and
//! PUBCOMP, SUBSCRIBE with SUBACK, UNSUBSCRIBE with UNSUBACK (matched by
//! packet identifier), every other packet alone — one
//! [`MqttTransaction`] (one `mqtt` record) each, reported when complete,
//! the open ones at the flow's end. Caps: a packet longer than
//! `max_msg_length` is skipped unread and reported truncated (Suricata's
//! `max-msg-length`), open transactions past `max_tx` close the oldest
//! (`too_many_transactions`), and lists, messages and properties kept per
//! packet are capped (`too_many_topics`, `too_many_properties`,
//! `message_truncated`). The anomalies are Suricata's MQTT event names
//! plus those three. [`probe`]: a CONNECT from the client naming `MQTT`
//! or `MQIsdp` at level 3, 4 or 5. Each direction is read once the peer
//! acknowledged it ([`MqttParser::timed_by_acks`], module `acks`), as
//! Suricata in IDS mode does.

mod acks;
mod wire;

use super::reader::Reader;
use super::{L7Message, MqttConfig};
use crate::FlowSide;
use crate::parsers::anomalies::Anomalies;
use crate::session::Probe;
use std::collections::VecDeque;

/// A v5 property list as read: `None` when absent or empty.
pub type Properties = Option<Box<[MqttProperty]>>;

/// A v5 property's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropValue {
    /// A byte, two-byte, four-byte or variable integer.
    Int(u32),
    /// A UTF-8 string (as sent).
    Str(Box<[u8]>),
    /// Binary data.
    Bin(Box<[u8]>),
    /// A user property's name and value.
    Pair(Box<[u8]>, Box<[u8]>),
}

/// One v5 property of a known identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttProperty {
    /// The property identifier (1 payload format indicator ... 42 shared
    /// subscription available).
    pub id: u32,
    /// Its value.
    pub value: PropValue,
}

/// Suricata's name for a property identifier (`None`: a user property,
/// named by itself).
pub fn property_name(id: u32) -> Option<&'static str> {
    Some(match id {
        1 => "payload_format_indicator",
        2 => "message_expiry_interval",
        3 => "content_type",
        8 => "response_topic",
        9 => "correlation_data",
        11 => "subscription_identifier",
        17 => "session_expiry_interval",
        18 => "assigned_client_identifier",
        19 => "server_keep_alive",
        21 => "authentication_method",
        22 => "authentication_data",
        23 => "request_problem_information",
        24 => "will_delay_interval",
        25 => "request_response_information",
        26 => "response_information",
        28 => "server_reference",
        31 => "reason_string",
        33 => "receive_maximum",
        34 => "topic_alias_maximum",
        35 => "topic_alias",
        36 => "maximum_qos",
        37 => "retain_available",
        39 => "maximum_packet_size",
        40 => "wildcard_subscription_available",
        41 => "subscription_identifier_available",
        42 => "shared_subscription_available",
        _ => return None,
    })
}

/// CONNECT's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MqttConnect {
    /// The protocol name (`MQTT`, `MQIsdp`).
    pub protocol_string: Box<[u8]>,
    /// The protocol level (3: 3.1, 4: 3.1.1, 5: 5.0).
    pub protocol_version: u8,
    /// The connect flags byte (0x80 username, 0x40 password, 0x20 will
    /// retain, 0x18 will QoS, 0x04 will, 0x02 clean session).
    pub flags: u8,
    /// The keep-alive interval in seconds.
    pub keepalive: u16,
    /// The client identifier.
    pub client_id: Box<[u8]>,
    /// The user name.
    pub username: Option<Box<[u8]>>,
    /// The password: kept only with `[parsers.mqtt] passwords`.
    pub password: Option<Box<[u8]>>,
    /// The will topic.
    pub will_topic: Option<Box<[u8]>>,
    /// The will message (up to `max_message_bytes`).
    pub will_message: Option<Box<[u8]>>,
    /// The will message was longer than kept.
    pub will_message_truncated: bool,
    /// The will properties (v5).
    pub will_properties: Properties,
    /// The CONNECT properties (v5).
    pub properties: Properties,
}

/// PUBLISH's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MqttPublish {
    /// The topic name.
    pub topic: Box<[u8]>,
    /// The packet identifier (QoS 1 and 2).
    pub message_id: Option<u16>,
    /// The application message (up to `max_message_bytes`).
    pub message: Box<[u8]>,
    /// The message was longer than kept.
    pub message_truncated: bool,
    /// The PUBLISH properties (v5).
    pub properties: Properties,
}

/// A control packet's contents by type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MqttBody {
    /// CONNECT.
    Connect(Box<MqttConnect>),
    /// CONNACK.
    Connack {
        /// The session present flag.
        session_present: bool,
        /// The return (v5: reason) code.
        return_code: u8,
        /// The CONNACK properties (v5).
        properties: Properties,
    },
    /// PUBLISH.
    Publish(Box<MqttPublish>),
    /// PUBACK, PUBREC, PUBREL or PUBCOMP (the header's type tells).
    Ack {
        /// The packet identifier.
        message_id: u16,
        /// The reason code (v5 only; 0 when left out).
        reason_code: Option<u8>,
        /// The properties (v5).
        properties: Properties,
    },
    /// SUBSCRIBE.
    Subscribe {
        /// The packet identifier.
        message_id: u16,
        /// Each topic filter and its options byte (the QoS in 3.1.1).
        topics: Box<[(Box<[u8]>, u8)]>,
        /// The SUBSCRIBE properties (v5).
        properties: Properties,
    },
    /// SUBACK.
    Suback {
        /// The packet identifier.
        message_id: u16,
        /// The granted QoS (or v5 reason code) of each topic.
        qos_granted: Box<[u8]>,
    },
    /// UNSUBSCRIBE.
    Unsubscribe {
        /// The packet identifier.
        message_id: u16,
        /// The topic filters.
        topics: Box<[Box<[u8]>]>,
    },
    /// UNSUBACK.
    Unsuback {
        /// The packet identifier.
        message_id: u16,
        /// The v5 reason codes (none in 3.1.1).
        reason_codes: Box<[u8]>,
    },
    /// PINGREQ or PINGRESP.
    Ping,
    /// DISCONNECT.
    Disconnect {
        /// The reason code (v5 only; 0 when left out).
        reason_code: Option<u8>,
        /// The properties (v5).
        properties: Properties,
    },
    /// AUTH (v5).
    Auth {
        /// The reason code.
        reason_code: u8,
        /// The properties.
        properties: Properties,
    },
    /// A packet longer than `max_msg_length`, skipped unread.
    Truncated {
        /// The bytes skipped (fixed header included).
        skipped_length: u64,
    },
    /// A packet of the reserved type 0.
    Unassigned,
}

/// One control packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttMessage {
    /// The control packet type (1 CONNECT ... 15 AUTH; 0 reserved).
    pub kind: u8,
    /// The fixed header's DUP flag.
    pub dup: bool,
    /// The fixed header's QoS bits.
    pub qos: u8,
    /// The fixed header's RETAIN flag.
    pub retain: bool,
    /// What the packet holds.
    pub body: MqttBody,
}

impl MqttMessage {
    /// The packet type's name, as Suricata keys its record's objects.
    pub fn type_name(&self) -> &'static str {
        type_name(self.kind)
    }
}

/// A control packet type's name (`connect` ... `auth`; `unassigned`).
pub fn type_name(kind: u8) -> &'static str {
    match kind {
        1 => "connect",
        2 => "connack",
        3 => "publish",
        4 => "puback",
        5 => "pubrec",
        6 => "pubrel",
        7 => "pubcomp",
        8 => "subscribe",
        9 => "suback",
        10 => "unsubscribe",
        11 => "unsuback",
        12 => "pingreq",
        13 => "pingresp",
        14 => "disconnect",
        15 => "auth",
        _ => "unassigned",
    }
}

/// One transaction: the packets Suricata groups (one `mqtt` record).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MqttTransaction {
    /// The transaction's number in its flow (from 0).
    pub tx_id: u64,
    /// The first packet came from the responder (the broker).
    pub to_client: bool,
    /// Its packets in the order read.
    pub messages: Vec<MqttMessage>,
}

/// The content probe: a CONNECT (`0x10`, a remaining length, the protocol
/// name `MQTT` or `MQIsdp`, level 3, 4 or 5) from the client.
pub fn probe(bytes: &[u8], side: FlowSide) -> Probe {
    if side != FlowSide::Initiator || bytes.first().is_some_and(|&b| b != 0x10) {
        return Probe::No;
    }
    let mut r = Reader::new(bytes);
    r.u8();
    match wire::varint(&mut r) {
        Err(()) => return Probe::No,
        Ok(None) => return Probe::NeedMore,
        Ok(Some(len)) if len < 10 => return Probe::No,
        Ok(Some(_)) => {}
    }
    let rest = &bytes[r.pos()..];
    let mut known = 0;
    for name in [&b"\x00\x04MQTT"[..], b"\x00\x06MQIsdp"] {
        let n = rest.len().min(name.len());
        if rest[..n] != name[..n] {
            continue;
        }
        known += 1;
        match rest.get(name.len()) {
            None => return Probe::NeedMore,
            Some(3..=5) => return Probe::Certain,
            Some(_) => {}
        }
    }
    if known > 0 && rest.len() < 2 {
        Probe::NeedMore
    } else {
        Probe::No
    }
}

/// The per-flow limits, from [`MqttConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Limits {
    max_msg_length: u64,
    max_tx: usize,
    caps: wire::Caps,
}

/// A transaction waiting for its acknowledgements.
#[derive(Debug, Clone)]
struct Open {
    /// The packet identifier it waits on (`CONNECT_ID` for CONNECT's).
    pkt_id: Option<u32>,
    tx: MqttTransaction,
}

/// CONNECT's transaction waits on this identifier (past any u16).
const CONNECT_ID: u32 = u32::MAX;
/// Anomalies queued per flow at most (the driver reports fewer).
const MAX_EVENTS: usize = 64;

/// The MQTT session parser. Messages: [`L7Message::Mqtt`], one per
/// transaction.
#[derive(Debug, Clone)]
pub struct MqttParser {
    limits: Limits,
    /// The protocol level of the last CONNECT (5: v5 fields are read).
    version: u8,
    connected: bool,
    /// Each side's bytes not read yet (0 the client).
    pending: [Vec<u8>; 2],
    /// Each side's bytes still to skip (a truncated packet's rest).
    skip: [u64; 2],
    /// A malformed packet or a gap stopped the parsing.
    stopped: bool,
    open: VecDeque<Open>,
    next_tx: u64,
    events: Anomalies<MAX_EVENTS>,
    acks: Option<Box<super::held::Held>>,
}

impl Default for MqttParser {
    fn default() -> Self {
        MqttParser::new(&MqttConfig::default())
    }
}

impl MqttParser {
    /// A parser with `cfg`'s caps.
    pub fn new(cfg: &MqttConfig) -> Self {
        MqttParser {
            limits: Limits {
                max_msg_length: cfg.max_msg_length as u64,
                max_tx: cfg.max_tx,
                caps: wire::Caps {
                    properties: cfg.max_properties,
                    topics: cfg.max_topics,
                    message: cfg.max_message_bytes,
                    passwords: cfg.passwords,
                },
            },
            version: 0,
            connected: false,
            pending: Default::default(),
            skip: [0; 2],
            stopped: false,
            open: VecDeque::new(),
            next_tx: 0,
            events: Anomalies::default(),
            acks: None,
        }
    }

    fn event(&mut self, name: &'static str, tx_id: Option<u64>) {
        self.events.push("mqtt", name, tx_id);
    }

    /// A new transaction for `msg`; past `max_tx` open ones, the oldest
    /// is closed (reported) first.
    fn new_tx(
        &mut self,
        msg: MqttMessage,
        k: usize,
        done: &mut Vec<MqttTransaction>,
    ) -> MqttTransaction {
        if self.open.len() >= self.limits.max_tx
            && let Some(old) = self.open.pop_front()
        {
            self.event("too_many_transactions", Some(old.tx.tx_id));
            done.push(old.tx);
        }
        let tx_id = self.next_tx;
        self.next_tx += 1;
        MqttTransaction {
            tx_id,
            to_client: k == 1,
            messages: vec![msg],
        }
    }

    /// The open transaction waiting on `pkt_id`.
    fn waiting(&mut self, pkt_id: u32) -> Option<usize> {
        self.open.iter().position(|o| o.pkt_id == Some(pkt_id))
    }

    /// Files one packet from side `k` into its transaction.
    fn handle(&mut self, msg: MqttMessage, k: usize, done: &mut Vec<MqttTransaction>) {
        let connected = self.connected;
        // An answer: joins the open transaction it answers (closing it
        // unless a QoS 2 flow goes on), or stands alone.
        let answer = match &msg.body {
            MqttBody::Connack { .. } => Some((CONNECT_ID, true, "missing_connect")),
            MqttBody::Ack { message_id, .. } => {
                let closes = msg.kind == 4 || msg.kind == 7;
                Some((u32::from(*message_id), closes, "missing_publish"))
            }
            MqttBody::Suback { message_id, .. } => {
                Some((u32::from(*message_id), true, "missing_subscribe"))
            }
            MqttBody::Unsuback { message_id, .. } => {
                Some((u32::from(*message_id), true, "missing_unsubscribe"))
            }
            _ => None,
        };
        if let Some((pkt_id, closes, missing)) = answer {
            let is_connack = pkt_id == CONNECT_ID;
            if let Some(i) = self.waiting(pkt_id) {
                self.open[i].tx.messages.push(msg);
                if closes && let Some(o) = self.open.remove(i) {
                    done.push(o.tx);
                }
                if is_connack {
                    self.connected = true;
                }
                return;
            }
            let tx = self.new_tx(msg, k, done);
            self.event(missing, Some(tx.tx_id));
            if !connected && !is_connack {
                self.event("unintroduced_message", Some(tx.tx_id));
            }
            done.push(tx);
            return;
        }
        // A packet that opens a transaction.
        let (pkt_id, qos) = match &msg.body {
            MqttBody::Connect(c) => {
                self.version = c.protocol_version;
                (Some(CONNECT_ID), None)
            }
            MqttBody::Publish(p) => (p.message_id.map(u32::from), Some(msg.qos)),
            MqttBody::Subscribe { message_id, .. } | MqttBody::Unsubscribe { message_id, .. } => {
                (Some(u32::from(*message_id)), Some(msg.qos))
            }
            _ => (None, None),
        };
        let kind = msg.kind;
        let tx = self.new_tx(msg, k, done);
        let id = Some(tx.tx_id);
        match (kind, qos) {
            (1, _) => {
                if connected {
                    self.event("double_connect", id);
                }
                self.open.push_back(Open { pkt_id, tx });
                return;
            }
            (_, Some(0)) | (_, None) => {}
            (_, Some(1 | 2)) => {
                if pkt_id.is_none() {
                    self.event("missing_msg_id", id);
                }
            }
            (_, Some(_)) => self.event("invalid_qos_level", id),
        }
        if kind == 0 {
            self.event("unassigned_msg_type", id);
        } else if !connected
            && !matches!(kind, 1 | 2)
            && !matches!(tx.messages[0].body, MqttBody::Truncated { .. })
        {
            self.event("unintroduced_message", id);
        }
        match qos {
            Some(1 | 2) => self.open.push_back(Open { pkt_id, tx }),
            // QoS 3 waits for nothing, but Suricata leaves it open.
            Some(q) if q > 2 => self.open.push_back(Open { pkt_id: None, tx }),
            _ => done.push(tx),
        }
    }

    /// Reads side `k`'s whole packets from `b` (its bytes after the
    /// pending ones); returns how many bytes were used.
    fn packets(&mut self, k: usize, b: &[u8], done: &mut Vec<MqttTransaction>) -> usize {
        let mut at = 0;
        while at < b.len() && !self.stopped {
            if self.skip[k] > 0 {
                let n = self.skip[k].min((b.len() - at) as u64);
                self.skip[k] -= n;
                // At most what is left of `b`.
                at += n as usize;
                continue;
            }
            let f = match wire::fixed_header(&b[at..]) {
                wire::Head::Fixed(f) => f,
                wire::Head::More => break,
                wire::Head::Bad => {
                    self.malformed();
                    break;
                }
            };
            let whole = f.header_len as u64 + u64::from(f.len);
            let mut msg = MqttMessage {
                kind: f.kind,
                dup: f.flags & 8 != 0,
                qos: (f.flags >> 1) & 3,
                retain: f.flags & 1 != 0,
                body: MqttBody::Unassigned,
            };
            if u64::from(f.len) > self.limits.max_msg_length {
                msg.body = MqttBody::Truncated {
                    skipped_length: whole,
                };
                self.skip[k] = whole;
                self.handle(msg, k, done);
                continue;
            }
            // At most max_msg_length plus a 5-byte header.
            let whole = whole as usize;
            let Some(packet) = b.get(at + f.header_len..at + whole) else {
                break;
            };
            let Some((body, dropped)) =
                wire::body(f.kind, f.flags, self.version, packet, &self.limits.caps)
            else {
                self.malformed();
                break;
            };
            at += whole;
            msg.body = body;
            let cut = match &msg.body {
                MqttBody::Publish(p) => p.message_truncated,
                MqttBody::Connect(c) => c.will_message_truncated,
                _ => false,
            };
            let tx_id = self.next_tx;
            self.handle(msg, k, done);
            for (hit, name) in [
                (dropped.properties, "too_many_properties"),
                (dropped.topics, "too_many_topics"),
                (cut, "message_truncated"),
            ] {
                if hit {
                    self.event(name, Some(tx_id));
                }
            }
        }
        at
    }

    fn malformed(&mut self) {
        self.event("malformed_traffic", None);
        self.stop();
    }

    fn stop(&mut self) {
        self.stopped = true;
        self.pending = Default::default();
    }

    /// Side `k`'s next bytes, read now.
    fn feed(&mut self, k: usize, bytes: &[u8], out: &mut Vec<L7Message>) {
        if self.stopped {
            return;
        }
        let mut done = Vec::new();
        if self.pending[k].is_empty() {
            let used = self.packets(k, bytes, &mut done);
            if !self.stopped {
                self.pending[k].extend_from_slice(&bytes[used..]);
            }
        } else {
            let mut buf = std::mem::take(&mut self.pending[k]);
            buf.extend_from_slice(bytes);
            let used = self.packets(k, &buf, &mut done);
            if !self.stopped {
                buf.drain(..used);
                self.pending[k] = buf;
            }
        }
        report(done, out);
    }

    /// The open transactions, reported as they stand (the flow ends).
    fn finish(&mut self, out: &mut Vec<L7Message>) {
        let done: Vec<MqttTransaction> = self.open.drain(..).map(|o| o.tx).collect();
        report(done, out);
    }
}

/// Reports transactions closed by one read in their numbers' order, as
/// Suricata logs them.
fn report(mut done: Vec<MqttTransaction>, out: &mut Vec<L7Message>) {
    done.sort_by_key(|t| t.tx_id);
    out.extend(done.into_iter().map(|t| L7Message::Mqtt(Box::new(t))));
}

#[cfg(test)]
mod tests;
