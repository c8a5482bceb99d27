//! The state machine of one path: confirmation (RFC 9260 §5.4) and
//! reachability (RFC 9260 §8.2, §8.3; RFC 7829 §5) as two separate states,
//! with the path's error counter, its heartbeat / probe timer and the
//! outstanding probe.
//!
//! The association drives it through a few inputs (a probe was sent, a
//! probe was acknowledged, a probe was lost, a retransmission timeout, data
//! sent there was acknowledged, an ICMP unreachable) and reports the
//! [`Transition`] each returns; nothing else writes these fields.

use std::time::{Duration, Instant};

use super::PathState;
use crate::config::Config;
use crate::timer::Timer;

/// Whether the peer address is known to be the peer's (RFC 9260 §5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Confirmation {
    /// Never confirmed, no probe in flight.
    Unconfirmed,
    /// A HEARTBEAT with a nonce is in flight to the (unconfirmed) address.
    Probing,
    /// Confirmed: by the handshake (§5.4 rules 1, 2) or by a HEARTBEAT ACK
    /// echoing the nonce of the probe sent there.
    Confirmed,
}

/// Whether the path works (RFC 9260 §8.2; RFC 7829 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reachability {
    /// Errors at most PFMR (or no error).
    Active,
    /// More than PFMR consecutive errors, at most Path.Max.Retrans.
    PotentiallyFailed,
    /// More than Path.Max.Retrans consecutive errors.
    Inactive,
}

/// A change of the application-visible state of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transition {
    pub from: PathState,
    pub to: PathState,
}

/// A heartbeat in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Probe {
    pub nonce: u64,
    pub sent_at: Instant,
    /// False once something else (a T3-rtx expiry) counted an error on the
    /// path while this probe was out: its own loss then counts nothing.
    pub counts: bool,
}

/// What the path's timer meant when it fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expired {
    /// The outstanding probe was not answered within one RTO.
    ProbeLost(Probe),
    /// A heartbeat is due (or its sending is to be reconsidered).
    HeartbeatDue,
}

/// The outcome of a lost probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProbeLoss {
    /// True if the loss counted as an error of the path (and backs off
    /// its RTO).
    pub counted: bool,
    pub transition: Option<Transition>,
}

/// One path's confirmation and reachability state machine.
#[derive(Debug, Clone)]
pub(crate) struct Monitor {
    confirmation: Confirmation,
    reachability: Reachability,
    error_count: u32,
    probe: Option<Probe>,
    /// While a probe is out: its timeout. Otherwise: when the next
    /// heartbeat is due.
    timer: Timer,
    last_icmp_error: Option<Instant>,
    last_hb_rtt: Option<Duration>,
    path_max_retrans: u32,
    pf_max_retrans: Option<u32>,
}

impl Monitor {
    pub(crate) fn new(confirmed: bool, config: &Config) -> Self {
        Monitor {
            confirmation: if confirmed {
                Confirmation::Confirmed
            } else {
                Confirmation::Unconfirmed
            },
            reachability: Reachability::Active,
            error_count: 0,
            probe: None,
            timer: Timer::default(),
            last_icmp_error: None,
            last_hb_rtt: None,
            path_max_retrans: config.path_max_retrans,
            pf_max_retrans: config.pf_max_retrans,
        }
    }

    /// The application's view: unconfirmed until confirmed, then the
    /// reachability.
    pub(crate) fn state(&self) -> PathState {
        match (self.confirmation, self.reachability) {
            (Confirmation::Unconfirmed | Confirmation::Probing, _) => PathState::Unconfirmed,
            (Confirmation::Confirmed, Reachability::Active) => PathState::Active,
            (Confirmation::Confirmed, Reachability::PotentiallyFailed) => {
                PathState::PotentiallyFailed
            }
            (Confirmation::Confirmed, Reachability::Inactive) => PathState::Inactive,
        }
    }

    #[cfg(test)]
    pub(crate) fn confirmation(&self) -> Confirmation {
        self.confirmation
    }

    pub(crate) fn is_confirmed(&self) -> bool {
        self.confirmation == Confirmation::Confirmed
    }

    pub(crate) fn error_count(&self) -> u32 {
        self.error_count
    }

    pub(crate) fn last_hb_rtt(&self) -> Option<Duration> {
        self.last_hb_rtt
    }

    pub(crate) fn probe_outstanding(&self) -> bool {
        self.probe.is_some()
    }

    /// The instant the path's timer fires, if armed.
    pub(crate) fn next_timer(&self) -> Option<Instant> {
        self.timer.deadline()
    }

    /// Arms the timer for the next heartbeat (not while a probe is out:
    /// then the timer is its timeout).
    pub(crate) fn schedule(&mut self, at: Instant) {
        if self.probe.is_none() {
            self.timer.set(at);
        }
    }

