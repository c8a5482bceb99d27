//! The one-to-one socket API, shaped like `tokio::net`: [`SctpListener`]
//! binds and accepts, [`SctpStream`] connects, sends, receives, reports
//! events and shuts down. Each mirrors RFC 6458 in Rust idioms: `send` takes
//! the stream, PPID, ordering and destination (`SCTP_SNDINFO`), `recv`
//! returns them (`SCTP_RCVINFO`), `next_event` delivers the notifications,
//! `set_primary` is `SCTP_PRIMARY_ADDR`, `paths` is `SCTP_GET_PEER_ADDR_INFO`.

use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use msctp_proto::{AssociationHandle, Endpoint, Event, PathInfo, SendError, SendOptions};
use msctp_wire::{Ssn, Tsn};
use tokio::sync::Notify;

use crate::PcapTap;
use crate::options::Options;
use crate::runtime::{Routing, Shared, drive, os_random};
use crate::transport::{Transport, TransportKind};

/// Why an association could not start or ended badly; carried inside the
/// `io::Error` that `connect` and `shutdown` return, so the application
/// can `downcast_ref::<AssociationError>()` it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{context}: {reason:?}")]
pub struct AssociationError {
    /// What was being done.
    pub context: &'static str,
    /// Why it failed (RFC 6458 `SCTP_COMM_LOST` / `SCTP_CANT_STR_ASSOC`).
    pub reason: msctp_proto::CloseReason,
}

impl AssociationError {
    pub(crate) fn io(
        kind: io::ErrorKind,
        context: &'static str,
        reason: msctp_proto::CloseReason,
    ) -> io::Error {
        io::Error::new(kind, AssociationError { context, reason })
    }
}

/// How to send one message: stream, payload protocol identifier, ordering,
/// and optionally a peer address to send it to (RFC 9260 §6.4).
pub type SendInfo = SendOptions;

/// What came with a received message (RFC 6458 `SCTP_RCVINFO`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecvInfo {
    /// Stream it arrived on.
    pub stream: u16,
    /// Stream sequence number.
    pub ssn: Ssn,
    /// TSN of its first fragment.
    pub tsn: Tsn,
    /// Payload protocol identifier.
    pub ppid: u32,
    /// Sent unordered.
    pub unordered: bool,
    /// False for a partial delivery of a message larger than the receive
    /// window: more of the same message follows (RFC 6458 §8.1.21).
    pub complete: bool,
    /// The association it belongs to.
    pub association: AssociationHandle,
    /// The peer address it arrived from (its last fragment's).
    pub from: Option<IpAddr>,
}

impl RecvInfo {
    /// The info of message `m` of association `association`; the message's
    /// data goes back separately.
    pub(crate) fn of(m: &msctp_proto::ReceivedMessage, association: AssociationHandle) -> Self {
        RecvInfo {
            stream: m.stream,
            ssn: m.ssn,
            tsn: m.tsn,
            ppid: m.ppid,
            unordered: m.unordered,
            complete: m.complete,
            association,
            from: m.from,
        }
    }
}

pub(crate) async fn start(
    local_addrs: &[IpAddr],
    port: u16,
    opts: &Options,
) -> io::Result<Arc<Shared>> {
    // The netlink sockets first, in the same poll as the transport's
    // sockets (nothing below yields before those are bound): sockets belong
    // to the network namespace of the thread that creates them, and a
    // caller may have entered one just for binding (tests do).
    let routing = Routing::new()?;
    let mut transport = Transport::bind(opts.transport, local_addrs, port)
        .await
        .map_err(io::Error::from)?;
    if let Some(path) = &opts.pcap {
        let tap = PcapTap::create(path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot write the capture {}: {e}", path.display()),
            )
        })?;
        transport.set_tap(Some(Arc::new(tap)));
    }
    let mut config = opts.config.clone();
    // Wire randomness (verification tags, initial TSNs, heartbeat nonces)
    // from a CSPRNG keyed by the OS: the nonces travel in clear, and a
    // seeded generator's state could be read from a few of them.
    if config.rng_secret.is_none() {
        config.rng_secret = Some(os_random()?);
    }
    if config.cookie_secret == [0; 32] {
        config.cookie_secret = os_random()?;
    }
    let mut endpoint = Endpoint::new(
        config,
        transport.local_addrs().to_vec(),
        port,
        Instant::now(),
    );
    // Every packet leaves from the address the host's routing uses for its
    // destination (crate docs, "Source addresses").
    endpoint.set_source_selector(routing.selector.clone());
    let shared = Shared::new(endpoint, opts.remote_udp_port);
    shared.lock().subscription = opts.events;
    tokio::spawn(drive(shared.clone(), transport, routing));
    Ok(shared)
}

/// A random port in the dynamic range 49152–65535 (RFC 6335 §6).
pub(crate) fn ephemeral_port() -> io::Result<u16> {
    let r: [u8; 2] = os_random()?;
    Ok(49152 + (u16::from_le_bytes(r) % (65535 - 49152 + 1)))
}

