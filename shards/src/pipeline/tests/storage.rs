//! Where packet bytes live: copied from a source's reused buffer, or
//! referenced in shared storage without mixing two storages in a batch;
//! and the handle that carries them stays within a cache line.

use super::*;
use crate::pipeline::messages::Handle;

/// A source whose packets live in a buffer it overwrites: the ingest must
/// copy them.
pub(super) struct TransientSource {
    packets: Vec<(Timestamp, Vec<u8>)>,
    next: usize,
    buf: Vec<u8>,
}

impl TransientSource {
    /// `packets`, each handed out from one buffer the next read reuses.
    pub(super) fn new(packets: &[(Timestamp, Vec<u8>)]) -> Self {
        TransientSource {
            packets: packets.to_vec(),
            next: 0,
            buf: Vec::new(),
        }
    }
}

impl PacketSource for TransientSource {
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        let (ts, data) = self.packets.get(self.next)?;
        self.next += 1;
        self.buf.clear();
        self.buf.extend_from_slice(data);
        Some(Ok(SourcePacket {
            raw: RawPacket {
                ts: *ts,
                linktype: LinkType::RAW,
                wire_len: data.len() as u32,
                iface: 0,
                data: &self.buf,
            },
            storage: Storage::Transient,
        }))
    }
}

#[test]
fn transient_packets_are_copied() {
    let packets = busy_trace();
    let want = inline(&packets, 4096);
    let src = TransientSource::new(&packets);
    assert_eq!(render(&drain(src, 3)), render(&want));
}

/// Two shared buffers, alternating every few packets (a multi-file input).
pub(super) struct TwoBuffers {
    pub(super) a: MemorySource,
    pub(super) b: MemorySource,
    pub(super) n: usize,
}

impl PacketSource for TwoBuffers {
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        self.n += 1;
        if (self.n / 5).is_multiple_of(2) {
            self.a.next_packet().or_else(|| self.b.next_packet())
        } else {
            self.b.next_packet().or_else(|| self.a.next_packet())
        }
    }
}

#[test]
fn batches_never_mix_storages() {
    let packets = busy_trace();
    let (first, second) = packets.split_at(packets.len() / 2);
    // The order the two-buffer source yields, for the oracle.
    let mut src = TwoBuffers {
        a: MemorySource::new(raws(first)),
        b: MemorySource::new(raws(second)),
        n: 0,
    };
    let mut order = Vec::new();
    while let Some(Ok(p)) = src.next_packet() {
        order.push((p.raw.ts, p.raw.data.to_vec()));
    }
    let want = inline(&order, 4096);
    let src = TwoBuffers {
        a: MemorySource::new(raws(first)),
        b: MemorySource::new(raws(second)),
        n: 0,
    };
    assert_eq!(render(&drain(src, 2)), render(&want));
}

#[test]
fn a_handle_stays_in_one_cache_line() {
    assert!(size_of::<Handle>() <= 64, "{}", size_of::<Handle>());
}
