//! Modbus/TCP's wire format: the MBAP header's framing and the decoding of
//! one ADU into a [`ModbusMessage`] as Suricata 7's parser (sawp-modbus
//! 0.13) reads it: the same fields, the same [`error`] flags for the same
//! oddities (a request's quantity out of range, a byte count that
//! disagrees with the length, an exception code the function cannot
//! raise...), and the check of a response against its request
//! ([`ModbusMessage::check_against`]).

use super::super::reader::Reader;

/// The MBAP header's size before its `length` field counts (transaction
/// id, protocol id, length).
pub const HEADER: usize = 6;
/// Shortest `length` (unit id and function code).
pub const MIN_LENGTH: u16 = 2;
/// Longest `length` (unit id, function code, 252 bytes of data).
pub const MAX_LENGTH: u16 = 254;

/// Suricata's `error_flags` bits, in the order it names them.
pub mod error {
    /// A value out of range (`DATA_VALUE`).
    pub const DATA_VALUE: u8 = 0x01;
    /// A length that disagrees with the function (`DATA_LENGTH`).
    pub const DATA_LENGTH: u8 = 0x02;
    /// An exception code the function cannot raise (`EXC_CODE`).
    pub const EXC_CODE: u8 = 0x04;
    /// Function code 0 or one with the exception bit in a request
    /// (`FUNC_CODE`).
    pub const FUNC_CODE: u8 = 0x08;
    /// A protocol id other than 0 (`PROTO_ID`).
    pub const PROTO_ID: u8 = 0x10;
}

/// Suricata's `access_type` bits, in the order it names them.
pub mod access {
    /// `READ`.
    pub const READ: u8 = 0x01;
    /// `WRITE`.
    pub const WRITE: u8 = 0x02;
    /// `DISCRETES`.
    pub const DISCRETES: u8 = 0x04;
    /// `COILS`.
    pub const COILS: u8 = 0x08;
    /// `INPUT`.
    pub const INPUT: u8 = 0x10;
    /// `HOLDING`.
    pub const HOLDING: u8 = 0x20;
    /// `SINGLE`.
    pub const SINGLE: u8 = 0x40;
    /// `MULTIPLE`.
    pub const MULTIPLE: u8 = 0x80;
    /// Coils or discrete inputs: one bit per point.
    pub const BIT_ACCESS: u8 = DISCRETES | COILS;
}

/// Suricata's `category` bits.
pub mod category {
    /// `PUBLIC_ASSIGNED`.
    pub const PUBLIC_ASSIGNED: u8 = 0x01;
    /// `PUBLIC_UNASSIGNED`.
    pub const PUBLIC_UNASSIGNED: u8 = 0x02;
    /// `USER_DEFINED`.
    pub const USER_DEFINED: u8 = 0x04;
    /// `RESERVED`.
    pub const RESERVED: u8 = 0x08;
}

/// Function codes the parser treats apart.
mod code {
    pub const RD_EXC_STATUS: u8 = 7;
    pub const DIAGNOSTIC: u8 = 8;
    pub const GET_COMM_EVENT_CTR: u8 = 11;
    pub const GET_COMM_EVENT_LOG: u8 = 12;
    pub const REPORT_SERVER_ID: u8 = 17;
    pub const RD_FILE_REC: u8 = 20;
    pub const WR_FILE_REC: u8 = 21;
    pub const RD_WR_MULT_REGS: u8 = 23;
    pub const RD_FIFO_QUEUE: u8 = 24;
    pub const MEI: u8 = 43;
}

/// The exception bit of a function code.
pub const EXCEPTION_BIT: u8 = 0x80;

/// The function a raw function code names (the exception bit cleared),
/// when Modbus assigns it (1 to 24, 43): its code; else `None`
/// (Suricata's `Unknown`).
pub fn known_function(raw: u8) -> Option<u8> {
    let c = raw & !EXCEPTION_BIT;
    matches!(c, 1..=24 | 43).then_some(c)
}

/// Suricata's access type of a function (`raw` with the exception bit
/// cleared when known).
fn access_of(raw: u8) -> u8 {
    use access::*;
    match known_function(raw) {
        Some(1) => COILS | READ,
        Some(2) => DISCRETES | READ,
        Some(3) => HOLDING | READ,
        Some(4) => INPUT | READ,
        Some(5) => COILS | WRITE | SINGLE,
        Some(6) => HOLDING | WRITE | SINGLE,
        Some(15) => COILS | WRITE | MULTIPLE,
        Some(16) => HOLDING | WRITE | MULTIPLE,
        Some(22) => HOLDING | WRITE,
        Some(23) => HOLDING | READ | WRITE | MULTIPLE,
        _ => 0,
    }
}

