//! SMB parser tests, SMB1 and security blobs: messages built field by
//! field from byte literals.

use super::tests::{nbss, pdu, txs};
use super::*;
use crate::session::SessionParser;

#[test]
fn smb1_negotiation_and_tree_connect() {
    let mut p = SmbParser::default();
    p.feed_initiator(&smb1_msg(
        0x72,
        false,
        3,
        &[],
        b"\x02NT LANMAN 1.0\0\x02NT LM 0.12\0",
    ));
    let out = txs(p.feed_responder(&smb1_msg(0x72, true, 3, &[1, 0], &[])));
    assert_eq!((&*out[0].dialect, out[0].version), ("NT LM 0.12", 1));
    assert_eq!((out[0].session_id, out[0].tree_id), (0, 0));
    let words = [0xff, 0, 0, 0, 0, 0, 1, 0];
    p.feed_initiator(&smb1_msg(
        0x75,
        false,
        3,
        &words,
        b"\0\\\\srv\\IPC$\0?????\0",
    ));
    let out = txs(p.feed_responder(&smb1_msg(0x75, true, 3, &[0xff, 0, 0, 0, 0, 0], b"IPC\0")));
    assert_eq!(out[0].tree_id, 9);
    let SmbDetail::TreeConnect(t) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!((&*t.share, t.is_pipe), ("\\srv\\IPC$", true));
    assert_eq!(t.req_service.as_deref(), Some("?????"));
    assert_eq!(
        command_name(1, 0x75),
        Some("SMB1_COMMAND_TREE_CONNECT_ANDX")
    );
}

#[test]
fn smb1_session_setup_reads_as_suricata_does() {
    let setup = |words: &[u8], bytes: &[u8]| {
        let mut v = vec![0xff, b'S', b'M', b'B', 0x73, 0, 0, 0, 0, 0x18];
        v.extend_from_slice(&0x4001u16.to_le_bytes());
        v.extend_from_slice(&[0; 14]);
        v.extend_from_slice(&[1, 0, 0, 0, 5, 0]);
        v.push((words.len() / 2) as u8);
        v.extend_from_slice(words);
        v.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        v.extend_from_slice(bytes);
        nbss(&v)
    };
    // Extended security (12 words): an empty blob, then the host strings.
    let mut w12 = [0u8; 24];
    w12[0] = 0xff;
    let mut p = SmbParser::default();
    p.feed_initiator(&setup(&w12, b"Unix\0Samba\0"));
    let out = txs(p.flow_end());
    let SmbDetail::SessionSetup(s) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!(s.request_host, Some(("Unix".into(), "Samba".into())));
    // 13 words (passwords, no blob): Suricata reads the password length
    // as the blob's and finds no strings after it.
    let mut w13 = [0u8; 26];
    w13[0] = 0xff;
    w13[14] = 24;
    let mut bytes = vec![0x11; 24];
    bytes.extend_from_slice(b"user\0DOM\0Windows 2000 2195\0Windows 2000 5.0\0");
    let mut p = SmbParser::default();
    p.feed_initiator(&setup(&w13, &bytes));
    let out = txs(p.flow_end());
    let SmbDetail::SessionSetup(s) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_ne!(
        s.request_host.as_ref().map(|h| &*h.0),
        Some("Windows 2000 2195")
    );
}

/// A BER element: `tag`, its length (long form past 127), `content`.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let n = content.len();
    let mut v = vec![tag];
    if n < 0x80 {
        v.push(n as u8);
    } else {
        v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    v.extend_from_slice(content);
    v
}

