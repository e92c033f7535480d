//! Byte-literal tests of the FTP parser: transactions as Suricata groups
//! them (multi-line replies, preliminary replies, replies nobody asked
//! for, pipelined commands), the data connection ports, the transfer
//! announcements, AUTH TLS, and the caps.

use super::*;
use crate::FlowSide;

fn parser() -> FtpParser {
    FtpParser::new(FtpConfig::default())
}

/// Client bytes, acknowledged at once.
fn c(p: &mut FtpParser, b: &[u8]) -> Vec<L7Message> {
    let mut m = p.feed_initiator(b);
    let end = u64::MAX;
    m.extend(p.acked_initiator(end));
    m
}

/// Server bytes, acknowledged at once.
fn r(p: &mut FtpParser, b: &[u8]) -> Vec<L7Message> {
    let mut m = p.feed_responder(b);
    let end = u64::MAX;
    m.extend(p.acked_responder(end));
    m
}

fn txs(msgs: Vec<L7Message>) -> Vec<FtpTransaction> {
    msgs.into_iter()
        .filter_map(|m| match m {
            L7Message::Ftp(t) => Some(*t),
            _ => None,
        })
        .collect()
}

fn replies(t: &FtpTransaction) -> Vec<&[u8]> {
    t.replies.iter().map(|r| &r[..]).collect()
}

#[test]
fn probe_takes_suricata_patterns_and_waits_after_other_greetings() {
    use FlowSide::{Initiator, Responder};
    assert_eq!(probe(b"USER anonymous\r\n", Initiator), Probe::Certain);
    assert_eq!(probe(b"user x", Initiator), Probe::Certain);
    assert_eq!(probe(b"FEAT\r\n", Initiator), Probe::Certain);
    assert_eq!(probe(b"AUTH TLS\r\n", Initiator), Probe::Certain);
    assert_eq!(probe(b"US", Initiator), Probe::NeedMore);
    assert_eq!(probe(b"GET / HTTP/1.1\r\n", Initiator), Probe::No);
    assert_eq!(probe(b"220 (vsFTPd 3.0.3)\r\n", Responder), Probe::Certain);
    assert_eq!(probe(b"220 ProFTPD ready\r\n", Responder), Probe::NeedMore);
}

#[test]
fn greeting_command_and_reply_make_transactions() {
    let mut p = parser();
    let t = txs(r(&mut p, b"220 (vsFTPd 3.0.3)\r\n"));
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].tx_id, 0);
    assert_eq!(t[0].command, None);
    assert_eq!(replies(&t[0]), [&b"220 (vsFTPd 3.0.3)"[..]]);
    assert!(t[0].reply_received);
    assert!(txs(c(&mut p, b"USER anonymous\r\n")).is_empty());
    let t = txs(r(&mut p, b"331 Please specify the password.\r\n"));
    assert_eq!(t[0].tx_id, 1);
    assert_eq!(t[0].command, Some("USER"));
    assert_eq!(t[0].command_data.as_deref(), Some(&b"anonymous"[..]));
    assert!(!t[0].command_truncated);
}

#[test]
fn multi_line_replies_follow_the_chunks() {
    let mut p = parser();
    c(&mut p, b"HELP SITE\r\n");
    let t = txs(r(&mut p, b"214-The following commands are recognized.\r\n"));
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].command, Some("HELP"));
    // The rest comes in a later chunk: a transaction of its own.
    let t = txs(r(&mut p, b" ABOR ACCT\r\n XPWD\r\n214 Help OK.\r\n"));
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].command, None);
    assert_eq!(replies(&t[0]).len(), 3);
    // Whole, it is one.
    let mut p = parser();
    c(&mut p, b"FEAT\r\n");
    let t = txs(r(&mut p, b"211-Features:\r\n EPSV\r\n211 End\r\n"));
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].command, None, "FEAT is not in Suricata's table");
}

#[test]
fn preliminary_replies_keep_the_transaction_open() {
    let mut p = parser();
    c(&mut p, b"PASV\r\n");
    let t = txs(r(
        &mut p,
        b"227 Entering Passive Mode (90,130,70,73,95,203).\r\n",
    ));
    assert_eq!(t[0].dynamic_port, Some(24523));
    assert_eq!(t[0].mode, None);
    let m = c(&mut p, b"RETR 1MB.zip\r\n");
    assert_eq!(
        m,
        [L7Message::FtpTransfer(Box::new(FtpTransfer {
            command: "RETR",
            filename: b"1MB.zip"[..].into(),
            port: 24523,
            active: false,
        }))]
    );
    assert!(txs(r(&mut p, b"150 Opening BINARY mode.\r\n")).is_empty());
    let t = txs(r(&mut p, b"226 Transfer complete.\r\n"));
    assert_eq!(t[0].command, Some("RETR"));
    assert_eq!(t[0].replies.len(), 2);
}

#[test]
fn pipelined_commands_take_replies_in_order() {
    let mut p = parser();
    c(&mut p, b"TYPE I\r\nSIZE a.txt\r\n");
    let t = txs(r(&mut p, b"200 ok\r\n"));
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].command, Some("TYPE"));
    let t = txs(r(&mut p, b"213 5\r\n"));
    assert_eq!(t[0].command, Some("SIZE"));
    // Unanswered at the end.
    c(&mut p, b"NOOP\r\n");
    let t = txs(p.flow_end());
    assert_eq!(t[0].command, Some("NOOP"));
    assert!(!t[0].reply_received);
}

