//! DNP3 application objects: the object headers (group, variation,
//! qualifier with its prefix and range codes, start, stop, count) and the
//! points of the fixed-size objects Suricata 7 decodes, read field by
//! field from a table ([`layout`]) with Suricata's names. Decoding stops,
//! as Suricata's does, at the first object it cannot read (an unknown or
//! variable-size group and variation, a reserved range code, too few
//! bytes); what was read before stays, and the fragment is not
//! `complete`.

use super::super::reader::Reader;

/// One field of a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A flags octet: each name with its width in bits, lowest first.
    Bits(&'static [(&'static str, u8)]),
    /// Unsigned little-endian integers of 1, 2, 3 and 4 bytes.
    U8(&'static str),
    /// 2 bytes.
    U16(&'static str),
    /// 3 bytes.
    U24(&'static str),
    /// 4 bytes.
    U32(&'static str),
    /// Signed 2 bytes.
    I16(&'static str),
    /// Signed 4 bytes.
    I32(&'static str),
    /// A DNP3 time: 6 bytes, milliseconds since 1970.
    Time(&'static str),
    /// IEEE 754 single precision.
    F32(&'static str),
    /// IEEE 754 double precision.
    F64(&'static str),
}

/// How a group and variation's points are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Packed: `width` bits (1 or 2) per point named `name`, one prefix
    /// for the whole object.
    Packed {
        /// The value's name.
        name: &'static str,
        /// Bits per point.
        width: u8,
    },
    /// One prefix, then these fields, per point.
    Fields(&'static [Field]),
}

impl Layout {
    /// The values each point has.
    pub fn values(&self) -> usize {
        match self {
            Layout::Packed { .. } => 1,
            Layout::Fields(f) => f
                .iter()
                .map(|f| match f {
                    Bits(b) => b.len(),
                    _ => 1,
                })
                .sum(),
        }
    }

    /// The name of each value, in order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        let (packed, fields): (Option<&'static str>, &'static [Field]) = match self {
            Layout::Packed { name, .. } => (Some(name), &[]),
            Layout::Fields(f) => (None, f),
        };
        packed.into_iter().chain(fields.iter().flat_map(|f| {
            let (bits, one): (&'static [(&'static str, u8)], Option<&'static str>) = match *f {
                Bits(b) => (b, None),
                U8(n) | U16(n) | U24(n) | U32(n) | I16(n) | I32(n) | Time(n) | F32(n) | F64(n) => {
                    (&[], Some(n))
                }
            };
            bits.iter().map(|(n, _)| *n).chain(one)
        }))
    }
}

/// A point's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// An unsigned integer (bits, counters, times).
    U(u64),
    /// A signed integer.
    I(i64),
    /// A single precision float's bits.
    F32(u32),
    /// A double precision float's bits.
    F64(u64),
}

/// A point: its prefix, its index (the prefix where the prefix is an
/// index, else counted from the object's start) and, for a size prefix,
/// its size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Point {
    /// The prefix (0 when the qualifier has none).
    pub prefix: u32,
    /// The point's index.
    pub index: u32,
    /// The prefix, where the prefix code says it is a size (4 to 6).
    pub size: Option<u32>,
}

/// An object header and the points read after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Object {
    /// The group.
    pub group: u8,
    /// The variation.
    pub variation: u8,
    /// The qualifier byte.
    pub qualifier: u8,
    /// Bits 4 to 6 of the qualifier.
    pub prefix_code: u8,
    /// Bits 0 to 3 of the qualifier.
    pub range_code: u8,
    /// The range's start (0 without one).
    pub start: u32,
    /// The range's stop (0 without one).
    pub stop: u32,
    /// Points announced: stop - start + 1 (wrapping, as Suricata counts),
    /// or the count field.
    pub count: u32,
    /// The points read.
    pub points: Vec<Point>,
    /// Their values, [`Layout::values`] per point, in point order.
    pub values: Vec<Value>,
}

impl Object {
    /// The layout of this object's points, where it has one.
    pub fn layout(&self) -> Option<Layout> {
        layout(self.group, self.variation)
    }
}

/// Why decoding stopped before the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Too few bytes for a header or a range (no event, as Suricata).
    Short,
    /// A reserved range code (no event, as Suricata).
    Reserved,
    /// A group and variation not decoded, or its points cut short
    /// (Suricata's `UNKNOWN_OBJECT`).
    Unknown,
    /// The objects cap.
    TooManyObjects,
    /// The points cap of one object.
    TooManyPoints,
}

