//! Live capture and BPF filters through libpcap (feature `live`): the
//! [`LiveSource`] the ingest thread reads from one or more interfaces, its
//! shared [`CaptureCounters`] (packets, kernel and interface drops, read
//! while it runs), the optional pcapng write-through, and [`OfflineFilter`],
//! the same BPF expressions applied to capture files.
//!
//! Packets are handed to the pipeline as transient slices of libpcap's ring
//! buffer; the ingest copies each once into the batch it sends to a shard
//! (batches are recycled: no allocation per packet). Capture timestamps are
//! the packet clock, as offline; while the link is quiet the source's clock
//! ([`PacketSource::clock_now`]) moves it on so idle flows still time out.
//!
//! Live flows through the sharded pipeline, until a stop flag is set:
//!
//! ```no_run
//! use flowscope_engine::{EngineConfig, FiveTuple, FlowEvent, KeyOptions};
//! use flowscope_io::{LiveOptions, LiveSource};
//! use flowscope_shards::Pipeline;
//! use std::sync::Arc;
//! use std::sync::atomic::AtomicBool;
//!
//! let source = LiveSource::open(&LiveOptions {
//!     interfaces: vec!["eth0".into(), "eth1".into()],
//!     filter: Some("tcp port 443".into()),
//!     ..LiveOptions::default()
//! })?;
//! let counters = source.counters();
//! let stop = Arc::new(AtomicBool::new(false)); // set it to end the capture
//! let cfg = EngineConfig::default();
//! let pipeline = Pipeline::builder(cfg.clone(), FiveTuple::new(KeyOptions::from_config(&cfg)))
//!     .shards(4)
//!     .stop_flag(stop.clone())
//!     .build(source)?;
//! for ev in pipeline.receiver() {
//!     if let FlowEvent::Ended { key, stats, .. } = &ev.event {
//!         println!("{key:?} on interface #{}: {} packets", stats.iface, stats.total_packets());
//!     }
//! }
//! pipeline.join()?;
//! println!("kernel drops: {}", counters.snapshot().kernel_dropped());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! This module holds the source itself ([`LiveSource`], the
//! [`InterfaceInfo`] it opened); its options and errors, its counters and
//! the offline filter are in submodules of their own.

mod counters;
mod filter;
mod options;

pub use counters::{CaptureCounters, CaptureCounts, InterfaceCounts};
pub use filter::OfflineFilter;
pub use options::{CaptureDirection, LiveError, LiveOptions, TsPrecision, TsSource, WriteThrough};

use crate::pcapng_writer::{InterfaceDesc, RotatingPcapng};
use counters::Wrapping32;
use filter::check_filter_len;
use flowscope_engine::{LinkType, RawPacket, Timestamp};
use flowscope_shards::{PacketSource, SourceError, SourcePacket, Storage};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use pcap::{Active, Capture, Direction, Precision};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

/// How long one wait for packets lasts when every interface is quiet (the
/// ingest then closes wall-time epochs and checks for a stop request).
const POLL_WAIT_MS: u16 = 1;
/// Packets read from one interface before the next gets its turn.
const BURST: u32 = 64;
/// How often the shared counters (and libpcap's statistics) are refreshed.
const PUBLISH_EVERY: Duration = Duration::from_millis(250);
/// Packets between two looks at the clock for that refresh (at a million
/// packets a second, every 4 ms).
const PUBLISH_CHECK_EVERY: u32 = 4096;
/// The quiet-link clock trails the wall clock by this much (packets still
/// in the kernel's buffer carry earlier times) and moves in steps of it
/// (timeouts count whole seconds; finer steps would only wake every shard).
const CLOCK_STEP: Duration = Duration::from_millis(100);

/// One interface as opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// Its name.
    pub name: String,
    /// Its link type.
    pub linktype: LinkType,
    /// Whether timestamps are nanoseconds (else microseconds).
    pub nanos: bool,
}

/// One open interface.
struct Handle {
    cap: Capture<Active>,
    linktype: LinkType,
    nanos: bool,
    packets: u64,
    bytes: u64,
    errors: u64,
    recv: Wrapping32,
    drop: Wrapping32,
    ifdrop: Wrapping32,
}

/// Live packets from one or more interfaces, read in turn.
pub struct LiveSource {
    handles: Vec<Handle>,
    /// Per handle: its descriptor and whether it is still read (false once
    /// it gave a hard error, the interface gone) — kept apart from the
    /// handles, which a returned packet borrows.
    poll_fds: Vec<(RawFd, bool)>,
    /// How many of `poll_fds` are still read.
    open_handles: usize,
    /// Interfaces found empty in a row.
    empty_streak: usize,
    current: usize,
    burst: u32,
    counters: Arc<CaptureCounters>,
    published: Instant,
    /// Packets until the next look at the clock for a refresh.
    until_publish_check: u32,
    writer: Option<RotatingPcapng>,
    write_failed: bool,
}

