//! Where packets come from: the [`PacketSource`] trait the ingest thread
//! reads, the storage packets live in while shards work on them,
//! [`PacketRef`], a packet in that storage named without its bytes, and
//! [`Stretch`]/[`RecordWalk`], a part of a capture in memory that the
//! offline ingest's pool walks record by record on several threads.

use flowscope_engine::{LinkType, RawPacket, Timestamp};
use std::fmt;
use std::sync::Arc;

/// Bytes that packets are slices of, shared with the shard threads: a
/// memory-mapped capture file, say. Shards receive offsets into it, so
/// payload is never copied.
pub type SharedBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// The bytes behind a [`SharedBytes`].
pub fn shared_slice(bytes: &SharedBytes) -> &[u8] {
    (**bytes).as_ref()
}

/// Where a packet's bytes live.
#[derive(Clone, Copy)]
pub enum Storage<'a> {
    /// Inside shared bytes: the ingest passes an offset, not the bytes.
    Shared(&'a SharedBytes),
    /// In a buffer the source reuses (live capture): the ingest copies the
    /// bytes into the batch, which is recycled.
    Transient,
}

impl fmt::Debug for Storage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Storage::Shared(b) => write!(f, "Shared({} bytes)", shared_slice(b).len()),
            Storage::Transient => f.write_str("Transient"),
        }
    }
}

/// One packet from a source.
#[derive(Debug, Clone, Copy)]
pub struct SourcePacket<'a> {
    /// The packet.
    pub raw: RawPacket<'a>,
    /// Where `raw.data` lives.
    pub storage: Storage<'a>,
}

/// A packet in some storage, named without its bytes: its metadata and
/// where its bytes are (`len` bytes at `offset`). Sources keep these to
/// hand a packet out later (a [`MemorySource`]'s index, a paced packet not
/// yet due); the pipeline hands shards these instead of the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketRef {
    /// Capture time.
    pub ts: Timestamp,
    /// Where its bytes start in the storage.
    pub offset: usize,
    /// Captured length (the bytes in the storage).
    pub len: u32,
    /// Length on the wire.
    pub wire_len: u32,
    /// Link-layer type.
    pub linktype: LinkType,
    /// The capture interface.
    pub iface: u32,
}

impl PacketRef {
    /// `raw`, its bytes stored at `offset`.
    #[inline]
    pub fn new(raw: &RawPacket<'_>, offset: usize) -> Self {
        PacketRef {
            ts: raw.ts,
            offset,
            len: raw.data.len() as u32,
            wire_len: raw.wire_len,
            linktype: raw.linktype,
            iface: raw.iface,
        }
    }

    /// `raw`, whose bytes are a slice of `storage`.
    #[inline]
    pub fn within(raw: &RawPacket<'_>, storage: &[u8]) -> Self {
        PacketRef::at(raw, storage.as_ptr() as usize)
    }

    /// `raw`, whose bytes are a slice of a storage that starts at address
    /// `base` (for callers that keep a storage's start rather than look it
    /// up per packet).
    #[inline]
    pub fn at(raw: &RawPacket<'_>, base: usize) -> Self {
        PacketRef::new(raw, raw.data.as_ptr() as usize - base)
    }

    /// The packet, its bytes taken from `storage`; `None` when they are not
    /// all in it.
    #[inline]
    pub fn resolve<'a>(&self, storage: &'a [u8]) -> Option<RawPacket<'a>> {
        let data = storage.get(self.offset..self.offset + self.len as usize)?;
        Some(RawPacket {
            ts: self.ts,
            linktype: self.linktype,
            wire_len: self.wire_len,
            iface: self.iface,
            data,
        })
    }
}

/// What a source reports instead of a packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// Not a failure: a live source had no packet within its poll interval.
    /// Returning it lets the pipeline close epochs on time while the link
    /// is quiet.
    #[error("no packet within the poll interval")]
    Idle,
    /// A problem the source ran into. The source decides whether packets
    /// follow (a damaged file ends, the next file may still be read).
    #[error("{0}")]
    Failed(String),
}