/// The category of an unassigned function code.
fn category_of_raw(raw: u8) -> u8 {
    use category::*;
    match raw {
        0 => 0,
        1..=8 | 15..=40 | 43..=64 | 73..=89 | 92..=99 | 111..=124 => PUBLIC_UNASSIGNED,
        9..=14 | 41..=42 | 90..=91 | 125..=127 => RESERVED,
        65..=72 | 100..=110 => USER_DEFINED,
        _ => 0,
    }
}

/// A diagnostic sub-function Modbus names (0 to 4, 10 to 21).
pub fn known_diagnostic(sub: u16) -> bool {
    matches!(sub, 0..=4 | 10..=21)
}

/// An exception code Modbus names (1 to 8, 10, 11).
pub fn known_exception(code: u8) -> bool {
    matches!(code, 1..=8 | 10 | 11)
}

/// An MEI type Modbus names (13, 14; 0 and the rest are `Unknown`).
pub fn known_mei(t: u8) -> bool {
    matches!(t, 13 | 14)
}

/// What an ADU carries after its function code.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ModbusData {
    /// Nothing read (a length out of range).
    #[default]
    Empty,
    /// An exception response's code.
    Exception(u8),
    /// A diagnostic: the sub-function and its data.
    Diagnostic {
        /// Sub-function code.
        sub: u16,
        /// The bytes after it.
        data: Box<[u8]>,
    },
    /// An encapsulated interface transport: the MEI type and its data.
    Mei {
        /// MEI type.
        mei_type: u8,
        /// The bytes after it.
        data: Box<[u8]>,
    },
    /// A read request.
    ReadRequest {
        /// Starting address.
        address: u16,
        /// Quantity of points.
        quantity: u16,
    },
    /// A read response's data (after the byte count).
    ReadResponse(Box<[u8]>),
    /// A request writing several points.
    WriteMultiple {
        /// Starting address.
        address: u16,
        /// Quantity of points.
        quantity: u16,
        /// The bytes after the byte count.
        data: Box<[u8]>,
    },
    /// A mask write (request or response).
    WriteMask {
        /// Address.
        address: u16,
        /// AND mask.
        and_mask: u16,
        /// OR mask.
        or_mask: u16,
    },
    /// A single write (request or response), or a multiple write's
    /// response (`data` is then the quantity).
    WriteOther {
        /// Address.
        address: u16,
        /// Value (or quantity).
        data: u16,
    },
    /// Read/write multiple registers' request.
    ReadWrite {
        /// Read starting address.
        read_address: u16,
        /// Read quantity.
        read_quantity: u16,
        /// Write starting address.
        address: u16,
        /// Write quantity.
        quantity: u16,
        /// The bytes written.
        data: Box<[u8]>,
    },
    /// The data of a function read no further.
    Bytes(Box<[u8]>),
}

/// One Modbus/TCP ADU.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModbusMessage {
    /// MBAP transaction id.
    pub transaction_id: u16,
    /// MBAP protocol id.
    pub protocol_id: u16,
    /// MBAP length.
    pub length: u16,
    /// Unit id.
    pub unit_id: u8,
    /// Function code as sent (the exception bit included).
    pub function: u8,
    /// [`access`] bits.
    pub access: u8,
    /// [`category`] bits.
    pub category: u8,
    /// [`error`] bits.
    pub flags: u8,
    /// What follows the function code.
    pub data: ModbusData,
}

/// The size of the ADU at the start of `buf` (header included) once its
/// header is there.
pub fn frame_len(buf: &[u8]) -> Option<usize> {
    let len = buf.get(4..HEADER)?;
    Some(HEADER + usize::from(u16::from_be_bytes([len[0], len[1]])))
}

