//! Every engine knob, with the defaults a capture analyst expects.
//!
//! The structs deserialize from the `[decode]`, `[tunnel]`, `[flow]`,
//! `[defrag]` and `[reassembly]` tables of a flowscope TOML config; unknown keys are errors so a
//! typo never silently falls back to a default. `configs/default.toml`
//! documents each field.

use serde::Deserialize;

/// The whole engine configuration.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Packet decoding.
    pub decode: DecodeConfig,
    /// Tunnel decapsulation.
    pub tunnel: TunnelConfig,
    /// Flow keying, timeouts and capacity.
    pub flow: FlowConfig,
    /// IPv4/IPv6 fragment reassembly.
    pub defrag: DefragConfig,
    /// TCP stream reassembly and parser selection (used when the engine
    /// runs [`Sessions`](crate::Sessions)).
    pub reassembly: crate::reassembly::ReassemblyConfig,
}

/// Packet decoding options.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeConfig {
    /// Verify IPv4 header checksums. A bad checksum is counted, never
    /// dropped: offloaded sends are captured with unfilled checksums.
    pub verify_ipv4_checksum: bool,
    /// Most IPv6 extension headers followed before the packet is malformed.
    pub max_ipv6_extension_headers: usize,
    /// Most MPLS labels followed.
    pub max_mpls_labels: usize,
    /// Emit an anomaly event for every malformed packet (they are always
    /// counted).
    pub anomaly_events: bool,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        DecodeConfig {
            verify_ipv4_checksum: true,
            max_ipv6_extension_headers: 8,
            max_mpls_labels: 8,
            anomaly_events: true,
        }
    }
}

/// Tunnel decapsulation options.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TunnelConfig {
    /// Decode tunnels and track the inner flows. When off, tunnels are
    /// ordinary outer flows.
    pub decapsulate: bool,
    /// Most nested tunnels followed; deeper packets are tracked at the last
    /// level reached and counted.
    pub max_depth: u8,
    /// UDP ports (either side, as Suricata matches them) carrying VXLAN.
    pub vxlan_ports: Vec<u16>,
    /// UDP ports (either side) carrying Geneve.
    pub geneve_ports: Vec<u16>,
    /// UDP ports (either side) carrying GTP-U.
    pub gtpu_ports: Vec<u16>,
    /// UDP ports (either side) checked for Teredo: only a payload that
    /// validates as Teredo is opened.
    pub teredo_ports: Vec<u16>,
    /// UDP ports (either side) carrying L2TPv2.
    pub l2tp_ports: Vec<u16>,
}

impl Default for TunnelConfig {
    fn default() -> Self {
        TunnelConfig {
            decapsulate: true,
            max_depth: 4,
            vxlan_ports: vec![4789],
            geneve_ports: vec![6081],
            gtpu_ports: vec![2152],
            teredo_ports: vec![3544],
            l2tp_ports: vec![1701],
        }
    }
}

/// Which flow key the engine tracks.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// Bidirectional 5-tuple (the default).
    #[default]
    FiveTuple,
    /// One flow per direction of a 5-tuple.
    DirectionalFiveTuple,
    /// Bidirectional IP address pair.
    IpPair,
    /// Bidirectional MAC address pair (works for non-IP traffic too).
    MacPair,
}

/// Runs `$body` with `$x` bound to the built-in extractor a [`KeyKind`]
/// names, built with `$opts` ([`crate::KeyOptions`]). Each arm is its own
/// monomorphised copy of `$body`, so generic code downstream stays static:
///
/// ```
/// use flowscope_engine::{EngineConfig, FlowExtractor, KeyOptions, with_extractor};
/// fn name<E: FlowExtractor>(_: &E) -> &'static str { std::any::type_name::<E>() }
/// let cfg = EngineConfig::default();
/// let n = with_extractor!(cfg.flow.key, KeyOptions::from_config(&cfg), |x| name(&x));
/// assert!(n.ends_with("FiveTuple"));
/// ```
#[macro_export]
macro_rules! with_extractor {
    ($kind:expr, $opts:expr, |$x:ident| $body:expr) => {
        match $kind {
            $crate::KeyKind::FiveTuple => {
                let $x = $crate::FiveTuple::new($opts);
                $body
            }
            $crate::KeyKind::DirectionalFiveTuple => {
                let $x = $crate::DirectionalFiveTuple::new($opts);
                $body
            }
            $crate::KeyKind::IpPair => {
                let $x = $crate::IpPair::new($opts);
                $body
            }
            $crate::KeyKind::MacPair => {
                let $x = $crate::MacPair::new($opts);
                $body
            }
        }
    };
}

