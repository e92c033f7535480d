//! Writes pcapng files (little-endian, nanosecond timestamps, one interface
//! description per capture interface): the write-through of
//! `flowscope capture -w`, optionally rotating to a new file at a size.
//!
//! Every file starts with its own section header and the interface
//! descriptions, so each can be read on its own; read in order they are
//! the whole capture.

use flowscope_engine::{LinkType, Timestamp};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

const BLOCK_SHB: u32 = 0x0A0D_0D0A;
const BLOCK_IDB: u32 = 0x0000_0001;
const BLOCK_EPB: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const OPT_END: u16 = 0;
const OPT_SHB_USERAPPL: u16 = 4;
const OPT_IF_NAME: u16 = 2;
const OPT_IF_TSRESOL: u16 = 9;
/// `if_tsresol` 9: timestamps count nanoseconds.
const TSRESOL_NANOS: u8 = 9;
/// EPB fixed part: type, length, interface, ts high, ts low, captured,
/// original, and the trailing length.
const EPB_OVERHEAD: usize = 32;

/// One capture interface as the file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceDesc {
    /// The interface's name (`if_name`).
    pub name: String,
    /// Its link type.
    pub linktype: LinkType,
    /// Its snapshot length.
    pub snaplen: u32,
}

/// A pcapng writer over any `Write`.
#[derive(Debug)]
pub struct PcapngWriter<W: Write> {
    out: W,
    interfaces: usize,
    written: u64,
}

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

fn option(buf: &mut Vec<u8>, code: u16, value: &[u8]) {
    buf.extend_from_slice(&code.to_le_bytes());
    buf.extend_from_slice(&(value.len() as u16).to_le_bytes());
    buf.extend_from_slice(value);
    buf.resize(buf.len() + pad4(value.len()), 0);
}

/// A whole block: type, length, body, length.
fn block(out: &mut impl Write, kind: u32, body: &[u8]) -> io::Result<u64> {
    let len = (12 + body.len()) as u32;
    out.write_all(&kind.to_le_bytes())?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&len.to_le_bytes())?;
    Ok(u64::from(len))
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the section header and one description per interface;
    /// packets then name their interface by its index in `interfaces`.
    pub fn new(mut out: W, interfaces: &[InterfaceDesc]) -> io::Result<Self> {
        let mut body = Vec::with_capacity(64);
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        // Section length unknown (-1): the file is written as it goes.
        body.extend_from_slice(&(-1i64).to_le_bytes());
        let app = concat!("flowscope ", env!("CARGO_PKG_VERSION"));
        option(&mut body, OPT_SHB_USERAPPL, app.as_bytes());
        option(&mut body, OPT_END, &[]);
        let mut written = block(&mut out, BLOCK_SHB, &body)?;
        for iface in interfaces {
            body.clear();
            let linktype = u16::try_from(iface.linktype.0).unwrap_or(u16::MAX);
            body.extend_from_slice(&linktype.to_le_bytes());
            body.extend_from_slice(&0u16.to_le_bytes());
            body.extend_from_slice(&iface.snaplen.to_le_bytes());
            option(&mut body, OPT_IF_NAME, iface.name.as_bytes());
            option(&mut body, OPT_IF_TSRESOL, &[TSRESOL_NANOS]);
            option(&mut body, OPT_END, &[]);
            written += block(&mut out, BLOCK_IDB, &body)?;
        }
        Ok(PcapngWriter {
            out,
            interfaces: interfaces.len(),
            written,
        })
    }

    /// Writes one packet of interface `iface` (its index in the
    /// descriptions) with its original (wire) length.
    pub fn write_packet(
        &mut self,
        iface: u32,
        ts: Timestamp,
        data: &[u8],
        wire_len: u32,
    ) -> io::Result<()> {
        if iface as usize >= self.interfaces {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("interface {iface} was not described"),
            ));
        }
        let pad = pad4(data.len());
        let len = (EPB_OVERHEAD + data.len() + pad) as u32;
        let nanos = ts.as_nanos();
        let mut head = [0u8; 28];
        head[0..4].copy_from_slice(&BLOCK_EPB.to_le_bytes());
        head[4..8].copy_from_slice(&len.to_le_bytes());
        head[8..12].copy_from_slice(&iface.to_le_bytes());
        head[12..16].copy_from_slice(&((nanos >> 32) as u32).to_le_bytes());
        head[16..20].copy_from_slice(&(nanos as u32).to_le_bytes());
        head[20..24].copy_from_slice(&(data.len() as u32).to_le_bytes());
        head[24..28].copy_from_slice(&wire_len.max(data.len() as u32).to_le_bytes());
        self.out.write_all(&head)?;
        self.out.write_all(data)?;
        self.out.write_all(&[0u8; 3][..pad])?;
        self.out.write_all(&len.to_le_bytes())?;
        self.written += u64::from(len);
        Ok(())
    }

    /// Bytes written so far (headers included).
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Flushes the inner writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the inner writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Where rotation file `index` goes: `path` itself for the first, then
/// `STEM.1.EXT`, `STEM.2.EXT`… (`cap.pcapng`, `cap.1.pcapng`), so the
/// files sort in capture order within the glob `STEM*`.
pub fn rotation_path(path: &Path, index: u32) -> PathBuf {
    if index == 0 {
        return path.to_owned();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{index}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{index}"),
    };
    path.with_file_name(name)
}

