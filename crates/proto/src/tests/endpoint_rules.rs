//! Regression tests for the demultiplexing and handshake faults found
//! against usrsctp and the ETSI TS 102 369 suite (issue 8): INIT ACK from
//! another peer address, the primary, INIT from a new source, new addresses
//! on restart, a_rwnd below 1500, packets behind an ABORT, restart during
//! shutdown, DATA in SHUTDOWN-SENT, unimplemented chunks and parameters.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use msctp_wire::chunk::*;
use msctp_wire::{Chunk, CommonHeader, ErrorCause, Packet, Param, ParamType, Ssn, Tsn};

use super::pair::*;
use crate::{AssociationChange, AssociationHandle, Config, Endpoint, Event, State};

fn established() -> (Pair, AssociationHandle, AssociationHandle) {
    let mut p = Pair::default_pair();
    let h = p.connect();
    p.run_for(Duration::from_millis(100));
    let s = p.server.associations().next().unwrap().0;
    assert_eq!(p.client.association(h).unwrap().state(), State::Established);
    (p, h, s)
}

/// Everything `ep` has to send now, parsed.
fn drain(p: &mut Pair, client: bool) -> Vec<(crate::Transmit, Packet)> {
    let now = p.now;
    let ep = if client { &mut p.client } else { &mut p.server };
    let mut out = Vec::new();
    while let Some(t) = ep.poll_transmit(now) {
        let pk = Packet::parse(t.payload.clone()).unwrap();
        out.push((t, pk));
    }
    out
}

/// Rewrites the server's INIT ACK as usrsctp sends it: from B2, listing
/// only `listed` as the server's other addresses.
fn init_ack_from_b2(listed: &'static [&'static str]) -> Mutator {
    Box::new(move |t| {
        let mut pk = Packet::parse(t.payload.clone()).unwrap();
        if let Some(Chunk::InitAck(ack)) = pk.chunks.first_mut() {
            ack.params.retain(|p| p.as_address().is_none());
            ack.params
                .extend(listed.iter().map(|a| Param::address(ip(a))));
            t.source = ip(B2);
            t.payload = Bytes::from(pk.emit());
        }
    })
}

fn init_packet(tag: u32, a_rwnd: u32, params: Vec<Param>) -> Packet {
    Packet {
        header: CommonHeader {
            src_port: 5001,
            dst_port: 5001,
            verification_tag: 0,
        },
        chunks: vec![Chunk::Init(Init {
            initiate_tag: tag,
            a_rwnd,
            outbound_streams: 10,
            inbound_streams: 10,
            initial_tsn: Tsn(77),
            params,
        })],
    }
}

fn abort_cause(pk: &Packet) -> Option<&[ErrorCause]> {
    pk.chunks.iter().find_map(|c| match c {
        Chunk::Abort(a) => Some(a.causes.as_slice()),
        _ => None,
    })
}

/// RFC 9260 §5.1.2 C: usrsctp answers an INIT sent to 192.0.2.2 from
/// 198.51.100.2 (listing 192.0.2.2). The INIT ACK is found by its
/// verification tag; the association comes up; the primary is the address
/// the INIT was sent to (the reference text), not the INIT ACK's source;
/// the COOKIE ECHO goes to that confirmed address; the INIT ACK's source
/// stays unconfirmed until a heartbeat confirms it (§5.4).
#[test]
fn rfc9260_5_1_2_init_ack_from_another_peer_address() {
    let mut p = Pair::default_pair();
    p.mutate = Some(init_ack_from_b2(&[B1]));
    let h = p.connect();
    p.run_for(Duration::from_secs(2));
    let a = p.client.association(h).unwrap();
    assert_eq!(a.state(), State::Established, "INIT ACK from B2 accepted");
    assert_eq!(
        a.primary(),
        Some(ip(B1)),
        "primary is the INIT's destination"
    );
    let echo = p
        .log
        .iter()
        .find(|(_, to_server, t)| *to_server && first_type(t) == 10)
        .expect("a COOKIE ECHO was sent");
    assert_eq!(echo.2.destination, ip(B1));
    assert_eq!(echo.2.source, ip(A1));
    // The INIT ACK's source is a path, confirmed later by a heartbeat.
    let paths = a.paths();
    assert_eq!(paths.len(), 2);
    p.run_for(Duration::from_secs(5));
    let a = p.client.association(h).unwrap();
    assert!(
        a.paths()
            .iter()
            .all(|pi| pi.state == crate::PathState::Active)
    );
}