#[test]
fn spnego_kerberos_names_the_ticket() {
    let int = |n: u8| tlv(0x02, &[n]);
    let sname = tlv(
        0x30,
        &[
            tlv(0xa0, &int(2)),
            tlv(
                0xa1,
                &tlv(
                    0x30,
                    &[tlv(0x1b, b"cifs"), tlv(0x1b, b"srv.example")].concat(),
                ),
            ),
        ]
        .concat(),
    );
    let enc = tlv(
        0x30,
        &[tlv(0xa0, &int(18)), tlv(0xa2, &tlv(0x04, &[0; 8]))].concat(),
    );
    let ticket = tlv(
        0x61,
        &tlv(
            0x30,
            &[
                tlv(0xa0, &int(5)),
                tlv(0xa1, &tlv(0x1b, b"EXAMPLE.ORG")),
                tlv(0xa2, &sname),
                tlv(0xa3, &enc),
            ]
            .concat(),
        ),
    );
    let ap_req = tlv(
        0x6e,
        &tlv(
            0x30,
            &[
                tlv(0xa0, &int(5)),
                tlv(0xa1, &int(14)),
                tlv(0xa2, &tlv(0x03, &[0, 0, 0, 0, 0])),
                tlv(0xa3, &ticket),
                tlv(0xa4, &enc),
            ]
            .concat(),
        ),
    );
    let krb5_oid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
    let gss = tlv(0x60, &[tlv(0x06, &krb5_oid), vec![1, 0], ap_req].concat());
    // SPNEGO's NegTokenInit listing `mechs`, with the GSS token.
    let spnego = |mechs: Vec<u8>| {
        let init = tlv(
            0x30,
            &[tlv(0xa0, &mechs), tlv(0xa2, &tlv(0x04, &gss))].concat(),
        );
        tlv(
            0x60,
            &[
                tlv(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02]),
                tlv(0xa0, &init),
            ]
            .concat(),
        )
    };
    let id = auth::secblob(&spnego(tlv(0x30, &tlv(0x06, &krb5_oid))));
    let k = id.kerberos.expect("kerberos");
    assert_eq!(&*k.realm, "EXAMPLE.ORG");
    assert_eq!(k.snames, vec![Box::from("cifs"), Box::from("srv.example")]);
    assert_eq!(id.ntlmssp, None);
    // Without the Kerberos mechanism listed, the token is not read as one.
    let other = tlv(0x30, &tlv(0x06, &[0x2b, 0x06, 0x01]));
    assert_eq!(auth::secblob(&spnego(other)).kerberos, None);
}

/// An SMB1 message (NT status codes, 8-bit strings), user 7, tree 9.
fn smb1_msg(cmd: u8, reply: bool, mid: u16, words: &[u8], bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![0xff, b'S', b'M', b'B', cmd, 0, 0, 0, 0];
    v.push(if reply { 0x98 } else { 0x18 });
    v.extend_from_slice(&0x4001u16.to_le_bytes());
    v.extend_from_slice(&[0; 12]);
    v.extend_from_slice(&[9, 0, 1, 0, 7, 0]);
    v.extend_from_slice(&mid.to_le_bytes());
    v.push((words.len() / 2) as u8);
    v.extend_from_slice(words);
    v.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    v.extend_from_slice(bytes);
    nbss(&v)
}

#[test]
fn smb1_creates_and_writes_a_file() {
    let mut p = SmbParser::default();
    let mut create = [0u8; 48];
    create[0] = 0xff;
    create[35] = 5; // FILE_OVERWRITE_IF
    p.feed_initiator(&smb1_msg(0xa2, false, 1, &create, b"\\f.txt\0"));
    let mut answer = [0u8; 68];
    answer[0] = 0xff;
    answer[5..7].copy_from_slice(&[0x8b, 0xfe]);
    let ft = (1_609_459_200u64 + 11_644_473_600) * 10_000_000;
    answer[11..19].copy_from_slice(&ft.to_le_bytes());
    answer[47..55].copy_from_slice(&4096u64.to_le_bytes());
    let out = txs(p.feed_responder(&smb1_msg(0xa2, true, 1, &answer, &[])));
    let SmbDetail::Create(c) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!((&*c.filename, c.disposition, c.size), ("\\f.txt", 5, 4096));
    assert_eq!(
        (c.created, c.fuid.as_slice()),
        (1_609_459_200, &[0x8b, 0xfe][..])
    );
    // Two WRITE_ANDXs: one transaction, finished by the CLOSE.
    let mut write = [0u8; 24];
    write[0] = 0xff;
    write[4..6].copy_from_slice(&[0x8b, 0xfe]);
    for mid in [2, 3] {
        let out = txs(p.feed_initiator(&smb1_msg(0x2f, false, mid, &write, b"data")));
        assert!(out.is_empty());
    }
    let out = txs(p.feed_initiator(&smb1_msg(0x04, false, 4, &[0x8b, 0xfe, 0, 0, 0, 0], &[])));
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].command, out[0].status), (Some(0x2f), None));
    assert_eq!((out[0].session_id, out[0].tree_id), (0, 0));
    let SmbDetail::File(f) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!(
        (&*f.filename, f.fuid.as_slice()),
        ("\\f.txt", &[0x8b, 0xfe][..])
    );
    let out = txs(p.feed_responder(&smb1_msg(0x04, true, 4, &[], &[])));
    assert_eq!(out[0].command, Some(0x04));
}

