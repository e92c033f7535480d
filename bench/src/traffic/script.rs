//! Packet scripts of flow plans ([`super::plan`]): the packets of each
//! conversation — TCP handshake, segments of at most the MSS with delayed ACKs, replies an
//! RTT later, FIN or RST — as compact [`Spec`]s whose bytes are rendered
//! later. Loss, reordering and retransmission are applied per packet.

use super::content::message;
use super::plan::{FlowPlan, Kind, Params};
use super::rng::Rng;

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
