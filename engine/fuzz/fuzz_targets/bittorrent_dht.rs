//! BitTorrent DHT parser: the whole input as one datagram, then the input
//! split at 0xfe bytes into datagrams of both sides, each behind the
//! start its first byte picks (one of the four Suricata reads as DHT, or
//! none) so that most reach the bencode reader; small caps, so they are
//! hit too; and the content probe on each.
#![no_main]

mod split;

use flowscope_engine::parsers::BittorrentDhtConfig;
use flowscope_engine::parsers::bittorrent_dht::{BittorrentDhtParser, probe};
use flowscope_engine::{DatagramParser, FlowSide};
use libfuzzer_sys::fuzz_target;

const STARTS: [&[u8]; 5] = [b"d1:ad", b"d1:rd", b"d2:ip", b"d1:el", b""];

fuzz_target!(|data: &[u8]| {
    let _ = probe(data, FlowSide::Initiator);
    let mut p = BittorrentDhtParser::new(BittorrentDhtConfig {
        max_string_bytes: 20,
        max_nodes: 2,
        max_values: 2,
        ..BittorrentDhtConfig::default()
    });
    let _ = p.parse(data, FlowSide::Initiator);
    let mut datagram = Vec::new();
    for (side, d) in split::datagrams(data, 0xfe) {
        let Some((&start, rest)) = d.split_first() else {
            continue;
        };
        datagram.clear();
        datagram.extend_from_slice(STARTS[usize::from(start) % STARTS.len()]);
        datagram.extend_from_slice(rest);
        let _ = probe(&datagram, side);
        let _ = p.parse(&datagram, side);
        while p.next_event().is_some() {}
    }
});
