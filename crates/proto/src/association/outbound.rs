//! The sending side's data: messages queued by the application, their
//! fragmentation into DATA chunks as TSNs are assigned (RFC 9260 §6.9), and
//! the chunks sent but not yet cumulatively acknowledged (RFC 9260 §6.2.1,
//! §6.3). Bounded by `send_buffer` bytes.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Instant;

use bytes::Bytes;
use msctp_wire::chunk::{DATA_FIXED_LEN, Data};
use msctp_wire::{Ssn, Tsn};

use super::SendError;
use crate::config::Config;

/// How to send one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendOptions {
    /// Stream identifier.
    pub stream: u16,
    /// Payload Protocol Identifier (opaque to SCTP).
    pub ppid: u32,
    /// Deliver without ordering (U bit).
    pub unordered: bool,
    /// Send to this peer address instead of the primary (RFC 9260 §6.4),
    /// while it is active.
    pub destination: Option<IpAddr>,
    /// Ask the peer to acknowledge at once (I bit, RFC 7053).
    pub immediate: bool,
}

#[derive(Debug)]
struct PendingMessage {
    data: Bytes,
    /// Bytes of `data` already turned into chunks.
    offset: usize,
    options: SendOptions,
    destination: Option<usize>,
    ssn: Option<Ssn>,
}

/// A DATA chunk sent and not yet cumulatively acknowledged.
#[derive(Debug, Clone)]
pub(crate) struct OutChunk {
    pub data: Data,
    /// Path it was last sent on.
    pub path: usize,
    pub sent_at: Instant,
    pub transmissions: u32,
    /// Covered by a gap ack block of the latest SACK.
    pub acked: bool,
    /// Marked for retransmission, to `retransmit_path`.
    pub retransmit: bool,
    pub retransmit_path: usize,
    /// Miss indications for fast retransmit (RFC 9260 §7.2.4).
    pub misses: u32,
    pub fast_retransmitted: bool,
    /// Counted in its path's flight size.
    pub in_flight: bool,
}

impl OutChunk {
    /// Bytes the chunk counts for in flight size and windows: its user data
    /// (RFC 9260 §6.1 counts DATA chunk sizes; user data is what the peer's
    /// a_rwnd accounts for).
    pub fn size(&self) -> u32 {
        self.data.payload.len() as u32
    }
}

/// What [`Outbound::next_chunk`] produces: a chunk and its requested
/// destination, or a message for a stream that does not exist.
pub(crate) type NextChunk = Result<(Data, Option<usize>), (SendOptions, Bytes)>;

/// Queued and outstanding data of one association.
#[derive(Debug)]
pub(crate) struct Outbound {
    pending: VecDeque<PendingMessage>,
    pending_bytes: usize,
    /// Outstanding chunks: index `i` holds TSN `cum_ack + 1 + i`.
    pub outstanding: VecDeque<OutChunk>,
    outstanding_bytes: usize,
    /// User-data bytes outstanding and not gap-acknowledged; kept up to date
    /// by every change of `OutChunk::acked` (see [`Outbound::set_acked`]).
    unacked: u32,
    pub next_tsn: Tsn,
    /// The peer's cumulative TSN ack (our Cumulative TSN Ack Point).
    pub cum_ack: Tsn,
    ssn: Vec<Ssn>,
    /// The peer's receive window as we last computed it (RFC 9260 §6.2.1).
    pub peer_rwnd: u32,
    /// Chunks marked for retransmission.
    pub marked: usize,
    /// Paths owed one packet of retransmissions regardless of their cwnd
    /// (RFC 9260 §6.3.3 E3 after a T3-rtx expiry, §7.2.4 for a fast
    /// retransmit), oldest first; at most one entry per path.
    owed: Vec<usize>,
    /// Work done processing SACKs (gap blocks examined and outstanding
    /// chunks visited): a peer controls the blocks, so this must stay in
    /// proportion to them and to the outstanding chunks (RFC 9260 §3.3.4).
    pub sack_work: u64,
}

