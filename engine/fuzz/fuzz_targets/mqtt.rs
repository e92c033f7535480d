//! MQTT parser: arbitrary byte streams on both sides, cut anywhere, with
//! gaps, read at once and timed by acknowledgements (small caps, so the
//! truncation and transaction caps are reached); and the probe.
#![no_main]

mod split;

use flowscope_engine::FlowSide;
use flowscope_engine::parsers::MqttConfig;
use flowscope_engine::parsers::mqtt::{MqttParser, probe};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    split::run_session(MqttParser::default(), data);
    let small = MqttConfig {
        max_msg_length: 256,
        max_tx: 4,
        max_topics: 2,
        max_properties: 2,
        max_message_bytes: 8,
        passwords: true,
        ..MqttConfig::default()
    };
    split::run_session(MqttParser::new(&small).timed_by_acks(), data);
    let _ = probe(data, FlowSide::Initiator);
});
