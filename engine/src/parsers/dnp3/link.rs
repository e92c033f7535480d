//! The DNP3 link layer: the frame header (start bytes 0x05 0x64, length,
//! control, destination, source), the CRC-16/DNP (polynomial 0x3D65,
//! reflected, initial 0, complemented, sent low byte first) after the
//! header and after each block of up to 16 user data bytes, and the user
//! data of a frame taken out of its blocks (the transport header, its
//! first byte, left out) as Suricata's `DNP3ReassembleApplicationLayer`
//! takes it.

/// The link header's size with its CRC.
pub const HEADER_LEN: usize = 10;
/// User data bytes per block.
const BLOCK: usize = 16;
/// A CRC's size.
const CRC_LEN: usize = 2;
/// Header bytes counted by the length field (control, addresses).
const COUNTED: u8 = 5;

/// Link function codes that carry user data (confirmed, unconfirmed).
pub const FC_CONFIRMED_USER_DATA: u8 = 3;
/// Unconfirmed user data.
pub const FC_UNCONFIRMED_USER_DATA: u8 = 4;

/// The reflected polynomial 0x3D65.
const POLY: u16 = 0xA6BC;

/// The CRC-16/DNP table, one entry per byte value.
const TABLE: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u16;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            bit += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// The CRC-16/DNP of `data`.
pub fn crc(data: &[u8]) -> u16 {
    let mut c: u16 = 0;
    for &b in data {
        c = TABLE[usize::from((c ^ u16::from(b)) as u8)] ^ (c >> 8);
    }
    !c
}

/// Whether `block` (at least one byte, then its CRC) ends with the right
/// CRC, low byte first.
pub fn crc_ok(block: &[u8]) -> bool {
    if block.len() < CRC_LEN + 1 {
        return false;
    }
    let (data, sent) = block.split_at(block.len() - CRC_LEN);
    crc(data).to_le_bytes() == sent
}

/// A link header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkHeader {
    /// The length field (control, addresses and user data, no CRCs).
    pub len: u8,
    /// The control byte (DIR, PRI, FCB, FCV, function code).
    pub control: u8,
    /// The destination address.
    pub dst: u16,
    /// The source address.
    pub src: u16,
}

impl LinkHeader {
    /// The header at the start of `b`, when its start bytes are right and
    /// ten bytes are there (the CRC unchecked).
    pub fn read(b: &[u8]) -> Option<LinkHeader> {
        match b.get(..8)? {
            [0x05, 0x64, len, control, d0, d1, s0, s1] => Some(LinkHeader {
                len: *len,
                control: *control,
                dst: u16::from_le_bytes([*d0, *d1]),
                src: u16::from_le_bytes([*s0, *s1]),
            }),
            _ => None,
        }
    }

    /// The link function code.
    pub fn function(&self) -> u8 {
        self.control & 0x0f
    }

    /// Whether the frame carries user data (link function 3 or 4).
    pub fn is_user_data(&self) -> bool {
        matches!(
            self.function(),
            FC_CONFIRMED_USER_DATA | FC_UNCONFIRMED_USER_DATA
        )
    }

    /// The user data bytes the length field announces (no CRCs).
    pub fn user_len(&self) -> usize {
        usize::from(self.len.saturating_sub(COUNTED))
    }
}

/// Whether the first ten bytes of `b` are a link header with a right CRC.
pub fn header_crc_ok(b: &[u8]) -> bool {
    b.get(..HEADER_LEN).is_some_and(crc_ok)
}

/// The whole frame's size, CRCs included, for a length field; `None` below
/// the minimum of 5.
pub fn frame_len(len: u8) -> Option<usize> {
    if len < COUNTED {
        return None;
    }
    let user = usize::from(len - COUNTED);
    let blocks = user / BLOCK;
    let rem = user % BLOCK;
    let mut total = HEADER_LEN + blocks * (BLOCK + CRC_LEN);
    if rem > 0 {
        total += rem + CRC_LEN;
    }
    Some(total)
}

/// Whether every block of a frame's body (what follows the header) ends
/// with its right CRC.
pub fn body_crcs_ok(body: &[u8]) -> bool {
    body.chunks(BLOCK + CRC_LEN).all(crc_ok)
}

/// Appends a frame body's user data, the CRCs and the transport header
/// left out, to `out`; `false` (nothing appended) when there is no byte
/// after the transport header or a block is too short, as Suricata's
/// reassembly fails.
pub fn append_user_data(body: &[u8], out: &mut Vec<u8>) -> bool {
    let mut parts = body.chunks(BLOCK + CRC_LEN);
    let Some(first) = parts.next() else {
        return false;
    };
    // The first block holds the transport header, one byte of data at
    // least, and the CRC.
    if first.len() < 2 + CRC_LEN {
        return false;
    }
    if body.chunks(BLOCK + CRC_LEN).any(|c| c.len() < 1 + CRC_LEN) {
        return false;
    }
    let at = out.len();
    out.extend_from_slice(first.get(1..first.len() - CRC_LEN).unwrap_or_default());
    for block in parts {
        out.extend_from_slice(block.get(..block.len() - CRC_LEN).unwrap_or_default());
    }
    out.len() > at
}
