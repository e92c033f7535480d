//! Captures read as a stream rather than mapped: standard input, a pipe, a
//! FIFO, a device, or any [`Read`]. [`CaptureStream`] reads with `read()`
//! into one buffer of fixed size ([`STREAM_BUFFER`] by default) and parses
//! it with the file reader's [`RecordCursor`] on a sliding window: when the
//! record at the cursor runs past what has been read, the bytes before it
//! are dropped, the rest moved to the front and more read behind. Memory
//! stays bounded whatever the stream's length; a record longer than the
//! buffer is damage ([`CaptureErrorKind::StreamRecordTooLong`]).
//!
//! The stream's ending inside a record is the truncation damage a file
//! cut there gives, and a read error (EIO, say) ends it as damage too; the
//! offsets reported are offsets in the stream. Descriptors are waited on
//! with `poll()` for at most [`STREAM_WAIT`] at a time, so a stream whose writer
//! pauses costs no CPU, and the caller gets control back
//! ([`Poll::Pending`]) often enough to notice a stop request.

use crate::reader::{
    CaptureError, CaptureErrorKind, MAX_RECORD, OpenError, RecordCursor, WindowStep,
};
use flowscope_engine::RawPacket;
use flowscope_shards::PacketRef;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::task::Poll;
use std::time::Duration;

/// The default size of a stream's buffer, and so of its longest record.
pub const STREAM_BUFFER: usize = 4 << 20;

/// The smallest buffer [`CaptureStream::with_capacity`] accepts.
const MIN_BUFFER: usize = 64;

/// Bytes read before the cursor is created: a pcap file header (a pcapng
/// section header block is read by the cursor like any block).
const FILE_HEADER: usize = 24;

/// The longest a read of a descriptor waits for bytes before it returns
/// [`Poll::Pending`].
pub const STREAM_WAIT: Duration = Duration::from_millis(WAIT_MS as u64);
const WAIT_MS: u16 = 100;

/// The name standard input goes by in messages.
pub const STDIN_NAME: &str = "(standard input)";

/// A capture read from a stream, one packet at a time, through a bounded
/// buffer. Packets borrow the buffer until the next call.
pub struct CaptureStream {
    name: PathBuf,
    input: Box<dyn Read + Send>,
    capacity: usize,
    /// Allocated (`capacity` bytes) at the first read, freed at the end.
    buf: Vec<u8>,
    /// Bytes of `buf` holding stream data: the window.
    len: usize,
    cursor: Option<RecordCursor>,
    /// The input has no more bytes.
    ended: bool,
    /// The end or damage has been returned.
    finished: bool,
    read: u64,
    size: Option<u64>,
    /// A regular file read through the buffer ([`CaptureStream::open_file`]):
    /// its length when opened, which is all that is read of it; reading
    /// less means it shrank. Its buffer grows for a record longer than
    /// itself, up to [`MAX_RECORD`].
    file_len: Option<u64>,
}

