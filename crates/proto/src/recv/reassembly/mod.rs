//! `Reassembly`: turns accepted DATA chunks into user messages (RFC 9260
//! §6.9), orders them per stream by Stream Sequence Number or lets unordered
//! ones through at once (RFC 9260 §6.6), applies the stream part of FORWARD
//! TSN (RFC 3758 §3.6), delivers the prefix of a message too large for the
//! window piece by piece (partial delivery, RFC 9260 §6.9 and RFC 6458
//! §8.1.21), and gives up the highest held chunk when the window is full
//! (RFC 9260 §6.2).
//!
//! It knows nothing of the cumulative TSN: the [`super::Receiver`] decides
//! which chunks are new and passes them with their unwrapped TSN (a `u64`,
//! see [`super::tsn_map::TsnMap::unwrap`]).
//!
//! # How fragments are held
//!
//! Every chunk not yet delivered sits in one map keyed by unwrapped TSN. The
//! fragments of one message have consecutive TSNs, the first with B, the last
//! with E, all on one stream with one U flag and, when ordered, one SSN
//! (RFC 9260 §6.9). Held fragments are grouped into *runs*: maximal ranges of
//! consecutive TSNs in which each fragment can continue the previous one
//! (same stream, U flag and SSN; the earlier without E, the later without B).
//! A run that starts with B and ends with E is a complete message. Inserting
//! a fragment merges at most two runs, so completion is found in O(log n)
//! whatever the arrival order.
//!
//! A complete unordered message is delivered at once. A complete ordered one
//! is delivered when its SSN is the next expected on its stream and no
//! ordered message of that stream is partially delivered; otherwise it waits,
//! registered in its stream's index, and stays in the map as fragments (so
//! that the window-full rule can still give up its highest TSN).
//!
//! # Output
//!
//! Delivered messages go to a queue in delivery order, as
//! [`ReceivedMessage`]s. A single-fragment message reuses the chunk's
//! `Bytes`; a multi-fragment one is concatenated once.
//!
//! # Memory accounting
//!
//! Every fragment and every queued message carries a *charge*: the bytes of
//! memory it keeps alive (the buffer its payload points into, which for a
//! zero-copy payload is its whole datagram, plus a fixed bookkeeping
//! overhead). The receiver's window counts charges, so what a peer can make
//! us hold is bounded in real memory, not only in payload bytes (see
//! [`super::Receiver`]).
//!
//! # Files
//!
//! This file holds the fragments, runs, ordering and the window-full drop;
//! [`partial`] holds partial delivery and its abort; [`forward_tsn`] the
//! stream side of FORWARD TSN.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bytes::{Bytes, BytesMut};
use msctp_wire::chunk::Data;
use msctp_wire::{Ssn, Tsn};

use crate::recv::tsn_map::wrap;

mod forward_tsn;
mod partial;

use partial::Partial;

/// A user message, or a piece of one under partial delivery, ready for the
/// application.
///
/// # Partial delivery
///
/// A message whose fragments would fill the whole receive window cannot be
/// reassembled (the peer could never send the rest), so its in-order prefix
/// is handed out in pieces, like RFC 6458 §8.1.21's
/// `SCTP_PARTIAL_DELIVERY_POINT`. All pieces of one message carry the same
/// `stream`, `ssn`, `ppid`, `unordered` and `first_tsn`, which identify it;
/// they come in order, every piece but the last with `complete: false`, the
/// last with `complete: true`. If the peer abandons the message instead
/// (FORWARD TSN, RFC 3758 §3.6), the last piece is empty with
/// `aborted: true` and `complete: false` (RFC 6458's
/// `SCTP_PARTIAL_DELIVERY_ABORTED`).
///
/// While an *ordered* message is partially delivered, no other ordered
/// message of its stream is delivered (SSN order, RFC 9260 §6.6). Anything
/// else may come in between: messages of other streams, and unordered
/// messages or pieces of unordered messages of the same stream. Several
/// unordered messages may be partially delivered at once, so the application
/// groups pieces by `(stream, first_tsn)`. (Holding everything else of the
/// stream back instead would deadlock with a bounded window: an unordered
/// message straddling the cumulative TSN could then neither be delivered nor
/// dropped, and would keep the missing TSNs out.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Stream identifier.
    pub stream: u16,
    /// Stream Sequence Number; meaningless for unordered messages (RFC 9260
    /// §6.6: the receiver ignores it), reported as received.
    pub ssn: Ssn,
    /// Payload Protocol Identifier of the first fragment.
    pub ppid: u32,
    /// Delivered without regard to SSN order (U flag, RFC 9260 §6.6).
    pub unordered: bool,
    /// TSN of the message's first fragment.
    pub first_tsn: Tsn,
    /// User data (of this piece, under partial delivery).
    pub payload: Bytes,
    /// Whether this is the whole message or its last piece; `false` for the
    /// earlier pieces of a partially delivered message.
    pub complete: bool,
    /// Set on an empty, final piece when a partially delivered message was
    /// abandoned by the peer (RFC 3758 §3.6); no more pieces of it follow.
    pub aborted: bool,
    /// The peer address the last fragment of this message (or piece)
    /// arrived from, when known.
    pub from: Option<std::net::IpAddr>,
}

