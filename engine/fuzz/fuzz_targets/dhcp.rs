//! DHCP: a message as it comes (its options read with a small cap), and
//! datagrams split at 0xfe bytes through the parser, either side.
#![no_main]

use flowscope_engine::parsers::dhcp::{DhcpParser, parse_message};
use flowscope_engine::{DatagramParser, FlowSide};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_message(data, 4);
    let mut p = DhcpParser::default();
    for (i, d) in data.split(|&b| b == 0xfe).enumerate() {
        let side = if i % 2 == 0 {
            FlowSide::Initiator
        } else {
            FlowSide::Responder
        };
        let _ = p.parse(d, side);
        while p.next_event().is_some() {}
    }
});
