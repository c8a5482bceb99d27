//! Hosts, their addresses and routes, and the lab topology of DESIGN.md
//! ([`Lab`]).
//!
//! Routing is that of Linux hosts joined by point-to-point links with no
//! router and no default route: a host sends a datagram over the first link
//! (in creation order) whose far-end interface owns the destination address,
//! unless a route was set by hand ([`crate::Sim::set_route`]); the source
//! address is kept as the agent gave it, even when it belongs to another
//! interface. A host accepts a datagram for any of its addresses on any of
//! its interfaces (the weak host model). Sending to one's own address is not
//! looped back: it has no route.

use crate::agent::AnyAgent;
use crate::clock::Nanos;
use crate::config::SimConfig;
use crate::link::{Direction, LinkConfig, LinkId};
use crate::sim::Sim;
use crate::stats::HostStats;
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A host of a [`crate::Sim`], numbered from 0 in creation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(pub(crate) usize);

impl HostId {
    /// Position in creation order, from 0.
    pub fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "host{}", self.0)
    }
}

/// A simulated host: name, addresses, routes, agent and timer.
pub(crate) struct Host {
    pub(crate) name: String,
    /// Every address of every interface, in the order added.
    pub(crate) addrs: Vec<IpAddr>,
    /// Destination address → link and direction to send it over.
    pub(crate) routes: HashMap<IpAddr, (LinkId, Direction)>,
    /// Destination → our addresses on the routed link, shared with the agent.
    pub(crate) sources: crate::sources::SourceTable,
    /// The agent promised to follow routing ([`crate::Agent::follows_routing`]).
    pub(crate) follows_routing: bool,
    /// `None` while the agent is being driven (or when there is none).
    pub(crate) agent: Option<Box<dyn AnyAgent>>,
    /// The deadline the agent last asked for.
    pub(crate) deadline: Option<Nanos>,
    /// Time of the timer event that is live in the queue, if any.
    pub(crate) timer_queued: Option<Nanos>,
    /// Generation of the live timer event; older ones are stale.
    pub(crate) timer_generation: u64,
    /// The agent was handed out to a test and must be polled again.
    pub(crate) dirty: bool,
    pub(crate) stats: HostStats,
}

impl Host {
    pub(crate) fn new(name: &str) -> Host {
        Host {
            name: name.to_owned(),
            addrs: Vec::new(),
            routes: HashMap::new(),
            sources: crate::sources::SourceTable::default(),
            follows_routing: false,
            agent: None,
            deadline: None,
            timer_queued: None,
            timer_generation: 0,
            dirty: false,
            stats: HostStats::default(),
        }
    }
}

/// Alpha's address on link 1 (IPv4).
pub const ALPHA_1_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
/// Alpha's address on link 2 (IPv4).
pub const ALPHA_2_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
/// Alpha's address on link 1 (IPv6).
pub const ALPHA_1_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1));
/// Alpha's address on link 2 (IPv6).
pub const ALPHA_2_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 1));
/// Beta's address on link 1 (IPv4).
pub const BETA_1_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
/// Beta's address on link 2 (IPv4).
pub const BETA_2_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2));
/// Beta's address on link 1 (IPv6).
pub const BETA_1_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2));
/// Beta's address on link 2 (IPv6).
pub const BETA_2_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 2));

/// The lab of DESIGN.md: hosts `alpha` and `beta` joined by two links.
///
/// ```text
///  alpha                                   beta
///  192.0.2.1      ── link 1 (primary) ──   192.0.2.2
///  198.51.100.1   ── link 2 ──             198.51.100.2
///  2001:db8:1::1  (link 1, IPv6)           2001:db8:1::2
///  2001:db8:2::1  (link 2, IPv6)           2001:db8:2::2
/// ```
///
/// Alpha is end `a` of both links: [`Direction::AToB`] is alpha → beta.
pub struct Lab {
    /// The simulator.
    pub sim: Sim,
    /// Host `alpha`.
    pub alpha: HostId,
    /// Host `beta`.
    pub beta: HostId,
    /// Link 1: 192.0.2.0/24 and 2001:db8:1::/64.
    pub link1: LinkId,
    /// Link 2: 198.51.100.0/24 and 2001:db8:2::/64.
    pub link2: LinkId,
}

impl Lab {
    /// Alpha's addresses, in interface order (as [`Sim::host_addresses`]
    /// lists them): link 1 IPv4, link 1 IPv6, link 2 IPv4, link 2 IPv6.
    pub const ALPHA: [IpAddr; 4] = [ALPHA_1_V4, ALPHA_1_V6, ALPHA_2_V4, ALPHA_2_V6];
    /// Beta's addresses, in the same order.
    pub const BETA: [IpAddr; 4] = [BETA_1_V4, BETA_1_V6, BETA_2_V4, BETA_2_V6];

    /// The lab with the default simulator settings, both links (both
    /// directions) configured as `link`.
    pub fn new(seed: u64, link: LinkConfig) -> Lab {
        Lab::with_config(seed, SimConfig::default(), link)
    }

    /// The lab with these simulator settings.
    pub fn with_config(seed: u64, config: SimConfig, link: LinkConfig) -> Lab {
        let mut sim = Sim::with_config(seed, config);
        let alpha = sim.add_host("alpha");
        let beta = sim.add_host("beta");
        let link1 = sim.add_link(
            (alpha, &[ALPHA_1_V4, ALPHA_1_V6]),
            (beta, &[BETA_1_V4, BETA_1_V6]),
            link.clone(),
        );
        let link2 = sim.add_link(
            (alpha, &[ALPHA_2_V4, ALPHA_2_V6]),
            (beta, &[BETA_2_V4, BETA_2_V6]),
            link,
        );
        Lab {
            sim,
            alpha,
            beta,
            link1,
            link2,
        }
    }

    /// The parts: `(sim, alpha, beta, link1, link2)`.
    pub fn into_parts(self) -> (Sim, HostId, HostId, LinkId, LinkId) {
        (self.sim, self.alpha, self.beta, self.link1, self.link2)
    }
}
