//! Suricata 7's vocabularies for what flowscope tracks: the end reason of
//! `flow.reason` (flowscope's finer one stays in `flow.end_reason`), the
//! TCP state of `tcp.state`, and the names of decode anomalies.

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
/// stats, as its stream engine would leave it at the flow's end, or `None`
/// for a flow picked up mid-stream (no SYN seen: by default Suricata keeps
/// no TCP session for it and writes no state). Suricata names the closing
/// states from the server's side:
///
/// * `closed`: ended by RST, or both sides sent FIN;
/// * `close_wait`: only the client sent FIN;
/// * `fin_wait2`: only the server sent FIN and the client acknowledged
///   (`fin_wait1` while it has not);
/// * `established`: handshake complete;
/// * `syn_recv`: SYN and SYN-ACK, no completing ACK; `syn_sent`: SYN
///   alone.
pub fn tcp_state(s: &FlowStats) -> Option<&'static str> {
    let (c, sv) = (s.initiator.tcp_flags, s.responder.tcp_flags);
    if (c | sv) & SYN == 0 {
        return None;
    }
    Some(
        if (c | sv) & RST != 0 || c & sv & FIN != 0 || s.state == FlowState::Closed {
            "closed"
        } else if c & FIN != 0 {
            "close_wait"
        } else if sv & FIN != 0 {
            if c & ACK != 0 {
                "fin_wait2"
            } else {
                "fin_wait1"
            }
        } else {
            match s.state {
                FlowState::New if c & SYN != 0 && sv & (SYN | ACK) == SYN | ACK => "syn_recv",
                FlowState::New => "syn_sent",
                _ => "established",
            }
        },
    )
}

/// flowscope's decode anomaly names that Suricata 7 has too, with
/// Suricata's name (its `decoder.` prefix): the same check under the same
/// name. The others have no Suricata event of that name and keep
/// flowscope's.
const DECODER_EVENTS: &[(&str, &str)] = &[
    ("ipv4.trunc_pkt", "decoder.ipv4.trunc_pkt"),
    (
        "ipv4.iplen_smaller_than_hlen",
        "decoder.ipv4.iplen_smaller_than_hlen",
    ),
    ("ipv4.frag_pkt_too_large", "decoder.ipv4.frag_pkt_too_large"),
    ("ipv6.trunc_pkt", "decoder.ipv6.trunc_pkt"),
    ("ipv6.trunc_exthdr", "decoder.ipv6.trunc_exthdr"),
    ("ipv6.frag_pkt_too_large", "decoder.ipv6.frag_pkt_too_large"),
    ("udp.len_invalid", "decoder.udp.len_invalid"),
    (
        "mpls.unknown_payload_type",
        "decoder.mpls.unknown_payload_type",
    ),
];

/// The `anomaly.event` to write: Suricata's name for a decode anomaly it
/// also has, else flowscope's.
pub fn anomaly_event(kind_type: &str, event: &'static str) -> &'static str {
    if kind_type != "decode" {
        return event;
    }
    DECODER_EVENTS
        .iter()
        .find(|(ours, _)| *ours == event)
        .map_or(event, |(_, theirs)| theirs)
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
    fn decode_events_take_suricatas_names_where_it_has_them() {
        assert_eq!(
            anomaly_event("decode", "ipv4.trunc_pkt"),
            "decoder.ipv4.trunc_pkt"
        );
        assert_eq!(anomaly_event("decode", "tcp.trunc_pkt"), "tcp.trunc_pkt");
        assert_eq!(anomaly_event("defrag", "defrag.overlap"), "defrag.overlap");
        // Every name in the table is one of flowscope's decode errors.
        let ours: Vec<&str> = flowscope_engine::DecodeError::ALL
            .iter()
            .map(|e| e.name())
            .collect();
        assert!(DECODER_EVENTS.iter().all(|(n, _)| ours.contains(n)));
    }

    #[test]
    fn tcp_states() {
        use FlowState::*;
        let st = |state, c, sv| tcp_state(&stats(state, c, sv));
        assert_eq!(st(New, SYN, 0), Some("syn_sent"));
        assert_eq!(st(New, SYN, SYN | ACK), Some("syn_recv"));
        assert_eq!(st(New, SYN, RST | ACK), Some("closed"));
        assert_eq!(st(Established, ACK, ACK), None, "mid-stream: no session");
        assert_eq!(st(Established, SYN | ACK, SYN | ACK), Some("established"));
        assert_eq!(st(Closing, SYN | ACK | FIN, SYN | ACK), Some("close_wait"));
        assert_eq!(st(Closing, SYN | ACK, SYN | ACK | FIN), Some("fin_wait2"));
        assert_eq!(st(Closing, SYN, SYN | ACK | FIN), Some("fin_wait1"));
        assert_eq!(st(Closed, SYN | ACK | FIN, SYN | ACK | FIN), Some("closed"));
    }
}
