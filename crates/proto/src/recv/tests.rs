//! Unit tests of [`Receiver`]: acceptance, SACK contents, ordering,
//! reassembly, the receive window and partial delivery.

use bytes::Bytes;
use msctp_wire::chunk::{Data, ForwardTsn, ForwardTsnStream, GapBlock};
use msctp_wire::{Ssn, Tsn};

use super::*;

fn config(window: u32) -> ReceiveConfig {
    ReceiveConfig {
        window,
        max_gap_blocks: 16,
        max_dup_tsns: 16,
        max_tsns_ahead: 1024,
        chunk_overhead: 0,
    }
}

/// A DATA chunk; `flags` holds any of `U`, `B`, `E`.
fn chunk(tsn: u32, stream: u16, ssn: u16, flags: &str, payload: &[u8]) -> Data {
    Data {
        tsn: Tsn(tsn),
        stream,
        ssn: Ssn(ssn),
        ppid: 51,
        unordered: flags.contains('U'),
        begin: flags.contains('B'),
        end: flags.contains('E'),
        immediate: false,
        payload: Bytes::copy_from_slice(payload),
    }
}

fn whole(tsn: u32, stream: u16, ssn: u16, payload: &[u8]) -> Data {
    chunk(tsn, stream, ssn, "BE", payload)
}

fn drain(r: &mut Receiver) -> Vec<ReceivedMessage> {
    let out: Vec<ReceivedMessage> = std::iter::from_fn(|| r.poll_message()).collect();
    r.reassembly.check_invariants();
    out
}

fn payloads(ms: &[ReceivedMessage]) -> Vec<&[u8]> {
    ms.iter().map(|m| &m.payload[..]).collect()
}

fn gb(start: u16, end: u16) -> GapBlock {
    GapBlock { start, end }
}

/// RFC 9260 §6.2, §6.6: in-order DATA advances the cumulative TSN ack and
/// is delivered in SSN order.
#[test]
fn in_order() {
    let mut r = Receiver::new(Tsn(1), 1, config(10_000));
    for i in 0..5u16 {
        let d = whole(1 + u32::from(i), 0, i, &[i as u8; 3]);
        assert_eq!(r.on_data(&d, 0), DataOutcome::Accepted);
    }
    assert_eq!(r.cum_tsn(), Tsn(5));
    assert!(!r.has_gaps());
    let got = drain(&mut r);
    assert_eq!(got.len(), 5);
    for (i, m) in got.iter().enumerate() {
        assert_eq!(m.ssn, Ssn(i as u16));
        assert_eq!(m.first_tsn, Tsn(1 + i as u32));
        assert_eq!(m.ppid, 51);
        assert!(m.complete && !m.unordered && !m.aborted);
    }
    let sack = r.build_sack();
    assert_eq!(sack.cum_tsn_ack, Tsn(5));
    assert_eq!(sack.a_rwnd, 10_000);
    assert!(sack.gap_blocks.is_empty() && sack.dup_tsns.is_empty());
}

/// RFC 9260 §6.6, §6.7: out-of-order TSNs are gap-acked; ordered messages
/// wait for the missing SSN.
#[test]
fn out_of_order() {
    let mut r = Receiver::new(Tsn(1), 1, config(10_000));
    r.on_data(&whole(1, 0, 0, b"a"), 0);
    r.on_data(&whole(3, 0, 2, b"c"), 0);
    r.on_data(&whole(4, 0, 3, b"d"), 0);
    r.on_data(&whole(6, 0, 5, b"f"), 0);
    assert_eq!(payloads(&drain(&mut r)), vec![b"a"]);
    assert!(r.has_gaps());
    let sack = r.build_sack();
    assert_eq!(sack.cum_tsn_ack, Tsn(1));
    assert_eq!(sack.gap_blocks, vec![gb(2, 3), gb(5, 5)]);
    assert_eq!(sack.a_rwnd, 10_000 - 3);
    r.on_data(&whole(2, 0, 1, b"b"), 0);
    assert_eq!(payloads(&drain(&mut r)), vec![b"b", b"c", b"d"]);
    assert_eq!(r.cum_tsn(), Tsn(4));
    r.on_data(&whole(5, 0, 4, b"e"), 0);
    assert_eq!(payloads(&drain(&mut r)), vec![b"e", b"f"]);
    assert_eq!(r.cum_tsn(), Tsn(6));
    assert!(!r.has_gaps());
}

