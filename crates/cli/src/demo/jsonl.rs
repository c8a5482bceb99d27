//! The JSON lines of a scenario (`events.jsonl`, and stdout with `--json`):
//! one object per line, `{"t": seconds, "scenario": …, "event": …, …}`, in
//! time order.
//!
//! | `event` | fields |
//! |---|---|
//! | `scenario_start` | `seed`, `failure`, the parameters (`*_ms`, counts) |
//! | `link_state` | `link`, `direction` (`both`, `alpha_to_beta`, `beta_to_alpha`), `state` |
//! | `association_change` | `host`, `change` (`comm_up`, `comm_lost`, `restart`, `shutdown_complete`, `cant_start_association`) |
//! | `peer_address_change` | `host`, `address`, `link`, `change` (`available`, `unreachable`, `potentially_failed`, `confirmed`, `made_primary`, `added`), `from`, `to` |
//! | `primary_change` | `host`, `address`, `link` (the application or the stack chose a new primary) |
//! | `data_path_change` | `host`, `link`, `address`: the host's DATA now travels over this link |
//! | `counters` | every whole second: `link`, `alpha_to_beta` and `beta_to_alpha` totals so far (`packets`, `bytes`, `dropped`, `data_chunks`, `retransmissions`, `sacks`, `heartbeats`, `icmp_errors`) |
//! | `scenario_end` | milestones (`failover_ms`, `failback_ms`, …) and message counts |

use std::time::Duration;

use msctp_proto::{AddressChange, AssociationChange, Event, PathState};
use msctp_sim::LinkState;
use msctp_sim::scenario::{ChunkInfo, Content, LadderPacket, ScenarioRun, Side};
use serde_json::{Map, Value, json};

fn ms(d: Duration) -> Value {
    json!(d.as_secs_f64() * 1000.0)
}

fn opt_ms(d: Option<Duration>) -> Value {
    d.map_or(Value::Null, ms)
}

fn path_state(s: PathState) -> &'static str {
    match s {
        PathState::Unconfirmed => "unconfirmed",
        PathState::Active => "active",
        PathState::PotentiallyFailed => "potentially_failed",
        PathState::Inactive => "inactive",
    }
}

fn change_name(c: AddressChange) -> &'static str {
    match c {
        AddressChange::Available => "available",
        AddressChange::Unreachable => "unreachable",
        AddressChange::PotentiallyFailed => "potentially_failed",
        AddressChange::Confirmed => "confirmed",
        AddressChange::MadePrimary => "made_primary",
        AddressChange::Added => "added",
    }
}

fn link_state(s: LinkState) -> &'static str {
    match s {
        LinkState::Up => "up",
        LinkState::Down => "drop",
        LinkState::Reject(_) => "reject",
    }
}

/// An object with `t`, `scenario` and `event` first.
fn object(t: Duration, run: &ScenarioRun, event: &str) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("t".into(), json!(t.as_secs_f64()));
    o.insert("scenario".into(), json!(run.name));
    o.insert("event".into(), json!(event));
    o
}

fn link_of(run: &ScenarioRun, address: std::net::IpAddr) -> Value {
    run.links
        .iter()
        .find(|l| l.alpha == address || l.beta == address)
        .map_or(Value::Null, |l| json!(l.link))
}