/// Decodes one whole ADU (`adu`: the header and `length` bytes; for a
/// length out of range, the header alone), as a request or a response.
pub fn parse(adu: &[u8], request: bool) -> Option<ModbusMessage> {
    let mut r = Reader::new(adu);
    let mut m = ModbusMessage {
        transaction_id: r.u16()?,
        protocol_id: r.u16()?,
        length: r.u16()?,
        ..ModbusMessage::default()
    };
    if m.protocol_id != 0 {
        m.flags |= error::PROTO_ID;
    }
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&m.length) {
        m.flags |= error::DATA_LENGTH;
        return Some(m);
    }
    let pdu = r.take(usize::from(m.length))?;
    let (&[unit_id, function], data) = pdu.split_first_chunk::<2>()?;
    m.unit_id = unit_id;
    m.function = function;
    m.access = access_of(function);
    let mut rd = Reader::new(data);
    let done = if request {
        m.request(&mut rd)
    } else {
        m.response(&mut rd)
    };
    match done {
        Some(()) if rd.left() > 0 => m.flags |= error::DATA_LENGTH,
        Some(()) => {}
        None => {
            m.flags |= error::DATA_LENGTH;
            if m.data == ModbusData::Empty {
                m.data = ModbusData::Bytes(data.into());
            }
        }
    }
    m.category = m.category_of();
    Some(m)
}

impl ModbusMessage {
    /// The bytes after the unit id and function code, as the length counts
    /// them.
    fn data_length(&self) -> usize {
        usize::from(self.length.saturating_sub(2))
    }

    fn code(&self) -> Option<u8> {
        known_function(self.function)
    }

    fn category_of(&self) -> u8 {
        use category::*;
        match (self.code(), &self.data) {
            (Some(code::DIAGNOSTIC), ModbusData::Diagnostic { sub, .. }) => {
                if known_diagnostic(*sub) {
                    PUBLIC_ASSIGNED
                } else {
                    RESERVED
                }
            }
            (Some(code::MEI), ModbusData::Mei { mei_type, .. }) => {
                if known_mei(*mei_type) {
                    PUBLIC_ASSIGNED
                } else {
                    RESERVED
                }
            }
            (Some(code::DIAGNOSTIC | code::MEI), _) => 0,
            (None, _) => category_of_raw(self.function),
            (Some(_), _) => PUBLIC_ASSIGNED,
        }
    }

    fn exception(&mut self, r: &mut Reader<'_>) -> Option<()> {
        let exc = r.u8()?;
        let raw = self.function;
        let code = self.code();
        let file = matches!(code, Some(code::RD_FILE_REC | code::WR_FILE_REC));
        let odd = (raw > 6 && raw < 15) || (raw > 16 && raw < 20);
        let bad = match exc {
            // Illegal data value, illegal data address (the ranges are of
            // the raw code, exception bit set: never met, as in sawp).
            3 => code != Some(code::DIAGNOSTIC) && odd,
            2 => odd,
            // Memory parity error: file record functions only.
            8 => !file,
            c => !known_exception(c),
        };
        if bad {
            self.flags |= error::EXC_CODE;
        }
        self.data = ModbusData::Exception(exc);
        Some(())
    }

    fn diagnostic(&mut self, r: &mut Reader<'_>) -> Option<()> {
        if self.data_length() < 2 {
            self.flags |= error::DATA_LENGTH;
            return Some(());
        }
        let sub = r.u16()?;
        let data = r.take(self.data_length() - 2)?.into();
        self.data = ModbusData::Diagnostic { sub, data };
        Some(())
    }

    fn mei(&mut self, r: &mut Reader<'_>) -> Option<()> {
        if self.data_length() < 1 {
            self.flags |= error::DATA_LENGTH;
            return Some(());
        }
        let mei_type = r.u8()?;
        let data = r.take(self.data_length() - 1)?.into();
        self.data = ModbusData::Mei { mei_type, data };
        Some(())
    }

    fn bytes(&mut self, r: &mut Reader<'_>) -> Option<()> {
        self.data = ModbusData::Bytes(r.take(self.data_length())?.into());
        Some(())
    }

    fn read_request(&mut self, r: &mut Reader<'_>) -> Option<()> {
        let address = r.u16()?;
        let quantity = r.u16()?;
        if quantity == 0 {
            self.flags |= error::DATA_VALUE;
        }
        if self.code() != Some(code::RD_WR_MULT_REGS) && self.data_length() > 4 {
            self.flags |= error::DATA_LENGTH;
        }
        let max = if self.access & access::BIT_ACCESS != 0 {
            2000
        } else {
            125
        };
        if quantity > max {
            self.flags |= error::DATA_VALUE;
        }
        self.data = ModbusData::ReadRequest { address, quantity };
        Some(())
    }

