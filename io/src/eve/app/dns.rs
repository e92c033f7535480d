//! The `dns` record: a query or a response, its answers, authorities and
//! EDNS, as Suricata 7's extended DNS log writes them.

use crate::json::{JsonObject, Key};
use flowscope_engine::parsers::dns::{
    DnsKind, DnsMessage, DnsName, DnsRecord, RData, rcode_name, rrtype_name,
};
use flowscope_engine::parsers::fingerprint::hex_into;

/// Writes a name, and `flag: true` after it when it was cut (Suricata's
/// `rrname_truncated`, `rdata_truncated`...). The root is the empty
/// string, as Suricata 7 writes it.
fn write_name(o: &mut JsonObject<'_>, k: &'static str, n: &DnsName, flag: &'static str) {
    o.bytes(k, n);
    if n.truncated {
        o.bool(flag, true);
    }
}

/// A type's mnemonic, else its number, as Suricata writes them.
fn rrtype_str(t: u16) -> std::borrow::Cow<'static, str> {
    match rrtype_name(t) {
        Some(n) => n.into(),
        None => t.to_string().into(),
    }
}

/// Writes the text form of `d` into `buf` (cleared first); false for types
/// that have none (SOA, SRV, OPT are objects of their own).
fn rdata_text(d: &RData, buf: &mut Vec<u8>) -> bool {
    use std::io::Write;
    buf.clear();
    // Writing to a Vec cannot fail.
    let _ = match d {
        RData::A(a) => {
            crate::json::write_ip(buf, (*a).into());
            Ok(())
        }
        RData::Aaaa(a) => {
            crate::json::write_ip(buf, (*a).into());
            Ok(())
        }
        RData::Name(n) => buf.write_all(n),
        RData::Mx { exchange, .. } => buf.write_all(exchange),
        RData::Txt(strings) => {
            for t in strings {
                buf.extend_from_slice(t);
            }
            Ok(())
        }
        RData::Caa { value, .. } => buf.write_all(value),
        RData::Svcb { target, .. } => buf.write_all(target),
        RData::Raw(b) => {
            hex_into(buf, b);
            Ok(())
        }
        _ => return false,
    };
    true
}

fn write_edns(o: &mut JsonObject<'_>, k: &'static str, e: &flowscope_engine::parsers::dns::Edns) {
    o.begin(k);
    o.u64("udp_size", u64::from(e.udp_size))
        .u64("version", u64::from(e.version))
        .bool("do", e.dnssec_ok);
    if let Some(cs) = &e.client_subnet {
        o.begin("client_subnet");
        o.ip("address", cs.address)
            .u64("source_prefix", u64::from(cs.source_prefix))
            .u64("scope_prefix", u64::from(cs.scope_prefix));
        o.end();
    }
    o.end();
}

fn write_record(o: &mut JsonObject<'_>, r: &DnsRecord, buf: &mut Vec<u8>) {
    o.item_object();
    write_name(o, "rrname", &r.name, "rrname_truncated");
    o.str("rrtype", &rrtype_str(r.rrtype));
    o.u64("ttl", u64::from(r.ttl));
    match &r.data {
        RData::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        } => {
            o.begin("soa");
            write_name(o, "mname", mname, "mname_truncated");
            write_name(o, "rname", rname, "rname_truncated");
            o.u64("serial", u64::from(*serial))
                .u64("refresh", u64::from(*refresh))
                .u64("retry", u64::from(*retry))
                .u64("expire", u64::from(*expire))
                .u64("minimum", u64::from(*minimum));
            o.end();
        }
        RData::Srv {
            priority,
            weight,
            port,
            target,
        } => {
            o.begin("srv");
            o.u64("priority", u64::from(*priority))
                .u64("weight", u64::from(*weight))
                .u64("port", u64::from(*port))
                .bytes("name", target);
            o.end();
        }
        RData::Mx {
            preference,
            exchange,
        } => {
            write_name(o, "rdata", exchange, "rdata_truncated");
            o.u64("preference", u64::from(*preference));
        }
        RData::Caa { flags, tag, value } => {
            o.bytes("rdata", value);
            o.begin("caa");
            o.u64("flags", u64::from(*flags))
                .bytes("tag", tag)
                .bytes("value", value);
            o.end();
        }
        RData::Svcb {
            priority,
            target,
            alpn,
            ..
        } => {
            o.bytes("rdata", target);
            o.begin("svcb");
            o.u64("priority", u64::from(*priority));
            o.bytes("target", target);
            o.bytes_array("alpn", alpn.iter().map(|a| &a[..]));
            o.end();
        }
        RData::Opt(e) => write_edns(o, "opt", e),
        RData::Name(n) => write_name(o, "rdata", n, "rdata_truncated"),
        other => {
            if rdata_text(other, buf) {
                o.bytes("rdata", buf);
            }
        }
    }
    o.end();
}