/// The objects of an application fragment (what follows the application
/// header, and the IIN on responses), at most `max_objects` of them and
/// `max_points` points each; with `Err`, why reading stopped (the objects
/// read so far are kept in `out`).
pub fn decode(
    buf: &[u8],
    max_objects: usize,
    max_points: usize,
    out: &mut Vec<Object>,
) -> Result<(), Stop> {
    let mut r = Reader::new(buf);
    while r.any_left() {
        if out.len() >= max_objects {
            return Err(Stop::TooManyObjects);
        }
        let Some([group, variation, qualifier]) =
            r.take(3).and_then(|h| <[u8; 3]>::try_from(h).ok())
        else {
            return Err(Stop::Short);
        };
        let mut obj = Object {
            group,
            variation,
            qualifier,
            prefix_code: (qualifier >> 4) & 0x7,
            range_code: qualifier & 0xf,
            ..Object::default()
        };
        let range = read_range(&mut obj, &mut r);
        out.push(obj);
        range?;
        let Some(obj) = out.last_mut() else {
            return Err(Stop::Short);
        };
        if obj.variation == 0 || obj.count == 0 {
            continue;
        }
        decode_points(obj, &mut r, max_points)?;
    }
    Ok(())
}

/// Reads the range or count the range code calls for.
fn read_range(obj: &mut Object, r: &mut Reader<'_>) -> Result<(), Stop> {
    let width = match obj.range_code {
        0x0 | 0x3 => 1,
        0x1 | 0x4 => 2,
        0x2 | 0x5 => 4,
        0x6 => return Ok(()),
        0x7 | 0xb => {
            obj.count = u32::from(r.u8().ok_or(Stop::Short)?);
            return Ok(());
        }
        0x8 => {
            obj.count = u32::from(r.u16_le().ok_or(Stop::Short)?);
            return Ok(());
        }
        0x9 => {
            obj.count = r.u32_le().ok_or(Stop::Short)?;
            return Ok(());
        }
        _ => return Err(Stop::Reserved),
    };
    let b = r.take(2 * width).ok_or(Stop::Short)?;
    obj.start = le(b.get(..width).unwrap_or_default()) as u32;
    obj.stop = le(b.get(width..).unwrap_or_default()) as u32;
    obj.count = obj.stop.wrapping_sub(obj.start).wrapping_add(1);
    Ok(())
}

/// A little-endian unsigned integer of up to 8 bytes.
fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0, |v, &x| (v << 8) | u64::from(x))
}

/// Reads a prefix of the prefix code's size (Suricata's `DNP3ReadPrefix`:
/// codes 1 and 4 one byte, 2 and 5 two, 3 and 6 four, others none).
fn read_prefix(r: &mut Reader<'_>, prefix_code: u8) -> Option<u32> {
    let n = match prefix_code {
        1 | 4 => 1,
        2 | 5 => 2,
        3 | 6 => 4,
        _ => return Some(0),
    };
    r.take(n).map(|b| le(b) as u32)
}

/// The point for a prefix and a running index.
fn point(prefix_code: u8, prefix: u32, index: u32) -> Point {
    match prefix_code {
        1..=3 => Point {
            prefix,
            index: prefix,
            size: None,
        },
        4..=6 => Point {
            prefix,
            index,
            size: Some(prefix),
        },
        _ => Point {
            prefix,
            index,
            size: None,
        },
    }
}

