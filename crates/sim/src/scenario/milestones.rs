//! What a scenario's story is made of: the [`Milestones`] (failure,
//! detection, the lost TSN and its retransmission on the alternate path,
//! failover and failback times) and the [`Phase`]s a narrator announces as
//! they begin, both computed from the ladder, the link changes and the
//! endpoints' events.

use std::time::Duration;

use msctp_proto::{AddressChange, AssociationChange, Event};

use super::ladder::{ChunkInfo, Fate, LadderPacket, Side};
use super::{EventRecord, LinkChange};
use crate::link::{Direction, LinkState};

/// A packet of the ladder a milestone points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketRef {
    /// Its number in the ladder (and frame number in the combined capture).
    pub number: usize,
    /// When it entered its link.
    pub time: Duration,
    /// The TSN that matters (DATA) or the cumulative TSN ack (SACK).
    pub tsn: Option<u32>,
}

impl PacketRef {
    fn of(p: &LadderPacket, tsn: Option<u32>) -> PacketRef {
        PacketRef {
            number: p.number,
            time: p.time,
            tsn,
        }
    }
}

/// The moments of a scenario. Times are virtual times since the start; the
/// durations `failover` and `failback` are measured from the failure and
/// from the restoration of link 1. Data milestones follow alpha's messages
/// (alpha → beta).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Milestones {
    /// Alpha reported COMMUNICATION UP.
    pub established: Option<Duration>,
    /// Both endpoints had confirmed the peer's second address (RFC 9260 §5.4).
    pub second_path_confirmed: Option<Duration>,
    /// Link 1 was blocked.
    pub failure: Option<Duration>,
    /// Alpha's first DATA lost on link 1.
    pub first_loss: Option<PacketRef>,
    /// Alpha first reported beta's link-1 address potentially failed or
    /// unreachable.
    pub detection: Option<Duration>,
    /// Alpha's first retransmitted DATA on link 2 (`tsn`: its TSN, which is
    /// the TSN lost on link 1).
    pub first_retransmission_on_link2: Option<PacketRef>,
    /// The SACK over link 2 that first acknowledged the lost TSN.
    pub lost_tsn_acked: Option<PacketRef>,
    /// From the transmission of the lost DATA on link 1 to the delivery of
    /// that SACK: how long the message was delayed by the failure.
    pub recovery: Option<Duration>,
    /// Failure → the first SACK over link 2 acknowledging a DATA chunk
    /// alpha sent over link 2 for the first time.
    pub failover: Option<Duration>,
    /// Link 1 was restored.
    pub restore: Option<Duration>,
    /// The first HEARTBEAT ACK delivered over link 1 after the restoration.
    pub link1_answers: Option<PacketRef>,
    /// Restoration → the first DATA from alpha delivered over link 1.
    pub failback: Option<Duration>,
    /// That DATA.
    pub first_data_back_on_link1: Option<PacketRef>,
    /// Alpha started the graceful shutdown (its SHUTDOWN).
    pub shutdown: Option<Duration>,
    /// Both endpoints reported SHUTDOWN COMPLETE (the later of the two).
    pub shutdown_complete: Option<Duration>,
}

/// A phase of the story, in the order of the reference text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PhaseKind {
    /// INIT, INIT ACK, COOKIE ECHO, COOKIE ACK.
    Handshake,
    /// HEARTBEATs to the addresses learnt from INIT / INIT ACK.
    AddressConfirmation,
    /// DATA and SACK on the primary path.
    DataOnPrimary,
    /// HEARTBEATs monitoring the idle second path.
    HeartbeatsOnSecondary,
    /// Link 1 blocked.
    LinkFailure,
    /// The lost DATA retransmitted over link 2.
    RetransmissionOnAlternate,
    /// HEARTBEATs probing link 1 while it is blocked.
    ProbingLink1,
    /// Link 1 restored.
    LinkRestored,
    /// Link 1 answers again and DATA returns to it.
    Failback,
    /// SHUTDOWN, SHUTDOWN ACK, SHUTDOWN COMPLETE.
    Shutdown,
}

impl PhaseKind {
    /// A short snake-case name.
    pub fn name(self) -> &'static str {
        match self {
            PhaseKind::Handshake => "handshake",
            PhaseKind::AddressConfirmation => "address_confirmation",
            PhaseKind::DataOnPrimary => "data_on_primary",
            PhaseKind::HeartbeatsOnSecondary => "heartbeats_on_secondary",
            PhaseKind::LinkFailure => "link_failure",
            PhaseKind::RetransmissionOnAlternate => "retransmission_on_alternate",
            PhaseKind::ProbingLink1 => "probing_link1",
            PhaseKind::LinkRestored => "link_restored",
            PhaseKind::Failback => "failback",
            PhaseKind::Shutdown => "shutdown",
        }
    }
}

