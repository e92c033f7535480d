//! Where `-o` sends the records: [`Sink`], a file (truncated or appended
//! to, reopened on SIGHUP, rotated by size or age) or a Unix socket
//! (`unix_stream`: one record per line; `unix_dgram`: one record per
//! datagram) or Kafka brokers (`kafka`: one record per message, see
//! [`kafka`]), with [`SinkCounters`] for what went wrong; and
//! [`SinkConfig`], the `[output]` keys that choose it.
//!
//! The CLI's `Output` hands a sink whole lines only (its buffer ends
//! on a record), so a reopen, a rotation or a reconnection happens between
//! two records: no file gets a partial line and no record is written twice.
//! A socket whose listener goes away is reported on stderr; the records it
//! could not take are counted (`records_lost`), never dropped silently, and
//! reconnection is tried at most once every [`RETRY_EVERY`].

use crate::say::say;
use kafka::KafkaConfig;
use serde::Deserialize;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
#[cfg(unix)]
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub mod kafka;

/// The soonest a lost listener is tried again.
pub const RETRY_EVERY: Duration = Duration::from_millis(500);

/// What `-o` names (Suricata's `filetype`).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FileType {
    /// A regular file (or a device or FIFO opened like one).
    #[default]
    Regular,
    /// A Unix stream socket: one record per line.
    UnixStream,
    /// A Unix datagram socket: one record per datagram, without newline.
    UnixDgram,
    /// The local syslog socket (`/dev/log` unless a path is given): one
    /// RFC 5424 message per record, facility local0, severity info.
    Syslog,
    /// Kafka brokers (`kafka://HOST:PORT/TOPIC`, `[output.kafka]`): one
    /// record per message.
    Kafka,
}

impl FileType {
    /// Its name in the configuration and in the `stats` record.
    pub fn name(self) -> &'static str {
        match self {
            FileType::Regular => "regular",
            FileType::UnixStream => "unix_stream",
            FileType::UnixDgram => "unix_dgram",
            FileType::Syslog => "syslog",
            FileType::Kafka => "kafka",
        }
    }
}

/// The `[output]` keys about where records go (the other `[output]` keys
/// shape the records: [`flowscope_io::OutputConfig`]).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SinkConfig {
    /// What `-o PATH` is, unless it says (`unix-stream:PATH`).
    pub filetype: FileType,
    /// Append to an existing file instead of truncating it.
    pub append: bool,
    /// Rotate the file once it would grow past this many bytes (a size:
    /// `100M`, or bytes).
    #[serde(deserialize_with = "de_size")]
    pub rotate_size: Option<u64>,
    /// Rotate the file at the first write this many seconds after it was
    /// opened (seconds, or `30s`, `10m`, `1h`, `1d`).
    #[serde(deserialize_with = "de_interval")]
    pub rotate_interval: Option<u64>,
    /// Add `pcap_filename` (the input being read) to every record.
    pub pcap_filename: bool,
    /// `[output.kafka]`: the producer's settings.
    pub kafka: KafkaConfig,
}

/// The `[output]` keys [`SinkConfig`] takes.
pub const SINK_KEYS: [&str; 6] = [
    "filetype",
    "append",
    "rotate_size",
    "rotate_interval",
    "pcap_filename",
    "kafka",
];

#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrText {
    Num(u64),
    Text(String),
}

