//! EVE `mqtt` records, shaped like Suricata 7's: one object per control
//! packet of the transaction, keyed by its type (`connect`, `connack`,
//! `publish`, `puback` ... `auth`), each with the fixed header's `qos`,
//! `retain` and `dup` and the packet's fields (`protocol_string`,
//! `protocol_version`, `client_id`, `flags{...}`, `username`, `will`,
//! `session_present`, `return_code`, `topic`, `message_id`, `message`,
//! `topics[]`, `qos_granted[]`, `reason_code(s)`, v5 `properties{}`).
//! Strings Suricata reads as UTF-8 (topics, client id, user name,
//! properties) are written with invalid sequences replaced, binary ones
//! (messages, password, correlation and authentication data) escaped.
//! Extensions: `message_truncated` where `max_message_bytes` cut a
//! message.

use crate::json::{JsonObject, Key};
use flowscope_engine::parsers::mqtt::{
    MqttBody, MqttConnect, MqttMessage, MqttTransaction, PropValue, Properties, property_name,
};
use std::borrow::Cow;

fn text(v: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(v)
}

fn properties(o: &mut JsonObject<'_>, props: &Properties) {
    let Some(props) = props else { return };
    o.begin("properties");
    for p in props.iter() {
        match (&p.value, property_name(p.id)) {
            (PropValue::Int(v), Some(name)) => {
                o.u64(name, u64::from(*v));
            }
            (PropValue::Str(v), Some(name)) => {
                o.str(name, &text(v));
            }
            (PropValue::Bin(v), Some(name)) => {
                o.bytes(name, v);
            }
            (PropValue::Pair(k, v), _) => {
                o.str(Key::escaped(&text(k)), &text(v));
            }
            _ => {}
        }
    }
    o.end();
}

fn connect(o: &mut JsonObject<'_>, c: &MqttConnect) {
    o.str("protocol_string", &text(&c.protocol_string))
        .u64("protocol_version", u64::from(c.protocol_version))
        .str("client_id", &text(&c.client_id));
    let will = c.flags & 0x04 != 0;
    o.begin("flags");
    o.bool("username", c.flags & 0x80 != 0)
        .bool("password", c.flags & 0x40 != 0)
        .bool("will_retain", c.flags & 0x20 != 0)
        .bool("will", will)
        .bool("clean_session", c.flags & 0x02 != 0);
    o.end();
    if let Some(u) = &c.username {
        o.str("username", &text(u));
    }
    if let Some(p) = &c.password {
        o.bytes("password", p);
    }
    if will {
        o.begin("will");
        if let Some(t) = &c.will_topic {
            o.str("topic", &text(t));
        }
        if let Some(m) = &c.will_message {
            o.bytes("message", m);
        }
        if c.will_message_truncated {
            o.bool("message_truncated", true);
        }
        properties(o, &c.will_properties);
        o.end();
    }
    properties(o, &c.properties);
}

fn message(o: &mut JsonObject<'_>, m: &MqttMessage) {
    o.begin(m.type_name());
    o.u64("qos", u64::from(m.qos))
        .bool("retain", m.retain)
        .bool("dup", m.dup);
    match &m.body {
        MqttBody::Connect(c) => connect(o, c),
        MqttBody::Connack {
            session_present,
            return_code,
            properties: p,
        } => {
            o.bool("session_present", *session_present)
                .u64("return_code", u64::from(*return_code));
            properties(o, p);
        }
        MqttBody::Publish(p) => {
            o.str("topic", &text(&p.topic));
            if let Some(id) = p.message_id {
                o.u64("message_id", u64::from(id));
            }
            o.bytes("message", &p.message);
            if p.message_truncated {
                o.bool("message_truncated", true);
            }
            properties(o, &p.properties);
        }
        MqttBody::Ack {
            message_id,
            reason_code,
            properties: p,
        } => {
            o.u64("message_id", u64::from(*message_id));
            if let Some(r) = reason_code {
                o.u64("reason_code", u64::from(*r));
            }
            properties(o, p);
        }
        MqttBody::Subscribe {
            message_id,
            topics,
            properties: p,
        } => {
            o.u64("message_id", u64::from(*message_id));
            o.begin_array("topics");
            for (t, qos) in topics.iter() {
                o.item_object();
                o.str("topic", &text(t)).u64("qos", u64::from(*qos));
                o.end();
            }
            o.end();
            properties(o, p);
        }
        MqttBody::Suback {
            message_id,
            qos_granted,
        } => {
            o.u64("message_id", u64::from(*message_id));
            o.begin_array("qos_granted");
            for q in qos_granted.iter() {
                o.item_u64(u64::from(*q));
            }
            o.end();
        }
        MqttBody::Unsubscribe { message_id, topics } => {
            o.u64("message_id", u64::from(*message_id));
            o.begin_array("topics");
            for t in topics.iter() {
                o.item_bytes(text(t).as_bytes());
            }
            o.end();
        }
        MqttBody::Unsuback {
            message_id,
            reason_codes,
        } => {
            o.u64("message_id", u64::from(*message_id));
            if !reason_codes.is_empty() {
                o.begin_array("reason_codes");
                for r in reason_codes.iter() {
                    o.item_u64(u64::from(*r));
                }
                o.end();
            }
        }
        MqttBody::Disconnect {
            reason_code,
            properties: p,
        } => {
            if let Some(r) = reason_code {
                o.u64("reason_code", u64::from(*r));
            }
            properties(o, p);
        }
        MqttBody::Auth {
            reason_code,
            properties: p,
        } => {
            o.u64("reason_code", u64::from(*reason_code));
            properties(o, p);
        }
        MqttBody::Truncated { skipped_length } => {
            o.bool("truncated", true)
                .u64("skipped_length", *skipped_length);
        }
        MqttBody::Ping | MqttBody::Unassigned => {}
    }
    o.end();
}

pub(super) fn write_mqtt(o: &mut JsonObject<'_>, t: &MqttTransaction) {
    o.begin("mqtt");
    for m in &t.messages {
        // Suricata writes nothing for a packet of the reserved type 0.
        if m.kind != 0 {
            message(o, m);
        }
    }
    o.end();
}
