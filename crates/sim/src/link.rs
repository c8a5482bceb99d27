//! Point-to-point links: their identity ([`LinkId`], [`Direction`]), their
//! per-direction configuration ([`LinkConfig`]) and state ([`LinkState`]),
//! and the timing model that turns a datagram entering a link into an
//! arrival time.
//!
//! # Model (per direction)
//!
//! A datagram entering a link at time `t` (sizes are IP packet sizes, see
//! [`crate::Datagram::ip_len`]):
//!
//! 1. is dropped with an ICMP "packet too big" if it exceeds the MTU;
//! 2. is dropped if the drop filter says so;
//! 3. with a bandwidth, waits behind the datagrams already queued: the
//!    transmitter is busy until `busy_until`; the backlog (bytes not yet
//!    serialized) plus the datagram must fit the queue limit, or it is
//!    tail-dropped; it departs at `max(t, busy_until) + size·8/bandwidth`;
//! 4. is lost with the loss probability (it still used the transmitter);
//! 5. arrives at `departure + delay ± jitter`, never before an earlier
//!    datagram of the same direction (FIFO), unless it is picked for
//!    reordering, which adds `reorder_delay` and lets later datagrams pass;
//! 6. may be duplicated: the copy arrives right after the original.
//!
//! The link state is enforced where the datagram arrives, like an iptables
//! rule in the receiver's INPUT chain: a datagram that arrives while its
//! direction is [`LinkState::Down`] is silently dropped, one that arrives
//! while it is [`LinkState::Reject`] is dropped and answered with an ICMP
//! error that travels back over the reverse direction's delay.

use crate::agent::{Datagram, IcmpKind};
use crate::clock::{Nanos, nanos};
use crate::icmp::codes;
use crate::rng::Rng;
use crate::stats::DirectionStats;
use crate::topology::HostId;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// A link of a [`crate::Sim`], numbered from 1 in creation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(pub(crate) usize);

impl LinkId {
    /// Position in creation order, from 0.
    pub fn index(self) -> usize {
        self.0
    }

    /// The link's number, from 1 (as in "link 1" of the lab and in capture
    /// file names).
    pub fn number(self) -> usize {
        self.0 + 1
    }
}

impl fmt::Display for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "link{}", self.number())
    }
}

/// A direction of a link, relative to the order of the ends given to
/// [`crate::Sim::add_link`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// From end `a` to end `b`.
    AToB,
    /// From end `b` to end `a`.
    BToA,
}

impl Direction {
    /// Both directions.
    pub const BOTH: [Direction; 2] = [Direction::AToB, Direction::BToA];

    /// The other direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::AToB => Direction::BToA,
            Direction::BToA => Direction::AToB,
        }
    }

    /// 0 for `AToB`, 1 for `BToA`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Index of the end datagrams of this direction leave from.
    pub(crate) fn source_end(self) -> usize {
        self.index()
    }

    /// Index of the end datagrams of this direction arrive at.
    pub(crate) fn dest_end(self) -> usize {
        1 - self.index()
    }

    /// The directions an optional selector means: one, or both when `None`.
    pub(crate) fn select(dir: Option<Direction>) -> &'static [Direction] {
        match dir {
            Some(Direction::AToB) => &[Direction::AToB],
            Some(Direction::BToA) => &[Direction::BToA],
            None => &Direction::BOTH,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::AToB => "a->b",
            Direction::BToA => "b->a",
        })
    }
}

/// How jitter is spread around the one-way delay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum JitterDistribution {
    /// Uniform in `[delay - jitter, delay + jitter]`, as netem's default.
    #[default]
    Uniform,
    /// Approximately normal with mean `delay` and standard deviation
    /// `jitter`, bounded to ±6 standard deviations.
    Normal,
}

