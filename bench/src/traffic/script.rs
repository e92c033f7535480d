//! Flow plans and their packet scripts: who talks to whom, when, over what
//! (IPv4/IPv6, VLAN, VXLAN, GTP-U), and the packets of the conversation —
//! TCP handshake, segments of at most the MSS with delayed ACKs, replies an
//! RTT later, FIN or RST — as compact [`Spec`]s whose bytes are rendered
//! later. Loss, reordering and retransmission are applied per packet.

use super::content::{Sizes, message};
use super::rng::Rng;

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

    fn tcp(self) -> bool {
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

/// One packet to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Spec {
    /// Capture time, ns (first: the output is sorted on it).
    pub ts: u64,
    pub flow: u64,
    /// Packet number within the flow (ties, and retransmitted copies).
    pub n: u32,
    pub msg: u32,
    pub off: u32,
    pub len: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    /// 0: client → server.
    pub dir: u8,
}

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// What a flow's script amounts to, for the generator's manifest.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub packets: u64,
    pub http_requests: u64,
    pub dns_queries: u64,
    pub tls_handshakes: u64,
    pub lost: u64,
    pub retransmitted: u64,
    pub reordered: u64,
}

struct Script<'a> {
    p: &'a Params,
    plan: &'a FlowPlan,
    out: Vec<Spec>,
    t: u64,
    /// Next sequence number per direction.
    seq: [u32; 2],
    n: u32,
}

impl Script<'_> {
    fn push(&mut self, ts: u64, dir: u8, flags: u8, msg: u32, off: u32, len: u16) {
        let other = 1 - dir as usize;
        let ack = if flags & ACK != 0 { self.seq[other] } else { 0 };
        self.out.push(Spec {
            ts,
            flow: self.plan.index,
            n: self.n,
            msg,
            off,
            len,
            seq: self.seq[dir as usize],
            ack,
            flags,
            dir,
        });
        self.n += 1;
    }

    fn wire_ns(&self, bytes: u64) -> u64 {
        ((bytes + 60) as f64 / self.plan.bytes_per_ns.max(1e-9)) as u64 + 1
    }

    fn handshake(&mut self) {
        let mut r = Rng::new(self.plan.seed, 60, 0);
        self.seq = [r.u32(), r.u32()];
        self.push(self.t, 0, SYN, 0, 0, 0);
        self.seq[0] = self.seq[0].wrapping_add(1);
        self.t += self.plan.rtt;
        self.push(self.t, 1, SYN | ACK, 0, 0, 0);
        self.seq[1] = self.seq[1].wrapping_add(1);
        self.t += 20_000;
        self.push(self.t, 0, ACK, 0, 0, 0);
    }

    /// Sends message `m` from `dir` in segments; the receiver ACKs every
    /// second segment and the last.
    fn send(&mut self, dir: u8, m: u32) {
        let len = message(self.plan, m, &self.p.sizes).len();
        let mss = u64::from(self.p.mss.max(64));
        let (mut off, mut unacked) = (0u64, 0);
        while off < len {
            let mut seg = mss.min(len - off);
            // No runt tail: the last segment carries at least 16 bytes (a
            // split inside a chunked body's final CRLF trips tshark).
            let rest = len - off - seg;
            if rest > 0 && rest < 16 && seg > 16 {
                seg -= 16;
            }
            self.t += self.wire_ns(seg);
            let last = off + seg == len;
            let flags = ACK | if last { PSH } else { 0 };
            self.push(self.t, dir, flags, m, off as u32, seg as u16);
            self.seq[dir as usize] = self.seq[dir as usize].wrapping_add(seg as u32);
            off += seg;
            unacked += 1;
            if unacked == 2 {
                self.push(self.t + 15_000, 1 - dir, ACK, 0, 0, 0);
                unacked = 0;
            }
        }
        if unacked > 0 {
            self.push(
                self.t + 40_000.min(self.plan.rtt / 2 + 1),
                1 - dir,
                ACK,
                0,
                0,
                0,
            );
        }
    }

    /// The other side answers one RTT (and some thinking) later.
    fn turn(&mut self) {
        let think = Rng::new(self.plan.seed, 61, u64::from(self.n)).log_uniform(20e3, 5e6) as u64;
        self.t += self.plan.rtt + think;
    }

    fn close(&mut self) {
        self.t += self.plan.stretch;
        if self.plan.rst {
            self.push(self.t, 0, RST | ACK, 0, 0, 0);
            return;
        }
        self.push(self.t, 0, FIN | ACK, 0, 0, 0);
        self.seq[0] = self.seq[0].wrapping_add(1);
        self.t += self.plan.rtt;
        self.push(self.t, 1, FIN | ACK, 0, 0, 0);
        self.seq[1] = self.seq[1].wrapping_add(1);
        self.t += 20_000;
        self.push(self.t, 0, ACK, 0, 0, 0);
    }

    fn datagram(&mut self, dir: u8, m: u32) {
        let len = message(self.plan, m, &self.p.sizes).len().min(65_000);
        self.push(self.t, dir, 0, m, 0, len as u16);
    }
}

