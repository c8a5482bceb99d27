//! The simulator's own overhead: 50 MB of pre-built DATA packets (1452 bytes
//! of user data, 1500-byte IPv4 packets) through a clean 1 Gbit/s, 1 ms
//! link, ack-clocked by a receiver that answers every second packet with a
//! pre-built SACK. No protocol work is done, so the time measured is the
//! simulator's: event queue, link model, agent driving, and (in the
//! `wire_check_on` variant) parsing every datagram again.
//!
//! Prints one summary line per variant (packets per second and simulated
//! MB per second of wall time), then lets criterion measure.

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use msctp_sim::{ALPHA_1_V4, Agent, BETA_1_V4, Datagram, IcmpError, Lab, LinkConfig, SimConfig};
use msctp_wire::chunk::{Data, Sack};
use msctp_wire::{Chunk, CommonHeader, Packet, Ssn, Tsn};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Bytes to move.
const TOTAL: usize = 50_000_000;
/// User data per packet: 1452 + 16 (DATA) + 12 (common) + 20 (IPv4) = 1500.
const USER: usize = 1452;
/// Packets in flight (a bandwidth-delay product of 2 ms at 1 Gbit/s is 167).
const WINDOW: u32 = 256;

const HEADER: CommonHeader = CommonHeader {
    src_port: 5000,
    dst_port: 5001,
    verification_tag: 1,
};

fn data_packets() -> Vec<Bytes> {
    let user = Bytes::from(vec![0xab; USER]);
    (0..TOTAL.div_ceil(USER) as u32)
        .map(|tsn| {
            Packet {
                header: HEADER,
                chunks: vec![Chunk::Data(Data {
                    tsn: Tsn(tsn),
                    stream: 0,
                    ssn: Ssn(tsn as u16),
                    ppid: 0,
                    unordered: false,
                    begin: true,
                    end: true,
                    immediate: false,
                    payload: user.clone(),
                })],
            }
            .emit()
            .into()
        })
        .collect()
}

fn sack_packet() -> Bytes {
    Packet {
        header: HEADER,
        chunks: vec![Chunk::Sack(Sack {
            cum_tsn_ack: Tsn(0),
            a_rwnd: 1 << 20,
            gap_blocks: Vec::new(),
            dup_tsns: Vec::new(),
        })],
    }
    .emit()
    .into()
}

/// Sends the packets while it has credit; every SACK gives two back.
struct Sender {
    packets: Vec<Bytes>,
    next: usize,
    credit: u32,
}

impl Agent for Sender {
    fn handle_datagram(&mut self, _: Instant, _: Datagram) {
        self.credit += 2;
    }
    fn handle_icmp(&mut self, _: Instant, _: IcmpError) {}
    fn poll_transmit(&mut self, _: Instant) -> Option<Datagram> {
        if self.credit == 0 || self.next == self.packets.len() {
            return None;
        }
        self.credit -= 1;
        self.next += 1;
        Some(Datagram {
            src: ALPHA_1_V4,
            dst: BETA_1_V4,
            payload: self.packets[self.next - 1].clone(),
        })
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        None
    }
    fn handle_timeout(&mut self, _: Instant) {}
}

/// Counts what arrives and answers every second packet with a SACK.
struct Receiver {
    sack: Bytes,
    packets: u64,
    bytes: u64,
    owed: bool,
    last: Option<Instant>,
}

impl Agent for Receiver {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        self.last = Some(now);
        self.packets += 1;
        self.bytes += d.payload.len() as u64;
        if self.packets % 2 == 0 {
            self.owed = true;
        }
    }
    fn handle_icmp(&mut self, _: Instant, _: IcmpError) {}
    fn poll_transmit(&mut self, _: Instant) -> Option<Datagram> {
        if !self.owed {
            return None;
        }
        self.owed = false;
        Some(Datagram {
            src: BETA_1_V4,
            dst: ALPHA_1_V4,
            payload: self.sack.clone(),
        })
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        None
    }
    fn handle_timeout(&mut self, _: Instant) {}
}

/// One transfer; returns the packets delivered and the virtual time the
/// last one arrived.
fn transfer(packets: &[Bytes], sack: &Bytes, check_wire: bool) -> (u64, Duration) {
    let config = SimConfig {
        check_wire,
        ..SimConfig::fast()
    };
    let link = LinkConfig {
        delay: Duration::from_millis(1),
        bandwidth: Some(1_000_000_000),
        ..LinkConfig::default()
    };
    let Lab {
        mut sim,
        alpha,
        beta,
        ..
    } = Lab::with_config(1, config, link);
    sim.set_agent(
        alpha,
        Sender {
            packets: packets.to_vec(),
            next: 0,
            credit: WINDOW,
        },
    );
    sim.set_agent(
        beta,
        Receiver {
            sack: sack.clone(),
            packets: 0,
            bytes: 0,
            owed: false,
            last: None,
        },
    );
    sim.run_for(Duration::from_secs(10));
    let receiver = sim.agent::<Receiver>(beta);
    assert_eq!(receiver.packets, packets.len() as u64, "everything arrives");
    black_box(receiver.bytes);
    let done = receiver.last.map_or(Duration::ZERO, |t| sim.time_of(t));
    (receiver.packets, done)
}

fn throughput(c: &mut Criterion) {
    let packets = data_packets();
    let sack = sack_packet();
    let user_bytes = (packets.len() * USER) as f64;
    for (name, check) in [("wire_check_off", false), ("wire_check_on", true)] {
        // One timed run for a human-readable summary.
        let started = Instant::now();
        let (delivered, virtual_time) = transfer(&packets, &sack, check);
        let wall = started.elapsed().as_secs_f64();
        println!(
            "sim 50 MB over 1 Gbit/s 1 ms ({name}): {delivered} packets, {:.3} s virtual, \
             {:.3} s wall: {:.0} packets/s, {:.0} MB/s of simulated user data",
            virtual_time.as_secs_f64(),
            wall,
            delivered as f64 / wall,
            user_bytes / wall / 1e6
        );
        let mut group = c.benchmark_group("sim_50MB_1Gbit");
        group.throughput(Throughput::Elements(packets.len() as u64));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(5));
        group.bench_function(name, |b| b.iter(|| transfer(&packets, &sack, check)));
        group.finish();
    }
}

mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion_group!(benches, throughput);
}

criterion_main!(group::benches);
