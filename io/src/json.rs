//! A minimal JSON writer into a reused byte buffer: the hot output path
//! renders records without building a value tree. Strings are escaped per
//! RFC 8259; bytes that are not UTF-8 are kept as `\u00XX` escapes of each
//! byte (lossless and reversible, never dropped).

use flowscope_engine::Timestamp;
use std::net::IpAddr;

/// A member name. This crate's own field names are `&'static str`
/// literals, written as they are (a debug assertion checks that they need
/// no escaping). A name taken from the traffic (PostgreSQL startup
/// parameters, MQTT user properties) or composed at run time is a
/// [`Key::escaped`], escaped like any string, so the record stays JSON:
/// a name borrowed for less than `'static` does not convert to a `Key`
/// without saying so.
///
/// ```
/// use flowscope_io::{JsonObject, Key};
/// let mut out = Vec::new();
/// let from_traffic = String::from("user\"name");
/// let mut o = JsonObject::new(&mut out);
/// o.str("proto", "TCP").str(Key::escaped(&from_traffic), "x");
/// o.finish_line();
/// assert_eq!(out, b"{\"proto\":\"TCP\",\"user\\\"name\":\"x\"}\n");
/// ```
///
/// A name that is not `'static` must say where it came from:
///
/// ```compile_fail
/// use flowscope_io::JsonObject;
/// let mut out = Vec::new();
/// let from_traffic = String::from("user\"name");
/// JsonObject::new(&mut out).str(from_traffic.as_str(), "x");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Key<'k> {
    name: &'k str,
    /// Whether the name is escaped when written.
    escape: bool,
}

impl<'k> Key<'k> {
    /// A name that came from the traffic, or was composed at run time:
    /// escaped when written.
    pub fn escaped(name: &'k str) -> Self {
        Key { name, escape: true }
    }
}

impl From<&'static str> for Key<'static> {
    fn from(name: &'static str) -> Self {
        debug_assert!(
            !name.bytes().any(needs_escape),
            "field name {name:?} needs escaping: use Key::escaped"
        );
        Key {
            name,
            escape: false,
        }
    }
}

/// Builds one JSON object at a time into a caller-owned buffer.
#[derive(Debug)]
pub struct JsonObject<'a> {
    out: &'a mut Vec<u8>,
    /// Per open object or array (innermost last): nothing written in it
    /// yet, and its closing byte. A fixed stack: no allocation per record.
    open: [(bool, u8); MAX_DEPTH],
    depth: usize,
}

/// Lower-case hex digits.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Deepest nesting of a record (DNS answers with SOA data reach 5).
const MAX_DEPTH: usize = 16;

