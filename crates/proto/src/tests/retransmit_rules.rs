//! Sender-side SACK processing and retransmission rules (RFC 9260 §3.3.4,
//! §6.1, §6.2.1, §6.3.2, §6.3.3, §7.2.1, §7.2.4, §5.4). The peer is a real
//! endpoint whose SACKs can be withheld; the SACKs that matter are built as
//! `msctp_wire` structs and fed to the sender with `Endpoint::handle`.

use std::cell::Cell;
use std::net::IpAddr;
use std::rc::Rc;
use std::time::Duration;

use msctp_wire::chunk::{GapBlock, Sack};
use msctp_wire::{Chunk, CommonHeader, Packet, Tsn};

use super::pair::*;
use crate::{
    AssociationChange, AssociationHandle, Config, Event, PathState, SendOptions, State, Transmit,
};

fn config(seed: u64) -> Config {
    Config {
        rng_seed: seed,
        cookie_secret: [seed as u8; 32],
        ..Config::default()
    }
}

/// An established pair whose client reaches both server addresses (B2
/// confirmed by its heartbeat), with SACKs from the server withheld while
/// the returned switch is on.
fn established_with(c: Config) -> (Pair, AssociationHandle, Rc<Cell<bool>>) {
    let mut p = Pair::new(c, config(2));
    let h = p.connect();
    p.run_for(Duration::from_millis(500));
    assert!(
        p.client
            .association(h)
            .unwrap()
            .paths()
            .iter()
            .all(|x| x.state == PathState::Active),
        "both paths confirmed"
    );
    let block = Rc::new(Cell::new(false));
    let b = block.clone();
    p.drop = Some(Box::new(move |t| {
        b.get() && is_client(t.destination) && has(t, 3)
    }));
    p.log.clear();
    (p, h, block)
}

fn established() -> (Pair, AssociationHandle, Rc<Cell<bool>>) {
    established_with(config(1))
}

/// Max.Burst counts packets per event (packet arrival or timer), and a
/// `send` call is not one; tests that want the application's sends limited
/// by cwnd alone use a large Max.Burst.
fn established_unlimited() -> (Pair, AssociationHandle, Rc<Cell<bool>>) {
    established_with(Config {
        max_burst: 100,
        ..config(1)
    })
}

fn set_max_burst(p: &mut Pair, h: AssociationHandle, max_burst: u32) {
    let a = p.client.association_mut(h).unwrap();
    a.config = std::sync::Arc::new(Config {
        max_burst,
        ..(*a.config).clone()
    });
}

fn is_client(a: IpAddr) -> bool {
    a == ip(A1) || a == ip(A2)
}

fn chunks(t: &Transmit) -> Vec<Chunk> {
    Packet::parse(t.payload.clone()).unwrap().chunks
}

fn has(t: &Transmit, ty: u8) -> bool {
    chunks(t).iter().any(|c| c.chunk_type().0 == ty)
}

fn tsns(t: &Transmit) -> Vec<Tsn> {
    chunks(t)
        .into_iter()
        .filter_map(|c| match c {
            Chunk::Data(d) => Some(d.tsn),
            _ => None,
        })
        .collect()
}

/// DATA packets the client sent: (time, destination, TSNs).
fn data_packets(p: &Pair) -> Vec<(Duration, IpAddr, Vec<Tsn>)> {
    p.log
        .iter()
        .filter(|(_, to_server, _)| *to_server)
        .map(|(at, _, t)| (*at, t.destination, tsns(t)))
        .filter(|(_, _, v)| !v.is_empty())
        .collect()
}

/// How many times `tsn` was sent.
fn times_sent(p: &Pair, tsn: Tsn) -> usize {
    data_packets(p)
        .iter()
        .flat_map(|(_, _, v)| v.iter())
        .filter(|t| **t == tsn)
        .count()
}

