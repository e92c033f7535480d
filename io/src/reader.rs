//! Reading capture files: pcap (µs and ns, both byte orders, the
//! "modified" variant) and pcapng (several sections and interfaces, each
//! with its own link type and timestamp resolution; EPB, SPB and the
//! obsolete PB; other blocks skipped), read zero-copy from a memory map.
//! The same [`RecordCursor`] reads streams on a sliding window (the
//! `window` module; the buffering is the `stream` module's).
//!
//! Packets borrow the mapped bytes, so reading allocates nothing per packet.
//! Damage stops the reader with a [`CaptureError`] carrying the byte offset
//! of the bad record; every packet before it has been returned. A file that
//! shrinks while it is mapped (truncated or rewritten by another process)
//! is damage too ([`CaptureErrorKind::Shrank`]), never a SIGBUS: see the
//! `shrink` module.

use flowscope_engine::{LinkType, RawPacket, Timestamp};
use memmap2::Mmap;
use std::fs::File;
use std::path::{Path, PathBuf};

use flowscope_shards::prefetch;

mod map_cost;
mod shrink;
mod split;
mod window;

pub(crate) use map_cost::PROBE_BYTES;

pub use window::WindowStep;

/// A read-only memory map of an input file, registered so that the file
/// shrinking under it is reported instead of killing the process.
#[derive(Debug)]
pub struct MappedFile {
    // Unregistered (dropped) before the map is unmapped: fields drop in
    // declaration order.
    registration: shrink::Registration,
    map: Mmap,
}

/// Bytes of a capture, mapped from a file or held in memory.
#[derive(Debug)]
pub enum CaptureBytes {
    /// A read-only memory map of a file.
    Mapped(MappedFile),
    /// Bytes in memory (the bundled demo, tests).
    Owned(Vec<u8>),
    /// Bytes compiled into the binary.
    Static(&'static [u8]),
}

impl AsRef<[u8]> for CaptureBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl CaptureBytes {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            CaptureBytes::Mapped(m) => &m.map,
            CaptureBytes::Owned(v) => v,
            CaptureBytes::Static(s) => s,
        }
    }

    /// The registration of a mapped file, which tells whether it shrank.
    fn watch(&self) -> Option<&shrink::Registration> {
        match self {
            CaptureBytes::Mapped(m) => Some(&m.registration),
            _ => None,
        }
    }
}

/// An opened capture file.
#[derive(Debug)]
pub struct CaptureFile {
    /// Where it came from (for messages).
    pub path: PathBuf,
    bytes: CaptureBytes,
}

/// Why a file could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct OpenError {
    /// The file.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