/// The configuration of one direction of a link.
///
/// Build it with struct update syntax:
/// `LinkConfig { delay: Duration::from_millis(5), loss: 0.01, ..LinkConfig::default() }`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkConfig {
    /// One-way propagation delay. Default: 1 ms.
    pub delay: Duration,
    /// Spread of the delay (see [`JitterDistribution`]); the arrival is never
    /// earlier than the departure, and jitter alone never reorders. Default:
    /// none.
    pub jitter: Duration,
    /// How the jitter is distributed. Default: uniform.
    pub jitter_distribution: JitterDistribution,
    /// Bandwidth in bits per second, counting IP packet bytes; `None` is
    /// infinitely fast (no serialization time, no queue). Default: `None`.
    pub bandwidth: Option<u64>,
    /// Largest backlog, in bytes, of datagrams waiting for or in
    /// serialization; a datagram that would exceed it is tail-dropped (a
    /// datagram is always accepted by an idle link). Only used with a
    /// bandwidth. Default: 1 500 000 bytes (netem's 1000 full-size packets).
    pub queue_limit: usize,
    /// Largest IP packet, header included; bigger datagrams are dropped and
    /// answered with an ICMP "packet too big". `None`: no limit. Default:
    /// 1500 (Ethernet).
    pub mtu: Option<u32>,
    /// Probability that a datagram is lost, in `[0, 1]`. Default: 0.
    pub loss: f64,
    /// Probability that a delivered datagram is delivered twice. Default: 0.
    pub duplicate: f64,
    /// Probability that a datagram is held back by `reorder_delay`, letting
    /// the following ones pass. Default: 0.
    pub reorder: f64,
    /// Extra delay of a reordered datagram. Default: 1 ms.
    pub reorder_delay: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            delay: Duration::from_millis(1),
            jitter: Duration::ZERO,
            jitter_distribution: JitterDistribution::Uniform,
            bandwidth: None,
            queue_limit: 1_500_000,
            mtu: Some(1500),
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::from_millis(1),
        }
    }
}

impl LinkConfig {
    /// A clean link with this one-way delay and the other defaults.
    pub fn with_delay(delay: Duration) -> LinkConfig {
        LinkConfig {
            delay,
            ..LinkConfig::default()
        }
    }

    /// Panics with a clear message if a probability is outside `[0, 1]` or
    /// the bandwidth is zero.
    pub(crate) fn validate(&self) {
        for (name, p) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
        ] {
            assert!(
                (0.0..=1.0).contains(&p),
                "LinkConfig::{name} must be a probability in [0, 1], not {p}"
            );
        }
        assert!(
            self.bandwidth != Some(0),
            "LinkConfig::bandwidth must be positive (None for unlimited)"
        );
    }
}

/// What a link direction does with the datagrams that arrive over it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LinkState {
    /// Datagrams are delivered.
    #[default]
    Up,
    /// Datagrams are silently dropped (a blackhole, like iptables `DROP`).
    Down,
    /// Datagrams are dropped and answered with an ICMP error, like iptables
    /// `REJECT --reject-with …`.
    Reject(RejectWith),
}

impl LinkState {
    /// `Reject` with iptables' default answer, port unreachable.
    pub const REJECT: LinkState = LinkState::Reject(RejectWith::PortUnreachable);
}

impl fmt::Display for LinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkState::Up => f.write_str("up"),
            LinkState::Down => f.write_str("down"),
            LinkState::Reject(with) => write!(f, "reject({with:?})"),
        }
    }
}

/// The ICMP error a [`LinkState::Reject`] answers with, named after
/// iptables' `--reject-with` values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RejectWith {
    /// `icmp-port-unreachable` / `icmp6-port-unreachable` (IPv4 code 3,
    /// IPv6 code 4), iptables' default.
    #[default]
    PortUnreachable,
    /// `icmp-host-unreachable` / `icmp6-addr-unreachable` (IPv4 code 1,
    /// IPv6 code 3).
    HostUnreachable,
    /// `icmp-net-unreachable` / `icmp6-no-route` (code 0 in both).
    NetUnreachable,
    /// `icmp-admin-prohibited` / `icmp6-adm-prohibited` (IPv4 code 13, IPv6
    /// code 1).
    AdminProhibited,
    /// `icmp-proto-unreachable` (IPv4 type 3 code 2; IPv6 parameter problem,
    /// unrecognized next header).
    ProtocolUnreachable,
    /// Destination unreachable with these codes for IPv4 and IPv6.
    Codes {
        /// ICMP code for IPv4 datagrams.
        v4: u8,
        /// ICMPv6 code for IPv6 datagrams.
        v6: u8,
    },
}