pub(super) fn write_dns(o: &mut JsonObject<'_>, d: &DnsMessage) {
    o.begin("dns");
    let kind = match d.kind {
        DnsKind::Query => "query",
        DnsKind::Answer => "answer",
        DnsKind::Unanswered => "unanswered",
    };
    // Suricata 7's default EVE DNS layout, version 2, on every record.
    o.u64("version", 2);
    o.str("type", kind).u64("id", u64::from(d.id));
    if d.kind == DnsKind::Answer {
        o.hex_u16("flags", d.flags);
        for (bit, flag) in [
            (0x8000, "qr"),
            (0x0400, "aa"),
            (0x0200, "tc"),
            (0x0100, "rd"),
            (0x0080, "ra"),
            (0x0040, "z"),
            (0x0020, "ad"),
            (0x0010, "cd"),
        ] {
            if d.flags & bit != 0 {
                o.bool(flag, true);
            }
        }
    } else if d.flags & 0x0100 != 0 {
        o.bool("rd", true);
    }
    // The flow's transaction number (Suricata 7 numbers queries and
    // responses alike, from 0).
    o.u64("tx_id", d.tx_id);
    o.u64("opcode", u64::from(d.opcode()));
    if let Some(q) = d.questions.first() {
        write_name(o, "rrname", &q.name, "rrname_truncated");
        o.str("rrtype", &rrtype_str(q.rrtype));
    }
    if d.kind == DnsKind::Answer {
        let rcode = u16::from(d.edns().map_or(0, |e| e.ext_rcode)) << 4 | d.rcode();
        match rcode_name(rcode) {
            Some(n) => o.str("rcode", n),
            None => o.str("rcode", &rcode.to_string()),
        };
    }
    if d.questions.len() > 1 {
        o.begin_array("queries");
        for q in &d.questions {
            o.item_object();
            write_name(o, "rrname", &q.name, "rrname_truncated");
            o.str("rrtype", &rrtype_str(q.rrtype));
            o.end();
        }
        o.end();
    }
    if let Some(rtt) = d.rtt_us {
        o.u64(
            if d.kind == DnsKind::Unanswered {
                "waited_us"
            } else {
                "rtt_us"
            },
            rtt,
        );
    }
    if d.tcp {
        o.bool("tcp", true);
    }
    // One scratch buffer for every record's text.
    let mut buf = Vec::new();
    if !d.answers.is_empty() {
        o.begin_array("answers");
        for r in &d.answers {
            write_record(o, r, &mut buf);
        }
        o.end();
        // Suricata's `grouped`: the rdata texts per type, types in order of
        // first appearance.
        o.begin("grouped");
        let mut types: Vec<u16> = Vec::new();
        for r in &d.answers {
            if !types.contains(&r.rrtype) {
                types.push(r.rrtype);
            }
        }
        for t in types {
            let mut open = false;
            for r in d.answers.iter().filter(|r| r.rrtype == t) {
                if rdata_text(&r.data, &mut buf) {
                    if !open {
                        o.begin_array(Key::escaped(&rrtype_str(t)));
                        open = true;
                    }
                    o.item_bytes(&buf);
                }
            }
            if open {
                o.end();
            }
        }
        o.end();
    }
    if !d.authorities.is_empty() {
        o.begin_array("authorities");
        for r in &d.authorities {
            write_record(o, r, &mut buf);
        }
        o.end();
    }
    if let Some(e) = d.edns() {
        write_edns(o, "edns", e);
    }
    o.end();
}
