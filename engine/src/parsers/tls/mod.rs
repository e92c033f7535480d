//! The TLS handshake ([`TlsParser`]): records reassembled across segments
//! (`record`), handshake messages across records (`handshake`),
//! SSLv2-compatible ClientHellos, ClientHello and ServerHello (decoded by
//! [`hello`](super::hello)), the certificate chain of TLS ≤ 1.2
//! (`cert`, x509-parser), alerts; parsing stops once a direction is
//! encrypted. One [`TlsHandshake`] message per connection: when the server
//! starts encrypting or the flow ends, or — with acknowledgement timing
//! (`timing`) — where Suricata reports it, the bytes read as the peer
//! acknowledges them. The version as Suricata names it ([`version_name`]).
//! [`StartTlsParser`] (`starttls`) finds TLS after a plaintext phase.

mod cert;
mod handover;
mod handshake;
mod record;
mod starttls;
mod timing;

pub(crate) use cert::forget_certificates;
pub use cert::{Certificate, certificate};
pub use handover::Handover;
pub use record::probe;
pub use starttls::StartTlsParser;

use super::fingerprint::Ja3;
use super::hello::{ClientHello, ServerHello};
use super::{L7Message, TlsConfig};
use crate::FlowSide;
use crate::session::SessionParser;
use std::sync::Arc;

/// An alert seen in clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    /// Who sent it.
    pub side: FlowSide,
    /// 1 warning, 2 fatal.
    pub level: u8,
    /// Description code.
    pub description: u8,
}

/// Why parsing of a TLS connection stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TlsStop {
    /// Both directions' handshake was followed by encrypted data (or
    /// ChangeCipherSpec): nothing more to read in clear.
    Encrypted,
    /// The flow ended during the handshake.
    #[default]
    FlowEnd,
    /// The data stopped looking like TLS records.
    NotTls,
    /// The server's certificate was read, and the handshake bytes read so
    /// far (those the peer acknowledged) ended on a record boundary: where
    /// Suricata reports the handshake done (acknowledgement timing only).
    HandshakeDone,
}

/// What one TLS connection's handshake showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsHandshake {
    /// The first ClientHello.
    pub client_hello: Option<ClientHello>,
    /// ClientHellos seen (a second follows a HelloRetryRequest).
    pub client_hellos: u32,
    /// The ServerHello (after a HelloRetryRequest, the real one).
    pub server_hello: Option<ServerHello>,
    /// A HelloRetryRequest was sent.
    pub hello_retry_request: bool,
    /// The server's chain (TLS ≤ 1.2), leaf first.
    pub certificates: Vec<Certificate>,
    /// Certificates that did not decode.
    pub bad_certificates: u32,
    /// Alerts in clear.
    pub alerts: Vec<Alert>,
    /// JA3 of the ClientHello.
    pub ja3: Option<Ja3>,
    /// JA3S of the ServerHello.
    pub ja3s: Option<Ja3>,
    /// JA4 of the ClientHello.
    pub ja4: Option<String>,
    /// Why parsing stopped.
    pub stop: TlsStop,
    /// Bytes lost to capture gaps during the handshake.
    pub gap_bytes: u64,
    /// Carried in QUIC Initial packets of this version (not TLS over TCP).
    pub quic_version: Option<u32>,
    /// The version field of the last record the server sent before its
    /// ServerHello was read ([`SSLV2`] for an SSLv2 record): what
    /// [`TlsHandshake::version`] reports when no ServerHello was.
    pub server_record_version: Option<u16>,
    /// The protocol the connection spoke before TLS took over mid-flow
    /// (`http`: through an accepted CONNECT): Suricata's `tls.from_proto`.
    pub from_proto: Option<&'static str>,
}

/// SSLv2, as a version number (Suricata's: SSLv2 records carry none).
pub const SSLV2: u16 = 0x0200;
/// What a ServerHello's `legacy_version` of 0x0304 or 0x7f01–0x7f0f is
/// read as: a TLS 1.3 draft before 16 (they used these numbers there).
pub const TLS13_PRE_DRAFT16: u16 = 0x7f01;

impl TlsHandshake {
    /// The version Suricata reports (EVE `tls.version`): the server's
    /// side only — its ServerHello's supported_versions extension, else
    /// the hello's `legacy_version` (0x0304 and 0x7f01–0x7f0f read as
    /// [`TLS13_PRE_DRAFT16`]), else the version of its last record before
    /// one ([`TlsHandshake::server_record_version`]). `None` when the
    /// server sent nothing (the client's offers are not a version).
    pub fn version(&self) -> Option<u16> {
        match &self.server_hello {
            Some(sh) if sh.extensions.contains(&EXT_SUPPORTED_VERSIONS) => {
                Some(sh.selected_version)
            }
            Some(sh) if sh.version == 0x0304 || (0x7f01..=0x7f0f).contains(&sh.version) => {
                Some(TLS13_PRE_DRAFT16)
            }
            Some(sh) => Some(sh.version),
            None => self.server_record_version,
        }
    }
}

