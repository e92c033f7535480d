//! Per-flow settings derived once from the configuration: timeout classes
//! (by protocol and port) and the server ports that decide roles
//! mid-stream.

use crate::config::{EngineConfig, PortProto};
use crate::wire::ipproto;

/// Maps a flow's protocol and ports to its timeout class.
#[derive(Debug, Clone)]
pub(super) struct Timeouts {
    pub(super) tcp: u8,
    pub(super) udp: u8,
    pub(super) other: u8,
    pub(super) ports: Vec<(u8, u16, u8)>,
    /// Seconds per class.
    pub(super) seconds: Vec<u32>,
}

impl Timeouts {
    pub(super) fn new(cfg: &EngineConfig) -> Self {
        let mut seconds = vec![cfg.flow.tcp_closed_linger.max(1)];
        let mut class_of = |t: u32| -> u8 {
            match seconds.iter().skip(1).position(|&s| s == t) {
                Some(i) => (i + 1) as u8,
                None => {
                    seconds.push(t);
                    (seconds.len() - 1) as u8
                }
            }
        };
        let tcp = class_of(cfg.flow.tcp_timeout);
        let udp = class_of(cfg.flow.udp_timeout);
        let other = class_of(cfg.flow.other_timeout);
        let ports = cfg
            .flow
            .port_timeouts
            .iter()
            .map(|p| {
                let proto = match p.proto {
                    PortProto::Tcp => ipproto::TCP,
                    PortProto::Udp => ipproto::UDP,
                    PortProto::Sctp => ipproto::SCTP,
                };
                (proto, p.port, class_of(p.timeout))
            })
            .collect();
        Timeouts {
            tcp,
            udp,
            other,
            ports,
            seconds,
        }
    }

    pub(super) fn class_for(&self, proto: u8, sport: u16, dport: u16) -> u8 {
        for &(p, port, class) in &self.ports {
            if p == proto && (port == sport || port == dport) {
                return class;
            }
        }
        match proto {
            ipproto::TCP => self.tcp,
            ipproto::UDP => self.udp,
            _ => self.other,
        }
    }
}

/// Ports treated as server ports when deciding roles mid-stream.
#[derive(Clone)]
pub(super) struct PortSet(Box<[u64; 1024]>);

impl PortSet {
    pub(super) fn new(extra: &[u16]) -> Self {
        let mut bits = Box::new([0u64; 1024]);
        for p in (0u16..1024).chain(extra.iter().copied()) {
            bits[usize::from(p >> 6)] |= 1 << (p & 63);
        }
        PortSet(bits)
    }
    pub(super) fn contains(&self, p: u16) -> bool {
        self.0[usize::from(p >> 6)] & (1 << (p & 63)) != 0
    }
}

impl std::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PortSet")
    }
}
