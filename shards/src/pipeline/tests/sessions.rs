//! A session parser written against the public hook: the same messages in
//! the same order inline and for any shard count.

use super::*;

/// A line parser of the kind a user of the crate writes.
#[derive(Default, Clone)]
struct LineParser {
    init_buf: Vec<u8>,
    resp_buf: Vec<u8>,
}

impl flowscope_engine::SessionParser for LineParser {
    type Message = (flowscope_engine::FlowSide, String);
    fn feed_initiator(&mut self, bytes: &[u8]) -> Vec<Self::Message> {
        split_lines(
            &mut self.init_buf,
            bytes,
            flowscope_engine::FlowSide::Initiator,
        )
    }
    fn feed_responder(&mut self, bytes: &[u8]) -> Vec<Self::Message> {
        split_lines(
            &mut self.resp_buf,
            bytes,
            flowscope_engine::FlowSide::Responder,
        )
    }
}

fn split_lines(
    buf: &mut Vec<u8>,
    bytes: &[u8],
    side: flowscope_engine::FlowSide,
) -> Vec<(flowscope_engine::FlowSide, String)> {
    buf.extend_from_slice(bytes);
    let mut out = Vec::new();
    while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
        out.push((side, String::from_utf8_lossy(&buf[..nl]).into_owned()));
        buf.drain(..=nl);
    }
    out
}

fn tcp_data(sport: u16, dport: u16, flags: u8, seq: u32, ack: u32, payload: &[u8]) -> Vec<u8> {
    let mut t = tcp(sport, dport, flags, seq);
    t[8..12].copy_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(payload);
    t
}

/// Many TCP conversations of text lines, interleaved, with segments cut at
/// odd places, some swapped (out of order), some sent twice, and a few lost.
fn line_conversations(n: u16) -> Vec<(Timestamp, Vec<u8>)> {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const FIN: u8 = 0x01;
    const PSH: u8 = 0x08;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut convs: Vec<Vec<Vec<u8>>> = Vec::new();
    for c in 0..n {
        let (a, b) = (1 + (c % 7) as u8, 100 + (c % 5) as u8);
        let (cp, sp) = (20000 + c, 7000 + c % 3);
        let (cisn, sisn) = (next() as u32, next() as u32);
        let client: Vec<u8> = (0..6)
            .flat_map(|j| format!("conn {c} says {j}\n").into_bytes())
            .collect();
        let server: Vec<u8> = format!("hello {c}\nbye {c}\n").into_bytes();
        let mut pkts = vec![
            ipv4(a, b, 6, 0, 0, &tcp_data(cp, sp, SYN, cisn, 0, b"")),
            ipv4(
                b,
                a,
                6,
                0,
                0,
                &tcp_data(sp, cp, SYN | ACK, sisn, cisn + 1, b""),
            ),
        ];
        let mut segs = Vec::new();
        let mut off = 0;
        while off < client.len() {
            let len = (1 + next() % 17) as usize;
            let end = (off + len).min(client.len());
            segs.push((off, end));
            off = end;
        }
        let mut i = 0;
        while i < segs.len() {
            let r = next() % 10;
            let mut order = vec![segs[i]];
            if r < 3 && i + 1 < segs.len() {
                order = vec![segs[i + 1], segs[i]]; // swapped
                i += 1;
            } else if r == 3 {
                order.push(segs[i]); // retransmitted
            }
            i += 1;
            for (s, e) in order {
                let seq = cisn.wrapping_add(1).wrapping_add(s as u32);
                let l4 = tcp_data(cp, sp, ACK | PSH, seq, sisn.wrapping_add(1), &client[s..e]);
                pkts.push(ipv4(a, b, 6, 0, 0, &l4));
            }
        }
        let sseq = sisn.wrapping_add(1);
        let cend = cisn.wrapping_add(1).wrapping_add(client.len() as u32);
        pkts.push(ipv4(
            b,
            a,
            6,
            0,
            0,
            &tcp_data(sp, cp, ACK | PSH, sseq, cend, &server),
        ));
        let send = sseq.wrapping_add(server.len() as u32);
        pkts.push(ipv4(
            a,
            b,
            6,
            0,
            0,
            &tcp_data(cp, sp, ACK | FIN, cend, send, b""),
        ));
        pkts.push(ipv4(
            b,
            a,
            6,
            0,
            0,
            &tcp_data(sp, cp, ACK | FIN, send, cend + 1, b""),
        ));
        pkts.push(ipv4(
            a,
            b,
            6,
            0,
            0,
            &tcp_data(cp, sp, ACK, cend + 1, send + 1, b""),
        ));
        convs.push(pkts);
    }
    // Interleave the conversations, a few packets at a time.
    let mut out = Vec::new();
    let mut t = 1_000_000u64;
    let mut cursors = vec![0usize; convs.len()];
    while cursors.iter().zip(&convs).any(|(&k, c)| k < c.len()) {
        for (k, conv) in cursors.iter_mut().zip(&convs) {
            let take = 1 + (next() % 3) as usize;
            for p in conv.iter().skip(*k).take(take) {
                t += 1;
                out.push((Timestamp::from_nanos(t * 1000), p.clone()));
            }
            *k += take;
        }
    }
    out
}

