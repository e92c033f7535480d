//! TLS handshake messages: reassembled across records (bounded by
//! `max_handshake_bytes`), then dispatched — the ClientHello and
//! ServerHello decoded and fingerprinted, the server's Certificate message
//! handed to [`cert`](super::cert).

use super::TlsParser;
use crate::parsers::L7Message;
use crate::parsers::fingerprint::{client_fingerprints, ja3s};
use crate::parsers::hello::{ClientHello, parse_client_hello, parse_server_hello};
use crate::parsers::reader::Reader;

/// Handshake types.
const HS_CLIENT_HELLO: u8 = 1;
const HS_SERVER_HELLO: u8 = 2;
const HS_CERTIFICATE: u8 = 11;
const HS_CERTIFICATE_REQUEST: u8 = 13;
const HS_SERVER_HELLO_DONE: u8 = 14;

impl TlsParser {
    /// Handshake bytes with nothing buffered: whole messages parsed in
    /// place, the incomplete tail buffered.
    pub(super) fn handshake_bytes(&mut self, k: usize, body: &[u8], out: &mut Vec<L7Message>) {
        let used = self.handshake_bytes_buffered(k, body, out);
        let d = &mut self.dirs[k];
        if !d.done && !d.encrypted && used < body.len() {
            d.handshake.extend_from_slice(&body[used..]);
        }
    }

    /// Parses the whole messages at the start of `b`; returns bytes used.
    pub(super) fn handshake_bytes_buffered(
        &mut self,
        k: usize,
        b: &[u8],
        out: &mut Vec<L7Message>,
    ) -> usize {
        let mut r = Reader::new(b);
        let mut used = 0;
        while r.left() >= 4 && !self.dirs[k].done && !self.dirs[k].encrypted {
            let (Some(ty), Some(len)) = (r.u8(), r.u24()) else {
                break;
            };
            if len > self.cfg.max_handshake_bytes {
                // Cannot be buffered: give up on this direction's clear text.
                self.oversized += 1;
                self.give_up(k);
                return b.len();
            }
            let Some(msg) = r.take(len) else {
                break;
            };
            self.handshake_message(k, ty, msg, out);
            used = r.pos();
        }
        used
    }

    pub(super) fn client_hello(&mut self, ch: ClientHello) {
        self.hs.client_hellos += 1;
        if self.hs.client_hello.is_none() {
            let (ja3, ja4) = client_fingerprints(&ch, 't');
            self.hs.ja3 = Some(ja3);
            self.hs.ja4 = Some(ja4);
            self.hs.client_hello = Some(ch);
        }
    }

    fn handshake_message(&mut self, k: usize, ty: u8, msg: &[u8], out: &mut Vec<L7Message>) {
        match (k, ty) {
            (0, HS_CLIENT_HELLO) => {
                if let Some(ch) = parse_client_hello(msg) {
                    self.client_hello(ch);
                }
            }
            (1, HS_SERVER_HELLO) => {
                if let Some(sh) = parse_server_hello(msg) {
                    if sh.hello_retry_request {
                        self.hs.hello_retry_request = true;
                        if self.hs.server_hello.is_none() {
                            self.hs.ja3s = Some(ja3s(&sh));
                            self.hs.server_hello = Some(sh);
                        }
                    } else {
                        self.hs.ja3s = Some(ja3s(&sh));
                        let tls13 = super::is_tls13(sh.selected_version);
                        self.hs.server_hello = Some(sh);
                        if tls13 {
                            // Everything the server sends next is encrypted.
                            self.encrypted(1, out);
                        }
                    }
                }
            }
            (1, HS_CERTIFICATE) if !self.chain_done => {
                self.chain_done = true;
                self.certificates(msg);
            }
            (1, HS_CERTIFICATE_REQUEST) => self.client_cert = Some(false),
            (0, HS_CERTIFICATE) if self.client_cert == Some(false) => {
                self.client_cert = Some(super::cert::leaf_decodes(msg));
            }
            (1, HS_SERVER_HELLO_DONE) => {}
            _ => {}
        }
    }
}
