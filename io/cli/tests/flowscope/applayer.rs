//! Protocol anomalies and Suricata's counters end to end: HTTP anomalies as
//! `anomaly` records of `type: applayer`, a DNS name over 1025 bytes cut
//! and flagged (with its `name_too_long` anomaly), the per-protocol `app_layer` counters, the per-flow cap,
//! and the same bytes for every shard count.

use super::{records, replay_stdout as replay, tmpdir};
use flowscope_engine::unstable::internet_checksum;
use flowscope_engine::{LinkType, Timestamp};
use flowscope_io::{PcapPrecision, PcapWriter};
use serde_json::Value;
use std::path::Path;

const CLIENT: [u8; 4] = [192, 0, 2, 1];
const SERVER: [u8; 4] = [198, 51, 100, 2];
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH_ACK: u8 = 0x18;
const FIN_ACK: u8 = 0x11;

/// A raw IPv4 packet around a transport header and payload.
fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, l4: &[u8]) -> Vec<u8> {
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 1, 0, 0, 64, proto, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let sum = internet_checksum(&p);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(l4);
    p
}

#[allow(clippy::too_many_arguments)]
fn tcp(
    src: [u8; 4],
    sp: u16,
    dst: [u8; 4],
    dp: u16,
    flags: u8,
    seq: u32,
    ack: u32,
    data: &[u8],
) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&sp.to_be_bytes());
    t.extend_from_slice(&dp.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(data);
    ipv4(src, dst, 6, &t)
}

fn udp(src: [u8; 4], sp: u16, dst: [u8; 4], dp: u16, data: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sp.to_be_bytes());
    u.extend_from_slice(&dp.to_be_bytes());
    u.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(data);
    ipv4(src, dst, 17, &u)
}

/// A TCP connection on port 80: handshake, the client's bytes, then the
/// server's (when `server_first`, the other way round), then FINs.
fn connection(sport: u16, req: &[u8], resp: &[u8], server_first: bool) -> Vec<Vec<u8>> {
    let (c, s) = (1000u32, 5000u32);
    let (c1, s1) = (c + 1, s + 1);
    let (c2, s2) = (c1 + req.len() as u32, s1 + resp.len() as u32);
    let client = tcp(CLIENT, sport, SERVER, 80, PSH_ACK, c1, s1, req);
    let server = tcp(SERVER, 80, CLIENT, sport, PSH_ACK, s1, c1, resp);
    let mut p = vec![
        tcp(CLIENT, sport, SERVER, 80, SYN, c, 0, b""),
        tcp(SERVER, 80, CLIENT, sport, SYN | ACK, s, c1, b""),
        tcp(CLIENT, sport, SERVER, 80, ACK, c1, s1, b""),
    ];
    if server_first {
        p.extend([server, client]);
    } else {
        p.extend([client, server]);
    }
    p.extend([
        tcp(CLIENT, sport, SERVER, 80, FIN_ACK, c2, s2, b""),
        tcp(SERVER, 80, CLIENT, sport, FIN_ACK, s2, c2 + 1, b""),
        tcp(CLIENT, sport, SERVER, 80, ACK, c2 + 1, s2 + 1, b""),
    ]);
    p
}

/// A DNS query for a name of 20 labels of 63 bytes (1279 bytes dotted).
fn long_query() -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for _ in 0..20 {
        m.push(63);
        m.extend_from_slice(&[b'a'; 63]);
    }
    m.extend_from_slice(&[0, 0, 16, 0, 1]);
    m
}

