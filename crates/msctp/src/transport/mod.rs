//! Sending and receiving SCTP packets on real sockets, with tokio.
//!
//! A [`Transport`] is the I/O edge of one SCTP endpoint: it is bound to a set
//! of local addresses (IPv4 and IPv6 mixed) for one SCTP port, receives the
//! SCTP packets addressed to that port on those addresses together with the
//! ICMP errors about packets it sent, and sends packets from a chosen local
//! address. It knows nothing of associations: the runtime feeds what it
//! receives to `msctp_proto::Endpoint::handle` / `handle_icmp` and sends what
//! `poll_transmit` yields.
//!
//! # Raw IP ([`TransportKind::Raw`])
//!
//! One raw socket per local address: `socket(AF_INET, SOCK_RAW, 132)` or
//! `socket(AF_INET6, SOCK_RAW, 132)`, bound to that address. (`IPV6_V6ONLY`
//! is set on the IPv6 UDP sockets; Linux refuses it on raw sockets, which
//! only ever see their own family.) Binding per address, rather than one wildcard socket per family
//! with `IP_PKTINFO` / `IPV6_PKTINFO` control messages, was chosen because:
//!
//! * the kernel then delivers to each socket only the packets addressed to
//!   its address, and packets to the host's other addresses still get the
//!   kernel's ICMP "protocol unreachable" when nothing else wants them (a
//!   wildcard raw socket would silently swallow every protocol-132 packet of
//!   the host);
//! * the bound address is the source of everything sent on the socket and
//!   the destination of everything received on it: no control messages on
//!   either path, which keeps `sendmmsg` / `recvmmsg` batches simple;
//! * binding checks that the address is local (`EADDRNOTAVAIL` →
//!   [`TransportError::AddressNotLocal`]).
//!
//! Raw IPv4 sockets deliver the IPv4 header with each packet; it is parsed
//! (IHL, total length, addresses) and checked. Raw IPv6 sockets deliver the
//! payload only; the source comes from the socket address. The kernel
//! demultiplexes raw sockets by protocol and address but not by SCTP port,
//! so every raw socket bound to an address sees the packets for every SCTP
//! port there: the transport keeps those whose destination port is its own
//! and counts the others ([`TransportStats::other_port`]).
//!
//! ICMP errors are read from one raw ICMP socket per family in use
//! (`IPPROTO_ICMP` with an `ICMP_FILTER` letting only "destination
//! unreachable" through; `IPPROTO_ICMPV6` with an `ICMP6_FILTER` for
//! destination unreachable, packet too big and parameter problem). Only
//! errors quoting an SCTP packet sent from one of our addresses and from our
//! SCTP port are reported. Raw sockets need `CAP_NET_RAW`
//! ([`TransportError::NeedsCapNetRaw`]).
//!
//! # UDP encapsulation ([`TransportKind::Udp`], RFC 6951)
//!
//! One UDP socket per local address, bound to that address and the UDP port
//! (9899 by default, RFC 6951 §5.1), with `SO_REUSEADDR` off so that a port
//! already taken is a clear [`TransportError::PortInUse`]. Port 0 picks a
//! free port, the same on every address. The peer's UDP source port is
//! reported in [`Received::udp_port`]: RFC 6951 §5.3 has the association
//! remember it per path and send there. No privilege is needed.
//!
//! ICMP errors come the unprivileged way: `IP_RECVERR` / `IPV6_RECVERR` make
//! the kernel queue them on the socket's error queue, read with
//! `MSG_ERRQUEUE`; the queued payload is (the quoted start of) the UDP
//! payload we sent, that is our SCTP packet, and the extended error gives
//! ICMP type, code, MTU and the reporting node. `SO_SELECT_ERR_QUEUE` makes a
//! non-empty error queue wake the reader. Port unreachable maps to protocol
//! unreachable there (RFC 6951 §5.5); see the table in the `icmp` module
//! source for the full mapping.
//!
//! # Batches
//!
//! [`Transport::recv_batch`] reads with `recvmmsg(2)` (up to
//! [`RECV_BATCH`] datagrams per call into fixed 64 KiB buffers) and
//! [`Transport::send_batch`] writes runs of packets with the same source
//! with `sendmmsg(2)` (up to [`SEND_BATCH`] per call). UDP GSO/GRO are not
//! used: see [`Transport::send_batch`].
//!
//! # Memory
//!
//! Each transport owns [`RECV_BATCH`] receive buffers of 64 KiB (the largest
//! IP datagram), shared by its sockets; a received packet is copied out into
//! a [`Bytes`] of its own size. Nothing else grows with traffic.

mod error;
mod headers;
mod icmp;
mod recv;
mod send;
mod socket;

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

pub use error::{CAP_NET_RAW_HINT, TransportError};
pub use msctp_wire::capture::SCTP_UDP_PORT;

use crate::sys::{self, RecvMeta};
use crate::tap::PcapTap;
use socket::{Sock, check_address, icmp_socket, raw_packet_socket, udp_sockets};

