//! `msctp`: the library applications import.
//!
//! This crate drives `msctp-proto` over real sockets with tokio. What exists
//! today is the I/O edge, [`transport`]: sending and receiving SCTP packets
//! over raw IPv4/IPv6 sockets (IP protocol 132) or UDP encapsulation
//! (RFC 6951), ICMP intake, and a pcap [`tap`]. The runtime that drives the
//! protocol engine and the socket API (`SctpListener`, `SctpStream`,
//! `SctpSocket`, mirroring RFC 6458 in Rust idioms) are not written yet.
//!
//! # Transports
//!
//! An SCTP endpoint (one SCTP port, several local addresses) sends and
//! receives through one [`transport::Transport`]. Two kinds exist:
//!
//! * **Raw IP** ([`transport::TransportKind::Raw`]): SCTP packets directly in
//!   IPv4/IPv6 as protocol 132, the format every SCTP stack speaks. Opening
//!   raw sockets needs the `CAP_NET_RAW` capability: run as root or give the
//!   binary the capability with `setcap cap_net_raw+ep`. Without it `bind`
//!   fails with [`transport::TransportError::NeedsCapNetRaw`], whose message
//!   says so and points to UDP. The host's kernel must not run SCTP itself
//!   (it would answer our peers with ABORTs); this is meant for kernels
//!   without SCTP, where the kernel leaves protocol 132 to raw sockets. The
//!   kernel does not demultiplex raw sockets by SCTP port, so the transport
//!   filters by port in userspace.
//! * **UDP encapsulation** ([`transport::TransportKind::Udp`], RFC 6951):
//!   each SCTP packet is the payload of a UDP datagram, by default on port
//!   9899. No privilege is needed, it passes NATs and firewalls that only
//!   know UDP, and only stacks that implement RFC 6951 (usrsctp, FreeBSD,
//!   msctp) can talk to it. The peer's UDP port is reported per received
//!   packet, since RFC 6951 §5.3 has the association remember it per path.
//!
//! ICMP errors about packets we sent are reported next to received packets
//! ([`transport::Incoming::Icmp`]) for `msctp_proto::Endpoint::handle_icmp`
//! (RFC 9260 Appendix C): destination unreachable, protocol unreachable
//! (the peer has no SCTP: the association is aborted) and packet too big
//! (path MTU). Over raw IP they are read from raw ICMP/ICMPv6 sockets (same
//! privilege); over UDP from the sockets' error queues (`IP_RECVERR`), which
//! needs no privilege. Port unreachable over UDP counts as protocol
//! unreachable (RFC 6951 §5.5).
//!
//! # Unsafe code
//!
//! The workspace denies `unsafe_code`. The one exception is the private
//! `sys` module: `recvmmsg`/`sendmmsg`, reading the error queue, a few
//! socket options `socket2` lacks, registering sockets with tokio (which
//! tokio ≥ 1.54 marks `unsafe`), and (for the test harness) `setns` and
//! `geteuid`. Each `unsafe` block there states why it is sound; everything
//! the kernel writes is parsed from plain byte buffers by safe code.
//!
//! # Test harness
//!
//! With the `testing` feature, the `testing` module builds the two-host lab of the
//! design document out of network namespaces (needs root) and removes it
//! again, also when a test panics. The crate's own integration tests enable
//! the feature through a dev-dependency on the crate itself, so they never
//! skip for want of it.

pub mod builder;
pub mod events;
pub mod one_to_many;
pub mod options;
pub(crate) mod runtime;
pub mod socket;
pub(crate) mod sys;
pub mod tap;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transport;

pub use builder::SocketBuilder;
pub use events::EventKinds;
pub use msctp_proto::{
    AddressChange, AssociationChange, AssociationHandle, CloseReason, Config, Event, PathInfo,
    PathState,
};
pub use one_to_many::SctpSocket;
pub use options::Options;
pub use socket::{RecvInfo, SctpListener, SctpStream, SendInfo};
pub use tap::PcapTap;
pub use transport::{
    IcmpReceived, Incoming, OutgoingPacket, Received, Transport, TransportError, TransportKind,
};