/// A packet source for the pipeline's ingest thread.
pub trait PacketSource: Send {
    /// The next packet, `None` at the end of input.
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>>;

    /// Whether the source is live (packets arrive in real time). Live
    /// input is never blocked on: when shards fall behind, packets are
    /// dropped and counted instead.
    fn is_live(&self) -> bool {
        false
    }

    /// Live sources: the time a packet captured now would carry, in the
    /// capture's clock. While the link is quiet the ingest moves the packet
    /// clock to it at each wall-time epoch, so idle flows still time out on
    /// time. `None` (the default, and every offline source): the clock only
    /// moves with packets.
    fn clock_now(&self) -> Option<Timestamp> {
        None
    }

    /// The input ahead as a [`Stretch`] of capture bytes that the caller
    /// may walk itself, in parts and on several threads, instead of
    /// calling [`next_packet`](Self::next_packet) for each of its packets;
    /// the caller then says with [`walked`](Self::walked) where it stopped.
    /// `None` (the default) when the input must be read packet by packet
    /// (a live or paced source, a stream, a filter, a format whose records
    /// depend on earlier ones).
    fn stretch(&mut self) -> Option<Stretch> {
        None
    }

    /// The caller walked the last [`stretch`](Self::stretch) from its
    /// start to `at`, a record boundary its walk reached, handing out
    /// `packets` packets: reading goes on from `at`.
    fn walked(&mut self, _at: usize, _packets: u64) {}
}

/// Reads records of capture bytes from any record boundary, and guesses
/// boundaries, so that several threads can each walk a part of one
/// capture. A guess is only a guess: whoever walks in parts checks that
/// each part starts where the walk of the part before it ended, and walks
/// a part again from there when it does not, so a wrong guess costs time,
/// never a packet.
pub trait RecordWalk: Send + Sync {
    /// The first offset in `from..to` where a record plausibly starts.
    fn find_start(&self, from: usize, to: usize) -> Option<usize>;

    /// Hands `each` the record starting at `at` and every one after it,
    /// in order, while a record starts before `until`. Returns where it
    /// stopped: the first record start at or after `until`, or the start
    /// of a record it could not read (damage, the end of the bytes), which
    /// the source reports when it reads from there.
    fn walk(&self, at: usize, until: usize, each: &mut dyn FnMut(RawPacket<'_>)) -> usize;
}

/// Capture bytes from `start` (a record boundary) to `end` that the
/// caller of [`PacketSource::stretch`] walks itself.
#[derive(Clone)]
pub struct Stretch {
    /// The bytes, as packets read from them are handed out
    /// ([`Storage::Shared`]).
    pub storage: SharedBytes,
    /// Reads records of the same bytes.
    pub walk: Arc<dyn RecordWalk>,
    /// Where the first record starts.
    pub start: usize,
    /// Where the bytes end.
    pub end: usize,
}

impl fmt::Debug for Stretch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Stretch({}..{})", self.start, self.end)
    }
}

/// A source over packets held in memory (tests, embedding).
#[derive(Clone)]
pub struct MemorySource {
    bytes: SharedBytes,
    packets: Vec<PacketRef>,
    next: usize,
}

impl fmt::Debug for MemorySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemorySource({} packets)", self.packets.len())
    }
}

impl MemorySource {
    /// A source replaying `packets` in order.
    pub fn new<'a>(packets: impl IntoIterator<Item = RawPacket<'a>>) -> Self {
        let mut bytes = Vec::new();
        let mut index = Vec::new();
        for p in packets {
            index.push(PacketRef::new(&p, bytes.len()));
            bytes.extend_from_slice(p.data);
        }
        MemorySource {
            bytes: Arc::new(bytes),
            packets: index,
            next: 0,
        }
    }
}

impl PacketSource for MemorySource {
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        let p = *self.packets.get(self.next)?;
        self.next += 1;
        Some(Ok(SourcePacket {
            raw: p.resolve(shared_slice(&self.bytes))?,
            storage: Storage::Shared(&self.bytes),
        }))
    }
}
