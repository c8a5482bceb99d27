//! Data transfer rules: delayed SACK (RFC 9260 §6.2), fast retransmit
//! (§7.2.4), the receiver window and zero-window probing (§6.1, §6.2),
//! unrecognised chunk actions (§3.2) and INIT in every state (§5.2).

use std::time::Duration;

use bytes::Bytes;
use msctp_wire::chunk::UnknownChunk;
use msctp_wire::{Chunk, ChunkType, CommonHeader, ErrorCause, Packet};

use super::pair::*;
use crate::{AssociationHandle, Config, SendOptions, State};

fn established_with(c: Config, s: Config) -> (Pair, AssociationHandle, AssociationHandle) {
    let mut p = Pair::new(c, s);
    let h = p.connect();
    p.run_for(Duration::from_millis(100));
    let s = p.server.associations().next().unwrap().0;
    p.log.clear();
    (p, h, s)
}

fn established() -> (Pair, AssociationHandle, AssociationHandle) {
    let c = Config {
        rng_seed: 1,
        ..Config::default()
    };
    let s = Config {
        rng_seed: 2,
        ..Config::default()
    };
    established_with(c, s)
}

fn sack_times(p: &Pair) -> Vec<Duration> {
    p.log
        .iter()
        .filter(|(_, to_server, t)| !to_server && first_type(t) == 3)
        .map(|(at, _, _)| *at)
        .collect()
}

fn data_times(p: &Pair) -> Vec<Duration> {
    p.log
        .iter()
        .filter(|(_, to_server, t)| *to_server && first_type(t) == 0)
        .map(|(at, _, _)| *at)
        .collect()
}

/// RFC 9260 §6.2: a lone DATA packet is acknowledged after the delayed-SACK
/// timeout (200 ms); every second packet is acknowledged at once.
#[test]
fn delayed_sack() {
    let c = Config {
        rng_seed: 1,
        sack_immediately_when_idle: false,
        ..Config::default()
    };
    let s = Config {
        rng_seed: 2,
        ..Config::default()
    };
    let (mut p, h, _) = established_with(c, s);
    p.client
        .association_mut(h)
        .unwrap()
        .send(Bytes::from_static(b"one"), SendOptions::default())
        .unwrap();
    p.run_for(Duration::from_secs(1));
    let d = data_times(&p);
    let s = sack_times(&p);
    assert_eq!((d.len(), s.len()), (1, 1));
    let delay = s[0] - d[0];
    assert!(
        delay >= Duration::from_millis(200) && delay < Duration::from_millis(210),
        "SACK after {delay:?}"
    );
    // Two packets: the second triggers an immediate SACK.
    p.log.clear();
    let a = p.client.association_mut(h).unwrap();
    a.send(payload(1400, 1), SendOptions::default()).unwrap();
    a.send(payload(1400, 2), SendOptions::default()).unwrap();
    p.run_for(Duration::from_secs(1));
    let d = data_times(&p);
    let s = sack_times(&p);
    assert_eq!(d.len(), 2);
    assert!(s[0] - d[1] < Duration::from_millis(10), "immediate SACK");
}

/// RFC 7053 §4.1: by default the last DATA chunk sent when the send queue
/// runs empty carries the I bit, so a lone message is acknowledged at once
/// (an RTO below the peer's SACK delay would otherwise expire spuriously);
/// chunks followed by more queued data do not.
#[test]
fn i_bit_when_queue_runs_empty() {
    let (mut p, h, _) = established();
    let a = p.client.association_mut(h).unwrap();
    for i in 0..3 {
        a.send(payload(1000, i), SendOptions::default()).unwrap();
    }
    p.run_for(Duration::from_secs(1));
    let flags: Vec<bool> = p
        .log
        .iter()
        .filter(|(_, to_server, _)| *to_server)
        .flat_map(|(_, _, t)| Packet::parse(t.payload.clone()).unwrap().chunks)
        .filter_map(|c| match c {
            Chunk::Data(d) => Some(d.immediate),
            _ => None,
        })
        .collect();
    assert_eq!(flags, vec![false, false, true]);
    let d = data_times(&p);
    let s = sack_times(&p);
    assert!(s.last().unwrap().saturating_sub(*d.last().unwrap()) < Duration::from_millis(10));
}

