//! HTTP/1.x parser: arbitrary byte streams on both sides, cut anywhere,
//! with gaps; and single datagrams for the SSDP parser.
#![no_main]

mod split;

use flowscope_engine::parsers::http::{HttpParser, HttpUdpParser};
use flowscope_engine::{DatagramParser, FlowSide};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    split::run_session(HttpParser::default(), data);
    let _ = HttpUdpParser::default().parse(data, FlowSide::Initiator);
});
