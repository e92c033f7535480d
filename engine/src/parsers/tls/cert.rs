//! The server's certificate chain: the Certificate message's list walked,
//! each DER certificate decoded (x509-parser) into a [`Certificate`] —
//! subject, issuer, serial, validity, DNS SANs, SHA-1 fingerprint.

use super::TlsParser;
use crate::parsers::reader::Reader;
use sha1::{Digest, Sha1};

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
            match certificate(der) {
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

/// Whether the leaf of a Certificate message decodes (the client's,
/// after the server asked for one: Suricata waits for it).
pub(super) fn leaf_decodes(msg: &[u8]) -> bool {
    let mut l = Reader::new(chain(msg));
    l.u24()
        .and_then(|n| l.take(n))
        .is_some_and(|der| x509_parser::parse_x509_certificate(der).is_ok())
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

/// Decodes one DER certificate.
pub fn certificate(der: &[u8]) -> Option<Certificate> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut san = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            if let x509_parser::extensions::GeneralName::DNSName(n) = name
                && san.len() < 64
            {
                san.push((*n).to_string());
            }
        }
    }
    Some(Certificate {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: colon_hex(cert.raw_serial(), true),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        san,
        fingerprint: colon_hex(&Sha1::digest(der), false),
        der: Box::default(),
    })
}
