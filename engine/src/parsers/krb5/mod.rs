//! Kerberos 5 (RFC 4120) over UDP ([`Krb5UdpParser`]) and TCP
//! ([`Krb5TcpParser`], each message after a 4-byte record mark, §7.2.2):
//! AS-REQ, AS-REP, TGS-REQ, TGS-REP and KRB-ERROR messages, decoded with the
//! bounded BER reader `parsers::ber`. One [`Krb5Message`] per such message,
//! as Suricata 7 makes one transaction (and one `krb5` record) of each — a
//! request and its reply are two: the client and server principal names,
//! the realm, a reply's encryption types, an error's code and the request
//! it answers (the flow's last request, as Suricata tells it). AP-REQ and
//! AP-REP are read for that last request only; other messages are skipped.
//! [`probe`] / [`probe_tcp`]: a message that opens with an APPLICATION
//! tag 10 to 15 or 30 and a SEQUENCE holding `pvno` 5 is Kerberos; port 88
//! ([`Krb5Config::ports`]) is a hint. Caps: [`MAX_NAME_PARTS`] components
//! per principal name and [`MAX_STRING`] bytes per component or realm
//! (`long_name`), [`Krb5Config::max_record`] bytes per TCP record (a
//! longer one is skipped: `record_too_long`); a message that does not
//! decode is skipped (`malformed_data`, Suricata's name); a reply with a
//! weak encryption type is reported (`weak_encryption`, Suricata's).

#[cfg(test)]
mod tests;
#[cfg(feature = "smb")]
mod ticket;

#[cfg(feature = "smb")]
pub use ticket::{ApReqTicket, gss_ap_req_ticket};

use super::ber::{self, Tlv};
use super::reader::Reader;
use super::{Krb5Config, L7Message};
use crate::AppEvent;
use crate::FlowSide;
use crate::parsers::anomalies::Anomalies;
use crate::session::{DatagramParser, Probe, SessionParser};

/// Components of a principal name kept; the rest are left out
/// (`long_name`).
pub const MAX_NAME_PARTS: usize = 16;
/// Bytes of a name component or realm kept; a longer one is cut
/// (`long_name`).
pub const MAX_STRING: usize = 1024;
/// Anomalies kept per flow before they are taken (the driver takes them
/// after each call).
const MAX_PENDING_EVENTS: usize = 8;

/// KRB_AS_REQ (the message's APPLICATION tag number and `msg-type`).
pub const AS_REQ: u32 = 10;
/// KRB_AS_REP.
pub const AS_REP: u32 = 11;
/// KRB_TGS_REQ.
pub const TGS_REQ: u32 = 12;
/// KRB_TGS_REP.
pub const TGS_REP: u32 = 13;
/// KRB_AP_REQ.
pub const AP_REQ: u32 = 14;
/// KRB_AP_REP.
pub const AP_REP: u32 = 15;
/// KRB_ERROR.
pub const ERROR: u32 = 30;

/// `GeneralString`, Kerberos's `KerberosString` and `Realm`.
const GENERAL_STRING: u8 = 0x1b;

/// A message type's name as Suricata writes it (`KRB_AS_REQ`...);
/// `None` for a number without one (Suricata writes `MessageType(N)`).
pub fn msg_type_name(t: u32) -> Option<&'static str> {
    Some(match t {
        AS_REQ => "KRB_AS_REQ",
        AS_REP => "KRB_AS_REP",
        TGS_REQ => "KRB_TGS_REQ",
        TGS_REP => "KRB_TGS_REP",
        AP_REQ => "KRB_AP_REQ",
        AP_REP => "KRB_AP_REP",
        16 => "KRB_RESERVED16",
        17 => "KRB_RESERVED17",
        20 => "KRB_SAFE",
        21 => "KRB_PRIV",
        22 => "KRB_CRED",
        ERROR => "KRB_ERROR",
        _ => return None,
    })
}

