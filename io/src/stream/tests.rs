//! Stream tests: a capture fed through [`CaptureStream`] in any chunking
//! (one byte at a time, random sizes, pauses between reads, a buffer no
//! larger than its longest record) gives exactly the packets and damage
//! the slice reader gives on the whole capture, at the same offsets; what
//! only a stream has (records longer than its buffer, read errors) ends it
//! as damage.

use super::*;
use crate::pcap_writer::{PcapPrecision, PcapWriter};
use crate::reader::tests::{
    CUT_RECORD, CUTS, Got, all, block, cut_capture, cut_file, epb, idb, pcap, read_all, shb,
};
use flowscope_engine::{LinkType, Timestamp};

/// A reader handing out `data` in chunks of the sizes `sizes` gives,
/// saying "nothing yet" (`WouldBlock`) before every `pause_every`-th read
/// when that is not 0, and failing with EIO once `fail_at` bytes are out.
struct Chunked {
    data: Vec<u8>,
    at: usize,
    sizes: Box<dyn FnMut() -> usize + Send>,
    pause_every: usize,
    reads: usize,
    fail_at: Option<usize>,
}

impl Chunked {
    fn new(data: &[u8], sizes: impl FnMut() -> usize + Send + 'static) -> Self {
        Chunked {
            data: data.to_vec(),
            at: 0,
            sizes: Box::new(sizes),
            pause_every: 0,
            reads: 0,
            fail_at: None,
        }
    }
}

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if self.pause_every > 0 && self.reads.is_multiple_of(self.pause_every) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let end = self.fail_at.unwrap_or(usize::MAX).min(self.data.len());
        if self.at >= end && self.fail_at.is_some_and(|f| f <= self.data.len()) {
            return Err(io::Error::from_raw_os_error(5));
        }
        let n = (self.sizes)().max(1).min(buf.len()).min(end - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// xorshift64: random chunk sizes without a dependency.
fn random_sizes(seed: u64, max: usize) -> impl FnMut() -> usize + Send {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        1 + (x % max as u64) as usize
    }
}

/// Everything a stream gives, and how often it said "nothing yet".
fn streamed(stream: &mut CaptureStream) -> (Vec<Got>, Option<CaptureError>, usize) {
    let mut pkts = Vec::new();
    let mut pending = 0;
    loop {
        match stream.next_packet() {
            Poll::Pending => pending += 1,
            Poll::Ready(None) => return (pkts, None, pending),
            Poll::Ready(Some(Err(e))) => {
                assert!(matches!(stream.next_packet(), Poll::Ready(None)));
                return (pkts, Some(e), pending);
            }
            Poll::Ready(Some(Ok(p))) => {
                pkts.push((p.ts.as_nanos(), p.linktype.0, p.wire_len, p.data.to_vec()))
            }
        }
    }
}

/// Asserts that `data` streamed through `reader` reads as the slice
/// reader reads it whole. A record longer than the buffer is the one
/// difference allowed: the stream ends there, as damage, after the same
/// packets, where the file reader read on (or found the record cut short).
fn assert_same(data: &[u8], reader: Chunked, capacity: usize, what: &str) -> usize {
    let (want, want_err) = all(data);
    let mut stream = CaptureStream::from_reader("test", reader).with_capacity(capacity);
    let (got, err, pending) = streamed(&mut stream);
    if let Some(
        e @ CaptureError {
            kind: CaptureErrorKind::StreamRecordTooLong { length, limit },
            ..
        },
    ) = &err
    {
        assert!(length > limit, "{what}: {e}");
        assert!(want.starts_with(&got), "{what}: packets differ");
        match &want_err {
            Some(w) if w.offset == e.offset => assert!(
                matches!(w.kind, CaptureErrorKind::RecordTruncated { .. }),
                "{what}: {e} where the file reader says {w}"
            ),
            Some(w) => assert!(w.offset > e.offset, "{what}: {e}, but the file: {w}"),
            None => {}
        }
        return pending;
    }
    assert_eq!(got.len(), want.len(), "{what}: packet count");
    assert!(got == want, "{what}: packets differ");
    assert_eq!(err, want_err, "{what}");
    if err.is_none() {
        assert_eq!(stream.bytes_read(), data.len() as u64, "{what}");
    }
    pending
}

