//! Toy agents and packet builders for the scenario tests.

use bytes::Bytes;
use msctp_sim::{Agent, Datagram, IcmpError};
use msctp_wire::chunk::{Data, Init};
use msctp_wire::{Chunk, CommonHeader, Packet, Ssn, Tsn};
use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The common header every test packet carries.
pub const HEADER: CommonHeader = CommonHeader {
    src_port: 5000,
    dst_port: 5001,
    verification_tag: 0x0102_0304,
};

/// A valid SCTP packet with one DATA chunk of TSN `tsn` and `user_len` bytes
/// of user data (so `28 + user_len` bytes with padding to 4).
pub fn data_packet(tsn: u32, user_len: usize) -> Bytes {
    let payload: Vec<u8> = (0..user_len).map(|i| (i as u32 ^ tsn) as u8).collect();
    Packet {
        header: HEADER,
        chunks: vec![Chunk::Data(Data {
            tsn: Tsn(tsn),
            stream: 0,
            ssn: Ssn(0),
            ppid: 0,
            unordered: false,
            begin: true,
            end: true,
            immediate: false,
            payload: Bytes::from(payload),
        })],
    }
    .emit()
    .into()
}

/// The TSN of the first DATA chunk of an SCTP packet.
pub fn tsn_of(payload: &Bytes) -> u32 {
    let packet = Packet::parse(payload.clone()).expect("valid packet");
    match &packet.chunks[0] {
        Chunk::Data(d) => d.tsn.0,
        other => panic!("not DATA: {other:?}"),
    }
}

/// A valid SCTP packet with one INIT (or INIT ACK) chunk.
pub fn init_packet(ack: bool) -> Bytes {
    let init = Init {
        initiate_tag: 0xdead_beef,
        a_rwnd: 65_536,
        outbound_streams: 10,
        inbound_streams: 10,
        initial_tsn: Tsn(1),
        params: Vec::new(),
    };
    let chunk = if ack {
        Chunk::InitAck(init)
    } else {
        Chunk::Init(init)
    };
    Packet {
        header: HEADER,
        chunks: vec![chunk],
    }
    .emit()
    .into()
}

/// True if the packet's first chunk is an INIT ACK.
pub fn is_init_ack(payload: &Bytes) -> bool {
    matches!(
        Packet::parse(payload.clone()).map(|p| p.chunks.into_iter().next()),
        Ok(Some(Chunk::InitAck(_)))
    )
}

/// Sends scripted datagrams at given virtual times, optionally echoes what
/// it receives, and records everything with the virtual time it happened.
pub struct Scripted {
    start: Instant,
    /// Datagrams to send, by time (stable for equal times).
    script: VecDeque<(Duration, Datagram)>,
    ready: VecDeque<Datagram>,
    /// Answer every datagram with the same payload, addresses swapped.
    pub echo: bool,
    /// Datagrams received and when.
    pub received: Vec<(Duration, Datagram)>,
    /// ICMP errors received and when.
    pub icmp: Vec<(Duration, IcmpError)>,
    /// Times `handle_timeout` was called.
    pub timeouts: Vec<Duration>,
}

impl Scripted {
    /// An agent with nothing to send; `start` is the simulation's start.
    pub fn new(start: Instant) -> Scripted {
        Scripted {
            start,
            script: VecDeque::new(),
            ready: VecDeque::new(),
            echo: false,
            received: Vec::new(),
            icmp: Vec::new(),
            timeouts: Vec::new(),
        }
    }

    /// An echoing agent.
    pub fn echo(start: Instant) -> Scripted {
        Scripted {
            echo: true,
            ..Scripted::new(start)
        }
    }

    /// Sends `datagram` at virtual time `at`.
    pub fn at(mut self, at: Duration, datagram: Datagram) -> Scripted {
        self.schedule(at, datagram);
        self
    }

    /// Sends `n` DATA packets of `user_len` bytes with TSNs `0..n`, the
    /// first at `first`, then every `every`.
    pub fn burst(
        mut self,
        first: Duration,
        every: Duration,
        n: u32,
        src: IpAddr,
        dst: IpAddr,
        user_len: usize,
    ) -> Scripted {
        for i in 0..n {
            let d = Datagram::new(src, dst, data_packet(i, user_len));
            self.schedule(first + every * i, d);
        }
        self
    }

    /// Sends `datagram` at `at` (inserted after any datagram at that time).
    pub fn schedule(&mut self, at: Duration, datagram: Datagram) {
        let i = self.script.partition_point(|(t, _)| *t <= at);
        self.script.insert(i, (at, datagram));
    }

    /// Sends `datagram` at the next poll.
    pub fn send_now(&mut self, datagram: Datagram) {
        self.ready.push_back(datagram);
    }

    fn time(&self, now: Instant) -> Duration {
        now - self.start
    }

    /// Received TSNs, in arrival order.
    pub fn tsns(&self) -> Vec<u32> {
        self.received
            .iter()
            .map(|(_, d)| tsn_of(&d.payload))
            .collect()
    }
}

impl Agent for Scripted {
    fn handle_datagram(&mut self, now: Instant, datagram: Datagram) {
        if self.echo {
            self.ready.push_back(Datagram {
                src: datagram.dst,
                dst: datagram.src,
                payload: datagram.payload.clone(),
            });
        }
        self.received.push((self.time(now), datagram));
    }

    fn handle_icmp(&mut self, now: Instant, error: IcmpError) {
        self.icmp.push((self.time(now), error));
    }

    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        if let Some(d) = self.ready.pop_front() {
            return Some(d);
        }
        let due = matches!(self.script.front(), Some((at, _)) if *at <= self.time(now));
        if due {
            self.script.pop_front().map(|(_, d)| d)
        } else {
            None
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.script.front().map(|(at, _)| self.start + *at)
    }

    fn handle_timeout(&mut self, now: Instant) {
        let t = self.time(now);
        self.timeouts.push(t);
    }
}