/// An encryption type's name as Suricata writes it (RFC 3961 and IANA's
/// names: `des-cbc-md5`, `rc4-hmac`, `aes256-cts-hmac-sha1-96`...);
/// `None` for a number without one (Suricata writes `EncryptionType(N)`).
pub fn etype_name(e: i32) -> Option<&'static str> {
    Some(match e {
        1 => "des-cbc-crc",
        2 => "des-cbc-md4",
        3 => "des-cbc-md5",
        5 => "des3-cbc-md5",
        7 => "des3-cbc-sha1",
        9 => "dsaWithSHA1-CmsOID",
        10 => "md5WithRSAEncryption-CmsOID",
        11 => "sha1WithRSAEncryption-CmsOID",
        12 => "rc2CBC-EnvOID",
        13 => "rsaEncryption-EnvOID",
        14 => "rsaES-OAEP-ENV-OID",
        15 => "des-ede3-cbc-Env-OID",
        16 => "des3-cbc-sha1-kd",
        17 => "aes128-cts-hmac-sha1-96",
        18 => "aes256-cts-hmac-sha1-96",
        23 => "rc4-hmac",
        24 => "rc4-hmac-exp",
        25 => "camellia128-cts-cmac",
        26 => "camellia256-cts-cmac",
        65 => "subkey-keymaterial",
        -128 => "rc4-md4",
        -129 => "rc4-plain2",
        -130 => "rc4-lm",
        -131 => "rc4-sha",
        -132 => "des-plain",
        -133 => "rc4-hmac-OLD",
        -134 => "rc4-plain-OLD",
        -135 => "rc4-hmac-OLD-exp",
        -136 => "rc4-plain-OLD-exp",
        -140 => "rc4-plain",
        -141 => "rc4-plain-exp",
        _ => return None,
    })
}

/// Whether an encryption type is weak or deprecated, as Suricata judges:
/// every one but AES (RFC 3962, RFC 8009) and Camellia (RFC 6803).
pub fn weak_etype(e: i32) -> bool {
    !matches!(e, 17 | 18 | 19 | 20 | 25 | 26)
}

/// An error code's name as Suricata writes it (RFC 4120 §7.5.9 and the
/// PKINIT codes of RFC 4556: `KDC_ERR_PREAUTH_REQUIRED`...); `None` for a
/// number without one (Suricata writes `ErrorCode(N)`).
pub fn error_code_name(c: i32) -> Option<&'static str> {
    const NAMES: [&str; 77] = [
        "KDC_ERR_NONE",
        "KDC_ERR_NAME_EXP",
        "KDC_ERR_SERVICE_EXP",
        "KDC_ERR_BAD_PVNO",
        "KDC_ERR_C_OLD_MAST_KVNO",
        "KDC_ERR_S_OLD_MAST_KVNO",
        "KDC_ERR_C_PRINCIPAL_UNKNOWN",
        "KDC_ERR_S_PRINCIPAL_UNKNOWN",
        "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
        "KDC_ERR_NULL_KEY",
        "KDC_ERR_CANNOT_POSTDATE",
        "KDC_ERR_NEVER_VALID",
        "KDC_ERR_POLICY",
        "KDC_ERR_BADOPTION",
        "KDC_ERR_ETYPE_NOSUPP",
        "KDC_ERR_SUMTYPE_NOSUPP",
        "KDC_ERR_PADATA_TYPE_NOSUPP",
        "KDC_ERR_TRTYPE_NOSUPP",
        "KDC_ERR_CLIENT_REVOKED",
        "KDC_ERR_SERVICE_REVOKED",
        "KDC_ERR_TGT_REVOKED",
        "KDC_ERR_CLIENT_NOTYET",
        "KDC_ERR_SERVICE_NOTYET",
        "KDC_ERR_KEY_EXPIRED",
        "KDC_ERR_PREAUTH_FAILED",
        "KDC_ERR_PREAUTH_REQUIRED",
        "KDC_ERR_SERVER_NOMATCH",
        "KDC_ERR_MUST_USE_USER2USER",
        "KDC_ERR_PATH_NOT_ACCEPTED",
        "KDC_ERR_SVC_UNAVAILABLE",
        "",
        "KRB_AP_ERR_BAD_INTEGRITY",
        "KRB_AP_ERR_TKT_EXPIRED",
        "KRB_AP_ERR_TKT_NYV",
        "KRB_AP_ERR_REPEAT",
        "KRB_AP_ERR_NOT_US",
        "KRB_AP_ERR_BADMATCH",
        "KRB_AP_ERR_SKEW",
        "KRB_AP_ERR_BADADDR",
        "KRB_AP_ERR_BADVERSION",
        "KRB_AP_ERR_MSG_TYPE",
        "KRB_AP_ERR_MODIFIED",
        "KRB_AP_ERR_BADORDER",
        "",
        "KRB_AP_ERR_BADKEYVER",
        "KRB_AP_ERR_NOKEY",
        "KRB_AP_ERR_MUT_FAIL",
        "KRB_AP_ERR_BADDIRECTION",
        "KRB_AP_ERR_METHOD",
        "KRB_AP_ERR_BADSEQ",
        "KRB_AP_ERR_INAPP_CKSUM",
        "KRB_AP_PATH_NOT_ACCEPTED",
        "KRB_ERR_RESPONSE_TOO_BIG",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "KRB_ERR_GENERIC",
        "KRB_ERR_FIELD_TOOLONG",
        "KDC_ERROR_CLIENT_NOT_TRUSTED",
        "KDC_ERROR_KDC_NOT_TRUSTED",
        "KDC_ERROR_INVALID_SIG",
        "KDC_ERR_KEY_TOO_WEAK",
        "KDC_ERR_CERTIFICATE_MISMATCH",
        "KRB_AP_ERR_NO_TGT",
        "KDC_ERR_WRONG_REALM",
        "KRB_AP_ERR_USER_TO_USER_REQUIRED",
        "KDC_ERR_CANT_VERIFY_CERTIFICATE",
        "KDC_ERR_INVALID_CERTIFICATE",
        "KDC_ERR_REVOKED_CERTIFICATE",
        "KDC_ERR_REVOCATION_STATUS_UNKNOWN",
        "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE",
        "KDC_ERR_CLIENT_NAME_MISMATCH",
        "KDC_ERR_KDC_NAME_MISMATCH",
    ];
    let name = *NAMES.get(usize::try_from(c).ok()?)?;
    (!name.is_empty()).then_some(name)
}

