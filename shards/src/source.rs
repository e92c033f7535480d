//! Where packets come from: the [`PacketSource`] trait the ingest thread
//! reads, the storage packets live in while shards work on them, and
//! [`PacketRef`], a packet in that storage named without its bytes.

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
