//! flowscope-engine: the deterministic, single-threaded core of flowscope.
//!
//! An [`Engine`] decodes packets (Ethernet, raw IP, Linux SLL/SLL2, BSD
//! NULL/LOOP; VLAN/QinQ, MPLS, PPPoE; IPv4/IPv6 with extension headers;
//! GRE, ERSPAN, VXLAN, Geneve, GTP-U, IP-in-IP, Teredo), reassembles IP
//! fragments, keys packets into flows with a [`FlowExtractor`], tracks TCP
//! state and Zeek-style history, expires flows on packet time, and pushes
//! [`Ordered`] [`FlowEvent`]s into a caller-owned buffer.
//!
//! It does no I/O, starts no threads and reads no clock: the caller passes
//! the packet clock with every packet and at every epoch boundary, so the
//! same input always yields the same events in the same order.
//!
//! # Driving an engine
//!
//! ```
//! use flowscope_engine::{Engine, EngineConfig, FiveTuple, KeyOptions, LinkType, RawPacket, Timestamp};
//!
//! let cfg = EngineConfig::default();
//! let mut engine = Engine::new(&cfg, FiveTuple::new(KeyOptions::from_config(&cfg))).unwrap();
//! let mut events = Vec::new();
//! let frame = [0u8; 14]; // an Ethernet header with EtherType 0: not IP
//! let pkt = RawPacket { ts: Timestamp::new(1, 0), linktype: LinkType::ETHERNET, wire_len: 14, iface: 0, data: &frame };
//! engine.process(0, pkt.ts, &pkt, &mut events);   // packet 0
//! engine.advance(pkt.ts, 0, &mut events);         // an epoch boundary: timers
//! engine.finish(pkt.ts, 0, &mut events);          // end of input: flush
//! assert_eq!(engine.stats().non_ip, 1);
//! ```
//!
//! # The API
//!
//! Every public item is re-exported here, at the crate root, and has no
//! other path (the modules that define them are private):
//!
//! - the engine: [`Engine`], [`EventBuf`];
//! - configuration: [`EngineConfig`] and its sections ([`DecodeConfig`],
//!   [`TunnelConfig`], [`FlowConfig`], [`DefragConfig`],
//!   [`ReassemblyConfig`]), [`KeyKind`], [`Share`], [`ConfigError`];
//! - output: [`Ordered`] [`FlowEvent`]s ([`Cause`], [`OrderKey`]), their
//!   payloads ([`FlowStats`], [`SideStats`], [`AnomalyKind`],
//!   [`DecodeError`], [`DefragDrop`], [`CapHit`]) and the words they use
//!   ([`FlowSide`], [`Orientation`], [`EndReason`], [`FlowState`],
//!   [`ConnState`], [`History`], [`flow_id`], [`community_id()`]);
//! - counters: [`EngineStats`], [`SessionCounters`] and their parts;
//! - packets: [`RawPacket`], [`LinkType`], [`Timestamp`], and the decoded
//!   [`PacketView`] an extractor reads;
//! - keys: the [`FlowExtractor`] trait, the built-in extractors
//!   ([`FiveTuple`], [`DirectionalFiveTuple`], [`IpPair`], [`MacPair`],
//!   chosen at run time with [`with_extractor!`]) and their keys;
//! - per-flow extension: the [`FlowHook`] trait and, built on it, the
//!   session API: [`SessionParser`], [`SessionParserFactory`],
//!   [`DatagramParser`], [`DatagramParserFactory`], [`SessionEvent`],
//!   [`Sessions`] with its [`Route`]s, and the TCP [`Reassembler`];
//! - [`parsers`]: the built-in HTTP, TLS, DNS and QUIC parsers, each
//!   behind its Cargo feature.
//!
//! The hidden `unstable` module lends a few internals to the other crates
//! of the flowscope workspace; it is not part of the API and not covered by
//! semver.
//!
//! # Cargo features
//!
//! Each built-in parser is a feature, and all of them are on by default.
//! Without them (`default-features = false`) the crate is the engine and
//! the session API: decoding, defragmentation, flows and their events,
//! Community ID (SHA-1 and base64, always built), TCP reassembly, the
//! parser traits, [`Sessions`] and its [`Route`]s, plus the parsers'
//! options ([`parsers::ParsersConfig`], so a `[parsers]` table reads the
//! same in every build) and [`parsers::builtin`], which then registers
//! nothing. A parser is registered only if its feature is on, whatever the
//! configuration says ([`parsers::ParsersConfig::not_built`] names the ones
//! enabled but left out).
//!
//! | Feature | Adds | Dependencies it pulls |
//! |---------|------|-----------------------|
//! | `http` | `parsers::http`: HTTP/1.x over TCP and SSDP over UDP, the `L7Message::Http` messages; with `tls`, TLS inside a CONNECT tunnel is parsed too | httparse (heads), sha2 (response body SHA-256) |
//! | `dns` | `parsers::dns`: DNS over UDP and TCP, the `L7Message::Dns` messages | none |
//! | `tls` | `parsers::tls`, `parsers::hello`, `parsers::fingerprint`: the TLS handshake, certificates, JA3/JA3S/JA4, the `L7Message::Tls` messages | x509-parser (certificates), md-5 (JA3), sha2 (JA4) |
//! | `quic` | `parsers::quic`: the TLS hellos inside QUIC Initial packets, reported as `L7Message::Tls`, and Google QUIC's versioned packets (`L7Message::Gquic`: SNI, user agent, CYU); turns on `tls` | aes, aes-gcm (Initial packet protection), sha2 (its key derivation), and those of `tls` |
//! | `ssh` | `parsers::ssh`: SSH identification lines and HASSH fingerprints, the `L7Message::Ssh` messages | md-5 (HASSH) |
//! | `ftp` | `parsers::ftp`: FTP control connections, the `L7Message::Ftp` transactions and `L7Message::FtpTransfer` announcements of data transfers | none |
//! | `dhcp` | `parsers::dhcp`: DHCPv4 messages, the `L7Message::Dhcp` messages | none |
//! | `tftp` | `parsers::tftp`: TFTP read and write requests, the `L7Message::Tftp` messages | none |
//! | `ntp` | `parsers::ntp`: NTP flows named (`app_proto: ntp`), no messages | none |
//! | `smtp` | `parsers::smtp`: SMTP transactions and their messages' envelope fields, the `L7Message::Smtp` messages (with `tls`, TLS after STARTTLS) | none |
//! | `http2` | `parsers::http2`: cleartext HTTP/2 (h2c) frames, HPACK, the `L7Message::Http2` messages | none |
//! | `sip` | `parsers::sip`: SIP requests and responses over UDP and TCP, the `L7Message::Sip` messages | none |
//! | `rfb` | `parsers::rfb`: the RFB (VNC) handshake, the `L7Message::Rfb` messages | none |
//! | `mqtt` | `parsers::mqtt`: MQTT 3.1, 3.1.1 and 5.0 control packets grouped into transactions, the `L7Message::Mqtt` messages | none |
//! | `snmp` | `parsers::snmp`: SNMP v1, v2c and v3 messages, the `L7Message::Snmp` messages | none |
//! | `krb5` | `parsers::krb5`: Kerberos 5 AS/TGS requests, replies and errors over UDP and TCP, the `L7Message::Krb5` messages | none |
//! | `pgsql` | `parsers::pgsql`: the PostgreSQL frontend/backend protocol (startup, authentication, simple queries), the `L7Message::Pgsql` messages | none |
//! | `ike` | `parsers::ike`: IKEv1 and IKEv2 (ISAKMP) messages over UDP 500 and 4500, the `L7Message::Ike` messages | none |
//! | `dcerpc` | `parsers::dcerpc`: DCE/RPC calls over TCP (connection-oriented, version 5) and UDP (connectionless, version 4), the `L7Message::Dcerpc` messages | none |
//! | `modbus` | `parsers::modbus`: Modbus/TCP requests and responses paired into transactions, the `L7Message::Modbus` messages | none |
//! | `rdp` | `parsers::rdp`: RDP's connection sequence (X.224, MCS Connect-Initial's GCC data, the certificate serials after the move to TLS), the `L7Message::Rdp` transactions | x509-parser (serials) |
//! | `dnp3` | `parsers::dnp3`: DNP3 over TCP (link frames and CRCs, transport reassembly, application headers and objects), the `L7Message::Dnp3` messages | none |
//! | `nfs` | `parsers::nfs`: NFS v2, v3 and v4 calls, replies and file transfers over ONC RPC (TCP and UDP), the `L7Message::Nfs` messages | none |
//! | `smb` | `parsers::smb`: SMB 2/3 and SMB1 transactions over TCP (NBSS framing), NTLMSSP and Kerberos identities, file reads and writes, DCE/RPC over named pipes, the `L7Message::Smb` messages | `dcerpc`, `krb5` |
//! | `bittorrent-dht` | `parsers::bittorrent_dht`: BitTorrent DHT (BEP 5) queries, responses and errors over UDP, read with a bounded bencode reader, the `L7Message::BittorrentDht` messages | none |

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod community_id;
mod config;
mod decode;
#[allow(
    dead_code,
    reason = "the fragment table keeps its inspection methods (in flight, buffered) and drop reasons for its tests"
)]
mod defrag;
mod engine;
mod event;
mod flow;
mod hook;
mod key;
mod named;
mod packet;
pub mod parsers;
mod reassembly;
mod session;
mod stats;
mod timestamp;
mod vocab;
#[allow(
    dead_code,
    reason = "header views name every field and protocol tables every well-known value, read or not"
)]
mod wire;

