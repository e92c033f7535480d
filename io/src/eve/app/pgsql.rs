//! EVE `pgsql` records, shaped like Suricata 7's: `tx_id`, the `request`
//! (`protocol_version` and `startup_parameters` {`user`,
//! `optional_parameters`: [{name: value}]}, `message` for an SSLRequest
//! (`SSL Request`), CancelRequest (`cancel_request`, with `process_id`
//! and `secret_key`) and Terminate (`termination_message`),
//! `simple_query`, `sasl_authentication_mechanism` and `sasl_param`,
//! `sasl_response`, `password` when kept; an empty object for a message
//! Suricata does not write) and the `response` (its messages in order:
//! `ssl_accepted`, an error's fields by name, `authentication_md5_password`
//! (the salt), `authentication_sasl_final`, `message` for the other
//! authentication requests, runs of ParameterStatus as one
//! `parameter_status` array, `process_id` and `secret_key`, `field_count`,
//! `data_rows` and `data_size`, `command_completed`). Parameter names are
//! Suricata's (`DateStyle` is `date_style`...). Bytes that are not UTF-8
//! are written as Suricata writes them (`\xNN` for each byte from 0x80).
//! Extension: a GSSENCRequest (`message`: `gssenc_request`) and its answer
//! (`gssenc_accepted`), which Suricata 7 does not read.

use super::text;
use crate::json::{JsonObject, Key};
use flowscope_engine::parsers::pgsql::{PgsqlRequest, PgsqlResponse, PgsqlTransaction};
use std::borrow::Cow;

/// Suricata's names of the parameters it knows (the others as sent).
fn param_name(n: &[u8]) -> Cow<'_, str> {
    Cow::Borrowed(match n {
        b"DateStyle" => "date_style",
        b"IntervalStyle" => "interval_style",
        b"TimeZone" => "time_zone",
        _ => {
            return match std::str::from_utf8(n) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => Cow::Borrowed("unknown_parameter"),
            };
        }
    })
}

/// ErrorResponse field names by type byte.
fn field_name(t: u8) -> &'static str {
    match t {
        b'S' => "severity_localizable",
        b'V' => "severity_non_localizable",
        b'C' => "code",
        b'M' => "message",
        b'D' => "detail",
        b'H' => "hint",
        b'P' => "position",
        b'p' => "internal_position",
        b'q' => "internal_query",
        b'W' => "where",
        b's' => "schema_name",
        b't' => "table_name",
        b'c' => "column_name",
        b'd' => "data_type",
        b'n' => "constraint_name",
        b'F' => "file",
        b'L' => "line",
        b'R' => "routine",
        _ => "unknown_field_type",
    }
}

fn param(o: &mut JsonObject<'_>, name: &[u8], value: &[u8]) {
    o.item_object();
    o.str(Key::escaped(&param_name(name)), &text(value));
    o.end();
}

fn request(o: &mut JsonObject<'_>, r: &PgsqlRequest) {
    o.begin("request");
    match r {
        PgsqlRequest::Startup {
            major,
            minor,
            user,
            params,
        } => {
            o.str("protocol_version", &format!("{major}.{minor}"));
            o.begin("startup_parameters");
            o.str("user", &text(user));
            if !params.is_empty() {
                o.begin_array("optional_parameters");
                for (n, v) in params {
                    param(o, n, v);
                }
                o.end();
            }
            o.end();
        }
        PgsqlRequest::SslRequest => {
            o.str("message", "SSL Request");
        }
        PgsqlRequest::GssEncRequest => {
            o.str("message", "gssenc_request");
        }
        PgsqlRequest::SaslInitial { plus, param } => {
            let mech = if *plus {
                "scram_SHA256_plus"
            } else {
                "scram_SHA256"
            };
            o.str("sasl_authentication_mechanism", mech);
            o.str("sasl_param", &text(param));
        }
        PgsqlRequest::Password(p) => {
            if !p.is_empty() {
                o.str("password", &text(p));
            }
        }
        PgsqlRequest::SaslResponse(p) => {
            o.str("sasl_response", &text(p));
        }
        PgsqlRequest::Query(q) => {
            o.str("simple_query", &text(q));
        }
        PgsqlRequest::Cancel { pid, key } => {
            o.str("message", "cancel_request");
            o.u64("process_id", u64::from(*pid));
            o.u64("secret_key", u64::from(*key));
        }
        PgsqlRequest::Terminate => {
            o.str("message", "termination_message");
        }
        PgsqlRequest::Unknown => {}
    }
    o.end();
}

fn response(o: &mut JsonObject<'_>, t: &PgsqlTransaction, gss: bool) {
    o.begin("response");
    let mut in_array = false;
    for r in &t.responses {
        if let PgsqlResponse::ParameterStatus(n, v) = r {
            if !in_array {
                o.begin_array("parameter_status");
                in_array = true;
            }
            param(o, n, v);
            continue;
        }
        if in_array {
            o.end();
            in_array = false;
        }
        let accepted = if gss {
            "gssenc_accepted"
        } else {
            "ssl_accepted"
        };
        match r {
            PgsqlResponse::EncryptionAccepted => {
                o.bool(accepted, true);
            }
            PgsqlResponse::EncryptionRejected => {
                o.bool(accepted, false);
            }
            PgsqlResponse::Error(fields) => {
                for (ty, v) in fields {
                    o.str(field_name(*ty), &text(v));
                }
            }
            PgsqlResponse::AuthMd5(salt) => {
                o.str("authentication_md5_password", &text(salt));
            }
            PgsqlResponse::AuthSaslFinal(v) => {
                o.str("authentication_sasl_final", &text(v));
            }
            PgsqlResponse::CommandComplete(v) => {
                o.str("command_completed", &text(v));
            }
            PgsqlResponse::AuthOk => {
                o.str("message", "authentication_ok");
            }
            PgsqlResponse::AuthCleartext => {
                o.str("message", "authentication_cleartext_password");
            }
            PgsqlResponse::AuthSasl => {
                o.str("message", "authentication_sasl");
            }
            PgsqlResponse::AuthSaslContinue => {
                o.str("message", "authentication_sasl_continue");
            }
            PgsqlResponse::BackendKey { pid, key } => {
                o.u64("process_id", u64::from(*pid));
                o.u64("secret_key", u64::from(*key));
            }
            PgsqlResponse::RowDescription(n) => {
                o.u64("field_count", u64::from(*n));
            }
            PgsqlResponse::DataRows { rows, size } => {
                o.u64("data_rows", *rows);
                o.u64("data_size", *size);
            }
            _ => {}
        }
    }
    if in_array {
        o.end();
    }
    o.end();
}

pub(super) fn write_pgsql(o: &mut JsonObject<'_>, t: &PgsqlTransaction) {
    o.begin("pgsql");
    o.u64("tx_id", t.tx_id);
    if let Some(r) = &t.request {
        request(o, r);
    }
    if !t.responses.is_empty() {
        let gss = matches!(t.request, Some(PgsqlRequest::GssEncRequest));
        response(o, t, gss);
    }
    o.end();
}
