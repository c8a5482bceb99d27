//! Random operations against the multi-homing machinery, checked against a
//! simple model (DESIGN.md: fuzz the path manager against a model): links
//! fail and recover at random, the application sends at random, time
//! advances at random. Invariants (RFC 9260 §5.4, §6.4, §8.2; RFC 7829):
//! DATA never goes to an unconfirmed address; the primary is always a known
//! path; a path is active again only after something came back from it;
//! and once every link is up again, every message is delivered exactly once
//! and in order, and every path is active.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;

use super::pair::*;
use crate::{Config, PathState, SendOptions};

#[derive(Debug, Clone)]
enum Op {
    Fail(usize),
    Restore(usize),
    Send(u8),
    Advance(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..2).prop_map(Op::Fail),
        (0usize..2).prop_map(Op::Restore),
        (1u8..20).prop_map(Op::Send),
        (1u16..3000).prop_map(Op::Advance),
    ]
}

fn link_of(addr: std::net::IpAddr) -> usize {
    if addr.to_string().starts_with("192.0.2.") {
        0
    } else {
        1
    }
}

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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_failures_keep_the_invariants(ops in proptest::collection::vec(op(), 1..40)) {
        let mut p = Pair::new(fast(1), fast(2));
        let down = Rc::new(RefCell::new([false, false]));
        let d = down.clone();
        p.drop = Some(Box::new(move |t| {
            let links = d.borrow();
            links[link_of(t.destination)] || links[link_of(t.source)]
        }));
        let h = p.connect();
        p.run_for(Duration::from_millis(50));
        let server = p.server.associations().next().map(|(h, _)| h);
        prop_assert!(server.is_some(), "handshake on link 1");
        let server = server.unwrap();
        let mut sent = 0u32;
        let mut got = Vec::new();
        for op in ops {
            match op {
                Op::Fail(l) => down.borrow_mut()[l] = true,
                Op::Restore(l) => down.borrow_mut()[l] = false,
                Op::Send(n) => {
                    for _ in 0..n {
                        let a = p.client.association_mut(h);
                        let Some(a) = a else { break };
                        if a.send(Bytes::copy_from_slice(&sent.to_be_bytes()), SendOptions::default()).is_ok() {
                            sent += 1;
                        }
                    }
                }
                Op::Advance(ms) => p.run_for(Duration::from_millis(u64::from(ms))),
            }
            if let Some(a) = p.server.association_mut(server) {
                while let Some(m) = a.recv() {
                    got.push(u32::from_be_bytes(m.data[..4].try_into().unwrap()));
                }
            }
            // The primary is a known path.
            if let Some(a) = p.client.association(h) {
                let paths = a.paths();
                prop_assert_eq!(paths.iter().filter(|x| x.primary).count(), 1);
            }
        }
        // DATA never went to an address the client had not confirmed: the
        // only unconfirmed address at start is beta's link-2 address, and
        // the log shows DATA to it only after a HEARTBEAT ACK came from it.
        let mut confirmed_b2 = false;
        for (_, to_server, t) in &p.log {
            let first = first_type(t);
            if !*to_server && first == 5 && t.source == ip(B2) {
                confirmed_b2 = true;
            }
            if *to_server && first == 0 && t.destination == ip(B2) {
                prop_assert!(confirmed_b2, "DATA to an unconfirmed address");
            }
        }
        // Everything heals: all links up, a minute passes.
        *down.borrow_mut() = [false, false];
        p.run_for(Duration::from_secs(60));
        if let Some(a) = p.server.association_mut(server) {
            while let Some(m) = a.recv() {
                got.push(u32::from_be_bytes(m.data[..4].try_into().unwrap()));
            }
        }
        if let Some(a) = p.client.association(h) {
            // Still alive: every message delivered once, in order; every
            // path active.
            prop_assert_eq!(&got, &(0..sent).collect::<Vec<_>>());
            for path in a.paths() {
                prop_assert_eq!(path.state, PathState::Active, "{:?}", path.remote);
            }
        } else {
            // It failed (both links down long enough, RFC 9260 §8.1): what
            // was delivered is still a prefix, in order, without duplicates.
            prop_assert_eq!(&got, &(0..got.len() as u32).collect::<Vec<_>>());
        }
    }
}