/// A TRANS TransactNmPipe on FID 0x1234 carrying `data`, or its response.
fn transact_nmpipe(reply: bool, data: &[u8]) -> Vec<u8> {
    let n = (data.len() as u16).to_le_bytes();
    if reply {
        // Ten words; the data right after the byte count (offset 55).
        let mut w = [0u8; 20];
        w[12..14].copy_from_slice(&n);
        w[14..16].copy_from_slice(&55u16.to_le_bytes());
        return smb1_msg(0x25, true, 3, &w, data);
    }
    // Sixteen words (two setup words); the data after the pipe's name.
    let mut w = [0u8; 32];
    w[22..24].copy_from_slice(&n);
    w[24..26].copy_from_slice(&74u16.to_le_bytes());
    w[26] = 2;
    w[28..30].copy_from_slice(&0x26u16.to_le_bytes());
    w[30..32].copy_from_slice(&0x1234u16.to_le_bytes());
    let mut b = b"\\PIPE\\\0".to_vec();
    b.extend_from_slice(data);
    smb1_msg(0x25, false, 3, &w, &b)
}

#[test]
fn dcerpc_over_an_smb1_pipe_in_trans() {
    let mut p = SmbParser::default();
    // NT_CREATE_ANDX of \srvsvc, answered with FID 0x1234.
    let mut w = [0u8; 48];
    w[0] = 0xff;
    p.feed_initiator(&smb1_msg(0xa2, false, 2, &w, b"\\srvsvc\0"));
    let mut w = [0u8; 68];
    w[0] = 0xff;
    w[5..7].copy_from_slice(&0x1234u16.to_le_bytes());
    p.feed_responder(&smb1_msg(0xa2, true, 2, &w, &[]));
    // A BIND written and its BIND_ACK read in one TRANS.
    let mut bind = vec![0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0];
    bind.extend_from_slice(&[0x4b; 16]);
    bind.extend_from_slice(&[3, 0, 0, 0]);
    bind.extend_from_slice(&[0; 20]);
    p.feed_initiator(&transact_nmpipe(false, &pdu(11, &bind)));
    let mut ack = vec![0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, 0, 0];
    ack.extend_from_slice(&[0, 0, 1, 0, 0, 0]);
    ack.extend_from_slice(&[0; 25]);
    let out = txs(p.feed_responder(&transact_nmpipe(true, &pdu(12, &ack))));
    let SmbDetail::Dcerpc(c) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!((out[0].version, out[0].command), (1, Some(0x25)));
    assert_eq!((out[0].session_id, out[0].tree_id), (7, 9));
    assert_eq!((c.request, c.response), (Some(11), Some(12)));
    assert_eq!(c.interfaces.len(), 1);
    assert_eq!(c.interfaces[0].ack_result, Some(0));
    // The same TRANS on a FID that is no DCE/RPC pipe makes no transaction.
    let mut q = SmbParser::default();
    q.feed_initiator(&transact_nmpipe(false, &pdu(11, &bind)));
    assert!(txs(q.feed_responder(&transact_nmpipe(true, &pdu(12, &ack)))).is_empty());
    assert!(txs(q.flow_end()).is_empty());
    // Cut anywhere, it never panics.
    let m = transact_nmpipe(false, &pdu(11, &bind));
    for cut in 0..m.len() {
        let mut q = SmbParser::default();
        q.feed_initiator(&m[..cut]);
        q.flow_end();
    }
}

/// A TREE_CONNECT_ANDX to IPC$ (tree 9) and an NT_CREATE_ANDX of `name`
/// answered with FID `fid`.
fn smb1_open(p: &mut SmbParser, ipc: bool, name: &[u8], fid: u16) {
    let words = [0xff, 0, 0, 0, 0, 0, 1, 0];
    let path: &[u8] = if ipc {
        b"\0\\\\srv\\IPC$\0?????\0"
    } else {
        b"\0\\\\srv\\data\0?????\0"
    };
    let service: &[u8] = if ipc { b"IPC\0" } else { b"A:\0" };
    p.feed_initiator(&smb1_msg(0x75, false, 1, &words, path));
    p.feed_responder(&smb1_msg(0x75, true, 1, &[0xff, 0, 0, 0, 0, 0], service));
    let mut w = [0u8; 48];
    w[0] = 0xff;
    p.feed_initiator(&smb1_msg(0xa2, false, 2, &w, name));
    let mut w = [0u8; 68];
    w[0] = 0xff;
    w[5..7].copy_from_slice(&fid.to_le_bytes());
    p.feed_responder(&smb1_msg(0xa2, true, 2, &w, &[]));
}

