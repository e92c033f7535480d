//! flowscope-shards: the packet pipeline around [`flowscope_engine::Engine`].
//!
//! This crate owns the ingest protocol every run follows, whatever its
//! thread count: packets are numbered in read order (`seq`), stamped with
//! the packet clock (the largest timestamp read so far), and every
//! `epoch_packets` packets an epoch boundary fires the engine's timers at
//! that clock. Because boundaries depend only on the input, the event order
//! does too.
//!
//! [`InlineRunner`] runs one engine on the caller's thread (the `shards = 0`
//! path: embedding, tests, and the reference every sharded run must match).
//! [`Pipeline`] runs the same protocol on an ingest thread, N shard threads
//! and a merger thread, and delivers the same events in the same order.
//!
//! ```
//! use flowscope_engine::{Engine, EngineConfig, FiveTuple, KeyOptions, LinkType, RawPacket, Timestamp};
//! use flowscope_shards::{InlineRunner, MemorySource, Pipeline};
//!
//! // Two raw IPv4 UDP packets, a query and its answer (no link header).
//! let udp = |src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16| {
//!     let mut p = vec![0x45, 0, 0, 32, 0, 0, 0x40, 0, 64, 17, 0, 0];
//!     p.extend_from_slice(&src);
//!     p.extend_from_slice(&dst);
//!     p.extend_from_slice(&sport.to_be_bytes());
//!     p.extend_from_slice(&dport.to_be_bytes());
//!     p.extend_from_slice(&[0, 12, 0, 0, b'p', b'i', b'n', b'g']);
//!     p
//! };
//! let frames = [
//!     (Timestamp::new(1, 0), udp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 7)),
//!     (Timestamp::new(1, 500), udp([10, 0, 0, 2], [10, 0, 0, 1], 7, 40000)),
//! ];
//! fn raw((ts, data): &(Timestamp, Vec<u8>)) -> RawPacket<'_> {
//!     RawPacket { ts: *ts, linktype: LinkType::RAW, wire_len: data.len() as u32, iface: 0, data }
//! }
//! let cfg = EngineConfig::default();
//! let extractor = || FiveTuple::new(KeyOptions::from_config(&cfg));
//!
//! // The same events, in the same order, from four shards...
//! let source = MemorySource::new(frames.iter().map(raw));
//! let pipeline = Pipeline::builder(cfg.clone(), extractor()).shards(4).build(source)?;
//! let sharded: Vec<String> = pipeline.receiver().iter().map(|o| format!("{:?}", o.event)).collect();
//! pipeline.join()?;
//! // ...as from one engine on this thread.
//! let mut runner = InlineRunner::new(Engine::new(&cfg, extractor())?, 64);
//! let mut inline = Vec::new();
//! for frame in &frames {
//!     runner.push(&raw(frame));
//!     inline.extend(runner.events().map(|o| format!("{:?}", o.event)));
//! }
//! runner.finish(); // ends the flow still open: read what it flushes too
//! inline.extend(runner.events().map(|o| format!("{:?}", o.event)));
//! assert_eq!(sharded, inline);
//! assert!(inline.iter().any(|e| e.starts_with("Ended")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What the crate offers
//!
//! Every public item is re-exported here, at one path each (the modules
//! are private):
//!
//! - Running: [`InlineRunner`]; [`Pipeline`], started by a
//!   [`PipelineBuilder`] with a [`PipelineConfig`] (options; with the
//!   `serde` feature, the `[pipeline]` table of a configuration file),
//!   [`Backpressure`], [`default_shards`], [`MAX_SHARDS`] and
//!   [`DEFAULT_EPOCH_PACKETS`].
//! - Output: an [`EventSink`] maps the engines' events on the shard
//!   threads, writing the bytes it makes (rendered records) into its
//!   shard's buffer; [`Events`] and [`SessionEvents`] are the built-in
//!   ones.
//! - Input: a [`PacketSource`] yields [`SourcePacket`]s whose bytes live in
//!   a [`Storage`] ([`SharedBytes`], read with [`shared_slice`]) or fails
//!   with a [`SourceError`]; [`PacketRef`] names a packet in its storage
//!   without its bytes; [`MemorySource`] replays packets held in memory;
//!   [`Pacer`] offers them at a [`Pace`], each [`Gate`] saying when.
//! - Numbering: [`Sequencer`] gives each packet its [`Stamp`] (seq and
//!   packet clock) and closes epochs.
//! - Figures: [`PipelineStats`] while it runs; [`PipelineReport`] with
//!   [`IngestReport`], [`ShardReport`] and [`MergerReport`] when it is done,
//!   or a [`PipelineError`]; [`LatencyReport`] and [`Percentiles`] when
//!   latency is recorded (for packets [`is_sampled`]).
//! - [`prefetch`]: the cache hint readers use ahead of decoding.

