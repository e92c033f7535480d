//! DCE/RPC over SMB named pipes, as Suricata 7 pairs it: a PDU written to
//! a pipe (SMB2 WRITE, an SMB2 IOCTL's FSCTL_PIPE_TRANSCEIVE input, an
//! SMB1 TRANS's TransactNmPipe data) opens a call, the PDU read back
//! (READ, the IOCTL's output, the TRANS response's data) answers it,
//! matched by session, tree and call id (and message id for the
//! transceives). PDUs are decoded
//! by `parsers::dcerpc`; stub sizes are counted as Suricata's SMB code
//! counts them (the fragment's length less 24 bytes), never kept. A
//! response read in pieces (`STATUS_BUFFER_OVERFLOW`) is held until whole,
//! up to one PDU's length ([`MAX_PDU`]).

use super::status::{BUFFER_OVERFLOW, SUCCESS};
use super::{Fid, Key, SmbDetail, SmbParser, SmbStatus, recall};
use crate::parsers::dcerpc::{
    DcerpcInterface, FIRST_FRAG, LAST_FRAG, PduHeader, pdu_ack_results, pdu_bind_items,
    pdu_request_fields, ptype,
};

/// The name Suricata gives a pipe it found by its data.
pub(super) const UNKNOWN: &str = "suricata::dcerpc";
/// The longest PDU held while read in pieces (the fragment length's range).
pub const MAX_PDU: usize = 65_535;
/// The pipes Suricata takes for DCE/RPC services.
const SERVICES: [&str; 8] = [
    "svcctl", "srvsvc", "atsvc", "lsarpc", "samr", "spoolss", "winreg", UNKNOWN,
];

/// One DCE/RPC call over a pipe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipeCall {
    /// The request's PDU type (`None`: not seen).
    pub request: Option<u8>,
    /// The response's PDU type (`None`: not answered).
    pub response: Option<u8>,
    /// A REQUEST's operation number and context id.
    pub opnum: u16,
    /// See `opnum`.
    pub context_id: u16,
    /// The call id.
    pub call_id: u32,
    /// Fragments and stub bytes written.
    pub req_frags: u32,
    /// See `req_frags`.
    pub req_stub: u64,
    /// Fragments and stub bytes read.
    pub res_frags: u32,
    /// See `res_frags`.
    pub res_stub: u64,
    /// The interfaces Suricata writes with it: a BIND's all (with their
    /// results), a REQUEST's those of its context; filled when written.
    pub interfaces: Vec<DcerpcInterface>,
}

/// The SMB message a PDU came in.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ctx {
    pub(super) version: u8,
    pub(super) command: u16,
    /// A write and a read in one exchange (an SMB2 IOCTL's
    /// FSCTL_PIPE_TRANSCEIVE, an SMB1 TRANS's TransactNmPipe).
    pub(super) transceive: bool,
    pub(super) session_id: u64,
    pub(super) tree_id: u32,
    pub(super) msg_id: u64,
}

impl Ctx {
    /// A transceive's call is its message's (an IOCTL's final async
    /// answer names no tree); a READ answers a WRITE on the same tree.
    fn key(&self, call_id: u32) -> Key {
        if self.transceive {
            Key::Pipe(self.session_id, 0, call_id, Some(self.msg_id))
        } else {
            Key::Pipe(self.session_id, self.tree_id, call_id, None)
        }
    }
}

/// Whether file `fuid`'s name is a DCE/RPC service's pipe.
pub(super) fn is_dcerpc_service(p: &SmbParser, fuid: &Fid) -> bool {
    recall(&p.state.names, fuid).is_some_and(|n| {
        let n = n.strip_prefix('\\').filter(|s| !s.is_empty()).unwrap_or(n);
        SERVICES.contains(&n)
    })
}

/// Whether `data` opens with a DCE/RPC header (Suricata's probe).
pub(super) fn probe(data: &[u8]) -> bool {
    PduHeader::read(data).is_some_and(|h| h.ptype <= 20)
}

/// Stub bytes as Suricata's SMB code counts them.
fn stub(h: &PduHeader) -> u64 {
    h.frag_len.saturating_sub(24) as u64
}

