//! Packet intake: verification tag rules (RFC 9260 §8.5, §8.5.1), the
//! unrecognised-chunk actions (§3.2), and dispatch of each chunk to the part
//! of the association that owns it.

use std::net::IpAddr;
use std::time::Instant;

use bytes::Bytes;
use msctp_wire::chunk::{OperationError, RawChunks};
use msctp_wire::{Chunk, ChunkType, CommonHeader, ErrorCause, UnrecognizedAction};

use super::{Association, State};
use crate::event::{AssociationChange, CloseReason, Event};
use crate::recv::DataOutcome;

impl Association {
    /// Processes a packet routed to this association by the endpoint. The
    /// CRC32c has been verified by the caller. COOKIE ECHO and INIT are
    /// handled by the endpoint before it gets here. Returns true if the
    /// packet passed the verification tag rules (RFC 9260 §8.5) and was
    /// processed: only then may a driver learn anything from it (such as
    /// the peer's UDP port, RFC 6951 §5.4).
    pub fn handle_packet(
        &mut self,
        now: Instant,
        local: IpAddr,
        remote: IpAddr,
        packet: Bytes,
    ) -> bool {
        self.handle_chunks(now, local, remote, packet, false)
    }

    /// Processes the chunks after the first (a COOKIE ECHO the endpoint has
    /// already handled, RFC 9260 §5.1 allows DATA bundled after it).
    pub(crate) fn handle_packet_after_first(
        &mut self,
        now: Instant,
        local: IpAddr,
        remote: IpAddr,
        packet: Bytes,
    ) {
        self.handle_chunks(now, local, remote, packet, true);
    }

    fn handle_chunks(
        &mut self,
        now: Instant,
        local: IpAddr,
        remote: IpAddr,
        packet: Bytes,
        skip_first: bool,
    ) -> bool {
        self.burst_budget = self.config.max_burst;
        let Ok(header) = CommonHeader::parse(&packet) else {
            return false;
        };
        let mut accepted = skip_first;
        let datagram_len = packet.len();
        if let Some(i) = self.paths.find(remote) {
            let c = &mut self.paths.get_mut(i).counters;
            c.packets_received += 1;
            c.bytes_received += packet.len() as u64;
        }
        let mut data_seen = false;
        let mut immediate = false;
        let mut first = true;
        for raw in RawChunks::new(packet) {
            // A malformed chunk ends processing of the packet; what came
            // before it stands. Malformed input never kills the association.
            let Ok(raw) = raw else { break };
            if skip_first && first {
                first = false;
                continue;
            }
            if !self.tag_ok(&header, raw.ty, raw.flags, first) {
                // RFC 9260 §8.5: a packet with a wrong verification tag is
                // silently discarded.
                return accepted;
            }
            accepted = true;
            first = false;
            let chunk = match Chunk::parse(&raw) {
                Ok(c) => c,
                Err(_) => break,
            };
            if !implemented(&chunk) {
                // RFC 9260 §3.2: a chunk type we do not implement (unknown to
                // the codec, or an extension this association did not
                // negotiate) is handled by its type's two high-order bits.
                if self.on_unimplemented_chunk(remote, &raw) {
                    break;
                }
                continue;
            }
            match chunk {
                Chunk::Data(d) => {
                    if !self.is_established() && self.state != State::ShutdownSent {
                        continue;
                    }
                    data_seen = true;
                    immediate |= d.immediate;
                    match self.on_data(now, remote, &d, datagram_len) {
                        Some(true) => immediate = true,
                        Some(false) => {}
                        None => return accepted,
                    }
                }
                Chunk::Sack(s) if self.is_established() || self.state == State::ShutdownAckSent => {
                    self.on_sack(now, &s);
                }
                Chunk::InitAck(init) => self.on_init_ack(now, remote, init),
                Chunk::CookieAck => self.on_cookie_ack(now),
                Chunk::Heartbeat(hb) => self.on_heartbeat(local, remote, hb),
                Chunk::HeartbeatAck(hb) => self.on_heartbeat_ack(now, &hb),
                Chunk::Abort(a) => {
                    self.on_abort(a);
                    return accepted;
                }
                Chunk::Shutdown(s) => self.on_shutdown(now, &s),
                Chunk::ShutdownAck => self.on_shutdown_ack(now),
                Chunk::ShutdownComplete(_) => self.on_shutdown_complete(),
                Chunk::Error(e) => self.on_error_chunk(now, e),
                Chunk::ForwardTsn(f) if self.is_established() => {
                    // RFC 3758 §3.6: move the cumulative TSN past abandoned
                    // data and acknowledge at once.
                    if let Some(r) = self.recv.as_mut() {
                        r.on_forward_tsn(&f);
                        if r.ready_messages() > 0 {
                            self.push_readable();
                        }
                    }
                    data_seen = true;
                    immediate = true;
                }
                // Chunks that have no business here once the handshake is
                // done (INIT and COOKIE ECHO are the endpoint's), or that
                // arrived in a state that ignores them.
                _ => {}
            }
            if self.is_closed() {
                return accepted;
            }
        }
        if data_seen {
            self.on_data_packet(now, local, remote, immediate);
        }
        accepted
    }

