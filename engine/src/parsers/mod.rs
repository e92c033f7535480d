//! The built-in L7 parsers, each behind its Cargo feature (see the crate
//! docs): HTTP/1.x (module `http`, feature `http`), DNS over UDP and TCP
//! (`dns`), the TLS handshake (`tls`), the TLS hellos inside QUIC Initial
//! packets (`quic`), the TLS hellos both of them read (`hello`) and their
//! JA3/JA3S/JA4 fingerprints (`fingerprint`; both with `tls`), SSH
//! identification and HASSH fingerprints (`ssh`), FTP control
//! connections and their announced data transfers (`ftp`), DHCPv4
//! (`dhcp`), TFTP requests (`tftp`), SMTP transactions and their
//! messages' envelope fields (`smtp`), cleartext HTTP/2 with HPACK
//! (`http2`), SIP requests and responses over UDP and TCP (`sip`), the
//! RFB (VNC) handshake (`rfb`), SNMP v1, v2c and v3 messages (`snmp`).
//! They are
//! session API parsers ([`SessionParser`](crate::SessionParser)s and
//! [`DatagramParser`](crate::DatagramParser)s) and decode bytes with one
//! cursor (`reader`). Always here, whatever the features: their options
//! ([`ParsersConfig`], the `[parsers]` config table, read the same way in
//! every build), their common message type [`L7Message`] (one variant per
//! parser built), and [`builtin`], which registers the parsers built in
//! with a [`Sessions`] driver: port hints plus content probes, so HTTP on
//! 8081 and TLS on 8443 are found too.

#[cfg(feature = "dhcp")]
pub mod dhcp;
#[cfg(feature = "dns")]
pub mod dns;
#[cfg(feature = "tls")]
pub mod fingerprint;
#[cfg(feature = "ftp")]
pub mod ftp;
#[cfg(feature = "tls")]
pub mod hello;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "http2")]
pub mod http2;
#[cfg(feature = "quic")]
pub mod quic;
#[cfg(any(
    feature = "dns",
    feature = "tls",
    feature = "dhcp",
    feature = "http2",
    feature = "rfb",
    feature = "snmp"
))]
mod reader;
#[cfg(feature = "rfb")]
pub mod rfb;
#[cfg(feature = "sip")]
pub mod sip;
#[cfg(feature = "smtp")]
pub mod smtp;
#[cfg(feature = "snmp")]
pub mod snmp;
#[cfg(feature = "ssh")]
pub mod ssh;
#[cfg(feature = "tftp")]
pub mod tftp;
#[cfg(feature = "tls")]
pub mod tls;

mod builtin;

#[cfg(doc)]
use crate::session::Sessions;
pub use builtin::builtin;
use serde::Deserialize;

/// Highest `[parsers.http] max_headers` (HTTP heads are parsed into a stack
/// array this long).
pub const MAX_HEADERS_LIMIT: usize = 256;

/// What a built-in parser reports. Each variant is there with its parser's
/// Cargo feature (`Tls` also carries QUIC's hellos); with none of them the
/// enum has no values.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum L7Message {
    /// An HTTP request/response pair.
    #[cfg(feature = "http")]
    Http(Box<http::HttpTransaction>),
    /// A DNS query, answer or unanswered-query report.
    #[cfg(feature = "dns")]
    Dns(Box<dns::DnsMessage>),
    /// A TLS connection's handshake.
    #[cfg(feature = "tls")]
    Tls(Box<tls::TlsHandshake>),
    /// An SSH connection's identification lines and HASSH fingerprints.
    #[cfg(feature = "ssh")]
    Ssh(Box<ssh::SshConnection>),
    /// An FTP transaction: a command and its reply lines.
    #[cfg(feature = "ftp")]
    Ftp(Box<ftp::FtpTransaction>),
    /// A data transfer an FTP control connection announced (no record of
    /// its own: what the `ftp-data` connection is recognised by).
    #[cfg(feature = "ftp")]
    FtpTransfer(Box<ftp::FtpTransfer>),
    /// A DHCPv4 message.
    #[cfg(feature = "dhcp")]
    Dhcp(Box<dhcp::DhcpMessage>),
    /// A TFTP read or write request.
    #[cfg(feature = "tftp")]
    Tftp(Box<tftp::TftpRequest>),
    /// An SMTP mail transaction.
    #[cfg(feature = "smtp")]
    Smtp(Box<smtp::SmtpTransaction>),
    /// An HTTP/2 stream (request and response) or connection-level frame.
    #[cfg(feature = "http2")]
    Http2(Box<http2::Http2Stream>),
    /// A SIP request or response.
    #[cfg(feature = "sip")]
    Sip(Box<sip::SipMessage>),
    /// An RFB (VNC) connection's handshake.
    #[cfg(feature = "rfb")]
    Rfb(Box<rfb::RfbHandshake>),
    /// An SNMP message (a request, a response, a trap...).
    #[cfg(feature = "snmp")]
    Snmp(Box<snmp::SnmpMessage>),
}