impl RejectWith {
    /// The ICMP error this answer is for a datagram of the given family.
    pub fn icmp_kind(self, ipv6: bool) -> IcmpKind {
        let (v4, v6) = match self {
            RejectWith::PortUnreachable => (codes::V4_PORT_UNREACHABLE, codes::V6_PORT_UNREACHABLE),
            RejectWith::HostUnreachable => (codes::V4_HOST_UNREACHABLE, codes::V6_ADDR_UNREACHABLE),
            RejectWith::NetUnreachable => (codes::V4_NET_UNREACHABLE, codes::V6_NO_ROUTE),
            RejectWith::AdminProhibited => (codes::V4_ADMIN_PROHIBITED, codes::V6_ADMIN_PROHIBITED),
            RejectWith::ProtocolUnreachable => return IcmpKind::ProtocolUnreachable,
            RejectWith::Codes { v4, v6 } => (v4, v6),
        };
        IcmpKind::DestinationUnreachable {
            code: if ipv6 { v6 } else { v4 },
        }
    }
}

/// A predicate that drops the datagrams for which it returns `true`.
pub type DropFilter = Box<dyn FnMut(&Datagram) -> bool>;

/// One end of a link: a host's interface and its addresses.
#[derive(Debug)]
pub(crate) struct End {
    pub(crate) host: HostId,
    pub(crate) addrs: Vec<IpAddr>,
}

/// One direction of a link: configuration, state and queue.
pub(crate) struct Lane {
    pub(crate) config: LinkConfig,
    pub(crate) state: LinkState,
    pub(crate) rng: Rng,
    /// When the transmitter finishes the last accepted datagram.
    pub(crate) busy_until: Nanos,
    /// Arrival time of the last datagram that keeps FIFO order.
    pub(crate) last_arrival: Nanos,
    pub(crate) filter: Option<DropFilter>,
    pub(crate) stats: DirectionStats,
}

/// What the timing model decided for a datagram that passed the MTU and
/// filter checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// The queue was full.
    QueueFull,
    /// Lost on the way.
    Lost,
    /// Arrives at `at`; `reordered` if it was held back; `duplicate` if a
    /// copy arrives right after it.
    Arrives {
        at: Nanos,
        reordered: bool,
        duplicate: bool,
    },
}

impl Lane {
    pub(crate) fn new(config: LinkConfig, rng: Rng) -> Lane {
        Lane {
            config,
            state: LinkState::Up,
            rng,
            busy_until: 0,
            last_arrival: 0,
            filter: None,
            stats: DirectionStats::default(),
        }
    }

    /// Runs steps 3 to 6 of the model for a datagram of `ip_len` bytes
    /// entering at `now`.
    pub(crate) fn admit(&mut self, now: Nanos, ip_len: usize) -> Fate {
        let departure = match self.config.bandwidth {
            None => now,
            Some(bandwidth) => {
                let bw = u128::from(bandwidth);
                if self.busy_until > now {
                    let backlog = u128::from(self.busy_until - now) * bw / 8_000_000_000;
                    if backlog + ip_len as u128 > self.config.queue_limit as u128 {
                        return Fate::QueueFull;
                    }
                }
                let bits = ip_len as u128 * 8 * 1_000_000_000;
                let serialization = u64::try_from(bits.div_ceil(bw)).unwrap_or(u64::MAX);
                let start = self.busy_until.max(now);
                self.busy_until = start.saturating_add(serialization);
                self.busy_until
            }
        };
        if self.rng.chance(self.config.loss) {
            return Fate::Lost;
        }
        let mut at = departure.saturating_add(nanos(self.config.delay));
        let jitter = nanos(self.config.jitter);
        if jitter > 0 {
            let offset = match self.config.jitter_distribution {
                JitterDistribution::Uniform => {
                    self.rng.below(2 * jitter.min(u64::MAX / 4) + 1) as i128 - i128::from(jitter)
                }
                JitterDistribution::Normal => (self.rng.normalish() * jitter as f64) as i128,
            };
            let jittered = (i128::from(at) + offset).max(i128::from(departure));
            at = u64::try_from(jittered).unwrap_or(u64::MAX);
        }
        let reordered = self.rng.chance(self.config.reorder);
        if reordered {
            at = at.saturating_add(nanos(self.config.reorder_delay));
        } else {
            at = at.max(self.last_arrival);
            self.last_arrival = at;
        }
        let duplicate = self.rng.chance(self.config.duplicate);
        Fate::Arrives {
            at,
            reordered,
            duplicate,
        }
    }
}

