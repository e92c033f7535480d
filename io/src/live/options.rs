//! What a live capture is asked to do ([`LiveOptions`]: interfaces,
//! buffers, timestamps, direction, filter, pcapng write-through) and why it
//! may fail to start ([`LiveError`]).

use std::path::PathBuf;
use std::time::Duration;

/// Which packets of an interface to capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaptureDirection {
    /// Received and sent (the default).
    #[default]
    Both,
    /// Received only.
    In,
    /// Sent only.
    Out,
}

/// Timestamp precision asked of the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TsPrecision {
    /// Microseconds.
    Micro,
    /// Nanoseconds (where the kernel supports it; else microseconds, and
    /// [`InterfaceInfo::nanos`](super::InterfaceInfo::nanos) says so).
    #[default]
    Nano,
}

/// Where timestamps come from (libpcap's time stamp types; an interface
/// that does not offer the one asked for keeps its default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TsSource {
    /// The interface's default (host clock, as the kernel stamps it).
    #[default]
    Default,
    /// The host clock.
    Host,
    /// The host clock, low precision (cheaper where that matters).
    HostLowPrec,
    /// The host clock, high precision.
    HostHighPrec,
    /// The adapter's clock, synchronised with the host's.
    Adapter,
    /// The adapter's own clock, not synchronised.
    AdapterUnsynced,
}

/// Write what is captured to pcapng while processing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteThrough {
    /// The first file (`cap.pcapng`; rotation adds `cap.1.pcapng`…).
    pub path: PathBuf,
    /// Start a new file once one holds this many bytes (`None`: one file).
    pub rotate_bytes: Option<u64>,
}

/// What to capture and how.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Interfaces, one handle each (`any` is libpcap's all-interfaces
    /// pseudo-device).
    pub interfaces: Vec<String>,
    /// Bytes kept of each packet.
    pub snaplen: u32,
    /// Promiscuous mode.
    pub promisc: bool,
    /// Kernel buffer per interface, bytes.
    pub buffer_bytes: u32,
    /// Deliver each packet as it arrives instead of in kernel blocks (lower
    /// latency, more wake-ups).
    pub immediate: bool,
    /// Without immediate mode: the longest a packet waits in a kernel block
    /// before it is delivered.
    pub buffer_timeout: Duration,
    /// Timestamp precision.
    pub precision: TsPrecision,
    /// Timestamp source.
    pub tstamp_source: TsSource,
    /// Direction.
    pub direction: CaptureDirection,
    /// A BPF expression (tcpdump syntax), compiled by libpcap and applied
    /// in the kernel.
    pub filter: Option<String>,
    /// Write what is captured to pcapng files.
    pub write: Option<WriteThrough>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            interfaces: Vec::new(),
            snaplen: 262_144,
            promisc: true,
            buffer_bytes: 32 << 20,
            immediate: false,
            buffer_timeout: Duration::from_millis(10),
            precision: TsPrecision::Nano,
            tstamp_source: TsSource::Default,
            direction: CaptureDirection::Both,
            filter: None,
            write: None,
        }
    }
}

/// The longest filter expression accepted, in bytes: 64 KiB holds
/// thousands of terms, far more than real filters use (libpcap already
/// takes minutes and gigabytes to compile 3 000 `or host` terms).
pub(super) const MAX_FILTER_LEN: usize = 64 * 1024;

/// Why a capture could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// No interface was named.
    #[error("no interface to capture on (give -i IFACE)")]
    NoInterface,
    /// An interface could not be opened (no such device, no permission…).
    #[error("cannot capture on {iface}: {message}")]
    Open {
        /// The interface.
        iface: String,
        /// libpcap's words.
        message: String,
    },
    /// The filter expression does not compile.
    #[error("bad filter expression `{expr}`: {message}")]
    Filter {
        /// The expression.
        expr: String,
        /// libpcap's words.
        message: String,
    },
    /// The filter expression is longer than 64 KiB (libpcap's compiler
    /// takes time and memory that grow faster than the expression).
    #[error(
        "the filter expression is {len} bytes long; at most {} are accepted",
        MAX_FILTER_LEN
    )]
    FilterTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The write-through file could not be created.
    #[error("cannot write the capture to {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
