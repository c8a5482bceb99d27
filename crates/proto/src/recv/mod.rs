//! The receive side of an association: DATA chunks in, SACKs and user
//! messages out (RFC 9260 §6.2, §6.5, §6.6, §6.7, §6.9; FORWARD TSN of RFC
//! 3758 §3.6).
//!
//! * [`tsn_map`] tracks which TSNs arrived: the cumulative TSN ack point, Gap
//!   Ack Blocks and duplicates.
//! * [`reassembly`] turns chunks into messages per stream, in SSN order or
//!   unordered, with partial delivery of messages too large for the window.
//! * [`Receiver`] (here) ties them together with the receive window: it
//!   decides what to accept, computes `a_rwnd` and builds SACKs.
//!
//! # Memory bound
//!
//! Everything is bounded by [`ReceiveConfig`]: held data by `window`, the
//! TSN map by `max_tsns_ahead` bits, the duplicate list by `max_dup_tsns`.
//! Held data is counted twice (see [`Receiver`], Accounting): in payload
//! bytes, as RFC 9260 §6.2 B counts "the number of bytes received and
//! buffered", and in the memory it keeps alive (its buffer and bookkeeping),
//! which is what a_rwnd advertises. A chunk is only accepted while the
//! payload is below `window` and the memory below twice `window`, so a peer
//! that ignores our window gets at most one chunk past either. Every other
//! collection here is bounded by these: fragments and runs by the memory
//! charged for each, stream state by the inbound stream count.

pub(crate) mod reassembly;
pub(crate) mod tsn_map;

use msctp_wire::Tsn;
use msctp_wire::chunk::{Data, ForwardTsn, Sack};

use reassembly::Reassembly;
pub(crate) use reassembly::ReceivedMessage;
use tsn_map::{TsnMap, TsnStatus, wrap};

/// Receive-side limits of an association.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReceiveConfig {
    /// Receive buffer in payload bytes: the a_rwnd we advertise when nothing
    /// is buffered (RFC 9260 §6.2 A, the Advertised Receiver Window Credit of
    /// INIT / INIT ACK). Also the partial delivery point.
    pub window: u32,
    /// Most Gap Ack Blocks put in one SACK (RFC 9260 §6.2: as many as fit
    /// the PMTU; 4 bytes each).
    pub max_gap_blocks: usize,
    /// Most duplicate TSNs remembered between SACKs and put in one
    /// (RFC 9260 §3.3.4; 4 bytes each).
    pub max_dup_tsns: usize,
    /// How far beyond the cumulative TSN ack point a TSN is accepted; keeps
    /// the TSN map bounded. Keep it at most 65535: Gap Ack Block offsets
    /// are 16 bits (RFC 9260 §3.3.4) and blocks beyond are not reported.
    pub max_tsns_ahead: u32,
    /// Bytes charged for the bookkeeping of each held chunk or queued
    /// message on top of the buffer its payload keeps alive (see
    /// [`Receiver`], Accounting). [`CHUNK_OVERHEAD`] by default.
    pub chunk_overhead: usize,
}

/// What one held chunk or queued message costs besides its payload buffer:
/// its fragment record or queue entry, its share of the maps, and the
/// allocator's rounding of a copied payload (checked against the real sizes
/// by a test).
pub(crate) const CHUNK_OVERHEAD: usize = 128;

impl Default for ReceiveConfig {
    /// 256 KiB window, 128 Gap Ack Blocks, 32 duplicate TSNs, 65535 TSNs
    /// ahead, [`CHUNK_OVERHEAD`] per chunk.
    fn default() -> Self {
        ReceiveConfig {
            window: 256 * 1024,
            max_gap_blocks: 128,
            max_dup_tsns: 32,
            max_tsns_ahead: 65_535,
            chunk_overhead: CHUNK_OVERHEAD,
        }
    }
}

/// Why a DATA chunk was dropped without being acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropReason {
    /// The receive window is full (RFC 9260 §6.2). The caller MUST send a
    /// SACK at once, showing only what was accepted.
    NoBufferSpace,
    /// The TSN is more than `max_tsns_ahead` beyond the cumulative TSN ack
    /// point. The caller SHOULD send a SACK so the peer learns where we are.
    TooFarAhead,
}

