//! Byte-literal tests of the NFS parsers.

use super::*;
use crate::session::{DatagramParser, SessionParser};

fn be(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

/// An XDR opaque with its padding.
fn opaque(b: &[u8]) -> Vec<u8> {
    let mut v = be(&[b.len() as u32]);
    v.extend_from_slice(b);
    v.resize(v.len() + (4 - b.len() % 4) % 4, 0);
    v
}

/// An NFS call with AUTH_UNIX credentials (machine "host", uid 1000,
/// gid 100).
fn call(xid: u32, vers: u32, procedure: u32, args: &[u8]) -> Vec<u8> {
    let mut creds = be(&[0]);
    creds.extend(opaque(b"host"));
    creds.extend(be(&[1000, 100, 0]));
    let mut m = be(&[xid, 0, 2, 100_003, vers, procedure, 1]);
    m.extend(opaque(&creds));
    m.extend(be(&[0, 0]));
    m.extend_from_slice(args);
    m
}

/// An accepted reply with an AUTH_NULL verifier.
fn reply(xid: u32, results: &[u8]) -> Vec<u8> {
    let mut m = be(&[xid, 1, 0, 0, 0, 0]);
    m.extend_from_slice(results);
    m
}

/// A TCP record: the last-fragment mark and the message.
fn record(m: &[u8]) -> Vec<u8> {
    let mut r = (0x8000_0000u32 | m.len() as u32).to_be_bytes().to_vec();
    r.extend_from_slice(m);
    r
}

fn records(msgs: Vec<L7Message>) -> Vec<NfsRecord> {
    crate::testutil::messages_of!(msgs, Nfs)
}

const DIR: &[u8] = &[0xd1; 8];
const FILE: &[u8] = &[0xf1; 8];

fn lookup_args(name: &[u8]) -> Vec<u8> {
    let mut a = opaque(DIR);
    a.extend(opaque(name));
    a
}

#[test]
fn a_v3_lookup_over_tcp_is_one_record_with_the_name_and_handle() {
    let mut p = NfsTcpParser::default();
    let c = record(&call(7, 3, proc3::LOOKUP, &lookup_args(b"notes.txt")));
    // Fed a byte at a time: framing by the record mark.
    for b in c.chunks(1) {
        assert!(p.feed_initiator(b).is_empty());
    }
    let mut res = be(&[0]);
    res.extend(opaque(FILE));
    let got = records(p.feed_responder(&record(&reply(7, &res))));
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.version, 3);
    assert_eq!(r.procedure, proc3::LOOKUP);
    assert_eq!(r.file_name, b"notes.txt");
    assert_eq!(r.file_handle, FILE);
    assert_eq!((r.id, r.xid, r.status, r.auth_type), (1, 7, 0, 1));
    assert_eq!(r.creds, Some((b"host".to_vec(), 1000, 100)));
    assert!(!r.file_tx);
}

#[test]
fn the_name_map_names_a_later_access_and_getattr_is_not_written() {
    let mut p = NfsUdpParser::default();
    p.parse(
        &call(1, 3, proc3::LOOKUP, &lookup_args(b"a")),
        FlowSide::Initiator,
    );
    let mut res = be(&[0]);
    res.extend(opaque(FILE));
    let got = records(p.parse(&reply(1, &res), FlowSide::Responder));
    assert_eq!(got.len(), 1);
    let mut args = opaque(FILE);
    args.extend(be(&[0x1f]));
    p.parse(&call(2, 3, proc3::ACCESS, &args), FlowSide::Initiator);
    let got = records(p.parse(&reply(2, &be(&[2])), FlowSide::Responder));
    assert_eq!(got[0].file_name, b"a");
    assert_eq!(got[0].status, 2);
    assert_eq!(status_name(got[0].status), Some("ERR_NOENT"));
    p.parse(
        &call(3, 3, proc3::GETATTR, &opaque(FILE)),
        FlowSide::Initiator,
    );
    assert!(
        p.parse(&reply(3, &be(&[0])), FlowSide::Responder)
            .is_empty()
    );
    // The GETATTR still took an id.
    p.parse(&call(4, 3, 0, &[]), FlowSide::Initiator);
    let got = records(p.parse(&reply(4, &[]), FlowSide::Responder));
    assert_eq!(got[0].id, 4);
}

