//! QUIC Initial parser: arbitrary datagrams, and datagrams that carry a
//! valid version-1 long header so the decryption path is reached.
#![no_main]

use flowscope_engine::parsers::quic::QuicParser;
use flowscope_engine::{DatagramParser, FlowSide};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut p = QuicParser::default();
    for d in data.split(|&b| b == 0xfe) {
        let _ = p.parse(d, FlowSide::Initiator);
        let mut v1 = vec![0xc0, 0, 0, 0, 1];
        v1.extend_from_slice(d);
        let _ = p.parse(&v1, FlowSide::Initiator);
    }
    let _ = p.flow_end();
});
