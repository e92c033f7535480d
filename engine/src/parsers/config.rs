//! Each built-in parser's `[parsers.NAME]` table ([`HttpConfig`] ...
//! [`BittorrentDhtConfig`]): its switch, ports, caps and options, with their
//! defaults. Always built, whatever the features, so a config file reads
//! the same in every build; [`ParsersConfig`](super::ParsersConfig) holds
//! them and checks their ranges.

use serde::Deserialize;

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
    /// A flow whose server chose HTTP/2 by ALPN (`h2`) is `app_proto:
    /// http2`, `app_proto_orig: tls` (off: `tls`, as Suricata names it).
    pub app_proto_from_alpn: bool,
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
            app_proto_from_alpn: false,
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
    /// UDP ports on which a flow first seen after its handshake (short
    /// headers only) is still recognised as QUIC, by the shape of its
    /// first datagram (`quic::probe_mid_connection`): it gets
    /// `app_proto` `quic` and no record. Empty: only flows with an
    /// Initial are QUIC.
    pub mid_connection_ports: Vec<u16>,
}

impl Default for QuicConfig {
    fn default() -> Self {
        QuicConfig {
            enabled: true,
            mid_connection_ports: vec![443],
        }
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

/// `[parsers.ntp]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct NtpConfig {
    /// Name NTP flows (`app_proto: ntp`; no record is written).
    pub enabled: bool,
    /// Ports NTP is recognised on (UDP; the packet's version confirms it).
    pub ports: Vec<u16>,
}

impl Default for NtpConfig {
    fn default() -> Self {
        NtpConfig {
            enabled: true,
            ports: vec![123],
        }
    }
}

/// `[parsers.telnet]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct TelnetConfig {
    /// Name Telnet flows (`app_proto: telnet`; no record is written).
    pub enabled: bool,
    /// Ports Telnet is recognised on (TCP; the first bytes confirm it).
    pub ports: Vec<u16>,
}

impl Default for TelnetConfig {
    fn default() -> Self {
        TelnetConfig {
            enabled: true,
            ports: vec![23],
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

/// `[parsers.mqtt]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// Parse MQTT.
    pub enabled: bool,
    /// Port hints (the CONNECT probe finds MQTT on other ports too).
    pub ports: Vec<u16>,
    /// Longest control packet read (remaining length, Suricata's
    /// `max-msg-length`); a longer one is skipped unread and reported
    /// with `truncated` and `skipped_length`.
    pub max_msg_length: usize,
    /// Transactions open at once (awaiting their acknowledgement,
    /// Suricata's `max-tx`); one more reports the oldest as it stands
    /// (`too_many_transactions`).
    pub max_tx: usize,
    /// Topics kept per SUBSCRIBE or UNSUBSCRIBE (and codes per SUBACK or
    /// UNSUBACK); the rest are counted (`too_many_topics`).
    pub max_topics: usize,
    /// Properties kept per v5 property list (`too_many_properties`).
    pub max_properties: usize,
    /// Bytes of each PUBLISH message (and will message) kept for EVE
    /// `message`; a longer one is cut (`message_truncated`).
    pub max_message_bytes: usize,
    /// Keep CONNECT's password (EVE `password`), as Suricata's
    /// `passwords: yes`.
    pub passwords: bool,
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            enabled: true,
            ports: vec![1883],
            max_msg_length: 1 << 20,
            max_tx: 4096,
            max_topics: 1024,
            max_properties: 256,
            max_message_bytes: 65_536,
            passwords: false,
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

/// `[parsers.krb5]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Krb5Config {
    /// Parse Kerberos 5 (UDP and TCP).
    pub enabled: bool,
    /// Port hints (the content probe finds Kerberos on other ports too).
    pub ports: Vec<u16>,
    /// Longest TCP record read, in bytes; a longer one is skipped
    /// (`record_too_long`).
    pub max_record: usize,
}

impl Default for Krb5Config {
    fn default() -> Self {
        Krb5Config {
            enabled: true,
            ports: vec![88],
            max_record: 1 << 16,
        }
    }
}

/// `[parsers.dcerpc]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct DcerpcConfig {
    /// Parse DCE/RPC (connection-oriented over TCP, connectionless over
    /// UDP).
    pub enabled: bool,
    /// Port hints (the header probe finds DCE/RPC on any port, the
    /// services' dynamic ports among them).
    pub ports: Vec<u16>,
    /// Calls waiting for their answer at once per flow; one more writes
    /// the oldest as it stands (`too_many_transactions`).
    pub max_tx: usize,
}

impl Default for DcerpcConfig {
    fn default() -> Self {
        DcerpcConfig {
            enabled: true,
            ports: vec![135],
            max_tx: 256,
        }
    }
}

/// `[parsers.nfs]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct NfsConfig {
    /// Parse NFS (v2, v3 and v4 over ONC RPC, TCP and UDP).
    pub enabled: bool,
    /// Port hints (the RPC probe finds NFS on other ports too).
    pub ports: Vec<u16>,
    /// Longest TCP record buffered, in bytes; the rest of a longer one is
    /// skipped (`record_too_long`; a large READ reply's or WRITE call's
    /// file data is skipped whatever its length).
    pub max_record: usize,
    /// Transactions and calls waiting for their reply at once per flow;
    /// one more finishes the oldest as it stands
    /// (`too_many_transactions`, `too_many_calls`).
    pub max_tx: usize,
}

