//! IKE (ISAKMP) over UDP ([`IkeParser`]): IKEv1 (RFC 2408/2409) and IKEv2
//! (RFC 7296) messages on ports 500 and 4500, where a message follows the
//! four-byte non-ESP marker of zeros (RFC 3948; a datagram on such a flow
//! without it is ESP and is skipped). One [`IkeMessage`] per datagram
//! that holds an ISAKMP header, as Suricata 7 makes one transaction (and
//! one `ike` record) of each: the header's fields, the payload types, and
//! for IKEv2 the notify types and the algorithms the responder chose (the
//! flow's, from the last responder SA), for IKEv1 (module `v1`) the
//! domain of interpretation, the proposals' transforms, the key exchange
//! and nonce data of each side (the flow's last) and the vendor IDs.
//! [`probe`]: a datagram that is an ISAKMP header of version 1.0 with a
//! known exchange type, or 2.0 with an IKEv2 one, whose length is the
//! datagram's, is IKE; an other version-1 header waits for the port
//! ([`IkeConfig::ports`]: 500 and 4500 are hints). Names: module `names`.
//! Caps ([`IkeConfig`]): payloads per message (`too_many_payloads`),
//! transforms, notify entries and vendor IDs kept per message
//! (`too_many_transforms`), bytes of a value kept (`long_value`), messages
//! per flow (`too_many_messages`); a datagram that holds no ISAKMP
//! header is skipped (`malformed_data`, Suricata's name).

mod names;
#[cfg(test)]
mod tests;
mod v1;

pub use names::*;
pub use v1::{IkeV1, SaAttribute, V1Side};

use super::reader::Reader;
use super::{IkeConfig, L7Message};
use crate::AppEvent;
use crate::FlowSide;
use crate::parsers::anomalies::Anomalies;
use crate::session::{DatagramParser, Probe};

/// Anomalies kept per flow before they are taken (the driver takes them
/// after each datagram).
const MAX_PENDING_EVENTS: usize = 8;
/// The ISAKMP header's length.
pub const HEADER_LEN: usize = 28;
/// IKEv2 header flag: the sender is the original initiator.
pub const FLAG_INITIATOR: u8 = 0x08;

/// A value kept as bytes (at most [`IkeConfig::max_value_bytes`]) with its
/// length as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Value {
    /// The bytes kept.
    pub bytes: Box<[u8]>,
    /// Its length as sent, in bytes.
    pub len: u32,
}

impl Value {
    fn new(b: &[u8], max: usize, cut: &mut bool) -> Value {
        if b.len() > max {
            *cut = true;
        }
        Value {
            bytes: b[..b.len().min(max)].into(),
            len: u32::try_from(b.len()).unwrap_or(u32::MAX),
        }
    }

    /// Whether nothing was sent.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The algorithms an IKEv2 responder chose (transform IDs), as Suricata
/// keeps them per flow: `ENCR_NULL`, `NONE`, `PRF_NULL`, `None`, `NoESN`
/// until a responder's SA payload names others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IkeAlgs {
    /// Encryption.
    pub enc: u16,
    /// Integrity.
    pub auth: u16,
    /// Pseudo-random function.
    pub prf: u16,
    /// Diffie-Hellman group.
    pub dh: u16,
    /// Extended sequence numbers.
    pub esn: u16,
}

impl Default for IkeAlgs {
    fn default() -> Self {
        IkeAlgs {
            enc: 11,
            auth: 0,
            prf: 0,
            dh: 0,
            esn: 0,
        }
    }
}

/// An IKEv2 message's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeV2 {
    /// The initiator flag: the original initiator sent it.
    pub initiator: bool,
    /// The flow's chosen algorithms after this message (reported on the
    /// responder's messages only, as Suricata does).
    pub algs: IkeAlgs,
    /// Notify payloads of an error type (below 16384).
    pub errors: u32,
    /// The notify types, in order (at most [`IkeConfig::max_transforms`]).
    pub notify: Vec<u16>,
}

/// What the version adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IkeDetail {
    /// IKEv1.
    V1(Box<IkeV1>),
    /// IKEv2.
    V2(IkeV2),
}

