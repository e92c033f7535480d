//! Suricata 7's vocabularies for flowscope's flow states: the end reason
//! of `flow.reason` and the TCP state of `tcp.state`, mapped from what the
//! engine tracks (its finer end reason stays in `flow.end_reason`).

use flowscope_engine::{EndReason, FlowState, FlowStats};

/// Suricata 7's `flow.reason` for a flowscope end reason. Suricata writes
/// `timeout`, `forced`, `shutdown`, `tcp_reuse` (or `unknown`):
///
/// * `timeout`: the flow manager timed the flow out. Suricata's flow
///   manager also reaps TCP flows closed by FIN or RST (after the closed
///   state's timeout), so `fin` and `rst` are `timeout` too, as are
///   `idle_timeout` and `active_timeout` (a timer ran out);
/// * `forced`: the flow was pushed out before its time: `evicted` (table
///   full, Suricata's emergency eviction), `buffer_overflow` and
///   `parse_error` (flowscope's policies end the flow);
/// * `shutdown`: flushed at the end of input;
/// * `unknown`: a reason without a counterpart.
pub fn flow_reason(r: EndReason) -> &'static str {
    match r {
        EndReason::Fin | EndReason::Rst | EndReason::IdleTimeout | EndReason::ActiveTimeout => {
            "timeout"
        }
        EndReason::Evicted | EndReason::BufferOverflow | EndReason::ParseError => "forced",
        EndReason::Shutdown => "shutdown",
        // A reason added later: Suricata's word for one it cannot name.
        _ => "unknown",
    }
}

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// Suricata 7's TCP session state name (`tcp.state`) for a TCP flow's
/// stats, as its stream engine would leave it at the flow's end:
///
/// * `closed`: ended by RST, or both sides sent FIN;
/// * `fin_wait1`: only the client sent FIN; `close_wait`: only the server;
/// * `established`: handshake complete (or both sides seen mid-stream);
/// * `syn_recv`: SYN and SYN-ACK, no completing ACK; `syn_sent`: SYN
///   alone; `none`: neither (no handshake seen, one side only).
pub fn tcp_state(s: &FlowStats) -> &'static str {
    let (c, sv) = (s.initiator.tcp_flags, s.responder.tcp_flags);
    if (c | sv) & RST != 0 || (c & sv & FIN != 0) || s.state == FlowState::Closed {
        return "closed";
    }
    if c & FIN != 0 {
        return "fin_wait1";
    }
    if sv & FIN != 0 {
        return "close_wait";
    }
    match s.state {
        FlowState::Established | FlowState::Closing | FlowState::Closed => "established",
        FlowState::New if c & SYN != 0 && sv & (SYN | ACK) == SYN | ACK => "syn_recv",
        FlowState::New if c & SYN != 0 => "syn_sent",
        FlowState::New => "none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(state: FlowState, c: u8, sv: u8) -> FlowStats {
        let mut s = FlowStats::default();
        s.state = state;
        s.initiator.tcp_flags = c;
        s.responder.tcp_flags = sv;
        s
    }

    #[test]
    fn reasons_use_suricatas_words() {
        let words: Vec<&str> = EndReason::ALL.iter().map(|&r| flow_reason(r)).collect();
        assert!(
            words
                .iter()
                .all(|w| ["timeout", "forced", "shutdown"].contains(w))
        );
        assert_eq!(flow_reason(EndReason::Fin), "timeout");
        assert_eq!(flow_reason(EndReason::IdleTimeout), "timeout");
        assert_eq!(flow_reason(EndReason::Evicted), "forced");
        assert_eq!(flow_reason(EndReason::Shutdown), "shutdown");
    }

    #[test]
    fn tcp_states() {
        use FlowState::*;
        assert_eq!(tcp_state(&stats(New, SYN, 0)), "syn_sent");
        assert_eq!(tcp_state(&stats(New, SYN, SYN | ACK)), "syn_recv");
        assert_eq!(tcp_state(&stats(New, 0, 0)), "none");
        assert_eq!(tcp_state(&stats(New, SYN, RST | ACK)), "closed");
        assert_eq!(
            tcp_state(&stats(Established, SYN | ACK, SYN | ACK)),
            "established"
        );
        assert_eq!(
            tcp_state(&stats(Closing, SYN | ACK | FIN, SYN | ACK)),
            "fin_wait1"
        );
        assert_eq!(
            tcp_state(&stats(Closing, SYN | ACK, SYN | ACK | FIN)),
            "close_wait"
        );
        assert_eq!(
            tcp_state(&stats(Closed, SYN | ACK | FIN, SYN | ACK | FIN)),
            "closed"
        );
    }
}
