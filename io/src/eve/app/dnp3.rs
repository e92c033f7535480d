//! EVE `dnp3` records, shaped like Suricata 7's: one per application
//! fragment, `type` (`request`, `response`, `unsolicited_response`), the
//! link `control` flags and function code, `src`, `dst`, the
//! `application` layer (`control` flags and sequence, `function_code`,
//! the `objects` with their headers and decoded `points`, `complete`)
//! and, on responses, `iin.indicators` by Suricata's names.

use crate::json::JsonObject;
use flowscope_engine::parsers::dnp3::{Dnp3Message, Object, Value};

/// Suricata's IIN names, highest bit (IIN1.7) first.
const INDICATORS: [(u16, &str); 16] = [
    (0x8000, "device_restart"),
    (0x4000, "device_trouble"),
    (0x2000, "local_control"),
    (0x1000, "need_time"),
    (0x0800, "class_3_events"),
    (0x0400, "class_2_events"),
    (0x0200, "class_1_events"),
    (0x0100, "all_stations"),
    (0x0080, "reserved_1"),
    (0x0040, "reserved_2"),
    (0x0020, "config_corrupt"),
    (0x0010, "already_executing"),
    (0x0008, "event_buffer_overflow"),
    (0x0004, "parameter_error"),
    (0x0002, "object_unknown"),
    (0x0001, "no_func_code_support"),
];

fn write_object(o: &mut JsonObject<'_>, obj: &Object) {
    o.item_object();
    o.u64("group", u64::from(obj.group))
        .u64("variation", u64::from(obj.variation))
        .u64("qualifier", u64::from(obj.qualifier))
        .u64("prefix_code", u64::from(obj.prefix_code))
        .u64("range_code", u64::from(obj.range_code))
        .u64("start", u64::from(obj.start))
        .u64("stop", u64::from(obj.stop))
        .u64("count", u64::from(obj.count));
    if let (Some(layout), false) = (obj.layout(), obj.points.is_empty()) {
        let n = layout.values();
        o.begin_array("points");
        for (i, p) in obj.points.iter().enumerate() {
            o.item_object();
            o.u64("prefix", u64::from(p.prefix))
                .u64("index", u64::from(p.index));
            if let Some(size) = p.size {
                o.u64("size", u64::from(size));
            }
            let values = obj.values.get(i * n..(i + 1) * n).unwrap_or_default();
            for (name, v) in layout.names().zip(values) {
                match *v {
                    Value::U(x) => o.u64(name, x),
                    // Suricata writes signed values through an unsigned
                    // integer: -1 as 18446744073709551615.
                    Value::I(x) => o.u64(name, x as u64),
                    Value::F32(bits) => o.f64(name, f64::from(f32::from_bits(bits))),
                    Value::F64(bits) => o.f64(name, f64::from_bits(bits)),
                };
            }
            o.end();
        }
        o.end();
    }
    o.end();
}

/// Writes a `dnp3` record's body.
pub(super) fn write_dnp3(o: &mut JsonObject<'_>, m: &Dnp3Message) {
    o.begin("dnp3");
    let kind = if m.request {
        "request"
    } else if m.unsolicited() {
        "unsolicited_response"
    } else {
        "response"
    };
    o.str("type", kind);
    let c = m.link.control;
    o.begin("control");
    o.bool("dir", c & 0x80 != 0)
        .bool("pri", c & 0x40 != 0)
        .bool("fcb", c & 0x20 != 0)
        .bool("fcv", c & 0x10 != 0)
        .u64("function_code", u64::from(c & 0x0f));
    o.end();
    o.u64("src", u64::from(m.link.src))
        .u64("dst", u64::from(m.link.dst));
    o.begin("application");
    let a = m.app_control;
    o.begin("control");
    o.bool("fir", a & 0x80 != 0)
        .bool("fin", a & 0x40 != 0)
        .bool("con", a & 0x20 != 0)
        .bool("uns", a & 0x10 != 0)
        .u64("sequence", u64::from(a & 0x0f));
    o.end();
    o.u64("function_code", u64::from(m.function_code));
    if !m.objects.is_empty() {
        o.begin_array("objects");
        for obj in &m.objects {
            write_object(o, obj);
        }
        o.end();
    }
    o.bool("complete", m.complete);
    o.end();
    if let Some(iin) = m.iin {
        o.begin("iin");
        if iin != 0 {
            o.begin_array("indicators");
            for (bit, name) in INDICATORS {
                if iin & bit != 0 {
                    o.item_bytes(name.as_bytes());
                }
            }
            o.end();
        }
        o.end();
    }
    o.end();
}
