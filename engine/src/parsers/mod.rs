//! The built-in L7 parsers, each behind its Cargo feature (see the crate
//! docs): HTTP/1.x (module `http`, feature `http`), DNS over UDP and TCP
//! (`dns`), the TLS handshake (`tls`), the TLS hellos inside QUIC Initial
//! packets and Google QUIC's hellos (`quic`), the TLS hellos both of them read (`hello`) and their
//! JA3/JA3S/JA4 fingerprints (`fingerprint`; both with `tls`), SSH
//! identification and HASSH fingerprints (`ssh`), FTP control
//! connections and their announced data transfers (`ftp`), DHCPv4
//! (`dhcp`), TFTP requests (`tftp`), SMTP transactions and their
//! messages' envelope fields (`smtp`), cleartext HTTP/2 with HPACK
//! (`http2`), SIP requests and responses over UDP and TCP (`sip`), the
//! RFB (VNC) handshake (`rfb`), MQTT 3.1, 3.1.1 and 5.0 (`mqtt`), SNMP v1,
//! v2c and v3 messages (`snmp`), Kerberos 5 over UDP and TCP (`krb5`),
//! the PostgreSQL protocol (`pgsql`), SNMP and Kerberos with a bounded BER reader they share (`ber`),
//! IKEv1 and IKEv2 over UDP 500 and 4500 (`ike`), DCE/RPC over TCP and
//! UDP (`dcerpc`), Modbus/TCP (`modbus`), DNP3 over TCP (`dnp3`), RDP's
//! connection sequence (`rdp`), NFS v2, v3 and v4 over ONC RPC on TCP
//! and UDP (`nfs`), and SMB 2/3 and SMB1 with NTLMSSP, Kerberos tickets
//! and DCE/RPC over named pipes (`smb`), and BitTorrent DHT queries,
//! responses and errors over UDP (`bittorrent-dht`). They are
//! session API parsers ([`SessionParser`](crate::SessionParser)s and
//! [`DatagramParser`](crate::DatagramParser)s) and decode bytes with one
//! cursor (`reader`). Always here, whatever the features: their options
//! ([`ParsersConfig`], the `[parsers]` config table and its per-parser
//! tables (module `config`), read the same way in
//! every build), their common message type [`L7Message`] (one variant per
//! parser built), and [`builtin()`], which registers the parsers built in
//! with a [`Sessions`] driver: port hints plus content probes, so HTTP on
//! 8081 and TLS on 8443 are found too.

#[cfg(any(
    feature = "bittorrent-dht",
    feature = "dcerpc",
    feature = "dhcp",
    feature = "dnp3",
    feature = "dns",
    feature = "ftp",
    feature = "http",
    feature = "http2",
    feature = "ike",
    feature = "krb5",
    feature = "modbus",
    feature = "mqtt",
    feature = "nfs",
    feature = "pgsql",
    feature = "quic",
    feature = "rdp",
    feature = "rfb",
    feature = "sip",
    feature = "smb",
    feature = "smtp",
    feature = "snmp",
    feature = "ssh",
    feature = "tftp",
))]
mod anomalies;
#[cfg(any(feature = "snmp", feature = "krb5", feature = "smb"))]
mod ber;
#[cfg(feature = "bittorrent-dht")]
pub mod bittorrent_dht;
#[cfg(feature = "dcerpc")]
pub mod dcerpc;
#[cfg(feature = "dhcp")]
pub mod dhcp;
#[cfg(any(feature = "ftp", feature = "http", feature = "bittorrent-dht"))]
mod digits;
#[cfg(feature = "dnp3")]
pub mod dnp3;
#[cfg(feature = "dns")]
pub mod dns;
#[cfg(feature = "tls")]
pub mod fingerprint;
#[cfg(feature = "ftp")]
pub mod ftp;
#[cfg(any(
    feature = "ftp",
    feature = "http2",
    feature = "mqtt",
    feature = "modbus",
    feature = "dnp3"
))]
mod held;
#[cfg(feature = "tls")]
pub mod hello;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "http2")]
pub mod http2;
#[cfg(feature = "ike")]
pub mod ike;
#[cfg(feature = "krb5")]
pub mod krb5;
#[cfg(feature = "tls")]
mod memo;
#[cfg(feature = "modbus")]
pub mod modbus;
#[cfg(feature = "mqtt")]
pub mod mqtt;
#[cfg(any(feature = "ntp", feature = "telnet"))]
pub mod name_only;
#[cfg(feature = "nfs")]
pub mod nfs;
#[cfg(feature = "ntp")]
pub mod ntp;
#[cfg(feature = "pgsql")]
pub mod pgsql;
#[cfg(feature = "quic")]
pub mod quic;
#[cfg(feature = "rdp")]
pub mod rdp;
#[cfg(any(
    feature = "dns",
    feature = "tls",
    feature = "dhcp",
    feature = "http2",
    feature = "rfb",
    feature = "mqtt",
    feature = "snmp",
    feature = "krb5",
    feature = "pgsql",
    feature = "ike",
    feature = "dcerpc",
    feature = "modbus",
    feature = "rdp",
    feature = "dnp3",
    feature = "nfs",
    feature = "smb",
    feature = "bittorrent-dht"
))]
mod reader;
#[cfg(feature = "rfb")]
pub mod rfb;
#[cfg(feature = "sip")]
pub mod sip;
#[cfg(feature = "smb")]
pub mod smb;
#[cfg(feature = "smtp")]
pub mod smtp;
#[cfg(feature = "snmp")]
pub mod snmp;
#[cfg(feature = "ssh")]
pub mod ssh;
#[cfg(feature = "telnet")]
pub mod telnet;
#[cfg(feature = "tftp")]
pub mod tftp;
#[cfg(feature = "tls")]
pub mod tls;

