//! EVE JSON Lines records, shaped like Suricata's: `flow` records when
//! flows end, `anomaly` records, and a final `stats` record. The schema is
//! documented in the README (schema version [`SCHEMA_VERSION`]).

mod app;
mod endpoints;
mod ftp_data;
mod strict;
mod suricata;

pub use app::EveMessage;
pub use ftp_data::{FtpDataCounters, FtpDataStage};
pub use strict::{EveProfile, SCHEMA, StrictFilter};

use crate::json::{JsonObject, Key};
use endpoints::EndpointCache;
use flowscope_engine::{
    AnomalyKind, AppCounters, AppEvent, AppProtoCounters, DecodeError, EndReason, EngineStats,
    FiveTupleKey, FlowEvent, FlowSide, FlowStats, IpPairKey, MacPairKey, Ordered, Orientation,
    SessionCounters, Timestamp, Tunnel, community_id,
};
use serde::Deserialize;

/// Version of the record layout; bumped on incompatible changes (2:
/// Suricata 7's time form, `flow.reason` words and DNS/HTTP field forms).
pub const SCHEMA_VERSION: u64 = 2;

/// Output options (the `[output]` table of the config).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Write `anomaly` records.
    pub anomalies: bool,
    /// Write the final `stats` record.
    pub stats: bool,
    /// Seed of the Community ID hash (0 is the standard default).
    pub community_id_seed: u16,
    /// Add `client_handshake` (version, cipher, extension and signature
    /// algorithm lists) to `tls` records.
    pub tls_client_handshake: bool,
    /// `default`: Suricata's fields and flowscope's; `strict`: only what
    /// Suricata 7.0.10 writes ([`EveProfile`]).
    pub profile: EveProfile,
    /// Live capture: seconds between `stats` records (0: only the last).
    pub stats_interval: f64,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            anomalies: true,
            stats: true,
            community_id_seed: 0,
            tls_client_handshake: false,
            profile: EveProfile::Default,
            stats_interval: 10.0,
        }
    }
}

/// How a key type appears in a record. A renderer holds the keys of the
/// flows whose fields it keeps, and compares them.
pub trait EveKey: Clone + PartialEq + Send + 'static {
    /// Writes the endpoint fields (`src_ip` ... `proto`, `vlan`,
    /// `community_id`) with the initiator as source.
    fn write_endpoints(&self, initiator: Orientation, o: &mut JsonObject<'_>, seed: u16);

    /// The IP protocol, for keys that hold one.
    fn ip_proto(&self) -> Option<u8> {
        None
    }

    /// Flow records of ICMP flows: Suricata's `icmp_code` of a request
    /// (whose key holds the counterpart type instead), and when the
    /// responder answered, `response_icmp_type` and `response_icmp_code`.
    fn write_icmp(&self, _initiator: Orientation, _stats: &FlowStats, _o: &mut JsonObject<'_>) {}
}

/// Suricata's protocol names.
pub fn proto_name(p: u8) -> std::borrow::Cow<'static, str> {
    let name = match p {
        1 => "ICMP",
        2 => "IGMP",
        4 => "IPIP",
        6 => "TCP",
        17 => "UDP",
        41 => "IPv6",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        58 => "IPv6-ICMP",
        89 => "OSPF",
        103 => "PIM",
        112 => "VRRP",
        132 => "SCTP",
        other => return std::borrow::Cow::Owned(other.to_string()),
    };
    std::borrow::Cow::Borrowed(name)
}

impl EveKey for FiveTupleKey {
    fn write_endpoints(&self, initiator: Orientation, o: &mut JsonObject<'_>, seed: u16) {
        let (src, dst) = self.oriented(initiator);
        if !self.context().vlans.is_empty() {
            o.u64_array(
                "vlan",
                self.context()
                    .vlans
                    .as_slice()
                    .iter()
                    .map(|&v| u64::from(v)),
            );
        }
        o.ip("src_ip", src.addr);
        let icmp = matches!(self.proto(), 1 | 58);
        let has_ports = matches!(self.proto(), 6 | 17 | 132);
        if has_ports {
            o.u64("src_port", u64::from(src.port));
        }
        o.ip("dest_ip", dst.addr);
        if has_ports {
            o.u64("dest_port", u64::from(dst.port));
        }
        o.str("proto", &proto_name(self.proto()));
        if icmp {
            // The key holds Zeek's port equivalents: the initiator's type, and
            // for one-way messages the code (request/reply types hold the
            // counterpart type instead).
            let v6 = self.proto() == 58;
            let msg_type = u8::try_from(src.port).unwrap_or(0);
            o.u64("icmp_type", u64::from(src.port));
            if flowscope_engine::unstable::icmp_port_equivalents(v6, msg_type, 0).2 {
                o.u64("icmp_code", u64::from(dst.port));
            }
        }
        o.str("community_id", community_id(self, initiator, seed).as_str());
    }