/// What [`Receiver::on_data`] did with a DATA chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataOutcome {
    /// New data, acknowledged and held or delivered.
    Accepted,
    /// New data, accepted after dropping `dropped` held chunks of higher TSN
    /// to make room (RFC 9260 §6.2; this may renege on TSNs reported in Gap
    /// Ack Blocks, which RFC 9260 §6.2 D allows when out of buffer space).
    /// The caller MUST send a SACK at once.
    AcceptedAfterRenege {
        /// Held chunks dropped.
        dropped: u32,
    },
    /// Already received (at or below the cumulative TSN ack point, or
    /// gap-acked); reported in the next SACK's duplicate TSNs. A packet with
    /// only duplicates MUST be SACKed at once (RFC 9260 §6.2).
    Duplicate,
    /// RFC 9260 §6.5: the stream identifier is not below the number of
    /// inbound streams. The TSN is acknowledged normally but the data is
    /// discarded; the caller sends an ERROR with an Invalid Stream
    /// Identifier cause (after the SACK when bundled).
    InvalidStream,
    /// Not acknowledged and not kept.
    Dropped(DropReason),
    /// RFC 9260 §6.2: a DATA chunk without user data. Nothing is recorded;
    /// the caller MUST abort the association with a No User Data cause.
    EmptyPayload,
}

impl DataOutcome {
    /// Whether RFC 9260 §6.2 requires a SACK at once whatever else the
    /// packet held (data dropped for lack of buffer space).
    pub(crate) fn requires_immediate_sack(self) -> bool {
        matches!(
            self,
            DataOutcome::Dropped(DropReason::NoBufferSpace)
                | DataOutcome::AcceptedAfterRenege { .. }
        )
    }
}

/// The receive side of one association.
///
/// Drive it with [`Receiver::on_data`] and [`Receiver::on_forward_tsn`] as
/// chunks arrive, answer with [`Receiver::build_sack`] when the SACK rules of
/// RFC 9260 §6.2 call for one, and hand [`Receiver::poll_message`]'s messages
/// to the application, which frees window.
///
/// # Window full (RFC 9260 §6.2)
///
/// When a chunk arrives while the buffer is full (the payload held reaches
/// the window, or its memory twice the window: see Accounting below):
///
/// * a TSN above the highest received is dropped (the RFC's MUST);
/// * a lower TSN is accepted after dropping held-for-reordering chunks of
///   higher TSN, highest first, until there is room (the RFC's SHOULD drops
///   "the largest TSN held"; more than one may go when the new chunk is
///   larger). Dropped TSNs are forgotten by the TSN map, so later SACKs stop
///   reporting them until they come again: if they had been gap-acked this is
///   reneging, which RFC 9260 §6.2 D allows when out of buffer space. It is
///   what keeps a missing TSN deliverable when out-of-order data has filled
///   the window. Only held chunks are dropped: never data at or below the
///   cumulative TSN ack point, never data already handed to the application
///   queue. If dropping them all would still not make room, nothing is
///   dropped and the new chunk is refused instead.
///
/// # Partial delivery
///
/// If the memory charged for held (not yet deliverable) data reaches
/// `window`, the head-of-line
/// incomplete message of some stream has its in-order prefix delivered as
/// pieces (see [`ReceivedMessage`]), so a message larger than the window can
/// still get through.
///
/// # Accounting
///
/// A DATA payload arrives as a zero-copy view of its datagram, so holding it
/// keeps the whole datagram alive: a 1-byte chunk padded to 60 KB would pin
/// 60 KB. So each accepted chunk is *charged* the memory it keeps alive:
///
/// * a payload smaller than half its datagram is copied into a buffer of
///   its own and charged its length (copying it is cheap, it is small);
/// * a larger one stays a view and is charged the whole datagram, which is
///   less than twice the payload (a datagram has room for only one such
///   chunk);
///
/// plus `chunk_overhead` for the bookkeeping. The a_rwnd we advertise is the
/// window minus the charges held (held for reassembly or ordering, and
/// delivered but not yet polled), so it falls by what is really held. The
/// payload bytes are counted too, for the RFC's window (RFC 9260 §6.2 B):
/// since a compliant sender sends no more payload than the a_rwnd we
/// advertised, and each chunk's charge is at most about twice its payload,
/// accepting while the payload is below the window and the charges below
/// twice the window never refuses data the sender was allowed to send
/// (unless its chunks are tiny, when the bookkeeping dominates), and never
/// holds more than twice the window (plus one chunk).
///
/// # Silly window syndrome (RFC 9260 §6.2)
///
/// RFC 9260 §6.2 requires an algorithm that avoids receiver silly window
/// syndrome (RFC 813), like that of RFC 1122 §4.2.3.3: the right edge of the
/// offered window stays where it was (the offered window shrinks by what
/// arrives and does not grow as the application reads) until it can move by
/// at least min(window / 2, one full-sized packet of the peer), the packet
/// estimated as the largest datagram that brought DATA so far (RFC 1122's
/// Eff.snd.MSS, which the receiver does not know). [`Receiver::a_rwnd`] applies the rule, [`Receiver::build_sack`]
/// records what was offered, and [`Receiver::window_update_due`] says when
/// reading has opened the window enough to tell the peer unasked.
#[derive(Debug, Clone)]
pub(crate) struct Receiver {
    tsns: TsnMap,
    reassembly: Reassembly,
    config: ReceiveConfig,
    /// The window the peer was last offered, less the charges accepted
    /// since (RFC 1122 §4.2.3.3's RCV.WND with a fixed right edge).
    offered: u32,
    /// The largest datagram that brought an accepted DATA chunk: the SWS
    /// threshold's estimate of a full-sized packet (RFC 1122's
    /// Eff.snd.MSS).
    largest_datagram: usize,
}

