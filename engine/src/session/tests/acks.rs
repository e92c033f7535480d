//! Acknowledgements reach a parser that asks for them, at the packet that
//! carries them; a parser's protocol hand-over becomes the flow's
//! `app_proto` with the route's name as the original.

use super::*;
use crate::event::AppProto;

/// Hears acknowledgements (three at most) and hands over to `new` once it
/// sees an `X`.
#[derive(Default, Clone)]
struct Acks {
    heard: u32,
    switched: bool,
}

/// An acknowledgement as heard: whose stream, up to which offset.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Heard(FlowSide, u64);

impl SessionParser for Acks {
    type Message = Heard;
    fn feed_initiator(&mut self, b: &[u8]) -> Vec<Heard> {
        self.switched |= b.contains(&b'X');
        Vec::new()
    }
    fn feed_responder(&mut self, _: &[u8]) -> Vec<Heard> {
        Vec::new()
    }
    fn acked_initiator(&mut self, offset: u64) -> Vec<Heard> {
        self.heard += 1;
        vec![Heard(I, offset)]
    }
    fn acked_responder(&mut self, offset: u64) -> Vec<Heard> {
        self.heard += 1;
        vec![Heard(R, offset)]
    }
    fn wants_acks(&self) -> bool {
        self.heard < 3
    }
    fn app_proto(&self) -> Option<AppProto> {
        self.switched.then_some("new".into())
    }
}

fn acks(name: &'static str) -> Sessions<FiveTupleKey, Heard> {
    Sessions::new(&EngineConfig::default().reassembly)
        .tcp(Acks::default(), Route::any().named(name))
}

/// The messages with their packet numbers, and the flow's protocol.
fn heard(segs: &[Seg<'_>]) -> (Vec<(u64, Heard)>, Option<AppProto>) {
    let (out, _) = run_numbered(acks("orig"), segs, 7777);
    let mut msgs = Vec::new();
    let mut proto = None;
    for o in out {
        match o.event {
            FlowEvent::Application { message, .. } => msgs.push((o.seq, message)),
            FlowEvent::Ended { stats, .. } => proto = stats.app_proto,
            _ => {}
        }
    }
    (msgs, proto)
}

#[test]
fn acknowledgements_are_heard_at_their_packet_while_wanted() {
    let segs: &[Seg<'_>] = &[
        (true, ACK | PSH, 0, 0, b"abc"), // 2
        (false, ACK, 0, 3, b""),         // 3: a pure ACK
        (false, ACK | PSH, 0, 3, b"xy"), // 4: data, in order, acking again
        (true, ACK, 3, 2, b""),          // 5: the client's
        (false, ACK, 2, 3, b""),         // 6: no longer wanted
        (true, ACK | FIN, 3, 2, b""),
        (false, ACK | FIN, 2, 4, b""),
    ];
    let (msgs, proto) = heard(segs);
    assert_eq!(msgs, [(3, Heard(I, 3)), (4, Heard(I, 3)), (5, Heard(R, 2))]);
    assert_eq!(proto, Some(AppProto::from("orig")));
}

#[test]
fn an_acknowledgement_beyond_a_hole_is_heard_in_the_slow_path() {
    let segs: &[Seg<'_>] = &[
        (true, ACK | PSH, 0, 0, b"ab"), // 2
        (true, ACK | PSH, 4, 0, b"ef"), // 3: ahead of a hole
        (false, ACK | PSH, 0, 6, b"z"), // 4: acks past the hole
        (true, ACK | PSH, 2, 1, b"cd"), // 5: fills it; acks the server's byte
    ];
    let (msgs, _) = heard(segs);
    assert_eq!(msgs, [(4, Heard(I, 6)), (5, Heard(R, 1))]);
}

#[test]
fn a_hand_over_makes_the_route_the_original_protocol() {
    let segs: &[Seg<'_>] = &[
        (true, ACK | PSH, 0, 0, b"CONNECT then X"),
        (false, ACK, 0, 14, b""),
    ];
    let (_, proto) = heard(segs);
    assert_eq!(
        proto,
        Some(AppProto {
            name: "new",
            orig: Some("orig")
        })
    );
}
