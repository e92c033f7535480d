//! The ingest with a keying pool (`ingest_threads` > 1): the ingest
//! thread walks the source's records into chunks of packet references (a
//! stream's or a live capture's packets copied into the chunk), a rayon
//! pool decodes and hashes whole chunks meanwhile, and the ingest thread
//! dispatches each keyed chunk in read order with [`Ingest::dispatch`] —
//! numbering, fragment reassembly, shard choice, epochs — exactly as the
//! single-threaded ingest does packet by packet. What the pool computes
//! depends only on each packet's bytes, and everything that depends on the
//! order stays on one thread, so the output does not depend on the pool's
//! size or timing.
//!
//! Chunks are a small ring of buffers that go round (ingest thread → pool
//! → back) on two bounded channels, each with its own decoder and
//! extractor; a chunk's copied bytes are lent to the batches that point
//! into them and come back when they are done ([`CopiedBytes`]). Nothing
//! is allocated per packet once running, and per chunk only the handle
//! its copied bytes are shared through.
//!
//! When the source offers the input ahead as a [`Stretch`] of capture
//! bytes (a pcap file read flat out), the ingest thread does not walk its
//! records either: each chunk is a span of the bytes, and the pool thread
//! that takes it finds the first record boundary in it, walks its records
//! and keys them. The ingest thread checks, in read order, that each span's
//! walk started where the walk of the span before it ended; when a guessed
//! boundary was wrong it walks that span again itself from the right one.
//! So the records and their order are the source's, whatever the guesses.

use super::{Ingest, Keying, WallClock, base_of, key, same_storage};
use crate::source::{
    PacketRef, PacketSource, RecordWalk, SharedBytes, SourceError, SourcePacket, Storage, Stretch,
    shared_slice,
};
use crossbeam_channel::{Receiver, Sender, bounded};
use flowscope_engine::unstable::Decoder;
use flowscope_engine::{FlowExtractor, PacketView};
use rayon::ThreadPool;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Packets per chunk: enough that a job's overhead (a few hundred ns) is
/// lost in its work (tens of µs), few enough that the pool starts early.
const CHUNK_PACKETS: usize = 1024;

/// Bytes copied into a chunk (packets of a stream or a live capture, whose
/// buffers the source reuses) before it is handed over, whatever its
/// packet count: a chunk's memory stays bounded with jumbo frames or
/// offloaded segments of 64 KiB.
const CHUNK_COPIED_BYTES: usize = 2 << 20;

/// Chunks beyond one per pool thread: one being dispatched, one being
/// filled, one keyed and waiting.
const SPARE_CHUNKS: usize = 3;

/// Bytes of a stretch per chunk: a few hundred packets of average size
/// (in unit tests a few, so that short traces cross many spans).
pub(in crate::pipeline) const SPAN_BYTES: usize = if cfg!(test) { 4096 } else { 256 * 1024 };

/// The part of a stretch a chunk walks: the records that start in
/// `lo..hi`.
struct Span {
    walk: Arc<dyn RecordWalk>,
    /// Which stretch (the parts of an abandoned one are dropped unseen).
    stretch: u64,
    lo: usize,
    hi: usize,
    /// `lo` is a record boundary (the stretch's start).
    exact: bool,
    /// Where its walk started (`None`: no boundary found) and stopped.
    start: Option<usize>,
    end: usize,
}

/// A stretch being walked in spans.
struct Walking {
    stretch: Stretch,
    id: u64,
    /// Spans are queued up to here.
    queued: usize,
    /// Where the walk has reached in read order, and its packets so far.
    at: usize,
    packets: u64,
}

/// One packet of a chunk.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Its bytes: in the chunk's shared storage, or in its copied bytes.
    packet: PacketRef,
    copied: bool,
    /// Its read time when sampled for latency (0: not sampled).
    read_ns: u64,
    /// Filled in by the pool.
    key: Keying,
}

/// A chunk's copied packets once dispatched: the storage the batches of
/// its packets point into. When the last batch lets go, the buffer goes
/// back to the ingest to be filled again (or is freed when enough are
/// spare), so copied packets are copied once, into the chunk, and no
/// buffer is allocated per chunk once running.
struct CopiedBytes {
    bytes: Vec<u8>,
    home: Sender<Vec<u8>>,
}

impl AsRef<[u8]> for CopiedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for CopiedBytes {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.bytes);
        bytes.clear();
        let _ = self.home.try_send(bytes);
    }
}

