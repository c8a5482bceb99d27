//! The runtime: one tokio task per endpoint (the *driver*) that owns the
//! transport and feeds the sans-IO `msctp_proto::Endpoint` with packets, ICMP
//! errors and timeouts, sends what it produces, and hands events to the
//! application side ([`crate::SctpStream`], [`crate::SctpListener`]).
//!
//! The endpoint sits behind a mutex shared with the application handles;
//! every critical section is short and never awaits. Application calls wake
//! the driver through a [`Notify`]; the driver wakes application futures
//! through one [`Notify`] per association and one for `accept`.

use std::collections::{HashMap, VecDeque};
use std::future::pending;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use msctp_proto::{AssociationChange, AssociationHandle, CloseReason, Endpoint, Event, Transmit};
use tokio::sync::Notify;

use crate::routes::{RouteSelector, RouteWatcher};
use crate::transport::{Incoming, Transport};

/// Events kept per association for [`crate::SctpStream::next_event`]; the
/// oldest are dropped beyond this.
const MAX_EVENTS: usize = 1024;

/// Application-side state of one association.
#[derive(Debug, Default)]
pub(crate) struct AppState {
    /// COMM_UP seen.
    pub up: bool,
    /// Why it ended, once it has (`None` inside for a graceful end).
    pub ended: Option<Option<CloseReason>>,
    /// Events not yet taken by the application.
    pub events: VecDeque<Event>,
    /// Wakes futures waiting on this association.
    pub notify: Arc<Notify>,
    /// The application dropped its handle.
    pub dropped: bool,
    /// Last user data sent or received (for autoclose, RFC 6458 §8.1.8).
    pub last_activity: Option<Instant>,
}

/// What the driver and the handles share.
#[derive(Debug)]
pub(crate) struct Inner {
    pub endpoint: Endpoint,
    pub assocs: HashMap<AssociationHandle, AppState>,
    pub accepted: VecDeque<AssociationHandle>,
    /// The peer's UDP ports, per association and peer address (RFC 6951
    /// §5.4), learnt only from datagrams an association accepted.
    pub udp_ports: UdpPorts,
    pub default_udp_port: u16,
    /// Live listener and stream handles; the driver stops when none is left
    /// and every association has ended.
    pub handles: usize,
    /// The last transport error the driver saw, for diagnostics.
    pub last_error: Option<String>,
    /// Which events the application wants.
    pub subscription: crate::events::EventKinds,
    /// Shut down associations idle this long (one-to-many sockets).
    pub autoclose: Option<std::time::Duration>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// Wakes the driver after an application call.
    pub wake_driver: Notify,
    /// Wakes `accept`.
    pub accept_notify: Notify,
    /// Wakes one-to-many sockets after every driver round.
    pub socket_notify: Notify,
}

impl Shared {
    pub fn new(endpoint: Endpoint, default_udp_port: u16) -> Arc<Shared> {
        Arc::new(Shared {
            inner: Mutex::new(Inner {
                endpoint,
                assocs: HashMap::new(),
                accepted: VecDeque::new(),
                udp_ports: UdpPorts::default(),
                default_udp_port,
                handles: 0,
                last_error: None,
                subscription: crate::events::EventKinds::default(),
                autoclose: None,
            }),
            wake_driver: Notify::new(),
            accept_notify: Notify::new(),
            socket_notify: Notify::new(),
        })
    }

    /// Locks the shared state. A poisoned lock (a panic while holding it)
    /// is recovered: the state is still consistent between calls.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How the driver follows the host's routing: the selector installed in
/// the endpoint, and the watcher that tells when its answers are stale.
/// Both are netlink sockets, created with the transport's sockets so that
/// they live in the same network namespace.
#[derive(Debug)]
pub(crate) struct Routing {
    pub selector: Arc<RouteSelector>,
    pub watcher: RouteWatcher,
}

impl Routing {
    pub fn new() -> io::Result<Routing> {
        let context = |e: io::Error| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot open a netlink route socket (needed to choose source \
                     addresses the way the host's routing does): {e}"
                ),
            )
        };
        Ok(Routing {
            selector: Arc::new(RouteSelector::new().map_err(context)?),
            watcher: RouteWatcher::new().map_err(context)?,
        })
    }
}

