//! TLS client and server fingerprints: JA3 and JA3S (Salesforce; MD5 of a
//! decimal string, GREASE values removed, EC point formats included) and
//! JA4 for clients (FoxIO's `JA4` only: the JA4+ family is under a
//! different licence and not implemented).

use super::hello::{ClientHello, ServerHello};
use super::memo::Memo;
use md5::Md5;
use sha2::{Digest, Sha256};
use std::cell::RefCell;

/// GREASE values (RFC 8701): `0x?a?a` with both bytes equal.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `n` in decimal (no formatting machinery: fingerprints are built
/// per connection on the hot path).
fn push_dec(out: &mut Vec<u8>, mut n: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn join_dec<T: Into<u32> + Copy>(out: &mut Vec<u8>, v: impl IntoIterator<Item = T>) {
    for (i, x) in v.into_iter().enumerate() {
        if i > 0 {
            out.push(b'-');
        }
        push_dec(out, x.into());
    }
}

/// The text of a fingerprint built of ASCII bytes.
fn ascii_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_default()
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = Vec::new();
    hex_into(&mut out, bytes);
    ascii_text(out)
}

/// Appends the lower-case hex of `bytes` to `out`: both digits of a byte
/// stored into room made once (a `char` pushed at a time is checked for
/// its UTF-8 length and for capacity twice a byte).
pub fn hex_into(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = out.len();
    out.resize(start + 2 * bytes.len(), 0);
    for (pair, &b) in out[start..].chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 0xf)];
    }
}

/// A fingerprint: the string and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ja3 {
    /// The JA3/JA3S string.
    pub string: String,
    /// Its MD5, lower-case hex.
    pub hash: String,
}

/// A string and its MD5 (JA3, JA3S, gQUIC's CYU).
pub(crate) fn ja3_of(string: String) -> Ja3 {
    let hash = hex(&Md5::digest(string.as_bytes()));
    Ja3 { string, hash }
}

/// JA3 of a ClientHello: `version,ciphers,extensions,groups,point formats`.
pub fn ja3(ch: &ClientHello) -> Ja3 {
    let mut s = Vec::with_capacity(256);
    push_dec(&mut s, u32::from(ch.version));
    s.push(b',');
    join_dec(
        &mut s,
        ch.ciphers.iter().copied().filter(|&c| !is_grease(c)),
    );
    s.push(b',');
    join_dec(
        &mut s,
        ch.extensions.iter().copied().filter(|&e| !is_grease(e)),
    );
    s.push(b',');
    join_dec(&mut s, ch.groups.iter().copied().filter(|&g| !is_grease(g)));
    s.push(b',');
    join_dec(&mut s, ch.ec_point_formats.iter().copied());
    ja3_of(ascii_text(s))
}

/// JA3S of a ServerHello: `version,cipher,extensions`.
pub fn ja3s(sh: &ServerHello) -> Ja3 {
    let mut s = Vec::with_capacity(64);
    push_dec(&mut s, u32::from(sh.version));
    s.push(b',');
    push_dec(&mut s, u32::from(sh.cipher));
    s.push(b',');
    join_dec(
        &mut s,
        sh.extensions.iter().copied().filter(|&e| !is_grease(e)),
    );
    ja3_of(ascii_text(s))
}

fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// Appends the first 12 hex digits of the SHA-256 of `text` (its first 6
/// bytes), or twelve zeros for an empty list.
fn push_first_12_of_sha256(out: &mut Vec<u8>, text: &[u8]) {
    if text.is_empty() {
        out.extend_from_slice(b"000000000000");
    } else {
        hex_into(out, &Sha256::digest(text)[..6]);
    }
}

/// Appends `v` as comma-separated 4-digit lower-case hex.
fn hex4_list(out: &mut Vec<u8>, v: &[u16]) {
    out.reserve(v.len() * 5);
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        for shift in [12, 8, 4, 0] {
            out.push(HEX[usize::from((x >> shift) & 0xf)]);
        }
    }
}

/// Appends `n` (at most 99) as two decimal digits.
fn push_2_digits(out: &mut Vec<u8>, n: usize) {
    let n = n.min(99) as u8;
    out.extend_from_slice(&[b'0' + n / 10, b'0' + n % 10]);
}

/// JA4 of a ClientHello sent over TCP (`t`), e.g.
/// `t13d1516h2_8daaf6152771_e5627efa2ab1`.
pub fn ja4(ch: &ClientHello) -> String {
    ja4_for(ch, 't')
}

