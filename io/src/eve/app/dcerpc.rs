//! EVE `dcerpc` records, shaped like Suricata 7's: `request` and
//! `response` (the PDU types' names; `REQUEST_LOST` and `UNREPLIED` for a
//! side not read), a request's `req` (`opnum`, `frag_cnt`,
//! `stub_data_size`) and a response's `res`, a bind's `interfaces` (`uuid`,
//! `version`, `ack_result`); over TCP `call_id` and `rpc_version` (`5.0`),
//! over UDP `activityuuid`, `seqnum` and `rpc_version` `4.0`.

use super::hex;
use crate::json::JsonObject;
use flowscope_engine::parsers::dcerpc::{DcerpcCall, ptype, ptype_name};

/// A UUID in its canonical text form (SMB's records write theirs so too).
pub(super) fn uuid_text(u: &[u8; 16]) -> String {
    let (a, rest) = u.split_at(4);
    let (b, rest) = rest.split_at(2);
    let (c, rest) = rest.split_at(2);
    let (d, e) = rest.split_at(2);
    format!("{}-{}-{}-{}-{}", hex(a), hex(b), hex(c), hex(d), hex(e))
}

fn type_name(t: u8) -> String {
    ptype_name(t).map_or_else(|| t.to_string(), str::to_owned)
}

pub(super) fn write_dcerpc(o: &mut JsonObject<'_>, c: &DcerpcCall) {
    o.begin("dcerpc");
    match c.request.ptype {
        Some(t) => {
            o.str("request", &type_name(t));
            if t == ptype::REQUEST {
                o.begin("req")
                    .u64("opnum", u64::from(c.opnum))
                    .u64("frag_cnt", u64::from(c.request.frags))
                    .u64("stub_data_size", c.request.stub_bytes)
                    .end();
            }
            if !c.interfaces.is_empty() {
                o.begin_array("interfaces");
                for i in &c.interfaces {
                    o.item_object();
                    o.str("uuid", &uuid_text(&i.uuid));
                    o.str("version", &format!("{}.{}", i.version.0, i.version.1));
                    if let Some(r) = i.ack_result {
                        o.u64("ack_result", u64::from(r));
                    }
                    o.end();
                }
                o.end();
            }
        }
        None => {
            o.str("request", "REQUEST_LOST");
        }
    }
    match c.response.ptype {
        Some(t) => {
            o.str("response", &type_name(t));
            if t == ptype::RESPONSE {
                o.begin("res")
                    .u64("frag_cnt", u64::from(c.response.frags))
                    .u64("stub_data_size", c.response.stub_bytes)
                    .end();
            }
        }
        None => {
            o.str("response", "UNREPLIED");
        }
    }
    match &c.datagram {
        Some(d) => {
            o.str("activityuuid", &uuid_text(&d.activity));
            o.u64("seqnum", u64::from(d.seqnum));
            o.str("rpc_version", "4.0");
        }
        None => {
            o.u64("call_id", u64::from(c.call_id));
            o.str("rpc_version", &format!("5.{}", c.minor_version));
        }
    }
    o.end();
}