/// One IKE message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeMessage {
    /// Major version (1 or 2).
    pub version_major: u8,
    /// Minor version.
    pub version_minor: u8,
    /// Initiator's SPI.
    pub init_spi: u64,
    /// Responder's SPI (0 in a first request).
    pub resp_spi: u64,
    /// Message ID.
    pub message_id: u32,
    /// Exchange type.
    pub exchange_type: u8,
    /// Header flags.
    pub flags: u8,
    /// Whether it followed the non-ESP marker (UDP encapsulation).
    pub nat_t: bool,
    /// The payload types as Suricata lists them: IKEv2 the header's next
    /// payload then each payload's (nothing when a payload is malformed);
    /// IKEv1 each type met once, nested proposals and transforms included.
    pub payloads: Vec<u8>,
    /// Version-specific fields.
    pub detail: IkeDetail,
}

/// An ISAKMP header.
#[derive(Debug, Clone, Copy)]
struct Header {
    init_spi: u64,
    resp_spi: u64,
    next_payload: u8,
    major: u8,
    minor: u8,
    exchange: u8,
    flags: u8,
    message_id: u32,
    length: u32,
}

impl IkeMessage {
    /// The message with header `h`, its payload types and its details
    /// (not yet marked as carried after the non-ESP marker).
    fn of(h: &Header, payloads: Vec<u8>, detail: IkeDetail) -> IkeMessage {
        IkeMessage {
            version_major: h.major,
            version_minor: h.minor,
            init_spi: h.init_spi,
            resp_spi: h.resp_spi,
            message_id: h.message_id,
            exchange_type: h.exchange,
            flags: h.flags,
            nat_t: false,
            payloads,
            detail,
        }
    }
}

