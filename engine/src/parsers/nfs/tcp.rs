//! NFS over TCP: RPC records framed by their record marks, read per side
//! (each fragment as a record, as Suricata does); a large WRITE call or
//! READ reply is read from its first bytes and the file data skipped.

use super::rpc::{self, Reply};
use super::state::{NfsState, XidMap, read3, write_args};
use super::{NfsConfig, proc3};
use crate::AppEvent;
use crate::parsers::L7Message;
use crate::parsers::reader::Reader;
use crate::session::SessionParser;

/// Bytes of a large record read before its file data is skipped.
const PEEK: usize = 1024;
/// The shortest record Suricata reads (an RPC header).
const MIN_RECORD: usize = 24;

/// A large record read from its first bytes: the file transfer it feeds.
#[derive(Debug, Clone)]
struct Chunk {
    handle: Vec<u8>,
    xid: u32,
}

/// One side's record being read.
#[derive(Debug, Clone, Default)]
struct Side {
    mark: Vec<u8>,
    /// The record's length (after its mark), once read.
    len: Option<usize>,
    /// Bytes of the record gone by.
    got: usize,
    buf: Vec<u8>,
    /// The rest of the record is skipped (read from its first bytes, or
    /// too long).
    skipping: bool,
    chunk: Option<Chunk>,
    /// The record's first bytes were looked at for file data.
    peeked: bool,
    /// A gap or a record mark that is no RPC: this side is not read
    /// further.
    lost: bool,
}

/// The NFS-over-TCP session parser. Messages: [`L7Message::Nfs`], one per
/// transaction.
#[derive(Debug, Clone)]
pub struct NfsTcpParser {
    max_record: usize,
    state: NfsState,
    sides: [Side; 2],
}

impl Default for NfsTcpParser {
    fn default() -> Self {
        NfsTcpParser::new(&NfsConfig::default())
    }
}

impl NfsTcpParser {
    /// A parser with these options.
    pub fn new(cfg: &NfsConfig) -> Self {
        NfsTcpParser {
            max_record: cfg.max_record.max(PEEK),
            state: NfsState::new(cfg.max_tx),
            sides: Default::default(),
        }
    }

    fn feed(&mut self, side: usize, mut bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        while !bytes.is_empty() && !self.sides[side].lost {
            let s = &mut self.sides[side];
            let len = match s.len {
                Some(l) => l,
                None => {
                    let n = (4 - s.mark.len()).min(bytes.len());
                    s.mark.extend_from_slice(&bytes[..n]);
                    bytes = &bytes[n..];
                    let Some(l) = rpc::record_len(&s.mark) else {
                        break;
                    };
                    s.mark.clear();
                    if l < MIN_RECORD {
                        s.lost = true;
                        self.state.event("malformed_data");
                        break;
                    }
                    s.len = Some(l);
                    s.got = 0;
                    s.buf.clear();
                    s.skipping = false;
                    s.chunk = None;
                    s.peeked = false;
                    l
                }
            };
            let n = (len - s.got).min(bytes.len());
            let mut cut = false;
            if !s.skipping {
                let room = self.max_record.saturating_sub(s.buf.len()).min(n);
                s.buf.extend_from_slice(&bytes[..room]);
                cut = room < n;
            }
            s.got += n;
            bytes = &bytes[n..];
            let done = s.got == len;
            let s = &self.sides[side];
            if !s.skipping && (cut || (!done && !s.peeked && s.buf.len() >= PEEK)) {
                self.sides[side].peeked = true;
                // A large READ reply or WRITE call: its first bytes are
                // read, its file data skipped; any other record past the
                // cap is skipped whole.
                if self.large(side) {
                    self.sides[side].skipping = true;
                } else if cut {
                    self.sides[side].skipping = true;
                    self.state.event("record_too_long");
                }
            }
            if done {
                let s = &mut self.sides[side];
                s.len = None;
                let mut buf = std::mem::take(&mut s.buf);
                match (s.skipping, s.chunk.take()) {
                    (false, _) => self.record(side, &buf),
                    (true, Some(c)) => self.state.chunk_end(&c.handle, side == 0, c.xid),
                    (true, None) => {}
                }
                buf.clear();
                self.sides[side].buf = buf;
                self.state.collect(&mut out);
            }
        }
        out
    }

    /// Whether the record being read is a large WRITE call or READ reply
    /// whose first bytes read as such (the rest is then skipped).
    fn large(&mut self, side: usize) -> bool {
        if self.sides[side].chunk.is_some() {
            return true;
        }
        let buf = std::mem::take(&mut self.sides[side].buf);
        let chunk = if side == 0 {
            self.partial_write(&buf)
        } else {
            self.partial_read(&buf)
        };
        let s = &mut self.sides[side];
        s.buf = buf;
        s.chunk = chunk;
        s.chunk.is_some()
    }

    fn partial_write(&mut self, buf: &[u8]) -> Option<Chunk> {
        if rpc::call_procedure(buf)? != proc3::WRITE {
            return None;
        }
        let c = rpc::call(buf)?;
        let w = write_args(&mut Reader::new(c.data), false)?;
        let x = XidMap {
            progver: c.progver,
            procedure: c.procedure,
            file_handle: w.handle.to_vec(),
            ..XidMap::default()
        };
        self.state.remember(c.xid, x);
        self.state.write_call(&c, &w, false);
        Some(Chunk {
            handle: w.handle.to_vec(),
            xid: c.xid,
        })
    }

    fn partial_read(&mut self, buf: &[u8]) -> Option<Chunk> {
        let (xid, _) = rpc::xid_and_type(buf)?;
        if self.state.peek_procedure(xid)? != proc3::READ {
            return None;
        }
        let r: Reply<'_> = rpc::reply_tcp(buf)?;
        let rd = read3(&mut Reader::new(r.data), false)?;
        let x = self.state.request(xid)?.clone();
        self.state.read_reply(&r, &rd, &x, true);
        Some(Chunk {
            handle: x.file_handle,
            xid,
        })
    }

    /// One whole record from `side` (0 the client). A call from the
    /// server and the client's reply to it are NFSv4.1's backchannel on
    /// the client's connection (CB_NULL, CB_RECALL...), no NFS call or
    /// reply: passed over, not malformed.
    fn record(&mut self, side: usize, b: &[u8]) {
        match (side, rpc::xid_and_type(b).map(|(_, t)| t)) {
            (0, Some(rpc::CALL)) => match rpc::call(b) {
                Some(c) => super::on_call(&mut self.state, &c, false),
                None => self.state.event("malformed_data"),
            },
            (1, Some(rpc::REPLY)) => match rpc::reply_tcp(b) {
                Some(r) => super::on_reply(&mut self.state, &r),
                None => self.state.event("malformed_data"),
            },
            (_, Some(_)) => {}
            (_, None) => self.state.event("malformed_data"),
        }
    }
}

impl SessionParser for NfsTcpParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(0, bytes)
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(1, bytes)
    }

    fn gap_initiator(&mut self, _len: u64) -> Vec<L7Message> {
        self.sides[0].lost = true;
        Vec::new()
    }

    fn gap_responder(&mut self, _len: u64) -> Vec<L7Message> {
        self.sides[1].lost = true;
        Vec::new()
    }

    fn flow_end(&mut self) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.state.flush(&mut out);
        out
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.state.next_event()
    }
}