/// RFC 9260 §3.3.4: cum 100 with 102–103 and 105 received gives Gap Ack
/// Blocks (2,3) and (5,5).
#[test]
fn gap_blocks_rfc_example() {
    let mut r = Receiver::new(Tsn(100), 1, config(10_000));
    for (t, ssn) in [(100, 0), (102, 2), (103, 3), (105, 5)] {
        r.on_data(&whole(t, 0, ssn, b"x"), 0);
    }
    let sack = r.build_sack();
    assert_eq!(sack.cum_tsn_ack, Tsn(100));
    assert_eq!(sack.gap_blocks, vec![gb(2, 3), gb(5, 5)]);
}

/// RFC 9260 §6.2: no more Gap Ack Blocks than configured or asked for; the
/// lowest are kept.
#[test]
fn gap_block_limit() {
    let mut cfg = config(10_000);
    cfg.max_gap_blocks = 2;
    let mut r = Receiver::new(Tsn(1), 1, cfg);
    for t in [3, 5, 7, 9] {
        r.on_data(&chunk(t, 0, 0, "UBE", b"x"), 0);
    }
    assert_eq!(r.build_sack().gap_blocks, vec![gb(3, 3), gb(5, 5)]);
    assert_eq!(r.build_sack_with_limits(1, 0).gap_blocks, vec![gb(3, 3)]);
}

/// RFC 9260 §6.2: a duplicate is reported in the next SACK only, and
/// every occurrence counts.
#[test]
fn duplicates_reported_once() {
    let mut r = Receiver::new(Tsn(1), 1, config(10_000));
    r.on_data(&whole(1, 0, 0, b"a"), 0);
    r.on_data(&whole(3, 0, 2, b"c"), 0);
    assert_eq!(r.on_data(&whole(1, 0, 0, b"a"), 0), DataOutcome::Duplicate);
    assert_eq!(r.on_data(&whole(3, 0, 2, b"c"), 0), DataOutcome::Duplicate);
    assert_eq!(r.on_data(&whole(3, 0, 2, b"c"), 0), DataOutcome::Duplicate);
    let sack = r.build_sack();
    assert_eq!(sack.dup_tsns, vec![Tsn(1), Tsn(3), Tsn(3)]);
    assert!(r.build_sack().dup_tsns.is_empty());
    // Duplicates are neither delivered twice nor buffered.
    assert_eq!(drain(&mut r).len(), 1);
    assert_eq!(r.buffered_bytes(), 1);
}

/// RFC 9260 §6.2, §3.3.4: the duplicate list is bounded; the rest are
/// counted.
#[test]
fn duplicates_bounded() {
    let mut cfg = config(10_000);
    cfg.max_dup_tsns = 2;
    let mut r = Receiver::new(Tsn(1), 1, cfg);
    r.on_data(&whole(1, 0, 0, b"a"), 0);
    for _ in 0..5 {
        r.on_data(&whole(1, 0, 0, b"a"), 0);
    }
    assert_eq!(r.build_sack().dup_tsns.len(), 2);
    assert_eq!(r.duplicates_unreported(), 3);
}

/// RFC 9260 §1.6: TSNs wrap around; a message fragmented across
/// 0xffffffff → 0 reassembles, and gaps across the wrap are reported.
#[test]
fn wraparound() {
    let mut r = Receiver::new(Tsn(0xffff_fffe), 1, config(10_000));
    assert_eq!(r.cum_tsn(), Tsn(0xffff_fffd));
    r.on_data(&chunk(0xffff_fffe, 0, 0, "B", b"ab"), 0);
    r.on_data(&chunk(0, 0, 0, "", b"ef"), 0);
    r.on_data(&chunk(1, 0, 0, "E", b"gh"), 0);
    let sack = r.build_sack();
    assert_eq!(sack.cum_tsn_ack, Tsn(0xffff_fffe));
    assert_eq!(sack.gap_blocks, vec![gb(2, 3)]);
    r.on_data(&chunk(0xffff_ffff, 0, 0, "", b"cd"), 0);
    assert_eq!(r.cum_tsn(), Tsn(1));
    let got = drain(&mut r);
    assert_eq!(payloads(&got), vec![b"abcdefgh"]);
    assert_eq!(got[0].first_tsn, Tsn(0xffff_fffe));
}

