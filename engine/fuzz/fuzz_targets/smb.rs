//! SMB parser: arbitrary byte streams on both sides of a TCP flow, cut
//! anywhere, with gaps and acknowledgements (small caps, so they are hit),
//! read at once and timed by acknowledgements; and the probe.
#![no_main]

mod split;

use flowscope_engine::FlowSide;
use flowscope_engine::parsers::SmbConfig;
use flowscope_engine::parsers::smb::{SmbParser, probe};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cfg = SmbConfig {
        max_tx: 4,
        max_record: 1024,
        ..SmbConfig::default()
    };
    split::run_session(SmbParser::new(&cfg), data);
    split::run_session(SmbParser::new(&cfg).timed_by_acks(), data);
    split::run_session(SmbParser::default(), data);
    let _ = probe(data, FlowSide::Initiator);
});
