//! EVE `tftp` records, shaped like Suricata 7's: one per read or write
//! request, `tftp.packet` (`read`, `write`), `file` and `mode` (lower
//! case).

use crate::json::JsonObject;
use flowscope_engine::parsers::tftp::{OP_RRQ, TftpRequest};

pub(super) fn write_tftp(o: &mut JsonObject<'_>, r: &TftpRequest) {
    o.begin("tftp");
    o.str("packet", if r.opcode == OP_RRQ { "read" } else { "write" });
    o.bytes("file", &r.file);
    o.str("mode", r.mode.name());
    o.end();
}