/// RFC 9260 §5.1.2 C: an INIT ACK carrying another association's tag, or
/// from another port, is not taken for ours.
#[test]
fn rfc9260_5_1_2_init_ack_by_tag_needs_the_right_tag_and_port() {
    let mut p = Pair::default_pair();
    p.drop = Some(Box::new(|_| true));
    let h = p.connect();
    p.run_for(Duration::from_millis(1));
    let tag = p.client.association(h).unwrap().local_vtag();
    let ack = |vtag: u32, port: u16| Packet {
        header: CommonHeader {
            src_port: port,
            dst_port: 5001,
            verification_tag: vtag,
        },
        chunks: vec![Chunk::InitAck(Init {
            initiate_tag: 9,
            a_rwnd: 65536,
            outbound_streams: 10,
            inbound_streams: 10,
            initial_tsn: Tsn(1),
            params: vec![Param::StateCookie(Bytes::from_static(b"cookie"))],
        })],
    };
    inject(&mut p, false, B2, A1, &ack(tag ^ 1, 5001));
    inject(&mut p, false, B2, A1, &ack(tag, 5002));
    assert_eq!(p.client.association(h).unwrap().state(), State::CookieWait);
    inject(&mut p, false, B2, A1, &ack(tag, 5001));
    assert_eq!(
        p.client.association(h).unwrap().state(),
        State::CookieEchoed
    );
}

/// RFC 9260 §5.2.2: an unexpected INIT from an address the association
/// does not have, listing one it has, is the same peer: it is answered with
/// an ABORT (Restart of an Association with New Addresses, naming the new
/// address) carrying the INIT's Initiate Tag; no second association is
/// created and the existing one is untouched.
#[test]
fn rfc9260_5_2_2_init_adding_an_address_is_aborted() {
    let (mut p, _h, s) = established();
    let _ = drain(&mut p, false);
    let init = init_packet(0xabcd, 65536, vec![Param::address(ip(A1))]);
    inject(&mut p, true, "192.0.2.3", B1, &init);
    let out = drain(&mut p, false);
    assert_eq!(out.len(), 1, "one answer: {out:?}");
    let (t, pk) = &out[0];
    assert_eq!(t.destination, ip("192.0.2.3"));
    assert_eq!(pk.header.verification_tag, 0xabcd);
    let causes = abort_cause(pk).expect("an ABORT");
    let mut want = BytesMut::new();
    Param::address(ip("192.0.2.3")).emit(&mut want);
    assert_eq!(
        causes,
        &[ErrorCause::RestartWithNewAddresses(want.freeze())]
    );
    assert_eq!(p.server.associations().count(), 1);
    assert_eq!(p.server.association(s).unwrap().state(), State::Established);
    // The association still carries data.
    p.run_for(Duration::from_millis(50));
    assert_eq!(p.server.association(s).unwrap().state(), State::Established);
}

/// RFC 9260 §5.2.2: a peer restarting with the same addresses gets an INIT
/// ACK (with tie-tags) even if its INIT comes from its other address.
#[test]
fn rfc9260_5_2_2_restart_with_the_same_addresses_gets_init_ack() {
    let (mut p, _h, _s) = established();
    let _ = drain(&mut p, false);
    let init = init_packet(0xabcd, 65536, vec![Param::address(ip(A1))]);
    inject(&mut p, true, A2, B2, &init);
    let out = drain(&mut p, false);
    assert_eq!(out.len(), 1);
    assert!(matches!(out[0].1.chunks[0], Chunk::InitAck(_)));
    assert_eq!(
        out[0].0.source,
        ip(B2),
        "answered from the INIT's destination"
    );
}

