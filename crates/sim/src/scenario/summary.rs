//! Per-link summaries of a scenario: what each direction of each link
//! carried (packets, bytes, DATA chunks, retransmissions, SACKs,
//! heartbeats, ICMP errors, drops), counted from the ladder, and the state
//! changes the endpoints reported for the peer address on that link.

use std::net::IpAddr;
use std::time::Duration;

use msctp_proto::{AddressChange, Event, PathState};

use super::EventRecord;
use super::ladder::{ChunkInfo, Content, LadderPacket, Side};
use crate::link::Direction;

/// What one direction of a link carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectionSummary {
    /// SCTP packets that entered the link.
    pub packets: u64,
    /// Their bytes (SCTP packet lengths).
    pub bytes: u64,
    /// SCTP packets delivered to the far end.
    pub delivered: u64,
    /// SCTP packets dropped (blocked link).
    pub dropped: u64,
    /// DATA chunks sent for the first time.
    pub data_chunks: u64,
    /// DATA chunks carrying a TSN sent before.
    pub retransmissions: u64,
    /// SACK chunks.
    pub sacks: u64,
    /// HEARTBEAT chunks.
    pub heartbeats: u64,
    /// HEARTBEAT ACK chunks.
    pub heartbeat_acks: u64,
    /// ICMP errors that travelled this way (about packets of the other
    /// direction).
    pub icmp_errors: u64,
}

impl DirectionSummary {
    fn add(&mut self, p: &LadderPacket) {
        if let Content::Icmp { .. } = p.content {
            self.icmp_errors += 1;
            return;
        }
        self.packets += 1;
        self.bytes += p.len as u64;
        if p.fate.delivered() {
            self.delivered += 1;
        } else {
            self.dropped += 1;
        }
        for c in p.chunks() {
            match c {
                ChunkInfo::Data {
                    retransmission: true,
                    ..
                } => self.retransmissions += 1,
                ChunkInfo::Data { .. } => self.data_chunks += 1,
                ChunkInfo::Sack { .. } => self.sacks += 1,
                ChunkInfo::Heartbeat { .. } => self.heartbeats += 1,
                ChunkInfo::HeartbeatAck { .. } => self.heartbeat_acks += 1,
                _ => {}
            }
        }
    }
}

/// A state change an endpoint reported for a peer address (RFC 6458
/// SCTP_PEER_ADDR_CHANGE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateChange {
    /// Virtual time.
    pub at: Duration,
    /// The endpoint that reported it.
    pub host: Side,
    /// The peer address.
    pub address: IpAddr,
    /// What happened.
    pub change: AddressChange,
    /// Path state before.
    pub from: PathState,
    /// Path state after.
    pub to: PathState,
}

/// One link of the lab over a whole scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSummary {
    /// Link number: 1 (primary) or 2.
    pub link: usize,
    /// Alpha's address on it.
    pub alpha: IpAddr,
    /// Beta's address on it.
    pub beta: IpAddr,
    /// Alpha → beta.
    pub alpha_to_beta: DirectionSummary,
    /// Beta → alpha.
    pub beta_to_alpha: DirectionSummary,
    /// State changes of the path over this link, as either endpoint saw
    /// it (alpha about `beta`, beta about `alpha`).
    pub state_changes: Vec<StateChange>,
}

impl LinkSummary {
    /// Both directions added up.
    pub fn total(&self) -> DirectionSummary {
        let (a, b) = (self.alpha_to_beta, self.beta_to_alpha);
        DirectionSummary {
            packets: a.packets + b.packets,
            bytes: a.bytes + b.bytes,
            delivered: a.delivered + b.delivered,
            dropped: a.dropped + b.dropped,
            data_chunks: a.data_chunks + b.data_chunks,
            retransmissions: a.retransmissions + b.retransmissions,
            sacks: a.sacks + b.sacks,
            heartbeats: a.heartbeats + b.heartbeats,
            heartbeat_acks: a.heartbeat_acks + b.heartbeat_acks,
            icmp_errors: a.icmp_errors + b.icmp_errors,
        }
    }
}

/// Summaries of the links whose addresses are `links[i] = (alpha, beta)`.
pub(crate) fn summarize(
    links: &[(IpAddr, IpAddr)],
    ladder: &[LadderPacket],
    events: &[EventRecord],
) -> Vec<LinkSummary> {
    links
        .iter()
        .enumerate()
        .map(|(i, &(alpha, beta))| {
            let number = i + 1;
            let mut s = LinkSummary {
                link: number,
                alpha,
                beta,
                alpha_to_beta: DirectionSummary::default(),
                beta_to_alpha: DirectionSummary::default(),
                state_changes: Vec::new(),
            };
            for p in ladder.iter().filter(|p| p.link == number) {
                match p.direction {
                    Direction::AToB => s.alpha_to_beta.add(p),
                    Direction::BToA => s.beta_to_alpha.add(p),
                }
            }
            for e in events {
                if let Event::PeerAddress {
                    address,
                    change,
                    from,
                    to,
                } = e.event
                {
                    let on_link = match e.host {
                        Side::Alpha => address == beta,
                        Side::Beta => address == alpha,
                    };
                    if on_link {
                        s.state_changes.push(StateChange {
                            at: e.at,
                            host: e.host,
                            address,
                            change,
                            from,
                            to,
                        });
                    }
                }
            }
            s
        })
        .collect()
}
