//! TFTP: the probe on a datagram as it comes, and datagrams split at 0xfe
//! bytes through the parser, either side.
#![no_main]

use flowscope_engine::parsers::tftp::{TftpParser, probe};
use flowscope_engine::{DatagramParser, FlowSide};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = probe(data, FlowSide::Initiator);
    let mut p = TftpParser::default();
    for (i, d) in data.split(|&b| b == 0xfe).enumerate() {
        let side = if i % 3 == 2 {
            FlowSide::Responder
        } else {
            FlowSide::Initiator
        };
        let _ = p.parse(d, side);
        while p.next_event().is_some() {}
    }
});
