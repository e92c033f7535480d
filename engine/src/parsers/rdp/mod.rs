//! RDP, the Remote Desktop Protocol ([`RdpParser`], MS-RDPBCGR): the
//! connection sequence up to where Suricata 7 stops reading it. Each of
//! these is one [`RdpTransaction`], reported as soon as it is read, with
//! Suricata's `tx_id` (from 1): the client's X.224 Connection Request
//! (`mstshash` cookie, `RDP_NEG_REQ` flags), the server's Connection
//! Confirm (`RDP_NEG_RSP`: the chosen security protocol and the server's
//! flags, or `RDP_NEG_FAILURE`), the client's MCS Connect-Initial (the GCC
//! Client Core Data and the channels of the Client Network Data) and the
//! server's MCS Connect-Response, after which the server's side is not
//! read. When the connection moves to TLS (enhanced security: TLS,
//! CredSSP), its records are read instead, as Suricata does without
//! handing the flow to its TLS parser: the server's Certificate message
//! is one more transaction (the chain's serials), after which the
//! server's side is not read; the flow stays `rdp`. Bytes that are
//! neither TPKT nor TLS end the reading of both sides (Suricata's parser
//! error), as does a gap. Caps ([`RdpConfig`]): the PDU length buffered
//! per side (a longer PDU is skipped unread, `pdu_too_long`), the
//! transactions per flow (`too_many_transactions`, then the reading
//! stops), the channel names kept ([`wire::MAX_CHANNELS`],
//! `too_many_channels`) and the certificates read per chain
//! ([`wire::MAX_CERTS`], `too_many_certificates`). [`probe`]: a TPKT
//! holding an X.224 Connection Request or Confirm.

pub mod names;
mod wire;

pub use wire::{MAX_CERTS, MAX_CHANNELS};

use super::{L7Message, RdpConfig};
use crate::AppEvent;
use crate::FlowSide;
use crate::parsers::anomalies::Anomalies;
use crate::session::{Probe, SessionParser};
use wire::{Fail, Frame, Handshake, Tpkt};

/// Anomalies queued per flow before later ones are dropped.
const MAX_QUEUED_EVENTS: usize = 16;

/// The server's answer to the client's security negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiation {
    /// `RDP_NEG_RSP`.
    Response {
        /// The server's flags (`extended_client_data`...).
        flags: u8,
        /// The selected protocol (0 RDP, 1 TLS, 2 CredSSP, 4 RDSTLS, 8
        /// CredSSP with early user authorization).
        protocol: u32,
    },
    /// `RDP_NEG_FAILURE`.
    Failure {
        /// The failure code (1 to 6).
        code: u32,
    },
}

/// The GCC Client Core Data (`CS_CORE`): the mandatory fields, and the
/// optional ones as far as each is there and valid (each needs the one
/// before).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCore {
    /// RDP version (`0x80004`: RDP 5.0 to 8.1).
    pub version: u32,
    /// Desktop width in pixels.
    pub desktop_width: u16,
    /// Desktop height in pixels.
    pub desktop_height: u16,
    /// `colorDepth` (0xCA00 4 bpp, 0xCA01 8 bpp).
    pub color_depth: u16,
    /// Keyboard layout (a locale identifier).
    pub keyboard_layout: u32,
    /// The client's build number.
    pub build: u32,
    /// The client's name (UTF-16 up to the first NUL).
    pub client_name: Box<str>,
    /// Keyboard type (1 to 7).
    pub keyboard_type: u32,
    /// Keyboard subtype.
    pub keyboard_subtype: u32,
    /// Function keys.
    pub function_keys: u32,
    /// The input method editor's file name.
    pub ime: Box<str>,
    /// `postBeta2ColorDepth`.
    pub post_beta2_color_depth: Option<u16>,
    /// `clientProductId`.
    pub product_id: Option<u16>,
    /// `serialNumber`.
    pub serial_number: Option<u32>,
    /// `highColorDepth`.
    pub high_color_depth: Option<u16>,
    /// `earlyCapabilityFlags`.
    pub capabilities: Option<u16>,
    /// `clientDigProductId`.
    pub dig_product_id: Option<Box<str>>,
    /// `connectionType`.
    pub connection_hint: Option<u8>,
    /// `desktopPhysicalWidth` in millimetres.
    pub physical_width: Option<u32>,
    /// `desktopPhysicalHeight` in millimetres.
    pub physical_height: Option<u32>,
    /// `desktopOrientation` in degrees.
    pub orientation: Option<u16>,
    /// `desktopScaleFactor` in percent.
    pub scale_factor: Option<u32>,
    /// `deviceScaleFactor` in percent.
    pub device_scale_factor: Option<u32>,
}

