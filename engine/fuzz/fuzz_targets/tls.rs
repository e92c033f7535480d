//! TLS handshake parser: arbitrary byte streams on both sides, cut
//! anywhere, with gaps (also through the STARTTLS wrapper); and the hello
//! and certificate decoders directly.
#![no_main]

mod split;

use flowscope_engine::parsers::hello::{parse_client_hello, parse_server_hello};
use flowscope_engine::parsers::tls::{StartTlsParser, TlsParser, certificate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    split::run_session(TlsParser::default(), data);
    split::run_session(StartTlsParser::default(), data);
    let _ = parse_client_hello(data);
    let _ = parse_server_hello(data);
    let _ = certificate(data);
});
