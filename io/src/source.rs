//! Capture files as one packet stream for the pipeline: [`FileSource`]
//! implements [`PacketSource`] over mapped files, handing out packets as
//! slices of the shared mapping (shards get offsets, never copies).
//!
//! A damaged file ends where the damage starts: its earlier packets count,
//! the damage is recorded with its byte offset, and the next file follows.

use crate::reader::{CaptureBytes, CaptureError, CaptureFile, RecordCursor};
use flowscope_engine::LinkType;
use flowscope_shards::{
    Gate, Pacer, PacketRef, PacketSource, SharedBytes, SourceError, SourcePacket, Storage,
};
use std::path::PathBuf;
use std::sync::Arc;

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

/// One file of a [`FileSource`]: its bytes twice, typed (to read them,
/// watching a mapped file for shrinking) and shared with the shards.
struct InputFile {
    path: PathBuf,
    bytes: Arc<CaptureBytes>,
    shared: SharedBytes,
}

/// Opened capture files read in order as one stream.
pub struct FileSource {
    files: Vec<InputFile>,
    /// The file being read and its cursor (`None` before its header).
    current: usize,
    cursor: Option<RecordCursor>,
    done_bytes: u64,
    packets: u64,
    damaged: Vec<DamagedInput>,
    progress: Option<ProgressFn>,
    /// Paced replay: the pacer, and a packet read but not yet due.
    pace: Option<Pacer>,
    pending: Option<PacketRef>,
    filter: Option<FilterFn>,
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
    /// A source over `files`, read in order.
    pub fn new(files: Vec<CaptureFile>) -> Self {
        FileSource {
            files: files
                .into_iter()
                .map(|f| {
                    let (path, bytes) = f.into_parts();
                    let bytes = Arc::new(bytes);
                    InputFile {
                        path,
                        shared: bytes.clone(),
                        bytes,
                    }
                })
                .collect(),
            current: 0,
            cursor: None,
            done_bytes: 0,
            packets: 0,
            damaged: Vec::new(),
            progress: None,
            pace: None,
            pending: None,
            filter: None,
        }
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

    /// Number of files.
    pub fn files(&self) -> usize {
        self.files.len()
    }

    /// Total capture bytes.
    pub fn total_bytes(&self) -> u64 {
        self.files
            .iter()
            .map(|f| f.bytes.as_slice().len() as u64)
            .sum()
    }

    /// The damaged files met so far.
    pub fn damaged(&self) -> &[DamagedInput] {
        &self.damaged
    }

    /// Takes the damaged files met so far.
    pub fn take_damaged(&mut self) -> Vec<DamagedInput> {
        std::mem::take(&mut self.damaged)
    }
}

impl PacketSource for FileSource {
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        if self.pace.is_none() {
            return self.read_next();
        }
        loop {
            let p = match self.pending.take() {
                Some(p) => p,
                None => {
                    let (packet, at) = match self.read_next()? {
                        Ok(sp) => (PacketRef::new(&sp.raw, 0), sp.raw.data.as_ptr() as usize),
                        Err(e) => return Some(Err(e)),
                    };
                    // The packet returned comes from the file now current.
                    let base = self.files.get(self.current)?.bytes.as_slice().as_ptr() as usize;
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
                    let bytes = &self.files.get(self.current)?.shared;
                    return Some(Ok(SourcePacket {
                        raw: p.resolve(flowscope_shards::shared_slice(bytes))?,
                        storage: Storage::Shared(bytes),
                    }));
                }
            }
        }
    }

    fn is_live(&self) -> bool {
        self.pace.is_some()
    }
}

impl FileSource {
    /// The next packet as fast as it can be read.
    fn read_next(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        // Split into fields: the packet returned borrows `files` while the
        // loop moves `current`, `cursor` and the damage list on.
        let FileSource {
            files,
            current,
            cursor,
            done_bytes,
            packets,
            damaged,
            progress,
            pace: _,
            pending: _,
            filter,
        } = self;
        loop {
            let InputFile {
                path,
                bytes: typed,
                shared: bytes,
            } = files.get(*current)?;
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
            // This file is done (ended or damaged): on to the next.
            *done_bytes += data.len() as u64;
            *current += 1;
            *cursor = None;
        }
    }
}
