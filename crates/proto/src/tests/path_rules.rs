//! Path management rules measured against real peers, each checked on the
//! two-endpoint pair: error counting (RFC 9260 §8.1, §8.2, §8.3; RFC 7829
//! §5), heartbeats and shutdown (§8.3, §9.2), HB.Max.Burst pacing (§5.4),
//! and what may make a path active (§5.4, §8.3).

use std::cell::Cell;
use std::net::IpAddr;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use msctp_wire::{Chunk, Packet};

use super::pair::*;
use crate::{
    AssociationChange, CloseReason, Config, Endpoint, Event, PathState, SendOptions, Transmit,
};

fn cfg(seed: u64) -> Config {
    Config {
        rng_seed: seed,
        cookie_secret: [seed as u8; 32],
        ..Config::default()
    }
}

fn chunks(t: &Transmit) -> Vec<Chunk> {
    Packet::parse(t.payload.clone()).unwrap().chunks
}

fn has(t: &Transmit, f: fn(&Chunk) -> bool) -> bool {
    chunks(t).iter().any(f)
}

fn is_data(c: &Chunk) -> bool {
    matches!(c, Chunk::Data(_))
}

fn is_heartbeat(c: &Chunk) -> bool {
    matches!(c, Chunk::Heartbeat(_))
}

fn involves(t: &Transmit, a: &str) -> bool {
    t.destination == ip(a) || t.source == ip(a)
}

fn state_of(p: &Pair, h: crate::AssociationHandle, remote: &str) -> Option<PathState> {
    p.client
        .association(h)?
        .paths()
        .iter()
        .find(|x| x.remote == ip(remote))
        .map(|x| x.state)
}

/// Times (since the pair's start) of the client's packets to `dest` that
/// satisfy `f`, at or after `from`.
fn client_sends(p: &Pair, dest: &str, from: Duration, f: fn(&Transmit) -> bool) -> Vec<Duration> {
    p.log
        .iter()
        .filter(|(t, to_server, x)| *to_server && *t >= from && x.destination == ip(dest) && f(x))
        .map(|(t, _, _)| *t)
        .collect()
}

/// The client reaches the server only on link 1 (beta's second address
/// never answers, so it stays unconfirmed); after establishment link 1 goes
/// black and one message is sent. Returns the pair, the handle and when
/// the link failed.
fn single_path_blackout(client: Config) -> (Pair, crate::AssociationHandle, Duration) {
    let mut p = Pair::new(client, cfg(2));
    let down = Rc::new(Cell::new(false));
    let d = down.clone();
    p.drop = Some(Box::new(move |t| {
        involves(t, B2) || (d.get() && involves(t, B1))
    }));
    let h = p.connect();
    p.run_for(Duration::from_millis(100));
    assert_eq!(state_of(&p, h, B1), Some(PathState::Active));
    assert_eq!(state_of(&p, h, B2), Some(PathState::Unconfirmed));
    down.set(true);
    let failed_at = p.now - p.t0;
    p.client
        .association_mut(h)
        .unwrap()
        .send(Bytes::from_static(b"lost"), SendOptions::default())
        .unwrap();
    p.run_for(Duration::from_secs(900));
    (p, h, failed_at)
}

/// Checks the retransmission ladder of [`single_path_blackout`]: the RTO
/// doubles once per T3-rtx expiry (RFC 9260 §6.3.3 E2, up to RTO.Max), the
/// DATA is retransmitted Association.Max.Retrans (10) times (§8.1), the
/// association aborts at the next expiry, and no HEARTBEAT went to the
/// path while its data was driven by T3-rtx.
fn check_one_error_per_timeout(p: &Pair, h: crate::AssociationHandle, failed_at: Duration) {
    let data = client_sends(p, B1, failed_at, |t| has(t, is_data));
    let gaps: Vec<u64> = data
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis() as u64)
        .collect();
    assert_eq!(
        gaps,
        vec![
            1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000
        ],
        "DATA at {data:?}"
    );
    let heartbeats = client_sends(p, B1, failed_at, |t| has(t, is_heartbeat));
    assert!(
        heartbeats.is_empty(),
        "HEARTBEATs to a path driven by T3-rtx: {heartbeats:?}"
    );
    assert!(p.client.association(h).is_none());
    assert!(p.client_events.iter().any(|(_, e)| matches!(
        e,
        Event::Association(AssociationChange::CommLost {
            reason: CloseReason::RetransmissionLimit
        })
    )));
    let abort = client_sends(p, B1, failed_at, |t| {
        has(t, |c| matches!(c, Chunk::Abort(_)))
    });
    assert_eq!(
        abort.first().map(|&t| t - data[0]),
        Some(Duration::from_secs(363)),
        "ABORT at the 11th T3-rtx expiry"
    );
}

