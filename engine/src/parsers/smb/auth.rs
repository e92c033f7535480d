//! Session setup security blobs (RFC 4178 SPNEGO inside RFC 2743's GSS-API
//! framing), read as Suricata reads them with `parsers::ber`: a
//! NegTokenInit's mechanism list says whether its token is Kerberos (the
//! AP-REQ's ticket, decoded by `parsers::krb5`) or NTLMSSP; any other blob
//! (a NegTokenResp, a bare NTLMSSP message) is searched for an NTLMSSP
//! AUTHENTICATE message.

use super::ntlmssp::{self, Ntlmssp};
use crate::parsers::ber;
use crate::parsers::krb5;
use crate::parsers::reader::Reader;

/// The SPNEGO OID, 1.3.6.1.5.5.2.
const SPNEGO: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
/// Kerberos 5, 1.2.840.113554.1.2.2.
const KRB5: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
/// NTLMSSP, 1.3.6.1.4.1.311.2.2.10.
const NTLM: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];

/// A Kerberos ticket's realm and server name components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kerberos {
    /// The ticket's realm.
    pub realm: Box<str>,
    /// The server name's components.
    pub snames: Vec<Box<str>>,
}

/// What a security blob says about the client.
#[derive(Debug, Default)]
pub(super) struct Identity {
    pub(super) ntlmssp: Option<Ntlmssp>,
    pub(super) kerberos: Option<Kerberos>,
}

/// The blob's identity (both `None` when it names none).
pub(super) fn secblob(blob: &[u8]) -> Identity {
    match spnego_init(blob) {
        Some(init) => negtokeninit(init),
        None => Identity {
            ntlmssp: ntlmssp::authenticate(blob),
            kerberos: None,
        },
    }
}

/// The NegTokenInit's content inside GSS-API framing with the SPNEGO OID.
fn spnego_init(blob: &[u8]) -> Option<&[u8]> {
    let mut r = Reader::new(blob);
    let outer = ber::tlv(&mut r)?;
    outer.constructed().then_some(())?;
    let mut r = Reader::new(outer.content);
    let oid = ber::tlv(&mut r)?;
    (oid.tag == ber::OID && oid.content == SPNEGO).then_some(())?;
    let init = ber::tlv(&mut r)?;
    init.constructed().then_some(init.content)
}

/// A NegTokenInit's mechanisms and token, in Suricata's reading: each
/// element's inner value, a mechanism list (a SEQUENCE of OIDs) before
/// the token (an OCTET STRING).
fn negtokeninit(init: &[u8]) -> Identity {
    let mut id = Identity::default();
    let mut r = Reader::new(init);
    let Some(seq) = ber::tlv(&mut r).filter(|t| t.tag == ber::SEQUENCE) else {
        return id;
    };
    let (mut krb, mut ntlm) = (false, false);
    let mut r = Reader::new(seq.content);
    while r.left() > 0 {
        let Some(el) = ber::tlv(&mut r) else { break };
        let Some(inner) = ber::tlv(&mut Reader::new(el.content)) else {
            continue;
        };
        match inner.tag {
            ber::SEQUENCE => {
                let mut m = Reader::new(inner.content);
                while let Some(oid) = ber::tlv(&mut m) {
                    if oid.tag == ber::OID {
                        krb |= oid.content == KRB5;
                        ntlm |= oid.content == NTLM;
                    }
                }
            }
            ber::OCTET_STRING => {
                if krb && let Some(t) = krb5::gss_ap_req_ticket(inner.content) {
                    id.kerberos = Some(Kerberos {
                        realm: t.realm,
                        snames: t.snames,
                    });
                }
                if ntlm && id.kerberos.is_none() {
                    id.ntlmssp = ntlmssp::authenticate(inner.content);
                }
            }
            _ => {}
        }
    }
    id
}