impl Receiver {
    /// The receive side for a peer that announced `peer_initial_tsn` and for
    /// which we accepted `inbound_streams` streams (RFC 9260 §5.1.1).
    pub(crate) fn new(peer_initial_tsn: Tsn, inbound_streams: u16, config: ReceiveConfig) -> Self {
        Receiver {
            tsns: TsnMap::new(peer_initial_tsn, config.max_tsns_ahead, config.max_dup_tsns),
            reassembly: Reassembly::with_overhead(inbound_streams, config.chunk_overhead),
            config,
            // The INIT / INIT ACK advertised the whole window.
            offered: config.window,
            largest_datagram: 0,
        }
    }

    /// The configuration.
    // Used by tests, and by stream reconfiguration (RFC 6525) and
    // diagnostics once they are wired into the association.
    #[allow(dead_code)]
    pub(crate) fn config(&self) -> &ReceiveConfig {
        &self.config
    }

    /// Records where the next DATA chunks come from (the source address of
    /// their packet), for [`ReceivedMessage::from`].
    pub(crate) fn set_source(&mut self, from: std::net::IpAddr) {
        self.reassembly.source = Some(from);
    }

    /// Feeds one DATA chunk whose payload is a view of a datagram buffer of
    /// `datagram_len` bytes (0 when the payload is a buffer of its own); see
    /// [`DataOutcome`] for what the caller does next.
    pub(crate) fn on_data(&mut self, data: &Data, datagram_len: usize) -> DataOutcome {
        // RFC 9260 §6.2: no user data is a protocol violation (abort).
        if data.payload.is_empty() {
            return DataOutcome::EmptyPayload;
        }
        match self.tsns.status(data.tsn) {
            TsnStatus::New => {}
            TsnStatus::Duplicate => {
                // RFC 9260 §6.2: report duplicates in the next SACK.
                self.tsns.record_dup(data.tsn);
                return DataOutcome::Duplicate;
            }
            TsnStatus::TooFarAhead => return DataOutcome::Dropped(DropReason::TooFarAhead),
        }
        // RFC 9260 §6.5: acknowledge, discard, caller reports the error.
        if usize::from(data.stream) >= self.reassembly.stream_count() {
            self.tsns.on_tsn(data.tsn);
            return DataOutcome::InvalidStream;
        }
        let tsn = self.tsns.unwrap(data.tsn);
        let mut dropped = 0;
        if !self.fits(self.buffered_bytes(), self.charge()) {
            // RFC 9260 §6.2: with the window at 0, a TSN above the largest
            // received MUST be dropped...
            if tsn > self.tsns.highest_unwrapped() {
                return DataOutcome::Dropped(DropReason::NoBufferSpace);
            }
            // ...and for a lower one the receiver SHOULD drop the largest TSN
            // held for reordering and accept the new chunk.
            let (bytes, charge) = self.reassembly.held_above(tsn);
            if !self.fits(self.buffered_bytes() - bytes, self.charge() - charge) {
                return DataOutcome::Dropped(DropReason::NoBufferSpace);
            }
            while !self.fits(self.buffered_bytes(), self.charge()) {
                let Some(gone) = self.reassembly.drop_highest_above(tsn) else {
                    break;
                };
                // RFC 9260 §6.2: dropped chunks MUST NOT be in later SACKs.
                self.tsns.remove(wrap(gone));
                dropped += 1;
            }
        }
        let (payload, charge) = self.keep(&data.payload, datagram_len);
        self.largest_datagram = self
            .largest_datagram
            .max(datagram_len.max(data.payload.len()));
        // RFC 1122 §4.2.3.3: the offered window's right edge stays put.
        self.offered = self
            .offered
            .saturating_sub(u32::try_from(charge).unwrap_or(u32::MAX));
        self.tsns.on_tsn(data.tsn);
        self.reassembly.insert(tsn, data, payload, charge);
        self.reassembly.partial_deliver(self.window().max(1));
        if dropped > 0 {
            DataOutcome::AcceptedAfterRenege { dropped }
        } else {
            DataOutcome::Accepted
        }
    }

