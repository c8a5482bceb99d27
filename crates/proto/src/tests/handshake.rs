//! Handshake edge cases of RFC 9260 §5.1 and §5.2: lost packets,
//! collisions, restarts, stale and forged cookies.

use std::time::Duration;

use bytes::Bytes;
use msctp_wire::chunk::CookieEcho;
use msctp_wire::{Chunk, CommonHeader, ErrorCause, Packet};

use super::pair::*;
use crate::{AssociationChange, CloseReason, Config, Event, State};

fn comm_up(events: &[(crate::AssociationHandle, Event)]) -> usize {
    events
        .iter()
        .filter(|(_, e)| matches!(e, Event::Association(AssociationChange::CommUp { .. })))
        .count()
}

/// Drops the first packet whose first chunk has type `ty`.
fn drop_first(p: &mut Pair, ty: u8) {
    let mut done = false;
    p.drop = Some(Box::new(move |t| {
        let hit = !done && first_type(t) == ty;
        done |= hit;
        hit
    }));
}

/// RFC 9260 §5.1: a lost INIT ACK is recovered by T1-init; the responder
/// answers the retransmitted INIT statelessly again.
#[test]
fn lost_init_ack() {
    let mut p = Pair::default_pair();
    drop_first(&mut p, 2);
    p.connect();
    p.run_for(Duration::from_secs(3));
    assert_eq!(comm_up(&p.client_events), 1);
    assert_eq!(comm_up(&p.server_events), 1);
    assert_eq!(p.server.stats().init_acks_sent, 2);
    assert_eq!(p.server.associations().count(), 1);
}

/// RFC 9260 §5.1: a lost COOKIE ECHO is recovered by T1-cookie.
#[test]
fn lost_cookie_echo() {
    let mut p = Pair::default_pair();
    drop_first(&mut p, 10);
    p.connect();
    p.run_for(Duration::from_secs(3));
    assert_eq!(comm_up(&p.client_events), 1);
    assert_eq!(comm_up(&p.server_events), 1);
}

/// RFC 9260 §5.1, §5.2.4 case D: a lost COOKIE ACK makes the initiator
/// resend the COOKIE ECHO; the responder, already established, answers with
/// another COOKIE ACK and creates no second association.
#[test]
fn lost_cookie_ack() {
    let mut p = Pair::default_pair();
    drop_first(&mut p, 11);
    let h = p.connect();
    p.run_for(Duration::from_secs(3));
    assert_eq!(comm_up(&p.client_events), 1);
    assert_eq!(comm_up(&p.server_events), 1, "no second COMM_UP");
    assert_eq!(p.server.associations().count(), 1);
    assert_eq!(p.client.association(h).unwrap().state(), State::Established);
}

/// RFC 9260 §5.2.1, §5.2.4 case B/D: both ends send INIT at once; each
/// answers the other's INIT with its own tag, and exactly one association
/// forms on each side.
#[test]
fn init_collision() {
    let mut p = Pair::default_pair();
    p.client.listen(true);
    let now = p.now;
    let hc = p.client.connect(now, &[ip(B1)], 5001).unwrap();
    let hs = p.server.connect(now, &[ip(A1)], 5001).unwrap();
    p.run_for(Duration::from_secs(5));
    let c = p.client.association(hc).unwrap();
    let s = p.server.association(hs).unwrap();
    assert_eq!(c.state(), State::Established);
    assert_eq!(s.state(), State::Established);
    assert_eq!(c.local_vtag(), s.peer_vtag());
    assert_eq!(c.peer_vtag(), s.local_vtag());
    assert_eq!(p.client.associations().count(), 1);
    assert_eq!(p.server.associations().count(), 1);
    // Data flows both ways on the collided association.
    let now = p.now;
    let _ = now;
    p.client
        .association_mut(hc)
        .unwrap()
        .send(Bytes::from_static(b"hello"), Default::default())
        .unwrap();
    p.run_for(Duration::from_millis(100));
    let m = p.server.association_mut(hs).unwrap().recv().unwrap();
    assert_eq!(&m.data[..], b"hello");
}

