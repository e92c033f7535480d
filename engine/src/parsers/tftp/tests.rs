//! Byte-literal tests of the TFTP parser: the requests of nDPI's
//! tftp.pcap (decoded with tshark), the probe's three answers, the
//! responder's datagrams, hostile names.

use super::*;
use crate::testutil::unhex;

/// The corpus's requests: RRQ `rfc1350.txt` octet; WRQ `zz.bin`
/// netascii; WRQ `empty100KB` octet with the blksize and tsize options
/// (RFC 2347); RRQ with an empty name; RRQ with an empty name and mode.
const RRQ: &str = "0001726663313335302e747874006f6374657400";
const WRQ: &str = "00027a7a2e62696e006e6574617363696900";
const WRQ_OPTIONS: &str =
    "0002656d7074793130304b42006f6374657400626c6b73697a650031343638007473697a650031303030303000";
const EMPTY_NAME: &str = "0001006f6374657400";
const NO_MODE: &str = "000100000000000000000000006f6374657400";

/// The requests among `msgs` (with the `tftp` feature alone, every
/// message is one).
fn requests(msgs: Vec<L7Message>) -> Vec<TftpRequest> {
    crate::testutil::messages_of!(msgs, Tftp)
}

fn parse(p: &mut TftpParser, b: &[u8], side: FlowSide) -> Vec<TftpRequest> {
    requests(p.parse(b, side))
}

#[test]
fn the_corpus_requests() {
    let mut p = TftpParser::default();
    let cases: [(&str, u8, &[u8], TftpMode); 4] = [
        (RRQ, OP_RRQ, b"rfc1350.txt", TftpMode::Octet),
        (WRQ, OP_WRQ, b"zz.bin", TftpMode::Netascii),
        (WRQ_OPTIONS, OP_WRQ, b"empty100KB", TftpMode::Octet),
        (EMPTY_NAME, OP_RRQ, b"", TftpMode::Octet),
    ];
    for (hex, opcode, file, mode) in cases {
        let got = parse(&mut p, &unhex(hex), FlowSide::Initiator);
        assert_eq!(
            got,
            [TftpRequest {
                opcode,
                file: file.into(),
                mode
            }],
            "{hex}"
        );
        assert_eq!(probe(&unhex(hex), FlowSide::Initiator), Probe::Certain);
    }
    assert_eq!(p.next_event(), None);
}

#[test]
fn an_empty_mode_is_tftp_but_no_request() {
    let b = unhex(NO_MODE);
    assert_eq!(probe(&b, FlowSide::Initiator), Probe::Certain);
    let mut p = TftpParser::default();
    assert!(parse(&mut p, &b, FlowSide::Initiator).is_empty());
    assert_eq!(p.malformed(), 1);
    assert_eq!(p.next_event().map(|e| e.event), Some("malformed_request"));
}

#[test]
fn modes_are_compared_without_case() {
    let mut p = TftpParser::default();
    let got = parse(&mut p, b"\x00\x01a\x00OcTeT\x00", FlowSide::Initiator);
    assert_eq!(got[0].mode, TftpMode::Octet);
    assert_eq!(got[0].mode.name(), "octet");
    let got = parse(&mut p, b"\x00\x02b\x00MAIL\x00", FlowSide::Initiator);
    assert_eq!(got[0].mode, TftpMode::Mail);
}

#[test]
fn the_probe_says_no_to_other_traffic() {
    for b in [
        &b"\x01\x01a\x00octet\x00"[..],
        b"\x00\x07a\x00octet\x00",
        b"\x00\x03",
        b"",
        b"GET / HTTP/1.1\r\n",
    ] {
        assert_eq!(probe(b, FlowSide::Initiator), Probe::No, "{b:?}");
    }
    // An unknown mode of letters is a request still; one of other bytes
    // is left to the port.
    assert_eq!(
        probe(b"\x00\x01a\x00binary\x00", FlowSide::Initiator),
        Probe::Certain
    );
    assert_eq!(
        probe(b"\x00\x01a\x00\xff\x01\x00", FlowSide::Initiator),
        Probe::NeedMore
    );
    // DATA, ACK and ERROR packets may be TFTP.
    assert_eq!(
        probe(b"\x00\x04\x00\x01", FlowSide::Responder),
        Probe::NeedMore
    );
}

#[test]
fn the_responders_datagrams_and_unterminated_requests_are_not_requests() {
    let mut p = TftpParser::default();
    assert!(parse(&mut p, &unhex(RRQ), FlowSide::Responder).is_empty());
    assert!(parse(&mut p, b"\x00\x01file\x00octet", FlowSide::Initiator).is_empty());
    assert!(parse(&mut p, b"\x00\x01file", FlowSide::Initiator).is_empty());
    assert!(parse(&mut p, b"\x00\x01file\x00binary\x00", FlowSide::Initiator).is_empty());
    assert!(parse(&mut p, b"", FlowSide::Initiator).is_empty());
    assert_eq!(p.malformed(), 3);
}

#[test]
fn long_names_are_cut_and_reported() {
    let mut b = vec![0, 1];
    b.extend(std::iter::repeat_n(b'x', MAX_FILENAME + 10));
    b.extend_from_slice(b"\x00octet\x00");
    let mut p = TftpParser::default();
    let got = parse(&mut p, &b, FlowSide::Initiator);
    assert_eq!(got[0].file.len(), MAX_FILENAME);
    let e = p.next_event().unwrap();
    assert_eq!((e.event, e.tx_id), ("long_filename", Some(0)));
}

/// Arbitrary bytes never panic and every request stays within the cap.
#[test]
fn arbitrary_bytes_stay_within_the_caps() {
    use proptest::prelude::*;
    proptest!(|(b in proptest::collection::vec(any::<u8>(), 0..1500), side in any::<bool>())| {
        let side = if side { FlowSide::Initiator } else { FlowSide::Responder };
        let _ = probe(&b, side);
        let mut p = TftpParser::default();
        for r in requests(p.parse(&b, side)) {
            prop_assert!(r.file.len() <= MAX_FILENAME);
            prop_assert!(matches!(r.opcode, OP_RRQ | OP_WRQ));
        }
        let mut n = 0;
        while p.next_event().is_some() {
            n += 1;
        }
        prop_assert!(n <= MAX_PENDING_EVENTS);
    });
}