fn u64be(r: &mut Reader<'_>) -> Option<u64> {
    let b: [u8; 8] = r.take(8)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

fn header(b: &[u8]) -> Option<(Header, &[u8])> {
    let mut r = Reader::new(b);
    let init_spi = u64be(&mut r)?;
    let resp_spi = u64be(&mut r)?;
    let next_payload = r.u8()?;
    let v = r.u8()?;
    let exchange = r.u8()?;
    let flags = r.u8()?;
    let message_id = r.u32()?;
    let length = r.u32()?;
    let h = Header {
        init_spi,
        resp_spi,
        next_payload,
        major: v >> 4,
        minor: v & 0x0f,
        exchange,
        flags,
        message_id,
        length,
    };
    Some((h, r.rest()))
}

/// `b` without the non-ESP marker when it starts with one and an ISAKMP
/// header follows; whether it did.
fn unmark(b: &[u8]) -> (&[u8], bool) {
    match b.split_first_chunk::<4>() {
        Some(([0, 0, 0, 0], rest)) if rest.len() >= HEADER_LEN => (rest, true),
        _ => (b, false),
    }
}

/// IKEv1 exchange types of RFC 2408/2409 and the transaction (config
/// mode) one.
fn v1_exchange_known(t: u8) -> bool {
    matches!(t, 1..=6 | 32 | 33)
}

/// The content probe: a datagram (after the non-ESP marker, if any) that
/// is an ISAKMP header of version 1.0 with a known IKEv1 exchange type, or
/// 2.0 with an IKEv2 one (34 to 37), whose length field is the datagram's,
/// is IKE. An other version-1 header (what Suricata's probe takes on its
/// port) that is of version 1.0 or of the datagram's length leaves it to
/// the next datagram or the port; anything else is not IKE (a version 1.x
/// header of another length is too weak a sign: it would keep flows on
/// other ports undecided).
pub fn probe(b: &[u8], _side: FlowSide) -> Probe {
    let (b, _) = unmark(b);
    let Some((h, _)) = header(b) else {
        return Probe::No;
    };
    let whole = usize::try_from(h.length).ok() == Some(b.len());
    match (h.major, h.minor) {
        (2, 0) if whole && (34..=37).contains(&h.exchange) => Probe::Certain,
        (1, 0) if whole && v1_exchange_known(h.exchange) => Probe::Certain,
        (1, 0) => Probe::NeedMore,
        (1, _) if whole => Probe::NeedMore,
        _ => Probe::No,
    }
}

/// Caps met while reading one message.
#[derive(Debug, Default, Clone, Copy)]
struct Found {
    too_many_payloads: bool,
    too_many_transforms: bool,
    long_value: bool,
}

/// Where a message's lists stop growing.
#[derive(Debug, Clone, Copy)]
struct Limits {
    payloads: usize,
    transforms: usize,
    value: usize,
}

/// The IKE datagram parser. Messages: [`L7Message::Ike`], one per datagram
/// that holds an ISAKMP header, from either side.
#[derive(Debug, Clone, Default)]
pub struct IkeParser {
    cfg: IkeConfig,
    /// Whether the flow's first message followed the non-ESP marker.
    nat_t: Option<bool>,
    algs: IkeAlgs,
    v2_state: V2State,
    v1: v1::V1State,
    messages: u64,
    events: Anomalies<MAX_PENDING_EVENTS>,
    malformed: u64,
    esp: u64,
    over_cap: bool,
}

impl IkeParser {
    /// A parser with these options.
    pub fn new(cfg: IkeConfig) -> Self {
        IkeParser {
            cfg,
            ..IkeParser::default()
        }
    }

    /// Datagrams that held no ISAKMP header (skipped).
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// Datagrams of a UDP-encapsulated flow without the non-ESP marker
    /// (ESP, or keepalives; skipped).
    pub fn esp(&self) -> u64 {
        self.esp
    }

    /// The options it runs with.
    pub fn config(&self) -> &IkeConfig {
        &self.cfg
    }

    fn event(&mut self, name: &'static str, tx_id: Option<u64>) {
        self.events.push("ike", name, tx_id);
    }

    fn limits(&self) -> Limits {
        Limits {
            payloads: self.cfg.max_payloads,
            transforms: self.cfg.max_transforms,
            value: self.cfg.max_value_bytes,
        }
    }

    /// An IKEv2 message's payloads: Suricata's list (the header's next
    /// payload, then each payload's) and what they carry, or none of it
    /// when one is malformed.
    fn v2(&mut self, h: &Header, body: &[u8], found: &mut Found) -> IkeMessage {
        let lim = self.limits();
        let mut payloads = vec![h.next_payload];
        let mut notify = Vec::new();
        let mut errors = 0u32;
        let mut chosen: Option<IkeAlgs> = None;
        let mut state = self.v2_state;
        let mut next = h.next_payload;
        let mut r = Reader::new(body);
        let mut ok = true;
        while r.any_left() {
            let Some((np, content)) = generic_payload(&mut r) else {
                ok = false;
                break;
            };
            if payloads.len() > lim.payloads {
                found.too_many_payloads = true;
                break;
            }
            if !v2_content_ok(next, content) {
                ok = false;
                break;
            }
            match next {
                SA if !matches!(state, V2State::Init | V2State::Done) => {
                    let a = chosen.get_or_insert(self.algs);
                    v2_choose(content, a);
                }
                NOTIFY => {
                    let t = content
                        .get(2..4)
                        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
                    if t < 16384 {
                        errors += 1;
                    }
                    if notify.len() < lim.transforms {
                        notify.push(t);
                    } else {
                        found.too_many_transforms = true;
                    }
                }
                _ => {}
            }
            state = state.advance(next);
            payloads.push(np);
            next = np;
        }
        if ok {
            self.v2_state = state;
            if let Some(a) = chosen {
                self.algs = a;
            }
        } else {
            payloads.clear();
            notify.clear();
            errors = 0;
        }
        let initiator = h.flags & FLAG_INITIATOR != 0;
        IkeMessage::of(
            h,
            payloads,
            IkeDetail::V2(IkeV2 {
                initiator,
                algs: self.algs,
                errors,
                notify,
            }),
        )
    }
}

/// Suricata's IKEv2 exchange state (its `IKEV2ConnectionState`): which
/// SA payloads set the flow's algorithms. Suricata 7.0 takes every SA
/// payload met after the first SA, key exchange and nonce and before the
/// second ones (whichever side sent it; on the corpus, the initiator's
/// second offer, after a cookie) or after a payload out of that order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum V2State {
    #[default]
    Init,
    InitSa,
    InitKe,
    InitNonce,
    RespSa,
    RespKe,
    Done,
    Invalid,
}

impl V2State {
    /// The state after a payload of type `t`.
    fn advance(self, t: u8) -> V2State {
        use V2State::*;
        match (self, t) {
            (Init, SA) => InitSa,
            (InitSa, 34) => InitKe,
            (InitKe, 40) => InitNonce,
            (InitNonce, SA) => RespSa,
            (RespSa, 34) => RespKe,
            (RespKe, 40) => Done,
            (Done, _) => Done,
            (s, NOTIFY) => s,
            _ => Invalid,
        }
    }
}

/// IKEv2 payload types read for their content.
const SA: u8 = 33;
const NOTIFY: u8 = 41;

/// A generic payload header and its content: `(next payload, content)`.
fn generic_payload<'a>(r: &mut Reader<'a>) -> Option<(u8, &'a [u8])> {
    let np = r.u8()?;
    r.u8()?;
    let len = usize::from(r.u16()?);
    let content = r.take(len.checked_sub(4)?)?;
    Some((np, content))
}

