//! flowscope-io: the sources and sinks at the edges of flowscope — capture
//! files and streams in ([`CaptureFile`], mapped; [`CaptureStream`], read
//! from standard input, a pipe or a FIFO; either read as one packet stream
//! by [`FileSource`]),
//! live interfaces in ([`LiveSource`], feature `live`), EVE JSON Lines out
//! ([`EveRenderer`]), pcap and pcapng files out ([`PcapWriter`],
//! [`PcapngWriter`]) and the bundled demo capture ([`DEMO_PCAP`]). The
//! `flowscope` command line is built on it in the flowscope-cli crate.
//!
//! Every type a user needs is exported at the crate root; the modules are
//! internal.
//!
//! - Reading files: [`CaptureFile`], [`CaptureBytes`], [`PacketReader`],
//!   [`RecordCursor`], [`OpenError`], [`CaptureError`].
//! - Reading streams (standard input, pipes, FIFOs, any `Read`) through a
//!   bounded buffer: [`CaptureStream`], the cursor's [`WindowStep`].
//! - Inputs as a pipeline source: [`CaptureInput`] (a file or a stream,
//!   [`CaptureInput::open`] decides), [`FileSource`], [`DamagedInput`],
//!   [`InputStarts`].
//! - Live capture (feature `live`, libpcap): [`LiveSource`],
//!   [`LiveOptions`], [`CaptureCounters`], [`OfflineFilter`].
//! - EVE output: [`EveRenderer`], [`OutputConfig`], [`EveKey`],
//!   [`EveMessage`], and the JSON writer under it, [`JsonObject`].
//! - Writing captures: [`PcapWriter`], [`PcapngWriter`], [`RotatingPcapng`].
//!
//! Reading a capture through the engine (the README's example):
//!
//! ```no_run
//! use flowscope_engine::{Engine, EngineConfig, FiveTuple, FlowEvent, KeyOptions};
//! use flowscope_io::CaptureFile;
//! use flowscope_shards::InlineRunner;
//!
//! let cfg = EngineConfig::default();
//! let engine = Engine::new(&cfg, FiveTuple::new(KeyOptions::from_config(&cfg)))?;
//! let mut runner = InlineRunner::new(engine, 4096);
//! let file = CaptureFile::open("capture.pcap".as_ref())?;
//! let mut report = |ev: &FlowEvent<_>| {
//!     if let FlowEvent::Ended { key, stats, .. } = ev {
//!         println!("{key:?}: {} packets", stats.total_packets());
//!     }
//! };
//! for packet in file.packets()? {
//!     runner.push(&packet?);
//!     runner.events().for_each(|ev| report(&ev.event));
//! }
//! runner.finish(); // flushes every flow still open: read those events too
//! runner.events().for_each(|ev| report(&ev.event));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same on shard threads (same events, same order):
//!
//! ```no_run
//! use flowscope_engine::{EngineConfig, FiveTuple, FlowEvent, KeyOptions};
//! use flowscope_io::{CaptureFile, FileSource};
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
//! use flowscope_io::{CaptureFile, FileSource};
//! use flowscope_shards::Pipeline;
//!
//! let cfg = EngineConfig::default();
//! let source = FileSource::new(vec![CaptureFile::open("capture.pcap".as_ref())?]);
//! let parsers = ParsersConfig::default(); // or a configuration file's `[parsers]`
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

mod demo;
mod eve;
mod json;
#[cfg(feature = "live")]
mod live;
mod pcap_writer;
mod pcapng_writer;
mod reader;
mod source;
mod stream;

pub use demo::{DEMO_NAME, DEMO_PCAP, demo_capture};
pub use eve::{
    EveKey, EveMessage, EveProfile, EveRenderer, OutputConfig, SCHEMA as EVE_SCHEMA,
    SCHEMA_VERSION, StrictFilter, direction_name, proto_name,
};
pub use json::JsonObject;
#[cfg(feature = "live")]
pub use live::{
    CaptureCounters, CaptureCounts, CaptureDirection, InterfaceCounts, InterfaceInfo, LiveError,
    LiveOptions, LiveSource, OfflineFilter, TsPrecision, TsSource, WriteThrough,
};
pub use pcap_writer::{PcapPrecision, PcapWriter};
pub use pcapng_writer::{InterfaceDesc, PcapngWriter, RotatingPcapng, rotation_path};
pub use reader::{
    CaptureBytes, CaptureError, CaptureErrorKind, CaptureFile, MappedFile, OpenError, PacketReader,
    RecordCursor, WindowStep,
};
pub use source::{CaptureInput, DamagedInput, FileSource, FilterFn, InputStarts, ProgressFn};
pub use stream::{CaptureStream, STDIN_NAME, STREAM_BUFFER, STREAM_WAIT};
