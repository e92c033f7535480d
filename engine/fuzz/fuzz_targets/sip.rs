//! SIP parsers: arbitrary byte streams on both sides of a TCP flow, cut
//! anywhere, with gaps; the same bytes as datagrams of both sides; and the
//! content probe.
#![no_main]

mod split;

use flowscope_engine::DatagramParser;
use flowscope_engine::parsers::sip::{SipTcpParser, SipUdpParser, probe};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    split::run_session(SipTcpParser::default(), data);
    let mut udp = SipUdpParser::default();
    for (side, d) in split::datagrams(data, 0) {
        let _ = udp.parse(d, side);
        while udp.next_event().is_some() {}
        let _ = probe(d, side);
    }
});