/// Reads `obj.count` points of its group and variation.
fn decode_points(obj: &mut Object, r: &mut Reader<'_>, max_points: usize) -> Result<(), Stop> {
    let layout = obj.layout().ok_or(Stop::Unknown)?;
    let mut index = obj.start;
    let mut left = obj.count;
    match layout {
        Layout::Packed { width, .. } => {
            // As Suricata: one prefix, then count / 8 + 1 octets read
            // whatever the width, each giving 8 / width points while
            // some are left.
            let prefix = read_prefix(r, obj.prefix_code).ok_or(Stop::Unknown)?;
            let octets = obj.count / 8 + 1;
            let width = width.clamp(1, 2);
            let mask = (1u8 << width) - 1;
            for _ in 0..octets {
                let octet = r.u8().ok_or(Stop::Unknown)?;
                let mut shift = 0;
                while shift < 8 && left > 0 {
                    if obj.points.len() >= max_points {
                        return Err(Stop::TooManyPoints);
                    }
                    obj.points.push(point(obj.prefix_code, prefix, index));
                    obj.values
                        .push(Value::U(u64::from((octet >> shift) & mask)));
                    shift += width;
                    left -= 1;
                    index = index.wrapping_add(1);
                }
            }
        }
        Layout::Fields(fields) => {
            while left > 0 {
                if obj.points.len() >= max_points {
                    return Err(Stop::TooManyPoints);
                }
                let prefix = read_prefix(r, obj.prefix_code).ok_or(Stop::Unknown)?;
                let at = obj.values.len();
                if read_fields(fields, r, &mut obj.values).is_none() {
                    obj.values.truncate(at);
                    return Err(Stop::Unknown);
                }
                obj.points.push(point(obj.prefix_code, prefix, index));
                left -= 1;
                index = index.wrapping_add(1);
            }
        }
    }
    Ok(())
}

/// Reads one point's fields.
fn read_fields(fields: &[Field], r: &mut Reader<'_>, out: &mut Vec<Value>) -> Option<()> {
    for f in fields {
        match *f {
            Bits(bits) => {
                let octet = r.u8()?;
                let mut shift = 0u8;
                for &(_, width) in bits {
                    let mask = ((1u16 << width) - 1) as u8;
                    out.push(Value::U(u64::from((octet >> shift) & mask)));
                    shift = shift.saturating_add(width).min(7);
                }
            }
            U8(_) => out.push(Value::U(le(r.take(1)?))),
            U16(_) => out.push(Value::U(le(r.take(2)?))),
            U24(_) => out.push(Value::U(le(r.take(3)?))),
            U32(_) => out.push(Value::U(le(r.take(4)?))),
            Time(_) => out.push(Value::U(le(r.take(6)?))),
            I16(_) => out.push(Value::I(i64::from(le(r.take(2)?) as u16 as i16))),
            I32(_) => out.push(Value::I(i64::from(le(r.take(4)?) as u32 as i32))),
            F32(_) => out.push(Value::F32(le(r.take(4)?) as u32)),
            F64(_) => out.push(Value::F64(le(r.take(8)?))),
        }
    }
    Some(())
}

use Field::*;

