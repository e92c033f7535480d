//! EVE records of HTTP/2 transactions, shaped like Suricata 7's: an
//! `event_type: "http"` record per stream (and per connection-level frame
//! that carries settings or a GOAWAY error code) with `tx_id` and an
//! `http` object: `version` "2", `request_headers` / `response_headers`
//! (always, as Suricata writes them for HTTP/2), the usual fields taken
//! from them (`http_method`, `url`, `hostname` from a `host` header,
//! `http_user_agent`, `status`, `length` from `content-length`, the last
//! one seen winning) and `http2` (`stream_id`, `request` / `response` with
//! `settings`, `error_code`, `priority`, `has_multiple`). Extensions:
//! `request_body_len` / `response_body_len`, the DATA bytes each side sent
//! on the stream (when any).

use crate::json::JsonObject;
use flowscope_engine::parsers::http2::{
    HeaderField, Http2Side, Http2Stream, error_name, setting_name,
};

/// The headers Suricata lifts into `http` fields, in the order of
/// [`COMMON_KEYS`].
const COMMON_NAMES: [&[u8]; 6] = [
    b":method",
    b":path",
    b"host",
    b"user-agent",
    b":status",
    b"content-length",
];
const COMMON_KEYS: [&str; 6] = [
    "http_method",
    "url",
    "hostname",
    "http_user_agent",
    "status",
    "length",
];

pub(super) fn write_http2(o: &mut JsonObject<'_>, t: &Http2Stream) {
    o.u64("tx_id", t.tx_id);
    o.begin("http");
    o.str("version", "2");
    let mut common: [Option<&[u8]>; 6] = [None; 6];
    if t.request.header_frames > 0 {
        write_fields(o, "request_headers", &t.request.headers, &mut common);
    }
    if t.response.header_frames > 0 {
        write_fields(o, "response_headers", &t.response.headers, &mut common);
    }
    for (i, v) in common.iter().enumerate() {
        let Some(v) = v else { continue };
        match COMMON_KEYS[i] {
            // Numbers, or left out.
            k @ ("status" | "length") => {
                if let Some(n) = std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                {
                    o.u64(k, n);
                }
            }
            k => {
                o.bytes(k, v);
            }
        }
    }
    if t.request.data_bytes > 0 {
        o.u64("request_body_len", t.request.data_bytes);
    }
    if t.response.data_bytes > 0 {
        o.u64("response_body_len", t.response.data_bytes);
    }
    o.begin("http2");
    o.u64("stream_id", u64::from(t.stream_id));
    write_side(o, "request", &t.request);
    write_side(o, "response", &t.response);
    o.end();
    o.end();
}

fn write_fields<'a>(
    o: &mut JsonObject<'_>,
    k: &'static str,
    fields: &'a [HeaderField],
    common: &mut [Option<&'a [u8]>; 6],
) {
    o.begin_array(k);
    for f in fields {
        o.item_object();
        match f {
            HeaderField::Field { name, value } => {
                o.bytes("name", name).bytes("value", value);
                if let Some(i) = COMMON_NAMES
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case(name))
                {
                    common[i] = Some(value);
                }
            }
            HeaderField::SizeUpdate(n) => {
                o.u64("table_size_update", *n);
            }
            HeaderField::Error(e) => {
                o.str("error", e);
            }
        }
        o.end();
    }
    o.end();
}

fn write_side(o: &mut JsonObject<'_>, k: &'static str, s: &Http2Side) {
    o.begin(k);
    if !s.settings.is_empty() {
        o.begin_array("settings");
        for set in &s.settings {
            o.item_object();
            if let Some(name) = setting_name(set.id) {
                o.str("settings_id", name);
            }
            o.u64("settings_value", u64::from(set.value));
            o.end();
        }
        o.end();
    }
    if let Some(e) = s.error_code {
        match error_name(e.code) {
            // Suricata writes a GOAWAY's name upper case.
            Some(name) if e.goaway => o.str("error_code", &name.to_ascii_uppercase()),
            Some(name) => o.str("error_code", name),
            None => o.str("error_code", &e.code.to_string()),
        };
    }
    if let Some(w) = s.priority {
        o.u64("priority", u64::from(w));
    }
    if let Some(m) = s.has_multiple {
        o.str("has_multiple", m);
    }
    o.end();
}
