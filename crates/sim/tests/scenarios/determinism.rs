//! Same seed, same run, byte for byte; another seed, another run.

use crate::agents::Scripted;
use msctp_sim::{
    ALPHA_1_V4, ALPHA_2_V6, BETA_1_V4, BETA_2_V6, JitterDistribution, Lab, LinkConfig, LinkState,
    SimConfig, seed_from_env,
};
use std::time::Duration;

/// Everything observable about a run: log, per-link and combined captures.
#[derive(PartialEq, Eq)]
struct Outcome {
    log: String,
    link1: Vec<u8>,
    link2: Vec<u8>,
    combined: Vec<u8>,
    received: Vec<u32>,
}

fn run(seed: u64) -> Outcome {
    let config = SimConfig {
        record_pcap: true,
        combined_pcap: true,
        ..SimConfig::default()
    };
    let link = LinkConfig {
        delay: Duration::from_millis(5),
        jitter: Duration::from_millis(2),
        jitter_distribution: JitterDistribution::Normal,
        bandwidth: Some(10_000_000),
        loss: 0.1,
        duplicate: 0.05,
        reorder: 0.05,
        ..LinkConfig::default()
    };
    let Lab {
        mut sim,
        alpha,
        beta,
        link1,
        link2,
    } = Lab::with_config(seed, config, link);
    let start = sim.start();
    let ms = Duration::from_millis(1);
    sim.set_agent(
        alpha,
        Scripted::new(start)
            .burst(ms, ms, 200, ALPHA_1_V4, BETA_1_V4, 300)
            .burst(ms, 2 * ms, 100, ALPHA_2_V6, BETA_2_V6, 1000),
    );
    sim.set_agent(beta, Scripted::echo(start));
    sim.schedule_link_state(100 * ms, link2, None, LinkState::REJECT);
    sim.schedule_link_state(150 * ms, link2, None, LinkState::Up);
    sim.run_for(Duration::from_secs(1));
    Outcome {
        log: sim.log_text(),
        link1: sim.pcap_bytes(link1),
        link2: sim.pcap_bytes(link2),
        combined: sim.combined_pcap_bytes(),
        received: sim.agent::<Scripted>(beta).tsns(),
    }
}

#[test]
fn same_seed_same_bytes() {
    let seed = seed_from_env(0x5eed);
    let a = run(seed);
    let b = run(seed);
    assert!(a.log.lines().count() > 1000, "a busy run:\n{}", a.log);
    assert!(a.log.contains("dropped(Loss)"));
    assert!(a.log.contains("duplicated"));
    assert!(a.log.contains("reordered"));
    assert!(a.log.contains("icmp-delivered"));
    assert!(a.log == b.log, "logs differ");
    assert!(a.link1 == b.link1 && a.link2 == b.link2, "captures differ");
    assert!(a.combined == b.combined, "combined captures differ");
    assert_eq!(a.received, b.received);
    assert_eq!(
        a.combined.len() - 24,
        (a.link1.len() - 24) + (a.link2.len() - 24),
        "the combined capture holds the frames of both links"
    );
}

#[test]
fn different_seeds_differ() {
    let seed = seed_from_env(0x5eed);
    let a = run(seed);
    let b = run(seed.wrapping_add(1));
    assert!(a.log != b.log);
    assert!(a.received != b.received);
}
