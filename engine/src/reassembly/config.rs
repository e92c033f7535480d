//! Reassembly options: the `[reassembly]` configuration table and the
//! overlap and overflow policies it chooses.

use serde::Deserialize;

/// Which copy wins where segments overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverlapPolicy {
    /// The bytes that arrived first (Suricata's default, and what most
    /// stacks do with already-queued data).
    #[default]
    First,
    /// The bytes that arrived last.
    Last,
}

/// What happens when a cap on held out-of-order data is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverflowPolicy {
    /// Give up on the oldest hole: report it as a gap, release the held
    /// bytes behind it, and carry on.
    #[default]
    SlidingWindow,
    /// Stop reassembling the flow: it ends with `EndReason::BufferOverflow`.
    DropFlow,
}

/// Reassembly and parser-driving options (the `[reassembly]` config table).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReassemblyConfig {
    /// Most out-of-order bytes held per direction of a flow.
    pub max_ooo_bytes: usize,
    /// Most out-of-order segments held per direction of a flow.
    pub max_ooo_segments: usize,
    /// Most out-of-order bytes held by one engine (shard) over all flows.
    pub memcap: usize,
    /// Which bytes win in overlaps.
    pub overlap: OverlapPolicy,
    /// What a cap hit does.
    pub overflow: OverflowPolicy,
    /// Most leading bytes per direction buffered while content probes still
    /// ask for more before a parser is chosen.
    pub probe_bytes: usize,
    /// Most datagrams per flow shown to UDP probes before giving up.
    pub probe_datagrams: u32,
    /// Compare re-sent data with what was delivered: the last 32 bytes
    /// byte for byte, the last 4 segments by the payload sum their TCP
    /// checksums state (a re-sent copy whose own checksum verifies is
    /// compared); a difference is an inconsistent overlap (the classic
    /// insertion evasion).
    pub check_retransmissions: bool,
    /// Remember the last 4 segments by a digest of their bytes instead of
    /// the sum their checksums state: re-sent copies are then compared
    /// whatever their checksums, as on captures taken on the sending host
    /// whose checksums the NIC fills in, at the cost of reading every
    /// delivered byte.
    pub digest_delivered_bytes: bool,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            max_ooo_bytes: 1 << 20,
            max_ooo_segments: 1024,
            memcap: 256 << 20,
            overlap: OverlapPolicy::First,
            overflow: OverflowPolicy::SlidingWindow,
            probe_bytes: 2048,
            probe_datagrams: 4,
            check_retransmissions: true,
            digest_delivered_bytes: false,
        }
    }
}
