//! Codec benchmarks: parse + CRC32c verify and emit + CRC32c fill, for a full
//! 1500-byte-MTU DATA packet and for a SACK with 20 gap ack blocks.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use msctp_wire::chunk::{Data, GapBlock, Sack};
use msctp_wire::{Chunk, CommonHeader, Packet, Ssn, Tsn};

/// IPv4 (20) + SCTP common header (12) + DATA header (16) leave 1452 bytes of
/// user data in a 1500-byte packet.
const DATA_PAYLOAD: usize = 1500 - 20 - 12 - 16;

fn header() -> CommonHeader {
    CommonHeader {
        src_port: 5001,
        dst_port: 5001,
        verification_tag: 0xdead_beef,
    }
}

fn data_packet() -> Packet {
    Packet {
        header: header(),
        chunks: vec![Chunk::Data(Data {
            tsn: Tsn(1234),
            stream: 1,
            ssn: Ssn(7),
            ppid: 46,
            unordered: false,
            begin: true,
            end: true,
            immediate: false,
            payload: Bytes::from(vec![0x5a; DATA_PAYLOAD]),
        })],
    }
}

fn sack_packet() -> Packet {
    Packet {
        header: header(),
        chunks: vec![Chunk::Sack(Sack {
            cum_tsn_ack: Tsn(1000),
            a_rwnd: 1 << 20,
            gap_blocks: (0..20)
                .map(|i| GapBlock {
                    start: 2 + 4 * i,
                    end: 3 + 4 * i,
                })
                .collect(),
            dup_tsns: vec![],
        })],
    }
}

fn bench(c: &mut Criterion) {
    for (name, packet) in [
        ("data_1500", data_packet()),
        ("sack_20_gaps", sack_packet()),
    ] {
        let wire = Bytes::from(packet.emit());
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(wire.len() as u64));
        g.bench_function("parse_verify", |b| {
            b.iter(|| Packet::parse(black_box(wire.clone())).unwrap())
        });
        let mut out = Vec::with_capacity(2048);
        g.bench_function("emit_fill", |b| {
            b.iter(|| {
                out.clear();
                black_box(&packet).emit_into(&mut out);
                black_box(out.len())
            })
        });
        g.finish();
    }
}

mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion_group!(benches, bench);
}

criterion_main!(group::benches);
