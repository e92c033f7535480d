//! Engine counters: what was seen, skipped (by reason), created and ended,
//! and the session driver's counters ([`SessionCounters`], with the
//! per-protocol [`AppCounters`]). Plain per-engine integers (one engine per
//! shard, no sharing); the pipeline sums them with [`EngineStats::merge`]
//! and [`SessionCounters::add`].

use crate::defrag::{DefragCounters, DefragDrop};
use crate::packet::TunnelKind;
use crate::reassembly::{Memory, StreamCounters};
use crate::vocab::EndReason;
use crate::wire::DecodeError;

/// Flows created per transport protocol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProtoCounts {
    /// TCP flows.
    pub tcp: u64,
    /// UDP flows.
    pub udp: u64,
    /// SCTP flows.
    pub sctp: u64,
    /// ICMP and ICMPv6 flows.
    pub icmp: u64,
    /// Of `icmp`, the ICMPv6 flows.
    pub icmpv6: u64,
    /// Any other IP protocol, and non-IP keys.
    pub other: u64,
}

/// All engine counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineStats {
    /// Packets handed to the engine.
    pub packets: u64,
    /// Their wire bytes.
    pub bytes: u64,
    /// Packets the capture cut short (captured length below wire length).
    pub truncated: u64,
    /// Malformed packets by decode error (skipped).
    pub decode_errors: [u64; DecodeError::ALL.len()],
    /// Packets of a link type the decoder does not know (skipped).
    pub unsupported_linktype: u64,
    /// Non-IP frames (ARP, LLDP, STP...) the key does not cover (skipped).
    pub non_ip: u64,
    /// IPv4 headers whose checksum did not verify (still processed).
    pub ipv4_bad_checksum: u64,
    /// Packets decapsulated, per innermost tunnel kind.
    pub tunnel_packets: [u64; TunnelKind::ALL.len()],
    /// Packets whose tunnels nested deeper than allowed.
    pub tunnel_depth_exceeded: u64,
    /// Tunnel headers whose inner packet did not decode (tracked as the
    /// outer flow).
    pub tunnel_inner_invalid: u64,
    /// Flows created.
    pub flows_created: u64,
    /// Flows created per protocol.
    pub flows_by_proto: ProtoCounts,
    /// Flows ended, per reason.
    pub flows_ended: [u64; EndReason::ALL.len()],
    /// Packets absorbed by a closed flow's linger entry (trailing ACKs,
    /// retransmitted FINs) instead of starting a ghost flow.
    pub packets_after_close: u64,
    /// Most flows held at once.
    pub peak_flows: u64,
    /// Times the flow table filled up and emergency mode (shorter idle
    /// timeouts) began.
    pub emergency_entered: u64,
    /// Times emergency mode ended, the table having recovered.
    pub emergency_over: u64,
    /// Fragment reassembly counters.
    pub defrag: DefragCounters,
}

impl Default for EngineStats {
    fn default() -> Self {
        EngineStats {
            packets: 0,
            bytes: 0,
            truncated: 0,
            decode_errors: [0; DecodeError::ALL.len()],
            unsupported_linktype: 0,
            non_ip: 0,
            ipv4_bad_checksum: 0,
            tunnel_packets: [0; TunnelKind::ALL.len()],
            tunnel_depth_exceeded: 0,
            tunnel_inner_invalid: 0,
            flows_created: 0,
            flows_by_proto: ProtoCounts::default(),
            flows_ended: [0; EndReason::ALL.len()],
            packets_after_close: 0,
            peak_flows: 0,
            emergency_entered: 0,
            emergency_over: 0,
            defrag: DefragCounters::default(),
        }
    }
}

impl EngineStats {
    /// Flows ended for any reason.
    pub fn flows_ended_total(&self) -> u64 {
        self.flows_ended.iter().sum()
    }

    /// Malformed packets for any reason.
    pub fn decode_errors_total(&self) -> u64 {
        self.decode_errors.iter().sum()
    }

    /// Packets that produced no flow update, by reason.
    pub fn skipped(&self) -> Vec<(&'static str, u64)> {
        let mut v = vec![
            ("malformed", self.decode_errors_total()),
            ("unsupported_linktype", self.unsupported_linktype),
            ("non_ip", self.non_ip),
            ("fragment_dropped", self.defrag.drops.iter().sum()),
        ];
        v.retain(|&(_, n)| n > 0);
        v
    }

    /// Adds another engine's counters (peaks are summed too: shards hold
    /// disjoint flows at the same time).
    pub fn merge(&mut self, o: &EngineStats) {
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.truncated += o.truncated;
        add(&mut self.decode_errors, &o.decode_errors);
        self.unsupported_linktype += o.unsupported_linktype;
        self.non_ip += o.non_ip;
        self.ipv4_bad_checksum += o.ipv4_bad_checksum;
        add(&mut self.tunnel_packets, &o.tunnel_packets);
        self.tunnel_depth_exceeded += o.tunnel_depth_exceeded;
        self.tunnel_inner_invalid += o.tunnel_inner_invalid;
        self.flows_created += o.flows_created;
        let (p, q) = (&mut self.flows_by_proto, &o.flows_by_proto);
        p.tcp += q.tcp;
        p.udp += q.udp;
        p.sctp += q.sctp;
        p.icmp += q.icmp;
        p.icmpv6 += q.icmpv6;
        p.other += q.other;
        add(&mut self.flows_ended, &o.flows_ended);
        self.packets_after_close += o.packets_after_close;
        self.peak_flows += o.peak_flows;
        self.emergency_entered += o.emergency_entered;
        self.emergency_over += o.emergency_over;
        let (d, e) = (&mut self.defrag, &o.defrag);
        d.fragments += e.fragments;
        d.reassembled += e.reassembled;
        d.duplicates += e.duplicates;
        add(&mut d.drops, &e.drops);
        d.peak_datagrams += e.peak_datagrams;
        d.peak_bytes += e.peak_bytes;
    }

