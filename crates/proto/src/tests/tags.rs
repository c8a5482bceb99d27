//! Verification tag rules (RFC 9260 §8.5, §8.5.1) and ABORT / SHUTDOWN
//! arriving in every association state (§9.1, §9.2).

use std::time::Duration;

use bytes::Bytes;
use msctp_wire::chunk::*;
use msctp_wire::{Chunk, CommonHeader, Packet, Ssn, Tsn};

use super::pair::*;
use crate::{AssociationChange, AssociationHandle, CloseReason, Event, SendOptions, State};

fn established() -> (Pair, AssociationHandle, AssociationHandle) {
    let mut p = Pair::default_pair();
    let h = p.connect();
    p.run_for(Duration::from_millis(100));
    let s = p.server.associations().next().unwrap().0;
    (p, h, s)
}

fn every_chunk_type(tsn: Tsn) -> Vec<Chunk> {
    vec![
        Chunk::Data(Data {
            tsn,
            stream: 0,
            ssn: Ssn(0),
            ppid: 0,
            unordered: false,
            begin: true,
            end: true,
            immediate: true,
            payload: Bytes::from_static(b"intruder"),
        }),
        Chunk::Sack(Sack {
            cum_tsn_ack: Tsn(0),
            a_rwnd: 0,
            gap_blocks: vec![],
            dup_tsns: vec![],
        }),
        Chunk::Heartbeat(Heartbeat {
            info: Bytes::from_static(b"x"),
        }),
        Chunk::HeartbeatAck(Heartbeat {
            info: Bytes::from_static(b"x"),
        }),
        Chunk::Abort(Abort::default()),
        Chunk::Shutdown(Shutdown {
            cum_tsn_ack: Tsn(0),
        }),
        Chunk::ShutdownAck,
        Chunk::Error(OperationError {
            causes: vec![msctp_wire::ErrorCause::OutOfResource],
        }),
        Chunk::CookieAck,
        Chunk::ShutdownComplete(ShutdownComplete { t_bit: false }),
        Chunk::Abort(Abort {
            t_bit: true,
            causes: vec![],
        }),
        Chunk::ShutdownComplete(ShutdownComplete { t_bit: true }),
    ]
}

/// RFC 9260 §8.5: every chunk type arriving with a wrong verification tag is
/// silently discarded; the association is untouched and nothing is sent.
#[test]
fn wrong_tags_ignored_for_every_chunk_type() {
    let (mut p, _h, s) = established();
    let (local, peer) = {
        let a = p.server.association(s).unwrap();
        (a.local_vtag(), a.peer_vtag())
    };
    let next_tsn = Tsn(p
        .server
        .association(s)
        .unwrap()
        .recv
        .as_ref()
        .unwrap()
        .cum_tsn()
        .0
        .wrapping_add(1));
    for chunk in every_chunk_type(next_tsn) {
        let t_bit = matches!(&chunk, Chunk::Abort(a) if a.t_bit)
            || matches!(&chunk, Chunk::ShutdownComplete(c) if c.t_bit);
        // With the T bit the reflected tag (the peer's) would be right; use
        // our own instead. Without it, anything but our tag is wrong.
        let wrong = if t_bit { local } else { local ^ 0x5555_5555 };
        assert_ne!(wrong, if t_bit { peer } else { local });
        let pk = Packet {
            header: CommonHeader {
                src_port: 5001,
                dst_port: 5001,
                verification_tag: wrong,
            },
            chunks: vec![chunk.clone()],
        };
        inject(&mut p, true, A1, B1, &pk);
        assert!(
            p.server.poll_transmit(p.now).is_none(),
            "no answer to {:?}",
            chunk.chunk_type()
        );
        let a = p.server.association(s).unwrap();
        assert_eq!(a.state(), State::Established, "{:?}", chunk.chunk_type());
        assert_eq!(a.readable(), 0);
    }
    assert!(
        p.server_events
            .iter()
            .all(|(_, e)| !matches!(e, Event::Association(AssociationChange::CommLost { .. })))
    );
}

/// RFC 9260 §8.5.1 B: an ABORT with the T bit carries the receiver's peer
/// tag (the sender reflected it) and is accepted.
#[test]
fn reflected_abort_accepted() {
    let (mut p, _h, s) = established();
    let peer = p.server.association(s).unwrap().peer_vtag();
    let pk = Packet {
        header: CommonHeader {
            src_port: 5001,
            dst_port: 5001,
            verification_tag: peer,
        },
        chunks: vec![Chunk::Abort(Abort {
            t_bit: true,
            causes: vec![],
        })],
    };
    inject(&mut p, true, A1, B1, &pk);
    assert!(p.server.association(s).unwrap().is_closed());
}

