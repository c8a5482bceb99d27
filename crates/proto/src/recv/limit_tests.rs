//! Tests of the receiver's limits: memory accounting of held payloads
//! (RFC 9260 §6.2 B), receiver silly window syndrome avoidance (RFC 9260
//! §6.2, RFC 1122 §4.2.3.3), and bounded memory and work for what a peer
//! controls: TSNs far ahead, duplicates, gaps, nonexistent streams, FORWARD
//! TSN stream lists.

use bytes::Bytes;
use msctp_wire::chunk::{Data, ForwardTsn, ForwardTsnStream};
use msctp_wire::{Ssn, Tsn};

use super::*;

fn config(window: u32, chunk_overhead: usize) -> ReceiveConfig {
    ReceiveConfig {
        window,
        max_gap_blocks: 16,
        max_dup_tsns: 16,
        max_tsns_ahead: 1024,
        chunk_overhead,
    }
}

fn whole(tsn: u32, stream: u16, ssn: u16, payload: &[u8]) -> Data {
    Data {
        tsn: Tsn(tsn),
        stream,
        ssn: Ssn(ssn),
        ppid: 0,
        unordered: false,
        begin: true,
        end: true,
        immediate: false,
        payload: Bytes::copy_from_slice(payload),
    }
}

/// A chunk whose payload is a `len`-byte view into a `datagram`-byte
/// buffer, as the wire parser hands them out.
fn in_datagram(tsn: u32, ssn: u16, len: usize, datagram: usize) -> (Data, Bytes) {
    let buf = Bytes::from(vec![9u8; datagram]);
    let mut d = whole(tsn, 0, ssn, b"");
    d.payload = buf.slice(datagram - len..);
    (d, buf)
}

