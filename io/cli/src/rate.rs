//! Numbers with SI suffixes and packet rates, as the command line takes
//! them (`--rate 2Mpps`).

/// A number with an optional `k`, `M` or `G` suffix (powers of 1000,
/// either case): `1.5M`, `500k`, `250000`. `None` unless finite and not
/// negative.
pub fn parse_si(s: &str) -> Option<f64> {
    let t = s.trim();
    let (num, scale) = match t.chars().last()? {
        'k' | 'K' => (&t[..t.len() - 1], 1e3),
        'm' | 'M' => (&t[..t.len() - 1], 1e6),
        'g' | 'G' => (&t[..t.len() - 1], 1e9),
        _ => (t, 1.0),
    };
    let x = num.trim().parse::<f64>().ok()? * scale;
    (x.is_finite() && x >= 0.0).then_some(x)
}

/// The slowest and the fastest `--rate`, packets per second.
pub const RATE_RANGE: (f64, f64) = (1.0, 1e9);

/// A packet rate: `2Mpps`, `500kpps`, `1.5M`, `250000` or `250000pps`
/// (packets per second), within [`RATE_RANGE`].
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let digits = t
        .strip_suffix("pps")
        .or_else(|| t.strip_suffix("PPS"))
        .unwrap_or(t);
    match parse_si(digits) {
        Some(x) if (RATE_RANGE.0..=RATE_RANGE.1).contains(&x) => Ok(x),
        Some(_) => Err(format!(
            "`{s}` is out of range: it must be between 1pps and 1Gpps"
        )),
        None => Err(format!(
            "`{s}` is not a packet rate (examples: 2Mpps, 500kpps, 100000)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_rate;

    #[test]
    fn rates_parse_with_units() {
        assert_eq!(parse_rate("2Mpps"), Ok(2e6));
        assert_eq!(parse_rate("500kpps"), Ok(5e5));
        assert_eq!(parse_rate("1.5M"), Ok(1.5e6));
        assert_eq!(parse_rate("250000"), Ok(250_000.0));
        assert_eq!(parse_rate(" 3 kpps "), Ok(3000.0));
        assert_eq!(parse_rate("1Gpps"), Ok(1e9));
        for bad in [
            "", "fast", "0", "0.5", "-5k", "1e999", "1e100", "2G", "Mpps",
        ] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }
}
