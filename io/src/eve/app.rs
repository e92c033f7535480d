//! EVE `http` (HTTP/2's: module `http2`), `dns`, `tls`, `quic` (Google
//! QUIC's: module `gquic`), `ssh`
//! (module `ssh`), `ftp` (module `ftp`), `dhcp` (module `dhcp`), `tftp`
//! (module `tftp`), `smtp` (module `smtp`), `sip` (module `sip`), `rfb`
//! (module `rfb`), `mqtt` (module `mqtt`), `snmp` (module `snmp`),
//! `krb5` (module `krb5`), `pgsql` (module `pgsql`), `ike` (module `ike`),
//! `dcerpc` (module `dcerpc`), `modbus` (module `modbus`), `dnp3` (module
//! `dnp3`), `rdp` (module `rdp`), `nfs` (module `nfs`), `smb` (module `smb`) and
//! `bittorrent_dht` (module `bittorrent_dht`) records from
//! the built-in parsers' [`L7Message`]s, shaped like Suricata 7's (DNS: EVE
//! v2 answers), plus flowscope's documented extensions (`rtt_us`,
//! `incomplete`, `tunnel`, `unanswered` DNS reports...).

use super::OutputConfig;
use crate::json::{JsonObject, write_datetime_secs};
use base64::Engine as _;
use flowscope_engine::parsers::L7Message;
use flowscope_engine::parsers::ftp::FtpTransfer;
use flowscope_engine::parsers::hello::{ClientHello, ServerHello, extension_name};
use flowscope_engine::parsers::http::{HttpTransaction, HttpTunnel};
use flowscope_engine::parsers::quic;
use flowscope_engine::parsers::tls::{TlsHandshake, TlsStop, version_name};

mod bittorrent_dht;
mod dcerpc;
mod dhcp;
mod dnp3;
mod dns;
mod ftp;
mod gquic;
mod http2;
mod ike;
mod krb5;
mod modbus;
mod mqtt;
mod nfs;
mod pgsql;
mod rdp;
mod rfb;
mod sip;
mod smb;
mod smtp;
mod snmp;
mod ssh;
mod tftp;

/// A message type that has EVE records.
pub trait EveMessage {
    /// The record's `event_type`, or `None` when this message has no
    /// record.
    fn event_type(&self) -> Option<&'static str>;
    /// Writes the record's nested object(s) (after the endpoint fields).
    fn write_body(&self, o: &mut JsonObject<'_>, cfg: &OutputConfig);
    /// Whether the record's source is the sender of the packet that made
    /// it (Suricata's `quic` records: the server's hello has the server as
    /// `src_ip`) rather than the flow's client.
    fn sender_is_source(&self) -> bool {
        false
    }
    /// Whether the record's source is the flow's responder, whichever
    /// packet made it (Suricata's `mqtt` records of a transaction the
    /// broker opened, as a PUBLISH to a subscriber).
    fn source_is_responder(&self) -> bool {
        false
    }
    /// A data transfer an FTP control connection announced: no record of
    /// its own, but a marker line for the `ftp-data` stage
    /// ([`FtpDataStage`](crate::FtpDataStage)) that runs on the ordered
    /// output.
    fn ftp_transfer(&self) -> Option<&FtpTransfer> {
        None
    }
}

impl EveMessage for flowscope_engine::NoMessage {
    fn event_type(&self) -> Option<&'static str> {
        match *self {}
    }
    fn write_body(&self, _: &mut JsonObject<'_>, _: &OutputConfig) {
        match *self {}
    }
}