    fn read_response(&mut self, r: &mut Reader<'_>) -> Option<()> {
        if self.data_length() < 1 {
            self.flags |= error::DATA_LENGTH;
            return Some(());
        }
        let count = r.u8()?;
        if !(1..=250).contains(&count) || self.data_length() - 1 != usize::from(count) {
            self.flags |= error::DATA_VALUE;
        }
        self.data = ModbusData::ReadResponse(r.take(self.data_length() - 1)?.into());
        Some(())
    }

    fn write_request(&mut self, r: &mut Reader<'_>) -> Option<()> {
        let address = r.u16()?;
        if self.access & access::SINGLE != 0 {
            let data = r.u16()?;
            if self.access & access::COILS != 0 && data != 0 && data != 0xff00 {
                self.flags |= error::DATA_VALUE;
            }
            self.data = ModbusData::WriteOther { address, data };
        } else if self.access & access::MULTIPLE != 0 {
            let quantity = r.u16()?;
            let count = r.u8()?;
            let offset: u16 = if self.code() == Some(code::RD_WR_MULT_REGS) {
                11
            } else {
                7
            };
            let after = self.length.saturating_sub(offset);
            if quantity == 0 || after != u16::from(count) {
                self.flags |= error::DATA_LENGTH;
            }
            let bad = if self.access & access::BIT_ACCESS != 0 {
                quantity > 2000 || u16::from(count) != quantity.div_ceil(8)
            } else {
                quantity > 125 || u32::from(count) != 2 * u32::from(quantity)
            };
            if bad {
                self.flags |= error::DATA_VALUE;
            }
            let data = r.take(usize::from(after))?.into();
            self.data = match self.data {
                ModbusData::ReadRequest {
                    address: read_address,
                    quantity: read_quantity,
                } => ModbusData::ReadWrite {
                    read_address,
                    read_quantity,
                    address,
                    quantity,
                    data,
                },
                _ => ModbusData::WriteMultiple {
                    address,
                    quantity,
                    data,
                },
            };
        } else {
            let and_mask = r.u16()?;
            let or_mask = r.u16()?;
            self.data = ModbusData::WriteMask {
                address,
                and_mask,
                or_mask,
            };
        }
        Some(())
    }

    fn write_response(&mut self, r: &mut Reader<'_>) -> Option<()> {
        let address = r.u16()?;
        if self.access & access::SINGLE != 0 {
            let data = r.u16()?;
            self.data = ModbusData::WriteOther { address, data };
        } else if self.access & access::MULTIPLE != 0 {
            let quantity = r.u16()?;
            // The two maxima the other way round, as in sawp.
            let max = if self.access & access::BIT_ACCESS != 0 {
                125
            } else {
                2000
            };
            if quantity == 0 || quantity > max {
                self.flags |= error::DATA_VALUE;
            }
            self.data = ModbusData::WriteOther {
                address,
                data: quantity,
            };
        } else {
            let and_mask = r.u16()?;
            let or_mask = r.u16()?;
            self.data = ModbusData::WriteMask {
                address,
                and_mask,
                or_mask,
            };
        }
        Some(())
    }

    fn request(&mut self, r: &mut Reader<'_>) -> Option<()> {
        let len = self.data_length();
        match self.code() {
            Some(code::DIAGNOSTIC) => {
                if len != 4 {
                    self.flags |= error::DATA_LENGTH;
                }
                self.diagnostic(r)?;
                if let ModbusData::Diagnostic { sub, data } = &self.data
                    && let [a, b] = data[..]
                {
                    let bad = match sub {
                        0 | 4 => false,
                        1 => b != 0 || (a != 0 && a != 0xff),
                        3 => b != 0,
                        s if !known_diagnostic(*s) => false,
                        _ => a != 0 || b != 0,
                    };
                    if bad {
                        self.flags |= error::DATA_VALUE;
                    }
                }
                return Some(());
            }
            Some(code::MEI) => return self.mei(r),
            Some(code::RD_FILE_REC | code::WR_FILE_REC) if len == 0 => {
                self.flags |= error::DATA_LENGTH;
            }
            Some(
                code::RD_EXC_STATUS
                | code::GET_COMM_EVENT_CTR
                | code::GET_COMM_EVENT_LOG
                | code::REPORT_SERVER_ID,
            ) if len > 0 => self.flags |= error::DATA_LENGTH,
            Some(code::RD_FIFO_QUEUE) if len != 2 => self.flags |= error::DATA_LENGTH,
            _ => {
                if self.function == 0 || self.function >= EXCEPTION_BIT {
                    self.flags |= error::FUNC_CODE;
                }
                if self.access & access::READ != 0 {
                    self.read_request(r)?;
                    if self.access & access::WRITE != 0 {
                        return self.write_request(r);
                    }
                    return Some(());
                }
                if self.access & access::WRITE != 0 {
                    return self.write_request(r);
                }
            }
        }
        self.bytes(r)
    }