pub(crate) fn send_error(e: SendError) -> io::Error {
    let kind = match e {
        SendError::BufferFull => io::ErrorKind::WouldBlock,
        SendError::Closed => io::ErrorKind::NotConnected,
        SendError::TooLarge { .. }
        | SendError::LargerThanSendBuffer { .. }
        | SendError::Empty
        | SendError::InvalidStream { .. } => io::ErrorKind::InvalidInput,
        SendError::UnknownDestination(_) => io::ErrorKind::AddrNotAvailable,
    };
    io::Error::new(kind, e)
}

/// Accepts incoming associations on a set of local addresses and a port.
#[derive(Debug)]
pub struct SctpListener {
    shared: Arc<Shared>,
}

impl SctpListener {
    /// Binds to `local_addrs` (IPv4 and IPv6 mixed; all are announced to
    /// peers, RFC 9260 §5.1.2) on SCTP port `port`.
    pub async fn bind(
        local_addrs: &[IpAddr],
        port: u16,
        opts: Options,
    ) -> io::Result<SctpListener> {
        let shared = start(local_addrs, port, &opts).await?;
        {
            let mut inner = shared.lock();
            inner.endpoint.listen(true);
            inner.handles += 1;
        }
        Ok(SctpListener { shared })
    }

    /// Waits for the next association a peer starts.
    pub async fn accept(&self) -> io::Result<SctpStream> {
        loop {
            let notified = self.shared.accept_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut inner = self.shared.lock();
                if let Some(h) = inner.accepted.pop_front() {
                    inner.handles += 1;
                    let notify = inner.assocs.entry(h).or_default().notify.clone();
                    return Ok(SctpStream {
                        shared: self.shared.clone(),
                        handle: h,
                        notify,
                    });
                }
            }
            notified.await;
        }
    }

    /// The local addresses.
    pub fn local_addrs(&self) -> Vec<IpAddr> {
        self.shared.lock().endpoint.local_addrs().to_vec()
    }

    /// How many peer UDP ports the endpoint remembers, over all its
    /// associations (RFC 6951 §5.4: one per peer address an association
    /// accepted a datagram from; never more than the live associations'
    /// peer addresses). Zero over raw IP.
    pub fn learnt_udp_ports(&self) -> usize {
        self.shared.lock().udp_ports.len()
    }
}

impl Drop for SctpListener {
    fn drop(&mut self) {
        let mut inner = self.shared.lock();
        inner.endpoint.listen(false);
        inner.handles -= 1;
        drop(inner);
        self.shared.wake_driver.notify_one();
    }
}

/// One association, one-to-one style.
#[derive(Debug)]
pub struct SctpStream {
    shared: Arc<Shared>,
    handle: AssociationHandle,
    notify: Arc<Notify>,
}

impl SctpStream {
    /// Starts an association from `local_addrs` (an ephemeral port) to
    /// `peer_addrs` on `port`, trying the peer's addresses in turn for the
    /// INIT (`sctp_connectx`), and waits until it is up.
    pub async fn connect(
        local_addrs: &[IpAddr],
        peer_addrs: &[IpAddr],
        port: u16,
        opts: Options,
    ) -> io::Result<SctpStream> {
        let local_port = match opts.transport {
            TransportKind::Raw => ephemeral_port()?,
            TransportKind::Udp { .. } => ephemeral_port()?,
        };
        let shared = start(local_addrs, local_port, &opts).await?;
        let (handle, notify) = {
            let mut inner = shared.lock();
            let h = inner
                .endpoint
                .connect(Instant::now(), peer_addrs, port)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            inner.handles += 1;
            let notify = inner.assocs.entry(h).or_default().notify.clone();
            (h, notify)
        };
        shared.wake_driver.notify_one();
        let stream = SctpStream {
            shared,
            handle,
            notify,
        };
        stream.wait_up().await?;
        Ok(stream)
    }