/// A SACK from the server to the client, built as structs.
fn sack(p: &Pair, h: AssociationHandle, cum: Tsn, gaps: &[(u16, u16)]) -> Packet {
    let a = p.client.association(h).unwrap();
    Packet {
        header: CommonHeader {
            src_port: 5001,
            dst_port: 5001,
            verification_tag: a.local_vtag(),
        },
        chunks: vec![Chunk::Sack(Sack {
            cum_tsn_ack: cum,
            a_rwnd: 1 << 20,
            gap_blocks: gaps
                .iter()
                .map(|&(start, end)| GapBlock { start, end })
                .collect(),
            dup_tsns: Vec::new(),
        })],
    }
}

fn feed(p: &mut Pair, packet: &Packet) {
    inject(p, false, B1, A1, packet);
}

fn send(p: &mut Pair, h: AssociationHandle, n: usize, size: usize, to: Option<&str>) {
    let a = p.client.association_mut(h).unwrap();
    for i in 0..n {
        let opts = SendOptions {
            destination: to.map(ip),
            ..SendOptions::default()
        };
        a.send(payload(size, i as u8), opts).unwrap();
    }
}

/// (TSN, gap-acked, in flight) of every outstanding chunk of the client.
fn outstanding(p: &Pair, h: AssociationHandle) -> Vec<(Tsn, bool, bool)> {
    let a = p.client.association(h).unwrap();
    a.out
        .outstanding
        .iter()
        .map(|c| (c.data.tsn, c.acked, c.in_flight))
        .collect()
}

fn first_outstanding(p: &Pair, h: AssociationHandle) -> Tsn {
    outstanding(p, h)[0].0
}

/// RFC 9260 §3.3.4, §6.2.1: gap blocks with start 0, with end < start, or
/// wholly beyond the highest TSN sent are ignored; the others are clamped
/// to the outstanding range, and overlapping or unsorted blocks are merged.
/// None of this disturbs the association.
#[test]
fn rfc9260_3_3_4_bad_gap_blocks_ignored_others_applied() {
    let (mut p, h, block) = established();
    block.set(true);
    send(&mut p, h, 10, 100, None);
    p.run_for(Duration::from_millis(50));
    let t1 = first_outstanding(&p, h);
    assert_eq!(outstanding(&p, h).len(), 10);
    let cum = Tsn(t1.0.wrapping_sub(1));
    // Good: 5..=6 and 3..=5 (overlapping, unsorted) and 9..=40000 (clamped
    // to 9..=10). Bad: 0..=5, 7..=3, 11..=65535 (beyond highest sent).
    let s = sack(
        &p,
        h,
        cum,
        &[(5, 6), (0, 5), (7, 3), (3, 5), (11, 65535), (9, 40000)],
    );
    feed(&mut p, &s);
    let acked: Vec<u32> = outstanding(&p, h)
        .iter()
        .filter(|c| c.1)
        .map(|c| c.0.0.wrapping_sub(cum.0))
        .collect();
    assert_eq!(acked, vec![3, 4, 5, 6, 9, 10]);
    assert!(
        outstanding(&p, h).iter().all(|c| c.1 != c.2),
        "acked xor in flight"
    );
    let a = p.client.association(h).unwrap();
    assert_eq!(a.state(), State::Established);
    assert_eq!(
        a.paths()[0].flight_size,
        4 * 100,
        "offsets 1, 2, 7, 8 in flight"
    );
}

