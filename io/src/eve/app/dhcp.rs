//! EVE `dhcp` records, shaped like Suricata 7's extended DHCP log
//! (`outputs.eve-log.types.dhcp.extended: yes`): one per message, the
//! sender as `src_ip`; `dhcp.type`, `id`, `client_mac`, `assigned_ip`,
//! `client_ip` (`relay_ip`, `next_server_ip` in replies), then one field
//! per option in the order the message carries them (an option sent twice
//! is written once, its first).

use crate::json::JsonObject;
use flowscope_engine::parsers::dhcp::{
    DhcpMessage, OP_REPLY, OP_REQUEST, message_type_name, opt, param_name,
};
use std::net::Ipv4Addr;

pub(super) fn write_dhcp(o: &mut JsonObject<'_>, m: &DhcpMessage) {
    o.begin("dhcp");
    o.str(
        "type",
        match m.op {
            OP_REQUEST => "request",
            OP_REPLY => "reply",
            _ => "<unknown>",
        },
    );
    o.u64("id", u64::from(m.xid));
    o.str("client_mac", &hex_colons(&m.chaddr));
    o.ip("assigned_ip", Ipv4Addr::from(m.yiaddr).into());
    o.ip("client_ip", Ipv4Addr::from(m.ciaddr).into());
    if m.op == OP_REPLY {
        o.ip("relay_ip", Ipv4Addr::from(m.giaddr).into());
        o.ip("next_server_ip", Ipv4Addr::from(m.siaddr).into());
    }
    for (i, option) in m.options.iter().enumerate() {
        // An option code seen earlier is skipped (JSON keys are unique);
        // the parser keeps 64 options by default, so this stays short.
        if m.options[..i].iter().any(|p| p.code == option.code) {
            continue;
        }
        write_option(o, option.code, &option.data);
    }
    o.end();
}

fn write_option(o: &mut JsonObject<'_>, code: u8, d: &[u8]) {
    let ip4 = |d: &[u8]| -> Option<Ipv4Addr> { <[u8; 4]>::try_from(d).ok().map(Ipv4Addr::from) };
    let secs = |d: &[u8]| -> Option<u64> {
        <[u8; 4]>::try_from(d)
            .ok()
            .map(|b| u64::from(u32::from_be_bytes(b)))
    };
    match code {
        opt::CLIENT_ID if d.len() >= 2 => {
            o.str("client_id", &hex_colons(&d[1..]));
        }
        opt::LEASE_TIME => {
            if let Some(v) = secs(d) {
                o.u64("lease_time", v);
            }
        }
        opt::REBINDING_TIME => {
            if let Some(v) = secs(d) {
                o.u64("rebinding_time", v);
            }
        }
        opt::RENEWAL_TIME => {
            if let Some(v) = secs(d) {
                o.u64("renewal_time", v);
            }
        }
        opt::SUBNET_MASK => {
            if let Some(a) = ip4(d) {
                o.ip("subnet_mask", a.into());
            }
        }
        opt::REQUESTED_IP => {
            if let Some(a) = ip4(d) {
                o.ip("requested_ip", a.into());
            }
        }
        opt::HOSTNAME if !d.is_empty() => {
            o.bytes("hostname", d);
        }
        opt::VENDOR_CLASS if !d.is_empty() => {
            o.bytes("vendor_class_identifier", d);
        }
        opt::MESSAGE_TYPE if !d.is_empty() => {
            o.str("dhcp_type", message_type_name(d[0]));
        }
        opt::PARAMS => {
            o.begin_array("params");
            for name in d.iter().filter_map(|&c| param_name(c)) {
                o.item_bytes(name.as_bytes());
            }
            o.end();
        }
        opt::ROUTERS | opt::DNS_SERVERS => {
            let k = if code == opt::ROUTERS {
                "routers"
            } else {
                "dns_servers"
            };
            o.begin_array(k);
            for a in d.chunks_exact(4).filter_map(ip4) {
                o.item_bytes(a.to_string().as_bytes());
            }
            o.end();
        }
        _ => {}
    }
}

/// Bytes as lower-case hex pairs joined by `:` (Suricata's MAC and client
/// id form).
fn hex_colons(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{x:02x}"));
    }
    s
}
