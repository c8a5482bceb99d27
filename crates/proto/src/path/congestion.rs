//! Congestion control of one destination (RFC 9260 §7.2): cwnd, ssthresh,
//! partial_bytes_acked and the bytes in flight, kept per path as §7.2 requires
//! for a multi-homed endpoint.

use std::time::{Duration, Instant};

use msctp_wire::Tsn;

/// Congestion state of one destination.
#[derive(Debug, Clone)]
pub struct Congestion {
    /// Congestion window, bytes.
    pub cwnd: u32,
    /// Slow-start threshold, bytes.
    pub ssthresh: u32,
    /// partial_bytes_acked (RFC 9260 §7.2.2).
    pub partial_bytes_acked: u32,
    /// Bytes of DATA sent to this destination and not yet acknowledged.
    pub flight_size: u32,
    /// While in fast recovery: the highest TSN outstanding when it began
    /// (RFC 9260 §7.2.4).
    pub fast_recovery_exit: Option<Tsn>,
    /// When data was last sent to this destination.
    pub last_data_sent: Option<Instant>,
    mtu: u32,
}

impl Congestion {
    /// RFC 9260 §7.2.1: cwnd starts at min(4 MTU, max(2 MTU, 4404)); ssthresh
    /// starts at the peer's advertised window.
    pub fn new(mtu: u32, peer_rwnd: u32) -> Self {
        Congestion {
            cwnd: Self::initial_cwnd(mtu),
            ssthresh: peer_rwnd.max(1),
            partial_bytes_acked: 0,
            flight_size: 0,
            fast_recovery_exit: None,
            last_data_sent: None,
            mtu,
        }
    }

    fn initial_cwnd(mtu: u32) -> u32 {
        (4 * mtu).min((2 * mtu).max(4404))
    }

    /// Updates the path MTU the window arithmetic uses.
    pub fn set_mtu(&mut self, mtu: u32) {
        self.mtu = mtu;
    }

    /// Bytes that may still be sent now (RFC 9260 §6.1 rule B).
    pub fn available(&self) -> u32 {
        self.cwnd.saturating_sub(self.flight_size)
    }

    /// RFC 9260 §7.2.1: after an idle period longer than the RTO, cwnd is
    /// reset to its initial value (and never grows past what was used).
    pub fn on_before_send(&mut self, now: Instant, rto: Duration) {
        if self.flight_size == 0 {
            if let Some(last) = self.last_data_sent {
                if now.saturating_duration_since(last) > rto {
                    self.cwnd = self.cwnd.min(Self::initial_cwnd(self.mtu));
                }
            }
        }
    }

    /// Records `bytes` of DATA sent (or retransmitted) now.
    pub fn on_sent(&mut self, now: Instant, bytes: u32) {
        self.flight_size = self.flight_size.saturating_add(bytes);
        self.last_data_sent = Some(now);
    }

    /// Removes `bytes` from the flight without any window growth (chunks
    /// acknowledged by gap blocks, or abandoned).
    pub fn on_removed(&mut self, bytes: u32) {
        self.flight_size = self.flight_size.saturating_sub(bytes);
    }

    /// A SACK newly acknowledged `acked` bytes sent to this destination
    /// (cumulatively or by gap blocks). `cum_advanced` says whether it moved
    /// the cumulative ack point over data sent here, `was_cwnd_limited`
    /// whether the flight filled cwnd before the SACK (the growth conditions
    /// of RFC 9260 §7.2.1 and §7.2.2). `cum_tsn` is the new cumulative ack.
    pub fn on_sack(
        &mut self,
        acked: u32,
        cum_advanced: bool,
        was_cwnd_limited: bool,
        cum_tsn: Tsn,
    ) {
        if let Some(exit) = self.fast_recovery_exit {
            // RFC 9260 §7.2.4: fast recovery ends once the highest TSN
            // outstanding at its start is acknowledged; no growth meanwhile.
            if cum_tsn >= exit {
                self.fast_recovery_exit = None;
            }
            return;
        }
        if acked == 0 {
            return;
        }
        if self.cwnd <= self.ssthresh {
            // RFC 9260 §7.2.1 slow start: grow by at most one MTU per SACK,
            // only when the window was fully used and the cum ack advanced.
            if was_cwnd_limited && cum_advanced {
                self.cwnd = self.cwnd.saturating_add(acked.min(self.mtu));
            }
        } else {
            // RFC 9260 §7.2.2 congestion avoidance.
            self.partial_bytes_acked = self.partial_bytes_acked.saturating_add(acked);
            if self.partial_bytes_acked >= self.cwnd && was_cwnd_limited {
                self.partial_bytes_acked -= self.cwnd;
                self.cwnd = self.cwnd.saturating_add(self.mtu);
            }
        }
    }

