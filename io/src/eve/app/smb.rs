//! EVE `smb` records, shaped like Suricata 7's: `id`, `dialect`,
//! `command`, `status` and `status_code`, `session_id`, `tree_id`, and per
//! transaction the negotiation's `client_dialects`, GUIDs and sizes, a
//! session setup's `ntlmssp`, `kerberos`, `request` and `response` hosts, a
//! tree's `share` or `named_pipe` (`share_type`, SMB1's `service`), a
//! create's `filename` or `directory`, `disposition`, `access`, times,
//! `size` and `fuid`, a file's `filename`, `share` and `fuid`, a `rename`
//! (`set_info`), a delete, an IOCTL's `function`, a pipe's `dcerpc` call.

use super::dcerpc::uuid_text;
use crate::json::JsonObject;
use flowscope_engine::parsers::dcerpc::{ptype, ptype_name};
use flowscope_engine::parsers::smb::{
    Create, Negotiate, PipeCall, SessionSetup, SmbDetail, SmbStatus, SmbTx, TreeConnect,
    command_name, nt_status_name,
};

/// A GUID as Suricata writes it: its bytes in the order 3 2 1 0 - 5 4 -
/// 7 6 - 9 8 - 11 10 15 14 13 12.
fn guid_text(g: &[u8]) -> String {
    let Ok(g) = <&[u8; 16]>::try_from(g) else {
        return String::new();
    };
    const ORDER: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 9, 8, 11, 10, 15, 14, 13, 12];
    uuid_text(&ORDER.map(|i| g[i]))
}

/// A file id as Suricata writes it: an SMB2 GUID, an SMB1 FID.
fn fuid_text(f: &[u8]) -> String {
    match f {
        [a, b] | [a, b, _, _, _, _] => format!("{b:02x}{a:02x}"),
        _ => guid_text(f),
    }
}

pub(super) fn write_smb(o: &mut JsonObject<'_>, t: &SmbTx) {
    o.begin("smb");
    o.u64("id", t.id);
    o.str("dialect", &t.dialect);
    if let Some(c) = t.command {
        match command_name(t.version, c) {
            Some(n) => o.str("command", n),
            None => o.str("command", &c.to_string()),
        };
    }
    match t.status {
        Some(SmbStatus::Nt(s)) => {
            match nt_status_name(s) {
                Some(n) => o.str("status", n),
                None => o.str("status", &s.to_string()),
            };
            o.str("status_code", &format!("0x{s:x}"));
        }
        Some(SmbStatus::Dos(class, code)) => {
            o.str("status", &format!("UNKNOWN_{class:02x}_{code:04x}"));
            o.str("status_code", &format!("0x{code:04x}"));
        }
        None => {}
    }
    o.u64("session_id", t.session_id);
    o.u64("tree_id", u64::from(t.tree_id));
    match &t.detail {
        SmbDetail::Generic => {}
        SmbDetail::Negotiate(n) => negotiate(o, n),
        SmbDetail::SessionSetup(s) => session_setup(o, s),
        SmbDetail::TreeConnect(c) => tree_connect(o, t.version, c),
        SmbDetail::Create(c) => create(o, c),
        SmbDetail::File(f) => {
            o.str("filename", &f.filename);
            o.str("share", &f.share);
            o.str("fuid", &fuid_text(&f.fuid));
        }
        SmbDetail::Rename(r) => {
            let (from, to, fuid) = &**r;
            if t.version == 2 {
                o.begin("set_info")
                    .str("class", "FILE_INFO")
                    .str("info_level", "SMB2_FILE_RENAME_INFO")
                    .end();
            }
            o.begin("rename").str("from", from).str("to", to).end();
            o.str("fuid", &fuid_text(fuid));
        }
        SmbDetail::Delete(d) => {
            o.str(
                "filename",
                if d.filename.is_empty() {
                    "<share_root>"
                } else {
                    &d.filename
                },
            );
            o.str(
                "access",
                if d.delete {
                    "delete on close"
                } else {
                    "normal"
                },
            );
            if let Some(sub) = d.trans2 {
                let sub = if sub == 8 {
                    "SET_FILE_INFO"
                } else {
                    "SET_PATH_INFO"
                };
                o.str("subcmd", sub)
                    .str("level_of_interest", "Set Disposition Information");
            }
            o.str("fuid", &fuid_text(&d.fuid));
        }
        SmbDetail::Dcerpc(c) => dcerpc(o, c),
        SmbDetail::Ioctl(f) => {
            o.str("function", &fsctl_name(*f));
        }
    }
    o.end();
}

fn negotiate(o: &mut JsonObject<'_>, n: &Negotiate) {
    o.begin_array("client_dialects");
    for d in &n.dialects {
        o.item_bytes(d.as_bytes());
    }
    o.end();
    if let Some(g) = &n.client_guid {
        o.str("client_guid", &guid_text(g));
    }
    o.str("server_guid", &guid_text(&n.server_guid));
    if n.max_read_size > 0 {
        o.u64("max_read_size", u64::from(n.max_read_size));
    }
    if n.max_write_size > 0 {
        o.u64("max_write_size", u64::from(n.max_write_size));
    }
}