/// RFC 9260 §3.3.4, §6.2.1: a 64 KB SACK of 16 000 gap blocks each claiming
/// 1..=65535 costs work in proportion to its blocks and the outstanding
/// chunks, not to the TSN range the blocks claim; the association survives
/// and its outstanding chunks are all correctly gap-acknowledged.
#[test]
fn rfc9260_6_2_1_hostile_gap_blocks_bounded_work() {
    let (mut p, h, block) = established();
    block.set(true);
    send(&mut p, h, 10, 100, None);
    p.run_for(Duration::from_millis(50));
    let t1 = first_outstanding(&p, h);
    let cum = Tsn(t1.0.wrapping_sub(1));
    let s = sack(&p, h, cum, &vec![(1, 65535); 16_000]);
    assert!(s.emit().len() > 64_000);
    let before = p.client.association(h).unwrap().out.sack_work;
    feed(&mut p, &s);
    let a = p.client.association(h).unwrap();
    let work = a.out.sack_work - before;
    assert!(
        work <= 4 * (16_000 + 10),
        "{work} operations for 16 000 blocks and 10 chunks"
    );
    assert_eq!(a.state(), State::Established);
    let o = outstanding(&p, h);
    assert_eq!(o.len(), 10);
    assert!(
        o.iter().all(|c| c.1 && !c.2),
        "all gap-acked, none in flight"
    );
    assert_eq!(a.paths()[0].flight_size, 0);
    // RFC 9260 §6.3.2 R2: nothing outstanding in flight, T3-rtx stopped.
    assert!(!a.paths.get(0).t3_rtx.is_running());
    // The peer then acknowledges everything: the association carries on.
    block.set(false);
    let s = sack(&p, h, Tsn(cum.0.wrapping_add(10)), &[]);
    feed(&mut p, &s);
    assert!(outstanding(&p, h).is_empty());
}

/// RFC 9260 §6.3.2 R4, §6.2.1: a SACK that no longer reports a chunk it
/// gap-acked before (a renege) makes it outstanding again: it counts in
/// flight, T3-rtx runs for the destination it was sent to, it is
/// retransmitted when T3-rtx expires, and a pending shutdown completes.
#[test]
fn rfc9260_6_3_2_r4_renege_restarts_t3_and_retransmits() {
    let (mut p, h, block) = established();
    block.set(true);
    send(&mut p, h, 2, 100, None);
    p.run_for(Duration::from_millis(300));
    let t1 = first_outstanding(&p, h);
    let t2 = t1.next();
    let cum = Tsn(t1.0.wrapping_sub(1));
    // t2 gap-acked, t1 missing.
    let s = sack(&p, h, cum, &[(2, 2)]);
    feed(&mut p, &s);
    // t1 acknowledged, t2 no longer reported: reneged.
    let s = sack(&p, h, t1, &[]);
    feed(&mut p, &s);
    assert_eq!(outstanding(&p, h), vec![(t2, false, true)]);
    {
        let a = p.client.association(h).unwrap();
        assert_eq!(
            a.paths()[0].flight_size,
            100,
            "reneged chunk counts in flight"
        );
        assert!(a.paths.get(0).t3_rtx.is_running(), "R4: T3-rtx running");
        assert_eq!(a.out.outstanding[0].misses, 1, "one miss indication");
    }
    block.set(false);
    let now = p.now;
    p.client.association_mut(h).unwrap().shutdown(now);
    p.run_for(Duration::from_secs(120));
    assert!(times_sent(&p, t2) >= 2, "t2 retransmitted");
    assert!(
        p.client_events
            .iter()
            .any(|(_, e)| matches!(e, Event::Association(AssociationChange::ShutdownComplete))),
        "the pending shutdown completed"
    );
}

/// RFC 9260 §6.3.2 R3: T3-rtx is restarted only when the earliest
/// outstanding TSN sent to the path is acknowledged; a SACK gap-acking a
/// later chunk leaves it running, so the earliest chunk is retransmitted one
/// RTO after it was sent.
#[test]
fn rfc9260_6_3_2_r3_restart_only_when_earliest_acked() {
    let (mut p, h, block) = established();
    block.set(true);
    send(&mut p, h, 3, 100, None);
    p.run_for(Duration::from_millis(1));
    let deadline = p
        .client
        .association(h)
        .unwrap()
        .paths
        .get(0)
        .t3_rtx
        .deadline();
    assert!(deadline.is_some());
    p.run_for(Duration::from_millis(400));
    let t1 = first_outstanding(&p, h);
    let cum = Tsn(t1.0.wrapping_sub(1));
    // t2 and t3 gap-acked, t1 (the earliest on path 0) still missing.
    let s = sack(&p, h, cum, &[(2, 3)]);
    feed(&mut p, &s);
    let a = p.client.association(h).unwrap();
    assert_eq!(a.paths.get(0).t3_rtx.deadline(), deadline, "not restarted");
    // Acknowledging t1 (the earliest) restarts it for what is left.
    send(&mut p, h, 1, 100, None);
    p.run_for(Duration::from_millis(1));
    let s = sack(&p, h, t1, &[(1, 2)]);
    let at = p.now;
    feed(&mut p, &s);
    let a = p.client.association(h).unwrap();
    let rto = a.paths.get(0).rto();
    assert_eq!(
        a.paths.get(0).t3_rtx.deadline(),
        Some(at + rto),
        "restarted"
    );
}

