//! Telnet over TCP: recognised, not logged (the route's parser is
//! [`NameOnly`](super::name_only::NameOnly)). Suricata 7 names a flow
//! `telnet` when it carries data on the Telnet port and writes no
//! `telnet` record. flowscope names it on the ports of
//! [`TelnetConfig::ports`] only (23), and only when the first data of
//! either side reads as Telnet (RFC 854): option negotiation (IAC followed
//! by a command) or network virtual terminal text (printable ASCII, the
//! NVT control characters, escape sequences, IAC commands between them).
//! A TLS handshake, an SSH banner's binary key exchange or any other
//! binary protocol on port 23 is left unnamed. The parser produces no
//! messages.

#[cfg(doc)]
use super::TelnetConfig;
use crate::FlowSide;
use crate::session::Probe;

#[cfg(test)]
mod tests;

/// "Interpret as command": the byte that starts every Telnet command.
pub const IAC: u8 = 0xff;
/// The lowest command byte after IAC (SE, end of subnegotiation); every
/// byte from it to 0xfe is a command (NOP, DM, BRK, IP, AO, AYT, EC, EL,
/// GA, SB, WILL, WONT, DO, DONT), and IAC IAC is a data byte 255.
pub const SE: u8 = 0xf0;

/// Bytes the probe reads at most: enough to tell text from binary.
pub const PROBE_BYTES: usize = 64;

/// Whether `b` may appear in network virtual terminal text: printable
/// ASCII, NUL (after CR), BEL, BS, HT, LF, VT, FF, CR, and ESC (terminal
/// escape sequences in banners and prompts).
fn nvt_text(b: u8) -> bool {
    matches!(b, 0x20..=0x7e | 0x00 | 0x07..=0x0d | 0x1b)
}

/// Telnet when the side's first bytes are an IAC command, or NVT text
/// (with IAC commands in it) up to [`PROBE_BYTES`]; not Telnet at the
/// first byte that can be neither. A segment ending right after an IAC
/// waits for the next.
pub fn probe(bytes: &[u8], _side: FlowSide) -> Probe {
    let seen = &bytes[..bytes.len().min(PROBE_BYTES)];
    let mut i = 0;
    while i < seen.len() {
        let b = seen[i];
        if b == IAC {
            match seen.get(i + 1) {
                Some(&c) if c >= SE => {
                    // Negotiation first: nothing else starts that way.
                    if i == 0 {
                        return Probe::Certain;
                    }
                    i += 2;
                    continue;
                }
                Some(_) => return Probe::No,
                None if bytes.len() > seen.len() => return Probe::Certain,
                None => return Probe::NeedMore,
            }
        }
        if !nvt_text(b) {
            return Probe::No;
        }
        i += 1;
    }
    if seen.is_empty() {
        Probe::NeedMore
    } else {
        Probe::Certain
    }
}
