//! `TsnMap`: which TSNs the peer's DATA chunks have reached us with, relative
//! to the cumulative TSN ack point (RFC 9260 §6.2), and what the next SACK
//! reports about them: the Cumulative TSN Ack, the Gap Ack Blocks as offsets
//! from it (RFC 9260 §3.3.4) and the duplicate TSNs seen since the last SACK.
//!
//! TSNs are *unwrapped* into a `u64` line once they are accepted (see
//! [`TsnMap::unwrap`]), so everything inside compares and indexes plainly; the
//! wire numbers wrap around 2^32 (RFC 9260 §1.6) and are converted at the
//! edges. Received TSNs above the cumulative point are kept in a bitmap of
//! `u64` words indexed by absolute position, so advancing the cumulative
//! point costs nothing per TSN and the map never holds more than
//! `max_ahead` bits.

use std::collections::VecDeque;

use msctp_wire::Tsn;
use msctp_wire::chunk::GapBlock;

/// Where the unwrapped line starts: far enough from zero that TSNs up to
/// 2^31 behind the cumulative point still unwrap to positive numbers, and a
/// multiple of 2^32 so that the low 32 bits are the wire TSN.
const ORIGIN: u64 = 1 << 40;

/// What [`TsnMap::on_tsn`] made of a TSN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TsnStatus {
    /// Not received before and within reach: now recorded as received.
    New,
    /// At or below the cumulative TSN ack point, or already received above
    /// it: a duplicate, to be reported in the next SACK (RFC 9260 §6.2).
    Duplicate,
    /// More than `max_ahead` beyond the cumulative TSN ack point: refused and
    /// not recorded, since the map's memory is bounded.
    TooFarAhead,
}

/// Received TSNs relative to the cumulative TSN ack point.
#[derive(Debug, Clone)]
pub(crate) struct TsnMap {
    /// Unwrapped Cumulative TSN Ack point.
    cum: u64,
    /// Absolute index (unwrapped TSN / 64) of `words[0]`. Invariant:
    /// `base_word <= (cum + 1) / 64`, so every TSN above `cum` has a slot at
    /// or after the front.
    base_word: u64,
    /// Bit `b` of `words[i]` is set when TSN `(base_word + i) * 64 + b` was
    /// received. Bits at or below `cum` are stale and always masked out.
    words: VecDeque<u64>,
    /// Highest received TSN still recorded, or `cum` when none is above it.
    highest: u64,
    /// How far beyond `cum` a TSN may be and still be accepted.
    max_ahead: u64,
    /// Duplicates seen since the last SACK (at most `max_dups`).
    dups: Vec<Tsn>,
    /// Storage bound of `dups`.
    max_dups: usize,
    /// Duplicates seen but never reported because of the bounds.
    dups_unreported: u64,
}

impl TsnMap {
    /// A map for a peer whose INIT or INIT ACK carried `peer_initial_tsn`:
    /// the cumulative TSN ack point starts one below it (RFC 9260 §6.1
    /// defines the first TSN as the Initial TSN). `max_ahead` (at least 1)
    /// bounds how far beyond the cumulative point a TSN is accepted;
    /// `max_dups` bounds how many duplicates are remembered between SACKs.
    pub(crate) fn new(peer_initial_tsn: Tsn, max_ahead: u32, max_dups: usize) -> Self {
        let cum = ORIGIN + u64::from(peer_initial_tsn.0.wrapping_sub(1));
        TsnMap {
            cum,
            base_word: (cum + 1) / 64,
            words: VecDeque::new(),
            highest: cum,
            max_ahead: u64::from(max_ahead.max(1)),
            dups: Vec::new(),
            max_dups,
            dups_unreported: 0,
        }
    }

    /// The Cumulative TSN Ack point: the last TSN of the in-sequence prefix
    /// received (RFC 9260 §6.2).
    pub(crate) fn cum_tsn(&self) -> Tsn {
        wrap(self.cum)
    }

