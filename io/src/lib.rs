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
//! - Reading streams (standard input, pipes, FIFOs, any `Read`, or a
//!   regular file read once: [`CaptureStream::open_file`]) through a
//!   bounded buffer: [`CaptureStream`], the cursor's [`WindowStep`];
//!   [`MAX_RECORD`], the longest record either reader takes.
//! - Inputs as a pipeline source: [`CaptureInput`] (a file or a stream,
//!   [`CaptureInput::open`] decides, or [`CaptureInput::open_one_pass`]
//!   for one pass on one thread), [`FileSource`], [`DamagedInput`],
//!   [`InputStarts`].
//! - Live capture (feature `live`, libpcap): [`LiveSource`],
//!   [`LiveOptions`], [`CaptureCounters`], [`OfflineFilter`].
//! - EVE output: [`EveRenderer`], [`OutputConfig`], [`EveKey`],
//!   [`EveMessage`], and the JSON writer under it, [`JsonObject`] (member
//!   names as [`Key`]s).
//! - Writing captures: [`PcapWriter`], [`PcapngWriter`], [`RotatingPcapng`].
//! - IPFIX export (RFC 7011, bidirectional records per RFC 5103):
//!   [`IpfixFlow`] from an ended flow whose key is an [`IpfixKey`],
//!   packed into messages by [`IpfixEncoder`] ([`IpfixOptions`]).
//!
//! Reading a capture through the engine, on the caller's thread:
//!
//! ```
//! use flowscope_engine::{Engine, EngineConfig, FiveTuple, FlowEvent, KeyOptions};
//! use flowscope_io::{CaptureBytes, CaptureFile, DEMO_PCAP};
//! use flowscope_shards::InlineRunner;
//!
//! let cfg = EngineConfig::default();
//! let engine = Engine::new(&cfg, FiveTuple::new(KeyOptions::from_config(&cfg)))?;
//! let mut runner = InlineRunner::new(engine, 4096);
//! // Any pcap or pcapng file: `CaptureFile::open(path)`; here the bundled demo.
//! let file = CaptureFile::from_bytes("demo.pcap", CaptureBytes::Static(DEMO_PCAP));
//! let mut flows = 0;
//! let mut report = |ev: &FlowEvent<_>| {
//!     if let FlowEvent::Ended { key, stats, .. } = ev {
//!         println!("{key:?}: {} packets", stats.total_packets());
//!         flows += 1;
//!     }
//! };
//! for packet in file.packets()? {
//!     runner.push(&packet?);
//!     runner.events().for_each(|ev| report(&ev.event));
//! }
//! runner.finish(); // ends every flow still open: read those events too
//! runner.events().for_each(|ev| report(&ev.event));
//! assert_eq!(flows, 11);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same on shard threads, the built-in parsers, your own parsers and
//! live capture: the session API guide (`docs/session-api.md`) and the
//! parser author's guide (`docs/parser-guide.md`), whose examples are
//! doctests of this crate.

#![warn(missing_docs)]

mod demo;
mod eve;
mod ipfix;
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
    EveKey, EveMessage, EveProfile, EveRenderer, FtpDataCounters, FtpDataStage, OutputConfig,
    SCHEMA as EVE_SCHEMA, SCHEMA_VERSION, StrictFilter, direction_name, proto_name,
};
pub use ipfix::{
    IpfixCounters, IpfixEncoder, IpfixEndpoints, IpfixFlow, IpfixKey, IpfixOptions, MAX_MESSAGE,
    MIN_MESSAGE, TEMPLATE_V4, TEMPLATE_V6,
};
pub use json::{JsonObject, Key};
#[cfg(feature = "live")]
pub use live::{
    CaptureCounters, CaptureCounts, CaptureDirection, InterfaceCounts, InterfaceInfo, LiveError,
    LiveOptions, LiveSource, OfflineFilter, TsPrecision, TsSource, WriteThrough,
};
pub use pcap_writer::{PcapPrecision, PcapWriter};
pub use pcapng_writer::{InterfaceDesc, PcapngWriter, RotatingPcapng, rotation_path};
pub use reader::{
    CaptureBytes, CaptureError, CaptureErrorKind, CaptureFile, MAX_RECORD, MappedFile, OpenError,
    PacketReader, RecordCursor, WindowStep,
};
pub use source::{CaptureInput, DamagedInput, FileSource, FilterFn, InputStarts, ProgressFn};
pub use stream::{CaptureStream, STDIN_NAME, STREAM_BUFFER, STREAM_WAIT};

/// The README's and the guides' examples, compiled and run as doctests.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../../README.md")]
    struct Readme;
    #[doc = include_str!("../../docs/session-api.md")]
    struct SessionApi;
    #[doc = include_str!("../../docs/parser-guide.md")]
    struct ParserGuide;
}
