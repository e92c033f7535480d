//! `--ipfix` / `[ipfix]`: flow records exported as IPFIX to a collector
//! over UDP or TCP ([`IpfixExport`]), beside the EVE output. The messages
//! come from flowscope-io's [`IpfixEncoder`]; here they are sent, timed
//! (each message's export time is the wall clock) and counted
//! ([`IpfixReport`], in the run's summary).
//!
//! Over UDP a message is a datagram of at most `max_message` bytes and the
//! templates come again every `template_every` messages; a send that
//! fails (no collector: ICMP port unreachable) is counted with its flows,
//! reported once on stderr, and the export goes on. Over TCP messages are
//! written in order on one connection (the templates first on each), with
//! the connection's own backpressure; a connection that breaks is reported,
//! its unsent flows counted, and connecting again is tried at most once
//! every half second. A collector that cannot be reached at the start
//! over TCP is an error before anything is read.

use crate::say::say;
use flowscope_engine::KeyKind;
use flowscope_io::{IpfixEncoder, IpfixFlow, IpfixOptions, MAX_MESSAGE, MIN_MESSAGE};
use serde::Deserialize;
use std::io::Write;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The soonest a lost TCP collector is tried again.
const RECONNECT_EVERY: Duration = Duration::from_millis(500);
/// How long connecting to a TCP collector may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `[ipfix]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IpfixConfig {
    /// The collector: `udp://HOST:PORT` or `tcp://HOST:PORT` (`--ipfix`);
    /// none: no export.
    pub target: Option<String>,
    /// Largest message in bytes (512 to 65535): the path MTU less the IP
    /// and UDP headers.
    pub max_message: usize,
    /// UDP: the templates again every this many messages (1 to 65535).
    pub template_every: u32,
    /// The observation domain id of every message.
    pub domain: u32,
}

impl Default for IpfixConfig {
    fn default() -> Self {
        let d = IpfixOptions::default();
        IpfixConfig {
            target: None,
            max_message: d.max_message,
            template_every: d.template_every,
            domain: d.domain,
        }
    }
}

impl IpfixConfig {
    /// Checks the values; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if !(MIN_MESSAGE..=MAX_MESSAGE).contains(&self.max_message) {
            return Err(format!(
                "ipfix.max_message: {} is not within {MIN_MESSAGE}..={MAX_MESSAGE}",
                self.max_message
            ));
        }
        if !(1..=65_535).contains(&self.template_every) {
            return Err(format!(
                "ipfix.template_every: {} is not within 1..=65535",
                self.template_every
            ));
        }
        if let Some(t) = &self.target {
            parse_target(t)?;
        }
        Ok(())
    }
}

/// The transport a target names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// One message per datagram.
    Udp,
    /// A stream of messages.
    Tcp,
}

/// `udp://HOST:PORT` or `tcp://HOST:PORT` into its transport and address.
pub fn parse_target(t: &str) -> Result<(Transport, String), String> {
    let (transport, rest) = if let Some(r) = t.strip_prefix("udp://") {
        (Transport::Udp, r)
    } else if let Some(r) = t.strip_prefix("tcp://") {
        (Transport::Tcp, r)
    } else {
        return Err(format!(
            "ipfix target `{t}`: expected udp://HOST:PORT or tcp://HOST:PORT"
        ));
    };
    let rest = rest.trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {
            Ok((transport, rest.to_owned()))
        }
        _ => Err(format!(
            "ipfix target `{t}`: expected HOST:PORT after the scheme (a port from 1 to 65535)"
        )),
    }
}

/// What an export did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpfixReport {
    /// The target as given.
    pub target: String,
    /// Flows handed to the collector.
    pub flows: u64,
    /// Messages sent.
    pub messages: u64,
    /// Flows in messages that could not be sent.
    pub flows_lost: u64,
}

enum Link {
    Udp(UdpSocket),
    /// The connection, while up; when it last failed.
    Tcp(Option<TcpStream>, Option<Instant>),
}

/// The sending side: the link to the collector and what it delivered.
struct Sender {
    link: Link,
    addr: SocketAddr,
    report: IpfixReport,
    /// A send error was reported (reported once per outage).
    failing: bool,
}

/// An export to one collector.
pub struct IpfixExport {
    encoder: IpfixEncoder,
    sender: Sender,
    /// Flows in the message being filled.
    pending: u64,
}