/// A WRITE_ANDX of `data` to FID 0x1234 (fourteen words, the data right
/// after the byte count, at offset 63), or a READ_ANDX answering with it
/// (twelve words, offset 59).
fn write_andx(mid: u16, data: &[u8]) -> Vec<u8> {
    let mut w = [0u8; 28];
    w[0] = 0xff;
    w[4..6].copy_from_slice(&0x1234u16.to_le_bytes());
    w[20..22].copy_from_slice(&(data.len() as u16).to_le_bytes());
    w[22..24].copy_from_slice(&63u16.to_le_bytes());
    smb1_msg(0x2f, false, mid, &w, data)
}
fn read_andx(mid: u16, data: &[u8]) -> Vec<u8> {
    let mut w = [0u8; 24];
    w[0] = 0xff;
    w[10..12].copy_from_slice(&(data.len() as u16).to_le_bytes());
    w[12..14].copy_from_slice(&59u16.to_le_bytes());
    smb1_msg(0x2e, true, mid, &w, data)
}
fn read_andx_request(mid: u16) -> Vec<u8> {
    let mut w = [0u8; 24];
    w[0] = 0xff;
    w[4..6].copy_from_slice(&0x1234u16.to_le_bytes());
    smb1_msg(0x2e, false, mid, &w, &[])
}

#[test]
fn dcerpc_over_an_smb1_pipe_in_write_andx_and_read_andx() {
    let mut p = SmbParser::default();
    smb1_open(&mut p, true, b"\\srvsvc\0", 0x1234);
    let mut bind = vec![0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0];
    bind.extend_from_slice(&[0x4b; 16]);
    bind.extend_from_slice(&[3, 0, 0, 0]);
    bind.extend_from_slice(&[0; 20]);
    p.feed_initiator(&write_andx(3, &pdu(11, &bind)));
    p.feed_responder(&smb1_msg(0x2f, true, 3, &[0xff, 0, 0, 0, 0, 0], &[]));
    p.feed_initiator(&read_andx_request(4));
    let mut ack = vec![0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, 0, 0];
    ack.extend_from_slice(&[0, 0, 1, 0, 0, 0]);
    ack.extend_from_slice(&[0; 25]);
    let out = txs(p.feed_responder(&read_andx(4, &pdu(12, &ack))));
    assert_eq!(out.len(), 1, "{out:?}");
    let SmbDetail::Dcerpc(c) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!((out[0].version, out[0].command), (1, Some(0x2f)));
    assert_eq!((out[0].session_id, out[0].tree_id), (7, 9));
    assert_eq!((c.request, c.response), (Some(11), Some(12)));
    assert_eq!(c.interfaces[0].ack_result, Some(0));
    // A REQUEST (opnum 15) written in two fragments, its RESPONSE read.
    let mut first = pdu(0, &[8, 0, 0, 0, 0, 0, 15, 0, 1, 2, 3, 4]);
    first[3] = 1;
    let mut last = pdu(0, &[8, 0, 0, 0, 0, 0, 15, 0, 5, 6, 7, 8]);
    last[3] = 2;
    p.feed_initiator(&write_andx(5, &first));
    p.feed_initiator(&write_andx(6, &last));
    p.feed_initiator(&read_andx_request(7));
    let out = txs(p.feed_responder(&read_andx(
        7,
        &pdu(2, &[4, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9]),
    )));
    let SmbDetail::Dcerpc(c) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!((c.opnum, c.req_frags, c.res_frags), (15, 2, 1));
    assert_eq!(out[0].status, Some(SmbStatus::Nt(0)));
    // A RESPONSE read in two READ_ANDXs, the first answered
    // STATUS_BUFFER_OVERFLOW: one call, answered whole.
    p.feed_initiator(&write_andx(
        8,
        &pdu(0, &[8, 0, 0, 0, 0, 0, 21, 0, 1, 2, 3, 4]),
    ));
    let response = pdu(
        2,
        &[16, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9],
    );
    p.feed_initiator(&read_andx_request(9));
    let mut partial = read_andx(9, &response[..20]);
    partial[9..13].copy_from_slice(&0x8000_0005u32.to_le_bytes());
    assert!(txs(p.feed_responder(&partial)).is_empty());
    p.feed_initiator(&read_andx_request(10));
    let out = txs(p.feed_responder(&read_andx(10, &response[20..])));
    let SmbDetail::Dcerpc(c) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!((c.opnum, c.response, c.res_stub), (21, Some(2), 12));
    // The same writes to a file on a disk share are a file transfer.
    let mut q = SmbParser::default();
    smb1_open(&mut q, false, b"\\f.bin\0", 0x1234);
    q.feed_initiator(&write_andx(3, &pdu(11, &bind)));
    let out = txs(q.flow_end());
    assert!(
        matches!(out.last().map(|t| &t.detail), Some(SmbDetail::File(_))),
        "{out:?}"
    );
}

