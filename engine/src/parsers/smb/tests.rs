//! SMB parser tests: messages built field by field from byte literals.

use super::*;
use crate::session::SessionParser;

/// `payload` behind an NBSS session message header.
pub(super) fn nbss(payload: &[u8]) -> Vec<u8> {
    let n = payload.len();
    let mut v = vec![0, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    v.extend_from_slice(payload);
    v
}

/// An SMB2 header.
struct H {
    cmd: u16,
    msg: u64,
    resp: bool,
    status: u32,
    next: u32,
    tree: u32,
    session: u64,
    async_id: Option<u64>,
}

impl H {
    fn req(cmd: u16, msg: u64) -> H {
        H {
            cmd,
            msg,
            resp: false,
            status: 0,
            next: 0,
            tree: 7,
            session: 0x11,
            async_id: None,
        }
    }

    fn resp(cmd: u16, msg: u64, status: u32) -> H {
        H {
            resp: true,
            status,
            ..H::req(cmd, msg)
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut h = vec![0xfe, b'S', b'M', b'B', 64, 0, 0, 0];
        h.extend_from_slice(&self.status.to_le_bytes());
        h.extend_from_slice(&self.cmd.to_le_bytes());
        h.extend_from_slice(&[1, 0]);
        let flags = u32::from(self.resp) | if self.async_id.is_some() { 2 } else { 0 };
        h.extend_from_slice(&flags.to_le_bytes());
        h.extend_from_slice(&self.next.to_le_bytes());
        h.extend_from_slice(&self.msg.to_le_bytes());
        match self.async_id {
            Some(a) => h.extend_from_slice(&a.to_le_bytes()),
            None => {
                h.extend_from_slice(&[0; 4]);
                h.extend_from_slice(&self.tree.to_le_bytes());
            }
        }
        h.extend_from_slice(&self.session.to_le_bytes());
        h.extend_from_slice(&[0; 16]);
        h
    }

    /// This header and `body`.
    fn with(&self, body: &[u8]) -> Vec<u8> {
        let mut v = self.bytes();
        v.extend_from_slice(body);
        v
    }
}

pub(super) fn txs(out: Vec<L7Message>) -> Vec<SmbTx> {
    out.into_iter()
        .filter_map(|m| match m {
            L7Message::Smb(t) => Some(*t),
            _ => None,
        })
        .collect()
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

const FUID: [u8; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

/// A CREATE request for `name` (options `opts`).
fn create_req(msg: u64, name: &str, opts: u32) -> Vec<u8> {
    let n = utf16(name);
    let mut b = vec![57, 0, 0, 0];
    b.extend_from_slice(&[0; 32]); // impersonation, flags, reserved, access, attributes, share
    b.extend_from_slice(&1u32.to_le_bytes()); // FILE_OPEN
    b.extend_from_slice(&opts.to_le_bytes());
    b.extend_from_slice(&120u16.to_le_bytes());
    b.extend_from_slice(&(n.len() as u16).to_le_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&n);
    H::req(smb2::CREATE, msg).with(&b)
}

/// A successful CREATE response for [`FUID`] of `size` bytes.
fn create_resp(msg: u64, size: u64) -> Vec<u8> {
    let mut b = vec![89, 0, 0, 0, 1, 0, 0, 0];
    // 2021-01-01T00:00:00Z as FILETIME.
    let ft = (1_609_459_200u64 + 11_644_473_600) * 10_000_000;
    for _ in 0..4 {
        b.extend_from_slice(&ft.to_le_bytes());
    }
    b.extend_from_slice(&size.to_le_bytes());
    b.extend_from_slice(&size.to_le_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&FUID);
    H::resp(smb2::CREATE, msg, 0).with(&b)
}

fn close_req(msg: u64) -> Vec<u8> {
    let mut b = vec![24, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&FUID);
    H::req(smb2::CLOSE, msg).with(&b)
}

#[test]
fn probe_wants_nbss_and_an_smb_header() {
    let m = nbss(&H::req(0, 0).bytes());
    assert_eq!(probe(&m, FlowSide::Initiator), Probe::Certain);
    assert_eq!(probe(b"GET / HTTP/1.1\r\n", FlowSide::Initiator), Probe::No);
    assert_eq!(probe(&m[..5], FlowSide::Initiator), Probe::NeedMore);
    let mut bad = m.clone();
    bad[5] = b'X';
    assert_eq!(probe(&bad, FlowSide::Initiator), Probe::No);
    // On NetBIOS: a session request (two 34-byte names) first.
    let mut request = vec![0x81, 0, 0, 68];
    request.extend_from_slice(&[0x20; 68]);
    assert_eq!(probe(&request, FlowSide::Initiator), Probe::NeedMore);
    request.extend_from_slice(&m);
    assert_eq!(probe(&request, FlowSide::Initiator), Probe::Certain);
    // The positive answer, then the server's SMB.
    let answer = [&[0x82, 0, 0, 0][..], &m].concat();
    assert_eq!(probe(&answer, FlowSide::Responder), Probe::Certain);
    // Two NetBIOS messages before any SMB: not taken.
    let twice = [&[0x85, 0, 0, 0, 0x85, 0, 0, 0][..], &m].concat();
    assert_eq!(probe(&twice, FlowSide::Initiator), Probe::No);
}

#[test]
fn negotiation_names_dialects_guids_and_sizes() {
    let mut p = SmbParser::default();
    let mut b = vec![36, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&FUID);
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&[0x02, 0x02, 0x11, 0x03]);
    let mut h = H::req(smb2::NEGOTIATE, 0);
    h.session = 0;
    h.tree = 0;
    assert!(txs(p.feed_initiator(&nbss(&h.with(&b)))).is_empty());
    let mut r = vec![65, 0, 1, 0, 0x11, 0x03, 0, 0];
    r.extend_from_slice(b"fssmb\0\0\0\0\0\0\0\0\0\0\0");
    r.extend_from_slice(&[0; 4]);
    for v in [1u32 << 20, 1 << 23, 1 << 22] {
        r.extend_from_slice(&v.to_le_bytes());
    }
    let out = txs(p.feed_responder(&nbss(&H::resp(smb2::NEGOTIATE, 0, 0).with(&r))));
    assert_eq!(out.len(), 1);
    let t = &out[0];
    assert_eq!((t.id, &*t.dialect, t.command), (1, "3.11", Some(0)));
    assert_eq!(t.status, Some(SmbStatus::Nt(0)));
    let SmbDetail::Negotiate(n) = &t.detail else {
        panic!("{:?}", t.detail)
    };
    assert_eq!(n.dialects, vec![Box::from("2.02"), Box::from("3.11")]);
    assert_eq!(n.client_guid, Some(FUID));
    assert_eq!(&n.server_guid[..5], b"fssmb");
    assert_eq!((n.max_read_size, n.max_write_size), (1 << 23, 1 << 22));
}

#[test]
fn compounded_requests_pair_by_message_id_in_order() {
    let mut p = SmbParser::default();
    let mut c = create_req(5, "dir\\a.txt", 0x1000);
    let len = c.len() as u32;
    c[20..24].copy_from_slice(&len.to_le_bytes());
    c.extend_from_slice(&close_req(6));
    assert!(txs(p.feed_initiator(&nbss(&c))).is_empty());
    let mut r = create_resp(5, 42);
    let len = r.len() as u32;
    r[20..24].copy_from_slice(&len.to_le_bytes());
    r.extend_from_slice(&H::resp(smb2::CLOSE, 6, 0).with(&[60, 0]));
    let out = txs(p.feed_responder(&nbss(&r)));
    assert_eq!(out.len(), 2);
    let SmbDetail::Create(cr) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!(
        (&*cr.filename, cr.delete_on_close, cr.size),
        ("dir\\a.txt", true, 42)
    );
    assert_eq!(cr.created, 1_609_459_200);
    assert_eq!(cr.fuid, FUID.to_vec());
    assert_eq!((out[1].id, out[1].command), (2, Some(smb2::CLOSE)));
    assert_eq!((out[1].session_id, out[1].tree_id), (0x11, 7));
}

#[test]
fn an_async_answer_waits_for_the_final_one() {
    let mut p = SmbParser::default();
    let mut b = vec![57, 0, 0, 0];
    b.extend_from_slice(&0x0006_0194u32.to_le_bytes());
    b.extend_from_slice(&FUID);
    b.extend_from_slice(&[0; 32]);
    p.feed_initiator(&nbss(&H::req(smb2::IOCTL, 9).with(&b)));
    let mut pending = H::resp(smb2::IOCTL, 9, status::PENDING);
    pending.async_id = Some(77);
    let out = txs(p.feed_responder(&nbss(&pending.with(&[9, 0, 0, 0, 0, 0, 0, 0]))));
    assert!(out.is_empty());
    let mut last = H::resp(smb2::IOCTL, 9, 0xc000_0225);
    last.async_id = Some(77);
    let out = txs(p.feed_responder(&nbss(&last.with(&[9, 0, 0, 0, 0, 0, 0, 0]))));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].status, Some(SmbStatus::Nt(0xc000_0225)));
    assert_eq!(out[0].detail, SmbDetail::Ioctl(0x0006_0194));
}

#[test]
fn large_writes_are_skipped_not_buffered() {
    let mut p = SmbParser::default();
    p.feed_initiator(&nbss(&create_req(1, "big.bin", 0)));
    p.feed_responder(&nbss(&create_resp(1, 0)));
    let data = vec![0xab; 200_000];
    for (i, msg) in [2u64, 3].into_iter().enumerate() {
        let mut b = vec![49, 0, 112, 0];
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&((i * data.len()) as u64).to_le_bytes());
        b.extend_from_slice(&FUID);
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&data);
        let m = nbss(&H::req(smb2::WRITE, msg).with(&b));
        for piece in m.chunks(1400) {
            assert!(txs(p.feed_initiator(piece)).is_empty());
            assert!(p.sides[0].buf.len() <= IO_PREFIX);
        }
    }
    let out = txs(p.feed_initiator(&nbss(&close_req(4))));
    assert_eq!(out.len(), 1);
    let SmbDetail::File(f) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!((&*f.filename, &*f.share), ("big.bin", ""));
    assert_eq!(out[0].command, Some(smb2::WRITE));
    assert_eq!(out[0].status, Some(SmbStatus::Nt(0)));
    // The CLOSE itself is answered next.
    let out = txs(p.feed_responder(&nbss(&H::resp(smb2::CLOSE, 4, 0).with(&[60, 0]))));
    assert_eq!(out[0].command, Some(smb2::CLOSE));
}