impl Outbound {
    pub fn new(initial_tsn: Tsn, _config: &Config) -> Self {
        Outbound {
            pending: VecDeque::new(),
            pending_bytes: 0,
            outstanding: VecDeque::new(),
            outstanding_bytes: 0,
            unacked: 0,
            next_tsn: initial_tsn,
            cum_ack: Tsn(initial_tsn.0.wrapping_sub(1)),
            ssn: Vec::new(),
            peer_rwnd: 0,
            marked: 0,
            owed: Vec::new(),
            sack_work: 0,
        }
    }

    /// Sets the number of outbound streams once negotiated.
    pub fn set_streams(&mut self, n: u16) {
        self.ssn.resize(usize::from(n), Ssn(0));
    }

    /// Queues a message.
    pub fn push(
        &mut self,
        data: Bytes,
        options: SendOptions,
        destination: Option<usize>,
        config: &Config,
    ) -> Result<(), SendError> {
        if data.is_empty() {
            return Err(SendError::Empty);
        }
        if data.len() > config.max_message_size {
            return Err(SendError::TooLarge {
                len: data.len(),
                max: config.max_message_size,
            });
        }
        // A message the whole buffer cannot hold would wait forever for
        // room: refuse it for good instead of asking to retry.
        if data.len() > config.send_buffer {
            return Err(SendError::LargerThanSendBuffer {
                len: data.len(),
                send_buffer: config.send_buffer,
            });
        }
        if self.buffered_bytes() + data.len() > config.send_buffer {
            return Err(SendError::BufferFull);
        }
        self.pending_bytes += data.len();
        self.pending.push_back(PendingMessage {
            data,
            offset: 0,
            options,
            destination,
            ssn: None,
        });
        Ok(())
    }

    /// Bytes queued or outstanding.
    pub fn buffered_bytes(&self) -> usize {
        self.pending_bytes + self.outstanding_bytes
    }