/// Sets up the E3 situations: path 0 (B1) black-holed for DATA while the
/// server's SACKs are withheld, so nothing is acknowledged.
fn blackhole_b1(p: &mut Pair, block: &Rc<Cell<bool>>) -> Rc<Cell<bool>> {
    let hole = Rc::new(Cell::new(true));
    let (b, hh) = (block.clone(), hole.clone());
    p.drop = Some(Box::new(move |t| {
        (hh.get() && t.destination == ip(B1) && has(t, 0))
            || (b.get() && is_client(t.destination) && has(t, 3))
    }));
    hole
}

/// RFC 9260 §6.3.3 E3, §6.4.1: when T3-rtx expires, the earliest chunks
/// marked for retransmission that fit in one packet go at once to the
/// alternate destination, even when that destination's cwnd is full; the
/// rest wait for its cwnd.
#[test]
fn rfc9260_6_3_3_e3_one_packet_to_alternate_at_once() {
    let (mut p, h, block) = established_unlimited();
    block.set(true);
    blackhole_b1(&mut p, &block);
    // Six small chunks to B1 (lost): two packets, four chunks and two.
    send(&mut p, h, 6, 300, None);
    p.run_for(Duration::from_millis(1));
    let lost: Vec<Tsn> = outstanding(&p, h).iter().map(|c| c.0).collect();
    assert_eq!(lost.len(), 6);
    let t3 = p
        .client
        .association(h)
        .unwrap()
        .paths
        .get(0)
        .t3_rtx
        .deadline()
        .unwrap();
    // Then fill path 1's cwnd at +500 ms.
    p.run_for(Duration::from_millis(500));
    send(&mut p, h, 6, 1000, Some(B2));
    p.run_for(Duration::from_millis(10));
    {
        let a = p.client.association(h).unwrap();
        let p1 = &a.paths()[1];
        assert!(p1.flight_size >= p1.cwnd, "path 1 cwnd full: {p1:?}");
    }
    p.run_until(t3 + Duration::from_millis(3));
    let since = t3 - p.t0;
    let retx: Vec<_> = data_packets(&p)
        .into_iter()
        .filter(|(at, _, v)| *at >= since && v.iter().any(|t| lost.contains(t)))
        .collect();
    assert_eq!(retx.len(), 1, "one packet at once: {retx:?}");
    assert_eq!(retx[0].1, ip(B2), "to the alternate");
    assert_eq!(retx[0].2, lost[..4], "the earliest marked chunks that fit");
}

/// Grows path 1's cwnd with data sent to B2, returning its cwnd.
fn grow_path1(p: &mut Pair, h: AssociationHandle) -> u32 {
    for _ in 0..6 {
        send(p, h, 40, 1000, Some(B2));
        p.run_for(Duration::from_millis(60));
    }
    let a = p.client.association(h).unwrap();
    assert!(outstanding(p, h).is_empty());
    a.paths()[1].cwnd
}

/// Grows path 0's cwnd and leaves `n` chunks outstanding (lost) on it.
fn lose_on_path0(p: &mut Pair, h: AssociationHandle, block: &Rc<Cell<bool>>, n: usize) {
    for _ in 0..6 {
        send(p, h, 40, 1000, None);
        p.run_for(Duration::from_millis(60));
    }
    assert!(outstanding(p, h).is_empty());
    block.set(true);
    blackhole_b1(p, block);
    send(p, h, n, 1000, None);
    p.run_for(Duration::from_millis(1));
    assert!(
        outstanding(p, h).len() >= 12,
        "{} outstanding",
        outstanding(p, h).len()
    );
}

