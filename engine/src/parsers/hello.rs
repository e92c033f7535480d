//! The TLS hellos as read off the wire: [`ClientHello`] and [`ServerHello`]
//! with every extension the fingerprints and the EVE record need, and
//! their decoders — [`parse_client_hello`], [`parse_server_hello`] and the
//! SSLv2-compatible ClientHello. TLS over TCP ([`tls`](super::tls)), QUIC
//! Initials (module `quic`, feature `quic`) and the fingerprints
//! ([`fingerprint`](super::fingerprint)) share them.
//!
//! The decoders are hand-written rather than tls-parser's: JA3/JA4 need
//! the raw wire order and values of every extension (GREASE and unknown
//! ones included) and must survive truncated or odd hellos.

use super::reader::Reader;

/// Items kept per list (ciphers, extensions...).
const MAX_ITEMS: usize = 512;

/// The HelloRetryRequest's fixed `random` (RFC 8446 §4.1.3).
pub(super) const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A ClientHello's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3).
    pub version: u16,
    /// Client random.
    pub random: [u8; 32],
    /// Session id.
    pub session_id: Box<[u8]>,
    /// Cipher suites in order (GREASE included).
    pub ciphers: Vec<u16>,
    /// Compression methods.
    pub compression: Vec<u8>,
    /// Extension types in order (GREASE included).
    pub extensions: Vec<u16>,
    /// server_name (host_name entry).
    pub sni: Option<Box<[u8]>>,
    /// ALPN protocol ids.
    pub alpn: Vec<Box<[u8]>>,
    /// supported_versions.
    pub supported_versions: Vec<u16>,
    /// supported_groups (elliptic curves).
    pub groups: Vec<u16>,
    /// ec_point_formats.
    pub ec_point_formats: Vec<u8>,
    /// signature_algorithms in order.
    pub signature_algorithms: Vec<u16>,
    /// key_share groups offered.
    pub key_share_groups: Vec<u16>,
    /// psk_key_exchange_modes.
    pub psk_modes: Vec<u8>,
    /// An encrypted_client_hello extension (0xfe0d) was present.
    pub ech: bool,
    /// Sent in SSLv2-compatible form (ciphers are then 3-byte specs, kept
    /// when they map to a TLS suite).
    pub sslv2: bool,
}

/// A ServerHello's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerHello {
    /// `legacy_version`.
    pub version: u16,
    /// The version agreed (supported_versions when present, else
    /// `version`).
    pub selected_version: u16,
    /// Server random.
    pub random: [u8; 32],
    /// Session id.
    pub session_id: Box<[u8]>,
    /// Cipher suite chosen.
    pub cipher: u16,
    /// Compression chosen.
    pub compression: u8,
    /// Extension types in order.
    pub extensions: Vec<u16>,
    /// ALPN protocol chosen.
    pub alpn: Option<Box<[u8]>>,
    /// This is a HelloRetryRequest.
    pub hello_retry_request: bool,
}

/// The name of a TLS extension type as Suricata writes it (EVE
/// `quic.extensions[].name`): the IANA registry's names, lower-cased, for
/// 0–59 (40 and 46 are unassigned), 13172 and 65281; `None` for the rest
/// (GREASE, private and later ones), which Suricata writes by number only.
pub fn extension_name(ty: u16) -> Option<&'static str> {
    const NAMES: [&str; 60] = [
        "server_name",
        "max_fragment_length",
        "client_certificate_url",
        "trusted_ca_keys",
        "truncated_hmac",
        "status_request",
        "user_mapping",
        "client_authz",
        "server_authz",
        "cert_type",
        "supported_groups",
        "ec_point_formats",
        "srp",
        "signature_algorithms",
        "use_srtp",
        "heartbeat",
        "alpn",
        "status_request_v2",
        "signed_certificate_timestamp",
        "client_certificate_type",
        "server_certificate_type",
        "padding",
        "encrypt_then_mac",
        "extended_master_secret",
        "token_binding",
        "cached_info",
        "tls_lts",
        "compress_certificate",
        "record_size_limit",
        "pwd_protect",
        "pwd_clear",
        "password_salt",
        "ticket_pinning",
        "tls_cert_with_extern_psk",
        "delegated_credentials",
        "session_ticket",
        "tlmsp",
        "tlmsp_proxying",
        "tlmsp_delegate",
        "supported_ekt_ciphers",
        "",
        "pre_shared_key",
        "early_data",
        "supported_versions",
        "cookie",
        "psk_key_exchange_modes",
        "",
        "certificate_authorities",
        "oid_filters",
        "post_handshake_auth",
        "signature_algorithms_cert",
        "key_share",
        "transparency_info",
        "connection_id_deprecated",
        "connection_id",
        "external_id_hash",
        "external_session_id",
        "quic_transport_parameters",
        "ticket_request",
        "dnssec_chain",
    ];
    match ty {
        13172 => Some("next_protocol_negotiation"),
        65281 => Some("renegotiation_info"),
        _ => NAMES
            .get(usize::from(ty))
            .copied()
            .filter(|n| !n.is_empty()),
    }
}

fn u16_list(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2)
        .take(MAX_ITEMS)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

