//! Sender-side SACK processing cost (RFC 9260 §3.3.4, §6.2.1): a normal SACK
//! with a few gap blocks, and a hostile 64 KB SACK of 16 000 gap blocks each
//! claiming offsets 1..=65535, both against ten outstanding chunks. The cost
//! must follow the number of blocks and chunks, not the ranges claimed.

use std::hint::black_box;
use std::net::IpAddr;
use std::time::Instant;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use msctp_proto::{AssociationHandle, Config, Endpoint, SendOptions};
use msctp_wire::chunk::{GapBlock, Sack};
use msctp_wire::{Chunk, CommonHeader, Packet, Tsn};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Delivers every packet between the two endpoints until both are quiet,
/// dropping what the client sends when `drop_client` is set.
fn shuttle(now: Instant, c: &mut Endpoint, s: &mut Endpoint, drop_client: bool) {
    loop {
        let mut any = false;
        while let Some(t) = c.poll_transmit(now) {
            any = true;
            if !drop_client {
                s.handle(now, t.destination, t.source, t.payload);
            }
        }
        while let Some(t) = s.poll_transmit(now) {
            any = true;
            c.handle(now, t.destination, t.source, t.payload);
        }
        if !any {
            break;
        }
    }
}

/// An association with ten DATA chunks outstanding (lost on the way), and
/// the TSN just below them.
fn setup() -> (Endpoint, AssociationHandle, Instant, Tsn) {
    // A base for the virtual time of this bench; nothing else reads a clock.
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let cfg = |seed: u64| Config {
        rng_seed: seed,
        cookie_secret: [seed as u8; 32],
        ..Config::default()
    };
    let mut c = Endpoint::new(cfg(1), vec![ip("192.0.2.1")], 5001, now);
    let mut s = Endpoint::new(cfg(2), vec![ip("192.0.2.2")], 5001, now);
    s.listen(true);
    let h = c.connect(now, &[ip("192.0.2.2")], 5001).unwrap();
    shuttle(now, &mut c, &mut s, false);
    let a = c.association_mut(h).unwrap();
    for i in 0..10u8 {
        a.send(Bytes::from(vec![i; 100]), SendOptions::default())
            .unwrap();
    }
    // The first TSN sent: the peer's cumulative ack in its COOKIE ACK
    // exchange is not visible here, so find it from the DATA itself.
    let mut first = None;
    while let Some(t) = c.poll_transmit(now) {
        let p = Packet::parse(t.payload).unwrap();
        for ch in p.chunks {
            if let Chunk::Data(d) = ch {
                first.get_or_insert(d.tsn);
            }
        }
    }
    let first = first.expect("DATA sent");
    (c, h, now, Tsn(first.0.wrapping_sub(1)))
}

fn sack_bytes(vtag: u32, cum: Tsn, gaps: Vec<GapBlock>) -> Bytes {
    Bytes::from(
        Packet {
            header: CommonHeader {
                src_port: 5001,
                dst_port: 5001,
                verification_tag: vtag,
            },
            chunks: vec![Chunk::Sack(Sack {
                cum_tsn_ack: cum,
                a_rwnd: 1 << 20,
                gap_blocks: gaps,
                dup_tsns: Vec::new(),
            })],
        }
        .emit(),
    )
}

fn bench(c: &mut Criterion) {
    let (mut ep, h, now, cum) = setup();
    let vtag = ep.association(h).unwrap().local_vtag();
    let normal = sack_bytes(
        vtag,
        cum,
        vec![GapBlock { start: 2, end: 4 }, GapBlock { start: 6, end: 9 }],
    );
    let hostile = sack_bytes(
        vtag,
        cum,
        vec![
            GapBlock {
                start: 1,
                end: 65535
            };
            16_000
        ],
    );
    let (local, remote) = (ip("192.0.2.1"), ip("192.0.2.2"));
    let mut g = c.benchmark_group("sack");
    g.sample_size(10);
    g.bench_function("normal_2_blocks", |b| {
        b.iter(|| ep.handle(now, local, remote, black_box(normal.clone())))
    });
    g.bench_function("hostile_16000_blocks", |b| {
        b.iter(|| ep.handle(now, local, remote, black_box(hostile.clone())))
    });
    g.finish();
    assert!(ep.association(h).is_some(), "the association survived");
}

mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion_group!(benches, bench);
}

criterion_main!(group::benches);
