//! Unit tests of the IKE parser: IKEv1 and IKEv2 messages built from
//! byte literals.

use super::*;

/// An ISAKMP header of `len` bytes in all.
fn hdr(next: u8, version: u8, exchange: u8, flags: u8, resp_spi: u64, len: usize) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&0x0102_0304_0506_0708u64.to_be_bytes());
    h.extend_from_slice(&resp_spi.to_be_bytes());
    h.extend_from_slice(&[next, version, exchange, flags]);
    h.extend_from_slice(&7u32.to_be_bytes());
    h.extend_from_slice(&(len as u32).to_be_bytes());
    h
}

/// A generic payload.
fn payload(next: u8, content: &[u8]) -> Vec<u8> {
    let mut p = vec![next, 0];
    p.extend_from_slice(&((content.len() + 4) as u16).to_be_bytes());
    p.extend_from_slice(content);
    p
}

/// An IKEv2 SA payload's content: one IKE proposal of these transforms.
fn sa(transforms: &[(u8, u16)]) -> Vec<u8> {
    let mut t = Vec::new();
    for (i, &(ty, id)) in transforms.iter().enumerate() {
        let last = if i + 1 == transforms.len() { 0 } else { 3 };
        t.extend_from_slice(&[last, 0, 0, 8, ty, 0]);
        t.extend_from_slice(&id.to_be_bytes());
    }
    let mut p = vec![0, 0];
    p.extend_from_slice(&((t.len() + 8) as u16).to_be_bytes());
    p.extend_from_slice(&[1, 1, 0, transforms.len() as u8]);
    p.extend_from_slice(&t);
    p
}

fn notify(t: u16) -> Vec<u8> {
    let mut n = vec![1, 0];
    n.extend_from_slice(&t.to_be_bytes());
    n
}

/// IKE_SA_INIT: SA, KE, Nonce, Notify(`n`).
fn sa_init(flags: u8, resp_spi: u64, transforms: &[(u8, u16)], n: u16) -> Vec<u8> {
    let mut body = payload(34, &sa(transforms));
    body.extend(payload(40, &[0, 19, 0, 0, 1, 2, 3, 4]));
    body.extend(payload(41, &[9; 16]));
    body.extend(payload(0, &notify(n)));
    let mut m = hdr(33, 0x20, 34, flags, resp_spi, 28 + body.len());
    m.extend(body);
    m
}

fn one(p: &mut IkeParser, b: &[u8], side: FlowSide) -> Option<IkeMessage> {
    let mut out = p.parse(b, side);
    assert!(out.len() <= 1);
    match out.pop() {
        Some(L7Message::Ike(m)) => Some(*m),
        _ => None,
    }
}

fn v2(m: &IkeMessage) -> &IkeV2 {
    match &m.detail {
        IkeDetail::V2(v) => v,
        IkeDetail::V1(_) => panic!("not IKEv2"),
    }
}

const OFFER: [(u8, u16); 4] = [(1, 12), (2, 5), (3, 12), (4, 19)];
const SECOND: [(u8, u16); 4] = [(1, 20), (2, 7), (3, 14), (4, 31)];

#[test]
fn probe_takes_whole_headers_and_nat_t() {
    let m = sa_init(FLAG_INITIATOR, 0, &OFFER, 16388);
    assert_eq!(probe(&m, FlowSide::Initiator), Probe::Certain);
    let mut marked = vec![0, 0, 0, 0];
    marked.extend_from_slice(&m);
    assert_eq!(probe(&marked, FlowSide::Initiator), Probe::Certain);
    // A length that is not the datagram's, an unknown exchange type.
    assert_eq!(probe(&m[..m.len() - 1], FlowSide::Initiator), Probe::No);
    let mut odd = m.clone();
    odd[18] = 99;
    assert_eq!(probe(&odd, FlowSide::Initiator), Probe::No);
    // An IKEv1 header of another length waits for the port.
    let v1 = hdr(0, 0x10, 2, 0, 0, 200);
    assert_eq!(probe(&v1, FlowSide::Initiator), Probe::NeedMore);
    // A version 1.1 header waits only when its length is the datagram's.
    let v11 = hdr(0, 0x11, 2, 0, 0, 200);
    assert_eq!(probe(&v11, FlowSide::Initiator), Probe::No);
    let v11 = hdr(0, 0x11, 2, 0, 0, 28);
    assert_eq!(probe(&v11, FlowSide::Initiator), Probe::NeedMore);
    assert_eq!(
        probe(b"GET / HTTP/1.1\r\n\r\n", FlowSide::Initiator),
        Probe::No
    );
}