    fn ip_proto(&self) -> Option<u8> {
        Some(self.proto())
    }

    fn write_icmp(&self, initiator: Orientation, stats: &FlowStats, o: &mut JsonObject<'_>) {
        if !matches!(self.proto(), 1 | 58) {
            return;
        }
        let (src, dst) = self.oriented(initiator);
        let v6 = self.proto() == 58;
        let msg_type = u8::try_from(src.port).unwrap_or(0);
        let answered = stats.responder.packets > 0;
        if flowscope_engine::unstable::icmp_port_equivalents(v6, msg_type, 0).2 {
            // One-way messages: both directions share type and code, both
            // in the key (`icmp_code` written with the endpoints).
            if answered {
                o.u64("response_icmp_type", u64::from(src.port))
                    .u64("response_icmp_code", u64::from(dst.port));
            }
        } else {
            // Request/reply: the key holds the counterpart type, the codes
            // are each side's first message's.
            o.u64("icmp_code", u64::from(stats.initiator.icmp_code));
            if answered {
                o.u64("response_icmp_type", u64::from(dst.port))
                    .u64("response_icmp_code", u64::from(stats.responder.icmp_code));
            }
        }
    }
}

impl EveKey for IpPairKey {
    fn write_endpoints(&self, initiator: Orientation, o: &mut JsonObject<'_>, _seed: u16) {
        let (src, dst) = match initiator {
            Orientation::Forward => (self.a, self.b),
            Orientation::Reverse => (self.b, self.a),
        };
        if !self.context.vlans.is_empty() {
            o.u64_array(
                "vlan",
                self.context.vlans.as_slice().iter().map(|&v| u64::from(v)),
            );
        }
        o.ip("src_ip", src);
        o.ip("dest_ip", dst);
    }
}