/// A principal name (`name-string`'s components joined with `/`, as
/// Suricata writes it) or a realm, at most [`MAX_NAME_PARTS`] components of
/// [`MAX_STRING`] bytes.
pub type Name = Box<str>;

/// One Kerberos message: a request, a reply or an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Krb5Message {
    /// Its type: [`AS_REQ`], [`AS_REP`], [`TGS_REQ`], [`TGS_REP`] or
    /// [`ERROR`].
    pub msg_type: u32,
    /// An error's: the type of the flow's last request before it (AS-REQ,
    /// TGS-REQ or AP-REQ; 0 when there was none or a reply came between).
    pub failed_request: u32,
    /// An error's `error-code`.
    pub error_code: Option<i32>,
    /// The client's name: a request's `cname`, a reply's, an error's.
    pub cname: Option<Name>,
    /// The realm: a request's `realm`, a reply's or an error's `crealm`.
    pub realm: Option<Name>,
    /// The server's name: a request's `sname`, a reply's ticket's, an
    /// error's.
    pub sname: Option<Name>,
    /// A reply's `enc-part` encryption type.
    pub etype: Option<i32>,
    /// A reply's ticket's encryption type.
    pub ticket_etype: Option<i32>,
}

/// The APPLICATION tag numbers the probe takes: the messages written and
/// AP-REQ, AP-REP (a flow of those alone is Kerberos too, as Suricata
/// finds it).
fn probed_tag(tag: u8) -> bool {
    matches!(tag, 0x6a..=0x6f | 0x7e)
}

