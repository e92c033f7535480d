//! The server's certificate chain: the Certificate message's list walked,
//! each DER certificate decoded (x509-parser) into a [`Certificate`] —
//! subject, issuer, serial, validity, DNS SANs, SHA-1 fingerprint.

use super::TlsParser;
use crate::parsers::memo::Memo;
use crate::parsers::reader::Reader;
use sha1::{Digest, Sha1};
use std::cell::RefCell;

/// Certificates decoded per chain.
const MAX_CERTS: usize = 10;

/// One certificate of the chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Certificate {
    /// Subject DN (`C=US, O=..., CN=...`).
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial, `0A:1B:...`.
    pub serial: String,
    /// Validity start, Unix seconds.
    pub not_before: i64,
    /// Validity end, Unix seconds.
    pub not_after: i64,
    /// DNS names of the subjectAltName extension.
    pub san: Vec<String>,
    /// SHA-1 of the DER, `aa:bb:...`.
    pub fingerprint: String,
    /// The DER itself, kept only with `chain` on (EVE `tls.chain`, as
    /// Suricata writes it: each certificate in base64); empty otherwise.
    pub der: Box<[u8]>,
}

impl TlsParser {
    /// Decodes the chain of a Certificate message (the leaf only unless
    /// `chain` is on).
    pub(super) fn certificates(&mut self, msg: &[u8]) {
        let mut l = Reader::new(chain(msg));
        while l.left() >= 3 {
            let Some(n) = l.u24() else { break };
            let Some(der) = l.take(n) else { break };
            let limit = if self.cfg.chain { MAX_CERTS } else { 1 };
            if self.hs.certificates.len() >= limit {
                // Decoding certificates is the parser's costliest step: the
                // rest of the chain only when asked for.
                break;
            }
            match CERTS.with(|c| c.borrow_mut().remembered(der, certificate)) {
                Some(mut c) => {
                    if self.cfg.chain {
                        c.der = der.into();
                    }
                    self.hs.certificates.push(c);
                }
                None => self.hs.bad_certificates += 1,
            }
        }
    }
}

/// Certificates remembered per thread, in one set (every hash compared:
/// a decoding costs far more), and the longest remembered: larger ones are
/// decoded every time, so the memo holds at most 2 MiB of DER.
const REMEMBERED: usize = 256;
const MAX_DER: usize = 8 * 1024;

const fn no_certificates() -> Memo<Certificate> {
    Memo::new(REMEMBERED, REMEMBERED, MAX_DER, 0x6365_7274)
}

thread_local! {
    /// Certificates decoded on this thread, remembered for the flows that
    /// bring them again (`crate::parsers::memo`).
    static CERTS: RefCell<Memo<Certificate>> =
        const { RefCell::new(no_certificates()) };
}

/// Forgets this thread's decoded certificates. Done when a set of
/// built-in parsers is made, so an engine starts cold whatever ran on its
/// thread before.
pub(crate) fn forget_certificates() {
    CERTS.with(|c| *c.borrow_mut() = no_certificates());
}

/// Certificates this thread remembers now.
#[cfg(test)]
pub(super) fn certificates_remembered() -> usize {
    CERTS.with(|c| c.borrow().len())
}

/// Whether the leaf of a Certificate message decodes (the client's,
/// after the server asked for one: Suricata waits for it).
pub(super) fn leaf_decodes(msg: &[u8]) -> bool {
    let mut l = Reader::new(chain(msg));
    l.u24()
        .and_then(|n| l.take(n))
        .is_some_and(|der| parse(der).is_some())
}

/// The certificate list of a Certificate message (cut to what is there).
fn chain(msg: &[u8]) -> &[u8] {
    let mut r = Reader::new(msg);
    r.u24()
        .and_then(|len| r.take(len.min(r.left())))
        .unwrap_or_default()
}

fn colon_hex(b: &[u8], upper: bool) -> String {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut s = String::with_capacity(b.len() * 3);
    for (i, &x) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push(char::from(digits[usize::from(x >> 4)]));
        s.push(char::from(digits[usize::from(x & 0xf)]));
    }
    s
}

/// Parses a DER certificate, its extensions split but not decoded: only
/// the subjectAltName is read, and decoding every extension (key usage,
/// policies, CRL and OCSP locations...) was most of the decoder's work.
/// Whether a certificate parses does not change: a deep parse keeps an
/// extension it cannot decode as a parse error too.
pub(crate) fn parse(der: &[u8]) -> Option<x509_parser::certificate::X509Certificate<'_>> {
    use x509_parser::nom::Parser as _;
    x509_parser::certificate::X509CertificateParser::new()
        .with_deep_parse_extensions(false)
        .parse(der)
        .ok()
        .map(|(_, cert)| cert)
}

/// The DNS names of a certificate's subjectAltName extension (none when
/// it is absent, present twice or does not decode).
fn dns_names(cert: &x509_parser::certificate::X509Certificate<'_>) -> Vec<String> {
    use x509_parser::prelude::{FromDer, GeneralName, SubjectAlternativeName};
    let oid = x509_parser::oid_registry::OID_X509_EXT_SUBJECT_ALT_NAME;
    let Ok(Some(ext)) = cert.get_extension_unique(&oid) else {
        return Vec::new();
    };
    let Ok((_, names)) = SubjectAlternativeName::from_der(ext.value) else {
        return Vec::new();
    };
    names
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(n) => Some((*n).to_string()),
            _ => None,
        })
        .take(64)
        .collect()
}

/// Decodes one DER certificate.
pub fn certificate(der: &[u8]) -> Option<Certificate> {
    let cert = parse(der)?;
    Some(Certificate {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: colon_hex(cert.raw_serial(), true),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        san: dns_names(&cert),
        fingerprint: colon_hex(&Sha1::digest(der), false),
        der: Box::default(),
    })
}