impl std::fmt::Debug for CaptureStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureStream")
            .field("name", &self.name)
            .field("capacity", &self.capacity)
            .field("read", &self.read)
            .field("ended", &self.ended)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl CaptureStream {
    /// A stream over `input`. A read that returns
    /// [`io::ErrorKind::WouldBlock`] or [`io::ErrorKind::Interrupted`]
    /// means "nothing yet": [`next_packet`](Self::next_packet) returns
    /// [`Poll::Pending`] and tries again on the next call (so such a
    /// reader should wait a while before saying so).
    pub fn from_reader(name: impl Into<PathBuf>, input: impl Read + Send + 'static) -> Self {
        CaptureStream {
            name: name.into(),
            input: Box::new(input),
            capacity: STREAM_BUFFER,
            buf: Vec::new(),
            len: 0,
            cursor: None,
            ended: false,
            finished: false,
            read: 0,
            size: None,
            file_len: None,
        }
    }

    /// Reads a regular file through the buffer rather than mapping it:
    /// what a one-pass reader on one thread does fastest (no page mapped,
    /// faulted in and unmapped for every 4 KiB). The packets, their
    /// numbering and every error are those of the mapped file
    /// ([`CaptureFile`](crate::CaptureFile)): only the bytes the
    /// file had when opened are read, a record longer than the buffer
    /// grows it (up to [`MAX_RECORD`], the longest record either reads),
    /// and a file that shrinks while read is
    /// [`Shrank`](CaptureErrorKind::Shrank) damage at the record the cut
    /// falls in (or after).
    pub fn open_file(path: &Path) -> Result<Self, OpenError> {
        let err = |source| OpenError {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(err)?;
        let meta = file.metadata().map_err(err)?;
        if !meta.is_file() {
            return Err(err(io::Error::other("not a regular file")));
        }
        let len = meta.len();
        let mut stream = Self::from_reader(path, file.take(len));
        stream.size = Some(len);
        stream.file_len = Some(len);
        Ok(stream)
    }

    /// Opens a FIFO, device or other file that is not mapped. Opening does
    /// not wait for a FIFO's writer: reading does (a FIFO whose writer has
    /// not come yet has no bytes yet, not an end).
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let err = |source| OpenError {
            path: path.to_owned(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(nix::libc::O_NONBLOCK);
        }
        let file = options.open(path).map_err(err)?;
        if file.metadata().map_err(err)?.is_dir() {
            return Err(err(io::Error::other("is a directory")));
        }
        Ok(Self::from_reader(path, Polled(file)))
    }

    /// Standard input (the process's descriptor 0, duplicated: nothing is
    /// read through the standard library's buffered handle). When it is a
    /// regular file, its size from the current position is known.
    pub fn stdin() -> Result<Self, OpenError> {
        let err = |source| OpenError {
            path: STDIN_NAME.into(),
            source,
        };
        let file = stdin_file().map_err(err)?;
        let meta = file.metadata().ok();
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(err(io::Error::other("is a directory")));
        }
        let size = meta.filter(|m| m.is_file()).and_then(|m| {
            use std::io::Seek;
            let at = (&file).stream_position().ok()?;
            Some(m.len().saturating_sub(at))
        });
        let mut stream = Self::from_reader(STDIN_NAME, Polled(file));
        stream.size = size;
        Ok(stream)
    }

    /// The buffer's size (at least 64 bytes): the longest record read.
    pub fn with_capacity(mut self, bytes: usize) -> Self {
        self.capacity = bytes.max(MIN_BUFFER);
        self
    }

    /// Where it came from (for messages).
    pub fn name(&self) -> &Path {
        &self.name
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// The stream's length when it is known (a regular file on standard
    /// input).
    pub fn size_hint(&self) -> Option<u64> {
        self.size
    }

    /// The next packet: `Ready(None)` at the end; `Ready(Some(Err))` for
    /// damage or a read error, after which the stream stays ended;
    /// `Pending` when no bytes came within [`STREAM_WAIT`] (call again).
    pub fn next_packet(&mut self) -> Poll<Option<Result<RawPacket<'_>, CaptureError>>> {
        match self.next_ref() {
            Poll::Ready(Some(Ok(p))) => Poll::Ready(p.resolve(self.window()).map(Ok)),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    /// The next packet, named by where it lies in [`window`](Self::window)
    /// (valid until the next call).
    pub(crate) fn next_ref(&mut self) -> Poll<Option<Result<PacketRef, CaptureError>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        let step = self.step();
        if matches!(step, Poll::Ready(None | Some(Err(_)))) {
            // Done: the buffer and the descriptor (a FIFO's writer then
            // sees the reader gone) are released.
            self.finished = true;
            self.cursor = None;
            self.buf = Vec::new();
            self.len = 0;
            self.input = Box::new(io::empty());
        }
        step
    }

    /// The bytes the packets of [`next_ref`](Self::next_ref) lie in.
    pub(crate) fn window(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn step(&mut self) -> Poll<Option<Result<PacketRef, CaptureError>>> {
        loop {
            if let Some(cursor) = &mut self.cursor {
                let window = &self.buf[..self.len];
                match cursor.next_in_window(window, self.ended) {
                    WindowStep::Read(Some(Ok(raw))) => {
                        return Poll::Ready(Some(Ok(PacketRef::within(&raw, window))));
                    }
                    WindowStep::Read(end)
                        if self.ended
                            && self.file_len.is_some_and(|l| self.read < l)
                            && end.as_ref().is_none_or(|r| {
                                r.as_ref().is_err_and(|e| {
                                    matches!(e.kind, CaptureErrorKind::RecordTruncated { .. })
                                })
                            }) =>
                    {
                        // A file that ended before the length it had, in
                        // or after the record at the cursor: it shrank, as
                        // the mapped file reports it.
                        let offset = match end {
                            Some(Err(e)) => e.offset,
                            _ => cursor.offset(),
                        };
                        return Poll::Ready(Some(Err(CaptureError {
                            kind: CaptureErrorKind::Shrank,
                            offset,
                        })));
                    }
                    WindowStep::Read(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                    WindowStep::Read(None) => return Poll::Ready(None),
                    WindowStep::Incomplete { bytes } => {
                        // A file's record needs no more room than the file
                        // has from it on (past that it is cut short: the
                        // reader says so once the file has ended), and
                        // the reader takes none over MAX_RECORD.
                        let needed = match self.file_len {
                            Some(len) => bytes.min(len.saturating_sub(cursor.offset())),
                            None => bytes,
                        };
                        if self.file_len.is_some() && needed <= MAX_RECORD as u64 {
                            self.capacity = self.capacity.max(needed as usize);
                        }
                        if needed > self.capacity as u64 {
                            return Poll::Ready(Some(Err(CaptureError {
                                kind: CaptureErrorKind::StreamRecordTooLong {
                                    length: bytes,
                                    limit: self.capacity as u64,
                                },
                                offset: cursor.offset(),
                            })));
                        }
                        // Only the record at the cursor is kept: it fits.
                        let pos = cursor.window_pos();
                        if pos > 0 {
                            self.buf.copy_within(pos..self.len, 0);
                            self.len -= pos;
                            cursor.rebase(pos);
                        }
                    }
                }
            } else if self.len >= FILE_HEADER || self.ended {
                match RecordCursor::new(&self.buf[..self.len]) {
                    Ok(c) => self.cursor = Some(c),
                    Err(e) => return Poll::Ready(Some(Err(e))),
                }
                continue;
            }
            match self.fill() {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Ok(())) => {}
            }
        }
    }

    /// One read into the free end of the buffer.
    fn fill(&mut self) -> Poll<Result<(), CaptureError>> {
        if self.buf.len() < self.capacity {
            self.buf.resize(self.capacity, 0);
        }
        let offset = self.read;
        let failed = |kind| Poll::Ready(Err(CaptureError { kind, offset }));
        let Some(room) = self.buf.get_mut(self.len..).filter(|r| !r.is_empty()) else {
            // Not reached: a record that does not fit is refused first.
            return failed(CaptureErrorKind::StreamRecordTooLong {
                length: self.capacity as u64 + 1,
                limit: self.capacity as u64,
            });
        };
        match self.input.read(room) {
            Ok(0) => self.ended = true,
            Ok(n) => {
                let n = n.min(room.len());
                self.len += n;
                self.read += n as u64;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                return Poll::Pending;
            }
            Err(e) => return failed(CaptureErrorKind::ReadFailed(e.to_string())),
        }
        Poll::Ready(Ok(()))
    }
}

/// A descriptor read after waiting for it with `poll()`, at most [`STREAM_WAIT`]
/// at a time: no bytes within it is [`io::ErrorKind::WouldBlock`].
struct Polled(File);

#[cfg(unix)]
impl Read for Polled {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        let mut fds = [PollFd::new(self.0.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(WAIT_MS)) {
            Ok(0) => return Err(io::ErrorKind::WouldBlock.into()),
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
        // Readable, at its end, or failed: the read says which.
        self.0.read(buf)
    }
}

#[cfg(not(unix))]
impl Read for Polled {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

/// Descriptor 0 as a file of its own.
#[cfg(unix)]
fn stdin_file() -> io::Result<File> {
    use std::os::fd::AsFd;
    Ok(File::from(io::stdin().as_fd().try_clone_to_owned()?))
}

/// Handle 0 as a file of its own.
#[cfg(windows)]
fn stdin_file() -> io::Result<File> {
    use std::os::windows::io::AsHandle;
    Ok(File::from(io::stdin().as_handle().try_clone_to_owned()?))
}

#[cfg(test)]
mod tests;
