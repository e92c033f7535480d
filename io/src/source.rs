//! Capture files as one packet stream for the pipeline: [`FileSource`]
//! implements [`PacketSource`] over mapped files, handing out packets as
//! slices of the shared mapping (shards get offsets, never copies).
//!
//! A damaged file ends where the damage starts: its earlier packets count,
//! the damage is recorded with its byte offset, and the next file follows.

use crate::capture::{CaptureFile, RecordCursor};
use crate::replay::DamagedInput;
use flowscope_shards::{PacketSource, SharedBytes, SourceError, SourcePacket, Storage};
use std::path::PathBuf;
use std::sync::Arc;

/// Progress is reported every this many packets.
const PROGRESS_EVERY: u64 = 16 * 1024;

/// Called with the capture bytes read so far (all files).
pub type ProgressFn = Box<dyn FnMut(u64) + Send>;

/// Opened capture files read in order as one stream.
pub struct FileSource {
    files: Vec<(PathBuf, SharedBytes)>,
    /// The file being read and its cursor (`None` before its header).
    current: usize,
    cursor: Option<RecordCursor>,
    done_bytes: u64,
    packets: u64,
    damaged: Vec<DamagedInput>,
    progress: Option<ProgressFn>,
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
                    (path, Arc::new(bytes) as SharedBytes)
                })
                .collect(),
            current: 0,
            cursor: None,
            done_bytes: 0,
            packets: 0,
            damaged: Vec::new(),
            progress: None,
        }
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
            .map(|(_, b)| flowscope_shards::shared_slice(b).len() as u64)
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
        } = self;
        loop {
            let (path, bytes) = files.get(*current)?;
            let data = flowscope_shards::shared_slice(bytes);
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
                match reader.next_packet(data) {
                    Some(Ok(raw)) => {
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
