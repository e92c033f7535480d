use super::*;

/// A client request (version 4, mode 3) as ntpdate sends it: the 48-byte
/// header with only the first byte and the transmit timestamp set.
fn request(first: u8) -> Vec<u8> {
    let mut p = vec![0u8; HEADER_LEN];
    p[0] = first;
    p[40..48].copy_from_slice(&[0xda, 0x3e, 0x1b, 0x2f, 0x80, 0, 0, 0]);
    p
}

#[test]
fn versions_3_and_4_are_ntp() {
    // LI 0, VN 4, mode 3 (client); LI 0, VN 3, mode 4 (server).
    assert_eq!(probe(&request(0x23), FlowSide::Initiator), Probe::Certain);
    assert_eq!(probe(&request(0x1c), FlowSide::Responder), Probe::Certain);
    // With a version 4 MAC after the header (key id and 16-byte digest).
    let mut with_mac = request(0x23);
    with_mac.extend_from_slice(&[0u8; 20]);
    assert_eq!(probe(&with_mac, FlowSide::Initiator), Probe::Certain);
}

#[test]
fn other_versions_and_short_datagrams_are_not() {
    // VN 2 (mode 7, ntpdc's private requests) and VN 1.
    assert_eq!(probe(&request(0x17), FlowSide::Initiator), Probe::No);
    assert_eq!(probe(&request(0x0b), FlowSide::Initiator), Probe::No);
    assert_eq!(probe(&request(0x23)[..47], FlowSide::Initiator), Probe::No);
    assert_eq!(probe(&[], FlowSide::Initiator), Probe::No);
}

#[test]
fn the_parser_writes_nothing() {
    use crate::session::DatagramParser;
    let mut p = crate::parsers::name_only::NameOnly;
    assert!(p.parse(&request(0x23), FlowSide::Initiator).is_empty());
    assert_eq!(crate::parsers::NtpConfig::default().ports, vec![123]);
}
