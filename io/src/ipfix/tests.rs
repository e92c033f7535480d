use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

fn flow(src: IpAddr, dst: IpAddr, app: Option<&'static str>) -> IpfixFlow {
    IpfixFlow {
        endpoints: IpfixEndpoints {
            src: (src, 40000),
            dst: (dst, 80),
            proto: 6,
            vlan: 7,
        },
        start_ms: 1_700_000_000_123,
        end_ms: 1_700_000_005_123,
        forward: IpfixCounters {
            packets: 10,
            octets: 1000,
            tcp_flags: 0x1b,
        },
        reverse: IpfixCounters {
            packets: 8,
            octets: 5000,
            tcp_flags: 0x1a,
        },
        end_reason: 3,
        flow_id: 0x0102_0304_0506_0708,
        segment: 0,
        icmp_type_code: 0,
        app,
    }
}

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn encode(opts: IpfixOptions, flows: &[IpfixFlow]) -> Vec<Vec<u8>> {
    let mut enc = IpfixEncoder::new(opts);
    let mut out = Vec::new();
    for f in flows {
        enc.push(f, 1_800_000_000, &mut |m| out.push(m.to_vec()));
    }
    enc.flush(1_800_000_000, &mut |m| out.push(m.to_vec()));
    assert_eq!(enc.messages(), out.len() as u64);
    out
}

/// The sets of one message: (set id, body).
fn sets(m: &[u8]) -> Vec<(u16, &[u8])> {
    let mut v = Vec::new();
    let mut at = HEADER_LEN;
    while at < m.len() {
        let (id, len) = (be16(m, at), usize::from(be16(m, at + 2)));
        assert!(len >= SET_HEADER_LEN && at + len <= m.len(), "set at {at}");
        v.push((id, &m[at + SET_HEADER_LEN..at + len]));
        at += len;
    }
    assert_eq!(at, m.len());
    v
}

#[test]
fn one_ipv4_flow_as_bytes() {
    let msgs = encode(
        IpfixOptions::default(),
        &[flow(v4([10, 0, 0, 1]), v4([10, 0, 0, 2]), Some("http"))],
    );
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    // Header: version 10, length, export time, sequence 0, domain 1.
    assert_eq!(be16(m, 0), 10);
    assert_eq!(usize::from(be16(m, 2)), m.len());
    assert_eq!(be32(m, 4), 1_800_000_000);
    assert_eq!((be32(m, 8), be32(m, 12)), (0, 1));
    let s = sets(m);
    assert_eq!(s.len(), 2);
    // The template set: template 256 with 20 fields, the reverse ones
    // with the enterprise bit and RFC 5103's number.
    let (id, t) = s[0];
    assert_eq!(id, 2);
    assert_eq!((be16(t, 0), be16(t, 2)), (256, 20));
    assert_eq!(&t[4..12], &[0, 8, 0, 4, 0, 12, 0, 4]);
    // Field 11 (the 11th): reverse packetDeltaCount.
    let reverse_at = 4 + 10 * 4;
    assert_eq!(
        &t[reverse_at..reverse_at + 8],
        &[0x80, 2, 0, 8, 0, 0, 0x72, 0x79]
    );
    // The data set: one record.
    let (id, d) = s[1];
    assert_eq!(id, 256);
    #[rustfmt::skip]
    let want: Vec<u8> = [
        &[10, 0, 0, 1, 10, 0, 0, 2][..],              // addresses
        &[0x9c, 0x40, 0, 80, 6],                        // ports, protocol
        &1_700_000_000_123u64.to_be_bytes(),
        &1_700_000_005_123u64.to_be_bytes(),
        &10u64.to_be_bytes(), &1000u64.to_be_bytes(), &[0, 0x1b],
        &8u64.to_be_bytes(), &5000u64.to_be_bytes(), &[0, 0x1a],
        &[3, 1],                                        // end reason, biflow direction
        &[1, 2, 3, 4, 5, 6, 7, 8],                      // flow id
        &[0, 7, 0, 0],                                  // vlan, icmp type/code
        &[0; 8],                                        // layer2SegmentId
        &[4, b'h', b't', b't', b'p'],                   // applicationName
    ]
    .concat();
    assert_eq!(d, &want[..]);
}

