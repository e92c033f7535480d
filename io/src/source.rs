//! Capture inputs as one packet stream for the pipeline: [`FileSource`]
//! implements [`PacketSource`] over [`CaptureInput`]s read in order.
//! Packets of a mapped file are handed out as slices of the shared mapping
//! (shards get offsets, never copies); packets of a stream (standard
//! input, a pipe, a FIFO) as transient storage, which the ingest copies
//! into its batch, as it does live capture's, so shards never see the
//! stream's buffer.
//!
//! A damaged input ends where the damage starts: its earlier packets count,
//! the damage is recorded with its byte offset, and the next input follows.
//! A stream with nothing to read yet makes the source report
//! [`SourceError::Idle`], so whoever reads it can look at its stop flag.

use crate::reader::{
    CaptureBytes, CaptureError, CaptureFile, OpenError, PROBE_BYTES, RecordCursor,
};
use crate::stream::CaptureStream;
use flowscope_engine::LinkType;
use flowscope_shards::{
    Gate, Pacer, PacketRef, PacketSource, SharedBytes, SourceError, SourcePacket, Storage, Stretch,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

/// Progress is reported every this many packets.
const PROGRESS_EVERY: u64 = 16 * 1024;

/// Called with the capture bytes read so far (all files).
pub type ProgressFn = Box<dyn FnMut(u64) + Send>;

/// Decides whether a packet (link type, captured bytes) is read at all:
/// one that is not never reaches the pipeline (a BPF filter, say).
pub type FilterFn = Box<dyn FnMut(LinkType, &[u8]) -> bool + Send>;

/// A damaged capture: where reading it stopped, and why.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct DamagedInput {
    /// The file.
    pub path: PathBuf,
    /// Where and how it is damaged.
    #[source]
    pub source: CaptureError,
}

/// One input of a [`FileSource`]: a capture file, mapped, or a stream.
#[derive(Debug)]
pub enum CaptureInput {
    /// A file (or bytes in memory), read zero-copy.
    File(CaptureFile),
    /// A stream (standard input, a pipe, a FIFO), read through a buffer.
    Stream(CaptureStream),
}

impl From<CaptureFile> for CaptureInput {
    fn from(f: CaptureFile) -> Self {
        CaptureInput::File(f)
    }
}

impl From<CaptureStream> for CaptureInput {
    fn from(s: CaptureStream) -> Self {
        CaptureInput::Stream(s)
    }
}

impl CaptureInput {
    /// Opens `path`: a regular file is mapped, anything else (a FIFO, a
    /// character device, `/dev/stdin`) is read as a stream.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let kind = std::fs::metadata(path)
            .map_err(|source| OpenError {
                path: path.to_owned(),
                source,
            })?
            .file_type();
        if kind.is_file() || kind.is_dir() {
            CaptureFile::open(path).map(CaptureInput::File)
        } else {
            CaptureStream::open(path).map(CaptureInput::Stream)
        }
    }

    /// Opens `path` for one pass on one thread, the way that costs less on
    /// this system. A regular file of 8 MiB or more is mapped, and a window
    /// of it touched in place and another copied out are timed: it stays
    /// mapped when that costs less, and is otherwise read through a buffer,
    /// as a shorter file is ([`CaptureStream::open_file`]: the packets and
    /// errors of the mapped file, without a page fault and a page table
    /// entry for every few KiB). Anything else opens as
    /// [`open`](Self::open) opens it. Readers that hand packets to other
    /// threads map files, so their bytes are shared rather than copied.
    pub fn open_one_pass(path: &Path) -> Result<Self, OpenError> {
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {
                // A file that does not map is read through the buffer,
                // which reports whatever else is wrong with it.
                if m.len() >= PROBE_BYTES as u64
                    && let Ok(file) = CaptureFile::open(path)
                    && file.maps_cheaply()
                {
                    return Ok(CaptureInput::File(file));
                }
                CaptureStream::open_file(path).map(CaptureInput::Stream)
            }
            _ => Self::open(path),
        }
    }

    /// Where it came from (for messages).
    pub fn path(&self) -> &Path {
        match self {
            CaptureInput::File(f) => &f.path,
            CaptureInput::Stream(s) => s.name(),
        }
    }
}

