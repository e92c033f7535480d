//! TCP reassembly through the engine, with the built-in parsers on: the
//! input picks the reassembly policies, small caps, the server port and
//! both sides' initial sequence numbers, then describes segments (side,
//! connection, flags, sequence number near or far from the next expected
//! one, length, payload, clock steps) of two connections between the same
//! hosts, wrapped in IPv4/TCP and fed as raw-IP packets. Overlaps, gaps,
//! retransmissions, sequence wraparound, the per-flow and per-engine
//! out-of-order caps, idle timeouts mid-stream and the parsers' gap
//! handling are all reachable.
#![no_main]

mod packets;

use flowscope_engine::parsers::{L7Message, ParsersConfig, builtin};
use flowscope_engine::{
    Engine, EngineConfig, EventBuf, FiveTuple, FiveTupleKey, FlowHook, KeyOptions, OverflowPolicy,
    OverlapPolicy, Timestamp,
};
use libfuzzer_sys::fuzz_target;
use packets::{HOSTS4, Input, TCP};

/// Server ports: one per parser route (HTTP, TLS, DNS, STARTTLS) and one
/// that only the content probes can claim.
const PORTS: [u16; 8] = [80, 443, 53, 25, 8080, 993, 5432, 4000];

/// TCP flag bits, in the order the record's flag byte selects them.
const FLAGS: [u8; 5] = [0x02, 0x10, 0x01, 0x04, 0x08]; // SYN ACK FIN RST PSH

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let setup = input.u8();
    let mut cfg = EngineConfig::default();
    cfg.flow.max_flows = 16;
    cfg.flow.tcp_timeout = 8;
    cfg.flow.tcp_closed_linger = 2;
    let r = &mut cfg.reassembly;
    r.overlap = if setup & 0x01 != 0 {
        OverlapPolicy::Last
    } else {
        OverlapPolicy::First
    };
    r.overflow = if setup & 0x02 != 0 {
        OverflowPolicy::DropFlow
    } else {
        OverflowPolicy::SlidingWindow
    };
    r.check_retransmissions = setup & 0x04 == 0;
    r.digest_delivered_bytes = setup & 0x08 != 0;
    r.max_ooo_bytes = 64 << ((setup >> 3) & 0x03);
    r.max_ooo_segments = 2 + usize::from((setup >> 5) & 0x03);
    // Below two flows' worth of held bytes: the engine-wide cap is hit too.
    r.memcap = 384 << (setup >> 7);
    r.probe_bytes = 48;
    let mut parsers = ParsersConfig::default();
    parsers.http.headers = true;
    parsers.http.body_sha256 = true;
    parsers.http.body_sample_bytes = 32;
    parsers.http.max_header_bytes = 512;
    parsers.tls.chain = true;
    parsers.tls.max_handshake_bytes = 1024;
    parsers.dns.max_pending = 4;
    let hook = builtin::<FiveTupleKey>(&cfg.reassembly, &parsers);
    let extractor = FiveTuple::new(KeyOptions::from_config(&cfg));
    let Ok(mut engine) = Engine::with_hook(&cfg, extractor, hook) else {
        return;
    };
    let server_port = PORTS[usize::from(input.u8() & 0x07)];
    let isn = [input.u32(), input.u32()];
    // Next expected sequence number per connection and side (0: client).
    let mut next = [isn, isn];

    let mut events: EventBuf<FiveTupleKey, L7Message> = Vec::new();
    let mut frame = Vec::with_capacity(320);
    let mut secs = 1_000;
    let mut seq = 0;
    while !input.is_empty() {
        let ctl = input.u8();
        let side = usize::from(ctl & 0x01);
        let conn = usize::from((ctl >> 1) & 0x01);
        let mut flags = 0;
        for (i, f) in FLAGS.iter().enumerate() {
            if ctl & (0x04 << i) != 0 {
                flags |= f;
            }
        }
        let tcp_seq = if ctl & 0x80 != 0 {
            input.u32()
        } else {
            let delta = input.u16() as i16;
            next[conn][side].wrapping_add_signed(i32::from(delta))
        };
        let len = usize::from(input.u8());
        let time = input.u8();
        let payload = input.bytes(len);

        let end = tcp_seq
            .wrapping_add(payload.len() as u32)
            .wrapping_add(u32::from(flags & 0x03 != 0));
        // Ahead of (or at) the next expected byte in sequence space.
        if end.wrapping_sub(next[conn][side]) < 1 << 31 {
            next[conn][side] = end;
        }
        let ack = if flags & 0x10 != 0 {
            next[conn][1 - side]
        } else {
            0
        };
        let client = (40_000 + conn as u16, HOSTS4[0]);
        let server = (server_port, HOSTS4[1]);
        let (from, to) = if side == 0 {
            (client, server)
        } else {
            (server, client)
        };
        frame.clear();
        packets::ipv4(
            &mut frame,
            from.1,
            to.1,
            TCP,
            seq as u16,
            0,
            20 + payload.len(),
        );
        let window = 1024 + u16::from(time);
        packets::tcp(&mut frame, (from.0, to.0), tcp_seq, ack, flags, window);
        frame.extend_from_slice(payload);

        secs += u64::from(time & 0x0f);
        let ts = Timestamp::new(secs, u32::from((time >> 4) & 0x07) * 1_000_000);
        let kept = frame.len();
        packets::feed(
            &mut engine,
            &mut events,
            (seq, ts),
            &frame,
            kept,
            time & 0x80 != 0,
        );
        seq += 1;
    }
    engine.finish(Timestamp::new(secs, 0), seq, &mut events);
    let _ = engine.hook().session_counters();
});
