//! Retransmission: T3-rtx expiry (RFC 9260 §6.3.3) with failover to an
//! alternate destination (§6.4.1), fast retransmit (§7.2.4), and the path
//! error counting that drives SCTP-PF (RFC 7829) and path failure (§8.2).

use std::time::Instant;

use msctp_wire::Tsn;

use super::Association;

impl Association {
    /// RFC 9260 §6.3.3: T3-rtx expired for path `p`.
    pub(crate) fn on_t3_timeout(&mut self, now: Instant, p: usize) {
        {
            let path = self.paths.get_mut(p);
            path.counters.timeouts += 1;
            // E1 (§7.2.3): ssthresh = max(cwnd/2, 4 MTU), cwnd = 1 MTU.
            path.cc.on_timeout();
            // E2: back off the RTO.
            path.rtt.back_off();
        }
        self.count_path_error(p, now);
        if self.is_closed() {
            return;
        }
        // RFC 9260 §6.4.1: retransmit to an active alternate destination
        // when the peer is multi-homed.
        let target = self.paths.alternate(p).unwrap_or(p);
        // E3: every outstanding chunk sent to this destination is marked for
        // retransmission; the earliest that fit in one packet go at once to
        // the chosen destination whatever its cwnd, the rest as its cwnd
        // allows (see `bundle_retransmissions`).
        self.mark_for_retransmission(p, target);
        if self.out.has_marked_for(target) {
            self.out.owe_packet(target);
        }
        self.count_association_error();
    }

    /// Marks every chunk outstanding on path `p` for retransmission to path
    /// `target`, taking it out of `p`'s flight (RFC 9260 §6.3.3 E3, §6.4.1).
    pub(crate) fn mark_for_retransmission(&mut self, p: usize, target: usize) {
        let mut removed = 0;
        for c in self.out.outstanding.iter_mut() {
            if c.path != p || c.acked {
                continue;
            }
            if c.in_flight {
                c.in_flight = false;
                removed += c.size();
            }
            if !c.retransmit {
                c.retransmit = true;
                self.out.marked += 1;
            }
            c.retransmit_path = target;
        }
        self.paths.get_mut(p).cc.on_removed(removed);
    }

    /// RFC 9260 §7.2.4: the chunks `tsns` reached three miss indications.
    pub(crate) fn fast_retransmit(&mut self, now: Instant, tsns: &[Tsn]) {
        let highest = self.out.highest_sent();
        let earliest = self.earliest_in_flight_per_path();
        for &tsn in tsns {
            let Some(i) = self.out.index_of(tsn) else {
                continue;
            };
            let c = &mut self.out.outstanding[i];
            c.fast_retransmitted = true;
            let p = c.path;
            if c.in_flight {
                c.in_flight = false;
                let size = c.size();
                self.paths.get_mut(p).cc.on_removed(size);
            }
            let c = &mut self.out.outstanding[i];
            if !c.retransmit {
                c.retransmit = true;
                c.retransmit_path = p;
                self.out.marked += 1;
            }
            // Enter fast recovery on this destination (once per recovery).
            self.paths.get_mut(p).cc.on_fast_retransmit(highest);
            // §7.2.4 step 3: one packet of the earliest marked chunks goes
            // regardless of cwnd.
            self.out.owe_packet(p);
            // §7.2.4 step 4: T3-rtx restarts when the first outstanding
            // chunk sent to the destination is the one retransmitted.
            if earliest.get(p).copied().flatten() == Some(tsn) {
                let path = self.paths.get_mut(p);
                let rto = path.rto();
                path.t3_rtx.set(now + rto);
            }
        }
    }

    /// Counts an error against path `p` (a T3-rtx or T2-shutdown expiry)
    /// in its state machine, which moves it to PF (RFC 7829 §5) or inactive
    /// (RFC 9260 §8.2) past the thresholds, and probes it if PF.
    pub(crate) fn count_path_error(&mut self, p: usize, now: Instant) {
        let t = self.paths.get_mut(p).monitor.on_timeout_error();
        self.report_path_transition(p, t);
        self.probe_after_error(now, p);
    }
}
