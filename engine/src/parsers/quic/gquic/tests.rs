use super::*;
use aes::cipher::BlockCipherEncrypt;
use aes_gcm::AeadInOut;

/// The gQUIC records of `msgs` (every message gQUIC reports is one).
fn records(msgs: Vec<L7Message>) -> Vec<GquicPacket> {
    crate::testutil::messages_of!(msgs, Gquic)
}

fn events(g: &mut Gquic) -> Vec<(&'static str, Option<u64>)> {
    std::iter::from_fn(|| g.next_event())
        .map(|e| (e.event, e.tx_id))
        .collect()
}

/// A handshake message `tag` with these (tag, value) entries.
fn message(tag: &[u8; 4], entries: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
    let mut m = tag.to_vec();
    m.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    m.extend_from_slice(&[0, 0]);
    let mut end = 0u32;
    for (t, v) in entries {
        end += v.len() as u32;
        m.extend_from_slice(&t[..]);
        m.extend_from_slice(&end.to_le_bytes());
    }
    for (_, v) in entries {
        m.extend_from_slice(v);
    }
    m
}

/// A STREAM frame (stream 1, no offset, 2-byte length) carrying `data`.
fn stream(data: &[u8]) -> Vec<u8> {
    let mut f = vec![0xa0, 0x01];
    f.extend_from_slice(&(data.len() as u16).to_be_bytes());
    f.extend_from_slice(data);
    f
}

/// A Q039–Q043 packet with the public header: flags 0x09 (version,
/// 8-byte connection id), 1-byte packet number, 12-byte hash.
fn public(version: &[u8; 4], frames: &[u8]) -> Vec<u8> {
    let mut p = vec![0x09, 1, 2, 3, 4, 5, 6, 7, 8];
    p.extend_from_slice(version);
    p.push(1);
    p.extend_from_slice(&[0xaa; 12]);
    p.extend_from_slice(frames);
    p
}

/// A Q046 long-header packet of type byte `first` (0xc3: Initial).
fn q046(first: u8, frames: &[u8]) -> Vec<u8> {
    let mut p = vec![first];
    p.extend_from_slice(b"Q046");
    p.push(0x50); // 8-byte destination connection id, no source
    p.extend_from_slice(&[9; 8]);
    if first & 0x30 == 0 {
        p.extend_from_slice(&[0, 0, 0, 1]);
        p.extend_from_slice(&[0xbb; 12]);
    }
    p.extend_from_slice(frames);
    p
}

/// The CHLO of Suricata's CYU test "43,PAD-SNI-VER-CCS-PDMD-ICSL-MIDS-CFCW-SFCW",
/// with an SNI and padding.
fn chlo43() -> Vec<u8> {
    message(
        b"CHLO",
        &[
            (b"PAD\0", &[0; 20]),
            (b"SNI\0", b"www.example.com"),
            (b"VER\0", b"Q043"),
            (b"CCS\0", &[1; 16]),
            (b"PDMD", b"X509"),
            (b"ICSL", &[30, 0, 0, 0]),
            (b"MIDS", &[100, 0, 0, 0]),
            (b"CFCW", &[0, 0, 0xf0, 0]),
            (b"SFCW", &[0, 0, 0x60, 0]),
        ],
    )
}

#[test]
fn q043_chlo_gives_sni_and_suricatas_cyu() {
    let mut g = Gquic::default();
    let pkt = public(b"Q043", &stream(&chlo43()));
    assert!(probe(&pkt));
    let recs = records(g.parse(&pkt, FlowSide::Initiator));
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.version, u32::from_be_bytes(*b"Q043"));
    assert_eq!(r.sni.as_deref(), Some(&b"www.example.com"[..]));
    assert_eq!(r.ua, None);
    assert_eq!(r.cyu.len(), 1);
    // Suricata's cyu.rs test vector (Salesforce's analysis).
    assert_eq!(
        r.cyu[0].string,
        "43,PAD-SNI-VER-CCS-PDMD-ICSL-MIDS-CFCW-SFCW"
    );
    assert_eq!(r.cyu[0].hash, "e030dea1f2eea44ac7db5fe4de792acd");
    assert!(events(&mut g).is_empty());
}