#[test]
fn ipv6_flows_use_their_template_and_sets_switch() {
    let a6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let flows = [
        flow(v4([10, 0, 0, 1]), v4([10, 0, 0, 2]), None),
        flow(a6, a6, None),
        flow(a6, a6, Some("dns")),
        flow(v4([10, 0, 0, 3]), v4([10, 0, 0, 4]), None),
    ];
    let msgs = encode(IpfixOptions::default(), &flows);
    assert_eq!(msgs.len(), 1);
    let ids: Vec<u16> = sets(&msgs[0]).iter().map(|s| s.0).collect();
    assert_eq!(ids, [2, 256, 257, 256]);
    let s = sets(&msgs[0]);
    assert_eq!(s[2].1.len(), 2 * (record_len(true) + 1) + 3);
}

#[test]
fn messages_stay_within_the_size_sequence_numbers_count_records_and_templates_return() {
    let opts = IpfixOptions {
        max_message: 600,
        domain: 9,
        template_every: 3,
    };
    let flows: Vec<IpfixFlow> = (0..50u8)
        .map(|i| flow(v4([10, 0, 0, i]), v4([10, 0, 1, i]), Some("tls")))
        .collect();
    let msgs = encode(opts, &flows);
    assert!(msgs.len() > 5);
    let mut sequence = 0;
    let mut records = 0;
    for (i, m) in msgs.iter().enumerate() {
        assert!(m.len() <= 600, "message {i}: {} bytes", m.len());
        assert_eq!(be32(m, 8), sequence, "message {i}");
        assert_eq!(be32(m, 12), 9);
        let s = sets(m);
        // Templates in the first message and every third after.
        assert_eq!(s[0].0 == 2, i % 3 == 0, "message {i}");
        let data = s.iter().find(|s| s.0 == 256).unwrap().1;
        let n = data.len() / (record_len(false) + 4);
        assert_eq!(data.len() % (record_len(false) + 4), 0);
        sequence += n as u32;
        records += n;
    }
    assert_eq!(records, 50);
}

#[test]
fn template_every_zero_sends_them_once_until_asked() {
    let opts = IpfixOptions {
        max_message: 512,
        template_every: 0,
        ..IpfixOptions::default()
    };
    let f = flow(v4([1, 2, 3, 4]), v4([5, 6, 7, 8]), None);
    let mut enc = IpfixEncoder::new(opts);
    let mut out: Vec<Vec<u8>> = Vec::new();
    for _ in 0..30 {
        enc.push(&f, 0, &mut |m| out.push(m.to_vec()));
    }
    enc.resend_templates();
    for _ in 0..30 {
        enc.push(&f, 0, &mut |m| out.push(m.to_vec()));
    }
    enc.flush(0, &mut |m| out.push(m.to_vec()));
    let with: Vec<bool> = out.iter().map(|m| sets(m)[0].0 == 2).collect();
    assert!(with[0]);
    assert_eq!(with.iter().filter(|&&t| t).count(), 2, "{with:?}");
}

#[test]
fn end_reasons_are_ianas() {
    assert_eq!(end_reason(EndReason::IdleTimeout), 1);
    assert_eq!(end_reason(EndReason::ActiveTimeout), 2);
    assert_eq!(end_reason(EndReason::Fin), 3);
    assert_eq!(end_reason(EndReason::Rst), 3);
    assert_eq!(end_reason(EndReason::Shutdown), 4);
    assert_eq!(end_reason(EndReason::Evicted), 5);
}

#[test]
fn long_application_names_are_cut_to_fit_their_length_byte() {
    let long: &'static str = Box::leak("x".repeat(300).into_boxed_str());
    let msgs = encode(
        IpfixOptions::default(),
        &[flow(v4([1, 1, 1, 1]), v4([2, 2, 2, 2]), Some(long))],
    );
    let d = sets(&msgs[0])[1].1;
    assert_eq!(d.len(), record_len(false) + 1 + MAX_APP_NAME);
    assert_eq!(usize::from(d[record_len(false)]), MAX_APP_NAME);
}

#[test]
fn a_templates_message_takes_the_header_of_the_message_it_precedes() {
    let msgs = encode(
        IpfixOptions::default(),
        &[flow(v4([1, 1, 1, 1]), v4([2, 2, 2, 2]), None)],
    );
    let t = IpfixEncoder::templates_for(&msgs[0]);
    assert_eq!(be16(&t, 0), 10);
    assert_eq!(usize::from(be16(&t, 2)), t.len());
    assert_eq!(&t[4..16], &msgs[0][4..16], "export time, sequence, domain");
    let s = sets(&t);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0], sets(&msgs[0])[0], "the same template set");
}
