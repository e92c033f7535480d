//! EVE `modbus` records, shaped like Suricata 7's: `modbus.id` and the
//! `request` and `response` ADUs (`transaction_id`, `protocol_id`,
//! `unit_id`, `function_raw`, `function_code`, `access_type`, `category`,
//! `error_flags`, then what the function carries: `exception`,
//! `diagnostic`, `mei`, `read`, `write` or `data`), with sawp-modbus's
//! names (`RdHoldRegs`, `READ | HOLDING`, `PUBLIC_ASSIGNED`, `NONE`...).
//! Data bytes are written as Suricata writes them (`\xNN` for each byte
//! from 0x80 when they are not UTF-8).

use super::text;
use crate::json::JsonObject;
use flowscope_engine::parsers::modbus::{
    ModbusData, ModbusMessage, ModbusTransaction, access, category, error, known_diagnostic,
    known_exception, known_function, known_mei,
};

/// sawp-modbus's function names (`Unknown` for the unassigned codes).
fn function_name(raw: u8) -> &'static str {
    const NAMES: [&str; 24] = [
        "RdCoils",
        "RdDiscreteInputs",
        "RdHoldRegs",
        "RdInputRegs",
        "WrSingleCoil",
        "WrSingleReg",
        "RdExcStatus",
        "Diagnostic",
        "Program484",
        "Poll484",
        "GetCommEventCtr",
        "GetCommEventLog",
        "ProgramController",
        "PollController",
        "WrMultCoils",
        "WrMultRegs",
        "ReportServerID",
        "Program884",
        "ResetCommLink",
        "RdFileRec",
        "WrFileRec",
        "MaskWrReg",
        "RdWrMultRegs",
        "RdFIFOQueue",
    ];
    match known_function(raw) {
        Some(43) => "MEI",
        Some(c) => NAMES.get(usize::from(c) - 1).copied().unwrap_or("Unknown"),
        None => "Unknown",
    }
}

/// Diagnostic sub-function names (`Reserved` for the others).
fn diagnostic_name(sub: u16) -> &'static str {
    const LOW: [&str; 5] = [
        "RetQueryData",
        "RestartCommOpt",
        "RetDiagReg",
        "ChangeInputDelimiter",
        "ForceListenOnlyMode",
    ];
    const HIGH: [&str; 12] = [
        "ClearCtrDiagReg",
        "RetBusMsgCount",
        "RetBusCommErrCount",
        "RetBusExcErrCount",
        "RetServerMsgCount",
        "RetServerNoRespCount",
        "RetServerNAKCount",
        "RetServerBusyCount",
        "RetBusCharOverrunCount",
        "RetOverrunErrCount",
        "ClearOverrunCounterFlag",
        "GetClearPlusStats",
    ];
    let name = match sub {
        0..=4 => LOW.get(usize::from(sub)),
        10..=21 => HIGH.get(usize::from(sub - 10)),
        _ => None,
    };
    match name {
        Some(n) if known_diagnostic(sub) => n,
        _ => "Reserved",
    }
}

/// Exception code names (`Unknown` for the others).
fn exception_name(code: u8) -> &'static str {
    const NAMES: [&str; 11] = [
        "IllegalFunction",
        "IllegalDataAddr",
        "IllegalDataValue",
        "ServerDeviceFail",
        "Ack",
        "ServerDeviceBusy",
        "NegAck",
        "MemParityErr",
        "",
        "GatewayPathUnavailable",
        "GatewayTargetFailToResp",
    ];
    match NAMES.get(usize::from(code).wrapping_sub(1)) {
        Some(n) if known_exception(code) => n,
        _ => "Unknown",
    }
}

/// MEI type names.
fn mei_name(t: u8) -> &'static str {
    match t {
        13 if known_mei(t) => "CANOpenGenRefReqResp",
        14 if known_mei(t) => "RdDevId",
        _ => "Unknown",
    }
}

/// sawp-flags' text of a flag set: each named flag whose bits are all set,
/// in declaration order (combined ones too), ` | ` between; `NONE` for
/// none.
fn flags_text(bits: u8, names: &[(u8, &str)]) -> String {
    let mut s = String::new();
    for &(flag, name) in names {
        if bits & flag == flag {
            if !s.is_empty() {
                s.push_str(" | ");
            }
            s.push_str(name);
        }
    }
    if bits == 0 || s.is_empty() {
        s = "NONE".into();
    }
    s
}

const ACCESS: [(u8, &str); 12] = [
    (access::READ, "READ"),
    (access::WRITE, "WRITE"),
    (access::DISCRETES, "DISCRETES"),
    (access::COILS, "COILS"),
    (access::INPUT, "INPUT"),
    (access::HOLDING, "HOLDING"),
    (access::SINGLE, "SINGLE"),
    (access::MULTIPLE, "MULTIPLE"),
    (access::BIT_ACCESS, "BIT_ACCESS_MASK"),
    (
        access::DISCRETES | access::COILS | access::INPUT | access::HOLDING,
        "FUNC_MASK",
    ),
    (access::WRITE | access::SINGLE, "WRITE_SINGLE"),
    (access::WRITE | access::MULTIPLE, "WRITE_MULTIPLE"),
];

const CATEGORY: [(u8, &str); 4] = [
    (category::PUBLIC_ASSIGNED, "PUBLIC_ASSIGNED"),
    (category::PUBLIC_UNASSIGNED, "PUBLIC_UNASSIGNED"),
    (category::USER_DEFINED, "USER_DEFINED"),
    (category::RESERVED, "RESERVED"),
];