/// RFC 7053: the I bit asks for an immediate SACK.
#[test]
fn sack_immediately_bit() {
    let (mut p, h, _) = established();
    let opts = SendOptions {
        immediate: true,
        ..SendOptions::default()
    };
    p.client
        .association_mut(h)
        .unwrap()
        .send(Bytes::from_static(b"now"), opts)
        .unwrap();
    p.run_for(Duration::from_secs(1));
    let d = data_times(&p);
    let s = sack_times(&p);
    assert!(s[0] - d[0] < Duration::from_millis(10));
}

/// RFC 9260 §7.2.4: a lost DATA chunk followed by more data is retransmitted
/// after three miss indications, well before T3-rtx (1 s) would fire, and
/// the sender's cwnd on that path is reduced.
#[test]
fn fast_retransmit() {
    let (mut p, h, s) = established();
    let mut n = 0;
    p.drop = Some(Box::new(move |t| {
        if first_type(t) == 0 {
            n += 1;
            return n == 2;
        }
        false
    }));
    let a = p.client.association_mut(h).unwrap();
    for i in 0..10 {
        a.send(payload(1000, i), SendOptions::default()).unwrap();
    }
    p.run_for(Duration::from_millis(300));
    let got = std::iter::from_fn(|| p.server.association_mut(s).unwrap().recv()).count();
    assert_eq!(got, 10, "all delivered within 300 ms, so not by T3-rtx");
    let tsns: Vec<_> = p
        .log
        .iter()
        .filter(|(_, to_server, t)| *to_server && first_type(t) == 0)
        .flat_map(|(_, _, t)| {
            Packet::parse(t.payload.clone())
                .unwrap()
                .chunks
                .into_iter()
                .filter_map(|c| match c {
                    Chunk::Data(d) => Some(d.tsn),
                    _ => None,
                })
        })
        .collect();
    let second = tsns[1];
    assert_eq!(
        tsns.iter().filter(|t| **t == second).count(),
        2,
        "retransmitted once, same TSN"
    );
    let path = &p.client.association(h).unwrap().paths()[0];
    assert_eq!(path.counters.retransmissions, 1);
    assert!(path.ssthresh < 1 << 20, "ssthresh reduced by fast recovery");
}

/// RFC 9260 §6.2, §6.1 rule A: a receiver that does not read closes its
/// window; the sender stops, probes with one chunk, and resumes when the
/// application reads and the window reopens.
#[test]
fn zero_window_and_reopen() {
    let c = Config {
        rng_seed: 1,
        ..Config::default()
    };
    let s = Config {
        rng_seed: 2,
        receive_window: 20_000,
        ..Config::default()
    };
    let (mut p, h, s) = established_with(c, s);
    let a = p.client.association_mut(h).unwrap();
    for i in 0..40 {
        a.send(payload(1000, i), SendOptions::default()).unwrap();
    }
    p.run_for(Duration::from_secs(3));
    let server = p.server.association(s).unwrap();
    let held = server.readable();
    assert!(
        held <= 21,
        "receiver holds at most its window: {held} messages"
    );
    assert!(held >= 15, "the window was used: {held}");
    // Read everything, repeatedly, until all 40 arrived.
    let mut got = 0;
    p.run_while(Duration::from_secs(60), |p| {
        let a = p.server.association_mut(s).unwrap();
        while a.recv().is_some() {
            got += 1;
        }
        got < 40
    });
    assert_eq!(got, 40);
}

