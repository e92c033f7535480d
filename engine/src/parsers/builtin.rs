//! [`builtin()`]: the built-in parsers registered with a [`Sessions`]
//! driver, each with its route (ports, content probe, name) in the order
//! that decides which parser a flow gets (docs/parsers.md, "Which parser a
//! flow gets").

#[allow(unused_imports)]
use super::*;
use crate::reassembly::ReassemblyConfig;
use crate::session::Sessions;

/// A [`Sessions`] driver with the built-in parsers `cfg` enables and this
/// build has (each registered as a configured prototype that every flow
/// gets a clone of, through the session API's `Default + Clone` factory
/// impls): TLS and HTTP on every TCP flow whose first bytes look like them
/// (port hints decide the order), DNS over UDP and TCP on its ports when
/// the payload looks like DNS, QUIC on any UDP port by content, SSH on
/// every TCP flow whose first bytes (either side) are `SSH-`, SMTP on every
/// TCP flow whose client starts with `EHLO`/`HELO` or whose server greets
/// with a `220` naming SMTP (ahead of the STARTTLS ports), HTTP/2 on
/// every TCP flow whose client starts with the HTTP/2 preface (and after an
/// HTTP/1.1 `Upgrade: h2c`, through the HTTP parser), SIP over UDP
/// and TCP whose first bytes are a SIP request or status line, RFB on every
/// TCP flow whose first bytes (either side) are `RFB 0NN.`, MQTT on every
/// TCP flow whose client starts with a CONNECT naming `MQTT` or `MQIsdp`
/// (protocol level 3, 4 or 5), SNMP on every UDP flow whose first datagram
/// is an SNMP message's envelope (ports 161 and 162 first), Kerberos 5
/// over UDP and TCP (after a record mark) whose first message is an
/// AS/TGS request or reply, an AP-REQ or AP-REP or a KRB-ERROR with
/// `pvno` 5 (port 88 first), PostgreSQL on every TCP flow whose client
/// starts with a startup packet (StartupMessage, SSLRequest,
/// GSSENCRequest, CancelRequest; port 5432 first, ahead of the STARTTLS
/// ports), IKE on every UDP flow whose first datagram is an ISAKMP header
/// (IKEv1, or IKEv2 whose length is the datagram's; after the non-ESP
/// marker on 4500; ports 500 and 4500 first), DCE/RPC over TCP and UDP
/// whose first bytes are a version 5 (TCP) or 4 (UDP) header (port 135
/// first), Modbus/TCP on every TCP
/// flow whose first bytes are a whole MBAP-framed ADU with an assigned
/// function code (port 502 first), RDP on every TCP flow whose
/// first bytes (either side) are a TPKT holding an X.224 Connection
/// Request or Confirm (port 3389 first), DNP3 on every TCP flow whose
/// first bytes are a link header with a right CRC or a server's banner
/// (port 20000 first, where a wrong CRC is DNP3 too),
/// NFS over TCP and UDP whose first message is an RPC call of program
/// 100003 or a reply accepting one (port 2049 first), SMB on every TCP
/// flow whose first bytes are an NBSS session message holding an SMB1,
/// SMB2 or transform header (ports 445 and 139 first), BitTorrent DHT
/// on every UDP flow whose first datagram (either side's) starts as a
/// query does (`d1:ad2:id20:`, Suricata's pattern).
/// A parser
/// whose Cargo feature is off is not registered, enabled or not
/// ([`ParsersConfig::not_built`] names them); with no parser features the
/// driver has no parsers.
pub fn builtin<K: Send + 'static>(
    reassembly: &ReassemblyConfig,
    cfg: &ParsersConfig,
) -> Sessions<K, L7Message> {
    // A new set of parsers (a new engine) starts with this thread's
    // decoded certificates and fingerprints forgotten, so what ran on the
    // thread before changes neither its output (it never could) nor its
    // speed.
    #[cfg(feature = "tls")]
    {
        tls::forget_certificates();
        fingerprint::forget_fingerprints();
    }
    let s = Sessions::new(reassembly).max_events_per_flow(cfg.max_events_per_flow);
    // FTP's own ports first (before the STARTTLS ports, which hold 21 too).
    #[cfg(feature = "ftp")]
    let s = with_ftp_ports(s, &cfg.ftp);
    // Then SMTP, so its probe decides on its ports before
    // the STARTTLS route takes them (a flow it says no to still gets that
    // route); then STARTTLS ports before any other probe claims them, then
    // the probes' order.
    #[cfg(feature = "smtp")]
    let s = with_smtp(s, &cfg.smtp, &cfg.tls);
    // PostgreSQL too: 5432 is a STARTTLS port.
    #[cfg(feature = "pgsql")]
    let s = with_pgsql(s, &cfg.pgsql, &cfg.tls);
    // RDP too: 3389 is a STARTTLS port (a flow its probe says no to still
    // gets that route).
    #[cfg(feature = "rdp")]
    let s = with_rdp(s, &cfg.rdp);
    #[cfg(feature = "tls")]
    let s = with_tls(s, &cfg.tls);
    #[cfg(feature = "http")]
    let s = with_http(s, cfg);
    #[cfg(feature = "dns")]
    let s = with_dns(s, &cfg.dns);
    #[cfg(feature = "quic")]
    let s = with_quic(s, &cfg.quic);
    #[cfg(feature = "ssh")]
    let s = with_ssh(s, &cfg.ssh);
    #[cfg(feature = "dhcp")]
    let s = with_dhcp(s, &cfg.dhcp);
    #[cfg(feature = "tftp")]
    let s = with_tftp(s, &cfg.tftp);
    #[cfg(feature = "ntp")]
    let s = with_ntp(s, &cfg.ntp);
    #[cfg(feature = "telnet")]
    let s = with_telnet(s, &cfg.telnet);
    #[cfg(feature = "http2")]
    let s = with_http2(s, &cfg.http2);
    #[cfg(feature = "sip")]
    let s = with_sip(s, &cfg.sip);
    #[cfg(feature = "rfb")]
    let s = with_rfb(s, &cfg.rfb);
    #[cfg(feature = "mqtt")]
    let s = with_mqtt(s, &cfg.mqtt);
    #[cfg(feature = "snmp")]
    let s = with_snmp(s, &cfg.snmp);
    #[cfg(feature = "krb5")]
    let s = with_krb5(s, &cfg.krb5);
    #[cfg(feature = "ike")]
    let s = with_ike(s, &cfg.ike);
    #[cfg(feature = "dcerpc")]
    let s = with_dcerpc(s, &cfg.dcerpc);
    #[cfg(feature = "modbus")]
    let s = with_modbus(s, &cfg.modbus);
    #[cfg(feature = "dnp3")]
    let s = with_dnp3(s, &cfg.dnp3);
    #[cfg(feature = "nfs")]
    let s = with_nfs(s, &cfg.nfs);
    #[cfg(feature = "smb")]
    let s = with_smb(s, &cfg.smb);
    #[cfg(feature = "bittorrent-dht")]
    let s = with_bittorrent_dht(s, &cfg.bittorrent_dht);
    // FTP by content on other ports last: its probe waits for the client's
    // first line after a server greeting, so it must not hold back the
    // probes that decide on the server's (RFB's among them).
    #[cfg(feature = "ftp")]
    let s = with_ftp_probe(s, &cfg.ftp);
    s
}

