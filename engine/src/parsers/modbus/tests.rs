//! Modbus/TCP parser tests: the probe, ADUs decoded as Suricata decodes
//! them (fields and error flags), transactions paired as Suricata pairs
//! them, the flood cap, odd lengths and gaps, over byte literals.

use super::*;
use crate::FlowSide;

/// Read holding registers: transaction 0x00d1, unit 1, address 1,
/// quantity 1.
const READ_REQ: &[u8] = b"\x00\xd1\x00\x00\x00\x06\x01\x03\x00\x01\x00\x01";
/// Its answer: byte count 2, one register.
const READ_RES: &[u8] = b"\x00\xd1\x00\x00\x00\x05\x01\x03\x02\x41\xc8";

#[allow(unreachable_patterns)]
fn txs(out: Vec<L7Message>) -> Vec<ModbusTransaction> {
    out.into_iter()
        .filter_map(|m| match m {
            L7Message::Modbus(t) => Some(*t),
            _ => None,
        })
        .collect()
}

fn events(p: &mut ModbusParser) -> Vec<&'static str> {
    std::iter::from_fn(|| p.next_event())
        .map(|e| e.event)
        .collect()
}

fn request(adu: &[u8]) -> ModbusMessage {
    wire::parse(adu, true).expect("a header")
}

fn response(adu: &[u8]) -> ModbusMessage {
    wire::parse(adu, false).expect("a header")
}

#[test]
fn probe_takes_a_whole_clean_adu() {
    let (init, resp) = (FlowSide::Initiator, FlowSide::Responder);
    assert_eq!(probe(READ_REQ, init), Probe::Certain);
    assert_eq!(probe(READ_RES, resp), Probe::Certain);
    // Not whole yet; the header alone already rules out a protocol id.
    assert_eq!(probe(&READ_REQ[..9], init), Probe::NeedMore);
    assert_eq!(probe(b"\x00\xd1\x00\x01", init), Probe::No);
    assert_eq!(probe(b"GET / HTTP/1.1\r\n\r\n", init), Probe::No);
    // Function 0x41 is not assigned; an exception from the client is odd.
    assert_eq!(
        probe(b"\x00\x01\x00\x00\x00\x03\x01\x41\x00", init),
        Probe::No
    );
    assert_eq!(
        probe(b"\x00\x01\x00\x00\x00\x03\x01\x83\x02", init),
        Probe::No
    );
    assert_eq!(
        probe(b"\x00\x01\x00\x00\x00\x03\x01\x83\x02", resp),
        Probe::Certain
    );
    // Quantity 0 is flagged, so not taken; nor a length past 254.
    assert_eq!(
        probe(b"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x01\x00\x00", init),
        Probe::No
    );
    assert_eq!(probe(b"\x00\x01\x00\x00\x01\x00\x01\x03", init), Probe::No);
    // What follows must start another header.
    let mut two = READ_REQ.to_vec();
    two.extend_from_slice(b"\x00\xd2\x00\x00");
    assert_eq!(probe(&two, init), Probe::Certain);
    two[READ_REQ.len() + 2] = 7;
    assert_eq!(probe(&two, init), Probe::No);
}

#[test]
fn reads_and_writes_are_decoded_with_suricatas_flags() {
    let m = request(READ_REQ);
    assert_eq!((m.transaction_id, m.unit_id, m.function), (0xd1, 1, 3));
    assert_eq!(m.access, access::READ | access::HOLDING);
    assert_eq!(m.category, category::PUBLIC_ASSIGNED);
    assert_eq!(m.flags, 0);
    assert_eq!(
        m.data,
        ModbusData::ReadRequest {
            address: 1,
            quantity: 1
        }
    );
    // Write single coil with a value other than 0 or 0xff00.
    let m = request(b"\x00\x02\x00\x00\x00\x06\x01\x05\x00\x07\x12\x34");
    assert_eq!(m.flags, error::DATA_VALUE);
    assert_eq!(
        m.data,
        ModbusData::WriteOther {
            address: 7,
            data: 0x1234
        }
    );
    // Write multiple registers: 2 registers, 4 bytes.
    let m = request(b"\x00\x03\x00\x00\x00\x0b\x01\x10\x00\x05\x00\x02\x04\xab\xcd\x00\x01");
    assert_eq!(m.flags, 0);
    assert_eq!(
        m.data,
        ModbusData::WriteMultiple {
            address: 5,
            quantity: 2,
            data: b"\xab\xcd\x00\x01"[..].into()
        }
    );
    // Read/write multiple registers: both parts kept.
    let m =
        request(b"\x00\x04\x00\x00\x00\x0d\x01\x17\x00\x01\x00\x02\x00\x09\x00\x01\x02\x00\x2a");
    assert_eq!(m.flags, 0);
    assert!(matches!(
        m.data,
        ModbusData::ReadWrite {
            read_quantity: 2,
            address: 9,
            quantity: 1,
            ..
        }
    ));
    // A read request with a byte too many; one cut short.
    let m = request(b"\x00\x05\x00\x00\x00\x07\x01\x03\x00\x01\x00\x01\x00");
    assert_eq!(m.flags, error::DATA_LENGTH);
    let m = request(b"\x00\x05\x00\x00\x00\x04\x01\x03\x00\x01");
    assert_eq!(m.flags, error::DATA_LENGTH);
    assert_eq!(m.data, ModbusData::Bytes(b"\x00\x01"[..].into()));
    // Protocol id 2 and an unassigned function code.
    let m = request(b"\x00\x06\x00\x02\x00\x03\x01\x41\x09");
    assert_eq!(m.flags, error::PROTO_ID);
    assert_eq!(m.category, category::USER_DEFINED);
    assert_eq!(m.data, ModbusData::Bytes(b"\x09"[..].into()));
}

