//! Modbus/TCP parser: arbitrary byte streams on both sides, cut anywhere,
//! with gaps, read at once and timed by acknowledgements (a small flood
//! cap, so it is reached); and the probe from either side.
#![no_main]

mod split;

use flowscope_engine::FlowSide;
use flowscope_engine::parsers::ModbusConfig;
use flowscope_engine::parsers::modbus::{ModbusParser, probe};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    split::run_session(ModbusParser::default(), data);
    let small = ModbusConfig {
        max_tx: 2,
        ..ModbusConfig::default()
    };
    split::run_session(ModbusParser::new(&small).timed_by_acks(), data);
    let _ = probe(data, FlowSide::Initiator);
    let _ = probe(data, FlowSide::Responder);
});
