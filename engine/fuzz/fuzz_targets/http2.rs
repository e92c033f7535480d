//! HTTP/2 parser: the client preface then arbitrary frames on both sides,
//! cut anywhere, with gaps (half the inputs acknowledgement-timed); and
//! HPACK blocks decoded directly with a small dynamic table.
#![no_main]

mod split;

use flowscope_engine::parsers::http2::{Http2Parser, PREFACE, hpack::DynTable};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    // The preface first, so the frames behind it are read.
    let mut input = Vec::with_capacity(1 + PREFACE.len() + rest.len());
    input.push(ctl & 0x7f);
    input.extend_from_slice(PREFACE);
    input.extend_from_slice(rest);
    let parser = Http2Parser::default();
    if ctl & 0x80 != 0 {
        split::run_session(parser.timed_by_acks(), &input);
    } else {
        split::run_session(parser, &input);
    }
    let mut table = DynTable::new(512);
    let mut out = Vec::new();
    let _ = table.decode_block(rest, 64, 1024, &mut out);
});
