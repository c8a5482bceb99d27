//! The reference text's two experiments (`multihoming-in-sctp.txt`) as
//! reusable, deterministic scenarios on the DESIGN.md lab: [`normal`]
//! operation and primary-path [`failover`], each returning a
//! [`ScenarioRun`] that holds everything needed to tell the story and to
//! check it: the packet ladder, both endpoints' events, per-link summaries,
//! milestones, phases, the messages, and the captures.
//!
//! # The experiment
//!
//! Alpha (192.0.2.1, 198.51.100.1) is the client: it sends INIT to beta's
//! link-1 address 192.0.2.2 only, so beta's second address is learnt from
//! the INIT ACK. Beta (192.0.2.2, 198.51.100.2) listens. Both links have a
//! 1 ms one-way delay, like the text's LAN. From 100 ms on, alpha writes
//! one message `msg N` every 200 ms; beta echoes each one back, so both
//! ends send DATA on the primary path (and bundle their SACKs with it). At
//! the end alpha shuts the association down gracefully.
//!
//! In [`failover`], link 1 is blocked in both directions at 2 s and
//! restored at 6 s, either with ICMP errors ([`Failure::Reject`], like the
//! text's `iptables -j REJECT`) or silently ([`Failure::Drop`], like
//! `-j DROP`).
//!
//! # Parameters
//!
//! The RFC 9260 defaults (RTO.Min 1 s, HB.interval 30 s) would make the
//! story take minutes; the scenarios use (see [`Protocol::scenario`]):
//! HB.interval 1 s (heartbeats on link 2 appear within seconds), RTO.Initial
//! 300 ms, RTO.Min 100 ms and RTO.Max 1 s (sub-second failover and a
//! probe of the failed path at least every second), and the defaults
//! otherwise (Path.Max.Retrans 5, PFMR 0, delayed SACK 200 ms / every 2nd
//! packet, and the I bit of RFC 7053 on the last DATA before the sender goes
//! idle, so that each lone message is acknowledged at once).
//!
//! # Modules
//!
//! | module | owns |
//! |---|---|
//! | `apps` | the applications: [`Client`] on alpha, [`Echo`] on beta |
//! | `ladder` | [`LadderPacket`], [`ChunkInfo`], [`Content`], [`Fate`], [`Side`]: the ladder rebuilt from the log and capture |
//! | `summary` | [`LinkSummary`], [`DirectionSummary`], [`StateChange`] |
//! | `milestones` | [`Milestones`], [`Phase`], [`PhaseKind`] |
//!
//! Same seed, same [`ScenarioRun`], byte for byte.

mod apps;
mod ladder;
mod milestones;
mod summary;

use std::net::IpAddr;
use std::time::Duration;

use msctp_proto::{AssociationChange, Config, Event, PathInfo};

pub use apps::{Client, Echo, PPID, Read, message_number, message_text, write_message};
pub use ladder::{ChunkInfo, Content, Fate, LadderPacket, Side};
pub use milestones::{Milestones, PacketRef, Phase, PhaseKind, serial_ge};
pub use summary::{DirectionSummary, LinkSummary, StateChange};

use crate::config::SimConfig;
use crate::link::{Direction, LinkConfig, LinkState};
use crate::log::{LogEntry, LogKind};
use crate::rng::Rng;
use crate::sctp::SctpHost;
use crate::topology::{ALPHA_1_V4, ALPHA_2_V4, BETA_1_V4, BETA_2_V4, Lab};

/// How link 1 fails in [`failover`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    /// Every packet arriving over link 1 is dropped and answered with an
    /// ICMP port unreachable, like `iptables -I INPUT -p sctp -i eth1 -j
    /// REJECT` on both hosts in the reference text.
    Reject,
    /// Every packet arriving over link 1 is dropped silently (a blackhole,
    /// like `-j DROP`): only timers can tell.
    Drop,
}