#[cfg(test)]
mod testutil;

// The public API. Every public type has exactly this one path; the modules
// that define them are private.

// The engine and its configuration.
pub use config::{
    ConfigError, DecodeConfig, DefragConfig, EngineConfig, FlowConfig, KeyKind, PortProto,
    PortTimeout, Share, TunnelConfig,
};
pub use engine::{Engine, EventBuf};

// What an engine emits: ordered events, their vocabulary and their counters.
pub use community_id::{CommunityId, community_id, community_id_v1};
pub use defrag::{DefragCounters, DefragDrop};
pub use event::{
    AnomalyKind, AppEvent, AppProto, Cause, FlowEvent, FlowStats, NoMessage, OrderKey, Ordered,
    SideStats,
};
pub use stats::{AppCounters, AppProtoCounters, EngineStats, ProtoCounts, SessionCounters};
pub use timestamp::Timestamp;
pub use vocab::{ConnState, EndReason, FlowSide, FlowState, History, Letter, Orientation, flow_id};
pub use wire::DecodeError;

// Packets in, and the decoded view extractors key on.
pub use packet::{
    FragmentInfo, IcmpInfo, IpInfo, LinkType, PacketView, Ports, RawPacket, Transport, Tunnel,
    TunnelKind, VlanIds,
};

