//! The strict output profile ([`EveProfile::Strict`]): each record cut
//! down to what Suricata 7.0.10 writes, so that it validates against
//! Suricata's own EVE schema (closed at every level).
//!
//! Which fields are Suricata's, and the JSON types Suricata gives them,
//! come from flowscope's schema of its default profile
//! (`io/schema/flowscope-eve.json`, compiled in): a property marked
//! `"x-suricata": true` is kept when its value has one of the schema's
//! types; every other member is dropped, with its subtree, and an object
//! left empty goes too. IPv6 addresses — the endpoints (`src_ip`,
//! `dest_ip`), AAAA answers' `rdata`, `dns.grouped.AAAA` and the DHT's
//! `bittorrent_dht.response.nodes6[].ip` — are written as Suricata 7
//! writes them, every group in four hex digits.
//!
//! [`StrictFilter::filter`] rewrites one finished record; it reads only
//! flowscope's own well-formed JSON lines and allocates nothing after the
//! first records on a thread.

use std::collections::HashMap;
use std::net::Ipv6Addr;

/// Which records a run writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EveProfile {
    /// Suricata's fields in Suricata's formats, and flowscope's own beside
    /// them (`io/schema/flowscope-eve.json`).
    #[default]
    Default,
    /// Only what Suricata 7.0.10 writes (its EVE schema).
    Strict,
}

impl EveProfile {
    /// The name used in the configuration and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            EveProfile::Default => "default",
            EveProfile::Strict => "strict",
        }
    }
}

/// flowscope's schema of its default profile.
pub const SCHEMA: &str = include_str!("../../schema/flowscope-eve.json");

/// JSON types, as a bit set.
type Types = u8;
const T_OBJECT: Types = 1;
const T_ARRAY: Types = 2;
const T_STRING: Types = 4;
const T_INTEGER: Types = 8;
const T_NUMBER: Types = 16;
const T_BOOLEAN: Types = 32;
const T_NULL: Types = 64;
const T_ANY: Types = 127;

/// Longest field path the filter follows (`stats.app_layer.flow.…`);
/// members below a longer one are dropped.
const MAX_PATH: usize = 160;

/// Suricata's field paths and their types (`dns.answers[].rrname`: array
/// items are `[]`).
#[derive(Debug)]
pub struct StrictFilter {
    fields: HashMap<Box<str>, Types>,
}

impl StrictFilter {
    /// The filter of flowscope's compiled-in schema.
    pub fn new() -> StrictFilter {
        StrictFilter::from_schema(SCHEMA).expect("io/schema/flowscope-eve.json is valid")
    }

    /// The filter of a schema text (see the module documentation).
    pub fn from_schema(text: &str) -> Result<StrictFilter, String> {
        let root: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("the schema is not JSON: {e}"))?;
        let mut fields = HashMap::new();
        collect(&root, "", &mut fields);
        if fields.is_empty() {
            return Err("the schema marks no field `x-suricata`".into());
        }
        Ok(StrictFilter { fields })
    }

    /// Whether `path` is one of Suricata's fields (for tests and docs).
    pub fn knows(&self, path: &str) -> bool {
        self.fields.contains_key(path)
    }

    /// Rewrites the record `out` holds from `at` (one JSON object and
    /// its newline) to its strict form.
    pub fn filter(&self, out: &mut Vec<u8>, at: usize) {
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        if out.get(at) != Some(&b'{') {
            return;
        }
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            s.clear();
            let mut w = Walk {
                src: &out[at..],
                pos: 0,
                out: &mut s,
                path: [0; MAX_PATH],
                plen: 0,
                fields: &self.fields,
            };
            w.object();
            s.push(b'\n');
            out.truncate(at);
            out.extend_from_slice(&s);
        });
    }
}

impl Default for StrictFilter {
    fn default() -> Self {
        StrictFilter::new()
    }
}

/// The schema's `type` as a bit set (no `type`: anything).
fn types_of(schema: &serde_json::Value) -> Types {
    let one = |t: &str| match t {
        "object" => T_OBJECT,
        "array" => T_ARRAY,
        "string" => T_STRING,
        "integer" => T_INTEGER,
        "number" => T_NUMBER | T_INTEGER,
        "boolean" => T_BOOLEAN,
        "null" => T_NULL,
        _ => 0,
    };
    match schema.get("type") {
        Some(serde_json::Value::String(t)) => one(t),
        Some(serde_json::Value::Array(ts)) => ts.iter().filter_map(|t| t.as_str()).map(one).sum(),
        _ => T_ANY,
    }
}

