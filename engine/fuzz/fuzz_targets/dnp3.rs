//! DNP3 parser: arbitrary byte streams on both sides, cut anywhere, with
//! gaps, read at once and timed by acknowledgements (small caps, so they
//! are reached); and the probe from either side.
#![no_main]

mod split;

use flowscope_engine::FlowSide;
use flowscope_engine::parsers::Dnp3Config;
use flowscope_engine::parsers::dnp3::{Dnp3Parser, probe};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    split::run_session(Dnp3Parser::default(), data);
    let small = Dnp3Config {
        max_tx: 2,
        max_fragment: 256,
        max_objects: 3,
        max_points: 5,
        ..Dnp3Config::default()
    };
    split::run_session(Dnp3Parser::new(&small).timed_by_acks(), data);
    let _ = probe(data, FlowSide::Initiator);
    let _ = probe(data, FlowSide::Responder);
});
