//! Reader tests over hand-built pcap and pcapng bytes.

use super::*;
use crate::pcap_writer::{PcapPrecision, PcapWriter};

/// (timestamp ns, link type, wire length, bytes) of one packet.
pub(crate) type Got = (u64, u32, u32, Vec<u8>);

pub(crate) fn all(data: &[u8]) -> (Vec<Got>, Option<CaptureError>) {
    match PacketReader::new(data) {
        Ok(r) => read_all(r),
        Err(e) => (Vec::new(), Some(e)),
    }
}

/// Every packet `r` gives, and the error it ends with.
pub(crate) fn read_all(r: PacketReader<'_>) -> (Vec<Got>, Option<CaptureError>) {
    let mut pkts = Vec::new();
    let mut err = None;
    for p in r {
        match p {
            Ok(p) => pkts.push((p.ts.as_nanos(), p.linktype.0, p.wire_len, p.data.to_vec())),
            Err(e) => err = Some(e),
        }
    }
    (pkts, err)
}

pub(crate) fn pcap(precision: PcapPrecision) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535, precision).unwrap();
    w.write_packet(Timestamp::new(10, 123_456_789), b"abc")
        .unwrap();
    w.write_packet_len(Timestamp::new(11, 0), b"defg", 100)
        .unwrap();
    w.into_inner().unwrap()
}

#[test]
fn pcap_micro_and_nano() {
    let (p, e) = all(&pcap(PcapPrecision::Micros));
    assert!(e.is_none());
    assert_eq!(p.len(), 2);
    assert_eq!(p[0], (10_123_456_000, 1, 3, b"abc".to_vec()));
    assert_eq!(p[1].2, 100, "wire length kept");
    let (p, _) = all(&pcap(PcapPrecision::Nanos));
    assert_eq!(p[0].0, 10_123_456_789);
}

#[test]
fn pcap_big_endian() {
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2_c3d4u32.to_be_bytes());
    b.extend_from_slice(&2u16.to_be_bytes());
    b.extend_from_slice(&4u16.to_be_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&65535u32.to_be_bytes());
    b.extend_from_slice(&101u32.to_be_bytes());
    b.extend_from_slice(&5u32.to_be_bytes());
    b.extend_from_slice(&7u32.to_be_bytes());
    b.extend_from_slice(&2u32.to_be_bytes());
    b.extend_from_slice(&2u32.to_be_bytes());
    b.extend_from_slice(b"hi");
    let (p, e) = all(&b);
    assert!(e.is_none());
    assert_eq!(p, vec![(5_000_007_000, 101, 2, b"hi".to_vec())]);
}

#[test]
fn truncated_last_record_reports_offset_after_good_packets() {
    let mut b = pcap(PcapPrecision::Micros);
    let full = b.len();
    b.truncate(full - 2);
    let (p, e) = all(&b);
    assert_eq!(p.len(), 1, "the good packet before the damage is returned");
    let e = e.unwrap();
    assert_eq!(e.offset, 24 + 16 + 3);
    assert!(matches!(
        e.kind,
        CaptureErrorKind::RecordTruncated {
            needed: 20,
            available: 18
        }
    ));
    assert!(e.to_string().contains("byte offset 43"));
}

#[test]
fn bad_headers() {
    assert_eq!(all(b"").1.unwrap().kind, CaptureErrorKind::HeaderTruncated);
    assert!(matches!(
        all(b"GET / HTTP/1.1\r\n").1.unwrap().kind,
        CaptureErrorKind::UnknownFormat(_)
    ));
    let mut v1 = pcap(PcapPrecision::Micros);
    v1[4] = 1;
    assert_eq!(
        all(&v1).1.unwrap().kind,
        CaptureErrorKind::UnsupportedPcapVersion(1, 4)
    );
    let mut lt = pcap(PcapPrecision::Micros);
    lt[22] = 0x30;
    assert!(matches!(
        all(&lt).1.unwrap().kind,
        CaptureErrorKind::BadLinkTypeField(_)
    ));
    let mut huge = pcap(PcapPrecision::Micros);
    huge[24 + 8..24 + 12].copy_from_slice(&0x4000_0000u32.to_le_bytes());
    assert!(matches!(
        all(&huge).1.unwrap().kind,
        CaptureErrorKind::RecordTooLong { .. }
    ));
}

