//! RFB, the VNC protocol ([`RfbParser`], RFC 6143): the handshake both
//! sides go through before the framebuffer updates — the two
//! `ProtocolVersion` lines, the security handshake (3.3: the server picks
//! the type; 3.7 and 3.8: the server lists, the client picks), VNC
//! authentication's challenge and response, the `SecurityResult`,
//! `ClientInit` (shared flag) and `ServerInit` (framebuffer size, pixel
//! format, desktop name). One [`RfbHandshake`] per flow, as Suricata 7
//! writes one `rfb` record: once `ServerInit` is read, when the handshake
//! stops (a security type Suricata does not follow, a failure, malformed
//! bytes), or at the flow's end with what is known. Each side's pending
//! bytes are capped ([`MAX_PENDING`], the desktop name [`MAX_NAME`]); the
//! anomalies are Suricata's RFB event names. [`probe`]: `RFB 0NN.` at
//! the start of either side's stream.

use super::L7Message;
use super::reader::Reader;
use crate::AppEvent;
use crate::FlowSide;
use crate::parsers::anomalies::Anomalies;
use crate::session::{Probe, SessionParser};

/// Longest desktop name read from `ServerInit`; a longer one is a
/// `malformed_message`.
pub const MAX_NAME: usize = 4096;
/// Most bytes a side may have waiting while the handshake waits for the
/// other side (the largest message: `ServerInit` with a [`MAX_NAME`]
/// name); past it the handshake stops (`malformed_message`).
pub const MAX_PENDING: usize = 24 + MAX_NAME;

/// A `ProtocolVersion` line's numbers, as written (`003`, `008`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RfbVersion {
    /// The major version's three characters.
    pub major: Box<[u8]>,
    /// The minor version's three characters.
    pub minor: Box<[u8]>,
}

/// `ServerInit`'s pixel format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PixelFormat {
    /// Bits per pixel.
    pub bits_per_pixel: u8,
    /// Useful bits per pixel.
    pub depth: u8,
    /// Multi-byte pixels are big-endian.
    pub big_endian: bool,
    /// True colour (else a colour map).
    pub true_color: bool,
    /// Largest red value.
    pub red_max: u16,
    /// Largest green value.
    pub green_max: u16,
    /// Largest blue value.
    pub blue_max: u16,
    /// Red's shift.
    pub red_shift: u8,
    /// Green's shift.
    pub green_shift: u8,
    /// Blue's shift.
    pub blue_shift: u8,
}

/// `ServerInit`: the framebuffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Framebuffer {
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// The desktop's name.
    pub name: Box<[u8]>,
    /// The server's pixel format.
    pub pixel_format: PixelFormat,
}

/// One RFB connection's handshake, as far as it was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RfbHandshake {
    /// The server's `ProtocolVersion`.
    pub server_version: Option<RfbVersion>,
    /// The client's `ProtocolVersion`.
    pub client_version: Option<RfbVersion>,
    /// The security type in use (3.3: the server's; else the client's
    /// choice).
    pub security_type: Option<u32>,
    /// VNC authentication's 16-byte challenge (server).
    pub vnc_challenge: Option<[u8; 16]>,
    /// VNC authentication's 16-byte response (client).
    pub vnc_response: Option<[u8; 16]>,
    /// `SecurityResult`'s status (0 OK, 1 failed, 2 too many attempts).
    pub security_result: Option<u32>,
    /// `ClientInit`'s shared flag.
    pub shared: Option<bool>,
    /// `ServerInit`.
    pub framebuffer: Option<Framebuffer>,
}

/// The content probe: `RFB ` and a three-digit major version and `.` at
/// the start of either side's stream (the server's comes first).
pub fn probe(bytes: &[u8], _side: FlowSide) -> Probe {
    const SHAPE: &[u8] = b"RFB ddd.";
    let fits = |(&b, &s): (&u8, &u8)| {
        if s == b'd' {
            b.is_ascii_digit()
        } else {
            b == s
        }
    };
    if !bytes.iter().zip(SHAPE).all(fits) {
        Probe::No
    } else if bytes.len() < SHAPE.len() {
        Probe::NeedMore
    } else {
        Probe::Certain
    }
}

/// What the handshake waits for next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Stage {
    /// The server's `ProtocolVersion`.
    #[default]
    ServerVersion,
    /// The client's `ProtocolVersion`.
    ClientVersion,
    /// 3.3: the server's security type (u32).
    SecurityType,
    /// 3.7/3.8: the server's list of security types.
    SecurityTypes,
    /// 3.7/3.8: the client's choice.
    ClientSecurityType,
    /// VNC authentication: the server's challenge.
    VncChallenge,
    /// VNC authentication: the client's response.
    VncResponse,
    /// The server's `SecurityResult`.
    SecurityResult,
    /// The client's `ClientInit`.
    ClientInit,
    /// The server's `ServerInit`.
    ServerInit,
    /// Read to the end or stopped.
    Done,
}

