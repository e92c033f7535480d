//! The anomalies a parser has found that the session driver has not taken
//! yet ([`Anomalies`]): the one bounded queue every built-in parser keeps
//! them in, oldest first.

use crate::AppEvent;
use std::collections::VecDeque;

/// The anomaly that stands for those a full queue could not hold.
pub const TOO_MANY_ANOMALIES: &str = "too_many_anomalies";

/// Anomalies waiting for the driver, which takes them after each chunk or
/// datagram (`next_event` of the session API): at most `CAP` are held.
/// Past that they are counted, and once the held ones are taken one
/// [`TOO_MANY_ANOMALIES`] of the protocol stands for them: a cap reported
/// when hit.
#[derive(Debug, Clone, Default)]
pub(crate) struct Anomalies<const CAP: usize> {
    queue: VecDeque<AppEvent>,
    /// Anomalies not kept since the last report, and their protocol.
    dropped: Option<&'static str>,
}

impl<const CAP: usize> Anomalies<CAP> {
    /// Queues `event` of protocol `proto` (for transaction `tx_id`).
    pub fn push(&mut self, proto: &'static str, event: &'static str, tx_id: Option<u64>) {
        if self.queue.len() < CAP {
            self.queue.push_back(AppEvent {
                proto,
                event,
                tx_id,
            });
        } else {
            self.dropped = Some(proto);
        }
    }

    /// Anomalies held (tests check the bound).
    #[cfg(test)]
    #[cfg_attr(
        not(any(feature = "http2", feature = "rfb", feature = "sip")),
        allow(dead_code)
    )]
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// The oldest anomaly, taken.
    pub fn next(&mut self) -> Option<AppEvent> {
        self.queue.pop_front().or_else(|| {
            self.dropped.take().map(|proto| AppEvent {
                proto,
                event: TOO_MANY_ANOMALIES,
                tx_id: None,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_oldest_up_to_its_bound_then_says_so() {
        let mut p = Anomalies::<2>::default();
        p.push("x", "a", None);
        p.push("x", "b", Some(1));
        p.push("x", "c", None);
        p.push("x", "d", None);
        assert_eq!(p.next().map(|e| e.event), Some("a"));
        let b = p.next().unwrap();
        assert_eq!((b.proto, b.event, b.tx_id), ("x", "b", Some(1)));
        let over = p.next().unwrap();
        assert_eq!(
            (over.proto, over.event, over.tx_id),
            ("x", TOO_MANY_ANOMALIES, None)
        );
        assert!(p.next().is_none());
        p.push("x", "e", None);
        assert_eq!(p.next().map(|e| e.event), Some("e"));
        assert!(p.next().is_none());
    }
}
