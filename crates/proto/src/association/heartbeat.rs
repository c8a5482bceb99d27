//! Heartbeats: path verification of unconfirmed addresses (RFC 9260 §5.4),
//! monitoring of idle destinations (§8.3), probing of potentially failed and
//! inactive ones (RFC 7829 §5), and answering the peer's heartbeats.
//!
//! Our Heartbeat Info (opaque to the peer, RFC 9260 §3.3.5) holds a 64-bit
//! random nonce, the send time in microseconds since the association's epoch,
//! and the probed address; a HEARTBEAT ACK confirms an address only if it
//! echoes the nonce of the probe sent there.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use msctp_wire::Chunk;
use msctp_wire::chunk::Heartbeat;

use super::{Association, State};
use crate::event::Event;
use crate::path::{Expired, PathState};

pub(crate) struct HeartbeatInfo {
    pub nonce: u64,
    pub sent_us: u64,
    pub address: IpAddr,
}

impl HeartbeatInfo {
    fn encode(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(33);
        b.put_u64(self.nonce);
        b.put_u64(self.sent_us);
        match self.address {
            IpAddr::V4(a) => {
                b.put_u8(4);
                b.put_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                b.put_u8(6);
                b.put_slice(&a.octets());
            }
        }
        b.freeze()
    }

    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        let nonce = u64::from_be_bytes(b.get(0..8)?.try_into().ok()?);
        let sent_us = u64::from_be_bytes(b.get(8..16)?.try_into().ok()?);
        let address = match b.get(16)? {
            4 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(b.get(17..21)?).ok()?)),
            6 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(b.get(17..33)?).ok()?)),
            _ => return None,
        };
        Some(HeartbeatInfo {
            nonce,
            sent_us,
            address,
        })
    }
}

impl Association {
    /// Schedules the first heartbeats once the association is up:
    /// unconfirmed addresses are probed at once, paced by HB.Max.Burst per
    /// RTO (RFC 9260 §5.4, see [`Association::on_heartbeat_timer`]);
    /// confirmed ones after one heartbeat interval (§8.3).
    pub(crate) fn start_heartbeats(&mut self, now: Instant) {
        for i in 0..self.paths.len() {
            let at = if self.paths.get(i).is_confirmed() {
                self.next_heartbeat_time(now, i)
            } else {
                now
            };
            self.paths.get_mut(i).monitor.schedule(at);
        }
    }

    /// RFC 9260 §8.3: the next heartbeat is due one RTO plus HB.interval
    /// from now, jittered by ±50 % of the RTO.
    fn next_heartbeat_time(&mut self, now: Instant, i: usize) -> Instant {
        let rto = self.paths.get(i).rto();
        let jitter_range = rto.as_micros() as u64;
        let jitter = if jitter_range > 0 {
            self.rng.below(jitter_range)
        } else {
            0
        };
        now + self.config.hb_interval + rto / 2 + Duration::from_micros(jitter)
    }

    /// True if path `p` has data outstanding or marked for retransmission
    /// to it: then its T3-rtx timer probes it (RFC 9260 §6.3.3, §8.2) and
    /// heartbeats stay away (RFC 7829 §5 probes a PF destination with
    /// heartbeats only when no data is being sent there).
    fn data_outstanding_on(&self, p: usize) -> bool {
        self.paths.get(p).t3_rtx.is_running()
            || self
                .out
                .outstanding
                .iter()
                .any(|c| !c.acked && c.retransmit && c.retransmit_path == p)
    }

