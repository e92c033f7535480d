//! RDP parser: arbitrary byte streams on both sides, cut anywhere, with
//! gaps (TPKTs, and TLS records after the move to TLS); and the probe.
#![no_main]

mod split;

use flowscope_engine::FlowSide;
use flowscope_engine::parsers::RdpConfig;
use flowscope_engine::parsers::rdp::{RdpParser, probe};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cfg = RdpConfig {
        max_pdu_bytes: 1024,
        max_tx: 8,
        ..RdpConfig::default()
    };
    split::run_session(RdpParser::new(&cfg), data);
    let _ = probe(data, FlowSide::Initiator);
    let _ = probe(data, FlowSide::Responder);
});
