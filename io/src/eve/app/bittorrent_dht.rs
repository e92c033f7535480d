//! EVE `bittorrent_dht` records, shaped like Suricata 7's: one per DHT
//! datagram, the transaction id and client version in hex, then the
//! query's name (`request_type`), the error (`num`, `msg`), the query's
//! arguments (`request`: ids, hashes and tokens in hex, the ports) or the
//! response (`response`: its id and token in hex, `nodes`, `nodes6` and
//! `values` as addresses and ports, the node ids in hex), each only when
//! the message has it.

use crate::json::JsonObject;
use flowscope_engine::parsers::bittorrent_dht::{DhtMessage, Node};
use flowscope_engine::parsers::fingerprint::hex;

fn opt_hex(o: &mut JsonObject<'_>, k: &'static str, v: Option<&[u8]>) {
    if let Some(v) = v {
        o.str(k, &hex(v));
    }
}

/// `nodes` or `nodes6`, when there is a node.
fn write_nodes<'a>(o: &mut JsonObject<'_>, k: &'static str, nodes: impl Iterator<Item = Node<'a>>) {
    let mut nodes = nodes.peekable();
    if nodes.peek().is_none() {
        return;
    }
    o.begin_array(k);
    for n in nodes {
        o.item_object();
        o.str("id", &hex(n.id))
            .ip("ip", n.ip)
            .u64("port", u64::from(n.port));
        o.end();
    }
    o.end();
}

pub(super) fn write_bittorrent_dht(o: &mut JsonObject<'_>, m: &DhtMessage) {
    o.begin("bittorrent_dht");
    o.str("transaction_id", &hex(m.transaction_id()));
    opt_hex(o, "client_version", m.client_version());
    if let Some(q) = m.request_type() {
        o.bytes("request_type", q);
    }
    if let Some(e) = m.error() {
        o.begin("error");
        o.u64("num", u64::from(e.num)).bytes("msg", e.msg);
        o.end();
    }
    if let Some(r) = m.request() {
        o.begin("request");
        o.str("id", &hex(r.id));
        opt_hex(o, "target", r.target);
        opt_hex(o, "info_hash", r.info_hash);
        opt_hex(o, "token", r.token);
        if let Some(p) = r.implied_port {
            o.u64("implied_port", u64::from(p));
        }
        if let Some(p) = r.port {
            o.u64("port", u64::from(p));
        }
        o.end();
    }
    if let Some(r) = m.response() {
        o.begin("response");
        o.str("id", &hex(r.id));
        write_nodes(o, "nodes", r.nodes());
        write_nodes(o, "nodes6", r.nodes6());
        let mut peers = r.values().peekable();
        if peers.peek().is_some() {
            o.begin_array("values");
            for p in peers {
                o.item_object();
                o.ip("ip", p.ip).u64("port", u64::from(p.port));
                o.end();
            }
            o.end();
        }
        opt_hex(o, "token", r.token);
        o.end();
    }
    o.end();
}