pub(crate) fn block(be: bool, kind: u32, body: &[u8]) -> Vec<u8> {
    let pad = (4 - body.len() % 4) % 4;
    let len = (12 + body.len() + pad) as u32;
    let w = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut b = Vec::new();
    b.extend_from_slice(&w(kind));
    b.extend_from_slice(&w(len));
    b.extend_from_slice(body);
    b.extend(std::iter::repeat_n(0, pad));
    b.extend_from_slice(&w(len));
    b
}

pub(crate) fn shb(be: bool, major: u16, minor: u16) -> Vec<u8> {
    let mut body = Vec::new();
    if be {
        body.extend_from_slice(&0x1a2b_3c4du32.to_be_bytes());
        body.extend_from_slice(&major.to_be_bytes());
        body.extend_from_slice(&minor.to_be_bytes());
    } else {
        body.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        body.extend_from_slice(&major.to_le_bytes());
        body.extend_from_slice(&minor.to_le_bytes());
    }
    body.extend_from_slice(&(-1i64).to_le_bytes());
    block(be, 0x0a0d_0d0a, &body)
}

pub(crate) fn idb(be: bool, linktype: u16, tsresol: Option<u8>) -> Vec<u8> {
    let mut body = Vec::new();
    let w16 = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let w32 = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    body.extend_from_slice(&w16(linktype));
    body.extend_from_slice(&w16(0));
    body.extend_from_slice(&w32(0));
    if let Some(r) = tsresol {
        body.extend_from_slice(&w16(9));
        body.extend_from_slice(&w16(1));
        body.extend_from_slice(&[r, 0, 0, 0]);
        body.extend_from_slice(&w16(0));
        body.extend_from_slice(&w16(0));
    }
    block(be, 1, &body)
}

pub(crate) fn epb(be: bool, iface: u32, ts: u64, data: &[u8], origlen: u32) -> Vec<u8> {
    let w32 = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut body = Vec::new();
    body.extend_from_slice(&w32(iface));
    body.extend_from_slice(&w32((ts >> 32) as u32));
    body.extend_from_slice(&w32(ts as u32));
    body.extend_from_slice(&w32(data.len() as u32));
    body.extend_from_slice(&w32(origlen));
    body.extend_from_slice(data);
    body.extend(std::iter::repeat_n(0, (4 - data.len() % 4) % 4));
    block(be, 6, &body)
}

#[test]
fn pcapng_interfaces_resolutions_sections_and_blocks() {
    let mut f = shb(false, 1, 0);
    f.extend(idb(false, 1, None)); // iface 0: Ethernet, µs
    f.extend(idb(false, 101, Some(9))); // iface 1: raw IP, ns
    f.extend(idb(false, 276, Some(0x80 | 10))); // iface 2: SLL2, 2^-10 s
    f.extend(epb(false, 0, 1_500_000, b"e0", 60));
    f.extend(epb(false, 1, 2_000_000_001, b"raw", 3));
    f.extend(epb(false, 2, 3 * 1024 + 512, b"sll2", 4));
    f.extend(block(false, 0x0bad, b"unknown block is skipped")); // unknown
    let mut spb = 5u32.to_le_bytes().to_vec();
    spb.extend_from_slice(b"simpl");
    f.extend(block(false, 3, &spb));
    let mut pb = Vec::new();
    pb.extend_from_slice(&1u16.to_le_bytes());
    pb.extend_from_slice(&0u16.to_le_bytes());
    pb.extend_from_slice(&0u32.to_le_bytes());
    pb.extend_from_slice(&7u32.to_le_bytes());
    pb.extend_from_slice(&2u32.to_le_bytes());
    pb.extend_from_slice(&2u32.to_le_bytes());
    pb.extend_from_slice(b"pb\0\0");
    f.extend(block(false, 2, &pb));
    // A second, big-endian section with its own interface table.
    f.extend(shb(true, 1, 0));
    f.extend(idb(true, 113, Some(3)));
    f.extend(epb(true, 0, 4000, b"be", 2));
    let (p, e) = all(&f);
    assert!(e.is_none(), "{e:?}");
    let got: Vec<_> = p.iter().map(|x| (x.0, x.1, x.3.clone())).collect();
    assert_eq!(
        got,
        vec![
            (1_500_000_000, 1, b"e0".to_vec()),
            (2_000_000_001, 101, b"raw".to_vec()),
            (3_500_000_000, 276, b"sll2".to_vec()),
            (0, 1, b"simpl".to_vec()),
            (7, 101, b"pb".to_vec()),
            (4_000_000_000, 113, b"be".to_vec()),
        ]
    );
    assert_eq!(p[0].2, 60);
}

