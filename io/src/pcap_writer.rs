//! Writes classic pcap files (little-endian, microsecond or nanosecond
//! timestamps): the bundled demo capture and test fixtures are made with it.

use flowscope_engine::{LinkType, Timestamp};
use std::io::{self, Write};

/// Timestamp precision of a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcapPrecision {
    /// Microseconds (magic `a1b2c3d4`).
    Micros,
    /// Nanoseconds (magic `a1b23c4d`).
    Nanos,
}

/// A pcap writer over any `Write`.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    precision: PcapPrecision,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header.
    pub fn new(
        mut out: W,
        linktype: LinkType,
        snaplen: u32,
        precision: PcapPrecision,
    ) -> io::Result<Self> {
        let magic: u32 = match precision {
            PcapPrecision::Micros => 0xa1b2_c3d4,
            PcapPrecision::Nanos => 0xa1b2_3c4d,
        };
        out.write_all(&magic.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&snaplen.to_le_bytes())?;
        out.write_all(&linktype.0.to_le_bytes())?;
        Ok(PcapWriter {
            out,
            precision,
            snaplen,
        })
    }

    /// Writes one record; bytes beyond the snapshot length are cut and the
    /// record keeps the original length.
    pub fn write_packet(&mut self, ts: Timestamp, data: &[u8]) -> io::Result<()> {
        self.write_packet_len(ts, data, data.len() as u32)
    }

    /// Writes one record with an explicit original (wire) length.
    pub fn write_packet_len(
        &mut self,
        ts: Timestamp,
        data: &[u8],
        wire_len: u32,
    ) -> io::Result<()> {
        let cap = data.len().min(self.snaplen as usize);
        let secs = u32::try_from(ts.secs()).unwrap_or(u32::MAX);
        let frac = match self.precision {
            PcapPrecision::Micros => ts.subsec_micros(),
            PcapPrecision::Nanos => ts.subsec_nanos(),
        };
        self.out.write_all(&secs.to_le_bytes())?;
        self.out.write_all(&frac.to_le_bytes())?;
        self.out.write_all(&(cap as u32).to_le_bytes())?;
        self.out
            .write_all(&wire_len.max(cap as u32).to_le_bytes())?;
        self.out.write_all(&data[..cap])
    }

    /// Flushes and returns the inner writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
