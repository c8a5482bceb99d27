//! Opening, configuring and registering the sockets of a transport.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::error::{CAP_NET_RAW_HINT, TransportError};
use super::icmp;
use crate::sys;

/// What a socket of a transport is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// SCTP packets (raw, or UDP) on this local address.
    Packets(IpAddr),
    /// ICMPv4 errors (raw transport).
    Icmp4,
    /// ICMPv6 errors (raw transport).
    Icmp6,
}

/// One socket of a transport, registered with tokio.
pub(super) struct Sock {
    pub(super) fd: AsyncFd<Socket>,
    pub(super) role: Role,
}

/// Errors a pending ICMP report surfaces as on a socket with
/// `IP_RECVERR`/`IPV6_RECVERR`: while an ICMP error is queued the kernel
/// also keeps its error number as the socket's pending error (`sk_err`),
/// which the next `recvmsg` or `sendmsg` returns once instead of doing its
/// work. The numbers are those of the kernel's ICMP conversion tables
/// (`icmp_err_convert`, `icmpv6_err_convert`).
pub(super) fn is_icmp_errno(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::ECONNREFUSED
                | libc::EHOSTUNREACH
                | libc::ENETUNREACH
                | libc::EHOSTDOWN
                | libc::ENONET
                | libc::EOPNOTSUPP
                | libc::EACCES
                | libc::EPROTO
                | libc::ENOPROTOOPT
                | libc::EMSGSIZE
        )
    )
}

/// Checks that `addr` can be bound to.
pub(super) fn check_address(addr: IpAddr) -> Result<(), TransportError> {
    let reason = match addr {
        _ if addr.is_unspecified() => Some(
            "the unspecified (wildcard) address cannot be used; list the local addresses instead",
        ),
        _ if addr.is_multicast() => Some("multicast addresses cannot be used"),
        IpAddr::V4(a) if a.is_broadcast() => Some("the broadcast address cannot be used"),
        IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80 => {
            Some("IPv6 link-local addresses need a scope and are not supported")
        }
        IpAddr::V6(a) if a.to_ipv4_mapped().is_some() => {
            Some("IPv4-mapped IPv6 addresses are not supported; give the IPv4 address")
        }
        _ => None,
    };
    match reason {
        Some(reason) => Err(TransportError::UnsupportedAddress { addr, reason }),
        None => Ok(()),
    }
}

fn domain_of(addr: IpAddr) -> Domain {
    match addr {
        IpAddr::V4(_) => Domain::IPV4,
        IpAddr::V6(_) => Domain::IPV6,
    }
}

/// Opens a raw socket; `EPERM`/`EACCES` mean `CAP_NET_RAW` is missing.
fn raw_socket(domain: Domain, protocol: i32, what: &str) -> Result<Socket, TransportError> {
    Socket::new(domain, Type::RAW, Some(Protocol::from(protocol))).map_err(|e| {
        match e.raw_os_error() {
            Some(libc::EPERM | libc::EACCES) => TransportError::NeedsCapNetRaw {
                hint: CAP_NET_RAW_HINT,
            },
            _ => TransportError::io(format!("opening {what}"), e),
        }
    })
}

/// Binds `socket` to `addr:port`, mapping the errors that have a name.
fn bind_socket(socket: &Socket, addr: IpAddr, port: u16) -> Result<(), TransportError> {
    socket
        .bind(&SockAddr::from(SocketAddr::new(addr, port)))
        .map_err(|e| match e.raw_os_error() {
            Some(libc::EADDRNOTAVAIL) => TransportError::AddressNotLocal(addr),
            Some(libc::EADDRINUSE) => TransportError::PortInUse(port),
            _ => TransportError::io(format!("binding to {addr} port {port}"), e),
        })
}

fn register(socket: Socket, role: Role, interest: Interest) -> Result<Sock, TransportError> {
    socket
        .set_nonblocking(true)
        .map_err(|e| TransportError::io("making a socket non-blocking", e))?;
    let fd = sys::async_fd(socket, interest)
        .map_err(|e| TransportError::io("registering a socket with tokio", e))?;
    Ok(Sock { fd, role })
}

