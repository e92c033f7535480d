//! The parsers' close calls and creation, as each run's sessions show
//! them: `fin_*` calls per close reason (the frame parser answers every
//! `fin_*` call with one `fin:<pending>` message), frame parsers told of
//! the close on flows that carried no payload (so made at the flow's
//! start), and empty datagrams passed to `parse` (`short:0`).

use std::collections::BTreeMap;

use super::model::{Close, Kind, Sess};

/// One run's tally.
#[derive(Debug, Default)]
pub struct Calls {
    /// Per close reason: frame-parser flows, and their `fin_initiator` /
    /// `fin_responder` calls.
    pub fin: BTreeMap<Close, (u64, [u64; 2])>,
    /// Frame-parser flows whose `fin_*` calls were not one per side at a
    /// FIN, idle or end-of-input close and none at any other.
    pub off: u64,
    /// Frame-parser flows without payload (their only messages `fin:0`)
    /// whose parser was told of the close.
    pub bare_told: u64,
    /// Empty datagrams the datagram parser was given.
    pub empty_datagrams: u64,
}

impl Calls {
    /// Adds one capture's sessions.
    pub fn add(&mut self, sessions: &[Sess]) {
        for s in sessions {
            match s.kind {
                Kind::Frame => self.frame(s),
                Kind::Dgram => {
                    self.empty_datagrams +=
                        s.msgs.iter().flatten().filter(|m| *m == "short:0").count() as u64;
                }
                Kind::Line => {}
            }
        }
    }

    fn frame(&mut self, s: &Sess) {
        let calls = [s.initiator, 1 - s.initiator]
            .map(|ep| s.msgs[ep].iter().filter(|m| m.starts_with("fin:")).count() as u64);
        let (flows, n) = self.fin.entry(s.close).or_default();
        *flows += 1;
        n[0] += calls[0];
        n[1] += calls[1];
        let expected = u64::from(matches!(s.close, Close::Fin | Close::Idle | Close::End));
        if calls != [expected; 2] {
            self.off += 1;
        }
        if calls == [1, 1] && s.msgs.iter().flatten().all(|m| m == "fin:0") {
            self.bare_told += 1;
        }
    }

    /// The `fin_*` line of the summary: per close reason, calls to
    /// `fin_initiator` / `fin_responder` for that many flows.
    pub fn fin_line(&self) -> String {
        let parts: Vec<String> = self
            .fin
            .iter()
            .map(|(close, (flows, n))| format!("{close:?} {}/{} for {flows}", n[0], n[1]))
            .collect();
        parts.join(", ")
    }
}
