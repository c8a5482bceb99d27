//! Link states (up, down, reject), scheduled changes, MTU and the drop
//! filter.

use crate::agents::{Scripted, data_packet, init_packet, is_init_ack};
use msctp_sim::{
    ALPHA_1_V4, ALPHA_1_V6, BETA_1_V4, BETA_1_V6, Datagram, Direction, DropReason, IcmpKind, Lab,
    LinkConfig, LinkState, LogKind, RejectWith, seed_from_env,
};
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);

/// The lab with link 1 at 3 ms alpha → beta and 7 ms beta → alpha.
fn lab(seed: u64) -> Lab {
    let mut lab = Lab::new(seed, LinkConfig::with_delay(3 * MS));
    lab.sim.set_link_config(
        lab.link1,
        Some(Direction::BToA),
        LinkConfig::with_delay(7 * MS),
    );
    lab
}

#[test]
fn down_drops_silently() {
    let Lab {
        mut sim,
        alpha,
        beta,
        link1,
        ..
    } = lab(seed_from_env(31));
    let start = sim.start();
    sim.set_link_state(link1, Some(Direction::AToB), LinkState::Down);
    sim.set_agent(
        alpha,
        Scripted::new(start).burst(MS, MS, 5, ALPHA_1_V4, BETA_1_V4, 10),
    );
    sim.set_agent(beta, Scripted::echo(start));
    sim.run_for(Duration::from_secs(1));
    assert!(sim.agent::<Scripted>(beta).received.is_empty());
    assert!(sim.agent::<Scripted>(alpha).icmp.is_empty(), "no ICMP");
    let stats = sim.link_stats(link1);
    assert_eq!(stats.a_to_b.dropped.link_down, 5);
    assert_eq!(stats.a_to_b.icmp_returned, 0);
    assert_eq!(sim.link_state(link1, Direction::AToB), LinkState::Down);
    assert_eq!(sim.link_state(link1, Direction::BToA), LinkState::Up);
}

#[test]
fn reject_returns_icmp_after_the_round_trip() {
    let Lab {
        mut sim,
        alpha,
        beta,
        link1,
        ..
    } = lab(seed_from_env(32));
    let start = sim.start();
    sim.set_link_state(link1, None, LinkState::REJECT);
    let small = Datagram::new(ALPHA_1_V4, BETA_1_V4, data_packet(1, 10));
    let small6 = Datagram::new(ALPHA_1_V6, BETA_1_V6, data_packet(2, 10));
    let big = Datagram::new(ALPHA_1_V4, BETA_1_V4, data_packet(3, 1400));
    sim.set_agent(
        alpha,
        Scripted::new(start)
            .at(10 * MS, small.clone())
            .at(20 * MS, small6.clone())
            .at(30 * MS, big.clone()),
    );
    sim.set_agent(beta, Scripted::new(start));
    sim.run_for(Duration::from_secs(1));
    assert!(sim.agent::<Scripted>(beta).received.is_empty());
    let icmp = &sim.agent::<Scripted>(alpha).icmp;
    assert_eq!(icmp.len(), 3);
    // Rejected where it arrives (3 ms), the error comes back in 7 ms.
    let (t, e) = &icmp[0];
    assert_eq!(*t, 20 * MS);
    assert_eq!(e.from, BETA_1_V4);
    assert_eq!(e.kind, IcmpKind::DestinationUnreachable { code: 3 });
    assert_eq!(e.original, small, "a small datagram is quoted whole");
    let (t, e) = &icmp[1];
    assert_eq!(*t, 30 * MS);
    assert_eq!(e.from, BETA_1_V6);
    assert_eq!(e.kind, IcmpKind::DestinationUnreachable { code: 4 });
    assert_eq!(e.original, small6);
    let (t, e) = &icmp[2];
    assert_eq!(*t, 40 * MS);
    assert_eq!((e.original.src, e.original.dst), (big.src, big.dst));
    assert_eq!(e.original.payload.len(), 548 - 20, "Linux quotes 548 bytes");
    assert_eq!(e.original.payload, big.payload.slice(..528));
    let stats = sim.link_stats(link1).a_to_b;
    assert_eq!((stats.dropped.rejected, stats.icmp_returned), (3, 3));
    assert_eq!(sim.host_stats(alpha).icmp_received, 3);
    let sent: Vec<_> = sim
        .log()
        .iter()
        .filter(|e| matches!(e.kind, LogKind::IcmpSent { .. }))
        .map(|e| (e.time, e.direction, e.src, e.dst))
        .collect();
    assert_eq!(
        sent[0],
        (13 * MS, Some(Direction::BToA), BETA_1_V4, ALPHA_1_V4)
    );
}