/// RFC 9260 §7.2.1: the alternate destination that receives the
/// retransmissions after a T3-rtx expiry had been idle (no DATA) for more
/// than an RTO, so its cwnd is reset to the initial value before they go.
#[test]
fn rfc9260_7_2_1_idle_alternate_cwnd_reset_before_retransmission() {
    let (mut p, h, block) = established_unlimited();
    let grown = grow_path1(&mut p, h);
    assert!(grown > 15_000, "path 1 cwnd grew to {grown}");
    // Path 1 idle for well over an RTO.
    p.run_for(Duration::from_secs(3));
    lose_on_path0(&mut p, h, &block, 30);
    let t3 = p
        .client
        .association(h)
        .unwrap()
        .paths
        .get(0)
        .t3_rtx
        .deadline()
        .unwrap();
    p.log.clear();
    p.run_until(t3 + Duration::from_millis(3));
    let a = p.client.association(h).unwrap();
    let p1 = &a.paths()[1];
    assert!(p1.cwnd <= 4404, "cwnd of the idle alternate reset: {p1:?}");
    let to_b2 = data_packets(&p).iter().filter(|x| x.1 == ip(B2)).count();
    assert!(
        (1..=5).contains(&to_b2),
        "{to_b2} packets within the initial cwnd"
    );
}

/// RFC 9260 §6.1: Max.Burst limits the packets of retransmissions sent in
/// response to one event (here the T3-rtx expiry) too, even when the
/// alternate's cwnd would allow many more.
#[test]
fn rfc9260_6_1_max_burst_limits_retransmissions() {
    let (mut p, h, block) = established_unlimited();
    let grown = grow_path1(&mut p, h);
    assert!(grown > 15_000, "path 1 cwnd grew to {grown}");
    lose_on_path0(&mut p, h, &block, 30);
    set_max_burst(&mut p, h, 4);
    let t3 = p
        .client
        .association(h)
        .unwrap()
        .paths
        .get(0)
        .t3_rtx
        .deadline()
        .unwrap();
    // Path 1 not idle: a small message outstanding there (its SACK is
    // withheld too), so its cwnd stays large and the §7.2.1 reset does not
    // apply; sent late enough that its own T3-rtx expires well after.
    p.run_for(Duration::from_millis(500));
    send(&mut p, h, 1, 10, Some(B2));
    p.run_for(Duration::from_millis(1));
    let p1 = p.client.association(h).unwrap().paths()[1].clone();
    assert!(p1.cwnd > 15_000 && p1.flight_size == 10, "{p1:?}");
    p.log.clear();
    p.run_until(t3 + Duration::from_millis(3));
    let to_b2 = data_packets(&p).iter().filter(|x| x.1 == ip(B2)).count();
    let max_burst = p.client.association(h).unwrap().config.max_burst as usize;
    assert_eq!(
        to_b2, max_burst,
        "retransmission packets in response to the expiry"
    );
}