fn event_object(
    run: &ScenarioRun,
    at: Duration,
    host: Side,
    e: &Event,
) -> Option<Map<String, Value>> {
    let o = match e {
        Event::Association(change) => {
            let mut o = object(at, run, "association_change");
            o.insert("host".into(), json!(host.name()));
            let (name, reason) = match change {
                AssociationChange::CommUp { .. } => ("comm_up", None),
                AssociationChange::CommLost { reason } => {
                    ("comm_lost", Some(format!("{reason:?}")))
                }
                AssociationChange::Restart => ("restart", None),
                AssociationChange::ShutdownComplete => ("shutdown_complete", None),
                AssociationChange::CantStartAssociation { reason } => {
                    ("cant_start_association", Some(format!("{reason:?}")))
                }
            };
            o.insert("change".into(), json!(name));
            if let Some(r) = reason {
                o.insert("reason".into(), json!(r));
            }
            o
        }
        Event::PeerAddress {
            address,
            change: AddressChange::MadePrimary,
            ..
        } => {
            let mut o = object(at, run, "primary_change");
            o.insert("host".into(), json!(host.name()));
            o.insert("address".into(), json!(address.to_string()));
            o.insert("link".into(), link_of(run, *address));
            o
        }
        Event::PeerAddress {
            address,
            change,
            from,
            to,
        } => {
            let mut o = object(at, run, "peer_address_change");
            o.insert("host".into(), json!(host.name()));
            o.insert("address".into(), json!(address.to_string()));
            o.insert("link".into(), link_of(run, *address));
            o.insert("change".into(), json!(change_name(*change)));
            o.insert("from".into(), json!(path_state(*from)));
            o.insert("to".into(), json!(path_state(*to)));
            o
        }
        _ => return None,
    };
    Some(o)
}

#[derive(Default, Clone, Copy)]
struct Totals {
    packets: u64,
    bytes: u64,
    dropped: u64,
    data_chunks: u64,
    retransmissions: u64,
    sacks: u64,
    heartbeats: u64,
    icmp_errors: u64,
}

impl Totals {
    fn add(&mut self, p: &LadderPacket) {
        if let Content::Icmp { .. } = p.content {
            self.icmp_errors += 1;
            return;
        }
        self.packets += 1;
        self.bytes += p.len as u64;
        if !p.fate.delivered() {
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
                _ => {}
            }
        }
    }

    fn json(&self) -> Value {
        json!({
            "packets": self.packets,
            "bytes": self.bytes,
            "dropped": self.dropped,
            "data_chunks": self.data_chunks,
            "retransmissions": self.retransmissions,
            "sacks": self.sacks,
            "heartbeats": self.heartbeats,
            "icmp_errors": self.icmp_errors,
        })
    }
}

fn start(run: &ScenarioRun) -> Map<String, Value> {
    let p = &run.plan;
    let mut o = object(Duration::ZERO, run, "scenario_start");
    o.insert("seed".into(), json!(run.seed));
    o.insert(
        "failure".into(),
        p.failure.map_or(Value::Null, |f| json!(f.failure.name())),
    );
    o.insert(
        "failure_at_s".into(),
        p.failure.map_or(Value::Null, |f| json!(f.at.as_secs_f64())),
    );
    o.insert(
        "restore_at_s".into(),
        p.failure
            .map_or(Value::Null, |f| json!(f.restore_at.as_secs_f64())),
    );
    o.insert("link_delay_ms".into(), ms(p.link_delay));
    o.insert("message_interval_ms".into(), ms(p.message_interval));
    o.insert("messages".into(), json!(p.messages));
    o.insert("rto_initial_ms".into(), ms(p.protocol.rto_initial));
    o.insert("rto_min_ms".into(), ms(p.protocol.rto_min));
    o.insert("rto_max_ms".into(), ms(p.protocol.rto_max));
    o.insert("hb_interval_ms".into(), ms(p.protocol.hb_interval));
    o.insert(
        "path_max_retrans".into(),
        json!(p.protocol.path_max_retrans),
    );
    o.insert("pf_max_retrans".into(), json!(p.protocol.pf_max_retrans));
    o.insert("sack_delay_ms".into(), ms(p.protocol.sack_delay));
    o.insert(
        "sack_immediately_when_idle".into(),
        json!(p.protocol.sack_immediately_when_idle),
    );
    o
}