/// JA4 with the transport letter given: `t` TCP, `q` QUIC, `d` DTLS.
/// Composed in one buffer; the sorted lists share one scratch list and
/// their hashed text one scratch buffer.
pub fn ja4_for(ch: &ClientHello, transport: char) -> String {
    let version = ch
        .supported_versions
        .iter()
        .copied()
        .filter(|&v| !is_grease(v))
        .max()
        .unwrap_or(ch.version);
    let mut values: Vec<u16> = Vec::with_capacity(ch.ciphers.len().max(ch.extensions.len()));
    values.extend(ch.ciphers.iter().copied().filter(|&c| !is_grease(c)));
    let extensions = ch.extensions.iter().filter(|&&e| !is_grease(e)).count();
    // `t13d1516h2_` and two 12-digit hashes.
    let mut out = Vec::with_capacity(36);
    let mut letter = [0u8; 4];
    out.extend_from_slice(transport.encode_utf8(&mut letter).as_bytes());
    out.extend_from_slice(ja4_version(version).as_bytes());
    out.push(if ch.sni.is_some() { b'd' } else { b'i' });
    push_2_digits(&mut out, values.len());
    push_2_digits(&mut out, extensions);
    match ch.alpn.first() {
        Some(a) if !a.is_empty() => {
            let (f, l) = (a[0], a[a.len() - 1]);
            if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() {
                out.extend_from_slice(&[f, l]);
            } else {
                // The first and last digits of the value's hex.
                out.extend_from_slice(&[HEX[usize::from(f >> 4)], HEX[usize::from(l & 0xf)]]);
            }
        }
        _ => out.extend_from_slice(b"00"),
    }
    let mut text = Vec::with_capacity(
        5 * (ch.ciphers.len() + ch.extensions.len() + ch.signature_algorithms.len()),
    );
    values.sort_unstable();
    hex4_list(&mut text, &values);
    out.push(b'_');
    push_first_12_of_sha256(&mut out, &text);
    values.clear();
    values.extend(
        ch.extensions
            .iter()
            .copied()
            .filter(|&e| !is_grease(e) && e != 0 && e != 16),
    );
    values.sort_unstable();
    text.clear();
    if !values.is_empty() {
        hex4_list(&mut text, &values);
        if !ch.signature_algorithms.is_empty() {
            text.push(b'_');
            hex4_list(&mut text, &ch.signature_algorithms);
        }
    }
    out.push(b'_');
    push_first_12_of_sha256(&mut out, &text);
    ascii_text(out)
}

/// ClientHellos whose fingerprints are remembered per thread, and the
/// longest input remembered: a hello's lists, about 150 bytes from a
/// browser; longer ones are fingerprinted every time. An entry holds its
/// input, the JA3 string (at most four characters per input byte) and two
/// short hashes, each allocated to its length: at most about 2.7 KB, so a
/// thread's memo stays under 3 MiB (about 0.5 MiB of browsers' hellos).
/// The corpus's captures bring 320 distinct hellos, a busy network a few
/// hundred more.
const REMEMBERED: usize = 1024;
const MAX_INPUT: usize = 512;

/// This thread's remembered fingerprints, and the buffer a hello's input
/// is written into.
struct Remembered {
    clients: Memo<(Ja3, String)>,
    input: Vec<u8>,
}

const fn no_fingerprints() -> Remembered {
    Remembered {
        clients: Memo::new(REMEMBERED, 4, MAX_INPUT, 0x6a61_3334),
        input: Vec::new(),
    }
}

thread_local! {
    static FINGERPRINTS: RefCell<Remembered> = const { RefCell::new(no_fingerprints()) };
}

/// A ClientHello's JA3 and its JA4 for `transport` (as in [`ja4_for`]),
/// remembered per thread by what they are computed from
/// (`crate::parsers::memo`): a client program sends the same lists on
/// every connection, so most hellos of a capture were fingerprinted
/// before. Gives exactly what [`ja3`] and [`ja4_for`] give.
pub(crate) fn client_fingerprints(ch: &ClientHello, transport: char) -> (Ja3, String) {
    let compute = || (ja3(ch), ja4_for(ch, transport));
    FINGERPRINTS.with(|r| {
        let Ok(mut r) = r.try_borrow_mut() else {
            return compute();
        };
        let Remembered { clients, input } = &mut *r;
        if !client_input(ch, transport, input) {
            return compute();
        }
        clients
            .remembered(input, |_| Some(compute()))
            .unwrap_or_else(compute)
    })
}

/// Forgets this thread's fingerprints (with its certificates, when a set
/// of built-in parsers is made).
pub(crate) fn forget_fingerprints() {
    FINGERPRINTS.with(|r| *r.borrow_mut() = no_fingerprints());
}

