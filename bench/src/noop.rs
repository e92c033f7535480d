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

/// Which flows get a no-op parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Parsers {
    /// Every TCP flow (reassembled) and every UDP flow.
    All,
    /// TCP flows only.
    Tcp,
    /// UDP flows only.
    Udp,
    /// None: the cost of the session driver being there at all.
    None,
}

/// A driver that reassembles TCP flows and hands UDP payloads on, to no-op
/// parsers, for the flows `which` names.
pub fn sessions<K: Send + 'static>(cfg: &ReassemblyConfig, which: Parsers) -> Sessions<K, ()> {
    let s = Sessions::new(cfg);
    let s = if matches!(which, Parsers::All | Parsers::Tcp) {
        s.tcp(NoopStream, Route::any())
    } else {
        s
    };
    if matches!(which, Parsers::All | Parsers::Udp) {
        s.udp(NoopDatagram, Route::any())
    } else {
        s
    }
}