impl EveMessage for L7Message {
    fn event_type(&self) -> Option<&'static str> {
        Some(match self {
            L7Message::Http(_) => "http",
            L7Message::Dns(_) => "dns",
            L7Message::Tls(t) if t.quic_version.is_some() => "quic",
            L7Message::Tls(_) => "tls",
            L7Message::Gquic(_) => "quic",
            L7Message::Ssh(_) => "ssh",
            L7Message::Ftp(_) => "ftp",
            L7Message::Dhcp(_) => "dhcp",
            L7Message::Tftp(_) => "tftp",
            L7Message::Smtp(_) => "smtp",
            L7Message::Http2(_) => "http",
            L7Message::Sip(_) => "sip",
            L7Message::Rfb(_) => "rfb",
            L7Message::Mqtt(_) => "mqtt",
            L7Message::Snmp(_) => "snmp",
            L7Message::Krb5(_) => "krb5",
            L7Message::Pgsql(_) => "pgsql",
            L7Message::Ike(_) => "ike",
            L7Message::Dcerpc(_) => "dcerpc",
            L7Message::Modbus(_) => "modbus",
            L7Message::Rdp(_) => "rdp",
            L7Message::Dnp3(_) => "dnp3",
            L7Message::Nfs(_) => "nfs",
            L7Message::Smb(_) => "smb",
            L7Message::BittorrentDht(_) => "bittorrent_dht",
            _ => return None,
        })
    }

    fn write_body(&self, o: &mut JsonObject<'_>, cfg: &OutputConfig) {
        match self {
            L7Message::Http(t) => write_http(o, t),
            L7Message::Dns(d) => dns::write_dns(o, d),
            L7Message::Tls(t) => match t.quic_version {
                Some(v) => write_quic(o, t, v),
                None => write_tls(o, t, cfg),
            },
            L7Message::Gquic(p) => gquic::write_gquic(o, p),
            L7Message::Ssh(c) => ssh::write_ssh(o, c),
            L7Message::Ftp(t) => ftp::write_ftp(o, t),
            L7Message::Dhcp(m) => dhcp::write_dhcp(o, m),
            L7Message::Tftp(r) => tftp::write_tftp(o, r),
            L7Message::Smtp(t) => smtp::write_smtp(o, t),
            L7Message::Http2(t) => http2::write_http2(o, t),
            L7Message::Sip(m) => sip::write_sip(o, m),
            L7Message::Rfb(h) => rfb::write_rfb(o, h),
            L7Message::Mqtt(t) => mqtt::write_mqtt(o, t),
            L7Message::Snmp(m) => snmp::write_snmp(o, m),
            L7Message::Krb5(m) => krb5::write_krb5(o, m),
            L7Message::Pgsql(t) => pgsql::write_pgsql(o, t),
            L7Message::Ike(m) => ike::write_ike(o, m),
            L7Message::Dcerpc(c) => dcerpc::write_dcerpc(o, c),
            L7Message::Modbus(t) => modbus::write_modbus(o, t),
            L7Message::Rdp(t) => rdp::write_rdp(o, t),
            L7Message::Dnp3(m) => dnp3::write_dnp3(o, m),
            L7Message::Nfs(r) => nfs::write_nfs(o, r),
            L7Message::Smb(t) => smb::write_smb(o, t),
            L7Message::BittorrentDht(m) => bittorrent_dht::write_bittorrent_dht(o, m),
            _ => {}
        }
    }

    fn sender_is_source(&self) -> bool {
        // Suricata's quic (gQUIC's too), dhcp, sip, snmp, krb5 (over UDP), ike, nfs and
        // bittorrent_dht records name the packet's sender as `src_ip`.
        matches!(self, L7Message::Tls(t) if t.quic_version.is_some())
            || matches!(
                self,
                L7Message::Gquic(_)
                    | L7Message::Dhcp(_)
                    | L7Message::Sip(_)
                    | L7Message::Snmp(_)
                    | L7Message::Krb5(_)
                    | L7Message::Ike(_)
                    | L7Message::Nfs(_)
                    | L7Message::BittorrentDht(_)
            )
    }

    fn source_is_responder(&self) -> bool {
        matches!(self, L7Message::Mqtt(t) if t.to_client)
    }

    fn ftp_transfer(&self) -> Option<&FtpTransfer> {
        match self {
            L7Message::FtpTransfer(t) => Some(t),
            _ => None,
        }
    }
}

/// Suricata's `set_string_from_bytes`: UTF-8 as is, else each byte from
/// 0x80 as `\xNN` (`pgsql` and `modbus` records).
fn text(v: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(v) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => {
            let mut s = String::with_capacity(v.len() * 4);
            for &b in v {
                if b < 0x80 {
                    s.push(char::from(b));
                } else {
                    s.push_str(&format!("\\x{b:02x}"));
                }
            }
            std::borrow::Cow::Owned(s)
        }
    }
}