/// One held DATA chunk.
#[derive(Debug, Clone)]
struct Fragment {
    from: Option<std::net::IpAddr>,
    stream: u16,
    ssn: Ssn,
    ppid: u32,
    unordered: bool,
    begin: bool,
    end: bool,
    payload: Bytes,
    /// Memory this fragment keeps alive (see the module notes).
    charge: usize,
}

impl Fragment {
    /// RFC 9260 §6.9: whether `next` (at the following TSN) can continue the
    /// message that `self` is part of.
    fn continued_by(&self, next: &Fragment) -> bool {
        !self.end
            && !next.begin
            && self.stream == next.stream
            && self.unordered == next.unordered
            && (self.unordered || self.ssn == next.ssn)
    }
}

/// Per inbound stream state.
#[derive(Debug, Clone, Default)]
struct StreamState {
    /// Next SSN to deliver in order (RFC 9260 §6.5: SSNs start at 0).
    next_ssn: Ssn,
    /// Complete ordered messages waiting for their turn: (SSN, first TSN).
    waiting: BTreeSet<(u16, u64)>,
    /// The ordered message under partial delivery, if any (always the one
    /// with SSN `next_ssn`).
    partial: Option<Partial>,
}

/// Per-stream reassembly and ordering of accepted DATA chunks.
#[derive(Debug, Clone)]
pub(crate) struct Reassembly {
    /// Held fragments by unwrapped TSN.
    frags: BTreeMap<u64, Fragment>,
    /// Runs of held fragments: first TSN → last TSN (inclusive).
    runs: BTreeMap<u64, u64>,
    /// Inbound streams.
    streams: Vec<StreamState>,
    /// Unordered messages under partial delivery, by next TSN to hand out.
    unordered_partials: BTreeMap<u64, Partial>,
    /// Messages and pieces ready for the application, in delivery order,
    /// each with its charge.
    ready: VecDeque<(ReceivedMessage, usize)>,
    /// Payload bytes in `frags`.
    held_bytes: usize,
    /// Payload bytes in `ready`.
    ready_bytes: usize,
    /// Charges of `frags`.
    held_charge: usize,
    /// Charges of `ready`.
    ready_charge: usize,
    /// Charge of a message built here (a concatenation, an aborted piece)
    /// on top of its payload: the bookkeeping overhead.
    overhead: usize,
    /// Where the DATA being inserted came from (set by the receiver).
    pub(crate) source: Option<std::net::IpAddr>,
    /// Steps taken skipping SSNs for FORWARD TSN (tests only: bounded work).
    #[cfg(test)]
    skip_steps: usize,
}

impl Reassembly {
    /// Reassembly for `inbound_streams` streams, all starting at SSN 0, that
    /// charges nothing for bookkeeping (tests only).
    #[cfg(test)]
    pub(crate) fn new(inbound_streams: u16) -> Self {
        Self::with_overhead(inbound_streams, 0)
    }

