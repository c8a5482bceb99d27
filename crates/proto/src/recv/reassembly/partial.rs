//! Partial delivery (RFC 9260 §6.9; RFC 6458 §8.1.21's
//! `SCTP_PARTIAL_DELIVERY_POINT`): when held data reaches the window, the
//! in-order prefix of a message at the head of its stream is handed out in
//! pieces, and the rest follows piece by piece as it arrives, so that a
//! message larger than the receive window still gets through. Also the
//! abort of a partial delivery whose message the peer abandoned (RFC 3758
//! §3.6, RFC 6458's `SCTP_PARTIAL_DELIVERY_ABORTED`).
//!
//! An ordered message under partial delivery blocks the other ordered
//! messages of its stream until its last piece (SSN order, RFC 9260 §6.6).
//! Unordered messages are never blocked and several may be partially
//! delivered at once: see [`super::ReceivedMessage`] for why.

use bytes::Bytes;
use msctp_wire::Ssn;

use super::{Fragment, Reassembly, ReceivedMessage};
use crate::recv::tsn_map::wrap;

/// A message under partial delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Partial {
    /// Stream of the message.
    pub(super) stream: u16,
    /// U flag of the message.
    pub(super) unordered: bool,
    /// SSN of the message (meaningless when unordered).
    pub(super) ssn: Ssn,
    /// PPID of its first fragment.
    pub(super) ppid: u32,
    /// Unwrapped TSN of the message's first fragment.
    pub(super) first: u64,
    /// Unwrapped TSN of the next fragment to hand out.
    pub(super) next: u64,
}

impl Partial {
    /// Whether `frag`, at TSN `self.next`, continues this message.
    pub(super) fn continued_by(&self, frag: &Fragment) -> bool {
        !frag.begin
            && frag.stream == self.stream
            && frag.unordered == self.unordered
            && (self.unordered || frag.ssn == self.ssn)
    }
}

impl Reassembly {
    /// Partial delivery (RFC 9260 §6.9: a receiver out of buffer space while
    /// waiting for more fragments SHOULD hand out part of the message). While
    /// the memory charged for held fragments reaches `point`, starts handing
    /// out the in-order prefix of
    /// the lowest-TSN incomplete message that has its first fragment and is
    /// at the head of its stream (unordered, or ordered with the next SSN and
    /// no ordered partial delivery on the stream yet). Returns whether
    /// anything started.
    pub(crate) fn partial_deliver(&mut self, point: usize) -> bool {
        let mut started = false;
        while self.held_charge >= point {
            let candidate = self.runs.iter().find_map(|(&s, &e)| {
                let f = &self.frags[&s];
                let stream = &self.streams[usize::from(f.stream)];
                let head = f.begin
                    && !self.frags[&e].end
                    && (f.unordered || (stream.partial.is_none() && f.ssn == stream.next_ssn));
                head.then_some(Partial {
                    stream: f.stream,
                    unordered: f.unordered,
                    ssn: f.ssn,
                    ppid: f.ppid,
                    first: s,
                    next: s,
                })
            });
            let Some(p) = candidate else {
                break;
            };
            self.hand_out(p);
            started = true;
        }
        started
    }

    /// The partial delivery that the run starting at `start` continues, if
    /// any.
    pub(super) fn partial_continued_at(&self, start: u64) -> Option<Partial> {
        let first = self.frags.get(&start)?;
        let unordered = self.unordered_partials.get(&start).copied();
        let ordered = self.streams.get(usize::from(first.stream))?.partial;
        [unordered, ordered]
            .into_iter()
            .flatten()
            .find(|p| p.next == start && p.continued_by(first))
    }

    /// Hands out the run starting at `p.next` as pieces of partial delivery
    /// `p`, and records where it now stands: ended when its last fragment
    /// (E) went out, which for an ordered message releases the stream.
    pub(super) fn hand_out(&mut self, mut p: Partial) {
        self.unordered_partials.remove(&p.next);
        let Some(end) = self.runs.remove(&p.next) else {
            return;
        };
        let mut finished = false;
        for tsn in p.next..=end {
            let Some(f) = self.frags.remove(&tsn) else {
                break;
            };
            let len = f.payload.len();
            self.held_bytes -= len;
            self.ready_bytes += len;
            self.held_charge -= f.charge;
            self.ready_charge += f.charge;
            finished = f.end;
            self.ready.push_back((
                ReceivedMessage {
                    stream: p.stream,
                    ssn: p.ssn,
                    ppid: p.ppid,
                    unordered: p.unordered,
                    first_tsn: wrap(p.first),
                    payload: f.payload,
                    complete: f.end,
                    aborted: false,
                    from: f.from,
                },
                f.charge,
            ));
            p.next = tsn + 1;
        }
        let st = usize::from(p.stream);
        match (p.unordered, finished) {
            (true, false) => {
                self.unordered_partials.insert(p.next, p);
            }
            (true, true) => {}
            (false, false) => self.streams[st].partial = Some(p),
            (false, true) => {
                let stream = &mut self.streams[st];
                stream.partial = None;
                stream.next_ssn = p.ssn.next();
                self.flush(st);
            }
        }
    }

    /// Ends partial delivery `p` with an empty aborted piece; an ordered
    /// stream moves past the abandoned message's SSN and goes on.
    pub(super) fn abort_partial(&mut self, p: Partial) {
        let st = usize::from(p.stream);
        if p.unordered {
            self.unordered_partials.remove(&p.next);
        } else {
            let stream = &mut self.streams[st];
            stream.partial = None;
            if stream.next_ssn == p.ssn {
                stream.next_ssn = p.ssn.next();
            }
        }
        // The empty piece costs its bookkeeping like any other, so that a
        // peer cannot queue them for free.
        self.ready_charge += self.overhead;
        self.ready.push_back((
            ReceivedMessage {
                stream: p.stream,
                ssn: p.ssn,
                ppid: p.ppid,
                unordered: p.unordered,
                first_tsn: wrap(p.first),
                payload: Bytes::new(),
                complete: false,
                aborted: true,
                from: None,
            },
            self.overhead,
        ));
        // The rest of the message, if held beyond a gap, is useless now.
        if self.runs.contains_key(&p.next)
            && self.frags.get(&p.next).is_some_and(|f| p.continued_by(f))
        {
            self.discard_run(p.next);
        }
        if !p.unordered {
            self.flush(st);
        }
    }
}
