//! Packet-clock timestamps: the engine's only notion of time.
//!
//! The engine never reads a wall clock. Every timestamp comes from a captured
//! packet (or from the caller, for timer ticks), so replaying a capture twice
//! gives the same output.

use std::fmt;
use std::time::Duration;

/// A point in time, in nanoseconds since the Unix epoch.
///
/// Captures carry microsecond or nanosecond (or other `if_tsresol`)
/// precision; all of them fit. The range ends in the year 2554.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

const NANOS_PER_SEC: u64 = 1_000_000_000;

impl Timestamp {
    /// The epoch itself.
    pub const ZERO: Timestamp = Timestamp(0);
    /// Later than any capture time; useful to force every timer to fire.
    pub const MAX: Timestamp = Timestamp(u64::MAX);

    /// From whole seconds and nanoseconds within the second (`nsec` may exceed
    /// one second; the excess carries into the seconds). Saturates at [`Timestamp::MAX`].
    #[inline]
    pub const fn new(sec: u64, nsec: u32) -> Self {
        Timestamp(
            sec.saturating_mul(NANOS_PER_SEC)
                .saturating_add(nsec as u64),
        )
    }

    /// From nanoseconds since the epoch.
    #[inline]
    pub const fn from_nanos(nanos: u64) -> Self {
        Timestamp(nanos)
    }

    /// From microseconds since the epoch (saturating).
    #[inline]
    pub const fn from_micros(micros: u64) -> Self {
        Timestamp(micros.saturating_mul(1_000))
    }

    /// Nanoseconds since the epoch.
    #[inline]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Whole seconds since the epoch.
    #[inline]
    pub const fn secs(self) -> u64 {
        self.0 / NANOS_PER_SEC
    }

    /// Nanoseconds within the current second.
    #[inline]
    pub const fn subsec_nanos(self) -> u32 {
        (self.0 % NANOS_PER_SEC) as u32
    }

    /// Microseconds within the current second (truncated).
    #[inline]
    pub const fn subsec_micros(self) -> u32 {
        self.subsec_nanos() / 1_000
    }

    /// `self - earlier`, or zero when `earlier` is later.
    #[inline]
    pub const fn saturating_sub(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, saturating at [`Timestamp::MAX`].
    #[inline]
    pub fn saturating_add(self, d: Duration) -> Timestamp {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Timestamp(self.0.saturating_add(nanos))
    }

    /// The later of two timestamps.
    #[inline]
    pub fn max(self, other: Timestamp) -> Timestamp {
        if other.0 > self.0 { other } else { self }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.secs(), self.subsec_nanos())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl From<Timestamp> for Duration {
    fn from(ts: Timestamp) -> Duration {
        Duration::from_nanos(ts.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip() {
        let ts = Timestamp::new(1_700_000_000, 123_456_789);
        assert_eq!(ts.secs(), 1_700_000_000);
        assert_eq!(ts.subsec_nanos(), 123_456_789);
        assert_eq!(ts.subsec_micros(), 123_456);
        assert_eq!(ts.to_string(), "1700000000.123456789");
    }

    #[test]
    fn nanos_carry_into_seconds() {
        assert_eq!(
            Timestamp::new(1, 1_500_000_000),
            Timestamp::new(2, 500_000_000)
        );
    }

    #[test]
    fn arithmetic_saturates() {
        let a = Timestamp::new(10, 0);
        let b = Timestamp::new(12, 500_000_000);
        assert_eq!(b.saturating_sub(a), Duration::from_millis(2500));
        assert_eq!(a.saturating_sub(b), Duration::ZERO);
        assert_eq!(
            Timestamp::MAX.saturating_add(Duration::from_secs(1)),
            Timestamp::MAX
        );
        assert_eq!(Timestamp::new(u64::MAX, 0), Timestamp::MAX);
        assert_eq!(a.max(b), b);
    }
}
