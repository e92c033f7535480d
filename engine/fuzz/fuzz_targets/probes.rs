//! Every parser's content probe on every prefix of one input (up to 512
//! bytes), from either side, as the driver asks while a flow's first bytes
//! accumulate; the probes of the parsers that have no target of their own
//! (NTP, Telnet) and the mid-connection and gQUIC probes are reached only
//! here. Besides not crashing, the probes of the NTP and Telnet parsers
//! are held to their bound: neither answers `NeedMore` once it has the
//! bytes it decides on (NTP's 48-byte header, Telnet's first 64 bytes).
#![no_main]

use flowscope_engine::parsers::{
    bittorrent_dht, dcerpc, dhcp, dnp3, ftp, http, http2, ike, krb5, modbus, mqtt, nfs, ntp, pgsql,
    quic, rdp, rfb, sip, smb, smtp, snmp, ssh, telnet, tftp, tls,
};
use flowscope_engine::{FlowSide, Probe};
use libfuzzer_sys::fuzz_target;

type ProbeFn = fn(&[u8], FlowSide) -> Probe;

/// The probes that take a side.
const SIDED: [ProbeFn; 27] = [
    bittorrent_dht::probe,
    dcerpc::probe_tcp,
    dcerpc::probe_udp,
    dhcp::probe,
    dnp3::probe,
    ftp::probe,
    http2::probe,
    ike::probe,
    krb5::probe,
    krb5::probe_tcp,
    modbus::probe,
    mqtt::probe,
    nfs::probe_tcp,
    nfs::probe_udp,
    ntp::probe,
    pgsql::probe,
    quic::probe,
    quic::probe_mid_connection,
    rdp::probe,
    rfb::probe,
    sip::probe,
    smb::probe,
    smtp::probe,
    snmp::probe,
    ssh::probe,
    telnet::probe,
    tftp::probe,
];

/// The longest prefix probed.
const WINDOW: usize = 512;

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, bytes)) = data.split_first() else {
        return;
    };
    let side = if ctl & 1 == 0 {
        FlowSide::Initiator
    } else {
        FlowSide::Responder
    };
    let bytes = &bytes[..bytes.len().min(WINDOW)];
    for n in 0..=bytes.len() {
        let b = &bytes[..n];
        for p in SIDED {
            let _ = p(b, side);
        }
        let _ = http::probe(b);
        let _ = tls::probe(b);
        let _ = quic::gquic::probe(b);
    }
    // Telnet decides within its first bytes: past them it never waits.
    if bytes.len() > telnet::PROBE_BYTES {
        assert_ne!(telnet::probe(bytes, side), Probe::NeedMore, "telnet");
    }
    // NTP needs its 48-byte header and nothing more.
    if bytes.len() >= ntp::HEADER_LEN {
        assert_ne!(ntp::probe(bytes, side), Probe::NeedMore, "ntp");
    }
});