impl CaptureFile {
    /// Opens and maps a file.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let err = |source| OpenError {
            path: path.to_owned(),
            source,
        };
        // Asked before opening: opening a FIFO blocks until a writer comes.
        let kind = std::fs::metadata(path).map_err(err)?.file_type();
        if kind.is_dir() {
            return Err(err(std::io::Error::other("is a directory")));
        }
        if !kind.is_file() {
            return Err(err(not_a_file()));
        }
        let file = File::open(path).map_err(err)?;
        let meta = file.metadata().map_err(err)?;
        if meta.len() == 0 {
            // Mapping an empty file fails on some systems; there is nothing to map.
            return Ok(CaptureFile {
                path: path.to_owned(),
                bytes: CaptureBytes::Owned(Vec::new()),
            });
        }
        #[allow(unsafe_code)]
        // SAFETY: the map is read-only and private to this process. The one
        // hazard is another process truncating the file while it is mapped:
        // reading a page past the new end raises SIGBUS, which the
        // registration below turns into zeros and a flag the reader checks
        // after every record (see the `shrink` module), and another
        // process writing to the file changes bytes under us, which can
        // only make them read as damaged.
        let map = unsafe { Mmap::map(&file) }.map_err(err)?;
        #[cfg(unix)]
        {
            // Sequential read-ahead; a failure only costs speed.
            let _ = map.advise(memmap2::Advice::Sequential);
        }
        let registration = shrink::Registration::new(&map, path, &meta);
        Ok(CaptureFile {
            path: path.to_owned(),
            bytes: CaptureBytes::Mapped(MappedFile { registration, map }),
        })
    }

    /// Whether this file, read once on one thread, costs less where it is
    /// mapped than copied through a buffer, on this system: a 2 MiB window
    /// touched through the mapping and another copied out are timed (see
    /// the `map_cost` module). `false` for a file under 8 MiB, one that no
    /// longer opens, and bytes held in memory.
    pub fn maps_cheaply(&self) -> bool {
        match &self.bytes {
            CaptureBytes::Mapped(m) => {
                File::open(&self.path).is_ok_and(|file| map_cost::maps_cheaply(&m.map, &file))
            }
            _ => false,
        }
    }

    /// A capture held in memory under a display name.
    pub fn from_bytes(name: impl Into<PathBuf>, bytes: CaptureBytes) -> Self {
        CaptureFile {
            path: name.into(),
            bytes,
        }
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.as_slice().len()
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The display name and the bytes.
    pub fn into_parts(self) -> (PathBuf, CaptureBytes) {
        (self.path, self.bytes)
    }

    /// A reader over the packets.
    pub fn packets(&self) -> Result<PacketReader<'_>, CaptureError> {
        let mut reader = PacketReader::new(self.bytes.as_slice())?;
        reader.watch = self.bytes.watch();
        Ok(reader)
    }
}

/// Why a pipe, FIFO, socket or device cannot be mapped.
fn not_a_file() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "not a regular file (a pipe, FIFO or device), so it cannot be memory-mapped; \
         read it as a stream (CaptureStream, CaptureInput::open)",
    )
}

/// What is wrong with a capture, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte offset {offset}")]
pub struct CaptureError {
    /// What.
    pub kind: CaptureErrorKind,
    /// Byte offset of the header or record at fault.
    pub offset: u64,
}

/// The kinds of capture damage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureErrorKind {
    /// Neither a pcap nor a pcapng magic number.
    #[error("not a pcap or pcapng file (magic {0:#010x})")]
    UnknownFormat(u32),
    /// The file is shorter than its header.
    #[error("file too short for a capture header")]
    HeaderTruncated,
    /// A pcap version other than 2.x.
    #[error("unsupported pcap version {0}.{1}")]
    UnsupportedPcapVersion(u16, u16),
    /// The pcap link-type field has reserved bits set.
    #[error("pcap link-type field has reserved bits set ({0:#010x})")]
    BadLinkTypeField(u32),
    /// A pcapng section version other than 1.0 or 1.2.
    #[error("unsupported pcapng section version {0}.{1}")]
    UnsupportedPcapngVersion(u16, u16),
    /// The file ends inside a record.
    #[error(
        "file ends in the middle of a packet record ({needed} bytes announced, {available} present)"
    )]
    RecordTruncated {
        /// Bytes the record header announces.
        needed: u64,
        /// Bytes left in the file.
        available: u64,
    },
    /// A record length that cannot be right.
    #[error("corrupt record: captured length {caplen} exceeds the limit of {limit}")]
    RecordTooLong {
        /// Announced captured length.
        caplen: u32,
        /// Largest length accepted.
        limit: u32,
    },
    /// A pcapng block whose length fields are inconsistent.
    #[error("corrupt pcapng block (type {block_type:#x}, length {length})")]
    BadBlock {
        /// Block type.
        block_type: u32,
        /// Announced total length.
        length: u32,
    },
    /// A pcapng option list that does not parse.
    #[error("corrupt pcapng {0} block options")]
    BadOptions(&'static str),
    /// A packet block before any section or interface header.
    #[error("packet block refers to interface {0}, which was not described")]
    UnknownInterface(u32),
    /// An interface whose timestamp resolution is unusable.
    #[error("interface timestamp resolution {0:#x} is not supported")]
    BadTimestampResolution(u8),
    /// The file shrank while it was read (another process truncated or
    /// rewrote it); the offset is where reading stopped.
    #[error("the file shrank while it was being read")]
    Shrank,
    /// A record (a pcapng block, say) longer than the buffer a stream is
    /// read through.
    #[error(
        "record of {length} bytes is longer than the {limit}-byte buffer a stream is read through"
    )]
    StreamRecordTooLong {
        /// Bytes the record header announces.
        length: u64,
        /// The buffer's size.
        limit: u64,
    },
    /// Reading a stream failed; the offset is where the stream's bytes
    /// stopped.
    #[error("read error ({0})")]
    ReadFailed(String),
}