/// Buffers for copied packets, back from the batches that shared them.
struct Spares {
    tx: Sender<Vec<u8>>,
    rx: Receiver<Vec<u8>>,
}

impl Spares {
    fn new(most: usize) -> Self {
        let (tx, rx) = bounded(most);
        Spares { tx, rx }
    }

    /// A spare buffer, or a new empty one.
    fn take(&self) -> Vec<u8> {
        self.rx.try_recv().unwrap_or_default()
    }
}

/// Packets read in a row, keyed together.
struct Chunk<E> {
    /// Its place in read order.
    number: usize,
    /// The storage its shared packets are in (one per chunk), and where
    /// its bytes start.
    shared: Option<SharedBytes>,
    base: usize,
    /// Packets from a source's reused buffer (a stream), copied.
    copied: Vec<u8>,
    slots: Vec<Slot>,
    /// Its part of a stretch, when it walks one.
    span: Option<Span>,
    decoder: Decoder,
    extractor: E,
    /// A pool thread panicked keying it (the panic, to resume).
    panic: Option<Box<dyn std::any::Any + Send>>,
}

impl<E: FlowExtractor> Chunk<E> {
    fn new(decoder: Decoder, extractor: E) -> Self {
        Chunk {
            number: 0,
            shared: None,
            base: 0,
            copied: Vec::new(),
            slots: Vec::with_capacity(CHUNK_PACKETS),
            span: None,
            decoder,
            extractor,
            panic: None,
        }
    }

    fn push(&mut self, packet: PacketRef, copied: bool, read_ns: u64) {
        self.slots.push(Slot {
            packet,
            copied,
            read_ns,
            key: Keying::default(),
        });
    }

    /// Starts filling with packets of `storage`.
    fn share(&mut self, storage: SharedBytes) {
        self.base = base_of(&storage);
        self.shared = Some(storage);
    }

    /// Hands its copied bytes over as storage the batches can share (so
    /// the dispatch copies nothing), taking a spare buffer to fill next.
    fn share_copied(&mut self, spares: &Spares) -> Option<SharedBytes> {
        if self.copied.is_empty() {
            return None;
        }
        let fresh = spares.take();
        let bytes = std::mem::replace(&mut self.copied, fresh);
        Some(Arc::new(CopiedBytes {
            bytes,
            home: spares.tx.clone(),
        }))
    }

    /// Walks its span, if any, and keys every packet, keeping a panic to
    /// resume on the ingest thread.
    fn work_guarded(&mut self) {
        self.panic = catch_unwind(AssertUnwindSafe(|| {
            self.walk_span();
            self.key_all();
        }))
        .err();
    }

    /// Reads the records of its span: from its start when that is known
    /// to be a boundary, else from the first boundary guessed in it.
    fn walk_span(&mut self) {
        let Chunk {
            span: Some(span),
            slots,
            base,
            ..
        } = self
        else {
            return;
        };
        let base = *base;
        span.start = if span.exact {
            Some(span.lo)
        } else {
            span.walk.find_start(span.lo, span.hi)
        };
        span.end = match span.start {
            Some(at) => span.walk.walk(at, span.hi, &mut |raw| {
                slots.push(Slot {
                    packet: PacketRef::at(&raw, base),
                    copied: false,
                    read_ns: 0,
                    key: Keying::default(),
                });
            }),
            None => span.lo,
        };
    }

    /// Walks its span again from `at`, the boundary the walk of the span
    /// before it reached, and keys it (its guess was wrong).
    fn walk_from(&mut self, at: usize) {
        self.slots.clear();
        if let Some(span) = &mut self.span {
            span.lo = at;
            span.exact = true;
        }
        self.walk_span();
        self.key_all();
    }

    /// Decodes and hashes every packet.
    fn key_all(&mut self) {
        let Chunk {
            shared,
            copied,
            slots,
            decoder,
            extractor,
            ..
        } = self;
        let shared = shared.as_ref().map_or(&[][..], shared_slice);
        for s in slots.iter_mut() {
            let bytes = if s.copied { &copied[..] } else { shared };
            if let Some(raw) = s.packet.resolve(bytes) {
                let mut view = PacketView::empty(&raw);
                s.key = key(decoder, extractor, &raw, &mut view);
            }
        }
    }

    fn clear(&mut self) {
        self.shared = None;
        self.base = 0;
        self.copied.clear();
        self.slots.clear();
        self.span = None;
    }
}

