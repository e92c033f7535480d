//! EVE `ike` records, shaped like Suricata 7's: one per message, its
//! header (`version_major`, `version_minor`, `init_spi` and `resp_spi` in
//! hex, `message_id`, `exchange_type`), the `payload` type names and, for
//! IKEv2, the `role` (from the initiator flag), the responder's chosen
//! algorithms on the responder's messages (`alg_enc`... `alg_esn`) and
//! `ikev2` (`errors`, `notify`); for IKEv1, the responder's first chosen
//! transform's attributes (`alg_enc`, `alg_hash`... with their `_raw`
//! numbers), a responder's `server_proposals` when it lists several, and
//! `ikev1` (`doi`, `encrypted_payloads`, each side's key exchange and
//! nonce in hex with their lengths, the initiator's `proposals`, the
//! `vendor_ids` in hex).

use super::hex;
use crate::json::JsonObject;
use flowscope_engine::parsers::ike::{
    IkeDetail, IkeMessage, IkeV1, IkeV2, SaAttribute, V1Side, Value, attribute_key,
    attribute_raw_key, attribute_value_name, auth_name, dh_name, enc_name, esn_name, notify_name,
    prf_name, v1_payload_name, v2_payload_name,
};

pub(super) fn write_ike(o: &mut JsonObject<'_>, m: &IkeMessage) {
    o.begin("ike");
    o.u64("version_major", u64::from(m.version_major));
    o.u64("version_minor", u64::from(m.version_minor));
    o.str("init_spi", &format!("{:016x}", m.init_spi));
    o.str("resp_spi", &format!("{:016x}", m.resp_spi));
    o.u64("message_id", u64::from(m.message_id));
    o.u64("exchange_type", u64::from(m.exchange_type));
    match &m.detail {
        IkeDetail::V1(v) => {
            attributes(o, &v.chosen);
            if !v.from_initiator && v.transforms.len() > 1 {
                proposals(o, "server_proposals", &v.transforms);
            }
            o.begin_array("payload");
            for name in m.payloads.iter().filter_map(|&t| v1_payload_name(t)) {
                o.item_bytes(name.as_bytes());
            }
            o.end();
            write_v1(o, v);
        }
        IkeDetail::V2(v) => {
            if v.initiator {
                o.str("role", "initiator");
            } else {
                o.str("role", "responder");
                let a = &v.algs;
                o.str(
                    "alg_enc",
                    &named(enc_name(a.enc), "IkeTransformEncType", a.enc),
                );
                o.str(
                    "alg_auth",
                    &named(auth_name(a.auth), "IkeTransformAuthType", a.auth),
                );
                o.str(
                    "alg_prf",
                    &named(prf_name(a.prf), "IkeTransformPRFType", a.prf),
                );
                o.str("alg_dh", &named(dh_name(a.dh), "IkeTransformDHType", a.dh));
                o.str(
                    "alg_esn",
                    &named(esn_name(a.esn), "IkeTransformESNType", a.esn),
                );
            }
            o.begin_array("payload");
            for &t in &m.payloads {
                match v2_payload_name(t) {
                    Some(name) => o.item_bytes(name.as_bytes()),
                    None => o.item_bytes(format!("IkePayloadType({t})").as_bytes()),
                };
            }
            o.end();
            write_v2(o, v);
        }
    }
    o.end();
}

/// A transform ID's name, or Suricata's spelling of an unnamed one.
fn named(name: Option<&str>, ty: &str, n: u16) -> String {
    match name {
        Some(s) => s.to_owned(),
        None => format!("{ty}({n} / 0x{n:x})"),
    }
}

/// Attribute types whose `_raw` key Suricata's EVE schema types as an
/// integer (encryption, hash, authentication, group, life type, life
/// duration, key length).
fn raw_is_integer(kind: u16) -> bool {
    matches!(kind, 1..=4 | 11 | 12 | 14)
}

fn attributes(o: &mut JsonObject<'_>, attrs: &[SaAttribute]) {
    for a in attrs {
        o.str(attribute_key(a.kind), attribute_value_name(a.kind, a.value));
        if let Some(n) = a.number {
            o.u64(attribute_raw_key(a.kind), u64::from(n));
        } else if let Some(v) = &a.raw {
            // Suricata writes the hex here too, against its own schema:
            // flowscope keeps the schema's integer and leaves it out.
            if !raw_is_integer(a.kind) {
                o.str(attribute_raw_key(a.kind), &hex(&v.bytes));
            }
        }
    }
}

fn proposals(o: &mut JsonObject<'_>, k: &'static str, t: &[Vec<SaAttribute>]) {
    o.begin_array(k);
    for attrs in t {
        o.item_object();
        attributes(o, attrs);
        o.end();
    }
    o.end();
}

fn value(o: &mut JsonObject<'_>, k: &'static str, k_len: &'static str, v: &Value) {
    if !v.is_empty() {
        o.str(k, &hex(&v.bytes));
        o.u64(k_len, u64::from(v.len));
    }
}

fn side(o: &mut JsonObject<'_>, s: &V1Side) {
    value(
        o,
        "key_exchange_payload",
        "key_exchange_payload_length",
        &s.key_exchange,
    );
    value(o, "nonce_payload", "nonce_payload_length", &s.nonce);
}

fn write_v1(o: &mut JsonObject<'_>, v: &IkeV1) {
    o.begin("ikev1");
    if let Some(doi) = v.doi {
        o.u64("doi", u64::from(doi));
    }
    o.bool("encrypted_payloads", v.encrypted);
    if !v.encrypted {
        o.begin("client");
        side(o, &v.client);
        if v.from_initiator && !v.transforms.is_empty() {
            proposals(o, "proposals", &v.transforms);
        }
        o.end();
        o.begin("server");
        side(o, &v.server);
        o.end();
        if !v.vendor_ids.is_empty() {
            o.begin_array("vendor_ids");
            for id in &v.vendor_ids {
                o.item_bytes(hex(&id.bytes).as_bytes());
            }
            o.end();
        }
    }
    o.end();
}

fn write_v2(o: &mut JsonObject<'_>, v: &IkeV2) {
    o.begin("ikev2");
    o.u64("errors", u64::from(v.errors));
    if !v.notify.is_empty() {
        o.begin_array("notify");
        for &t in &v.notify {
            match notify_name(t) {
                Some(name) => o.item_bytes(name.as_bytes()),
                // As Suricata's parser prints a type it has no name for.
                None => o.item_bytes(format!("NotifyType({t} / 0x{t:x})").as_bytes()),
            };
        }
        o.end();
    }
    o.end();
}
