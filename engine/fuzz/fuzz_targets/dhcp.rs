//! DHCP: a message as it comes (its options read with a small cap), and
//! datagrams split at 0xfe bytes through the parser, either side.
#![no_main]

mod split;

use flowscope_engine::DatagramParser;
use flowscope_engine::parsers::dhcp::{DhcpParser, parse_message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_message(data, 4);
    let mut p = DhcpParser::default();
    for (side, d) in split::datagrams(data, 0xfe) {
        let _ = p.parse(d, side);
        while p.next_event().is_some() {}
    }
});
