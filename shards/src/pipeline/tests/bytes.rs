//! Sinks that write bytes: each item's bytes in its shard's buffer, handed
//! on with it where the merge runs on the consumer's thread, detached into
//! the item where it runs on a thread of its own; the same bytes in the
//! same order as the inline engine's, for any shard count and batch size.
//! (When a buffer goes back to its shard: `merge::tests`.)

use super::*;

/// A sink that writes each event's text and its order key (the merged
/// `sub` is the merger's business) into the shard's buffer.
#[derive(Debug, Clone, Default)]
struct Text;

/// Where an item's text is, or (detached) its own copy.
#[derive(Debug)]
enum Line {
    In(std::ops::Range<usize>),
    Own(Vec<u8>),
}

impl Line {
    fn text(&self, bytes: &[u8]) -> String {
        let b = match self {
            Line::In(r) => &bytes[r.clone()],
            Line::Own(v) => v,
        };
        String::from_utf8(b.to_vec()).unwrap()
    }
}

fn text_of(e: &Event) -> String {
    format!("{}/{:?}/{:?};", e.seq, e.cause, e.event)
}

impl EventSink<FiveTupleKey> for Text {
    type Item = Line;
    fn map(&mut self, event: Event, bytes: &mut Vec<u8>) -> Option<Line> {
        let at = bytes.len();
        bytes.extend_from_slice(text_of(&event).as_bytes());
        Some(Line::In(at..bytes.len()))
    }
    fn detach(item: Line, bytes: &[u8]) -> Line {
        match item {
            Line::In(_) => Line::Own(item.text(bytes).into_bytes()),
            own => own,
        }
    }
}

fn texts(packets: &[(Timestamp, Vec<u8>)], cfg: PipelineConfig, with_bytes: bool) -> Vec<String> {
    let ecfg = EngineConfig::default();
    let mut p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .config(cfg)
        .sink(Text)
        .build(MemorySource::new(raws(packets)))
        .unwrap();
    let mut got = Vec::new();
    if with_bytes {
        p.consume_with_bytes(|line, bytes| {
            got.push(line.text(bytes));
            true
        });
    } else {
        p.consume(|line| {
            assert!(matches!(line, Line::Own(_)), "handed over detached");
            got.push(line.text(&[]));
            true
        });
    }
    let report = p.join().unwrap();
    assert_eq!(
        report.shards.iter().map(|s| s.items).sum::<u64>(),
        got.len() as u64
    );
    got
}

#[test]
fn every_item_comes_with_its_own_bytes_in_the_inline_order() {
    let packets = busy_trace();
    let want: Vec<String> = inline(&packets, 64).iter().map(text_of).collect();
    assert!(want.len() > 1000, "a trace with many events");
    for shards in [1, 2, 3] {
        for (merger_thread, with_bytes) in
            [(false, true), (false, false), (true, true), (true, false)]
        {
            for batch_packets in [1, 7, 256] {
                let cfg = PipelineConfig {
                    shards: Some(shards),
                    pin: Some(false),
                    merger_thread,
                    batch_packets,
                    epoch_packets: 64,
                    ..PipelineConfig::default()
                };
                let got = texts(&packets, cfg, with_bytes);
                assert!(
                    got == want,
                    "{shards} shards, merger thread {merger_thread}, bytes {with_bytes}, batches of {batch_packets}"
                );
            }
        }
    }
}
