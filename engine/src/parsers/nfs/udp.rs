//! NFS over UDP: one RPC message per datagram, calls from the flow's
//! client and replies from its server (NFSv4 calls are not read, as
//! Suricata 7 reads none over UDP).

use super::NfsConfig;
use super::rpc;
use super::state::NfsState;
use crate::parsers::L7Message;
use crate::session::DatagramParser;
use crate::{AppEvent, FlowSide};

/// The NFS-over-UDP datagram parser. Messages: [`L7Message::Nfs`], one
/// per transaction.
#[derive(Debug, Clone)]
pub struct NfsUdpParser {
    state: NfsState,
}

impl Default for NfsUdpParser {
    fn default() -> Self {
        NfsUdpParser::new(&NfsConfig::default())
    }
}

impl NfsUdpParser {
    /// A parser with these options.
    pub fn new(cfg: &NfsConfig) -> Self {
        NfsUdpParser {
            state: NfsState::new(cfg.max_tx),
        }
    }
}

impl DatagramParser for NfsUdpParser {
    type Message = L7Message;

    fn parse(&mut self, payload: &[u8], side: FlowSide) -> Vec<L7Message> {
        let mut out = Vec::new();
        match side {
            FlowSide::Initiator => {
                if let Some(c) = rpc::call(payload) {
                    super::on_call(&mut self.state, &c, true);
                }
            }
            FlowSide::Responder => {
                if let Some(r) = rpc::reply_udp(payload) {
                    super::on_reply(&mut self.state, &r);
                }
            }
        }
        self.state.collect(&mut out);
        out
    }

    fn flow_end(&mut self) -> Vec<L7Message> {
        // Transactions never finished are not written: Suricata 7 logs
        // none at a UDP flow's end.
        Vec::new()
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.state.next_event()
    }
}
