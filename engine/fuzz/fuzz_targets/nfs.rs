//! NFS parsers: arbitrary byte streams on both sides of a TCP flow, cut
//! anywhere, with gaps (small caps, so they are hit); the same bytes as
//! datagrams of both sides; and both probes.
#![no_main]

mod split;

use flowscope_engine::parsers::NfsConfig;
use flowscope_engine::parsers::nfs::{NfsTcpParser, NfsUdpParser, probe_tcp, probe_udp};
use flowscope_engine::{DatagramParser, FlowSide};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cfg = NfsConfig {
        max_tx: 4,
        max_record: 1024,
        ..NfsConfig::default()
    };
    split::run_session(NfsTcpParser::new(&cfg), data);
    split::run_session(NfsTcpParser::default(), data);
    let _ = probe_tcp(data, FlowSide::Initiator);
    let mut udp = NfsUdpParser::new(&cfg);
    let _ = udp.parse(data, FlowSide::Initiator);
    for (side, d) in split::datagrams(data, 0xfe) {
        let _ = probe_udp(d, side);
        let _ = udp.parse(d, side);
    }
    let _ = udp.flow_end();
});