/// `[parsers.http]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Parse HTTP.
    pub enabled: bool,
    /// Port hints (content probes find HTTP on other ports too).
    pub ports: Vec<u16>,
    /// UDP ports whose datagrams are HTTP heads (SSDP).
    pub udp_ports: Vec<u16>,
    /// Keep every request and response header (EVE `request_headers` /
    /// `response_headers`).
    pub headers: bool,
    /// Largest head (request/status line plus headers) in bytes; larger
    /// ones are skipped and counted.
    pub max_header_bytes: usize,
    /// Most headers per head (at most 256).
    pub max_headers: usize,
    /// SHA-256 of each response body seen whole.
    pub body_sha256: bool,
    /// Keep the first N bytes of each response body (0: none).
    pub body_sample_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            enabled: true,
            ports: vec![80, 8000, 8080, 8008, 3128, 8888],
            udp_ports: vec![1900],
            headers: false,
            max_header_bytes: 64 * 1024,
            max_headers: 128,
            body_sha256: false,
            body_sample_bytes: 0,
        }
    }
}

/// `[parsers.dns]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct DnsConfig {
    /// Parse DNS.
    pub enabled: bool,
    /// Ports DNS is parsed on (UDP and TCP; a content check confirms it).
    pub ports: Vec<u16>,
    /// A query with no response after this long is reported unanswered.
    pub query_timeout_ms: u64,
    /// Queries awaiting a response per flow; the oldest is reported
    /// unanswered when a new one would exceed it (0: no matching).
    pub max_pending: usize,
    /// Emit `unanswered` reports.
    pub report_unanswered: bool,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            enabled: true,
            ports: vec![53],
            query_timeout_ms: 5_000,
            max_pending: 64,
            report_unanswered: true,
        }
    }
}

/// `[parsers.tls]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// Parse TLS handshakes.
    pub enabled: bool,
    /// Port hints (content probes find TLS on other ports too).
    pub ports: Vec<u16>,
    /// Largest handshake message buffered (certificate chains are the big
    /// ones); a larger one ends parsing of that direction, counted.
    pub max_handshake_bytes: usize,
    /// Decode the whole certificate chain (EVE `tls.chain`), not only the
    /// server's own certificate.
    pub chain: bool,
    /// Ports whose connections may switch to TLS after a plaintext phase
    /// (STARTTLS and the like): the first client segment that starts with a
    /// TLS handshake record starts TLS parsing.
    pub starttls_ports: Vec<u16>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            enabled: true,
            ports: vec![
                443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 5061, 8443,
            ],
            max_handshake_bytes: 256 * 1024,
            chain: false,
            starttls_ports: vec![21, 25, 110, 143, 389, 587, 3306, 3389, 5222, 5432],
        }
    }
}

/// `[parsers.quic]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct QuicConfig {
    /// Decrypt client Initial packets for the ClientHello (any UDP port;
    /// found by content).
    pub enabled: bool,
}

impl Default for QuicConfig {
    fn default() -> Self {
        QuicConfig { enabled: true }
    }
}

/// `[parsers.ssh]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SshConfig {
    /// Parse SSH.
    pub enabled: bool,
    /// Port hints (the content probe finds SSH on other ports too).
    pub ports: Vec<u16>,
    /// Read each side's KEXINIT for its HASSH fingerprint (EVE
    /// `ssh.client.hassh` / `ssh.server.hassh`); off, only the
    /// identification lines are read.
    pub hassh: bool,
}