fn session_setup(o: &mut JsonObject<'_>, s: &SessionSetup) {
    if let Some(n) = &s.ntlmssp {
        o.begin("ntlmssp");
        o.str("domain", &n.domain)
            .str("user", &n.user)
            .str("host", &n.host);
        if let Some((major, minor, build, rev)) = n.version {
            o.str(
                "version",
                &format!("{major}.{minor} build {build} rev {rev}"),
            );
        }
        if n.warning {
            o.bool("warning", true);
        }
        o.end();
    }
    if let Some(k) = &s.kerberos {
        o.begin("kerberos").str("realm", &k.realm);
        o.begin_array("snames");
        for n in &k.snames {
            o.item_bytes(n.as_bytes());
        }
        o.end().end();
    }
    for (key, host) in [("request", &s.request_host), ("response", &s.response_host)] {
        if let Some((os, lm)) = host {
            o.begin(key).str("native_os", os).str("native_lm", lm).end();
        }
    }
}

fn tree_connect(o: &mut JsonObject<'_>, version: u8, c: &TreeConnect) {
    o.str(if c.is_pipe { "named_pipe" } else { "share" }, &c.share);
    if version == 1 {
        o.begin("service");
        if let Some(s) = &c.req_service {
            o.str("request", s);
        }
        if let Some(s) = &c.res_service {
            o.str("response", s);
        }
        o.end();
    } else {
        let t = match c.share_type {
            1 => "FILE",
            2 => "PIPE",
            3 => "PRINT",
            _ => "UNKNOWN",
        };
        o.str("share_type", t);
    }
}

fn create(o: &mut JsonObject<'_>, c: &Create) {
    if c.filename.is_empty() {
        o.str("filename", "<share_root>");
    } else {
        o.str(
            if c.directory { "directory" } else { "filename" },
            &c.filename,
        );
    }
    const DISPOSITIONS: [&str; 6] = [
        "FILE_SUPERSEDE",
        "FILE_OPEN",
        "FILE_CREATE",
        "FILE_OPEN_IF",
        "FILE_OVERWRITE",
        "FILE_OVERWRITE_IF",
    ];
    let d = usize::try_from(c.disposition).ok();
    o.str(
        "disposition",
        d.and_then(|d| DISPOSITIONS.get(d))
            .copied()
            .unwrap_or("UNKNOWN"),
    );
    o.str(
        "access",
        if c.delete_on_close {
            "delete on close"
        } else {
            "normal"
        },
    );
    o.u64("created", c.created)
        .u64("accessed", c.accessed)
        .u64("modified", c.modified)
        .u64("changed", c.changed)
        .u64("size", c.size);
    o.str("fuid", &fuid_text(&c.fuid));
}

fn type_name(t: u8) -> String {
    ptype_name(t).map_or_else(|| t.to_string(), str::to_owned)
}

fn dcerpc(o: &mut JsonObject<'_>, c: &PipeCall) {
    o.begin("dcerpc");
    o.str(
        "request",
        &c.request.map_or_else(|| "REQUEST_LOST".into(), type_name),
    );
    o.str(
        "response",
        &c.response.map_or_else(|| "UNREPLIED".into(), type_name),
    );
    match c.request {
        Some(ptype::REQUEST) => {
            o.u64("opnum", u64::from(c.opnum));
            o.begin("req")
                .u64("frag_cnt", u64::from(c.req_frags))
                .u64("stub_data_size", c.req_stub)
                .end();
        }
        Some(ptype::BIND) => {}
        _ => {}
    }
    if !c.interfaces.is_empty() {
        o.begin_array("interfaces");
        for i in &c.interfaces {
            o.item_object();
            o.str("uuid", &uuid_text(&i.uuid));
            o.str("version", &format!("{}.{}", i.version.0, i.version.1));
            if let Some(r) = i.ack_result {
                o.u64("ack_result", u64::from(r)).u64("ack_reason", 0);
            }
            o.end();
        }
        o.end();
    }
    if c.response == Some(ptype::RESPONSE) {
        o.begin("res")
            .u64("frag_cnt", u64::from(c.res_frags))
            .u64("stub_data_size", c.res_stub)
            .end();
    }
    o.u64("call_id", u64::from(c.call_id));
    o.end();
}