/// An NTLMSSP AUTHENTICATE message for FSTEST\user on HOST, version 6.1.
fn ntlm_auth() -> Vec<u8> {
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&3u32.to_le_bytes());
    let names = [utf16("FSTEST"), utf16("user"), utf16("HOST")];
    let mut off = 72u32;
    let mut payload = Vec::new();
    // LM and NT responses, empty.
    for _ in 0..2 {
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.extend_from_slice(&off.to_le_bytes());
    }
    for n in &names {
        let l = n.len() as u16;
        m.extend_from_slice(&l.to_le_bytes());
        m.extend_from_slice(&l.to_le_bytes());
        m.extend_from_slice(&off.to_le_bytes());
        off += u32::from(l);
        payload.extend_from_slice(n);
    }
    // The session key: empty, before the names (an offset at the very
    // end is refused, as Suricata refuses it).
    m.extend_from_slice(&[0, 0, 0, 0]);
    m.extend_from_slice(&72u32.to_le_bytes());
    m.extend_from_slice(&0x0200_8215u32.to_le_bytes());
    m.extend_from_slice(&[6, 1, 0xb1, 0x1d, 0, 0, 0, 15]);
    m.extend_from_slice(&payload);
    m
}

#[test]
fn ntlmssp_authenticate_names_the_user() {
    // Behind a NegTokenResp, as the second session setup carries it.
    let mut blob = vec![0xa1, 0x81, 0x00, 0x30, 0x00, 0xa2, 0x00, 0x04, 0x00];
    blob.extend_from_slice(&ntlm_auth());
    let n = ntlmssp::authenticate(&blob).expect("authenticate");
    assert_eq!((&*n.domain, &*n.user, &*n.host), ("FSTEST", "user", "HOST"));
    assert_eq!(n.version, Some((6, 1, 7601, 15)));
    assert!(!n.warning);
    // A NEGOTIATE message is not an identity.
    assert_eq!(ntlmssp::authenticate(b"xxNTLMSSP\0\x01\0\0\0"), None);
    // Offsets past the message are refused.
    let mut bad = ntlm_auth();
    bad[32] = 0xff;
    assert_eq!(ntlmssp::authenticate(&bad), None);
}

