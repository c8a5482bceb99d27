//! Two endpoints and a lossless in-memory network with a fixed one-way delay.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::{AssociationHandle, Config, Endpoint, Event, Transmit};

pub const A1: &str = "192.0.2.1";
pub const A2: &str = "198.51.100.1";
pub const B1: &str = "192.0.2.2";
pub const B2: &str = "198.51.100.2";

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A packet in flight, and whether to drop it.
pub type Filter = Box<dyn FnMut(&Transmit) -> bool>;
/// Rewrites a packet in flight.
pub type Mutator = Box<dyn FnMut(&mut Transmit)>;

pub struct Pair {
    pub t0: Instant,
    pub now: Instant,
    pub delay: Duration,
    pub client: Endpoint,
    pub server: Endpoint,
    /// Arrival time (and a sequence number) → (to server?, packet).
    in_flight: BTreeMap<(Instant, u64), (bool, Transmit)>,
    seq: u64,
    pub drop: Option<Filter>,
    /// Rewrites packets in flight (after `drop`).
    pub mutate: Option<Mutator>,
    pub log: Vec<(Duration, bool, Transmit)>,
    pub client_events: Vec<(AssociationHandle, Event)>,
    pub server_events: Vec<(AssociationHandle, Event)>,
}

impl Pair {
    pub fn new(client: Config, server: Config) -> Self {
        // The one wall-clock read of these tests: a base for virtual time.
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        let mut server_ep = Endpoint::new(server, vec![ip(B1), ip(B2)], 5001, t0);
        server_ep.listen(true);
        Pair {
            t0,
            now: t0,
            delay: Duration::from_millis(5),
            client: Endpoint::new(client, vec![ip(A1), ip(A2)], 5001, t0),
            server: server_ep,
            in_flight: BTreeMap::new(),
            seq: 0,
            drop: None,
            mutate: None,
            log: Vec::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
        }
    }

    pub fn default_pair() -> Self {
        let c = Config {
            rng_seed: 1,
            cookie_secret: [1; 32],
            ..Config::default()
        };
        let s = Config {
            rng_seed: 2,
            cookie_secret: [2; 32],
            ..Config::default()
        };
        Self::new(c, s)
    }

    pub fn connect(&mut self) -> AssociationHandle {
        self.client.connect(self.now, &[ip(B1)], 5001).unwrap()
    }

    fn flush(&mut self) {
        loop {
            let mut any = false;
            while let Some(t) = self.client.poll_transmit(self.now) {
                self.launch(true, t);
                any = true;
            }
            while let Some(t) = self.server.poll_transmit(self.now) {
                self.launch(false, t);
                any = true;
            }
            while let Some(e) = self.client.poll_event() {
                self.client_events.push(e);
            }
            while let Some(e) = self.server.poll_event() {
                self.server_events.push(e);
            }
            if !any {
                break;
            }
        }
    }

    fn launch(&mut self, to_server: bool, mut t: Transmit) {
        // Every packet is re-parsed by the codec.
        msctp_wire::Packet::parse(t.payload.clone()).expect("engine emitted a valid packet");
        // Every packet leaves from our address on the link of its
        // destination, if we have one there (the links are 192.0.2.0/24
        // and 198.51.100.0/24):
        // a wrong source is what a real network punishes (replies come
        // back over the other link).
        let sender = if to_server {
            &self.client
        } else {
            &self.server
        };
        let has_link_address = sender
            .local_addrs()
            .iter()
            .any(|l| same_link(*l, t.destination));
        assert!(
            same_link(t.source, t.destination) || !has_link_address,
            "packet from {} to {} leaves from the wrong link's address: {:?}",
            t.source,
            t.destination,
            msctp_wire::Packet::parse(t.payload.clone()).map(|p| p.chunks)
        );
        self.log.push((self.now - self.t0, to_server, t.clone()));
        if let Some(f) = self.drop.as_mut() {
            if f(&t) {
                return;
            }
        }
        if let Some(m) = self.mutate.as_mut() {
            m(&mut t);
        }
        self.seq += 1;
        self.in_flight
            .insert((self.now + self.delay, self.seq), (to_server, t));
    }

    /// Runs until `deadline` (virtual) or until nothing is scheduled.
    pub fn run_until(&mut self, deadline: Instant) {
        self.flush();
        loop {
            let next_packet = self.in_flight.keys().next().map(|k| k.0);
            let next_timer = [self.client.poll_timeout(), self.server.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let next = match (next_packet, next_timer) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => break,
            };
            if next > deadline {
                break;
            }
            self.now = self.now.max(next);
            if next_packet == Some(next) {
                let key = *self.in_flight.keys().next().unwrap();
                let (to_server, t) = self.in_flight.remove(&key).unwrap();
                let ep = if to_server {
                    &mut self.server
                } else {
                    &mut self.client
                };
                ep.handle(self.now, t.destination, t.source, t.payload);
            } else {
                self.client.handle_timeout(self.now);
                self.server.handle_timeout(self.now);
            }
            self.flush();
        }
        self.now = self.now.max(deadline);
    }

    pub fn run_for(&mut self, d: Duration) {
        let deadline = self.now + d;
        self.run_until(deadline);
    }

    /// Runs until `cond` holds, at most `max` of virtual time.
    pub fn run_while(&mut self, max: Duration, mut cond: impl FnMut(&mut Pair) -> bool) -> bool {
        let end = self.now + max;
        while self.now < end {
            if !cond(self) {
                return true;
            }
            let step = self.now + Duration::from_millis(1);
            self.run_until(step.min(end));
        }
        !cond(self)
    }

    pub fn chunk_types(&self) -> Vec<(bool, Vec<String>)> {
        self.log
            .iter()
            .map(|(_, to_server, t)| {
                let p = msctp_wire::Packet::parse(t.payload.clone()).unwrap();
                (
                    *to_server,
                    p.chunks
                        .iter()
                        .map(|c| c.chunk_type().to_string())
                        .collect(),
                )
            })
            .collect()
    }
}

/// Delivers a hand-made packet to the server as if sent from `from`.
pub fn inject(p: &mut Pair, to_server: bool, from: &str, to: &str, packet: &msctp_wire::Packet) {
    let now = p.now;
    let bytes = Bytes::from(packet.emit());
    if to_server {
        p.server.handle(now, ip(to), ip(from), bytes);
    } else {
        p.client.handle(now, ip(to), ip(from), bytes);
    }
}

/// The first chunk type of a packet.
pub fn first_type(t: &Transmit) -> u8 {
    t.payload.get(12).copied().unwrap_or(0xff)
}

pub fn payload(n: usize, seed: u8) -> Bytes {
    Bytes::from(
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect::<Vec<_>>(),
    )
}

/// True if `a` and `b` are on the same link of the test topology (the same
/// /24 for IPv4, the same /64 for IPv6).
pub fn same_link(a: IpAddr, b: IpAddr) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets()[..3] == b.octets()[..3],
        (IpAddr::V6(a), IpAddr::V6(b)) => a.segments()[..4] == b.segments()[..4],
        _ => false,
    }
}