const PCAP_MAGIC_US: u32 = 0xa1b2_c3d4;
const PCAP_MAGIC_NS: u32 = 0xa1b2_3c4d;
const PCAP_MAGIC_MODIFIED: u32 = 0xa1b2_cd34;
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
const PCAPNG_BOM: u32 = 0x1a2b_3c4d;
const PCAPNG_IDB: u32 = 0x0000_0001;
const PCAPNG_PB: u32 = 0x0000_0002;
const PCAPNG_SPB: u32 = 0x0000_0003;
const PCAPNG_EPB: u32 = 0x0000_0006;
/// libpcap's largest snapshot length; longer records are damage.
const MAX_CAPLEN: u32 = 262_144;

/// The longest record (a pcap record with its header, a pcapng block) a
/// capture may hold: longer ones are damage, whether the file is mapped or
/// read through a buffer, so both read every file alike. Far above any
/// packet (libpcap's 256 KiB) and any real block (name resolution,
/// decryption secrets: a few MiB).
pub const MAX_RECORD: usize = 64 << 20;

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: LinkType,
    snaplen: u32,
    /// Timestamp units per second.
    units_per_sec: u64,
    /// Nanoseconds per unit when a unit is a whole number of them, else 0.
    nanos_per_unit: u64,
    /// Seconds added to every timestamp (`if_tsoffset`).
    offset_secs: i64,
}

#[derive(Debug)]
enum Format {
    Pcap {
        big_endian: bool,
        nanos: bool,
        record_header: usize,
        linktype: LinkType,
        caplen_limit: u32,
    },
    Pcapng {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// Reads packets one by one from capture bytes.
#[derive(Debug)]
pub struct PacketReader<'a> {
    data: &'a [u8],
    cursor: RecordCursor,
    watch: Option<&'a shrink::Registration>,
}

impl<'a> PacketReader<'a> {
    /// Reads the file header.
    pub fn new(data: &'a [u8]) -> Result<Self, CaptureError> {
        Ok(PacketReader {
            data,
            cursor: RecordCursor::new(data)?,
            watch: None,
        })
    }

    /// Byte offset of the next record.
    pub fn offset(&self) -> u64 {
        self.cursor.offset()
    }

    /// Whether the file is pcapng.
    pub fn is_pcapng(&self) -> bool {
        self.cursor.is_pcapng()
    }

    /// The next packet; `None` at the end of the file. After an error the
    /// reader stays finished.
    pub fn next_packet(&mut self) -> Option<Result<RawPacket<'a>, CaptureError>> {
        self.cursor.next_watched(self.data, self.watch)
    }
}

/// A reader's position and format state, apart from the bytes: whoever
/// owns the bytes (a pipeline source sharing them with other threads, say)
/// keeps both side by side and passes the bytes to every call.
#[derive(Debug)]
pub struct RecordCursor {
    /// Where the next record starts in the bytes passed to each call.
    pos: usize,
    /// Offset in the capture of the first of those bytes: 0 for a whole
    /// file, the bytes already dropped from a stream's window (see the
    /// `window` module).
    base: u64,
    /// Bytes up to here have been prefetched.
    prefetched: usize,
    format: Format,
    failed: bool,
}