impl Default for SshConfig {
    fn default() -> Self {
        SshConfig {
            enabled: true,
            ports: vec![22],
            hassh: true,
        }
    }
}

/// `[parsers.ftp]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct FtpConfig {
    /// Parse FTP control connections.
    pub enabled: bool,
    /// Port hints (the content probe finds FTP on other ports too).
    pub ports: Vec<u16>,
    /// Longest command or reply line kept; longer ones are cut and flagged
    /// `command_truncated` / `reply_truncated`.
    pub max_line_bytes: usize,
    /// Reply lines kept per transaction; the rest are dropped and the
    /// record flagged `reply_truncated`.
    pub max_reply_lines: usize,
    /// Transactions open at once (commands awaiting their reply); one more
    /// stops parsing of the flow (Suricata's `max-tx`).
    pub max_pending: usize,
}

impl Default for FtpConfig {
    fn default() -> Self {
        FtpConfig {
            enabled: true,
            ports: vec![21],
            max_line_bytes: 4096,
            max_reply_lines: 256,
            max_pending: 1024,
        }
    }
}

/// `[parsers.dhcp]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct DhcpConfig {
    /// Parse DHCPv4.
    pub enabled: bool,
    /// Ports DHCP is parsed on (UDP; a content check confirms it).
    pub ports: Vec<u16>,
    /// Options kept per message (the ones EVE records show); the rest
    /// are left unread and reported (`too_many_options`).
    pub max_options: usize,
}

impl Default for DhcpConfig {
    fn default() -> Self {
        DhcpConfig {
            enabled: true,
            ports: vec![67, 68],
            max_options: 64,
        }
    }
}

/// `[parsers.tftp]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct TftpConfig {
    /// Parse TFTP requests.
    pub enabled: bool,
    /// Server ports TFTP requests are read on (UDP; a content check
    /// confirms it).
    pub ports: Vec<u16>,
}

impl Default for TftpConfig {
    fn default() -> Self {
        TftpConfig {
            enabled: true,
            ports: vec![69],
        }
    }
}

/// `[parsers.smtp]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Parse SMTP.
    pub enabled: bool,
    /// Port hints (the content probe finds SMTP on other ports too).
    pub ports: Vec<u16>,
    /// Longest command or reply line (and message header line) read whole;
    /// the rest of a longer one is dropped (`TRUNCATED_LINE`).
    pub max_line_bytes: usize,
    /// Longest message header value kept (Suricata's
    /// `header-value-depth`); more is dropped (`MIME_LONG_HEADER_VALUE`).
    pub max_header_value_bytes: usize,
    /// Most RCPT TO arguments kept per transaction.
    pub max_recipients: usize,
    /// Most attachment file names kept per message.
    pub max_attachments: usize,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            enabled: true,
            ports: vec![25, 587, 2525],
            max_line_bytes: 4096,
            max_header_value_bytes: 2000,
            max_recipients: 1024,
            max_attachments: 256,
        }
    }
}

/// `[parsers.http2]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Http2Config {
    /// Parse cleartext HTTP/2 (h2c: the client preface, or an HTTP/1.1
    /// `Upgrade: h2c`).
    pub enabled: bool,
    /// Port hints (the preface probe finds HTTP/2 on any port).
    pub ports: Vec<u16>,
    /// Largest frame payload buffered (HEADERS, CONTINUATION,
    /// PUSH_PROMISE, SETTINGS, GOAWAY...; DATA is never buffered); a
    /// larger one is skipped (`long_frame_data`; a header frame stops that
    /// side, its HPACK state being lost).
    pub max_frame_bytes: usize,
    /// Largest header block (HEADERS or PUSH_PROMISE plus CONTINUATIONs),
    /// and longest decoded header string.
    pub max_header_block_bytes: usize,
    /// Most header representations kept per stream side.
    pub max_headers: usize,
    /// Open streams per flow; one more reports the oldest as it stands
    /// (`too_many_streams`).
    pub max_streams: usize,
    /// Hard cap on each HPACK dynamic table, whatever
    /// SETTINGS_HEADER_TABLE_SIZE or a size update asks for.
    pub max_table_size: usize,
}

