//! Bencode (BEP 3), as BitTorrent's DHT messages carry it: [`check`] reads
//! one value from the start of a datagram and checks it once — integers
//! and string lengths in canonical form (no leading zero, no `-0`), dict
//! keys byte strings in strictly ascending order, every container closed,
//! at most a given number of containers open at once — and hands it out
//! as zero-copy views ([`Value`], [`List`], [`Dict`]) whose accessors
//! cannot fail. The rules are those of the decoder Suricata 7 reads DHT
//! with (the bendy crate), so a datagram is well-formed here exactly when
//! it is there. Nothing allocates; the open containers' state is a fixed
//! array of [`DEPTH_LIMIT`] entries.

use super::super::digits::decimal_prefix;
use super::super::reader::Reader;

/// Most containers open at once any caller may allow.
pub(super) const DEPTH_LIMIT: usize = 8;

/// Why bytes are not one well-formed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Malformed {
    /// Not bencode: an unknown token, a number not in canonical form, a
    /// string past the end, a dict key that is no string or not above the
    /// one before, a key without a value, a container left open.
    Syntax,
    /// More containers open at once than allowed.
    TooDeep,
}

/// An integer's text: its sign and its digits (canonical: `0`, or no
/// leading zero; never `-0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Int<'a> {
    negative: bool,
    digits: &'a [u8],
}

impl Int<'_> {
    /// Its value as a `T` (an unsigned type), when it is one.
    pub(super) fn unsigned<T: TryFrom<u64>>(self) -> Option<T> {
        if self.negative {
            return None;
        }
        // 20 digits hold every u64; more are past it.
        match decimal_prefix(self.digits, 20)? {
            (v, []) => T::try_from(v).ok(),
            _ => None,
        }
    }
}

/// A checked value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Value<'a> {
    /// `i…e`.
    Int(Int<'a>),
    /// `N:…`: a byte string.
    Bytes(&'a [u8]),
    /// `l…e`.
    List(List<'a>),
    /// `d…e`.
    Dict(Dict<'a>),
}

/// A checked list: the items between `l` and `e`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct List<'a> {
    items: &'a [u8],
}

/// A checked dict: the key and value pairs between `d` and `e`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Dict<'a> {
    pairs: &'a [u8],
}

/// One token.
enum Token<'a> {
    Int(Int<'a>),
    Bytes(&'a [u8]),
    List,
    Dict,
    End,
}

/// The next token; `None` when the bytes are none.
fn token<'a>(r: &mut Reader<'a>) -> Option<Token<'a>> {
    Some(match r.peek()? {
        b'0'..=b'9' => {
            let len = canonical(r.take_while(u8::is_ascii_digit))?;
            if r.u8()? != b':' {
                return None;
            }
            Token::Bytes(r.take(usize::try_from(len).ok()?)?)
        }
        b'i' => {
            r.u8();
            let negative = r.peek() == Some(b'-');
            if negative {
                r.u8();
            }
            let digits = r.take_while(u8::is_ascii_digit);
            canonical(digits)?;
            if (negative && digits == b"0") || r.u8()? != b'e' {
                return None;
            }
            Token::Int(Int { negative, digits })
        }
        b'l' => {
            r.u8();
            Token::List
        }
        b'd' => {
            r.u8();
            Token::Dict
        }
        b'e' => {
            r.u8();
            Token::End
        }
        _ => return None,
    })
}

/// The value of digits in canonical form (some, no leading zero but in
/// `0` itself), or `None`. A value past `u64` is no length any datagram
/// has; an integer's digits are checked for their form only.
fn canonical(digits: &[u8]) -> Option<u64> {
    match digits {
        [] => None,
        [b'0', _, ..] => None,
        // More than 20 digits: an integer, not a length (its value is
        // not needed).
        d if d.len() > 20 => Some(u64::MAX),
        d => Some(decimal_prefix(d, 20).map_or(u64::MAX, |(v, _)| v)),
    }
}

