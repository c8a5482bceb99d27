//! Ending an association: graceful shutdown with T2-shutdown and
//! T5-shutdown-guard (RFC 9260 §9.2) and abort (§9.1).

use std::time::Instant;

use bytes::Bytes;
use msctp_wire::chunk::{Abort, Shutdown, ShutdownComplete};
use msctp_wire::{Chunk, ErrorCause, Tsn};

use super::{Association, State};
use crate::event::{AssociationChange, CloseReason, Event};
use crate::timer::Timer;

/// Shutdown timers.
#[derive(Debug, Default)]
pub(crate) struct ShutdownState {
    /// T2-shutdown (RFC 9260 §9.2).
    pub t2: Timer,
    /// T5-shutdown-guard (RFC 9260 §9.2).
    pub t5: Timer,
    /// Which path the last SHUTDOWN / SHUTDOWN ACK went to.
    pub path: usize,
}

impl Association {
    /// Starts a graceful shutdown (RFC 9260 §9.2): queued data is still sent
    /// and acknowledged, then SHUTDOWN. No new data is accepted.
    pub fn shutdown(&mut self, now: Instant) {
        match self.state {
            State::Established => {
                self.state = State::ShutdownPending;
                self.on_all_acked(now);
            }
            State::CookieWait | State::CookieEchoed => {
                // Nothing established yet: the peer holds no state for us
                // in COOKIE-WAIT; in COOKIE-ECHOED, ABORT it.
                self.abort(now, None);
            }
            _ => {}
        }
    }

    /// Aborts the association (RFC 9260 §9.1): ABORT is sent at once, all
    /// data is dropped (reported as SendFailed), and the association closes.
    /// `reason` goes into a User-Initiated Abort cause.
    pub fn abort(&mut self, _now: Instant, reason: Option<Bytes>) {
        if self.state == State::Closed {
            return;
        }
        let cause = reason.map(ErrorCause::UserInitiatedAbort);
        let send = self.state != State::CookieWait;
        let causes = cause.into_iter().collect();
        if send {
            self.queue_control(
                self.primary_dest(),
                Chunk::Abort(Abort {
                    t_bit: false,
                    causes,
                }),
            );
        }
        self.close(AssociationChange::CommLost {
            reason: CloseReason::LocalAbort,
        });
    }

    /// Sends ABORT (with `cause`, if any) and closes with `event`.
    pub(crate) fn queue_abort_and_close(
        &mut self,
        cause: Option<ErrorCause>,
        event: AssociationChange,
    ) {
        if self.state == State::Closed {
            return;
        }
        if !self.paths.is_empty() && self.state != State::CookieWait {
            self.queue_control(
                self.primary_dest(),
                Chunk::Abort(Abort {
                    t_bit: false,
                    causes: cause.into_iter().collect(),
                }),
            );
        }
        self.close(event);
    }

    /// Called whenever all sent data may have been acknowledged: moves the
    /// shutdown along (RFC 9260 §9.2).
    pub(crate) fn on_all_acked(&mut self, now: Instant) {
        if !self.out.is_empty() {
            return;
        }
        match self.state {
            State::ShutdownPending => {
                self.send_shutdown(now);
                self.state = State::ShutdownSent;
                // T5-shutdown-guard: 5 times RTO.Max is the suggested value.
                self.shutdown.t5.set(now + 5 * self.config.rto_max);
            }
            State::ShutdownReceived => {
                self.send_shutdown_ack(now);
                self.state = State::ShutdownAckSent;
            }
            _ => {}
        }
    }

    fn cum_tsn_for_shutdown(&self) -> Tsn {
        self.recv.as_ref().map_or(Tsn(0), |r| r.cum_tsn())
    }

    fn shutdown_path(&self) -> usize {
        self.paths.data_destination(None)
    }

    fn send_shutdown(&mut self, now: Instant) {
        let p = self.shutdown_path();
        self.shutdown.path = p;
        let cum_tsn_ack = self.cum_tsn_for_shutdown();
        self.queue_control(self.dest_of(p), Chunk::Shutdown(Shutdown { cum_tsn_ack }));
        let rto = self.paths.get(p).rto();
        self.shutdown.t2.set(now + rto);
    }

    fn send_shutdown_ack(&mut self, now: Instant) {
        let p = self.shutdown_path();
        self.shutdown.path = p;
        self.queue_control(self.dest_of(p), Chunk::ShutdownAck);
        let rto = self.paths.get(p).rto();
        self.shutdown.t2.set(now + rto);
    }

