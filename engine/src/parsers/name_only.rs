//! The parser of the protocols flowscope names and does not log (NTP over
//! UDP, Telnet over TCP: Suricata 7 writes no record for them either). The
//! route's content probe decides whether a flow is the protocol, and
//! [`NameOnly`] then reads nothing and writes nothing: the flow record's
//! `app_proto` is all it gives.

use super::L7Message;
use crate::FlowSide;
use crate::session::{DatagramParser, SessionParser};

/// A parser that produces no message, over TCP or UDP.
#[derive(Debug, Clone, Copy, Default)]
pub struct NameOnly;

impl SessionParser for NameOnly {
    type Message = L7Message;

    fn feed_initiator(&mut self, _bytes: &[u8]) -> Vec<L7Message> {
        Vec::new()
    }

    fn feed_responder(&mut self, _bytes: &[u8]) -> Vec<L7Message> {
        Vec::new()
    }
}

impl DatagramParser for NameOnly {
    type Message = L7Message;

    fn parse(&mut self, _payload: &[u8], _side: FlowSide) -> Vec<L7Message> {
        Vec::new()
    }
}
