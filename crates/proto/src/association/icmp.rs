//! Acting on validated ICMP errors (RFC 9260 Appendix C): protocol
//! unreachable aborts, packet too big lowers the path MTU, and unreachable
//! destinations move traffic off the path at once (SCTP-PF, RFC 7829) while
//! it keeps being probed.

use std::net::IpAddr;
use std::time::Instant;

use super::{Association, State};
use crate::event::{AssociationChange, CloseReason};
use crate::icmp::IcmpKind;

/// Smallest PMTU accepted from a Packet Too Big (the IPv6 minimum MTU,
/// RFC 8200 §5; an IPv4 report below it is not believed).
const MIN_PMTU: u32 = 1280;

impl Association {
    /// A validated ICMP error about a packet sent to `remote`.
    pub(crate) fn on_icmp(&mut self, now: Instant, remote: IpAddr, kind: IcmpKind) {
        let Some(p) = self.paths.find(remote) else {
            return;
        };
        match kind {
            IcmpKind::ProtocolUnreachable if !self.paths.get(p).is_confirmed() => {
                // A probe of an address never confirmed hit a host without
                // SCTP there (or, over UDP, a port without it): that address
                // is simply not the peer's (RFC 9260 §5.4); the association
                // is not aborted for it.
            }
            IcmpKind::ProtocolUnreachable
                if self.is_established()
                    && self
                        .paths
                        .iter()
                        .enumerate()
                        .any(|(i, q)| i != p && q.is_active()) =>
            {
                // Over UDP (RFC 6951 §5.5) a firewall rejecting one path
                // answers "port unreachable", which reads as protocol
                // unreachable; while another path of the association is
                // active the peer evidently runs SCTP, so this is a failure
                // of this path, not an abort (a deliberate reading of
                // Appendix C ICMP8 for multi-homed associations).
                self.on_path_unreachable(now, p);
            }
            IcmpKind::ProtocolUnreachable => {
                // Appendix C ICMP8: treated as an ABORT.
                let event = match self.state {
                    State::CookieWait | State::CookieEchoed => {
                        AssociationChange::CantStartAssociation {
                            reason: CloseReason::ProtocolUnreachable,
                        }
                    }
                    _ => AssociationChange::CommLost {
                        reason: CloseReason::ProtocolUnreachable,
                    },
                };
                self.close(event);
            }
            IcmpKind::PacketTooBig { mtu } => {
                // Appendix C ICMP7, RFC 9260 §7.3.
                let path = self.paths.get_mut(p);
                let mtu = mtu.max(MIN_PMTU);
                if mtu < path.pmtu {
                    path.pmtu = mtu;
                    path.cc.set_mtu(mtu);
                }
            }
            IcmpKind::Unreachable => self.on_path_unreachable(now, p),
        }
    }

    /// Appendix C ICMP9 and RFC 7829: the path to `p` does not work. Count one
    /// error per RTO at most (a burst of ICMP errors for one window of data
    /// is one event), move new data off it at once, retransmit what was
    /// outstanding there to an alternate, and probe it.
    fn on_path_unreachable(&mut self, now: Instant, p: usize) {
        if matches!(self.state, State::CookieWait | State::CookieEchoed) {
            // During setup the handshake timers (and connectx's rotation
            // through the peer's addresses) take care of it.
            return;
        }
        let path = self.paths.get_mut(p);
        let rto = path.rto();
        let Some(t) = path.monitor.on_icmp_unreachable(now, rto) else {
            return;
        };
        self.report_path_transition(p, t);
        if self.is_closed() {
            return;
        }
        // Retransmit what was outstanding on the path to an alternate (RFC
        // 9260 §6.4.1) without waiting for T3-rtx.
        if let Some(target) = self.paths.alternate(p) {
            self.mark_for_retransmission(p, target);
            self.paths.get_mut(p).t3_rtx.stop();
        }
        // Probe the failed path at once and every RTO after (RFC 7829 §5).
        self.probe_after_error(now, p);
    }
}