impl std::fmt::Debug for LiveSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSource")
            .field("interfaces", &self.counters.names)
            .finish_non_exhaustive()
    }
}

// libpcap's own accessor, which the pcap crate does not wrap: whether the
// handle delivers nanosecond timestamps after activation.
#[allow(unsafe_code)]
unsafe extern "C" {
    fn pcap_get_tstamp_precision(p: *mut std::ffi::c_void) -> std::ffi::c_int;
}

/// `PCAP_TSTAMP_PRECISION_NANO`.
const PRECISION_NANO: std::ffi::c_int = 1;

fn open_one(name: &str, opts: &LiveOptions) -> Result<Handle, LiveError> {
    let err = |e: pcap::Error| LiveError::Open {
        iface: name.to_owned(),
        message: e.to_string(),
    };
    let snaplen = i32::try_from(opts.snaplen).unwrap_or(i32::MAX);
    let buffer = i32::try_from(opts.buffer_bytes).unwrap_or(i32::MAX);
    let timeout = i32::try_from(opts.buffer_timeout.as_millis())
        .unwrap_or(i32::MAX)
        .max(1);
    let mut inactive = Capture::from_device(name).map_err(err)?;
    let source = match opts.tstamp_source {
        TsSource::Default => None,
        TsSource::Host => Some(pcap::TimestampType::Host),
        TsSource::HostLowPrec => Some(pcap::TimestampType::HostLowPrec),
        TsSource::HostHighPrec => Some(pcap::TimestampType::HostHighPrec),
        TsSource::Adapter => Some(pcap::TimestampType::Adapter),
        TsSource::AdapterUnsynced => Some(pcap::TimestampType::AdapterUnsynced),
    };
    if let Some(t) = source {
        inactive = inactive.tstamp_type(t);
    }
    let inactive = inactive
        .snaplen(snaplen)
        .promisc(opts.promisc)
        .buffer_size(buffer)
        .immediate_mode(opts.immediate)
        .timeout(timeout)
        .precision(match opts.precision {
            TsPrecision::Micro => Precision::Micro,
            TsPrecision::Nano => Precision::Nano,
        });
    let cap = inactive.open().map_err(err)?;
    cap.direction(match opts.direction {
        CaptureDirection::Both => Direction::InOut,
        CaptureDirection::In => Direction::In,
        CaptureDirection::Out => Direction::Out,
    })
    .map_err(err)?;
    let mut cap = cap.setnonblock().map_err(err)?;
    if let Some(expr) = &opts.filter {
        cap.filter(expr, true).map_err(|e| LiveError::Filter {
            expr: expr.clone(),
            message: format!("{name}: {e}"),
        })?;
    }
    #[allow(unsafe_code)]
    // SAFETY: `as_ptr` is the live handle `cap` owns; the call only reads
    // a field of it.
    let nanos = unsafe { pcap_get_tstamp_precision(cap.as_ptr().cast()) } == PRECISION_NANO;
    let linktype = LinkType(u32::try_from(cap.get_datalink().0).unwrap_or(u32::MAX));
    Ok(Handle {
        cap,
        linktype,
        nanos,
        packets: 0,
        bytes: 0,
        errors: 0,
        recv: Wrapping32::default(),
        drop: Wrapping32::default(),
        ifdrop: Wrapping32::default(),
    })
}

/// The link type a pcapng file records for a libpcap DLT (they differ for
/// raw IP, whose DLT is platform-dependent).
fn file_linktype(dlt: LinkType) -> LinkType {
    match dlt {
        LinkType::RAW_12 | LinkType::RAW_14 => LinkType::RAW,
        other => other,
    }
}

