//! The JSON writer's tests: numbers, times, addresses and text as the
//! standard library and `serde_json` write and read them.

use super::*;

fn ts_str(t: Timestamp) -> String {
    let mut v = Vec::new();
    write_eve_time(&mut v, t);
    String::from_utf8(v).unwrap()
}

#[test]
fn times_on_the_same_day_and_the_next_read_right_in_any_order() {
    // The date is remembered between calls: back and forth across
    // midnight, and the same day again after another.
    let seq = [
        (86_399, "1970-01-01T23:59:59"),
        (86_400, "1970-01-02T00:00:00"),
        (86_399, "1970-01-01T23:59:59"),
        (0, "1970-01-01T00:00:00"),
        (1_259_097_229, "2009-11-24T21:13:49"),
        (1_259_097_230, "2009-11-24T21:13:50"),
        (0, "1970-01-01T00:00:00"),
    ];
    for (secs, want) in seq {
        assert_eq!(
            ts_str(Timestamp::new(secs, 0)),
            format!("{want}.000000+0000")
        );
    }
}

#[test]
fn eve_time() {
    for (t, want) in [
        (Timestamp::ZERO, "1970-01-01T00:00:00.000000+0000"),
        (
            Timestamp::new(1_259_097_229, 534_255_999),
            "2009-11-24T21:13:49.534255+0000",
        ),
        (
            Timestamp::new(951_782_400, 0),
            "2000-02-29T00:00:00.000000+0000",
        ),
        (
            Timestamp::new(4_102_444_799, 999_999_000),
            "2099-12-31T23:59:59.999999+0000",
        ),
        (
            Timestamp::new(18_446_744_073, 709_551_000),
            "2554-07-21T23:34:33.709551+0000",
        ),
    ] {
        assert_eq!(ts_str(t), want);
    }
    // Cross-check every day boundary of a leap cycle against a naive count.
    let mut day = 0i64;
    for y in 1970..2001i64 {
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for (m, len) in [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ]
        .into_iter()
        .enumerate()
        {
            for d in 1..=len {
                assert_eq!(civil_from_days(day), (y, m as u64 + 1, d));
                day += 1;
            }
        }
    }
}

#[test]
fn addresses_as_rust_writes_them() {
    let cases = [
        "0.0.0.0",
        "255.255.255.255",
        "10.0.9.100",
        "::",
        "::1",
        "1::",
        "2001:db8::1",
        "2001:db8:0:1:0:0:0:1",
        "2001:0:0:1:0:0:0:1",
        "1:0:2:0:3:0:4:0",
        "0:0:1:0:0:1:0:0",
        "fe80::200:86ff:fe05:80da",
        "::ffff:192.0.2.1",
        "::192.0.2.1",
        "64:ff9b::c000:221",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ];
    for c in cases {
        let a: IpAddr = c.parse().unwrap();
        let mut v = Vec::new();
        write_ip(&mut v, a);
        assert_eq!(String::from_utf8(v).unwrap(), a.to_string(), "{c}");
    }
    // Every octet in every place, after other text.
    for o in 0..=255u8 {
        for octets in [
            [o, 0, 0, 0],
            [9, o, 99, 1],
            [255, 10, o, 100],
            [1, 2, 3, o],
            [o; 4],
        ] {
            let a = std::net::Ipv4Addr::from(octets);
            let mut v = b"x".to_vec();
            write_ip(&mut v, IpAddr::V4(a));
            assert_eq!(v, format!("x{a}").into_bytes());
        }
    }
}

proptest::proptest! {
    #[test]
    fn any_ipv6_as_rust_writes_it(groups in proptest::array::uniform8(
        proptest::prop_oneof![proptest::strategy::Just(0u16), 0u16..0x20, proptest::num::u16::ANY]
    )) {
        let a = IpAddr::from(std::net::Ipv6Addr::from(groups));
        let mut v = Vec::new();
        write_ip(&mut v, a);
        proptest::prop_assert_eq!(String::from_utf8(v).unwrap(), a.to_string());
    }

    #[test]
    fn any_text_reads_back(
        text in "\\PC{0,40}",
        raw in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
        spare in 0usize..40,
    ) {
        // Strings and names of any length, into buffers with any room
        // left: what is read back is what was written.
        let mut v = Vec::with_capacity(spare);
        let mut o = JsonObject::new(&mut v);
        o.begin("t").str(Key::escaped(&text), &text).end();
        o.bytes("raw", &raw).u64("n", raw.len() as u64);
        o.finish_line();
        let back: serde_json::Value = serde_json::from_slice(&v).unwrap();
        proptest::prop_assert_eq!(back["t"][text.as_str()].as_str(), Some(text.as_str()));
        // Valid UTF-8 reads back as it was; other bytes as some string
        // (`escaping` checks what each invalid byte becomes).
        match std::str::from_utf8(&raw) {
            Ok(s) => proptest::prop_assert_eq!(back["raw"].as_str(), Some(s)),
            Err(_) => proptest::prop_assert!(back["raw"].is_string()),
        }
        proptest::prop_assert_eq!(back["n"].as_u64(), Some(raw.len() as u64));
    }

    #[test]
    fn any_time_as_fmt_writes_it(secs in 0u64..18_446_744_073, nanos in 0u32..1_000_000_000) {
        let t = Timestamp::new(secs, nanos);
        let (y, m, d) = civil_from_days((secs / 86_400) as i64);
        let rem = secs % 86_400;
        let want = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}+0000",
            rem / 3600,
            rem / 60 % 60,
            rem % 60,
            nanos / 1000
        );
        proptest::prop_assert_eq!(ts_str(t), want);
    }
}

