//! Multi-homing scenarios beyond the reference text's two experiments
//! (RFC 9260 §5.1.2, §5.4, §6.4, §6.4.1, §8.1–§8.3; RFC 7829): silent
//! blackholes, three addresses per host, asymmetric homing, IPv6 and mixed
//! families, a flapping link, total failure, a peer listing an address it
//! does not own, and a 50 MB transfer that fails over in the middle.

use std::net::IpAddr;
use std::time::Duration;

use msctp_proto::{AddressChange, AssociationChange, CloseReason, Config, Event, PathState};
use msctp_sim::sctp::{BulkSender, Counter, SctpHost, Sink, Ticker, Traffic};
use msctp_sim::{
    ALPHA_1_V4, ALPHA_1_V6, ALPHA_2_V4, ALPHA_2_V6, BETA_1_V4, BETA_1_V6, BETA_2_V4, BETA_2_V6,
    HostId, LinkConfig, LinkId, LinkState, Sim, SimConfig,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn lan() -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(1),
        ..LinkConfig::default()
    }
}

/// Quick timers so that failures play out in seconds: RTO 100 ms .. 1 s,
/// heartbeats every second.
fn fast(seed: u64) -> Config {
    Config {
        rng_seed: seed,
        cookie_secret: [seed as u8; 32],
        rto_initial: Duration::from_millis(300),
        rto_min: Duration::from_millis(100),
        rto_max: Duration::from_secs(1),
        hb_interval: Duration::from_secs(1),
        ..Config::default()
    }
}

struct Net {
    sim: Sim,
    alpha: HostId,
    beta: HostId,
    links: Vec<LinkId>,
}

/// Hosts joined by one link per entry of `links`: (alpha's addresses,
/// beta's addresses) on that link.
fn net(seed: u64, links: &[(&[IpAddr], &[IpAddr])]) -> Net {
    let mut sim = Sim::with_config(seed, SimConfig::default());
    let alpha = sim.add_host("alpha");
    let beta = sim.add_host("beta");
    let links = links
        .iter()
        .map(|(a, b)| sim.add_link((alpha, a), (beta, b), lan()))
        .collect();
    Net {
        sim,
        alpha,
        beta,
        links,
    }
}

/// Starts an association from alpha (addresses `a`, connecting to `connect`)
/// to beta (addresses `b`): alpha runs a Ticker, beta a Counter.
fn start(
    n: &mut Net,
    a: Vec<IpAddr>,
    b: Vec<IpAddr>,
    connect: IpAddr,
    ca: Config,
    cb: Config,
    ticker: Ticker,
) {
    let t0 = n.sim.start();
    let mut client = SctpHost::new(ca, a, 5001, t0).with_app(ticker);
    client.endpoint.connect(t0, &[connect], 5001).unwrap();
    let mut server = SctpHost::new(cb, b, 5001, t0).with_app(Counter::default());
    server.endpoint.listen(true);
    n.sim.set_agent(n.alpha, client);
    n.sim.set_agent(n.beta, server);
}

fn host(n: &Net, h: HostId) -> &SctpHost {
    n.sim.agent::<SctpHost>(h)
}

fn received(n: &Net) -> Vec<u64> {
    host(n, n.beta).app::<Counter>().unwrap().received.clone()
}

fn sent(n: &Net) -> u64 {
    host(n, n.alpha).app::<Ticker>().unwrap().sent
}

/// Every message sent was received once, in order.
fn assert_in_order(n: &Net) {
    let r = received(n);
    let s = sent(n);
    assert_eq!(
        r,
        (0..s).collect::<Vec<_>>(),
        "received {} of {s} messages in order",
        r.len()
    );
}

fn paths(n: &Net, h: HostId) -> Vec<msctp_proto::PathInfo> {
    host(n, h)
        .endpoint
        .associations()
        .next()
        .map(|(_, a)| a.paths())
        .unwrap_or_default()
}

fn path(n: &Net, h: HostId, remote: IpAddr) -> msctp_proto::PathInfo {
    paths(n, h)
        .into_iter()
        .find(|p| p.remote == remote)
        .unwrap_or_else(|| panic!("no path to {remote}"))
}