impl<'a> JsonObject<'a> {
    /// Opens an object at the end of `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        JsonObject {
            out,
            open: [(true, b'}'); MAX_DEPTH],
            depth: 1,
        }
    }

    fn push(&mut self, closer: u8) {
        assert!(
            self.depth < MAX_DEPTH,
            "JSON nesting deeper than {MAX_DEPTH}"
        );
        self.open[self.depth] = (true, closer);
        self.depth += 1;
    }

    /// A comma unless this is the container's first member.
    fn separator(&mut self) {
        if self.comma_due() {
            self.out.push(b',');
        }
    }

    /// Whether the next member needs a comma before it (not the open
    /// container's first); it is no longer the first after this.
    fn comma_due(&mut self) -> bool {
        !std::mem::replace(&mut self.open[self.depth - 1].0, false)
    }

    #[inline]
    fn key<'k>(&mut self, k: impl Into<Key<'k>>) {
        let Key { name, escape } = k.into();
        if escape {
            self.separator();
            self.out.push(b'"');
            escape_into(self.out, name.as_bytes());
            self.out.extend_from_slice(b"\":");
        } else {
            let comma = self.comma_due();
            put_key(self.out, comma, name.as_bytes());
        }
    }

    /// `"k":"v"`.
    pub fn str<'k>(&mut self, k: impl Into<Key<'k>>, v: &str) -> &mut Self {
        self.key(k);
        write_str(self.out, v);
        self
    }

    /// `"k":"v"` for raw bytes (escaped where not UTF-8).
    pub fn bytes<'k>(&mut self, k: impl Into<Key<'k>>, v: &[u8]) -> &mut Self {
        self.key(k);
        write_bytes(self.out, v);
        self
    }

    /// `"k":n`.
    pub fn u64<'k>(&mut self, k: impl Into<Key<'k>>, v: u64) -> &mut Self {
        self.key(k);
        put_u64(self.out, v);
        self
    }

    /// `"k":n` for a signed number.
    pub fn i64<'k>(&mut self, k: impl Into<Key<'k>>, v: i64) -> &mut Self {
        self.key(k);
        if v < 0 {
            self.out.push(b'-');
        }
        put_u64(self.out, v.unsigned_abs());
        self
    }

    /// `"k":x` for a float, as Rust writes it shortest (`1`, `0.5`,
    /// `1.100000023841858`); `null` when not finite.
    pub fn f64<'k>(&mut self, k: impl Into<Key<'k>>, v: f64) -> &mut Self {
        use std::io::Write;
        self.key(k);
        if v.is_finite() {
            // Writing to a Vec cannot fail.
            let _ = write!(self.out, "{v}");
        } else {
            self.out.extend_from_slice(b"null");
        }
        self
    }

    /// `"k":true|false`.
    pub fn bool<'k>(&mut self, k: impl Into<Key<'k>>, v: bool) -> &mut Self {
        self.key(k);
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        self
    }

    /// `"k":"<address>"`.
    pub fn ip<'k>(&mut self, k: impl Into<Key<'k>>, v: IpAddr) -> &mut Self {
        self.key(k);
        self.out.push(b'"');
        write_ip(self.out, v);
        self.out.push(b'"');
        self
    }

    /// `"k":"hh"`: a byte as two lower-case hex digits.
    pub fn hex_u8<'k>(&mut self, k: impl Into<Key<'k>>, v: u8) -> &mut Self {
        self.key(k);
        self.out.extend_from_slice(&[
            b'"',
            HEX[usize::from(v >> 4)],
            HEX[usize::from(v & 0xf)],
            b'"',
        ]);
        self
    }

    /// `"k":"h..."`: a 16-bit value in lower-case hex without leading
    /// zeros (`0` for zero).
    pub fn hex_u16<'k>(&mut self, k: impl Into<Key<'k>>, v: u16) -> &mut Self {
        self.key(k);
        let mut t = [b'"'; 6];
        let n = hex_group(&mut t[1..], v);
        put(self.out, &t[..n + 2]);
        self
    }

    /// `"k":"<EVE time>"`: ISO 8601 with microseconds and Suricata's
    /// `+0000` offset (as `write_eve_time` writes it).
    pub fn ts<'k>(&mut self, k: impl Into<Key<'k>>, v: Timestamp) -> &mut Self {
        self.key(k);
        self.out.push(b'"');
        write_eve_time(self.out, v);
        self.out.push(b'"');
        self
    }

    /// `"k":[n,...]`.
    pub fn u64_array<'k>(
        &mut self,
        k: impl Into<Key<'k>>,
        v: impl IntoIterator<Item = u64>,
    ) -> &mut Self {
        self.key(k);
        self.out.push(b'[');
        for (i, n) in v.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            put_u64(self.out, n);
        }
        self.out.push(b']');
        self
    }

    /// `"k":[{"a":n,"b":m},...]`: an array of objects of two numbers.
    pub fn pair_array<'k>(
        &mut self,
        k: impl Into<Key<'k>>,
        names: (&'static str, &'static str),
        v: impl IntoIterator<Item = (u64, u64)>,
    ) -> &mut Self {
        self.key(k);
        self.out.push(b'[');
        for (i, (a, b)) in v.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            let mut o = JsonObject::new(self.out);
            o.u64(names.0, a).u64(names.1, b);
            o.end();
        }
        self.out.push(b']');
        self
    }

    /// Opens a nested object under `k`; close it with [`JsonObject::end`].
    pub fn begin<'k>(&mut self, k: impl Into<Key<'k>>) -> &mut Self {
        self.key(k);
        self.out.push(b'{');
        self.push(b'}');
        self
    }

    /// Opens an array under `k`; fill it with [`JsonObject::item_object`],
    /// [`JsonObject::item_bytes`] or [`JsonObject::item_u64`], close it
    /// with [`JsonObject::end`].
    pub fn begin_array<'k>(&mut self, k: impl Into<Key<'k>>) -> &mut Self {
        self.key(k);
        self.out.push(b'[');
        self.push(b']');
        self
    }

    /// Opens an object as the next item of the open array.
    pub fn item_object(&mut self) -> &mut Self {
        self.separator();
        self.out.push(b'{');
        self.push(b'}');
        self
    }

    /// A string item (bytes escaped where not UTF-8) of the open array.
    pub fn item_bytes(&mut self, v: &[u8]) -> &mut Self {
        self.separator();
        write_bytes(self.out, v);
        self
    }

    /// A number item of the open array.
    pub fn item_u64(&mut self, v: u64) -> &mut Self {
        self.separator();
        put_u64(self.out, v);
        self
    }

    /// `"k":["v",...]` of byte strings.
    pub fn bytes_array<'k, 'v>(
        &mut self,
        k: impl Into<Key<'k>>,
        v: impl IntoIterator<Item = &'v [u8]>,
    ) -> &mut Self {
        self.begin_array(k);
        for s in v {
            self.item_bytes(s);
        }
        self.end()
    }

    /// Where the next byte goes: with [`JsonObject::written_since`], what a
    /// run of member calls wrote.
    pub(crate) fn mark(&self) -> usize {
        self.out.len()
    }

    /// The bytes written since `mark` (empty if `mark` is past the end).
    pub(crate) fn written_since(&self, mark: usize) -> &[u8] {
        self.out.get(mark..).unwrap_or_default()
    }

    /// Appends members written earlier by member calls of another object
    /// at the same depth, each after a first member (so `members` starts
    /// with its comma). This container must have a member already: its
    /// comma state is then the same after as after those calls.
    pub(crate) fn raw_members(&mut self, members: &[u8]) -> &mut Self {
        debug_assert!(!self.open[self.depth - 1].0 && members.first() == Some(&b','));
        put(self.out, members);
        self
    }

    /// Closes the innermost open object or array (the outermost object
    /// included).
    pub fn end(&mut self) -> &mut Self {
        if self.depth > 0 {
            self.depth -= 1;
            self.out.push(self.open[self.depth].1);
        }
        self
    }

    /// Closes every open object and terminates the line.
    pub fn finish_line(mut self) {
        while self.depth > 0 {
            self.end();
        }
        self.out.push(b'\n');
    }
}

