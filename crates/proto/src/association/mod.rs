//! One SCTP association: the state machine of RFC 9260 §4 and everything an
//! established association does, driven sans-IO.
//!
//! # Drive contract
//!
//! * In: [`Association::handle_packet`] for every packet routed to it,
//!   [`Association::handle_timeout`] once [`Association::poll_timeout`]'s
//!   instant has passed, and the application calls ([`Association::send`],
//!   [`Association::recv`], [`Association::shutdown`], [`Association::abort`],
//!   [`Association::set_primary`]).
//! * Out, after any input, in this order: drain [`Association::poll_transmit`]
//!   until `None`, re-read [`Association::poll_timeout`], drain
//!   [`Association::poll_event`].
//!
//! Time is always passed in; nothing here reads a clock or the OS.
//!
//! The work is split by concern: `handshake` (INIT, INIT ACK, COOKIE ECHO,
//! COOKIE ACK, T1 timers), `input` (packet intake, verification tags,
//! dispatch), `outbound` (send queue, TSN assignment, fragmentation,
//! outstanding chunks), `sack` (SACK processing on the sender side and SACK
//! generation on the receiver side), `transmit` (packet assembly),
//! `retransmit` (T3-rtx, fast retransmit), `heartbeat` (path probing and
//! monitoring), `shutdown` (graceful shutdown and abort).

pub(crate) mod handshake;
pub(crate) mod heartbeat;
mod icmp;
mod input;
mod outbound;
mod retransmit;
mod sack;
mod shutdown;
mod transmit;

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use msctp_wire::{Chunk, ErrorCause, Ssn, Tsn};

use crate::config::Config;
use crate::event::{AddressChange, AssociationChange, CloseReason, Event};
use crate::path::{Path, PathInfo, PathManager, PathState, SourceSelector, Transition};
use crate::recv::Receiver;
use crate::rng::Rng;
use crate::timer::earliest;

use outbound::Outbound;
pub use outbound::SendOptions;

/// The association states of RFC 9260 §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// INIT sent, waiting for INIT ACK.
    CookieWait,
    /// COOKIE ECHO sent, waiting for COOKIE ACK.
    CookieEchoed,
    /// Established.
    Established,
    /// The application asked to shut down; waiting for outstanding data.
    ShutdownPending,
    /// SHUTDOWN sent.
    ShutdownSent,
    /// SHUTDOWN received; finishing outstanding data.
    ShutdownReceived,
    /// SHUTDOWN ACK sent.
    ShutdownAckSent,
    /// Closed: the association is gone and only waits to be removed.
    Closed,
}

/// A packet to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Local address to send from.
    pub source: IpAddr,
    /// Peer address to send to.
    pub destination: IpAddr,
    /// The SCTP packet, checksum filled.
    pub payload: Bytes,
}

/// A message received from the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Stream it arrived on.
    pub stream: u16,
    /// Its stream sequence number.
    pub ssn: Ssn,
    /// Its payload protocol identifier.
    pub ppid: u32,
    /// True if sent unordered.
    pub unordered: bool,
    /// TSN of its first fragment.
    pub tsn: Tsn,
    /// The data.
    pub data: Bytes,
    /// False for a partial delivery: more of this message follows.
    pub complete: bool,
    /// The peer address its last fragment arrived from.
    pub from: Option<IpAddr>,
}

/// Why `send` refused a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The stream does not exist (RFC 9260 §6.5).
    #[error("stream {stream} does not exist (the association has {streams} outbound streams)")]
    InvalidStream {
        /// The stream asked for.
        stream: u16,
        /// Outbound streams negotiated.
        streams: u16,
    },
    /// The send buffer is full; try again after some data is acknowledged.
    #[error("send buffer full")]
    BufferFull,
    /// The message is larger than `max_message_size`.
    #[error("message of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Empty messages cannot be sent (RFC 9260 §6.2: DATA must carry data).
    #[error("empty messages cannot be sent")]
    Empty,
    /// The association is shutting down or closed.
    #[error("the association is shutting down or closed")]
    Closed,
    /// The destination is not a peer address of this association.
    #[error("{0} is not a peer address of this association")]
    UnknownDestination(IpAddr),
    /// The message is larger than the whole send buffer, so it could never
    /// be queued however long the caller waits.
    #[error(
        "message of {len} bytes is larger than the {send_buffer}-byte send buffer \
         (Config::send_buffer); raise send_buffer or send smaller messages"
    )]
    LargerThanSendBuffer {
        /// Its size.
        len: usize,
        /// `Config::send_buffer`.
        send_buffer: usize,
    },
}

