//! The comparison: one capture's sessions of both runs grouped by parser
//! and canonical 5-tuple, paired by start time, and every difference
//! either classified into a named [`Exception`] whose precondition holds
//! for that very flow, or counted as unexplained.

use std::collections::BTreeMap;

use super::model::{Blind, Close, Evidence, Kind, Sess, Tuple};

/// Nanoseconds in a second.
const NS: u64 = 1_000_000_000;

/// flowscope's linger after a TCP close (`flow.tcp_closed_linger`), ns.
const LINGER_NS: u64 = 60 * NS;

/// How many unexplained differences are described one by one:
/// `$PARITY_DETAILS`, else 12.
fn detail_limit() -> usize {
    std::env::var("PARITY_DETAILS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
}

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
    /// flowscope's timers run on the packet clock, the largest timestamp
    /// read so far: a packet stamped earlier keeps its flow alive as of
    /// the clock. 0.3 ages a flow by its packets' own timestamps, so in a
    /// capture whose time goes backwards it expires flows flowscope keeps.
    ClockBehind,
    /// flowscope also expires a flow when its next packet finds it past
    /// its deadline; 0.3 only at its sweeps (once a second of packet
    /// time), so a packet that comes just past the deadline, before the
    /// next sweep, still joins the old flow in 0.3.
    LookupExpiry,
    /// Both FINs seen and no ACK after the second: 0.3 waits in
    /// ClosingTcp for an ACK until the idle timeout; flowscope ends the
    /// flow by FIN (when its close linger runs out, or at the end of the
    /// input).
    NoLastAck,
}

