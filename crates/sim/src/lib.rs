//! `msctp-sim`: a deterministic discrete-event network simulator for
//! multi-homed SCTP.
//!
//! The simulator owns a virtual clock, a seeded RNG, hosts with several
//! interfaces and addresses (IPv4 and IPv6), point-to-point links with
//! delay, jitter, bandwidth and a bounded queue, MTU, loss, duplication,
//! reordering and up/down/reject states (with ICMP errors), scheduled
//! changes, an event log with counters, and pcap captures of every link. It
//! drives any sans-IO node that implements [`Agent`]; [`sctp::SctpHost`]
//! runs an `msctp-proto` endpoint that way, unchanged.
//!
//! Every datagram an agent transmits is parsed again with
//! `msctp_wire::Packet::parse`, checksum included (the *wire check*, on by
//! default, see [`SimConfig`]), so every packet a simulated test emits is
//! known to be well formed.
//!
//! # Modules
//!
//! | module | owns |
//! |---|---|
//! | `agent` | [`Datagram`], [`IcmpError`], [`IcmpKind`], the [`Agent`] trait |
//! | `sim` | [`Sim`]: building the network, configuring links, agents, scheduling, running |
//! | `observe` | the log, wire errors and captures of a run |
//! | `engine` | event processing and agent driving |
//! | `link` | [`LinkConfig`], [`LinkState`], [`Direction`], the timing model |
//! | `topology` | hosts, routing, the DESIGN.md [`Lab`] |
//! | [`clock`] | virtual time, `Instant` mapping, capture epoch |
//! | [`rng`] | the seeded PRNG, [`seed_from_env`] |
//! | `queue` | the `(time, sequence)` event queue |
//! | [`icmp`] | ICMP/ICMPv6 codes, quoting, message bytes |
//! | `pcap` | in-memory captures |
//! | [`log`] | [`LogEntry`], [`LogKind`], [`DropReason`] |
//! | [`stats`] | counters per link direction and per host |
//! | `wire_check` | the wire check, [`WireError`] |
//! | `config` | [`SimConfig`] |
//! | [`sctp`] | [`sctp::SctpHost`]: an `msctp-proto` endpoint as a simulated host, workloads, failover measurement |
//! | [`scenario`] | the reference text's two experiments (normal operation, primary path switching) as deterministic runs |
//!
//! # Example
//!
//! ```
//! use msctp_sim::{Agent, Datagram, IcmpError, Lab, LinkConfig, LinkState};
//! use std::time::{Duration, Instant};
//!
//! /// Counts what it receives.
//! #[derive(Default)]
//! struct Sink(usize);
//! impl Agent for Sink {
//!     fn handle_datagram(&mut self, _: Instant, _: Datagram) { self.0 += 1 }
//!     fn handle_icmp(&mut self, _: Instant, _: IcmpError) {}
//!     fn poll_transmit(&mut self, _: Instant) -> Option<Datagram> { None }
//!     fn poll_timeout(&mut self) -> Option<Instant> { None }
//!     fn handle_timeout(&mut self, _: Instant) {}
//! }
//!
//! let seed = msctp_sim::seed_from_env(1);
//! let Lab { mut sim, alpha, beta, link1, .. } = Lab::new(seed, LinkConfig::default());
//! sim.set_agent(alpha, Sink::default());
//! sim.set_agent(beta, Sink::default());
//! sim.schedule_link_state(Duration::from_secs(1), link1, None, LinkState::REJECT);
//! sim.run_for(Duration::from_secs(2));
//! assert_eq!(sim.agent::<Sink>(beta).0, 0);
//! ```

mod agent;
pub mod clock;
mod config;
mod engine;
pub mod icmp;
mod link;
pub mod log;
mod observe;
mod pcap;
mod queue;
pub mod rng;
pub mod scenario;
pub mod sctp;
mod sim;
pub mod sources;
pub mod stats;
mod topology;
mod wire_check;

pub use agent::{
    Agent, AnyAgent, Datagram, IPV4_HEADER_LEN, IPV6_HEADER_LEN, IcmpError, IcmpKind, ip_header_len,
};
pub use clock::{PCAP_EPOCH, VirtualTime};
pub use config::SimConfig;
pub use link::{
    Direction, DropFilter, JitterDistribution, LinkConfig, LinkId, LinkState, RejectWith,
};
pub use log::{DropReason, LogEntry, LogKind};
pub use rng::{Rng, SEED_ENV, seed_from_env};
pub use sim::Sim;
pub use stats::{DirectionStats, DropCounts, HostStats, LinkStats};
pub use topology::{
    ALPHA_1_V4, ALPHA_1_V6, ALPHA_2_V4, ALPHA_2_V6, BETA_1_V4, BETA_1_V6, BETA_2_V4, BETA_2_V6,
    HostId, Lab,
};
pub use wire_check::{WireError, WireErrorKind, hex};
