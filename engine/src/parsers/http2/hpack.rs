//! HPACK header block decoding (RFC 7541): the static table, one dynamic
//! table per direction ([`DynTable`], bounded by the peer's
//! SETTINGS_HEADER_TABLE_SIZE and by a hard cap whatever the peers say),
//! prefix integers with an overflow check, and string literals, raw or
//! Huffman-coded (module `huffman`). [`DynTable::decode_block`] turns a
//! whole header block into [`HeaderField`]s; a representation that does
//! not decode ends the block with an [`HeaderField::Error`] naming it as
//! Suricata does.

use super::huffman;
use crate::parsers::reader::Reader;
use std::collections::VecDeque;

/// The static table (RFC 7541 Appendix A), index 1 first.
pub const STATIC_TABLE: [(&[u8], &[u8]); 61] = [
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
];

/// The dynamic table size both sides start with (RFC 7541 §4.2,
/// SETTINGS_HEADER_TABLE_SIZE's initial value).
pub const DEFAULT_TABLE_SIZE: usize = 4096;
/// Bytes an entry costs beyond its name and value (RFC 7541 §4.1).
const ENTRY_OVERHEAD: usize = 32;
/// Largest integer taken (a prefix integer with more continuation bytes,
/// or a larger value, is Suricata's `HTTP2HeaderDecodeIntegerOverflow`).
const MAX_INT: u64 = u32::MAX as u64;

/// One decoded representation of a header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderField {
    /// A header: name and value.
    Field {
        /// The name (lower case on the wire in HTTP/2; kept as sent).
        name: Box<[u8]>,
        /// The value.
        value: Box<[u8]>,
    },
    /// A dynamic table size update to this size.
    SizeUpdate(u64),
    /// A representation that did not decode (the rest of its block is
    /// lost): Suricata's name for why.
    Error(&'static str),
}

/// An entry of a dynamic table; `id` tells entries apart (Suricata logs an
/// entry referenced twice in one block once).
#[derive(Debug, Clone)]
struct Entry {
    name: Box<[u8]>,
    value: Box<[u8]>,
    id: u64,
}

/// One direction's dynamic table.
#[derive(Debug, Clone)]
pub struct DynTable {
    entries: VecDeque<Entry>,
    /// Bytes held (RFC 7541 §4.1 sizes).
    size: usize,
    /// The current maximum (the encoder's last size update).
    max: usize,
    /// The hard cap: no size update or setting raises `max` above it.
    cap: usize,
    next_id: u64,
}

impl DynTable {
    /// An empty table of the default size, never above `cap` bytes.
    pub fn new(cap: usize) -> Self {
        DynTable {
            entries: VecDeque::new(),
            size: 0,
            max: DEFAULT_TABLE_SIZE.min(cap),
            cap,
            next_id: 0,
        }
    }

    /// Bytes held.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Sets the maximum (a size update or SETTINGS_HEADER_TABLE_SIZE),
    /// capped; evicts what no longer fits. True when the cap cut it.
    pub fn set_max(&mut self, max: u64) -> bool {
        let capped = max > self.cap as u64;
        // Capped to `cap`, a usize.
        self.max = max.min(self.cap as u64) as usize;
        self.evict(0);
        capped
    }

    fn evict(&mut self, room: usize) {
        while self.size + room > self.max {
            match self.entries.pop_back() {
                Some(e) => self.size -= e.name.len() + e.value.len() + ENTRY_OVERHEAD,
                None => break,
            }
        }
    }

    fn insert(&mut self, name: Box<[u8]>, value: Box<[u8]>) -> u64 {
        let cost = name.len() + value.len() + ENTRY_OVERHEAD;
        let id = self.next_id;
        self.next_id += 1;
        if cost > self.max {
            // RFC 7541 §4.4: an entry larger than the table empties it.
            self.entries.clear();
            self.size = 0;
            return id;
        }
        self.evict(cost);
        self.size += cost;
        self.entries.push_front(Entry { name, value, id });
        id
    }

    /// Name, value and (dynamic entries) id at HPACK index `i`.
    fn get(&self, i: u64) -> Option<(&[u8], &[u8], Option<u64>)> {
        let i = usize::try_from(i).ok()?.checked_sub(1)?;
        if let Some(&(n, v)) = STATIC_TABLE.get(i) {
            return Some((n, v, None));
        }
        let e = self.entries.get(i - STATIC_TABLE.len())?;
        Some((&e.name, &e.value, Some(e.id)))
    }