#[test]
fn ikev2_payloads_notify_and_role() {
    let mut p = IkeParser::new(IkeConfig::default());
    let m = one(
        &mut p,
        &sa_init(FLAG_INITIATOR, 0, &OFFER, 16390),
        FlowSide::Initiator,
    )
    .unwrap();
    assert_eq!(
        (m.version_major, m.version_minor, m.exchange_type),
        (2, 0, 34)
    );
    assert_eq!(m.init_spi, 0x0102_0304_0506_0708);
    assert_eq!(m.message_id, 7);
    assert_eq!(m.payloads, [33, 34, 40, 41, 0]);
    let v = v2(&m);
    assert!(v.initiator);
    assert_eq!(v.notify, [16390]);
    assert_eq!(v.errors, 0);
    // A responder's error notify counts.
    let r = one(&mut p, &sa_init(0x20, 5, &OFFER, 17), FlowSide::Responder).unwrap();
    assert!(!v2(&r).initiator);
    assert_eq!(v2(&r).errors, 1);
}

#[test]
fn algorithms_follow_suricatas_exchange_state() {
    let mut p = IkeParser::new(IkeConfig::default());
    one(
        &mut p,
        &sa_init(FLAG_INITIATOR, 0, &OFFER, 16388),
        FlowSide::Initiator,
    );
    let cookie = one(
        &mut p,
        &sa_init(0x20, 0, &OFFER, 16390),
        FlowSide::Responder,
    )
    .unwrap();
    // The first SA, key exchange and nonce leave the defaults; the
    // second SA (here the responder's) sets them.
    let a = v2(&cookie).algs;
    assert_eq!(
        (a.enc, a.prf, a.auth, a.dh),
        (OFFER[0].1, OFFER[1].1, OFFER[2].1, OFFER[3].1)
    );
    let later = one(
        &mut p,
        &sa_init(FLAG_INITIATOR, 0, &SECOND, 16388),
        FlowSide::Initiator,
    );
    assert_eq!(v2(&later.unwrap()).algs, a);
    let fresh = IkeParser::new(IkeConfig::default());
    assert_eq!(fresh.algs, IkeAlgs::default());
}

#[test]
fn a_malformed_payload_empties_the_list() {
    let mut m = sa_init(FLAG_INITIATOR, 0, &OFFER, 16388);
    // The last payload claims more bytes than are left.
    let n = m.len();
    m[n - 6] = 0x40;
    let mut p = IkeParser::new(IkeConfig::default());
    let r = one(&mut p, &m, FlowSide::Initiator).unwrap();
    assert!(r.payloads.is_empty());
    assert!(v2(&r).notify.is_empty());
}

#[test]
fn nat_t_flows_skip_esp_and_short_datagrams_are_malformed() {
    let mut p = IkeParser::new(IkeConfig::default());
    let mut marked = vec![0, 0, 0, 0];
    marked.extend(sa_init(FLAG_INITIATOR, 0, &OFFER, 16388));
    let m = one(&mut p, &marked, FlowSide::Initiator).unwrap();
    assert!(m.nat_t);
    assert!(
        one(
            &mut p,
            &[0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1, 9, 9],
            FlowSide::Initiator
        )
        .is_none()
    );
    assert!(one(&mut p, &[0xff], FlowSide::Responder).is_none());
    assert_eq!((p.esp(), p.malformed()), (2, 0));
    let mut q = IkeParser::new(IkeConfig::default());
    assert!(one(&mut q, &[1, 2, 3], FlowSide::Initiator).is_none());
    assert_eq!(q.malformed(), 1);
    assert_eq!(q.next_event().map(|e| e.event), Some("malformed_data"));
}

#[test]
fn caps_notify_entries_and_messages() {
    let cfg = IkeConfig {
        max_transforms: 1,
        max_messages: 1,
        ..IkeConfig::default()
    };
    let mut body = payload(41, &notify(16388));
    body.extend(payload(0, &notify(16389)));
    let mut m = hdr(41, 0x20, 37, FLAG_INITIATOR, 1, 28 + body.len());
    m.extend(body);
    let mut p = IkeParser::new(cfg);
    let r = one(&mut p, &m, FlowSide::Initiator).unwrap();
    assert_eq!(v2(&r).notify, [16388]);
    assert_eq!(p.next_event().map(|e| e.event), Some("too_many_transforms"));
    assert!(one(&mut p, &m, FlowSide::Initiator).is_none());
    assert_eq!(p.next_event().map(|e| e.event), Some("too_many_messages"));
}

