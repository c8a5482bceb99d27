//! `msctp-proto`: the sans-IO SCTP protocol engine (not yet implemented).
//!
//! This crate will own the `Endpoint` (packet demultiplexing, stateless INIT
//! answering with signed cookies, out-of-the-blue rules of RFC 9260 §8.4), the
//! `Association` (the state machine of RFC 9260 §4, streams, TSNs, SACK, timers,
//! congestion control) and `path` (multi-homing: address lists, confirmation,
//! heartbeats, error counters, PF/active/inactive, primary, failover/failback).
//!
//! It will never touch a socket, a thread, the system clock or the OS RNG: time
//! is passed in, randomness comes from a seeded RNG and output is pulled with
//! `poll_transmit`, `poll_timeout` and `poll_event`. Nothing is implemented yet;
//! see the project issues for the plan.