impl Stage {
    /// The side whose bytes this stage reads (0 the client).
    fn side(self) -> usize {
        match self {
            Stage::ClientVersion
            | Stage::ClientSecurityType
            | Stage::VncResponse
            | Stage::ClientInit => 0,
            _ => 1,
        }
    }
}

/// What one step over the waiting side's bytes gave.
enum Step {
    /// This many bytes were read.
    Used(usize),
    /// More bytes are needed.
    More,
    /// The handshake stops here (with this anomaly, if any).
    Stop(Option<&'static str>),
}

/// The RFB session parser. Messages: [`L7Message::Rfb`], one per flow.
#[derive(Debug, Clone, Default)]
pub struct RfbParser {
    stage: Stage,
    /// The client's minor version decides 3.3 against 3.7 and 3.8.
    minor: u16,
    /// Each side's bytes not read yet (0 the client).
    pending: [Vec<u8>; 2],
    hs: RfbHandshake,
    emitted: bool,
    events: Anomalies<8>,
}

fn version(b: &[u8]) -> Result<Option<(RfbVersion, usize)>, ()> {
    let Some(line) = b.get(..12) else {
        return if probe(b, FlowSide::Responder) == Probe::No {
            Err(())
        } else {
            Ok(None)
        };
    };
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if &line[..4] != b"RFB " || line[7] != b'.' || line[11] != b'\n' {
        return Err(());
    }
    if !digits(&line[4..7]) || !digits(&line[8..11]) {
        return Err(());
    }
    let v = RfbVersion {
        major: line[4..7].into(),
        minor: line[8..11].into(),
    };
    Ok(Some((v, 12)))
}

/// Three ASCII digits as a number.
fn number(d: &[u8]) -> u16 {
    d.iter().fold(0, |n, &c| n * 10 + u16::from(c - b'0'))
}

impl RfbParser {
    fn event(&mut self, name: &'static str) {
        // A handful per flow at most: each stops the handshake.
        self.events.push("rfb", name, Some(0));
    }

    /// `ServerInit`: 24 bytes and the name.
    fn server_init(&mut self, b: &[u8]) -> Step {
        let mut r = Reader::new(b);
        let (Some(width), Some(height), Some(pf), Some(len)) =
            (r.u16(), r.u16(), r.take(16), r.u32())
        else {
            return Step::More;
        };
        let len = len as usize;
        if len > MAX_NAME {
            return Step::Stop(Some("malformed_message"));
        }
        let Some(name) = r.take(len) else {
            return Step::More;
        };
        let pixel_format = PixelFormat {
            bits_per_pixel: pf[0],
            depth: pf[1],
            big_endian: pf[2] != 0,
            true_color: pf[3] != 0,
            red_max: u16::from_be_bytes([pf[4], pf[5]]),
            green_max: u16::from_be_bytes([pf[6], pf[7]]),
            blue_max: u16::from_be_bytes([pf[8], pf[9]]),
            red_shift: pf[10],
            green_shift: pf[11],
            blue_shift: pf[12],
        };
        self.hs.framebuffer = Some(Framebuffer {
            width,
            height,
            name: name.into(),
            pixel_format,
        });
        Step::Stop(None)
    }

    /// After a security type is known: what comes next, or a stop for a
    /// type Suricata does not follow.
    fn after_type(&mut self, t: u32) -> Result<Stage, Option<&'static str>> {
        self.hs.security_type = Some(t);
        match t {
            1 if self.minor >= 8 => Ok(Stage::SecurityResult),
            1 => Ok(Stage::ClientInit),
            2 => Ok(Stage::VncChallenge),
            _ => Err(Some("unimplemented_security_type")),
        }
    }

