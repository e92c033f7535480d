//! EVE `rfb` records, shaped like Suricata 7's: the two
//! `*_protocol_version`s (`major`, `minor`), `authentication`
//! (`security_type`, `vnc.challenge` / `vnc.response` in hex for VNC
//! authentication, `security_result`), `screen_shared` and `framebuffer`
//! (`width`, `height`, `name`, `pixel_format`), each when read.

use crate::json::JsonObject;
use flowscope_engine::parsers::fingerprint::hex;
use flowscope_engine::parsers::rfb::{RfbHandshake, RfbVersion};

fn version(o: &mut JsonObject<'_>, k: &'static str, v: &Option<RfbVersion>) {
    if let Some(v) = v {
        o.begin(k);
        o.bytes("major", &v.major).bytes("minor", &v.minor);
        o.end();
    }
}

pub(super) fn write_rfb(o: &mut JsonObject<'_>, h: &RfbHandshake) {
    o.begin("rfb");
    version(o, "server_protocol_version", &h.server_version);
    version(o, "client_protocol_version", &h.client_version);
    o.begin("authentication");
    if let Some(t) = h.security_type {
        o.u64("security_type", u64::from(t));
    }
    if h.security_type == Some(2) {
        o.begin("vnc");
        if let Some(c) = &h.vnc_challenge {
            o.str("challenge", &hex(c));
        }
        if let Some(r) = &h.vnc_response {
            o.str("response", &hex(r));
        }
        o.end();
    }
    if let Some(r) = h.security_result {
        // Suricata writes FAIL under `security-result`, a key its own
        // schema lacks; flowscope keeps the schema's.
        let text = match r {
            0 => "OK".to_owned(),
            1 => "FAIL".to_owned(),
            2 => "TOOMANY".to_owned(),
            n => format!("UNKNOWN ({n})"),
        };
        o.str("security_result", &text);
    }
    o.end();
    if let Some(shared) = h.shared {
        o.bool("screen_shared", shared);
    }
    if let Some(fb) = &h.framebuffer {
        let pf = &fb.pixel_format;
        o.begin("framebuffer");
        o.u64("width", u64::from(fb.width))
            .u64("height", u64::from(fb.height))
            .bytes("name", &fb.name);
        o.begin("pixel_format");
        o.u64("bits_per_pixel", u64::from(pf.bits_per_pixel))
            .u64("depth", u64::from(pf.depth))
            .bool("big_endian", pf.big_endian)
            .bool("true_color", pf.true_color)
            .u64("red_max", u64::from(pf.red_max))
            .u64("green_max", u64::from(pf.green_max))
            .u64("blue_max", u64::from(pf.blue_max))
            .u64("red_shift", u64::from(pf.red_shift))
            .u64("green_shift", u64::from(pf.green_shift))
            .u64("blue_shift", u64::from(pf.blue_shift));
        o.end();
        o.end();
    }
    o.end();
}