/// Binary input flags (groups 1 and 2).
const BIN: Field = Bits(&[
    ("online", 1),
    ("restart", 1),
    ("comm_lost", 1),
    ("remote_forced", 1),
    ("local_forced", 1),
    ("chatter_filter", 1),
    ("reserved", 1),
    ("state", 1),
]);
/// Double-bit input flags (groups 3 and 4).
const DBL: Field = Bits(&[
    ("online", 1),
    ("restart", 1),
    ("comm_lost", 1),
    ("remote_forced", 1),
    ("local_forced", 1),
    ("chatter_filter", 1),
    ("state", 2),
]);
/// Binary output flags (groups 10 and 11).
const BOUT: Field = Bits(&[
    ("online", 1),
    ("restart", 1),
    ("comm_lost", 1),
    ("remote_forced", 1),
    ("local_forced", 1),
    ("reserved0", 1),
    ("reserved1", 1),
    ("state", 1),
]);
/// Counter flags with discontinuity.
const CTR: Field = Bits(&[
    ("online", 1),
    ("restart", 1),
    ("comm_lost", 1),
    ("remote_forced", 1),
    ("local_forced", 1),
    ("rollover", 1),
    ("discontinuity", 1),
    ("reserved0", 1),
]);
/// Counter flags, two reserved bits.
const CTR_R: Field = Bits(&[
    ("online", 1),
    ("restart", 1),
    ("comm_lost", 1),
    ("remote_forced", 1),
    ("local_forced", 1),
    ("rollover", 1),
    ("reserved0", 1),
    ("reserved1", 1),
]);
/// Counter flags with discontinuity, the last bit `reserved1`.
const CTR_D1: Field = Bits(&[
    ("online", 1),
    ("restart", 1),
    ("comm_lost", 1),
    ("remote_forced", 1),
    ("local_forced", 1),
    ("rollover", 1),
    ("discontinuity", 1),
    ("reserved1", 1),
]);
/// Analog flags (groups 30 to 33, 40, 42).
const AN: Field = Bits(&[
    ("online", 1),
    ("restart", 1),
    ("comm_lost", 1),
    ("remote_forced", 1),
    ("local_forced", 1),
    ("over_range", 1),
    ("reference_err", 1),
    ("reserved0", 1),
]);
/// Command status (group 43).
const CMD: Field = Bits(&[("status_code", 7), ("reserved0", 1)]);
/// Security statistic flags (groups 121 and 122).
const SEC: Field = Bits(&[
    ("online", 1),
    ("restart", 1),
    ("comm_lost", 1),
    ("remote_forced", 1),
    ("local_forced", 1),
    ("reserved0", 1),
    ("discontinuity", 1),
    ("reserved1", 1),
]);
/// The control relay output block (group 12 variations 1 and 2).
const CROB: &[Field] = &[
    Bits(&[("op_type", 4), ("qu", 1), ("cr", 1), ("tcc", 2)]),
    U8("count"),
    U32("ontime"),
    U32("offtime"),
    Bits(&[("status_code", 7), ("reserved", 1)]),
];
const TS: Field = Time("timestamp");
const V32: Field = I32("value");
const V16: Field = I16("value");
const VF: Field = F32("value");
const VD: Field = F64("value");
const C32: Field = U32("count");
const C16: Field = U16("count");