#[test]
fn q046_long_header_initial_then_version_only_packets() {
    let chlo = message(
        b"CHLO",
        &[
            (b"SNI\0", b"a.example"),
            (b"UAID", b"Chrome/80"),
            (b"VER\0", b"Q046"),
        ],
    );
    let mut g = Gquic::default();
    let first = q046(0xc3, &stream(&chlo));
    assert!(probe(&first));
    let recs = records(g.parse(&first, FlowSide::Initiator));
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].sni.as_deref(), Some(&b"a.example"[..]));
    assert_eq!(recs[0].ua.as_deref(), Some(&b"Chrome/80"[..]));
    assert_eq!(recs[0].cyu[0].string, "46,SNI-UAID-VER");
    // A 0-RTT-typed long header (0xd3): its version alone, either side.
    let other = records(g.parse(&q046(0xd3, &[1, 2, 3]), FlowSide::Responder));
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].version, u32::from_be_bytes(*b"Q046"));
    assert_eq!((&other[0].sni, &other[0].ua), (&None, &None));
    assert!(other[0].cyu.is_empty());
    // Short headers (0x40) have no record.
    assert!(
        g.parse(&[0x40, 1, 2, 3, 4, 5], FlowSide::Responder)
            .is_empty()
    );
    assert!(!probe(&[0x40, 1, 2, 3, 4, 5]));
}

#[test]
fn public_header_without_version_is_short() {
    let mut g = Gquic::default();
    let mut pkt = public(b"Q043", &stream(&chlo43()));
    pkt[0] = 0x08; // connection id, no version
    pkt.drain(9..13);
    assert!(!probe(&pkt));
    assert!(g.parse(&pkt, FlowSide::Initiator).is_empty());
}

#[test]
fn a_frame_that_does_not_fit_is_error_on_data() {
    let mut g = Gquic::default();
    // Before Q039 the stream length was little-endian: read big-endian,
    // 0x0405 bytes are not there.
    let mut frame = vec![0xa0, 0x01, 0x04, 0x05];
    frame.extend_from_slice(&chlo43());
    let recs = records(g.parse(&public(b"Q025", &frame), FlowSide::Initiator));
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].sni, None);
    assert_eq!(events(&mut g), [("error_on_data", Some(0))]);
    // The next packet is read again (tx 1); an unknown frame type takes
    // the rest of the packet.
    let recs = records(g.parse(&public(b"Q025", &[0x40, 0xff, 0xff]), FlowSide::Initiator));
    assert_eq!(recs.len(), 1);
    assert!(events(&mut g).is_empty());
}

#[test]
fn unknown_tags_or_trailing_bytes_leave_the_message_unread() {
    for m in [
        message(b"CHLO", &[(b"SNI\0", b"x.example"), (b"SRBF", b"1")]),
        message(b"REJ\0", &[(b"SNI\0", b"x.example")]),
        {
            let mut m = message(b"CHLO", &[(b"SNI\0", b"x.example")]);
            m.push(0);
            m
        },
    ] {
        let mut g = Gquic::default();
        let recs = records(g.parse(&public(b"Q043", &stream(&m)), FlowSide::Initiator));
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].sni, None);
        assert!(recs[0].cyu.is_empty());
        assert!(events(&mut g).is_empty());
    }
}

#[test]
fn caps_tags_values_and_packets() {
    // Too many tags: the message is not read.
    let many: Vec<(&[u8; 4], &[u8])> = (0..=MAX_TAGS).map(|_| (b"PAD\0", &b""[..])).collect();
    let mut g = Gquic::default();
    let pkt = public(b"Q043", &stream(&message(b"CHLO", &many)));
    let recs = records(g.parse(&pkt, FlowSide::Initiator));
    assert!(recs[0].cyu.is_empty());
    assert_eq!(events(&mut g), [("too_many_tags", Some(0))]);
    // A long SNI is cut.
    let long = vec![b'a'; MAX_VALUE + 10];
    let pkt = public(b"Q043", &stream(&message(b"CHLO", &[(b"SNI\0", &long)])));
    let recs = records(g.parse(&pkt, FlowSide::Initiator));
    assert_eq!(recs[0].sni.as_ref().map(Vec::len), Some(MAX_VALUE));
    assert_eq!(events(&mut g), [("long_tag_value", Some(1))]);
    // Packets per side.
    let mut g = Gquic::default();
    let pkt = public(b"Q043", &[0x01]);
    let n: usize = (0..MAX_PACKETS + 5)
        .map(|_| g.parse(&pkt, FlowSide::Initiator).len())
        .sum();
    assert_eq!(n, MAX_PACKETS as usize);
    assert_eq!(events(&mut g), [("too_many_packets", None)]);
    assert_eq!(g.parse(&pkt, FlowSide::Responder).len(), 1);
}

