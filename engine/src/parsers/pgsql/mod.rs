//! PostgreSQL's frontend/backend protocol 3.0 ([`PgsqlParser`]): the
//! client's startup packets (StartupMessage, SSLRequest, GSSENCRequest,
//! CancelRequest), password and SASL messages, simple queries and
//! Terminate; the server's authentication requests, ParameterStatus,
//! BackendKeyData, RowDescription, DataRow (counted, never stored),
//! CommandComplete, ErrorResponse and ReadyForQuery. Transactions follow
//! Suricata 7's `pgsql` state machine: every client message opens one, a
//! server message opens one when the last thing seen was a client message
//! and the message does not move the state on (a NoticeResponse before a
//! query's CommandComplete, say), and only the server messages that move
//! the state are kept. A transaction is reported once complete (its
//! answer ended by ReadyForQuery, an authentication request, the answer
//! to an SSLRequest; Terminate and CancelRequest have none), checked
//! after each batch of bytes, the rest at the flow's end as they stand.
//! An accepted SSLRequest hands both directions to an embedded TLS parser
//! (feature `tls`), as Suricata does: the flow becomes `tls`, `pgsql` its
//! original. Messages longer than `max_msg_length` are skipped unread,
//! startup parameters and transactions are capped ([`PgsqlConfig`]); each
//! cap hit is an anomaly. [`probe`]: the client's first startup packet.

mod wire;

use super::{L7Message, PgsqlConfig};
use crate::AppEvent;
use crate::parsers::anomalies::Anomalies;
use crate::session::{Probe, SessionParser};
use std::collections::VecDeque;
pub use wire::{CANCEL_REQUEST, GSSENC_REQUEST, PROTOCOL_3, SSL_REQUEST};

/// Server messages kept per transaction (the DataRows are counted, not
/// kept); past it they are dropped (`too_many_responses`).
pub const MAX_RESPONSES: usize = 256;
/// Anomalies queued per flow before the oldest are dropped.
const MAX_QUEUED_EVENTS: usize = 64;

/// A startup parameter: name, value.
pub type Param = (Box<[u8]>, Box<[u8]>);

/// A client message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgsqlRequest {
    /// StartupMessage: the protocol version, `user` and the other
    /// parameters in order.
    Startup {
        /// Major protocol version.
        major: u16,
        /// Minor protocol version.
        minor: u16,
        /// The `user` parameter.
        user: Box<[u8]>,
        /// The other parameters (name, value).
        params: Vec<Param>,
    },
    /// SSLRequest.
    SslRequest,
    /// GSSENCRequest.
    GssEncRequest,
    /// PasswordMessage (empty unless `passwords` is on).
    Password(Box<[u8]>),
    /// SASLInitialResponse: SCRAM-SHA-256 (`-PLUS` when `plus`) and the
    /// client-first message.
    SaslInitial {
        /// SCRAM-SHA-256-PLUS.
        plus: bool,
        /// The mechanism's data.
        param: Box<[u8]>,
    },
    /// SASLResponse's data.
    SaslResponse(Box<[u8]>),
    /// Query (simple query protocol): the SQL.
    Query(Box<[u8]>),
    /// CancelRequest: the backend's process id and secret key.
    Cancel {
        /// Process id.
        pid: u32,
        /// Secret key.
        key: u32,
    },
    /// Terminate.
    Terminate,
    /// Another message (extended query protocol, COPY data...): not
    /// written, as Suricata does not.
    Unknown,
}