#[test]
fn pcapng_damage() {
    let mut f = shb(false, 1, 0);
    f.extend(idb(false, 1, None));
    let good = epb(false, 0, 1, b"ok", 2);
    f.extend(&good);
    let before = f.len();
    let mut bad = epb(false, 0, 2, b"cut", 3);
    bad.truncate(bad.len() - 3);
    f.extend(bad);
    let (p, e) = all(&f);
    assert_eq!(p.len(), 1);
    let e = e.unwrap();
    assert_eq!(e.offset, before as u64);
    assert!(matches!(e.kind, CaptureErrorKind::RecordTruncated { .. }));

    // Trailing length disagreeing with the leading one.
    let mut f = shb(false, 1, 0);
    f.extend(idb(false, 1, None));
    let mut b = epb(false, 0, 1, b"ok", 2);
    let n = b.len();
    b[n - 4] ^= 4;
    f.extend(b);
    assert!(matches!(
        all(&f).1.unwrap().kind,
        CaptureErrorKind::BadBlock { .. }
    ));

    // Packet before any interface.
    let mut f = shb(false, 1, 0);
    f.extend(epb(false, 0, 1, b"x", 1));
    assert_eq!(
        all(&f).1.unwrap().kind,
        CaptureErrorKind::UnknownInterface(0)
    );

    // Versions.
    assert_eq!(
        all(&shb(false, 0, 1)).1.unwrap().kind,
        CaptureErrorKind::UnsupportedPcapngVersion(0, 1)
    );
    assert_eq!(
        all(&shb(false, 1, 1)).1.unwrap().kind,
        CaptureErrorKind::UnsupportedPcapngVersion(1, 1)
    );
    assert!(all(&shb(false, 1, 2)).1.is_none());
}

#[test]
fn reader_stops_after_an_error() {
    let mut b = pcap(PcapPrecision::Micros);
    b.truncate(b.len() - 1);
    let mut r = PacketReader::new(&b).unwrap();
    assert!(r.next().unwrap().is_ok());
    assert!(r.next().unwrap().is_err());
    assert!(r.next().is_none());
}

proptest::proptest! {
    /// Arbitrary bytes never panic the reader, and it always terminates.
    #[test]
    fn arbitrary_bytes_never_panic(prefix in proptest::prop_oneof![
        proptest::strategy::Just(pcap(PcapPrecision::Micros)),
        proptest::strategy::Just({ let mut f = shb(false, 1, 0); f.extend(idb(false, 1, Some(9))); f }),
    ], tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), cut in 0usize..64) {
        let mut data = prefix;
        let keep = data.len().saturating_sub(cut);
        data.truncate(keep);
        data.extend(tail);
        if let Ok(r) = PacketReader::new(&data) {
            let n = r.take(10_000).count();
            proptest::prop_assert!(n < 10_000);
        }
    }
}

/// Bytes of each record of [`cut_capture`], its header included.
pub(crate) const CUT_RECORD: u64 = 16 + 100;

