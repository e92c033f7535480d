//! HTTP/1.x parser: arbitrary byte streams on both sides, cut anywhere,
//! with gaps, also following `Upgrade: h2c` into HTTP/2 (timed by
//! acknowledgements); and single datagrams for the SSDP parser.
#![no_main]

mod split;

use flowscope_engine::parsers::Http2Config;
use flowscope_engine::parsers::http::{HttpParser, HttpUdpParser};
use flowscope_engine::{DatagramParser, FlowSide};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    split::run_session(HttpParser::default(), data);
    split::run_session(
        HttpParser::default().with_h2c(Http2Config::default(), true),
        data,
    );
    let _ = HttpUdpParser::default().parse(data, FlowSide::Initiator);
});