fn address_events(n: &Net, h: HostId, address: IpAddr, change: AddressChange) -> Vec<Duration> {
    host(n, h)
        .events
        .iter()
        .filter(|e| matches!(&e.event, Event::PeerAddress { address: a, change: c, .. } if *a == address && *c == change))
        .map(|e| e.at)
        .collect()
}

fn dual() -> Net {
    net(
        1,
        &[(&[ALPHA_1_V4], &[BETA_1_V4]), (&[ALPHA_2_V4], &[BETA_2_V4])],
    )
}

/// RFC 9260 §6.3.3, §6.4.1, RFC 7829: link 1 silently drops everything (no
/// ICMP); T3-rtx detects it, the path goes potentially failed, the lost
/// chunks are retransmitted on link 2 and new data follows; after repair a
/// heartbeat brings link 1 back and data returns to it. Nothing is lost.
#[test]
fn silent_blackhole_fails_over_and_back() {
    let mut n = dual();
    start(
        &mut n,
        vec![ALPHA_1_V4, ALPHA_2_V4],
        vec![BETA_1_V4, BETA_2_V4],
        BETA_1_V4,
        fast(1),
        fast(2),
        Ticker::new(Duration::from_millis(20), 100, 400),
    );
    let l1 = n.links[0];
    n.sim
        .schedule_link_state(Duration::from_secs(2), l1, None, LinkState::Down);
    n.sim
        .schedule_link_state(Duration::from_secs(5), l1, None, LinkState::Up);
    n.sim.run_for(Duration::from_secs(12));
    assert_in_order(&n);
    let pf = address_events(&n, n.alpha, BETA_1_V4, AddressChange::PotentiallyFailed);
    assert!(!pf.is_empty(), "PF reported");
    assert!(
        pf[0] > Duration::from_secs(2) && pf[0] < Duration::from_millis(2600),
        "PF at {:?}",
        pf[0]
    );
    let back = address_events(&n, n.alpha, BETA_1_V4, AddressChange::Available);
    assert!(
        back.iter()
            .any(|t| *t > Duration::from_secs(5) && *t < Duration::from_secs(7)),
        "available again: {back:?}"
    );
    let p1 = path(&n, n.alpha, BETA_1_V4);
    assert_eq!(p1.state, PathState::Active);
    assert!(p1.primary);
    assert!(
        path(&n, n.alpha, BETA_2_V4).counters.data_chunks_sent
            + path(&n, n.alpha, BETA_2_V4).counters.retransmissions
            > 0
    );
}

/// RFC 9260 §5.1.2, §6.4: three addresses per host; two links fail one
/// after the other and the association keeps going on the third.
#[test]
fn three_addresses_per_host() {
    let a3 = ip("192.0.2.129");
    let b3 = ip("192.0.2.130");
    let mut n = net(
        3,
        &[
            (&[ALPHA_1_V4], &[BETA_1_V4]),
            (&[ALPHA_2_V4], &[BETA_2_V4]),
            (&[a3], &[b3]),
        ],
    );
    start(
        &mut n,
        vec![ALPHA_1_V4, ALPHA_2_V4, a3],
        vec![BETA_1_V4, BETA_2_V4, b3],
        BETA_1_V4,
        fast(5),
        fast(6),
        Ticker::new(Duration::from_millis(20), 100, 600),
    );
    n.sim.run_for(Duration::from_secs(2));
    assert_eq!(paths(&n, n.alpha).len(), 3);
    assert!(
        paths(&n, n.alpha)
            .iter()
            .all(|p| p.state == PathState::Active),
        "all confirmed"
    );
    assert_eq!(paths(&n, n.beta).len(), 3);
    let (l1, l2) = (n.links[0], n.links[1]);
    n.sim.set_link_state(l1, None, LinkState::REJECT);
    n.sim.run_for(Duration::from_secs(3));
    n.sim.set_link_state(l2, None, LinkState::Down);
    n.sim.run_for(Duration::from_secs(10));
    assert_in_order(&n);
    assert_eq!(sent(&n), 600);
    let p3 = path(&n, n.alpha, b3);
    assert!(
        p3.counters.data_chunks_sent + p3.counters.retransmissions > 0,
        "data on the third path"
    );
}

