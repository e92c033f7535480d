//! IKEv1 messages as Suricata 7 reads them: the payload chain from the
//! header (nested SA, proposal and transform payloads walked too, each
//! type listed once), the SA's domain of interpretation, each transform's
//! attributes, the key exchange and nonce data and the vendor IDs; and the
//! flow's state it reports with each message (each side's last key
//! exchange and nonce, the responder's first chosen transform). A message
//! with the encryption flag is listed by its header only.

use super::super::reader::Reader;
use super::{Found, Header, IkeDetail, IkeMessage, Limits, Value};
use crate::FlowSide;

/// Nesting followed (SA, proposal, transform); deeper payloads are listed
/// but not read.
const MAX_NESTING: u8 = 4;

/// SA, proposal, transform, key exchange, nonce, vendor ID payload types.
const SA: u8 = 1;
const PROPOSAL: u8 = 2;
const TRANSFORM: u8 = 3;
const KEY_EXCHANGE: u8 = 4;
const NONCE: u8 = 10;
const VENDOR_ID: u8 = 13;

/// One SA attribute of a transform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaAttribute {
    /// Attribute type (1 encryption algorithm... 16 group order).
    pub kind: u16,
    /// The value field as sent: a TV attribute's value, a TLV one's length.
    pub value: u16,
    /// The number: a TV attribute's value, or a TLV one's four bytes.
    pub number: Option<u32>,
    /// A TLV attribute's other value (at most
    /// [`IkeConfig::max_value_bytes`](super::IkeConfig::max_value_bytes)).
    pub raw: Option<Value>,
}

/// One side's key exchange and nonce data (the flow's last message from
/// that side; empty when it had none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct V1Side {
    /// Key exchange data.
    pub key_exchange: Value,
    /// Nonce data.
    pub nonce: Value,
}

/// An IKEv1 message's fields and the flow's state after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IkeV1 {
    /// The flow's domain of interpretation (its last SA's).
    pub doi: Option<u32>,
    /// The encryption flag: the payloads were not read.
    pub encrypted: bool,
    /// Sent by the flow's initiator.
    pub from_initiator: bool,
    /// The initiator's data.
    pub client: V1Side,
    /// The responder's data.
    pub server: V1Side,
    /// The responder's first chosen transform's attributes (empty before
    /// one).
    pub chosen: Vec<SaAttribute>,
    /// This message's transforms (at most
    /// [`IkeConfig::max_transforms`](super::IkeConfig::max_transforms)).
    pub transforms: Vec<Vec<SaAttribute>>,
    /// This message's vendor IDs.
    pub vendor_ids: Vec<Value>,
}

#[derive(Debug, Clone, Default)]
struct SideState {
    data: V1Side,
    transforms: u64,
    first: Vec<SaAttribute>,
}

/// The flow's IKEv1 state.
#[derive(Debug, Clone, Default)]
pub(super) struct V1State {
    doi: Option<u32>,
    client: SideState,
    server: SideState,
}

/// What one message's payloads hold.
struct Walk<'s> {
    lim: Limits,
    found: &'s mut Found,
    doi: &'s mut Option<u32>,
    types: Vec<u8>,
    payloads: usize,
    key_exchange: Option<Value>,
    nonce: Option<Value>,
    transforms: Vec<Vec<SaAttribute>>,
    vendor_ids: Vec<Value>,
}

