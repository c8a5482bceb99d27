//! Random operations against the multi-homing machinery, checked against a
//! simple model (DESIGN.md: fuzz the path manager against a model): links
//! fail and recover at random, the application sends at random, time
//! advances at random. Invariants (RFC 9260 §5.4, §6.4, §8.2; RFC 7829):
//! DATA and SACK never go to an unconfirmed address, in any chunk position
//! of any packet, on either side; the primary is always a known path; a
//! path becomes active only after something came back from it (a HEARTBEAT
//! ACK naming it, or a SACK after DATA sent there got through), never
//! because packets arrive from its address (links also fail one way only);
//! and once every link is up again, every message is delivered exactly once
//! and in order, and every path is active.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use msctp_wire::{Chunk, Packet};
use proptest::prelude::*;

use super::pair::*;
use crate::association::heartbeat::HeartbeatInfo;
use crate::{Config, PathState, SendOptions};

/// How a link fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Up,
    /// Both directions lost.
    Both,
    /// Only what the client sends is lost.
    ToServer,
    /// Only what the server sends is lost.
    ToClient,
}

#[derive(Debug, Clone)]
enum Op {
    Fail(usize, Failure),
    Restore(usize),
    Send(u8),
    Advance(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            0usize..2,
            prop_oneof![
                Just(Failure::Both),
                Just(Failure::ToServer),
                Just(Failure::ToClient)
            ]
        )
            .prop_map(|(l, f)| Op::Fail(l, f)),
        (0usize..2).prop_map(Op::Restore),
        (1u8..20).prop_map(Op::Send),
        (1u16..3000).prop_map(Op::Advance),
    ]
}

fn is_server(addr: IpAddr) -> bool {
    addr == ip(B1) || addr == ip(B2)
}

/// The log of the pair, with what the network did with each packet.
struct Trace {
    /// Per log entry: delivered (not dropped).
    delivered: Rc<RefCell<Vec<bool>>>,
}

/// A packet of the log, decoded.
struct Seen {
    at: Duration,
    to_server: bool,
    destination: IpAddr,
    delivered: bool,
    chunks: Vec<Chunk>,
}

fn decode(p: &Pair, trace: &Trace) -> Vec<Seen> {
    let delivered = trace.delivered.borrow();
    p.log
        .iter()
        .enumerate()
        .map(|(i, (at, to_server, t))| Seen {
            at: *at,
            to_server: *to_server,
            destination: t.destination,
            delivered: delivered[i],
            chunks: Packet::parse(t.payload.clone()).unwrap().chunks,
        })
        .collect()
}

/// HEARTBEAT ACKs in `s` name these addresses.
fn acked_addresses(s: &Seen) -> Vec<IpAddr> {
    s.chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::HeartbeatAck(hb) => HeartbeatInfo::decode(&hb.info).map(|i| i.address),
            _ => None,
        })
        .collect()
}