/// Reads the source into chunks.
#[derive(Default)]
struct Walker {
    /// The input ended, or the stop flag was set.
    done: bool,
    /// A packet read from another storage than its chunk's: the next
    /// chunk's first.
    carry: Option<(SharedBytes, PacketRef, u64)>,
    /// Seq of the next packet read (the dispatch gives the same).
    next_seq: u64,
    /// A stretch's walk just ended: the next chunk is read packet by packet
    /// (so damage where a walk stopped is read, and reported, by the
    /// source).
    after_stretch: bool,
    /// Live input's wall clock. When an epoch is due a chunk is handed
    /// over, however full, and nothing more is read until everything read
    /// before is dispatched and the epoch closed.
    wall: Option<WallClock>,
}

impl Walker {
    fn has_more(&self) -> bool {
        !self.done || self.carry.is_some()
    }

    /// Fills `c` until it is full (packets, or bytes copied), the input
    /// ends, the stop flag is set, the storage changes, a stream has
    /// nothing to give right now (so what was read is not held back), or
    /// live input's next epoch is due.
    fn fill<Src: PacketSource, E: FlowExtractor>(
        &mut self,
        source: &mut Src,
        c: &mut Chunk<E>,
        ingest: &mut Ingest<E>,
    ) {
        self.after_stretch = false;
        if let Some((bytes, packet, read_ns)) = self.carry.take() {
            c.share(bytes);
            c.push(packet, false, read_ns);
        }
        while !self.done && c.slots.len() < CHUNK_PACKETS && c.copied.len() < CHUNK_COPIED_BYTES {
            if ingest.stopping() {
                self.done = true;
                break;
            }
            // What was read goes now; an empty chunk reads one packet
            // first, so even an epoch due all the time (an interval of 0)
            // lets the input move on.
            if let Some(w) = &mut self.wall {
                w.now();
                if w.due() && !c.slots.is_empty() {
                    break;
                }
            }
            let pkt = match source.next_packet() {
                None => {
                    self.done = true;
                    break;
                }
                Some(Err(SourceError::Idle)) => {
                    if let Some(w) = &mut self.wall {
                        ingest.report.idle += w.quiet();
                    }
                    break;
                }
                Some(Err(e)) => {
                    ingest.source_error(e);
                    continue;
                }
                Some(Ok(p)) => p,
            };
            if let Some(w) = &mut self.wall {
                w.packet();
            }
            let read_ns = ingest.read_time(self.next_seq);
            self.next_seq += 1;
            match pkt.storage {
                Storage::Shared(bytes) => {
                    match &c.shared {
                        None => c.share(bytes.clone()),
                        Some(s) if same_storage(s, bytes) => {}
                        Some(_) => {
                            let packet = PacketRef::within(&pkt.raw, shared_slice(bytes));
                            self.carry = Some((bytes.clone(), packet, read_ns));
                            break;
                        }
                    }
                    // In the chunk's storage, which starts at `base`.
                    c.push(PacketRef::at(&pkt.raw, c.base), false, read_ns);
                }
                Storage::Transient => {
                    let packet = PacketRef::new(&pkt.raw, c.copied.len());
                    c.copied.extend_from_slice(pkt.raw.data);
                    c.push(packet, true, read_ns);
                }
            }
        }
    }
}