#[test]
fn exceptions_diagnostics_and_mei_are_decoded() {
    let m = response(b"\x00\x01\x00\x00\x00\x03\x01\x81\x02");
    assert_eq!(m.data, ModbusData::Exception(2));
    assert_eq!(m.flags, 0);
    assert_eq!(m.category, category::PUBLIC_ASSIGNED);
    // An exception code no function raises; memory parity outside files.
    assert_eq!(
        response(b"\x00\x01\x00\x00\x00\x03\x01\x81\x09").flags,
        error::EXC_CODE
    );
    assert_eq!(
        response(b"\x00\x01\x00\x00\x00\x03\x01\x81\x08").flags,
        error::EXC_CODE
    );
    assert_eq!(response(b"\x00\x01\x00\x00\x00\x03\x01\x94\x08").flags, 0);
    let m = request(b"\x00\x01\x00\x00\x00\x06\x03\x08\x00\x04\x00\x00");
    assert_eq!(
        m.data,
        ModbusData::Diagnostic {
            sub: 4,
            data: b"\x00\x00"[..].into()
        }
    );
    assert_eq!((m.flags, m.category), (0, category::PUBLIC_ASSIGNED));
    // A reserved sub-function; restart with an odd value.
    let m = request(b"\x00\x01\x00\x00\x00\x04\x03\x08\x00\x16");
    assert_eq!(m.category, category::RESERVED);
    assert_eq!(m.flags, error::DATA_LENGTH);
    let m = request(b"\x00\x01\x00\x00\x00\x06\x03\x08\x00\x01\x12\x00");
    assert_eq!(m.flags, error::DATA_VALUE);
    // A diagnostic too short for its sub-function.
    let m = request(b"\x00\x01\x00\x00\x00\x02\x03\x08");
    assert_eq!((m.flags, m.category), (error::DATA_LENGTH, 0));
    assert_eq!(m.data, ModbusData::Empty);
    let m = request(b"\x00\x01\x00\x00\x00\x05\x03\x2b\x0e\x01\x00");
    assert_eq!(
        m.data,
        ModbusData::Mei {
            mei_type: 14,
            data: b"\x01\x00"[..].into()
        }
    );
}

#[test]
fn a_request_and_its_response_make_one_transaction() {
    let mut p = ModbusParser::new(&ModbusConfig::default());
    let mut out = p.feed_initiator(READ_REQ);
    assert!(out.is_empty());
    out.extend(p.feed_responder(READ_RES));
    let t = txs(out);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].id, 1);
    assert_eq!(t[0].request.as_ref().map(|m| m.transaction_id), Some(0xd1));
    let res = t[0].response.as_ref().expect("a response");
    assert_eq!(res.data, ModbusData::ReadResponse(b"\x41\xc8"[..].into()));
    // Two bytes for one register: sawp checks a read response against the
    // quantity in bytes of bits, registers too, so the pair disagrees.
    assert_eq!(res.flags, error::DATA_VALUE);
    assert_eq!(events(&mut p), ["value_mismatch"]);
    assert!(p.flow_end().is_empty());
}

#[test]
fn adus_cut_anywhere_and_run_together_are_framed() {
    let mut p = ModbusParser::new(&ModbusConfig::default());
    let mut both = READ_REQ.to_vec();
    both.extend_from_slice(b"\x00\xd2\x00\x00\x00\x06\x01\x01\x00\x00\x00\x08");
    let mut out = Vec::new();
    for b in both.chunks(5) {
        out.extend(p.feed_initiator(b));
    }
    out.extend(p.feed_responder(b"\x00\xd2\x00\x00\x00\x04\x01\x01\x01"));
    out.extend(p.feed_responder(b"\x55"));
    let t = txs(out);
    // The coils' answer (8 coils in one byte) comes first; the registers'
    // request waits to the end.
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].id, 2);
    assert_eq!(t[0].response.as_ref().map(|m| m.flags), Some(0));
    let rest = txs(p.flow_end());
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].id, 1);
    assert!(rest[0].response.is_none());
}

