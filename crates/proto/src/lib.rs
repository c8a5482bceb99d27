//! `msctp-proto`: the sans-IO SCTP protocol engine.
//!
//! This crate owns the [`Endpoint`] (packet demultiplexing, stateless INIT
//! answering with signed cookies, out-of-the-blue rules of RFC 9260 §8.4), the
//! [`Association`] (the state machine of RFC 9260 §4, streams, TSNs, SACK,
//! timers, congestion control) and [`path`] (multi-homing: address lists,
//! confirmation, heartbeats, error counters, PF/active/inactive, primary,
//! failover and failback).
//!
//! It never touches a socket, a thread, the system clock or the OS RNG: time
//! is passed in, randomness comes from a seeded generator
//! ([`Config::rng_seed`]) and output is pulled with `poll_transmit`,
//! `poll_timeout` and `poll_event`. The same code therefore runs unchanged in
//! the simulator, in tests and on real sockets.

pub mod association;
pub mod config;
pub mod cookie;
mod demux;
pub mod endpoint;
pub mod event;
pub mod icmp;
pub mod path;
pub(crate) mod recv;
pub mod rng;
pub mod timer;

#[cfg(test)]
mod tests;

pub use association::{Association, ReceivedMessage, SendError, SendOptions, State, Transmit};
pub use config::Config;
pub use endpoint::{AssociationHandle, ConnectError, Endpoint, EndpointStats};
pub use event::{AddressChange, AssociationChange, CloseReason, Event};
pub use icmp::{IcmpKind, IcmpReport};
pub use path::{PathInfo, PathState};