    /// Stops the timer and forgets the outstanding probe.
    pub(crate) fn stop(&mut self) {
        self.timer.stop();
        self.probe = None;
        if self.confirmation == Confirmation::Probing {
            self.confirmation = Confirmation::Unconfirmed;
        }
    }

    /// If the timer is due at `now`, disarms it and says what it meant.
    pub(crate) fn expire(&mut self, now: Instant) -> Option<Expired> {
        if !self.timer.expire(now) {
            return None;
        }
        Some(match self.probe {
            Some(p) => Expired::ProbeLost(p),
            None => Expired::HeartbeatDue,
        })
    }

    fn transition(&self, from: PathState) -> Option<Transition> {
        let to = self.state();
        (from != to).then_some(Transition { from, to })
    }

    /// A HEARTBEAT with `nonce` went out at `now`; it is lost unless
    /// answered within `rto` (RFC 9260 §8.3).
    pub(crate) fn on_probe_sent(&mut self, now: Instant, nonce: u64, rto: Duration) {
        self.probe = Some(Probe {
            nonce,
            sent_at: now,
            counts: true,
        });
        if self.confirmation == Confirmation::Unconfirmed {
            self.confirmation = Confirmation::Probing;
        }
        self.timer.set(now + rto);
    }

    /// A HEARTBEAT ACK echoing `nonce` arrived at `now`. Only the nonce of
    /// the probe in flight counts (RFC 9260 §5.4): anything else is
    /// ignored (`None`). Otherwise the address is confirmed and the path
    /// active, its error counter cleared (§8.3); returns the round trip
    /// and the transition. The caller schedules the next heartbeat.
    pub(crate) fn on_probe_acked(
        &mut self,
        now: Instant,
        nonce: u64,
    ) -> Option<(Duration, Option<Transition>)> {
        let probe = self.probe.filter(|p| p.nonce == nonce)?;
        let from = self.state();
        self.probe = None;
        self.timer.stop();
        let rtt = now.saturating_duration_since(probe.sent_at);
        self.last_hb_rtt = Some(rtt);
        self.error_count = 0;
        self.confirmation = Confirmation::Confirmed;
        self.reachability = Reachability::Active;
        Some((rtt, self.transition(from)))
    }

    /// The outstanding probe `probe` was not answered within one RTO.
    /// RFC 9260 §8.3 counts it as an error of the destination, but a path
    /// that has data outstanding is driven by its T3-rtx timer (§6.3.3,
    /// §8.2; RFC 7829 §5): the probe then counts nothing, and neither does
    /// one whose path already counted a T3-rtx expiry while it was out.
    /// One timeout, one error.
    pub(crate) fn on_probe_lost(&mut self, probe: Probe, data_outstanding: bool) -> ProbeLoss {
        self.probe = None;
        if self.confirmation == Confirmation::Probing {
            self.confirmation = Confirmation::Unconfirmed;
        }
        let counted = probe.counts && !data_outstanding;
        let transition = if counted {
            self.on_timeout_error()
        } else {
            None
        };
        ProbeLoss {
            counted,
            transition,
        }
    }

    /// Counts one error (a T3-rtx or T2-shutdown expiry, a counted probe
    /// loss, an ICMP unreachable) and applies the thresholds: more than
    /// PFMR errors makes an active path potentially failed (RFC 7829 §5),
    /// more than Path.Max.Retrans makes it inactive (RFC 9260 §8.2). An
    /// unconfirmed address only counts (its probes back off). Once
    /// inactive the counter no longer grows (§8.3).
    pub(crate) fn on_timeout_error(&mut self) -> Option<Transition> {
        let from = self.state();
        if let Some(p) = self.probe.as_mut() {
            p.counts = false;
        }
        if self.reachability == Reachability::Inactive {
            return None;
        }
        self.error_count = self.error_count.saturating_add(1);
        if self.confirmation != Confirmation::Confirmed {
            return None;
        }
        if self.error_count > self.path_max_retrans {
            self.reachability = Reachability::Inactive;
        } else if self.pf_max_retrans.is_some_and(|pf| self.error_count > pf)
            && self.reachability == Reachability::Active
        {
            self.reachability = Reachability::PotentiallyFailed;
        }
        self.transition(from)
    }

    /// Data last sent on this path was acknowledged: the error counter is
    /// cleared (RFC 9260 §8.3) and a confirmed path that was potentially
    /// failed or inactive is active again (RFC 7829 §5, RFC 9260 §8.2).
    /// Acknowledged data never confirms an address: only a HEARTBEAT ACK
    /// with the probe's nonce does (§5.4), and no DATA goes to an
    /// unconfirmed address anyway.
    pub(crate) fn on_data_acked(&mut self) -> Option<Transition> {
        let from = self.state();
        self.error_count = 0;
        if self.confirmation == Confirmation::Confirmed {
            self.reachability = Reachability::Active;
        }
        self.transition(from)
    }

