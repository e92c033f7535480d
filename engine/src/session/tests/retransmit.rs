//! Re-sent segments are compared with the ones delivered by the payload
//! sum the originals' TCP checksums stated: a copy with other bytes whose
//! own checksum verifies is an inconsistency; one whose checksum does not
//! is not judged, unless every delivered byte is digested.

use super::*;
use crate::reassembly::ReassemblyConfig;

/// Byte 50 of an Ethernet/IPv4/TCP frame without options: the high byte
/// of the TCP checksum.
const TCP_CHECKSUM: usize = 14 + 20 + 16;

/// A handshake, two 100-byte segments from the client (so the first is
/// out of the last 32 bytes kept), then the first one again with its
/// first byte changed: its checksum recomputed, or left as it was (as a
/// copy whose checksum the NIC fills in after the capture, or a forged
/// one a host would drop). Returns the client side's counters and
/// whether an inconsistency was reported.
fn resend_changed(cfg: &ReassemblyConfig, checksum_verifies: bool) -> (FlowStats, bool) {
    let first = [b'a'; 100];
    let second = [b'b'; 100];
    let mut changed = first;
    changed[0] = b'X';
    let client = |seq: u32, payload: &[u8]| {
        tcp4_ack(
            C,
            40000,
            S,
            80,
            ACK | PSH,
            CISN.wrapping_add(1 + seq),
            SISN + 1,
            payload,
        )
    };
    let mut resent = client(0, &changed);
    if !checksum_verifies {
        // The original's checksum, which states the original's bytes.
        let original = client(0, &first);
        resent[TCP_CHECKSUM..TCP_CHECKSUM + 2]
            .copy_from_slice(&original[TCP_CHECKSUM..TCP_CHECKSUM + 2]);
    }
    let frames = vec![
        tcp4_ack(C, 40000, S, 80, SYN, CISN, 0, b""),
        tcp4_ack(S, 80, C, 40000, SYN | ACK, SISN, CISN.wrapping_add(1), b""),
        client(0, &first),
        client(100, &second),
        resent,
    ];
    let sessions = Sessions::new(cfg).tcp(Lines::default(), Route::any());
    let mut engine = engine_with(&EngineConfig::default(), sessions);
    let mut out = Vec::new();
    feed_frames(&mut engine, &frames, 100, &mut out);
    engine.finish(Timestamp::new(200, 0), frames.len() as u64, &mut out);
    let events: Vec<Ev> = out.into_iter().map(|o| o.event).collect();
    let reported = events.iter().any(|e| {
        matches!(
            e,
            FlowEvent::Anomaly {
                kind: AnomalyKind::InconsistentOverlap { side: I },
                ..
            }
        )
    });
    (ended(&events).1, reported)
}

#[test]
fn a_resent_segment_with_other_bytes_and_a_good_checksum_is_inconsistent() {
    let (stats, reported) = resend_changed(&ReassemblyConfig::default(), true);
    assert!(reported);
    assert_eq!(
        (
            stats.initiator.retransmits,
            stats.initiator.inconsistent_overlaps
        ),
        (1, 1)
    );
}

#[test]
fn a_resent_segment_whose_checksum_fails_is_not_judged_by_its_stated_sum() {
    let (stats, reported) = resend_changed(&ReassemblyConfig::default(), false);
    assert!(!reported);
    assert_eq!(
        (
            stats.initiator.retransmits,
            stats.initiator.inconsistent_overlaps
        ),
        (1, 0)
    );
    // Digests of the delivered bytes compare the bytes themselves.
    let bytes = ReassemblyConfig {
        digest_delivered_bytes: true,
        ..ReassemblyConfig::default()
    };
    for verifies in [false, true] {
        let (stats, reported) = resend_changed(&bytes, verifies);
        assert!(reported, "checksum verifies: {verifies}");
        assert_eq!(stats.initiator.inconsistent_overlaps, 1);
    }
}