    /// The highest TSN recorded as received (the cumulative point when none
    /// is above it).
    // Used by tests, and by stream reconfiguration (RFC 6525) and
    // diagnostics once they are wired into the association.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn highest_tsn(&self) -> Tsn {
        wrap(self.highest)
    }

    /// Whether some TSN above the cumulative point is recorded, which means
    /// TSN `cum + 1` is missing: a gap that a SACK reports (RFC 9260 §6.7).
    pub(crate) fn has_gaps(&self) -> bool {
        self.highest > self.cum
    }

    /// The unwrapped position of `tsn`, taken as the serial number closest
    /// to the cumulative point (RFC 1982 arithmetic, RFC 9260 §1.6).
    pub(crate) fn unwrap(&self, tsn: Tsn) -> u64 {
        let d = i64::from(tsn.distance(wrap(self.cum)));
        self.cum.wrapping_add_signed(d)
    }

    /// The unwrapped cumulative point (see [`TsnMap::unwrap`]).
    // Used by tests, and by stream reconfiguration (RFC 6525) and
    // diagnostics once they are wired into the association.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn cum_unwrapped(&self) -> u64 {
        self.cum
    }

    /// The unwrapped highest recorded TSN (see [`TsnMap::unwrap`]).
    pub(crate) fn highest_unwrapped(&self) -> u64 {
        self.highest
    }

    /// What [`TsnMap::on_tsn`] would answer, without recording anything.
    pub(crate) fn status(&self, tsn: Tsn) -> TsnStatus {
        let u = self.unwrap(tsn);
        if u <= self.cum || self.bit(u) {
            TsnStatus::Duplicate
        } else if u - self.cum > self.max_ahead {
            TsnStatus::TooFarAhead
        } else {
            TsnStatus::New
        }
    }

    /// Records the arrival of `tsn`: a new TSN is marked received and the
    /// cumulative point advances over every contiguous received TSN
    /// (RFC 9260 §6.2); a duplicate is remembered for the next SACK
    /// (RFC 9260 §6.2, §3.3.4: every duplicate occurrence is reported); a TSN
    /// too far ahead is left alone.
    pub(crate) fn on_tsn(&mut self, tsn: Tsn) -> TsnStatus {
        let status = self.status(tsn);
        match status {
            TsnStatus::New => {
                let u = self.unwrap(tsn);
                self.set_bit(u);
                self.highest = self.highest.max(u);
                if u == self.cum + 1 {
                    self.absorb();
                }
            }
            TsnStatus::Duplicate => self.record_dup(tsn),
            TsnStatus::TooFarAhead => {}
        }
        status
    }

    /// Remembers one duplicate occurrence of `tsn` for the next SACK, within
    /// the storage bound; the rest are only counted.
    pub(crate) fn record_dup(&mut self, tsn: Tsn) {
        if self.dups.len() < self.max_dups {
            self.dups.push(tsn);
        } else {
            self.dups_unreported += 1;
        }
    }

    /// The duplicates seen since the last call, at most `limit` of them, and
    /// forgets them all (RFC 9260 §3.3.4: the duplicate list restarts after
    /// each SACK).
    pub(crate) fn take_dup_tsns(&mut self, limit: usize) -> Vec<Tsn> {
        let mut dups = std::mem::take(&mut self.dups);
        if dups.len() > limit {
            self.dups_unreported += (dups.len() - limit) as u64;
            dups.truncate(limit);
        }
        dups
    }

    /// How many duplicates were seen but left out of every SACK because of
    /// the storage or SACK bounds (a statistic).
    // Used by tests, and by stream reconfiguration (RFC 6525) and
    // diagnostics once they are wired into the association.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn dups_unreported(&self) -> u64 {
        self.dups_unreported
    }

    /// The Gap Ack Blocks of the next SACK: runs of received TSNs above the
    /// cumulative point, lowest first, as offsets from it (RFC 9260 §3.3.4:
    /// TSNs `cum + start ..= cum + end` were received). At most `limit`
    /// blocks; blocks whose offsets do not fit 16 bits are left out (and a
    /// block straddling that limit is cut), since the wire cannot carry them.
    pub(crate) fn gap_blocks(&self, limit: usize) -> Vec<GapBlock> {
        let mut blocks = Vec::new();
        let mut pos = self.cum + 1;
        while blocks.len() < limit && pos <= self.highest {
            let Some(start) = self.next_set(pos) else {
                break;
            };
            if start > self.highest {
                break;
            }
            let end = self.next_clear(start) - 1;
            let (Ok(s), e) = (u16::try_from(start - self.cum), end - self.cum) else {
                break;
            };
            let e = u16::try_from(e).unwrap_or(u16::MAX);
            blocks.push(GapBlock { start: s, end: e });
            pos = end + 1;
        }
        blocks
    }

    /// FORWARD TSN (RFC 3758 §3.6): moves the cumulative point up to
    /// `new_cum`, forgets everything below it, then advances further over
    /// TSNs already received above it. Returns `false`, changing nothing,
    /// when `new_cum` is at or behind the cumulative point: the FORWARD TSN
    /// is out of date (RFC 3758 §3.6: the caller SHOULD still SACK).
    pub(crate) fn forward_to(&mut self, new_cum: Tsn) -> bool {
        let u = self.unwrap(new_cum);
        if u <= self.cum {
            return false;
        }
        self.cum = u;
        self.absorb();
        if self.highest < self.cum {
            self.highest = self.cum;
        }
        true
    }

    /// Forgets that `tsn` was received, so that no later SACK reports it
    /// until it arrives again (RFC 9260 §6.2: data dropped to make room MUST
    /// NOT be included in subsequent Gap Ack Blocks). Only TSNs above the
    /// cumulative point can be forgotten: what the Cumulative TSN Ack has
    /// covered is never taken back. Returns whether it was recorded.
    pub(crate) fn remove(&mut self, tsn: Tsn) -> bool {
        let u = self.unwrap(tsn);
        if u <= self.cum || !self.bit(u) {
            return false;
        }
        let (w, b) = self.slot(u);
        self.words[w] &= !(1u64 << b);
        if u == self.highest {
            self.recompute_highest();
        }
        true
    }

    /// Whether `tsn` counts as received: at or below the cumulative point,
    /// or recorded above it.
    // Used by tests, and by stream reconfiguration (RFC 6525) and
    // diagnostics once they are wired into the association.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn is_received(&self, tsn: Tsn) -> bool {
        let u = self.unwrap(tsn);
        u <= self.cum || self.bit(u)
    }

    /// Words of the bitmap (tests only: its memory).
    #[cfg(test)]
    pub(crate) fn words_len(&self) -> usize {
        self.words.len()
    }

    /// Duplicates remembered for the next SACK (tests only: their memory).
    #[cfg(test)]
    pub(crate) fn dups_len(&self) -> usize {
        self.dups.len()
    }

    // --- bitmap helpers ---

    /// Index into `words` and bit of unwrapped TSN `u`, which must have a slot.
    fn slot(&self, u: u64) -> (usize, u32) {
        ((u / 64 - self.base_word) as usize, (u % 64) as u32)
    }

    /// Whether unwrapped TSN `u` (above `cum`) is recorded.
    fn bit(&self, u: u64) -> bool {
        let w = u / 64;
        if w < self.base_word {
            return false;
        }
        match self.words.get((w - self.base_word) as usize) {
            Some(word) => word >> (u % 64) & 1 == 1,
            None => false,
        }
    }

    /// Records unwrapped TSN `u` (above `cum`, within `max_ahead`).
    fn set_bit(&mut self, u: u64) {
        let w = (u / 64 - self.base_word) as usize;
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1u64 << (u % 64);
    }

    /// Moves `cum` over every contiguous recorded TSN above it, then drops
    /// the words wholly at or below it.
    fn absorb(&mut self) {
        loop {
            let u = self.cum + 1;
            let w = u / 64;
            if w < self.base_word {
                break;
            }
            let Some(&word) = self.words.get((w - self.base_word) as usize) else {
                break;
            };
            let b = (u % 64) as u32;
            let ones = u64::from((word >> b).trailing_ones());
            self.cum += ones;
            if ones < u64::from(64 - b) {
                break;
            }
        }
        let keep_from = (self.cum + 1) / 64;
        while self.base_word < keep_from && self.words.pop_front().is_some() {
            self.base_word += 1;
        }
        if self.words.is_empty() {
            self.base_word = keep_from;
        }
    }

    /// The lowest recorded TSN at or after `from` (above `cum`).
    fn next_set(&self, from: u64) -> Option<u64> {
        let mut w = (from / 64).max(self.base_word);
        let mut mask = if w == from / 64 {
            !0u64 << (from % 64)
        } else {
            !0u64
        };
        while let Some(&word) = self.words.get((w - self.base_word) as usize) {
            let bits = word & mask;
            if bits != 0 {
                return Some(w * 64 + u64::from(bits.trailing_zeros()));
            }
            w += 1;
            mask = !0;
        }
        None
    }

    /// The lowest unrecorded TSN at or after `from`.
    fn next_clear(&self, from: u64) -> u64 {
        let mut w = from / 64;
        let mut mask = !0u64 << (from % 64);
        if w < self.base_word {
            return from;
        }
        while let Some(&word) = self.words.get((w - self.base_word) as usize) {
            let bits = !word & mask;
            if bits != 0 {
                return w * 64 + u64::from(bits.trailing_zeros());
            }
            w += 1;
            mask = !0;
        }
        from.max(w * 64)
    }

    /// Finds the highest recorded TSN again (after one was removed) and
    /// trims trailing empty words.
    fn recompute_highest(&mut self) {
        let floor_word = (self.cum + 1) / 64;
        while let Some(&last) = self.words.back() {
            let w = self.base_word + self.words.len() as u64 - 1;
            let mut bits = last;
            if w == floor_word {
                bits &= !0u64 << ((self.cum + 1) % 64);
            }
            if w < floor_word {
                bits = 0;
            }
            if bits != 0 {
                self.highest = w * 64 + 63 - u64::from(bits.leading_zeros());
                return;
            }
            self.words.pop_back();
        }
        self.highest = self.cum;
    }
}

