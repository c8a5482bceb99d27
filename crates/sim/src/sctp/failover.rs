//! Measuring failover and failback on the two-link lab (virtual time): a
//! steady stream of small messages from alpha to beta, link 1 blocked at a
//! given time and restored later, and the times it takes for data to flow
//! over link 2 and to come back to link 1.

use std::time::Duration;

use msctp_proto::Config;
use msctp_wire::capture::{self, Decap};
use msctp_wire::{Chunk, Packet};

use super::{Counter, SctpHost, Ticker};
use crate::{ALPHA_1_V4, ALPHA_2_V4, BETA_1_V4, BETA_2_V4, Lab, LinkConfig, LinkState, SimConfig};

/// One failover experiment.
#[derive(Debug, Clone)]
pub struct FailoverSetup {
    /// Engine configuration of both ends.
    pub config: Config,
    /// How link 1 fails: [`LinkState::REJECT`] (ICMP) or [`LinkState::Down`].
    pub failure: LinkState,
    /// One-way delay of both links.
    pub delay: Duration,
    /// Interval between messages.
    pub interval: Duration,
    /// When link 1 fails.
    pub fail_at: Duration,
    /// When link 1 is restored.
    pub restore_at: Duration,
    /// How long to run.
    pub run_for: Duration,
    /// Simulator seed.
    pub seed: u64,
}

impl FailoverSetup {
    /// A 1 ms round trip (0.5 ms each way), a message every 5 ms, link 1 down
    /// from 3 s to 63 s, a 120 s run.
    pub fn new(config: Config, failure: LinkState) -> Self {
        FailoverSetup {
            config,
            failure,
            delay: Duration::from_micros(500),
            interval: Duration::from_millis(5),
            fail_at: Duration::from_secs(3),
            restore_at: Duration::from_secs(63),
            run_for: Duration::from_secs(120),
            seed: 1,
        }
    }
}

/// What a failover experiment measured.
#[derive(Debug, Clone, PartialEq)]
pub struct FailoverResult {
    /// Link 1 failure → first SACK received by alpha over link 2 that
    /// acknowledges DATA.
    pub failover: Option<Duration>,
    /// Link 1 restored → first SACK received by alpha over link 1 again.
    pub failback: Option<Duration>,
    /// Largest delay between queueing a message and the peer reading it.
    pub worst_delivery: Duration,
    /// Messages queued, and messages received once each and in order.
    pub sent: u64,
    /// True if every message arrived once and in order.
    pub in_order: bool,
}

fn sack_arrivals(
    lab: &Lab,
    link: crate::LinkId,
    from: std::net::IpAddr,
    delay: Duration,
) -> Vec<Duration> {
    let bytes = lab.sim.pcap_bytes(link);
    let Ok(reader) = capture::read(bytes::Bytes::from(bytes)) else {
        return Vec::new();
    };
    let epoch = crate::PCAP_EPOCH;
    let mut out = Vec::new();
    for frame in reader.flatten() {
        let Decap::Sctp(d) = capture::sctp_in_frame(&frame) else {
            continue;
        };
        if d.src != from {
            continue;
        }
        let Ok(p) = Packet::parse_unverified(d.sctp) else {
            continue;
        };
        if p.chunks.iter().any(|c| matches!(c, Chunk::Sack(_))) {
            out.push(frame.timestamp.saturating_sub(epoch) + delay);
        }
    }
    out
}

/// Runs one experiment.
pub fn measure(setup: &FailoverSetup) -> FailoverResult {
    let link = LinkConfig {
        delay: setup.delay,
        ..LinkConfig::default()
    };
    let config = SimConfig {
        record_pcap: true,
        log: false,
        ..SimConfig::default()
    };
    let mut lab = Lab::with_config(setup.seed, config, link);
    let t0 = lab.sim.start();
    let limit = (setup.run_for.as_micros() / setup.interval.as_micros().max(1)) as u64;
    let mut a_cfg = setup.config.clone();
    a_cfg.rng_seed = 1;
    let mut b_cfg = setup.config.clone();
    b_cfg.rng_seed = 2;
    let mut client = SctpHost::new(a_cfg, vec![ALPHA_1_V4, ALPHA_2_V4], 5001, t0)
        .with_app(Ticker::new(setup.interval, 64, limit));
    client
        .endpoint
        .connect(t0, &[BETA_1_V4], 5001)
        .expect("connect");
    let mut server =
        SctpHost::new(b_cfg, vec![BETA_1_V4, BETA_2_V4], 5001, t0).with_app(Counter::default());
    server.endpoint.listen(true);
    lab.sim.set_agent(lab.alpha, client);
    lab.sim.set_agent(lab.beta, server);
    lab.sim
        .schedule_link_state(setup.fail_at, lab.link1, None, setup.failure);
    lab.sim
        .schedule_link_state(setup.restore_at, lab.link1, None, LinkState::Up);
    lab.sim.run_for(setup.run_for + Duration::from_secs(30));

    let failover = sack_arrivals(&lab, lab.link2, BETA_2_V4, setup.delay)
        .into_iter()
        .find(|t| *t >= setup.fail_at)
        .map(|t| t - setup.fail_at);
    let failback = sack_arrivals(&lab, lab.link1, BETA_1_V4, setup.delay)
        .into_iter()
        .find(|t| *t >= setup.restore_at)
        .map(|t| t - setup.restore_at);
    let ticker = lab
        .sim
        .agent::<SctpHost>(lab.alpha)
        .app::<Ticker>()
        .expect("ticker");
    let counter = lab
        .sim
        .agent::<SctpHost>(lab.beta)
        .app::<Counter>()
        .expect("counter");
    let in_order = counter.received == (0..ticker.sent).collect::<Vec<_>>();
    let worst_delivery = counter
        .received
        .iter()
        .zip(&counter.received_at)
        .filter_map(|(n, at)| {
            let sent = ticker.sent_at.get(*n as usize)?;
            Some(at.saturating_duration_since(*sent))
        })
        .max()
        .unwrap_or_default();
    FailoverResult {
        failover,
        failback,
        worst_delivery,
        sent: ticker.sent,
        in_order,
    }
}

/// The configurations the project reports: RFC 9260 defaults without and
/// with SCTP-PF, with ICMP, and with RTO.Min 100 ms / RTO.Max 1 s.
pub fn standard_setups() -> Vec<(&'static str, FailoverSetup)> {
    let no_pf = Config {
        pf_max_retrans: None,
        ..Config::default()
    };
    let pf = Config::default();
    let tuned = Config {
        rto_min: Duration::from_millis(100),
        rto_max: Duration::from_secs(1),
        rto_initial: Duration::from_millis(300),
        ..Config::default()
    };
    vec![
        (
            "RFC 9260 defaults, no PF, DROP",
            FailoverSetup::new(no_pf.clone(), LinkState::Down),
        ),
        (
            "RFC 9260 defaults, no PF, REJECT (ICMP)",
            FailoverSetup::new(no_pf, LinkState::REJECT),
        ),
        (
            "PF (pf_max_retrans 0), DROP",
            FailoverSetup::new(pf.clone(), LinkState::Down),
        ),
        (
            "PF, REJECT (ICMP)",
            FailoverSetup::new(pf, LinkState::REJECT),
        ),
        (
            "PF, RTO 100 ms..1 s, DROP",
            FailoverSetup::new(tuned.clone(), LinkState::Down),
        ),
        (
            "PF, RTO 100 ms..1 s, REJECT (ICMP)",
            FailoverSetup::new(tuned, LinkState::REJECT),
        ),
    ]
}