impl Failure {
    /// `reject` or `drop`.
    pub fn name(self) -> &'static str {
        match self {
            Failure::Reject => "reject",
            Failure::Drop => "drop",
        }
    }

    /// The link state that plays it.
    pub fn link_state(self) -> LinkState {
        match self {
            Failure::Reject => LinkState::REJECT,
            Failure::Drop => LinkState::Down,
        }
    }
}

/// The protocol parameters of both endpoints (RFC 9260 §16 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protocol {
    /// RTO.Initial.
    pub rto_initial: Duration,
    /// RTO.Min.
    pub rto_min: Duration,
    /// RTO.Max.
    pub rto_max: Duration,
    /// HB.interval.
    pub hb_interval: Duration,
    /// Path.Max.Retrans.
    pub path_max_retrans: u32,
    /// Association.Max.Retrans.
    pub association_max_retrans: u32,
    /// PFMR (RFC 7829); `None`: SCTP-PF off.
    pub pf_max_retrans: Option<u32>,
    /// Delayed SACK timeout.
    pub sack_delay: Duration,
    /// SACK at least every this many packets.
    pub sack_freq: u32,
    /// Set the I bit (RFC 7053) on the last DATA before the send queue runs
    /// empty, so that the peer acknowledges it at once.
    pub sack_immediately_when_idle: bool,
}

impl Protocol {
    /// The scenarios' parameters: RTO 300 ms initial, 100 ms .. 1 s,
    /// heartbeats every second, the RFC defaults otherwise.
    pub fn scenario() -> Protocol {
        let d = Config::default();
        Protocol {
            rto_initial: Duration::from_millis(300),
            rto_min: Duration::from_millis(100),
            rto_max: Duration::from_secs(1),
            hb_interval: Duration::from_secs(1),
            path_max_retrans: d.path_max_retrans,
            association_max_retrans: d.association_max_retrans,
            pf_max_retrans: d.pf_max_retrans,
            sack_delay: d.sack_delay,
            sack_freq: d.sack_freq,
            sack_immediately_when_idle: d.sack_immediately_when_idle,
        }
    }

    /// An endpoint configuration with these parameters and seeded
    /// randomness.
    pub fn config(&self, rng_seed: u64, cookie_secret: [u8; 32]) -> Config {
        Config {
            rto_initial: self.rto_initial,
            rto_min: self.rto_min,
            rto_max: self.rto_max,
            hb_interval: self.hb_interval,
            path_max_retrans: self.path_max_retrans,
            association_max_retrans: self.association_max_retrans,
            pf_max_retrans: self.pf_max_retrans,
            sack_delay: self.sack_delay,
            sack_freq: self.sack_freq,
            sack_immediately_when_idle: self.sack_immediately_when_idle,
            rng_seed,
            cookie_secret,
            ..Config::default()
        }
    }
}

/// When link 1 fails and comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailurePlan {
    /// How.
    pub failure: Failure,
    /// When link 1 is blocked (both directions).
    pub at: Duration,
    /// When it is restored.
    pub restore_at: Duration,
}

/// Everything a scenario does, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `normal` or `failover`.
    pub name: &'static str,
    /// One-way delay of both links.
    pub link_delay: Duration,
    /// When alpha writes message 1.
    pub first_message_at: Duration,
    /// Time between two messages.
    pub message_interval: Duration,
    /// Number of messages.
    pub messages: u32,
    /// The failure of link 1, if any.
    pub failure: Option<FailurePlan>,
    /// When alpha starts the graceful shutdown.
    pub shutdown_at: Duration,
    /// Longest the shutdown may take before the run is cut short.
    pub shutdown_limit: Duration,
    /// Both endpoints' parameters.
    pub protocol: Protocol,
    /// SCTP port of both endpoints.
    pub port: u16,
}