    /// RFC 9260 §3.2: acts on the action bits of a chunk type we do not
    /// implement; returns true if processing of the packet stops.
    fn on_unimplemented_chunk(
        &mut self,
        remote: IpAddr,
        raw: &msctp_wire::chunk::RawChunk,
    ) -> bool {
        let action = raw.ty.action();
        if action.reports() {
            let dest = self.reply_dest(remote);
            self.queue_control(
                dest,
                Chunk::Error(OperationError {
                    causes: vec![ErrorCause::UnrecognizedChunkType(raw.bytes.clone())],
                }),
            );
        }
        matches!(
            action,
            UnrecognizedAction::Stop | UnrecognizedAction::StopAndReport
        )
    }

    /// RFC 9260 §8.5 and §8.5.1: which verification tag each chunk must come
    /// with.
    fn tag_ok(&self, h: &CommonHeader, ty: ChunkType, flags: u8, first: bool) -> bool {
        let t_bit = flags & msctp_wire::chunk::T_BIT != 0;
        match ty {
            // §8.5.1 B, C: ABORT and SHUTDOWN COMPLETE may reflect the tag.
            // The reflected tag is the peer's, which is unknown until the
            // INIT ACK arrives: in COOKIE-WAIT a T-bit ABORT (even one with
            // tag 0) is discarded.
            ChunkType::ABORT | ChunkType::SHUTDOWN_COMPLETE if t_bit => {
                self.state != State::CookieWait
                    && self.peer.vtag != 0
                    && h.verification_tag == self.peer.vtag
            }
            ChunkType::ABORT | ChunkType::SHUTDOWN_COMPLETE => {
                h.verification_tag == self.local_vtag
            }
            _ if !first => true,
            _ => h.verification_tag == self.local_vtag,
        }
    }

    /// One DATA chunk, whose payload is a view of the `datagram_len`-byte
    /// packet buffer (the receiver charges what it keeps alive). Returns
    /// `Some(immediate)` (whether a SACK must go at once), or `None` if the
    /// association was aborted.
    fn on_data(
        &mut self,
        _now: Instant,
        from: IpAddr,
        d: &msctp_wire::chunk::Data,
        datagram_len: usize,
    ) -> Option<bool> {
        let recv = self.recv.as_mut()?;
        recv.set_source(from);
        let outcome = recv.on_data(d, datagram_len);
        match outcome {
            DataOutcome::Accepted | DataOutcome::AcceptedAfterRenege { .. } => {
                let now_needed = outcome.requires_immediate_sack();
                if recv.ready_messages() > 0 {
                    self.push_readable();
                }
                Some(now_needed || self.recv.as_ref().is_some_and(|r| r.has_gaps()))
            }
            DataOutcome::Duplicate => Some(true),
            DataOutcome::InvalidStream => {
                // RFC 9260 §6.5: acknowledge the TSN, drop the data, report.
                let dest = self.primary_dest();
                self.queue_control(
                    dest,
                    Chunk::Error(OperationError {
                        causes: vec![ErrorCause::InvalidStreamIdentifier(d.stream)],
                    }),
                );
                Some(true)
            }
            DataOutcome::EmptyPayload => {
                // RFC 9260 §6.2: DATA without user data aborts with No User Data.
                let cause = ErrorCause::NoUserData(d.tsn);
                self.queue_abort_and_close(
                    Some(cause.clone()),
                    AssociationChange::CommLost {
                        reason: CloseReason::ProtocolError(cause),
                    },
                );
                None
            }
            DataOutcome::Dropped(_) => Some(true),
        }
    }

    fn push_readable(&mut self) {
        if !self.events.iter().any(|e| *e == Event::Readable) {
            self.push_event(Event::Readable);
        }
    }

    fn on_error_chunk(&mut self, now: Instant, e: OperationError) {
        let stale = e.causes.iter().find_map(|c| match c {
            ErrorCause::StaleCookie(us) => Some(*us),
            _ => None,
        });
        if let (Some(us), State::CookieEchoed) = (stale, self.state) {
            self.on_stale_cookie(now, us);
            return;
        }
        self.on_remote_error(e.causes);
    }
}

/// The chunk types this engine implements (RFC 9260 and FORWARD TSN, RFC
/// 3758 §3.6, whose receipt is handled); everything else, including
/// extensions the codec parses but the engine does not negotiate (ASCONF,
/// AUTH, I-DATA, RE-CONFIG, ECN), is treated as unrecognised (§3.2).
fn implemented(c: &Chunk) -> bool {
    matches!(
        c,
        Chunk::Data(_)
            | Chunk::Init(_)
            | Chunk::InitAck(_)
            | Chunk::Sack(_)
            | Chunk::Heartbeat(_)
            | Chunk::HeartbeatAck(_)
            | Chunk::Abort(_)
            | Chunk::Shutdown(_)
            | Chunk::ShutdownAck
            | Chunk::Error(_)
            | Chunk::CookieEcho(_)
            | Chunk::CookieAck
            | Chunk::ShutdownComplete(_)
            | Chunk::ForwardTsn(_)
            | Chunk::Pad(_)
    )
}
