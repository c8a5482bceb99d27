//! `msctp`: the library applications import (not yet implemented).
//!
//! This crate will drive `msctp-proto` over real sockets with tokio: raw IPv4 and
//! IPv6 sockets for IP protocol 132, UDP encapsulation (RFC 6951), ICMP intake,
//! pcap capture, and the socket API (`SctpListener`, `SctpStream`, `SctpSocket`)
//! that mirrors RFC 6458 in Rust idioms. Nothing is implemented yet.
