//! [`DhtMessage`]: what one DHT datagram's record shows. Its strings,
//! compact node lists and peers are copied into one buffer (one
//! allocation per message) behind named spans, and read back through
//! accessors that cannot fail: [`Request`], [`Response`] (its [`Node`]s
//! and [`Peer`]s), [`DhtError`]. [`Parts`] is the message borrowed from
//! the datagram, caps applied, that [`DhtMessage::new`] copies.

use super::super::reader::Reader;
use super::bencode::{List, Value};
use std::net::IpAddr;

/// Bytes of a node id (and of an info hash).
pub const ID_LEN: usize = 20;
/// Bytes of a compact IPv4 node (BEP 5): the id, the address, the port.
pub const NODE_LEN: usize = ID_LEN + 4 + 2;
/// Bytes of a compact IPv6 node (BEP 32).
pub const NODE6_LEN: usize = ID_LEN + 16 + 2;
/// A `values` entry this long or longer is an IPv6 peer (its first 16
/// bytes and a port), a shorter one an IPv4 peer (its first 4 and a
/// port), as Suricata reads them.
const PEER6_LEN: usize = 16 + 2;

/// A query's arguments (`a`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Request<'a> {
    /// The querying node's id.
    pub id: &'a [u8],
    /// `find_node`: the node looked for.
    pub target: Option<&'a [u8]>,
    /// `get_peers`, `announce_peer`: the torrent's info hash.
    pub info_hash: Option<&'a [u8]>,
    /// `announce_peer`: the token a `get_peers` response gave.
    pub token: Option<&'a [u8]>,
    /// `announce_peer`: 1 when the UDP source port is the one to use.
    pub implied_port: Option<u8>,
    /// `announce_peer`: the port the peer downloads on.
    pub port: Option<u16>,
}

/// A response's values (`r`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response<'a> {
    /// The responding node's id.
    pub id: &'a [u8],
    /// Compact IPv4 nodes, [`NODE_LEN`] bytes each.
    nodes: &'a [u8],
    /// Compact IPv6 nodes, [`NODE6_LEN`] bytes each.
    nodes6: &'a [u8],
    /// Peers: each an address length (4 or 16), the address, the port.
    values: &'a [u8],
    /// `get_peers`: the token for a later `announce_peer`.
    pub token: Option<&'a [u8]>,
}

/// An error's list (`e`): the code and the message (UTF-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhtError<'a> {
    /// The error code (201 generic, 202 server, 203 protocol, 204 method
    /// unknown).
    pub num: u16,
    /// The message.
    pub msg: &'a [u8],
}

/// A node of a `nodes` or `nodes6` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node<'a> {
    /// Its id ([`ID_LEN`] bytes).
    pub id: &'a [u8],
    /// Its address.
    pub ip: IpAddr,
    /// Its port.
    pub port: u16,
}

/// A peer of a `values` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// Its address.
    pub ip: IpAddr,
    /// Its port.
    pub port: u16,
}

/// An address of 4 or 16 bytes.
fn ip(b: &[u8]) -> Option<IpAddr> {
    if let Ok(a) = <[u8; 4]>::try_from(b) {
        Some(IpAddr::from(a))
    } else {
        <[u8; 16]>::try_from(b).ok().map(IpAddr::from)
    }
}

/// A `values` entry as Suricata reads it: the address (4 bytes, or 16
/// when the entry has [`PEER6_LEN`] bytes or more) and the port after it;
/// `None` when the entry is too short for them.
pub(super) fn peer(entry: &[u8]) -> Option<(&[u8], u16)> {
    let mut r = Reader::new(entry);
    let ip = r.take(if entry.len() < PEER6_LEN { 4 } else { 16 })?;
    Some((ip, r.u16()?))
}

impl<'a> Response<'a> {
    /// The IPv4 nodes, in order.
    pub fn nodes(&self) -> impl Iterator<Item = Node<'a>> + use<'a> {
        compact_nodes(self.nodes, 4)
    }

