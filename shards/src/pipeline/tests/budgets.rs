//! Process-wide budgets: every shard holds its share of `flow.max_flows`
//! (and hooks are told their share), so a flood holds as many flows with
//! one shard as with four, and runs are reproducible.

use super::*;
use flowscope_engine::{EndReason, FlowHook, HookFlow, HookItem, HookPacket, Share, Verdict};
use std::sync::Mutex;

/// A SYN flood: `n` TCP SYNs from distinct (spoofed) sources, 1 ms apart.
fn flood(n: u16) -> Vec<(Timestamp, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let ts = Timestamp::from_nanos(1_000_000_000_000 + u64::from(i) * 1_000_000);
            (
                ts,
                ipv4((i % 250) as u8 + 3, 2, 6, 0, 0, &tcp(1024 + i, 80, 0x02, 1)),
            )
        })
        .collect()
}

fn run(
    packets: &[(Timestamp, Vec<u8>)],
    max_flows: usize,
    shards: usize,
) -> (Vec<String>, PipelineReport<MemorySource>) {
    let mut ecfg = EngineConfig::default();
    ecfg.flow.max_flows = max_flows;
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .shards(shards)
        .pin(false)
        .build(MemorySource::new(raws(packets)))
        .unwrap();
    let events: Vec<Event> = p.into_iter().collect();
    (render(&events), p.join().unwrap())
}

#[test]
fn the_flow_budget_is_shared_by_the_shards() {
    let packets = flood(3000);
    for shards in [1, 2, 3, 4] {
        let (events, report) = run(&packets, 100, shards);
        let held: u64 = report.shards.iter().map(|s| s.peak_flows).sum();
        assert!(held <= 100, "{shards} shards held {held} flows at once");
        for (k, s) in report.shards.iter().enumerate() {
            let share = Share {
                index: k,
                count: shards,
            }
            .of(100) as u64;
            assert!(
                s.peak_flows <= share,
                "shard {k} of {shards}: {} > {share}",
                s.peak_flows
            );
            assert_eq!(
                s.engine.emergency_entered, 1,
                "shard {k} of {shards} filled up"
            );
        }
        let evicted: u64 = report
            .shards
            .iter()
            .map(|s| s.engine.flows_ended[EndReason::Evicted.index()])
            .sum();
        assert_eq!(
            evicted,
            3000 - held,
            "every flow beyond the budget was evicted"
        );
        let (again, _) = run(&packets, 100, shards);
        assert_eq!(events, again, "{shards} shards: the same output run to run");
    }
}

/// Records the share each hook is given.
struct ShareProbe(Arc<Mutex<Vec<Share>>>);

impl FlowHook<FiveTupleKey> for ShareProbe {
    type Message = flowscope_engine::NoMessage;

    fn take_share(&mut self, share: Share) {
        self.0.lock().unwrap().push(share);
    }

    fn on_packet(
        &mut self,
        _: &HookPacket<'_, FiveTupleKey>,
        _: &mut Vec<HookItem<Self::Message>>,
    ) -> Verdict {
        Verdict::Continue
    }

    fn on_end(
        &mut self,
        _: &HookFlow<'_, FiveTupleKey>,
        _: EndReason,
        _: Timestamp,
        _: &mut flowscope_engine::FlowStats,
        _: &mut Vec<HookItem<Self::Message>>,
    ) {
    }
}

#[test]
fn every_shard_hook_is_told_its_share() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let probe = seen.clone();
    let ecfg = EngineConfig::default();
    let p = Pipeline::builder(ecfg.clone(), extractor(&ecfg))
        .shards(3)
        .pin(false)
        .hook(move || ShareProbe(probe.clone()))
        .build(MemorySource::new(raws(&flood(10))))
        .unwrap();
    let _ = p.into_iter().count();
    p.join().unwrap();
    let mut got = seen.lock().unwrap().clone();
    got.sort_by_key(|s| s.index);
    let want: Vec<Share> = (0..3).map(|index| Share { index, count: 3 }).collect();
    assert_eq!(got, want);
}
