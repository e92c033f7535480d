//! EVE `smtp` records, shaped like Suricata 7's: `tx_id`, `smtp` (`helo`,
//! `mail_from`, `rcpt_to` when known) and, once the transaction sent DATA,
//! `email` (`status`, `from`, `to`, `cc`, `attachment` when not empty).

use crate::json::JsonObject;
use flowscope_engine::parsers::smtp::{Email, SmtpTransaction};

pub(super) fn write_smtp(o: &mut JsonObject<'_>, t: &SmtpTransaction) {
    o.u64("tx_id", t.tx_id);
    o.begin("smtp");
    if let Some(h) = &t.helo {
        o.bytes("helo", h);
    }
    if let Some(m) = &t.mail_from {
        o.bytes("mail_from", m);
    }
    list(o, "rcpt_to", &t.rcpt_to);
    o.end();
    if let Some(e) = &t.email {
        write_email(o, e);
    }
}

fn write_email(o: &mut JsonObject<'_>, e: &Email) {
    o.begin("email");
    o.str("status", e.status.name());
    if let Some(f) = &e.from {
        o.bytes("from", f);
    }
    list(o, "to", &e.to);
    list(o, "cc", &e.cc);
    list(o, "attachment", &e.attachment);
    o.end();
}

fn list(o: &mut JsonObject<'_>, k: &'static str, items: &[Box<[u8]>]) {
    if items.is_empty() {
        return;
    }
    o.begin_array(k);
    for v in items {
        o.item_bytes(v);
    }
    o.end();
}
