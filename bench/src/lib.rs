//! flowscope-bench as a library: the trace generator ([`traffic`]), the
//! replay benchmark ([`run`]) and its HTML report ([`report`]), shared by the `flowscope-bench` binary, the
//! micro-benchmarks (`benches/hot_paths.rs`) and the integration tests.
//!
//! A small generated trace, in memory, through one engine:
//!
//! ```
//! use flowscope_bench::traffic::{frames, plan::Params};
//! use flowscope_engine::{Engine, EngineConfig, FiveTuple, KeyOptions, LinkType, RawPacket, Timestamp};
//!
//! let trace = frames(&Params::with_defaults(20), 20); // (ns, Ethernet frame)
//! let cfg = EngineConfig::default();
//! let mut engine = Engine::new(&cfg, FiveTuple::new(KeyOptions::from_config(&cfg)))?;
//! let mut events = Vec::new();
//! for (seq, (ns, frame)) in trace.iter().enumerate() {
//!     let ts = Timestamp::from_nanos(*ns);
//!     let raw = RawPacket { ts, linktype: LinkType::ETHERNET, wire_len: frame.len() as u32, iface: 0, data: frame };
//!     engine.process(seq as u64, ts, &raw, &mut events);
//! }
//! let end = Timestamp::from_nanos(trace.last().map_or(0, |t| t.0));
//! engine.finish(end, trace.len() as u64, &mut events);
//! assert_eq!(engine.stats().flows_created, 20);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod hgrm;
pub mod report;
pub mod run;
pub mod traffic;