    /// Reassembly for `inbound_streams` streams, all starting at SSN 0,
    /// whose own messages (concatenations, aborted pieces) are charged
    /// `overhead` bytes on top of their payload.
    pub(crate) fn with_overhead(inbound_streams: u16, overhead: usize) -> Self {
        Reassembly {
            frags: BTreeMap::new(),
            runs: BTreeMap::new(),
            streams: vec![StreamState::default(); usize::from(inbound_streams)],
            unordered_partials: BTreeMap::new(),
            ready: VecDeque::new(),
            held_bytes: 0,
            ready_bytes: 0,
            held_charge: 0,
            ready_charge: 0,
            overhead,
            source: None,
            #[cfg(test)]
            skip_steps: 0,
        }
    }

    /// Number of inbound streams.
    pub(crate) fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// Payload bytes held for reassembly or ordering.
    pub(crate) fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Payload bytes delivered but not yet taken by the application.
    pub(crate) fn ready_bytes(&self) -> usize {
        self.ready_bytes
    }

    /// Memory charged for held fragments and queued messages (see the
    /// module notes).
    pub(crate) fn charge(&self) -> usize {
        self.held_charge + self.ready_charge
    }

    /// Messages and pieces ready for the application.
    pub(crate) fn ready_messages(&self) -> usize {
        self.ready.len()
    }

    /// The next message or piece in delivery order.
    pub(crate) fn poll(&mut self) -> Option<ReceivedMessage> {
        let (m, charge) = self.ready.pop_front()?;
        self.ready_bytes -= m.payload.len();
        self.ready_charge -= charge;
        Some(m)
    }

