//! EVE `rdp` records, shaped like Suricata 7's: `tx_id` and `event_type`
//! in the `rdp` object, then per step of the connection sequence —
//! `initial_request` (`cookie`, the negotiation request's `flags`),
//! `initial_response` (`server_supports`, `protocol`; or a failure's
//! `error_code` and `reason`), `connect_request` (`client`: the Client
//! Core Data with Suricata's names for its numbers; `channels`),
//! `connect_response`, and `tls_handshake` (`x509_serials`).

use crate::json::JsonObject;
use flowscope_engine::parsers::rdp::names;
use flowscope_engine::parsers::rdp::{ClientCore, Negotiation, RdpItem, RdpTransaction};

/// An array of names, written when `any` (possibly empty then, as
/// Suricata writes a flag field with only unnamed bits set).
fn names_array<'a>(
    o: &mut JsonObject<'_>,
    k: &'static str,
    any: bool,
    items: impl IntoIterator<Item = &'a str>,
) {
    if any {
        o.begin_array(k);
        for s in items {
            o.item_bytes(s.as_bytes());
        }
        o.end();
    }
}

fn client(o: &mut JsonObject<'_>, c: &ClientCore) {
    o.begin("client");
    o.str(
        "version",
        names::client_version(c.version).unwrap_or("unknown"),
    );
    o.u64("desktop_width", u64::from(c.desktop_width))
        .u64("desktop_height", u64::from(c.desktop_height));
    if let Some(d) = names::color_depth(c.high_color_depth, c.post_beta2_color_depth, c.color_depth)
    {
        o.u64("color_depth", d);
    }
    o.str(
        "keyboard_layout",
        names::locale(c.keyboard_layout).unwrap_or("unknown"),
    );
    o.str("build", names::windows_build(c.build).unwrap_or("unknown"));
    if !c.client_name.is_empty() {
        o.str("client_name", &c.client_name);
    }
    if let Some(t) = names::keyboard_type(c.keyboard_type) {
        o.str("keyboard_type", t);
    }
    if c.keyboard_subtype != 0 {
        o.u64("keyboard_subtype", u64::from(c.keyboard_subtype));
    }
    if c.function_keys != 0 {
        o.u64("function_keys", u64::from(c.function_keys));
    }
    if !c.ime.is_empty() {
        o.str("ime", &c.ime);
    }
    if let Some(id) = c.product_id {
        o.u64("product_id", u64::from(id));
    }
    if let Some(n) = c.serial_number.filter(|&n| n != 0) {
        o.u64("serial_number", u64::from(n));
    }
    if let Some(caps) = c.capabilities {
        names_array(o, "capabilities", caps != 0, names::capabilities(caps));
    }
    if let Some(id) = c.dig_product_id.as_deref().filter(|id| !id.is_empty()) {
        o.str("id", id);
    }
    if let Some(h) = c.connection_hint.and_then(names::connection_hint) {
        o.str("connection_hint", h);
    }
    let numbers = [
        ("physical_width", c.physical_width),
        ("physical_height", c.physical_height),
        ("desktop_orientation", c.orientation.map(u32::from)),
        ("scale_factor", c.scale_factor),
        ("device_scale_factor", c.device_scale_factor),
    ];
    for (k, v) in numbers {
        if let Some(v) = v {
            o.u64(k, u64::from(v));
        }
    }
    o.end();
}

pub(super) fn write_rdp(o: &mut JsonObject<'_>, t: &RdpTransaction) {
    o.begin("rdp");
    o.u64("tx_id", t.tx_id);
    match &t.item {
        RdpItem::InitialRequest { cookie, flags } => {
            o.str("event_type", "initial_request");
            if let Some(c) = cookie {
                o.str("cookie", c);
            }
            if let Some(f) = *flags {
                names_array(o, "flags", f != 0, names::request_flags(f));
            }
        }
        RdpItem::InitialResponse(neg) => {
            o.str("event_type", "initial_response");
            match *neg {
                Some(Negotiation::Response { flags, protocol }) => {
                    names_array(
                        o,
                        "server_supports",
                        flags != 0,
                        names::server_supports(flags),
                    );
                    if let Some(p) = names::protocol(protocol) {
                        o.str("protocol", p);
                    }
                }
                Some(Negotiation::Failure { code }) => {
                    if let Some(reason) = names::failure_reason(code) {
                        o.u64("error_code", u64::from(code)).str("reason", reason);
                    }
                }
                None => {}
            }
        }
        RdpItem::ConnectRequest(req) => {
            o.str("event_type", "connect_request");
            if let Some(c) = &req.client {
                client(o, c);
            }
            let channels = req.channels.iter().map(|c| &**c);
            names_array(o, "channels", !req.channels.is_empty(), channels);
        }
        RdpItem::ConnectResponse => {
            o.str("event_type", "connect_response");
        }
        RdpItem::TlsHandshake(serials) => {
            o.str("event_type", "tls_handshake");
            names_array(o, "x509_serials", true, serials.iter().map(|s| &**s));
        }
    }
    o.end();
}