impl Plan {
    /// The normal-operation plan: 20 messages, shutdown at 4.2 s.
    pub fn normal() -> Plan {
        Plan {
            name: "normal",
            link_delay: Duration::from_millis(1),
            first_message_at: Duration::from_millis(100),
            message_interval: Duration::from_millis(200),
            messages: 20,
            failure: None,
            shutdown_at: Duration::from_millis(4200),
            shutdown_limit: Duration::from_secs(10),
            protocol: Protocol::scenario(),
            port: 5001,
        }
    }

    /// The failover plan: 40 messages, link 1 blocked from 2 s to 6 s,
    /// shutdown at 8.2 s.
    pub fn failover(failure: Failure) -> Plan {
        Plan {
            name: "failover",
            messages: 40,
            failure: Some(FailurePlan {
                failure,
                at: Duration::from_secs(2),
                restore_at: Duration::from_secs(6),
            }),
            shutdown_at: Duration::from_millis(8200),
            ..Plan::normal()
        }
    }

    /// When alpha writes message `n` (from 1).
    pub fn message_time(&self, n: u32) -> Duration {
        self.first_message_at + self.message_interval * n.saturating_sub(1)
    }
}

/// An event an endpoint reported, with its virtual time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// Virtual time.
    pub at: Duration,
    /// The endpoint.
    pub host: Side,
    /// The event.
    pub event: Event,
}

/// A change of state of one direction of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkChange {
    /// Virtual time.
    pub at: Duration,
    /// Link number: 1 or 2.
    pub link: usize,
    /// The direction (`AToB`: alpha → beta).
    pub direction: Direction,
    /// State before.
    pub from: LinkState,
    /// State after.
    pub to: LinkState,
}

/// The messages of a run, as the applications saw them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Messages {
    /// Written by alpha: (time, number, accepted by the engine).
    pub written: Vec<(Duration, u32, bool)>,
    /// Read by beta, in order.
    pub received: Vec<Read>,
    /// Echoes read by alpha, in order.
    pub echoed: Vec<Read>,
}

impl Messages {
    /// The numbers beta read, in order.
    pub fn received_numbers(&self) -> Vec<Option<u32>> {
        self.received.iter().map(|r| r.number).collect()
    }

    /// The numbers alpha read back, in order.
    pub fn echoed_numbers(&self) -> Vec<Option<u32>> {
        self.echoed.iter().map(|r| r.number).collect()
    }
}

/// Everything a scenario run left: see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioRun {
    /// `normal` or `failover`.
    pub name: &'static str,
    /// The simulator seed.
    pub seed: u64,
    /// What was planned.
    pub plan: Plan,
    /// Every datagram that entered a link, in order.
    pub ladder: Vec<LadderPacket>,
    /// Both endpoints' events, in time order (alpha first at equal times).
    pub events: Vec<EventRecord>,
    /// Link state changes.
    pub link_changes: Vec<LinkChange>,
    /// Link 1 and link 2.
    pub links: Vec<LinkSummary>,
    /// The moments that matter.
    pub milestones: Milestones,
    /// Where each phase of the story begins.
    pub phases: Vec<Phase>,
    /// The messages.
    pub messages: Messages,
    /// Each endpoint's paths (RFC 9260 §6.4) just before the shutdown.
    pub paths_before_shutdown: Vec<(Side, Vec<PathInfo>)>,
    /// The simulator's event log.
    pub log: Vec<LogEntry>,
    /// The capture of each link (index 0: link 1), as pcap files.
    pub link_pcaps: Vec<Vec<u8>>,
    /// All links in one pcap file.
    pub combined_pcap: Vec<u8>,
    /// Virtual time when the run ended.
    pub end: Duration,
}

impl ScenarioRun {
    /// The ladder packet numbered `n` (from 1).
    pub fn packet(&self, n: usize) -> Option<&LadderPacket> {
        self.ladder.get(n.checked_sub(1)?)
    }