    fn response(&mut self, r: &mut Reader<'_>) -> Option<()> {
        let len = self.data_length();
        if self.function >= EXCEPTION_BIT {
            return self.exception(r);
        }
        match self.code() {
            Some(code::DIAGNOSTIC) => return self.diagnostic(r),
            Some(code::MEI) => return self.mei(r),
            Some(code::RD_EXC_STATUS) if len != 1 => self.flags |= error::DATA_LENGTH,
            Some(code::GET_COMM_EVENT_CTR) if len != 4 => self.flags |= error::DATA_LENGTH,
            _ => {
                if self.access & access::READ != 0 {
                    return self.read_response(r);
                }
                if self.access & access::WRITE != 0 {
                    return self.write_response(r);
                }
            }
        }
        self.bytes(r)
    }

    /// Whether this message answers (or is answered by) `other`, as
    /// Suricata pairs a response with a request (same transaction id,
    /// unit id, function and access type; for assigned functions, data of
    /// matching kinds); a pair whose values disagree (a read response
    /// whose size is not the quantity's, a write echoed with another
    /// address or value) still pairs, with `DATA_VALUE` set on `self`.
    /// The size a read response is checked against is the quantity's in
    /// bytes of bits (`ceil(quantity / 8)`) for every read but
    /// read/write multiple registers, registers included, as sawp does.
    pub fn check_against(&mut self, other: &ModbusMessage) -> bool {
        use ModbusData as D;
        if self.transaction_id != other.transaction_id
            || self.unit_id != other.unit_id
            || self.code() != other.code()
            || self.access != other.access
        {
            return false;
        }
        if self.category != category::PUBLIC_ASSIGNED {
            return true;
        }
        if matches!(other.data, D::Exception(_)) {
            return true;
        }
        let bits = |q: u16| usize::from(q.div_ceil(8));
        let mismatch = match (&self.data, &other.data) {
            (D::Exception(_), _) | (D::Bytes(_), D::Bytes(_)) => false,
            (D::Bytes(_), _) => return self.flags & error::DATA_LENGTH != 0,
            (_, D::Bytes(_)) => return other.flags & error::DATA_LENGTH != 0,
            (D::ReadResponse(d), D::ReadRequest { quantity, .. })
            | (D::ReadRequest { quantity, .. }, D::ReadResponse(d)) => d.len() != bits(*quantity),
            (D::ReadResponse(d), D::ReadWrite { read_quantity, .. })
            | (D::ReadWrite { read_quantity, .. }, D::ReadResponse(d)) => {
                d.len() != 2 * usize::from(*read_quantity)
            }
            (
                D::WriteOther { address, data },
                D::WriteOther {
                    address: a,
                    data: v,
                },
            )
            | (
                D::WriteOther { address, data },
                D::WriteMultiple {
                    address: a,
                    quantity: v,
                    ..
                },
            )
            | (
                D::WriteMultiple {
                    address,
                    quantity: data,
                    ..
                },
                D::WriteOther {
                    address: a,
                    data: v,
                },
            ) => address != a || data != v,
            (
                D::WriteMask {
                    address,
                    and_mask,
                    or_mask,
                },
                D::WriteMask {
                    address: a,
                    and_mask: and,
                    or_mask: or,
                },
            ) => address != a || and_mask != and || or_mask != or,
            (D::Diagnostic { sub, .. }, D::Diagnostic { sub: s, .. }) => return sub == s,
            (D::Mei { mei_type, .. }, D::Mei { mei_type: t, .. }) => return mei_type == t,
            _ => return false,
        };
        if mismatch {
            self.flags |= error::DATA_VALUE;
        }
        true
    }
}