/// The supported_versions extension.
const EXT_SUPPORTED_VERSIONS: u16 = 43;

/// Whether version `v` (as a ServerHello selects it) is TLS 1.3 or one of
/// its drafts (IETF 0x7fXX, Facebook's 0xfbXX): everything the server
/// sends after that hello is encrypted.
pub fn is_tls13(v: u16) -> bool {
    v == 0x0304 || v >> 8 == 0x7f || v >> 8 == 0xfb
}

/// Suricata's name of a TLS version (EVE `tls.version`): `TLSv1`,
/// `TLS 1.2`, `TLS 1.3 draft-18`, `TLS 1.3 draft-<16`,
/// `TLS 1.3 draft-26-fb`..., `UNDETERMINED` for none (0) and `0x%04x` for
/// numbers it has no name for.
pub fn version_name(v: u16) -> std::borrow::Cow<'static, str> {
    /// Drafts 16 to 28: 0x7f10 to 0x7f1c.
    const DRAFTS: [&str; 13] = [
        "TLS 1.3 draft-16",
        "TLS 1.3 draft-17",
        "TLS 1.3 draft-18",
        "TLS 1.3 draft-19",
        "TLS 1.3 draft-20",
        "TLS 1.3 draft-21",
        "TLS 1.3 draft-22",
        "TLS 1.3 draft-23",
        "TLS 1.3 draft-24",
        "TLS 1.3 draft-25",
        "TLS 1.3 draft-26",
        "TLS 1.3 draft-27",
        "TLS 1.3 draft-28",
    ];
    std::borrow::Cow::Borrowed(match v {
        0x0000 => "UNDETERMINED",
        // 0x0002: the version field of an SSLv2 ClientHello.
        0x0002 | SSLV2 => "SSLv2",
        0x0300 => "SSLv3",
        0x0301 => "TLSv1",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        TLS13_PRE_DRAFT16 => "TLS 1.3 draft-<16",
        0x7f10..=0x7f1c => DRAFTS[usize::from(v - 0x7f10)],
        0xfb14 => "TLS 1.3 draft-20-fb",
        0xfb15 => "TLS 1.3 draft-21-fb",
        0xfb16 => "TLS 1.3 draft-22-fb",
        0xfb17 => "TLS 1.3 draft-23-fb",
        0xfb1a => "TLS 1.3 draft-26-fb",
        _ => return std::borrow::Cow::Owned(format!("0x{v:04x}")),
    })
}

/// One direction's record and handshake reassembly.
#[derive(Debug, Clone, Default)]
struct Dir {
    /// An incomplete record (header included).
    record: Vec<u8>,
    /// Handshake bytes not yet forming a whole message.
    handshake: Vec<u8>,
    /// Encrypted from here on (or gave up): bytes are ignored.
    done: bool,
    /// Bytes of the first record seen: SSLv2 hellos are only looked for
    /// there.
    first: bool,
    /// Encrypted from here on, with acknowledgement timing: records are
    /// only cut (for the first application data), their bodies skipped.
    encrypted: bool,
    /// Body bytes of the current encrypted record still to skip.
    skip_left: usize,
    /// That record's content type.
    skip_type: u8,
}

/// The TLS session parser.
#[derive(Debug, Clone)]
pub struct TlsParser {
    /// Shared by every flow's copy of the registered parser.
    cfg: Arc<TlsConfig>,
    dirs: [Dir; 2],
    hs: TlsHandshake,
    /// The handshake message was emitted.
    emitted: bool,
    /// Anything TLS-like was seen.
    seen: bool,
    /// A server Certificate message was decoded (later ones are ignored).
    chain_done: bool,
    /// Handshake messages over `max_handshake_bytes` (skipped).
    oversized: u32,
    /// The server asked for the client's certificate (`Some`), and whether
    /// one that decodes came.
    client_cert: Option<bool>,
    /// Acknowledgement timing (see [`TlsParser::timed_by_acks`]): the bytes
    /// not acknowledged yet. `None`: bytes are read as they come.
    acks: Option<Box<timing::Unacked>>,
    /// The server chose `h2` and `app_proto_from_alpn` is on: the flow is
    /// `http2`.
    alpn_h2: bool,
}