#[test]
fn a_rename_carries_both_names() {
    let mut p = NfsTcpParser::default();
    let mut args = opaque(DIR);
    args.extend(opaque(b"old"));
    args.extend(opaque(DIR));
    args.extend(opaque(b"new"));
    p.feed_initiator(&record(&call(9, 3, proc3::RENAME, &args)));
    let got = records(p.feed_responder(&record(&reply(9, &be(&[0])))));
    assert_eq!(got[0].file_name, b"old");
    assert_eq!(got[0].rename_to.as_deref(), Some(&b"new"[..]));
    assert_eq!(got[0].file_handle, DIR);
}

fn read_reply(count: u32, eof: u32) -> Vec<u8> {
    let mut m = be(&[0, 1]);
    m.extend(vec![0; 84]);
    m.extend(be(&[count, eof, count]));
    m.extend(opaque(&vec![0x61; count as usize]));
    m
}

fn read_args(offset: u32) -> Vec<u8> {
    let mut a = opaque(FILE);
    a.extend(be(&[0, offset, 4096]));
    a
}

#[test]
fn reads_up_to_the_end_of_file_are_one_file_transfer() {
    let mut p = NfsTcpParser::default();
    p.feed_initiator(&record(&call(20, 3, proc3::READ, &read_args(0))));
    assert!(
        p.feed_responder(&record(&reply(20, &read_reply(100, 0))))
            .is_empty()
    );
    p.feed_initiator(&record(&call(21, 3, proc3::READ, &read_args(100))));
    let got = records(p.feed_responder(&record(&reply(21, &read_reply(10, 1)))));
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert!(r.file_tx && r.first && r.last);
    assert_eq!(r.procedure, proc3::READ);
    assert_eq!(
        r.file,
        Some(NfsFile {
            chunks: 2,
            last_xid: 21
        })
    );
}

#[test]
fn a_large_read_reply_is_read_from_its_first_bytes_and_its_data_skipped() {
    let cfg = NfsConfig {
        max_record: 1024,
        ..NfsConfig::default()
    };
    let mut p = NfsTcpParser::new(&cfg);
    p.feed_initiator(&record(&call(30, 3, proc3::READ, &read_args(0))));
    let big = record(&reply(30, &read_reply(60_000, 1)));
    let mut out = Vec::new();
    for piece in big.chunks(1460) {
        out.extend(p.feed_responder(piece));
    }
    let got = records(out);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].file.as_ref().map(|f| f.last_xid), Some(30));
    assert_eq!(p.next_event(), None);
}

#[test]
fn writes_wait_for_the_flows_end_as_in_suricata() {
    let mut p = NfsTcpParser::default();
    let mut args = opaque(FILE);
    args.extend(be(&[0, 0, 5, 0, 5]));
    args.extend(opaque(b"hello"));
    assert!(
        p.feed_initiator(&record(&call(40, 3, proc3::WRITE, &args)))
            .is_empty()
    );
    let mut commit = opaque(FILE);
    commit.extend(be(&[0, 0, 0]));
    p.feed_initiator(&record(&call(41, 3, proc3::COMMIT, &commit)));
    assert!(p.feed_responder(&record(&reply(41, &be(&[0])))).is_empty());
    let got = records(p.flow_end());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].procedure, proc3::WRITE);
    assert_eq!(
        got[0].file,
        Some(NfsFile {
            chunks: 1,
            last_xid: 41
        })
    );
}

#[test]
fn v2_procedures_take_v3_names_and_a_v2_read_reply_makes_a_file_transfer() {
    assert_eq!(procedure_name(2, 4), Some("ACCESS"));
    assert_eq!(procedure_name(4, 28), Some("REMOVE"));
    let mut p = NfsUdpParser::default();
    let mut args = vec![0xaa; 32];
    args.extend(be(&[0, 4096, 0]));
    p.parse(&call(50, 2, proc3::READ, &args), FlowSide::Initiator);
    // Status, attributes (size 3 at offset 20), data "abc" and its fill.
    let mut res = be(&[0]);
    let mut attr = vec![0; 68];
    attr[23] = 3;
    res.extend(attr);
    res.extend(be(&[3]));
    res.extend(b"abc\0");
    let got = records(p.parse(&reply(50, &res), FlowSide::Responder));
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].version, got[0].auth_type), (2, 0));
    assert_eq!(got[0].file_handle, vec![0xaa; 32]);
    assert!(got[0].last);
}

