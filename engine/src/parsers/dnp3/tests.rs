//! Unit tests of the DNP3 parser: CRC vectors, frames taken from a
//! capture, transport reassembly, object decoding, caps and damage.

use super::*;
use crate::FlowSide;

/// A write of the time (group 50 variation 1, count 1) from a master
/// (address 3) to an outstation (4).
const WRITE_TIME: &[u8] = &[
    0x05, 0x64, 0x12, 0xc4, 0x04, 0x00, 0x03, 0x00, 0x1e, 0x7c, 0xc1, 0xc1, 0x02, 0x32, 0x01, 0x07,
    0x01, 0xeb, 0xe4, 0x5a, 0x87, 0xff, 0x00, 0x28, 0x01,
];

/// An unsolicited response (IIN need_time) with time (g51v1), binary
/// input events with relative time (g2v3, 2-byte index prefixes) and
/// analog input events (g32v1): three blocks.
const UNSOLICITED: &[u8] = &[
    0x05, 0x64, 0x4c, 0x44, 0x03, 0x00, 0x04, 0x00, 0xd8, 0x6b, 0xcc, 0xf3, 0x82, 0x00, 0x00, 0x33,
    0x01, 0x07, 0x01, 0xe2, 0x43, 0x7d, 0x87, 0xff, 0x00, 0x02, 0xf8, 0xc3, 0x03, 0x28, 0x05, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x81, 0x00, 0x00, 0x02, 0x00, 0x59, 0x89, 0x81, 0x00,
    0x00, 0x00, 0x00, 0x81, 0xf3, 0x03, 0x01, 0x00, 0x01, 0xf3, 0x03, 0x20, 0x01, 0x28, 0x3b, 0x46,
    0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0xe8, 0xb9, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x3d, 0x62,
];

/// A confirmation-free response to a cold restart: IIN need_time and
/// no_func_code_support, no objects.
const RESPONSE: &[u8] = &[
    0x05, 0x64, 0x0a, 0x44, 0x03, 0x00, 0x04, 0x00, 0x7c, 0xae, 0xdc, 0xc3, 0x81, 0x10, 0x01, 0x68,
    0x78,
];

fn parser() -> Dnp3Parser {
    Dnp3Parser::new(&Dnp3Config::default())
}

fn messages(out: Vec<L7Message>) -> Vec<Dnp3Message> {
    out.into_iter()
        .filter_map(|m| match m {
            L7Message::Dnp3(m) => Some(*m),
            #[allow(unreachable_patterns)]
            _ => None,
        })
        .collect()
}

/// A frame of user data `user` (transport header first) with its CRCs.
fn frame(control: u8, dst: u16, src: u16, user: &[u8]) -> Vec<u8> {
    let mut f = vec![0x05, 0x64, u8::try_from(user.len() + 5).unwrap(), control];
    f.extend_from_slice(&dst.to_le_bytes());
    f.extend_from_slice(&src.to_le_bytes());
    let c = crc(&f);
    f.extend_from_slice(&c.to_le_bytes());
    for block in user.chunks(16) {
        f.extend_from_slice(block);
        f.extend_from_slice(&crc(block).to_le_bytes());
    }
    f
}

#[test]
fn crc_vectors() {
    // CRC-16/DNP's check value.
    assert_eq!(crc(b"123456789"), 0xea82);
    // The link header of a frame from a capture: its CRC is 0x7c1e.
    assert_eq!(crc(&WRITE_TIME[..8]), 0x7c1e);
    assert!(link::crc_ok(&WRITE_TIME[..10]));
    assert!(!link::crc_ok(&[
        0x05, 0x64, 0x12, 0xc4, 0x04, 0x00, 0x03, 0x00, 0x1e, 0x7d
    ]));
    assert!(link::body_crcs_ok(&UNSOLICITED[10..]));
}

#[test]
fn frame_lengths_count_the_block_crcs() {
    assert_eq!(link::frame_len(4), None);
    assert_eq!(link::frame_len(5), Some(10));
    assert_eq!(link::frame_len(0x12), Some(WRITE_TIME.len()));
    assert_eq!(link::frame_len(0x4c), Some(UNSOLICITED.len()));
    // 250 user bytes: 15 blocks of 16 and one of 10.
    assert_eq!(link::frame_len(255), Some(10 + 15 * 18 + 12));
}