#[test]
fn reject_with_other_codes() {
    for (with, v4, v6) in [
        (
            RejectWith::AdminProhibited,
            IcmpKind::DestinationUnreachable { code: 13 },
            IcmpKind::DestinationUnreachable { code: 1 },
        ),
        (
            RejectWith::HostUnreachable,
            IcmpKind::DestinationUnreachable { code: 1 },
            IcmpKind::DestinationUnreachable { code: 3 },
        ),
        (
            RejectWith::ProtocolUnreachable,
            IcmpKind::ProtocolUnreachable,
            IcmpKind::ProtocolUnreachable,
        ),
    ] {
        let Lab {
            mut sim,
            alpha,
            beta,
            link1,
            ..
        } = lab(seed_from_env(33));
        let start = sim.start();
        sim.set_link_state(link1, Some(Direction::AToB), LinkState::Reject(with));
        sim.set_agent(
            alpha,
            Scripted::new(start)
                .at(MS, Datagram::new(ALPHA_1_V4, BETA_1_V4, data_packet(1, 4)))
                .at(MS, Datagram::new(ALPHA_1_V6, BETA_1_V6, data_packet(2, 4))),
        );
        sim.set_agent(beta, Scripted::new(start));
        sim.run_for(Duration::from_secs(1));
        let kinds: Vec<_> = sim
            .agent::<Scripted>(alpha)
            .icmp
            .iter()
            .map(|(_, e)| e.kind)
            .collect();
        assert_eq!(kinds, [v4, v6], "{with:?}");
    }
}

#[test]
fn scheduled_changes_happen_at_the_exact_time() {
    let Lab {
        mut sim,
        alpha,
        beta,
        link1,
        ..
    } = Lab::new(seed_from_env(34), LinkConfig::with_delay(MS));
    let start = sim.start();
    // One datagram every ms from 0 to 99 ms, each arriving 1 ms later.
    sim.set_agent(
        alpha,
        Scripted::new(start).burst(Duration::ZERO, MS, 100, ALPHA_1_V4, BETA_1_V4, 4),
    );
    sim.set_agent(beta, Scripted::new(start));
    sim.schedule_link_state(50 * MS, link1, None, LinkState::Down);
    sim.schedule_link_state(80 * MS, link1, Some(Direction::AToB), LinkState::Up);
    sim.run_for(Duration::from_secs(1));
    let arrivals: Vec<Duration> = sim
        .agent::<Scripted>(beta)
        .received
        .iter()
        .map(|(t, _)| *t)
        .collect();
    // Arrivals at 1..=49 ms, then none while down (50..=79), then 80..=100.
    let expected: Vec<Duration> = (1..50).chain(80..101).map(|i| MS * i).collect();
    assert_eq!(arrivals, expected);
    let changes: Vec<_> = sim
        .log()
        .iter()
        .filter(|e| matches!(e.kind, LogKind::LinkStateChanged { .. }))
        .map(|e| (e.time, e.direction, e.kind))
        .collect();
    let change = |from, to| LogKind::LinkStateChanged { from, to };
    assert_eq!(
        changes,
        [
            (
                50 * MS,
                Some(Direction::AToB),
                change(LinkState::Up, LinkState::Down)
            ),
            (
                50 * MS,
                Some(Direction::BToA),
                change(LinkState::Up, LinkState::Down)
            ),
            (
                80 * MS,
                Some(Direction::AToB),
                change(LinkState::Down, LinkState::Up)
            ),
        ]
    );
    assert_eq!(sim.link_state(link1, Direction::BToA), LinkState::Down);
    assert_eq!(sim.link_stats(link1).a_to_b.dropped.link_down, 30);
}

