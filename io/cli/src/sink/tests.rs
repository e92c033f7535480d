use super::*;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("flowscope-sink-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn targets_and_intervals() {
    let t = Target::from_arg(Path::new("unix-dgram:/run/x.sock"), FileType::Regular);
    assert_eq!(
        (t.path.as_path(), t.kind),
        (Path::new("/run/x.sock"), FileType::UnixDgram)
    );
    let t = Target::from_arg(Path::new("eve.json"), FileType::UnixStream);
    assert_eq!(t.kind, FileType::UnixStream);
    use crate::args::parse_interval;
    assert_eq!(parse_interval("90").unwrap(), 90);
    assert_eq!(parse_interval("10m").unwrap(), 600);
    assert_eq!(parse_interval("1d").unwrap(), 86_400);
    assert!(parse_interval("0").is_err() && parse_interval("soon").is_err());
    let t = Target::from_arg(Path::new("syslog:"), FileType::Regular);
    assert_eq!(
        (t.path.as_path(), t.kind),
        (Path::new("/dev/log"), FileType::Syslog)
    );
    let head = String::from_utf8(syslog_head()).unwrap();
    assert!(
        head.starts_with("<134>1 - ") && head.ends_with(" eve - "),
        "{head}"
    );
    assert_eq!(head.split(' ').count(), 8, "{head}");
}

#[test]
fn size_rotation_keeps_whole_lines_and_numbers_files() {
    let d = tmp("rot");
    let path = d.join("eve.json");
    // A rotated file from before is never replaced.
    std::fs::write(d.join("eve.json.1"), "old\n").unwrap();
    let cfg = SinkConfig {
        rotate_size: Some(25),
        ..SinkConfig::default()
    };
    let target = Target::from_arg(&path, FileType::Regular);
    let counters = Arc::new(SinkCounters::default());
    let mut sink = Sink::open(target, &cfg, None, counters.clone()).unwrap();
    let lines: String = (0..10).map(|i| format!("{{\"n\":{i}}}\n")).collect();
    sink.write_all(lines.as_bytes()).unwrap();
    sink.write_all(b"{\"long\":\"a line longer than the limit\"}\n")
        .unwrap();
    sink.flush().unwrap();
    assert_eq!(
        std::fs::read_to_string(d.join("eve.json.1")).unwrap(),
        "old\n"
    );
    let mut all = String::new();
    let rotations = counters.rotations.load(Ordering::Relaxed);
    assert!(rotations >= 3, "{rotations}");
    for n in 2..2 + rotations {
        let part = std::fs::read_to_string(format!("{}.{n}", path.display())).unwrap();
        assert!(part.ends_with('\n'), "{part:?}");
        let long = part.contains("long");
        assert!(
            part.len() <= 25 || long && part.lines().count() == 1,
            "{part:?}"
        );
        all.push_str(&part);
    }
    all.push_str(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(
        all,
        format!("{lines}{{\"long\":\"a line longer than the limit\"}}\n")
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn stats_get_an_output_object() {
    let c = SinkCounters::default();
    let plain = b"{\"a\":1}\n{\"event_type\":\"stats\",\"stats\":{\"packets\":1}}\n".to_vec();
    let mut buf = plain.clone();
    c.append_to_stats(&mut buf, 8);
    assert_eq!(buf, plain, "a file with nothing counted: as on stdout");
    SinkCounters::add(&c.records_lost, 3);
    let mut buf = b"{\"a\":1}\n{\"event_type\":\"stats\",\"stats\":{\"packets\":1}}\n".to_vec();
    c.append_to_stats(&mut buf, 8);
    let text = String::from_utf8(buf).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["stats"]["output"]["records_lost"], 3);
    assert_eq!(last["stats"]["output"]["filetype"], "regular");
    assert_eq!(last["stats"]["packets"], 1);
}