    /// Decodes a whole header block onto `out`: at most `max_fields`
    /// representations (true is returned when there were more; they are
    /// decoded, so the table stays in step, but not kept), strings of at
    /// most `max_string` bytes. Headers that repeat one dynamic entry in
    /// the block are kept once, as Suricata logs them.
    pub fn decode_block(
        &mut self,
        block: &[u8],
        max_fields: usize,
        max_string: usize,
        out: &mut Vec<HeaderField>,
    ) -> bool {
        let mut r = Reader::new(block);
        let mut seen: Vec<u64> = Vec::new();
        let mut dropped = false;
        let mut kept = 0usize;
        while r.any_left() {
            let field = match self.representation(&mut r, max_string) {
                Ok((field, id)) => {
                    if let Some(id) = id {
                        if seen.contains(&id) {
                            continue;
                        }
                        if seen.len() < max_fields {
                            seen.push(id);
                        }
                    }
                    field
                }
                Err(e) => {
                    r.rest();
                    HeaderField::Error(e)
                }
            };
            if kept < max_fields {
                out.push(field);
                kept += 1;
            } else {
                dropped = true;
            }
        }
        dropped
    }

    /// One representation: the field, and the dynamic entry it came from.
    fn representation(
        &mut self,
        r: &mut Reader<'_>,
        max_string: usize,
    ) -> Result<(HeaderField, Option<u64>), &'static str> {
        let first = r.peek().ok_or(DECODE_ERROR)?;
        if first & 0x80 != 0 {
            // Indexed field (§6.1).
            let i = integer(r, 7)?;
            let (n, v, id) = self.get(i).ok_or(OUT_OF_BOUNDS)?;
            let field = HeaderField::Field {
                name: n.into(),
                value: v.into(),
            };
            return Ok((field, id));
        }
        if first & 0xe0 == 0x20 {
            // Dynamic table size update (§6.3).
            let size = integer(r, 5)?;
            self.set_max(size);
            return Ok((HeaderField::SizeUpdate(size), None));
        }
        // Literals: with incremental indexing (§6.2.1, 6-bit index), or
        // without / never indexed (§6.2.2-3, 4-bit index).
        let indexing = first & 0xc0 == 0x40;
        let i = integer(r, if indexing { 6 } else { 4 })?;
        let name: Box<[u8]> = if i == 0 {
            string(r, max_string)?.into()
        } else {
            self.get(i).ok_or(OUT_OF_BOUNDS)?.0.into()
        };
        let value: Box<[u8]> = string(r, max_string)?.into();
        if indexing {
            let id = self.insert(name.clone(), value.clone());
            return Ok((HeaderField::Field { name, value }, Some(id)));
        }
        Ok((HeaderField::Field { name, value }, None))
    }
}

/// Suricata's names for a representation that does not decode.
const DECODE_ERROR: &str = "HTTP2HeaderDecodeError";
const OUT_OF_BOUNDS: &str = "HTTP2HeaderDecodeIndexOutOfBounds";
const INTEGER_OVERFLOW: &str = "HTTP2HeaderDecodeIntegerOverflow";

/// A prefix integer (§5.1) with an `n`-bit prefix.
fn integer(r: &mut Reader<'_>, n: u32) -> Result<u64, &'static str> {
    let mask = (1u8 << n) - 1;
    let first = r.u8().ok_or(DECODE_ERROR)? & mask;
    if first < mask {
        return Ok(u64::from(first));
    }
    let mut v = u64::from(mask);
    let mut shift = 0u32;
    loop {
        let b = r.u8().ok_or(DECODE_ERROR)?;
        v += u64::from(b & 0x7f) << shift;
        if v > MAX_INT {
            return Err(INTEGER_OVERFLOW);
        }
        if b & 0x80 == 0 {
            return Ok(v);
        }
        shift += 7;
        if shift > 28 {
            return Err(INTEGER_OVERFLOW);
        }
    }
}

/// A string literal (§5.2), raw or Huffman-coded, of at most `max` bytes.
fn string(r: &mut Reader<'_>, max: usize) -> Result<Vec<u8>, &'static str> {
    let huffman = r.peek().ok_or(DECODE_ERROR)? & 0x80 != 0;
    let len = integer(r, 7)?;
    let len = usize::try_from(len).map_err(|_| INTEGER_OVERFLOW)?;
    let raw = r.take(len).ok_or(DECODE_ERROR)?;
    if !huffman {
        if raw.len() > max {
            return Err(DECODE_ERROR);
        }
        return Ok(raw.to_vec());
    }
    // Codes are 5 bits at least: 8/5 of the input bounds the output.
    let mut out = Vec::with_capacity((raw.len() * 8 / 5).min(max));
    huffman::decode(raw, max, &mut out).map_err(|_| DECODE_ERROR)?;
    Ok(out)
}