fn end(run: &ScenarioRun) -> Map<String, Value> {
    let m = &run.milestones;
    let mut o = object(run.end, run, "scenario_end");
    o.insert(
        "established_s".into(),
        json!(m.established.map(|d| d.as_secs_f64())),
    );
    o.insert("lost_tsn".into(), json!(m.first_loss.and_then(|r| r.tsn)));
    o.insert(
        "retransmitted_tsn".into(),
        json!(m.first_retransmission_on_link2.and_then(|r| r.tsn)),
    );
    o.insert(
        "detection_ms".into(),
        opt_ms(m.detection.zip(m.failure).map(|(d, f)| d - f)),
    );
    o.insert("recovery_ms".into(), opt_ms(m.recovery));
    o.insert("failover_ms".into(), opt_ms(m.failover));
    o.insert("failback_ms".into(), opt_ms(m.failback));
    o.insert(
        "shutdown_complete_s".into(),
        json!(m.shutdown_complete.map(|d| d.as_secs_f64())),
    );
    let msgs = &run.messages;
    let expected: Vec<Option<u32>> = (1..=run.plan.messages).map(Some).collect();
    o.insert("messages_written".into(), json!(msgs.written.len()));
    o.insert("messages_received".into(), json!(msgs.received.len()));
    o.insert("echoes_received".into(), json!(msgs.echoed.len()));
    o.insert(
        "all_in_order".into(),
        json!(msgs.received_numbers() == expected && msgs.echoed_numbers() == expected),
    );
    o.insert("packets".into(), json!(run.ladder.len()));
    o
}

/// The JSON lines of one scenario, in time order.
pub fn lines(run: &ScenarioRun) -> Vec<String> {
    // (time, class, sequence, object)
    let mut items: Vec<(Duration, u8, usize, Map<String, Value>)> = Vec::new();
    // Link changes, both directions merged when they agree.
    for (i, c) in run.link_changes.iter().enumerate() {
        let pair = run
            .link_changes
            .iter()
            .filter(|d| d.at == c.at && d.link == c.link && d.to == c.to)
            .count();
        let first = run
            .link_changes
            .iter()
            .position(|d| d.at == c.at && d.link == c.link && d.to == c.to)
            == Some(i);
        if pair == 2 && !first {
            continue;
        }
        let mut o = object(c.at, run, "link_state");
        o.insert("link".into(), json!(c.link));
        let direction = match (pair, c.direction) {
            (2, _) => "both",
            (_, msctp_sim::Direction::AToB) => "alpha_to_beta",
            (_, msctp_sim::Direction::BToA) => "beta_to_alpha",
        };
        o.insert("direction".into(), json!(direction));
        o.insert("state".into(), json!(link_state(c.to)));
        items.push((c.at, 0, i, o));
    }
    for (i, e) in run.events.iter().enumerate() {
        if let Some(o) = event_object(run, e.at, e.host, &e.event) {
            items.push((e.at, 1, i, o));
        }
    }
    // Where each host's DATA goes.
    let mut current: [Option<usize>; 2] = [None, None];
    for (i, p) in run.ladder.iter().enumerate() {
        if p.data_tsns().next().is_none() {
            continue;
        }
        let side = p.sender();
        let slot = &mut current[side as usize];
        if *slot != Some(p.link) {
            *slot = Some(p.link);
            let mut o = object(p.time, run, "data_path_change");
            o.insert("host".into(), json!(side.name()));
            o.insert("link".into(), json!(p.link));
            o.insert("address".into(), json!(p.dst.to_string()));
            o.insert("packet".into(), json!(p.number));
            items.push((p.time, 2, i, o));
        }
    }
    // Counters at every whole second, and at the end.
    let seconds = run.end.as_secs() + u64::from(run.end.subsec_nanos() > 0);
    for s in 1..=seconds {
        let t = Duration::from_secs(s).min(run.end);
        for l in &run.links {
            let (mut ab, mut ba) = (Totals::default(), Totals::default());
            for p in run
                .ladder
                .iter()
                .filter(|p| p.link == l.link && p.time <= t)
            {
                match p.direction {
                    msctp_sim::Direction::AToB => ab.add(p),
                    msctp_sim::Direction::BToA => ba.add(p),
                }
            }
            let mut o = object(t, run, "counters");
            o.insert("link".into(), json!(l.link));
            o.insert("alpha_to_beta".into(), ab.json());
            o.insert("beta_to_alpha".into(), ba.json());
            items.push((t, 3, l.link, o));
        }
    }
    items.sort_by_key(|(t, class, i, _)| (*t, *class, *i));
    std::iter::once(start(run))
        .chain(items.into_iter().map(|(_, _, _, o)| o))
        .chain(std::iter::once(end(run)))
        .map(|o| Value::Object(o).to_string())
        .collect()
}
