//! Byte-literal tests of the DCE/RPC parsers.

use super::*;
use crate::session::{DatagramParser, SessionParser};

/// A little-endian connection-oriented PDU: type, flags, call id, body.
fn pdu(ptype: u8, flags: u8, call_id: u32, body: &[u8]) -> Vec<u8> {
    let len = (16 + body.len()) as u16;
    let mut p = vec![5, 0, ptype, flags, 0x10, 0, 0, 0];
    p.extend_from_slice(&len.to_le_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(&call_id.to_le_bytes());
    p.extend_from_slice(body);
    p
}

/// EPMv4's UUID as it is on the wire (little-endian fields).
const EPM_WIRE: [u8; 16] = [
    0x08, 0x83, 0xaf, 0xe1, 0x1f, 0x5d, 0xc9, 0x11, 0x91, 0xa4, 0x08, 0x00, 0x2b, 0x14, 0xa0, 0xfa,
];
const EPM: [u8; 16] = [
    0xe1, 0xaf, 0x83, 0x08, 0x5d, 0x1f, 0x11, 0xc9, 0x91, 0xa4, 0x08, 0x00, 0x2b, 0x14, 0xa0, 0xfa,
];

fn bind_body() -> Vec<u8> {
    let mut b = vec![0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, 1, 0, 0, 0];
    // context 0, one transfer syntax, EPM 3.0, NDR 2.0.
    b.extend_from_slice(&[0, 0, 1, 0]);
    b.extend_from_slice(&EPM_WIRE);
    b.extend_from_slice(&[3, 0, 0, 0]);
    b.extend_from_slice(&[0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11]);
    b.extend_from_slice(&[0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60, 2, 0, 0, 0]);
    b
}

fn bindack_body() -> Vec<u8> {
    // max frags, assoc group, secondary address "135\0" (4), then padded
    // to 4 from the PDU start (16 + 8 + 2 + 4 = 30: 2 bytes of padding).
    let mut b = vec![0xb8, 0x10, 0xb8, 0x10, 0x12, 0x34, 0, 0, 4, 0];
    b.extend_from_slice(b"135\0");
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&[1, 0, 0, 0]);
    // Result 0 (acceptance), reason 0, NDR 2.0.
    b.extend_from_slice(&[0, 0, 0, 0]);
    b.extend_from_slice(&[0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11]);
    b.extend_from_slice(&[0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60, 2, 0, 0, 0]);
    b
}

fn calls(msgs: Vec<L7Message>) -> Vec<DcerpcCall> {
    crate::testutil::messages_of!(msgs, Dcerpc)
}

#[test]
fn a_bind_and_its_ack_are_one_call_with_the_interface_and_result() {
    let mut p = DcerpcTcpParser::default();
    let bind = pdu(ptype::BIND, 3, 1, &bind_body());
    // Fed a byte at a time: framing by the fragment length.
    for b in bind.chunks(1) {
        assert!(p.feed_initiator(b).is_empty());
    }
    let got = calls(p.feed_responder(&pdu(ptype::BINDACK, 3, 1, &bindack_body())));
    assert_eq!(got.len(), 1);
    let c = &got[0];
    assert_eq!(c.call_id, 1);
    assert_eq!(c.request.ptype, Some(ptype::BIND));
    assert_eq!(c.response.ptype, Some(ptype::BINDACK));
    assert_eq!(
        c.interfaces,
        vec![DcerpcInterface {
            context_id: 0,
            uuid: EPM,
            version: (3, 0),
            ack_result: Some(0),
        }]
    );
    assert!(p.flow_end().is_empty());
}

#[test]
fn a_request_and_a_fragmented_response() {
    let mut p = DcerpcTcpParser::default();
    // alloc hint, context 0, opnum 15, 40 bytes of stub.
    let mut req = vec![40, 0, 0, 0, 0, 0, 15, 0];
    req.extend_from_slice(&[0xaa; 40]);
    assert!(
        p.feed_initiator(&pdu(ptype::REQUEST, 3, 8, &req))
            .is_empty()
    );
    let frag = |flags| {
        let mut b = vec![0, 0, 0, 0, 0, 0, 0, 0];
        b.extend_from_slice(&[0xbb; 100]);
        pdu(ptype::RESPONSE, flags, 8, &b)
    };
    let mut stream = frag(1);
    stream.extend(frag(0));
    stream.extend(frag(2));
    let got = calls(p.feed_responder(&stream));
    assert_eq!(got.len(), 1);
    let c = &got[0];
    assert_eq!(
        (c.opnum, c.request.frags, c.request.stub_bytes),
        (15, 1, 40)
    );
    assert_eq!(c.response.ptype, Some(ptype::RESPONSE));
    // Three fragments; each counts its 8-byte header, as Suricata does.
    assert_eq!((c.response.frags, c.response.stub_bytes), (3, 3 * 108));
}

