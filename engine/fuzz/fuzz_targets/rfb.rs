//! RFB parser: arbitrary byte streams on both sides, cut anywhere, with
//! gaps; and the probe.
#![no_main]

mod split;

use flowscope_engine::FlowSide;
use flowscope_engine::parsers::rfb::{RfbParser, probe};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    split::run_session(RfbParser::default(), data);
    let _ = probe(data, FlowSide::Responder);
});
