//! Parsers that do nothing, so a benchmark measures what reassembly and the
//! session driver cost on their own.

use flowscope_engine::{
    DatagramParser, FlowSide, ReassemblyConfig, Route, SessionParser, Sessions,
};

/// Takes every byte and reports nothing.
#[derive(Debug, Default, Clone)]
pub struct NoopStream;

impl SessionParser for NoopStream {
    type Message = ();
    fn feed_initiator(&mut self, _: &[u8]) -> Vec<()> {
        Vec::new()
    }
    fn feed_responder(&mut self, _: &[u8]) -> Vec<()> {
        Vec::new()
    }
}

/// Takes every datagram and reports nothing.
#[derive(Debug, Default, Clone)]
pub struct NoopDatagram;

impl DatagramParser for NoopDatagram {
    type Message = ();
    fn parse(&mut self, _: &[u8], _: FlowSide) -> Vec<()> {
        Vec::new()
    }
}

/// A driver that reassembles every TCP flow and hands every UDP payload on,
/// to no-op parsers.
pub fn sessions<K: Send + 'static>(cfg: &ReassemblyConfig) -> Sessions<K, ()> {
    Sessions::new(cfg)
        .tcp(NoopStream, Route::any())
        .udp(NoopDatagram, Route::any())
}
