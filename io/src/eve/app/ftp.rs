//! EVE `ftp` records, shaped like Suricata 7's: `tx_id`, then `ftp` with
//! `command` (when known), `command_data` and `command_truncated` (when
//! the command had data), `completion_code` (the reply lines' leading
//! three digits, when any had them), `reply` (each line, past its code and
//! the character after it), `dynamic_port`, `mode` (`PORT`/`EPRT` only),
//! `reply_received` (`yes`/`no`) and `reply_truncated`.

use crate::json::JsonObject;
use flowscope_engine::parsers::ftp::{FtpMode, FtpTransaction};

pub(super) fn write_ftp(o: &mut JsonObject<'_>, t: &FtpTransaction) {
    o.u64("tx_id", t.tx_id);
    o.begin("ftp");
    if let Some(c) = t.command {
        o.str("command", c);
    }
    if let Some(d) = &t.command_data {
        o.bytes("command_data", d);
        o.bool("command_truncated", t.command_truncated);
    }
    let code = |l: &[u8]| l.len() >= 3 && l[..3].iter().all(u8::is_ascii_digit);
    if t.replies.iter().any(|l| code(l)) {
        o.bytes_array(
            "completion_code",
            t.replies.iter().filter(|l| code(l)).map(|l| &l[..3]),
        );
    }
    // A line of only its code has no reply text.
    if t.replies.iter().any(|l| reply_text(l).is_some()) {
        o.bytes_array("reply", t.replies.iter().filter_map(|l| reply_text(l)));
    }
    if let Some(p) = t.dynamic_port {
        o.u64("dynamic_port", u64::from(p));
    }
    match t.mode {
        Some(FtpMode::Active) => {
            o.str("mode", "active");
        }
        Some(FtpMode::Passive) => {
            o.str("mode", "passive");
        }
        None => {}
    }
    o.str(
        "reply_received",
        if t.reply_received { "yes" } else { "no" },
    );
    o.bool("reply_truncated", t.reply_truncated);
    o.end();
}

/// A reply line past its completion code and the character after it; a
/// line of only its code has none.
fn reply_text(l: &[u8]) -> Option<&[u8]> {
    if l.len() >= 3 && l[..3].iter().all(u8::is_ascii_digit) {
        l.get(4..)
    } else {
        Some(l)
    }
}
