//! Virtual time: delay plus serialization, queues, scheduled actions,
//! agent timers, the livelock guard.

use crate::agents::{Scripted, data_packet};
use msctp_sim::{
    ALPHA_1_V4, Agent, BETA_1_V4, Datagram, DropReason, IcmpError, Lab, LinkConfig, LogKind, Sim,
    SimConfig, seed_from_env,
};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);
const US: Duration = Duration::from_micros(1);

#[test]
fn arrival_is_delay_plus_serialization() {
    let config = LinkConfig {
        delay: 10 * MS,
        bandwidth: Some(1_000_000),
        ..LinkConfig::default()
    };
    let Lab {
        mut sim,
        alpha,
        beta,
        link1,
        ..
    } = Lab::new(seed_from_env(1), config);
    let start = sim.start();
    // 100 bytes of user data: a 128-byte SCTP packet (12-byte common header,
    // 16-byte DATA header), 148 bytes of IPv4, 1184 bits: 1184 µs at
    // 1 Mbit/s.
    let d = Datagram::new(ALPHA_1_V4, BETA_1_V4, data_packet(0, 100));
    assert_eq!(d.payload.len(), 128);
    sim.set_agent(
        alpha,
        Scripted::new(start)
            .at(5 * MS, d.clone())
            .at(5 * MS, d.clone()),
    );
    sim.set_agent(beta, Scripted::new(start));
    sim.run_for(Duration::from_secs(1));
    let got: Vec<Duration> = sim
        .agent::<Scripted>(beta)
        .received
        .iter()
        .map(|(t, _)| *t)
        .collect();
    // The second waits for the first to be serialized.
    assert_eq!(
        got,
        [
            5 * MS + 10 * MS + 1184 * US,
            5 * MS + 10 * MS + 2 * 1184 * US
        ]
    );
    let stats = sim.link_stats(link1).a_to_b;
    assert_eq!((stats.sent_packets, stats.delivered_packets), (2, 2));
    assert_eq!(stats.delivered_bytes, 256);
}

#[test]
fn full_queue_tail_drops() {
    let config = LinkConfig {
        delay: MS,
        bandwidth: Some(8_000_000),
        queue_limit: 3000,
        ..LinkConfig::default()
    };
    let Lab {
        mut sim,
        alpha,
        beta,
        link1,
        ..
    } = Lab::new(seed_from_env(2), config);
    let start = sim.start();
    // 10 datagrams of exactly 1000 IP bytes at once (1 ms each at 8 Mbit/s).
    sim.set_agent(
        alpha,
        Scripted::new(start).burst(MS, Duration::ZERO, 10, ALPHA_1_V4, BETA_1_V4, 952),
    );
    sim.set_agent(beta, Scripted::new(start));
    sim.run_for(Duration::from_secs(1));
    let beta_agent = sim.agent::<Scripted>(beta);
    // The first three fill the 3000-byte queue; the others are tail-dropped.
    assert_eq!(beta_agent.tsns(), [0, 1, 2]);
    let times: Vec<_> = beta_agent.received.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [3 * MS, 4 * MS, 5 * MS]);
    let stats = sim.link_stats(link1).a_to_b;
    assert_eq!(stats.dropped.queue_full, 7);
    assert_eq!(stats.dropped.total(), 7);
    let drops = sim
        .log()
        .iter()
        .filter(|e| {
            e.kind
                == LogKind::Dropped {
                    reason: DropReason::QueueFull,
                }
        })
        .count();
    assert_eq!(drops, 7);
}

#[test]
fn scheduled_actions_run_at_their_time() {
    let Lab {
        mut sim,
        alpha,
        beta,
        ..
    } = Lab::new(seed_from_env(3), LinkConfig::with_delay(2 * MS));
    let start = sim.start();
    sim.set_agent(alpha, Scripted::new(start));
    sim.set_agent(beta, Scripted::new(start));
    let at = Duration::from_nanos(123_456_789);
    sim.schedule(at, move |sim| {
        assert_eq!(sim.elapsed(), at);
        let d = Datagram::new(ALPHA_1_V4, BETA_1_V4, data_packet(7, 10));
        sim.agent_mut::<Scripted>(alpha).send_now(d);
    });
    sim.run_until(Duration::from_millis(100));
    assert_eq!(sim.elapsed(), Duration::from_millis(100));
    assert!(sim.agent::<Scripted>(beta).received.is_empty());
    sim.run_until(Duration::from_secs(1));
    assert_eq!(sim.agent::<Scripted>(beta).received[0].0, at + 2 * MS);
    // Between runs, a test can make an agent send: it goes out at once.
    let d = Datagram::new(ALPHA_1_V4, BETA_1_V4, data_packet(8, 10));
    sim.with_agent(alpha, |a: &mut Scripted, _now| a.send_now(d));
    let sent = sim.log().last().unwrap();
    assert_eq!(
        (sent.kind, sent.time),
        (LogKind::Sent, Duration::from_secs(1))
    );
    sim.run_for(Duration::from_secs(1));
    assert_eq!(
        sim.agent::<Scripted>(beta).received[1].0,
        Duration::from_secs(1) + 2 * MS
    );
}