impl Default for NfsConfig {
    fn default() -> Self {
        NfsConfig {
            enabled: true,
            ports: vec![2049],
            max_record: 1 << 20,
            max_tx: 1024,
        }
    }
}

/// `[parsers.smb]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SmbConfig {
    /// Parse SMB (SMB 2/3 and SMB1 over TCP, NetBIOS session framing).
    pub enabled: bool,
    /// Port hints (the header probe finds SMB on other ports too).
    pub ports: Vec<u16>,
    /// Longest message kept, in bytes; the rest of a longer one is
    /// skipped (`record_too_long`; a READ response's or WRITE request's
    /// data is skipped past its first 4 KiB whatever its length).
    pub max_record: usize,
    /// Transactions waiting at once per flow; one more writes the oldest
    /// as it stands (`too_many_transactions`).
    pub max_tx: usize,
}

impl Default for SmbConfig {
    fn default() -> Self {
        SmbConfig {
            enabled: true,
            ports: vec![445, 139],
            max_record: 1 << 20,
            max_tx: 1024,
        }
    }
}

/// `[parsers.pgsql]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct PgsqlConfig {
    /// Parse PostgreSQL.
    pub enabled: bool,
    /// Port hints (the startup-packet probe finds PostgreSQL on other
    /// ports too).
    pub ports: Vec<u16>,
    /// Longest message read, in bytes (tag and length included); a longer
    /// one is skipped unread (`message_too_long`; a DataRow still counts
    /// as a row).
    pub max_msg_length: usize,
    /// Transactions waiting for their answer at once (Suricata's
    /// `max-tx`); one more reports the oldest as it stands
    /// (`too_many_transactions`).
    pub max_tx: usize,
    /// StartupMessage parameters kept besides `user`
    /// (`too_many_parameters`).
    pub max_parameters: usize,
    /// Keep PasswordMessage's password (EVE `password`), as Suricata's
    /// `passwords: yes`.
    pub passwords: bool,
}

impl Default for PgsqlConfig {
    fn default() -> Self {
        PgsqlConfig {
            enabled: true,
            ports: vec![5432],
            max_msg_length: 1 << 20,
            max_tx: 1024,
            max_parameters: 64,
            passwords: false,
        }
    }
}

/// `[parsers.dnp3]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Dnp3Config {
    /// Parse DNP3 over TCP.
    pub enabled: bool,
    /// Port hints (the link header probe finds DNP3 on other ports too).
    pub ports: Vec<u16>,
    /// Application fragments being put together at once per flow; at this
    /// many the oldest is dropped (`FLOODED`, Suricata's request flood
    /// count).
    pub max_tx: usize,
    /// Bytes of one application fragment; a longer one is dropped
    /// (`FRAGMENT_TOO_LONG`).
    pub max_fragment: usize,
    /// Objects decoded per fragment; decoding stops there
    /// (`TOO_MANY_OBJECTS`, the fragment not `complete`).
    pub max_objects: usize,
    /// Points decoded per object; decoding stops there
    /// (`TOO_MANY_POINTS`, the fragment not `complete`).
    pub max_points: usize,
}