/// pcapng files written one after another, the next started once the
/// current one reaches a size.
#[derive(Debug)]
pub struct RotatingPcapng {
    path: PathBuf,
    interfaces: Vec<InterfaceDesc>,
    rotate_at: Option<u64>,
    current: PcapngWriter<BufWriter<File>>,
    files: Vec<PathBuf>,
    packets: u64,
    /// Packets in the current file.
    in_current: u64,
}

impl RotatingPcapng {
    /// Creates the first file at `path`; with `rotate_at`, a file holding
    /// at least that many bytes is closed and the next one started.
    pub fn create(
        path: &Path,
        interfaces: Vec<InterfaceDesc>,
        rotate_at: Option<u64>,
    ) -> io::Result<Self> {
        let current = Self::open(path, &interfaces)?;
        Ok(RotatingPcapng {
            path: path.to_owned(),
            interfaces,
            rotate_at,
            current,
            files: vec![path.to_owned()],
            packets: 0,
            in_current: 0,
        })
    }

    fn open(
        path: &Path,
        interfaces: &[InterfaceDesc],
    ) -> io::Result<PcapngWriter<BufWriter<File>>> {
        let file = File::create(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        PcapngWriter::new(BufWriter::with_capacity(1 << 20, file), interfaces)
    }

    /// Writes one packet, first moving to a new file if the current one is
    /// full.
    pub fn write_packet(
        &mut self,
        iface: u32,
        ts: Timestamp,
        data: &[u8],
        wire_len: u32,
    ) -> io::Result<()> {
        if let Some(limit) = self.rotate_at
            && self.current.bytes_written() + (EPB_OVERHEAD + data.len()) as u64 > limit
            && self.in_current > 0
        {
            let next = rotation_path(&self.path, self.files.len() as u32);
            let fresh = Self::open(&next, &self.interfaces)?;
            let old = std::mem::replace(&mut self.current, fresh);
            self.files.push(next);
            self.in_current = 0;
            old.into_inner()?;
        }
        self.current.write_packet(iface, ts, data, wire_len)?;
        self.packets += 1;
        self.in_current += 1;
        Ok(())
    }

    /// Flushes the current file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.current.flush()
    }

