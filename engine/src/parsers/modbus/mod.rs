//! Modbus/TCP ([`ModbusParser`]): each side's ADUs framed by their MBAP
//! header, decoded as Suricata 7 decodes them (module `wire`: the same
//! fields and error flags) and paired into Suricata's transactions: a
//! request opens one, the response with the same transaction id, unit id
//! and function (and, for assigned functions, data of a matching kind)
//! closes it; a response nothing asked for is a transaction of its own
//! (`unsolicited_response`). A transaction is reported once it has its
//! response, checked after each batch of bytes; the unanswered ones at the
//! flow's end, as they stand. Suricata's events are raised as anomalies
//! (`invalid_value`, `value_mismatch`...). Caps ([`ModbusConfig`]): at
//! `max_tx` unanswered requests the flow is `flooded` and new
//! transactions are dropped until answers bring it below again (Suricata's
//! `request-flood`); an ADU longer than MBAP allows (254 bytes after the
//! header) is reported by its header and skipped. [`probe`]: a whole first
//! ADU with protocol id 0, a sane length, an assigned function code and
//! nothing odd in it (port 502 is a hint). With
//! [`ModbusParser::timed_by_acks`], each direction is read once the peer
//! acknowledged it, as Suricata in IDS mode reads it, so transactions are
//! numbered and reported in its order.

mod wire;

use super::held::AckTiming;
use super::{L7Message, ModbusConfig};
use crate::AppEvent;
use crate::parsers::anomalies::Anomalies;
use crate::session::{Probe, SessionParser};
use std::collections::VecDeque;
pub use wire::{
    EXCEPTION_BIT, ModbusData, ModbusMessage, access, category, error, known_diagnostic,
    known_exception, known_function, known_mei,
};

/// Anomalies queued per flow before the newest are dropped.
const MAX_QUEUED_EVENTS: usize = 64;
/// Bytes held per direction while waiting for their acknowledgement;
/// beyond, the oldest are read at once.
pub const MAX_UNACKED: usize = 64 * 1024;

/// One transaction: a request and its response (either may be missing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModbusTransaction {
    /// Suricata's `modbus.id` (from 1, per flow).
    pub id: u64,
    /// The client's ADU.
    pub request: Option<ModbusMessage>,
    /// The server's ADU.
    pub response: Option<ModbusMessage>,
}

/// The content probe: the first ADU whole, protocol id 0, a length of 2 to
/// 254, an assigned function code (with the exception bit from the server
/// only), decoded as the side sends it with no error flag, and what
/// follows it the start of another MBAP header.
pub fn probe(bytes: &[u8], side: crate::FlowSide) -> Probe {
    let request = side == crate::FlowSide::Initiator;
    if bytes.get(2..4).is_some_and(|p| p != [0, 0]) {
        return Probe::No;
    }
    let Some(total) = wire::frame_len(bytes) else {
        return Probe::NeedMore;
    };
    let length = total - wire::HEADER;
    if !(usize::from(wire::MIN_LENGTH)..=usize::from(wire::MAX_LENGTH)).contains(&length) {
        return Probe::No;
    }
    if let Some(&f) = bytes.get(wire::HEADER + 1)
        && (known_function(f).is_none() || (request && f >= EXCEPTION_BIT))
    {
        return Probe::No;
    }
    let Some(adu) = bytes.get(..total) else {
        return Probe::NeedMore;
    };
    if wire::parse(adu, request).is_none_or(|m| m.flags != 0) {
        return Probe::No;
    }
    match bytes.get(total + 2..total + 4) {
        Some(p) if p != [0, 0] => Probe::No,
        _ => Probe::Certain,
    }
}

/// The Modbus/TCP session parser. Messages: [`L7Message::Modbus`], one per
/// transaction.
#[derive(Debug, Clone, Default)]
pub struct ModbusParser {
    cfg: ModbusConfig,
    tx_id: u64,
    /// Transactions not reported yet, oldest first.
    txs: VecDeque<ModbusTransaction>,
    /// Each side's bytes of an ADU not whole yet (0: the client).
    pending: [Vec<u8>; 2],
    /// Each side's bytes still to skip of an ADU longer than MBAP allows.
    skip: [usize; 2],
    /// At `max_tx` unanswered: new transactions are dropped.
    flooded: bool,
    /// Reading stopped (a gap).
    stopped: bool,
    /// With the acknowledgement timing: the bytes not acknowledged yet.
    acks: AckTiming,
    events: Anomalies<MAX_QUEUED_EVENTS>,
}