/// The wire TSN of an unwrapped one.
pub(crate) fn wrap(u: u64) -> Tsn {
    Tsn(u as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gb(start: u16, end: u16) -> GapBlock {
        GapBlock { start, end }
    }

    /// RFC 9260 §6.2: the cumulative TSN ack point starts one below the
    /// peer's Initial TSN and advances over in-sequence TSNs.
    #[test]
    fn in_order_advances_cum() {
        let mut m = TsnMap::new(Tsn(1000), 1024, 16);
        assert_eq!(m.cum_tsn(), Tsn(999));
        for t in 1000..1200 {
            assert_eq!(m.on_tsn(Tsn(t)), TsnStatus::New);
            assert_eq!(m.cum_tsn(), Tsn(t));
            assert!(!m.has_gaps());
        }
        assert_eq!(m.highest_tsn(), Tsn(1199));
        assert!(m.gap_blocks(10).is_empty());
        // Memory: the words below the cumulative point are gone.
        assert!(m.words.len() <= 1);
    }

    /// RFC 9260 §3.3.4: Gap Ack Block offsets are relative to the Cumulative
    /// TSN Ack; cum 100 with 102–103 and 105 received gives (2,3),(5,5).
    #[test]
    fn gap_blocks_example() {
        let mut m = TsnMap::new(Tsn(100), 1024, 16);
        assert_eq!(m.on_tsn(Tsn(100)), TsnStatus::New);
        for t in [102, 103, 105] {
            assert_eq!(m.on_tsn(Tsn(t)), TsnStatus::New);
        }
        assert_eq!(m.cum_tsn(), Tsn(100));
        assert!(m.has_gaps());
        assert_eq!(m.highest_tsn(), Tsn(105));
        assert_eq!(m.gap_blocks(10), vec![gb(2, 3), gb(5, 5)]);
        // RFC 9260 §6.2: filling the hole advances over the received ones.
        m.on_tsn(Tsn(101));
        assert_eq!(m.cum_tsn(), Tsn(103));
        assert_eq!(m.gap_blocks(10), vec![gb(2, 2)]);
        m.on_tsn(Tsn(104));
        assert_eq!(m.cum_tsn(), Tsn(105));
        assert!(!m.has_gaps());
        assert!(m.gap_blocks(10).is_empty());
    }

    /// RFC 9260 §6.2: as many Gap Ack Blocks as fit; here a limit of 3
    /// reports the lowest three.
    #[test]
    fn gap_block_limit() {
        let mut m = TsnMap::new(Tsn(1), 1024, 16);
        for t in (3..=21).step_by(2) {
            m.on_tsn(Tsn(t));
        }
        let all = m.gap_blocks(100);
        assert_eq!(all.len(), 10);
        assert_eq!(m.gap_blocks(3), vec![gb(3, 3), gb(5, 5), gb(7, 7)]);
        assert!(m.gap_blocks(0).is_empty());
    }

    /// RFC 9260 §3.3.4: blocks spanning word boundaries of the bitmap.
    #[test]
    fn gap_blocks_across_words() {
        let mut m = TsnMap::new(Tsn(0), 4096, 16);
        for t in 60..=200 {
            m.on_tsn(Tsn(t));
        }
        for t in 300..=300 {
            m.on_tsn(Tsn(t));
        }
        assert_eq!(m.cum_tsn(), Tsn(u32::MAX));
        assert_eq!(m.gap_blocks(10), vec![gb(61, 201), gb(301, 301)]);
    }

    /// RFC 9260 §6.2: duplicates are reported once in the next SACK, every
    /// occurrence, then the list restarts; storage is bounded.
    #[test]
    fn duplicates_reported_then_cleared() {
        let mut m = TsnMap::new(Tsn(10), 1024, 3);
        m.on_tsn(Tsn(10));
        m.on_tsn(Tsn(12));
        assert_eq!(m.on_tsn(Tsn(10)), TsnStatus::Duplicate); // below cum
        assert_eq!(m.on_tsn(Tsn(12)), TsnStatus::Duplicate); // gap-acked
        assert_eq!(m.on_tsn(Tsn(12)), TsnStatus::Duplicate);
        assert_eq!(m.on_tsn(Tsn(5)), TsnStatus::Duplicate); // long ago
        assert_eq!(m.take_dup_tsns(10), vec![Tsn(10), Tsn(12), Tsn(12)]);
        assert_eq!(m.dups_unreported(), 1);
        assert!(m.take_dup_tsns(10).is_empty());
        m.on_tsn(Tsn(12));
        m.on_tsn(Tsn(12));
        assert_eq!(m.take_dup_tsns(1), vec![Tsn(12)]);
        assert_eq!(m.dups_unreported(), 2);
        // The map itself is unchanged by duplicates.
        assert_eq!(m.cum_tsn(), Tsn(10));
        assert_eq!(m.gap_blocks(4), vec![gb(2, 2)]);
    }

    /// Memory bound: TSNs more than `max_ahead` beyond the cumulative point
    /// are refused and not recorded.
    #[test]
    fn too_far_ahead() {
        let mut m = TsnMap::new(Tsn(1), 100, 4);
        assert_eq!(m.on_tsn(Tsn(100)), TsnStatus::New); // cum 0 + 100
        assert_eq!(m.on_tsn(Tsn(101)), TsnStatus::TooFarAhead);
        assert_eq!(m.status(Tsn(101)), TsnStatus::TooFarAhead);
        assert_eq!(m.highest_tsn(), Tsn(100));
        m.on_tsn(Tsn(1));
        assert_eq!(m.on_tsn(Tsn(101)), TsnStatus::New);
        // A TSN half the serial space away counts as old, not new.
        assert_eq!(
            m.on_tsn(Tsn(1u32.wrapping_add(0x8000_0000))),
            TsnStatus::Duplicate
        );
    }

    /// RFC 9260 §1.6: TSNs wrap around 2^32; the map works across
    /// 0xffffffff → 0.
    #[test]
    fn wraparound() {
        let mut m = TsnMap::new(Tsn(0xffff_fff0), 1024, 4);
        assert_eq!(m.cum_tsn(), Tsn(0xffff_ffef));
        for t in 0xffff_fff0u32..=0xffff_fffe {
            m.on_tsn(Tsn(t));
        }
        m.on_tsn(Tsn(1));
        m.on_tsn(Tsn(2));
        assert_eq!(m.cum_tsn(), Tsn(0xffff_fffe));
        // cum 0xfffffffe; missing 0xffffffff and 0; 1..=2 received.
        assert_eq!(m.gap_blocks(4), vec![gb(3, 4)]);
        assert_eq!(m.highest_tsn(), Tsn(2));
        m.on_tsn(Tsn(0xffff_ffff));
        assert_eq!(m.cum_tsn(), Tsn(0xffff_ffff));
        assert_eq!(m.gap_blocks(4), vec![gb(2, 3)]);
        m.on_tsn(Tsn(0));
        assert_eq!(m.cum_tsn(), Tsn(2));
        assert!(!m.has_gaps());
        assert_eq!(m.on_tsn(Tsn(0xffff_fff5)), TsnStatus::Duplicate);
    }

    /// RFC 3758 §3.6: FORWARD TSN moves the cumulative point past the gaps
    /// and then over TSNs already received above it; an out-of-date one is
    /// ignored.
    #[test]
    fn forward_tsn_advances_past_gaps() {
        let mut m = TsnMap::new(Tsn(1), 1024, 4);
        for t in [3, 4, 7, 8, 10] {
            m.on_tsn(Tsn(t));
        }
        assert_eq!(m.cum_tsn(), Tsn(0));
        assert!(m.forward_to(Tsn(2)));
        assert_eq!(m.cum_tsn(), Tsn(4));
        assert_eq!(m.gap_blocks(4), vec![gb(3, 4), gb(6, 6)]);
        assert!(m.forward_to(Tsn(6)));
        assert_eq!(m.cum_tsn(), Tsn(8));
        assert!(!m.forward_to(Tsn(8)));
        assert!(!m.forward_to(Tsn(3)));
        assert_eq!(m.cum_tsn(), Tsn(8));
        // Far beyond everything recorded: the map empties.
        assert!(m.forward_to(Tsn(100_000)));
        assert_eq!(m.cum_tsn(), Tsn(100_000));
        assert!(!m.has_gaps());
        assert_eq!(m.highest_tsn(), Tsn(100_000));
        assert_eq!(m.on_tsn(Tsn(100_001)), TsnStatus::New);
        assert_eq!(m.cum_tsn(), Tsn(100_001));
        assert_eq!(m.on_tsn(Tsn(99_999)), TsnStatus::Duplicate);
    }

    /// RFC 3758 §3.6 across the wrap of the TSN space.
    #[test]
    fn forward_tsn_wraparound() {
        let mut m = TsnMap::new(Tsn(0xffff_fffe), 1024, 4);
        m.on_tsn(Tsn(1));
        assert!(m.forward_to(Tsn(0)));
        assert_eq!(m.cum_tsn(), Tsn(1));
    }

    /// RFC 9260 §6.2: a TSN dropped to make room is no longer reported in
    /// Gap Ack Blocks until it arrives again; the cumulative point is never
    /// taken back.
    #[test]
    fn remove_unreports() {
        let mut m = TsnMap::new(Tsn(1), 1024, 4);
        for t in [1, 3, 4, 5] {
            m.on_tsn(Tsn(t));
        }
        assert!(!m.remove(Tsn(1)));
        assert!(!m.remove(Tsn(2)));
        assert!(m.remove(Tsn(5)));
        assert_eq!(m.highest_tsn(), Tsn(4));
        assert_eq!(m.gap_blocks(4), vec![gb(2, 3)]);
        assert!(m.remove(Tsn(3)));
        assert!(m.remove(Tsn(4)));
        assert!(!m.has_gaps());
        assert_eq!(m.highest_tsn(), Tsn(1));
        assert_eq!(m.status(Tsn(5)), TsnStatus::New);
        assert!(m.is_received(Tsn(1)));
        assert!(!m.is_received(Tsn(4)));
        m.on_tsn(Tsn(2));
        assert_eq!(m.cum_tsn(), Tsn(2));
    }

    /// RFC 9260 §3.3.4: offsets are 16 bits; blocks beyond them are left out.
    #[test]
    fn offsets_beyond_16_bits() {
        let mut m = TsnMap::new(Tsn(1), 200_000, 4);
        m.on_tsn(Tsn(65_534));
        m.on_tsn(Tsn(65_535));
        m.on_tsn(Tsn(65_536));
        m.on_tsn(Tsn(100_000));
        assert_eq!(m.gap_blocks(10), vec![gb(65_534, 65_535)]);
    }
}