    /// The IPv6 nodes, in order.
    pub fn nodes6(&self) -> impl Iterator<Item = Node<'a>> + use<'a> {
        compact_nodes(self.nodes6, 16)
    }

    /// The peers, in order.
    pub fn values(&self) -> impl Iterator<Item = Peer> + use<'a> {
        let mut r = Reader::new(self.values);
        std::iter::from_fn(move || {
            let n = r.u8()?;
            let ip = ip(r.take(usize::from(n))?)?;
            Some(Peer { ip, port: r.u16()? })
        })
    }
}

/// Compact nodes: the id, an address of `ip_len` bytes, the port.
fn compact_nodes(b: &[u8], ip_len: usize) -> impl Iterator<Item = Node<'_>> {
    let mut r = Reader::new(b);
    std::iter::from_fn(move || {
        let id = r.take(ID_LEN)?;
        let ip = ip(r.take(ip_len)?)?;
        Some(Node {
            id,
            ip,
            port: r.u16()?,
        })
    })
}

/// A response borrowed from the datagram: compact nodes already cut to
/// whole nodes (and the cap), the `values` list checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ResponseParts<'a> {
    pub(super) id: &'a [u8],
    pub(super) nodes: &'a [u8],
    pub(super) nodes6: &'a [u8],
    /// Every entry a string [`peer`] reads.
    pub(super) values: Option<List<'a>>,
    /// The most peers kept.
    pub(super) max_values: usize,
    pub(super) token: Option<&'a [u8]>,
}

impl ResponseParts<'_> {
    /// The peers kept: address and port.
    fn peers(&self) -> impl Iterator<Item = (&[u8], u16)> {
        self.values
            .into_iter()
            .flat_map(List::iter)
            .filter_map(|v| match v {
                Value::Bytes(e) => peer(e),
                _ => None,
            })
            .take(self.max_values)
    }
}

/// A message borrowed from the datagram (caps applied), what
/// [`DhtMessage::new`] copies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Parts<'a> {
    pub(super) transaction_id: &'a [u8],
    pub(super) client_version: Option<&'a [u8]>,
    pub(super) request_type: Option<&'a [u8]>,
    pub(super) request: Option<Request<'a>>,
    pub(super) response: Option<ResponseParts<'a>>,
    pub(super) error: Option<DhtError<'a>>,
}

/// A range of a message's buffer (a datagram is far below 4 GiB).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct RequestSpans {
    id: Span,
    target: Option<Span>,
    info_hash: Option<Span>,
    token: Option<Span>,
    implied_port: Option<u8>,
    port: Option<u16>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ResponseSpans {
    id: Span,
    nodes: Span,
    nodes6: Span,
    values: Span,
    token: Option<Span>,
}

/// One DHT datagram's record, as Suricata 7 makes one transaction of
/// each: the transaction id (empty when the datagram did not parse, as
/// Suricata writes it then), the client version, and a query (its name
/// and arguments), a response or an error — or, for a datagram that broke
/// off, what Suricata had set before it did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DhtMessage {
    bytes: Box<[u8]>,
    transaction_id: Span,
    client_version: Option<Span>,
    request_type: Option<Span>,
    request: Option<RequestSpans>,
    response: Option<ResponseSpans>,
    error: Option<(u16, Span)>,
}

impl Span {
    /// `start..end` of a buffer.
    fn new(start: usize, end: usize) -> Span {
        let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span {
            start: at(start),
            end: at(end),
        }
    }
}

/// Copies `b` to the end of `buf`: its span there.
fn put(buf: &mut Vec<u8>, b: &[u8]) -> Span {
    let start = buf.len();
    buf.extend_from_slice(b);
    Span::new(start, buf.len())
}