impl ModbusParser {
    /// A parser with these options.
    pub fn new(cfg: &ModbusConfig) -> Self {
        ModbusParser {
            cfg: cfg.clone(),
            ..ModbusParser::default()
        }
    }

    /// Reads each direction once acknowledged, as Suricata does; the
    /// driver then calls [`SessionParser::acked_initiator`] /
    /// `acked_responder`.
    pub fn timed_by_acks(mut self) -> Self {
        self.acks = AckTiming::on();
        self
    }

    /// Direction `k`'s next bytes: read now, or held.
    fn arrived(&mut self, k: usize, b: &[u8]) -> Vec<L7Message> {
        if self.stopped && self.acks.is_on() {
            return Vec::new();
        }
        match self.acks.arrived(k, b, MAX_UNACKED) {
            Some(bytes) => self.feed(k, &bytes),
            None => Vec::new(),
        }
    }

    /// The peer acknowledged direction `k` up to stream offset `offset`.
    fn acked(&mut self, k: usize, offset: u64) -> Vec<L7Message> {
        match self.acks.acked(k, offset) {
            Some(bytes) => self.feed(k, &bytes),
            None => Vec::new(),
        }
    }

    /// Everything held of direction `k`, read.
    fn release(&mut self, k: usize) -> Vec<L7Message> {
        match self.acks.release(k) {
            Some(bytes) => self.feed(k, &bytes),
            None => Vec::new(),
        }
    }

    /// Queues an anomaly of transaction `id` (written with Suricata's
    /// 0-based `tx_id`).
    fn event(&mut self, name: &'static str, id: u64) {
        self.events.push("modbus", name, id.checked_sub(1));
    }

    /// The anomalies a message's error flags raise.
    fn flag_events(&mut self, flags: u8, id: u64) {
        for (bit, name) in [
            (error::FUNC_CODE, "invalid_function_code"),
            (error::DATA_VALUE, "invalid_value"),
            (error::DATA_LENGTH, "invalid_length"),
            (error::EXC_CODE, "invalid_exception_code"),
            (error::PROTO_ID, "invalid_protocol_id"),
        ] {
            if flags & bit != 0 {
                self.event(name, id);
            }
        }
    }

    /// A new transaction's id, unless the flow is flooded (Suricata's
    /// `new_tx`: the one that reaches the cap is still made).
    fn new_tx(&mut self) -> Option<u64> {
        if self.flooded {
            return None;
        }
        self.tx_id += 1;
        if self.txs.len() >= self.cfg.max_tx {
            self.flooded = true;
            self.event("flooded", self.tx_id);
        }
        Some(self.tx_id)
    }

    fn on_request(&mut self, mut msg: ModbusMessage) {
        let found = self.txs.iter_mut().position(|t| match &t.response {
            Some(res) if t.request.is_none() => msg.check_against(res),
            _ => false,
        });
        let flags = msg.flags;
        if let Some(i) = found
            && let Some(t) = self.txs.get_mut(i)
        {
            t.request = Some(msg);
            let id = t.id;
            self.flag_events(flags, id);
            return;
        }
        let Some(id) = self.new_tx() else { return };
        self.flag_events(flags, id);
        self.txs.push_back(ModbusTransaction {
            id,
            request: Some(msg),
            response: None,
        });
    }

    fn on_response(&mut self, mut msg: ModbusMessage) {
        let found = self.txs.iter_mut().position(|t| match &t.request {
            Some(req) if t.response.is_none() => msg.check_against(req),
            _ => false,
        });
        let mismatch = msg.access & (access::READ | access::WRITE) != 0
            && msg.flags & (error::DATA_LENGTH | error::DATA_VALUE) != 0;
        let flags = msg.flags;
        let id = match found.and_then(|i| self.txs.get_mut(i)) {
            Some(t) => {
                t.response = Some(msg);
                t.id
            }
            None => {
                let Some(id) = self.new_tx() else { return };
                self.txs.push_back(ModbusTransaction {
                    id,
                    request: None,
                    response: Some(msg),
                });
                id
            }
        };
        if mismatch {
            self.event("value_mismatch", id);
        } else {
            self.flag_events(flags, id);
        }
        if found.is_none() {
            self.event("unsolicited_response", id);
        }
    }