    /// FORWARD TSN (RFC 3758 §3.6): advances the cumulative TSN ack point
    /// to the New Cumulative TSN and further over what was received above
    /// it, drops incomplete messages at or below it, skips the listed SSNs
    /// (delivering stranded ordered messages) and aborts a partial delivery
    /// whose rest was abandoned. Returns `false` when the chunk is out of
    /// date (New Cumulative TSN at or behind ours): nothing changes, and the
    /// caller SHOULD send a SACK (RFC 3758 §3.6). Either way the caller
    /// follows the SACK rules as if DATA had arrived.
    pub(crate) fn on_forward_tsn(&mut self, fwd: &ForwardTsn) -> bool {
        let new_cum = self.tsns.unwrap(fwd.new_cum_tsn);
        if !self.tsns.forward_to(fwd.new_cum_tsn) {
            return false;
        }
        self.reassembly.forward(new_cum, &fwd.streams);
        self.reassembly.partial_deliver(self.window().max(1));
        true
    }

    /// The Cumulative TSN Ack point.
    pub(crate) fn cum_tsn(&self) -> Tsn {
        self.tsns.cum_tsn()
    }

    /// The highest TSN recorded as received.
    // Used by tests, and by stream reconfiguration (RFC 6525) and
    // diagnostics once they are wired into the association.
    #[allow(dead_code)]
    pub(crate) fn highest_tsn(&self) -> Tsn {
        self.tsns.highest_tsn()
    }

    /// Whether TSNs are missing below received ones (RFC 9260 §6.7: the
    /// SACK then carries Gap Ack Blocks and SHOULD go at once).
    pub(crate) fn has_gaps(&self) -> bool {
        self.tsns.has_gaps()
    }

    /// What to keep of an accepted payload that is a view of a
    /// `datagram_len`-byte buffer, and the memory it then keeps alive (see
    /// Accounting above).
    fn keep(&self, payload: &bytes::Bytes, datagram_len: usize) -> (bytes::Bytes, usize) {
        let len = payload.len();
        let buffer = datagram_len.max(len);
        let (kept, pinned) = if len < buffer / 2 {
            // Small next to its datagram: a copy frees the datagram.
            (bytes::Bytes::copy_from_slice(payload), len)
        } else {
            (payload.clone(), buffer)
        };
        (kept, pinned.saturating_add(self.config.chunk_overhead))
    }

    /// Whether `bytes` of payload charged `charge` bytes of memory leave room
    /// for another chunk: the payload below the window (RFC 9260 §6.2) and
    /// the memory below twice the window (see Accounting above).
    fn fits(&self, bytes: usize, charge: usize) -> bool {
        bytes < self.window() && charge < self.memory_limit()
    }

    /// The most memory held before chunks are refused: twice the window.
    fn memory_limit(&self) -> usize {
        self.window().saturating_mul(2)
    }

    /// The window left: the window minus the memory charged for what is
    /// held (for reassembly or ordering, and delivered but not yet polled),
    /// never below 0 (RFC 9260 §6.2 B, C), before silly window avoidance.
    fn free(&self) -> u32 {
        let free = self.window().saturating_sub(self.charge());
        u32::try_from(free).unwrap_or(u32::MAX)
    }

    /// RFC 1122 §4.2.3.3 (through RFC 9260 §6.2): the smallest increase of
    /// the offered window worth announcing, min(window / 2, a full-sized
    /// packet).
    fn sws_threshold(&self) -> u32 {
        let t = (self.window() / 2).min(self.largest_datagram);
        u32::try_from(t).unwrap_or(u32::MAX)
    }