/// RFC 9260 §5.1.2, §5.4: a single-homed endpoint talking to a dual-homed
/// one: the dual-homed side has one path; the single-homed side learns two
/// peer addresses but can reach only one, which it never confirms and never
/// sends data to.
#[test]
fn single_homed_to_dual_homed() {
    // Beta's second address is on a link to another host: alpha has no
    // route to it.
    let mut n = net(4, &[(&[ALPHA_1_V4], &[BETA_1_V4])]);
    let gamma = n.sim.add_host("gamma");
    n.sim
        .add_link((n.beta, &[BETA_2_V4]), (gamma, &[ALPHA_2_V4]), lan());
    start(
        &mut n,
        vec![ALPHA_1_V4],
        vec![BETA_1_V4, BETA_2_V4],
        BETA_1_V4,
        fast(7),
        fast(8),
        Ticker::new(Duration::from_millis(50), 100, 100),
    );
    n.sim.run_for(Duration::from_secs(10));
    assert_in_order(&n);
    assert_eq!(paths(&n, n.beta).len(), 1);
    let unreachable = path(&n, n.alpha, BETA_2_V4);
    assert_eq!(unreachable.state, PathState::Unconfirmed);
    assert_eq!(unreachable.counters.data_chunks_sent, 0);
    assert_eq!(unreachable.counters.retransmissions, 0);
}

/// RFC 9260 §5.1.2 (IPv6 Address parameters), §6.4: IPv6-only paths,
/// failover from link 1 to link 2.
#[test]
fn ipv6_only() {
    let mut n = net(
        9,
        &[(&[ALPHA_1_V6], &[BETA_1_V6]), (&[ALPHA_2_V6], &[BETA_2_V6])],
    );
    start(
        &mut n,
        vec![ALPHA_1_V6, ALPHA_2_V6],
        vec![BETA_1_V6, BETA_2_V6],
        BETA_1_V6,
        fast(9),
        fast(10),
        Ticker::new(Duration::from_millis(20), 100, 300),
    );
    n.sim
        .schedule_link_state(Duration::from_secs(2), n.links[0], None, LinkState::REJECT);
    n.sim.run_for(Duration::from_secs(8));
    assert_in_order(&n);
    assert_eq!(path(&n, n.alpha, BETA_2_V6).state, PathState::Active);
    assert!(!address_events(&n, n.alpha, BETA_1_V6, AddressChange::PotentiallyFailed).is_empty());
}

/// RFC 9260 §5.1.2: an IPv4 path and an IPv6 path in one association; the
/// INIT lists the IPv6 address, and traffic fails over between families.
#[test]
fn mixed_ipv4_ipv6() {
    let mut n = net(
        11,
        &[(&[ALPHA_1_V4], &[BETA_1_V4]), (&[ALPHA_2_V6], &[BETA_2_V6])],
    );
    start(
        &mut n,
        vec![ALPHA_1_V4, ALPHA_2_V6],
        vec![BETA_1_V4, BETA_2_V6],
        BETA_1_V4,
        fast(11),
        fast(12),
        Ticker::new(Duration::from_millis(20), 100, 300),
    );
    n.sim.run_for(Duration::from_secs(1));
    assert_eq!(
        path(&n, n.alpha, BETA_2_V6).state,
        PathState::Active,
        "IPv6 path confirmed"
    );
    assert_eq!(path(&n, n.beta, ALPHA_2_V6).state, PathState::Active);
    n.sim.set_link_state(n.links[0], None, LinkState::Down);
    n.sim.run_for(Duration::from_secs(7));
    assert_in_order(&n);
    assert!(path(&n, n.alpha, BETA_2_V6).counters.data_chunks_sent > 0);
}