#[test]
fn probe_takes_a_header_with_its_crc() {
    assert_eq!(probe(WRITE_TIME, FlowSide::Initiator), Probe::Certain);
    assert_eq!(probe(RESPONSE, FlowSide::Responder), Probe::Certain);
    assert_eq!(
        probe(&WRITE_TIME[..6], FlowSide::Initiator),
        Probe::NeedMore
    );
    assert_eq!(probe(b"GET / HTTP/1.1\r\n", FlowSide::Initiator), Probe::No);
    let short = [0x05, 0x64, 0x04, 0xc4, 0x04, 0x00, 0x03, 0x00, 0x00, 0x00];
    assert_eq!(probe(&short, FlowSide::Initiator), Probe::No);
}

#[test]
fn probe_waits_on_a_wrong_header_crc() {
    // Suricata's probe takes start bytes and a length (on port 20000);
    // a wrong CRC waits, so the route's ports decide, and stays waiting
    // however many frames follow.
    let mut bad = WRITE_TIME.to_vec();
    bad[9] ^= 1;
    assert_eq!(probe(&bad, FlowSide::Initiator), Probe::NeedMore);
    bad.extend_from_slice(WRITE_TIME);
    assert_eq!(probe(&bad, FlowSide::Initiator), Probe::NeedMore);
    assert_eq!(probe(&bad, FlowSide::Responder), Probe::NeedMore);
}

#[test]
fn probe_takes_a_server_banner() {
    // Printable text naming DNP3 from the server: certain.
    assert_eq!(
        probe(b"DNP3 outstation 4", FlowSide::Responder),
        Probe::Certain
    );
    // With a line end (not printable): the client's frames decide.
    let banner = b"DNP3 outstation ready\r\n";
    assert_eq!(probe(banner, FlowSide::Responder), Probe::NeedMore);
    // Only the first 256 bytes must be printable.
    let mut long = b"DNP3 ".to_vec();
    long.resize(256, b'x');
    long.extend_from_slice(b"\r\n");
    assert_eq!(probe(&long, FlowSide::Responder), Probe::Certain);
    // A frame holding the text is still a frame.
    assert_eq!(probe(RESPONSE, FlowSide::Responder), Probe::Certain);
    let mut frame_with_text = frame(0x44, 3, 4, &[0xc0, 0xc0, 0x81, 0, 0, 0x44]);
    frame_with_text.extend_from_slice(b"DNP3");
    assert_eq!(probe(&frame_with_text, FlowSide::Responder), Probe::Certain);
    // Not from the client, and not text without the name.
    assert_eq!(probe(b"DNP3 outstation 4", FlowSide::Initiator), Probe::No);
    assert_eq!(probe(b"220 ready\r\n", FlowSide::Responder), Probe::No);
}

#[test]
fn a_banner_then_frames() {
    // The server's banner is skipped while no frame is pending; frames
    // after it are read.
    let mut p = parser();
    assert!(messages(p.feed_responder(b"DNP3 outstation ready\r\n")).is_empty());
    assert_eq!(messages(p.feed_initiator(WRITE_TIME)).len(), 1);
    assert_eq!(messages(p.feed_responder(RESPONSE)).len(), 1);
}

#[test]
fn messages_of_one_chunk_come_in_fragment_order() {
    // Two outstations' responses in two segments each; the one opened
    // second ends first, both FIN segments in one chunk: Suricata logs
    // the transactions in their order.
    let mut p = parser();
    // (A later segment too holds five bytes at least, as a response
    // frame must.)
    let app = |seq: u8| {
        [
            0xc0 | seq,
            0x81,
            0x00,
            0x00,
            0x3c,
            0x01,
            0x06,
            0x3c,
            0x02,
            0x06,
        ]
    };
    let (a, b) = (app(1), app(2));
    let first = |d: u16, s: u8, part: &[u8]| {
        let mut u = vec![0x40 | s];
        u.extend_from_slice(part);
        frame(0x44, 1, d, &u)
    };
    let last = |d: u16, s: u8, part: &[u8]| {
        let mut u = vec![0x80 | s];
        u.extend_from_slice(part);
        frame(0x44, 1, d, &u)
    };
    let mut bytes = first(10, 5, &a[..4]);
    bytes.extend(first(11, 9, &b[..4]));
    assert!(messages(p.feed_responder(&bytes)).is_empty());
    let mut bytes = last(11, 10, &b[4..]);
    bytes.extend(last(10, 6, &a[4..]));
    let m = messages(p.feed_responder(&bytes));
    assert_eq!(
        m.iter().map(|m| (m.id, m.link.src)).collect::<Vec<_>>(),
        vec![(1, 10), (2, 11)]
    );
    assert!(m.iter().all(|m| m.complete && m.objects.len() == 2));
}