/// RFC 9260 §8.1, §8.2, §8.3, §6.3.3 E2 and RFC 7829 §5 (PF on): one error
/// per timeout. A path with outstanding data is driven by T3-rtx; a
/// heartbeat's unanswered timeout would count a second error (and a second
/// back-off) for the same timeout. Measured against a real peer before the
/// fix: DATA at +1, +3, +11, +43, +103 s and an abort at +163 s after only
/// 5 retransmissions.
#[test]
fn rfc9260_8_1_one_error_per_t3_expiry_with_pf() {
    let (p, h, failed_at) = single_path_blackout(cfg(1));
    check_one_error_per_timeout(&p, h, failed_at);
}

/// RFC 9260 §8.1, §8.2, §8.3 with SCTP-PF off: once the path is inactive
/// it is still driven by T3-rtx while data is outstanding there; no
/// HEARTBEAT rides along with each retransmission.
#[test]
fn rfc9260_8_2_no_heartbeat_with_every_retransmission_pf_off() {
    let (p, h, failed_at) = single_path_blackout(Config {
        pf_max_retrans: None,
        ..cfg(1)
    });
    check_one_error_per_timeout(&p, h, failed_at);
}

/// RFC 9260 §8.1: unanswered HEARTBEATs on the path used for data count
/// against the association, once per timeout, even when that loss moves
/// data to another path; a HEARTBEAT ACK resets the count.
#[test]
fn rfc9260_8_1_unanswered_heartbeats_on_the_data_path_count() {
    let config = Config {
        hb_interval: Duration::from_secs(1),
        ..cfg(1)
    };
    let mut p = Pair::new(config, cfg(2));
    let down = Rc::new(Cell::new(false));
    let d = down.clone();
    p.drop = Some(Box::new(move |t| d.get() && involves(t, B1)));
    let h = p.connect();
    p.run_for(Duration::from_secs(5));
    let a = p.client.association(h).unwrap();
    assert!(a.paths().iter().all(|x| x.state == PathState::Active));
    assert_eq!(a.error_count, 0);
    // Link 1 goes black, the association is idle: the heartbeat lost on
    // the primary, the path used for data, counts, though the loss moves
    // data to B2 (later HEARTBEAT ACKs on B2 reset the count again).
    down.set(true);
    let ok = p.run_while(Duration::from_secs(10), |p| {
        state_of(p, h, B1) == Some(PathState::Active)
    });
    assert!(ok, "the primary's heartbeat was never lost");
    assert_eq!(state_of(&p, h, B1), Some(PathState::PotentiallyFailed));
    let a = p.client.association(h).unwrap();
    assert_eq!(
        a.error_count, 1,
        "the lost heartbeat on the data path counted once"
    );
    // Back up: a HEARTBEAT ACK resets it.
    down.set(false);
    p.run_for(Duration::from_secs(10));
    let a = p.client.association(h).unwrap();
    assert_eq!(a.error_count, 0);
    assert!(a.paths().iter().all(|x| x.state == PathState::Active));
}

