//! SACK on both sides.
//!
//! Receiver side (RFC 9260 §6.2): when to acknowledge (every second packet
//! with DATA, after the delayed-SACK timeout, at once on gaps, duplicates or
//! the I bit) and to which address (§6.4: the source of the DATA).
//!
//! Sender side (RFC 9260 §6.2.1, §6.3, §7.2): processing a received SACK:
//! the cumulative ack and gap blocks, the peer's window, RTT samples, error
//! counters, congestion windows, T3-rtx timers and fast-retransmit miss
//! indications.

use std::net::IpAddr;
use std::time::Instant;

use msctp_wire::Tsn;
use msctp_wire::chunk::Sack;

use super::{Association, State};
use crate::event::Event;
use crate::path::PathState;
use crate::timer::Timer;

/// Receiver-side SACK bookkeeping.
#[derive(Debug, Default)]
pub(crate) struct SackState {
    /// Delayed SACK timer (RFC 9260 §6.2).
    pub timer: Timer,
    /// A SACK must go out with the next packet.
    pub send_now: bool,
    /// Packets with DATA received since the last SACK.
    pub packets_since: u32,
    /// The peer address the last DATA arrived from.
    pub reply_to: Option<IpAddr>,
    /// DATA arrived from more than one address since the last SACK.
    pub multiple_sources: bool,
    /// The a_rwnd of the last SACK sent.
    pub advertised_rwnd: u32,
    /// The window reopened: tell the peer.
    pub window_update: bool,
}

impl SackState {
    /// A SACK is due.
    pub fn due(&self) -> bool {
        self.send_now || self.window_update
    }
}

impl Association {
    /// Receiver side: a packet carrying DATA arrived from `remote` on `local`.
    /// `immediate` if a gap, a duplicate or the I bit asks for a SACK now.
    pub(crate) fn on_data_packet(
        &mut self,
        now: Instant,
        local: IpAddr,
        remote: IpAddr,
        immediate: bool,
    ) {
        let s = &mut self.sack;
        let _ = local;
        if let Some(r) = s.reply_to {
            if r != remote && s.packets_since > 0 {
                s.multiple_sources = true;
            }
        }
        s.reply_to = Some(remote);
        s.packets_since += 1;
        if self.state == State::ShutdownSent {
            // RFC 9260 §9.2: in SHUTDOWN-SENT each packet with DATA is
            // answered at once with a SHUTDOWN (its Cumulative TSN Ack
            // acknowledges), and T2-shutdown restarts. Gaps or duplicates
            // still get a SACK, which alone can report them.
            if immediate {
                s.send_now = true;
            }
            self.resend_shutdown(now);
            return;
        }
        // RFC 9260 §6.2: acknowledge at least every second packet; at once
        // when something is missing or duplicated (§6.7) or asked (RFC 7053).
        if immediate || s.packets_since >= self.config.sack_freq {
            s.send_now = true;
        } else if !s.timer.is_running() {
            s.timer.set(now + self.config.sack_delay);
        }
    }

    /// Receiver side: builds the SACK to send now, and where it goes.
    pub(crate) fn take_sack(&mut self) -> Option<(Sack, (IpAddr, IpAddr))> {
        let recv = self.recv.as_mut()?;
        let sack = recv.build_sack();
        let s = &mut self.sack;
        s.timer.stop();
        s.send_now = false;
        s.window_update = false;
        s.packets_since = 0;
        s.advertised_rwnd = sack.a_rwnd;
        s.multiple_sources = false;
        let dest = self.sack_destination()?;
        Some((sack, dest))
    }

    /// Where the SACK due now goes. RFC 9260 §6.4: to the source of the
    /// DATA it acknowledges (with several sources, any of them; the latest
    /// is the one known to work right now: during a failover the primary
    /// may be dead while the peer's retransmissions arrive on another
    /// path). RFC 9260 §5.4: never to an unconfirmed address, and not to a
    /// path we consider failed while an active one exists: then to the
    /// destination of new data. Always from the path's routed source.
    pub(crate) fn sack_destination(&self) -> Option<(IpAddr, IpAddr)> {
        self.recv.as_ref()?;
        if self.paths.is_empty() {
            return None;
        }
        let latest = self.sack.reply_to.and_then(|r| self.paths.find(r));
        let i = match latest {
            Some(i) if self.paths.get(i).is_active() => i,
            _ => {
                let d = self.paths.data_destination(None);
                match latest {
                    Some(i)
                        if !self.paths.get(d).is_confirmed()
                            && self.paths.get(i).is_confirmed() =>
                    {
                        i
                    }
                    _ => d,
                }
            }
        };
        Some(self.dest_of(i))
    }

