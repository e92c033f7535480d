//! SSH ([`SshParser`]): each side's identification line (RFC 4253 §4.2,
//! `SSH-protoversion-softwareversion SP comments CR LF`; the server may
//! send other lines before it, a bounded number), then the binary packet
//! framing (RFC 4253 §6: `packet_length`, `padding_length`, payload) up to
//! each side's SSH_MSG_NEWKEYS, after which everything is encrypted. Each
//! side's SSH_MSG_KEXINIT gives its HASSH fingerprint ([`Hassh`]). One
//! [`SshConnection`] message per flow, as Suricata writes one `ssh`
//! record: once both sides are done (NEWKEYS, or only the identification
//! lines with HASSH off), or at flow end with what is known. Hostile input
//! (overlong lines, absurd packet lengths) stops the side and is reported
//! as an anomaly with Suricata's SSH event names; nothing is buffered past
//! its cap. [`probe`]: `SSH-` at the start of either side's stream.

use super::{L7Message, SshConfig};
use crate::AppEvent;
use crate::parsers::anomalies::Anomalies;
use crate::session::{Probe, SessionParser};
use md5::{Digest, Md5};

/// Longest identification line, CR LF included (RFC 4253 §4.2); a longer
/// one is read up to [`MAX_LINE`] and reported (`long_banner`).
pub const MAX_BANNER: usize = 255;
/// Longest line buffered while looking for the identification line.
pub const MAX_LINE: usize = 1024;
/// Lines the server may send before its identification line; one more is
/// an `invalid_banner`.
pub const MAX_PRE_BANNER_LINES: u32 = 32;
/// Largest SSH_MSG_KEXINIT packet read (RFC 4253 §6.1 asks every
/// implementation to take 35 000-byte packets); a larger one is reported
/// (`long_kex_record`) and ends the side.
pub const MAX_KEXINIT: usize = 35_000;
/// Largest packet length taken as SSH framing before NEWKEYS (packets
/// other than KEXINIT are skipped unbuffered); a larger one is an
/// `invalid_record`.
pub const MAX_PACKET: u32 = 256 * 1024;

/// SSH_MSG_KEXINIT.
const MSG_KEXINIT: u8 = 20;
/// SSH_MSG_NEWKEYS.
const MSG_NEWKEYS: u8 = 21;

/// A HASSH fingerprint (Salesforce's, as Suricata writes it): the string
/// `kex;encryption;mac;compression` of one side's KEXINIT name-lists (the
/// client's client-to-server lists, the server's server-to-client ones)
/// and its MD5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hassh {
    /// The four name-lists joined by `;`.
    pub string: Box<[u8]>,
    /// MD5 of `string`.
    pub md5: [u8; 16],
}

/// What one side showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshEndpoint {
    /// The protocol version of its identification line (`2.0`, `1.99`);
    /// `None`: no identification line was read.
    pub proto_version: Option<Box<[u8]>>,
    /// The software version (up to the first space; may be empty).
    pub software_version: Box<[u8]>,
    /// HASSH of its KEXINIT (client: HASSH, server: HASSH-server).
    pub hassh: Option<Hassh>,
    /// Its SSH_MSG_NEWKEYS was seen: encrypted from there on.
    pub newkeys: bool,
}

/// One SSH connection: both sides' identification and fingerprints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshConnection {
    /// The flow's initiator.
    pub client: SshEndpoint,
    /// The flow's responder.
    pub server: SshEndpoint,
}

/// The content probe: a stream that starts with `SSH-` (either side).
pub fn probe(bytes: &[u8], _side: crate::FlowSide) -> Probe {
    const TAG: &[u8] = b"SSH-";
    let n = bytes.len().min(TAG.len());
    if bytes[..n] != TAG[..n] {
        Probe::No
    } else if n < TAG.len() {
        Probe::NeedMore
    } else {
        Probe::Certain
    }
}

/// Where one side's reading is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Stage {
    /// Reading lines up to the identification line.
    #[default]
    Banner,
    /// Reading a packet's first 6 bytes (lengths and message number).
    Header,
    /// Skipping the rest of a packet that is not a KEXINIT.
    Skip(u32),
    /// Reading a KEXINIT packet of this total size (length field
    /// included).
    Kexinit(u32),
    /// Nothing more to read (encrypted, not SSH-2, or gave up).
    Done,
}

/// One side's state.
#[derive(Debug, Clone, Default)]
struct Side {
    stage: Stage,
    /// A partial line, packet header or KEXINIT packet.
    buf: Vec<u8>,
    /// Lines skipped before the identification line.
    lines: u32,
}