/// Writes into `out` every field of `ch` that [`ja3`] and [`ja4_for`]
/// read, each list behind its length, and `transport`; false (and nothing
/// written) when that would pass [`MAX_INPUT`].
fn client_input(ch: &ClientHello, transport: char, out: &mut Vec<u8>) -> bool {
    let alpn: &[u8] = ch.alpn.first().map_or(&[], |a| a);
    let lists = [
        &ch.supported_versions,
        &ch.ciphers,
        &ch.extensions,
        &ch.groups,
        &ch.signature_algorithms,
    ];
    let len = 4
        + 1
        + 2
        + lists.iter().map(|l| 4 + 2 * l.len()).sum::<usize>()
        + 4
        + ch.ec_point_formats.len()
        + 1
        + 4
        + alpn.len();
    out.clear();
    if len > MAX_INPUT {
        return false;
    }
    // Room made once, then filled in place (a push at a time checks the
    // capacity for every value).
    out.resize(len, 0);
    let mut rest = &mut out[..];
    take(&mut rest, 4).copy_from_slice(&u32::from(transport).to_le_bytes());
    take(&mut rest, 1)[0] = u8::from(ch.sni.is_some());
    take(&mut rest, 2).copy_from_slice(&ch.version.to_le_bytes());
    for list in lists {
        take(&mut rest, 4).copy_from_slice(&(list.len() as u32).to_le_bytes());
        put_u16s(take(&mut rest, 2 * list.len()), list);
    }
    let formats = &ch.ec_point_formats;
    take(&mut rest, 4).copy_from_slice(&(formats.len() as u32).to_le_bytes());
    take(&mut rest, formats.len()).copy_from_slice(formats);
    take(&mut rest, 1)[0] = u8::from(!ch.alpn.is_empty());
    take(&mut rest, 4).copy_from_slice(&(alpn.len() as u32).to_le_bytes());
    take(&mut rest, alpn.len()).copy_from_slice(alpn);
    debug_assert!(rest.is_empty());
    true
}

/// Stores `values` little-endian into `room`, two bytes each.
fn put_u16s(room: &mut [u8], values: &[u16]) {
    for (pair, v) in room.chunks_exact_mut(2).zip(values) {
        pair.copy_from_slice(&v.to_le_bytes());
    }
}

