//! Flow plans: what the generator draws for each flow — its kind (HTTP,
//! TLS, DNS, bulk, UDP, SYN flood), addresses and ports, encapsulation
//! (IPv4/IPv6, VLAN, VXLAN, GTP-U), timing and message counts — and the
//! generator's parameters they are drawn from. Plans are pure data that the
//! content and script stages read.

use super::rng::Rng;

/// Largest HTTP object or bulk transfer (the heavy tail's cap), bytes.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub max_object: f64,
    pub max_bulk: f64,
}

/// What a flow carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Http,
    Tls,
    DnsUdp,
    DnsTcp,
    Bulk,
    Udp,
    SynFlood,
}

impl Kind {
    pub const MIXABLE: [Kind; 6] = [
        Kind::Http,
        Kind::Tls,
        Kind::DnsUdp,
        Kind::DnsTcp,
        Kind::Bulk,
        Kind::Udp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::Tls => "tls",
            Kind::DnsUdp => "dns",
            Kind::DnsTcp => "dns-tcp",
            Kind::Bulk => "bulk",
            Kind::Udp => "udp",
            Kind::SynFlood => "syn-flood",
        }
    }

    pub(super) fn tcp(self) -> bool {
        matches!(
            self,
            Kind::Http | Kind::Tls | Kind::DnsTcp | Kind::Bulk | Kind::SynFlood
        )
    }
}

/// How a flow's packets are wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encap {
    None,
    Vlan(u16),
    Vxlan(u32),
    Gtpu(u32),
}

/// Everything the generator draws for one flow.
#[derive(Debug, Clone)]
pub struct FlowPlan {
    pub index: u64,
    pub kind: Kind,
    pub v6: bool,
    pub encap: Encap,
    /// Addresses (IPv4 in the first four bytes).
    pub client: [u8; 16],
    pub server: [u8; 16],
    pub sport: u16,
    pub dport: u16,
    pub start: u64,
    pub rtt: u64,
    /// Bytes per nanosecond the sender manages.
    pub bytes_per_ns: f64,
    pub seed: u64,
    /// Requests (HTTP), application exchanges (TLS), queries (DNS),
    /// datagrams (UDP).
    pub exchanges: u32,
    pub tls13: bool,
    pub pipelined: bool,
    pub rst: bool,
    pub upload: bool,
    /// Idle time added before the flow's end (--concurrent).
    pub stretch: u64,
}

/// Generator parameters.
#[derive(Debug, Clone)]
pub struct Params {
    pub seed: u64,
    pub flows: u64,
    pub syn_flood: u64,
    /// New flows per second.
    pub flow_rate: f64,
    pub concurrent: Option<u64>,
    /// Relative weights of [`Kind::MIXABLE`].
    pub mix: [f64; 6],
    pub ipv6: f64,
    pub vlan: f64,
    pub vxlan: f64,
    pub gtpu: f64,
    pub loss: f64,
    pub reorder: f64,
    pub retrans: f64,
    pub mss: u16,
    pub sizes: Sizes,
    /// Capture time of the first flow, ns since the epoch.
    pub start_ns: u64,
}

impl Params {
    /// The command line's defaults for `flows` flows (seed 1, no
    /// impairments, 1 MB caps to keep in-memory traces small).
    pub fn with_defaults(flows: u64) -> Params {
        Params {
            seed: 1,
            flows,
            syn_flood: 0,
            flow_rate: 20_000.0,
            concurrent: None,
            mix: [30.0, 30.0, 15.0, 2.0, 8.0, 15.0],
            ipv6: 0.2,
            vlan: 0.1,
            vxlan: 0.03,
            gtpu: 0.03,
            loss: 0.0,
            reorder: 0.0,
            retrans: 0.0,
            mss: 1460,
            sizes: Sizes {
                max_object: 1e6,
                max_bulk: 1e6,
            },
            start_ns: 1_795_651_200_000_000_000,
        }
    }

    pub fn total(&self) -> u64 {
        self.flows + self.syn_flood
    }

    /// Nanoseconds between flow starts (all kinds).
    pub fn spacing(&self) -> f64 {
        let per_normal = 1e9 / self.flow_rate.max(1e-6);
        if self.flows == 0 {
            per_normal
        } else {
            per_normal * self.flows as f64 / self.total() as f64
        }
    }

    /// Earliest capture time of flow `i`.
    pub fn earliest(&self, i: u64) -> u64 {
        self.start_ns + (i as f64 * self.spacing()) as u64
    }