#[test]
fn incomplete_fragments_come_in_fragment_order_at_the_end() {
    // A fragment opened first and ended last: both incomplete (g70v3 is
    // not decoded), reported at the end in fragment order.
    let mut p = parser();
    let user = |th: u8, seq: u8| vec![th, 0xc0 | seq, 0x01, 0x46, 0x03, 0x07, 0x01, 0x00];
    let mut open = user(0x40, 1);
    open.truncate(4);
    assert!(messages(p.feed_initiator(&frame(0xc4, 10, 1, &open))).is_empty());
    assert!(messages(p.feed_initiator(&frame(0xc4, 11, 1, &user(0xc0, 2)))).is_empty());
    let rest = [vec![0x81], user(0, 1)[4..].to_vec()].concat();
    assert!(messages(p.feed_initiator(&frame(0xc4, 10, 1, &rest))).is_empty());
    let m = messages(p.flow_end());
    assert_eq!(
        m.iter().map(|m| (m.id, m.link.dst)).collect::<Vec<_>>(),
        vec![(1, 10), (2, 11)]
    );
    assert!(m.iter().all(|m| !m.complete));
}

#[test]
fn a_write_request_and_its_time_point() {
    let mut p = parser();
    let m = messages(p.feed_initiator(WRITE_TIME));
    assert_eq!(m.len(), 1);
    let m = &m[0];
    assert!(m.request && m.complete);
    assert_eq!((m.link.src, m.link.dst, m.link.control), (3, 4, 0xc4));
    assert_eq!((m.app_control, m.function_code, m.iin), (0xc1, 2, None));
    let o = &m.objects[0];
    assert_eq!((o.group, o.variation, o.qualifier), (50, 1, 7));
    assert_eq!((o.prefix_code, o.range_code, o.count), (0, 7, 1));
    assert_eq!(o.points, vec![Point::default()]);
    assert_eq!(o.values, vec![Value::U(1_097_487_541_483)]);
}

#[test]
fn an_unsolicited_response_over_three_blocks() {
    let mut p = parser();
    let m = messages(p.feed_responder(UNSOLICITED));
    assert_eq!(m.len(), 1);
    let m = &m[0];
    assert!(m.unsolicited() && m.complete);
    assert_eq!(m.iin, Some(0x0000));
    let groups: Vec<_> = m.objects.iter().map(|o| (o.group, o.variation)).collect();
    assert_eq!(groups, vec![(51, 1), (2, 3), (32, 1)]);
    // g2v3 with 2-byte index prefixes and a 2-byte count of 5.
    let o = &m.objects[1];
    assert_eq!((o.prefix_code, o.range_code, o.count), (2, 8, 5));
    assert_eq!(
        o.points.iter().map(|p| p.index).collect::<Vec<_>>(),
        vec![0, 1, 2, 0, 1]
    );
    assert_eq!(o.values.len(), 5 * 9);
    assert_eq!(o.values[0], Value::U(1), "online");
    // g32v1: flags then a signed 32-bit value.
    let o = &m.objects[2];
    assert_eq!(o.count, 3);
    assert_eq!(o.values.len(), 3 * 9);
}

#[test]
fn a_response_carries_its_iin() {
    let mut p = parser();
    let m = messages(p.feed_responder(RESPONSE));
    assert_eq!(m.len(), 1);
    assert!(!m[0].request && !m[0].unsolicited() && m[0].complete);
    assert_eq!(m[0].function_code, 129);
    assert_eq!(m[0].iin, Some(0x1001));
    assert!(m[0].objects.is_empty());
}

