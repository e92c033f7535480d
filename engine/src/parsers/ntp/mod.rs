//! NTP over UDP: recognised, not logged (the route's parser is
//! [`NameOnly`](super::name_only::NameOnly)). Suricata 7 names a flow
//! `ntp` when its first datagram on the NTP port parses as an NTP version
//! 3 or 4 packet (RFC 1305 / RFC 5905: the 48-byte header, then
//! for version 4 optional extension fields and a MAC) and writes no `ntp`
//! record; flowscope does the same: [`probe`] decides, on the ports of
//! [`NtpConfig::ports`] only (123), and the parser produces no messages.
//! Versions 1 and 2, and datagrams shorter than the header, are not NTP
//! to Suricata either (the flow stays `failed`).

#[cfg(doc)]
use super::NtpConfig;
use crate::FlowSide;
use crate::session::Probe;

#[cfg(test)]
mod tests;

/// Length of the NTP header every version 3 and 4 packet starts with.
pub const HEADER_LEN: usize = 48;

/// The version field of an NTP packet's first byte (bits 3–5).
fn version(first: u8) -> u8 {
    (first >> 3) & 0x07
}

/// NTP when the datagram is a whole version 3 or 4 header (and, for
/// version 4, whatever extension fields and MAC follow); not NTP when it is
/// another version or too short to be one.
pub fn probe(bytes: &[u8], _side: FlowSide) -> Probe {
    match bytes.first() {
        Some(&b) if bytes.len() >= HEADER_LEN && matches!(version(b), 3 | 4) => Probe::Certain,
        _ => Probe::No,
    }
}
