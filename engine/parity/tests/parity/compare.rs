//! The comparison: one capture's sessions of both runs grouped by parser
//! and canonical 5-tuple, paired by start time, and every difference
//! either classified into a named [`Exception`] whose precondition holds
//! for that very flow, or counted as unexplained.

use std::collections::BTreeMap;

use super::model::{Blind, Close, Evidence, Kind, Sess, Tuple};

/// flowscope's linger after a TCP close (`flow.tcp_closed_linger`), ns.
const LINGER_NS: u64 = 60 * 1_000_000_000;

/// A documented reason for a difference (docs/parity.md lists each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Exception {
    /// 0.3's reassembler takes only the segment at the expected sequence
    /// number: out-of-order, retransmitted and overlapping segments are
    /// dropped and the stream stalls at a hole; flowscope reorders, and
    /// skips gaps (`gap_*`). Applies only to a side whose flowscope stats
    /// count out-of-order, gap, overlap or retransmission.
    Disorder,
    /// After 0.3 ends a flow by FIN or RST, the next packet of the tuple
    /// starts a new 0.3 flow; flowscope keeps a closed flow's key for
    /// `tcp_closed_linger` so trailing packets join it.
    Ghost,
    /// 0.3 counts FINs, not sides: a retransmitted FIN of the same side
    /// moves it to ClosingTcp and the next ACK closes the flow.
    FinRetransmission,
    /// 0.3 ends a flow by FIN only from Established, reached by a 3-way
    /// handshake it saw; flowscope ends it by FIN whenever both FINs are
    /// acknowledged.
    NoHandshake,
    /// 0.3 takes the first packet's sender as initiator; flowscope the
    /// SYN's sender (the SYN-ACK's receiver), else the side on a client
    /// port when the other is a server port.
    Initiator,
    /// Packets of the flow that only one crate's decoder reads (0.3 reads
    /// Ethernet/VLAN/IP with etherparse, requires a complete IP packet,
    /// and walks no MPLS or PPPoE; flowscope rejects some malformed
    /// headers etherparse accepts).
    Decoder,
    /// flowscope's idle deadline is the last activity plus the timeout
    /// rounded up to the next whole second (engine/src/flow/mod.rs); 0.3
    /// expires at the first sweep at least the timeout after it. A flow
    /// quiet for less than a second over its timeout is split by 0.3 only.
    IdleRounding,
}

impl Exception {
    /// All, in report order.
    pub const ALL: [Exception; 7] = [
        Exception::Disorder,
        Exception::Ghost,
        Exception::FinRetransmission,
        Exception::NoHandshake,
        Exception::Initiator,
        Exception::Decoder,
        Exception::IdleRounding,
    ];

    /// Its name in the summary and in docs/parity.md.
    pub fn name(self) -> &'static str {
        match self {
            Exception::Disorder => {
                "0.3 drops out-of-order/overlapping segments and stalls at a hole"
            }
            Exception::Ghost => "0.3 ghost flow after FIN/RST (flowscope lingers)",
            Exception::FinRetransmission => "FIN retransmission closes the flow in 0.3",
            Exception::NoHandshake => "0.3 never ends a flow by FIN without a handshake seen",
            Exception::Initiator => {
                "initiator: 0.3 first sender, flowscope SYN sender / client port"
            }
            Exception::Decoder => {
                "packets only one decoder reads (MPLS, PPPoE, truncated, malformed)"
            }
            Exception::IdleRounding => "flowscope's idle deadline rounds up to a whole second",
        }
    }
}

/// Totals over the corpus.
#[derive(Debug, Default)]
pub struct Tally {
    /// Flow groups (parser × tuple) compared.
    pub groups: u64,
    /// Flows compared (the larger side of each group).
    pub flows: u64,
    /// Groups with no difference.
    pub identical: u64,
    /// Per exception: differences explained, and up to 3 example captures.
    pub exceptions: BTreeMap<Exception, (u64, Vec<String>)>,
    /// Differences nothing explains.
    pub unexplained: u64,
    /// Them, by what differed (not an explanation: a guide for reading).
    pub unexplained_by: BTreeMap<String, (u64, Vec<String>)>,
    /// The first few of them, described.
    pub details: Vec<String>,
}

impl Tally {
    fn hit(&mut self, e: Exception, capture: &str) {
        let (n, ex) = self.exceptions.entry(e).or_default();
        *n += 1;
        if ex.len() < 3 && !ex.iter().any(|c| c == capture) {
            ex.push(capture.to_owned());
        }
    }

    fn miss(&mut self, capture: &str, kind: Kind, t: &Tuple, sort: String, what: String) {
        self.unexplained += 1;
        let (n, ex) = self.unexplained_by.entry(sort).or_default();
        *n += 1;
        if ex.len() < 3 && !ex.iter().any(|c| c == capture) {
            ex.push(capture.to_owned());
        }
        if self.details.len() < 12 {
            self.details
                .push(format!("{capture} [{kind:?}] {t}: {what}"));
        }
    }
}