/// RFC 9260 §6.9: a multi-fragment message reassembles in order and when
/// shuffled, concatenated once.
#[test]
fn multi_fragment_in_order_and_shuffled() {
    let parts: [&[u8]; 4] = [b"he", b"ll", b"o ", b"you"];
    let flags = ["B", "", "", "E"];
    for order in [[0, 1, 2, 3], [3, 1, 0, 2], [2, 3, 1, 0], [1, 0, 3, 2]] {
        let mut r = Receiver::new(Tsn(10), 1, config(10_000));
        for (n, &i) in order.iter().enumerate() {
            let d = chunk(10 + i as u32, 0, 0, flags[i], parts[i]);
            assert_eq!(r.on_data(&d, 0), DataOutcome::Accepted);
            if n < 3 {
                assert_eq!(r.ready_messages(), 0);
            }
        }
        let got = drain(&mut r);
        assert_eq!(payloads(&got), vec![b"hello you"]);
        assert_eq!(r.cum_tsn(), Tsn(13));
        assert_eq!(r.buffered_bytes(), 0);
    }
}

/// RFC 9260 §6.6: streams are independent; a gap on one does not hold up
/// another.
#[test]
fn interleaved_streams() {
    let mut r = Receiver::new(Tsn(1), 3, config(10_000));
    // Stream 0: SSN 0 as two fragments (TSN 1, 2); stream 1: SSN 0 at TSN 3;
    // stream 2: SSN 0 at TSN 4, SSN 1 at TSN 5.
    r.on_data(&chunk(2, 0, 0, "E", b"0b"), 0);
    r.on_data(&whole(5, 2, 1, b"2b"), 0);
    r.on_data(&whole(3, 1, 0, b"1a"), 0);
    assert_eq!(payloads(&drain(&mut r)), vec![b"1a"]);
    r.on_data(&whole(4, 2, 0, b"2a"), 0);
    assert_eq!(payloads(&drain(&mut r)), vec![b"2a", b"2b"]);
    r.on_data(&chunk(1, 0, 0, "B", b"0a"), 0);
    let got = drain(&mut r);
    assert_eq!(payloads(&got), vec![b"0a0b"]);
    assert_eq!(got[0].stream, 0);
    assert_eq!(r.cum_tsn(), Tsn(5));
}

/// RFC 9260 §6.6: unordered messages bypass ordering and are delivered as
/// soon as complete, ahead of held ordered ones; their SSN is ignored.
#[test]
fn unordered_ahead_of_ordered() {
    let mut r = Receiver::new(Tsn(1), 1, config(10_000));
    r.on_data(&whole(2, 0, 1, b"ordered-1"), 0);
    r.on_data(&chunk(3, 0, 999, "UB", b"un"), 0);
    r.on_data(&chunk(4, 0, 5, "UE", b"ordered"), 0);
    let got = drain(&mut r);
    assert_eq!(payloads(&got), vec![b"unordered"]);
    assert!(got[0].unordered);
    r.on_data(&whole(1, 0, 0, b"ordered-0"), 0);
    assert_eq!(payloads(&drain(&mut r)), vec![b"ordered-0", b"ordered-1"]);
}

/// RFC 9260 §6.5: after SSN 65535 comes 0.
#[test]
fn ssn_wraps_at_65535() {
    let mut r = Receiver::new(Tsn(1), 1, config(1 << 20));
    let mut tsn = 1u32;
    for i in 0..=65_535u32 {
        assert_eq!(
            r.on_data(&whole(tsn, 0, i as u16, b"x"), 0),
            DataOutcome::Accepted
        );
        tsn += 1;
        let m = r.poll_message().expect("delivered at once");
        assert_eq!(m.ssn, Ssn(i as u16));
    }
    // Next: SSN 1 then 0 (after the wrap), out of order.
    r.on_data(&whole(tsn + 1, 0, 1, b"after-1"), 0);
    assert_eq!(r.ready_messages(), 0);
    r.on_data(&whole(tsn, 0, 0, b"after-0"), 0);
    assert_eq!(payloads(&drain(&mut r)), vec![b"after-0", b"after-1"]);
}

