//! Mapped inputs that shrink while they are read. Touching a page of a
//! memory-mapped file that lies wholly past the file's current end raises
//! SIGBUS, which kills the process: another process truncating or
//! rewriting a capture (a rotating capture, say) would take the whole run
//! down, with no `stats` record and no flow flushed.
//!
//! Every mapping of an input is registered here. A process-wide SIGBUS
//! handler, installed once, looks the fault address up: inside a
//! registered mapping, it maps anonymous zero pages over the mapping from
//! the faulting page to its end (the access then reads zeros instead of
//! faulting again) and raises that mapping's "shrank" flag; anywhere else it
//! puts the previous disposition back and returns, so the fault repeats
//! and meets it as if this handler did not exist. The reader checks the
//! flag after every record (an atomic load, no system call) and stats the
//! file on the rare paths where zeros may show (a zero-length record, a
//! damaged one), so a shrinking input ends as damaged input at the record
//! where the cut was seen.

use super::{CaptureBytes, CaptureError, CaptureErrorKind, RecordCursor};
use flowscope_engine::RawPacket;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

/// Slots per block of the registry; blocks are added as needed and never
/// freed (a process maps only so many inputs at once).
const SLOTS: usize = 64;

/// One registered mapping: `[start, end)`, and whether it shrank. `end` is
/// 0 whenever the slot is free or being filled, so the handler never
/// matches a half-written slot.
struct Slot {
    claimed: AtomicBool,
    start: AtomicUsize,
    end: AtomicUsize,
    shrank: AtomicBool,
}

struct Block {
    slots: [Slot; SLOTS],
    /// The block registered before this one; set before this block is
    /// published and never changed after.
    next: *const Block,
}

/// The newest block; each links to the one before.
static HEAD: AtomicPtr<Block> = AtomicPtr::new(std::ptr::null_mut());

/// The system page size, read when the handler is installed.
static PAGE: AtomicUsize = AtomicUsize::new(4096);

/// Every block, newest first. Blocks are leaked boxes, never freed.
fn blocks() -> impl Iterator<Item = &'static Block> {
    let first = HEAD.load(Ordering::Acquire).cast_const();
    std::iter::successors(block_at(first), |b| block_at(b.next))
}

fn block_at(p: *const Block) -> Option<&'static Block> {
    #[allow(unsafe_code)]
    // SAFETY: every non-null pointer stored in `HEAD` or a block's `next`
    // comes from `Box::leak` (see `claim`), is published with a release
    // store after the block is fully written, and is never freed, so it is
    // valid and immutable (but for its atomics) for the rest of the process.
    unsafe {
        p.as_ref()
    }
}

/// Claims a free slot, adding a block when every slot is taken.
fn claim() -> &'static Slot {
    for b in blocks() {
        for s in &b.slots {
            if s.claimed
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                return s;
            }
        }
    }
    let fresh = || Slot {
        claimed: AtomicBool::new(false),
        start: AtomicUsize::new(0),
        end: AtomicUsize::new(0),
        shrank: AtomicBool::new(false),
    };
    let block: &'static mut Block = Box::leak(Box::new(Block {
        slots: std::array::from_fn(|_| fresh()),
        next: std::ptr::null(),
    }));
    block.slots[0].claimed.store(true, Ordering::Relaxed);
    let mut head = HEAD.load(Ordering::Acquire);
    loop {
        block.next = head.cast_const();
        match HEAD.compare_exchange(head, block, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => break,
            Err(now) => head = now,
        }
    }
    let block: &'static Block = block;
    &block.slots[0]
}

/// A registered mapping of an input file: while it lives, a SIGBUS inside
/// `[start, start + len)` is absorbed and recorded instead of killing the
/// process. Drop it before the mapping is unmapped.
#[derive(Debug)]
pub(crate) struct Registration {
    slot: &'static Slot,
    len: usize,
    file: FileId,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("shrank", &self.shrank.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The file a mapping was made from, to stat it later: its path and, on
/// Unix, its device and inode (a path now naming another file says
/// nothing about the mapped one).
#[derive(Debug)]
struct FileId {
    path: PathBuf,
    #[cfg(unix)]
    dev_ino: (u64, u64),
}

impl Registration {
    /// Registers `bytes`, a mapping of the file at `path` whose metadata
    /// is `meta`, installing the handler on first use.
    pub(crate) fn new(bytes: &[u8], path: &Path, meta: &std::fs::Metadata) -> Self {
        handler::install();
        let slot = claim();
        let start = bytes.as_ptr() as usize;
        slot.shrank.store(false, Ordering::Relaxed);
        slot.start.store(start, Ordering::Release);
        slot.end.store(start + bytes.len(), Ordering::Release);
        #[cfg(not(unix))]
        let _ = meta;
        Registration {
            slot,
            len: bytes.len(),
            file: FileId {
                path: path.to_owned(),
                #[cfg(unix)]
                dev_ino: {
                    use std::os::unix::fs::MetadataExt;
                    (meta.dev(), meta.ino())
                },
            },
        }
    }

    /// Whether a read of the mapping met a page past the file's end.
    #[inline(always)]
    pub(crate) fn faulted(&self) -> bool {
        self.slot.shrank.load(Ordering::Acquire)
    }

    /// Whether the file is now shorter than `end` bytes (or shorter than
    /// the mapping), or a read already met its end: the fault flag, then
    /// one `stat` of the file. A system call; for rare paths only.
    pub(crate) fn shrank_below(&self, end: u64) -> bool {
        if self.faulted() {
            return true;
        }
        let id = &self.file;
        let Ok(meta) = std::fs::metadata(&id.path) else {
            return false;
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if (meta.dev(), meta.ino()) != id.dev_ino {
                return false;
            }
        }
        meta.len() < end.min(self.len as u64)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.slot.end.store(0, Ordering::Release);
        self.slot.start.store(0, Ordering::Release);
        self.slot.shrank.store(false, Ordering::Relaxed);
        self.slot.claimed.store(false, Ordering::Release);
    }
}

impl RecordCursor {
    /// [`next_packet`](Self::next_packet) over the bytes of `bytes`, which
    /// also ends the file, as [`CaptureErrorKind::Shrank`] damage, where it
    /// is seen to have shrunk under its memory map.
    pub fn next_in<'a>(
        &mut self,
        bytes: &'a CaptureBytes,
    ) -> Option<Result<RawPacket<'a>, CaptureError>> {
        self.next_watched(bytes.as_slice(), bytes.watch())
    }