#[test]
fn a_v4_remove_compound_is_one_record() {
    let mut p = NfsTcpParser::default();
    let mut args = opaque(b"");
    args.extend(be(&[0, 2, 22]));
    args.extend(opaque(DIR));
    args.extend(be(&[28]));
    args.extend(opaque(b"gone"));
    p.feed_initiator(&record(&call(60, 4, 1, &args)));
    let mut res = be(&[0]);
    res.extend(opaque(b""));
    res.extend(be(&[2, 22, 0, 28, 0]));
    res.extend(vec![0; 20]);
    let got = records(p.feed_responder(&record(&reply(60, &res))));
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].version, got[0].procedure), (4, 28));
    assert_eq!(got[0].file_name, b"gone");
}

#[test]
fn probes_want_an_nfs_call_or_an_accepting_reply() {
    let c = record(&call(1, 3, 0, &[]));
    assert_eq!(probe_tcp(&c, FlowSide::Initiator), Probe::Certain);
    assert_eq!(probe_tcp(&c[..6], FlowSide::Initiator), Probe::NeedMore);
    let v2 = record(&call(1, 2, 0, &[]));
    assert_eq!(probe_tcp(&v2, FlowSide::Initiator), Probe::No);
    let mut other = call(1, 3, 0, &[]);
    other[12..16].copy_from_slice(&100_000u32.to_be_bytes());
    assert_eq!(probe_udp(&other, FlowSide::Initiator), Probe::No);
    assert_eq!(
        probe_udp(&call(1, 2, 0, &[]), FlowSide::Initiator),
        Probe::Certain
    );
    assert_eq!(
        probe_udp(&reply(1, &be(&[0, 0])), FlowSide::Responder),
        Probe::Certain
    );
    assert_eq!(
        probe_udp(b"GET / HTTP/1.1\r\n", FlowSide::Initiator),
        Probe::No
    );
}

#[test]
fn caps_are_counted() {
    let cfg = NfsConfig {
        max_tx: 2,
        max_record: 1024,
        ..NfsConfig::default()
    };
    let mut p = NfsTcpParser::new(&cfg);
    for xid in 0..4 {
        p.feed_initiator(&record(&call(xid, 3, 0, &[])));
    }
    let mut names = Vec::new();
    while let Some(e) = p.next_event() {
        names.push(e.event);
    }
    assert!(names.contains(&"too_many_calls"), "{names:?}");
    // A record longer than the cap that is no file transfer is skipped.
    let mut p = NfsTcpParser::new(&cfg);
    p.feed_initiator(&record(&call(
        9,
        3,
        proc3::LOOKUP,
        &lookup_args(&[b'x'; 3000]),
    )));
    assert_eq!(p.next_event().map(|e| e.event), Some("record_too_long"));
    // Garbage as a record mark stops the side without panicking.
    let mut p = NfsTcpParser::default();
    assert!(p.feed_initiator(&[0, 0, 0, 1, 0xff]).is_empty());
    assert_eq!(p.next_event().map(|e| e.event), Some("malformed_data"));
}

/// A v4 COMPOUND's arguments: an empty tag, the minor version, the
/// operations.
fn compound(minor: u32, ops: &[Vec<u8>]) -> Vec<u8> {
    let mut a = opaque(b"");
    a.extend(be(&[minor, ops.len() as u32]));
    ops.iter().for_each(|op| a.extend(op));
    a
}

/// A v4 COMPOUND's results: status, empty tag, the results.
fn compound_reply(status: u32, results: &[Vec<u8>]) -> Vec<u8> {
    let mut r = be(&[status]);
    r.extend(opaque(b""));
    r.extend(be(&[results.len() as u32]));
    results.iter().for_each(|res| r.extend(res));
    r
}

fn op(num: u32, args: &[&[u8]]) -> Vec<u8> {
    let mut v = be(&[num]);
    args.iter().for_each(|a| v.extend_from_slice(a));
    v
}

/// SEQUENCE's arguments and its result.
fn sequence() -> Vec<u8> {
    op(53, &[&[0x5e; 16], &be(&[1, 0, 0, 0])])
}
fn sequence_ok() -> Vec<u8> {
    op(53, &[&be(&[0]), &[0x5e; 16], &be(&[1, 0, 0, 15, 0])])
}

fn events(p: &mut NfsTcpParser) -> Vec<&'static str> {
    std::iter::from_fn(|| p.next_event().map(|e| e.event)).collect()
}

