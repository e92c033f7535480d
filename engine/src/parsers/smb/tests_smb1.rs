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