/// Captures of every shape the reader knows, whole and damaged.
fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let mut ng = shb(false, 1, 0);
    ng.extend(idb(false, 1, None));
    ng.extend(idb(false, 101, Some(9)));
    for i in 0..40u32 {
        let data: Vec<u8> = (0..(i % 23) as u8).collect();
        ng.extend(epb(false, i % 2, u64::from(i) * 1000, &data, 64));
        if i % 7 == 0 {
            ng.extend(block(false, 0x0bad, b"skipped"));
        }
    }
    ng.extend(shb(true, 1, 0));
    ng.extend(idb(true, 113, Some(3)));
    ng.extend(epb(true, 0, 4000, b"second section", 14));
    let mut pcap_many = PcapWriter::new(Vec::new(), LinkType::RAW, 65535, PcapPrecision::Nanos)
        .unwrap_or_else(|e| panic!("{e}"));
    for i in 0..200u32 {
        let data: Vec<u8> = (0..(i % 37) as u8).collect();
        pcap_many
            .write_packet(Timestamp::new(u64::from(i), i), &data)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let pcap_many = pcap_many.into_inner().unwrap_or_else(|e| panic!("{e}"));
    let mut ng_cut = ng.clone();
    ng_cut.truncate(ng.len() - 5);
    let mut ng_bad = ng.clone();
    let at = ng_bad.len() - 4;
    ng_bad[at] ^= 4;
    let mut pcap_cut = pcap_many.clone();
    pcap_cut.truncate(pcap_many.len() - 20);
    vec![
        ("pcap µs", pcap(PcapPrecision::Micros)),
        ("pcap ns, 200 packets", pcap_many),
        ("pcapng, two sections", ng),
        ("pcap cut in a record", pcap_cut),
        ("pcapng cut in a block", ng_cut),
        ("pcapng bad trailing length", ng_bad),
        ("empty", Vec::new()),
        (
            "pcap header only, cut",
            pcap(PcapPrecision::Micros)[..20].to_vec(),
        ),
        ("pcapng header cut", shb(false, 1, 0)[..10].to_vec()),
        (
            "not a capture",
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        ),
    ]
}

#[test]
fn one_byte_at_a_time_reads_as_the_whole() {
    for (what, data) in fixtures() {
        assert_same(&data, Chunked::new(&data, || 1), STREAM_BUFFER, what);
    }
}

#[test]
fn random_chunks_and_pauses_read_as_the_whole() {
    for (what, data) in fixtures() {
        for seed in 1..20 {
            let mut reader = Chunked::new(&data, random_sizes(seed, 300));
            reader.pause_every = if seed % 2 == 0 {
                2 + seed as usize % 3
            } else {
                0
            };
            let pending = assert_same(&data, reader, STREAM_BUFFER, what);
            if seed % 2 == 0 && data.len() > 400 {
                assert!(pending > 0, "{what}: the pauses are reported");
            }
        }
    }
}

/// A buffer just large enough for the longest record: the window is
/// compacted at nearly every record, and still reads the same.
#[test]
fn a_buffer_the_size_of_the_longest_record_reads_as_the_whole() {
    for (what, data) in fixtures() {
        for (seed, capacity) in [(1, 64), (2, 100), (3, 1000)] {
            let reader = Chunked::new(&data, random_sizes(seed, 2 * capacity));
            assert_same(&data, reader, capacity, what);
        }
    }
}