/// Writes a JSON string literal.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escape_into(out, s.as_bytes());
    out.push(b'"');
}

/// Writes bytes as a JSON string: valid UTF-8 runs as text, every invalid
/// byte as `\u00XX`.
pub fn write_bytes(out: &mut Vec<u8>, mut v: &[u8]) {
    out.push(b'"');
    // Most values (names, paths, agents) are printable ASCII: one pass
    // that checks both UTF-8 and escaping, then one copy.
    // (A fold, not `all`: no early exit, so the loop vectorises.)
    if v.iter().fold(true, |ok, &b| {
        ok & (0x20..0x7f).contains(&b) & (b != b'"') & (b != b'\\')
    }) {
        put(out, v);
        out.push(b'"');
        return;
    }
    loop {
        match std::str::from_utf8(v) {
            Ok(s) => {
                escape_into(out, s.as_bytes());
                break;
            }
            Err(e) => {
                let (good, rest) = v.split_at(e.valid_up_to());
                escape_into(out, good);
                let bad = e.error_len().unwrap_or(rest.len());
                for &b in &rest[..bad] {
                    push_u_escape(out, b);
                }
                v = &rest[bad..];
            }
        }
    }
    out.push(b'"');
}

/// `,"name":` (the comma when asked): one capacity check, and a name of
/// up to 32 bytes copied in place of a call to `memcpy`.
#[inline]
fn put_key(out: &mut Vec<u8>, comma: bool, name: &[u8]) {
    let n = name.len();
    out.reserve(n + 4);
    let len = out.len();
    let c = usize::from(comma);
    #[allow(unsafe_code)]
    // SAFETY: `reserve` made room for `n + 4` bytes past `len`; every write
    // below lands in `len..len + c + n + 3` (c ≤ 1), and the reads are of
    // `name` within its bounds; the bytes are initialised before
    // `set_len` covers them.
    unsafe {
        let p = out.as_mut_ptr().add(len);
        *p = b',';
        let q = p.add(c);
        *q = b'"';
        small_copy(q.add(1), name);
        *q.add(1 + n) = b'"';
        *q.add(2 + n) = b':';
        out.set_len(len + c + n + 3);
    }
}