fn opt_bytes(o: &mut JsonObject<'_>, k: &'static str, v: &Option<Box<[u8]>>) {
    if let Some(v) = v {
        o.bytes(k, v);
    }
}

use flowscope_engine::parsers::fingerprint::{hex, is_grease};

fn write_headers(
    o: &mut JsonObject<'_>,
    k: &'static str,
    headers: &[flowscope_engine::parsers::http::Header],
) {
    o.begin_array(k);
    for (name, value) in headers {
        o.item_object();
        o.bytes("name", name).bytes("value", value);
        o.end();
    }
    o.end();
}

/// Suricata's `content_range`: the raw value, and its numbers when it
/// reads.
fn write_content_range(o: &mut JsonObject<'_>, raw: &[u8]) {
    o.begin("content_range");
    o.bytes("raw", raw);
    if let Some(r) = flowscope_engine::parsers::http::content_range(raw) {
        for (k, v) in [("start", r.start), ("end", r.end), ("size", r.size)] {
            if let Some(v) = v {
                o.u64(k, v);
            }
        }
    }
    o.end();
}

fn write_http(o: &mut JsonObject<'_>, t: &HttpTransaction) {
    o.u64("tx_id", t.tx_id);
    o.begin("http");
    opt_bytes(o, "hostname", &t.hostname);
    if let Some(port) = t.port {
        o.u64("http_port", u64::from(port));
    }
    opt_bytes(o, "url", &t.uri);
    opt_bytes(o, "http_user_agent", &t.user_agent);
    if let Some(ct) = &t.content_type {
        // Suricata keeps the media type: the value up to its first `;`.
        let end = ct.iter().position(|&c| c == b';').unwrap_or(ct.len());
        o.bytes("http_content_type", &ct[..end]);
    }
    if let Some(raw) = &t.content_range {
        write_content_range(o, raw);
    }
    opt_bytes(o, "http_refer", &t.referer);
    opt_bytes(o, "http_method", &t.method);
    let protocol = if t.protocol.is_some() {
        &t.protocol
    } else {
        &t.response_protocol
    };
    opt_bytes(o, "protocol", protocol);
    if let Some(s) = t.status {
        o.u64("status", u64::from(s));
    }
    opt_bytes(o, "redirect", &t.location);
    // Suricata's `length`: the message body as transferred (chunk framing
    // included); the decoded size too when it differs.
    o.u64("length", t.response_message_len);
    if t.response_body_len != t.response_message_len {
        o.u64("response_body_len", t.response_body_len);
    }
    if t.request_body_len > 0 {
        o.u64("request_body_len", t.request_body_len);
    }
    if let Some(h) = &t.response_body_sha256 {
        o.str("response_body_sha256", &hex(h));
    }
    opt_bytes(o, "response_body_sample", &t.response_body_sample);
    if t.gap_bytes > 0 {
        o.u64("gap_bytes", t.gap_bytes);
    }
    if t.incomplete {
        o.bool("incomplete", true);
    }
    match &t.tunnel {
        Some(HttpTunnel::Connect) => {
            o.str("tunnel", "connect");
        }
        Some(HttpTunnel::Upgrade(to)) => {
            o.str("tunnel", "upgrade").bytes("upgrade", to);
        }
        _ => {}
    }
    if !t.request_headers.is_empty() {
        write_headers(o, "request_headers", &t.request_headers);
    }
    if !t.response_headers.is_empty() {
        write_headers(o, "response_headers", &t.response_headers);
    }
    o.end();
}

