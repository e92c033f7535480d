//! SMTP parser: arbitrary byte streams on both sides, cut anywhere, with
//! gaps (TLS after STARTTLS included); and the MIME header helpers.
#![no_main]

mod split;

use flowscope_engine::parsers::smtp::{SmtpParser, comma_list, header_token};
use flowscope_engine::parsers::{SmtpConfig, TlsConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = SmtpParser::new(SmtpConfig::default()).with_tls(TlsConfig::default());
    split::run_session(p, data);
    let _ = comma_list(data);
    let _ = header_token(data, b"filename");
});