    /// The Advertised Receiver Window Credit to put in a SACK now (RFC 9260
    /// §6.2 B, C): the window minus what is held, never below 0, except that
    /// an increase smaller than the silly window threshold is not announced
    /// (RFC 9260 §6.2: receiver silly window syndrome avoidance, as in RFC
    /// 1122 §4.2.3.3): then the window offered last, less what arrived since.
    pub(crate) fn a_rwnd(&self) -> u32 {
        let free = self.free();
        let offered = self.offered.min(free);
        if free - offered >= self.sws_threshold() {
            free
        } else {
            offered
        }
    }

    /// Whether reading has opened the window enough that the peer should be
    /// told at once, without waiting for DATA to acknowledge (RFC 9260 §6.2:
    /// SACKs beyond one per packet only "to update the offered window as the
    /// receiving application consumes new data"). Only when the increase is
    /// no silly window (see [`Receiver::a_rwnd`]) and the peer may be held
    /// back by the window it has: too small for a full-sized packet, or
    /// below half the window and now reopened past it. So at most two window
    /// updates go per closing of the window.
    pub(crate) fn window_update_due(&self) -> bool {
        let old = self.offered.min(self.free());
        let new = self.a_rwnd();
        let half = self.config.window / 2;
        new > old && (old < self.sws_threshold() || (old < half && new >= half))
    }

    /// A SACK for now (RFC 9260 §3.3.4, §6.2): the cumulative TSN ack point,
    /// a_rwnd, the lowest Gap Ack Blocks and the duplicates since the last
    /// SACK (then forgotten), within the configured bounds.
    pub(crate) fn build_sack(&mut self) -> Sack {
        self.build_sack_with_limits(self.config.max_gap_blocks, self.config.max_dup_tsns)
    }

    /// [`Receiver::build_sack`] with tighter bounds, e.g. to fit what is
    /// left of a packet (RFC 9260 §6.2: as many blocks as fit the PMTU).
    pub(crate) fn build_sack_with_limits(
        &mut self,
        max_gap_blocks: usize,
        max_dup_tsns: usize,
    ) -> Sack {
        // RFC 1122 §4.2.3.3: what we offer now is the new right edge.
        self.offered = self.a_rwnd();
        Sack {
            cum_tsn_ack: self.tsns.cum_tsn(),
            a_rwnd: self.offered,
            gap_blocks: self
                .tsns
                .gap_blocks(max_gap_blocks.min(self.config.max_gap_blocks)),
            dup_tsns: self
                .tsns
                .take_dup_tsns(max_dup_tsns.min(self.config.max_dup_tsns)),
        }
    }

    /// The next complete message (or partial-delivery piece) in delivery
    /// order; taking it frees its bytes from the window.
    #[must_use]
    pub(crate) fn poll_message(&mut self) -> Option<ReceivedMessage> {
        self.reassembly.poll()
    }

    /// Payload bytes buffered: held for reassembly or ordering, plus
    /// delivered but not yet polled.
    pub(crate) fn buffered_bytes(&self) -> usize {
        self.reassembly.held_bytes() + self.reassembly.ready_bytes()
    }

    /// Memory charged for what is buffered (see Accounting above): what
    /// a_rwnd is reduced by.
    pub(crate) fn charge(&self) -> usize {
        self.reassembly.charge()
    }

    /// Messages and pieces waiting in [`Receiver::poll_message`].
    pub(crate) fn ready_messages(&self) -> usize {
        self.reassembly.ready_messages()
    }

    /// Changes the number of inbound streams (e.g. after an RFC 6525 Add
    /// Incoming Streams request). New streams start at SSN 0; data held for
    /// removed streams is discarded (its TSNs stay acknowledged).
    // Used by tests, and by stream reconfiguration (RFC 6525) and
    // diagnostics once they are wired into the association.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn set_inbound_streams(&mut self, n: u16) {
        self.reassembly.set_stream_count(n);
    }

    /// Duplicates seen but not reported because of the bounds (statistic).
    // Used by tests, and by stream reconfiguration (RFC 6525) and
    // diagnostics once they are wired into the association.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn duplicates_unreported(&self) -> u64 {
        self.tsns.dups_unreported()
    }

    fn window(&self) -> usize {
        self.config.window as usize
    }

    /// Checks the internal invariants (tests only): the reassembly's own,
    /// and every held chunk above the cumulative point is recorded as
    /// received (so it is acknowledged, and not taken twice).
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        self.reassembly.check_invariants();
        for tsn in self.reassembly.held_tsns() {
            if tsn > self.tsns.cum_unwrapped() {
                assert!(
                    self.tsns.is_received(wrap(tsn)),
                    "held TSN {tsn} not recorded"
                );
            }
        }
    }
}

#[cfg(test)]
mod limit_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