/// `out.extend_from_slice(s)` without a call to `memcpy` for short `s`.
#[inline]
fn put(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len());
    let len = out.len();
    #[allow(unsafe_code)]
    // SAFETY: `reserve` made room for `s.len()` bytes past `len`, which
    // `small_copy` initialises before `set_len` covers them.
    unsafe {
        small_copy(out.as_mut_ptr().add(len), s);
        out.set_len(len + s.len());
    }
}

/// Writes `n` in decimal into `out`: its digits composed where they end
/// up (in the spare capacity), not in a buffer copied from.
#[inline]
pub(crate) fn put_u64(out: &mut Vec<u8>, mut n: u64) {
    let digits = n.checked_ilog10().map_or(1, |l| l as usize + 1);
    out.reserve(digits);
    let len = out.len();
    let spare = &mut out.spare_capacity_mut()[..digits];
    let mut i = digits;
    while i >= 2 {
        let [hi, lo] = low_pair(n);
        spare[i - 2].write(hi);
        spare[i - 1].write(lo);
        n /= 100;
        i -= 2;
    }
    if i == 1 {
        spare[0].write(low_pair(n)[1]);
    }
    #[allow(unsafe_code)]
    // SAFETY: the `digits` bytes past `len` were all written just above.
    unsafe {
        out.set_len(len + digits);
    }
}

/// Copies `src` to `dst`: two overlapping word loads and stores for up to
/// 32 bytes, `copy_nonoverlapping` beyond.
///
/// # Safety
/// `dst` is valid for `src.len()` bytes of writes and does not overlap `src`.
#[inline(always)]
#[allow(unsafe_code)]
unsafe fn small_copy(dst: *mut u8, src: &[u8]) {
    let n = src.len();
    let s = src.as_ptr();
    // SAFETY: each read is of `src` at offsets within `0..n`, each write of
    // `dst` within `0..n` (the caller's promise); unaligned accesses.
    unsafe {
        match n {
            0..=3 => {
                for i in 0..n {
                    *dst.add(i) = *s.add(i);
                }
            }
            4..=7 => {
                let a = s.cast::<u32>().read_unaligned();
                let b = s.add(n - 4).cast::<u32>().read_unaligned();
                dst.cast::<u32>().write_unaligned(a);
                dst.add(n - 4).cast::<u32>().write_unaligned(b);
            }
            8..=15 => {
                let a = s.cast::<u64>().read_unaligned();
                let b = s.add(n - 8).cast::<u64>().read_unaligned();
                dst.cast::<u64>().write_unaligned(a);
                dst.add(n - 8).cast::<u64>().write_unaligned(b);
            }
            16..=32 => {
                let a = s.cast::<u128>().read_unaligned();
                let b = s.add(n - 16).cast::<u128>().read_unaligned();
                dst.cast::<u128>().write_unaligned(a);
                dst.add(n - 16).cast::<u128>().write_unaligned(b);
            }
            _ => std::ptr::copy_nonoverlapping(s, dst, n),
        }
    }
}