/// Parses a ClientHello body (after the 4-byte handshake header). A hello
/// cut short keeps what was read (extensions up to the damage).
pub fn parse_client_hello(body: &[u8]) -> Option<ClientHello> {
    let mut r = Reader::new(body);
    let mut ch = ClientHello {
        version: r.u16()?,
        ..ClientHello::default()
    };
    ch.random.copy_from_slice(r.take(32)?);
    ch.session_id = r.vec8()?.into();
    ch.ciphers = u16_list(r.vec16()?);
    ch.compression = r.vec8()?.iter().copied().take(MAX_ITEMS).collect();
    if r.left() < 2 {
        return Some(ch);
    }
    let Some(exts) = r.vec16() else {
        return Some(ch);
    };
    let mut e = Reader::new(exts);
    while e.left() >= 4 {
        let (Some(ty), Some(data)) = (e.u16(), e.vec16()) else {
            break;
        };
        if ch.extensions.len() < MAX_ITEMS {
            ch.extensions.push(ty);
        }
        client_extension(&mut ch, ty, data);
    }
    Some(ch)
}

fn client_extension(ch: &mut ClientHello, ty: u16, data: &[u8]) {
    let mut d = Reader::new(data);
    match ty {
        0 => {
            // server_name_list: the first host_name entry.
            if let Some(list) = d.vec16() {
                let mut l = Reader::new(list);
                while l.left() >= 3 {
                    let (Some(kind), Some(name)) = (l.u8(), l.vec16()) else {
                        break;
                    };
                    if kind == 0 && ch.sni.is_none() {
                        ch.sni = Some(name.into());
                    }
                }
            }
        }
        10 => ch.groups = d.vec16().map(u16_list).unwrap_or_default(),
        11 => {
            ch.ec_point_formats = d
                .vec8()
                .map(|v| v.iter().copied().take(MAX_ITEMS).collect())
                .unwrap_or_default()
        }
        13 => ch.signature_algorithms = d.vec16().map(u16_list).unwrap_or_default(),
        16 => {
            if let Some(list) = d.vec16() {
                let mut l = Reader::new(list);
                while let Some(p) = l.vec8() {
                    if ch.alpn.len() < 32 {
                        ch.alpn.push(p.into());
                    }
                }
            }
        }
        43 => ch.supported_versions = d.vec8().map(u16_list).unwrap_or_default(),
        45 => {
            ch.psk_modes = d
                .vec8()
                .map(|v| v.iter().copied().take(16).collect())
                .unwrap_or_default()
        }
        51 => {
            if let Some(list) = d.vec16() {
                let mut l = Reader::new(list);
                while let (Some(group), Some(_key)) = (l.u16(), l.vec16()) {
                    if ch.key_share_groups.len() < 32 {
                        ch.key_share_groups.push(group);
                    }
                }
            }
        }
        0xfe0d => ch.ech = true,
        _ => {}
    }
}

/// Parses a ServerHello body.
pub fn parse_server_hello(body: &[u8]) -> Option<ServerHello> {
    let mut r = Reader::new(body);
    let mut sh = ServerHello {
        version: r.u16()?,
        ..ServerHello::default()
    };
    sh.selected_version = sh.version;
    sh.random.copy_from_slice(r.take(32)?);
    sh.hello_retry_request = sh.random == HRR_RANDOM;
    // TLS 1.3 drafts before 22 announce themselves here (0x7fXX, or
    // 0x0304 before draft 16) and their hello has neither session id nor
    // compression method.
    let early_draft = sh.version == 0x0304 || sh.version >> 8 == 0x7f;
    if !early_draft {
        sh.session_id = r.vec8()?.into();
    }
    sh.cipher = r.u16()?;
    if !early_draft {
        sh.compression = r.u8()?;
    }
    if r.left() < 2 {
        return Some(sh);
    }
    let Some(exts) = r.vec16() else {
        return Some(sh);
    };
    let mut e = Reader::new(exts);
    while e.left() >= 4 {
        let (Some(ty), Some(data)) = (e.u16(), e.vec16()) else {
            break;
        };
        if sh.extensions.len() < MAX_ITEMS {
            sh.extensions.push(ty);
        }
        let mut d = Reader::new(data);
        match ty {
            43 => {
                if let Some(v) = d.u16() {
                    sh.selected_version = v;
                }
            }
            16 => {
                if let Some(list) = d.vec16() {
                    sh.alpn = Reader::new(list).vec8().map(Into::into);
                }
            }
            _ => {}
        }
    }
    Some(sh)
}

/// An SSLv2-compatible ClientHello record (RFC 6101 appendix E.2), from
/// the record's first byte.
pub(super) fn parse_sslv2_client_hello(b: &[u8]) -> Option<(ClientHello, usize)> {
    let mut record = Reader::new(b);
    // A 2-byte header: the high bit set, then the length.
    let len = usize::from(record.u16()? & 0x7fff);
    let mut r = Reader::new(record.take(len)?);
    if r.u8()? != 1 {
        return None;
    }
    let version = r.u16()?;
    let cipher_len = usize::from(r.u16()?);
    let sid_len = usize::from(r.u16()?);
    let challenge_len = usize::from(r.u16()?);
    let specs = r.take(cipher_len)?;
    let sid = r.take(sid_len)?;
    let challenge = r.take(challenge_len)?;
    let mut ch = ClientHello {
        version,
        sslv2: true,
        session_id: sid.into(),
        ..ClientHello::default()
    };
    // TLS suites appear as 0x00XXXX specs; SSLv2-only kinds are dropped.
    ch.ciphers = specs
        .chunks_exact(3)
        .filter(|s| s[0] == 0)
        .take(MAX_ITEMS)
        .map(|s| u16::from_be_bytes([s[1], s[2]]))
        .collect();
    let n = challenge.len().min(32);
    ch.random[32 - n..].copy_from_slice(&challenge[challenge.len() - n..]);
    Some((ch, record.pos()))
}