/// RFC 9260 §3.3.2: an INIT with a_rwnd below 1500 is discarded and
/// answered with an ABORT carrying its Initiate Tag; no INIT ACK, and an
/// existing association is not changed.
#[test]
fn rfc9260_3_3_2_init_with_a_rwnd_below_1500() {
    let (mut p, _h, s) = established();
    let _ = drain(&mut p, false);
    let before = p.server.association(s).unwrap().local_vtag();
    inject(&mut p, true, A1, B1, &init_packet(0x1111, 1499, vec![]));
    let out = drain(&mut p, false);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1.header.verification_tag, 0x1111);
    assert!(abort_cause(&out[0].1).is_some());
    assert_eq!(p.server.stats().init_acks_sent, 1, "only the handshake's");
    let a = p.server.association(s).unwrap();
    assert_eq!(a.state(), State::Established);
    assert_eq!(a.local_vtag(), before);
}

/// RFC 9260 §3.3.3 (erratum 7148): an INIT ACK with a_rwnd below 1500 in
/// COOKIE-WAIT destroys the TCB and is answered with an ABORT carrying the
/// INIT ACK's Initiate Tag.
#[test]
fn rfc9260_3_3_3_init_ack_with_a_rwnd_below_1500() {
    let mut p = Pair::default_pair();
    p.mutate = Some(Box::new(|t| {
        let mut pk = Packet::parse(t.payload.clone()).unwrap();
        if let Some(Chunk::InitAck(ack)) = pk.chunks.first_mut() {
            ack.a_rwnd = 1000;
            t.payload = Bytes::from(pk.emit());
        }
    }));
    let h = p.connect();
    p.run_for(Duration::from_millis(50));
    assert!(p.client.association(h).is_none_or(|a| a.is_closed()));
    assert!(p.client_events.iter().any(|(_, e)| matches!(
        e,
        Event::Association(AssociationChange::CantStartAssociation { .. })
    )));
    let abort = p
        .log
        .iter()
        .find(|(_, to_server, t)| *to_server && first_type(t) == 6)
        .expect("an ABORT to the server");
    let init_ack = p
        .log
        .iter()
        .find(|(_, to_server, t)| !*to_server && first_type(t) == 2)
        .unwrap();
    let ack = Packet::parse(init_ack.2.payload.clone()).unwrap();
    let Chunk::InitAck(ack) = &ack.chunks[0] else {
        unreachable!()
    };
    let abort = Packet::parse(abort.2.payload.clone()).unwrap();
    assert_eq!(abort.header.verification_tag, ack.initiate_tag);
}

/// RFC 9260 §9.1, §8.4 rule 8: a packet right behind an ABORT, in the same
/// receive batch and before any event is polled, no longer reaches the
/// dead association: a HEARTBEAT is answered with an ABORT with the T bit,
/// not a HEARTBEAT ACK.
#[test]
fn rfc9260_8_4_packet_behind_an_abort_is_out_of_the_blue() {
    let (mut p, h, s) = established();
    let _ = drain(&mut p, false);
    let tag = p.server.association(s).unwrap().local_vtag();
    let _ = h;
    let pkt = |chunk: Chunk| Packet {
        header: CommonHeader {
            src_port: 5001,
            dst_port: 5001,
            verification_tag: tag,
        },
        chunks: vec![chunk],
    };
    inject(&mut p, true, A1, B1, &pkt(Chunk::Abort(Abort::default())));
    inject(
        &mut p,
        true,
        A1,
        B1,
        &pkt(Chunk::Heartbeat(Heartbeat {
            info: Bytes::from_static(b"probe"),
        })),
    );
    let out = drain(&mut p, false);
    assert!(
        out.iter()
            .all(|(_, pk)| !matches!(pk.chunks[0], Chunk::HeartbeatAck(_))),
        "no HEARTBEAT ACK from a dead association: {out:?}"
    );
    assert!(
        out.iter()
            .any(|(_, pk)| matches!(pk.chunks[0], Chunk::Abort(Abort { t_bit: true, .. })))
    );
}

