//! Source addresses from the kernel's routing table.
//!
//! Every packet an endpoint sends leaves from the address that the host's
//! routing uses for its destination, among the endpoint's bound addresses;
//! never from the address a peer's packet happened to arrive on (issue 8:
//! a peer sending everything from one address would otherwise make us send
//! on link 2 with our link-1 source, and one dead link would then fail
//! every path). The sans-IO engine asks a [`SourceSelector`]; this module's
//! [`RouteSelector`] answers from the kernel over rtnetlink:
//!
//! 1. `RTM_GETROUTE` for the destination gives the output interface and the
//!    kernel's preferred source (what `ip route get DEST` prints);
//! 2. `RTM_GETADDR` maps the bound addresses to interfaces.
//!
//! The rule ([`choose`]): the kernel's preferred source if it is one of the
//! candidates; else a candidate of the destination's family on the output
//! interface (the one sharing the longest prefix with the destination, the
//! first listed on ties); else no opinion, and the engine falls back to the
//! longest prefix ([`msctp_proto::path::LongestPrefix`]).
//!
//! Answers are cached per destination (at most [`ROUTE_CACHE_LIMIT`]
//! entries; the cache is cleared when full, so a peer listing many
//! addresses, or INITs from many sources, cost one query each and bounded
//! memory). A [`RouteWatcher`] subscribed to the rtnetlink multicast groups
//! for links, IPv4/IPv6 addresses, routes and rules wakes the driver on any
//! change; the driver then clears the cache
//! ([`RouteSelector::clear`]) and calls
//! [`msctp_proto::Endpoint::refresh_sources`], so paths follow the new
//! routes.
//!
//! Netlink sockets belong to the network namespace they are created in:
//! the runtime creates both at the same moment as the transport's sockets
//! (see [`crate::testing::Netns::enter`] for tests that bind in a
//! namespace).

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use msctp_proto::path::SourceSelector;
use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::{AsyncSocket, AsyncSocketExt, Socket, SocketAddr, TokioSocket};

/// Destinations whose route is cached at most; the cache is cleared when a
/// new one would exceed it.
pub const ROUTE_CACHE_LIMIT: usize = 1024;
/// Interface addresses remembered at most (a host with more has its other
/// addresses treated as on no interface: only the fallback rule is
/// affected).
const ADDRESS_LIMIT: usize = 4096;
/// How long a query waits for the kernel's answer before giving up (no
/// opinion). The kernel answers in microseconds.
const QUERY_TIMEOUT: Duration = Duration::from_millis(200);
/// Datagrams read per query at most before giving up (answers to earlier,
/// timed-out queries are skipped).
const MAX_READS: usize = 256;
/// Receive buffer: netlink dumps come in datagrams of up to 32 KiB.
const BUF_LEN: usize = 64 * 1024;
/// Receive buffer of the watcher.
const WATCH_BUF_LEN: usize = 4096;
/// Notifications read per wake-up of the watcher at most, so that a storm of
/// changes cannot hold the driver.
const WATCH_BATCH: usize = 256;

/// What the kernel's routing says about one destination.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Route {
    /// Output interface index (`RTA_OIF`).
    pub oif: Option<u32>,
    /// Preferred source address (`RTA_PREFSRC`).
    pub prefsrc: Option<IpAddr>,
}

/// One address of an interface of the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterfaceAddr {
    /// The address.
    pub addr: IpAddr,
    /// Index of its interface.
    pub index: u32,
}

/// The selection rule, given the kernel's answers (see the [module
/// docs](self)): the preferred source if it is a candidate; else the
/// candidate of `remote`'s family on the output interface sharing the
/// longest prefix with `remote` (the first listed on ties); else `None`.
pub fn choose(
    route: &Route,
    addrs: &[InterfaceAddr],
    remote: IpAddr,
    candidates: &[IpAddr],
) -> Option<IpAddr> {
    if let Some(src) = route.prefsrc {
        if candidates.contains(&src) {
            return Some(src);
        }
    }
    let oif = route.oif?;
    candidates
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, c)| c.is_ipv4() == remote.is_ipv4())
        .filter(|(_, c)| addrs.iter().any(|a| a.addr == *c && a.index == oif))
        .max_by_key(|(i, c)| (common_prefix(*c, remote), std::cmp::Reverse(*i)))
        .map(|(_, c)| c)
}