/// The flow's packets (unsorted) and what they amount to.
pub fn script(p: &Params, plan: &FlowPlan) -> (Vec<Spec>, Counts) {
    let mut s = Script {
        p,
        plan,
        out: Vec::new(),
        t: plan.start,
        seq: [0, 0],
        n: 0,
    };
    let mut c = Counts::default();
    let ex = plan.exchanges;
    match plan.kind {
        Kind::Http => {
            s.handshake();
            if plan.pipelined {
                for j in 0..ex {
                    s.send(0, 2 * j);
                }
                s.turn();
                for j in 0..ex {
                    s.send(1, 2 * j + 1);
                }
            } else {
                for j in 0..ex {
                    s.send(0, 2 * j);
                    s.turn();
                    s.send(1, 2 * j + 1);
                    s.turn();
                }
            }
            c.http_requests = u64::from(ex);
            s.close();
        }
        Kind::Tls => {
            s.handshake();
            s.send(0, 0);
            s.turn();
            s.send(1, 1);
            s.turn();
            s.send(0, 2);
            let first_app = if plan.tls13 {
                3
            } else {
                s.turn();
                s.send(1, 3);
                4
            };
            for k in 0..ex {
                s.turn();
                s.send(0, first_app + 2 * k);
                s.turn();
                s.send(1, first_app + 2 * k + 1);
            }
            c.tls_handshakes = 1;
            s.close();
        }
        Kind::DnsTcp => {
            s.handshake();
            for j in 0..ex {
                s.send(0, 2 * j);
                s.turn();
                s.send(1, 2 * j + 1);
                s.turn();
            }
            c.dns_queries = u64::from(ex);
            s.close();
        }
        Kind::Bulk => {
            s.handshake();
            s.send(0, 0);
            if !plan.upload {
                s.turn();
                s.send(1, 1);
            }
            s.close();
        }
        Kind::DnsUdp => {
            let gap = plan.stretch / u64::from(ex);
            for j in 0..ex {
                s.datagram(0, 2 * j);
                s.t += plan.rtt;
                s.datagram(1, 2 * j + 1);
                s.t += gap + 1_000_000;
            }
            c.dns_queries = u64::from(ex);
        }
        Kind::Udp => {
            let gap = plan.stretch / u64::from(ex);
            for j in 0..ex {
                let mut r = Rng::new(plan.seed, 62, u64::from(j));
                let dir = u8::from(j > 0 && r.chance(0.4));
                s.datagram(dir, j);
                s.t += gap + r.log_uniform(10e3, 50e6) as u64;
            }
        }
        Kind::SynFlood => {
            let mut r = Rng::new(plan.seed, 60, 0);
            s.seq = [r.u32(), 0];
            s.push(s.t, 0, SYN, 0, 0, 0);
        }
    }
    let mut out = s.out;
    // Capture impairments, decided per packet.
    if p.loss > 0.0 || p.reorder > 0.0 || p.retrans > 0.0 {
        let mut kept = Vec::with_capacity(out.len());
        for sp in out.drain(..) {
            let mut r = Rng::new(plan.seed, 70, u64::from(sp.n));
            if r.chance(p.loss) {
                c.lost += 1;
                continue;
            }
            let mut sp = sp;
            if r.chance(p.reorder) {
                sp.ts += (plan.rtt / 2).min(1_000_000) + 1;
                c.reordered += 1;
            }
            if plan.kind.tcp() && sp.len > 0 && r.chance(p.retrans) {
                let mut again = sp;
                again.ts += (2 * plan.rtt).max(1_000_000);
                again.n |= 1 << 31;
                kept.push(again);
                c.retransmitted += 1;
            }
            kept.push(sp);
        }
        out = kept;
    }
    c.packets = out.len() as u64;
    (out, c)
}
