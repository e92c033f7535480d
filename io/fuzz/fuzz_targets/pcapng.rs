//! The pcapng reader read to the end on arbitrary bytes. An input that
//! starts with the section header magic is read as it is (the corpus
//! starts with real captures). Otherwise its first byte chooses: high bit
//! clear, the magic is written over its first four bytes; high bit set,
//! the rest is a list of blocks — a type selector, a body length and the
//! body — that this target frames with consistent length fields in the
//! byte order of the last section header, so the fuzzer reaches block
//! bodies (section and interface options, enhanced, simple and obsolete
//! packet blocks, unknown blocks) instead of stopping at a length check.
#![no_main]

mod read;

use libfuzzer_sys::fuzz_target;

/// The section header block type, which reads the same in both byte orders.
const SHB: u32 = 0x0a0d_0d0a;
/// Block types a selector picks: section header, interface description,
/// enhanced, simple and obsolete packet, interface statistics, name
/// resolution, and one nobody defined.
const TYPES: [u32; 8] = [SHB, 1, 6, 3, 2, 5, 4, 0x0bad_0bad];

fn framed(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut be = false;
    let mut first = true;
    while let [sel, len, rest @ ..] = data {
        let (body, tail) = rest.split_at(usize::from(*len).min(rest.len()));
        data = tail;
        let kind = if first {
            SHB
        } else {
            TYPES[usize::from(sel & 0x07)]
        };
        first = false;
        let mut body = body.to_vec();
        if kind == SHB {
            // A section header states its byte order (the magic 0x1a2b3c4d),
            // then version 1.0 unless the selector leaves that to the body.
            be = sel & 0x08 != 0;
            let head: [u8; 8] = if be {
                [0x1a, 0x2b, 0x3c, 0x4d, 0, 1, 0, 0]
            } else {
                [0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0]
            };
            let keep = if sel & 0x10 != 0 { 4 } else { 8 };
            body.resize(body.len().max(keep), 0);
            body[..keep].copy_from_slice(&head[..keep]);
        }
        body.resize(body.len().next_multiple_of(4), 0);
        let total = body.len() as u32 + 12;
        let word = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        out.extend_from_slice(&word(kind));
        out.extend_from_slice(&word(total));
        out.extend_from_slice(&body);
        out.extend_from_slice(&word(total));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let bytes = if data.starts_with(&SHB.to_le_bytes()) {
        data.to_vec()
    } else if ctl & 0x80 != 0 {
        framed(rest)
    } else {
        let mut b = data.to_vec();
        b.resize(b.len().max(4), 0);
        b[..4].copy_from_slice(&SHB.to_le_bytes());
        b
    };
    if let Some(pcapng) = read::read_to_end(bytes) {
        assert!(pcapng, "a section header read as pcap");
    }
});
