//! Source addresses in the simulator (DESIGN.md "Core shape", issue 8):
//! every packet an SCTP host sends leaves from its address on the link the
//! route to the destination uses, the simulator checks it, and a route
//! change moves the paths' sources (RFC 9260 §6.4 sends to a destination
//! address; which source is the host's routing's business).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use msctp_proto::Config;
use msctp_proto::path::SourceSelector;
use msctp_sim::sctp::{Counter, SctpHost, Ticker};
use msctp_sim::{
    ALPHA_1_V4, ALPHA_2_V4, BETA_1_V4, BETA_2_V4, HostId, LinkConfig, LinkId, Sim, SimConfig,
    WireErrorKind,
};

fn config(seed: u64) -> Config {
    Config {
        rng_seed: seed,
        cookie_secret: [seed as u8; 32],
        hb_interval: Duration::from_secs(1),
        ..Config::default()
    }
}

struct Net {
    sim: Sim,
    alpha: HostId,
    beta: HostId,
    link1: LinkId,
}

fn net(sim_config: SimConfig) -> Net {
    let mut sim = Sim::with_config(1, sim_config);
    let alpha = sim.add_host("alpha");
    let beta = sim.add_host("beta");
    let lan = LinkConfig {
        delay: Duration::from_millis(1),
        ..LinkConfig::default()
    };
    let link1 = sim.add_link((alpha, &[ALPHA_1_V4]), (beta, &[BETA_1_V4]), lan.clone());
    sim.add_link((alpha, &[ALPHA_2_V4]), (beta, &[BETA_2_V4]), lan);
    let t0 = sim.start();
    let mut client = SctpHost::new(config(1), vec![ALPHA_1_V4, ALPHA_2_V4], 5001, t0)
        .with_app(Ticker::new(Duration::from_millis(50), 64, 1000));
    client.endpoint.connect(t0, &[BETA_1_V4], 5001).unwrap();
    let mut server =
        SctpHost::new(config(2), vec![BETA_1_V4, BETA_2_V4], 5001, t0).with_app(Counter::default());
    server.endpoint.listen(true);
    sim.set_agent(alpha, client);
    sim.set_agent(beta, server);
    Net {
        sim,
        alpha,
        beta,
        link1,
    }
}

fn path_local(n: &Net, host: HostId, remote: IpAddr) -> IpAddr {
    let h = n.sim.agent::<SctpHost>(host);
    let (_, a) = h.endpoint.associations().next().expect("an association");
    a.paths()
        .into_iter()
        .find(|p| p.remote == remote)
        .expect("a path to remote")
        .local
}

/// Each path leaves from the host's address on its link; the wire check
/// (on by default, panicking) saw no packet from a wrong source.
#[test]
fn paths_leave_from_the_routed_link_address() {
    let mut n = net(SimConfig::default());
    n.sim.run_for(Duration::from_secs(5));
    assert_eq!(path_local(&n, n.alpha, BETA_1_V4), ALPHA_1_V4);
    assert_eq!(path_local(&n, n.alpha, BETA_2_V4), ALPHA_2_V4);
    assert_eq!(path_local(&n, n.beta, ALPHA_1_V4), BETA_1_V4);
    assert_eq!(path_local(&n, n.beta, ALPHA_2_V4), BETA_2_V4);
}

/// A route change (alpha now reaches beta's link-2 address over link 1)
/// moves that path's source to alpha's link-1 address, and traffic keeps
/// passing the source check.
#[test]
fn a_route_change_moves_the_source() {
    let mut n = net(SimConfig::default());
    n.sim.run_for(Duration::from_secs(2));
    n.sim.set_route(n.alpha, BETA_2_V4, n.link1);
    n.sim.run_for(Duration::from_secs(5));
    assert_eq!(path_local(&n, n.alpha, BETA_2_V4), ALPHA_1_V4);
}

#[derive(Debug)]
struct AlwaysFirst;

impl SourceSelector for AlwaysFirst {
    fn select(&self, _remote: IpAddr, candidates: &[IpAddr]) -> Option<IpAddr> {
        candidates.first().copied()
    }
}

/// The check bites: a host that sends everything from its first address
/// (the fault measured against usrsctp) is caught on link 2.
#[test]
fn a_wrong_source_is_a_wire_error() {
    let mut n = net(SimConfig {
        panic_on_wire_error: false,
        ..SimConfig::default()
    });
    n.sim
        .agent_mut::<SctpHost>(n.alpha)
        .endpoint
        .set_source_selector(Arc::new(AlwaysFirst));
    n.sim.run_for(Duration::from_secs(5));
    let errors = n.sim.wire_errors();
    assert!(!errors.is_empty(), "a wrong source was sent and not caught");
    assert!(
        errors
            .iter()
            .all(|e| e.kind == WireErrorKind::SourceNotOnLink
                && e.datagram.src == ALPHA_1_V4
                && e.datagram.dst == BETA_2_V4)
    );
}
