//! MQTT's wire format (MQTT 3.1 and 3.1.1, OASIS MQTT 5.0): the fixed
//! header and its variable-length remaining length ([`fixed_header`]), and
//! one whole control packet's variable header and payload ([`body`]), read
//! the way Suricata 7 reads them (properties only when the connection's
//! CONNECT said version 5; the short forms of v5 acknowledgements and
//! DISCONNECT). Every list kept is capped ([`Caps`]); what a cap drops is
//! reported by [`body`]'s caller through the [`Dropped`] flags returned.

use super::super::reader::Reader;
use super::{MqttBody, MqttConnect, MqttProperty, MqttPublish, PropValue, Properties};

/// A fixed header: the packet's type and flags, and the length after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fixed {
    /// The control packet type (the first byte's high nibble).
    pub kind: u8,
    /// The first byte's low nibble: DUP, QoS (2 bits), RETAIN.
    pub flags: u8,
    /// The remaining length.
    pub len: u32,
    /// The fixed header's own length (2 to 5 bytes).
    pub header_len: usize,
}

/// What reading a fixed header gave.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Head {
    /// A whole fixed header.
    Fixed(Fixed),
    /// More bytes are needed.
    More,
    /// A remaining length of more than four bytes.
    Bad,
}

/// MQTT's variable byte integer: seven bits a byte, low first, at most
/// four bytes. `Ok(None)`: the bytes end first; `Err`: a fifth byte would
/// be needed.
pub(super) fn varint(r: &mut Reader<'_>) -> Result<Option<u32>, ()> {
    let mut v = 0u32;
    for i in 0..4 {
        let Some(b) = r.u8() else { return Ok(None) };
        v |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some(v));
        }
    }
    Err(())
}

/// Reads the fixed header at the start of `b`.
pub(super) fn fixed_header(b: &[u8]) -> Head {
    let mut r = Reader::new(b);
    let Some(first) = r.u8() else {
        return Head::More;
    };
    match varint(&mut r) {
        Ok(Some(len)) => Head::Fixed(Fixed {
            kind: first >> 4,
            flags: first & 0x0f,
            len,
            header_len: r.pos(),
        }),
        Ok(None) => Head::More,
        Err(()) => Head::Bad,
    }
}

/// The caps on what one packet's lists keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Caps {
    /// Properties kept per property list.
    pub properties: usize,
    /// Topics (and SUBACK/UNSUBACK codes) kept per packet.
    pub topics: usize,
    /// Bytes of a PUBLISH or will message kept.
    pub message: usize,
    /// Keep CONNECT's password.
    pub passwords: bool,
}

/// What a cap dropped while reading one packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Dropped {
    /// Properties past [`Caps::properties`].
    pub properties: bool,
    /// Topics or codes past [`Caps::topics`].
    pub topics: bool,
}

/// One packet's reading: the reader over its remaining length, the caps.
struct Packet<'a, 'c> {
    r: Reader<'a>,
    caps: &'c Caps,
    dropped: Dropped,
}

fn owned(b: &[u8]) -> Box<[u8]> {
    b.into()
}

impl Packet<'_, '_> {
    /// A length-prefixed string or binary field.
    fn string(&mut self) -> Option<Box<[u8]>> {
        self.r.vec16().map(owned)
    }

    /// A property list (v5): its length, then the properties. `None` for
    /// an empty list, as Suricata keeps none then; unknown identifiers are
    /// skipped with their identifier only, as Suricata does.
    fn properties(&mut self) -> Option<Properties> {
        let len = varint(&mut self.r).ok()??;
        if len == 0 {
            return Some(None);
        }
        let bytes = self.r.take(len as usize)?;
        let mut r = Reader::new(bytes);
        let mut props = Vec::new();
        while r.left() > 0 {
            let id = varint(&mut r).ok()??;
            let value = match id {
                1 | 23 | 25 | 36 | 37 | 40 | 41 | 42 => PropValue::Int(u32::from(r.u8()?)),
                19 | 33 | 34 | 35 => PropValue::Int(u32::from(r.u16()?)),
                2 | 17 | 24 | 39 => PropValue::Int(r.u32()?),
                11 => PropValue::Int(varint(&mut r).ok()??),
                3 | 8 | 18 | 21 | 26 | 28 | 31 => PropValue::Str(owned(r.vec16()?)),
                9 | 22 => PropValue::Bin(owned(r.vec16()?)),
                38 => {
                    let k = owned(r.vec16()?);
                    PropValue::Pair(k, owned(r.vec16()?))
                }
                _ => continue,
            };
            if props.len() < self.caps.properties {
                props.push(MqttProperty { id, value });
            } else {
                self.dropped.properties = true;
            }
        }
        Some(Some(props.into_boxed_slice()))
    }

