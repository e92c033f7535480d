//! The `ftp-data` stage ([`FtpDataStage`]): recognises the data
//! connections FTP control connections announce, on the one ordered
//! stream of EVE lines, after the shards' outputs are merged (or as the
//! inline engine writes them). The control and data connections may be
//! tracked on different shards, which share nothing; the announcement
//! travels in the ordered stream instead: each `RETR`/`STOR` after a
//! negotiated port ([`FtpTransfer`]) is rendered as a marker line (a NUL
//! byte, then a JSON object: the control flow's `flow_id`, endpoints and
//! time, the port, the command and the file name), which this stage takes
//! out of the output and keeps as an expectation. The first later TCP
//! `flow` record between the same two addresses whose responder port is
//! the announced one, and which started within `WINDOW_NS` (300 s) of the
//! announcement, is the data connection: it gets `app_proto: "ftp-data"`
//! and `parent_id` (the control flow's `flow_id`), and Suricata's
//! `ftp_data` record (`filename`, `command`) is written just before it.
//! The stream's order does not depend on the shard count, so neither does
//! the result.
//!
//! Bounded: at most `MAX_EXPECTATIONS` (4096) wait (the oldest is dropped for a
//! new one, counted `evicted`); one not matched `HOLD_NS` (6 h) after it was
//! made is dropped (`expired`). The figures go into the `stats` record as
//! `ftp_data` once any announcement was seen.

use crate::json::JsonObject;
use flowscope_engine::parsers::ftp::FtpTransfer;
use flowscope_engine::{Orientation, Timestamp};
use std::collections::VecDeque;

/// Expectations kept at once.
pub const MAX_EXPECTATIONS: usize = 4096;
/// The data connection starts at most this long after its announcement.
pub const WINDOW_NS: u64 = 300 * 1_000_000_000;
/// An expectation is dropped once a record this much later is seen
/// (a transfer may last long; its flow record comes at its end).
pub const HOLD_NS: u64 = 6 * 3600 * 1_000_000_000;

/// The stage's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FtpDataCounters {
    /// Transfers announced.
    pub expectations: u64,
    /// Data connections recognised.
    pub matched: u64,
    /// Announcements dropped unmatched after `HOLD_NS` (6 h).
    pub expired: u64,
    /// Announcements dropped for newer ones past `MAX_EXPECTATIONS` (4096).
    pub evicted: u64,
}

/// One announced transfer.
#[derive(Debug, Clone, serde::Deserialize)]
struct Expect {
    flow_id: u64,
    ts: u64,
    src_ip: String,
    dest_ip: String,
    port: u16,
    command: String,
    filename: String,
}

/// The fields of a `flow` record the stage reads.
#[derive(Debug, serde::Deserialize)]
struct FlowHead<'a> {
    #[serde(borrow)]
    event_type: &'a str,
    #[serde(default)]
    proto: Option<&'a str>,
    #[serde(default)]
    src_ip: Option<String>,
    #[serde(default)]
    dest_ip: Option<String>,
    #[serde(default)]
    dest_port: Option<u16>,
    timestamp: &'a str,
    #[serde(default)]
    flow: Option<FlowTimes<'a>>,
}

#[derive(Debug, serde::Deserialize)]
struct FlowTimes<'a> {
    #[serde(borrow)]
    start: &'a str,
}

/// Writes the marker line of an announced transfer (see the module docs).
pub(crate) fn write_marker<K: super::EveKey>(
    out: &mut Vec<u8>,
    key: &K,
    initiator: Orientation,
    flow_id: u64,
    ts: Timestamp,
    t: &FtpTransfer,
) {
    out.push(0);
    let mut o = JsonObject::new(out);
    o.u64("flow_id", flow_id).u64("ts", ts.as_nanos());
    key.write_endpoints(initiator, &mut o, 0);
    o.u64("port", u64::from(t.port))
        .bool("active", t.active)
        .str("command", t.command)
        .bytes("filename", &t.filename);
    o.finish_line();
}

/// The `ftp-data` stage (see the module docs).
#[derive(Debug, Default)]
pub struct FtpDataStage {
    waiting: VecDeque<Expect>,
    counters: FtpDataCounters,
}

impl FtpDataStage {
    /// A stage with nothing waiting.
    pub fn new() -> Self {
        FtpDataStage::default()
    }

    /// Its figures.
    pub fn counters(&self) -> FtpDataCounters {
        self.counters
    }

    /// Applies the stage to the whole lines `buf` holds from `at`: marker
    /// lines are taken out, a matched data connection's `flow` record is
    /// relabelled and preceded by its `ftp_data` record. Returns the
    /// records added less those taken out.
    pub fn apply(&mut self, buf: &mut Vec<u8>, at: usize) -> i64 {
        // JSON escapes every control character, so a NUL byte is a marker.
        if self.waiting.is_empty() && memchr::memchr(0, &buf[at.min(buf.len())..]).is_none() {
            return 0;
        }
        let mut delta = 0;
        let mut pos = at;
        while pos < buf.len() {
            let end = memchr::memchr(b'\n', &buf[pos..]).map_or(buf.len(), |i| pos + i + 1);
            if buf[pos] == 0 {
                if let Ok(e) = serde_json::from_slice::<Expect>(&buf[pos + 1..end]) {
                    self.expect(e);
                }
                buf.drain(pos..end);
                delta -= 1;
                continue;
            }
            if !self.waiting.is_empty()
                && let Some(new) = self.flow_line(&buf[pos..end])
            {
                let n = new.len();
                buf.splice(pos..end, new);
                pos += n;
                delta += 1;
                continue;
            }
            pos = end;
        }
        delta
    }

