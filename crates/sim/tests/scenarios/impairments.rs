//! Loss, duplication and reordering happen at their configured rates, and
//! only when configured.

use crate::agents::Scripted;
use msctp_sim::{
    ALPHA_1_V4, BETA_1_V4, Direction, Lab, LinkConfig, LogKind, SimConfig, seed_from_env,
};
use std::time::Duration;

const N: u32 = 10_000;
const US: Duration = Duration::from_micros(1);

/// Sends `N` small datagrams alpha → beta over link 1 configured as
/// `link`, one every 100 µs; returns the lab after the run.
fn run(seed: u64, link: LinkConfig) -> Lab {
    let config = SimConfig {
        log: true,
        ..SimConfig::default()
    };
    let mut lab = Lab::with_config(seed, config, link);
    let start = lab.sim.start();
    lab.sim.set_agent(
        lab.alpha,
        Scripted::new(start).burst(US, 100 * US, N, ALPHA_1_V4, BETA_1_V4, 8),
    );
    lab.sim.set_agent(lab.beta, Scripted::new(start));
    lab.sim.run_for(Duration::from_secs(5));
    lab
}

#[test]
fn loss_rate_is_near_the_configured_probability() {
    let seed = seed_from_env(11);
    let lab = run(
        seed,
        LinkConfig {
            loss: 0.2,
            ..LinkConfig::default()
        },
    );
    let stats = lab.sim.link_stats(lab.link1).a_to_b;
    assert_eq!(stats.sent_packets, u64::from(N));
    // Expected 2000 losses, standard deviation 40: ±400 never flakes.
    assert!(
        (1600..=2400).contains(&stats.dropped.loss),
        "{} of {N} lost with p = 0.2",
        stats.dropped.loss
    );
    assert_eq!(stats.dropped.total(), stats.dropped.loss);
    assert_eq!(stats.delivered_packets + stats.dropped.loss, u64::from(N));
    let received = lab.sim.agent::<Scripted>(lab.beta).received.len() as u64;
    assert_eq!(received, stats.delivered_packets);
    // Nothing else happened: no duplicates, no reordering.
    assert_eq!(stats.duplicated + stats.reordered, 0);
    let tsns = lab.sim.agent::<Scripted>(lab.beta).tsns();
    assert!(tsns.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn duplication_rate_is_near_the_configured_probability() {
    let lab = run(
        seed_from_env(12),
        LinkConfig {
            duplicate: 0.1,
            ..LinkConfig::default()
        },
    );
    let stats = lab.sim.link_stats(lab.link1).a_to_b;
    // Expected 1000, standard deviation 30.
    assert!(
        (700..=1300).contains(&stats.duplicated),
        "{}",
        stats.duplicated
    );
    assert_eq!(stats.delivered_packets, u64::from(N) + stats.duplicated);
    let tsns = lab.sim.agent::<Scripted>(lab.beta).tsns();
    assert_eq!(tsns.len() as u64, stats.delivered_packets);
    // A copy follows its original at once.
    assert!(tsns.windows(2).all(|w| w[0] <= w[1]));
    let doubles = tsns.windows(2).filter(|w| w[0] == w[1]).count() as u64;
    assert_eq!(doubles, stats.duplicated);
    let logged = lab
        .sim
        .log()
        .iter()
        .filter(|e| e.kind == LogKind::Duplicated)
        .count() as u64;
    assert_eq!(logged, stats.duplicated);
}

#[test]
fn jitter_alone_never_reorders() {
    let lab = run(
        seed_from_env(13),
        LinkConfig {
            delay: Duration::from_millis(10),
            jitter: Duration::from_millis(5),
            ..LinkConfig::default()
        },
    );
    let received = &lab.sim.agent::<Scripted>(lab.beta).received;
    assert_eq!(received.len(), N as usize);
    let tsns = lab.sim.agent::<Scripted>(lab.beta).tsns();
    assert!(tsns.windows(2).all(|w| w[0] < w[1]), "FIFO kept");
    // The jitter is there: one-way delays vary.
    let delays: Vec<Duration> = received
        .iter()
        .zip(0u32..)
        .map(|((t, _), i)| *t - (US + 100 * US * i))
        .collect();
    let min = delays.iter().min().unwrap();
    let max = delays.iter().max().unwrap();
    assert!(*min >= Duration::from_millis(5) && *max <= Duration::from_millis(15));
    assert!(*max - *min > Duration::from_millis(2), "{min:?}..{max:?}");
}

#[test]
fn reordering_happens_when_enabled() {
    let lab = run(
        seed_from_env(14),
        LinkConfig {
            reorder: 0.1,
            reorder_delay: Duration::from_millis(1),
            ..LinkConfig::default()
        },
    );
    let stats = lab.sim.link_stats(lab.link1).direction(Direction::AToB);
    assert!(
        (700..=1300).contains(&stats.reordered),
        "{}",
        stats.reordered
    );
    let tsns = lab.sim.agent::<Scripted>(lab.beta).tsns();
    assert_eq!(tsns.len(), N as usize);
    let out_of_order = tsns.windows(2).filter(|w| w[0] > w[1]).count() as u64;
    // Each held-back datagram is passed by those sent in the next ms: one
    // descent each, unless another held-back one arrives right before it.
    assert!(
        out_of_order <= stats.reordered && out_of_order * 10 >= stats.reordered * 9,
        "{out_of_order} descents for {} held back",
        stats.reordered
    );
    let mut sorted = tsns.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..N).collect::<Vec<_>>(), "nothing lost");
}
