//! How EVE lines are written: [`Output`], the buffered writer that notices the
//! reader going away (`| head`); [`render_one`], which renders an event
//! (and hands an ended flow to the IPFIX export) on the consuming thread:
//! inline, and after a one-shard pipeline, whose sink [`RecordEvents`]
//! hands the events on unrendered; [`EveSink`], which renders records on
//! the shard threads of a run with several shards; and [`PcapNames`],
//! which adds `pcap_filename` to them.

use crate::error::RunError;
use crate::ipfix::IpfixExport;
use crate::sink::SinkCounters;
use flowscope_engine::{FlowEvent, Ordered};
use flowscope_io::{
    EveKey, EveMessage, EveRenderer, FtpDataStage, InputStarts, IpfixFlow, IpfixKey, JsonObject,
    StrictFilter,
};
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
    /// The strict profile: `stats` records completed here go through it.
    pub(crate) strict: Option<Arc<StrictFilter>>,
    /// The `ftp-data` stage, applied to every line on its way out (the
    /// ordered stream, whatever the shard count).
    ftp_data: FtpDataStage,
    /// The buffer's lines before this offset went through it.
    staged: usize,
}

impl<W: Write> Output<W> {
    pub(crate) fn new(out: W) -> Self {
        Output {
            out,
            buf: Vec::with_capacity(FLUSH_AT + 64 * 1024),
            records: 0,
            open: true,
            counters: None,
            strict: None,
            ftp_data: FtpDataStage::new(),
            staged: 0,
        }
    }

    /// A `stats` record was just rendered into the buffer from `at`: adds
    /// the sink's `output` object to it (not in the strict profile, whose
    /// records hold only Suricata's fields).
    pub(crate) fn stats_rendered(&mut self, at: usize) {
        if self.strict.is_none() {
            append_ftp_data(&mut self.buf, at, &self.ftp_data);
        }
        finish_stats(
            &mut self.buf,
            at,
            self.counters.as_deref(),
            self.strict.as_deref(),
        );
    }