#![warn(missing_docs)]

mod latency;
mod pace;
mod pipeline;
mod sequencer;
mod source;

// Running the pipeline.
pub use pipeline::{
    Backpressure, MAX_SHARDS, Pipeline, PipelineBuilder, PipelineConfig, default_shards,
};
// What it delivers.
pub use pipeline::{EventSink, Events, SessionEvents};
// Where packets come from.
pub use pace::{Gate, Pace, Pacer};
pub use source::{
    MemorySource, PacketRef, PacketSource, RecordWalk, SharedBytes, SourceError, SourcePacket,
    Storage, Stretch, shared_slice,
};
// Packet numbering and epochs.
pub use sequencer::{Sequencer, Stamp};
// What a run reports.
pub use latency::{LatencyReport, Percentiles, is_sampled};
pub use pipeline::{
    IngestReport, MergerReport, PipelineError, PipelineReport, PipelineStats, ShardReport,
};

use flowscope_engine::{Engine, EventBuf, FlowExtractor, FlowHook, NoHook, RawPacket};

/// Hints the CPU to start loading the cache line at the start of `bytes`
/// (a packet a few records ahead), so decoding does not wait on memory.
#[inline(always)]
pub fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if !bytes.is_empty() {
        // SAFETY: `_mm_prefetch` is a hint that never faults or reads into
        // the program; the pointer is in bounds of a live slice anyway.
        #[allow(unsafe_code)]
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                bytes.as_ptr().cast(),
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// How many packets ahead a shard prefetches ([`prefetch_packet`]).
pub const PREFETCH_AHEAD: usize = 4;
/// How much of a packet a shard prefetches: every cache line of it up to
/// this many bytes, payload included (the reassembler and parsers read it
/// all, and the ingest, on another core, touched only the headers).
pub const PREFETCH_BYTES: usize = 2048;

/// Prefetches the packet of `len` bytes at the start of `bytes`: every
/// cache line of it up to [`PREFETCH_BYTES`], what a shard does
/// [`PREFETCH_AHEAD`] packets before it processes one.
pub fn prefetch_packet(bytes: &[u8], len: usize) {
    let len = len.min(bytes.len()).min(PREFETCH_BYTES);
    for line in (0..len).step_by(64) {
        prefetch(&bytes[line..]);
    }
}

/// Default packets per epoch: timers fire this often (in packets).
pub const DEFAULT_EPOCH_PACKETS: u64 = 4096;

/// Flows ended per step of a timer batch and of the end-of-input flush (by
/// the shards, by [`InlineRunner`], and by [`InlineRunner::finish_some`]'s
/// callers): a full table is expired or flushed, and its records rendered
/// and written, this many flows at a time.
pub const FLUSH_STEP_FLOWS: usize = 4096;

/// One engine driven on the caller's thread.
#[derive(Debug)]
pub struct InlineRunner<E: FlowExtractor, H: FlowHook<E::Key> = NoHook> {
    engine: Engine<E, H>,
    sequencer: Sequencer,
    out: EventBuf<E::Key, H::Message>,
    finished: bool,
    /// The boundary of a timer batch under way.
    expiring: Option<Stamp>,
}

impl<E: FlowExtractor, H: FlowHook<E::Key>> InlineRunner<E, H> {
    /// Drives `engine`, firing timers every `epoch_packets` packets.
    pub fn new(engine: Engine<E, H>, epoch_packets: u64) -> Self {
        InlineRunner {
            engine,
            sequencer: Sequencer::new(epoch_packets),
            out: Vec::new(),
            finished: false,
            expiring: None,
        }
    }

    /// Processes the next packet; its events (and those of an epoch boundary
    /// it closes, up to [`FLUSH_STEP_FLOWS`] flows' ends: see
    /// [`InlineRunner::timers_pending`]) become available through
    /// [`InlineRunner::events`].
    pub fn push(&mut self, raw: &RawPacket<'_>) {
        let stamp = self.sequencer.stamp(raw.ts);
        // The engine completes a batch under way before the packet.
        self.expiring = None;
        self.engine
            .process(stamp.seq, stamp.now, raw, &mut self.out);
        if let Some(boundary) = self.sequencer.close_epoch_if_due() {
            self.expiring = Some(boundary);
            self.step_timers();
        }
    }

    /// Whether the timer batch of the last boundary has more flows to end
    /// (after a gap in the capture's time, the whole table may be due):
    /// take the events, then call [`InlineRunner::step_timers`] until it is
    /// false, so the batch's records are never all held at once. Pushing a
    /// packet instead completes the batch at once.
    pub fn timers_pending(&self) -> bool {
        self.expiring.is_some()
    }

    /// The next step of the timer batch under way: at most
    /// [`FLUSH_STEP_FLOWS`] more flows ended.
    pub fn step_timers(&mut self) {
        if let Some(b) = self.expiring
            && self
                .engine
                .advance_some(b.now, b.seq, FLUSH_STEP_FLOWS, &mut self.out)
        {
            self.expiring = None;
        }
    }

    /// End of input: fires due timers and flushes every open flow. Calling
    /// it again does nothing.
    pub fn finish(&mut self) {
        while !self.finish_some(usize::MAX) {}
    }

    /// One step of [`InlineRunner::finish`], ending at most `max_flows`
    /// open flows: take its events, then call it again until it returns
    /// true, so a full table's records are never all held at once.
    pub fn finish_some(&mut self, max_flows: usize) -> bool {
        if self.finished {
            return true;
        }
        let last = self.sequencer.last_seq().unwrap_or(0);
        let now = self.sequencer.clock();
        // The engine completes a timer batch under way first.
        self.expiring = None;
        self.finished = self.engine.finish_some(now, last, max_flows, &mut self.out);
        self.finished
    }

    /// [`InlineRunner::finish`] in steps of [`FLUSH_STEP_FLOWS`] flows,
    /// handing each event to `each` as its step produces it (after the
    /// events not yet taken). `each` returns `Ok(false)` to stop taking
    /// events (the flush still completes); an error stops at once.
    pub fn finish_each<Er>(
        &mut self,
        mut each: impl FnMut(
            flowscope_engine::Ordered<flowscope_engine::FlowEvent<E::Key, H::Message>>,
        ) -> Result<bool, Er>,
    ) -> Result<(), Er> {
        let mut taking = true;
        loop {
            let done = self.finish_some(FLUSH_STEP_FLOWS);
            for ev in self.out.drain(..) {
                if taking {
                    taking = each(ev)?;
                }
            }
            if done {
                return Ok(());
            }
        }
    }

    /// Takes the events produced so far, in output order.
    pub fn events(
        &mut self,
    ) -> std::vec::Drain<
        '_,
        flowscope_engine::Ordered<flowscope_engine::FlowEvent<E::Key, H::Message>>,
    > {
        self.out.drain(..)
    }

    /// The engine (for its counters).
    pub fn engine(&self) -> &Engine<E, H> {
        &self.engine
    }

    /// Packets pushed so far.
    pub fn packets(&self) -> u64 {
        self.sequencer.next_seq()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowscope_engine::{EngineConfig, FiveTuple, FlowEvent, KeyOptions, LinkType, Timestamp};

    fn udp(i: u8) -> Vec<u8> {
        // Raw IPv4/UDP 10.0.0.i:1000 -> 10.0.0.100:53, 4 payload bytes.
        let mut p = vec![
            0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, i, 10, 0, 0, 100, 0x03, 0xe8, 0,
            53, 0, 12, 0, 0, b'a', b'b', b'c', b'd',
        ];
        p.truncate(32);
        p
    }

    #[test]
    fn epochs_fire_timers_and_finish_flushes() {
        let cfg = EngineConfig::default();
        let engine = Engine::new(&cfg, FiveTuple::new(KeyOptions::from_config(&cfg))).unwrap();
        let mut r = InlineRunner::new(engine, 2);
        let mut ended = Vec::new();
        for (i, t) in [(1u8, 0u64), (2, 1), (3, 200)] {
            let data = udp(i);
            let raw = RawPacket {
                ts: Timestamp::new(t, 0),
                linktype: LinkType::RAW,
                wire_len: 32,
                iface: 0,
                data: &data,
            };
            r.push(&raw);
            for ev in r.events() {
                if let FlowEvent::Ended { reason, .. } = ev.event {
                    ended.push((ev.seq, reason.as_str()));
                }
            }
        }
        // The 2nd packet closed an epoch at t=1: nothing due. The 3rd packet
        // (t=200) did not close one, so flows 1 and 2 end at finish's timer
        // pass, then flow 3 at the flush.
        r.finish();
        r.finish();
        for ev in r.events() {
            if let FlowEvent::Ended { reason, .. } = ev.event {
                ended.push((ev.seq, reason.as_str()));
            }
        }
        assert_eq!(
            ended,
            vec![(2, "idle_timeout"), (2, "idle_timeout"), (2, "shutdown")]
        );
        assert_eq!(r.packets(), 3);
    }
}