fn de_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match NumOrText::deserialize(d)? {
        NumOrText::Num(0) => Err(serde::de::Error::custom("rotate_size must be above 0")),
        NumOrText::Num(n) => Ok(Some(n)),
        NumOrText::Text(s) => crate::args::parse_size(&s)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

fn de_interval<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match NumOrText::deserialize(d)? {
        NumOrText::Num(0) => Err(serde::de::Error::custom("rotate_interval must be above 0")),
        NumOrText::Num(n) => Ok(Some(n)),
        NumOrText::Text(s) => crate::args::parse_interval(&s)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// Where the records go: the path and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The file or socket.
    pub path: PathBuf,
    /// What it is.
    pub kind: FileType,
}

impl Target {
    /// The target `-o ARG` names: `unix-stream:PATH`, `unix-dgram:PATH`,
    /// `syslog:[PATH]`, `kafka://[BROKERS][/TOPIC]`, else a path of type
    /// `default` (`[output] filetype`).
    pub fn from_arg(arg: &Path, default: FileType) -> Target {
        let text = arg.to_string_lossy();
        for (prefix, kind) in [
            ("unix-stream:", FileType::UnixStream),
            ("unix-dgram:", FileType::UnixDgram),
            ("syslog:", FileType::Syslog),
            ("kafka://", FileType::Kafka),
        ] {
            if let Some(rest) = text.strip_prefix(prefix) {
                let rest = if rest.is_empty() && kind == FileType::Syslog {
                    SYSLOG_PATH
                } else {
                    rest
                };
                return Target {
                    path: PathBuf::from(rest),
                    kind,
                };
            }
        }
        Target {
            path: arg.to_owned(),
            kind: default,
        }
    }

    /// How it is named in messages (`unix-stream:/run/eve.sock`).
    pub fn display(&self) -> String {
        match self.kind {
            FileType::Regular => self.path.display().to_string(),
            FileType::UnixStream => format!("unix-stream:{}", self.path.display()),
            FileType::UnixDgram => format!("unix-dgram:{}", self.path.display()),
            FileType::Syslog => format!("syslog:{}", self.path.display()),
            FileType::Kafka => format!("kafka://{}", self.path.display()),
        }
    }
}

/// What happened to a sink, for the `stats` record and the exit status.
#[derive(Debug, Default)]
pub struct SinkCounters {
    kind: AtomicU64,
    /// Records that could not be written (a listener gone).
    pub records_lost: AtomicU64,
    /// Times the listener went away or refused a record.
    pub failures: AtomicU64,
    /// Connections made again after a failure.
    pub reconnects: AtomicU64,
    /// Reopens on SIGHUP.
    pub reopens: AtomicU64,
    /// Files rotated away.
    pub rotations: AtomicU64,
    /// `kafka`: records the brokers acknowledged.
    pub delivered: AtomicU64,
}

impl SinkCounters {
    fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    /// Records lost so far.
    pub fn lost(&self) -> u64 {
        Self::get(&self.records_lost)
    }

    /// Whether they are a Kafka output's (which reports its losses
    /// itself, in more detail, once it has closed).
    pub fn is_kafka(&self) -> bool {
        Self::get(&self.kind) == 4
    }

    /// Appends the `output` object to the `stats` record that `buf` holds
    /// from `at` (`…}}\n`): `{"output":{"filetype":…,"records_lost":…}}`
    /// — for a socket always, for a file once something was counted (so a
    /// plain `-o` file holds what stdout would).
    pub fn append_to_stats(&self, buf: &mut Vec<u8>, at: usize) {
        if buf.len() < at + 3 || !buf.ends_with(b"}}\n") {
            return;
        }
        let kind = match Self::get(&self.kind) {
            1 => FileType::UnixStream,
            2 => FileType::UnixDgram,
            3 => FileType::Syslog,
            4 => FileType::Kafka,
            _ => FileType::Regular,
        };
        let counted = [
            &self.records_lost,
            &self.failures,
            &self.reconnects,
            &self.reopens,
            &self.rotations,
        ]
        .iter()
        .any(|c| Self::get(c) > 0);
        if kind == FileType::Regular && !counted {
            return;
        }
        buf.truncate(buf.len() - 3);
        let _ = write!(
            buf,
            ",\"output\":{{\"filetype\":\"{}\",\"records_lost\":{},\"failures\":{},\"reconnects\":{},\"reopens\":{},\"rotations\":{}",
            kind.name(),
            self.lost(),
            Self::get(&self.failures),
            Self::get(&self.reconnects),
            Self::get(&self.reopens),
            Self::get(&self.rotations),
        );
        if kind == FileType::Kafka {
            // Acknowledged so far: this record itself is still on its way.
            let _ = write!(buf, ",\"delivered\":{}", Self::get(&self.delivered));
        }
        buf.extend_from_slice(b"}}}\n");
    }
}

/// The open end of a sink.
#[derive(Debug)]
enum Conn {
    File(File),
    #[cfg(unix)]
    Stream(UnixStream),
    #[cfg(unix)]
    Dgram(UnixDatagram),
    /// Kafka brokers.
    #[cfg(feature = "kafka")]
    Kafka(Box<kafka::KafkaOut>),
    /// A socket whose listener went away.
    Down,
}

/// Records to a file or socket: see the module documentation.
#[derive(Debug)]
pub struct Sink {
    target: Target,
    cfg: SinkConfig,
    conn: Conn,
    counters: Arc<SinkCounters>,
    reopen: Option<Arc<AtomicBool>>,
    /// Bytes in the current file.
    size: u64,
    opened_at: Instant,
    /// The last connection attempt while down.
    tried_at: Option<Instant>,
    /// The next rotated file's number to try.
    next_n: u64,
    /// `syslog`: what precedes each record in its message.
    syslog_head: Vec<u8>,
}

impl Sink {
    /// Opens `target` (a file: truncated unless `cfg.append`; a socket:
    /// connected, which must work now), counting into `counters`.
    /// `reopen`, when set (SIGHUP), closes and reopens it before the next
    /// write.
    pub fn open(
        target: Target,
        cfg: &SinkConfig,
        reopen: Option<Arc<AtomicBool>>,
        counters: Arc<SinkCounters>,
    ) -> io::Result<Sink> {
        counters.kind.store(
            match target.kind {
                FileType::Regular => 0,
                FileType::UnixStream => 1,
                FileType::UnixDgram => 2,
                FileType::Syslog => 3,
                FileType::Kafka => 4,
            },
            Ordering::Relaxed,
        );
        let conn = match target.kind {
            FileType::Kafka => open_kafka(&target, cfg, &counters)?,
            _ => connect(&target, !cfg.append)?,
        };
        let size = match &conn {
            Conn::File(f) => f.metadata().map_or(0, |m| m.len()),
            _ => 0,
        };
        let sink = Sink {
            target,
            cfg: cfg.clone(),
            conn,
            counters,
            reopen,
            size,
            opened_at: Instant::now(),
            tried_at: None,
            next_n: 1,
            syslog_head: syslog_head(),
        };
        Ok(sink)
    }

    /// Kafka: whether a full queue drops records (live capture) rather
    /// than waiting for room (replay).
    pub fn set_lossy(&mut self, lossy: bool) {
        #[cfg(feature = "kafka")]
        if let Conn::Kafka(k) = &mut self.conn {
            k.set_lossy(lossy);
        }
        #[cfg(not(feature = "kafka"))]
        let _ = lossy;
    }

    /// Kafka: the run's stop flag, which bounds a wait for room.
    pub fn set_stop(&mut self, stop: Arc<AtomicBool>) {
        #[cfg(feature = "kafka")]
        if let Conn::Kafka(k) = &mut self.conn {
            k.set_stop(stop);
        }
        #[cfg(not(feature = "kafka"))]
        let _ = stop;
    }

    /// Kafka: waits (bounded by `close_timeout_ms`) for the outstanding
    /// acknowledgements; what became of the records. `None` for other
    /// sinks.
    #[cfg(feature = "kafka")]
    pub fn close_kafka(&mut self) -> Option<kafka::KafkaReport> {
        match &mut self.conn {
            Conn::Kafka(k) => Some(k.close()),
            _ => None,
        }
    }

    /// Closes and opens the target again (a file: appended to, created if
    /// it was moved away).
    fn reopen(&mut self) -> io::Result<()> {
        if self.target.kind == FileType::Kafka {
            return Ok(());
        }
        if let Conn::File(f) = &mut self.conn {
            f.flush()?;
        }
        self.conn = Conn::Down;
        match connect(&self.target, false) {
            Ok(conn) => {
                self.size = match &conn {
                    Conn::File(f) => f.metadata().map_or(0, |m| m.len()),
                    _ => 0,
                };
                self.opened_at = Instant::now();
                self.conn = conn;
                Ok(())
            }
            Err(e) if self.target.kind == FileType::Regular => Err(io::Error::new(
                e.kind(),
                format!("reopening {}: {e}", self.target.display()),
            )),
            Err(e) => {
                self.went_down(&e);
                Ok(())
            }
        }
    }

    /// Moves the current file to the first free `PATH.N` and starts a
    /// new one at `PATH`.
    fn rotate(&mut self) -> io::Result<()> {
        let path = &self.target.path;
        loop {
            let mut name = path.clone().into_os_string();
            name.push(format!(".{}", self.next_n));
            // A hard link never replaces an existing file.
            match std::fs::hard_link(path, &name) {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => self.next_n += 1,
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("rotating {}: {e}", path.display()),
                    ));
                }
            }
        }
        self.next_n += 1;
        std::fs::remove_file(path)
            .map_err(|e| io::Error::new(e.kind(), format!("rotating {}: {e}", path.display())))?;
        SinkCounters::add(&self.counters.rotations, 1);
        self.reopen()
    }

    /// Whether the current file is due for rotation by age.
    fn aged(&self) -> bool {
        self.cfg
            .rotate_interval
            .is_some_and(|s| self.size > 0 && self.opened_at.elapsed() >= Duration::from_secs(s))
    }

    /// Writes whole lines to the file, rotating between them.
    fn write_file(&mut self, mut rest: &[u8]) -> io::Result<()> {
        while !rest.is_empty() {
            if self.aged() {
                self.rotate()?;
            }
            let take = match self.cfg.rotate_size {
                Some(limit) if self.size + rest.len() as u64 > limit => {
                    let room = limit.saturating_sub(self.size).min(rest.len() as u64) as usize;
                    match rest[..room].iter().rposition(|&b| b == b'\n') {
                        Some(i) => i + 1,
                        // Not one whole line fits: a new file, which takes
                        // at least one line however long.
                        None if self.size > 0 => {
                            self.rotate()?;
                            continue;
                        }
                        None => rest
                            .iter()
                            .position(|&b| b == b'\n')
                            .map_or(rest.len(), |i| i + 1),
                    }
                }
                _ => rest.len(),
            };
            let Conn::File(f) = &mut self.conn else {
                return Err(io::Error::other("the output file is not open"));
            };
            f.write_all(&rest[..take])?;
            self.size += take as u64;
            rest = &rest[take..];
            if self.cfg.rotate_size.is_some_and(|l| self.size >= l) {
                self.rotate()?;
            }
        }
        Ok(())
    }

    /// A socket failed with `e`: reported once, and down until it
    /// reconnects.
    fn went_down(&mut self, e: &io::Error) {
        if !matches!(self.conn, Conn::Down) || self.tried_at.is_none() {
            say!(
                "flowscope: warning: output {}: {e}; records are counted as lost until it is back",
                self.target.display()
            );
        }
        SinkCounters::add(&self.counters.failures, 1);
        self.conn = Conn::Down;
        self.tried_at = Some(Instant::now());
    }

    /// While down: connects again if [`RETRY_EVERY`] has passed since the
    /// last attempt; whether the socket is up.
    fn try_connect(&mut self) -> bool {
        if !matches!(self.conn, Conn::Down) {
            return true;
        }
        if self.tried_at.is_some_and(|t| t.elapsed() < RETRY_EVERY) {
            return false;
        }
        self.tried_at = Some(Instant::now());
        match connect(&self.target, false) {
            Ok(conn) => {
                self.conn = conn;
                SinkCounters::add(&self.counters.reconnects, 1);
                say!(
                    "flowscope: output {}: connected again ({} records lost so far)",
                    self.target.display(),
                    self.counters.lost()
                );
                true
            }
            Err(_) => false,
        }
    }

    fn lose(&self, bytes: &[u8]) {
        let n = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        SinkCounters::add(&self.counters.records_lost, n);
    }

    /// Writes whole lines to a stream socket; a line cut by a failure is
    /// sent again whole on the next connection.
    #[cfg(unix)]
    fn write_stream(&mut self, mut rest: &[u8]) {
        while !rest.is_empty() {
            if !self.try_connect() {
                self.lose(rest);
                return;
            }
            let Conn::Stream(s) = &mut self.conn else {
                self.lose(rest);
                return;
            };
            let mut sent = 0;
            let result = loop {
                if sent == rest.len() {
                    break Ok(());
                }
                match s.write(&rest[sent..]) {
                    Ok(0) => break Err(io::Error::from(io::ErrorKind::WriteZero)),
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            match result {
                Ok(()) => return,
                Err(e) => {
                    let whole = rest[..sent]
                        .iter()
                        .rposition(|&b| b == b'\n')
                        .map_or(0, |i| i + 1);
                    rest = &rest[whole..];
                    self.went_down(&e);
                }
            }
        }
    }

    /// Sends each line as one datagram (without its newline), after the
    /// syslog header for `syslog`.
    #[cfg(unix)]
    fn write_dgram(&mut self, chunk: &[u8]) {
        let syslog = self.target.kind == FileType::Syslog;
        let mut message = Vec::new();
        for line in chunk.split_inclusive(|&b| b == b'\n') {
            let mut record = line.strip_suffix(b"\n").unwrap_or(line);
            if syslog {
                message.clear();
                message.extend_from_slice(&self.syslog_head);
                message.extend_from_slice(record);
                record = &message;
            }
            loop {
                if !self.try_connect() {
                    self.lose(line);
                    break;
                }
                let Conn::Dgram(s) = &self.conn else {
                    self.lose(line);
                    break;
                };
                match s.send(record) {
                    Ok(_) => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => {
                        say!(
                            "flowscope: warning: output {}: a record of {} bytes is too large for one datagram; counted as lost",
                            self.target.display(),
                            record.len()
                        );
                        SinkCounters::add(&self.counters.failures, 1);
                        self.lose(line);
                        break;
                    }
                    Err(e) => self.went_down(&e),
                }
            }
        }
    }
}

/// Where `syslog` sends its messages unless told.
pub const SYSLOG_PATH: &str = "/dev/log";

/// The RFC 5424 header of every syslog message: `<134>1 - HOST flowscope
/// PID eve - ` (local0.info; no timestamp, which the syslog daemon adds
/// on receipt, the record having its own).
fn syslog_head() -> Vec<u8> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|h| {
            // PRINTUSASCII, at most 255 characters (RFC 5424 section 6).
            let h: String = h
                .trim()
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(255)
                .collect();
            h
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "-".to_owned());
    format!("<134>1 - {host} flowscope {} eve - ", std::process::id()).into_bytes()
}