/// A server message kept in a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgsqlResponse {
    /// `S` (SSL) or `G` (GSSAPI) to the encryption request.
    EncryptionAccepted,
    /// `N` to the encryption request.
    EncryptionRejected,
    /// ErrorResponse: (field type, value) in order.
    Error(Vec<(u8, Box<[u8]>)>),
    /// AuthenticationOk.
    AuthOk,
    /// AuthenticationCleartextPassword.
    AuthCleartext,
    /// AuthenticationMD5Password: the salt.
    AuthMd5(Box<[u8]>),
    /// AuthenticationSASL.
    AuthSasl,
    /// AuthenticationSASLContinue.
    AuthSaslContinue,
    /// AuthenticationSASLFinal: the server-final message.
    AuthSaslFinal(Box<[u8]>),
    /// ParameterStatus: name, value.
    ParameterStatus(Box<[u8]>, Box<[u8]>),
    /// BackendKeyData.
    BackendKey {
        /// Process id.
        pid: u32,
        /// Secret key.
        key: u32,
    },
    /// CommandComplete: the command tag.
    CommandComplete(Box<[u8]>),
    /// ReadyForQuery (not written).
    ReadyForQuery,
    /// RowDescription: the field count.
    RowDescription(u16),
    /// The DataRows before a CommandComplete: their count and the bytes of
    /// their non-NULL values.
    DataRows {
        /// Rows.
        rows: u64,
        /// Value bytes.
        size: u64,
    },
    /// One DataRow's value bytes (while parsing; never kept).
    DataRow(u64),
    /// NoticeResponse (never kept, as Suricata).
    Notice,
    /// Another message (never kept).
    Other,
}

/// One transaction: a client message and the server messages kept for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PgsqlTransaction {
    /// Suricata's `tx_id` (from 1, per flow).
    pub tx_id: u64,
    /// The client's message (none for one the server opened).
    pub request: Option<PgsqlRequest>,
    /// The server's messages.
    pub responses: Vec<PgsqlResponse>,
    rows: u64,
    size: u64,
    req_done: bool,
    res_done: bool,
}

/// The content probe: the client's first bytes are a startup packet, a
/// StartupMessage (protocol 3.0, at most 10000 bytes), an SSLRequest, a
/// GSSENCRequest or a CancelRequest (their fixed lengths).
pub fn probe(bytes: &[u8], side: crate::FlowSide) -> Probe {
    if side != crate::FlowSide::Initiator {
        return Probe::No;
    }
    let Some(head) = bytes.get(..8) else {
        return if bytes.iter().take(2).all(|&b| b == 0) {
            Probe::NeedMore
        } else {
            Probe::No
        };
    };
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let code = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    match (len, code) {
        (8, SSL_REQUEST | GSSENC_REQUEST) | (16, CANCEL_REQUEST) => Probe::Certain,
        (9..=10_000, PROTOCOL_3) => Probe::Certain,
        _ => Probe::No,
    }
}

/// Suricata's `PgsqlStateProgress`: what was seen last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    #[default]
    Idle,
    SslRequest,
    GssEncRequest,
    Startup,
    SaslInitial,
    SaslResponse,
    Password,
    Query,
    Cancel,
    Terminated,
    EncryptionRejected,
    SaslAuth,
    SaslContinue,
    SaslFinal,
    SimpleAuth,
    AuthOk,
    Parameter,
    BackendKey,
    Ready,
    RowDescription,
    DataRow,
    CommandComplete,
    Error,
    Finished,
}

impl State {
    /// A state after which the next message opens a transaction.
    fn opens(self) -> bool {
        matches!(
            self,
            State::Idle
                | State::Startup
                | State::Password
                | State::SaslInitial
                | State::SaslResponse
                | State::Query
                | State::SslRequest
                | State::GssEncRequest
                | State::Terminated
                | State::Cancel
        )
    }

    /// A server state that ends its transaction's answer.
    fn ends_response(self) -> bool {
        matches!(
            self,
            State::Ready
                | State::EncryptionRejected
                | State::SimpleAuth
                | State::SaslAuth
                | State::SaslContinue
                | State::SaslFinal
                | State::Finished
        )
    }
}

/// The PostgreSQL session parser. Messages: [`L7Message::Pgsql`], one per
/// transaction; after an accepted SSLRequest, the TLS parser's.
#[derive(Debug, Clone, Default)]
pub struct PgsqlParser {
    cfg: PgsqlConfig,
    state: State,
    tx_id: u64,
    /// Transactions not reported yet, oldest first.
    txs: VecDeque<PgsqlTransaction>,
    /// Each side's bytes of a message not whole yet (0: the client).
    pending: [Vec<u8>; 2],
    /// Each side's bytes still to skip of a message over the cap.
    skip: [u64; 2],
    /// Reading stopped (a malformed message, GSSAPI encryption).
    stopped: bool,
    /// After an accepted SSLRequest: the rest is TLS.
    switched: bool,
    /// After an accepted SSLRequest: TLS, when configured.
    #[cfg(feature = "tls")]
    tls: super::tls::Handover,
    events: Anomalies<MAX_QUEUED_EVENTS>,
}