/// RFC 9260 §8.3, §9.2: no HEARTBEAT is sent once a shutdown has started:
/// not in SHUTDOWN-PENDING (data still outstanding), SHUTDOWN-SENT
/// (SHUTDOWN being retransmitted) nor SHUTDOWN-ACK-SENT (SHUTDOWN ACK
/// being retransmitted); T3-rtx and T2-shutdown keep running.
#[test]
fn rfc9260_9_2_no_heartbeats_once_shutdown_starts() {
    let config = |seed| Config {
        hb_interval: Duration::from_secs(1),
        ..cfg(seed)
    };
    let mut p = Pair::new(config(1), config(2));
    // Phase 1: SACKs are lost (SHUTDOWN-PENDING lasts); phase 2: SHUTDOWN
    // ACKs are lost (SHUTDOWN-SENT and SHUTDOWN-ACK-SENT last).
    let phase = Rc::new(Cell::new(0u8));
    let ph = phase.clone();
    p.drop = Some(Box::new(move |t| {
        let c = chunks(t);
        match ph.get() {
            1 => c.iter().any(|c| matches!(c, Chunk::Sack(_))),
            2 => c.iter().any(|c| matches!(c, Chunk::ShutdownAck)),
            _ => false,
        }
    }));
    let h = p.connect();
    p.run_for(Duration::from_secs(5));
    phase.set(1);
    let a = p.client.association_mut(h).unwrap();
    a.send(payload(500, 1), SendOptions::default()).unwrap();
    let now = p.now;
    p.client.association_mut(h).unwrap().shutdown(now);
    let shutdown_at = p.now - p.t0;
    p.run_for(Duration::from_secs(8));
    assert_eq!(
        p.client.association(h).unwrap().state(),
        crate::State::ShutdownPending
    );
    phase.set(2);
    p.run_for(Duration::from_secs(20));
    let (client_hb, server_hb) = p.log.iter().fold((0, 0), |(c, s), (t, to_server, x)| {
        if *t < shutdown_at || !has(x, is_heartbeat) {
            (c, s)
        } else if *to_server {
            (c + 1, s)
        } else {
            (c, s + 1)
        }
    });
    let client_shutdowns = p
        .log
        .iter()
        .filter(|(_, to_server, x)| *to_server && has(x, |c| matches!(c, Chunk::Shutdown(_))))
        .count();
    let server_acks = p
        .log
        .iter()
        .filter(|(_, to_server, x)| !*to_server && has(x, |c| matches!(c, Chunk::ShutdownAck)))
        .count();
    assert!(client_shutdowns >= 3, "SHUTDOWN retransmitted by T2");
    assert!(server_acks >= 3, "SHUTDOWN ACK retransmitted by T2");
    // The server is still established while the client is in
    // SHUTDOWN-PENDING; once it received SHUTDOWN it must stop too.
    let first_shutdown = p
        .log
        .iter()
        .find(|(_, to_server, x)| *to_server && has(x, |c| matches!(c, Chunk::Shutdown(_))))
        .map(|(t, _, _)| *t)
        .unwrap();
    let server_after: Vec<_> = p
        .log
        .iter()
        .filter(|(t, to_server, x)| {
            !*to_server && *t > first_shutdown + p.delay && has(x, is_heartbeat)
        })
        .map(|(t, _, _)| *t)
        .collect();
    assert_eq!(client_hb, 0, "client HEARTBEATs after shutdown()");
    assert!(
        server_after.is_empty(),
        "server HEARTBEATs after SHUTDOWN arrived: {server_after:?} ({server_hb} in all)"
    );
}

const B3: &str = "198.51.100.3";
const B4: &str = "198.51.100.4";

/// A pair whose server lists four addresses; only B1 answers.
fn four_address_pair(client: Config) -> (Pair, crate::AssociationHandle) {
    let mut p = Pair::new(client, cfg(2));
    let mut server = Endpoint::new(cfg(2), vec![ip(B1), ip(B2), ip(B3), ip(B4)], 5001, p.t0);
    server.listen(true);
    p.server = server;
    p.drop = Some(Box::new(|t| !involves(t, B1)));
    let h = p.connect();
    (p, h)
}

/// RFC 9260 §5.4 HB.Max.Burst: unconfirmed addresses are probed at most
/// HB.Max.Burst (1) per RTO, in the first round and when probes are
/// retried; addresses nobody owns stay unconfirmed, each probed about once
/// per (backed-off) RTO.
#[test]
fn rfc9260_5_4_hb_max_burst_paces_every_round() {
    let (mut p, h) = four_address_pair(cfg(1));
    p.run_for(Duration::from_secs(120));
    let mut probes: Vec<Duration> = p
        .log
        .iter()
        .filter(|(_, to_server, x)| *to_server && x.destination != ip(B1) && has(x, is_heartbeat))
        .map(|(t, _, _)| *t)
        .collect();
    probes.sort();
    for w in probes.windows(2) {
        assert!(
            w[1] - w[0] >= Duration::from_secs(1),
            "two probes of unconfirmed addresses within one RTO: {probes:?}"
        );
    }
    let a = p.client.association(h).unwrap();
    for addr in [B2, B3, B4] {
        let path = a
            .paths()
            .into_iter()
            .find(|x| x.remote == ip(addr))
            .unwrap();
        assert_eq!(path.state, PathState::Unconfirmed);
        let n = path.counters.heartbeats_sent;
        assert!((3..=40).contains(&n), "{addr}: {n} probes in 120 s");
    }
    // With HB.Max.Burst 2, two may go out together, never three.
    let (mut p, _) = four_address_pair(Config {
        hb_max_burst: 2,
        ..cfg(1)
    });
    p.run_for(Duration::from_secs(60));
    let probes: Vec<Duration> = p
        .log
        .iter()
        .filter(|(_, to_server, x)| *to_server && x.destination != ip(B1) && has(x, is_heartbeat))
        .map(|(t, _, _)| *t)
        .collect();
    for w in probes.windows(3) {
        assert!(
            w[2] - w[0] >= Duration::from_secs(1),
            "three probes within one RTO: {probes:?}"
        );
    }
    assert!(
        probes.windows(2).any(|w| w[1] == w[0]),
        "burst of 2 used: {probes:?}"
    );
}