/// The SSH session parser. Messages: [`L7Message::Ssh`], one per flow.
#[derive(Debug, Clone, Default)]
pub struct SshParser {
    cfg: SshConfig,
    sides: [Side; 2],
    conn: SshConnection,
    emitted: bool,
    events: Anomalies<8>,
}

impl SshParser {
    /// A parser with these options.
    pub fn new(cfg: SshConfig) -> Self {
        SshParser {
            cfg,
            ..SshParser::default()
        }
    }

    fn endpoint(&mut self, k: usize) -> &mut SshEndpoint {
        if k == 0 {
            &mut self.conn.client
        } else {
            &mut self.conn.server
        }
    }

    fn event(&mut self, name: &'static str) {
        // A handful per flow at most: each stops the side.
        self.events.push("ssh", name, Some(0));
    }

    /// Side `k` stops reading, after `event` when one is given.
    fn stop(&mut self, k: usize, event: Option<&'static str>) {
        if let Some(e) = event {
            self.event(e);
        }
        let s = &mut self.sides[k];
        s.stage = Stage::Done;
        s.buf = Vec::new();
    }

    /// Reads `bytes` of side `k` (0 the client), then reports the
    /// connection once both sides are done.
    fn feed(&mut self, k: usize, mut bytes: &[u8], out: &mut Vec<L7Message>) {
        while !bytes.is_empty() {
            let used = match self.sides[k].stage {
                Stage::Done => break,
                Stage::Banner => self.banner_bytes(k, bytes),
                Stage::Header => self.header_bytes(k, bytes),
                Stage::Skip(left) => {
                    let n = bytes.len().min(left as usize);
                    // n ≤ left, a u32.
                    let left = left - n as u32;
                    self.sides[k].stage = if left == 0 {
                        Stage::Header
                    } else {
                        Stage::Skip(left)
                    };
                    n
                }
                Stage::Kexinit(total) => self.kexinit_bytes(k, bytes, total as usize),
            };
            bytes = &bytes[used..];
        }
        if self.sides.iter().all(|s| s.stage == Stage::Done) {
            self.emit(out);
        }
    }

