//! Counters that are always kept, even when the event log is off: per link
//! direction ([`DirectionStats`], [`LinkStats`]) and per host
//! ([`HostStats`]). Bytes are SCTP payload bytes (the datagrams' `payload`),
//! not IP bytes.

use crate::link::Direction;
use crate::log::DropReason;

/// Datagrams dropped, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DropCounts {
    /// Random loss.
    pub loss: u64,
    /// Tail drop on a full queue.
    pub queue_full: u64,
    /// Arrived while the direction was [`crate::LinkState::Down`].
    pub link_down: u64,
    /// Arrived while the direction was [`crate::LinkState::Reject`].
    pub rejected: u64,
    /// The far end does not own the destination address.
    pub no_route: u64,
    /// Bigger than the MTU.
    pub mtu: u64,
    /// Dropped by the drop filter.
    pub filter: u64,
    /// Arrived at a host without an agent.
    pub no_agent: u64,
}

impl DropCounts {
    /// The count for one reason.
    pub fn get(&self, reason: DropReason) -> u64 {
        match reason {
            DropReason::Loss => self.loss,
            DropReason::QueueFull => self.queue_full,
            DropReason::LinkDown => self.link_down,
            DropReason::Rejected => self.rejected,
            DropReason::NoRoute => self.no_route,
            DropReason::Mtu => self.mtu,
            DropReason::Filter => self.filter,
            DropReason::NoAgent => self.no_agent,
        }
    }

    pub(crate) fn count(&mut self, reason: DropReason) {
        let counter = match reason {
            DropReason::Loss => &mut self.loss,
            DropReason::QueueFull => &mut self.queue_full,
            DropReason::LinkDown => &mut self.link_down,
            DropReason::Rejected => &mut self.rejected,
            DropReason::NoRoute => &mut self.no_route,
            DropReason::Mtu => &mut self.mtu,
            DropReason::Filter => &mut self.filter,
            DropReason::NoAgent => &mut self.no_agent,
        };
        *counter += 1;
    }

    /// All drops.
    pub fn total(&self) -> u64 {
        self.loss
            + self.queue_full
            + self.link_down
            + self.rejected
            + self.no_route
            + self.mtu
            + self.filter
            + self.no_agent
    }
}

/// Counters of one direction of a link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DirectionStats {
    /// Datagrams that entered the link.
    pub sent_packets: u64,
    /// Their bytes.
    pub sent_bytes: u64,
    /// Datagrams handed to the far end's agent (duplicates included).
    pub delivered_packets: u64,
    /// Their bytes.
    pub delivered_bytes: u64,
    /// Datagrams dropped, by reason.
    pub dropped: DropCounts,
    /// Bytes of the dropped datagrams.
    pub dropped_bytes: u64,
    /// Datagrams duplicated.
    pub duplicated: u64,
    /// Datagrams held back for reordering.
    pub reordered: u64,
    /// ICMP errors returned to the sender for datagrams of this direction.
    pub icmp_returned: u64,
}

/// Counters of both directions of a link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LinkStats {
    /// From end `a` to end `b`.
    pub a_to_b: DirectionStats,
    /// From end `b` to end `a`.
    pub b_to_a: DirectionStats,
}

impl LinkStats {
    /// The counters of one direction.
    pub fn direction(&self, dir: Direction) -> DirectionStats {
        match dir {
            Direction::AToB => self.a_to_b,
            Direction::BToA => self.b_to_a,
        }
    }
}

/// Counters of one host.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct HostStats {
    /// Datagrams its agent transmitted (or that were injected for it).
    pub transmitted: u64,
    /// Of those, datagrams with no route to their destination.
    pub no_route: u64,
    /// Datagrams delivered to its agent.
    pub received: u64,
    /// ICMP errors delivered to its agent.
    pub icmp_received: u64,
    /// Times its agent's timeout fired.
    pub timeouts: u64,
}
