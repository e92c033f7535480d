//! DCE/RPC parsers: arbitrary byte streams on both sides of a TCP flow,
//! cut anywhere, with gaps (a small `max_tx`, so the cap is hit too); the
//! same bytes as datagrams of both sides; and both probes.
#![no_main]

mod split;

use flowscope_engine::parsers::DcerpcConfig;
use flowscope_engine::parsers::dcerpc::{DcerpcTcpParser, DcerpcUdpParser, probe_tcp, probe_udp};
use flowscope_engine::{DatagramParser, FlowSide};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cfg = DcerpcConfig {
        max_tx: 4,
        ..DcerpcConfig::default()
    };
    split::run_session(DcerpcTcpParser::new(&cfg), data);
    let _ = probe_tcp(data, FlowSide::Initiator);
    let mut udp = DcerpcUdpParser::new(&cfg);
    let _ = udp.parse(data, FlowSide::Initiator);
    for (side, d) in split::datagrams(data, 0xfe) {
        let _ = probe_udp(d, side);
        let _ = udp.parse(d, side);
    }
    let _ = udp.flow_end();
});
