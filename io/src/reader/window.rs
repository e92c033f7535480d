//! The record cursor over a sliding window of a stream: the same parser as
//! for a whole file, told whether more bytes may follow the window, so a
//! record that runs past the window's end is "incomplete, read more"
//! rather than truncation damage, and rebased when the bytes before its
//! position are dropped, so the offsets it reports stay offsets in the
//! stream.

use super::{CaptureError, CaptureErrorKind, RecordCursor};
use flowscope_engine::RawPacket;

/// What [`RecordCursor::next_in_window`] found.
#[derive(Debug)]
pub enum WindowStep<'a> {
    /// What [`RecordCursor::next_packet`] gives over a whole file: a
    /// packet, the end (`None`, only once the stream has ended) or damage.
    Read(Option<Result<RawPacket<'a>, CaptureError>>),
    /// The record at the cursor ends past the window: it needs `bytes`
    /// bytes from the cursor's position (at least one more than the
    /// window holds). The cursor has not moved.
    Incomplete {
        /// Bytes of the record, from the cursor's position.
        bytes: u64,
    },
}

impl RecordCursor {
    /// The next packet of `window`, the bytes of a stream from offset
    /// [`window_start`](Self::window_start) on; `ended`: no bytes follow
    /// the window. Until the stream has ended, a record the window holds
    /// only part of is [`WindowStep::Incomplete`], not damage: drop the
    /// bytes before the cursor ([`rebase`](Self::rebase)), read more and
    /// call again. Once it has ended, the steps are exactly those of
    /// [`next_packet`](Self::next_packet) over the whole stream.
    pub fn next_in_window<'a>(&mut self, window: &'a [u8], ended: bool) -> WindowStep<'a> {
        if ended {
            return WindowStep::Read(self.next_packet(window));
        }
        if self.failed {
            return WindowStep::Read(None);
        }
        match self.next_packet(window) {
            // The end of the window, maybe after blocks that are not
            // packets: the stream goes on.
            None if !self.failed => WindowStep::Incomplete { bytes: 1 },
            Some(Err(CaptureError {
                kind: CaptureErrorKind::RecordTruncated { needed, .. },
                ..
            })) => {
                // The truncation check comes before anything is parsed or
                // changed: the cursor is where it was, and not finished.
                self.failed = false;
                WindowStep::Incomplete { bytes: needed }
            }
            other => WindowStep::Read(other),
        }
    }

    /// Where the window the cursor reads starts in the stream.
    pub fn window_start(&self) -> u64 {
        self.base
    }

    /// The cursor's position in its window: the bytes before it are read
    /// and may be dropped.
    pub fn window_pos(&self) -> usize {
        self.pos
    }

    /// Tells the cursor that the first `dropped` bytes of its window are
    /// gone (the rest moved to the front): at most
    /// [`window_pos`](Self::window_pos) of them.
    pub fn rebase(&mut self, dropped: usize) {
        let dropped = dropped.min(self.pos);
        self.pos -= dropped;
        self.prefetched = self.prefetched.saturating_sub(dropped);
        self.base += dropped as u64;
    }
}