/// The layout of a group and variation's points, for those of Suricata 7
/// whose points have a fixed size; `None` for the others.
pub fn layout(group: u8, variation: u8) -> Option<Layout> {
    let packed = |name, width| Some(Layout::Packed { name, width });
    let f = |fields: &'static [Field]| Some(Layout::Fields(fields));
    match (group, variation) {
        (1, 1) | (10, 1) | (80, 1) => packed("state", 1),
        (3, 1) => packed("state", 2),
        (12, 3) => packed("point", 1),
        (1, 2) => f(&[BIN]),
        (2, 1) => f(&[U8("state")]),
        (2, 2) => f(&[BIN, TS]),
        (2, 3) => f(&[BIN, U16("timestamp")]),
        (3, 2) | (4, 1) => f(&[DBL]),
        (4, 2) => f(&[DBL, TS]),
        (4, 3) => f(&[DBL, U16("relative_time_ms")]),
        (10, 2) | (11, 1) => f(&[BOUT]),
        (11, 2) => f(&[BOUT, TS]),
        (12, 1) | (12, 2) => f(CROB),
        (13, 1) => f(&[Bits(&[("status_code", 7), ("commanded_state", 1)])]),
        (13, 2) => f(&[Bits(&[("status_code", 7), ("commanded_state", 1)]), TS]),
        (20, 1) | (21, 1) | (22, 1) | (23, 1) => f(&[CTR, C32]),
        (20, 2) | (21, 2) | (22, 2) => f(&[CTR, C16]),
        (20, 3) | (21, 3) | (22, 3) | (23, 3) => f(&[CTR_R, C32]),
        (20, 4) | (21, 4) | (22, 4) | (23, 2) | (23, 4) => f(&[CTR_R, C16]),
        (20, 5) | (20, 7) | (21, 9) | (21, 11) => f(&[C32]),
        (20, 6) | (20, 8) | (21, 10) | (21, 12) => f(&[C16]),
        (21, 5) => f(&[CTR_D1, C32, TS]),
        (21, 6) => f(&[CTR_D1, C16, TS]),
        (22, 5) | (21, 7) | (22, 7) | (23, 7) => f(&[CTR_R, C32, TS]),
        (21, 8) | (22, 8) | (23, 8) => f(&[CTR_R, C16, TS]),
        (22, 6) | (23, 6) => f(&[CTR, C16, TS]),
        (23, 5) => f(&[CTR, C32, TS]),
        (30, 1) | (31, 1) | (32, 1) | (33, 1) | (40, 1) | (42, 1) => f(&[AN, V32]),
        (30, 2) | (31, 2) | (32, 2) | (33, 2) | (40, 2) | (42, 2) => f(&[AN, V16]),
        (30, 3) | (31, 5) => f(&[V32]),
        (30, 4) | (31, 6) => f(&[V16]),
        (30, 5) | (31, 7) | (32, 5) | (33, 5) | (40, 3) | (42, 5) => f(&[AN, VF]),
        (30, 6) | (31, 8) | (32, 6) | (33, 6) | (40, 4) | (42, 6) => f(&[AN, VD]),
        (31, 3) | (32, 3) | (33, 3) | (42, 3) => f(&[AN, V32, TS]),
        (31, 4) | (32, 4) | (33, 4) | (42, 4) => f(&[AN, V16, TS]),
        (32, 7) | (33, 7) | (42, 7) => f(&[AN, VF, TS]),
        (32, 8) | (33, 8) | (42, 8) => f(&[AN, VD, TS]),
        (34, 1) => f(&[U16("deadband_value")]),
        (34, 2) => f(&[U32("deadband_value")]),
        (34, 3) => f(&[F32("deadband_value")]),
        (41, 1) => f(&[V32, U8("control_status")]),
        (41, 2) => f(&[V16, U8("control_status")]),
        (41, 3) => f(&[VF, U8("control_status")]),
        (41, 4) => f(&[VD, U8("control_status")]),
        (43, 1) => f(&[CMD, I32("commanded_value")]),
        (43, 2) => f(&[CMD, I16("commanded_value")]),
        (43, 3) => f(&[CMD, I32("commanded_value"), TS]),
        (43, 4) => f(&[CMD, I16("commanded_value"), TS]),
        (43, 5) => f(&[CMD, F32("commanded_value")]),
        (43, 6) => f(&[CMD, F64("commanded_value")]),
        (43, 7) => f(&[CMD, F32("commanded_value"), TS]),
        (43, 8) => f(&[CMD, F64("commanded_value"), TS]),
        (50, 1) | (50, 3) | (51, 1) | (51, 2) => f(&[TS]),
        (50, 2) => f(&[TS, U32("interval")]),
        (50, 4) => f(&[TS, U32("interval_count"), U8("interval_units")]),
        (52, 1) => f(&[U16("delay_secs")]),
        (52, 2) => f(&[U16("delay_ms")]),
        (81, 1) => f(&[
            Bits(&[("fill_percentage", 7), ("overflow_state", 1)]),
            U8("group"),
            U8("variation"),
        ]),
        (86, 2) => f(&[Bits(&[
            ("rd", 1),
            ("wr", 1),
            ("st", 1),
            ("ev", 1),
            ("df", 1),
            ("padding0", 1),
            ("padding1", 1),
            ("padding2", 1),
        ])]),
        (102, 1) => f(&[U8("value")]),
        (120, 3) => f(&[U32("csq"), U16("user_number")]),
        (120, 4) => f(&[U16("user_number")]),
        (121, 1) | (122, 1) => f(&[SEC, U16("association_id"), U32("count_value")]),
        (122, 2) => f(&[SEC, U16("association_id"), U32("count_value"), TS]),
        _ => None,
    }
}

/// Whether Suricata 7 decodes this group and variation's points while
/// this table does not (variable-size objects: file transfer, vendor
/// data, secure authentication).
pub fn suricata_only(group: u8, variation: u8) -> bool {
    matches!(
        (group, variation),
        (70, 1..=8) | (83, 1) | (120, 1 | 2 | 5..=15)
    )
}