/// A container still open while checking.
#[derive(Clone, Copy, Default)]
struct Open<'a> {
    dict: bool,
    /// A dict's last key.
    key: Option<&'a [u8]>,
    /// A dict's key was read; its value is next.
    value_due: bool,
}

/// One whole value at the start of `b`, checked, with at most `max_depth`
/// containers open at once (capped at [`DEPTH_LIMIT`]), and the bytes
/// after it (not looked at).
pub(super) fn check(b: &[u8], max_depth: usize) -> Result<(Value<'_>, &[u8]), Malformed> {
    let max_depth = max_depth.min(DEPTH_LIMIT);
    let mut open = [Open::default(); DEPTH_LIMIT];
    let mut depth = 0usize;
    let mut r = Reader::new(b);
    loop {
        let t = token(&mut r).ok_or(Malformed::Syntax)?;
        if let Some(o) = depth.checked_sub(1).map(|i| &mut open[i])
            && o.dict
        {
            match (o.value_due, &t) {
                // A key without its value.
                (true, Token::End) => return Err(Malformed::Syntax),
                (true, _) => o.value_due = false,
                (false, Token::Bytes(k)) => {
                    if o.key.is_some_and(|last| last >= *k) {
                        return Err(Malformed::Syntax);
                    }
                    o.key = Some(k);
                    o.value_due = true;
                    continue;
                }
                (false, Token::End) => {}
                // A key that is no string.
                (false, _) => return Err(Malformed::Syntax),
            }
        }
        match t {
            Token::List | Token::Dict => {
                if depth == max_depth {
                    return Err(Malformed::TooDeep);
                }
                open[depth] = Open {
                    dict: matches!(t, Token::Dict),
                    ..Open::default()
                };
                depth += 1;
            }
            Token::End => {
                // The end of nothing: not bencode.
                if depth == 0 {
                    return Err(Malformed::Syntax);
                }
                depth -= 1;
            }
            Token::Int(_) | Token::Bytes(_) => {}
        }
        if depth == 0 {
            break;
        }
    }
    let (value, rest) = b.split_at(r.pos());
    let v = next(&mut Reader::new(value), value).ok_or(Malformed::Syntax)?;
    Ok((v, rest))
}

/// The next value of checked bytes `buf` that `r` reads; `None` at the
/// end (or at an `e`).
fn next<'a>(r: &mut Reader<'a>, buf: &'a [u8]) -> Option<Value<'a>> {
    let t = token(r)?;
    let dict = match t {
        Token::Int(i) => return Some(Value::Int(i)),
        Token::Bytes(s) => return Some(Value::Bytes(s)),
        Token::End => return None,
        Token::List => false,
        Token::Dict => true,
    };
    let start = r.pos();
    let mut depth = 1usize;
    let mut end = start;
    while depth > 0 {
        end = r.pos();
        match token(r)? {
            Token::List | Token::Dict => depth += 1,
            Token::End => depth -= 1,
            Token::Int(_) | Token::Bytes(_) => {}
        }
    }
    let inner = buf.get(start..end)?;
    Some(if dict {
        Value::Dict(Dict { pairs: inner })
    } else {
        Value::List(List { items: inner })
    })
}

impl<'a> List<'a> {
    /// The items, in order.
    pub(super) fn iter(self) -> impl Iterator<Item = Value<'a>> {
        let mut r = Reader::new(self.items);
        std::iter::from_fn(move || next(&mut r, self.items))
    }
}

impl<'a> Dict<'a> {
    /// The pairs, keys in ascending order.
    pub(super) fn iter(self) -> impl Iterator<Item = (&'a [u8], Value<'a>)> {
        let mut r = Reader::new(self.pairs);
        std::iter::from_fn(move || match next(&mut r, self.pairs)? {
            Value::Bytes(k) => Some((k, next(&mut r, self.pairs)?)),
            _ => None,
        })
    }
}
