//! EVE `snmp` records, shaped like Suricata 7's: one per message, its
//! `version` (the flow's), `pdu_type` (`encrypted` and nothing more for an
//! encrypted v3 PDU), a non-zero `error` status, a v1 trap's `trap_type`,
//! `trap_oid` and `trap_address`, the variables' OIDs (`vars`, left out
//! when there are none), the v1/v2c `community` and the v3 `usm` user
//! name.

use crate::json::JsonObject;
use flowscope_engine::parsers::snmp::{
    SnmpMessage, error_status_name, pdu_type_name, trap_type_name,
};
use std::net::Ipv4Addr;

pub(super) fn write_snmp(o: &mut JsonObject<'_>, m: &SnmpMessage) {
    o.begin("snmp");
    o.u64("version", u64::from(m.version));
    let Some(p) = &m.pdu else {
        o.str("pdu_type", "encrypted");
        o.end();
        return;
    };
    o.str("pdu_type", pdu_type_name(p.pdu_type));
    if p.error_status != 0 {
        match error_status_name(p.error_status) {
            Some(name) => o.str("error", name),
            None => o.str("error", &format!("ErrorStatus({})", p.error_status)),
        };
    }
    if let Some(t) = &p.trap {
        match trap_type_name(t.generic) {
            Some(name) => o.str("trap_type", name),
            None => o.str("trap_type", &format!("TrapType({})", t.generic)),
        };
        o.str("trap_oid", &t.enterprise);
        o.str("trap_address", &Ipv4Addr::from(t.agent).to_string());
    }
    if !p.vars.is_empty() {
        o.bytes_array("vars", p.vars.iter().map(str::as_bytes));
    }
    if let Some(c) = &m.community {
        o.bytes("community", c);
    }
    if let Some(u) = &m.usm {
        o.bytes("usm", u);
    }
    o.end();
}