/// The next `n` bytes of `rest`, taken off its front.
fn take<'a>(rest: &mut &'a mut [u8], n: usize) -> &'a mut [u8] {
    let (head, tail) = std::mem::take(rest).split_at_mut(n);
    *rest = tail;
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lower_case_two_digits_a_byte_appended() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff, 0x10]), "000fa5ff10");
        let mut out = b"x=".to_vec();
        hex_into(&mut out, &[0xde, 0xad]);
        hex_into(&mut out, &[]);
        hex_into(&mut out, &[0x01]);
        assert_eq!(out, b"x=dead01");
        let all: Vec<u8> = (0..=255).collect();
        let text = hex(&all);
        assert_eq!(text.len(), 512);
        for (i, pair) in text.as_bytes().chunks(2).enumerate() {
            assert_eq!(
                u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap(),
                i as u8
            );
        }
    }

    #[test]
    fn grease_values() {
        for v in [0x0a0a, 0x1a1a, 0xfafa] {
            assert!(is_grease(v));
        }
        for v in [0x0a1a, 0x000a, 0x1301, 0xaaaa] {
            assert_eq!(is_grease(v), v == 0xaaaa, "{v:04x}");
        }
    }

    /// The example of the JA3 README: string and hash.
    #[test]
    fn ja3_readme_vector() {
        let ch = ClientHello {
            version: 769,
            ciphers: vec![
                47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4, 0x2a2a,
            ],
            extensions: vec![0xdada, 0, 10, 11],
            groups: vec![23, 24, 25, 0x3a3a],
            ec_point_formats: vec![0],
            ..ClientHello::default()
        };
        let j = ja3(&ch);
        assert_eq!(
            j.string,
            "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0"
        );
        assert_eq!(j.hash, "ada70206e40642a3e4461f35503241d5");
    }

    #[test]
    fn ja3s_string() {
        let sh = ServerHello {
            version: 771,
            cipher: 49199,
            extensions: vec![65281, 0, 11, 0x4a4a],
            ..ServerHello::default()
        };
        let j = ja3s(&sh);
        assert_eq!(j.string, "771,49199,65281-0-11");
        assert_eq!(j.hash, hex(&Md5::digest(b"771,49199,65281-0-11")));
    }

    /// The worked example of the JA4 specification (Chrome):
    /// `t13d1516h2_8daaf6152771_e5627efa2ab1`.
    #[test]
    fn ja4_spec_vector() {
        let ch = ClientHello {
            version: 0x0303,
            ciphers: vec![
                0x1a1a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
                0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
            ],
            extensions: vec![
                0x2a2a, 0x0000, 0x0017, 0xff01, 0x000a, 0x000b, 0x0023, 0x0010, 0x0005, 0x000d,
                0x0012, 0x0033, 0x002d, 0x002b, 0x001b, 0x4469, 0x0015, 0x3a3a,
            ],
            sni: Some(b"example.com"[..].into()),
            alpn: vec![b"h2"[..].into(), b"http/1.1"[..].into()],
            supported_versions: vec![0x6a6a, 0x0304, 0x0303],
            signature_algorithms: vec![
                0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
            ],
            ..ClientHello::default()
        };
        assert_eq!(ja4(&ch), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    }

    #[test]
    fn ja4_without_alpn_sni_or_extensions() {
        let ch = ClientHello {
            version: 0x0301,
            ciphers: vec![0x002f],
            ..ClientHello::default()
        };
        let fp = ja4(&ch);
        assert!(fp.starts_with("t10i010000_"), "{fp}");
        assert!(fp.ends_with("_000000000000"), "{fp}");
    }

    #[test]
    fn ja4_alpn_not_alphanumeric_uses_hex() {
        let ch = ClientHello {
            version: 0x0303,
            alpn: vec![vec![0xab, 0x01, 0xcd].into()],
            ..ClientHello::default()
        };
        assert!(ja4(&ch).starts_with("t12i0000ad_"), "{}", ja4(&ch));
    }

    fn remembered_count() -> usize {
        FINGERPRINTS.with(|r| r.borrow().clients.len())
    }

    /// Every field the fingerprints read is in the memo's input: each
    /// change to one gives the computed fingerprints, not the remembered
    /// ones of the hello before.
    #[test]
    fn remembered_fingerprints_are_the_computed_ones_whatever_field_changes() {
        forget_fingerprints();
        let base = ClientHello {
            version: 0x0303,
            ciphers: vec![0x1a1a, 0x1301, 0x1302, 0xc02b, 0x002f],
            extensions: vec![
                0x2a2a, 0x0000, 0x0017, 0x000a, 0x000b, 0x0010, 0x000d, 0x002b,
            ],
            sni: Some(b"example.com"[..].into()),
            alpn: vec![b"h2"[..].into(), b"http/1.1"[..].into()],
            supported_versions: vec![0x6a6a, 0x0304, 0x0303],
            groups: vec![0x001d, 0x0017],
            ec_point_formats: vec![0],
            signature_algorithms: vec![0x0403, 0x0804],
            ..ClientHello::default()
        };
        type Change = (&'static str, fn(&mut ClientHello));
        let changes: [Change; 11] = [
            ("version", |c| c.version = 0x0301),
            ("cipher order", |c| c.ciphers.swap(1, 2)),
            ("one cipher fewer", |c| c.ciphers.truncate(4)),
            ("extension order", |c| c.extensions.swap(1, 2)),
            ("no SNI", |c| c.sni = None),
            ("first ALPN", |c| c.alpn[0] = b"h3"[..].into()),
            ("no ALPN", |c| c.alpn.clear()),
            ("supported versions", |c| {
                c.supported_versions = vec![0x0303]
            }),
            ("groups", |c| c.groups.push(0x0018)),
            ("point formats", |c| c.ec_point_formats.push(1)),
            ("signature algorithms", |c| {
                c.signature_algorithms.swap(0, 1)
            }),
        ];
        for t in ['t', 'q'] {
            let want = (ja3(&base), ja4_for(&base, t));
            assert_eq!(client_fingerprints(&base, t), want);
            for (what, change) in changes {
                let mut ch = base.clone();
                change(&mut ch);
                let computed = (ja3(&ch), ja4_for(&ch, t));
                assert_ne!(computed, want, "{what} changes a fingerprint");
                assert_eq!(client_fingerprints(&ch, t), computed, "{what}");
                assert_eq!(client_fingerprints(&ch, t), computed, "{what}, remembered");
            }
        }
        assert_eq!(remembered_count(), 2 * 12);
    }

    #[test]
    fn hellos_that_differ_only_in_what_no_fingerprint_reads_share_an_entry() {
        forget_fingerprints();
        let mut ch = ClientHello {
            version: 0x0303,
            ciphers: vec![0x1301, 0x002f],
            extensions: vec![0x0000, 0x0010],
            sni: Some(b"a.example"[..].into()),
            ..ClientHello::default()
        };
        let first = client_fingerprints(&ch, 't');
        ch.random = [7; 32];
        ch.session_id = vec![1, 2, 3].into();
        ch.sni = Some(b"b.example"[..].into());
        ch.compression = vec![0];
        ch.key_share_groups = vec![0x001d];
        assert_eq!(client_fingerprints(&ch, 't'), first);
        assert_eq!(remembered_count(), 1);
        // A hello too long to remember is fingerprinted all the same.
        ch.ciphers = (0..2000).collect();
        let computed = (ja3(&ch), ja4_for(&ch, 't'));
        assert_eq!(client_fingerprints(&ch, 't'), computed);
        assert_eq!(remembered_count(), 1);
    }
}