type LineSessions = flowscope_engine::Sessions<FiveTupleKey, (flowscope_engine::FlowSide, String)>;

fn line_sessions() -> LineSessions {
    flowscope_engine::Sessions::new(&EngineConfig::default().reassembly)
        .tcp(LineParser::default(), flowscope_engine::Route::any())
}

type SessionItem = Ordered<SessionEvent<FiveTupleKey, (flowscope_engine::FlowSide, String)>>;

/// Session events as `(seq, sub, event)` text.
fn render_sessions(items: &[SessionItem]) -> Vec<String> {
    items
        .iter()
        .map(|o| format!("{}/{}/{:?}", o.seq, o.sub, o.event))
        .collect()
}

#[test]
fn a_custom_session_parser_gives_the_same_messages_for_0_1_and_4_shards() {
    let packets = line_conversations(60);
    let ecfg = EngineConfig::default();
    // shards = 0: one engine on this thread.
    let engine = Engine::with_hook(&ecfg, extractor(&ecfg), line_sessions()).unwrap();
    let mut runner = InlineRunner::new(engine, 64);
    let mut inline_items = Vec::new();
    let mut sink = SessionEvents::default().with_emit_anomalies(true);
    let mut bytes = Vec::new();
    for raw in raws(&packets) {
        runner.push(&raw);
        inline_items.extend(runner.events().filter_map(|e| sink.map(e, &mut bytes)));
    }
    runner.finish();
    inline_items.extend(runner.events().filter_map(|e| sink.map(e, &mut bytes)));
    // Renumber `sub` over the session events of each seq, as the merger does.
    let mut last = None;
    let mut sub = 0;
    for item in &mut inline_items {
        if last != Some(item.seq) {
            last = Some(item.seq);
            sub = 0;
        }
        item.sub = sub;
        sub += 1;
    }
    let expected = render_sessions(&inline_items);
    let lines = inline_items
        .iter()
        .filter(|o| matches!(o.event, SessionEvent::Application { .. }))
        .count();
    // 60 conversations of 6 client lines and 2 server lines, none lost.
    assert_eq!(lines, 60 * 8);
    for shards in [1, 4] {
        let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
            .shards(shards)
            .pin(false)
            .epoch_packets(64)
            .hook(line_sessions)
            .sink(SessionEvents::default().with_emit_anomalies(true))
            .build(MemorySource::new(raws(&packets)))
            .unwrap();
        let got: Vec<SessionItem> = p.into_iter().collect();
        p.join().unwrap();
        assert_eq!(render_sessions(&got), expected, "shards = {shards}");
    }
}

#[test]
fn the_session_sink_starts_every_flow_and_keeps_anomalies_on_request() {
    // Two conversations and a truncated IPv4 packet (a decode anomaly).
    let mut packets = line_conversations(2);
    let mut bad = ipv4(1, 2, 17, 0, 0, &[0; 8]);
    bad.truncate(12);
    packets.push((Timestamp::from_nanos(2_000_000_000_000), bad));
    let ecfg = EngineConfig::default();
    let kinds = |sink: SessionEvents| {
        let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
            .shards(2)
            .pin(false)
            .hook(line_sessions)
            .sink(sink)
            .build(MemorySource::new(raws(&packets)))
            .unwrap();
        let got: Vec<SessionItem> = p.into_iter().collect();
        p.join().unwrap();
        let count = |f: fn(&SessionEvent<_, _>) -> bool| got.iter().filter(|o| f(&o.event)).count();
        (
            count(|e| matches!(e, SessionEvent::Started { .. })),
            count(|e| matches!(e, SessionEvent::Closed { .. })),
            count(|e| matches!(e, SessionEvent::Anomaly { .. })),
        )
    };
    // As flowscope 0.3's drivers: `Started` for every flow (4: this
    // generator's replies come from other addresses), anomalies only when
    // asked for.
    assert_eq!(kinds(SessionEvents::default()), (4, 4, 0));
    let (started, closed, anomalies) = kinds(SessionEvents::default().with_emit_anomalies(true));
    assert_eq!((started, closed), (4, 4));
    assert!(anomalies >= 1, "the truncated packet is reported");
}