impl PgsqlParser {
    /// A parser with these options (an accepted SSLRequest ends the
    /// reading: see [`PgsqlParser::with_tls`]).
    pub fn new(cfg: PgsqlConfig) -> Self {
        PgsqlParser {
            cfg,
            ..PgsqlParser::default()
        }
    }

    /// After an accepted SSLRequest, the TLS handshake is read with these
    /// options.
    #[cfg(feature = "tls")]
    pub fn with_tls(mut self, cfg: super::TlsConfig) -> Self {
        self.tls.configure(cfg);
        self
    }

    fn event(&mut self, name: &'static str) {
        let tx_id = self.txs.back().map(|t| t.tx_id);
        self.events.push("pgsql", name, tx_id);
    }

    /// Suricata's `find_or_create_tx`: a new transaction when the state
    /// says so, else the newest one not reported.
    fn current(&mut self) -> Option<&mut PgsqlTransaction> {
        if self.state.opens() {
            if self.txs.len() >= self.cfg.max_tx {
                self.event("too_many_transactions");
                if let Some(t) = self.txs.front_mut() {
                    t.req_done = true;
                    t.res_done = true;
                }
            }
            self.tx_id += 1;
            self.txs.push_back(PgsqlTransaction {
                tx_id: self.tx_id,
                ..PgsqlTransaction::default()
            });
        }
        self.txs.back_mut()
    }

    fn on_request(&mut self, req: PgsqlRequest) {
        let next = match &req {
            PgsqlRequest::SslRequest => Some(State::SslRequest),
            PgsqlRequest::GssEncRequest => Some(State::GssEncRequest),
            PgsqlRequest::Startup { .. } => Some(State::Startup),
            PgsqlRequest::Password(_) => Some(State::Password),
            PgsqlRequest::SaslInitial { .. } => Some(State::SaslInitial),
            PgsqlRequest::SaslResponse(_) => Some(State::SaslResponse),
            PgsqlRequest::Query(_) => Some(State::Query),
            PgsqlRequest::Cancel { .. } => Some(State::Cancel),
            PgsqlRequest::Terminate => Some(State::Terminated),
            PgsqlRequest::Unknown => None,
        };
        if let Some(s) = next {
            self.state = s;
        }
        let Some(tx) = self.current() else { return };
        tx.request = Some(req);
        if let Some(s) = next {
            tx.req_done = true;
            if matches!(s, State::Terminated | State::Cancel) {
                tx.res_done = true;
            }
        }
    }

    fn on_response(&mut self, res: PgsqlResponse) {
        let next = match &res {
            PgsqlResponse::EncryptionAccepted => Some(State::Finished),
            PgsqlResponse::EncryptionRejected => Some(State::EncryptionRejected),
            PgsqlResponse::AuthSasl => Some(State::SaslAuth),
            PgsqlResponse::AuthSaslContinue => Some(State::SaslContinue),
            PgsqlResponse::AuthSaslFinal(_) => Some(State::SaslFinal),
            PgsqlResponse::AuthOk => Some(State::AuthOk),
            PgsqlResponse::ParameterStatus(..) => Some(State::Parameter),
            PgsqlResponse::BackendKey { .. } => Some(State::BackendKey),
            PgsqlResponse::ReadyForQuery => Some(State::Ready),
            PgsqlResponse::AuthMd5(_) | PgsqlResponse::AuthCleartext => Some(State::SimpleAuth),
            PgsqlResponse::RowDescription(_) => Some(State::RowDescription),
            PgsqlResponse::DataRow(n) => {
                // Added to the newest transaction before one is opened,
                // as Suricata does.
                if let Some(t) = self.txs.back_mut() {
                    t.size = t.size.saturating_add(*n);
                }
                Some(State::DataRow)
            }
            PgsqlResponse::CommandComplete(_) => Some(State::CommandComplete),
            PgsqlResponse::Error(_) => Some(State::Error),
            _ => None,
        };
        if let Some(s) = next {
            self.state = s;
        }
        let mut full = false;
        if let Some(tx) = self.current()
            && let Some(s) = next
        {
            if s == State::DataRow {
                tx.rows = tx.rows.saturating_add(1);
            } else {
                if s == State::CommandComplete && tx.rows > 0 {
                    let (rows, size) = (tx.rows, tx.size);
                    full |= push(tx, PgsqlResponse::DataRows { rows, size });
                }
                full |= push(tx, res);
                if s.ends_response() {
                    tx.req_done = true;
                    tx.res_done = true;
                }
            }
        }
        if full {
            self.event("too_many_responses");
        }
    }