/// Whether an IKEv2 payload of type `t` is well formed as the
/// `ipsec-parser` crate (Suricata's) reads it: a malformed one leaves the
/// message without payloads.
fn v2_content_ok(t: u8, c: &[u8]) -> bool {
    let n = c.len();
    match t {
        SA => v2_proposals(c, |_| {}).is_some(),
        34 | 35 | 36 | 39 => n >= 4,
        37 | 38 => n >= 1,
        NOTIFY => n >= 4 && n >= 4 + usize::from(c[1]),
        42 | 43 => n >= 8,
        44 | 45 => n >= 4 && traffic_selector_ok(&c[4..]),
        _ => true,
    }
}

/// Whether a traffic selector list starts with a well-formed IPv4 or IPv6
/// address range.
fn traffic_selector_ok(c: &[u8]) -> bool {
    match c.first() {
        Some(7) => c.len() >= 16,
        Some(8) => c.len() >= 40,
        _ => false,
    }
}

/// Walks an SA payload's proposals, calling `each` with every transform's
/// `(type, id)`; `None` when the first proposal is malformed (later
/// malformed ones end the walk, as the crate reads them).
fn v2_proposals(c: &[u8], mut each: impl FnMut((u8, u16))) -> Option<()> {
    let mut r = Reader::new(c);
    let mut n = 0;
    while r.any_left() {
        match proposal(&mut r, &mut each) {
            Some(()) => n += 1,
            None if n > 0 => break,
            None => return None,
        }
    }
    (n > 0).then_some(())
}

/// One proposal: its header, SPI and transforms, each `(type, id)` given
/// to `each` once the whole proposal is known to be well formed.
fn proposal(r: &mut Reader<'_>, each: &mut impl FnMut((u8, u16))) -> Option<()> {
    let h = r.take(8)?;
    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let spi = usize::from(h[6]);
    let n = h[7];
    r.take(spi)?;
    let body = r.take(len.checked_sub(8 + spi)?)?;
    transforms(body, n, &mut |_| {})?;
    transforms(body, n, each)
}

/// `n` transforms at the start of `body`.
fn transforms(body: &[u8], n: u8, each: &mut impl FnMut((u8, u16))) -> Option<()> {
    let mut t = Reader::new(body);
    for _ in 0..n {
        t.u16()?;
        let len = usize::from(t.u16()?);
        let ty = t.u8()?;
        t.u8()?;
        let id = t.u16()?;
        if len > 8 {
            t.take(len - 8)?;
        }
        each((ty, id));
    }
    Some(())
}

/// Sets `a` from an SA payload's transforms (every proposal's, the last
/// of a type winning, as Suricata sets them).
fn v2_choose(c: &[u8], a: &mut IkeAlgs) {
    let _ = v2_proposals(c, |(t, id)| match t {
        1 => a.enc = id,
        2 => a.prf = id,
        3 => a.auth = id,
        4 => a.dh = id,
        5 => a.esn = id,
        _ => {}
    });
}

impl DatagramParser for IkeParser {
    type Message = L7Message;

    fn parse(&mut self, payload: &[u8], side: FlowSide) -> Vec<L7Message> {
        let (b, marked) = unmark(payload);
        if self.nat_t == Some(true) && !marked {
            self.esp += 1;
            return Vec::new();
        }
        let Some((h, body)) = header(b).filter(|(h, _)| h.major == 1 || h.major == 2) else {
            self.malformed += 1;
            self.event("malformed_data", None);
            return Vec::new();
        };
        if self.nat_t.is_none() {
            self.nat_t = Some(marked);
        }
        if self.messages >= self.cfg.max_messages {
            if !self.over_cap {
                self.over_cap = true;
                self.event("too_many_messages", None);
            }
            return Vec::new();
        }
        let mut found = Found::default();
        let tx = self.messages;
        let m = if h.major == 2 {
            Some(self.v2(&h, body, &mut found))
        } else {
            let lim = self.limits();
            v1::message(&mut self.v1, &h, body, side, lim, &mut found)
        };
        let Some(mut m) = m else {
            self.malformed += 1;
            self.event("malformed_data", None);
            return Vec::new();
        };
        m.nat_t = marked;
        self.messages += 1;
        for (on, name) in [
            (found.too_many_payloads, "too_many_payloads"),
            (found.too_many_transforms, "too_many_transforms"),
            (found.long_value, "long_value"),
        ] {
            if on {
                self.event(name, Some(tx));
            }
        }
        vec![L7Message::Ike(Box::new(m))]
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }
}