/// TLS: its ports and probe, and the STARTTLS ports (first, so these
/// ports are not claimed by a probe; no name: the connection's own protocol
/// is not parsed).
#[cfg(feature = "tls")]
fn with_tls<K: Send + 'static>(
    mut s: Sessions<K, L7Message>,
    cfg: &TlsConfig,
) -> Sessions<K, L7Message> {
    use crate::session::Route;
    if cfg.enabled && !cfg.starttls_ports.is_empty() {
        s = s.tcp(
            tls::StartTlsParser::new(cfg.clone()).timed_by_acks(),
            Route::ports(cfg.starttls_ports.iter().copied()).only_ports(),
        );
    }
    if cfg.enabled {
        s = s.tcp(
            tls::TlsParser::new(cfg.clone()).timed_by_acks(),
            Route::ports(cfg.ports.iter().copied())
                .probe(|b, _| tls::probe(b))
                .named("tls"),
        );
    }
    s
}

/// HTTP over TCP (port hints and a probe) and over UDP (SSDP, its ports
/// only).
#[cfg(feature = "http")]
fn with_http<K: Send + 'static>(
    mut s: Sessions<K, L7Message>,
    all: &ParsersConfig,
) -> Sessions<K, L7Message> {
    use crate::session::Route;
    let cfg = &all.http;
    if cfg.enabled {
        let p = http::HttpParser::new(cfg.clone());
        // An accepted `Upgrade: h2c` goes on as HTTP/2 when that parser is
        // on.
        #[cfg(feature = "http2")]
        let p = if all.http2.enabled {
            p.with_h2c(all.http2.clone(), true)
        } else {
            p
        };
        s = s.tcp(
            p,
            Route::ports(cfg.ports.iter().copied())
                .probe(|b, _| http::probe(b))
                .named("http"),
        );
    }
    if cfg.enabled && !cfg.udp_ports.is_empty() {
        s = s.udp(
            http::HttpUdpParser::new(cfg.clone()),
            Route::ports(cfg.udp_ports.iter().copied())
                .probe(|b, _| http::probe(b))
                .only_ports()
                .named("http"),
        );
    }
    s
}

