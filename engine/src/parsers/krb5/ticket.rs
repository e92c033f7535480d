//! The ticket inside a GSS-API Kerberos 5 AP-REQ token (RFC 4121 §4.1:
//! `[APPLICATION 0]` holding the mechanism OID, the token id `01 00` and
//! the AP-REQ), as SMB's session setup carries it in SPNEGO: the ticket's
//! realm and server name components, read with this module's BER readers.

use super::{Fields, Found, body, principal_parts, realm, seq};
use crate::parsers::ber;
use crate::parsers::reader::Reader;

/// An AP-REQ ticket's realm and `sname` components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApReqTicket {
    /// The ticket's realm.
    pub realm: Box<str>,
    /// The ticket's server name, one entry per component (at most
    /// [`super::MAX_NAME_PARTS`]).
    pub snames: Vec<Box<str>>,
}

/// The ticket of the AP-REQ in GSS-API token `token`; `None` when it is
/// no such token or does not decode.
pub fn gss_ap_req_ticket(token: &[u8]) -> Option<ApReqTicket> {
    let mut r = Reader::new(token);
    let outer = ber::tlv(&mut r)?;
    (outer.tag == 0x60).then_some(())?;
    let mut r = Reader::new(outer.content);
    (ber::tlv(&mut r)?.tag == ber::OID).then_some(())?;
    (r.u16()? == 0x0100).then_some(())?;
    let ap = ber::tlv(&mut r)?;
    (ap.tag == 0x60 | super::AP_REQ as u8).then_some(())?;
    let f = body(ap, 0)?;
    let ticket = f.need(3)?;
    (ticket.tag == 0x61).then_some(())?;
    let mut tr = Reader::new(ticket.content);
    let tf = Fields::of(seq(ber::tlv(&mut tr)?)?)?;
    let mut found = Found::default();
    let realm = realm(tf.need(1)?, &mut found)?;
    let snames = principal_parts(tf.need(2)?, &mut found)?;
    Some(ApReqTicket { realm, snames })
}
