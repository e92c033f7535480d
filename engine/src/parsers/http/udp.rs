//! HTTP over UDP ([`HttpUdpParser`]): SSDP's one-head datagrams.

use super::head::{
    HeaderSlots, first_line, request_line, request_tx, response_fields, status_line,
};
use super::{HttpTransaction, L7Message};
use crate::parsers::HttpConfig;
use std::sync::Arc;

/// HTTP over UDP (SSDP's `M-SEARCH` / `NOTIFY` and their responses): each
/// datagram is one request or response head, reported on its own.
#[derive(Debug, Clone, Default)]
pub struct HttpUdpParser {
    /// Shared by every flow's copy of the registered parser.
    pub(super) cfg: Arc<HttpConfig>,
    malformed: u64,
}

impl HttpUdpParser {
    /// A parser with these options.
    pub fn new(cfg: HttpConfig) -> Self {
        HttpUdpParser {
            cfg: Arc::new(cfg),
            malformed: 0,
        }
    }

    /// Datagrams that were not an HTTP head (skipped).
    pub fn malformed(&self) -> u64 {
        self.malformed
    }
}

impl crate::session::DatagramParser for HttpUdpParser {
    type Message = L7Message;

    fn parse(&mut self, payload: &[u8], _side: crate::FlowSide) -> Vec<L7Message> {
        // An empty datagram (the driver passes those on) says nothing.
        if payload.is_empty() {
            return Vec::new();
        }
        let mut slots = HeaderSlots::new();
        let (line, rest) = first_line(payload);
        let tx = match slots.parse(rest, self.cfg.max_headers) {
            Ok(httparse::Status::Complete(h)) => {
                if let Some(req) = request_line(line) {
                    Some(request_tx(&self.cfg, req, h))
                } else if let Some(st) = status_line(line) {
                    let mut tx = HttpTransaction::default();
                    response_fields(&self.cfg, &mut tx, st, h);
                    Some(tx)
                } else {
                    None
                }
            }
            _ => None,
        };
        match tx {
            Some(tx) => vec![L7Message::Http(Box::new(tx))],
            None => {
                self.malformed += 1;
                Vec::new()
            }
        }
    }
}