// Flow keys and the extractors that build them.
pub use key::{
    DirectionalFiveTuple, Endpoint, Extracted, FiveTuple, FiveTupleKey, FlowExtractor, FlowKey,
    IpPair, IpPairKey, KeyContext, KeyOptions, MacPair, MacPairKey,
};

// Per-flow extension: the hook, and the session API (reassembly and parsers)
// built on it.
pub use hook::{FlowHook, HookFlow, HookItem, HookPacket, NoHook, TcpInfo, Verdict};
pub use reassembly::{
    CapHit, Chunk, Memory, OverflowPolicy, OverlapPolicy, Reassembler, ReassemblyConfig, Segment,
    SegmentOutcome, StreamCounters,
};
pub use session::{
    DEFAULT_MAX_EVENTS_PER_FLOW, DatagramParser, DatagramParserFactory, Probe, Route, SessionEvent,
    SessionParser, SessionParserFactory, Sessions,
};

/// Internals that other crates of this workspace use (the pipeline's
/// ingest decodes packets to pick a shard; writers and benchmarks reuse a
/// few helpers). **Not covered by semver**: anything here may change or
/// go in any release.
#[doc(hidden)]
pub mod unstable {
    pub use crate::decode::Decoder;
    pub use crate::defrag::{DefragEvent, DefragLog, FragmentKey, FragmentRouter, Routed};
    pub use crate::key::icmp_port_equivalents;
    pub use crate::wire::ip::internet_checksum;
}
