//! RDP parser tests: the probe, each step of the connection sequence as
//! Suricata reads it, the move to TLS, the caps and what stops the
//! reading, over byte literals.

use super::wire::serial_hex;
use super::*;
use crate::testutil::unhex;

/// A self-signed P-256 certificate made with `openssl req -x509
/// -set_serial 0xf1` for these tests (CN rdp.test; the serial is encoded
/// with a leading zero byte, `02 02 00 f1`).
const CERT_DER_HEX: &str = concat!(
    "308201693082010fa003020102020200f1300a06082a8648ce3d04030230133111300f06035504030c087264702e7465",
    "7374301e170d3236313230343134313631305a170d3336313230313134313631305a30133111300f06035504030c0872",
    "64702e746573743059301306072a8648ce3d020106082a8648ce3d03010703420004c458e50c11d01e45efc9c0e45023",
    "10a5410901f667da0673f79ca356a27862c24479fc6149fff3425bc05a74cafa3021b02262803082f52671415b1e5428",
    "a6afa3533051301d0603551d0e041604143d8f4b319a797964ab52253920196739cc109475301f0603551d2304183016",
    "80143d8f4b319a797964ab52253920196739cc109475300f0603551d130101ff040530030101ff300a06082a8648ce3d",
    "040302034800304502200940566c7be397ca727b7c6cb58bf788df347d4b7d492b7d707303575dcbd4aa022100f9a6d9",
    "fe813ca5b9752a5c01b9ea58894e77b697794c80754c70a8fb932a3ce4",
);