    /// The simulator log, one line per entry.
    pub fn log_text(&self) -> String {
        self.log.iter().map(|e| format!("{e}\n")).collect()
    }

    /// The ladder as plain text, one line per packet (for test messages).
    pub fn ladder_text(&self) -> String {
        let mut out = String::new();
        for p in &self.ladder {
            out.push_str(&format!(
                "#{} {} link{} {} > {} ",
                p.number,
                crate::clock::VirtualTime(p.time),
                p.link,
                p.src,
                p.dst
            ));
            match &p.content {
                Content::Sctp { chunks, .. } => {
                    let c: Vec<String> = chunks.iter().map(ToString::to_string).collect();
                    out.push_str(&c.join(" + "));
                }
                Content::Icmp { kind, about } => {
                    out.push_str(&format!("ICMP {kind:?} about #{}", about.unwrap_or(0)));
                }
                Content::Undecodable(why) => out.push_str(&format!("undecodable: {why}")),
            }
            match p.fate {
                Fate::Delivered(_) => {}
                Fate::Dropped { reason, .. } => out.push_str(&format!(" [dropped {reason:?}]")),
                Fate::InFlight => out.push_str(" [in flight]"),
            }
            out.push('\n');
        }
        out
    }

    /// The events as plain text, one line per event (for test messages).
    pub fn events_text(&self) -> String {
        self.events
            .iter()
            .map(|e| {
                format!(
                    "{} {} {:?}\n",
                    crate::clock::VirtualTime(e.at),
                    e.host,
                    e.event
                )
            })
            .collect()
    }
}

/// Normal operation: handshake, data for four seconds, graceful shutdown.
pub fn normal(seed: u64) -> ScenarioRun {
    run(seed, &Plan::normal())
}

/// Primary path switching: link 1 fails at 2 s and comes back at 6 s.
pub fn failover(seed: u64, failure: Failure) -> ScenarioRun {
    run(seed, &Plan::failover(failure))
}

/// A 32-byte secret derived from the seed (the simulator's cookie keys).
fn secret(rng: &mut Rng) -> [u8; 32] {
    let mut s = [0u8; 32];
    for chunk in s.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    s
}

fn host_events(host: &SctpHost, side: Side) -> impl Iterator<Item = EventRecord> + '_ {
    host.events.iter().map(move |e| EventRecord {
        at: e.at,
        host: side,
        event: e.event.clone(),
    })
}

fn finished(host: &SctpHost) -> bool {
    host.events.iter().any(|e| {
        matches!(
            e.event,
            Event::Association(
                AssociationChange::ShutdownComplete
                    | AssociationChange::CommLost { .. }
                    | AssociationChange::CantStartAssociation { .. }
            )
        )
    })
}

