//! [`Sim`]: the simulator's state and its public API — building the
//! network, configuring links, placing agents, scheduling changes, running,
//! and reading the counters. The log and captures are read through
//! `observe.rs`; events are processed in `engine.rs`.

use crate::agent::{Agent, AnyAgent, Datagram};
use crate::clock::{Clock, Nanos, VirtualTime, nanos};
use crate::config::SimConfig;
use crate::engine::Event;
use crate::link::{Direction, DropFilter, End, Lane, Link, LinkConfig, LinkId, LinkState};
use crate::log::{LogEntry, LogKind};
use crate::pcap::Recorder;
use crate::queue::EventQueue;
use crate::rng::{Rng, SEED_ENV};
use crate::stats::{HostStats, LinkStats};
use crate::topology::{Host, HostId, Lab};
use crate::wire_check::WireError;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// A deterministic discrete-event network simulation.
///
/// Build the network ([`Sim::add_host`], [`Sim::add_link`], or
/// [`Sim::lab`]), place agents ([`Sim::set_agent`]), then run
/// ([`Sim::run_for`], [`Sim::run_until`], [`Sim::run_until_cond`],
/// [`Sim::step`]). Between runs, tests reach their agents with
/// [`Sim::agent_mut`] / [`Sim::with_agent`]; the simulator polls an agent
/// handed out that way before the next event, so what it queued is sent at
/// the current virtual time.
///
/// Everything random comes from the seed: two runs with the same seed, the
/// same network and the same agents produce the same log and the same
/// captures byte for byte. A `Sim` dropped during a panic prints its seed
/// and virtual time, so that a failing test can be replayed with
/// `MSCTP_SIM_SEED` (see [`crate::seed_from_env`]).
pub struct Sim {
    pub(crate) seed: u64,
    pub(crate) config: SimConfig,
    pub(crate) clock: Clock,
    pub(crate) now: Nanos,
    pub(crate) queue: EventQueue<Event>,
    pub(crate) hosts: Vec<Host>,
    pub(crate) links: Vec<Link>,
    pub(crate) log: Vec<LogEntry>,
    pub(crate) wire_errors: Vec<WireError>,
    pub(crate) combined: Option<Recorder>,
    /// Hosts whose agent was handed out and must be polled.
    pub(crate) dirty: Vec<HostId>,
    /// Events processed at the current instant (livelock guard).
    pub(crate) same_instant: u64,
    pub(crate) events: u64,
}

impl Sim {
    /// An empty network with the default settings.
    pub fn new(seed: u64) -> Sim {
        Sim::with_config(seed, SimConfig::default())
    }

    /// An empty network with these settings.
    pub fn with_config(seed: u64, config: SimConfig) -> Sim {
        let combined = config.combined_pcap.then(Recorder::new);
        Sim {
            seed,
            config,
            clock: Clock::new(Instant::now()),
            now: 0,
            queue: EventQueue::new(),
            hosts: Vec::new(),
            links: Vec::new(),
            log: Vec::new(),
            wire_errors: Vec::new(),
            combined,
            dirty: Vec::new(),
            same_instant: 0,
            events: 0,
        }
    }

    /// The two-host, two-link lab of DESIGN.md (see [`Lab`]).
    pub fn lab(seed: u64, link: LinkConfig) -> Lab {
        Lab::new(seed, link)
    }

    /// The seed of this run.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The settings of this run.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    // ----- time -----

    /// The current virtual time, as the `Instant` agents see.
    pub fn now(&self) -> Instant {
        self.clock.instant(self.now)
    }