#[test]
fn a_record_longer_than_the_buffer_is_damage_where_it_starts() {
    let mut w = PcapWriter::new(Vec::new(), LinkType::RAW, 65535, PcapPrecision::Micros)
        .unwrap_or_else(|e| panic!("{e}"));
    for len in [10, 20, 200, 10] {
        w.write_packet(Timestamp::new(1, 0), &vec![7; len])
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let data = w.into_inner().unwrap_or_else(|e| panic!("{e}"));
    let mut stream =
        CaptureStream::from_reader("test", Chunked::new(&data, || 1000)).with_capacity(128);
    let (got, err, _) = streamed(&mut stream);
    assert_eq!(got.len(), 2, "the records before it are read");
    let err = err.unwrap_or_else(|| panic!("no damage"));
    assert_eq!(err.offset, 24 + 26 + 36);
    assert_eq!(
        err.kind,
        CaptureErrorKind::StreamRecordTooLong {
            length: 216,
            limit: 128
        }
    );
    assert!(err.to_string().contains("at byte offset 86"), "{err}");
}

#[test]
fn a_read_error_ends_the_stream_as_damage_after_the_whole_records() {
    let data = pcap(PcapPrecision::Micros);
    // Header, the first record (16 + 3), 5 bytes of the second.
    let mut reader = Chunked::new(&data, || 7);
    reader.fail_at = Some(24 + 19 + 5);
    let mut stream = CaptureStream::from_reader("test", reader);
    let (got, err, _) = streamed(&mut stream);
    assert_eq!(got.len(), 1);
    let err = err.unwrap_or_else(|| panic!("no damage"));
    assert_eq!(err.offset, 48, "where the stream's bytes stopped");
    assert!(
        matches!(&err.kind, CaptureErrorKind::ReadFailed(why) if why.contains("os error 5")),
        "{err}"
    );
}

#[test]
fn the_buffer_is_freed_at_the_end() {
    let data = pcap(PcapPrecision::Micros);
    let mut stream = CaptureStream::from_reader("test", Chunked::new(&data, || 5));
    let (got, err, _) = streamed(&mut stream);
    assert_eq!((got.len(), err), (2, None));
    assert_eq!(stream.buf.capacity(), 0);
    assert!(matches!(stream.next_packet(), Poll::Ready(None)));
}

proptest::proptest! {
    /// Arbitrary bytes after a valid start, in arbitrary chunks through an
    /// arbitrary small buffer, read as the slice reader reads them whole.
    #[test]
    fn arbitrary_bytes_and_chunks_read_as_the_whole(
        prefix in proptest::prop_oneof![
            proptest::strategy::Just(pcap(PcapPrecision::Micros)),
            proptest::strategy::Just({
                let mut f = shb(false, 1, 0);
                f.extend(idb(false, 1, Some(9)));
                f.extend(epb(false, 0, 5, b"abcdef", 6));
                f
            }),
        ],
        tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
        cut in 0usize..64,
        seed in 1u64..1_000_000,
        capacity in 64usize..600,
    ) {
        let mut data = prefix;
        let keep = data.len().saturating_sub(cut);
        data.truncate(keep);
        data.extend(tail);
        let reader = Chunked::new(&data, random_sizes(seed, 90));
        assert_same(&data, reader, capacity, "arbitrary");
    }
}

/// Every capture of the corpus streamed in random chunks reads as it does
/// mapped. Reads `$FLOWSCOPE_CORPUS` or `../shared/corpus`.
#[test]
fn corpus_captures_stream_as_they_read_mapped() {
    let dir = std::env::var_os("FLOWSCOPE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    let Ok(manifest) = std::fs::read_to_string(dir.join("MANIFEST.tsv")) else {
        eprintln!(
            "\n*** SKIPPED: no capture corpus at {} (set FLOWSCOPE_CORPUS). Corpus checks did NOT run. ***\n",
            dir.display()
        );
        return;
    };
    let mut n = 0;
    for (i, line) in manifest.lines().skip(1).enumerate() {
        let Some(path) = line.split('\t').next() else {
            continue;
        };
        let data = std::fs::read(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        // Chunks of up to a packet, of a pipe's buffer, of several.
        let max = [1_500, 65_536, 300_000][i % 3];
        let reader = Chunked::new(&data, random_sizes(i as u64 + 1, max));
        assert_same(&data, reader, STREAM_BUFFER, path);
        n += 1;
    }
    assert!(n > 700, "{n} captures");
}

/// A [`FileSource`](crate::FileSource) over a stream and a file: the
/// stream's pauses come out as `Idle`, its packets as transient storage,
/// the file's as shared; a read error ends the stream as damage and the
/// file is read next.
#[test]
fn a_file_source_reads_a_stream_then_a_file() {
    use crate::{CaptureBytes, CaptureFile, CaptureInput, FileSource};
    use flowscope_shards::{PacketSource, SourceError, Storage};
    let data = pcap(PcapPrecision::Micros);
    let mut reader = Chunked::new(&data, || 10);
    reader.pause_every = 3;
    reader.fail_at = Some(24 + 19 + 5);
    let inputs: Vec<CaptureInput> = vec![
        CaptureStream::from_reader("the stream", reader).into(),
        CaptureFile::from_bytes("the file", CaptureBytes::Owned(data.clone())).into(),
    ];
    let mut source = FileSource::new(inputs);
    assert_eq!(source.total_bytes(), None, "a stream's size is not known");
    let (mut idle, mut got) = (0, Vec::new());
    while let Some(p) = source.next_packet() {
        match p {
            Err(SourceError::Idle) => idle += 1,
            Err(e) => panic!("{e}"),
            Ok(p) => got.push((p.raw.data.to_vec(), matches!(p.storage, Storage::Transient))),
        }
    }
    assert!(idle > 0);
    let want = vec![
        (b"abc".to_vec(), true),
        (b"abc".to_vec(), false),
        (b"defg".to_vec(), false),
    ];
    assert_eq!(got, want);
    let damaged = source.take_damaged();
    assert_eq!(damaged.len(), 1);
    assert_eq!(damaged[0].path, Path::new("the stream"));
    assert_eq!(damaged[0].source.offset, 48);
    assert_eq!(source.input_bytes(), 48 + data.len() as u64);
}

/// A directory of its own under the temporary one, removed by the caller.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowscope-stream-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// A regular file read through the buffer ([`CaptureStream::open_file`])
/// reads as the file reader reads it whole: every fixture, whole and
/// damaged, with a buffer smaller than its records (the buffer grows for
/// them, where a pipe's stream would stop) and with the default one.
#[test]
fn a_file_read_through_the_buffer_reads_as_mapped() {
    let dir = scratch("open-file");
    let path = dir.join("capture");
    for (what, data) in fixtures() {
        std::fs::write(&path, &data).unwrap_or_else(|e| panic!("{e}"));
        let (want, want_err) = all(&data);
        for capacity in [64, STREAM_BUFFER] {
            let mut s = CaptureStream::open_file(&path)
                .unwrap_or_else(|e| panic!("{e}"))
                .with_capacity(capacity);
            assert_eq!(s.size_hint(), Some(data.len() as u64), "{what}");
            let (got, err, pending) = streamed(&mut s);
            assert_eq!(pending, 0, "{what}: a file never makes the reader wait");
            assert_eq!(got.len(), want.len(), "{what}, {capacity}: packet count");
            assert!(got == want, "{what}, {capacity}: packets differ");
            assert_eq!(err, want_err, "{what}, {capacity}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A file cut short while it is read through the buffer: whole packets,
/// then `Shrank` damage at the first record it does not have, as the
/// mapped file reports it; bytes written after it was opened are not read.
#[test]
fn a_file_cut_while_read_through_the_buffer_ends_as_shrank_damage() {
    const RECORD: u64 = CUT_RECORD;
    const BUFFER: usize = 1000;
    let dir = scratch("open-file-cut");
    let path = dir.join("capture.pcap");
    let data = cut_capture();
    for (name, cut) in CUTS {
        std::fs::write(&path, &data).unwrap_or_else(|e| panic!("{e}"));
        let mut s = CaptureStream::open_file(&path)
            .unwrap_or_else(|e| panic!("{e}"))
            .with_capacity(BUFFER);
        for _ in 0..10 {
            assert!(matches!(s.next_packet(), Poll::Ready(Some(Ok(_)))));
        }
        cut_file(&path, cut);
        let mut read = 10u64;
        let err = loop {
            match s.next_packet() {
                Poll::Ready(Some(Ok(p))) => {
                    assert_eq!(p.data, &[0xab; 100][..], "{name}: packet {read} is whole");
                    read += 1;
                }
                Poll::Ready(Some(Err(e))) => break e,
                Poll::Ready(None) => panic!("{name}: the cut went unnoticed"),
                Poll::Pending => panic!("{name}: a file never makes the reader wait"),
            }
        };
        assert_eq!(err.kind, CaptureErrorKind::Shrank, "{name}");
        assert_eq!(
            err.offset,
            24 + read * RECORD,
            "{name}: the first unread record"
        );
        assert!(
            err.offset <= (cut + RECORD).max(24 + 10 * RECORD + BUFFER as u64),
            "{name}: {err}"
        );
        assert!(matches!(s.next_packet(), Poll::Ready(None)), "{name}");
    }
    // Grown after opening: only the bytes it had are read.
    std::fs::write(&path, &data).unwrap_or_else(|e| panic!("{e}"));
    let mut s = CaptureStream::open_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut more = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("{e}"));
    io::Write::write_all(&mut more, &data[24..24 + RECORD as usize])
        .unwrap_or_else(|e| panic!("{e}"));
    let (got, err, _) = streamed(&mut s);
    assert_eq!((got.len(), err), (2000, None));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A file whose last record claims far more than the file holds is cut
/// short, as mapped, without the buffer growing to the claimed length.
#[test]
fn a_file_s_record_cut_short_does_not_grow_the_buffer_to_its_claim() {
    let dir = scratch("open-file-claim");
    let path = dir.join("capture.pcap");
    let mut data = pcap(PcapPrecision::Micros);
    // A last record claiming 60 MiB (the snapshot length allows it), with
    // 10 bytes of it in the file.
    data[16..20].copy_from_slice(&(128u32 << 20).to_le_bytes());
    let at = data.len();
    data.extend([0u8; 8]);
    data.extend((60u32 << 20).to_le_bytes());
    data.extend((60u32 << 20).to_le_bytes());
    data.extend([7u8; 10]);
    std::fs::write(&path, &data).unwrap_or_else(|e| panic!("{e}"));
    let (want, want_err) = all(&data);
    let mut s = CaptureStream::open_file(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .with_capacity(64);
    let (got, err, _) = streamed(&mut s);
    assert!(got == want);
    let err = err.unwrap_or_else(|| panic!("no damage"));
    assert!(
        matches!(err.kind, CaptureErrorKind::RecordTruncated { .. }),
        "{err}"
    );
    assert_eq!((Some(err.clone()), err.offset), (want_err, at as u64));
    assert!(s.capacity <= data.len().max(64), "{}", s.capacity);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A file of 8 MiB or more opened for one pass reads as the mapped file
/// reads, whichever way this system's faults chose for it: whole, and cut
/// inside its last record.
#[test]
fn a_large_file_opened_for_one_pass_reads_as_mapped() {
    use crate::CaptureInput;
    use crate::reader::PROBE_BYTES;
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535, PcapPrecision::Nanos)
        .unwrap_or_else(|e| panic!("{e}"));
    // A 24-byte file header, then 16 bytes of record header a packet.
    let mut n = 0u32;
    while 24 + n as usize * (16 + 1400) <= PROBE_BYTES {
        let payload: Vec<u8> = (0..1400u32)
            .map(|i| (i ^ n.wrapping_mul(31)) as u8)
            .collect();
        w.write_packet(Timestamp::new(u64::from(n), n), &payload)
            .unwrap_or_else(|e| panic!("{e}"));
        n += 1;
    }
    let whole = w.into_inner().unwrap_or_else(|e| panic!("{e}"));
    let cut = whole[..whole.len() - 10].to_vec();
    let dir = scratch("one-pass");
    let path = dir.join("capture");
    for (what, data) in [("whole", whole), ("cut", cut)] {
        std::fs::write(&path, &data).unwrap_or_else(|e| panic!("{e}"));
        let (want, want_err) = all(&data);
        let (got, err) = match CaptureInput::open_one_pass(&path) {
            Ok(CaptureInput::File(f)) => read_all(f.packets().unwrap_or_else(|e| panic!("{e}"))),
            Ok(CaptureInput::Stream(mut s)) => {
                let (got, err, _) = streamed(&mut s);
                (got, err)
            }
            Err(e) => panic!("{what}: {e}"),
        };
        assert_eq!(got.len(), want.len(), "{what}: packet count");
        assert!(got == want, "{what}: packets differ");
        assert_eq!(err, want_err, "{what}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