/// One input of a [`FileSource`] as it reads it: a file's bytes twice,
/// typed (to read them, watching a mapped file for shrinking) and shared
/// with the shards; or a stream (its index in the source's streams),
/// whose packets are copied by the ingest.
enum Input {
    Mapped {
        path: PathBuf,
        bytes: Arc<CaptureBytes>,
        shared: SharedBytes,
    },
    Stream(usize),
}

/// Where each input of a [`FileSource`] begins in the packet numbering
/// (the seq of its first packet handed out), so a record can name the
/// input that was being read when it was made (`pcap_filename`). Written
/// by the source before it hands the packet out; read on other threads.
#[derive(Debug)]
pub struct InputStarts(Vec<AtomicU64>);

impl InputStarts {
    /// For `inputs` inputs, none started.
    pub fn new(inputs: usize) -> Self {
        InputStarts((0..inputs).map(|_| AtomicU64::new(u64::MAX)).collect())
    }

    /// The input packet `seq` was read from: the last one started at or
    /// before it.
    pub fn input_of(&self, seq: u64) -> Option<usize> {
        self.0
            .iter()
            .rposition(|s| s.load(Ordering::Acquire) <= seq)
    }

    /// Input `input` hands out packet `seq`: its start, if it is the first.
    fn mark(&self, input: usize, seq: u64) {
        if let Some(s) = self.0.get(input)
            && s.load(Ordering::Relaxed) == u64::MAX
        {
            s.store(seq, Ordering::Release);
        }
    }
}

/// Counts the packets a source hands out and marks where inputs start.
#[derive(Debug, Default)]
struct Handed {
    packets: u64,
    starts: Option<Arc<InputStarts>>,
}

impl Handed {
    fn one(&mut self, input: usize) {
        self.many(input, 1);
    }

    fn many(&mut self, input: usize, packets: u64) {
        if packets == 0 {
            return;
        }
        if let Some(s) = &self.starts {
            s.mark(input, self.packets);
        }
        self.packets += packets;
    }
}

/// Capture inputs read in order as one stream.
pub struct FileSource {
    files: Vec<Input>,
    /// The streams among them, apart: a file's packets borrow `files`
    /// while a stream is read through `&mut`.
    streams: Vec<CaptureStream>,
    /// The input being read and a file's cursor (`None` before its header).
    current: usize,
    cursor: Option<RecordCursor>,
    /// Bytes of the inputs before the current one.
    done_bytes: u64,
    packets: u64,
    damaged: Vec<DamagedInput>,
    progress: Option<ProgressFn>,
    /// Paced replay: the pacer, and a packet read but not yet due.
    pace: Option<Pacer>,
    pending: Option<PacketRef>,
    filter: Option<FilterFn>,
    handed: Handed,
}

impl std::fmt::Debug for FileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSource")
            .field("files", &self.files.len())
            .field("current", &self.current)
            .field("damaged", &self.damaged)
            .finish_non_exhaustive()
    }
}

impl FileSource {
    /// A source over `inputs` (capture files, streams), read in order.
    pub fn new<I: Into<CaptureInput>>(inputs: impl IntoIterator<Item = I>) -> Self {
        let mut streams = Vec::new();
        let files = inputs
            .into_iter()
            .map(|input| match input.into() {
                CaptureInput::File(f) => {
                    let (path, bytes) = f.into_parts();
                    let bytes = Arc::new(bytes);
                    Input::Mapped {
                        path,
                        shared: bytes.clone(),
                        bytes,
                    }
                }
                CaptureInput::Stream(s) => {
                    streams.push(s);
                    Input::Stream(streams.len() - 1)
                }
            })
            .collect();
        FileSource {
            files,
            streams,
            current: 0,
            cursor: None,
            done_bytes: 0,
            packets: 0,
            damaged: Vec::new(),
            progress: None,
            pace: None,
            pending: None,
            filter: None,
            handed: Handed::default(),
        }
    }

    /// Marks in `starts` where each input begins in the packet numbering.
    pub fn with_input_starts(mut self, starts: Arc<InputStarts>) -> Self {
        self.handed.starts = Some(starts);
        self
    }