/// A timeout override for one port.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PortTimeout {
    /// `"tcp"`, `"udp"` or `"sctp"`.
    pub proto: PortProto,
    /// Server port the override applies to (either endpoint matches).
    pub port: u16,
    /// Idle timeout in seconds.
    pub timeout: u32,
}

/// Transport protocols with ports.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PortProto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

/// Flow tracking options.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FlowConfig {
    /// The flow key.
    pub key: KeyKind,
    /// Put VLAN ids in the key (like Suricata's `vlan.use-for-tracking`).
    pub vlan_in_key: bool,
    /// Put the tunnel type and id (VNI, GRE key, ERSPAN session) in the
    /// key. Ids chosen per direction (GTP-U TEID, PPTP call id, L2TP ids)
    /// contribute only the tunnel type, or a conversation's two directions
    /// would become two flows.
    pub tunnel_in_key: bool,
    /// Seed of the flow hash. The default is fixed so runs are reproducible;
    /// set a secret value against hash-flooding on untrusted live traffic.
    pub hash_seed: u64,
    /// Most flows held at once by the whole process: a pipeline of N
    /// shards gives each shard its [`Share`] of it. When a shard's share is
    /// full, its least recently active flow is evicted and the shard enters
    /// emergency mode (see `emergency_recovery`).
    pub max_flows: usize,
    /// Idle timeout for TCP flows, seconds.
    pub tcp_timeout: u32,
    /// Idle timeout for UDP flows, seconds.
    pub udp_timeout: u32,
    /// Idle timeout for every other protocol, seconds.
    pub other_timeout: u32,
    /// Per-port idle timeout overrides.
    pub port_timeouts: Vec<PortTimeout>,
    /// After a TCP flow ends by FIN or RST its key is remembered this many
    /// seconds so trailing ACKs and retransmissions do not start ghost flows.
    pub tcp_closed_linger: u32,
    /// Active timeout in seconds: a flow alive this long is reported and
    /// restarted (its state kept, its counters reset). 0 disables it.
    pub active_timeout: u32,
    /// Ports treated as server ports when deciding who initiated a flow
    /// picked up mid-stream, in addition to every port below 1024.
    pub server_ports: Vec<u16>,
    /// Emit a `Started` event at each flow's first packet (on by default,
    /// as flowscope 0.3's session drivers do: it becomes
    /// [`SessionEvent::Started`](crate::SessionEvent::Started)).
    pub started_events: bool,
    /// Emit `Established` and `StateChange` events (the `Ended` and
    /// `Anomaly` events are always emitted).
    pub lifecycle_events: bool,
    /// Emergency mode (entered when the flow table is full, as Suricata's):
    /// idle timeout, seconds, of flows never answered (a SYN flood's) and of
    /// closed ones, when shorter than their usual timeout.
    pub emergency_new_timeout: u32,
    /// Emergency mode: idle timeout, seconds, of every other flow, when
    /// shorter than its usual timeout.
    pub emergency_established_timeout: u32,
    /// Emergency mode ends once the table has this percentage of its
    /// capacity free again.
    pub emergency_recovery: u8,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            key: KeyKind::FiveTuple,
            vlan_in_key: true,
            tunnel_in_key: true,
            hash_seed: 0x666c_6f77_7363_6f70, // "flowscop"
            max_flows: 1_000_000,
            tcp_timeout: 300,
            udp_timeout: 60,
            other_timeout: 30,
            // IKE (ISAKMP, and its NAT traversal port): an IKE SA's
            // exchanges (rekeys, liveness checks) come minutes apart, and
            // the algorithms its records report are chosen at its start; a
            // UDP flow's 60 s would split it and lose them. 300 s is
            // Suricata's timeout of a UDP flow with replies.
            port_timeouts: vec![
                PortTimeout {
                    proto: PortProto::Udp,
                    port: 500,
                    timeout: 300,
                },
                PortTimeout {
                    proto: PortProto::Udp,
                    port: 4500,
                    timeout: 300,
                },
            ],
            tcp_closed_linger: 60,
            active_timeout: 0,
            server_ports: vec![
                1080, 1433, 1521, 1883, 2049, 3128, 3306, 3389, 5060, 5061, 5222, 5432, 5672, 5900,
                6379, 6443, 8000, 8008, 8080, 8081, 8443, 8883, 8888, 9000, 9090, 9092, 9200,
                11211, 27017,
            ],
            started_events: true,
            lifecycle_events: false,
            emergency_new_timeout: 10,
            emergency_established_timeout: 100,
            emergency_recovery: 30,
        }
    }
}