/// DNS over TCP and UDP, on its ports only.
#[cfg(feature = "dns")]
fn with_dns<K: Send + 'static>(
    mut s: Sessions<K, L7Message>,
    cfg: &DnsConfig,
) -> Sessions<K, L7Message> {
    use crate::session::{Probe, Route};
    if cfg.enabled {
        s = s.tcp(
            dns::DnsTcpParser::new(cfg.clone()),
            Route::ports(cfg.ports.iter().copied())
                .probe(dns_tcp_probe)
                .only_ports()
                .named("dns"),
        );
        s = s.udp(
            dns::DnsUdpParser::new(cfg.clone()),
            Route::ports(cfg.ports.iter().copied())
                .probe(|b, _| {
                    // On a DNS port, one odd datagram does not rule DNS
                    // out: the next ones decide, and after `probe_datagrams`
                    // the port does.
                    if dns::looks_like_dns(b) {
                        Probe::Certain
                    } else {
                        Probe::NeedMore
                    }
                })
                .only_ports()
                .named("dns"),
        );
    }
    s
}

/// DNS over TCP probe: a length prefix, then a plausible message.
#[cfg(feature = "dns")]
fn dns_tcp_probe(b: &[u8], _side: crate::FlowSide) -> crate::session::Probe {
    use crate::session::Probe;
    if b.len() < 2 + 12 {
        return Probe::NeedMore;
    }
    let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
    if b.len() < 2 + len && b.len() < 512 {
        return Probe::NeedMore;
    }
    if len >= 12 && dns::looks_like_dns(&b[2..b.len().min(2 + len)]) {
        Probe::Certain
    } else {
        Probe::No
    }
}

/// QUIC on any UDP port, found by content; mid-connection flows on the
/// configured ports by the shape of their first datagram.
#[cfg(feature = "quic")]
fn with_quic<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &QuicConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    let s = s.udp(
        quic::QuicParser::default(),
        crate::session::Route::any()
            .probe(quic::probe)
            .named("quic"),
    );
    if cfg.mid_connection_ports.is_empty() {
        return s;
    }
    s.udp(
        quic::QuicParser::default(),
        crate::session::Route::ports(cfg.mid_connection_ports.iter().copied())
            .probe(quic::probe_mid_connection)
            .only_ports()
            .named("quic"),
    )
}

/// SSH over TCP: port hints and the `SSH-` probe.
#[cfg(feature = "ssh")]
fn with_ssh<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &SshConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    s.tcp(
        ssh::SshParser::new(cfg.clone()),
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(ssh::probe)
            .named("ssh"),
    )
}

/// FTP on its ports: the probe confirms (a server greeting waits for the
/// client's first line; at the probe's end the port decides).
#[cfg(feature = "ftp")]
fn with_ftp_ports<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &FtpConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled || cfg.ports.is_empty() {
        return s;
    }
    s.tcp(
        ftp::FtpParser::new(cfg.clone()),
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(ftp::probe)
            .only_ports()
            .named("ftp"),
    )
}

/// FTP on any other TCP port, by content only.
#[cfg(feature = "ftp")]
fn with_ftp_probe<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &FtpConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    s.tcp(
        ftp::FtpParser::new(cfg.clone()),
        crate::session::Route::any().probe(ftp::probe).named("ftp"),
    )
}

/// SIP over UDP and TCP: port hints and the start-line probe.
#[cfg(feature = "sip")]
fn with_sip<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &SipConfig,
) -> Sessions<K, L7Message> {
    use crate::session::Route;
    if !cfg.enabled {
        return s;
    }
    let route = Route::ports(cfg.ports.iter().copied())
        .probe(sip::probe)
        .named("sip");
    s.udp(sip::SipUdpParser::new(cfg.clone()), route.clone())
        .tcp(sip::SipTcpParser::new(cfg.clone()), route)
}

