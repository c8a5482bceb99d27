//! Routing by destination on the two-link lab: the source address is kept,
//! unknown destinations have no route.

use crate::agents::{Scripted, data_packet};
use msctp_sim::{
    ALPHA_1_V4, ALPHA_1_V6, ALPHA_2_V4, ALPHA_2_V6, BETA_1_V4, BETA_1_V6, BETA_2_V4, BETA_2_V6,
    Datagram, Direction, DropReason, Lab, LinkConfig, LogKind, seed_from_env,
};
use std::net::IpAddr;
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);

fn lab() -> Lab {
    // Different delays tell the links apart by arrival time.
    let mut lab = Lab::new(seed_from_env(21), LinkConfig::with_delay(MS));
    lab.sim
        .set_link_config(lab.link2, None, LinkConfig::with_delay(5 * MS));
    lab
}

#[test]
fn datagrams_go_over_the_link_of_their_destination() {
    let Lab {
        mut sim,
        alpha,
        beta,
        link1,
        link2,
    } = lab();
    let start = sim.start();
    let cases: [(IpAddr, IpAddr); 6] = [
        (ALPHA_1_V4, BETA_1_V4),
        (ALPHA_2_V4, BETA_2_V4),
        (ALPHA_1_V6, BETA_1_V6),
        (ALPHA_2_V6, BETA_2_V6),
        // The source belongs to the other interface: kept as given.
        (ALPHA_2_V4, BETA_1_V4),
        (ALPHA_1_V6, BETA_2_V6),
    ];
    let mut script = Scripted::new(start);
    for (i, (src, dst)) in cases.iter().enumerate() {
        let at = Duration::from_millis(100) * i as u32;
        script = script.at(at, Datagram::new(*src, *dst, data_packet(i as u32, 20)));
    }
    sim.set_agent(alpha, script);
    sim.set_agent(beta, Scripted::echo(start));
    sim.run_for(Duration::from_secs(1));
    let got = &sim.agent::<Scripted>(beta).received;
    assert_eq!(got.len(), cases.len());
    for (i, ((t, d), (src, dst))) in got.iter().zip(cases).enumerate() {
        assert_eq!((d.src, d.dst), (src, dst), "case {i}");
        let delay = if [BETA_1_V4, BETA_1_V6].contains(&dst) {
            MS
        } else {
            5 * MS
        };
        assert_eq!(
            *t,
            Duration::from_millis(100) * i as u32 + delay,
            "case {i}"
        );
    }
    // The echoes are routed by their destination, alpha's source address:
    // case 4's echo to 198.51.100.1 returns over link 2 although it came
    // over link 1.
    let echoes = &sim.agent::<Scripted>(alpha).received;
    assert_eq!(echoes.len(), cases.len());
    let (t, echo) = &echoes[4];
    assert_eq!((echo.src, echo.dst), (BETA_1_V4, ALPHA_2_V4));
    assert_eq!(*t, Duration::from_millis(400) + MS + 5 * MS);
    let s1 = sim.link_stats(link1);
    let s2 = sim.link_stats(link2);
    assert_eq!((s1.a_to_b.sent_packets, s1.b_to_a.sent_packets), (3, 3));
    assert_eq!((s2.a_to_b.sent_packets, s2.b_to_a.sent_packets), (3, 3));
    assert_eq!(sim.route(alpha, BETA_2_V6), Some((link2, Direction::AToB)));
    assert_eq!(sim.route(beta, ALPHA_1_V4), Some((link1, Direction::BToA)));
}

#[test]
fn unknown_destination_has_no_route() {
    let Lab {
        mut sim,
        alpha,
        beta,
        ..
    } = lab();
    let start = sim.start();
    let nowhere: IpAddr = "203.0.113.9".parse().unwrap();
    sim.set_agent(
        alpha,
        Scripted::new(start)
            .at(MS, Datagram::new(ALPHA_1_V4, nowhere, data_packet(0, 4)))
            // Its own address is not looped back either.
            .at(MS, Datagram::new(ALPHA_1_V4, ALPHA_2_V4, data_packet(1, 4))),
    );
    sim.set_agent(beta, Scripted::new(start));
    sim.run_for(Duration::from_secs(1));
    assert!(sim.agent::<Scripted>(beta).received.is_empty());
    let stats = sim.host_stats(alpha);
    assert_eq!((stats.transmitted, stats.no_route), (2, 2));
    let no_route = LogKind::Dropped {
        reason: DropReason::NoRoute,
    };
    let e = *sim.log().iter().find(|e| e.kind == no_route).unwrap();
    assert_eq!((e.link, e.direction, e.dst), (None, None, nowhere));
    assert_eq!(e.time, MS);
}

#[test]
fn manual_routes_and_hosts_without_agents() {
    let Lab {
        mut sim,
        alpha,
        beta,
        link1,
        link2,
    } = lab();
    let start = sim.start();
    // Send beta's link 2 address over link 1: beta accepts it (weak host).
    sim.set_route(alpha, BETA_2_V4, link1);
    // A destination beta does not own, forced over link 2: dropped there.
    let stranger: IpAddr = "198.51.100.77".parse().unwrap();
    sim.set_route(alpha, stranger, link2);
    sim.set_agent(
        alpha,
        Scripted::new(start)
            .at(MS, Datagram::new(ALPHA_1_V4, BETA_2_V4, data_packet(0, 4)))
            .at(MS, Datagram::new(ALPHA_2_V4, stranger, data_packet(1, 4))),
    );
    sim.set_agent(beta, Scripted::new(start));
    sim.run_for(Duration::from_secs(1));
    let got = &sim.agent::<Scripted>(beta).received;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, 2 * MS, "over link 1's 1 ms");
    assert_eq!(sim.link_stats(link2).a_to_b.dropped.no_route, 1);
    // Without an agent, deliveries are dropped as NoAgent.
    sim.take_agent(beta);
    sim.remove_route(alpha, BETA_2_V4);
    sim.with_agent(alpha, |a: &mut Scripted, _| {
        a.send_now(Datagram::new(ALPHA_1_V4, BETA_1_V4, data_packet(2, 4)));
    });
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.link_stats(link1).a_to_b.dropped.no_agent, 1);
    assert_eq!(sim.owner_of(BETA_2_V6), Some(beta));
    assert_eq!(sim.owner_of(stranger), None);
    assert_eq!(sim.host_name(alpha), "alpha");
    assert_eq!(sim.host_by_name("beta"), Some(beta));
    assert_eq!(sim.host_count(), 2);
    assert_eq!(sim.host_addresses(alpha), Lab::ALPHA);
}
