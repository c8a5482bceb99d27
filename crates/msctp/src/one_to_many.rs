//! The one-to-many socket (RFC 6458 §3): one endpoint, any number of
//! associations, each message sent to and received from an association
//! named by its handle. Peers' associations are accepted implicitly;
//! `connect` starts new ones; idle associations can be closed automatically
//! (SCTP_AUTOCLOSE).

use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use msctp_proto::{AssociationHandle, Event, PathInfo, SendError};

use crate::options::Options;
use crate::runtime::Shared;
use crate::socket::{RecvInfo, SendInfo, send_error, start};

/// A one-to-many SCTP socket.
#[derive(Debug)]
pub struct SctpSocket {
    shared: Arc<Shared>,
}

impl SctpSocket {
    /// Binds to `local_addrs` on `port` and accepts associations from peers.
    pub async fn bind(local_addrs: &[IpAddr], port: u16, opts: Options) -> io::Result<SctpSocket> {
        let shared = start(local_addrs, port, &opts).await?;
        {
            let mut inner = shared.lock();
            inner.endpoint.listen(true);
            inner.handles += 1;
        }
        Ok(SctpSocket { shared })
    }

    /// Shuts down associations that carried no user data for `idle`
    /// (RFC 6458 §8.1.8); `None` turns it off.
    pub fn set_autoclose(&self, idle: Option<Duration>) {
        self.shared.lock().autoclose = idle;
        self.shared.wake_driver.notify_one();
    }