impl DhtMessage {
    /// The message of `p`, in one buffer of exactly the bytes it keeps.
    pub(super) fn new(p: &Parts<'_>) -> DhtMessage {
        let opt = |s: Option<&[u8]>| s.map_or(0, <[u8]>::len);
        let request = p.request.map_or(0, |r| {
            r.id.len() + opt(r.target) + opt(r.info_hash) + opt(r.token)
        });
        let response = p.response.as_ref().map_or(0, |r| {
            let peers: usize = r.peers().map(|(ip, _)| 1 + ip.len() + 2).sum();
            r.id.len() + r.nodes.len() + r.nodes6.len() + peers + opt(r.token)
        });
        let len = p.transaction_id.len()
            + opt(p.client_version)
            + opt(p.request_type)
            + request
            + response
            + p.error.map_or(0, |e| e.msg.len());
        let mut buf = Vec::with_capacity(len);
        let b = &mut buf;
        let transaction_id = put(b, p.transaction_id);
        let client_version = p.client_version.map(|v| put(b, v));
        let request_type = p.request_type.map(|q| put(b, q));
        let request = p.request.map(|r| RequestSpans {
            id: put(b, r.id),
            target: r.target.map(|v| put(b, v)),
            info_hash: r.info_hash.map(|v| put(b, v)),
            token: r.token.map(|v| put(b, v)),
            implied_port: r.implied_port,
            port: r.port,
        });
        let response = p.response.as_ref().map(|r| {
            let id = put(b, r.id);
            let nodes = put(b, r.nodes);
            let nodes6 = put(b, r.nodes6);
            let start = b.len();
            for (ip, port) in r.peers() {
                // An address is 4 or 16 bytes.
                b.push(ip.len() as u8);
                b.extend_from_slice(ip);
                b.extend_from_slice(&port.to_be_bytes());
            }
            let values = Span::new(start, b.len());
            ResponseSpans {
                id,
                nodes,
                nodes6,
                values,
                token: r.token.map(|v| put(b, v)),
            }
        });
        let error = p.error.map(|e| (e.num, put(b, e.msg)));
        DhtMessage {
            bytes: buf.into_boxed_slice(),
            transaction_id,
            client_version,
            request_type,
            request,
            response,
            error,
        }
    }

    fn get(&self, s: Span) -> &[u8] {
        self.bytes
            .get(s.start as usize..s.end as usize)
            .unwrap_or_default()
    }

    /// The transaction id (`t`); empty when the datagram did not parse
    /// or had none.
    pub fn transaction_id(&self) -> &[u8] {
        self.get(self.transaction_id)
    }

    /// The client version (`v`), when the datagram parsed and had one.
    pub fn client_version(&self) -> Option<&[u8]> {
        self.client_version.map(|s| self.get(s))
    }

    /// A query's method name (`q`: `ping`, `find_node`, `get_peers`,
    /// `announce_peer`...; UTF-8).
    pub fn request_type(&self) -> Option<&[u8]> {
        self.request_type.map(|s| self.get(s))
    }

    /// A query's arguments.
    pub fn request(&self) -> Option<Request<'_>> {
        let opt = |s: Option<Span>| s.map(|s| self.get(s));
        self.request.map(|r| Request {
            id: self.get(r.id),
            target: opt(r.target),
            info_hash: opt(r.info_hash),
            token: opt(r.token),
            implied_port: r.implied_port,
            port: r.port,
        })
    }

    /// A response's values.
    pub fn response(&self) -> Option<Response<'_>> {
        self.response.map(|r| Response {
            id: self.get(r.id),
            nodes: self.get(r.nodes),
            nodes6: self.get(r.nodes6),
            values: self.get(r.values),
            token: r.token.map(|s| self.get(s)),
        })
    }

    /// An error's code and message.
    pub fn error(&self) -> Option<DhtError<'_>> {
        self.error.map(|(num, msg)| DhtError {
            num,
            msg: self.get(msg),
        })
    }
}