fn write_tls(o: &mut JsonObject<'_>, t: &TlsHandshake, cfg: &OutputConfig) {
    o.begin("tls");
    if let Some(c) = t.certificates.first() {
        o.str("subject", &c.subject).str("issuerdn", &c.issuer);
        o.str("serial", &c.serial)
            .str("fingerprint", &c.fingerprint);
    }
    let ch = t.client_hello.as_ref();
    if let Some(sni) = ch.and_then(|c| c.sni.as_deref()) {
        o.bytes("sni", sni);
    }
    o.str("version", &version_name(t.version().unwrap_or(0)));
    if let Some(c) = t.certificates.first() {
        let mut buf = Vec::with_capacity(20);
        write_datetime_secs(&mut buf, c.not_before);
        o.bytes("notbefore", &buf);
        buf.clear();
        write_datetime_secs(&mut buf, c.not_after);
        o.bytes("notafter", &buf);
        if !c.san.is_empty() {
            o.bytes_array("san", c.san.iter().map(|s| s.as_bytes()));
        }
    }
    if let Some(j) = &t.ja3 {
        o.begin("ja3");
        o.str("hash", &j.hash).str("string", &j.string);
        o.end();
    }
    if let Some(j) = &t.ja3s {
        o.begin("ja3s");
        o.str("hash", &j.hash).str("string", &j.string);
        o.end();
    }
    if let Some(j) = &t.ja4 {
        o.str("ja4", j);
    }
    let server_alpn = t.server_hello.as_ref().and_then(|s| s.alpn.as_deref());
    if let Some(a) = server_alpn {
        o.bytes("alpn", a);
    }
    if let Some(c) = ch
        && !c.alpn.is_empty()
    {
        o.bytes_array("client_alpns", c.alpn.iter().map(|a| &a[..]));
    }
    if let Some(a) = server_alpn {
        o.bytes_array("server_alpns", [a]);
    }
    if let Some(p) = t.from_proto {
        o.str("from_proto", p);
    }
    if t.certificates.iter().any(|c| !c.der.is_empty()) {
        // Suricata's form: every certificate of the chain, the server's
        // first, in base64.
        o.begin_array("chain");
        let mut b64 = String::new();
        for c in t.certificates.iter().filter(|c| !c.der.is_empty()) {
            b64.clear();
            base64::engine::general_purpose::STANDARD.encode_string(&c.der, &mut b64);
            o.item_bytes(b64.as_bytes());
        }
        o.end();
    }
    if let Some(c) = ch
        && cfg.tls_client_handshake
    {
        o.begin("client_handshake");
        let v = c
            .supported_versions
            .iter()
            .copied()
            .filter(|&v| !is_grease(v))
            .max()
            .unwrap_or(c.version);
        o.str("version", &version_name(v));
        o.begin_array("ciphers");
        for &x in &c.ciphers {
            o.item_u64(u64::from(x));
        }
        o.end();
        o.begin_array("exts");
        for &x in &c.extensions {
            o.item_u64(u64::from(x));
        }
        o.end();
        o.begin_array("sig_algs");
        for &x in &c.signature_algorithms {
            o.item_u64(u64::from(x));
        }
        o.end();
        o.end();
    }
    if t.hello_retry_request {
        o.bool("hello_retry_request", true);
    }
    if t.client_hellos > 1 {
        o.u64("client_hellos", u64::from(t.client_hellos));
    }
    if !t.alerts.is_empty() {
        o.begin_array("alerts");
        for a in &t.alerts {
            o.item_object();
            o.str("direction", super::direction_name(a.side))
                .u64("level", u64::from(a.level))
                .u64("description", u64::from(a.description));
            o.end();
        }
        o.end();
    }
    o.str(
        "parsing",
        match t.stop {
            TlsStop::Encrypted => "stopped_encrypted",
            TlsStop::FlowEnd => "flow_ended",
            TlsStop::NotTls => "not_tls",
            TlsStop::HandshakeDone => "handshake_done",
        },
    );
    if t.gap_bytes > 0 {
        o.u64("gap_bytes", t.gap_bytes);
    }
    o.end();
}

/// Suricata's `quic` record: version, SNI, ALPN and the fingerprints of
/// the ClientHello carried in the client's Initial packets.
fn write_quic(o: &mut JsonObject<'_>, t: &TlsHandshake, version: u32) {
    o.begin("quic");
    o.str("version", &quic::version_name(version));
    if let Some(c) = &t.client_hello {
        if let Some(sni) = &c.sni {
            o.bytes("sni", sni);
        }
        if !c.alpn.is_empty() {
            o.bytes_array("client_alpns", c.alpn.iter().map(|a| &a[..]));
        }
    }
    if let Some(j) = &t.ja3 {
        o.begin("ja3");
        o.str("hash", &j.hash).str("string", &j.string);
        o.end();
    }
    if let Some(j) = &t.ja4 {
        o.str("ja4", j);
    }
    if let Some(s) = &t.server_hello {
        if let Some(j) = &t.ja3s {
            o.begin("ja3s");
            o.str("hash", &j.hash).str("string", &j.string);
            o.end();
        }
        if !s.extensions.is_empty() {
            write_server_extensions(o, s);
        }
    }
    if let Some(c) = &t.client_hello
        && !c.extensions.is_empty()
    {
        write_quic_extensions(o, c);
    }
    o.end();
}