#[test]
fn session_setup_takes_the_response_session_id() {
    let mut p = SmbParser::default();
    let auth = ntlm_auth();
    let mut b = vec![25, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 88, 0];
    b.extend_from_slice(&(auth.len() as u16).to_le_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&auth);
    let mut h = H::req(smb2::SESSION_SETUP, 2);
    h.session = 0;
    p.feed_initiator(&nbss(&h.with(&b)));
    let mut r = H::resp(smb2::SESSION_SETUP, 2, 0);
    r.session = 0xabc;
    let out = txs(p.feed_responder(&nbss(&r.with(&[9, 0, 0, 0, 72, 0, 0, 0]))));
    assert_eq!(out[0].session_id, 0xabc);
    let SmbDetail::SessionSetup(s) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!(s.ntlmssp.as_ref().map(|n| &*n.user), Some("user"));
}

#[test]
fn transform_headers_are_counted_and_skipped() {
    let mut p = SmbParser::default();
    let mut t = vec![0xfd, b'S', b'M', b'B'];
    t.extend_from_slice(&[0x55; 100]);
    assert!(txs(p.feed_initiator(&nbss(&t))).is_empty());
    // A keepalive between them.
    p.feed_initiator(&[0x85, 0, 0, 0]);
    p.feed_initiator(&nbss(&t));
    assert_eq!(p.encrypted(), 2);
    assert_eq!(p.next_event().map(|e| e.event), Some("encrypted_session"));
    assert!(p.next_event().is_none());
}

