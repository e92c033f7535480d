//! A latency histogram's whole percentile distribution, kept with a run's
//! results ([`Distribution`]) and written as HdrHistogram's `.hgrm`
//! percentile-distribution text, the format its own plotter and other tools
//! read.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Percentile ticks per half distance to 100 %, as HdrHistogram's own
/// `outputPercentileDistribution` writes them by default.
const TICKS_PER_HALF: u32 = 5;

/// One point of a percentile distribution.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Point {
    /// Latency, microseconds.
    pub value_us: f64,
    /// Share of the recordings at or below it (0 to 1).
    pub percentile: f64,
    /// Recordings at or below it.
    pub total_count: u64,
}

/// One histogram's percentile distribution (microseconds).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Distribution {
    /// The latency stage (`total` is ingest→event).
    pub stage: String,
    pub points: Vec<Point>,
    pub mean_us: f64,
    pub stddev_us: f64,
    pub max_us: f64,
    pub count: u64,
    /// The histogram's bucket layout, for the `.hgrm` footer.
    pub buckets: u32,
    pub sub_buckets: u32,
}

impl Distribution {
    /// From a histogram of nanoseconds; `None` when it is empty.
    pub fn of(stage: &str, h: &Histogram<u64>) -> Option<Self> {
        if h.is_empty() {
            return None;
        }
        let us = |ns: f64| ns / 1e3;
        let mut total = 0;
        let points = h
            .iter_quantiles(TICKS_PER_HALF)
            .map(|v| {
                total += v.count_since_last_iteration();
                Point {
                    value_us: us(h.highest_equivalent(v.value_iterated_to()) as f64),
                    percentile: v.quantile_iterated_to(),
                    total_count: total,
                }
            })
            .collect();
        Some(Distribution {
            stage: stage.to_owned(),
            points,
            mean_us: us(h.mean()),
            stddev_us: us(h.stdev()),
            max_us: us(h.max() as f64),
            count: h.len(),
            buckets: h.buckets() as u32,
            // As HdrHistogram counts them: the sub-buckets that give the
            // histogram's precision.
            sub_buckets: (2 * 10u32.pow(u32::from(h.sigfig()))).next_power_of_two(),
        })
    }

    /// HdrHistogram's percentile-distribution text (values in
    /// microseconds).
    pub fn hgrm(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:>12} {:>14} {:>10} {:>14}\n",
            "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
        );
        for p in &self.points {
            if p.percentile < 1.0 {
                let _ = writeln!(
                    s,
                    "{:>12.3} {:>14.12} {:>10} {:>14.2}",
                    p.value_us,
                    p.percentile,
                    p.total_count,
                    1.0 / (1.0 - p.percentile)
                );
            } else {
                let _ = writeln!(
                    s,
                    "{:>12.3} {:>14.12} {:>10}",
                    p.value_us, p.percentile, p.total_count
                );
            }
        }
        let _ = writeln!(
            s,
            "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]",
            self.mean_us, self.stddev_us
        );
        let _ = writeln!(
            s,
            "#[Max     = {:>12.3}, Total count    = {:>12}]",
            self.max_us, self.count
        );
        let _ = writeln!(
            s,
            "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
            self.buckets, self.sub_buckets
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distributions_read_as_hdrhistogram_text() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for ns in 1..=1000u64 {
            h.record(ns * 1000).unwrap(); // 1 µs .. 1 ms
        }
        let d = Distribution::of("total", &h).unwrap();
        assert_eq!(d.count, 1000);
        let text = d.hgrm();
        let rows: Vec<Vec<f64>> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty() && !l.contains("Value"))
            .map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect())
            .collect();
        // Values and percentiles rise; the median is about 500 µs; the last
        // row is 100 % at the maximum.
        assert!(
            rows.windows(2)
                .all(|w| w[0][0] <= w[1][0] && w[0][1] <= w[1][1])
        );
        let median = rows.iter().find(|r| r[1] >= 0.5).unwrap();
        assert!((490.0..=510.0).contains(&median[0]), "{median:?}");
        let last = rows.last().unwrap();
        assert_eq!(last[1], 1.0);
        assert_eq!(last[2], 1000.0);
        assert!(text.contains("#[Max     ="), "{text}");
        assert!(text.contains("Total count    =         1000"), "{text}");
    }
}