/// RFC 9260 §5.2.4 case A: the peer restarts (new endpoint state, same
/// addresses and port); the existing association is restarted with the new
/// tags and the application is told (SCTP_RESTART).
#[test]
fn peer_restart() {
    let mut p = Pair::default_pair();
    let old = p.connect();
    p.run_for(Duration::from_millis(100));
    let server_h = p.server.associations().next().unwrap().0;
    let old_tag = p.server.association(server_h).unwrap().local_vtag();
    // The client host "reboots": a new endpoint with a different seed.
    let cfg = Config {
        rng_seed: 77,
        cookie_secret: [7; 32],
        ..Config::default()
    };
    p.client = crate::Endpoint::new(cfg, vec![ip(A1), ip(A2)], 5001, p.now);
    let _ = old;
    let h = p.connect();
    p.run_for(Duration::from_secs(1));
    assert_eq!(p.client.association(h).unwrap().state(), State::Established);
    assert!(
        p.server_events
            .iter()
            .any(|(hh, e)| *hh == server_h && *e == Event::Association(AssociationChange::Restart))
    );
    let s = p.server.association(server_h).unwrap();
    assert_ne!(s.local_vtag(), old_tag, "new tags after restart");
    assert_eq!(s.peer_vtag(), p.client.association(h).unwrap().local_vtag());
    assert_eq!(p.server.associations().count(), 1);
}

/// RFC 9260 §5.1.5, §5.2.6: a COOKIE ECHO arriving after the cookie's
/// lifespan is answered with a Stale Cookie error; the initiator starts over
/// (asking for a Cookie Preservative), and gives up after
/// Max.Init.Retransmits attempts when the peer grants no extension.
#[test]
fn stale_cookie() {
    let c = Config {
        rng_seed: 1,
        ..Config::default()
    };
    let s = Config {
        rng_seed: 2,
        valid_cookie_life: Duration::from_millis(1),
        max_cookie_preservative: Duration::ZERO,
        ..Config::default()
    };
    let mut p = Pair::new(c, s);
    p.connect();
    p.run_for(Duration::from_secs(600));
    assert!(p.server.stats().stale_cookies >= 1);
    let stale_errors = p
        .log
        .iter()
        .filter(|(_, to_server, t)| {
            !to_server
                && Packet::parse(t.payload.clone()).is_ok_and(|pk| {
                    pk.chunks.iter().any(|c| {
                        matches!(c, Chunk::Error(e) if matches!(e.causes[..], [ErrorCause::StaleCookie(_)]))
                    })
                })
        })
        .count();
    assert!(stale_errors >= 1);
    // The initiator answered the error with a new INIT (not COOKIE ECHO).
    let after_first_error = p
        .log
        .iter()
        .skip_while(|(_, to_server, t)| *to_server || first_type(t) != 9)
        .find(|(_, to_server, _)| *to_server)
        .map(|(_, _, t)| first_type(t));
    assert_eq!(after_first_error, Some(1));
    assert_eq!(p.server.associations().count(), 0);
    assert!(p.client_events.iter().any(|(_, e)| matches!(
        e,
        Event::Association(AssociationChange::CantStartAssociation {
            reason: CloseReason::InitRetransmissionLimit
        })
    )));
}

/// RFC 9260 §5.2.6, §3.3.2.1: after a Stale Cookie error the new INIT carries a
/// Cookie Preservative; a peer that grants it lets the handshake complete.
#[test]
fn stale_cookie_then_preservative_succeeds() {
    let c = Config {
        rng_seed: 1,
        ..Config::default()
    };
    let s = Config {
        rng_seed: 2,
        valid_cookie_life: Duration::from_millis(1),
        ..Config::default()
    };
    let mut p = Pair::new(c, s);
    let h = p.connect();
    p.run_for(Duration::from_secs(5));
    assert_eq!(p.server.stats().stale_cookies, 1);
    let inits: Vec<_> = p
        .log
        .iter()
        .filter(|(_, _, t)| first_type(t) == 1)
        .map(|(_, _, t)| Packet::parse(t.payload.clone()).unwrap())
        .collect();
    assert_eq!(inits.len(), 2);
    let Chunk::Init(second) = &inits[1].chunks[0] else {
        panic!()
    };
    assert!(
        second
            .params
            .iter()
            .any(|p| matches!(p, msctp_wire::Param::CookiePreservative(ms) if *ms >= 10))
    );
    assert_eq!(p.client.association(h).unwrap().state(), State::Established);
}