#[test]
fn unanswered_calls_and_a_fault_and_the_cap() {
    let cfg = DcerpcConfig {
        max_tx: 2,
        ..DcerpcConfig::default()
    };
    let mut p = DcerpcTcpParser::new(&cfg);
    let req = [0, 0, 0, 0, 1, 0, 6, 0];
    assert!(
        p.feed_initiator(&pdu(ptype::REQUEST, 3, 1, &req))
            .is_empty()
    );
    assert!(
        p.feed_initiator(&pdu(ptype::REQUEST, 3, 2, &req))
            .is_empty()
    );
    // A third waiting call writes the oldest as it stands.
    let first = calls(p.feed_initiator(&pdu(ptype::REQUEST, 3, 3, &req)));
    assert_eq!(first[0].call_id, 1);
    assert_eq!(first[0].response.ptype, None);
    assert_eq!(
        p.next_event().map(|e| e.event),
        Some("too_many_transactions")
    );
    let fault = [0u8; 16];
    let got = calls(p.feed_responder(&pdu(ptype::FAULT, 3, 2, &fault)));
    assert_eq!(got[0].call_id, 2);
    assert_eq!(got[0].response.ptype, Some(ptype::FAULT));
    let rest = calls(p.flow_end());
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].call_id, 3);
}

#[test]
fn bytes_that_are_no_pdu_stop_that_side() {
    let mut p = DcerpcTcpParser::default();
    assert!(
        p.feed_initiator(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .is_empty()
    );
    assert_eq!(p.next_event().map(|e| e.event), Some("malformed_header"));
    assert!(
        p.feed_initiator(&pdu(ptype::REQUEST, 3, 1, &[0; 8]))
            .is_empty()
    );
    assert!(p.flow_end().is_empty());
}

#[test]
fn probes() {
    let bind = pdu(ptype::BIND, 3, 1, &bind_body());
    assert_eq!(probe_tcp(&bind, FlowSide::Initiator), Probe::Certain);
    assert_eq!(probe_tcp(&bind[..3], FlowSide::Initiator), Probe::NeedMore);
    assert_eq!(
        probe_tcp(b"\x16\x03\x01\x00", FlowSide::Initiator),
        Probe::No
    );
    assert_eq!(
        probe_tcp(&[5, 0, 11, 3, 0x10, 0, 0, 0, 4, 0], FlowSide::Initiator),
        Probe::No
    );
    assert_eq!(
        probe_udp(&udp_pdu(0, 0, 7, 3, &[1, 2]), FlowSide::Initiator),
        Probe::Certain
    );
    assert_eq!(probe_udp(&[4, 0, 0, 0], FlowSide::Initiator), Probe::No);
}

/// A little-endian connectionless PDU.
fn udp_pdu(ptype: u8, flags1: u8, seqnum: u32, opnum: u16, body: &[u8]) -> Vec<u8> {
    let mut p = vec![4, ptype, flags1, 0, 0x10, 0, 0, 0];
    p.extend_from_slice(&[0; 32]);
    p.extend_from_slice(&EPM_WIRE);
    p.extend_from_slice(&[0; 8]);
    p.extend_from_slice(&seqnum.to_le_bytes());
    p.extend_from_slice(&opnum.to_le_bytes());
    p.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    p.extend_from_slice(&(body.len() as u16).to_le_bytes());
    p.extend_from_slice(&[0, 0, 0, 0]);
    p.extend_from_slice(body);
    p
}

#[test]
fn datagram_calls_by_activity_and_sequence_number() {
    let mut p = DcerpcUdpParser::default();
    // A request in two fragments, then the response.
    assert!(
        p.parse(&udp_pdu(0, 0x04, 9, 3, &[1; 10]), FlowSide::Initiator)
            .is_empty()
    );
    assert!(
        p.parse(&udp_pdu(0, 0x06, 9, 3, &[1; 5]), FlowSide::Initiator)
            .is_empty()
    );
    let got = calls(p.parse(&udp_pdu(2, 0, 9, 3, &[2; 7]), FlowSide::Responder));
    assert_eq!(got.len(), 1);
    let c = &got[0];
    let d = c.datagram.unwrap();
    assert_eq!((d.activity, d.seqnum), (EPM, 9));
    assert_eq!((c.opnum, c.request.frags, c.request.stub_bytes), (3, 2, 15));
    assert_eq!((c.response.frags, c.response.stub_bytes), (1, 7));
    // A datagram that is no request or response stops the flow's
    // reading; a request never answered is not written, as Suricata 7
    // writes none.
    let request = udp_pdu(0, 0, 10, 3, &[]);
    assert!(p.parse(&request, FlowSide::Initiator).is_empty());
    let ack = udp_pdu(7, 0, 10, 3, &[]);
    assert!(p.parse(&ack, FlowSide::Responder).is_empty());
    let response = udp_pdu(2, 0, 10, 3, &[]);
    assert!(p.parse(&response, FlowSide::Responder).is_empty());
    assert!(p.flow_end().is_empty());
    // Only a request names a flow.
    assert_eq!(probe_udp(&response, FlowSide::Responder), Probe::No);
    // A datagram shorter than its fragment length is no PDU.
    let mut short = udp_pdu(0, 0, 1, 0, &[0; 8]);
    short.truncate(84);
    assert_eq!(probe_udp(&short, FlowSide::Initiator), Probe::No);
}
