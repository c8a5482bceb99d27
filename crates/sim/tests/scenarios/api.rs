//! The agent access API and the lab helper.

use crate::agents::Scripted;
use msctp_sim::{Agent, Datagram, IcmpError, Lab, LinkConfig, Sim, seed_from_env};
use std::time::{Duration, Instant};

struct Other;

impl Agent for Other {
    fn handle_datagram(&mut self, _: Instant, _: Datagram) {}
    fn handle_icmp(&mut self, _: Instant, _: IcmpError) {}
    fn poll_transmit(&mut self, _: Instant) -> Option<Datagram> {
        None
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        None
    }
    fn handle_timeout(&mut self, _: Instant) {}
}

#[test]
fn agents_downcast_to_their_type() {
    let Lab {
        mut sim,
        alpha,
        beta,
        ..
    } = Sim::lab(seed_from_env(51), LinkConfig::default());
    sim.set_agent(alpha, Scripted::new(sim.start()));
    assert!(sim.try_agent::<Scripted>(alpha).is_some());
    assert!(sim.try_agent::<Other>(alpha).is_none());
    assert!(sim.try_agent::<Scripted>(beta).is_none());
    sim.agent_mut::<Scripted>(alpha).echo = true;
    assert!(sim.agent::<Scripted>(alpha).echo);
    let boxed = sim.take_agent(alpha).expect("an agent");
    assert!(boxed.as_any().downcast_ref::<Scripted>().is_some());
    assert!(boxed.type_name().ends_with("Scripted"));
    sim.set_boxed_agent(alpha, boxed);
    assert!(sim.agent::<Scripted>(alpha).echo);
}

#[test]
#[should_panic(expected = "has an agent of type")]
fn wrong_type_panics_with_both_names() {
    let mut sim = Sim::new(seed_from_env(52));
    let host = sim.add_host("h");
    sim.set_agent(host, Other);
    sim.agent::<Scripted>(host);
}

#[test]
#[should_panic(expected = "has no agent")]
fn missing_agent_panics() {
    let mut sim = Sim::new(seed_from_env(53));
    let host = sim.add_host("h");
    sim.agent_mut::<Scripted>(host);
}

#[test]
fn clock_maps_instants() {
    let mut sim = Sim::new(seed_from_env(54));
    let t = Duration::from_millis(1234);
    assert_eq!(sim.time_of(sim.instant_at(t)), t);
    sim.run_until(t);
    assert_eq!(sim.now(), sim.start() + t);
    assert_eq!(sim.elapsed(), t);
    // Running backwards does nothing.
    sim.run_until(Duration::from_millis(5));
    assert_eq!(sim.elapsed(), t);
}

#[test]
#[should_panic(expected = "already belongs to host")]
fn an_address_has_one_owner() {
    let mut sim = Sim::new(1);
    let a = sim.add_host("a");
    let b = sim.add_host("b");
    let c = sim.add_host("c");
    let addr = "192.0.2.1".parse().unwrap();
    let other = "192.0.2.2".parse().unwrap();
    sim.add_link((a, &[addr]), (b, &[other]), LinkConfig::default());
    sim.add_link((c, &[addr]), (b, &[other]), LinkConfig::default());
}
