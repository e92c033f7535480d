//! How EVE lines are written: [`Output`], the buffered writer that notices the
//! reader going away (`| head`), and [`EveSink`], which renders records on
//! the shard threads of a sharded run.

use crate::error::RunError;
use crate::sink::SinkCounters;
use flowscope_engine::{FlowEvent, Ordered};
use flowscope_io::{EveKey, EveMessage, EveRenderer};
use flowscope_shards::EventSink;
use std::io::{self, Write};
use std::sync::Arc;

/// Output is written in chunks of about this size.
const FLUSH_AT: usize = 256 * 1024;

/// Buffered EVE output that notices a reader going away.
pub(crate) struct Output<W: Write> {
    out: W,
    pub(crate) buf: Vec<u8>,
    pub(crate) records: u64,
    pub(crate) open: bool,
    /// The sink's counters, added to each `stats` record.
    pub(crate) counters: Option<Arc<SinkCounters>>,
}

impl<W: Write> Output<W> {
    pub(crate) fn new(out: W) -> Self {
        Output {
            out,
            buf: Vec::with_capacity(FLUSH_AT + 64 * 1024),
            records: 0,
            open: true,
            counters: None,
        }
    }

    /// A `stats` record was just rendered into the buffer from `at`: adds
    /// the sink's `output` object to it.
    pub(crate) fn stats_rendered(&mut self, at: usize) {
        if let Some(c) = &self.counters {
            c.append_to_stats(&mut self.buf, at);
        }
    }

    /// Counts the line(s) just appended to the buffer and writes the buffer
    /// out once it is large; `Ok(false)` once the reader has gone away.
    pub(crate) fn wrote(&mut self, lines: u64) -> Result<bool, RunError> {
        self.records += lines;
        if self.buf.len() >= FLUSH_AT {
            self.flush_buf()?;
        }
        Ok(self.open)
    }

    fn flush_buf(&mut self) -> Result<(), RunError> {
        if self.open {
            match self.out.write_all(&self.buf) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => self.open = false,
                Err(e) => return Err(RunError::Output(e)),
            }
        }
        self.buf.clear();
        Ok(())
    }

    /// Writes everything out; whether the reader is still there.
    pub(crate) fn finish(&mut self) -> Result<bool, RunError> {
        self.flush_buf()?;
        if self.open {
            match self.out.flush() {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => self.open = false,
                Err(e) => return Err(RunError::Output(e)),
            }
        }
        Ok(self.open)
    }
}

/// Renders EVE lines on the shard threads.
#[derive(Debug, Clone)]
pub(crate) struct EveSink(pub(crate) EveRenderer);

impl<K: EveKey, M: EveMessage> EventSink<K, M> for EveSink {
    type Item = Vec<u8>;
    fn map(&mut self, event: Ordered<FlowEvent<K, M>>) -> Option<Vec<u8>> {
        // Room for a typical flow record, so rendering does not regrow it.
        let mut line = Vec::with_capacity(768);
        self.0.render(&event, &mut line);
        (!line.is_empty()).then_some(line)
    }
}