/// Asks for a timeout at the given offsets in turn and records when it fires.
struct Timers {
    start: Instant,
    deadlines: Vec<Duration>,
    fired: Vec<Duration>,
}

impl Agent for Timers {
    fn handle_datagram(&mut self, _: Instant, _: Datagram) {}
    fn handle_icmp(&mut self, _: Instant, _: IcmpError) {}
    fn poll_transmit(&mut self, _: Instant) -> Option<Datagram> {
        None
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        self.deadlines.first().map(|d| self.start + *d)
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.fired.push(now - self.start);
        self.deadlines.remove(0);
    }
}

#[test]
fn timeouts_fire_at_their_deadline() {
    let mut sim = Sim::new(seed_from_env(4));
    let host = sim.add_host("solo");
    let start = sim.start();
    let deadlines = vec![7 * MS, 7 * MS, 3 * MS, Duration::from_secs(2)];
    sim.set_agent(
        host,
        Timers {
            start,
            deadlines,
            fired: Vec::new(),
        },
    );
    sim.run_for(Duration::from_secs(1));
    // A deadline already passed fires at once ("now").
    assert_eq!(sim.agent::<Timers>(host).fired, [7 * MS, 7 * MS, 7 * MS]);
    assert_eq!(sim.host_stats(host).timeouts, 3);
    // A test moves the deadline earlier between runs: it is honoured.
    sim.agent_mut::<Timers>(host).deadlines[0] = Duration::from_millis(1500);
    sim.run_for(Duration::from_secs(1));
    assert_eq!(
        sim.agent::<Timers>(host).fired[3],
        Duration::from_millis(1500)
    );
}

#[test]
fn deadline_moved_later_does_not_fire_early() {
    let mut sim = Sim::new(seed_from_env(5));
    let host = sim.add_host("solo");
    let start = sim.start();
    sim.set_agent(
        host,
        Timers {
            start,
            deadlines: vec![10 * MS],
            fired: Vec::new(),
        },
    );
    sim.run_for(5 * MS);
    sim.agent_mut::<Timers>(host).deadlines[0] = 20 * MS;
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.agent::<Timers>(host).fired, [20 * MS]);
}

#[test]
#[should_panic(expected = "livelock")]
fn past_deadline_forever_is_a_livelock() {
    let mut sim = Sim::with_config(
        seed_from_env(6),
        SimConfig {
            max_events_per_instant: 10_000,
            ..SimConfig::default()
        },
    );
    let host = sim.add_host("spinner");
    let start = sim.start();
    // Never removes its deadline: asks for "the start" forever.
    struct Spinner(Instant);
    impl Agent for Spinner {
        fn handle_datagram(&mut self, _: Instant, _: Datagram) {}
        fn handle_icmp(&mut self, _: Instant, _: IcmpError) {}
        fn poll_transmit(&mut self, _: Instant) -> Option<Datagram> {
            None
        }
        fn poll_timeout(&mut self) -> Option<Instant> {
            Some(self.0)
        }
        fn handle_timeout(&mut self, _: Instant) {}
    }
    sim.set_agent(host, Spinner(start));
    sim.run_for(Duration::from_secs(1));
}

#[test]
fn run_until_cond_stops_when_it_holds_or_at_max() {
    let Lab {
        mut sim,
        alpha,
        beta,
        ..
    } = Lab::new(seed_from_env(7), LinkConfig::with_delay(MS));
    let start = sim.start();
    sim.set_agent(
        alpha,
        Scripted::new(start).burst(MS, MS, 10, ALPHA_1_V4, BETA_1_V4, 10),
    );
    sim.set_agent(beta, Scripted::new(start));
    let held = sim.run_until_cond(Duration::from_secs(1), |sim| {
        sim.agent::<Scripted>(beta).received.len() == 3
    });
    assert!(held);
    // The third datagram was sent at 3 ms and arrived at 4 ms.
    assert_eq!(sim.elapsed(), 4 * MS);
    let held = sim.run_until_cond(Duration::from_millis(100), |sim| {
        sim.agent::<Scripted>(beta).received.len() == 11
    });
    assert!(!held);
    assert_eq!(sim.elapsed(), 104 * MS);
    assert_eq!(sim.agent::<Scripted>(beta).received.len(), 10);
    assert!(!sim.step(), "nothing left to do");
}
