//! DNP3 over TCP ([`Dnp3Parser`]), read as Suricata 7 reads it: link
//! frames (module `link`: start bytes, length, every CRC checked), the
//! user data of confirmed and unconfirmed user data frames put back
//! together by their transport headers (FIR, FIN, sequence) into
//! application fragments, and each fragment's application header
//! (control, function code, the IIN on responses) and objects (module
//! `objects`: the object headers and the points of the fixed-size
//! objects). Each fragment is one of Suricata's (one-way) transactions
//! and one message, reported once its FIN segment is read; a request's
//! confirmations (function 0) are not. Suricata's events are raised as
//! anomalies (`BAD_LINK_CRC`, `BAD_TRANSPORT_CRC`, `LEN_TOO_SMALL`,
//! `MALFORMED`, `UNKNOWN_OBJECT`, `FLOODED`); a wrong start or link CRC
//! stops the reading, as it stops Suricata's. Caps ([`Dnp3Config`]):
//! fragments being put together at once (`max_tx`: the oldest is
//! dropped, `FLOODED`), the bytes of one fragment (`max_fragment`:
//! dropped, `FRAGMENT_TOO_LONG`), objects per fragment (`max_objects`)
//! and points per object (`max_points`): decoding stops there, the
//! fragment is not `complete`, `TOO_MANY_OBJECTS` / `TOO_MANY_POINTS`.
//! Bytes held per direction are at most one link frame (292 bytes).
//! [`probe`]: a link header with its start bytes, a sane length and a
//! right CRC, or a server's banner (port 20000 is a hint). With
//! [`Dnp3Parser::timed_by_acks`] each direction is read once
//! acknowledged, as Suricata in IDS mode; the messages a chunk completes
//! come in fragment order, as Suricata logs its transactions.

mod link;
mod objects;

use super::held::AckTiming;
use super::{Dnp3Config, L7Message};
use crate::AppEvent;
use crate::parsers::anomalies::Anomalies;
use crate::session::{Probe, SessionParser};
pub use link::{LinkHeader, crc};
pub use objects::{Field, Layout, Object, Point, Value, layout, suricata_only};
use std::collections::VecDeque;

/// Anomalies queued per flow before the newest are dropped.
const MAX_QUEUED_EVENTS: usize = 64;
/// Bytes held per direction while waiting for their acknowledgement;
/// beyond, the oldest are read at once.
pub const MAX_UNACKED: usize = 64 * 1024;
/// The application function code of an unsolicited response.
pub const FC_UNSOLICITED_RESPONSE: u8 = 130;
/// The application function code of a confirmation.
const FC_CONFIRM: u8 = 0;

/// One application fragment: one of Suricata's transactions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dnp3Message {
    /// Per flow, from 1.
    pub id: u64,
    /// Sent by the client (a request) or the server (a response).
    pub request: bool,
    /// The link header of the fragment's first frame.
    pub link: LinkHeader,
    /// The application control byte (FIR, FIN, CON, UNS, sequence).
    pub app_control: u8,
    /// The application function code.
    pub function_code: u8,
    /// Responses: the internal indications (IIN1 high, IIN2 low).
    pub iin: Option<u16>,
    /// The objects read (the last one may have fewer points than its
    /// count, or none, where decoding stopped).
    pub objects: Vec<Object>,
    /// Every object was read.
    pub complete: bool,
}

impl Dnp3Message {
    /// Whether this is an unsolicited response.
    pub fn unsolicited(&self) -> bool {
        !self.request && self.function_code == FC_UNSOLICITED_RESPONSE
    }
}

/// A fragment being put together.
#[derive(Debug, Clone)]
struct Open {
    msg: Dnp3Message,
    /// The last transport header.
    th: u8,
    /// The fragment so far (application header first).
    buf: Vec<u8>,
}

/// The text Suricata takes for an outstation's banner.
const BANNER: &[u8] = b"DNP3";
/// The bytes of a banner Suricata's probe checks are printable.
const BANNER_CHECKED: usize = 256;

/// The content probe, after Suricata 7's: a link header with the right
/// start bytes and a length of 5 at least, certain with a right header
/// CRC. With a wrong one it waits ([`Probe::NeedMore`]): the flow is DNP3
/// on the route's ports once the probe must decide (Suricata's probe,
/// used on port 20000 only, does not check the CRC), and two start bytes
/// alone take no flow on other ports. A server's bytes holding the text
/// `DNP3` are a banner: certain when their first 256 bytes are printable
/// (Suricata's check), else they wait for the client's frames (there
/// Suricata's probe of the server's direction fails and the client's
/// decides).
pub fn probe(bytes: &[u8], side: crate::FlowSide) -> Probe {
    let banner = side == crate::FlowSide::Responder && has_banner(bytes);
    let head = bytes.get(..BANNER_CHECKED).unwrap_or(bytes);
    if banner && head.iter().all(|b| (0x20..0x7f).contains(b)) {
        return Probe::Certain;
    }
    match probe_frame(bytes) {
        Probe::No if banner => Probe::NeedMore,
        p => p,
    }
}