/// RFC 9260 §6.5, §6.6 with RFC 3758 §3.6: SSNs 65534, 65535, 0 arriving
/// in reverse are delivered in serial order across the wrap.
#[test]
fn ssn_wrap_out_of_order() {
    let mut r = Receiver::new(Tsn(1), 1, config(10_000));
    // Skip SSNs 0..=65533 with FORWARD TSNs over TSNs 1..=3 (each skip
    // less than half the SSN space, as serial arithmetic requires).
    for (t, ssn) in [(1, 20_000), (2, 40_000), (3, 65_533)] {
        assert!(r.on_forward_tsn(&ForwardTsn {
            new_cum_tsn: Tsn(t),
            streams: vec![ForwardTsnStream {
                stream: 0,
                ssn: Ssn(ssn)
            }],
        }));
    }
    r.on_data(&whole(6, 0, 0, b"c"), 0);
    r.on_data(&whole(5, 0, 65_535, b"b"), 0);
    assert_eq!(r.ready_messages(), 0);
    r.on_data(&whole(4, 0, 65_534, b"a"), 0);
    assert_eq!(payloads(&drain(&mut r)), vec![b"a", b"b", b"c"]);
}

/// Zero-copy: a single-fragment message reuses the chunk's `Bytes`, also
/// after waiting for its turn; a multi-fragment one is a new buffer.
#[test]
fn single_fragment_zero_copy() {
    let mut r = Receiver::new(Tsn(1), 1, config(10_000));
    let now = whole(1, 0, 0, b"immediate");
    let later = whole(3, 0, 2, b"waited");
    let middle = whole(2, 0, 1, b"middle");
    r.on_data(&now, 0);
    r.on_data(&later, 0);
    r.on_data(&middle, 0);
    let got = drain(&mut r);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].payload.as_ptr(), now.payload.as_ptr());
    assert_eq!(got[1].payload.as_ptr(), middle.payload.as_ptr());
    assert_eq!(got[2].payload.as_ptr(), later.payload.as_ptr());
    let u = chunk(4, 0, 0, "UBE", b"unordered");
    r.on_data(&u, 0);
    assert_eq!(
        r.poll_message().unwrap().payload.as_ptr(),
        u.payload.as_ptr()
    );
}

/// RFC 9260 §6.2 B, C: a_rwnd shrinks by the bytes held (reassembly,
/// ordering, and delivered but not polled) and grows as messages are polled.
#[test]
fn a_rwnd_tracks_buffer() {
    let mut r = Receiver::new(Tsn(1), 1, config(1000));
    assert_eq!(r.a_rwnd(), 1000);
    r.on_data(&chunk(1, 0, 0, "B", &[0; 100]), 0); // held for reassembly
    assert_eq!(r.a_rwnd(), 900);
    r.on_data(&whole(4, 0, 1, &[0; 50]), 0); // held for ordering
    assert_eq!(r.a_rwnd(), 850);
    r.on_data(&chunk(2, 0, 0, "", &[0; 100]), 0);
    r.on_data(&chunk(3, 0, 0, "E", &[0; 100]), 0); // both delivered, not polled
    assert_eq!(r.ready_messages(), 2);
    assert_eq!(r.a_rwnd(), 650);
    assert_eq!(r.buffered_bytes(), 350);
    assert_eq!(r.build_sack().a_rwnd, 650);
    let _ = r.poll_message();
    assert_eq!(r.a_rwnd(), 950);
    let _ = r.poll_message();
    assert_eq!(r.a_rwnd(), 1000);
}

/// RFC 9260 §6.2: with the window at 0, a DATA chunk with a TSN above the
/// highest received is dropped and not acknowledged.
#[test]
fn window_full_drops_higher_tsn() {
    let mut r = Receiver::new(Tsn(1), 1, config(100));
    assert_eq!(
        r.on_data(&whole(2, 0, 1, &[1; 60]), 0),
        DataOutcome::Accepted
    );
    assert_eq!(
        r.on_data(&whole(3, 0, 2, &[2; 60]), 0),
        DataOutcome::Accepted
    ); // overshoot allowed
    assert_eq!(r.a_rwnd(), 0);
    let out = r.on_data(&whole(4, 0, 3, &[3; 10]), 0);
    assert_eq!(out, DataOutcome::Dropped(DropReason::NoBufferSpace));
    assert!(out.requires_immediate_sack());
    let sack = r.build_sack();
    assert_eq!(sack.gap_blocks, vec![gb(2, 3)]);
    assert_eq!(sack.a_rwnd, 0);
    // Not recorded: it is new when it comes again.
    assert_eq!(r.tsns.status(Tsn(4)), TsnStatus::New);
}