impl Default for TlsParser {
    fn default() -> Self {
        TlsParser::new(TlsConfig::default())
    }
}

impl TlsParser {
    /// A parser with these options.
    pub fn new(cfg: TlsConfig) -> Self {
        Self::shared(Arc::new(cfg))
    }

    /// A parser with options shared with other parsers.
    pub(crate) fn shared(cfg: Arc<TlsConfig>) -> Self {
        TlsParser {
            cfg,
            dirs: [
                Dir {
                    first: true,
                    ..Dir::default()
                },
                Dir {
                    first: true,
                    ..Dir::default()
                },
            ],
            hs: TlsHandshake::default(),
            emitted: false,
            seen: false,
            chain_done: false,
            oversized: 0,
            client_cert: None,
            acks: None,
            alpn_h2: false,
        }
    }

    /// A parser for TLS that takes over a connection from `proto` (an HTTP
    /// CONNECT tunnel: `http`): its message says so
    /// ([`TlsHandshake::from_proto`]).
    pub fn handed_over_from(mut self, proto: &'static str) -> Self {
        self.hs.from_proto = Some(proto);
        self
    }

    /// Handshake messages skipped for size.
    pub fn oversized(&self) -> u32 {
        self.oversized
    }

    fn give_up(&mut self, k: usize) {
        let d = &mut self.dirs[k];
        d.done = true;
        d.record = Vec::new();
        d.handshake = Vec::new();
        if !self.dirs[1 - k].done || self.hs.client_hello.is_none() {
            self.hs.stop = TlsStop::NotTls;
        }
    }

    /// Direction `k` went encrypted; once the server has, the handshake is
    /// reported (with acknowledgement timing: the direction's records are
    /// only cut from here on, see [`TlsParser::timed_by_acks`]).
    fn encrypted(&mut self, k: usize, out: &mut Vec<L7Message>) {
        let d = &mut self.dirs[k];
        d.record = Vec::new();
        d.handshake = Vec::new();
        if self.acks.is_some() {
            d.encrypted = true;
            if k == 1 {
                self.hs.stop = TlsStop::Encrypted;
            }
            return;
        }
        d.done = true;
        if k == 1 {
            self.hs.stop = TlsStop::Encrypted;
            // The client's CCS/Finished are not needed either.
            self.dirs[0].done = true;
            self.emit(out);
        }
    }

    fn emit(&mut self, out: &mut Vec<L7Message>) {
        if !self.emitted && self.seen {
            self.emitted = true;
            self.alpn_h2 = self.cfg.app_proto_from_alpn
                && self
                    .hs
                    .server_hello
                    .as_ref()
                    .and_then(|s| s.alpn.as_deref())
                    == Some(b"h2");
            let hs = std::mem::take(&mut self.hs);
            out.push(L7Message::Tls(Box::new(hs)));
        }
    }
}

impl SessionParser for TlsParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.arrived(0, bytes, &mut out);
        out
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.arrived(1, bytes, &mut out);
        out
    }

    fn gap_initiator(&mut self, len: u64) -> Vec<L7Message> {
        self.gap_arrived(0, len);
        Vec::new()
    }

    fn gap_responder(&mut self, len: u64) -> Vec<L7Message> {
        self.gap_arrived(1, len);
        Vec::new()
    }

    fn flow_end(&mut self) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.end(&mut out);
        out
    }

    fn acked_initiator(&mut self, offset: u64) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.acked(0, offset, &mut out);
        out
    }

    fn acked_responder(&mut self, offset: u64) -> Vec<L7Message> {
        let mut out = Vec::new();
        self.acked(1, offset, &mut out);
        out
    }

    /// With `app_proto_from_alpn`, `http2` (from `tls`) when the server
    /// chose `h2`.
    fn app_proto(&self) -> Option<crate::AppProto> {
        self.alpn_h2.then_some(crate::AppProto {
            name: "http2",
            orig: Some("tls"),
        })
    }

    fn wants_acks(&self) -> bool {
        TlsParser::wants_acks(self)
    }
}

impl TlsParser {
    /// A gap: the record framing is lost; the direction stops (a capture
    /// gap inside a handshake leaves nothing reliable to parse).
    fn gap(&mut self, k: usize, len: u64) {
        if self.dirs[k].done {
            return;
        }
        self.hs.gap_bytes += len;
        let d = &mut self.dirs[k];
        d.done = true;
        d.record = Vec::new();
        d.handshake = Vec::new();
    }
}

#[cfg(test)]
mod tests;