fn common_prefix(a: IpAddr, b: IpAddr) -> u32 {
    let bits = |x: IpAddr| match x {
        IpAddr::V4(v) => u128::from(u32::from(v)) << 96,
        IpAddr::V6(v) => u128::from(v),
    };
    (bits(a) ^ bits(b)).leading_zeros()
}

/// Counters of a [`RouteSelector`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouteSelectorStats {
    /// Selections asked for.
    pub selections: u64,
    /// `RTM_GETROUTE` queries sent to the kernel (cache misses).
    pub route_queries: u64,
    /// `RTM_GETADDR` dumps.
    pub address_dumps: u64,
    /// Queries that failed (timeout, socket error, unparsable answer); the
    /// selector had no opinion then.
    pub errors: u64,
    /// Times the cache was cleared (changes, or a full cache).
    pub clears: u64,
    /// Destinations cached now.
    pub cached: usize,
}

/// A [`SourceSelector`] that asks the kernel's routing table over
/// rtnetlink. See the [module docs](self).
pub struct RouteSelector {
    state: Mutex<State>,
}

struct State {
    sock: Socket,
    seq: u32,
    routes: HashMap<IpAddr, Option<Route>>,
    /// The host's interface addresses; `None` until dumped (again).
    addrs: Option<Vec<InterfaceAddr>>,
    buf: Vec<u8>,
    stats: RouteSelectorStats,
}