/// A PDU written to a pipe.
pub(super) fn write(p: &mut SmbParser, ctx: Ctx, data: &[u8]) {
    let Some(h) = PduHeader::read(data) else {
        p.event("malformed_data");
        return;
    };
    let key = ctx.key(h.call_id);
    if h.ptype == ptype::REQUEST && h.flags & FIRST_FRAG == 0 {
        // A later fragment of a call's request.
        if let Some(i) = p.find(&key) {
            let w = &mut p.waiting[i];
            if let SmbDetail::Dcerpc(c) = &mut w.tx.detail {
                c.req_frags += 1;
                c.req_stub += stub(&h);
            }
            w.request_done |= h.flags & LAST_FRAG != 0;
        }
        return;
    }
    let mut call = PipeCall {
        request: Some(h.ptype),
        call_id: h.call_id,
        ..PipeCall::default()
    };
    let mut done = true;
    match h.ptype {
        ptype::REQUEST => match pdu_request_fields(data, &h) {
            Some((context_id, opnum)) => {
                call.context_id = context_id;
                call.opnum = opnum;
                call.req_frags = 1;
                call.req_stub = stub(&h);
                done = h.flags & LAST_FRAG != 0;
            }
            None => p.event("malformed_data"),
        },
        ptype::BIND => match pdu_bind_items(data, &h) {
            Some(items) => p.state.ifaces = items,
            None => p.event("malformed_data"),
        },
        21.. => p.event("malformed_data"),
        _ => {}
    }
    let i = p.open(
        ctx.version,
        Some(ctx.command),
        key,
        SmbDetail::Dcerpc(Box::new(call)),
    );
    let w = &mut p.waiting[i];
    w.tx.session_id = ctx.session_id;
    w.tx.tree_id = ctx.tree_id;
    w.request_done = done;
}

/// A PDU read from a pipe, with its message's status.
pub(super) fn read(p: &mut SmbParser, ctx: Ctx, data: &[u8], status: u32) {
    if status != SUCCESS && status != BUFFER_OVERFLOW {
        return;
    }
    let mut held = std::mem::take(&mut p.state.pipe_frag);
    let pdu: &[u8] = if held.is_empty() {
        data
    } else {
        let room = MAX_PDU.saturating_sub(held.len());
        held.extend_from_slice(&data[..data.len().min(room)]);
        &held
    };
    let Some(h) = PduHeader::read(pdu) else {
        p.event("malformed_data");
        return;
    };
    if status == BUFFER_OVERFLOW && pdu.len() < h.frag_len {
        let mut keep = if held.is_empty() { data.to_vec() } else { held };
        keep.truncate(MAX_PDU);
        p.state.pipe_frag = keep;
        return;
    }
    let key = ctx.key(h.call_id);
    if h.ptype == ptype::BINDACK {
        let Some(results) = pdu_ack_results(pdu, &h) else {
            p.event("malformed_data");
            return;
        };
        if let Some(i) = p.find(&key) {
            answered(p, i, &h, status);
            for (iface, r) in p.state.ifaces.iter_mut().zip(results) {
                iface.ack_result = Some(r);
            }
        }
        return;
    }
    let i = match p.find(&key) {
        Some(i) => i,
        None => {
            // The request was not seen: a call of its response alone.
            let call = PipeCall {
                call_id: h.call_id,
                ..PipeCall::default()
            };
            let i = p.open(
                ctx.version,
                Some(ctx.command),
                key,
                SmbDetail::Dcerpc(Box::new(call)),
            );
            p.waiting[i].tx.session_id = ctx.session_id;
            p.waiting[i].tx.tree_id = ctx.tree_id;
            p.waiting[i].request_done = true;
            i
        }
    };
    if h.ptype > 20 {
        p.event("malformed_data");
    }
    answered(p, i, &h, status);
}

/// Transaction `i` answered by the PDU with header `h`.
fn answered(p: &mut SmbParser, i: usize, h: &PduHeader, status: u32) {
    let w = &mut p.waiting[i];
    w.tx.status = Some(SmbStatus::Nt(status));
    w.response_done = h.ptype != ptype::RESPONSE || h.flags & LAST_FRAG != 0;
    if let SmbDetail::Dcerpc(c) = &mut w.tx.detail {
        c.response = Some(h.ptype);
        if h.ptype == ptype::RESPONSE {
            c.res_frags += 1;
            c.res_stub += stub(h);
        }
    }
}

/// Fills in the interfaces Suricata writes with `c` from the flow's last
/// bind.
pub(super) fn resolve(c: &mut PipeCall, ifaces: &[DcerpcInterface]) {
    match c.request {
        Some(ptype::REQUEST) => {
            c.interfaces = ifaces
                .iter()
                .filter(|i| i.context_id == c.context_id)
                .map(|i| DcerpcInterface {
                    ack_result: None,
                    ..i.clone()
                })
                .collect();
        }
        Some(ptype::BIND) => c.interfaces = ifaces.to_vec(),
        _ => {}
    }
}