/// Brings the client's association into `state`, returning it.
fn client_in(state: State) -> (Pair, AssociationHandle) {
    let mut p = Pair::default_pair();
    match state {
        State::CookieWait => {
            p.drop = Some(Box::new(|t| first_type(t) == 2));
            let h = p.connect();
            p.run_for(Duration::from_millis(20));
            (p, h)
        }
        State::CookieEchoed => {
            p.drop = Some(Box::new(|t| first_type(t) == 11));
            let h = p.connect();
            p.run_for(Duration::from_millis(20));
            (p, h)
        }
        State::Established => {
            let h = p.connect();
            p.run_for(Duration::from_millis(50));
            (p, h)
        }
        State::ShutdownPending => {
            let h = p.connect();
            p.run_for(Duration::from_millis(50));
            // Outstanding data that is never acknowledged keeps it pending.
            p.drop = Some(Box::new(|t| first_type(t) == 3 || t.payload.len() > 1000));
            let a = p.client.association_mut(h).unwrap();
            a.send(payload(2000, 1), SendOptions::default()).unwrap();
            let now = p.now;
            p.client.association_mut(h).unwrap().shutdown(now);
            p.run_for(Duration::from_millis(20));
            (p, h)
        }
        State::ShutdownSent => {
            let h = p.connect();
            p.run_for(Duration::from_millis(50));
            p.drop = Some(Box::new(|t| first_type(t) == 7));
            let now = p.now;
            p.client.association_mut(h).unwrap().shutdown(now);
            p.run_for(Duration::from_millis(20));
            (p, h)
        }
        State::ShutdownReceived | State::ShutdownAckSent => {
            let h = p.connect();
            p.run_for(Duration::from_millis(50));
            // The server has data outstanding to the client (kept
            // unacknowledged for SHUTDOWN-RECEIVED) or its SHUTDOWN ACK is
            // lost (SHUTDOWN-ACK-SENT).
            let s = p.server.associations().next().unwrap().0;
            if state == State::ShutdownReceived {
                p.drop = Some(Box::new(|t| t.payload.len() > 1000));
                let a = p.client.association_mut(h).unwrap();
                a.send(payload(2000, 1), SendOptions::default()).unwrap();
                p.run_for(Duration::from_millis(1));
            } else {
                p.drop = Some(Box::new(|t| first_type(t) == 8));
            }
            let now = p.now;
            p.server.association_mut(s).unwrap().shutdown(now);
            p.run_for(Duration::from_millis(20));
            (p, h)
        }
        State::Closed => unreachable!(),
    }
}

/// RFC 9260 §9.1: an ABORT ends the association in every state (the
/// handshake states report that it could not start).
#[test]
fn abort_in_every_state() {
    for state in [
        State::CookieWait,
        State::CookieEchoed,
        State::Established,
        State::ShutdownPending,
        State::ShutdownSent,
        State::ShutdownReceived,
        State::ShutdownAckSent,
    ] {
        let (mut p, h) = client_in(state);
        let a = p.client.association(h).unwrap();
        assert_eq!(a.state(), state, "setting up {state:?}");
        let tag = a.local_vtag();
        let pk = Packet {
            header: CommonHeader {
                src_port: 5001,
                dst_port: 5001,
                verification_tag: tag,
            },
            chunks: vec![Chunk::Abort(Abort::default())],
        };
        inject(&mut p, false, B1, A1, &pk);
        p.run_for(Duration::from_millis(1));
        let closed = p.client_events.iter().any(|(_, e)| {
            matches!(
                e,
                Event::Association(
                    AssociationChange::CommLost {
                        reason: CloseReason::PeerAborted(_)
                    } | AssociationChange::CantStartAssociation {
                        reason: CloseReason::PeerAborted(_)
                    }
                )
            )
        });
        assert!(closed, "ABORT in {state:?}");
        let handshake = matches!(state, State::CookieWait | State::CookieEchoed);
        assert_eq!(
            p.client_events.iter().any(|(_, e)| matches!(
                e,
                Event::Association(AssociationChange::CantStartAssociation { .. })
            )),
            handshake,
            "{state:?}"
        );
    }
}

/// RFC 9260 §9.2: a SHUTDOWN in each state: acted on where the state allows
/// (ESTABLISHED, SHUTDOWN-PENDING, SHUTDOWN-SENT), ignored in the handshake
/// states, and never fatal.
#[test]
fn shutdown_in_every_state() {
    for state in [
        State::CookieWait,
        State::CookieEchoed,
        State::Established,
        State::ShutdownPending,
        State::ShutdownSent,
        State::ShutdownReceived,
        State::ShutdownAckSent,
    ] {
        let (mut p, h) = client_in(state);
        let a = p.client.association(h).unwrap();
        let tag = a.local_vtag();
        let pk = Packet {
            header: CommonHeader {
                src_port: 5001,
                dst_port: 5001,
                verification_tag: tag,
            },
            chunks: vec![Chunk::Shutdown(Shutdown {
                cum_tsn_ack: Tsn(a.local_initial_tsn.0.wrapping_sub(1)),
            })],
        };
        inject(&mut p, false, B1, A1, &pk);
        let after = p.client.association(h).map(|a| a.state());
        let expect = match state {
            State::Established => State::ShutdownAckSent,
            State::ShutdownPending => State::ShutdownReceived,
            State::ShutdownSent => State::ShutdownAckSent,
            s => s,
        };
        assert_eq!(after, Some(expect), "SHUTDOWN in {state:?}");
    }
}