/// Whether a port is one flowscope treats as a server's (`server_ports`,
/// or below 1024).
fn server_port(p: u16, server_ports: &[u16]) -> bool {
    p < 1024 || server_ports.contains(&p)
}

/// Whether flowscope would make the first packet's receiver the initiator.
fn receiver_initiates(first_flags: u8, ports: (u16, u16), server_ports: &[u16]) -> bool {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    if first_flags & SYN != 0 {
        first_flags & ACK != 0
    } else {
        server_port(ports.0, server_ports) && !server_port(ports.1, server_ports)
    }
}

/// A message a close flushes (and so one that exists only when a close
/// that flushes happened).
fn is_flush(m: &str) -> bool {
    m.starts_with("partial:") || m.starts_with("fin:") || m.starts_with("rst-seen:")
}

fn without_flush(v: &[String]) -> Vec<&String> {
    v.iter().filter(|m| !is_flush(m)).collect()
}

fn brief(v: &[String]) -> String {
    let shown: Vec<&str> = v.iter().take(4).map(String::as_str).collect();
    if v.len() > 4 {
        format!("{} msgs [{} …]", v.len(), shown.join(", "))
    } else {
        format!("[{}]", shown.join(", "))
    }
}

/// Compares one capture's sessions.
pub fn compare(
    capture: &str,
    oracle: Vec<Sess>,
    flowscope: Vec<Sess>,
    ev: &Evidence,
    server_ports: &[u16],
    tally: &mut Tally,
) {
    type Group = (Vec<Sess>, Vec<Sess>);
    let mut groups: BTreeMap<(Kind, Tuple), Group> = BTreeMap::new();
    for s in oracle {
        groups.entry((s.kind, s.tuple)).or_default().0.push(s);
    }
    for s in flowscope {
        groups.entry((s.kind, s.tuple)).or_default().1.push(s);
    }
    for ((kind, t), (mut a, mut b)) in groups {
        a.sort_by_key(|s| s.start);
        b.sort_by_key(|s| s.start);
        tally.groups += 1;
        tally.flows += a.len().max(b.len()) as u64;
        let before = (
            tally.unexplained,
            tally.exceptions.values().map(|v| v.0).sum::<u64>(),
        );
        group(capture, kind, &t, &a, &b, ev, server_ports, tally);
        let after = (
            tally.unexplained,
            tally.exceptions.values().map(|v| v.0).sum::<u64>(),
        );
        if before == after {
            tally.identical += 1;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn group(
    capture: &str,
    kind: Kind,
    t: &Tuple,
    a: &[Sess],
    b: &[Sess],
    ev: &Evidence,
    server_ports: &[u16],
    tally: &mut Tally,
) {
    let blind = ev.of(t, Blind::OracleMissed)
        + ev.of(t, Blind::FlowscopeRejected)
        + ev.of(t, Blind::Disagree)
        > 0;
    // Pair flows that start at the same packet.
    let mut paired_b = vec![false; b.len()];
    let mut pairs = Vec::new();
    let mut extra_a = Vec::new();
    for (i, x) in a.iter().enumerate() {
        match (0..b.len()).find(|&j| !paired_b[j] && b[j].start == x.start) {
            Some(j) => {
                paired_b[j] = true;
                pairs.push((i, j));
            }
            None => extra_a.push(i),
        }
    }
    // Flows only 0.3 has.
    let mut ghosts_after = Vec::new();
    let mut idle_splits = Vec::new();
    let timeout_ns: u64 = if t.proto == 6 { 300 } else { 60 } * 1_000_000_000;
    for &i in &extra_a {
        let x = &a[i];
        // The 0.3 flow before it went idle, less than a second over the
        // timeout before it, inside one flowscope flow.
        let idle_split = i > 0 && {
            let p = &a[i - 1];
            p.close == Close::Idle
                && x.start.saturating_sub(p.end) < timeout_ns + 1_000_000_000
                && b.iter().any(|y| y.start <= p.start && x.start <= y.end)
        };
        if idle_split {
            tally.hit(Exception::IdleRounding, capture);
            idle_splits.push(x.start);
            continue;
        }
        let after_close = a[..i]
            .iter()
            .any(|p| matches!(p.close, Close::Fin | Close::Rst) && p.end <= x.start);
        let covered = b
            .iter()
            .any(|y| y.start <= x.start && x.start <= y.end.saturating_add(LINGER_NS));
        if t.proto == 6 && after_close && covered {
            tally.hit(Exception::Ghost, capture);
            ghosts_after.push(x.start);
        } else if blind {
            tally.hit(Exception::Decoder, capture);
        } else {
            tally.miss(
                capture,
                kind,
                t,
                format!("{kind:?}: 0.3-only flow ({:?})", x.close),
                format!(
                    "0.3-only flow at {} ({:?}, {} msgs)",
                    x.start,
                    x.close,
                    x.msgs[0].len() + x.msgs[1].len()
                ),
            );
        }
    }
    // Flows only flowscope has.
    for (j, y) in b.iter().enumerate() {
        if paired_b[j] {
            continue;
        }
        if blind {
            tally.hit(Exception::Decoder, capture);
        } else {
            tally.miss(
                capture,
                kind,
                t,
                format!("{kind:?}: flowscope-only flow ({:?})", y.close),
                format!(
                    "flowscope-only flow at {} ({:?}, {} msgs)",
                    y.start,
                    y.close,
                    y.msgs[0].len() + y.msgs[1].len()
                ),
            );
        }
    }
    for (i, j) in pairs {
        pair(
            capture,
            kind,
            t,
            &a[i],
            &b[j],
            &ghosts_after,
            &idle_splits,
            blind,
            server_ports,
            tally,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn pair(
    capture: &str,
    kind: Kind,
    t: &Tuple,
    x: &Sess,
    y: &Sess,
    ghosts_after: &[u64],
    idle_splits: &[u64],
    blind: bool,
    server_ports: &[u16],
    tally: &mut Tally,
) {
    if x.initiator != y.initiator {
        if receiver_initiates(x.first_flags, x.first_ports, server_ports) {
            tally.hit(Exception::Initiator, capture);
        } else {
            tally.miss(
                capture,
                kind,
                t,
                format!("{kind:?}: initiator differs"),
                format!(
                    "initiator 0.3 {:?} flowscope {:?} (first flags {:02x}, ports {:?})",
                    t.ep(x.initiator),
                    t.ep(y.initiator),
                    x.first_flags,
                    x.first_ports
                ),
            );
        }
    }
    // The close.
    let ghost_close =
        matches!(x.close, Close::Fin | Close::Rst) && ghosts_after.iter().any(|&g| g >= x.end);
    let idle_split = x.close == Close::Idle && idle_splits.iter().any(|&g| g >= x.end);
    let early_close = ghost_close || idle_split;
    let mut close_explained = x.close == y.close;
    if !close_explained {
        let one_sided_fins =
            (x.fins[0] >= 2 && x.fins[1] == 0) || (x.fins[1] >= 2 && x.fins[0] == 0);
        let e = if matches!(x.close, Close::Idle | Close::End)
            && y.close == Close::Fin
            && !x.established
        {
            Some(Exception::NoHandshake)
        } else if x.close == Close::Fin && one_sided_fins {
            Some(Exception::FinRetransmission)
        } else if ghost_close {
            Some(Exception::Ghost)
        } else if idle_split {
            Some(Exception::IdleRounding)
        } else {
            None
        };
        match e {
            Some(e) => {
                tally.hit(e, capture);
                close_explained = true;
            }
            None => tally.miss(
                capture,
                kind,
                t,
                format!("{kind:?}: close 0.3 {:?} flowscope {:?}", x.close, y.close),
                format!(
                    "close 0.3 {:?} flowscope {:?} (0.3 established {}, fins {:?}, history {})",
                    x.close, y.close, x.established, x.fins, y.history
                ),
            ),
        }
    }
    // The messages, per sending endpoint.
    for ep in 0..2 {
        let (mx, my) = (&x.msgs[ep], &y.msgs[ep]);
        if mx == my {
            continue;
        }
        // A close that differs (and is explained) flushes differently.
        if x.close != y.close && close_explained && without_flush(mx) == without_flush(my) {
            continue;
        }
        if y.disorder[ep].any() {
            tally.hit(Exception::Disorder, capture);
        } else if early_close && {
            let (px, py) = (without_flush(mx), without_flush(my));
            py.starts_with(&px)
        } {
            let e = if ghost_close {
                Exception::Ghost
            } else {
                Exception::IdleRounding
            };
            tally.hit(e, capture);
        } else if blind {
            tally.hit(Exception::Decoder, capture);
        } else {
            let sort = if without_flush(mx) == without_flush(my) {
                let flush = |v: &[String]| v.iter().filter(|m| is_flush(m)).count();
                format!(
                    "{kind:?}: close flush messages (0.3 {}, flowscope {}) at close {:?}",
                    flush(mx),
                    flush(my),
                    y.close
                )
            } else if kind == Kind::Dgram {
                let short0 = |v: &[String]| v.iter().filter(|m| *m == "short:0").count();
                format!(
                    "Dgram: datagrams (empty ones: 0.3 {}, flowscope {})",
                    short0(mx).min(1),
                    short0(my).min(1)
                )
            } else {
                format!("{kind:?}: payload messages")
            };
            tally.miss(
                capture,
                kind,
                t,
                sort,
                format!(
                    "messages from {:?} ({}; close 0.3 {:?} flowscope {:?}): 0.3 {} flowscope {}",
                    t.ep(ep),
                    if ep == x.initiator {
                        "0.3 initiator"
                    } else {
                        "0.3 responder"
                    },
                    x.close,
                    y.close,
                    brief(mx),
                    brief(my)
                ),
            );
        }
    }
}