/// How far ahead of the reading position the cursor prefetches. Records are
/// read strictly in order, but their headers land on arbitrary cache lines
/// and the next record's place is known only once this one is parsed, so
/// the cursor streams every line of the next few kilobytes into the cache
/// instead (a few prefetch instructions per packet).
const PREFETCH_DISTANCE: usize = 4096;

// Callers check lengths first; these panic (a bug, not bad input) if not.
// One range check and one load each, instead of a check per byte.
#[inline(always)]
fn u16_at(d: &[u8], at: usize, be: bool) -> u16 {
    let b: [u8; 2] = d[at..at + 2].try_into().unwrap_or_default();
    if be {
        u16::from_be_bytes(b)
    } else {
        u16::from_le_bytes(b)
    }
}

#[inline(always)]
fn u32_at(d: &[u8], at: usize, be: bool) -> u32 {
    let b: [u8; 4] = d[at..at + 4].try_into().unwrap_or_default();
    if be {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    }
}

impl RecordCursor {
    /// Reads the file header of `data`.
    pub fn new(data: &[u8]) -> Result<Self, CaptureError> {
        let err = |kind| CaptureError { kind, offset: 0 };
        if data.len() < 4 {
            return Err(err(CaptureErrorKind::HeaderTruncated));
        }
        let magic_le = u32_at(data, 0, false);
        if magic_le == PCAPNG_SHB {
            // The section header is parsed by the first `next` call.
            return Ok(RecordCursor {
                pos: 0,
                base: 0,
                prefetched: 0,
                format: Format::Pcapng {
                    big_endian: false,
                    interfaces: Vec::new(),
                },
                failed: false,
            });
        }
        let (big_endian, magic) = match (magic_le, u32_at(data, 0, true)) {
            (m @ (PCAP_MAGIC_US | PCAP_MAGIC_NS | PCAP_MAGIC_MODIFIED), _) => (false, m),
            (_, m @ (PCAP_MAGIC_US | PCAP_MAGIC_NS | PCAP_MAGIC_MODIFIED)) => (true, m),
            _ => return Err(err(CaptureErrorKind::UnknownFormat(u32_at(data, 0, true)))),
        };
        // pcap-parser reads the global header (it handles both byte orders).
        let header = match pcap_parser::pcap::parse_pcap_header(data) {
            Ok((_, h)) => h,
            Err(_) => return Err(err(CaptureErrorKind::HeaderTruncated)),
        };
        if header.version_major != 2 {
            return Err(err(CaptureErrorKind::UnsupportedPcapVersion(
                header.version_major,
                header.version_minor,
            )));
        }
        let raw_linktype = header.network.0 as u32;
        // Bits 16-25 are reserved; 26-31 carry the FCS length flag.
        if raw_linktype & 0x03ff_0000 != 0 {
            return Err(err(CaptureErrorKind::BadLinkTypeField(raw_linktype)));
        }
        Ok(RecordCursor {
            pos: 24,
            base: 0,
            prefetched: 24,
            format: Format::Pcap {
                big_endian,
                nanos: magic == PCAP_MAGIC_NS,
                record_header: if magic == PCAP_MAGIC_MODIFIED { 24 } else { 16 },
                linktype: LinkType(raw_linktype & 0xffff),
                caplen_limit: header.snaplen.max(MAX_CAPLEN).min((MAX_RECORD - 24) as u32),
            },
            failed: false,
        })
    }

    /// Byte offset of the next record in the capture.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Whether the file is pcapng.
    pub fn is_pcapng(&self) -> bool {
        matches!(self.format, Format::Pcapng { .. })
    }

