//! Handshake, data transfer and teardown between two endpoints.

use std::time::Duration;

use super::pair::*;
use crate::{AddressChange, AssociationChange, CloseReason, Event, PathState, SendOptions, State};

fn comm_up(events: &[(crate::AssociationHandle, Event)]) -> bool {
    events
        .iter()
        .any(|(_, e)| matches!(e, Event::Association(AssociationChange::CommUp { .. })))
}

/// RFC 9260 §5.1: the four-way handshake establishes both sides; INIT and
/// INIT ACK list the other address of each dual-homed host (§5.1.2).
#[test]
fn handshake_establishes_both_sides() {
    let mut p = Pair::default_pair();
    let h = p.connect();
    p.run_for(Duration::from_millis(100));
    assert!(comm_up(&p.client_events), "client COMM_UP");
    assert!(comm_up(&p.server_events), "server COMM_UP");
    assert_eq!(p.client.association(h).unwrap().state(), State::Established);
    let types = p.chunk_types();
    assert_eq!(types[0], (true, vec!["INIT".to_string()]));
    assert_eq!(types[1], (false, vec!["INIT ACK".to_string()]));
    assert_eq!(types[2].1[0], "COOKIE ECHO");
    assert_eq!(types[3].1[0], "COOKIE ACK");
    // The INIT lists the client's other address, not the one it is sent from.
    let init = msctp_wire::Packet::parse(p.log[0].2.payload.clone()).unwrap();
    let msctp_wire::Chunk::Init(init) = &init.chunks[0] else {
        panic!()
    };
    let listed: Vec<_> = init.addresses().collect();
    assert_eq!(listed, vec![ip(A2)]);
    let ack = msctp_wire::Packet::parse(p.log[1].2.payload.clone()).unwrap();
    let msctp_wire::Chunk::InitAck(ack) = &ack.chunks[0] else {
        panic!()
    };
    assert_eq!(ack.addresses().collect::<Vec<_>>(), vec![ip(B2)]);
}

/// RFC 9260 §5.4: each side starts with only the handshake address
/// confirmed; the other is confirmed by HEARTBEAT / HEARTBEAT ACK.
#[test]
fn second_address_confirmed_by_heartbeat() {
    let mut p = Pair::default_pair();
    let h = p.connect();
    p.run_for(Duration::from_millis(30));
    let paths = p.client.association(h).unwrap().paths();
    assert_eq!(paths.len(), 2);
    let by = |a: &str| paths.iter().find(|x| x.remote == ip(a)).unwrap().clone();
    assert!(by(B1).primary);
    assert_eq!(by(B1).state, PathState::Active);
    p.run_for(Duration::from_secs(2));
    let paths = p.client.association(h).unwrap().paths();
    let b2 = paths.iter().find(|x| x.remote == ip(B2)).unwrap();
    assert_eq!(b2.state, PathState::Active, "confirmed by heartbeat");
    assert!(b2.last_heartbeat_rtt.is_some());
    assert!(p.client_events.iter().any(|(_, e)| matches!(
        e,
        Event::PeerAddress { change: AddressChange::Confirmed, address, .. } if *address == ip(B2)
    )));
    let server = p.server.associations().next().unwrap().1;
    assert!(server.paths().iter().all(|x| x.state == PathState::Active));
}

/// RFC 9260 §6: ordered messages of all sizes (fragmented beyond the path
/// MTU, §6.9) arrive intact and in order; DATA and SACK use the primary.
#[test]
fn data_transfer_in_order() {
    let mut p = Pair::default_pair();
    let h = p.connect();
    p.run_for(Duration::from_millis(50));
    let sizes = [1usize, 10, 1000, 1452, 1453, 5000, 65_536, 200_000, 3];
    let mut sent = Vec::new();
    for (i, &n) in sizes.iter().enumerate() {
        let data = payload(n, i as u8);
        sent.push(data.clone());
        let opts = SendOptions {
            stream: (i % 3) as u16,
            ppid: 99,
            ..SendOptions::default()
        };
        p.client
            .association_mut(h)
            .unwrap()
            .send(data, opts)
            .unwrap();
    }
    let mut got = Vec::new();
    let server_h = p.server.associations().next().unwrap().0;
    p.run_while(Duration::from_secs(30), |p| {
        let a = p.server.association_mut(server_h).unwrap();
        while let Some(m) = a.recv() {
            got.push(m);
        }
        got.len() < sizes.len()
    });
    assert_eq!(got.len(), sizes.len());
    // Per stream, in order; all content equal.
    for s in 0..3u16 {
        let expect: Vec<_> = sent
            .iter()
            .enumerate()
            .filter(|(i, _)| *i as u16 % 3 == s)
            .map(|(_, d)| d.clone())
            .collect();
        let have: Vec<_> = got
            .iter()
            .filter(|m| m.stream == s)
            .map(|m| m.data.clone())
            .collect();
        assert_eq!(have, expect, "stream {s}");
    }
    assert!(got.iter().all(|m| m.ppid == 99 && m.complete));
    // All DATA went to the primary.
    for (_, to_server, t) in &p.log {
        let pk = msctp_wire::Packet::parse(t.payload.clone()).unwrap();
        if pk
            .chunks
            .iter()
            .any(|c| matches!(c, msctp_wire::Chunk::Data(_)))
        {
            assert!(*to_server);
            assert_eq!(t.destination, ip(B1));
        }
    }
}