/// The peer's UDP source ports (RFC 6951 §5.4), per association and peer
/// address. Learnt only from a datagram that an association accepted
/// (checksum and verification tag right, or a valid COOKIE ECHO), and only
/// for the association's own peer addresses, so that a spoofed datagram
/// cannot redirect traffic and the table holds at most the peer addresses
/// of the live associations; an association's entry goes with it.
#[derive(Debug, Default)]
pub(crate) struct UdpPorts {
    by_assoc: HashMap<AssociationHandle, Vec<(IpAddr, u16)>>,
}

impl UdpPorts {
    /// Records that `handle` accepted a datagram from `remote`, UDP port
    /// `port`. `peers` are the association's peer addresses.
    fn learn(&mut self, handle: AssociationHandle, peers: &[IpAddr], remote: IpAddr, port: u16) {
        if !peers.contains(&remote) {
            return;
        }
        let ports = self.by_assoc.entry(handle).or_default();
        // Addresses the peer no longer has (RFC 5061 deletions) go.
        ports.retain(|(a, _)| peers.contains(a));
        match ports.iter_mut().find(|(a, _)| *a == remote) {
            Some(entry) => entry.1 = port,
            None => ports.push((remote, port)),
        }
    }

    /// The port to send to `dest` for `handle`: the one learnt from `dest`,
    /// else one learnt from another address of the same association (a peer
    /// normally sends from one UDP port on all its addresses), else `None`.
    fn port_for(&self, handle: AssociationHandle, dest: IpAddr) -> Option<u16> {
        let ports = self.by_assoc.get(&handle)?;
        ports
            .iter()
            .find(|(a, _)| *a == dest)
            .or_else(|| ports.first())
            .map(|(_, p)| *p)
    }

    /// Whether `port` is already the one learnt from `remote` for `handle`
    /// (the common case: nothing to do, not even a look at the peer list).
    fn known(&self, handle: AssociationHandle, remote: IpAddr, port: u16) -> bool {
        self.by_assoc
            .get(&handle)
            .is_some_and(|p| p.contains(&(remote, port)))
    }

    /// Forgets associations that are gone.
    fn retain(&mut self, endpoint: &Endpoint) {
        self.by_assoc
            .retain(|h, _| endpoint.association(*h).is_some());
    }

    /// The ports learnt for `handle`, per peer address.
    pub fn of(&self, handle: AssociationHandle) -> Vec<(IpAddr, u16)> {
        self.by_assoc.get(&handle).cloned().unwrap_or_default()
    }

    /// Entries in the table (peer addresses with a learnt port, over all
    /// associations).
    pub fn len(&self) -> usize {
        self.by_assoc.values().map(Vec::len).sum()
    }
}

/// Runs the driver until every handle is gone and every association ended.
pub(crate) async fn drive(shared: Arc<Shared>, transport: Transport, routing: Routing) {
    let mut incoming = Vec::with_capacity(crate::transport::RECV_BATCH);
    let Routing { selector, watcher } = routing;
    let mut watcher = Some(watcher);
    // Stateless answers with the UDP port they go to.
    let mut responses: Vec<(Transmit, u16)> = Vec::new();
    loop {
        let deadline = {
            let inner = shared.lock();
            let engine = inner.endpoint.poll_timeout();
            match autoclose_deadline(&inner) {
                Some(a) => Some(engine.map_or(a, |e| e.min(a))),
                None => engine,
            }
        };
        tokio::select! {
            r = transport.recv_batch(&mut incoming, crate::transport::RECV_BATCH) => {
                let now = Instant::now();
                let mut inner = shared.lock();
                match r {
                    Ok(_) => {
                        for item in incoming.drain(..) {
                            match item {
                                Incoming::Packet(p) => {
                                    let accepted =
                                        inner.endpoint.handle(now, p.local, p.remote, p.packet);
                                    match (p.udp_port, accepted) {
                                        (Some(port), Some(h))
                                            if !inner.udp_ports.known(h, p.remote, port) =>
                                        {
                                            // RFC 6951 §5.4: the peer's port, from
                                            // a packet the association verified.
                                            let peers = inner
                                                .endpoint
                                                .association(h)
                                                .map(|a| a.peer_addrs())
                                                .unwrap_or_default();
                                            inner.udp_ports.learn(h, &peers, p.remote, port);
                                        }
                                        _ => {}
                                    }
                                    // Stateless answers (INIT ACK, OOTB replies)
                                    // go back to the port the datagram came from,
                                    // without being remembered.
                                    let port = p.udp_port.unwrap_or(inner.default_udp_port);
                                    while let Some(t) = inner.endpoint.poll_response() {
                                        responses.push((t, port));
                                    }
                                }
                                Incoming::Icmp(i) => inner.endpoint.handle_icmp(now, i.report),
                            }
                        }
                    }
                    Err(e) => inner.last_error = Some(e.to_string()),
                }
            }
            _ = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => pending::<()>().await,
                }
            } => {
                let now = Instant::now();
                let mut inner = shared.lock();
                inner.endpoint.handle_timeout(now);
                autoclose(&mut inner, now);
            }
            r = async {
                match &mut watcher {
                    Some(w) => w.changed().await,
                    None => pending().await,
                }
            } => {
                // Links, addresses or routes changed: every path takes the
                // source the host's routing now uses for it.
                selector.clear();
                let mut inner = shared.lock();
                if let Err(e) = r {
                    inner.last_error = Some(format!(
                        "netlink notifications failed, sources no longer follow route changes: {e}"
                    ));
                    watcher = None;
                }
                inner.endpoint.refresh_sources();
            }
            _ = shared.wake_driver.notified() => {}
        }
        let (transmits, accepted) = flush(&shared);
        for (t, udp_port) in responses.drain(..).chain(transmits) {
            if let Err(e) = transport
                .send(t.source, t.destination, Some(udp_port), &t.payload)
                .await
            {
                shared.lock().last_error = Some(e.to_string());
            }
        }
        // Wake the application only now, so that what it waits for (a
        // completed shutdown, say) has also left the host.
        wake_all(&shared, accepted);
        if finished(&shared) {
            break;
        }
    }
}

