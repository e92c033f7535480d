//! The connection-oriented protocol over TCP: PDUs framed by their
//! header's fragment length, read per side; calls matched by call id.

use super::{DcerpcCall, DcerpcConfig, DcerpcInterface, L7Message, ptype, uuid};
use crate::AppEvent;
use crate::parsers::anomalies::Anomalies;
use crate::parsers::reader::Reader;
use crate::session::SessionParser;

/// Anomalies kept until the driver takes them.
const MAX_PENDING_EVENTS: usize = 64;
/// The common header's length.
pub(crate) const HEADER: usize = 16;
/// `pfc_flags`: the first fragment of a call's PDUs (SMB's pipes read it).
#[cfg_attr(not(feature = "smb"), allow(dead_code))]
pub(crate) const FIRST_FRAG: u8 = 0x01;
/// `pfc_flags`: the last fragment of a call's PDUs.
pub(crate) const LAST_FRAG: u8 = 0x02;
/// `pfc_flags`: an object UUID follows a request's header.
const OBJECT_UUID: u8 = 0x80;

/// The common header (SMB's named pipes carry the same PDUs: its parser
/// reads them with this and the functions below).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    /// The minor version (0 or 1).
    pub(crate) minor: u8,
    /// The PDU type.
    pub(crate) ptype: u8,
    /// `pfc_flags`.
    pub(crate) flags: u8,
    /// Little-endian data representation.
    pub(crate) le: bool,
    /// The fragment's length, header included.
    pub(crate) frag_len: usize,
    /// The call id.
    pub(crate) call_id: u32,
}

impl Header {
    /// The header at the start of `b`: version 5.0 or 5.1, a fragment at
    /// least a header long.
    pub(crate) fn read(b: &[u8]) -> Option<Header> {
        let mut r = Reader::new(b);
        let major = r.u8()?;
        let minor = r.u8()?;
        let ptype = r.u8()?;
        let flags = r.u8()?;
        let drep = r.take(4)?;
        let le = drep[0] & 0x10 != 0;
        let (frag_len, call_id) = if le {
            let f = r.u16_le()?;
            r.take(2)?;
            (f, r.u32_le()?)
        } else {
            let f = r.u16()?;
            r.take(2)?;
            (f, r.u32()?)
        };
        (major == 5 && minor <= 1 && usize::from(frag_len) >= HEADER).then_some(Header {
            minor,
            ptype,
            flags,
            le,
            frag_len: usize::from(frag_len),
            call_id,
        })
    }
}

/// A little- or big-endian reader over a PDU's body.
struct Body<'a> {
    r: Reader<'a>,
    le: bool,
}

impl<'a> Body<'a> {
    fn u16(&mut self) -> Option<u16> {
        if self.le {
            self.r.u16_le()
        } else {
            self.r.u16()
        }
    }
    fn u32(&mut self) -> Option<u32> {
        if self.le {
            self.r.u32_le()
        } else {
            self.r.u32()
        }
    }
    fn uuid(&mut self) -> Option<[u8; 16]> {
        let b: [u8; 16] = self.r.take(16)?.try_into().ok()?;
        Some(uuid(&b, self.le))
    }
}

/// One side's PDU being read.
#[derive(Debug, Clone, Default)]
struct Side {
    buf: Vec<u8>,
    /// A gap or bytes that are no PDU: this side is not read further.
    lost: bool,
}

/// The DCE/RPC-over-TCP session parser. Messages: [`L7Message::Dcerpc`],
/// one per call.
#[derive(Debug, Clone)]
pub struct DcerpcTcpParser {
    max_tx: usize,
    sides: [Side; 2],
    /// Calls waiting for their answer, oldest first.
    calls: Vec<DcerpcCall>,
    events: Anomalies<MAX_PENDING_EVENTS>,
}

impl Default for DcerpcTcpParser {
    fn default() -> Self {
        DcerpcTcpParser::new(&DcerpcConfig::default())
    }
}

impl DcerpcTcpParser {
    /// A parser with these options.
    pub fn new(cfg: &DcerpcConfig) -> Self {
        DcerpcTcpParser {
            max_tx: cfg.max_tx.max(1),
            sides: Default::default(),
            calls: Vec::new(),
            events: Anomalies::default(),
        }
    }

    fn event(&mut self, name: &'static str) {
        self.events.push("dcerpc", name, None);
    }