/// RFC 9260 §8.2, RFC 7829: link 1 flaps (3 s down, 3 s up) for a minute;
/// every message arrives once and in order, and the association survives.
#[test]
fn flapping_link() {
    let mut n = dual();
    start(
        &mut n,
        vec![ALPHA_1_V4, ALPHA_2_V4],
        vec![BETA_1_V4, BETA_2_V4],
        BETA_1_V4,
        fast(13),
        fast(14),
        Ticker::new(Duration::from_millis(50), 200, 1300),
    );
    let l1 = n.links[0];
    for i in 0..10u64 {
        let down = Duration::from_secs(2 + 6 * i);
        let state = if i % 2 == 0 {
            LinkState::Down
        } else {
            LinkState::REJECT
        };
        n.sim.schedule_link_state(down, l1, None, state);
        n.sim
            .schedule_link_state(down + Duration::from_secs(3), l1, None, LinkState::Up);
    }
    n.sim.run_for(Duration::from_secs(70));
    assert_in_order(&n);
    assert_eq!(sent(&n), 1300);
    let a = host(&n, n.alpha);
    assert!(a.events.iter().all(|e| !matches!(
        e.event,
        Event::Association(AssociationChange::CommLost { .. })
    )));
    let pf = address_events(&n, n.alpha, BETA_1_V4, AddressChange::PotentiallyFailed).len();
    let back = address_events(&n, n.alpha, BETA_1_V4, AddressChange::Available).len();
    assert!(
        pf >= 5 && back >= 5,
        "PF {pf} times, available {back} times"
    );
}

/// RFC 9260 §8.1, §8.2: both links fail; every path becomes unreachable and
/// the association fails with COMM_LOST once Association.Max.Retrans is
/// exceeded; unsent messages are reported as send failures.
#[test]
fn both_links_fail_comm_lost() {
    let mut n = dual();
    start(
        &mut n,
        vec![ALPHA_1_V4, ALPHA_2_V4],
        vec![BETA_1_V4, BETA_2_V4],
        BETA_1_V4,
        fast(15),
        fast(16),
        Ticker::new(Duration::from_millis(100), 100, 1000),
    );
    n.sim
        .schedule_link_state(Duration::from_secs(2), n.links[0], None, LinkState::Down);
    n.sim
        .schedule_link_state(Duration::from_secs(2), n.links[1], None, LinkState::Down);
    n.sim.run_for(Duration::from_secs(60));
    let a = host(&n, n.alpha);
    let lost: Vec<_> = a
        .events
        .iter()
        .filter(|e| {
            matches!(
                e.event,
                Event::Association(AssociationChange::CommLost {
                    reason: CloseReason::RetransmissionLimit
                })
            )
        })
        .collect();
    assert_eq!(lost.len(), 1, "COMM_LOST once");
    assert!(
        lost[0].at < Duration::from_secs(30),
        "COMM_LOST at {:?}",
        lost[0].at
    );
    for addr in [BETA_1_V4, BETA_2_V4] {
        assert!(
            !address_events(&n, n.alpha, addr, AddressChange::Unreachable).is_empty(),
            "{addr} unreachable"
        );
    }
    assert!(
        a.events
            .iter()
            .any(|e| matches!(e.event, Event::SendFailed { .. }))
    );
    assert_eq!(
        a.endpoint.associations().count(),
        0,
        "the association is gone"
    );
}

/// RFC 9260 §5.4, §14: a peer that lists an address it does not own (here
/// an address nobody has) cannot aim our traffic at it: the address stays
/// unconfirmed, never receives DATA, and its probes are paced by the
/// backed-off RTO.
#[test]
fn listed_address_not_owned_is_never_used() {
    let bogus = ip("198.51.100.77");
    let mut n = dual();
    start(
        &mut n,
        vec![ALPHA_1_V4, ALPHA_2_V4, bogus],
        vec![BETA_1_V4, BETA_2_V4],
        BETA_1_V4,
        fast(17),
        fast(18),
        Ticker::new(Duration::from_millis(50), 100, 2000),
    );
    // Beta sends data too, so it has something to send to the bogus address
    // if it ever wrongly chose it.
    n.sim.run_for(Duration::from_secs(100));
    assert_in_order(&n);
    let p = path(&n, n.beta, bogus);
    assert_eq!(p.state, PathState::Unconfirmed);
    assert_eq!(p.counters.data_chunks_sent + p.counters.retransmissions, 0);
    let probes = p.counters.heartbeats_sent;
    // RTO backs off 300 ms, 600 ms, 1 s (RTO.Max) ...: about one per second.
    assert!((5..=110).contains(&probes), "{probes} probes in 100 s");
    assert!(address_events(&n, n.beta, bogus, AddressChange::Confirmed).is_empty());
}