/// Drains packets and events from the endpoint.
fn flush(shared: &Shared) -> (Vec<(Transmit, u16)>, bool) {
    let now = Instant::now();
    let mut inner = shared.lock();
    let inner = &mut *inner;
    let mut out = Vec::new();
    // Association by association, so that each packet goes to the UDP port
    // learnt for its own association.
    let handles: Vec<AssociationHandle> = inner.endpoint.associations().map(|(h, _)| h).collect();
    for h in handles {
        while let Some(t) = inner
            .endpoint
            .association_mut(h)
            .and_then(|a| a.poll_transmit(now))
        {
            let port = inner
                .udp_ports
                .port_for(h, t.destination)
                .unwrap_or(inner.default_udp_port);
            out.push((t, port));
        }
    }
    // Whatever is left belongs to no association (stateless answers not
    // drained after `handle`).
    while let Some(t) = inner.endpoint.poll_transmit(now) {
        out.push((t, inner.default_udp_port));
    }
    let mut accepted = false;
    while let Some(h) = inner.endpoint.accept() {
        inner.assocs.entry(h).or_default();
        inner.accepted.push_back(h);
        accepted = true;
    }
    let subscription = inner.subscription;
    while let Some((h, e)) = inner.endpoint.poll_event() {
        let st = inner.assocs.entry(h).or_default();
        match &e {
            Event::Association(AssociationChange::CommUp { .. }) => {
                st.up = true;
                st.last_activity = Some(now);
            }
            Event::Readable => st.last_activity = Some(now),
            Event::Association(AssociationChange::CommLost { reason })
            | Event::Association(AssociationChange::CantStartAssociation { reason }) => {
                st.ended = Some(Some(reason.clone()));
            }
            Event::Association(AssociationChange::ShutdownComplete) => st.ended = Some(None),
            _ => {}
        }
        if !matches!(e, Event::Readable) && subscription.wants(&e) {
            if st.events.len() >= MAX_EVENTS {
                st.events.pop_front();
            }
            st.events.push_back(e);
        }
    }
    // Nobody will read what arrives on associations the application
    // dropped: discard it so that they can end and be removed.
    let dropped: Vec<AssociationHandle> = inner
        .assocs
        .iter()
        .filter(|(_, st)| st.dropped)
        .map(|(h, _)| *h)
        .collect();
    for h in dropped {
        if let Some(a) = inner.endpoint.association_mut(h) {
            while a.recv().is_some() {}
        }
    }
    // Associations the application dropped and that have ended are gone.
    inner
        .assocs
        .retain(|_, st| !(st.dropped && st.ended.is_some()));
    // So are the UDP ports of associations the endpoint removed.
    inner.udp_ports.retain(&inner.endpoint);
    (out, accepted)
}

/// Wakes every waiter: data may be readable, buffer space may be free, an
/// association may have come up or ended.
fn wake_all(shared: &Shared, accepted: bool) {
    let inner = shared.lock();
    for st in inner.assocs.values() {
        st.notify.notify_waiters();
    }
    drop(inner);
    if accepted {
        shared.accept_notify.notify_waiters();
    }
    shared.socket_notify.notify_waiters();
}