const ERRORS: [(u8, &str); 5] = [
    (error::DATA_VALUE, "DATA_VALUE"),
    (error::DATA_LENGTH, "DATA_LENGTH"),
    (error::EXC_CODE, "EXC_CODE"),
    (error::FUNC_CODE, "FUNC_CODE"),
    (error::PROTO_ID, "PROTO_ID"),
];

fn write_message(o: &mut JsonObject<'_>, m: &ModbusMessage) {
    o.u64("transaction_id", u64::from(m.transaction_id))
        .u64("protocol_id", u64::from(m.protocol_id))
        .u64("unit_id", u64::from(m.unit_id))
        .u64("function_raw", u64::from(m.function))
        .str("function_code", function_name(m.function))
        .str("access_type", &flags_text(m.access, &ACCESS))
        .str("category", &flags_text(m.category, &CATEGORY))
        .str("error_flags", &flags_text(m.flags, &ERRORS));
    // A multiple write's bytes are left out: Suricata writes them as a
    // string where its schema (and so this one) says integer, as IKE's
    // odd-length `_raw` values are left out.
    let write_multiple = |o: &mut JsonObject<'_>, address: u16, quantity: u16, _data: &[u8]| {
        o.begin("write");
        o.u64("address", u64::from(address))
            .u64("quantity", u64::from(quantity));
        o.end();
    };
    match &m.data {
        ModbusData::Empty => {}
        ModbusData::Exception(code) => {
            o.begin("exception");
            o.u64("raw", u64::from(*code))
                .str("code", exception_name(*code));
            o.end();
        }
        ModbusData::Diagnostic { sub, data } => {
            o.begin("diagnostic");
            o.u64("raw", u64::from(*sub))
                .str("code", diagnostic_name(*sub))
                .str("data", &text(data));
            o.end();
        }
        ModbusData::Mei { mei_type, data } => {
            o.begin("mei");
            o.u64("raw", u64::from(*mei_type))
                .str("code", mei_name(*mei_type))
                .str("data", &text(data));
            o.end();
        }
        ModbusData::ReadRequest { address, quantity } => {
            o.begin("read");
            o.u64("address", u64::from(*address))
                .u64("quantity", u64::from(*quantity));
            o.end();
        }
        ModbusData::ReadResponse(data) => {
            o.begin("read");
            o.str("data", &text(data));
            o.end();
        }
        ModbusData::WriteMultiple {
            address,
            quantity,
            data,
        } => write_multiple(o, *address, *quantity, data),
        ModbusData::WriteMask {
            address,
            and_mask,
            or_mask,
        } => {
            o.begin("write");
            o.u64("address", u64::from(*address))
                .u64("and_mask", u64::from(*and_mask))
                .u64("or_mask", u64::from(*or_mask));
            o.end();
        }
        ModbusData::WriteOther { address, data } => {
            o.begin("write");
            o.u64("address", u64::from(*address))
                .u64("data", u64::from(*data));
            o.end();
        }
        ModbusData::ReadWrite {
            read_address,
            read_quantity,
            address,
            quantity,
            data,
        } => {
            o.begin("read");
            o.u64("address", u64::from(*read_address))
                .u64("quantity", u64::from(*read_quantity));
            o.end();
            write_multiple(o, *address, *quantity, data);
        }
        ModbusData::Bytes(data) => {
            o.str("data", &text(data));
        }
    }
}

/// Writes a `modbus` record's body.
pub(super) fn write_modbus(o: &mut JsonObject<'_>, t: &ModbusTransaction) {
    o.begin("modbus");
    o.u64("id", t.id);
    for (key, m) in [("request", &t.request), ("response", &t.response)] {
        if let Some(m) = m {
            o.begin(key);
            write_message(o, m);
            o.end();
        }
    }
    o.end();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_named_as_sawp_names_them() {
        let single_coil = access::COILS | access::WRITE | access::SINGLE;
        assert_eq!(
            flags_text(single_coil, &ACCESS),
            "WRITE | COILS | SINGLE | WRITE_SINGLE"
        );
        assert_eq!(
            flags_text(access::READ | access::HOLDING, &ACCESS),
            "READ | HOLDING"
        );
        assert_eq!(flags_text(0, &ERRORS), "NONE");
        assert_eq!(
            flags_text(error::DATA_LENGTH | error::PROTO_ID, &ERRORS),
            "DATA_LENGTH | PROTO_ID"
        );
    }

    #[test]
    fn codes_are_named_as_sawp_names_them() {
        assert_eq!(function_name(3), "RdHoldRegs");
        assert_eq!(function_name(0x83), "RdHoldRegs");
        assert_eq!(function_name(43), "MEI");
        assert_eq!(function_name(44), "Unknown");
        assert_eq!(function_name(0), "Unknown");
        assert_eq!(diagnostic_name(4), "ForceListenOnlyMode");
        assert_eq!(diagnostic_name(21), "GetClearPlusStats");
        assert_eq!(diagnostic_name(5), "Reserved");
        assert_eq!(exception_name(2), "IllegalDataAddr");
        assert_eq!(exception_name(11), "GatewayTargetFailToResp");
        assert_eq!(exception_name(9), "Unknown");
        assert_eq!(exception_name(0), "Unknown");
        assert_eq!(mei_name(14), "RdDevId");
        assert_eq!(mei_name(0), "Unknown");
    }
}
