//! Where packets come from: the [`PacketSource`] trait the ingest thread
//! reads, and the storage packets live in while shards work on them.

use flowscope_engine::RawPacket;
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
    fn clock_now(&self) -> Option<flowscope_engine::Timestamp> {
        None
    }
}

/// A source over packets held in memory (tests, embedding).
#[derive(Clone)]
pub struct MemorySource {
    bytes: SharedBytes,
    packets: Vec<Indexed>,
    next: usize,
}

/// A packet of a [`MemorySource`]: its metadata and where its bytes are.
#[derive(Debug, Clone, Copy)]
struct Indexed {
    ts: flowscope_engine::Timestamp,
    linktype: flowscope_engine::LinkType,
    wire_len: u32,
    iface: u32,
    offset: usize,
    len: usize,
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
            index.push(Indexed {
                ts: p.ts,
                linktype: p.linktype,
                wire_len: p.wire_len,
                iface: p.iface,
                offset: bytes.len(),
                len: p.data.len(),
            });
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
        let data = &shared_slice(&self.bytes)[p.offset..p.offset + p.len];
        Some(Ok(SourcePacket {
            raw: RawPacket {
                ts: p.ts,
                linktype: p.linktype,
                wire_len: p.wire_len,
                iface: p.iface,
                data,
            },
            storage: Storage::Shared(&self.bytes),
        }))
    }
}
