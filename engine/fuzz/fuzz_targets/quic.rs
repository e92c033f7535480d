//! QUIC Initial parser: arbitrary datagrams, datagrams that carry a valid
//! version-1 long header so the decryption path is reached, and Google
//! QUIC ones (a Q043 public header, a Q046 long header, a Q050 Initial
//! header) so the gQUIC frame and CHLO readers are.
#![no_main]

use flowscope_engine::parsers::quic::QuicParser;
use flowscope_engine::{DatagramParser, FlowSide};
use libfuzzer_sys::fuzz_target;

/// gQUIC header prefixes the fuzzed bytes follow.
const GQUIC: [&[u8]; 3] = [
    // Public flags 0x09 (version, connection id), Q043, packet number,
    // 12-byte hash.
    b"\x09\x01\x02\x03\x04\x05\x06\x07\x08Q043\x01\0\0\0\0\0\0\0\0\0\0\0\0",
    // Q046 Initial: 8-byte connection id, packet number, hash.
    b"\xc3Q046\x50\x01\x02\x03\x04\x05\x06\x07\x08\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\0",
    // Q050 Initial: 8-byte connection id, no source id, no token.
    b"\xc3Q050\x08\x01\x02\x03\x04\x05\x06\x07\x08\0\0",
];

fuzz_target!(|data: &[u8]| {
    let mut p = QuicParser::default();
    let mut g: Vec<QuicParser> = GQUIC.iter().map(|_| QuicParser::default()).collect();
    for (i, d) in data.split(|&b| b == 0xfe).enumerate() {
        let _ = p.parse(d, FlowSide::Initiator);
        let mut v1 = vec![0xc0, 0, 0, 0, 1];
        v1.extend_from_slice(d);
        let _ = p.parse(&v1, FlowSide::Initiator);
        let side = if i % 2 == 0 {
            FlowSide::Initiator
        } else {
            FlowSide::Responder
        };
        for (q, prefix) in g.iter_mut().zip(GQUIC) {
            let mut pkt = prefix.to_vec();
            pkt.extend_from_slice(d);
            let _ = q.parse(&pkt, side);
            while q.next_event().is_some() {}
        }
    }
    let _ = p.flow_end();
});