/// A file handle whose length is not a multiple of four (NFS-Ganesha's
/// are 23 bytes): the padding after it must be skipped.
const ODD_FH: &[u8] = &[0xf4; 23];
const STATEID: &[u8] = &[0x57; 16];

#[test]
fn a_v4_1_read_on_an_odd_length_handle_is_named_by_its_open() {
    let mut p = NfsTcpParser::default();
    let open_args = [
        &be(&[0, 1, 0])[..],
        &[0xc1; 8],
        &opaque(b"owner"),
        &be(&[0, 0]),
        &opaque(b"a.txt"),
    ]
    .concat();
    let ops = [
        sequence(),
        op(22, &[&opaque(DIR)]),
        op(18, &[&open_args]),
        op(10, &[]),
    ];
    p.feed_initiator(&record(&call(70, 4, 1, &compound(1, &ops))));
    // OPEN's result with a read delegation (stateid, recall, an ACE).
    let open_res = [
        &be(&[0])[..],
        STATEID,
        &[0; 20],
        &be(&[4, 0, 1])[..],
        STATEID,
        &be(&[0, 0, 0, 0]),
        &opaque(b"EVERYONE@"),
    ]
    .concat();
    let res = [
        sequence_ok(),
        op(22, &[&be(&[0])]),
        op(18, &[&open_res]),
        op(10, &[&be(&[0]), &opaque(ODD_FH)]),
    ];
    p.feed_responder(&record(&reply(70, &compound_reply(0, &res))));
    let read_args = [STATEID, &[0; 8], &be(&[100])[..]].concat();
    let ops = [
        sequence(),
        op(22, &[&opaque(ODD_FH)]),
        op(25, &[&read_args]),
        op(9, &[&be(&[1, 0x10])]),
    ];
    p.feed_initiator(&record(&call(71, 4, 1, &compound(1, &ops))));
    // READ's data (5 bytes, padded), then GETATTR's after it.
    let res = [
        sequence_ok(),
        op(22, &[&be(&[0])]),
        op(25, &[&be(&[0, 1]), &opaque(b"hello")]),
        op(9, &[&be(&[0, 1, 0x10]), &opaque(&[0; 8])]),
    ];
    let got = records(p.feed_responder(&record(&reply(71, &compound_reply(0, &res)))));
    assert_eq!(events(&mut p), Vec::<&str>::new());
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].version, got[0].procedure), (4, 25));
    assert_eq!(got[0].file_name, b"a.txt");
    assert_eq!(got[0].file_handle, ODD_FH);
}