/// Fragment reassembly options.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DefragConfig {
    /// Reassemble fragmented datagrams (when off, fragments are counted and
    /// skipped).
    pub enabled: bool,
    /// Most datagrams being reassembled at once.
    pub max_datagrams: usize,
    /// Most fragment bytes buffered at once.
    pub max_bytes: usize,
    /// Most fragments accepted for one datagram.
    pub max_fragments_per_datagram: usize,
    /// Seconds (packet time) a datagram may take to complete.
    pub timeout: u32,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig {
            enabled: true,
            max_datagrams: 8192,
            max_bytes: 32 << 20,
            max_fragments_per_datagram: 256,
            timeout: 30,
        }
    }
}

/// One engine's part of process-wide budgets: engine `index` of `count`
/// (a pipeline's shard). Every budget is split the same way —
/// `total / count` each, the remainder one apiece to the first engines —
/// so the whole process holds what the configuration says whatever the
/// shard count, and a run is reproducible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    /// This engine's index, `0..count`.
    pub index: usize,
    /// How many engines share the budgets.
    pub count: usize,
}

impl Share {
    /// The whole budget (a lone engine).
    pub const WHOLE: Share = Share { index: 0, count: 1 };

    /// This engine's part of `total`, at least 1.
    pub fn of(self, total: usize) -> usize {
        let count = self.count.max(1);
        let extra = usize::from(self.index < total % count);
        (total / count + extra).max(1)
    }
}

impl EngineConfig {
    /// The configuration of engine `share`: the process-wide budgets
    /// (`flow.max_flows`, `reassembly.memcap`) cut to its part, everything
    /// else unchanged. (Fragment reassembly's bounds are not cut: a
    /// pipeline reassembles ahead of its engines, in one place.)
    pub fn share(&self, share: Share) -> EngineConfig {
        let mut c = self.clone();
        c.flow.max_flows = share.of(self.flow.max_flows);
        c.reassembly.memcap = share.of(self.reassembly.memcap);
        c
    }
}

/// A configuration value that cannot work.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

/// Longest idle, active or linger timeout, seconds: all of `u32` (136
/// years, in effect never, as tools that never time a flow out compare).
pub(crate) const MAX_TIMEOUT_SECS: u32 = u32::MAX;

/// Longest port list (every port once).
pub(crate) const MAX_PORTS: usize = 65_536;

/// `Ok` when `lo <= value <= hi`, else an error naming `key`, the range
/// and the value (`unit` follows the numbers, e.g. " seconds").
pub(crate) fn check_range<T: PartialOrd + std::fmt::Display>(
    key: &str,
    value: T,
    lo: T,
    hi: T,
    unit: &str,
) -> Result<(), ConfigError> {
    if lo <= value && value <= hi {
        Ok(())
    } else {
        Err(ConfigError(format!(
            "{key} must be between {lo} and {hi}{unit} (it is {value})"
        )))
    }
}

/// `Ok` when the port list `key` holds at most [`MAX_PORTS`] entries.
pub(crate) fn check_ports(key: &str, ports: &[u16]) -> Result<(), ConfigError> {
    if ports.len() <= MAX_PORTS {
        Ok(())
    } else {
        Err(ConfigError(format!(
            "{key} must hold between 0 and {MAX_PORTS} ports (it holds {})",
            ports.len()
        )))
    }
}

