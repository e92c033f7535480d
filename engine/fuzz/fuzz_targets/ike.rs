//! IKE parser: the whole input as one datagram, then the input split at
//! 0xfe bytes into datagrams of both sides (small caps on payloads,
//! transforms, value bytes and messages, so each is hit too); and the
//! content probe on each.
#![no_main]

mod split;

use flowscope_engine::parsers::IkeConfig;
use flowscope_engine::parsers::ike::{IkeParser, probe};
use flowscope_engine::{DatagramParser, FlowSide};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = probe(data, FlowSide::Initiator);
    let mut p = IkeParser::new(IkeConfig {
        max_payloads: 8,
        max_transforms: 4,
        max_value_bytes: 16,
        max_messages: 32,
        ..IkeConfig::default()
    });
    let _ = p.parse(data, FlowSide::Initiator);
    for (side, d) in split::datagrams(data, 0xfe) {
        let _ = probe(d, side);
        let _ = p.parse(d, side);
        while p.next_event().is_some() {}
    }
});
