//! `msctp`: userspace multi-homed SCTP for tokio.
//!
//! SCTP (RFC 9260) is a reliable, message-oriented transport whose
//! associations join two *endpoints*, each of which may have several IP
//! addresses. Every pair of a local and a peer address is a *path*: paths
//! are verified and monitored with HEARTBEATs, and when the primary path
//! fails, retransmissions and new messages move to another one (failover)
//! and return when it recovers (failback), without the application doing
//! anything. msctp implements this in userspace: the sans-IO engine of
//! `msctp-proto` driven by tokio over raw IP (protocol 132, wire-compatible
//! with every SCTP stack) or over UDP (RFC 6951). It runs where the kernel
//! has no SCTP of its own.
//!
//! The API mirrors the SCTP sockets API (RFC 6458) in Rust idioms: a
//! one-to-one style ([`SctpListener`], [`SctpStream`], shaped like
//! `tokio::net`), a one-to-many style ([`SctpSocket`]) and `sctp_bindx`-like
//! construction ([`SocketBuilder`]).
//!
//! # A multi-homed server
//!
//! Bind every local address the association may use: all of them are
//! announced to peers (RFC 9260 §5.1.2), and each becomes a path the peer
//! can fail over to.
//!
//! ```no_run
//! use std::net::IpAddr;
//!
//! use msctp::{Options, SctpListener, SendInfo};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> std::io::Result<()> {
//!     let addrs: [IpAddr; 2] = ["192.0.2.2".parse().unwrap(), "198.51.100.2".parse().unwrap()];
//!     let listener = SctpListener::bind(&addrs, 5001, Options::default()).await?;
//!     loop {
//!         let stream = listener.accept().await?;
//!         tokio::spawn(async move {
//!             // Echo every message on its stream, with its PPID and ordering.
//!             while let Ok(Some((data, info))) = stream.recv().await {
//!                 let back = SendInfo {
//!                     stream: info.stream,
//!                     ppid: info.ppid,
//!                     unordered: info.unordered,
//!                     ..SendInfo::default()
//!                 };
//!                 if stream.send(data, back).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         });
//!     }
//! }
//! ```
//!
//! # A multi-homed client
//!
//! [`SctpStream::connect`] binds the local addresses (on an ephemeral
//! port), sends the INIT to the peer's addresses in turn until one answers
//! (`sctp_connectx`), learns the peer's other addresses from its INIT ACK and
//! returns once the association is up. Messages keep their boundaries; each
//! goes on a stream, with a payload protocol identifier, ordered or not
//! ([`SendInfo`]); [`RecvInfo`] tells the same of received ones.
//!
//! ```no_run
//! use std::net::IpAddr;
//!
//! use msctp::{Options, SctpStream, SendInfo};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> std::io::Result<()> {
//!     let local: [IpAddr; 2] = ["192.0.2.1".parse().unwrap(), "198.51.100.1".parse().unwrap()];
//!     let peer: [IpAddr; 1] = ["192.0.2.2".parse().unwrap()];
//!     let stream = SctpStream::connect(&local, &peer, 5001, Options::default()).await?;
//!     let info = SendInfo { stream: 1, ppid: 46, ..SendInfo::default() };
//!     stream.send("hello", info).await?;
//!     if let Some((reply, info)) = stream.recv().await? {
//!         println!("{} bytes on stream {} (PPID {})", reply.len(), info.stream, info.ppid);
//!     }
//!     println!("peer addresses: {:?}", stream.peer_addrs()?);
//!     stream.shutdown().await // graceful: everything queued is delivered first
//! }
//! ```
//!
//! Dropping a stream shuts its association down gracefully in the
//! background; [`SctpStream::abort`] ends it at once.
//!
//! # Paths and events
//!
//! [`SctpStream::paths`] returns one [`PathInfo`] per peer address (RFC 6458
//! `SCTP_GET_PEER_ADDR_INFO`): the local and peer address, the
//! [`PathState`], whether it is the primary path, smoothed RTT, RTO,
//! congestion window, error count and traffic counters. A path is
//!
//! * [`PathState::Unconfirmed`] until a HEARTBEAT ACK proves the address
//!   (RFC 9260 §5.4; addresses given to `connect` count as confirmed), and
//!   carries no data until then;
//! * [`PathState::Active`] when usable;
//! * [`PathState::PotentiallyFailed`] after a retransmission timeout or an
//!   ICMP error (SCTP-PF, RFC 7829): data moves to another active path at
//!   once, and the path is probed with a HEARTBEAT every RTO;
//! * [`PathState::Inactive`] after Path.Max.Retrans errors in a row (RFC 9260
//!   §8.2).
//!
//! A HEARTBEAT ACK makes it active again, and traffic returns to the primary
//! path ([`SctpStream::set_primary`] chooses it; [`SendInfo::destination`]
//! sends one message over a given path).
//!
//! Every change is reported by [`SctpStream::next_event`] (RFC 6458
//! notifications as typed values): [`Event::PeerAddress`] with an
//! [`AddressChange`] (confirmed, potentially failed, unreachable, available,
//! made primary, added), [`Event::Association`] with an
//! [`AssociationChange`] (up, lost, restarted, shut down), send failures,
//! the peer's shutdown and errors. [`Options::events`] chooses which kinds
//! are reported ([`EventKinds`]); association changes always are.
//!
//! ```no_run
//! use msctp::{AddressChange, Event, SctpStream};
//!
//! async fn watch(stream: &SctpStream) -> std::io::Result<()> {
//!     for p in stream.paths()? {
//!         let primary = if p.primary { " (primary)" } else { "" };
//!         println!("{} -> {}: {:?}{primary}, srtt {:?}, rto {:?}, {} retransmissions",
//!             p.local, p.remote, p.state, p.srtt, p.rto, p.counters.retransmissions);
//!     }
//!     while let Some(event) = stream.next_event().await {
//!         match event {
//!             Event::PeerAddress { address, change: AddressChange::PotentiallyFailed, .. } => {
//!                 println!("{address} is failing: data moves to another path");
//!             }
//!             Event::PeerAddress { address, change: AddressChange::Available, .. } => {
//!                 println!("{address} answers again");
//!             }
//!             Event::Association(change) => println!("association: {change:?}"),
//!             _ => {}
//!         }
//!     }
//!     Ok(()) // the association has ended
//! }
//! ```
//!
//! The example `path_events_client` prints these events and a path table
//! once a second while a link is blocked; `echo_server` is its peer.
//!
//! # Raw IP or UDP, and privileges
//!
//! [`Options::transport`] chooses how packets travel (details under
//! [Transports](#transports) below):
//!
//! * [`TransportKind::Raw`] (the default): SCTP directly in IP, protocol
//!   132, as every SCTP stack (Linux and FreeBSD kernels, usrsctp, network
//!   equipment) speaks it. Needs the `CAP_NET_RAW` capability: run as root or
//!   `setcap cap_net_raw+ep` the binary. Without it, binding fails with an
//!   error that names the capability
//!   ([`TransportError::NeedsCapNetRaw`]).
//! * [`TransportKind::Udp`] (RFC 6951): each packet in a UDP datagram,
//!   port 9899 by default ([`Options::udp`], [`Options::remote_udp_port`] for
//!   the peer's port). Needs no privilege and passes NATs, but the peer
//!   must implement RFC 6951 (usrsctp, FreeBSD, msctp). The `msctp`
//!   command's `--transport udp` selects it.
//!
//! ```no_run
//! use msctp::{Options, TransportKind};
//!
//! let raw = Options::default();
//! let udp = Options { transport: TransportKind::udp(), ..Options::default() };
//! ```
//!
//! # Configuration
//!
//! [`Config`] holds the protocol parameters under their RFC 9260 §16 and
//! RFC 7829 names, in snake case, with the RFCs' defaults. The defaults are
//! conservative: with RTO.Min at 1 s, a link that fails silently is detected
//! after about a second, and a recovered one is noticed after up to the
//! backed-off RTO of its heartbeats. On a network with millisecond round
//! trips, shorter timers make failover faster:
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use msctp::{Config, Options};
//!
//! let opts = Options {
//!     config: Config {
//!         rto_initial: Duration::from_millis(300), // RTO.Initial (1 s)
//!         rto_min: Duration::from_millis(100),     // RTO.Min (1 s)
//!         rto_max: Duration::from_secs(1),         // RTO.Max (60 s)
//!         hb_interval: Duration::from_secs(1),     // HB.interval (30 s)
//!         path_max_retrans: 5,                     // Path.Max.Retrans (5)
//!         pf_max_retrans: Some(0),                 // PFMR, RFC 7829 (0; None: no SCTP-PF)
//!         ..Config::default()
//!     },
//!     ..Options::default()
//! };
//! ```
//!
//! `cargo bench -p msctp --bench real_network` measures failover and
//! failback with both settings between two network namespaces.
//!
//! # One-to-many sockets
//!
//! An [`SctpSocket`] (RFC 6458 §3) is one endpoint serving any number of
//! associations: peers' associations are accepted implicitly, `connect`
//! starts new ones, every message and event names its association
//! ([`RecvInfo::association`]), and associations idle for the autoclose
//! time are shut down ([`SctpSocket::set_autoclose`], `SCTP_AUTOCLOSE`).
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use msctp::{AssociationChange, Event, SendInfo, SocketBuilder};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> std::io::Result<()> {
//!     let socket = SocketBuilder::new()
//!         .add_addr("192.0.2.2".parse().unwrap())
//!         .add_addr("198.51.100.2".parse().unwrap())
//!         .port(5001)
//!         .one_to_many()
//!         .await?;
//!     socket.set_autoclose(Some(Duration::from_secs(30)));
//!     loop {
//!         tokio::select! {
//!             msg = socket.recv() => {
//!                 let (data, info) = msg?;
//!                 socket.send(info.association, data, SendInfo::default()).await?;
//!             }
//!             (assoc, event) = socket.next_event() => {
//!                 if let Event::Association(AssociationChange::CommUp { .. }) = event {
//!                     socket.send(assoc, "hello", SendInfo::default()).await?;
//!                 }
//!             }
//!         }
//!     }
//! }
//! ```
//!
//! # Source addresses
//!
//! Every packet leaves from the address the host's routing uses for its
//! destination, among the bound addresses; never from the address the
//! peer's packet happened to arrive on; refreshed when the host's links,
//! addresses, routes or rules change (netlink notifications).
//!
//! In detail ([`routes`]): for each peer address the runtime asks the kernel
//! (`RTM_GETROUTE`, what `ip route get` prints) for the output interface and
//! the preferred source. The preferred source is used if it is bound; else a
//! bound address of the same family on the output interface (the one sharing
//! the longest prefix with the destination); else the bound address of the
//! same family sharing the longest prefix with it. Answers are cached per
//! destination (bounded); a netlink change clears the cache and every path
//! of every association takes its new source at once
//! (`Endpoint::refresh_sources`). So a peer that answers everything from one
//! address (usrsctp in raw mode does) cannot make msctp send on link 2 with
//! its link-1 address, and a route that moves a destination to another
//! interface moves its packets' source with it. [`PathInfo::local`] is the
//! source a path uses now.
//!
//! # Randomness and UDP ports
//!
//! Verification tags, initial TSNs and heartbeat nonces come from a CSPRNG
//! (ChaCha20) keyed from the operating system's random source
//! ([`Config::rng_secret`], filled by the runtime when `None`); the cookie
//! key ([`Config::cookie_secret`]) is a separate OS secret. If the OS random
//! source fails, binding fails: there is no weaker fallback.
//!
//! Over UDP, the peer's UDP port is learnt per association and peer address
//! (RFC 6951 §5.4) only from datagrams the association accepted (checksum
//! and verification tag right, or a valid COOKIE ECHO): a spoofed datagram
//! from another port cannot redirect an association's traffic, and the
//! table holds at most the peer addresses of live associations. Packets to a
//! peer address with no learnt port go to the port learnt from another
//! address of the same association, else to [`Options::remote_udp_port`].
//! Stateless answers (INIT ACK, replies to out-of-the-blue packets) go to
//! the UDP source port of the datagram they answer and are not remembered.
//!
//! # Capture
//!
//! [`Options::pcap`] writes every SCTP packet the endpoint sends and
//! receives to a pcap file (see [`PcapTap`]), which Wireshark, tcpdump and
//! `msctp decode FILE` read:
//!
//! ```no_run
//! let opts = msctp::Options { pcap: Some("capture.pcap".into()), ..Default::default() };
//! ```
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
//!   packet; the runtime remembers it per association and path (RFC 6951
//!   §5.4, see [Randomness and UDP ports](#randomness-and-udp-ports)).
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
pub mod routes;
pub(crate) mod runtime;
pub mod socket;
pub(crate) mod sys;
pub mod tap;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transport;

pub use builder::SocketBuilder;
pub use events::{EventKinds, EventStream};
pub use msctp_proto::{
    AddressChange, AssociationChange, AssociationHandle, CloseReason, Config, Event, PathInfo,
    PathState,
};
pub use one_to_many::SctpSocket;
pub use options::Options;
pub use socket::{AssociationError, RecvInfo, SctpListener, SctpStream, SendInfo};
pub use tap::PcapTap;
pub use transport::{
    IcmpReceived, Incoming, OutgoingPacket, Received, Transport, TransportError, TransportKind,
};
