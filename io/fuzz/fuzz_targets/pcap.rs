//! The pcap reader read to the end on arbitrary bytes. An input that does
//! not start with a pcap magic number gets one (µs, ns or "modified", either
//! byte order, picked by its first byte) and, unless that byte says not
//! to, version 2.4, so the fuzzer spends its time on headers and records.
#![no_main]

mod read;

use libfuzzer_sys::fuzz_target;

const MAGICS: [u32; 3] = [0xa1b2_c3d4, 0xa1b2_3c4d, 0xa1b2_cd34];

fn is_pcap(data: &[u8]) -> bool {
    data.get(..4)
        .and_then(|m| <[u8; 4]>::try_from(m).ok())
        .is_some_and(|m| {
            MAGICS.contains(&u32::from_le_bytes(m)) || MAGICS.contains(&u32::from_be_bytes(m))
        })
}

fuzz_target!(|data: &[u8]| {
    let Some(&ctl) = data.first() else {
        return;
    };
    let mut bytes = data.to_vec();
    if !is_pcap(data) {
        let magic = MAGICS[usize::from(ctl) % MAGICS.len()];
        let be = ctl & 0x10 != 0;
        let order = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        bytes.resize(bytes.len().max(4), 0);
        bytes[..4].copy_from_slice(&order(magic));
        if ctl & 0x20 == 0 && bytes.len() >= 8 {
            let (major, minor) = if be {
                ([0, 2], [0, 4])
            } else {
                ([2, 0], [4, 0])
            };
            bytes[4..6].copy_from_slice(&major);
            bytes[6..8].copy_from_slice(&minor);
        }
    }
    if let Some(pcapng) = read::read_to_end(bytes) {
        assert!(!pcapng, "a pcap magic read as pcapng");
    }
});