/// Records the `x-suricata` properties under `schema` (at `path`).
fn collect(schema: &serde_json::Value, path: &str, fields: &mut HashMap<Box<str>, Types>) {
    if let Some(props) = schema.get("properties").and_then(|p| p.as_object()) {
        for (k, sub) in props {
            if sub.get("x-suricata").and_then(|v| v.as_bool()) != Some(true) {
                continue;
            }
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            fields.insert(p.as_str().into(), types_of(sub));
            collect(sub, &p, fields);
        }
    }
    if let Some(items) = schema.get("items") {
        let p = format!("{path}[]");
        fields.insert(p.as_str().into(), types_of(items));
        collect(items, &p, fields);
    }
}

/// One pass over a record.
struct Walk<'a> {
    src: &'a [u8],
    pos: usize,
    out: &'a mut Vec<u8>,
    /// The current field path (`dns.answers[].rrname`).
    path: [u8; MAX_PATH],
    plen: usize,
    fields: &'a HashMap<Box<str>, Types>,
}

impl Walk<'_> {
    fn peek(&self) -> u8 {
        self.src.get(self.pos).copied().unwrap_or(b'}')
    }

    /// The type of the value at the cursor.
    fn value_type(&self) -> Types {
        match self.peek() {
            b'{' => T_OBJECT,
            b'[' => T_ARRAY,
            b'"' => T_STRING,
            b't' | b'f' => T_BOOLEAN,
            b'n' => T_NULL,
            _ => {
                let end = self.scalar_end();
                if self.src[self.pos..end]
                    .iter()
                    .any(|b| matches!(b, b'.' | b'e' | b'E'))
                {
                    T_NUMBER
                } else {
                    T_INTEGER
                }
            }
        }
    }

    fn scalar_end(&self) -> usize {
        self.src[self.pos..]
            .iter()
            .position(|b| matches!(b, b',' | b'}' | b']'))
            .map_or(self.src.len(), |i| self.pos + i)
    }

    fn string_end(&self) -> usize {
        let mut i = self.pos + 1;
        while i < self.src.len() {
            match self.src[i] {
                b'\\' => i += 2,
                b'"' => return i + 1,
                _ => i += 1,
            }
        }
        self.src.len()
    }

    /// Moves past the value at the cursor.
    fn skip(&mut self) {
        match self.peek() {
            b'"' => self.pos = self.string_end(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                while self.pos < self.src.len() {
                    match self.src[self.pos] {
                        b'"' => {
                            self.pos = self.string_end();
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos += 1;
                                return;
                            }
                        }
                        _ => {}
                    }
                    self.pos += 1;
                }
            }
            _ => self.pos = self.scalar_end(),
        }
    }

    /// Appends `seg` to the path (with `.` unless first or `[]`); false
    /// when it does not fit.
    fn enter(&mut self, seg: &[u8]) -> bool {
        let dot = self.plen > 0 && seg != b"[]";
        let need = seg.len() + usize::from(dot);
        if self.plen + need > MAX_PATH {
            return false;
        }
        if dot {
            self.path[self.plen] = b'.';
            self.plen += 1;
        }
        self.path[self.plen..self.plen + seg.len()].copy_from_slice(seg);
        self.plen += seg.len();
        true
    }

    fn types_here(&self) -> Types {
        std::str::from_utf8(&self.path[..self.plen])
            .ok()
            .and_then(|p| self.fields.get(p).copied())
            .unwrap_or(0)
    }

    /// Whether the string at the current path is an IPv6 address to
    /// expand (`aaaa`: the object's `rrtype` is AAAA).
    fn ipv6_here(&self, aaaa: bool) -> bool {
        match &self.path[..self.plen] {
            b"src_ip"
            | b"dest_ip"
            | b"dns.grouped.AAAA[]"
            | b"bittorrent_dht.response.nodes6[].ip" => true,
            p => aaaa && p.ends_with(b"[].rdata"),
        }
    }

    /// Copies the value at the cursor if its type is allowed at the
    /// current path; whether anything was written. `aaaa`: the enclosing
    /// object is an AAAA record.
    fn value(&mut self, aaaa: bool) -> bool {
        let t = self.value_type();
        if self.types_here() & t == 0 {
            self.skip();
            return false;
        }
        match t {
            T_OBJECT => self.object(),
            T_ARRAY => self.array(),
            T_STRING if self.ipv6_here(aaaa) => {
                let end = self.string_end();
                let text = &self.src[self.pos + 1..end.saturating_sub(1)];
                match std::str::from_utf8(text)
                    .ok()
                    .and_then(|s| s.parse::<Ipv6Addr>().ok())
                {
                    Some(a) => write_ipv6_expanded(self.out, a),
                    None => self.out.extend_from_slice(&self.src[self.pos..end]),
                }
                self.pos = end;
                true
            }
            _ => {
                let start = self.pos;
                self.skip();
                self.out.extend_from_slice(&self.src[start..self.pos]);
                true
            }
        }
    }

    /// Moves to the next member of the open object or array: false (past
    /// `close`) at its end.
    fn next_member(&mut self, close: u8) -> bool {
        while self.peek() == b',' {
            self.pos += 1;
        }
        if self.pos >= self.src.len() || self.peek() == close {
            self.pos += 1;
            return false;
        }
        true
    }

    /// Copies the object at the cursor, its allowed members only; whether
    /// it kept any (an empty one is not written).
    fn object(&mut self) -> bool {
        let mark = self.out.len();
        self.out.push(b'{');
        self.pos += 1;
        let mut kept = 0usize;
        let mut aaaa = false;
        while self.next_member(b'}') {
            let key_start = self.pos;
            let key_end = self.string_end();
            self.pos = key_end + 1; // past the colon
            let key = &self.src[key_start + 1..key_end.saturating_sub(1)];
            let plen = self.plen;
            if !self.enter(key) {
                self.skip();
                continue;
            }
            let before = self.out.len();
            if kept > 0 {
                self.out.push(b',');
            }
            self.out.extend_from_slice(&self.src[key_start..=key_end]);
            if key == b"rrtype" {
                aaaa = self.src[self.pos..].starts_with(b"\"AAAA\"");
            }
            if self.value(aaaa) {
                kept += 1;
            } else {
                self.out.truncate(before);
            }
            self.plen = plen;
        }
        if kept == 0 && mark > 0 {
            self.out.truncate(mark);
            return false;
        }
        self.out.push(b'}');
        true
    }

    /// Copies the array at the cursor when every item has an allowed type
    /// (an item object keeps its allowed members); otherwise writes
    /// nothing.
    fn array(&mut self) -> bool {
        let mark = self.out.len();
        let plen = self.plen;
        if !self.enter(b"[]") {
            self.skip();
            return false;
        }
        self.out.push(b'[');
        self.pos += 1;
        let mut n = 0usize;
        let mut whole = true;
        while self.next_member(b']') {
            if n > 0 {
                self.out.push(b',');
            }
            let before = self.out.len();
            let t = self.value_type();
            let wrote = if t == T_OBJECT && self.types_here() & T_OBJECT != 0 {
                // An object item with nothing of Suricata's is `{}`.
                if !self.object() {
                    self.out.truncate(before);
                    self.out.extend_from_slice(b"{}");
                }
                true
            } else {
                self.value(false)
            };
            if !wrote {
                whole = false;
            }
            n += 1;
        }
        self.plen = plen;
        if !whole {
            self.out.truncate(mark);
            return false;
        }
        self.out.push(b']');
        true
    }
}

