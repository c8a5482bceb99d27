//! The receive path: readiness across a transport's sockets, `recvmmsg`,
//! the error queue, filtering by address and SCTP port, ICMP reports.

use std::future::poll_fn;
use std::io;
use std::net::IpAddr;
use std::os::fd::AsFd;
use std::sync::MutexGuard;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use bytes::Bytes;
use socket2::Socket;

use super::socket::{Role, is_icmp_errno};
use super::{
    ERRQUEUE_BATCH, IDLE_READS_BEFORE_YIELD, IcmpReceived, Incoming, RECV_BATCH, Received,
    RecvBufs, SCTP_HEADER_LEN, Transport, TransportError, TransportKind, bump, headers, icmp,
};
use crate::sys::{self, RecvMeta};

impl Transport {
    /// Waits for the next SCTP packet for our port on one of our addresses,
    /// or ICMP error about a packet we sent.
    ///
    /// Cancel-safe: dropping the future loses nothing. Call it from one task
    /// at a time (see [`Transport`]).
    pub async fn recv(&self) -> Result<Incoming, TransportError> {
        let mut out = Vec::with_capacity(1);
        loop {
            self.recv_batch(&mut out, 1).await?;
            if let Some(incoming) = out.pop() {
                return Ok(incoming);
            }
        }
    }

    /// Waits until at least one packet or ICMP error is there, then appends
    /// to `out` up to `max` of them without waiting further (`recvmmsg`,
    /// [`RECV_BATCH`] datagrams per system call). Returns how many were
    /// appended (0 only when `max` is 0).
    ///
    /// Cancel-safe: dropping the future loses nothing.
    pub async fn recv_batch(
        &self,
        out: &mut Vec<Incoming>,
        max: usize,
    ) -> Result<usize, TransportError> {
        if max == 0 {
            return Ok(0);
        }
        poll_fn(|cx| self.poll_recv_batch(cx, out, max)).await
    }

    fn poll_recv_batch(
        &self,
        cx: &mut Context<'_>,
        out: &mut Vec<Incoming>,
        max: usize,
    ) -> Poll<Result<usize, TransportError>> {
        let before = out.len();
        let n = self.socks.len();
        // Start at a different socket each time so that none starves.
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let mut idle_reads = 0;
        for k in 0..n {
            let sock = &self.socks[(start + k) % n];
            loop {
                let room = max - (out.len() - before);
                if room == 0 {
                    return Poll::Ready(Ok(max));
                }
                let mut guard = match sock.fd.poll_read_ready(cx) {
                    Poll::Pending => break,
                    Poll::Ready(Ok(guard)) => guard,
                    Poll::Ready(Err(e)) => {
                        return Poll::Ready(Err(TransportError::io("waiting for a socket", e)));
                    }
                };
                match guard.try_io(|fd| self.read_socket(sock.role, fd.get_ref(), out, room)) {
                    Ok(Ok(0)) => {
                        // Something was read but all of it filtered out.
                        idle_reads += 1;
                        if idle_reads >= IDLE_READS_BEFORE_YIELD && out.len() == before {
                            cx.waker().wake_by_ref();
                            return Poll::Pending;
                        }
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        return Poll::Ready(Err(TransportError::io(
                            format!("receiving on the socket for {:?}", sock.role),
                            e,
                        )));
                    }
                    // Drained: readiness cleared; poll again so that the
                    // waker is registered.
                    Err(_would_block) => {}
                }
            }
        }
        let got = out.len() - before;
        if got > 0 {
            Poll::Ready(Ok(got))
        } else {
            Poll::Pending
        }
    }