    /// The next packet of `data` (the bytes this cursor was created on);
    /// `None` at the end. After an error the cursor stays finished.
    pub fn next_packet<'a>(
        &mut self,
        data: &'a [u8],
    ) -> Option<Result<RawPacket<'a>, CaptureError>> {
        if self.failed {
            return None;
        }
        let ahead = (self.pos + PREFETCH_DISTANCE).min(data.len());
        while self.prefetched < ahead {
            prefetch(&data[self.prefetched..]);
            self.prefetched += 64;
        }
        let r = match self.format {
            Format::Pcap { .. } => self.next_pcap(data),
            Format::Pcapng { .. } => self.next_pcapng(data),
        };
        if matches!(r, Some(Err(_))) {
            self.failed = true;
        }
        r
    }

    fn fail<'a>(&self, kind: CaptureErrorKind) -> Option<Result<RawPacket<'a>, CaptureError>> {
        Some(Err(CaptureError {
            kind,
            offset: self.offset(),
        }))
    }

    fn next_pcap<'a>(&mut self, data: &'a [u8]) -> Option<Result<RawPacket<'a>, CaptureError>> {
        let Format::Pcap {
            big_endian: be,
            nanos,
            record_header,
            linktype,
            caplen_limit,
        } = self.format
        else {
            return None;
        };
        let rest = &data[self.pos..];
        if rest.is_empty() {
            return None;
        }
        if rest.len() < record_header {
            return self.fail(CaptureErrorKind::RecordTruncated {
                needed: record_header as u64,
                available: rest.len() as u64,
            });
        }
        let header: &[u8; 16] = rest[..16].try_into().unwrap_or(&[0; 16]);
        let sec = u32_at(header, 0, be);
        let frac = u32_at(header, 4, be);
        let caplen = u32_at(header, 8, be);
        let origlen = u32_at(header, 12, be);
        if caplen > caplen_limit {
            return self.fail(CaptureErrorKind::RecordTooLong {
                caplen,
                limit: caplen_limit,
            });
        }
        let end = record_header + caplen as usize;
        if rest.len() < end {
            return self.fail(CaptureErrorKind::RecordTruncated {
                needed: end as u64,
                available: rest.len() as u64,
            });
        }
        let nsec = if nanos {
            frac
        } else {
            frac.saturating_mul(1000)
        };
        let pkt = RawPacket {
            ts: Timestamp::new(u64::from(sec), nsec),
            linktype,
            wire_len: origlen.max(caplen),
            iface: 0,
            data: &rest[record_header..end],
        };
        self.pos += end;
        Some(Ok(pkt))
    }

    fn next_pcapng<'a>(&mut self, data: &'a [u8]) -> Option<Result<RawPacket<'a>, CaptureError>> {
        loop {
            let rest = &data[self.pos..];
            if rest.is_empty() {
                return None;
            }
            if rest.len() < 12 {
                return self.fail(CaptureErrorKind::RecordTruncated {
                    needed: 12,
                    available: rest.len() as u64,
                });
            }
            // A section header decides its own byte order.
            let is_shb = u32_at(rest, 0, false) == PCAPNG_SHB;
            if is_shb {
                let bom = u32_at(rest, 8, false);
                let be = match bom {
                    PCAPNG_BOM => false,
                    b if b.swap_bytes() == PCAPNG_BOM => true,
                    _ => {
                        return self.fail(CaptureErrorKind::BadBlock {
                            block_type: PCAPNG_SHB,
                            length: 0,
                        });
                    }
                };
                if let Format::Pcapng {
                    big_endian,
                    interfaces,
                } = &mut self.format
                {
                    *big_endian = be;
                    interfaces.clear();
                }
            }
            let Format::Pcapng { big_endian: be, .. } = self.format else {
                return None;
            };
            let block_type = u32_at(rest, 0, be);
            let length = u32_at(rest, 4, be);
            let len = length as usize;
            if len < 12 || !len.is_multiple_of(4) || len > MAX_RECORD {
                return self.fail(CaptureErrorKind::BadBlock { block_type, length });
            }
            if len > rest.len() {
                return self.fail(CaptureErrorKind::RecordTruncated {
                    needed: u64::from(length),
                    available: rest.len() as u64,
                });
            }
            if u32_at(rest, len - 4, be) != length {
                return self.fail(CaptureErrorKind::BadBlock { block_type, length });
            }
            let block = &rest[..len];
            let body = &block[8..len - 4];
            let result = match block_type {
                PCAPNG_SHB => self.section_header(block),
                PCAPNG_IDB => self.interface(block, be),
                PCAPNG_EPB => self.enhanced_packet(body, be),
                PCAPNG_SPB => self.simple_packet(body, be),
                PCAPNG_PB => self.obsolete_packet(body, be),
                _ => Ok(None),
            };
            match result {
                Err(kind) => return self.fail(kind),
                Ok(Some(pkt)) => {
                    self.pos += len;
                    return Some(Ok(pkt));
                }
                Ok(None) => self.pos += len,
            }
        }
    }

    fn section_header<'a>(
        &mut self,
        block: &[u8],
    ) -> Result<Option<RawPacket<'a>>, CaptureErrorKind> {
        let shb = match pcap_parser::pcapng::parse_sectionheaderblock(block) {
            Ok((_, shb)) => shb,
            Err(_) => return Err(CaptureErrorKind::BadOptions("section header")),
        };
        // 1.0 is the standard; 1.2 was written by some old tools and is
        // read by libpcap and Wireshark as 1.0.
        if shb.major_version != 1 || !matches!(shb.minor_version, 0 | 2) {
            return Err(CaptureErrorKind::UnsupportedPcapngVersion(
                shb.major_version,
                shb.minor_version,
            ));
        }
        Ok(None)
    }

    fn interface<'a>(
        &mut self,
        block: &'a [u8],
        be: bool,
    ) -> Result<Option<RawPacket<'a>>, CaptureErrorKind> {
        let parsed = if be {
            pcap_parser::pcapng::parse_interfacedescriptionblock_be(block)
        } else {
            pcap_parser::pcapng::parse_interfacedescriptionblock_le(block)
        };
        let idb = match parsed {
            Ok((_, idb)) => idb,
            Err(_) => return Err(CaptureErrorKind::BadOptions("interface description")),
        };
        let units_per_sec = ts_resolution(idb.if_tsresol)
            .ok_or(CaptureErrorKind::BadTimestampResolution(idb.if_tsresol))?;
        if let Format::Pcapng { interfaces, .. } = &mut self.format {
            interfaces.push(Interface {
                linktype: LinkType(idb.linktype.0 as u32 & 0xffff),
                snaplen: idb.snaplen,
                units_per_sec,
                nanos_per_unit: if 1_000_000_000 % units_per_sec == 0 {
                    1_000_000_000 / units_per_sec
                } else {
                    0
                },
                offset_secs: idb.if_tsoffset,
            });
        }
        Ok(None)
    }

    fn iface(&self, id: u32) -> Result<Interface, CaptureErrorKind> {
        match &self.format {
            Format::Pcapng { interfaces, .. } => interfaces
                .get(id as usize)
                .copied()
                .ok_or(CaptureErrorKind::UnknownInterface(id)),
            Format::Pcap { .. } => Err(CaptureErrorKind::UnknownInterface(id)),
        }
    }

    fn packet<'a>(
        &self,
        (iface_id, iface): (u32, Interface),
        ts_units: u64,
        caplen: u32,
        origlen: u32,
        data: &'a [u8],
        block_type: u32,
    ) -> Result<Option<RawPacket<'a>>, CaptureErrorKind> {
        if caplen as usize > data.len() {
            return Err(CaptureErrorKind::BadBlock {
                block_type,
                length: caplen,
            });
        }
        // Units that divide a second into whole nanoseconds (µs, ns, ms...)
        // need a multiply; others (binary fractions) a 128-bit division.
        let nanos = if iface.nanos_per_unit != 0 {
            u128::from(ts_units) * u128::from(iface.nanos_per_unit)
        } else {
            u128::from(ts_units) * 1_000_000_000 / u128::from(iface.units_per_sec)
        };
        let offset = i128::from(iface.offset_secs) * 1_000_000_000;
        let ns = (nanos as i128 + offset).clamp(0, i128::from(u64::MAX)) as u64;
        Ok(Some(RawPacket {
            ts: Timestamp::from_nanos(ns),
            linktype: iface.linktype,
            wire_len: origlen.max(caplen),
            iface: iface_id,
            data: &data[..caplen as usize],
        }))
    }

    fn enhanced_packet<'a>(
        &self,
        body: &'a [u8],
        be: bool,
    ) -> Result<Option<RawPacket<'a>>, CaptureErrorKind> {
        let iface_id = body.get(..4).map(|b| u32_at(b, 0, be));
        self.timestamped_packet(body, iface_id, be, PCAPNG_EPB)
    }

    /// The body shared by enhanced and obsolete packet blocks after their
    /// interface id (32 bits in an EPB, 16 plus drop count in a PB):
    /// timestamp high/low, captured and original length, data.
    fn timestamped_packet<'a>(
        &self,
        body: &'a [u8],
        iface_id: Option<u32>,
        be: bool,
        block_type: u32,
    ) -> Result<Option<RawPacket<'a>>, CaptureErrorKind> {
        let Some(iface_id) = iface_id.filter(|_| body.len() >= 20) else {
            return Err(CaptureErrorKind::BadBlock {
                block_type,
                length: body.len() as u32 + 12,
            });
        };
        let iface = self.iface(iface_id)?;
        let ts = (u64::from(u32_at(body, 4, be)) << 32) | u64::from(u32_at(body, 8, be));
        let caplen = u32_at(body, 12, be);
        let origlen = u32_at(body, 16, be);
        self.packet(
            (iface_id, iface),
            ts,
            caplen,
            origlen,
            &body[20..],
            block_type,
        )
    }

    fn simple_packet<'a>(
        &self,
        body: &'a [u8],
        be: bool,
    ) -> Result<Option<RawPacket<'a>>, CaptureErrorKind> {
        if body.len() < 4 {
            return Err(CaptureErrorKind::BadBlock {
                block_type: PCAPNG_SPB,
                length: body.len() as u32 + 12,
            });
        }
        // Simple packets belong to interface 0 and carry no timestamp.
        let iface = self.iface(0)?;
        let origlen = u32_at(body, 0, be);
        let data = &body[4..];
        let snap = if iface.snaplen == 0 {
            u32::MAX
        } else {
            iface.snaplen
        };
        let caplen = origlen.min(snap).min(data.len() as u32);
        self.packet((0, iface), 0, caplen, origlen, data, PCAPNG_SPB)
    }

    fn obsolete_packet<'a>(
        &self,
        body: &'a [u8],
        be: bool,
    ) -> Result<Option<RawPacket<'a>>, CaptureErrorKind> {
        let iface_id = body.get(..2).map(|b| u32::from(u16_at(b, 0, be)));
        self.timestamped_packet(body, iface_id, be, PCAPNG_PB)
    }
}

/// Timestamp units per second for an `if_tsresol` value: `10^n`, or `2^n`
/// when the top bit is set. (pcap-parser 0.17's `build_ts_resolution`
/// rejects every power-of-two resolution, so this is computed here.)
fn ts_resolution(tsresol: u8) -> Option<u64> {
    let n = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(n)
    } else {
        1u64.checked_shl(n).filter(|_| n < 64)
    }
}

impl<'a> Iterator for PacketReader<'a> {
    type Item = Result<RawPacket<'a>, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_packet()
    }
}

#[cfg(test)]
pub(crate) mod tests;