/// Arrival times of everything that came back to the client about peer
/// address `x`: delivered HEARTBEAT ACKs naming it, and delivered SACKs
/// once DATA sent to `x` got through.
fn came_back(seen: &[Seen], x: IpAddr, delay: Duration) -> Vec<Duration> {
    let mut data_through = false;
    let mut out = Vec::new();
    for s in seen {
        if s.to_server && s.destination == x && s.delivered {
            data_through |= s.chunks.iter().any(|c| matches!(c, Chunk::Data(_)));
        }
        if s.to_server || !s.delivered {
            continue;
        }
        let sack = data_through && s.chunks.iter().any(|c| matches!(c, Chunk::Sack(_)));
        if sack || acked_addresses(s).contains(&x) {
            out.push(s.at + delay);
        }
    }
    out
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
        let down = Rc::new(RefCell::new([Failure::Up, Failure::Up]));
        let d = down.clone();
        let trace = Trace { delivered: Rc::new(RefCell::new(Vec::new())) };
        let delivered = trace.delivered.clone();
        p.drop = Some(Box::new(move |t| {
            let links = d.borrow();
            let to_server = is_server(t.destination);
            let lost = |f: Failure| match f {
                Failure::Up => false,
                Failure::Both => true,
                Failure::ToServer => to_server,
                Failure::ToClient => !to_server,
            };
            let drop = lost(links[link_of(t.destination)]) || lost(links[link_of(t.source)]);
            delivered.borrow_mut().push(!drop);
            drop
        }));
        let h = p.connect();
        p.run_for(Duration::from_millis(50));
        let server = p.server.associations().next().map(|(h, _)| h);
        prop_assert!(server.is_some(), "handshake on link 1");
        let server = server.unwrap();
        let mut sent = 0u32;
        let mut got = Vec::new();
        // When each of the client's paths was last seen not active.
        let mut last_not_active: HashMap<IpAddr, Duration> = HashMap::new();
        let mut sample = |p: &Pair| -> Result<(), TestCaseError> {
            let Some(a) = p.client.association(h) else { return Ok(()) };
            let now = p.now - p.t0;
            let mut seen = None;
            for path in a.paths() {
                if path.state != PathState::Active {
                    last_not_active.insert(path.remote, now);
                } else if let Some(since) = last_not_active.remove(&path.remote) {
                    // It became active in (since, now]: something must
                    // have come back from it in that interval.
                    let seen = seen.get_or_insert_with(|| decode(p, &trace));
                    let back = came_back(seen, path.remote, p.delay);
                    prop_assert!(
                        back.iter().any(|&t| t > since && t <= now),
                        "{} active at {:?} (not active at {:?}) with nothing back from it",
                        path.remote, now, since
                    );
                }
            }
            Ok(())
        };
        for op in ops {
            match op {
                Op::Fail(l, f) => down.borrow_mut()[l] = f,
                Op::Restore(l) => down.borrow_mut()[l] = Failure::Up,
                Op::Send(n) => {
                    for _ in 0..n {
                        let a = p.client.association_mut(h);
                        let Some(a) = a else { break };
                        if a.send(Bytes::copy_from_slice(&sent.to_be_bytes()), SendOptions::default()).is_ok() {
                            sent += 1;
                        }
                    }
                }
                Op::Advance(ms) => {
                    let end = p.now + Duration::from_millis(u64::from(ms));
                    while p.now < end {
                        let step = (p.now + Duration::from_millis(20)).min(end);
                        p.run_until(step);
                        sample(&p)?;
                    }
                }
            }
            sample(&p)?;
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
        // DATA and SACK never went to an address its sender had not
        // confirmed (RFC 9260 §5.4), in any position of any packet: an
        // address is confirmed at the earliest when a HEARTBEAT ACK naming
        // it reaches its prober. The client starts with beta's handshake
        // address confirmed, the server with alpha's.
        let seen = decode(&p, &trace);
        let mut confirmed_at: HashMap<IpAddr, Duration> = HashMap::new();
        confirmed_at.insert(ip(B1), Duration::ZERO);
        confirmed_at.insert(ip(A1), Duration::ZERO);
        for s in seen.iter().filter(|s| s.delivered) {
            for a in acked_addresses(s) {
                confirmed_at.entry(a).or_insert(s.at + p.delay);
            }
        }
        for s in &seen {
            let data_or_sack = s
                .chunks
                .iter()
                .any(|c| matches!(c, Chunk::Data(_) | Chunk::Sack(_)));
            if data_or_sack {
                let ok = confirmed_at.get(&s.destination).is_some_and(|&t| t <= s.at);
                prop_assert!(ok, "DATA or SACK to unconfirmed {} at {:?}", s.destination, s.at);
            }
        }
        // Everything heals: all links up, a minute passes.
        *down.borrow_mut() = [Failure::Up, Failure::Up];
        for _ in 0..600 {
            p.run_for(Duration::from_millis(100));
            sample(&p)?;
        }
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