    /// Sender side: processes a SACK (RFC 9260 §6.2.1).
    pub(crate) fn on_sack(&mut self, now: Instant, sack: &Sack) {
        let cum = sack.cum_tsn_ack;
        // RFC 9260 §6.2.1 D.i: a SACK older than the ack point is dropped.
        if cum < self.out.cum_ack {
            return;
        }
        if cum > self.out.highest_sent() {
            // Acknowledging a TSN never sent: ignore the SACK rather than let
            // a forged or broken one remove data (RFC 9260 §6.2.1 notes a
            // cum ack beyond any TSN sent is a protocol violation).
            return;
        }
        let npaths = self.paths.len();
        let cwnd_limited: Vec<bool> = self
            .paths
            .iter()
            .map(|p| p.cc.flight_size + p.pmtu >= p.cc.cwnd)
            .collect();
        let mut acked_bytes = vec![0u32; npaths];
        let mut cum_advanced_on = vec![false; npaths];
        let mut rtt_sample: Vec<Option<Instant>> = vec![None; npaths];
        let mut newly_acked_any = false;
        let mut highest_newly_acked: Option<Tsn> = None;
        let cum_advanced = cum > self.out.cum_ack;

        // Cumulatively acknowledged chunks.
        for c in self.out.pop_acked(cum) {
            let p = c.path;
            if !c.acked {
                acked_bytes[p] += c.size();
                newly_acked_any = true;
                highest_newly_acked = Some(c.data.tsn);
                if c.transmissions == 1 && !c.retransmit {
                    // Karn's rule (RFC 9260 §6.3.1): only chunks sent once.
                    rtt_sample[p] = Some(c.sent_at);
                }
            }
            if c.in_flight {
                self.paths.get_mut(p).cc.on_removed(c.size());
            }
            cum_advanced_on[p] = true;
        }

        // Gap ack blocks (RFC 9260 §3.3.4): TSNs cum+start ..= cum+end.
        let mut in_gap = vec![false; self.out.outstanding.len()];
        for g in &sack.gap_blocks {
            if g.start == 0 || g.end < g.start {
                continue;
            }
            for off in g.start..=g.end {
                let tsn = cum.add(u32::from(off));
                if let Some(i) = self.out.index_of(tsn) {
                    in_gap[i] = true;
                }
            }
        }
        for (i, &gap) in in_gap.iter().enumerate() {
            let was_acked = self.out.outstanding[i].acked;
            if gap != was_acked {
                self.out.set_acked(i, gap);
            }
            let c = &mut self.out.outstanding[i];
            if gap && !was_acked {
                acked_bytes[c.path] += c.size();
                newly_acked_any = true;
                highest_newly_acked = Some(match highest_newly_acked {
                    Some(h) if h > c.data.tsn => h,
                    _ => c.data.tsn,
                });
                if c.transmissions == 1 && !c.retransmit {
                    rtt_sample[c.path] = Some(c.sent_at);
                }
                if c.in_flight {
                    c.in_flight = false;
                    self.paths.get_mut(c.path).cc.on_removed(c.size());
                }
                if c.retransmit {
                    c.retransmit = false;
                    self.out.marked -= 1;
                }
            }
            // A chunk gap-acked before but not now: the peer reneged (RFC
            // 9260 §6.2.1); `set_acked` made it outstanding again, and it is
            // retransmitted when T3-rtx expires.
        }

        // RFC 9260 §6.2.1: rwnd = a_rwnd - bytes still outstanding.
        self.out.peer_rwnd = sack.a_rwnd.saturating_sub(self.out.unacked_bytes());

        // RFC 9260 §7.2.4: miss indications, HTNA rule; during fast
        // recovery with the cum ack advancing, every missing TSN counts.
        let in_recovery = self.paths.iter().any(|p| p.cc.fast_recovery_exit.is_some());
        let highest_gap_acked = self
            .out
            .outstanding
            .iter()
            .rev()
            .find(|c| c.acked)
            .map(|c| c.data.tsn);
        let limit = if in_recovery && cum_advanced {
            highest_gap_acked
        } else {
            highest_newly_acked
        };
        if let Some(limit) = limit {
            let mut fast = Vec::new();
            for c in self.out.outstanding.iter_mut() {
                if c.data.tsn >= limit {
                    break;
                }
                if c.acked || c.retransmit {
                    continue;
                }
                c.misses += 1;
                if c.misses >= 3 && !c.fast_retransmitted {
                    fast.push(c.data.tsn);
                }
            }
            if !fast.is_empty() {
                self.fast_retransmit(now, &fast);
            }
        }

        // RTT, errors and congestion windows per path.
        for p in 0..npaths {
            if let Some(sent) = rtt_sample[p] {
                let r = now.saturating_duration_since(sent);
                self.paths.get_mut(p).rtt.sample(r);
            }
            if acked_bytes[p] > 0 {
                // RFC 9260 §8.3: an acknowledged chunk clears the error
                // counter of the destination it was last sent to; RFC 7829
                // §5: a PF destination becomes active again.
                let path = self.paths.get_mut(p);
                path.error_count = 0;
                if path.state == PathState::PotentiallyFailed || path.state == PathState::Inactive {
                    self.set_path_state(p, PathState::Active);
                }
            }
            let path = self.paths.get_mut(p);
            if acked_bytes[p] > 0 || cum_advanced_on[p] {
                path.cc
                    .on_sack(acked_bytes[p], cum_advanced_on[p], cwnd_limited[p], cum);
            }
            path.cc.on_flight_empty();
        }
        if newly_acked_any {
            // RFC 9260 §8.1: acknowledged data resets the association's
            // error counter.
            self.error_count = 0;
        }

        // RFC 9260 §6.3.2 R2/R3: per path, stop T3-rtx when nothing is
        // outstanding there; restart it when the earliest outstanding chunk
        // there was acknowledged.
        for p in 0..npaths {
            let outstanding_here = self
                .out
                .outstanding
                .iter()
                .any(|c| c.path == p && c.in_flight);
            let path = self.paths.get_mut(p);
            if !outstanding_here {
                path.t3_rtx.stop();
            } else if cum_advanced_on[p] || acked_bytes[p] > 0 {
                let rto = path.rtt.rto();
                path.t3_rtx.set(now + rto);
            }
        }

        if self.out.is_empty() {
            if newly_acked_any {
                self.push_event(Event::SenderDry);
            }
            self.on_all_acked(now);
        }
    }
}