/// RFC 9260 §6.2: with the window at 0, a chunk below the highest TSN
/// received is accepted after dropping the highest TSN held for reordering,
/// which later SACKs no longer report (RFC 9260 §6.2 D: reneging when out
/// of buffer space).
#[test]
fn window_full_drops_highest_held_for_lower_tsn() {
    let mut r = Receiver::new(Tsn(1), 1, config(100));
    r.on_data(&whole(2, 0, 1, &[1; 50]), 0);
    r.on_data(&whole(3, 0, 2, &[2; 50]), 0);
    assert_eq!(r.a_rwnd(), 0);
    assert_eq!(r.build_sack().gap_blocks, vec![gb(2, 3)]);
    // TSN 1 (SSN 0) fills the hole: TSN 3 is given up to make room.
    let out = r.on_data(&whole(1, 0, 0, &[0; 40]), 0);
    assert_eq!(out, DataOutcome::AcceptedAfterRenege { dropped: 1 });
    assert!(out.requires_immediate_sack());
    assert_eq!(r.cum_tsn(), Tsn(2));
    let sack = r.build_sack();
    assert!(sack.gap_blocks.is_empty());
    let got = drain(&mut r);
    assert_eq!(got.iter().map(|m| m.ssn.0).collect::<Vec<_>>(), vec![0, 1]);
    // TSN 3 comes again and is accepted as new.
    assert_eq!(
        r.on_data(&whole(3, 0, 2, &[2; 50]), 0),
        DataOutcome::Accepted
    );
    assert_eq!(drain(&mut r).len(), 1);
    assert_eq!(r.cum_tsn(), Tsn(3));
}

/// RFC 9260 §6.2: nothing held above the new TSN (the window is full of
/// delivered, unpolled data): the new chunk is refused and nothing reneged.
#[test]
fn window_full_nothing_to_drop() {
    let mut r = Receiver::new(Tsn(1), 1, config(100));
    r.on_data(&chunk(1, 0, 0, "UBE", &[0; 60]), 0);
    r.on_data(&chunk(3, 0, 0, "UBE", &[0; 60]), 0);
    assert_eq!(r.a_rwnd(), 0);
    let out = r.on_data(&chunk(2, 0, 0, "UBE", &[0; 10]), 0);
    assert_eq!(out, DataOutcome::Dropped(DropReason::NoBufferSpace));
    assert_eq!(r.build_sack().gap_blocks, vec![gb(2, 2)]);
    drain(&mut r);
    assert_eq!(
        r.on_data(&chunk(2, 0, 0, "UBE", &[0; 10]), 0),
        DataOutcome::Accepted
    );
    assert_eq!(r.cum_tsn(), Tsn(3));
}

/// RFC 9260 §6.2: dropping a held complete ordered message's last fragment
/// makes it incomplete again; it is delivered once retransmitted.
#[test]
fn window_full_renege_of_complete_waiting_message() {
    let mut r = Receiver::new(Tsn(1), 1, config(100));
    r.on_data(&chunk(3, 0, 1, "B", &[1; 40]), 0);
    r.on_data(&chunk(4, 0, 1, "E", &[2; 40]), 0);
    r.on_data(&chunk(2, 0, 0, "E", &[9; 30]), 0);
    assert_eq!(r.a_rwnd(), 0);
    let out = r.on_data(&chunk(1, 0, 0, "B", &[8; 30]), 0);
    assert_eq!(out, DataOutcome::AcceptedAfterRenege { dropped: 1 });
    r.reassembly.check_invariants();
    let got = drain(&mut r);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].ssn, Ssn(0));
    // TSN 4 is forgotten: not gap-acked any more.
    assert_eq!(r.cum_tsn(), Tsn(3));
    assert!(r.build_sack().gap_blocks.is_empty());
    r.on_data(&chunk(4, 0, 1, "E", &[2; 40]), 0);
    let got = drain(&mut r);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload.len(), 80);
}

/// RFC 9260 §6.5: DATA on a stream we do not have is acknowledged but
/// discarded; the caller reports an Invalid Stream Identifier error.
#[test]
fn invalid_stream() {
    let mut r = Receiver::new(Tsn(1), 2, config(1000));
    assert_eq!(
        r.on_data(&whole(1, 2, 0, b"nope"), 0),
        DataOutcome::InvalidStream
    );
    assert_eq!(r.cum_tsn(), Tsn(1));
    assert_eq!(r.ready_messages(), 0);
    assert_eq!(r.buffered_bytes(), 0);
    assert_eq!(
        r.on_data(&whole(1, 2, 0, b"nope"), 0),
        DataOutcome::Duplicate
    );
    // More streams (RFC 6525): now accepted.
    r.set_inbound_streams(3);
    assert_eq!(r.on_data(&whole(2, 2, 0, b"yes"), 0), DataOutcome::Accepted);
    assert_eq!(payloads(&drain(&mut r)), vec![b"yes"]);
}