/// Where the cut tests cut their capture: ahead of the reader, behind it,
/// to nothing.
pub(crate) const CUTS: [(&str, u64); 3] = [("ahead", 3 * 4096 + 50), ("behind", 100), ("empty", 0)];

/// The capture the cut tests read: 2000 records of 100 bytes of 0xab.
pub(crate) fn cut_capture() -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), LinkType::RAW, 65535, PcapPrecision::Micros)
        .unwrap_or_else(|e| panic!("{e}"));
    for i in 0..2000u64 {
        w.write_packet(Timestamp::new(1 + i, 0), &[0xab; 100])
            .unwrap_or_else(|e| panic!("{e}"));
    }
    w.into_inner().unwrap_or_else(|e| panic!("{e}"))
}

/// Cuts the file at `path` to `len` bytes, as another process would.
pub(crate) fn cut_file(path: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.set_len(len))
        .unwrap_or_else(|e| panic!("{e}"));
}

/// A mapped capture cut short while it is read: reading ends with
/// `Shrank` damage near the cut, after only whole packets, never SIGBUS.
#[test]
fn mapped_file_cut_while_read_ends_as_damage() {
    const RECORD: u64 = CUT_RECORD;
    let dir = std::env::temp_dir().join(format!("flowscope-reader-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, cut) in CUTS {
        let path = dir.join(format!("{name}.pcap"));
        std::fs::write(&path, cut_capture()).unwrap();
        let file = CaptureFile::open(&path).unwrap();
        let mut reader = file.packets().unwrap();
        for _ in 0..10 {
            assert!(matches!(reader.next_packet(), Some(Ok(_))));
        }
        cut_file(&path, cut);
        let mut read = 10u64;
        let err = loop {
            match reader.next_packet() {
                Some(Ok(p)) => {
                    assert_eq!(p.data, &[0xab; 100][..], "{name}: packet {read} is whole");
                    read += 1;
                }
                Some(Err(e)) => break e,
                None => panic!("{name}: the cut went unnoticed"),
            }
        };
        assert_eq!(err.kind, CaptureErrorKind::Shrank, "{name}");
        assert_eq!(
            err.offset,
            24 + read * RECORD,
            "{name}: the offset of the first unread record"
        );
        assert!(
            err.offset <= (cut + RECORD).max(24 + 10 * RECORD),
            "{name}: {err}"
        );
        assert!(
            reader.next_packet().is_none(),
            "{name}: the reader stays finished"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A record longer than [`MAX_RECORD`] is damage whatever the snapshot
/// length says, and so is a pcapng block: a file mapped and the same file
/// read through a buffer stop at the same record.
#[test]
fn records_longer_than_the_longest_allowed_are_damage() {
    let mut pcap_big_snap = pcap(PcapPrecision::Micros);
    pcap_big_snap[16..20].copy_from_slice(&(128u32 << 20).to_le_bytes());
    // The first record: caplen one byte past the limit (the bytes need not
    // be there: the length is judged first).
    let over = (MAX_RECORD - 24) as u32 + 1;
    pcap_big_snap[24 + 8..24 + 12].copy_from_slice(&over.to_le_bytes());
    let err = all(&pcap_big_snap).1.unwrap();
    assert_eq!(
        err.kind,
        CaptureErrorKind::RecordTooLong {
            caplen: over,
            limit: over - 1
        }
    );
    assert_eq!(err.offset, 24);

    let mut ng = shb(false, 1, 0);
    ng.extend(idb(false, 1, None));
    let at = ng.len() as u64;
    let length = MAX_RECORD as u32 + 4;
    ng.extend(0x0000_0006u32.to_le_bytes());
    ng.extend(length.to_le_bytes());
    ng.extend([0u8; 64]);
    let err = all(&ng).1.unwrap();
    assert_eq!(
        err.kind,
        CaptureErrorKind::BadBlock {
            block_type: 6,
            length
        }
    );
    assert_eq!(err.offset, at);
}