    /// Changes the number of inbound streams (RFC 6525 adds streams). New
    /// streams start at SSN 0; held data and partial deliveries of removed
    /// streams are discarded.
    // Used by tests, and by stream reconfiguration (RFC 6525) and
    // diagnostics once they are wired into the association.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn set_stream_count(&mut self, n: u16) {
        let n = usize::from(n);
        if n < self.streams.len() {
            let doomed: Vec<u64> = self
                .runs
                .keys()
                .copied()
                .filter(|s| usize::from(self.frags[s].stream) >= n)
                .collect();
            for s in doomed {
                self.discard_run(s);
            }
            // Their partial deliveries end with an aborted piece.
            let gone: Vec<Partial> = self.streams[n..]
                .iter()
                .filter_map(|s| s.partial)
                .chain(self.unordered_partials.values().copied())
                .filter(|p| usize::from(p.stream) >= n)
                .collect();
            for p in gone {
                self.abort_partial(p);
            }
        }
        self.streams.resize_with(n, StreamState::default);
    }

    /// Takes a new DATA chunk at unwrapped TSN `tsn` (never seen before, on
    /// an existing stream, with a non-empty payload: the caller checks) and
    /// delivers whatever it completes. Its user data is `payload` (the
    /// chunk's own, or a copy), which keeps `charge` bytes alive.
    pub(crate) fn insert(&mut self, tsn: u64, data: &Data, payload: Bytes, charge: usize) {
        let st = usize::from(data.stream);
        if st >= self.streams.len() || self.frags.contains_key(&tsn) {
            return;
        }
        let frag = Fragment {
            from: self.source,
            stream: data.stream,
            ssn: data.ssn,
            ppid: data.ppid,
            unordered: data.unordered,
            begin: data.begin,
            end: data.end,
            payload,
            charge,
        };
        // Fast path: a whole message that can go straight out, never stored
        // (RFC 9260 §6.6: unordered at once; ordered when its turn).
        if frag.begin && frag.end {
            if frag.unordered {
                self.push_whole(tsn, frag);
                return;
            }
            let stream = &mut self.streams[st];
            if stream.partial.is_none() && frag.ssn == stream.next_ssn {
                stream.next_ssn = stream.next_ssn.next();
                self.push_whole(tsn, frag);
                self.flush(st);
                return;
            }
        }
        self.held_bytes += frag.payload.len();
        self.held_charge += frag.charge;
        self.frags.insert(tsn, frag);
        // Merge with the run ending just below and the run starting just
        // above, when this fragment continues / is continued by them.
        let mut start = tsn;
        let mut end = tsn;
        let this = &self.frags[&tsn];
        let joins_prev = self
            .frags
            .get(&tsn.wrapping_sub(1))
            .is_some_and(|p| p.continued_by(this));
        let joins_next = self
            .frags
            .get(&(tsn + 1))
            .is_some_and(|n| this.continued_by(n));
        if joins_prev {
            if let Some((&s, _)) = self.runs.range(..tsn).next_back() {
                start = s;
            }
        }
        if joins_next {
            if let Some(e) = self.runs.remove(&(tsn + 1)) {
                end = e;
            }
        }
        self.runs.insert(start, end);
        self.on_run_changed(start);
    }

    /// Looks at the run starting at `start` after it grew: continues a
    /// partial delivery, or delivers / registers a completed message.
    fn on_run_changed(&mut self, start: u64) {
        let Some(&end) = self.runs.get(&start) else {
            return;
        };
        if let Some(p) = self.partial_continued_at(start) {
            self.hand_out(p);
            return;
        }
        let first = &self.frags[&start];
        if !(first.begin && self.frags[&end].end) {
            return;
        }
        // A complete message (RFC 9260 §6.9).
        let st = usize::from(first.stream);
        let (unordered, ssn) = (first.unordered, first.ssn);
        let stream = &mut self.streams[st];
        if unordered {
            // RFC 9260 §6.6: unordered messages bypass the ordering.
            self.deliver_run(start);
        } else if stream.partial.is_none() && ssn == stream.next_ssn {
            stream.next_ssn = ssn.next();
            self.deliver_run(start);
            self.flush(st);
        } else {
            // RFC 9260 §6.6: hold until the SSNs before it are delivered.
            stream.waiting.insert((ssn.0, start));
        }
    }

    /// Delivers the ordered messages of stream `st` that are now in turn,
    /// in SSN order from the next expected SSN (RFC 9260 §6.6).
    fn flush(&mut self, st: usize) {
        loop {
            let stream = &mut self.streams[st];
            if stream.partial.is_some() {
                return;
            }
            let ssn = stream.next_ssn;
            let Some(&key) = stream.waiting.range((ssn.0, 0)..=(ssn.0, u64::MAX)).next() else {
                return;
            };
            stream.waiting.remove(&key);
            stream.next_ssn = ssn.next();
            self.deliver_run(key.1);
        }
    }

    /// Queues a single-fragment message that was never stored (zero-copy).
    fn push_whole(&mut self, tsn: u64, frag: Fragment) {
        self.ready_bytes += frag.payload.len();
        self.ready_charge += frag.charge;
        let charge = frag.charge;
        self.ready.push_back((
            ReceivedMessage {
                stream: frag.stream,
                ssn: frag.ssn,
                ppid: frag.ppid,
                unordered: frag.unordered,
                first_tsn: wrap(tsn),
                payload: frag.payload,
                complete: true,
                aborted: false,
                from: frag.from,
            },
            charge,
        ));
    }

    /// Removes the complete run starting at `start` and queues its message:
    /// the chunk's own `Bytes` for one fragment, one concatenation otherwise.
    fn deliver_run(&mut self, start: u64) {
        let Some(end) = self.runs.remove(&start) else {
            return;
        };
        let mut first = None;
        let mut last_from = None;
        let mut total = 0;
        let mut charge = 0;
        let mut parts = Vec::new();
        for tsn in start..=end {
            let Some(f) = self.frags.remove(&tsn) else {
                continue;
            };
            total += f.payload.len();
            charge += f.charge;
            last_from = f.from;
            if first.is_none() {
                first = Some((f.stream, f.ssn, f.ppid, f.unordered));
            }
            parts.push(f.payload);
        }
        let Some((stream, ssn, ppid, unordered)) = first else {
            return;
        };
        self.held_bytes -= total;
        self.held_charge -= charge;
        self.ready_bytes += total;
        let payload = if parts.len() == 1 {
            parts.pop().unwrap_or_default()
        } else {
            // One new buffer: the fragments' datagrams are released.
            let mut buf = BytesMut::with_capacity(total);
            for p in &parts {
                buf.extend_from_slice(p);
            }
            charge = total + self.overhead;
            buf.freeze()
        };
        self.ready_charge += charge;
        self.ready.push_back((
            ReceivedMessage {
                stream,
                ssn,
                ppid,
                unordered,
                first_tsn: wrap(start),
                payload,
                complete: true,
                aborted: false,
                from: last_from,
            },
            charge,
        ));
    }

    /// RFC 9260 §6.2 (window full): gives up the highest held fragment if
    /// its TSN is above `above`, returning its TSN, so that the caller can
    /// forget the TSN. A complete message that waited
    /// becomes incomplete again. Fragments already handed out are never
    /// taken back.
    pub(crate) fn drop_highest_above(&mut self, above: u64) -> Option<u64> {
        let (&tsn, _) = self.frags.last_key_value()?;
        if tsn <= above {
            return None;
        }
        let (&start, &end) = self.runs.range(..=tsn).next_back()?;
        debug_assert_eq!(end, tsn);
        if self.frags[&start].begin && self.frags[&end].end {
            self.unregister(start);
        }
        let f = self.frags.remove(&tsn)?;
        if start == tsn {
            self.runs.remove(&start);
        } else {
            self.runs.insert(start, tsn - 1);
        }
        self.held_bytes -= f.payload.len();
        self.held_charge -= f.charge;
        Some(tsn)
    }

    /// Payload bytes and charge of held fragments with TSN above `above`:
    /// what [`Reassembly::drop_highest_above`] could free.
    pub(crate) fn held_above(&self, above: u64) -> (usize, usize) {
        self.frags
            .range(above.saturating_add(1)..)
            .fold((0, 0), |(b, c), (_, f)| (b + f.payload.len(), c + f.charge))
    }

    /// Removes a complete held run from its stream's waiting index.
    fn unregister(&mut self, start: u64) {
        let f = &self.frags[&start];
        self.streams[usize::from(f.stream)]
            .waiting
            .remove(&(f.ssn.0, start));
    }

    /// Discards the run starting at `start` with all its fragments.
    fn discard_run(&mut self, start: u64) {
        let Some(end) = self.runs.remove(&start) else {
            return;
        };
        if self.frags[&start].begin && self.frags[&end].end {
            self.unregister(start);
        }
        for tsn in start..=end {
            if let Some(f) = self.frags.remove(&tsn) {
                self.held_bytes -= f.payload.len();
                self.held_charge -= f.charge;
            }
        }
    }

    /// [`Reassembly::insert`] of the chunk's own payload, charged its
    /// length (tests only).
    #[cfg(test)]
    pub(crate) fn add(&mut self, tsn: u64, data: &Data) {
        self.insert(tsn, data, data.payload.clone(), data.payload.len());
    }

    /// Steps taken skipping SSNs so far (tests only).
    #[cfg(test)]
    pub(crate) fn skip_work(&self) -> usize {
        self.skip_steps
    }

    /// Bytes of the largest record kept per held chunk or queued message,
    /// with its map key (tests only: checks the charged overhead).
    #[cfg(test)]
    pub(crate) fn record_size() -> usize {
        (std::mem::size_of::<Fragment>() + std::mem::size_of::<u64>())
            .max(std::mem::size_of::<(ReceivedMessage, usize)>())
    }

    /// Unwrapped TSNs of the held fragments (tests only).
    #[cfg(test)]
    pub(crate) fn held_tsns(&self) -> impl Iterator<Item = u64> + '_ {
        self.frags.keys().copied()
    }

    /// Checks the internal invariants (tests only).
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        let bytes: usize = self.frags.values().map(|f| f.payload.len()).sum();
        assert_eq!(bytes, self.held_bytes);
        let charge: usize = self.frags.values().map(|f| f.charge).sum();
        assert_eq!(charge, self.held_charge);
        let ready: usize = self.ready.iter().map(|(m, _)| m.payload.len()).sum();
        assert_eq!(ready, self.ready_bytes);
        let charge: usize = self.ready.iter().map(|(_, c)| c).sum();
        assert_eq!(charge, self.ready_charge);
        for f in self.frags.values() {
            assert!(f.charge >= f.payload.len());
        }
        let mut covered = 0;
        let mut last_end = None;
        for (&s, &e) in &self.runs {
            assert!(s <= e);
            if let Some(le) = last_end {
                assert!(s > le);
            }
            last_end = Some(e);
            for t in s..=e {
                assert!(self.frags.contains_key(&t), "run {s}..={e} misses {t}");
                if t > s {
                    assert!(self.frags[&(t - 1)].continued_by(&self.frags[&t]));
                }
            }
            covered += e - s + 1;
            let f = &self.frags[&s];
            let complete = f.begin && self.frags[&e].end;
            let stream = &self.streams[usize::from(f.stream)];
            let waiting = stream.waiting.contains(&(f.ssn.0, s));
            assert_eq!(complete, waiting, "run {s}..={e}");
            assert!(!(complete && f.unordered), "complete unordered held");
            assert!(
                self.partial_continued_at(s).is_none(),
                "run {s}..={e} should have been handed out"
            );
        }
        assert_eq!(covered as usize, self.frags.len());
        for stream in &self.streams {
            assert_eq!(stream.waiting.len(), self.waiting_count(stream));
            if let Some(p) = stream.partial {
                assert!(!p.unordered && p.ssn == stream.next_ssn);
            }
        }
        for (&next, p) in &self.unordered_partials {
            assert!(p.unordered && p.next == next);
        }
    }

    /// Waiting entries of `stream` that name a held complete run (tests).
    #[cfg(test)]
    fn waiting_count(&self, stream: &StreamState) -> usize {
        stream
            .waiting
            .iter()
            .filter(|(_, s)| self.runs.contains_key(s))
            .count()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::recv::reassembly) fn frag(
        stream: u16,
        ssn: u16,
        unordered: bool,
        begin: bool,
        end: bool,
        p: &[u8],
    ) -> Data {
        Data {
            tsn: Tsn(0),
            stream,
            ssn: Ssn(ssn),
            ppid: 7,
            unordered,
            begin,
            end,
            immediate: false,
            payload: Bytes::copy_from_slice(p),
        }
    }

    pub(in crate::recv::reassembly) fn drain(r: &mut Reassembly) -> Vec<ReceivedMessage> {
        std::iter::from_fn(|| r.poll()).collect()
    }

    /// RFC 9260 §6.9: fragments B, middle, E with consecutive TSNs make one
    /// message, whatever their arrival order.
    #[test]
    fn fragments_any_order() {
        for order in [
            [0, 1, 2],
            [2, 1, 0],
            [1, 0, 2],
            [0, 2, 1],
            [2, 0, 1],
            [1, 2, 0],
        ] {
            let mut r = Reassembly::new(1);
            let chunks = [
                frag(0, 0, false, true, false, b"ab"),
                frag(0, 0, false, false, false, b"cd"),
                frag(0, 0, false, false, true, b"ef"),
            ];
            for (i, &k) in order.iter().enumerate() {
                r.add(100 + k, &chunks[k as usize]);
                r.check_invariants();
                if i < 2 {
                    assert_eq!(r.ready_messages(), 0);
                }
            }
            let got = drain(&mut r);
            assert_eq!(got.len(), 1);
            assert_eq!(&got[0].payload[..], b"abcdef");
            assert_eq!(got[0].first_tsn, Tsn(100));
            assert!(got[0].complete);
            assert_eq!(r.held_bytes(), 0);
        }
    }

    /// RFC 9260 §6.9: a fragment of another stream in between breaks the run;
    /// B in the middle starts a new message.
    #[test]
    fn fragments_must_match() {
        let mut r = Reassembly::new(2);
        r.add(1, &frag(0, 0, false, true, false, b"a"));
        r.add(2, &frag(1, 0, false, false, true, b"b"));
        r.add(3, &frag(0, 0, false, true, true, b"c"));
        r.check_invariants();
        // Stream 0 SSN 0 arrives whole at TSN 3 and is delivered; the
        // fragment at TSN 1 can never complete.
        let got = drain(&mut r);
        assert_eq!(got.len(), 1);
        assert_eq!(&got[0].payload[..], b"c");
        assert_eq!(r.held_bytes(), 2);
    }
}