    /// Reads side `k`'s ADUs from `buf`; returns the bytes used.
    fn run(&mut self, k: usize, buf: &[u8], out: &mut Vec<L7Message>) -> usize {
        let mut at = 0;
        while let Some(rest) = buf.get(at..).filter(|r| !r.is_empty()) {
            if self.skip[k] > 0 {
                let n = rest.len().min(self.skip[k]);
                self.skip[k] -= n;
                at += n;
                continue;
            }
            let Some(total) = wire::frame_len(rest) else {
                break;
            };
            let length = total - wire::HEADER;
            let whole = if (usize::from(wire::MIN_LENGTH)..=usize::from(wire::MAX_LENGTH))
                .contains(&length)
            {
                total
            } else {
                // Reported by its header (`invalid_length`), the rest
                // skipped.
                self.skip[k] = length;
                wire::HEADER
            };
            let Some(adu) = rest.get(..whole) else { break };
            at += whole;
            if let Some(msg) = wire::parse(adu, k == 0) {
                if k == 0 {
                    self.on_request(msg);
                } else {
                    self.on_response(msg);
                }
            }
        }
        self.report(out);
        at
    }

    /// Reports the answered transactions, oldest first.
    fn report(&mut self, out: &mut Vec<L7Message>) {
        let mut i = 0;
        while i < self.txs.len() {
            if self.txs[i].response.is_some() {
                if let Some(t) = self.txs.remove(i) {
                    out.push(L7Message::Modbus(Box::new(t)));
                }
            } else {
                i += 1;
            }
        }
        if self.flooded && self.txs.len() < self.cfg.max_tx {
            self.flooded = false;
        }
    }

    fn feed(&mut self, k: usize, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        if self.stopped {
            return out;
        }
        if self.pending[k].is_empty() {
            let used = self.run(k, bytes, &mut out);
            self.pending[k].extend_from_slice(&bytes[used..]);
        } else {
            let mut buf = std::mem::take(&mut self.pending[k]);
            buf.extend_from_slice(bytes);
            let used = self.run(k, &buf, &mut out);
            buf.drain(..used);
            self.pending[k] = buf;
        }
        out
    }

    /// A gap: what came before is read, then reading stops (ADUs cannot
    /// be framed again with certainty; Suricata's parser takes no gaps).
    fn gap(&mut self, k: usize, len: u64) -> Vec<L7Message> {
        let out = self.release(k);
        self.acks.skip(k, len);
        self.stopped = true;
        self.pending = Default::default();
        out
    }
}

impl SessionParser for ModbusParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.arrived(0, bytes)
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.arrived(1, bytes)
    }

    fn gap_initiator(&mut self, len: u64) -> Vec<L7Message> {
        self.gap(0, len)
    }

    fn gap_responder(&mut self, len: u64) -> Vec<L7Message> {
        self.gap(1, len)
    }

    /// Any end: what is held is read (the client's first), then the
    /// transactions it completed and the unanswered requests as they stand
    /// are reported in id order, as Suricata logs them at the end.
    fn flow_end(&mut self) -> Vec<L7Message> {
        let mut out = self.release(0);
        out.extend(self.release(1));
        out.extend(self.txs.drain(..).map(|t| L7Message::Modbus(Box::new(t))));
        out.sort_by_key(|m| match m {
            L7Message::Modbus(t) => t.id,
            #[allow(unreachable_patterns)]
            _ => 0,
        });
        out
    }

    fn acked_initiator(&mut self, offset: u64) -> Vec<L7Message> {
        self.acked(0, offset)
    }

    fn acked_responder(&mut self, offset: u64) -> Vec<L7Message> {
        self.acked(1, offset)
    }

    fn wants_acks(&self) -> bool {
        self.acks.is_on() && !self.stopped
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }
}

#[cfg(test)]
mod tests;
