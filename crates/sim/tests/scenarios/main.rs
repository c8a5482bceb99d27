//! Scenario tests of the simulator, driven by the toy agents of `agents`.
//! One test binary: every module shares the helpers.

mod agents;
mod api;
mod determinism;
mod impairments;
mod link_state;
mod pcap;
mod routing;
mod timing;
mod wire_check;
