//! [`StartTlsParser`]: TLS after a plaintext phase, handed to a
//! [`TlsParser`] at the first client segment that starts with a TLS
//! handshake record, with the stream offsets of each direction shifted to
//! where TLS started (for acknowledgement timing), and SMTP recognised as
//! the protocol TLS took over from (Suricata's `from_proto`).

use super::{TlsParser, probe};
use crate::AppProto;
use crate::parsers::{L7Message, TlsConfig};
use crate::session::{Probe, SessionParser};

/// TLS that starts after a plaintext phase: STARTTLS in SMTP, IMAP, POP3,
/// FTP, XMPP and LDAP, PostgreSQL's SSLRequest, MySQL's SSL request, RDP's
/// X.224 negotiation. The plaintext is not parsed; the first client segment
/// that starts with a TLS handshake record switches both directions to a
/// [`TlsParser`]. Gives up after `MAX_PLAINTEXT` client bytes.
#[derive(Debug, Clone, Default)]
pub struct StartTlsParser {
    tls: TlsParser,
    switched: bool,
    /// Stream bytes per direction (gaps included) before the switch: where
    /// TLS starts in each.
    before: [u64; 2],
    /// The plaintext was SMTP's: a `220` greeting, then the client's
    /// `STARTTLS` command (`Some(false)`: the greeting only).
    smtp: Option<bool>,
}

/// Client bytes watched for the switch to TLS.
const MAX_PLAINTEXT: u64 = 64 * 1024;

impl StartTlsParser {
    /// A parser whose TLS part has these options.
    pub fn new(cfg: TlsConfig) -> Self {
        StartTlsParser {
            tls: TlsParser::new(cfg),
            switched: false,
            before: [0; 2],
            smtp: None,
        }
    }

    /// Its TLS part reports where Suricata does
    /// ([`TlsParser::timed_by_acks`]).
    pub fn timed_by_acks(mut self) -> Self {
        self.tls = self.tls.timed_by_acks();
        self
    }

    /// Direction `k`'s acknowledgement, shifted to the TLS stream.
    fn acked(&mut self, k: usize, offset: u64) -> Vec<L7Message> {
        if !self.switched || offset <= self.before[k] {
            return Vec::new();
        }
        let offset = offset - self.before[k];
        if k == 0 {
            self.tls.acked_initiator(offset)
        } else {
            self.tls.acked_responder(offset)
        }
    }
}

impl SessionParser for StartTlsParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        if !self.switched {
            if self.before[0] > MAX_PLAINTEXT || probe(bytes) != Probe::Certain {
                if self.smtp.is_some() && bytes.trim_ascii().eq_ignore_ascii_case(b"STARTTLS") {
                    self.smtp = Some(true);
                }
                self.before[0] = self.before[0].saturating_add(bytes.len() as u64);
                return Vec::new();
            }
            self.switched = true;
            if self.smtp == Some(true) {
                self.tls.hs.from_proto = Some("smtp");
            }
        }
        self.tls.feed_initiator(bytes)
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        if self.switched {
            self.tls.feed_responder(bytes)
        } else {
            if self.before[1] == 0 && bytes.starts_with(b"220") {
                self.smtp = Some(false);
            }
            self.before[1] = self.before[1].saturating_add(bytes.len() as u64);
            Vec::new()
        }
    }

    fn gap_initiator(&mut self, len: u64) -> Vec<L7Message> {
        if self.switched {
            self.tls.gap_initiator(len)
        } else {
            self.before[0] = self.before[0].saturating_add(len);
            Vec::new()
        }
    }

    fn gap_responder(&mut self, len: u64) -> Vec<L7Message> {
        if self.switched {
            self.tls.gap_responder(len)
        } else {
            self.before[1] = self.before[1].saturating_add(len);
            Vec::new()
        }
    }

    fn flow_end(&mut self) -> Vec<L7Message> {
        if self.switched {
            self.tls.flow_end()
        } else {
            Vec::new()
        }
    }

    fn acked_initiator(&mut self, offset: u64) -> Vec<L7Message> {
        self.acked(0, offset)
    }

    fn acked_responder(&mut self, offset: u64) -> Vec<L7Message> {
        self.acked(1, offset)
    }

    fn wants_acks(&self) -> bool {
        self.tls.wants_acks()
    }

    /// TLS once switched to, from SMTP when that was recognised (the route
    /// names no protocol: the plaintext one is not parsed).
    fn app_proto(&self) -> Option<AppProto> {
        self.switched.then_some(AppProto {
            name: "tls",
            orig: (self.smtp == Some(true)).then_some("smtp"),
        })
    }
}