/// A TRANS2 request (fifteen words, one setup word: `sub`) with its
/// parameters at offset 68 (a name byte and two pad bytes after the byte
/// count, as Windows lays them out) and its data 4-byte aligned after them.
fn trans2(mid: u16, sub: u16, params: &[u8], data: &[u8]) -> Vec<u8> {
    let data_at = 68 + params.len().next_multiple_of(4);
    let mut w = [0u8; 30];
    w[18..20].copy_from_slice(&(params.len() as u16).to_le_bytes());
    w[20..22].copy_from_slice(&68u16.to_le_bytes());
    w[22..24].copy_from_slice(&(data.len() as u16).to_le_bytes());
    w[24..26].copy_from_slice(&(data_at as u16).to_le_bytes());
    w[26] = 1;
    w[28..30].copy_from_slice(&sub.to_le_bytes());
    let mut b = vec![0; 3];
    b.extend_from_slice(params);
    b.resize(data_at - 65, 0);
    b.extend_from_slice(data);
    smb1_msg(0x32, false, mid, &w, &b)
}

#[test]
fn smb1_trans2_set_info_deletes_and_renames() {
    let mut p = SmbParser::default();
    smb1_open(&mut p, false, b"f.txt\0", 0x4321);
    let fid = 0x4321u16.to_le_bytes();
    let set_file = |level: u16| [&fid[..], &level.to_le_bytes(), &[0, 0]].concat();
    let answer =
        |p: &mut SmbParser, mid: u16| txs(p.feed_responder(&smb1_msg(0x32, true, mid, &[], &[])));
    // Delete on close, by FID.
    p.feed_initiator(&trans2(3, 8, &set_file(1013), &[1]));
    let out = answer(&mut p, 3);
    let SmbDetail::Delete(d) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!(out[0].command, Some(0x32));
    assert_eq!((&*d.filename, d.delete, d.trans2), ("f.txt", true, Some(8)));
    assert_eq!(d.fuid, fid);
    // A rename, by FID: replace flag, reserved, root, length, UTF-16 name.
    let new: Vec<u8> = "n.txt".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let rename = [&[0u8; 8][..], &(new.len() as u32).to_le_bytes(), &new].concat();
    p.feed_initiator(&trans2(4, 8, &set_file(1010), &rename));
    let out = answer(&mut p, 4);
    let SmbDetail::Rename(r) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!((&*r.0, &*r.1, &r.2[..]), ("f.txt", "n.txt", &fid[..]));
    // Delete on close by path: no FID.
    let path = [
        &1013u16.to_le_bytes()[..],
        &[0; 4],
        &[b'p', 0, b'.', 0, b'x', 0, 0, 0],
    ]
    .concat();
    p.feed_initiator(&trans2(5, 6, &path, &[1]));
    let out = answer(&mut p, 5);
    let SmbDetail::Delete(d) = &out[0].detail else {
        panic!("{:?}", out[0].detail)
    };
    assert_eq!((&*d.filename, d.trans2, d.fuid.len()), ("p.x", Some(6), 0));
    // Another level (SMB_SET_FILE_BASIC_INFO) makes no transaction; a
    // SET_FILE_INFO whose parameters lie past the message is malformed.
    p.feed_initiator(&trans2(6, 8, &set_file(0x101), &[0; 40]));
    assert!(answer(&mut p, 6).is_empty());
    let mut cut = trans2(7, 8, &set_file(1013), &[1]);
    let at = 4 + 33 + 20;
    cut[at..at + 2].copy_from_slice(&4000u16.to_le_bytes());
    p.feed_initiator(&cut);
    assert_eq!(p.next_event().map(|e| e.event), Some("malformed_data"));
}