fn mac_str(m: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

impl EveKey for MacPairKey {
    fn write_endpoints(&self, initiator: Orientation, o: &mut JsonObject<'_>, _seed: u16) {
        let (src, dst) = match initiator {
            Orientation::Forward => (self.a, self.b),
            Orientation::Reverse => (self.b, self.a),
        };
        if !self.vlans.is_empty() {
            o.u64_array("vlan", self.vlans.as_slice().iter().map(|&v| u64::from(v)));
        }
        o.str("src_mac", &mac_str(src));
        o.str("dest_mac", &mac_str(dst));
    }
}

/// `in_iface`, when interfaces are named.
fn write_iface(names: Option<&[String]>, o: &mut JsonObject<'_>, iface: u32) {
    if let Some(names) = names {
        o.str(
            "in_iface",
            names.get(iface as usize).map_or("", String::as_str),
        );
    }
}

/// Renders events as EVE lines.
#[derive(Debug, Clone)]
pub struct EveRenderer {
    cfg: OutputConfig,
    /// Capture interface names, by index: flow records then say which
    /// interface their first packet came in on (`in_iface`).
    interfaces: Option<std::sync::Arc<[String]>>,
    /// The strict profile's filter.
    strict: Option<std::sync::Arc<StrictFilter>>,
    /// Each open flow's `flow_id` and endpoint fields as last rendered.
    endpoints: EndpointCache,
}

impl EveRenderer {
    /// A renderer with these options.
    pub fn new(cfg: OutputConfig) -> Self {
        let strict = (cfg.profile == EveProfile::Strict).then(|| StrictFilter::new().into());
        EveRenderer {
            cfg,
            interfaces: None,
            strict,
            endpoints: EndpointCache::default(),
        }
    }

    /// The strict profile's filter, when that is the profile: records
    /// completed outside the renderer go through it too.
    pub fn strict(&self) -> Option<&std::sync::Arc<StrictFilter>> {
        self.strict.as_ref()
    }

    /// Names flow records' capture interfaces (`in_iface`), by
    /// [`flowscope_engine::RawPacket::iface`] index (live capture: the
    /// `-i` order).
    pub fn with_interfaces(mut self, names: Vec<String>) -> Self {
        self.interfaces = Some(names.into());
        self
    }

    /// Appends the line for `ev` to `out` (nothing for events that have no
    /// record, or whose records are switched off).
    pub fn render<K: EveKey, M: EveMessage>(
        &mut self,
        ev: &Ordered<FlowEvent<K, M>>,
        out: &mut Vec<u8>,
    ) {
        let at = out.len();
        self.render_profile(ev, out);
        if let Some(f) = &self.strict {
            f.filter(out, at);
        }
    }

    /// [`EveRenderer::render`] in the default profile.
    fn render_profile<K: EveKey, M: EveMessage>(
        &mut self,
        ev: &Ordered<FlowEvent<K, M>>,
        out: &mut Vec<u8>,
    ) {
        let pcap_cnt = ev.seq + 1;
        match &ev.event {
            FlowEvent::Ended {
                key,
                flow_id,
                initiator,
                reason,
                stats,
                tunnel,
                ts,
            } => {
                let mut o = JsonObject::new(out);
                o.ts("timestamp", *ts);
                // The flow's last record: its fields as held, if they are,
                // and its slot freed.
                let cached = self.endpoints.find(*flow_id, key, *initiator);
                match cached {
                    Some(c) => o.raw_members(c.flow_id),
                    None => o.u64("flow_id", *flow_id),
                };
                o.u64("pcap_cnt", pcap_cnt);
                write_iface(self.interfaces.as_deref(), &mut o, stats.iface);
                o.str("event_type", "flow");
                match cached {
                    Some(c) => {
                        o.raw_members(c.endpoints);
                    }
                    None => key.write_endpoints(*initiator, &mut o, self.cfg.community_id_seed),
                }
                self.endpoints.forget::<K>(*flow_id);
                key.write_icmp(*initiator, stats, &mut o);
                if let Some(a) = stats.app_proto {
                    o.str("app_proto", a.name);
                    if let Some(orig) = a.orig {
                        o.str("app_proto_orig", orig);
                    }
                }
                if let Some(t) = tunnel {
                    write_tunnel(&mut o, t);
                }
                write_flow(&mut o, *reason, stats, key.ip_proto() == Some(6));
                o.finish_line();
            }
            FlowEvent::Anomaly {
                key,
                flow_id,
                kind,
                ts,
            } if self.cfg.anomalies => {
                let mut o = JsonObject::new(out);
                o.ts("timestamp", *ts);
                if let Some(id) = flow_id {
                    o.u64("flow_id", *id);
                }
                o.u64("pcap_cnt", pcap_cnt).str("event_type", "anomaly");
                if let Some(k) = key {
                    k.write_endpoints(Orientation::Forward, &mut o, self.cfg.community_id_seed);
                }
                if let AnomalyKind::AppLayer(AppEvent {
                    tx_id: Some(tx), ..
                }) = kind
                {
                    o.u64("tx_id", *tx);
                }
                write_anomaly(&mut o, kind);
                o.finish_line();
            }
            FlowEvent::Application {
                key,
                flow_id,
                initiator,
                side,
                message,
                ts,
                iface,
            } => {
                if let Some(t) = message.ftp_transfer() {
                    ftp_data::write_marker(out, key, *initiator, *flow_id, *ts, t);
                    return;
                }
                let Some(event_type) = message.event_type() else {
                    return;
                };
                let source = match side {
                    _ if message.source_is_responder() => initiator.flip(),
                    FlowSide::Responder if message.sender_is_source() => initiator.flip(),
                    _ => *initiator,
                };
                let mut o = JsonObject::new(out);
                o.ts("timestamp", *ts);
                match self.endpoints.find(*flow_id, key, source) {
                    Some(c) => {
                        o.raw_members(c.flow_id).u64("pcap_cnt", pcap_cnt);
                        write_iface(self.interfaces.as_deref(), &mut o, *iface);
                        o.str("event_type", event_type).raw_members(c.endpoints);
                    }
                    None => {
                        let id_at = o.mark();
                        o.u64("flow_id", *flow_id);
                        let id_end = o.mark();
                        o.u64("pcap_cnt", pcap_cnt);
                        write_iface(self.interfaces.as_deref(), &mut o, *iface);
                        o.str("event_type", event_type);
                        let at = o.mark();
                        key.write_endpoints(source, &mut o, self.cfg.community_id_seed);
                        let id = o.written_since(id_at);
                        let runs = endpoints::Cached {
                            flow_id: &id[..id_end - id_at],
                            endpoints: o.written_since(at),
                        };
                        self.endpoints.keep(*flow_id, key, source, runs);
                    }
                }
                message.write_body(&mut o, &self.cfg);
                o.finish_line();
            }
            _ => {}
        }
    }

    /// Appends the final `stats` record: engine counters only, nothing that
    /// depends on the machine or the run, so it is reproducible too.
    pub fn render_stats(
        &self,
        stats: &EngineStats,
        sessions: Option<&SessionCounters>,
        ts: Timestamp,
        out: &mut Vec<u8>,
    ) {
        if !self.cfg.stats {
            return;
        }
        let at = out.len();
        self.render_stats_profile(stats, sessions, ts, out);
        if let Some(f) = &self.strict {
            f.filter(out, at);
        }
    }

    /// [`EveRenderer::render_stats`] in the default profile.
    fn render_stats_profile(
        &self,
        stats: &EngineStats,
        sessions: Option<&SessionCounters>,
        ts: Timestamp,
        out: &mut Vec<u8>,
    ) {
        let mut o = JsonObject::new(out);
        o.ts("timestamp", ts)
            .str("event_type", "stats")
            .begin("stats");
        o.u64("schema_version", SCHEMA_VERSION);
        o.u64("packets", stats.packets)
            .u64("bytes", stats.bytes)
            .u64("truncated", stats.truncated);
        o.begin("decoder");
        o.u64("malformed", stats.decode_errors_total());
        o.begin("malformed_by_reason");
        for e in DecodeError::ALL {
            let n = stats.decode_errors[e.index()];
            if n > 0 {
                o.u64(e.name(), n);
            }
        }
        o.end();
        o.u64("unsupported_linktype", stats.unsupported_linktype);
        o.u64("non_ip", stats.non_ip);
        o.u64("ipv4_bad_checksum", stats.ipv4_bad_checksum);
        // Suricata's names: packets and their bytes.
        o.u64("pkts", stats.packets).u64("bytes", stats.bytes);
        o.end();
        o.begin("tunnel");
        for k in flowscope_engine::TunnelKind::ALL {
            let n = stats.tunnel_packets[k.index()];
            if n > 0 {
                o.u64(k.name(), n);
            }
        }
        o.u64("depth_exceeded", stats.tunnel_depth_exceeded);
        o.u64("inner_invalid", stats.tunnel_inner_invalid);
        o.end();
        o.begin("flow");
        let p = &stats.flows_by_proto;
        o.u64("created", stats.flows_created);
        // Suricata's name for it.
        o.u64("total", stats.flows_created);
        o.u64("tcp", p.tcp)
            .u64("udp", p.udp)
            .u64("sctp", p.sctp)
            .u64("icmp", p.icmp)
            .u64("other", p.other);
        // Suricata's names.
        o.u64("icmpv4", p.icmp.saturating_sub(p.icmpv6))
            .u64("icmpv6", p.icmpv6);
        o.begin("ended");
        for r in EndReason::ALL {
            o.u64(r.as_str(), stats.flows_ended[r.index()]);
        }
        o.end();
        o.u64("packets_after_close", stats.packets_after_close);
        // Suricata's names: times a table filled up (in any shard) and
        // times it recovered.
        o.u64("emerg_mode_entered", stats.emergency_entered)
            .u64("emerg_mode_over", stats.emergency_over);
        // No peak flow count: it depends on how flows were spread over
        // shards, and this record is identical for every shard count.
        o.end();
        let d = &stats.defrag;
        o.begin("defrag");
        o.u64("fragments", d.fragments)
            .u64("reassembled", d.reassembled)
            .u64("duplicates", d.duplicates);
        o.begin("dropped");
        for (name, n) in stats.defrag_drops() {
            if n > 0 {
                o.u64(name, n);
            }
        }
        o.end();
        o.end();
        if let Some(c) = sessions {
            // Per-flow sums only: the out-of-order memory peak depends on how
            // flows were spread over shards and is left to the summary.
            o.begin("app_layer");
            o.u64("flows_parsed", c.flows_parsed)
                .u64("flows_unclassified", c.flows_unclassified)
                .u64("messages", c.messages)
                .u64("parser_errors", c.parser_errors)
                .u64("flows_dropped", c.flows_dropped);
            write_app_counters(&mut o, &c.app);
            o.end();
            // Suricata's name for the gaps reassembly ran into.
            o.begin("tcp");
            o.u64("reassembly_gap", c.stream.gaps);
            o.end();
            let r = &c.stream;
            o.begin("tcp_reassembly");
            o.u64("delivered_bytes", r.delivered)
                .u64("retransmits", r.retransmits)
                .u64("out_of_order", r.out_of_order)
                .u64("overlaps", r.overlaps)
                .u64("inconsistent_overlaps", r.inconsistent)
                .u64("gaps", r.gaps)
                .u64("gap_bytes", r.gap_bytes)
                .u64("cap_hits", r.cap_hits)
                .u64("discarded_bytes", r.discarded_bytes)
                .u64("skipped_bytes", c.skipped_bytes);
            o.end();
        }
        o.finish_line();
    }
}

/// Protocols Suricata counts under one name per transport (`dns_udp`,
/// `dns_tcp`, `failed_tcp`...).
const PER_TRANSPORT: &[&str] = &["dns", "failed", "krb5", "dcerpc", "nfs"];

/// Protocols Suricata counts under one name whatever the transport (SIP
/// over UDP and TCP: `sip`); their rows are added up.
const ONE_NAME: &[&str] = &["sip"];

/// The name a protocol's counters go under in Suricata's `app_layer`
/// objects: `dns_udp`, `failed_tcp`; a name that also runs on the other
/// transport gets `_udp` there (HTTP over UDP: `http_udp`); otherwise the
/// protocol's own name.
fn counter_name(app: &AppCounters, name: &str, tcp: bool) -> String {
    let transport = if tcp { "tcp" } else { "udp" };
    if PER_TRANSPORT.contains(&name) {
        format!("{name}_{transport}")
    } else if ONE_NAME.contains(&name) {
        name.to_owned()
    } else if !tcp && app.iter().any(|(n, t, _)| t && n == name) {
        format!("{name}_udp")
    } else {
        name.to_owned()
    }
}

/// Suricata's per-protocol `app_layer` counters (`flow`, `tx`,
/// `error.<proto>.parser`), with flowscope's protocol anomaly counts
/// (`events`, `events_capped`); protocols by name.
fn write_app_counters(o: &mut JsonObject<'_>, app: &AppCounters) {
    let mut rows: Vec<(String, AppProtoCounters)> = app
        .iter()
        .map(|(name, tcp, c)| (counter_name(app, name, tcp), *c))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    // Rows of one name (ONE_NAME's transports) added up.
    rows.dedup_by(|b, a| {
        let same = a.0 == b.0;
        if same {
            let (a, b) = (&mut a.1, &b.1);
            a.flows += b.flows;
            a.tx += b.tx;
            a.parser_errors += b.parser_errors;
            a.events += b.events;
            a.events_capped += b.events_capped;
        }
        same
    });
    let is_failed = |n: &str| n.starts_with("failed_");
    o.begin("flow");
    for (n, c) in &rows {
        o.u64(Key::escaped(n), c.flows);
    }
    o.end();
    type Field = fn(&AppProtoCounters) -> u64;
    let fields: [(&'static str, Field); 3] = [
        ("tx", |c| c.tx),
        ("events", |c| c.events),
        ("events_capped", |c| c.events_capped),
    ];
    for (k, f) in fields {
        o.begin(k);
        for (n, c) in rows.iter().filter(|r| !is_failed(&r.0)) {
            o.u64(Key::escaped(n), f(c));
        }
        o.end();
    }
    o.begin("error");
    for (n, c) in rows.iter().filter(|r| !is_failed(&r.0)) {
        o.begin(Key::escaped(n));
        o.u64("parser", c.parser_errors);
        o.end();
    }
    o.end();
}

fn write_tunnel(o: &mut JsonObject<'_>, t: &Tunnel) {
    o.begin("tunnel");
    o.str("type", t.kind.name());
    if t.id != 0 {
        o.u64("id", u64::from(t.id));
    }
    o.ip("src_ip", t.outer_src).ip("dest_ip", t.outer_dst);
    o.end();
}

/// The `flow` object (Suricata's fields, then flowscope's) and, for TCP
/// flows, the `tcp` one.
fn write_flow(o: &mut JsonObject<'_>, reason: EndReason, s: &FlowStats, tcp: bool) {
    o.begin("flow");
    o.u64("pkts_toserver", s.initiator.packets);
    o.u64("pkts_toclient", s.responder.packets);
    o.u64("bytes_toserver", s.initiator.bytes);
    o.u64("bytes_toclient", s.responder.bytes);
    o.u64("payload_bytes_toserver", s.initiator.payload_bytes);
    o.u64("payload_bytes_toclient", s.responder.payload_bytes);
    o.u64("ip_bytes_toserver", s.initiator.ip_bytes);
    o.u64("ip_bytes_toclient", s.responder.ip_bytes);
    o.ts("start", s.started).ts("end", s.last_seen);
    o.u64("age", s.last_seen.secs().saturating_sub(s.started.secs()));
    o.str("state", s.state.as_str())
        .str("reason", suricata::flow_reason(reason))
        .bool("alerted", false);
    o.str("end_reason", reason.as_str());
    o.str("conn_state", s.conn_state.as_str());
    // At most 25 ASCII letters: no allocation per record.
    let mut history = [0u8; 32];
    let mut n = 0;
    for (slot, c) in history.iter_mut().zip(s.history.chars()) {
        *slot = c as u8;
        n += 1;
    }
    o.bytes("history", &history[..n]);
    o.end();
    let (ts_flags, tc_flags) = (s.initiator.tcp_flags, s.responder.tcp_flags);
    if tcp || ts_flags | tc_flags != 0 {
        let all = ts_flags | tc_flags;
        o.begin("tcp");
        o.hex_u8("tcp_flags", all);
        o.hex_u8("tcp_flags_ts", ts_flags);
        o.hex_u8("tcp_flags_tc", tc_flags);
        for (bit, name) in [
            (0x01, "fin"),
            (0x02, "syn"),
            (0x04, "rst"),
            (0x08, "psh"),
            (0x10, "ack"),
            (0x20, "urg"),
            (0x40, "ecn"),
            (0x80, "cwr"),
        ] {
            if all & bit != 0 {
                o.bool(name, true);
            }
        }
        if tcp && let Some(state) = suricata::tcp_state(s) {
            o.str("state", state);
        }
        o.end();
    }
}

/// Suricata's name for a side's direction.
pub fn direction_name(side: FlowSide) -> &'static str {
    match side {
        FlowSide::Initiator => "toserver",
        FlowSide::Responder => "toclient",
    }
}

fn write_anomaly(o: &mut JsonObject<'_>, kind: &AnomalyKind) {
    let (kind_type, event) = kind.names();
    o.begin("anomaly");
    if let AnomalyKind::AppLayer(e) = kind {
        // Suricata's layout for a parser's events.
        o.str("app_proto", e.proto);
    }
    o.str("type", kind_type)
        .str("event", suricata::anomaly_event(kind_type, event));
    match kind {
        AnomalyKind::UnsupportedLinkType(lt) => {
            o.u64("linktype", u64::from(lt.0));
        }
        AnomalyKind::Defrag {
            src,
            dst,
            fragments,
            bytes,
            ..
        } => {
            o.ip("src_ip", *src).ip("dest_ip", *dst);
            o.u64("fragments", u64::from(*fragments))
                .u64("bytes", u64::from(*bytes));
        }
        AnomalyKind::TunnelInnerInvalid(e) => {
            o.str("inner_error", e.name());
        }
        AnomalyKind::FlowTableEvictionPressure { evicted } => {
            o.u64("evicted", *evicted);
        }
        AnomalyKind::ReassemblyCap { side, .. } | AnomalyKind::InconsistentOverlap { side } => {
            o.str("direction", direction_name(*side));
        }
        AnomalyKind::ParserPoisoned { reason } => {
            o.str("reason", reason);
        }
        AnomalyKind::AppLayer(_) => {
            o.str("layer", "proto_parser");
        }
        _ => {}
    }
    o.end();
}