#[test]
fn frames_split_anywhere_are_put_back_together() {
    for cut in 1..UNSOLICITED.len() {
        let mut p = parser();
        let mut m = messages(p.feed_responder(&UNSOLICITED[..cut]));
        m.extend(messages(p.feed_responder(&UNSOLICITED[cut..])));
        assert_eq!(m.len(), 1, "cut at {cut}");
        assert_eq!(m[0].objects.len(), 3);
    }
}

#[test]
fn a_fragment_over_transport_segments() {
    // A direct operate (function 5) of a CROB (g12v1, 1-byte count and
    // 1-byte index prefix) in two segments: FIR seq 7, then FIN seq 8.
    let app = [
        0xc3, 0x05, 0x0c, 0x01, 0x17, 0x01, 0x02, 0x41, 0x01, 0xe8, 0x03, 0x00, 0x00, 0xd0, 0x07,
        0x00, 0x00, 0x00,
    ];
    let (a, b) = app.split_at(7);
    let mut first = vec![0x40 | 7];
    first.extend_from_slice(a);
    let mut second = vec![0x80 | 8];
    second.extend_from_slice(b);
    let mut p = parser();
    assert!(messages(p.feed_initiator(&frame(0xc4, 4, 3, &first))).is_empty());
    // A segment of other addresses, or out of sequence, is not joined.
    assert!(messages(p.feed_initiator(&frame(0xc4, 9, 3, &second))).is_empty());
    let mut wrong = second.clone();
    wrong[0] = 0x80 | 9;
    assert!(messages(p.feed_initiator(&frame(0xc4, 4, 3, &wrong))).is_empty());
    let m = messages(p.feed_initiator(&frame(0xc4, 4, 3, &second)));
    assert_eq!(m.len(), 1);
    let o = &m[0].objects[0];
    assert_eq!(
        (o.group, o.variation, o.prefix_code, o.count),
        (12, 1, 1, 1)
    );
    assert_eq!(o.points[0].index, 2);
    assert_eq!(
        o.values,
        vec![
            Value::U(1),
            Value::U(0),
            Value::U(0),
            Value::U(1),
            Value::U(1),
            Value::U(1000),
            Value::U(2000),
            Value::U(0),
            Value::U(0),
        ]
    );
    assert!(m[0].complete);
}

#[test]
fn a_bad_block_crc_drops_the_frame_and_reading_goes_on() {
    let mut p = parser();
    let mut bad = WRITE_TIME.to_vec();
    bad[12] ^= 0xff;
    let mut bytes = bad;
    bytes.extend_from_slice(WRITE_TIME);
    let m = messages(p.feed_initiator(&bytes));
    assert_eq!(m.len(), 1);
    assert_eq!(p.next_event().map(|e| e.event), Some("BAD_TRANSPORT_CRC"));
}

#[test]
fn a_bad_header_crc_stops_reading() {
    let mut p = parser();
    let mut bad = WRITE_TIME.to_vec();
    bad[8] ^= 0xff;
    bad.extend_from_slice(WRITE_TIME);
    assert!(messages(p.feed_initiator(&bad)).is_empty());
    assert_eq!(p.next_event().map(|e| e.event), Some("BAD_LINK_CRC"));
    assert!(messages(p.feed_initiator(WRITE_TIME)).is_empty());
}

#[test]
fn confirmations_and_link_frames_are_not_reported() {
    let mut p = parser();
    // A confirm (application function 0) and a link status request.
    let confirm = frame(0xc4, 4, 3, &[0xc1, 0xc1, 0x00]);
    let link_status = frame(0xc9, 4, 3, &[]);
    assert!(messages(p.feed_initiator(&confirm)).is_empty());
    assert!(messages(p.feed_initiator(&link_status)).is_empty());
    assert_eq!(p.next_event(), None);
}

#[test]
fn an_unknown_object_leaves_the_fragment_incomplete_until_the_end() {
    let mut p = parser();
    // A read of class 1 (g60v2, all) then g70v3 (not decoded here) with a
    // count of one.
    let user = [
        0xc0, 0xc2, 0x01, 0x3c, 0x02, 0x06, 0x46, 0x03, 0x07, 0x01, 0x00,
    ];
    assert!(messages(p.feed_initiator(&frame(0xc4, 4, 3, &user))).is_empty());
    assert_eq!(p.next_event().map(|e| e.event), Some("UNKNOWN_OBJECT"));
    let m = messages(p.flow_end());
    assert_eq!(m.len(), 1);
    assert!(!m[0].complete);
    assert_eq!(m[0].objects.len(), 2);
    assert!(m[0].objects[1].points.is_empty());
    assert!(suricata_only(70, 3) && layout(70, 3).is_none());
}