impl Exception {
    /// All, in report order.
    pub const ALL: [Exception; 10] = [
        Exception::Disorder,
        Exception::Ghost,
        Exception::FinRetransmission,
        Exception::NoHandshake,
        Exception::NoLastAck,
        Exception::Initiator,
        Exception::Decoder,
        Exception::IdleRounding,
        Exception::ClockBehind,
        Exception::LookupExpiry,
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
            Exception::ClockBehind => {
                "flowscope ages flows by the packet clock (capture time going backwards)"
            }
            Exception::LookupExpiry => {
                "flowscope expires a flow at its next packet too, 0.3 only at sweeps"
            }
            Exception::NoLastAck => "both FINs, no ACK after: 0.3 waits, flowscope ends by FIN",
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

    /// A flow only the run `who` has, and nothing explains.
    fn miss_one_sided(&mut self, capture: &str, t: &Tuple, who: &str, s: &Sess) {
        let kind = s.kind;
        self.miss(
            capture,
            kind,
            t,
            format!("{kind:?}: {who}-only flow ({:?})", s.close),
            format!(
                "{who}-only flow at {} ({:?}, {} msgs)",
                s.start,
                s.close,
                s.msgs[0].len() + s.msgs[1].len()
            ),
        );
    }

    fn miss(&mut self, capture: &str, kind: Kind, t: &Tuple, sort: String, what: String) {
        self.unexplained += 1;
        let (n, ex) = self.unexplained_by.entry(sort).or_default();
        *n += 1;
        if ex.len() < 3 && !ex.iter().any(|c| c == capture) {
            ex.push(capture.to_owned());
        }
        if self.details.len() < detail_limit() {
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

/// Whether one decoder read a packet of `t` that the other did not, or
/// read it with another tuple.
fn decoders_differ(ev: &Evidence, t: &Tuple) -> bool {
    ev.of(t, Blind::OracleMissed) + ev.of(t, Blind::FlowscopeRejected) + ev.of(t, Blind::Disagree)
        > 0
}

/// The idle timeout of a protocol in both runs (the crates' defaults), s.
fn idle_timeout_s(proto: u8) -> u64 {
    if proto == 6 { 300 } else { 60 }
}

/// flowscope's idle deadline (engine/src/flow/mod.rs), a whole second of
/// packet time: a flow last active at `activity_ns` is expired once the
/// packet clock's second reaches the activity's second plus the timeout
/// plus one.
fn deadline_s(activity_ns: u64, timeout_s: u64) -> u64 {
    activity_ns / NS + timeout_s + 1
}

/// Why flowscope still had the flow that 0.3 expired idle as `p` when it
/// next looked at it (at packet clock `check_clock`; at a packet stamped
/// `check_ts`, or at the end of the capture when `None`), or `None` when
/// flowscope's own rules expire it too: its activity is the packet clock
/// at the flow's last packet, and at a packet also the latest of the
/// flow's own timestamps. The cause is the packet clock when the rule on
/// the last packet's own timestamp would have expired it, else the
/// rounding.
fn kept_idle(
    p: &Sess,
    check_clock: u64,
    check_ts: Option<u64>,
    timeout_s: u64,
    ev: &Evidence,
) -> Option<Exception> {
    let last = *p.packets.last()?;
    let latest = p.packets.iter().map(|&s| ev.ts(s)).max()?;
    let at = check_ts.unwrap_or(check_clock);
    if check_clock / NS >= deadline_s(ev.clock(last), timeout_s)
        || check_ts.is_some_and(|ts| ts / NS >= deadline_s(latest, timeout_s))
    {
        None
    } else if at / NS >= deadline_s(ev.ts(last), timeout_s) {
        Some(Exception::ClockBehind)
    } else {
        Some(Exception::IdleRounding)
    }
}

/// Whether flowscope's flow starting at `start` began where a packet of
/// 0.3's flow `x` (not its first) found flowscope's flow past its deadline:
/// the packet clock at that packet reached the deadline of the clock at
/// `x`'s packet before it, or the packet's own time the deadline of the
/// latest time of `x`'s packets before it.
fn lookup_split(x: &Sess, start: u64, timeout_s: u64, ev: &Evidence) -> bool {
    let mut latest = 0;
    x.packets.windows(2).any(|w| {
        latest = latest.max(ev.ts(w[0]));
        ev.ts(w[1]) == start
            && (ev.clock(w[1]) / NS >= deadline_s(ev.clock(w[0]), timeout_s)
                || ev.ts(w[1]) / NS >= deadline_s(latest, timeout_s))
    })
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
    let blind = decoders_differ(ev, t);
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
    let timeout_s = idle_timeout_s(t.proto);
    for &i in &extra_a {
        let x = &a[i];
        // The 0.3 flow before it went idle, inside one flowscope flow that
        // flowscope's rule had not expired by this flow's first packet.
        let idle_split = if i > 0
            && a[i - 1].close == Close::Idle
            && b.iter()
                .any(|y| y.start <= a[i - 1].start && x.start <= y.end)
        {
            kept_idle(
                &a[i - 1],
                ev.clock(x.packets[0]),
                Some(x.start),
                timeout_s,
                ev,
            )
        } else {
            None
        };
        if let Some(e) = idle_split {
            tally.hit(e, capture);
            idle_splits.push((x.start, e));
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
            tally.miss_one_sided(capture, t, "0.3", x);
        }
    }
    // Flows only flowscope has.
    let mut lookup_splits = Vec::new();
    for (j, y) in b.iter().enumerate() {
        if paired_b[j] {
            continue;
        }
        if a.iter().any(|x| lookup_split(x, y.start, timeout_s, ev)) {
            tally.hit(Exception::LookupExpiry, capture);
            lookup_splits.push(y.start);
        } else if blind {
            tally.hit(Exception::Decoder, capture);
        } else {
            tally.miss_one_sided(capture, t, "flowscope", y);
        }
    }
    let splits = Splits {
        ghosts_after: &ghosts_after,
        idle: &idle_splits,
        lookup: &lookup_splits,
    };
    for (i, j) in pairs {
        pair(
            capture,
            kind,
            t,
            (&a[i], &b[j]),
            &splits,
            ev,
            server_ports,
            tally,
        );
    }
}

/// Where one side's flows of a group were split and the other's not.
struct Splits<'a> {
    /// Starts of 0.3 ghost flows (after a FIN/RST, flowscope lingering).
    ghosts_after: &'a [u64],
    /// Starts of 0.3 flows after an idle close flowscope did not make, and
    /// why flowscope did not.
    idle: &'a [(u64, Exception)],
    /// Starts of flowscope flows that a packet past the deadline began.
    lookup: &'a [u64],
}

#[allow(clippy::too_many_arguments)]
fn pair(
    capture: &str,
    kind: Kind,
    t: &Tuple,
    (x, y): (&Sess, &Sess),
    splits: &Splits<'_>,
    ev: &Evidence,
    server_ports: &[u16],
    tally: &mut Tally,
) {
    let blind = decoders_differ(ev, t);
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
    let ghost_close = matches!(x.close, Close::Fin | Close::Rst)
        && splits.ghosts_after.iter().any(|&g| g >= x.end);
    // The first 0.3 flow after this one, if 0.3 split it off idle.
    let idle_split = if x.close == Close::Idle {
        splits
            .idle
            .iter()
            .filter(|&&(g, _)| g >= x.end)
            .min_by_key(|&&(g, _)| g)
            .map(|&(_, e)| e)
    } else {
        None
    };
    let early_close = ghost_close || idle_split.is_some();
    // flowscope split this flow off where 0.3's continued.
    let lookup_split = y.close == Close::Idle
        && splits
            .lookup
            .iter()
            .any(|&g| x.start < g && g <= x.end && g > y.end);
    // 0.3 expired it at the final sweep, flowscope kept it to the end.
    let idle_at_end = if x.close == Close::Idle && y.close == Close::End {
        kept_idle(x, ev.final_clock, None, idle_timeout_s(t.proto), ev)
    } else {
        None
    };
    // flowscope's flow outlived 0.3's idle close through a packet of the
    // tuple that 0.3 did not read.
    let kept_by = |b: Blind| {
        x.close == Close::Idle && ev.stamps(t, b).iter().any(|&s| x.end < s && s <= y.end)
    };
    let mut close_explained = x.close == y.close;
    if !close_explained {
        let one_sided_fins =
            (x.fins[0] >= 2 && x.fins[1] == 0) || (x.fins[1] >= 2 && x.fins[0] == 0);
        let e = if matches!(x.close, Close::Idle | Close::End)
            && y.close == Close::Fin
            && !x.established
        {
            Some(Exception::NoHandshake)
        } else if matches!(x.close, Close::Idle | Close::End)
            && y.close == Close::Fin
            && x.closing
            && x.fins[0] > 0
            && x.fins[1] > 0
        {
            Some(Exception::NoLastAck)
        } else if x.close == Close::Fin && one_sided_fins {
            Some(Exception::FinRetransmission)
        } else if ghost_close {
            Some(Exception::Ghost)
        } else if idle_split.is_some() {
            idle_split
        } else if idle_at_end.is_some() {
            idle_at_end
        } else if lookup_split {
            Some(Exception::LookupExpiry)
        } else if kept_by(Blind::OracleMissed) {
            Some(Exception::Decoder)
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
            let e = match idle_split {
                Some(e) if !ghost_close => e,
                _ => Exception::Ghost,
            };
            tally.hit(e, capture);
        } else if lookup_split && {
            let (px, py) = (without_flush(mx), without_flush(my));
            px.starts_with(&py)
        } {
            tally.hit(Exception::LookupExpiry, capture);
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