/// RFC 9260 §3.2: unrecognised chunk types: `00` stops processing silently,
/// `01` stops and reports, `10` skips, `11` skips and reports (with an ERROR
/// quoting the chunk in an Unrecognized Chunk Type cause).
#[test]
fn unknown_chunk_actions() {
    let cases = [
        (0x3f_u8, false, false),
        (0x7f, false, true),
        (0xbf, true, false),
        (0xff, true, true),
    ];
    for (ty, continues, reports) in cases {
        let (mut p, _h, s) = established();
        let a = p.server.association(s).unwrap();
        let tag = a.local_vtag();
        let next = a.recv.as_ref().unwrap().cum_tsn().next();
        let pk = Packet {
            header: CommonHeader {
                src_port: 5001,
                dst_port: 5001,
                verification_tag: tag,
            },
            chunks: vec![
                Chunk::Unknown(UnknownChunk {
                    ty: ChunkType(ty),
                    flags: 0,
                    value: Bytes::from_static(b"abc"),
                }),
                Chunk::Data(msctp_wire::chunk::Data {
                    tsn: next,
                    stream: 0,
                    ssn: msctp_wire::Ssn(0),
                    ppid: 0,
                    unordered: false,
                    begin: true,
                    end: true,
                    immediate: true,
                    payload: Bytes::from_static(b"after"),
                }),
            ],
        };
        inject(&mut p, true, A1, B1, &pk);
        let now = p.now;
        let mut errors = 0;
        while let Some(t) = p.server.poll_transmit(now) {
            for c in Packet::parse(t.payload).unwrap().chunks {
                if let Chunk::Error(e) = c {
                    assert!(
                        matches!(&e.causes[..], [ErrorCause::UnrecognizedChunkType(b)] if b[0] == ty)
                    );
                    errors += 1;
                }
            }
        }
        assert_eq!(errors > 0, reports, "type {ty:#x} reports");
        let delivered = p.server.association(s).unwrap().readable() > 0;
        assert_eq!(delivered, continues, "type {ty:#x} continues");
        assert_eq!(p.server.association(s).unwrap().state(), State::Established);
    }
}

/// RFC 9260 §5.2.1, §5.2.2, §9.2: an INIT from the peer of an existing
/// association is answered in every state without disturbing it: INIT ACK
/// in the setup and established states, a retransmitted SHUTDOWN ACK in
/// SHUTDOWN-ACK-SENT.
#[test]
fn init_in_every_state() {
    let (mut p, h, _s) = established();
    let init = Packet {
        header: CommonHeader {
            src_port: 5001,
            dst_port: 5001,
            verification_tag: 0,
        },
        chunks: vec![Chunk::Init(msctp_wire::chunk::Init {
            initiate_tag: 0x0bad_cafe,
            a_rwnd: 100_000,
            outbound_streams: 2,
            inbound_streams: 2,
            initial_tsn: msctp_wire::Tsn(9),
            params: vec![],
        })],
    };
    // ESTABLISHED: INIT ACK with a new tag and tie-tags, association kept.
    let tag = p.client.association(h).unwrap().local_vtag();
    inject(&mut p, false, B1, A1, &init);
    let t = p.client.poll_transmit(p.now).unwrap();
    let r = Packet::parse(t.payload).unwrap();
    let Chunk::InitAck(ack) = &r.chunks[0] else {
        panic!("{r:?}")
    };
    assert_ne!(ack.initiate_tag, tag);
    assert_eq!(r.header.verification_tag, 0x0bad_cafe);
    assert_eq!(p.client.association(h).unwrap().state(), State::Established);
    // SHUTDOWN-ACK-SENT: the INIT is discarded and the SHUTDOWN ACK resent.
    let (mut p, h) = {
        let (mut p, h, s) = established();
        p.drop = Some(Box::new(|t| first_type(t) == 8 || first_type(t) == 14));
        let now = p.now;
        p.server.association_mut(s).unwrap().shutdown(now);
        p.run_for(Duration::from_millis(20));
        (p, h)
    };
    assert_eq!(
        p.client.association(h).unwrap().state(),
        State::ShutdownAckSent
    );
    inject(&mut p, false, B1, A1, &init);
    let t = p.client.poll_transmit(p.now).unwrap();
    let r = Packet::parse(t.payload).unwrap();
    assert!(matches!(r.chunks[..], [Chunk::ShutdownAck]), "{r:?}");
}