/// A point-to-point link between two interfaces.
pub(crate) struct Link {
    pub(crate) ends: [End; 2],
    pub(crate) lanes: [Lane; 2],
    pub(crate) pcap: Option<crate::pcap::Recorder>,
}

impl Link {
    /// The address of the far end of `dir` that answers for a datagram to
    /// `dst`: `dst` itself if that interface owns it, else its first address
    /// of the same family, else `dst`.
    pub(crate) fn far_address(&self, dir: Direction, dst: IpAddr) -> IpAddr {
        let addrs = &self.ends[dir.dest_end()].addrs;
        if addrs.contains(&dst) {
            return dst;
        }
        addrs
            .iter()
            .copied()
            .find(|a| a.is_ipv4() == dst.is_ipv4())
            .unwrap_or(dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(config: LinkConfig) -> Lane {
        Lane::new(config, Rng::new(1))
    }

    #[test]
    fn serialization_and_queue() {
        let mut l = lane(LinkConfig {
            delay: Duration::from_millis(1),
            bandwidth: Some(8_000_000), // 1 byte per µs
            queue_limit: 3000,
            ..LinkConfig::default()
        });
        let arrives = |f: Fate| match f {
            Fate::Arrives { at, .. } => at,
            other => panic!("{other:?}"),
        };
        // 1000 bytes take 1 ms to serialize.
        assert_eq!(arrives(l.admit(0, 1000)), 2_000_000);
        assert_eq!(arrives(l.admit(0, 1000)), 3_000_000);
        assert_eq!(arrives(l.admit(0, 1000)), 4_000_000);
        // Backlog 3000 bytes: no room for more.
        assert_eq!(l.admit(0, 1), Fate::QueueFull);
        // Half a millisecond later 500 bytes have gone.
        assert_eq!(arrives(l.admit(500_000, 500)), 4_500_000);
        assert_eq!(l.admit(500_000, 1), Fate::QueueFull);
        // An idle link accepts anything.
        assert_eq!(arrives(l.admit(10_000_000, 5000)), 16_000_000);
    }

    #[test]
    fn jitter_keeps_fifo() {
        for distribution in [JitterDistribution::Uniform, JitterDistribution::Normal] {
            let mut l = lane(LinkConfig {
                delay: Duration::from_millis(10),
                jitter: Duration::from_millis(5),
                jitter_distribution: distribution,
                ..LinkConfig::default()
            });
            let mut last = 0;
            let mut spread = false;
            for i in 0..1000u64 {
                let Fate::Arrives { at, reordered, .. } = l.admit(i * 100_000, 100) else {
                    panic!()
                };
                assert!(!reordered);
                assert!(at >= last, "{distribution:?}");
                assert!(at >= i * 100_000);
                spread |= at != i * 100_000 + 10_000_000;
                last = at;
            }
            assert!(spread);
        }
    }

    #[test]
    fn reject_codes() {
        assert_eq!(
            RejectWith::default().icmp_kind(false),
            IcmpKind::DestinationUnreachable { code: 3 }
        );
        assert_eq!(
            RejectWith::default().icmp_kind(true),
            IcmpKind::DestinationUnreachable { code: 4 }
        );
        assert_eq!(
            RejectWith::AdminProhibited.icmp_kind(false),
            IcmpKind::DestinationUnreachable { code: 13 }
        );
        assert_eq!(
            RejectWith::AdminProhibited.icmp_kind(true),
            IcmpKind::DestinationUnreachable { code: 1 }
        );
        assert_eq!(
            RejectWith::ProtocolUnreachable.icmp_kind(true),
            IcmpKind::ProtocolUnreachable
        );
    }

    #[test]
    #[should_panic(expected = "LinkConfig::loss")]
    fn bad_probability() {
        LinkConfig {
            loss: 1.5,
            ..LinkConfig::default()
        }
        .validate();
    }
}