    fn feed(&mut self, side: usize, mut bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        while !bytes.is_empty() && !self.sides[side].lost {
            let s = &mut self.sides[side];
            // The header first, then the rest of its fragment.
            if s.buf.len() < HEADER {
                let n = (HEADER - s.buf.len()).min(bytes.len());
                s.buf.extend_from_slice(&bytes[..n]);
                bytes = &bytes[n..];
                if s.buf.len() < HEADER {
                    break;
                }
            }
            let Some(h) = Header::read(&s.buf) else {
                s.lost = true;
                s.buf = Vec::new();
                self.event("malformed_header");
                break;
            };
            let n = (h.frag_len - s.buf.len()).min(bytes.len());
            s.buf.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if s.buf.len() == h.frag_len {
                let mut pdu = std::mem::take(&mut s.buf);
                self.pdu(side, &pdu, &mut out);
                pdu.clear();
                self.sides[side].buf = pdu;
            }
        }
        out
    }

    /// One whole PDU from `side` (0 the client).
    fn pdu(&mut self, side: usize, pdu: &[u8], out: &mut Vec<L7Message>) {
        let Some(h) = Header::read(pdu) else { return };
        match (side, h.ptype) {
            (0, ptype::BIND | ptype::ALTER_CONTEXT) => {
                let Some(items) = pdu_bind_items(pdu, &h) else {
                    self.event("malformed_bind");
                    return;
                };
                let mut call = DcerpcCall::new(5, h.minor, h.call_id);
                call.request.ptype = Some(h.ptype);
                call.request.frags = 1;
                call.interfaces = items;
                self.push(call, out);
            }
            (1, ptype::BINDACK | ptype::ALTER_CONTEXT_RESP | ptype::BINDNAK) => {
                let asked = if h.ptype == ptype::BINDACK || h.ptype == ptype::BINDNAK {
                    ptype::BIND
                } else {
                    ptype::ALTER_CONTEXT
                };
                let results = if h.ptype == ptype::BINDNAK {
                    Some(Vec::new())
                } else {
                    pdu_ack_results(pdu, &h)
                };
                let Some(results) = results else {
                    self.event("malformed_bindack");
                    return;
                };
                let at = self.find(h.call_id, |c| c.request.ptype == Some(asked));
                let mut call = match at {
                    Some(i) => self.calls.remove(i),
                    None => DcerpcCall::new(5, h.minor, h.call_id),
                };
                for (iface, result) in call.interfaces.iter_mut().zip(results) {
                    iface.ack_result = Some(result);
                }
                call.response.ptype = Some(h.ptype);
                call.response.frags = 1;
                out.push(L7Message::Dcerpc(Box::new(call)));
            }
            (0, ptype::REQUEST) => {
                // alloc_hint, context id, opnum, then the object UUID.
                let Some((context_id, opnum)) = pdu_request_fields(pdu, &h) else {
                    self.event("malformed_request");
                    return;
                };
                // Stub data as Suricata counts it: what follows the
                // request's own header (the authentication trailer too).
                let object = if h.flags & OBJECT_UUID != 0 { 16 } else { 0 };
                let stub = pdu.len().saturating_sub(HEADER + 8 + object) as u64;
                let at = self.find(h.call_id, |c| {
                    c.request.ptype == Some(ptype::REQUEST) && c.response.ptype.is_none()
                });
                match at {
                    Some(i) => {
                        let c = &mut self.calls[i];
                        c.request.frags += 1;
                        c.request.stub_bytes += stub;
                    }
                    None => {
                        let mut call = DcerpcCall::new(5, h.minor, h.call_id);
                        call.request.ptype = Some(ptype::REQUEST);
                        call.request.frags = 1;
                        call.request.stub_bytes = stub;
                        call.opnum = opnum;
                        call.context_id = context_id;
                        self.push(call, out);
                    }
                }
            }
            (1, ptype::RESPONSE | ptype::FAULT) => {
                // Stub data as Suricata counts a response's: everything
                // after the common header (the response's own 8-byte
                // header and any authentication trailer included).
                let stub = pdu.len().saturating_sub(HEADER) as u64;
                let at = self.find(h.call_id, |c| c.request.ptype == Some(ptype::REQUEST));
                let i = match at {
                    Some(i) => i,
                    None => {
                        self.push(DcerpcCall::new(5, h.minor, h.call_id), out);
                        self.calls.len() - 1
                    }
                };
                let c = &mut self.calls[i];
                c.response.ptype = Some(h.ptype);
                c.response.frags += 1;
                c.response.stub_bytes += stub;
                if h.flags & LAST_FRAG != 0 || h.ptype == ptype::FAULT {
                    let call = self.calls.remove(i);
                    out.push(L7Message::Dcerpc(Box::new(call)));
                }
            }
            // AUTH3 and the PDUs that belong to no call: nothing to log.
            (_, ptype::AUTH3 | 17..=20) => {}
            _ => self.event("unexpected_pdu"),
        }
    }