/// An IOCTL FSCTL_PIPE_TRANSCEIVE request or response carrying `pdu`.
fn transceive(msg: u64, resp: bool, pdu: &[u8]) -> Vec<u8> {
    let mut b = vec![if resp { 49 } else { 57 }, 0, 0, 0];
    b.extend_from_slice(&0x0011_c017u32.to_le_bytes());
    b.extend_from_slice(&FUID);
    let off = 64 + if resp { 48u32 } else { 56 };
    if resp {
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&off.to_le_bytes());
        b.extend_from_slice(&(pdu.len() as u32).to_le_bytes());
        b.extend_from_slice(&[0; 8]);
    } else {
        b.extend_from_slice(&off.to_le_bytes());
        b.extend_from_slice(&(pdu.len() as u32).to_le_bytes());
        b.extend_from_slice(&[0; 24]);
    }
    b.extend_from_slice(pdu);
    if resp {
        H::resp(smb2::IOCTL, msg, 0).with(&b)
    } else {
        H::req(smb2::IOCTL, msg).with(&b)
    }
}

/// A little-endian DCE/RPC header of type `t`, call 1, `body` after it.
pub(super) fn pdu(t: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![5, 0, t, 3, 0x10, 0, 0, 0];
    v.extend_from_slice(&((16 + body.len()) as u16).to_le_bytes());
    v.extend_from_slice(&[0, 0, 1, 0, 0, 0]);
    v.extend_from_slice(body);
    v
}

