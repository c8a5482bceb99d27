//! Paths: one per peer transport address, each a (local address, peer
//! address) pair with its own state, RTO, congestion window, PMTU, error
//! counter, timers and counters (RFC 9260 §6.4, §7.2, §8.2, §8.3; RFC 7829).
//!
//! [`Path`] owns one destination's state; its `Monitor` (in `monitor.rs`)
//! is the path's state machine: confirmation (unconfirmed / probing /
//! confirmed) and reachability (active / potentially failed / inactive) as
//! two states, the error counter, the heartbeat / probe timer and the
//! outstanding probe, driven by the association through a few inputs that
//! return the resulting [`PathState`] transition. [`PathManager`] owns the
//! list, the primary, the choice of destination for new data,
//! retransmissions and replies, and the HB.Max.Burst pacing of probes.

mod congestion;
mod manager;
mod monitor;
mod rtt;
mod source;

use std::net::IpAddr;
use std::time::{Duration, Instant};

pub use congestion::Congestion;
pub use manager::PathManager;
pub use rtt::RttEstimator;
pub use source::{LongestPrefix, SourceSelector, select_source};

pub(crate) use monitor::{Expired, Monitor, Probe, ProbeLoss, Transition};

use crate::config::Config;
use crate::timer::Timer;

/// The state of a path as the application sees it (RFC 9260 §5.4, §8.2;
/// RFC 7829 §5), derived from the path's two state machines
/// (confirmation and reachability, see `path::monitor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathState {
    /// Not yet confirmed by a HEARTBEAT ACK (RFC 9260 §5.4): no DATA goes here.
    Unconfirmed,
    /// Confirmed and reachable.
    Active,
    /// Potentially failed (RFC 7829): a timeout was seen; data avoids it and
    /// it is probed every RTO.
    PotentiallyFailed,
    /// Inactive: Path.Max.Retrans exceeded (RFC 9260 §8.2).
    Inactive,
}

/// Per-path traffic counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PathCounters {
    /// Packets sent to this peer address.
    pub packets_sent: u64,
    /// Bytes (SCTP packet lengths) sent to this peer address.
    pub bytes_sent: u64,
    /// Packets received from this peer address.
    pub packets_received: u64,
    /// Bytes received from this peer address.
    pub bytes_received: u64,
    /// DATA chunks sent for the first time.
    pub data_chunks_sent: u64,
    /// DATA chunks retransmitted to this address.
    pub retransmissions: u64,
    /// T3-rtx expirations on this path.
    pub timeouts: u64,
    /// HEARTBEATs sent.
    pub heartbeats_sent: u64,
    /// HEARTBEAT ACKs received.
    pub heartbeat_acks: u64,
}

/// One destination transport address and the path to it.
#[derive(Debug, Clone)]
pub struct Path {
    /// The local address packets to this destination leave from.
    pub local: IpAddr,
    /// The peer's address.
    pub remote: IpAddr,
    /// Confirmation and reachability, the error counter, the heartbeat /
    /// probe timer and the outstanding probe.
    pub(crate) monitor: Monitor,
    pub(crate) rtt: RttEstimator,
    pub(crate) cc: Congestion,
    pub(crate) pmtu: u32,
    /// T3-rtx (RFC 9260 §6.3.2).
    pub(crate) t3_rtx: Timer,
    pub(crate) counters: PathCounters,
}

impl Path {
    pub(crate) fn new(
        local: IpAddr,
        remote: IpAddr,
        confirmed: bool,
        config: &Config,
        peer_rwnd: u32,
    ) -> Self {
        Path {
            local,
            remote,
            monitor: Monitor::new(confirmed, config),
            rtt: RttEstimator::new(config),
            cc: Congestion::new(config.initial_pmtu, peer_rwnd),
            pmtu: config.initial_pmtu,
            t3_rtx: Timer::default(),
            counters: PathCounters::default(),
        }
    }

    /// The path's state.
    pub fn state(&self) -> PathState {
        self.monitor.state()
    }

    /// True once a HEARTBEAT ACK (or the handshake) confirmed the address.
    pub fn is_confirmed(&self) -> bool {
        self.monitor.is_confirmed()
    }

    /// True if new DATA may be sent here: confirmed and active.
    pub fn is_active(&self) -> bool {
        self.state() == PathState::Active
    }

    /// Consecutive errors (RFC 9260 §8.2).
    pub fn error_count(&self) -> u32 {
        self.monitor.error_count()
    }

    /// The outstanding probe was not answered within one RTO (RFC 9260
    /// §8.3). If the loss counts (see [`Monitor::on_probe_lost`]) the RTO
    /// backs off once, as after a T3-rtx expiry (§6.3.3 E2).
    pub(crate) fn on_probe_lost(&mut self, probe: Probe, data_outstanding: bool) -> ProbeLoss {
        let loss = self.monitor.on_probe_lost(probe, data_outstanding);
        if loss.counted {
            self.rtt.back_off();
        }
        loss
    }

    /// True if the path is idle in the sense of RFC 9260 §8.3: no DATA sent
    /// to it within `interval`.
    pub(crate) fn idle(&self, now: Instant, interval: Duration) -> bool {
        self.cc
            .last_data_sent
            .is_none_or(|t| now.saturating_duration_since(t) >= interval)
    }

    /// Largest SCTP packet for this path: the PMTU less the IP header.
    pub(crate) fn max_packet(&self) -> usize {
        let ip = if self.remote.is_ipv4() { 20 } else { 40 };
        (self.pmtu as usize)
            .saturating_sub(ip)
            .max(msctp_wire::header::HEADER_LEN + 64)
    }

    /// The current retransmission timeout.
    pub fn rto(&self) -> Duration {
        self.rtt.rto()
    }

    /// A snapshot for the application (`Association::paths`).
    pub fn info(&self, primary: bool) -> PathInfo {
        PathInfo {
            local: self.local,
            remote: self.remote,
            state: self.state(),
            primary,
            srtt: self.rtt.srtt(),
            rttvar: self.rtt.rttvar(),
            rto: self.rtt.rto(),
            cwnd: self.cc.cwnd,
            ssthresh: self.cc.ssthresh,
            flight_size: self.cc.flight_size,
            pmtu: self.pmtu,
            error_count: self.monitor.error_count(),
            last_heartbeat_rtt: self.monitor.last_hb_rtt(),
            counters: self.counters,
        }
    }
}

/// What the application can see of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathInfo {
    /// Local address.
    pub local: IpAddr,
    /// Peer address.
    pub remote: IpAddr,
    /// State.
    pub state: PathState,
    /// True for the primary path.
    pub primary: bool,
    /// Smoothed RTT, once measured.
    pub srtt: Option<Duration>,
    /// RTT variation.
    pub rttvar: Duration,
    /// Retransmission timeout.
    pub rto: Duration,
    /// Congestion window, bytes.
    pub cwnd: u32,
    /// Slow-start threshold, bytes.
    pub ssthresh: u32,
    /// Bytes in flight.
    pub flight_size: u32,
    /// Path MTU.
    pub pmtu: u32,
    /// Consecutive errors (RFC 9260 §8.2).
    pub error_count: u32,
    /// RTT of the last acknowledged heartbeat.
    pub last_heartbeat_rtt: Option<Duration>,
    /// Traffic counters.
    pub counters: PathCounters,
}