fn push_u_escape(out: &mut Vec<u8>, b: u8) {
    out.extend_from_slice(b"\\u00");
    out.push(HEX[usize::from(b >> 4)]);
    out.push(HEX[usize::from(b & 0xf)]);
}

/// Whether a byte must be escaped in a JSON string.
#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\' || b == 0x7f
}

fn escape_into(out: &mut Vec<u8>, s: &[u8]) {
    // Most strings (names, reasons, addresses) need nothing: one pass that
    // the compiler vectorizes (a fold: no early exit), then one copy.
    if !s.iter().fold(false, |any, &b| any | needs_escape(b)) {
        put(out, s);
        return;
    }
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f | 0x7f => None,
            _ => continue,
        };
        put(out, &s[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => push_u_escape(out, b),
        }
        start = i + 1;
    }
    put(out, &s[start..]);
}

/// Writes `YYYY-MM-DDTHH:MM:SS.ffffff+0000` (UTC, microseconds): the form
/// Suricata 7 writes in EVE records (ISO 8601 basic offset, no colon).
pub fn write_eve_time(out: &mut Vec<u8>, ts: Timestamp) {
    let secs = ts.secs();
    let rem = secs % 86_400;
    // Every record has one or three: the text is composed in place, one
    // copy into the output; the date is the last one's more often than
    // not.
    let mut t = *b"0000-00-00T00:00:00.000000+0000";
    t[..10].copy_from_slice(&date_text(secs / 86_400));
    time_of_day(&mut t[11..19], rem);
    decimal(&mut t[20..26], u64::from(ts.subsec_micros()));
    put(out, &t);
}

/// `YYYY-MM-DD` of the day `day` days after 1970-01-01, remembered per
/// thread for the next record. A timestamp (u64 nanoseconds) ends in
/// 2554: the year has four digits.
fn date_text(day: u64) -> [u8; 10] {
    thread_local! {
        static LAST: std::cell::Cell<(u64, [u8; 10])> =
            const { std::cell::Cell::new((u64::MAX, [0; 10])) };
    }
    LAST.with(|last| {
        let (known, text) = last.get();
        if known == day {
            return text;
        }
        let (y, m, d) = civil_from_days(day as i64);
        let mut text = *b"0000-00-00";
        date(&mut text, (y.unsigned_abs(), m, d));
        last.set((day, text));
        text
    })
}

/// Fills the digits of `YYYY-MM-DD` at the start of `t` (its dashes
/// already there): a four-digit year, the month and the day.
fn date(t: &mut [u8], (year, month, day): (u64, u64, u64)) {
    decimal(&mut t[0..4], year);
    decimal(&mut t[5..7], month);
    decimal(&mut t[8..10], day);
}

/// Fills the digits of `HH:MM:SS` at the start of `t` (its colons already
/// there): the time of day `rem` seconds after midnight.
fn time_of_day(t: &mut [u8], rem: u64) {
    decimal(&mut t[0..2], rem / 3600);
    decimal(&mut t[3..5], rem / 60 % 60);
    decimal(&mut t[6..8], rem % 60);
}

/// Writes `n` as decimal digits filling `into`, zero-padded on the left
/// (the lowest digits when `n` has more).
fn decimal(into: &mut [u8], mut n: u64) {
    // Two digits per division, from a table of the pairs 00..99.
    let mut i = into.len();
    while i >= 2 {
        into[i - 2..i].copy_from_slice(&low_pair(n));
        n /= 100;
        i -= 2;
    }
    if i == 1 {
        into[0] = low_pair(n)[1];
    }
}

/// The last two decimal digits of `n`.
#[inline(always)]
fn low_pair(n: u64) -> [u8; 2] {
    let p = (n % 100) as usize * 2;
    [PAIRS[p], PAIRS[p + 1]]
}

