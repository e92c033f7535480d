//! TFTP over UDP ([`TftpParser`]): the read and write requests (RFC 1350
//! §5: opcode 1 or 2, the file name and the transfer mode, each ended by a
//! NUL) the client sends to the server's port. The transfer itself runs
//! between two other ports, a flow of its own that no route names (as in
//! Suricata, whose TFTP parser reads only the request flow). One
//! [`TftpRequest`] per request with a known mode (`netascii`, `octet`,
//! `mail`), as Suricata writes one `tftp` record per request. [`probe`]: a
//! request is TFTP at once (its mode any word, so a broken client's flow
//! is still TFTP, as Suricata says); another datagram that starts with a
//! zero byte and a TFTP opcode leaves the question to the port (69 by
//! default: [`TftpConfig::ports`], the only ones the parser is offered). File names longer than
//! [`MAX_FILENAME`] are cut there and reported (`long_filename`); a
//! datagram that is no request with a known mode is skipped and reported
//! (`malformed_request`).

use super::{L7Message, TftpConfig};
use crate::AppEvent;
use crate::FlowSide;
use crate::parsers::anomalies::Anomalies;
use crate::session::{DatagramParser, Probe};

#[cfg(test)]
mod tests;

/// Longest file name kept, in bytes; a longer one is cut here.
pub const MAX_FILENAME: usize = 1024;
/// Anomalies kept per flow before they are taken (the driver takes them
/// after each datagram).
const MAX_PENDING_EVENTS: usize = 8;

/// Read request.
pub const OP_RRQ: u8 = 1;
/// Write request.
pub const OP_WRQ: u8 = 2;
/// Error (the highest opcode of RFC 1350; 6 is RFC 2347's OACK).
const OP_MAX: u8 = 6;

/// A transfer mode (RFC 1350 §5, compared without case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TftpMode {
    /// `netascii`.
    Netascii,
    /// `octet`.
    Octet,
    /// `mail`.
    Mail,
}

impl TftpMode {
    /// The mode's name, lower case (as Suricata writes it).
    pub fn name(self) -> &'static str {
        match self {
            TftpMode::Netascii => "netascii",
            TftpMode::Octet => "octet",
            TftpMode::Mail => "mail",
        }
    }

    fn parse(b: &[u8]) -> Option<TftpMode> {
        [TftpMode::Netascii, TftpMode::Octet, TftpMode::Mail]
            .into_iter()
            .find(|m| b.eq_ignore_ascii_case(m.name().as_bytes()))
    }
}

/// One read or write request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TftpRequest {
    /// [`OP_RRQ`] or [`OP_WRQ`].
    pub opcode: u8,
    /// The file name (at most [`MAX_FILENAME`] bytes; may be empty).
    pub file: Box<[u8]>,
    /// The transfer mode.
    pub mode: TftpMode,
}

/// A request's shape, read without allocating: `(opcode, file name,
/// mode)`, both NUL-terminated, the name not yet cut, the mode as sent.
fn request_shape(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&[0, opcode], rest) = b.split_first_chunk::<2>()? else {
        return None;
    };
    if !matches!(opcode, OP_RRQ | OP_WRQ) {
        return None;
    }
    let nul = rest.iter().position(|&c| c == 0)?;
    let (file, rest) = (&rest[..nul], &rest[nul + 1..]);
    let nul = rest.iter().position(|&c| c == 0)?;
    Some((opcode, file, &rest[..nul]))
}

/// A request with a known mode: `(opcode, file name, mode)`.
fn request(b: &[u8]) -> Option<(u8, &[u8], TftpMode)> {
    let (opcode, file, mode) = request_shape(b)?;
    Some((opcode, file, TftpMode::parse(mode)?))
}

/// The content probe: a read or write request (opcode, NUL-terminated
/// name, NUL-terminated mode of letters: a known mode, or one a broken
/// client sent, empty say) is TFTP; another datagram of at least 4 bytes
/// that starts with a TFTP opcode (a zero byte, then 1 to 6) may be (the
/// port decides once enough datagrams came); anything else is not.
pub fn probe(bytes: &[u8], _side: FlowSide) -> Probe {
    let request_like =
        request_shape(bytes).is_some_and(|(_, _, mode)| mode.iter().all(u8::is_ascii_alphabetic));
    if request_like {
        Probe::Certain
    } else if bytes.len() >= 4 && bytes[0] == 0 && (1..=OP_MAX).contains(&bytes[1]) {
        Probe::NeedMore
    } else {
        Probe::No
    }
}

/// The TFTP datagram parser. Messages: [`L7Message::Tftp`], one per
/// request the flow's initiator sends.
#[derive(Debug, Clone, Default)]
pub struct TftpParser {
    cfg: TftpConfig,
    events: Anomalies<MAX_PENDING_EVENTS>,
    malformed: u64,
    next_tx: u64,
}

impl TftpParser {
    /// A parser with these options.
    pub fn new(cfg: TftpConfig) -> Self {
        TftpParser {
            cfg,
            ..TftpParser::default()
        }
    }

    /// Initiator datagrams that were no request with a known mode
    /// (skipped).
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// The options it runs with.
    pub fn config(&self) -> &TftpConfig {
        &self.cfg
    }

    fn event(&mut self, name: &'static str, tx_id: Option<u64>) {
        self.events.push("tftp", name, tx_id);
    }
}

impl DatagramParser for TftpParser {
    type Message = L7Message;

    fn parse(&mut self, payload: &[u8], side: FlowSide) -> Vec<L7Message> {
        // Requests go to the server; its answers (errors, an OACK) and
        // empty datagrams say nothing here.
        if side != FlowSide::Initiator || payload.is_empty() {
            return Vec::new();
        }
        let Some((opcode, file, mode)) = request(payload) else {
            self.malformed += 1;
            self.event("malformed_request", None);
            return Vec::new();
        };
        let tx = self.next_tx;
        self.next_tx += 1;
        if file.len() > MAX_FILENAME {
            self.event("long_filename", Some(tx));
        }
        let req = TftpRequest {
            opcode,
            file: file[..file.len().min(MAX_FILENAME)].into(),
            mode,
        };
        vec![L7Message::Tftp(Box::new(req))]
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }
}