/// The probe of a link header at the start of `bytes`.
fn probe_frame(bytes: &[u8]) -> Probe {
    match bytes {
        [] => return Probe::NeedMore,
        [0x05] => return Probe::NeedMore,
        [a, ..] if *a != 0x05 => return Probe::No,
        [_, b, ..] if *b != 0x64 => return Probe::No,
        _ => {}
    }
    let Some(h) = LinkHeader::read(bytes) else {
        return Probe::NeedMore;
    };
    if link::frame_len(h.len).is_none() {
        return Probe::No;
    }
    if bytes.len() < link::HEADER_LEN {
        return Probe::NeedMore;
    }
    if link::header_crc_ok(bytes) {
        Probe::Certain
    } else {
        Probe::NeedMore
    }
}

/// Whether `bytes` hold the text Suricata takes for a banner.
fn has_banner(bytes: &[u8]) -> bool {
    bytes.windows(BANNER.len()).any(|w| w == BANNER)
}

/// A message's fragment number (0 for another protocol's).
fn id_of(m: &L7Message) -> u64 {
    match m {
        L7Message::Dnp3(m) => m.id,
        #[allow(unreachable_patterns)]
        _ => 0,
    }
}

/// The DNP3 session parser. Messages: [`L7Message::Dnp3`], one per
/// application fragment.
#[derive(Debug, Clone, Default)]
pub struct Dnp3Parser {
    cfg: Dnp3Config,
    tx_id: u64,
    /// Fragments not whole yet, oldest first.
    open: VecDeque<(bool, Open)>,
    /// Each side's bytes of a link frame not whole yet (0: the client).
    pending: [Vec<u8>; 2],
    /// Reading stopped (a gap, or bytes that are not DNP3 frames).
    stopped: bool,
    /// With the acknowledgement timing: the bytes not acknowledged yet.
    acks: AckTiming,
    /// Whole fragments whose objects could not all be read: reported at
    /// the flow's end, where Suricata logs them (at most `max_tx`).
    late: Vec<L7Message>,
    events: Anomalies<MAX_QUEUED_EVENTS>,
}

