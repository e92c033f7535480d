//! The connectionless protocol over UDP: one PDU per datagram, an 80-byte
//! header; a call is its activity UUID and sequence number, its request
//! and response each in one or more fragments.

use super::{DatagramCall, DcerpcCall, DcerpcConfig, L7Message, ptype, uuid};
use crate::FlowSide;
use crate::parsers::reader::Reader;
use crate::session::DatagramParser;

/// The header's length.
const HEADER: usize = 80;
/// `flags1`: the PDU is the last fragment of several.
const LAST_FRAG: u8 = 0x02;
/// `flags1`: the PDU is a fragment.
const FRAG: u8 = 0x04;

/// The header fields a call needs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Header {
    pub(super) ptype: u8,
    flags1: u8,
    activity: [u8; 16],
    seqnum: u32,
    opnum: u16,
    frag_len: usize,
}

impl Header {
    /// The header of `b`, when it is one (version 4, flags2 and data
    /// representation as Suricata's probe wants them) and its fragment
    /// fits.
    pub(super) fn read(b: &[u8]) -> Option<Header> {
        let mut r = Reader::new(b);
        let version = r.u8()?;
        let ptype = r.u8()?;
        let flags1 = r.u8()?;
        let flags2 = r.u8()?;
        let drep = r.take(3)?;
        if version != 4 || flags2 & 0xfc != 0 || drep[0] & 0xee != 0 || drep[1] > 3 {
            return None;
        }
        let le = drep[0] & 0x10 != 0;
        // serial_hi, object and interface UUIDs.
        r.take(1 + 32)?;
        let activity: [u8; 16] = r.take(16)?.try_into().ok()?;
        // server_boot, interface version.
        r.take(8)?;
        let (seqnum, opnum) = if le {
            (r.u32_le()?, r.u16_le()?)
        } else {
            (r.u32()?, r.u16()?)
        };
        // interface and activity hints.
        r.take(4)?;
        let frag_len = usize::from(if le { r.u16_le()? } else { r.u16()? });
        (b.len() >= HEADER + frag_len).then_some(Header {
            ptype,
            flags1,
            activity: uuid(&activity, le),
            seqnum,
            opnum,
            frag_len,
        })
    }
}

/// A call not complete yet, and which of its sides are.
#[derive(Debug, Clone)]
struct Open {
    call: DcerpcCall,
    request_done: bool,
    response_done: bool,
}

/// The DCE/RPC-over-UDP datagram parser. Messages: [`L7Message::Dcerpc`],
/// one per call.
#[derive(Debug, Clone)]
pub struct DcerpcUdpParser {
    max_tx: usize,
    /// Calls not complete yet, oldest first.
    open: Vec<Open>,
    /// A datagram that is no request or response was read: Suricata 7
    /// reads nothing more of the flow, and neither does this parser.
    stopped: bool,
}

impl Default for DcerpcUdpParser {
    fn default() -> Self {
        DcerpcUdpParser::new(&DcerpcConfig::default())
    }
}

impl DcerpcUdpParser {
    /// A parser with these options.
    pub fn new(cfg: &DcerpcConfig) -> Self {
        DcerpcUdpParser {
            max_tx: cfg.max_tx.max(1),
            open: Vec::new(),
            stopped: false,
        }
    }
}

impl DatagramParser for DcerpcUdpParser {
    type Message = L7Message;

    fn parse(&mut self, payload: &[u8], _side: FlowSide) -> Vec<L7Message> {
        let mut out = Vec::new();
        if self.stopped {
            return out;
        }
        let h = match Header::read(payload) {
            Some(h) if h.ptype == ptype::REQUEST || h.ptype == ptype::RESPONSE => h,
            _ => {
                self.stopped = true;
                return out;
            }
        };
        let id = DatagramCall {
            activity: h.activity,
            seqnum: h.seqnum,
        };
        let request = h.ptype == ptype::REQUEST;
        // The oldest call of this id whose side this is is still open.
        let found = self.open.iter().position(|o| {
            o.call.datagram == Some(id)
                && if request {
                    !o.request_done
                } else {
                    !o.response_done
                }
        });
        let i = match found {
            Some(i) => i,
            None => {
                if self.open.len() >= self.max_tx {
                    let oldest = self.open.remove(0);
                    out.push(L7Message::Dcerpc(Box::new(oldest.call)));
                }
                let mut call = DcerpcCall::new(4, 0, 0);
                call.datagram = Some(id);
                self.open.push(Open {
                    call,
                    request_done: false,
                    response_done: false,
                });
                self.open.len() - 1
            }
        };
        let o = &mut self.open[i];
        let last = h.flags1 & FRAG == 0 || h.flags1 & LAST_FRAG != 0;
        let part = if request {
            o.call.opnum = h.opnum;
            o.request_done |= last;
            &mut o.call.request
        } else {
            o.response_done |= last;
            &mut o.call.response
        };
        part.ptype = Some(h.ptype);
        part.frags += 1;
        part.stub_bytes += h.frag_len as u64;
        if o.request_done && o.response_done {
            let o = self.open.remove(i);
            out.push(L7Message::Dcerpc(Box::new(o.call)));
        }
        out
    }

    fn flow_end(&mut self) -> Vec<L7Message> {
        // Calls never completed are dropped, as Suricata 7 writes none
        // (a flow's requests and responses often travel on two port
        // pairs, as PROFINET's do: neither flow completes a call).
        self.open.clear();
        Vec::new()
    }
}
