//! Shared by the parser targets: turns one fuzz input into a session —
//! pieces fed alternately to the two sides, some replaced by gaps — so
//! framing across segments and gap recovery are fuzzed, not only whole
//! messages; or into datagrams of both sides.

use flowscope_engine::{FlowSide, SessionParser};

/// The datagrams of one fuzz input: its pieces between `sep` bytes, sent
/// by the two sides in turn (the initiator first).
#[allow(dead_code)]
pub fn datagrams(data: &[u8], sep: u8) -> impl Iterator<Item = (FlowSide, &[u8])> {
    data.split(move |&b| b == sep).enumerate().map(|(i, d)| {
        let side = if i % 2 == 0 {
            FlowSide::Initiator
        } else {
            FlowSide::Responder
        };
        (side, d)
    })
}

/// Feeds `data` to `p`: the first byte picks the piece size and the gap
/// pattern, the rest is the payload. Each piece acknowledges what the
/// other side sent before it (while the parser wants acknowledgements).
/// Ends with FINs and the flow's end.
#[allow(dead_code)]
pub fn run_session<P: SessionParser>(mut p: P, data: &[u8]) {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let size = usize::from(ctl & 0x3f) + 1;
    let mut sent = [0u64; 2];
    for (i, piece) in rest.chunks(size).enumerate() {
        let initiator = (i + usize::from(ctl >> 7)) % 2 == 0;
        let gap = ctl & 0x40 != 0 && i % 5 == 4;
        if p.wants_acks() {
            let _ = if initiator {
                p.acked_responder(sent[1])
            } else {
                p.acked_initiator(sent[0])
            };
        }
        sent[usize::from(!initiator)] += piece.len() as u64;
        let _ = match (initiator, gap) {
            (true, false) => p.feed_initiator(piece),
            (false, false) => p.feed_responder(piece),
            (true, true) => p.gap_initiator(piece.len() as u64),
            (false, true) => p.gap_responder(piece.len() as u64),
        };
    }
    let _ = p.fin_initiator();
    let _ = p.fin_responder();
    let _ = p.flow_end();
}