    /// `bytes` gap-acknowledged before are outstanding again: the peer
    /// reneged (RFC 9260 §6.2.1 D.iv); they count in flight again.
    pub fn on_reneged(&mut self, bytes: u32) {
        self.flight_size = self.flight_size.saturating_add(bytes);
    }

    /// RFC 9260 §7.2.2: when all data sent to the destination is acknowledged,
    /// partial_bytes_acked is reset.
    pub fn on_flight_empty(&mut self) {
        if self.flight_size == 0 {
            self.partial_bytes_acked = 0;
        }
    }

    /// RFC 9260 §7.2.3: T3-rtx expired on this destination.
    pub fn on_timeout(&mut self) {
        self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
        self.cwnd = self.mtu;
        self.partial_bytes_acked = 0;
        self.fast_recovery_exit = None;
    }

    /// RFC 9260 §7.2.4: entering fast recovery on a fast retransmit; the
    /// window is reduced once per recovery. Returns false if already in it.
    pub fn on_fast_retransmit(&mut self, highest_outstanding: Tsn) -> bool {
        if self.fast_recovery_exit.is_some() {
            return false;
        }
        self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
        self.cwnd = self.ssthresh;
        self.partial_bytes_acked = 0;
        self.fast_recovery_exit = Some(highest_outstanding);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9260 §7.2.1: initial cwnd for a 1500-byte MTU is 4404.
    #[test]
    fn initial_window() {
        assert_eq!(Congestion::new(1500, 100_000).cwnd, 4404);
        assert_eq!(Congestion::new(9000, 100_000).cwnd, 18000);
        assert_eq!(Congestion::new(1000, 100_000).cwnd, 4000);
    }

    /// RFC 9260 §7.2.1: slow start grows by at most one MTU per SACK.
    #[test]
    fn slow_start() {
        let mut c = Congestion::new(1500, 100_000);
        c.on_sack(3000, true, true, Tsn(1));
        assert_eq!(c.cwnd, 4404 + 1500);
        c.on_sack(3000, true, false, Tsn(2));
        assert_eq!(c.cwnd, 4404 + 1500, "no growth when not cwnd-limited");
    }

    /// RFC 9260 §7.2.2: congestion avoidance grows one MTU per cwnd acked.
    #[test]
    fn congestion_avoidance() {
        let mut c = Congestion::new(1500, 6000);
        c.cwnd = 6000;
        c.ssthresh = 5000;
        c.on_sack(3000, true, true, Tsn(1));
        assert_eq!(c.cwnd, 6000);
        c.on_sack(3000, false, true, Tsn(2));
        assert_eq!(c.cwnd, 7500);
        assert_eq!(c.partial_bytes_acked, 0);
    }

    /// RFC 9260 §7.2.3 and §7.2.4: timeout and fast retransmit reductions.
    #[test]
    fn reductions() {
        let mut c = Congestion::new(1500, 100_000);
        c.cwnd = 20_000;
        c.on_timeout();
        assert_eq!((c.cwnd, c.ssthresh), (1500, 10_000));
        c.cwnd = 20_000;
        assert!(c.on_fast_retransmit(Tsn(10)));
        assert_eq!((c.cwnd, c.ssthresh), (10_000, 10_000));
        assert!(!c.on_fast_retransmit(Tsn(12)), "once per recovery");
        c.on_sack(1500, true, true, Tsn(9));
        assert_eq!(c.cwnd, 10_000, "no growth during fast recovery");
        c.on_sack(1500, true, true, Tsn(10));
        assert!(c.fast_recovery_exit.is_none());
    }
}