/// The decimal pairs `00` to `99`, concatenated.
const PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Writes an address as Rust's `Display` does — dotted quad; RFC 5952
/// for IPv6 (lower-case hex, the first longest run of two or more zero
/// groups as `::`, `::ffff:a.b.c.d` for IPv4-mapped) — composed in place
/// without the formatting machinery: every record has two.
pub fn write_ip(out: &mut Vec<u8>, v: IpAddr) {
    match v {
        IpAddr::V4(a) => write_ipv4(out, a.octets()),
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                out.extend_from_slice(b"::ffff:");
                return write_ipv4(out, v4.octets());
            }
            let groups = a.segments();
            // The first longest run of zero groups.
            let (mut best, mut best_len, mut run) = (0, 0, 0);
            for (i, &g) in groups.iter().enumerate() {
                run = if g == 0 { run + 1 } else { 0 };
                if run > best_len {
                    (best, best_len) = (i + 1 - run, run);
                }
            }
            let mut t = [0u8; 39];
            let mut n = 0;
            let mut i = 0;
            while i < groups.len() {
                if best_len > 1 && i == best {
                    t[n..n + 2].copy_from_slice(b"::");
                    n += 2;
                    i += best_len;
                    continue;
                }
                if i > 0 && !(best_len > 1 && i == best + best_len) {
                    t[n] = b':';
                    n += 1;
                }
                n += hex_group(&mut t[n..], groups[i]);
                i += 1;
            }
            put(out, &t[..n]);
        }
    }
}

fn write_ipv4(out: &mut Vec<u8>, octets: [u8; 4]) {
    // Each octet as a four-byte store (its digits and a dot); the next
    // octet's store lands right after the digits and dot it needs.
    out.reserve(16);
    let len = out.len();
    let spare = &mut out.spare_capacity_mut()[..16];
    let mut n = 0;
    for o in octets {
        let (text, used) = OCTETS[usize::from(o)];
        for (slot, b) in spare[n..n + 4].iter_mut().zip(text) {
            slot.write(b);
        }
        n += usize::from(used);
    }
    #[allow(unsafe_code)]
    // SAFETY: the `n - 1` bytes past `len` (the four octets and the dots
    // between them, not the last dot) were all written just above.
    unsafe {
        out.set_len(len + n - 1);
    }
}

/// Each octet's text followed by a dot (padded to four bytes), and how
/// many of those bytes it uses.
const OCTETS: [([u8; 4], u8); 256] = {
    let mut t = [([0u8; 4], 0u8); 256];
    let mut i = 0;
    while i < 256 {
        let (h, d, u) = ((i / 100) as u8, (i / 10 % 10) as u8, (i % 10) as u8);
        t[i] = if i >= 100 {
            ([b'0' + h, b'0' + d, b'0' + u, b'.'], 4)
        } else if i >= 10 {
            ([b'0' + d, b'0' + u, b'.', 0], 3)
        } else {
            ([b'0' + u, b'.', 0, 0], 2)
        };
        i += 1;
    }
    t
};

/// Writes a group as lower-case hex without leading zeros; its length.
fn hex_group(into: &mut [u8], g: u16) -> usize {
    let digits = (4 - g.leading_zeros() as usize / 4).max(1);
    for (k, c) in into[..digits].iter_mut().enumerate() {
        *c = HEX[usize::from(g >> (4 * (digits - 1 - k)) & 0xf)];
    }
    digits
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
/// Writes `YYYY-MM-DDTHH:MM:SS` (UTC, no fraction, no offset: the form
/// Suricata uses for certificate validity) for Unix seconds `secs`.
pub fn write_datetime_secs(out: &mut Vec<u8>, secs: i64) {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    if let Ok(year @ 0..=9999) = u64::try_from(y) {
        let mut t = *b"0000-00-00T00:00:00";
        date(&mut t, (year, m, d));
        time_of_day(&mut t[11..], rem.unsigned_abs());
        out.extend_from_slice(&t);
        return;
    }
    use std::io::Write;
    // Writing to a Vec cannot fail.
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
}

fn civil_from_days(z: i64) -> (i64, u64, u64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests;
