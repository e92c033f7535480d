//! The HTTP/2 frames once whole ([`Http2Parser`]'s frame handlers):
//! SETTINGS, HEADERS, PUSH_PROMISE and CONTINUATION (header blocks
//! gathered and decoded with HPACK), RST_STREAM, GOAWAY, PRIORITY,
//! WINDOW_UPDATE and PING; the payload layouts (padding, priority,
//! promised stream) and Suricata's names of error codes and settings.

use super::{
    ACK, END_HEADERS, END_STREAM, ErrorCode, Frame, HeaderField, Http2Parser, LAST_KNOWN_SETTING,
    PADDED, PRIORITY_FLAG, Pending, SETTINGS_HEADER_TABLE_SIZE, Setting, ftype,
};

impl Http2Parser {
    /// A whole buffered frame payload of side `k`.
    pub(super) fn frame(&mut self, k: usize, p: &[u8]) {
        let f = self.sides[k].frame;
        match f.ftype {
            ftype::HEADERS => self.headers_frame(k, f, p),
            ftype::CONTINUATION => self.continuation_frame(k, f, p),
            ftype::PUSH_PROMISE => self.push_promise_frame(k, f, p),
            ftype::SETTINGS => self.settings_frame(k, f, p),
            ftype::GOAWAY => {
                if p.len() < 8 {
                    self.event("invalid_frame_length", None);
                    self.global(k);
                    return;
                }
                let code = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
                self.global(k).error(ErrorCode { code, goaway: true });
            }
            ftype::RST_STREAM | ftype::PRIORITY => {
                let i = if f.stream == 0 {
                    self.event("invalid_frame_header", None);
                    self.global(k);
                    return;
                } else {
                    self.stream(f.stream, f.ftype)
                };
                let want = if f.ftype == ftype::RST_STREAM { 4 } else { 5 };
                if p.len() != want {
                    let tx = self.streams[i].tx_id;
                    self.event("invalid_frame_length", Some(tx));
                    return;
                }
                let t = &mut self.streams[i];
                if f.ftype == ftype::RST_STREAM {
                    let code = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
                    t.side(k).error(ErrorCode {
                        code,
                        goaway: false,
                    });
                    t.closed = true;
                } else {
                    t.side(k).priority(p[4]);
                }
            }
            _ => {}
        }
    }

    fn settings_frame(&mut self, k: usize, f: Frame, p: &[u8]) {
        if f.stream != 0 {
            self.event("invalid_frame_header", None);
        }
        // An acknowledgement (or an empty frame) is no transaction.
        if f.flags & ACK != 0 || p.is_empty() {
            return;
        }
        if !p.len().is_multiple_of(6) {
            self.event("invalid_frame_length", None);
        }
        self.settings(k, p);
    }

    /// A SETTINGS payload of side `k` (not an acknowledgement), as
    /// Suricata reads it: up to the first identifier it does not name;
    /// a transaction of its own.
    pub(super) fn settings(&mut self, k: usize, p: &[u8]) {
        let mut settings = Vec::with_capacity(p.len() / 6);
        for c in p.chunks_exact(6) {
            let id = u16::from_be_bytes([c[0], c[1]]);
            if id == 0 || id > LAST_KNOWN_SETTING {
                break;
            }
            let value = u32::from_be_bytes([c[2], c[3], c[4], c[5]]);
            if id == SETTINGS_HEADER_TABLE_SIZE {
                // The size the other side's encoder may use.
                if self.tables[1 - k].set_max(u64::from(value)) {
                    self.event("header_table_capped", None);
                }
            }
            settings.push(Setting { id, value });
        }
        self.global(k).settings = settings;
    }

    /// Strips padding (and, with PRIORITY, the priority fields) from a
    /// HEADERS payload: the weight and the block fragment.
    fn headers_frame(&mut self, k: usize, f: Frame, p: &[u8]) {
        if f.stream == 0 {
            self.event("invalid_frame_header", None);
            self.global(k);
            return;
        }
        let i = self.stream(f.stream, f.ftype);
        let Some((weight, fragment)) = headers_payload(f.flags, p) else {
            let tx = self.streams[i].tx_id;
            self.event("invalid_frame_data", Some(tx));
            return;
        };
        let t = &mut self.streams[i];
        let side = t.side(k);
        side.header_frames += 1;
        if let Some(w) = weight {
            side.priority(w);
        }
        if f.flags & END_STREAM != 0 {
            side.end_stream = true;
        }
        self.start_block(k, f, f.stream, fragment);
        if let Some(i) = self.streams.iter().position(|t| t.stream_id == f.stream) {
            self.close_if_done(i);
        }
    }

    fn push_promise_frame(&mut self, k: usize, f: Frame, p: &[u8]) {
        let Some((promised, fragment)) = push_promise_payload(f.flags, p) else {
            self.event("invalid_frame_data", None);
            return;
        };
        if promised == 0 {
            self.event("invalid_frame_data", None);
            return;
        }
        // Suricata's transaction is the promised stream's, response side.
        let i = self.stream(promised, f.ftype);
        self.streams[i].side(1).header_frames += 1;
        self.start_block(k, f, promised, fragment);
    }

