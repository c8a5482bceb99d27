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

use super::Association;
use crate::event::Event;
use crate::path::{PathState, Probe};

struct HeartbeatInfo {
    nonce: u64,
    sent_us: u64,
    address: IpAddr,
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

    fn decode(b: &[u8]) -> Option<Self> {
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
    /// Schedules the first heartbeats once the association is up: unconfirmed
    /// addresses are probed at once, paced by HB.Max.Burst per RTO (RFC 9260
    /// §5.4); confirmed ones after one heartbeat interval (§8.3).
    pub(crate) fn start_heartbeats(&mut self, now: Instant) {
        let burst = self.config.hb_max_burst.max(1) as usize;
        let mut unconfirmed = 0usize;
        for i in 0..self.paths.len() {
            let at = if self.paths.get(i).state == PathState::Unconfirmed {
                let rto = self.paths.get(i).rto();
                let slot = (unconfirmed / burst) as u32;
                unconfirmed += 1;
                now + rto * slot
            } else {
                self.next_heartbeat_time(now, i)
            };
            self.paths.get_mut(i).hb_timer.set(at);
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

    /// The heartbeat timer of path `i` fired.
    pub(crate) fn on_heartbeat_timer(&mut self, now: Instant, i: usize) {
        if !self.is_established() && self.state != super::State::ShutdownAckSent {
            return;
        }
        if self.paths.get_mut(i).probe.take().is_some() {
            // RFC 9260 §8.3: a HEARTBEAT not acknowledged within one RTO
            // counts as an error for its destination, and the RTO backs off.
            self.paths.get_mut(i).rtt.back_off();
            self.count_path_error(i, now);
            // RFC 9260 §8.1: unanswered heartbeats on the path in use for
            // data count against the association.
            if i == self.paths.data_destination(None) && self.paths.get(i).is_confirmed() {
                self.count_association_error();
            }
            if self.is_closed() {
                return;
            }
        }
        let path = self.paths.get(i);
        let idle = path
            .cc
            .last_data_sent
            .is_none_or(|t| now.saturating_duration_since(t) >= self.config.hb_interval);
        let send = match path.state {
            // RFC 9260 §5.4, RFC 7829 §5: probe every RTO until answered.
            PathState::Unconfirmed | PathState::PotentiallyFailed | PathState::Inactive => true,
            // RFC 9260 §8.3: only idle destinations are heartbeated.
            PathState::Active => idle && path.t3_rtx.deadline().is_none(),
        };
        if send {
            self.send_heartbeat(now, i);
            let rto = self.paths.get(i).rto();
            self.paths.get_mut(i).hb_timer.set(now + rto);
        } else {
            let at = self.next_heartbeat_time(now, i);
            self.paths.get_mut(i).hb_timer.set(at);
        }
    }

    fn send_heartbeat(&mut self, now: Instant, i: usize) {
        let nonce = self.rng.next_u64();
        let path = self.paths.get_mut(i);
        path.probe = Some(Probe {
            nonce,
            sent_at: now,
        });
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

    /// RFC 9260 §8.3: answer a HEARTBEAT with a HEARTBEAT ACK carrying the
    /// same info, to the address it came from (§6.4).
    pub(crate) fn on_heartbeat(&mut self, local: IpAddr, remote: IpAddr, hb: Heartbeat) {
        let _ = local;
        // RFC 9260 §5.4: a HEARTBEAT ACK may go to an unconfirmed address.
        self.queue_control(self.reply_dest(remote), Chunk::HeartbeatAck(hb));
    }

    /// RFC 9260 §8.3, §5.4: a HEARTBEAT ACK arrived.
    pub(crate) fn on_heartbeat_ack(&mut self, now: Instant, hb: &Heartbeat) {
        let Some(info) = HeartbeatInfo::decode(&hb.info) else {
            return;
        };
        let Some(i) = self.paths.find(info.address) else {
            return;
        };
        let path = self.paths.get_mut(i);
        // Only the nonce of the probe in flight confirms (RFC 9260 §5.4).
        match path.probe {
            Some(p) if p.nonce == info.nonce => {}
            _ => return,
        }
        let probe = path.probe.take().unwrap_or(Probe {
            nonce: 0,
            sent_at: now,
        });
        let rtt = now.saturating_duration_since(probe.sent_at);
        path.rtt.sample(rtt);
        path.last_hb_rtt = Some(rtt);
        path.error_count = 0;
        path.counters.heartbeat_acks += 1;
        let address = path.remote;
        // RFC 9260 §8.1: a HEARTBEAT ACK resets the association error count.
        self.error_count = 0;
        self.set_path_state(i, PathState::Active);
        self.push_event(Event::HeartbeatAcked { address, rtt });
        let at = self.next_heartbeat_time(now, i);
        self.paths.get_mut(i).hb_timer.set(at);
    }
}