/// Where a phase begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phase {
    /// Which phase.
    pub kind: PhaseKind,
    /// When it begins.
    pub at: Duration,
    /// The packet that begins it, if a packet does (link changes do not).
    pub packet: Option<usize>,
}

fn is_alpha_data(p: &LadderPacket) -> bool {
    p.direction == Direction::AToB && p.data_tsns().next().is_some()
}

fn confirmed_at(events: &[EventRecord], host: Side) -> Option<Duration> {
    events
        .iter()
        .find(|e| {
            e.host == host
                && matches!(
                    e.event,
                    Event::PeerAddress {
                        change: AddressChange::Confirmed,
                        ..
                    }
                )
        })
        .map(|e| e.at)
}

/// Computes the milestones.
pub(crate) fn milestones(
    ladder: &[LadderPacket],
    events: &[EventRecord],
    changes: &[LinkChange],
) -> Milestones {
    let mut m = Milestones {
        established: events
            .iter()
            .find(|e| {
                e.host == Side::Alpha
                    && matches!(
                        e.event,
                        Event::Association(AssociationChange::CommUp { .. })
                    )
            })
            .map(|e| e.at),
        ..Milestones::default()
    };
    if let (Some(a), Some(b)) = (
        confirmed_at(events, Side::Alpha),
        confirmed_at(events, Side::Beta),
    ) {
        m.second_path_confirmed = Some(a.max(b));
    }
    m.failure = changes
        .iter()
        .find(|c| c.link == 1 && c.to != LinkState::Up)
        .map(|c| c.at);
    m.restore = m.failure.and_then(|f| {
        changes
            .iter()
            .find(|c| c.link == 1 && c.to == LinkState::Up && c.at >= f)
            .map(|c| c.at)
    });
    m.shutdown = ladder
        .iter()
        .find(|p| p.has(|c| matches!(c, ChunkInfo::Shutdown { .. })))
        .map(|p| p.time);
    let completes: Vec<_> = events
        .iter()
        .filter(|e| {
            matches!(
                e.event,
                Event::Association(AssociationChange::ShutdownComplete)
            )
        })
        .collect();
    if completes.iter().any(|e| e.host == Side::Alpha)
        && completes.iter().any(|e| e.host == Side::Beta)
    {
        m.shutdown_complete = completes.iter().map(|e| e.at).max();
    }
    let Some(failure) = m.failure else {
        return m;
    };
    let beta_link1 = ladder
        .iter()
        .find(|p| p.link == 1 && p.direction == Direction::AToB)
        .map(|p| p.dst);
    m.detection = events
        .iter()
        .find(|e| {
            e.host == Side::Alpha
                && e.at >= failure
                && matches!(
                    e.event,
                    Event::PeerAddress { address, change: AddressChange::PotentiallyFailed | AddressChange::Unreachable, .. }
                        if Some(address) == beta_link1
                )
        })
        .map(|e| e.at);
    let lost = ladder
        .iter()
        .find(|p| p.time >= failure && p.link == 1 && is_alpha_data(p) && !p.fate.delivered());
    m.first_loss = lost.map(|p| PacketRef::of(p, p.data_tsns().next().map(|(t, _)| t)));
    let retransmission = ladder.iter().find(|p| {
        p.time >= failure
            && p.link == 2
            && p.direction == Direction::AToB
            && p.data_tsns().any(|(_, r)| r)
    });
    m.first_retransmission_on_link2 = retransmission.map(|p| {
        let tsn = p.data_tsns().find(|(_, r)| *r).map(|(t, _)| t);
        PacketRef::of(p, tsn)
    });
    // SACKs from beta delivered over link 2 after the failure.
    let sacks_on_link2 = || {
        ladder.iter().filter(move |p| {
            p.time >= failure && p.link == 2 && p.direction == Direction::BToA && p.fate.delivered()
        })
    };
    if let Some(loss) = m.first_loss {
        let tsn = loss.tsn.unwrap_or_default();
        let ack = sacks_on_link2().find(|p| p.sack().is_some_and(|c| serial_ge(c, tsn)));
        m.lost_tsn_acked = ack.map(|p| PacketRef::of(p, p.sack()));
        m.recovery = ack.and_then(delivered_at).map(|at| at - loss.time);
    }
    let first_new_on_link2 = ladder.iter().find_map(|p| {
        (p.time >= failure && p.link == 2 && is_alpha_data(p) && p.fate.delivered())
            .then(|| p.data_tsns().find(|(_, r)| !*r).map(|(t, _)| (p.time, t)))
            .flatten()
    });
    if let Some((sent, tsn)) = first_new_on_link2 {
        m.failover = sacks_on_link2()
            .find(|p| p.time >= sent && p.sack().is_some_and(|c| serial_ge(c, tsn)))
            .and_then(delivered_at)
            .map(|at| at - failure);
    }
    let Some(restore) = m.restore else {
        return m;
    };
    m.link1_answers = ladder
        .iter()
        .find(|p| {
            p.time >= restore
                && p.link == 1
                && p.fate.delivered()
                && p.has(|c| matches!(c, ChunkInfo::HeartbeatAck { .. }))
        })
        .map(|p| PacketRef::of(p, None));
    let back = ladder
        .iter()
        .find(|p| p.time >= restore && p.link == 1 && is_alpha_data(p) && p.fate.delivered());
    m.first_data_back_on_link1 =
        back.map(|p| PacketRef::of(p, p.data_tsns().next().map(|(t, _)| t)));
    m.failback = back.and_then(delivered_at).map(|at| at - restore);
    m
}

