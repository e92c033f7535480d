//! EVE `ssh` records, shaped like Suricata 7's: `tx_id` 0 and `ssh.client`
//! / `ssh.server`, each with `proto_version`, `software_version` (when not
//! empty) and `hassh` (`hash`, `string`) when its KEXINIT was read; a side
//! whose identification line was not read is left out.

use crate::json::JsonObject;
use flowscope_engine::parsers::fingerprint::hex;
use flowscope_engine::parsers::ssh::{SshConnection, SshEndpoint};

pub(super) fn write_ssh(o: &mut JsonObject<'_>, c: &SshConnection) {
    o.u64("tx_id", 0);
    o.begin("ssh");
    write_endpoint(o, "client", &c.client);
    write_endpoint(o, "server", &c.server);
    o.end();
}

fn write_endpoint(o: &mut JsonObject<'_>, k: &'static str, e: &SshEndpoint) {
    let Some(proto) = &e.proto_version else {
        return;
    };
    o.begin(k);
    o.bytes("proto_version", proto);
    if !e.software_version.is_empty() {
        o.bytes("software_version", &e.software_version);
    }
    if let Some(h) = &e.hassh {
        o.begin("hassh");
        o.str("hash", &hex(&h.md5)).bytes("string", &h.string);
        o.end();
    }
    o.end();
}
