//! ICMP errors (RFC 9260 Appendix C): validated against the quoted ports and
//! verification tag before anything happens.

use std::time::Duration;

use bytes::Bytes;

use super::pair::*;
use crate::{
    AddressChange, AssociationChange, CloseReason, Event, IcmpKind, IcmpReport, PathState,
    SendOptions,
};

fn report(p: &Pair, h: crate::AssociationHandle, vtag_delta: u32, kind: IcmpKind) -> IcmpReport {
    let a = p.client.association(h).unwrap();
    let mut q = Vec::new();
    q.extend_from_slice(&5001u16.to_be_bytes());
    q.extend_from_slice(&5001u16.to_be_bytes());
    q.extend_from_slice(&(a.peer_vtag() ^ vtag_delta).to_be_bytes());
    q.extend_from_slice(&[0, 0, 0, 0, 0, 3, 0, 16]);
    IcmpReport {
        quoted_src: ip(A1),
        quoted_dst: ip(B1),
        quoted: Bytes::from(q),
        kind,
    }
}

fn established() -> (Pair, crate::AssociationHandle) {
    let mut p = Pair::default_pair();
    let h = p.connect();
    p.run_for(Duration::from_secs(2));
    (p, h)
}

/// Appendix C ICMP6: an ICMP error whose quoted verification tag is not the
/// peer's is ignored and counted.
#[test]
fn wrong_tag_is_ignored() {
    let (mut p, h) = established();
    let r = report(&p, h, 1, IcmpKind::ProtocolUnreachable);
    p.client.handle_icmp(p.now, r);
    assert_eq!(p.client.stats().icmp_ignored, 1);
    assert_eq!(
        p.client.association(h).unwrap().state(),
        crate::State::Established
    );
    let r = report(&p, h, 1, IcmpKind::Unreachable);
    p.client.handle_icmp(p.now, r);
    assert!(
        p.client
            .association(h)
            .unwrap()
            .paths()
            .iter()
            .all(|x| x.state == PathState::Active)
    );
}

/// Appendix C ICMP9, RFC 7829: a valid destination unreachable makes the
/// path potentially failed at once and moves data to the alternate.
#[test]
fn unreachable_moves_data_off_the_path() {
    let (mut p, h) = established();
    let now = p.now;
    p.client
        .association_mut(h)
        .unwrap()
        .send(Bytes::from_static(b"x"), SendOptions::default())
        .unwrap();
    // The DATA is outstanding on the primary when the ICMP error arrives.
    let _ = p.client.poll_transmit(now);
    let r = report(&p, h, 0, IcmpKind::Unreachable);
    p.client.handle_icmp(now, r);
    assert_eq!(p.client.stats().icmp_accepted, 1);
    let paths = p.client.association(h).unwrap().paths();
    assert_eq!(
        paths.iter().find(|x| x.remote == ip(B1)).unwrap().state,
        PathState::PotentiallyFailed
    );
    let t = p.client.poll_transmit(now).unwrap();
    assert_eq!(
        t.destination,
        ip(B2),
        "retransmitted to the alternate at once"
    );
    while let Some(e) = p.client.poll_event() {
        p.client_events.push(e);
    }
    assert!(p.client_events.iter().any(|(_, e)| matches!(
        e,
        Event::PeerAddress {
            change: AddressChange::PotentiallyFailed,
            ..
        }
    )));
}

