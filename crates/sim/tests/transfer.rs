//! Bulk transfers through the simulator, checked by SHA-256: every message
//! arrives intact, nothing is lost or duplicated (RFC 9260 §6: reliable
//! transfer, ordered per stream and unordered; §6.9 fragmentation and
//! reassembly; §6.3 retransmission; §7.2 congestion control).
//!
//! The size of each transfer is 50 MB in release builds (`cargo test
//! --release`, which `cargo xtask test` runs) and 2 MB in debug builds, so a
//! plain `cargo test` stays quick. `MSCTP_SIM_SEED` replays one seed.

use std::time::Duration;

use msctp_proto::Config;
use msctp_sim::sctp::{BulkSender, SctpHost, Sink, Traffic};
use msctp_sim::{ALPHA_1_V4, ALPHA_2_V4, BETA_1_V4, BETA_2_V4, Lab, LinkConfig, SimConfig};

const MB: u64 = 1_000_000;

fn transfer_size() -> u64 {
    if cfg!(debug_assertions) {
        2 * MB
    } else {
        50 * MB
    }
}

fn seeds() -> Vec<u64> {
    match std::env::var(msctp_sim::SEED_ENV) {
        Ok(_) => vec![msctp_sim::seed_from_env(0)],
        Err(_) => {
            let n = if cfg!(debug_assertions) { 3 } else { 20 };
            (1..=n).collect()
        }
    }
}

struct Outcome {
    virtual_time: Duration,
}

/// Runs one transfer of `bytes` from alpha to beta over link 1 configured as
/// `link` (link 2 identical) and checks the digests.
fn transfer(link: LinkConfig, traffic: Traffic, bytes: u64, seed: u64, limit: Duration) -> Outcome {
    let config = SimConfig {
        log: false,
        ..SimConfig::default()
    };
    let Lab {
        mut sim,
        alpha,
        beta,
        ..
    } = Lab::with_config(seed, config, link);
    let start = sim.start();
    let client_cfg = Config {
        rng_seed: seed.wrapping_mul(2) + 1,
        cookie_secret: [1; 32],
        ..Config::default()
    };
    let server_cfg = Config {
        rng_seed: seed.wrapping_mul(2) + 2,
        cookie_secret: [2; 32],
        ..Config::default()
    };
    let sender = BulkSender::new(bytes, 1, 256 * 1024, traffic, seed);
    let mut client =
        SctpHost::new(client_cfg, vec![ALPHA_1_V4, ALPHA_2_V4], 5001, start).with_app(sender);
    client
        .endpoint
        .connect(start, &[BETA_1_V4], 5001)
        .expect("connect");
    let mut server =
        SctpHost::new(server_cfg, vec![BETA_1_V4, BETA_2_V4], 5001, start).with_app(Sink::new());
    server.endpoint.listen(true);
    sim.set_agent(alpha, client);
    sim.set_agent(beta, server);
    let done = sim.run_until_cond(limit, |sim| {
        let sent = sim.agent::<SctpHost>(alpha).app::<BulkSender>().unwrap();
        let got = sim.agent::<SctpHost>(beta).app::<Sink>().unwrap();
        sent.done_queueing() && got.digest().bytes == bytes
    });
    let sent = sim
        .agent::<SctpHost>(alpha)
        .app::<BulkSender>()
        .unwrap()
        .digest();
    let got = sim.agent::<SctpHost>(beta).app::<Sink>().unwrap().digest();
    assert!(
        done,
        "seed {seed}: transfer did not finish within {limit:?}: {} of {bytes} bytes received, paths {:#?}",
        got.bytes,
        sim.agent::<SctpHost>(alpha)
            .endpoint
            .associations()
            .next()
            .map(|(_, a)| a.paths())
    );
    assert_eq!(sent, got, "seed {seed}: digest mismatch");
    assert!(sim.wire_errors().is_empty());
    Outcome {
        virtual_time: sim.elapsed(),
    }
}

fn clean() -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(1),
        bandwidth: Some(1_000_000_000),
        ..LinkConfig::default()
    }
}

fn run_all(name: &str, link: LinkConfig, limit: Duration) {
    for traffic in [
        Traffic::Ordered,
        Traffic::Unordered,
        Traffic::MultiStream(8),
    ] {
        for seed in seeds() {
            let o = transfer(link.clone(), traffic, transfer_size(), seed, limit);
            if seed == 1 {
                eprintln!("{name} {traffic:?}: {:?} virtual", o.virtual_time);
            }
        }
    }
}

/// RFC 9260 §6: a clean 1 Gbit/s, 1 ms link.
#[test]
fn clean_link() {
    run_all("clean", clean(), Duration::from_secs(120));
}

/// RFC 9260 §6.3, §7.2.4: 1 % random loss.
#[test]
fn loss_1_percent() {
    run_all(
        "loss 1%",
        LinkConfig {
            loss: 0.01,
            ..clean()
        },
        Duration::from_secs(600),
    );
}

/// RFC 9260 §6.3, §7.2.4: 5 % random loss.
#[test]
fn loss_5_percent() {
    run_all(
        "loss 5%",
        LinkConfig {
            loss: 0.05,
            ..clean()
        },
        Duration::from_secs(1800),
    );
}

/// RFC 9260 §6.2, §6.7: reordering (gap reports without loss).
#[test]
fn reordering() {
    run_all(
        "reorder",
        LinkConfig {
            reorder: 0.05,
            reorder_delay: Duration::from_millis(3),
            ..clean()
        },
        Duration::from_secs(600),
    );
}

/// RFC 9260 §6.2: duplicated packets are reported and dropped.
#[test]
fn duplication() {
    run_all(
        "duplicate",
        LinkConfig {
            duplicate: 0.05,
            ..clean()
        },
        Duration::from_secs(600),
    );
}

/// Loss, reordering and duplication at once.
#[test]
fn all_impairments() {
    run_all(
        "all",
        LinkConfig {
            loss: 0.02,
            duplicate: 0.02,
            reorder: 0.02,
            reorder_delay: Duration::from_millis(3),
            ..clean()
        },
        Duration::from_secs(1800),
    );
}

/// A long fat pipe: 100 ms one-way delay, 100 Mbit/s.
#[test]
fn long_delay_with_bandwidth_limit() {
    run_all(
        "100ms 100Mbit",
        LinkConfig {
            delay: Duration::from_millis(100),
            bandwidth: Some(100_000_000),
            queue_limit: 4 * 1024 * 1024,
            ..LinkConfig::default()
        },
        Duration::from_secs(3600),
    );
}