fn within(inner: &[u8], outer: &[u8]) -> bool {
    let (i, o) = (inner.as_ptr() as usize, outer.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

/// RFC 9260 §6.2 B: a payload smaller than half its datagram is copied out
/// (delivered from a buffer of its own) and charged its length plus the
/// bookkeeping; a larger one stays a view and is charged the datagram.
#[test]
fn rfc9260_6_2_payload_charged_what_it_keeps_alive() {
    let mut r = Receiver::new(Tsn(1), 1, config(100_000, 100));
    let (small, small_buf) = in_datagram(1, 0, 10, 1_000);
    assert_eq!(r.on_data(&small, small_buf.len()), DataOutcome::Accepted);
    assert_eq!(r.charge(), 10 + 100);
    assert_eq!(r.a_rwnd(), 100_000 - 110);
    let (big, big_buf) = in_datagram(2, 1, 600, 1_000);
    assert_eq!(r.on_data(&big, big_buf.len()), DataOutcome::Accepted);
    assert_eq!(r.charge(), 110 + 1_000 + 100);
    assert_eq!(r.buffered_bytes(), 610);
    assert_eq!(r.a_rwnd(), 100_000 - 1_210);
    let m = r.poll_message().unwrap();
    assert!(
        !within(&m.payload, &small_buf),
        "small payload still a view"
    );
    assert_eq!(&m.payload[..], &[9u8; 10][..]);
    let m = r.poll_message().unwrap();
    assert!(within(&m.payload, &big_buf), "large payload copied");
    assert_eq!(r.charge(), 0);
    assert_eq!(r.a_rwnd(), 100_000);
}

/// RFC 9260 §6.9 with the accounting: a message reassembled from fragments
/// is one new buffer, charged its length and one bookkeeping overhead; the
/// fragments' datagrams are released.
#[test]
fn rfc9260_6_9_reassembled_message_charged_its_buffer() {
    let mut r = Receiver::new(Tsn(1), 1, config(100_000, 100));
    let mut bufs = Vec::new();
    for i in 0..3u32 {
        let (mut d, buf) = in_datagram(1 + i, 0, 800, 1_000);
        d.begin = i == 0;
        d.end = i == 2;
        assert_eq!(r.on_data(&d, buf.len()), DataOutcome::Accepted);
        bufs.push(buf);
    }
    assert_eq!(r.ready_messages(), 1);
    assert_eq!(r.charge(), 2_400 + 100);
    let m = r.poll_message().unwrap();
    assert_eq!(m.payload.len(), 2_400);
    assert!(bufs.iter().all(|b| !within(&m.payload, b)));
    assert_eq!(r.charge(), 0);
}

/// The bookkeeping overhead charged per chunk covers what a held chunk
/// and a queued message really cost besides their payload buffer.
#[test]
fn chunk_overhead_covers_the_records() {
    // B-tree nodes and queues run up to half empty: 1.5 times the record.
    let record = reassembly::Reassembly::record_size();
    assert!(
        record * 3 / 2 <= CHUNK_OVERHEAD,
        "a record of {record} bytes (with map slack) exceeds {CHUNK_OVERHEAD}"
    );
}

/// RFC 9260 §6.2, memory bound: with tiny chunks the bookkeeping dominates;
/// a peer ignoring the window cannot make the memory held exceed twice the
/// window (plus one chunk), even though the payload stays far below it.
#[test]
fn rfc9260_6_2_memory_bound_with_tiny_chunks() {
    let mut cfg = config(10_000, 100);
    cfg.max_tsns_ahead = 65_535;
    let mut r = Receiver::new(Tsn(1), 1, cfg);
    let mut accepted = 0;
    for i in 0..10_000u32 {
        // SSN 0 (TSN 1) is missing: everything is held.
        match r.on_data(&whole(2 + i, 0, 1 + i as u16, b"x"), 0) {
            DataOutcome::Accepted => accepted += 1,
            DataOutcome::Dropped(DropReason::NoBufferSpace) => {}
            other => panic!("{other:?}"),
        }
        assert!(r.charge() <= 20_000 + 101);
    }
    assert_eq!(accepted, 20_000 / 101 + 1);
    assert_eq!(r.a_rwnd(), 0);
    r.check_invariants();
}

/// RFC 9260 §6.2 (receiver silly window syndrome avoidance, as RFC 1122
/// §4.2.3.3): while the application reads less than min(window / 2, a
/// full-sized packet), the a_rwnd offered does not grow (the right edge of
/// the window stays); once it has read that much, the whole free window is
/// offered at once.
#[test]
fn rfc9260_6_2_sws_small_increases_not_advertised() {
    let mut r = Receiver::new(Tsn(1), 1, config(10_000, 0));
    // 88 messages of 100 bytes in buffers of their own, then one full-sized
    // packet of the peer: 1 048 bytes of datagram.
    for i in 0..88u32 {
        assert_eq!(
            r.on_data(&whole(1 + i, 0, i as u16, &[1; 100]), 0),
            DataOutcome::Accepted
        );
    }
    let (big, buf) = in_datagram(89, 88, 1_000, 1_048);
    assert_eq!(r.on_data(&big, buf.len()), DataOutcome::Accepted);
    drop(buf);
    assert_eq!(r.build_sack().a_rwnd, 10_000 - 8_800 - 1_048);
    // Reading 10 messages frees 1 000 bytes, less than the threshold of
    // min(5 000, 1 048): nothing new is offered, no window update.
    for _ in 0..10 {
        r.poll_message().unwrap();
        assert_eq!(r.a_rwnd(), 152);
        assert!(!r.window_update_due());
    }
    assert_eq!(r.build_sack().a_rwnd, 152);
    // One more: 1 100 bytes free beyond the offer, all offered.
    r.poll_message().unwrap();
    assert_eq!(r.a_rwnd(), 1_252);
    assert!(
        r.window_update_due(),
        "the peer could not send a full packet"
    );
    assert_eq!(r.build_sack().a_rwnd, 1_252);
    // The right edge is fixed again: arrivals shrink the offer, reads below
    // the threshold do not grow it.
    assert_eq!(
        r.on_data(&whole(90, 0, 89, &[1; 100]), 0),
        DataOutcome::Accepted
    );
    assert_eq!(r.a_rwnd(), 1_152);
    r.poll_message().unwrap();
    assert_eq!(r.a_rwnd(), 1_152);
    assert!(!r.window_update_due());
}

/// RFC 9260 §6.2 window updates: with the peer able to send full packets
/// (offer above the threshold), reading sends an update only once the
/// offer reopens past half the window, not for every read.
#[test]
fn rfc9260_6_2_window_update_when_reopened_past_half() {
    let mut r = Receiver::new(Tsn(1), 1, config(10_000, 0));
    for i in 0..8u32 {
        let (d, buf) = in_datagram(1 + i, i as u16, 1_000, 1_000);
        assert_eq!(r.on_data(&d, buf.len()), DataOutcome::Accepted);
    }
    assert_eq!(r.build_sack().a_rwnd, 2_000);
    let mut updates = Vec::new();
    for _ in 0..8 {
        r.poll_message().unwrap();
        updates.push(r.window_update_due());
    }
    // Free after each read: 3 000 .. 10 000. The threshold is 1 000 and the
    // offer of 2 000 allows a full packet: the update is due once the offer
    // would reach half (5 000), from the third read on until a SACK goes.
    assert_eq!(
        updates,
        vec![false, false, true, true, true, true, true, true]
    );
    assert_eq!(r.build_sack().a_rwnd, 10_000);
    assert!(!r.window_update_due());
}

/// Bounded work and memory: TSNs far beyond the cumulative TSN ack point
/// are refused without being recorded, so a flood of them leaves the TSN
/// map, the buffer and the SACK unchanged.
#[test]
fn tsns_far_ahead_cost_nothing() {
    let mut r = Receiver::new(Tsn(1), 1, config(1 << 20, CHUNK_OVERHEAD));
    let mut x: u32 = 12_345;
    for _ in 0..100_000 {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let tsn = 1 + 1_025 + x % (u32::MAX / 2 - 2_000);
        assert_eq!(
            r.on_data(&whole(tsn, 0, 0, b"x"), 0),
            DataOutcome::Dropped(DropReason::TooFarAhead)
        );
    }
    assert_eq!(r.tsns.words_len(), 0);
    assert_eq!(r.charge(), 0);
    let sack = r.build_sack();
    assert!(sack.gap_blocks.is_empty() && sack.dup_tsns.is_empty());
    assert_eq!(sack.cum_tsn_ack, Tsn(0));
}

/// Bounded memory: every other TSN up to `max_tsns_ahead` makes the most
/// gaps possible; the bitmap stays within `max_tsns_ahead` bits and the
/// SACK within `max_gap_blocks` blocks.
#[test]
fn gaps_bounded() {
    let mut r = Receiver::new(Tsn(1), 1, config(1 << 20, CHUNK_OVERHEAD));
    for i in (2..=1_025u32).step_by(2) {
        r.on_data(&whole(i, 0, i as u16, b"x"), 0);
    }
    assert!(r.tsns.words_len() <= 1_024 / 64 + 1);
    let sack = r.build_sack();
    assert_eq!(sack.gap_blocks.len(), 16);
    assert_eq!(sack.cum_tsn_ack, Tsn(0));
}

/// RFC 9260 §6.2, §3.3.4, bounded memory: the same TSN duplicated many
/// times is remembered at most `max_dup_tsns` times between SACKs, and
/// buffered once.
#[test]
fn rfc9260_6_2_duplicate_flood_bounded() {
    let mut r = Receiver::new(Tsn(1), 1, config(1 << 20, CHUNK_OVERHEAD));
    r.on_data(&whole(1, 0, 0, b"x"), 0);
    r.on_data(&whole(3, 0, 2, b"z"), 0);
    for i in 0..100_000u32 {
        let tsn = if i % 2 == 0 { 1 } else { 3 };
        assert_eq!(
            r.on_data(&whole(tsn, 0, 0, b"x"), 0),
            DataOutcome::Duplicate
        );
        assert!(r.tsns.dups_len() <= 16);
    }
    assert_eq!(r.buffered_bytes(), 2);
    let sack = r.build_sack();
    assert_eq!(sack.dup_tsns.len(), 16);
    assert_eq!(r.duplicates_unreported(), 100_000 - 16);
}

/// RFC 9260 §6.5, bounded memory: DATA on a stream that does not exist is
/// acknowledged and dropped, never buffered.
#[test]
fn rfc9260_6_5_invalid_stream_not_buffered() {
    let mut r = Receiver::new(Tsn(1), 2, config(1 << 20, CHUNK_OVERHEAD));
    for i in 0..10_000u32 {
        assert_eq!(
            r.on_data(&whole(1 + i, 2 + (i % 60_000) as u16, 0, &[0; 100]), 0),
            DataOutcome::InvalidStream
        );
    }
    assert_eq!(r.cum_tsn(), Tsn(10_000));
    assert_eq!(r.charge(), 0);
    assert_eq!(r.buffered_bytes(), 0);
}

/// RFC 3758 §3.6, bounded work: a FORWARD TSN skipping SSN after SSN of a
/// stream holding many waiting messages delivers the stranded ones in SSN
/// order, and the work is proportional to what is delivered, not to the
/// skips times the waiting messages.
#[test]
fn forward_tsn_skips_bounded() {
    let mut r = Receiver::new(Tsn(1), 1, config(1 << 20, 0));
    // SSN 0 at TSN 1 is lost; SSNs 1..=1000 wait at TSNs 2..=1001 (SSN
    // 500's message is missing too, at TSN 501).
    for i in 1..=1_000u32 {
        if i != 500 {
            r.on_data(&whole(1 + i, 0, i as u16, b"w"), 0);
        }
    }
    let skips: Vec<ForwardTsnStream> = (0..600u16)
        .map(|ssn| ForwardTsnStream {
            stream: 0,
            ssn: Ssn(ssn),
        })
        .collect();
    let before = r.reassembly.skip_work();
    assert!(r.on_forward_tsn(&ForwardTsn {
        new_cum_tsn: Tsn(1),
        streams: skips,
    }));
    let work = r.reassembly.skip_work() - before;
    let got: Vec<u16> = std::iter::from_fn(|| r.poll_message())
        .map(|m| m.ssn.0)
        .collect();
    let expected: Vec<u16> = (1..=1_000).filter(|&s| s != 500).collect();
    assert_eq!(got, expected);
    assert!(work <= 2 * (600 + 1_000), "{work} steps");
    r.check_invariants();
}
