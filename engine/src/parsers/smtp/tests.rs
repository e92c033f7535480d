//! Byte-literal tests of the SMTP parser: transactions as Suricata 7 cuts
//! them, pipelining, multi-line replies, DATA and BDAT, the message's
//! envelope fields, STARTTLS, streams cut anywhere, caps.

use super::*;
use crate::FlowSide;

fn txs(out: &[L7Message]) -> Vec<&SmtpTransaction> {
    out.iter()
        .filter_map(|m| match m {
            L7Message::Smtp(t) => Some(&**t),
            // Only with `tls` are there other messages.
            #[allow(unreachable_patterns)]
            _ => None,
        })
        .collect()
}

fn events(p: &mut SmtpParser) -> Vec<&'static str> {
    std::iter::from_fn(|| p.next_event())
        .map(|e| e.event)
        .collect()
}

/// Feeds a conversation (true: the client), then ends the flow.
fn run(p: &mut SmtpParser, convo: &[(bool, &[u8])]) -> Vec<L7Message> {
    let mut out = Vec::new();
    for &(client, b) in convo {
        out.extend(if client {
            p.feed_initiator(b)
        } else {
            p.feed_responder(b)
        });
    }
    out.extend(p.flow_end());
    out
}

fn b(s: &[u8]) -> Box<[u8]> {
    s.into()
}

const GREETING: (bool, &[u8]) = (false, b"220 mx.example ESMTP ready\r\n");
const EHLO: (bool, &[u8]) = (true, b"EHLO client.example\r\n");
const EHLO_REPLY: (bool, &[u8]) = (
    false,
    b"250-mx.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\n",
);

const MESSAGE: &[u8] = b"From: \"A\" <a@x>\r\nTo: b@y,\r\n  \"Doe, J\" <c@z>\r\nCc: d@w\r\n\
Subject: hi\r\nContent-Type: multipart/mixed; boundary=\"BB\"\r\n\r\npreamble\r\n--BB\r\n\
Content-Type: text/plain\r\n\r\nhello\r\n..dotted\r\n--BB\r\n\
Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Disposition: attachment; filename=\"r\xc3\xa9sum\xc3\xa9.pdf\"\r\n\r\nAAAA\r\n\
--BB\r\nContent-Type: application/zip; name=b.zip\r\n\r\nAAAA\r\n--BB--\r\n.\r\n";

#[test]
fn probe_takes_ehlo_and_smtp_greetings() {
    assert_eq!(probe(b"EHLO x", FlowSide::Initiator), Probe::Certain);
    assert_eq!(probe(b"helo x", FlowSide::Initiator), Probe::Certain);
    assert_eq!(probe(b"EH", FlowSide::Initiator), Probe::NeedMore);
    assert_eq!(probe(b"GET /", FlowSide::Initiator), Probe::No);
    assert_eq!(
        probe(b"220 mx ESMTP\r\n", FlowSide::Responder),
        Probe::Certain
    );
    assert_eq!(probe(b"220-mx", FlowSide::Responder), Probe::NeedMore);
    assert_eq!(
        probe(b"220 FTP ready\r\n", FlowSide::Responder),
        Probe::NeedMore
    );
    assert_eq!(probe(b"SSH-2.0", FlowSide::Responder), Probe::No);
    assert_eq!(probe(b"", FlowSide::Responder), Probe::NeedMore);
}

#[test]
fn one_message_with_envelope_fields() {
    let mut p = SmtpParser::new(SmtpConfig::default());
    let out = run(
        &mut p,
        &[
            GREETING,
            EHLO,
            EHLO_REPLY,
            (true, b"MAIL FROM:<a@x> SIZE=10\r\n"),
            (false, b"250 ok\r\n"),
            (true, b"RCPT TO:<b@y>\r\n"),
            (false, b"250 ok\r\n"),
            (true, b"RCPT TO: <c@z>\r\n"),
            (false, b"250 ok\r\n"),
            (true, b"DATA\r\n"),
            (false, b"354 go\r\n"),
            (true, MESSAGE),
            (false, b"250 queued\r\n"),
            (true, b"QUIT\r\n"),
            (false, b"221 bye\r\n"),
        ],
    );
    let t = txs(&out);
    assert_eq!(t.len(), 2, "{out:?}");
    assert_eq!(t[0].tx_id, 0);
    assert_eq!(t[0].helo.as_deref(), Some(&b"client.example"[..]));
    assert_eq!(t[0].mail_from.as_deref(), Some(&b"<a@x>"[..]));
    assert_eq!(t[0].rcpt_to, vec![b(b"<b@y>"), b(b"<c@z>")]);
    let e = t[0].email.as_ref().unwrap();
    assert_eq!(e.status, MimeStatus::ParseDone);
    assert_eq!(e.from.as_deref(), Some(&b"\"A\" <a@x>"[..]));
    assert_eq!(e.to, vec![b(b"b@y"), b(b"\"Doe, J\" <c@z>")]);
    assert_eq!(e.cc, vec![b(b"d@w")]);
    assert_eq!(
        e.attachment,
        vec![b("r\u{e9}sum\u{e9}.pdf".as_bytes()), b(b"b.zip")]
    );
    // QUIT after a complete transaction starts one of its own.
    assert_eq!(t[1].tx_id, 1);
    assert_eq!(t[1].helo, t[0].helo);
    assert!(t[1].mail_from.is_none() && t[1].email.is_none());
    assert!(events(&mut p).is_empty());
}