    fn continuation_frame(&mut self, k: usize, f: Frame, p: &[u8]) {
        let Some(pending) = self.sides[k].pending else {
            self.event("invalid_frame_data", None);
            return;
        };
        if let Some(i) = self
            .streams
            .iter()
            .position(|t| t.stream_id == pending.stream)
        {
            self.streams[i].side(k).header_frames += 1;
        }
        self.add_fragment(k, f, pending, p);
    }

    fn start_block(&mut self, k: usize, f: Frame, stream: u32, fragment: &[u8]) {
        self.sides[k].block.clear();
        let pending = Pending {
            stream,
            lost: false,
        };
        self.add_fragment(k, f, pending, fragment);
    }

    /// Adds a fragment to side `k`'s header block; decodes the block at
    /// END_HEADERS.
    fn add_fragment(&mut self, k: usize, f: Frame, mut pending: Pending, fragment: &[u8]) {
        let s = &mut self.sides[k];
        if !pending.lost && s.block.len() + fragment.len() > self.cfg.max_header_block_bytes {
            pending.lost = true;
            s.block = Vec::new();
            self.event("header_block_too_long", None);
        }
        let s = &mut self.sides[k];
        if !pending.lost {
            s.block.extend_from_slice(fragment);
        }
        if f.flags & END_HEADERS == 0 {
            s.pending = Some(pending);
            return;
        }
        s.pending = None;
        if pending.lost {
            // The dynamic table's updates in the block are lost too.
            self.stop(k);
            return;
        }
        let block = std::mem::take(&mut self.sides[k].block);
        self.decode_block(k, pending.stream, &block);
        let mut block = block;
        block.clear();
        self.sides[k].block = block;
    }

    fn decode_block(&mut self, k: usize, stream: u32, block: &[u8]) {
        let Some(i) = self.streams.iter().position(|t| t.stream_id == stream) else {
            return;
        };
        // Push promises (server side, another stream) fill the promised
        // stream's response side: side `k` either way.
        let max_headers = self.cfg.max_headers;
        let max_string = self.cfg.max_header_block_bytes;
        let t = &mut self.streams[i];
        let tx = t.tx_id;
        let side = t.side(k);
        let room = max_headers.saturating_sub(side.headers.len());
        let before = side.headers.len();
        let dropped = self.tables[k].decode_block(block, room, max_string, &mut side.headers);
        let errors = side.headers[before..]
            .iter()
            .any(|h| matches!(h, HeaderField::Error(_)));
        if dropped && !side.headers_dropped {
            side.headers_dropped = true;
            self.event("too_many_headers", Some(tx));
        }
        if errors {
            self.event("invalid_header", Some(tx));
        }
    }
}

/// HEADERS payload: the priority weight (with PRIORITY) and the block
/// fragment, padding removed; `None` when the lengths do not add up.
fn headers_payload(flags: u8, p: &[u8]) -> Option<(Option<u8>, &[u8])> {
    let (pad, mut rest) = if flags & PADDED != 0 {
        let (&pad, rest) = p.split_first()?;
        (usize::from(pad), rest)
    } else {
        (0, p)
    };
    let mut weight = None;
    if flags & PRIORITY_FLAG != 0 {
        let (prio, tail) = rest.split_first_chunk::<5>()?;
        weight = Some(prio[4]);
        rest = tail;
    }
    let end = rest.len().checked_sub(pad)?;
    Some((weight, &rest[..end]))
}

/// PUSH_PROMISE payload: the promised stream and the block fragment.
fn push_promise_payload(flags: u8, p: &[u8]) -> Option<(u32, &[u8])> {
    let (pad, rest) = if flags & PADDED != 0 {
        let (&pad, rest) = p.split_first()?;
        (usize::from(pad), rest)
    } else {
        (0, p)
    };
    let (id, rest) = rest.split_first_chunk::<4>()?;
    let end = rest.len().checked_sub(pad)?;
    Some((u32::from_be_bytes(*id) & 0x7fff_ffff, &rest[..end]))
}

/// Suricata's name of an error code (RST_STREAM: `NoError`; GOAWAY writes
/// it upper case), `None` for codes RFC 9113 does not define.
pub fn error_name(code: u32) -> Option<&'static str> {
    Some(match code {
        0 => "NoError",
        1 => "ProtocolError",
        2 => "InternalError",
        3 => "FlowControlError",
        4 => "SettingsTimeout",
        5 => "StreamClosed",
        6 => "FrameSizeError",
        7 => "RefusedStream",
        8 => "Cancel",
        9 => "CompressionError",
        10 => "ConnectError",
        11 => "EnhanceYourCalm",
        12 => "InadequateSecurity",
        13 => "Http11Required",
        _ => return None,
    })
}

/// Suricata's name of a setting (`SETTINGS` and the RFC's name without
/// `SETTINGS_` or underscores).
pub fn setting_name(id: u16) -> Option<&'static str> {
    Some(match id {
        1 => "SETTINGSHEADERTABLESIZE",
        2 => "SETTINGSENABLEPUSH",
        3 => "SETTINGSMAXCONCURRENTSTREAMS",
        4 => "SETTINGSINITIALWINDOWSIZE",
        5 => "SETTINGSMAXFRAMESIZE",
        6 => "SETTINGSMAXHEADERLISTSIZE",
        _ => return None,
    })
}
