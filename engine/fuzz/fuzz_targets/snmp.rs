//! SNMP parser: the whole input as one datagram, then the input split at
//! 0xfe bytes into datagrams of both sides (a small `max_vars`, so the cap
//! is hit too); and the content probe on each.
#![no_main]

mod split;

use flowscope_engine::parsers::SnmpConfig;
use flowscope_engine::parsers::snmp::{SnmpParser, probe};
use flowscope_engine::{DatagramParser, FlowSide};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = probe(data, FlowSide::Initiator);
    let mut p = SnmpParser::new(SnmpConfig {
        max_vars: 4,
        ..SnmpConfig::default()
    });
    let _ = p.parse(data, FlowSide::Initiator);
    for (side, d) in split::datagrams(data, 0xfe) {
        let _ = probe(d, side);
        let _ = p.parse(d, side);
        while p.next_event().is_some() {}
    }
});