/// The content probe over UDP: a datagram that opens with an APPLICATION
/// tag of AS-REQ, AS-REP, TGS-REQ, TGS-REP, AP-REQ, AP-REP or KRB-ERROR,
/// then a SEQUENCE
/// whose first element is `pvno` (context tag 1 in a request, 0 in the
/// others) holding the INTEGER 5, is Kerberos. Too few bytes to tell ask
/// for more; anything else is not Kerberos.
pub fn probe(b: &[u8], _side: FlowSide) -> Probe {
    let Some(&tag) = b.first() else {
        return Probe::NeedMore;
    };
    if !probed_tag(tag) {
        return Probe::No;
    }
    // Tag, length (up to 5 bytes), SEQUENCE, length, [n], 3, INTEGER 5.
    let mut r = Reader::new(b);
    let mut shape = || -> Option<bool> {
        r.u8()?;
        header_len(&mut r)?;
        if r.u8()? != 0x30 {
            return Some(false);
        }
        header_len(&mut r)?;
        let pvno_tag = if matches!(tag, 0x6a | 0x6c) {
            0xa1
        } else {
            0xa0
        };
        Some(r.take(5)? == [pvno_tag, 3, 2, 1, 5])
    };
    match shape() {
        Some(true) => Probe::Certain,
        Some(false) => Probe::No,
        None if b.len() < 16 => Probe::NeedMore,
        None => Probe::No,
    }
}

/// The content probe over TCP: a record mark (its reserved top bit clear)
/// of a length no more than `u16::MAX` but past the shortest message, then
/// what [`probe`] takes.
pub fn probe_tcp(b: &[u8], side: FlowSide) -> Probe {
    if b.len() < 4 {
        return Probe::NeedMore;
    }
    let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if !(8..=u32::from(u16::MAX)).contains(&len) {
        return Probe::No;
    }
    probe(&b[4..], side)
}

/// A BER length's header bytes, read past (the value ignored).
fn header_len(r: &mut Reader<'_>) -> Option<()> {
    let first = r.u8()?;
    match first {
        0..=0x7f => Some(()),
        0x81..=0x84 => r.take(usize::from(first & 0x7f)).map(|_| ()),
        _ => None,
    }
}

/// Caps and oddities met while reading one message.
#[derive(Debug, Default, Clone, Copy)]
struct Found {
    long_name: bool,
}

/// A SEQUENCE's elements by context tag number (0 to 12, each the inner
/// element of an explicit tag); a tag met twice or out of order, or
/// another class of element, is malformed.
struct Fields<'a> {
    inner: [Option<&'a [u8]>; 13],
}

impl<'a> Fields<'a> {
    fn of(seq: &'a [u8]) -> Option<Self> {
        let mut inner = [None; 13];
        let mut r = Reader::new(seq);
        let mut last: Option<usize> = None;
        while r.left() > 0 {
            let t = ber::tlv(&mut r)?;
            if t.tag & 0xe0 != 0xa0 {
                return None;
            }
            let n = usize::from(t.tag & 0x1f);
            if n >= inner.len() || last.is_some_and(|l| n <= l) {
                return None;
            }
            last = Some(n);
            inner[n] = Some(t.content);
        }
        Some(Fields { inner })
    }

    /// The element inside explicit tag `n`, if present.
    fn get(&self, n: usize) -> Option<Option<Tlv<'a>>> {
        match self.inner[n] {
            None => Some(None),
            Some(c) => {
                let mut r = Reader::new(c);
                let t = ber::tlv(&mut r)?;
                (r.left() == 0).then_some(Some(t))
            }
        }
    }

    /// The element inside explicit tag `n`, which must be there.
    fn need(&self, n: usize) -> Option<Tlv<'a>> {
        self.get(n)?
    }

    fn int(&self, n: usize) -> Option<i64> {
        let t = self.need(n)?;
        (t.tag == ber::INTEGER).then_some(())?;
        ber::int_value(t.content)
    }

    fn int32(&self, n: usize) -> Option<i32> {
        i32::try_from(self.int(n)?).ok()
    }
}

/// `g` of an optional element: `None` when `g` fails on one that is there.
fn opt<'a, T>(t: Option<Tlv<'a>>, g: impl FnOnce(Tlv<'a>) -> Option<T>) -> Option<Option<T>> {
    match t {
        None => Some(None),
        Some(t) => g(t).map(Some),
    }
}

/// The content of `t` if it is a SEQUENCE.
fn seq(t: Tlv<'_>) -> Option<&[u8]> {
    (t.tag == ber::SEQUENCE).then_some(t.content)
}

