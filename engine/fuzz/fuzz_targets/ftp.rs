//! FTP parser: arbitrary byte streams on both sides, cut anywhere, with
//! gaps; once without acknowledgements (everything read at the end) and
//! once with each piece acknowledged up to a point the input picks; and
//! the port readers directly.
#![no_main]

mod split;

use flowscope_engine::SessionParser;
use flowscope_engine::parsers::FtpConfig;
use flowscope_engine::parsers::ftp::{
    FtpParser, active_eprt, active_port, epsv_reply, find_command, pasv_reply,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    split::run_session(FtpParser::new(FtpConfig::default()), data);
    acked(data);
    let _ = active_port(data);
    let _ = active_eprt(data);
    let _ = pasv_reply(data);
    let _ = epsv_reply(data);
    let _ = find_command(data);
});

/// Pieces fed in turn, each side acknowledged after each piece up to an
/// offset the piece's first byte picks (possibly past what was fed).
fn acked(data: &[u8]) {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let mut p = FtpParser::new(FtpConfig {
        max_line_bytes: 64,
        max_reply_lines: 4,
        max_pending: 8,
        ..FtpConfig::default()
    });
    let size = usize::from(ctl & 0x3f) + 1;
    let mut fed = [0u64; 2];
    for (i, piece) in rest.chunks(size).enumerate() {
        let k = (i + usize::from(ctl >> 7)) % 2;
        let _ = if k == 0 {
            p.feed_initiator(piece)
        } else {
            p.feed_responder(piece)
        };
        fed[k] += piece.len() as u64;
        let to = fed[k].saturating_sub(u64::from(piece[0] % 8));
        let _ = if k == 0 {
            p.acked_initiator(to)
        } else {
            p.acked_responder(to)
        };
    }
    let _ = p.flow_end();
}