#[test]
fn v4_1_session_setup_locks_and_teardown_read_without_anomalies() {
    let mut p = NfsTcpParser::default();
    /// A COMPOUND's operations and its results.
    type Exchange = (Vec<Vec<u8>>, Vec<Vec<u8>>);
    let mut exchanges: Vec<Exchange> = Vec::new();
    // EXCHANGE_ID: owner, flags, SP4_NONE, one implementation id; the
    // result with SP4_NONE, the server owner and scope, no id.
    let impl_id = [
        &be(&[1])[..],
        &opaque(b"example.org"),
        &opaque(b"client 1.0"),
        &[0; 12],
    ]
    .concat();
    exchanges.push((
        vec![op(
            42,
            &[&[9; 8], &opaque(b"client-7"), &be(&[0, 0]), &impl_id],
        )],
        vec![op(
            42,
            &[
                &be(&[0])[..],
                &[0xc1; 8],
                &be(&[1, 0x10000, 0]),
                &[0; 8],
                &opaque(b"srv"),
                &opaque(b"scope"),
                &be(&[0]),
            ],
        )],
    ));
    // CREATE_SESSION with one RDMA depth in the fore channel and an
    // AUTH_SYS callback; its result.
    let fore = be(&[0, 1 << 20, 1 << 20, 4096, 8, 16, 1, 0]);
    let back = be(&[0, 4096, 4096, 0, 2, 1, 0]);
    let sys = [&be(&[1, 1, 0])[..], &opaque(b"host"), &be(&[0, 0, 1, 100])].concat();
    exchanges.push((
        vec![op(
            43,
            &[
                &[0xc1; 8],
                &be(&[1, 0]),
                &fore,
                &back,
                &be(&[0x4000_0000, 1]),
                &sys,
            ],
        )],
        vec![op(
            43,
            &[&be(&[0]), &[0x5e; 16], &be(&[1, 0]), &fore, &back],
        )],
    ));
    exchanges.push((
        vec![sequence(), op(58, &[&be(&[0])])],
        vec![sequence_ok(), op(58, &[&be(&[0])])],
    ));
    // LOCK with a new owner, then LOCKT refused (NFS4ERR_DENIED with the
    // conflicting lock): the results end at it.
    let lock = [
        &be(&[1, 0, 0, 0, 0, 10, 1, 0])[..],
        STATEID,
        &be(&[0]),
        &[0xc1; 8],
        &opaque(b"lock-owner"),
    ]
    .concat();
    exchanges.push((
        vec![sequence(), op(22, &[&opaque(ODD_FH)]), op(12, &[&lock])],
        vec![
            sequence_ok(),
            op(22, &[&be(&[0])]),
            op(12, &[&be(&[0]), STATEID]),
        ],
    ));
    let denied = [
        &be(&[10010, 0, 0, 0, 10, 1])[..],
        &[0xc1; 8],
        &opaque(b"other"),
    ]
    .concat();
    exchanges.push((
        vec![
            sequence(),
            op(22, &[&opaque(ODD_FH)]),
            op(13, &[&be(&[2, 0, 0, 0, 10]), &[0xc1; 8], &opaque(b"other")]),
        ],
        vec![sequence_ok(), op(22, &[&be(&[0])]), op(13, &[&denied])],
    ));
    exchanges.push((
        vec![sequence(), op(55, &[&be(&[2]), STATEID, STATEID])],
        vec![sequence_ok(), op(55, &[&be(&[0, 2, 0, 10025])])],
    ));
    // v4.2: SEEK and its result.
    exchanges.push((
        vec![
            sequence(),
            op(22, &[&opaque(ODD_FH)]),
            op(69, &[STATEID, &be(&[0, 0, 0])]),
        ],
        vec![
            sequence_ok(),
            op(22, &[&be(&[0])]),
            op(69, &[&be(&[0, 0, 0, 512])]),
        ],
    ));
    exchanges.push((vec![op(44, &[&[0x5e; 16]])], vec![op(44, &[&be(&[0])])]));
    for (xid, (ops, res)) in (80..).zip(exchanges) {
        let status = if xid == 84 { 10010 } else { 0 };
        assert!(
            p.feed_initiator(&record(&call(xid, 4, 1, &compound(1, &ops))))
                .is_empty()
        );
        let got = p.feed_responder(&record(&reply(xid, &compound_reply(status, &res))));
        assert!(got.is_empty(), "{xid}");
        assert_eq!(events(&mut p), Vec::<&str>::new(), "{xid}");
    }
}

#[test]
fn an_unknown_v4_operation_is_malformed_data() {
    let mut p = NfsTcpParser::default();
    let ops = [sequence(), op(9999, &[])];
    p.feed_initiator(&record(&call(90, 4, 1, &compound(1, &ops))));
    assert_eq!(events(&mut p), ["malformed_data"]);
}

#[test]
fn the_v4_1_backchannel_on_the_clients_connection_is_passed_over() {
    let mut p = NfsTcpParser::default();
    // The server's CB_NULL (program 0x40000000, as CREATE_SESSION named
    // it) and the client's accepting reply.
    let mut cb = be(&[7, 0, 2, 0x4000_0000, 1, 0, 0, 0, 0, 0]);
    cb.truncate(40);
    assert!(p.feed_responder(&record(&cb)).is_empty());
    assert!(p.feed_initiator(&record(&reply(7, &[]))).is_empty());
    assert_eq!(events(&mut p), Vec::<&str>::new());
    // NFS on the same connection is read as before.
    let ops = [sequence(), op(28, &[&opaque(b"x")])];
    p.feed_initiator(&record(&call(8, 4, 1, &compound(1, &ops))));
    let res = [sequence_ok(), op(28, &[&be(&[0]), &[0; 20]])];
    let got = records(p.feed_responder(&record(&reply(8, &compound_reply(0, &res)))));
    assert_eq!((got.len(), events(&mut p).len()), (1, 0));
    // A message of no RPC type is malformed.
    p.feed_responder(&record(&be(&[9, 5, 0, 0, 0, 0, 0, 0])));
    assert_eq!(events(&mut p), ["malformed_data"]);
}