/// Runs the input through `pool` and dispatches it in order.
///
/// Each pool thread takes filled chunks from a queue, keys them and sends
/// them back. When the chunk whose turn it is is still queued (no pool
/// thread has started it), the ingest thread keys it itself rather than
/// wait, so a pool that gets no CPU (a busy machine) does not stall the
/// input.
///
/// Live input closes an epoch every `epoch_interval` of wall time, as with
/// one ingest thread: when one is due, reading stops, the chunks read
/// are keyed and dispatched, and the epoch closes after the last packet
/// read, so its timers see every packet read before them.
pub(super) fn pooled<Src: PacketSource, E: FlowExtractor + Clone>(
    source: &mut Src,
    ingest: &mut Ingest<E>,
    pool: &ThreadPool,
    epoch_interval: Duration,
) {
    let threads = pool.current_num_threads();
    ingest.report.pool_threads = threads;
    let ring = threads + SPARE_CHUNKS;
    let mut free: Vec<Chunk<E>> = (0..ring)
        .map(|_| Chunk::new(ingest.ctx.decoder.clone(), ingest.ctx.extractor.clone()))
        .collect();
    // Keyed chunks by number modulo the ring, until their turn.
    let mut keyed: Vec<Option<Chunk<E>>> = (0..ring).map(|_| None).collect();
    // Each holds every chunk at once at most: sending never waits.
    let spares = Spares::new(ring);
    let (todo_tx, todo_rx) = bounded::<Chunk<E>>(ring);
    let (done_tx, done_rx) = bounded::<Chunk<E>>(ring);
    for _ in 0..threads {
        let (todo, done) = (todo_rx.clone(), done_tx.clone());
        // Ends when the queue closes (the input is done, or the ingest
        // thread is unwinding and wants nothing back).
        pool.spawn(move || {
            for mut c in todo {
                c.work_guarded();
                if done.send(c).is_err() {
                    break;
                }
            }
        });
    }
    drop(done_tx);
    let mut walker = Walker {
        wall: source.is_live().then(|| WallClock::new(epoch_interval)),
        ..Walker::default()
    };
    let mut walking: Option<Walking> = None;
    let mut stretches = 0u64;
    // Chunks handed to the pool, and dispatched.
    let (mut handed, mut dispatched) = (0usize, 0usize);
    loop {
        // Live input: an epoch due waits for every chunk read to be
        // dispatched, then closes (not once a stop is asked for: the input
        // ends instead).
        let mut epoch_due = match &mut walker.wall {
            Some(w) if !ingest.stopping() => {
                w.now();
                if w.due() && dispatched == handed {
                    w.closed();
                    ingest.close_wall_epoch(source);
                    false
                } else {
                    w.due()
                }
            }
            _ => false,
        };
        // Keep the pool busy: fill every free buffer and queue it.
        while walker.has_more() && !epoch_due {
            let c = if let Some(w) = &mut walking {
                // A stretch's spans, and nothing after them until its walk
                // is done (where it ends is known only then).
                if w.queued >= w.stretch.end {
                    break;
                }
                let Some(mut c) = free.pop() else { break };
                let hi = w.queued.saturating_add(SPAN_BYTES).min(w.stretch.end);
                c.share(w.stretch.storage.clone());
                c.span = Some(Span {
                    walk: w.stretch.walk.clone(),
                    stretch: w.id,
                    lo: w.queued,
                    hi,
                    exact: w.queued == w.stretch.start,
                    start: None,
                    end: w.queued,
                });
                w.queued = hi;
                c
            } else {
                if walker.carry.is_none()
                    && !walker.after_stretch
                    && !ingest.stopping()
                    && let Some(stretch) = source.stretch()
                {
                    stretches += 1;
                    walking = Some(Walking {
                        id: stretches,
                        queued: stretch.start,
                        at: stretch.start,
                        packets: 0,
                        stretch,
                    });
                    continue;
                }
                let Some(mut c) = free.pop() else { break };
                walker.fill(source, &mut c, ingest);
                if c.slots.is_empty() {
                    free.push(c);
                    break;
                }
                c
            };
            let mut c = c;
            c.number = handed;
            handed += 1;
            if let Err(e) = todo_tx.try_send(c) {
                // Cannot happen (the queue has room for every chunk);
                // keyed here, the chunk is not lost.
                let mut c = e.into_inner();
                c.work_guarded();
                let at = c.number % ring;
                keyed[at] = Some(c);
            }
            // The chunk that found an epoch due is its epoch's last.
            epoch_due = walker.wall.as_ref().is_some_and(WallClock::due);
        }
        if dispatched == handed {
            if walker.has_more() || epoch_due {
                continue;
            }
            break;
        }
        // The next chunk in read order, once keyed.
        let at = dispatched % ring;
        while keyed[at].is_none() {
            // Chunks leave the queue in order, so the oldest still queued
            // is number `handed - len`: when that is the one whose turn it
            // is, no pool thread has started it, and this thread keys it
            // (should a pool thread take it meanwhile, the next one comes
            // out, which is as good). While a stretch is walked in spans
            // this thread only checks and dispatches, so it also takes a
            // later span when the pool is behind (a queued chunk for every
            // pool thread) instead of waiting.
            let queued = todo_rx.len();
            let unstarted = handed - queued == dispatched;
            let behind = walking.is_some() && queued >= threads;
            let stolen = if unstarted || behind {
                todo_rx.try_recv().ok()
            } else {
                None
            };
            let c = match stolen {
                Some(mut c) => {
                    c.work_guarded();
                    c
                }
                None => {
                    let t = Instant::now();
                    let got = done_rx.recv();
                    ingest.report.pool_wait += t.elapsed();
                    // Only fails if every pool thread is gone, which the
                    // open queue rules out.
                    let Ok(c) = got else { return };
                    c
                }
            };
            let slot = c.number % ring;
            keyed[slot] = Some(c);
        }
        let Some(mut c) = keyed[at].take() else {
            return;
        };
        if let Some(panic) = c.panic.take() {
            std::panic::resume_unwind(panic);
        }
        let closed = if c.span.is_some() {
            // Only offline input offers stretches: no wall-time epochs.
            walk_in_order(source, ingest, &mut walker, &mut walking, &mut c, &spares);
            false
        } else {
            dispatch_all(ingest, &mut c, &spares)
        };
        // An epoch closed by packet count restarts the wall-time one, as
        // with one ingest thread.
        if closed && let Some(w) = &mut walker.wall {
            w.closed();
        }
        c.clear();
        free.push(c);
        dispatched += 1;
    }
}