    /// True if messages wait to be sent for the first time.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// True if nothing is queued or outstanding.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.outstanding.is_empty()
    }

    /// The requested destination of the next message to send.
    pub fn next_destination(&self) -> Option<Option<usize>> {
        self.pending.front().map(|m| m.destination)
    }

    /// Size on the wire of the next chunk if it had `room` bytes, or `None`
    /// if nothing should be cut now (see [`Outbound::next_chunk`]).
    fn next_len(&self, room: usize, full: usize) -> Option<usize> {
        let m = self.pending.front()?;
        let left = m.data.len() - m.offset;
        let need = DATA_FIXED_LEN + 4 + left;
        if need <= room {
            Some(left)
        } else if need > full && room >= DATA_FIXED_LEN + 4 + 64 {
            // RFC 9260 §6.9: a message too large for one packet is
            // fragmented; fragments fill the room left in this packet.
            Some((room - DATA_FIXED_LEN - 4) & !3)
        } else {
            None
        }
    }

    /// Cuts the next DATA chunk of at most `room` bytes on the wire (`full`
    /// is what an empty packet to the destination holds), assigning its TSN
    /// and, for the first fragment of an ordered message, its SSN. Messages
    /// for streams that do not exist are returned in `Err` for a SendFailed
    /// report.
    pub fn next_chunk(&mut self, room: usize, full: usize) -> Option<NextChunk> {
        let len = self.next_len(room, full)?;
        let streams = self.ssn.len();
        let m = self.pending.front_mut()?;
        if usize::from(m.options.stream) >= streams {
            let m = self.pending.pop_front()?;
            self.pending_bytes -= m.data.len() - m.offset;
            return Some(Err((m.options, m.data)));
        }
        let begin = m.offset == 0;
        let payload = m.data.slice(m.offset..m.offset + len);
        m.offset += len;
        let end = m.offset == m.data.len();
        let ssn = if m.options.unordered {
            Ssn(0)
        } else {
            *m.ssn.get_or_insert_with(|| {
                let s = &mut self.ssn[usize::from(m.options.stream)];
                let v = *s;
                *s = s.next();
                v
            })
        };
        let data = Data {
            tsn: self.next_tsn,
            stream: m.options.stream,
            ssn,
            ppid: m.options.ppid,
            unordered: m.options.unordered,
            begin,
            end,
            immediate: m.options.immediate && end,
            payload,
        };
        let destination = m.destination;
        self.next_tsn = self.next_tsn.next();
        self.pending_bytes -= len;
        if end {
            self.pending.pop_front();
        }
        Some(Ok((data, destination)))
    }

    /// Records a chunk just sent for the first time.
    pub fn add_outstanding(&mut self, chunk: OutChunk) {
        self.outstanding_bytes += chunk.data.payload.len();
        self.unacked += chunk.size();
        self.outstanding.push_back(chunk);
    }

    /// Index of `tsn` in `outstanding`, if it is there.
    pub fn index_of(&self, tsn: Tsn) -> Option<usize> {
        let d = tsn.distance(self.cum_ack);
        if d <= 0 {
            return None;
        }
        let i = (d - 1) as usize;
        (i < self.outstanding.len()).then_some(i)
    }

    /// Removes chunks up to and including `tsn` (the new cumulative ack).
    pub fn pop_acked(&mut self, tsn: Tsn) -> Vec<OutChunk> {
        let mut out = Vec::new();
        while self.cum_ack < tsn {
            match self.outstanding.pop_front() {
                Some(c) => {
                    self.outstanding_bytes -= c.data.payload.len();
                    if !c.acked {
                        self.unacked -= c.size();
                    }
                    if c.retransmit {
                        self.marked -= 1;
                    }
                    out.push(c);
                }
                None => break,
            }
            self.cum_ack = self.cum_ack.next();
        }
        out
    }

    /// Bytes outstanding and not gap-acknowledged (for the peer's window,
    /// RFC 9260 §6.2.1).
    pub fn unacked_bytes(&self) -> u32 {
        self.unacked
    }

    /// Marks outstanding chunk `i` as gap-acknowledged or not (a renege),
    /// keeping [`Outbound::unacked_bytes`] in step. Returns whether it changed.
    pub fn set_acked(&mut self, i: usize, acked: bool) -> bool {
        let Some(c) = self.outstanding.get_mut(i) else {
            return false;
        };
        if c.acked == acked {
            return false;
        }
        c.acked = acked;
        if acked {
            self.unacked -= c.size();
        } else {
            self.unacked += c.size();
        }
        true
    }

    /// Path `p` is owed one packet of the earliest chunks marked for
    /// retransmission to it, regardless of cwnd (RFC 9260 §6.3.3 E3,
    /// §7.2.4).
    pub fn owe_packet(&mut self, p: usize) {
        if !self.owed.contains(&p) {
            self.owed.push(p);
        }
    }

    /// Consumes the packet owed to path `p`, if any.
    pub fn take_owed(&mut self, p: usize) -> bool {
        match self.owed.iter().position(|&q| q == p) {
            Some(i) => {
                self.owed.remove(i);
                true
            }
            None => false,
        }
    }

    /// True if path `p` is owed a packet of retransmissions.
    pub fn is_owed(&self, p: usize) -> bool {
        self.owed.contains(&p)
    }

    /// The oldest path owed a packet that still has chunks marked for it;
    /// entries with nothing left to send are dropped.
    pub fn first_owed(&mut self) -> Option<usize> {
        while let Some(&p) = self.owed.first() {
            if self.has_marked_for(p) {
                return Some(p);
            }
            self.owed.remove(0);
        }
        None
    }

    /// True if some chunk is marked for retransmission to path `p`.
    pub fn has_marked_for(&self, p: usize) -> bool {
        self.marked > 0
            && self
                .outstanding
                .iter()
                .any(|c| c.retransmit && c.retransmit_path == p)
    }

    /// The highest TSN sent.
    pub fn highest_sent(&self) -> Tsn {
        Tsn(self.next_tsn.0.wrapping_sub(1))
    }

    /// Everything not acknowledged, for SendFailed reports when the
    /// association ends: (stream, ppid, data, whether any was sent).
    pub fn drain_unacked(&mut self) -> Vec<(u16, u32, Bytes, bool)> {
        let mut out: Vec<_> = self
            .outstanding
            .drain(..)
            .filter(|c| !c.acked)
            .map(|c| (c.data.stream, c.data.ppid, c.data.payload, true))
            .collect();
        out.extend(self.pending.drain(..).map(|m| {
            let sent = m.offset > 0;
            (
                m.options.stream,
                m.options.ppid,
                m.data.slice(m.offset..),
                sent,
            )
        }));
        self.pending_bytes = 0;
        self.outstanding_bytes = 0;
        self.unacked = 0;
        self.marked = 0;
        self.owed.clear();
        out
    }
}