#[test]
fn numbers_at_every_width() {
    let mut cases = vec![0u64, u64::MAX, u64::MAX - 1];
    for p in 0..20 {
        let t = 10u64.pow(p);
        cases.extend([t - 1, t, t + 1, t + t / 2]);
    }
    for n in cases {
        let mut v = b"x".to_vec();
        put_u64(&mut v, n);
        assert_eq!(v, format!("x{n}").into_bytes());
        for i in [n as i64, (n as i64).wrapping_neg(), i64::MIN] {
            let mut v = Vec::new();
            let mut o = JsonObject::new(&mut v);
            o.i64("i", i);
            o.finish_line();
            assert_eq!(v, format!("{{\"i\":{i}}}\n").into_bytes());
        }
    }
}

#[test]
fn strings_and_names_of_every_short_length_copy_whole() {
    // Every length the word copies handle, either side of each width,
    // into a buffer whose capacity ends right after them.
    let text: String = (0..40).map(|i| char::from(b'a' + i % 26)).collect();
    for n in 0..=text.len() {
        let s = &text[..n];
        let mut v = Vec::with_capacity(1);
        write_str(&mut v, s);
        assert_eq!(v, format!("\"{s}\"").into_bytes());
        let mut v = Vec::new();
        write_bytes(&mut v, s.as_bytes());
        assert_eq!(v, format!("\"{s}\"").into_bytes());
        let mut v = Vec::new();
        let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
        let mut o = JsonObject::new(&mut v);
        o.u64(leaked, 1).u64(leaked, 2);
        o.finish_line();
        assert_eq!(v, format!("{{\"{s}\":1,\"{s}\":2}}\n").into_bytes());
    }
}

#[test]
fn datetimes_and_hex() {
    for secs in [
        0i64,
        -1,
        -62_135_596_800,
        -62_135_596_801,
        253_402_300_799,
        253_402_300_800,
        1_576_545_448,
    ] {
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
        let rem = secs.rem_euclid(86_400);
        let want = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        );
        let mut v = Vec::new();
        write_datetime_secs(&mut v, secs);
        assert_eq!(String::from_utf8(v).unwrap(), want, "{secs}");
    }
    for v in [0u16, 1, 0xf, 0x10, 0x8180, 0xffff] {
        let mut b = Vec::new();
        let mut o = JsonObject::new(&mut b);
        o.hex_u16("f", v);
        o.finish_line();
        assert_eq!(
            String::from_utf8(b).unwrap(),
            format!("{{\"f\":\"{v:x}\"}}\n")
        );
    }
}

#[test]
fn keys_from_the_traffic_are_escaped() {
    let mut v = Vec::new();
    let mut o = JsonObject::new(&mut v);
    let (a, b) = (
        String::from("server_version*\u{7f}"),
        String::from("a\"b\\c\n"),
    );
    o.str(Key::escaped(&a), "x").u64(Key::escaped(&b), 1);
    o.begin(Key::escaped(&b)).end();
    o.finish_line();
    let parsed: serde_json::Value = serde_json::from_slice(&v).unwrap();
    assert_eq!(parsed[&a], "x");
    assert_eq!(
        parsed[&b],
        serde_json::json!({}),
        "the last member of a name wins"
    );
    assert!(v.starts_with(br#"{"server_version*\u007f":"x","a\"b\\c\n":1,"#));
}

/// This crate's own names are written as they are; one that would
/// need escaping is a programming error caught in debug builds.
#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "needs escaping")]
fn a_literal_name_that_needs_escaping_is_caught() {
    let mut v = Vec::new();
    JsonObject::new(&mut v).str("a\"b", "x");
}

#[test]
fn escaping() {
    let mut v = Vec::new();
    write_str(&mut v, "a\"b\\c\n\u{1}é");
    assert_eq!(String::from_utf8(v).unwrap(), r#""a\"b\\c\n\u0001é""#);
    let mut v = Vec::new();
    write_bytes(&mut v, b"ok\xff\xfe!\xc3\xa9\xc3");
    let s = String::from_utf8(v).unwrap();
    assert_eq!(s, r#""ok\u00ff\u00fe!é\u00c3""#);
    let parsed: String = serde_json::from_str(&s).unwrap();
    assert_eq!(parsed, "ok\u{ff}\u{fe}!é\u{c3}");
}

#[test]
fn objects_nest_and_parse() {
    let mut v = Vec::new();
    let mut o = JsonObject::new(&mut v);
    o.str("a", "x")
        .u64("n", 42)
        .begin("inner")
        .bool("t", true)
        .u64_array("l", [1, 2])
        .end();
    o.ip("ip", "2001:db8::1".parse().unwrap());
    o.finish_line();
    let s = String::from_utf8(v).unwrap();
    assert_eq!(
        s,
        "{\"a\":\"x\",\"n\":42,\"inner\":{\"t\":true,\"l\":[1,2]},\"ip\":\"2001:db8::1\"}\n"
    );
    let _: serde_json::Value = serde_json::from_str(&s).unwrap();
}