fn write_capture(path: &Path) {
    let mut packets = connection(
        40000,
        b"GET /\n \n \n \n \n \n \n \n \n \n\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        false,
    );
    packets.extend(connection(
        40001,
        b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        true,
    ));
    packets.push(udp(CLIENT, 3000, SERVER, 53, &long_query()));
    // An ICMP echo and an ICMPv6 echo: Suricata's flow.icmpv4 / icmpv6.
    packets.push(ipv4(CLIENT, SERVER, 1, &[8, 0, 0xf7, 0xfe, 0, 1, 0, 0]));
    let mut echo6 = vec![0x60, 0, 0, 0, 0, 8, 58, 64];
    echo6.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    echo6.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    echo6.extend_from_slice(&[128, 0, 0, 0, 0, 1, 0, 1]);
    packets.push(echo6);
    let mut w = PcapWriter::new(
        std::fs::File::create(path).unwrap(),
        LinkType::RAW,
        65535,
        PcapPrecision::Micros,
    )
    .unwrap();
    for (i, p) in packets.iter().enumerate() {
        w.write_packet(Timestamp::new(1_700_000_000 + i as u64, 0), p)
            .unwrap();
    }
    w.into_inner().unwrap();
}

#[test]
fn http_anomalies_dns_long_names_and_counters() {
    let dir = tmpdir("applayer");
    let pcap = dir.join("applayer.pcap");
    write_capture(&pcap);
    let inline = replay(&["--shards", "0"], &pcap);
    for shards in ["1", "2", "3"] {
        assert_eq!(
            replay(&["--shards", shards], &pcap),
            inline,
            "--shards {shards}"
        );
    }
    let recs = records(&inline);
    let anomalies: Vec<&Value> = recs
        .iter()
        .filter(|r| r["event_type"] == "anomaly" && r["anomaly"]["type"] == "applayer")
        .collect();
    let events: Vec<(&str, &str)> = anomalies
        .iter()
        .map(|r| {
            let a = &r["anomaly"];
            (
                a["app_proto"].as_str().unwrap(),
                a["event"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("http", "REQUEST_LINE_MISSING_PROTOCOL"),
            ("http", "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST"),
            ("dns", "name_too_long")
        ]
    );
    for a in &anomalies {
        assert_eq!(a["anomaly"]["layer"], "proto_parser");
        assert_eq!(a["tx_id"], 0);
        assert!(a["flow_id"].is_u64());
    }
    let dns = recs.iter().find(|r| r["event_type"] == "dns").unwrap();
    assert_eq!(dns["dns"]["rrname"].as_str().unwrap().len(), 1025);
    assert_eq!(dns["dns"]["rrname_truncated"], true);
    let stats = &recs.last().unwrap()["stats"];
    let app = &stats["app_layer"];
    assert_eq!(app["flow"]["http"], 2);
    assert_eq!(
        app["tx"]["http"], 3,
        "two requests and an unmatched response"
    );
    assert_eq!(app["flow"]["dns_udp"], 1);
    assert_eq!(app["tx"]["dns_udp"], 1);
    assert_eq!(app["error"]["http"]["parser"], 0);
    assert_eq!(app["events"]["http"], 2);
    assert_eq!(app["events"]["dns_udp"], 1);
    assert_eq!(app["events_capped"]["http"], 0);
    assert_eq!(stats["tcp"]["reassembly_gap"], 0);
    assert_eq!(stats["decoder"]["pkts"], stats["packets"]);
    assert_eq!(stats["flow"]["total"], 5);
    assert_eq!(stats["flow"]["icmp"], 2);
    assert_eq!(stats["flow"]["icmpv4"], 1);
    assert_eq!(stats["flow"]["icmpv6"], 1);

    // No events reported: they are counted.
    let cfg = dir.join("no-events.toml");
    std::fs::write(&cfg, "[parsers]\nmax_events_per_flow = 0\n").unwrap();
    let recs = records(&replay(&["-c", cfg.to_str().unwrap()], &pcap));
    assert!(!recs.iter().any(|r| r["anomaly"]["type"] == "applayer"));
    let app = &recs.last().unwrap()["stats"]["app_layer"];
    assert_eq!(
        (
            app["events"]["http"].clone(),
            app["events_capped"]["http"].clone()
        ),
        (Value::from(0), Value::from(2))
    );
}