#[test]
fn scheduled_config_change() {
    let Lab {
        mut sim,
        alpha,
        beta,
        link1,
        ..
    } = Lab::new(seed_from_env(35), LinkConfig::with_delay(MS));
    let start = sim.start();
    sim.set_agent(
        alpha,
        Scripted::new(start)
            .at(
                10 * MS,
                Datagram::new(ALPHA_1_V4, BETA_1_V4, data_packet(0, 4)),
            )
            .at(
                30 * MS,
                Datagram::new(ALPHA_1_V4, BETA_1_V4, data_packet(1, 4)),
            ),
    );
    sim.set_agent(beta, Scripted::new(start));
    sim.schedule_link_config(20 * MS, link1, None, LinkConfig::with_delay(9 * MS));
    sim.run_for(Duration::from_secs(1));
    let arrivals: Vec<_> = sim
        .agent::<Scripted>(beta)
        .received
        .iter()
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(arrivals, [11 * MS, 39 * MS]);
    assert_eq!(
        sim.link_config(link1, Direction::BToA).delay,
        9 * MS,
        "both directions changed"
    );
}

#[test]
fn too_big_for_the_mtu_returns_packet_too_big() {
    let Lab {
        mut sim,
        alpha,
        beta,
        link1,
        ..
    } = lab(seed_from_env(36));
    let start = sim.start();
    let mut config = LinkConfig::with_delay(3 * MS);
    config.mtu = Some(1280);
    sim.set_link_config(link1, Some(Direction::AToB), config);
    // 1232 bytes of user data: 1260 bytes of SCTP, 1280 of IPv4 (fits),
    // 1300 of IPv6 (does not).
    let v4 = Datagram::new(ALPHA_1_V4, BETA_1_V4, data_packet(0, 1232));
    let v6 = Datagram::new(ALPHA_1_V6, BETA_1_V6, data_packet(1, 1232));
    let v4_big = Datagram::new(ALPHA_1_V4, BETA_1_V4, data_packet(2, 1236));
    sim.set_agent(
        alpha,
        Scripted::new(start)
            .at(MS, v4)
            .at(2 * MS, v6.clone())
            .at(3 * MS, v4_big),
    );
    sim.set_agent(beta, Scripted::new(start));
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.agent::<Scripted>(beta).tsns(), [0]);
    let icmp = &sim.agent::<Scripted>(alpha).icmp;
    assert_eq!(icmp.len(), 2);
    // Refused on entry; the error comes back over the reverse delay.
    let (t, e) = &icmp[0];
    assert_eq!(*t, 2 * MS + 7 * MS);
    assert_eq!(e.kind, IcmpKind::PacketTooBig { mtu: 1280 });
    assert_eq!(e.from, BETA_1_V6);
    assert_eq!(e.original.payload, v6.payload.slice(..1192));
    assert_eq!(icmp[1].0, 3 * MS + 7 * MS);
    assert_eq!(icmp[1].1.from, BETA_1_V4);
    assert_eq!(sim.link_stats(link1).a_to_b.dropped.mtu, 2);
}

#[test]
fn drop_filter_drops_exactly_the_first_init_ack() {
    let Lab {
        mut sim,
        alpha,
        beta,
        link1,
        ..
    } = lab(seed_from_env(37));
    let start = sim.start();
    let mut dropped = false;
    sim.set_drop_filter(link1, Direction::BToA, move |d| {
        let drop = !dropped && is_init_ack(&d.payload);
        dropped |= drop;
        drop
    });
    let init_ack = Datagram::new(BETA_1_V4, ALPHA_1_V4, init_packet(true));
    let init = Datagram::new(BETA_1_V4, ALPHA_1_V4, init_packet(false));
    sim.set_agent(alpha, Scripted::new(start));
    sim.set_agent(
        beta,
        Scripted::new(start)
            .at(MS, init)
            .at(2 * MS, init_ack.clone())
            .at(3 * MS, init_ack),
    );
    sim.run_for(Duration::from_secs(1));
    let got = &sim.agent::<Scripted>(alpha).received;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, 8 * MS, "the INIT");
    assert_eq!(got[1].0, 10 * MS, "the second INIT ACK");
    let stats = sim.link_stats(link1).b_to_a;
    assert_eq!(stats.dropped.get(DropReason::Filter), 1);
    sim.clear_drop_filter(link1, Direction::BToA);
}