/// RFC 9260 §5.2.4 case A during shutdown: the peer restarts (single-homed
/// now) while our SHUTDOWN to its second address goes unanswered. The new
/// TCB keeps no timer of the old one: T2 no longer points at a path that
/// is gone (this panicked with "index out of bounds"), and the shutdown the
/// application asked for completes with the new TCB.
#[test]
fn rfc9260_5_2_4_restart_during_shutdown() {
    let (mut p, _h, s) = established();
    let a = p.server.association_mut(s).unwrap();
    a.set_primary(ip(A2)).unwrap();
    let now = p.now;
    a.shutdown(now);
    // The old client is gone: nothing it would send arrives.
    p.drop = Some(Box::new(|t| {
        t.destination == ip(B1) || t.destination == ip(B2)
    }));
    p.run_for(Duration::from_millis(20));
    assert_eq!(
        p.server.association(s).unwrap().state(),
        State::ShutdownSent
    );
    // The client restarts single-homed on A1 and connects again.
    let config = Config {
        rng_seed: 9,
        cookie_secret: [9; 32],
        ..Config::default()
    };
    p.client = Endpoint::new(config, vec![ip(A1)], 5001, p.now);
    p.drop = None;
    let now = p.now;
    p.client.connect(now, &[ip(B1)], 5001).unwrap();
    p.run_for(Duration::from_secs(120));
    assert!(
        p.server_events
            .iter()
            .any(|(_, e)| matches!(e, Event::Association(AssociationChange::Restart)))
    );
    assert!(
        p.server_events
            .iter()
            .any(|(_, e)| matches!(e, Event::Association(AssociationChange::ShutdownComplete))),
        "the pending shutdown completed with the new TCB"
    );
}

/// RFC 9260 §9.2: in SHUTDOWN-SENT, a packet with DATA is answered at once
/// with a SHUTDOWN and T2-shutdown restarts.
#[test]
fn rfc9260_9_2_data_in_shutdown_sent_is_answered_with_shutdown() {
    let (mut p, _h, s) = established();
    p.drop = Some(Box::new(|_| true));
    let now = p.now;
    p.server.association_mut(s).unwrap().shutdown(now);
    p.run_for(Duration::from_millis(300));
    let a = p.server.association(s).unwrap();
    assert_eq!(a.state(), State::ShutdownSent);
    let t2_before = a.poll_timeout().unwrap();
    let tag = a.local_vtag();
    let peer_tsn = p
        .client
        .associations()
        .next()
        .unwrap()
        .1
        .local_initial_tsn_for_tests();
    let data = Packet {
        header: CommonHeader {
            src_port: 5001,
            dst_port: 5001,
            verification_tag: tag,
        },
        chunks: vec![Chunk::Data(Data {
            tsn: peer_tsn,
            stream: 0,
            ssn: Ssn(0),
            ppid: 0,
            unordered: false,
            begin: true,
            end: true,
            immediate: false,
            payload: Bytes::from_static(b"late"),
        })],
    };
    inject(&mut p, true, A1, B1, &data);
    let out = drain(&mut p, false);
    assert!(
        out.iter().any(|(_, pk)| pk
            .chunks
            .iter()
            .any(|c| matches!(c, Chunk::Shutdown(sd) if sd.cum_tsn_ack == peer_tsn))),
        "a SHUTDOWN acknowledging the DATA: {out:?}"
    );
    let t2_after = p.server.association(s).unwrap().poll_timeout().unwrap();
    assert!(t2_after > t2_before, "T2 restarted");
}

/// RFC 9260 §8.5.1 B: in COOKIE-WAIT the peer's tag is unknown, so an
/// ABORT with the T bit (even one with tag 0) is discarded.
#[test]
fn rfc9260_8_5_1_t_bit_abort_in_cookie_wait_is_discarded() {
    let mut p = Pair::default_pair();
    p.drop = Some(Box::new(|_| true));
    let h = p.connect();
    p.run_for(Duration::from_millis(1));
    for tag in [0, 1] {
        let abort = Packet {
            header: CommonHeader {
                src_port: 5001,
                dst_port: 5001,
                verification_tag: tag,
            },
            chunks: vec![Chunk::Abort(Abort {
                t_bit: true,
                causes: vec![],
            })],
        };
        inject(&mut p, false, B1, A1, &abort);
    }
    assert_eq!(p.client.association(h).unwrap().state(), State::CookieWait);
}