mod builtin;
mod config;

#[cfg(doc)]
use crate::session::Sessions;
pub use builtin::builtin;
pub use config::{
    BittorrentDhtConfig, DcerpcConfig, DhcpConfig, Dnp3Config, DnsConfig, FtpConfig, Http2Config,
    HttpConfig, IkeConfig, Krb5Config, ModbusConfig, MqttConfig, NfsConfig, NtpConfig, PgsqlConfig,
    QuicConfig, RdpConfig, RfbConfig, SipConfig, SmbConfig, SmtpConfig, SnmpConfig, SshConfig,
    TelnetConfig, TftpConfig, TlsConfig,
};
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
    /// A Google QUIC packet that carries a version (and, from a client
    /// hello, its SNI, user agent and CYU).
    #[cfg(feature = "quic")]
    Gquic(Box<quic::gquic::GquicPacket>),
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
    /// An MQTT transaction: a control packet and the ones answering it.
    #[cfg(feature = "mqtt")]
    Mqtt(Box<mqtt::MqttTransaction>),
    /// An SNMP message (a request, a response, a trap...).
    #[cfg(feature = "snmp")]
    Snmp(Box<snmp::SnmpMessage>),
    /// A Kerberos 5 message (a request, a reply or an error).
    #[cfg(feature = "krb5")]
    Krb5(Box<krb5::Krb5Message>),
    /// A PostgreSQL transaction: a client message and the server's answer.
    #[cfg(feature = "pgsql")]
    Pgsql(Box<pgsql::PgsqlTransaction>),
    /// An IKE (ISAKMP) message, IKEv1 or IKEv2.
    #[cfg(feature = "ike")]
    Ike(Box<ike::IkeMessage>),
    /// A DCE/RPC call: a bind or a request and its answer.
    #[cfg(feature = "dcerpc")]
    Dcerpc(Box<dcerpc::DcerpcCall>),
    /// A Modbus/TCP transaction: a request and its response.
    #[cfg(feature = "modbus")]
    Modbus(Box<modbus::ModbusTransaction>),
    /// An RDP transaction: one step of the connection sequence.
    #[cfg(feature = "rdp")]
    Rdp(Box<rdp::RdpTransaction>),
    /// A DNP3 application fragment (request or response).
    #[cfg(feature = "dnp3")]
    Dnp3(Box<dnp3::Dnp3Message>),
    /// An NFS transaction: a call and its reply, or a file transfer.
    #[cfg(feature = "nfs")]
    Nfs(Box<nfs::NfsRecord>),
    /// An SMB transaction: a command and its answer, a file read or
    /// written, or a DCE/RPC call over a pipe.
    #[cfg(feature = "smb")]
    Smb(Box<smb::SmbTx>),
    /// A BitTorrent DHT message (a query, a response or an error).
    #[cfg(feature = "bittorrent-dht")]
    BittorrentDht(Box<bittorrent_dht::DhtMessage>),
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
    /// `[parsers.ntp]`.
    pub ntp: NtpConfig,
    /// `[parsers.telnet]`.
    pub telnet: TelnetConfig,
    /// SMTP.
    pub smtp: SmtpConfig,
    /// Cleartext HTTP/2.
    pub http2: Http2Config,
    /// SIP.
    pub sip: SipConfig,
    /// RFB (VNC).
    pub rfb: RfbConfig,
    /// MQTT.
    pub mqtt: MqttConfig,
    /// SNMP.
    pub snmp: SnmpConfig,
    /// Kerberos 5.
    pub krb5: Krb5Config,
    /// PostgreSQL.
    pub pgsql: PgsqlConfig,
    /// IKE (ISAKMP).
    pub ike: IkeConfig,
    /// DCE/RPC.
    pub dcerpc: DcerpcConfig,
    /// Modbus/TCP.
    pub modbus: ModbusConfig,
    /// RDP.
    pub rdp: RdpConfig,
    /// DNP3 over TCP.
    pub dnp3: Dnp3Config,
    /// NFS.
    pub nfs: NfsConfig,
    /// SMB.
    pub smb: SmbConfig,
    /// BitTorrent DHT.
    pub bittorrent_dht: BittorrentDhtConfig,
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
            ntp: NtpConfig::default(),
            telnet: TelnetConfig::default(),
            smtp: SmtpConfig::default(),
            http2: Http2Config::default(),
            sip: SipConfig::default(),
            rfb: RfbConfig::default(),
            mqtt: MqttConfig::default(),
            snmp: SnmpConfig::default(),
            krb5: Krb5Config::default(),
            pgsql: PgsqlConfig::default(),
            ike: IkeConfig::default(),
            dcerpc: DcerpcConfig::default(),
            modbus: ModbusConfig::default(),
            rdp: RdpConfig::default(),
            dnp3: Dnp3Config::default(),
            nfs: NfsConfig::default(),
            smb: SmbConfig::default(),
            bittorrent_dht: BittorrentDhtConfig::default(),
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
        let mq = &self.mqtt;
        check_range(
            "parsers.mqtt.max_msg_length",
            mq.max_msg_length,
            256,
            256 << 20,
            " bytes",
        )?;
        check_range("parsers.mqtt.max_tx", mq.max_tx, 1, 1 << 20, "")?;
        check_range("parsers.mqtt.max_topics", mq.max_topics, 1, 1 << 16, "")?;
        check_range(
            "parsers.mqtt.max_properties",
            mq.max_properties,
            1,
            1 << 16,
            "",
        )?;
        check_range(
            "parsers.mqtt.max_message_bytes",
            mq.max_message_bytes,
            0,
            mq.max_msg_length,
            " bytes",
        )?;
        for (key, ports) in [
            ("parsers.http.ports", &h.ports),
            ("parsers.http.udp_ports", &h.udp_ports),
            ("parsers.dns.ports", &self.dns.ports),
            ("parsers.tls.ports", &self.tls.ports),
            ("parsers.tls.starttls_ports", &self.tls.starttls_ports),
            (
                "parsers.quic.mid_connection_ports",
                &self.quic.mid_connection_ports,
            ),
            ("parsers.ssh.ports", &self.ssh.ports),
            ("parsers.ftp.ports", &self.ftp.ports),
            ("parsers.dhcp.ports", &self.dhcp.ports),
            ("parsers.tftp.ports", &self.tftp.ports),
            ("parsers.ntp.ports", &self.ntp.ports),
            ("parsers.telnet.ports", &self.telnet.ports),
            ("parsers.smtp.ports", &self.smtp.ports),
            ("parsers.http2.ports", &h2.ports),
            ("parsers.sip.ports", &self.sip.ports),
            ("parsers.rfb.ports", &self.rfb.ports),
            ("parsers.mqtt.ports", &mq.ports),
            ("parsers.snmp.ports", &self.snmp.ports),
            ("parsers.krb5.ports", &self.krb5.ports),
            ("parsers.pgsql.ports", &self.pgsql.ports),
            ("parsers.ike.ports", &self.ike.ports),
            ("parsers.dcerpc.ports", &self.dcerpc.ports),
            ("parsers.modbus.ports", &self.modbus.ports),
            ("parsers.rdp.ports", &self.rdp.ports),
            ("parsers.dnp3.ports", &self.dnp3.ports),
            ("parsers.nfs.ports", &self.nfs.ports),
            ("parsers.smb.ports", &self.smb.ports),
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
        check_range(
            "parsers.krb5.max_record",
            self.krb5.max_record,
            1024,
            1 << 24,
            " bytes",
        )?;
        let pg = &self.pgsql;
        check_range(
            "parsers.pgsql.max_msg_length",
            pg.max_msg_length,
            1024,
            256 << 20,
            " bytes",
        )?;
        check_range("parsers.pgsql.max_tx", pg.max_tx, 1, 1 << 20, "")?;
        check_range(
            "parsers.pgsql.max_parameters",
            pg.max_parameters,
            1,
            4096,
            "",
        )?;
        let k = &self.ike;
        check_range("parsers.ike.max_payloads", k.max_payloads, 1, 65_536, "")?;
        check_range(
            "parsers.ike.max_transforms",
            k.max_transforms,
            1,
            65_536,
            "",
        )?;
        check_range(
            "parsers.ike.max_value_bytes",
            k.max_value_bytes,
            16,
            65_536,
            " bytes",
        )?;
        check_range("parsers.ike.max_messages", k.max_messages, 1, 1 << 30, "")?;
        check_range("parsers.dcerpc.max_tx", self.dcerpc.max_tx, 1, 1 << 20, "")?;
        check_range("parsers.modbus.max_tx", self.modbus.max_tx, 1, 1 << 20, "")?;
        let rdp = &self.rdp;
        check_range(
            "parsers.rdp.max_pdu_bytes",
            rdp.max_pdu_bytes,
            1024,
            65_535,
            " bytes",
        )?;
        check_range("parsers.rdp.max_tx", rdp.max_tx, 1, 1 << 20, "")?;
        let d = &self.dnp3;
        check_range("parsers.dnp3.max_tx", d.max_tx, 1, 1 << 20, "")?;
        check_range(
            "parsers.dnp3.max_fragment",
            d.max_fragment,
            256,
            16 << 20,
            " bytes",
        )?;
        check_range("parsers.dnp3.max_objects", d.max_objects, 1, 1 << 20, "")?;
        check_range("parsers.dnp3.max_points", d.max_points, 1, 1 << 24, "")?;
        check_range(
            "parsers.nfs.max_record",
            self.nfs.max_record,
            1024,
            16 << 20,
            " bytes",
        )?;
        check_range("parsers.nfs.max_tx", self.nfs.max_tx, 1, 1 << 20, "")?;
        check_range(
            "parsers.smb.max_record",
            self.smb.max_record,
            1024,
            16 << 20,
            " bytes",
        )?;
        check_range("parsers.smb.max_tx", self.smb.max_tx, 1, 1 << 20, "")?;
        let bt = &self.bittorrent_dht;
        check_range(
            "parsers.bittorrent_dht.max_string_bytes",
            bt.max_string_bytes,
            20,
            65_536,
            " bytes",
        )?;
        check_range(
            "parsers.bittorrent_dht.max_nodes",
            bt.max_nodes,
            1,
            65_536,
            "",
        )?;
        check_range(
            "parsers.bittorrent_dht.max_values",
            bt.max_values,
            1,
            65_536,
            "",
        )?;
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
            ntp,
            telnet,
            smtp,
            http2,
            sip,
            rfb,
            mqtt,
            snmp,
            krb5,
            pgsql,
            ike,
            dcerpc,
            modbus,
            rdp,
            dnp3,
            nfs,
            smb,
            bittorrent_dht,
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
        ntp.enabled = false;
        telnet.enabled = false;
        smtp.enabled = false;
        http2.enabled = false;
        sip.enabled = false;
        rfb.enabled = false;
        mqtt.enabled = false;
        snmp.enabled = false;
        krb5.enabled = false;
        pgsql.enabled = false;
        ike.enabled = false;
        dcerpc.enabled = false;
        modbus.enabled = false;
        rdp.enabled = false;
        dnp3.enabled = false;
        nfs.enabled = false;
        smb.enabled = false;
        bittorrent_dht.enabled = false;
    }

    /// Whether any parser is on: enabled here and built into this crate
    /// (its Cargo feature on), so [`builtin()`] registers it.
    pub fn any_enabled(&self) -> bool {
        self.parsers().into_iter().any(|(_, on, built)| on && built)
    }

    /// The parsers this config enables that this build lacks (their Cargo
    /// feature is off): [`builtin()`] does not register them. Empty with the
    /// default features; a front end can warn about each.
    pub fn not_built(&self) -> impl Iterator<Item = &'static str> {
        self.parsers()
            .into_iter()
            .filter(|&(_, on, built)| on && !built)
            .map(|(name, ..)| name)
    }

    /// Each built-in parser (the name of its feature), whether this config
    /// enables it, and whether its feature is on.
    fn parsers(&self) -> [(&'static str, bool, bool); 26] {
        [
            ("http", self.http.enabled, cfg!(feature = "http")),
            ("dns", self.dns.enabled, cfg!(feature = "dns")),
            ("tls", self.tls.enabled, cfg!(feature = "tls")),
            ("quic", self.quic.enabled, cfg!(feature = "quic")),
            ("ssh", self.ssh.enabled, cfg!(feature = "ssh")),
            ("ftp", self.ftp.enabled, cfg!(feature = "ftp")),
            ("dhcp", self.dhcp.enabled, cfg!(feature = "dhcp")),
            ("tftp", self.tftp.enabled, cfg!(feature = "tftp")),
            ("ntp", self.ntp.enabled, cfg!(feature = "ntp")),
            ("telnet", self.telnet.enabled, cfg!(feature = "telnet")),
            ("smtp", self.smtp.enabled, cfg!(feature = "smtp")),
            ("http2", self.http2.enabled, cfg!(feature = "http2")),
            ("sip", self.sip.enabled, cfg!(feature = "sip")),
            ("rfb", self.rfb.enabled, cfg!(feature = "rfb")),
            ("mqtt", self.mqtt.enabled, cfg!(feature = "mqtt")),
            ("snmp", self.snmp.enabled, cfg!(feature = "snmp")),
            ("krb5", self.krb5.enabled, cfg!(feature = "krb5")),
            ("pgsql", self.pgsql.enabled, cfg!(feature = "pgsql")),
            ("ike", self.ike.enabled, cfg!(feature = "ike")),
            ("dcerpc", self.dcerpc.enabled, cfg!(feature = "dcerpc")),
            ("modbus", self.modbus.enabled, cfg!(feature = "modbus")),
            ("rdp", self.rdp.enabled, cfg!(feature = "rdp")),
            ("dnp3", self.dnp3.enabled, cfg!(feature = "dnp3")),
            ("nfs", self.nfs.enabled, cfg!(feature = "nfs")),
            ("smb", self.smb.enabled, cfg!(feature = "smb")),
            (
                "bittorrent-dht",
                self.bittorrent_dht.enabled,
                cfg!(feature = "bittorrent-dht"),
            ),
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
            ("ntp", cfg!(feature = "ntp")),
            ("telnet", cfg!(feature = "telnet")),
            ("smtp", cfg!(feature = "smtp")),
            ("http2", cfg!(feature = "http2")),
            ("sip", cfg!(feature = "sip")),
            ("rfb", cfg!(feature = "rfb")),
            ("mqtt", cfg!(feature = "mqtt")),
            ("snmp", cfg!(feature = "snmp")),
            ("krb5", cfg!(feature = "krb5")),
            ("pgsql", cfg!(feature = "pgsql")),
            ("ike", cfg!(feature = "ike")),
            ("dcerpc", cfg!(feature = "dcerpc")),
            ("modbus", cfg!(feature = "modbus")),
            ("rdp", cfg!(feature = "rdp")),
            ("dnp3", cfg!(feature = "dnp3")),
            ("nfs", cfg!(feature = "nfs")),
            ("smb", cfg!(feature = "smb")),
            ("bittorrent-dht", cfg!(feature = "bittorrent-dht")),
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