/// RFC 9260 §6.2: a DATA chunk without user data is reported for an ABORT
/// (No User Data) and leaves no trace.
#[test]
fn empty_payload() {
    let mut r = Receiver::new(Tsn(1), 1, config(1000));
    assert_eq!(
        r.on_data(&whole(1, 0, 0, b""), 0),
        DataOutcome::EmptyPayload
    );
    assert_eq!(r.cum_tsn(), Tsn(0));
    assert_eq!(r.on_data(&whole(1, 0, 0, b"x"), 0), DataOutcome::Accepted);
}

/// Memory bound: TSNs too far beyond the cumulative TSN ack are refused.
#[test]
fn too_far_ahead() {
    let mut r = Receiver::new(Tsn(1), 1, config(1 << 20));
    let out = r.on_data(&whole(1 + 1025, 0, 0, b"x"), 0);
    assert_eq!(out, DataOutcome::Dropped(DropReason::TooFarAhead));
    assert!(!out.requires_immediate_sack());
    assert_eq!(
        r.on_data(&whole(1024, 0, 0, b"x"), 0),
        DataOutcome::Accepted
    );
}

/// RFC 3758 §3.6: FORWARD TSN moves the cumulative TSN past the gaps and
/// over what was received above, drops the abandoned fragments and releases
/// ordered messages held behind the skipped SSNs.
#[test]
fn forward_tsn_past_gaps_releases_ordered() {
    let mut r = Receiver::new(Tsn(1), 2, config(10_000));
    // Stream 0: SSN 0 abandoned (TSN 1 lost, TSN 2 its middle fragment held);
    // SSN 1 at TSN 4, SSN 2 at TSN 5. Stream 1: unrelated SSN 0 at TSN 6.
    r.on_data(&chunk(2, 0, 0, "", b"stale"), 0);
    r.on_data(&whole(4, 0, 1, b"one"), 0);
    r.on_data(&whole(5, 0, 2, b"two"), 0);
    r.on_data(&whole(6, 1, 0, b"other"), 0);
    assert_eq!(payloads(&drain(&mut r)), vec![b"other"]);
    assert!(r.on_forward_tsn(&ForwardTsn {
        new_cum_tsn: Tsn(3),
        streams: vec![ForwardTsnStream {
            stream: 0,
            ssn: Ssn(0)
        }],
    }));
    assert_eq!(r.cum_tsn(), Tsn(6));
    assert!(!r.has_gaps());
    assert_eq!(payloads(&drain(&mut r)), vec![b"one", b"two"]);
    assert_eq!(r.buffered_bytes(), 0);
    // Out of date: ignored.
    assert!(!r.on_forward_tsn(&ForwardTsn {
        new_cum_tsn: Tsn(5),
        streams: vec![ForwardTsnStream {
            stream: 0,
            ssn: Ssn(40)
        }],
    }));
    r.on_data(&whole(7, 0, 3, b"three"), 0);
    assert_eq!(payloads(&drain(&mut r)), vec![b"three"]);
}

/// RFC 3758 §3.6: a FORWARD TSN for a stream we do not have, or listing
/// an old SSN, changes nothing for streams.
#[test]
fn forward_tsn_odd_streams() {
    let mut r = Receiver::new(Tsn(1), 1, config(10_000));
    r.on_data(&whole(1, 0, 0, b"a"), 0);
    assert!(r.on_forward_tsn(&ForwardTsn {
        new_cum_tsn: Tsn(2),
        streams: vec![
            ForwardTsnStream {
                stream: 7,
                ssn: Ssn(3)
            },
            ForwardTsnStream {
                stream: 0,
                ssn: Ssn(65_535)
            },
        ],
    }));
    r.on_data(&whole(3, 0, 1, b"b"), 0);
    assert_eq!(payloads(&drain(&mut r)), vec![b"a", b"b"]);
}