impl Default for Http2Config {
    fn default() -> Self {
        Http2Config {
            enabled: true,
            ports: vec![80, 8080],
            max_frame_bytes: 64 * 1024,
            max_header_block_bytes: 64 * 1024,
            max_headers: 256,
            max_streams: 1024,
            max_table_size: 64 * 1024,
        }
    }
}

/// `[parsers.sip]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SipConfig {
    /// Parse SIP (UDP and TCP).
    pub enabled: bool,
    /// Port hints (the content probe finds SIP on other ports too).
    pub ports: Vec<u16>,
    /// Longest line of a message head (start line or header field); a
    /// longer one makes the message invalid (`line_too_long`).
    pub max_line: usize,
    /// Most header fields per message (`too_many_headers` past it).
    pub max_headers: usize,
    /// Most bytes of one message head buffered on TCP
    /// (`message_too_long` past it; the side stops).
    pub max_message: usize,
}

impl Default for SipConfig {
    fn default() -> Self {
        SipConfig {
            enabled: true,
            ports: vec![5060],
            max_line: 8192,
            max_headers: 256,
            max_message: 65_536,
        }
    }
}

/// `[parsers.rfb]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RfbConfig {
    /// Parse RFB (VNC).
    pub enabled: bool,
    /// Port hints (the content probe finds RFB on other ports too).
    pub ports: Vec<u16>,
}

impl Default for RfbConfig {
    fn default() -> Self {
        RfbConfig {
            enabled: true,
            ports: (5900..=5910).collect(),
        }
    }
}

/// `[parsers.snmp]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SnmpConfig {
    /// Parse SNMP (UDP).
    pub enabled: bool,
    /// Port hints (the content probe finds SNMP on other ports too).
    pub ports: Vec<u16>,
    /// Variable bindings whose OIDs are kept per PDU; the rest are read
    /// but not listed (`too_many_vars`).
    pub max_vars: usize,
}

impl Default for SnmpConfig {
    fn default() -> Self {
        SnmpConfig {
            enabled: true,
            ports: vec![161, 162],
            max_vars: 1024,
        }
    }
}

/// `[parsers]`: the built-in parsers' options.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ParsersConfig {
    /// Protocol anomalies (`anomaly` records of `type: applayer`) reported
    /// per flow, at most; the rest are counted. 0: none are reported.
    pub max_events_per_flow: u32,
    /// HTTP/1.x.
    pub http: HttpConfig,
    /// DNS.
    pub dns: DnsConfig,
    /// TLS.
    pub tls: TlsConfig,
    /// QUIC client Initials (the TLS ClientHello inside).
    pub quic: QuicConfig,
    /// SSH.
    pub ssh: SshConfig,
    /// FTP.
    pub ftp: FtpConfig,
    /// DHCPv4.
    pub dhcp: DhcpConfig,
    /// TFTP.
    pub tftp: TftpConfig,
    /// SMTP.
    pub smtp: SmtpConfig,
    /// Cleartext HTTP/2.
    pub http2: Http2Config,
    /// SIP.
    pub sip: SipConfig,
    /// RFB (VNC).
    pub rfb: RfbConfig,
    /// SNMP.
    pub snmp: SnmpConfig,
}

impl Default for ParsersConfig {
    fn default() -> Self {
        ParsersConfig {
            max_events_per_flow: crate::DEFAULT_MAX_EVENTS_PER_FLOW,
            http: HttpConfig::default(),
            dns: DnsConfig::default(),
            tls: TlsConfig::default(),
            quic: QuicConfig::default(),
            ssh: SshConfig::default(),
            ftp: FtpConfig::default(),
            dhcp: DhcpConfig::default(),
            tftp: TftpConfig::default(),
            smtp: SmtpConfig::default(),
            http2: Http2Config::default(),
            sip: SipConfig::default(),
            rfb: RfbConfig::default(),
            snmp: SnmpConfig::default(),
        }
    }
}