    /// The v5 property list when `v5`, else none.
    fn properties_if(&mut self, v5: bool) -> Option<Properties> {
        if v5 { self.properties() } else { Some(None) }
    }

    /// A message kept up to [`Caps::message`] bytes, and whether it was
    /// cut.
    fn message(&self, m: &[u8]) -> (Box<[u8]>, bool) {
        let keep = m.len().min(self.caps.message);
        (owned(&m[..keep]), keep < m.len())
    }

    fn connect(&mut self) -> Option<MqttBody> {
        let protocol_string = self.string()?;
        let protocol_version = self.r.u8()?;
        let flags = self.r.u8()?;
        let keepalive = self.r.u16()?;
        let v5 = protocol_version == 5;
        let properties = self.properties_if(v5)?;
        let client_id = self.string()?;
        let will = flags & 0x04 != 0;
        let will_properties = self.properties_if(v5 && will)?;
        let (will_topic, will_message) = if will {
            let topic = self.string()?;
            let m = self.r.vec16()?;
            (Some(topic), Some(self.message(m)))
        } else {
            (None, None)
        };
        let username = if flags & 0x80 != 0 {
            Some(self.string()?)
        } else {
            None
        };
        let password = if flags & 0x40 != 0 {
            Some(self.r.vec16()?)
        } else {
            None
        };
        let (will_message, will_message_truncated) = match will_message {
            Some((m, cut)) => (Some(m), cut),
            None => (None, false),
        };
        Some(MqttBody::Connect(Box::new(MqttConnect {
            protocol_string,
            protocol_version,
            flags,
            keepalive,
            client_id,
            username,
            password: password.filter(|_| self.caps.passwords).map(owned),
            will_topic,
            will_message,
            will_message_truncated,
            will_properties,
            properties,
        })))
    }

    fn publish(&mut self, qos: u8, v5: bool) -> Option<MqttBody> {
        let topic = self.string()?;
        let message_id = if qos > 0 { Some(self.r.u16()?) } else { None };
        let properties = self.properties_if(v5)?;
        let rest = self.r.take(self.r.left())?;
        let (message, message_truncated) = self.message(rest);
        Some(MqttBody::Publish(Box::new(MqttPublish {
            topic,
            message_id,
            message,
            message_truncated,
            properties,
        })))
    }

    /// PUBACK, PUBREC, PUBREL, PUBCOMP: the packet id, and in v5 a reason
    /// code (0 when left out) and properties.
    fn ack(&mut self, v5: bool) -> Option<MqttBody> {
        let len = self.r.left();
        let message_id = self.r.u16()?;
        if !v5 {
            return Some(MqttBody::Ack {
                message_id,
                reason_code: None,
                properties: None,
            });
        }
        let reason_code = if len == 2 { 0 } else { self.r.u8()? };
        let properties = if len <= 3 { None } else { self.properties()? };
        Some(MqttBody::Ack {
            message_id,
            reason_code: Some(reason_code),
            properties,
        })
    }

    fn subscribe(&mut self, v5: bool) -> Option<MqttBody> {
        let message_id = self.r.u16()?;
        let properties = self.properties_if(v5)?;
        let mut topics = Vec::new();
        let mut seen = 0usize;
        // A topic cut short ends the list (it is not read).
        while let (Some(t), Some(qos)) = (self.r.vec16(), self.r.u8()) {
            seen += 1;
            if topics.len() < self.caps.topics {
                topics.push((owned(t), qos));
            } else {
                self.dropped.topics = true;
            }
        }
        if seen == 0 {
            return None;
        }
        Some(MqttBody::Subscribe {
            message_id,
            topics: topics.into_boxed_slice(),
            properties,
        })
    }