    /// RFC 9260 §9.2: DATA arrived in SHUTDOWN-SENT: send SHUTDOWN again
    /// (one queued at a time) and restart T2-shutdown.
    pub(crate) fn resend_shutdown(&mut self, now: Instant) {
        if self.state != State::ShutdownSent {
            return;
        }
        self.control
            .retain(|(_, c)| !matches!(c, Chunk::Shutdown(_)));
        self.send_shutdown(now);
    }

    /// RFC 9260 §9.2: an INIT arrived in SHUTDOWN-ACK-SENT; send the
    /// SHUTDOWN ACK again.
    pub(crate) fn resend_shutdown_ack(&mut self, now: Instant) {
        if self.state == State::ShutdownAckSent {
            self.send_shutdown_ack(now);
        }
    }

    /// RFC 9260 §9.2: T2-shutdown expired: retransmit SHUTDOWN or SHUTDOWN
    /// ACK (to an alternate address if there is one), counting an error.
    pub(crate) fn on_t2_timeout(&mut self, now: Instant) {
        if self.shutdown.path >= self.paths.len() {
            self.shutdown.path = self.paths.primary();
        }
        let p = self.shutdown.path;
        self.paths.get_mut(p).rtt.back_off();
        self.count_path_error(p, now);
        self.count_association_error();
        if self.is_closed() {
            return;
        }
        match self.state {
            State::ShutdownSent => self.send_shutdown(now),
            State::ShutdownAckSent => self.send_shutdown_ack(now),
            _ => {}
        }
    }

    /// RFC 9260 §9.2: T5-shutdown-guard expired: abort.
    pub(crate) fn on_t5_timeout(&mut self, _now: Instant) {
        self.queue_abort_and_close(
            None,
            AssociationChange::CommLost {
                reason: CloseReason::ShutdownGuardExpired,
            },
        );
    }

    /// RFC 9260 §9.2: SHUTDOWN received.
    pub(crate) fn on_shutdown(&mut self, now: Instant, s: &Shutdown) {
        match self.state {
            State::Established | State::ShutdownPending => {
                self.ack_up_to(now, s.cum_tsn_ack);
                self.state = State::ShutdownReceived;
                self.push_event(Event::Shutdown);
                self.on_all_acked(now);
            }
            State::ShutdownReceived => self.ack_up_to(now, s.cum_tsn_ack),
            State::ShutdownSent => {
                // Both sides shut down at once: answer with SHUTDOWN ACK.
                self.ack_up_to(now, s.cum_tsn_ack);
                self.shutdown.t2.stop();
                self.send_shutdown_ack(now);
                self.state = State::ShutdownAckSent;
            }
            _ => {}
        }
    }

    /// The Cumulative TSN Ack of a SHUTDOWN acknowledges like a SACK without
    /// gaps (RFC 9260 §9.2).
    fn ack_up_to(&mut self, now: Instant, cum: Tsn) {
        if cum > self.out.cum_ack && cum <= self.out.highest_sent() {
            let sack = msctp_wire::chunk::Sack {
                cum_tsn_ack: cum,
                a_rwnd: self.out.peer_rwnd + self.out.unacked_bytes(),
                gap_blocks: vec![],
                dup_tsns: vec![],
            };
            self.on_sack(now, &sack);
        }
    }

    /// RFC 9260 §9.2: SHUTDOWN ACK received.
    pub(crate) fn on_shutdown_ack(&mut self, _now: Instant) {
        if matches!(self.state, State::ShutdownSent | State::ShutdownAckSent) {
            let p = self.shutdown.path;
            self.queue_control(
                self.dest_of(p),
                Chunk::ShutdownComplete(ShutdownComplete { t_bit: false }),
            );
            self.close(AssociationChange::ShutdownComplete);
        }
    }

    /// RFC 9260 §9.2: SHUTDOWN COMPLETE received.
    pub(crate) fn on_shutdown_complete(&mut self) {
        if self.state == State::ShutdownAckSent {
            self.close(AssociationChange::ShutdownComplete);
        }
    }

    /// RFC 9260 §9.1: ABORT received.
    pub(crate) fn on_abort(&mut self, abort: Abort) {
        let reason = CloseReason::PeerAborted(abort.causes);
        let event = match self.state {
            State::CookieWait | State::CookieEchoed => {
                AssociationChange::CantStartAssociation { reason }
            }
            _ => AssociationChange::CommLost { reason },
        };
        self.close(event);
    }
}