    /// The oldest waiting call with this id that `fits`.
    fn find(&self, call_id: u32, fits: impl Fn(&DcerpcCall) -> bool) -> Option<usize> {
        self.calls
            .iter()
            .position(|c| c.call_id == call_id && fits(c))
    }

    /// A new waiting call; past the cap the oldest is written as it stands.
    fn push(&mut self, call: DcerpcCall, out: &mut Vec<L7Message>) {
        if self.calls.len() >= self.max_tx {
            let oldest = self.calls.remove(0);
            out.push(L7Message::Dcerpc(Box::new(oldest)));
            self.event("too_many_transactions");
        }
        self.calls.push(call);
    }

    fn flush(&mut self) -> Vec<L7Message> {
        self.calls
            .drain(..)
            .map(|c| L7Message::Dcerpc(Box::new(c)))
            .collect()
    }
}

/// A BIND's or ALTER_CONTEXT's presentation contexts.
fn bind_items(b: &mut Body<'_>) -> Option<Vec<DcerpcInterface>> {
    // max_xmit_frag, max_recv_frag, assoc_group_id, n_context_elem, pad.
    b.u16()?;
    b.u16()?;
    b.u32()?;
    let n = b.r.u8()?;
    b.r.take(3)?;
    let mut items = Vec::with_capacity(usize::from(n).min(16));
    for _ in 0..n {
        let context_id = b.u16()?;
        let transfers = b.r.u8()?;
        b.r.take(1)?;
        let uuid = b.uuid()?;
        let major = b.u16()?;
        let minor = b.u16()?;
        // Each transfer syntax: a UUID and a version.
        b.r.take(20 * usize::from(transfers))?;
        items.push(DcerpcInterface {
            context_id,
            uuid,
            version: (major, minor),
            ack_result: None,
        });
    }
    Some(items)
}

/// A BIND_ACK's or ALTER_CONTEXT_RESP's results, in the order of the
/// contexts asked for.
fn ack_results(b: &mut Body<'_>) -> Option<Vec<u16>> {
    b.u16()?;
    b.u16()?;
    b.u32()?;
    let sec_addr = usize::from(b.u16()?);
    b.r.take(sec_addr)?;
    // Padded to four bytes from the PDU's start.
    let at = HEADER + b.r.pos();
    b.r.take((4 - at % 4) % 4)?;
    let n = b.r.u8()?;
    b.r.take(3)?;
    let mut results = Vec::with_capacity(usize::from(n).min(16));
    for _ in 0..n {
        results.push(b.u16()?);
        // Reason, transfer syntax and its version.
        b.r.take(2 + 20)?;
    }
    Some(results)
}

/// A BIND's or ALTER_CONTEXT's interfaces, from the whole PDU `pdu` whose
/// header is `h`.
pub(crate) fn pdu_bind_items(pdu: &[u8], h: &Header) -> Option<Vec<DcerpcInterface>> {
    bind_items(&mut Body {
        r: Reader::new(pdu.get(HEADER..)?),
        le: h.le,
    })
}

/// A BIND_ACK's or ALTER_CONTEXT_RESP's results, from the whole PDU.
pub(crate) fn pdu_ack_results(pdu: &[u8], h: &Header) -> Option<Vec<u16>> {
    ack_results(&mut Body {
        r: Reader::new(pdu.get(HEADER..)?),
        le: h.le,
    })
}

/// A REQUEST's context id and operation number, from the whole PDU.
pub(crate) fn pdu_request_fields(pdu: &[u8], h: &Header) -> Option<(u16, u16)> {
    let mut body = Body {
        r: Reader::new(pdu.get(HEADER..)?),
        le: h.le,
    };
    body.u32()?;
    Some((body.u16()?, body.u16()?))
}

impl SessionParser for DcerpcTcpParser {
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

    fn flow_end(&mut self) -> Vec<L7Message> {
        self.flush()
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }
}