/// `2001:0db8:0000:…`: eight groups of four hex digits.
fn write_ipv6_expanded(out: &mut Vec<u8>, a: Ipv6Addr) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for (i, g) in a.segments().iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        for shift in [12, 8, 4, 0] {
            out.push(HEX[usize::from((g >> shift) & 0xf)]);
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"{"type":"object","properties":{
        "src_ip":{"type":"string","x-suricata":true},
        "ours":{"type":"string","x-suricata":false},
        "flow":{"type":"object","x-suricata":true,"properties":{
            "pkts":{"type":"integer","x-suricata":true},
            "history":{"type":"string","x-suricata":false}}},
        "tls":{"type":"object","x-suricata":true,"properties":{
            "chain":{"type":"array","x-suricata":true,"items":{"type":"string"}}}},
        "dns":{"type":"object","x-suricata":true,"properties":{
            "answers":{"type":"array","x-suricata":true,"items":{"type":"object","properties":{
                "rrname":{"type":"string","x-suricata":true},
                "rrtype":{"type":"string","x-suricata":true},
                "rdata":{"type":"string","x-suricata":true},
                "extra":{"type":"integer","x-suricata":false}}}}}},
        "tunnel":{"type":"object","x-suricata":true,"properties":{
            "depth":{"type":"integer","x-suricata":true}}}}}"#;

    fn strict(line: &str) -> String {
        let f = StrictFilter::from_schema(SCHEMA).unwrap();
        let mut out = b"prefix\n".to_vec();
        let at = out.len();
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
        f.filter(&mut out, at);
        let s = String::from_utf8(out).unwrap();
        s.strip_prefix("prefix\n").unwrap().to_owned()
    }

    #[test]
    fn extension_fields_and_wrong_types_are_dropped() {
        assert_eq!(
            strict(r#"{"src_ip":"1.2.3.4","ours":"x","flow":{"pkts":3,"history":"ShAD"}}"#),
            "{\"src_ip\":\"1.2.3.4\",\"flow\":{\"pkts\":3}}\n"
        );
        // tls.chain of objects (flowscope's opt-in) is not Suricata's.
        assert_eq!(
            strict(r#"{"tls":{"chain":[{"subject":"a"}]},"ours":"\"}]"}"#),
            "{}\n",
            "an object left empty goes"
        );
        assert_eq!(
            strict(r#"{"tls":{"chain":["MIIB","MIIC"]}}"#),
            "{\"tls\":{\"chain\":[\"MIIB\",\"MIIC\"]}}\n"
        );
    }

    #[test]
    fn array_items_keep_their_suricata_members() {
        assert_eq!(
            strict(r#"{"dns":{"answers":[{"rrname":"a.b","extra":1},{"extra":2}]}}"#),
            "{\"dns\":{\"answers\":[{\"rrname\":\"a.b\"},{}]}}\n"
        );
        assert_eq!(
            strict(r#"{"tunnel":{"kind":"vxlan","vni":5}}"#),
            "{}\n",
            "a tunnel object without Suricata's members is not written"
        );
    }

    #[test]
    fn aaaa_answers_are_expanded_and_nothing_else() {
        assert_eq!(
            strict(
                r#"{"dns":{"answers":[{"rrtype":"AAAA","rdata":"2001:db8::2"},{"rrtype":"TXT","rdata":"::1"}]}}"#
            ),
            "{\"dns\":{\"answers\":[{\"rrtype\":\"AAAA\",\"rdata\":\"2001:0db8:0000:0000:0000:0000:0000:0002\"},{\"rrtype\":\"TXT\",\"rdata\":\"::1\"}]}}\n"
        );
    }

    #[test]
    fn ipv6_endpoints_are_expanded() {
        assert_eq!(
            strict(r#"{"src_ip":"2001:db8::1","ours":"::1"}"#),
            "{\"src_ip\":\"2001:0db8:0000:0000:0000:0000:0000:0001\"}\n"
        );
    }

    /// The compiled-in schema: a DHT response's nodes keep their members,
    /// IPv6 addresses expanded; Suricata's schema names no member of
    /// `values` items, so those are written as `{}`.
    #[test]
    fn dht_nodes_are_kept_and_their_ipv6_addresses_expanded() {
        let f = StrictFilter::new();
        let mut out = br#"{"bittorrent_dht":{"transaction_id":"6161","response":{"id":"00","nodes":[{"id":"01","ip":"1.2.3.4","port":1}],"nodes6":[{"id":"02","ip":"2001:db8::3","port":2}],"values":[{"ip":"::1","port":3}]}}}"#.to_vec();
        out.push(b'\n');
        f.filter(&mut out, 0);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            concat!(
                r#"{"bittorrent_dht":{"transaction_id":"6161","response":{"id":"00","#,
                r#""nodes":[{"id":"01","ip":"1.2.3.4","port":1}],"#,
                r#""nodes6":[{"id":"02","ip":"2001:0db8:0000:0000:0000:0000:0000:0003","port":2}],"#,
                r#""values":[{}]}}}"#,
                "\n"
            )
        );
    }

    #[test]
    fn the_compiled_in_schema_marks_suricatas_fields() {
        let f = StrictFilter::new();
        for p in ["timestamp", "flow.pkts_toserver", "dns.rrname", "tls.sni"] {
            assert!(f.knows(p), "{p}");
        }
        for p in ["flow.history", "flow.conn_state", "flow.end_reason"] {
            assert!(!f.knows(p), "{p}");
        }
    }
}