/// RFC 9260 §6.4.1, §6.3.3: a bulk transfer (50 MB in release builds, 2 MB
/// in debug) whose primary link fails in the middle completes over link 2;
/// the SHA-256 digests match: nothing lost or duplicated.
#[test]
fn bulk_transfer_with_failover() {
    let bytes: u64 = if cfg!(debug_assertions) {
        2_000_000
    } else {
        50_000_000
    };
    for (seed, state) in [(21u64, LinkState::Down), (22, LinkState::REJECT)] {
        let mut n = net(
            seed,
            &[(&[ALPHA_1_V4], &[BETA_1_V4]), (&[ALPHA_2_V4], &[BETA_2_V4])],
        );
        for &l in &n.links {
            n.sim.set_link_config(
                l,
                None,
                LinkConfig {
                    bandwidth: Some(100_000_000),
                    ..lan()
                },
            );
        }
        let t0 = n.sim.start();
        let mut client =
            SctpHost::new(fast(seed), vec![ALPHA_1_V4, ALPHA_2_V4], 5001, t0).with_app(
                BulkSender::new(bytes, 1, 256 * 1024, Traffic::MultiStream(4), seed),
            );
        client.endpoint.connect(t0, &[BETA_1_V4], 5001).unwrap();
        let mut server = SctpHost::new(fast(seed + 100), vec![BETA_1_V4, BETA_2_V4], 5001, t0)
            .with_app(Sink::new());
        server.endpoint.listen(true);
        n.sim.set_agent(n.alpha, client);
        n.sim.set_agent(n.beta, server);
        // Half the data takes bytes * 8 / 100 Mbit/s / 2.
        let mid = Duration::from_secs_f64(bytes as f64 * 8.0 / 100e6 / 2.0);
        n.sim.schedule_link_state(mid, n.links[0], None, state);
        let beta = n.beta;
        let done = n.sim.run_until_cond(Duration::from_secs(300), |sim| {
            sim.agent::<SctpHost>(beta)
                .app::<Sink>()
                .unwrap()
                .digest()
                .bytes
                == bytes
        });
        let sent = host(&n, n.alpha).app::<BulkSender>().unwrap().digest();
        let got = host(&n, n.beta).app::<Sink>().unwrap().digest();
        assert!(done, "seed {seed}: {} of {bytes} bytes", got.bytes);
        assert_eq!(sent, got, "seed {seed}");
        let p2 = path(&n, n.alpha, BETA_2_V4);
        assert!(
            p2.counters.data_chunks_sent > 0,
            "seed {seed}: new data on link 2"
        );
        assert!(
            p2.counters.retransmissions > 0,
            "seed {seed}: retransmissions on link 2"
        );
        assert!(n.sim.wire_errors().is_empty());
    }
}

/// RFC 7829 §6 Primary Path Switchover: with the option on, the alternate
/// that took over stays primary after the old primary recovers; with it off
/// (the default), traffic returns to the old primary.
#[test]
fn primary_path_switchover_option() {
    for switchover in [false, true] {
        let mut n = dual();
        let cfg = |seed| Config {
            primary_switchover: switchover,
            ..fast(seed)
        };
        start(
            &mut n,
            vec![ALPHA_1_V4, ALPHA_2_V4],
            vec![BETA_1_V4, BETA_2_V4],
            BETA_1_V4,
            cfg(31),
            cfg(32),
            Ticker::new(Duration::from_millis(20), 100, 400),
        );
        let l1 = n.links[0];
        n.sim
            .schedule_link_state(Duration::from_secs(2), l1, None, LinkState::REJECT);
        n.sim
            .schedule_link_state(Duration::from_secs(4), l1, None, LinkState::Up);
        n.sim.run_for(Duration::from_secs(7));
        assert_in_order(&n);
        let p1 = path(&n, n.alpha, BETA_1_V4);
        let p2 = path(&n, n.alpha, BETA_2_V4);
        assert_eq!(p1.state, PathState::Active, "switchover {switchover}");
        assert_eq!(p2.primary, switchover, "switchover {switchover}");
        assert_eq!(p1.primary, !switchover, "switchover {switchover}");
        let made = address_events(&n, n.alpha, BETA_2_V4, AddressChange::MadePrimary);
        assert_eq!(!made.is_empty(), switchover);
    }
}