    fn unsubscribe(&mut self, v5: bool) -> Option<MqttBody> {
        let message_id = self.r.u16()?;
        self.properties_if(v5)?;
        let mut topics = Vec::new();
        while let Some(t) = self.r.vec16() {
            if topics.len() < self.caps.topics {
                topics.push(owned(t));
            } else {
                self.dropped.topics = true;
            }
        }
        Some(MqttBody::Unsubscribe {
            message_id,
            topics: topics.into_boxed_slice(),
        })
    }

    /// SUBACK's and UNSUBACK's codes: the bytes after the packet id (and
    /// the v5 properties).
    fn codes(&mut self, v5: bool) -> Option<(u16, Box<[u8]>)> {
        let message_id = self.r.u16()?;
        self.properties_if(v5)?;
        let rest = self.r.take(self.r.left())?;
        let keep = rest.len().min(self.caps.topics);
        self.dropped.topics |= keep < rest.len();
        Some((message_id, owned(&rest[..keep])))
    }

    /// DISCONNECT: in v5 a reason code (0 when left out) and properties.
    /// A reason code without properties (a one-byte DISCONNECT) reads as
    /// 0, as Suricata 7 writes it (its EVE contract; docs/parsers.md).
    fn disconnect(&mut self, v5: bool) -> Option<MqttBody> {
        if !v5 {
            return Some(MqttBody::Disconnect {
                reason_code: None,
                properties: None,
            });
        }
        let len = self.r.left();
        let reason_code = match len {
            0 | 1 => 0,
            _ => self.r.u8()?,
        };
        let properties = if len <= 1 { None } else { self.properties()? };
        Some(MqttBody::Disconnect {
            reason_code: Some(reason_code),
            properties,
        })
    }

    /// AUTH (v5): a reason code and properties, both left out for success
    /// with none.
    fn auth(&mut self) -> Option<MqttBody> {
        let len = self.r.left();
        let reason_code = if len == 0 { 0 } else { self.r.u8()? };
        let properties = if len <= 1 { None } else { self.properties()? };
        Some(MqttBody::Auth {
            reason_code,
            properties,
        })
    }
}

/// Reads one packet's variable header and payload (`b`: exactly its
/// remaining length) of type `kind` with fixed-header `flags`, on a
/// connection whose CONNECT said `version`. `None`: malformed (a field
/// runs past the packet, or a SUBSCRIBE without topics).
pub(super) fn body(
    kind: u8,
    flags: u8,
    version: u8,
    b: &[u8],
    caps: &Caps,
) -> Option<(MqttBody, Dropped)> {
    let mut p = Packet {
        r: Reader::new(b),
        caps,
        dropped: Dropped::default(),
    };
    let v5 = version == 5;
    let body = match kind {
        1 => p.connect()?,
        2 => {
            let ack_flags = p.r.u8()?;
            let return_code = p.r.u8()?;
            let properties = p.properties_if(v5)?;
            MqttBody::Connack {
                session_present: ack_flags & 1 != 0,
                return_code,
                properties,
            }
        }
        3 => p.publish((flags >> 1) & 3, v5)?,
        4..=7 => p.ack(v5)?,
        8 => p.subscribe(v5)?,
        9 => {
            let (message_id, qos_granted) = p.codes(v5)?;
            MqttBody::Suback {
                message_id,
                qos_granted,
            }
        }
        10 => p.unsubscribe(v5)?,
        11 => {
            let (message_id, reason_codes) = p.codes(v5)?;
            MqttBody::Unsuback {
                message_id,
                reason_codes,
            }
        }
        12 | 13 => MqttBody::Ping,
        14 => p.disconnect(v5)?,
        15 => p.auth()?,
        _ => MqttBody::Unassigned,
    };
    Some((body, p.dropped))
}