impl LiveSource {
    /// Opens every interface, non-blocking, with the filter compiled for
    /// each. Nothing is read until the pipeline asks. Privileges are needed
    /// only here: they can be dropped once this returns (then start the
    /// write-through with [`LiveSource::write_through`]).
    pub fn open(opts: &LiveOptions) -> Result<Self, LiveError> {
        if opts.interfaces.is_empty() {
            return Err(LiveError::NoInterface);
        }
        if let Some(expr) = &opts.filter {
            check_filter_len(expr)?;
        }
        let handles = opts
            .interfaces
            .iter()
            .map(|name| open_one(name, opts))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LiveSource {
            poll_fds: handles.iter().map(|h| (h.cap.as_raw_fd(), true)).collect(),
            open_handles: handles.len(),
            empty_streak: 0,
            handles,
            current: 0,
            burst: 0,
            counters: Arc::new(CaptureCounters::new(opts.interfaces.clone())),
            published: Instant::now(),
            until_publish_check: PUBLISH_CHECK_EVERY,
            writer: None,
            write_failed: false,
        })
    }

    /// Starts writing what is captured to pcapng (after [`LiveSource::open`]
    /// and any privilege drop, so the files belong to the user who runs).
    pub fn write_through(&mut self, w: &WriteThrough, snaplen: u32) -> Result<(), LiveError> {
        let descs = self
            .counters
            .names
            .iter()
            .zip(&self.handles)
            .map(|(name, h)| InterfaceDesc {
                name: name.clone(),
                linktype: file_linktype(h.linktype),
                snaplen,
            })
            .collect();
        let writer = RotatingPcapng::create(&w.path, descs, w.rotate_bytes).map_err(|source| {
            LiveError::Write {
                path: w.path.clone(),
                source,
            }
        })?;
        self.writer = Some(writer);
        Ok(())
    }

    /// The interfaces as opened, in `-i` order.
    pub fn interfaces(&self) -> Vec<InterfaceInfo> {
        self.counters
            .names
            .iter()
            .zip(&self.handles)
            .map(|(name, h)| InterfaceInfo {
                name: name.clone(),
                linktype: h.linktype,
                nanos: h.nanos,
            })
            .collect()
    }

    /// The shared counters.
    pub fn counters(&self) -> Arc<CaptureCounters> {
        self.counters.clone()
    }

    /// The write-through files so far.
    pub fn written_files(&self) -> Vec<PathBuf> {
        self.writer
            .as_ref()
            .map(|w| w.files().to_vec())
            .unwrap_or_default()
    }

    /// Refreshes the shared counters (libpcap statistics included) and
    /// flushes the write-through, so what is on disk is at most this old.
    pub fn publish(&mut self) {
        self.published = Instant::now();
        for (h, c) in self.handles.iter_mut().zip(&self.counters.cells) {
            if let Ok(s) = h.cap.stats() {
                c.kernel_received
                    .store(h.recv.update(s.received), Ordering::Relaxed);
                c.kernel_dropped
                    .store(h.drop.update(s.dropped), Ordering::Relaxed);
                c.if_dropped
                    .store(h.ifdrop.update(s.if_dropped), Ordering::Relaxed);
            }
            c.packets.store(h.packets, Ordering::Relaxed);
            c.bytes.store(h.bytes, Ordering::Relaxed);
            c.errors.store(h.errors, Ordering::Relaxed);
        }
        if let Some(w) = &mut self.writer
            && !self.write_failed
            && let Err(e) = w.flush()
        {
            Self::write_failed(&self.counters, &mut self.write_failed, &e);
        }
        let written = self.writer.as_ref().map_or(0, RotatingPcapng::packets);
        self.counters.written.store(written, Ordering::Relaxed);
    }

    fn write_failed(counters: &CaptureCounters, flag: &mut bool, e: &std::io::Error) {
        *flag = true;
        if let Ok(mut g) = counters.write_failure.lock() {
            *g = Some(e.to_string());
        }
    }

    /// Waits up to the poll interval for any interface to have packets.
    fn wait(&self) {
        let mut fds: Vec<PollFd<'_>> = self
            .poll_fds
            .iter()
            .filter(|(_, open)| *open)
            .map(|&(fd, _)| {
                #[allow(unsafe_code)]
                // SAFETY: the descriptor belongs to a capture handle in
                // `self.handles`, open while `self` is borrowed here.
                let fd = unsafe { BorrowedFd::borrow_raw(fd) };
                PollFd::new(fd, PollFlags::POLLIN)
            })
            .collect();
        if fds.is_empty() {
            std::thread::sleep(Duration::from_millis(u64::from(POLL_WAIT_MS)));
            return;
        }
        // EINTR (a signal) just ends the wait early.
        let _ = poll(&mut fds, PollTimeout::from(POLL_WAIT_MS));
    }
}