    /// Identification stage: buffers up to a line end, then reads the
    /// line. Returns the bytes used.
    fn banner_bytes(&mut self, k: usize, bytes: &[u8]) -> usize {
        let (take, complete) = match bytes.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (bytes.len(), false),
        };
        let s = &mut self.sides[k];
        let room = MAX_LINE - s.buf.len();
        if take > room {
            self.stop(k, Some("long_banner"));
            return bytes.len();
        }
        s.buf.extend_from_slice(&bytes[..take]);
        if complete {
            let line = std::mem::take(&mut self.sides[k].buf);
            self.line(k, &line);
            if self.sides[k].stage == Stage::Header {
                // Reuse the line's buffer for the packets.
                let mut line = line;
                line.clear();
                self.sides[k].buf = line;
            }
        }
        take
    }

    /// A whole line of the identification stage (`\n` included).
    fn line(&mut self, k: usize, line: &[u8]) {
        let Some(rest) = line.strip_prefix(b"SSH-") else {
            // RFC 4253: only the server sends other lines first.
            let s = &mut self.sides[k];
            s.lines += 1;
            if k == 0 || s.lines > MAX_PRE_BANNER_LINES {
                self.stop(k, Some("invalid_banner"));
            }
            return;
        };
        if line.len() > MAX_BANNER {
            self.event("long_banner");
        }
        let rest = rest.strip_suffix(b"\n").unwrap_or(rest);
        let rest = rest.strip_suffix(b"\r").unwrap_or(rest);
        let Some(dash) = rest.iter().position(|&b| b == b'-') else {
            self.stop(k, Some("invalid_banner"));
            return;
        };
        let proto = &rest[..dash];
        let soft = &rest[dash + 1..];
        let soft_end = soft.iter().position(|&b| b == b' ').unwrap_or(soft.len());
        let ep = self.endpoint(k);
        ep.proto_version = Some(proto.into());
        ep.software_version = soft[..soft_end].into();
        // SSH-2 (and 1.99, a server that speaks both) goes on to packets;
        // SSH-1 packets are not read, nor anything with HASSH off.
        let ssh2 = proto == b"2.0" || proto == b"1.99";
        if ssh2 && self.cfg.hassh {
            self.sides[k].stage = Stage::Header;
        } else {
            self.stop(k, None);
        }
    }

    /// Packet header stage: `packet_length` (4), `padding_length` (1) and
    /// the message number (1). Returns the bytes used.
    fn header_bytes(&mut self, k: usize, bytes: &[u8]) -> usize {
        const HEAD: usize = 6;
        let s = &mut self.sides[k];
        let take = bytes.len().min(HEAD - s.buf.len());
        s.buf.extend_from_slice(&bytes[..take]);
        let &[l0, l1, l2, l3, padding, msg] = s.buf.as_slice() else {
            return take;
        };
        let len = u32::from_be_bytes([l0, l1, l2, l3]);
        // The payload holds the message number at least.
        if len > MAX_PACKET || len < u32::from(padding) + 2 {
            self.stop(k, Some("invalid_record"));
            return bytes.len();
        }
        let total = len as usize + 4;
        match msg {
            MSG_KEXINIT if total > MAX_KEXINIT => {
                self.stop(k, Some("long_kex_record"));
                return bytes.len();
            }
            MSG_KEXINIT => {
                s.buf.reserve(total - HEAD);
                s.stage = Stage::Kexinit(len + 4);
            }
            MSG_NEWKEYS => {
                self.endpoint(k).newkeys = true;
                self.stop(k, None);
                return bytes.len();
            }
            _ => {
                s.buf.clear();
                // len ≥ 2: at least the message number and one byte left.
                s.stage = Stage::Skip(len + 4 - HEAD as u32);
            }
        }
        take
    }

    /// KEXINIT stage: buffers the packet, then fingerprints it. Returns
    /// the bytes used.
    fn kexinit_bytes(&mut self, k: usize, bytes: &[u8], total: usize) -> usize {
        let s = &mut self.sides[k];
        let take = bytes.len().min(total - s.buf.len());
        s.buf.extend_from_slice(&bytes[..take]);
        if s.buf.len() < total {
            return take;
        }
        let padding = usize::from(s.buf[4]);
        // Checked in the header: padding + 2 ≤ packet_length.
        let payload = &s.buf[5..total - padding];
        let hassh = kexinit_hassh(payload, k == 0);
        s.buf.clear();
        s.stage = Stage::Header;
        match hassh {
            // Only the first KEXINIT counts (a re-exchange is encrypted).
            Some(h) => {
                let ep = self.endpoint(k);
                if ep.hassh.is_none() {
                    ep.hassh = Some(h);
                }
            }
            None => self.stop(k, Some("invalid_record")),
        }
        take
    }

    fn emit(&mut self, out: &mut Vec<L7Message>) {
        let c = &self.conn;
        if !self.emitted && (c.client.proto_version.is_some() || c.server.proto_version.is_some()) {
            self.emitted = true;
            out.push(L7Message::Ssh(Box::new(std::mem::take(&mut self.conn))));
        }
    }
}

/// The HASSH of a KEXINIT payload (message number first): the client's
/// (`client`) from the client-to-server lists, else the server's. `None`
/// when the payload is cut short.
pub fn kexinit_hassh(payload: &[u8], client: bool) -> Option<Hassh> {
    // Message number and the 16-byte cookie.
    let mut rest = payload.get(17..)?;
    let mut lists: [&[u8]; 8] = [&[]; 8];
    for l in &mut lists {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = u32::from_be_bytes(*len) as usize;
        if len > tail.len() {
            return None;
        }
        (*l, rest) = tail.split_at(len);
    }
    // kex, host key, enc c→s, enc s→c, mac c→s, mac s→c, comp c→s, comp s→c.
    let pick = if client { [0, 2, 4, 6] } else { [0, 3, 5, 7] };
    let len = pick.iter().map(|&i| lists[i].len() + 1).sum::<usize>() - 1;
    let mut string = Vec::with_capacity(len);
    for (n, &i) in pick.iter().enumerate() {
        if n > 0 {
            string.push(b';');
        }
        string.extend_from_slice(lists[i]);
    }
    let md5 = Md5::digest(&string).into();
    Some(Hassh {
        string: string.into(),
        md5,
    })
}

impl SessionParser for SshParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.feed(0, bytes, &mut out);
        out
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.feed(1, bytes, &mut out);
        out
    }

    /// A gap loses the framing: the side stops.
    fn gap_initiator(&mut self, _len: u64) -> Vec<L7Message> {
        self.stop(0, None);
        Vec::new()
    }

    fn gap_responder(&mut self, _len: u64) -> Vec<L7Message> {
        self.stop(1, None);
        Vec::new()
    }

    fn flow_end(&mut self) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.emit(&mut out);
        out
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }

    fn is_transaction(msg: &L7Message) -> bool {
        matches!(msg, L7Message::Ssh(_))
    }
}

#[cfg(test)]
mod tests;
