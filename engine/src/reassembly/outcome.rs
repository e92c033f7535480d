//! What reassembly takes and hands back: a [`Segment`] in, the stream as
//! [`Chunk`]s, what one segment did ([`SegmentOutcome`], [`CapHit`]) and
//! the per-direction [`StreamCounters`].

/// A piece of the reassembled stream, in stream order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Bytes, in order.
    Data(&'a [u8]),
    /// This many bytes are missing here and will never be delivered.
    Gap(u64),
}

/// One TCP segment as the reassembler takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    /// Wire sequence number of the first payload byte (of the FIN, for a
    /// FIN without payload).
    pub seq: u32,
    /// Payload bytes.
    pub payload: &'a [u8],
    /// The FIN flag.
    pub fin: bool,
    /// The one's-complement sum of the payload that the segment's TCP
    /// checksum states ([`TcpInfo::payload_sum`](crate::TcpInfo::payload_sum)),
    /// when known: the last segments delivered are remembered by it, which
    /// reads no payload byte; without it, by a digest of their bytes.
    pub payload_sum: Option<u16>,
}

impl<'a> Segment<'a> {
    /// Payload at `seq`, no FIN, no stated sum.
    pub fn data(seq: u32, payload: &'a [u8]) -> Self {
        Segment {
            seq,
            payload,
            fin: false,
            payload_sum: None,
        }
    }
}

/// Per-direction reassembly counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamCounters {
    /// Bytes delivered.
    pub delivered: u64,
    /// Segments that brought no new byte.
    pub retransmits: u64,
    /// Segments held because they arrived ahead of a hole.
    pub out_of_order: u64,
    /// Segments that partly covered bytes already delivered or held.
    pub overlaps: u64,
    /// Overlaps whose covered bytes differed from the first copy.
    pub inconsistent: u64,
    /// Holes given up on.
    pub gaps: u64,
    /// Bytes in those holes (Zeek's `missed_bytes`).
    pub gap_bytes: u64,
    /// Times a cap forced a hole to be given up (or the flow dropped).
    pub cap_hits: u64,
    /// Out-of-order bytes held when work on the stream stopped (no parser
    /// took the flow, its parser failed, or a cap dropped it): thrown away
    /// undelivered, neither delivered nor a gap.
    pub discarded_bytes: u64,
}

/// Why held data could not be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapHit {
    /// `max_ooo_bytes` for this direction.
    SideBytes,
    /// `max_ooo_segments` for this direction.
    SideSegments,
    /// The engine-wide memcap.
    Memcap,
}

impl CapHit {
    /// Stable name.
    pub const fn name(self) -> &'static str {
        match self {
            CapHit::SideBytes => "reassembly.ooo_bytes_cap",
            CapHit::SideSegments => "reassembly.ooo_segments_cap",
            CapHit::Memcap => "reassembly.memcap",
        }
    }
}

/// What one segment did, beyond the bytes it delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SegmentOutcome {
    /// A cap was hit (and handled by the overflow policy).
    pub cap_hit: Option<CapHit>,
    /// The overflow policy is `DropFlow` and a cap was hit: the flow must
    /// end; nothing more was delivered.
    pub drop_flow: bool,
    /// Covered bytes differed from the copy that won.
    pub inconsistent: bool,
}

impl SegmentOutcome {
    pub(super) fn merge(mut self, earlier: SegmentOutcome) -> SegmentOutcome {
        self.cap_hit = self.cap_hit.or(earlier.cap_hit);
        self.inconsistent |= earlier.inconsistent;
        self.drop_flow |= earlier.drop_flow;
        self
    }
}