/// Splits `msg` into DATA chunks of `frag` bytes from `tsn`.
fn fragments(
    tsn: u32,
    stream: u16,
    ssn: u16,
    unordered: bool,
    msg: &[u8],
    frag: usize,
) -> Vec<Data> {
    let n = msg.len().div_ceil(frag);
    msg.chunks(frag)
        .enumerate()
        .map(|(i, p)| {
            let mut d = chunk(tsn + i as u32, stream, ssn, "", p);
            d.unordered = unordered;
            d.begin = i == 0;
            d.end = i == n - 1;
            d
        })
        .collect()
}

/// RFC 9260 §6.9 (partial delivery API) / RFC 6458 §8.1.21: a message
/// larger than the window is delivered in pieces once held bytes reach the
/// window; nothing else of that stream comes in between, other streams do.
#[test]
fn partial_delivery_of_message_larger_than_window() {
    let msg: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let mut r = Receiver::new(Tsn(1), 2, config(1000));
    let frags = fragments(1, 0, 0, false, &msg, 300);
    let mut pieces = Vec::new();
    let mut others = Vec::new();
    // Stream 0 SSN 1 and stream 1 SSN 0 arrive whole after the big message.
    let same_stream_next = whole(11, 0, 1, b"next on 0");
    let other_stream = whole(12, 1, 0, b"on 1");
    for (i, f) in frags.iter().enumerate() {
        // Honour the window as a sender would: wait until it opens.
        while r.a_rwnd() == 0 {
            pieces.extend(std::iter::from_fn(|| r.poll_message()));
        }
        assert_eq!(r.on_data(f, 0), DataOutcome::Accepted);
        if i == 5 {
            let _ = r.poll_message().map(|m| pieces.push(m));
            assert_eq!(r.on_data(&same_stream_next, 0), DataOutcome::Accepted);
            assert_eq!(r.on_data(&other_stream, 0), DataOutcome::Accepted);
            for m in std::iter::from_fn(|| r.poll_message()) {
                if m.stream == 1 {
                    others.push(m);
                } else {
                    pieces.push(m);
                }
            }
            assert_eq!(payloads(&others), vec![b"on 1"]);
        }
        r.reassembly.check_invariants();
    }
    pieces.extend(std::iter::from_fn(|| r.poll_message()));
    // The big message in pieces, then SSN 1.
    let last = pieces.pop().unwrap();
    assert_eq!(&last.payload[..], b"next on 0");
    assert!(pieces.len() > 1);
    let (done, partial): (Vec<_>, Vec<_>) = pieces.iter().partition(|m| m.complete);
    assert_eq!(done.len(), 1);
    assert!(pieces.last().unwrap().complete);
    assert!(
        partial
            .iter()
            .all(|m| m.ssn == Ssn(0) && m.first_tsn == Tsn(1) && !m.aborted)
    );
    let joined: Vec<u8> = pieces
        .iter()
        .flat_map(|m| m.payload.iter().copied())
        .collect();
    assert_eq!(joined, msg);
    assert_eq!(r.cum_tsn(), Tsn(12));
    assert_eq!(r.buffered_bytes(), 0);
}

/// RFC 3758 §3.6 with partial delivery: a FORWARD TSN over the rest of a
/// partially delivered message aborts it (an empty `aborted` piece), and the
/// stream goes on with the next SSN.
#[test]
fn partial_delivery_aborted_by_forward_tsn() {
    let msg = vec![7u8; 1000];
    let mut r = Receiver::new(Tsn(1), 1, config(400));
    let frags = fragments(1, 0, 0, false, &msg, 100);
    for f in &frags[..4] {
        r.on_data(f, 0);
    }
    let pieces = drain(&mut r);
    assert_eq!(pieces.len(), 4);
    assert!(pieces.iter().all(|m| !m.complete));
    // TSN 5 is lost; 6 and 7 are held beyond the gap.
    r.on_data(&frags[5], 0);
    r.on_data(&frags[6], 0);
    r.on_data(&whole(11, 0, 1, b"next"), 0);
    assert_eq!(r.ready_messages(), 0);
    assert!(r.on_forward_tsn(&ForwardTsn {
        new_cum_tsn: Tsn(10),
        streams: vec![ForwardTsnStream {
            stream: 0,
            ssn: Ssn(0)
        }],
    }));
    let got = drain(&mut r);
    assert_eq!(got.len(), 2);
    assert!(got[0].aborted && !got[0].complete && got[0].payload.is_empty());
    assert_eq!(got[0].first_tsn, Tsn(1));
    assert_eq!(&got[1].payload[..], b"next");
    assert_eq!(r.buffered_bytes(), 0);
    assert_eq!(r.cum_tsn(), Tsn(11));
}

