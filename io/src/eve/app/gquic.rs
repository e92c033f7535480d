//! EVE `quic` records of Google QUIC packets, shaped like Suricata 7's:
//! `version` (`Q046`, or hex as `51303530` for Q050), and from a client
//! hello `sni`, `ua` and `cyu` (`hash`, `string` per handshake message).

use crate::json::JsonObject;
use flowscope_engine::parsers::quic::{gquic::GquicPacket, version_name};

pub(super) fn write_gquic(o: &mut JsonObject<'_>, p: &GquicPacket) {
    o.begin("quic");
    o.str("version", &version_name(p.version));
    if let Some(sni) = &p.sni {
        o.bytes("sni", sni);
    }
    if let Some(ua) = &p.ua {
        o.bytes("ua", ua);
    }
    if !p.cyu.is_empty() {
        o.begin_array("cyu");
        for c in &p.cyu {
            o.item_object();
            o.str("hash", &c.hash).str("string", &c.string);
            o.end();
        }
        o.end();
    }
    o.end();
}
