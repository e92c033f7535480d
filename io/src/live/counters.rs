//! A live capture's counters: per interface packets, bytes, kernel and
//! interface drops and errors ([`InterfaceCounts`]), shared while the
//! capture runs ([`CaptureCounters`]) and read as snapshots
//! ([`CaptureCounts`]); libpcap's 32-bit statistics followed across
//! wrap-arounds.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one interface, as of the last refresh.
#[derive(Debug, Default)]
pub(super) struct InterfaceCells {
    pub(super) packets: AtomicU64,
    pub(super) bytes: AtomicU64,
    pub(super) kernel_received: AtomicU64,
    pub(super) kernel_dropped: AtomicU64,
    pub(super) if_dropped: AtomicU64,
    pub(super) errors: AtomicU64,
}

/// One interface's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceCounts {
    /// The interface.
    pub name: String,
    /// Packets read from it.
    pub packets: u64,
    /// Their bytes on the wire.
    pub bytes: u64,
    /// Packets the kernel saw (libpcap `ps_recv`; on Linux, those that
    /// passed the filter).
    pub kernel_received: u64,
    /// Packets the kernel dropped for lack of buffer room (`ps_drop`).
    pub kernel_dropped: u64,
    /// Packets the interface (driver) dropped (`ps_ifdrop`).
    pub if_dropped: u64,
    /// Read errors.
    pub errors: u64,
}

/// A snapshot of [`CaptureCounters`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureCounts {
    /// Per interface, in `-i` order.
    pub interfaces: Vec<InterfaceCounts>,
    /// Packets written through to pcapng.
    pub written: u64,
    /// Why the write-through stopped, if it did.
    pub write_failure: Option<String>,
}

impl CaptureCounts {
    /// Kernel drops, all interfaces.
    pub fn kernel_dropped(&self) -> u64 {
        self.interfaces.iter().map(|i| i.kernel_dropped).sum()
    }
    /// Interface drops, all interfaces.
    pub fn if_dropped(&self) -> u64 {
        self.interfaces.iter().map(|i| i.if_dropped).sum()
    }
    /// Packets read, all interfaces.
    pub fn packets(&self) -> u64 {
        self.interfaces.iter().map(|i| i.packets).sum()
    }
}

/// The capture's counters, shared with whoever reports them; the source
/// refreshes them a few times a second (never per packet).
#[derive(Debug)]
pub struct CaptureCounters {
    pub(super) names: Vec<String>,
    pub(super) cells: Vec<InterfaceCells>,
    pub(super) written: AtomicU64,
    pub(super) write_failure: Mutex<Option<String>>,
}

impl CaptureCounters {
    pub(super) fn new(names: Vec<String>) -> Self {
        CaptureCounters {
            cells: names.iter().map(|_| InterfaceCells::default()).collect(),
            names,
            written: AtomicU64::new(0),
            write_failure: Mutex::new(None),
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> CaptureCounts {
        CaptureCounts {
            interfaces: self
                .names
                .iter()
                .zip(&self.cells)
                .map(|(name, c)| InterfaceCounts {
                    name: name.clone(),
                    packets: c.packets.load(Ordering::Relaxed),
                    bytes: c.bytes.load(Ordering::Relaxed),
                    kernel_received: c.kernel_received.load(Ordering::Relaxed),
                    kernel_dropped: c.kernel_dropped.load(Ordering::Relaxed),
                    if_dropped: c.if_dropped.load(Ordering::Relaxed),
                    errors: c.errors.load(Ordering::Relaxed),
                })
                .collect(),
            written: self.written.load(Ordering::Relaxed),
            write_failure: self
                .write_failure
                .lock()
                .map(|g| g.clone())
                .unwrap_or_default(),
        }
    }
}

/// A 32-bit libpcap counter followed across wrap-arounds.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Wrapping32 {
    last: u32,
    total: u64,
}

impl Wrapping32 {
    pub(super) fn update(&mut self, now: u32) -> u64 {
        self.total += u64::from(now.wrapping_sub(self.last));
        self.last = now;
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_survive_libpcap_wraparound() {
        let mut w = Wrapping32::default();
        assert_eq!(w.update(10), 10);
        assert_eq!(w.update(u32::MAX), u64::from(u32::MAX));
        assert_eq!(w.update(4), u64::from(u32::MAX) + 5);
    }
}
