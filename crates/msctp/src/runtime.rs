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
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use msctp_proto::{AssociationChange, AssociationHandle, CloseReason, Endpoint, Event};
use tokio::sync::Notify;

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
    /// The peer's UDP port per peer address (RFC 6951 §5.3 tracks it per
    /// path), learnt from received packets.
    pub udp_ports: HashMap<IpAddr, u16>,
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
                udp_ports: HashMap::new(),
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

/// Runs the driver until every handle is gone and every association ended.
pub(crate) async fn drive(shared: Arc<Shared>, transport: Transport) {
    let mut incoming = Vec::with_capacity(crate::transport::RECV_BATCH);
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
                                    if let Some(port) = p.udp_port {
                                        inner.udp_ports.insert(p.remote, port);
                                    }
                                    inner.endpoint.handle(now, p.local, p.remote, p.packet);
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
            _ = shared.wake_driver.notified() => {}
        }
        let (transmits, accepted) = flush(&shared);
        for (t, udp_port) in transmits {
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

/// The peer's UDP port for `dest`: the one learnt from it, else one learnt
/// from another address of the same association (RFC 6951 §5.3: a peer
/// uses one port), else the configured default.
fn udp_port_for(inner: &Inner, dest: IpAddr) -> u16 {
    if let Some(p) = inner.udp_ports.get(&dest) {
        return *p;
    }
    for (_, a) in inner.endpoint.associations() {
        let peers = a.peer_addrs();
        if peers.contains(&dest) {
            if let Some(p) = peers.iter().find_map(|p| inner.udp_ports.get(p)) {
                return *p;
            }
        }
    }
    inner.default_udp_port
}

/// Drains packets and events from the endpoint.
fn flush(shared: &Shared) -> (Vec<(msctp_proto::Transmit, u16)>, bool) {
    let now = Instant::now();
    let mut inner = shared.lock();
    let mut out = Vec::new();
    while let Some(t) = inner.endpoint.poll_transmit(now) {
        let port = udp_port_for(&inner, t.destination);
        out.push((t, port));
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

/// Random bytes from the operating system, for cookie secrets and seeds.
pub(crate) fn os_random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // getrandom only fails when the OS has no random source at all.
    if getrandom::getrandom(&mut b).is_err() {
        let t = Instant::now().elapsed().as_nanos().to_le_bytes();
        for (i, x) in b.iter_mut().enumerate() {
            *x = t[i % t.len()] ^ (i as u8);
        }
    }
    b
}
