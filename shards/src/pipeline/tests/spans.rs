//! The offline ingest walking a source's bytes in spans
//! ([`PacketSource::stretch`]): the same output as the inline engine
//! whether the guessed record boundaries are right, wrong or missing, with
//! damage mid-stretch (read and reported by the source, once) and a stop
//! request while spans are in flight.

use super::*;
use crate::pipeline::ingest::pool::SPAN_BYTES;
use crate::source::{RecordWalk, SharedBytes, Stretch};
use std::sync::atomic::AtomicU64;

/// Records: a u16 length (0xffff: damage), u32 seconds, u32 nanoseconds,
/// then the bytes.
fn frame(packets: &[(Timestamp, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (ts, data) in packets {
        out.extend_from_slice(&(data.len() as u16).to_le_bytes());
        out.extend_from_slice(&(ts.secs() as u32).to_le_bytes());
        out.extend_from_slice(&ts.subsec_nanos().to_le_bytes());
        out.extend_from_slice(data);
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Guess {
    /// The first record start in the span.
    Right,
    /// One byte past the span's start: never where the walk before ended.
    Wrong,
    /// No boundary found.
    Missing,
}

struct Walk {
    bytes: Arc<Vec<u8>>,
    starts: Vec<usize>,
    guess: Guess,
    /// Sets the stop flag once this many records were walked.
    stop_after: Option<(u64, Arc<AtomicBool>)>,
    walked: AtomicU64,
}

impl Walk {
    fn record(&self, at: usize) -> Option<(RawPacket<'_>, usize)> {
        let b = &self.bytes;
        let len = u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?);
        if len == 0xffff {
            return None;
        }
        let secs = u32::from_le_bytes(b.get(at + 2..at + 6)?.try_into().ok()?);
        let nanos = u32::from_le_bytes(b.get(at + 6..at + 10)?.try_into().ok()?);
        let end = at + 10 + usize::from(len);
        let data = b.get(at + 10..end)?;
        let raw = RawPacket {
            ts: Timestamp::new(u64::from(secs), nanos),
            linktype: LinkType::RAW,
            wire_len: u32::from(len),
            iface: 0,
            data,
        };
        Some((raw, end))
    }
}

impl RecordWalk for Walk {
    fn find_start(&self, from: usize, to: usize) -> Option<usize> {
        match self.guess {
            Guess::Right => {
                let i = self.starts.partition_point(|&s| s < from);
                self.starts.get(i).copied().filter(|&s| s < to)
            }
            Guess::Wrong => Some(from + 1),
            Guess::Missing => None,
        }
    }

    fn walk(&self, at: usize, until: usize, each: &mut dyn FnMut(RawPacket<'_>)) -> usize {
        let mut pos = at;
        while pos < until {
            let Some((raw, next)) = self.record(pos) else {
                return pos;
            };
            each(raw);
            pos = next;
            let n = self.walked.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some((after, stop)) = &self.stop_after
                && n >= *after
            {
                stop.store(true, Ordering::SeqCst);
            }
        }
        pos
    }
}

/// Framed records in memory, offered as a stretch.
struct Framed {
    walk: Arc<Walk>,
    storage: SharedBytes,
    pos: usize,
    damage_reported: bool,
}

impl Framed {
    fn new(bytes: Vec<u8>, guess: Guess, stop_after: Option<(u64, Arc<AtomicBool>)>) -> Self {
        let bytes = Arc::new(bytes);
        let mut walk = Walk {
            bytes: bytes.clone(),
            starts: Vec::new(),
            guess,
            stop_after,
            walked: AtomicU64::new(0),
        };
        let mut at = 0;
        while let Some((_, next)) = walk.record(at) {
            walk.starts.push(at);
            at = next;
        }
        Framed {
            walk: Arc::new(walk),
            storage: bytes,
            pos: 0,
            damage_reported: false,
        }
    }
}

impl PacketSource for Framed {
    fn next_packet(&mut self) -> Option<Result<SourcePacket<'_>, SourceError>> {
        if self.damage_reported {
            return None;
        }
        match self.walk.record(self.pos) {
            Some((raw, next)) => {
                self.pos = next;
                Some(Ok(SourcePacket {
                    raw,
                    storage: Storage::Shared(&self.storage),
                }))
            }
            None if self.pos < self.walk.bytes.len() => {
                self.damage_reported = true;
                Some(Err(SourceError::Failed(format!("damage at {}", self.pos))))
            }
            None => None,
        }
    }

    fn stretch(&mut self) -> Option<Stretch> {
        let end = self.walk.bytes.len();
        (!self.damage_reported && self.pos < end).then(|| Stretch {
            storage: self.storage.clone(),
            walk: self.walk.clone(),
            start: self.pos,
            end,
        })
    }

    fn walked(&mut self, at: usize, _packets: u64) {
        self.pos = at;
    }
}

fn run(
    src: Framed,
    shards: usize,
    threads: usize,
    stop: Option<Arc<AtomicBool>>,
) -> (Vec<Event>, IngestReport) {
    let ecfg = EngineConfig::default();
    let mut b = Pipeline::builder(ecfg.clone(), extractor(&ecfg)).config(PipelineConfig {
        shards: Some(shards),
        pin: Some(false),
        epoch_packets: 256,
        ingest_threads: threads,
        batch_packets: 100,
        merger_thread: true,
        ..PipelineConfig::default()
    });
    if let Some(stop) = stop {
        b = b.stop_flag(stop);
    }
    let p = b.build(src).unwrap();
    let got: Vec<Event> = p.into_iter().collect();
    (got, p.join().unwrap().ingest)
}

#[test]
fn spans_give_the_inline_output_whatever_the_guesses() {
    let packets = long_trace_bytes();
    let bytes = frame(&packets);
    assert!(bytes.len() > 50 * SPAN_BYTES, "many spans");
    let want = render(&inline(&packets, 256));
    for guess in [Guess::Right, Guess::Wrong, Guess::Missing] {
        for (threads, shards) in [(2, 1), (3, 3), (4, 2)] {
            let (got, ingest) = run(
                Framed::new(bytes.clone(), guess, None),
                shards,
                threads,
                None,
            );
            let what = format!("threads={threads} shards={shards}");
            assert_eq!(render(&got), want, "{what}");
            assert_eq!(ingest.packets, packets.len() as u64, "{what}");
            assert_eq!(ingest.walked_packets, packets.len() as u64, "{what}");
            if guess == Guess::Right {
                assert_eq!(ingest.spans_rewalked, 0, "{what}");
            } else {
                // Every span but the first starts at a wrong guess.
                let spans = bytes.len().div_ceil(SPAN_BYTES) as u64;
                assert_eq!(ingest.spans_rewalked, spans - 1, "{what}");
            }
        }
    }
    // One ingest thread reads packet by packet.
    let (got, ingest) = run(Framed::new(bytes, Guess::Right, None), 2, 1, None);
    assert_eq!(render(&got), want);
    assert_eq!(ingest.walked_packets, 0);
}

#[test]
fn damage_mid_stretch_is_read_and_reported_by_the_source() {
    let packets = long_trace_bytes();
    let cut = packets.len() * 3 / 5;
    let mut bytes = frame(&packets[..cut]);
    bytes.extend_from_slice(&[0xff, 0xff, 0, 0]);
    bytes.extend_from_slice(&frame(&packets[cut..]));
    let want = render(&inline(&packets[..cut], 256));
    for guess in [Guess::Right, Guess::Wrong] {
        let (got, ingest) = run(Framed::new(bytes.clone(), guess, None), 2, 3, None);
        assert_eq!(render(&got), want);
        assert_eq!(ingest.packets, cut as u64);
        assert_eq!(ingest.walked_packets, cut as u64);
        let at = frame(&packets[..cut]).len();
        assert_eq!(
            ingest.source_errors,
            vec![SourceError::Failed(format!("damage at {at}"))],
            "reported once, by the source"
        );
    }
}

#[test]
fn a_stop_while_spans_are_in_flight_ends_the_input_on_a_prefix() {
    let packets = long_trace_bytes();
    let bytes = frame(&packets);
    for threads in [2, 3] {
        let stop = Arc::new(AtomicBool::new(false));
        let src = Framed::new(bytes.clone(), Guess::Right, Some((2000, stop.clone())));
        let (got, ingest) = run(src, 2, threads, Some(stop));
        assert!(ingest.stopped);
        let n = ingest.packets as usize;
        assert!(n < packets.len(), "stopped early: {n}");
        // What was dispatched is a prefix of the input, and it is all
        // there: the events of those packets alone.
        assert_eq!(render(&got), render(&inline(&packets[..n], 256)));
    }
}

/// A trace long enough for several spans.
fn long_trace_bytes() -> Vec<(Timestamp, Vec<u8>)> {
    busy_rounds(3)
}
