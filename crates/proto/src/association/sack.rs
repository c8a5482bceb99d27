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
use msctp_wire::chunk::{GapBlock, Sack};

use super::{Association, State};
use crate::event::Event;
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
        let i = match self.sack.reply_to {
            Some(from) => self.paths.reply_path(from),
            None => self.paths.data_destination(None),
        };
        Some(self.dest_of(i))
    }

    /// Sender side: processes a SACK (RFC 9260 §6.2.1).
    ///
    /// The work is O(b·log b + n) for b gap blocks and n outstanding chunks,
    /// whatever TSN ranges the blocks claim (a peer controls them).
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

        // RFC 9260 §6.3.2 R3: the earliest outstanding TSN sent to each
        // path before this SACK; T3-rtx restarts only if it is acknowledged.
        let earliest = self.earliest_in_flight_per_path();
        let mut earliest_acked = vec![false; npaths];

        // Cumulatively acknowledged chunks.
        for c in self.out.pop_acked(cum) {
            self.out.sack_work += 1;
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
            if earliest[p] == Some(c.data.tsn) {
                earliest_acked[p] = true;
            }
            cum_advanced_on[p] = true;
        }

        // Gap ack blocks (RFC 9260 §3.3.4): TSNs cum+start ..= cum+end,
        // clamped to the outstanding chunks, sorted and merged.
        let n = self.out.outstanding.len();
        let ranges = gap_ranges(&sack.gap_blocks, n);
        self.out.sack_work += sack.gap_blocks.len() as u64;
        let mut next_range = 0;
        // Chunks the peer reneged on in this SACK (RFC 9260 §6.2.1 D.iv).
        let mut reneged: Vec<usize> = Vec::new();
        for i in 0..n {
            self.out.sack_work += 1;
            // Offset of outstanding[i] from the cumulative ack.
            let off = i as u64 + 1;
            while next_range < ranges.len() && u64::from(ranges[next_range].1) < off {
                next_range += 1;
            }
            let gap = ranges
                .get(next_range)
                .is_some_and(|&(s, _)| u64::from(s) <= off);
            let was_acked = self.out.outstanding[i].acked;
            if gap == was_acked {
                continue;
            }
            self.out.set_acked(i, gap);
            let c = &mut self.out.outstanding[i];
            let p = c.path;
            if gap {
                acked_bytes[p] += c.size();
                newly_acked_any = true;
                highest_newly_acked = Some(match highest_newly_acked {
                    Some(h) if h > c.data.tsn => h,
                    _ => c.data.tsn,
                });
                if c.transmissions == 1 && !c.retransmit {
                    rtt_sample[p] = Some(c.sent_at);
                }
                if earliest[p] == Some(c.data.tsn) {
                    earliest_acked[p] = true;
                }
                if c.in_flight {
                    c.in_flight = false;
                    let size = c.size();
                    self.paths.get_mut(p).cc.on_removed(size);
                }
                let c = &mut self.out.outstanding[i];
                if c.retransmit {
                    c.retransmit = false;
                    self.out.marked -= 1;
                }
            } else {
                // RFC 9260 §6.2.1 D.iv, §6.3.2 R4: gap-acked before, not
                // now: the peer reneged. The chunk is outstanding again and
                // counts in flight on the destination it was last sent to;
                // it gets one miss indication, and T3-rtx runs there (below).
                c.in_flight = true;
                c.misses += 1;
                let size = c.size();
                self.paths.get_mut(p).cc.on_reneged(size);
                reneged.push(i);
            }
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
        let mut fast = Vec::new();
        if let Some(limit) = limit {
            let mut reneged_here = reneged.iter().peekable();
            for (i, c) in self.out.outstanding.iter_mut().enumerate() {
                self.out.sack_work += 1;
                if c.data.tsn >= limit {
                    break;
                }
                if reneged_here.next_if_eq(&&i).is_some() {
                    // Its one miss indication was counted above.
                    continue;
                }
                if c.acked || c.retransmit {
                    continue;
                }
                c.misses += 1;
                if c.misses >= 3 && !c.fast_retransmitted {
                    fast.push(c.data.tsn);
                }
            }
        }
        for &i in &reneged {
            let c = &self.out.outstanding[i];
            if c.misses >= 3 && !c.fast_retransmitted {
                fast.push(c.data.tsn);
            }
        }
        if !fast.is_empty() {
            self.fast_retransmit(now, &fast);
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
                let t = self.paths.get_mut(p).monitor.on_data_acked();
                self.report_path_transition(p, t);
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

        // RFC 9260 §6.3.2 per path: R2, stop T3-rtx when nothing sent there
        // is outstanding; R3, restart it when the earliest outstanding TSN
        // sent there was acknowledged; R4 (and R1's invariant), start it if
        // data is outstanding there (a renege) and it is not running.
        let mut in_flight_on = vec![false; npaths];
        for c in &self.out.outstanding {
            self.out.sack_work += 1;
            if c.in_flight {
                in_flight_on[c.path] = true;
            }
        }
        for p in 0..npaths {
            let path = self.paths.get_mut(p);
            if !in_flight_on[p] {
                path.t3_rtx.stop();
            } else if earliest_acked[p] || !path.t3_rtx.is_running() {
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

    /// The lowest TSN in flight on each path (RFC 9260 §6.3.2 R3).
    pub(crate) fn earliest_in_flight_per_path(&mut self) -> Vec<Option<Tsn>> {
        let mut earliest = vec![None; self.paths.len()];
        let mut missing = earliest.len();
        for c in &self.out.outstanding {
            if missing == 0 {
                break;
            }
            self.out.sack_work += 1;
            if c.in_flight && earliest[c.path].is_none() {
                earliest[c.path] = Some(c.data.tsn);
                missing -= 1;
            }
        }
        earliest
    }
}

/// The gap ack blocks of a SACK as sorted, disjoint, inclusive offset
/// ranges within `1..=n` (`n` chunks outstanding after the cumulative ack).
///
/// RFC 9260 §3.3.4: a block covers offsets start..=end from the cumulative
/// TSN ack. Blocks with start 0 or end < start are malformed, and blocks
/// wholly beyond the highest TSN sent acknowledge nothing: both are ignored
/// without affecting the others. Blocks reaching past the highest TSN sent
/// are clamped to it; overlapping or unsorted blocks are merged. O(b log b).
pub(crate) fn gap_ranges(blocks: &[GapBlock], n: usize) -> Vec<(u16, u16)> {
    let max = u16::try_from(n).unwrap_or(u16::MAX);
    let mut v: Vec<(u16, u16)> = blocks
        .iter()
        .filter(|g| g.start != 0 && g.end >= g.start && g.start <= max)
        .map(|g| (g.start, g.end.min(max)))
        .collect();
    v.sort_unstable();
    let mut merged: Vec<(u16, u16)> = Vec::with_capacity(v.len());
    for (s, e) in v {
        match merged.last_mut() {
            // Overlapping or adjacent: extend.
            Some(last) if u32::from(s) <= u32::from(last.1) + 1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(start: u16, end: u16) -> GapBlock {
        GapBlock { start, end }
    }

    /// RFC 9260 §3.3.4: malformed and out-of-range blocks are dropped, the
    /// rest clamped, sorted and merged.
    #[test]
    fn gap_ranges_clamp_sort_merge() {
        let b = [
            g(5, 6),
            g(0, 5),
            g(7, 3),
            g(3, 5),
            g(11, 65535),
            g(9, 40000),
        ];
        assert_eq!(gap_ranges(&b, 10), vec![(3, 6), (9, 10)]);
        assert_eq!(gap_ranges(&[g(1, 2), g(3, 4)], 10), vec![(1, 4)]);
        assert_eq!(gap_ranges(&[g(1, 65535); 3], 0), vec![]);
        assert_eq!(gap_ranges(&[g(1, 65535); 3], 100_000), vec![(1, 65535)]);
        assert_eq!(
            gap_ranges(&[g(65535, 65535), g(1, 1)], 70_000),
            vec![(1, 1), (65535, 65535)]
        );
    }
}