/// The MCS Connect-Initial's GCC data Suricata writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectRequest {
    /// The Client Core Data, when one decoded.
    pub client: Option<ClientCore>,
    /// The Client Network Data's channel names, in order.
    pub channels: Vec<Box<str>>,
}

/// What one transaction holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdpItem {
    /// The X.224 Connection Request (`initial_request`).
    InitialRequest {
        /// The `mstshash` cookie.
        cookie: Option<Box<str>>,
        /// `RDP_NEG_REQ`'s flags, when one was read.
        flags: Option<u8>,
    },
    /// The X.224 Connection Confirm (`initial_response`).
    InitialResponse(Option<Negotiation>),
    /// The MCS Connect-Initial (`connect_request`).
    ConnectRequest(Box<ConnectRequest>),
    /// The MCS Connect-Response (`connect_response`).
    ConnectResponse,
    /// The server's TLS Certificate message (`tls_handshake`): each
    /// certificate's serial, lowercase hex.
    TlsHandshake(Vec<Box<str>>),
}

/// One RDP transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdpTransaction {
    /// Suricata's `tx_id` (from 1, per flow).
    pub tx_id: u64,
    /// What it holds.
    pub item: RdpItem,
}

/// The content probe: a TPKT (version 3) whose X.224 TPDU is a Connection
/// Request or Confirm of a length that fits it, on either side.
pub fn probe(bytes: &[u8], _side: FlowSide) -> Probe {
    let head: [Option<&u8>; 6] = std::array::from_fn(|i| bytes.get(i));
    match head {
        [
            Some(&3),
            Some(&0),
            Some(&hi),
            Some(&lo),
            Some(&li),
            Some(&code),
        ] => {
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            let fits = li >= 6 && len >= 11 && usize::from(li) + 5 <= len;
            if fits && matches!(code >> 4, 0xe | 0xd) {
                Probe::Certain
            } else {
                Probe::No
            }
        }
        [Some(&3), None | Some(&0), ..] => Probe::NeedMore,
        [None, ..] => Probe::NeedMore,
        _ => Probe::No,
    }
}

/// The RDP session parser. Messages: [`L7Message::Rdp`], one per
/// transaction.
#[derive(Debug, Clone, Default)]
pub struct RdpParser {
    cfg: RdpConfig,
    tx_id: u64,
    /// Each side's bytes of a PDU not whole yet (0: the client).
    pending: [Vec<u8>; 2],
    /// Each side's bytes still to skip of a PDU over the cap.
    skip: [u64; 2],
    /// The record layer is TLS now (Suricata's `tls_parsing`, for both
    /// sides).
    tls: bool,
    /// Side `k` is not read any more.
    done: [bool; 2],
    events: Anomalies<MAX_QUEUED_EVENTS>,
}

impl RdpParser {
    /// A parser with these options.
    pub fn new(cfg: &RdpConfig) -> Self {
        RdpParser {
            cfg: cfg.clone(),
            ..RdpParser::default()
        }
    }

    fn event(&mut self, name: &'static str) {
        let tx_id = (self.tx_id > 0).then_some(self.tx_id);
        self.events.push("rdp", name, tx_id);
    }

    /// Suricata stops reading both sides (a parser error, a gap).
    fn stop(&mut self) {
        self.done = [true, true];
        self.pending = Default::default();
    }

    fn report(&mut self, item: RdpItem, out: &mut Vec<L7Message>) {
        if self.tx_id >= self.cfg.max_tx {
            self.event("too_many_transactions");
            self.stop();
            return;
        }
        self.tx_id += 1;
        out.push(L7Message::Rdp(Box::new(RdpTransaction {
            tx_id: self.tx_id,
            item,
        })));
    }