impl std::fmt::Debug for RouteSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteSelector")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl RouteSelector {
    /// Opens an rtnetlink socket in the calling thread's network namespace.
    pub fn new() -> io::Result<RouteSelector> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        socket2::SockRef::from(&sock).set_read_timeout(Some(QUERY_TIMEOUT))?;
        Ok(RouteSelector {
            state: Mutex::new(State {
                sock,
                seq: 0,
                routes: HashMap::new(),
                addrs: None,
                buf: vec![0; BUF_LEN],
                stats: RouteSelectorStats::default(),
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets every cached answer: the next selections ask the kernel
    /// again. Call after addresses, links or routes changed.
    pub fn clear(&self) {
        let mut st = self.lock();
        st.routes.clear();
        st.addrs = None;
        st.stats.clears += 1;
    }

    /// Counters since the selector was created.
    pub fn stats(&self) -> RouteSelectorStats {
        let st = self.lock();
        RouteSelectorStats {
            cached: st.routes.len(),
            ..st.stats
        }
    }

    /// The kernel's route toward `dest` (cached), `Ok(None)` if it has none.
    pub fn route(&self, dest: IpAddr) -> io::Result<Option<Route>> {
        self.lock().route(dest)
    }
}

impl SourceSelector for RouteSelector {
    fn select(&self, remote: IpAddr, candidates: &[IpAddr]) -> Option<IpAddr> {
        let mut st = self.lock();
        st.stats.selections += 1;
        let route = match st.route(remote) {
            Ok(Some(r)) => r,
            Ok(None) => return None,
            Err(_) => {
                st.stats.errors += 1;
                return None;
            }
        };
        if route.prefsrc.is_some_and(|s| candidates.contains(&s)) {
            return route.prefsrc;
        }
        let addrs = match st.addrs() {
            Ok(a) => a,
            Err(_) => {
                st.stats.errors += 1;
                return None;
            }
        };
        choose(&route, addrs, remote, candidates)
    }
}

impl State {
    fn route(&mut self, dest: IpAddr) -> io::Result<Option<Route>> {
        if let Some(r) = self.routes.get(&dest) {
            return Ok(*r);
        }
        self.stats.route_queries += 1;
        let mut msg = RouteMessage::default();
        msg.header.address_family = family(dest);
        msg.header.destination_prefix_length = if dest.is_ipv4() { 32 } else { 128 };
        msg.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(dest)));
        let mut route = None;
        self.request(RouteNetlinkMessage::GetRoute(msg), false, |m| {
            if let RouteNetlinkMessage::NewRoute(r) = m {
                let mut found = Route::default();
                for a in r.attributes {
                    match a {
                        RouteAttribute::Oif(i) => found.oif = Some(i),
                        RouteAttribute::PrefSource(RouteAddress::Inet(v)) => {
                            found.prefsrc = Some(v.into())
                        }
                        RouteAttribute::PrefSource(RouteAddress::Inet6(v)) => {
                            found.prefsrc = Some(v.into())
                        }
                        _ => {}
                    }
                }
                route = Some(found);
            }
        })
        .or_else(|e| match e.raw_os_error() {
            // No route to the destination: the kernel's answer is "none".
            Some(libc::ENETUNREACH) | Some(libc::EHOSTUNREACH) => Ok(()),
            _ => Err(e),
        })?;
        // The answer, including "no route", is cached.
        if self.routes.len() >= ROUTE_CACHE_LIMIT {
            self.routes.clear();
            self.stats.clears += 1;
        }
        self.routes.insert(dest, route);
        Ok(route)
    }

    fn addrs(&mut self) -> io::Result<&[InterfaceAddr]> {
        if self.addrs.is_none() {
            self.stats.address_dumps += 1;
            let mut found = Vec::new();
            self.request(
                RouteNetlinkMessage::GetAddress(AddressMessage::default()),
                true,
                |m| {
                    if let RouteNetlinkMessage::NewAddress(a) = m {
                        // IFA_LOCAL is the local address (IFA_ADDRESS is the
                        // peer's on point-to-point links); IPv6 has only
                        // IFA_ADDRESS.
                        let local = a.attributes.iter().find_map(|x| match x {
                            AddressAttribute::Local(ip) => Some(*ip),
                            _ => None,
                        });
                        let address = a.attributes.iter().find_map(|x| match x {
                            AddressAttribute::Address(ip) => Some(*ip),
                            _ => None,
                        });
                        if let Some(addr) = local.or(address) {
                            if found.len() < ADDRESS_LIMIT {
                                found.push(InterfaceAddr {
                                    addr,
                                    index: a.header.index,
                                });
                            }
                        }
                    }
                },
            )?;
            self.addrs = Some(found);
        }
        Ok(self.addrs.as_deref().unwrap_or_default())
    }

    /// Sends `msg` and hands every message of the answer to `each`, until
    /// the answer ends (the one reply, or the dump's DONE). A netlink error
    /// in the answer is returned as the OS error it carries.
    fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        dump: bool,
        mut each: impl FnMut(RouteNetlinkMessage),
    ) -> io::Result<()> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | if dump { NLM_F_DUMP } else { 0 };
        header.sequence_number = seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(msg));
        packet.finalize();
        let mut out = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut out);
        self.sock.send(&out, 0)?;
        for _ in 0..MAX_READS {
            let n = self.sock.recv(&mut &mut self.buf[..], 0)?;
            let mut at = 0;
            while at < n.min(self.buf.len()) {
                let m = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&self.buf[at..n])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let len = m.header.length as usize;
                if len == 0 {
                    break;
                }
                // Netlink messages are 4-byte aligned.
                at += (len + 3) & !3;
                if m.header.sequence_number != seq {
                    // The late answer to an earlier query that timed out.
                    continue;
                }
                match m.payload {
                    NetlinkPayload::InnerMessage(inner) => {
                        each(inner);
                        if !dump {
                            return Ok(());
                        }
                    }
                    NetlinkPayload::Done(_) => return Ok(()),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            Some(code) => Err(io::Error::from_raw_os_error(-code.get())),
                            // An ACK.
                            None => Ok(()),
                        };
                    }
                    _ => {}
                }
            }
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no end to the kernel's netlink answer",
        ))
    }
}

fn family(a: IpAddr) -> AddressFamily {
    if a.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    }
}

/// Wakes when the host's links, addresses, routes or rules change: an
/// rtnetlink socket subscribed to the multicast groups for them (IPv4 and
/// IPv6), in the calling thread's network namespace.
pub struct RouteWatcher {
    sock: TokioSocket,
    /// Notifications are only counted, never parsed: a short buffer will do
    /// (longer datagrams are truncated, which discards their rest).
    buf: Box<[u8]>,
}

impl std::fmt::Debug for RouteWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteWatcher").finish_non_exhaustive()
    }
}