/// RFC 9260 §6.9 partial delivery of an unordered message; RFC 9260 §6.6:
/// an unordered message of the same stream completing meanwhile is
/// delivered at once, in between the pieces.
#[test]
fn partial_delivery_unordered() {
    let msg = vec![3u8; 500];
    let mut r = Receiver::new(Tsn(1), 1, config(200));
    let frags = fragments(1, 0, 0, true, &msg, 100);
    r.on_data(&frags[0], 0);
    r.on_data(&frags[1], 0);
    let first = drain(&mut r);
    assert_eq!(first.len(), 2);
    assert!(
        first
            .iter()
            .all(|m| m.unordered && !m.complete && m.first_tsn == Tsn(1))
    );
    r.on_data(&chunk(6, 0, 0, "UBE", b"small"), 0);
    let small = drain(&mut r);
    assert_eq!(payloads(&small), vec![b"small"]);
    let mut rest = Vec::new();
    for f in &frags[2..] {
        assert_eq!(r.on_data(f, 0), DataOutcome::Accepted);
        rest.extend(drain(&mut r));
    }
    assert_eq!(rest.len(), 3);
    assert!(rest[2].complete && !rest[1].complete);
    let total: usize = first.iter().chain(&rest).map(|m| m.payload.len()).sum();
    assert_eq!(total, 500);
    assert_eq!(r.cum_tsn(), Tsn(6));
}

/// The deadlock that per-stream exclusive partial delivery would cause: an
/// ordered message of stream 0 is partially delivered and waits beyond a
/// gap, while an unordered message of stream 0 straddles the cumulative TSN
/// and fills the window. Both get through (RFC 9260 §6.9, §6.2).
#[test]
fn partial_delivery_two_messages_one_stream() {
    let mut r = Receiver::new(Tsn(1), 1, config(300));
    let unordered = fragments(1, 0, 0, true, &[1u8; 600], 100); // TSN 1..=6
    let ordered = fragments(7, 0, 0, false, &[2u8; 600], 100); // TSN 7..=12
    // The ordered message's prefix arrives first and goes partial.
    for f in &ordered[..3] {
        assert_eq!(r.on_data(f, 0), DataOutcome::Accepted);
    }
    let mut got = drain(&mut r);
    assert_eq!(got.len(), 3);
    // Now the unordered message's prefix (TSN 1..=3) fills the window.
    for f in &unordered[..3] {
        assert_eq!(r.on_data(f, 0), DataOutcome::Accepted);
    }
    got.extend(drain(&mut r));
    assert_eq!(got.len(), 6, "the unordered prefix is handed out too");
    for f in unordered[3..].iter().chain(&ordered[3..]) {
        assert_eq!(r.on_data(f, 0), DataOutcome::Accepted);
        got.extend(drain(&mut r));
    }
    assert_eq!(r.cum_tsn(), Tsn(12));
    for (first, fill) in [(Tsn(1), 1u8), (Tsn(7), 2u8)] {
        let pieces: Vec<_> = got.iter().filter(|m| m.first_tsn == first).collect();
        assert!(pieces.last().unwrap().complete);
        assert_eq!(pieces.iter().filter(|m| m.complete).count(), 1);
        let bytes: Vec<u8> = pieces
            .iter()
            .flat_map(|m| m.payload.iter().copied())
            .collect();
        assert_eq!(bytes, vec![fill; 600]);
    }
}

/// RFC 6525 (fewer incoming streams) with partial delivery: a message
/// partially delivered on a removed stream ends with an aborted piece, and
/// the stream's later DATA is an invalid stream (RFC 9260 §6.5).
#[test]
fn removed_stream_aborts_partial_delivery() {
    let mut r = Receiver::new(Tsn(1), 2, config(200));
    let frags = fragments(1, 1, 0, false, &[5u8; 500], 100);
    r.on_data(&frags[0], 0);
    r.on_data(&frags[1], 0);
    assert_eq!(drain(&mut r).len(), 2);
    r.set_inbound_streams(1);
    let got = drain(&mut r);
    assert_eq!(got.len(), 1);
    assert!(got[0].aborted && got[0].stream == 1 && got[0].first_tsn == Tsn(1));
    assert_eq!(r.on_data(&frags[2], 0), DataOutcome::InvalidStream);
    assert_eq!(r.cum_tsn(), Tsn(3));
}