impl ParsersConfig {
    /// Rejects values the parsers cannot work with.
    pub fn validate(&self) -> Result<(), crate::ConfigError> {
        use crate::config::{check_ports, check_range};
        let h = &self.http;
        check_range(
            "parsers.http.max_headers",
            h.max_headers,
            1,
            MAX_HEADERS_LIMIT,
            "",
        )?;
        let header_bytes = h.max_header_bytes;
        check_range(
            "parsers.http.max_header_bytes",
            header_bytes,
            256,
            16 << 20,
            " bytes",
        )?;
        let sample = h.body_sample_bytes;
        check_range(
            "parsers.http.body_sample_bytes",
            sample,
            0,
            1 << 20,
            " bytes",
        )?;
        let handshake = self.tls.max_handshake_bytes;
        check_range(
            "parsers.tls.max_handshake_bytes",
            handshake,
            1024,
            16 << 20,
            " bytes",
        )?;
        check_range(
            "parsers.dns.max_pending",
            self.dns.max_pending,
            0,
            65_536,
            "",
        )?;
        let query_ms = self.dns.query_timeout_ms;
        check_range(
            "parsers.dns.query_timeout_ms",
            query_ms,
            1,
            3_600_000,
            " ms",
        )?;
        check_range(
            "parsers.dhcp.max_options",
            self.dhcp.max_options,
            1,
            1024,
            "",
        )?;
        let m = &self.smtp;
        check_range(
            "parsers.smtp.max_line_bytes",
            m.max_line_bytes,
            64,
            1 << 20,
            " bytes",
        )?;
        check_range(
            "parsers.smtp.max_header_value_bytes",
            m.max_header_value_bytes,
            64,
            1 << 20,
            " bytes",
        )?;
        check_range(
            "parsers.smtp.max_recipients",
            m.max_recipients,
            1,
            1 << 20,
            "",
        )?;
        check_range(
            "parsers.smtp.max_attachments",
            m.max_attachments,
            0,
            1 << 16,
            "",
        )?;
        let h2 = &self.http2;
        check_range(
            "parsers.http2.max_frame_bytes",
            h2.max_frame_bytes,
            1024,
            16 << 20,
            " bytes",
        )?;
        check_range(
            "parsers.http2.max_header_block_bytes",
            h2.max_header_block_bytes,
            1024,
            16 << 20,
            " bytes",
        )?;
        check_range("parsers.http2.max_headers", h2.max_headers, 1, 65_536, "")?;
        check_range("parsers.http2.max_streams", h2.max_streams, 1, 1 << 20, "")?;
        check_range(
            "parsers.http2.max_table_size",
            h2.max_table_size,
            0,
            16 << 20,
            " bytes",
        )?;
        let sip = &self.sip;
        check_range("parsers.sip.max_line", sip.max_line, 64, 1 << 20, " bytes")?;
        check_range("parsers.sip.max_headers", sip.max_headers, 1, 4096, "")?;
        check_range(
            "parsers.sip.max_message",
            sip.max_message,
            sip.max_line,
            16 << 20,
            " bytes",
        )?;
        for (key, ports) in [
            ("parsers.http.ports", &h.ports),
            ("parsers.http.udp_ports", &h.udp_ports),
            ("parsers.dns.ports", &self.dns.ports),
            ("parsers.tls.ports", &self.tls.ports),
            ("parsers.tls.starttls_ports", &self.tls.starttls_ports),
            ("parsers.ssh.ports", &self.ssh.ports),
            ("parsers.ftp.ports", &self.ftp.ports),
            ("parsers.dhcp.ports", &self.dhcp.ports),
            ("parsers.tftp.ports", &self.tftp.ports),
            ("parsers.smtp.ports", &self.smtp.ports),
            ("parsers.http2.ports", &h2.ports),
            ("parsers.sip.ports", &self.sip.ports),
            ("parsers.rfb.ports", &self.rfb.ports),
            ("parsers.snmp.ports", &self.snmp.ports),
        ] {
            check_ports(key, ports)?;
        }
        let f = &self.ftp;
        check_range(
            "parsers.ftp.max_line_bytes",
            f.max_line_bytes,
            16,
            1 << 20,
            " bytes",
        )?;
        check_range(
            "parsers.ftp.max_reply_lines",
            f.max_reply_lines,
            1,
            65_536,
            "",
        )?;
        check_range("parsers.ftp.max_pending", f.max_pending, 1, 65_536, "")?;
        check_range("parsers.snmp.max_vars", self.snmp.max_vars, 1, 65_536, "")?;
        Ok(())
    }

