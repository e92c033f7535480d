//! Numbers written in ASCII decimal, as text protocols carry them (FTP's
//! ports, HTTP's ranges).

/// The decimal number of 1 to `max_digits` ASCII digits at the start of
/// `b`, and what follows it; `None` without a digit, with more digits or
/// past `u64` (text protocols' numbers: FTP's ports, HTTP's ranges).
pub(super) fn decimal_prefix(b: &[u8], max_digits: usize) -> Option<(u64, &[u8])> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > max_digits {
        return None;
    }
    let mut v: u64 = 0;
    for &d in &b[..n] {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some((v, &b[n..]))
}

#[cfg(test)]
mod tests {
    use super::decimal_prefix;

    #[test]
    fn leading_digits_and_the_rest() {
        assert_eq!(decimal_prefix(b"8080|)", 5), Some((8080, &b"|)"[..])));
        assert_eq!(decimal_prefix(b"123456", 5), None);
        assert_eq!(decimal_prefix(b"x1", 5), None);
        assert_eq!(decimal_prefix(b"", 5), None);
        assert_eq!(
            decimal_prefix(b"18446744073709551615/", usize::MAX),
            Some((u64::MAX, &b"/"[..]))
        );
        assert_eq!(decimal_prefix(b"18446744073709551616", usize::MAX), None);
    }
}
