//! Workloads for transfer tests: a bulk sender of seeded random messages and
//! a sink, both keeping a [`Digest`] of what they sent or received so a test
//! can check that everything arrived intact, nothing lost or duplicated.
//!
//! Ordered messages are hashed with SHA-256 per stream in order; unordered
//! ones, whose order is not preserved, are combined commutatively (the sum of
//! their individual SHA-256 values), with counts and byte totals.

use std::collections::BTreeMap;
use std::time::Instant;

use bytes::Bytes;
use msctp_proto::{AssociationChange, AssociationHandle, Endpoint, Event, SendOptions};
use sha2::{Digest as _, Sha256};

use super::App;
use crate::rng::Rng;

/// What a [`BulkSender`] sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traffic {
    /// Ordered messages on stream 0.
    Ordered,
    /// Unordered messages on stream 0.
    Unordered,
    /// Ordered and unordered messages spread over this many streams.
    MultiStream(u16),
}

/// A summary of messages sent or received.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Digest {
    /// Per stream: SHA-256 over (length, bytes) of each ordered message in order.
    pub ordered: BTreeMap<u16, [u8; 32]>,
    /// Wrapping sum of the first 16 bytes of each unordered message's SHA-256.
    pub unordered_sum: u128,
    /// Messages.
    pub messages: u64,
    /// Bytes of user data.
    pub bytes: u64,
}

#[derive(Debug, Default, Clone)]
struct DigestState {
    ordered: BTreeMap<u16, Sha256>,
    unordered_sum: u128,
    messages: u64,
    bytes: u64,
}

impl DigestState {
    fn add(&mut self, stream: u16, unordered: bool, data: &[u8]) {
        self.messages += 1;
        self.bytes += data.len() as u64;
        if unordered {
            let h = Sha256::digest(data);
            let mut first = [0u8; 16];
            first.copy_from_slice(&h[..16]);
            self.unordered_sum = self.unordered_sum.wrapping_add(u128::from_be_bytes(first));
        } else {
            let h = self.ordered.entry(stream).or_default();
            h.update((data.len() as u64).to_be_bytes());
            h.update(data);
        }
    }

    fn finish(&self) -> Digest {
        Digest {
            ordered: self
                .ordered
                .iter()
                .map(|(s, h)| (*s, h.clone().finalize().into()))
                .collect(),
            unordered_sum: self.unordered_sum,
            messages: self.messages,
            bytes: self.bytes,
        }
    }
}

/// Sends `total` bytes of seeded random messages on the first association
/// that comes up, as fast as the send buffer allows.
#[derive(Debug)]
pub struct BulkSender {
    total: u64,
    queued: u64,
    min_size: usize,
    max_size: usize,
    traffic: Traffic,
    rng: Rng,
    association: Option<AssociationHandle>,
    next: Option<(Bytes, SendOptions)>,
    digest: DigestState,
    /// When the last message was handed to the engine.
    pub finished_queueing: Option<Instant>,
}

impl BulkSender {
    /// Messages of sizes log-uniform in `min_size ..= max_size`.
    pub fn new(total: u64, min_size: usize, max_size: usize, traffic: Traffic, seed: u64) -> Self {
        BulkSender {
            total,
            queued: 0,
            min_size: min_size.max(1),
            max_size: max_size.max(min_size.max(1)),
            traffic,
            rng: Rng::new(seed),
            association: None,
            next: None,
            digest: DigestState::default(),
            finished_queueing: None,
        }
    }

    /// What was handed to the engine so far.
    pub fn digest(&self) -> Digest {
        self.digest.finish()
    }

    /// True once every byte is queued.
    pub fn done_queueing(&self) -> bool {
        self.queued >= self.total && self.next.is_none()
    }

    fn make(&mut self) -> (Bytes, SendOptions) {
        let left = (self.total - self.queued) as usize;
        // Log-uniform size between min and max.
        let lo = (self.min_size as f64).ln();
        let hi = (self.max_size as f64).ln();
        let u = self.rng.next_u64() as f64 / u64::MAX as f64;
        let size = ((lo + (hi - lo) * u).exp() as usize)
            .clamp(self.min_size, self.max_size)
            .min(left)
            .max(1);
        let mut buf = vec![0u8; size];
        for chunk in buf.chunks_mut(8) {
            let r = self.rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
        let (stream, unordered) = match self.traffic {
            Traffic::Ordered => (0, false),
            Traffic::Unordered => (0, true),
            Traffic::MultiStream(n) => {
                let s = (self.rng.next_u64() % u64::from(n.max(1))) as u16;
                (s, self.rng.next_u64() % 4 == 0)
            }
        };
        self.queued += size as u64;
        let opts = SendOptions {
            stream,
            ppid: 0x6d73,
            unordered,
            ..SendOptions::default()
        };
        (Bytes::from(buf), opts)
    }
}

impl App for BulkSender {
    fn poll(&mut self, now: Instant, ep: &mut Endpoint, events: &[(AssociationHandle, Event)]) {
        for (h, e) in events {
            if matches!(e, Event::Association(AssociationChange::CommUp { .. }))
                && self.association.is_none()
            {
                self.association = Some(*h);
            }
        }
        let Some(h) = self.association else { return };
        let Some(a) = ep.association_mut(h) else {
            return;
        };
        loop {
            if self.next.is_none() {
                if self.queued >= self.total {
                    break;
                }
                self.next = Some(self.make());
            }
            let Some((data, opts)) = self.next.clone() else {
                break;
            };
            if a.send_capacity() < data.len() {
                break;
            }
            match a.send(data.clone(), opts) {
                Ok(()) => {
                    self.digest.add(opts.stream, opts.unordered, &data);
                    self.next = None;
                    if self.queued >= self.total {
                        self.finished_queueing = Some(now);
                    }
                }
                Err(_) => break,
            }
        }
    }
}

/// Receives everything on every association, reassembling partial
/// deliveries, and digests it.
#[derive(Debug, Default)]
pub struct Sink {
    digest: DigestState,
    partial: BTreeMap<(AssociationHandle, u16, bool), Vec<u8>>,
    /// When the last message was read.
    pub last_message: Option<Instant>,
}

impl Sink {
    /// A sink.
    pub fn new() -> Self {
        Sink::default()
    }