    /// Counts the line(s) just appended to the buffer and writes the buffer
    /// out once it is large; `Ok(false)` once the reader has gone away.
    pub(crate) fn wrote(&mut self, lines: u64) -> Result<bool, RunError> {
        let delta = self.ftp_data.apply(&mut self.buf, self.staged);
        self.staged = self.buf.len();
        self.records = (self.records + lines).saturating_add_signed(delta);
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
        self.staged = 0;
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

/// Adds the `ftp-data` stage's figures to the `stats` record `buf` holds
/// from `at` (`ftp_data`), once it saw any announced transfer.
fn append_ftp_data(buf: &mut Vec<u8>, at: usize, stage: &FtpDataStage) {
    let c = stage.counters();
    if c.expectations == 0 || buf.len() < at + 3 || !buf.ends_with(b"}}\n") {
        return;
    }
    buf.truncate(buf.len() - 3);
    let _ = writeln!(
        buf,
        ",\"ftp_data\":{{\"expectations\":{},\"matched\":{},\"expired\":{},\"evicted\":{}}}}}}}",
        c.expectations, c.matched, c.expired, c.evicted
    );
}

/// Completes the `stats` record `buf` holds from `at`: the sink's
/// `output` object, or the strict profile's cut.
pub(crate) fn finish_stats(
    buf: &mut Vec<u8>,
    at: usize,
    counters: Option<&SinkCounters>,
    strict: Option<&StrictFilter>,
) {
    match (strict, counters) {
        (Some(f), _) => f.filter(buf, at),
        (None, Some(c)) => c.append_to_stats(buf, at),
        (None, None) => {}
    }
}

/// `pcap_filename` (`[output] pcap_filename`): the name of the input a
/// record's packet was read from, put first in each record.
#[derive(Debug)]
pub(crate) struct PcapNames {
    starts: Arc<InputStarts>,
    /// Per input, `"pcap_filename":"NAME",` rendered once.
    fields: Vec<Vec<u8>>,
}

impl PcapNames {
    /// For inputs named `names`, in order; `starts` is filled by the source.
    pub(crate) fn new(names: &[String], starts: Arc<InputStarts>) -> Self {
        let fields = names
            .iter()
            .map(|n| {
                let mut v = Vec::new();
                let mut o = JsonObject::new(&mut v);
                o.str("pcap_filename", n);
                o.finish_line();
                // `{"pcap_filename":"…"}\n` → `"pcap_filename":"…",`
                let mut f = v.get(1..v.len().saturating_sub(2)).unwrap_or(&[]).to_vec();
                f.push(b',');
                f
            })
            .collect();
        PcapNames { starts, fields }
    }

    /// Where the source marks the inputs' starts.
    pub(crate) fn starts(&self) -> Arc<InputStarts> {
        self.starts.clone()
    }

    /// Adds the field to the record `line` holds from `at`, made at
    /// packet `seq`.
    pub(crate) fn stamp(&self, seq: u64, line: &mut Vec<u8>, at: usize) {
        if line.get(at) != Some(&b'{') {
            return;
        }
        if let Some(f) = self.starts.input_of(seq).and_then(|i| self.fields.get(i)) {
            line.splice(at + 1..at + 1, f.iter().copied());
        }
    }
}

/// Renders EVE lines on the shard threads, and with IPFIX export on
/// (the third field), takes each ended flow's export there too.
#[derive(Debug, Clone)]
pub(crate) struct EveSink(
    pub(crate) EveRenderer,
    pub(crate) Option<Arc<PcapNames>>,
    pub(crate) bool,
);

/// What a shard hands on for one event: its EVE line (empty when it has
/// none) and, with IPFIX export on, an ended flow's export.
#[derive(Debug)]
pub(crate) struct Rendered {
    line: Line,
    pub(crate) ipfix: Option<Box<IpfixFlow>>,
}

/// Where a line is: in the byte buffer of its shard's items (as the shard
/// rendered it), or its own bytes (once detached).
#[derive(Debug)]
enum Line {
    In(std::ops::Range<usize>),
    Own(Vec<u8>),
}

impl Rendered {
    /// The line, given the buffer of its shard's items (any buffer, or
    /// none, once detached).
    pub(crate) fn line<'a>(&'a self, bytes: &'a [u8]) -> &'a [u8] {
        match &self.line {
            Line::In(r) => bytes.get(r.clone()).unwrap_or_default(),
            Line::Own(v) => v,
        }
    }

    /// Hands its flow to the IPFIX export, if it carries one, and appends
    /// its line, if it has one, to `out`; whether `out` is still open.
    /// `bytes`: as for [`Rendered::line`].
    pub(crate) fn write<W: Write>(
        &self,
        bytes: &[u8],
        ipfix: &mut Option<IpfixExport>,
        out: &mut Output<W>,
    ) -> Result<bool, RunError> {
        if let (Some(x), Some(f)) = (ipfix.as_mut(), &self.ipfix) {
            x.flow(f);
        }
        let line = self.line(bytes);
        out.buf.extend_from_slice(line);
        out.wrote(u64::from(!line.is_empty()))
    }
}

/// Whether a sharded run renders its records on the thread that writes
/// them rather than on the shards: with one shard. That shard is the stage
/// every packet waits for and has nothing to render in parallel with,
/// while the writing thread otherwise only copies lines; with several,
/// the writing thread would become the serial stage (docs/pipeline.md,
/// Shards).
pub(crate) fn writer_renders(shards: usize) -> bool {
    shards == 1
}

/// Whether an event makes no record and no export: a flow's start and its
/// state changes.
fn makes_nothing<K, M>(event: &FlowEvent<K, M>) -> bool {
    matches!(
        event,
        FlowEvent::Started { .. } | FlowEvent::Established { .. } | FlowEvent::StateChange { .. }
    )
}

impl<K: EveKey + IpfixKey, M: EveMessage> EventSink<K, M> for EveSink {
    type Item = Rendered;
    fn map(&mut self, event: Ordered<FlowEvent<K, M>>, bytes: &mut Vec<u8>) -> Option<Rendered> {
        // No record for a flow's start or its state changes: no buffer.
        if makes_nothing(&event.event) {
            return None;
        }
        let ipfix = if self.2 {
            IpfixFlow::from_event(&event.event).map(Box::new)
        } else {
            None
        };
        // Rendered straight into the buffer of the shard's items.
        let at = bytes.len();
        self.0.render(&event, bytes);
        if let Some(names) = &self.1 {
            names.stamp(event.seq, bytes, at);
        }
        let line = Line::In(at..bytes.len());
        (bytes.len() > at || ipfix.is_some()).then_some(Rendered { line, ipfix })
    }

    fn detach(r: Rendered, bytes: &[u8]) -> Rendered {
        match r.line {
            Line::In(_) => Rendered {
                line: Line::Own(r.line(bytes).to_vec()),
                ipfix: r.ipfix,
            },
            Line::Own(_) => r,
        }
    }
}

/// Hands on, unrendered, the events that make a record or an export: the
/// sink of a one-shard run (`replay` and `capture`), whose records the
/// writing thread renders with [`render_one`] (see `replay::run_sharded`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordEvents;

impl<K: Send + 'static, M: Send + 'static> EventSink<K, M> for RecordEvents {
    type Item = Ordered<FlowEvent<K, M>>;
    fn map(&mut self, event: Ordered<FlowEvent<K, M>>, _: &mut Vec<u8>) -> Option<Self::Item> {
        (!makes_nothing(&event.event)).then_some(event)
    }
}

/// Hands an ended flow to the IPFIX export, when there is one.
fn export<K: IpfixKey, M>(ipfix: &mut Option<IpfixExport>, event: &FlowEvent<K, M>) {
    if let Some(x) = ipfix
        && let Some(f) = IpfixFlow::from_event(event)
    {
        x.flow(&f);
    }
}

/// Hands one event to the IPFIX export and renders it into `buf`, stamped
/// with its input's name; whether it made a line.
pub(crate) fn render_one<K: EveKey + IpfixKey, M: EveMessage>(
    ev: &Ordered<FlowEvent<K, M>>,
    renderer: &mut EveRenderer,
    names: Option<&PcapNames>,
    ipfix: &mut Option<IpfixExport>,
    buf: &mut Vec<u8>,
) -> bool {
    export(ipfix, &ev.event);
    let at = buf.len();
    renderer.render(ev, buf);
    if let Some(n) = names {
        n.stamp(ev.seq, buf, at);
    }
    buf.len() > at
}