    /// Reads only the packets `filter` accepts; the others are never
    /// numbered or processed (the filter counts them if it wants to).
    pub fn with_filter(mut self, filter: FilterFn) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Offers the packets at the pacer's rate instead of as fast as they
    /// are read; the source is then live (see [`flowscope_shards::Pace`]).
    pub fn with_pace(mut self, pacer: Pacer) -> Self {
        self.pace = Some(pacer);
        self
    }

    /// The pacer, when paced (packets offered and dropped as late).
    pub fn pacer(&self) -> Option<&Pacer> {
        self.pace.as_ref()
    }

    /// Reports progress (capture bytes read) every few thousand packets.
    pub fn with_progress(mut self, f: ProgressFn) -> Self {
        self.progress = Some(f);
        self
    }

    /// Number of inputs.
    pub fn files(&self) -> usize {
        self.files.len()
    }

    /// Total capture bytes, when every input's size is known (streams'
    /// sizes are not, but for a regular file on standard input).
    pub fn total_bytes(&self) -> Option<u64> {
        self.files
            .iter()
            .map(|f| match f {
                Input::Mapped { bytes, .. } => Some(bytes.as_slice().len() as u64),
                Input::Stream(k) => self.streams.get(*k)?.size_hint(),
            })
            .sum()
    }

    /// Capture bytes so far: the sizes of the files and what was read
    /// from the streams.
    pub fn input_bytes(&self) -> u64 {
        let files: u64 = self
            .files
            .iter()
            .map(|f| match f {
                Input::Mapped { bytes, .. } => bytes.as_slice().len() as u64,
                Input::Stream(_) => 0,
            })
            .sum();
        files
            + self
                .streams
                .iter()
                .map(CaptureStream::bytes_read)
                .sum::<u64>()
    }

    /// The bytes of the input now current, and the storage its packets
    /// are handed out in.
    fn current_storage(&self) -> Option<(&[u8], Storage<'_>)> {
        Some(match self.files.get(self.current)? {
            Input::Mapped { bytes, shared, .. } => (bytes.as_slice(), Storage::Shared(shared)),
            Input::Stream(k) => (self.streams.get(*k)?.window(), Storage::Transient),
        })
    }

    /// The damaged inputs met so far.
    pub fn damaged(&self) -> &[DamagedInput] {
        &self.damaged
    }

    /// Takes the damaged inputs met so far.
    pub fn take_damaged(&mut self) -> Vec<DamagedInput> {
        std::mem::take(&mut self.damaged)
    }
}

impl PacketSource for FileSource {
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        if self.pace.is_none() {
            return self.read_next(true);
        }
        loop {
            let p = match self.pending.take() {
                Some(p) => p,
                None => {
                    let (packet, at) = match self.read_next(false)? {
                        Ok(sp) => (PacketRef::new(&sp.raw, 0), sp.raw.data.as_ptr() as usize),
                        Err(e) => return Some(Err(e)),
                    };
                    // The packet returned lies in the input now current.
                    let base = self.current_storage()?.0.as_ptr() as usize;
                    PacketRef {
                        offset: at - base,
                        ..packet
                    }
                }
            };
            let pacer = self.pace.as_mut()?;
            match pacer.gate(p.ts) {
                Gate::Drop => continue,
                Gate::Wait => {
                    self.pending = Some(p);
                    return Some(Err(SourceError::Idle));
                }
                Gate::Go => {
                    self.handed.one(self.current);
                    let (bytes, storage) = self.current_storage()?;
                    return Some(Ok(SourcePacket {
                        raw: p.resolve(bytes)?,
                        storage,
                    }));
                }
            }
        }
    }

    fn is_live(&self) -> bool {
        self.pace.is_some()
    }

    /// The rest of the current input when it is a classic pcap file read
    /// as fast as it can be (not paced, not filtered).
    fn stretch(&mut self) -> Option<Stretch> {
        if self.pace.is_some() || self.filter.is_some() {
            return None;
        }
        let Input::Mapped { bytes, shared, .. } = self.files.get(self.current)? else {
            return None;
        };
        let data = bytes.as_slice();
        let cursor = match &mut self.cursor {
            Some(c) => c,
            // A header that does not read is reported by `next_packet`.
            None => self.cursor.insert(RecordCursor::new(data).ok()?),
        };
        let start = cursor.position();
        if start >= data.len() {
            return None;
        }
        Some(Stretch {
            storage: shared.clone(),
            walk: Arc::new(cursor.walker(bytes.clone())?),
            start,
            end: data.len(),
        })
    }

    fn walked(&mut self, at: usize, packets: u64) {
        let Some(cursor) = &mut self.cursor else {
            return;
        };
        cursor.seek(at);
        let before = self.packets;
        self.packets += packets;
        self.handed.many(self.current, packets);
        if before / PROGRESS_EVERY != self.packets / PROGRESS_EVERY
            && let Some(p) = &mut self.progress
        {
            p(self.done_bytes + at as u64);
        }
    }
}