/// RFC 9260 §7.2.4: miss indications follow the HTNA rule (only TSNs below
/// the highest newly acknowledged TSN count) and a chunk is fast
/// retransmitted once, whatever further miss indications it gets; gap
/// blocks arrive overlapping and unsorted.
#[test]
fn rfc9260_7_2_4_htna_and_fast_retransmit_once() {
    let (mut p, h, block) = established_unlimited();
    block.set(true);
    send(&mut p, h, 8, 1000, None);
    p.run_for(Duration::from_millis(1));
    p.run_for(Duration::from_millis(20));
    let o = outstanding(&p, h);
    assert_eq!(o.len(), 5, "initial cwnd: five chunks of 1000");
    let t1 = o[0].0;
    let cum = Tsn(t1.0.wrapping_sub(1));
    let misses = |p: &Pair| -> Vec<u32> {
        let a = p.client.association(h).unwrap();
        a.out.outstanding.iter().map(|c| c.misses).collect()
    };
    // t2 newly acked: t1 gets one miss; t3.. are above the HTNA.
    let s = sack(&p, h, cum, &[(2, 2)]);
    feed(&mut p, &s);
    assert_eq!(misses(&p)[..3], [1, 0, 0]);
    // The same SACK again: nothing newly acked, no miss counted.
    feed(&mut p, &s);
    assert_eq!(misses(&p)[0], 1);
    // t4 newly acked (blocks unsorted and overlapping): t1 and t3 miss.
    let s = sack(&p, h, cum, &[(4, 4), (2, 2), (2, 2)]);
    feed(&mut p, &s);
    assert_eq!(misses(&p)[..4], [2, 0, 1, 0]);
    let s = sack(&p, h, cum, &[(4, 5), (2, 2)]);
    let at = p.now;
    feed(&mut p, &s);
    assert_eq!(misses(&p)[..4], [3, 0, 2, 0]);
    // §7.2.4 step 4: retransmitting the first outstanding chunk sent to the
    // destination restarts T3-rtx (R3 alone would leave it running).
    let a = p.client.association(h).unwrap();
    let rto = a.paths.get(0).rto();
    assert_eq!(a.paths.get(0).t3_rtx.deadline(), Some(at + rto));
    p.run_for(Duration::from_millis(1));
    assert_eq!(times_sent(&p, t1), 2, "t1 fast retransmitted");
    let a = p.client.association(h).unwrap();
    assert!(a.out.outstanding[0].fast_retransmitted);
    // More chunks gap-acked later: t3 reaches three misses and goes, t1
    // gets more misses but is not fast retransmitted again.
    for end in 6..=8u16 {
        let s = sack(&p, h, cum, &[(2, 2), (4, end)]);
        feed(&mut p, &s);
        p.run_for(Duration::from_millis(1));
    }
    assert_eq!(times_sent(&p, t1), 2, "fast retransmitted once");
    assert_eq!(times_sent(&p, t1.next().next()), 2, "t3 fast retransmitted");
}

/// RFC 9260 §5.4: no DATA (new or retransmitted) goes to an unconfirmed
/// address: not when the application asks for it, not when it is made the
/// primary, and not as the alternate for a T3-rtx retransmission.
#[test]
fn rfc9260_5_4_no_data_to_unconfirmed_address() {
    let mut p = Pair::new(config(1), config(2));
    // Heartbeats to B2 never arrive: B2 stays unconfirmed.
    p.drop = Some(Box::new(|t| t.destination == ip(B2) && has(t, 4)));
    let h = p.connect();
    p.run_for(Duration::from_millis(500));
    let a = p.client.association_mut(h).unwrap();
    assert_eq!(a.paths()[1].state, PathState::Unconfirmed);
    send(&mut p, h, 3, 500, Some(B2));
    p.run_for(Duration::from_millis(50));
    p.client
        .association_mut(h)
        .unwrap()
        .set_primary(ip(B2))
        .unwrap();
    send(&mut p, h, 3, 500, None);
    p.run_for(Duration::from_millis(50));
    // Now lose DATA to B1: T3-rtx must retransmit to B1 again, not to B2.
    p.drop = Some(Box::new(|t| {
        (t.destination == ip(B2) && has(t, 4)) || (t.destination == ip(B1) && has(t, 0))
    }));
    send(&mut p, h, 3, 500, None);
    p.run_for(Duration::from_secs(5));
    let d = data_packets(&p);
    assert!(d.len() > 3);
    assert!(d.iter().all(|x| x.1 == ip(B1)), "all DATA to B1: {d:?}");
    let a = p.client.association(h).unwrap();
    assert_eq!(a.paths()[1].counters.data_chunks_sent, 0);
    assert_eq!(a.paths()[1].counters.retransmissions, 0);
    assert!(a.paths()[0].counters.retransmissions > 0);
}
