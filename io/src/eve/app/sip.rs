//! EVE `sip` records, shaped like Suricata 7's: one per request or
//! response, from the message's sender, with `sip.method`, `uri`,
//! `version` and `request_line` for a request, `version`, `code`,
//! `reason` and `response_line` for a response (the line left out when
//! empty).

use crate::json::JsonObject;
use flowscope_engine::parsers::sip::{SipKind, SipMessage};

pub(super) fn write_sip(o: &mut JsonObject<'_>, m: &SipMessage) {
    o.begin("sip");
    let line = match &m.kind {
        SipKind::Request {
            method,
            uri,
            version,
        } => {
            o.bytes("method", method)
                .bytes("uri", uri)
                .bytes("version", version);
            "request_line"
        }
        SipKind::Response {
            version,
            code,
            reason,
        } => {
            o.bytes("version", version)
                .bytes("code", code)
                .bytes("reason", reason);
            "response_line"
        }
    };
    if !m.line.is_empty() {
        o.bytes(line, &m.line);
    }
    o.end();
}
