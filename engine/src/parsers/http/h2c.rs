//! The `Upgrade: h2c` hand-over (RFC 7540 §3.2; feature `http2`): a
//! request that offers h2c is kept as the header fields HTTP/2 gives it
//! ([`Offer`]: Suricata's mimicked request, `:method`, `:path`, then the
//! request's headers in order with `Host` as `:authority`) and its
//! `HTTP2-Settings` value; a `101` whose `Upgrade` names h2c hands the
//! connection to an [`Http2Parser::upgraded`] built from them.

use super::super::Http2Config;
use super::super::http2::{HeaderField, Http2Parser};

/// A request that offered h2c, as the HTTP/2 parser takes it over.
#[derive(Debug, Clone)]
pub(super) struct Offer {
    /// The HTTP/1 transaction that made the offer.
    pub tx_id: u64,
    fields: Vec<HeaderField>,
    settings: Option<Box<[u8]>>,
}

/// Whether an `Upgrade` header's value lists the `h2c` token.
pub(super) fn names_h2c(value: &[u8]) -> bool {
    value
        .split(|&c| c == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"h2c"))
}

fn field(name: &[u8], value: &[u8]) -> HeaderField {
    HeaderField::Field {
        name: name.into(),
        value: value.into(),
    }
}

impl Offer {
    /// The offer in a parsed request head, if its `Upgrade` header names
    /// h2c. At most `max_fields` header fields are kept (the head's own
    /// header cap bounds them already).
    pub(super) fn of_request(
        tx_id: u64,
        (method, uri): (&[u8], &[u8]),
        headers: &[httparse::Header<'_>],
        max_fields: usize,
    ) -> Option<Offer> {
        let offered = headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("upgrade") && names_h2c(h.value));
        if !offered {
            return None;
        }
        let mut fields = Vec::with_capacity((headers.len() + 2).min(max_fields));
        fields.push(field(b":method", method));
        if !uri.is_empty() {
            fields.push(field(b":path", uri));
        }
        let mut settings = None;
        for h in headers {
            let name = h.name.as_bytes();
            // Suricata decodes the settings of a header spelt exactly so
            // (another spelling is kept as a header).
            if name == b"HTTP2-Settings" {
                settings.get_or_insert_with(|| h.value.into());
            } else if name.eq_ignore_ascii_case(b"host") {
                fields.push(field(b":authority", h.value));
            } else {
                fields.push(field(name, h.value));
            }
        }
        fields.truncate(max_fields);
        Some(Offer {
            tx_id,
            fields,
            settings,
        })
    }

    /// The server accepted: the HTTP/2 parser that reads on, timed by
    /// acknowledgements from these stream offsets when `timed`.
    pub(super) fn accept(self, cfg: &Http2Config, timed: Option<[u64; 2]>) -> Http2Parser {
        let p = Http2Parser::upgraded(cfg.clone(), self.fields, self.settings.as_deref());
        match timed {
            Some(offsets) => p.timed_by_acks_from(offsets),
            None => p,
        }
    }
}

/// Whether an HTTP parser that follows h2c wants the driver's
/// acknowledgements (for the HTTP/2 parser's timing): a flow whose first
/// request offers no h2c, or whose offer is not accepted, stops them for
/// good (the driver asks no more once told no); a later offer is read
/// without the timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Acks {
    /// Not wanted.
    Off,
    /// Until the first request.
    Pending,
    /// The first request offered h2c; until its answer.
    Offered,
    /// Accepted: as long as the HTTP/2 parser wants them.
    Live,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upgrade_token_list_is_read_case_blind() {
        assert!(names_h2c(b"h2c"));
        assert!(names_h2c(b"websocket, H2C "));
        assert!(!names_h2c(b"h2"));
        assert!(!names_h2c(b"h2c-14"));
        assert!(!names_h2c(b""));
    }

    #[test]
    fn an_offer_is_the_request_as_http2_fields() {
        let headers = [
            httparse::Header {
                name: "Host",
                value: b"example.com",
            },
            httparse::Header {
                name: "Connection",
                value: b"Upgrade, HTTP2-Settings",
            },
            httparse::Header {
                name: "Upgrade",
                value: b"h2c",
            },
            httparse::Header {
                name: "HTTP2-Settings",
                value: b"AAMAAABkAAQCAAAAAAIAAAAA",
            },
        ];
        let o = Offer::of_request(3, (b"GET", b"/x"), &headers, 64).expect("offer");
        assert_eq!(o.tx_id, 3);
        let names: Vec<&[u8]> = o
            .fields
            .iter()
            .map(|f| match f {
                HeaderField::Field { name, .. } => &name[..],
                _ => &b"?"[..],
            })
            .collect();
        assert_eq!(
            names,
            [
                &b":method"[..],
                b":path",
                b":authority",
                b"Connection",
                b"Upgrade"
            ]
        );
        assert_eq!(
            o.settings.as_deref(),
            Some(&b"AAMAAABkAAQCAAAAAAIAAAAA"[..])
        );
        // Capped.
        let o = Offer::of_request(0, (b"GET", b"/x"), &headers, 2).expect("offer");
        assert_eq!(o.fields.len(), 2);
        // No offer without the token.
        assert!(Offer::of_request(0, (b"GET", b"/"), &headers[..2], 64).is_none());
    }
}
