//! Packet assembly: `poll_transmit` decides what the next packet carries and
//! where it goes.
//!
//! Order within a packet (RFC 9260 §6.10 bundling rules): COOKIE ECHO first
//! (§5.1), then other control chunks, then SACK, then retransmitted DATA,
//! then new DATA; ABORT ends a packet; INIT, INIT ACK and SHUTDOWN COMPLETE
//! travel alone. Every packet goes to one (local, peer) address pair: control
//! chunks to the address they answer or probe (§6.4), SACK to the source of
//! the DATA it acknowledges, retransmissions to the destination chosen for
//! them, new DATA to the primary or the application's chosen destination
//! while it is active.

use std::net::IpAddr;
use std::time::Instant;

use bytes::Bytes;
use msctp_wire::chunk::Data;
use msctp_wire::{Chunk, CommonHeader, Packet};

use super::outbound::OutChunk;
use super::{Association, State, Transmit};
use crate::event::Event;

type Dest = (IpAddr, IpAddr);

impl Association {
    /// The next packet to send, if any.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        if let Some(t) = self.poll_alone() {
            return Some(t);
        }
        let dest = self.next_destination(now)?;
        let path_index = self.paths.find(dest.1);
        let max = path_index.map_or(1200, |i| self.paths.get(i).max_packet());
        let full = max - msctp_wire::header::HEADER_LEN;
        let mut room = full;
        let mut chunks: Vec<Chunk> = Vec::new();
        let mut ends_packet = false;

        // Control chunks for this destination, in order.
        let mut i = 0;
        while i < self.control.len() {
            let (d, c) = &self.control[i];
            if *d != dest || is_alone(c) {
                i += 1;
                continue;
            }
            let len = c.padded_len();
            if len > room && !chunks.is_empty() {
                break;
            }
            let (_, c) = self.control.remove(i).expect("index checked");
            room = room.saturating_sub(len);
            ends_packet = matches!(c, Chunk::Abort(_));
            chunks.push(c);
            if ends_packet {
                break;
            }
        }

        // SACK (RFC 9260 §6.2), when due and going to this address.
        if !ends_packet && self.sack.due() && self.recv.is_some() {
            if let Some(sack_dest) = self.sack_destination() {
                let max_len = 20 + 4 * (self.config.max_gap_blocks + self.config.max_dup_tsns);
                if sack_dest == dest && (max_len <= room || chunks.is_empty()) {
                    if let Some((s, _)) = self.take_sack() {
                        room -= Chunk::Sack(s.clone()).padded_len();
                        chunks.push(Chunk::Sack(s));
                    }
                }
            }
        }

        let mut data_bytes_sent = 0usize;
        if !ends_packet && self.can_send_data() {
            if let Some(p) = path_index {
                data_bytes_sent += self.bundle_retransmissions(now, p, &mut room, &mut chunks);
                data_bytes_sent += self.bundle_new_data(now, p, &mut room, full, &mut chunks);
            }
        }
        if chunks.is_empty() {
            return None;
        }
        if data_bytes_sent > 0 {
            self.burst_budget = self.burst_budget.saturating_sub(1);
        }
        Some(self.finish_packet(dest, chunks, path_index))
    }

    /// INIT, INIT ACK and SHUTDOWN COMPLETE go in packets of their own.
    fn poll_alone(&mut self) -> Option<Transmit> {
        let i = self.control.iter().position(|(_, c)| is_alone(c))?;
        let (dest, chunk) = self.control.remove(i)?;
        let vtag = match &chunk {
            // RFC 9260 §8.5.1: INIT carries verification tag 0.
            Chunk::Init(_) => 0,
            // RFC 9260 §8.5.1: SHUTDOWN COMPLETE with the T bit reflects our tag.
            Chunk::ShutdownComplete(s) if s.t_bit => self.local_vtag,
            _ => self.peer.vtag,
        };
        let path = self.paths.find(dest.1);
        Some(self.emit(dest, vtag, vec![chunk], path))
    }

    fn can_send_data(&self) -> bool {
        matches!(
            self.state,
            State::Established
                | State::ShutdownPending
                | State::ShutdownReceived
                | State::CookieEchoed
        )
    }

    /// Picks the destination of the next packet, or `None` if nothing is due.
    fn next_destination(&mut self, now: Instant) -> Option<Dest> {
        if let Some((d, _)) = self.control.front() {
            return Some(*d);
        }
        if self.sack.due() && self.recv.is_some() {
            if let Some(d) = self.sack_destination() {
                return Some(d);
            }
        }
        if !self.can_send_data() || self.state == State::CookieEchoed {
            return None;
        }
        // Retransmissions first (RFC 9260 §6.1 C: retransmissions before new
        // data). RFC 9260 §5.4: they only ever target confirmed paths (the
        // path a chunk was sent on, or an alternate, never unconfirmed).
        if self.out.marked > 0 {
            // RFC 9260 §6.3.3 E3, §7.2.4: a packet owed regardless of cwnd.
            if let Some(p) = self.out.first_owed() {
                let rto = self.paths.get(p).rto();
                let path = self.paths.get_mut(p);
                // RFC 9260 §7.2.1: an alternate idle for an RTO starts over.
                path.cc.on_before_send(now, rto);
                return Some((path.local, path.remote));
            }
            // RFC 9260 §6.1: Max.Burst limits retransmissions too; then each
            // destination's cwnd (rule B), after the §7.2.1 idle reset.
            if self.burst_budget > 0 {
                let mut seen = vec![false; self.paths.len()];
                let targets: Vec<usize> = self
                    .out
                    .outstanding
                    .iter()
                    .filter(|c| c.retransmit)
                    .map(|c| c.retransmit_path)
                    .filter(|&p| !std::mem::replace(&mut seen[p], true))
                    .collect();
                for p in targets {
                    let rto = self.paths.get(p).rto();
                    let path = self.paths.get_mut(p);
                    path.cc.on_before_send(now, rto);
                    if path.cc.flight_size < path.cc.cwnd {
                        return Some((path.local, path.remote));
                    }
                }
            }
        }
        if self.out.has_pending() && self.burst_budget > 0 {
            let requested = self.out.next_destination().flatten();
            let p = self.paths.data_destination(requested);
            let rto = self.paths.get(p).rto();
            let path = self.paths.get_mut(p);
            path.cc.on_before_send(now, rto);
            let outstanding = self.out.unacked_bytes();
            // RFC 9260 §6.1 rule B: cwnd; rule A: the peer's window, with a
            // zero-window probe allowed when nothing is outstanding.
            if path.cc.flight_size < path.cc.cwnd && (self.out.peer_rwnd > 0 || outstanding == 0) {
                return Some((path.local, path.remote));
            }
        }
        None
    }

    fn bundle_retransmissions(
        &mut self,
        now: Instant,
        p: usize,
        room: &mut usize,
        chunks: &mut Vec<Chunk>,
    ) -> usize {
        if self.out.marked == 0 {
            return 0;
        }
        // RFC 9260 §6.3.3 E3, §7.2.4: after a T3-rtx expiry or a fast
        // retransmit, the earliest chunks marked for this destination that
        // fit in one packet go regardless of cwnd (and of Max.Burst, which
        // the expiry or the SACK has just refilled anyway).
        let owed = self.out.is_owed(p);
        // RFC 9260 §6.1: otherwise Max.Burst and cwnd apply.
        if !owed && self.burst_budget == 0 {
            return 0;
        }
        let empty_packet = chunks.is_empty();
        let rto = self.paths.get(p).rto();
        // RFC 9260 §7.2.1: a destination idle for an RTO starts over.
        self.paths.get_mut(p).cc.on_before_send(now, rto);
        let mut sent = 0;
        for idx in 0..self.out.outstanding.len() {
            let c = &self.out.outstanding[idx];
            if !c.retransmit || c.retransmit_path != p {
                continue;
            }
            let chunk = Chunk::Data(c.data.clone());
            let len = chunk.padded_len();
            if len > *room {
                break;
            }
            let path = self.paths.get(p);
            // RFC 9260 §6.1 C, rule B: limited by the current cwnd.
            if !owed && path.cc.flight_size >= path.cc.cwnd {
                break;
            }
            *room -= len;
            let size = c.size();
            let c = &mut self.out.outstanding[idx];
            c.retransmit = false;
            c.path = p;
            c.sent_at = now;
            c.transmissions += 1;
            c.in_flight = true;
            c.misses = 0;
            self.out.marked -= 1;
            let path = self.paths.get_mut(p);
            path.cc.on_sent(now, size);
            path.counters.retransmissions += 1;
            // RFC 9260 §6.3.2 R1.
            if !path.t3_rtx.is_running() {
                path.t3_rtx.set(now + rto);
            }
            sent += len;
            chunks.push(chunk);
        }
        // The owed packet is this one if it carries retransmissions (or had
        // all the room a packet has and still none fit).
        if owed && (sent > 0 || empty_packet) {
            self.out.take_owed(p);
        }
        sent
    }

    fn bundle_new_data(
        &mut self,
        now: Instant,
        p: usize,
        room: &mut usize,
        full: usize,
        chunks: &mut Vec<Chunk>,
    ) -> usize {
        if self.burst_budget == 0
            || (self.state == State::CookieEchoed && !self.out.outstanding.is_empty())
        {
            return 0;
        }
        let mut sent = 0;
        loop {
            if !self.out.has_pending() {
                break;
            }
            let requested = self.out.next_destination().flatten();
            // RFC 9260 §5.4: `data_destination` only returns confirmed paths.
            if self.paths.data_destination(requested) != p {
                break;
            }
            let rto = self.paths.get(p).rto();
            let path = self.paths.get_mut(p);
            // RFC 9260 §7.2.1: a destination idle for an RTO starts over.
            path.cc.on_before_send(now, rto);
            // RFC 9260 §6.1 rule B: may exceed cwnd by less than one MTU.
            if path.cc.flight_size >= path.cc.cwnd {
                break;
            }
            let outstanding = self.out.unacked_bytes();
            if self.out.peer_rwnd == 0 && (outstanding > 0 || sent > 0) {
                break;
            }
            let Some(next) = self.out.next_chunk(*room, full) else {
                break;
            };
            let (mut data, destination) = match next {
                Ok(x) => x,
                Err((opts, data)) => {
                    self.push_event(Event::SendFailed {
                        stream: opts.stream,
                        ppid: opts.ppid,
                        data,
                        sent: false,
                    });
                    continue;
                }
            };
            if self.config.sack_immediately_when_idle && data.end && !self.out.has_pending() {
                // RFC 7053 §4.1: nothing more to send; ask for the SACK now.
                data.immediate = true;
            }
            let chunk = Chunk::Data(data.clone());
            let len = chunk.padded_len();
            *room = room.saturating_sub(len);
            let size = data.payload.len() as u32;
            self.out.peer_rwnd = self.out.peer_rwnd.saturating_sub(size);
            let path = self.paths.get_mut(p);
            path.cc.on_sent(now, size);
            path.counters.data_chunks_sent += 1;
            if !path.t3_rtx.is_running() {
                let rto = path.rto();
                path.t3_rtx.set(now + rto);
            }
            let _ = destination;
            self.out.add_outstanding(outchunk(data, p, now));
            sent += len;
            chunks.push(chunk);
        }
        sent
    }

    fn finish_packet(&mut self, dest: Dest, chunks: Vec<Chunk>, path: Option<usize>) -> Transmit {
        let vtag = self.peer.vtag;
        self.emit(dest, vtag, chunks, path)
    }

    fn emit(&mut self, dest: Dest, vtag: u32, chunks: Vec<Chunk>, path: Option<usize>) -> Transmit {
        let packet = Packet {
            header: CommonHeader {
                src_port: self.local_port,
                dst_port: self.peer.port,
                verification_tag: vtag,
            },
            chunks,
        };
        let payload = Bytes::from(packet.emit());
        if let Some(p) = path {
            let c = &mut self.paths.get_mut(p).counters;
            c.packets_sent += 1;
            c.bytes_sent += payload.len() as u64;
        }
        Transmit {
            source: dest.0,
            destination: dest.1,
            payload,
        }
    }
}

fn is_alone(c: &Chunk) -> bool {
    matches!(
        c,
        Chunk::Init(_) | Chunk::InitAck(_) | Chunk::ShutdownComplete(_)
    )
}

fn outchunk(data: Data, path: usize, now: Instant) -> OutChunk {
    OutChunk {
        data,
        path,
        sent_at: now,
        transmissions: 1,
        acked: false,
        retransmit: false,
        retransmit_path: path,
        misses: 0,
        fast_retransmitted: false,
        in_flight: true,
    }
}