fn delivered_at(p: &LadderPacket) -> Option<Duration> {
    match p.fate {
        Fate::Delivered(at) => Some(at),
        _ => None,
    }
}

/// `a >= b` in serial number arithmetic (RFC 1982), as TSNs compare.
pub fn serial_ge(a: u32, b: u32) -> bool {
    a.wrapping_sub(b) < (1 << 31)
}

/// Computes where each phase begins, sorted by time.
pub(crate) fn phases(
    ladder: &[LadderPacket],
    events: &[EventRecord],
    changes: &[LinkChange],
    m: &Milestones,
) -> Vec<Phase> {
    let mut phases = Vec::new();
    let mut at_packet = |kind: PhaseKind, p: Option<&LadderPacket>| {
        if let Some(p) = p {
            phases.push(Phase {
                kind,
                at: p.time,
                packet: Some(p.number),
            });
        }
    };
    let first = |f: &dyn Fn(&LadderPacket) -> bool| ladder.iter().find(|p| f(p));
    at_packet(
        PhaseKind::Handshake,
        first(&|p| p.has(|c| matches!(c, ChunkInfo::Init { .. }))),
    );
    at_packet(
        PhaseKind::AddressConfirmation,
        first(&|p| p.has(|c| matches!(c, ChunkInfo::Heartbeat { .. }))),
    );
    at_packet(
        PhaseKind::DataOnPrimary,
        first(&|p| p.data_tsns().next().is_some()),
    );
    // Monitoring: a HEARTBEAT on link 2 after both addresses were confirmed
    // (the earlier ones verified the address).
    let confirmed = confirmed_at(events, Side::Alpha)
        .into_iter()
        .chain(confirmed_at(events, Side::Beta))
        .max();
    if let Some(confirmed) = confirmed {
        at_packet(
            PhaseKind::HeartbeatsOnSecondary,
            first(&|p| {
                p.time > confirmed
                    && p.link == 2
                    && m.failure.is_none_or(|f| p.time < f)
                    && p.has(|c| matches!(c, ChunkInfo::Heartbeat { .. }))
            }),
        );
    }
    if let Some(failure) = m.failure {
        at_packet(
            PhaseKind::RetransmissionOnAlternate,
            m.first_retransmission_on_link2
                .and_then(|r| ladder.get(r.number - 1)),
        );
        at_packet(
            PhaseKind::ProbingLink1,
            first(&|p| {
                p.time >= failure
                    && p.link == 1
                    && m.restore.is_none_or(|r| p.time < r)
                    && p.has(|c| matches!(c, ChunkInfo::Heartbeat { .. }))
            }),
        );
    }
    at_packet(
        PhaseKind::Failback,
        m.link1_answers.and_then(|r| ladder.get(r.number - 1)),
    );
    at_packet(
        PhaseKind::Shutdown,
        first(&|p| p.has(|c| matches!(c, ChunkInfo::Shutdown { .. }))),
    );
    for c in changes.iter().filter(|c| c.link == 1) {
        let kind = if c.to == LinkState::Up {
            PhaseKind::LinkRestored
        } else {
            PhaseKind::LinkFailure
        };
        if !phases.iter().any(|p| p.kind == kind && p.at == c.at) {
            phases.push(Phase {
                kind,
                at: c.at,
                packet: None,
            });
        }
    }
    // Link changes come first at their instant, then packets in order.
    phases.sort_by_key(|p| (p.at, p.packet.unwrap_or(0)));
    phases
}