fn raw_chunk(ty: u8, flags: u8, value: &[u8]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u8(ty);
    b.put_u8(flags);
    b.put_u16(4 + value.len() as u16);
    b.put_slice(value);
    while b.len() % 4 != 0 {
        b.put_u8(0);
    }
    b.freeze()
}

/// A packet with the common header and hand-made chunks, checksum filled.
fn raw_packet(tag: u32, chunks: &[Bytes]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u16(5001);
    b.put_u16(5001);
    b.put_u32(tag);
    b.put_u32(0);
    for c in chunks {
        b.put_slice(c);
    }
    let mut v = b.to_vec();
    msctp_wire::crc32c::fill(&mut v);
    Bytes::from(v)
}

/// RFC 9260 §3.2: chunk types the codec knows but this engine does not
/// negotiate are unrecognized chunks: ASCONF (0xC1, "11") is skipped and
/// reported in an ERROR; AUTH (0x0F, "00") stops processing of the packet,
/// so the DATA behind it is not taken.
#[test]
fn rfc9260_3_2_unimplemented_chunk_types_follow_their_type_bits() {
    let (mut p, _h, s) = established();
    let _ = drain(&mut p, false);
    let tag = p.server.association(s).unwrap().local_vtag();
    let asconf = raw_chunk(0xC1, 0, &[0, 0, 0, 1, 0, 5, 0, 8, 192, 0, 2, 9]);
    let now = p.now;
    p.server
        .handle(now, ip(B1), ip(A1), raw_packet(tag, &[asconf]));
    let out = drain(&mut p, false);
    let reported = out.iter().any(|(_, pk)| {
        pk.chunks.iter().any(|c| matches!(c, Chunk::Error(e)
            if e.causes.iter().any(|c| matches!(c, ErrorCause::UnrecognizedChunkType(b) if b[0] == 0xC1))))
    });
    assert!(reported, "ASCONF reported as unrecognized: {out:?}");
    // AUTH, then DATA: processing stops at AUTH.
    let readable_before = p.server.association(s).unwrap().readable();
    let auth = raw_chunk(0x0F, 0, &[0, 1, 0, 0, 0, 0, 0, 0]);
    let data = Chunk::Data(Data {
        tsn: p
            .client
            .associations()
            .next()
            .unwrap()
            .1
            .local_initial_tsn_for_tests(),
        stream: 0,
        ssn: Ssn(0),
        ppid: 0,
        unordered: false,
        begin: true,
        end: true,
        immediate: true,
        payload: Bytes::from_static(b"after auth"),
    });
    let mut d = BytesMut::new();
    data.emit(&mut d);
    let now = p.now;
    p.server
        .handle(now, ip(B1), ip(A1), raw_packet(tag, &[auth, d.freeze()]));
    assert_eq!(
        p.server.association(s).unwrap().readable(),
        readable_before,
        "the DATA behind AUTH was not processed"
    );
}