/// A TPKT around `body`.
fn tpkt(body: &[u8]) -> Vec<u8> {
    let mut v = vec![3, 0];
    v.extend_from_slice(&(body.len() as u16 + 4).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// An X.224 Connection Request (`code` 0xe0) or Confirm (0xd0), class 0,
/// with this variable part.
fn x224(code: u8, var: &[u8]) -> Vec<u8> {
    let mut v = vec![var.len() as u8 + 6, code, 0, 0, 0x12, 0x34, 0];
    v.extend_from_slice(var);
    tpkt(&v)
}

/// `Cookie: mstshash=user1\r\n` and an `RDP_NEG_REQ` (flags 0x08,
/// protocols TLS | CredSSP).
const CR: &[u8] = b"\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00Cookie: mstshash=user1\r\n\x01\x08\x08\x00\x03\x00\x00\x00";
/// `RDP_NEG_RSP`: flags 0x1f, CredSSP (2).
const CC: &[u8] = b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x1f\x08\x00\x02\x00\x00\x00";
/// MCS Connect-Response (X.224 Data, `7f 66`).
const CONNECT_RESPONSE: &[u8] = b"\x03\x00\x00\x09\x02\xf0\x80\x7f\x66";

fn utf16(s: &str, len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
    v.resize(len, 0);
    v
}

/// A Client Core Data block: RDP 5, 1280x1024, 8 bpp, en-US, build 2600,
/// `SEPTU`, enhanced keyboard, 12 function keys, then the optional fields
/// up to the connection type (LAN).
fn client_core() -> Vec<u8> {
    let mut d = Vec::new();
    d.extend(0x8_0004u32.to_le_bytes());
    d.extend(1280u16.to_le_bytes());
    d.extend(1024u16.to_le_bytes());
    d.extend(0xca01u16.to_le_bytes());
    d.extend(0xaa03u16.to_le_bytes());
    d.extend(0x409u32.to_le_bytes());
    d.extend(2600u32.to_le_bytes());
    d.extend(utf16("SEPTU", 32));
    d.extend(4u32.to_le_bytes());
    d.extend(0u32.to_le_bytes());
    d.extend(12u32.to_le_bytes());
    d.extend(utf16("", 64));
    d.extend(0xca03u16.to_le_bytes()); // post-beta-2: 16 bpp
    d.extend(1u16.to_le_bytes()); // product id
    d.extend(0u32.to_le_bytes()); // serial
    d.extend(0x18u16.to_le_bytes()); // high colour: 24 bpp
    d.extend(0xfu16.to_le_bytes());
    d.extend(0x21u16.to_le_bytes()); // errinfo, valid connection type
    d.extend(utf16("76487-OEM", 64));
    d.push(6); // LAN
    let mut b = 0xc001u16.to_le_bytes().to_vec();
    b.extend((d.len() as u16 + 4).to_le_bytes());
    b.extend(d);
    b
}

/// A Client Network Data block with these channels.
fn client_network(names: &[&str]) -> Vec<u8> {
    let mut b = 0xc003u16.to_le_bytes().to_vec();
    b.extend((names.len() as u16 * 12 + 8).to_le_bytes());
    b.extend((names.len() as u32).to_le_bytes());
    for n in names {
        let mut name = n.as_bytes().to_vec();
        name.resize(8, 0);
        b.extend(name);
        b.extend(0x8000_0000u32.to_le_bytes());
    }
    b
}

/// An MCS Connect-Initial whose GCC user data holds `blocks`.
fn connect_initial(blocks: &[u8]) -> Vec<u8> {
    let mut v = vec![
        2, 0xf0, 0x80, 0x7f, 0x65, 0x82, 0x01, 0x00, 0x04, 0x01, 0x01,
    ];
    v.extend_from_slice(b"\x00\x05\x00\x14\x7c\x00\x01Duca");
    let n = blocks.len() as u16;
    v.extend((n | 0x8000).to_be_bytes());
    v.extend_from_slice(blocks);
    tpkt(&v)
}

fn record(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ty, 3, 3];
    v.extend((body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn handshake(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ty];
    v.extend(&(body.len() as u32).to_be_bytes()[1..]);
    v.extend_from_slice(body);
    v
}

/// A Certificate message body holding `ders`.
fn certificates(ders: &[Vec<u8>]) -> Vec<u8> {
    let mut list: Vec<u8> = Vec::new();
    for d in ders {
        list.extend(&(d.len() as u32).to_be_bytes()[1..]);
        list.extend(d);
    }
    let mut b = (list.len() as u32).to_be_bytes()[1..].to_vec();
    b.extend(list);
    b
}

#[allow(unreachable_patterns)]
fn items(out: Vec<L7Message>) -> Vec<(u64, RdpItem)> {
    out.into_iter()
        .filter_map(|m| match m {
            L7Message::Rdp(t) => Some((t.tx_id, t.item)),
            _ => None,
        })
        .collect()
}

fn events(p: &mut RdpParser) -> Vec<&'static str> {
    std::iter::from_fn(|| p.next_event())
        .map(|e| e.event)
        .collect()
}

#[test]
fn probe_wants_a_tpkt_with_a_connection_request_or_confirm() {
    assert_eq!(probe(CR, FlowSide::Initiator), Probe::Certain);
    assert_eq!(probe(CC, FlowSide::Responder), Probe::Certain);
    assert_eq!(probe(&CR[..3], FlowSide::Initiator), Probe::NeedMore);
    assert_eq!(probe(b"", FlowSide::Initiator), Probe::NeedMore);
    // X.224 Data, a TLS record, an X.224 length past the TPKT's.
    assert_eq!(probe(CONNECT_RESPONSE, FlowSide::Responder), Probe::No);
    assert_eq!(
        probe(b"\x16\x03\x01\x00\x05", FlowSide::Initiator),
        Probe::No
    );
    assert_eq!(
        probe(b"\x03\x00\x00\x0b\x20\xe0\x00", FlowSide::Initiator),
        Probe::No
    );
    assert_eq!(probe(b"GET / HTTP/1.1\r\n", FlowSide::Initiator), Probe::No);
}

#[test]
fn request_and_confirm_are_two_transactions() {
    let mut p = RdpParser::new(&RdpConfig::default());
    let got = items(p.feed_initiator(CR));
    let want = RdpItem::InitialRequest {
        cookie: Some("user1".into()),
        flags: Some(0x08),
    };
    assert_eq!(got, vec![(1, want)]);
    let got = items(p.feed_responder(CC));
    let neg = Negotiation::Response {
        flags: 0x1f,
        protocol: 2,
    };
    assert_eq!(got, vec![(2, RdpItem::InitialResponse(Some(neg)))]);
    assert!(events(&mut p).is_empty());
}

#[test]
fn negotiation_failure_and_unknown_values() {
    let mut p = RdpParser::new(&RdpConfig::default());
    let fail = x224(0xd0, b"\x03\x00\x08\x00\x05\x00\x00\x00");
    let got = items(p.feed_responder(&fail));
    let neg = Some(Negotiation::Failure { code: 5 });
    assert_eq!(got, vec![(1, RdpItem::InitialResponse(neg))]);
    // A protocol Suricata does not know, a cookie without its prefix and
    // a request with an unknown flag: the structures are absent.
    let odd = x224(0xd0, b"\x02\x00\x08\x00\x03\x00\x00\x00");
    assert_eq!(
        items(p.feed_responder(&odd)),
        vec![(2, RdpItem::InitialResponse(None))]
    );
    let req = x224(0xe0, b"\x01\x04\x08\x00\x01\x00\x00\x00");
    let want = RdpItem::InitialRequest {
        cookie: None,
        flags: None,
    };
    assert_eq!(items(p.feed_initiator(&req)), vec![(3, want)]);
}

#[test]
fn connect_initial_gives_the_client_and_its_channels() {
    let mut blocks = client_core();
    blocks.extend(b"\x02\xc0\x0c\x00\x1b\x00\x00\x00\x00\x00\x00\x00"); // security
    blocks.extend(client_network(&["rdpdr", "cliprdr"]));
    let mut p = RdpParser::new(&RdpConfig::default());
    let got = items(p.feed_initiator(&connect_initial(&blocks)));
    let [(1, RdpItem::ConnectRequest(req))] = got.as_slice() else {
        panic!("{got:?}");
    };
    let c = req.client.as_ref().expect("client core");
    assert_eq!(
        (c.version, c.desktop_width, c.desktop_height),
        (0x8_0004, 1280, 1024)
    );
    assert_eq!(
        (&*c.client_name, c.keyboard_layout, c.build),
        ("SEPTU", 0x409, 2600)
    );
    assert_eq!((c.keyboard_type, c.function_keys), (4, 12));
    assert_eq!(
        (c.post_beta2_color_depth, c.high_color_depth),
        (Some(0xca03), Some(0x18))
    );
    assert_eq!((c.product_id, c.serial_number), (Some(1), Some(0)));
    assert_eq!(c.capabilities, Some(0x21));
    assert_eq!(c.dig_product_id.as_deref(), Some("76487-OEM"));
    // The block ends after the connection type: the rest is absent.
    assert_eq!((c.connection_hint, c.physical_width), (Some(6), None));
    let names: Vec<&str> = req.channels.iter().map(|c| &**c).collect();
    assert_eq!(names, ["rdpdr", "cliprdr"]);
}

#[test]
fn a_connect_response_ends_the_servers_side() {
    let mut p = RdpParser::new(&RdpConfig::default());
    let mut b = CONNECT_RESPONSE.to_vec();
    b.extend_from_slice(CC);
    assert_eq!(
        items(p.feed_responder(&b)),
        vec![(1, RdpItem::ConnectResponse)]
    );
    assert!(items(p.feed_responder(CC)).is_empty());
    // The client's side goes on.
    assert_eq!(items(p.feed_initiator(CR)).len(), 1);
}

#[test]
fn after_the_move_to_tls_the_certificate_serials_are_a_transaction() {
    let der = unhex(CERT_DER_HEX);
    let mut p = RdpParser::new(&RdpConfig::default());
    p.feed_initiator(CR);
    p.feed_responder(CC);
    let hello = record(22, &handshake(1, &[3, 3, 0, 0]));
    assert!(items(p.feed_initiator(&hello)).is_empty());
    let mut server = record(22, &handshake(2, &[3, 3]));
    let mut msgs = handshake(11, &certificates(&[der.clone(), b"\x30\x00".to_vec()]));
    msgs.extend(handshake(14, &[]));
    server.extend(record(22, &msgs));
    // Fed in two pieces: the record is buffered.
    let (a, b) = server.split_at(server.len() / 2);
    assert!(items(p.feed_responder(a)).is_empty());
    let got = items(p.feed_responder(b));
    // The certificate that does not decode has no serial.
    assert_eq!(got, vec![(3, RdpItem::TlsHandshake(vec!["f1".into()]))]);
    assert!(items(p.feed_responder(&record(22, &msgs))).is_empty());
}

#[test]
fn serials_are_unsigned_hex_without_leading_zeros() {
    assert_eq!(&*serial_hex(&[0x00, 0x0a, 0x1b, 0x2c]), "a1b2c");
    assert_eq!(&*serial_hex(&[0x80, 0x01]), "8001");
    assert_eq!(&*serial_hex(&[0, 0]), "0");
    assert_eq!(&*serial_hex(&[]), "0");
}

#[test]
fn bytes_that_are_neither_tpkt_nor_tls_stop_both_sides() {
    let mut p = RdpParser::new(&RdpConfig::default());
    p.feed_initiator(CR);
    // A fast-path input PDU.
    assert!(items(p.feed_initiator(b"\x44\x08\x00\x00\x00\x00\x00\x00")).is_empty());
    assert!(items(p.feed_responder(CC)).is_empty());
    assert!(items(p.feed_initiator(CR)).is_empty());
}

#[test]
fn a_structure_past_its_pdu_stalls_that_side_only() {
    let mut p = RdpParser::new(&RdpConfig::default());
    // The X.224 length announces 10 bytes the TPKT does not hold.
    let short = b"\x03\x00\x00\x0b\x10\xe0\x00\x00\x00\x00\x00";
    assert!(items(p.feed_initiator(short)).is_empty());
    assert!(items(p.feed_initiator(CR)).is_empty());
    assert_eq!(items(p.feed_responder(CC)).len(), 1);
}

#[test]
fn byte_by_byte_gives_the_same_transactions() {
    let mut whole = RdpParser::new(&RdpConfig::default());
    let mut stream = CR.to_vec();
    stream.extend(connect_initial(&client_network(&["rdpsnd"])));
    let want = items(whole.feed_initiator(&stream));
    assert_eq!(want.len(), 2);
    let mut split = RdpParser::new(&RdpConfig::default());
    let got: Vec<_> = stream
        .iter()
        .flat_map(|b| items(split.feed_initiator(std::slice::from_ref(b))))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn caps_are_events() {
    let cfg = RdpConfig {
        max_pdu_bytes: 1024,
        max_tx: 2,
        ..RdpConfig::default()
    };
    let mut p = RdpParser::new(&cfg);
    // A PDU over the cap is skipped; the next one is read.
    let mut b = tpkt(&[0; 2000]);
    b.extend_from_slice(CR);
    assert_eq!(items(p.feed_initiator(&b)).len(), 1);
    assert_eq!(events(&mut p), ["pdu_too_long"]);
    let names: Vec<String> = (0..MAX_CHANNELS + 3).map(|i| format!("c{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let got = items(p.feed_initiator(&connect_initial(&client_network(&names))));
    let [(2, RdpItem::ConnectRequest(req))] = got.as_slice() else {
        panic!("{got:?}");
    };
    assert_eq!(req.channels.len(), MAX_CHANNELS);
    assert_eq!(events(&mut p), ["too_many_channels"]);
    assert!(items(p.feed_responder(CC)).is_empty());
    assert_eq!(events(&mut p), ["too_many_transactions"]);
    assert!(items(p.feed_initiator(CR)).is_empty());
}

#[test]
fn a_gap_stops_the_reading() {
    let mut p = RdpParser::new(&RdpConfig::default());
    p.gap_initiator(10);
    assert!(items(p.feed_initiator(CR)).is_empty());
    assert!(items(p.feed_responder(CC)).is_empty());
}

#[test]
fn names_follow_suricata() {
    assert_eq!(names::locale(0x409), Some("en-US"));
    assert_eq!(names::locale(0x7c92), Some("ku-Arab"));
    assert_eq!(names::locale(0x1_0409), None);
    assert_eq!(names::windows_build(7601), Some("Windows 7 SP1"));
    assert_eq!(names::client_version(0x8_000c), Some("v10.7"));
    assert_eq!(names::color_depth(Some(0), Some(0xca02), 0xca01), Some(15));
    assert_eq!(names::color_depth(None, None, 0xca03), None);
    let caps: Vec<&str> = names::capabilities(0x11).collect();
    assert_eq!(caps, ["support_errinfo_pdf"]);
}