#[test]
fn dcerpc_over_a_pipe_pairs_bind_and_request() {
    let mut p = SmbParser::default();
    p.feed_initiator(&nbss(&create_req(1, "srvsvc", 0)));
    p.feed_responder(&nbss(&create_resp(1, 0)));
    // BIND: one context, srvsvc 3.0, one transfer syntax.
    let mut bind = vec![0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0];
    bind.extend_from_slice(&[
        0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01, 0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1,
        0x88,
    ]);
    bind.extend_from_slice(&[3, 0, 0, 0]);
    bind.extend_from_slice(&[0; 20]);
    p.feed_initiator(&nbss(&transceive(2, false, &pdu(11, &bind))));
    let mut ack = vec![0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, 0, 0];
    ack.extend_from_slice(&[0, 0, 1, 0, 0, 0]);
    ack.extend_from_slice(&[0; 25]);
    let out = txs(p.feed_responder(&nbss(&transceive(2, true, &pdu(12, &ack)))));
    let SmbDetail::Dcerpc(c) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!((c.request, c.response), (Some(11), Some(12)));
    assert_eq!(c.interfaces.len(), 1);
    assert_eq!(c.interfaces[0].ack_result, Some(0));
    assert_eq!(c.interfaces[0].uuid[0], 0x4b);
    // A REQUEST on context 0, opnum 15, and its RESPONSE.
    let mut req = vec![0, 0, 0, 0, 0, 0, 15, 0];
    req.extend_from_slice(&[0; 20]);
    p.feed_initiator(&nbss(&transceive(3, false, &pdu(0, &req))));
    let out = txs(p.feed_responder(&nbss(&transceive(3, true, &pdu(2, &[0; 40])))));
    let SmbDetail::Dcerpc(c) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!((c.opnum, c.req_frags, c.req_stub), (15, 1, 20));
    assert_eq!((c.res_frags, c.res_stub), (1, 32));
    assert_eq!(c.interfaces[0].ack_result, None);
}

#[test]
fn waiting_transactions_are_capped() {
    let cfg = SmbConfig {
        max_tx: 2,
        ..SmbConfig::default()
    };
    let mut p = SmbParser::new(&cfg);
    let mut out = Vec::new();
    for msg in 1..=3 {
        out.extend(txs(p.feed_initiator(&nbss(&H::req(14, msg).with(&[33, 0])))));
    }
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].id, out[0].status), (1, None));
    assert_eq!(
        p.next_event().map(|e| e.event),
        Some("too_many_transactions")
    );
    assert_eq!(txs(p.flow_end()).len(), 2);
}

#[test]
fn status_names_as_suricata_writes_them() {
    assert_eq!(nt_status_name(0xc000_006d), Some("STATUS_LOGON_FAILURE"));
    assert_eq!(
        nt_status_name(0xc000_0034),
        Some("STATUS_OBJECT_NAME_NOT_FOUND")
    );
    assert_eq!(nt_status_name(0x1234_5678), None);
    assert_eq!(command_name(2, 5), Some("SMB2_COMMAND_CREATE"));
    assert_eq!(command_name(2, 99), None);
}

#[test]
fn truncated_and_garbage_input_never_panics() {
    let mut p = SmbParser::default();
    let m = nbss(&create_req(1, "x", 0));
    for cut in 0..m.len() {
        let mut q = SmbParser::default();
        q.feed_initiator(&m[..cut]);
        q.flow_end();
    }
    let mut junk = vec![0, 0, 0, 80, 0xfe, b'S', b'M', b'B'];
    junk.extend((0..200u32).map(|i| (i * 37) as u8));
    p.feed_initiator(&junk);
    p.feed_responder(&junk);
    p.flow_end();
    assert!(p.next_event().is_some());
}

#[test]
fn timed_by_acks_answers_read_together_are_written_in_order() {
    let mut p = SmbParser::default().timed_by_acks();
    assert!(p.wants_acks());
    let a = nbss(&H::req(14, 1).with(&[33, 0]));
    let b = nbss(&H::req(14, 2).with(&[33, 0]));
    p.feed_initiator(&a);
    p.feed_initiator(&b);
    // The second answer comes first; both are acknowledged at once.
    let rb = nbss(&H::resp(14, 2, 0).with(&[9, 0]));
    let ra = nbss(&H::resp(14, 1, 0).with(&[9, 0]));
    assert!(txs(p.feed_responder(&rb)).is_empty());
    assert!(txs(p.feed_responder(&ra)).is_empty());
    assert!(txs(p.acked_responder(rb.len() as u64 - 1)).is_empty());
    let out = txs(p.acked_responder((rb.len() + ra.len()) as u64));
    assert_eq!(out.iter().map(|t| t.id).collect::<Vec<_>>(), vec![1, 2]);
}