impl FileSource {
    /// The next packet as fast as it can be read; `Idle` when a stream has
    /// nothing yet. `hand` counts it as handed out (a paced source does
    /// that when it is due).
    fn read_next(&mut self, hand: bool) -> Option<Result<SourcePacket<'_>, SourceError>> {
        // Split into fields: a file's packet returned borrows `files` while
        // the loop moves `current`, `cursor` and the damage list on, and
        // reads streams through `streams`.
        let FileSource {
            files,
            streams,
            current,
            cursor,
            done_bytes,
            packets,
            damaged,
            progress,
            pace: _,
            pending: _,
            filter,
            handed,
        } = self;
        let (k, p) = loop {
            match files.get(*current)? {
                Input::Mapped {
                    path,
                    bytes: typed,
                    shared: bytes,
                } => {
                    let data = typed.as_slice();
                    let mut failure = None;
                    let reader = match cursor {
                        Some(c) => Some(c),
                        None => match RecordCursor::new(data) {
                            Ok(c) => Some(cursor.insert(c)),
                            Err(e) => {
                                failure = Some(e);
                                None
                            }
                        },
                    };
                    if let Some(reader) = reader {
                        match reader.next_in(typed) {
                            Some(Ok(raw)) => {
                                if let Some(f) = filter
                                    && !f(raw.linktype, raw.data)
                                {
                                    continue;
                                }
                                *packets += 1;
                                if hand {
                                    handed.one(*current);
                                }
                                if packets.is_multiple_of(PROGRESS_EVERY)
                                    && let Some(p) = progress
                                {
                                    p(*done_bytes + reader.offset());
                                }
                                return Some(Ok(SourcePacket {
                                    raw,
                                    storage: Storage::Shared(bytes),
                                }));
                            }
                            Some(Err(e)) => failure = Some(e),
                            None => {}
                        }
                    }
                    if let Some(source) = failure {
                        damaged.push(DamagedInput {
                            path: path.clone(),
                            source,
                        });
                    }
                    *done_bytes += data.len() as u64;
                }
                &Input::Stream(k) => {
                    let stream = streams.get_mut(k)?;
                    match stream.next_ref() {
                        Poll::Pending => return Some(Err(SourceError::Idle)),
                        Poll::Ready(Some(Ok(p))) => {
                            if let Some(f) = filter {
                                let accept = p
                                    .resolve(stream.window())
                                    .is_some_and(|raw| f(raw.linktype, raw.data));
                                if !accept {
                                    continue;
                                }
                            }
                            *packets += 1;
                            if hand {
                                handed.one(*current);
                            }
                            if packets.is_multiple_of(PROGRESS_EVERY)
                                && let Some(progress) = progress
                            {
                                progress(*done_bytes + stream.bytes_read());
                            }
                            // Handed out below the loop: it borrows `streams`.
                            break (k, p);
                        }
                        Poll::Ready(Some(Err(source))) => damaged.push(DamagedInput {
                            path: stream.name().to_owned(),
                            source,
                        }),
                        Poll::Ready(None) => {}
                    }
                    *done_bytes += stream.bytes_read();
                }
            }
            // This input is done (ended or damaged): on to the next.
            *current += 1;
            *cursor = None;
        };
        Some(Ok(SourcePacket {
            raw: p.resolve(streams.get(k)?.window())?,
            storage: Storage::Transient,
        }))
    }
}
