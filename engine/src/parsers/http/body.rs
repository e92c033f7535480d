//! HTTP bodies: by Content-Length, chunked coding (chunk-size lines,
//! data, trailers) or until close; counted, and the response body hashed
//! and sampled as configured, never buffered whole.

use super::head::trim;
use super::{BodyKind, ChunkState, HttpParser, event};
use sha2::Digest;

/// Longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;

impl HttpParser {
    /// Consumes body bytes; returns bytes used and the body state after
    /// them (`None`: the body is complete).
    pub(super) fn body(
        &mut self,
        request: bool,
        kind: BodyKind,
        b: &[u8],
    ) -> (usize, Option<BodyKind>) {
        match kind {
            BodyKind::Length(left) => {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(b.len());
                self.body_data(request, &b[..n]);
                let left = left - n as u64;
                (n, (left > 0).then_some(BodyKind::Length(left)))
            }
            BodyKind::UntilClose => {
                self.body_data(request, b);
                (b.len(), Some(BodyKind::UntilClose))
            }
            BodyKind::Chunked(state) => self.chunked(request, state, b),
        }
    }

    fn chunked(&mut self, request: bool, state: ChunkState, b: &[u8]) -> (usize, Option<BodyKind>) {
        let chunked = |s| Some(BodyKind::Chunked(s));
        match state {
            ChunkState::Data(left) => {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(b.len());
                self.body_data(request, &b[..n]);
                let left = left - n as u64;
                let next = if left == 0 {
                    ChunkState::DataEnd
                } else {
                    ChunkState::Data(left)
                };
                (n, chunked(next))
            }
            ChunkState::Size | ChunkState::DataEnd | ChunkState::Trailer => {
                let side = self.side_mut(request);
                let Some(nl) = memchr::memchr(b'\n', b) else {
                    if side.buf.len() + b.len() > MAX_LINE {
                        self.errors.bad_chunks += 1;
                        self.lose(request);
                        return (b.len(), None);
                    }
                    side.buf.extend_from_slice(b);
                    return (b.len(), chunked(state));
                };
                let mut line = std::mem::take(&mut side.buf);
                line.extend_from_slice(&b[..nl]);
                let used = nl + 1;
                if state != ChunkState::Trailer {
                    // The chunk-size line or the data's line end, newline
                    // included: part of the message as transferred.
                    self.framing(request, line.len() as u64 + 1);
                }
                let text = trim(line.strip_suffix(b"\r").unwrap_or(&line));
                let next = match state {
                    ChunkState::DataEnd if text.is_empty() => chunked(ChunkState::Size),
                    // Lenient: data that overran its size is skipped.
                    ChunkState::DataEnd => chunked(ChunkState::DataEnd),
                    ChunkState::Trailer if text.is_empty() => None,
                    ChunkState::Trailer => chunked(ChunkState::Trailer),
                    _ => {
                        let hex_end = text
                            .iter()
                            .position(|c| !c.is_ascii_hexdigit())
                            .unwrap_or(text.len());
                        let size = std::str::from_utf8(&text[..hex_end])
                            .ok()
                            .and_then(|s| u64::from_str_radix(s, 16).ok());
                        match size {
                            Some(0) => chunked(ChunkState::Trailer),
                            Some(n) => chunked(ChunkState::Data(n)),
                            None if text.is_empty() => chunked(ChunkState::Size),
                            None => {
                                self.errors.bad_chunks += 1;
                                self.bad_chunk_event(request);
                                self.lose(request);
                                return (used, None);
                            }
                        }
                    }
                };
                line.clear();
                self.side_mut(request).buf = line;
                (used, next)
            }
        }
    }

    /// A chunk-size line without a size: the event, on the transaction
    /// whose body it is.
    fn bad_chunk_event(&mut self, request: bool) {
        let (name, tx) = if request {
            let tx = self.pending.back().filter(|_| self.req_body_open);
            (event::INVALID_REQUEST_CHUNK_LEN, tx)
        } else {
            (event::INVALID_RESPONSE_CHUNK_LEN, self.current.as_ref())
        };
        let tx_id = tx.map(|t| t.tx_id);
        self.event(name, tx_id);
    }

    /// Chunked coding's framing bytes, counted in the response's message
    /// length.
    fn framing(&mut self, request: bool, n: u64) {
        if !request && let Some(tx) = self.current.as_mut() {
            tx.response_message_len += n;
        }
    }

    fn body_data(&mut self, request: bool, data: &[u8]) {
        if request {
            if self.req_body_open
                && let Some(tx) = self.pending.back_mut()
            {
                tx.request_body_len += data.len() as u64;
            }
            return;
        }
        let Some(tx) = self.current.as_mut() else {
            return;
        };
        tx.response_body_len += data.len() as u64;
        tx.response_message_len += data.len() as u64;
        if let Some(h) = self.hasher.as_mut() {
            h.update(data);
        }
        let room = self.cfg.body_sample_bytes.saturating_sub(self.sample.len());
        if room > 0 {
            self.sample.extend_from_slice(&data[..room.min(data.len())]);
        }
    }
}
