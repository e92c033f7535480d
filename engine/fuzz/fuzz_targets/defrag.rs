//! IPv4/IPv6 fragment reassembly through the engine: the input is a cap
//! setting and a run of fragments (version, host, identification, offset,
//! more-fragments flag, length, payload, capture cut, protocol, clock
//! steps), each wrapped in a real IP header and fed as a raw-IP packet, so
//! the engine's fragment table (overlaps, duplicates, bad lengths,
//! timeouts, its datagram/byte/fragment caps, IP-in-IP fragments nested
//! in reassembled datagrams) and the decoding of what it rebuilds are
//! exercised.
#![no_main]

mod packets;

use flowscope_engine::{
    Engine, EngineConfig, EventBuf, FiveTuple, FiveTupleKey, KeyOptions, Timestamp,
};
use libfuzzer_sys::fuzz_target;
use packets::{HOSTS4, HOSTS6, ICMP, IPV6_FRAGMENT, Input, TCP, UDP};

/// Upper-layer protocols a fragment may claim: the flows' own, and IP-in-IP
/// and 6in4 so that a reassembled datagram can carry fragments again.
const PROTOCOLS: [u8; 8] = [UDP, TCP, ICMP, 4, 41, 58, 132, 47];

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let caps = input.u8();
    let mut cfg = EngineConfig::default();
    cfg.flow.max_flows = 16;
    cfg.defrag.max_datagrams = 1 + usize::from(caps & 0x03);
    cfg.defrag.max_bytes = 128 << ((caps >> 2) & 0x03);
    cfg.defrag.max_fragments_per_datagram = 2 + usize::from((caps >> 4) & 0x07);
    cfg.defrag.timeout = 1 + u32::from(caps >> 7) * 4;
    let Ok(mut engine) = Engine::new(&cfg, FiveTuple::new(KeyOptions::from_config(&cfg))) else {
        return;
    };
    let mut events: EventBuf<FiveTupleKey> = Vec::new();
    let mut frame = Vec::with_capacity(512);
    let mut secs: u64 = 1_000;
    let mut seq = 0;
    while !input.is_empty() {
        let flags = input.u8();
        let ident = input.u8();
        let offset = input.u16() & 0x1fff;
        let len = usize::from(input.u8());
        let time = input.u8();
        let payload = input.bytes(len);
        let v6 = flags & 0x01 != 0;
        let more = flags & 0x02 != 0;
        let cut = flags & 0x04 != 0;
        let src = usize::from((flags >> 3) & 0x03) % 3;
        let proto = PROTOCOLS[usize::from(flags >> 5)];

        frame.clear();
        if v6 {
            packets::ipv6(
                &mut frame,
                HOSTS6[src],
                HOSTS6[1],
                IPV6_FRAGMENT,
                8 + payload.len(),
            );
            let id = 0x5eed_0000 | u32::from(ident);
            packets::ipv6_fragment(&mut frame, proto, offset, more, id);
        } else {
            let word = offset | if more { 0x2000 } else { 0 };
            let id = 0x5e00 | u16::from(ident);
            packets::ipv4(
                &mut frame,
                HOSTS4[src],
                HOSTS4[1],
                proto,
                id,
                word,
                payload.len(),
            );
        }
        frame.extend_from_slice(payload);
        // A capture cut at a snapshot length keeps the headers and part of
        // the payload.
        let kept = if cut {
            frame.len() - payload.len() / 2
        } else {
            frame.len()
        };

        // Forward by 0 to 6 s, or back by 100 s (a capture whose clock
        // steps back: the packet clock stands still).
        if time & 0x07 == 0x07 {
            secs = secs.saturating_sub(100).max(1);
        } else {
            secs += u64::from(time & 0x07);
        }
        let ts = Timestamp::new(secs, u32::from(time >> 3) * 1_000_000);
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
});