    /// Whether flow `i` is one of the SYN-flood's (spread evenly).
    fn is_flood(&self, i: u64) -> bool {
        let (f, t) = (u128::from(self.syn_flood), u128::from(self.total()));
        (u128::from(i) + 1) * f / t > u128::from(i) * f / t
    }
}

/// Ephemeral UDP ports that Wireshark dissects by number (filler sent to
/// them would be reported malformed).
const UDP_PORTS_DISSECTED: &[u16] = &[54328];

pub fn plan(p: &Params, i: u64) -> FlowPlan {
    let mut r = Rng::new(p.seed, i, 0);
    let kind = if p.is_flood(i) {
        Kind::SynFlood
    } else {
        let total: f64 = p.mix.iter().sum();
        let mut x = r.f64() * total;
        let mut k = Kind::Udp;
        for (w, kind) in p.mix.iter().zip(Kind::MIXABLE) {
            if x < *w {
                k = kind;
                break;
            }
            x -= w;
        }
        k
    };
    let v6 = r.chance(p.ipv6);
    let roll = r.f64();
    let encap = if roll < p.vlan {
        Encap::Vlan(r.range(2, 4000) as u16)
    } else if roll < p.vlan + p.vxlan {
        Encap::Vxlan(r.range(1, 0xff_ffff) as u32)
    } else if roll < p.vlan + p.vxlan + p.gtpu {
        Encap::Gtpu(r.u32() | 1)
    } else {
        Encap::None
    };
    let mut client = [0u8; 16];
    let mut server = [0u8; 16];
    let server_no = r.pareto(1.0, 1.0, 4095.0) as u16;
    if kind == Kind::SynFlood {
        let c = r.u32();
        client[..4].copy_from_slice(&[100, 64 | (c >> 24) as u8 & 0x3f, (c >> 16) as u8, c as u8]);
        server[..4].copy_from_slice(&[172, 16, 0, 10]);
    } else if v6 {
        client[..2].copy_from_slice(&[0xfd, 0x00]);
        client[8..].copy_from_slice(&r.u64().to_be_bytes());
        server[..4].copy_from_slice(&[0xfd, 0x00, 0x00, 0x05]);
        server[14..].copy_from_slice(&server_no.to_be_bytes());
    } else {
        let c = r.u32();
        client[..4].copy_from_slice(&[10, (c >> 16) as u8, (c >> 8) as u8, c as u8 | 1]);
        server[..4].copy_from_slice(&[172, 16 + (server_no >> 8) as u8, server_no as u8, 1]);
    }
    let dport = match kind {
        Kind::Http => {
            if r.chance(0.1) {
                8080
            } else {
                80
            }
        }
        Kind::Tls => 443,
        Kind::DnsUdp | Kind::DnsTcp => 53,
        Kind::Bulk => *r.pick(&[5001, 445, 873]),
        // Ephemeral ports on both ends (peer-to-peer-like): few dissectors
        // claim them, so filler payloads are not misread.
        Kind::Udp => loop {
            let port = r.range(49_152, 65_535) as u16;
            if !UDP_PORTS_DISSECTED.contains(&port) {
                break port;
            }
        },
        Kind::SynFlood => 80,
    };
    let sport = loop {
        let port = r.range(49_152, 65_535) as u16;
        if !UDP_PORTS_DISSECTED.contains(&port) {
            break port;
        }
    };
    let spacing = p.spacing();
    let start = p.earliest(i) + (r.f64() * spacing) as u64;
    let exchanges = match kind {
        Kind::Http => 1 + r.geometric(1.5, 30) as u32,
        Kind::Tls => 1 + r.geometric(2.0, 30) as u32,
        Kind::DnsUdp => 1 + u32::from(r.chance(0.3)),
        Kind::DnsTcp => 1 + r.geometric(0.5, 5) as u32,
        Kind::Udp => 1 + r.geometric(4.0, 60) as u32,
        Kind::Bulk | Kind::SynFlood => 1,
    };
    let stretch = match p.concurrent {
        Some(c) if kind != Kind::SynFlood => {
            (c as f64 / p.flow_rate.max(1e-6) * 1e9 * (0.8 + 0.4 * r.f64())) as u64
        }
        _ => 0,
    };
    FlowPlan {
        index: i,
        kind,
        v6: v6 && kind != Kind::SynFlood,
        encap,
        client,
        server,
        sport,
        dport,
        start,
        rtt: r.log_uniform(200e3, 150e6) as u64,
        bytes_per_ns: r.log_uniform(10e6, 1e9) / 8.0 / 1e9,
        seed: r.u64(),
        exchanges,
        tls13: r.chance(0.7),
        pipelined: r.chance(0.1),
        rst: r.chance(0.05),
        upload: r.chance(0.5),
        stretch,
    }
}
