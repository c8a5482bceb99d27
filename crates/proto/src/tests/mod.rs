//! In-crate tests of the engine: two endpoints joined by an in-memory
//! network with virtual time (quinn-proto's `Pair`), for the handshake, data
//! transfer and teardown. Scenario tests with links, loss and failover live in
//! `msctp-sim`.

mod basic;
mod endpoint_rules;
mod handshake;
mod icmp;
mod limits;
mod pair;
mod path_model;
mod path_rules;
mod retransmit_rules;
mod tags;
mod transfer;
