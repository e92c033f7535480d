//! DNS: messages over UDP (one per datagram) and TCP (length-framed
//! streams cut anywhere, with gaps).
#![no_main]

mod split;

use flowscope_engine::parsers::dns::{DnsTcpParser, DnsUdpParser, parse_message};
use flowscope_engine::{DatagramParser, FlowSide};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_message(data, false);
    let mut udp = DnsUdpParser::default();
    for (i, d) in data.split(|&b| b == 0xff).enumerate() {
        let side = if i % 2 == 0 {
            FlowSide::Initiator
        } else {
            FlowSide::Responder
        };
        let _ = udp.parse(d, side);
    }
    let _ = udp.flow_end();
    split::run_session(DnsTcpParser::default(), data);
});