    /// The files written, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Packets written.
    pub fn packets(&self) -> u64 {
        self.packets
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::CaptureFile;

    fn ifaces() -> Vec<InterfaceDesc> {
        vec![
            InterfaceDesc {
                name: "veth0".into(),
                linktype: LinkType::ETHERNET,
                snaplen: 262_144,
            },
            InterfaceDesc {
                name: "tun0".into(),
                linktype: LinkType::RAW,
                snaplen: 65_535,
            },
        ]
    }

    #[test]
    fn blocks_are_laid_out_as_the_spec_says() {
        let mut w = PcapngWriter::new(Vec::new(), &ifaces()[..1]).unwrap();
        let shb_and_idb = w.bytes_written() as usize;
        w.write_packet(0, Timestamp::new(1, 5), &[1, 2, 3, 4, 5], 60)
            .unwrap();
        let bytes = w.into_inner().unwrap();
        assert_eq!(&bytes[0..4], &[0x0A, 0x0D, 0x0D, 0x0A]);
        assert_eq!(&bytes[8..12], &[0x4D, 0x3C, 0x2B, 0x1A]);
        let epb = &bytes[shb_and_idb..];
        // 32 bytes of fixed fields + 5 bytes of data padded to 8.
        assert_eq!(epb.len(), 40);
        assert_eq!(&epb[0..4], &6u32.to_le_bytes());
        assert_eq!(&epb[4..8], &40u32.to_le_bytes());
        let nanos = 1_000_000_005u64;
        assert_eq!(&epb[12..16], &((nanos >> 32) as u32).to_le_bytes());
        assert_eq!(&epb[16..20], &(nanos as u32).to_le_bytes());
        assert_eq!(&epb[20..24], &5u32.to_le_bytes());
        assert_eq!(&epb[24..28], &60u32.to_le_bytes());
        assert_eq!(&epb[28..36], &[1, 2, 3, 4, 5, 0, 0, 0]);
        assert_eq!(&epb[36..40], &40u32.to_le_bytes());
    }

    #[test]
    fn written_files_read_back_with_interfaces_link_types_and_nanoseconds() {
        let mut w = PcapngWriter::new(Vec::new(), &ifaces()).unwrap();
        w.write_packet(0, Timestamp::new(10, 123_456_789), &[0xAA; 14], 14)
            .unwrap();
        w.write_packet(1, Timestamp::new(11, 1), &[0x45; 21], 1500)
            .unwrap();
        assert!(
            w.write_packet(2, Timestamp::new(12, 0), &[0; 4], 4)
                .is_err()
        );
        let bytes = w.into_inner().unwrap();
        let file = CaptureFile::from_bytes("mem", crate::reader::CaptureBytes::Owned(bytes));
        let packets: Vec<_> = file
            .packets()
            .unwrap()
            .map(|p| {
                let p = p.unwrap();
                (p.ts, p.linktype, p.wire_len, p.data.len(), p.iface)
            })
            .collect();
        assert_eq!(
            packets,
            vec![
                (
                    Timestamp::new(10, 123_456_789),
                    LinkType::ETHERNET,
                    14,
                    14,
                    0
                ),
                (Timestamp::new(11, 1), LinkType::RAW, 1500, 21, 1),
            ]
        );
    }

    #[test]
    fn rotation_starts_new_whole_files_that_read_back_in_order() {
        let dir = std::env::temp_dir().join(format!("flowscope-rotate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cap.pcapng");
        let mut w = RotatingPcapng::create(&path, ifaces(), Some(1000)).unwrap();
        for i in 0..20u64 {
            w.write_packet(0, Timestamp::new(i, 0), &[i as u8; 200], 200)
                .unwrap();
        }
        w.flush().unwrap();
        let files = w.files().to_vec();
        assert!(files.len() >= 4, "{files:?}");
        assert_eq!(files[1], dir.join("cap.1.pcapng"));
        let mut seen = Vec::new();
        for f in &files {
            let len = std::fs::metadata(f).unwrap().len();
            assert!(len <= 1000 + 232, "{} is {len} bytes", f.display());
            let file = CaptureFile::open(f).unwrap();
            for p in file.packets().unwrap() {
                seen.push(p.unwrap().ts.secs());
            }
        }
        assert_eq!(seen, (0..20).collect::<Vec<_>>());
        assert_eq!(w.packets(), 20);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rotation_names_keep_the_extension() {
        let p = Path::new("/tmp/x/cap.pcapng");
        assert_eq!(rotation_path(p, 0), p);
        assert_eq!(rotation_path(p, 3), Path::new("/tmp/x/cap.3.pcapng"));
        assert_eq!(rotation_path(Path::new("dump"), 2), Path::new("dump.2"));
    }
}