/// RFB over TCP: port hints and the `RFB 0NN.` probe.
#[cfg(feature = "rfb")]
fn with_rfb<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &RfbConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    s.tcp(
        rfb::RfbParser::default(),
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(rfb::probe)
            .named("rfb"),
    )
}

/// RDP over TCP: port hints and the TPKT/X.224 probe.
#[cfg(feature = "rdp")]
fn with_rdp<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &RdpConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    s.tcp(
        rdp::RdpParser::new(cfg),
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(rdp::probe)
            .named("rdp"),
    )
}

/// MQTT over TCP: port hints and the CONNECT probe; read as acknowledged.
#[cfg(feature = "mqtt")]
fn with_mqtt<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &MqttConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    s.tcp(
        mqtt::MqttParser::new(cfg).timed_by_acks(),
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(mqtt::probe)
            .named("mqtt"),
    )
}

/// SNMP over UDP: port hints and the envelope probe.
#[cfg(feature = "snmp")]
fn with_snmp<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &SnmpConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    s.udp(
        snmp::SnmpParser::new(cfg.clone()),
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(snmp::probe)
            .named("snmp"),
    )
}

/// Kerberos 5 over UDP and TCP: port hints and the message probes (the
/// TCP one after the record mark).
#[cfg(feature = "krb5")]
fn with_krb5<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &Krb5Config,
) -> Sessions<K, L7Message> {
    use crate::session::Route;
    if !cfg.enabled {
        return s;
    }
    let ports = || Route::ports(cfg.ports.iter().copied());
    s.udp(
        krb5::Krb5UdpParser::new(cfg),
        ports().probe(krb5::probe).named("krb5"),
    )
    .tcp(
        krb5::Krb5TcpParser::new(cfg),
        ports().probe(krb5::probe_tcp).named("krb5"),
    )
}

/// DCE/RPC over TCP and UDP: port hints and the header probes.
#[cfg(feature = "dcerpc")]
fn with_dcerpc<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &DcerpcConfig,
) -> Sessions<K, L7Message> {
    use crate::session::Route;
    if !cfg.enabled {
        return s;
    }
    let ports = || Route::ports(cfg.ports.iter().copied());
    s.udp(
        dcerpc::DcerpcUdpParser::new(cfg),
        ports().probe(dcerpc::probe_udp).named("dcerpc"),
    )
    .tcp(
        dcerpc::DcerpcTcpParser::new(cfg),
        ports().probe(dcerpc::probe_tcp).named("dcerpc"),
    )
}

/// DHCPv4 over UDP: its ports only, confirmed by the BOOTP header and
/// magic cookie.
#[cfg(feature = "dhcp")]
fn with_dhcp<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &DhcpConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    s.udp(
        dhcp::DhcpParser::new(cfg.clone()),
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(dhcp::probe)
            .only_ports()
            .named("dhcp"),
    )
}

/// TFTP requests over UDP: the server's ports only, confirmed by a request
/// (or, for other TFTP packets, by the port).
#[cfg(feature = "tftp")]
fn with_tftp<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &TftpConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    s.udp(
        tftp::TftpParser::new(cfg.clone()),
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(tftp::probe)
            .only_ports()
            .named("tftp"),
    )
}

/// BitTorrent DHT over UDP: any port, the query probe (DHT has no port).
#[cfg(feature = "bittorrent-dht")]
fn with_bittorrent_dht<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &BittorrentDhtConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    s.udp(
        bittorrent_dht::BittorrentDhtParser::new(cfg.clone()),
        crate::session::Route::any()
            .probe(bittorrent_dht::probe)
            .named("bittorrent-dht"),
    )
}

/// NTP over UDP: its ports only, confirmed by an NTP version 3 or 4
/// header; names the flow, writes no record.
#[cfg(feature = "ntp")]
fn with_ntp<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &NtpConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    s.udp(
        name_only::NameOnly,
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(ntp::probe)
            .only_ports()
            .named("ntp"),
    )
}

/// Telnet over TCP: its ports only, confirmed by negotiation or terminal
/// text in the first bytes; names the flow, writes no record.
#[cfg(feature = "telnet")]
fn with_telnet<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &TelnetConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    s.tcp(
        name_only::NameOnly,
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(telnet::probe)
            .only_ports()
            .named("telnet"),
    )
}