    /// The `Instant` of virtual time zero.
    pub fn start(&self) -> Instant {
        self.clock.base()
    }

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.now)
    }

    /// The `Instant` of virtual time `t`.
    pub fn instant_at(&self, t: Duration) -> Instant {
        self.clock.instant(nanos(t))
    }

    /// The virtual time of `instant` (zero for instants before the start).
    pub fn time_of(&self, instant: Instant) -> Duration {
        Duration::from_nanos(self.clock.offset(instant))
    }

    // ----- topology -----

    /// Adds a host without interfaces.
    pub fn add_host(&mut self, name: &str) -> HostId {
        self.hosts.push(Host::new(name));
        HostId(self.hosts.len() - 1)
    }

    /// Number of hosts.
    pub fn host_count(&self) -> usize {
        self.hosts.len()
    }

    /// The host named `name` (the first, if several share it).
    pub fn host_by_name(&self, name: &str) -> Option<HostId> {
        self.hosts.iter().position(|h| h.name == name).map(HostId)
    }

    /// The name given to [`Sim::add_host`].
    pub fn host_name(&self, host: HostId) -> &str {
        &self.hosts[host.0].name
    }

    /// Every address of the host, in the order its interfaces were added.
    pub fn host_addresses(&self, host: HostId) -> &[IpAddr] {
        &self.hosts[host.0].addrs
    }

    /// Counters of a host.
    pub fn host_stats(&self, host: HostId) -> HostStats {
        self.hosts[host.0].stats
    }

    /// Adds an interface with addresses `a.1` on host `a.0` and one with
    /// addresses `b.1` on host `b.0`, joined by a point-to-point link whose
    /// two directions are configured as `config`. Each host gets a route to
    /// each of the far end's addresses, unless it already has one (the first
    /// link wins). Captures it if [`SimConfig::record_pcap`] is set.
    ///
    /// # Panics
    ///
    /// If both ends are the same host, if an address already belongs to
    /// another host, or if `config` is invalid (a probability outside
    /// `[0, 1]`, a zero bandwidth).
    pub fn add_link(
        &mut self,
        a: (HostId, &[IpAddr]),
        b: (HostId, &[IpAddr]),
        config: LinkConfig,
    ) -> LinkId {
        assert_ne!(a.0, b.0, "a link must join two different hosts");
        config.validate();
        for (host, addrs) in [a, b] {
            for addr in addrs {
                if let Some(owner) = self.owner_of(*addr) {
                    assert_eq!(
                        owner, host,
                        "address {addr} already belongs to host {:?}",
                        self.hosts[owner.0].name
                    );
                }
            }
        }
        let id = LinkId(self.links.len());
        let lane = |dir: Direction| {
            let stream = (id.0 as u64) * 2 + dir.index() as u64 + 1;
            Lane::new(config.clone(), Rng::derive(self.seed, stream))
        };
        let lanes = [lane(Direction::AToB), lane(Direction::BToA)];
        let pcap = self.config.record_pcap.then(Recorder::new);
        self.links.push(Link {
            ends: [
                End {
                    host: a.0,
                    addrs: a.1.to_vec(),
                },
                End {
                    host: b.0,
                    addrs: b.1.to_vec(),
                },
            ],
            lanes,
            pcap,
        });
        for (near, far, dir) in [(a, b, Direction::AToB), (b, a, Direction::BToA)] {
            let host = &mut self.hosts[near.0.0];
            for addr in near.1 {
                if !host.addrs.contains(addr) {
                    host.addrs.push(*addr);
                }
            }
            for addr in far.1 {
                host.routes.entry(*addr).or_insert((id, dir));
            }
        }
        self.refresh_sources(a.0);
        self.refresh_sources(b.0);
        id
    }

    /// Rebuilds `host`'s source table from its routes.
    fn refresh_sources(&mut self, host: HostId) {
        let table = self.hosts[host.0]
            .routes
            .iter()
            .map(|(dst, (link, dir))| {
                let near = match dir {
                    Direction::AToB => 0,
                    Direction::BToA => 1,
                };
                (*dst, self.links[link.0].ends[near].addrs.clone())
            })
            .collect();
        self.hosts[host.0].sources.replace(table);
        if let Some(agent) = self.hosts[host.0].agent.as_mut() {
            agent.routes_changed();
            self.mark_dirty(host);
        }
    }

    /// The host that owns `addr`, if any.
    pub fn owner_of(&self, addr: IpAddr) -> Option<HostId> {
        self.hosts
            .iter()
            .position(|h| h.addrs.contains(&addr))
            .map(HostId)
    }

    /// The hosts at ends `a` and `b` of a link.
    pub fn link_ends(&self, link: LinkId) -> (HostId, HostId) {
        let l = &self.links[link.0];
        (l.ends[0].host, l.ends[1].host)
    }

    /// The addresses of the interfaces at ends `a` and `b` of a link.
    pub fn link_addresses(&self, link: LinkId) -> (&[IpAddr], &[IpAddr]) {
        let l = &self.links[link.0];
        (&l.ends[0].addrs, &l.ends[1].addrs)
    }

    /// Number of links.
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    /// Makes `host` send datagrams for `dst` over `link` (of which it must
    /// be an end), replacing the automatic route. If the far end does not
    /// own `dst`, such datagrams are dropped there as `NoRoute`.
    pub fn set_route(&mut self, host: HostId, dst: IpAddr, link: LinkId) {
        let dir = self.direction_from(link, host);
        self.hosts[host.0].routes.insert(dst, (link, dir));
        self.refresh_sources(host);
    }

    /// Removes the route of `host` to `dst`: datagrams to it are dropped as
    /// `NoRoute`.
    pub fn remove_route(&mut self, host: HostId, dst: IpAddr) {
        self.hosts[host.0].routes.remove(&dst);
        self.refresh_sources(host);
    }

    /// The link and direction `host` sends datagrams for `dst` over.
    pub fn route(&self, host: HostId, dst: IpAddr) -> Option<(LinkId, Direction)> {
        self.hosts[host.0].routes.get(&dst).copied()
    }

    /// The direction of `link` that leaves `host`.
    ///
    /// # Panics
    ///
    /// If `host` is not an end of `link`.
    pub fn direction_from(&self, link: LinkId, host: HostId) -> Direction {
        let l = &self.links[link.0];
        if l.ends[0].host == host {
            Direction::AToB
        } else if l.ends[1].host == host {
            Direction::BToA
        } else {
            panic!("host {host} is not an end of {link}")
        }
    }

    // ----- links -----

    /// Replaces the configuration of one direction of a link, or of both
    /// (`dir: None`). Datagrams already on the way keep their timing.
    pub fn set_link_config(&mut self, link: LinkId, dir: Option<Direction>, config: LinkConfig) {
        config.validate();
        for &d in Direction::select(dir) {
            self.links[link.0].lanes[d.index()].config = config.clone();
            self.note_link(link, d, LogKind::LinkConfigChanged);
        }
    }

    /// The configuration of one direction of a link.
    pub fn link_config(&self, link: LinkId, dir: Direction) -> &LinkConfig {
        &self.links[link.0].lanes[dir.index()].config
    }

    /// Sets the state of one direction of a link, or of both (`dir: None`),
    /// now. Applies to datagrams arriving from now on, including those
    /// already on the way.
    pub fn set_link_state(&mut self, link: LinkId, dir: Option<Direction>, state: LinkState) {
        for &d in Direction::select(dir) {
            let lane = &mut self.links[link.0].lanes[d.index()];
            let from = lane.state;
            if from != state {
                lane.state = state;
                self.note_link(link, d, LogKind::LinkStateChanged { from, to: state });
            }
        }
    }

    /// The state of one direction of a link.
    pub fn link_state(&self, link: LinkId, dir: Direction) -> LinkState {
        self.links[link.0].lanes[dir.index()].state
    }

    /// Drops the datagrams entering `dir` of `link` for which `filter`
    /// returns `true` (after the MTU check, before the queue), replacing any
    /// previous filter. For deterministic losses such as "the first INIT
    /// ACK".
    pub fn set_drop_filter(
        &mut self,
        link: LinkId,
        dir: Direction,
        filter: impl FnMut(&Datagram) -> bool + 'static,
    ) {
        self.links[link.0].lanes[dir.index()].filter = Some(Box::new(filter) as DropFilter);
    }

    /// Removes the drop filter of `dir` of `link`.
    pub fn clear_drop_filter(&mut self, link: LinkId, dir: Direction) {
        self.links[link.0].lanes[dir.index()].filter = None;
    }

    /// Counters of both directions of a link.
    pub fn link_stats(&self, link: LinkId) -> LinkStats {
        let l = &self.links[link.0];
        LinkStats {
            a_to_b: l.lanes[0].stats,
            b_to_a: l.lanes[1].stats,
        }
    }

    // ----- scheduling -----

    /// Runs `action` at virtual time `at` (at once, in order, if `at` is
    /// not in the future), after the events already scheduled for that time.
    pub fn schedule(&mut self, at: Duration, action: impl FnOnce(&mut Sim) + 'static) {
        let at = nanos(at).max(self.now);
        self.queue.push(at, Event::Action(Box::new(action)));
    }

    /// Runs `action` `after` from now.
    pub fn schedule_in(&mut self, after: Duration, action: impl FnOnce(&mut Sim) + 'static) {
        self.schedule(self.elapsed().saturating_add(after), action);
    }

    /// Sets the state of a link (one direction or both) at virtual time `at`.
    pub fn schedule_link_state(
        &mut self,
        at: Duration,
        link: LinkId,
        dir: Option<Direction>,
        state: LinkState,
    ) {
        self.schedule(at, move |sim| sim.set_link_state(link, dir, state));
    }

    /// Replaces the configuration of a link (one direction or both) at
    /// virtual time `at`.
    pub fn schedule_link_config(
        &mut self,
        at: Duration,
        link: LinkId,
        dir: Option<Direction>,
        config: LinkConfig,
    ) {
        config.validate();
        self.schedule(at, move |sim| sim.set_link_config(link, dir, config));
    }

    /// Number of events waiting in the queue.
    pub fn pending_events(&self) -> usize {
        self.queue.len()
    }

    /// Number of events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.events
    }

    // ----- agents -----

    /// Places `agent` on `host`, replacing any previous one; it is polled
    /// before the next event.
    pub fn set_agent(&mut self, host: HostId, agent: impl Agent + 'static) {
        self.set_boxed_agent(host, Box::new(agent));
    }

    /// Places an already boxed agent on `host`.
    pub fn set_boxed_agent(&mut self, host: HostId, mut agent: Box<dyn AnyAgent>) {
        agent.attach(self.hosts[host.0].sources.clone());
        self.hosts[host.0].follows_routing = agent.follows_routing();
        self.hosts[host.0].agent = Some(agent);
        self.mark_dirty(host);
    }

    /// Removes the agent of `host`; datagrams for it are then dropped as
    /// `NoAgent`.
    pub fn take_agent(&mut self, host: HostId) -> Option<Box<dyn AnyAgent>> {
        self.hosts[host.0].deadline = None;
        self.hosts[host.0].agent.take()
    }

    /// The agent of `host`, if it is a `T`.
    pub fn try_agent<T: Agent + 'static>(&self, host: HostId) -> Option<&T> {
        self.hosts[host.0]
            .agent
            .as_deref()
            .and_then(|a| a.as_any().downcast_ref())
    }

    /// The agent of `host`, if it is a `T`, mutably; it is polled before
    /// the next event.
    pub fn try_agent_mut<T: Agent + 'static>(&mut self, host: HostId) -> Option<&mut T> {
        if self.hosts[host.0].agent.is_some() {
            self.mark_dirty(host);
        }
        self.hosts[host.0]
            .agent
            .as_deref_mut()
            .and_then(|a| a.as_any_mut().downcast_mut())
    }

    /// The agent of `host`.
    ///
    /// # Panics
    ///
    /// If the host has no agent or it is not a `T`.
    pub fn agent<T: Agent + 'static>(&self, host: HostId) -> &T {
        match self.try_agent(host) {
            Some(agent) => agent,
            None => panic!("{}", self.agent_mismatch::<T>(host)),
        }
    }

    /// The agent of `host`, mutably; it is polled before the next event, so
    /// what it queued is sent at the current virtual time.
    ///
    /// # Panics
    ///
    /// If the host has no agent or it is not a `T`.
    pub fn agent_mut<T: Agent + 'static>(&mut self, host: HostId) -> &mut T {
        if self.try_agent::<T>(host).is_none() {
            panic!("{}", self.agent_mismatch::<T>(host));
        }
        self.try_agent_mut(host).expect("checked above")
    }

    /// Calls `f` with the agent of `host` and the current virtual time, and
    /// polls the agent right after, so that what it queued enters the
    /// network at once.
    ///
    /// # Panics
    ///
    /// If the host has no agent or it is not a `T`.
    pub fn with_agent<T: Agent + 'static, R>(
        &mut self,
        host: HostId,
        f: impl FnOnce(&mut T, Instant) -> R,
    ) -> R {
        let now = self.now();
        let result = f(self.agent_mut(host), now);
        self.service_dirty();
        result
    }

    fn agent_mismatch<T>(&self, host: HostId) -> String {
        let name = &self.hosts[host.0].name;
        match &self.hosts[host.0].agent {
            None => format!("host {name:?} has no agent"),
            Some(a) => format!(
                "host {name:?} has an agent of type {}, not {}",
                a.type_name(),
                std::any::type_name::<T>()
            ),
        }
    }

    pub(crate) fn mark_dirty(&mut self, host: HostId) {
        let h = &mut self.hosts[host.0];
        if !h.dirty {
            h.dirty = true;
            self.dirty.push(host);
        }
    }

    /// Sends `datagram` from `host` now, as if its agent had transmitted it
    /// (wire check, routing, link model). For scripted packets in tests.
    pub fn inject(&mut self, host: HostId, datagram: Datagram) {
        self.transmit(host, datagram);
    }

    // ----- running -----

    /// Processes the earliest pending event; `false` if there was none.
    pub fn step(&mut self) -> bool {
        self.service_dirty();
        let Some((at, event)) = self.queue.pop() else {
            return false;
        };
        self.advance_to(at);
        self.process(event);
        self.service_dirty();
        true
    }

    /// Processes every event up to and including virtual time `t`, then
    /// sets the clock to `t` (if it is in the future).
    pub fn run_until(&mut self, t: Duration) {
        let end = nanos(t);
        loop {
            self.service_dirty();
            match self.queue.peek_time() {
                Some(at) if at <= end => {
                    self.step();
                }
                _ => break,
            }
        }
        if end > self.now {
            self.advance_to(end);
        }
    }

    /// Runs for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.elapsed().saturating_add(d));
    }

    /// Runs until `cond` holds (checked before the first event and after
    /// each one) or `max` of virtual time has passed; returns whether it
    /// held. On success the clock stays at the event that made it hold.
    pub fn run_until_cond(
        &mut self,
        max: Duration,
        mut cond: impl FnMut(&mut Sim) -> bool,
    ) -> bool {
        let end = self.now.saturating_add(nanos(max));
        loop {
            self.service_dirty();
            if cond(self) {
                self.service_dirty();
                return true;
            }
            match self.queue.peek_time() {
                Some(at) if at <= end => {
                    self.step();
                }
                _ => break,
            }
        }
        if end > self.now {
            self.advance_to(end);
        }
        let held = cond(self);
        self.service_dirty();
        held
    }

    pub(crate) fn advance_to(&mut self, t: Nanos) {
        debug_assert!(t >= self.now, "time runs forward");
        if t == self.now {
            self.same_instant += 1;
            if self.same_instant > self.config.max_events_per_instant {
                panic!(
                    "msctp-sim: more than {} events at virtual time {}: an agent keeps \
                     asking for a timeout that is not in the future, or keeps answering \
                     itself at the same instant (livelock)",
                    self.config.max_events_per_instant,
                    VirtualTime(self.elapsed())
                );
            }
        } else {
            self.now = t;
            self.same_instant = 1;
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "msctp-sim: the failed run used seed {seed} (replay with {SEED_ENV}={seed}); \
                 virtual time {}",
                VirtualTime(self.elapsed()),
                seed = self.seed,
            );
        }
    }
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.seed)
            .field("time", &VirtualTime(self.elapsed()))
            .field("hosts", &self.hosts.len())
            .field("links", &self.links.len())
            .field("pending_events", &self.queue.len())
            .finish()
    }
}