/// Datagrams read by one `recvmmsg` call (and receive buffers per transport).
pub const RECV_BATCH: usize = 8;
/// Packets written by one `sendmmsg` call at most.
pub const SEND_BATCH: usize = sys::MAX_BATCH;
/// Size of each receive buffer: the largest IP datagram.
const RECV_BUF_LEN: usize = 65_536;
/// Error-queue messages read per wake-up before regular datagrams get a turn.
const ERRQUEUE_BATCH: usize = 8;
/// Reads that yield nothing (all filtered) before `recv` lets other tasks
/// run.
const IDLE_READS_BEFORE_YIELD: usize = 64;
/// SCTP common header length (RFC 9260 §3.1).
const SCTP_HEADER_LEN: usize = 12;

/// How SCTP packets are carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// Directly over IPv4/IPv6 as IP protocol 132; needs `CAP_NET_RAW`.
    Raw,
    /// Over UDP (RFC 6951); needs no privilege.
    Udp {
        /// Local UDP port: [`SCTP_UDP_PORT`] (9899) by default, 0 for any
        /// free port.
        port: u16,
    },
}

impl TransportKind {
    /// UDP encapsulation on the registered port 9899 (RFC 6951 §5.1).
    pub const fn udp() -> TransportKind {
        TransportKind::Udp {
            port: SCTP_UDP_PORT,
        }
    }
}

/// A received SCTP packet with the addresses it travelled between.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// Our address the packet was sent to.
    pub local: IpAddr,
    /// The peer address it came from.
    pub remote: IpAddr,
    /// Over UDP: the peer's UDP source port, which replies on this path must
    /// go to (RFC 6951 §5.3). `None` over raw IP.
    pub udp_port: Option<u16>,
    /// The SCTP packet from the common header on (at least 12 bytes, for our
    /// SCTP port; the checksum is not checked here).
    pub packet: Bytes,
}

/// An ICMP or ICMPv6 error that quotes an SCTP packet we sent (over raw IP,
/// or over UDP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IcmpReceived {
    /// What the error says and what it quotes, for
    /// `msctp_proto::Endpoint::handle_icmp`.
    pub report: msctp_proto::IcmpReport,
    /// The node that sent the ICMP message (the peer, or a router).
    pub from: IpAddr,
}

/// What [`Transport::recv`] yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// An SCTP packet for our port on one of our addresses.
    Packet(Received),
    /// An ICMP error about a packet we sent.
    Icmp(IcmpReceived),
}

/// One packet of a [`Transport::send_batch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutgoingPacket<'a> {
    /// Local address to send from (one of the transport's).
    pub source: IpAddr,
    /// Peer address.
    pub destination: IpAddr,
    /// Over UDP: the peer's UDP port (default [`SCTP_UDP_PORT`]); ignored
    /// over raw IP.
    pub udp_port: Option<u16>,
    /// The SCTP packet, checksum filled in.
    pub packet: &'a [u8],
}

/// Counters of a [`Transport`], since it was bound.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportStats {
    /// SCTP packets sent.
    pub packets_sent: u64,
    /// SCTP packets received and reported.
    pub packets_received: u64,
    /// Packets dropped because they were for another SCTP port.
    pub other_port: u64,
    /// Packets dropped as malformed: truncated, shorter than an SCTP common
    /// header, a bad IPv4 header, or for an address not ours.
    pub malformed: u64,
    /// ICMP errors reported.
    pub icmp_received: u64,
    /// ICMP messages ignored: not about a packet of ours, or not about
    /// reachability.
    pub icmp_ignored: u64,
}

