//! Property tests of [`Receiver`]: whatever the arrival order, duplication,
//! loss and window pressure, every message comes out exactly once, ordered
//! ones in SSN order per stream; and no chunk sequence makes it panic or
//! break its bounds.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use msctp_wire::chunk::{Data, ForwardTsn, ForwardTsnStream};
use msctp_wire::{Ssn, Tsn};
use proptest::prelude::*;

use super::*;

/// Tiny deterministic generator for orders and losses (seeded by proptest).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.next() % one_in == 0
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// A user message as the peer sends it.
#[derive(Debug, Clone)]
struct Msg {
    stream: u16,
    unordered: bool,
    payload: Vec<u8>,
    frag: usize,
}

fn msg(max_len: usize, max_frag: usize) -> impl Strategy<Value = Msg> {
    (
        0u16..4,
        prop::bool::weighted(0.25),
        prop::collection::vec(any::<u8>(), 1..=max_len),
        1..=max_frag,
    )
        .prop_map(|(stream, unordered, payload, frag)| Msg {
            stream,
            unordered,
            payload,
            frag,
        })
}

fn initial_tsn() -> impl Strategy<Value = u32> {
    prop_oneof![any::<u32>(), (0u32..64).prop_map(|d| u32::MAX - d)]
}

/// The peer's DATA chunks for `msgs` from `initial` (RFC 9260 §6.9:
/// consecutive TSNs per message, SSNs per stream from 0 for ordered ones),
/// and the first TSN of each message.
fn to_chunks(initial: u32, msgs: &[Msg]) -> (Vec<Data>, Vec<Tsn>) {
    let mut tsn = Tsn(initial);
    let mut next_ssn = [0u16; 4];
    let mut chunks = Vec::new();
    let mut firsts = Vec::new();
    for m in msgs {
        let ssn = if m.unordered {
            0xdead
        } else {
            let s = next_ssn[usize::from(m.stream)];
            next_ssn[usize::from(m.stream)] = s.wrapping_add(1);
            s
        };
        firsts.push(tsn);
        let n = m.payload.len().div_ceil(m.frag);
        for (i, p) in m.payload.chunks(m.frag).enumerate() {
            chunks.push(Data {
                tsn,
                stream: m.stream,
                ssn: Ssn(ssn),
                ppid: u32::from(m.stream) << 16 | 0xabc,
                unordered: m.unordered,
                begin: i == 0,
                end: i == n - 1,
                immediate: false,
                payload: Bytes::copy_from_slice(p),
            });
            tsn = tsn.next();
        }
    }
    (chunks, firsts)
}

/// Collects delivered messages and pieces and checks the delivery rules as
/// they come: pieces of one message in order; no other ordered message of a
/// stream while an ordered one is partially delivered; ordered messages in
/// SSN order per stream.
#[derive(Default)]
struct App {
    /// Completed messages by first TSN: (stream, unordered, payload).
    done: BTreeMap<u32, (u16, bool, Vec<u8>)>,
    /// Messages in partial delivery by (stream, first TSN): bytes so far.
    partial: HashMap<(u16, u32), Vec<u8>>,
    /// Stream with an ordered partial delivery → its first TSN.
    ordered_partial: HashMap<u16, u32>,
    /// Next expected SSN per stream (ordered).
    next_ssn: HashMap<u16, u16>,
}

impl App {
    fn take(&mut self, m: ReceivedMessage) {
        assert!(!m.aborted, "nothing is abandoned here");
        let key = (m.stream, m.first_tsn.0);
        if !m.unordered {
            match self.ordered_partial.get(&m.stream) {
                // RFC 9260 §6.6: nothing else ordered in between.
                Some(&first) => {
                    assert_eq!(first, m.first_tsn.0, "ordered message inside a partial one")
                }
                None => {
                    let next = self.next_ssn.get(&m.stream).copied().unwrap_or(0);
                    assert_eq!(m.ssn, Ssn(next), "ordered delivery out of SSN order");
                }
            }
        }
        let mut bytes = self.partial.remove(&key).unwrap_or_default();
        bytes.extend_from_slice(&m.payload);
        if !m.complete {
            self.partial.insert(key, bytes);
            if !m.unordered {
                self.ordered_partial.insert(m.stream, m.first_tsn.0);
            }
            return;
        }
        if !m.unordered {
            self.ordered_partial.remove(&m.stream);
            let next = self.next_ssn.entry(m.stream).or_insert(0);
            *next = next.wrapping_add(1);
        }
        let prev = self
            .done
            .insert(m.first_tsn.0, (m.stream, m.unordered, bytes));
        assert!(prev.is_none(), "delivered twice");
    }