/// The peer-specific values learnt at setup.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    pub vtag: u32,
    pub port: u16,
    pub initial_tsn: Tsn,
    pub rwnd: u32,
}

/// An SCTP association.
#[derive(Debug)]
pub struct Association {
    pub(crate) config: Arc<Config>,
    pub(crate) state: State,
    pub(crate) local_port: u16,
    pub(crate) local_vtag: u32,
    pub(crate) local_initial_tsn: Tsn,
    pub(crate) local_addrs: Vec<IpAddr>,
    pub(crate) peer: Peer,
    pub(crate) paths: PathManager,
    pub(crate) outbound_streams: u16,
    pub(crate) inbound_streams: u16,
    pub(crate) out: Outbound,
    pub(crate) recv: Option<Receiver>,
    pub(crate) rng: Rng,
    /// Reference point for times written into heartbeats.
    pub(crate) epoch: Instant,
    /// Consecutive unanswered retransmissions (RFC 9260 §8.1).
    pub(crate) error_count: u32,
    pub(crate) handshake: handshake::Handshake,
    pub(crate) shutdown: shutdown::ShutdownState,
    pub(crate) sack: sack::SackState,
    /// Control chunks waiting to be sent, each to a given path.
    pub(crate) control: VecDeque<((IpAddr, IpAddr), Chunk)>,
    /// DATA packets still allowed in this burst (RFC 9260 §6.1 Max.Burst).
    pub(crate) burst_budget: u32,
    pub(crate) events: VecDeque<Event>,
    pub(crate) events_dropped: u64,
    /// Tie-tags for restart detection (RFC 9260 §5.2.1).
    pub(crate) close_reason: Option<CloseReason>,
    /// Chooses the local address of each path (see [`crate::path::SourceSelector`]).
    pub(crate) sources: Arc<dyn SourceSelector>,
}

impl Association {
    #[allow(clippy::too_many_arguments)]
    fn base(
        config: Arc<Config>,
        now: Instant,
        local_port: u16,
        local_addrs: Vec<IpAddr>,
        local_vtag: u32,
        local_initial_tsn: Tsn,
        peer: Peer,
        rng: Rng,
        sources: Arc<dyn SourceSelector>,
    ) -> Self {
        let burst = config.max_burst;
        Association {
            out: Outbound::new(local_initial_tsn, &config),
            config,
            state: State::Closed,
            local_port,
            local_vtag,
            local_initial_tsn,
            local_addrs,
            peer,
            paths: PathManager::default(),
            outbound_streams: 0,
            inbound_streams: 0,
            recv: None,
            rng,
            epoch: now,
            error_count: 0,
            handshake: handshake::Handshake::default(),
            shutdown: shutdown::ShutdownState::default(),
            sack: sack::SackState::default(),
            control: VecDeque::new(),
            burst_budget: burst,
            events: VecDeque::new(),
            events_dropped: 0,
            close_reason: None,
            sources,
        }
    }

    /// The association's state.
    pub fn state(&self) -> State {
        self.state
    }

    /// True once the association is closed and can be dropped.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// True when closed and nothing is left to send or report.
    pub(crate) fn is_drained(&self) -> bool {
        // Data received before the end stays readable until it is read.
        self.control.is_empty() && self.events.is_empty() && self.readable() == 0
    }

    /// True in ESTABLISHED or a shutdown state that still delivers data.
    pub fn is_established(&self) -> bool {
        matches!(
            self.state,
            State::Established
                | State::ShutdownPending
                | State::ShutdownReceived
                | State::ShutdownSent
        )
    }

    /// Our initial TSN (for tests that script the peer).
    #[cfg(test)]
    pub(crate) fn local_initial_tsn_for_tests(&self) -> Tsn {
        self.local_initial_tsn
    }