/// The raw packet socket for one address.
pub(super) fn raw_packet_socket(addr: IpAddr) -> Result<Sock, TransportError> {
    let domain = domain_of(addr);
    // No IPV6_V6ONLY here: Linux refuses it on raw sockets (EINVAL, the
    // option is only for sockets not yet bound to a protocol), and a raw
    // IPv6 socket never receives IPv4 anyway.
    let socket = raw_socket(
        domain,
        libc::IPPROTO_SCTP,
        "a raw socket for IP protocol 132",
    )?;
    bind_socket(&socket, addr, 0)?;
    register(
        socket,
        Role::Packets(addr),
        Interest::READABLE | Interest::WRITABLE,
    )
}

/// The raw ICMP (`v6 == false`) or ICMPv6 socket of a raw transport.
pub(super) fn icmp_socket(v6: bool) -> Result<Sock, TransportError> {
    let (socket, role) = if v6 {
        let s = raw_socket(Domain::IPV6, libc::IPPROTO_ICMPV6, "a raw ICMPv6 socket")?;
        sys::set_icmp6_filter(s.as_fd(), &icmp::ICMPV6_ERRORS)
            .map_err(|e| TransportError::io("setting ICMP6_FILTER", e))?;
        (s, Role::Icmp6)
    } else {
        let s = raw_socket(Domain::IPV4, libc::IPPROTO_ICMP, "a raw ICMP socket")?;
        sys::set_icmp_filter(s.as_fd(), &[icmp::ICMP_DEST_UNREACH])
            .map_err(|e| TransportError::io("setting ICMP_FILTER", e))?;
        (s, Role::Icmp4)
    };
    register(socket, role, Interest::READABLE)
}

/// The UDP socket for one address and port.
fn udp_socket(addr: IpAddr, port: u16) -> Result<Sock, TransportError> {
    let socket = Socket::new(domain_of(addr), Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| TransportError::io("opening a UDP socket", e))?;
    let opt = |r: io::Result<()>, what: &str| {
        r.map_err(|e| TransportError::io(format!("setting {what} on a UDP socket"), e))
    };
    // Off (the default, made explicit): a taken port must fail, not share.
    opt(socket.set_reuse_address(false), "SO_REUSEADDR")?;
    if addr.is_ipv6() {
        opt(socket.set_only_v6(true), "IPV6_V6ONLY")?;
        opt(
            sys::set_int_option(socket.as_fd(), libc::SOL_IPV6, libc::IPV6_RECVERR, 1),
            "IPV6_RECVERR",
        )?;
    } else {
        opt(
            sys::set_int_option(socket.as_fd(), libc::SOL_IP, libc::IP_RECVERR, 1),
            "IP_RECVERR",
        )?;
    }
    opt(
        sys::set_int_option(
            socket.as_fd(),
            libc::SOL_SOCKET,
            sys::SO_SELECT_ERR_QUEUE,
            1,
        ),
        "SO_SELECT_ERR_QUEUE",
    )?;
    bind_socket(&socket, addr, port)?;
    // PRIORITY: with SO_SELECT_ERR_QUEUE a queued ICMP error is signalled as
    // EPOLLPRI, which tokio reports as readable.
    register(
        socket,
        Role::Packets(addr),
        Interest::READABLE | Interest::WRITABLE | Interest::PRIORITY,
    )
}

/// Binds one UDP socket per address on `port` (0: one free port for all).
pub(super) fn udp_sockets(local: &[IpAddr], port: u16) -> Result<(Vec<Sock>, u16), TransportError> {
    // With port 0 the port the kernel picks on the first address may be
    // taken on another: try a few ports.
    let attempts = if port == 0 { 16 } else { 1 };
    let mut last = TransportError::PortInUse(port);
    'attempt: for _ in 0..attempts {
        let mut chosen = port;
        let mut socks = Vec::with_capacity(local.len());
        for &addr in local {
            match udp_socket(addr, chosen) {
                Ok(s) => {
                    if chosen == 0 {
                        chosen =
                            s.fd.get_ref()
                                .local_addr()
                                .ok()
                                .and_then(|a| a.as_socket())
                                .map(|a| a.port())
                                .ok_or_else(|| {
                                    TransportError::io(
                                        "reading the chosen UDP port",
                                        io::Error::other("no local address"),
                                    )
                                })?;
                    }
                    socks.push(s);
                }
                Err(e @ TransportError::PortInUse(_)) if port == 0 => {
                    last = e;
                    continue 'attempt;
                }
                Err(e) => return Err(e),
            }
        }
        return Ok((socks, chosen));
    }
    Err(last)
}