    async fn wait_up(&self) -> io::Result<()> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let inner = self.shared.lock();
                let st = inner.assocs.get(&self.handle);
                if st.is_some_and(|s| s.up) {
                    return Ok(());
                }
                if let Some(Some(reason)) = st.and_then(|s| s.ended.clone()) {
                    return Err(AssociationError::io(
                        io::ErrorKind::ConnectionRefused,
                        "the association could not be started",
                        reason,
                    ));
                }
            }
            notified.await;
        }
    }

    /// The association's handle (its id in events and `RecvInfo`).
    pub fn association(&self) -> AssociationHandle {
        self.handle
    }

    fn with<R>(&self, f: impl FnOnce(&mut msctp_proto::Association) -> R) -> io::Result<R> {
        let mut inner = self.shared.lock();
        match inner.endpoint.association_mut(self.handle) {
            Some(a) => Ok(f(a)),
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the association has ended",
            )),
        }
    }

    /// Sends one message, waiting while the send buffer is full. A message
    /// larger than the whole send buffer (`Config::send_buffer`) fails at
    /// once with `InvalidInput` instead of waiting for room it cannot get.
    pub async fn send(&self, data: impl Into<Bytes>, info: SendInfo) -> io::Result<()> {
        let data = data.into();
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.with(|a| a.send(data.clone(), info))? {
                Ok(()) => {
                    self.shared.wake_driver.notify_one();
                    return Ok(());
                }
                Err(SendError::BufferFull) => {}
                Err(e) => return Err(send_error(e)),
            }
            notified.await;
        }
    }

    /// Receives the next message; `None` once the association has ended and
    /// everything received was read.
    pub async fn recv(&self) -> io::Result<Option<(Bytes, RecvInfo)>> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut inner = self.shared.lock();
                let before = inner
                    .endpoint
                    .association(self.handle)
                    .map(|a| a.readable());
                if let Some(a) = inner.endpoint.association_mut(self.handle) {
                    if let Some(m) = a.recv() {
                        let info = RecvInfo::of(&m, self.handle);
                        drop(inner);
                        // Reading may reopen the window: let the driver send
                        // a window update.
                        self.shared.wake_driver.notify_one();
                        return Ok(Some((m.data, info)));
                    }
                }
                let ended = inner
                    .assocs
                    .get(&self.handle)
                    .is_none_or(|s| s.ended.is_some());
                let gone = before.is_none();
                if ended || gone {
                    return Ok(None);
                }
            }
            notified.await;
        }
    }

    /// The next event (association change, peer address change, send
    /// failure, shutdown, remote error); `None` once the association has
    /// ended and every event was taken.
    pub async fn next_event(&self) -> Option<Event> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut inner = self.shared.lock();
                let st = inner.assocs.get_mut(&self.handle)?;
                if let Some(e) = st.events.pop_front() {
                    return Some(e);
                }
                if st.ended.is_some() {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// The events as an async stream (see [`crate::EventStream`]); the
    /// same events [`SctpStream::next_event`] returns, filtered by
    /// [`Options::events`].
    pub fn events(&self) -> crate::events::EventStream<'_> {
        crate::events::EventStream::new(self)
    }

    /// Per-path state and counters (one entry per peer address).
    pub fn paths(&self) -> io::Result<Vec<PathInfo>> {
        self.with(|a| a.paths())
    }

    /// Makes `addr` the primary path.
    pub fn set_primary(&self, addr: IpAddr) -> io::Result<()> {
        self.with(|a| a.set_primary(addr))?.map_err(send_error)?;
        self.shared.wake_driver.notify_one();
        Ok(())
    }

    /// The local addresses of the association.
    pub fn local_addrs(&self) -> io::Result<Vec<IpAddr>> {
        self.with(|a| a.local_addrs().to_vec())
    }

    /// The peer's addresses.
    pub fn peer_addrs(&self) -> io::Result<Vec<IpAddr>> {
        self.with(|a| a.peer_addrs())
    }

    /// The association's local SCTP port.
    pub fn local_port(&self) -> u16 {
        self.shared.lock().endpoint.port()
    }

    /// The peer's SCTP port.
    pub fn peer_port(&self) -> io::Result<u16> {
        self.with(|a| a.peer_port())
    }

    /// Over UDP: the peer's UDP port learnt per peer address (RFC 6951
    /// §5.4), from datagrams this association accepted. Empty over raw IP
    /// and before the peer's first packet.
    pub fn peer_udp_ports(&self) -> Vec<(IpAddr, u16)> {
        self.shared.lock().udp_ports.of(self.handle)
    }

    /// Graceful shutdown (RFC 9260 §9.2): queued data is delivered first.
    /// Waits until the shutdown completes or the association fails.
    pub async fn shutdown(&self) -> io::Result<()> {
        self.with(|a| a.shutdown(Instant::now()))?;
        self.shared.wake_driver.notify_one();
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let inner = self.shared.lock();
                match inner.assocs.get(&self.handle).and_then(|s| s.ended.clone()) {
                    Some(None) => return Ok(()),
                    Some(Some(reason)) => {
                        return Err(AssociationError::io(
                            io::ErrorKind::ConnectionAborted,
                            "the association ended during shutdown",
                            reason,
                        ));
                    }
                    None => {}
                }
            }
            notified.await;
        }
    }

    /// Aborts at once (RFC 9260 §9.1), with an optional reason for the peer.
    pub fn abort(&self, reason: Option<Bytes>) {
        let _ = self.with(|a| a.abort(Instant::now(), reason));
        self.shared.wake_driver.notify_one();
    }
}

impl Drop for SctpStream {
    /// Dropping a stream shuts the association down gracefully in the
    /// background.
    fn drop(&mut self) {
        let mut inner = self.shared.lock();
        if let Some(a) = inner.endpoint.association_mut(self.handle) {
            a.shutdown(Instant::now());
        }
        if let Some(st) = inner.assocs.get_mut(&self.handle) {
            st.dropped = true;
        }
        inner.handles -= 1;
        drop(inner);
        self.shared.wake_driver.notify_one();
    }
}
