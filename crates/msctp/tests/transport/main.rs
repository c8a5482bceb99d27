//! Real-network tests of `msctp::transport`: two network namespaces joined
//! by two veth links (the lab of the design document), raw IP and UDP
//! transports, ICMP, clear errors.
//!
//! These tests need root (namespaces, veth links, iptables, raw sockets) and
//! fail with a clear message without it; CI runs them as root. Every
//! namespace they create is removed, also when a test fails. Every wait is a
//! timeout on an expected event.

mod common;
mod errors;
mod icmp;
mod raw;
mod udp;
