//! Wall time of a simulated 50 MB SCTP transfer (msctp-proto on both ends)
//! over a clean 1 Gbit/s, 1 ms link, with the simulator's log and wire check
//! off (the engine and the simulator are what is measured).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use msctp_proto::Config;
use msctp_sim::sctp::{BulkSender, SctpHost, Sink, Traffic};
use msctp_sim::{ALPHA_1_V4, ALPHA_2_V4, BETA_1_V4, BETA_2_V4, Lab, LinkConfig, SimConfig};

const BYTES: u64 = 50_000_000;

fn run(seed: u64) -> Duration {
    let link = LinkConfig {
        delay: Duration::from_millis(1),
        bandwidth: Some(1_000_000_000),
        ..LinkConfig::default()
    };
    let mut lab = Lab::with_config(seed, SimConfig::fast(), link);
    let start = lab.sim.start();
    let mut client = SctpHost::new(
        Config {
            rng_seed: 1,
            ..Config::default()
        },
        vec![ALPHA_1_V4, ALPHA_2_V4],
        5001,
        start,
    )
    .with_app(BulkSender::new(
        BYTES,
        64 * 1024,
        64 * 1024,
        Traffic::Ordered,
        seed,
    ));
    client.endpoint.connect(start, &[BETA_1_V4], 5001).unwrap();
    let mut server = SctpHost::new(
        Config {
            rng_seed: 2,
            ..Config::default()
        },
        vec![BETA_1_V4, BETA_2_V4],
        5001,
        start,
    )
    .with_app(Sink::new());
    server.endpoint.listen(true);
    lab.sim.set_agent(lab.alpha, client);
    lab.sim.set_agent(lab.beta, server);
    let beta = lab.beta;
    let done = lab.sim.run_until_cond(Duration::from_secs(60), |sim| {
        sim.agent::<SctpHost>(beta)
            .app::<Sink>()
            .unwrap()
            .digest()
            .bytes
            == BYTES
    });
    assert!(done);
    lab.sim.elapsed()
}

fn bench(c: &mut Criterion) {
    let wall = Instant::now();
    let virt = run(1);
    eprintln!(
        "50 MB over 1 Gbit/s, 1 ms: {:.3} s wall, {:.3} s virtual",
        wall.elapsed().as_secs_f64(),
        virt.as_secs_f64()
    );
    let mut g = c.benchmark_group("sim_transfer");
    g.sample_size(10);
    g.bench_function("50MB_1Gbit_1ms", |b| b.iter(|| black_box(run(1))));
    g.finish();
}

mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion_group!(benches, bench);
}

criterion_main!(group::benches);