    /// Starts an association to `peer_addrs` (tried in turn) on `port` and
    /// waits until it is up.
    pub async fn connect(&self, peer_addrs: &[IpAddr], port: u16) -> io::Result<AssociationHandle> {
        let h = {
            let mut inner = self.shared.lock();
            let h = inner
                .endpoint
                .connect(Instant::now(), peer_addrs, port)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            inner.assocs.entry(h).or_default();
            h
        };
        self.shared.wake_driver.notify_one();
        loop {
            let notified = self.shared.socket_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let inner = self.shared.lock();
                let st = inner.assocs.get(&h);
                if st.is_some_and(|s| s.up) {
                    return Ok(h);
                }
                if let Some(ended) = st.and_then(|s| s.ended.clone()) {
                    return Err(match ended {
                        Some(reason) => crate::socket::AssociationError::io(
                            io::ErrorKind::ConnectionRefused,
                            "the association could not be started",
                            reason,
                        ),
                        None => io::Error::new(
                            io::ErrorKind::ConnectionRefused,
                            "the association ended",
                        ),
                    });
                }
            }
            notified.await;
        }
    }

    /// Sends one message on association `assoc`, waiting while its send
    /// buffer is full. A message larger than the whole send buffer
    /// (`Config::send_buffer`) fails at once with `InvalidInput` instead of
    /// waiting for room it cannot get.
    pub async fn send(
        &self,
        assoc: AssociationHandle,
        data: impl Into<Bytes>,
        info: SendInfo,
    ) -> io::Result<()> {
        let data = data.into();
        loop {
            let notified = self.shared.socket_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut inner = self.shared.lock();
                let Some(a) = inner.endpoint.association_mut(assoc) else {
                    return Err(io::Error::new(
                        io::ErrorKind::NotConnected,
                        "no such association",
                    ));
                };
                match a.send(data.clone(), info) {
                    Ok(()) => {
                        if let Some(st) = inner.assocs.get_mut(&assoc) {
                            st.last_activity = Some(Instant::now());
                        }
                        drop(inner);
                        self.shared.wake_driver.notify_one();
                        return Ok(());
                    }
                    Err(SendError::BufferFull) => {}
                    Err(e) => return Err(send_error(e)),
                }
            }
            notified.await;
        }
    }

    /// Receives the next message from any association.
    pub async fn recv(&self) -> io::Result<(Bytes, RecvInfo)> {
        loop {
            let notified = self.shared.socket_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut inner = self.shared.lock();
                let ready: Vec<AssociationHandle> = inner
                    .endpoint
                    .associations()
                    .filter(|(_, a)| a.readable() > 0)
                    .map(|(h, _)| h)
                    .collect();
                for h in ready {
                    let Some(m) = inner.endpoint.association_mut(h).and_then(|a| a.recv()) else {
                        continue;
                    };
                    if let Some(st) = inner.assocs.get_mut(&h) {
                        st.last_activity = Some(Instant::now());
                    }
                    drop(inner);
                    self.shared.wake_driver.notify_one();
                    let info = RecvInfo::of(&m, h);
                    return Ok((m.data, info));
                }
            }
            notified.await;
        }
    }

    /// The next event of any association.
    pub async fn next_event(&self) -> (AssociationHandle, Event) {
        loop {
            let notified = self.shared.socket_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut inner = self.shared.lock();
                let mut handles: Vec<_> = inner.assocs.keys().copied().collect();
                handles.sort();
                for h in handles {
                    if let Some(e) = inner
                        .assocs
                        .get_mut(&h)
                        .and_then(|st| st.events.pop_front())
                    {
                        return (h, e);
                    }
                }
                // Ended associations whose events were all taken are done.
                inner
                    .assocs
                    .retain(|_, st| st.ended.is_none() || !st.events.is_empty());
            }
            notified.await;
        }
    }

    /// The live associations.
    pub fn associations(&self) -> Vec<AssociationHandle> {
        self.shared
            .lock()
            .endpoint
            .associations()
            .map(|(h, _)| h)
            .collect()
    }

    fn with<R>(
        &self,
        assoc: AssociationHandle,
        f: impl FnOnce(&mut msctp_proto::Association) -> R,
    ) -> io::Result<R> {
        let mut inner = self.shared.lock();
        let r = inner
            .endpoint
            .association_mut(assoc)
            .map(f)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "no such association"));
        drop(inner);
        self.shared.wake_driver.notify_one();
        r
    }

    /// Per-path state of association `assoc`.
    pub fn paths(&self, assoc: AssociationHandle) -> io::Result<Vec<PathInfo>> {
        self.with(assoc, |a| a.paths())
    }

    /// Makes `addr` the primary path of association `assoc`.
    pub fn set_primary(&self, assoc: AssociationHandle, addr: IpAddr) -> io::Result<()> {
        self.with(assoc, |a| a.set_primary(addr))?
            .map_err(send_error)
    }

    /// Starts a graceful shutdown of association `assoc` (RFC 9260 §9.2).
    pub fn shutdown(&self, assoc: AssociationHandle) -> io::Result<()> {
        self.with(assoc, |a| a.shutdown(Instant::now()))
    }

    /// Aborts association `assoc` (RFC 9260 §9.1).
    pub fn abort(&self, assoc: AssociationHandle, reason: Option<Bytes>) -> io::Result<()> {
        self.with(assoc, |a| a.abort(Instant::now(), reason))
    }

    /// The local addresses.
    pub fn local_addrs(&self) -> Vec<IpAddr> {
        self.shared.lock().endpoint.local_addrs().to_vec()
    }

    /// Over UDP: the peer's UDP port learnt per peer address of `assoc`
    /// (RFC 6951 §5.4). Empty over raw IP.
    pub fn peer_udp_ports(&self, assoc: AssociationHandle) -> Vec<(IpAddr, u16)> {
        self.shared.lock().udp_ports.of(assoc)
    }

    /// How many peer UDP ports the endpoint remembers, over all its
    /// associations (at most their peer addresses).
    pub fn learnt_udp_ports(&self) -> usize {
        self.shared.lock().udp_ports.len()
    }
}

impl Drop for SctpSocket {
    /// Dropping the socket shuts every association down gracefully in the
    /// background.
    fn drop(&mut self) {
        let now = Instant::now();
        let mut inner = self.shared.lock();
        inner.endpoint.listen(false);
        let handles: Vec<_> = inner.endpoint.associations().map(|(h, _)| h).collect();
        for h in handles {
            if let Some(a) = inner.endpoint.association_mut(h) {
                a.shutdown(now);
            }
        }
        inner.handles -= 1;
        drop(inner);
        self.shared.wake_driver.notify_one();
    }
}
