//! PostgreSQL parser: arbitrary byte streams on both sides, cut anywhere,
//! with gaps (passwords kept, TLS after an accepted SSLRequest); and the
//! probe.
#![no_main]

mod split;

use flowscope_engine::FlowSide;
use flowscope_engine::parsers::PgsqlConfig;
use flowscope_engine::parsers::pgsql::{PgsqlParser, probe};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cfg = PgsqlConfig {
        passwords: true,
        max_msg_length: 1024,
        ..PgsqlConfig::default()
    };
    split::run_session(PgsqlParser::new(cfg).with_tls(Default::default()), data);
    let _ = probe(data, FlowSide::Initiator);
});