    /// Fragment drops by reason name.
    pub fn defrag_drops(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        DefragDrop::ALL
            .iter()
            .map(|d| (d.name(), self.defrag.drops[d.index()]))
    }
}

fn add<const N: usize>(a: &mut [u64; N], b: &[u64; N]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// Counters of one [`Sessions`](crate::Sessions) driver (one engine, one shard).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCounters {
    /// Flows given a parser.
    pub flows_parsed: u64,
    /// Flows that carried payload but matched no parser.
    pub flows_unclassified: u64,
    /// Messages emitted.
    pub messages: u64,
    /// Parsers that poisoned.
    pub parser_errors: u64,
    /// Stream counters summed over ended flows.
    pub stream: StreamCounters,
    /// Flows dropped by the `DropFlow` policy.
    pub flows_dropped: u64,
    /// TCP payload bytes that arrived after work on their flow stopped (no
    /// parser took it, its parser failed, or a cap dropped it): counted,
    /// not reassembled.
    pub skipped_bytes: u64,
    /// Out-of-order bytes held now, and the most held at once.
    pub memory: Memory,
    /// Per application protocol: flows, transactions, parser errors and
    /// protocol anomalies (counted as flows end).
    pub app: AppCounters,
}

impl SessionCounters {
    /// Adds another driver's counters (memory: used and peak added, as for
    /// separate shards).
    pub fn add(&mut self, o: &SessionCounters) {
        self.flows_parsed += o.flows_parsed;
        self.flows_unclassified += o.flows_unclassified;
        self.messages += o.messages;
        self.parser_errors += o.parser_errors;
        add_counters(&mut self.stream, &o.stream);
        self.flows_dropped += o.flows_dropped;
        self.skipped_bytes += o.skipped_bytes;
        self.memory.used += o.memory.used;
        self.memory.peak += o.memory.peak;
        self.app.add(&o.app);
    }
}

/// Counters of one application protocol on one transport.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppProtoCounters {
    /// Flows given its parser (for `failed`: flows with payload no parser
    /// took).
    pub flows: u64,
    /// Transactions: messages its parser counts as ones
    /// ([`SessionParser::is_transaction`](crate::SessionParser::is_transaction)).
    pub tx: u64,
    /// Parsers that poisoned.
    pub parser_errors: u64,
    /// Protocol anomalies reported ([`AnomalyKind::AppLayer`](crate::AnomalyKind::AppLayer)).
    pub events: u64,
    /// Protocol anomalies past the per-flow cap: counted, not reported.
    pub events_capped: u64,
}

impl AppProtoCounters {
    fn add(&mut self, o: &AppProtoCounters) {
        self.flows += o.flows;
        self.tx += o.tx;
        self.parser_errors += o.parser_errors;
        self.events += o.events;
        self.events_capped += o.events_capped;
    }
}

/// Protocols [`AppCounters`] keeps apart; the counts of any further ones
/// are summed under `other`. Room for every built-in parser's names (over
/// TCP and UDP, `failed`) with some to spare for a program's own.
pub(crate) const MAX_APP_PROTOS: usize = 40;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct AppEntry {
    /// A route's name; empty: unused.
    name: &'static str,
    tcp: bool,
    counts: AppProtoCounters,
}

/// Per-protocol counters, by a route's name (its flows' `app_proto`) and
/// transport, in the order the names were first seen (the driver enters
/// its routes' names when they are registered, so every shard holds the
/// same names in the same order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppCounters {
    entries: [AppEntry; MAX_APP_PROTOS + 1],
}

impl Default for AppCounters {
    fn default() -> Self {
        AppCounters {
            entries: [AppEntry::default(); MAX_APP_PROTOS + 1],
        }
    }
}

impl AppCounters {
    /// The counters of `name` over TCP (`tcp`) or UDP, entered if new
    /// (under `other` once the table is full).
    pub fn entry(&mut self, name: &'static str, tcp: bool) -> &mut AppProtoCounters {
        let i = self
            .entries
            .iter()
            .position(|e| e.name.is_empty() || (e.name == name && e.tcp == tcp))
            .filter(|&i| i < MAX_APP_PROTOS)
            .unwrap_or(MAX_APP_PROTOS);
        let e = &mut self.entries[i];
        if e.name.is_empty() {
            e.name = if i < MAX_APP_PROTOS { name } else { "other" };
            e.tcp = tcp;
        }
        &mut e.counts
    }

    /// `(name, tcp, counters)` of every protocol entered, in entry order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, bool, &AppProtoCounters)> {
        self.entries
            .iter()
            .filter(|e| !e.name.is_empty())
            .map(|e| (e.name, e.tcp, &e.counts))
    }

    /// Adds another driver's counters, protocol by protocol.
    pub fn add(&mut self, o: &AppCounters) {
        for (name, tcp, c) in o.iter() {
            self.entry(name, tcp).add(c);
        }
    }
}

pub(crate) fn add_counters(sum: &mut StreamCounters, c: &StreamCounters) {
    sum.delivered += c.delivered;
    sum.retransmits += c.retransmits;
    sum.out_of_order += c.out_of_order;
    sum.overlaps += c.overlaps;
    sum.inconsistent += c.inconsistent;
    sum.gaps += c.gaps;
    sum.gap_bytes += c.gap_bytes;
    sum.cap_hits += c.cap_hits;
    sum.discarded_bytes += c.discarded_bytes;
}