    /// Reads side `k`'s messages from `buf`; returns the bytes used.
    fn run(&mut self, k: usize, buf: &[u8], out: &mut Vec<L7Message>) -> usize {
        let mut at = 0;
        while at < buf.len() && !self.stopped && !self.switched {
            let rest = &buf[at..];
            if self.skip[k] > 0 {
                let n = rest
                    .len()
                    .min(usize::try_from(self.skip[k]).unwrap_or(usize::MAX));
                self.skip[k] -= n as u64;
                at += n;
                continue;
            }
            let one_byte = k == 1 && matches!(self.state, State::SslRequest | State::GssEncRequest);
            let framed = if k == 0 {
                wire::frame_request(rest)
            } else {
                wire::frame_response(rest, one_byte)
            };
            let len = match framed {
                wire::Frame::Short => break,
                wire::Frame::Bad => {
                    self.malformed();
                    break;
                }
                wire::Frame::Partial(len) | wire::Frame::Whole(len)
                    if len > self.cfg.max_msg_length =>
                {
                    // Too long to keep: skipped unread (a DataRow still
                    // counts as a row).
                    self.event("message_too_long");
                    if k == 1 && rest.first() == Some(&b'D') {
                        self.on_response(PgsqlResponse::DataRow(0));
                    }
                    self.skip[k] = len as u64;
                    continue;
                }
                wire::Frame::Partial(_) => break,
                wire::Frame::Whole(len) => len,
            };
            let msg = &rest[..len];
            at += len;
            if k == 0 {
                self.request(msg);
            } else {
                self.response(msg, one_byte);
            }
        }
        self.report(out);
        at
    }

    fn request(&mut self, msg: &[u8]) {
        let expect = match self.state {
            State::SaslAuth => wire::Expect::SaslInitial,
            State::SaslInitial | State::SaslContinue => wire::Expect::SaslResponse,
            State::SimpleAuth => wire::Expect::Password,
            _ => wire::Expect::Any,
        };
        match wire::request(msg, expect, self.cfg.max_parameters) {
            Some((req, dropped)) => {
                let req = match req {
                    PgsqlRequest::Password(_) if !self.cfg.passwords => {
                        PgsqlRequest::Password(Box::default())
                    }
                    r => r,
                };
                self.on_request(req);
                if dropped > 0 {
                    self.event("too_many_parameters");
                }
            }
            None => self.malformed(),
        }
    }

    fn response(&mut self, msg: &[u8], one_byte: bool) {
        match wire::response(msg, one_byte) {
            Some(res) => {
                let accepted = res == PgsqlResponse::EncryptionAccepted;
                let gss = self.state == State::GssEncRequest;
                self.on_response(res);
                if accepted && gss {
                    // GSSAPI encryption: nothing more is readable.
                    self.stopped = true;
                } else if accepted {
                    self.switch();
                }
            }
            None => self.malformed(),
        }
    }

    /// Suricata stops reading the flow at a message it cannot parse.
    fn malformed(&mut self) {
        self.event("malformed_message");
        self.stopped = true;
        self.pending = Default::default();
    }

    /// An accepted SSLRequest: the TLS parser takes both sides.
    fn switch(&mut self) {
        self.switched = true;
        #[cfg(feature = "tls")]
        self.tls.start("pgsql", false, [0; 2]);
    }