    /// Reads side `k`'s PDUs from `buf`; returns the bytes used.
    fn run(&mut self, k: usize, buf: &[u8], out: &mut Vec<L7Message>) -> usize {
        let mut at = 0;
        while at < buf.len() && !self.done[k] {
            let rest = &buf[at..];
            if self.skip[k] > 0 {
                let n = rest
                    .len()
                    .min(usize::try_from(self.skip[k]).unwrap_or(usize::MAX));
                self.skip[k] -= n as u64;
                at += n;
                continue;
            }
            let frame = if self.tls {
                wire::tls_frame(rest)
            } else {
                wire::tpkt_frame(rest)
            };
            let len = match frame {
                Frame::Need => break,
                Frame::Bad if !self.tls && rest.first() == Some(&0x16) => {
                    // A TLS handshake record: the connection moved to TLS.
                    self.tls = true;
                    continue;
                }
                Frame::Bad => {
                    self.stop();
                    break;
                }
                Frame::Len(len) if len > self.cfg.max_pdu_bytes => {
                    self.event("pdu_too_long");
                    self.skip[k] = len as u64;
                    continue;
                }
                Frame::Len(len) => len,
            };
            let Some(pdu) = rest.get(..len) else { break };
            at += len;
            if self.tls {
                self.record(k, pdu, out);
            } else {
                self.tpkt(k, pdu, out);
            }
        }
        at
    }

    /// One whole TPKT from side `k`.
    fn tpkt(&mut self, k: usize, pdu: &[u8], out: &mut Vec<L7Message>) {
        match (k, wire::tpkt(pdu)) {
            // A structure inside runs past the PDU: Suricata waits on this
            // side for good.
            (_, Err(Fail::Short | Fail::Bad)) => self.done[k] = true,
            (0, Ok(Tpkt::Request(cookie, flags))) => {
                self.report(RdpItem::InitialRequest { cookie, flags }, out);
            }
            (0, Ok(Tpkt::Connect(req, over))) => {
                if over > 0 {
                    self.event("too_many_channels");
                }
                self.report(RdpItem::ConnectRequest(req), out);
            }
            (1, Ok(Tpkt::Confirm(neg))) => self.report(RdpItem::InitialResponse(neg), out),
            (1, Ok(Tpkt::ConnectResponse)) => {
                self.report(RdpItem::ConnectResponse, out);
                // Suricata reads nothing more from the server.
                self.done[1] = true;
                self.pending[1] = Vec::new();
            }
            _ => {}
        }
    }

    /// One whole TLS record from side `k`: the server's Certificate
    /// message is a transaction; the client's records are not read.
    fn record(&mut self, k: usize, rec: &[u8], out: &mut Vec<L7Message>) {
        let (Some(&ty), Some(body)) = (rec.first(), rec.get(5..)) else {
            return;
        };
        if k == 0 {
            return;
        }
        match ty {
            22 => match wire::handshake(body) {
                Handshake::Unreadable => self.stop(),
                Handshake::Other => {}
                Handshake::Certificate(serials, over) => {
                    if over > 0 {
                        self.event("too_many_certificates");
                    }
                    self.report(RdpItem::TlsHandshake(serials), out);
                    self.done[1] = true;
                    self.pending[1] = Vec::new();
                }
            },
            20 | 21 | 23 | 24 => {}
            _ => self.stop(),
        }
    }

    fn feed(&mut self, k: usize, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        if self.done[k] {
            return out;
        }
        if self.pending[k].is_empty() {
            let used = self.run(k, bytes, &mut out);
            if !self.done[k] {
                self.pending[k].extend_from_slice(&bytes[used..]);
            }
        } else {
            let mut buf = std::mem::take(&mut self.pending[k]);
            buf.extend_from_slice(bytes);
            let used = self.run(k, &buf, &mut out);
            if !self.done[k] {
                buf.drain(..used);
                self.pending[k] = buf;
            }
        }
        out
    }
}

impl SessionParser for RdpParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(0, bytes)
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(1, bytes)
    }

    /// A gap: the PDUs cannot be framed again, so reading stops.
    fn gap_initiator(&mut self, _len: u64) -> Vec<L7Message> {
        self.stop();
        Vec::new()
    }

    fn gap_responder(&mut self, _len: u64) -> Vec<L7Message> {
        self.stop();
        Vec::new()
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }

    fn is_transaction(msg: &L7Message) -> bool {
        matches!(msg, L7Message::Rdp(_))
    }
}

#[cfg(test)]
mod tests;