#[test]
fn packed_points_read_count_over_8_plus_one_octets() {
    // g1v1, start 0 stop 7: eight points, two octets read (as Suricata).
    let mut objects = Vec::new();
    let data = [0x01, 0x01, 0x00, 0x00, 0x07, 0b1010_0101, 0xff];
    assert_eq!(objects::decode(&data, 16, 16, &mut objects), Ok(()));
    assert_eq!(objects[0].count, 8);
    let states: Vec<_> = objects[0].values.clone();
    assert_eq!(states[0], Value::U(1));
    assert_eq!(states[1], Value::U(0));
    assert_eq!(states.len(), 8);
    // Without the second octet, the object is cut short.
    objects.clear();
    assert_eq!(
        objects::decode(&data[..6], 16, 16, &mut objects),
        Err(objects::Stop::Unknown)
    );
}

#[test]
fn caps_stop_decoding() {
    // 20 one-byte points of g2v1 against a cap of 4.
    let mut data = vec![0x02, 0x01, 0x07, 20];
    data.extend_from_slice(&[0x81; 20]);
    let mut objects = Vec::new();
    assert_eq!(
        objects::decode(&data, 16, 4, &mut objects),
        Err(objects::Stop::TooManyPoints)
    );
    assert_eq!(objects[0].points.len(), 4);
    // Three class reads against a cap of 2 objects.
    let reads = [0x3c, 0x02, 0x06, 0x3c, 0x03, 0x06, 0x3c, 0x04, 0x06];
    objects.clear();
    assert_eq!(
        objects::decode(&reads, 2, 16, &mut objects),
        Err(objects::Stop::TooManyObjects)
    );
    assert_eq!(objects.len(), 2);
    // A reserved range code stops without an event.
    objects.clear();
    let reserved = [0x3c, 0x04, 0xed];
    assert_eq!(
        objects::decode(&reserved, 16, 16, &mut objects),
        Err(objects::Stop::Reserved)
    );
    assert_eq!((objects[0].prefix_code, objects[0].range_code), (6, 13));
}

#[test]
fn fragments_at_once_are_capped() {
    let cfg = Dnp3Config {
        max_tx: 2,
        ..Dnp3Config::default()
    };
    let mut p = Dnp3Parser::new(&cfg);
    for seq in 0..3u8 {
        // First segments that never end.
        let f = frame(0xc4, 4, 3, &[0x40 | seq, 0xc0, 0x01, 0x3c, 0x02, 0x06]);
        assert!(messages(p.feed_initiator(&f)).is_empty());
    }
    assert_eq!(p.open.len(), 2);
    assert_eq!(p.next_event().map(|e| e.event), Some("FLOODED"));
}

#[test]
fn signed_and_float_values() {
    // g30v1 (flags, int32 -1) and g30v5 (flags, float 1.5).
    let data = [
        0x1e, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x1e, 0x05, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x00, 0xc0, 0x3f,
    ];
    let mut objects = Vec::new();
    assert_eq!(objects::decode(&data, 16, 16, &mut objects), Ok(()));
    assert_eq!(objects[0].values[8], Value::I(-1));
    assert_eq!(objects[1].values[8], Value::F32(1.5f32.to_bits()));
    let names: Vec<_> = objects[1].layout().unwrap().names().collect();
    assert_eq!(names.first(), Some(&"online"));
    assert_eq!(names.last(), Some(&"value"));
}

#[test]
fn garbage_does_not_panic() {
    let mut p = parser();
    let mut x: u32 = 1;
    let mut bytes = Vec::new();
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.push(x as u8);
    }
    for chunk in bytes.chunks(37) {
        let mut f = frame(0xc4, 4, 3, &chunk[..chunk.len().min(30)]);
        f.extend_from_slice(chunk);
        let _ = p.feed_initiator(&f);
        let _ = p.feed_responder(&f);
    }
    let _ = p.flow_end();
}