/// Appendix C ICMP8: protocol unreachable is treated as an ABORT unless
/// another path is active (then it fails only its path, as RFC 6951 §5.5
/// port unreachable over UDP would otherwise kill a multi-homed
/// association); ICMP7: packet too big lowers the path MTU (on IPv4 down to
/// the RFC 791 minimum of 68, see `rfc791_ipv4_pmtu_below_1280`).
#[test]
fn protocol_unreachable_and_packet_too_big() {
    let (mut p, h) = established();
    let r = report(&p, h, 0, IcmpKind::PacketTooBig { mtu: 1400 });
    p.client.handle_icmp(p.now, r);
    let pmtu = p
        .client
        .association(h)
        .unwrap()
        .paths()
        .iter()
        .find(|x| x.remote == ip(B1))
        .unwrap()
        .pmtu;
    assert_eq!(pmtu, 1400);
    let r = report(&p, h, 0, IcmpKind::PacketTooBig { mtu: 200 });
    p.client.handle_icmp(p.now, r);
    let pmtu = p
        .client
        .association(h)
        .unwrap()
        .paths()
        .iter()
        .find(|x| x.remote == ip(B1))
        .unwrap()
        .pmtu;
    assert_eq!(pmtu, 200);
    // With the other path active, protocol unreachable about one path is a
    // path failure (RFC 6951 §5.5 port unreachable over UDP).
    let r = report(&p, h, 0, IcmpKind::ProtocolUnreachable);
    p.client.handle_icmp(p.now, r);
    let a = p.client.association(h).unwrap();
    assert_eq!(a.state(), crate::State::Established);
    assert_eq!(
        a.paths().iter().find(|x| x.remote == ip(B1)).unwrap().state,
        PathState::PotentiallyFailed
    );
    // With no other path active it is an abort (Appendix C ICMP8).
    let b2 = Bytes::from(
        report(&p, h, 0, IcmpKind::ProtocolUnreachable)
            .quoted
            .to_vec(),
    );
    let r = IcmpReport {
        quoted_dst: ip(B2),
        quoted: b2,
        ..report(&p, h, 0, IcmpKind::ProtocolUnreachable)
    };
    p.client.handle_icmp(p.now, r.clone());
    let r = report(&p, h, 0, IcmpKind::ProtocolUnreachable);
    p.client.handle_icmp(p.now, r);
    while let Some(e) = p.client.poll_event() {
        p.client_events.push(e);
    }
    assert!(p.client_events.iter().any(|(_, e)| matches!(
        e,
        Event::Association(AssociationChange::CommLost {
            reason: CloseReason::ProtocolUnreachable
        })
    )));
}

/// RFC 9260 §7.3, Appendix C ICMP7 with RFC 791 §3.2: an IPv4 Packet Too
/// Big may lower the PMTU below 1280 (to no less than 68, the IPv4
/// minimum), and data still flows in packets that fit; IPv6 reports below
/// 1280 (RFC 8200 §5) are not believed.
#[test]
fn rfc791_ipv4_pmtu_below_1280() {
    let (mut p, h) = established();
    for (mtu, want) in [(576, 576), (40, 68)] {
        let r = report(&p, h, 0, IcmpKind::PacketTooBig { mtu });
        p.client.handle_icmp(p.now, r);
        let a = p.client.association(h).unwrap();
        let pmtu = a.paths().iter().find(|x| x.remote == ip(B1)).unwrap().pmtu;
        assert_eq!(pmtu, want);
    }
    assert_eq!(crate::association::icmp::min_pmtu(ip("2001:db8::1")), 1280);
    let now = p.now;
    let msg = payload(3000, 7);
    p.client
        .association_mut(h)
        .unwrap()
        .send(msg.clone(), crate::SendOptions::default())
        .unwrap();
    p.run_for(Duration::from_secs(5));
    let sizes: Vec<usize> = p
        .log
        .iter()
        .filter(|(at, to_server, t)| {
            *to_server && *at >= now - p.t0 && t.destination == ip(B1) && first_type(t) == 0
        })
        .map(|(_, _, t)| t.payload.len())
        .collect();
    assert!(
        !sizes.is_empty(),
        "DATA went to B1: {:?}",
        p.chunk_types().iter().rev().take(10).collect::<Vec<_>>()
    );
    assert!(
        sizes.iter().all(|&n| n + 20 <= 68),
        "packets fit 68: {sizes:?}"
    );
    let s = p.server.associations().next().unwrap().0;
    let got = p
        .server
        .association_mut(s)
        .unwrap()
        .recv()
        .expect("delivered");
    assert_eq!(got.data, msg);
}
