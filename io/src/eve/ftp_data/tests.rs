//! The `ftp-data` stage on hand-written lines: markers out, the data
//! connection relabelled with its `ftp_data` record, the caps.

use super::*;

const FLOW: &str = r#"{"timestamp":"2019-03-14T19:04:03.371057+0000","flow_id":7,"pcap_cnt":209,"event_type":"flow","src_ip":"10.0.0.1","src_port":50696,"dest_ip":"10.0.0.2","dest_port":24523,"proto":"TCP","app_proto":"failed","flow":{"start":"2019-03-14T19:04:01.600000+0000"}}"#;

fn marker(ts: &str, port: u16) -> String {
    let ns = parse_time(ts).unwrap();
    format!(
        "\0{{\"flow_id\":3,\"ts\":{ns},\"src_ip\":\"10.0.0.1\",\"src_port\":50694,\"dest_ip\":\"10.0.0.2\",\"dest_port\":21,\"proto\":\"TCP\",\"port\":{port},\"active\":false,\"command\":\"RETR\",\"filename\":\"1MB.zip\"}}\n"
    )
}

fn run(stage: &mut FtpDataStage, text: &str) -> (String, i64) {
    let mut buf = b"kept\n".to_vec();
    buf.extend_from_slice(text.as_bytes());
    let d = stage.apply(&mut buf, 5);
    (String::from_utf8(buf[5..].to_vec()).unwrap(), d)
}

#[test]
fn the_announced_connection_is_relabelled() {
    let mut s = FtpDataStage::new();
    let (out, d) = run(&mut s, &marker("2019-03-14T19:04:01.580000+0000", 24523));
    assert_eq!((out.as_str(), d), ("", -1));
    let (out, d) = run(&mut s, &format!("{FLOW}\n"));
    assert_eq!(d, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        r#"{"timestamp":"2019-03-14T19:04:03.371057+0000","flow_id":7,"parent_id":3,"pcap_cnt":209,"event_type":"ftp_data","src_ip":"10.0.0.1","src_port":50696,"dest_ip":"10.0.0.2","dest_port":24523,"proto":"TCP","tx_id":0,"ftp_data":{"filename":"1MB.zip","command":"RETR"}}"#
    );
    assert_eq!(
        lines[1],
        FLOW.replace(r#""flow_id":7,"#, r#""flow_id":7,"parent_id":3,"#)
            .replace("failed", "ftp-data")
    );
    assert_eq!(s.counters().matched, 1);
    // Used once.
    let (out, d) = run(&mut s, &format!("{FLOW}\n"));
    assert_eq!((out, d), (format!("{FLOW}\n"), 0));
}

#[test]
fn other_flows_and_late_starts_are_left_alone() {
    let mut s = FtpDataStage::new();
    run(&mut s, &marker("2019-03-14T19:04:01.580000+0000", 1000));
    let (out, d) = run(&mut s, &format!("{FLOW}\n"));
    assert_eq!((out, d), (format!("{FLOW}\n"), 0));
    // Announced too long before the connection started.
    let mut s = FtpDataStage::new();
    run(&mut s, &marker("2019-03-14T18:00:00.000000+0000", 24523));
    let (_, d) = run(&mut s, &format!("{FLOW}\n"));
    assert_eq!(d, 0);
}

#[test]
fn the_table_is_bounded() {
    let mut s = FtpDataStage::new();
    let m = marker("2019-03-14T10:00:00.000000+0000", 1);
    let many = m.repeat(MAX_EXPECTATIONS + 3);
    let (out, d) = run(&mut s, &many);
    assert!(out.is_empty());
    assert_eq!(d, -(MAX_EXPECTATIONS as i64 + 3));
    assert_eq!(s.counters().evicted, 3);
    // Hours later every one has expired.
    run(&mut s, &format!("{FLOW}\n"));
    assert_eq!(s.counters().expired, MAX_EXPECTATIONS as u64);
    assert!(s.waiting.is_empty());
}

#[test]
fn eve_times_are_read() {
    assert_eq!(
        parse_time("1970-01-01T00:00:01.5+0000"),
        Some(1_500_000_000)
    );
    assert_eq!(
        parse_time("2019-03-14T19:04:03.371057+0000"),
        Some(1_552_590_243_371_057_000)
    );
    assert_eq!(parse_time("garbage"), None);
}
