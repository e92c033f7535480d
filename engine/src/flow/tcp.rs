//! TCP connection tracking: per-side endpoint states (Zeek's model), one
//! segment's effect on them and on the history ([`tcp_step`]), and the
//! mapping of a finished flow to Zeek's `conn_state`.

use super::FlowEntry;
use crate::vocab::{ConnState, FlowSide, History, Letter};
use crate::wire::transport::{TcpSegment, tcp_flags};

/// Zeek's TCP endpoint states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Endpoint {
    /// Nothing sent yet.
    #[default]
    Inactive,
    /// Sent a SYN.
    SynSent,
    /// Sent a SYN-ACK.
    SynAckSent,
    /// Seen mid-stream, without a SYN.
    Partial,
    /// Three-way handshake completed.
    Established,
    /// Sent a FIN.
    Closed,
    /// Sent a RST.
    Reset,
}

/// Transport families with distinct `conn_state` rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnProto {
    /// TCP: endpoint states.
    Tcp,
    /// UDP: who sent anything.
    Udp,
    /// Everything else.
    Other,
}

/// Zeek's `conn_state` for a flow.
///
/// `orig`/`resp` are the endpoint states (for UDP only "sent something or
/// not" matters: any state but `Inactive`), `orig_payload`/`resp_payload`
/// the payload bytes each side sent.
pub fn conn_state(
    proto: ConnProto,
    orig: Endpoint,
    resp: Endpoint,
    history: &History,
    orig_payload: u64,
    resp_payload: u64,
) -> ConnState {
    use Endpoint::*;
    match proto {
        ConnProto::Udp => match (orig != Inactive, resp != Inactive) {
            (true, true) => ConnState::SF,
            (true, false) => ConnState::S0,
            (false, true) => ConnState::SHR,
            (false, false) => ConnState::OTH,
        },
        ConnProto::Other => ConnState::OTH,
        ConnProto::Tcp => {
            let o_inactive = matches!(orig, Inactive | Partial);
            let r_inactive = matches!(resp, Inactive | Partial);
            if resp == Reset {
                if matches!(orig, SynSent | SynAckSent)
                    || (orig == Reset && orig_payload == 0 && resp_payload == 0)
                {
                    ConnState::REJ
                } else if o_inactive {
                    ConnState::RSTRH
                } else {
                    ConnState::RSTR
                }
            } else if orig == Reset {
                if r_inactive {
                    if syn_then_reset(history) {
                        ConnState::RSTOS0
                    } else {
                        ConnState::OTH
                    }
                } else {
                    ConnState::RSTO
                }
            } else if resp == Closed && orig == Closed {
                ConnState::SF
            } else if orig == Closed {
                if r_inactive {
                    ConnState::SH
                } else {
                    ConnState::S2
                }
            } else if resp == Closed {
                if o_inactive {
                    ConnState::SHR
                } else {
                    ConnState::S3
                }
            } else if orig == SynSent && resp == Inactive {
                ConnState::S0
            } else if orig == Established && resp == Established {
                ConnState::S1
            } else {
                ConnState::OTH
            }
        }
    }
}

/// Zeek's `^?S[^HAFGIQ]*R.*` on the history string: the originator sent a
/// SYN and then a RST with no handshake letters in between.
fn syn_then_reset(history: &History) -> bool {
    let mut chars = history.chars().peekable();
    if chars.peek() == Some(&'^') {
        chars.next();
    }
    if chars.next() != Some('S') {
        return false;
    }
    for c in chars {
        match c {
            'R' => return true,
            'H' | 'A' | 'F' | 'G' | 'I' | 'Q' => return false,
            _ => {}
        }
    }
    false
}

/// What a TCP segment did to the connection.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct TcpStep {
    pub reset: bool,
    pub fin_now: bool,
    pub final_ack: bool,
}