/// Dispatches a chunk's packets in order; whether an epoch closed. Its
/// copied packets go out as shared storage ([`CopiedBytes`]).
fn dispatch_all<E: FlowExtractor>(
    ingest: &mut Ingest<E>,
    c: &mut Chunk<E>,
    spares: &Spares,
) -> bool {
    let copied = c.share_copied(spares);
    let shared = c.shared.as_ref().map(|s| (s, shared_slice(s)));
    let copied = copied.as_ref().map(|s| (s, shared_slice(s)));
    let mut closed = false;
    for s in &c.slots {
        let Some((storage, bytes)) = (if s.copied { copied } else { shared }) else {
            continue;
        };
        if let Some(raw) = s.packet.resolve(bytes) {
            let pkt = SourcePacket {
                raw,
                storage: Storage::Shared(storage),
            };
            closed |= ingest.dispatch(&pkt, s.key, None, s.read_ns);
        }
    }
    closed
}

/// A span whose turn it is: checked to start where the walk reached (else
/// walked again from there), dispatched, and the stretch handed back to
/// the source when its walk ends (the end of its bytes, damage, a stop).
/// The spans of an abandoned stretch are dropped.
fn walk_in_order<Src: PacketSource, E: FlowExtractor>(
    source: &mut Src,
    ingest: &mut Ingest<E>,
    walker: &mut Walker,
    walking: &mut Option<Walking>,
    c: &mut Chunk<E>,
    spares: &Spares,
) {
    let (Some(w), Some(span)) = (walking.as_mut(), c.span.as_ref()) else {
        return;
    };
    if span.stretch != w.id {
        return;
    }
    let done = if ingest.stopping() {
        true
    } else {
        if span.start != Some(w.at) {
            c.walk_from(w.at);
            ingest.report.spans_rewalked += 1;
        }
        ingest.report.walked_packets += c.slots.len() as u64;
        for s in &mut c.slots {
            s.read_ns = ingest.read_time(walker.next_seq);
            walker.next_seq += 1;
        }
        dispatch_all(ingest, c, spares);
        let Some(span) = &c.span else { return };
        w.packets += c.slots.len() as u64;
        w.at = span.end;
        span.end < span.hi || span.hi >= w.stretch.end
    };
    if done {
        source.walked(w.at, w.packets);
        *walking = None;
        walker.after_stretch = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copied_bytes_go_back_to_the_spares_when_the_last_batch_lets_go() {
        let spares = Spares::new(2);
        let mut buf = spares.take();
        assert_eq!(buf.capacity(), 0, "none spare yet: a new buffer");
        buf.extend_from_slice(b"\x45\x00\x00\x14packet");
        let cap = buf.capacity();
        let shared: SharedBytes = Arc::new(CopiedBytes {
            bytes: buf,
            home: spares.tx.clone(),
        });
        let batch = shared.clone();
        assert_eq!(shared_slice(&batch), b"\x45\x00\x00\x14packet");
        drop(shared);
        assert!(spares.rx.is_empty(), "a batch still points into it");
        drop(batch);
        let back = spares.take();
        assert_eq!(
            (back.len(), back.capacity()),
            (0, cap),
            "emptied, room kept"
        );
        // More than the spares hold are freed, not queued.
        for _ in 0..3 {
            drop(CopiedBytes {
                bytes: vec![0; 8],
                home: spares.tx.clone(),
            });
        }
        assert_eq!(spares.rx.len(), 2);
    }
}