/// When the next association becomes idle for longer than autoclose.
fn autoclose_deadline(inner: &Inner) -> Option<Instant> {
    let idle = inner.autoclose?;
    inner
        .assocs
        .values()
        .filter(|st| st.up && st.ended.is_none())
        .filter_map(|st| st.last_activity)
        .min()
        .map(|t| t + idle)
}

/// RFC 6458 §8.1.8 SCTP_AUTOCLOSE: associations without user data sent or
/// received for the autoclose time are shut down gracefully.
fn autoclose(inner: &mut Inner, now: Instant) {
    let Some(idle) = inner.autoclose else { return };
    let expired: Vec<AssociationHandle> = inner
        .assocs
        .iter()
        .filter(|(_, st)| st.up && st.ended.is_none())
        .filter(|(_, st)| {
            st.last_activity
                .is_some_and(|t| now.saturating_duration_since(t) >= idle)
        })
        .map(|(h, _)| *h)
        .collect();
    for h in expired {
        if let Some(a) = inner.endpoint.association_mut(h) {
            a.shutdown(now);
        }
        if let Some(st) = inner.assocs.get_mut(&h) {
            // Not again until something happens.
            st.last_activity = None;
        }
    }
}

fn finished(shared: &Shared) -> bool {
    let inner = shared.lock();
    inner.handles == 0 && inner.endpoint.associations().count() == 0
}

/// Random bytes from the operating system, for secrets, the generator's
/// key and ephemeral ports. There is no fallback: without an OS random
/// source, binding fails with this error.
pub(crate) fn os_random<const N: usize>() -> io::Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|e| {
        io::Error::other(format!(
            "the operating system's random source failed ({e}); msctp needs it for \
             verification tags, TSNs, nonces and cookie keys"
        ))
    })?;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn endpoint() -> Endpoint {
        Endpoint::new(
            msctp_proto::Config::default(),
            vec![ip("192.0.2.2")],
            5001,
            Instant::now(),
        )
    }

    /// RFC 6951 §5.4: ports are learnt per association and peer address,
    /// only for the association's own peer addresses; a destination with no
    /// port learnt gets the one learnt from another address of the same
    /// association; other associations and addresses get none.
    #[test]
    fn udp_ports_per_association_and_address() {
        let mut ep = endpoint();
        let h = ep
            .connect(Instant::now(), &[ip("192.0.2.1")], 5000)
            .unwrap();
        let other = ep
            .connect(Instant::now(), &[ip("192.0.2.9")], 5000)
            .unwrap();
        let peers = [ip("192.0.2.1"), ip("198.51.100.1")];
        let mut t = UdpPorts::default();
        assert_eq!(t.port_for(h, peers[0]), None);
        // Not a peer address of the association: ignored.
        t.learn(h, &peers, ip("192.0.2.77"), 4000);
        assert_eq!(t.len(), 0);
        t.learn(h, &peers, peers[0], 10_001);
        assert_eq!(t.port_for(h, peers[0]), Some(10_001));
        assert_eq!(
            t.port_for(h, peers[1]),
            Some(10_001),
            "from the other address"
        );
        assert_eq!(t.port_for(other, peers[0]), None, "another association");
        t.learn(h, &peers, peers[1], 10_002);
        t.learn(h, &peers, peers[1], 10_003);
        assert_eq!(t.port_for(h, peers[1]), Some(10_003));
        assert_eq!(t.port_for(h, peers[0]), Some(10_001));
        assert_eq!(t.len(), 2);
        // An address the peer no longer has goes at the next learning.
        t.learn(h, &peers[1..], peers[1], 10_003);
        assert_eq!(t.of(h), vec![(peers[1], 10_003)]);
        // Associations the endpoint no longer has go.
        t.learn(other, &[ip("192.0.2.9")], ip("192.0.2.9"), 7);
        assert_eq!(t.len(), 2);
        let mut gone = endpoint();
        let kept = gone
            .connect(Instant::now(), &[ip("192.0.2.1")], 5000)
            .unwrap();
        assert_eq!(kept, h, "handles are numbered alike");
        t.retain(&gone);
        assert_eq!(t.of(h), vec![(peers[1], 10_003)]);
        assert_eq!(t.of(other), vec![]);
        assert_eq!(t.len(), 1);
    }
}