/// Runs `plan` with simulator seed `seed`.
pub fn run(seed: u64, plan: &Plan) -> ScenarioRun {
    let config = SimConfig {
        record_pcap: true,
        combined_pcap: true,
        ..SimConfig::default()
    };
    let Lab {
        mut sim,
        alpha,
        beta,
        link1,
        link2,
    } = Lab::with_config(seed, config, LinkConfig::with_delay(plan.link_delay));
    let start = sim.start();
    // Randomness of the endpoints, derived from the seed, apart from the
    // simulator's own streams.
    let mut rng = Rng::derive(seed, 0x5ce_0a41);
    let alpha_config = plan.protocol.config(rng.next_u64(), secret(&mut rng));
    let beta_config = plan.protocol.config(rng.next_u64(), secret(&mut rng));
    let mut client = SctpHost::new(alpha_config, vec![ALPHA_1_V4, ALPHA_2_V4], plan.port, start)
        .with_app(Client::new(start));
    // The reference text: the client passes one address of the server; the
    // other comes from the INIT ACK (RFC 9260 §5.1.2).
    if let Err(e) = client.endpoint.connect(start, &[BETA_1_V4], plan.port) {
        panic!("scenario {}: connect failed: {e}", plan.name);
    }
    let mut server = SctpHost::new(beta_config, vec![BETA_1_V4, BETA_2_V4], plan.port, start)
        .with_app(Echo::new(start));
    server.endpoint.listen(true);
    sim.set_agent(alpha, client);
    sim.set_agent(beta, server);

    for n in 1..=plan.messages {
        sim.schedule(plan.message_time(n), move |sim| {
            sim.with_agent::<SctpHost, _>(alpha, |host, now| {
                let association = host.app::<Client>().and_then(|c| c.association);
                let accepted = write_message(&mut host.endpoint, association, n);
                if let Some(c) = host.app_mut::<Client>() {
                    c.record_write(now, n, accepted);
                }
            });
        });
    }
    if let Some(f) = plan.failure {
        sim.schedule_link_state(f.at, link1, None, f.failure.link_state());
        sim.schedule_link_state(f.restore_at, link1, None, LinkState::Up);
    }

    sim.run_until(plan.shutdown_at);
    let paths_before_shutdown = [(Side::Alpha, alpha), (Side::Beta, beta)]
        .into_iter()
        .map(|(side, id)| {
            let host = sim.agent::<SctpHost>(id);
            let paths = host
                .endpoint
                .associations()
                .next()
                .map(|(_, a)| a.paths())
                .unwrap_or_default();
            (side, paths)
        })
        .collect();
    sim.with_agent::<SctpHost, _>(alpha, |host, now| {
        let h = host.app::<Client>().and_then(|c| c.association);
        if let Some(a) = h.and_then(|h| host.endpoint.association_mut(h)) {
            a.shutdown(now);
        }
    });
    sim.run_until_cond(plan.shutdown_limit, |sim| {
        finished(sim.agent::<SctpHost>(alpha)) && finished(sim.agent::<SctpHost>(beta))
    });

    let a = sim.agent::<SctpHost>(alpha);
    let b = sim.agent::<SctpHost>(beta);
    let mut events: Vec<EventRecord> = host_events(a, Side::Alpha)
        .chain(host_events(b, Side::Beta))
        .collect();
    events.sort_by_key(|e| (e.at, e.host));
    let client = a.app::<Client>().expect("alpha runs the client");
    let echo = b.app::<Echo>().expect("beta runs the echo server");
    let messages = Messages {
        written: client.written.clone(),
        received: echo.received.clone(),
        echoed: client.echoes.clone(),
    };
    let log = sim.log().to_vec();
    let link_changes: Vec<LinkChange> = log
        .iter()
        .filter_map(|e| match e.kind {
            LogKind::LinkStateChanged { from, to } => Some(LinkChange {
                at: e.time,
                link: e.link.map_or(0, |l| l.number()),
                direction: e.direction.unwrap_or(Direction::AToB),
                from,
                to,
            }),
            _ => None,
        })
        .collect();
    let combined_pcap = sim.combined_pcap_bytes();
    let ladder = ladder::build(&log, &combined_pcap);
    let link_addresses: Vec<(IpAddr, IpAddr)> =
        vec![(ALPHA_1_V4, BETA_1_V4), (ALPHA_2_V4, BETA_2_V4)];
    let links = summary::summarize(&link_addresses, &ladder, &events);
    let milestones = milestones::milestones(&ladder, &events, &link_changes);
    let phases = milestones::phases(&ladder, &events, &link_changes, &milestones);
    let (l1, l2) = (sim.pcap_bytes(link1), sim.pcap_bytes(link2));
    ScenarioRun {
        name: plan.name,
        seed,
        plan: plan.clone(),
        ladder,
        events,
        link_changes,
        links,
        milestones,
        phases,
        messages,
        paths_before_shutdown,
        log,
        link_pcaps: vec![l1, l2],
        combined_pcap,
        end: sim.elapsed(),
    }
}
