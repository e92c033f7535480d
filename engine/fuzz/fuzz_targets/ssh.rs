//! SSH parser: arbitrary byte streams on both sides, cut anywhere, with
//! gaps; and the KEXINIT fingerprint directly, as both sides.
#![no_main]

mod split;

use flowscope_engine::parsers::ssh::{SshParser, kexinit_hassh};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    split::run_session(SshParser::default(), data);
    let _ = kexinit_hassh(data, true);
    let _ = kexinit_hassh(data, false);
});