/// A `KerberosString`/`Realm` (a GeneralString of UTF-8 text) appended to
/// `out`, cut at [`MAX_STRING`] bytes (on a character boundary).
fn push_string(out: &mut String, t: Tlv<'_>, found: &mut Found) -> Option<()> {
    if t.tag != GENERAL_STRING {
        return None;
    }
    let s = std::str::from_utf8(t.content).ok()?;
    if s.len() > MAX_STRING {
        found.long_name = true;
        let mut end = MAX_STRING;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&s[..end]);
    } else {
        out.push_str(s);
    }
    Some(())
}

fn realm(t: Tlv<'_>, found: &mut Found) -> Option<Name> {
    let mut s = String::new();
    push_string(&mut s, t, found)?;
    Some(s.into())
}

/// A `PrincipalName` (a SEQUENCE of `name-type` `[0]` and `name-string`
/// `[1]`, a SEQUENCE OF KerberosString) as its components joined with `/`.
fn principal(t: Tlv<'_>, found: &mut Found) -> Option<Name> {
    Some(principal_parts(t, found)?.join("/").into())
}

/// A `PrincipalName`'s components, at most [`MAX_NAME_PARTS`].
fn principal_parts(t: Tlv<'_>, found: &mut Found) -> Option<Vec<Name>> {
    let f = Fields::of(seq(t)?)?;
    f.int32(0)?;
    let mut r = Reader::new(seq(f.need(1)?)?);
    let mut parts = Vec::new();
    while r.left() > 0 {
        let part = ber::tlv(&mut r)?;
        if parts.len() == MAX_NAME_PARTS {
            found.long_name = true;
            continue;
        }
        let mut s = String::new();
        push_string(&mut s, part, found)?;
        parts.push(s.into());
    }
    Some(parts)
}

/// An `EncryptedData`'s `etype` (its `cipher` must be there).
fn enc_etype(t: Tlv<'_>) -> Option<i32> {
    let f = Fields::of(seq(t)?)?;
    (f.need(2)?.tag == ber::OCTET_STRING).then_some(())?;
    f.int32(0)
}

/// A message's body: the SEQUENCE inside APPLICATION tag `app`, whose
/// `pvno` (at context tag `pvno_at`) is 5 and `msg-type` (next) is `app`.
fn body<'a>(t: Tlv<'a>, pvno_at: usize) -> Option<Fields<'a>> {
    let mut r = Reader::new(t.content);
    let inner = ber::tlv(&mut r)?;
    let f = Fields::of(seq(inner)?)?;
    (f.int(pvno_at)? == 5 && f.int(pvno_at + 1)? == i64::from(t.tag & 0x1f)).then_some(f)
}

/// A KDC-REQ (AS-REQ, TGS-REQ): the names and realm of its body.
fn kdc_req(t: Tlv<'_>, found: &mut Found) -> Option<Krb5Message> {
    let f = body(t, 1)?;
    let b = Fields::of(seq(f.need(4)?)?)?;
    b.need(0)?;
    let cname = opt(b.get(1)?, |n| principal(n, found))?;
    let realm = realm(b.need(2)?, found)?;
    let sname = opt(b.get(3)?, |n| principal(n, found))?;
    Some(Krb5Message {
        msg_type: u32::from(t.tag & 0x1f),
        failed_request: 0,
        error_code: None,
        cname,
        realm: Some(realm),
        sname,
        etype: None,
        ticket_etype: None,
    })
}

/// A KDC-REP (AS-REP, TGS-REP): the client's realm and name, the ticket's
/// server name and encryption type, the reply's encryption type.
fn kdc_rep(t: Tlv<'_>, found: &mut Found) -> Option<Krb5Message> {
    let f = body(t, 0)?;
    let crealm = realm(f.need(3)?, found)?;
    let cname = principal(f.need(4)?, found)?;
    // Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1],
    // sname [2], enc-part [3] }.
    let ticket = f.need(5)?;
    (ticket.tag == 0x61).then_some(())?;
    let mut r = Reader::new(ticket.content);
    let tk = Fields::of(seq(ber::tlv(&mut r)?)?)?;
    (tk.int(0)? == 5).then_some(())?;
    realm(tk.need(1)?, found)?;
    let sname = principal(tk.need(2)?, found)?;
    let ticket_etype = enc_etype(tk.need(3)?)?;
    let etype = enc_etype(f.need(6)?)?;
    Some(Krb5Message {
        msg_type: u32::from(t.tag & 0x1f),
        failed_request: 0,
        error_code: None,
        cname: Some(cname),
        realm: Some(crealm),
        sname: Some(sname),
        etype: Some(etype),
        ticket_etype: Some(ticket_etype),
    })
}

