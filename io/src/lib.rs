//! flowscope-io: everything at the edges of flowscope — capture files in,
//! EVE JSON out, the TOML configuration, the bundled demo capture — and the
//! `flowscope` command line built on them.
//!
//! Reading a capture through the engine (the README's example):
//!
//! ```no_run
//! use flowscope_engine::{Engine, EngineConfig, FiveTuple, FlowEvent, KeyOptions};
//! use flowscope_io::capture::CaptureFile;
//! use flowscope_shards::InlineRunner;
//!
//! let cfg = EngineConfig::default();
//! let engine = Engine::new(&cfg, FiveTuple::new(KeyOptions::from_config(&cfg)))?;
//! let mut runner = InlineRunner::new(engine, 4096);
//! let file = CaptureFile::open("capture.pcap".as_ref())?;
//! for packet in file.packets()? {
//!     runner.push(&packet?);
//!     for ev in runner.events() {
//!         if let FlowEvent::Ended { key, stats, .. } = &ev.event {
//!             println!("{key:?}: {} packets", stats.total_packets());
//!         }
//!     }
//! }
//! runner.finish();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same on shard threads (same events, same order):
//!
//! ```no_run
//! use flowscope_engine::{EngineConfig, FiveTuple, FlowEvent, KeyOptions};
//! use flowscope_io::capture::CaptureFile;
//! use flowscope_io::source::FileSource;
//! use flowscope_shards::Pipeline;
//!
//! let cfg = EngineConfig::default();
//! let source = FileSource::new(vec![CaptureFile::open("capture.pcap".as_ref())?]);
//! let pipeline = Pipeline::builder(cfg.clone(), FiveTuple::new(KeyOptions::from_config(&cfg)))
//!     .shards(4)
//!     .pin(true)
//!     .build(source)?;
//! for ev in pipeline.receiver() {
//!     if let FlowEvent::Ended { key, stats, .. } = &ev.event {
//!         println!("{key:?}: {} packets", stats.total_packets());
//!     }
//! }
//! let report = pipeline.join()?;
//! println!("imbalance {:.2}", report.ingest.imbalance());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The built-in parsers on every shard (the README's example):
//!
//! ```no_run
//! use flowscope_engine::parsers::{builtin, L7Message, ParsersConfig};
//! use flowscope_engine::{EngineConfig, FiveTuple, FiveTupleKey, FlowEvent, KeyOptions};
//! use flowscope_io::capture::CaptureFile;
//! use flowscope_io::source::FileSource;
//! use flowscope_shards::Pipeline;
//!
//! let cfg = EngineConfig::default();
//! let source = FileSource::new(vec![CaptureFile::open("capture.pcap".as_ref())?]);
//! let parsers = ParsersConfig::default(); // or Config::load(..)?.parsers
//! let reassembly = cfg.reassembly.clone();
//! let pipeline = Pipeline::builder(cfg.clone(), FiveTuple::new(KeyOptions::from_config(&cfg)))
//!     .shards(4)
//!     .hook(move || builtin::<FiveTupleKey>(&reassembly, &parsers))
//!     .build(source)?;
//! for ev in pipeline.receiver() {
//!     match &ev.event {
//!         FlowEvent::Application { message: L7Message::Tls(hs), .. } => {
//!             if let Some(ch) = &hs.client_hello {
//!                 println!("SNI {:?} JA4 {:?}", ch.sni, hs.ja4);
//!             }
//!         }
//!         FlowEvent::Application { message: L7Message::Http(tx), .. } => {
//!             println!("{:?} {:?}", tx.method, tx.uri)
//!         }
//!         _ => {}
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod capture;
pub mod config;
pub mod demo;
pub mod eve;
pub mod json;
#[cfg(feature = "live")]
pub mod live;
#[cfg(feature = "live")]
pub mod live_capture;
pub mod pcap_writer;
pub mod pcapng_writer;
pub mod replay;
pub mod source;
pub mod streams;