    /// Reads the current stage's message from `b` (its side's bytes).
    fn step(&mut self, b: &[u8]) -> Step {
        let mut r = Reader::new(b);
        let next = match self.stage {
            Stage::Done => return Step::Stop(None),
            Stage::ServerVersion | Stage::ClientVersion => {
                let (v, len) = match version(b) {
                    Ok(Some(v)) => v,
                    Ok(None) => return Step::More,
                    Err(()) => return Step::Stop(Some("malformed_message")),
                };
                r.take(len);
                if self.stage == Stage::ServerVersion {
                    self.hs.server_version = Some(v);
                    Stage::ClientVersion
                } else {
                    let (major, minor) = (number(&v.major), number(&v.minor));
                    self.minor = if major > 3 { 8 } else { minor };
                    self.hs.client_version = Some(v);
                    if self.minor < 7 {
                        Stage::SecurityType
                    } else {
                        Stage::SecurityTypes
                    }
                }
            }
            Stage::SecurityType => {
                let Some(t) = r.u32() else { return Step::More };
                if t == 0 {
                    // A failure and its reason: nothing follows.
                    self.hs.security_type = Some(0);
                    return Step::Stop(None);
                }
                match self.after_type(t) {
                    Ok(s) => s,
                    Err(e) => return Step::Stop(e),
                }
            }
            Stage::SecurityTypes => {
                let Some(n) = r.u8() else { return Step::More };
                if n == 0 {
                    // No type offered: a failure reason follows.
                    return Step::Stop(None);
                }
                if r.take(usize::from(n)).is_none() {
                    return Step::More;
                }
                Stage::ClientSecurityType
            }
            Stage::ClientSecurityType => {
                let Some(t) = r.u8() else { return Step::More };
                match self.after_type(u32::from(t)) {
                    Ok(s) => s,
                    Err(e) => return Step::Stop(e),
                }
            }
            Stage::VncChallenge | Stage::VncResponse => {
                let Some(v) = r.take(16) else {
                    return Step::More;
                };
                let mut secret = [0; 16];
                secret.copy_from_slice(v);
                if self.stage == Stage::VncChallenge {
                    self.hs.vnc_challenge = Some(secret);
                    Stage::VncResponse
                } else {
                    self.hs.vnc_response = Some(secret);
                    Stage::SecurityResult
                }
            }
            Stage::SecurityResult => {
                let Some(status) = r.u32() else {
                    return Step::More;
                };
                self.hs.security_result = Some(status);
                match status {
                    0 => Stage::ClientInit,
                    1 | 2 => return Step::Stop(None),
                    _ => return Step::Stop(Some("unknown_security_result")),
                }
            }
            Stage::ClientInit => {
                let Some(shared) = r.u8() else {
                    return Step::More;
                };
                self.hs.shared = Some(shared != 0);
                Stage::ServerInit
            }
            Stage::ServerInit => return self.server_init(b),
        };
        self.stage = next;
        Step::Used(r.pos())
    }

    /// Runs the handshake over the pending bytes as far as they go.
    fn run(&mut self, out: &mut Vec<L7Message>) {
        loop {
            if self.stage == Stage::Done {
                break;
            }
            let k = self.stage.side();
            let buf = std::mem::take(&mut self.pending[k]);
            let step = self.step(&buf);
            self.pending[k] = buf;
            match step {
                Step::Used(n) => {
                    self.pending[k].drain(..n);
                }
                Step::More => break,
                Step::Stop(e) => {
                    if let Some(e) = e {
                        self.event(e);
                    }
                    self.stage = Stage::Done;
                    self.pending = Default::default();
                    self.emit(out);
                }
            }
        }
    }

    fn feed(&mut self, k: usize, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        if self.stage == Stage::Done {
            return out;
        }
        let p = &mut self.pending[k];
        if p.len() + bytes.len() > MAX_PENDING {
            // Past any handshake message: keep only what the cap allows;
            // the handshake stops if it still waits for this side then.
            let room = MAX_PENDING - p.len().min(MAX_PENDING);
            p.extend_from_slice(&bytes[..room.min(bytes.len())]);
            self.run(&mut out);
            if self.stage != Stage::Done && self.pending[k].len() >= MAX_PENDING {
                self.event("malformed_message");
                self.stage = Stage::Done;
                self.pending = Default::default();
                self.emit(&mut out);
            }
            return out;
        }
        p.extend_from_slice(bytes);
        self.run(&mut out);
        out
    }

    fn emit(&mut self, out: &mut Vec<L7Message>) {
        let h = &self.hs;
        if !self.emitted && (h.server_version.is_some() || h.client_version.is_some()) {
            self.emitted = true;
            out.push(L7Message::Rfb(Box::new(std::mem::take(&mut self.hs))));
        }
    }

    fn stop_quietly(&mut self) {
        self.stage = Stage::Done;
        self.pending = Default::default();
    }
}

impl SessionParser for RfbParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(0, bytes)
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(1, bytes)
    }

    /// A gap loses the handshake: it stops (the record comes at the
    /// flow's end).
    fn gap_initiator(&mut self, _len: u64) -> Vec<L7Message> {
        self.stop_quietly();
        Vec::new()
    }

    fn gap_responder(&mut self, _len: u64) -> Vec<L7Message> {
        self.stop_quietly();
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
        matches!(msg, L7Message::Rfb(_))
    }
}

#[cfg(test)]
mod tests;