    fn lock_bufs(&self) -> MutexGuard<'_, RecvBufs> {
        // The buffers hold no invariant a panic could break.
        self.bufs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One non-blocking read of a socket: appends at most `room` items and
    /// returns how many; `WouldBlock` when there was nothing at all.
    fn read_socket(
        &self,
        role: Role,
        socket: &Socket,
        out: &mut Vec<Incoming>,
        room: usize,
    ) -> io::Result<usize> {
        let mut guard = self.lock_bufs();
        let RecvBufs { slots, meta } = &mut *guard;
        let fd = socket.as_fd();
        let mut produced = 0;
        let mut progressed = false;
        if let Role::Packets(local) = role {
            if self.is_udp() {
                for _ in 0..ERRQUEUE_BATCH {
                    if produced == room {
                        return Ok(produced);
                    }
                    match sys::recv_errqueue(fd, &mut slots[0]) {
                        Ok(m) => {
                            progressed = true;
                            if let Some(i) = self.errqueue_report(local, &m, &slots[0][..m.len]) {
                                out.push(Incoming::Icmp(i));
                                produced += 1;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        if produced < room {
            let want = (room - produced).min(RECV_BATCH);
            match sys::recv_batch(fd, &mut slots[..want], &mut meta[..want]) {
                Ok(k) => {
                    progressed = true;
                    for (m, buf) in meta.iter().zip(slots.iter()).take(k) {
                        if let Some(i) = self.datagram(role, m, &buf[..m.len]) {
                            out.push(i);
                            produced += 1;
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // A pending ICMP error (sk_err) surfaces once as the result
                // of a read; the report itself is on the error queue.
                Err(e) if self.is_udp() && is_icmp_errno(&e) => progressed = true,
                Err(e) => return Err(e),
            }
        }
        if progressed {
            Ok(produced)
        } else {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }

    /// Interprets one datagram read from a socket.
    fn datagram(&self, role: Role, meta: &RecvMeta, data: &[u8]) -> Option<Incoming> {
        let c = &self.counters;
        match role {
            Role::Packets(local) => {
                if meta.truncated {
                    bump(&c.malformed);
                    return None;
                }
                let remote = meta.source?.ip();
                let (sctp, udp_port) = match (self.kind, local) {
                    (TransportKind::Raw, IpAddr::V4(_)) => {
                        // raw(7): IPv4 raw sockets deliver the IP header.
                        let Some(h) = headers::ipv4(data) else {
                            bump(&c.malformed);
                            return None;
                        };
                        if h.dst != local || h.src != remote {
                            bump(&c.malformed);
                            return None;
                        }
                        (&data[h.payload_start..h.payload_end], None)
                    }
                    (TransportKind::Raw, IpAddr::V6(_)) => (data, None),
                    (TransportKind::Udp { .. }, _) => (data, meta.source.map(|s| s.port())),
                };
                if sctp.len() < SCTP_HEADER_LEN {
                    bump(&c.malformed);
                    return None;
                }
                if u16::from_be_bytes([sctp[2], sctp[3]]) != self.sctp_port {
                    bump(&c.other_port);
                    return None;
                }
                bump(&c.packets_received);
                if let Some(tap) = &self.tap {
                    let ports = udp_port.zip(self.udp_port());
                    let _ = tap.record(remote, local, ports, sctp);
                }
                Some(Incoming::Packet(Received {
                    local,
                    remote,
                    udp_port,
                    packet: Bytes::copy_from_slice(sctp),
                }))
            }
            Role::Icmp4 => {
                let r = icmp::parse_icmpv4(data);
                self.accept_icmp(r.map(|(from, report)| IcmpReceived { report, from }))
            }
            Role::Icmp6 => {
                let from = meta.source?.ip();
                let r = icmp::parse_icmpv6(data);
                self.accept_icmp(r.map(|report| IcmpReceived { report, from }))
            }
        }
    }

    /// Keeps an ICMP error if it quotes a packet from one of our addresses
    /// and our SCTP port.
    fn accept_icmp(&self, icmp: Option<IcmpReceived>) -> Option<Incoming> {
        let ours = icmp.filter(|i| {
            let q = &i.report.quoted;
            self.local.contains(&i.report.quoted_src)
                && q.len() >= 8
                && u16::from_be_bytes([q[0], q[1]]) == self.sctp_port
        });
        match ours {
            Some(i) => {
                bump(&self.counters.icmp_received);
                Some(Incoming::Icmp(i))
            }
            None => {
                bump(&self.counters.icmp_ignored);
                None
            }
        }
    }

    /// Turns a message from a UDP socket's error queue into a report.
    fn errqueue_report(
        &self,
        local: IpAddr,
        m: &sys::ErrQueueMessage,
        payload: &[u8],
    ) -> Option<IcmpReceived> {
        let report = (|| {
            let e = m.error?;
            let kind = icmp::kind_from_errqueue(&e)?;
            let quoted_dst = m.destination?.ip();
            Some(IcmpReceived {
                report: msctp_proto::IcmpReport {
                    quoted_src: local,
                    quoted_dst,
                    quoted: Bytes::copy_from_slice(payload),
                    kind,
                },
                from: e.offender.unwrap_or(quoted_dst),
            })
        })();
        match self.accept_icmp(report) {
            Some(Incoming::Icmp(i)) => Some(i),
            _ => None,
        }
    }
}