    /// What was received so far.
    pub fn digest(&self) -> Digest {
        self.digest.finish()
    }
}

impl App for Sink {
    fn poll(&mut self, now: Instant, ep: &mut Endpoint, _events: &[(AssociationHandle, Event)]) {
        let handles: Vec<_> = ep.associations().map(|(h, _)| h).collect();
        for h in handles {
            let Some(a) = ep.association_mut(h) else {
                continue;
            };
            while let Some(m) = a.recv() {
                let key = (h, m.stream, m.unordered);
                if !m.complete {
                    self.partial
                        .entry(key)
                        .or_default()
                        .extend_from_slice(&m.data);
                    continue;
                }
                match self.partial.remove(&key) {
                    Some(mut head) => {
                        head.extend_from_slice(&m.data);
                        self.digest.add(m.stream, m.unordered, &head);
                    }
                    None => self.digest.add(m.stream, m.unordered, &m.data),
                }
                self.last_message = Some(now);
            }
        }
    }
}

/// Sends one numbered message every `interval` on the first association
/// that comes up (like the reference text's experiment), optionally to a
/// chosen peer address.
#[derive(Debug)]
pub struct Ticker {
    interval: std::time::Duration,
    size: usize,
    next_at: Option<Instant>,
    association: Option<AssociationHandle>,
    /// Messages queued so far.
    pub sent: u64,
    /// Stop after this many messages.
    pub limit: u64,
    /// Send failures reported by the engine.
    pub failures: u64,
    /// When each message was queued.
    pub sent_at: Vec<Instant>,
}

impl Ticker {
    /// One `size`-byte message every `interval`, at most `limit` messages.
    pub fn new(interval: std::time::Duration, size: usize, limit: u64) -> Self {
        Ticker {
            interval,
            size: size.max(8),
            next_at: None,
            association: None,
            sent: 0,
            limit,
            failures: 0,
            sent_at: Vec::new(),
        }
    }
}

impl App for Ticker {
    fn next_wakeup(&self) -> Option<Instant> {
        if self.sent >= self.limit {
            return None;
        }
        self.next_at
    }

    fn poll(&mut self, now: Instant, ep: &mut Endpoint, events: &[(AssociationHandle, Event)]) {
        for (h, e) in events {
            match e {
                Event::Association(AssociationChange::CommUp { .. })
                    if self.association.is_none() =>
                {
                    self.association = Some(*h);
                    self.next_at = Some(now);
                }
                Event::SendFailed { .. } => self.failures += 1,
                _ => {}
            }
        }
        let (Some(h), Some(at)) = (self.association, self.next_at) else {
            return;
        };
        if now < at || self.sent >= self.limit {
            return;
        }
        let Some(a) = ep.association_mut(h) else {
            // The association is gone: nothing more to send.
            self.next_at = None;
            return;
        };
        let mut msg = vec![0u8; self.size];
        msg[..8].copy_from_slice(&self.sent.to_be_bytes());
        if a.send(Bytes::from(msg), SendOptions::default()).is_ok() {
            self.sent += 1;
            self.sent_at.push(now);
        }
        self.next_at = Some(at + self.interval);
    }
}

/// Receives numbered messages from a [`Ticker`] and checks that they arrive
/// in order, each once.
#[derive(Debug, Default)]
pub struct Counter {
    /// Messages received, in order of arrival (their numbers).
    pub received: Vec<u64>,
    /// When each was read.
    pub received_at: Vec<Instant>,
}

impl App for Counter {
    fn poll(&mut self, now: Instant, ep: &mut Endpoint, _events: &[(AssociationHandle, Event)]) {
        let handles: Vec<_> = ep.associations().map(|(h, _)| h).collect();
        for h in handles {
            let Some(a) = ep.association_mut(h) else {
                continue;
            };
            while let Some(m) = a.recv() {
                if let Some(n) = m.data.get(..8) {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(n);
                    self.received.push(u64::from_be_bytes(b));
                    self.received_at.push(now);
                }
            }
        }
    }
}