impl IpfixExport {
    /// Opens the export `cfg` names (`None` without a target) for flows
    /// keyed by `key`. A key without IP addresses (`mac_pair`), and a TCP
    /// collector that does not accept the connection, are errors.
    pub fn open(cfg: &IpfixConfig, key: KeyKind) -> Result<Option<Self>, String> {
        let Some(target) = &cfg.target else {
            return Ok(None);
        };
        cfg.validate()?;
        if key == KeyKind::MacPair {
            return Err(format!(
                "ipfix export to `{target}` needs flows keyed by IP addresses; `[flow] key` is mac_pair"
            ));
        }
        let (transport, hostport) = parse_target(target)?;
        let addr = hostport
            .to_socket_addrs()
            .map_err(|e| format!("ipfix target `{target}`: {e}"))?
            .next()
            .ok_or_else(|| format!("ipfix target `{target}`: no address"))?;
        let link = match transport {
            Transport::Udp => {
                let local: SocketAddr = if addr.is_ipv4() {
                    ([0, 0, 0, 0], 0).into()
                } else {
                    (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                };
                let s = UdpSocket::bind(local)
                    .and_then(|s| s.connect(addr).map(|()| s))
                    .map_err(|e| format!("ipfix target `{target}`: {e}"))?;
                Link::Udp(s)
            }
            Transport::Tcp => {
                let s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
                    .map_err(|e| format!("ipfix collector `{target}`: {e}"))?;
                let _ = s.set_nodelay(true);
                Link::Tcp(Some(s), None)
            }
        };
        let opts = IpfixOptions {
            max_message: cfg.max_message,
            domain: cfg.domain,
            // A stream delivers in order: the templates once per connection.
            template_every: if transport == Transport::Udp {
                cfg.template_every
            } else {
                0
            },
        };
        Ok(Some(IpfixExport {
            encoder: IpfixEncoder::new(opts),
            sender: Sender {
                link,
                addr,
                report: IpfixReport {
                    target: target.clone(),
                    ..IpfixReport::default()
                },
                failing: false,
            },
            pending: 0,
        }))
    }

    /// Exports `flow`.
    pub fn flow(&mut self, flow: &IpfixFlow) {
        let sender = &mut self.sender;
        // A message `push` finishes holds the flows pending before it.
        let mut in_message = self.pending;
        self.encoder.push(flow, export_time(), &mut |m| {
            sender.send(m, std::mem::take(&mut in_message));
        });
        self.pending = in_message + 1;
    }

    /// Sends what is left; the report.
    pub fn finish(mut self) -> IpfixReport {
        let sender = &mut self.sender;
        let n = self.pending;
        self.encoder
            .flush(export_time(), &mut |m| sender.send(m, n));
        if let Link::Tcp(Some(s), _) = &mut self.sender.link {
            let _ = s.flush();
        }
        self.sender.report.messages = self.encoder.messages();
        self.sender.report
    }
}

impl std::fmt::Debug for IpfixExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpfixExport")
            .field("target", &self.sender.report.target)
            .field("messages", &self.encoder.messages())
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// Sends one message holding `flows` flows. A TCP connection made
    /// again gets the templates first.
    fn send(&mut self, msg: &[u8], flows: u64) {
        let result = match &mut self.link {
            Link::Udp(s) => s.send(msg).map(|_| ()),
            Link::Tcp(conn, failed_at) => {
                if conn.is_none() && failed_at.is_none_or(|t| t.elapsed() >= RECONNECT_EVERY) {
                    *conn = TcpStream::connect_timeout(&self.addr, CONNECT_TIMEOUT)
                        .and_then(|mut s| {
                            s.write_all(&IpfixEncoder::templates_for(msg))?;
                            Ok(s)
                        })
                        .ok();
                    *failed_at = conn.is_none().then(Instant::now);
                }
                match conn {
                    Some(s) => s.write_all(msg).inspect_err(|_| {
                        *conn = None;
                        *failed_at = Some(Instant::now());
                    }),
                    None => Err(std::io::Error::from(std::io::ErrorKind::NotConnected)),
                }
            }
        };
        let report = &mut self.report;
        match result {
            Ok(()) => {
                report.flows += flows;
                if std::mem::take(&mut self.failing) {
                    say!("flowscope: ipfix: sending to {} again", report.target);
                }
            }
            Err(e) => {
                report.flows_lost += flows;
                if !std::mem::replace(&mut self.failing, true) {
                    say!(
                        "flowscope: ipfix: cannot send to {}: {e}; its flows are counted as lost",
                        report.target
                    );
                }
            }
        }
    }
}

/// Wall-clock Unix seconds (IPFIX's export time).
fn export_time() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}