/// The server's hello's extensions as Suricata writes them in its `quic`
/// record: names and types, the version chosen under supported_versions.
fn write_server_extensions(o: &mut JsonObject<'_>, s: &ServerHello) {
    o.begin_array("extensions");
    for &ty in &s.extensions {
        o.item_object();
        if let Some(n) = extension_name(ty) {
            o.str("name", n);
        }
        o.u64("type", u64::from(if is_grease(ty) { 0xfafa } else { ty }));
        if ty == 43 {
            o.begin_array("values");
            let v = s.selected_version;
            match tls_parser_version(v) {
                Some(n) => o.item_bytes(n.as_bytes()),
                None => o.item_bytes(format!("TlsVersion({v} / 0x{v:x})").as_bytes()),
            };
            o.end();
        }
        o.end();
    }
    o.end();
}

/// Suricata's `quic.extensions`: each extension of the ClientHello in wire
/// order (GREASE included, as type 0xfafa whatever its value) with its
/// `name` (when it has one), `type` and,
/// for server_name, alpn, supported_versions and signature_algorithms,
/// its `values` as strings.
fn write_quic_extensions(o: &mut JsonObject<'_>, c: &ClientHello) {
    use std::io::Write;
    let mut buf = Vec::new();
    o.begin_array("extensions");
    for &ty in &c.extensions {
        o.item_object();
        if let Some(n) = extension_name(ty) {
            o.str("name", n);
        }
        // Suricata's decoder files every GREASE value under 0xfafa.
        let ty_out = if is_grease(ty) { 0xfafa } else { ty };
        o.u64("type", u64::from(ty_out));
        let values = match ty {
            0 => usize::from(c.sni.is_some()),
            16 => c.alpn.len(),
            43 => c.supported_versions.len(),
            13 => c.signature_algorithms.len(),
            _ => 0,
        };
        if values > 0 {
            o.begin_array("values");
            match ty {
                0 => {
                    o.item_bytes(c.sni.as_deref().unwrap_or_default());
                }
                16 => {
                    for a in &c.alpn {
                        o.item_bytes(a);
                    }
                }
                43 => {
                    for &v in &c.supported_versions {
                        buf.clear();
                        // Writing to a Vec cannot fail.
                        let _ = match tls_parser_version(v) {
                            Some(n) => buf.write_all(n.as_bytes()),
                            None => write!(buf, "TlsVersion({v} / 0x{v:x})"),
                        };
                        o.item_bytes(&buf);
                    }
                }
                _ => {
                    for &a in &c.signature_algorithms {
                        buf.clear();
                        let _ = write!(buf, "{a}");
                        o.item_bytes(&buf);
                    }
                }
            }
            o.end();
        }
        o.end();
    }
    o.end();
}

/// The names Suricata's `quic` record gives supported versions (those of
/// the tls-parser crate it decodes with); others are written
/// `TlsVersion(N / 0xhex)`.
fn tls_parser_version(v: u16) -> Option<&'static str> {
    Some(match v {
        0x0300 => "Ssl30",
        0x0301 => "Tls10",
        0x0302 => "Tls11",
        0x0303 => "Tls12",
        0x0304 => "Tls13",
        0x7f12 => "Tls13Draft18",
        0x7f13 => "Tls13Draft19",
        0x7f14 => "Tls13Draft20",
        0x7f15 => "Tls13Draft21",
        0x7f16 => "Tls13Draft22",
        0x7f17 => "Tls13Draft23",
        0xfeff => "DTls10",
        0xfefe => "DTls11",
        0xfefd => "DTls12",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