impl Dnp3Parser {
    /// A parser with these options.
    pub fn new(cfg: &Dnp3Config) -> Self {
        Dnp3Parser {
            cfg: cfg.clone(),
            ..Dnp3Parser::default()
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

    /// Queues an anomaly (of transaction `id`, written with Suricata's
    /// 0-based `tx_id`).
    fn event(&mut self, name: &'static str, id: Option<u64>) {
        self.events
            .push("dnp3", name, id.and_then(|i| i.checked_sub(1)));
    }

    fn feed(&mut self, k: usize, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        if self.stopped {
            return out;
        }
        // Suricata skips a server's chunk that holds a banner when no
        // frame is pending.
        if k == 1 && self.pending[1].is_empty() && has_banner(bytes) {
            return out;
        }
        if self.pending[k].is_empty() {
            let used = self.frames(k, bytes, &mut out);
            if !self.stopped {
                self.pending[k].extend_from_slice(bytes.get(used..).unwrap_or_default());
            }
        } else {
            let mut buf = std::mem::take(&mut self.pending[k]);
            buf.extend_from_slice(bytes);
            let used = self.frames(k, &buf, &mut out);
            if !self.stopped {
                buf.drain(..used.min(buf.len()));
                self.pending[k] = buf;
            }
        }
        // Suricata logs the transactions a chunk completes after reading
        // it, in transaction order: a fragment opened later but ended
        // first in the same chunk comes after.
        out.sort_by_key(id_of);
        out
    }

    /// Reads side `k`'s link frames from `buf`; returns the bytes used.
    fn frames(&mut self, k: usize, buf: &[u8], out: &mut Vec<L7Message>) -> usize {
        let mut at = 0;
        while let Some(rest) = buf.get(at..).filter(|r| r.len() >= link::HEADER_LEN) {
            let Some(h) = LinkHeader::read(rest) else {
                return self.stop();
            };
            if !link::header_crc_ok(rest) {
                self.event("BAD_LINK_CRC", None);
                return self.stop();
            }
            let Some(total) = link::frame_len(h.len) else {
                self.event("LEN_TOO_SMALL", None);
                return self.stop();
            };
            let Some(frame) = rest.get(..total) else {
                break;
            };
            at += total;
            if !h.is_user_data() {
                continue;
            }
            // The transport header and the application header (and the
            // IIN from the server) at least.
            if h.user_len() < if k == 0 { 3 } else { 5 } {
                self.event("LEN_TOO_SMALL", None);
                if k == 0 {
                    continue;
                }
                return self.stop();
            }
            let body = frame.get(link::HEADER_LEN..).unwrap_or_default();
            if !link::body_crcs_ok(body) {
                self.event("BAD_TRANSPORT_CRC", None);
                continue;
            }
            self.user_data(k, h, body, out);
        }
        at
    }

    /// Reading stops for good; what is pending is dropped.
    fn stop(&mut self) -> usize {
        self.stopped = true;
        self.pending = Default::default();
        0
    }

    /// One user data frame of side `k` (its CRCs checked).
    fn user_data(&mut self, k: usize, h: LinkHeader, body: &[u8], out: &mut Vec<L7Message>) {
        let request = k == 0;
        let Some(&th) = body.first() else { return };
        let seq = th & 0x3f;
        let i = if th & 0x40 == 0 {
            // A later segment: the open fragment of the same addresses
            // whose last sequence number is one less.
            let Some(i) = self.open.iter().position(|(r, o)| {
                *r == request
                    && o.msg.link.src == h.src
                    && o.msg.link.dst == h.dst
                    && (o.th & 0x3f).wrapping_add(1) % 64 == seq
            }) else {
                return;
            };
            if let Some((_, o)) = self.open.get_mut(i) {
                o.th = th;
            }
            i
        } else {
            let (Some(&control), Some(&function)) = (body.get(1), body.get(2)) else {
                return;
            };
            if request && function == FC_CONFIRM {
                return;
            }
            let iin = if request {
                None
            } else {
                let (Some(&a), Some(&b)) = (body.get(3), body.get(4)) else {
                    return;
                };
                Some(u16::from_be_bytes([a, b]))
            };
            if self.open.len() >= self.cfg.max_tx {
                let dropped = self.open.pop_front().map(|(_, o)| o.msg.id);
                self.event("FLOODED", dropped);
            }
            self.tx_id += 1;
            self.open.push_back((
                request,
                Open {
                    msg: Dnp3Message {
                        id: self.tx_id,
                        request,
                        link: h,
                        app_control: control,
                        function_code: function,
                        iin,
                        ..Dnp3Message::default()
                    },
                    th,
                    buf: Vec::new(),
                },
            ));
            self.open.len() - 1
        };
        let max = self.cfg.max_fragment;
        let Some((_, o)) = self.open.get_mut(i) else {
            return;
        };
        let id = o.msg.id;
        if !link::append_user_data(body, &mut o.buf) {
            self.event("MALFORMED", Some(id));
            // A request is done as it stands, a response left open, as
            // Suricata leaves them.
            if request && let Some((_, o)) = self.open.remove(i) {
                out.push(self.finish(o, false));
            }
            return;
        }
        if o.buf.len() > max {
            self.open.remove(i);
            self.event("FRAGMENT_TOO_LONG", Some(id));
            return;
        }
        if th & 0x80 == 0 {
            return;
        }
        if let Some((_, o)) = self.open.remove(i) {
            match self.finish(o, true) {
                L7Message::Dnp3(m) if !m.complete => {
                    if self.late.len() < self.cfg.max_tx {
                        self.late.push(L7Message::Dnp3(m));
                    } else {
                        self.event("FLOODED", Some(m.id));
                    }
                }
                m => out.push(m),
            }
        }
    }

    /// A whole fragment's message, its objects decoded when `decode`.
    fn finish(&mut self, o: Open, decode: bool) -> L7Message {
        let mut msg = o.msg;
        if decode {
            let skip = if msg.request { 2 } else { 4 };
            let data = o.buf.get(skip..).unwrap_or_default();
            let r = objects::decode(
                data,
                self.cfg.max_objects,
                self.cfg.max_points,
                &mut msg.objects,
            );
            msg.complete = r.is_ok();
            match r {
                Err(objects::Stop::Unknown) => self.event("UNKNOWN_OBJECT", Some(msg.id)),
                Err(objects::Stop::TooManyObjects) => self.event("TOO_MANY_OBJECTS", Some(msg.id)),
                Err(objects::Stop::TooManyPoints) => self.event("TOO_MANY_POINTS", Some(msg.id)),
                _ => {}
            }
        }
        L7Message::Dnp3(Box::new(msg))
    }

    /// A gap: what came before is read, then reading stops (frames cannot
    /// be found again with certainty; Suricata's parser takes no gaps).
    fn gap(&mut self, k: usize, len: u64) -> Vec<L7Message> {
        let out = self.release(k);
        self.acks.skip(k, len);
        self.stop();
        out
    }
}

impl SessionParser for Dnp3Parser {
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
    /// fragments not `complete` are reported, all in fragment order (at
    /// the end Suricata logs every transaction left, in transaction
    /// order); fragments still without their FIN segment are not
    /// (Suricata logs a transaction once done).
    fn flow_end(&mut self) -> Vec<L7Message> {
        let mut out = self.release(0);
        out.extend(self.release(1));
        out.append(&mut self.late);
        out.sort_by_key(id_of);
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