/// A KRB-ERROR: its code, the client's realm and name if there, the
/// server's name.
fn krb_error(t: Tlv<'_>, failed_request: u32, found: &mut Found) -> Option<Krb5Message> {
    let f = body(t, 0)?;
    f.need(4)?;
    f.need(5)?;
    let error_code = f.int32(6)?;
    let crealm = opt(f.get(7)?, |n| realm(n, found))?;
    let cname = opt(f.get(8)?, |n| principal(n, found))?;
    realm(f.need(9)?, found)?;
    let sname = principal(f.need(10)?, found)?;
    Some(Krb5Message {
        msg_type: ERROR,
        failed_request,
        error_code: Some(error_code),
        cname,
        realm: crealm,
        sname: Some(sname),
        etype: None,
        ticket_etype: None,
    })
}

/// What the parsers of both transports share: the flow's last request,
/// the anomalies, the transaction count.
#[derive(Debug, Clone, Default)]
struct Flow {
    /// The flow's last request type (AS-REQ, TGS-REQ, AP-REQ), 0 after a
    /// reply: the request an error answers, as Suricata tells it.
    last_request: u32,
    events: Anomalies<MAX_PENDING_EVENTS>,
    malformed: u64,
    next_tx: u64,
}

impl Flow {
    fn event(&mut self, name: &'static str, tx_id: Option<u64>) {
        self.events.push("krb5", name, tx_id);
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.events.next()
    }

    /// The message in `b` (one whole message), if it is one a record is
    /// written for; `out` gains it.
    fn message(&mut self, b: &[u8], out: &mut Vec<L7Message>) {
        let mut r = Reader::new(b);
        let Some(t) = ber::tlv(&mut r) else {
            self.malformed(None);
            return;
        };
        if t.tag & 0xe0 != 0x60 {
            // Not an APPLICATION message: left alone, as Suricata does.
            return;
        }
        let mut found = Found::default();
        let app = u32::from(t.tag & 0x1f);
        let m = match app {
            AS_REQ | TGS_REQ => {
                self.last_request = app;
                kdc_req(t, &mut found)
            }
            AS_REP | TGS_REP => {
                self.last_request = 0;
                kdc_rep(t, &mut found)
            }
            AP_REQ => {
                self.last_request = app;
                return;
            }
            AP_REP => {
                self.last_request = 0;
                return;
            }
            ERROR => {
                let failed = std::mem::take(&mut self.last_request);
                krb_error(t, failed, &mut found)
            }
            _ => return,
        };
        let Some(m) = m else {
            self.malformed(None);
            return;
        };
        let tx = self.next_tx;
        self.next_tx += 1;
        if m.etype.is_some_and(weak_etype) {
            self.event("weak_encryption", Some(tx));
        }
        if found.long_name {
            self.event("long_name", Some(tx));
        }
        out.push(L7Message::Krb5(Box::new(m)));
    }

    fn malformed(&mut self, tx: Option<u64>) {
        self.malformed += 1;
        self.event("malformed_data", tx);
    }
}

/// The Kerberos datagram parser: one message per datagram.
/// Messages: [`L7Message::Krb5`], from either side.
#[derive(Debug, Clone, Default)]
pub struct Krb5UdpParser {
    flow: Flow,
}

impl Krb5UdpParser {
    /// A parser (the UDP parser has no options past the route's).
    pub fn new(_cfg: &Krb5Config) -> Self {
        Krb5UdpParser::default()
    }

    /// Datagrams that held no message it could read (skipped).
    pub fn malformed(&self) -> u64 {
        self.flow.malformed
    }
}

impl DatagramParser for Krb5UdpParser {
    type Message = L7Message;

