//! BitTorrent DHT (BEP 5) over UDP ([`BittorrentDhtParser`]): the KRPC
//! messages nodes exchange — queries (`ping`, `find_node`, `get_peers`,
//! `announce_peer`...), responses (node ids, compact IPv4 and IPv6 nodes
//! of BEP 32, peers, tokens) and errors — read from bencoded dicts with a
//! bounded reader (module `bencode`) into [`DhtMessage`]s (module
//! `message`). As Suricata 7 does: every datagram of the flow, from either
//! side, that starts as Suricata's DHT dicts start (`d1:ad`, `d1:rd`,
//! `d2:ip`, `d1:el`) is one transaction and one message, one that does not
//! parse included (with what Suricata had read of it, an empty
//! transaction id, and `malformed_packet`); other datagrams (uTP, which
//! shares DHT's port) are passed over. [`probe`]: a datagram that starts
//! with a query's [`QUERY_PREFIX`] is DHT, anything else is not
//! (Suricata's detection pattern; DHT has no port). Caps: bencode nested
//! [`MAX_DEPTH`] containers deep (Suricata's; deeper is malformed, and
//! `nesting_too_deep`), strings of
//! [`BittorrentDhtConfig::max_string_bytes`] (`long_string`),
//! [`BittorrentDhtConfig::max_nodes`] nodes per list (`too_many_nodes`),
//! [`BittorrentDhtConfig::max_values`] peers (`too_many_values`).

mod bencode;
mod message;
#[cfg(test)]
mod tests;

pub use message::{
    DhtError, DhtMessage, ID_LEN, NODE_LEN, NODE6_LEN, Node, Peer, Request, Response,
};

use super::{BittorrentDhtConfig, L7Message};
use crate::AppEvent;
use crate::FlowSide;
use crate::parsers::anomalies::Anomalies;
use crate::session::{DatagramParser, Probe};
use bencode::{List, Malformed, Value};
use message::{Parts, ResponseParts, peer};

/// Containers open at once in a message, at most: Suricata's decoder's
/// limit (the message's dict, a response's dict, its `values` list).
pub const MAX_DEPTH: usize = 3;
/// Anomalies kept per flow before they are taken (the driver takes them
/// after each datagram).
const MAX_PENDING_EVENTS: usize = 8;

/// How every query starts (its arguments' dict, the node id first):
/// Suricata's detection pattern, either direction.
pub const QUERY_PREFIX: &[u8] = b"d1:ad2:id20:";
/// How a datagram Suricata reads as DHT starts: a query's arguments, a
/// response's values, a response's `ip` (BEP 42), an error's list.
const STARTS: [&[u8]; 4] = [b"d1:ad", b"d1:rd", b"d2:ip", b"d1:el"];

/// The content probe: a datagram (either side's) that starts with
/// [`QUERY_PREFIX`] is DHT; anything else is not. As in Suricata, the
/// flow's first datagram decides: its pattern is all it detects DHT by.
pub fn probe(bytes: &[u8], _side: FlowSide) -> Probe {
    if bytes.starts_with(QUERY_PREFIX) {
        Probe::Certain
    } else {
        Probe::No
    }
}

/// Whether Suricata reads `b` as a DHT message (it must be longer than
/// the 5 bytes that say so).
fn is_dht(b: &[u8]) -> bool {
    b.len() > 5 && STARTS.iter().any(|s| b.starts_with(s))
}

/// Why a datagram did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Not well-formed bencode.
    Bencode(Malformed),
    /// Bencode, but a key's value is not what the DHT has there.
    Shape,
}

/// A response's values as read (nodes cut to whole ones, before the
/// caps).
#[derive(Debug, Clone, Copy)]
struct Reply<'a> {
    id: &'a [u8],
    nodes: &'a [u8],
    nodes6: &'a [u8],
    values: Option<List<'a>>,
    token: Option<&'a [u8]>,
}

/// The message's keys Suricata reads, each checked as it reads it.
#[derive(Debug, Default)]
struct Keys<'a> {
    a: Option<Request<'a>>,
    e: Option<DhtError<'a>>,
    q: Option<&'a [u8]>,
    r: Option<Reply<'a>>,
    t: Option<&'a [u8]>,
    v: Option<&'a [u8]>,
    y: Option<&'a [u8]>,
}

fn bytes(v: Value<'_>) -> Option<&[u8]> {
    match v {
        Value::Bytes(b) => Some(b),
        _ => None,
    }
}

/// A string Suricata reads as text: UTF-8.
fn text(v: Value<'_>) -> Option<&[u8]> {
    bytes(v).filter(|b| std::str::from_utf8(b).is_ok())
}

