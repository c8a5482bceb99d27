//! The contract between the simulator and the nodes it drives: [`Datagram`],
//! [`IcmpError`], [`IcmpKind`] and the sans-IO [`Agent`] trait.
//!
//! The simulator knows nothing of SCTP associations: anything that can take
//! datagrams and timeouts in and give datagrams and a deadline out can run on
//! a simulated host. [`AnyAgent`] adds the `Any` plumbing that lets a test get
//! its concrete agent type back from the simulator
//! ([`crate::Sim::agent_mut`]).

use bytes::Bytes;
use std::any::Any;
use std::net::IpAddr;
use std::time::Instant;

/// Length of an IPv4 header without options, as the simulator counts it.
pub const IPV4_HEADER_LEN: usize = 20;
/// Length of an IPv6 header without extension headers.
pub const IPV6_HEADER_LEN: usize = 40;

/// A datagram between two IP addresses: `payload` is an SCTP packet (common
/// header onwards), carried directly over IP (protocol 132).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Datagram {
    /// IP source address, kept as the sending agent gave it.
    pub src: IpAddr,
    /// IP destination address: the simulator routes by it.
    pub dst: IpAddr,
    /// The SCTP packet, from its common header onwards.
    pub payload: Bytes,
}

impl Datagram {
    /// A datagram from `src` to `dst` carrying `payload`.
    pub fn new(src: IpAddr, dst: IpAddr, payload: impl Into<Bytes>) -> Datagram {
        Datagram {
            src,
            dst,
            payload: payload.into(),
        }
    }

    /// Length of the IP packet that carries this datagram: the payload plus a
    /// 20-byte IPv4 or 40-byte IPv6 header (by the destination's family).
    /// Link MTUs and bandwidth are counted in these bytes.
    pub fn ip_len(&self) -> usize {
        ip_header_len(self.dst) + self.payload.len()
    }
}

/// Length of the IP header the simulator assumes for packets to `dst`.
pub fn ip_header_len(dst: IpAddr) -> usize {
    if dst.is_ipv4() {
        IPV4_HEADER_LEN
    } else {
        IPV6_HEADER_LEN
    }
}

/// What an ICMP or ICMPv6 error says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IcmpKind {
    /// ICMP type 3 / ICMPv6 type 1, with the code of the datagram's family
    /// (see [`crate::icmp::codes`]): IPv4 1 host, 3 port, 13 administratively
    /// prohibited; IPv6 3 address, 4 port, 1 administratively prohibited.
    DestinationUnreachable {
        /// The ICMP (IPv4) or ICMPv6 (IPv6) code.
        code: u8,
    },
    /// The datagram is bigger than a link's MTU: ICMP type 3 code 4
    /// ("fragmentation needed and DF set", RFC 1191) for IPv4, ICMPv6 type 2
    /// (RFC 4443 §3.2) for IPv6.
    PacketTooBig {
        /// The MTU of the link that could not carry it, IP header included.
        mtu: u32,
    },
    /// The receiver does not speak the protocol: ICMP type 3 code 2 for
    /// IPv4, ICMPv6 type 4 code 1 ("unrecognized Next Header", RFC 4443
    /// §3.4) for IPv6.
    ProtocolUnreachable,
}

/// An ICMP or ICMPv6 error delivered to the sender of a datagram that could
/// not be delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IcmpError {
    /// Address of the node that generated the error: the far-end address of
    /// the link (of the datagram's family) on which the datagram failed.
    pub from: IpAddr,
    /// What went wrong.
    pub kind: IcmpKind,
    /// The offending datagram's addresses and the first bytes of its SCTP
    /// packet, as much as real ICMP quotes: Linux quotes 548 bytes of the
    /// original IPv4 packet (528 SCTP bytes after its 20-byte header), ICMPv6
    /// quotes up to 1232 bytes (1192 SCTP bytes after the 40-byte header,
    /// RFC 4443 §2.4 (c)). A zero-copy slice of the original payload.
    pub original: Datagram,
}

/// A sans-IO network node the simulator can drive: an SCTP endpoint, a toy
/// traffic generator, a scripted peer.
///
/// # Drive contract
///
/// The simulator calls, for one host, in this order:
///
/// 1. one input: [`Agent::handle_datagram`], [`Agent::handle_icmp`] or
///    [`Agent::handle_timeout`] (the last only once the deadline last given
///    by `poll_timeout` has been reached), or nothing when a test changed the
///    agent through [`crate::Sim::agent_mut`] / [`crate::Sim::with_agent`];
/// 2. [`Agent::poll_transmit`] until it returns `None`; every datagram enters
///    the network at the current virtual time, in the order given;
/// 3. [`Agent::poll_timeout`] once, whose answer replaces the previous
///    deadline (`None`: no timer). A deadline in the past counts as "now".
///
/// `now` is virtual: an [`Instant`] derived from the simulation's start, so
/// agents may do arithmetic with it as with real time. Agents must not read
/// the system clock or an unseeded RNG, or runs stop being reproducible.
pub trait Agent {
    /// A datagram addressed to one of this host's addresses arrived.
    fn handle_datagram(&mut self, now: Instant, datagram: Datagram);
    /// An ICMP error about a datagram this host sent arrived.
    fn handle_icmp(&mut self, now: Instant, error: IcmpError);
    /// The next datagram to send, if any.
    #[must_use]
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram>;
    /// When [`Agent::handle_timeout`] should next be called, if ever.
    #[must_use]
    fn poll_timeout(&mut self) -> Option<Instant>;
    /// The deadline returned by [`Agent::poll_timeout`] has been reached.
    fn handle_timeout(&mut self, now: Instant);
    /// The agent was placed on a host: `sources` tells, for each
    /// destination, the host's addresses on the link its route uses, and
    /// stays up to date as the topology changes. Agents that choose source
    /// addresses should use it; the default ignores it.
    fn attach(&mut self, sources: crate::sources::SourceTable) {
        let _ = sources;
    }
    /// True if every datagram this agent sends leaves from its address on
    /// the link the route to its destination uses; the wire check then
    /// verifies it. False by default: scripted agents may model peers that
    /// do otherwise (usrsctp in raw mode sends everything from one address).
    fn follows_routing(&self) -> bool {
        false
    }
    /// The host's routes changed (the table given to [`Agent::attach`] is
    /// already up to date): re-read it.
    fn routes_changed(&mut self) {}
}

/// An [`Agent`] that can be downcast to its concrete type; implemented for
/// every `'static` agent.
pub trait AnyAgent: Agent + Any {
    /// The agent as `&dyn Any`, for `downcast_ref`.
    fn as_any(&self) -> &dyn Any;
    /// The agent as `&mut dyn Any`, for `downcast_mut`.
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// The concrete type's name, for error messages.
    fn type_name(&self) -> &'static str;
}

impl<T: Agent + Any> AnyAgent for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
}