    /// Reports the complete transactions, oldest first.
    fn report(&mut self, out: &mut Vec<L7Message>) {
        let mut i = 0;
        while i < self.txs.len() {
            if self.txs[i].req_done && self.txs[i].res_done {
                if let Some(t) = self.txs.remove(i) {
                    out.push(L7Message::Pgsql(Box::new(t)));
                }
            } else {
                i += 1;
            }
        }
    }

    fn feed(&mut self, k: usize, bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        if self.switched {
            self.tls_feed(k, bytes, &mut out);
            return out;
        }
        if self.stopped {
            return out;
        }
        if self.pending[k].is_empty() {
            let used = self.run(k, bytes, &mut out);
            self.after_run(k, &bytes[used..], &mut out);
        } else {
            let mut buf = std::mem::take(&mut self.pending[k]);
            buf.extend_from_slice(bytes);
            let used = self.run(k, &buf, &mut out);
            self.after_run(k, &buf[used..], &mut out);
        }
        out
    }

    /// What `run` left of side `k`'s bytes: kept for the next call, or
    /// the first TLS bytes (sent with the answer to the SSLRequest).
    fn after_run(&mut self, k: usize, left: &[u8], out: &mut Vec<L7Message>) {
        if self.switched {
            self.pending = Default::default();
            if !left.is_empty() {
                self.tls_feed(k, left, out);
            }
        } else if !self.stopped {
            self.pending[k].extend_from_slice(left);
        }
    }

    fn tls_feed(&mut self, k: usize, bytes: &[u8], out: &mut Vec<L7Message>) {
        #[cfg(feature = "tls")]
        out.extend(self.tls.feed(k, bytes));
        #[cfg(not(feature = "tls"))]
        let _ = (k, bytes, out);
    }
}

/// Adds a server message unless the transaction is full; says whether it
/// was.
fn push(tx: &mut PgsqlTransaction, res: PgsqlResponse) -> bool {
    if tx.responses.len() >= MAX_RESPONSES {
        return true;
    }
    tx.responses.push(res);
    false
}

impl SessionParser for PgsqlParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(0, bytes)
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(1, bytes)
    }

    /// A gap: the messages cannot be framed again with certainty, so
    /// reading stops (what was read is reported at the flow's end).
    fn gap_initiator(&mut self, len: u64) -> Vec<L7Message> {
        self.gap(0, len)
    }

    fn gap_responder(&mut self, len: u64) -> Vec<L7Message> {
        self.gap(1, len)
    }

    /// The transactions not complete, as they stand (one the server
    /// opened with nothing kept too: Suricata writes its `tx_id`).
    #[cfg_attr(not(feature = "tls"), allow(unused_mut))]
    fn flow_end(&mut self) -> Vec<L7Message> {
        let mut out: Vec<L7Message> = self
            .txs
            .drain(..)
            .map(|t| L7Message::Pgsql(Box::new(t)))
            .collect();
        #[cfg(feature = "tls")]
        out.extend(self.tls.flow_end());
        out
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }

    /// PostgreSQL transactions (not the TLS handshake after an accepted
    /// SSLRequest).
    fn is_transaction(msg: &L7Message) -> bool {
        matches!(msg, L7Message::Pgsql(_))
    }

    /// After an accepted SSLRequest with TLS read: `tls` (the route's
    /// `pgsql` is the original).
    fn app_proto(&self) -> Option<crate::AppProto> {
        #[cfg(feature = "tls")]
        return self.tls.app_proto();
        #[cfg(not(feature = "tls"))]
        None
    }
}

impl PgsqlParser {
    fn gap(&mut self, k: usize, len: u64) -> Vec<L7Message> {
        if self.switched {
            #[cfg(feature = "tls")]
            return self.tls.gap(k, len);
            #[cfg(not(feature = "tls"))]
            return Vec::new();
        }
        let _ = (k, len);
        self.stopped = true;
        self.pending = Default::default();
        Vec::new()
    }
}

#[cfg(test)]
mod tests;
