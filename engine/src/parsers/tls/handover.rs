//! [`Handover`]: the TLS parser a plaintext protocol hands its flow to
//! once both ends agreed to switch (SMTP's accepted STARTTLS, PostgreSQL's
//! accepted SSLRequest). Built at the switch from the options the protocol
//! was registered with, it is fed each side's bytes and gaps, gets the
//! acknowledgements shifted to where TLS started in each direction, names
//! the protocol it took over from (Suricata's `from_proto`) and, once on,
//! the flow's `app_proto` (`tls`).

use super::TlsParser;
use crate::AppProto;
use crate::parsers::{L7Message, TlsConfig};
use crate::session::SessionParser;
use std::sync::Arc;

/// TLS after a plaintext phase, run by the plaintext protocol's parser.
#[derive(Debug, Clone, Default)]
pub struct Handover {
    /// The options TLS is read with; none: the switch ends the reading.
    cfg: Option<Arc<TlsConfig>>,
    /// After the switch, with options: the TLS parser.
    tls: Option<Box<TlsParser>>,
    /// Stream bytes per direction (gaps included) before the switch.
    before: [u64; 2],
}

impl Handover {
    /// TLS after the switch is read with these options.
    pub fn configure(&mut self, cfg: TlsConfig) {
        self.cfg = Some(Arc::new(cfg));
    }

    /// Whether TLS would be read after a switch.
    pub fn is_configured(&self) -> bool {
        self.cfg.is_some()
    }

    /// The switch, from protocol `from`, `before` bytes into each
    /// direction; `timed_by_acks`: TLS records are reported where
    /// Suricata does ([`TlsParser::timed_by_acks`]).
    pub fn start(&mut self, from: &'static str, timed_by_acks: bool, before: [u64; 2]) {
        if let Some(cfg) = self.cfg.clone() {
            let t = TlsParser::shared(cfg);
            let t = if timed_by_acks { t.timed_by_acks() } else { t };
            self.tls = Some(Box::new(t.handed_over_from(from)));
            self.before = before;
        }
    }

    /// Whether TLS is being read.
    pub fn is_on(&self) -> bool {
        self.tls.is_some()
    }

    /// Side `k`'s bytes (0: the client).
    pub fn feed(&mut self, k: usize, bytes: &[u8]) -> Vec<L7Message> {
        match self.tls.as_mut() {
            Some(t) if k == 0 => t.feed_initiator(bytes),
            Some(t) => t.feed_responder(bytes),
            None => Vec::new(),
        }
    }

    /// A gap of `len` bytes in side `k`.
    pub fn gap(&mut self, k: usize, len: u64) -> Vec<L7Message> {
        match self.tls.as_mut() {
            Some(t) if k == 0 => t.gap_initiator(len),
            Some(t) => t.gap_responder(len),
            None => Vec::new(),
        }
    }

    /// Direction `k`'s acknowledgement of its whole stream up to `offset`,
    /// shifted to the TLS stream (nothing for bytes before the switch).
    pub fn acked(&mut self, k: usize, offset: u64) -> Vec<L7Message> {
        let before = self.before[k.min(1)];
        match self.tls.as_mut() {
            Some(t) if offset > before && k == 0 => t.acked_initiator(offset - before),
            Some(t) if offset > before => t.acked_responder(offset - before),
            _ => Vec::new(),
        }
    }

    /// Once on: whether the TLS parser wants acknowledgements.
    pub fn wants_acks(&self) -> Option<bool> {
        self.tls.as_ref().map(|t| t.wants_acks())
    }

    /// The flow ended: what the TLS parser still holds.
    pub fn flow_end(&mut self) -> Vec<L7Message> {
        self.tls.as_mut().map(|t| t.flow_end()).unwrap_or_default()
    }

    /// Once on: `tls` (the route's protocol is the original).
    pub fn app_proto(&self) -> Option<AppProto> {
        self.tls.as_ref().map(|_| "tls".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_copy_and_the_parser_after_the_switch_share_the_options() {
        // The plaintext protocol's parser (and so this) is cloned per flow.
        let mut h = Handover::default();
        h.configure(TlsConfig::default());
        let mut copy = h.clone();
        let (a, b) = (h.cfg.as_ref().unwrap(), copy.cfg.as_ref().unwrap());
        assert!(Arc::ptr_eq(a, b));
        copy.start("smtp", true, [10, 20]);
        let tls = copy.tls.as_ref().unwrap();
        assert!(Arc::ptr_eq(&tls.cfg, h.cfg.as_ref().unwrap()));
        assert_eq!(copy.app_proto(), Some("tls".into()));
    }
}