/// A non-negative integer that fits a `T`.
fn uint<T: TryFrom<u64>>(v: Value<'_>) -> Option<T> {
    match v {
        Value::Int(i) => i.unsigned(),
        _ => None,
    }
}

/// `b` cut to whole items of `n` bytes (what follows the last whole one is
/// left out, as Suricata does).
fn whole(b: &[u8], n: usize) -> &[u8] {
    &b[..b.len() - b.len() % n]
}

/// A query's arguments: a dict with the node's `id`; unknown keys passed
/// over.
fn request(v: Value<'_>) -> Option<Request<'_>> {
    let Value::Dict(d) = v else { return None };
    let mut id = None;
    let mut r = Request::default();
    for (k, v) in d.iter() {
        match k {
            b"id" => id = Some(bytes(v)?),
            b"implied_port" => r.implied_port = Some(uint(v)?),
            b"info_hash" => r.info_hash = Some(bytes(v)?),
            b"port" => r.port = Some(uint(v)?),
            b"target" => r.target = Some(bytes(v)?),
            b"token" => r.token = Some(bytes(v)?),
            _ => {}
        }
    }
    r.id = id?;
    Some(r)
}

/// A response's values: a dict with the node's `id`; `values`, when a
/// list, of strings long enough for a peer each (when not a list, passed
/// over, as Suricata does).
fn reply(v: Value<'_>) -> Option<Reply<'_>> {
    let Value::Dict(d) = v else { return None };
    let mut id = None;
    let mut r = Reply {
        id: &[],
        nodes: &[],
        nodes6: &[],
        values: None,
        token: None,
    };
    for (k, v) in d.iter() {
        match k {
            b"id" => id = Some(bytes(v)?),
            b"nodes" => r.nodes = whole(bytes(v)?, NODE_LEN),
            b"nodes6" => r.nodes6 = whole(bytes(v)?, NODE6_LEN),
            b"token" => r.token = Some(bytes(v)?),
            b"values" => {
                if let Value::List(l) = v {
                    if !l.iter().all(|e| bytes(e).and_then(peer).is_some()) {
                        return None;
                    }
                    r.values = Some(l);
                }
            }
            _ => {}
        }
    }
    r.id = id?;
    Some(r)
}

/// An error's list: its last integer (a `u16`) and its last string
/// (UTF-8), both needed; items of other kinds passed over.
fn error(v: Value<'_>) -> Option<DhtError<'_>> {
    let Value::List(l) = v else { return None };
    let (mut num, mut msg) = (None, None);
    for item in l.iter() {
        match item {
            Value::Int(_) => num = Some(uint(item)?),
            Value::Bytes(_) => msg = Some(text(item)?),
            _ => {}
        }
    }
    Some(DhtError {
        num: num?,
        msg: msg?,
    })
}

/// The message's keys: a dict, whose keys Suricata reads checked, others
/// passed over (the bytes after the dict are not looked at).
fn keys(b: &[u8]) -> Result<Keys<'_>, Fault> {
    let (Value::Dict(d), _) = bencode::check(b, MAX_DEPTH).map_err(Fault::Bencode)? else {
        return Err(Fault::Shape);
    };
    let mut k = Keys::default();
    for (key, v) in d.iter() {
        let read = match key {
            b"a" => request(v).map(|a| k.a = Some(a)),
            b"e" => error(v).map(|e| k.e = Some(e)),
            b"q" => text(v).map(|q| k.q = Some(q)),
            b"r" => reply(v).map(|r| k.r = Some(r)),
            b"t" => bytes(v).map(|t| k.t = Some(t)),
            b"v" => bytes(v).map(|v| k.v = Some(v)),
            b"y" => text(v).map(|y| k.y = Some(y)),
            _ => Some(()),
        };
        read.ok_or(Fault::Shape)?;
    }
    Ok(k)
}

/// Caps met while keeping one message, reported with it.
#[derive(Debug, Default, Clone, Copy)]
struct Found {
    too_deep: bool,
    long_string: bool,
    too_many_nodes: bool,
    too_many_values: bool,
}

impl Found {
    /// The anomaly names, in a fixed order.
    fn names(self) -> impl Iterator<Item = &'static str> {
        [
            (self.too_deep, "nesting_too_deep"),
            (self.long_string, "long_string"),
            (self.too_many_nodes, "too_many_nodes"),
            (self.too_many_values, "too_many_values"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
    }
}

/// The BitTorrent DHT datagram parser. Messages:
/// [`L7Message::BittorrentDht`], one per datagram (either side's) that
/// starts as a DHT message.
#[derive(Debug, Clone, Default)]
pub struct BittorrentDhtParser {
    cfg: BittorrentDhtConfig,
    events: Anomalies<MAX_PENDING_EVENTS>,
    malformed: u64,
    next_tx: u64,
}

impl BittorrentDhtParser {
    /// A parser with these options.
    pub fn new(cfg: BittorrentDhtConfig) -> Self {
        BittorrentDhtParser {
            cfg,
            ..BittorrentDhtParser::default()
        }
    }

    /// Datagrams that started as DHT messages but did not parse (each
    /// still a message, as in Suricata).
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// The options it runs with.
    pub fn config(&self) -> &BittorrentDhtConfig {
        &self.cfg
    }

    fn event(&mut self, name: &'static str, tx_id: Option<u64>) {
        self.events.push("bittorrent-dht", name, tx_id);
    }

    /// `s` cut at the string cap (a text at a character boundary).
    fn cut<'a>(&self, s: &'a [u8], text: bool, found: &mut Found) -> &'a [u8] {
        let max = self.cfg.max_string_bytes;
        if s.len() <= max {
            return s;
        }
        found.long_string = true;
        let end = match std::str::from_utf8(s) {
            Ok(t) if text => t.floor_char_boundary(max),
            _ => max,
        };
        &s[..end]
    }

    /// A response kept: nodes and peers to their caps.
    fn response<'a>(&self, r: &Reply<'a>, found: &mut Found) -> ResponseParts<'a> {
        let mut nodes = |b: &'a [u8], n: usize| {
            let keep = b.len().min(self.cfg.max_nodes.saturating_mul(n));
            found.too_many_nodes |= keep < b.len();
            &b[..keep]
        };
        let (n4, n6) = (nodes(r.nodes, NODE_LEN), nodes(r.nodes6, NODE6_LEN));
        let peers = r.values.map_or(0, |l| l.iter().count());
        found.too_many_values = peers > self.cfg.max_values;
        ResponseParts {
            id: self.cut(r.id, false, found),
            nodes: n4,
            nodes6: n6,
            values: r.values,
            max_values: self.cfg.max_values,
            token: r.token.map(|t| self.cut(t, false, found)),
        }
    }

    /// The message of `k` as Suricata fills its transaction — the query
    /// (its name, then its arguments), response or error `y` names, then
    /// the transaction id and version, stopping at the first one missing —
    /// with the caps applied; and whether nothing was missing.
    fn keep<'a>(&self, k: &Keys<'a>, found: &mut Found) -> (Parts<'a>, bool) {
        let mut p = Parts::default();
        let body = match k.y {
            Some(b"q") => {
                p.request_type = k.q.map(|q| self.cut(q, true, found));
                p.request = k.q.and(k.a).map(|a| Request {
                    id: self.cut(a.id, false, found),
                    target: a.target.map(|s| self.cut(s, false, found)),
                    info_hash: a.info_hash.map(|s| self.cut(s, false, found)),
                    token: a.token.map(|s| self.cut(s, false, found)),
                    ..a
                });
                p.request.is_some()
            }
            Some(b"r") => {
                p.response = k.r.map(|r| self.response(&r, found));
                p.response.is_some()
            }
            Some(b"e") => {
                p.error = k.e.map(|e| DhtError {
                    num: e.num,
                    msg: self.cut(e.msg, true, found),
                });
                p.error.is_some()
            }
            _ => false,
        };
        let Some(t) = k.t.filter(|_| body) else {
            return (p, false);
        };
        p.transaction_id = self.cut(t, false, found);
        p.client_version = k.v.map(|v| self.cut(v, false, found));
        (p, true)
    }
}

impl DatagramParser for BittorrentDhtParser {
    type Message = L7Message;

    fn parse(&mut self, payload: &[u8], _side: FlowSide) -> Vec<L7Message> {
        if !is_dht(payload) {
            return Vec::new();
        }
        let tx = self.next_tx;
        self.next_tx += 1;
        let mut found = Found::default();
        let (parts, whole) = match keys(payload) {
            Ok(k) => self.keep(&k, &mut found),
            Err(fault) => {
                found.too_deep = fault == Fault::Bencode(Malformed::TooDeep);
                (Parts::default(), false)
            }
        };
        if !whole {
            self.malformed += 1;
            self.event("malformed_packet", Some(tx));
        }
        for name in found.names() {
            self.event(name, Some(tx));
        }
        vec![L7Message::BittorrentDht(Box::new(DhtMessage::new(&parts)))]
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }
}