/// RFC 9260 §5.4, §8.3: a path becomes active only after something came
/// back from it (a HEARTBEAT ACK with the nonce of the probe sent there, or
/// an acknowledgement of data sent there), never because packets arrive
/// from its address: here link 1 loses only what the client sends, while
/// the server's heartbeats, and forged SACKs and HEARTBEAT ACKs, still
/// arrive from B1.
#[test]
fn rfc9260_5_4_active_only_after_something_came_back() {
    let config = |seed| Config {
        hb_interval: Duration::from_secs(1),
        rto_min: Duration::from_millis(200),
        rto_initial: Duration::from_millis(500),
        rto_max: Duration::from_secs(2),
        ..cfg(seed)
    };
    let mut p = Pair::new(config(1), config(2));
    let forward_down = Rc::new(Cell::new(false));
    let d = forward_down.clone();
    p.drop = Some(Box::new(move |t| d.get() && t.destination == ip(B1)));
    let h = p.connect();
    p.run_for(Duration::from_secs(5));
    assert_eq!(state_of(&p, h, B2), Some(PathState::Active));
    forward_down.set(true);
    let a = p.client.association_mut(h).unwrap();
    for i in 0..20u8 {
        a.send(payload(100, i), SendOptions::default()).unwrap();
    }
    let mut was_down = false;
    let vtag = p.client.association(h).unwrap().local_vtag();
    for step in 0..300 {
        p.run_for(Duration::from_millis(100));
        let s = state_of(&p, h, B1).unwrap();
        if s != PathState::Active {
            was_down = true;
        }
        if was_down {
            assert_ne!(s, PathState::Active, "B1 active again at step {step}");
        }
        if step % 10 == 5 {
            // Forged from B1 (with the right tag): a SACK that acknowledges
            // nothing new, and a HEARTBEAT ACK with made-up info naming B1.
            let cum = p.client.association(h).unwrap().out.cum_ack;
            let sack = Packet {
                header: msctp_wire::CommonHeader {
                    src_port: 5001,
                    dst_port: 5001,
                    verification_tag: vtag,
                },
                chunks: vec![
                    Chunk::Sack(msctp_wire::chunk::Sack {
                        cum_tsn_ack: cum,
                        a_rwnd: 1 << 20,
                        gap_blocks: vec![],
                        dup_tsns: vec![],
                    }),
                    Chunk::HeartbeatAck(msctp_wire::chunk::Heartbeat {
                        info: forged_info(ip(B1)),
                    }),
                ],
            };
            inject(&mut p, false, B1, A1, &sack);
        }
    }
    assert!(was_down, "B1 never failed");
    // Packets from B1 did arrive all along.
    let from_b1 = p
        .client
        .association(h)
        .unwrap()
        .paths()
        .into_iter()
        .find(|x| x.remote == ip(B1))
        .unwrap()
        .counters
        .packets_received;
    assert!(from_b1 > 10, "{from_b1} packets from B1");
    // Link 1 works again: something comes back, B1 is active.
    forward_down.set(false);
    p.run_for(Duration::from_secs(10));
    assert_eq!(state_of(&p, h, B1), Some(PathState::Active));
}

/// A Heartbeat Info as this engine writes it, naming `address`, with a
/// nonce that was never sent.
fn forged_info(address: IpAddr) -> Bytes {
    let mut b = Vec::new();
    b.extend_from_slice(&0x0123_4567_89ab_cdefu64.to_be_bytes());
    b.extend_from_slice(&0u64.to_be_bytes());
    match address {
        IpAddr::V4(a) => {
            b.push(4);
            b.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            b.push(6);
            b.extend_from_slice(&a.octets());
        }
    }
    Bytes::from(b)
}
