//! Kerberos parsers: arbitrary byte streams on both sides of a TCP flow,
//! cut anywhere, with gaps (a small `max_record`, so the cap is hit too);
//! the same bytes as datagrams of both sides; and both content probes.
#![no_main]

mod split;

use flowscope_engine::parsers::Krb5Config;
use flowscope_engine::parsers::krb5::{Krb5TcpParser, Krb5UdpParser, probe, probe_tcp};
use flowscope_engine::{DatagramParser, FlowSide};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cfg = Krb5Config {
        max_record: 1024,
        ..Krb5Config::default()
    };
    split::run_session(Krb5TcpParser::new(&cfg), data);
    let _ = probe_tcp(data, FlowSide::Initiator);
    let mut udp = Krb5UdpParser::new(&cfg);
    let _ = udp.parse(data, FlowSide::Initiator);
    for (side, d) in split::datagrams(data, 0xfe) {
        let _ = probe(d, side);
        let _ = udp.parse(d, side);
        while udp.next_event().is_some() {}
    }
});