    pub(super) fn next_watched<'a>(
        &mut self,
        data: &'a [u8],
        watch: Option<&Registration>,
    ) -> Option<Result<RawPacket<'a>, CaptureError>> {
        let Some(watch) = watch else {
            return self.next_packet(data);
        };
        if self.failed {
            return None;
        }
        let start = self.pos;
        let r = self.next_packet(data);
        // A record is handed out only once it is known whole. Reading it
        // touched its header; touching its last byte and peeking at the 16
        // bytes after it means any page of it past the file's end has
        // faulted (and raised the flag) by the time the flag is checked.
        // What a cut inside a page leaves is zeros, not a fault: the file's
        // length is asked for (one stat) only when the bytes after the
        // record are all zeros or missing, or the record is empty, or the
        // file is damaged, so a record cut short is never handed out.
        let shrank = match &r {
            Some(Ok(p)) => {
                std::hint::black_box(p.data.last().copied());
                let next = data
                    .get(self.pos..self.pos + 16)
                    .and_then(|h| <[u8; 16]>::try_from(h).ok())
                    .map(u128::from_ne_bytes);
                let suspect = next.is_none_or(|h| h == 0) || p.data.is_empty();
                watch.faulted() || (suspect && watch.shrank_below(self.pos as u64 + 16))
            }
            Some(Err(_)) => watch.shrank_below(u64::MAX),
            None => watch.faulted(),
        };
        if !shrank {
            return r;
        }
        self.failed = true;
        let offset = match &r {
            Some(Err(e)) => e.offset,
            _ => start as u64,
        };
        Some(Err(CaptureError {
            kind: CaptureErrorKind::Shrank,
            offset,
        }))
    }
}

#[cfg(target_os = "linux")]
mod handler {
    //! The SIGBUS handler (Linux): only atomics, `mmap` and `sigaction`,
    //! all async-signal-safe.

    use super::{PAGE, blocks};
    use nix::libc;
    use std::sync::OnceLock;
    use std::sync::atomic::Ordering;

    /// The disposition found when the handler was installed.
    static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();
    static INSTALL: std::sync::Once = std::sync::Once::new();

    /// Installs the handler, once per process.
    pub(super) fn install() {
        INSTALL.call_once(|| {
            #[allow(unsafe_code)]
            // SAFETY: `sysconf` and `sigaction` are called with valid
            // arguments (a zeroed `sigaction` is a valid value to fill in
            // and to pass with its handler and flags set); the handler
            // installed only touches atomics and makes async-signal-safe
            // calls.
            unsafe {
                let page = libc::sysconf(libc::_SC_PAGESIZE);
                if page > 0 {
                    PAGE.store(page as usize, Ordering::Relaxed);
                }
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigbus as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let mut previous: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(libc::SIGBUS, &action, &mut previous) == 0 {
                    let _ = PREVIOUS.set(previous);
                }
            }
        });
    }

    extern "C" fn on_sigbus(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        #[allow(unsafe_code)]
        // SAFETY: with SA_SIGINFO the kernel passes a valid `siginfo_t`,
        // whose `si_addr` is the fault address for SIGBUS.
        let addr = unsafe { (*info).si_addr() } as usize;
        for block in blocks() {
            for slot in &block.slots {
                let start = slot.start.load(Ordering::Acquire);
                let end = slot.end.load(Ordering::Acquire);
                if !(start <= addr && addr < end) {
                    continue;
                }
                let page = PAGE.load(Ordering::Relaxed);
                let from = addr & !(page - 1);
                let to = (end + page - 1) & !(page - 1);
                #[allow(unsafe_code)]
                // SAFETY: `[from, to)` lies within a live mapping of an
                // input (registered mappings are unregistered before they
                // are unmapped, and the mapping is page-aligned and spans
                // whole pages), which nothing writes to: replacing its tail
                // with private zero pages changes what later reads see
                // (zeros instead of a fault) and nothing else. MAP_FIXED
                // over our own mapping is exactly what is wanted here.
                let mapped = unsafe {
                    libc::mmap(
                        from as *mut libc::c_void,
                        to - from,
                        libc::PROT_READ,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                        -1,
                        0,
                    )
                };
                if mapped != libc::MAP_FAILED {
                    slot.shrank.store(true, Ordering::Release);
                    return;
                }
            }
        }
        // Not one of ours (or the zero pages could not be mapped): put the
        // previous disposition back; the access repeats and meets it.
        let default = PREVIOUS.get();
        #[allow(unsafe_code)]
        // SAFETY: `sigaction` is async-signal-safe; the action passed is
        // the one the kernel returned at install time, or SIG_DFL.
        unsafe {
            match default {
                Some(previous) => libc::sigaction(libc::SIGBUS, previous, std::ptr::null_mut()),
                None => {
                    libc::signal(libc::SIGBUS, libc::SIG_DFL);
                    0
                }
            };
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod handler {
    //! Elsewhere no handler is installed: a shrinking input still faults.

    /// Nothing to install.
    pub(super) fn install() {}
}