/// RFC 9260 §5.1.5 step 2: a COOKIE ECHO whose cookie does not verify is
/// discarded silently; no state, no answer.
#[test]
fn forged_cookie_rejected() {
    let mut p = Pair::default_pair();
    // A forged cookie out of nowhere.
    let forged = Packet {
        header: CommonHeader {
            src_port: 5001,
            dst_port: 5001,
            verification_tag: 0x1234_5678,
        },
        chunks: vec![Chunk::CookieEcho(CookieEcho {
            cookie: Bytes::from(vec![1u8; 200]),
        })],
    };
    inject(&mut p, true, A1, B1, &forged);
    assert!(p.server.poll_transmit(p.now).is_none());
    assert_eq!(p.server.associations().count(), 0);
    assert_eq!(p.server.stats().bad_cookies, 1);
    // A real cookie with one byte flipped in flight.
    p.mutate = Some(Box::new(|t| {
        if first_type(t) == 10 {
            let mut b = t.payload.to_vec();
            b[40] ^= 0x01;
            msctp_wire::crc32c::fill(&mut b);
            t.payload = Bytes::from(b);
        }
    }));
    p.connect();
    p.run_for(Duration::from_secs(2));
    assert_eq!(p.server.associations().count(), 0);
    assert!(p.server.stats().bad_cookies >= 2);
    assert_eq!(comm_up(&p.client_events), 0);
}

/// RFC 9260 §5.1.2: an INIT with a Host Name Address is answered with ABORT
/// carrying Unresolvable Address; msctp never resolves host names.
#[test]
fn host_name_address_aborts() {
    let mut p = Pair::default_pair();
    let init = Packet {
        header: CommonHeader {
            src_port: 5001,
            dst_port: 5001,
            verification_tag: 0,
        },
        chunks: vec![Chunk::Init(msctp_wire::chunk::Init {
            initiate_tag: 0xabcd,
            a_rwnd: 100_000,
            outbound_streams: 2,
            inbound_streams: 2,
            initial_tsn: msctp_wire::Tsn(1),
            params: vec![msctp_wire::Param::HostNameAddress(Bytes::from_static(
                b"example.invalid\0",
            ))],
        })],
    };
    inject(&mut p, true, A1, B1, &init);
    let t = p.server.poll_transmit(p.now).unwrap();
    let r = Packet::parse(t.payload).unwrap();
    assert_eq!(r.header.verification_tag, 0xabcd);
    assert!(matches!(&r.chunks[..], [Chunk::Abort(a)]
        if matches!(a.causes[..], [ErrorCause::UnresolvableAddress(_)])));
}

/// RFC 9260 §5.1.2: Supported Address Types that we cannot satisfy (an
/// IPv6-only peer talking to an IPv4-only endpoint) gets ABORT.
#[test]
fn unsatisfiable_address_types_abort() {
    let mut p = Pair::default_pair();
    let init = Packet {
        header: CommonHeader {
            src_port: 5001,
            dst_port: 5001,
            verification_tag: 0,
        },
        chunks: vec![Chunk::Init(msctp_wire::chunk::Init {
            initiate_tag: 0xabcd,
            a_rwnd: 100_000,
            outbound_streams: 2,
            inbound_streams: 2,
            initial_tsn: msctp_wire::Tsn(1),
            params: vec![msctp_wire::Param::SupportedAddressTypes(vec![6])],
        })],
    };
    inject(&mut p, true, A1, B1, &init);
    let t = p.server.poll_transmit(p.now).unwrap();
    let r = Packet::parse(t.payload).unwrap();
    assert!(matches!(&r.chunks[..], [Chunk::Abort(a)]
        if matches!(a.causes[..], [ErrorCause::UnresolvableAddress(_)])));
}

/// RFC 9260 §5.1: an INIT to an endpoint that does not listen is answered
/// with ABORT, and the initiator reports it cannot start.
#[test]
fn init_to_closed_endpoint() {
    let mut p = Pair::default_pair();
    p.server.listen(false);
    p.connect();
    p.run_for(Duration::from_millis(100));
    assert!(p.client_events.iter().any(|(_, e)| matches!(
        e,
        Event::Association(AssociationChange::CantStartAssociation {
            reason: CloseReason::PeerAborted(_)
        })
    )));
}
