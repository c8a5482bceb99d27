//! The event log of a run: what happened to every datagram and link, at
//! which virtual time ([`LogEntry`], [`LogKind`], [`DropReason`]).
//!
//! The log is on by default and can be switched off for big runs
//! ([`crate::SimConfig::log`], [`crate::Sim::set_logging`]); the counters of
//! [`crate::stats`] are kept either way. Each entry prints as one line, so a
//! whole log can be compared as text ([`crate::Sim::log_text`]).

use crate::agent::IcmpKind;
use crate::clock::VirtualTime;
use crate::link::{Direction, LinkId, LinkState};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Why a datagram was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Random loss ([`crate::LinkConfig::loss`]).
    Loss,
    /// The link's queue was full (tail drop).
    QueueFull,
    /// The direction was [`LinkState::Down`] when it arrived.
    LinkDown,
    /// The direction was [`LinkState::Reject`] when it arrived (an ICMP error
    /// went back).
    Rejected,
    /// The sending host has no link whose far end owns the destination, or
    /// the far end does not own it.
    NoRoute,
    /// Bigger than the link MTU (an ICMP "packet too big" went back).
    Mtu,
    /// The link's drop filter asked for it.
    Filter,
    /// The destination host has no agent.
    NoAgent,
}

/// What a [`LogEntry`] records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogKind {
    /// A datagram entered the link.
    Sent,
    /// A datagram was handed to the destination's agent.
    Delivered,
    /// A datagram was dropped.
    Dropped {
        /// Why.
        reason: DropReason,
    },
    /// A datagram will be delivered twice.
    Duplicated,
    /// A datagram was held back so that later ones pass it.
    Reordered,
    /// An ICMP error was sent back; `src` is its source, `dst` the original
    /// sender, `len` its IP packet length.
    IcmpSent {
        /// What it says.
        kind: IcmpKind,
    },
    /// An ICMP error was handed to the original sender's agent.
    IcmpDelivered {
        /// What it says.
        kind: IcmpKind,
    },
    /// The direction's state changed (`src`, `dst` unspecified, `len` 0).
    LinkStateChanged {
        /// The previous state.
        from: LinkState,
        /// The new state.
        to: LinkState,
    },
    /// The direction's configuration was replaced (`src`, `dst` unspecified,
    /// `len` 0).
    LinkConfigChanged,
}

/// One event of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LogEntry {
    /// Virtual time since the start of the run.
    pub time: Duration,
    /// The link concerned, if any (`None` for a datagram without a route).
    pub link: Option<LinkId>,
    /// The direction concerned, if any.
    pub direction: Option<Direction>,
    /// What happened.
    pub kind: LogKind,
    /// Source address of the datagram (unspecified for link events).
    pub src: IpAddr,
    /// Destination address of the datagram (unspecified for link events).
    pub dst: IpAddr,
    /// Length of the datagram's SCTP payload (of the IP packet for ICMP;
    /// 0 for link events).
    pub len: usize,
}

/// The address link events carry in `src` and `dst`.
pub(crate) const NO_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

impl fmt::Display for LogEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", VirtualTime(self.time))?;
        match (self.link, self.direction) {
            (Some(link), Some(dir)) => write!(f, " {link} {dir}")?,
            (Some(link), None) => write!(f, " {link}")?,
            _ => f.write_str(" -")?,
        }
        match self.kind {
            LogKind::LinkStateChanged { from, to } => write!(f, " state {from} -> {to}"),
            LogKind::LinkConfigChanged => f.write_str(" config changed"),
            kind => {
                match kind {
                    LogKind::Sent => f.write_str(" sent")?,
                    LogKind::Delivered => f.write_str(" delivered")?,
                    LogKind::Dropped { reason } => write!(f, " dropped({reason:?})")?,
                    LogKind::Duplicated => f.write_str(" duplicated")?,
                    LogKind::Reordered => f.write_str(" reordered")?,
                    LogKind::IcmpSent { kind } => write!(f, " icmp-sent({kind:?})")?,
                    LogKind::IcmpDelivered { kind } => write!(f, " icmp-delivered({kind:?})")?,
                    _ => {}
                }
                write!(f, " {} > {} len {}", self.src, self.dst, self.len)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let e = LogEntry {
            time: Duration::new(1, 500),
            link: Some(LinkId(0)),
            direction: Some(Direction::BToA),
            kind: LogKind::Dropped {
                reason: DropReason::Loss,
            },
            src: "192.0.2.2".parse().unwrap(),
            dst: "192.0.2.1".parse().unwrap(),
            len: 60,
        };
        assert_eq!(
            e.to_string(),
            "1.000000500 link1 b->a dropped(Loss) 192.0.2.2 > 192.0.2.1 len 60"
        );
        let e = LogEntry {
            kind: LogKind::LinkStateChanged {
                from: LinkState::Up,
                to: LinkState::REJECT,
            },
            src: NO_ADDRESS,
            dst: NO_ADDRESS,
            len: 0,
            ..e
        };
        assert_eq!(
            e.to_string(),
            "1.000000500 link1 b->a state up -> reject(PortUnreachable)"
        );
    }
}