impl EngineConfig {
    /// Checks values that deserialize fine but cannot work; the error names
    /// the key and the range it must be in.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let d = &self.decode;
        check_range(
            "decode.max_ipv6_extension_headers",
            d.max_ipv6_extension_headers,
            0,
            64,
            "",
        )?;
        check_range("decode.max_mpls_labels", d.max_mpls_labels, 0, 64, "")?;
        let t = &self.tunnel;
        check_range("tunnel.max_depth", t.max_depth, 0, 16, "")?;
        for (key, ports) in [
            ("tunnel.vxlan_ports", &t.vxlan_ports),
            ("tunnel.geneve_ports", &t.geneve_ports),
            ("tunnel.gtpu_ports", &t.gtpu_ports),
            ("tunnel.teredo_ports", &t.teredo_ports),
            ("tunnel.l2tp_ports", &t.l2tp_ports),
            ("flow.server_ports", &self.flow.server_ports),
        ] {
            check_ports(key, ports)?;
        }
        let f = &self.flow;
        check_range("flow.max_flows", f.max_flows, 1, u32::MAX as usize / 2, "")?;
        for (key, value, lo) in [
            ("flow.tcp_timeout", f.tcp_timeout, 1),
            ("flow.udp_timeout", f.udp_timeout, 1),
            ("flow.other_timeout", f.other_timeout, 1),
            ("flow.tcp_closed_linger", f.tcp_closed_linger, 0),
            ("flow.active_timeout", f.active_timeout, 0),
            ("flow.emergency_new_timeout", f.emergency_new_timeout, 1),
            (
                "flow.emergency_established_timeout",
                f.emergency_established_timeout,
                1,
            ),
        ] {
            check_range(key, value, lo, MAX_TIMEOUT_SECS, " seconds")?;
        }
        for p in &f.port_timeouts {
            check_range(
                "flow.port_timeouts timeout",
                p.timeout,
                1,
                MAX_TIMEOUT_SECS,
                " seconds",
            )?;
        }
        check_range(
            "flow.emergency_recovery",
            f.emergency_recovery,
            1,
            99,
            " percent",
        )?;
        let entries = f.port_timeouts.len();
        check_range("flow.port_timeouts", entries, 0, 64, " entries")?;
        let g = &self.defrag;
        check_range("defrag.max_datagrams", g.max_datagrams, 1, 1 << 20, "")?;
        check_range("defrag.max_bytes", g.max_bytes as u64, 1, 1 << 32, " bytes")?;
        let frags = g.max_fragments_per_datagram;
        check_range("defrag.max_fragments_per_datagram", frags, 1, 8192, "")?;
        check_range("defrag.timeout", g.timeout, 1, 3600, " seconds")?;
        let r = &self.reassembly;
        check_range(
            "reassembly.max_ooo_bytes",
            r.max_ooo_bytes as u64,
            1,
            1 << 30,
            " bytes",
        )?;
        check_range(
            "reassembly.max_ooo_segments",
            r.max_ooo_segments,
            1,
            1 << 20,
            "",
        )?;
        check_range("reassembly.memcap", r.memcap as u64, 1, 1 << 40, " bytes")?;
        check_range(
            "reassembly.probe_bytes",
            r.probe_bytes,
            1,
            1 << 20,
            " bytes",
        )?;
        check_range("reassembly.probe_datagrams", r.probe_datagrams, 1, 1024, "")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        assert_eq!(EngineConfig::default().validate(), Ok(()));
    }

    #[test]
    fn shares_add_up_to_the_budget() {
        for total in [1usize, 7, 1_000_000, 256 << 20] {
            for count in 1..=17 {
                let parts: Vec<usize> = (0..count)
                    .map(|index| Share { index, count }.of(total))
                    .collect();
                let sum: usize = parts.iter().sum();
                if total >= count {
                    assert_eq!(sum, total, "{total} over {count}");
                } else {
                    assert!(parts.iter().all(|&p| p == 1), "every share holds one");
                }
                let (lo, hi) = (parts.iter().min().unwrap(), parts.iter().max().unwrap());
                assert!(hi - lo <= 1, "{parts:?}");
            }
        }
        let c = EngineConfig::default();
        let half = c.share(Share { index: 1, count: 2 });
        assert_eq!(half.flow.max_flows, 500_000);
        assert_eq!(half.reassembly.memcap, 128 << 20);
        assert_eq!(half.defrag, c.defrag, "reassembled in one place");
        assert_eq!(half.flow.tcp_timeout, c.flow.tcp_timeout);
        assert_eq!(c.share(Share::WHOLE), c);
    }

    #[test]
    fn bad_values_are_refused() {
        let mut c = EngineConfig::default();
        c.flow.max_flows = 0;
        assert!(c.validate().is_err());
        let mut c = EngineConfig::default();
        c.flow.udp_timeout = 0;
        assert!(c.validate().unwrap_err().0.contains("udp_timeout"));
        let mut c = EngineConfig::default();
        c.tunnel.max_depth = 40;
        assert!(c.validate().is_err());
        let mut c = EngineConfig::default();
        c.reassembly.probe_bytes = usize::MAX;
        let e = c.validate().unwrap_err().0;
        assert!(
            e.starts_with("reassembly.probe_bytes must be between 1 and 1048576"),
            "{e}"
        );
        let mut c = EngineConfig::default();
        c.flow.server_ports = vec![1; MAX_PORTS + 1];
        let e = c.validate().unwrap_err().0;
        assert!(
            e.contains("flow.server_ports must hold between 0 and 65536"),
            "{e}"
        );
        let mut c = EngineConfig::default();
        c.flow.udp_timeout = u32::MAX;
        assert_eq!(c.validate(), Ok(()), "the largest timeout is allowed");
    }
}