/// An IKEv1 main mode first message: SA (DOI 1, one proposal of one
/// transform with `attrs`), KE, nonce and a vendor ID.
fn v1_main(attrs: &[u8], flags: u8) -> Vec<u8> {
    let mut t = vec![1, 1, 0, 0];
    t.extend_from_slice(attrs);
    let transform = payload(0, &t);
    let mut prop = vec![1, 1, 0, 1];
    prop.extend(transform);
    let proposal = payload(0, &prop);
    let mut s = 1u32.to_be_bytes().to_vec();
    s.extend_from_slice(&1u32.to_be_bytes());
    s.extend(proposal);
    let mut body = payload(4, &s);
    body.extend(payload(10, &[0xab; 8]));
    body.extend(payload(13, &[0xcd; 4]));
    body.extend(payload(0, b"vendor-id-bytes!"));
    let mut m = hdr(1, 0x10, 2, flags, 0, 28 + body.len());
    m.extend(body);
    m
}

#[test]
fn ikev1_transforms_key_exchange_and_vendor_ids() {
    // AES-CBC (TV), key length 256 (TV), life duration in four bytes (TLV).
    let attrs = [0x80, 1, 0, 7, 0x80, 14, 1, 0, 0, 12, 0, 4, 0, 0, 0x70, 0x80];
    let m = v1_main(&attrs, 0);
    assert_eq!(probe(&m, FlowSide::Initiator), Probe::Certain);
    let mut p = IkeParser::new(IkeConfig::default());
    let r = one(&mut p, &m, FlowSide::Initiator).unwrap();
    assert_eq!(r.payloads, [1, 2, 3, 4, 10, 13]);
    let IkeDetail::V1(v) = &r.detail else {
        panic!("not IKEv1")
    };
    assert_eq!(v.doi, Some(1));
    assert!(v.from_initiator && !v.encrypted);
    assert_eq!(v.transforms.len(), 1);
    let t = &v.transforms[0];
    assert_eq!(attribute_value_name(t[0].kind, t[0].value), "EncAesCbc");
    assert_eq!(t[1].number, Some(256));
    assert_eq!(t[2].number, Some(0x7080));
    assert_eq!(&*v.client.nonce.bytes, &[0xcd; 4]);
    assert_eq!(&*v.client.key_exchange.bytes, &[0xab; 8]);
    assert!(v.server.key_exchange.is_empty());
    assert_eq!(&*v.vendor_ids[0].bytes, b"vendor-id-bytes!");
    // The responder's answer makes its transform the flow's chosen one.
    let r = one(&mut p, &m, FlowSide::Responder).unwrap();
    let IkeDetail::V1(v) = &r.detail else {
        panic!("not IKEv1")
    };
    assert_eq!(v.chosen, v.transforms[0]);
    assert_eq!(&*v.client.nonce.bytes, &[0xcd; 4]);
}

#[test]
fn ikev1_encrypted_and_long_values() {
    let m = v1_main(&[0x80, 1, 0, 5], 0x01);
    let mut p = IkeParser::new(IkeConfig::default());
    let r = one(&mut p, &m, FlowSide::Initiator).unwrap();
    assert_eq!(r.payloads, [1]);
    let cfg = IkeConfig {
        max_value_bytes: 16,
        ..IkeConfig::default()
    };
    let mut p = IkeParser::new(cfg);
    let mut body = payload(0, &[7; 40]);
    let mut m = hdr(4, 0x10, 2, 0, 0, 28 + body.len());
    m.append(&mut body);
    let r = one(&mut p, &m, FlowSide::Initiator).unwrap();
    let IkeDetail::V1(v) = &r.detail else {
        panic!("not IKEv1")
    };
    assert_eq!(
        (v.client.key_exchange.bytes.len(), v.client.key_exchange.len),
        (16, 40)
    );
    assert_eq!(p.next_event().map(|e| e.event), Some("long_value"));
}

#[test]
fn no_panic_on_truncations() {
    let mut marked = vec![0, 0, 0, 0];
    marked.extend(v1_main(&[0x80, 1, 0, 5, 0, 6, 0, 9, 1], 0));
    let all = [sa_init(FLAG_INITIATOR, 0, &OFFER, 1), marked];
    for m in &all {
        for cut in 0..m.len() {
            let mut p = IkeParser::new(IkeConfig::default());
            let _ = probe(&m[..cut], FlowSide::Initiator);
            let _ = p.parse(&m[..cut], FlowSide::Initiator);
            let _ = p.parse(&m[cut..], FlowSide::Responder);
        }
    }
}