proptest::proptest! {
    /// Any segmentation of the same streams (a CREATE, a WRITE past the
    /// kept prefix, a compounded pair, then arbitrary bytes) yields the
    /// same transactions, and the message buffers stay within their caps.
    #[test]
    fn split_invariance_and_bounds(
        cuts in proptest::collection::vec(1usize..700, 1..40),
        tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000),
    ) {
        let mut write = vec![49, 0, 112, 0];
        write.extend_from_slice(&9000u32.to_le_bytes());
        write.extend_from_slice(&[0; 8]);
        write.extend_from_slice(&FUID);
        write.extend_from_slice(&[0; 16]);
        write.extend_from_slice(&[0x5a; 9000]);
        let mut client = [
            nbss(&create_req(1, "f", 0)),
            nbss(&H::req(smb2::WRITE, 2).with(&write)),
            nbss(&close_req(3)),
        ]
        .concat();
        client.extend_from_slice(&tail);
        let server = [
            nbss(&create_resp(1, 0)),
            nbss(&H::resp(smb2::WRITE, 2, 0).with(&[17, 0, 0, 0])),
            nbss(&H::resp(smb2::CLOSE, 3, 0).with(&[60, 0])),
        ]
        .concat();
        let cfg = SmbConfig { max_record: 2048, ..SmbConfig::default() };
        let run = |sizes: &[usize]| {
            let mut p = SmbParser::new(&cfg);
            let mut got = Vec::new();
            for (side, stream) in [(0, &client), (1, &server)] {
                let mut rest = &stream[..];
                for &c in sizes.iter().cycle() {
                    if rest.is_empty() {
                        break;
                    }
                    let n = c.min(rest.len());
                    let out = if side == 0 {
                        p.feed_initiator(&rest[..n])
                    } else {
                        p.feed_responder(&rest[..n])
                    };
                    got.extend(txs(out));
                    assert!(p.sides[side].buf.capacity() <= 2 * IO_PREFIX);
                    rest = &rest[n..];
                }
            }
            got.extend(txs(p.flow_end()));
            assert!(std::iter::from_fn(|| p.next_event()).count() <= MAX_PENDING_EVENTS);
            got
        };
        let want = run(&[usize::MAX]);
        proptest::prop_assert!(want.len() >= 3);
        proptest::prop_assert_eq!(run(&cuts), want);
    }
}

#[test]
fn long_names_are_cut_and_reported() {
    let mut p = SmbParser::default();
    let long = "n".repeat(MAX_NAME + 10);
    p.feed_initiator(&nbss(&create_req(1, &long, 0)));
    assert_eq!(p.next_event().map(|e| e.event), Some("long_name"));
    let out = txs(p.flow_end());
    let SmbDetail::Create(c) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!(c.filename.len(), MAX_NAME);
}

#[test]
fn an_async_read_makes_the_file_transaction_on_its_final_answer() {
    let mut p = SmbParser::default();
    p.feed_initiator(&nbss(&create_req(1, "s.txt", 0)));
    p.feed_responder(&nbss(&create_resp(1, 10)));
    let mut read = vec![49, 0, 0, 0];
    read.extend_from_slice(&10u32.to_le_bytes());
    read.extend_from_slice(&[0; 8]);
    read.extend_from_slice(&FUID);
    read.extend_from_slice(&[0; 17]);
    p.feed_initiator(&nbss(&H::req(smb2::READ, 2).with(&read)));
    let mut pending = H::resp(smb2::READ, 2, status::PENDING);
    pending.async_id = Some(4);
    p.feed_responder(&nbss(&pending.with(&[9, 0, 0, 0, 0, 0, 0, 0])));
    let mut last = H::resp(smb2::READ, 2, 0);
    last.async_id = Some(4);
    let mut data = vec![17, 0, 80, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    data.extend_from_slice(b"hello smb\n");
    p.feed_responder(&nbss(&last.with(&data)));
    let out = txs(p.feed_initiator(&nbss(&close_req(3))));
    let SmbDetail::File(f) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    // The async answer names no tree: no share, tree 0 (as Suricata).
    assert_eq!((&*f.filename, &*f.share, out[0].tree_id), ("s.txt", "", 0));
    assert_eq!(out[0].command, Some(smb2::READ));
}