#[test]
fn an_unasked_response_is_a_transaction_of_its_own() {
    let mut p = ModbusParser::new(&ModbusConfig::default());
    let t = txs(p.feed_responder(READ_RES));
    assert_eq!(t.len(), 1);
    assert!(t[0].request.is_none());
    // Nothing to check it against: no flag.
    assert_eq!(t[0].response.as_ref().map(|m| m.flags), Some(0));
    assert_eq!(events(&mut p), ["unsolicited_response"]);
    // An exception answers whatever it matches by id, unit and function.
    let mut out = p.feed_initiator(READ_REQ);
    out.extend(p.feed_responder(b"\x00\xd1\x00\x00\x00\x03\x01\x83\x02"));
    let t = txs(out);
    assert_eq!(t.len(), 1);
    assert!(t[0].request.is_some());
    assert_eq!(
        t[0].response.as_ref().map(|m| &m.data),
        Some(&ModbusData::Exception(2))
    );
}

#[test]
fn too_many_unanswered_requests_flood_the_flow() {
    let cfg = ModbusConfig {
        max_tx: 2,
        ..ModbusConfig::default()
    };
    let mut p = ModbusParser::new(&cfg);
    for id in 1u8..=4 {
        let mut r = READ_REQ.to_vec();
        r[1] = id;
        assert!(p.feed_initiator(&r).is_empty());
    }
    // The third is kept, with the event; the fourth is dropped.
    assert_eq!(events(&mut p), ["flooded"]);
    let mut res = READ_RES.to_vec();
    res[1] = 1;
    assert_eq!(txs(p.feed_responder(&res)).len(), 1);
    // Still at the cap: dropped.
    let mut r = READ_REQ.to_vec();
    r[1] = 8;
    p.feed_initiator(&r);
    res[1] = 2;
    assert_eq!(txs(p.feed_responder(&res)).len(), 1);
    // Below the cap again: a new request is taken.
    r[1] = 9;
    p.feed_initiator(&r);
    let ids: Vec<u64> = txs(p.flow_end()).iter().map(|t| t.id).collect();
    assert_eq!(ids, [3, 4]);
}

#[test]
fn a_length_past_mbaps_is_reported_and_skipped() {
    let mut p = ModbusParser::new(&ModbusConfig::default());
    let mut bytes = b"\x00\x01\x00\x00\x01\x00".to_vec();
    bytes.extend_from_slice(&[0xee; 256]);
    bytes.extend_from_slice(READ_REQ);
    p.feed_initiator(&bytes[..100]);
    p.feed_initiator(&bytes[100..]);
    let t = txs(p.flow_end());
    assert_eq!(t.len(), 2);
    let odd = t[0].request.as_ref().expect("a request");
    assert_eq!((odd.flags, odd.function), (error::DATA_LENGTH, 0));
    assert_eq!(t[1].request.as_ref().map(|m| m.transaction_id), Some(0xd1));
    assert!(events(&mut p).contains(&"invalid_length"));
}

#[test]
fn a_gap_stops_the_reading() {
    let mut p = ModbusParser::new(&ModbusConfig::default());
    p.feed_initiator(&READ_REQ[..4]);
    p.gap_initiator(10);
    assert!(p.feed_initiator(READ_REQ).is_empty());
    assert!(p.feed_responder(READ_RES).is_empty());
    assert!(p.flow_end().is_empty());
}

#[test]
fn any_bytes_parse_without_panicking() {
    let mut seed = 0x2545_f491_u32;
    for _ in 0..2000 {
        let mut p = ModbusParser::new(&ModbusConfig::default());
        let mut buf = READ_REQ.to_vec();
        for b in buf.iter_mut() {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            if seed.is_multiple_of(3) {
                *b = (seed >> 8) as u8;
            }
        }
        let _ = probe(&buf, FlowSide::Initiator);
        p.feed_initiator(&buf);
        p.feed_responder(&buf);
        p.flow_end();
    }
}

#[test]
fn with_the_ack_timing_bytes_are_read_once_acknowledged() {
    let mut p = ModbusParser::new(&ModbusConfig::default()).timed_by_acks();
    assert!(p.wants_acks());
    assert!(p.feed_initiator(READ_REQ).is_empty());
    assert!(p.feed_responder(READ_RES).is_empty());
    // The response before its request is read: the request is read first
    // all the same once acknowledged.
    assert!(p.acked_initiator(READ_REQ.len() as u64).is_empty());
    let t = txs(p.acked_responder(READ_RES.len() as u64));
    assert_eq!(t.len(), 1);
    assert!(t[0].request.is_some());
    // Bytes never acknowledged are read at the flow's end.
    assert!(p.feed_initiator(READ_REQ).is_empty());
    let t = txs(p.flow_end());
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].id, 2);
}