    /// The heartbeat timer of path `i` fired (only while ESTABLISHED: RFC
    /// 9260 §8.3 and §9.2, no heartbeats once a shutdown has started).
    pub(crate) fn on_heartbeat_timer(&mut self, now: Instant, i: usize, expired: Expired) {
        if self.state != State::Established {
            return;
        }
        let outstanding = self.data_outstanding_on(i);
        let lost = match expired {
            Expired::ProbeLost(probe) => Some(probe),
            Expired::HeartbeatDue => None,
        };
        if let Some(probe) = lost {
            // RFC 9260 §8.1: unanswered heartbeats on the path in use for
            // data count against the association (judged before this loss
            // moves data elsewhere); §8.3: a HEARTBEAT not acknowledged
            // within one RTO counts one error for its destination, whose
            // RTO backs off, unless T3-rtx already drives that path.
            let data_path =
                i == self.paths.data_destination(None) && self.paths.get(i).is_confirmed();
            let loss = self.paths.get_mut(i).on_probe_lost(probe, outstanding);
            self.report_path_transition(i, loss.transition);
            if loss.counted && data_path {
                self.count_association_error();
                if self.is_closed() {
                    return;
                }
            }
        }
        let path = self.paths.get(i);
        let send = match path.state() {
            // RFC 9260 §5.4: probe every RTO (backed off) until answered.
            PathState::Unconfirmed => true,
            // RFC 7829 §5: a PF destination is probed every RTO (backed off
            // after each unanswered probe), unless data is outstanding
            // there: T3-rtx probes it then. An inactive one is treated
            // alike (RFC 9260 §8.3 keeps heartbeating it; every RTO rather
            // than RFC 7829's lower HB.interval rate so that a repaired
            // path is found again within one RTO.Max), and never with
            // every retransmission.
            PathState::PotentiallyFailed | PathState::Inactive => !outstanding,
            // RFC 9260 §8.3: only idle destinations are heartbeated, once per
            // RTO + HB.interval, the RTO backed off after an unanswered one
            // (so not again right after a loss).
            PathState::Active => {
                lost.is_none() && !outstanding && path.idle(now, self.config.hb_interval)
            }
        };
        if !send {
            let at = if path.is_confirmed() && !path.is_active() {
                now + path.rto()
            } else {
                self.next_heartbeat_time(now, i)
            };
            self.paths.get_mut(i).monitor.schedule(at);
            return;
        }
        if !path.is_confirmed() {
            // RFC 9260 §5.4: at most HB.Max.Burst unconfirmed addresses are
            // probed per RTO, first round and retries alike.
            let rto = path.rto();
            let burst = self.config.hb_max_burst;
            if let Err(at) = self.paths.unconfirmed_probe_slot(now, rto, burst) {
                self.paths.get_mut(i).monitor.schedule(at);
                return;
            }
            self.paths.on_unconfirmed_probe_sent(now, burst);
        }
        self.send_heartbeat(now, i);
    }

    /// Sends a HEARTBEAT with a fresh nonce to path `i`; its timer becomes
    /// the probe's timeout, one RTO (RFC 9260 §8.3).
    fn send_heartbeat(&mut self, now: Instant, i: usize) {
        let nonce = self.rng.next_u64();
        let path = self.paths.get_mut(i);
        let rto = path.rto();
        path.monitor.on_probe_sent(now, nonce, rto);
        path.counters.heartbeats_sent += 1;
        let info = HeartbeatInfo {
            nonce,
            sent_us: now.saturating_duration_since(self.epoch).as_micros() as u64,
            address: path.remote,
        };
        let dest = (path.local, path.remote);
        self.queue_control(
            dest,
            Chunk::Heartbeat(Heartbeat {
                info: info.encode(),
            }),
        );
    }

    /// RFC 7829 §5: path `p` just counted an error (T3-rtx, T2-shutdown, an
    /// ICMP error); a potentially-failed or inactive path is probed with a
    /// heartbeat at once and every RTO after, unless data is outstanding
    /// there (the timer decides, see [`Association::on_heartbeat_timer`]).
    /// An active one keeps its schedule.
    pub(crate) fn probe_after_error(&mut self, now: Instant, p: usize) {
        let path = self.paths.get_mut(p);
        if path.is_confirmed() && !path.is_active() && !path.monitor.probe_outstanding() {
            path.monitor.schedule(now);
        }
    }

    /// RFC 9260 §8.3: answer a HEARTBEAT with a HEARTBEAT ACK carrying the
    /// same info, to the address it came from (§6.4).
    pub(crate) fn on_heartbeat(&mut self, local: IpAddr, remote: IpAddr, hb: Heartbeat) {
        let _ = local;
        // RFC 9260 §5.4: a HEARTBEAT ACK may go to an unconfirmed address.
        self.queue_control(self.reply_dest(remote), Chunk::HeartbeatAck(hb));
    }

    /// RFC 9260 §8.3, §5.4: a HEARTBEAT ACK arrived. It confirms and
    /// revives only the path named in its Heartbeat Info, and only with
    /// the nonce of the probe in flight there; where the packet came from
    /// proves nothing (a source address can be forged).
    pub(crate) fn on_heartbeat_ack(&mut self, now: Instant, hb: &Heartbeat) {
        let Some(info) = HeartbeatInfo::decode(&hb.info) else {
            return;
        };
        let Some(i) = self.paths.find(info.address) else {
            return;
        };
        let path = self.paths.get_mut(i);
        let Some((rtt, transition)) = path.monitor.on_probe_acked(now, info.nonce) else {
            return;
        };
        path.rtt.sample(rtt);
        path.counters.heartbeat_acks += 1;
        let address = path.remote;
        // RFC 9260 §8.1: a HEARTBEAT ACK resets the association error count.
        self.error_count = 0;
        self.report_path_transition(i, transition);
        self.push_event(Event::HeartbeatAcked { address, rtt });
        let at = self.next_heartbeat_time(now, i);
        self.paths.get_mut(i).monitor.schedule(at);
    }
}
