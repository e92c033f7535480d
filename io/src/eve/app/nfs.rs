//! EVE `nfs` records, shaped like Suricata 7's: the `rpc` object (`xid`,
//! `status`, `auth_type`, AUTH_UNIX `creds` with `machine_name`, `uid`,
//! `gid`) then the `nfs` object (`version`, `procedure`, `filename`,
//! `hhash` — the file handle's CRC-32 in lowercase hex, as Suricata
//! computes it — `id`, `file_tx`, `type` (always `response`, as
//! Suricata's logger writes), `status`, and below version 4 a READ's
//! `read`, a WRITE's `write` (`first`, `last`, `last_xid`, `chunks`) or a
//! RENAME's `rename` (`from`, `to`)). Names are written as Suricata
//! writes them (invalid UTF-8 replaced).

use crate::json::JsonObject;
use flowscope_engine::parsers::nfs::{NfsRecord, auth_name, proc3, procedure_name, status_name};

/// CRC-32 (IEEE 802.3, reflected, as zlib's), bit by bit: handles are at
/// most 128 bytes.
fn crc32(b: &[u8]) -> u32 {
    let mut c = !0u32;
    for &x in b {
        c ^= u32::from(x);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xedb8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn named(name: Option<&'static str>, v: u32) -> String {
    name.map_or_else(|| v.to_string(), str::to_owned)
}

pub(super) fn write_nfs(o: &mut JsonObject<'_>, r: &NfsRecord) {
    o.begin("rpc")
        .u64("xid", u64::from(r.xid))
        .str(
            "status",
            &match r.rpc_status {
                0 => "ACCEPTED".to_owned(),
                1 => "DENIED".to_owned(),
                n => n.to_string(),
            },
        )
        .str("auth_type", &named(auth_name(r.auth_type), r.auth_type));
    if r.auth_type == 1 {
        let (machine, uid, gid) = r.creds.clone().unwrap_or_default();
        o.begin("creds")
            .str("machine_name", &String::from_utf8_lossy(&machine))
            .u64("uid", u64::from(uid))
            .u64("gid", u64::from(gid))
            .end();
    }
    o.end();
    o.begin("nfs")
        .u64("version", u64::from(r.version))
        .str(
            "procedure",
            &named(procedure_name(r.version, r.procedure), r.procedure),
        )
        .str("filename", &String::from_utf8_lossy(&r.file_name));
    if !r.file_handle.is_empty() {
        o.str("hhash", &format!("{:x}", crc32(&r.file_handle)));
    }
    o.u64("id", r.id)
        .bool("file_tx", r.file_tx)
        .str("type", "response")
        .str("status", &named(status_name(r.status), r.status));
    if r.version <= 3 {
        let file = |o: &mut JsonObject<'_>, key: &'static str| {
            o.begin(key).bool("first", r.first).bool("last", r.last);
            if let Some(f) = &r.file {
                o.u64("last_xid", u64::from(f.last_xid))
                    .u64("chunks", u64::from(f.chunks));
            }
            o.end();
        };
        match r.procedure {
            proc3::READ => file(o, "read"),
            proc3::WRITE => file(o, "write"),
            proc3::RENAME => {
                o.begin("rename")
                    .str("from", &String::from_utf8_lossy(&r.file_name))
                    .str(
                        "to",
                        &String::from_utf8_lossy(r.rename_to.as_deref().unwrap_or_default()),
                    )
                    .end();
            }
            _ => {}
        }
    }
    o.end();
}

#[cfg(test)]
mod tests {
    use super::crc32;

    #[test]
    fn crc32_is_zlibs() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }
}