/// RFC 9260 §3.2.1: an INIT whose Set Primary Address parameter (RFC 5061,
/// type 0xC004: skip and report) holds a Host Name Address is answered with
/// an INIT ACK reporting it as an Unrecognized Parameter, not dropped.
#[test]
fn rfc9260_3_2_1_set_primary_with_a_host_name_is_reported() {
    let mut p = Pair::default_pair();
    let mut value = BytesMut::new();
    value.put_u32(1); // correlation ID
    value.put_u16(ParamType::HOST_NAME_ADDRESS.0);
    value.put_u16(4 + 12);
    value.put_slice(b"peer.example");
    let mut init = init_packet(0x4242, 65536, vec![]);
    let raw = Bytes::from(init.emit());
    // Append the parameter by hand: the codec cannot represent it.
    let mut v = raw.to_vec();
    let param_len = 4 + value.len();
    v.extend_from_slice(&ParamType::SET_PRIMARY_ADDRESS.0.to_be_bytes());
    v.extend_from_slice(&(param_len as u16).to_be_bytes());
    v.extend_from_slice(&value);
    let chunk_len = (v.len() - 12) as u16;
    v[14..16].copy_from_slice(&chunk_len.to_be_bytes());
    msctp_wire::crc32c::fill(&mut v);
    init.chunks.clear();
    let now = p.now;
    p.server.handle(now, ip(B1), ip(A1), Bytes::from(v));
    let out = drain(&mut p, false);
    assert_eq!(out.len(), 1, "answered: {out:?}");
    let Chunk::InitAck(ack) = &out[0].1.chunks[0] else {
        panic!("an INIT ACK: {out:?}")
    };
    let reported = ack.params.iter().any(|p| match p {
        Param::UnrecognizedParameter(b) => b[..2] == ParamType::SET_PRIMARY_ADDRESS.0.to_be_bytes(),
        _ => false,
    });
    assert!(reported, "Set Primary Address reported: {:?}", ack.params);
}

/// RFC 9260 §5.4: a COOKIE ECHO arriving from an address the responder has
/// not confirmed (only the INIT's source is confirmed) gets its COOKIE ACK
/// on the confirmed path, never on the unconfirmed one without a HEARTBEAT.
#[test]
fn rfc9260_5_4_cookie_ack_goes_to_a_confirmed_address() {
    let mut p = Pair::default_pair();
    p.mutate = Some(Box::new(|t| {
        if first_type(t) == 10 {
            t.source = ip(A2);
            t.destination = ip(B2);
        }
    }));
    p.connect();
    p.run_for(Duration::from_secs(1));
    let ack = p
        .log
        .iter()
        .find(|(_, to_server, t)| !*to_server && first_type(t) == 11)
        .expect("a COOKIE ACK");
    assert_eq!(ack.2.destination, ip(A1), "to the INIT's source");
    assert_eq!(ack.2.source, ip(B1));
}

/// Memory is bounded (issue 8): a flood of INITs that the driver does not
/// drain queues at most `max_control_chunks` answers; the rest are counted.
#[test]
fn stateless_answers_are_bounded() {
    let mut p = Pair::default_pair();
    let limit = p.server.config().max_control_chunks;
    for i in 0..(limit as u32 + 100) {
        inject(&mut p, true, A1, B1, &init_packet(i + 1, 65536, vec![]));
    }
    let mut queued = 0;
    while p.server.poll_response().is_some() {
        queued += 1;
    }
    assert_eq!(queued, limit);
    assert_eq!(p.server.stats().responses_dropped, 100);
}

/// RFC 9260 §5.4: when the peer's INIT ACK (from another of its addresses)
/// does not list the address the INIT went to, the COOKIE ECHO can only go
/// to the INIT ACK's unconfirmed source, and then only bundled with a
/// HEARTBEAT carrying a nonce, within the path MTU.
#[test]
fn rfc9260_5_4_cookie_echo_to_an_unconfirmed_address_carries_a_heartbeat() {
    let mut p = Pair::default_pair();
    p.mutate = Some(init_ack_from_b2(&[]));
    let h = p.connect();
    p.run_for(Duration::from_secs(2));
    let echo = p
        .log
        .iter()
        .find(|(_, to_server, t)| *to_server && first_type(t) == 10)
        .expect("a COOKIE ECHO");
    assert_eq!(echo.2.destination, ip(B2));
    let pk = Packet::parse(echo.2.payload.clone()).unwrap();
    assert!(
        pk.chunks.iter().any(|c| matches!(c, Chunk::Heartbeat(_))),
        "bundled HEARTBEAT: {:?}",
        pk.chunks
    );
    assert!(echo.2.payload.len() + 20 <= 1500);
    assert_eq!(p.client.association(h).unwrap().primary(), Some(ip(B2)));
}
