//! The send path: choosing the socket for a source address, `sendto` and
//! `sendmmsg`, absorbing pending ICMP errors.

use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsFd;

use socket2::SockAddr;
use tokio::io::Interest;

use super::socket::is_icmp_errno;
use super::{
    OutgoingPacket, SCTP_UDP_PORT, SEND_BATCH, Transport, TransportError, TransportKind, bump,
};
use crate::sys;

impl Transport {
    /// Finds the socket for `source` and the socket address for
    /// `destination`.
    fn route(
        &self,
        source: IpAddr,
        destination: IpAddr,
        udp_port: Option<u16>,
    ) -> Result<(usize, SocketAddr), TransportError> {
        let index = self
            .local
            .iter()
            .position(|a| *a == source)
            .ok_or(TransportError::NotBound(source))?;
        if source.is_ipv4() != destination.is_ipv4() {
            return Err(TransportError::FamilyMismatch {
                local: source,
                remote: destination,
            });
        }
        let port = match self.kind {
            // Raw sockets take no port (IPv6 raw sockets insist on 0).
            TransportKind::Raw => 0,
            TransportKind::Udp { .. } => udp_port.unwrap_or(SCTP_UDP_PORT),
        };
        Ok((index, SocketAddr::new(destination, port)))
    }

    /// Counts and records a packet that was sent.
    fn sent(&self, source: IpAddr, destination: SocketAddr, packet: &[u8]) {
        bump(&self.counters.packets_sent);
        if let Some(tap) = &self.tap {
            let ports = self.udp_port().map(|p| (p, destination.port()));
            let _ = tap.record(source, destination.ip(), ports, packet);
        }
    }

    /// Sends the SCTP packet `packet` (checksum filled in) from the local
    /// address `source` to `destination`; over UDP to the peer's UDP port
    /// `udp_port` (default [`SCTP_UDP_PORT`]; ignored over raw IP).
    ///
    /// Waits only if the socket's send buffer is full. Errors of the path
    /// (no route, unreachable) are returned as [`TransportError::Io`]; a
    /// datagram transport loses packets, and SCTP retransmits them.
    pub async fn send(
        &self,
        source: IpAddr,
        destination: IpAddr,
        udp_port: Option<u16>,
        packet: &[u8],
    ) -> Result<(), TransportError> {
        let (index, dest) = self.route(source, destination, udp_port)?;
        let addr = SockAddr::from(dest);
        let udp = self.is_udp();
        self.socks[index]
            .fd
            .async_io(Interest::WRITABLE, |s| match s.send_to(packet, &addr) {
                // A pending ICMP error surfaced here instead of on a read:
                // it belongs to an earlier packet; send this one again.
                Err(e) if udp && is_icmp_errno(&e) => s.send_to(packet, &addr),
                r => r,
            })
            .await
            .map_err(|e| {
                TransportError::io(
                    format!("sending {} bytes from {source} to {dest}", packet.len()),
                    e,
                )
            })?;
        self.sent(source, dest, packet);
        Ok(())
    }

    /// Sends `packets` in order, each consecutive run with the same source
    /// address with one `sendmmsg(2)` call (up to [`SEND_BATCH`] packets).
    ///
    /// Returns how many packets, from the start of the slice, were sent. It
    /// is fewer than `packets.len()` when a later packet could not be sent;
    /// call again with the rest to get that packet's error. An error is
    /// returned only when the first packet cannot be sent.
    ///
    /// UDP GSO (`UDP_SEGMENT`) is not used: it needs equal-sized segments to
    /// one destination, while an SCTP endpoint's output mixes paths and
    /// packet sizes; `sendmmsg` already saves the per-packet system call.
    pub async fn send_batch(
        &self,
        packets: &[OutgoingPacket<'_>],
    ) -> Result<usize, TransportError> {
        let mut sent = 0;
        let udp = self.is_udp();
        let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
        while sent < packets.len() {
            let first = &packets[sent];
            let (index, first_dest) =
                match self.route(first.source, first.destination, first.udp_port) {
                    Ok(r) => r,
                    Err(e) if sent == 0 => return Err(e),
                    Err(_) => return Ok(sent),
                };
            let mut run = [(unspecified, &[][..]); SEND_BATCH];
            run[0] = (first_dest, first.packet);
            let mut n = 1;
            for p in &packets[sent + 1..] {
                if n == SEND_BATCH {
                    break;
                }
                match self.route(p.source, p.destination, p.udp_port) {
                    Ok((i, dest)) if i == index => {
                        run[n] = (dest, p.packet);
                        n += 1;
                    }
                    _ => break,
                }
            }
            let result = self.socks[index]
                .fd
                .async_io(Interest::WRITABLE, |s| {
                    match sys::send_batch(s.as_fd(), &run[..n]) {
                        Err(e) if udp && is_icmp_errno(&e) => sys::send_batch(s.as_fd(), &run[..n]),
                        r => r,
                    }
                })
                .await;
            match result {
                Ok(0) => return Ok(sent),
                Ok(k) => {
                    for (dest, packet) in &run[..k.min(n)] {
                        self.sent(packets[sent].source, *dest, packet);
                    }
                    sent += k.min(n);
                }
                Err(e) if sent == 0 => {
                    return Err(TransportError::io(
                        format!(
                            "sending {} bytes from {} to {}",
                            first.packet.len(),
                            first.source,
                            first_dest
                        ),
                        e,
                    ));
                }
                Err(_) => return Ok(sent),
            }
        }
        Ok(sent)
    }
}
