use super::*;

#[test]
fn negotiation_is_telnet() {
    // A client's first segment: DO SUPPRESS-GO-AHEAD, WILL TERMINAL-TYPE...
    let client = [0xff, 0xfd, 0x03, 0xff, 0xfb, 0x18, 0xff, 0xfb, 0x1f];
    assert_eq!(probe(&client, FlowSide::Initiator), Probe::Certain);
    // A server's: DO AUTHENTICATION.
    assert_eq!(
        probe(&[0xff, 0xfd, 0x25], FlowSide::Responder),
        Probe::Certain
    );
    // A subnegotiation start.
    assert_eq!(
        probe(&[0xff, 0xfa, 0x18, 0x01], FlowSide::Responder),
        Probe::Certain
    );
}

#[test]
fn terminal_text_is_telnet() {
    let banner = b"\r\n\x1b[1mrouter1\x1b[0m login: ";
    assert_eq!(probe(banner, FlowSide::Responder), Probe::Certain);
    // CR NUL, and a command inside the text.
    let typed = b"ls -l\r\0\xff\xf1";
    assert_eq!(probe(typed, FlowSide::Initiator), Probe::Certain);
    // Text longer than the probe reads: decided on its first 64 bytes.
    let long = [b'a'; 200];
    assert_eq!(probe(&long, FlowSide::Responder), Probe::Certain);
}

#[test]
fn binary_data_is_not_telnet() {
    // A TLS ClientHello's record header.
    assert_eq!(
        probe(&[0x16, 0x03, 0x01, 0x02, 0x00], FlowSide::Initiator),
        Probe::No
    );
    // IAC followed by a data byte that is no command.
    assert_eq!(probe(&[0xff, 0x41], FlowSide::Initiator), Probe::No);
    // Text, then a byte of neither kind.
    assert_eq!(probe(b"login: \x80", FlowSide::Responder), Probe::No);
}

#[test]
fn an_iac_at_the_end_waits_for_more() {
    assert_eq!(probe(&[0xff], FlowSide::Responder), Probe::NeedMore);
    assert_eq!(probe(b"abc\xff", FlowSide::Responder), Probe::NeedMore);
    assert_eq!(probe(&[], FlowSide::Responder), Probe::NeedMore);
}

#[test]
fn the_parser_writes_nothing() {
    use crate::session::SessionParser;
    let mut p = crate::parsers::name_only::NameOnly;
    assert!(p.feed_initiator(&[0xff, 0xfd, 0x03]).is_empty());
    assert!(p.feed_responder(b"login: ").is_empty());
    assert_eq!(crate::parsers::TelnetConfig::default().ports, vec![23]);
}