/// Connects to the Kafka brokers `target` (and `[output.kafka]`) names.
fn open_kafka(target: &Target, cfg: &SinkConfig, counters: &Arc<SinkCounters>) -> io::Result<Conn> {
    #[cfg(feature = "kafka")]
    {
        let spec = kafka::parse_target(&target.path.to_string_lossy())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let out = kafka::KafkaOut::open(&spec, &cfg.kafka, counters.clone(), &target.display())?;
        Ok(Conn::Kafka(Box::new(out)))
    }
    #[cfg(not(feature = "kafka"))]
    {
        let _ = (target, cfg, counters);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this flowscope was built without Kafka output (cargo feature `kafka`)",
        ))
    }
}

/// Opens a file (truncated when `truncate`, else appended to) or
/// connects a socket.
fn connect(target: &Target, truncate: bool) -> io::Result<Conn> {
    match target.kind {
        FileType::Regular => {
            let mut o = OpenOptions::new();
            if truncate {
                o.write(true).create(true).truncate(true);
            } else {
                o.append(true).create(true);
            }
            o.open(&target.path).map(Conn::File)
        }
        #[cfg(unix)]
        FileType::UnixStream => UnixStream::connect(&target.path).map(Conn::Stream),
        #[cfg(unix)]
        FileType::UnixDgram | FileType::Syslog => {
            let s = UnixDatagram::unbound()?;
            s.connect(&target.path)?;
            Ok(Conn::Dgram(s))
        }
        FileType::Kafka => Err(io::Error::other(
            "a Kafka output is opened with its settings",
        )),
        #[cfg(not(unix))]
        _ => Err(io::Error::other("Unix sockets need a Unix system")),
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    /// Writes `buf`, which ends on a whole line.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if self
            .reopen
            .as_ref()
            .is_some_and(|r| r.swap(false, Ordering::SeqCst))
        {
            SinkCounters::add(&self.counters.reopens, 1);
            self.reopen()?;
        }
        match self.target.kind {
            FileType::Regular => self.write_file(buf),
            #[cfg(unix)]
            FileType::UnixStream => {
                self.write_stream(buf);
                Ok(())
            }
            #[cfg(unix)]
            FileType::UnixDgram | FileType::Syslog => {
                self.write_dgram(buf);
                Ok(())
            }
            FileType::Kafka => {
                #[cfg(feature = "kafka")]
                if let Conn::Kafka(k) = &mut self.conn {
                    k.write_lines(buf);
                }
                Ok(())
            }
            #[cfg(not(unix))]
            _ => Err(io::Error::other("Unix sockets need a Unix system")),
        }
    }

    /// Writes out what a file buffers; Kafka: serves the delivery reports
    /// that came in (the wait for acknowledgements is
    /// [`Sink::close_kafka`]'s).
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.conn {
            Conn::File(f) => f.flush(),
            #[cfg(feature = "kafka")]
            Conn::Kafka(k) => {
                k.poll();
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