    fn parse(&mut self, payload: &[u8], _side: FlowSide) -> Vec<L7Message> {
        let mut out = Vec::new();
        if !payload.is_empty() {
            self.flow.message(payload, &mut out);
        }
        out
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.flow.next_event()
    }
}

/// One side's record reassembly: the record mark's bytes, then the record.
#[derive(Debug, Clone, Default)]
struct Side {
    /// Bytes of the record mark read so far (up to 4).
    mark: [u8; 4],
    mark_len: usize,
    /// The current record's length; bytes of it held in `buf`.
    want: usize,
    buf: Vec<u8>,
    /// Bytes of a record past the cap still to skip.
    skip: usize,
    /// A gap or a reserved record mark lost the framing: the rest of
    /// this side is ignored.
    lost: bool,
}

/// The Kerberos TCP parser: records of a 4-byte length (RFC 4120
/// §7.2.2), each one message, up to [`Krb5Config::max_record`] bytes.
/// Messages: [`L7Message::Krb5`], from either side.
#[derive(Debug, Clone)]
pub struct Krb5TcpParser {
    max_record: usize,
    flow: Flow,
    sides: [Side; 2],
}

impl Krb5TcpParser {
    /// A parser with these options.
    pub fn new(cfg: &Krb5Config) -> Self {
        Krb5TcpParser {
            max_record: cfg.max_record,
            flow: Flow::default(),
            sides: Default::default(),
        }
    }

    /// Records that held no message it could read (skipped).
    pub fn malformed(&self) -> u64 {
        self.flow.malformed
    }

    fn feed(&mut self, side: usize, mut bytes: &[u8]) -> Vec<L7Message> {
        let mut out = Vec::new();
        while !bytes.is_empty() && !self.sides[side].lost {
            let s = &mut self.sides[side];
            if s.skip > 0 {
                let n = s.skip.min(bytes.len());
                s.skip -= n;
                bytes = &bytes[n..];
                continue;
            }
            if s.mark_len < 4 {
                let n = (4 - s.mark_len).min(bytes.len());
                s.mark[s.mark_len..s.mark_len + n].copy_from_slice(&bytes[..n]);
                s.mark_len += n;
                bytes = &bytes[n..];
                if s.mark_len < 4 {
                    break;
                }
                let len = u32::from_be_bytes(s.mark);
                if len & 0x8000_0000 != 0 {
                    // The reserved bit (§7.2.2): no framing we know.
                    s.lost = true;
                    self.flow.malformed(None);
                    break;
                }
                let len = len as usize;
                if len > self.max_record {
                    s.skip = len;
                    s.mark_len = 0;
                    self.flow.event("record_too_long", None);
                    continue;
                }
                s.want = len;
                s.buf.clear();
                if len == 0 {
                    s.mark_len = 0;
                }
                continue;
            }
            let n = (s.want - s.buf.len()).min(bytes.len());
            s.buf.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if s.buf.len() == s.want {
                s.mark_len = 0;
                let record = std::mem::take(&mut s.buf);
                self.flow.message(&record, &mut out);
                let s = &mut self.sides[side];
                s.buf = record;
                s.buf.clear();
            }
        }
        out
    }

    fn gap(&mut self, side: usize) {
        let s = &mut self.sides[side];
        s.lost = true;
        s.buf = Vec::new();
    }
}

impl Default for Krb5TcpParser {
    fn default() -> Self {
        Krb5TcpParser::new(&Krb5Config::default())
    }
}

impl SessionParser for Krb5TcpParser {
    type Message = L7Message;

    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(0, bytes)
    }

    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<L7Message> {
        self.feed(1, bytes)
    }

    /// A gap loses the side's framing: the rest of that side is ignored.
    fn gap_initiator(&mut self, _len: u64) -> Vec<L7Message> {
        self.gap(0);
        Vec::new()
    }

    fn gap_responder(&mut self, _len: u64) -> Vec<L7Message> {
        self.gap(1);
        Vec::new()
    }

    fn next_event(&mut self) -> Option<AppEvent> {
        self.flow.next_event()
    }

    fn is_transaction(msg: &L7Message) -> bool {
        matches!(msg, L7Message::Krb5(_))
    }
}