    /// Turns every parser off (each table's `enabled`), the ones to come
    /// included: a front end's "no parsers" switch.
    pub fn disable_all(&mut self) {
        let ParsersConfig {
            max_events_per_flow: _,
            http,
            dns,
            tls,
            quic,
            ssh,
            ftp,
            dhcp,
            tftp,
            smtp,
            http2,
            sip,
            rfb,
            snmp,
        } = self;
        // The destructuring names every table: a new one must be added.
        http.enabled = false;
        dns.enabled = false;
        tls.enabled = false;
        quic.enabled = false;
        ssh.enabled = false;
        ftp.enabled = false;
        dhcp.enabled = false;
        tftp.enabled = false;
        smtp.enabled = false;
        http2.enabled = false;
        sip.enabled = false;
        rfb.enabled = false;
        snmp.enabled = false;
    }

    /// Whether any parser is on: enabled here and built into this crate
    /// (its Cargo feature on), so [`builtin`] registers it.
    pub fn any_enabled(&self) -> bool {
        self.parsers().into_iter().any(|(_, on, built)| on && built)
    }

    /// The parsers this config enables that this build lacks (their Cargo
    /// feature is off): [`builtin`] does not register them. Empty with the
    /// default features; a front end can warn about each.
    pub fn not_built(&self) -> impl Iterator<Item = &'static str> {
        self.parsers()
            .into_iter()
            .filter(|&(_, on, built)| on && !built)
            .map(|(name, ..)| name)
    }

    /// Each built-in parser (the name of its feature), whether this config
    /// enables it, and whether its feature is on.
    fn parsers(&self) -> [(&'static str, bool, bool); 13] {
        [
            ("http", self.http.enabled, cfg!(feature = "http")),
            ("dns", self.dns.enabled, cfg!(feature = "dns")),
            ("tls", self.tls.enabled, cfg!(feature = "tls")),
            ("quic", self.quic.enabled, cfg!(feature = "quic")),
            ("ssh", self.ssh.enabled, cfg!(feature = "ssh")),
            ("ftp", self.ftp.enabled, cfg!(feature = "ftp")),
            ("dhcp", self.dhcp.enabled, cfg!(feature = "dhcp")),
            ("tftp", self.tftp.enabled, cfg!(feature = "tftp")),
            ("smtp", self.smtp.enabled, cfg!(feature = "smtp")),
            ("http2", self.http2.enabled, cfg!(feature = "http2")),
            ("sip", self.sip.enabled, cfg!(feature = "sip")),
            ("rfb", self.rfb.enabled, cfg!(feature = "rfb")),
            ("snmp", self.snmp.enabled, cfg!(feature = "snmp")),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parser the config enables but this build lacks is named, and
    /// counts as off; one the config turns off is neither.
    #[test]
    fn enabled_parsers_without_their_feature_are_named() {
        let cfg = ParsersConfig::default();
        let missing: Vec<&str> = cfg.not_built().collect();
        let built = [
            ("http", cfg!(feature = "http")),
            ("dns", cfg!(feature = "dns")),
            ("tls", cfg!(feature = "tls")),
            ("quic", cfg!(feature = "quic")),
            ("ssh", cfg!(feature = "ssh")),
            ("ftp", cfg!(feature = "ftp")),
            ("dhcp", cfg!(feature = "dhcp")),
            ("tftp", cfg!(feature = "tftp")),
            ("smtp", cfg!(feature = "smtp")),
            ("http2", cfg!(feature = "http2")),
            ("sip", cfg!(feature = "sip")),
            ("rfb", cfg!(feature = "rfb")),
            ("snmp", cfg!(feature = "snmp")),
        ];
        for (name, built) in built {
            assert_eq!(missing.contains(&name), !built, "{name}");
        }
        assert_eq!(cfg.any_enabled(), missing.len() < built.len());
        let mut off = cfg;
        off.disable_all();
        assert_eq!(off.not_built().count(), 0);
        assert!(!off.any_enabled());
    }

    /// The `[parsers]` table is checked the same way whatever the features.
    #[test]
    fn validation_does_not_depend_on_the_features() {
        let mut cfg = ParsersConfig::default();
        assert!(cfg.validate().is_ok());
        cfg.http.max_headers = MAX_HEADERS_LIMIT;
        assert!(cfg.validate().is_ok());
        cfg.http.max_headers = MAX_HEADERS_LIMIT + 1;
        assert!(cfg.validate().is_err());
    }
}
