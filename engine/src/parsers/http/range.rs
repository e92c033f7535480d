//! The `Content-Range` response header read as Suricata 7 reads it for
//! its `http.content_range` object (RFC 9110 §14.4): a unit, then either
//! `START-END/SIZE` (SIZE may be `*`) or `*/SIZE`.

use crate::parsers::digits::decimal_prefix;

/// A `Content-Range` value's numbers; `None` where the value has none
/// (`*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContentRange {
    /// The first byte position.
    pub start: Option<u64>,
    /// The last byte position.
    pub end: Option<u64>,
    /// The complete length.
    pub size: Option<u64>,
}

/// Reads `value`: spaces, the unit (up to a space), spaces, then the range.
/// `None` when it does not read (Suricata then writes the raw value
/// alone). Numbers are at most 63 bits, as Suricata's.
pub fn content_range(value: &[u8]) -> Option<ContentRange> {
    let rest = trim_spaces(value);
    let unit = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    let rest = trim_spaces(&rest[unit..]);
    if let Some(size) = rest.strip_prefix(b"*/") {
        return Some(ContentRange {
            size: Some(number(size)?.0),
            ..ContentRange::default()
        });
    }
    let (start, rest) = number(rest)?;
    let rest = rest.strip_prefix(b"-")?;
    let (end, rest) = number(rest)?;
    let rest = rest.strip_prefix(b"/")?;
    let size = if rest.first() == Some(&b'*') {
        None
    } else {
        Some(number(rest)?.0)
    };
    Some(ContentRange {
        start: Some(start),
        end: Some(end),
        size,
    })
}

fn trim_spaces(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&c| c == b' ').count();
    &b[n..]
}

/// The digits at the start of `b` (a signed 64-bit number, as
/// Suricata's) and what follows them.
fn number(b: &[u8]) -> Option<(u64, &[u8])> {
    decimal_prefix(b, usize::MAX).filter(|&(v, _)| v <= i64::MAX as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: Option<u64>, end: Option<u64>, size: Option<u64>) -> Option<ContentRange> {
        Some(ContentRange { start, end, size })
    }

    #[test]
    fn ranges_as_suricata_reads_them() {
        assert_eq!(
            content_range(b"bytes 0-9418654/9418655"),
            r(Some(0), Some(9_418_654), Some(9_418_655))
        );
        assert_eq!(
            content_range(b"bytes 500-999/*"),
            r(Some(500), Some(999), None)
        );
        assert_eq!(content_range(b"bytes */1234"), r(None, None, Some(1234)));
        assert_eq!(
            content_range(b"  bytes   1-2/3"),
            r(Some(1), Some(2), Some(3))
        );
        // Anything else reads as nothing (the raw value is still written).
        for bad in [
            &b""[..],
            b"bytes",
            b"bytes 1-/3",
            b"bytes -2/3",
            b"bytes 1-2",
            b"bytes 1-2/x",
            b"bytes 99999999999999999999-1/2",
            b"bytes 9223372036854775808-1/2",
        ] {
            assert_eq!(content_range(bad), None, "{bad:?}");
        }
    }
}
