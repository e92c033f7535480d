//! The offline ingest with a keying pool (`ingest_threads` > 1): the
//! ingest thread walks the source's records into chunks of packet
//! references, a rayon pool decodes and hashes whole chunks meanwhile, and
//! the ingest thread dispatches each keyed chunk in read order with
//! [`Ingest::dispatch`] — numbering, fragment reassembly, shard choice,
//! epochs — exactly as the single-threaded ingest does packet by packet.
//! What the pool computes depends only on each packet's bytes, and
//! everything that depends on the order stays on one thread, so the output
//! does not depend on the pool's size or timing.
//!
//! Chunks are a small ring of buffers that go round (ingest thread → pool
//! → back) on two bounded channels, each with its own decoder and
//! extractor: nothing is allocated per packet or per chunk once running.

use super::{Ingest, Keying, base_of, key, same_storage};
use crate::source::{
    PacketRef, PacketSource, SharedBytes, SourceError, SourcePacket, Storage, shared_slice,
};
use crossbeam_channel::bounded;
use flowscope_engine::unstable::Decoder;
use flowscope_engine::{FlowExtractor, PacketView};
use rayon::ThreadPool;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

/// Packets per chunk: enough that a job's overhead (a few hundred ns) is
/// lost in its work (tens of µs), few enough that the pool starts early.
const CHUNK_PACKETS: usize = 1024;

/// Chunks beyond one per pool thread: one being dispatched, one being
/// filled, one keyed and waiting.
const SPARE_CHUNKS: usize = 3;

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

    /// Slot `s`'s packet as the source handed it out, given the chunk's
    /// shared storage and its bytes.
    fn packet<'a>(
        &'a self,
        s: &Slot,
        shared: Option<(&'a SharedBytes, &'a [u8])>,
    ) -> Option<SourcePacket<'a>> {
        if s.copied {
            Some(SourcePacket {
                raw: s.packet.resolve(&self.copied)?,
                storage: Storage::Transient,
            })
        } else {
            let (storage, bytes) = shared?;
            Some(SourcePacket {
                raw: s.packet.resolve(bytes)?,
                storage: Storage::Shared(storage),
            })
        }
    }

    /// Keys every packet, keeping a panic to resume on the ingest thread.
    fn key_guarded(&mut self) {
        self.panic = catch_unwind(AssertUnwindSafe(|| self.key_all())).err();
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
}

impl Walker {
    fn has_more(&self) -> bool {
        !self.done || self.carry.is_some()
    }

    /// Fills `c` until it is full, the input ends, the stop flag is set,
    /// the storage changes, or a stream has nothing to give right now (so
    /// what was read is not held back).
    fn fill<Src: PacketSource, E: FlowExtractor>(
        &mut self,
        source: &mut Src,
        c: &mut Chunk<E>,
        ingest: &mut Ingest<E>,
    ) {
        if let Some((bytes, packet, read_ns)) = self.carry.take() {
            c.share(bytes);
            c.push(packet, false, read_ns);
        }
        while !self.done && c.slots.len() < CHUNK_PACKETS {
            if ingest.stopping() {
                self.done = true;
                break;
            }
            let pkt = match source.next_packet() {
                None => {
                    self.done = true;
                    break;
                }
                Some(Err(SourceError::Idle)) => break,
                Some(Err(e)) => {
                    ingest.source_error(e);
                    continue;
                }
                Some(Ok(p)) => p,
            };
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
pub(super) fn pooled<Src: PacketSource, E: FlowExtractor + Clone>(
    source: &mut Src,
    ingest: &mut Ingest<E>,
    pool: &ThreadPool,
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
    let (todo_tx, todo_rx) = bounded::<Chunk<E>>(ring);
    let (done_tx, done_rx) = bounded::<Chunk<E>>(ring);
    for _ in 0..threads {
        let (todo, done) = (todo_rx.clone(), done_tx.clone());
        // Ends when the queue closes (the input is done, or the ingest
        // thread is unwinding and wants nothing back).
        pool.spawn(move || {
            for mut c in todo {
                c.key_guarded();
                if done.send(c).is_err() {
                    break;
                }
            }
        });
    }
    drop(done_tx);
    let mut walker = Walker::default();
    // Chunks handed to the pool, and dispatched.
    let (mut handed, mut dispatched) = (0usize, 0usize);
    loop {
        // Keep the pool busy: fill every free buffer and queue it.
        while walker.has_more()
            && let Some(mut c) = free.pop()
        {
            walker.fill(source, &mut c, ingest);
            if c.slots.is_empty() {
                free.push(c);
                break;
            }
            c.number = handed;
            handed += 1;
            if let Err(e) = todo_tx.try_send(c) {
                // Cannot happen (the queue has room for every chunk);
                // keyed here, the chunk is not lost.
                let mut c = e.into_inner();
                c.key_guarded();
                let at = c.number % ring;
                keyed[at] = Some(c);
            }
        }
        if dispatched == handed {
            if walker.has_more() {
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
            // out, which is as good).
            let unstarted = handed - todo_rx.len() == dispatched;
            let stolen = if unstarted {
                todo_rx.try_recv().ok()
            } else {
                None
            };
            let c = match stolen {
                Some(mut c) => {
                    c.key_guarded();
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
        let shared = c.shared.as_ref().map(|s| (s, shared_slice(s)));
        for s in &c.slots {
            if let Some(pkt) = c.packet(s, shared) {
                ingest.dispatch(&pkt, s.key, None, s.read_ns);
            }
        }
        c.clear();
        free.push(c);
        dispatched += 1;
    }
}