/// Applies one TCP segment to the endpoint states and the history.
pub(crate) fn tcp_step<K>(
    e: &mut FlowEntry<K>,
    side: FlowSide,
    t: &TcpSegment<'_>,
    payload_len: usize,
) -> TcpStep {
    use Endpoint::*;
    let f = t.flags();
    let (me, peer) = (side.index(), 1 - side.index());
    e.tcp_flags[me] |= f;
    let syn = f & tcp_flags::SYN != 0;
    let ack = f & tcp_flags::ACK != 0;
    let fin = f & tcp_flags::FIN != 0;
    let rst = f & tcp_flags::RST != 0;

    let h = &mut e.history;
    if syn && (fin || rst) {
        h.push(Letter::MultiFlag, side);
    }
    if fin && rst {
        h.push(Letter::Inconsistent, side);
    }
    if syn {
        h.push(if ack { Letter::SynAck } else { Letter::Syn }, side);
    }
    if fin {
        h.push(Letter::Fin, side);
    }
    if rst {
        h.push(Letter::Rst, side);
    }
    if payload_len > 0 {
        h.push(Letter::Data, side);
    } else if ack && !syn && !fin && !rst {
        h.push(Letter::Ack, side);
    }
    if t.window() == 0 && !syn && !fin && !rst {
        h.push(Letter::ZeroWindow, side);
    }

    let mut step = TcpStep::default();
    let closing_before = e.endpoints == [Closed, Closed];
    if rst {
        e.endpoints[me] = Reset;
        step.reset = true;
        return step;
    }
    match (syn, ack) {
        (true, false) => {
            if e.endpoints[me] == Inactive {
                e.endpoints[me] = SynSent;
            }
        }
        (true, true) => {
            if matches!(e.endpoints[me], Inactive | SynSent) {
                e.endpoints[me] = SynAckSent;
            }
        }
        _ => {
            if e.endpoints[me] == Inactive {
                e.endpoints[me] = Partial;
            }
            if ack && e.endpoints[me] == SynSent && e.endpoints[peer] == SynAckSent {
                e.endpoints = [Established, Established];
            }
        }
    }
    if fin && e.endpoints[me] != Closed {
        e.endpoints[me] = Closed;
        step.fin_now = true;
    }
    // Both sides closed before this packet: the first pure ACK from the
    // side that did not send the last FIN completes the close.
    if closing_before
        && e.flags.last_fin().is_some_and(|s| s != side)
        && ack
        && !syn
        && !fin
        && payload_len == 0
    {
        step.final_ack = true;
    }
    step
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::FlowSide::*;
    use Endpoint::*;

    fn hist(items: &[(Letter, FlowSide)]) -> History {
        let mut h = History::default();
        for &(l, s) in items {
            h.push(l, s);
        }
        h
    }

    #[test]
    fn tcp_states() {
        let h = History::default();
        let t = |o, r| conn_state(ConnProto::Tcp, o, r, &h, 0, 0);
        assert_eq!(t(SynSent, Inactive), ConnState::S0);
        assert_eq!(t(Established, Established), ConnState::S1);
        assert_eq!(t(Closed, Closed), ConnState::SF);
        assert_eq!(t(SynSent, Reset), ConnState::REJ);
        assert_eq!(t(Closed, Established), ConnState::S2);
        assert_eq!(t(Established, Closed), ConnState::S3);
        assert_eq!(t(Reset, Established), ConnState::RSTO);
        assert_eq!(t(Established, Reset), ConnState::RSTR);
        assert_eq!(t(Partial, Reset), ConnState::RSTRH);
        assert_eq!(t(Closed, Inactive), ConnState::SH);
        assert_eq!(t(Inactive, Closed), ConnState::SHR);
        assert_eq!(t(Partial, Partial), ConnState::OTH);
        let syn_rst = hist(&[(Letter::Syn, Initiator), (Letter::Rst, Initiator)]);
        assert_eq!(
            conn_state(ConnProto::Tcp, Reset, Inactive, &syn_rst, 0, 0),
            ConnState::RSTOS0
        );
        let syn_ack_rst = hist(&[
            (Letter::Syn, Initiator),
            (Letter::Ack, Initiator),
            (Letter::Rst, Initiator),
        ]);
        assert_eq!(
            conn_state(ConnProto::Tcp, Reset, Inactive, &syn_ack_rst, 0, 0),
            ConnState::OTH
        );
    }

    #[test]
    fn udp_states() {
        let h = History::default();
        let u = |o, r| conn_state(ConnProto::Udp, o, r, &h, 0, 0);
        assert_eq!(u(Partial, Partial), ConnState::SF);
        assert_eq!(u(Partial, Inactive), ConnState::S0);
        assert_eq!(u(Inactive, Partial), ConnState::SHR);
        assert_eq!(
            conn_state(ConnProto::Other, Partial, Partial, &h, 0, 0),
            ConnState::OTH
        );
    }
}