    /// A validated ICMP unreachable for this path (RFC 9260 Appendix C
    /// ICMP9) at `now`. At most one per `rto` counts (a burst of ICMP
    /// errors for one window of data is one event): `None` if this one does
    /// not. Otherwise an active path becomes potentially failed at once
    /// whatever PFMR (SCTP-PF, RFC 7829 §5), and one error is counted;
    /// returns the transition, if any.
    pub(crate) fn on_icmp_unreachable(
        &mut self,
        now: Instant,
        rto: Duration,
    ) -> Option<Option<Transition>> {
        if self
            .last_icmp_error
            .is_some_and(|t| now.saturating_duration_since(t) < rto)
        {
            return None;
        }
        self.last_icmp_error = Some(now);
        let from = self.state();
        if self.confirmation == Confirmation::Confirmed
            && self.reachability == Reachability::Active
            && self.pf_max_retrans.is_some()
        {
            self.reachability = Reachability::PotentiallyFailed;
        }
        self.on_timeout_error();
        Some(self.transition(from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pf: Option<u32>) -> Config {
        Config {
            pf_max_retrans: pf,
            ..Config::default()
        }
    }

    #[allow(clippy::disallowed_methods)]
    fn t0() -> Instant {
        Instant::now()
    }

    /// RFC 7829 §5, RFC 9260 §8.2: PFMR 0 makes the first error PF; more
    /// than Path.Max.Retrans (5) makes it inactive; acked data makes it
    /// active again.
    #[test]
    fn thresholds() {
        let mut m = Monitor::new(true, &cfg(Some(0)));
        let t = m.on_timeout_error().unwrap();
        assert_eq!(t.to, PathState::PotentiallyFailed);
        for _ in 0..4 {
            assert_eq!(m.on_timeout_error(), None);
        }
        assert_eq!(m.on_timeout_error().unwrap().to, PathState::Inactive);
        assert_eq!(m.error_count(), 6);
        assert_eq!(m.on_timeout_error(), None, "§8.3: no more counting");
        assert_eq!(m.error_count(), 6);
        assert_eq!(m.on_data_acked().unwrap().to, PathState::Active);
        assert_eq!(m.error_count(), 0);
    }

    /// RFC 9260 §5.4: only the nonce of the probe in flight confirms; a
    /// lost probe to an unconfirmed address leaves it unconfirmed, and
    /// acknowledged data does not confirm it.
    #[test]
    fn confirmation_needs_the_nonce() {
        let now = t0();
        let mut m = Monitor::new(false, &cfg(Some(0)));
        assert_eq!(m.on_data_acked(), None);
        assert_eq!(m.state(), PathState::Unconfirmed);
        m.on_probe_sent(now, 7, Duration::from_secs(1));
        assert_eq!(m.confirmation(), Confirmation::Probing);
        assert_eq!(m.on_probe_acked(now, 8), None);
        let Some(Expired::ProbeLost(p)) = m.expire(now + Duration::from_secs(1)) else {
            panic!()
        };
        let loss = m.on_probe_lost(p, false);
        assert!(loss.counted);
        assert_eq!(loss.transition, None);
        assert_eq!(m.confirmation(), Confirmation::Unconfirmed);
        m.on_probe_sent(now, 9, Duration::from_secs(2));
        let (_, t) = m.on_probe_acked(now, 9).unwrap();
        assert_eq!(
            t,
            Some(Transition {
                from: PathState::Unconfirmed,
                to: PathState::Active
            })
        );
        assert_eq!(m.error_count(), 0);
    }

    /// RFC 9260 §8.3, §6.3.3: a probe lost while data is outstanding, or
    /// after a T3-rtx expiry counted an error during its flight, counts
    /// nothing.
    #[test]
    fn one_error_per_timeout() {
        let now = t0();
        let mut m = Monitor::new(true, &cfg(Some(0)));
        m.on_probe_sent(now, 1, Duration::from_secs(1));
        assert!(m.on_timeout_error().is_some(), "T3-rtx");
        let Some(Expired::ProbeLost(p)) = m.expire(now + Duration::from_secs(1)) else {
            panic!()
        };
        assert!(!m.on_probe_lost(p, false).counted);
        assert_eq!(m.error_count(), 1);
        m.on_probe_sent(now, 2, Duration::from_secs(1));
        let Some(Expired::ProbeLost(p)) = m.expire(now + Duration::from_secs(1)) else {
            panic!()
        };
        assert!(!m.on_probe_lost(p, true).counted, "T3-rtx drives the path");
        assert_eq!(m.error_count(), 1);
    }
}