#[test]
fn an_unknown_line_after_a_command_forgets_its_name() {
    let mut p = parser();
    c(&mut p, b"MODE x +iw\r\nJOIN #c\r\n");
    let t = txs(r(&mut p, b"302 x\r\n"));
    assert_eq!(t[0].command, None);
    assert_eq!(t[0].command_data.as_deref(), Some(&b"ODE x +iw"[..]));
}

#[test]
fn active_mode_ports() {
    let mut p = parser();
    c(&mut p, b"PORT 192,168,0,2,7,138\r\n");
    let t = txs(r(&mut p, b"200 PORT command successful.\r\n"));
    assert_eq!(t[0].dynamic_port, Some(1930));
    assert_eq!(t[0].mode, Some(FtpMode::Active));
    let m = c(&mut p, b"STOR up.bin\r\n");
    assert!(matches!(&m[0], L7Message::FtpTransfer(t) if t.active && t.port == 1930));
    assert_eq!(active_eprt(b"EPRT |2|::1|5282|"), Some(5282));
    assert_eq!(
        epsv_reply(b"229 Entering Extended Passive Mode (|||6446|)"),
        Some(6446)
    );
    assert_eq!(active_port(b"PORT 1,2,3,4,300,1"), None);
    assert_eq!(pasv_reply(b"227 Entering Passive Mode 1,2,3,4,5,6"), None);
    // A bad PORT completes the transaction without its reply line.
    let mut p = parser();
    c(&mut p, b"PORT nonsense\r\n");
    let t = txs(r(&mut p, b"500 Illegal PORT command.\r\n"));
    assert_eq!(t[0].mode, Some(FtpMode::Passive));
    assert!(t[0].replies.is_empty());
}

#[test]
fn retr_without_a_port_stops_the_parser() {
    let mut p = parser();
    c(&mut p, b"USER a\r\n");
    r(&mut p, b"+OK\r\n");
    assert!(c(&mut p, b"RETR 2\r\n").is_empty());
    assert!(txs(r(&mut p, b"+OK message follows\r\n")).is_empty());
    let t = txs(p.flow_end());
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].command, Some("RETR"));
    assert!(!t[0].reply_received);
}

#[test]
fn lines_cut_anywhere_give_the_same_transactions() {
    let client = b"USER anonymous\r\nPASS x@y\r\n";
    let server = b"331 Please specify the password.\r\n";
    for cut in 1..client.len() {
        let mut p = parser();
        c(&mut p, &client[..cut]);
        c(&mut p, &client[cut..]);
        let t = txs(r(&mut p, server));
        assert_eq!(t.len(), 1, "cut {cut}");
        assert_eq!(t[0].command, Some("USER"));
    }
}

#[test]
fn caps_hold_and_are_reported() {
    let cfg = FtpConfig {
        max_line_bytes: 16,
        max_reply_lines: 2,
        max_pending: 2,
        ..FtpConfig::default()
    };
    let mut p = FtpParser::new(cfg.clone());
    c(&mut p, b"USER a-very-long-user-name-indeed\r\n");
    let t = txs(r(&mut p, b"331 a\r\n a\r\n b\r\n"));
    assert!(t[0].command_truncated);
    assert_eq!(t[0].command_data.as_deref(), Some(&b"a-very-long"[..]));
    assert_eq!(t[0].replies.len(), 2);
    assert!(t[0].reply_truncated);
    let names: Vec<_> = std::iter::from_fn(|| p.next_event())
        .map(|e| e.event)
        .collect();
    assert_eq!(names, ["request_command_too_long", "too_many_reply_lines"]);
    let mut p = FtpParser::new(cfg);
    c(&mut p, b"NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n");
    assert_eq!(txs(p.flow_end()).len(), 2);
    assert_eq!(
        p.next_event().map(|e| e.event),
        Some("too_many_transactions")
    );
}

#[cfg(feature = "tls")]
#[test]
fn auth_tls_hands_over_to_tls() {
    let mut p = parser();
    c(&mut p, b"AUTH TLS\r\n");
    let t = txs(r(&mut p, b"234 Proceed with negotiation.\r\n"));
    assert_eq!(t[0].command, Some("AUTH TLS"));
    assert_eq!(
        p.app_proto().map(|a| (a.name, a.orig)),
        Some(("tls", Some("ftp")))
    );
    // Bytes after the switch are TLS's, not FTP lines.
    assert!(txs(c(&mut p, b"USER x\r\n")).is_empty());
}

#[test]
fn hostile_bytes_stay_within_the_caps() {
    let mut p = parser();
    let junk: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
    for (i, b) in junk.chunks(997).enumerate() {
        c(&mut p, b);
        p.feed_responder(b);
        if i % 3 == 0 {
            p.acked_responder(i as u64 * 997);
        }
    }
    assert!(p.lines.iter().all(|l| l.buf.len() <= DEFAULT_MAX_LINE));
    assert!(p.txs.len() <= DEFAULT_MAX_PENDING);
    let _ = p.flow_end();
}

#[test]
fn replies_are_read_once_acknowledged() {
    // Suricata's order: the reply is read when the client acknowledges
    // it, before the client's unacknowledged next line.
    let mut p = parser();
    c(&mut p, b"USER x +iw\r\n");
    assert!(p.feed_initiator(b"NICK y\r\n").is_empty());
    assert!(p.feed_responder(b":srv NOTICE\r\n").is_empty());
    let t = txs(p.acked_responder(14));
    assert_eq!(t[0].command, Some("USER"));
    assert_eq!(t[0].command_data.as_deref(), Some(&b"x +iw"[..]));
    // Held bytes are read at the end.
    p.feed_responder(b"200 late\r\n");
    let t = txs(p.flow_end());
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].command, None);
    assert_eq!(replies(&t[0]), [&b"200 late"[..]]);
}