    /// Our verification tag (what the peer puts in its packets).
    pub fn local_vtag(&self) -> u32 {
        self.local_vtag
    }

    /// The peer's verification tag.
    pub fn peer_vtag(&self) -> u32 {
        self.peer.vtag
    }

    /// Our port.
    pub fn local_port(&self) -> u16 {
        self.local_port
    }

    /// The peer's port.
    pub fn peer_port(&self) -> u16 {
        self.peer.port
    }

    /// Our addresses in this association.
    pub fn local_addrs(&self) -> &[IpAddr] {
        &self.local_addrs
    }

    /// The peer's addresses, in the order they were learnt.
    pub fn peer_addrs(&self) -> Vec<IpAddr> {
        self.paths.iter().map(|p| p.remote).collect()
    }

    /// Negotiated outbound and inbound stream counts.
    pub fn streams(&self) -> (u16, u16) {
        (self.outbound_streams, self.inbound_streams)
    }

    /// Why the association closed, once it has.
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.close_reason.as_ref()
    }

    /// Per-path state and counters, one entry per peer address.
    pub fn paths(&self) -> Vec<PathInfo> {
        let primary = self.paths.primary();
        self.paths
            .iter()
            .enumerate()
            .map(|(i, p)| p.info(i == primary))
            .collect()
    }

    /// The primary peer address.
    pub fn primary(&self) -> Option<IpAddr> {
        (!self.paths.is_empty()).then(|| self.paths.get(self.paths.primary()).remote)
    }

    /// Makes `addr` the primary path (RFC 9260 §6.4: the application may
    /// change the primary at any time).
    pub fn set_primary(&mut self, addr: IpAddr) -> Result<(), SendError> {
        let i = self
            .paths
            .find(addr)
            .ok_or(SendError::UnknownDestination(addr))?;
        if i != self.paths.primary() {
            self.paths.set_primary(i);
            let state = self.paths.get(i).state();
            self.push_event(Event::PeerAddress {
                address: addr,
                change: AddressChange::MadePrimary,
                from: state,
                to: state,
            });
        }
        Ok(())
    }

    /// Queues a message. See [`SendOptions`] for the stream, PPID, ordering
    /// and destination.
    pub fn send(&mut self, data: Bytes, options: SendOptions) -> Result<(), SendError> {
        if !matches!(
            self.state,
            State::CookieWait | State::CookieEchoed | State::Established
        ) {
            return Err(SendError::Closed);
        }
        if self.is_established() && options.stream >= self.outbound_streams {
            return Err(SendError::InvalidStream {
                stream: options.stream,
                streams: self.outbound_streams,
            });
        }
        let destination = match options.destination {
            Some(addr) => Some(
                self.paths
                    .find(addr)
                    .ok_or(SendError::UnknownDestination(addr))?,
            ),
            None => None,
        };
        self.out.push(data, options, destination, &self.config)
    }

    /// Bytes that `send` can still accept.
    pub fn send_capacity(&self) -> usize {
        self.config
            .send_buffer
            .saturating_sub(self.out.buffered_bytes())
    }

    /// Takes the next received message, if any.
    pub fn recv(&mut self) -> Option<ReceivedMessage> {
        let r = self.recv.as_mut()?;
        let m = r.poll_message()?;
        // RFC 9260 §6.2: a window update goes when reading reopens a window
        // that holds the peer back, and never for a small increase (receiver
        // silly window syndrome avoidance, see `Receiver::window_update_due`).
        if r.window_update_due() {
            self.sack.window_update = true;
        }
        Some(ReceivedMessage {
            stream: m.stream,
            ssn: m.ssn,
            ppid: m.ppid,
            unordered: m.unordered,
            tsn: m.first_tsn,
            data: m.payload,
            complete: m.complete,
            from: m.from,
        })
    }

    /// Number of complete messages ready for `recv`.
    pub fn readable(&self) -> usize {
        self.recv.as_ref().map_or(0, Receiver::ready_messages)
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The earliest instant at which [`Association::handle_timeout`] must be
    /// called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Closed {
            return None;
        }
        // RFC 9260 §8.3, §9.2: heartbeats only while established; once a
        // shutdown starts only T3-rtx and T2-shutdown run.
        let heartbeats = self.state == State::Established;
        let paths = self.paths.iter().flat_map(|p| {
            [
                p.t3_rtx.deadline(),
                p.monitor.next_timer().filter(|_| heartbeats),
            ]
        });
        earliest(
            [
                self.handshake.t1.deadline(),
                self.shutdown.t2.deadline(),
                self.shutdown.t5.deadline(),
                self.sack.timer.deadline(),
            ]
            .into_iter()
            .chain(paths),
        )
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.burst_budget = self.config.max_burst;
        if self.state == State::Closed {
            return;
        }
        if self.handshake.t1.expire(now) {
            self.on_t1_timeout(now);
        }
        if self.shutdown.t2.expire(now) {
            self.on_t2_timeout(now);
        }
        if self.shutdown.t5.expire(now) {
            self.on_t5_timeout(now);
        }
        if self.sack.timer.expire(now) {
            self.sack.send_now = true;
        }
        for i in 0..self.paths.len() {
            if self.state == State::Closed {
                return;
            }
            if self.paths.get_mut(i).t3_rtx.expire(now) {
                self.on_t3_timeout(now, i);
            }
            if self.state != State::Established {
                continue;
            }
            if let Some(expired) = self.paths.get_mut(i).monitor.expire(now) {
                self.on_heartbeat_timer(now, i, expired);
            }
        }
    }

    pub(crate) fn push_event(&mut self, e: Event) {
        if self.events.len() >= self.config.max_queued_events {
            self.events.pop_front();
            self.events_dropped += 1;
        }
        self.events.push_back(e);
    }

    /// Reports a state change of path `i` that its state machine made
    /// (RFC 6458 §6.1.2 peer address change; RFC 9260 §8.2, RFC 7829 §7).
    pub(crate) fn report_path_transition(&mut self, i: usize, t: Option<Transition>) {
        let Some(Transition { from, to }) = t else {
            return;
        };
        let address = self.paths.get(i).remote;
        let change = match to {
            PathState::Active if from == PathState::Unconfirmed => AddressChange::Confirmed,
            PathState::Active => AddressChange::Available,
            PathState::PotentiallyFailed => AddressChange::PotentiallyFailed,
            PathState::Inactive => AddressChange::Unreachable,
            PathState::Unconfirmed => return,
        };
        self.push_event(Event::PeerAddress {
            address,
            change,
            from,
            to,
        });
        // RFC 7829 §6 Primary Path Switchover: the alternate taking over
        // becomes the primary for good.
        if self.config.primary_switchover
            && i == self.paths.primary()
            && matches!(to, PathState::PotentiallyFailed | PathState::Inactive)
        {
            if let Some(alt) = self
                .paths
                .alternate(i)
                .filter(|&a| self.paths.get(a).is_active())
            {
                let addr = self.paths.get(alt).remote;
                self.paths.set_primary(alt);
                self.push_event(Event::PeerAddress {
                    address: addr,
                    change: AddressChange::MadePrimary,
                    from: PathState::Active,
                    to: PathState::Active,
                });
            }
        }
    }

    /// Ends the association: stops every timer, reports the reason.
    pub(crate) fn close(&mut self, event: AssociationChange) {
        if self.state == State::Closed {
            return;
        }
        self.state = State::Closed;
        self.close_reason = match &event {
            AssociationChange::CommLost { reason } => Some(reason.clone()),
            AssociationChange::CantStartAssociation { reason } => Some(reason.clone()),
            _ => None,
        };
        self.reset_timers();
        for (stream, ppid, data, sent) in self.out.drain_unacked() {
            self.push_event(Event::SendFailed {
                stream,
                ppid,
                data,
                sent,
            });
        }
        self.push_event(Event::Association(event));
    }

    /// Resets the transmission control block's timers and the indices into
    /// the path list, as restart (RFC 9260 §5.2.4 case A), an INIT
    /// collision (case B), a stale-cookie restart (§5.2.6) and close need:
    /// every timer stopped (T1, T2, T5, delayed SACK, and each path's T3
    /// and heartbeat timer) and no index left pointing at a path that may
    /// no longer exist.
    pub(crate) fn reset_timers(&mut self) {
        self.handshake.t1.stop();
        self.shutdown.t2.stop();
        self.shutdown.t5.stop();
        self.shutdown.path = 0;
        self.sack = sack::SackState::default();
        for p in self.paths.iter_mut() {
            p.t3_rtx.stop();
            p.monitor.stop();
        }
    }

    /// Counts an unanswered retransmission against the association (RFC 9260
    /// §8.1); fails the association past Association.Max.Retrans.
    pub(crate) fn count_association_error(&mut self) {
        self.error_count += 1;
        if self.error_count > self.config.association_max_retrans {
            self.queue_abort_and_close(
                None,
                AssociationChange::CommLost {
                    reason: CloseReason::RetransmissionLimit,
                },
            );
        }
    }

    /// The local address to use toward `remote`.
    pub(crate) fn source_for(&self, remote: IpAddr) -> IpAddr {
        crate::path::select_source(&*self.sources, &self.local_addrs, remote)
    }

    /// Re-selects the source address of every path (the host's routes or
    /// addresses changed).
    pub(crate) fn refresh_sources(&mut self) {
        let locals: Vec<(usize, IpAddr)> = self
            .paths
            .iter()
            .enumerate()
            .map(|(i, p)| (i, self.source_for(p.remote)))
            .collect();
        for (i, local) in locals {
            self.paths.get_mut(i).local = local;
        }
        // Control chunks already queued leave from the new source too.
        for ((src, dst), _) in self.control.iter_mut() {
            if let Some(i) = self.paths.find(*dst) {
                *src = self.paths.get(i).local;
            }
        }
    }

    pub(crate) fn add_path(&mut self, remote: IpAddr, confirmed: bool) -> Option<usize> {
        if let Some(i) = self.paths.find(remote) {
            return Some(i);
        }
        if self.paths.len() >= self.config.max_peer_addresses {
            return None;
        }
        let local = self.source_for(remote);
        let path = Path::new(local, remote, confirmed, &self.config, self.peer.rwnd);
        Some(self.paths.add(path))
    }

    /// Queues a control chunk to go from `dest.0` to `dest.1`.
    pub(crate) fn queue_control(&mut self, dest: (IpAddr, IpAddr), chunk: Chunk) {
        // Bounded: only ABORT and the handshake chunks are never dropped.
        let essential = matches!(
            chunk,
            Chunk::Abort(_) | Chunk::Init(_) | Chunk::CookieEcho(_) | Chunk::CookieAck
        );
        if self.control.len() >= self.config.max_control_chunks && !essential {
            return;
        }
        self.control.push_back((dest, chunk));
    }

    /// Where a reply to a packet from `remote` goes: from the path's routed
    /// source (never from the address the packet arrived on, see
    /// [`crate::path::SourceSelector`]).
    pub(crate) fn reply_dest(&self, remote: IpAddr) -> (IpAddr, IpAddr) {
        match self.paths.find(remote) {
            Some(i) => self.dest_of(i),
            None => (self.source_for(remote), remote),
        }
    }

    /// Like [`Association::reply_dest`], for chunks that must not go to an
    /// unconfirmed address (RFC 9260 §5.4: a COOKIE ACK may only if
    /// bundled with a HEARTBEAT): the path of `remote` if confirmed, else
    /// the primary, which the handshake confirmed.
    pub(crate) fn confirmed_reply_dest(&self, remote: IpAddr) -> (IpAddr, IpAddr) {
        match self.paths.find(remote) {
            Some(i) if self.paths.get(i).is_confirmed() => self.dest_of(i),
            _ => self.primary_dest(),
        }
    }

    /// The (local, peer) addresses of path `i`.
    pub(crate) fn dest_of(&self, i: usize) -> (IpAddr, IpAddr) {
        let p = self.paths.get(i);
        (p.local, p.remote)
    }

    /// The (local, peer) addresses of the primary path.
    pub(crate) fn primary_dest(&self) -> (IpAddr, IpAddr) {
        self.dest_of(self.paths.primary())
    }

    /// The peer reported errors (RFC 9260 §3.3.10).
    pub(crate) fn on_remote_error(&mut self, causes: Vec<ErrorCause>) {
        self.push_event(Event::RemoteError(causes));
    }
}