#[test]
fn rset_completes_a_transaction_and_pipelined_commands_match() {
    let mut p = SmtpParser::new(SmtpConfig::default());
    let out = run(
        &mut p,
        &[
            GREETING,
            EHLO,
            EHLO_REPLY,
            (true, b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRSET\r\n"),
            (false, b"250 ok\r\n250 ok\r\n250 reset\r\n"),
            // With PIPELINING, DATA's lines follow at once.
            (
                true,
                b"MAIL FROM:<q@x>\r\nRCPT TO:<r@x>\r\nDATA\r\nTo: z@z\r\n\r\nbody\r\n.\r\n",
            ),
            (false, b"250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n"),
        ],
    );
    let t = txs(&out);
    assert_eq!(t.len(), 2, "{out:?}");
    assert_eq!(t[0].mail_from.as_deref(), Some(&b"<a@x>"[..]));
    assert!(t[0].email.is_none());
    assert_eq!(t[1].tx_id, 1);
    assert_eq!(t[1].rcpt_to, vec![b(b"<r@x>")]);
    let e = t[1].email.as_ref().unwrap();
    assert_eq!(
        (e.status, &e.to[..]),
        (MimeStatus::ParseDone, &[b(b"z@z")][..])
    );
}

#[test]
fn bdat_chunks_are_skipped_by_length() {
    let mut p = SmtpParser::new(SmtpConfig::default());
    let out = run(
        &mut p,
        &[
            GREETING,
            EHLO,
            EHLO_REPLY,
            (true, b"MAIL FROM:<a@x>\r\nBDAT 12\r\nRCPT TO:<x>\r\n"),
            (true, b"BDAT 5 LAST\r\n12345"),
            (true, b"RCPT TO:<b@y>\r\n"),
        ],
    );
    let t = txs(&out);
    assert_eq!(t.len(), 1);
    // The chunk's bytes (which look like a command) are not read.
    assert_eq!(t[0].rcpt_to, vec![b(b"<b@y>")]);
}

#[test]
fn an_unfinished_message_is_reported_at_flow_end() {
    let mut p = SmtpParser::new(SmtpConfig::default());
    let out = run(
        &mut p,
        &[
            GREETING,
            EHLO,
            EHLO_REPLY,
            (true, b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"),
            (false, b"250 ok\r\n250 ok\r\n354 go\r\n"),
            (
                true,
                b"From: a@x\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n",
            ),
            (true, b"Content-Type: text/plain; name=x.txt\r\n\r\nabc\r\n"),
        ],
    );
    let t = txs(&out);
    assert_eq!(t.len(), 1);
    let e = t[0].email.as_ref().unwrap();
    assert_eq!(e.status, MimeStatus::BodyStarted);
    assert_eq!(e.from.as_deref(), Some(&b"a@x"[..]));
    // Inside a part: Suricata lists no attachment there.
    assert!(e.attachment.is_empty());
}

#[cfg(feature = "tls")]
#[test]
fn starttls_hands_over_to_tls() {
    let mut p =
        SmtpParser::new(SmtpConfig::default()).with_tls(crate::parsers::TlsConfig::default());
    let mut out = Vec::new();
    for &(client, bytes) in &[
        GREETING,
        EHLO,
        (false, &b"250-mx\r\n250 STARTTLS\r\n"[..]),
        (true, b"STARTTLS\r\n"),
        (false, b"220 2.0.0 Ready to start TLS\r\n"),
    ] {
        out.extend(if client {
            p.feed_initiator(bytes)
        } else {
            p.feed_responder(bytes)
        });
    }
    let t = txs(&out);
    assert_eq!(t.len(), 1, "the STARTTLS transaction is complete");
    assert_eq!(t[0].helo.as_deref(), Some(&b"client.example"[..]));
    // A ClientHello record start: now read as TLS.
    p.feed_initiator(&[0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0, 0, 1, 0]);
    assert_eq!(p.app_proto(), Some("tls".into()));
    let end = p.flow_end();
    assert!(txs(&end).is_empty());
    assert!(
        matches!(&end[..], [L7Message::Tls(h)] if h.from_proto == Some("smtp")),
        "{end:?}"
    );
}

#[test]
fn duplicate_helo_and_long_values_are_events() {
    let cfg = SmtpConfig {
        max_header_value_bytes: 64,
        max_recipients: 1,
        ..SmtpConfig::default()
    };
    let mut p = SmtpParser::new(cfg);
    let long = format!("To: {}\r\n\r\n.\r\n", "x@y, ".repeat(40));
    let out = run(
        &mut p,
        &[
            GREETING,
            EHLO,
            (false, b"250 ok\r\n"),
            (
                true,
                b"HELO other\r\nMAIL FROM:<a@x>\r\nRCPT TO:<1>\r\nRCPT TO:<2>\r\nDATA\r\n",
            ),
            (false, b"250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
            (true, long.as_bytes()),
        ],
    );
    let t = txs(&out);
    assert_eq!(t[0].helo.as_deref(), Some(&b"client.example"[..]));
    assert_eq!(t[0].rcpt_to.len(), 1);
    let to = &t[0].email.as_ref().unwrap().to;
    // 64 bytes kept: `x@y, ` 12 times, then `x@y,`.
    assert_eq!(to.len(), 13, "{to:?}");
    let ev = events(&mut p);
    for name in [
        "DUPLICATE_FIELDS",
        "MAX_RECIPIENTS_EXCEEDED",
        "MIME_LONG_HEADER_VALUE",
    ] {
        assert!(ev.contains(&name), "{name}: {ev:?}");
    }
}

/// Any cut of each side's bytes gives the same transactions.
#[test]
fn streams_cut_anywhere_give_the_same_transactions() {
    let convo: &[(bool, &[u8])] = &[
        GREETING,
        EHLO,
        EHLO_REPLY,
        (true, b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"),
        (false, b"250 ok\r\n250 ok\r\n354 go\r\n"),
        (true, MESSAGE),
        (false, b"250 queued\r\n"),
        (true, b"QUIT\r\n"),
        (false, b"221 bye\r\n"),
    ];
    let whole = run(&mut SmtpParser::new(SmtpConfig::default()), convo);
    assert_eq!(txs(&whole).len(), 2);
    for cut in [1, 2, 3, 7, 20, 64, 200] {
        let mut p = SmtpParser::new(SmtpConfig::default());
        let mut out = Vec::new();
        for &(client, bytes) in convo {
            for c in bytes.chunks(cut) {
                out.extend(if client {
                    p.feed_initiator(c)
                } else {
                    p.feed_responder(c)
                });
            }
        }
        out.extend(p.flow_end());
        assert_eq!(out, whole, "cut {cut}");
    }
}

#[test]
fn overlong_lines_and_gaps_stay_bounded() {
    let mut p = SmtpParser::new(SmtpConfig::default());
    let junk = vec![b'A'; 100_000];
    p.feed_responder(b"220 mx ESMTP\r\n");
    p.feed_initiator(&junk);
    assert!(p.lines[0].buf.capacity() <= 2 * SmtpConfig::default().max_line_bytes);
    p.feed_initiator(b"\r\n");
    p.gap_initiator(10);
    p.feed_initiator(b"tail of a lost line\r\nMAIL FROM:<a@x>\r\n");
    let out = p.flow_end();
    let t = txs(&out);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].mail_from.as_deref(), Some(&b"<a@x>"[..]));
    assert!(events(&mut p).contains(&"TRUNCATED_LINE"));
}

#[test]
fn header_helpers_read_like_suricata() {
    assert_eq!(
        comma_list(b"a@b, \"x, y\" <c@d>,,\t e@f"),
        // Suricata's splitting: an item that starts with a comma keeps it.
        vec![b(b"a@b"), b(b"\"x, y\" <c@d>"), b(b",\t e@f")]
    );
    assert!(comma_list(b"  ").is_empty());
    assert_eq!(
        header_token(b"attachment; filename=\"a;b.pdf\"", b"filename"),
        Some(&b"a;b.pdf"[..])
    );
    assert_eq!(
        header_token(b"text/plain; name=x.txt ", b"name"),
        Some(&b"x.txt"[..])
    );
    assert_eq!(header_token(b"text/plain; filename=x", b"name"), None);
}

proptest::proptest! {
    /// Arbitrary lines on both sides, after a greeting and EHLO or not
    /// (with DATA, BDAT and STARTTLS among them), never panic and keep the
    /// line buffers and the command queue within their caps.
    #[test]
    fn arbitrary_bytes_stay_bounded(
        a in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000),
        b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000),
        hello in proptest::prelude::any::<bool>(),
    ) {
        let cfg = SmtpConfig { max_line_bytes: 100, ..SmtpConfig::default() };
        let mut p = SmtpParser::new(cfg).with_tls_if_built();
        if hello {
            p.feed_responder(GREETING.1);
            p.feed_initiator(b"EHLO x\r\nMAIL FROM:<a>\r\nDATA\r\n");
            p.feed_responder(b"250 ok\r\n250 ok\r\n354 go\r\n");
        }
        p.feed_initiator(&a);
        p.feed_responder(&b);
        p.feed_initiator(&b);
        p.feed_responder(&a);
        for l in &p.lines {
            proptest::prop_assert!(l.buf.len() <= 100);
        }
        proptest::prop_assert!(p.cmds.len() <= MAX_PENDING_COMMANDS);
        let _ = p.flow_end();
        proptest::prop_assert!(std::iter::from_fn(|| p.next_event()).count() <= MAX_QUEUED_EVENTS + 1);
    }
}

impl SmtpParser {
    /// With the TLS handover when `tls` is built.
    fn with_tls_if_built(self) -> Self {
        #[cfg(feature = "tls")]
        return self.with_tls(crate::parsers::TlsConfig::default());
        #[cfg(not(feature = "tls"))]
        self
    }
}