/// A Q050 Initial from side `k` (keys of the client's `dcid`) carrying
/// `frames`, protected as IETF Initials are.
fn q050_initial(k: usize, dcid: &[u8], frames: &[u8]) -> Vec<u8> {
    let p = VersionParams {
        salt: SALT_Q050,
        v2_labels: false,
        initial_type: 0,
    };
    let keys = initial_keys(&p, dcid, k).unwrap();
    let mut hdr = vec![0xc3];
    hdr.extend_from_slice(b"Q050");
    hdr.push(dcid.len() as u8);
    hdr.extend_from_slice(dcid);
    hdr.extend_from_slice(&[0, 0]); // no SCID, no token
    let mut payload = frames.to_vec();
    payload.resize(payload.len().max(40), 0);
    let len = 4 + payload.len() + 16;
    hdr.extend_from_slice(&(0x4000u16 | len as u16).to_be_bytes());
    let pn_offset = hdr.len();
    hdr.extend_from_slice(&[0, 0, 0, 1]);
    let mut nonce = keys.iv;
    nonce[11] ^= 1;
    let tag = keys
        .aead
        .encrypt_inout_detached(&nonce.into(), &hdr, payload.as_mut_slice().into())
        .unwrap();
    let mut pkt = hdr;
    pkt.extend(payload);
    pkt.extend_from_slice(&tag);
    let sample: [u8; 16] = pkt[pn_offset + 4..pn_offset + 20].try_into().unwrap();
    let mut mask = aes::Block::from(sample);
    keys.hp.encrypt_block(&mut mask);
    pkt[0] ^= mask[0] & 0x0f;
    for i in 0..4 {
        pkt[pn_offset + i] ^= mask[1 + i];
    }
    pkt
}

#[test]
fn q050_initials_decrypt_with_their_salt() {
    let dcid = [7u8; 8];
    let chlo = message(
        b"CHLO",
        &[(b"SNI\0", b"q50.example"), (b"UAID", b"Chrome/83")],
    );
    // Q050's CRYPTO frame: type 0x08, offset, length (varints).
    let mut frames = vec![0x08, 0x00, 0x40 | (chlo.len() >> 8) as u8, chlo.len() as u8];
    frames.extend_from_slice(&chlo);
    let client = q050_initial(0, &dcid, &frames);
    assert!(probe(&client));
    let mut g = Gquic::default();
    let recs = records(g.parse(&client, FlowSide::Initiator));
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].version, Q050);
    assert_eq!(recs[0].sni.as_deref(), Some(&b"q50.example"[..]));
    assert_eq!(recs[0].ua.as_deref(), Some(&b"Chrome/83"[..]));
    assert!(recs[0].cyu.is_empty(), "no CYU for Q050");
    // The server's Initial uses the server keys of the same id.
    let server = q050_initial(1, &dcid, &[0x01]);
    assert_eq!(records(g.parse(&server, FlowSide::Responder)).len(), 1);
    assert!(events(&mut g).is_empty());
    // One protected with other keys does not decrypt.
    let stray = q050_initial(1, &[8u8; 8], &[0x01]);
    assert_eq!(records(g.parse(&stray, FlowSide::Responder)).len(), 1);
    assert_eq!(events(&mut g), [("failed_decrypt", Some(2))]);
}

#[test]
fn probe_wants_a_google_version() {
    assert!(probe(&public(b"Q024", &[])));
    assert!(!probe(&public(b"T050", &[])));
    assert!(!probe(&public(b"\0\0\0\x01", &[])));
    assert!(!probe(&[0x09, 1, 2, 3]));
    assert!(!probe(b""));
    let mut ietf = vec![0xc0, 0, 0, 0, 1, 0, 0, 0, 0x41, 0];
    ietf.resize(1200, 0);
    assert!(!probe(&ietf));
}

/// Every prefix of every packet kind parses without panicking.
#[test]
fn truncated_packets_never_panic() {
    let pkts = [
        public(b"Q043", &stream(&chlo43())),
        q046(0xc3, &stream(&chlo43())),
        q050_initial(0, &[1; 8], &stream(&chlo43())),
    ];
    for pkt in &pkts {
        for n in 0..=pkt.len() {
            let mut g = Gquic::default();
            let _ = g.parse(&pkt[..n], FlowSide::Initiator);
            let _ = probe(&pkt[..n]);
        }
    }
}