impl Walk<'_> {
    /// A payload chain starting with type `t`; `None` on a malformed SA
    /// or proposal (Suricata drops the message).
    fn list(&mut self, mut t: u8, b: &[u8], depth: u8) -> Option<()> {
        let mut r = Reader::new(b);
        while r.left() >= 4 {
            let np = r.u8()?;
            r.u8()?;
            let len = usize::from(r.u16()?);
            let data = if len >= 4 {
                match r.take(len - 4) {
                    Some(d) => d,
                    None => break,
                }
            } else {
                &[]
            };
            if self.payloads >= self.lim.payloads {
                self.found.too_many_payloads = true;
                return Some(());
            }
            self.payloads += 1;
            self.payload(t, data, depth)?;
            t = np;
        }
        Some(())
    }

    fn payload(&mut self, t: u8, data: &[u8], depth: u8) -> Option<()> {
        if !self.types.contains(&t) {
            self.types.push(t);
        }
        if depth >= MAX_NESTING {
            return Some(());
        }
        let max = self.lim.value;
        match t {
            SA => {
                let mut r = Reader::new(data);
                let doi = r.u32()?;
                *self.doi = Some(doi);
                if doi == 1 {
                    r.take(4)?;
                    self.list(PROPOSAL, r.rest(), depth + 1)?;
                }
            }
            PROPOSAL => {
                let mut r = Reader::new(data);
                r.take(2)?;
                let spi = usize::from(r.u8()?);
                r.u8()?;
                r.take(spi)?;
                self.list(TRANSFORM, r.rest(), depth + 1)?;
            }
            TRANSFORM => {
                if let Some(attrs) = data.get(4..) {
                    let a = attributes(attrs, max, self.found);
                    if self.transforms.len() < self.lim.transforms {
                        self.transforms.push(a);
                    } else {
                        self.found.too_many_transforms = true;
                    }
                }
            }
            KEY_EXCHANGE => {
                self.key_exchange = Some(Value::new(data, max, &mut self.found.long_value))
            }
            NONCE => self.nonce = Some(Value::new(data, max, &mut self.found.long_value)),
            VENDOR_ID => {
                if self.vendor_ids.len() < self.lim.transforms {
                    let v = Value::new(data, max, &mut self.found.long_value);
                    self.vendor_ids.push(v);
                } else {
                    self.found.too_many_transforms = true;
                }
            }
            _ => {}
        }
        Some(())
    }
}

/// A transform's attributes, up to the first that does not fit.
fn attributes(b: &[u8], max: usize, found: &mut Found) -> Vec<SaAttribute> {
    let mut r = Reader::new(b);
    let mut out = Vec::new();
    while let Some(a) = attribute(&mut r, max, found) {
        out.push(a);
    }
    out
}

fn attribute(r: &mut Reader<'_>, max: usize, found: &mut Found) -> Option<SaAttribute> {
    let start = r.pos();
    let t = r.u16()?;
    let value = r.u16()?;
    let kind = t & 0x7fff;
    let a = if t & 0x8000 != 0 {
        SaAttribute {
            kind,
            value,
            number: Some(u32::from(value)),
            raw: None,
        }
    } else if value == 4 {
        SaAttribute {
            kind,
            value,
            number: Some(r.u32()?),
            raw: None,
        }
    } else {
        let Some(v) = r.take(usize::from(value)) else {
            r.seek(start);
            return None;
        };
        SaAttribute {
            kind,
            value,
            number: None,
            raw: Some(Value::new(v, max, &mut found.long_value)),
        }
    };
    Some(a)
}

/// The IKEv1 message of header `h` and `body` from `side`, the flow's
/// state updated; `None` when Suricata drops it (a malformed SA or
/// proposal payload).
pub(super) fn message(
    st: &mut V1State,
    h: &Header,
    body: &[u8],
    side: FlowSide,
    lim: Limits,
    found: &mut Found,
) -> Option<IkeMessage> {
    let from_initiator = side == FlowSide::Initiator;
    let encrypted = h.flags & 0x01 != 0;
    let mut w = Walk {
        lim,
        found,
        doi: &mut st.doi,
        types: vec![h.next_payload],
        payloads: 0,
        key_exchange: None,
        nonce: None,
        transforms: Vec::new(),
        vendor_ids: Vec::new(),
    };
    if !encrypted {
        w.list(h.next_payload, body, 0)?;
        let s = if from_initiator {
            &mut st.client
        } else {
            &mut st.server
        };
        if w.types.contains(&SA) {
            *s = SideState::default();
        }
        s.data.key_exchange = w.key_exchange.take().unwrap_or_default();
        s.data.nonce = w.nonce.take().unwrap_or_default();
        if let (0, Some(first)) = (s.transforms, w.transforms.first()) {
            s.first = first.clone();
        }
        s.transforms += w.transforms.len() as u64;
    }
    let chosen = if st.server.transforms > 0 {
        st.server.first.clone()
    } else {
        Vec::new()
    };
    let types = std::mem::take(&mut w.types);
    let transforms = std::mem::take(&mut w.transforms);
    let vendor_ids = std::mem::take(&mut w.vendor_ids);
    drop(w);
    let v1 = IkeV1 {
        doi: st.doi,
        encrypted,
        from_initiator,
        client: st.client.data.clone(),
        server: st.server.data.clone(),
        chosen,
        transforms,
        vendor_ids,
    };
    Some(IkeMessage::of(h, types, IkeDetail::V1(Box::new(v1))))
}