    fn check(&self, msgs: &[Msg], firsts: &[Tsn]) {
        assert!(self.partial.is_empty());
        assert_eq!(self.done.len(), msgs.len());
        for (m, first) in msgs.iter().zip(firsts) {
            let (stream, unordered, payload) = &self.done[&first.0];
            assert_eq!(*stream, m.stream);
            assert_eq!(*unordered, m.unordered);
            assert_eq!(payload, &m.payload);
        }
    }
}

fn sack_acks(sack: &Sack, tsn: Tsn) -> bool {
    let d = tsn.distance(sack.cum_tsn_ack);
    d <= 0
        || sack
            .gap_blocks
            .iter()
            .any(|g| (i32::from(g.start)..=i32::from(g.end)).contains(&d))
}

proptest! {
    /// RFC 9260 §6.2, §6.6, §6.9: any permutation, with duplicates, of the
    /// fragments of messages on several streams delivers exactly those
    /// messages (ordered ones in SSN order per stream); duplicates are
    /// reported; the cumulative TSN ends at the last TSN.
    #[test]
    fn any_permutation_delivers_everything(
        initial in initial_tsn(),
        msgs in prop::collection::vec(msg(40, 16), 1..40),
        seed in any::<u64>(),
    ) {
        let (chunks, firsts) = to_chunks(initial, &msgs);
        let mut rng = Rng(seed | 1);
        let mut order: Vec<usize> = (0..chunks.len()).collect();
        rng.shuffle(&mut order);
        let mut feed = Vec::new();
        for &i in &order {
            feed.push(i);
            if rng.chance(4) {
                feed.insert(feed.len() - rng.below(feed.len()), i);
            }
        }
        let cfg = ReceiveConfig {
            window: 1 << 20,
            max_gap_blocks: 64,
            max_dup_tsns: 1024,
            max_tsns_ahead: 65_535,
            chunk_overhead: 0,
        };
        let mut r = Receiver::new(Tsn(initial), 4, cfg);
        let mut app = App::default();
        let mut seen = vec![false; chunks.len()];
        let mut dups = 0;
        for i in feed {
            let out = r.on_data(&chunks[i], 0);
            if seen[i] {
                prop_assert_eq!(out, DataOutcome::Duplicate);
                dups += 1;
            } else {
                prop_assert_eq!(out, DataOutcome::Accepted);
                seen[i] = true;
            }
            if rng.chance(3) {
                while let Some(m) = r.poll_message() {
                    app.take(m);
                }
            }
            r.check_invariants();
        }
        while let Some(m) = r.poll_message() {
            app.take(m);
        }
        app.check(&msgs, &firsts);
        let last = chunks.last().unwrap().tsn;
        prop_assert_eq!(r.cum_tsn(), last);
        prop_assert!(!r.has_gaps());
        prop_assert_eq!(r.buffered_bytes(), 0);
        let sack = r.build_sack();
        prop_assert_eq!(sack.dup_tsns.len(), dups);
        prop_assert_eq!(sack.a_rwnd, 1 << 20);
    }

    /// RFC 9260 §6.2, §6.9 under window pressure: a lossy, reordering peer
    /// that retransmits what the SACKs do not cover (and probes with one
    /// chunk when a_rwnd is 0) gets every message through, also messages
    /// larger than the window (partial delivery), while the buffer never
    /// exceeds the window by more than one chunk.
    #[test]
    fn small_window_with_loss_delivers_everything(
        initial in initial_tsn(),
        window in 64u32..1500,
        msgs in prop::collection::vec(msg(3000, 300), 1..25),
        seed in any::<u64>(),
    ) {
        let (chunks, firsts) = to_chunks(initial, &msgs);
        let mut rng = Rng(seed | 1);
        let cfg = ReceiveConfig {
            window,
            max_gap_blocks: 16,
            max_dup_tsns: 16,
            max_tsns_ahead: 65_535,
            chunk_overhead: 0,
        };
        let mut r = Receiver::new(Tsn(initial), 4, cfg);
        let mut app = App::default();
        let mut sack = r.build_sack();
        let last = chunks.last().unwrap().tsn;
        let mut rounds = 0;
        while sack.cum_tsn_ack != last {
            rounds += 1;
            prop_assert!(rounds < 20_000, "no progress: cum {:?}", sack.cum_tsn_ack);
            let mut send: Vec<usize> =
                (0..chunks.len()).filter(|&i| !sack_acks(&sack, chunks[i].tsn)).collect();
            if sack.a_rwnd == 0 {
                // RFC 9260 §6.1 A: one chunk may always be in flight.
                send.truncate(1);
            } else {
                rng.shuffle(&mut send);
            }
            for i in send {
                if rng.chance(8) {
                    continue; // lost
                }
                let out = r.on_data(&chunks[i], 0);
                prop_assert!(!matches!(
                    out,
                    DataOutcome::InvalidStream | DataOutcome::EmptyPayload | DataOutcome::Dropped(DropReason::TooFarAhead)
                ));
                prop_assert!(r.buffered_bytes() <= window as usize + 300);
                if rng.chance(4) {
                    if let Some(m) = r.poll_message() {
                        app.take(m);
                    }
                }
            }
            r.check_invariants();
            if !rng.chance(5) {
                while let Some(m) = r.poll_message() {
                    app.take(m);
                }
            }
            sack = r.build_sack();
        }
        while let Some(m) = r.poll_message() {
            app.take(m);
        }
        app.check(&msgs, &firsts);
        prop_assert_eq!(r.buffered_bytes(), 0);
    }

    /// RFC 3758 §3.6 under window pressure and loss: the peer abandons
    /// random whole messages (sending their chunks at most once) and moves
    /// our cumulative TSN past them with FORWARD TSNs built as RFC 3758
    /// §3.5 C2 does. Every other message arrives exactly once; abandoned ones
    /// arrive whole, or not at all, or as pieces ending with an aborted
    /// piece; ordered SSNs only increase per stream; cum reaches the end.
    #[test]
    fn pr_sctp_abandoned_messages(
        initial in initial_tsn(),
        window in 64u32..1500,
        msgs in prop::collection::vec((msg(2000, 300), prop::bool::weighted(0.3)), 1..25),
        seed in any::<u64>(),
    ) {
        let abandoned: Vec<bool> = msgs.iter().map(|(_, a)| *a).collect();
        let msgs: Vec<Msg> = msgs.into_iter().map(|(m, _)| m).collect();
        let (chunks, firsts) = to_chunks(initial, &msgs);
        // Which message each chunk belongs to.
        let mut owner = Vec::new();
        for (i, m) in msgs.iter().enumerate() {
            owner.extend(std::iter::repeat_n(i, m.payload.len().div_ceil(m.frag)));
        }
        let mut rng = Rng(seed | 1);
        let cfg = ReceiveConfig { window, max_gap_blocks: 16, max_dup_tsns: 16, max_tsns_ahead: 65_535, chunk_overhead: 0 };
        let mut r = Receiver::new(Tsn(initial), 4, cfg);
        let mut delivered: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
        let mut aborted: Vec<u32> = Vec::new();
        let mut partial: HashMap<u32, Vec<u8>> = HashMap::new();
        let mut last_ssn: HashMap<u16, Ssn> = HashMap::new();
        let mut take = |m: ReceivedMessage| {
            let mut bytes = partial.remove(&m.first_tsn.0).unwrap_or_default();
            if m.aborted {
                aborted.push(m.first_tsn.0);
                return;
            }
            bytes.extend_from_slice(&m.payload);
            if !m.unordered && !partial.contains_key(&m.first_tsn.0) {
                // RFC 9260 §6.6 with skips: SSNs only increase per stream.
                if let Some(prev) = last_ssn.get(&m.stream) {
                    assert!(m.ssn > *prev || (m.ssn == *prev && bytes.len() > m.payload.len()),
                        "SSN went back on stream {}", m.stream);
                }
                last_ssn.insert(m.stream, m.ssn);
            }
            if m.complete {
                assert!(delivered.insert(m.first_tsn.0, bytes).is_none(), "delivered twice");
            } else {
                partial.insert(m.first_tsn.0, bytes);
            }
        };
        let mut sent_once = vec![false; chunks.len()];
        let mut sack = r.build_sack();
        let last = chunks.last().unwrap().tsn;
        let mut rounds = 0;
        while sack.cum_tsn_ack != last {
            rounds += 1;
            prop_assert!(rounds < 20_000, "no progress: cum {:?}", sack.cum_tsn_ack);
            let mut send: Vec<usize> = (0..chunks.len())
                .filter(|&i| !sack_acks(&sack, chunks[i].tsn))
                .filter(|&i| !(abandoned[owner[i]] && sent_once[i]))
                .collect();
            if sack.a_rwnd == 0 {
                send.truncate(1);
            } else {
                rng.shuffle(&mut send);
            }
            for i in send {
                sent_once[i] = true;
                if rng.chance(8) {
                    continue;
                }
                let _ = r.on_data(&chunks[i], 0);
                prop_assert!(r.buffered_bytes() <= window as usize + 300);
                if rng.chance(4) {
                    if let Some(m) = r.poll_message() {
                        take(m);
                    }
                }
            }
            // RFC 3758 §3.5 C2: advance over abandoned chunks from cum.
            let cum_idx = chunks.iter().position(|c| c.tsn == sack.cum_tsn_ack);
            let mut point = cum_idx.map_or(0, |i| i + 1);
            while point < chunks.len() && abandoned[owner[point]] {
                point += 1;
            }
            if point > cum_idx.map_or(0, |i| i + 1) && !rng.chance(8) {
                let mut skips: BTreeMap<u16, Ssn> = BTreeMap::new();
                let from = cum_idx.map_or(0, |i| i + 1);
                for c in &chunks[from..point] {
                    if !c.unordered {
                        skips.insert(c.stream, c.ssn);
                    }
                }
                let _ = r.on_forward_tsn(&ForwardTsn {
                    new_cum_tsn: chunks[point - 1].tsn,
                    streams: skips.into_iter().map(|(stream, ssn)| ForwardTsnStream { stream, ssn }).collect(),
                });
            }
            r.check_invariants();
            if !rng.chance(5) {
                while let Some(m) = r.poll_message() {
                    take(m);
                }
            }
            sack = r.build_sack();
        }
        while let Some(m) = r.poll_message() {
            take(m);
        }
        prop_assert!(partial.is_empty(), "a partial delivery neither completed nor aborted");
        for (i, m) in msgs.iter().enumerate() {
            let first = firsts[i].0;
            match delivered.get(&first) {
                Some(bytes) => prop_assert_eq!(bytes, &m.payload),
                None => prop_assert!(abandoned[i], "message {} lost", i),
            }
            if aborted.contains(&first) {
                prop_assert!(abandoned[i] && !delivered.contains_key(&first));
            }
        }
        prop_assert_eq!(r.buffered_bytes(), 0);
    }

    /// No panics and bounds kept for garbage: random TSNs, flags, streams
    /// and SSNs, empty payloads, FORWARD TSNs, stream count changes.
    #[test]
    fn garbage_never_panics(
        initial in initial_tsn(),
        window in 0u32..64,
        max_ahead in 0u32..200,
        max_blocks in 0usize..5,
        ops in prop::collection::vec(op(), 1..300),
    ) {
        let cfg = ReceiveConfig {
            window,
            max_gap_blocks: max_blocks,
            max_dup_tsns: 3,
            max_tsns_ahead: max_ahead,
            chunk_overhead: 0,
        };
        let mut r = Receiver::new(Tsn(initial), 3, cfg);
        for op in ops {
            match op {
                Op::Data { off, far, stream, ssn, flags, len } => {
                    let tsn = if far { Tsn(off) } else { Tsn(initial.wrapping_add(off % 256)) };
                    let d = Data {
                        tsn,
                        stream,
                        ssn: Ssn(ssn),
                        ppid: 0,
                        unordered: flags & 4 != 0,
                        begin: flags & 2 != 0,
                        end: flags & 1 != 0,
                        immediate: false,
                        payload: Bytes::from(vec![flags; len]),
                    };
                    let _ = r.on_data(&d, 0);
                    prop_assert!(r.buffered_bytes() <= window as usize + 4);
                }
                Op::Forward { off, skips } => {
                    let _ = r.on_forward_tsn(&ForwardTsn {
                        new_cum_tsn: Tsn(initial.wrapping_add(off)),
                        streams: skips
                            .into_iter()
                            .map(|(stream, ssn)| ForwardTsnStream { stream, ssn: Ssn(ssn) })
                            .collect(),
                    });
                }
                Op::Poll(n) => {
                    for _ in 0..n {
                        let _ = r.poll_message();
                    }
                }
                Op::Sack => {
                    let sack = r.build_sack();
                    prop_assert!(sack.gap_blocks.len() <= max_blocks);
                    prop_assert!(sack.dup_tsns.len() <= 3);
                    let mut prev = 0u32;
                    for g in &sack.gap_blocks {
                        prop_assert!(u32::from(g.start) > prev && g.start <= g.end);
                        prev = u32::from(g.end) + 1;
                    }
                    prop_assert_eq!(sack.a_rwnd, r.a_rwnd());
                }
                Op::Streams(n) => r.set_inbound_streams(u16::from(n)),
            }
            r.check_invariants();
        }
    }
}

/// One step of the garbage test.
#[derive(Debug, Clone)]
enum Op {
    Data {
        off: u32,
        far: bool,
        stream: u16,
        ssn: u16,
        flags: u8,
        len: usize,
    },
    Forward {
        off: u32,
        skips: Vec<(u16, u16)>,
    },
    Poll(u8),
    Sack,
    Streams(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (any::<u32>(), prop::bool::weighted(0.05), 0u16..5, 0u16..4, 0u8..8, 0usize..=4).prop_map(
            |(off, far, stream, ssn, flags, len)| Op::Data { off, far, stream, ssn, flags, len }
        ),
        1 => (0u32..300, prop::collection::vec((0u16..5, 0u16..6), 0..4))
            .prop_map(|(off, skips)| Op::Forward { off, skips }),
        2 => (0u8..4).prop_map(Op::Poll),
        2 => Just(Op::Sack),
        1 => (0u8..5).prop_map(Op::Streams),
    ]
}