#[derive(Default)]
struct Counters {
    packets_sent: AtomicU64,
    packets_received: AtomicU64,
    other_port: AtomicU64,
    malformed: AtomicU64,
    icmp_received: AtomicU64,
    icmp_ignored: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// The fixed receive buffers of a transport.
struct RecvBufs {
    slots: Vec<Box<[u8]>>,
    meta: Vec<RecvMeta>,
}

/// Sends and receives the SCTP packets of one endpoint: one SCTP port, a set
/// of local addresses, over raw IP or UDP. See the [module docs](self).
///
/// All methods take `&self`: one task receives ([`Transport::recv`],
/// [`Transport::recv_batch`]) while any number of tasks send. Receive from
/// one task at a time: the receive path waits with tokio's poll-based
/// readiness, which keeps one waker per socket, so a second concurrent
/// receiver could miss its wake-up. A transport must be created (bound)
/// inside a tokio runtime with I/O enabled.
pub struct Transport {
    kind: TransportKind,
    sctp_port: u16,
    local: Vec<IpAddr>,
    /// One packet socket per local address (same order as `local`), then the
    /// ICMP sockets of a raw transport.
    socks: Vec<Sock>,
    bufs: Mutex<RecvBufs>,
    next: AtomicUsize,
    tap: Option<Arc<PcapTap>>,
    counters: Counters,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("kind", &self.kind)
            .field("sctp_port", &self.sctp_port)
            .field("local", &self.local)
            .field("tap", &self.tap.is_some())
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Binds a transport for SCTP port `sctp_port` to `local_addrs` (IPv4
    /// and IPv6 mixed; duplicates are ignored).
    ///
    /// Raw: one raw socket per address plus a raw ICMP socket per family in
    /// use; fails with [`TransportError::NeedsCapNetRaw`] without
    /// `CAP_NET_RAW`. UDP: one UDP socket per address on the given port;
    /// fails with [`TransportError::PortInUse`] if it is taken. Both fail
    /// with [`TransportError::AddressNotLocal`] for an address this host does
    /// not have.
    ///
    /// Must be called inside a tokio runtime with I/O enabled (the sockets
    /// register with its reactor; `AsyncFd` panics otherwise).
    pub async fn bind(
        kind: TransportKind,
        local_addrs: &[IpAddr],
        sctp_port: u16,
    ) -> Result<Transport, TransportError> {
        if sctp_port == 0 {
            return Err(TransportError::ZeroPort);
        }
        let mut local: Vec<IpAddr> = Vec::with_capacity(local_addrs.len());
        for &a in local_addrs {
            check_address(a)?;
            if !local.contains(&a) {
                local.push(a);
            }
        }
        if local.is_empty() {
            return Err(TransportError::NoLocalAddress);
        }
        let (socks, kind) = match kind {
            TransportKind::Raw => {
                let mut socks = Vec::with_capacity(local.len() + 2);
                for &a in &local {
                    socks.push(raw_packet_socket(a)?);
                }
                if local.iter().any(IpAddr::is_ipv4) {
                    socks.push(icmp_socket(false)?);
                }
                if local.iter().any(IpAddr::is_ipv6) {
                    socks.push(icmp_socket(true)?);
                }
                (socks, TransportKind::Raw)
            }
            TransportKind::Udp { port } => {
                let (socks, port) = udp_sockets(&local, port)?;
                (socks, TransportKind::Udp { port })
            }
        };
        Ok(Transport {
            kind,
            sctp_port,
            local,
            socks,
            bufs: Mutex::new(RecvBufs {
                slots: (0..RECV_BATCH)
                    .map(|_| vec![0u8; RECV_BUF_LEN].into_boxed_slice())
                    .collect(),
                meta: vec![RecvMeta::default(); RECV_BATCH],
            }),
            next: AtomicUsize::new(0),
            tap: None,
            counters: Counters::default(),
        })
    }

    /// Records every packet sent and received from now on to `tap` (or
    /// stops recording with `None`).
    pub fn set_tap(&mut self, tap: Option<Arc<PcapTap>>) {
        self.tap = tap;
    }

    /// The local addresses, in the order given to [`Transport::bind`]
    /// (without duplicates).
    pub fn local_addrs(&self) -> &[IpAddr] {
        &self.local
    }

    /// Raw or UDP; for UDP with the port actually bound (when 0 was asked).
    pub fn kind(&self) -> TransportKind {
        self.kind
    }

    /// The local UDP port of a UDP transport.
    pub fn udp_port(&self) -> Option<u16> {
        match self.kind {
            TransportKind::Raw => None,
            TransportKind::Udp { port } => Some(port),
        }
    }

    /// The SCTP port this transport receives packets for.
    pub fn sctp_port(&self) -> u16 {
        self.sctp_port
    }

    /// Counters since the transport was bound.
    pub fn stats(&self) -> TransportStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        TransportStats {
            packets_sent: get(&c.packets_sent),
            packets_received: get(&c.packets_received),
            other_port: get(&c.other_port),
            malformed: get(&c.malformed),
            icmp_received: get(&c.icmp_received),
            icmp_ignored: get(&c.icmp_ignored),
        }
    }

    fn is_udp(&self) -> bool {
        matches!(self.kind, TransportKind::Udp { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_send_sync<T: Send + Sync>() {}
    fn is_send<T: Send>(_: T) {}

    /// The runtime will move transports and their futures between threads.
    #[test]
    fn transport_and_its_futures_are_send() {
        is_send_sync::<Transport>();
        is_send_sync::<PcapTap>();
        // Type-checked only; never run.
        #[allow(dead_code)]
        fn futures(t: &Transport, out: &mut Vec<Incoming>, addr: IpAddr) {
            is_send(Transport::bind(TransportKind::Raw, &[addr], 1));
            is_send(t.recv());
            is_send(t.recv_batch(out, 1));
            is_send(t.send(addr, addr, None, &[]));
            is_send(t.send_batch(&[]));
        }
    }

    #[test]
    fn addresses_that_cannot_be_bound() {
        for a in [
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "ff02::1",
            "255.255.255.255",
            "fe80::1",
            "::ffff:192.0.2.1",
        ] {
            let addr: IpAddr = a.parse().unwrap();
            assert!(
                matches!(check_address(addr), Err(TransportError::UnsupportedAddress { addr: x, .. }) if x == addr),
                "{a}"
            );
        }
        for a in ["192.0.2.1", "127.0.0.1", "2001:db8::1", "::1"] {
            assert!(check_address(a.parse().unwrap()).is_ok(), "{a}");
        }
    }
}
