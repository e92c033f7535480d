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

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod community_id;
pub mod config;
pub mod decode;
pub mod defrag;
mod engine;
pub mod event;
pub mod flow;
pub mod hook;
pub mod key;
pub mod packet;
pub mod parsers;
pub mod reassembly;
pub mod session;
pub mod stats;
pub mod timestamp;
mod vocab;
pub mod wire;

#[cfg(test)]
mod testutil;

pub use community_id::{community_id, community_id_v1};
pub use config::{ConfigError, EngineConfig, KeyKind};
pub use engine::{Engine, EventBuf};
pub use event::{
    AnomalyKind, Cause, FlowEvent, FlowStats, NoMessage, OrderKey, Ordered, SideStats,
};
pub use hook::{FlowHook, HookFlow, HookItem, HookPacket, NoHook, TcpInfo, Verdict};
pub use key::{
    DirectionalFiveTuple, Endpoint, Extracted, FiveTuple, FiveTupleKey, FlowExtractor, FlowKey,
    IpPair, IpPairKey, KeyContext, KeyOptions, MacPair, MacPairKey,
};
pub use packet::{LinkType, PacketView, RawPacket, Transport, Tunnel, TunnelKind, VlanIds};
pub use reassembly::{Chunk, OverflowPolicy, OverlapPolicy, Reassembler, ReassemblyConfig};
pub use session::{
    DatagramParser, DatagramParserFactory, Probe, Route, SessionEvent, SessionParser,
    SessionParserFactory, Sessions,
};
pub use stats::{EngineStats, SessionCounters};
pub use timestamp::Timestamp;
pub use vocab::{ConnState, EndReason, FlowSide, FlowState, History, Letter, Orientation, flow_id};
pub use wire::DecodeError;