impl PacketSource for LiveSource {
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        // The clock is read every few thousand packets (and on every
        // wait), not per packet.
        self.until_publish_check = self.until_publish_check.saturating_sub(1);
        if self.until_publish_check == 0 {
            self.until_publish_check = PUBLISH_CHECK_EVERY;
            if self.published.elapsed() >= PUBLISH_EVERY {
                self.publish();
            }
        }
        let n = self.handles.len();
        if self.open_handles == 0 {
            self.publish();
            return None;
        }
        // Every open interface came up empty in a row: wait for packets.
        if self.empty_streak >= self.open_handles {
            self.empty_streak = 0;
            self.until_publish_check = 1;
            self.wait();
            return Some(Err(SourceError::Idle));
        }
        while !self.poll_fds[self.current].1 {
            self.current = (self.current + 1) % n;
        }
        let i = self.current;
        // One read per call, through split borrows: the packet returned
        // borrows its handle's ring.
        let LiveSource {
            handles,
            writer,
            write_failed,
            counters,
            current,
            burst,
            empty_streak,
            open_handles,
            poll_fds,
            ..
        } = self;
        let h = &mut handles[i];
        match h.cap.next_packet() {
            Ok(p) => {
                let frac = u32::try_from(p.header.ts.tv_usec).unwrap_or(0);
                let ts = Timestamp::new(
                    u64::try_from(p.header.ts.tv_sec).unwrap_or(0),
                    if h.nanos {
                        frac
                    } else {
                        frac.saturating_mul(1000)
                    },
                );
                h.packets += 1;
                h.bytes += u64::from(p.header.len);
                *empty_streak = 0;
                *burst += 1;
                if *burst >= BURST {
                    *burst = 0;
                    *current = (i + 1) % n;
                }
                if let Some(w) = writer.as_mut()
                    && !*write_failed
                    && let Err(e) = w.write_packet(i as u32, ts, p.data, p.header.len)
                {
                    Self::write_failed(counters, write_failed, &e);
                }
                Some(Ok(SourcePacket {
                    raw: RawPacket {
                        ts,
                        linktype: h.linktype,
                        wire_len: p.header.len,
                        iface: i as u32,
                        data: p.data,
                    },
                    storage: Storage::Transient,
                }))
            }
            Err(pcap::Error::TimeoutExpired) => {
                *current = (i + 1) % n;
                *burst = 0;
                *empty_streak += 1;
                Some(Err(SourceError::Idle))
            }
            Err(e) => {
                // A read error (the interface went down, say): this
                // interface is done; the others go on.
                h.errors += 1;
                *open_handles -= 1;
                poll_fds[i].1 = false;
                *current = (i + 1) % n;
                Some(Err(SourceError::Failed(format!(
                    "{}: {e}",
                    counters.names[i]
                ))))
            }
        }
    }

    fn is_live(&self) -> bool {
        true
    }

    fn clock_now(&self) -> Option<Timestamp> {
        let since = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()?
            .checked_sub(CLOCK_STEP)?;
        let step = CLOCK_STEP.as_nanos() as u64;
        let nanos = u64::try_from(since.as_nanos()).ok()? / step * step;
        Some(Timestamp::from_nanos(nanos))
    }
}

impl Drop for LiveSource {
    fn drop(&mut self) {
        if let Some(w) = &mut self.writer {
            let _ = w.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_a_missing_interface_is_one_clear_error() {
        let e = LiveSource::open(&LiveOptions {
            interfaces: vec!["flowscope-no-such-if0".into()],
            ..LiveOptions::default()
        })
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("cannot capture on flowscope-no-such-if0: "),
            "{text}"
        );
        assert!(!text.contains('\n'), "{text}");
        assert!(matches!(
            LiveSource::open(&LiveOptions::default()),
            Err(LiveError::NoInterface)
        ));
    }

    #[test]
    fn a_filter_over_64_kib_is_refused_before_compiling() {
        let expr = "port 1 or ".repeat(7_000) + "port 2";
        let e = LiveSource::open(&LiveOptions {
            interfaces: vec!["flowscope-no-such-if0".into()],
            filter: Some(expr.clone()),
            ..LiveOptions::default()
        })
        .unwrap_err();
        assert!(matches!(e, LiveError::FilterTooLong { len: 70_006 }), "{e}");
        let e = OfflineFilter::new(&expr).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the filter expression is 70006 bytes long; at most 65536 are accepted"
        );
        assert!(OfflineFilter::new(&("port 1 or ".repeat(10) + "port 2")).is_ok());
    }

    #[test]
    fn the_quiet_clock_trails_the_wall_clock_in_steps() {
        let src_clock = {
            let since = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap();
            Timestamp::from_nanos(since.as_nanos() as u64)
        };
        // No handles needed to read the clock.
        let s = LiveSource {
            handles: Vec::new(),
            poll_fds: Vec::new(),
            open_handles: 0,
            empty_streak: 0,
            current: 0,
            burst: 0,
            counters: Arc::new(CaptureCounters::new(Vec::new())),
            published: Instant::now(),
            until_publish_check: PUBLISH_CHECK_EVERY,
            writer: None,
            write_failed: false,
        };
        let c = s.clock_now().unwrap();
        assert_eq!(c.as_nanos() % CLOCK_STEP.as_nanos() as u64, 0);
        let behind = src_clock.saturating_sub(c);
        assert!(
            behind >= CLOCK_STEP && behind < 3 * CLOCK_STEP,
            "{behind:?}"
        );
    }
}