impl Default for Dnp3Config {
    fn default() -> Self {
        Dnp3Config {
            enabled: true,
            ports: vec![20000],
            max_tx: 500,
            max_fragment: 65536,
            max_objects: 1024,
            max_points: 16384,
        }
    }
}

/// `[parsers.modbus]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ModbusConfig {
    /// Parse Modbus/TCP.
    pub enabled: bool,
    /// Port hints (the MBAP probe finds Modbus on other ports too).
    pub ports: Vec<u16>,
    /// Unanswered requests at once (Suricata's `request-flood`); at this
    /// many the flow is `flooded` and new transactions are dropped until
    /// answers bring it below.
    pub max_tx: usize,
}

impl Default for ModbusConfig {
    fn default() -> Self {
        ModbusConfig {
            enabled: true,
            ports: vec![502],
            max_tx: 500,
        }
    }
}

/// `[parsers.rdp]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RdpConfig {
    /// Parse RDP.
    pub enabled: bool,
    /// Port hints (the X.224 probe finds RDP on other ports too).
    pub ports: Vec<u16>,
    /// Longest PDU buffered per side, in bytes (a TPKT or, after the
    /// switch to TLS, a record; header included); a longer one is skipped
    /// unread (`pdu_too_long`). The default holds any TPKT.
    pub max_pdu_bytes: usize,
    /// Transactions reported per flow; one more stops the reading
    /// (`too_many_transactions`).
    pub max_tx: u64,
}

impl Default for RdpConfig {
    fn default() -> Self {
        RdpConfig {
            enabled: true,
            ports: vec![3389],
            max_pdu_bytes: 65_535,
            max_tx: 256,
        }
    }
}

/// `[parsers.ike]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct IkeConfig {
    /// Parse IKE (ISAKMP, UDP).
    pub enabled: bool,
    /// Port hints (the content probe finds IKE on other ports too; on
    /// 4500 a message follows the four-byte non-ESP marker).
    pub ports: Vec<u16>,
    /// Payloads read per message, nested IKEv1 proposal and transform
    /// payloads included; the rest are skipped (`too_many_payloads`).
    pub max_payloads: usize,
    /// Proposals' transforms (and notify entries, vendor IDs) kept per
    /// message; the rest are read but not listed (`too_many_transforms`).
    pub max_transforms: usize,
    /// Longest key exchange, nonce, vendor ID or attribute value kept, in
    /// bytes (written as hex); a longer one is cut (`long_value`).
    pub max_value_bytes: usize,
    /// Messages reported per flow; later ones are counted, not parsed
    /// (`too_many_messages`).
    pub max_messages: u64,
}

impl Default for IkeConfig {
    fn default() -> Self {
        IkeConfig {
            enabled: true,
            ports: vec![500, 4500],
            max_payloads: 256,
            max_transforms: 64,
            max_value_bytes: 1024,
            max_messages: 65_536,
        }
    }
}

/// `[parsers.bittorrent_dht]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct BittorrentDhtConfig {
    /// Parse BitTorrent DHT (UDP, any port: a flow whose first datagram
    /// is a query is DHT).
    pub enabled: bool,
    /// Longest string kept (transaction id, version, node ids, info
    /// hashes, tokens, the query's name, an error's message), in bytes; a
    /// longer one is cut (`long_string`).
    pub max_string_bytes: usize,
    /// Nodes kept per `nodes` and per `nodes6` list; the rest are left
    /// out (`too_many_nodes`).
    pub max_nodes: usize,
    /// Peers kept per `values` list; the rest are left out
    /// (`too_many_values`).
    pub max_values: usize,
}

impl Default for BittorrentDhtConfig {
    fn default() -> Self {
        BittorrentDhtConfig {
            enabled: true,
            max_string_bytes: 1024,
            max_nodes: 64,
            max_values: 256,
        }
    }
}
