//! `msctp-sim`: a deterministic discrete-event network (not yet implemented).
//!
//! This crate will own the virtual clock, the seeded RNG, hosts with several
//! addresses, links with delay, jitter, bandwidth, loss, duplication, reordering
//! and up/down/ICMP state, and a pcap of every link. It will drive any number of
//! `msctp-proto` endpoints so that every behaviour can be replayed from a seed.
//! Nothing is implemented yet.