/// RFC 9260 §9.2: graceful shutdown after all data is acknowledged.
#[test]
fn graceful_shutdown() {
    let mut p = Pair::default_pair();
    let h = p.connect();
    p.run_for(Duration::from_millis(50));
    let a = p.client.association_mut(h).unwrap();
    a.send(payload(3000, 1), SendOptions::default()).unwrap();
    let now = p.now;
    p.client.association_mut(h).unwrap().shutdown(now);
    p.run_for(Duration::from_secs(1));
    let done = |ev: &[(crate::AssociationHandle, Event)]| {
        ev.iter()
            .any(|(_, e)| *e == Event::Association(AssociationChange::ShutdownComplete))
    };
    assert!(done(&p.client_events));
    assert!(done(&p.server_events));
    assert!(p.server_events.iter().any(|(_, e)| *e == Event::Shutdown));
    assert!(
        p.client.association(h).is_none(),
        "closed associations are reaped"
    );
    let types: Vec<_> = p.chunk_types().into_iter().flat_map(|(_, t)| t).collect();
    let pos = |n: &str| types.iter().position(|t| t == n).unwrap();
    assert!(pos("SHUTDOWN") < pos("SHUTDOWN ACK"));
    assert!(pos("SHUTDOWN ACK") < pos("SHUTDOWN COMPLETE"));
}

/// RFC 9260 §9.1: ABORT ends both sides; the peer learns why.
#[test]
fn abort_reaches_peer() {
    let mut p = Pair::default_pair();
    let h = p.connect();
    p.run_for(Duration::from_millis(50));
    let now = p.now;
    p.client
        .association_mut(h)
        .unwrap()
        .abort(now, Some(bytes::Bytes::from_static(b"bye")));
    p.run_for(Duration::from_millis(50));
    assert!(p.server_events.iter().any(|(_, e)| matches!(
        e,
        Event::Association(AssociationChange::CommLost { reason: CloseReason::PeerAborted(c) })
            if c == &vec![msctp_wire::ErrorCause::UserInitiatedAbort(bytes::Bytes::from_static(b"bye"))]
    )));
    assert_eq!(p.server.associations().count(), 0);
}

/// RFC 9260 §5.1: a lost INIT is retransmitted when T1-init expires.
#[test]
fn lost_init_is_retransmitted() {
    let mut p = Pair::default_pair();
    let mut dropped = false;
    p.drop = Some(Box::new(move |t| {
        let first_init = !dropped && t.payload[12] == 1;
        dropped |= first_init;
        first_init
    }));
    let h = p.connect();
    p.run_for(Duration::from_millis(500));
    assert!(!comm_up(&p.client_events));
    p.run_for(Duration::from_secs(2));
    assert!(comm_up(&p.client_events));
    assert_eq!(p.client.association(h).unwrap().state(), State::Established);
}

/// RFC 9260 §5.1: after Max.Init.Retransmits the association cannot start.
#[test]
fn init_gives_up() {
    let mut p = Pair::default_pair();
    p.drop = Some(Box::new(|_| true));
    p.connect();
    p.run_for(Duration::from_secs(600));
    assert!(p.client_events.iter().any(|(_, e)| matches!(
        e,
        Event::Association(AssociationChange::CantStartAssociation {
            reason: CloseReason::InitRetransmissionLimit
        })
    )));
    let inits = p.log.iter().filter(|(_, _, t)| t.payload[12] == 1).count();
    assert_eq!(
        inits, 9,
        "the first INIT and Max.Init.Retransmits = 8 retransmissions"
    );
}

/// RFC 9260 §8.4 rule 8: a packet for no association is answered with
/// ABORT with the T bit and the reflected tag.
#[test]
fn out_of_the_blue_gets_abort() {
    let mut p = Pair::default_pair();
    let pkt = msctp_wire::Packet {
        header: msctp_wire::CommonHeader {
            src_port: 5001,
            dst_port: 5001,
            verification_tag: 0xfeed,
        },
        chunks: vec![msctp_wire::Chunk::CookieAck, msctp_wire::Chunk::ShutdownAck],
    };
    let now = p.now;
    p.server
        .handle(now, ip(B1), ip(A1), bytes::Bytes::from(pkt.clone().emit()));
    // COOKIE ACK present: discarded (rule 7).
    assert!(p.server.poll_transmit(now).is_none());
    let pkt = msctp_wire::Packet {
        chunks: vec![msctp_wire::Chunk::Shutdown(msctp_wire::chunk::Shutdown {
            cum_tsn_ack: msctp_wire::Tsn(0),
        })],
        ..pkt
    };
    p.server
        .handle(now, ip(B1), ip(A1), bytes::Bytes::from(pkt.emit()));
    let t = p.server.poll_transmit(now).unwrap();
    let r = msctp_wire::Packet::parse(t.payload).unwrap();
    assert_eq!(r.header.verification_tag, 0xfeed);
    assert!(matches!(&r.chunks[..], [msctp_wire::Chunk::Abort(a)] if a.t_bit));
}