    fn expect(&mut self, e: Expect) {
        self.counters.expectations += 1;
        if self.waiting.len() >= MAX_EXPECTATIONS {
            self.waiting.pop_front();
            self.counters.evicted += 1;
        }
        self.waiting.push_back(e);
    }

    /// Drops what waited too long by time `now`.
    fn expire(&mut self, now: u64) {
        let before = self.waiting.len();
        self.waiting.retain(|e| e.ts.saturating_add(HOLD_NS) >= now);
        self.counters.expired += (before - self.waiting.len()) as u64;
    }

    /// For a `flow` record of an expected data connection: its `ftp_data`
    /// record and the record relabelled.
    fn flow_line(&mut self, line: &[u8]) -> Option<Vec<u8>> {
        // Inside a JSON string a quote is escaped, so these keys match only
        // as keys; `timestamp` and `dest_port` come before any object.
        memchr::memmem::find(line, b"\"event_type\":\"flow\"")?;
        let port = after(line, b"\"dest_port\":").map(|v| {
            v.iter()
                .take_while(|c| c.is_ascii_digit())
                .try_fold(0u16, |p, &c| {
                    p.checked_mul(10)?.checked_add(u16::from(c - b'0'))
                })
        });
        if let Some(Some(port)) = port
            && !self.waiting.iter().any(|e| e.port == port)
        {
            // Nobody waits for this port: the record only moves the clock.
            let ts = after(line, b"\"timestamp\":\"")
                .and_then(|v| std::str::from_utf8(&v[..memchr::memchr(b'"', v)?]).ok());
            self.expire(parse_time(ts?)?);
            return None;
        }
        let head: FlowHead<'_> = serde_json::from_slice(line).ok()?;
        if head.event_type != "flow" {
            return None;
        }
        self.expire(parse_time(head.timestamp)?);
        if head.proto != Some("TCP") {
            return None;
        }
        let (src, dst, port) = (head.src_ip?, head.dest_ip?, head.dest_port?);
        let start = parse_time(head.flow?.start)?;
        let i = self.waiting.iter().position(|e| {
            e.port == port
                && start <= e.ts.saturating_add(WINDOW_NS)
                && ((e.src_ip == src && e.dest_ip == dst) || (e.src_ip == dst && e.dest_ip == src))
        })?;
        let e = self.waiting.remove(i)?;
        self.counters.matched += 1;
        relabel(line, &e)
    }
}

/// The bytes of `line` after the first `key`.
fn after<'a>(line: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let at = memchr::memmem::find(line, key)?;
    line.get(at + key.len()..)
}

/// The `ftp_data` record and the relabelled `flow` record for `line`.
fn relabel(line: &[u8], e: &Expect) -> Option<Vec<u8>> {
    let find = |hay: &[u8], pat: &[u8]| hay.windows(pat.len()).position(|w| w == pat);
    // Envelope: everything before app_proto (or the flow object).
    let env_end = find(line, b",\"app_proto\":").or_else(|| find(line, b",\"flow\":"))?;
    // parent_id goes right after flow_id.
    let id_at = find(line, b"\"flow_id\":")?;
    let id_end = id_at + line[id_at..].iter().position(|&b| b == b',')?;
    if id_end >= env_end {
        return None;
    }
    let mut parent = Vec::with_capacity(32);
    parent.extend_from_slice(b",\"parent_id\":");
    crate::json::put_u64(&mut parent, e.flow_id);

    let mut out = Vec::with_capacity(line.len() * 2);
    // The ftp_data record: the flow record's envelope, then the body.
    out.extend_from_slice(&line[..id_end]);
    out.extend_from_slice(&parent);
    let env = &line[id_end..env_end];
    let flow_type = b"\"event_type\":\"flow\"";
    match find(env, flow_type) {
        Some(i) => {
            out.extend_from_slice(&env[..i]);
            out.extend_from_slice(b"\"event_type\":\"ftp_data\"");
            out.extend_from_slice(&env[i + flow_type.len()..]);
        }
        None => return None,
    }
    out.push(b',');
    let mut body = Vec::new();
    {
        let mut o = JsonObject::new(&mut body);
        o.u64("tx_id", 0).begin("ftp_data");
        o.str("filename", &e.filename).str("command", &e.command);
        o.finish_line();
    }
    // `{"tx_id":...}\n` without its opening brace.
    out.extend_from_slice(&body[1..]);
    // The flow record: parent_id after flow_id, app_proto ftp-data.
    out.extend_from_slice(&line[..id_end]);
    out.extend_from_slice(&parent);
    out.extend_from_slice(&line[id_end..env_end]);
    out.extend_from_slice(b",\"app_proto\":\"ftp-data\"");
    let mut rest = &line[env_end..];
    if let Some(r) = rest.strip_prefix(b",\"app_proto\":\"") {
        // Skip the old value (no escapes in a protocol name) and any orig.
        let q = r.iter().position(|&b| b == b'"')?;
        rest = &r[q + 1..];
        if let Some(r) = rest.strip_prefix(b",\"app_proto_orig\":\"") {
            let q = r.iter().position(|&b| b == b'"')?;
            rest = &r[q + 1..];
        }
    }
    out.extend_from_slice(rest);
    Some(out)
}

/// Nanoseconds since the epoch of an EVE time
/// (`2019-03-14T19:04:03.371057+0000`).
fn parse_time(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let d = b.get(r)?;
        d.iter().try_fold(0u64, |v, &c| {
            c.is_ascii_digit().then(|| v * 10 + u64::from(c - b'0'))
        })
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let frac_len = b[20.min(b.len())..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    let frac = if frac_len > 0 {
        num(20..20 + frac_len)?
    } else {
        0
    };
    let nanos = frac * 10u64.pow(9u32.saturating_sub(frac_len as u32));
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1_000_000_000) + nanos)
}

#[cfg(test)]
mod tests;