/// An FSCTL code's name as Suricata writes it (else the number).
fn fsctl_name(f: u32) -> String {
    let n = match f {
        0x0006_0194 => "FSCTL_DFS_GET_REFERRALS",
        0x0006_01b0 => "FSCTL_DFS_GET_REFERRALS_EX",
        0x0009_0018 => "FSCTL_LOCK_VOLUME",
        0x0009_001c => "FSCTL_UNLOCK_VOLUME",
        0x0009_0028 => "FSCTL_IS_VOLUME_MOUNTED",
        0x0009_003c => "FSCTL_GET_COMPRESSION",
        0x0009_0060 => "FSCTL_FILESYSTEM_GET_STATISTICS",
        0x0009_0064 => "FSCTL_GET_NTFS_VOLUME_DATA",
        0x0009_0078 => "FSCTL_IS_VOLUME_DIRTY",
        0x0009_009c => "FSCTL_GET_OBJECT_ID",
        0x0009_00a4 => "FSCTL_SET_REPARSE_POINT",
        0x0009_00a8 => "FSCTL_GET_REPARSE_POINT",
        0x0009_00c0 => "FSCTL_CREATE_OR_GET_OBJECT_ID",
        0x0009_00c4 => "FSCTL_SET_SPARSE",
        0x0009_027c => "FSCTL_GET_INTEGRITY_INFORMATION",
        0x0009_0284 => "FSCTL_QUERY_FILE_REGIONS",
        0x0009_0300 => "FSCTL_QUERY_SHARED_VIRTUAL_DISK_SUPPORT",
        0x0009_4264 => "FSCTL_OFFLOAD_READ",
        0x0009_40cf => "FSCTL_QUERY_ALLOCATED_RANGES",
        0x0009_8098 => "FSCTL_SET_OBJECT_ID",
        0x0009_80a0 => "FSCTL_DELETE_OBJECT_ID",
        0x0009_80a4 => "FSCTL_SET_REPARSE_POINT",
        0x0009_80ac => "FSCTL_DELETE_REPARSE_POINT",
        0x0009_80c8 => "FSCTL_SET_ZERO_DATA",
        0x0009_8208 => "FSCTL_FILE_LEVEL_TRIM",
        0x0009_8268 => "FSCTL_OFFLOAD_WRITE",
        0x0009_c040 => "FSCTL_SET_COMPRESSION",
        0x0009_c280 => "FSCTL_SET_INTEGRITY_INFORMATION",
        0x0011_0018 => "FSCTL_PIPE_WAIT",
        0x0011_400c => "FSCTL_PIPE_PEEK",
        0x0011_c017 => "FSCTL_PIPE_TRANSCEIVE",
        0x0014_0078 => "FSCTL_SRV_REQUEST_RESUME_KEY",
        0x0014_01d4 => "FSCTL_LMR_REQUEST_RESILIENCY",
        0x0014_01fc => "FSCTL_QUERY_NETWORK_INTERFACE_INFO",
        0x0014_0200 => "FSCTL_VALIDATE_NEGOTIATE_INFO_224",
        0x0014_0204 => "FSCTL_VALIDATE_NEGOTIATE_INFO",
        0x0014_4064 => "FSCTL_SRV_ENUMERATE_SNAPSHOTS",
        0x0014_40f2 => "FSCTL_SRV_COPYCHUNK",
        0x0014_41bb => "FSCTL_SRV_READ_HASH",
        0x0014_80f2 => "FSCTL_SRV_COPYCHUNK_WRITE",
        _ => return f.to_string(),
    };
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowscope_engine::parsers::smb::FileTx;

    fn render(t: &SmbTx) -> String {
        let mut out = Vec::new();
        let mut o = JsonObject::new(&mut out);
        write_smb(&mut o, t);
        o.finish_line();
        String::from_utf8(out).unwrap()
    }

    fn tx(status: Option<SmbStatus>, detail: SmbDetail) -> SmbTx {
        SmbTx {
            id: 3,
            dialect: "3.11".into(),
            version: 2,
            command: Some(8),
            status,
            session_id: 5,
            tree_id: 6,
            detail,
        }
    }

    #[test]
    fn file_ids_and_statuses_as_suricata_writes_them() {
        let f = FileTx {
            filename: "a.txt".into(),
            share: "\\\\srv\\data".into(),
            fuid: (1..=16).collect(),
        };
        let t = tx(
            Some(SmbStatus::Nt(0xc000_0034)),
            SmbDetail::File(Box::new(f)),
        );
        assert_eq!(
            render(&t),
            concat!(
                r#"{"smb":{"id":3,"dialect":"3.11","command":"SMB2_COMMAND_READ","#,
                r#""status":"STATUS_OBJECT_NAME_NOT_FOUND","status_code":"0xc0000034","#,
                r#""session_id":5,"tree_id":6,"filename":"a.txt","share":"\\\\srv\\data","#,
                r#""fuid":"04030201-0605-0807-0a09-0c0b100f0e0d"}}"#,
                "\n"
            )
        );
        // A code without a name: its number; SMB1's FID in hex.
        let mut t = tx(Some(SmbStatus::Nt(0x1234)), SmbDetail::Ioctl(0x0014_0204));
        t.command = Some(99);
        let s = render(&t);
        assert!(
            s.contains(r#""command":"99","status":"4660","status_code":"0x1234""#),
            "{s}"
        );
        assert!(
            s.contains(r#""function":"FSCTL_VALIDATE_NEGOTIATE_INFO""#),
            "{s}"
        );
        assert_eq!(fuid_text(&[0x8b, 0xfe]), "fe8b");
        assert_eq!(fuid_text(&[]), "");
    }
}
