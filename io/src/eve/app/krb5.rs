//! EVE `krb5` records, shaped like Suricata 7's: one per AS/TGS request,
//! reply or KRB-ERROR, `msg_type` (`KRB_ERROR` for an error, with the
//! `failed_request` it answers and its `error_code`), `cname`, `realm` and
//! `sname` (`<empty>` when the message has none), `encryption` (a reply's;
//! `<none>` otherwise) and `weak_encryption`, and a reply's
//! `ticket_encryption` and `ticket_weak_encryption`. Numbers without a
//! name are written as Suricata writes them (`MessageType(0)`,
//! `ErrorCode(99)`, `EncryptionType(99)`).

use crate::json::JsonObject;
use flowscope_engine::parsers::krb5::{
    ERROR, Krb5Message, error_code_name, etype_name, msg_type_name, weak_etype,
};

fn msg_type(t: u32) -> String {
    msg_type_name(t).map_or_else(|| format!("MessageType({t})"), str::to_owned)
}

fn etype(e: i32) -> String {
    etype_name(e).map_or_else(|| format!("EncryptionType({e})"), str::to_owned)
}

pub(super) fn write_krb5(o: &mut JsonObject<'_>, m: &Krb5Message) {
    o.begin("krb5");
    match m.error_code {
        Some(code) if m.msg_type == ERROR => {
            o.str("msg_type", "KRB_ERROR");
            o.str("failed_request", &msg_type(m.failed_request));
            match error_code_name(code) {
                Some(name) => o.str("error_code", name),
                None => o.str("error_code", &format!("ErrorCode({code})")),
            };
        }
        _ => {
            o.str("msg_type", &msg_type(m.msg_type));
        }
    }
    o.str("cname", m.cname.as_deref().unwrap_or("<empty>"));
    o.str("realm", m.realm.as_deref().unwrap_or("<empty>"));
    o.str("sname", m.sname.as_deref().unwrap_or("<empty>"));
    match m.etype {
        Some(e) => o.str("encryption", &etype(e)),
        None => o.str("encryption", "<none>"),
    };
    o.bool("weak_encryption", m.etype.is_some_and(weak_etype));
    if let Some(e) = m.ticket_etype {
        o.str("ticket_encryption", &etype(e));
        o.bool("ticket_weak_encryption", weak_etype(e));
    }
    o.end();
}