/// `p` reading TLS after its switch (STARTTLS, an accepted SSLRequest)
/// with `tls`'s options, when TLS parsing is on.
#[cfg(all(feature = "tls", any(feature = "smtp", feature = "pgsql")))]
fn tls_after<P>(p: P, tls: &TlsConfig, with_tls: fn(P, TlsConfig) -> P) -> P {
    if tls.enabled {
        with_tls(p, tls.clone())
    } else {
        p
    }
}

/// SMTP over TCP: port hints and the greeting/EHLO probe; STARTTLS hands
/// the flow to TLS (when TLS parsing is on and built).
#[cfg(feature = "smtp")]
fn with_smtp<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &SmtpConfig,
    tls: &TlsConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    #[cfg(feature = "tls")]
    let p = tls_after(
        smtp::SmtpParser::new(cfg.clone()),
        tls,
        smtp::SmtpParser::with_tls,
    );
    #[cfg(not(feature = "tls"))]
    let p = {
        let _ = tls;
        smtp::SmtpParser::new(cfg.clone())
    };
    s.tcp(
        p,
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(smtp::probe)
            .named("smtp"),
    )
}

/// Cleartext HTTP/2 over TCP: port hints and the client preface probe.
#[cfg(feature = "http2")]
fn with_http2<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &Http2Config,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    s.tcp(
        http2::Http2Parser::new(cfg.clone()).timed_by_acks(),
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(http2::probe)
            .named("http2"),
    )
}

/// PostgreSQL over TCP: port hints and the startup-packet probe; after an
/// accepted SSLRequest, TLS.
#[cfg(feature = "pgsql")]
fn with_pgsql<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &PgsqlConfig,
    tls: &TlsConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    #[cfg(feature = "tls")]
    let p = tls_after(
        pgsql::PgsqlParser::new(cfg.clone()),
        tls,
        pgsql::PgsqlParser::with_tls,
    );
    #[cfg(not(feature = "tls"))]
    let p = {
        let _ = tls;
        pgsql::PgsqlParser::new(cfg.clone())
    };
    s.tcp(
        p,
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(pgsql::probe)
            .named("pgsql"),
    )
}

/// IKE over UDP: port hints and the ISAKMP header probe.
#[cfg(feature = "ike")]
fn with_ike<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &IkeConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    s.udp(
        ike::IkeParser::new(cfg.clone()),
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(ike::probe)
            .named("ike"),
    )
}

/// NFS over TCP and UDP: port hints and the RPC probes.
#[cfg(feature = "nfs")]
fn with_nfs<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &NfsConfig,
) -> Sessions<K, L7Message> {
    use crate::session::Route;
    if !cfg.enabled {
        return s;
    }
    let ports = || Route::ports(cfg.ports.iter().copied());
    s.udp(
        nfs::NfsUdpParser::new(cfg),
        ports().probe(nfs::probe_udp).named("nfs"),
    )
    .tcp(
        nfs::NfsTcpParser::new(cfg),
        ports().probe(nfs::probe_tcp).named("nfs"),
    )
}

/// SMB over TCP: port hints and the NBSS + SMB header probe; transactions
/// written as acknowledged.
#[cfg(feature = "smb")]
fn with_smb<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &SmbConfig,
) -> Sessions<K, L7Message> {
    use crate::session::Route;
    if !cfg.enabled {
        return s;
    }
    s.tcp(
        smb::SmbParser::new(cfg).timed_by_acks(),
        Route::ports(cfg.ports.iter().copied())
            .probe(smb::probe)
            .named("smb"),
    )
}

/// Modbus/TCP: port hints and the MBAP probe; read as acknowledged.
#[cfg(feature = "modbus")]
fn with_modbus<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &ModbusConfig,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    s.tcp(
        modbus::ModbusParser::new(cfg).timed_by_acks(),
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(modbus::probe)
            .named("modbus"),
    )
}

/// DNP3: port hints and the link header probe; read as acknowledged.
#[cfg(feature = "dnp3")]
fn with_dnp3<K: Send + 'static>(
    s: Sessions<K, L7Message>,
    cfg: &Dnp3Config,
) -> Sessions<K, L7Message> {
    if !cfg.enabled {
        return s;
    }
    s.tcp(
        dnp3::Dnp3Parser::new(cfg).timed_by_acks(),
        crate::session::Route::ports(cfg.ports.iter().copied())
            .probe(dnp3::probe)
            .named("dnp3"),
    )
}