impl RouteWatcher {
    /// Subscribes. Must be called inside a tokio runtime with I/O enabled.
    pub fn new() -> io::Result<RouteWatcher> {
        let mut sock = TokioSocket::new(NETLINK_ROUTE)?;
        let s = sock.socket_mut();
        s.bind_auto()?;
        for group in [
            libc::RTNLGRP_LINK,
            libc::RTNLGRP_IPV4_IFADDR,
            libc::RTNLGRP_IPV6_IFADDR,
            libc::RTNLGRP_IPV4_ROUTE,
            libc::RTNLGRP_IPV6_ROUTE,
            libc::RTNLGRP_IPV4_RULE,
            libc::RTNLGRP_IPV6_RULE,
        ] {
            s.add_membership(group)?;
        }
        Ok(RouteWatcher {
            sock,
            buf: vec![0u8; WATCH_BUF_LEN].into_boxed_slice(),
        })
    }

    /// Waits for the next change, then reads the notifications already
    /// queued (up to a batch), so that a burst of them is one change. A lost
    /// notification (the socket's buffer overflowed, `ENOBUFS`) counts as a
    /// change. Other errors are returned: the watcher is then broken.
    ///
    /// Cancel-safe: dropped before it returns, it loses no notification.
    pub async fn changed(&mut self) -> io::Result<()> {
        let buf = &mut self.buf[..];
        loop {
            match self.sock.recv(&mut &mut buf[..]).await {
                Ok(()) => break,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        // The socket is non-blocking: drain what else is queued.
        for _ in 0..WATCH_BATCH {
            match self.sock.socket_ref().recv(&mut &mut buf[..], 0) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {}
                Err(_) => break,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    const LINK1: u32 = 11;
    const LINK2: u32 = 21;

    fn lab_addrs() -> Vec<InterfaceAddr> {
        [
            ("192.0.2.1", LINK1),
            ("2001:db8:1::1", LINK1),
            ("198.51.100.1", LINK2),
            ("198.51.100.9", LINK2),
            ("2001:db8:2::1", LINK2),
        ]
        .into_iter()
        .map(|(a, index)| InterfaceAddr { addr: ip(a), index })
        .collect()
    }

    #[test]
    fn the_preferred_source_wins_when_it_is_a_candidate() {
        let candidates = [ip("192.0.2.1"), ip("198.51.100.1")];
        // A host route sending 198.51.100.2 over link 1, src 192.0.2.1.
        let r = Route {
            oif: Some(LINK1),
            prefsrc: Some(ip("192.0.2.1")),
        };
        assert_eq!(
            choose(&r, &lab_addrs(), ip("198.51.100.2"), &candidates),
            Some(ip("192.0.2.1"))
        );
    }

    #[test]
    fn else_a_candidate_on_the_output_interface() {
        // Not bound to the preferred source 198.51.100.1.
        let candidates = [ip("192.0.2.1"), ip("198.51.100.9"), ip("2001:db8:2::1")];
        let r = Route {
            oif: Some(LINK2),
            prefsrc: Some(ip("198.51.100.1")),
        };
        assert_eq!(
            choose(&r, &lab_addrs(), ip("198.51.100.2"), &candidates),
            Some(ip("198.51.100.9"))
        );
        // Same family only.
        assert_eq!(
            choose(&r, &lab_addrs(), ip("2001:db8:2::2"), &candidates[..2]),
            None
        );
        // Longest prefix among those on the interface, first on ties.
        let both = [ip("198.51.100.9"), ip("198.51.100.1")];
        let no_pref = Route {
            oif: Some(LINK2),
            prefsrc: None,
        };
        assert_eq!(
            choose(&no_pref, &lab_addrs(), ip("198.51.100.8"), &both),
            Some(ip("198.51.100.9"))
        );
        assert_eq!(
            choose(&no_pref, &lab_addrs(), ip("198.51.100.0"), &both),
            Some(ip("198.51.100.1"))
        );
    }

    #[test]
    fn else_no_opinion() {
        let candidates = [ip("192.0.2.1")];
        let r = Route {
            oif: Some(LINK2),
            prefsrc: Some(ip("198.51.100.1")),
        };
        assert_eq!(
            choose(&r, &lab_addrs(), ip("198.51.100.2"), &candidates),
            None
        );
        assert_eq!(
            choose(
                &Route::default(),
                &lab_addrs(),
                ip("198.51.100.2"),
                &candidates
            ),
            None
        );
    }
}
