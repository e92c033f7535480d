//! Every parser's content probe on every prefix of one input (up to 512
//! bytes), from either side, as the driver asks while a flow's first bytes
//! accumulate; the probes of the parsers that have no target of their own
//! (NTP, Telnet) and the mid-connection and gQUIC probes are reached only
//! here. One property is checked: a probe answers `NeedMore` only while
//! its bytes are short of what it needs, so a whole 512-byte window never
//! leaves a probe undecided unless it says why (the driver stops waiting
//! at its probe buffer's end either way).
#![no_main]

use flowscope_engine::parsers::{
    bittorrent_dht, dcerpc, dhcp, dnp3, ftp, http, http2, ike, krb5, modbus, mqtt, nfs, ntp, pgsql,
    quic, rdp, rfb, sip, smb, smtp, snmp, ssh, telnet, tftp, tls,
};
use flowscope_engine::{FlowSide, Probe};
use libfuzzer_sys::fuzz_target;

type ProbeFn = fn(&[u8], FlowSide) -> Probe;

/// The probes that take a side, by protocol.
const SIDED: [(&str, ProbeFn); 27] = [
    ("bittorrent_dht", bittorrent_dht::probe),
    ("dcerpc_tcp", dcerpc::probe_tcp),
    ("dcerpc_udp", dcerpc::probe_udp),
    ("dhcp", dhcp::probe),
    ("dnp3", dnp3::probe),
    ("ftp", ftp::probe),
    ("http2", http2::probe),
    ("ike", ike::probe),
    ("krb5", krb5::probe),
    ("krb5_tcp", krb5::probe_tcp),
    ("modbus", modbus::probe),
    ("mqtt", mqtt::probe),
    ("nfs_tcp", nfs::probe_tcp),
    ("nfs_udp", nfs::probe_udp),
    ("ntp", ntp::probe),
    ("pgsql", pgsql::probe),
    ("quic", quic::probe),
    ("quic_mid", quic::probe_mid_connection),
    ("rdp", rdp::probe),
    ("rfb", rfb::probe),
    ("sip", sip::probe),
    ("smb", smb::probe),
    ("smtp", smtp::probe),
    ("snmp", snmp::probe),
    ("ssh", ssh::probe),
    ("telnet", telnet::probe),
    ("tftp", tftp::probe),
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
        for (_, p) in SIDED {
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
